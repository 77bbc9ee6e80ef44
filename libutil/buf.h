/* Growable byte buffers, always NUL-terminated so they can be used as
 * strings.  Allocation aborts on out-of-memory, so nothing here fails. */
#ifndef SKIFF_LIBUTIL_BUF_H
#define SKIFF_LIBUTIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf
{
  char *data; /* NULL until the first append; NUL-terminated after */
  size_t len;
  size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_reserve (struct buf *b, size_t extra);
void buf_append (struct buf *b, const void *data, size_t len);
void buf_append_str (struct buf *b, const char *s);
void buf_append_char (struct buf *b, char c);
/* Append code point CP encoded as UTF-8 (1 to 4 bytes; CP < 0x110000). */
void buf_append_utf8 (struct buf *b, uint32_t cp);
void buf_printf (struct buf *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void buf_vprintf (struct buf *b, const char *fmt, va_list ap) __attribute__ ((format (printf, 2, 0)));
void buf_truncate (struct buf *b, size_t len);
/* Return the contents as a malloc'd string ("" when empty) and reset B. */
char *buf_steal (struct buf *b);
void buf_free (struct buf *b);

#define cleanup_buf __attribute__ ((cleanup (buf_free)))

/* String helpers. */
bool str_has_prefix (const char *s, const char *prefix);
bool str_has_suffix (const char *s, const char *suffix);
/* Split S at each SEP into a NULL-terminated vector; empty fields kept. */
char **str_split (const char *s, char sep);
/* Join a NULL-terminated vector with SEP. */
char *str_join (char *const *v, const char *sep);
/* Remove leading and trailing whitespace in place; returns S. */
char *str_strip (char *s);
/* The first LEN bytes of S made safe to quote in a message: at most MAX of
 * them, control bytes, DEL and '"' replaced by '?', "..." appended when
 * cut, so hostile input cannot garble a terminal.  Malloc'd. */
char *str_quotable (const char *s, size_t len, size_t max);

#endif
