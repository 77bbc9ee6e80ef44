/* skiff login and logout: check credentials against a registry and store
 * them (auth_file.h), or remove them.  A password comes from -p, from
 * stdin (--password-stdin) or from a prompt without echo; it is never
 * printed, logged or passed to another program's argv. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth_file.h"
#include "cli.h"
#include "commands.h"
#include "libutil/buf.h"
#include "libutil/mem.h"
#include "registries_conf.h"
#include "registry.h"
#include "registry_auth.h"

#define SECRET_MAX 8192

struct login_opts
{
  const char *username;
  const char *password;
  bool is_password_stdin;
  const char *authfile;
  const char *compat_auth_file;
  bool is_get_login;
  bool has_tls_verify;
  bool is_tls_verify;
  const char *cert_dir;
};

/* ---- reading what the user types ---------------------------------------------- */

/* One line of stdin without its line end; malloc'd, NULL at end of input. */
static char *
read_line (void)
{
  struct buf b = BUF_INIT;
  int ch;

  while ((ch = getchar ()) != EOF && ch != '\n' && b.len < SECRET_MAX)
    buf_append_char (&b, (char) ch);
  if (ch == EOF && b.len == 0)
    {
      buf_free (&b);
      return NULL;
    }
  if (b.len > 0 && b.data[b.len - 1] == '\r')
    buf_truncate (&b, b.len - 1);
  return buf_steal (&b);
}

/* Ask on the terminal; with IS_SECRET the answer is not echoed. */
static char *
prompt (const char *question, bool is_secret, struct error **err)
{
  struct termios saved, quiet;
  bool is_quiet = false;
  char *line;

  printf ("%s", question);
  fflush (stdout);
  if (is_secret && tcgetattr (0, &saved) == 0)
    {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      is_quiet = tcsetattr (0, TCSAFLUSH, &quiet) == 0;
    }
  line = read_line ();
  if (is_quiet)
    {
      tcsetattr (0, TCSAFLUSH, &saved);
      printf ("\n");
    }
  if (line == NULL)
    return err_make (err, 0, "no answer to \"%s\"", question), NULL;
  return line;
}

/* All of stdin, less its final line end: what --password-stdin reads. */
static char *
read_stdin_secret (struct error **err)
{
  struct buf b = BUF_INIT;
  char chunk[512];
  size_t n;

  while ((n = fread (chunk, 1, sizeof chunk, stdin)) > 0)
    {
      if (b.len + n > SECRET_MAX)
        {
          explicit_bzero (chunk, sizeof chunk);
          if (b.data)
            explicit_bzero (b.data, b.len);
          buf_free (&b);
          return err_make (err, 0, "the password on stdin is longer than %d bytes", SECRET_MAX),
                 NULL;
        }
      buf_append (&b, chunk, n);
    }
  explicit_bzero (chunk, sizeof chunk);
  while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
    b.data[--b.len] = '\0';
  return buf_steal (&b);
}

static int
get_credentials (const struct login_opts *o, struct registry_creds *creds, struct error **err)
{
  bool is_tty = isatty (0) == 1;

  if (o->username)
    creds->username = xstrdup (o->username);
  else if (is_tty)
    creds->username = prompt ("Username: ", false, err);
  else
    return err_make (err, 0, "no username: pass -u USERNAME (stdin is not a terminal)");
  if (creds->username == NULL)
    return -1;
  if (*creds->username == '\0')
    return err_make (err, 0, "the username must not be empty");
  if (o->password)
    creds->password = xstrdup (o->password);
  else if (o->is_password_stdin)
    creds->password = read_stdin_secret (err);
  else if (is_tty)
    creds->password = prompt ("Password: ", true, err);
  else
    return err_make (err, 0, "no password: pass --password-stdin or -p (stdin is not a "
                     "terminal)");
  if (creds->password == NULL)
    return -1;
  if (*creds->password == '\0')
    return err_make (err, 0, "the password must not be empty");
  return 0;
}

/* ---- login ----------------------------------------------------------------------- */

static int
is_insecure (const struct login_opts *o, const char *host, bool *out, struct error **err)
{
  cleanup_registries_conf struct registries_conf *conf = NULL;
  const struct registry_entry *e;

  if (o->has_tls_verify)
    {
      *out = !o->is_tls_verify;
      return 0;
    }
  if (registries_conf_load (&conf, err) < 0)
    return -1;
  e = registries_conf_find (conf, host);
  if (e && e->is_blocked)
    return err_make (err, 0, "registry \"%s\" is blocked by registries.conf (prefix \"%s\")",
                     host, e->prefix);
  *out = e && e->is_insecure;
  return 0;
}

/* GET /v2/ with CREDS, by whichever flow the registry asks for. */
static int
verify (const struct login_opts *o, const char *host, const struct registry_creds *creds,
        struct error **err)
{
  cleanup_registry_client struct registry_client *c = NULL;
  struct registry_options ro = { .creds = creds, .cert_dir = o->cert_dir, .max_retries = 1 };

  if (is_insecure (o, host, &ro.is_insecure, err) < 0)
    return -1;
  c = registry_client_new (host, NULL, &ro, err);
  if (c == NULL || registry_ping (c, err) < 0)
    return -1;
  return 0;
}

/* The file login and logout write: --compat-auth-file, else podman's. */
static char *
target_file (const struct login_opts *o)
{
  return o->compat_auth_file ? xstrdup (o->compat_auth_file)
                             : auth_file_default_path (o->authfile);
}

static int
get_login (const struct login_opts *o, const char *key, struct error **err)
{
  struct registry_creds creds = { 0 };
  cleanup_free char *host = xstrndup (key, strcspn (key, "/"));
  const char *repo = strchr (key, '/');
  int r;

  r = registry_auth_lookup (o->compat_auth_file ? o->compat_auth_file : o->authfile, host,
                            repo ? repo + 1 : NULL, &creds, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return err_make (err, 0, "not logged into %s", key);
  printf ("%s\n", creds.username);
  registry_creds_clear (&creds);
  return 0;
}

/* Without a user name or password given: credentials already stored for
 * KEY that the registry still takes make login a no-op, as in podman. */
static int
reuse_stored (const struct login_opts *o, const char *key, const char *host, const char *path)
{
  struct registry_creds creds = { 0 };
  cleanup_error struct error *e = NULL;
  const char *repo = strchr (key, '/');
  int r;

  if (o->username || o->password || o->is_password_stdin)
    return 0;
  r = registry_auth_lookup (path, host, repo ? repo + 1 : NULL, &creds, &e);
  if (r <= 0)
    return 0;
  printf ("Authenticating with existing credentials for %s\n", key);
  r = verify (o, host, &creds, &e);
  registry_creds_clear (&creds);
  if (r < 0)
    {
      printf ("Existing credentials are invalid, please enter valid username and password\n");
      return 0;
    }
  printf ("Existing credentials are valid. Already logged in to %s\n", key);
  return 1;
}

static int
login (const struct login_opts *o, const char *registry, struct error **err)
{
  cleanup_free char *key = auth_file_key (registry, err);
  cleanup_free char *host = NULL, *path = NULL;
  struct registry_creds creds = { 0 };
  int r;

  if (key == NULL)
    return -1;
  if (o->is_get_login)
    return get_login (o, key, err);
  host = xstrndup (key, strcspn (key, "/"));
  path = target_file (o);
  if (reuse_stored (o, key, host, path) == 1)
    return 0;
  r = get_credentials (o, &creds, err);
  if (r == 0)
    r = verify (o, host, &creds, err);
  if (r == 0)
    r = auth_file_store (path, key, &creds, err);
  registry_creds_clear (&creds);
  if (r < 0)
    return -1;
  printf ("Login Succeeded!\n");
  return 0;
}

/* The registry login and logout default to: the first search registry.
 * Malloc'd. */
static char *
default_registry (struct error **err)
{
  cleanup_registries_conf struct registries_conf *conf = NULL;
  const char *const *search;

  if (registries_conf_load (&conf, err) < 0)
    return NULL;
  search = registries_conf_search (conf);
  if (search == NULL || search[0] == NULL)
    return err_make (err, 0, "no registry given and no unqualified-search-registries in "
                     "registries.conf: name the registry"), NULL;
  return xstrdup (search[0]);
}

static int
check_login_opts (const struct login_opts *o, struct error **err)
{
  if (o->authfile && o->compat_auth_file)
    return err_make (err, 0, "--authfile and --compat-auth-file cannot be used together");
  if (o->is_password_stdin && o->password)
    return err_make (err, 0, "--password and --password-stdin cannot be used together");
  if (o->is_password_stdin && o->username == NULL)
    return err_make (err, 0, "--password-stdin needs --username");
  return 0;
}

static int
run_login (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_PASSWORD_STDIN = 1000, OPT_AUTHFILE, OPT_COMPAT, OPT_GET_LOGIN, OPT_TLS,
         OPT_CERT_DIR };
  static const struct option opts[] = {
    { "username", required_argument, NULL, 'u' },
    { "password", required_argument, NULL, 'p' },
    { "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
    { "authfile", required_argument, NULL, OPT_AUTHFILE },
    { "compat-auth-file", required_argument, NULL, OPT_COMPAT },
    { "get-login", no_argument, NULL, OPT_GET_LOGIN },
    { "tls-verify", optional_argument, NULL, OPT_TLS },
    { "cert-dir", required_argument, NULL, OPT_CERT_DIR },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct login_opts o = { 0 };
  cleanup_free char *fallback = NULL;
  const char *registry;
  int c;

  (void) ctx;
  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+u:p:vh", opts, &cmd_login_command, err)) != -1)
    switch (c)
      {
      case 'u':
        o.username = optarg;
        break;
      case 'p':
        o.password = optarg;
        break;
      case OPT_PASSWORD_STDIN:
        o.is_password_stdin = true;
        break;
      case OPT_AUTHFILE:
        o.authfile = optarg;
        break;
      case OPT_COMPAT:
        o.compat_auth_file = optarg;
        break;
      case OPT_GET_LOGIN:
        o.is_get_login = true;
        break;
      case OPT_TLS:
        o.has_tls_verify = true;
        if (cli_parse_bool ("tls-verify", optarg, &o.is_tls_verify, err) < 0)
          return -1;
        break;
      case OPT_CERT_DIR:
        o.cert_dir = optarg;
        break;
      case 'v':
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_login_command, argc - optind, 0, 1, err) < 0
      || check_login_opts (&o, err) < 0)
    return -1;
  if (argc > optind)
    registry = argv[optind];
  else if ((registry = fallback = default_registry (err)) == NULL)
    return -1;
  return login (&o, registry, err);
}

const struct command cmd_login_command = {
  .name = "login",
  .summary = "Log in to a container registry",
  .usage = "login [options] [REGISTRY]",
  .options_help =
    "      --authfile string          path of the authentication file\n"
    "      --cert-dir Pathname        use certificates at the specified path to access the registry\n"
    "      --compat-auth-file string  path of a Docker-compatible config file to update instead\n"
    "      --get-login                return the current login user for the registry\n"
    "  -p, --password string          password for registry\n"
    "      --password-stdin           take the password from stdin\n"
    "      --tls-verify               require HTTPS and verify certificates when contacting registries (default true)\n"
    "  -u, --username string          username for registry\n"
    "  -v, --verbose                  write more detailed information to stdout\n",
  .run = run_login,
};

/* ---- logout ---------------------------------------------------------------------- */

static int
logout (const struct login_opts *o, const char *registry, bool is_all, struct error **err)
{
  cleanup_free char *path = target_file (o);
  cleanup_free char *key = NULL;
  int r;

  if (is_all)
    {
      if (auth_file_erase_all (path, err) < 0)
        return -1;
      printf ("Removed login credentials for all registries\n");
      return 0;
    }
  key = auth_file_key (registry, err);
  if (key == NULL)
    return -1;
  r = auth_file_erase (path, key, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return err_make (err, 0, "not logged into %s", key);
  printf ("Removed login credentials for %s\n", key);
  return 0;
}

static int
run_logout (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_AUTHFILE = 1000, OPT_COMPAT };
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "authfile", required_argument, NULL, OPT_AUTHFILE },
    { "compat-auth-file", required_argument, NULL, OPT_COMPAT },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct login_opts o = { 0 };
  cleanup_free char *fallback = NULL;
  const char *registry = NULL;
  bool is_all = false;
  int c;

  (void) ctx;
  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+ah", opts, &cmd_logout_command, err)) != -1)
    switch (c)
      {
      case 'a':
        is_all = true;
        break;
      case OPT_AUTHFILE:
        o.authfile = optarg;
        break;
      case OPT_COMPAT:
        o.compat_auth_file = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_logout_command, argc - optind, 0, is_all ? 0 : 1, err) < 0
      || check_login_opts (&o, err) < 0)
    return -1;
  if (argc > optind)
    registry = argv[optind];
  else if (!is_all && (registry = fallback = default_registry (err)) == NULL)
    return -1;
  return logout (&o, registry, is_all, err);
}

const struct command cmd_logout_command = {
  .name = "logout",
  .summary = "Log out of a container registry",
  .usage = "logout [options] [REGISTRY]",
  .options_help =
    "  -a, --all                      remove the cached credentials for all registries in the auth file\n"
    "      --authfile string          path of the authentication file\n"
    "      --compat-auth-file string  path of a Docker-compatible config file to update instead\n",
  .run = run_logout,
};
