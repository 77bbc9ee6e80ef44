/* Tests for src/systemd_unit.c: the --new command line derived from the
 * recorded one, systemd quoting, and the unit text's lines. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/buf.h"
#include "libutil/mem.h"
#include "src/systemd_unit.h"

static char *
joined_run_args (char *const *cmd, int verb, int image)
{
  struct error *err = NULL;
  cleanup_strv char **args = systemd_unit_run_args (cmd, verb, image, &err);

  if (args == NULL)
    {
      err_release (&err);
      return NULL;
    }
  return str_join (args, " ");
}

static void
test_run_args_put_the_units_flags_after_the_verb (void **state)
{
  char *cmd[] = { "/old/skiff", "--root", "/r", "run", "--name", "web", "IMG", "sh", NULL };
  cleanup_free char *s = joined_run_args (cmd, 3, 6);

  (void) state;
  assert_string_equal (s, "--root /r run --cidfile=%t/%n.ctr-id --cgroups=no-conmon --rm "
                       "--sdnotify=conmon -d --replace --name web IMG sh");
}

static void
test_run_args_drop_the_flags_the_unit_owns (void **state)
{
  char *cmd[] = { "skiff", "create", "-d", "--rm", "--cidfile", "/f", "--sdnotify=ignore",
                  "--restart", "always", "--replace", "--cgroups=split", "-e", "A=1", "IMG",
                  NULL };
  cleanup_free char *s = joined_run_args (cmd, 1, 13);

  (void) state;
  assert_string_equal (s, "run --cidfile=%t/%n.ctr-id --cgroups=no-conmon --rm "
                       "--sdnotify=conmon -d --replace -e A=1 IMG");
}

static void
test_run_args_keep_the_containers_own_flags (void **state)
{
  char *cmd[] = { "skiff", "run", "IMG", "ls", "-d", "--rm", NULL };
  cleanup_free char *s = joined_run_args (cmd, 1, 2);

  (void) state;
  assert_non_null (strstr (s, "--replace IMG ls -d --rm"));
}

static void
test_run_args_refuse_indexes_out_of_range (void **state)
{
  char *cmd[] = { "skiff", "run", "IMG", NULL };

  (void) state;
  assert_null (joined_run_args (cmd, 1, 3));
  assert_null (joined_run_args (cmd, 0, 2));
  assert_null (joined_run_args (cmd, 2, 2));
  assert_null (joined_run_args (cmd, -1, -1));
  assert_null (joined_run_args (NULL, 1, 2));
}

static void
test_run_args_refuse_another_verb (void **state)
{
  char *cmd[] = { "skiff", "exec", "IMG", NULL };

  (void) state;
  assert_null (joined_run_args (cmd, 1, 2));
}

static void
test_quote_plain_words_stay (void **state)
{
  cleanup_free char *q = systemd_unit_quote ("--name=web");

  (void) state;
  assert_string_equal (q, "--name=web");
}

static void
test_quote_blanks_and_quotes (void **state)
{
  cleanup_free char *a = systemd_unit_quote ("sleep 100");
  cleanup_free char *b = systemd_unit_quote ("say \"hi\"\\");
  cleanup_free char *c = systemd_unit_quote ("");

  (void) state;
  assert_string_equal (a, "\"sleep 100\"");
  assert_string_equal (b, "\"say \\\"hi\\\"\\\\\"");
  assert_string_equal (c, "\"\"");
}

static void
test_quote_doubles_specifiers_and_variables (void **state)
{
  cleanup_free char *q = systemd_unit_quote ("100%$HOME");

  (void) state;
  assert_string_equal (q, "100%%$$HOME");
}

static void
test_restart_policies (void **state)
{
  (void) state;
  assert_true (systemd_unit_is_restart_policy ("on-failure"));
  assert_true (systemd_unit_is_restart_policy ("always"));
  assert_false (systemd_unit_is_restart_policy ("sometimes"));
  assert_false (systemd_unit_is_restart_policy (""));
  assert_false (systemd_unit_is_restart_policy ("always "));
}

static void
test_render_new_unit (void **state)
{
  char *run_args[] = { "run", "--cidfile=%t/%n.ctr-id", "--rm", "IMG", "sh", "-c", "a b", NULL };
  struct systemd_unit_opts o = {
    .exe = "/usr/bin/skiff", .service = "container-web.service", .is_new = true,
    .run_args = run_args, .restart_sec = -1, .stop_timeout = 10, .header_date = "DATE",
  };
  cleanup_free char *u = systemd_unit_render (&o);

  (void) state;
  assert_non_null (strstr (u, "# container-web.service\n"));
  assert_non_null (strstr (u, "# DATE\n"));
  assert_non_null (strstr (u, "ExecStartPre=/bin/rm \\\n\t-f %t/%n.ctr-id\n"));
  assert_non_null (strstr (u, "ExecStart=/usr/bin/skiff run \\\n\t--cidfile=%t/%n.ctr-id "
                              "\\\n\t--rm IMG sh \\\n\t-c \"a b\"\n"));
  assert_non_null (strstr (u, "ExecStop=/usr/bin/skiff stop \\\n\t--ignore -t 10 "
                              "\\\n\t--cidfile=%t/%n.ctr-id\n"));
  assert_non_null (strstr (u, "ExecStopPost=/usr/bin/skiff rm \\\n\t-f \\\n\t--ignore "
                              "\\\n\t--cidfile=%t/%n.ctr-id\n"));
  assert_non_null (strstr (u, "TimeoutStopSec=70\n"));
  assert_non_null (strstr (u, "Restart=on-failure\n"));
  assert_null (strstr (u, "RestartSec="));
  assert_non_null (strstr (u, "RequiresMountsFor=%t/containers\n"));
  assert_non_null (strstr (u, "Type=notify\nNotifyAccess=all\n"));
  assert_non_null (strstr (u, "[Install]\nWantedBy=default.target\n"));
  assert_null (strstr (u, "User-defined"));
}

static void
test_render_existing_unit_with_globals_and_options (void **state)
{
  char *globals[] = { "--root", "/my store", NULL };
  char *wants[] = { "a.service", NULL };
  char *env[] = { "X=1", NULL };
  struct systemd_unit_opts o = {
    .exe = "/usr/bin/skiff", .service = "ctr_web.service", .container = "web",
    .runroot = "/run/user/1/skiff", .global_args = globals, .restart_policy = "always",
    .restart_sec = 5, .stop_timeout = 20, .wants = wants, .env = env,
  };
  cleanup_free char *u = systemd_unit_render (&o);

  (void) state;
  assert_true (strncmp (u, "[Unit]\n", 7) == 0);
  assert_non_null (strstr (u, "ExecStart=/usr/bin/skiff \\\n\t--root \"/my store\" start web\n"));
  assert_non_null (strstr (u, "ExecStop=/usr/bin/skiff \\\n\t--root \"/my store\" stop "
                              "\\\n\t-t 20 web\n"));
  assert_non_null (strstr (u, "RequiresMountsFor=/run/user/1/skiff\n"));
  assert_non_null (strstr (u, "# User-defined dependencies\nWants=a.service\n"));
  assert_non_null (strstr (u, "Environment=X=1\n"));
  assert_non_null (strstr (u, "Restart=always\nRestartSec=5\nTimeoutStopSec=80\n"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_run_args_put_the_units_flags_after_the_verb),
    cmocka_unit_test (test_run_args_drop_the_flags_the_unit_owns),
    cmocka_unit_test (test_run_args_keep_the_containers_own_flags),
    cmocka_unit_test (test_run_args_refuse_indexes_out_of_range),
    cmocka_unit_test (test_run_args_refuse_another_verb),
    cmocka_unit_test (test_quote_plain_words_stay),
    cmocka_unit_test (test_quote_blanks_and_quotes),
    cmocka_unit_test (test_quote_doubles_specifiers_and_variables),
    cmocka_unit_test (test_restart_policies),
    cmocka_unit_test (test_render_new_unit),
    cmocka_unit_test (test_render_existing_unit_with_globals_and_options),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
