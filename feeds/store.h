/* store.h -- the feed store: Green Button data in SQLite or PostgreSQL.
 *
 * One interface, two backends.  A backend is a small vtable of SQL
 * operations (store_ops: exec, prepare/bind/step/column, transactions, an
 * engine integrity check); everything ESPI-specific -- the import gate,
 * idempotent upserts, the export order, the query parameters, `db check`
 * -- is written once in store.c on top of it, so both engines behave the
 * same and one test suite covers both.  SQL is written in the common
 * dialect of SQLite 3.40 and PostgreSQL 15 (ON CONFLICT, RETURNING) with
 * numbered parameters ?1, ?2 ... which the PostgreSQL backend turns into
 * $1, $2; each backend supplies its own CREATE TABLE text.
 *
 * Data model (store.c has the DDL):
 *   resource  one row per UsagePoint, MeterReading, ReadingType,
 *             LocalTimeParameters, UsageSummary, ElectricPowerQualitySummary:
 *             entry id, self href, published, updated, owning UsagePoint,
 *             and a tagged blob of the envelope + fields (codec.h).
 *   series    one row per IntervalBlock collection (the blocks' up href,
 *             ".../MeterReading/{id}/IntervalBlock").
 *   block     one row per IntervalBlock: packed id, start, duration,
 *             published, updated, count, and ALL its readings in one blob.
 *   customer  retail customers; usage points point at one.
 *   feed      the import log (feed header, counts), which also orders export.
 * Row ids of resource and series come from one counter in import order, so
 * an export of a whole store writes entries in the order they were first
 * imported (byte-identical to the input for one feed whose ids we keep).
 *
 * Import (store_import_file) is ONE transaction per feed and runs the
 * validation pass (reader + schema + rules, as `espigate validate`) in the
 * same streaming pass: rows are written as entries arrive, and the first
 * error makes the import stop writing and roll back at the end, after the
 * reader has reported every finding.  Re-importing the same feed changes
 * nothing; an entry whose content differs or whose updated is later
 * replaces the stored one in place.
 *
 * Readers never block the importer: SQLite runs in WAL mode with a busy
 * timeout, PostgreSQL reads under a REPEATABLE READ snapshot; queries run
 * as cursors (sqlite3_step, PostgreSQL DECLARE/FETCH in batches), so memory
 * does not grow with the result. */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "err.h"
#include "espi.h"
#include "writer.h"

#define STORE_DEFAULT_URL "sqlite:espigate.db"
#define STORE_URL_MAX 1024

typedef struct store store;
typedef struct store_stmt store_stmt;

/* A backend.  Bind indexes are 1-based, column indexes 0-based.  Bound
 * text and blobs are borrowed and must stay valid until the next step.
 * Text and blobs returned by col_* are valid until the next
 * step/reset/finalize.  At most STORE_MAX_PARAMS parameters. */
#define STORE_MAX_PARAMS 16
typedef struct store_ops {
    const char *name;                    /* "sqlite", "postgresql" */
    const char *const *schema;           /* CREATE statements, NULL-terminated */
    int (*exec)(store *s, const char *sql, eg_err *err);
    /* stream: the statement may return many rows and must not buffer them
     * all (PostgreSQL: a cursor, so it needs a transaction). */
    int (*prepare)(store *s, const char *sql, int stream, store_stmt **out, eg_err *err);
    void (*bind_i64)(store_stmt *st, int i, int64_t v);
    void (*bind_null)(store_stmt *st, int i);
    void (*bind_text)(store_stmt *st, int i, const char *v);
    void (*bind_blob)(store_stmt *st, int i, const void *p, size_t n);
    /* 1: a row is ready, 0: done, < 0: error (EG_E*, err filled). */
    int (*step)(store_stmt *st, eg_err *err);
    int (*col_null)(store_stmt *st, int i);
    int64_t (*col_i64)(store_stmt *st, int i);
    const char *(*col_text)(store_stmt *st, int i);
    const void *(*col_blob)(store_stmt *st, int i, size_t *n);
    void (*reset)(store_stmt *st);       /* ready to bind and step again */
    void (*finalize)(store_stmt *st);    /* NULL ok */
    /* write: the single-writer lock; else a consistent read snapshot. */
    int (*begin)(store *s, int write, eg_err *err);
    int (*commit)(store *s, eg_err *err);
    void (*rollback)(store *s);
    /* Engine-level structure check; each problem goes to report(). */
    int (*integrity)(store *s, void (*report)(void *ctx, const char *msg), void *ctx,
                     eg_err *err);
    void (*close)(store *s);
} store_ops;

struct store {
    const store_ops *ops;
    void *impl;                          /* the backend's connection */
    char url[STORE_URL_MAX];
};

/* Backends: open a connection and fill s->ops/s->impl.  Used by store_open. */
int store_sqlite_connect(store *s, const char *path, eg_err *err);
int store_pg_connect(store *s, const char *conninfo, eg_err *err);

/* Open the store at url: "sqlite:PATH" (or a plain path), or
 * "postgresql://..." / "postgres://..." (libpq URI).  Creates the schema
 * when the database is empty.  *out is freed with store_close().  Returns
 * 0, EG_EUSAGE for an unknown scheme, EG_ECONFIG/EG_EIO when the database
 * cannot be opened (the message says why). */
int store_open(const char *url, store **out, eg_err *err);
void store_close(store *s);

/* ---- import ------------------------------------------------------------- */

typedef struct store_import_opts {
    const char *customer;        /* assign new usage points to this customer id, or NULL */
    espi_diag_cb diag;           /* validation findings, may be NULL */
    void (*progress)(void *ctx, unsigned long long bytes);
    void *ctx;
    /* Called (inside the import, may be NULL) for every entry inserted or
     * replaced, with the self href of the UsagePoint it belongs to ("" when
     * unknown): who to notify once the import has committed. */
    void (*changed)(void *ctx, const char *usage_point_self);
} store_import_opts;

typedef struct store_import_result {
    long entries;                /* resources read */
    long inserted, replaced, unchanged, stale, ignored;
    long long readings;          /* interval readings read */
    long errors, warnings;       /* validation findings */
    int rejected;                /* 1: invalid feed, nothing was stored */
} store_import_result;

/* Validate and import one feed file in one transaction.  Returns 0 when
 * stored, EG_EINVALID when the feed has errors (res->rejected, findings
 * went to o->diag, the store is unchanged), EG_EDATA for malformed XML,
 * EG_ENOINPUT, or a database error.  o may be NULL. */
int store_import_file(store *s, const char *path, const store_import_opts *o,
                      store_import_result *res, eg_err *err);

/* ---- queries and export ------------------------------------------------- */

/* Which entries to return (ESPI query parameters; NOTES.md section 3).
 * Times are UTC seconds, ESPI_NONE = unbounded.  from/to select blocks and
 * summaries overlapping [from, to); entries without a time span always pass. */
typedef struct store_query {
    const char *usage_point;     /* entry id, bare id or self href; NULL = all */
    const char *customer;        /* customer id; NULL = all */
    int64_t from, to;
    int64_t published_min, published_max, updated_min, updated_max;
    long start_index;            /* 1-based first entry to return (default 1) */
    long max_results;            /* 0 = no limit */
} store_query;

void store_query_init(store_query *q);

/* Stream the selected entries in store order to cb (like the reader's
 * callback: the resource and its entry are valid during the call only;
 * IntervalBlock readings live in a reused buffer).  head (may be NULL)
 * is called once first with the feed header to use.  Runs in one read
 * snapshot.  Returns 0, EG_EUSAGE when the usage point or customer does
 * not exist, a database error, or cb's code. */
int store_select(store *s, const store_query *q,
                 int (*head)(void *ctx, const espi_feed_head *h, eg_err *err),
                 int (*cb)(void *ctx, const espi_resource *r, eg_err *err), void *ctx,
                 eg_err *err);

/* store_select into a writer as one Atom feed (begin_feed..end_feed).
 * The caller opens and closes w.  *entries (may be NULL) gets the count. */
int store_export(store *s, const store_query *q, espi_writer *w, long *entries, eg_err *err);

/* ---- customers ---------------------------------------------------------- */

/* Add a retail customer (id unique, name may be ""); EG_EUSAGE if it exists. */
int store_customer_add(store *s, const char *id, const char *name, eg_err *err);
/* Each customer with its number of usage points, ordered by id. */
int store_customer_list(store *s,
                        int (*cb)(void *ctx, const char *id, const char *name, long usage_points),
                        void *ctx, eg_err *err);

/* ---- integrity ---------------------------------------------------------- */

typedef struct store_check_result {
    long resources, blocks, series, customers, feeds;
    long long readings;
    long problems;               /* damage: a row that does not decode, a bad hash ... */
    long orphans;                /* entries whose parent is not stored (not damage) */
} store_check_result;

/* Check the engine's structures and every stored row: blobs decode, counts
 * and hashes match, blocks belong to a series, summaries/blocks to a usage
 * point that exists (missing parents are reported but are not damage).
 * Each problem goes to report (may be NULL).  Returns 0 when the check ran
 * (see res->problems), or a database error. */
int store_check(store *s, void (*report)(void *ctx, const char *msg), void *ctx,
                store_check_result *res, eg_err *err);

/* ---- narrowed queries and lookups (the ESPI resource server) ------------- */

/* What store_select_narrow keeps of a store_select: entries of one kind
 * only, and for IntervalBlocks only the blocks of one MeterReading. */
typedef struct store_narrow {
    espi_resource_type kind;     /* ESPI_RES_UNKNOWN = every kind */
    const char *meter_reading;   /* IntervalBlocks of this MeterReading only (entry id,
                                  * bare id or self href); NULL = all */
} store_narrow;

/* store_select restricted by n (NULL = no restriction; then it is exactly
 * store_select).  The kind filter runs in SQL, so start_index/max_results
 * page through the narrowed entries; a kind other than IntervalBlock opens
 * no block cursor at all (a UsagePoint list never decodes readings).
 * Returns what store_select returns, and EG_EUSAGE when n->meter_reading
 * is not stored. */
int store_select_narrow(store *s, const store_query *q, const store_narrow *n,
                        int (*head)(void *ctx, const espi_feed_head *h, eg_err *err),
                        int (*cb)(void *ctx, const espi_resource *r, eg_err *err), void *ctx,
                        eg_err *err);

/* *exists = 1 when a retail customer with this id is stored.  Returns 0 or
 * a database error. */
int store_customer_exists(store *s, const char *id, int *exists, eg_err *err);

/* ---- small lookups -------------------------------------------------------- */

/* The store's settings table: value of key into out ("" when unset). */
int store_meta_get(store *s, const char *key, char *out, size_t size, eg_err *err);
/* Set key to value in its own write transaction. */
int store_meta_set(store *s, const char *key, const char *value, eg_err *err);
/* The retail customer (ext id) owning the UsagePoint with this self href;
 * "" when it has none or is not stored. */
int store_usage_point_customer(store *s, const char *up_self, char *out, size_t size,
                               eg_err *err);

#endif
