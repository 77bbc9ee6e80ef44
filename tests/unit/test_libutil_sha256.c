/* Unit tests for libutil/sha256.c: known vectors (FIPS 180-2), streaming,
 * files and descriptors, and digest string validation. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"

#define HEX_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEX_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define HEX_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
#define HEX_448 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define MSG_448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

static void
test_buf_known_vectors (void **state)
{
  char hex[SHA256_HEX_LEN + 1];

  sha256_buf_hex ("", 0, hex);
  assert_string_equal (hex, HEX_EMPTY);
  sha256_buf_hex ("abc", 3, hex);
  assert_string_equal (hex, HEX_ABC);
  sha256_buf_hex (MSG_448, strlen (MSG_448), hex);
  assert_string_equal (hex, HEX_448);
}

static void
test_stream_matches_one_shot_at_any_split (void **state)
{
  const size_t len = strlen (MSG_448);

  for (size_t split = 0; split <= len; split++)
    {
      cleanup_sha256 struct sha256_ctx *c = sha256_new ();
      char hex[SHA256_HEX_LEN + 1];

      sha256_update (c, MSG_448, split);
      sha256_update (c, MSG_448 + split, len - split);
      sha256_final_hex (c, hex);
      assert_string_equal (hex, HEX_448);
    }
}

static void
test_stream_million_a (void **state)
{
  cleanup_sha256 struct sha256_ctx *c = sha256_new ();
  char chunk[1000];
  char hex[SHA256_HEX_LEN + 1];

  memset (chunk, 'a', sizeof chunk);
  for (int i = 0; i < 1000; i++)
    sha256_update (c, chunk, sizeof chunk);
  sha256_final_hex (c, hex);
  assert_string_equal (hex, HEX_MILLION_A);
}

static void
test_stream_without_data_is_empty_hash (void **state)
{
  struct sha256_ctx *c = sha256_new ();
  char hex[SHA256_HEX_LEN + 1];

  sha256_update (c, NULL, 0);
  sha256_final_hex (c, hex);
  sha256_free (c);
  sha256_free (NULL);
  assert_string_equal (hex, HEX_EMPTY);
}

static char *
temp_file_with (const void *data, size_t len)
{
  const char *tmp = getenv ("TMPDIR");
  char *path = xasprintf ("%s/test_sha256.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  int fd = mkostemp (path, O_CLOEXEC);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, data, len), (ssize_t) len);
  close (fd);
  return path;
}

static void
test_file_hash_and_size (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = temp_file_with ("abc", 3);
  char hex[SHA256_HEX_LEN + 1];
  size_t size = 0;

  assert_int_equal (sha256_file_hex (path, hex, &size, &err), 0);
  unlink (path);
  assert_string_equal (hex, HEX_ABC);
  assert_int_equal (size, 3);
}

static void
test_file_larger_than_a_chunk (void **state)
{
  cleanup_error struct error *err = NULL;
  const size_t len = 200001;
  cleanup_free char *data = xmalloc (len);
  cleanup_free char *path = NULL;
  char want[SHA256_HEX_LEN + 1], hex[SHA256_HEX_LEN + 1];
  size_t size = 0;

  for (size_t i = 0; i < len; i++)
    data[i] = (char) (i * 7);
  path = temp_file_with (data, len);
  sha256_buf_hex (data, len, want);
  assert_int_equal (sha256_file_hex (path, hex, &size, &err), 0);
  unlink (path);
  assert_string_equal (hex, want);
  assert_int_equal (size, len);
}

static void
test_fd_hash_reads_from_current_offset (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *path = temp_file_with ("xxabc", 5);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  char hex[SHA256_HEX_LEN + 1];

  unlink (path);
  assert_true (fd >= 0);
  assert_int_equal (lseek (fd, 2, SEEK_SET), 2);
  assert_int_equal (sha256_fd_hex (fd, hex, NULL, &err), 0);
  assert_string_equal (hex, HEX_ABC);
}

static void
test_file_missing_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  char hex[SHA256_HEX_LEN + 1];

  assert_true (sha256_file_hex ("/nonexistent/skiff/blob", hex, NULL, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, "/nonexistent/skiff/blob"));
}

static void
test_file_that_is_a_directory_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  char hex[SHA256_HEX_LEN + 1];

  assert_true (sha256_file_hex ("/", hex, NULL, &err) < 0);
  assert_int_equal (err->errnum, EISDIR);
  assert_non_null (strstr (err->msg, "\"/\""));
}

static void
test_bad_fd_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  char hex[SHA256_HEX_LEN + 1];

  assert_true (sha256_fd_hex (-1, hex, NULL, &err) < 0);
  assert_int_equal (err->errnum, EBADF);
}

static void
test_digest_valid_accepts_canonical (void **state)
{
  assert_true (sha256_digest_valid ("sha256:" HEX_ABC));
  assert_true (sha256_digest_valid ("sha256:" HEX_EMPTY));
}

static void
test_digest_valid_rejects_malformed (void **state)
{
  static const char *const bad[] = {
    NULL,
    "",
    "sha256:",
    HEX_ABC,
    "sha512:" HEX_ABC,
    "SHA256:" HEX_ABC,
    "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
    "sha256:" HEX_ABC "0",
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag",
    "sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
    "sha256:" HEX_ABC "\n",
    "sha256:../../../../../../../../../../../../../../../../../../etc/passwd",
  };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false (sha256_digest_valid (bad[i]));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_buf_known_vectors),
    cmocka_unit_test (test_stream_matches_one_shot_at_any_split),
    cmocka_unit_test (test_stream_million_a),
    cmocka_unit_test (test_stream_without_data_is_empty_hash),
    cmocka_unit_test (test_file_hash_and_size),
    cmocka_unit_test (test_file_larger_than_a_chunk),
    cmocka_unit_test (test_fd_hash_reads_from_current_offset),
    cmocka_unit_test (test_file_missing_fails),
    cmocka_unit_test (test_file_that_is_a_directory_fails),
    cmocka_unit_test (test_bad_fd_fails),
    cmocka_unit_test (test_digest_valid_accepts_canonical),
    cmocka_unit_test (test_digest_valid_rejects_malformed),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
