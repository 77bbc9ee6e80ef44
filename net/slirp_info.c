/* What libslirp is in use, for skiff info. */
#include "config.h"

#include <libslirp.h>

#include "net.h"

const char *
net_slirp_version (void)
{
  return slirp_version_string ();
}
