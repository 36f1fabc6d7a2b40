/* notify.c -- the durable ESPI notification queue (see notify.h).
 *
 * Layout of the file: the queue table and small helpers; building a
 * BatchList body; enqueue (with coalescing); the claim / deliver / record
 * cycle of notify_run_due; list, retry, prune; the background worker.
 *
 * Every write goes through the store's write transaction (SQLite BEGIN
 * IMMEDIATE, PostgreSQL BEGIN + the store's advisory lock), so claims from
 * several connections are serialized and the guarded UPDATE ... RETURNING
 * of a claim can only succeed for one of them.  No transaction is open
 * while a POST is in flight. */
#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "notify.h"
#include "writer.h"

#define NOTIFY_ID_LEN 37             /* UUID + NUL */
#define NOTIFY_RESPONSE_CAP 65536    /* bytes of a receiver's answer we read */
#define NOTIFY_CLIENT_MAX 256

static const char *const queue_schema[] = {
    "CREATE TABLE IF NOT EXISTS notify_queue("
    " id TEXT PRIMARY KEY,"
    " client_id TEXT NOT NULL,"
    " uri TEXT NOT NULL,"
    " resources TEXT NOT NULL,"          /* the URIs, '\n'-separated */
    " n_resources BIGINT NOT NULL,"
    " body TEXT NOT NULL,"               /* the BatchList as POSTed */
    " created BIGINT NOT NULL,"
    " next_try BIGINT NOT NULL,"
    " attempts BIGINT NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " state TEXT NOT NULL DEFAULT 'pending',"  /* pending | sent | failed */
    " lease_until BIGINT NOT NULL DEFAULT 0,"
    " claim TEXT NOT NULL DEFAULT '',"   /* token of the sender holding the lease */
    " sent_at BIGINT)",
    "CREATE INDEX IF NOT EXISTS notify_queue_due ON notify_queue(state, next_try)",
    "CREATE INDEX IF NOT EXISTS notify_queue_dest ON notify_queue(client_id, uri, state)",
    NULL};

/* ---- small helpers ------------------------------------------------------- */

void notify_opts_init(notify_opts *o)
{
    memset(o, 0, sizeof *o);
    o->base_delay = 30;
    o->max_delay = 6 * 3600;
    o->max_attempts = 10;
    o->batch = 20;
    o->lease = 120;
    o->user_agent = "espigate/" ESPIGATE_VERSION;
    o->connect_timeout_ms = 5000;
    o->timeout_ms = 15000;
    o->keep_sent = 30 * 86400;
}

/* o with every unset (<= 0 / NULL) field replaced by its default. */
static notify_opts effective_opts(const notify_opts *o)
{
    notify_opts d, r;
    notify_opts_init(&d);
    if (!o) return d;
    r = *o;
    if (r.base_delay <= 0) r.base_delay = d.base_delay;
    if (r.max_delay <= 0) r.max_delay = d.max_delay;
    if (r.max_delay < r.base_delay) r.max_delay = r.base_delay;
    if (r.max_attempts <= 0) r.max_attempts = d.max_attempts;
    if (r.batch <= 0) r.batch = d.batch;
    if (r.lease <= 0) r.lease = d.lease;
    if (!r.user_agent || !*r.user_agent) r.user_agent = d.user_agent;
    if (r.connect_timeout_ms <= 0) r.connect_timeout_ms = d.connect_timeout_ms;
    if (r.timeout_ms <= 0) r.timeout_ms = d.timeout_ms;
    if (r.keep_sent <= 0) r.keep_sent = d.keep_sent;
    return r;
}

static void logf_(const notify_opts *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void logf_(const notify_opts *o, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!o->log) return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->log(o->log_ctx, line);
}

static uint32_t random_u32(void)
{
    unsigned char b[4] = {0};
    if (RAND_bytes(b, sizeof b) != 1) return 0;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A random (version 4) UUID, lowercase, into out[NOTIFY_ID_LEN]. */
static int new_uuid(char *out, eg_err *err)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0,
                       "notify: the random generator failed (OpenSSL RAND_bytes)");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, NOTIFY_ID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

/* Retry delay after `attempts` earlier failures: min(base * 2^attempts,
 * max) plus 0..10 % jitter, so receivers that come back are not hit by
 * every queued row in the same second. */
static int64_t retry_delay(const notify_opts *o, long attempts)
{
    int64_t d = o->base_delay;
    for (long i = 0; i < attempts && d < o->max_delay; i++) d *= 2;
    if (d > o->max_delay) d = o->max_delay;
    int64_t spread = d / 10;
    if (spread > 0) d += (int64_t)(random_u32() % (uint32_t)(spread + 1));
    return d;
}

static int64_t monotonic_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec;
}

/* A URI we are willing to store: 1..NOTIFY_URI_MAX visible ASCII/UTF-8
 * bytes, no spaces or control characters (they would break the
 * '\n'-separated list and are not valid in a URI anyway). */
static int uri_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    if (n == 0 || n > NOTIFY_URI_MAX) return 0;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p == 0x7f) return 0;
    return 1;
}

static int is_scheme(const char *u, const char *scheme)
{
    return strncasecmp(u, scheme, strlen(scheme)) == 0;
}

static int ensure_schema(store *s, eg_err *err)
{
    int rc = 0;
    for (const char *const *q = queue_schema; *q && !rc; q++) rc = s->ops->exec(s, *q, err);
    return rc;
}

/* Run fn inside a write transaction (commit on 0, roll back otherwise). */
static int in_write_tx(store *s, int (*fn)(store *s, void *ctx, eg_err *err), void *ctx,
                       eg_err *err)
{
    int rc = s->ops->begin(s, 1, err);
    if (rc) return rc;
    if (!(rc = ensure_schema(s, err))) rc = fn(s, ctx, err);
    if (rc) s->ops->rollback(s);
    else rc = s->ops->commit(s, err);
    return rc;
}

/* ---- the BatchList body ---------------------------------------------------- */

typedef struct nbuf {
    char *p;
    size_t n, cap;
} nbuf;

static int nbuf_add(nbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

static int nbuf_write(void *io, const char *buf, int len)
{
    return len < 0 || nbuf_add(io, buf, (size_t)len) ? -1 : len;
}

/* The BatchList document for uris[0..n) into *out (caller frees). */
static int build_body(const char *const *uris, size_t n, char **out, eg_err *err)
{
    nbuf b = {NULL, 0, 0};
    espi_writer_opts wo = {1};
    espi_batch_list bl = {uris, n};
    int rc;
    *out = NULL;
    espi_writer *w = espi_writer_open_io(nbuf_write, &b, &wo, err);
    if (!w) {
        free(b.p);
        return err && err->code ? err->code : EG_ENOMEM;
    }
    if ((rc = espi_writer_batch_list(w, &bl, err))) {
        espi_writer_abort(w);
        free(b.p);
        return rc;
    }
    if ((rc = espi_writer_close(w, err))) {
        free(b.p);
        return rc;
    }
    *out = b.p;
    return 0;
}

/* A resource list: borrowed pointers into `text` (a '\n'-joined copy) and
 * into the caller's array. */
typedef struct urilist {
    const char **v;
    size_t n;
    char *text;                  /* owned copy of the stored list, split in place */
} urilist;

static void urilist_release(urilist *l)
{
    free(l->v);
    free(l->text);
    memset(l, 0, sizeof *l);
}

static int urilist_has(const urilist *l, const char *u)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], u) == 0) return 1;
    return 0;
}

/* Split a stored '\n'-joined list into l (room for `extra` more). */
static int urilist_parse(urilist *l, const char *stored, size_t extra)
{
    size_t count = 1;
    memset(l, 0, sizeof *l);
    if (!(l->text = strdup(stored))) return -1;
    for (const char *p = stored; *p; p++) count += *p == '\n';
    if (!(l->v = calloc(count + extra, sizeof *l->v))) return -1;
    for (char *tok = l->text, *nl; tok && *tok; tok = nl) {
        nl = strchr(tok, '\n');
        if (nl) *nl++ = '\0';
        if (*tok) l->v[l->n++] = tok;
    }
    return 0;
}

/* The list joined with '\n' (caller frees). */
static char *urilist_join(const urilist *l)
{
    nbuf b = {NULL, 0, 0};
    for (size_t i = 0; i < l->n; i++)
        if ((i && nbuf_add(&b, "\n", 1)) || nbuf_add(&b, l->v[i], strlen(l->v[i]))) {
            free(b.p);
            return NULL;
        }
    return b.p ? b.p : strdup("");
}

/* ---- enqueue ------------------------------------------------------------------ */

typedef struct enq {
    const char *client_id, *uri;
    const char *const *uris;
    size_t n;
    int64_t now;
    char *id_out;
} enq;

/* Add e's URIs that l does not have yet; *added counts them. */
static void urilist_merge(urilist *l, const enq *e, size_t *added)
{
    *added = 0;
    for (size_t i = 0; i < e->n; i++)
        if (!urilist_has(l, e->uris[i])) {
            l->v[l->n++] = e->uris[i];
            (*added)++;
        }
}

/* Store list l as row id's resources and body (UPDATE when update, else
 * INSERT a new row). */
static int write_row(store *s, const enq *e, const urilist *l, const char *id, int update,
                     eg_err *err)
{
    store_stmt *st = NULL;
    char *joined = urilist_join(l), *body = NULL;
    int rc;
    if (!joined) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    if ((rc = build_body(l->v, l->n, &body, err))) goto done;
    if (update)
        rc = s->ops->prepare(s,
                             "UPDATE notify_queue SET resources = ?1, n_resources = ?2, body = ?3,"
                             " claim = '' WHERE id = ?4",
                             0, &st, err);
    else
        rc = s->ops->prepare(s,
                             "INSERT INTO notify_queue(resources, n_resources, body, id, client_id,"
                             " uri, created, next_try) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                             0, &st, err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, joined);
    s->ops->bind_i64(st, 2, (int64_t)l->n);
    s->ops->bind_text(st, 3, body);
    s->ops->bind_text(st, 4, id);
    if (!update) {
        s->ops->bind_text(st, 5, e->client_id);
        s->ops->bind_text(st, 6, e->uri);
        s->ops->bind_i64(st, 7, e->now);
    }
    rc = s->ops->step(st, err);
    if (rc > 0) rc = 0;
done:
    s->ops->finalize(st);
    free(joined);
    free(body);
    return rc;
}

static int enqueue_tx(store *s, void *ctx, eg_err *err)
{
    enq *e = ctx;
    store_stmt *st = NULL;
    urilist l = {0};
    char id[NOTIFY_ID_LEN] = "";
    int rc, merging = 0;

    /* a pending row for the same destination that no sender holds */
    rc = s->ops->prepare(s,
                         "SELECT id, resources FROM notify_queue WHERE client_id = ?1 AND uri = ?2"
                         " AND state = 'pending' AND lease_until <= ?3 AND n_resources < ?4"
                         " ORDER BY created, id",
                         1, &st, err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, e->client_id);
    s->ops->bind_text(st, 2, e->uri);
    s->ops->bind_i64(st, 3, e->now);
    s->ops->bind_i64(st, 4, NOTIFY_MAX_RESOURCES);
    while ((rc = s->ops->step(st, err)) == 1) {
        size_t added;
        if (urilist_parse(&l, s->ops->col_text(st, 1), e->n)) {
            rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        urilist_merge(&l, e, &added);
        if (l.n <= NOTIFY_MAX_RESOURCES) {
            snprintf(id, sizeof id, "%s", s->ops->col_text(st, 0));
            merging = added ? 1 : 2; /* 2: every URI is already queued */
            break;
        }
        urilist_release(&l);
    }
    if (rc < 0) goto done;
    s->ops->finalize(st);
    st = NULL;
    rc = 0;
    if (!merging) {
        if ((rc = new_uuid(id, err))) goto done;
        if (!(l.v = calloc(e->n, sizeof *l.v))) {
            rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        size_t added;
        urilist_merge(&l, e, &added); /* drops duplicates within the call */
    }
    if (merging != 2) rc = write_row(s, e, &l, id, merging, err);
    if (!rc && e->id_out) snprintf(e->id_out, NOTIFY_ID_LEN, "%s", id);
done:
    s->ops->finalize(st);
    urilist_release(&l);
    return rc;
}

int notify_enqueue_id(store *s, const char *client_id, const char *notify_uri,
                      const char *const *resource_uris, size_t n, char *id_out, eg_err *err)
{
    if (!client_id || !*client_id || strlen(client_id) > NOTIFY_CLIENT_MAX)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "notify: a client id of 1 to %d characters is required",
                       NOTIFY_CLIENT_MAX);
    if (!uri_ok(notify_uri) || !(is_scheme(notify_uri, "https://") ||
                                 is_scheme(notify_uri, "http://")))
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "notify: the notify URI '%.200s' of client '%.100s' is not an absolute "
                       "https:// URL (fix the application's thirdPartyNotifyUri)",
                       notify_uri ? notify_uri : "", client_id);
    if (n == 0 || n > NOTIFY_MAX_RESOURCES || !resource_uris)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "notify: a BatchList carries 1 to %d resource URIs, not %zu",
                       NOTIFY_MAX_RESOURCES, n);
    for (size_t i = 0; i < n; i++)
        if (!uri_ok(resource_uris[i]))
            return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                           "notify: resource URI %zu ('%.200s') is empty, longer than %d bytes "
                           "or contains spaces/control characters",
                           i + 1, resource_uris[i] ? resource_uris[i] : "", NOTIFY_URI_MAX);
    enq e = {client_id, notify_uri, resource_uris, n, (int64_t)time(NULL), id_out};
    return in_write_tx(s, enqueue_tx, &e, err);
}

int notify_enqueue(store *s, const char *client_id, const char *notify_uri,
                   const char *const *resource_uris, size_t n, eg_err *err)
{
    return notify_enqueue_id(s, client_id, notify_uri, resource_uris, n, NULL, err);
}

/* ---- claim --------------------------------------------------------------------- */

typedef struct job {
    char id[NOTIFY_ID_LEN];
    char claim[NOTIFY_ID_LEN];
    char *uri, *body;
    long attempts;
    int64_t now;                 /* the clock this job runs at */
    int64_t lease;               /* seconds */
    int found;
} job;

static void job_release(job *j)
{
    free(j->uri);
    free(j->body);
    memset(j, 0, sizeof *j);
}

static int claim_tx(store *s, void *ctx, eg_err *err)
{
    job *j = ctx;
    store_stmt *st = NULL;
    int rc;
    rc = s->ops->prepare(s,
                         "UPDATE notify_queue SET lease_until = ?1, claim = ?2 WHERE id ="
                         " (SELECT id FROM notify_queue WHERE state = 'pending' AND next_try <= ?3"
                         " AND lease_until <= ?3 ORDER BY next_try, created, id LIMIT 1)"
                         " AND state = 'pending' AND lease_until <= ?3"
                         " RETURNING id, uri, body, attempts",
                         0, &st, err);
    if (rc) goto done;
    s->ops->bind_i64(st, 1, j->now + j->lease);
    s->ops->bind_text(st, 2, j->claim);
    s->ops->bind_i64(st, 3, j->now);
    rc = s->ops->step(st, err);
    if (rc == 1) {
        snprintf(j->id, sizeof j->id, "%s", s->ops->col_text(st, 0));
        j->uri = strdup(s->ops->col_text(st, 1));
        j->body = strdup(s->ops->col_text(st, 2));
        j->attempts = (long)s->ops->col_i64(st, 3);
        if (!j->uri || !j->body) {
            rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        j->found = 1;
        while ((rc = s->ops->step(st, err)) == 1) {}
    }
done:
    s->ops->finalize(st);
    return rc < 0 ? rc : 0;
}

/* Claim the next due row for this sender: 1 with *j filled, 0 none due. */
static int claim_next(store *s, const notify_opts *o, int64_t now, job *j, eg_err *err)
{
    int rc;
    memset(j, 0, sizeof *j);
    j->now = now;
    j->lease = o->lease;
    if ((rc = new_uuid(j->claim, err))) return rc;
    rc = in_write_tx(s, claim_tx, j, err);
    if (rc) {
        job_release(j);
        return rc;
    }
    return j->found;
}

/* ---- deliver --------------------------------------------------------------------- */

enum { DELIVERED = 0, RETRY = 1, REFUSED = 2 };

static size_t discard_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    size_t *seen = ctx, n = size * nmemb;
    (void)p;
    if (*seen + n > NOTIFY_RESPONSE_CAP) return 0; /* enough: stop reading */
    *seen += n;
    return n;
}

/* POST body to uri.  DELIVERED on a 2xx answer; otherwise msg says why and
 * the result is RETRY, or REFUSED when policy forbids the URI. */
static int deliver(const notify_opts *o, const char *uri, const char *body, char *msg,
                   size_t msgsz)
{
    char cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdr = NULL, *h2;
    size_t seen = 0;
    long status = 0;
    int rc = RETRY;
    CURL *c = NULL;

    if (!is_scheme(uri, "https://") && !(o->allow_http && is_scheme(uri, "http://"))) {
        snprintf(msg, msgsz,
                 "refused: '%.200s' is not an https:// URL (plain http is sent only when "
                 "allowed for development: notify_opts.allow_http / --allow-http)",
                 uri);
        return REFUSED;
    }
    if (!(c = curl_easy_init()) ||
        !(hdr = curl_slist_append(NULL, "Content-Type: application/atom+xml")) ||
        !(h2 = curl_slist_append(hdr, "Expect:"))) {
        snprintf(msg, msgsz, "could not set up the HTTP client (out of memory?)");
        goto done;
    }
    hdr = h2;
    curl_easy_setopt(c, CURLOPT_URL, uri);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, o->allow_http ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (o->ca_file && *o->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);

    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300 && (cc == CURLE_OK || cc == CURLE_WRITE_ERROR)) {
        rc = DELIVERED; /* accepted; a long answer we stopped reading does not matter */
    } else if (cc != CURLE_OK) {
        snprintf(msg, msgsz, "curl error %d: %s", (int)cc, cerr[0] ? cerr : curl_easy_strerror(cc));
    } else if (status >= 300 && status < 400) {
        snprintf(msg, msgsz,
                 "HTTP %ld: the receiver redirects, and redirects are not followed "
                 "(register the final URI as thirdPartyNotifyUri)",
                 status);
    } else {
        snprintf(msg, msgsz, "HTTP %ld from the receiver (expected 2xx)", status);
    }
done:
    curl_slist_free_all(hdr);
    if (c) curl_easy_cleanup(c);
    return rc;
}

int notify_global_init(eg_err *err)
{
    CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cc != CURLE_OK)
        return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "notify: curl_global_init failed: %s",
                       curl_easy_strerror(cc));
    return 0;
}

void notify_global_cleanup(void)
{
    curl_global_cleanup();
}

/* ---- record the outcome ------------------------------------------------------------ */

typedef struct outcome {
    const job *j;
    const notify_opts *o;
    int result;                  /* DELIVERED / RETRY / REFUSED */
    const char *msg;
    int64_t next_try;
    int failed;                  /* gives up now */
    int recorded;                /* our claim still held: the row was updated */
} outcome;

static int record_tx(store *s, void *ctx, eg_err *err)
{
    outcome *oc = ctx;
    const job *j = oc->j;
    store_stmt *st = NULL;
    char msg[NOTIFY_ERROR_MAX + 1]; /* bound below: must live until the step */
    int rc;
    if (oc->result == DELIVERED) {
        rc = s->ops->prepare(s,
                             "UPDATE notify_queue SET state = 'sent', sent_at = ?1,"
                             " attempts = attempts + 1, last_error = '', lease_until = 0,"
                             " claim = '' WHERE id = ?2 AND claim = ?3 RETURNING id",
                             0, &st, err);
        if (rc) goto done;
        s->ops->bind_i64(st, 1, j->now);
        s->ops->bind_text(st, 2, j->id);
        s->ops->bind_text(st, 3, j->claim);
    } else {
        /* claim = '' means new URIs were merged in meanwhile: the failure
         * still counts, the row stays ours to schedule */
        rc = s->ops->prepare(s,
                             "UPDATE notify_queue SET attempts = ?1, last_error = ?2, state = ?3,"
                             " next_try = ?4, lease_until = 0, claim = '' WHERE id = ?5"
                             " AND state = 'pending' AND (claim = ?6 OR claim = '') RETURNING id",
                             0, &st, err);
        if (rc) goto done;
        snprintf(msg, sizeof msg, "%s", oc->msg);
        s->ops->bind_i64(st, 1, j->attempts + 1);
        s->ops->bind_text(st, 2, msg);
        s->ops->bind_text(st, 3, oc->failed ? "failed" : "pending");
        s->ops->bind_i64(st, 4, oc->next_try);
        s->ops->bind_text(st, 5, j->id);
        s->ops->bind_text(st, 6, j->claim);
    }
    rc = s->ops->step(st, err);
    if (rc == 1) {
        oc->recorded = 1;
        while ((rc = s->ops->step(st, err)) == 1) {}
    }
done:
    s->ops->finalize(st);
    return rc < 0 ? rc : 0;
}

static int record(store *s, const notify_opts *o, const job *j, int result, const char *msg,
                  notify_stats *st, eg_err *err)
{
    outcome oc = {j, o, result, msg, 0, 0, 0};
    int64_t delay = 0;
    if (result != DELIVERED) {
        oc.failed = result == REFUSED || j->attempts + 1 >= o->max_attempts;
        delay = retry_delay(o, j->attempts);
        oc.next_try = oc.failed ? j->now : j->now + delay;
    }
    int rc = in_write_tx(s, record_tx, &oc, err);
    if (rc) return rc;
    if (!oc.recorded) {
        st->lost_claim++;
        logf_(o, "%s: outcome not recorded, the row was claimed by another sender or merged "
                 "(its lease of %lld s ran out?)", j->id, (long long)o->lease);
    } else if (result == DELIVERED) {
        st->sent++;
        logf_(o, "%s: sent to %s", j->id, j->uri);
    } else if (oc.failed) {
        st->failed++;
        logf_(o, "%s: FAILED after %ld attempt%s (kept; 'espigate notify retry %s'): %s", j->id,
              j->attempts + 1, j->attempts ? "s" : "", j->id, msg);
    } else {
        st->retry++;
        logf_(o, "%s: attempt %ld to %s failed, retry in %lld s: %s", j->id, j->attempts + 1,
              j->uri, (long long)delay, msg);
    }
    return 0;
}

/* ---- run ------------------------------------------------------------------------------ */

static int noop_tx(store *s, void *ctx, eg_err *err)
{
    (void)s;
    (void)ctx;
    (void)err;
    return 0;
}

int notify_run_due(store *s, const notify_opts *opts, int64_t now, notify_stats *stats,
                   eg_err *err)
{
    notify_opts o = effective_opts(opts);
    notify_stats local;
    int64_t t0 = monotonic_s();
    int rc = 0;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if ((rc = in_write_tx(s, noop_tx, NULL, err))) return rc; /* the table exists */
    for (long i = 0; i < o.batch; i++) {
        job j;
        char msg[NOTIFY_ERROR_MAX + 1] = "";
        /* the caller's clock, advanced by the time our POSTs took, so a
         * lease taken late in a long batch is not already expired */
        rc = claim_next(s, &o, now + (monotonic_s() - t0), &j, err);
        if (rc <= 0) break;
        stats->claimed++;
        int result = deliver(&o, j.uri, j.body, msg, sizeof msg);
        rc = record(s, &o, &j, result, msg, stats, err);
        job_release(&j);
        if (rc) break;
    }
    return rc < 0 ? rc : 0;
}

/* ---- list, retry, prune ------------------------------------------------------------------ */

int notify_list(store *s, int (*cb)(void *ctx, const notify_row *r), void *ctx, eg_err *err)
{
    store_stmt *st = NULL;
    int rc;
    if ((rc = in_write_tx(s, noop_tx, NULL, err))) return rc;
    if ((rc = s->ops->begin(s, 0, err))) return rc;
    rc = s->ops->prepare(s,
                         "SELECT id, client_id, uri, body, state, last_error, n_resources,"
                         " attempts, created, next_try, lease_until, sent_at FROM notify_queue"
                         " ORDER BY created DESC, id",
                         1, &st, err);
    while (!rc && (rc = s->ops->step(st, err)) == 1) {
        notify_row r;
        r.id = s->ops->col_text(st, 0);
        r.client_id = s->ops->col_text(st, 1);
        r.uri = s->ops->col_text(st, 2);
        r.body = s->ops->col_text(st, 3);
        r.state = s->ops->col_text(st, 4);
        r.last_error = s->ops->col_text(st, 5);
        r.n_resources = (long)s->ops->col_i64(st, 6);
        r.attempts = (long)s->ops->col_i64(st, 7);
        r.created = s->ops->col_i64(st, 8);
        r.next_try = s->ops->col_i64(st, 9);
        r.lease_until = s->ops->col_i64(st, 10);
        r.sent_at = s->ops->col_null(st, 11) ? ESPI_NONE : s->ops->col_i64(st, 11);
        rc = cb(ctx, &r);
    }
    s->ops->finalize(st);
    s->ops->rollback(s);
    return rc;
}

typedef struct retry_ctx {
    const char *id;
    int64_t now;
    int found;
} retry_ctx;

static int retry_tx(store *s, void *ctx, eg_err *err)
{
    retry_ctx *r = ctx;
    store_stmt *st = NULL;
    int rc = s->ops->prepare(s,
                             "UPDATE notify_queue SET state = 'pending', attempts = 0,"
                             " next_try = ?1, lease_until = 0, claim = '' WHERE id = ?2"
                             " AND state <> 'sent' RETURNING id",
                             0, &st, err);
    if (!rc) {
        s->ops->bind_i64(st, 1, r->now);
        s->ops->bind_text(st, 2, r->id);
        rc = s->ops->step(st, err);
        if (rc == 1) {
            r->found = 1;
            while ((rc = s->ops->step(st, err)) == 1) {}
        }
    }
    s->ops->finalize(st);
    return rc < 0 ? rc : 0;
}

int notify_retry(store *s, const char *id, eg_err *err)
{
    retry_ctx r = {id, (int64_t)time(NULL), 0};
    if (!id || !*id || strlen(id) >= NOTIFY_ID_LEN)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "notify: '%.80s' is not a queue id (a UUID as 'espigate notify list' "
                       "shows)", id ? id : "");
    int rc = in_write_tx(s, retry_tx, &r, err);
    if (!rc && !r.found)
        rc = eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                     "notify: no failed or pending notification with id '%s' (see 'espigate "
                     "notify list'; sent ones are not retried)", id);
    return rc;
}

typedef struct prune_ctx {
    int64_t before;
    long n;
} prune_ctx;

static int prune_tx(store *s, void *ctx, eg_err *err)
{
    prune_ctx *p = ctx;
    store_stmt *st = NULL;
    int rc = s->ops->prepare(s,
                             "DELETE FROM notify_queue WHERE state = 'sent' AND sent_at < ?1"
                             " RETURNING id",
                             0, &st, err);
    if (!rc) {
        s->ops->bind_i64(st, 1, p->before);
        while ((rc = s->ops->step(st, err)) == 1) p->n++;
    }
    s->ops->finalize(st);
    return rc < 0 ? rc : 0;
}

int notify_prune_sent(store *s, int64_t before, long *deleted, eg_err *err)
{
    prune_ctx p = {before, 0};
    int rc = in_write_tx(s, prune_tx, &p, err);
    if (deleted) *deleted = rc ? 0 : p.n;
    return rc;
}

/* ---- background worker ---------------------------------------------------------------------- */

struct notify_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int kicked, stop;
    store *s;
    notify_opts o;
    int64_t interval;
    int64_t next_prune;          /* time() of the next prune of sent rows */
};

#define NOTIFY_PRUNE_EVERY 3600  /* seconds between the worker's prunes */

static void *worker_main(void *arg)
{
    notify_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        if (!w->kicked) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += (time_t)w->interval;
            pthread_cond_timedwait(&w->cv, &w->mu, &until);
            if (w->stop) break;
        }
        w->kicked = 0;
        pthread_mutex_unlock(&w->mu);
        notify_stats st;
        eg_err err;
        eg_err_clear(&err);
        int64_t now = (int64_t)time(NULL);
        int rc = notify_run_due(w->s, &w->o, now, &st, &err);
        if (rc) logf_(&w->o, "notify worker: %s", err.msg);
        if (now >= w->next_prune) {
            long gone = 0;
            eg_err perr;
            eg_err_clear(&perr);
            notify_opts eff = effective_opts(&w->o);
            if (notify_prune_sent(w->s, now - eff.keep_sent, &gone, &perr))
                logf_(&w->o, "notify worker: pruning sent rows: %s", perr.msg);
            else if (gone > 0)
                logf_(&w->o, "pruned %ld notification(s) sent before %lld", gone,
                      (long long)(now - eff.keep_sent));
            w->next_prune = now + NOTIFY_PRUNE_EVERY;
        }
        pthread_mutex_lock(&w->mu);
        if (!rc && st.claimed >= w->o.batch) w->kicked = 1; /* more may be due */
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

notify_worker *notify_worker_start(const char *store_url, const notify_opts *o,
                                   int64_t interval, eg_err *err)
{
    notify_worker *w = calloc(1, sizeof *w);
    pthread_condattr_t ca;
    int mu = 0, cv = 0;
    if (!w) {
        eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    w->o = effective_opts(o);
    w->interval = interval > 0 ? interval : 30;
    w->kicked = 1; /* first run at once: rows may have waited for a restart */
    if (store_open(store_url, &w->s, err)) goto fail;
    if (pthread_mutex_init(&w->mu, NULL)) goto fail_thread;
    mu = 1;
    if (pthread_condattr_init(&ca)) goto fail_thread;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    cv = pthread_cond_init(&w->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!cv || pthread_create(&w->thread, NULL, worker_main, w)) goto fail_thread;
    return w;
fail_thread:
    eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "notify: cannot start the worker thread");
fail:
    if (cv) pthread_cond_destroy(&w->cv);
    if (mu) pthread_mutex_destroy(&w->mu);
    if (w->s) store_close(w->s);
    free(w);
    return NULL;
}

void notify_worker_kick(notify_worker *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->kicked = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void notify_worker_stop(notify_worker *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    store_close(w->s);
    free(w);
}
