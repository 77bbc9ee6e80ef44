/* Unit tests for src/build_copy.c: the layer tar COPY and ADD produce
 * from a temporary tree (names, modes, owners, --chown, --chmod, globs,
 * directory contents, the destination rules, the ignore file, heredocs),
 * docker's errors for missing sources, sources that try to leave the root,
 * ADD's archive extraction with hostile archives, and the content digest. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/fs.h"
#include "libutil/mem.h"
#include "src/build_copy.h"

/* ---- fixtures -------------------------------------------------------------- */

struct fixture
{
  char *dir;  /* the source root */
  int fd;     /* O_PATH of DIR */
  char *dest; /* a destination root */
  int dest_fd;
};

static int
setup (void **state)
{
  struct fixture *f = xmalloc0 (sizeof *f);

  f->dir = xstrdup ("/tmp/skiff-copy-src-XXXXXX");
  f->dest = xstrdup ("/tmp/skiff-copy-dst-XXXXXX");
  if (mkdtemp (f->dir) == NULL || mkdtemp (f->dest) == NULL)
    return -1;
  f->fd = open (f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  f->dest_fd = open (f->dest, O_PATH | O_DIRECTORY | O_CLOEXEC);
  *state = f;
  return f->fd >= 0 && f->dest_fd >= 0 ? 0 : -1;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;

  close (f->fd);
  close (f->dest_fd);
  fs_remove_tree (f->dir, &err);
  fs_remove_tree (f->dest, &err);
  free (f->dir);
  free (f->dest);
  free (f);
  return 0;
}

static void
put_mode (const char *root, const char *rel, const char *text, mode_t mode)
{
  cleanup_free char *p = xasprintf ("%s/%s", root, rel);
  cleanup_free char *parent = xstrdup (p);
  struct error *err = NULL;

  *strrchr (parent, '/') = '\0';
  assert_int_equal (fs_mkdir_p (parent, 0755, &err), 0);
  assert_int_equal (fs_write_atomic_nosync (p, text, strlen (text), mode, &err), 0);
  assert_int_equal (chmod (p, mode), 0);
}

static void
put (const char *root, const char *rel, const char *text)
{
  put_mode (root, rel, text, 0644);
}

static void
mkdir_in (const char *root, const char *rel, mode_t mode)
{
  cleanup_free char *p = xasprintf ("%s/%s", root, rel);
  struct error *err = NULL;

  assert_int_equal (fs_mkdir_p (p, mode, &err), 0);
  assert_int_equal (chmod (p, mode), 0);
}

static void
link_in (const char *root, const char *rel, const char *target)
{
  cleanup_free char *p = xasprintf ("%s/%s", root, rel);

  assert_int_equal (symlink (target, p), 0);
}

/* ---- reading the produced tar ---------------------------------------------- */

struct entry
{
  char name[256];
  mode_t mode; /* type and permissions */
  long uid, gid;
  char link[256];
  char hardlink[256];
  char data[256];
  int64_t size;
  time_t mtime;
};

struct tar
{
  struct entry v[64];
  size_t n;
};

static void
read_tar (int fd, struct tar *t)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;

  memset (t, 0, sizeof *t);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  archive_read_support_format_tar (a);
  assert_int_equal (archive_read_open_fd (a, fd, 4096), ARCHIVE_OK);
  while (archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      struct entry *x = &t->v[t->n++];

      assert_true (t->n < 64);
      snprintf (x->name, sizeof x->name, "%s", archive_entry_pathname (e));
      /* the writer ends directory names in "/", as tar does */
      if (strlen (x->name) > 1 && x->name[strlen (x->name) - 1] == '/')
        x->name[strlen (x->name) - 1] = '\0';
      x->mode = archive_entry_mode (e);
      x->uid = (long) archive_entry_uid (e);
      x->gid = (long) archive_entry_gid (e);
      x->size = archive_entry_size (e);
      x->mtime = archive_entry_mtime (e);
      if (archive_entry_symlink (e))
        snprintf (x->link, sizeof x->link, "%s", archive_entry_symlink (e));
      if (archive_entry_hardlink (e))
        snprintf (x->hardlink, sizeof x->hardlink, "%s", archive_entry_hardlink (e));
      if (x->size > 0 && x->size < (int64_t) sizeof x->data)
        assert_int_equal (archive_read_data (a, x->data, sizeof x->data - 1), x->size);
    }
  archive_read_free (a);
}

static const struct entry *
find (const struct tar *t, const char *name)
{
  for (size_t i = 0; i < t->n; i++)
    if (strcmp (t->v[i].name, name) == 0)
      return &t->v[i];
  return NULL;
}

static struct build_copy_opts
opts_for (const struct fixture *f, const char *dest, const char **srcs, size_t n)
{
  struct build_copy_opts o = {
    .instruction = "COPY",
    .src_root_fd = f->fd,
    .srcs = (char *const *) srcs,
    .n_srcs = n,
    .dest = dest,
    .dest_root_fd = f->dest_fd,
    .uid = 0,
    .gid = 0,
  };
  return o;
}

/* Prepare and write O; the entries land in T.  0 or the prepare/write
 * error in *ERR. */
static int
run_copy (const struct build_copy_opts *o, struct tar *t, struct error **err)
{
  cleanup_build_copy struct build_copy *c = NULL;
  FILE *tmp = tmpfile ();
  int r = -1;

  assert_non_null (tmp);
  if (build_copy_prepare (o, &c, err) < 0 || build_copy_write (c, fileno (tmp), err) < 0)
    goto out;
  read_tar (fileno (tmp), t);
  r = 0;
out:
  fclose (tmp);
  return r;
}

static void
copy_ok (const struct build_copy_opts *o, struct tar *t)
{
  struct error *err = NULL;

  if (run_copy (o, t, &err) < 0)
    fail_msg ("copy failed: %s", err->msg);
}

static char *
copy_err (const struct build_copy_opts *o)
{
  struct error *err = NULL;
  struct tar t;
  char *msg;

  assert_int_equal (run_copy (o, &t, &err), -1);
  assert_non_null (err);
  msg = xstrdup (err->msg);
  err_release (&err);
  return msg;
}

/* ---- plain copies ---------------------------------------------------------- */

static void
test_file_into_dir (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "a.txt" };
  struct build_copy_opts o = opts_for (f, "/usr/local/app/", srcs, 1);
  struct stat st;
  struct tar t;
  const struct entry *e;

  put_mode (f->dir, "a.txt", "hello", 0750);
  assert_int_equal (stat (f->dir, &st), 0);
  copy_ok (&o, &t);
  /* parents first, created 0755 root:root, then the file */
  assert_int_equal (t.n, 4);
  assert_string_equal (t.v[0].name, "usr");
  assert_int_equal (t.v[0].mode, S_IFDIR | 0755);
  assert_int_equal (t.v[0].uid, 0);
  assert_string_equal (t.v[1].name, "usr/local");
  assert_string_equal (t.v[2].name, "usr/local/app");
  e = find (&t, "usr/local/app/a.txt");
  assert_non_null (e);
  assert_int_equal (e->mode, S_IFREG | 0750);
  assert_int_equal (e->uid, 0);
  assert_int_equal (e->gid, 0);
  assert_string_equal (e->data, "hello");
}

static void
test_chown_chmod (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "d" };
  struct build_copy_opts o = opts_for (f, "/app", srcs, 1);
  struct tar t;

  put (f->dir, "d/x", "x");
  mkdir_in (f->dir, "d/sub", 0700);
  put (f->dir, "d/sub/y", "y");
  o.uid = 1000;
  o.gid = 2000;
  o.has_chown = true;
  o.chmod = "0640";
  copy_ok (&o, &t);
  for (size_t i = 0; i < t.n; i++)
    {
      assert_int_equal (t.v[i].uid, 1000);
      assert_int_equal (t.v[i].gid, 2000);
      assert_int_equal (t.v[i].mode & 07777, 0640);
    }
  assert_int_equal (find (&t, "app/sub")->mode, S_IFDIR | 0640);
  assert_int_equal (find (&t, "app/sub/y")->mode, S_IFREG | 0640);
}

static void
test_keep_source_owner (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "a" };
  struct build_copy_opts o = opts_for (f, "/a", srcs, 1);
  struct tar t;

  put (f->dir, "a", "x");
  o.uid = o.gid = -1; /* --from without --chown */
  copy_ok (&o, &t);
  assert_int_equal (find (&t, "a")->uid, (long) getuid ());
  assert_int_equal (find (&t, "a")->gid, (long) getgid ());
}

static void
test_directory_copies_contents (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "src" };
  struct build_copy_opts o = opts_for (f, "/app", srcs, 1);
  struct tar t;

  put (f->dir, "src/main.c", "int main;");
  put (f->dir, "src/lib/util.c", "u");
  link_in (f->dir, "src/lib/up", "../../../..");
  copy_ok (&o, &t);
  assert_non_null (find (&t, "app"));
  assert_non_null (find (&t, "app/main.c"));
  assert_non_null (find (&t, "app/lib/util.c"));
  assert_null (find (&t, "app/src"));
  /* a symlink inside a copied directory stays a symlink */
  assert_int_equal (find (&t, "app/lib/up")->mode & S_IFMT, S_IFLNK);
  assert_string_equal (find (&t, "app/lib/up")->link, "../../../..");
  /* sorted: every name after the one before */
  for (size_t i = 1; i < t.n; i++)
    assert_true (strcmp (t.v[i - 1].name, t.v[i].name) < 0);
}

static void
test_context_root_copy (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "." };
  struct build_copy_opts o = opts_for (f, "/", srcs, 1);
  struct tar t;

  put (f->dir, "a", "1");
  put (f->dir, "b/c", "2");
  copy_ok (&o, &t);
  assert_int_equal (t.n, 3);
  assert_string_equal (t.v[0].name, "a");
  assert_string_equal (t.v[1].name, "b");
  assert_string_equal (t.v[2].name, "b/c");
}

static void
test_file_to_file (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "a.txt" };
  struct build_copy_opts o = opts_for (f, "/etc/renamed.conf", srcs, 1);
  struct tar t;

  put (f->dir, "a.txt", "x");
  copy_ok (&o, &t);
  assert_int_equal (t.n, 2);
  assert_string_equal (t.v[0].name, "etc");
  assert_string_equal (t.v[1].name, "etc/renamed.conf");
}

static void
test_existing_dest_dir (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "a.txt" };
  struct build_copy_opts o = opts_for (f, "/opt/data", srcs, 1);
  struct tar t;

  put (f->dir, "a.txt", "x");
  mkdir_in (f->dest, "opt/data", 0700);
  assert_int_equal (chmod (f->dest, 0755), 0);
  copy_ok (&o, &t);
  /* an existing directory: the file goes inside, and the directories keep
     their metadata in the layer */
  assert_non_null (find (&t, "opt/data/a.txt"));
  assert_int_equal (find (&t, "opt/data")->mode, S_IFDIR | 0700);
  assert_int_equal (find (&t, "opt/data")->uid, (long) getuid ());
}

static void
test_dest_through_symlink (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "a.txt" };
  struct build_copy_opts o = opts_for (f, "/var/run/app/", srcs, 1);
  struct tar t;

  put (f->dir, "a.txt", "x");
  mkdir_in (f->dest, "var", 0755);
  mkdir_in (f->dest, "run", 0755);
  link_in (f->dest, "var/run", "/run");
  copy_ok (&o, &t);
  assert_non_null (find (&t, "run/app/a.txt"));
  assert_null (find (&t, "var/run"));
}

static void
test_several_sources_onto_file (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "a", "b" };
  struct build_copy_opts o = opts_for (f, "/x", srcs, 2);
  cleanup_free char *msg = NULL;
  struct tar t;

  put (f->dir, "a", "1");
  put (f->dir, "b", "2");
  copy_ok (&o, &t); /* no file there: /x becomes a directory */
  assert_non_null (find (&t, "x/a"));
  assert_non_null (find (&t, "x/b"));
  put (f->dest, "x", "file");
  msg = copy_err (&o);
  assert_string_equal (msg, "COPY failed: cannot copy to non-directory: /x");
}

static void
test_dest_from_layers (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l0 = xasprintf ("%s/l0", f->dest);
  cleanup_free char *l1 = xasprintf ("%s/l1", f->dest);
  char *layers[] = { l1, l0, NULL };
  struct userns_idmap_entry ents[] = { { 0, (uint32_t) getuid (), 1 } };
  struct userns_idmap uidmap = { ents, 1 };
  const char *srcs[] = { "a.txt" };
  struct build_copy_opts o = opts_for (f, "/tmp/", srcs, 1);
  struct tar t;

  put (f->dir, "a.txt", "x");
  mkdir_in (l0, "tmp", 01777);
  mkdir_in (l0, "run", 0755);
  mkdir_in (l0, "var", 0755);
  link_in (l0, "var/run", "../run");
  mkdir_in (l0, "opt/data", 0755);
  mkdir_in (l0, "d/sub", 0755);
  mkdir_in (l0, "keep/sub", 0700);
  mkdir_in (l1, "d", 0755);
  put (l1, "d/.wh..wh..opq", "");  /* hides l0's d/sub */
  put (l1, ".wh.opt", "");         /* removes l0's opt */
  mkdir_in (l1, "keep", 0750);     /* l1's metadata wins, l0's sub shows */
  o.dest_root_fd = -1;
  o.dest_layers = layers;
  o.dest_uidmap = &uidmap;
  copy_ok (&o, &t);
  /* /tmp keeps its mode, owned by container root through the map */
  assert_int_equal (find (&t, "tmp")->mode, S_IFDIR | 01777);
  assert_int_equal (find (&t, "tmp")->uid, 0);
  assert_int_equal (find (&t, "tmp")->gid, (long) getgid ()); /* no gid map */
  o.dest = "/var/run/app/";
  copy_ok (&o, &t);
  assert_non_null (find (&t, "run/app/a.txt"));
  assert_null (find (&t, "var/run"));
  o.dest = "/opt/data"; /* whited out: a new file, parents created */
  copy_ok (&o, &t);
  assert_int_equal (find (&t, "opt/data")->mode & S_IFMT, S_IFREG);
  assert_int_equal (find (&t, "opt")->mode, S_IFDIR | 0755);
  o.dest = "/d/sub"; /* below an opaque directory: a new file */
  copy_ok (&o, &t);
  assert_int_equal (find (&t, "d/sub")->mode & S_IFMT, S_IFREG);
  o.dest = "/keep/sub"; /* merged: l0's directory shows through */
  copy_ok (&o, &t);
  assert_non_null (find (&t, "keep/sub/a.txt"));
  assert_int_equal (find (&t, "keep")->mode, S_IFDIR | 0750);
  assert_int_equal (find (&t, "keep/sub")->mode, S_IFDIR | 0700);
}

/* ---- globs and the ignore file --------------------------------------------- */

static void
test_globs (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "*.txt", "conf/[ab].ini" };
  struct build_copy_opts o = opts_for (f, "/g/", srcs, 2);
  struct tar t;

  put (f->dir, "one.txt", "1");
  put (f->dir, "two.txt", "2");
  put (f->dir, "three.md", "3");
  put (f->dir, "conf/a.ini", "a");
  put (f->dir, "conf/c.ini", "c");
  copy_ok (&o, &t);
  assert_non_null (find (&t, "g/one.txt"));
  assert_non_null (find (&t, "g/two.txt"));
  assert_non_null (find (&t, "g/a.ini"));
  assert_null (find (&t, "g/three.md"));
  assert_null (find (&t, "g/c.ini"));
}

static void
test_glob_no_match (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "*.nothing" };
  struct build_copy_opts o = opts_for (f, "/g/", srcs, 1);
  cleanup_free char *msg = copy_err (&o);

  assert_string_equal (msg, "COPY failed: no source files were specified");
}

static void
test_no_sources (void **state)
{
  struct fixture *f = *state;
  struct build_copy_opts o = opts_for (f, "/g/", NULL, 0);
  cleanup_free char *msg = copy_err (&o);

  assert_string_equal (msg, "COPY failed: no source files were specified");
}

static void
test_missing_source (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "missing.txt" };
  struct build_copy_opts o = opts_for (f, "/x", srcs, 1);
  cleanup_free char *msg = copy_err (&o);

  assert_string_equal (msg, "COPY failed: file not found in build context or excluded by "
                            ".dockerignore: stat missing.txt: file does not exist");
}

static void
test_ignore_file (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "." };
  struct build_copy_opts o = opts_for (f, "/app/", srcs, 1);
  const char *rules = "*.log\nnode_modules\n!node_modules/keep/**\ndocs\n**/*.tmp\n";
  struct error *err = NULL;
  struct build_ignore *ign = build_ignore_parse (".dockerignore", rules, strlen (rules), &err);
  cleanup_free char *msg = NULL;
  const char *one[] = { "a.log" };
  struct tar t;

  put (f->dir, "main.c", "m");
  put (f->dir, "a.log", "l");
  put (f->dir, "node_modules/x/y.js", "y");
  put (f->dir, "node_modules/keep/k.js", "k");
  put (f->dir, "docs/readme", "r");
  put (f->dir, "deep/er/x.tmp", "t");
  o.ignore = ign;
  copy_ok (&o, &t);
  assert_non_null (find (&t, "app/main.c"));
  assert_null (find (&t, "app/a.log"));
  assert_null (find (&t, "app/node_modules/x"));
  assert_null (find (&t, "app/node_modules/x/y.js"));
  assert_non_null (find (&t, "app/node_modules/keep/k.js"));
  assert_non_null (find (&t, "app/node_modules")); /* a parent of what is kept */
  assert_null (find (&t, "app/docs"));
  assert_null (find (&t, "app/deep/er/x.tmp"));
  /* an excluded file named as a source is "not found" */
  o.srcs = (char *const *) one;
  msg = copy_err (&o);
  assert_non_null (strstr (msg, "excluded by .dockerignore: stat a.log"));
  build_ignore_free (ign);
}

static void
test_whiteout_names_refused (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "d" };
  struct build_copy_opts o = opts_for (f, "/app", srcs, 1);
  cleanup_free char *msg = NULL;

  put (f->dir, "d/ok", "x");
  put (f->dir, "d/sub/.wh.victim", "");
  msg = copy_err (&o);
  assert_string_equal (msg, "COPY failed: \"/app/sub/.wh.victim\": names starting with \".wh.\" "
                            "are reserved for layer whiteouts");
}

/* ---- leaving the root ------------------------------------------------------ */

static void
test_escapes_refused (void **state)
{
  struct fixture *f = *state;
  const char *dotdot[] = { "../../../../etc/passwd" };
  const char *abs_link[] = { "evil/passwd" };
  const char *rel_link[] = { "up/etc/passwd" };
  const char *file_link[] = { "pw" };
  struct build_copy_opts o = opts_for (f, "/x", dotdot, 1);
  char *msg;

  link_in (f->dir, "evil", "/etc");
  link_in (f->dir, "up", "../../../../../..");
  link_in (f->dir, "pw", "/etc/passwd");
  msg = copy_err (&o);
  assert_non_null (strstr (msg, "file not found in build context"));
  free (msg);
  o.srcs = (char *const *) abs_link;
  msg = copy_err (&o);
  assert_non_null (strstr (msg, "file not found in build context"));
  free (msg);
  o.srcs = (char *const *) rel_link;
  msg = copy_err (&o);
  assert_non_null (strstr (msg, "file not found in build context"));
  free (msg);
  o.srcs = (char *const *) file_link;
  msg = copy_err (&o);
  assert_non_null (strstr (msg, "file not found in build context"));
  free (msg);
}

static void
test_symlink_source_followed_inside (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "alias" };
  struct build_copy_opts o = opts_for (f, "/x", srcs, 1);
  struct tar t;

  put (f->dir, "real/target", "inside");
  link_in (f->dir, "alias", "/real/target"); /* absolute: from the context root */
  copy_ok (&o, &t);
  assert_int_equal (find (&t, "x")->mode & S_IFMT, S_IFREG);
  assert_string_equal (find (&t, "x")->data, "inside");
}

/* ---- heredocs, URLs, no context --------------------------------------------- */

static void
test_heredocs (void **state)
{
  struct fixture *f = *state;
  struct df_heredoc docs[] = { { "EOF", "line1\nline2\n", true }, { "CONF", "k=v\n", false } };
  const char *srcs[] = { "<<EOF" };
  const char *two[] = { "<<-EOF", "<<'CONF'" };
  struct build_copy_opts o = opts_for (f, "/etc/motd", srcs, 1);
  struct tar t;

  o.heredocs = docs;
  o.n_heredocs = 2;
  copy_ok (&o, &t);
  assert_string_equal (find (&t, "etc/motd")->data, "line1\nline2\n");
  assert_int_equal (find (&t, "etc/motd")->mode, S_IFREG | 0644);
  o.srcs = (char *const *) two;
  o.n_srcs = 2;
  o.dest = "/d/";
  copy_ok (&o, &t);
  assert_string_equal (find (&t, "d/EOF")->data, "line1\nline2\n");
  assert_string_equal (find (&t, "d/CONF")->data, "k=v\n");
}

static void
test_no_context (void **state)
{
  struct fixture *f = *state;
  struct df_heredoc doc = { "EOF", "x\n", false };
  const char *path[] = { "a" };
  const char *here[] = { "<<EOF" };
  const char *unknown[] = { "<<NOPE" };
  struct build_copy_opts o = opts_for (f, "/a", path, 1);
  cleanup_free char *msg = NULL;
  cleanup_free char *msg2 = NULL;
  struct tar t;

  o.src_root_fd = -1;
  o.heredocs = &doc;
  o.n_heredocs = 1;
  msg = copy_err (&o);
  assert_non_null (strstr (msg, "no build context"));
  o.srcs = (char *const *) here;
  copy_ok (&o, &t);
  assert_string_equal (find (&t, "a")->data, "x\n");
  o.srcs = (char *const *) unknown;
  msg2 = copy_err (&o);
  assert_non_null (strstr (msg2, "NOPE"));
}

static void
test_url_in_copy_refused (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "https://example.com/x" };
  struct build_copy_opts o = opts_for (f, "/x", srcs, 1);
  cleanup_free char *msg = copy_err (&o);

  assert_string_equal (msg, "COPY failed: source can't be a URL for COPY");
  assert_true (build_copy_is_url ("http://a/b"));
  assert_false (build_copy_is_url ("httpx://a/b"));
}

static void
test_chmod_parse (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "a" };
  struct build_copy_opts o = opts_for (f, "/a", srcs, 1);
  static const char *const bad[] = { "", "8", "u+x", "77777", "-1", "0x7" };
  struct error *err = NULL;
  mode_t m = 0;

  assert_int_equal (build_copy_parse_chmod ("755", &m, &err), 0);
  assert_int_equal (m, 0755);
  assert_int_equal (build_copy_parse_chmod ("04755", &m, &err), 0);
  assert_int_equal (m, 04755);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      assert_true (build_copy_parse_chmod (bad[i], &m, &err) < 0);
      err_release (&err);
    }
  put (f->dir, "a", "x");
  o.chmod = "9";
  {
    cleanup_free char *msg = copy_err (&o);
    assert_string_equal (msg, "invalid --chmod value \"9\"");
  }
}

/* One HTTP exchange on 127.0.0.1: a child accepts a connection, reads the
 * request and answers RESPONSE; *PORT is where it listens. */
static pid_t
serve_once (const char *response, int *port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;
  int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  pid_t pid;

  assert_true (s >= 0);
  assert_int_equal (bind (s, (struct sockaddr *) &addr, sizeof addr), 0);
  assert_int_equal (listen (s, 1), 0);
  assert_int_equal (getsockname (s, (struct sockaddr *) &addr, &len), 0);
  *port = ntohs (addr.sin_port);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      char buf[4096];
      int c = accept (s, NULL, NULL);

      if (c >= 0 && read (c, buf, sizeof buf) > 0)
        {
          ssize_t w = write (c, response, strlen (response));
          (void) w;
        }
      _exit (0);
    }
  close (s);
  return pid;
}

static void
test_add_url (void **state)
{
  struct fixture *f = *state;
  static const char ok[] = "HTTP/1.0 200 OK\r\n"
                           "Last-Modified: Sat, 03 Feb 2001 04:05:06 GMT\r\n"
                           "Content-Length: 7\r\n\r\nremote\n";
  char url[128];
  const char *srcs[] = { url };
  struct build_copy_opts o = opts_for (f, "/r/", srcs, 1);
  struct tar t;
  int port, status;
  pid_t pid = serve_once (ok, &port);

  snprintf (url, sizeof url, "http://127.0.0.1:%d/files/remote.txt?v=1", port);
  o.instruction = "ADD";
  o.is_add = true;
  copy_ok (&o, &t);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_string_equal (find (&t, "r/remote.txt")->data, "remote\n");
  assert_int_equal (find (&t, "r/remote.txt")->mode, S_IFREG | 0600);
  assert_int_equal (find (&t, "r/remote.txt")->mtime, 981173106);
  assert_int_equal (find (&t, "r/remote.txt")->uid, 0);
}

static void
test_add_url_errors (void **state)
{
  struct fixture *f = *state;
  static const char missing[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  char url[128];
  const char *srcs[] = { url };
  struct build_copy_opts o = opts_for (f, "/r/", srcs, 1);
  cleanup_free char *msg = NULL;
  cleanup_free char *msg2 = NULL;
  int port, status;
  pid_t pid = serve_once (missing, &port);

  snprintf (url, sizeof url, "http://127.0.0.1:%d/x.txt", port);
  o.instruction = "ADD";
  o.is_add = true;
  msg = copy_err (&o);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_non_null (strstr (msg, "HTTP 404"));
  snprintf (url, sizeof url, "http://127.0.0.1:%d/", port);
  msg2 = copy_err (&o);
  assert_non_null (strstr (msg2, "cannot determine filename from url"));
}

/* ---- ADD of local archives --------------------------------------------------- */

struct tar_entry
{
  const char *name;
  mode_t mode;
  const char *data;     /* regular files */
  const char *link;     /* symlinks */
  const char *hardlink; /* hard links */
};

/* Write a tar (optionally gzip'ed) with ENTRIES at ROOT/REL. */
static void
make_tar (const char *root, const char *rel, const struct tar_entry *entries, size_t n,
          bool is_gzip)
{
  cleanup_free char *p = xasprintf ("%s/%s", root, rel);
  struct archive *a = archive_write_new ();

  archive_write_set_format_pax_restricted (a);
  if (is_gzip)
    archive_write_add_filter_gzip (a);
  assert_int_equal (archive_write_open_filename (a, p), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++)
    {
      struct archive_entry *e = archive_entry_new ();
      size_t len = entries[i].data ? strlen (entries[i].data) : 0;

      archive_entry_set_pathname (e, entries[i].name);
      archive_entry_set_mode (e, entries[i].mode);
      archive_entry_set_uid (e, 5);
      archive_entry_set_gid (e, 6);
      archive_entry_set_size (e, (la_int64_t) len);
      if (entries[i].link)
        archive_entry_set_symlink (e, entries[i].link);
      if (entries[i].hardlink)
        {
          archive_entry_set_hardlink (e, entries[i].hardlink);
          archive_entry_set_size (e, 0);
        }
      assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
      if (len && !entries[i].hardlink)
        assert_int_equal (archive_write_data (a, entries[i].data, len), (la_ssize_t) len);
      archive_entry_free (e);
    }
  archive_write_close (a);
  archive_write_free (a);
}

static struct build_copy_opts
add_opts (const struct fixture *f, const char *dest, const char **srcs, size_t n)
{
  struct build_copy_opts o = opts_for (f, dest, srcs, n);

  o.instruction = "ADD";
  o.is_add = true;
  return o;
}

static void
test_add_extracts_tar (void **state)
{
  struct fixture *f = *state;
  static const struct tar_entry entries[] = {
    { "./", S_IFDIR | 0755, NULL, NULL, NULL },
    { "./f", S_IFREG | 0600, "file", NULL, NULL },
    { "d/", S_IFDIR | 0711, NULL, NULL, NULL },
    { "d/g", S_IFREG | 0644, "gee", NULL, NULL },
    { "/abs", S_IFREG | 0644, "abs", NULL, NULL },
    { "l", S_IFLNK | 0777, NULL, "/etc/passwd", NULL },
    { "h", S_IFREG | 0644, NULL, NULL, "d/g" },
  };
  const char *srcs[] = { "t.tar", "t.tgz" };
  struct build_copy_opts o = add_opts (f, "/opt", srcs, 1);
  struct tar t;

  make_tar (f->dir, "t.tar", entries, sizeof entries / sizeof *entries, false);
  copy_ok (&o, &t);
  assert_int_equal (find (&t, "opt/f")->mode, S_IFREG | 0600);
  assert_string_equal (find (&t, "opt/f")->data, "file");
  assert_int_equal (find (&t, "opt/f")->uid, 5); /* the archive's owners */
  assert_int_equal (find (&t, "opt/d")->mode, S_IFDIR | 0711);
  assert_string_equal (find (&t, "opt/d/g")->data, "gee");
  assert_non_null (find (&t, "opt/abs"));
  assert_string_equal (find (&t, "opt/l")->link, "/etc/passwd");
  assert_string_equal (find (&t, "opt/h")->hardlink, "opt/d/g");
  /* compressed, and with --chown */
  make_tar (f->dir, "t.tgz", entries, 4, true);
  o.srcs = (char *const *) srcs + 1;
  o.has_chown = true;
  o.uid = 7;
  o.gid = 8;
  copy_ok (&o, &t);
  assert_string_equal (find (&t, "opt/d/g")->data, "gee");
  assert_int_equal (find (&t, "opt/d/g")->uid, 7);
}

static void
test_copy_does_not_extract (void **state)
{
  struct fixture *f = *state;
  static const struct tar_entry entries[] = { { "f", S_IFREG | 0644, "x", NULL, NULL } };
  const char *srcs[] = { "t.tar", "plain.gz" };
  struct build_copy_opts o = opts_for (f, "/opt/", srcs, 1);
  struct tar t;

  make_tar (f->dir, "t.tar", entries, 1, false);
  copy_ok (&o, &t);
  assert_non_null (find (&t, "opt/t.tar"));
  assert_null (find (&t, "opt/f"));
  /* ADD of something that only looks compressed is copied as it is */
  put (f->dir, "plain.gz", "\x1f\x8b not really gzip");
  o = add_opts (f, "/opt/", srcs + 1, 1);
  copy_ok (&o, &t);
  assert_non_null (find (&t, "opt/plain.gz"));
}

static void
assert_add_refused (const struct fixture *f, const struct tar_entry *entries, size_t n,
                    const char *what)
{
  const char *srcs[] = { "bad.tar" };
  struct build_copy_opts o = add_opts (f, "/opt", srcs, 1);
  cleanup_free char *msg = NULL;

  make_tar (f->dir, "bad.tar", entries, n, false);
  msg = copy_err (&o);
  if (strstr (msg, what) == NULL)
    fail_msg ("\"%s\" does not say \"%s\"", msg, what);
}

static void
test_add_hostile_archives (void **state)
{
  struct fixture *f = *state;
  static const struct tar_entry dotdot[] = {
    { "../../etc/evil", S_IFREG | 0644, "x", NULL, NULL },
  };
  static const struct tar_entry inner_dotdot[] = {
    { "a/../../evil", S_IFREG | 0644, "x", NULL, NULL },
  };
  static const struct tar_entry below_link[] = {
    { "l", S_IFLNK | 0777, NULL, "/etc", NULL },
    { "l/passwd", S_IFREG | 0644, "x", NULL, NULL },
  };
  static const struct tar_entry hard_out[] = {
    { "h", S_IFREG | 0644, NULL, NULL, "/etc/passwd" },
  };
  static const struct tar_entry hard_up[] = {
    { "h", S_IFREG | 0644, NULL, NULL, "../x" },
  };
  static const struct tar_entry whiteout[] = { { "d/.wh.x", S_IFREG | 0644, "", NULL, NULL } };

  assert_add_refused (f, dotdot, 1, "leaves the destination");
  assert_add_refused (f, inner_dotdot, 1, "leaves the destination");
  assert_add_refused (f, below_link, 2, "below a symlink");
  assert_add_refused (f, hard_out, 1, "outside the archive");
  assert_add_refused (f, hard_up, 1, "outside the archive");
  assert_add_refused (f, whiteout, 1, "whiteout");
}

static void
test_add_truncated_archive (void **state)
{
  struct fixture *f = *state;
  static const struct tar_entry entries[] = {
    { "big", S_IFREG | 0644,
      "0123456789012345678901234567890123456789012345678901234567890123456789", NULL, NULL },
  };
  cleanup_free char *p = xasprintf ("%s/cut.tar", f->dir);
  const char *srcs[] = { "cut.tar" };
  struct build_copy_opts o = add_opts (f, "/opt", srcs, 1);
  cleanup_free char *msg = NULL;

  make_tar (f->dir, "cut.tar", entries, 1, false);
  assert_int_equal (truncate (p, 1024 + 20), 0); /* inside the file's data */
  msg = copy_err (&o);
  assert_non_null (strstr (msg, "ADD failed"));
}

/* ---- the digest --------------------------------------------------------------- */

static void
digest_of (const struct build_copy_opts *o, char out[SHA256_DIGEST_STR_LEN])
{
  cleanup_build_copy struct build_copy *c = NULL;
  struct error *err = NULL;

  assert_int_equal (build_copy_prepare (o, &c, &err), 0);
  assert_int_equal (build_copy_digest (c, out, &err), 0);
  assert_true (sha256_digest_valid (out));
}

static void
test_digest (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "." };
  struct build_copy_opts o = opts_for (f, "/app", srcs, 1);
  char d1[SHA256_DIGEST_STR_LEN], d2[SHA256_DIGEST_STR_LEN], d3[SHA256_DIGEST_STR_LEN];
  char d4[SHA256_DIGEST_STR_LEN], d5[SHA256_DIGEST_STR_LEN];
  cleanup_free char *p = xasprintf ("%s/src/b.c", f->dir);
  struct timespec old[2] = { { 1000000, 0 }, { 1000000, 0 } };

  put (f->dir, "src/a.c", "aaaa");
  put (f->dir, "src/b.c", "bbbb");
  link_in (f->dir, "src/l", "a.c");
  digest_of (&o, d1);
  /* mtimes do not count */
  assert_int_equal (utimensat (AT_FDCWD, p, old, 0), 0);
  digest_of (&o, d2);
  assert_string_equal (d1, d2);
  /* one byte does */
  put (f->dir, "src/b.c", "bbbc");
  digest_of (&o, d3);
  assert_string_not_equal (d1, d3);
  /* and so do --chmod and --chown */
  o.chmod = "600";
  digest_of (&o, d4);
  assert_string_not_equal (d3, d4);
  o.chmod = NULL;
  o.uid = 1;
  digest_of (&o, d5);
  assert_string_not_equal (d3, d5);
}

static void
test_digest_many_files (void **state)
{
  struct fixture *f = *state;
  const char *srcs[] = { "." };
  struct build_copy_opts o = opts_for (f, "/app", srcs, 1);
  char d1[SHA256_DIGEST_STR_LEN], d2[SHA256_DIGEST_STR_LEN];
  struct timespec t0, t1;

  for (int i = 0; i < 2000; i++)
    {
      cleanup_free char *name = xasprintf ("d%02d/f%04d.txt", i % 40, i);
      cleanup_free char *text = xasprintf ("file %d\n", i);
      put (f->dir, name, text);
    }
  clock_gettime (CLOCK_MONOTONIC, &t0);
  digest_of (&o, d1);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  print_message ("prepare + digest of 2,000 files: %.1f ms\n",
                 (double) (t1.tv_sec - t0.tv_sec) * 1e3 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6);
  digest_of (&o, d2);
  assert_string_equal (d1, d2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_file_into_dir, setup, teardown),
    cmocka_unit_test_setup_teardown (test_chown_chmod, setup, teardown),
    cmocka_unit_test_setup_teardown (test_keep_source_owner, setup, teardown),
    cmocka_unit_test_setup_teardown (test_directory_copies_contents, setup, teardown),
    cmocka_unit_test_setup_teardown (test_context_root_copy, setup, teardown),
    cmocka_unit_test_setup_teardown (test_file_to_file, setup, teardown),
    cmocka_unit_test_setup_teardown (test_existing_dest_dir, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dest_through_symlink, setup, teardown),
    cmocka_unit_test_setup_teardown (test_several_sources_onto_file, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dest_from_layers, setup, teardown),
    cmocka_unit_test_setup_teardown (test_globs, setup, teardown),
    cmocka_unit_test_setup_teardown (test_glob_no_match, setup, teardown),
    cmocka_unit_test_setup_teardown (test_no_sources, setup, teardown),
    cmocka_unit_test_setup_teardown (test_missing_source, setup, teardown),
    cmocka_unit_test_setup_teardown (test_ignore_file, setup, teardown),
    cmocka_unit_test_setup_teardown (test_whiteout_names_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_escapes_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_symlink_source_followed_inside, setup, teardown),
    cmocka_unit_test_setup_teardown (test_heredocs, setup, teardown),
    cmocka_unit_test_setup_teardown (test_no_context, setup, teardown),
    cmocka_unit_test_setup_teardown (test_url_in_copy_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_chmod_parse, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_url, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_url_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_extracts_tar, setup, teardown),
    cmocka_unit_test_setup_teardown (test_copy_does_not_extract, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_hostile_archives, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_truncated_archive, setup, teardown),
    cmocka_unit_test_setup_teardown (test_digest, setup, teardown),
    cmocka_unit_test_setup_teardown (test_digest_many_files, setup, teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
