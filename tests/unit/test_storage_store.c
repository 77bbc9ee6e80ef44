/* Tests of the image store (storage/store*.c) in a scratch directory:
 * blobs, chain IDs, layers, images and names, repair after crashed
 * writers (forked children that _exit mid-way), corrupt metadata, and
 * concurrent writers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "storage/storage.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

struct fixture
{
  char *dir;
  char *root;
  struct storage_store *s;
};

static int
setup (void **state)
{
  struct fixture *f = xmalloc0 (sizeof *f);
  char tmpl[] = "/tmp/skiff-test-store-XXXXXX";
  struct error *err = NULL;

  assert_non_null (mkdtemp (tmpl));
  f->dir = xstrdup (tmpl);
  f->root = xasprintf ("%s/store", f->dir);
  assert_int_equal (storage_open (f->root, &f->s, &err), 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;

  storage_close (f->s);
  assert_int_equal (fs_remove_tree (f->dir, &err), 0);
  free (f->root);
  free (f->dir);
  free (f);
  return 0;
}

/* Drop the handle (and its lease) and open a fresh one, as the next
 * invocation would. */
static void
reopen (struct fixture *f)
{
  struct error *err = NULL;

  storage_close (f->s);
  assert_int_equal (storage_open (f->root, &f->s, &err), 0);
}

static char *
digest_of (const char *text)
{
  char hex[SHA256_HEX_LEN + 1];

  sha256_buf_hex (text, strlen (text), hex);
  return xasprintf ("sha256:%s", hex);
}

static void
assert_err_contains (struct error **err, const char *needle)
{
  assert_non_null (*err);
  if (strstr ((*err)->msg, needle) == NULL)
    fail_msg ("error \"%s\" does not contain \"%s\"", (*err)->msg, needle);
  err_release (err);
}

/* Count the entries of DIR whose name starts with PREFIX. */
static int
count_prefix (const char *dir, const char *prefix)
{
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;
  int n = 0;

  assert_non_null (d);
  while ((de = readdir (d)) != NULL)
    if (strncmp (de->d_name, prefix, strlen (prefix)) == 0)
      n++;
  return n;
}

static int
count_tmp (struct fixture *f, const char *prefix)
{
  cleanup_free char *tmp = xasprintf ("%s/tmp", f->root);

  return count_prefix (tmp, prefix);
}

/* A layer with one file "f" holding SEED, on PARENT. */
static char *
make_layer (struct storage_store *s, const char *parent, const char *seed)
{
  struct storage_layer_stage *st = NULL;
  struct error *err = NULL;
  cleanup_free char *diff_id = digest_of (seed);
  char *chain = storage_chain_id (parent, diff_id, &err);
  struct storage_layer l = { chain, diff_id, (char *) parent, NULL, 0, strlen (seed), 0 };
  int fd;

  assert_non_null (chain);
  assert_int_equal (storage_layer_stage_new (s, &st, &err), 0);
  fd = openat (storage_layer_stage_diff_fd (st), "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, seed, strlen (seed)), (ssize_t) strlen (seed));
  close (fd);
  assert_int_equal (storage_layer_stage_commit (s, st, &l, &err), 0);
  storage_layer_stage_free (st);
  return chain;
}

static char *
put_config (struct storage_store *s, const char *text)
{
  struct error *err = NULL;
  char *digest = NULL;

  assert_int_equal (storage_blob_put_bytes (s, NULL, text, strlen (text), &digest, &err), 0);
  return digest;
}

/* Store an image with config CONFIG_TEXT, LAYERS and NAMES. */
static char *
put_image (struct storage_store *s, const char *config_text, char **layers, char **names)
{
  struct error *err = NULL;
  char *id = put_config (s, config_text);
  struct storage_image img = { .id = id, .names = names, .layers = layers, .created = 42 };

  if (storage_image_put (s, &img, &err) < 0)
    fail_msg ("put image: %s", err->msg);
  return id;
}

static struct storage_image *
lookup (struct storage_store *s, const char *ref)
{
  struct storage_image *img = NULL;
  struct error *err = NULL;

  if (storage_image_lookup (s, ref, &img, &err) < 0)
    fail_msg ("lookup \"%s\": %s", ref, err->msg);
  return img;
}

static size_t
image_count (struct storage_store *s)
{
  struct storage_image **v = NULL;
  struct error *err = NULL;
  size_t n = 0;

  assert_int_equal (storage_image_list (s, &v, &err), 0);
  while (v[n])
    n++;
  storage_image_vec_free (v);
  return n;
}

/* ---- blobs -------------------------------------------------------------- */

static void
test_blob_put_computes_digest_and_reads_back (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *expect = digest_of ("{\"a\":1}");
  cleanup_free char *digest = NULL;
  cleanup_free char *data = NULL;
  size_t len = 0;

  assert_int_equal (storage_blob_put_bytes (f->s, NULL, "{\"a\":1}", 7, &digest, &err), 0);
  assert_string_equal (digest, expect);
  assert_true (storage_blob_exists (f->s, digest));
  data = storage_blob_read (f->s, digest, 1024, &len, &err);
  assert_non_null (data);
  assert_int_equal (len, 7);
  assert_string_equal (data, "{\"a\":1}");
}

static void
test_blob_put_with_matching_digest (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *digest = digest_of ("hello");

  assert_int_equal (storage_blob_put_bytes (f->s, digest, "hello", 5, NULL, &err), 0);
  assert_true (storage_blob_exists (f->s, digest));
}

static void
test_blob_put_mismatch_rejected (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *wrong = digest_of ("something else");

  assert_true (storage_blob_put_bytes (f->s, wrong, "hello", 5, NULL, &err) < 0);
  assert_err_contains (&err, "digest mismatch");
  assert_false (storage_blob_exists (f->s, wrong));
  assert_int_equal (count_tmp (f, "blob-"), 0);
}

static void
test_blob_invalid_digest_never_becomes_a_path (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;

  assert_null (storage_blob_path (f->s, "sha256:../../../etc/passwd", &err));
  assert_err_contains (&err, "invalid blob digest");
  assert_null (storage_blob_path (f->s, "sha256:" HEX_A "/..", &err));
  err_release (&err);
  assert_null (storage_blob_path (f->s, "sha512:" HEX_A, &err));
  err_release (&err);
  assert_null (storage_blob_path (f->s, NULL, &err));
  err_release (&err);
  assert_false (storage_blob_exists (f->s, "sha256:.."));
  assert_true (storage_blob_open (f->s, "../store.lock", &err) < 0);
  err_release (&err);
}

static void
test_blob_read_detects_corruption (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *digest = put_config (f->s, "original");
  cleanup_free char *path = storage_blob_path (f->s, digest, &err);

  assert_int_equal (fs_write_atomic (path, "tampered", 8, 0600, &err), 0);
  assert_null (storage_blob_read (f->s, digest, 1024, NULL, &err));
  assert_err_contains (&err, "corrupt");
}

static void
test_blob_read_bounded (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *digest = put_config (f->s, "0123456789");

  assert_null (storage_blob_read (f->s, digest, 4, NULL, &err));
  assert_non_null (err);
  assert_int_equal (err->errnum, EFBIG);
  err_release (&err);
}

static void
test_blob_stage_commit (void **state)
{
  struct fixture *f = *state;
  struct storage_blob_stage *st = NULL;
  struct error *err = NULL;
  cleanup_free char *digest = digest_of ("streamed");

  assert_int_equal (storage_blob_stage_new (f->s, &st, &err), 0);
  assert_true (strstr (storage_blob_stage_path (st), "/tmp/blob-") != NULL);
  assert_int_equal (write (storage_blob_stage_fd (st), "streamed", 8), 8);
  assert_int_equal (storage_blob_stage_commit (f->s, st, digest, &err), 0);
  storage_blob_stage_free (st);
  assert_true (storage_blob_exists (f->s, digest));
  assert_int_equal (count_tmp (f, "blob-"), 0);
}

static void
test_blob_stage_abandoned_is_removed (void **state)
{
  struct fixture *f = *state;
  struct storage_blob_stage *st = NULL;
  struct error *err = NULL;

  assert_int_equal (storage_blob_stage_new (f->s, &st, &err), 0);
  assert_int_equal (count_tmp (f, "blob-"), 1);
  storage_blob_stage_free (st);
  assert_int_equal (count_tmp (f, "blob-"), 0);
}

/* ---- chain IDs ---------------------------------------------------------- */

static void
test_chain_id_of_base_layer_is_diff_id (void **state)
{
  struct error *err = NULL;
  cleanup_free char *id = storage_chain_id (NULL, "sha256:" HEX_A, &err);

  assert_string_equal (id, "sha256:" HEX_A);
}

static void
test_chain_id_known_values (void **state)
{
  struct error *err = NULL;
  char *diffs[] = { "sha256:" HEX_A, "sha256:" HEX_B, "sha256:" HEX_C, NULL };
  cleanup_strv char **ids = NULL;
  cleanup_free char *two = NULL;

  /* printf 'sha256:<a...> sha256:<b...>' | sha256sum, and so on. */
  two = storage_chain_id ("sha256:" HEX_A, "sha256:" HEX_B, &err);
  assert_string_equal (two,
                       "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
  assert_int_equal (storage_chain_ids (diffs, &ids, &err), 0);
  assert_int_equal (strv_len (ids), 3);
  assert_string_equal (ids[0], "sha256:" HEX_A);
  assert_string_equal (ids[1], two);
  assert_string_equal (ids[2],
                       "sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588");
}

static void
test_chain_id_invalid_input (void **state)
{
  struct error *err = NULL;
  char *bad[] = { "sha256:" HEX_A, "sha256:nothex", NULL };
  char **ids = NULL;

  assert_null (storage_chain_id (NULL, "sha256:ABC", &err));
  assert_err_contains (&err, "invalid layer diff ID");
  assert_null (storage_chain_id ("../x", "sha256:" HEX_A, &err));
  assert_err_contains (&err, "invalid parent chain ID");
  assert_true (storage_chain_ids (bad, &ids, &err) < 0);
  assert_err_contains (&err, "layer 2");
}

/* ---- layers ------------------------------------------------------------- */

static void
test_layer_stage_and_commit (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *base = make_layer (f->s, NULL, "base");
  cleanup_free char *top = make_layer (f->s, base, "top");
  cleanup_free char *diff = storage_layer_diff_path (f->s, top, &err);
  cleanup_free char *file = xasprintf ("%s/f", diff);
  cleanup_free char *content = NULL;
  struct storage_layer *l = NULL;

  assert_true (storage_layer_exists (f->s, base));
  assert_true (storage_layer_exists (f->s, top));
  assert_int_equal (storage_layer_get (f->s, top, &l, &err), 0);
  assert_string_equal (l->chain_id, top);
  assert_string_equal (l->parent, base);
  assert_int_equal (l->size, 3);
  assert_true (l->created > 0);
  storage_layer_free (l);
  content = fs_read_file (file, 0, NULL, &err);
  assert_string_equal (content, "top");
  assert_int_equal (count_tmp (f, "layer-"), 0);
}

static void
test_layer_commit_rejects_wrong_chain_id (void **state)
{
  struct fixture *f = *state;
  struct storage_layer_stage *st = NULL;
  struct error *err = NULL;
  struct storage_layer l = { "sha256:" HEX_B, "sha256:" HEX_A, NULL, NULL, 0, 0, 0 };

  assert_int_equal (storage_layer_stage_new (f->s, &st, &err), 0);
  assert_true (storage_layer_stage_commit (f->s, st, &l, &err) < 0);
  assert_err_contains (&err, "does not match");
  storage_layer_stage_free (st);
  assert_false (storage_layer_exists (f->s, "sha256:" HEX_B));
  assert_int_equal (count_tmp (f, "layer-"), 0);
}

static void
test_layer_commit_requires_parent (void **state)
{
  struct fixture *f = *state;
  struct storage_layer_stage *st = NULL;
  struct error *err = NULL;
  cleanup_free char *chain = storage_chain_id ("sha256:" HEX_A, "sha256:" HEX_B, &err);
  struct storage_layer l = { chain, "sha256:" HEX_B, "sha256:" HEX_A, NULL, 0, 0, 0 };

  assert_int_equal (storage_layer_stage_new (f->s, &st, &err), 0);
  assert_true (storage_layer_stage_commit (f->s, st, &l, &err) < 0);
  assert_err_contains (&err, "parent layer");
  storage_layer_stage_free (st);
  assert_false (storage_layer_exists (f->s, chain));
}

static void
test_layer_second_commit_of_same_chain_goes_to_trash (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *a = make_layer (f->s, NULL, "same");
  cleanup_free char *b = make_layer (f->s, NULL, "same");

  assert_string_equal (a, b);
  assert_true (storage_layer_exists (f->s, a));
  assert_true (storage_has_trash (f->s));
  assert_int_equal (storage_purge_trash (f->s, &err), 0);
  assert_false (storage_has_trash (f->s));
  assert_true (storage_layer_exists (f->s, a));
}

static void
test_layer_abandoned_stage_goes_to_trash (void **state)
{
  struct fixture *f = *state;
  struct storage_layer_stage *st = NULL;
  struct error *err = NULL;

  assert_int_equal (storage_layer_stage_new (f->s, &st, &err), 0);
  assert_int_equal (count_tmp (f, "layer-"), 1);
  storage_layer_stage_free (st);
  assert_int_equal (count_tmp (f, "layer-"), 0);
  assert_true (storage_has_trash (f->s));
  assert_int_equal (storage_purge_trash (f->s, &err), 0);
  assert_int_equal (count_tmp (f, "trash-"), 0);
}

static void
test_layer_corrupt_metadata_names_file (void **state)
{
  struct fixture *f = *state;
  struct storage_layer *l = NULL;
  struct error *err = NULL;
  cleanup_free char *chain = make_layer (f->s, NULL, "x");
  cleanup_free char *meta = xasprintf ("%s/layers/%s/layer.json", f->root, chain + 7);
  const char *bad = "{\"chain_id\":\"sha256:../x\"}";

  assert_int_equal (fs_write_atomic (meta, "{\"chain_id\":", 12, 0600, &err), 0);
  assert_true (storage_layer_get (f->s, chain, &l, &err) < 0);
  assert_err_contains (&err, meta);
  assert_int_equal (fs_write_atomic (meta, bad, strlen (bad), 0600, &err), 0);
  assert_true (storage_layer_get (f->s, chain, &l, &err) < 0);
  assert_err_contains (&err, "chain_id");
}

/* ---- repair ------------------------------------------------------------- */

static void
test_repair_cleans_stage_of_crashed_writer (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  int status = 0;
  pid_t pid = fork ();

  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct storage_store *s = NULL;
      struct storage_layer_stage *st = NULL;

      if (storage_open (f->root, &s, NULL) < 0 || storage_layer_stage_new (s, &st, NULL) < 0)
        _exit (1);
      if (mkdirat (storage_layer_stage_diff_fd (st), "half-extracted", 0755) < 0)
        _exit (1);
      _exit (0); /* "crash": no cleanup at all */
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  assert_int_equal (count_tmp (f, "layer-"), 1);

  assert_int_equal (storage_repair (f->s, false, &err), 0);
  assert_int_equal (count_tmp (f, "layer-"), 0);
  assert_true (storage_has_trash (f->s));
  assert_int_equal (storage_purge_trash (f->s, &err), 0);
  assert_int_equal (count_tmp (f, "trash-"), 0);
}

static void
test_repair_keeps_live_stage (void **state)
{
  struct fixture *f = *state;
  struct storage_layer_stage *st = NULL;
  struct storage_blob_stage *bst = NULL;
  struct error *err = NULL;

  assert_int_equal (storage_layer_stage_new (f->s, &st, &err), 0);
  assert_int_equal (storage_blob_stage_new (f->s, &bst, &err), 0);
  assert_int_equal (storage_repair (f->s, true, &err), 0);
  assert_int_equal (count_tmp (f, "layer-"), 1);
  assert_int_equal (count_tmp (f, "blob-"), 1);
  storage_blob_stage_free (bst);
  storage_layer_stage_free (st);
}

static void
test_repair_removes_dead_blob_stage_and_lease (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  int status = 0;
  pid_t pid = fork ();

  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct storage_store *s = NULL;
      struct storage_blob_stage *st = NULL;

      if (storage_open (f->root, &s, NULL) < 0 || storage_blob_stage_new (s, &st, NULL) < 0)
        _exit (1);
      /* A commit leaves a lease behind too. */
      if (storage_blob_put_bytes (s, NULL, "x", 1, NULL, NULL) < 0)
        _exit (1);
      _exit (0);
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  assert_int_equal (count_tmp (f, "blob-"), 1);
  assert_int_equal (count_tmp (f, "lease-"), 1);
  assert_int_equal (storage_repair (f->s, false, &err), 0);
  assert_int_equal (count_tmp (f, "blob-"), 0);
  assert_int_equal (count_tmp (f, "lease-"), 0);
}

static void
test_repair_trashes_layer_without_metadata (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *dir = xasprintf ("%s/layers/%s", f->root, HEX_A);
  cleanup_free char *junk = xasprintf ("%s/layers/not-a-layer", f->root);

  assert_int_equal (fs_mkdir_p (dir, 0700, &err), 0);
  assert_int_equal (fs_mkdir_p (junk, 0700, &err), 0);
  assert_int_equal (storage_repair (f->s, false, &err), 0);
  assert_false (fs_exists (dir));
  assert_true (fs_exists (junk)); /* not ours to judge */
  assert_true (storage_has_trash (f->s));
}

static void
test_repair_removes_index_temporaries (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *tmp = xasprintf ("%s/.images.json.tmp-123456", f->root);

  assert_int_equal (fs_write_atomic (tmp, "{", 1, 0600, &err), 0);
  assert_int_equal (storage_repair (f->s, false, &err), 0);
  assert_false (fs_exists (tmp));
}

static void
test_repair_collects_orphans_only_when_asked (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *layer = make_layer (f->s, NULL, "orphan");
  cleanup_free char *blob = put_config (f->s, "orphan blob");

  /* Our own lease protects them... */
  assert_int_equal (storage_repair (f->s, true, &err), 0);
  assert_true (storage_layer_exists (f->s, layer));
  assert_true (storage_blob_exists (f->s, blob));
  /* ...a plain repair keeps them for reuse once the lease is gone... */
  reopen (f);
  assert_int_equal (storage_repair (f->s, false, &err), 0);
  assert_true (storage_layer_exists (f->s, layer));
  /* ...and collecting orphans takes them. */
  assert_int_equal (storage_repair (f->s, true, &err), 0);
  assert_false (storage_layer_exists (f->s, layer));
  assert_false (storage_blob_exists (f->s, blob));
}

static void
test_repair_keeps_what_images_use (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *layer = make_layer (f->s, NULL, "used");
  char *layers[] = { layer, NULL };
  cleanup_free char *id = put_image (f->s, "{\"used\":1}", layers, NULL);

  reopen (f);
  assert_int_equal (storage_repair (f->s, true, &err), 0);
  assert_true (storage_layer_exists (f->s, layer));
  assert_true (storage_blob_exists (f->s, id));
}

/* ---- images ------------------------------------------------------------- */

static void
test_image_put_and_list (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *base = make_layer (f->s, NULL, "base");
  cleanup_free char *top = make_layer (f->s, base, "top!");
  char *layers[] = { base, top, NULL };
  char *names[] = { "docker.io/library/busybox:latest", NULL };
  cleanup_free char *id = put_image (f->s, "{\"config\":1}", layers, names);
  struct storage_image **v = NULL;

  assert_int_equal (storage_image_list (f->s, &v, &err), 0);
  assert_non_null (v[0]);
  assert_null (v[1]);
  assert_string_equal (v[0]->id, id);
  assert_string_equal (v[0]->names[0], "docker.io/library/busybox:latest");
  assert_int_equal (strv_len (v[0]->layers), 2);
  assert_string_equal (v[0]->layers[1], top);
  assert_int_equal (v[0]->size, 8);
  assert_int_equal (v[0]->created, 42);
  assert_true (v[0]->added > 0);
  storage_image_vec_free (v);
}

static void
test_image_list_empty_store (void **state)
{
  struct fixture *f = *state;

  assert_int_equal (image_count (f->s), 0);
}

static void
test_image_lookup_by_name_id_and_prefix (void **state)
{
  struct fixture *f = *state;
  char *names[] = { "docker.io/library/alpine:3", NULL };
  cleanup_free char *id = put_image (f->s, "{\"alpine\":3}", NULL, names);
  cleanup_free char *short_id = xstrndup (id + 7, 12);
  cleanup_free char *prefixed = xstrndup (id, 7 + 5);
  const char *refs[] = { "docker.io/library/alpine:3", id, id + 7, short_id, prefixed };

  for (size_t i = 0; i < sizeof refs / sizeof *refs; i++)
    {
      struct storage_image *img = lookup (f->s, refs[i]);

      assert_non_null (img);
      assert_string_equal (img->id, id);
      storage_image_free (img);
    }
}

static void
test_image_lookup_unknown_is_not_an_error (void **state)
{
  struct fixture *f = *state;
  char *names[] = { "docker.io/library/alpine:3", NULL };
  cleanup_free char *id = put_image (f->s, "{}", NULL, names);

  assert_null (lookup (f->s, "docker.io/library/alpine:4"));
  assert_null (lookup (f->s, "alpine:3"));
  assert_null (lookup (f->s, "zzz"));
  assert_null (lookup (f->s, ""));
  assert_null (lookup (f->s, id[7] == '0' ? "1" HEX_A : "0" HEX_A)); /* 65 digits */
}

static void
test_image_lookup_ambiguous_prefix (void **state)
{
  struct fixture *f = *state;
  struct storage_image *img = NULL;
  struct error *err = NULL;
  cleanup_free char *first = put_image (f->s, "{\"n\":0}", NULL, NULL);
  cleanup_free char *second = NULL;
  char prefix[2] = { first[7], '\0' };

  /* Another image whose ID starts with the same digit: 1 in 16 tries. */
  for (int i = 1; second == NULL; i++)
    {
      cleanup_free char *text = xasprintf ("{\"n\":%d}", i);
      cleanup_free char *d = digest_of (text);

      if (d[7] == first[7])
        second = put_image (f->s, text, NULL, NULL);
    }
  assert_true (storage_image_lookup (f->s, prefix, &img, &err) < 0);
  assert_null (img);
  assert_err_contains (&err, "is ambiguous");
  img = lookup (f->s, first + 7);
  assert_non_null (img);
  assert_string_equal (img->id, first);
  storage_image_free (img);
}

static void
test_image_put_twice_merges_names (void **state)
{
  struct fixture *f = *state;
  char *one[] = { "example.com/a:1", NULL };
  char *two[] = { "example.com/a:2", "example.com/a:1", NULL };
  cleanup_free char *id1 = put_image (f->s, "{}", NULL, one);
  cleanup_free char *id2 = put_image (f->s, "{}", NULL, two);
  struct storage_image *img = NULL;

  assert_string_equal (id1, id2);
  assert_int_equal (image_count (f->s), 1);
  img = lookup (f->s, id1);
  assert_int_equal (strv_len (img->names), 2);
  assert_string_equal (img->names[0], "example.com/a:1");
  assert_string_equal (img->names[1], "example.com/a:2");
  storage_image_free (img);
}

static void
test_image_put_requires_content (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *config = put_config (f->s, "{}");
  char *missing_layers[] = { "sha256:" HEX_A, NULL };
  struct storage_image no_layer = { .id = config, .layers = missing_layers };
  struct storage_image no_config = { .id = "sha256:" HEX_B };
  struct storage_image no_manifest = { .id = config, .manifest_digest = "sha256:" HEX_C };

  assert_true (storage_image_put (f->s, &no_layer, &err) < 0);
  assert_err_contains (&err, "layer " "sha256:" HEX_A);
  assert_true (storage_image_put (f->s, &no_config, &err) < 0);
  assert_err_contains (&err, "config blob");
  assert_true (storage_image_put (f->s, &no_manifest, &err) < 0);
  assert_err_contains (&err, "manifest blob");
  assert_int_equal (image_count (f->s), 0);
}

static void
test_image_put_rejects_broken_chain (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *base = make_layer (f->s, NULL, "base");
  cleanup_free char *top = make_layer (f->s, base, "top");
  cleanup_free char *config = put_config (f->s, "{}");
  char *layers[] = { top, NULL };
  struct storage_image img = { .id = config, .layers = layers };

  assert_true (storage_image_put (f->s, &img, &err) < 0);
  assert_err_contains (&err, "does not sit on");
}

static void
test_image_put_rejects_invalid_input (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *config = put_config (f->s, "{}");
  char *bad_names[] = { "docker.io/library/x:1\n", NULL };
  struct storage_image bad_id = { .id = "sha256:../../x" };
  struct storage_image bad_name = { .id = config, .names = bad_names };
  struct storage_image bad_type = { .id = config, .manifest_type = "a b" };

  assert_true (storage_image_put (f->s, &bad_id, &err) < 0);
  assert_err_contains (&err, "invalid image ID");
  assert_true (storage_image_put (f->s, &bad_name, &err) < 0);
  assert_err_contains (&err, "invalid image name");
  assert_true (storage_image_put (f->s, &bad_type, &err) < 0);
  assert_err_contains (&err, "media type");
}

static void
test_image_put_under_shared_lock_refused (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *config = put_config (f->s, "{}");
  struct storage_image img = { .id = config };

  assert_int_equal (storage_lock (f->s, false, &err), 0);
  assert_true (storage_image_put (f->s, &img, &err) < 0);
  assert_err_contains (&err, "exclusive");
  assert_int_equal (storage_lock (f->s, true, &err), 0);
  assert_int_equal (storage_image_put (f->s, &img, &err), 0);
  assert_int_equal (image_count (f->s), 1);
  storage_unlock (f->s);
  assert_int_equal (image_count (f->s), 1);
}

static void
test_image_tag_moves_name (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  char *names_a[] = { "example.com/x:1", "example.com/y:1", NULL };
  cleanup_free char *a = put_image (f->s, "{\"a\":1}", NULL, names_a);
  cleanup_free char *b = put_image (f->s, "{\"b\":1}", NULL, NULL);
  struct storage_image *img;

  assert_int_equal (storage_image_tag (f->s, b, "example.com/x:1", &err), 0);
  img = lookup (f->s, "example.com/x:1");
  assert_string_equal (img->id, b);
  storage_image_free (img);
  img = lookup (f->s, a);
  assert_int_equal (strv_len (img->names), 1);
  assert_string_equal (img->names[0], "example.com/y:1");
  storage_image_free (img);

  /* Its last name gone, A is dangling but still there. */
  assert_int_equal (storage_image_tag (f->s, b, "example.com/y:1", &err), 0);
  img = lookup (f->s, a);
  assert_non_null (img);
  assert_int_equal (strv_len (img->names), 0);
  storage_image_free (img);
  assert_int_equal (image_count (f->s), 2);
}

static void
test_image_put_moves_name (void **state)
{
  struct fixture *f = *state;
  char *names[] = { "example.com/x:latest", NULL };
  cleanup_free char *a = put_image (f->s, "{\"v\":1}", NULL, names);
  cleanup_free char *b = put_image (f->s, "{\"v\":2}", NULL, names);
  struct storage_image *img = lookup (f->s, "example.com/x:latest");

  assert_string_equal (img->id, b);
  storage_image_free (img);
  img = lookup (f->s, a);
  assert_int_equal (strv_len (img->names), 0);
  storage_image_free (img);
}

/* An image put with repo digests only (a pull by digest). */
static char *
put_image_digests (struct storage_store *s, const char *config_text, char **names,
                   char **digests)
{
  struct error *err = NULL;
  char *id = put_config (s, config_text);
  struct storage_image img = { .id = id, .names = names, .digests = digests };

  if (storage_image_put (s, &img, &err) < 0)
    fail_msg ("put image: %s", err->msg);
  return id;
}

static void
test_image_moved_name_takes_repo_digests (void **state)
{
  struct fixture *f = *state;
  char *names[] = { "example.com/x:latest", NULL };
  char *digests_a[] = { "example.com/x@sha256:" HEX_A, NULL };
  char *digests_b[] = { "example.com/x@sha256:" HEX_B, NULL };
  cleanup_free char *a = put_image_digests (f->s, "{\"v\":1}", names, digests_a);
  cleanup_free char *b = put_image_digests (f->s, "{\"v\":2}", names, digests_b);
  struct storage_image *img = lookup (f->s, a);

  /* A lost its tag: dangling, not listed under its old repository. */
  assert_int_equal (strv_len (img->names), 0);
  assert_int_equal (strv_len (img->digests), 0);
  storage_image_free (img);
  img = lookup (f->s, b);
  assert_int_equal (strv_len (img->digests), 1);
  storage_image_free (img);
}

static void
test_image_untag_last_name_takes_repo_digests (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  char *names[] = { "example.com/x:1", NULL };
  char *digests[] = { "example.com/x@sha256:" HEX_A, NULL };
  cleanup_free char *id = put_image_digests (f->s, "{}", names, digests);
  struct storage_image *img;

  assert_int_equal (storage_image_untag (f->s, "example.com/x:1", &err), 0);
  img = lookup (f->s, id);
  assert_int_equal (strv_len (img->names), 0);
  assert_int_equal (strv_len (img->digests), 0);
  storage_image_free (img);
}

static void
test_image_put_by_digest_keeps_repo_digests (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  char *digests[] = { "example.com/x@sha256:" HEX_A, NULL };
  char *names[] = { "example.com/y:1", NULL };
  cleanup_free char *id = put_image_digests (f->s, "{}", NULL, digests);
  cleanup_free char *other = put_image (f->s, "{\"o\":1}", NULL, names);
  struct storage_image *img;

  /* Names coming and going elsewhere leave it alone. */
  assert_int_equal (storage_image_untag (f->s, "example.com/y:1", &err), 0);
  img = lookup (f->s, "example.com/x@sha256:" HEX_A);
  assert_non_null (img);
  assert_string_equal (img->id, id);
  assert_int_equal (strv_len (img->names), 0);
  storage_image_free (img);
}

static void
test_image_tag_unknown_image (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;

  assert_true (storage_image_tag (f->s, "sha256:" HEX_A, "example.com/x:1", &err) < 0);
  assert_err_contains (&err, "not known");
  assert_true (storage_image_tag (f->s, "sha256:" HEX_A, "bad name", &err) < 0);
  assert_err_contains (&err, "invalid image name");
}

static void
test_image_untag (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  char *names[] = { "example.com/x:1", "example.com/x:2", NULL };
  cleanup_free char *id = put_image (f->s, "{}", NULL, names);
  struct storage_image *img;

  assert_int_equal (storage_image_untag (f->s, "example.com/x:1", &err), 0);
  assert_null (lookup (f->s, "example.com/x:1"));
  img = lookup (f->s, id);
  assert_int_equal (strv_len (img->names), 1);
  assert_string_equal (img->names[0], "example.com/x:2");
  storage_image_free (img);
  assert_true (storage_image_untag (f->s, "example.com/x:1", &err) < 0);
  assert_err_contains (&err, "not known");
}

/* Images A = [L1, L2] and B = [L1, L3]; deleting A takes L2 only. */
static void
test_image_delete_returns_unreferenced_layers (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *l1 = make_layer (f->s, NULL, "shared");
  cleanup_free char *l2 = make_layer (f->s, l1, "only a");
  cleanup_free char *l3 = make_layer (f->s, l1, "only b");
  char *layers_a[] = { l1, l2, NULL };
  char *layers_b[] = { l1, l3, NULL };
  cleanup_free char *a = put_image (f->s, "{\"a\":1}", layers_a, NULL);
  cleanup_free char *b = put_image (f->s, "{\"b\":1}", layers_b, NULL);
  cleanup_strv char **removed = NULL;

  reopen (f); /* no lease of ours protects the layers any more */
  assert_int_equal (storage_image_delete (f->s, a, NULL, NULL, &removed, &err), 0);
  assert_int_equal (strv_len (removed), 1);
  assert_string_equal (removed[0], l2);
  assert_false (storage_layer_exists (f->s, l2));
  assert_true (storage_layer_exists (f->s, l1));
  assert_true (storage_layer_exists (f->s, l3));
  assert_false (storage_blob_exists (f->s, a));
  assert_true (storage_blob_exists (f->s, b));
  assert_null (lookup (f->s, a));
  assert_int_equal (image_count (f->s), 1);
  assert_true (storage_has_trash (f->s));
  assert_int_equal (storage_purge_trash (f->s, &err), 0);
}

static void
test_image_delete_spares_leased_layers (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *layer = make_layer (f->s, NULL, "leased");
  char *layers[] = { layer, NULL };
  cleanup_free char *id = put_image (f->s, "{}", layers, NULL);
  cleanup_strv char **removed = NULL;

  /* This handle committed the layer: a pull in progress looks the same. */
  assert_int_equal (storage_image_delete (f->s, id, NULL, NULL, &removed, &err), 0);
  assert_int_equal (strv_len (removed), 0);
  assert_true (storage_layer_exists (f->s, layer));
}

static int
refuse (const struct storage_image *img, void *data, struct error **err)
{
  *(int *) data += 1;
  return err_make (err, 0, "image %s is in use by a container", img->id);
}

static void
test_image_delete_check_refuses (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;
  cleanup_free char *id = put_image (f->s, "{}", NULL, NULL);
  int calls = 0;

  assert_true (storage_image_delete (f->s, id, refuse, &calls, NULL, &err) < 0);
  assert_err_contains (&err, "in use");
  assert_int_equal (calls, 1);
  assert_int_equal (image_count (f->s), 1);
}

static void
test_image_delete_unknown (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;

  assert_true (storage_image_delete (f->s, "sha256:" HEX_A, NULL, NULL, NULL, &err) < 0);
  assert_err_contains (&err, "not known");
  assert_true (storage_image_delete (f->s, "busybox", NULL, NULL, NULL, &err) < 0);
  assert_err_contains (&err, "invalid image ID");
}

/* ---- corrupt index ------------------------------------------------------ */

static void
expect_index_error (struct fixture *f, const char *content, const char *needle)
{
  cleanup_free char *path = xasprintf ("%s/images.json", f->root);
  struct storage_image **v = NULL;
  struct storage_image *img = NULL;
  struct error *err = NULL;

  assert_int_equal (fs_write_atomic (path, content, strlen (content), 0600, &err), 0);
  assert_true (storage_image_list (f->s, &v, &err) < 0);
  assert_null (v);
  assert_non_null (err);
  if (strstr (err->msg, path) == NULL || strstr (err->msg, needle) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\" or \"%s\"", err->msg, path, needle);
  err_release (&err);
  assert_true (storage_image_lookup (f->s, "x", &img, &err) < 0);
  err_release (&err);
}

static void
test_index_truncated (void **state)
{
  expect_index_error (*state, "{\"version\":1,\"images\":[{\"id\":\"sha", "parse");
}

static void
test_index_empty_file (void **state)
{
  expect_index_error (*state, "", "empty");
}

static void
test_index_wrong_types (void **state)
{
  expect_index_error (*state, "[]", "not a JSON object");
  expect_index_error (*state, "{\"version\":2,\"images\":[]}", "version");
  expect_index_error (*state, "{\"version\":1}", "images");
  expect_index_error (*state, "{\"version\":1,\"images\":[7]}", "image 1");
  expect_index_error (*state, "{\"version\":1,\"images\":[{\"id\":\"sha256:../../etc\"}]}",
                      "\"id\"");
  expect_index_error (*state,
                      "{\"version\":1,\"images\":[{\"id\":\"sha256:" HEX_A "\",\"names\":"
                      "[\"bad name\"],\"created\":0,\"added\":0,\"size\":0}]}",
                      "names");
  expect_index_error (*state,
                      "{\"version\":1,\"images\":[{\"id\":\"sha256:" HEX_A "\",\"layers\":"
                      "[\"../x\"],\"created\":0,\"added\":0,\"size\":0}]}",
                      "layers");
  expect_index_error (*state,
                      "{\"version\":1,\"images\":[{\"id\":\"sha256:" HEX_A "\",\"created\":0,"
                      "\"added\":0,\"size\":-1}]}",
                      "size");
}

static void
test_index_duplicates (void **state)
{
  expect_index_error (*state,
                      "{\"version\":1,\"images\":["
                      "{\"id\":\"sha256:" HEX_A "\",\"created\":0,\"added\":0,\"size\":0},"
                      "{\"id\":\"sha256:" HEX_A "\",\"created\":0,\"added\":0,\"size\":0}]}",
                      "twice");
  expect_index_error (*state,
                      "{\"version\":1,\"images\":["
                      "{\"id\":\"sha256:" HEX_A "\",\"names\":[\"n:1\"],\"created\":0,"
                      "\"added\":0,\"size\":0},"
                      "{\"id\":\"sha256:" HEX_B "\",\"names\":[\"n:1\"],\"created\":0,"
                      "\"added\":0,\"size\":0}]}",
                      "twice");
}

static void
test_index_corrupt_refuses_writes (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *config = put_config (f->s, "{}");
  cleanup_free char *path = xasprintf ("%s/images.json", f->root);
  cleanup_free char *after = NULL;
  struct storage_image img = { .id = config };
  struct error *err = NULL;

  assert_int_equal (fs_write_atomic (path, "{garbage", 8, 0600, &err), 0);
  assert_true (storage_image_put (f->s, &img, &err) < 0);
  assert_err_contains (&err, path);
  after = fs_read_file (path, 0, NULL, &err);
  assert_string_equal (after, "{garbage"); /* not overwritten with less */
}

/* ---- concurrency -------------------------------------------------------- */

#define PER_WRITER 10

static int
writer (const char *root, const char *layer, int who)
{
  struct storage_store *s = NULL;

  if (storage_open (root, &s, NULL) < 0)
    return 1;
  for (int i = 0; i < PER_WRITER; i++)
    {
      char *layers[] = { (char *) layer, NULL };
      cleanup_free char *text = xasprintf ("{\"writer\":%d,\"i\":%d}", who, i);
      cleanup_free char *name = xasprintf ("example.com/w%d:%d", who, i);
      char *names[] = { name, NULL };
      cleanup_free char *id = NULL;
      struct storage_image img = { .names = names, .layers = layers };

      if (storage_blob_put_bytes (s, NULL, text, strlen (text), &id, NULL) < 0)
        return 1;
      img.id = id;
      if (storage_image_put (s, &img, NULL) < 0)
        return 1;
    }
  storage_close (s);
  return 0;
}

static void
test_concurrent_writers (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *layer = make_layer (f->s, NULL, "shared base");
  pid_t pids[2];

  for (int w = 0; w < 2; w++)
    {
      pids[w] = fork ();
      assert_true (pids[w] >= 0);
      if (pids[w] == 0)
        _exit (writer (f->root, layer, w));
    }
  for (int w = 0; w < 2; w++)
    {
      int status = 0;

      assert_int_equal (waitpid (pids[w], &status, 0), pids[w]);
      assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  assert_int_equal (image_count (f->s), 2 * PER_WRITER);
  for (int w = 0; w < 2; w++)
    for (int i = 0; i < PER_WRITER; i++)
      {
        cleanup_free char *name = xasprintf ("example.com/w%d:%d", w, i);
        struct storage_image *img = lookup (f->s, name);

        assert_non_null (img);
        storage_image_free (img);
      }
}

#define T(fn) cmocka_unit_test_setup_teardown (fn, setup, teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    T (test_blob_put_computes_digest_and_reads_back),
    T (test_blob_put_with_matching_digest),
    T (test_blob_put_mismatch_rejected),
    T (test_blob_invalid_digest_never_becomes_a_path),
    T (test_blob_read_detects_corruption),
    T (test_blob_read_bounded),
    T (test_blob_stage_commit),
    T (test_blob_stage_abandoned_is_removed),
    cmocka_unit_test (test_chain_id_of_base_layer_is_diff_id),
    cmocka_unit_test (test_chain_id_known_values),
    cmocka_unit_test (test_chain_id_invalid_input),
    T (test_layer_stage_and_commit),
    T (test_layer_commit_rejects_wrong_chain_id),
    T (test_layer_commit_requires_parent),
    T (test_layer_second_commit_of_same_chain_goes_to_trash),
    T (test_layer_abandoned_stage_goes_to_trash),
    T (test_layer_corrupt_metadata_names_file),
    T (test_repair_cleans_stage_of_crashed_writer),
    T (test_repair_keeps_live_stage),
    T (test_repair_removes_dead_blob_stage_and_lease),
    T (test_repair_trashes_layer_without_metadata),
    T (test_repair_removes_index_temporaries),
    T (test_repair_collects_orphans_only_when_asked),
    T (test_repair_keeps_what_images_use),
    T (test_image_put_and_list),
    T (test_image_list_empty_store),
    T (test_image_lookup_by_name_id_and_prefix),
    T (test_image_lookup_unknown_is_not_an_error),
    T (test_image_lookup_ambiguous_prefix),
    T (test_image_put_twice_merges_names),
    T (test_image_put_requires_content),
    T (test_image_put_rejects_broken_chain),
    T (test_image_put_rejects_invalid_input),
    T (test_image_put_under_shared_lock_refused),
    T (test_image_tag_moves_name),
    T (test_image_put_moves_name),
    T (test_image_moved_name_takes_repo_digests),
    T (test_image_untag_last_name_takes_repo_digests),
    T (test_image_put_by_digest_keeps_repo_digests),
    T (test_image_tag_unknown_image),
    T (test_image_untag),
    T (test_image_delete_returns_unreferenced_layers),
    T (test_image_delete_spares_leased_layers),
    T (test_image_delete_check_refuses),
    T (test_image_delete_unknown),
    T (test_index_truncated),
    T (test_index_empty_file),
    T (test_index_wrong_types),
    T (test_index_duplicates),
    T (test_index_corrupt_refuses_writes),
    T (test_concurrent_writers),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
