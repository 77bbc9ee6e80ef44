/* Unit tests for src/auth_file.c: auth file keys, the JSON merge (other
 * entries and unknown keys kept, mode 0600, directory made), malformed
 * files, credential helper selection and replies, and the helper protocol
 * with a helper script (secrets on stdin, never in argv). */
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
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "src/auth_file.h"
#include "src/registry_auth.h"

static char *tmpdir;

static void
assert_contains (const char *s, const char *want)
{
  if (s == NULL || strstr (s, want) == NULL)
    fail_msg ("\"%s\" lacks \"%s\"", s ? s : "(null)", want);
}

static json_object *
parse_ok (const char *text)
{
  cleanup_error struct error *err = NULL;
  json_object *o = auth_file_parse (text, strlen (text), "test.json", &err);

  if (o == NULL)
    fail_msg ("parse %s: %s", text, err->msg);
  return o;
}

static char *
path_in_tmp (const char *name)
{
  return xasprintf ("%s/%s", tmpdir, name);
}

static void
write_text (const char *path, const char *text)
{
  cleanup_error struct error *err = NULL;

  if (fs_write_atomic (path, text, strlen (text), 0644, &err) < 0)
    fail_msg ("write %s: %s", path, err->msg);
}

/* ---- keys ------------------------------------------------------------------------ */

static void
assert_key (const char *registry, const char *want)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *key = auth_file_key (registry, &err);

  if (key == NULL)
    fail_msg ("%s: %s", registry, err->msg);
  assert_string_equal (key, want);
}

static void
test_key_host (void **state)
{
  (void) state;
  assert_key ("127.0.0.1:5000", "127.0.0.1:5000");
  assert_key ("quay.io/", "quay.io");
  assert_key ("https://quay.io", "quay.io");
}

static void
test_key_hub (void **state)
{
  (void) state;
  assert_key ("docker.io", "docker.io");
  assert_key ("index.docker.io", "docker.io");
  assert_key ("https://index.docker.io/v1/", "docker.io");
  assert_key ("registry-1.docker.io", "docker.io");
}

static void
test_key_namespace (void **state)
{
  (void) state;
  assert_key ("quay.io/team/app", "quay.io/team/app");
  assert_key ("quay.io/team//", "quay.io/team");
}

static void
test_key_invalid (void **state)
{
  const char *bad[] = { "", "https://", "bad host", "quay.io/UPPER", "quay.io/a//b", "-x-/y" };

  (void) state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_error struct error *err = NULL;
      char *key = auth_file_key (bad[i], &err);
      if (key)
        fail_msg ("\"%s\" accepted as \"%s\"", bad[i], key);
      assert_contains (err->msg, "invalid registry");
    }
}

/* ---- the JSON -------------------------------------------------------------------- */

static void
test_parse_empty_is_empty_object (void **state)
{
  cleanup_json json_object *o = parse_ok ("");

  (void) state;
  assert_int_equal (json_object_object_length (o), 0);
}

static void
test_parse_malformed (void **state)
{
  const char *bad[] = { "{", "[]", "{\"auths\": []}", "{\"credHelpers\": \"x\"}", "null" };

  (void) state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_error struct error *err = NULL;
      json_object *o = auth_file_parse (bad[i], strlen (bad[i]), "bad.json", &err);
      if (o)
        fail_msg ("\"%s\" accepted", bad[i]);
      assert_contains (err->msg, "bad.json");
    }
}

static void
test_set_keeps_other_entries (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_ok (
      "{\"auths\":{\"quay.io\":{\"auth\":\"eDp5\"}},\"HttpHeaders\":{\"A\":\"b\"}}");
  json_object *auths, *entry;

  (void) state;
  assert_int_equal (auth_file_set (o, "127.0.0.1:5000", "alice", "s3cret", &err), 0);
  auths = jobj_get_object (o, "auths");
  assert_string_equal (jobj_get_string (jobj_get_object (auths, "quay.io"), "auth"), "eDp5");
  entry = jobj_get_object (auths, "127.0.0.1:5000");
  assert_string_equal (jobj_get_string (entry, "auth"), "YWxpY2U6czNjcmV0");
  assert_non_null (jobj_get_object (o, "HttpHeaders"));
}

static void
test_set_replaces_entry (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = parse_ok (
      "{\"auths\":{\"r\":{\"auth\":\"old\",\"identitytoken\":\"t\"}}}");
  json_object *entry;

  (void) state;
  assert_int_equal (auth_file_set (o, "r", "bob", "hunter2", &err), 0);
  entry = jobj_get_object (jobj_get_object (o, "auths"), "r");
  assert_string_equal (jobj_get_string (entry, "auth"), "Ym9iOmh1bnRlcjI=");
  assert_null (jobj_get_string (entry, "identitytoken"));
}

static void
test_set_base64_padding (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = json_object_new_object ();

  (void) state;
  assert_int_equal (auth_file_set (o, "r", "a", "bc", &err), 0); /* "a:bc" */
  assert_string_equal (jobj_get_string (jobj_get_object (jobj_get_object (o, "auths"), "r"),
                                        "auth"),
                       "YTpiYw==");
}

static void
test_set_user_with_colon_refused (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_json json_object *o = json_object_new_object ();

  (void) state;
  assert_true (auth_file_set (o, "r", "a:b", "c", &err) < 0);
  assert_contains (err->msg, "without ':'");
  assert_true (auth_file_set (o, "r", "", "c", &err) < 0);
}

static void
test_remove (void **state)
{
  cleanup_json json_object *o = parse_ok ("{\"auths\":{\"a\":{},\"b\":{}}}");

  (void) state;
  assert_int_equal (auth_file_remove (o, "a"), 1);
  assert_int_equal (auth_file_remove (o, "a"), 0);
  assert_int_equal (json_object_object_length (jobj_get_object (o, "auths")), 1);
  auth_file_remove_all (o);
  assert_int_equal (json_object_object_length (jobj_get_object (o, "auths")), 0);
}

static void
test_remove_without_auths (void **state)
{
  cleanup_json json_object *o = parse_ok ("{\"credsStore\":\"x\"}");

  (void) state;
  assert_int_equal (auth_file_remove (o, "a"), 0);
}

static void
test_helper_for (void **state)
{
  cleanup_json json_object *o = parse_ok (
      "{\"credHelpers\":{\"quay.io\":\"quayhelper\",\"bad.io\":\"../evil\"},"
      "\"credsStore\":\"desktop\"}");

  (void) state;
  assert_string_equal (auth_file_helper_for (o, "quay.io", true), "quayhelper");
  assert_string_equal (auth_file_helper_for (o, "quay.io/ns/app", true), "quayhelper");
  assert_null (auth_file_helper_for (o, "other.io", true));
  assert_string_equal (auth_file_helper_for (o, "other.io", false), "desktop");
  /* A helper name that is a path is no helper. */
  assert_string_equal (auth_file_helper_for (o, "bad.io", false), "desktop");
}

static void
test_helper_reply (void **state)
{
  cleanup_error struct error *err = NULL;
  struct registry_creds c = { 0 };
  const char *ok = "{\"ServerURL\":\"r\",\"Username\":\"u\",\"Secret\":\"p w\"}";

  (void) state;
  assert_int_equal (auth_file_parse_helper_reply (ok, strlen (ok), &c, &err), 1);
  assert_string_equal (c.username, "u");
  assert_string_equal (c.password, "p w");
  registry_creds_clear (&c);
}

static void
test_helper_reply_identity_token (void **state)
{
  cleanup_error struct error *err = NULL;
  struct registry_creds c = { 0 };
  const char *tok = "{\"Username\":\"<token>\",\"Secret\":\"refresh\"}";

  (void) state;
  assert_int_equal (auth_file_parse_helper_reply (tok, strlen (tok), &c, &err), 0);
  assert_null (c.username);
}

static void
test_helper_reply_malformed (void **state)
{
  const char *bad[] = { "", "not json", "[]", "{\"Username\":\"u\"}", "{\"Username\":1,\"Secret\":\"s\"}" };

  (void) state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_error struct error *err = NULL;
      struct registry_creds c = { 0 };
      if (auth_file_parse_helper_reply (bad[i], strlen (bad[i]), &c, &err) >= 0)
        fail_msg ("\"%s\" accepted", bad[i]);
      assert_null (c.username);
    }
}

/* ---- the files ------------------------------------------------------------------- */

static void
test_store_creates_file_0600 (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = path_in_tmp ("new/sub/auth.json");
  cleanup_free char *dir = path_in_tmp ("new/sub");
  struct registry_creds c = { .username = (char *) "alice", .password = (char *) "s3cret" };
  struct registry_creds back = { 0 };
  struct stat st;

  (void) state;
  assert_int_equal (auth_file_store (path, "127.0.0.1:5000", &c, &err), 0);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  assert_int_equal (stat (dir, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0700);
  /* What we wrote, the reader finds. */
  assert_int_equal (registry_auth_lookup (path, "127.0.0.1:5000", NULL, &back, &err), 1);
  assert_string_equal (back.username, "alice");
  assert_string_equal (back.password, "s3cret");
  registry_creds_clear (&back);
}

static void
test_store_keeps_unknown_keys_and_tightens_mode (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = path_in_tmp ("merge.json");
  cleanup_free char *data = NULL;
  cleanup_json json_object *o = NULL;
  struct registry_creds c = { .username = (char *) "bob", .password = (char *) "pw" };
  struct stat st;

  (void) state;
  write_text (path, "{\"auths\":{\"quay.io\":{\"auth\":\"eDp5\"}},\"future\":[1,2]}");
  assert_int_equal (auth_file_store (path, "r.example", &c, &err), 0);
  assert_int_equal (stat (path, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  o = jobj_parse_file (path, 0, &err);
  assert_non_null (o);
  assert_non_null (jobj_get_array (o, "future"));
  assert_non_null (jobj_get_object (jobj_get_object (o, "auths"), "quay.io"));
  assert_non_null (jobj_get_object (jobj_get_object (o, "auths"), "r.example"));
}

static void
test_store_malformed_file_untouched (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = path_in_tmp ("broken.json");
  cleanup_free char *data = NULL;
  struct registry_creds c = { .username = (char *) "u", .password = (char *) "p" };

  (void) state;
  write_text (path, "{\"auths\": [");
  assert_true (auth_file_store (path, "r", &c, &err) < 0);
  assert_contains (err->msg, "broken.json");
  data = fs_read_file (path, 0, NULL, NULL);
  assert_string_equal (data, "{\"auths\": [");
}

static void
test_erase (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = path_in_tmp ("erase.json");
  cleanup_json json_object *o = NULL;

  (void) state;
  write_text (path, "{\"auths\":{\"a\":{\"auth\":\"eDp5\"},\"b\":{\"auth\":\"eDp5\"}}}");
  assert_int_equal (auth_file_erase (path, "a", &err), 1);
  assert_int_equal (auth_file_erase (path, "a", &err), 0);
  o = jobj_parse_file (path, 0, &err);
  assert_non_null (jobj_get_object (jobj_get_object (o, "auths"), "b"));
}

static void
test_erase_missing_file (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = path_in_tmp ("nothing-here.json");

  (void) state;
  assert_int_equal (auth_file_erase (path, "a", &err), 0);
  assert_int_equal (auth_file_erase_all (path, &err), 0);
  assert_false (fs_exists (path));
}

static void
test_erase_all (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = path_in_tmp ("all.json");
  cleanup_json json_object *o = NULL;

  (void) state;
  write_text (path, "{\"auths\":{\"a\":{},\"b\":{}},\"credsStore\":\"x\"}");
  assert_int_equal (auth_file_erase_all (path, &err), 0);
  o = jobj_parse_file (path, 0, &err);
  assert_int_equal (json_object_object_length (jobj_get_object (o, "auths")), 0);
  assert_string_equal (jobj_get_string (o, "credsStore"), "x");
}

/* ---- credential helpers ------------------------------------------------------------ */

/* docker-credential-unittest in TMPDIR/bin: logs its argv and stdin, keeps
 * one entry, answers "credentials not found" otherwise. */
static const char helper_script[] =
  "#!/bin/sh\n"
  "dir=$(dirname \"$0\")/..\n"
  "echo \"$0 $*\" >>\"$dir/argv.log\"\n"
  "input=$(cat)\n"
  "printf '%s\\n' \"$input\" >>\"$dir/stdin.log\"\n"
  "case $1 in\n"
  "get) if [ -f \"$dir/stored\" ]; then cat \"$dir/stored\"; else\n"
  "  echo 'credentials not found in native keychain'; exit 1; fi ;;\n"
  "store) printf '%s' \"$input\" >\"$dir/stored\" ;;\n"
  "erase) if [ -f \"$dir/stored\" ]; then rm \"$dir/stored\"; else\n"
  "  echo 'credentials not found in native keychain'; exit 1; fi ;;\n"
  "*) echo 'unknown action' >&2; exit 3 ;;\n"
  "esac\n";

static int
setup_helper (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *bin = path_in_tmp ("bin");
  cleanup_free char *script = path_in_tmp ("bin/docker-credential-unittest");
  cleanup_free char *path = NULL;

  (void) state;
  if (fs_mkdir_p (bin, 0755, &err) < 0
      || fs_write_atomic (script, helper_script, strlen (helper_script), 0755, &err) < 0)
    fail_msg ("%s", err->msg);
  path = xasprintf ("%s:%s", bin, getenv ("PATH") ? getenv ("PATH") : "/usr/bin:/bin");
  setenv ("PATH", path, 1);
  return 0;
}

static void
test_helper_store_get_erase (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *argv_log = path_in_tmp ("argv.log");
  cleanup_free char *stdin_log = path_in_tmp ("stdin.log");
  cleanup_free char *argv_text = NULL, *stdin_text = NULL;
  struct registry_creds c = { .username = (char *) "alice", .password = (char *) "very-secret" };
  struct registry_creds back = { 0 };

  (void) state;
  assert_int_equal (auth_file_helper_get ("unittest", "r.example", &back, &err), 0);
  assert_int_equal (auth_file_helper_store ("unittest", "r.example", &c, &err), 0);
  assert_int_equal (auth_file_helper_get ("unittest", "r.example", &back, &err), 1);
  assert_string_equal (back.username, "alice");
  assert_string_equal (back.password, "very-secret");
  registry_creds_clear (&back);
  assert_int_equal (auth_file_helper_erase ("unittest", "r.example", &err), 1);
  assert_int_equal (auth_file_helper_erase ("unittest", "r.example", &err), 0);
  /* The secret went over stdin, never into an argv. */
  argv_text = fs_read_file (argv_log, 0, NULL, &err);
  stdin_text = fs_read_file (stdin_log, 0, NULL, &err);
  assert_non_null (argv_text);
  assert_null (strstr (argv_text, "very-secret"));
  assert_contains (argv_text, "docker-credential-unittest store");
  assert_contains (stdin_text, "\"Secret\":\"very-secret\"");
  assert_contains (stdin_text, "r.example");
}

static void
test_helper_missing (void **state)
{
  cleanup_error struct error *err = NULL;
  struct registry_creds back = { 0 };

  (void) state;
  assert_true (auth_file_helper_get ("nosuchhelper", "r", &back, &err) < 0);
  assert_contains (err->msg, "docker-credential-nosuchhelper\" not found");
}

static void
test_helper_invalid_name (void **state)
{
  cleanup_error struct error *err = NULL;

  (void) state;
  assert_true (auth_file_helper_erase ("../../bin/sh", "r", &err) < 0);
  assert_contains (err->msg, "invalid credential helper name");
}

static void
test_store_through_cred_helpers (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = path_in_tmp ("helpers.json");
  cleanup_free char *data = NULL;
  struct registry_creds c = { .username = (char *) "carol", .password = (char *) "pw2" };
  struct registry_creds back = { 0 };
  const char *text = "{\"credHelpers\":{\"h.example\":\"unittest\"}}";

  (void) state;
  write_text (path, text);
  assert_int_equal (auth_file_store (path, "h.example", &c, &err), 0);
  /* The file is not touched: the helper holds the secret. */
  data = fs_read_file (path, 0, NULL, &err);
  assert_string_equal (data, text);
  assert_int_equal (registry_auth_lookup (path, "h.example", NULL, &back, &err), 1);
  assert_string_equal (back.username, "carol");
  registry_creds_clear (&back);
  assert_int_equal (auth_file_erase (path, "h.example", &err), 1);
  assert_int_equal (registry_auth_lookup (path, "h.example", NULL, &back, &err), 0);
}

static int
setup_tmpdir (void **state)
{
  char tmpl[] = "/tmp/test-auth-file.XXXXXX";

  (void) state;
  if (mkdtemp (tmpl) == NULL)
    return -1;
  tmpdir = xstrdup (tmpl);
  return setup_helper (state);
}

static int
teardown_tmpdir (void **state)
{
  (void) state;
  fs_remove_tree (tmpdir, NULL);
  free (tmpdir);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_key_host),
    cmocka_unit_test (test_key_hub),
    cmocka_unit_test (test_key_namespace),
    cmocka_unit_test (test_key_invalid),
    cmocka_unit_test (test_parse_empty_is_empty_object),
    cmocka_unit_test (test_parse_malformed),
    cmocka_unit_test (test_set_keeps_other_entries),
    cmocka_unit_test (test_set_replaces_entry),
    cmocka_unit_test (test_set_base64_padding),
    cmocka_unit_test (test_set_user_with_colon_refused),
    cmocka_unit_test (test_remove),
    cmocka_unit_test (test_remove_without_auths),
    cmocka_unit_test (test_helper_for),
    cmocka_unit_test (test_helper_reply),
    cmocka_unit_test (test_helper_reply_identity_token),
    cmocka_unit_test (test_helper_reply_malformed),
    cmocka_unit_test (test_store_creates_file_0600),
    cmocka_unit_test (test_store_keeps_unknown_keys_and_tightens_mode),
    cmocka_unit_test (test_store_malformed_file_untouched),
    cmocka_unit_test (test_erase),
    cmocka_unit_test (test_erase_missing_file),
    cmocka_unit_test (test_erase_all),
    cmocka_unit_test (test_helper_store_get_erase),
    cmocka_unit_test (test_helper_missing),
    cmocka_unit_test (test_helper_invalid_name),
    cmocka_unit_test (test_store_through_cred_helpers),
  };

  return cmocka_run_group_tests (tests, setup_tmpdir, teardown_tmpdir);
}
