/* Column alignment for list commands.  Widths count UTF-8 code points,
 * as Go's tabwriter counts runes (docker's "…" is one column wide). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "table.h"

struct table
{
  size_t ncols;
  char **headers;  /* NULL when none */
  char ***rows;
  size_t nrows;
};

static char **
copy_cells (size_t n, const char *const *cells)
{
  char **v = xcalloc (n, sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = xstrdup (cells[i] ? cells[i] : "");
  return v;
}

static void
free_cells (size_t n, char **v)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

struct table *
table_new (size_t ncols, const char *const *headers)
{
  struct table *t = xmalloc0 (sizeof *t);
  t->ncols = ncols;
  if (headers)
    t->headers = copy_cells (ncols, headers);
  return t;
}

void
table_add_row (struct table *t, const char *const *cells)
{
  t->rows = xrealloc (t->rows, (t->nrows + 1) * sizeof *t->rows);
  t->rows[t->nrows++] = copy_cells (t->ncols, cells);
}

/* Code points of S: the bytes that do not continue a UTF-8 sequence. */
static size_t
text_width (const char *s)
{
  size_t n = 0;

  for (; *s; s++)
    n += ((unsigned char) *s & 0xc0) != 0x80;
  return n;
}

static void
print_row (const struct table *t, char **cells, const size_t *width, FILE *out)
{
  for (size_t c = 0; c < t->ncols; c++)
    {
      fputs (cells[c], out);
      if (c + 1 == t->ncols)
        fputc ('\n', out);
      else
        fprintf (out, "%*s", (int) (table_column_width (width[c]) - text_width (cells[c])), "");
    }
}

void
table_print (const struct table *t, bool is_noheading, FILE *out)
{
  cleanup_free size_t *width = xcalloc (t->ncols, sizeof *width);
  bool has_header = t->headers && !is_noheading;

  for (size_t c = 0; c < t->ncols; c++)
    {
      if (has_header)
        width[c] = text_width (t->headers[c]);
      for (size_t r = 0; r < t->nrows; r++)
        if (text_width (t->rows[r][c]) > width[c])
          width[c] = text_width (t->rows[r][c]);
    }
  if (has_header)
    print_row (t, t->headers, width, out);
  for (size_t r = 0; r < t->nrows; r++)
    print_row (t, t->rows[r], width, out);
}

/* Go's tabwriter: minwidth 10, padding 3. */
size_t
table_column_width (size_t widest)
{
  return widest + 3 < 10 ? 10 : widest + 3;
}

void
table_free (struct table *t)
{
  if (t == NULL)
    return;
  free_cells (t->ncols, t->headers);
  for (size_t r = 0; r < t->nrows; r++)
    free_cells (t->ncols, t->rows[r]);
  free (t->rows);
  free (t);
}

void
table_freep (struct table **t)
{
  table_free (*t);
  *t = NULL;
}
