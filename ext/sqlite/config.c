/*
 * wudf_config(key [, value]): the connection's limits. Returns the value
 * in effect after the call. New limits apply from the next call of each
 * function (its sandbox is rebuilt with them).
 */
#include <string.h>

#include "wudf_sqlite.h"

SQLITE_EXTENSION_INIT3

typedef struct config_key {
  const char *name;
  sqlite3_int64 min, max;
} config_key;

static const config_key k_keys[] = {
    {"memory_limit_mb", 1, WSQ_MAX_MEMORY_MB},
    {"timeout_ms", 1, WSQ_MAX_TIMEOUT_MS},
    /* 1: numeric functions run as 1-row batches too (for measuring). */
    {"batch_path", 0, 1},
};

static const config_key *key_find(const char *name) {
  for (size_t i = 0; name && i < sizeof k_keys / sizeof k_keys[0]; i++)
    if (sqlite3_stricmp(name, k_keys[i].name) == 0) return &k_keys[i];
  return NULL;
}

static sqlite3_int64 config_get(const wsq_conn *c, const config_key *k) {
  if (k == &k_keys[0]) return (sqlite3_int64)(c->limits.memory_bytes >> 20);
  if (k == &k_keys[1]) return c->limits.timeout_ms;
  return c->map_path;
}

static void config_set(wsq_conn *c, const config_key *k, sqlite3_int64 v) {
  if (k == &k_keys[0])
    c->limits.memory_bytes = (uint64_t)v << 20;
  else if (k == &k_keys[1])
    c->limits.timeout_ms = (uint32_t)v;
  else
    c->map_path = v != 0;
  c->generation++;
}

static void error(sqlite3_context *ctx, char *msg) {
  if (!msg) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_error(ctx, msg, -1);
  sqlite3_free(msg);
}

void wsq_config_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  wsq_conn *c = sqlite3_user_data(ctx);
  const char *name = (const char *)sqlite3_value_text(argv[0]);
  const config_key *k = key_find(name);
  if (!k) {
    error(ctx, sqlite3_mprintf("wudf_config: unknown setting '%s' "
                               "(memory_limit_mb, timeout_ms, batch_path)",
                               name ? name : "NULL"));
    return;
  }
  if (argc > 1) {
    sqlite3_int64 v = sqlite3_value_int64(argv[1]);
    if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER || v < k->min ||
        v > k->max) {
      error(ctx,
            sqlite3_mprintf("wudf_config: %s must be an integer from "
                            "%lld to %lld",
                            k->name, (long long)k->min, (long long)k->max));
      return;
    }
    config_set(c, k, v);
  }
  sqlite3_result_int64(ctx, config_get(c, k));
}
