/* espi_api.c -- the ESPI REST resource server (see espi_api.h).
 *
 * A request goes through five gates in order -- method, route, token,
 * query parameters, grant kind -- and then one of three answers:
 *   - a single entry: looked up on the api's store connection with a
 *     narrowed, grant-scoped selection (store_select_narrow), written into
 *     memory, sent buffered (or by a memory producer above 1 MiB);
 *   - a feed: a stream whose worker thread owns its own store connection
 *     and writes through espi_writer into a bounded queue of 64 KiB
 *     chunks that the core sends as they are (api_stream);
 *   - an error: text/plain, with WWW-Authenticate for 401 and 403.
 *
 * Scoping is done by the store query itself: every lookup of a customer
 * route runs with store_query.customer = the grant's customer (and the
 * UsagePoint / MeterReading found under it), so an id outside the grant is
 * simply not found, exactly like an id that does not exist (404).  Routes
 * are a table (pattern of path segments, grant kind, resource kind, and
 * where the subscription, usage point, meter reading and entry ids sit),
 * so one generic function serves all the customer routes. */
#include "espi_api.h"

#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "reader.h"
#include "writer.h"

#define API_ROOT "/espi/1_1/resource"
#define API_CHUNK (64u * 1024u)      /* worker -> producer: filled chunks of this size */
#define API_QUEUE 8                  /* chunks queued per stream at most (512 KiB) */
#define API_QUEUE_LOW 2              /* a blocked worker resumes at this many */
#define API_WAKE_AT 2                /* a waiting core is woken at this many */
#define API_ENTRY_MAX (64u << 20)    /* one entry or the Authorization feed in memory */
#define API_PATH_MAX 2048
#define API_MAX_SEGS 10
#define CT_ATOM "application/atom+xml"
#define CT_XML "application/xml"

struct espi_api {
    store *s;
    espi_api_opts o;
    char root[512];                  /* prefix + API_ROOT */
    size_t root_len;
    char store_url[STORE_URL_MAX];
    char *status_doc;                /* ReadServiceStatus: constant, written once by the writer */
    size_t status_len;
};

/* ---- routes ---------------------------------------------------------------- */

typedef enum route_id {
    RT_BATCH_SUB, RT_BATCH_SUB_UP, RT_BATCH_RC, RT_BULK, RT_UP_LIST, RT_UP_ONE, RT_MR_LIST, RT_MR_ONE,
    RT_IB_LIST, RT_IB_ONE, RT_US_LIST, RT_US_ONE, RT_PQ_LIST, RT_PQ_ONE, RT_LTP_LIST,
    RT_LTP_ONE, RT_RT_LIST, RT_RT_ONE, RT_STATUS, RT_APP, RT_APP_LIST, RT_AUTH_LIST, RT_AUTH_ONE
} route_id;

#define ANY_GRANT 0
#define CUST OAUTH_GRANT_CUSTOMER
#define CLIENT OAUTH_GRANT_CLIENT

/* pat: path segments after the root, "*" = an id.  sid/up/mr/id: the
 * segment index of the subscription, UsagePoint, MeterReading and entry
 * ids, -1 when the route has none (id -1 = a feed). */
typedef struct route {
    route_id rid;
    int grant;
    espi_resource_type kind;
    int sid, up, mr, id;
    const char *pat[API_MAX_SEGS];
} route;

#define SUB_UP "Subscription", "*", "UsagePoint", "*"
static const route routes[] = {
    {RT_BATCH_SUB, CUST, ESPI_RES_UNKNOWN, 2, -1, -1, -1, {"Batch", "Subscription", "*"}},
    {RT_BATCH_SUB_UP, CUST, ESPI_RES_UNKNOWN, 2, 4, -1, -1,
     {"Batch", "Subscription", "*", "UsagePoint", "*"}},
    /* the retail customer's own data: the same entries as its Subscription
     * (espigate stores usage data, not the customer-namespace resources) */
    {RT_BATCH_RC, CUST, ESPI_RES_UNKNOWN, -1, -1, -1, -1, {"Batch", "RetailCustomer", "*"}},
    {RT_BULK, CLIENT, ESPI_RES_UNKNOWN, -1, -1, -1, 2, {"Batch", "Bulk", "*"}},
    {RT_UP_LIST, CUST, ESPI_RES_USAGE_POINT, 1, -1, -1, -1, {"Subscription", "*", "UsagePoint"}},
    {RT_UP_ONE, CUST, ESPI_RES_USAGE_POINT, 1, -1, -1, 3, {SUB_UP}},
    {RT_MR_LIST, CUST, ESPI_RES_METER_READING, 1, 3, -1, -1, {SUB_UP, "MeterReading"}},
    {RT_MR_ONE, CUST, ESPI_RES_METER_READING, 1, 3, -1, 5, {SUB_UP, "MeterReading", "*"}},
    {RT_IB_LIST, CUST, ESPI_RES_INTERVAL_BLOCK, 1, 3, 5, -1,
     {SUB_UP, "MeterReading", "*", "IntervalBlock"}},
    {RT_IB_ONE, CUST, ESPI_RES_INTERVAL_BLOCK, 1, 3, 5, 7,
     {SUB_UP, "MeterReading", "*", "IntervalBlock", "*"}},
    {RT_US_LIST, CUST, ESPI_RES_USAGE_SUMMARY, 1, 3, -1, -1, {SUB_UP, "UsageSummary"}},
    {RT_US_ONE, CUST, ESPI_RES_USAGE_SUMMARY, 1, 3, -1, 5, {SUB_UP, "UsageSummary", "*"}},
    {RT_PQ_LIST, CUST, ESPI_RES_POWER_QUALITY_SUMMARY, 1, 3, -1, -1,
     {SUB_UP, "ElectricPowerQualitySummary"}},
    {RT_PQ_ONE, CUST, ESPI_RES_POWER_QUALITY_SUMMARY, 1, 3, -1, 5,
     {SUB_UP, "ElectricPowerQualitySummary", "*"}},
    {RT_LTP_LIST, CUST, ESPI_RES_LOCAL_TIME_PARAMETERS, -1, -1, -1, -1, {"LocalTimeParameters"}},
    {RT_LTP_ONE, CUST, ESPI_RES_LOCAL_TIME_PARAMETERS, -1, -1, -1, 1,
     {"LocalTimeParameters", "*"}},
    {RT_RT_LIST, CUST, ESPI_RES_READING_TYPE, -1, -1, -1, -1, {"ReadingType"}},
    {RT_RT_ONE, CUST, ESPI_RES_READING_TYPE, -1, -1, -1, 1, {"ReadingType", "*"}},
    {RT_STATUS, ANY_GRANT, ESPI_RES_SERVICE_STATUS, -1, -1, -1, -1, {"ReadServiceStatus"}},
    {RT_APP, CLIENT, ESPI_RES_APPLICATION_INFORMATION, -1, -1, -1, 1,
     {"ApplicationInformation", "*"}},
    {RT_APP_LIST, CLIENT, ESPI_RES_APPLICATION_INFORMATION, -1, -1, -1, -1,
     {"ApplicationInformation"}},
    {RT_AUTH_LIST, CLIENT, ESPI_RES_AUTHORIZATION, -1, -1, -1, -1, {"Authorization"}},
    {RT_AUTH_ONE, CLIENT, ESPI_RES_AUTHORIZATION, -1, -1, -1, 1, {"Authorization", "*"}},
};

/* One request in flight. */
typedef struct api_call {
    espi_api *a;
    const http_req *r;
    http_resp *rs;
    const route *rt;
    char buf[API_PATH_MAX];
    const char *seg[API_MAX_SEGS];
    int n;
    oauth_grant g;
    store_query q;               /* the query parameters */
    eg_err err;
} api_call;

/* ---- small helpers --------------------------------------------------------- */

static void send_text(http_resp *rs, int status, const char *msg)
{
    http_resp_status(rs, status);
    http_resp_header(rs, "Content-Type", "text/plain; charset=utf-8");
    http_resp_header(rs, "Cache-Control", "no-store");
    http_resp_printf(rs, "%s\n", msg);
}

static void send_401(http_resp *rs)
{
    http_resp_header(rs, "WWW-Authenticate", "Bearer realm=\"espigate\", error=\"invalid_token\"");
    send_text(rs, 401, "a valid bearer token is required (Authorization: Bearer <access token>)");
}

static void send_403(http_resp *rs)
{
    http_resp_header(rs, "WWW-Authenticate",
                     "Bearer realm=\"espigate\", error=\"insufficient_scope\"");
    send_text(rs, 403, "this token's grant cannot use this resource");
}

/* The one answer for "does not exist" and "not yours" (see espi_api.h). */
static void send_404(http_resp *rs)
{
    send_text(rs, 404, "not found");
}

static void send_500(api_call *c, int rc)
{
    (void)rc;
    send_text(c->rs, 500, "internal error while reading the store; try again later");
}

/* Bare id of an entry id (without "urn:uuid:"). */
static const char *bare(const char *id)
{
    return strncasecmp(id, "urn:uuid:", 9) == 0 ? id + 9 : id;
}

/* An entry is wanted as {id} when id is its bare id, its entry id, or the
 * last segment of its self href. */
static int id_matches(const espi_entry *e, const char *want)
{
    if (strcasecmp(bare(e->id), want) == 0 || strcasecmp(e->id, want) == 0) return 1;
    const char *slash = strrchr(e->self.href, '/');
    return slash && slash[1] && strcasecmp(slash + 1, want) == 0;
}

/* A growable memory sink for the writer, capped at max bytes. */
typedef struct membuf {
    char *p;
    size_t len, cap, max;
} membuf;

static int membuf_write(void *io, const char *buf, int len)
{
    membuf *m = io;
    size_t n = (size_t)len;
    if (len < 0 || n > m->max - m->len) return -1;
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap : 8192;
        while (cap < m->len + n) cap *= 2;
        char *p = realloc(m->p, cap);
        if (!p) return -1;
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, buf, n);
    m->len += n;
    return len;
}

/* A memory producer for a built body above the buffered-body limit. */
/* Send a built document (takes m's memory). */
static void send_membuf(api_call *c, const char *type, membuf *m)
{
    http_resp_status(c->rs, 200);
    http_resp_header(c->rs, "Content-Type", type);
    http_resp_header(c->rs, "Cache-Control", "no-store");
    char *p = m->p;
    m->p = NULL;
    if (http_resp_take_buffer(c->rs, p, m->len)) send_text(c->rs, 500, "out of memory");
}

/* ---- query parameters ------------------------------------------------------ */

static int param_time(api_call *c, const char *name, int64_t *out, char *msg, size_t size)
{
    const char *v = http_req_query(c->r, name);
    if (!v) return 0;
    if (espi_time_parse(v, out) == 0) return 0;
    snprintf(msg, size, "query parameter %s=\"%.64s\" is not an xs:dateTime (expected e.g. "
                        "2024-01-01T00:00:00Z)", name, v);
    return -1;
}

static int param_count(api_call *c, const char *name, long min, long *out, char *msg,
                       size_t size)
{
    const char *v = http_req_query(c->r, name);
    if (!v) return 0;
    char *end = NULL;
    long n = 0;
    if (v[0] >= '0' && v[0] <= '9' && strlen(v) <= 9) n = strtol(v, &end, 10);
    if (!end || *end || n < min) {
        snprintf(msg, size, "query parameter %s=\"%.64s\" is not an integer >= %ld", name, v,
                 min);
        return -1;
    }
    *out = n;
    return 0;
}

/* Fill c->q from the query string; -1 and msg when one is malformed. */
static int parse_params(api_call *c, char *msg, size_t size)
{
    long depth = 0;
    store_query_init(&c->q);
    if (param_time(c, "published-min", &c->q.published_min, msg, size) ||
        param_time(c, "published-max", &c->q.published_max, msg, size) ||
        param_time(c, "updated-min", &c->q.updated_min, msg, size) ||
        param_time(c, "updated-max", &c->q.updated_max, msg, size) ||
        param_count(c, "max-results", 1, &c->q.max_results, msg, size) ||
        param_count(c, "start-index", 1, &c->q.start_index, msg, size) ||
        param_count(c, "depth", 0, &depth, msg, size))
        return -1;
    return 0;
}

/* ---- routing --------------------------------------------------------------- */

/* Split what follows the root into segments; -1 when there is nothing, a
 * segment is empty (// or a trailing /) or there are too many. */
static int split(api_call *c, const char *rest)
{
    if (rest[0] != '/' || strlen(rest) >= sizeof c->buf) return -1;
    snprintf(c->buf, sizeof c->buf, "%s", rest + 1);
    char *p = c->buf;
    c->n = 0;
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash) *slash = '\0';
        if (!*p || c->n == API_MAX_SEGS) return -1;
        c->seg[c->n++] = p;
        if (!slash) return 0;
        p = slash + 1;
    }
}

static const route *match(const api_call *c)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const route *rt = &routes[i];
        int k = 0;
        while (k < c->n && rt->pat[k] && (strcmp(rt->pat[k], "*") == 0 ||
                                          strcmp(rt->pat[k], c->seg[k]) == 0))
            k++;
        if (k == c->n && (k == API_MAX_SEGS || !rt->pat[k])) return rt;
    }
    return NULL;
}

/* ---- links as the third party sees them --------------------------------------
 *
 * Stored entries keep the hrefs of the feed they came from: a translated
 * feed links to https://localhost:8443/DataCustodian/espi/1_1/resource/
 * Subscription/{the translator's id}/UsagePoint/..., a utility's
 * Download-My-Data file to RetailCustomer/{id}/UsagePoint/... or a bare
 * UsagePoint/....  A third party must be able to follow every link with
 * its own token, so on the way out each href is re-rooted: everything up to
 * "/espi/1_1/resource/" becomes this server's resource base, and a usage
 * point tree is placed under the grant's Subscription/{sid}/.  Top-level
 * resources (LocalTimeParameters, ReadingType) keep their place.  An href
 * without the ESPI path is left alone. */
#define API_RES_MARK "/espi/1_1/resource/"

static void rebase_href(char *href, const char *base, const char *sid)
{
    const char *mark = strstr(href, API_RES_MARK);
    if (!mark || !base[0]) return;
    const char *rest = mark + strlen(API_RES_MARK);
    char out[ESPI_URI_MAX];
    if (strncmp(rest, "Subscription/", 13) == 0 || strncmp(rest, "RetailCustomer/", 15) == 0) {
        const char *slash = strchr(strchr(rest, '/') + 1, '/');
        if (slash && strncmp(slash + 1, "UsagePoint", 10) == 0) rest = slash + 1;
    }
    int n;
    if (sid && sid[0] && strncmp(rest, "UsagePoint", 10) == 0)
        n = snprintf(out, sizeof out, "%s/Subscription/%s/%s", base, sid, rest);
    else
        n = snprintf(out, sizeof out, "%s/%s", base, rest);
    if (n > 0 && (size_t)n < sizeof out) memcpy(href, out, (size_t)n + 1);
}

/* Write r with its entry's links re-rooted (see above).  scratch holds the
 * re-rooted copy: one per caller, so a feed does not allocate per entry. */
static int write_linked(espi_writer *w, const espi_resource *r, const char *base,
                        const char *sid, espi_entry *scratch, eg_err *err)
{
    if (!r->entry || !base[0]) return espi_writer_resource(w, r, err);
    /* an entry is ~20 KB, mostly its unused related-link slots, and a feed
     * is mostly small IntervalBlock resources: copy what is used (the
     * copies once moved as many bytes as the feed itself) */
    const espi_entry *e = r->entry;
    int n_related = e->n_related < 0 ? 0 : e->n_related > ESPI_MAX_RELATED ? ESPI_MAX_RELATED : e->n_related;
    memcpy(scratch, e, offsetof(espi_entry, related));
    memcpy(scratch->related, e->related, (size_t)n_related * sizeof e->related[0]);
    scratch->n_related = n_related;
    scratch->line = e->line;
    rebase_href(scratch->self.href, base, sid);
    rebase_href(scratch->up.href, base, sid);
    for (int i = 0; i < scratch->n_related; i++) rebase_href(scratch->related[i].href, base, sid);
    espi_resource copy;
    copy.type = r->type;
    if (r->type == ESPI_RES_INTERVAL_BLOCK) copy.u.interval_block = r->u.interval_block;
    else copy.u = r->u;
    copy.entry = scratch;
    return espi_writer_resource(w, &copy, err);
}

/* The resource base this request's links use: origin + prefix + R. */
static void call_base(const api_call *c, char out[ESPI_URI_MAX])
{
    const char *origin = http_req_origin(c->r);
    snprintf(out, ESPI_URI_MAX, "%s%s", origin && origin[0] ? origin : "https://localhost:8443",
             c->a->root);
}

/* ---- grant-scoped lookups on the api's connection ---------------------------- */

typedef struct finder {
    const char *want;
    espi_writer *w;              /* write the match here, or NULL */
    int found;
    char id[ESPI_ID_MAX];
    const char *base, *sid;      /* link re-rooting */
    espi_entry scratch;          /* the re-rooted copy of the match */
} finder;

static int finder_cb(void *ctx, const espi_resource *r, eg_err *err)
{
    finder *f = ctx;
    int rc;
    if (!r->entry || !id_matches(r->entry, f->want)) return 0;
    f->found = 1;
    snprintf(f->id, sizeof f->id, "%s", r->entry->id);
    if (f->w && (rc = write_linked(f->w, r, f->base, f->sid, &f->scratch, err))) return rc;
    return EG_ESTOP;
}

/* Find the entry of kind `want` among the grant customer's entries (under
 * the UsagePoint up / MeterReading mr when given).  *found 0 when it is
 * not there -- or not the customer's: the same thing here. */
static int find_scoped(api_call *c, espi_resource_type kind, const char *up, const char *mr,
                       const char *want, espi_writer *w, int *found, char id[ESPI_ID_MAX])
{
    store_query q;
    store_narrow n = {kind, mr};
    char base[ESPI_URI_MAX];
    call_base(c, base);
    finder f = {.want = want, .w = w, .base = base, .sid = c->g.subscription_id};
    store_query_init(&q);
    q.customer = c->g.customer_id;
    q.usage_point = up;
    int rc = store_select_narrow(c->a->s, &q, &n, NULL, finder_cb, &f, &c->err);
    if (rc == EG_EUSAGE) rc = 0; /* customer, usage point or meter reading not stored */
    *found = f.found;
    if (id) snprintf(id, ESPI_ID_MAX, "%s", f.id);
    return rc;
}

/* ---- streams ---------------------------------------------------------------- */

typedef enum job_kind {
    JOB_EXPORT,                  /* store_export: Batch/Subscription[/UsagePoint] */
    JOB_FEED,                    /* our head + a narrowed selection: collections */
    JOB_BULK                     /* our head + several customers: Batch/Bulk */
} job_kind;

typedef struct api_stream {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int started;
    /* worker -> core: whole chunks change hands (the core sends the very
     * buffer the worker filled), under mu */
    char *chunk[API_QUEUE];
    size_t chunk_len[API_QUEUE];
    size_t qhead, qn;
    int worker_waits;            /* worker blocked on a full queue */
    int core_waits;              /* producer said HTTP_PRODUCE_WAIT */
    int finished, failed, stop;
    char *cur;                   /* worker only: the chunk being filled */
    size_t cur_len;
    time_t pushed_at;            /* worker only: mono_s() of the last push */
    http_resp *rs;
    /* the job: copies, the worker never sees the request */
    job_kind kind;
    char store_url[STORE_URL_MAX];
    store_query q;
    store_narrow n;
    char customer[OAUTH_ID_MAX], up[ESPI_ID_MAX], mr[ESPI_ID_MAX];
    espi_feed_head head_entry;
    char (*customers)[OAUTH_ID_MAX];
    char (*sids)[OAUTH_ID_MAX];  /* JOB_BULK: each customer's subscription */
    size_t n_customers, cap_customers;
    char base[ESPI_URI_MAX], sid[OAUTH_ID_MAX]; /* link re-rooting */
    char self_url[ESPI_URI_MAX];     /* the request's own URL: the feed's self link */
    espi_entry scratch;              /* write_linked's copy, reused entry after entry */
    /* worker state */
    espi_writer *w;
    long seen, sent;
    int page_full;
    uint64_t *shared;            /* JOB_BULK: hashes of LocalTimeParameters/ReadingType sent */
    size_t shared_cap, shared_n;
    eg_err err;
} api_stream;

/* Seconds of a coarse monotonic clock (cheap: no system call). */
static time_t mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return t.tv_sec;
}

/* Queue the worker's current chunk for the core; blocks while the queue
 * is full.  A blocked worker is woken when the core has taken it down to
 * API_QUEUE_LOW, and the core only when it asked (core_waits) and
 * API_WAKE_AT chunks are ready or the chunk is urgent (the last one, or
 * one that waited), so the two threads trade a few wakeups per megabyte,
 * not one per chunk.  0,
 * or 1 when the stream was stopped (the chunk is dropped). */
static int chunk_push(api_stream *st, int urgent)
{
    int wake = 0, stop;
    pthread_mutex_lock(&st->mu);
    while (st->qn == API_QUEUE && !st->stop) {
        st->worker_waits = 1;
        pthread_cond_wait(&st->cv, &st->mu);
    }
    st->worker_waits = 0;
    stop = st->stop;
    if (!stop) {
        size_t i = (st->qhead + st->qn) % API_QUEUE;
        st->chunk[i] = st->cur;
        st->chunk_len[i] = st->cur_len;
        st->qn++;
        st->cur = NULL;
        st->cur_len = 0;
        st->pushed_at = mono_s();
        wake = st->core_waits && (urgent || st->qn >= API_WAKE_AT);
        if (wake) st->core_waits = 0;
    }
    pthread_mutex_unlock(&st->mu);
    if (wake) http_resp_wake(st->rs);
    return stop;
}

/* Writer sink of the worker: fills API_CHUNK chunks and queues them.
 * Once the stream is stopped (the client went away) it swallows what it is
 * given -- failing would make libxml2 print "I/O error" for every
 * disconnect -- and the selection callbacks end the query at the next
 * entry (stopped()). */
static int chunk_write(void *io, const char *buf, int len)
{
    api_stream *st = io;
    size_t done = 0, want = len > 0 ? (size_t)len : 0;
    while (done < want) {
        if (!st->cur) {
            /* + 1: http_resp_give keeps a body NUL-terminated */
            if (!(st->cur = malloc(API_CHUNK + 1))) return -1;
            st->cur_len = 0;
        }
        size_t n = want - done, room = API_CHUNK - st->cur_len;
        if (n > room) n = room;
        memcpy(st->cur + st->cur_len, buf + done, n);
        st->cur_len += n;
        done += n;
        if (st->cur_len == API_CHUNK && chunk_push(st, 0)) return len;
    }
    /* a feed that trickles (a selective query over much data) still moves:
     * what waited a second goes out unfilled */
    if (st->cur_len && mono_s() - st->pushed_at >= 1 && chunk_push(st, 1)) return len;
    return len;
}

static int stopped(api_stream *st)
{
    pthread_mutex_lock(&st->mu);
    int s = st->stop;
    pthread_mutex_unlock(&st->mu);
    return s;
}

/* JOB_EXPORT: store_export's head and entries, with a stop check. */
static int export_head_cb(void *ctx, const espi_feed_head *h, eg_err *err)
{
    api_stream *st = ctx;
    espi_feed_head head = *h;       /* the stored head, but this URL as its self */
    snprintf(head.self.rel, sizeof head.self.rel, "self");
    snprintf(head.self.href, sizeof head.self.href, "%s", st->self_url);
    return espi_writer_begin_feed(st->w, &head, err);
}

static int feed_cb(void *ctx, const espi_resource *r, eg_err *err)
{
    api_stream *st = ctx;
    if (stopped(st)) return EG_ESTOP;
    return write_linked(st->w, r, st->base, st->sid, &st->scratch, err);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h | 1; /* 0 marks an empty slot */
}

/* Add h to the open-addressing set; 1 when it was already there. */
static int shared_seen(api_stream *st, uint64_t h)
{
    if (st->shared_n * 2 >= st->shared_cap) {
        size_t cap = st->shared_cap ? st->shared_cap * 2 : 256;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t) return 0; /* out of memory: send a duplicate rather than lose data */
        for (size_t i = 0; i < st->shared_cap; i++) {
            if (!st->shared[i]) continue;
            size_t j = st->shared[i] % cap;
            while (t[j]) j = (j + 1) % cap;
            t[j] = st->shared[i];
        }
        free(st->shared);
        st->shared = t;
        st->shared_cap = cap;
    }
    size_t j = h % st->shared_cap;
    while (st->shared[j]) {
        if (st->shared[j] == h) return 1;
        j = (j + 1) % st->shared_cap;
    }
    st->shared[j] = h;
    st->shared_n++;
    return 0;
}

/* Bulk: one feed over several customers, so paging and the de-duplication
 * of shared LocalTimeParameters/ReadingType entries happen here. */
static int bulk_cb(void *ctx, const espi_resource *r, eg_err *err)
{
    api_stream *st = ctx;
    if (stopped(st)) return EG_ESTOP;
    if ((r->type == ESPI_RES_LOCAL_TIME_PARAMETERS || r->type == ESPI_RES_READING_TYPE) &&
        r->entry && shared_seen(st, fnv1a(r->entry->id)))
        return 0;
    if (st->q.max_results > 0 && st->sent >= st->q.max_results) {
        st->page_full = 1;
        return EG_ESTOP;
    }
    if (++st->seen < st->q.start_index) return 0;
    st->sent++;
    return write_linked(st->w, r, st->base, st->sid, &st->scratch, err);
}

static int run_bulk(api_stream *st, store *s)
{
    store_query q = st->q;
    int rc = espi_writer_begin_feed(st->w, &st->head_entry, &st->err);
    q.start_index = 1;
    q.max_results = 0;
    for (size_t i = 0; !rc && i < st->n_customers && !st->page_full; i++) {
        int exists = 0;
        if ((rc = store_customer_exists(s, st->customers[i], &exists, &st->err)) || !exists)
            continue;
        q.customer = st->customers[i];
        snprintf(st->sid, sizeof st->sid, "%s", st->sids[i]);
        rc = store_select(s, &q, NULL, bulk_cb, st, &st->err);
    }
    if (!rc && stopped(st)) rc = EG_ESTOP;
    if (!rc) rc = espi_writer_end_feed(st->w, &st->err);
    return rc;
}

static void *stream_main(void *p)
{
    api_stream *st = p;
    store *s = NULL;
    st->pushed_at = mono_s();
    int rc = store_open(st->store_url, &s, &st->err);
    if (!rc && !(st->w = espi_writer_open_io(chunk_write, st, NULL, &st->err)))
        rc = st->err.code ? st->err.code : EG_ENOMEM;
    if (!rc) {
        switch (st->kind) {
        case JOB_EXPORT: /* = store_export, byte for byte, but stoppable */
            rc = store_select(s, &st->q, export_head_cb, feed_cb, st, &st->err);
            if (!rc && stopped(st)) rc = EG_ESTOP;
            if (!rc) rc = espi_writer_end_feed(st->w, &st->err);
            break;
        case JOB_FEED:
            rc = espi_writer_begin_feed(st->w, &st->head_entry, &st->err);
            if (!rc) rc = store_select_narrow(s, &st->q, &st->n, NULL, feed_cb, st, &st->err);
            if (!rc && stopped(st)) rc = EG_ESTOP;
            if (!rc) rc = espi_writer_end_feed(st->w, &st->err);
            break;
        case JOB_BULK: rc = run_bulk(st, s); break;
        }
    }
    if (st->w) {
        if (!rc) rc = espi_writer_close(st->w, &st->err);
        else espi_writer_abort(st->w);
        st->w = NULL;
    }
    store_close(s);
    if (!rc && st->cur_len) chunk_push(st, 1); /* the last, partial chunk */
    if (rc && rc != EG_ESTOP) {
        /* the status line is gone; the operator still has to learn why */
        char msg[EG_ERR_MSG_MAX + 64];
        fprintf(stderr, "espigate serve: a streamed response was cut: %s\n",
                eg_err_format(&st->err, msg, sizeof msg));
    }
    pthread_mutex_lock(&st->mu);
    st->finished = 1;
    st->failed = rc != 0;
    pthread_mutex_unlock(&st->mu);
    http_resp_wake(st->rs);
    return NULL;
}

static int stream_produce(void *ctx, http_resp *rs)
{
    api_stream *st = ctx;
    int rc = 1;
    char *p = NULL;
    size_t n = 0;
    pthread_mutex_lock(&st->mu);
    if (st->qn == 0) {
        rc = !st->finished ? HTTP_PRODUCE_WAIT : st->failed ? -1 : 0;
        if (rc == HTTP_PRODUCE_WAIT) st->core_waits = 1;
    } else {
        p = st->chunk[st->qhead];
        n = st->chunk_len[st->qhead];
        st->chunk[st->qhead] = NULL;
        st->qhead = (st->qhead + 1) % API_QUEUE;
        st->qn--;
        if (st->worker_waits && st->qn <= API_QUEUE_LOW) pthread_cond_signal(&st->cv);
    }
    pthread_mutex_unlock(&st->mu);
    if (p && http_resp_give(rs, p, n)) rc = -1;
    return rc;
}

static void stream_free(api_stream *st)
{
    for (size_t i = 0; i < st->qn; i++) free(st->chunk[(st->qhead + i) % API_QUEUE]);
    free(st->cur);
    free(st->customers);
    free(st->sids);
    free(st->shared);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* done(): stop the worker (it ends at its next entry), join it, free. */
static void stream_done(void *ctx)
{
    api_stream *st = ctx;
    pthread_mutex_lock(&st->mu);
    st->stop = 1;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    if (st->started) pthread_join(st->th, NULL);
    stream_free(st);
}

static api_stream *stream_new(api_call *c, job_kind kind)
{
    api_stream *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    st->kind = kind;
    st->rs = c->rs;
    snprintf(st->store_url, sizeof st->store_url, "%s", c->a->store_url);
    st->q = c->q;
    st->q.customer = NULL;
    st->q.usage_point = NULL;
    call_base(c, st->base);
    snprintf(st->sid, sizeof st->sid, "%s", c->g.subscription_id);
    const char *origin = http_req_origin(c->r);
    snprintf(st->self_url, sizeof st->self_url, "%s%s",
             origin && origin[0] ? origin : "https://localhost:8443", http_req_path(c->r));
    return st;
}

/* Hand st to the core and start its worker; on failure answer 500. */
static void stream_start(api_call *c, api_stream *st)
{
    http_resp_status(c->rs, 200);
    http_resp_header(c->rs, "Content-Type", CT_ATOM);
    http_resp_header(c->rs, "Cache-Control", "no-store");
    if (pthread_create(&st->th, NULL, stream_main, st) != 0) {
        stream_free(st);
        send_text(c->rs, 500, "cannot start a stream worker; try again later");
        return;
    }
    st->started = 1;
    http_resp_stream(c->rs, stream_produce, stream_done, st);
}

/* The header of a feed we compose (collections, Bulk). */
static void make_head(api_call *c, const char *title, espi_feed_head *h)
{
    const char *origin = http_req_origin(c->r);
    char key[API_PATH_MAX + 64];
    memset(h, 0, sizeof *h);
    snprintf(key, sizeof key, "espigate:api:%s", http_req_path(c->r));
    espi_uuid5(key, h->id);
    snprintf(h->title, sizeof h->title, "%s", title);
    h->updated = (int64_t)time(NULL);
    snprintf(h->self.rel, sizeof h->self.rel, "self");
    snprintf(h->self.href, sizeof h->self.href, "%s%s",
             origin && origin[0] ? origin : "https://localhost:8443", http_req_path(c->r));
}

/* ---- customer routes --------------------------------------------------------- */

static void serve_entry(api_call *c, const char *up, const char *mr, const char *want)
{
    membuf m = {NULL, 0, 0, API_ENTRY_MAX};
    int found = 0, rc;
    espi_writer *w = espi_writer_open_io(membuf_write, &m, NULL, &c->err);
    if (!w) {
        send_500(c, EG_ENOMEM);
        return;
    }
    rc = find_scoped(c, c->rt->kind, up, mr, want, w, &found, NULL);
    if (!rc && found) rc = espi_writer_close(w, &c->err);
    else espi_writer_abort(w);
    if (rc) send_500(c, rc);
    else if (!found) send_404(c->rs);
    else send_membuf(c, CT_ATOM, &m);
    free(m.p);
}

static void serve_customer(api_call *c)
{
    const route *rt = c->rt;
    char up[ESPI_ID_MAX] = "", mr[ESPI_ID_MAX] = "";
    int found = 0, rc = 0;
    if (!c->g.customer_id[0] || !c->g.subscription_id[0] ||
        (rt->sid >= 0 && strcasecmp(c->seg[rt->sid], c->g.subscription_id) != 0) ||
        (rt->rid == RT_BATCH_RC && strcmp(c->seg[2], c->g.customer_id) != 0)) {
        send_404(c->rs);
        return;
    }
    if ((rc = store_customer_exists(c->a->s, c->g.customer_id, &found, &c->err))) goto fail;
    if (!found) goto not_found;
    if (rt->up >= 0) {
        rc = find_scoped(c, ESPI_RES_USAGE_POINT, NULL, NULL, c->seg[rt->up], NULL, &found, up);
        if (rc) goto fail;
        if (!found) goto not_found;
    }
    if (rt->mr >= 0) {
        rc = find_scoped(c, ESPI_RES_METER_READING, up, NULL, c->seg[rt->mr], NULL, &found, mr);
        if (rc) goto fail;
        if (!found) goto not_found;
    }
    if (rt->id >= 0) {
        serve_entry(c, up[0] ? up : NULL, mr[0] ? mr : NULL, c->seg[rt->id]);
        return;
    }
    api_stream *st = stream_new(c, rt->rid == RT_BATCH_SUB || rt->rid == RT_BATCH_SUB_UP ||
                                           rt->rid == RT_BATCH_RC
                                       ? JOB_EXPORT : JOB_FEED);
    if (!st) {
        rc = EG_ENOMEM;
        goto fail;
    }
    snprintf(st->customer, sizeof st->customer, "%s", c->g.customer_id);
    snprintf(st->up, sizeof st->up, "%s", up);
    snprintf(st->mr, sizeof st->mr, "%s", mr);
    st->q.customer = st->customer;
    st->q.usage_point = up[0] ? st->up : NULL;
    st->n.kind = rt->kind;
    st->n.meter_reading = mr[0] ? st->mr : NULL;
    if (st->kind == JOB_FEED) make_head(c, espi_resource_name(rt->kind), &st->head_entry);
    stream_start(c, st);
    return;
not_found:
    send_404(c->rs);
    return;
fail:
    send_500(c, rc);
}

/* ---- client routes ----------------------------------------------------------- */

static void serve_app(api_call *c)
{
    espi_application_information *ai = NULL;
    espi_entry *e = NULL;
    espi_writer *w = NULL;
    membuf m = {NULL, 0, 0, API_ENTRY_MAX};
    int rc = 0, list = c->rt->rid == RT_APP_LIST;
    /* the entry's own id (its self link) or the client id; only one's own */
    const char *want = list ? c->g.client_id : c->seg[c->rt->id];
    if (!c->a->o.app_info) {
        send_404(c->rs);
        return;
    }
    ai = malloc(sizeof *ai);
    e = malloc(sizeof *e);
    if (!ai || !e) {
        rc = EG_ENOMEM;
        goto done;
    }
    espi_application_information_init(ai);
    espi_entry_init(e);
    rc = c->a->o.app_info(c->a->o.ctx, want, e, ai, &c->err);
    if (rc) goto done;
    if (strcmp(ai->client_id, c->g.client_id) != 0) {
        rc = EG_ENOINPUT; /* another client's: as if unknown */
        goto done;
    }
    if (!(w = espi_writer_open_io(membuf_write, &m, NULL, &c->err))) {
        rc = EG_ENOMEM;
        goto done;
    }
    if (list) {
        espi_feed_head h;
        make_head(c, "ApplicationInformation", &h);
        rc = espi_writer_begin_feed(w, &h, &c->err);
    }
    if (!rc) rc = espi_writer_application_information(w, e, ai, &c->err);
    if (!rc && list) rc = espi_writer_end_feed(w, &c->err);
    if (!rc) rc = espi_writer_close(w, &c->err);
    else espi_writer_abort(w);
done:
    if (rc == EG_ENOINPUT) send_404(c->rs);
    else if (rc) send_500(c, rc);
    else send_membuf(c, CT_ATOM, &m);
    free(m.p);
    free(ai);
    free(e);
}

typedef struct auth_ctx {
    api_call *c;
    espi_writer *w;
    const char *want;            /* Authorization/{id}, or NULL for the feed */
    long seen, sent;
    int found;
} auth_ctx;

static int in_range(int64_t t, int64_t lo, int64_t hi)
{
    int64_t v = t == ESPI_NONE ? 0 : t;
    return (lo == ESPI_NONE || v >= lo) && (hi == ESPI_NONE || v <= hi);
}

static int auth_cb(void *p, const espi_entry *e, const espi_authorization *a, eg_err *err)
{
    auth_ctx *x = p;
    const store_query *q = &x->c->q;
    if (x->want) {
        if (!id_matches(e, x->want)) return 0; /* fail closed: only the one asked for */
        x->found = 1;
        int rc = espi_writer_authorization(x->w, e, a, err);
        return rc ? rc : EG_ESTOP;
    }
    if (!in_range(e->published, q->published_min, q->published_max) ||
        !in_range(e->updated, q->updated_min, q->updated_max))
        return 0;
    if (q->max_results > 0 && x->sent >= q->max_results) return EG_ESTOP;
    if (++x->seen < q->start_index) return 0;
    x->sent++;
    return espi_writer_authorization(x->w, e, a, err);
}

static void serve_authorizations(api_call *c)
{
    membuf m = {NULL, 0, 0, API_ENTRY_MAX};
    auth_ctx x = {c, NULL, c->rt->id >= 0 ? c->seg[c->rt->id] : NULL, 0, 0, 0};
    espi_feed_head h;
    int rc = 0;
    if (!c->a->o.authorizations) {
        send_404(c->rs);
        return;
    }
    if (!(x.w = espi_writer_open_io(membuf_write, &m, NULL, &c->err))) {
        send_500(c, EG_ENOMEM);
        return;
    }
    if (!x.want) {
        make_head(c, "Authorization", &h);
        rc = espi_writer_begin_feed(x.w, &h, &c->err);
    }
    if (!rc) rc = c->a->o.authorizations(c->a->o.ctx, c->g.client_id, x.want, auth_cb, &x,
                                         &c->err);
    if (rc == EG_ESTOP) rc = 0;
    if (!rc && !x.want) rc = espi_writer_end_feed(x.w, &c->err);
    if (!rc && (x.found || !x.want)) rc = espi_writer_close(x.w, &c->err);
    else espi_writer_abort(x.w);
    if (rc) send_500(c, rc);
    else if (x.want && !x.found) send_404(c->rs);
    else send_membuf(c, CT_ATOM, &m);
    free(m.p);
}

static int bulk_add(void *p, const char *customer_id, const char *subscription_id)
{
    api_stream *st = p;
    if (st->n_customers == st->cap_customers) {
        size_t cap = st->cap_customers ? st->cap_customers * 2 : 16;
        char(*v)[OAUTH_ID_MAX] = realloc(st->customers, cap * sizeof *v);
        if (!v) return EG_ENOMEM;
        st->customers = v;
        char(*w)[OAUTH_ID_MAX] = realloc(st->sids, cap * sizeof *w);
        if (!w) return EG_ENOMEM;
        st->sids = w;
        st->cap_customers = cap;
    }
    snprintf(st->sids[st->n_customers], OAUTH_ID_MAX, "%s", subscription_id ? subscription_id : "");
    snprintf(st->customers[st->n_customers++], OAUTH_ID_MAX, "%s", customer_id);
    return 0;
}

static void serve_bulk(api_call *c)
{
    api_stream *st;
    char title[ESPI_STR256];
    int rc;
    if (!c->a->o.bulk_customers || strcmp(c->seg[c->rt->id], c->g.client_id) != 0) {
        send_404(c->rs);
        return;
    }
    if (!(st = stream_new(c, JOB_BULK))) {
        send_500(c, EG_ENOMEM);
        return;
    }
    rc = c->a->o.bulk_customers(c->a->o.ctx, c->g.client_id, bulk_add, st, &c->err);
    if (rc) {
        stream_free(st);
        send_500(c, rc);
        return;
    }
    snprintf(title, sizeof title, "Green Button bulk data of %.200s", c->g.client_id);
    make_head(c, title, &st->head_entry);
    stream_start(c, st);
}

/* The ServiceStatus document, made once with the writer (it never changes:
 * this server answers only while it is available). */
static int make_status_doc(espi_api *a, eg_err *err)
{
    membuf m = {NULL, 0, 0, API_ENTRY_MAX};
    espi_service_status_res ss = {ESPI_SERVICE_AVAILABLE};
    espi_writer *w = espi_writer_open_io(membuf_write, &m, NULL, err);
    int rc = w ? espi_writer_service_status(w, &ss, err) : EG_ENOMEM;
    if (w && !rc) rc = espi_writer_close(w, err);
    else if (w) espi_writer_abort(w);
    if (rc) {
        free(m.p);
        return rc;
    }
    a->status_doc = m.p;
    a->status_len = m.len;
    return 0;
}

static void serve_status(api_call *c)
{
    http_resp_status(c->rs, 200);
    http_resp_header(c->rs, "Content-Type", CT_XML);
    http_resp_header(c->rs, "Cache-Control", "no-store");
    if (http_resp_write(c->rs, c->a->status_doc, c->a->status_len)) send_500(c, EG_ENOMEM);
}

/* ---- the handler --------------------------------------------------------------- */

static int authenticate(api_call *c)
{
    const char *h = http_req_header(c->r, "Authorization");
    memset(&c->g, 0, sizeof c->g);
    if (!h || !c->a->o.authorize) return EG_EINVALID;
    int rc = c->a->o.authorize(c->a->o.ctx, h, &c->g, &c->err);
    if (rc == 0 && c->g.kind != OAUTH_GRANT_CUSTOMER && c->g.kind != OAUTH_GRANT_CLIENT)
        rc = EG_EINVALID; /* fail closed on a grant we do not understand */
    c->g.customer_id[sizeof c->g.customer_id - 1] = '\0';
    c->g.subscription_id[sizeof c->g.subscription_id - 1] = '\0';
    c->g.client_id[sizeof c->g.client_id - 1] = '\0';
    return rc;
}

int espi_api_handle(void *api, const http_req *r, http_resp *rs)
{
    espi_api *a = api;
    const char *path = http_req_path(r);
    char msg[256];
    if (strncmp(path, a->root, a->root_len) != 0 ||
        (path[a->root_len] != '\0' && path[a->root_len] != '/'))
        return 0;
    api_call *c = calloc(1, sizeof *c);
    if (!c) {
        send_text(rs, 500, "out of memory");
        return 1;
    }
    c->a = a;
    c->r = r;
    c->rs = rs;
    if (strcmp(http_req_method(r), "GET") != 0) {
        http_resp_header(rs, "Allow", "GET");
        send_text(rs, 405, "only GET is allowed on ESPI resources");
        goto done;
    }
    if (split(c, path + a->root_len) || !(c->rt = match(c))) {
        send_404(rs);
        goto done;
    }
    int rc = authenticate(c);
    if (rc == EG_EINVALID) {
        send_401(rs);
        goto done;
    }
    if (rc) {
        send_500(c, rc);
        goto done;
    }
    if (parse_params(c, msg, sizeof msg)) {
        send_text(rs, 400, msg);
        goto done;
    }
    if (c->rt->grant != ANY_GRANT && (int)c->g.kind != c->rt->grant) {
        send_403(rs);
        goto done;
    }
    switch (c->rt->rid) {
    case RT_STATUS: serve_status(c); break;
    case RT_APP:
    case RT_APP_LIST: serve_app(c); break;
    case RT_AUTH_LIST:
    case RT_AUTH_ONE: serve_authorizations(c); break;
    case RT_BULK: serve_bulk(c); break;
    default: serve_customer(c); break;
    }
done:
    free(c);
    return 1;
}

/* ---- lifetime --------------------------------------------------------------------- */

static int warm_cb(void *ctx, const espi_resource *r, eg_err *err)
{
    (void)ctx;
    (void)r;
    (void)err;
    return 0;
}

espi_api *espi_api_new(store *s, const espi_api_opts *o, eg_err *err)
{
    static const char probe[] = "<ServiceStatus xmlns=\"" ESPI_NS "\"><currentStatus>1"
                                "</currentStatus></ServiceStatus>";
    const char *prefix = o && o->prefix ? o->prefix : "";
    if (!s || !o || !o->store_url || !o->store_url[0])
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "espi_api_new: a store and its URL (opts.store_url) are required"),
               NULL;
    if (strlen(prefix) + sizeof API_ROOT > sizeof ((espi_api *)0)->root ||
        (prefix[0] && (prefix[0] != '/' || prefix[strlen(prefix) - 1] == '/')))
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "URL prefix '%.100s': expected '' or '/Name' without a trailing '/' "
                       "(e.g. /DataCustodian)", prefix),
               NULL;
    if (strlen(o->store_url) >= STORE_URL_MAX)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "store URL longer than %d bytes",
                       STORE_URL_MAX - 1),
               NULL;
    espi_api *a = calloc(1, sizeof *a);
    if (!a) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory"), NULL;
    a->s = s;
    a->o = *o;
    snprintf(a->root, sizeof a->root, "%s%s", prefix, API_ROOT);
    a->root_len = strlen(a->root);
    snprintf(a->store_url, sizeof a->store_url, "%s", o->store_url);
    a->o.prefix = NULL;
    a->o.store_url = a->store_url;
    /* libxml2's one-time initialisation must not race between stream
     * workers: run the parser once here, on the caller's thread. */
    espi_reader_opts ro;
    espi_reader_opts_init(&ro);
    espi_reader_cbs cbs = {NULL, NULL, warm_cb, NULL, NULL};
    espi_read_memory(probe, sizeof probe - 1, "probe", &ro, &cbs, NULL, NULL);
    if (make_status_doc(a, err)) {
        free(a);
        return NULL;
    }
    return a;
}

void espi_api_free(espi_api *a)
{
    if (!a) return;
    free(a->status_doc);
    free(a);
}
