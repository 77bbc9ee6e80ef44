/* registries.conf: loading, merging, prefix lookup, mirror rewriting and
 * short-name resolution, following containers/image's sysregistriesv2 and
 * shortnames packages (what podman does).  See registries_conf.h for the
 * files and the merge rules.
 *
 * Each file is parsed on its own into a partial configuration, checked
 * (postprocess), then merged into the result, so an error always names the
 * file and, for anything a line can be found for, the line. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/toml.h"
#include "registries_conf.h"

#define USER_FILE "containers/registries.conf"
#define USER_DIR "containers/registries.conf.d"
#define DROPIN_SUFFIX ".conf"

struct alias
{
  char *name;
  char *value; /* NULL once a later file removed the alias */
};

struct registries_conf
{
  char **search;       /* NULL-terminated; NULL when empty or unset */
  bool has_search;     /* some file set unqualified-search-registries */
  char *search_origin; /* the file that did */
  char *short_name_mode;
  struct registry_entry *entries;
  size_t n_entries;
  struct alias *aliases;
  size_t n_aliases;
};

static const char *const default_search[] = { "docker.io", NULL };
static const char *const empty_search[] = { NULL };

static const char *const v2_keys[] = { "unqualified-search-registries", "registry",
                                       "aliases", "short-name-mode",
                                       "credential-helpers", NULL };
static const char *const registry_keys[] = { "prefix", "location", "insecure", "blocked",
                                             "mirror-by-digest-only", "mirror",
                                             "pull-from-mirror", NULL };
static const char *const mirror_keys[] = { "location", "insecure", "pull-from-mirror",
                                           NULL };

/* --- releasing ----------------------------------------------------------- */

static void
entry_clear (struct registry_entry *e)
{
  free (e->prefix);
  free (e->location);
  for (size_t i = 0; i < e->n_mirrors; i++)
    free (e->mirrors[i].location);
  free (e->mirrors);
  memset (e, 0, sizeof *e);
}

void
registries_conf_free (struct registries_conf *c)
{
  if (c == NULL)
    return;
  strv_free (c->search);
  free (c->search_origin);
  free (c->short_name_mode);
  for (size_t i = 0; i < c->n_entries; i++)
    entry_clear (&c->entries[i]);
  free (c->entries);
  for (size_t i = 0; i < c->n_aliases; i++)
    {
      free (c->aliases[i].name);
      free (c->aliases[i].value);
    }
  free (c->aliases);
  free (c);
}

void
registries_conf_freep (struct registries_conf **c)
{
  registries_conf_free (*c);
  *c = NULL;
}

/* --- typed access to the TOML tree --------------------------------------- */

/* "PATH:LINE: why", the line being where AT was defined. */
static int __attribute__ ((format (printf, 4, 5)))
conf_error (const char *path, json_object *at, struct error **err, const char *fmt, ...)
{
  cleanup_free char *why = NULL;
  unsigned line = toml_line (at);
  va_list ap;

  va_start (ap, fmt);
  why = xvasprintf (fmt, ap);
  va_end (ap);
  if (line == 0)
    return err_make (err, 0, "%s: %s", path, why);
  return err_make (err, 0, "%s:%u: %s", path, line, why);
}

static int
get_bool (const char *path, json_object *t, const char *key, bool *out, struct error **err)
{
  json_object *v;

  if (!json_object_object_get_ex (t, key, &v))
    return 0;
  if (!json_object_is_type (v, json_type_boolean))
    return conf_error (path, v, err, "\"%s\" must be a boolean", key);
  *out = json_object_get_boolean (v);
  return 0;
}

/* *OUT stays NULL when KEY is missing. */
static int
get_string (const char *path, json_object *t, const char *key, char **out,
            struct error **err)
{
  json_object *v;

  if (!json_object_object_get_ex (t, key, &v))
    return 0;
  if (!json_object_is_type (v, json_type_string))
    return conf_error (path, v, err, "\"%s\" must be a string", key);
  *out = xstrdup (json_object_get_string (v));
  return 0;
}

/* A list of strings; *IS_SET tells an empty list from a missing key. */
static int
get_string_list (const char *path, json_object *t, const char *key, char ***out,
                 bool *is_set, struct error **err)
{
  cleanup_strv char **list = NULL;
  json_object *v;

  if (!json_object_object_get_ex (t, key, &v))
    return 0;
  if (!json_object_is_type (v, json_type_array))
    return conf_error (path, v, err, "\"%s\" must be a list of strings", key);
  for (size_t i = 0; i < json_object_array_length (v); i++)
    {
      json_object *item = json_object_array_get_idx (v, i);
      if (!json_object_is_type (item, json_type_string))
        return conf_error (path, item, err, "\"%s\" must be a list of strings", key);
      list = strv_append (list, json_object_get_string (item));
    }
  strv_free (*out);
  *out = steal_ptr (&list);
  *is_set = true;
  return 0;
}

/* Unknown keys are ignored as podman does, but said in debug output so a
 * misspelt key can be found. */
static void
note_unknown_keys (const char *path, json_object *t, const char *const *known)
{
  if (!log_enabled (LOG_LEVEL_DEBUG))
    return;
  json_object_object_foreach (t, key, val)
    if (!strv_contains (known, key))
      log_debug ("%s:%u: ignoring unknown key \"%s\"", path, toml_line (val), key);
}

/* containers/image parseLocation: no trailing '/', no URI scheme. */
static int
clean_location (const char *path, json_object *at, const char *what, char *s,
                struct error **err)
{
  size_t n = strlen (s);

  while (n > 0 && s[n - 1] == '/')
    s[--n] = '\0';
  if (strncmp (s, "http://", 7) == 0 || strncmp (s, "https://", 8) == 0)
    return conf_error (path, at, err, "invalid %s \"%s\": URI schemes are not supported",
                       what, s);
  return 0;
}

static json_object *
key_value (json_object *t, const char *key)
{
  json_object *v = NULL;

  json_object_object_get_ex (t, key, &v);
  return v != NULL ? v : t;
}

static bool
is_wildcard (const char *prefix)
{
  return strncmp (prefix, "*.", 2) == 0;
}

/* --- [[registry]] and [[registry.mirror]] -------------------------------- */

static int
parse_pull_from (const char *path, json_object *t, const char *s,
                 enum registry_mirror_pull *out, struct error **err)
{
  static const struct
  {
    const char *name;
    enum registry_mirror_pull value;
  } modes[] = { { "", REGISTRY_PULL_ALL },
                { "all", REGISTRY_PULL_ALL },
                { "digest-only", REGISTRY_PULL_DIGEST_ONLY },
                { "tag-only", REGISTRY_PULL_TAG_ONLY } };

  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    if (strcmp (s, modes[i].name) == 0)
      {
        *out = modes[i].value;
        return 0;
      }
  return conf_error (path, key_value (t, "pull-from-mirror"), err,
                     "unsupported pull-from-mirror value \"%s\" (use \"all\", "
                     "\"digest-only\" or \"tag-only\")", s);
}

static int
parse_mirror (const char *path, json_object *t, bool is_by_digest_only,
              struct registry_mirror *m, struct error **err)
{
  cleanup_free char *location = NULL;
  cleanup_free char *pull = NULL;

  if (!json_object_is_type (t, json_type_object))
    return conf_error (path, t, err, "a registry mirror must be a table");
  note_unknown_keys (path, t, mirror_keys);
  if (get_string (path, t, "location", &location, err) < 0
      || get_bool (path, t, "insecure", &m->is_insecure, err) < 0
      || get_string (path, t, "pull-from-mirror", &pull, err) < 0)
    return -1;
  if (location == NULL || *location == '\0')
    return conf_error (path, t, err, "mirror location is unset");
  if (clean_location (path, key_value (t, "location"), "mirror location", location, err) < 0)
    return -1;
  if (pull && *pull && is_by_digest_only)
    return conf_error (path, t, err, "mirror \"%s\": pull-from-mirror cannot be combined "
                       "with the registry's mirror-by-digest-only", location);
  if (pull && parse_pull_from (path, t, pull, &m->pull_from, err) < 0)
    return -1;
  m->location = steal_ptr (&location);
  return 0;
}

static int
parse_mirrors (const char *path, json_object *t, struct registry_entry *e,
               struct error **err)
{
  json_object *list;

  if (!json_object_object_get_ex (t, "mirror", &list))
    return 0;
  if (!json_object_is_type (list, json_type_array))
    return conf_error (path, list, err, "\"mirror\" must be a list of tables "
                       "([[registry.mirror]])");
  e->mirrors = xcalloc (json_object_array_length (list), sizeof *e->mirrors);
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      if (parse_mirror (path, json_object_array_get_idx (list, i),
                        e->is_mirror_by_digest_only, &e->mirrors[i], err) < 0)
        return -1;
      e->n_mirrors++;
    }
  return 0;
}

/* containers/image postProcessRegistries, for one entry: the prefix
 * defaults to the location; only a wildcard prefix may go without a
 * location, and a wildcard is a bare "*.domain". */
static int
check_prefix (const char *path, json_object *t, struct registry_entry *e,
              struct error **err)
{
  if (e->prefix == NULL || *e->prefix == '\0')
    {
      if (*e->location == '\0')
        return conf_error (path, t, err, "registry has neither location nor prefix");
      free (e->prefix);
      e->prefix = xstrdup (e->location);
      return 0;
    }
  if (clean_location (path, key_value (t, "prefix"), "prefix", e->prefix, err) < 0)
    return -1;
  if (is_wildcard (e->prefix) && strpbrk (e->prefix, "/@:"))
    return conf_error (path, key_value (t, "prefix"), err,
                       "wildcard prefix \"%s\" must be in the form \"*.example.com\"",
                       e->prefix);
  if (!is_wildcard (e->prefix) && *e->location == '\0')
    return conf_error (path, t, err, "registry \"%s\" has no location (only a prefix "
                       "like \"*.example.com\" may omit it)", e->prefix);
  return 0;
}

static int
parse_registry (const char *path, json_object *t, struct registry_entry *out,
                struct error **err)
{
  struct registry_entry e __attribute__ ((cleanup (entry_clear))) = { 0 };

  if (!json_object_is_type (t, json_type_object))
    return conf_error (path, t, err, "\"registry\" must be a list of tables ([[registry]])");
  note_unknown_keys (path, t, registry_keys);
  if (json_object_object_get_ex (t, "pull-from-mirror", NULL))
    return conf_error (path, key_value (t, "pull-from-mirror"), err,
                       "pull-from-mirror must not be set for a non-mirror registry");
  if (get_string (path, t, "prefix", &e.prefix, err) < 0
      || get_string (path, t, "location", &e.location, err) < 0
      || get_bool (path, t, "insecure", &e.is_insecure, err) < 0
      || get_bool (path, t, "blocked", &e.is_blocked, err) < 0
      || get_bool (path, t, "mirror-by-digest-only", &e.is_mirror_by_digest_only, err) < 0)
    return -1;
  if (e.location == NULL)
    e.location = xstrdup ("");
  if (clean_location (path, key_value (t, "location"), "location", e.location, err) < 0
      || check_prefix (path, t, &e, err) < 0 || parse_mirrors (path, t, &e, err) < 0)
    return -1;
  *out = e;
  memset (&e, 0, sizeof e);
  return 0;
}

static struct registry_entry *
add_entry (struct registries_conf *c)
{
  c->entries = xrealloc (c->entries, (c->n_entries + 1) * sizeof *c->entries);
  memset (&c->entries[c->n_entries], 0, sizeof *c->entries);
  return &c->entries[c->n_entries++];
}

static int
parse_registries (const char *path, json_object *root, struct registries_conf *c,
                  struct error **err)
{
  json_object *list;
  struct registry_entry e;

  if (!json_object_object_get_ex (root, "registry", &list))
    return 0;
  if (!json_object_is_type (list, json_type_array))
    return conf_error (path, list, err, "\"registry\" must be a list of tables "
                       "([[registry]])");
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      if (parse_registry (path, json_object_array_get_idx (list, i), &e, err) < 0)
        return -1;
      *add_entry (c) = e;
    }
  return 0;
}

/* --- search list, short-name-mode, aliases -------------------------------- */

static int
parse_search (const char *path, json_object *root, struct registries_conf *c,
              struct error **err)
{
  const char *key = "unqualified-search-registries";

  if (get_string_list (path, root, key, &c->search, &c->has_search, err) < 0)
    return -1;
  for (size_t i = 0; c->search && c->search[i]; i++)
    {
      if (clean_location (path, key_value (root, key), key, c->search[i], err) < 0)
        return -1;
      if (!reference_is_valid_domain (c->search[i]))
        return conf_error (path, key_value (root, key), err,
                           "invalid unqualified-search-registries entry \"%s\": not a "
                           "registry host", c->search[i]);
    }
  if (c->has_search)
    c->search_origin = xstrdup (path);
  return 0;
}

static int
parse_short_name_mode (const char *path, json_object *root, struct registries_conf *c,
                       struct error **err)
{
  static const char *const modes[] = { "enforcing", "permissive", "disabled", NULL };

  if (get_string (path, root, "short-name-mode", &c->short_name_mode, err) < 0)
    return -1;
  /* containers/image reads "" as not set */
  if (c->short_name_mode && *c->short_name_mode == '\0')
    {
      free (c->short_name_mode);
      c->short_name_mode = NULL;
    }
  if (c->short_name_mode && !strv_contains (modes, c->short_name_mode))
    return conf_error (path, key_value (root, "short-name-mode"), err,
                       "invalid short-name-mode \"%s\" (use \"enforcing\", "
                       "\"permissive\" or \"disabled\")", c->short_name_mode);
  return 0;
}

static bool
has_tag (const char *name)
{
  const char *colon = strrchr (name, ':');
  const char *slash = strrchr (name, '/');

  return colon != NULL && (slash == NULL || colon > slash);
}

/* An alias maps a short name without tag or digest to a fully-qualified
 * name without tag or digest (containers/image validateShortName and
 * parseShortNameValue).  The value is stored normalised. */
static int
check_alias (const char *path, json_object *at, const char *name, const char *value,
             char **normalised, struct error **err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_error struct error *why = NULL;

  if (!reference_is_short_name (name) || strchr (name, '@') || has_tag (name))
    return conf_error (path, at, err, "invalid alias name \"%s\": it must be a short "
                       "name without tag or digest", name);
  if (reference_parse (name, &ref, &why) < 0)
    return conf_error (path, at, err, "invalid alias name: %s", why->msg);
  reference_free (&ref);
  if (reference_is_short_name (value) || strchr (value, '@') || has_tag (value))
    return conf_error (path, at, err, "invalid alias \"%s\" = \"%s\": the value must name "
                       "a registry and a repository, without tag or digest", name, value);
  if (reference_parse (value, &ref, &why) < 0)
    return conf_error (path, at, err, "invalid alias \"%s\": %s", name, why->msg);
  *normalised = reference_repo_string (&ref);
  return 0;
}

static void
set_alias (struct registries_conf *c, char *name, char *value)
{
  for (size_t i = 0; i < c->n_aliases; i++)
    if (strcmp (c->aliases[i].name, name) == 0)
      {
        free (name);
        free (c->aliases[i].value);
        c->aliases[i].value = value;
        return;
      }
  c->aliases = xrealloc (c->aliases, (c->n_aliases + 1) * sizeof *c->aliases);
  c->aliases[c->n_aliases].name = name;
  c->aliases[c->n_aliases].value = value;
  c->n_aliases++;
}

static int
parse_aliases (const char *path, json_object *root, struct registries_conf *c,
               struct error **err)
{
  json_object *t;

  if (!json_object_object_get_ex (root, "aliases", &t))
    return 0;
  if (!json_object_is_type (t, json_type_object))
    return conf_error (path, t, err, "\"aliases\" must be a table");
  json_object_object_foreach (t, name, val)
    {
      char *normalised = NULL;

      if (!json_object_is_type (val, json_type_string))
        return conf_error (path, val, err, "alias \"%s\" must be a string", name);
      if (*json_object_get_string (val) != '\0'
          && check_alias (path, val, name, json_object_get_string (val), &normalised,
                          err) < 0)
        return -1;
      set_alias (c, xstrdup (name), normalised);
    }
  return 0;
}

/* --- the v1 format: [registries.search|insecure|block] registries = [] ----- */

static struct registry_entry *
v1_entry (struct registries_conf *c, const char *location)
{
  struct registry_entry *e;

  for (size_t i = 0; i < c->n_entries; i++)
    if (strcmp (c->entries[i].location, location) == 0)
      return &c->entries[i];
  e = add_entry (c);
  e->location = xstrdup (location);
  e->prefix = xstrdup (location);
  return e;
}

static int
v1_list (const char *path, json_object *v1, const char *table, char ***out, bool *is_set,
         struct error **err)
{
  json_object *t;

  if (!json_object_object_get_ex (v1, table, &t))
    return 0;
  if (!json_object_is_type (t, json_type_object))
    return conf_error (path, t, err, "\"registries.%s\" must be a table", table);
  if (get_string_list (path, t, "registries", out, is_set, err) < 0)
    return -1;
  for (size_t i = 0; *out && (*out)[i]; i++)
    if (clean_location (path, key_value (t, "registries"), "registry", (*out)[i], err) < 0)
      return -1;
  return 0;
}

/* containers/image ConvertToV2: blocked and insecure registries become
 * entries whose prefix is their location. */
static int
parse_v1 (const char *path, json_object *v1, struct registries_conf *c, struct error **err)
{
  cleanup_strv char **block = NULL;
  cleanup_strv char **insecure = NULL;
  bool is_set = false;

  if (v1_list (path, v1, "search", &c->search, &c->has_search, err) < 0
      || v1_list (path, v1, "insecure", &insecure, &is_set, err) < 0
      || v1_list (path, v1, "block", &block, &is_set, err) < 0)
    return -1;
  for (size_t i = 0; block && block[i]; i++)
    v1_entry (c, block[i])->is_blocked = true;
  for (size_t i = 0; insecure && insecure[i]; i++)
    v1_entry (c, insecure[i])->is_insecure = true;
  if (c->has_search)
    c->search_origin = xstrdup (path);
  return 0;
}

static bool
v1_is_used (json_object *v1)
{
  static const char *const tables[] = { "search", "insecure", "block" };

  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
    {
      json_object *t = jobj_get_object (v1, tables[i]);
      json_object *list = t ? jobj_get_array (t, "registries") : NULL;
      if (list && json_object_array_length (list) > 0)
        return true;
    }
  return false;
}

static bool
v2_is_used (json_object *root)
{
  for (const char *const *k = v2_keys; *k; k++)
    if (json_object_object_get_ex (root, *k, NULL))
      return true;
  return false;
}

static int
parse_root (const char *path, json_object *root, struct registries_conf *c,
            struct error **err)
{
  json_object *v1 = NULL;

  if (json_object_object_get_ex (root, "registries", &v1)
      && !json_object_is_type (v1, json_type_object))
    return conf_error (path, v1, err, "\"registries\" must be a table");
  if (v1 && v1_is_used (v1))
    {
      if (v2_is_used (root))
        return conf_error (path, NULL, err, "mixing the v1 [registries.*] tables with the "
                           "v2 format is not supported");
      return parse_v1 (path, v1, c, err);
    }
  note_unknown_keys (path, root, v2_keys);
  if (parse_registries (path, root, c, err) < 0 || parse_search (path, root, c, err) < 0
      || parse_short_name_mode (path, root, c, err) < 0
      || parse_aliases (path, root, c, err) < 0)
    return -1;
  return 0;
}

/* --- per-file checks and merging ------------------------------------------ */

static const char *
entry_key (const struct registry_entry *e)
{
  return *e->location ? e->location : e->prefix;
}

/* A registry listed several times (for several prefixes) must agree with
 * itself on insecure and blocked. */
static int
check_conflicts (const char *path, const struct registries_conf *c, struct error **err)
{
  for (size_t i = 0; i < c->n_entries; i++)
    for (size_t j = i + 1; j < c->n_entries; j++)
      {
        const struct registry_entry *a = &c->entries[i], *b = &c->entries[j];
        if (strcmp (entry_key (a), entry_key (b)) != 0)
          continue;
        if (a->is_insecure != b->is_insecure)
          return conf_error (path, NULL, err, "registry \"%s\" is defined multiple times "
                             "with conflicting \"insecure\" settings", entry_key (a));
        if (a->is_blocked != b->is_blocked)
          return conf_error (path, NULL, err, "registry \"%s\" is defined multiple times "
                             "with conflicting \"blocked\" settings", entry_key (a));
      }
  return 0;
}

/* Within one file the first entry for a prefix wins, as in
 * containers/image; later ones could never match anyway. */
static void
drop_duplicate_prefixes (struct registries_conf *c)
{
  size_t kept = 0;

  for (size_t i = 0; i < c->n_entries; i++)
    {
      bool is_dup = false;
      for (size_t j = 0; j < kept && !is_dup; j++)
        is_dup = strcmp (c->entries[j].prefix, c->entries[i].prefix) == 0;
      if (is_dup)
        entry_clear (&c->entries[i]);
      else
        c->entries[kept++] = c->entries[i];
    }
  c->n_entries = kept;
}

static void
merge_entries (struct registries_conf *into, struct registries_conf *from)
{
  for (size_t i = 0; i < from->n_entries; i++)
    {
      struct registry_entry *slot = NULL;

      for (size_t j = 0; j < into->n_entries && slot == NULL; j++)
        if (strcmp (into->entries[j].prefix, from->entries[i].prefix) == 0)
          slot = &into->entries[j];
      if (slot)
        entry_clear (slot);
      else
        slot = add_entry (into);
      *slot = from->entries[i];
      memset (&from->entries[i], 0, sizeof from->entries[i]);
    }
  from->n_entries = 0;
}

static void
merge (struct registries_conf *into, struct registries_conf *from)
{
  merge_entries (into, from);
  if (from->has_search)
    {
      strv_free (into->search);
      free (into->search_origin);
      into->search = steal_ptr (&from->search);
      into->search_origin = steal_ptr (&from->search_origin);
      into->has_search = true;
    }
  if (from->short_name_mode)
    {
      free (into->short_name_mode);
      into->short_name_mode = steal_ptr (&from->short_name_mode);
    }
  for (size_t i = 0; i < from->n_aliases; i++)
    set_alias (into, steal_ptr (&from->aliases[i].name),
               steal_ptr (&from->aliases[i].value));
  from->n_aliases = 0;
}

static int
load_file (struct registries_conf *into, const char *path, bool is_required,
           struct error **err)
{
  cleanup_registries_conf struct registries_conf *part = NULL;
  cleanup_json json_object *root = NULL;

  if (!is_required && access (path, F_OK) < 0 && errno == ENOENT)
    return 0;
  root = toml_parse_file (path, err);
  if (root == NULL)
    return err_wrap (err, "load registries configuration");
  part = xmalloc0 (sizeof *part);
  if (parse_root (path, root, part, err) < 0 || check_conflicts (path, part, err) < 0)
    return err_wrap (err, "load registries configuration");
  drop_duplicate_prefixes (part);
  merge (into, part);
  log_debug ("registries configuration \"%s\" loaded", path);
  return 0;
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static bool
is_directory_entry (DIR *d, const struct dirent *de)
{
  struct stat st;

  if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
    return de->d_type == DT_DIR;
  return fstatat (dirfd (d), de->d_name, &st, 0) == 0 && S_ISDIR (st.st_mode);
}

/* The *.conf files of DIR, sorted; a missing directory has none. */
static int
list_dropins (const char *dir, char ***out, struct error **err)
{
  cleanup_dir DIR *d = opendir (dir);
  cleanup_strv char **files = NULL;
  struct dirent *de;
  size_t suffix_len = strlen (DROPIN_SUFFIX);

  if (d == NULL)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return 0;
      return err_make (err, errno, "open directory \"%s\"", dir);
    }
  for (errno = 0; (de = readdir (d)) != NULL; errno = 0)
    {
      size_t n = strlen (de->d_name);
      if (n < suffix_len || strcmp (de->d_name + n - suffix_len, DROPIN_SUFFIX) != 0
          || is_directory_entry (d, de))
        continue;
      cleanup_free char *file = xasprintf ("%s/%s", dir, de->d_name);
      files = strv_append (files, file);
    }
  if (errno != 0)
    return err_make (err, errno, "read directory \"%s\"", dir);
  if (files)
    qsort (files, strv_len (files), sizeof *files, compare_strings);
  *out = steal_ptr (&files);
  return 0;
}

int
registries_conf_load_paths (const char *main_file, bool is_main_required,
                            const char *const *dropin_dirs,
                            struct registries_conf **out, struct error **err)
{
  cleanup_registries_conf struct registries_conf *c = xmalloc0 (sizeof *c);

  if (main_file && load_file (c, main_file, is_main_required, err) < 0)
    return -1;
  for (size_t i = 0; dropin_dirs && dropin_dirs[i]; i++)
    {
      cleanup_strv char **files = NULL;

      if (list_dropins (dropin_dirs[i], &files, err) < 0)
        return err_wrap (err, "load registries configuration");
      for (size_t j = 0; files && files[j]; j++)
        if (load_file (c, files[j], true, err) < 0)
          return -1;
    }
  *out = steal_ptr (&c);
  return 0;
}

/* --- where the files are --------------------------------------------------- */

static char *
config_home (void)
{
  const char *xdg = getenv ("XDG_CONFIG_HOME");
  const char *home = getenv ("HOME");
  struct passwd *pw;

  if (xdg && *xdg == '/')
    return xstrdup (xdg);
  if (home && *home)
    return xasprintf ("%s/.config", home);
  pw = getpwuid (getuid ());
  if (pw && pw->pw_dir && *pw->pw_dir)
    return xasprintf ("%s/.config", pw->pw_dir);
  return NULL;
}

void
registries_conf_default_paths (char **main_file, bool *is_main_required,
                               char ***dropin_dirs)
{
  const char *env = getenv ("CONTAINERS_REGISTRIES_CONF");
  cleanup_free char *home = config_home ();
  cleanup_free char *user_file = home ? xasprintf ("%s/" USER_FILE, home) : NULL;
  cleanup_free char *user_dir = home ? xasprintf ("%s/" USER_DIR, home) : NULL;
  cleanup_strv char **dirs = NULL;
  struct stat st;

  if (env == NULL || *env == '\0')
    env = NULL;
  /* The user's file replaces the system file and its drop-in directory. */
  if (env == NULL && user_file && stat (user_file, &st) == 0)
    {
      *main_file = steal_ptr (&user_file);
      *is_main_required = false;
      *dropin_dirs = strv_append (NULL, user_dir);
      return;
    }
  dirs = strv_append (NULL, REGISTRIES_CONF_SYSTEM_DIR);
  if (user_dir)
    dirs = strv_append (dirs, user_dir);
  *main_file = xstrdup (env ? env : REGISTRIES_CONF_SYSTEM_FILE);
  *is_main_required = env != NULL;
  *dropin_dirs = steal_ptr (&dirs);
}

int
registries_conf_load (struct registries_conf **out, struct error **err)
{
  cleanup_free char *main_file = NULL;
  cleanup_strv char **dirs = NULL;
  bool is_required = false;

  registries_conf_default_paths (&main_file, &is_required, &dirs);
  return registries_conf_load_paths (main_file, is_required, (const char *const *) dirs,
                                     out, err);
}

/* --- queries --------------------------------------------------------------- */

const char *const *
registries_conf_search (const struct registries_conf *c)
{
  if (c == NULL || !c->has_search)
    return default_search;
  return c->search ? (const char *const *) c->search : empty_search;
}

const char *
registries_conf_short_name_mode (const struct registries_conf *c)
{
  return c ? c->short_name_mode : NULL;
}

const char *
registries_conf_alias (const struct registries_conf *c, const char *short_name)
{
  for (size_t i = 0; c && i < c->n_aliases; i++)
    if (strcmp (c->aliases[i].name, short_name) == 0)
      return c->aliases[i].value;
  return NULL;
}

/* How much of REF PREFIX matches (containers/image refMatchingPrefix), 0
 * when it does not.  Like containers/image, "example.com" also matches
 * "example.com:5000/..."; a wildcard matches the host part only. */
static size_t
prefix_match_len (const char *ref, const char *prefix)
{
  size_t n = strlen (prefix);

  if (is_wildcard (prefix))
    {
      const char *suffix = prefix + 1; /* ".example.com" */
      size_t host_len = strcspn (ref, "/:@"), suffix_len = n - 1;

      if (host_len <= suffix_len
          || memcmp (ref + host_len - suffix_len, suffix, suffix_len) != 0)
        return 0;
      return host_len;
    }
  if (n == 0 || strncmp (ref, prefix, n) != 0)
    return 0;
  if (ref[n] == '\0' || ref[n] == '/' || ref[n] == ':' || ref[n] == '@')
    return n;
  return 0;
}

const struct registry_entry *
registries_conf_find (const struct registries_conf *c, const char *ref)
{
  const struct registry_entry *best = NULL;
  size_t best_len = 0;

  for (size_t i = 0; c && i < c->n_entries; i++)
    {
      size_t len = strlen (c->entries[i].prefix);
      if (len > best_len && prefix_match_len (ref, c->entries[i].prefix) > 0)
        {
          best = &c->entries[i];
          best_len = len;
        }
    }
  return best;
}

void
registries_conf_free_sources (struct registry_pull_source *s, size_t n)
{
  for (size_t i = 0; s && i < n; i++)
    reference_free (&s[i].ref);
  free (s);
}

/* FULL with its first MATCHED characters replaced by LOCATION ("" keeps
 * FULL as it is). */
static int
rewrite (const char *full, size_t matched, const char *location, struct image_ref *out,
         struct error **err)
{
  cleanup_free char *s = NULL;

  if (*location == '\0')
    return reference_parse (full, out, err);
  s = xasprintf ("%s%s", location, full + matched);
  if (reference_is_short_name (s))
    return err_make (err, 0, "registries.conf location \"%s\" does not start with a "
                     "registry host", location);
  if (reference_parse (s, out, err) < 0)
    return err_wrap (err, "rewrite \"%s\" for location \"%s\"", full, location);
  return 0;
}

static bool
mirror_serves (const struct registry_entry *e, const struct registry_mirror *m,
               bool is_digested)
{
  if (e->is_mirror_by_digest_only)
    return is_digested;
  if (m->pull_from == REGISTRY_PULL_DIGEST_ONLY)
    return is_digested;
  if (m->pull_from == REGISTRY_PULL_TAG_ONLY)
    return !is_digested;
  return true;
}

int
registries_conf_pull_sources (const struct registries_conf *c,
                              const struct image_ref *ref,
                              struct registry_pull_source **out, size_t *n_out,
                              struct error **err)
{
  cleanup_free char *full = reference_to_string (ref);
  const struct registry_entry *e = registries_conf_find (c, full);
  struct registry_pull_source *s;
  size_t n = 0, matched;

  if (e == NULL)
    {
      s = xcalloc (1, sizeof *s);
      reference_copy (ref, &s->ref);
      *out = s;
      *n_out = 1;
      return 0;
    }
  if (e->is_blocked)
    return err_make (err, 0, "image \"%s\" is blocked by registries.conf (prefix \"%s\")",
                     full, e->prefix);
  matched = prefix_match_len (full, e->prefix);
  s = xcalloc (e->n_mirrors + 1, sizeof *s);
  for (size_t i = 0; i < e->n_mirrors; i++)
    {
      if (!mirror_serves (e, &e->mirrors[i], ref->digest != NULL))
        continue;
      if (rewrite (full, matched, e->mirrors[i].location, &s[n].ref, err) < 0)
        goto fail;
      s[n].is_insecure = e->mirrors[i].is_insecure;
      s[n++].is_mirror = true;
    }
  if (rewrite (full, matched, e->location, &s[n].ref, err) < 0)
    goto fail;
  s[n++].is_insecure = e->is_insecure;
  *out = s;
  *n_out = n;
  return 0;

fail:
  registries_conf_free_sources (s, n);
  return -1;
}

/* --- short names ----------------------------------------------------------- */

struct candidates
{
  struct image_ref *refs;
  size_t n;
};

void
registries_conf_free_refs (struct image_ref *refs, size_t n)
{
  for (size_t i = 0; refs && i < n; i++)
    reference_free (&refs[i]);
  free (refs);
}

static void
candidates_clear (struct candidates *c)
{
  registries_conf_free_refs (c->refs, c->n);
  memset (c, 0, sizeof *c);
}

/* Parse TEXT (a fully-qualified name) and append it unless it is already
 * there. */
static int
add_candidate (struct candidates *c, const char *text, struct error **err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_free char *s = NULL;

  if (reference_parse (text, &ref, err) < 0)
    return -1;
  s = reference_to_string (&ref);
  for (size_t i = 0; i < c->n; i++)
    {
      cleanup_free char *other = reference_to_string (&c->refs[i]);
      if (strcmp (s, other) == 0)
        return 0;
    }
  c->refs = xrealloc (c->refs, (c->n + 1) * sizeof *c->refs);
  c->refs[c->n++] = ref;
  memset (&ref, 0, sizeof ref);
  return 0;
}

static int
add_search_candidates (const struct registries_conf *conf, const char *name,
                       struct candidates *c, struct error **err)
{
  for (const char *const *reg = registries_conf_search (conf); *reg; reg++)
    {
      cleanup_free char *text = xasprintf ("%s/%s", *reg, name);
      if (add_candidate (c, text, err) < 0)
        return err_wrap (err, "complete \"%s\" with unqualified-search registry \"%s\"",
                         name, *reg);
    }
  return 0;
}

/* The one candidate a name with a registry has. */
static void
take_single (struct image_ref *ref, struct image_ref **out, size_t *n_out)
{
  *out = xcalloc (1, sizeof **out);
  **out = *ref;
  memset (ref, 0, sizeof *ref);
  *n_out = 1;
}

static int
resolve (const struct registries_conf *conf, const char *name, bool is_local,
         struct image_ref **out, size_t *n_out, struct error **err)
{
  struct candidates c __attribute__ ((cleanup (candidates_clear))) = { 0 };
  cleanup_image_ref struct image_ref parsed = { 0 };
  size_t repo_len = strcspn (name, ":@");
  cleanup_free char *short_repo = NULL;
  const char *alias;

  if (reference_parse (name, &parsed, err) < 0)
    return -1;
  if (!reference_is_short_name (name))
    {
      take_single (&parsed, out, n_out);
      return 0;
    }
  short_repo = xstrndup (name, repo_len);
  alias = registries_conf_alias (conf, short_repo);
  if (alias)
    {
      cleanup_free char *text = xasprintf ("%s%s", alias, name + repo_len);
      if (add_candidate (&c, text, err) < 0)
        return err_wrap (err, "apply alias \"%s\" = \"%s\"", short_repo, alias);
      if (!is_local)
        goto done;
    }
  if (is_local)
    {
      cleanup_free char *text = xasprintf ("localhost/%s", name);
      if (add_candidate (&c, text, err) < 0)
        return -1;
    }
  if (add_search_candidates (conf, name, &c, err) < 0)
    return -1;
  if (c.n == 0)
    return err_make (err, 0, "short-name \"%s\" did not resolve to an alias and no "
                     "unqualified-search registries are defined in \"%s\"", name,
                     conf && conf->search_origin ? conf->search_origin : "registries.conf");
done:
  *out = steal_ptr (&c.refs);
  *n_out = c.n;
  c.n = 0;
  return 0;
}

int
registries_conf_resolve (const struct registries_conf *c, const char *name,
                         struct image_ref **out, size_t *n_out, struct error **err)
{
  return resolve (c, name, false, out, n_out, err);
}

int
registries_conf_resolve_local (const struct registries_conf *c, const char *name,
                               struct image_ref **out, size_t *n_out, struct error **err)
{
  return resolve (c, name, true, out, n_out, err);
}
