/* Unit tests for src/dockerfile.c: BuildKit's Dockerfile syntax
 * (directives, comments, continuations, flags, JSON and shell forms,
 * here-documents, ENV/LABEL/ARG, ONBUILD, stages), every error with its
 * line, malformed and hostile input, and a mutation loop for crashes and
 * leaks under AddressSanitizer. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/mem.h"
#include "src/dockerfile.h"

static void
dfp_free (struct dockerfile **df)
{
  df_free (*df);
}
#define cleanup_df __attribute__ ((cleanup (dfp_free)))

static struct dockerfile *
parse_ok (const char *text)
{
  cleanup_error struct error *err = NULL;
  struct dockerfile *df = df_parse ("Dockerfile", text, strlen (text), &err);

  if (df == NULL)
    fail_msg ("rejected: %s\n---\n%s", err->msg, text);
  return df;
}

static void
assert_parse_error (const char *text, const char *want)
{
  cleanup_error struct error *err = NULL;
  struct dockerfile *df = df_parse ("Dockerfile", text, strlen (text), &err);

  if (df != NULL)
    {
      df_free (df);
      fail_msg ("accepted, want \"%s\"\n---\n%s", want, text);
    }
  if (strstr (err->msg, want) == NULL)
    fail_msg ("got \"%s\", want \"%s\"\n---\n%s", err->msg, want, text);
}

/* The Nth instruction of stage S. */
static const struct df_instruction *
instr (const struct dockerfile *df, size_t s, size_t n)
{
  assert_true (s < df->n_stages);
  assert_true (n < df->stages[s].n_instrs);
  return &df->stages[s].instrs[n];
}

static void
assert_args (const struct df_instruction *in, size_t n, ...)
{
  va_list ap;

  if (in->n_args != n)
    fail_msg ("%s: %zu args, want %zu", in->original, in->n_args, n);
  va_start (ap, n);
  for (size_t i = 0; i < n; i++)
    {
      const char *want = va_arg (ap, const char *);
      if (strcmp (in->args[i], want) != 0)
        fail_msg ("%s: arg %zu is \"%s\", want \"%s\"", in->original, i, in->args[i], want);
    }
  va_end (ap);
}

/* ---- structure ------------------------------------------------------------ */

static void
test_minimal (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("FROM busybox\n");

  (void)state;
  assert_string_equal (df->path, "Dockerfile");
  assert_int_equal (df->escape, '\\');
  assert_null (df->syntax);
  assert_int_equal (df->n_global_args, 0);
  assert_int_equal (df->n_stages, 1);
  assert_string_equal (df->stages[0].base, "busybox");
  assert_null (df->stages[0].name);
  assert_null (df->stages[0].platform);
  assert_int_equal (df->stages[0].index, 0);
  assert_int_equal (df->stages[0].n_instrs, 1);
  assert_int_equal (instr (df, 0, 0)->kind, DF_FROM);
  assert_int_equal (instr (df, 0, 0)->line, 1);
  assert_string_equal (instr (df, 0, 0)->original, "FROM busybox");
}

static void
test_stages_and_global_args (void **state)
{
  cleanup_df struct dockerfile *df
      = parse_ok ("ARG BASE=alpine\n"
                  "ARG TAG\n"
                  "FROM --platform=$BUILDPLATFORM ${BASE}:${TAG} AS Builder\n"
                  "RUN make\n"
                  "from scratch as final\n"
                  "COPY --from=builder /out /\n");

  (void)state;
  assert_int_equal (df->n_global_args, 2);
  assert_args (&df->global_args[0], 1, "BASE=alpine");
  assert_args (&df->global_args[1], 1, "TAG");
  assert_int_equal (df->n_stages, 2);
  assert_string_equal (df->stages[0].base, "${BASE}:${TAG}");
  assert_string_equal (df->stages[0].name, "builder");
  assert_args (instr (df, 0, 0), 3, "${BASE}:${TAG}", "AS", "Builder");
  assert_string_equal (df->stages[0].platform, "$BUILDPLATFORM");
  assert_int_equal (df->stages[0].n_instrs, 2);
  assert_string_equal (df->stages[1].base, "scratch");
  assert_string_equal (df->stages[1].name, "final");
  assert_int_equal (df->stages[1].index, 1);
  assert_string_equal (instr (df, 1, 0)->original, "FROM scratch as final");
  assert_string_equal (df_flag (instr (df, 1, 1), "from"), "builder");
  assert_ptr_equal (df_stage_find (df, "BUILDER"), &df->stages[0]);
  assert_ptr_equal (df_stage_find (df, "final"), &df->stages[1]);
  assert_ptr_equal (df_stage_find (df, "0"), &df->stages[0]);
  assert_ptr_equal (df_stage_find (df, "1"), &df->stages[1]);
  assert_null (df_stage_find (df, "2"));
  assert_null (df_stage_find (df, "1x"));
  assert_null (df_stage_find (df, "nope"));
  assert_null (df_stage_find (df, ""));
}

static void
test_keywords_case_insensitive (void **state)
{
  cleanup_df struct dockerfile *df
      = parse_ok ("from a\nrUn echo hi\nCmd [\"x\"]\nworkdir /w\nEnTrYpOiNt sh\n");

  (void)state;
  assert_int_equal (df->stages[0].n_instrs, 5);
  assert_int_equal (instr (df, 0, 1)->kind, DF_RUN);
  assert_string_equal (instr (df, 0, 1)->original, "RUN echo hi");
  assert_string_equal (instr (df, 0, 2)->original, "CMD [\"x\"]");
  assert_string_equal (instr (df, 0, 3)->original, "WORKDIR /w");
  assert_string_equal (instr (df, 0, 4)->original, "ENTRYPOINT sh");
}

static void
test_all_kinds_and_names (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("FROM a\n"
                                               "RUN r\n"
                                               "CMD c\n"
                                               "LABEL l=1\n"
                                               "MAINTAINER Me <me@x>\n"
                                               "EXPOSE 80/tcp 443\n"
                                               "ENV E=1\n"
                                               "ADD a /b\n"
                                               "COPY a /b\n"
                                               "ENTRYPOINT e\n"
                                               "VOLUME /v\n"
                                               "USER u:g\n"
                                               "WORKDIR /w\n"
                                               "ARG A\n"
                                               "ONBUILD RUN o\n"
                                               "STOPSIGNAL SIGTERM\n"
                                               "HEALTHCHECK NONE\n"
                                               "SHELL [\"/bin/bash\", \"-c\"]\n");
  static const enum df_kind kinds[] = {
    DF_FROM,    DF_RUN, DF_CMD,     DF_LABEL,      DF_MAINTAINER,  DF_EXPOSE,
    DF_ENV,     DF_ADD, DF_COPY,    DF_ENTRYPOINT, DF_VOLUME,      DF_USER,
    DF_WORKDIR, DF_ARG, DF_ONBUILD, DF_STOPSIGNAL, DF_HEALTHCHECK, DF_SHELL,
  };

  (void)state;
  assert_int_equal (df->stages[0].n_instrs, sizeof (kinds) / sizeof (kinds[0]));
  for (size_t i = 0; i < sizeof (kinds) / sizeof (kinds[0]); i++)
    {
      const struct df_instruction *in = instr (df, 0, i);
      size_t klen = strlen (df_kind_name (in->kind));

      assert_int_equal (in->kind, kinds[i]);
      assert_int_equal (in->line, i + 1);
      assert_memory_equal (in->original, df_kind_name (in->kind), klen);
    }
  assert_args (instr (df, 0, 4), 1, "Me <me@x>");
  assert_args (instr (df, 0, 5), 2, "80/tcp", "443");
  assert_args (instr (df, 0, 11), 1, "u:g");
  assert_args (instr (df, 0, 15), 1, "SIGTERM");
  assert_args (instr (df, 0, 16), 1, "NONE");
  assert_string_equal (df_kind_name (DF_HEALTHCHECK), "HEALTHCHECK");
  assert_string_equal (df_kind_name ((enum df_kind)999), "UNKNOWN");
}

/* ---- directives, comments, blank lines, continuations ---------------------- */

static void
test_directives (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("# syntax=docker/dockerfile:1.7\n"
                                               "#   ESCAPE = `  \n"
                                               "FROM a\n"
                                               "RUN echo a `\n"
                                               "  b\n"
                                               "COPY C:\\src C:\\dst\n");

  (void)state;
  assert_string_equal (df->syntax, "docker/dockerfile:1.7");
  assert_int_equal (df->escape, '`');
  assert_args (instr (df, 0, 1), 1, "echo a   b");
  assert_args (instr (df, 0, 2), 2, "C:\\src", "C:\\dst");
}

static void
test_directive_after_other_lines_is_a_comment (void **state)
{
  cleanup_df struct dockerfile *after_blank = parse_ok ("\n# escape=`\nFROM a\nRUN a \\\n b\n");
  cleanup_df struct dockerfile *after_comment
      = parse_ok ("# hello\n# escape=`\nFROM a\nRUN a \\\n b\n");
  cleanup_df struct dockerfile *after_instr = parse_ok ("FROM a\n# escape=`\nRUN a \\\n b\n");
  cleanup_df struct dockerfile *unknown_first
      = parse_ok ("# foo=bar\n# escape=`\nFROM a\nRUN a \\\n b\n");
  cleanup_df struct dockerfile *bom = parse_ok ("\xef\xbb\xbf# escape=`\nFROM a\n");

  (void)state;
  assert_int_equal (after_blank->escape, '\\');
  assert_args (instr (after_blank, 0, 1), 1, "a  b");
  assert_int_equal (after_comment->escape, '\\');
  assert_int_equal (after_instr->escape, '\\');
  assert_int_equal (unknown_first->escape, '\\');
  assert_int_equal (bom->escape, '`');
}

static void
test_directive_errors (void **state)
{
  (void)state;
  assert_parse_error ("# escape=`\n# escape=\\\nFROM a\n",
                      "Dockerfile:2: only one escape parser directive");
  assert_parse_error ("# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token \"x\"");
  assert_parse_error ("# syntax=a\n# syntax=b\nFROM a\n",
                      "Dockerfile:2: only one syntax parser directive");
}

static void
test_comments_and_blank_lines (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("\n\n# comment\n   # indented comment\n"
                                               "FROM a\n\n\t\n"
                                               "RUN echo '# not a comment' # nor this\n"
                                               "# RUN nothing\n"
                                               "  RUN indented\n");

  (void)state;
  assert_int_equal (df->stages[0].n_instrs, 3);
  assert_int_equal (instr (df, 0, 0)->line, 5);
  assert_args (instr (df, 0, 1), 1, "echo '# not a comment' # nor this");
  assert_int_equal (instr (df, 0, 1)->line, 8);
  assert_string_equal (instr (df, 0, 2)->original, "RUN indented");
  assert_int_equal (instr (df, 0, 2)->line, 10);
}

static void
test_continuations (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("FROM a\n"
                                               "RUN apk add \\\n"
                                               "    curl \\   \t\n"
                                               "# a comment inside\n"
                                               "      # indented comment inside\n"
                                               "\n"
                                               "    git\n"
                                               "RUN next\n"
                                               "RUN echo done \\\\\n"
                                               "RUN \\\n"
                                               "  split\n"
                                               "ENV A=1 \\\r\n"
                                               "    B=2\r\n"
                                               "RUN at end of file \\");

  (void)state;
  assert_int_equal (df->stages[0].n_instrs, 7);
  assert_args (instr (df, 0, 1), 1, "apk add     curl     git");
  assert_string_equal (instr (df, 0, 1)->original, "RUN apk add     curl     git");
  assert_int_equal (instr (df, 0, 1)->line, 2);
  assert_int_equal (instr (df, 0, 2)->line, 8);
  assert_args (instr (df, 0, 3), 1, "echo done \\\\");
  assert_args (instr (df, 0, 4), 1, "split");
  assert_int_equal (instr (df, 0, 4)->line, 10);
  assert_args (instr (df, 0, 5), 4, "A", "1", "B", "2");
  assert_args (instr (df, 0, 6), 1, "at end of file");
  assert_int_equal (instr (df, 0, 6)->line, 14);
}

/* ---- flags ---------------------------------------------------------------- */

static void
test_flags (void **state)
{
  cleanup_df struct dockerfile *df
      = parse_ok ("FROM --platform=linux/arm64 a\n"
                  "RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=x "
                  "--network=none --security=insecure make\n"
                  "COPY --from=0 --chown=1:2 --chmod=644 --link --parents --exclude=*.o "
                  "--exclude=*.a src /dst\n"
                  "ADD --chown=u --chmod=600 --link=false --checksum=sha256:ab "
                  "--keep-git-dir=TRUE --exclude=x https://x/y /z\n"
                  "HEALTHCHECK --interval=5s --timeout=3s --start-period=1s "
                  "--start-interval=2s --retries=3 CMD curl -f http://localhost/\n"
                  "RUN --mount=\"type=bind,source=a b\" -- --not-a-flag\n");
  const struct df_instruction *run = instr (df, 0, 1);
  const struct df_instruction *copy = instr (df, 0, 2);
  const struct df_instruction *add = instr (df, 0, 3);
  const struct df_instruction *hc = instr (df, 0, 4);
  const struct df_instruction *run2 = instr (df, 0, 5);

  (void)state;
  assert_string_equal (df->stages[0].platform, "linux/arm64");
  assert_int_equal (run->n_flags, 4);
  assert_string_equal (run->flags[0].name, "mount");
  assert_string_equal (run->flags[0].value, "type=cache,target=/root/.cache");
  assert_string_equal (run->flags[1].value, "type=secret,id=x");
  assert_string_equal (df_flag (run, "mount"), "type=cache,target=/root/.cache");
  assert_string_equal (df_flag (run, "network"), "none");
  assert_string_equal (df_flag (run, "security"), "insecure");
  assert_args (run, 1, "make");
  assert_string_equal (df_flag (copy, "from"), "0");
  assert_string_equal (df_flag (copy, "chown"), "1:2");
  assert_string_equal (df_flag (copy, "chmod"), "644");
  assert_true (df_has_flag (copy, "link"));
  assert_null (df_flag (copy, "link"));
  assert_true (df_has_flag (copy, "parents"));
  assert_false (df_has_flag (copy, "chmodx"));
  assert_int_equal (copy->n_flags, 7);
  assert_args (copy, 2, "src", "/dst");
  assert_string_equal (df_flag (add, "link"), "false");
  assert_string_equal (df_flag (add, "keep-git-dir"), "TRUE");
  assert_string_equal (df_flag (add, "checksum"), "sha256:ab");
  assert_string_equal (df_flag (add, "exclude"), "x");
  assert_int_equal (hc->n_flags, 5);
  assert_string_equal (df_flag (hc, "start-interval"), "2s");
  assert_args (hc, 2, "CMD", "curl -f http://localhost/");
  assert_string_equal (df_flag (run2, "mount"), "type=bind,source=a b");
  assert_args (run2, 1, "--not-a-flag");
  assert_string_equal (run2->original, "RUN --mount=\"type=bind,source=a b\" -- --not-a-flag");
}

static void
test_flag_errors (void **state)
{
  (void)state;
  assert_parse_error ("FROM a\n\nCOPY --form=x a b\n",
                      "Dockerfile:3: unknown flag \"--form\" for COPY");
  assert_parse_error ("FROM --plattform=x a\n",
                      "Dockerfile:1: unknown flag \"--plattform\" for FROM");
  assert_parse_error ("FROM a\nRUN --mount=x --foo x\n",
                      "Dockerfile:2: unknown flag \"--foo\" for RUN");
  assert_parse_error ("FROM a\nADD --from=x a b\n",
                      "Dockerfile:2: unknown flag \"--from\" for ADD");
  assert_parse_error ("FROM a\nWORKDIR --x /w\n", "Dockerfile:2: unknown flag \"--x\" for WORKDIR");
  assert_parse_error ("FROM a\nCMD --help\n", "Dockerfile:2: unknown flag \"--help\" for CMD");
  assert_parse_error ("FROM a\nCOPY --from=a --from=b a b\n",
                      "Dockerfile:2: duplicate flag \"--from\" for COPY");
  assert_parse_error ("FROM a\nCOPY --from a b\n",
                      "Dockerfile:2: missing a value on flag \"--from\"");
  assert_parse_error ("FROM a\nCOPY --link=maybe a b\n",
                      "Dockerfile:2: flag \"--link\" for COPY takes true or false");
  assert_parse_error ("FROM a\nRUN --mount=\"type=bind x\n",
                      "Dockerfile:2: unterminated quote in flag of RUN");
  assert_parse_error ("FROM a\nONBUILD --x RUN y\n",
                      "Dockerfile:2: unknown flag \"--x\" for ONBUILD");
  assert_parse_error ("FROM a\nONBUILD COPY --bad=1 a b\n",
                      "Dockerfile:2: unknown flag \"--bad\" for COPY");
}

/* ---- JSON and shell forms ------------------------------------------------- */

static void
test_json_forms (void **state)
{
  cleanup_df struct dockerfile *df
      = parse_ok ("FROM a\n"
                  "CMD [\"echo\", \"a b\", \"\\\"q\\\"\", \"\\u00e9\", \"\\\\\"]\n"
                  "ENTRYPOINT []\n"
                  "RUN  [ \"sh\" , \"-c\" ]  \n"
                  "RUN [ -f /x ] && echo yes\n"
                  "CMD [\"unterminated\"\n"
                  "COPY [\"a b\", \"/d e/\"]\n"
                  "VOLUME [\"/v1\", \"/v2\"]\n"
                  "VOLUME /v3 /v4\n"
                  "HEALTHCHECK CMD [\"curl\", \"-f\"]\n"
                  "SHELL [\"powershell\", \"-command\"]\n"
                  "CMD ['single']\n");

  (void)state;
  assert_true (instr (df, 0, 1)->is_json);
  assert_args (instr (df, 0, 1), 5, "echo", "a b", "\"q\"", "\xc3\xa9", "\\");
  assert_true (instr (df, 0, 2)->is_json);
  assert_int_equal (instr (df, 0, 2)->n_args, 0);
  assert_true (instr (df, 0, 3)->is_json);
  assert_args (instr (df, 0, 3), 2, "sh", "-c");
  assert_false (instr (df, 0, 4)->is_json);
  assert_args (instr (df, 0, 4), 1, "[ -f /x ] && echo yes");
  assert_false (instr (df, 0, 5)->is_json);
  assert_args (instr (df, 0, 5), 1, "[\"unterminated\"");
  assert_true (instr (df, 0, 6)->is_json);
  assert_args (instr (df, 0, 6), 2, "a b", "/d e/");
  assert_args (instr (df, 0, 7), 2, "/v1", "/v2");
  assert_false (instr (df, 0, 8)->is_json);
  assert_args (instr (df, 0, 8), 2, "/v3", "/v4");
  assert_true (instr (df, 0, 9)->is_json);
  assert_args (instr (df, 0, 9), 3, "CMD", "curl", "-f");
  assert_args (instr (df, 0, 10), 2, "powershell", "-command");
  assert_false (instr (df, 0, 11)->is_json);
  assert_args (instr (df, 0, 11), 1, "['single']");
}

static void
test_json_errors (void **state)
{
  (void)state;
  assert_parse_error ("FROM a\nSHELL /bin/sh -c\n",
                      "Dockerfile:2: SHELL requires the arguments in JSON form");
  assert_parse_error ("FROM a\nSHELL [\"a\"\n",
                      "Dockerfile:2: SHELL requires the arguments in JSON form");
  assert_parse_error ("FROM a\nSHELL []\n", "Dockerfile:2: SHELL requires at least one argument");
  assert_parse_error (
      "FROM a\nCMD [\"a\", 1]\n",
      "Dockerfile:2: CMD: when using JSON array syntax, arrays must be comprised of strings only");
  assert_parse_error ("FROM a\n\nCOPY [\"a\", null]\n",
                      "Dockerfile:3: COPY: when using JSON array");
  assert_parse_error ("FROM a\nRUN []\n", "Dockerfile:2: RUN requires at least one argument");
  assert_parse_error ("FROM a\nCMD [\"a\\u0000b\"]\n",
                      "Dockerfile:2: CMD: NUL byte in JSON string");
  assert_parse_error ("FROM a\nVOLUME [\"/a\", \" \"]\n",
                      "Dockerfile:2: VOLUME path can not be an empty string");
  assert_parse_error ("FROM a\nHEALTHCHECK CMD []\n",
                      "Dockerfile:2: missing command after HEALTHCHECK CMD");
}

/* ---- ENV, LABEL, ARG -------------------------------------------------------- */

static void
test_env_label_arg (void **state)
{
  cleanup_df struct dockerfile *df
      = parse_ok ("FROM a\n"
                  "ENV A=1 B=\"two words\" C='x y' D=a\\ b E= F=\"$A\"\n"
                  "ENV LEGACY value with  spaces \"and quotes\"\n"
                  "LABEL org.opencontainers.image.title=\"My app\" \"quoted key\"=v\n"
                  "ARG ONE TWO=2 THREE=\"3 3\"\n"
                  "ENV K=v=w\n");

  (void)state;
  assert_args (instr (df, 0, 1), 12, "A", "1", "B", "\"two words\"", "C", "'x y'", "D", "a\\ b",
               "E", "", "F", "\"$A\"");
  assert_args (instr (df, 0, 2), 2, "LEGACY", "value with  spaces \"and quotes\"");
  assert_args (instr (df, 0, 3), 4, "org.opencontainers.image.title", "\"My app\"",
               "\"quoted key\"", "v");
  assert_args (instr (df, 0, 4), 3, "ONE", "TWO=2", "THREE=\"3 3\"");
  assert_args (instr (df, 0, 5), 2, "K", "v=w");
}

static void
test_env_errors (void **state)
{
  (void)state;
  assert_parse_error ("FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument");
  assert_parse_error ("FROM a\nENV ONLYKEY\n", "Dockerfile:2: ENV must have two arguments");
  assert_parse_error ("FROM a\nENV A=1 B\n", "Dockerfile:2: ENV: no \"=\" in \"B\"");
  assert_parse_error ("FROM a\nLABEL =x\n", "Dockerfile:2: LABEL names can not be blank");
  assert_parse_error ("FROM a\nLABEL a=\"open\n", "Dockerfile:2: unterminated double quote");
  assert_parse_error ("FROM a\nENV a='open\n", "Dockerfile:2: unterminated single quote");
  assert_parse_error ("FROM a\nARG\n", "Dockerfile:2: ARG requires at least one argument");
  assert_parse_error ("FROM a\nARG =x\n", "Dockerfile:2: ARG names can not be blank");
  assert_parse_error ("ARG \"x\n", "Dockerfile:1: unterminated double quote");
}

/* ---- other argument forms ---------------------------------------------------- */

static void
test_words_and_strings (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("FROM a\n"
                                               "COPY \"a b\" 'c d' e\\ f /dst/\n"
                                               "WORKDIR /path with spaces  \n"
                                               "USER  1000:1000\n"
                                               "EXPOSE 80 \"8080/udp\"\n"
                                               "CMD   echo  \"a  b\"  \n");

  (void)state;
  assert_args (instr (df, 0, 1), 4, "\"a b\"", "'c d'", "e\\ f", "/dst/");
  assert_args (instr (df, 0, 2), 1, "/path with spaces");
  assert_args (instr (df, 0, 3), 1, "1000:1000");
  assert_args (instr (df, 0, 4), 2, "80", "\"8080/udp\"");
  assert_args (instr (df, 0, 5), 1, "echo  \"a  b\"");
  assert_string_equal (instr (df, 0, 5)->original, "CMD   echo  \"a  b\"");
}

static void
test_missing_arguments (void **state)
{
  (void)state;
  assert_parse_error ("FROM\n", "Dockerfile:1: FROM requires the name of a base image");
  assert_parse_error ("FROM a\nCOPY onlyone\n",
                      "Dockerfile:2: COPY requires at least two arguments");
  assert_parse_error ("FROM a\nADD [\"onlyone\"]\n",
                      "Dockerfile:2: ADD requires at least two arguments");
  assert_parse_error ("FROM a\nEXPOSE\n", "Dockerfile:2: EXPOSE requires at least one argument");
  assert_parse_error ("FROM a\nRUN\n", "Dockerfile:2: RUN requires at least one argument");
  assert_parse_error ("FROM a\nRUN --network=none\n",
                      "Dockerfile:2: RUN requires at least one argument");
  assert_parse_error ("FROM a\nCMD\n", "Dockerfile:2: CMD requires at least one argument");
  assert_parse_error ("FROM a\nWORKDIR\n", "Dockerfile:2: WORKDIR requires exactly one argument");
  assert_parse_error ("FROM a\nUSER   \n", "Dockerfile:2: USER requires exactly one argument");
  assert_parse_error ("FROM a\nSTOPSIGNAL\n",
                      "Dockerfile:2: STOPSIGNAL requires exactly one argument");
  assert_parse_error ("FROM a\nMAINTAINER\n",
                      "Dockerfile:2: MAINTAINER requires exactly one argument");
  assert_parse_error ("FROM a\nVOLUME\n", "Dockerfile:2: VOLUME requires at least one argument");
  assert_parse_error ("FROM a\nHEALTHCHECK\n",
                      "Dockerfile:2: HEALTHCHECK requires at least one argument");
  assert_parse_error ("FROM a\nHEALTHCHECK CMD\n",
                      "Dockerfile:2: missing command after HEALTHCHECK CMD");
  assert_parse_error ("FROM a\nHEALTHCHECK NONE x\n",
                      "Dockerfile:2: HEALTHCHECK NONE takes no arguments");
  assert_parse_error ("FROM a\nHEALTHCHECK RUN x\n",
                      "Dockerfile:2: unknown type \"RUN\" in HEALTHCHECK");
  assert_parse_error ("FROM a\nONBUILD\n", "Dockerfile:2: ONBUILD requires at least one argument");
  assert_parse_error ("FROM a\nCOPY \"a b /x\n",
                      "Dockerfile:2: unterminated double quote in \"?a b /x\"");
}

/* ---- FROM and stages --------------------------------------------------------- */

static void
test_from_errors (void **state)
{
  (void)state;
  assert_parse_error ("FROM a b\n",
                      "Dockerfile:1: FROM takes an image and optionally \"AS name\", got 2 words");
  assert_parse_error ("FROM a AS\n", "Dockerfile:1: FROM takes an image");
  assert_parse_error ("FROM a AS b c\n", "Dockerfile:1: FROM takes an image");
  assert_parse_error ("FROM a FOR b\n", "Dockerfile:1: FROM takes an image");
  assert_parse_error ("FROM a AS 1st\n", "Dockerfile:1: invalid name for build stage \"1st\"");
  assert_parse_error ("FROM a AS b$c\n", "Dockerfile:1: invalid name for build stage \"b$c\"");
  assert_parse_error ("FROM a AS x\nRUN y\nFROM b as X\n",
                      "Dockerfile:3: duplicate stage name \"x\"");
}

static void
test_valid_stage_names (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("FROM a AS b-1_2.3\nFROM a AS Z\n");

  (void)state;
  assert_string_equal (df->stages[0].name, "b-1_2.3");
  assert_string_equal (df->stages[1].name, "z");
}

static void
test_structure_errors (void **state)
{
  (void)state;
  assert_parse_error ("", "Dockerfile:1: file with no instructions");
  assert_parse_error ("\n\n# only comments\n   \n", "Dockerfile:4: file with no instructions");
  assert_parse_error ("ARG A\nARG B\n", "Dockerfile:2: no FROM instruction");
  assert_parse_error ("ARG A\nRUN x\nFROM a\n", "Dockerfile:2: RUN before the first FROM");
  assert_parse_error ("FROM a\n\n\n\n\n\nRUNN x\n", "Dockerfile:7: unknown instruction \"RUNN\"");
  assert_parse_error ("FROM a\nfrob x\n", "Dockerfile:2: unknown instruction \"FROB\"");
  assert_parse_error ("FROM a\nCMD[\"x\"]\n", "Dockerfile:2: unknown instruction \"CMD[?X?]\"");
  assert_parse_error ("FROM a\nRUN ok\n\x01\x02garbage\n",
                      "Dockerfile:3: unknown instruction \"??GARBAGE\"");
}

static void
test_nul_bytes (void **state)
{
  static const char text[] = "FROM a\nRUN x\nRUN \0y\n";
  cleanup_error struct error *err = NULL;

  (void)state;
  assert_null (df_parse ("Dockerfile", text, sizeof (text) - 1, &err));
  assert_string_equal (err->msg, "Dockerfile:3: NUL byte in the file: not a text file");
}

/* ---- ONBUILD ----------------------------------------------------------------- */

static void
test_onbuild (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("FROM a\n"
                                               "ONBUILD run --mount=type=cache,target=/c make\n"
                                               "onbuild COPY . /src\n");
  const struct df_instruction *ob = instr (df, 0, 1);

  (void)state;
  assert_int_equal (ob->kind, DF_ONBUILD);
  assert_int_equal (ob->n_args, 0);
  assert_non_null (ob->onbuild);
  assert_int_equal (ob->onbuild->kind, DF_RUN);
  assert_string_equal (ob->onbuild->original, "RUN --mount=type=cache,target=/c make");
  assert_string_equal (ob->original, "ONBUILD RUN --mount=type=cache,target=/c make");
  assert_string_equal (df_flag (ob->onbuild, "mount"), "type=cache,target=/c");
  assert_args (ob->onbuild, 1, "make");
  assert_int_equal (ob->onbuild->line, 2);
  assert_int_equal (instr (df, 0, 2)->onbuild->kind, DF_COPY);
  assert_args (instr (df, 0, 2)->onbuild, 2, ".", "/src");
}

static void
test_onbuild_errors (void **state)
{
  (void)state;
  assert_parse_error ("FROM a\nONBUILD ONBUILD RUN x\n",
                      "Dockerfile:2: chaining ONBUILD via \"ONBUILD ONBUILD\" isn't allowed");
  assert_parse_error ("FROM a\nONBUILD from b\n",
                      "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
  assert_parse_error ("FROM a\nONBUILD MAINTAINER me\n",
                      "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger");
  assert_parse_error ("FROM a\nONBUILD RUNN x\n", "Dockerfile:2: unknown instruction \"RUNN\"");
  assert_parse_error ("FROM a\nONBUILD COPY x\n",
                      "Dockerfile:2: COPY requires at least two arguments");
}

/* ---- here-documents ------------------------------------------------------------- */

static void
test_heredoc_run (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("FROM a\n"
                                               "RUN <<EOF\n"
                                               "echo $HOME\n"
                                               "# a comment in the body\n"
                                               "\n"
                                               "EOF\n"
                                               "RUN next\n");
  const struct df_instruction *run = instr (df, 0, 1);

  (void)state;
  assert_args (run, 1, "<<EOF");
  assert_string_equal (run->original, "RUN <<EOF");
  assert_int_equal (run->n_heredocs, 1);
  assert_string_equal (run->heredocs[0].name, "EOF");
  assert_string_equal (run->heredocs[0].content, "echo $HOME\n# a comment in the body\n\n");
  assert_true (run->heredocs[0].is_expand);
  assert_int_equal (instr (df, 0, 2)->line, 7);
}

static void
test_heredoc_variants (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("FROM a\n"
                                               "RUN <<-EOT\n"
                                               "\t\tindented\n"
                                               "\tEOT\n"
                                               "RUN <<'Q1' <<\"Q2\" cat /dev/fd/3\n"
                                               "one $X\n"
                                               "Q1\n"
                                               "two\n"
                                               "Q2\n"
                                               "COPY <<EOF /dest\n"
                                               "content\n"
                                               "EOF\n"
                                               "COPY --chmod=755 <<one.sh <<two.sh /bin/\n"
                                               "1\n"
                                               "one.sh\n"
                                               "two.sh\n"
                                               "RUN python3 <<EOF > /out\r\n"
                                               "print(1)\r\n"
                                               "EOF\r\n"
                                               "RUN 3<<X cat <&3\n"
                                               "x\n"
                                               "X");
  const struct df_instruction *chomp = instr (df, 0, 1);
  const struct df_instruction *two = instr (df, 0, 2);
  const struct df_instruction *copy = instr (df, 0, 3);
  const struct df_instruction *copy2 = instr (df, 0, 4);
  const struct df_instruction *crlf = instr (df, 0, 5);
  const struct df_instruction *fd = instr (df, 0, 6);

  (void)state;
  assert_string_equal (chomp->heredocs[0].content, "indented\n");
  assert_int_equal (two->n_heredocs, 2);
  assert_string_equal (two->heredocs[0].name, "Q1");
  assert_false (two->heredocs[0].is_expand);
  assert_string_equal (two->heredocs[0].content, "one $X\n");
  assert_string_equal (two->heredocs[1].name, "Q2");
  assert_false (two->heredocs[1].is_expand);
  assert_string_equal (two->heredocs[1].content, "two\n");
  assert_args (copy, 2, "<<EOF", "/dest");
  assert_string_equal (copy->heredocs[0].content, "content\n");
  assert_ptr_equal (df_heredoc_for_arg (copy, "<<EOF"), &copy->heredocs[0]);
  assert_ptr_equal (df_heredoc_for_arg (copy, "<<-EOF"), &copy->heredocs[0]);
  assert_null (df_heredoc_for_arg (copy, "/dest"));
  assert_null (df_heredoc_for_arg (copy, "<<OTHER"));
  assert_int_equal (copy2->n_heredocs, 2);
  assert_string_equal (copy2->heredocs[0].content, "1\n");
  assert_string_equal (copy2->heredocs[1].content, "");
  assert_ptr_equal (df_heredoc_for_arg (copy2, copy2->args[1]), &copy2->heredocs[1]);
  assert_string_equal (crlf->heredocs[0].content, "print(1)\r\n");
  assert_args (crlf, 1, "python3 <<EOF > /out");
  assert_string_equal (fd->heredocs[0].name, "X");
  assert_string_equal (fd->heredocs[0].content, "x\n");
}

static void
test_not_heredocs (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("FROM a\n"
                                               "RUN echo \"<<EOF\" '<<EOF'\n"
                                               "RUN cat<<EOF\n"
                                               "RUN [\"cat\", \"<<EOF\"]\n"
                                               "CMD cat <<EOF\n"
                                               "RUN echo a << b\n"
                                               "RUN echo <<a<b\n");

  (void)state;
  for (size_t i = 1; i < df->stages[0].n_instrs; i++)
    assert_int_equal (instr (df, 0, i)->n_heredocs, 0);
  assert_int_equal (df->stages[0].n_instrs, 7);
}

static void
test_heredoc_in_onbuild (void **state)
{
  cleanup_df struct dockerfile *df = parse_ok ("FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\nRUN x\n");
  const struct df_instruction *ob = instr (df, 0, 1);

  (void)state;
  assert_int_equal (ob->onbuild->n_heredocs, 1);
  assert_string_equal (ob->onbuild->heredocs[0].content, "echo hi\n");
  assert_string_equal (ob->onbuild->original, "RUN <<EOF\necho hi\nEOF");
  assert_string_equal (ob->original, "ONBUILD RUN <<EOF");
  assert_int_equal (instr (df, 0, 2)->line, 5);
}

static void
test_heredoc_errors (void **state)
{
  (void)state;
  assert_parse_error ("FROM a\nRUN x\nRUN <<EOF\necho\nEO\n",
                      "Dockerfile:3: unterminated heredoc \"EOF\"");
  assert_parse_error ("FROM a\nRUN <<A <<B\na\nA\nb\n", "Dockerfile:2: unterminated heredoc \"B\"");
  assert_parse_error ("FROM a\nRUN <<EOF\n\tEOF\n", "Dockerfile:2: unterminated heredoc \"EOF\"");
  assert_parse_error ("FROM a\nCOPY a <<EOF\nx\nEOF\n",
                      "Dockerfile:2: COPY cannot accept a heredoc as the destination");
}

/* ---- hostile input ------------------------------------------------------------ */

static void
test_huge_line (void **state)
{
  size_t n = 4 << 20;
  char *text = xmalloc (n + 200000);
  cleanup_error struct error *err = NULL;
  struct dockerfile *df;
  int len;

  (void)state;
  len = sprintf (text, "FROM a\nRUN ");
  memset (text + len, 'x', n);
  strcpy (text + len + n, "\nCOPY ");
  memset (text + len + n + 6, 'y', 100000);
  text[len + n + 6 + 100000] = '\0';
  df = df_parse ("Dockerfile", text, strlen (text), &err);
  assert_null (df);
  assert_non_null (strstr (err->msg, "Dockerfile:3: COPY requires at least two"));
  text[len + n] = '\0';
  err_release (&err);
  df = df_parse ("Dockerfile", text, strlen (text), &err);
  assert_non_null (df);
  assert_int_equal (strlen (df->stages[0].instrs[1].args[0]), n);
  df_free (df);
  free (text);
}

static void
test_unknown_instruction_message_is_bounded (void **state)
{
  size_t n = 100000;
  char *text = xmalloc (n + 16);
  cleanup_error struct error *err = NULL;

  (void)state;
  memcpy (text, "FROM a\n", 7);
  memset (text + 7, 'Q', n);
  text[7 + n] = '\0';
  assert_null (df_parse ("Dockerfile", text, strlen (text), &err));
  assert_true (strlen (err->msg) < 200);
  assert_non_null (strstr (err->msg, "Dockerfile:2: unknown instruction \"QQQ"));
  free (text);
}

static void
test_deep_nesting (void **state)
{
  size_t n = 100000;
  cleanup_buf struct buf b = BUF_INIT;
  cleanup_error struct error *err = NULL;
  cleanup_df struct dockerfile *df = NULL;

  (void)state;
  buf_append_str (&b, "FROM a\nCMD ");
  for (size_t i = 0; i < n; i++)
    buf_append_char (&b, '[');
  for (size_t i = 0; i < n; i++)
    buf_append_char (&b, ']');
  buf_append_str (&b, "\nLABEL ");
  for (size_t i = 0; i < 1000; i++)
    buf_append_str (&b, "a=\"${b:-${c:-\"");
  /* The parser keeps words raw: nesting is df_expand's problem. */
  df = df_parse ("Dockerfile", b.data, b.len, &err);
  assert_non_null (df);
  assert_false (df->stages[0].instrs[1].is_json);
  assert_int_equal (df->stages[0].instrs[1].args[0][0], '[');
  assert_int_equal (df->stages[0].instrs[2].n_args, 2);
  df_free (steal_ptr (&df));
  /* An odd number of quotes now: unterminated. */
  buf_append_str (&b, "\"");
  assert_null (df_parse ("Dockerfile", b.data, b.len, &err));
  assert_non_null (strstr (err->msg, "Dockerfile:3: unterminated double quote"));
}

static void
test_many_continuations_and_flags (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;
  cleanup_df struct dockerfile *df = NULL;

  (void)state;
  buf_append_str (&b, "FROM a\nRUN ");
  for (int i = 0; i < 5000; i++)
    buf_append_str (&b, "--mount=type=tmpfs,target=/t \\\n");
  buf_append_str (&b, "true\n");
  df = parse_ok (b.data);
  assert_int_equal (df->stages[0].instrs[1].n_flags, 5000);
  assert_args (&df->stages[0].instrs[1], 1, "true");
}

static void
test_many_words (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;
  cleanup_df struct dockerfile *df = NULL;

  (void)state;
  buf_append_str (&b, "FROM a\nCOPY");
  for (int i = 0; i < 200000; i++)
    buf_append_str (&b, " w");
  buf_append_str (&b, " /dst\nCMD [");
  for (int i = 0; i < 100000; i++)
    buf_append_str (&b, "\"a\",");
  buf_append_str (&b, "\"z\"]\n");
  df = parse_ok (b.data);
  assert_int_equal (df->stages[0].instrs[1].n_args, 200001);
  assert_string_equal (df->stages[0].instrs[1].args[200000], "/dst");
  assert_true (df->stages[0].instrs[2].is_json);
  assert_int_equal (df->stages[0].instrs[2].n_args, 100001);
  assert_string_equal (df->stages[0].instrs[2].args[100000], "z");
}

static const char *const sample = "# syntax=docker/dockerfile:1\n"
                                  "ARG BASE=alpine:3.19\n"
                                  "FROM --platform=$BUILDPLATFORM $BASE AS build\n"
                                  "ENV A=1 B=\"x y\" \\\n"
                                  "    C='z'\n"
                                  "LABEL k=v\n"
                                  "RUN --mount=type=cache,target=/c apk add \\\n"
                                  "  # comment\n"
                                  "  curl\n"
                                  "COPY --chown=1:1 [\"a\", \"/b\"]\n"
                                  "RUN <<-EOF <<'E2'\n"
                                  "\techo $A\n"
                                  "\tEOF\n"
                                  "x\n"
                                  "E2\n"
                                  "HEALTHCHECK --interval=5s CMD [\"true\"]\n"
                                  "ONBUILD COPY <<X /x\n"
                                  "body\n"
                                  "X\n"
                                  "FROM scratch AS final\n"
                                  "COPY --from=build / /\n"
                                  "CMD echo \"done\"\n";

/* Random mutations of a valid Dockerfile: every outcome must be a parsed
 * file or an error naming the file, never a crash or a leak (ASan). */
static void
test_mutations (void **state)
{
  static const char inject[] = "\\`\"'#<-=[]{}$\n\r\t :,ACEFHLMNOPRSTUVW0\0";
  size_t base_len = strlen (sample);
  unsigned int seed = 4242;

  (void)state;
  for (int round = 0; round < 30000; round++)
    {
      char text[1024];
      size_t len = base_len;
      int edits = 1 + (int)(rand_r (&seed) % 8);
      cleanup_error struct error *err = NULL;
      struct dockerfile *df;

      memcpy (text, sample, len);
      for (int e = 0; e < edits; e++)
        {
          size_t at = len ? (size_t)rand_r (&seed) % len : 0;
          char c = inject[rand_r (&seed) % (sizeof (inject) - 1)];

          switch (rand_r (&seed) % 4)
            {
            case 0: /* replace */
              if (len > 0)
                text[at] = c;
              break;
            case 1: /* insert */
              if (len + 1 < sizeof (text))
                {
                  memmove (text + at + 1, text + at, len - at);
                  text[at] = c;
                  len++;
                }
              break;
            case 2: /* delete */
              if (len > 0)
                {
                  memmove (text + at, text + at + 1, len - at - 1);
                  len--;
                }
              break;
            default: /* truncate */
              len = at;
              break;
            }
        }
      df = df_parse ("Dockerfile", text, len, &err);
      if (df == NULL)
        {
          assert_non_null (err);
          assert_true (strncmp (err->msg, "Dockerfile:", 11) == 0);
        }
      else
        {
          assert_null (err);
          assert_true (df->n_stages > 0);
          df_free (df);
        }
    }
}

static void
test_random_garbage (void **state)
{
  unsigned int seed = 777;

  (void)state;
  for (int round = 0; round < 3000; round++)
    {
      char text[512];
      size_t len = (size_t)(rand_r (&seed) % sizeof (text));
      cleanup_error struct error *err = NULL;
      struct dockerfile *df;

      for (size_t i = 0; i < len; i++)
        text[i] = (char)(rand_r (&seed) & 0xff);
      df = df_parse ("Dockerfile", text, len, &err);
      if (df == NULL)
        assert_non_null (err);
      df_free (df);
    }
}

static void
test_ten_thousand_lines_is_fast (void **state)
{
  cleanup_buf struct buf b = BUF_INIT;
  struct timespec t0, t1;
  cleanup_df struct dockerfile *df = NULL;
  double ms;

  (void)state;
  buf_append_str (&b, "FROM alpine AS base\n");
  for (int i = 0; i < 10000; i++)
    buf_printf (&b, "RUN --mount=type=cache,target=/c%d echo %d && \\\n  true\n", i, i);
  clock_gettime (CLOCK_MONOTONIC, &t0);
  df = parse_ok (b.data);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  assert_int_equal (df->stages[0].n_instrs, 10001);
  assert_int_equal (df->stages[0].instrs[10000].line, 20000);
  /* Printed, not asserted: timing depends on the machine and ASan. */
  print_message ("10,000 instructions parsed in %.1f ms\n", ms);
}

static void
test_parse_file (void **state)
{
  char path[] = "/tmp/test-dockerfile-XXXXXX";
  int fd = mkstemp (path);
  cleanup_error struct error *err = NULL;
  cleanup_df struct dockerfile *df = NULL;

  (void)state;
  assert_true (fd >= 0);
  assert_int_equal (write (fd, "FROM a\nRUNN\n", 12), 12);
  close (fd);
  assert_null (df_parse_file (path, &err));
  assert_non_null (strstr (err->msg, ":2: unknown instruction \"RUNN\""));
  assert_true (strncmp (err->msg, path, strlen (path)) == 0);
  err_release (&err);
  fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, "FROM a\n", 7), 7);
  close (fd);
  df = df_parse_file (path, &err);
  assert_non_null (df);
  assert_string_equal (df->path, path);
  unlink (path);
  assert_null (df_parse_file (path, &err));
  assert_non_null (err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_minimal),
    cmocka_unit_test (test_stages_and_global_args),
    cmocka_unit_test (test_keywords_case_insensitive),
    cmocka_unit_test (test_all_kinds_and_names),
    cmocka_unit_test (test_directives),
    cmocka_unit_test (test_directive_after_other_lines_is_a_comment),
    cmocka_unit_test (test_directive_errors),
    cmocka_unit_test (test_comments_and_blank_lines),
    cmocka_unit_test (test_continuations),
    cmocka_unit_test (test_flags),
    cmocka_unit_test (test_flag_errors),
    cmocka_unit_test (test_json_forms),
    cmocka_unit_test (test_json_errors),
    cmocka_unit_test (test_env_label_arg),
    cmocka_unit_test (test_env_errors),
    cmocka_unit_test (test_words_and_strings),
    cmocka_unit_test (test_missing_arguments),
    cmocka_unit_test (test_from_errors),
    cmocka_unit_test (test_valid_stage_names),
    cmocka_unit_test (test_structure_errors),
    cmocka_unit_test (test_nul_bytes),
    cmocka_unit_test (test_onbuild),
    cmocka_unit_test (test_onbuild_errors),
    cmocka_unit_test (test_heredoc_run),
    cmocka_unit_test (test_heredoc_variants),
    cmocka_unit_test (test_not_heredocs),
    cmocka_unit_test (test_heredoc_in_onbuild),
    cmocka_unit_test (test_heredoc_errors),
    cmocka_unit_test (test_huge_line),
    cmocka_unit_test (test_unknown_instruction_message_is_bounded),
    cmocka_unit_test (test_deep_nesting),
    cmocka_unit_test (test_many_continuations_and_flags),
    cmocka_unit_test (test_many_words),
    cmocka_unit_test (test_mutations),
    cmocka_unit_test (test_random_garbage),
    cmocka_unit_test (test_ten_thousand_lines_is_fast),
    cmocka_unit_test (test_parse_file),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
