/* skiff stats: CPU, memory, network, block I/O and process counts of
 * running containers.  A rootless container has no cgroup of its own on a
 * host that does not delegate one, so the numbers are summed from /proc
 * over the container's processes; what the kernel does not let us read
 * prints as "--". */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_ops.h"
#include "container_procs.h"
#include "format.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/table.h"
#include "stats.h"

/* /proc files are small; this bounds a hostile or odd one. */
#define PROC_FILE_MAX (1024 * 1024)

struct sample
{
  bool is_running;
  int64_t when_ns;
  uint64_t cpu_ticks;
  uint64_t rss_bytes;
  size_t pids;
  bool has_net, has_blk;
  uint64_t net_rx, net_tx, blk_read, blk_write;
};

struct stats_opts
{
  bool is_all, is_no_stream, is_no_trunc;
  const char *format;
};

static int64_t
monotonic_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The text of /proc/PID/NAME, or NULL when it cannot be read (the process
 * ended, or the kernel keeps it from us). */
static char *
read_proc (pid_t pid, const char *name)
{
  cleanup_free char *path = xasprintf ("/proc/%d/%s", (int) pid, name);
  struct error *e = NULL;
  char *text = fs_read_file (path, PROC_FILE_MAX, NULL, &e);

  err_release (&e);
  return text;
}

/* Add one process's CPU, memory and I/O to S.  A process that ends while
 * it is read is left out rather than failing the whole sample. */
static void
add_process (pid_t pid, long page_size, struct sample *s)
{
  cleanup_free char *stat = read_proc (pid, "stat");
  cleanup_free char *statm = read_proc (pid, "statm");
  cleanup_free char *io = read_proc (pid, "io");
  uint64_t ticks, pages, r, w;

  if (stat == NULL || stats_parse_proc_stat (stat, &ticks) < 0)
    return;
  s->pids++;
  s->cpu_ticks += ticks;
  if (statm && stats_parse_statm (statm, &pages) == 0)
    s->rss_bytes += pages * (uint64_t) page_size;
  if (io && stats_parse_io (io, &r, &w) == 0)
    {
      s->has_blk = true;
      s->blk_read += r;
      s->blk_write += w;
    }
}

static void
take_sample (const struct container *c, struct sample *s)
{
  cleanup_free pid_t *pids = NULL;
  cleanup_free char *net = NULL;
  struct error *e = NULL;
  long page_size = sysconf (_SC_PAGESIZE);
  size_t n = 0;

  memset (s, 0, sizeof *s);
  s->when_ns = monotonic_ns ();
  if (!container_is_running (c) || container_procs_list (c, &pids, &n, &e) < 0)
    {
      err_release (&e);
      return;
    }
  s->is_running = true;
  for (size_t i = 0; i < n; i++)
    add_process (pids[i], page_size, s);
  /* The first process's view of net/dev is the container's network
   * namespace. */
  net = read_proc (c->state.pid, "net/dev");
  if (net && stats_parse_net_dev (net, &s->net_rx, &s->net_tx) == 0)
    s->has_net = true;
}

static char *
pair (uint64_t a, uint64_t b, bool is_known)
{
  char x[32], y[32];

  if (!is_known)
    return xstrdup ("-- / --");
  human_size (a, x, sizeof x);
  human_size (b, y, sizeof y);
  return xasprintf ("%s / %s", x, y);
}

/* One row with docker's keys, from samples A and B taken a moment apart. */
static json_object *
make_row (const struct container *c, const struct sample *a, const struct sample *b,
          uint64_t mem_total, const struct stats_opts *o)
{
  json_object *row = json_object_new_object ();
  char usage[32], limit[32], buf[80];
  cleanup_free char *net = NULL, *blk = NULL;
  bool is_up = a->is_running && b->is_running;
  uint64_t dt = b->cpu_ticks > a->cpu_ticks ? b->cpu_ticks - a->cpu_ticks : 0;

  snprintf (buf, sizeof buf, o->is_no_trunc ? "%s" : "%.12s", c->id);
  json_object_object_add (row, "ID", json_object_new_string (buf));
  json_object_object_add (row, "Container", json_object_new_string (c->name));
  json_object_object_add (row, "Name", json_object_new_string (c->name));
  snprintf (buf, sizeof buf, "%.2f%%",
            is_up ? stats_cpu_percent (dt, sysconf (_SC_CLK_TCK), b->when_ns - a->when_ns) : 0.0);
  json_object_object_add (row, "CPUPerc", json_object_new_string (buf));
  stats_binary_size (b->rss_bytes, usage, sizeof usage);
  stats_binary_size (mem_total, limit, sizeof limit);
  snprintf (buf, sizeof buf, "%s / %s", usage, limit);
  json_object_object_add (row, "MemUsage", json_object_new_string (buf));
  snprintf (buf, sizeof buf, "%.2f%%",
            mem_total ? (double) b->rss_bytes / (double) mem_total * 100.0 : 0.0);
  json_object_object_add (row, "MemPerc", json_object_new_string (buf));
  /* A stopped container has no processes to read: zeros, as docker
   * prints for it, rather than "--". */
  net = pair (b->net_rx, b->net_tx, b->has_net || !is_up);
  blk = pair (b->blk_read, b->blk_write, b->has_blk || !is_up || b->pids == 0);
  json_object_object_add (row, "NetIO", json_object_new_string (net));
  json_object_object_add (row, "BlockIO", json_object_new_string (blk));
  snprintf (buf, sizeof buf, "%zu", b->pids);
  json_object_object_add (row, "PIDs", json_object_new_string (buf));
  return row;
}

static const struct format_header headers[] = {
  { "ID", "CONTAINER ID" }, { "Container", "CONTAINER" }, { "Name", "NAME" },
  { "CPUPerc", "CPU %" },   { "MemUsage", "MEM USAGE / LIMIT" }, { "MemPerc", "MEM %" },
  { "NetIO", "NET I/O" },   { "BlockIO", "BLOCK I/O" },  { "PIDs", "PIDS" },
  { NULL, NULL },
};

static int
render (json_object *rows, const struct stats_opts *o, struct buf *out, struct error **err)
{
  static const char *const cols[] = { "ID", "Name", "CPUPerc", "MemUsage", "MemPerc",
                                      "NetIO", "BlockIO", "PIDs" };
  static const char *const titles[] = { "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT",
                                        "MEM %", "NET I/O", "BLOCK I/O", "PIDS" };
  cleanup_table struct table *t = NULL;
  cleanup_free char *text = NULL;
  FILE *f;
  size_t len = 0;

  if (o->format && format_is_json (o->format))
    {
      text = jobj_to_string (rows, true);
      buf_printf (out, "%s\n", text);
      return 0;
    }
  if (o->format)
    return format_render_rows (rows, o->format, headers, false, out, err);
  t = table_new (8, titles);
  for (size_t i = 0; i < json_object_array_length (rows); i++)
    {
      json_object *row = json_object_array_get_idx (rows, i);
      const char *cells[8];
      for (size_t k = 0; k < 8; k++)
        cells[k] = jobj_get_string (row, cols[k]);
      table_add_row (t, cells);
    }
  f = open_memstream (&text, &len);
  if (f == NULL)
    return err_make (err, errno, "open memory stream");
  table_print (t, false, f);
  fclose (f);
  buf_append (out, text, len);
  return 0;
}

/* The containers to show: those named, or every running one (every one
 * with -a). */
static int
select_containers (struct skiff_context *ctx, char **names, size_t n_names,
                   const struct stats_opts *o, struct container ***out, struct error **err)
{
  struct container **all = NULL;
  size_t k = 0;

  if (n_names)
    {
      struct container **v = xcalloc (n_names + 1, sizeof *v);
      for (size_t i = 0; i < n_names; i++)
        {
          if (container_require (ctx, names[i], &v[i], err) < 0
              || (!o->is_all && !container_is_running (v[i])
                  && err_make (err, 0, "container \"%s\" is not running", names[i]) < 0))
            {
              container_vec_free (v);
              return -1;
            }
        }
      *out = v;
      return 0;
    }
  if (container_list (ctx, &all, err) < 0)
    return -1;
  for (size_t i = 0; all[i]; i++)
    if (o->is_all || container_is_running (all[i]))
      all[k++] = all[i];
    else
      container_free (all[i]);
  all[k] = NULL;
  *out = all;
  return 0;
}

/* One frame: sample every container twice a second apart and print. */
static int
frame (struct skiff_context *ctx, char **names, size_t n_names, const struct stats_opts *o,
       uint64_t mem_total, bool is_clear, struct error **err)
{
  struct container **v = NULL;
  cleanup_free struct sample *a = NULL, *b = NULL;
  cleanup_json json_object *rows = json_object_new_array ();
  cleanup_buf struct buf out = BUF_INIT;
  size_t n = 0;
  int r;

  if (select_containers (ctx, names, n_names, o, &v, err) < 0)
    return -1;
  while (v[n])
    n++;
  a = xcalloc (n + 1, sizeof *a);
  b = xcalloc (n + 1, sizeof *b);
  for (size_t i = 0; i < n; i++)
    take_sample (v[i], &a[i]);
  sleep (1);
  for (size_t i = 0; i < n; i++)
    {
      take_sample (v[i], &b[i]);
      json_object_array_add (rows, make_row (v[i], &a[i], &b[i], mem_total, o));
    }
  r = render (rows, o, &out, err);
  container_vec_free (v);
  if (r < 0)
    return -1;
  if (is_clear)
    fputs ("\033[2J\033[H", stdout);
  fputs (out.data ? out.data : "", stdout);
  fflush (stdout);
  return 0;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "no-stream", no_argument, NULL, 'N' },
    { "no-trunc", no_argument, NULL, 'T' },
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct stats_opts o = { 0 };
  cleanup_free char *meminfo = NULL;
  uint64_t mem_total = 0;
  bool is_tty = isatty (STDOUT_FILENO);
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+ah", opts, &cmd_stats_command, err)) != -1)
    switch (c)
      {
      case 'a':
        o.is_all = true;
        break;
      case 'N':
        o.is_no_stream = true;
        break;
      case 'T':
        o.is_no_trunc = true;
        break;
      case 'f':
        o.format = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  meminfo = fs_read_file ("/proc/meminfo", PROC_FILE_MAX, NULL, err);
  if (meminfo == NULL)
    return -1;
  if (stats_parse_meminfo_total (meminfo, &mem_total) < 0)
    return err_make (err, 0, "parse \"/proc/meminfo\": no MemTotal");
  if (o.is_no_stream)
    return frame (ctx, argv + optind, argc - optind, &o, mem_total, false, err);
  /* Streams until interrupted; SIGINT's default action ends it. */
  for (;;)
    if (frame (ctx, argv + optind, argc - optind, &o, mem_total, is_tty, err) < 0)
      return -1;
}

const struct command cmd_stats_command = {
  .name = "stats",
  .summary = "Display a live stream of container resource usage statistics",
  .usage = "stats [options] [CONTAINER...]",
  .options_help = "  -a, --all             Show all containers (default shows just running)\n"
                  "      --format string   Pretty-print using a Go template, or \"json\"\n"
                  "      --no-stream       Disable streaming stats and only pull the first result\n"
                  "      --no-trunc        Do not truncate output\n",
  .run = run,
};
