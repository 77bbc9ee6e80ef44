/* Unit tests for src/build_cache.c (the cache key and the index under a
 * store root) and src/build_config.c (what config instructions do to an
 * image config). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "src/build.h"
#include "src/build_cache.h"

#define PARENT "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define IMAGE "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define DIGEST "sha256:4444444444444444444444444444444444444444444444444444444444444444"

/* ---- the key ------------------------------------------------------------------ */

static char *
key_of (const char *parent, const char *instr, char *const *args, const char *digest)
{
  struct build_cache_step s
      = { .parent_id = parent, .instruction = instr, .build_args = args, .content_digest = digest };
  return build_cache_key (&s);
}

static void
test_key_is_a_digest_and_stable (void **state)
{
  cleanup_free char *a = key_of (PARENT, "RUN x", NULL, NULL);
  cleanup_free char *b = key_of (PARENT, "RUN x", NULL, NULL);

  (void)state;
  assert_true (str_has_prefix (a, "sha256:"));
  assert_int_equal (strlen (a), 71);
  assert_string_equal (a, b);
}

static void
test_key_depends_on_every_field (void **state)
{
  char *args1[] = { (char *)"A=1", NULL };
  char *args2[] = { (char *)"A=2", NULL };
  cleanup_free char *base = key_of (PARENT, "RUN x", args1, NULL);
  cleanup_free char *other_parent = key_of (IMAGE, "RUN x", args1, NULL);
  cleanup_free char *scratch = key_of (NULL, "RUN x", args1, NULL);
  cleanup_free char *other_instr = key_of (PARENT, "RUN y", args1, NULL);
  cleanup_free char *other_arg = key_of (PARENT, "RUN x", args2, NULL);
  cleanup_free char *no_arg = key_of (PARENT, "RUN x", NULL, NULL);
  cleanup_free char *content = key_of (PARENT, "RUN x", args1, DIGEST);

  (void)state;
  assert_string_not_equal (base, other_parent);
  assert_string_not_equal (base, scratch);
  assert_string_not_equal (base, other_instr);
  assert_string_not_equal (base, other_arg);
  assert_string_not_equal (base, no_arg);
  assert_string_not_equal (base, content);
}

static void
test_key_scratch_is_null_or_empty (void **state)
{
  cleanup_free char *a = key_of (NULL, "COPY x", NULL, DIGEST);
  cleanup_free char *b = key_of ("", "COPY x", NULL, DIGEST);

  (void)state;
  assert_string_equal (a, b);
}

static void
test_key_arg_order_does_not_matter (void **state)
{
  char *ab[] = { (char *)"A=1", (char *)"B=2", NULL };
  char *ba[] = { (char *)"B=2", (char *)"A=1", NULL };
  cleanup_free char *x = key_of (PARENT, "RUN x", ab, NULL);
  cleanup_free char *y = key_of (PARENT, "RUN x", ba, NULL);

  (void)state;
  assert_string_equal (x, y);
}

/* Fields are length-prefixed: moving bytes between them changes the key. */
static void
test_key_fields_do_not_run_together (void **state)
{
  char *a1[] = { (char *)"A=1 B", NULL };
  char *a2[] = { (char *)"A=1", (char *)"B", NULL };
  cleanup_free char *x = key_of (PARENT, "RUN x", a1, NULL);
  cleanup_free char *y = key_of (PARENT, "RUN x", a2, NULL);
  cleanup_free char *z = key_of (PARENT, "RUN xA=1 B", NULL, NULL);

  (void)state;
  assert_string_not_equal (x, y);
  assert_string_not_equal (x, z);
}

/* ---- the index ------------------------------------------------------------------ */

static int
make_root (void **state)
{
  char tmpl[] = "/tmp/test-build-cache-XXXXXX";

  assert_non_null (mkdtemp (tmpl));
  *state = xstrdup (tmpl);
  return 0;
}

static int
remove_root (void **state)
{
  assert_int_equal (fs_remove_tree (*state, NULL), 0);
  free (*state);
  return 0;
}

static void
test_lookup_miss_record_hit (void **state)
{
  const char *root = *state;
  cleanup_free char *key = key_of (PARENT, "RUN x", NULL, NULL);
  char *id = (char *)"x";

  assert_int_equal (build_cache_lookup (root, key, &id, NULL), 0);
  assert_null (id);
  assert_false (build_cache_is_intermediate (root, IMAGE));
  assert_int_equal (build_cache_record (root, key, IMAGE, NULL), 0);
  assert_int_equal (build_cache_lookup (root, key, &id, NULL), 0);
  assert_non_null (id);
  assert_string_equal (id, IMAGE);
  free (id);
  assert_true (build_cache_is_intermediate (root, IMAGE));
  assert_false (build_cache_is_intermediate (root, PARENT));
  /* A build's result is shown, and its step still found. */
  assert_int_equal (build_cache_unmark (root, IMAGE, NULL), 0);
  assert_false (build_cache_is_intermediate (root, IMAGE));
  assert_int_equal (build_cache_unmark (root, IMAGE, NULL), 0);
  assert_int_equal (build_cache_lookup (root, key, &id, NULL), 0);
  assert_string_equal (id, IMAGE);
  free (id);
}

static void
test_drop_forgets_everything (void **state)
{
  const char *root = *state;
  cleanup_free char *key = key_of (PARENT, "RUN x", NULL, NULL);
  char *id = NULL;

  assert_int_equal (build_cache_record (root, key, IMAGE, NULL), 0);
  assert_int_equal (build_cache_drop (root, NULL), 0);
  assert_int_equal (build_cache_lookup (root, key, &id, NULL), 0);
  assert_null (id);
  assert_false (build_cache_is_intermediate (root, IMAGE));
  /* Dropping an empty cache is fine too. */
  assert_int_equal (build_cache_drop (root, NULL), 0);
}

static void
test_damaged_entry_is_a_miss (void **state)
{
  const char *root = *state;
  cleanup_free char *key = key_of (PARENT, "RUN x", NULL, NULL);
  cleanup_free char *path = xasprintf ("%s/build-cache/keys/%s", root, key + 7);
  char *id = NULL;

  assert_int_equal (build_cache_record (root, key, IMAGE, NULL), 0);
  assert_int_equal (fs_write_atomic (path, "garbage\n", 8, 0600, NULL), 0);
  assert_int_equal (build_cache_lookup (root, key, &id, NULL), 0);
  assert_null (id);
}

static void
test_malformed_ids_are_refused (void **state)
{
  const char *root = *state;
  struct error *e = NULL;
  char *id = NULL;

  assert_true (build_cache_lookup (root, "sha256:../../etc", &id, &e) < 0);
  err_release (&e);
  assert_true (build_cache_record (root, "md5:1", IMAGE, &e) < 0);
  err_release (&e);
  assert_true (build_cache_record (root, DIGEST, "sha256:/x", &e) < 0);
  err_release (&e);
  assert_false (build_cache_is_intermediate (root, "../x"));
}

static void
test_mount_dir_per_id (void **state)
{
  const char *root = *state;
  cleanup_free char *a = build_cache_mount_dir (root, "/root/.cache", NULL);
  cleanup_free char *b = build_cache_mount_dir (root, "/root/.cache", NULL);
  cleanup_free char *c = build_cache_mount_dir (root, "../../x", NULL);
  struct stat st;

  assert_non_null (a);
  assert_string_equal (a, b);
  assert_string_not_equal (a, c);
  assert_true (str_has_prefix (c, root));
  assert_null (strstr (c + strlen (root), ".."));
  assert_int_equal (stat (a, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
}

/* ---- config instructions ---------------------------------------------------------- */

/* Apply the instructions after FROM in TEXT to a config with Env PATH. */
static json_object *
apply_text (const char *text, char *const *args, char **last_text, struct error **err)
{
  struct dockerfile *df = df_parse ("Dockerfile", text, strlen (text), err);
  json_object *cfg;
  bool is_cmd_set = false;

  if (df == NULL)
    return NULL;
  static const char base[] = "{\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"]}}";
  cfg = jobj_parse (base, strlen (base), "t", NULL);
  assert_non_null (cfg);
  for (size_t i = 1; i < df->stages[0].n_instrs; i++)
    {
      const struct df_instruction *in = &df->stages[0].instrs[i];
      struct build_vars vars
          = { .env = jobj_get_array (jobj_get_object (cfg, "config"), "Env"), .args = args };
      char *t = NULL;
      if (build_config_apply (cfg, in, df->escape, &vars, is_cmd_set, &t, err) < 0)
        {
          json_object_put (cfg);
          df_free (df);
          return NULL;
        }
      is_cmd_set = is_cmd_set || in->kind == DF_CMD;
      if (last_text)
        {
          free (*last_text);
          *last_text = t;
        }
      else
        free (t);
    }
  df_free (df);
  return cfg;
}

static const char *
inner_json (json_object *cfg, const char *key)
{
  json_object *v = NULL;

  json_object_object_get_ex (jobj_get_object (cfg, "config"), key, &v);
  return json_object_to_json_string_ext (v,
                                         JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void
test_config_env_and_expansion (void **state)
{
  char *args[] = { (char *)"V=from-arg", NULL };
  cleanup_free char *text = NULL;
  cleanup_json json_object *cfg = apply_text (
      "FROM x\nENV A=1 B=\"two words\"\nENV C=${A}-$V PATH=/usr/bin:$PATH\n", args, &text, NULL);

  (void)state;
  assert_non_null (cfg);
  assert_string_equal (inner_json (cfg, "Env"),
                       "[\"PATH=/usr/bin:/bin\",\"A=1\",\"B=two words\",\"C=1-from-arg\"]");
  assert_string_equal (text, "ENV C=1-from-arg PATH=/usr/bin:/bin");
}

static void
test_config_ports_labels_volumes (void **state)
{
  cleanup_json json_object *cfg
      = apply_text ("FROM x\nEXPOSE 80 53/UDP 7-8/sctp\nLABEL a=b \"c d\"=e\n"
                    "VOLUME /v1 /v2\nVOLUME [\"/v3\"]\n",
                    NULL, NULL, NULL);

  (void)state;
  assert_non_null (cfg);
  assert_string_equal (inner_json (cfg, "ExposedPorts"),
                       "{\"80/tcp\":{},\"53/udp\":{},\"7/sctp\":{},\"8/sctp\":{}}");
  assert_string_equal (inner_json (cfg, "Labels"), "{\"a\":\"b\",\"c d\":\"e\"}");
  assert_string_equal (inner_json (cfg, "Volumes"), "{\"/v1\":{},\"/v2\":{},\"/v3\":{}}");
}

static void
test_config_bad_ports (void **state)
{
  static const char *const bad[] = {
    "FROM x\nEXPOSE http\n", "FROM x\nEXPOSE 70000\n", "FROM x\nEXPOSE 80/icmp\n",
    "FROM x\nEXPOSE 9-8\n",  "FROM x\nEXPOSE -1\n",
  };

  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      struct error *e = NULL;
      assert_null (apply_text (bad[i], NULL, NULL, &e));
      assert_non_null (e);
      assert_true (str_has_prefix (e->msg, "EXPOSE: "));
      err_release (&e);
    }
}

static void
test_config_workdir_user_stopsignal (void **state)
{
  cleanup_json json_object *cfg = apply_text (
      "FROM x\nWORKDIR /a\nWORKDIR b/../c\nUSER app:grp\nSTOPSIGNAL SIGQUIT\n", NULL, NULL, NULL);

  (void)state;
  assert_non_null (cfg);
  assert_string_equal (inner_json (cfg, "WorkingDir"), "\"/a/c\"");
  assert_string_equal (inner_json (cfg, "User"), "\"app:grp\"");
  assert_string_equal (inner_json (cfg, "StopSignal"), "\"SIGQUIT\"");
}

static void
test_config_cmd_entrypoint_shell (void **state)
{
  cleanup_json json_object *a = apply_text ("FROM x\nENTRYPOINT [\"/e\"]\n", NULL, NULL, NULL);
  cleanup_json json_object *b
      = apply_text ("FROM x\nCMD [\"c\"]\nENTRYPOINT [\"/e\"]\n", NULL, NULL, NULL);
  cleanup_json json_object *c
      = apply_text ("FROM x\nSHELL [\"/bin/bash\", \"-xc\"]\nCMD echo $HOME\n", NULL, NULL, NULL);
  struct error *e = NULL;

  (void)state;
  /* ENTRYPOINT clears an inherited CMD, not one set in this stage. */
  assert_string_equal (inner_json (a, "Cmd"), "null");
  assert_string_equal (inner_json (b, "Cmd"), "[\"c\"]");
  assert_string_equal (inner_json (c, "Cmd"), "[\"/bin/bash\",\"-xc\",\"echo $HOME\"]");
  assert_null (apply_text ("FROM x\nSHELL /bin/sh\n", NULL, NULL, &e));
  err_release (&e);
}

static void
test_config_healthcheck (void **state)
{
  cleanup_json json_object *a = apply_text (
      "FROM x\nHEALTHCHECK --interval=1m30s --retries=2 CMD [\"/ok\", \"x\"]\n", NULL, NULL, NULL);
  cleanup_json json_object *b = apply_text ("FROM x\nHEALTHCHECK NONE\n", NULL, NULL, NULL);
  struct error *e = NULL;

  (void)state;
  assert_string_equal (inner_json (a, "Healthcheck"),
                       "{\"Test\":[\"CMD\",\"/ok\",\"x\"],\"Interval\":90000000000,\"Retries\":2}");
  assert_string_equal (inner_json (b, "Healthcheck"), "{\"Test\":[\"NONE\"]}");
  assert_null (apply_text ("FROM x\nHEALTHCHECK --interval=soon CMD true\n", NULL, NULL, &e));
  err_release (&e);
  assert_null (apply_text ("FROM x\nHEALTHCHECK --retries=-1 CMD true\n", NULL, NULL, &e));
  err_release (&e);
}

static void
test_config_onbuild_maintainer (void **state)
{
  cleanup_free char *text = NULL;
  cleanup_json json_object *cfg = apply_text (
      "FROM x\nONBUILD RUN echo hi\nONBUILD COPY a b\nMAINTAINER Me <me@x>\n", NULL, &text, NULL);

  (void)state;
  assert_string_equal (inner_json (cfg, "OnBuild"), "[\"RUN echo hi\",\"COPY a b\"]");
  assert_string_equal (jobj_get_string (cfg, "author"), "Me <me@x>");
  assert_string_equal (text, "MAINTAINER Me <me@x>");
}

static void
test_config_shell_default (void **state)
{
  cleanup_json json_object *cfg = json_object_new_object ();
  cleanup_strv char **sh = build_config_shell (cfg);

  (void)state;
  assert_int_equal (strv_len (sh), 2);
  assert_string_equal (sh[0], "/bin/sh");
  assert_string_equal (sh[1], "-c");
}

static void
test_vars_env_wins_over_args (void **state)
{
  json_object *env = json_object_new_array ();
  char *args[] = { (char *)"A=arg", (char *)"B=b1", (char *)"B=b2", NULL };
  struct build_vars v = { .env = env, .args = args };

  (void)state;
  json_object_array_add (env, json_object_new_string ("A=env"));
  assert_string_equal (build_vars_lookup ("A", &v), "env");
  assert_string_equal (build_vars_lookup ("B", &v), "b2");
  assert_null (build_vars_lookup ("C", &v));
  assert_null (build_vars_lookup ("", &v));
  json_object_put (env);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_key_is_a_digest_and_stable),
    cmocka_unit_test (test_key_depends_on_every_field),
    cmocka_unit_test (test_key_scratch_is_null_or_empty),
    cmocka_unit_test (test_key_arg_order_does_not_matter),
    cmocka_unit_test (test_key_fields_do_not_run_together),
    cmocka_unit_test_setup_teardown (test_lookup_miss_record_hit, make_root, remove_root),
    cmocka_unit_test_setup_teardown (test_drop_forgets_everything, make_root, remove_root),
    cmocka_unit_test_setup_teardown (test_damaged_entry_is_a_miss, make_root, remove_root),
    cmocka_unit_test_setup_teardown (test_malformed_ids_are_refused, make_root, remove_root),
    cmocka_unit_test_setup_teardown (test_mount_dir_per_id, make_root, remove_root),
    cmocka_unit_test (test_config_env_and_expansion),
    cmocka_unit_test (test_config_ports_labels_volumes),
    cmocka_unit_test (test_config_bad_ports),
    cmocka_unit_test (test_config_workdir_user_stopsignal),
    cmocka_unit_test (test_config_cmd_entrypoint_shell),
    cmocka_unit_test (test_config_healthcheck),
    cmocka_unit_test (test_config_onbuild_maintainer),
    cmocka_unit_test (test_config_shell_default),
    cmocka_unit_test (test_vars_env_wins_over_args),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
