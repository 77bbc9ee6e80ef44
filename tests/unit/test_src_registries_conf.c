/* Unit tests for src/registries_conf.c: loading and merging files and
 * drop-ins, the v1 format, prefix matching (longest, wildcard), mirror
 * rewriting, aliases and short-name resolution, and malformed files. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "src/reference.h"
#include "src/registries_conf.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *tmpdir;

static int
setup (void **state)
{
  char tmpl[] = "/tmp/test-registries-conf-XXXXXX";

  if (mkdtemp (tmpl) == NULL)
    return -1;
  tmpdir = xstrdup (tmpl);
  return 0;
}

static int
teardown (void **state)
{
  int r = fs_remove_tree (tmpdir, NULL);

  free (tmpdir);
  tmpdir = NULL;
  return r;
}

static char *
write_file (const char *name, const char *content)
{
  char *path = xasprintf ("%s/%s", tmpdir, name);
  FILE *f = fopen (path, "we");

  assert_non_null (f);
  assert_int_equal (fputs (content, f) >= 0, 1);
  assert_int_equal (fclose (f), 0);
  return path;
}

static char *
make_dir (const char *name)
{
  char *path = xasprintf ("%s/%s", tmpdir, name);

  assert_int_equal (mkdir (path, 0700), 0);
  return path;
}

static struct registries_conf *
load_ok (const char *content)
{
  cleanup_free char *path = write_file ("registries.conf", content);
  cleanup_error struct error *err = NULL;
  struct registries_conf *c = NULL;

  if (registries_conf_load_paths (path, true, NULL, &c, &err) < 0)
    fail_msg ("rejected: %s", err->msg);
  return c;
}

/* CONTENT must be refused with "<path>:WANT..." (WANT includes the line). */
static void
assert_load_error (const char *content, const char *want)
{
  cleanup_free char *path = write_file ("registries.conf", content);
  cleanup_free char *full = xasprintf ("%s%s", path, want);
  cleanup_error struct error *err = NULL;
  struct registries_conf *c = NULL;

  if (registries_conf_load_paths (path, true, NULL, &c, &err) == 0)
    {
      registries_conf_free (c);
      fail_msg ("accepted:\n%s", content);
    }
  if (strstr (err->msg, full) == NULL)
    fail_msg ("got  \"%s\"\nwant \"%s\"", err->msg, full);
}

static void
assert_strv (const char *const *got, const char *const *want)
{
  size_t i;

  for (i = 0; got[i] && want[i]; i++)
    assert_string_equal (got[i], want[i]);
  assert_null (got[i]);
  assert_null (want[i]);
}

/* The candidates of resolving NAME, as strings, must be WANT. */
static void
assert_resolves (const struct registries_conf *c, const char *name, bool is_local,
                 const char *const *want)
{
  cleanup_error struct error *err = NULL;
  struct image_ref *refs = NULL;
  size_t n = 0, i;
  int r = is_local ? registries_conf_resolve_local (c, name, &refs, &n, &err)
                   : registries_conf_resolve (c, name, &refs, &n, &err);

  if (r < 0)
    fail_msg ("\"%s\": %s", name, err->msg);
  for (i = 0; i < n && want[i]; i++)
    {
      cleanup_free char *s = reference_to_string (&refs[i]);
      if (strcmp (s, want[i]) != 0)
        fail_msg ("\"%s\" candidate %zu: got \"%s\", want \"%s\"", name, i, s, want[i]);
    }
  assert_int_equal (i, n);
  assert_null (want[i]);
  registries_conf_free_refs (refs, n);
}

struct source_want
{
  const char *ref;
  bool is_insecure;
  bool is_mirror;
};

static void
assert_sources (const struct registries_conf *c, const char *name,
                const struct source_want *want, size_t n_want)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_error struct error *err = NULL;
  struct registry_pull_source *s = NULL;
  size_t n = 0;

  assert_int_equal (reference_parse (name, &ref, NULL), 0);
  if (registries_conf_pull_sources (c, &ref, &s, &n, &err) < 0)
    fail_msg ("\"%s\": %s", name, err->msg);
  assert_int_equal (n, n_want);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *got = reference_to_string (&s[i].ref);
      assert_string_equal (got, want[i].ref);
      assert_int_equal (s[i].is_insecure, want[i].is_insecure);
      assert_int_equal (s[i].is_mirror, want[i].is_mirror);
    }
  registries_conf_free_sources (s, n);
}

/* ---- search list and short-name-mode ------------------------------------ */

static void
test_search_defaults_to_docker_io (void **state)
{
  cleanup_registries_conf struct registries_conf *c = load_ok ("# nothing\n");
  static const char *const want[] = { "docker.io", NULL };

  assert_strv (registries_conf_search (c), want);
  assert_strv (registries_conf_search (NULL), want);
  assert_null (registries_conf_short_name_mode (c));
}

static void
test_search_list (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("unqualified-search-registries = [\"quay.io/\", \"docker.io\", "
                 "\"127.0.0.1:5000\"]\nshort-name-mode = \"permissive\"\n");
  static const char *const want[] = { "quay.io", "docker.io", "127.0.0.1:5000", NULL };

  assert_strv (registries_conf_search (c), want);
  assert_string_equal (registries_conf_short_name_mode (c), "permissive");
}

static void
test_search_set_empty (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("unqualified-search-registries = []\n");
  cleanup_error struct error *err = NULL;
  struct image_ref *refs = NULL;
  size_t n = 0;

  assert_null (registries_conf_search (c)[0]);
  assert_true (registries_conf_resolve (c, "busybox", &refs, &n, &err) < 0);
  assert_non_null (strstr (err->msg, "short-name \"busybox\" did not resolve to an alias "
                                     "and no unqualified-search registries are defined in"));
  assert_non_null (strstr (err->msg, "registries.conf\""));
}

static void
test_search_bad_entries (void **state)
{
  assert_load_error ("unqualified-search-registries = [\"https://quay.io\"]\n",
                     ":1: invalid unqualified-search-registries \"https://quay.io\": URI "
                     "schemes are not supported");
  assert_load_error ("\n\nunqualified-search-registries = [\"quay.io/ns\"]\n",
                     ":3: invalid unqualified-search-registries entry \"quay.io/ns\"");
  assert_load_error ("unqualified-search-registries = \"quay.io\"\n",
                     ":1: \"unqualified-search-registries\" must be a list of strings");
  assert_load_error ("unqualified-search-registries = [\"a.io\",\n 1]\n",
                     ":2: \"unqualified-search-registries\" must be a list of strings");
}

static void
test_short_name_mode_empty_is_unset (void **state)
{
  cleanup_registries_conf struct registries_conf *c = load_ok ("short-name-mode = \"\"\n");

  assert_null (registries_conf_short_name_mode (c));
}

static void
test_short_name_mode_invalid (void **state)
{
  assert_load_error ("short-name-mode = \"sometimes\"\n",
                     ":1: invalid short-name-mode \"sometimes\"");
  assert_load_error ("short-name-mode = true\n", ":1: \"short-name-mode\" must be a string");
}

/* ---- [[registry]] entries and prefix matching ---------------------------- */

static void
test_prefix_defaults_to_location (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nlocation = \"registry.local:5000/\"\ninsecure = true\n");
  const struct registry_entry *e = registries_conf_find (c, "registry.local:5000/a/b");

  assert_non_null (e);
  assert_string_equal (e->prefix, "registry.local:5000");
  assert_string_equal (e->location, "registry.local:5000");
  assert_true (e->is_insecure);
  assert_false (e->is_blocked);
  assert_int_equal (e->n_mirrors, 0);
}

static void
test_find_longest_prefix (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nlocation = \"example.com\"\n"
                 "[[registry]]\nprefix = \"example.com/foo/bar\"\nlocation = \"c.local\"\n"
                 "[[registry]]\nprefix = \"example.com/foo\"\nlocation = \"b.local\"\n");

  assert_string_equal (registries_conf_find (c, "example.com/foo/bar/baz:1")->location,
                       "c.local");
  assert_string_equal (registries_conf_find (c, "example.com/foo/bar")->location, "c.local");
  assert_string_equal (registries_conf_find (c, "example.com/foo:tag")->location, "b.local");
  assert_string_equal (registries_conf_find (c, "example.com/foo@" DIGEST)->location,
                       "b.local");
  assert_string_equal (registries_conf_find (c, "example.com/foobar")->location,
                       "example.com");
  assert_string_equal (registries_conf_find (c, "example.com")->location, "example.com");
  assert_null (registries_conf_find (c, "example.company/x"));
  assert_null (registries_conf_find (c, "other.com/x"));
  assert_null (registries_conf_find (NULL, "example.com/x"));
}

static void
test_find_wildcard (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nprefix = \"*.example.com\"\ninsecure = true\n"
                 "[[registry]]\nprefix = \"a.example.com/special\"\n"
                 "location = \"s.local\"\n");
  const struct registry_entry *e = registries_conf_find (c, "b.example.com/x");

  assert_non_null (e);
  assert_string_equal (e->prefix, "*.example.com");
  assert_string_equal (e->location, "");
  assert_non_null (registries_conf_find (c, "x.y.example.com:5000/z"));
  assert_non_null (registries_conf_find (c, "a.example.com"));
  assert_null (registries_conf_find (c, "example.com/x"));
  assert_null (registries_conf_find (c, "aexample.com/x"));
  assert_null (registries_conf_find (c, "quay.io/a.example.com/x"));
  assert_string_equal (registries_conf_find (c, "a.example.com/special/x")->location,
                       "s.local");
}

static void
test_first_duplicate_prefix_wins_in_a_file (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nprefix = \"p.io\"\nlocation = \"first.io\"\n"
                 "[[registry]]\nprefix = \"p.io\"\nlocation = \"second.io\"\n");

  assert_string_equal (registries_conf_find (c, "p.io/x")->location, "first.io");
}

static void
test_registry_errors (void **state)
{
  assert_load_error ("[[registry]]\ninsecure = true\n",
                     ":1: registry has neither location nor prefix");
  assert_load_error ("[[registry]]\nprefix = \"example.com/foo\"\n",
                     ":1: registry \"example.com/foo\" has no location");
  assert_load_error ("[[registry]]\nprefix = \"*.example.com/foo\"\nlocation = \"x.io\"\n",
                     ":2: wildcard prefix \"*.example.com/foo\" must be in the form");
  assert_load_error ("[[registry]]\nlocation = \"https://x.io\"\n",
                     ":2: invalid location \"https://x.io\": URI schemes are not supported");
  assert_load_error ("[[registry]]\nlocation = \"x.io\"\ninsecure = \"yes\"\n",
                     ":3: \"insecure\" must be a boolean");
  assert_load_error ("[[registry]]\nlocation = 5\n", ":2: \"location\" must be a string");
  assert_load_error ("registry = 1\n", ":1: \"registry\" must be a list of tables");
  assert_load_error ("registry = [1]\n", ":1: \"registry\" must be a list of tables");
  assert_load_error ("[[registry]]\nlocation = \"x.io\"\npull-from-mirror = \"all\"\n",
                     ":3: pull-from-mirror must not be set for a non-mirror registry");
}

static void
test_conflicting_settings_for_one_registry (void **state)
{
  assert_load_error ("[[registry]]\nprefix = \"a.io/x\"\nlocation = \"r.io\"\ninsecure = true\n"
                     "[[registry]]\nprefix = \"a.io/y\"\nlocation = \"r.io\"\n",
                     ": registry \"r.io\" is defined multiple times with conflicting "
                     "\"insecure\" settings");
  assert_load_error ("[[registry]]\nprefix = \"a.io/x\"\nlocation = \"r.io\"\nblocked = true\n"
                     "[[registry]]\nprefix = \"a.io/y\"\nlocation = \"r.io\"\n",
                     ": registry \"r.io\" is defined multiple times with conflicting "
                     "\"blocked\" settings");
}

static void
test_mirror_errors (void **state)
{
  assert_load_error ("[[registry]]\nlocation = \"x.io\"\n[[registry.mirror]]\ninsecure = true\n",
                     ":3: mirror location is unset");
  assert_load_error ("[[registry]]\nlocation = \"x.io\"\n[[registry.mirror]]\n"
                     "location = \"m.io\"\npull-from-mirror = \"never\"\n",
                     ":5: unsupported pull-from-mirror value \"never\"");
  assert_load_error ("[[registry]]\nlocation = \"x.io\"\nmirror-by-digest-only = true\n"
                     "[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"all\"\n",
                     ":4: mirror \"m.io\": pull-from-mirror cannot be combined with the "
                     "registry's mirror-by-digest-only");
  assert_load_error ("[[registry]]\nlocation = \"x.io\"\nmirror = \"m.io\"\n",
                     ":3: \"mirror\" must be a list of tables");
  assert_load_error ("[[registry]]\nlocation = \"x.io\"\nmirror = [\"m.io\"]\n",
                     ":3: a registry mirror must be a table");
}

static void
test_malformed_toml_names_file_and_line (void **state)
{
  assert_load_error ("unqualified-search-registries = [\"a.io\"]\n\n[[registry]\n",
                     ":3: expected \"]]\" after the array of tables name");
  assert_load_error ("[aliases]\n\"x\" = \"docker.io/x\"\n\"x\" = \"docker.io/y\"\n",
                     ":3: duplicate key \"x\"");
}

/* ---- pull sources ------------------------------------------------------- */

static void
test_sources_without_entry (void **state)
{
  cleanup_registries_conf struct registries_conf *c = load_ok ("");
  static const struct source_want want[] = {
    { "docker.io/library/busybox:latest", false, false },
  };

  assert_sources (c, "busybox", want, 1);
  assert_sources (NULL, "busybox", want, 1);
}

static void
test_sources_mirrors_then_location (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nprefix = \"docker.io\"\nlocation = \"docker.io\"\n"
                 "[[registry.mirror]]\nlocation = \"m1.local:5000/hub\"\ninsecure = true\n"
                 "[[registry.mirror]]\nlocation = \"m2.local\"\n");
  static const struct source_want want[] = {
    { "m1.local:5000/hub/library/busybox:1.36", true, true },
    { "m2.local/library/busybox:1.36", false, true },
    { "docker.io/library/busybox:1.36", false, false },
  };

  assert_sources (c, "busybox:1.36", want, 3);
}

static void
test_sources_location_rewrite (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nprefix = \"example.com/foo\"\n"
                 "location = \"internal.example.com/bar\"\ninsecure = true\n");
  static const struct source_want want[] = {
    { "internal.example.com/bar/app:1", true, false },
  };
  static const struct source_want digest_want[] = {
    { "internal.example.com/bar@" DIGEST, true, false },
  };

  assert_sources (c, "example.com/foo/app:1", want, 1);
  assert_sources (c, "example.com/foo@" DIGEST, digest_want, 1);
}

static void
test_sources_mirror_by_digest_only (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nlocation = \"r.io\"\nmirror-by-digest-only = true\n"
                 "[[registry.mirror]]\nlocation = \"m.io\"\n");
  static const struct source_want tagged[] = { { "r.io/a:1", false, false } };
  static const struct source_want digested[] = {
    { "m.io/a@" DIGEST, false, true },
    { "r.io/a@" DIGEST, false, false },
  };

  assert_sources (c, "r.io/a:1", tagged, 1);
  assert_sources (c, "r.io/a@" DIGEST, digested, 2);
}

static void
test_sources_pull_from_mirror (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nlocation = \"r.io\"\n"
                 "[[registry.mirror]]\nlocation = \"digests.io\"\npull-from-mirror = \"digest-only\"\n"
                 "[[registry.mirror]]\nlocation = \"tags.io\"\npull-from-mirror = \"tag-only\"\n"
                 "[[registry.mirror]]\nlocation = \"all.io\"\npull-from-mirror = \"all\"\n");
  static const struct source_want tagged[] = {
    { "tags.io/a:1", false, true },
    { "all.io/a:1", false, true },
    { "r.io/a:1", false, false },
  };
  static const struct source_want digested[] = {
    { "digests.io/a:1@" DIGEST, false, true },
    { "all.io/a:1@" DIGEST, false, true },
    { "r.io/a:1@" DIGEST, false, false },
  };

  assert_sources (c, "r.io/a:1", tagged, 3);
  assert_sources (c, "r.io/a:1@" DIGEST, digested, 3);
}

static void
test_sources_wildcard_keeps_reference (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nprefix = \"*.internal\"\ninsecure = true\n");
  static const struct source_want want[] = { { "reg.internal:5000/a:latest", true, false } };

  assert_sources (c, "reg.internal:5000/a", want, 1);
}

static void
test_sources_blocked (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nprefix = \"docker.io/evil\"\nlocation = \"docker.io/evil\"\n"
                 "blocked = true\n");
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_error struct error *err = NULL;
  struct registry_pull_source *s = NULL;
  size_t n = 0;

  assert_int_equal (reference_parse ("evil/app", &ref, NULL), 0);
  assert_true (registries_conf_pull_sources (c, &ref, &s, &n, &err) < 0);
  assert_string_equal (err->msg, "image \"docker.io/evil/app:latest\" is blocked by "
                                 "registries.conf (prefix \"docker.io/evil\")");
  assert_null (s);
}

static void
test_sources_bad_location (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[[registry]]\nprefix = \"r.io\"\nlocation = \"nohost\"\n");
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_error struct error *err = NULL;
  struct registry_pull_source *s = NULL;
  size_t n = 0;

  assert_int_equal (reference_parse ("r.io/a", &ref, NULL), 0);
  assert_true (registries_conf_pull_sources (c, &ref, &s, &n, &err) < 0);
  assert_non_null (strstr (err->msg, "location \"nohost\" does not start with a registry"));
}

/* ---- aliases and short names ------------------------------------------- */

static void
test_aliases (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[aliases]\n\"fedora\" = \"registry.fedoraproject.org/fedora\"\n"
                 "\"hub\" = \"docker.io/busybox\"\n\"ns/app\" = \"quay.io/ns/app\"\n");

  assert_string_equal (registries_conf_alias (c, "fedora"), "registry.fedoraproject.org/fedora");
  assert_string_equal (registries_conf_alias (c, "hub"), "docker.io/library/busybox");
  assert_string_equal (registries_conf_alias (c, "ns/app"), "quay.io/ns/app");
  assert_null (registries_conf_alias (c, "busybox"));
  assert_null (registries_conf_alias (NULL, "fedora"));
}

static void
test_alias_errors (void **state)
{
  assert_load_error ("[aliases]\n\"fedora:39\" = \"registry.fedoraproject.org/fedora\"\n",
                     ":2: invalid alias name \"fedora:39\"");
  assert_load_error ("[aliases]\n\"quay.io/x\" = \"quay.io/x\"\n",
                     ":2: invalid alias name \"quay.io/x\"");
  assert_load_error ("[aliases]\n\"x\" = \"x\"\n", ":2: invalid alias \"x\" = \"x\"");
  assert_load_error ("[aliases]\n\"x\" = \"quay.io/x:1\"\n", ":2: invalid alias");
  assert_load_error ("[aliases]\n\"x\" = \"quay.io/x@" DIGEST "\"\n", ":2: invalid alias");
  assert_load_error ("[aliases]\n\"x\" = \"quay.io/X\"\n",
                     ":2: invalid alias \"x\": invalid reference format \"quay.io/X\": "
                     "repository name must be lowercase");
  assert_load_error ("[aliases]\n\"Big\" = \"quay.io/x\"\n",
                     ":2: invalid alias name: invalid reference format \"Big\"");
  assert_load_error ("[short]\nshort-name-mode = 1\n[aliases]\n\"x\" = \"quay.io/x\"\n"
                     "\"x\" = \"\"\n", ":5: duplicate key \"x\"");
  assert_load_error ("[aliases]\nx = 1\n", ":2: alias \"x\" must be a string");
  assert_load_error ("aliases = 1\n", ":1: \"aliases\" must be a table");
}

static void
test_resolve_with_search_registries (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n");
  static const char *const plain[] = { "quay.io/busybox:latest",
                                       "docker.io/library/busybox:latest", NULL };
  static const char *const tagged[] = { "quay.io/user/app:1",
                                        "docker.io/user/app:1", NULL };
  static const char *const digested[] = { "quay.io/busybox@" DIGEST,
                                          "docker.io/library/busybox@" DIGEST, NULL };

  assert_resolves (c, "busybox", false, plain);
  assert_resolves (c, "user/app:1", false, tagged);
  assert_resolves (c, "busybox@" DIGEST, false, digested);
}

static void
test_resolve_default_search (void **state)
{
  static const char *const want[] = { "docker.io/library/busybox:1.36", NULL };

  assert_resolves (NULL, "busybox:1.36", false, want);
}

static void
test_resolve_qualified_name (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("unqualified-search-registries = [\"quay.io\"]\n");
  static const char *const want[] = { "docker.io/library/busybox:latest", NULL };
  static const char *const local[] = { "localhost:5000/a/b:t", NULL };

  assert_resolves (c, "docker.io/busybox", false, want);
  assert_resolves (c, "localhost:5000/a/b:t", true, local);
}

static void
test_resolve_alias_wins (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n"
                 "[aliases]\n\"fedora\" = \"registry.fedoraproject.org/fedora\"\n");
  static const char *const want[] = { "registry.fedoraproject.org/fedora:39", NULL };
  static const char *const local[] = { "registry.fedoraproject.org/fedora:latest",
                                       "localhost/fedora:latest", "quay.io/fedora:latest",
                                       "docker.io/library/fedora:latest", NULL };

  assert_resolves (c, "fedora:39", false, want);
  assert_resolves (c, "fedora", true, local);
}

static void
test_resolve_local_deduplicates (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("unqualified-search-registries = [\"docker.io\", \"localhost\"]\n");
  static const char *const want[] = { "localhost/busybox:latest",
                                      "docker.io/library/busybox:latest", NULL };

  assert_resolves (c, "busybox", true, want);
}

static void
test_resolve_invalid_name (void **state)
{
  cleanup_error struct error *err = NULL;
  struct image_ref *refs = NULL;
  size_t n = 0;

  assert_true (registries_conf_resolve (NULL, "Bad:Name:x", &refs, &n, &err) < 0);
  assert_non_null (strstr (err->msg, "invalid reference format \"Bad:Name:x\""));
  assert_null (refs);
}

/* ---- files, drop-ins and the v1 format ---------------------------------- */

static void
test_dropins_merge_in_order (void **state)
{
  cleanup_free char *main_file
      = write_file ("main.conf", "unqualified-search-registries = [\"a.io\"]\n"
                                 "short-name-mode = \"enforcing\"\n"
                                 "[[registry]]\nprefix = \"p.io\"\nlocation = \"main.io\"\n"
                                 "[[registry]]\nlocation = \"keep.io\"\n"
                                 "[aliases]\nx = \"a.io/x\"\ny = \"a.io/y\"\n");
  cleanup_free char *dir = make_dir ("d");
  cleanup_free char *sub = make_dir ("d/sub.conf");
  cleanup_free char *f1 = write_file ("d/20-b.conf", "short-name-mode = \"disabled\"\n"
                                                     "[aliases]\ny = \"\"\n");
  cleanup_free char *f2 = write_file ("d/10-a.conf", "short-name-mode = \"permissive\"\n"
                                                     "[[registry]]\nprefix = \"p.io\"\n"
                                                     "location = \"drop.io\"\n"
                                                     "[aliases]\nx = \"b.io/x\"\n");
  cleanup_free char *ignored = write_file ("d/30-c.txt", "this is not toml [");
  const char *const dirs[] = { dir, NULL };
  cleanup_registries_conf struct registries_conf *c = NULL;
  cleanup_error struct error *err = NULL;
  static const char *const search[] = { "a.io", NULL };

  if (registries_conf_load_paths (main_file, true, dirs, &c, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_strv (registries_conf_search (c), search);
  assert_string_equal (registries_conf_short_name_mode (c), "disabled");
  assert_string_equal (registries_conf_find (c, "p.io/z")->location, "drop.io");
  assert_non_null (registries_conf_find (c, "keep.io/z"));
  assert_string_equal (registries_conf_alias (c, "x"), "b.io/x");
  assert_null (registries_conf_alias (c, "y"));
}

static void
test_dropin_replaces_search (void **state)
{
  cleanup_free char *main_file
      = write_file ("main.conf", "unqualified-search-registries = [\"a.io\"]\n");
  cleanup_free char *dir = make_dir ("d");
  cleanup_free char *f = write_file ("d/x.conf", "unqualified-search-registries = []\n");
  const char *const dirs[] = { dir, "/nonexistent/registries.conf.d", NULL };
  cleanup_registries_conf struct registries_conf *c = NULL;

  assert_int_equal (registries_conf_load_paths (main_file, true, dirs, &c, NULL), 0);
  assert_null (registries_conf_search (c)[0]);
}

static void
test_malformed_dropin_named (void **state)
{
  cleanup_free char *dir = make_dir ("d");
  cleanup_free char *f = write_file ("d/bad.conf", "[[registry]]\nlocation = \"x.io\"\n"
                                                   "insecure = maybe\n");
  const char *const dirs[] = { dir, NULL };
  cleanup_registries_conf struct registries_conf *c = NULL;
  cleanup_error struct error *err = NULL;
  cleanup_free char *want = xasprintf ("%s:3: invalid value \"maybe\"", f);

  assert_true (registries_conf_load_paths (NULL, false, dirs, &c, &err) < 0);
  assert_non_null (strstr (err->msg, want));
  assert_null (c);
}

static void
test_missing_main_file (void **state)
{
  cleanup_free char *path = xasprintf ("%s/none.conf", tmpdir);
  cleanup_registries_conf struct registries_conf *c = NULL;
  cleanup_error struct error *err = NULL;

  assert_int_equal (registries_conf_load_paths (path, false, NULL, &c, &err), 0);
  assert_non_null (c);
  registries_conf_free (steal_ptr (&c));
  assert_true (registries_conf_load_paths (path, true, NULL, &c, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, path));
}

static void
test_v1_format (void **state)
{
  cleanup_registries_conf struct registries_conf *c
      = load_ok ("[registries.search]\nregistries = [\"quay.io\", \"docker.io\"]\n"
                 "[registries.insecure]\nregistries = [\"localhost:5000\", \"bad.io\"]\n"
                 "[registries.block]\nregistries = [\"bad.io\"]\n");
  static const char *const search[] = { "quay.io", "docker.io", NULL };
  const struct registry_entry *e;

  assert_strv (registries_conf_search (c), search);
  e = registries_conf_find (c, "localhost:5000/a");
  assert_non_null (e);
  assert_true (e->is_insecure);
  assert_false (e->is_blocked);
  e = registries_conf_find (c, "bad.io/a");
  assert_non_null (e);
  assert_true (e->is_insecure);
  assert_true (e->is_blocked);
}

static void
test_v1_and_v2_mixed (void **state)
{
  assert_load_error ("unqualified-search-registries = [\"a.io\"]\n"
                     "[registries.search]\nregistries = [\"quay.io\"]\n",
                     ": mixing the v1 [registries.*] tables with the v2 format is not "
                     "supported");
  assert_load_error ("registries = 1\n", ":1: \"registries\" must be a table");
}

static void
test_default_paths (void **state)
{
  cleanup_free char *env_file = xasprintf ("%s/env.conf", tmpdir);
  cleanup_free char *user_file = NULL, *user_dir = NULL, *d = NULL;
  char *main_file = NULL;
  char **dirs = NULL;
  bool is_required = false;

  unsetenv ("CONTAINERS_REGISTRIES_CONF");
  setenv ("XDG_CONFIG_HOME", tmpdir, 1);
  user_dir = xasprintf ("%s/containers/registries.conf.d", tmpdir);

  /* No user file: the system file (optional), then both drop-in dirs. */
  registries_conf_default_paths (&main_file, &is_required, &dirs);
  assert_string_equal (main_file, REGISTRIES_CONF_SYSTEM_FILE);
  assert_false (is_required);
  assert_int_equal (strv_len (dirs), 2);
  assert_string_equal (dirs[0], REGISTRIES_CONF_SYSTEM_DIR);
  assert_string_equal (dirs[1], user_dir);
  free (main_file);
  strv_free (dirs);

  /* The environment names a required main file; drop-ins stay. */
  setenv ("CONTAINERS_REGISTRIES_CONF", env_file, 1);
  registries_conf_default_paths (&main_file, &is_required, &dirs);
  assert_string_equal (main_file, env_file);
  assert_true (is_required);
  assert_int_equal (strv_len (dirs), 2);
  free (main_file);
  strv_free (dirs);
  unsetenv ("CONTAINERS_REGISTRIES_CONF");

  /* A user file replaces the system file and the system drop-ins. */
  d = make_dir ("containers");
  user_file = write_file ("containers/registries.conf", "");
  registries_conf_default_paths (&main_file, &is_required, &dirs);
  assert_string_equal (main_file, user_file);
  assert_int_equal (strv_len (dirs), 1);
  assert_string_equal (dirs[0], user_dir);
  free (main_file);
  strv_free (dirs);
  unsetenv ("XDG_CONFIG_HOME");
}

static void
test_load_from_environment (void **state)
{
  cleanup_free char *env_file = xasprintf ("%s/missing.conf", tmpdir);
  cleanup_registries_conf struct registries_conf *c = NULL;
  cleanup_error struct error *err = NULL;

  setenv ("CONTAINERS_REGISTRIES_CONF", env_file, 1);
  assert_true (registries_conf_load (&c, &err) < 0);
  assert_non_null (strstr (err->msg, env_file));
  unsetenv ("CONTAINERS_REGISTRIES_CONF");
}

#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    T (test_search_defaults_to_docker_io),
    T (test_search_list),
    T (test_search_set_empty),
    T (test_search_bad_entries),
    T (test_short_name_mode_empty_is_unset),
    T (test_short_name_mode_invalid),
    T (test_prefix_defaults_to_location),
    T (test_find_longest_prefix),
    T (test_find_wildcard),
    T (test_first_duplicate_prefix_wins_in_a_file),
    T (test_registry_errors),
    T (test_conflicting_settings_for_one_registry),
    T (test_mirror_errors),
    T (test_malformed_toml_names_file_and_line),
    T (test_sources_without_entry),
    T (test_sources_mirrors_then_location),
    T (test_sources_location_rewrite),
    T (test_sources_mirror_by_digest_only),
    T (test_sources_pull_from_mirror),
    T (test_sources_wildcard_keeps_reference),
    T (test_sources_blocked),
    T (test_sources_bad_location),
    T (test_aliases),
    T (test_alias_errors),
    T (test_resolve_with_search_registries),
    T (test_resolve_default_search),
    T (test_resolve_qualified_name),
    T (test_resolve_alias_wins),
    T (test_resolve_local_deduplicates),
    T (test_resolve_invalid_name),
    T (test_dropins_merge_in_order),
    T (test_dropin_replaces_search),
    T (test_malformed_dropin_named),
    T (test_missing_main_file),
    T (test_v1_format),
    T (test_v1_and_v2_mixed),
    T (test_default_paths),
    T (test_load_from_environment),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
