/* Detach keys for `attach` (see container_attach.h): docker's
 * --detach-keys syntax and the matcher that holds a partly typed sequence
 * back until it either completes or breaks off.  Pure. */
#include "config.h"

#include <string.h>

#include "container_attach.h"
#include "libutil/mem.h"

static int
parse_key (const char *k, unsigned char *out)
{
  if (strlen (k) == 1)
    {
      *out = (unsigned char) k[0];
      return 0;
    }
  if (strncmp (k, "ctrl-", 5) != 0 || strlen (k) != 6)
    return -1;
  if (k[5] >= 'a' && k[5] <= 'z')
    *out = (unsigned char) (k[5] - 'a' + 1);
  else if (k[5] >= 'A' && k[5] <= 'Z')
    *out = (unsigned char) (k[5] - 'A' + 1);
  else if (k[5] == '@')
    *out = 0;
  else if (k[5] >= '[' && k[5] <= '_')
    *out = (unsigned char) (k[5] - '[' + 27);
  else
    return -1;
  return 0;
}

int
container_attach_parse_keys (const char *spec, struct container_attach_keys *out,
                             struct error **err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *p = copy;

  memset (out, 0, sizeof *out);
  if (*spec == '\0')
    return 0;
  for (;;)
    {
      char *comma = strchr (p, ',');
      if (comma)
        *comma = '\0';
      if (out->n == CONTAINER_ATTACH_MAX_KEYS)
        return err_make (err, 0, "invalid detach keys \"%s\": at most %d keys", spec,
                         CONTAINER_ATTACH_MAX_KEYS);
      if (parse_key (p, &out->keys[out->n]) < 0)
        {
          memset (out, 0, sizeof *out);
          return err_make (err, 0, "invalid detach keys \"%s\": unknown key \"%s\"", spec, p);
        }
      out->n++;
      if (comma == NULL)
        break;
      p = comma + 1;
    }
  return 0;
}

size_t
container_attach_keys_feed (struct container_attach_keys *k, const char *in, size_t len,
                            char *out, bool *is_detach)
{
  size_t n = 0;

  *is_detach = false;
  for (size_t i = 0; i < len; i++)
    {
      unsigned char ch = (unsigned char) in[i];

      if (k->n > 0 && ch == k->keys[k->matched])
        {
          if (++k->matched == k->n)
            {
              k->matched = 0;
              *is_detach = true;
              return n;
            }
          continue;
        }
      /* A sequence broken off: what was held was meant for the container. */
      memcpy (out + n, k->keys, k->matched);
      n += k->matched;
      k->matched = 0;
      if (k->n > 0 && ch == k->keys[0])
        {
          k->matched = 1;
          if (k->n == 1)
            {
              k->matched = 0;
              *is_detach = true;
              return n;
            }
          continue;
        }
      out[n++] = (char) ch;
    }
  return n;
}

