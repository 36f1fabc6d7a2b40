/* test_espi_api.c -- the ESPI REST resource server, without sockets.
 *
 * One store per group (SQLite file; then a throw-away PostgreSQL 15 via
 * pgtmp.sh, skipped cleanly when PostgreSQL is absent) holds three
 * customers: alice (samples/espi/demo.xml: 1 UsagePoint, 8 entries), bob
 * (samples/smarthub/poll_multi_meter.expected.xml: 2 UsagePoints, 12
 * entries) and carol (a synthetic 60-day 15-minute feed, ~2 MB, bigger than
 * the stream ring).  Stub callbacks stand in for OAuth and the custodian
 * records: token "tok-a" is alice's subscription, "tok-b" bob's, "tok-c"
 * carol's, "tok-app" a client_credentials grant of client "app1".
 *
 * Requests are built with http_req_new and handed to espi_api_handle;
 * streamed answers are drained through the producer loop exactly as the
 * server core does (HTTP_PRODUCE_WAIT waits for http_resp_wake).  Every
 * body is parsed with the espi reader (schema checking on) and compared
 * with what the sample files hold. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pgtest.h"

#include "espi_api.h"
#include "http.h"
#include "reader.h"
#include "store.h"
#include "synth.h"
#include "writer.h"

#define R "/DataCustodian/espi/1_1/resource"
#define SID_A "11111111-1111-4111-8111-111111111111"
#define SID_B "22222222-2222-4222-8222-222222222222"
#define SID_C "33333333-3333-4333-8333-333333333333"
#define UP_A "ca468173-378e-5cad-a411-a961c2bef043"
#define MR_A "3cf15b50-9805-523f-8aa2-e966062a5bc9"
#define IB_A "5be3fad3-d9af-5ec5-8c26-d03a45b977a3"
#define US_A "1803acdb-358e-51c0-9c63-6106562031a9"
#define LTP_A "c057d101-a5d2-5125-9a29-7b97f04ada0d"
#define RT_A "4ed24de1-fd16-5ce9-a26d-9dfcc205ee81"
#define UP_B1 "960af1a5-c40f-5b71-a915-a6294d2c5407"
#define UP_B2 "aae0bd70-c88d-5aff-985e-0edcb0c23312"
#define AUTH_1 "aaaaaaaa-0000-4000-8000-000000000001"
#define AUTH_2 "aaaaaaaa-0000-4000-8000-000000000002"

typedef struct env {
    pgtest_backend b;       /* pgtest.h: the folder, the cluster, the group's store */
    store *s;
    espi_api *api;
} env;

/* ---- stubs for OAuth and the custodian records ------------------------------- */

static void grant_customer(oauth_grant *g, const char *customer, const char *sid)
{
    memset(g, 0, sizeof *g);
    g->kind = OAUTH_GRANT_CUSTOMER;
    snprintf(g->client_id, sizeof g->client_id, "app1");
    snprintf(g->subscription_id, sizeof g->subscription_id, "%s", sid);
    snprintf(g->customer_id, sizeof g->customer_id, "%s", customer);
    g->expires_at = (int64_t)time(NULL) + 3600;
}

static int stub_authorize(void *ctx, const char *h, oauth_grant *g, eg_err *err)
{
    (void)ctx;
    if (strcmp(h, "Bearer tok-a") == 0) grant_customer(g, "alice", SID_A);
    else if (strcmp(h, "Bearer tok-b") == 0) grant_customer(g, "bob", SID_B);
    else if (strcmp(h, "Bearer tok-c") == 0) grant_customer(g, "carol", SID_C);
    else if (strcmp(h, "Bearer tok-app") == 0) {
        memset(g, 0, sizeof *g);
        g->kind = OAUTH_GRANT_CLIENT;
        snprintf(g->client_id, sizeof g->client_id, "app1");
    } else
        return eg_errf(err, EG_EINVALID, NULL, 0, 0, "unknown token");
    return 0;
}

static void stub_entry(espi_entry *e, const char *kind, const char *id)
{
    espi_entry_init(e);
    snprintf(e->id, sizeof e->id, "urn:uuid:%s", id);
    snprintf(e->title, sizeof e->title, "%s", kind);
    e->published = e->updated = 1700000000;
    snprintf(e->self.rel, sizeof e->self.rel, "self");
    snprintf(e->self.href, sizeof e->self.href, "https://localhost:8443" R "/%s/%s", kind, id);
    snprintf(e->up.rel, sizeof e->up.rel, "up");
    snprintf(e->up.href, sizeof e->up.href, "https://localhost:8443" R "/%s", kind);
}

static int stub_app_info(void *ctx, const char *client_id, espi_entry *e,
                         espi_application_information *a, eg_err *err)
{
    (void)ctx;
    if (strcmp(client_id, "app1") != 0) return eg_errf(err, EG_ENOINPUT, NULL, 0, 0, "unknown");
    stub_entry(e, "ApplicationInformation", "app1");
    snprintf(a->client_id, sizeof a->client_id, "app1");
    snprintf(a->client_name, sizeof a->client_name, "Test App");
    snprintf(a->redirect_uri[0], sizeof a->redirect_uri[0], "https://app.example/cb");
    a->n_redirect_uri = 1;
    snprintf(a->scope[0], sizeof a->scope[0], "FB=1_3_4_5_13_14_39");
    a->n_scope = 1;
    snprintf(a->data_custodian_id, sizeof a->data_custodian_id, "espigate");
    a->data_custodian_application_status = ESPI_DC_APP_PRODUCTION;
    snprintf(a->data_custodian_bulk_request_uri, sizeof a->data_custodian_bulk_request_uri,
             "https://localhost:8443" R "/Batch/Bulk/app1");
    snprintf(a->client_secret, sizeof a->client_secret, "not-shown");
    snprintf(a->software_id, sizeof a->software_id, "test-app");
    snprintf(a->software_version, sizeof a->software_version, "1.0");
    a->client_id_issued_at = 1700000000;
    a->client_secret_expires_at = 0;
    snprintf(a->token_endpoint_auth_method, sizeof a->token_endpoint_auth_method,
             "client_secret_basic");
    snprintf(a->grant_types[0], sizeof a->grant_types[0], "authorization_code");
    snprintf(a->grant_types[1], sizeof a->grant_types[1], "client_credentials");
    a->n_grant_types = 2;
    snprintf(a->response_types, sizeof a->response_types, "code");
    snprintf(a->registration_client_uri, sizeof a->registration_client_uri,
             "https://localhost:8443" R "/ApplicationInformation/app1");
    snprintf(a->registration_access_token, sizeof a->registration_access_token, "hidden");
    snprintf(a->third_party_notify_uri, sizeof a->third_party_notify_uri, "https://app.example/n");
    snprintf(a->authorization_server_authorization_endpoint,
             sizeof a->authorization_server_authorization_endpoint,
             "https://localhost:8443/DataCustodian/oauth/authorize");
    snprintf(a->authorization_server_token_endpoint,
             sizeof a->authorization_server_token_endpoint,
             "https://localhost:8443/DataCustodian/oauth/token");
    snprintf(a->data_custodian_resource_endpoint, sizeof a->data_custodian_resource_endpoint,
             "https://localhost:8443" R);
    return 0;
}

static int stub_authorizations(void *ctx, const char *client_id, const char *id,
                               int (*cb)(void *, const espi_entry *, const espi_authorization *,
                                         eg_err *),
                               void *cbctx, eg_err *err)
{
    const char *ids[2] = {AUTH_1, AUTH_2};
    (void)ctx;
    if (strcmp(client_id, "app1") != 0) return 0;
    for (int i = 0; i < 2; i++) {
        espi_entry e;
        espi_authorization a;
        if (id && strcmp(id, ids[i]) != 0) continue;
        stub_entry(&e, "Authorization", ids[i]);
        espi_authorization_init(&a);
        a.status = ESPI_AUTH_ACTIVE;
        a.expires_at = 1900000000;
        snprintf(a.scope, sizeof a.scope, "FB=1_3_4_5_13_14_39");
        snprintf(a.token_type, sizeof a.token_type, "Bearer");
        snprintf(a.resource_uri, sizeof a.resource_uri,
                 "https://localhost:8443" R "/Batch/Subscription/%s", i ? SID_B : SID_A);
        snprintf(a.authorization_uri, sizeof a.authorization_uri,
                 "https://localhost:8443" R "/Authorization/%s", ids[i]);
        int rc = cb(cbctx, &e, &a, err);
        if (rc) return rc;
    }
    return 0;
}

static int stub_bulk(void *ctx, const char *client_id,
                     int (*cb)(void *, const char *, const char *), void *cbctx, eg_err *err)
{
    (void)ctx;
    (void)err;
    if (strcmp(client_id, "app1") != 0) return 0;
    int rc = cb(cbctx, "alice", SID_A);
    if (!rc) rc = cb(cbctx, "bob", SID_B);
    return rc;
}

/* ---- requests and responses ---------------------------------------------------- */

typedef struct waker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int flag;
} waker;

static void wake_fn(void *p)
{
    waker *w = p;
    pthread_mutex_lock(&w->mu);
    w->flag = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

typedef struct reply {
    int status, handled;
    char *body;
    size_t len;
    char type[128], www[256], allow[32];
} reply;

static http_resp *request(env *e, const char *method, const char *target, const char *token,
                          int *handled)
{
    http_req *r = NULL;
    eg_err err;
    assert_int_equal(http_req_new(method, target, &r, &err), 0);
    if (token) {
        char h[128];
        snprintf(h, sizeof h, "Bearer %s", token);
        assert_int_equal(http_req_add_header(r, "Authorization", h), 0);
    }
    http_req_set_origin(r, "https://localhost:8443");
    http_resp *rs = http_resp_new();
    assert_non_null(rs);
    *handled = espi_api_handle(e->api, r, rs);
    http_req_free(r);
    return rs;
}

/* Drain a response like the core: buffered body, or the producer loop. */
static reply fetch_as(env *e, const char *method, const char *target, const char *token)
{
    reply out;
    memset(&out, 0, sizeof out);
    http_resp *rs = request(e, method, target, token, &out.handled);
    waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    http_resp_set_waker(rs, wake_fn, &w);
    size_t cap = 1 << 16, len = 0;
    char *body = malloc(cap);
    assert_non_null(body);
    for (;;) {
        size_t n;
        char *chunk = http_resp_take_body(rs, &n);
        if (len + n + 1 > cap) {
            while (len + n + 1 > cap) cap *= 2;
            body = realloc(body, cap);
            assert_non_null(body);
        }
        memcpy(body + len, chunk, n);
        len += n;
        free(chunk);
        if (!http_resp_is_stream(rs)) break;
        int rc = http_resp_produce(rs);
        if (rc == HTTP_PRODUCE_WAIT) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 20;
            pthread_mutex_lock(&w.mu);
            while (!w.flag)
                assert_int_equal(pthread_cond_timedwait(&w.cv, &w.mu, &until), 0);
            w.flag = 0;
            pthread_mutex_unlock(&w.mu);
            continue;
        }
        assert_true(rc == 0 || rc == 1);
        if (rc == 0) {
            chunk = http_resp_take_body(rs, &n);
            body = realloc(body, len + n + 1);
            memcpy(body + len, chunk, n);
            len += n;
            free(chunk);
            break;
        }
    }
    body[len] = '\0';
    out.body = body;
    out.len = len;
    out.status = http_resp_get_status(rs);
    const char *v = http_resp_get_header(rs, "Content-Type");
    snprintf(out.type, sizeof out.type, "%s", v ? v : "");
    v = http_resp_get_header(rs, "WWW-Authenticate");
    snprintf(out.www, sizeof out.www, "%s", v ? v : "");
    v = http_resp_get_header(rs, "Allow");
    snprintf(out.allow, sizeof out.allow, "%s", v ? v : "");
    http_resp_free(rs);
    return out;
}

static reply fetch(env *e, const char *target, const char *token)
{
    return fetch_as(e, "GET", target, token);
}

/* What a body holds, read back with the espi reader. */
typedef struct parsed {
    int feed;                    /* a feed head was seen */
    long n, by_type[ESPI_RES_COUNT];
    long errors;
    char ids[64][ESPI_ID_MAX];   /* first 64 entry ids in order */
    int64_t status;
} parsed;

static int parsed_head(void *p, const espi_feed_head *h, eg_err *err)
{
    (void)h;
    (void)err;
    ((parsed *)p)->feed = 1;
    return 0;
}

static int parsed_res(void *p, const espi_resource *r, eg_err *err)
{
    parsed *x = p;
    (void)err;
    if (x->n < 64 && r->entry) snprintf(x->ids[x->n], ESPI_ID_MAX, "%s", r->entry->id);
    if (r->type == ESPI_RES_SERVICE_STATUS) x->status = r->u.service_status.current_status;
    x->by_type[r->type]++;
    x->n++;
    return 0;
}

static void parsed_diag(void *p, const espi_diag *d)
{
    if (d->severity == ESPI_SEV_ERROR) {
        fprintf(stderr, "# diag %s: %s\n", d->rule, d->msg);
        ((parsed *)p)->errors++;
    }
}

static parsed parse(const reply *rp)
{
    parsed x;
    espi_reader_opts o;
    eg_err err;
    memset(&x, 0, sizeof x);
    espi_reader_opts_init(&o);
    espi_reader_cbs cbs = {&x, parsed_head, parsed_res, parsed_diag, NULL};
    int rc = espi_read_memory(rp->body, rp->len, "response", &o, &cbs, NULL, &err);
    if (rc) fprintf(stderr, "# parse: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(x.errors, 0);
    return x;
}

static int has_id(const parsed *x, const char *bare)
{
    for (long i = 0; i < x->n && i < 64; i++)
        if (strstr(x->ids[i], bare)) return 1;
    return 0;
}

/* 200, Atom, parses; a feed of n entries (or an entry when n < 0). */
static parsed expect_atom(env *e, const char *target, const char *token, long n)
{
    reply rp = fetch(e, target, token);
    if (rp.status != 200) fprintf(stderr, "# %s -> %d %s\n", target, rp.status, rp.body);
    assert_int_equal(rp.status, 200);
    assert_string_equal(rp.type, "application/atom+xml");
    parsed x = parse(&rp);
    if (n < 0) {
        assert_false(x.feed);
        assert_int_equal(x.n, 1);
    } else {
        assert_true(x.feed);
        if (x.n != n) fprintf(stderr, "# %s: %ld entries, expected %ld\n", target, x.n, n);
        assert_int_equal(x.n, n);
    }
    free(rp.body);
    return x;
}

/* The not-found answer, with nothing of the data in it. */
static void expect_hidden(env *e, const char *target, const char *token)
{
    reply rp = fetch(e, target, token);
    if (rp.status != 404) fprintf(stderr, "# %s -> %d\n", target, rp.status);
    assert_int_equal(rp.status, 404);
    assert_string_equal(rp.body, "not found\n");
    free(rp.body);
}

static void expect_status(env *e, const char *target, const char *token, int status)
{
    reply rp = fetch(e, target, token);
    if (rp.status != status) fprintf(stderr, "# %s -> %d %s\n", target, rp.status, rp.body);
    assert_int_equal(rp.status, status);
    assert_null(strstr(rp.body, "urn:uuid"));
    free(rp.body);
}

/* store_export of one customer into memory, the reference for Batch. */
static int mem_write(void *io, const char *buf, int len)
{
    reply *rp = io;
    rp->body = realloc(rp->body, rp->len + (size_t)len + 1);
    memcpy(rp->body + rp->len, buf, (size_t)len);
    rp->len += (size_t)len;
    rp->body[rp->len] = '\0';
    return len;
}

static reply export_of(env *e, const char *customer)
{
    reply rp;
    eg_err err;
    store_query q;
    memset(&rp, 0, sizeof rp);
    store_query_init(&q);
    q.customer = customer;
    espi_writer *w = espi_writer_open_io(mem_write, &rp, NULL, &err);
    assert_non_null(w);
    assert_int_equal(store_export(e->s, &q, w, NULL, &err), 0);
    assert_int_equal(espi_writer_close(w, &err), 0);
    return rp;
}

/* body with every href="..." value emptied (a copy; caller frees). */
static char *without_hrefs(const char *body)
{
    char *out = malloc(strlen(body) + 1), *o = out;
    assert_non_null(out);
    while (*body) {
        if (strncmp(body, "href=\"", 6) == 0) {
            memcpy(o, body, 6);
            o += 6;
            body += 6;
            while (*body && *body != '"') body++;
            continue;
        }
        *o++ = *body++;
    }
    *o = '\0';
    return out;
}

/* Every ESPI link points at this server, and each usage point tree is under
 * the grant's own Subscription/{sid}. */
static void assert_links_rooted(const char *body, const char *sid)
{
    for (const char *p = strstr(body, "href=\""); p; p = strstr(p + 1, "href=\"")) {
        const char *v = p + 6, *end = strchr(v, '"');
        char href[1100];
        snprintf(href, sizeof href, "%.*s", (int)(end - v), v);
        if (!strstr(href, "/espi/1_1/resource/")) continue;
        if (strncmp(href, "https://localhost:8443/DataCustodian/espi/1_1/resource/", 55) != 0)
            fail_msg("link %s not under this server's resource base", href);
        if (strstr(href, "/UsagePoint")) {
            char want[200];
            snprintf(want, sizeof want, "/espi/1_1/resource/Subscription/%s/UsagePoint", sid);
            if (!strstr(href, want)) fail_msg("link %s not under Subscription/%s", href, sid);
        }
    }
}

#define NEED(e)                                                                                \
    do {                                                                                       \
        if ((e)->b.skip) skip();                                                                 \
    } while (0)

/* ---- tests ----------------------------------------------------------------------- */

static void test_api_batch_subscription_streams_the_customers_export(void **state)
{
    env *e = *state;
    NEED(e);
    const char *cust[3] = {"alice", "bob", "carol"}, *tok[3] = {"tok-a", "tok-b", "tok-c"};
    const char *sid[3] = {SID_A, SID_B, SID_C};
    for (int i = 0; i < 3; i++) {
        char target[256];
        snprintf(target, sizeof target, R "/Batch/Subscription/%s", sid[i]);
        reply got = fetch(e, target, tok[i]), want = export_of(e, cust[i]);
        assert_int_equal(got.status, 200);
        assert_string_equal(got.type, "application/atom+xml");
        /* the same document but for the links, which are re-rooted under
         * this request's origin and the grant's Subscription */
        char *g2 = without_hrefs(got.body), *w2 = without_hrefs(want.body);
        assert_string_equal(g2, w2);
        free(g2);
        free(w2);
        assert_links_rooted(got.body, sid[i]);
        if (i < 2) {
            parsed x = parse(&got);
            assert_int_equal(x.n, i == 0 ? 8 : 12);
        }
        free(got.body);
        free(want.body);
    }
    parsed x = expect_atom(e, R "/Batch/Subscription/" SID_B "/UsagePoint/" UP_B2, "tok-b", 8);
    assert_int_equal(x.by_type[ESPI_RES_USAGE_POINT], 1);
    assert_int_equal(x.by_type[ESPI_RES_INTERVAL_BLOCK], 2);
    x = expect_atom(e, R "/Batch/Subscription/" SID_B "/UsagePoint/" UP_B1, "tok-b", 5);
    assert_true(has_id(&x, UP_B1));
    /* Batch/RetailCustomer: the member's own data, only with their grant */
    x = expect_atom(e, R "/Batch/RetailCustomer/bob", "tok-b", 12);
    assert_true(has_id(&x, UP_B1) && has_id(&x, UP_B2));
    expect_hidden(e, R "/Batch/RetailCustomer/bob", "tok-a");
    expect_hidden(e, R "/Batch/RetailCustomer/alice", "tok-b");
}

static void test_api_every_route_serves_the_grant(void **state)
{
    env *e = *state;
    NEED(e);
    const char *sa = R "/Subscription/" SID_A "/UsagePoint/" UP_A;
    char t[512];
    parsed x = expect_atom(e, R "/Subscription/" SID_A "/UsagePoint", "tok-a", 1);
    assert_true(has_id(&x, UP_A));
    x = expect_atom(e, R "/Subscription/" SID_B "/UsagePoint", "tok-b", 2);
    assert_true(has_id(&x, UP_B1) && has_id(&x, UP_B2));
    x = expect_atom(e, sa, "tok-a", -1);
    assert_int_equal(x.by_type[ESPI_RES_USAGE_POINT], 1);
    assert_true(has_id(&x, UP_A));
    snprintf(t, sizeof t, "%s/MeterReading", sa);
    x = expect_atom(e, t, "tok-a", 1);
    assert_int_equal(x.by_type[ESPI_RES_METER_READING], 1);
    snprintf(t, sizeof t, "%s/MeterReading/%s", sa, MR_A);
    x = expect_atom(e, t, "tok-a", -1);
    assert_true(has_id(&x, MR_A));
    snprintf(t, sizeof t, "%s/MeterReading/%s/IntervalBlock", sa, MR_A);
    x = expect_atom(e, t, "tok-a", 3);
    assert_int_equal(x.by_type[ESPI_RES_INTERVAL_BLOCK], 3);
    snprintf(t, sizeof t, "%s/MeterReading/%s/IntervalBlock/%s", sa, MR_A, IB_A);
    x = expect_atom(e, t, "tok-a", -1);
    assert_int_equal(x.by_type[ESPI_RES_INTERVAL_BLOCK], 1);
    assert_true(has_id(&x, IB_A));
    snprintf(t, sizeof t, "%s/UsageSummary", sa);
    x = expect_atom(e, t, "tok-a", 1);
    snprintf(t, sizeof t, "%s/UsageSummary/%s", sa, US_A);
    x = expect_atom(e, t, "tok-a", -1);
    assert_int_equal(x.by_type[ESPI_RES_USAGE_SUMMARY], 1);
    snprintf(t, sizeof t, "%s/ElectricPowerQualitySummary", sa);
    expect_atom(e, t, "tok-a", 0);
    x = expect_atom(e, R "/LocalTimeParameters", "tok-a", 1);
    assert_true(has_id(&x, LTP_A));
    x = expect_atom(e, R "/LocalTimeParameters/" LTP_A, "tok-a", -1);
    assert_int_equal(x.by_type[ESPI_RES_LOCAL_TIME_PARAMETERS], 1);
    x = expect_atom(e, R "/ReadingType", "tok-a", 1);
    assert_true(has_id(&x, RT_A));
    expect_atom(e, R "/ReadingType", "tok-b", 3);
    x = expect_atom(e, R "/ReadingType/" RT_A, "tok-a", -1);
    assert_int_equal(x.by_type[ESPI_RES_READING_TYPE], 1);
    /* the bare entry id and the full urn:uuid: id are the same resource */
    expect_atom(e, R "/ReadingType/urn:uuid:" RT_A, "tok-a", -1);

    /* client routes */
    x = expect_atom(e, R "/Batch/Bulk/app1", "tok-app", 20);
    assert_int_equal(x.by_type[ESPI_RES_USAGE_POINT], 3);
    x = expect_atom(e, R "/ApplicationInformation/app1", "tok-app", -1);
    assert_int_equal(x.by_type[ESPI_RES_APPLICATION_INFORMATION], 1);
    x = expect_atom(e, R "/Authorization", "tok-app", 2);
    assert_true(has_id(&x, AUTH_1) && has_id(&x, AUTH_2));
    x = expect_atom(e, R "/Authorization/" AUTH_2, "tok-app", -1);
    assert_true(has_id(&x, AUTH_2));
    x = expect_atom(e, R "/Authorization?max-results=1&start-index=2", "tok-app", 1);
    assert_true(has_id(&x, AUTH_2));

    /* any token may ask whether the service is up */
    const char *toks[2] = {"tok-a", "tok-app"};
    for (int i = 0; i < 2; i++) {
        reply rp = fetch(e, R "/ReadServiceStatus", toks[i]);
        assert_int_equal(rp.status, 200);
        assert_string_equal(rp.type, "application/xml");
        x = parse(&rp);
        assert_int_equal(x.by_type[ESPI_RES_SERVICE_STATUS], 1);
        assert_int_equal(x.status, 1);
        free(rp.body);
    }
}

static void test_api_other_subscription_is_not_found_and_leaks_nothing(void **state)
{
    env *e = *state;
    NEED(e);
    const char *sb = R "/Subscription/" SID_B "/UsagePoint/" UP_A;  /* alice's UP, bob's sid */
    const char *sa = R "/Subscription/" SID_A "/UsagePoint/" UP_A;  /* alice's own path */
    char t[512];
    const char *paths[] = {
        R "/Batch/Subscription/" SID_A,
        R "/Batch/Subscription/" SID_A "/UsagePoint/" UP_A,
        R "/Batch/Subscription/" SID_B "/UsagePoint/" UP_A,
        R "/Subscription/" SID_A "/UsagePoint",
        sa, sb,
        R "/LocalTimeParameters/" LTP_A,
        R "/ReadingType/" RT_A,
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) expect_hidden(e, paths[i], "tok-b");
    const char *tails[] = {"/MeterReading", "/MeterReading/" MR_A,
                           "/MeterReading/" MR_A "/IntervalBlock",
                           "/MeterReading/" MR_A "/IntervalBlock/" IB_A, "/UsageSummary",
                           "/UsageSummary/" US_A, "/ElectricPowerQualitySummary"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        snprintf(t, sizeof t, "%s%s", sb, tails[i]);
        expect_hidden(e, t, "tok-b");
        snprintf(t, sizeof t, "%s%s", sa, tails[i]);
        expect_hidden(e, t, "tok-b");
    }
    /* bob's own lists never name alice's shared resources */
    parsed x = expect_atom(e, R "/LocalTimeParameters", "tok-b", 1);
    assert_false(has_id(&x, LTP_A));
    /* an id that exists nowhere answers exactly like another customer's */
    expect_hidden(e, R "/Subscription/" SID_B "/UsagePoint/00000000-0000-4000-8000-000000000000",
                  "tok-b");
    /* the client's own records only */
    expect_hidden(e, R "/ApplicationInformation/app2", "tok-app");
    expect_hidden(e, R "/Authorization/" AUTH_1 "x", "tok-app");
    expect_hidden(e, R "/Batch/Bulk/app2", "tok-app");
}

static void test_api_tokens_kinds_methods_and_paths(void **state)
{
    env *e = *state;
    NEED(e);
    const char *bad[] = {NULL, "nope", ""};
    for (int i = 0; i < 3; i++) {
        reply rp = fetch(e, R "/Batch/Subscription/" SID_A, bad[i]);
        assert_int_equal(rp.status, 401);
        assert_non_null(strstr(rp.www, "Bearer realm=\"espigate\""));
        assert_non_null(strstr(rp.www, "error=\"invalid_token\""));
        assert_null(strstr(rp.body, "urn:uuid"));
        free(rp.body);
    }
    /* a token of the wrong kind for the route */
    const char *client_only[] = {R "/Batch/Bulk/app1", R "/ApplicationInformation/app1",
                                 R "/Authorization", R "/Authorization/" AUTH_1};
    for (int i = 0; i < 4; i++) {
        reply rp = fetch(e, client_only[i], "tok-a");
        assert_int_equal(rp.status, 403);
        assert_non_null(strstr(rp.www, "error=\"insufficient_scope\""));
        free(rp.body);
    }
    expect_status(e, R "/Batch/Subscription/" SID_A, "tok-app", 403);
    expect_status(e, R "/ReadingType", "tok-app", 403);
    /* methods */
    reply rp = fetch_as(e, "POST", R "/Batch/Subscription/" SID_A, "tok-a");
    assert_int_equal(rp.status, 405);
    assert_string_equal(rp.allow, "GET");
    free(rp.body);
    /* unknown paths under the root; paths outside are not ours */
    const char *unknown[] = {R, R "/", R "/Nope", R "/Batch/Subscription", R "/Subscription/" SID_A,
                             R "/Batch/Subscription/" SID_A "/", R "/Subscription//UsagePoint",
                             R "/Subscription/" SID_A "/UsagePoint/" UP_A "/MeterReading/"
                               MR_A "/IntervalBlock/" IB_A "/x"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        expect_status(e, unknown[i], "tok-a", 404);
    rp = fetch(e, "/DataCustodian/oauth/token", "tok-a");
    assert_int_equal(rp.handled, 0);
    free(rp.body);
    rp = fetch(e, R "x/ReadServiceStatus", "tok-a");
    assert_int_equal(rp.handled, 0);
    free(rp.body);
}

static void test_api_query_parameters(void **state)
{
    env *e = *state;
    NEED(e);
    const char *bad[] = {"published-min=yesterday", "published-max=2024-13-45T00:00:00Z",
                         "updated-min=", "max-results=0", "max-results=-1", "start-index=0",
                         "start-index=1x", "depth=deep"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char t[256];
        snprintf(t, sizeof t, R "/Batch/Subscription/" SID_B "?%s", bad[i]);
        reply rp = fetch(e, t, "tok-b");
        if (rp.status != 400) fprintf(stderr, "# %s -> %d\n", bad[i], rp.status);
        assert_int_equal(rp.status, 400);
        assert_non_null(strstr(rp.type, "text/plain"));
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(bad[i], "="), bad[i]);
        assert_non_null(strstr(rp.body, name));
        free(rp.body);
    }
    /* paging: page 1 + page 2 = the whole feed, in order */
    parsed all = expect_atom(e, R "/Batch/Subscription/" SID_B, "tok-b", 12);
    parsed p1 = expect_atom(e, R "/Batch/Subscription/" SID_B "?max-results=5", "tok-b", 5);
    parsed p2 = expect_atom(e, R "/Batch/Subscription/" SID_B "?start-index=6&max-results=100",
                            "tok-b", 7);
    for (int i = 0; i < 12; i++)
        assert_string_equal(all.ids[i], i < 5 ? p1.ids[i] : p2.ids[i - 5]);
    parsed u1 = expect_atom(e, R "/Subscription/" SID_B "/UsagePoint?max-results=1", "tok-b", 1);
    parsed u2 = expect_atom(e, R "/Subscription/" SID_B "/UsagePoint?start-index=2", "tok-b", 1);
    assert_string_not_equal(u1.ids[0], u2.ids[0]);
    parsed b1 = expect_atom(e, R "/Batch/Bulk/app1?max-results=9", "tok-app", 9);
    parsed b2 = expect_atom(e, R "/Batch/Bulk/app1?start-index=10", "tok-app", 11);
    parsed ball = expect_atom(e, R "/Batch/Bulk/app1", "tok-app", 20);
    for (int i = 0; i < 20; i++)
        assert_string_equal(ball.ids[i], i < 9 ? b1.ids[i] : b2.ids[i - 9]);
    /* time filters; depth is accepted */
    expect_atom(e, R "/Batch/Subscription/" SID_B "?published-min=2100-01-01T00:00:00Z", "tok-b",
                0);
    expect_atom(e, R "/Batch/Subscription/" SID_B "?updated-max=1971-01-01", "tok-b", 0);
    expect_atom(e, R "/Batch/Subscription/" SID_B "?published-max=2100-01-01T00:00:00Z&depth=2",
                "tok-b", 12);
}

static void test_api_stream_freed_half_way_stops_the_worker(void **state)
{
    env *e = *state;
    NEED(e);
    for (int round = 0; round < 3; round++) {
        int handled;
        http_resp *rs = request(e, "GET", R "/Batch/Subscription/" SID_C, "tok-c", &handled);
        waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
        http_resp_set_waker(rs, wake_fn, &w);
        assert_int_equal(handled, 1);
        assert_true(http_resp_is_stream(rs));
        /* round 0: gone before the first byte; 1: after a chunk; 2: once the
         * worker has filled the ring and blocks on it */
        for (int i = 0; i < round; i++) {
            int rc;
            while ((rc = http_resp_produce(rs)) == HTTP_PRODUCE_WAIT) usleep(1000);
            assert_int_equal(rc, 1);
            size_t n;
            free(http_resp_take_body(rs, &n));
            assert_true(n > 0);
        }
        if (round == 2) usleep(200 * 1000);
        http_resp_free(rs); /* done(): stop + join; ASan reports anything left */
    }
}

/* ---- fixtures ----------------------------------------------------------------------- */

#define src_dir pgtest_src

static int import_for(env *e, const char *customer, const char *path)
{
    store_import_opts o;
    store_import_result res;
    eg_err err;
    memset(&o, 0, sizeof o);
    o.customer = customer;
    if (store_customer_add(e->s, customer, "", &err) ||
        store_import_file(e->s, path, &o, &res, &err)) {
        fprintf(stderr, "import %s for %s: %s\n", path, customer, err.msg);
        return -1;
    }
    return 0;
}

static int group_setup(void **state, int pg)
{
    env *e = calloc(1, sizeof *e);
    char path[512];
    eg_err err;
    if (!e) return -1;
    *state = e;
    if (pgtest_backend_open(&e->b, "api", pg)) return -1;
    if (e->b.skip) return 0;
    if (pgtest_backend_next(&e->b)) return -1; /* one store for the whole group */
    if (store_open(e->b.url, &e->s, &err)) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        return -1;
    }
    snprintf(path, sizeof path, "%s/samples/espi/demo.xml", src_dir());
    if (import_for(e, "alice", path)) return -1;
    snprintf(path, sizeof path, "%s/samples/smarthub/poll_multi_meter.expected.xml", src_dir());
    if (import_for(e, "bob", path)) return -1;
    espi_synth_opts so;
    espi_synth_opts_init(&so);
    so.days = 60;
    so.seed = 7;
    so.with_cost = 1;
    snprintf(path, sizeof path, "%s/carol.xml", e->b.dir);
    espi_writer *w = espi_writer_open_path(path, NULL, &err);
    if (!w || espi_synth_write(w, &so, &err) || espi_writer_close(w, &err)) return -1;
    if (import_for(e, "carol", path)) return -1;
    espi_api_opts o = {"/DataCustodian", e->b.url, stub_authorize, stub_app_info,
                       stub_authorizations, stub_bulk, NULL};
    e->api = espi_api_new(e->s, &o, &err);
    if (!e->api) {
        fprintf(stderr, "espi_api_new: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int sqlite_setup(void **state) { return group_setup(state, 0); }
static int pg_setup(void **state) { return group_setup(state, 1); }

static int group_teardown(void **state)
{
    env *e = *state;
    if (!e) return 0;
    espi_api_free(e->api);
    store_close(e->s);
    pgtest_backend_close(&e->b);
    free(e);
    return 0;
}

static void test_api_new_refuses_bad_options(void **state)
{
    env *e = *state;
    eg_err err;
    NEED(e);
    espi_api_opts o = {"DataCustodian/", e->b.url, stub_authorize, NULL, NULL, NULL, NULL};
    assert_null(espi_api_new(e->s, &o, &err));
    assert_int_equal(err.code, EG_EUSAGE);
    o.prefix = "/DataCustodian";
    o.store_url = NULL;
    assert_null(espi_api_new(e->s, &o, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_batch_subscription_streams_the_customers_export),
        cmocka_unit_test(test_api_every_route_serves_the_grant),
        cmocka_unit_test(test_api_other_subscription_is_not_found_and_leaks_nothing),
        cmocka_unit_test(test_api_tokens_kinds_methods_and_paths),
        cmocka_unit_test(test_api_query_parameters),
        cmocka_unit_test(test_api_stream_freed_half_way_stops_the_worker),
        cmocka_unit_test(test_api_new_refuses_bad_options),
    };
    int failed = cmocka_run_group_tests_name("espi_api/sqlite", tests, sqlite_setup,
                                             group_teardown);
    failed += cmocka_run_group_tests_name("espi_api/postgresql", tests, pg_setup, group_teardown);
    return failed ? 1 : 0;
}
