/* Transport prefixes on image names.  Pure: image_push.c and image_pull.c
 * do the saving and loading. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "image_transport.h"
#include "libutil/buf.h"
#include "libutil/mem.h"
#include "reference.h"

static const struct
{
  const char *prefix;
  enum image_transport transport;
  bool has_ref; /* a ":REF" may follow the path */
} transports[] = {
  { "docker://", IMAGE_TRANSPORT_DOCKER, false },
  { "oci:", IMAGE_TRANSPORT_OCI_DIR, true },
  { "oci-archive:", IMAGE_TRANSPORT_OCI_ARCHIVE, true },
  { "docker-archive:", IMAGE_TRANSPORT_DOCKER_ARCHIVE, true },
  { "dir:", IMAGE_TRANSPORT_DIR, false },
};

/* Transports of containers-transports(5) that skiff does not have. */
static const char *const unsupported[] = {
  "containers-storage:", "docker-daemon:", "ostree:", "sif:",
};

void
image_transport_ref_clear (struct image_transport_ref *t)
{
  free (t->path);
  free (t->ref);
  memset (t, 0, sizeof *t);
}

static int
split_path (const char *name, const char *rest, bool has_ref, struct image_transport_ref *out,
            struct error **err)
{
  size_t path_len = has_ref ? strcspn (rest, ":") : strlen (rest);

  if (path_len == 0)
    return err_make (err, 0, "invalid image name \"%s\": no path after the transport", name);
  if (has_ref && rest[path_len] == ':')
    {
      if (rest[path_len + 1] == '\0')
        return err_make (err, 0, "invalid image name \"%s\": empty reference after the path",
                         name);
      out->ref = xstrdup (rest + path_len + 1);
    }
  out->path = xstrndup (rest, path_len);
  return 1;
}

int
image_transport_parse (const char *name, struct image_transport_ref *out, struct error **err)
{
  memset (out, 0, sizeof *out);
  for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
    if (str_has_prefix (name, unsupported[i]))
      return err_make (err, 0, "invalid image name \"%s\": the transport \"%.*s\" is not "
                       "supported (use docker://, oci:, oci-archive:, docker-archive: or dir:)",
                       name, (int) strlen (unsupported[i]) - 1, unsupported[i]);
  for (size_t i = 0; i < sizeof transports / sizeof transports[0]; i++)
    {
      const char *rest;
      int r;

      if (!str_has_prefix (name, transports[i].prefix))
        continue;
      rest = name + strlen (transports[i].prefix);
      out->transport = transports[i].transport;
      if (out->transport == IMAGE_TRANSPORT_DOCKER)
        {
          if (*rest == '\0')
            return err_make (err, 0, "invalid image name \"%s\": no reference after docker://",
                             name);
          out->ref = xstrdup (rest);
          return 1;
        }
      r = split_path (name, rest, transports[i].has_ref, out, err);
      if (r < 0)
        image_transport_ref_clear (out);
      return r;
    }
  return 0;
}

enum image_archive_format
image_transport_format (enum image_transport t)
{
  switch (t)
    {
    case IMAGE_TRANSPORT_OCI_DIR:
      return IMAGE_ARCHIVE_OCI_DIR;
    case IMAGE_TRANSPORT_OCI_ARCHIVE:
      return IMAGE_ARCHIVE_OCI_ARCHIVE;
    case IMAGE_TRANSPORT_DIR:
      return IMAGE_ARCHIVE_DOCKER_DIR;
    case IMAGE_TRANSPORT_DOCKER_ARCHIVE:
    case IMAGE_TRANSPORT_DOCKER:
      break;
    }
  return IMAGE_ARCHIVE_DOCKER_ARCHIVE;
}
