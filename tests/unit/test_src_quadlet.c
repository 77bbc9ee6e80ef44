/* Tests for src/quadlet_unit.c (the unit file reader: sections, repeated
 * keys, continuations, comments, quoting, malformed files) and
 * src/quadlet.c (each translation rule, and the golden files under
 * tests/system/fixtures/quadlet compared byte for byte). */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "src/quadlet.h"
#include "src/quadlet_unit.h"
#include "src/run_opts.h"

#define FAKE_DIR "/etc/containers/systemd"

static const struct quadlet_opts opts = { .exe = "/usr/bin/skiff" };
static const struct command fake_run = { .name = "run", .summary = "", .usage = "run" };

static struct quadlet_unit *
parse (const char *path, const char *text)
{
  struct error *err = NULL;
  struct quadlet_unit *u = quadlet_unit_parse (path, text, strlen (text), &err);

  if (u == NULL)
    {
      print_error ("%s\n", err->msg);
      err_release (&err);
    }
  return u;
}

/* The message parsing TEXT fails with (NULL when it succeeds). */
static char *
parse_error (const char *text, size_t len)
{
  struct error *err = NULL;
  struct quadlet_unit *u = quadlet_unit_parse ("/q/bad.container", text, len, &err);
  char *msg;

  if (u)
    {
      quadlet_unit_free (u);
      return NULL;
    }
  msg = xstrdup (err->msg);
  err_release (&err);
  return msg;
}

/* ---- the reader ----------------------------------------------------------------- */

static void
test_parse_sections_and_repeated_keys (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *u
      = parse ("/q/a.container", "[Unit]\nDescription = hi there \n\n[Container]\n"
                                 "Image=busybox\nVolume=/a:/a\nVolume=/b:/b\n");
  cleanup_strv char **vols = NULL;

  (void) state;
  assert_non_null (u);
  assert_string_equal (u->name, "a.container");
  assert_int_equal (u->n_groups, 2);
  assert_string_equal (quadlet_unit_lookup (u, "Unit", "Description"), "hi there");
  assert_string_equal (quadlet_unit_lookup (u, "Container", "Image"), "busybox");
  vols = quadlet_unit_lookup_all (u, "Container", "Volume");
  assert_int_equal (strv_len (vols), 2);
  assert_string_equal (vols[0], "/a:/a");
  assert_string_equal (vols[1], "/b:/b");
  assert_null (quadlet_unit_lookup (u, "Container", "Exec"));
  assert_null (quadlet_unit_lookup (u, "Service", "Type"));
}

static void
test_parse_comments_skipped_also_inside_continuations (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *u
      = parse ("/q/a.container", "# top\n; also\n[Container]\n  # indented\n"
                                 "Exec=a \\\n# not part of it\n; nor this\n  b\n");

  (void) state;
  assert_non_null (u);
  assert_string_equal (quadlet_unit_lookup (u, "Container", "Exec"), "a    b");
}

static void
test_parse_escaped_backslash_does_not_continue (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *u
      = parse ("/q/a.container", "[Container]\nExec=a\\\\\nImage=x\n");

  (void) state;
  assert_non_null (u);
  assert_string_equal (quadlet_unit_lookup (u, "Container", "Exec"), "a\\\\");
  assert_string_equal (quadlet_unit_lookup (u, "Container", "Image"), "x");
}

static void
test_parse_continuation_open_at_end_of_file (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *u
      = parse ("/q/a.container", "[Container]\nExec=a \\");

  (void) state;
  assert_non_null (u);
  assert_string_equal (quadlet_unit_lookup (u, "Container", "Exec"), "a");
}

static void
test_parse_continuation_joins_a_header_like_line (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *u
      = parse ("/q/a.container", "[Container]\nExec=echo \\\n[Service]\n");

  (void) state;
  assert_non_null (u);
  assert_int_equal (u->n_groups, 1);
  assert_string_equal (quadlet_unit_lookup (u, "Container", "Exec"), "echo  [Service]");
}

static void
test_parse_crlf_and_bom (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *u
      = parse ("/q/a.container", "\xef\xbb\xbf[Container]\r\nImage=x\r\n");

  (void) state;
  assert_non_null (u);
  assert_string_equal (quadlet_unit_lookup (u, "Container", "Image"), "x");
}

static void
test_parse_keeps_specifiers_and_quotes_raw (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *u
      = parse ("/q/a.container", "[Container]\nVolume=%h/data:/data\nLabel=\"a=b c\"\n");

  (void) state;
  assert_string_equal (quadlet_unit_lookup (u, "Container", "Volume"), "%h/data:/data");
  assert_string_equal (quadlet_unit_lookup (u, "Container", "Label"), "\"a=b c\"");
}

static void
test_parse_malformed (void **state)
{
  static const struct
  {
    const char *text;
    const char *error;
  } cases[] = {
    { "Image=x\n", "line 1: assignment outside of a section" },
    { "# c\n\n[Container\nImage=x\n", "line 3: invalid section header \"[Container\"" },
    { "[]\n", "line 1: invalid section header" },
    { "[Con]tainer]\n", "line 1: invalid section name" },
    { "[Container]\nImage\n", "line 2: missing '='" },
    { "[Container]\n = x\n", "line 2: invalid key \"\"" },
    { "[Container]\nIm age=x\n", "line 2: invalid key \"Im age\"" },
    { "[Container]\nExec=a \\\nb\nbogus\n", "line 4: missing '='" },
  };

  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cleanup_free char *msg = parse_error (cases[i].text, strlen (cases[i].text));
      assert_non_null (msg);
      assert_non_null (strstr (msg, "\"/q/bad.container\""));
      if (strstr (msg, cases[i].error) == NULL)
        fail_msg ("case %zu: \"%s\" lacks \"%s\"", i, msg, cases[i].error);
    }
}

static void
test_parse_nul_byte (void **state)
{
  static const char text[] = "[Container]\nImage=a\0b\n";
  cleanup_free char *msg = parse_error (text, sizeof text - 1);

  (void) state;
  assert_non_null (msg);
  assert_non_null (strstr (msg, "line 2: NUL byte"));
}

static void
test_parse_huge_lines (void **state)
{
  size_t n = QUADLET_LINE_MAX + 10;
  cleanup_free char *one = xmalloc (n + 32);
  cleanup_free char *cont = NULL;
  cleanup_free char *msg = NULL;
  struct buf b = BUF_INIT;

  (void) state;
  /* One physical line too long. */
  strcpy (one, "[Container]\nExec=");
  memset (one + strlen (one), 'a', n);
  one[17 + n] = '\0';
  msg = parse_error (one, strlen (one));
  assert_non_null (msg);
  assert_non_null (strstr (msg, "line 2: line longer than"));
  free (msg);
  /* Short lines that add up past the bound through continuations. */
  buf_append_str (&b, "[Container]\nExec=");
  for (size_t i = 0; i < QUADLET_LINE_MAX / 1000 + 2; i++)
    {
      char chunk[1002];
      memset (chunk, 'b', 998);
      strcpy (chunk + 998, " \\\n");
      buf_append_str (&b, chunk);
    }
  cont = buf_steal (&b);
  msg = parse_error (cont, strlen (cont));
  assert_non_null (msg);
  assert_non_null (strstr (msg, "line 2: line longer than"));
}

static void
test_parse_too_many_sections_or_assignments (void **state)
{
  struct buf b = BUF_INIT;
  cleanup_free char *groups = NULL;
  cleanup_free char *entries = NULL;
  cleanup_free char *msg = NULL;

  (void) state;
  for (int i = 0; i <= QUADLET_MAX_GROUPS; i++)
    buf_printf (&b, "[G%d]\n", i);
  groups = buf_steal (&b);
  msg = parse_error (groups, strlen (groups));
  assert_non_null (msg);
  assert_non_null (strstr (msg, "more than 256 sections"));
  free (msg);
  /* Repeating a section is no new one. */
  buf_append_str (&b, "[A]\n[B]\n");
  for (int i = 0; i <= QUADLET_MAX_ENTRIES; i++)
    buf_append_str (&b, i % 2 ? "[A]\nX=1\n" : "[B]\nY=2\n");
  entries = buf_steal (&b);
  msg = parse_error (entries, strlen (entries));
  assert_non_null (msg);
  assert_non_null (strstr (msg, "more than 16384 assignments"));
}

static void
test_lookup_all_empty_value_resets (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *u
      = parse ("/q/a.container", "[Container]\nTmpfs=/a\nTmpfs=\nTmpfs=/b\nTmpfs=/c\n");
  cleanup_strv char **all = quadlet_unit_lookup_all (u, "Container", "Tmpfs");

  (void) state;
  assert_int_equal (strv_len (all), 2);
  assert_string_equal (all[0], "/b");
  assert_string_equal (all[1], "/c");
}

static void
test_set_replaces_the_last_and_add_appends (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *u
      = parse ("/q/a.container", "[Service]\nType=simple\n");
  cleanup_free char *text = NULL;

  (void) state;
  quadlet_unit_set (u, "Service", "Type", "notify");
  quadlet_unit_add (u, "Unit", "After", "b.service");
  quadlet_unit_rename_group (u, "Service", "X-Service");
  text = quadlet_unit_render (u);
  assert_string_equal (text, "[X-Service]\nType=notify\n\n[Unit]\nAfter=b.service\n");
}

/* ---- words -------------------------------------------------------------------- */

static char *
split_joined (const char *value)
{
  struct error *err = NULL;
  cleanup_strv char **words = NULL;

  if (quadlet_split_words (value, &words, &err) < 0)
    {
      char *msg = xasprintf ("ERROR %s", err->msg);
      err_release (&err);
      return msg;
    }
  return str_join (words, "|");
}

static void
test_split_words (void **state)
{
  static const struct
  {
    const char *in;
    const char *out;
  } cases[] = {
    { "  a  b\tc ", "a|b|c" },
    { "\"a b\" 'c d' e\"f g\"h", "a b|c d|ef gh" },
    { "\"it's\" 'say \"hi\"'", "it's|say \"hi\"" },
    { "a\\ b \\x41\\102 \\u00e9 \\s", "a b|AB|\xc3\xa9| " },
    { "\"tab\\there\" \"nl\\n\"", "tab\there|nl\n" },
    { "\"\" x", "|x" },
    { "%h/x $HOME", "%h/x|$HOME" },
    { "", "" },
    { "\"open", "ERROR unterminated quote in \"\"open\"" },
    { "'open", "ERROR unterminated quote in \"'open\"" },
    { "a\\q", "ERROR invalid escape \"\\q\" in \"a\\q\"" },
    { "a\\x0", "ERROR invalid escape" },
    { "a\\x00", "ERROR invalid escape" },
    { "a\\000", "ERROR invalid escape" },
    { "a\\", "ERROR invalid escape" },
  };

  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cleanup_free char *got = split_joined (cases[i].in);
      if (strncmp (got, cases[i].out, strlen (cases[i].out)) != 0
          || (strncmp (cases[i].out, "ERROR", 5) != 0 && strcmp (got, cases[i].out) != 0))
        fail_msg ("case %zu: \"%s\" split to \"%s\", want \"%s\"", i, cases[i].in, got,
                  cases[i].out);
    }
}

static void
test_quote_word_round_trips (void **state)
{
  static const char *const words[] = { "plain", "", "a b", "say \"hi\"", "it's", "back\\slash",
                                        "nl\nand\ttab", "ctl\x01", ";", "%h/$HOME", NULL };

  (void) state;
  for (size_t i = 0; words[i]; i++)
    {
      cleanup_free char *q = quadlet_quote_word (words[i]);
      cleanup_strv char **back = NULL;
      struct error *err = NULL;

      assert_int_equal (quadlet_split_words (q, &back, &err), 0);
      assert_int_equal (strv_len (back), 1);
      assert_string_equal (back[0], words[i]);
    }
  {
    cleanup_free char *q = quadlet_quote_word ("%h/$HOME");
    assert_string_equal (q, "%h/$HOME");
  }
}

static void
test_parse_bool (void **state)
{
  bool b = false;

  (void) state;
  assert_int_equal (quadlet_parse_bool ("YES", &b), 0);
  assert_true (b);
  assert_int_equal (quadlet_parse_bool ("off", &b), 0);
  assert_false (b);
  assert_int_equal (quadlet_parse_bool ("maybe", &b), -1);
  assert_false (b);
}

/* ---- translation ----------------------------------------------------------------- */

struct converted
{
  struct quadlet_unit *service;
  char **warnings;
  char *error;
};

static void
converted_clear (struct converted *c)
{
  quadlet_unit_free (c->service);
  strv_free (c->warnings);
  free (c->error);
}

/* Convert TEXT as the file NAME in FAKE_DIR, with OTHERS (may be NULL)
 * as the other files found. */
static struct converted
convert (const char *name, const char *text, struct quadlet_unit *const *others)
{
  cleanup_free char *path = xasprintf (FAKE_DIR "/%s", name);
  cleanup_quadlet_unit struct quadlet_unit *u = parse (path, text);
  struct converted c = { .warnings = xcalloc (1, sizeof (char *)) };
  struct error *err = NULL;

  assert_non_null (u);
  c.service = quadlet_convert (u, others, &opts, &c.warnings, &err);
  if (c.service == NULL)
    {
      c.error = xstrdup (err->msg);
      err_release (&err);
    }
  return c;
}

static const char *
exec_start (const struct converted *c)
{
  assert_non_null (c->service);
  return quadlet_unit_lookup (c->service, "Service", "ExecStart");
}

static void
test_container_without_image_fails (void **state)
{
  struct converted c = convert ("x.container", "[Container]\nExec=true\n", NULL);

  (void) state;
  assert_null (c.service);
  assert_string_equal (c.error, "no Image key specified");
  converted_clear (&c);
}

static void
test_unknown_and_unsupported_keys_warn (void **state)
{
  struct converted c = convert ("x.container",
                                "[Container]\nImage=a\nFrobnicate=1\nFrobnicate=2\n"
                                "Timezone=UTC\nSecret=token\n",
                                NULL);

  (void) state;
  assert_non_null (c.service);
  assert_int_equal (strv_len (c.warnings), 3);
  assert_string_equal (c.warnings[0], "unknown key 'Frobnicate' in group 'Container' in "
                       FAKE_DIR "/x.container, ignoring");
  assert_non_null (strstr (c.warnings[1], "key 'Secret'"));
  assert_string_equal (c.warnings[2], "key 'Timezone' in group 'Container' in " FAKE_DIR
                       "/x.container is not supported by skiff, ignoring");
  assert_null (strstr (exec_start (&c), "UTC"));
  assert_null (strstr (exec_start (&c), "token"));
  converted_clear (&c);
}

static void
test_booleans (void **state)
{
  struct converted c = convert ("x.container",
                                "[Container]\nImage=a\nReadOnly=sometimes\nRunInit=on\n"
                                "VolatileTmp=1\nNotify=false\n",
                                NULL);

  (void) state;
  assert_int_equal (strv_len (c.warnings), 1);
  assert_string_equal (c.warnings[0], "invalid boolean 'sometimes' for key 'ReadOnly' in "
                       FAKE_DIR "/x.container, using false");
  assert_non_null (strstr (exec_start (&c), " --sdnotify=conmon -d --init "
                           "--tmpfs /tmp:rw,size=512M,mode=1777 a"));
  assert_null (strstr (exec_start (&c), "--read-only"));
  converted_clear (&c);
}

static void
test_network_references_are_refused (void **state)
{
  struct converted c = convert ("x.container", "[Container]\nImage=a\nNetwork=mynet.network\n",
                                NULL);
  struct converted n = convert ("mynet.network", "[Network]\nSubnet=10.0.0.0/24\n", NULL);
  struct converted ok = convert ("y.container", "[Container]\nImage=a\nNetwork=none\n", NULL);

  (void) state;
  assert_null (c.service);
  assert_non_null (strstr (c.error, "Network=mynet.network: skiff has no user-defined "
                           "networks"));
  assert_null (n.service);
  assert_non_null (strstr (n.error, "skiff has no user-defined networks"));
  assert_non_null (strstr (exec_start (&ok), " --network none "));
  converted_clear (&c);
  converted_clear (&n);
  converted_clear (&ok);
}

static void
test_malformed_values_fail (void **state)
{
  static const struct
  {
    const char *text;
    const char *error;
  } cases[] = {
    { "[Container]\nImage=a\nGroup=g\n", "invalid Group set without User" },
    { "[Container]\nImage=a\nTmpfs=/a:b:c\n", "invalid tmpfs format '/a:b:c'" },
    { "[Container]\nImage=a\nExposeHostPort=80x\n", "invalid port format '80x'" },
    { "[Container]\nImage=a\nExposeHostPort=1-/tcp\n", "invalid port format" },
    { "[Container]\nImage=a\nExec=\"unterminated\n", "Exec: unterminated quote" },
    { "[Container]\nImage=a\nEnvironment=A=\"b\n", "Environment: unterminated quote" },
    { "[Container]\nImage=a\n[Service]\nKillMode=process\n", "invalid KillMode 'process'" },
  };

  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct converted c = convert ("x.container", cases[i].text, NULL);
      assert_null (c.service);
      if (strstr (c.error, cases[i].error) == NULL)
        fail_msg ("case %zu: \"%s\" lacks \"%s\"", i, c.error, cases[i].error);
      converted_clear (&c);
    }
}

static void
test_service_keys (void **state)
{
  struct converted c = convert ("x.container",
                                "[Container]\nImage=a\n[Service]\nType=simple\n"
                                "SyslogIdentifier=mine\nKillMode=control-group\n",
                                NULL);

  (void) state;
  assert_string_equal (quadlet_unit_lookup (c.service, "Service", "Type"), "notify");
  assert_string_equal (quadlet_unit_lookup (c.service, "Service", "NotifyAccess"), "all");
  assert_string_equal (quadlet_unit_lookup (c.service, "Service", "SyslogIdentifier"), "mine");
  assert_string_equal (quadlet_unit_lookup (c.service, "Service", "KillMode"), "control-group");
  assert_string_equal (quadlet_unit_lookup (c.service, "Service", "Environment"),
                       "PODMAN_SYSTEMD_UNIT=%n");
  assert_string_equal (quadlet_unit_lookup (c.service, "Service", "ExecStop"),
                       "/usr/bin/skiff rm -f -i --cidfile=%t/%N.cid");
  {
    cleanup_strv char **post = quadlet_unit_lookup_all (c.service, "Service", "ExecStopPost");
    assert_int_equal (strv_len (post), 2);
    assert_string_equal (post[0], "-/usr/bin/skiff rm -f -i --cidfile=%t/%N.cid");
    assert_string_equal (post[1], "-rm -f %t/%N.cid");
  }
  assert_string_equal (quadlet_unit_lookup (c.service, "Unit", "SourcePath"),
                       FAKE_DIR "/x.container");
  assert_non_null (quadlet_unit_group (c.service, "X-Container"));
  assert_null (quadlet_unit_group (c.service, "Container"));
  assert_string_equal (c.service->name, "x.service");
  converted_clear (&c);
}

static void
test_environment_and_labels_sorted_last_wins (void **state)
{
  struct converted c = convert ("x.container",
                                "[Container]\nImage=a\nEnvironment=B=2 \"A=x y\"\n"
                                "Environment=B=3 NOEQ\nLabel=z=1 y=2\nAutoUpdate=local\n",
                                NULL);

  (void) state;
  assert_non_null (strstr (exec_start (&c), " --env \"A=x y\" --env B=3 --label "
                           "io.containers.autoupdate=local --label y=2 --label z=1 a"));
  assert_int_equal (strv_len (c.warnings), 1);
  assert_string_equal (c.warnings[0], "invalid Environment assignment 'NOEQ' in " FAKE_DIR
                       "/x.container, ignoring");
  converted_clear (&c);
}

static void
test_volume_references (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *vol
      = parse (FAKE_DIR "/data.volume", "[Volume]\nVolumeName=mydata\n");
  struct quadlet_unit *units[] = { vol, NULL };
  struct converted c = convert ("x.container",
                                "[Container]\nImage=a\nVolume=data.volume:/d:ro\n"
                                "Volume=other.volume:/o\nVolume=./rel:/r\n",
                                units);
  cleanup_strv char **requires = quadlet_unit_lookup_all (c.service, "Unit", "Requires");
  cleanup_strv char **mounts = quadlet_unit_lookup_all (c.service, "Unit", "RequiresMountsFor");

  (void) state;
  assert_non_null (strstr (exec_start (&c), " -v mydata:/d:ro -v systemd-other:/o -v "
                           FAKE_DIR "/rel:/r "));
  assert_int_equal (strv_len (requires), 2);
  assert_string_equal (requires[0], "data-volume.service");
  assert_string_equal (requires[1], "other-volume.service");
  assert_string_equal (mounts[1], FAKE_DIR "/rel");
  converted_clear (&c);
}

static void
test_volume_unit (void **state)
{
  struct converted c = convert ("v.volume",
                                "[Volume]\nLabel=b=2 a=1\nDriver=zfs\nDevice=/dev/sda1\n", NULL);

  (void) state;
  assert_string_equal (c.service->name, "v-volume.service");
  assert_string_equal (exec_start (&c),
                       "/usr/bin/skiff volume create --ignore --label a=1 --label b=2 "
                       "systemd-v");
  assert_string_equal (quadlet_unit_lookup (c.service, "Service", "Type"), "oneshot");
  assert_string_equal (quadlet_unit_lookup (c.service, "Service", "RemainAfterExit"), "yes");
  assert_int_equal (strv_len (c.warnings), 2);
  assert_non_null (strstr (c.warnings[0], "key 'Device' in group 'Volume'"));
  assert_non_null (strstr (c.warnings[1], "volume driver 'zfs'"));
  converted_clear (&c);
}

static void
test_install_links (void **state)
{
  cleanup_quadlet_unit struct quadlet_unit *s
      = parse ("/o/x.service", "[Install]\nWantedBy=default.target a.target\n"
                               "RequiredBy=b.target\nAlias=y.service\nWantedBy=../evil\n"
                               "Alias=.hidden\n");
  cleanup_strv char **links = quadlet_install_links (s);
  cleanup_free char *joined = str_join (links, " ");

  (void) state;
  assert_string_equal (joined, "y.service default.target.wants/x.service "
                       "a.target.wants/x.service b.target.requires/x.service");
}

static void
test_names (void **state)
{
  cleanup_free char *a = quadlet_service_name ("web.container");
  cleanup_free char *b = quadlet_service_name ("d.volume");
  cleanup_free char *c = quadlet_service_name ("n.network");

  (void) state;
  assert_string_equal (a, "web.service");
  assert_string_equal (b, "d-volume.service");
  assert_string_equal (c, "n-network.service");
  assert_null (quadlet_service_name ("x.kube"));
  assert_int_equal (quadlet_kind_of (".container"), QUADLET_NONE);
  assert_int_equal (quadlet_kind_of ("a.volume"), QUADLET_VOLUME);
}

/* ---- golden files --------------------------------------------------------------- */

static char *
read_text (const char *path)
{
  struct error *err = NULL;
  char *text = fs_read_file (path, 1 << 20, NULL, &err);

  if (text == NULL)
    fail_msg ("%s", err->msg);
  return text;
}

/* Every fixture with its text, parsed as if it lay in FAKE_DIR. */
static struct quadlet_unit **
load_fixtures (void)
{
  cleanup_dir DIR *d = opendir (QUADLET_FIXTURES);
  struct quadlet_unit **units = xcalloc (1, sizeof *units);
  size_t n = 0;
  struct dirent *de;

  assert_non_null (d);
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *path = NULL;
      cleanup_free char *fake = NULL;
      cleanup_free char *text = NULL;

      if (quadlet_kind_of (de->d_name) == QUADLET_NONE)
        continue;
      path = xasprintf (QUADLET_FIXTURES "/%s", de->d_name);
      fake = xasprintf (FAKE_DIR "/%s", de->d_name);
      text = read_text (path);
      units = xrealloc (units, (n + 2) * sizeof *units);
      units[n] = parse (fake, text);
      assert_non_null (units[n]);
      units[++n] = NULL;
    }
  assert_true (n >= 5);
  return units;
}

/* The run command of an ExecStart line parses as `skiff run` arguments. */
static void
assert_run_accepts (const char *exec_start_line)
{
  cleanup_strv char **words = NULL;
  struct run_opts o;
  struct error *err = NULL;
  size_t run = 0;

  assert_int_equal (quadlet_split_words (exec_start_line, &words, &err), 0);
  while (words[run] && strcmp (words[run], "run") != 0)
    run++;
  assert_non_null (words[run]);
  if (run_opts_parse (&fake_run, (int) strv_len (words + run), words + run, &o, &err) != 0)
    fail_msg ("skiff run refuses \"%s\": %s", exec_start_line, err ? err->msg : "help");
  assert_true (o.is_detach && o.is_rm && o.is_replace);
  assert_string_equal (o.cidfile, "%t/%N.cid");
  run_opts_clear (&o);
}

static void
test_golden_files (void **state)
{
  struct quadlet_unit **units = load_fixtures ();
  size_t n_containers = 0;

  (void) state;
  for (size_t i = 0; units[i]; i++)
    {
      cleanup_strv char **warnings = xcalloc (1, sizeof *warnings);
      struct error *err = NULL;
      cleanup_quadlet_unit struct quadlet_unit *s = quadlet_convert (units[i], units, &opts,
                                                                    &warnings, &err);
      cleanup_free char *text = NULL;
      cleanup_free char *expected_path = NULL;
      cleanup_free char *expected = NULL;

      if (s == NULL)
        fail_msg ("%s: %s", units[i]->name, err->msg);
      assert_int_equal (strv_len (warnings), 0);
      text = quadlet_service_text (s);
      expected_path = xasprintf (QUADLET_FIXTURES "/expected/%s", s->name);
      expected = read_text (expected_path);
      if (strcmp (text, expected) != 0)
        fail_msg ("%s differs from %s:\n%s", s->name, expected_path, text);
      if (quadlet_kind_of (units[i]->name) == QUADLET_CONTAINER)
        {
          assert_run_accepts (exec_start (&(struct converted) { .service = s }));
          n_containers++;
        }
    }
  assert_true (n_containers >= 3);
  for (size_t i = 0; units[i]; i++)
    quadlet_unit_free (units[i]);
  free (units);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_sections_and_repeated_keys),
    cmocka_unit_test (test_parse_comments_skipped_also_inside_continuations),
    cmocka_unit_test (test_parse_escaped_backslash_does_not_continue),
    cmocka_unit_test (test_parse_continuation_open_at_end_of_file),
    cmocka_unit_test (test_parse_continuation_joins_a_header_like_line),
    cmocka_unit_test (test_parse_crlf_and_bom),
    cmocka_unit_test (test_parse_keeps_specifiers_and_quotes_raw),
    cmocka_unit_test (test_parse_malformed),
    cmocka_unit_test (test_parse_nul_byte),
    cmocka_unit_test (test_parse_huge_lines),
    cmocka_unit_test (test_parse_too_many_sections_or_assignments),
    cmocka_unit_test (test_lookup_all_empty_value_resets),
    cmocka_unit_test (test_set_replaces_the_last_and_add_appends),
    cmocka_unit_test (test_split_words),
    cmocka_unit_test (test_quote_word_round_trips),
    cmocka_unit_test (test_parse_bool),
    cmocka_unit_test (test_container_without_image_fails),
    cmocka_unit_test (test_unknown_and_unsupported_keys_warn),
    cmocka_unit_test (test_booleans),
    cmocka_unit_test (test_network_references_are_refused),
    cmocka_unit_test (test_malformed_values_fail),
    cmocka_unit_test (test_service_keys),
    cmocka_unit_test (test_environment_and_labels_sorted_last_wins),
    cmocka_unit_test (test_volume_references),
    cmocka_unit_test (test_volume_unit),
    cmocka_unit_test (test_install_links),
    cmocka_unit_test (test_names),
    cmocka_unit_test (test_golden_files),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
