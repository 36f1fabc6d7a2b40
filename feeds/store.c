/* store.c -- the feed store's logic, written once over store_ops.
 *
 * Import.  One streaming pass: the reader (with our schema checker) hands
 * each resource to the semantic rules AND to the writer of rows, inside one
 * write transaction.  The first validation error switches writing off (the
 * pass continues so every finding is reported, as `espigate validate`
 * would); at the end an invalid feed is rolled back, a valid one
 * committed.  A killed importer leaves an uncommitted transaction, which
 * the engine discards: each feed is in the store whole or not at all.
 *
 * Upserts.  Every entry is looked up by its id.  Same content hash and no
 * later updated: nothing is written (re-import is a no-op).  Different
 * content or a later updated: the row is replaced IN PLACE (its row id, and
 * so its export position, stays) and its updated becomes the entry's, or
 * -- when the entry does not say it is newer -- the import time (at least
 * old + 1 s), so `updated-min` queries see the change.  An entry whose
 * updated is EARLIER than the stored one is stale and ignored.
 *
 * IntervalBlocks.  A block is known by its entry id AND its interval start:
 * one entry may carry several IntervalBlocks (the GBA sample files put a
 * MeterReading's 14 days in one entry).  A block row holds its readings packed (codec.c) plus
 * only what cannot be derived: its self href is "{series href}/{bare id}"
 * and its up href the series href unless an `extra` blob says otherwise,
 * so a 96-reading day costs one short row (~3 bytes a reading on disk).
 *
 * Order.  resource.rid and series.sid come from one counter in import
 * order.  A query merges the two ordered cursors (resources by rid, block
 * series by sid) and expands each series into its blocks by start time, so
 * the export of one imported feed lists entries in the original order
 * (blocks of one MeterReading are contiguous in every feed we know), and
 * no cursor needs a sort: memory stays flat whatever the result size. */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "reader.h"
#include "rules.h"

#define SCHEMA_VERSION "1"
#define MAX_BLOCK_READINGS 10000000u

/* ---- small helpers -------------------------------------------------------- */

static int prep(store *s, const char *sql, int stream, store_stmt **st, eg_err *err)
{
    return s->ops->prepare(s, sql, stream, st, err);
}

static void bind_opt(store *s, store_stmt *st, int i, int64_t v)
{
    if (v == ESPI_NONE) s->ops->bind_null(st, i);
    else s->ops->bind_i64(st, i, v);
}

static int64_t col_opt(store *s, store_stmt *st, int i)
{
    return s->ops->col_null(st, i) ? ESPI_NONE : s->ops->col_i64(st, i);
}

static int64_t u2i(uint64_t u)
{
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Run a statement that returns at most one integer; *out = ESPI_NONE when
 * no row or NULL.  text (may be NULL) is bound to ?1. */
static int query_i64(store *s, const char *sql, const char *text, int64_t *out, eg_err *err)
{
    store_stmt *st = NULL;
    int rc = prep(s, sql, 0, &st, err);
    *out = ESPI_NONE;
    if (rc) goto done;
    if (text) s->ops->bind_text(st, 1, text);
    rc = s->ops->step(st, err);
    if (rc == 1) {
        *out = col_opt(s, st, 0);
        rc = 0;
    }
done:
    s->ops->finalize(st);
    return rc;
}

/* The self href of the UsagePoint that href lives under:
 * ".../UsagePoint/{id}" (without what follows), or "" when none. */
static void up_self_of(const char *href, char *out, size_t size)
{
    const char *m = strstr(href, "/UsagePoint/");
    out[0] = '\0';
    if (!m) return;
    const char *id = m + strlen("/UsagePoint/");
    size_t n = (size_t)(id - href) + strcspn(id, "/?#");
    if (n >= size || id[0] == '\0' || id[0] == '/') return;
    memcpy(out, href, n);
    out[n] = '\0';
}

/* The id as it appears in hrefs: without "urn:uuid:". */
static const char *bare_id(const char *id)
{
    return strncmp(id, "urn:uuid:", 9) == 0 ? id + 9 : id;
}

static int64_t now_utc(void)
{
    return (int64_t)time(NULL);
}

/* ---- open, schema --------------------------------------------------------- */

/* 1 when the store already has this schema version: then opening needs no
 * write transaction, so a reader (a server stream) opening its own
 * connection never waits for an import holding the write lock. */
static int schema_current(store *s)
{
    store_stmt *st = NULL;
    eg_err ignored;
    int ok = 0;
    if (prep(s, "SELECT value FROM meta WHERE key = 'schema_version'", 0, &st, &ignored) == 0 &&
        s->ops->step(st, &ignored) == 1)
        ok = strcmp(s->ops->col_text(st, 0), SCHEMA_VERSION) == 0;
    s->ops->finalize(st);
    return ok;
}

static int ensure_schema(store *s, eg_err *err)
{
    int64_t dummy;
    if (schema_current(s)) return 0;
    int rc = s->ops->begin(s, 1, err);
    if (rc) return rc;
    for (const char *const *q = s->ops->schema; *q && !rc; q++) rc = s->ops->exec(s, *q, err);
    if (rc) goto done;
    store_stmt *st = NULL;
    rc = prep(s, "SELECT value FROM meta WHERE key = 'schema_version'", 0, &st, err);
    if (!rc && (rc = s->ops->step(st, err)) == 1) {
        if (strcmp(s->ops->col_text(st, 0), SCHEMA_VERSION) != 0)
            rc = eg_errf(err, EG_ECONFIG, NULL, 0, 0,
                         "store schema version %s, this espigate knows %s: use a matching "
                         "espigate or export with the old one and import here",
                         s->ops->col_text(st, 0), SCHEMA_VERSION);
        else rc = 0;
    } else if (rc == 0) {
        rc = query_i64(s, "INSERT INTO meta(key, value) VALUES('schema_version', '" SCHEMA_VERSION
                          "')", NULL, &dummy, err);
    }
    s->ops->finalize(st);
done:
    if (rc) s->ops->rollback(s);
    else rc = s->ops->commit(s, err);
    return rc;
}

int store_open(const char *url, store **out, eg_err *err)
{
    store *s = calloc(1, sizeof *s);
    int rc = 0;
    *out = NULL;
    if (!s) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    if (strlen(url) >= sizeof s->url) {
        rc = eg_errf(err, EG_EUSAGE, NULL, 0, 0, "database URL longer than %d bytes",
                     STORE_URL_MAX - 1);
        goto done;
    }
    snprintf(s->url, sizeof s->url, "%s", url);
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
        rc = store_pg_connect(s, url, err);
    } else if (strncmp(url, "sqlite:", 7) == 0) {
        rc = store_sqlite_connect(s, url + 7, err);
    } else if (strstr(url, "://")) {
        rc = eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                     "database URL '%s': expected sqlite:PATH or postgresql://...", url);
    } else {
        rc = store_sqlite_connect(s, url, err);
    }
    if (rc) goto done;
    rc = ensure_schema(s, err);
done:
    if (rc) store_close(s);
    else *out = s;
    return rc;
}

void store_close(store *s)
{
    if (!s) return;
    if (s->ops) s->ops->close(s);
    free(s);
}

/* ---- import --------------------------------------------------------------- */

enum { ST_RES_FIND, ST_RES_INS, ST_RES_UPD, ST_LINK_DEL, ST_LINK_INS, ST_SER_FIND, ST_SER_INS,
       ST_BLK_FIND, ST_BLK_INS, ST_BLK_UPD, ST_UP_CUST, ST_COUNT };

static const char *const import_sql[ST_COUNT] = {
    [ST_RES_FIND] = "SELECT rid, hash, updated FROM resource WHERE espi_id = ?1",
    [ST_RES_INS] = "INSERT INTO resource(rid, kind, espi_id, self_href, up_self, customer, start,"
                   " duration, published, updated, hash, body)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [ST_RES_UPD] = "UPDATE resource SET kind = ?2, espi_id = ?3, self_href = ?4, up_self = ?5,"
                   " customer = COALESCE(?6, customer), start = ?7, duration = ?8,"
                   " published = ?9, updated = ?10, hash = ?11, body = ?12 WHERE rid = ?1",
    [ST_LINK_DEL] = "DELETE FROM link WHERE rid = ?1",
    [ST_LINK_INS] = "INSERT INTO link(rid, href) VALUES(?1, ?2) ON CONFLICT DO NOTHING",
    [ST_SER_FIND] = "SELECT sid FROM series WHERE href = ?1",
    [ST_SER_INS] = "INSERT INTO series(sid, href, up_self) VALUES(?1, ?2, ?3)",
    [ST_BLK_FIND] = "SELECT bid, hash, updated FROM block WHERE id = ?1 AND start = ?2",
    [ST_BLK_INS] = "INSERT INTO block(sid, id, start, duration, published, updated, n, hash,"
                   " extra, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_BLK_UPD] = "UPDATE block SET sid = ?1, id = ?2, start = ?3, duration = ?4,"
                   " published = ?5, updated = ?6, n = ?7, hash = ?8, extra = ?9, data = ?10"
                   " WHERE bid = ?11",
    [ST_UP_CUST] = "UPDATE resource SET customer = ?2 WHERE rid = ?1",
};

/* extra blob flags (first varint) */
enum { EXTRA_NO_UP = 1, EXTRA_SELF = 2 };

typedef struct importer {
    store *s;
    const store_import_opts *o;
    store_import_result *res;
    eg_err *err;
    espi_rules *rules;
    int rc;                          /* first database error */
    int64_t next_seq, now, cid;      /* cid ESPI_NONE: no customer given */
    store_stmt *st[ST_COUNT];
    store_buf body, data;
    char series_href[ESPI_URI_MAX];
    int64_t series_sid;
    espi_feed_head head;
    int have_head;
} importer;

typedef enum put_kind { PUT_INSERT, PUT_REPLACE, PUT_SAME, PUT_STALE } put_kind;

/* What to do with an entry given what is stored (see the file comment). */
static put_kind decide(int found, uint64_t old_hash, int64_t old_upd, uint64_t new_hash,
                       int64_t new_upd, int64_t now, int64_t *store_upd)
{
    *store_upd = new_upd;
    if (!found) return PUT_INSERT;
    int later = new_upd != ESPI_NONE && (old_upd == ESPI_NONE || new_upd > old_upd);
    if (old_hash == new_hash && !later) return PUT_SAME;
    if (!later && new_upd != ESPI_NONE && old_upd != ESPI_NONE && new_upd < old_upd)
        return PUT_STALE;
    if (!later) *store_upd = (old_upd == ESPI_NONE || now > old_upd) ? now : old_upd + 1;
    return PUT_REPLACE;
}

static void count(importer *im, put_kind k)
{
    switch (k) {
    case PUT_INSERT: im->res->inserted++; break;
    case PUT_REPLACE: im->res->replaced++; break;
    case PUT_SAME: im->res->unchanged++; break;
    case PUT_STALE: im->res->stale++; break;
    }
}

/* Look an entry up by key (?1 text or blob); found: *id, *hash, *upd. */
static int find_row(importer *im, store_stmt *st, int *found, int64_t *id, uint64_t *hash,
                    int64_t *upd)
{
    store *s = im->s;
    int rc = s->ops->step(st, im->err);
    *found = rc == 1;
    if (rc == 1) {
        int64_t h = s->ops->col_i64(st, 1);
        *id = s->ops->col_i64(st, 0);
        memcpy(hash, &h, sizeof *hash);
        *upd = col_opt(s, st, 2);
        rc = 0;
    }
    s->ops->reset(st);
    return rc;
}

static int run_stmt(importer *im, store_stmt *st)
{
    int rc = im->s->ops->step(st, im->err);
    im->s->ops->reset(st);
    return rc < 0 ? rc : 0;
}

static int put_links(importer *im, int64_t rid, const espi_entry *e, int replace)
{
    store *s = im->s;
    int rc = 0;
    if (replace) {
        s->ops->bind_i64(im->st[ST_LINK_DEL], 1, rid);
        if ((rc = run_stmt(im, im->st[ST_LINK_DEL]))) return rc;
    }
    for (int i = 0; i < e->n_related && i < ESPI_MAX_RELATED && !rc; i++) {
        if (!e->related[i].href[0]) continue;
        s->ops->bind_i64(im->st[ST_LINK_INS], 1, rid);
        s->ops->bind_text(im->st[ST_LINK_INS], 2, e->related[i].href);
        rc = run_stmt(im, im->st[ST_LINK_INS]);
    }
    return rc;
}

static void resource_span(const espi_resource *r, int64_t *start, int64_t *duration)
{
    const espi_interval *iv = NULL;
    if (r->type == ESPI_RES_USAGE_SUMMARY) iv = &r->u.usage_summary.billing_period;
    if (r->type == ESPI_RES_POWER_QUALITY_SUMMARY) iv = &r->u.power_quality_summary.summary_interval;
    *start = iv && iv->duration != ESPI_NONE ? iv->start : ESPI_NONE;
    *duration = iv && iv->start != ESPI_NONE ? iv->duration : ESPI_NONE;
}

static int put_resource(importer *im, const espi_resource *r)
{
    store *s = im->s;
    const espi_entry *e = r->entry;
    char up_self[ESPI_URI_MAX];
    int64_t rid = 0, old_upd, upd, start, duration;
    uint64_t old_hash = 0, hash;
    int found, rc;

    store_buf_reset(&im->body);
    if (store_codec_entry_encode(&im->body, e, STORE_OMIT_SELF) ||
        store_codec_resource_encode(&im->body, r))
        return eg_errf(im->err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    hash = store_hash(store_hash(STORE_HASH_SEED, e->self.href, strlen(e->self.href)),
                      im->body.p, im->body.len);
    if (r->type == ESPI_RES_USAGE_POINT) snprintf(up_self, sizeof up_self, "%s", e->self.href);
    else up_self_of(e->self.href, up_self, sizeof up_self);
    if (!up_self[0]) up_self_of(e->up.href, up_self, sizeof up_self);
    resource_span(r, &start, &duration);

    s->ops->bind_text(im->st[ST_RES_FIND], 1, e->id);
    if ((rc = find_row(im, im->st[ST_RES_FIND], &found, &rid, &old_hash, &old_upd))) return rc;
    put_kind k = decide(found, old_hash, old_upd, hash, e->updated, im->now, &upd);
    count(im, k);
    if ((k == PUT_INSERT || k == PUT_REPLACE) && im->o && im->o->changed)
        im->o->changed(im->o->ctx, up_self);
    if (k == PUT_SAME || k == PUT_STALE) {
        if (r->type == ESPI_RES_USAGE_POINT && im->cid != ESPI_NONE) {
            s->ops->bind_i64(im->st[ST_UP_CUST], 1, rid);
            s->ops->bind_i64(im->st[ST_UP_CUST], 2, im->cid);
            return run_stmt(im, im->st[ST_UP_CUST]);
        }
        return 0;
    }
    store_stmt *st = im->st[k == PUT_INSERT ? ST_RES_INS : ST_RES_UPD];
    if (k == PUT_INSERT) rid = im->next_seq++;
    s->ops->bind_i64(st, 1, rid);
    s->ops->bind_i64(st, 2, r->type);
    s->ops->bind_text(st, 3, e->id);
    s->ops->bind_text(st, 4, e->self.href);
    s->ops->bind_text(st, 5, up_self);
    bind_opt(s, st, 6, r->type == ESPI_RES_USAGE_POINT ? im->cid : ESPI_NONE);
    bind_opt(s, st, 7, start);
    bind_opt(s, st, 8, duration);
    bind_opt(s, st, 9, e->published);
    bind_opt(s, st, 10, upd);
    s->ops->bind_i64(st, 11, u2i(hash));
    s->ops->bind_blob(st, 12, im->body.p, im->body.len);
    if ((rc = run_stmt(im, st))) return rc;
    return put_links(im, rid, e, k == PUT_REPLACE);
}

/* The series (IntervalBlock collection) of a block: its up href, else its
 * self href without the last segment, else "". */
static void series_href_of(const espi_entry *e, char *out, size_t size)
{
    if (e->up.href[0]) {
        snprintf(out, size, "%s", e->up.href);
        return;
    }
    const char *slash = strrchr(e->self.href, '/');
    size_t n = slash ? (size_t)(slash - e->self.href) : 0;
    if (n >= size) n = 0;
    memcpy(out, e->self.href, n);
    out[n] = '\0';
}

static int series_for(importer *im, const espi_entry *e, int64_t *sid)
{
    store *s = im->s;
    char href[ESPI_URI_MAX], up_self[ESPI_URI_MAX];
    int rc;
    *sid = 0;
    series_href_of(e, href, sizeof href);
    if (im->series_sid && strcmp(href, im->series_href) == 0) {
        *sid = im->series_sid;
        return 0;
    }
    s->ops->bind_text(im->st[ST_SER_FIND], 1, href);
    rc = s->ops->step(im->st[ST_SER_FIND], im->err);
    if (rc == 1) *sid = s->ops->col_i64(im->st[ST_SER_FIND], 0);
    s->ops->reset(im->st[ST_SER_FIND]);
    if (rc < 0) return rc;
    if (rc == 0) {
        *sid = im->next_seq++;
        up_self_of(href, up_self, sizeof up_self);
        s->ops->bind_i64(im->st[ST_SER_INS], 1, *sid);
        s->ops->bind_text(im->st[ST_SER_INS], 2, href);
        s->ops->bind_text(im->st[ST_SER_INS], 3, up_self);
        if ((rc = run_stmt(im, im->st[ST_SER_INS]))) return rc;
    }
    snprintf(im->series_href, sizeof im->series_href, "%s", href);
    im->series_sid = *sid;
    return 0;
}

/* Envelope parts of a block that cannot be derived from its series. */
static int block_extra(importer *im, const espi_entry *e, store_buf *out)
{
    char derived[ESPI_URI_MAX * 2];
    unsigned flags = 0, omit = STORE_OMIT_UP;
    snprintf(derived, sizeof derived, "%s/%s", im->series_href, bare_id(e->id));
    if (!e->up.href[0]) flags |= EXTRA_NO_UP;
    if (strcmp(derived, e->self.href) != 0) flags |= EXTRA_SELF;
    else omit |= STORE_OMIT_SELF;
    store_buf_varint(out, flags);
    return store_codec_entry_encode(out, e, omit);
}

static int put_block(importer *im, const espi_resource *r)
{
    store *s = im->s;
    const espi_entry *e = r->entry;
    const espi_interval_block *b = &r->u.interval_block;
    unsigned char id[STORE_ID_PACKED_MAX];
    int64_t sid, bid = 0, old_upd, upd;
    uint64_t old_hash = 0, hash = STORE_HASH_SEED;
    int found, rc;

    if ((rc = series_for(im, e, &sid))) return rc;
    size_t idlen = store_codec_id_pack(e->id, id);
    store_buf_reset(&im->body);
    store_buf_reset(&im->data);
    if (block_extra(im, e, &im->body) ||
        store_codec_block_encode(&im->data, b, im->err))
        return eg_errf(im->err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    int plain = im->body.len == 2 && im->body.p[0] == 0 && im->body.p[1] == 0;
    hash = store_hash(hash, &b->interval, sizeof b->interval);
    hash = store_hash(hash, im->series_href, strlen(im->series_href));
    if (!plain) hash = store_hash(hash, im->body.p, im->body.len);
    hash = store_hash(hash, im->data.p, im->data.len);

    s->ops->bind_blob(im->st[ST_BLK_FIND], 1, id, idlen);
    s->ops->bind_i64(im->st[ST_BLK_FIND], 2, b->interval.start);
    if ((rc = find_row(im, im->st[ST_BLK_FIND], &found, &bid, &old_hash, &old_upd))) return rc;
    put_kind k = decide(found, old_hash, old_upd, hash, e->updated, im->now, &upd);
    count(im, k);
    if (k == PUT_SAME || k == PUT_STALE) return 0;
    if (im->o && im->o->changed) {
        char up_self[ESPI_URI_MAX];
        up_self_of(im->series_href, up_self, sizeof up_self);
        im->o->changed(im->o->ctx, up_self);
    }
    store_stmt *st = im->st[k == PUT_INSERT ? ST_BLK_INS : ST_BLK_UPD];
    s->ops->bind_i64(st, 1, sid);
    s->ops->bind_blob(st, 2, id, idlen);
    s->ops->bind_i64(st, 3, b->interval.start); /* required: a block without one is invalid */
    bind_opt(s, st, 4, b->interval.duration);
    bind_opt(s, st, 5, e->published);
    bind_opt(s, st, 6, upd);
    s->ops->bind_i64(st, 7, (int64_t)b->n_readings);
    s->ops->bind_i64(st, 8, u2i(hash));
    if (plain) s->ops->bind_null(st, 9);
    else s->ops->bind_blob(st, 9, im->body.p, im->body.len);
    s->ops->bind_blob(st, 10, im->data.p, im->data.len);
    if (k == PUT_REPLACE) s->ops->bind_i64(st, 11, bid);
    return run_stmt(im, st);
}

static void on_diag(void *p, const espi_diag *d)
{
    importer *im = p;
    if (d->severity == ESPI_SEV_ERROR) im->res->errors++;
    else if (d->severity == ESPI_SEV_WARNING) im->res->warnings++;
    if (im->o && im->o->diag) im->o->diag(im->o->ctx, d);
}

static int on_head(void *p, const espi_feed_head *h, eg_err *err)
{
    importer *im = p;
    (void)err;
    espi_rules_feed_head(im->rules, h, 1);
    im->head = *h;
    im->have_head = 1;
    return 0;
}

static int on_resource(void *p, const espi_resource *r, eg_err *err)
{
    importer *im = p;
    int rc = 0;
    (void)err;
    im->res->entries++;
    if (r->type == ESPI_RES_INTERVAL_BLOCK)
        im->res->readings += (long long)r->u.interval_block.n_readings;
    espi_rules_resource(im->rules, r);
    if (im->res->errors) return 0; /* rejected: keep reading only to report */
    if (!r->entry || !r->entry->id[0]) {
        im->res->ignored++;
        return 0;
    }
    switch (r->type) {
    case ESPI_RES_INTERVAL_BLOCK: rc = put_block(im, r); break;
    case ESPI_RES_USAGE_POINT:
    case ESPI_RES_METER_READING:
    case ESPI_RES_READING_TYPE:
    case ESPI_RES_USAGE_SUMMARY:
    case ESPI_RES_POWER_QUALITY_SUMMARY:
    case ESPI_RES_LOCAL_TIME_PARAMETERS: rc = put_resource(im, r); break;
    default: im->res->ignored++; break; /* authorizations etc. are not usage data */
    }
    if (rc) im->rc = rc;
    return rc;
}

static void on_progress(void *p, unsigned long long bytes)
{
    importer *im = p;
    if (im->o && im->o->progress) im->o->progress(im->o->ctx, bytes);
}

/* Record the feed in the import log (only when it changed something). */
static int log_feed(importer *im, const char *path)
{
    store *s = im->s;
    store_stmt *st = NULL;
    store_buf h;
    espi_feed_head none;
    int rc;
    store_buf_init(&h);
    if (!im->have_head) {
        memset(&none, 0, sizeof none);
        none.updated = ESPI_NONE;
        snprintf(none.id, sizeof none.id, "file:%.100s", path);
    }
    const espi_feed_head *fh = im->have_head ? &im->head : &none;
    if (store_codec_head_encode(&h, fh)) {
        rc = eg_errf(im->err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    rc = prep(s,
              "INSERT INTO feed(feed_id, name, head, imported, entries, readings)"
              " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(feed_id) DO UPDATE SET"
              " name = excluded.name, head = excluded.head, imported = excluded.imported,"
              " entries = excluded.entries, readings = excluded.readings",
              0, &st, im->err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, fh->id);
    s->ops->bind_text(st, 2, path);
    s->ops->bind_blob(st, 3, h.p, h.len);
    s->ops->bind_i64(st, 4, im->now);
    s->ops->bind_i64(st, 5, im->res->entries);
    s->ops->bind_i64(st, 6, im->res->readings);
    rc = s->ops->step(st, im->err);
    if (rc > 0) rc = 0;
done:
    s->ops->finalize(st);
    store_buf_release(&h);
    return rc;
}

static int next_seq(store *s, int64_t *out, eg_err *err)
{
    int64_t a = ESPI_NONE, b = ESPI_NONE;
    int rc = query_i64(s, "SELECT MAX(rid) FROM resource", NULL, &a, err);
    if (!rc) rc = query_i64(s, "SELECT MAX(sid) FROM series", NULL, &b, err);
    if (a == ESPI_NONE) a = 0;
    if (b == ESPI_NONE) b = 0;
    *out = (a > b ? a : b) + 1;
    return rc;
}

int store_import_file(store *s, const char *path, const store_import_opts *o,
                      store_import_result *res, eg_err *err)
{
    importer im;
    espi_reader_opts ro;
    espi_read_stats stats;
    int rc, in_tx = 0;

    memset(res, 0, sizeof *res);
    memset(&im, 0, sizeof im);
    im.s = s;
    im.o = o;
    im.res = res;
    im.err = err;
    im.now = now_utc();
    im.cid = ESPI_NONE;
    store_buf_init(&im.body);
    store_buf_init(&im.data);

    if ((rc = s->ops->begin(s, 1, err))) goto done;
    in_tx = 1;
    if (o && o->customer) {
        rc = query_i64(s, "SELECT cid FROM customer WHERE ext_id = ?1", o->customer, &im.cid, err);
        if (rc) goto done;
        if (im.cid == ESPI_NONE) {
            rc = eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                         "no customer '%s' in the store (add it with: espigate customer add %s)",
                         o->customer, o->customer);
            goto done;
        }
    }
    if ((rc = next_seq(s, &im.next_seq, err))) goto done;
    for (int i = 0; i < ST_COUNT; i++)
        if ((rc = prep(s, import_sql[i], 0, &im.st[i], err))) goto done;
    im.rules = espi_rules_new(path, on_diag, &im);
    if (!im.rules) {
        rc = eg_errf(err, EG_ENOMEM, path, 0, 0, "out of memory");
        goto done;
    }
    espi_reader_opts_init(&ro);
    ro.check_schema = 1;
    espi_reader_cbs cbs = {&im, on_head, on_resource, on_diag, on_progress};
    rc = espi_read_file(path, &ro, &cbs, &stats, err);
    if (rc == 0) espi_rules_finish(im.rules);
    if (rc == 0 && im.rc) rc = im.rc;
    if (rc == EG_EDATA) res->rejected = 1;
    if (rc == 0 && res->errors) {
        res->rejected = 1;
        rc = eg_errf(err, EG_EINVALID, path, 0, 0,
                     "%ld validation error%s: feed rejected, nothing was stored (see "
                     "'espigate validate %s')",
                     res->errors, res->errors == 1 ? "" : "s", path);
    }
    if (rc == 0 && (res->inserted || res->replaced)) rc = log_feed(&im, path);
    if (rc == 0) {
        rc = s->ops->commit(s, err);
        in_tx = 0;
    }
done:
    for (int i = 0; i < ST_COUNT; i++) s->ops->finalize(im.st[i]);
    if (in_tx && rc) s->ops->rollback(s);
    espi_rules_free(im.rules);
    store_buf_release(&im.body);
    store_buf_release(&im.data);
    return rc;
}

/* ---- queries -------------------------------------------------------------- */

void store_query_init(store_query *q)
{
    memset(q, 0, sizeof *q);
    q->from = q->to = ESPI_NONE;
    q->published_min = q->published_max = q->updated_min = q->updated_max = ESPI_NONE;
    q->start_index = 1;
}

enum { SEL_ALL = 0, SEL_UP = 1, SEL_CUSTOMER = 2 };

/* Parameters shared by the resource and series cursors: ?1 mode, ?2 usage
 * point self, ?3 customer, ?4 from, ?5 to, ?6..?9 published/updated bounds
 * (the series cursor uses the first three; extra binds are ignored). */
#define SEL_RESOURCES_WHERE                                                                    \
    "SELECT rid, kind, espi_id, self_href, published, updated, body FROM resource r WHERE"     \
    " (?1 = 0"                                                                                 \
    " OR (?1 = 1 AND (r.up_self = ?2 OR r.self_href IN (SELECT l.href FROM link l"             \
    "   JOIN resource x ON x.rid = l.rid WHERE x.up_self = ?2)))"                              \
    " OR (?1 = 2 AND (r.up_self IN (SELECT u.self_href FROM resource u WHERE u.kind = 1"       \
    "   AND u.customer = ?3) OR r.self_href IN (SELECT l.href FROM link l"                     \
    "   JOIN resource x ON x.rid = l.rid JOIN resource u ON u.self_href = x.up_self"           \
    "   AND u.kind = 1 WHERE u.customer = ?3))))"                                              \
    " AND (r.start IS NULL OR r.duration IS NULL OR (r.start < ?5 AND r.start + r.duration > ?4))"\
    " AND COALESCE(r.published, 0) BETWEEN ?6 AND ?7"                                          \
    " AND COALESCE(r.updated, 0) BETWEEN ?8 AND ?9"

static const char sel_resources[] = SEL_RESOURCES_WHERE " ORDER BY r.rid";
/* store_select_narrow: ?10 = the one kind wanted (0 = every kind). */
static const char sel_resources_kind[] =
    SEL_RESOURCES_WHERE " AND (?10 = 0 OR r.kind = ?10) ORDER BY r.rid";

/* store_select_narrow: one MeterReading's IntervalBlock series, ?4 the
 * MeterReading's rid (its related links name the series), ?5 its self href
 * + "/IntervalBlock" (the conventional series href). */
static const char sel_series_mr[] =
    "SELECT sid, href FROM series s WHERE"
    " (?1 = 0 OR (?1 = 1 AND s.up_self = ?2) OR (?1 = 2 AND s.up_self IN"
    "  (SELECT u.self_href FROM resource u WHERE u.kind = 1 AND u.customer = ?3)))"
    " AND (s.href IN (SELECT l.href FROM link l WHERE l.rid = ?4) OR s.href = ?5)"
    " ORDER BY sid";

static const char sel_series[] =
    "SELECT sid, href FROM series s WHERE"
    " (?1 = 0 OR (?1 = 1 AND s.up_self = ?2) OR (?1 = 2 AND s.up_self IN"
    "  (SELECT u.self_href FROM resource u WHERE u.kind = 1 AND u.customer = ?3)))"
    " ORDER BY sid";

static const char sel_blocks[] =
    "SELECT id, start, duration, published, updated, n, extra, data FROM block WHERE sid = ?1"
    " AND (start IS NULL OR duration IS NULL OR (start < ?3 AND start + duration > ?2))"
    " AND COALESCE(published, 0) BETWEEN ?4 AND ?5"
    " AND COALESCE(updated, 0) BETWEEN ?6 AND ?7 ORDER BY start";

typedef struct selector {
    store *s;
    const store_query *q;
    int (*cb)(void *ctx, const espi_resource *r, eg_err *err);
    void *ctx;
    eg_err *err;
    int mode;
    char up_self[ESPI_URI_MAX];
    int64_t cid;
    long seen, sent;
    char last_block_id[ESPI_ID_MAX];
    espi_resource *res;
    espi_entry *entry;
    espi_interval_reading *readings;
    size_t cap;
    store_line_items li;
} selector;

static int64_t lo(int64_t v)
{
    return v == ESPI_NONE ? INT64_MIN + 1 : v;
}

static int64_t hi(int64_t v)
{
    return v == ESPI_NONE ? INT64_MAX : v;
}

static void bind_selection(selector *sel, store_stmt *st)
{
    store *s = sel->s;
    const store_query *q = sel->q;
    s->ops->bind_i64(st, 1, sel->mode);
    s->ops->bind_text(st, 2, sel->up_self);
    s->ops->bind_i64(st, 3, sel->cid == ESPI_NONE ? -1 : sel->cid);
    /* a span [start, start+duration) overlaps [from, to) */
    s->ops->bind_i64(st, 4, lo(q->from));
    s->ops->bind_i64(st, 5, hi(q->to));
    s->ops->bind_i64(st, 6, lo(q->published_min));
    s->ops->bind_i64(st, 7, hi(q->published_max));
    s->ops->bind_i64(st, 8, lo(q->updated_min));
    s->ops->bind_i64(st, 9, hi(q->updated_max));
}

/* Reset the envelope fields a decoder or the writer looks at (cheaper
 * than espi_entry_init's memset of ~20 KB per block). */
static void entry_reset(espi_entry *e)
{
    e->id[0] = e->title[0] = '\0';
    e->self.rel[0] = e->self.href[0] = e->self.type[0] = '\0';
    e->up.rel[0] = e->up.href[0] = e->up.type[0] = '\0';
    e->n_related = 0;
    e->published = e->updated = ESPI_NONE;
    e->line = 0;
}

/* Count an entry against start-index/max-results: 1 send it, 0 skip it,
 * EG_ESTOP when the page is full. */
static int paginate(selector *sel)
{
    const store_query *q = sel->q;
    if (q->max_results > 0 && sel->sent >= q->max_results) return EG_ESTOP;
    if (++sel->seen < (q->start_index > 0 ? q->start_index : 1)) return 0;
    sel->sent++;
    return 1;
}

static int emit_resource(selector *sel, store_stmt *st)
{
    store *s = sel->s;
    espi_entry *e = sel->entry;
    size_t n;
    int rc = paginate(sel);
    if (rc <= 0) return rc;
    entry_reset(e);
    snprintf(e->id, sizeof e->id, "%s", s->ops->col_text(st, 2));
    snprintf(e->self.href, sizeof e->self.href, "%s", s->ops->col_text(st, 3));
    if (e->self.href[0]) snprintf(e->self.rel, sizeof e->self.rel, "self");
    e->published = col_opt(s, st, 4);
    e->updated = col_opt(s, st, 5);
    const unsigned char *p = s->ops->col_blob(st, 6, &n), *end = p + n;
    if ((rc = store_codec_entry_decode(&p, end, e, sel->err))) return rc;
    rc = store_codec_resource_decode(&p, end, (espi_resource_type)s->ops->col_i64(st, 1),
                                     sel->res, &sel->li, sel->err);
    if (rc) return rc;
    if (p != end) return eg_errf(sel->err, EG_EDATA, NULL, 0, 0, "stored entry %s has trailing "
                                 "bytes; run 'espigate db check'", e->id);
    sel->res->entry = e;
    return sel->cb(sel->ctx, sel->res, sel->err);
}

/* Rebuild a block's envelope from its row and series href. */
static int block_entry(selector *sel, store_stmt *st, const char *series, espi_entry *e)
{
    store *s = sel->s;
    size_t idn, xn;
    const void *id = s->ops->col_blob(st, 0, &idn);
    entry_reset(e);
    if (store_codec_id_unpack(id, idn, e->id))
        return eg_errf(sel->err, EG_EDATA, NULL, 0, 0, "a stored block id is damaged");
    e->published = col_opt(s, st, 3);
    e->updated = col_opt(s, st, 4);
    uint64_t flags = 0;
    if (!s->ops->col_null(st, 6)) {
        const unsigned char *p = s->ops->col_blob(st, 6, &xn), *end = p + xn;
        if (store_varint_get(&p, end, &flags) || store_codec_entry_decode(&p, end, e, sel->err) ||
            p != end)
            return eg_errf(sel->err, EG_EDATA, NULL, 0, 0, "block %s: stored envelope damaged",
                           e->id);
    }
    if (!(flags & EXTRA_NO_UP)) {
        snprintf(e->up.href, sizeof e->up.href, "%s", series);
        snprintf(e->up.rel, sizeof e->up.rel, "up");
    }
    if (!(flags & EXTRA_SELF)) {
        int w = snprintf(e->self.href, sizeof e->self.href, "%s/%s", series, bare_id(e->id));
        if (w < 0 || (size_t)w >= sizeof e->self.href)
            return eg_errf(sel->err, EG_EDATA, NULL, 0, 0, "block %s: self href too long", e->id);
        snprintf(e->self.rel, sizeof e->self.rel, "self");
    }
    return 0;
}

static int emit_block(selector *sel, store_stmt *st, const char *series)
{
    store *s = sel->s;
    espi_resource *r = sel->res;
    store_block_dec dec;
    uint64_t n;
    size_t len;
    int rc = paginate(sel);
    if (rc <= 0) return rc;
    if ((rc = block_entry(sel, st, series, sel->entry))) return rc;
    if (strcmp(sel->entry->id, sel->last_block_id) == 0) {
        /* One entry held several blocks (the GBA samples do this); the
         * writer writes one block per entry, so the later ones get ids of
         * their own, derived from the shared id and their start. */
        char key[ESPI_ID_MAX + 48];
        espi_entry *e = sel->entry;
        snprintf(key, sizeof key, "espigate:block:%s:%lld", e->id, (long long)col_opt(s, st, 1));
        espi_uuid5(key, e->id);
        int w = snprintf(e->self.href, sizeof e->self.href, "%s/%s", series, bare_id(e->id));
        if (w < 0 || (size_t)w >= sizeof e->self.href)
            return eg_errf(sel->err, EG_EDATA, NULL, 0, 0, "block %s: self href too long", e->id);
    } else {
        snprintf(sel->last_block_id, sizeof sel->last_block_id, "%s", sel->entry->id);
    }
    memset(&r->u.interval_block, 0, sizeof r->u.interval_block);
    r->type = ESPI_RES_INTERVAL_BLOCK;
    r->entry = sel->entry;
    r->u.interval_block.interval.start = col_opt(s, st, 1);
    r->u.interval_block.interval.duration = col_opt(s, st, 2);
    const void *blob = s->ops->col_blob(st, 7, &len);
    rc = store_codec_block_begin(&dec, blob, len, r->u.interval_block.interval.start, &n, sel->err);
    if (rc) return rc;
    if (n != (uint64_t)s->ops->col_i64(st, 5) || n > MAX_BLOCK_READINGS)
        return eg_errf(sel->err, EG_EDATA, NULL, 0, 0, "block %s: reading count damaged",
                       sel->entry->id);
    if (n > sel->cap) {
        espi_interval_reading *v = realloc(sel->readings, (size_t)n * sizeof *v);
        if (!v) return eg_errf(sel->err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        sel->readings = v;
        sel->cap = (size_t)n;
    }
    for (uint64_t i = 0; i < n; i++)
        if ((rc = store_codec_block_next(&dec, &sel->readings[i], sel->err)) != 1)
            return rc ? rc : eg_errf(sel->err, EG_EDATA, NULL, 0, 0, "block %s: too few readings",
                                     sel->entry->id);
    if ((rc = store_codec_block_next(&dec, &sel->readings[0], sel->err)) != 0)
        return rc < 0 ? rc : eg_errf(sel->err, EG_EDATA, NULL, 0, 0,
                                     "block %s: more readings than its count", sel->entry->id);
    r->u.interval_block.readings = sel->readings;
    r->u.interval_block.n_readings = (size_t)n;
    return sel->cb(sel->ctx, r, sel->err);
}

static int emit_series(selector *sel, store_stmt *blocks, int64_t sid, const char *series)
{
    store *s = sel->s;
    const store_query *q = sel->q;
    int rc;
    s->ops->bind_i64(blocks, 1, sid);
    s->ops->bind_i64(blocks, 2, lo(q->from));
    s->ops->bind_i64(blocks, 3, hi(q->to));
    s->ops->bind_i64(blocks, 4, lo(q->published_min));
    s->ops->bind_i64(blocks, 5, hi(q->published_max));
    s->ops->bind_i64(blocks, 6, lo(q->updated_min));
    s->ops->bind_i64(blocks, 7, hi(q->updated_max));
    while ((rc = s->ops->step(blocks, sel->err)) == 1)
        if ((rc = emit_block(sel, blocks, series))) break;
    s->ops->reset(blocks);
    return rc;
}

/* Resolve --usage-point / --customer into the selection mode. */
static int resolve_selection(selector *sel)
{
    store *s = sel->s;
    const store_query *q = sel->q;
    store_stmt *st = NULL;
    int rc = 0;
    sel->cid = ESPI_NONE;
    if (q->customer) {
        sel->mode = SEL_CUSTOMER;
        rc = query_i64(s, "SELECT cid FROM customer WHERE ext_id = ?1", q->customer, &sel->cid,
                       sel->err);
        if (!rc && sel->cid == ESPI_NONE)
            rc = eg_errf(sel->err, EG_EUSAGE, NULL, 0, 0,
                         "no customer '%s' in the store (see 'espigate customer list')",
                         q->customer);
    }
    if (rc || !q->usage_point) return rc;
    sel->mode = SEL_UP;
    rc = prep(s,
              "SELECT self_href, customer FROM resource WHERE kind = 1 AND (espi_id = ?1"
              " OR espi_id = 'urn:uuid:' || ?1 OR self_href = ?1"
              " OR self_href LIKE '%/UsagePoint/' || ?1) ORDER BY rid",
              0, &st, sel->err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, q->usage_point);
    rc = s->ops->step(st, sel->err);
    if (rc == 1) {
        snprintf(sel->up_self, sizeof sel->up_self, "%s", s->ops->col_text(st, 0));
        if (sel->cid != ESPI_NONE && col_opt(s, st, 1) != sel->cid) rc = 0;
        else rc = 2;
    }
    if (rc == 0)
        rc = eg_errf(sel->err, EG_EUSAGE, NULL, 0, 0, "no usage point '%s' in the store%s%s",
                     q->usage_point, q->customer ? " for customer " : "",
                     q->customer ? q->customer : "");
    else if (rc == 2) rc = 0;
done:
    s->ops->finalize(st);
    return rc;
}

/* The feed header for a query: the last imported feed's, with its own id
 * and title when the query selects part of the store. */
static int make_head(selector *sel, espi_feed_head *h)
{
    store *s = sel->s;
    const store_query *q = sel->q;
    store_stmt *st = NULL;
    size_t n;
    int rc = prep(s, "SELECT head FROM feed ORDER BY imported DESC, fid DESC", 0, &st, sel->err);
    memset(h, 0, sizeof *h);
    h->updated = ESPI_NONE;
    if (rc) goto done;
    rc = s->ops->step(st, sel->err);
    if (rc == 1) {
        const void *p = s->ops->col_blob(st, 0, &n);
        rc = store_codec_head_decode(p, n, h, sel->err);
    }
    if (rc < 0) goto done;
    rc = 0;
    int partial = sel->mode != SEL_ALL || q->from != ESPI_NONE || q->to != ESPI_NONE ||
                  q->published_min != ESPI_NONE || q->published_max != ESPI_NONE ||
                  q->updated_min != ESPI_NONE || q->updated_max != ESPI_NONE ||
                  q->max_results > 0 || q->start_index > 1 || !h->id[0];
    if (partial) {
        char key[ESPI_URI_MAX + 256];
        snprintf(key, sizeof key, "espigate:query:%d:%s:%lld:%lld:%lld:%lld:%lld:%lld:%ld:%ld",
                 sel->mode, sel->mode == SEL_UP ? sel->up_self : q->customer ? q->customer : "",
                 (long long)q->from, (long long)q->to, (long long)q->published_min,
                 (long long)q->published_max, (long long)q->updated_min,
                 (long long)q->updated_max, q->start_index, q->max_results);
        espi_uuid5(key, h->id);
        snprintf(h->title, sizeof h->title, "Green Button data (espigate store query)");
    }
    if (h->updated == ESPI_NONE) h->updated = now_utc();
done:
    s->ops->finalize(st);
    return rc;
}

/* The MeterReading whose blocks a narrowed selection wants: its rid and
 * conventional series href ("{self}/IntervalBlock"). */
static int resolve_meter_reading(selector *sel, const char *mr, int64_t *rid, char *series,
                                 size_t size)
{
    store *s = sel->s;
    store_stmt *st = NULL;
    int rc = prep(s,
                  "SELECT rid, self_href FROM resource WHERE kind = 2 AND (espi_id = ?1"
                  " OR espi_id = 'urn:uuid:' || ?1 OR self_href = ?1) ORDER BY rid",
                  0, &st, sel->err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, mr);
    rc = s->ops->step(st, sel->err);
    if (rc == 1) {
        *rid = s->ops->col_i64(st, 0);
        snprintf(series, size, "%s/IntervalBlock", s->ops->col_text(st, 1));
        rc = 0;
    } else if (rc == 0) {
        rc = eg_errf(sel->err, EG_EUSAGE, NULL, 0, 0, "no meter reading '%s' in the store", mr);
    }
done:
    s->ops->finalize(st);
    return rc;
}

static int select_run(store *s, const store_query *q, const store_narrow *nw,
                      int (*head)(void *ctx, const espi_feed_head *h, eg_err *err),
                      int (*cb)(void *ctx, const espi_resource *r, eg_err *err), void *ctx,
                      eg_err *err)
{
    store_query dq;
    selector sel;
    store_stmt *rs = NULL, *ss = NULL, *bs = NULL;
    int rc, hr = 0, hs = 0;
    char mr_series[ESPI_URI_MAX + 16];

    if (!q) {
        store_query_init(&dq);
        q = &dq;
    }
    memset(&sel, 0, sizeof sel);
    sel.s = s;
    sel.q = q;
    sel.cb = cb;
    sel.ctx = ctx;
    sel.err = err;
    sel.res = calloc(1, sizeof *sel.res);
    sel.entry = calloc(1, sizeof *sel.entry);
    if (!sel.res || !sel.entry) {
        free(sel.res);
        free(sel.entry);
        return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    espi_entry_init(sel.entry);
    if ((rc = s->ops->begin(s, 0, err))) goto free_mem;
    if ((rc = resolve_selection(&sel))) goto done;
    if (head) {
        espi_feed_head *h = calloc(1, sizeof *h);
        if (!h) {
            rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        rc = make_head(&sel, h);
        if (!rc) rc = head(ctx, h, err);
        free(h);
        if (rc) goto done;
    }
    if (!nw) {
        if ((rc = prep(s, sel_resources, 1, &rs, err)) || (rc = prep(s, sel_series, 1, &ss, err)))
            goto done;
        bind_selection(&sel, rs);
        bind_selection(&sel, ss);
    } else {
        /* a narrowed selection opens only the cursors its kind needs */
        int want_res = nw->kind != ESPI_RES_INTERVAL_BLOCK;
        int want_ser = nw->kind == ESPI_RES_UNKNOWN || nw->kind == ESPI_RES_INTERVAL_BLOCK;
        if (want_res) {
            if ((rc = prep(s, sel_resources_kind, 1, &rs, err))) goto done;
            bind_selection(&sel, rs);
            s->ops->bind_i64(rs, 10, (int64_t)nw->kind);
        }
        if (want_ser && nw->meter_reading) {
            int64_t mr_rid = 0;
            if ((rc = resolve_meter_reading(&sel, nw->meter_reading, &mr_rid, mr_series,
                                            sizeof mr_series)) ||
                (rc = prep(s, sel_series_mr, 1, &ss, err)))
                goto done;
            bind_selection(&sel, ss);
            s->ops->bind_i64(ss, 4, mr_rid);
            s->ops->bind_text(ss, 5, mr_series); /* lives until finalize below */
        } else if (want_ser) {
            if ((rc = prep(s, sel_series, 1, &ss, err))) goto done;
            bind_selection(&sel, ss);
        }
    }
    if ((rc = prep(s, sel_blocks, 1, &bs, err))) goto done;
    if ((rs && (hr = s->ops->step(rs, err)) < 0) || (ss && (hs = s->ops->step(ss, err)) < 0)) {
        rc = hr < 0 ? hr : hs;
        goto done;
    }
    while (hr == 1 || hs == 1) {
        int take_resource = hr == 1 && (hs != 1 || s->ops->col_i64(rs, 0) < s->ops->col_i64(ss, 0));
        if (take_resource) {
            if ((rc = emit_resource(&sel, rs))) break;
            hr = s->ops->step(rs, err);
        } else {
            char series[ESPI_URI_MAX];
            snprintf(series, sizeof series, "%s", s->ops->col_text(ss, 1));
            if ((rc = emit_series(&sel, bs, s->ops->col_i64(ss, 0), series))) break;
            hs = s->ops->step(ss, err);
        }
        if (hr < 0 || hs < 0) {
            rc = hr < 0 ? hr : hs;
            break;
        }
    }
    if (rc == EG_ESTOP) rc = 0;
done:
    s->ops->finalize(bs);
    s->ops->finalize(ss);
    s->ops->finalize(rs);
    s->ops->rollback(s); /* a read snapshot: nothing to commit */
free_mem:
    free(sel.res);
    free(sel.entry);
    free(sel.readings);
    store_line_items_release(&sel.li);
    return rc;
}

int store_select(store *s, const store_query *q,
                 int (*head)(void *ctx, const espi_feed_head *h, eg_err *err),
                 int (*cb)(void *ctx, const espi_resource *r, eg_err *err), void *ctx,
                 eg_err *err)
{
    return select_run(s, q, NULL, head, cb, ctx, err);
}

int store_select_narrow(store *s, const store_query *q, const store_narrow *n,
                        int (*head)(void *ctx, const espi_feed_head *h, eg_err *err),
                        int (*cb)(void *ctx, const espi_resource *r, eg_err *err), void *ctx,
                        eg_err *err)
{
    store_narrow none = {ESPI_RES_UNKNOWN, NULL};
    return select_run(s, q, n ? n : &none, head, cb, ctx, err);
}

typedef struct export_ctx {
    espi_writer *w;
    long entries;
} export_ctx;

static int export_head(void *p, const espi_feed_head *h, eg_err *err)
{
    export_ctx *x = p;
    return espi_writer_begin_feed(x->w, h, err);
}

static int export_resource(void *p, const espi_resource *r, eg_err *err)
{
    export_ctx *x = p;
    x->entries++;
    return espi_writer_resource(x->w, r, err);
}

int store_export(store *s, const store_query *q, espi_writer *w, long *entries, eg_err *err)
{
    export_ctx x = {w, 0};
    int rc = store_select(s, q, export_head, export_resource, &x, err);
    if (!rc) rc = espi_writer_end_feed(w, err);
    if (entries) *entries = x.entries;
    return rc;
}

/* ---- customers ------------------------------------------------------------ */

int store_customer_add(store *s, const char *id, const char *name, eg_err *err)
{
    store_stmt *st = NULL;
    int64_t cid;
    int rc;
    if (!id[0] || strlen(id) > 256)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "a customer id is 1 to 256 characters");
    if ((rc = s->ops->begin(s, 1, err))) return rc;
    if ((rc = query_i64(s, "SELECT cid FROM customer WHERE ext_id = ?1", id, &cid, err))) goto done;
    if (cid != ESPI_NONE) {
        rc = eg_errf(err, EG_EUSAGE, NULL, 0, 0, "customer '%s' already exists", id);
        goto done;
    }
    if ((rc = prep(s, "INSERT INTO customer(ext_id, name, created) VALUES(?1, ?2, ?3)", 0, &st,
                   err)))
        goto done;
    s->ops->bind_text(st, 1, id);
    s->ops->bind_text(st, 2, name ? name : "");
    s->ops->bind_i64(st, 3, now_utc());
    rc = s->ops->step(st, err);
    if (rc > 0) rc = 0;
done:
    s->ops->finalize(st);
    if (rc) s->ops->rollback(s);
    else rc = s->ops->commit(s, err);
    return rc;
}

int store_customer_list(store *s,
                        int (*cb)(void *ctx, const char *id, const char *name, long usage_points),
                        void *ctx, eg_err *err)
{
    store_stmt *st = NULL;
    int rc;
    if ((rc = s->ops->begin(s, 0, err))) return rc;
    rc = prep(s,
              "SELECT c.ext_id, c.name, (SELECT COUNT(*) FROM resource r WHERE r.kind = 1"
              " AND r.customer = c.cid) FROM customer c ORDER BY c.ext_id",
              1, &st, err);
    while (!rc && (rc = s->ops->step(st, err)) == 1)
        rc = cb(ctx, s->ops->col_text(st, 0), s->ops->col_text(st, 1),
                (long)s->ops->col_i64(st, 2));
    s->ops->finalize(st);
    s->ops->rollback(s);
    return rc;
}

/* ---- integrity ------------------------------------------------------------ */

typedef struct checker {
    store *s;
    void (*report)(void *ctx, const char *msg);
    void *ctx;
    store_check_result *res;
    eg_err *err;
    espi_resource *r;
    espi_entry *e;
    store_line_items li;
} checker;

static void problem(checker *c, int damage, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void problem(checker *c, int damage, const char *fmt, ...)
{
    char msg[ESPI_URI_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (damage) c->res->problems++;
    else c->res->orphans++;
    if (c->report) c->report(c->ctx, msg);
}

static void engine_problem(void *p, const char *msg)
{
    problem(p, 1, "%s", msg);
}

static int check_resources(checker *c)
{
    store *s = c->s;
    store_stmt *st = NULL;
    int rc = prep(s, "SELECT rid, kind, espi_id, self_href, hash, body FROM resource ORDER BY rid",
                  1, &st, c->err);
    while (!rc && (rc = s->ops->step(st, c->err)) == 1) {
        size_t n;
        const unsigned char *p = s->ops->col_blob(st, 5, &n), *end = p + n;
        const char *id = s->ops->col_text(st, 2), *self = s->ops->col_text(st, 3);
        int64_t kind = s->ops->col_i64(st, 1);
        eg_err e2;
        c->res->resources++;
        uint64_t h = store_hash(store_hash(STORE_HASH_SEED, self, strlen(self)), p, n);
        if (u2i(h) != s->ops->col_i64(st, 4))
            problem(c, 1, "resource %s: content hash mismatch (row damaged)", id);
        entry_reset(c->e);
        if (kind < 0 || kind >= ESPI_RES_COUNT || store_codec_entry_decode(&p, end, c->e, &e2) ||
            store_codec_resource_decode(&p, end, (espi_resource_type)kind, c->r, &c->li, &e2) ||
            p != end)
            problem(c, 1, "resource %s: stored fields do not decode", id);
        rc = 0;
    }
    s->ops->finalize(st);
    return rc < 0 ? rc : 0;
}

static int check_blocks(checker *c)
{
    store *s = c->s;
    store_stmt *st = NULL;
    espi_interval_reading r;
    int rc = prep(s,
                  "SELECT b.id, b.start, b.duration, b.n, b.hash, b.extra, b.data, s.href,"
                  " s.sid IS NULL FROM block b LEFT JOIN series s ON s.sid = b.sid"
                  " ORDER BY b.bid",
                  1, &st, c->err);
    while (!rc && (rc = s->ops->step(st, c->err)) == 1) {
        size_t idn, xn = 0, dn;
        char id[ESPI_ID_MAX];
        const void *idp = s->ops->col_blob(st, 0, &idn);
        espi_interval iv = {col_opt(s, st, 2), col_opt(s, st, 1)};
        const char *series = s->ops->col_text(st, 7);
        const void *extra = s->ops->col_null(st, 5) ? NULL : s->ops->col_blob(st, 5, &xn);
        const void *data = s->ops->col_blob(st, 6, &dn);
        store_block_dec dec;
        uint64_t n, h = STORE_HASH_SEED;
        eg_err e2;
        c->res->blocks++;
        if (store_codec_id_unpack(idp, idn, id)) {
            problem(c, 1, "block with a damaged id");
            snprintf(id, sizeof id, "?");
        }
        if (s->ops->col_i64(st, 8)) problem(c, 1, "block %s: its series does not exist", id);
        h = store_hash(h, &iv, sizeof iv);
        h = store_hash(h, series, strlen(series));
        if (extra) h = store_hash(h, extra, xn);
        h = store_hash(h, data, dn);
        if (u2i(h) != s->ops->col_i64(st, 4))
            problem(c, 1, "block %s: content hash mismatch (row damaged)", id);
        if (store_codec_block_begin(&dec, data, dn, iv.start, &n, &e2)) {
            problem(c, 1, "block %s: %s", id, e2.msg);
        } else {
            int k;
            while ((k = store_codec_block_next(&dec, &r, &e2)) == 1) c->res->readings++;
            if (k < 0) problem(c, 1, "block %s: %s", id, e2.msg);
            else if (n != (uint64_t)s->ops->col_i64(st, 3))
                problem(c, 1, "block %s: holds %llu readings, row says %lld", id,
                        (unsigned long long)n, (long long)s->ops->col_i64(st, 3));
        }
        rc = 0;
    }
    s->ops->finalize(st);
    return rc < 0 ? rc : 0;
}

/* Parents that are not stored: a feed may legitimately hold part of a
 * usage point (an update of its blocks only), so these are not damage. */
static int check_orphans(checker *c)
{
    static const char sql[] =
        "SELECT 'series', href FROM series s WHERE NOT EXISTS (SELECT 1 FROM resource r"
        " WHERE r.kind = 2 AND r.self_href || '/IntervalBlock' = s.href)"
        " UNION ALL SELECT 'entry', espi_id FROM resource x WHERE x.kind <> 1 AND x.up_self <> ''"
        " AND NOT EXISTS (SELECT 1 FROM resource u WHERE u.kind = 1 AND u.self_href = x.up_self)";
    store *s = c->s;
    store_stmt *st = NULL;
    int rc = prep(s, sql, 1, &st, c->err);
    while (!rc && (rc = s->ops->step(st, c->err)) == 1) {
        problem(c, 0, "note: %s %s: its %s is not in the store", s->ops->col_text(st, 0),
                s->ops->col_text(st, 1),
                strcmp(s->ops->col_text(st, 0), "series") == 0 ? "MeterReading" : "UsagePoint");
        rc = 0;
    }
    s->ops->finalize(st);
    return rc < 0 ? rc : 0;
}

int store_check(store *s, void (*report)(void *ctx, const char *msg), void *ctx,
                store_check_result *res, eg_err *err)
{
    checker c = {s, report, ctx, res, err, NULL, NULL, {0}};
    int64_t v;
    int rc;
    memset(res, 0, sizeof *res);
    c.r = calloc(1, sizeof *c.r);
    c.e = calloc(1, sizeof *c.e);
    if (!c.r || !c.e) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto free_mem;
    }
    if ((rc = s->ops->integrity(s, engine_problem, &c, err))) goto free_mem;
    if ((rc = s->ops->begin(s, 0, err))) goto free_mem;
    if ((rc = check_resources(&c)) || (rc = check_blocks(&c)) || (rc = check_orphans(&c)))
        goto done;
    if ((rc = query_i64(s, "SELECT COUNT(*) FROM series", NULL, &v, err))) goto done;
    res->series = (long)v;
    if ((rc = query_i64(s, "SELECT COUNT(*) FROM customer", NULL, &v, err))) goto done;
    res->customers = (long)v;
    if ((rc = query_i64(s, "SELECT COUNT(*) FROM feed", NULL, &v, err))) goto done;
    res->feeds = (long)v;
done:
    s->ops->rollback(s);
free_mem:
    free(c.r);
    free(c.e);
    store_line_items_release(&c.li);
    return rc;
}

/* ---- lookups for the resource server -------------------------------------- */

int store_customer_exists(store *s, const char *id, int *exists, eg_err *err)
{
    int64_t cid = ESPI_NONE;
    int rc = s->ops->begin(s, 0, err);
    *exists = 0;
    if (rc) return rc;
    rc = query_i64(s, "SELECT cid FROM customer WHERE ext_id = ?1", id, &cid, err);
    s->ops->rollback(s);
    if (!rc) *exists = cid != ESPI_NONE;
    return rc;
}

/* ---- small lookups for the server and the import hooks -------------------- */

int store_meta_get(store *s, const char *key, char *out, size_t size, eg_err *err)
{
    store_stmt *st = NULL;
    int rc = prep(s, "SELECT value FROM meta WHERE key = ?1", 0, &st, err);
    out[0] = '\0';
    if (rc) return rc;
    s->ops->bind_text(st, 1, key);
    rc = s->ops->step(st, err);
    if (rc == 1) snprintf(out, size, "%s", s->ops->col_text(st, 0));
    s->ops->finalize(st);
    return rc < 0 ? rc : 0;
}

int store_meta_set(store *s, const char *key, const char *value, eg_err *err)
{
    store_stmt *st = NULL;
    int rc = s->ops->begin(s, 1, err);
    if (rc) return rc;
    rc = prep(s, "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE"
                 " SET value = excluded.value", 0, &st, err);
    if (!rc) {
        s->ops->bind_text(st, 1, key);
        s->ops->bind_text(st, 2, value);
        rc = s->ops->step(st, err);
        if (rc > 0) rc = 0;
    }
    s->ops->finalize(st);
    if (rc) s->ops->rollback(s);
    else rc = s->ops->commit(s, err);
    return rc;
}

int store_usage_point_customer(store *s, const char *up_self, char *out, size_t size,
                               eg_err *err)
{
    store_stmt *st = NULL;
    int rc = prep(s, "SELECT c.ext_id FROM resource r JOIN customer c ON c.cid = r.customer"
                     " WHERE r.kind = 1 AND r.self_href = ?1", 0, &st, err);
    out[0] = '\0';
    if (rc) return rc;
    s->ops->bind_text(st, 1, up_self);
    rc = s->ops->step(st, err);
    if (rc == 1) snprintf(out, size, "%s", s->ops->col_text(st, 0));
    s->ops->finalize(st);
    return rc < 0 ? rc : 0;
}
