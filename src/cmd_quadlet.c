/* skiff quadlet, and skiff as a systemd generator: find the Quadlet files
 * in podman's search path, convert each (quadlet.c) and write the service
 * units into the generator's output directory, with the .wants/.requires
 * links their [Install] section asks for, as podman's quadlet binary
 * does (cmd/quadlet/main.go).  systemd runs a generator with three
 * directories (normal, early, late) and logs what it prints; podman's
 * generator writes its messages to /dev/kmsg when it can, so they reach
 * the journal before it runs, and to stderr otherwise. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "quadlet.h"

/* Quadlet files are a few lines; this only bounds a hostile one. */
#define QUADLET_FILE_MAX (4 * 1024 * 1024)

struct gen
{
  bool is_dryrun;
  bool is_user;
  bool is_verbose;
  bool is_no_kmsg;
  int kmsg_fd;
  const char *outdir;
  char *exe;
  struct quadlet_unit **units; /* NULL-terminated */
  size_t n_units;
  size_t n_failed;
};

static void
gen_log (struct gen *g, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
gen_log (struct gen *g, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  cleanup_free char *line = NULL;
  va_list ap;
  size_t n;

  va_start (ap, fmt);
  msg = xvasprintf (fmt, ap);
  va_end (ap);
  line = xasprintf ("quadlet-generator[%d]: %s\n", (int) getpid (), msg);
  n = strlen (line);
  if (g->kmsg_fd >= 0 && write (g->kmsg_fd, line, n) == (ssize_t) n)
    return;
  fputs (line, stderr);
  fflush (stderr);
}

static void
open_kmsg (struct gen *g)
{
  g->kmsg_fd = -1;
  if (!g->is_dryrun && !g->is_no_kmsg)
    g->kmsg_fd = open ("/dev/kmsg", O_WRONLY | O_CLOEXEC);
}

/* ---- where the files are ---------------------------------------------------- */

static char *
user_config_dir (void)
{
  const char *xdg = getenv ("XDG_CONFIG_HOME");
  const char *home = getenv ("HOME");
  struct passwd *pw;

  if (xdg && xdg[0] == '/')
    return xstrdup (xdg);
  if ((home == NULL || home[0] != '/') && (pw = getpwuid (getuid ())) != NULL)
    home = pw->pw_dir;
  return home ? xasprintf ("%s/.config", home) : NULL;
}

/* podman 4.x's search path, most important first: a file name found in
 * an earlier directory hides the same name in later ones.
 * $QUADLET_UNIT_DIRS (colon separated) replaces it, as in podman. */
static char **
unit_dirs (bool is_user)
{
  const char *env = getenv ("QUADLET_UNIT_DIRS");
  char **dirs = xcalloc (1, sizeof *dirs);

  if (env && *env)
    {
      cleanup_strv char **parts = str_split (env, ':');
      for (char **p = parts; *p; p++)
        if (**p)
          dirs = strv_append (dirs, *p);
      return dirs;
    }
  if (is_user)
    {
      cleanup_free char *config = user_config_dir ();
      cleanup_free char *config_dir = config ? xasprintf ("%s/containers/systemd", config)
                                             : NULL;
      cleanup_free char *uid_dir = xasprintf ("/etc/containers/systemd/users/%u",
                                              (unsigned) getuid ());
      if (config_dir)
        dirs = strv_append (dirs, config_dir);
      dirs = strv_append (dirs, uid_dir);
      return strv_append (dirs, "/etc/containers/systemd/users");
    }
  dirs = strv_append (dirs, "/etc/containers/systemd");
  return strv_append (dirs, "/usr/share/containers/systemd");
}

static bool
is_loaded (const struct gen *g, const char *name)
{
  for (size_t i = 0; i < g->n_units; i++)
    if (strcmp (g->units[i]->name, name) == 0)
      return true;
  return false;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The Quadlet file names in DIR, sorted; NULL (and nothing logged) when
 * DIR does not exist. */
static char **
dir_entries (struct gen *g, const char *dir)
{
  cleanup_dir DIR *d = opendir (dir);
  char **names;
  struct dirent *de;

  if (d == NULL)
    {
      if (errno != ENOENT && errno != ENOTDIR)
        gen_log (g, "Error reading directory '%s', ignoring: %s", dir, strerror (errno));
      return NULL;
    }
  names = xcalloc (1, sizeof *names);
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.' && quadlet_kind_of (de->d_name) != QUADLET_NONE)
      names = strv_append (names, de->d_name);
  qsort (names, strv_len (names), sizeof *names, compare_names);
  return names;
}

static void
load_file (struct gen *g, const char *dir, const char *name)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, name);
  cleanup_free char *text = NULL;
  struct quadlet_unit *u;
  struct error *e = NULL;
  size_t len = 0;

  if (g->is_verbose)
    gen_log (g, "Loading source unit file %s", path);
  text = fs_read_file (path, QUADLET_FILE_MAX, &len, &e);
  u = text ? quadlet_unit_parse (path, text, len, &e) : NULL;
  if (u == NULL)
    {
      cleanup_free char *msg = err_text (e);
      gen_log (g, "Error loading '%s', ignoring: %s", path, msg);
      err_release (&e);
      g->n_failed++;
      return;
    }
  g->units = xrealloc (g->units, (g->n_units + 2) * sizeof *g->units);
  g->units[g->n_units++] = u;
  g->units[g->n_units] = NULL;
}

static void
load_units (struct gen *g)
{
  cleanup_strv char **dirs = unit_dirs (g->is_user);

  g->units = xcalloc (1, sizeof *g->units);
  for (char **dir = dirs; *dir; dir++)
    {
      cleanup_strv char **names = dir_entries (g, *dir);
      for (char **n = names; n && *n; n++)
        if (!is_loaded (g, *n))
          load_file (g, *dir, *n);
    }
}

/* ---- writing the units ---------------------------------------------------------- */

static int
write_link (struct gen *g, const char *service, const char *link, struct error **err)
{
  cleanup_free char *path = xasprintf ("%s/%s", g->outdir, link);
  cleanup_free char *target = strchr (link, '/') ? xasprintf ("../%s", service)
                                                 : xstrdup (service);
  char *slash = strrchr (path, '/');

  *slash = '\0';
  if (fs_mkdir_p (path, 0755, err) < 0)
    return -1;
  *slash = '/';
  /* A generator may run again into the same directory. */
  if (unlink (path) < 0 && errno != ENOENT)
    return err_make (err, errno, "remove \"%s\"", path);
  if (symlink (target, path) < 0)
    return err_make (err, errno, "symlink \"%s\"", path);
  return 0;
}

static int
emit (struct gen *g, const struct quadlet_unit *service, struct error **err)
{
  cleanup_free char *text = quadlet_service_text (service);
  cleanup_free char *path = NULL;
  cleanup_strv char **links = NULL;

  if (g->is_dryrun)
    {
      printf ("---%s---\n%s\n", service->name, text);
      return 0;
    }
  path = xasprintf ("%s/%s", g->outdir, service->name);
  if (fs_write_atomic_nosync (path, text, strlen (text), 0644, err) < 0)
    return -1;
  links = quadlet_install_links (service);
  for (char **l = links; *l; l++)
    if (write_link (g, service->name, *l, err) < 0)
      return -1;
  return 0;
}

static void
generate_one (struct gen *g, const struct quadlet_unit *u)
{
  const struct quadlet_opts o = { .exe = g->exe };
  cleanup_strv char **warnings = xcalloc (1, sizeof *warnings);
  cleanup_quadlet_unit struct quadlet_unit *service = NULL;
  struct error *e = NULL;

  service = quadlet_convert (u, g->units, &o, &warnings, &e);
  for (char **w = warnings; *w; w++)
    gen_log (g, "Warning: %s", *w);
  if (service == NULL || emit (g, service, &e) < 0)
    {
      cleanup_free char *msg = err_text (e);
      gen_log (g, "Error converting '%s', ignoring: %s", u->path, msg);
      err_release (&e);
      g->n_failed++;
    }
}

/* skiff's path for the units' commands: $SKIFF when it is absolute (as
 * podman's generator honours $PODMAN), else this executable. */
static char *
skiff_path (struct error **err)
{
  const char *env = getenv ("SKIFF");
  char buf[PATH_MAX];
  ssize_t n;

  if (env && env[0] == '/')
    return xstrdup (env);
  n = readlink ("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0)
    {
      err_make (err, errno, "readlink \"/proc/self/exe\"");
      return NULL;
    }
  buf[n] = '\0';
  return xstrdup (buf);
}

static void
gen_clear (struct gen *g)
{
  for (size_t i = 0; i < g->n_units; i++)
    quadlet_unit_free (g->units[i]);
  free (g->units);
  free (g->exe);
  if (g->kmsg_fd >= 0)
    close (g->kmsg_fd);
}

static int
generate (struct gen *g, struct error **err)
{
  size_t n_found;

  if (!g->is_dryrun && fs_mkdir_p (g->outdir, 0755, err) < 0)
    return -1;
  load_units (g);
  n_found = g->n_units + g->n_failed;
  for (size_t i = 0; i < g->n_units; i++)
    generate_one (g, g->units[i]);
  if (g->n_failed > 0)
    return err_make_code (err, 1, 0, "%zu of %zu Quadlet files could not be converted",
                          g->n_failed, n_found);
  return 0;
}

enum
{
  Q_DRYRUN = 1000, Q_USER, Q_NO_KMSG,
};

static const struct option quadlet_opts[] = {
  { "dryrun", no_argument, NULL, Q_DRYRUN },
  { "user", no_argument, NULL, Q_USER },
  { "no-kmsg-log", no_argument, NULL, Q_NO_KMSG },
  { "verbose", no_argument, NULL, 'v' },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

static int
run_generator (int argc, char **argv, bool is_user, struct error **err)
{
  struct gen g = { .is_user = is_user, .kmsg_fd = -1 };
  int c, r;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+vh", quadlet_opts, &cmd_quadlet_command, err)) != -1)
    switch (c)
      {
      case Q_DRYRUN: g.is_dryrun = true; break;
      case Q_USER: g.is_user = true; break;
      case Q_NO_KMSG: g.is_no_kmsg = true; break;
      case 'v': g.is_verbose = true; break;
      case CLI_OPT_HELP: return 0;
      default: return -1;
      }
  /* systemd passes normal, early and late directories; units go to the
   * normal one, as podman's do. */
  if (cli_require_args (&cmd_quadlet_command, argc - optind, g.is_dryrun ? 0 : 1, 3, err) < 0)
    return -1;
  g.outdir = optind < argc ? argv[optind] : NULL;
  if ((g.exe = skiff_path (err)) == NULL)
    return -1;
  open_kmsg (&g);
  r = generate (&g, err);
  gen_clear (&g);
  return r;
}

bool
cmd_quadlet_is_generator (const char *argv0)
{
  static const char *const names[] = { "skiff-user-generator", "skiff-system-generator",
                                       "quadlet" };
  const char *base = strrchr (argv0, '/');

  base = base ? base + 1 : argv0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp (base, names[i]) == 0)
      return true;
  return false;
}

int
cmd_quadlet_generator (int argc, char **argv, struct error **err)
{
  const char *base = strrchr (argv[0], '/');

  base = base ? base + 1 : argv[0];
  return run_generator (argc, argv, strstr (base, "user") != NULL, err);
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  (void) ctx;
  return run_generator (argc, argv, false, err);
}

const struct command cmd_quadlet_command = {
  .name = "quadlet",
  .summary = "Generate systemd units from Quadlet files",
  .usage = "quadlet [options] OUTDIR [EARLY-DIR LATE-DIR]",
  .description
  = "Generate systemd service units from Quadlet files, as podman's quadlet does.\n\n"
    "Each NAME.container and NAME.volume file becomes NAME.service and "
    "NAME-volume.service in OUTDIR, with the links its [Install] section asks for.  "
    "With --user the files come from $XDG_CONFIG_HOME/containers/systemd (default "
    "~/.config/containers/systemd), /etc/containers/systemd/users/$UID and "
    "/etc/containers/systemd/users; otherwise from /etc/containers/systemd and "
    "/usr/share/containers/systemd.  A file name found in an earlier directory hides "
    "the same name in later ones; $QUADLET_UNIT_DIRS (colon separated) replaces the "
    "list.  The units run this skiff, or $SKIFF when it is an absolute path.\n\n"
    "Installed as systemd's user generator skiff-user-generator (a link to skiff), it "
    "runs on `systemctl --user daemon-reload` with --user implied.",
  .options_help =
      "      --dryrun        print the units on stdout instead of writing them\n"
      "      --no-kmsg-log   do not log to /dev/kmsg\n"
      "      --user          read the user's Quadlet directories, not the system's\n"
      "  -v, --verbose       log each file read\n",
  .run = run,
};
