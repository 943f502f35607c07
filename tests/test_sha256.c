/* SHA-256 against the FIPS 180-2 / NIST CSRC example vectors. Expected
 * digests are those published with the standard; each was also checked with
 * coreutils `sha256sum`. */
#include <stdlib.h>

#include "common/sha256.h"
#include "harness.h"

static int hex_of(const void *data, size_t len, const char *expected) {
  char hex[WUDF_SHA256_HEX_SIZE];
  wudf_sha256_hex(data, len, hex);
  if (strcmp(hex, expected) == 0) return 1;
  fprintf(stderr, "    got      %s\n    expected %s\n", hex, expected);
  return 0;
}

TEST(sha256_empty) {
  CHECK(hex_of(
      "", 0,
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK(hex_of(
      NULL, 0,
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

TEST(sha256_abc) {
  CHECK(hex_of(
      "abc", 3,
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

TEST(sha256_448_bits) {
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK_EQ_INT(strlen(m), 56);
  CHECK(hex_of(
      m, 56,
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
}

TEST(sha256_896_bits) {
  const char *m =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
      "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  CHECK_EQ_INT(strlen(m), 112);
  CHECK(hex_of(
      m, 112,
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"));
}

/* Padding edge cases: 55 bytes fit one block with the length; 64 need two. */
TEST(sha256_padding_edges) {
  char m[64];
  memset(m, 'a', sizeof m);
  CHECK(hex_of(
      m, 55,
      "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"));
  CHECK(hex_of(
      m, 64,
      "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"));
}

TEST(sha256_million_a) {
  const char *expected =
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  char *m = malloc(1000000);
  CHECK(m != NULL);
  memset(m, 'a', 1000000);
  int one_shot = hex_of(m, 1000000, expected);
  free(m);
  CHECK(one_shot);
  /* The same message fed in odd-sized pieces. */
  char piece[997];
  memset(piece, 'a', sizeof piece);
  wudf_sha256_ctx ctx;
  wudf_sha256_init(&ctx);
  size_t left = 1000000;
  while (left > 0) {
    size_t n = left < sizeof piece ? left : sizeof piece;
    wudf_sha256_update(&ctx, piece, n);
    left -= n;
  }
  uint8_t digest[WUDF_SHA256_DIGEST_SIZE];
  char hex[WUDF_SHA256_HEX_SIZE];
  wudf_sha256_final(&ctx, digest);
  wudf_sha256_to_hex(digest, hex);
  CHECK_CONTAINS(hex, expected);
}

/* Bytes (i*7+3) mod 256 for i in 0..199; digest from
 * python3 -c "...bytes((i*7+3)&255 for i in range(200))" | sha256sum. */
TEST(sha256_incremental_every_split) {
  const char *expected =
      "2c7e18c942ef065b526a2d4e5546283749cd3ddfb51d8fc71f42717363685f46";
  uint8_t m[200];
  for (int i = 0; i < 200; i++) m[i] = (uint8_t)((i * 7 + 3) & 255);
  CHECK(hex_of(m, sizeof m, expected));
  for (size_t split = 0; split <= sizeof m; split++) {
    wudf_sha256_ctx ctx;
    uint8_t digest[WUDF_SHA256_DIGEST_SIZE];
    char hex[WUDF_SHA256_HEX_SIZE];
    wudf_sha256_init(&ctx);
    wudf_sha256_update(&ctx, m, split);
    wudf_sha256_update(&ctx, m + split, sizeof m - split);
    wudf_sha256_final(&ctx, digest);
    wudf_sha256_to_hex(digest, hex);
    CHECK_MSG(strcmp(hex, expected) == 0, "split at %zu: %s", split, hex);
  }
}
