/* Dockerfile / Containerfile parsing: the text becomes a list of stages of
 * instructions, with parser directives (# escape=, # syntax=), comments,
 * line continuations, the JSON (exec) and shell forms, flags, and BuildKit
 * here-documents resolved.  Variable substitution is not done here: it
 * depends on the ARG and ENV values at the point of use, so the builder
 * calls df_expand() on each word when it executes the instruction.  The
 * text is hostile input: every malformed construct is an error naming the
 * file, the line and the problem. */
#ifndef SKIFF_SRC_DOCKERFILE_H
#define SKIFF_SRC_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "libutil/error.h"

enum df_kind
{
  DF_FROM,
  DF_RUN,
  DF_CMD,
  DF_LABEL,
  DF_MAINTAINER,
  DF_EXPOSE,
  DF_ENV,
  DF_ADD,
  DF_COPY,
  DF_ENTRYPOINT,
  DF_VOLUME,
  DF_USER,
  DF_WORKDIR,
  DF_ARG,
  DF_ONBUILD,
  DF_STOPSIGNAL,
  DF_HEALTHCHECK,
  DF_SHELL,
};

/* "--chown=1:2" is { "chown", "1:2" }; a flag given without "=VALUE" has
 * value NULL.  Values are raw (not yet expanded). */
struct df_flag
{
  char *name;
  char *value;
};

/* A here-document "<<EOF", "<<-EOF", "<<'EOF'" or "<<\"EOF\"". */
struct df_heredoc
{
  char *name;     /* the delimiter word, unquoted: "EOF" */
  char *content;  /* the lines between, each ending in "\n"; with "<<-"
                     leading tabs already removed */
  bool is_expand; /* the delimiter was unquoted: $VAR in the content is
                     expanded (by the shell for RUN; by the builder for
                     COPY) */
};

/* One instruction.  ARGS depend on the kind and the form:
 *
 *  JSON form (is_json; RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME and
 *  HEALTHCHECK CMD may use it): the array's strings, already unescaped; no
 *  further quote removal or expansion applies to them except for COPY/ADD
 *  and VOLUME, whose elements are still expanded (df_expand with
 *  DF_EXPAND_NO_QUOTES).
 *
 *  Shell form of RUN, CMD, ENTRYPOINT: ONE element, the command line as
 *  written, continuation lines joined (the escape character and the newline
 *  removed) and comment lines inside the continuation dropped.  It is given
 *  to the shell as it is: no expansion by the builder.
 *
 *  HEALTHCHECK: args[0] is "NONE" or "CMD"; with CMD the command follows as
 *  above (args[1] the shell form's line, or args[1..] the JSON array).
 *
 *  ENV and LABEL: pairs, args[2i] the key and args[2i+1] the value, raw
 *  (quotes still in place, to be removed by df_expand).  The legacy
 *  "ENV KEY value with spaces" form gives one pair whose value is the rest
 *  of the line.  A key without "=" in the key=value form is an error.
 *
 *  ARG: one element per "NAME" or "NAME=default", raw.
 *
 *  Others (FROM, COPY/ADD shell form, EXPOSE, VOLUME, USER, WORKDIR,
 *  STOPSIGNAL, MAINTAINER): the words, split at unquoted white space, raw.
 *  FROM's words are "IMAGE" or "IMAGE AS NAME" (AS in any case). WORKDIR,
 *  USER, STOPSIGNAL and MAINTAINER keep the rest of the line as ONE word.
 *
 *  ONBUILD: no args; the wrapped instruction is in `onbuild` (never FROM,
 *  ONBUILD or MAINTAINER: an error).  `original` of the wrapped one is its
 *  text without "ONBUILD ", which is what the image config stores. */
struct df_instruction
{
  enum df_kind kind;
  char *original;   /* the instruction as written, continuations joined,
                       keyword upper-cased: "RUN apk add x" (for history
                       and for "STEP n/m: ..." lines) */
  unsigned int line; /* 1-based line of the keyword */
  struct df_flag *flags;
  size_t n_flags;
  char **args;
  size_t n_args;
  bool is_json;
  struct df_heredoc *heredocs; /* in order of appearance */
  size_t n_heredocs;
  struct df_instruction *onbuild;
};

struct df_stage
{
  char *base;        /* FROM's image word, raw (may hold $ARG) */
  char *name;        /* "AS name" lower-cased, or NULL */
  char *platform;    /* --platform value, raw, or NULL */
  unsigned int index; /* 0-based */
  struct df_instruction *instrs; /* instrs[0] is the FROM itself */
  size_t n_instrs;
};

struct dockerfile
{
  char *path;            /* for messages */
  char escape;           /* '\\' or '`' */
  char *syntax;          /* "# syntax=" value (ignored), or NULL */
  struct df_instruction *global_args; /* ARGs before the first FROM */
  size_t n_global_args;
  struct df_stage *stages;
  size_t n_stages;
};

/* Parse TEXT (LEN bytes; NUL bytes are an error) read from PATH (used in
 * messages only: "Dockerfile:12: unterminated heredoc \"EOF\"").  Errors:
 * unknown instruction, instruction other than ARG before the first FROM,
 * no FROM, no instruction at all, malformed JSON form (SHELL, or an array
 * of something else than strings), unterminated quote in a word or flag,
 * unterminated here-document, a flag an instruction does not take (also
 * repeated, without its value, or a boolean one not true/false), a missing
 * argument, FROM with other words than "IMAGE [AS NAME]", an invalid or
 * duplicate stage name, a repeated or invalid parser directive.  A line
 * continuation at the end of the file just ends the instruction, as in
 * docker.  Boolean flags (--link, --parents, --keep-git-dir) have value
 * NULL, "true" or "false" (any case). */
struct dockerfile *df_parse (const char *path, const char *text, size_t len,
                             struct error **err);

/* df_parse of the file at PATH. */
struct dockerfile *df_parse_file (const char *path, struct error **err);

void df_free (struct dockerfile *df);

/* The value of FLAG on INSTR, or NULL (also for a flag given without a
 * value; use df_has_flag for those).  With repeated flags (RUN --mount
 * twice) the first; use the array for all. */
const char *df_flag (const struct df_instruction *instr, const char *name);
bool df_has_flag (const struct df_instruction *instr, const char *name);

/* The stage named NAME (case-insensitive) or with index NAME ("0", "1"),
 * or NULL. */
const struct df_stage *df_stage_find (const struct dockerfile *df, const char *name);

const char *df_kind_name (enum df_kind kind); /* "RUN" */

/* The here-document a COPY/ADD source word ("<<EOF", "<<-'EOF'") stands
 * for, or NULL when ARG is not a here-document word of INSTR. */
const struct df_heredoc *df_heredoc_for_arg (const struct df_instruction *instr,
                                             const char *arg);

/* Variable lookup for df_expand: the value of NAME or NULL when unset. */
typedef const char *(*df_lookup_fn) (const char *name, void *data);

enum
{
  DF_EXPAND_NO_QUOTES = 1 << 0, /* quotes are literal (JSON elements,
                                   heredoc bodies), and so are escapes:
                                   ESCAPE and the character after it are
                                   both kept and the character has no
                                   special meaning (\$A stays \$A),
                                   as BuildKit's raw mode for COPY
                                   here-documents */
};

/* Docker's word processing: substitute $VAR, ${VAR}, ${VAR:-default},
 * ${VAR:+alternative} (and the forms without ':', which docker also
 * accepts) and remove quotes and escapes ('single' literal, "double" with
 * substitution, ESCAPE before a character takes it literally, "\$" a
 * literal dollar).  An unset variable expands to "".  Errors: an
 * unterminated quote or "${", a bad variable name, an unsupported modifier
 * ("${A:?x}", "${A#x}").  *OUT is malloc'd. */
int df_expand (const char *word, char escape, unsigned int flags, df_lookup_fn lookup,
               void *data, char **out, struct error **err);

#endif
