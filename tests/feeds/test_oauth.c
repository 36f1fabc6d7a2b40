/* test_oauth.c -- the authorization server and the Data Custodian records,
 * run against BOTH store backends (SQLite, then a throw-away PostgreSQL 15
 * from pgtmp.sh; that half is skipped with a message when PostgreSQL is
 * not installed).
 *
 * Requests are built with http_req_new() and answered by oauth_handle()
 * with no socket.  Each test gets a fresh store with a customer "cust1",
 * a member "alice" and one registered application; the clock is the
 * fixture's, so expiry is tested by moving it.  What is checked: the whole
 * authorization_code flow (consent page, CSRF, PKCE, code -> tokens,
 * bearer check, refresh rotation, revocation) and each way it must fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pgtest.h"
#include <openssl/evp.h>

#include "custodian.h"
#include "http.h"
#include "oauth.h"
#include "store.h"

#define REDIRECT "https://app.example/cb"
#define BASE "https://dc.example:8443/DataCustodian/espi/1_1/resource"
#define SCOPE1 "FB=1_3_4_5_13_14_39;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=13"
#define SCOPE2 "FB=4_5_15;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=34128000"
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define T0 1700000000

typedef struct env {
    pgtest_backend b;        /* pgtest.h: the folder, the cluster, this test's store */
    char member_hash[256];   /* a cheap scrypt hash of "pw-alice" (N=1024) */
} env;

typedef struct fx {
    env *e;
    store *s;
    oauth *a;
    int64_t now;
    char client_id[CD_ID_MAX], secret[CD_SECRET_MAX];
    char challenge[48];
} fx;

static int64_t fx_clock(void *ctx) { return ((fx *)ctx)->now; }

/* ---- helpers ----------------------------------------------------------------- */

static http_resp *call(fx *f, const char *method, const char *target, const char *body,
                       const char *auth)
{
    http_req *r = NULL;
    eg_err err;
    assert_int_equal(http_req_new(method, target, &r, &err), 0);
    if (body) {
        http_req_add_header(r, "Content-Type", "application/x-www-form-urlencoded");
        http_req_set_body(r, body, strlen(body));
    }
    if (auth) http_req_add_header(r, "Authorization", auth);
    http_resp *rs = http_resp_new();
    assert_int_equal(oauth_handle(f->a, r, rs), 1);
    http_req_free(r);
    return rs;
}

static const char *body_of(const http_resp *rs) { return http_resp_body(rs, NULL); }

/* Percent-encode s into out. */
static void enc(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (; *s && o + 4 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c))
            out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
    }
    out[o] = '\0';
}

static void authorize_query(const fx *f, const char *redirect, const char *scope,
                            const char *method, const char *challenge, char *out, size_t size)
{
    char r[600], s[600];
    enc(redirect, r, sizeof r);
    enc(scope ? scope : "", s, sizeof s);
    snprintf(out, size,
             "/DataCustodian/oauth/authorize?response_type=code&client_id=%s&redirect_uri=%s"
             "&state=xyz%%201&code_challenge=%s%s%s%s%s",
             f->client_id, r, challenge ? challenge : f->challenge,
             method ? "&code_challenge_method=" : "", method ? method : "", scope ? "&scope=" : "",
             scope ? s : "");
}

/* Value of a hidden field of the consent page (HTML-unescaped enough for
 * the values we use). */
static void hidden_field(const char *page, const char *name, char *out, size_t size)
{
    char key[100];
    snprintf(key, sizeof key, "name=\"%s\" value=\"", name);
    const char *p = strstr(page, key);
    assert_non_null(p);
    p += strlen(key);
    size_t n = strcspn(p, "\"");
    snprintf(out, size, "%.*s", (int)n, p);
}

/* The decoded value of a query parameter of a Location. */
static int loc_param(const char *loc, const char *name, char *out, size_t size)
{
    char key[64];
    snprintf(key, sizeof key, "%s=", name);
    const char *q = strchr(loc, '?');
    for (const char *p = q; p && *p; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, key, strlen(key)) != 0) continue;
        p += 1 + strlen(key);
        size_t o = 0;
        for (; *p && *p != '&' && o + 1 < size; p++) {
            if (*p == '%') {
                unsigned v;
                sscanf(p + 1, "%2x", &v);
                out[o++] = (char)v;
                p += 2;
            } else out[o++] = *p;
        }
        out[o] = '\0';
        return 1;
    }
    return 0;
}

/* A string field of a JSON object body ("" when absent). */
static void json_field(const char *body, const char *name, char *out, size_t size)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *p = strstr(body, key);
    out[0] = '\0';
    if (!p) return;
    p += strlen(key);
    snprintf(out, size, "%.*s", (int)strcspn(p, "\""), p);
}

/* GET the consent page, then POST it with login/password/decision.
 * Returns the POST's response. */
static http_resp *consent(fx *f, const char *scope, const char *login, const char *pw,
                          const char *decision)
{
    char target[2000], csrf[200], body[3000], r[600], s[600];
    authorize_query(f, REDIRECT, scope, "S256", NULL, target, sizeof target);
    http_resp *g = call(f, "GET", target, NULL, NULL);
    assert_int_equal(http_resp_get_status(g), 200);
    hidden_field(body_of(g), "csrf", csrf, sizeof csrf);
    http_resp_free(g);
    enc(REDIRECT, r, sizeof r);
    enc(scope ? scope : SCOPE1, s, sizeof s);
    snprintf(body, sizeof body,
             "response_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=xyz+1"
             "&code_challenge=%s&code_challenge_method=S256&csrf=%s&login=%s&password=%s"
             "&decision=%s",
             f->client_id, r, s, f->challenge, csrf, login, pw, decision);
    return call(f, "POST", "/DataCustodian/oauth/authorize", body, NULL);
}

/* The whole approval: returns the code in out. */
static void get_code(fx *f, const char *scope, char *code, size_t size)
{
    http_resp *p = consent(f, scope, "alice", "pw-alice", "approve");
    assert_int_equal(http_resp_get_status(p), 302);
    const char *loc = http_resp_get_header(p, "Location");
    assert_non_null(loc);
    assert_true(strncmp(loc, REDIRECT "?", strlen(REDIRECT) + 1) == 0);
    char state[64];
    assert_true(loc_param(loc, "state", state, sizeof state));
    assert_string_equal(state, "xyz 1");
    assert_true(loc_param(loc, "code", code, size));
    http_resp_free(p);
}

static void basic(const fx *f, const char *secret, char *out, size_t size)
{
    char raw[150];
    unsigned char b64[210];
    snprintf(raw, sizeof raw, "%s:%s", f->client_id, secret);
    EVP_EncodeBlock(b64, (const unsigned char *)raw, (int)strlen(raw));
    snprintf(out, size, "Basic %.200s", (const char *)b64);
}

static http_resp *token(fx *f, const char *body)
{
    char auth[300];
    basic(f, f->secret, auth, sizeof auth);
    return call(f, "POST", "/DataCustodian/oauth/token", body, auth);
}

static http_resp *exchange(fx *f, const char *code, const char *verifier)
{
    char body[600], r[300];
    enc(REDIRECT, r, sizeof r);
    snprintf(body, sizeof body, "grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s",
             code, r, verifier);
    return token(f, body);
}

/* Code -> tokens, asserting success. */
static void tokens(fx *f, const char *code, char *access, char *refresh, char *body_out,
                   size_t bsize)
{
    http_resp *t = exchange(f, code, VERIFIER);
    if (http_resp_get_status(t) != 200) fprintf(stderr, "token: %s\n", body_of(t));
    assert_int_equal(http_resp_get_status(t), 200);
    assert_string_equal(http_resp_get_header(t, "Cache-Control"), "no-store");
    json_field(body_of(t), "access_token", access, CD_SECRET_MAX);
    json_field(body_of(t), "refresh_token", refresh, CD_SECRET_MAX);
    assert_int_equal(strlen(access), 43);
    assert_int_equal(strlen(refresh), 43);
    if (body_out) snprintf(body_out, bsize, "%s", body_of(t));
    http_resp_free(t);
}

static int bearer_ok(fx *f, const char *access, oauth_grant *g)
{
    char h[100];
    oauth_grant tmp;
    eg_err err;
    snprintf(h, sizeof h, "Bearer %s", access);
    return oauth_check_bearer(f->a, h, g ? g : &tmp, &err) == 0;
}

/* ---- fixtures ----------------------------------------------------------------- */

static int group_setup(void **state, int pg)
{
    env *e = calloc(1, sizeof *e);
    unsigned char salt[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, h[32];
    if (!e) return -1;
    /* members are inserted with a cheap hash (N=1024) so the suite stays fast
     * under sanitizers; cd_member_set (N=2^15) is used once, in its own test */
    if (EVP_PBE_scrypt("pw-alice", 8, salt, 16, 1024, 8, 1, 0, h, 32) != 1) return -1;
    int o = snprintf(e->member_hash, sizeof e->member_hash,
                     "scrypt$1024$8$1$0102030405060708090a0b0c0d0e0f10$");
    for (int i = 0; i < 32; i++) o += snprintf(e->member_hash + o, 3, "%02x", h[i]);
    if (pgtest_backend_open(&e->b, "oauth", pg)) return -1;
    *state = e;
    return 0;
}

static int sqlite_group_setup(void **state) { return group_setup(state, 0); }
static int pg_group_setup(void **state) { return group_setup(state, 1); }

static int group_teardown(void **state)
{
    env *e = *state;
    pgtest_backend_close(&e->b);
    free(e);
    return 0;
}

static int test_setup(void **state)
{
    env *e = *state;
    return pgtest_backend_next(&e->b);
}

/* The per-test world: store, customer, member, app, oauth with our clock. */
static fx *world(void **state)
{
    env *e = *state;
    eg_err err;
    if (e->b.skip) skip();
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->e = e;
    f->now = T0;
    eg_err_clear(&err);
    if (store_open(e->b.url, &f->s, &err)) fprintf(stderr, "store_open: %s\n", err.msg);
    assert_non_null(f->s);
    assert_int_equal(cd_init(f->s, &err), 0);
    assert_int_equal(store_customer_add(f->s, "cust1", "Alice", &err), 0);
    store_stmt *st = NULL;
    assert_int_equal(f->s->ops->prepare(f->s,
                                        "INSERT INTO cd_member(login, customer, pw, created)"
                                        " VALUES('alice', 'cust1', ?1, 0)",
                                        0, &st, &err),
                     0);
    f->s->ops->bind_text(st, 1, e->member_hash);
    assert_true(f->s->ops->step(st, &err) >= 0);
    f->s->ops->finalize(st);
    cd_app app;
    memset(&app, 0, sizeof app);
    snprintf(app.name, sizeof app.name, "Energy <Helper> & Co");
    snprintf(app.redirect_uri[0], CD_URI_MAX, "%s", REDIRECT);
    snprintf(app.redirect_uri[1], CD_URI_MAX, "https://app.example/other");
    app.n_redirect_uri = 2;
    snprintf(app.scope[0], CD_SCOPE_MAX, "%s", SCOPE1);
    snprintf(app.scope[1], CD_SCOPE_MAX, "%s", SCOPE2);
    app.n_scope = 2;
    snprintf(app.notify_uri, CD_URI_MAX, "https://app.example/notify");
    if (cd_app_add(f->s, &app, T0, f->secret, &err)) fprintf(stderr, "app: %s\n", err.msg);
    snprintf(f->client_id, sizeof f->client_id, "%s", app.client_id);
    cd_pkce_s256(VERIFIER, f->challenge);
    oauth_opts o;
    oauth_opts_init(&o);
    o.resource_base = BASE;
    o.now = fx_clock;
    o.now_ctx = f;
    f->a = oauth_new(f->s, &o, &err);
    if (!f->a) fprintf(stderr, "oauth_new: %s\n", err.msg);
    assert_non_null(f->a);
    return f;
}

static void world_free(fx *f)
{
    oauth_free(f->a);
    store_close(f->s);
    free(f);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_oauth_happy_path(void **state)
{
    fx *f = world(state);
    char target[2000], code[100], access[64], refresh[64], body[4000], want[300], sid[64];
    oauth_grant g;

    /* the consent page */
    authorize_query(f, REDIRECT, NULL, "S256", NULL, target, sizeof target);
    http_resp *p = call(f, "GET", target, NULL, NULL);
    assert_int_equal(http_resp_get_status(p), 200);
    const char *page = body_of(p);
    assert_non_null(strstr(page, "<!DOCTYPE html>"));
    assert_non_null(strstr(page, "Energy &lt;Helper&gt; &amp; Co"));
    assert_null(strstr(page, "<Helper>"));
    assert_non_null(strstr(page, "Function Block 4: Interval Metering"));
    assert_non_null(strstr(page, "Function Block 5: Electricity Interval"));
    assert_non_null(strstr(page, "Function Block 39: PUSH Model"));
    assert_non_null(strstr(page, "15 minutes or 1 hour"));
    assert_non_null(strstr(page, "one day"));
    assert_non_null(strstr(page, "13 months"));
    assert_non_null(strstr(page, "id=\"login\""));
    assert_non_null(strstr(page, "id=\"password\""));
    assert_non_null(strstr(page, "for=\"login\""));
    assert_non_null(strstr(page, "for=\"password\""));
    assert_non_null(strstr(page, "id=\"approve\""));
    assert_non_null(strstr(page, "id=\"deny\""));
    assert_null(strstr(page, "http://"));
    assert_null(strstr(page, "<script"));
    assert_string_equal(http_resp_get_header(p, "X-Frame-Options"), "DENY");
    assert_string_equal(http_resp_get_header(p, "Cache-Control"), "no-store");
    const char *csp = http_resp_get_header(p, "Content-Security-Policy");
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'none'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    http_resp_free(p);

    /* approve, exchange */
    get_code(f, NULL, code, sizeof code);
    tokens(f, code, access, refresh, body, sizeof body);
    assert_true(bearer_ok(f, access, &g));
    assert_int_equal(g.kind, OAUTH_GRANT_CUSTOMER);
    assert_string_equal(g.client_id, f->client_id);
    assert_string_equal(g.customer_id, "cust1");
    assert_string_equal(g.scope, SCOPE1);
    assert_int_equal(g.expires_at, T0 + 3600);
    assert_int_equal(strlen(g.subscription_id), 36);
    snprintf(want, sizeof want, "\"resourceURI\":\"" BASE "/Batch/Subscription/%s\"",
             g.subscription_id);
    assert_non_null(strstr(body, want));
    snprintf(want, sizeof want, "\"authorizationURI\":\"" BASE "/Authorization/%s\"",
             g.authorization_id);
    assert_non_null(strstr(body, want));
    assert_non_null(strstr(body, "\"token_type\":\"Bearer\""));
    assert_non_null(strstr(body, "\"expires_in\":3600"));
    snprintf(sid, sizeof sid, "%s", g.subscription_id);

    /* refresh rotates */
    char rb[200], access2[64], refresh2[64];
    snprintf(rb, sizeof rb, "grant_type=refresh_token&refresh_token=%s", refresh);
    http_resp *t = token(f, rb);
    assert_int_equal(http_resp_get_status(t), 200);
    json_field(body_of(t), "access_token", access2, sizeof access2);
    json_field(body_of(t), "refresh_token", refresh2, sizeof refresh2);
    http_resp_free(t);
    assert_int_equal(strlen(refresh2), 43);
    assert_string_not_equal(refresh2, refresh);
    assert_true(bearer_ok(f, access2, &g));
    assert_string_equal(g.subscription_id, sid);

    /* a second approval reuses the subscription */
    char code2[100], a3[64], r3[64];
    get_code(f, NULL, code2, sizeof code2);
    tokens(f, code2, a3, r3, NULL, 0);
    assert_true(bearer_ok(f, a3, &g));
    assert_string_equal(g.subscription_id, sid);

    /* revoke the rotated refresh token: its authorization's access tokens die */
    snprintf(rb, sizeof rb, "token=%s&token_type_hint=refresh_token", refresh2);
    char auth[300];
    basic(f, f->secret, auth, sizeof auth);
    t = call(f, "POST", "/DataCustodian/oauth/revoke", rb, auth);
    assert_int_equal(http_resp_get_status(t), 200);
    http_resp_free(t);
    assert_false(bearer_ok(f, access2, NULL));
    assert_false(bearer_ok(f, access, NULL));
    assert_true(bearer_ok(f, a3, NULL)); /* the other authorization lives on */
    /* unknown tokens are 200 too */
    t = call(f, "POST", "/DataCustodian/oauth/revoke", "token=nonsense", auth);
    assert_int_equal(http_resp_get_status(t), 200);
    http_resp_free(t);
    world_free(f);
}

static void test_oauth_wrong_redirect_uri_shows_a_page_and_never_redirects(void **state)
{
    fx *f = world(state);
    char target[2000];
    authorize_query(f, "https://evil.example/cb", NULL, "S256", NULL, target, sizeof target);
    http_resp *p = call(f, "GET", target, NULL, NULL);
    assert_int_equal(http_resp_get_status(p), 400);
    assert_null(http_resp_get_header(p, "Location"));
    assert_non_null(strstr(body_of(p), "did not register"));
    http_resp_free(p);
    /* prefix match is not enough */
    authorize_query(f, REDIRECT "/x", NULL, "S256", NULL, target, sizeof target);
    p = call(f, "GET", target, NULL, NULL);
    assert_int_equal(http_resp_get_status(p), 400);
    assert_null(http_resp_get_header(p, "Location"));
    http_resp_free(p);
    /* unknown client */
    p = call(f, "GET", "/DataCustodian/oauth/authorize?client_id=nope&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
             NULL, NULL);
    assert_int_equal(http_resp_get_status(p), 400);
    assert_null(http_resp_get_header(p, "Location"));
    http_resp_free(p);
    world_free(f);
}

static void expect_redirect_error(fx *f, const char *target, const char *error)
{
    char got[64];
    http_resp *p = call(f, "GET", target, NULL, NULL);
    assert_int_equal(http_resp_get_status(p), 302);
    const char *loc = http_resp_get_header(p, "Location");
    assert_non_null(loc);
    assert_true(strncmp(loc, REDIRECT "?", strlen(REDIRECT) + 1) == 0);
    assert_true(loc_param(loc, "error", got, sizeof got));
    assert_string_equal(got, error);
    assert_true(loc_param(loc, "state", got, sizeof got));
    assert_string_equal(got, "xyz 1");
    http_resp_free(p);
}

static void test_oauth_pkce_is_required_and_plain_refused(void **state)
{
    fx *f = world(state);
    char target[2000];
    authorize_query(f, REDIRECT, NULL, NULL, NULL, target, sizeof target);
    expect_redirect_error(f, target, "invalid_request");
    authorize_query(f, REDIRECT, NULL, "plain", VERIFIER, target, sizeof target);
    expect_redirect_error(f, target, "invalid_request");
    world_free(f);
}

static void test_oauth_scope_not_registered_is_invalid_scope(void **state)
{
    fx *f = world(state);
    char target[2000];
    authorize_query(f, REDIRECT, "FB=1_3_4_5_6_7_8", "S256", NULL, target, sizeof target);
    expect_redirect_error(f, target, "invalid_scope");
    world_free(f);
}

static void test_oauth_wrong_verifier_is_invalid_grant(void **state)
{
    fx *f = world(state);
    char code[100];
    get_code(f, NULL, code, sizeof code);
    http_resp *t = exchange(f, code, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_int_equal(http_resp_get_status(t), 400);
    assert_non_null(strstr(body_of(t), "\"error\":\"invalid_grant\""));
    http_resp_free(t);
    world_free(f);
}

static void test_oauth_reused_code_revokes_the_first_tokens(void **state)
{
    fx *f = world(state);
    char code[100], access[64], refresh[64];
    get_code(f, NULL, code, sizeof code);
    tokens(f, code, access, refresh, NULL, 0);
    assert_true(bearer_ok(f, access, NULL));
    http_resp *t = exchange(f, code, VERIFIER);
    assert_int_equal(http_resp_get_status(t), 400);
    assert_non_null(strstr(body_of(t), "\"error\":\"invalid_grant\""));
    http_resp_free(t);
    assert_false(bearer_ok(f, access, NULL));
    char rb[200];
    snprintf(rb, sizeof rb, "grant_type=refresh_token&refresh_token=%s", refresh);
    t = token(f, rb);
    assert_int_equal(http_resp_get_status(t), 400);
    http_resp_free(t);
    world_free(f);
}

static void test_oauth_expired_code_and_expired_access_token(void **state)
{
    fx *f = world(state);
    char code[100], access[64], refresh[64];
    get_code(f, NULL, code, sizeof code);
    f->now += 61;
    http_resp *t = exchange(f, code, VERIFIER);
    assert_int_equal(http_resp_get_status(t), 400);
    assert_non_null(strstr(body_of(t), "expired"));
    http_resp_free(t);

    get_code(f, NULL, code, sizeof code);
    f->now += 59;
    tokens(f, code, access, refresh, NULL, 0);
    assert_true(bearer_ok(f, access, NULL));
    f->now += 3600;
    assert_false(bearer_ok(f, access, NULL));
    char rb[200];
    snprintf(rb, sizeof rb, "grant_type=refresh_token&refresh_token=%s", refresh);
    t = token(f, rb);
    assert_int_equal(http_resp_get_status(t), 200);
    json_field(body_of(t), "access_token", access, sizeof access);
    http_resp_free(t);
    assert_true(bearer_ok(f, access, NULL));
    world_free(f);
}

static void test_oauth_wrong_client_secret_is_401(void **state)
{
    fx *f = world(state);
    char auth[300];
    basic(f, "not-the-secret", auth, sizeof auth);
    http_resp *t = call(f, "POST", "/DataCustodian/oauth/token", "grant_type=client_credentials", auth);
    assert_int_equal(http_resp_get_status(t), 401);
    assert_non_null(http_resp_get_header(t, "WWW-Authenticate"));
    assert_true(strncmp(http_resp_get_header(t, "WWW-Authenticate"), "Basic", 5) == 0);
    assert_non_null(strstr(body_of(t), "\"error\":\"invalid_client\""));
    http_resp_free(t);
    /* no authentication at all */
    t = call(f, "POST", "/DataCustodian/oauth/token", "grant_type=client_credentials", NULL);
    assert_int_equal(http_resp_get_status(t), 401);
    http_resp_free(t);
    /* client_secret_post works */
    char body[300];
    snprintf(body, sizeof body, "grant_type=client_credentials&client_id=%s&client_secret=%s",
             f->client_id, f->secret);
    t = call(f, "POST", "/DataCustodian/oauth/token", body, NULL);
    assert_int_equal(http_resp_get_status(t), 200);
    http_resp_free(t);
    world_free(f);
}

static void test_oauth_wrong_password_and_deny(void **state)
{
    fx *f = world(state);
    http_resp *p = consent(f, NULL, "alice", "wrong", "approve");
    assert_int_equal(http_resp_get_status(p), 403);
    assert_null(http_resp_get_header(p, "Location"));
    assert_non_null(strstr(body_of(p), "Wrong login or password"));
    http_resp_free(p);
    p = consent(f, NULL, "bob", "pw-alice", "approve");
    assert_int_equal(http_resp_get_status(p), 403);
    assert_non_null(strstr(body_of(p), "Wrong login or password"));
    http_resp_free(p);
    p = consent(f, NULL, "alice", "pw-alice", "deny");
    assert_int_equal(http_resp_get_status(p), 302);
    char err[64];
    assert_true(loc_param(http_resp_get_header(p, "Location"), "error", err, sizeof err));
    assert_string_equal(err, "access_denied");
    assert_false(loc_param(http_resp_get_header(p, "Location"), "code", err, sizeof err));
    http_resp_free(p);
    world_free(f);
}

static void test_oauth_bad_csrf_is_refused(void **state)
{
    fx *f = world(state);
    char body[3000], r[300], s[600];
    enc(REDIRECT, r, sizeof r);
    enc(SCOPE1, s, sizeof s);
    const char *csrfs[] = {"", "1700000000.00", "garbage"};
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body,
                 "response_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=xyz"
                 "&code_challenge=%s&code_challenge_method=S256&csrf=%s&login=alice"
                 "&password=pw-alice&decision=approve",
                 f->client_id, r, s, f->challenge, csrfs[i]);
        http_resp *p = call(f, "POST", "/DataCustodian/oauth/authorize", body, NULL);
        assert_int_equal(http_resp_get_status(p), 403);
        assert_null(http_resp_get_header(p, "Location"));
        http_resp_free(p);
    }
    /* a real token for other parameters (scope changed) */
    char target[2000], csrf[200];
    authorize_query(f, REDIRECT, NULL, "S256", NULL, target, sizeof target);
    http_resp *g = call(f, "GET", target, NULL, NULL);
    hidden_field(body_of(g), "csrf", csrf, sizeof csrf);
    http_resp_free(g);
    enc(SCOPE2, s, sizeof s);
    snprintf(body, sizeof body,
             "response_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=xyz+1"
             "&code_challenge=%s&code_challenge_method=S256&csrf=%s&login=alice"
             "&password=pw-alice&decision=approve",
             f->client_id, r, s, f->challenge, csrf);
    http_resp *p = call(f, "POST", "/DataCustodian/oauth/authorize", body, NULL);
    assert_int_equal(http_resp_get_status(p), 403);
    http_resp_free(p);
    /* and an old one */
    f->now += 3600;
    enc(SCOPE1, s, sizeof s);
    snprintf(body, sizeof body,
             "response_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=xyz+1"
             "&code_challenge=%s&code_challenge_method=S256&csrf=%s&login=alice"
             "&password=pw-alice&decision=approve",
             f->client_id, r, s, f->challenge, csrf);
    p = call(f, "POST", "/DataCustodian/oauth/authorize", body, NULL);
    assert_int_equal(http_resp_get_status(p), 403);
    http_resp_free(p);
    world_free(f);
}

static void test_oauth_client_credentials(void **state)
{
    fx *f = world(state);
    char access[64], want[300];
    oauth_grant g;
    http_resp *t = token(f, "grant_type=client_credentials&scope=FB%3D99");
    assert_int_equal(http_resp_get_status(t), 200);
    json_field(body_of(t), "access_token", access, sizeof access);
    assert_null(strstr(body_of(t), "refresh_token"));
    snprintf(want, sizeof want, "\"resourceURI\":\"" BASE "/Batch/Bulk/%s\"", f->client_id);
    assert_non_null(strstr(body_of(t), want));
    assert_non_null(strstr(body_of(t), "\"scope\":\"" SCOPE1 "\""));
    http_resp_free(t);
    assert_true(bearer_ok(f, access, &g));
    assert_int_equal(g.kind, OAUTH_GRANT_CLIENT);
    assert_string_equal(g.subscription_id, "");
    assert_string_equal(g.client_id, f->client_id);

    t = token(f, "grant_type=client_credentials&scope=" "FB%3D4_5_15%3BIntervalDuration%3D3600"
                 "%3BBlockDuration%3Dmonthly%3BHistoryLength%3D34128000");
    assert_non_null(strstr(body_of(t), "\"scope\":\"" SCOPE2 "\""));
    http_resp_free(t);

    /* ApplicationInformation and the Authorization list */
    espi_entry e;
    espi_application_information ai;
    eg_err err;
    assert_int_equal(cd_app_info(f->s, BASE, f->client_id, &e, &ai, &err), 0);
    assert_string_equal(ai.client_id, f->client_id);
    assert_int_equal(ai.n_redirect_uri, 2);
    assert_int_equal(ai.n_scope, 2);
    /* never the secret: the schema requires the element, it gets a note */
    assert_null(strstr(ai.client_secret, f->secret));
    assert_string_equal(ai.client_secret, "(shown once at registration; stored only as a hash)");
    assert_string_equal(ai.authorization_server_token_endpoint,
                        "https://dc.example:8443/DataCustodian/oauth/token");
    assert_true(strncmp(e.id, "urn:uuid:", 9) == 0);
    espi_authorization az;
    assert_int_equal(cd_authorization_espi(f->s, BASE, f->client_id, g.authorization_id, &e, &az,
                                           &err),
                     0);
    assert_string_equal(az.token_type, "Bearer");
    assert_string_equal(az.grant_type, "client_credentials");
    assert_int_equal(az.status, ESPI_AUTH_ACTIVE);
    assert_int_equal(cd_authorization_espi(f->s, BASE, "someone-else", g.authorization_id, &e, &az,
                                           &err),
                     EG_ENOINPUT);
    world_free(f);
}

static void test_oauth_unknown_grant_type(void **state)
{
    fx *f = world(state);
    http_resp *t = token(f, "grant_type=password&username=a&password=b");
    assert_int_equal(http_resp_get_status(t), 400);
    assert_non_null(strstr(body_of(t), "\"error\":\"unsupported_grant_type\""));
    http_resp_free(t);
    t = token(f, "scope=x");
    assert_int_equal(http_resp_get_status(t), 400);
    assert_non_null(strstr(body_of(t), "\"error\":\"invalid_request\""));
    http_resp_free(t);
    world_free(f);
}

typedef struct subs {
    int n;
    char sid[64];
} subs;

static int count_sub(void *ctx, const char *sid, const char *cid, const char *cust, const char *aid)
{
    subs *s = ctx;
    (void)cid;
    (void)aid;
    assert_string_equal(cust, "cust1");
    snprintf(s->sid, sizeof s->sid, "%s", sid);
    s->n++;
    return 0;
}

static int count_auth(void *ctx, const espi_entry *e, const espi_authorization *a)
{
    (void)e;
    assert_string_equal(a->token_type, "Bearer");
    (*(int *)ctx)++;
    return 0;
}

static void test_oauth_app_remove_revokes_everything(void **state)
{
    fx *f = world(state);
    char code[100], access[64], refresh[64];
    eg_err err;
    get_code(f, NULL, code, sizeof code);
    tokens(f, code, access, refresh, NULL, 0);
    subs sb = {0, ""};
    assert_int_equal(cd_subscriptions_of_customer(f->s, "cust1", count_sub, &sb, &err), 0);
    assert_int_equal(sb.n, 1);
    sb.n = 0;
    assert_int_equal(cd_subscriptions_of_client(f->s, f->client_id, count_sub, &sb, &err), 0);
    assert_int_equal(sb.n, 1);
    int na = 0;
    assert_int_equal(cd_authorization_list(f->s, BASE, f->client_id, count_auth, &na, &err), 0);
    assert_int_equal(na, 1);
    assert_int_equal(cd_app_remove(f->s, f->client_id, f->now, &err), 0);
    assert_false(bearer_ok(f, access, NULL));
    sb.n = 0;
    assert_int_equal(cd_subscriptions_of_customer(f->s, "cust1", count_sub, &sb, &err), 0);
    assert_int_equal(sb.n, 0);
    assert_int_equal(cd_app_remove(f->s, f->client_id, f->now, &err), EG_ENOINPUT);
    world_free(f);
}

/* Every text column of the records, concatenated, must not hold a secret. */
static int table_holds(store *s, const char *sql, const char *needle)
{
    store_stmt *st = NULL;
    eg_err err;
    int hit = 0;
    assert_int_equal(s->ops->prepare(s, sql, 0, &st, &err), 0);
    while (s->ops->step(st, &err) == 1)
        for (int i = 0; i < 5; i++)
            if (!s->ops->col_null(st, i) && strstr(s->ops->col_text(st, i), needle)) hit = 1;
    s->ops->finalize(st);
    return hit;
}

static void test_oauth_tokens_never_stored_in_plain_text(void **state)
{
    fx *f = world(state);
    char code[100], access[64], refresh[64];
    get_code(f, NULL, code, sizeof code);
    tokens(f, code, access, refresh, NULL, 0);
    const char *secrets[] = {code, access, refresh, f->secret};
    const char *tables[] = {
        "SELECT hash, authorization_id, client_id, redirect_uri, challenge FROM cd_token",
        "SELECT client_id, secret_hash, name, redirect_uris, scopes FROM cd_app",
        "SELECT id, client_id, subscription_id, customer, scope FROM cd_authorization",
        "SELECT login, customer, pw, login, login FROM cd_member",
        "SELECT key, value, key, key, key FROM meta"};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 5; k++) assert_false(table_holds(f->s, tables[k], secrets[i]));
    /* the hash is what is there */
    char h[CD_HASH_HEX];
    cd_sha256_hex(access, h);
    assert_true(table_holds(f->s, tables[0], h));
    if (!f->e->b.pg) { /* and no byte of the SQLite files holds them either */
        char path[700];
        const char *sfx[] = {"", "-wal"};
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s%s", f->e->b.url + 7, sfx[k]);
            FILE *fp = fopen(path, "rb");
            if (!fp) continue;
            size_t cap = 1 << 24, n;
            char *buf = malloc(cap);
            assert_non_null(buf);
            n = fread(buf, 1, cap, fp);
            fclose(fp);
            for (int i = 0; i < 4; i++)
                for (size_t j = 0; j + 43 <= n; j++) assert_true(memcmp(buf + j, secrets[i], 43) != 0);
            free(buf);
        }
    }
    world_free(f);
}

/* Tokens that expired before the cut are deleted; the others still work. */
static void test_oauth_expired_tokens_pruned(void **state)
{
    fx *f = world(state);
    eg_err err;
    char old_tok[CD_SECRET_MAX], new_tok[CD_SECRET_MAX], code[CD_SECRET_MAX];
    cd_token t;
    long n = -1;
    assert_int_equal(cd_token_issue(f->s, CD_TOKEN_ACCESS, "auth-x", "app-x", f->now - 100, NULL,
                                     NULL, old_tok, &err), 0);
    assert_int_equal(cd_token_issue(f->s, CD_TOKEN_CODE, "auth-x", "app-x", f->now - 50,
                                     "https://x.example/cb", "c", code, &err), 0);
    assert_int_equal(cd_token_issue(f->s, CD_TOKEN_REFRESH, "auth-x", "app-x", f->now + 100, NULL,
                                     NULL, new_tok, &err), 0);
    assert_int_equal(cd_token_prune(f->s, f->now - 60, &n, &err), 0);
    assert_int_equal(n, 1); /* only the access token expired before the cut */
    assert_int_equal(cd_token_find(f->s, old_tok, &t, &err), EG_ENOINPUT);
    assert_int_equal(cd_token_find(f->s, code, &t, &err), 0);
    assert_int_equal(cd_token_prune(f->s, f->now, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(cd_token_find(f->s, code, &t, &err), EG_ENOINPUT);
    assert_int_equal(cd_token_find(f->s, new_tok, &t, &err), 0);
    assert_int_equal(t.kind, CD_TOKEN_REFRESH);
    world_free(f);
}

/* Guessing a password is throttled per login, known or not; a success clears it. */
static void test_oauth_member_login_throttled(void **state)
{
    fx *f = world(state);
    eg_err err;
    char cust[CD_ID_MAX];
    int64_t t = f->now;
    assert_int_equal(cd_member_set(f->s, "erin", "cust1", "right pass", t, &err), 0);
    for (int i = 0; i < CD_LOGIN_FREE_TRIES; i++)
        assert_int_equal(cd_member_check(f->s, "erin", "guess", t, cust, &err), EG_EINVALID);
    /* locked: even the right password is refused, with the wait in the message */
    assert_int_equal(cd_member_check(f->s, "erin", "right pass", t + 1, cust, &err), EG_ELIMIT);
    assert_non_null(strstr(err.msg, "try again in 29 s"));
    assert_string_equal(cust, "");
    /* after the wait the right password works and clears the count */
    assert_int_equal(cd_member_check(f->s, "erin", "right pass", t + 31, cust, &err), 0);
    assert_string_equal(cust, "cust1");
    assert_int_equal(cd_member_check(f->s, "erin", "guess", t + 32, cust, &err), EG_EINVALID);
    assert_int_equal(cd_member_check(f->s, "erin", "right pass", t + 33, cust, &err), 0);
    /* an unknown login is throttled the same way, and the wait doubles */
    for (int i = 0; i < CD_LOGIN_FREE_TRIES; i++)
        assert_int_equal(cd_member_check(f->s, "mallory", "x", t, cust, &err), EG_EINVALID);
    assert_int_equal(cd_member_check(f->s, "mallory", "x", t + 10, cust, &err), EG_ELIMIT);
    assert_int_equal(cd_member_check(f->s, "mallory", "x", t + 31, cust, &err), EG_EINVALID);
    assert_int_equal(cd_member_check(f->s, "mallory", "x", t + 32, cust, &err), EG_ELIMIT);
    assert_non_null(strstr(err.msg, "try again in 59 s"));
    /* other logins are not affected */
    assert_int_equal(cd_member_check(f->s, "erin", "right pass", t + 32, cust, &err), 0);
    world_free(f);
}

static void test_oauth_member_set_uses_scrypt(void **state)
{
    fx *f = world(state);
    eg_err err;
    char cust[CD_ID_MAX];
    assert_int_equal(cd_member_set(f->s, "carol", "cust1", "s3cret pass", f->now, &err), 0);
    assert_int_equal(cd_member_check(f->s, "carol", "s3cret pass", f->now, cust, &err), 0);
    assert_string_equal(cust, "cust1");
    assert_int_equal(cd_member_check(f->s, "carol", "wrong", f->now, cust, &err), EG_EINVALID);
    assert_int_equal(cd_member_check(f->s, "nobody", "wrong", f->now, cust, &err), EG_EINVALID);
    assert_true(table_holds(f->s, "SELECT pw, pw, pw, pw, pw FROM cd_member WHERE login = 'carol'",
                            "scrypt$32768$8$1$"));
    assert_false(table_holds(f->s, "SELECT pw, pw, pw, pw, pw FROM cd_member", "s3cret"));
    assert_int_equal(cd_member_set(f->s, "dave", "no-such-customer", "x", f->now, &err), EG_EUSAGE);
    world_free(f);
}

#define OAUTH_TESTS                                                                            \
    cmocka_unit_test_setup(test_oauth_happy_path, test_setup),                                 \
    cmocka_unit_test_setup(test_oauth_wrong_redirect_uri_shows_a_page_and_never_redirects,     \
                           test_setup),                                                        \
    cmocka_unit_test_setup(test_oauth_pkce_is_required_and_plain_refused, test_setup),         \
    cmocka_unit_test_setup(test_oauth_scope_not_registered_is_invalid_scope, test_setup),      \
    cmocka_unit_test_setup(test_oauth_wrong_verifier_is_invalid_grant, test_setup),            \
    cmocka_unit_test_setup(test_oauth_reused_code_revokes_the_first_tokens, test_setup),       \
    cmocka_unit_test_setup(test_oauth_expired_code_and_expired_access_token, test_setup),      \
    cmocka_unit_test_setup(test_oauth_wrong_client_secret_is_401, test_setup),                 \
    cmocka_unit_test_setup(test_oauth_wrong_password_and_deny, test_setup),                    \
    cmocka_unit_test_setup(test_oauth_bad_csrf_is_refused, test_setup),                        \
    cmocka_unit_test_setup(test_oauth_client_credentials, test_setup),                         \
    cmocka_unit_test_setup(test_oauth_unknown_grant_type, test_setup),                         \
    cmocka_unit_test_setup(test_oauth_app_remove_revokes_everything, test_setup),              \
    cmocka_unit_test_setup(test_oauth_tokens_never_stored_in_plain_text, test_setup),          \
    cmocka_unit_test_setup(test_oauth_member_set_uses_scrypt, test_setup),                     \
    cmocka_unit_test_setup(test_oauth_member_login_throttled, test_setup),                     \
    cmocka_unit_test_setup(test_oauth_expired_tokens_pruned, test_setup)

int main(void)
{
    const struct CMUnitTest tests[] = {OAUTH_TESTS};
    int failed = cmocka_run_group_tests_name("oauth/sqlite", tests, sqlite_group_setup,
                                             group_teardown);
    failed += cmocka_run_group_tests_name("oauth/postgresql", tests, pg_group_setup,
                                          group_teardown);
    return failed ? 1 : 0;
}
