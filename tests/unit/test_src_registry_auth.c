/* Unit tests for src/registry_auth.c: WWW-Authenticate parsing, the token
 * request URL and reply, --creds parsing, and credentials from auth files
 * (podman's and docker's formats, lookup order, malformed files). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "src/registry_auth.h"

/* base64 ("alice:s3cret") and friends */
#define B64_ALICE "YWxpY2U6czNjcmV0"       /* alice:s3cret */
#define B64_BOB "Ym9iOmh1bnRlcjI="         /* bob:hunter2 */
#define B64_CAROL "Y2Fyb2w6cDpxOnI="       /* carol:p:q:r */
#define B64_NOCOLON "bm9jb2xvbg=="         /* nocolon */
#define B64_EMBEDDED_NUL "YQBiOmM="        /* a\0b:c */

static void
assert_contains (const char *s, const char *want)
{
  if (s == NULL || strstr (s, want) == NULL)
    fail_msg ("\"%s\" lacks \"%s\"", s ? s : "(null)", want);
}

/* ---- WWW-Authenticate -------------------------------------------------- */

static int
parse_ok (const char *header, struct registry_challenge *c)
{
  cleanup_error struct error *err = NULL;
  int r = registry_auth_parse_challenge (header, c, &err);

  if (r < 0)
    fail_msg ("\"%s\": %s", header, err->msg);
  return r;
}

static void
assert_challenge_fails (const char *header, const char *want)
{
  cleanup_error struct error *err = NULL;
  struct registry_challenge c = { 0 };

  assert_true (registry_auth_parse_challenge (header, &c, &err) < 0);
  assert_non_null (err);
  if (want)
    assert_contains (err->msg, want);
  assert_int_equal (c.scheme, REGISTRY_AUTH_NONE);
  assert_null (c.realm);
}

static void
test_challenge_bearer (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"", &c);
  assert_int_equal (c.scheme, REGISTRY_AUTH_BEARER);
  assert_string_equal (c.realm, "https://auth.docker.io/token");
  assert_string_equal (c.service, "registry.docker.io");
  assert_null (c.scope);
  registry_challenge_clear (&c);
  assert_null (c.realm);
}

static void
test_challenge_scope_with_commas_inside_quotes (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("Bearer realm=\"https://r/t\",service=\"s\",scope=\"repository:a/b:pull,push\"", &c);
  assert_string_equal (c.scope, "repository:a/b:pull,push");
  assert_string_equal (c.service, "s");
  registry_challenge_clear (&c);
}

static void
test_challenge_quoted_escapes (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("Bearer realm=\"https://r/t\",service=\"a\\\"b\\\\c\"", &c);
  assert_string_equal (c.service, "a\"b\\c");
  registry_challenge_clear (&c);
}

static void
test_challenge_case_insensitive_names (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("BEARER Realm=\"https://r/t\",SERVICE=\"s\"", &c);
  assert_int_equal (c.scheme, REGISTRY_AUTH_BEARER);
  assert_string_equal (c.realm, "https://r/t");
  assert_string_equal (c.service, "s");
  registry_challenge_clear (&c);
}

static void
test_challenge_unquoted_values_and_spaces (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("Bearer  realm = https://r:5000/token , service=svc", &c);
  assert_string_equal (c.realm, "https://r:5000/token");
  assert_string_equal (c.service, "svc");
  registry_challenge_clear (&c);
}

static void
test_challenge_unknown_params_ignored (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("Bearer realm=\"https://r/t\",error=\"insufficient_scope\",scope=\"repository:x:pull\"",
            &c);
  assert_string_equal (c.scope, "repository:x:pull");
  assert_null (c.service);
  registry_challenge_clear (&c);
}

static void
test_challenge_duplicate_param_last_wins (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("Bearer realm=\"https://a/t\",realm=\"https://b/t\"", &c);
  assert_string_equal (c.realm, "https://b/t");
  registry_challenge_clear (&c);
}

static void
test_challenge_basic (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("Basic realm=\"Registry Realm\"", &c);
  assert_int_equal (c.scheme, REGISTRY_AUTH_BASIC);
  assert_string_equal (c.realm, "Registry Realm");
  registry_challenge_clear (&c);
}

static void
test_challenge_basic_without_params (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("Basic", &c);
  assert_int_equal (c.scheme, REGISTRY_AUTH_BASIC);
  assert_null (c.realm);
  registry_challenge_clear (&c);
}

static void
test_challenge_multiple_prefers_bearer (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("Basic realm=\"x\", Bearer realm=\"https://r/t\",service=\"s\"", &c);
  assert_int_equal (c.scheme, REGISTRY_AUTH_BEARER);
  assert_string_equal (c.realm, "https://r/t");
  registry_challenge_clear (&c);
  parse_ok ("Bearer realm=\"https://r/t\", Basic realm=\"x\"", &c);
  assert_int_equal (c.scheme, REGISTRY_AUTH_BEARER);
  assert_string_equal (c.realm, "https://r/t");
  registry_challenge_clear (&c);
}

static void
test_challenge_other_schemes_skipped (void **state)
{
  struct registry_challenge c = { 0 };

  parse_ok ("Negotiate abc123==, NTLM, Basic realm=\"r\"", &c);
  assert_int_equal (c.scheme, REGISTRY_AUTH_BASIC);
  assert_string_equal (c.realm, "r");
  registry_challenge_clear (&c);
}

static void
test_challenge_only_unknown_schemes_fails (void **state)
{
  assert_challenge_fails ("Negotiate, NTLM", "neither Bearer nor Basic");
  assert_challenge_fails ("Digest realm=\"x\",nonce=\"y\"", "neither Bearer nor Basic");
}

static void
test_challenge_empty_fails (void **state)
{
  assert_challenge_fails ("", "neither Bearer nor Basic");
  assert_challenge_fails (NULL, "neither Bearer nor Basic");
  assert_challenge_fails (" , ", "neither Bearer nor Basic");
}

static void
test_challenge_garbage_fails (void **state)
{
  assert_challenge_fails ("\"", "malformed");
  assert_challenge_fails ("=foo", "malformed");
  assert_challenge_fails ("Bearer realm=\"https://r/t", "malformed");
  /* "realm=" reads as a token68, leaving Bearer without a realm. */
  assert_challenge_fails ("Bearer realm=", "realm");
  assert_challenge_fails ("Bearer realm=\"https://r/t\" service=\"s\"", "malformed");
  assert_challenge_fails ("Bearer realm=\"https://r/t\";x", "malformed");
  assert_challenge_fails ("Bearer=x", "malformed");
  assert_challenge_fails ("Be\x01rer realm=\"https://r/t\"", "malformed");
}

static void
test_challenge_bearer_needs_http_realm (void **state)
{
  assert_challenge_fails ("Bearer service=\"s\"", "realm");
  assert_challenge_fails ("Bearer realm=\"ftp://r/t\"", "realm");
  assert_challenge_fails ("Bearer realm=\"https://\"", "realm");
  assert_challenge_fails ("Bearer realm=\"/token\"", "realm");
}

/* ---- token URL and reply ----------------------------------------------- */

static void
test_token_url_escapes_parameters (void **state)
{
  const char *scopes[] = { "repository:library/busybox:pull", "repository:a b:pull,push", NULL };
  cleanup_free char *url = registry_auth_token_url ("https://auth.io/token", "reg.io", scopes);

  assert_string_equal (url, "https://auth.io/token?service=reg.io"
                            "&scope=repository%3Alibrary%2Fbusybox%3Apull"
                            "&scope=repository%3Aa%20b%3Apull%2Cpush");
}

static void
test_token_url_appends_to_existing_query (void **state)
{
  const char *scopes[] = { "x", NULL };
  cleanup_free char *url = registry_auth_token_url ("https://a/t?x=1", NULL, scopes);

  assert_string_equal (url, "https://a/t?x=1&scope=x");
}

static void
test_token_url_without_parameters (void **state)
{
  cleanup_free char *url = registry_auth_token_url ("https://a/t", "", NULL);

  assert_string_equal (url, "https://a/t");
}

static int
token_from (const char *json, char **token, int64_t *exp, struct error **err)
{
  return registry_auth_parse_token (json, strlen (json), token, exp, err);
}

static void
test_token_reply_token_field (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *t = NULL;
  int64_t exp = 0;

  assert_int_equal (token_from ("{\"token\":\"abc.def\",\"expires_in\":300}", &t, &exp, &err), 0);
  assert_string_equal (t, "abc.def");
  assert_int_equal (exp, 300);
}

static void
test_token_reply_access_token_and_default_expiry (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *t = NULL;
  int64_t exp = 0;

  assert_int_equal (token_from ("{\"access_token\":\"xyz\"}", &t, &exp, &err), 0);
  assert_string_equal (t, "xyz");
  assert_int_equal (exp, 60);
}

static void
test_token_reply_token_wins_over_access_token (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *t = NULL;
  int64_t exp = 0;

  assert_int_equal (token_from ("{\"access_token\":\"b\",\"token\":\"a\"}", &t, &exp, &err), 0);
  assert_string_equal (t, "a");
}

static void
test_token_reply_empty_token_falls_back (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *t = NULL;
  int64_t exp = 0;

  assert_int_equal (token_from ("{\"token\":\"\",\"access_token\":\"b\"}", &t, &exp, &err), 0);
  assert_string_equal (t, "b");
}

static void
test_token_reply_short_or_mistyped_expiry (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *t = NULL;
  cleanup_free char *t2 = NULL;
  int64_t exp = 0;

  assert_int_equal (token_from ("{\"token\":\"a\",\"expires_in\":5}", &t, &exp, &err), 0);
  assert_int_equal (exp, 60);
  assert_int_equal (token_from ("{\"token\":\"a\",\"expires_in\":\"900\"}", &t2, &exp, &err), 0);
  assert_int_equal (exp, 60);
}

static void
assert_token_fails (const char *json, const char *want)
{
  cleanup_error struct error *err = NULL;
  char *t = NULL;
  int64_t exp = 0;

  assert_true (token_from (json, &t, &exp, &err) < 0);
  assert_null (t);
  assert_contains (err->msg, want);
}

static void
test_token_reply_malformed (void **state)
{
  assert_token_fails ("{\"expires_in\":300}", "no \"token\"");
  assert_token_fails ("{\"token\":42}", "no \"token\"");
  assert_token_fails ("[\"token\"]", "not a JSON object");
  assert_token_fails ("{\"token\":\"a\"", "token reply");
  assert_token_fails ("<html>", "token reply");
}

static void
test_token_reply_rejects_header_injection (void **state)
{
  assert_token_fails ("{\"token\":\"a\\r\\nX-Evil: 1\"}", "invalid characters");
  assert_token_fails ("{\"token\":\"a b\"}", "invalid characters");
  assert_token_fails ("{\"token\":\"\"}", "no \"token\"");
}

/* ---- --creds ----------------------------------------------------------- */

static void
test_creds_split_at_first_colon (void **state)
{
  cleanup_error struct error *err = NULL;
  struct registry_creds c = { 0 };

  assert_int_equal (registry_creds_parse ("user:pa:ss", &c, &err), 0);
  assert_string_equal (c.username, "user");
  assert_string_equal (c.password, "pa:ss");
  registry_creds_clear (&c);
  assert_null (c.username);
  assert_int_equal (registry_creds_parse ("user:", &c, &err), 0);
  assert_string_equal (c.password, "");
  registry_creds_clear (&c);
}

static void
test_creds_malformed (void **state)
{
  cleanup_error struct error *err = NULL;
  struct registry_creds c = { 0 };

  assert_true (registry_creds_parse ("nocolon", &c, &err) < 0);
  assert_contains (err->msg, "user:password");
  assert_true (registry_creds_parse (":pw", &c, &err) < 0);
  assert_contains (err->msg, "empty user name");
  assert_null (c.username);
}

/* ---- auth file contents ------------------------------------------------ */

static int
find (const char *json, bool legacy, const char *reg, const char *repo,
      struct registry_creds *out, struct error **err)
{
  return registry_auth_find_in_json (json, strlen (json), "auth file \"t.json\"", legacy, reg,
                                     repo, out, err);
}

static void
assert_found (const char *json, bool legacy, const char *reg, const char *repo,
              const char *user, const char *pass)
{
  cleanup_error struct error *err = NULL;
  struct registry_creds c = { 0 };
  int r = find (json, legacy, reg, repo, &c, &err);

  if (r < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (r, 1);
  assert_string_equal (c.username, user);
  assert_string_equal (c.password, pass);
  registry_creds_clear (&c);
}

static void
assert_not_found (const char *json, const char *reg, const char *repo)
{
  cleanup_error struct error *err = NULL;
  struct registry_creds c = { 0 };

  assert_int_equal (find (json, false, reg, repo, &c, &err), 0);
  assert_null (err);
  assert_null (c.username);
}

static void
assert_file_fails (const char *json, const char *want)
{
  cleanup_error struct error *err = NULL;
  struct registry_creds c = { 0 };

  assert_true (find (json, false, "reg.io", "ns/repo", &c, &err) < 0);
  assert_null (c.username);
  assert_contains (err->msg, want);
  /* Never a secret in a message. */
  assert_null (strstr (err->msg, "s3cret"));
}

static void
test_file_registry_entry (void **state)
{
  assert_found ("{\"auths\":{\"reg.io\":{\"auth\":\"" B64_ALICE "\"}}}", false, "reg.io",
                "ns/repo", "alice", "s3cret");
}

static void
test_file_password_with_colons (void **state)
{
  assert_found ("{\"auths\":{\"reg.io\":{\"auth\":\"" B64_CAROL "\"}}}", false, "reg.io", NULL,
                "carol", "p:q:r");
}

static void
test_file_docker_hub_url_key (void **state)
{
  assert_found ("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" B64_ALICE "\"}}}",
                false, "docker.io", "library/busybox", "alice", "s3cret");
  assert_found ("{\"auths\":{\"registry-1.docker.io\":{\"auth\":\"" B64_ALICE "\"}}}", false,
                "docker.io", "library/busybox", "alice", "s3cret");
  assert_found ("{\"auths\":{\"docker.io\":{\"auth\":\"" B64_ALICE "\"}}}", false, "docker.io",
                "library/busybox", "alice", "s3cret");
}

static void
test_file_url_key_with_port (void **state)
{
  assert_found ("{\"auths\":{\"http://127.0.0.1:5000/v2/\":{\"auth\":\"" B64_ALICE "\"}}}",
                false, "127.0.0.1:5000", "a/b", "alice", "s3cret");
}

static void
test_file_most_specific_key_wins (void **state)
{
  const char *json = "{\"auths\":{\"reg.io\":{\"auth\":\"" B64_ALICE "\"},"
                     "\"reg.io/ns/repo\":{\"auth\":\"" B64_BOB "\"},"
                     "\"reg.io/team\":{\"auth\":\"" B64_CAROL "\"}}}";

  assert_found (json, false, "reg.io", "ns/repo", "bob", "hunter2");
  assert_found (json, false, "reg.io", "ns/other", "alice", "s3cret");
  assert_found (json, false, "reg.io", "team/app", "carol", "p:q:r");
  assert_found (json, false, "reg.io", "teamx/app", "alice", "s3cret");
}

static void
test_file_entry_without_auth_falls_through (void **state)
{
  assert_found ("{\"auths\":{\"reg.io/ns/repo\":{},\"reg.io\":{\"auth\":\"" B64_ALICE "\"}}}",
                false, "reg.io", "ns/repo", "alice", "s3cret");
  assert_not_found ("{\"auths\":{\"reg.io\":{\"auth\":\"\"}}}", "reg.io", "ns/repo");
}

static void
test_file_no_match (void **state)
{
  assert_not_found ("{\"auths\":{\"reg.io.evil\":{\"auth\":\"" B64_ALICE "\"}}}", "reg.io", "a");
  assert_not_found ("{\"auths\":{\"other.io\":{\"auth\":\"" B64_ALICE "\"}}}", "reg.io", "a");
  assert_not_found ("{\"auths\":{}}", "reg.io", "a");
  assert_not_found ("{\"credsStore\":\"desktop\"}", "reg.io", "a");
}

static void
test_file_legacy_format (void **state)
{
  assert_found ("{\"https://index.docker.io/v1/\":{\"auth\":\"" B64_ALICE "\",\"email\":\"a@b\"}}",
                true, "docker.io", "library/busybox", "alice", "s3cret");
}

static void
test_file_unpadded_base64 (void **state)
{
  assert_found ("{\"auths\":{\"reg.io\":{\"auth\":\"Ym9iOmh1bnRlcjI\"}}}", false, "reg.io", NULL,
                "bob", "hunter2");
}

static void
test_file_malformed_json (void **state)
{
  assert_file_fails ("{\"auths\":{", "t.json");
  assert_file_fails ("[]", "not a JSON object");
  assert_file_fails ("{\"auths\":[]}", "\"auths\" is not an object");
  assert_file_fails ("{\"auths\":{\"reg.io\":\"" B64_ALICE "\"}}", "is not an object");
  assert_file_fails ("{\"auths\":{\"reg.io\":{\"auth\":42}}}", "not a string");
}

static void
test_file_malformed_base64 (void **state)
{
  assert_file_fails ("{\"auths\":{\"reg.io\":{\"auth\":\"!!!!\"}}}", "not valid base64");
  assert_file_fails ("{\"auths\":{\"reg.io\":{\"auth\":\"YWxpY2U6czNjcmV0=====\"}}}",
                     "not valid base64");
  assert_file_fails ("{\"auths\":{\"reg.io\":{\"auth\":\"Y\"}}}", "not valid base64");
  assert_file_fails ("{\"auths\":{\"reg.io\":{\"auth\":\"YW=xp\"}}}", "not valid base64");
  assert_file_fails ("{\"auths\":{\"reg.io\":{\"auth\":\"" B64_EMBEDDED_NUL "\"}}}",
                     "not valid base64");
}

static void
test_file_decoded_without_colon (void **state)
{
  assert_file_fails ("{\"auths\":{\"reg.io\":{\"auth\":\"" B64_NOCOLON "\"}}}", "user:password");
}

/* ---- lookup across files ----------------------------------------------- */

struct home
{
  char *dir;
};

static void
write_file (const char *dir, const char *rel, const char *content)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = xasprintf ("%s/%s", dir, rel);
  cleanup_free char *parent = xstrdup (path);

  *strrchr (parent, '/') = '\0';
  if (fs_mkdir_p (parent, 0700, &err) < 0
      || fs_write_atomic (path, content, strlen (content), 0600, &err) < 0)
    fail_msg ("%s", err->msg);
}

static int
setup_home (void **state)
{
  const char *tmp = getenv ("TMPDIR");
  struct home *h = xmalloc0 (sizeof *h);

  h->dir = xasprintf ("%s/test_registry_auth.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null (mkdtemp (h->dir));
  setenv ("HOME", h->dir, 1);
  {
    cleanup_free char *run = xasprintf ("%s/run", h->dir);
    setenv ("XDG_RUNTIME_DIR", run, 1);
  }
  unsetenv ("XDG_CONFIG_HOME");
  unsetenv ("DOCKER_CONFIG");
  unsetenv ("REGISTRY_AUTH_FILE");
  *state = h;
  return 0;
}

static int
teardown_home (void **state)
{
  struct home *h = *state;
  cleanup_error struct error *err = NULL;

  fs_remove_tree (h->dir, &err);
  free (h->dir);
  free (h);
  return 0;
}

static const char *
user_for (const char *authfile, const char *reg)
{
  static char user[64];
  cleanup_error struct error *err = NULL;
  struct registry_creds c = { 0 };
  int r = registry_auth_lookup (authfile, reg, "ns/repo", &c, &err);

  if (r < 0)
    fail_msg ("%s", err->msg);
  if (r == 0)
    return "(none)";
  snprintf (user, sizeof user, "%s", c.username);
  registry_creds_clear (&c);
  return user;
}

#define ENTRY(host, b64) "{\"auths\":{\"" host "\":{\"auth\":\"" b64 "\"}}}"

static void
test_lookup_nothing (void **state)
{
  assert_string_equal (user_for (NULL, "reg.io"), "(none)");
}

static void
test_lookup_runtime_file_first (void **state)
{
  struct home *h = *state;

  write_file (h->dir, "run/containers/auth.json", ENTRY ("reg.io", B64_ALICE));
  write_file (h->dir, ".docker/config.json", ENTRY ("reg.io", B64_BOB));
  assert_string_equal (user_for (NULL, "reg.io"), "alice");
}

static void
test_lookup_falls_back_to_docker_config (void **state)
{
  struct home *h = *state;

  write_file (h->dir, "run/containers/auth.json", ENTRY ("other.io", B64_ALICE));
  write_file (h->dir, ".docker/config.json", ENTRY ("https://reg.io", B64_BOB));
  assert_string_equal (user_for (NULL, "reg.io"), "bob");
}

static void
test_lookup_config_home (void **state)
{
  struct home *h = *state;
  cleanup_free char *xdg = xasprintf ("%s/xdg", h->dir);

  write_file (h->dir, ".config/containers/auth.json", ENTRY ("reg.io", B64_BOB));
  assert_string_equal (user_for (NULL, "reg.io"), "bob");
  setenv ("XDG_CONFIG_HOME", xdg, 1);
  write_file (h->dir, "xdg/containers/auth.json", ENTRY ("reg.io", B64_CAROL));
  assert_string_equal (user_for (NULL, "reg.io"), "carol");
}

static void
test_lookup_docker_config_env (void **state)
{
  struct home *h = *state;
  cleanup_free char *dc = xasprintf ("%s/dc", h->dir);

  setenv ("DOCKER_CONFIG", dc, 1);
  write_file (h->dir, ".docker/config.json", ENTRY ("reg.io", B64_BOB));
  write_file (h->dir, "dc/config.json", ENTRY ("reg.io", B64_CAROL));
  assert_string_equal (user_for (NULL, "reg.io"), "carol");
}

static void
test_lookup_legacy_dockercfg (void **state)
{
  struct home *h = *state;

  write_file (h->dir, ".dockercfg",
              "{\"https://index.docker.io/v1/\":{\"auth\":\"" B64_BOB "\",\"email\":\"\"}}");
  assert_string_equal (user_for (NULL, "docker.io"), "bob");
}

static void
test_lookup_authfile_replaces_defaults (void **state)
{
  struct home *h = *state;
  cleanup_free char *af = xasprintf ("%s/mine.json", h->dir);

  write_file (h->dir, "run/containers/auth.json", ENTRY ("reg.io", B64_ALICE));
  write_file (h->dir, "mine.json", ENTRY ("other.io", B64_BOB));
  assert_string_equal (user_for (af, "reg.io"), "(none)");
  assert_string_equal (user_for (af, "other.io"), "bob");
}

static void
test_lookup_registry_auth_file_env (void **state)
{
  struct home *h = *state;
  cleanup_free char *af = xasprintf ("%s/env.json", h->dir);

  write_file (h->dir, "run/containers/auth.json", ENTRY ("reg.io", B64_ALICE));
  write_file (h->dir, "env.json", ENTRY ("reg.io", B64_CAROL));
  setenv ("REGISTRY_AUTH_FILE", af, 1);
  assert_string_equal (user_for (NULL, "reg.io"), "carol");
  unsetenv ("REGISTRY_AUTH_FILE");
}

static void
test_lookup_malformed_file_names_it (void **state)
{
  struct home *h = *state;
  cleanup_error struct error *err = NULL;
  struct registry_creds c = { 0 };

  write_file (h->dir, "run/containers/auth.json", "{not json");
  assert_true (registry_auth_lookup (NULL, "reg.io", NULL, &c, &err) < 0);
  assert_contains (err->msg, "run/containers/auth.json");
}

static void
test_lookup_missing_authfile_is_not_an_error (void **state)
{
  assert_string_equal (user_for ("/nonexistent/auth.json", "reg.io"), "(none)");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_challenge_bearer),
    cmocka_unit_test (test_challenge_scope_with_commas_inside_quotes),
    cmocka_unit_test (test_challenge_quoted_escapes),
    cmocka_unit_test (test_challenge_case_insensitive_names),
    cmocka_unit_test (test_challenge_unquoted_values_and_spaces),
    cmocka_unit_test (test_challenge_unknown_params_ignored),
    cmocka_unit_test (test_challenge_duplicate_param_last_wins),
    cmocka_unit_test (test_challenge_basic),
    cmocka_unit_test (test_challenge_basic_without_params),
    cmocka_unit_test (test_challenge_multiple_prefers_bearer),
    cmocka_unit_test (test_challenge_other_schemes_skipped),
    cmocka_unit_test (test_challenge_only_unknown_schemes_fails),
    cmocka_unit_test (test_challenge_empty_fails),
    cmocka_unit_test (test_challenge_garbage_fails),
    cmocka_unit_test (test_challenge_bearer_needs_http_realm),
    cmocka_unit_test (test_token_url_escapes_parameters),
    cmocka_unit_test (test_token_url_appends_to_existing_query),
    cmocka_unit_test (test_token_url_without_parameters),
    cmocka_unit_test (test_token_reply_token_field),
    cmocka_unit_test (test_token_reply_access_token_and_default_expiry),
    cmocka_unit_test (test_token_reply_token_wins_over_access_token),
    cmocka_unit_test (test_token_reply_empty_token_falls_back),
    cmocka_unit_test (test_token_reply_short_or_mistyped_expiry),
    cmocka_unit_test (test_token_reply_malformed),
    cmocka_unit_test (test_token_reply_rejects_header_injection),
    cmocka_unit_test (test_creds_split_at_first_colon),
    cmocka_unit_test (test_creds_malformed),
    cmocka_unit_test (test_file_registry_entry),
    cmocka_unit_test (test_file_password_with_colons),
    cmocka_unit_test (test_file_docker_hub_url_key),
    cmocka_unit_test (test_file_url_key_with_port),
    cmocka_unit_test (test_file_most_specific_key_wins),
    cmocka_unit_test (test_file_entry_without_auth_falls_through),
    cmocka_unit_test (test_file_no_match),
    cmocka_unit_test (test_file_legacy_format),
    cmocka_unit_test (test_file_unpadded_base64),
    cmocka_unit_test (test_file_malformed_json),
    cmocka_unit_test (test_file_malformed_base64),
    cmocka_unit_test (test_file_decoded_without_colon),
    cmocka_unit_test_setup_teardown (test_lookup_nothing, setup_home, teardown_home),
    cmocka_unit_test_setup_teardown (test_lookup_runtime_file_first, setup_home, teardown_home),
    cmocka_unit_test_setup_teardown (test_lookup_falls_back_to_docker_config, setup_home,
                                     teardown_home),
    cmocka_unit_test_setup_teardown (test_lookup_config_home, setup_home, teardown_home),
    cmocka_unit_test_setup_teardown (test_lookup_docker_config_env, setup_home, teardown_home),
    cmocka_unit_test_setup_teardown (test_lookup_legacy_dockercfg, setup_home, teardown_home),
    cmocka_unit_test_setup_teardown (test_lookup_authfile_replaces_defaults, setup_home,
                                     teardown_home),
    cmocka_unit_test_setup_teardown (test_lookup_registry_auth_file_env, setup_home,
                                     teardown_home),
    cmocka_unit_test_setup_teardown (test_lookup_malformed_file_names_it, setup_home,
                                     teardown_home),
    cmocka_unit_test_setup_teardown (test_lookup_missing_authfile_is_not_an_error, setup_home,
                                     teardown_home),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
