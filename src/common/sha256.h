/* SHA-256 (FIPS 180-4), for cache keys and toolchain identities.
 *
 * Incremental use: wudf_sha256_init(), any number of wudf_sha256_update()
 * calls, then wudf_sha256_final(). A context is used by one thread at a time;
 * the functions keep no global state. */
#ifndef WUDF_COMMON_SHA256_H
#define WUDF_COMMON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define WUDF_SHA256_DIGEST_SIZE 32
#define WUDF_SHA256_HEX_SIZE 65 /* 64 hex digits and a NUL */

typedef struct wudf_sha256_ctx {
  uint32_t state[8];
  uint64_t total_len; /* bytes hashed so far */
  uint8_t block[64];  /* pending input, block_len bytes */
  size_t block_len;
} wudf_sha256_ctx;

void wudf_sha256_init(wudf_sha256_ctx *ctx);

/* Hashes `len` bytes at `data` (which may be NULL when len is 0). */
void wudf_sha256_update(wudf_sha256_ctx *ctx, const void *data, size_t len);

/* Writes the digest of everything hashed since init. The context must be
 * initialised again before reuse. */
void wudf_sha256_final(wudf_sha256_ctx *ctx,
                       uint8_t digest[WUDF_SHA256_DIGEST_SIZE]);

/* One-shot digest of `len` bytes at `data`. */
void wudf_sha256(const void *data, size_t len,
                 uint8_t digest[WUDF_SHA256_DIGEST_SIZE]);

/* Lower-case hex of a digest, NUL-terminated. */
void wudf_sha256_to_hex(const uint8_t digest[WUDF_SHA256_DIGEST_SIZE],
                        char hex[WUDF_SHA256_HEX_SIZE]);

/* One-shot digest of `len` bytes at `data`, as lower-case hex. */
void wudf_sha256_hex(const void *data, size_t len,
                     char hex[WUDF_SHA256_HEX_SIZE]);

#endif
