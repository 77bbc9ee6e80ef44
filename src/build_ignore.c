/* .containerignore / .dockerignore: parsing and docker's matching rules
 * (moby/patternmatcher), implemented with a small backtracking matcher
 * over the pattern instead of docker's translation to a regular
 * expression; the two agree on every form docker accepts. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_ignore.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "runtime.h"

/* Largest ignore file read: far beyond any real one, bounds hostile input. */
#define IGNORE_FILE_MAX (4u << 20)

struct ignore_pattern
{
  char *text;        /* cleaned, without "!" */
  bool is_exception; /* "!" */
};

struct build_ignore
{
  struct ignore_pattern *v;
  size_t n;
};

/* ---- Go's filepath.Match, plus docker's "**" ----------------------------- */

/* Length of the UTF-8 sequence starting at S (1 for a stray byte), so "?"
 * consumes one character as Go does. */
static size_t
utf8_len (const char *s)
{
  unsigned char c = (unsigned char) *s;
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;

  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 1;
  return n;
}

/* One character of a class, "\\" escaping the next; *P advances.  -1 for a
 * class that ends early, as Go's getEsc refuses "[", "[-" and "[\\". */
static int
class_char (const char **p)
{
  const char *s = *p;

  if (*s == '\0' || *s == '-' || *s == ']')
    return -1;
  if (*s == '\\')
    {
      s++;
      if (*s == '\0')
        return -1;
    }
  *p = s + 1;
  return (unsigned char) *s;
}

/* Match byte C against the class starting after "[" at *P; *P ends after
 * "]".  1 match, 0 none, -1 malformed. */
static int
match_class (const char **p, int c)
{
  const char *s = *p;
  bool is_negated = false, is_match = false;
  int n = 0;

  if (*s == '^')
    {
      is_negated = true;
      s++;
    }
  for (;; n++)
    {
      int lo, hi;

      if (*s == ']' && n > 0)
        break;
      lo = class_char (&s);
      if (lo < 0)
        return -1;
      hi = lo;
      if (*s == '-')
        {
          s++;
          hi = class_char (&s);
          if (hi < 0)
            return -1;
        }
      if (lo <= c && c <= hi)
        is_match = true;
    }
  *p = s + 1;
  return is_match != is_negated;
}

/* Check the whole pattern as Go's filepath.Match does before use. */
static bool
pattern_valid (const char *p)
{
  while (*p)
    {
      if (*p == '\\')
        {
          if (p[1] == '\0')
            return false;
          p += 2;
        }
      else if (*p == '[')
        {
          p++;
          if (match_class (&p, 0) < 0)
            return false;
        }
      else
        p++;
    }
  return true;
}

/* Backtracking match of NAME against P: "*" any run without "/", "?" one
 * character but "/", "**" followed by "/" any run of whole directories
 * (also none), "**" at the end anything. */
static bool
match_here (const char *p, const char *s)
{
  while (*p)
    {
      if (p[0] == '*' && p[1] == '*')
        {
          p += 2;
          if (*p == '\0')
            return true;
          if (*p == '/')
            p++;
          /* docker's regular expression "(.*SLASH)?": here, or after any later
             "/" */
          if (match_here (p, s))
            return true;
          for (const char *t = s; *t; t++)
            if (*t == '/' && match_here (p, t + 1))
              return true;
          return false;
        }
      if (*p == '*')
        {
          p++;
          for (const char *t = s;; t++)
            {
              if (match_here (p, t))
                return true;
              if (*t == '\0' || *t == '/')
                return false;
            }
        }
      if (*s == '\0')
        return false;
      if (*p == '?')
        {
          if (*s == '/')
            return false;
          p++;
          s += utf8_len (s);
          continue;
        }
      if (*p == '[')
        {
          p++;
          if (match_class (&p, (unsigned char) *s) != 1)
            return false;
          s++;
          continue;
        }
      if (*p == '\\' && p[1] != '\0')
        p++;
      if (*p != *s)
        return false;
      p++;
      s++;
    }
  return *s == '\0';
}

int
build_ignore_fnmatch (const char *pattern, const char *name)
{
  if (!pattern_valid (pattern))
    return -1;
  return match_here (pattern, name) ? 1 : 0;
}

/* ---- parsing ------------------------------------------------------------- */

/* Go's filepath.Clean on a relative or absolute "/" path, in place: drop
 * empty and "." components, resolve ".." lexically ("/.." stays "/"). */
static char *
clean_path (const char *in)
{
  bool is_abs = in[0] == '/';
  cleanup_strv char **parts = str_split (in, '/');
  char **out = xcalloc (strv_len (parts) + 1, sizeof *out);
  size_t n = 0;
  char *joined, *res;

  for (size_t i = 0; parts[i]; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0 && n > 0 && strcmp (out[n - 1], "..") != 0)
        {
          n--;
          continue;
        }
      if (strcmp (parts[i], "..") == 0 && is_abs)
        continue;
      out[n++] = parts[i];
    }
  out[n] = NULL;
  joined = str_join (out, "/");
  free (out);
  if (is_abs)
    res = xasprintf ("/%s", joined);
  else
    res = xstrdup (joined[0] ? joined : ".");
  free (joined);
  return res;
}

static int
add_pattern (struct build_ignore *ign, char *line, const char *path, unsigned int lineno,
             struct error **err)
{
  bool is_exception = false;
  cleanup_free char *cleaned = NULL;
  char *p = str_strip (line);

  if (*p == '\0')
    return 0;
  if (*p == '!')
    {
      is_exception = true;
      p = str_strip (p + 1);
      if (*p == '\0')
        return err_make (err, 0, "%s:%u: illegal exclusion pattern: \"!\"", path, lineno);
    }
  cleaned = clean_path (p);
  if (cleaned[0] == '/' && cleaned[1] != '\0')
    memmove (cleaned, cleaned + 1, strlen (cleaned));
  if (!pattern_valid (cleaned))
    return err_make (err, 0, "%s:%u: syntax error in pattern \"%s\"", path, lineno, p);
  ign->v = xrealloc (ign->v, (ign->n + 1) * sizeof *ign->v);
  ign->v[ign->n].text = steal_ptr (&cleaned);
  ign->v[ign->n].is_exception = is_exception;
  ign->n++;
  return 0;
}

struct build_ignore *
build_ignore_parse (const char *path, const char *text, size_t len, struct error **err)
{
  struct build_ignore *ign = xmalloc0 (sizeof *ign);
  const char *end = text + len;
  unsigned int lineno = 0;

  if (len >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0)
    text += 3;
  while (text < end)
    {
      const char *nl = memchr (text, '\n', (size_t) (end - text));
      size_t n = nl ? (size_t) (nl - text) : (size_t) (end - text);
      cleanup_free char *line = xstrndup (text, n);

      lineno++;
      text += n + (nl != NULL);
      if (memchr (line, '\0', n) != NULL)
        {
          build_ignore_free (ign);
          err_make (err, 0, "%s:%u: NUL byte in pattern", path, lineno);
          return NULL;
        }
      /* docker drops comment lines before trimming white space */
      if (line[0] == '#')
        continue;
      if (add_pattern (ign, line, path, lineno, err) < 0)
        {
          build_ignore_free (ign);
          return NULL;
        }
    }
  return ign;
}

/* The file at NAME in DIRFD (resolved inside it: the context may come
 * from a hostile tar), or NULL with *ERR unset when it does not exist. */
static char *
read_in_context (int dirfd, const char *name, size_t *len, struct error **err)
{
  cleanup_close int fd = runtime_fs_open_in_root (dirfd, name, O_RDONLY | O_NOCTTY, 0);
  struct stat st;

  if (fd < 0 && errno == ENOENT)
    return NULL;
  if (fd < 0)
    {
      err_make (err, errno, "open \"%s\"", name);
      return NULL;
    }
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      err_make (err, errno ? errno : EINVAL, "read \"%s\": not a regular file", name);
      return NULL;
    }
  /* read through the descriptor already resolved inside the context */
  cleanup_free char *proc = xasprintf ("/proc/self/fd/%d", fd);
  return fs_read_file (proc, IGNORE_FILE_MAX, len, err);
}

int
build_ignore_load (int context_dirfd, const char *dockerfile_path, struct build_ignore **out,
                   struct error **err)
{
  static const char *const names[] = { ".containerignore", ".dockerignore" };
  cleanup_free char *text = NULL;
  const char *from = NULL;
  size_t len = 0;

  *out = NULL;
  if (dockerfile_path && strcmp (dockerfile_path, "-") != 0)
    {
      cleanup_free char *p = xasprintf ("%s.dockerignore", dockerfile_path);
      struct error *e = NULL;

      text = fs_read_file (p, IGNORE_FILE_MAX, &len, &e);
      if (text)
        from = p;
      else if (e->errnum != ENOENT && e->errnum != ENOTDIR)
        {
          *err = e;
          return err_wrap (err, "read ignore file");
        }
      err_release (&e);
      if (from)
        {
          *out = build_ignore_parse (from, text, len, err);
          return *out ? 0 : -1;
        }
    }
  for (size_t i = 0; context_dirfd >= 0 && i < sizeof names / sizeof *names; i++)
    {
      struct error *e = NULL;

      text = read_in_context (context_dirfd, names[i], &len, &e);
      if (e)
        {
          *err = e;
          return err_wrap (err, "read ignore file");
        }
      if (text)
        {
          *out = build_ignore_parse (names[i], text, len, err);
          return *out ? 0 : -1;
        }
    }
  return 0;
}

/* ---- matching ------------------------------------------------------------ */

/* PATTERN against PATH or any of its parent directories, as docker's
 * MatchesOrParentMatches. */
static bool
matches_or_parent (const char *pattern, const char *path)
{
  cleanup_free char *prefix = xstrdup (path);

  if (match_here (pattern, path))
    return true;
  for (char *s = prefix; (s = strchr (s, '/')) != NULL; s++)
    {
      bool is_match;

      *s = '\0';
      is_match = match_here (pattern, prefix);
      *s = '/';
      if (is_match)
        return true;
    }
  return false;
}

bool
build_ignore_match (const struct build_ignore *ign, const char *relpath, bool is_dir)
{
  bool is_excluded = false;

  (void) is_dir; /* docker cleans a trailing "/" from patterns: files and
                    directories match alike */
  if (ign == NULL)
    return false;
  for (size_t i = 0; i < ign->n; i++)
    {
      /* an exclusion cannot change an excluded path, nor an exception an
         included one */
      if (ign->v[i].is_exception != is_excluded)
        continue;
      if (matches_or_parent (ign->v[i].text, relpath))
        is_excluded = !ign->v[i].is_exception;
    }
  return is_excluded;
}

/* Could exception PATTERN match something below DIR?  Its leading
 * components must match DIR's, and it must go deeper; a "**" component on
 * the way may match anything. */
static bool
may_match_below (const char *pattern, const char *dir)
{
  cleanup_strv char **pc = str_split (pattern, '/');
  cleanup_strv char **dc = str_split (dir, '/');
  size_t i = 0;

  for (; dc[i]; i++)
    {
      if (pc[i] == NULL)
        return false;
      if (strstr (pc[i], "**") != NULL)
        return true;
      if (!match_here (pc[i], dc[i]))
        return false;
    }
  return pc[i] != NULL;
}

bool
build_ignore_has_exceptions_below (const struct build_ignore *ign, const char *dir_relpath)
{
  for (size_t i = 0; ign && i < ign->n; i++)
    if (ign->v[i].is_exception && may_match_below (ign->v[i].text, dir_relpath))
      return true;
  return false;
}

bool
build_ignore_is_empty (const struct build_ignore *ign)
{
  return ign == NULL || ign->n == 0;
}

void
build_ignore_free (struct build_ignore *ign)
{
  if (ign == NULL)
    return;
  for (size_t i = 0; i < ign->n; i++)
    free (ign->v[i].text);
  free (ign->v);
  free (ign);
}

void
build_ignore_freep (struct build_ignore **ign)
{
  build_ignore_free (*ign);
  *ign = NULL;
}
