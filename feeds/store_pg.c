/* store_pg.c -- the PostgreSQL backend of the feed store (libpq).
 *
 * Statements arrive in the store's common dialect with numbered
 * parameters ?1..?N; prepare() rewrites them to $1..$N and remembers N (the
 * highest number used), so binds beyond N are ignored as SQLite ignores
 * them.  Parameters travel as text (integers) or binary (blobs, as bytea);
 * results come back in binary format, so integers are 8/4/2-byte
 * big-endian values and blobs need no unescaping.
 *
 * Two kinds of statement:
 *  - plain (stream = 0): prepared once on the server (PQprepare) and run
 *    with PQexecPrepared; its few result rows are held in the PGresult.
 *  - streaming (stream = 1): DECLARE c<n> NO SCROLL CURSOR FOR ... inside
 *    the caller's transaction, then FETCH FORWARD 1000 at a time, so a
 *    query over millions of rows holds at most 1000 of them.  Several
 *    cursors may be open at once on one connection (the export merges
 *    three), which single-row mode would not allow.
 *
 * Transactions: a writer takes a transaction-scoped advisory lock, so two
 * importers queue up like SQLite's BEGIN IMMEDIATE and row-id allocation
 * (MAX + 1) stays correct; readers use REPEATABLE READ READ ONLY, a
 * consistent MVCC snapshot that never blocks or is blocked by the writer. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define FETCH_ROWS 1000
#define STORE_PG_LOCK 0x45535049 /* "ESPI": the writers' advisory lock */

typedef struct pg_conn {
    PGconn *c;
    unsigned long next_name;     /* statement and cursor names */
} pg_conn;

struct store_stmt {
    store *s;
    int stream;
    int nparams;
    char *sql;                   /* rewritten with $n */
    char name[32];               /* prepared statement or cursor name */
    int prepared, cursor_open, done;
    PGresult *res;
    int row, nrows;
    const char *values[STORE_MAX_PARAMS];
    int lengths[STORE_MAX_PARAMS], formats[STORE_MAX_PARAMS];
    char ints[STORE_MAX_PARAMS][24];
};

static PGconn *conn_of(store *s)
{
    return ((pg_conn *)s->impl)->c;
}

static int pg_fail(store *s, eg_err *err, const char *what, const PGresult *r)
{
    const char *msg = r ? PQresultErrorMessage(r) : "";
    if (!msg || !*msg) msg = PQerrorMessage(conn_of(s));
    char buf[EG_ERR_MSG_MAX];
    snprintf(buf, sizeof buf, "%s", msg);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    return eg_errf(err, EG_EIO, NULL, 0, 0, "postgresql: %s: %s", what, buf);
}

static int pg_exec(store *s, const char *sql, eg_err *err)
{
    PGresult *r = PQexec(conn_of(s), sql);
    int st = PQresultStatus(r), rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) rc = pg_fail(s, err, sql, r);
    PQclear(r);
    return rc;
}

/* ?N -> $N; returns the highest N (0 none) or -1 when out of range. */
static int rewrite(const char *in, char *out)
{
    int maxn = 0;
    while (*in) {
        if (*in == '?' && in[1] >= '0' && in[1] <= '9') {
            int n = 0;
            *out++ = '$';
            in++;
            while (*in >= '0' && *in <= '9') {
                n = n * 10 + (*in - '0');
                *out++ = *in++;
                if (n > STORE_MAX_PARAMS) return -1;
            }
            if (n > maxn) maxn = n;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return maxn;
}

static int pg_prepare(store *s, const char *sql, int stream, store_stmt **out, eg_err *err)
{
    pg_conn *pc = s->impl;
    store_stmt *st = calloc(1, sizeof *st);
    int rc = 0;
    *out = NULL;
    if (!st || !(st->sql = malloc(strlen(sql) + 1))) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    st->s = s;
    st->stream = stream;
    st->nparams = rewrite(sql, st->sql);
    if (st->nparams < 0) {
        rc = eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "statement uses more than %d parameters",
                     STORE_MAX_PARAMS);
        goto done;
    }
    snprintf(st->name, sizeof st->name, "%s%lu", stream ? "c" : "s", ++pc->next_name);
done:
    if (rc && st) {
        free(st->sql);
        free(st);
        st = NULL;
    }
    *out = st;
    return rc;
}

static void pg_bind_i64(store_stmt *st, int i, int64_t v)
{
    if (i < 1 || i > st->nparams) return;
    snprintf(st->ints[i - 1], sizeof st->ints[i - 1], "%lld", (long long)v);
    st->values[i - 1] = st->ints[i - 1];
    st->lengths[i - 1] = 0;
    st->formats[i - 1] = 0;
}

static void pg_bind_null(store_stmt *st, int i)
{
    if (i < 1 || i > st->nparams) return;
    st->values[i - 1] = NULL;
}

static void pg_bind_text(store_stmt *st, int i, const char *v)
{
    if (i < 1 || i > st->nparams) return;
    st->values[i - 1] = v;
    st->lengths[i - 1] = 0;
    st->formats[i - 1] = 0;
}

static void pg_bind_blob(store_stmt *st, int i, const void *p, size_t n)
{
    if (i < 1 || i > st->nparams) return;
    st->values[i - 1] = p ? p : "";
    st->lengths[i - 1] = (int)n;
    st->formats[i - 1] = 1;
}

static void clear_result(store_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = st->nrows = 0;
}

/* Plain statement: prepare on first use, then execute with the binds. */
static int run_plain(store_stmt *st, eg_err *err)
{
    PGconn *c = conn_of(st->s);
    if (!st->prepared) {
        PGresult *r = PQprepare(c, st->name, st->sql, st->nparams, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        int rc = ok ? 0 : pg_fail(st->s, err, st->sql, r);
        PQclear(r);
        if (rc) return rc;
        st->prepared = 1;
    }
    st->res = PQexecPrepared(c, st->name, st->nparams, st->values, st->lengths, st->formats, 1);
    int status = PQresultStatus(st->res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        return pg_fail(st->s, err, st->sql, st->res);
    st->nrows = PQntuples(st->res);
    st->done = 1;                /* no more batches */
    return 0;
}

static int fetch(store_stmt *st, eg_err *err)
{
    char sql[64];
    clear_result(st);
    snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", FETCH_ROWS, st->name);
    st->res = PQexecParams(conn_of(st->s), sql, 0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(st->res) != PGRES_TUPLES_OK) return pg_fail(st->s, err, sql, st->res);
    st->nrows = PQntuples(st->res);
    if (st->nrows < FETCH_ROWS) st->done = 1;
    return 0;
}

static int open_cursor(store_stmt *st, eg_err *err)
{
    size_t n = strlen(st->sql) + 64;
    char *sql = malloc(n);
    int rc = 0;
    if (!sql) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    snprintf(sql, n, "DECLARE %s NO SCROLL CURSOR FOR %s", st->name, st->sql);
    PGresult *r = PQexecParams(conn_of(st->s), sql, st->nparams, NULL, st->values, st->lengths,
                               st->formats, 1);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) rc = pg_fail(st->s, err, st->sql, r);
    else st->cursor_open = 1;
    PQclear(r);
    free(sql);
    return rc ? rc : fetch(st, err);
}

static int pg_step(store_stmt *st, eg_err *err)
{
    int rc;
    if (!st->res && !st->done) {
        rc = st->stream ? open_cursor(st, err) : run_plain(st, err);
        if (rc) return rc;
    } else {
        st->row++;
    }
    if (st->row < st->nrows) return 1;
    if (st->done || !st->stream) return 0;
    if ((rc = fetch(st, err))) return rc;
    return st->nrows > 0 ? 1 : 0;
}

static int pg_col_null(store_stmt *st, int i)
{
    return PQgetisnull(st->res, st->row, i);
}

static int64_t pg_col_i64(store_stmt *st, int i)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue(st->res, st->row, i);
    int n = PQgetlength(st->res, st->row, i);
    uint64_t v = 0;
    if (PQgetisnull(st->res, st->row, i) || n > 8) return 0;
    for (int k = 0; k < n; k++) v = v << 8 | p[k];
    if (n > 0 && n < 8 && (p[0] & 0x80) && n != 1) v |= ~(uint64_t)0 << (8 * n); /* sign */
    int64_t s;
    memcpy(&s, &v, sizeof s);
    return s;
}

static const char *pg_col_text(store_stmt *st, int i)
{
    return PQgetvalue(st->res, st->row, i);
}

static const void *pg_col_blob(store_stmt *st, int i, size_t *n)
{
    *n = (size_t)PQgetlength(st->res, st->row, i);
    return PQgetvalue(st->res, st->row, i);
}

static void close_cursor(store_stmt *st)
{
    if (!st->cursor_open) return;
    char sql[48];
    snprintf(sql, sizeof sql, "CLOSE %s", st->name);
    PQclear(PQexec(conn_of(st->s), sql));
    st->cursor_open = 0;
}

static void pg_reset(store_stmt *st)
{
    clear_result(st);
    close_cursor(st);
    st->done = 0;
    for (int i = 0; i < STORE_MAX_PARAMS; i++) st->values[i] = NULL;
}

static void pg_finalize(store_stmt *st)
{
    if (!st) return;
    pg_reset(st);
    if (st->prepared) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
        PQclear(PQexec(conn_of(st->s), sql));
    }
    free(st->sql);
    free(st);
}

static int pg_begin(store *s, int write, eg_err *err)
{
    if (!write) return pg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
    int rc = pg_exec(s, "BEGIN", err);
    if (!rc) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%d)", STORE_PG_LOCK);
        rc = pg_exec(s, sql, err);
        if (rc) pg_exec(s, "ROLLBACK", NULL);
    }
    return rc;
}

static int pg_commit(store *s, eg_err *err)
{
    return pg_exec(s, "COMMIT", err);
}

static void pg_rollback(store *s)
{
    if (PQtransactionStatus(conn_of(s)) != PQTRANS_IDLE) pg_exec(s, "ROLLBACK", NULL);
}

static int pg_integrity(store *s, void (*report)(void *ctx, const char *msg), void *ctx,
                        eg_err *err)
{
    /* The server owns page-level integrity (checksums, WAL).  We check that
     * the connection works and that every table of the schema exists. */
    static const char sql[] =
        "SELECT t FROM unnest(ARRAY['meta','customer','feed','resource','link','series','block'])"
        " AS t WHERE to_regclass(t) IS NULL";
    PGresult *r = PQexec(conn_of(s), sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_fail(s, err, "integrity", r);
    } else {
        for (int i = 0; i < PQntuples(r); i++) {
            char msg[128];
            snprintf(msg, sizeof msg, "postgresql: table %s is missing", PQgetvalue(r, i, 0));
            if (report) report(ctx, msg);
        }
    }
    PQclear(r);
    return rc;
}

static void pg_close(store *s)
{
    pg_conn *pc = s->impl;
    if (!pc) return;
    PQfinish(pc->c);
    free(pc);
    s->impl = NULL;
}

static const char *const pg_schema[] = {
    "SET client_min_messages = warning",
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS customer(cid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " ext_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS feed(fid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " feed_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, head BYTEA NOT NULL,"
    " imported BIGINT NOT NULL, entries BIGINT NOT NULL, readings BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS resource(rid BIGINT PRIMARY KEY, kind BIGINT NOT NULL,"
    " espi_id TEXT NOT NULL UNIQUE, self_href TEXT NOT NULL, up_self TEXT NOT NULL,"
    " customer BIGINT REFERENCES customer(cid), start BIGINT, duration BIGINT,"
    " published BIGINT, updated BIGINT, hash BIGINT NOT NULL, body BYTEA NOT NULL)",
    "CREATE INDEX IF NOT EXISTS resource_self ON resource(self_href)",
    "CREATE INDEX IF NOT EXISTS resource_up ON resource(up_self, kind)",
    "CREATE TABLE IF NOT EXISTS link(rid BIGINT NOT NULL REFERENCES resource(rid)"
    " ON DELETE CASCADE, href TEXT NOT NULL, PRIMARY KEY(rid, href))",
    "CREATE TABLE IF NOT EXISTS series(sid BIGINT PRIMARY KEY, href TEXT NOT NULL UNIQUE,"
    " up_self TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS series_up ON series(up_self)",
    "CREATE TABLE IF NOT EXISTS block(bid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " sid BIGINT NOT NULL REFERENCES series(sid), id BYTEA NOT NULL, start BIGINT NOT NULL,"
    " duration BIGINT, published BIGINT, updated BIGINT, n BIGINT NOT NULL,"
    " hash BIGINT NOT NULL, extra BYTEA, data BYTEA NOT NULL, UNIQUE(id, start))",
    "CREATE INDEX IF NOT EXISTS block_series ON block(sid, start)",
    NULL};

static const store_ops pg_ops = {
    "postgresql", pg_schema,    pg_exec,      pg_prepare,  pg_bind_i64, pg_bind_null,
    pg_bind_text, pg_bind_blob, pg_step,      pg_col_null, pg_col_i64,  pg_col_text,
    pg_col_blob,  pg_reset,     pg_finalize,  pg_begin,    pg_commit,   pg_rollback,
    pg_integrity, pg_close,
};

/* Server NOTICEs ("relation ... already exists, skipping") are not for users. */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int store_pg_connect(store *s, const char *conninfo, eg_err *err)
{
    pg_conn *pc = calloc(1, sizeof *pc);
    int rc = 0;
    if (!pc) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    pc->c = PQconnectdb(conninfo);
    if (!pc->c || PQstatus(pc->c) != CONNECTION_OK) {
        char msg[EG_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", pc->c ? PQerrorMessage(pc->c) : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        rc = eg_errf(err, EG_ECONFIG, NULL, 0, 0,
                     "cannot connect to PostgreSQL: %s (is the server running and the URL "
                     "right?)", msg);
        PQfinish(pc->c);
        free(pc);
        return rc;
    }
    PQsetNoticeProcessor(pc->c, quiet_notice, NULL);
    s->ops = &pg_ops;
    s->impl = pc;
    return 0;
}
