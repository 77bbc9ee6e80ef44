/* Unit tests for libutil/lazylib.c: libcurl and libarchive are not loaded
 * until their first function is called, the trampolines reach the real
 * functions (values and variadic options), and a library that cannot be
 * found gives an error naming it and its package. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "libutil/error.h"
#include "libutil/lazylib.h"

static void
test_not_loaded_until_used (void **state)
{
  struct archive *a;

  (void) state;
  assert_false (lazylib_is_loaded (&lazylib_archive));
  a = archive_read_new ();
  assert_non_null (a);
  assert_true (lazylib_is_loaded (&lazylib_archive));
  assert_int_equal (archive_read_free (a), ARCHIVE_OK);
}

/* A tar written and read back through the trampolines, with a variadic
 * archive_set_error on the way. */
static void
test_archive_round_trip (void **state)
{
  char buf[10240];
  size_t used = 0;
  struct archive *w = archive_write_new ();
  struct archive *r;
  struct archive_entry *e = archive_entry_new ();
  struct archive_entry *got;
  char data[8] = { 0 };

  (void) state;
  assert_int_equal (archive_write_set_format_pax_restricted (w), ARCHIVE_OK);
  assert_int_equal (archive_write_open_memory (w, buf, sizeof buf, &used), ARCHIVE_OK);
  archive_entry_set_pathname (e, "hello.txt");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0640);
  archive_entry_set_size (e, 5);
  assert_int_equal (archive_write_header (w, e), ARCHIVE_OK);
  assert_int_equal (archive_write_data (w, "hello", 5), 5);
  assert_int_equal (archive_write_close (w), ARCHIVE_OK);
  archive_write_free (w);
  archive_entry_free (e);

  r = archive_read_new ();
  archive_read_support_format_tar (r);
  assert_int_equal (archive_read_open_memory (r, buf, used), ARCHIVE_OK);
  assert_int_equal (archive_read_next_header (r, &got), ARCHIVE_OK);
  assert_string_equal (archive_entry_pathname (got), "hello.txt");
  assert_int_equal (archive_entry_perm (got), 0640);
  assert_int_equal (archive_read_data (r, data, sizeof data), 5);
  assert_string_equal (data, "hello");
  archive_set_error (r, 22, "bad entry %s at %d", "x", 7);
  assert_string_equal (archive_error_string (r), "bad entry x at 7");
  assert_int_equal (archive_errno (r), 22);
  archive_read_free (r);
}

static size_t
discard (char *ptr, size_t size, size_t n, void *data)
{
  (void) ptr;
  (void) data;
  return size * n;
}

/* curl_easy_setopt forwards longs, pointers, function pointers and
 * curl_off_t values by the option's type; a wrong type would crash or be
 * refused. */
static void
test_curl_setopt_types (void **state)
{
  CURL *h;
  CURLSH *sh;
  char *url = NULL;

  (void) state;
  assert_false (lazylib_is_loaded (&lazylib_curl));
  h = curl_easy_init ();
  assert_non_null (h);
  assert_true (lazylib_is_loaded (&lazylib_curl));
  assert_int_equal (curl_easy_setopt (h, CURLOPT_URL, "http://127.0.0.1:1/x"), CURLE_OK);
  assert_int_equal (curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L), CURLE_OK);
  assert_int_equal (curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, discard), CURLE_OK);
  assert_int_equal (curl_easy_setopt (h, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t) 1 << 40),
                    CURLE_OK);
  assert_int_equal (curl_easy_getinfo (h, CURLINFO_EFFECTIVE_URL, &url), CURLE_OK);
  assert_string_equal (url, "http://127.0.0.1:1/x");
  sh = curl_share_init ();
  assert_int_equal (curl_share_setopt (sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS), CURLSHE_OK);
  assert_int_equal (curl_easy_setopt (h, CURLOPT_SHARE, sh), CURLE_OK);
  curl_easy_cleanup (h);
  curl_share_cleanup (sh);
  assert_string_equal (curl_easy_strerror (CURLE_OK), "No error");
}

/* SHA-256 of "abc" through the libcrypto trampolines. */
static void
test_crypto_digest (void **state)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char want[] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea };

  (void) state;
  assert_false (lazylib_is_loaded (&lazylib_crypto));
  assert_int_equal (EVP_Digest ("abc", 3, md, &len, EVP_sha256 (), NULL), 1);
  assert_true (lazylib_is_loaded (&lazylib_crypto));
  assert_int_equal (len, 32);
  assert_memory_equal (md, want, sizeof want);
}

static void
test_missing_library (void **state)
{
  struct lazylib missing = { "libskiff-none.so.99", "skiff-none", NULL };
  cleanup_error struct error *err = NULL;

  (void) state;
  assert_true (lazylib_load (&missing, &err) < 0);
  assert_non_null (strstr (err->msg, "cannot load libskiff-none.so.99")); 
  assert_non_null (strstr (err->msg, "install the skiff-none package"));
  assert_false (lazylib_is_loaded (&missing));
  assert_int_equal (lazylib_load (&lazylib_curl, NULL), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_not_loaded_until_used),
    cmocka_unit_test (test_archive_round_trip),
    cmocka_unit_test (test_curl_setopt_types),
    cmocka_unit_test (test_crypto_digest),
    cmocka_unit_test (test_missing_library),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
