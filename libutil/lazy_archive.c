/* libarchive's functions as skiff calls them, loaded on first use (see
 * lazylib.h).  The prototypes come from archive.h and archive_entry.h, so a
 * mismatch with the library's declaration is a compile error. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <archive.h>
#include <archive_entry.h>

#include "lazylib.h"

#define LAZY(lib, ret, name, params, args) LAZYLIB_FN (lib, ret, name, params, args)
#define LAZY_VOID(lib, name, params, args) LAZYLIB_VOID (lib, name, params, args)

LAZY (archive, time_t, archive_entry_atime, (struct archive_entry *a0), (a0))
LAZY (archive, int, archive_entry_atime_is_set, (struct archive_entry *a0), (a0))
LAZY (archive, long, archive_entry_atime_nsec, (struct archive_entry *a0), (a0))
LAZY (archive, struct archive_entry *, archive_entry_clear, (struct archive_entry *a0), (a0))
LAZY_VOID (archive, archive_entry_copy_gname, (struct archive_entry *a0, const char *a1), (a0, a1))
LAZY_VOID (archive, archive_entry_copy_hardlink, (struct archive_entry *a0, const char *a1), (a0, a1))
LAZY_VOID (archive, archive_entry_copy_pathname, (struct archive_entry *a0, const char *a1), (a0, a1))
LAZY_VOID (archive, archive_entry_copy_stat, (struct archive_entry *a0, const struct stat *a1), (a0, a1))
LAZY_VOID (archive, archive_entry_copy_symlink, (struct archive_entry *a0, const char *a1), (a0, a1))
LAZY_VOID (archive, archive_entry_copy_uname, (struct archive_entry *a0, const char *a1), (a0, a1))
LAZY (archive, dev_t, archive_entry_devmajor, (struct archive_entry *a0), (a0))
LAZY (archive, dev_t, archive_entry_devminor, (struct archive_entry *a0), (a0))
LAZY (archive, mode_t, archive_entry_filetype, (struct archive_entry *a0), (a0))
LAZY_VOID (archive, archive_entry_free, (struct archive_entry *a0), (a0))
LAZY (archive, la_int64_t, archive_entry_gid, (struct archive_entry *a0), (a0))
LAZY (archive, const char *, archive_entry_gname, (struct archive_entry *a0), (a0))
LAZY (archive, const char *, archive_entry_hardlink, (struct archive_entry *a0), (a0))
LAZY_VOID (archive, archive_entry_linkify, (struct archive_entry_linkresolver *a0, struct archive_entry **a1, struct archive_entry **a2), (a0, a1, a2))
LAZY_VOID (archive, archive_entry_linkresolver_free, (struct archive_entry_linkresolver *a0), (a0))
LAZY (archive, struct archive_entry_linkresolver *, archive_entry_linkresolver_new, (void), ())
LAZY_VOID (archive, archive_entry_linkresolver_set_strategy, (struct archive_entry_linkresolver *a0, int a1), (a0, a1))
LAZY (archive, mode_t, archive_entry_mode, (struct archive_entry *a0), (a0))
LAZY (archive, time_t, archive_entry_mtime, (struct archive_entry *a0), (a0))
LAZY (archive, int, archive_entry_mtime_is_set, (struct archive_entry *a0), (a0))
LAZY (archive, long, archive_entry_mtime_nsec, (struct archive_entry *a0), (a0))
LAZY (archive, struct archive_entry *, archive_entry_new, (void), ())
LAZY (archive, unsigned int, archive_entry_nlink, (struct archive_entry *a0), (a0))
LAZY (archive, const char *, archive_entry_pathname, (struct archive_entry *a0), (a0))
LAZY (archive, const char *, archive_entry_pathname_utf8, (struct archive_entry *a0), (a0))
LAZY (archive, mode_t, archive_entry_perm, (struct archive_entry *a0), (a0))
LAZY (archive, dev_t, archive_entry_rdev, (struct archive_entry *a0), (a0))
LAZY_VOID (archive, archive_entry_set_atime, (struct archive_entry *a0, time_t a1, long a2), (a0, a1, a2))
LAZY_VOID (archive, archive_entry_set_ctime, (struct archive_entry *a0, time_t a1, long a2), (a0, a1, a2))
LAZY_VOID (archive, archive_entry_set_devmajor, (struct archive_entry *a0, dev_t a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_devminor, (struct archive_entry *a0, dev_t a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_filetype, (struct archive_entry *a0, unsigned int a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_gid, (struct archive_entry *a0, la_int64_t a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_gname, (struct archive_entry *a0, const char *a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_hardlink, (struct archive_entry *a0, const char *a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_mode, (struct archive_entry *a0, mode_t a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_mtime, (struct archive_entry *a0, time_t a1, long a2), (a0, a1, a2))
LAZY_VOID (archive, archive_entry_set_nlink, (struct archive_entry *a0, unsigned int a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_pathname, (struct archive_entry *a0, const char *a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_perm, (struct archive_entry *a0, mode_t a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_rdev, (struct archive_entry *a0, dev_t a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_size, (struct archive_entry *a0, la_int64_t a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_symlink, (struct archive_entry *a0, const char *a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_uid, (struct archive_entry *a0, la_int64_t a1), (a0, a1))
LAZY_VOID (archive, archive_entry_set_uname, (struct archive_entry *a0, const char *a1), (a0, a1))
LAZY (archive, la_int64_t, archive_entry_size, (struct archive_entry *a0), (a0))
LAZY (archive, int, archive_entry_size_is_set, (struct archive_entry *a0), (a0))
LAZY_VOID (archive, archive_entry_sparse_add_entry, (struct archive_entry *a0, la_int64_t a1, la_int64_t a2), (a0, a1, a2))
LAZY (archive, const char *, archive_entry_symlink, (struct archive_entry *a0), (a0))
LAZY (archive, la_int64_t, archive_entry_uid, (struct archive_entry *a0), (a0))
LAZY (archive, const char *, archive_entry_uname, (struct archive_entry *a0), (a0))
LAZY_VOID (archive, archive_entry_xattr_clear, (struct archive_entry *a0), (a0))
LAZY_VOID (archive, archive_entry_xattr_add_entry, (struct archive_entry *a0, const char *a1, const void *a2, size_t a3), (a0, a1, a2, a3))
LAZY (archive, int, archive_entry_xattr_count, (struct archive_entry *a0), (a0))
LAZY (archive, int, archive_entry_xattr_next, (struct archive_entry *a0, const char **a1, const void **a2, size_t *a3), (a0, a1, a2, a3))
LAZY (archive, int, archive_entry_xattr_reset, (struct archive_entry *a0), (a0))
LAZY (archive, int, archive_errno, (struct archive *a0), (a0))
LAZY (archive, const char *, archive_error_string, (struct archive *a0), (a0))
LAZY (archive, int, archive_filter_code, (struct archive *a0, int a1), (a0, a1))
LAZY (archive, int, archive_filter_count, (struct archive *a0), (a0))
LAZY (archive, int, archive_format, (struct archive *a0), (a0))
LAZY (archive, int, archive_free, (struct archive *a0), (a0))
LAZY (archive, la_ssize_t, archive_read_data, (struct archive *a0, void *a1, size_t a2), (a0, a1, a2))
LAZY (archive, int, archive_read_data_block, (struct archive *a0, const void **a1, size_t *a2, la_int64_t *a3), (a0, a1, a2, a3))
LAZY (archive, int, archive_read_data_skip, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_free, (struct archive *a0), (a0))
LAZY (archive, struct archive *, archive_read_new, (void), ())
LAZY (archive, int, archive_read_next_header, (struct archive *a0, struct archive_entry **a1), (a0, a1))
LAZY (archive, int, archive_read_open, (struct archive *a0, void *a1, archive_open_callback *a2, archive_read_callback *a3, archive_close_callback *a4), (a0, a1, a2, a3, a4))
LAZY (archive, int, archive_read_open_fd, (struct archive *a0, int a1, size_t a2), (a0, a1, a2))
LAZY (archive, int, archive_read_open_filename, (struct archive *a0, const char *a1, size_t a2), (a0, a1, a2))
LAZY (archive, int, archive_read_open_memory, (struct archive *a0, const void *a1, size_t a2), (a0, a1, a2))
LAZY (archive, int, archive_read_support_filter_all, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_filter_bzip2, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_filter_gzip, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_filter_lz4, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_filter_none, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_filter_xz, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_filter_zstd, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_format_all, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_format_empty, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_format_gnutar, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_format_raw, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_format_tar, (struct archive *a0), (a0))
LAZY (archive, int, archive_read_support_format_zip, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_add_filter_gzip, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_add_filter_none, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_add_filter_xz, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_add_filter_zstd, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_close, (struct archive *a0), (a0))
LAZY (archive, la_ssize_t, archive_write_data, (struct archive *a0, const void *a1, size_t a2), (a0, a1, a2))
LAZY (archive, la_ssize_t, archive_write_data_block, (struct archive *a0, const void *a1, size_t a2, la_int64_t a3), (a0, a1, a2, a3))
LAZY (archive, struct archive *, archive_write_disk_new, (void), ())
LAZY (archive, int, archive_write_disk_set_options, (struct archive *a0, int a1), (a0, a1))
LAZY (archive, int, archive_write_fail, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_finish_entry, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_free, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_header, (struct archive *a0, struct archive_entry *a1), (a0, a1))
LAZY (archive, struct archive *, archive_write_new, (void), ())
LAZY (archive, int, archive_write_open, (struct archive *a0, void *a1, archive_open_callback *a2, archive_write_callback *a3, archive_close_callback *a4), (a0, a1, a2, a3, a4))
LAZY (archive, int, archive_write_open2, (struct archive *a0, void *a1, archive_open_callback *a2, archive_write_callback *a3, archive_close_callback *a4, archive_free_callback *a5), (a0, a1, a2, a3, a4, a5))
LAZY (archive, int, archive_write_open_fd, (struct archive *a0, int a1), (a0, a1))
LAZY (archive, int, archive_write_open_filename, (struct archive *a0, const char *a1), (a0, a1))
LAZY (archive, int, archive_write_open_memory, (struct archive *a0, void *a1, size_t a2, size_t *a3), (a0, a1, a2, a3))
LAZY (archive, int, archive_write_set_bytes_in_last_block, (struct archive *a0, int a1), (a0, a1))
LAZY (archive, int, archive_write_set_filter_option, (struct archive *a0, const char *a1, const char *a2, const char *a3), (a0, a1, a2, a3))
LAZY (archive, int, archive_write_set_format_gnutar, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_set_format_pax, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_set_format_pax_restricted, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_set_format_raw, (struct archive *a0), (a0))
LAZY (archive, int, archive_write_set_format_ustar, (struct archive *a0), (a0))

/* A va_list cannot be handed on to a variadic function: format here and
 * pass the text through "%s". */
void
archive_set_error (struct archive *a, int error_number, const char *fmt, ...)
{
  static void (*real) (struct archive *, int, const char *, ...);
  void (*fn) (struct archive *, int, const char *, ...) = __atomic_load_n (&real,
                                                                          __ATOMIC_ACQUIRE);
  char text[512];
  va_list ap;

  if (fn == NULL)
    {
      fn = (void (*) (struct archive *, int, const char *, ...)) lazylib_sym (&lazylib_archive,
                                                                             "archive_set_error");
      __atomic_store_n (&real, fn, __ATOMIC_RELEASE);
    }
  va_start (ap, fmt);
  vsnprintf (text, sizeof text, fmt, ap);
  va_end (ap);
  fn (a, error_number, "%s", text);
}

/* Version reports, for `skiff info`. */
LAZY (archive, const char *, archive_zlib_version, (void), ())
LAZY (archive, const char *, archive_liblzma_version, (void), ())
LAZY (archive, const char *, archive_bzlib_version, (void), ())
LAZY (archive, const char *, archive_libzstd_version, (void), ())
