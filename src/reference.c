/* Image references: docker's grammar (distribution/reference regexp.go)
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path
 *   domain    := host [ ":" port ]        host: domain name, or "[" IPv6 "]"
 *   path      := component ( "/" component )*
 *   component := [a-z0-9]+ ( separator [a-z0-9]+ )*
 *   separator := "." | "_" | "__" | "-"+
 *   tag       := [\w][\w.-]{0,127}
 *   digest    := "sha256:" [a-f0-9]{64}   (the only algorithm we accept)
 *
 * and its normalisation (normalize.go, splitDockerDomain).  The matchers
 * are written out by hand: each is a few lines, and a name is parsed once
 * per command. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "libutil/mem.h"
#include "reference.h"

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define SHA256_PREFIX "sha256:"
#define SHA256_HEX_LEN 64
/* Longer input cannot be valid (name, tag and digest at their limits), so
 * it is refused before any work. */
#define INPUT_MAX 1024
/* How much of a bad input an error message quotes. */
#define DISPLAY_MAX 300

static bool
is_lower_alnum (int c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum (int c)
{
  return is_lower_alnum (c) || (c >= 'A' && c <= 'Z');
}

static bool
is_word (int c)
{
  return is_alnum (c) || c == '_';
}

static bool
is_lower_hex (int c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool
all_lower_hex (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!is_lower_hex ((unsigned char) s[i]))
      return false;
  return true;
}

/* The input as an error message may quote it: bounded, and without
 * control characters that could play tricks on a terminal. */
static char *
display_input (const char *s)
{
  size_t n = strnlen (s, DISPLAY_MAX + 1);
  char *out = xstrndup (s, n > DISPLAY_MAX ? DISPLAY_MAX : n);

  for (char *c = out; *c; c++)
    if ((unsigned char) *c < 0x20 || *c == 0x7f)
      *c = '?';
  if (n > DISPLAY_MAX)
    {
      char *longer = xasprintf ("%s...", out);
      free (out);
      out = longer;
    }
  return out;
}

static int __attribute__ ((format (printf, 3, 4)))
bad_ref (struct error **err, const char *input, const char *fmt, ...)
{
  cleanup_free char *shown = display_input (input);
  cleanup_free char *why = NULL;
  va_list ap;

  va_start (ap, fmt);
  why = xvasprintf (fmt, ap);
  va_end (ap);
  return err_make (err, 0, "invalid reference format \"%s\": %s", shown, why);
}

/* --- grammar ------------------------------------------------------------- */

/* [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool
is_domain_component (const char *s, size_t n)
{
  if (n == 0 || !is_alnum ((unsigned char) s[0]) || !is_alnum ((unsigned char) s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_alnum ((unsigned char) s[i]) && s[i] != '-')
      return false;
  return true;
}

static bool
is_domain_name (const char *s, size_t n)
{
  size_t start = 0;

  for (size_t i = 0; i <= n; i++)
    if (i == n || s[i] == '.')
      {
        if (!is_domain_component (s + start, i - start))
          return false;
        start = i + 1;
      }
  return true;
}

/* "[" [a-fA-F0-9:]+ "]": docker's deliberately loose IPv6 form. */
static bool
is_ipv6_literal (const char *s, size_t n)
{
  if (n < 3 || s[0] != '[' || s[n - 1] != ']')
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    {
      int c = (unsigned char) s[i];
      if (!is_lower_hex (c) && !(c >= 'A' && c <= 'F') && c != ':')
        return false;
    }
  return true;
}

bool
reference_is_valid_domain (const char *s)
{
  size_t n = strlen (s), hostlen = n;

  if (s[0] == '[')
    {
      const char *close = strchr (s, ']');
      if (close == NULL)
        return false;
      hostlen = (size_t) (close - s) + 1;
      if (!is_ipv6_literal (s, hostlen))
        return false;
    }
  else
    {
      const char *colon = strchr (s, ':');
      if (colon)
        hostlen = (size_t) (colon - s);
      if (!is_domain_name (s, hostlen))
        return false;
    }
  if (hostlen == n)
    return true;
  if (s[hostlen] != ':' || hostlen + 1 == n)
    return false;
  for (size_t i = hostlen + 1; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

/* [a-z0-9]+ ( separator [a-z0-9]+ )*, separator := . | _ | __ | -+ */
static bool
is_path_component (const char *s, size_t n)
{
  size_t i = 0;

  if (n == 0 || !is_lower_alnum ((unsigned char) s[0]))
    return false;
  while (i < n)
    {
      if (is_lower_alnum ((unsigned char) s[i]))
        {
          i++;
          continue;
        }
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < n && s[i] == '-')
          i++;
      else
        return false;
      if (i >= n || !is_lower_alnum ((unsigned char) s[i]))
        return false;
    }
  return true;
}

static bool
is_valid_path (const char *s)
{
  const char *start = s;

  for (const char *c = s;; c++)
    if (*c == '/' || *c == '\0')
      {
        if (!is_path_component (start, (size_t) (c - start)))
          return false;
        if (*c == '\0')
          return true;
        start = c + 1;
      }
}

bool
reference_is_valid_tag (const char *s)
{
  size_t n = strlen (s);

  if (n == 0 || n > REFERENCE_TAG_MAX || !is_word ((unsigned char) s[0]))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_word ((unsigned char) s[i]) && s[i] != '.' && s[i] != '-')
      return false;
  return true;
}

bool
reference_is_valid_digest (const char *s)
{
  size_t n = strlen (s);

  return n == strlen (SHA256_PREFIX) + SHA256_HEX_LEN
         && strncmp (s, SHA256_PREFIX, strlen (SHA256_PREFIX)) == 0
         && all_lower_hex (s + strlen (SHA256_PREFIX), SHA256_HEX_LEN);
}

/* [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )* */
static bool
is_digest_algorithm (const char *s, size_t n)
{
  bool want_letter = true;

  for (size_t i = 0; i < n; i++)
    {
      int c = (unsigned char) s[i];
      if (want_letter)
        {
          if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
          want_letter = false;
        }
      else if (c == '-' || c == '_' || c == '+' || c == '.')
        want_letter = true;
      else if (!is_alnum (c))
        return false;
    }
  return n > 0 && !want_letter;
}

static int
check_digest (const char *input, const char *d, struct error **err)
{
  const char *colon = strchr (d, ':');
  size_t alg_len;

  if (*d == '\0')
    return bad_ref (err, input, "missing digest after '@'");
  if (colon == NULL)
    return bad_ref (err, input, "digest must be \"algorithm:hex\"");
  alg_len = (size_t) (colon - d);
  if (!is_digest_algorithm (d, alg_len))
    return bad_ref (err, input, "invalid digest algorithm");
  if (alg_len != strlen (SHA256_PREFIX) - 1 || strncmp (d, SHA256_PREFIX, alg_len + 1) != 0)
    return bad_ref (err, input, "unsupported digest algorithm \"%.*s\" (only sha256 is "
                    "supported)", (int) alg_len, d);
  if (!reference_is_valid_digest (d))
    return bad_ref (err, input, "a sha256 digest must be %d lower case hex characters",
                    SHA256_HEX_LEN);
  return 0;
}

/* --- normalisation ------------------------------------------------------- */

/* splitDockerDomain: the first component names a registry when it looks
 * like a host ('.' or ':'), is "localhost", or has upper case letters (which
 * a repository path cannot have). */
static bool
names_registry (const char *s, size_t n)
{
  if (n == strlen ("localhost") && memcmp (s, "localhost", n) == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '.' || s[i] == ':' || (s[i] >= 'A' && s[i] <= 'Z'))
      return true;
  return false;
}

static void
split_domain (const char *name, char **registry, char **repo)
{
  const char *slash = strchr (name, '/');
  const char *rest = name;

  if (slash && names_registry (name, (size_t) (slash - name)))
    {
      *registry = xstrndup (name, (size_t) (slash - name));
      rest = slash + 1;
    }
  else
    *registry = xstrdup (DEFAULT_DOMAIN);
  if (strcmp (*registry, LEGACY_DOMAIN) == 0)
    {
      free (*registry);
      *registry = xstrdup (DEFAULT_DOMAIN);
    }
  if (strcmp (*registry, DEFAULT_DOMAIN) == 0 && strchr (rest, '/') == NULL)
    *repo = xasprintf (OFFICIAL_PREFIX "%s", rest);
  else
    *repo = xstrdup (rest);
}

/* Cut ":tag" off NAME (in place) when the last ':' comes after the last
 * '/', so "host:5000/a" keeps its port. */
static int
split_tag (const char *input, char *name, char **tag, struct error **err)
{
  char *colon = strrchr (name, ':');
  char *slash = strrchr (name, '/');

  if (colon == NULL || (slash && slash > colon))
    return 0;
  if (colon[1] == '\0')
    return bad_ref (err, input, "empty tag");
  if (!reference_is_valid_tag (colon + 1))
    return bad_ref (err, input, "invalid tag \"%s\"", colon + 1);
  *tag = xstrdup (colon + 1);
  *colon = '\0';
  return 0;
}

/* A bare 64-hex string, or "sha256:" and 64 hex, is an image ID: docker
 * refuses it as a name rather than guess. */
static bool
is_full_id (const char *s)
{
  if (strncmp (s, SHA256_PREFIX, strlen (SHA256_PREFIX)) == 0)
    s += strlen (SHA256_PREFIX);
  return strlen (s) == SHA256_HEX_LEN && all_lower_hex (s, SHA256_HEX_LEN);
}

static bool
has_upper (const char *s)
{
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      return true;
  return false;
}

static int
check_name (const char *input, const char *registry, const char *repo,
            struct error **err)
{
  if (has_upper (repo))
    return bad_ref (err, input, "repository name must be lowercase");
  if (!reference_is_valid_domain (registry))
    return bad_ref (err, input, "invalid registry \"%s\"", registry);
  if (!is_valid_path (repo))
    return bad_ref (err, input, "invalid repository name \"%s\"", repo);
  if (strlen (registry) + 1 + strlen (repo) > REFERENCE_NAME_MAX)
    return bad_ref (err, input, "repository name must not be more than %d characters",
                    REFERENCE_NAME_MAX);
  return 0;
}

int
reference_parse (const char *s, struct image_ref *out, struct error **err)
{
  cleanup_free char *name = NULL;
  cleanup_free char *tag = NULL;
  cleanup_free char *digest = NULL;
  cleanup_free char *registry = NULL;
  cleanup_free char *repo = NULL;
  const char *at;

  memset (out, 0, sizeof *out);
  if (s == NULL || *s == '\0')
    return bad_ref (err, "", "repository name must have at least one component");
  if (strnlen (s, INPUT_MAX + 1) > INPUT_MAX)
    return bad_ref (err, s, "longer than %d characters", INPUT_MAX);
  if (is_full_id (s))
    return bad_ref (err, s, "cannot specify 64-byte hexadecimal strings as a name");
  at = strchr (s, '@');
  if (at)
    {
      if (check_digest (s, at + 1, err) < 0)
        return -1;
      digest = xstrdup (at + 1);
    }
  name = at ? xstrndup (s, (size_t) (at - s)) : xstrdup (s);
  if (split_tag (s, name, &tag, err) < 0)
    return -1;
  if (*name == '\0')
    return bad_ref (err, s, "repository name must have at least one component");
  split_domain (name, &registry, &repo);
  if (check_name (s, registry, repo, err) < 0)
    return -1;
  if (tag == NULL && digest == NULL)
    tag = xstrdup ("latest");
  out->registry = steal_ptr (&registry);
  out->repository = steal_ptr (&repo);
  out->tag = steal_ptr (&tag);
  out->digest = steal_ptr (&digest);
  return 0;
}

bool
reference_is_short_name (const char *s)
{
  size_t name_len = strcspn (s, "@");
  const char *slash = memchr (s, '/', name_len);

  return slash == NULL || !names_registry (s, (size_t) (slash - s));
}

bool
reference_looks_like_id (const char *s)
{
  size_t n;

  if (strncmp (s, SHA256_PREFIX, strlen (SHA256_PREFIX)) == 0)
    s += strlen (SHA256_PREFIX);
  n = strlen (s);
  return n >= 3 && n <= SHA256_HEX_LEN && all_lower_hex (s, n);
}

/* --- formatting ---------------------------------------------------------- */

static char *
with_tag_digest (const char *name, const struct image_ref *r)
{
  return xasprintf ("%s%s%s%s%s", name, r->tag ? ":" : "", r->tag ? r->tag : "",
                    r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *
reference_repo_string (const struct image_ref *r)
{
  return xasprintf ("%s/%s", r->registry, r->repository);
}

char *
reference_to_string (const struct image_ref *r)
{
  cleanup_free char *name = reference_repo_string (r);

  return with_tag_digest (name, r);
}

char *
reference_familiar (const struct image_ref *r)
{
  const char *repo = r->repository;

  if (strcmp (r->registry, DEFAULT_DOMAIN) != 0)
    return reference_to_string (r);
  if (strncmp (repo, OFFICIAL_PREFIX, strlen (OFFICIAL_PREFIX)) == 0
      && strchr (repo + strlen (OFFICIAL_PREFIX), '/') == NULL)
    repo += strlen (OFFICIAL_PREFIX);
  return with_tag_digest (repo, r);
}

void
reference_copy (const struct image_ref *src, struct image_ref *dst)
{
  dst->registry = xstrdup (src->registry);
  dst->repository = xstrdup (src->repository);
  dst->tag = xstrdup (src->tag);
  dst->digest = xstrdup (src->digest);
}

void
reference_free (struct image_ref *r)
{
  if (r == NULL)
    return;
  free (r->registry);
  free (r->repository);
  free (r->tag);
  free (r->digest);
  memset (r, 0, sizeof *r);
}
