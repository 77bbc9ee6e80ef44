/* net/: libslirp glue, the tap device and port forwarding.  Uses libutil/
 * only.  The module's one public header. */
#ifndef SKIFF_NET_NET_H
#define SKIFF_NET_NET_H

#include "libutil/error.h"

/* === libslirp information (slirp_info.c) ================================ */

/* The version of the libslirp loaded at run time ("4.7.0"), which may
 * differ from the one skiff was built against.  Static string. */
const char *net_slirp_version (void);

#endif
