/*
 * sqlite3_wudf.h — what the wudf SQLite extension offers C programs besides
 * SQL (docs/sqlite.md).
 *
 * The extension (wudf.so) exports two symbols: the entry point and
 * sqlite3_wudf_interrupt(). A program that loads the extension with
 * sqlite3_load_extension() finds the second with dlsym():
 *
 *     void *h = dlopen("wudf.so", RTLD_NOW | RTLD_NOLOAD);
 *     void (*wudf_interrupt)(sqlite3 *) =
 *         (void (*)(sqlite3 *))dlsym(h, "sqlite3_wudf_interrupt");
 */
#ifndef SQLITE3_WUDF_H
#define SQLITE3_WUDF_H

#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The entry point SQLite calls when the extension is loaded. */
int sqlite3_wudf_init(sqlite3 *db, char **pzErrMsg,
                      const struct sqlite3_api_routines *pApi);

/* sqlite3_interrupt(db), and the wudf call running on `db` (if any) is
 * stopped at once, where sqlite3_interrupt() alone waits for it to return
 * or reach its time limit. The statement fails with SQLITE_INTERRUPT. Call
 * it from any thread, like sqlite3_interrupt(); not from a signal handler.
 * Does nothing for a connection the extension is not loaded on. */
void sqlite3_wudf_interrupt(sqlite3 *db);

#ifdef __cplusplus
}
#endif

#endif /* SQLITE3_WUDF_H */
