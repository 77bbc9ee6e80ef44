/* Auth file entries and credential helpers, for login and logout.  An auth
 * file may be hand-edited or shared with podman, skopeo and docker: what
 * we do not know (other registries' entries, "credHelpers", docker's
 * "HttpHeaders"...) is kept as it is, and the file is replaced atomically
 * with mode 0600 since it holds passwords in the clear.  Secrets travel to
 * a helper on its stdin only; buffers that held them are scrubbed. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth_file.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/spawn.h"
#include "reference.h"

#define HELPER_PREFIX "docker-credential-"
#define HELPER_NAME_MAX 64

/* ---- paths and keys ------------------------------------------------------- */

char *
auth_file_default_path (const char *authfile)
{
  const char *env;

  if (authfile && *authfile)
    return xstrdup (authfile);
  env = getenv ("REGISTRY_AUTH_FILE");
  if (env && *env)
    return xstrdup (env);
  env = getenv ("XDG_RUNTIME_DIR");
  if (env && *env)
    return xasprintf ("%s/containers/auth.json", env);
  return xasprintf ("/run/containers/%u/auth.json", (unsigned) getuid ());
}

char *
auth_file_docker_path (void)
{
  const char *env = getenv ("DOCKER_CONFIG");
  const char *home = getenv ("HOME");
  struct passwd *pw;

  if (env && *env)
    return xasprintf ("%s/config.json", env);
  if (home == NULL || *home == '\0')
    {
      pw = getpwuid (getuid ());
      home = pw ? pw->pw_dir : "/";
    }
  return xasprintf ("%s/.docker/config.json", home);
}

static bool
is_hub_host (const char *host)
{
  return strcmp (host, "docker.io") == 0 || strcmp (host, "index.docker.io") == 0
         || strcmp (host, "registry-1.docker.io") == 0;
}

/* A namespace after the host: lower-case path components, as references
 * have them. */
static bool
is_valid_namespace (const char *s)
{
  if (*s == '\0' || strlen (s) > REFERENCE_NAME_MAX)
    return false;
  for (const char *p = s; *p; p++)
    {
      bool is_alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
      if (!is_alnum && (strchr ("._-/", *p) == NULL || p == s || p[1] == '\0' || p[-1] == '/'))
        return false;
    }
  return true;
}

char *
auth_file_key (const char *registry, struct error **err)
{
  const char *rest = registry;
  bool is_url = false;
  cleanup_free char *host = NULL, *path = NULL;
  size_t host_len, path_len;

  if (str_has_prefix (registry, "https://") || str_has_prefix (registry, "http://"))
    {
      rest = strstr (registry, "://") + 3;
      is_url = true;
    }
  host_len = strcspn (rest, "/");
  host = xstrndup (rest, host_len);
  path_len = strlen (rest + host_len);
  while (path_len > 0 && rest[host_len + path_len - 1] == '/')
    path_len--;
  path = path_len > 1 ? xstrndup (rest + host_len + 1, path_len - 1) : NULL;
  if (!reference_is_valid_domain (host))
    return err_make (err, 0, "invalid registry \"%.100s\": expected host[:port][/namespace]",
                     registry), NULL;
  if (is_hub_host (host))
    {
      free (host);
      host = xstrdup ("docker.io");
    }
  /* docker's "https://index.docker.io/v1/": the path is an API version. */
  if (is_url || path == NULL)
    return steal_ptr (&host);
  if (!is_valid_namespace (path))
    return err_make (err, 0, "invalid registry \"%.100s\": \"%.100s\" is not a repository "
                     "namespace", registry, path), NULL;
  return xasprintf ("%s/%s", host, path);
}

/* ---- the JSON --------------------------------------------------------------- */

json_object *
auth_file_parse (const char *data, size_t len, const char *path, struct error **err)
{
  cleanup_free char *what = xasprintf ("auth file \"%s\"", path);
  cleanup_json json_object *root = NULL;
  static const char *const objects[] = { "auths", "credHelpers" };

  if (len == 0)
    return json_object_new_object ();
  root = jobj_parse (data, len, what, err);
  if (root == NULL)
    return NULL;
  if (!json_object_is_type (root, json_type_object))
    return err_make (err, 0, "%s: not a JSON object", what), NULL;
  for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++)
    {
      json_object *v = NULL;
      if (json_object_object_get_ex (root, objects[i], &v)
          && !json_object_is_type (v, json_type_object))
        return err_make (err, 0, "%s: \"%s\" is not an object", what, objects[i]), NULL;
    }
  return steal_ptr (&root);
}

static bool
is_helper_name (const char *s)
{
  size_t n = strlen (s);

  if (n == 0 || n > HELPER_NAME_MAX)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
          || strchr ("._-", *s)))
      return false;
  return true;
}

const char *
auth_file_helper_for (json_object *root, const char *key, bool is_helpers_only)
{
  cleanup_free char *host = xstrndup (key, strcspn (key, "/"));
  json_object *helpers = jobj_get_object (root, "credHelpers");
  const char *name = helpers ? jobj_get_string (helpers, host) : NULL;

  if (name && is_helper_name (name))
    return name;
  if (is_helpers_only)
    return NULL;
  name = jobj_get_string (root, "credsStore");
  return name && is_helper_name (name) ? name : NULL;
}

static char *
b64_encode (const char *s, size_t len)
{
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *in = (const unsigned char *) s;
  char *out = xmalloc ((len + 2) / 3 * 4 + 1), *o = out;

  for (size_t i = 0; i < len; i += 3)
    {
      unsigned v = (unsigned) in[i] << 16;
      if (i + 1 < len)
        v |= (unsigned) in[i + 1] << 8;
      if (i + 2 < len)
        v |= in[i + 2];
      *o++ = tbl[(v >> 18) & 63];
      *o++ = tbl[(v >> 12) & 63];
      *o++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
      *o++ = i + 2 < len ? tbl[v & 63] : '=';
    }
  *o = '\0';
  return out;
}

static json_object *
auths_of (json_object *root)
{
  json_object *auths = jobj_get_object (root, "auths");

  if (auths == NULL)
    {
      auths = json_object_new_object ();
      json_object_object_add (root, "auths", auths);
    }
  return auths;
}

int
auth_file_set (json_object *root, const char *key, const char *user, const char *password,
               struct error **err)
{
  cleanup_free char *plain = NULL, *b64 = NULL;
  json_object *entry;
  size_t len;

  if (*user == '\0' || strchr (user, ':'))
    return err_make (err, 0, "invalid user name: it must be non-empty and without ':'");
  plain = xasprintf ("%s:%s", user, password);
  len = strlen (plain);
  b64 = b64_encode (plain, len);
  explicit_bzero (plain, len);
  entry = json_object_new_object ();
  json_object_object_add (entry, "auth", json_object_new_string (b64));
  explicit_bzero (b64, strlen (b64));
  json_object_object_add (auths_of (root), key, entry);
  return 0;
}

int
auth_file_remove (json_object *root, const char *key)
{
  json_object *auths = jobj_get_object (root, "auths");

  if (auths == NULL || !json_object_object_get_ex (auths, key, NULL))
    return 0;
  json_object_object_del (auths, key);
  return 1;
}

void
auth_file_remove_all (json_object *root)
{
  json_object_object_add (root, "auths", json_object_new_object ());
}

/* ---- the files ---------------------------------------------------------------- */

/* The file at PATH parsed; a missing one is empty. */
static json_object *
read_file (const char *path, struct error **err)
{
  cleanup_free char *data = NULL;
  json_object *root;
  size_t len = 0;

  data = fs_read_file (path, AUTH_FILE_SIZE_MAX, &len, err);
  if (data == NULL)
    {
      if ((*err)->errnum != ENOENT)
        return err_wrap (err, "read auth file"), NULL;
      err_release (err);
    }
  root = auth_file_parse (data ? data : "", len, path, err);
  if (data)
    explicit_bzero (data, len);
  return root;
}

static int
write_file (const char *path, json_object *root, struct error **err)
{
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');

  if (slash && slash != dir)
    {
      *slash = '\0';
      if (fs_mkdir_p (dir, 0700, err) < 0)
        return err_wrap (err, "create the directory of auth file \"%s\"", path);
    }
  if (jobj_write_file (path, root, true, err) < 0)
    return err_wrap (err, "write auth file \"%s\"", path);
  return 0;
}

int
auth_file_store (const char *path, const char *key, const struct registry_creds *creds,
                 struct error **err)
{
  cleanup_json json_object *root = read_file (path, err);
  const char *helper;

  if (root == NULL)
    return -1;
  helper = auth_file_helper_for (root, key, false);
  if (helper)
    return auth_file_helper_store (helper, key, creds, err);
  if (auth_file_set (root, key, creds->username, creds->password, err) < 0)
    return -1;
  return write_file (path, root, err);
}

int
auth_file_erase (const char *path, const char *key, struct error **err)
{
  cleanup_json json_object *root = read_file (path, err);
  const char *helper;

  if (root == NULL)
    return -1;
  helper = auth_file_helper_for (root, key, false);
  /* credsStore still leaves docker's empty placeholder entry behind. */
  if (helper && auth_file_helper_erase (helper, key, err) < 0)
    return -1;
  if (auth_file_remove (root, key) == 0)
    return helper ? 1 : 0;
  return write_file (path, root, err) < 0 ? -1 : 1;
}

int
auth_file_erase_all (const char *path, struct error **err)
{
  cleanup_json json_object *root = read_file (path, err);

  if (root == NULL)
    return -1;
  if (!fs_exists (path))
    return 0;
  auth_file_remove_all (root);
  return write_file (path, root, err);
}

/* ---- credential helpers ------------------------------------------------------ */

struct helper_run
{
  int status;
  struct buf out;
  struct buf errout;
};

static void
helper_run_clear (struct helper_run *h)
{
  if (h->out.data)
    explicit_bzero (h->out.data, h->out.len);
  buf_free (&h->out);
  buf_free (&h->errout);
}

/* Run "docker-credential-HELPER ACTION" with INPUT on its stdin. */
static int
run_helper (const char *helper, const char *action, const char *input, struct helper_run *h,
            struct error **err)
{
  cleanup_free char *prog = xasprintf (HELPER_PREFIX "%s", helper);
  char *argv[] = { prog, (char *) action, NULL };
  struct spawn_opts o = {
    .stdin_data = input, .stdin_len = strlen (input), .out = &h->out, .errout = &h->errout,
  };

  if (!is_helper_name (helper))
    return err_make (err, 0, "invalid credential helper name \"%.100s\"", helper);
  if (spawn_run (argv, &o, &h->status, err) < 0)
    {
      if ((*err)->errnum == ENOENT)
        return err_make (err, ENOENT, "credential helper \"%s\" not found in $PATH", prog);
      return err_wrap (err, "credential helper \"%s\"", prog);
    }
  if (h->out.len > AUTH_FILE_HELPER_REPLY_MAX)
    return err_make (err, 0, "credential helper \"%s\": reply too large", prog);
  return 0;
}

/* The helper's own explanation of a failure: what it printed, cut short,
 * printable.  A helper prints messages, never secrets, when it fails. */
static char *
helper_failure (const char *helper, const char *action, const struct helper_run *h)
{
  const struct buf *b = h->errout.len > 0 ? &h->errout : &h->out;
  cleanup_free char *status = spawn_status_text (h->status);
  cleanup_buf struct buf msg = BUF_INIT;

  for (size_t i = 0; b->data && i < b->len && i < 200; i++)
    buf_append_char (&msg, b->data[i] >= ' ' && b->data[i] < 127 ? b->data[i] : ' ');
  if (msg.data)
    str_strip (msg.data);
  return xasprintf ("credential helper \"" HELPER_PREFIX "%s\" %s %s%s%s", helper, action,
                    status, msg.data && *msg.data ? ": " : "", msg.data ? msg.data : "");
}

static bool
says_not_found (const struct helper_run *h)
{
  const char *text[] = { h->out.data, h->errout.data };

  for (size_t i = 0; i < 2; i++)
    if (text[i] && strstr (text[i], "credentials not found"))
      return true;
  return false;
}

int
auth_file_parse_helper_reply (const char *data, size_t len, struct registry_creds *out,
                              struct error **err)
{
  cleanup_json json_object *o = jobj_parse (data, len, "credential helper reply", err);
  const char *user, *secret;

  if (o == NULL)
    return -1;
  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "credential helper reply: not a JSON object");
  user = jobj_get_string (o, "Username");
  secret = jobj_get_string (o, "Secret");
  if (user == NULL || secret == NULL)
    return err_make (err, 0, "credential helper reply: no string \"Username\" and \"Secret\"");
  if (strcmp (user, "<token>") == 0)
    return 0;
  out->username = xstrdup (user);
  out->password = xstrdup (secret);
  return 1;
}

int
auth_file_helper_get (const char *helper, const char *server, struct registry_creds *out,
                      struct error **err)
{
  struct helper_run h = { 0 };
  int r;

  r = run_helper (helper, "get", server, &h, err);
  if (r == 0 && !(WIFEXITED (h.status) && WEXITSTATUS (h.status) == 0))
    {
      cleanup_free char *why = helper_failure (helper, "get", &h);
      r = says_not_found (&h) ? 0 : err_make (err, 0, "%s", why);
    }
  else if (r == 0)
    {
      r = auth_file_parse_helper_reply (h.out.data ? h.out.data : "", h.out.len, out, err);
      if (r < 0)
        err_wrap (err, "credential helper \"" HELPER_PREFIX "%s\"", helper);
      if (r == 0)
        log_debug ("credential helper %s: an identity token for %s is not supported", helper,
                   server);
    }
  helper_run_clear (&h);
  return r;
}

int
auth_file_helper_store (const char *helper, const char *server,
                        const struct registry_creds *creds, struct error **err)
{
  cleanup_json json_object *o = json_object_new_object ();
  struct helper_run h = { 0 };
  char *input;
  int r;

  json_object_object_add (o, "ServerURL", json_object_new_string (server));
  json_object_object_add (o, "Username", json_object_new_string (creds->username));
  json_object_object_add (o, "Secret", json_object_new_string (creds->password));
  input = jobj_to_string (o, false);
  r = run_helper (helper, "store", input, &h, err);
  explicit_bzero (input, strlen (input));
  free (input);
  if (r == 0 && !(WIFEXITED (h.status) && WEXITSTATUS (h.status) == 0))
    {
      cleanup_free char *why = helper_failure (helper, "store", &h);
      r = err_make (err, 0, "%s", why);
    }
  helper_run_clear (&h);
  return r;
}

int
auth_file_helper_erase (const char *helper, const char *server, struct error **err)
{
  struct helper_run h = { 0 };
  int r;

  r = run_helper (helper, "erase", server, &h, err);
  if (r == 0 && !(WIFEXITED (h.status) && WEXITSTATUS (h.status) == 0))
    {
      cleanup_free char *why = helper_failure (helper, "erase", &h);
      r = says_not_found (&h) ? 0 : err_make (err, 0, "%s", why);
    }
  else if (r == 0)
    r = 1;
  helper_run_clear (&h);
  return r;
}
