/* Aligned text tables as docker prints them (its formatter's
 * tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)): columns padded to the
 * widest cell plus three spaces, at least ten wide, the last column
 * unpadded. */
#ifndef SKIFF_LIBUTIL_TABLE_H
#define SKIFF_LIBUTIL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct table; /* opaque */

/* A table with NCOLS columns; HEADERS (NCOLS strings) may be NULL for
 * none. */
struct table *table_new (size_t ncols, const char *const *headers);
/* Add a row of NCOLS cells (copied; NULL prints as empty). */
void table_add_row (struct table *t, const char *const *cells);
/* Print header (unless IS_NOHEADING) and rows to OUT. */
void table_print (const struct table *t, bool is_noheading, FILE *out);
void table_free (struct table *t);
/* The printed width of a column whose widest cell has WIDEST bytes. */
size_t table_column_width (size_t widest);
void table_freep (struct table **t);
#define cleanup_table __attribute__ ((cleanup (table_freep)))

#endif
