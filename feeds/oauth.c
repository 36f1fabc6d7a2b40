/* oauth.c -- the OAuth 2.0 authorization server of the Data Custodian.
 *
 * See oauth.h for the endpoints and custodian.h for the records.  The
 * order of checks at the authorize endpoint follows RFC 6749 4.1.2.1: the
 * client and its EXACT redirect URI are checked first, and when either is
 * wrong the member sees an error page -- we never redirect to a URI the
 * client did not register.  Every later problem (response_type, PKCE,
 * scope) goes back to the redirect URI as error=...&state=....
 *
 * CSRF: the consent form carries "ts.HMAC-SHA256(key, ts + the authorize
 * parameters)", with a 256-bit key created once per store (meta table), so
 * a POST is accepted only with parameters this server showed within the
 * last CSRF_TTL seconds, and any process sharing the store can check it.
 *
 * The token endpoint authenticates the client (HTTP Basic, RFC 6749 2.3.1
 * with form-encoded id and secret, or client_secret_post -- not both), then
 * runs the grant in one store transaction: a code is marked used in the
 * same transaction that issues its tokens, so two racing exchanges cannot
 * both succeed, and a replayed code revokes the authorization and every
 * token issued from it (RFC 6749 10.5).  A refresh token rotates; a revoked
 * refresh token presented again revokes its authorization (RFC 9700
 * 4.14.2: one of the two holders is not the client).  Responses carry
 * Cache-Control: no-store. */
#include "oauth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "custodian.h"
#include "oauth_page.h"

#define CSRF_TTL 1800          /* seconds a consent form stays valid */
#define STATE_MAX 512
#define PATH_MAX_ 300
#define BASE_MAX 900

struct oauth {
    store *s;
    char prefix[256];
    char base[BASE_MAX];
    char title[256];
    int64_t access_ttl, refresh_ttl, code_ttl;
    int64_t (*now)(void *ctx);
    void *now_ctx;
    unsigned char key[32];
    char p_authorize[PATH_MAX_], p_token[PATH_MAX_], p_revoke[PATH_MAX_];
    store_stmt *bearer;          /* the bearer check, prepared once (every request runs it) */
    EVP_MD *sha256;              /* its token hash: fetched once, context kept */
    EVP_MD_CTX *md_ctx;
};

void oauth_opts_init(oauth_opts *o)
{
    memset(o, 0, sizeof *o);
    o->prefix = "/DataCustodian";
    o->resource_base = "https://localhost:8443/DataCustodian/espi/1_1/resource";
    o->access_ttl = 3600;
    o->refresh_ttl = 365 * 86400;
    o->code_ttl = 60;
    o->page_title = "espigate Data Custodian";
}

static int64_t now_of(const oauth *a)
{
    return a->now ? a->now(a->now_ctx) : (int64_t)time(NULL);
}

static void copy(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

static int unhex32(const char *s, unsigned char out[32])
{
    if (strlen(s) != 64) return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

/* The CSRF key: created once per store, shared by all its processes. */
static int load_key(store *s, unsigned char key[32], eg_err *err)
{
    unsigned char fresh[32];
    char h[65];
    store_stmt *st = NULL;
    int rc;
    if (RAND_bytes(fresh, sizeof fresh) != 1)
        return eg_errf(err, EG_EIO, NULL, 0, 0, "OpenSSL RAND_bytes failed: no randomness");
    for (int i = 0; i < 32; i++) snprintf(h + 2 * i, 3, "%02x", fresh[i]);
    if ((rc = s->ops->prepare(s,
                              "INSERT INTO meta(key, value) VALUES('oauth_csrf_key', ?1)"
                              " ON CONFLICT(key) DO NOTHING",
                              0, &st, err)))
        goto done;
    s->ops->bind_text(st, 1, h);
    if ((rc = s->ops->step(st, err)) < 0) goto done;
    s->ops->finalize(st);
    st = NULL;
    if ((rc = s->ops->prepare(s, "SELECT value FROM meta WHERE key = 'oauth_csrf_key'", 0, &st,
                              err)))
        goto done;
    rc = s->ops->step(st, err);
    if (rc == 1) rc = unhex32(s->ops->col_text(st, 0), key) ? -1 : 0;
    else if (rc == 0) rc = -1;
    if (rc == -1)
        rc = eg_errf(err, EG_EDATA, NULL, 0, 0,
                     "the store's oauth_csrf_key (table meta) is not 64 hex digits: delete that row "
                     "and restart to make a new one");
done:
    s->ops->finalize(st);
    OPENSSL_cleanse(fresh, sizeof fresh);
    OPENSSL_cleanse(h, sizeof h);
    return rc;
}

oauth *oauth_new(store *s, const oauth_opts *o, eg_err *err)
{
    oauth_opts d;
    oauth *a = calloc(1, sizeof *a);
    int rc = 0;
    if (!a) {
        eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    oauth_opts_init(&d);
    if (!o) o = &d;
    a->s = s;
    copy(a->prefix, sizeof a->prefix, o->prefix ? o->prefix : d.prefix);
    copy(a->base, sizeof a->base, o->resource_base ? o->resource_base : d.resource_base);
    size_t n = strlen(a->base);
    while (n && a->base[n - 1] == '/') a->base[--n] = '\0';
    n = strlen(a->prefix);
    while (n && a->prefix[n - 1] == '/') a->prefix[--n] = '\0';
    copy(a->title, sizeof a->title, o->page_title ? o->page_title : d.page_title);
    a->access_ttl = o->access_ttl > 0 ? o->access_ttl : d.access_ttl;
    a->refresh_ttl = o->refresh_ttl > 0 ? o->refresh_ttl : d.refresh_ttl;
    a->code_ttl = o->code_ttl > 0 ? o->code_ttl : d.code_ttl;
    a->now = o->now;
    a->now_ctx = o->now_ctx;
    snprintf(a->p_authorize, sizeof a->p_authorize, "%s/oauth/authorize", a->prefix);
    snprintf(a->p_token, sizeof a->p_token, "%s/oauth/token", a->prefix);
    snprintf(a->p_revoke, sizeof a->p_revoke, "%s/oauth/revoke", a->prefix);
    if (!(a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) || !(a->md_ctx = EVP_MD_CTX_new())) {
        rc = eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "OpenSSL has no SHA-256 (check the OpenSSL installation)");
        goto done;
    }
    if ((rc = cd_init(s, err))) goto done;
    rc = load_key(s, a->key, err);
done:
    if (rc) {
        oauth_free(a);
        return NULL;
    }
    return a;
}

void oauth_free(oauth *a)
{
    if (!a) return;
    if (a->bearer) a->s->ops->finalize(a->bearer);
    EVP_MD_CTX_free(a->md_ctx);
    EVP_MD_free(a->sha256);
    OPENSSL_cleanse(a->key, sizeof a->key);
    free(a);
}

/* ---- small encoders -------------------------------------------------------- */

static int is_unreserved(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* Append "&name=value" (percent-encoded) to out. */
static void add_param(char *out, size_t size, const char *name, const char *value)
{
    size_t o = strlen(out);
    int n = snprintf(out + o, size - o, "%s%s=", o && out[o - 1] != '?' ? "&" : "", name);
    if (n < 0 || (size_t)n >= size - o) return;
    o += (size_t)n;
    for (const unsigned char *p = (const unsigned char *)value; *p && o + 4 < size; p++) {
        if (is_unreserved(*p)) out[o++] = (char)*p;
        else o += (size_t)snprintf(out + o, size - o, "%%%02X", *p);
    }
    out[o] = '\0';
}

/* Write s as a JSON string (with quotes). */
static void json_str(http_resp *rs, const char *s)
{
    http_resp_write(rs, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') http_resp_printf(rs, "\\%c", *p);
        else if (*p < 0x20) http_resp_printf(rs, "\\u%04x", *p);
        else http_resp_write(rs, (const char *)p, 1);
    }
    http_resp_write(rs, "\"", 1);
}

static int is_b64url_token(const char *s, size_t min, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
              (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_'))
            return 0;
    return n >= min && n <= max;
}

/* ---- redirects and error pages ---------------------------------------------- */

static void no_store(http_resp *rs)
{
    http_resp_header(rs, "Cache-Control", "no-store");
    http_resp_header(rs, "Pragma", "no-cache");
}

/* 302 to uri with the parameters (name, value pairs; NULL value skipped). */
static void redirect(http_resp *rs, const char *uri, const char *const *kv, int n)
{
    char *loc = malloc(8192);
    if (!loc) {
        oauth_page_error(rs, 500, "Server error", "Out of memory.");
        return;
    }
    snprintf(loc, 8192, "%s%s", uri, strchr(uri, '?') ? "&" : "?");
    for (int i = 0; i + 1 < 2 * n; i += 2)
        if (kv[i + 1] && (kv[i + 1][0] || strcmp(kv[i], "state") != 0))
            add_param(loc, 8192, kv[i], kv[i + 1]);
    http_resp_status(rs, 302);
    http_resp_header(rs, "Location", loc);
    no_store(rs);
    http_resp_header(rs, "Referrer-Policy", "no-referrer");
    free(loc);
}

static void redirect_error(http_resp *rs, const char *uri, const char *error, const char *desc,
                           const char *state)
{
    const char *kv[] = {"error", error, "error_description", desc, "state", state};
    redirect(rs, uri, kv, 3);
}

/* ---- authorize ----------------------------------------------------------------- */

typedef struct authz {
    const char *client_id, *redirect_uri, *response_type, *scope, *state, *challenge, *method;
} authz;

static void authz_from(const http_req *r, int post, authz *p)
{
    const char *(*get)(const http_req *, const char *) = post ? http_req_form : http_req_query;
    p->client_id = get(r, "client_id");
    p->redirect_uri = get(r, "redirect_uri");
    p->response_type = get(r, "response_type");
    p->scope = get(r, "scope");
    p->state = get(r, "state");
    p->challenge = get(r, "code_challenge");
    p->method = get(r, "code_challenge_method");
}

/* Check the authorize parameters; 0 when good (scope resolved into p),
 * else the response is made (error page or redirect) and 1 returned. */
static int authz_check(oauth *a, authz *p, cd_app *app, http_resp *rs)
{
    eg_err err;
    if (!p->client_id || cd_app_get(a->s, p->client_id, app, &err)) {
        oauth_page_error(rs, 400, "Unknown application",
                         "This request names no application registered here (client_id). "
                         "Go back to the application and try again, or tell its provider.");
        return 1;
    }
    if (!p->redirect_uri || !cd_app_has_redirect(app, p->redirect_uri)) {
        oauth_page_error(rs, 400, "Wrong return address",
                         "The application asked to send you back to an address (redirect_uri) "
                         "it did not register with us, so we will not send you there. Tell the "
                         "application's provider.");
        return 1;
    }
    if (p->state && (strlen(p->state) > STATE_MAX)) {
        redirect_error(rs, p->redirect_uri, "invalid_request", "state longer than 512 bytes", NULL);
        return 1;
    }
    if (!p->response_type || strcmp(p->response_type, "code") != 0) {
        redirect_error(rs, p->redirect_uri,
                       p->response_type ? "unsupported_response_type" : "invalid_request",
                       "response_type must be code", p->state);
        return 1;
    }
    if (!p->challenge || !p->method) {
        redirect_error(rs, p->redirect_uri, "invalid_request",
                       "PKCE is required: code_challenge and code_challenge_method=S256",
                       p->state);
        return 1;
    }
    if (strcmp(p->method, "S256") != 0) {
        redirect_error(rs, p->redirect_uri, "invalid_request",
                       "code_challenge_method must be S256 (plain is not accepted)", p->state);
        return 1;
    }
    if (!is_b64url_token(p->challenge, 43, 43)) {
        redirect_error(rs, p->redirect_uri, "invalid_request",
                       "code_challenge must be the 43-character base64url SHA-256 of the verifier",
                       p->state);
        return 1;
    }
    if (!p->scope || !p->scope[0]) p->scope = app->scope[0];
    else if (!cd_app_has_scope(app, p->scope)) {
        redirect_error(rs, p->redirect_uri, "invalid_scope",
                       "scope is not one this application registered", p->state);
        return 1;
    }
    return 0;
}

static void csrf_mac(const oauth *a, const authz *p, long long ts, char out[96])
{
    unsigned char md[32];
    unsigned int n = 0;
    size_t len = 64 + strlen(p->client_id) + strlen(p->redirect_uri) + strlen(p->scope) +
                 (p->state ? strlen(p->state) : 0) + strlen(p->challenge);
    char *msg = malloc(len);
    out[0] = '\0';
    if (!msg) return;
    snprintf(msg, len, "v1\n%lld\n%s\n%s\n%s\n%s\n%s", ts, p->client_id, p->redirect_uri,
             p->scope, p->state ? p->state : "", p->challenge);
    HMAC(EVP_sha256(), a->key, sizeof a->key, (const unsigned char *)msg, strlen(msg), md, &n);
    free(msg);
    int o = snprintf(out, 96, "%lld.", ts);
    for (int i = 0; i < 32 && o + 2 < 96; i++) o += snprintf(out + o, 96 - (size_t)o, "%02x", md[i]);
}

static int csrf_ok(const oauth *a, const authz *p, const char *got)
{
    char want[96];
    char *end;
    if (!got) return 0;
    long long ts = strtoll(got, &end, 10);
    long long now = (long long)now_of(a);
    if (*end != '.' || ts > now + 60 || now - ts > CSRF_TTL) return 0;
    csrf_mac(a, p, ts, want);
    return strlen(got) == strlen(want) && CRYPTO_memcmp(got, want, strlen(want)) == 0;
}

static void consent(oauth *a, const authz *p, const cd_app *app, http_resp *rs, int status,
                    const char *login, const char *error)
{
    char csrf[96];
    csrf_mac(a, p, (long long)now_of(a), csrf);
    oauth_page_args pa = {a->title,      a->p_authorize, app->name, p->client_id,
                          p->redirect_uri, p->scope,     p->state,  p->challenge,
                          csrf,          login,          error};
    oauth_page_consent(rs, status, &pa);
}

static int approve(oauth *a, const authz *p, const char *customer, http_resp *rs)
{
    cd_authorization az;
    char code[CD_SECRET_MAX];
    eg_err err;
    int64_t now = now_of(a);
    int rc = cd_begin(a->s, &err);
    if (rc) goto done;
    rc = cd_authorization_create(a->s, p->client_id, customer, p->scope, now, a->refresh_ttl, 1,
                                 &az, &err);
    if (!rc)
        rc = cd_token_issue(a->s, CD_TOKEN_CODE, az.id, p->client_id, now + a->code_ttl,
                            p->redirect_uri, p->challenge, code, &err);
    if (rc) cd_rollback(a->s);
    else rc = cd_commit(a->s, &err);
done:
    if (rc) {
        redirect_error(rs, p->redirect_uri, "server_error",
                       "the authorization could not be recorded; try again", p->state);
        return 1;
    }
    const char *kv[] = {"code", code, "state", p->state};
    redirect(rs, p->redirect_uri, kv, 2);
    OPENSSL_cleanse(code, sizeof code);
    return 1;
}

static int handle_authorize(oauth *a, const http_req *r, http_resp *rs)
{
    authz p;
    int post = strcmp(http_req_method(r), "POST") == 0;
    cd_app *app = malloc(sizeof *app);
    if (!app) {
        oauth_page_error(rs, 500, "Server error", "Out of memory.");
        return 1;
    }
    authz_from(r, post, &p);
    if (authz_check(a, &p, app, rs)) goto done;
    if (!post) {
        consent(a, &p, app, rs, 200, "", NULL);
        goto done;
    }
    if (!csrf_ok(a, &p, http_req_form(r, "csrf"))) {
        oauth_page_error(rs, 403, "This form has expired",
                         "The form was not one this server showed recently. Go back to the "
                         "application and start again.");
        goto done;
    }
    const char *decision = http_req_form(r, "decision");
    if (decision && strcmp(decision, "deny") == 0) {
        redirect_error(rs, p.redirect_uri, "access_denied", "the customer denied the request",
                       p.state);
        goto done;
    }
    if (!decision || strcmp(decision, "approve") != 0) {
        oauth_page_error(rs, 400, "Bad request", "Choose Approve or Deny.");
        goto done;
    }
    const char *login = http_req_form(r, "login"), *pw = http_req_form(r, "password");
    char customer[CD_ID_MAX];
    eg_err err;
    eg_err_clear(&err);
    if (!login || !pw || cd_member_check(a->s, login, pw, now_of(a), customer, &err)) {
        if (err.code == EG_ELIMIT) /* throttled: say so, and for how long */
            consent(a, &p, app, rs, 429, login, "Too many wrong passwords for this login: "
                    "wait a few minutes, then try again.");
        else
            consent(a, &p, app, rs, 403, login ? login : "", "Wrong login or password.");
        goto done;
    }
    approve(a, &p, customer, rs);
done:
    free(app);
    return 1;
}

/* ---- token endpoint --------------------------------------------------------------- */

static void json_head(http_resp *rs, int status)
{
    http_resp_status(rs, status);
    http_resp_header(rs, "Content-Type", "application/json; charset=utf-8");
    no_store(rs);
}

static void token_error(http_resp *rs, int status, const char *error, const char *desc)
{
    json_head(rs, status);
    if (status == 401) http_resp_header(rs, "WWW-Authenticate", "Basic realm=\"espigate\"");
    http_resp_printf(rs, "{\"error\":");
    json_str(rs, error);
    http_resp_printf(rs, ",\"error_description\":");
    json_str(rs, desc);
    http_resp_printf(rs, "}\n");
}

/* Percent/plus-decode s in place (form encoding); -1 on a bad escape. */
static int form_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '+') *o++ = ' ';
        else if (*p == '%') {
            unsigned v;
            if (!p[1] || !p[2] || sscanf(p + 1, "%2x", &v) != 1 || v == 0) return -1;
            *o++ = (char)v;
            p += 2;
        } else *o++ = *p;
    }
    *o = '\0';
    return 0;
}

/* Authenticate the client; 0 and client_id filled, else the error is
 * written (401 invalid_client or 400 invalid_request) and -1 returned. */
static int client_auth(oauth *a, const http_req *r, http_resp *rs, char client_id[CD_ID_MAX])
{
    const char *h = http_req_header(r, "Authorization");
    const char *fid = http_req_form(r, "client_id"), *fsecret = http_req_form(r, "client_secret");
    char id[CD_ID_MAX * 3] = "", secret[CD_SECRET_MAX * 3] = "";
    eg_err err;
    int rc = -1;
    if (h && strncasecmp(h, "Basic ", 6) == 0) {
        const char *b = h + 6;
        while (*b == ' ') b++;
        size_t n = strlen(b);
        unsigned char dec[400];
        if (fsecret) {
            token_error(rs, 400, "invalid_request", "use one client authentication method");
            goto done;
        }
        int len = n > 0 && n % 4 == 0 && n < 500 ? EVP_DecodeBlock(dec, (const unsigned char *)b, (int)n) : -1;
        if (len >= 0) len -= (n && b[n - 1] == '=') + (n > 1 && b[n - 2] == '=');
        char *colon = len > 0 ? memchr(dec, ':', (size_t)len) : NULL;
        if (!colon || memchr(dec, 0, (size_t)len)) goto unauth;
        size_t il = (size_t)(colon - (char *)dec), sl = (size_t)len - il - 1;
        if (il >= sizeof id || sl >= sizeof secret) goto unauth;
        memcpy(id, dec, il);
        id[il] = '\0';
        memcpy(secret, colon + 1, sl);
        secret[sl] = '\0';
        OPENSSL_cleanse(dec, sizeof dec);
        if (form_decode(id) || form_decode(secret)) goto unauth;
        if (fid && strcmp(fid, id) != 0) {
            token_error(rs, 400, "invalid_request", "client_id differs from the authenticated client");
            goto done;
        }
    } else if (fid && fsecret) {
        copy(id, sizeof id, fid);
        copy(secret, sizeof secret, fsecret);
    } else {
        goto unauth;
    }
    if (strlen(id) >= CD_ID_MAX || cd_app_check_secret(a->s, id, secret, &err)) goto unauth;
    copy(client_id, CD_ID_MAX, id);
    rc = 0;
    goto done;
unauth:
    token_error(rs, 401, "invalid_client", "client authentication failed");
done:
    OPENSSL_cleanse(secret, sizeof secret);
    return rc;
}

static void token_ok(oauth *a, http_resp *rs, const char *access, const char *refresh,
                     const cd_authorization *az)
{
    json_head(rs, 200);
    http_resp_printf(rs, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":%lld,",
                     access, (long long)a->access_ttl);
    if (refresh) http_resp_printf(rs, "\"refresh_token\":\"%s\",", refresh);
    http_resp_printf(rs, "\"scope\":");
    json_str(rs, az->scope);
    http_resp_printf(rs, ",\"resourceURI\":");
    char uri[BASE_MAX + 128];
    if (az->subscription_id[0])
        snprintf(uri, sizeof uri, "%s/Batch/Subscription/%s", a->base, az->subscription_id);
    else
        snprintf(uri, sizeof uri, "%s/Batch/Bulk/%s", a->base, az->client_id);
    json_str(rs, uri);
    snprintf(uri, sizeof uri, "%s/Authorization/%s", a->base, az->id);
    http_resp_printf(rs, ",\"authorizationURI\":");
    json_str(rs, uri);
    if (az->customer[0]) { /* the member's own data, ESPI's customerResourceURI */
        snprintf(uri, sizeof uri, "%s/Batch/RetailCustomer/%s", a->base, az->customer);
        http_resp_printf(rs, ",\"customerResourceURI\":");
        json_str(rs, uri);
    }
    http_resp_printf(rs, "}\n");
}

typedef struct tok_fail {
    const char *error, *desc;
} tok_fail;

#define FAIL(e, d)                                                                            \
    do {                                                                                      \
        f.error = (e);                                                                        \
        f.desc = (d);                                                                         \
        goto done;                                                                            \
    } while (0)

/* Issue access (+ refresh when want_refresh) for az; inside a transaction. */
static int issue_pair(oauth *a, const cd_authorization *az, int64_t now, int want_refresh,
                      char access[CD_SECRET_MAX], char refresh[CD_SECRET_MAX], eg_err *err)
{
    int64_t exp = now + a->access_ttl;
    int rc = cd_token_issue(a->s, CD_TOKEN_ACCESS, az->id, az->client_id, exp, NULL, NULL, access,
                            err);
    if (!rc && want_refresh)
        rc = cd_token_issue(a->s, CD_TOKEN_REFRESH, az->id, az->client_id, az->expires, NULL, NULL,
                            refresh, err);
    return rc;
}

static int verifier_ok(const char *v, const char *challenge)
{
    char got[48];
    if (!v) return 0;
    size_t n = strlen(v);
    if (n < 43 || n > 128) return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_unreserved((unsigned char)v[i])) return 0;
    cd_pkce_s256(v, got);
    return strlen(challenge) == strlen(got) && CRYPTO_memcmp(got, challenge, strlen(got)) == 0;
}

/* The end of a code or refresh grant: commit what the grant did (a failed
 * one's too when commit_anyway: the revocation a replay caused must stick),
 * else roll back; answer with the tokens, the error or a 500; wipe the
 * plain tokens. */
static void grant_reply(oauth *a, http_resp *rs, int in_tx, int server, int commit_anyway,
                        const tok_fail *f, char *access, char *refresh,
                        const cd_authorization *az)
{
    eg_err err;
    if (in_tx) {
        int keep = !server && (!f->error || commit_anyway);
        if (keep && cd_commit(a->s, &err)) server = 1;
        if (!keep) cd_rollback(a->s);
    }
    if (server) token_error(rs, 500, "server_error", "the store failed; try again");
    else if (f->error) token_error(rs, 400, f->error, f->desc);
    else token_ok(a, rs, access, refresh, az);
    OPENSSL_cleanse(access, CD_SECRET_MAX);
    OPENSSL_cleanse(refresh, CD_SECRET_MAX);
}

static void grant_code(oauth *a, const http_req *r, http_resp *rs, const char *client_id)
{
    const char *code = http_req_form(r, "code"), *ru = http_req_form(r, "redirect_uri");
    const char *verifier = http_req_form(r, "code_verifier");
    tok_fail f = {NULL, NULL};
    cd_token t;
    cd_authorization az;
    char access[CD_SECRET_MAX] = "", refresh[CD_SECRET_MAX] = "";
    eg_err err;
    int64_t now = now_of(a);
    int in_tx = 0, server = 0, commit_anyway = 0;
    if (!code || !ru || !verifier)
        FAIL("invalid_request", "code, redirect_uri and code_verifier are required");
    if (cd_begin(a->s, &err)) {
        server = 1;
        goto done;
    }
    in_tx = 1;
    if (!is_b64url_token(code, 43, 43) || cd_token_find(a->s, code, &t, &err) ||
        t.kind != CD_TOKEN_CODE || strcmp(t.client_id, client_id) != 0)
        FAIL("invalid_grant", "unknown authorization code");
    if (t.used || cd_token_use_code(a->s, t.hash, &err)) {
        /* RFC 6749 10.5: a replayed code revokes what was issued from it */
        if (cd_authorization_revoke(a->s, t.authorization_id, now, 1, &err)) server = 1;
        commit_anyway = 1;
        FAIL("invalid_grant", "authorization code already used; the tokens issued for it are revoked");
    }
    if (t.revoked || now >= t.expires) FAIL("invalid_grant", "authorization code expired");
    if (strcmp(t.redirect_uri, ru) != 0)
        FAIL("invalid_grant", "redirect_uri differs from the one in the authorization request");
    if (!verifier_ok(verifier, t.challenge))
        FAIL("invalid_grant", "code_verifier does not match the code_challenge (PKCE S256)");
    if (cd_authorization_get(a->s, t.authorization_id, &az, &err) || az.status != ESPI_AUTH_ACTIVE)
        FAIL("invalid_grant", "the authorization was revoked");
    if (issue_pair(a, &az, now, 1, access, refresh, &err)) server = 1;
done:
    grant_reply(a, rs, in_tx, server, commit_anyway, &f, access, refresh, &az);
}

static void grant_refresh(oauth *a, const http_req *r, http_resp *rs, const char *client_id)
{
    const char *rt = http_req_form(r, "refresh_token"), *scope = http_req_form(r, "scope");
    tok_fail f = {NULL, NULL};
    cd_token t;
    cd_authorization az;
    char access[CD_SECRET_MAX] = "", refresh[CD_SECRET_MAX] = "";
    eg_err err;
    int64_t now = now_of(a);
    int in_tx = 0, server = 0, commit_anyway = 0;
    if (!rt) FAIL("invalid_request", "refresh_token is required");
    if (cd_begin(a->s, &err)) {
        server = 1;
        goto done;
    }
    in_tx = 1;
    if (!is_b64url_token(rt, 43, 43) || cd_token_find(a->s, rt, &t, &err) ||
        t.kind != CD_TOKEN_REFRESH || strcmp(t.client_id, client_id) != 0)
        FAIL("invalid_grant", "unknown refresh token");
    if (cd_authorization_get(a->s, t.authorization_id, &az, &err) || az.status != ESPI_AUTH_ACTIVE)
        FAIL("invalid_grant", "the authorization was revoked");
    if (t.revoked) {
        /* a rotated-out token came back: someone else holds one of the two */
        if (cd_authorization_revoke(a->s, t.authorization_id, now, 1, &err)) server = 1;
        commit_anyway = 1;
        FAIL("invalid_grant", "refresh token was already used; the authorization is revoked");
    }
    if (now >= t.expires) FAIL("invalid_grant", "refresh token expired; ask the customer again");
    if (scope && strcmp(scope, az.scope) != 0)
        FAIL("invalid_scope", "a refresh keeps the scope of the authorization");
    if (cd_token_revoke(a->s, t.hash, &err)) FAIL("invalid_grant", "refresh token was already used");
    if (issue_pair(a, &az, now, 1, access, refresh, &err)) server = 1;
done:
    grant_reply(a, rs, in_tx, server, commit_anyway, &f, access, refresh, &az);
}

static void grant_client(oauth *a, const http_req *r, http_resp *rs, const char *client_id)
{
    const char *scope = http_req_form(r, "scope");
    cd_app *app = malloc(sizeof *app);
    cd_authorization az;
    char access[CD_SECRET_MAX] = "";
    eg_err err;
    int64_t now = now_of(a);
    int rc = app ? cd_app_get(a->s, client_id, app, &err) : -1;
    if (!rc) rc = cd_begin(a->s, &err);
    if (!rc) {
        if (!scope || !cd_app_has_scope(app, scope)) scope = app->scope[0];
        rc = cd_authorization_client(a->s, client_id, scope, now, a->refresh_ttl, 1, &az, &err);
        if (!rc) rc = issue_pair(a, &az, now, 0, access, NULL, &err);
        if (rc) cd_rollback(a->s);
        else rc = cd_commit(a->s, &err);
    }
    if (rc) token_error(rs, 500, "server_error", "the store failed; try again");
    else token_ok(a, rs, access, NULL, &az);
    OPENSSL_cleanse(access, sizeof access);
    free(app);
}

static int is_form_post(const http_req *r, http_resp *rs)
{
    const char *ct = http_req_header(r, "Content-Type");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        token_error(rs, 400, "invalid_request",
                    "POST a body of Content-Type application/x-www-form-urlencoded");
        return 0;
    }
    return 1;
}

static int handle_token(oauth *a, const http_req *r, http_resp *rs)
{
    char client_id[CD_ID_MAX];
    if (!is_form_post(r, rs) || client_auth(a, r, rs, client_id)) return 1;
    const char *gt = http_req_form(r, "grant_type");
    if (!gt) token_error(rs, 400, "invalid_request", "grant_type is required");
    else if (strcmp(gt, "authorization_code") == 0) grant_code(a, r, rs, client_id);
    else if (strcmp(gt, "refresh_token") == 0) grant_refresh(a, r, rs, client_id);
    else if (strcmp(gt, "client_credentials") == 0) grant_client(a, r, rs, client_id);
    else
        token_error(rs, 400, "unsupported_grant_type",
                    "grant_type must be authorization_code, refresh_token or client_credentials");
    return 1;
}

/* RFC 7009: 200 whatever the token was, unless the client fails to
 * authenticate or the store fails. */
static int handle_revoke(oauth *a, const http_req *r, http_resp *rs)
{
    char client_id[CD_ID_MAX];
    cd_token t;
    eg_err err;
    if (!is_form_post(r, rs) || client_auth(a, r, rs, client_id)) return 1;
    const char *tok = http_req_form(r, "token");
    if (!tok) {
        token_error(rs, 400, "invalid_request", "token is required");
        return 1;
    }
    int rc = 0;
    if (is_b64url_token(tok, 43, 43) && cd_token_find(a->s, tok, &t, &err) == 0 &&
        strcmp(t.client_id, client_id) == 0) {
        if (t.kind == CD_TOKEN_REFRESH)
            rc = cd_authorization_revoke(a->s, t.authorization_id, now_of(a), 0, &err);
        else if (!t.revoked && cd_token_revoke(a->s, t.hash, &err) == EG_EIO)
            rc = EG_EIO;
    }
    if (rc) {
        token_error(rs, 503, "temporarily_unavailable", "the store failed; try again");
        return 1;
    }
    json_head(rs, 200);
    return 1;
}

/* ---- dispatch, bearer ---------------------------------------------------------------- */

static void method_not_allowed(http_resp *rs, const char *allow)
{
    http_resp_status(rs, 405);
    http_resp_header(rs, "Allow", allow);
    http_resp_printf(rs, "method not allowed; use %s\n", allow);
}

int oauth_handle(void *ctx, const http_req *r, http_resp *rs)
{
    oauth *a = ctx;
    const char *path = http_req_path(r), *m = http_req_method(r);
    if (strcmp(path, a->p_authorize) == 0) {
        if (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0) {
            method_not_allowed(rs, "GET, POST");
            return 1;
        }
        return handle_authorize(a, r, rs);
    }
    int token = strcmp(path, a->p_token) == 0, revoke = strcmp(path, a->p_revoke) == 0;
    if (!token && !revoke) return 0;
    if (strcmp(m, "POST") != 0) {
        method_not_allowed(rs, "POST");
        return 1;
    }
    return token ? handle_token(a, r, rs) : handle_revoke(a, r, rs);
}

/* One indexed join answers a bearer check: token -> its authorization. */
static const char bearer_sql[] =
    "SELECT t.kind, t.expires, t.revoked, a.status, a.client_id, a.subscription_id, a.customer,"
    " a.scope, a.id FROM cd_token t JOIN cd_authorization a ON a.id = t.authorization_id"
    " WHERE t.hash = ?1";

int oauth_check_bearer(oauth *a, const char *h, oauth_grant *out, eg_err *err)
{
    store *s = a->s;
    char hash[CD_HASH_HEX];
    eg_err e2;
    memset(out, 0, sizeof *out);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return eg_errf(err, EG_EINVALID, NULL, 0, 0, "no Bearer token in the Authorization header");
    const char *tok = h + 7;
    while (*tok == ' ') tok++;
    if (!is_b64url_token(tok, 43, 43))
        return eg_errf(err, EG_EINVALID, NULL, 0, 0, "malformed bearer token");
    int rc = a->bearer ? 0 : s->ops->prepare(s, bearer_sql, 0, &a->bearer, &e2);
    if (rc) {
        if (err) *err = e2;
        return rc;
    }
    if (cd_sha256_hex_with(a->md_ctx, a->sha256, tok, hash))
        return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "cannot hash the bearer token (OpenSSL failed)");
    s->ops->reset(a->bearer);
    s->ops->bind_text(a->bearer, 1, hash);
    rc = s->ops->step(a->bearer, &e2);
    if (rc < 0) {
        s->ops->reset(a->bearer);
        if (err) *err = e2;
        return rc;
    }
    int found = rc == 1, kind = 0, revoked = 0, status = 0;
    int64_t expires = 0;
    if (found) {
        kind = (int)s->ops->col_i64(a->bearer, 0);
        expires = s->ops->col_i64(a->bearer, 1);
        revoked = (int)s->ops->col_i64(a->bearer, 2);
        status = (int)s->ops->col_i64(a->bearer, 3);
        copy(out->client_id, sizeof out->client_id, s->ops->col_text(a->bearer, 4));
        copy(out->subscription_id, sizeof out->subscription_id, s->ops->col_text(a->bearer, 5));
        copy(out->customer_id, sizeof out->customer_id, s->ops->col_text(a->bearer, 6));
        copy(out->scope, sizeof out->scope, s->ops->col_text(a->bearer, 7));
        copy(out->authorization_id, sizeof out->authorization_id, s->ops->col_text(a->bearer, 8));
    }
    s->ops->reset(a->bearer); /* releases the read snapshot at once */
    rc = 0;
    if (!found || kind != CD_TOKEN_ACCESS)
        rc = eg_errf(err, EG_EINVALID, NULL, 0, 0, "unknown bearer token");
    else if (revoked)
        rc = eg_errf(err, EG_EINVALID, NULL, 0, 0, "the token was revoked");
    else if (now_of(a) >= expires)
        rc = eg_errf(err, EG_EINVALID, NULL, 0, 0, "the token expired");
    else if (status != ESPI_AUTH_ACTIVE)
        rc = eg_errf(err, EG_EINVALID, NULL, 0, 0, "the authorization was revoked");
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->kind = out->subscription_id[0] ? OAUTH_GRANT_CUSTOMER : OAUTH_GRANT_CLIENT;
    out->expires_at = expires;
    return 0;
}
