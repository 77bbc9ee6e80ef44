/* Published ports: the -p, --expose and -P syntaxes, docker's JSON shapes
 * (HostConfig.PortBindings, NetworkSettings.Ports), the ps and port texts,
 * and reserving the host ports before a container starts.  Everything but
 * net_ports_reserve() is pure; the forwards themselves are added by
 * slirp.c. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "internal.h"
#include "net.h"

#define PORT_MAX 65535
#define UNPRIV_PORT_SYSCTL "/proc/sys/net/ipv4/ip_unprivileged_port_start"
#define UNPRIV_PORT_DEFAULT 1024
#define PROTO_BIT(p) (1u << (p))

static const char *const proto_names[] = { [NET_PROTO_TCP] = "tcp", [NET_PROTO_UDP] = "udp" };

/* An inclusive port range; FIRST == LAST for one port, 0..0 for "any". */
struct range
{
  uint16_t first, last;
};

static size_t
range_len (struct range r)
{
  return (size_t) r.last - r.first + 1;
}

/* ---- pieces of a spec --------------------------------------------------------- */

static int
parse_port (const char *s, const char *what, bool allow_zero, uint16_t *out,
            struct error **err)
{
  uint64_t v;

  if (*s == '\0')
    return err_make (err, 0, "empty %s", what);
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9')
      return err_make (err, 0, "%s \"%s\" is not a number", what, s);
  if (parse_uint (s, UINT64_MAX, what, &v, NULL) < 0 || v > PORT_MAX)
    return err_make (err, 0, "%s %s is out of range 1-%d", what, s, PORT_MAX);
  if (v == 0 && !allow_zero)
    return err_make (err, 0, "%s 0 is not a port", what);
  *out = (uint16_t) v;
  return 0;
}

/* "N" or "N-M" with N <= M.  With ALLOW_ZERO (host ports), "0" means any
 * port but takes no part in a range. */
static int
parse_range (const char *s, const char *what, bool allow_zero, struct range *out,
             struct error **err)
{
  const char *dash = strchr (s, '-');
  cleanup_free char *first = NULL;

  if (dash == NULL)
    {
      if (parse_port (s, what, allow_zero, &out->first, err) < 0)
        return -1;
      out->last = out->first;
      return 0;
    }
  first = xstrndup (s, (size_t) (dash - s));
  if (parse_port (first, what, false, &out->first, err) < 0
      || parse_port (dash + 1, what, false, &out->last, err) < 0)
    return -1;
  if (out->last < out->first)
    return err_make (err, 0, "%s range %s ends before it starts", what, s);
  return 0;
}

/* "tcp", "udp", or podman's "tcp,udp", into a set of PROTO_BIT()s. */
static int
parse_protos (const char *s, unsigned *out, struct error **err)
{
  cleanup_strv char **names = str_split (s, ',');

  *out = 0;
  for (char **n = names; *n; n++)
    {
      if (strcmp (*n, "tcp") == 0)
        *out |= PROTO_BIT (NET_PROTO_TCP);
      else if (strcmp (*n, "udp") == 0)
        *out |= PROTO_BIT (NET_PROTO_UDP);
      else if (strcmp (*n, "sctp") == 0)
        return err_make (err, 0, "protocol sctp is not supported: slirp forwards tcp and udp");
      else
        return err_make (err, 0, "unknown protocol \"%s\" (tcp or udp)", *n);
    }
  return 0;
}

/* A host address as written, without brackets.  0.0.0.0 is kept as "",
 * which every other function reads as "all IPv4 addresses". */
static int
parse_host_ip (const char *s, bool is_bracketed, struct net_port *tmpl, struct error **err)
{
  unsigned char addr[sizeof (struct in6_addr)];

  if (is_bracketed)
    {
      if (inet_pton (AF_INET6, s, addr) != 1)
        return err_make (err, 0, "\"[%s]\" is not an IPv6 address", s);
      tmpl->is_ipv6 = true;
    }
  else if (*s != '\0' && inet_pton (AF_INET, s, addr) != 1)
    return err_make (err, 0, "host address \"%s\" is not an IPv4 address (IPv6 goes in "
                     "brackets: [::1]:8080:80)", s);
  if (!is_bracketed && strcmp (s, "0.0.0.0") == 0)
    s = "";
  snprintf (tmpl->host_ip, sizeof tmpl->host_ip, "%s", s);
  return 0;
}

/* The textual parts of "[hostIP:][hostPort:]containerPort", split in place:
 * IP and HOST are NULL when absent. */
struct spec_parts
{
  char *ip, *host, *container;
  bool is_bracketed;
};

static int
split_bracketed (char *s, struct spec_parts *out, struct error **err)
{
  char *close = strchr (s, ']');
  char *colon;

  if (close == NULL)
    return err_make (err, 0, "'[' without ']'");
  if (close[1] != ':')
    return err_make (err, 0, "expected \"[ADDRESS]:HOSTPORT:CONTAINERPORT\"");
  *close = '\0';
  out->ip = s + 1;
  out->is_bracketed = true;
  out->host = close + 2;
  colon = strchr (out->host, ':');
  if (colon == NULL || strchr (colon + 1, ':'))
    return err_make (err, 0, "expected \"[ADDRESS]:HOSTPORT:CONTAINERPORT\"");
  *colon = '\0';
  out->container = colon + 1;
  return 0;
}

static int
split_spec (char *s, struct spec_parts *out, struct error **err)
{
  char *c1, *c2;

  memset (out, 0, sizeof *out);
  if (*s == '[')
    return split_bracketed (s, out, err);
  c1 = strchr (s, ':');
  c2 = c1 ? strchr (c1 + 1, ':') : NULL;
  if (c2 && strchr (c2 + 1, ':'))
    return err_make (err, 0, "too many ':' (IPv6 host addresses go in brackets: "
                     "[::1]:8080:80)");
  out->container = c2 ? c2 + 1 : c1 ? c1 + 1 : s;
  if (c1 == NULL)
    return 0;
  *c1 = '\0';
  if (c2 == NULL)
    {
      out->host = s;
      return 0;
    }
  *c2 = '\0';
  out->ip = s;
  out->host = c1 + 1;
  return 0;
}

/* ---- building the entries -------------------------------------------------- */

static void
grow (struct net_ports *ports, size_t extra)
{
  if (extra == 0)
    return;
  ports->v = xrealloc (ports->v, (ports->n + extra) * sizeof *ports->v);
}

static void
append_entries (struct net_ports *ports, const struct net_port *tmpl, struct range host,
                struct range ctr, unsigned protos)
{
  bool is_host_any = host.first == 0;
  bool is_host_pick = !is_host_any && range_len (ctr) == 1 && range_len (host) > 1;
  size_t count = is_host_pick ? 1 : range_len (ctr);

  grow (ports, count * 2);
  for (int proto = NET_PROTO_TCP; proto <= NET_PROTO_UDP; proto++)
    {
      if (!(protos & PROTO_BIT (proto)))
        continue;
      for (size_t i = 0; i < count; i++)
        {
          struct net_port *p = &ports->v[ports->n++];

          *p = *tmpl;
          p->proto = (enum net_proto) proto;
          p->container_port = (uint16_t) (ctr.first + i);
          p->host_port = is_host_any ? 0 : is_host_pick ? host.first : (uint16_t) (host.first + i);
          p->host_port_last = is_host_pick ? host.last : p->host_port;
        }
    }
}

static int
check_lengths (struct range host, struct range ctr, struct error **err)
{
  if (host.first == 0 || range_len (host) == range_len (ctr)
      || (range_len (ctr) == 1 && range_len (host) > 1))
    return 0;
  return err_make (err, 0, "the host port range has %zu ports and the container port range "
                   "%zu", range_len (host), range_len (ctr));
}

static int
parse_publish (char *s, struct net_ports *ports, struct error **err)
{
  struct net_port tmpl = { .reserved_fd = -1 };
  struct spec_parts parts;
  struct range host = { 0, 0 }, ctr;
  unsigned protos = PROTO_BIT (NET_PROTO_TCP);
  char *slash = strrchr (s, '/');

  if (slash)
    {
      *slash = '\0';
      if (parse_protos (slash + 1, &protos, err) < 0)
        return -1;
    }
  if (split_spec (s, &parts, err) < 0)
    return -1;
  if (parts.ip && parse_host_ip (parts.ip, parts.is_bracketed, &tmpl, err) < 0)
    return -1;
  if (parse_range (parts.container, "container port", false, &ctr, err) < 0)
    return -1;
  if (parts.host && *parts.host
      && parse_range (parts.host, "host port", true, &host, err) < 0)
    return -1;
  if (check_lengths (host, ctr, err) < 0)
    return -1;
  append_entries (ports, &tmpl, host, ctr, protos);
  return 0;
}

int
net_ports_parse (const char *spec, struct net_ports *ports, struct error **err)
{
  cleanup_free char *s = xstrdup (spec);

  if (parse_publish (s, ports, err) < 0)
    return err_wrap (err, "invalid port mapping \"%s\"", spec);
  return 0;
}

/* "N[-M][/proto]", a port without a host side. */
static int
parse_exposed (char *s, struct net_ports *ports, struct error **err)
{
  struct net_port tmpl = { .reserved_fd = -1 };
  struct range ctr;
  unsigned protos = PROTO_BIT (NET_PROTO_TCP);
  char *slash = strrchr (s, '/');

  if (slash)
    {
      *slash = '\0';
      if (parse_protos (slash + 1, &protos, err) < 0)
        return -1;
    }
  if (strchr (s, ':'))
    return err_make (err, 0, "an exposed port has no host side (use -p to publish)");
  if (parse_range (s, "container port", false, &ctr, err) < 0)
    return -1;
  append_entries (ports, &tmpl, (struct range) { 0, 0 }, ctr, protos);
  return 0;
}

int
net_ports_parse_exposed (const char *spec, struct net_ports *ports, struct error **err)
{
  cleanup_free char *s = xstrdup (spec);

  if (parse_exposed (s, ports, err) < 0)
    return err_wrap (err, "invalid exposed port \"%s\"", spec);
  return 0;
}

static bool
publishes (const struct net_ports *ports, uint16_t container_port, enum net_proto proto)
{
  for (size_t i = 0; i < ports->n; i++)
    if (ports->v[i].container_port == container_port && ports->v[i].proto == proto)
      return true;
  return false;
}

void
net_ports_publish_all (struct net_ports *ports, const struct net_ports *exposed)
{
  for (size_t i = 0; exposed && i < exposed->n; i++)
    {
      const struct net_port *e = &exposed->v[i];

      if (publishes (ports, e->container_port, e->proto))
        continue;
      grow (ports, 1);
      ports->v[ports->n] = (struct net_port) { .container_port = e->container_port,
                                               .proto = e->proto, .reserved_fd = -1 };
      ports->n++;
    }
}

void
net_ports_release (struct net_ports *ports)
{
  for (size_t i = 0; i < ports->n; i++)
    if (ports->v[i].reserved_fd >= 0)
      {
        close (ports->v[i].reserved_fd);
        ports->v[i].reserved_fd = -1;
      }
}

void
net_ports_clear (struct net_ports *ports)
{
  net_ports_release (ports);
  free (ports->v);
  ports->v = NULL;
  ports->n = 0;
}

/* ---- texts ---------------------------------------------------------------- */

/* "0.0.0.0", "127.0.0.1" or "[::1]": the host side as users read it. */
static void
append_host_ip (struct buf *b, const struct net_port *p)
{
  if (p->is_ipv6)
    buf_printf (b, "[%s]", p->host_ip);
  else
    buf_append_str (b, *p->host_ip ? p->host_ip : "0.0.0.0");
}

static void
append_range (struct buf *b, unsigned first, unsigned last)
{
  if (last > first)
    buf_printf (b, "%u-%u", first, last);
  else
    buf_printf (b, "%u", first);
}

/* "8080", "8000-8010" or "" (any port, not chosen yet). */
static char *
host_port_text (const struct net_port *p)
{
  struct buf b = BUF_INIT;

  if (p->host_port != 0)
    append_range (&b, p->host_port, p->host_port_last);
  return buf_steal (&b);
}

char *
net_port_describe (const struct net_port *p)
{
  struct buf b = BUF_INIT;
  cleanup_free char *host = host_port_text (p);

  append_host_ip (&b, p);
  buf_printf (&b, ":%s->%u/%s", *host ? host : "0", p->container_port, proto_names[p->proto]);
  return buf_steal (&b);
}

/* How many entries from I on continue a run of consecutive ports with the
 * same address and protocol, so ps can show them as one range. */
static size_t
run_length (const struct net_ports *ports, size_t i)
{
  const struct net_port *a = &ports->v[i];
  size_t n = 1;

  if (a->host_port == 0 || a->host_port_last != a->host_port)
    return 1;
  for (; i + n < ports->n; n++)
    {
      const struct net_port *b = &ports->v[i + n];

      if (b->proto != a->proto || b->is_ipv6 != a->is_ipv6 || strcmp (b->host_ip, a->host_ip)
          || b->host_port_last != b->host_port || b->host_port != a->host_port + n
          || b->container_port != a->container_port + n)
        break;
    }
  return n;
}

static void
append_ps_entry (struct buf *b, const struct net_ports *ports, size_t i, size_t n)
{
  const struct net_port *first = &ports->v[i], *last = &ports->v[i + n - 1];

  if (b->len)
    buf_append_str (b, ", ");
  if (first->host_port != 0)
    {
      append_host_ip (b, first);
      buf_append_char (b, ':');
      append_range (b, first->host_port, n > 1 ? last->host_port : first->host_port_last);
      buf_append_str (b, "->");
    }
  append_range (b, first->container_port, last->container_port);
  buf_printf (b, "/%s", proto_names[first->proto]);
}

char *
net_ports_format_ps (const struct net_ports *ports, const struct net_ports *exposed)
{
  struct buf b = BUF_INIT;
  size_t n;

  for (size_t i = 0; i < ports->n; i += n)
    {
      n = run_length (ports, i);
      append_ps_entry (&b, ports, i, n);
    }
  for (size_t i = 0; exposed && i < exposed->n; i++)
    if (!publishes (ports, exposed->v[i].container_port, exposed->v[i].proto))
      append_ps_entry (&b, exposed, i, 1);
  return buf_steal (&b);
}

/* FILTER "80" or "80/udp" of `port CTR 80`. */
static int
parse_filter (const char *filter, uint16_t *port, enum net_proto *proto, struct error **err)
{
  cleanup_free char *s = xstrdup (filter);
  char *slash = strchr (s, '/');
  unsigned protos = PROTO_BIT (NET_PROTO_TCP);

  if (slash)
    {
      *slash = '\0';
      if (parse_protos (slash + 1, &protos, err) < 0)
        return err_wrap (err, "invalid port \"%s\"", filter);
      if (protos != PROTO_BIT (NET_PROTO_TCP) && protos != PROTO_BIT (NET_PROTO_UDP))
        return err_make (err, 0, "invalid port \"%s\": name one protocol", filter);
    }
  if (parse_port (s, "port", false, port, err) < 0)
    return err_wrap (err, "invalid port \"%s\"", filter);
  *proto = protos == PROTO_BIT (NET_PROTO_UDP) ? NET_PROTO_UDP : NET_PROTO_TCP;
  return 0;
}

char *
net_ports_format_port (const struct net_ports *ports, const char *filter, struct error **err)
{
  struct buf b = BUF_INIT;
  uint16_t port = 0;
  enum net_proto proto = NET_PROTO_TCP;

  if (filter && parse_filter (filter, &port, &proto, err) < 0)
    return NULL;
  for (size_t i = 0; i < ports->n; i++)
    {
      const struct net_port *p = &ports->v[i];
      cleanup_free char *host = host_port_text (p);

      if (p->host_port == 0 || (filter && (p->container_port != port || p->proto != proto)))
        continue;
      if (filter == NULL)
        buf_printf (&b, "%u/%s -> ", p->container_port, proto_names[p->proto]);
      append_host_ip (&b, p);
      buf_printf (&b, ":%s\n", host);
    }
  if (filter && b.len == 0)
    {
      buf_free (&b);
      err_make (err, 0, "no public port \"%u/%s\" published", port, proto_names[proto]);
      return NULL;
    }
  return buf_steal (&b);
}

/* ---- JSON ----------------------------------------------------------------- */

static json_object *
binding_array (json_object *o, const struct net_port *p)
{
  char key[16];
  json_object *arr;

  snprintf (key, sizeof key, "%u/%s", p->container_port, proto_names[p->proto]);
  if (json_object_object_get_ex (o, key, &arr) && arr)
    return arr;
  arr = json_object_new_array ();
  json_object_object_add (o, key, arr);
  return arr;
}

static json_object *
binding (const char *ip, const struct net_port *p)
{
  json_object *b = json_object_new_object ();
  cleanup_free char *host = host_port_text (p);

  json_object_object_add (b, "HostIp", json_object_new_string (ip));
  json_object_object_add (b, "HostPort", json_object_new_string (host));
  return b;
}

json_object *
net_ports_to_bindings (const struct net_ports *ports)
{
  json_object *o = json_object_new_object ();

  for (size_t i = 0; i < ports->n; i++)
    json_object_array_add (binding_array (o, &ports->v[i]), binding (ports->v[i].host_ip,
                                                                     &ports->v[i]));
  return o;
}

json_object *
net_ports_to_settings (const struct net_ports *ports, const struct net_ports *exposed)
{
  json_object *o = json_object_new_object ();

  for (size_t i = 0; i < ports->n; i++)
    {
      const struct net_port *p = &ports->v[i];
      const char *ip = *p->host_ip ? p->host_ip : "0.0.0.0";

      json_object_array_add (binding_array (o, p), binding (ip, p));
    }
  for (size_t i = 0; exposed && i < exposed->n; i++)
    {
      char key[16];

      snprintf (key, sizeof key, "%u/%s", exposed->v[i].container_port,
                proto_names[exposed->v[i].proto]);
      if (!json_object_object_get_ex (o, key, NULL))
        json_object_object_add (o, key, NULL);
    }
  return o;
}

/* One {"HostIp": ..., "HostPort": ...} of the binding KEY names. */
static int
parse_binding (json_object *b, const struct net_port *key, struct net_ports *out,
               struct error **err)
{
  struct net_port tmpl = *key;
  json_object *ip = NULL, *port = NULL;
  struct range host = { 0, 0 };
  const char *ip_s;

  if (!json_object_is_type (b, json_type_object))
    return err_make (err, 0, "a binding is not an object");
  json_object_object_get_ex (b, "HostIp", &ip);
  json_object_object_get_ex (b, "HostPort", &port);
  if ((ip && !json_object_is_type (ip, json_type_string))
      || (port && !json_object_is_type (port, json_type_string)))
    return err_make (err, 0, "HostIp and HostPort must be strings");
  ip_s = ip ? json_object_get_string (ip) : "";
  if (parse_host_ip (ip_s, strchr (ip_s, ':') != NULL, &tmpl, err) < 0)
    return -1;
  if (port && *json_object_get_string (port)
      && parse_range (json_object_get_string (port), "host port", true, &host, err) < 0)
    return -1;
  append_entries (out, &tmpl, host, (struct range) { key->container_port, key->container_port },
                  PROTO_BIT (key->proto));
  return 0;
}

static int
parse_binding_key (const char *key, json_object *val, struct net_ports *out,
                   struct error **err)
{
  struct net_ports k = NET_PORTS_INIT;
  size_t n;

  if (net_ports_parse_exposed (key, &k, err) < 0)
    return -1;
  n = k.n;
  if (n != 1)
    {
      net_ports_clear (&k);
      return err_make (err, 0, "the key names %zu ports, not one", n);
    }
  if (val && !json_object_is_type (val, json_type_array))
    {
      net_ports_clear (&k);
      return err_make (err, 0, "the bindings are not an array");
    }
  for (size_t i = 0; val && i < json_object_array_length (val); i++)
    if (parse_binding (json_object_array_get_idx (val, i), &k.v[0], out, err) < 0)
      {
        net_ports_clear (&k);
        return -1;
      }
  net_ports_clear (&k);
  return 0;
}

int
net_ports_from_bindings (json_object *bindings, struct net_ports *ports, struct error **err)
{
  struct net_ports got = NET_PORTS_INIT;

  if (bindings == NULL)
    return 0;
  if (!json_object_is_type (bindings, json_type_object))
    return err_make (err, 0, "PortBindings is not an object");
  json_object_object_foreach (bindings, key, val)
    if (parse_binding_key (key, val, &got, err) < 0)
      {
        net_ports_clear (&got);
        return err_wrap (err, "PortBindings \"%s\"", key);
      }
  grow (ports, got.n);
  if (got.n)
    memcpy (ports->v + ports->n, got.v, got.n * sizeof *got.v);
  ports->n += got.n;
  free (got.v);
  return 0;
}

/* ---- reserving host ports ------------------------------------------------- */

static unsigned
unprivileged_port_start (void)
{
  char buf[16] = "";
  uint64_t v;
  int fd = open (UNPRIV_PORT_SYSCTL, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;

  if (fd >= 0)
    close (fd);
  if (n <= 0)
    return UNPRIV_PORT_DEFAULT;
  buf[n] = '\0';
  if (parse_uint (str_strip (buf), PORT_MAX + 1, NULL, &v, NULL) < 0)
    return UNPRIV_PORT_DEFAULT;
  return (unsigned) v;
}

static int
bind_error (const struct net_port *p, unsigned port, int errnum, struct error **err)
{
  cleanup_free char *what = net_port_describe (p);
  unsigned start;

  if (errnum == EADDRINUSE)
    return err_make (err, errnum, "publish %s: host port %u is already in use", what, port);
  if (errnum == EADDRNOTAVAIL)
    return err_make (err, errnum, "publish %s: %s is not an address of this host", what,
                     p->host_ip);
  start = unprivileged_port_start ();
  if (errnum == EACCES && port < start)
    return err_make (err, errnum, "publish %s: host port %u is privileged: without root only "
                     "ports from net.ipv4.ip_unprivileged_port_start (%u) up can be bound; "
                     "use a higher host port or lower that sysctl (sysctl -w "
                     "net.ipv4.ip_unprivileged_port_start=%u)", what, port, start, port);
  return err_make (err, errnum, "publish %s: bind host port %u", what, port);
}

socklen_t
net_port_host_sockaddr (const struct net_port *p, unsigned port, struct sockaddr_storage *ss)
{
  memset (ss, 0, sizeof *ss);
  if (p->is_ipv6)
    {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *) ss;

      a->sin6_family = AF_INET6;
      a->sin6_port = htons ((uint16_t) port);
      inet_pton (AF_INET6, p->host_ip, &a->sin6_addr);
      return sizeof *a;
    }
  struct sockaddr_in *a = (struct sockaddr_in *) ss;

  a->sin_family = AF_INET;
  a->sin_port = htons ((uint16_t) port);
  if (*p->host_ip)
    inet_pton (AF_INET, p->host_ip, &a->sin_addr);
  return sizeof *a;
}

/* Bind (and for TCP listen: a listener is what makes a second bind to the
 * port fail, also one of our own, while SO_REUSEADDR keeps connections in
 * TIME_WAIT from counting as "in use") a socket to PORT.  Returns the
 * socket, or -errno. */
static int
try_bind (const struct net_port *p, unsigned port)
{
  struct sockaddr_storage ss;
  socklen_t len = net_port_host_sockaddr (p, port, &ss);
  int type = p->proto == NET_PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
  int one = 1;
  cleanup_close int fd = socket (ss.ss_family, type | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -errno;
  if (p->is_ipv6 && setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
    return -errno;
  if (p->proto == NET_PROTO_TCP
      && setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
    return -errno;
  if (bind (fd, (struct sockaddr *) &ss, len) < 0)
    return -errno;
  if (p->proto == NET_PROTO_TCP && listen (fd, 1) < 0)
    return -errno;
  return steal_fd (&fd);
}

static int
bound_port (int fd, uint16_t *port)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;

  if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
    return -1;
  *port = ntohs (ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                           : ((struct sockaddr_in *) &ss)->sin_port);
  return 0;
}

static int
reserve_one (struct net_port *p, struct error **err)
{
  int fd = -1;
  unsigned port = p->host_port;

  for (; port <= p->host_port_last; port++)
    {
      fd = try_bind (p, port);
      if (fd != -EADDRINUSE || port == p->host_port_last)
        break;
    }
  if (fd < 0 && p->host_port_last > p->host_port && fd == -EADDRINUSE)
    {
      cleanup_free char *what = net_port_describe (p);
      return err_make (err, EADDRINUSE, "publish %s: every host port from %u to %u is in use",
                       what, p->host_port, p->host_port_last);
    }
  if (fd < 0)
    return bind_error (p, port, -fd, err);
  p->reserved_fd = fd;
  if (bound_port (fd, &p->host_port) < 0)
    return err_make (err, errno, "publish: read the chosen host port");
  p->host_port_last = p->host_port;
  return 0;
}

int
net_ports_reserve (struct net_ports *ports, struct error **err)
{
  for (size_t i = 0; i < ports->n; i++)
    if (reserve_one (&ports->v[i], err) < 0)
      {
        net_ports_release (ports);
        return -1;
      }
  return 0;
}
