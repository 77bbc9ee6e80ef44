/* --network: which network namespace a container gets, and the options of
 * the slirp network with the addresses they imply.  Pure parsing: no
 * kernel calls, so everything here is unit-tested. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libutil/buf.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "net.h"

#define SLIRP_PREFIX "slirp4netns"
#define MTU_MIN 68      /* IPv4's minimum (RFC 791); libslirp's IF_MTU_MIN */
#define MTU_MAX 65521   /* libslirp's IF_MTU_MAX */
#define MTU_MIN_IPV6 1280 /* RFC 8200 */
#define PREFIX_MAX 25   /* the container's .100 must fit below the broadcast */
#define GATEWAY_HOST 2
#define DNS_HOST 3
#define GUEST_HOST 100

void
net_slirp_opts_init (struct net_slirp_opts *o)
{
  memset (o, 0, sizeof *o);
  o->network.s_addr = htonl (0x0a000200); /* 10.0.2.0 */
  o->prefix_len = 24;
  o->mtu = NET_DEFAULT_MTU;
  o->is_ipv6_enabled = true;
}

void
net_mode_clear (struct net_mode *m)
{
  free (m->target);
  free (m->slirp.outbound_addr);
  free (m->slirp.outbound_addr6);
  m->target = m->slirp.outbound_addr = m->slirp.outbound_addr6 = NULL;
}

/* ---- slirp4netns options ---------------------------------------------------- */

/* Go's strconv.ParseBool, which podman uses for these options. */
static int
parse_bool (const char *key, const char *v, bool *out, struct error **err)
{
  static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
  static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };

  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (strcmp (v, yes[i]) == 0 || strcmp (v, no[i]) == 0)
      {
        *out = strcmp (v, yes[i]) == 0;
        return 0;
      }
  return err_make (err, 0, "%s: \"%s\" is not a boolean (true or false)", key, v);
}

static int
parse_mtu (const char *v, struct net_slirp_opts *o, struct error **err)
{
  uint64_t mtu;

  if (parse_uint (v, MTU_MAX, "mtu", &mtu, err) < 0)
    return -1;
  if (mtu < MTU_MIN)
    return err_make (err, 0, "mtu: %s is below the minimum of %d", v, MTU_MIN);
  o->mtu = (unsigned) mtu;
  return 0;
}

/* "A.B.C.D/N" with no host bits set and N in 1..25. */
static int
parse_cidr (const char *v, struct net_slirp_opts *o, struct error **err)
{
  const char *slash = strchr (v, '/');
  cleanup_free char *addr = NULL;
  struct in_addr net;
  uint64_t len;
  uint32_t mask;

  if (slash == NULL)
    return err_make (err, 0, "cidr: \"%s\" is not ADDRESS/PREFIX (10.0.2.0/24)", v);
  addr = xstrndup (v, (size_t) (slash - v));
  if (inet_pton (AF_INET, addr, &net) != 1)
    return err_make (err, 0, "cidr: \"%s\" is not an IPv4 address", addr);
  if (parse_uint (slash + 1, 32, "cidr prefix length", &len, err) < 0)
    return -1;
  if (len == 0 || len > PREFIX_MAX)
    return err_make (err, 0, "cidr: prefix length %s is out of range 1-%d (the container "
                     "takes host address %d)", slash + 1, PREFIX_MAX, GUEST_HOST);
  mask = htonl (~0u << (32 - len));
  if ((net.s_addr & ~mask) != 0)
    {
      struct in_addr masked = { net.s_addr & mask };
      char buf[INET_ADDRSTRLEN];

      inet_ntop (AF_INET, &masked, buf, sizeof buf);
      return err_make (err, 0, "cidr: \"%s\" has host bits set; the network is \"%s/%u\"",
                       v, buf, (unsigned) len);
    }
  o->network = net;
  o->prefix_len = (unsigned) len;
  return 0;
}

static int
parse_outbound (const char *key, const char *v, char **out, struct error **err)
{
  if (*v == '\0')
    return err_make (err, 0, "%s: empty value", key);
  free (*out);
  *out = xstrdup (v);
  return 0;
}

static int
apply_slirp_opt (const char *key, const char *v, struct net_slirp_opts *o, struct error **err)
{
  if (strcmp (key, "allow_host_loopback") == 0)
    return parse_bool (key, v, &o->is_host_loopback_allowed, err);
  if (strcmp (key, "enable_ipv6") == 0)
    return parse_bool (key, v, &o->is_ipv6_enabled, err);
  if (strcmp (key, "mtu") == 0)
    return parse_mtu (v, o, err);
  if (strcmp (key, "cidr") == 0)
    return parse_cidr (v, o, err);
  if (strcmp (key, "outbound_addr") == 0)
    return parse_outbound (key, v, &o->outbound_addr, err);
  if (strcmp (key, "outbound_addr6") == 0)
    return parse_outbound (key, v, &o->outbound_addr6, err);
  if (strcmp (key, "port_handler") == 0)
    {
      if (strcmp (v, "slirp4netns") == 0)
        return 0;
      if (strcmp (v, "rootlesskit") == 0)
        return err_make (err, 0, "port_handler=rootlesskit is not supported: skiff forwards "
                         "ports through slirp (port_handler=slirp4netns)");
      return err_make (err, 0, "port_handler: \"%s\" is not slirp4netns", v);
    }
  return err_make (err, 0, "unknown option \"%s\" (known: allow_host_loopback, cidr, "
                   "enable_ipv6, mtu, outbound_addr, outbound_addr6, port_handler)", key);
}

static int
parse_slirp_opts (const char *opts, struct net_slirp_opts *o, struct error **err)
{
  cleanup_strv char **keys = NULL;
  cleanup_strv char **values = NULL;

  if (parse_kv_list (opts, &keys, &values, err) < 0)
    return -1;
  if (keys[0] == NULL)
    return err_make (err, 0, "no options after \"" SLIRP_PREFIX ":\"");
  for (size_t i = 0; keys[i]; i++)
    if (apply_slirp_opt (keys[i], values[i], o, err) < 0)
      return -1;
  if (o->is_ipv6_enabled && o->mtu < MTU_MIN_IPV6)
    return err_make (err, 0, "mtu %u is below IPv6's minimum of %d: raise it or set "
                     "enable_ipv6=false", o->mtu, MTU_MIN_IPV6);
  if (o->outbound_addr6 && !o->is_ipv6_enabled)
    return err_make (err, 0, "outbound_addr6 needs enable_ipv6=true");
  return 0;
}

/* ---- --network -------------------------------------------------------------- */

static int
parse_target (const char *spec, const char *prefix, struct net_mode *out, struct error **err)
{
  const char *t = spec + strlen (prefix);

  if (*t == '\0')
    return err_make (err, 0, "\"%s\" names nothing after \"%s\"", spec, prefix);
  if (out->kind == NET_MODE_NS && *t != '/')
    return err_make (err, 0, "\"%s\": the namespace path must be absolute", spec);
  out->target = xstrdup (t);
  return 0;
}

static bool
is_slirp_alias (const char *spec)
{
  return *spec == '\0' || strcmp (spec, "default") == 0 || strcmp (spec, "bridge") == 0
         || strcmp (spec, "private") == 0 || strcmp (spec, SLIRP_PREFIX) == 0;
}

/* The modes that are one word or a prefix and a target. */
static const struct
{
  const char *word;
  enum net_mode_kind kind;
  bool has_target;
} modes[] = {
  { "none", NET_MODE_NONE, false },
  { "host", NET_MODE_HOST, false },
  { "container:", NET_MODE_CONTAINER, true },
  { "ns:", NET_MODE_NS, true },
};

static int
parse_mode (const char *spec, struct net_mode *out, struct error **err)
{
  if (is_slirp_alias (spec))
    return 0;
  if (str_has_prefix (spec, SLIRP_PREFIX ":"))
    return parse_slirp_opts (spec + strlen (SLIRP_PREFIX ":"), &out->slirp, err);
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    {
      if (modes[i].has_target ? !str_has_prefix (spec, modes[i].word)
                              : strcmp (spec, modes[i].word) != 0)
        continue;
      out->kind = modes[i].kind;
      return modes[i].has_target ? parse_target (spec, modes[i].word, out, err) : 0;
    }
  if (strcmp (spec, "pasta") == 0 || str_has_prefix (spec, "pasta:"))
    return err_make (err, 0, "pasta is not supported: use slirp4netns (the default)");
  if (str_has_prefix (spec, "bridge:") || str_has_prefix (spec, "private:"))
    return err_make (err, 0, "skiff has no bridge driver, so it takes no bridge options: "
                     "use slirp4netns:OPTIONS");
  return err_make (err, 0, "network \"%s\" not found: skiff has no named networks (use "
                   "slirp4netns, none, host, container:NAME or ns:PATH)", spec);
}

int
net_mode_parse (const char *spec, struct net_mode *out, struct error **err)
{
  memset (out, 0, sizeof *out);
  out->kind = NET_MODE_SLIRP;
  net_slirp_opts_init (&out->slirp);
  if (spec == NULL)
    return 0;
  if (parse_mode (spec, out, err) < 0)
    return err_wrap (err, "--network \"%s\"", spec);
  return 0;
}

/* ---- addresses ------------------------------------------------------------ */

static struct in_addr
host_addr (struct in_addr net, uint32_t host)
{
  return (struct in_addr) { htonl (ntohl (net.s_addr) + host) };
}

void
net_slirp_opts_addrs (const struct net_slirp_opts *o, struct net_addrs *out)
{
  memset (out, 0, sizeof *out);
  out->network = o->network;
  out->prefix_len = o->prefix_len;
  out->netmask.s_addr = htonl (o->prefix_len ? ~0u << (32 - o->prefix_len) : 0);
  out->gateway = host_addr (o->network, GATEWAY_HOST);
  out->dns = host_addr (o->network, DNS_HOST);
  out->guest = host_addr (o->network, GUEST_HOST);
  out->prefix6.s6_addr[0] = 0xfd;
  out->gateway6 = out->dns6 = out->prefix6;
  out->gateway6.s6_addr[15] = GATEWAY_HOST;
  out->dns6.s6_addr[15] = DNS_HOST;
}
