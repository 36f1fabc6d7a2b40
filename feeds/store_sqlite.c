/* store_sqlite.c -- the SQLite backend of the feed store (the default).
 *
 * A thin mapping of store_ops onto the sqlite3 API: prepare/bind/step are
 * SQLite's own (so a query is naturally a cursor: rows come one
 * sqlite3_step at a time and memory does not grow with the result).
 *
 * Durability and concurrency choices, made once in connect():
 *  - journal_mode=WAL: readers (the server) keep reading their snapshot
 *    while one importer writes; a reader never blocks the writer.
 *  - synchronous=NORMAL: in WAL mode a commit is atomic and the database
 *    is never corrupted by a crash of the process (SIGKILL, OOM killer) or
 *    of the OS; only a power cut can lose the LAST commits (never tear
 *    one).  Import is idempotent, so the remedy for a lost commit is to
 *    run the import again; FULL would add an fsync per commit for no gain
 *    here.  The crash test (tests/feeds/test_store.c) kills importers with
 *    SIGKILL and checks each feed is stored whole or not at all.
 *  - busy_timeout 30 s: a second writer waits for the first instead of
 *    failing at once; writers take the lock up front (BEGIN IMMEDIATE) so
 *    a read transaction never has to be upgraded (no deadlock).
 *  - foreign_keys on, a 64 MiB page cache, temp data in memory. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct store_stmt {
    sqlite3_stmt *st;
    store *s;
};

static int db_error(sqlite3 *db, eg_err *err, const char *what)
{
    int code = sqlite3_errcode(db);
    int eg = code == SQLITE_NOMEM ? EG_ENOMEM
             : (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) ? EG_EDATA
                                                                 : EG_EIO;
    return eg_errf(err, eg, NULL, 0, 0, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

static int lite_exec(store *s, const char *sql, eg_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->impl, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        rc = eg_errf(err, rc == SQLITE_NOMEM ? EG_ENOMEM : EG_EIO, NULL, 0, 0, "sqlite: %.200s: %s",
                     sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

static int lite_prepare(store *s, const char *sql, int stream, store_stmt **out, eg_err *err)
{
    store_stmt *st = calloc(1, sizeof *st);
    int rc = 0;
    (void)stream; /* every SQLite statement is a cursor */
    if (!st) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    st->s = s;
    if (sqlite3_prepare_v2(s->impl, sql, -1, &st->st, NULL) != SQLITE_OK) {
        rc = db_error(s->impl, err, "prepare");
        free(st);
        st = NULL;
    }
    *out = st;
    return rc;
}

static void lite_bind_i64(store_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st->st, i, v);
}

static void lite_bind_null(store_stmt *st, int i)
{
    sqlite3_bind_null(st->st, i);
}

static void lite_bind_text(store_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st->st, i, v, -1, SQLITE_STATIC);
}

static void lite_bind_blob(store_stmt *st, int i, const void *p, size_t n)
{
    sqlite3_bind_blob64(st->st, i, p ? p : "", n, SQLITE_STATIC);
}

static int lite_step(store_stmt *st, eg_err *err)
{
    int rc = sqlite3_step(st->st);
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_DONE) return 0;
    return db_error(st->s->impl, err, "step");
}

static int lite_col_null(store_stmt *st, int i)
{
    return sqlite3_column_type(st->st, i) == SQLITE_NULL;
}

static int64_t lite_col_i64(store_stmt *st, int i)
{
    return sqlite3_column_int64(st->st, i);
}

static const char *lite_col_text(store_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st->st, i);
    return t ? (const char *)t : "";
}

static const void *lite_col_blob(store_stmt *st, int i, size_t *n)
{
    const void *p = sqlite3_column_blob(st->st, i);
    *n = (size_t)sqlite3_column_bytes(st->st, i);
    return p;
}

static void lite_reset(store_stmt *st)
{
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
}

static void lite_finalize(store_stmt *st)
{
    if (!st) return;
    sqlite3_finalize(st->st);
    free(st);
}

static int lite_begin(store *s, int write, eg_err *err)
{
    return lite_exec(s, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

static int lite_commit(store *s, eg_err *err)
{
    return lite_exec(s, "COMMIT", err);
}

static void lite_rollback(store *s)
{
    if (!sqlite3_get_autocommit(s->impl)) sqlite3_exec(s->impl, "ROLLBACK", NULL, NULL, NULL);
}

static int lite_integrity(store *s, void (*report)(void *ctx, const char *msg), void *ctx,
                          eg_err *err)
{
    static const char *const checks[] = {"PRAGMA integrity_check", "PRAGMA foreign_key_check"};
    int rc = 0;
    for (size_t k = 0; k < sizeof checks / sizeof checks[0] && !rc; k++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->impl, checks[k], -1, &st, NULL) != SQLITE_OK)
            return db_error(s->impl, err, checks[k]);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            const char *msg = (const char *)sqlite3_column_text(st, 0);
            if (k == 0 && msg && strcmp(msg, "ok") == 0) continue;
            char buf[512];
            snprintf(buf, sizeof buf, "sqlite %s: %s", checks[k] + 7,
                     msg ? msg : "foreign key violation");
            if (report) report(ctx, buf);
        }
        if (r != SQLITE_DONE) rc = db_error(s->impl, err, checks[k]);
        sqlite3_finalize(st);
    }
    return rc;
}

static void lite_close(store *s)
{
    sqlite3_close_v2(s->impl);
    s->impl = NULL;
}

static const char *const lite_schema[] = {
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS customer(cid INTEGER PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, created INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS feed(fid INTEGER PRIMARY KEY, feed_id TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, head BLOB NOT NULL, imported INTEGER NOT NULL,"
    " entries INTEGER NOT NULL, readings INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS resource(rid INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
    " espi_id TEXT NOT NULL UNIQUE, self_href TEXT NOT NULL, up_self TEXT NOT NULL,"
    " customer INTEGER REFERENCES customer(cid), start INTEGER, duration INTEGER,"
    " published INTEGER, updated INTEGER, hash INTEGER NOT NULL, body BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS resource_self ON resource(self_href)",
    "CREATE INDEX IF NOT EXISTS resource_up ON resource(up_self, kind)",
    "CREATE TABLE IF NOT EXISTS link(rid INTEGER NOT NULL REFERENCES resource(rid)"
    " ON DELETE CASCADE, href TEXT NOT NULL, PRIMARY KEY(rid, href)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS series(sid INTEGER PRIMARY KEY, href TEXT NOT NULL UNIQUE,"
    " up_self TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS series_up ON series(up_self)",
    "CREATE TABLE IF NOT EXISTS block(bid INTEGER PRIMARY KEY,"
    " sid INTEGER NOT NULL REFERENCES series(sid), id BLOB NOT NULL, start INTEGER NOT NULL,"
    " duration INTEGER, published INTEGER, updated INTEGER, n INTEGER NOT NULL,"
    " hash INTEGER NOT NULL, extra BLOB, data BLOB NOT NULL, UNIQUE(id, start))",
    "CREATE INDEX IF NOT EXISTS block_series ON block(sid, start)",
    NULL};

static const store_ops sqlite_ops = {
    "sqlite",     lite_schema,    lite_exec,      lite_prepare,   lite_bind_i64,
    lite_bind_null, lite_bind_text, lite_bind_blob, lite_step,     lite_col_null,
    lite_col_i64, lite_col_text,  lite_col_blob,  lite_reset,     lite_finalize,
    lite_begin,   lite_commit,    lite_rollback,  lite_integrity, lite_close,
};

int store_sqlite_connect(store *s, const char *path, eg_err *err)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        rc = eg_errf(err, EG_ECANTCREAT, path, 0, 0, "cannot open SQLite database: %s",
                     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        goto done;
    }
    sqlite3_busy_timeout(db, 30000);
    sqlite3_extended_result_codes(db, 0);
    s->ops = &sqlite_ops;
    s->impl = db;
    rc = lite_exec(s,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                   " PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY",
                   err);
    if (rc) {
        if (err) snprintf(err->file, sizeof err->file, "%s", path);
    }
done:
    if (rc) {
        sqlite3_close_v2(db);
        s->ops = NULL;
        s->impl = NULL;
    }
    return rc;
}
