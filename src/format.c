/* --format: the template engine (libutil/gotmpl.c) applied the way docker's
 * formatter (cli/command/formatter) and podman's report package apply it:
 * escapes, the "table" prefix, header rows and column alignment. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "libutil/gotmpl.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/table.h"

#define FORMAT_NAME "output"
/* A table is aligned in memory; rows padded to the widest are bounded by
 * this many cells, so a template that prints a million tabs fails rather
 * than exhausting memory. */
#define TABLE_MAX_CELLS ((size_t) 1 << 20)

static const char *
skip_space (const char *s)
{
  while (isspace ((unsigned char) *s))
    s++;
  return s;
}

bool
format_is_table (const char *format)
{
  return str_has_prefix (format, "table")
         && (format[5] == '\0' || isspace ((unsigned char) format[5]));
}

bool
format_is_json (const char *format)
{
  const char *p = skip_space (format);

  if (str_has_prefix (p, "json"))
    return *skip_space (p + 4) == '\0';
  if (!str_has_prefix (p, "{{"))
    return false;
  p = skip_space (p + 2);
  if (!str_has_prefix (p, "json"))
    return false;
  p = skip_space (p + 4);
  if (*p == '.')
    p = skip_space (p + 1);
  return str_has_prefix (p, "}}") && *skip_space (p + 2) == '\0';
}

/* The template text: without the "table" prefix (and the spaces after
 * it), with docker's "\t" and "\n" escapes replaced. */
static char *
template_text (const char *fmt, bool *is_table)
{
  cleanup_buf struct buf b = BUF_INIT;
  const char *p = fmt;

  *is_table = format_is_table (fmt);
  if (*is_table)
    {
      p += 5;
      while (*p == ' ')
        p++;
    }
  for (; *p; p++)
    {
      if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n'))
        {
          buf_append_char (&b, p[1] == 't' ? '\t' : '\n');
          p++;
        }
      else
        buf_append_char (&b, *p);
    }
  return buf_steal (&b);
}

static struct gotmpl *
parse_format (const char *fmt, bool *is_table, struct error **err)
{
  cleanup_free char *text = template_text (fmt, is_table);
  return gotmpl_parse (FORMAT_NAME, text, err);
}

int
format_render (json_object *root, const char *fmt, struct buf *out, struct error **err)
{
  const struct gotmpl_opts opts = { .missing = GOTMPL_MISSING_ERROR_TOP };
  cleanup_gotmpl struct gotmpl *t = NULL;
  bool is_table;

  t = parse_format (fmt, &is_table, err);
  if (t == NULL)
    return -1;
  return gotmpl_exec (t, root, &opts, out, err);
}

/* ---- tables ----------------------------------------------------------- */

/* "CreatedAt" -> "CREATED AT", "ImageID" -> "IMAGE ID", "IPAddress" ->
 * "IP ADDRESS": podman's split of a field name at case changes. */
static char *
derived_title (const char *key)
{
  cleanup_buf struct buf b = BUF_INIT;

  for (size_t i = 0; key[i]; i++)
    {
      unsigned char c = (unsigned char) key[i];
      if (i > 0 && isupper (c)
          && (islower ((unsigned char) key[i - 1]) || isdigit ((unsigned char) key[i - 1])
              || (isupper ((unsigned char) key[i - 1]) && islower ((unsigned char) key[i + 1]))))
        buf_append_char (&b, ' ');
      buf_append_char (&b, (char) toupper (c));
    }
  return buf_steal (&b);
}

/* The object the header row is rendered from: key -> title. */
static json_object *
header_object (json_object *rows, const struct format_header *headers)
{
  json_object *h = json_object_new_object ();
  json_object *first = json_object_array_length (rows) > 0
                           ? json_object_array_get_idx (rows, 0)
                           : NULL;

  for (size_t i = 0; headers && headers[i].key; i++)
    json_object_object_add (h, headers[i].key, json_object_new_string (headers[i].title));
  if (!json_object_is_type (first, json_type_object))
    return h;
  json_object_object_foreach (first, key, val)
    {
      cleanup_free char *title = NULL;
      (void) val;
      if (json_object_object_get_ex (h, key, NULL))
        continue;
      title = derived_title (key);
      json_object_object_add (h, key, json_object_new_string (title));
    }
  return h;
}

/* "table" alone: every header's field, tab-separated. */
static char *
default_table_format (const struct format_header *headers)
{
  cleanup_buf struct buf b = BUF_INIT;

  for (size_t i = 0; headers && headers[i].key; i++)
    buf_printf (&b, "%s{{.%s}}", i ? "\\t" : "table ", headers[i].key);
  return buf_steal (&b);
}

struct lines
{
  char ***v; /* each line's cells */
  size_t n;
  size_t cap;
  size_t ncols;
  size_t cells;
};

static void
lines_free (struct lines *l)
{
  for (size_t i = 0; i < l->n; i++)
    strv_free (l->v[i]);
  free (l->v);
}

static size_t
count_char (const char *s, char c)
{
  size_t n = 0;
  for (; *s; s++)
    n += *s == c;
  return n;
}

static int
too_large (struct error **err)
{
  return err_make (err, 0, "template: %s: table larger than %zu cells", FORMAT_NAME,
                   TABLE_MAX_CELLS);
}

/* The size of the aligned table: each line as wide as the widest cells
 * of all columns (an upper bound: the last column is not padded). */
static size_t
aligned_bytes (const struct lines *l)
{
  cleanup_free size_t *width = xcalloc (l->ncols + 1, sizeof *width);
  size_t line = 1;

  for (size_t i = 0; i < l->n; i++)
    for (size_t k = 0; l->v[i][k]; k++)
      if (strlen (l->v[i][k]) > width[k])
        width[k] = strlen (l->v[i][k]);
  for (size_t k = 0; k < l->ncols; k++)
    line += table_column_width (width[k]);
  return line * l->n;
}

/* Split rendered TEXT into lines (a final newline ends the last line
 * rather than starting an empty one) and the lines into cells. */
static int
lines_add (struct lines *l, const char *text, struct error **err)
{
  cleanup_strv char **v = NULL;
  size_t n;

  if (l->cells + count_char (text, '\n') + count_char (text, '\t') + 1 > TABLE_MAX_CELLS)
    return too_large (err);
  v = str_split (text, '\n');
  n = strv_len (v);
  if (n > 1 && v[n - 1][0] == '\0')
    n--;
  for (size_t i = 0; i < n; i++)
    {
      char **cells = str_split (v[i], '\t');
      size_t k = strv_len (cells);
      if (l->n == l->cap)
        {
          l->cap = l->cap ? l->cap * 2 : 16;
          l->v = xrealloc (l->v, l->cap * sizeof *l->v);
        }
      l->v[l->n++] = cells;
      l->cells += k;
      if (k > l->ncols)
        l->ncols = k;
    }
  return 0;
}

/* Aligned as table.h aligns; a line with fewer cells than the widest one
 * ends at its own last cell, without the padding of absent ones. */
static void
print_lines (const struct lines *l, struct buf *out)
{
  cleanup_table struct table *t = table_new (l->ncols, NULL);
  cleanup_free const char **cells = xcalloc (l->ncols + 1, sizeof *cells);
  cleanup_free char *data = NULL;
  cleanup_strv char **printed = NULL;
  size_t len = 0;
  FILE *f;

  for (size_t i = 0; i < l->n; i++)
    {
      size_t k = 0;
      for (; l->v[i][k]; k++)
        cells[k] = l->v[i][k];
      for (; k < l->ncols; k++)
        cells[k] = NULL;
      table_add_row (t, cells);
    }
  f = open_memstream (&data, &len);
  if (f == NULL)
    abort ();
  table_print (t, true, f);
  fclose (f);
  printed = str_split (data, '\n');
  for (size_t i = 0; i < l->n && printed[i]; i++)
    {
      char *line = printed[i];
      size_t end = strlen (line);
      if (strv_len (l->v[i]) < l->ncols)
        while (end > 0 && line[end - 1] == ' ')
          end--;
      buf_append (out, line, end);
      buf_append_char (out, '\n');
    }
}

static int
render_header (const struct gotmpl *t, json_object *rows, const struct format_header *headers,
               struct lines *l, struct error **err)
{
  const struct gotmpl_opts opts = { .missing = GOTMPL_MISSING_NO_VALUE, .is_header = true };
  cleanup_json json_object *h = header_object (rows, headers);
  cleanup_buf struct buf b = BUF_INIT;

  if (gotmpl_exec (t, h, &opts, &b, err) < 0)
    return -1;
  return lines_add (l, b.data, err);
}

static int
render_table (const struct gotmpl *t, json_object *rows, const struct format_header *headers,
              bool is_noheading, struct buf *out, struct error **err)
{
  const struct gotmpl_opts opts = { .missing = GOTMPL_MISSING_ERROR_TOP };
  struct lines l = { NULL, 0, 0, 0, 0 };
  int r = 0;

  if (!is_noheading)
    r = render_header (t, rows, headers, &l, err);
  for (size_t i = 0; r == 0 && i < json_object_array_length (rows); i++)
    {
      cleanup_buf struct buf b = BUF_INIT;
      r = gotmpl_exec (t, json_object_array_get_idx (rows, i), &opts, &b, err);
      if (r == 0)
        r = lines_add (&l, b.data, err);
    }
  if (r == 0 && l.n > TABLE_MAX_CELLS / (l.ncols ? l.ncols : 1))
    r = too_large (err);
  if (r == 0 && aligned_bytes (&l) > GOTMPL_MAX_OUTPUT)
    r = err_make (err, 0, "template: %s: table longer than %zu bytes", FORMAT_NAME,
                  GOTMPL_MAX_OUTPUT);
  if (r == 0 && l.n > 0)
    print_lines (&l, out);
  lines_free (&l);
  return r;
}

static int
render_plain (const struct gotmpl *t, json_object *rows, struct buf *out, struct error **err)
{
  const struct gotmpl_opts opts = { .missing = GOTMPL_MISSING_ERROR_TOP };
  cleanup_buf struct buf b = BUF_INIT;

  for (size_t i = 0; i < json_object_array_length (rows); i++)
    {
      if (gotmpl_exec (t, json_object_array_get_idx (rows, i), &opts, &b, err) < 0)
        return -1;
      buf_append_char (&b, '\n');
    }
  buf_append (out, b.data, b.len);
  return 0;
}

int
format_render_rows (json_object *rows, const char *fmt, const struct format_header *headers,
                    bool is_noheading, struct buf *out, struct error **err)
{
  cleanup_free char *trimmed = str_strip (xstrdup (fmt));
  cleanup_free char *fallback = NULL;
  cleanup_gotmpl struct gotmpl *t = NULL;
  bool is_table;

  if (strcmp (trimmed, "table") == 0 && headers && headers[0].key)
    fmt = fallback = default_table_format (headers);
  t = parse_format (fmt, &is_table, err);
  if (t == NULL)
    return -1;
  if (is_table)
    return render_table (t, rows, headers, is_noheading, out, err);
  return render_plain (t, rows, out, err);
}
