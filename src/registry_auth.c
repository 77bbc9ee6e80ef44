/* Registry authentication without the network: WWW-Authenticate parsing,
 * the token request URL and reply, and credentials from auth files.  All of
 * it reads hostile or hand-edited input, so every parser bounds what it
 * accepts and says what was wrong without echoing a secret. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "auth_file.h"
#include "registry_auth.h"

/* Auth files are small; a bigger one is not something we should parse. */
#define AUTH_FILE_MAX (4u << 20)

/* ---- WWW-Authenticate -------------------------------------------------- */

/* RFC 7230 tchar. */
static bool
is_tchar (char ch)
{
  return isalnum ((unsigned char) ch) || (ch != '\0' && strchr ("!#$%&'*+-.^_`|~", ch));
}

/* RFC 7235 token68 characters (the '=' padding is handled by the caller). */
static bool
is_token68_char (char ch)
{
  return isalnum ((unsigned char) ch) || (ch != '\0' && strchr ("-._~+/", ch));
}

static const char *
skip_ws (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static const char *
skip_ws_commas (const char *p)
{
  while (*p == ' ' || *p == '\t' || *p == ',')
    p++;
  return p;
}

/* Read a quoted-string starting at the opening quote; *P moves past the
 * closing one.  Returns NULL when the string never ends. */
static char *
read_quoted (const char **p)
{
  struct buf b = BUF_INIT;
  const char *s = *p + 1;

  for (; *s && *s != '"'; s++)
    {
      if (*s == '\\' && s[1] != '\0')
        s++;
      buf_append_char (&b, *s);
    }
  if (*s != '"')
    {
      buf_free (&b);
      return NULL;
    }
  *p = s + 1;
  return buf_steal (&b);
}

struct parsed_challenge
{
  char *scheme;
  char *realm;
  char *service;
  char *scope;
};

static void
parsed_challenge_clear (struct parsed_challenge *c)
{
  free (c->scheme);
  free (c->realm);
  free (c->service);
  free (c->scope);
  memset (c, 0, sizeof *c);
}

static void
store_param (struct parsed_challenge *c, const char *name, size_t name_len, char *value)
{
  char **slot = NULL;

  if (name_len == 5 && strncasecmp (name, "realm", 5) == 0)
    slot = &c->realm;
  else if (name_len == 7 && strncasecmp (name, "service", 7) == 0)
    slot = &c->service;
  else if (name_len == 5 && strncasecmp (name, "scope", 5) == 0)
    slot = &c->scope;
  if (slot == NULL)
    {
      free (value);
      return;
    }
  free (*slot);
  *slot = value;
}

/* After a scheme: either a token68 or a comma-separated list of auth-params.
 * Stops before the next challenge's scheme.  Returns the position after the
 * challenge, or NULL on a syntax error. */
static const char *
parse_params (const char *p, struct parsed_challenge *c)
{
  const char *start = skip_ws (p);
  const char *q = start;

  /* token68: characters, optional '=' padding, then the end or a comma. */
  while (is_token68_char (*q))
    q++;
  if (q > start)
    {
      const char *pad = q;
      while (*pad == '=')
        pad++;
      if (*skip_ws (pad) == '\0' || *skip_ws (pad) == ',')
        return skip_ws (pad);
    }

  p = start;
  for (;;)
    {
      const char *name = p, *after;
      char *value;

      p = skip_ws_commas (p);
      name = p;
      while (is_tchar (*p))
        p++;
      if (p == name)
        return *p == '\0' ? p : NULL;
      after = skip_ws (p);
      if (*after != '=')
        return name; /* a token without '=' starts the next challenge */
      size_t name_len = p - name;
      p = skip_ws (after + 1);
      if (*p == '"')
        {
          value = read_quoted (&p);
          if (value == NULL)
            return NULL;
        }
      else
        {
          const char *v = p;
          while (is_tchar (*p) || *p == '/' || *p == ':' || *p == '=')
            p++;
          if (p == v)
            return NULL;
          value = xstrndup (v, p - v);
        }
      store_param (c, name, name_len, value);
      p = skip_ws (p);
      if (*p == '\0')
        return p;
      if (*p != ',')
        return NULL;
    }
}

static bool
is_http_url (const char *s)
{
  const char *rest = NULL;

  if (s && strncasecmp (s, "https://", 8) == 0)
    rest = s + 8;
  else if (s && strncasecmp (s, "http://", 7) == 0)
    rest = s + 7;
  return rest && *rest != '\0' && *rest != '/';
}

/* Keep the better of BEST and C (Bearer over Basic); C is consumed. */
static void
keep_better (struct parsed_challenge *best, enum registry_auth_scheme *best_scheme,
             struct parsed_challenge *c)
{
  enum registry_auth_scheme s = REGISTRY_AUTH_NONE;

  if (strcasecmp (c->scheme, "bearer") == 0)
    s = REGISTRY_AUTH_BEARER;
  else if (strcasecmp (c->scheme, "basic") == 0)
    s = REGISTRY_AUTH_BASIC;
  if (s > *best_scheme)
    {
      parsed_challenge_clear (best);
      *best = *c;
      *best_scheme = s;
      memset (c, 0, sizeof *c);
      return;
    }
  parsed_challenge_clear (c);
}

int
registry_auth_parse_challenge (const char *header, struct registry_challenge *out,
                               struct error **err)
{
  struct parsed_challenge best = { 0 };
  enum registry_auth_scheme best_scheme = REGISTRY_AUTH_NONE;
  const char *p = header ? header : "";

  for (p = skip_ws_commas (p); *p; p = skip_ws_commas (p))
    {
      struct parsed_challenge c = { 0 };
      const char *s = p;

      while (is_tchar (*p))
        p++;
      if (p == s || (*p != ' ' && *p != '\t' && *p != ',' && *p != '\0'))
        {
          parsed_challenge_clear (&best);
          return err_make (err, 0, "malformed WWW-Authenticate header");
        }
      c.scheme = xstrndup (s, p - s);
      p = parse_params (p, &c);
      if (p == NULL)
        {
          parsed_challenge_clear (&c);
          parsed_challenge_clear (&best);
          return err_make (err, 0, "malformed WWW-Authenticate header");
        }
      keep_better (&best, &best_scheme, &c);
    }
  if (best_scheme == REGISTRY_AUTH_NONE)
    {
      parsed_challenge_clear (&best);
      return err_make (err, 0, "unsupported authentication challenge: "
                               "neither Bearer nor Basic");
    }
  if (best_scheme == REGISTRY_AUTH_BEARER && !is_http_url (best.realm))
    {
      parsed_challenge_clear (&best);
      return err_make (err, 0, "Bearer challenge without an http(s) realm");
    }
  free (best.scheme);
  out->scheme = best_scheme;
  out->realm = best.realm;
  out->service = best.service;
  out->scope = best.scope;
  return 0;
}

void
registry_challenge_clear (struct registry_challenge *c)
{
  free (c->realm);
  free (c->service);
  free (c->scope);
  memset (c, 0, sizeof *c);
}

/* ---- token request and reply ------------------------------------------- */

static void
append_escaped (struct buf *b, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";

  for (; *s; s++)
    {
      unsigned char ch = *s;
      if (isalnum (ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~')
        buf_append_char (b, ch);
      else
        {
          buf_append_char (b, '%');
          buf_append_char (b, hex[ch >> 4]);
          buf_append_char (b, hex[ch & 15]);
        }
    }
}

char *
registry_auth_token_url (const char *realm, const char *service, const char *const *scopes)
{
  struct buf b = BUF_INIT;
  char sep = strchr (realm, '?') ? '&' : '?';

  buf_append_str (&b, realm);
  if (service && *service)
    {
      buf_append_char (&b, sep);
      buf_append_str (&b, "service=");
      append_escaped (&b, service);
      sep = '&';
    }
  for (; scopes && *scopes; scopes++)
    {
      buf_append_char (&b, sep);
      buf_append_str (&b, "scope=");
      append_escaped (&b, *scopes);
      sep = '&';
    }
  return buf_steal (&b);
}

static bool
token_is_header_safe (const char *t)
{
  if (*t == '\0')
    return false;
  for (; *t; t++)
    if (*t <= ' ' || *t >= 127)
      return false;
  return true;
}

int
registry_auth_parse_token (const char *data, size_t len, char **token, int64_t *expires_in,
                           struct error **err)
{
  cleanup_json json_object *o = jobj_parse (data, len, "token reply", err);
  const char *t;
  int64_t exp;

  if (o == NULL)
    return -1;
  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "token reply: not a JSON object");
  t = jobj_get_string (o, "token");
  if (t == NULL || *t == '\0')
    t = jobj_get_string (o, "access_token");
  if (t == NULL)
    return err_make (err, 0, "token reply: no \"token\" or \"access_token\"");
  if (!token_is_header_safe (t))
    return err_make (err, 0, "token reply: token is empty or has invalid characters");
  exp = jobj_get_int (o, "expires_in", 60);
  *expires_in = exp < 60 ? 60 : exp;
  *token = xstrdup (t);
  return 0;
}

/* ---- credentials ------------------------------------------------------- */

void
registry_creds_clear (struct registry_creds *c)
{
  /* Scrub the password so it does not linger in freed memory. */
  if (c->password)
    explicit_bzero (c->password, strlen (c->password));
  free (c->username);
  free (c->password);
  c->username = c->password = NULL;
}

int
registry_creds_parse (const char *s, struct registry_creds *out, struct error **err)
{
  const char *colon = strchr (s, ':');

  if (colon == NULL)
    return err_make (err, 0, "credentials must be \"user:password\"");
  if (colon == s)
    return err_make (err, 0, "credentials have an empty user name");
  out->username = xstrndup (s, colon - s);
  out->password = xstrdup (colon + 1);
  return 0;
}

static int
b64_value (unsigned char ch)
{
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+')
    return 62;
  if (ch == '/')
    return 63;
  return -1;
}

/* Strict standard base64 (padding optional, as docker writes it with).
 * Returns a NUL-terminated malloc'd buffer, NULL on bad input or on an
 * embedded NUL (the result must be a C string). */
static char *
b64_decode (const char *s)
{
  size_t n = strlen (s), out_len = 0;
  unsigned acc = 0;
  int bits = 0;
  cleanup_free char *out = NULL;

  while (n > 0 && s[n - 1] == '=')
    n--;
  if (strlen (s) - n > 2 || n % 4 == 1)
    return NULL;
  out = xmalloc (n * 3 / 4 + 1);
  for (size_t i = 0; i < n; i++)
    {
      int v = b64_value (s[i]);
      if (v < 0)
        return NULL;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[out_len] = (char) ((acc >> bits) & 0xff);
          if (out[out_len] == '\0')
            return NULL;
          out_len++;
        }
    }
  out[out_len] = '\0';
  return steal_ptr (&out);
}

static int
decode_auth (const char *b64, const char *what, const char *key, struct registry_creds *out,
             struct error **err)
{
  cleanup_free char *plain = b64_decode (b64);
  int r;

  if (plain == NULL)
    return err_make (err, 0, "%s: entry \"%s\": \"auth\" is not valid base64", what, key);
  r = registry_creds_parse (plain, out, err);
  explicit_bzero (plain, strlen (plain));
  if (r < 0)
    return err_wrap (err, "%s: entry \"%s\"", what, key);
  return 0;
}

/* An auth file key in the form we compare: no scheme, docker.io for the
 * hub's other host names, and docker's "https://host/v1/" URLs reduced to
 * their host (a path after a URL is an API version, not a namespace). */
static char *
normalize_key (const char *key)
{
  static const char *const hub_aliases[] = { "index.docker.io", "registry-1.docker.io" };
  const char *rest = key;
  cleanup_free char *host = NULL;
  size_t host_len;
  bool is_url = false;

  if (str_has_prefix (key, "https://") || str_has_prefix (key, "http://"))
    {
      rest = strstr (key, "://") + 3;
      is_url = true;
    }
  host_len = strcspn (rest, "/");
  host = xstrndup (rest, host_len);
  for (size_t i = 0; i < sizeof hub_aliases / sizeof hub_aliases[0]; i++)
    if (strcmp (host, hub_aliases[i]) == 0)
      {
        free (host);
        host = xstrdup ("docker.io");
      }
  return xasprintf ("%s%s", host, is_url ? "" : rest + host_len);
}

/* The entry of AUTHS whose key equals WANT, exactly or once normalized. */
static json_object *
find_entry (json_object *auths, const char *want, const char **key_out)
{
  json_object *val;

  if (json_object_object_get_ex (auths, want, &val))
    {
      *key_out = want;
      return val;
    }
  json_object_object_foreach (auths, key, v)
  {
    cleanup_free char *norm = normalize_key (key);

    if (strcmp (norm, want) == 0)
      {
        *key_out = key;
        return v;
      }
  }
  return NULL;
}

/* Candidate keys from most to least specific: "host/a/b", "host/a", "host". */
static char **
lookup_candidates (const char *registry, const char *repository)
{
  cleanup_free char *full = NULL;
  char **v = NULL;

  full = repository && *repository ? xasprintf ("%s/%s", registry, repository)
                                   : xstrdup (registry);
  for (;;)
    {
      char *slash;
      v = strv_append (v, full);
      slash = strrchr (full, '/');
      if (slash == NULL || (size_t) (slash - full) < strlen (registry))
        break;
      *slash = '\0';
    }
  return v;
}

int
registry_auth_find_in_json (const char *data, size_t len, const char *what, bool legacy,
                            const char *registry, const char *repository,
                            struct registry_creds *out, struct error **err)
{
  cleanup_json json_object *root = jobj_parse (data, len, what, err);
  cleanup_strv char **cands = NULL;
  json_object *auths;

  if (root == NULL)
    return -1;
  if (!json_object_is_type (root, json_type_object))
    return err_make (err, 0, "%s: not a JSON object", what);
  auths = legacy ? root : jobj_get_object (root, "auths");
  if (auths == NULL)
    {
      if (json_object_object_get_ex (root, "auths", NULL))
        return err_make (err, 0, "%s: \"auths\" is not an object", what);
      return 0;
    }
  cands = lookup_candidates (registry, repository);
  for (char **c = cands; *c; c++)
    {
      const char *key = NULL;
      json_object *entry = find_entry (auths, *c, &key);
      const char *b64;

      if (entry == NULL)
        continue;
      if (!json_object_is_type (entry, json_type_object))
        return err_make (err, 0, "%s: entry \"%s\" is not an object", what, key);
      b64 = jobj_get_string (entry, "auth");
      if (b64 == NULL && json_object_object_get_ex (entry, "auth", NULL))
        return err_make (err, 0, "%s: entry \"%s\": \"auth\" is not a string", what, key);
      if (b64 == NULL || *b64 == '\0')
        continue;
      if (decode_auth (b64, what, key, out, err) < 0)
        return -1;
      return 1;
    }
  return 0;
}

static char **
strv_take (char **v, char *s)
{
  v = strv_append (v, s);
  free (s);
  return v;
}

static char *
home_dir (void)
{
  const char *h = getenv ("HOME");
  struct passwd *pw;

  if (h && *h)
    return xstrdup (h);
  pw = getpwuid (getuid ());
  return pw ? xstrdup (pw->pw_dir) : xstrdup ("/");
}

/* The files to read, in order; *LEGACY_LAST tells whether the last one is
 * in the old ~/.dockercfg shape. */
static char **
auth_files (const char *authfile, bool *legacy_last)
{
  cleanup_free char *home = home_dir ();
  const char *env;
  char **v = NULL;

  *legacy_last = false;
  if (authfile == NULL || *authfile == '\0')
    authfile = getenv ("REGISTRY_AUTH_FILE");
  if (authfile && *authfile)
    return strv_append (NULL, authfile);

  env = getenv ("XDG_RUNTIME_DIR");
  if (env && *env)
    v = strv_take (v, xasprintf ("%s/containers/auth.json", env));
  else
    v = strv_take (v, xasprintf ("/run/containers/%u/auth.json", (unsigned) getuid ()));
  env = getenv ("XDG_CONFIG_HOME");
  if (env && *env)
    v = strv_take (v, xasprintf ("%s/containers/auth.json", env));
  else
    v = strv_take (v, xasprintf ("%s/.config/containers/auth.json", home));
  env = getenv ("DOCKER_CONFIG");
  if (env && *env)
    v = strv_take (v, xasprintf ("%s/config.json", env));
  else
    v = strv_take (v, xasprintf ("%s/.docker/config.json", home));
  v = strv_take (v, xasprintf ("%s/.dockercfg", home));
  *legacy_last = true;
  return v;
}

/* The credential helper an auth file's JSON names for REGISTRY: its
 * credHelpers entry (IS_HELPERS_ONLY) or credsStore.  Malformed JSON names
 * none: registry_auth_find_in_json() reports it. */
static char *
helper_in_json (const char *data, size_t len, bool legacy, const char *registry,
                bool is_helpers_only)
{
  cleanup_json json_object *root = NULL;
  const char *name;

  if (legacy)
    return NULL;
  root = jobj_parse (data, len, "auth file", NULL);
  if (root == NULL || !json_object_is_type (root, json_type_object))
    return NULL;
  name = auth_file_helper_for (root, registry, is_helpers_only);
  return name ? xstrdup (name) : NULL;
}

/* One auth file, as containers/image and docker read it: a credHelpers
 * entry for the registry decides alone; else the "auths" entry; else the
 * credsStore helper. */
static int
find_in_file (const char *data, size_t len, const char *what, bool legacy,
              const char *registry, const char *repository, struct registry_creds *out,
              struct error **err)
{
  cleanup_free char *helper = helper_in_json (data, len, legacy, registry, true);
  int r;

  if (helper)
    return auth_file_helper_get (helper, registry, out, err);
  r = registry_auth_find_in_json (data, len, what, legacy, registry, repository, out, err);
  if (r != 0)
    return r;
  helper = helper_in_json (data, len, legacy, registry, false);
  return helper ? auth_file_helper_get (helper, registry, out, err) : 0;
}

int
registry_auth_lookup (const char *authfile, const char *registry, const char *repository,
                      struct registry_creds *out, struct error **err)
{
  bool legacy_last;
  cleanup_strv char **files = auth_files (authfile, &legacy_last);
  size_t n = strv_len (files);

  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *data = NULL;
      cleanup_free char *what = NULL;
      size_t len;
      int r;

      data = fs_read_file (files[i], AUTH_FILE_MAX, &len, err);
      if (data == NULL)
        {
          if ((*err)->errnum != ENOENT && (*err)->errnum != ENOTDIR)
            return -1;
          err_release (err);
          continue;
        }
      what = xasprintf ("auth file \"%s\"", files[i]);
      r = find_in_file (data, len, what, legacy_last && i == n - 1, registry, repository, out,
                        err);
      explicit_bzero (data, len);
      if (r != 0)
        return r;
    }
  return 0;
}
