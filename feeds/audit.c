/* audit.c -- the conformance auditor's walk and rules (see audit.h).
 *
 * One libcurl easy handle does every request in order (connections are
 * reused; the TLS probes force fresh ones).  fetch() writes each body to an
 * unlinked temporary file, stopping at max_bytes, and records status,
 * Content-Type and WWW-Authenticate; the file is then read twice by the
 * streaming reader: once through espi_validate_io() (findings become
 * AUD-VALID-001 evidence) and once to collect entries (id, published,
 * updated, a SHA-256 of the entry as our writer re-serialises it) and the
 * links to follow.  Nothing a server sends is held in memory beyond one
 * entry and the bounded tables below.
 *
 * Rule bookkeeping is plain: every check calls check() with the rule id,
 * pass or fail and its evidence; the rule's status is derived at the end
 * (fail wins, then pass, else skip with the reason recorded by skip()). */
#include "audit.h"
#include "textout.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "validate.h"
#include "writer.h"

/* ---- the catalog (docs/rules.md "AUD") --------------------------------- */

static const audit_rule catalog[] = {
    {"AUD-TLS-001", "the server negotiates TLS 1.2 or later",
     "ESPI/GBA: HTTPS for all transmissions, TLS 1.2 minimum (NOTES 4)", "error"},
    {"AUD-TLS-002", "the server certificate verifies (chain and host name)",
     "RFC 6125; GBA Cyber Security", "error"},
    {"AUD-TLS-003", "TLS 1.0 and TLS 1.1 handshakes are refused",
     "RFC 8996; GBA acceptable cipher suites", "error"},
    {"AUD-HTTP-001", "every request gets a complete HTTP response within --timeout",
     "RFC 9110/9112", "error"},
    {"AUD-HTTP-002", "every response body fits in --max-bytes", "auditor limit", "error"},
    {"AUD-HTTP-003", "ESPI resources are served as application/atom+xml",
     "ESPI REST (NOTES 3); FB_01", "error"},
    {"AUD-HTTP-004", "the resources a grant covers answer 200 (ApplicationInformation, "
     "Authorization, ReadServiceStatus, Batch/Subscription, UsagePoint)",
     "GBA CERT001-CERT004; FB_31, FB_35", "error"},
    {"AUD-OAUTH-001", "a request without a token gets 401 with WWW-Authenticate: Bearer",
     "RFC 6750 §3, §3.1", "error"},
    {"AUD-OAUTH-002", "a malformed token gets 401 with WWW-Authenticate: Bearer",
     "RFC 6750 §3.1 invalid_request/invalid_token", "error"},
    {"AUD-OAUTH-003", "an unknown (revoked-looking) token gets 401 with WWW-Authenticate: Bearer",
     "RFC 6750 §3.1 invalid_token", "error"},
    {"AUD-OAUTH-004", "a client_credentials token cannot read Subscription resources (403/404)",
     "ESPI scopes (NOTES 4); RFC 6750 insufficient_scope", "error"},
    {"AUD-OAUTH-005", "a customer token cannot read ApplicationInformation (403/404)",
     "ESPI scopes (NOTES 4)", "error"},
    {"AUD-OAUTH-006", "a customer token cannot read another subscription (403/404)",
     "ESPI Subscription model; GBA Privacy", "error"},
    {"AUD-OAUTH-007", "a wrong client secret gets 401 and a JSON body with error=invalid_client",
     "RFC 6749 §5.2", "error"},
    {"AUD-OAUTH-008", "an unsupported grant type gets 400 and error=unsupported_grant_type",
     "RFC 6749 §5.2", "error"},
    {"AUD-OAUTH-009", "the token response is JSON with access_token, token_type Bearer, "
     "expires_in, scope, resourceURI and authorizationURI",
     "RFC 6749 §5.1; ESPI token response (NOTES 4)", "error"},
    {"AUD-QUERY-001", "published-min and published-max filter a collection",
     "FB_37 Query Parameters", "error"},
    {"AUD-QUERY-002", "updated-min and updated-max filter a collection", "FB_37 Query Parameters",
     "error"},
    {"AUD-QUERY-003", "max-results/start-index pages concatenate to the whole collection",
     "FB_37 Query Parameters", "error"},
    {"AUD-LINK-001", "every self, up and related link of every entry resolves (200)",
     "FB_01 D013-D016; EU_FB01_DE_009..012; ESPI link model", "error"},
    {"AUD-BATCH-001", "an entry in Batch/Subscription is identical to the same resource "
     "fetched alone", "ESPI Batch/Subscription; GBA CERT004", "error"},
    {"AUD-VALID-001", "every Atom body passes `espigate validate` (no errors)",
     "docs/rules.md (all validate rules); GBA FB tests", "error"},
};
#define N_RULES ((int)(sizeof catalog / sizeof catalog[0]))

const audit_rule *audit_rules(int *n)
{
    if (n) *n = N_RULES;
    return catalog;
}

int audit_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void audit_global_cleanup(void)
{
    curl_global_cleanup();
}

void audit_opts_init(audit_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_bytes = AUDIT_DEFAULT_MAX_BYTES;
    o->timeout = AUDIT_DEFAULT_TIMEOUT;
    o->max_requests = AUDIT_DEFAULT_MAX_REQUESTS;
}

/* ---- state ------------------------------------------------------------- */

#define MAX_NOTES 16
#define MAX_VISITED 4096
#define MAX_BATCH 20000
#define MAX_SCAN 10000
#define MAX_SIDS 32

enum tok { TOK_NONE, TOK_CLIENT, TOK_CUSTOMER };

typedef struct visited {
    char *url;
    int status;           /* -1 queued, not fetched yet */
    enum tok tok;
    char *from;           /* the document that linked it (evidence) */
} visited;

typedef struct batch_entry {
    char *self;
    unsigned char hash[32];
    int compared;
} batch_entry;

typedef struct scan_entry {
    char id[ESPI_ID_MAX];
    int64_t published, updated;
} scan_entry;

struct audit {
    audit_opts o;
    char base[AUDIT_URL_MAX];        /* no trailing '/' */
    char origin[AUDIT_URL_MAX];      /* scheme://host[:port] */
    char res_base[AUDIT_URL_MAX];    /* base + "/espi/1_1/resource" */
    char started[32];
    struct timespec t0;
    double seconds;
    audit_rule_result rules[N_RULES];
    char notes[MAX_NOTES][512];
    int n_notes;
    CURL *curl;
    long requests;
    unsigned long long bytes;
    int any_http, streak, stopped, unreachable;
    char client_token[1024];
    char client_scope[512];
    char client_resource_uri[AUDIT_URL_MAX];
    char sid[128];
    char resource_uri[AUDIT_URL_MAX];
    char sids[MAX_SIDS][128];        /* subscriptions seen in Authorizations */
    char sid_uris[MAX_SIDS][AUDIT_URL_MAX];
    int n_sids;
    char collection[AUDIT_URL_MAX];  /* for the query checks */
    visited *v;
    long n_v, head;                  /* BFS queue = v[head..n_v) with status -1 */
    batch_entry *batch;
    long n_batch;
    int batch_loaded;
};

/* ---- small helpers ------------------------------------------------------ */

static void note(audit *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void note(audit *a, const char *fmt, ...)
{
    if (a->n_notes == MAX_NOTES) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->notes[a->n_notes++], sizeof a->notes[0], fmt, ap);
    va_end(ap);
}

static audit_rule_result *rule(audit *a, const char *id)
{
    for (int i = 0; i < N_RULES; i++)
        if (strcmp(catalog[i].id, id) == 0) return &a->rules[i];
    return NULL;   /* not reached: ids are literals from the catalog */
}

/* Record the reason a rule could not be checked (the first one wins). */
static void skip(audit *a, const char *id, const char *why)
{
    audit_rule_result *r = rule(a, id);
    if (r && !r->skip_reason[0]) snprintf(r->skip_reason, sizeof r->skip_reason, "%s", why);
}

/* Copy at most len bytes of server text for evidence: control characters
 * become spaces and bytes that are not UTF-8 become '?', so every report
 * format stays valid whatever the server sent. */
static void copy_clean(char *dst, size_t cap, const char *src, size_t len)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t i = 0, j = 0;
    while (i < len && p[i] && j + 1 < cap) {
        size_t n = eg_utf8_seq(p + i, len - i);
        if (n == 0) {
            dst[j++] = '?';
            i++;
        } else if (n == 1) {
            dst[j++] = (p[i] < 0x20 || p[i] == 0x7f) ? ' ' : (char)p[i];
            i++;
        } else {
            if (j + n + 1 > cap) break;
            memcpy(dst + j, p + i, n);
            i += n;
            j += n;
        }
    }
    dst[j] = '\0';
}

/* One check of rule id: pass or fail with evidence.  Failures always keep
 * evidence (replacing kept passes when full); passes keep the first one. */
static void check(audit *a, const char *id, int ok, const char *method, const char *url,
                  int status, const char *excerpt, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 8, 9)))
#endif
    ;
static void check(audit *a, const char *id, int ok, const char *method, const char *url,
                  int status, const char *excerpt, const char *fmt, ...)
{
    audit_rule_result *r = rule(a, id);
    if (!r) return;
    if (ok) r->passed++;
    else r->failed++;
    audit_evidence *e = NULL;
    if (ok && r->passed > 1) return;   /* one example of a pass is enough */
    if (r->n_ev < AUDIT_MAX_EVIDENCE) {
        e = &r->ev[r->n_ev++];
    } else if (!ok) {
        for (int i = 0; i < r->n_ev && !e; i++)
            if (!r->ev[i].failed) e = &r->ev[i];
    }
    if (!e) {
        r->ev_dropped++;
        return;
    }
    memset(e, 0, sizeof *e);
    e->failed = !ok;
    snprintf(e->method, sizeof e->method, "%s", method ? method : "");
    snprintf(e->url, sizeof e->url, "%s", url ? url : "");
    e->status = status;
    if (excerpt) copy_clean(e->excerpt, sizeof e->excerpt, excerpt, strlen(excerpt));
    char note_raw[sizeof e->note];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note_raw, sizeof note_raw, fmt, ap);
    va_end(ap);
    /* notes quote validator messages and curl errors: clean them too */
    copy_clean(e->note, sizeof e->note, note_raw, strlen(note_raw));
}

/* snprintf for URLs: a URL longer than cap is cut (and then simply does
 * not resolve); kept out of line so the compiler does not warn about it. */
static void urlf(char *out, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void urlf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

static void fmt_time(char out[32], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, 32, "1970-01-01T00:00:00Z");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- HTTP -------------------------------------------------------------- */

typedef struct fetch {
    char method[8];
    char url[AUDIT_URL_MAX];
    int status;                /* 0: no HTTP answer */
    CURLcode cc;
    char error[CURL_ERROR_SIZE];
    char ctype[128];
    char www_auth[256];
    FILE *body;
    unsigned long long bytes;
    int overflow;
    char excerpt[320];
    int tls_version;           /* SSL_version() of the connection, 0 unknown */
    unsigned long long cap;
    CURL *curl;                /* for the TLS session while headers arrive */
} fetch;

typedef struct request {
    const char *method;        /* "GET" or "POST" */
    const char *url;
    const char *authorization; /* full header value, or NULL */
    const char *form;          /* POST body (form-urlencoded) */
    const char *user, *pass;   /* HTTP Basic */
    int fresh;                 /* new connection */
    int old_tls;               /* offer only TLS 1.0-1.1 */
    int verify;                /* 1 verify peer even with --insecure */
} request;

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    fetch *f = ctx;
    size_t len = size * n;
    if (f->bytes + len > f->cap) {
        f->overflow = 1;
        return 0;   /* abort the transfer: CURLE_WRITE_ERROR */
    }
    if (!f->body) f->body = tmpfile();
    if (!f->body || fwrite(p, 1, len, f->body) != len) return 0;
    f->bytes += len;
    return len;
}

static void header_value(char *dst, size_t cap, const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return;
    const char *v = line + nl + 1;
    size_t vl = len - nl - 1;
    while (vl && (*v == ' ' || *v == '\t')) v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
    copy_clean(dst, cap, v, vl);
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    fetch *f = ctx;
    size_t len = size * n;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {   /* a new response (after 100) */
        f->ctype[0] = f->www_auth[0] = '\0';
        /* the TLS session is reachable only while the connection is in use */
        const struct curl_tlssessioninfo *ti = NULL;
        if (!f->tls_version && curl_easy_getinfo(f->curl, CURLINFO_TLS_SSL_PTR, &ti) == CURLE_OK &&
            ti && ti->backend == CURLSSLBACKEND_OPENSSL && ti->internals)
            f->tls_version = SSL_version((const SSL *)ti->internals);
        return len;
    }
    header_value(f->ctype, sizeof f->ctype, p, len, "Content-Type");
    header_value(f->www_auth, sizeof f->www_auth, p, len, "WWW-Authenticate");
    return len;
}

static void fetch_release(fetch *f)
{
    if (f->body) fclose(f->body);
    f->body = NULL;
}

/* The first bytes of the body, for evidence. */
static void fetch_excerpt(fetch *f)
{
    f->excerpt[0] = '\0';
    if (!f->body) return;
    char buf[240];
    rewind(f->body);
    size_t got = fread(buf, 1, sizeof buf, f->body);
    copy_clean(f->excerpt, sizeof f->excerpt, buf, got);
    if (f->bytes > got && strlen(f->excerpt) + 4 < sizeof f->excerpt)
        strcat(f->excerpt, " ...");
}

static int budget_left(audit *a)
{
    if (a->stopped) return 0;
    if (a->requests >= a->o.max_requests) {
        a->stopped = 1;
        note(a, "walk stopped after --max-requests %ld requests; later checks were not run",
             a->o.max_requests);
        return 0;
    }
    return 1;
}

/* Perform one request; fills f (caller releases with fetch_release).
 * Returns 0 when an HTTP answer came back, -1 when not (f->error says why),
 * -2 when the request budget is spent (nothing was sent). */
static int fetch_do(audit *a, fetch *f, const request *q)
{
    memset(f, 0, sizeof *f);
    snprintf(f->method, sizeof f->method, "%s", q->method);
    snprintf(f->url, sizeof f->url, "%s", q->url);
    f->cap = a->o.max_bytes;
    if (!budget_left(a)) return -2;
    a->requests++;
    if (a->o.progress) a->o.progress(a->o.progress_ctx, a->requests, q->method, q->url);

    CURL *h = a->curl;
    f->curl = h;
    struct curl_slist *hdr = NULL;
    char authz[1200];
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, q->url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, f->error);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "espigate-audit/" ESPIGATE_VERSION);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, a->o.timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, a->o.timeout);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, f);
    int verify = q->verify || !a->o.insecure;
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (a->o.ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, a->o.ca_file);
    if (q->old_tls) {
        curl_easy_setopt(h, CURLOPT_SSLVERSION,
                         (long)(CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_1));
        /* OpenSSL 3 refuses to offer TLS < 1.2 at the default security level */
        curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
    } else {
        curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    }
    if (q->fresh) {
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 0L);
    }
    if (q->authorization) {
        snprintf(authz, sizeof authz, "Authorization: %s", q->authorization);
        hdr = curl_slist_append(hdr, authz);
    }
    hdr = curl_slist_append(hdr, "Accept: application/atom+xml, application/json;q=0.9, */*;q=0.1");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (q->user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, q->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, q->pass ? q->pass : "");
    }
    if (strcmp(q->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->form ? q->form : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(q->form ? strlen(q->form) : 0));
    }
    f->cc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    if (!f->error[0] && f->cc != CURLE_OK)
        snprintf(f->error, sizeof f->error, "%s", curl_easy_strerror(f->cc));
    if (f->overflow)
        snprintf(f->error, sizeof f->error, "body larger than --max-bytes %llu: transfer stopped",
                 a->o.max_bytes);
    fetch_excerpt(f);
    a->bytes += f->bytes;

    /* an HTTP answer: a status line came back and the body ended cleanly
     * (or was cut by our own cap) */
    int answered = code > 0 && (f->cc == CURLE_OK || f->overflow);
    if (answered) {
        f->status = (int)code;
        a->any_http = 1;
        a->streak = 0;
        check(a, "AUD-HTTP-001", 1, f->method, f->url, f->status, NULL, "complete response");
        if (f->overflow)
            check(a, "AUD-HTTP-002", 0, f->method, f->url, f->status, f->excerpt, "%s", f->error);
        else
            check(a, "AUD-HTTP-002", 1, f->method, f->url, f->status, NULL, "%llu bytes",
                  f->bytes);
        return 0;
    }
    f->status = 0;
    if (q->old_tls) return -1;   /* the TLS 1.0/1.1 probe is expected to fail */
    if (f->cc == CURLE_PEER_FAILED_VERIFICATION || f->cc == CURLE_SSL_ISSUER_ERROR)
        return -1;               /* the certificate: AUD-TLS-002's business */
    check(a, "AUD-HTTP-001", 0, f->method, f->url, (int)code, f->excerpt,
          "no complete HTTP response: %s (curl %d)", f->error, (int)f->cc);
    if (++a->streak >= AUDIT_MAX_TRANSPORT_FAILURES && !a->stopped) {
        a->stopped = 1;
        note(a, "walk stopped: %d requests in a row got no HTTP response (server down, hanging "
             "or resetting connections)", a->streak);
    }
    return -1;
}

/* GET url with a bearer token (NULL = none). */
static int fetch_get(audit *a, fetch *f, const char *url, const char *bearer)
{
    char authz[1100];
    request q = {"GET", url, NULL, NULL, NULL, NULL, 0, 0, 0};
    if (bearer) {
        snprintf(authz, sizeof authz, "Bearer %s", bearer);
        q.authorization = authz;
    }
    return fetch_do(a, f, &q);
}

/* ---- reading Atom bodies ------------------------------------------------ */

static int body_read(void *io, char *buf, int len)
{
    FILE *fp = io;
    size_t got = fread(buf, 1, (size_t)len, fp);
    if (got == 0 && ferror(fp)) return -1;
    return (int)got;
}

typedef struct vstate {
    long shown;
    char first[3][400];
} vstate;

static void on_diag(void *ctx, const espi_diag *d)
{
    vstate *v = ctx;
    if (d->severity != ESPI_SEV_ERROR) return;
    if (v->shown < 3)
        snprintf(v->first[v->shown], sizeof v->first[0], "%ld:%ld: %s: %s", d->line, d->col,
                 d->rule, d->msg);
    v->shown++;
}

/* Validate the body of f as `espigate validate` would; evidence to AUD-VALID-001. */
static void validate_body(audit *a, fetch *f)
{
    if (!f->body || f->overflow) return;
    rewind(f->body);
    /* A single GET is part of a subscription: references into the rest of
     * it are checked over HTTP (AUD-LINK-001), not inside this one body.
     * Batch feeds are whole documents and get every rule. */
    static const char *const partial[] = {"LINK-004", "LINK-006", "LINK-007",
                                          "LINK-008", "LINK-010", "RT-005"};
    int whole = strstr(f->url, "/Batch/") != NULL;
    espi_validate_opts vo = {ESPI_LEVEL_FULL, NULL, whole ? NULL : partial,
                             whole ? 0 : (int)(sizeof partial / sizeof partial[0])};
    espi_validate_result res;
    vstate v;
    memset(&v, 0, sizeof v);
    eg_err err;
    eg_err_clear(&err);
    int rc = espi_validate_io(body_read, f->body, f->url, &vo, on_diag, &v, &res, &err);
    if (rc == 0 && res.errors == 0) {
        check(a, "AUD-VALID-001", 1, f->method, f->url, f->status, NULL,
              "valid: %ld entries, %ld warnings", res.entries, res.warnings);
        return;
    }
    check(a, "AUD-VALID-001", 0, f->method, f->url, f->status, f->excerpt,
          "%ld validator errors%s%s%s%s%s%s%s", res.errors > v.shown ? res.errors : v.shown,
          v.shown ? "; " : "", v.first[0], v.shown > 1 ? "; " : "", v.shown > 1 ? v.first[1] : "",
          v.shown > 2 ? "; " : "", v.shown > 2 ? v.first[2] : "",
          (rc && rc != EG_EDATA && !v.shown) ? err.msg : "");
}

/* What one pass over a body collects. */
typedef struct scan {
    audit *a;
    enum tok tok;
    const char *from;
    int is_batch, want_entries, enqueue;
    scan_entry *entries;
    long n_entries;
    int truncated;
    /* the current entry's hash */
    char cur_id[ESPI_ID_MAX];
    char cur_self[ESPI_URI_MAX];
    long cur_line;
    EVP_MD_CTX *md;
    int in_entry;
    int is_auth_list;
} scan;

static void enqueue(audit *a, const char *href, enum tok tok, const char *from);

static int hash_write(void *io, const char *buf, int len)
{
    EVP_DigestUpdate((EVP_MD_CTX *)io, buf, (size_t)len);
    return len;
}

static void scan_entry_done(scan *s);

static batch_entry *batch_find(audit *a, const char *self)
{
    for (long i = 0; i < a->n_batch; i++)
        if (strcmp(a->batch[i].self, self) == 0) return &a->batch[i];
    return NULL;
}

static void scan_entry_done(scan *s)
{
    if (!s->in_entry) return;
    s->in_entry = 0;
    unsigned char h[32];
    unsigned int hl = 0;
    EVP_DigestFinal_ex(s->md, h, &hl);
    audit *a = s->a;
    if (!s->cur_self[0]) return;
    if (s->is_batch) {
        if (a->n_batch >= MAX_BATCH || batch_find(a, s->cur_self)) return;
        batch_entry *b = &a->batch[a->n_batch];
        b->self = strdup(s->cur_self);
        if (!b->self) return;
        memcpy(b->hash, h, 32);
        b->compared = 0;
        a->n_batch++;
        return;
    }
    if (strcmp(s->cur_self, s->from) != 0) return;   /* compare single GETs only */
    batch_entry *b = batch_find(a, s->cur_self);
    if (!b || b->compared) return;
    b->compared = 1;
    int same = memcmp(b->hash, h, 32) == 0;
    check(a, "AUD-BATCH-001", same, "GET", s->from, 200, NULL,
          same ? "entry %s identical alone and in Batch/Subscription/%s"
               : "entry %s differs from its copy in Batch/Subscription/%s (compared canonically: "
                 "re-serialised by espigate's writer)",
          s->cur_id, a->sid);
}

/* Absolute URL for an href (relative ones are against the resource base). */
static void absolute(const audit *a, const char *href, char out[AUDIT_URL_MAX])
{
    if (strncmp(href, "https://", 8) == 0 || strncmp(href, "http://", 7) == 0)
        urlf(out, AUDIT_URL_MAX, "%s", href);
    else if (href[0] == '/')
        urlf(out, AUDIT_URL_MAX, "%s%s", a->origin, href);
    else
        urlf(out, AUDIT_URL_MAX, "%s/%s", a->res_base, href);
    size_t n = strlen(out);
    if (n > 8 && out[n - 1] == '/') out[n - 1] = '\0';
}

static void remember_sid(audit *a, const char *resource_uri)
{
    const char *p = strstr(resource_uri, "/Batch/Subscription/");
    if (!p || a->n_sids == MAX_SIDS) return;
    p += strlen("/Batch/Subscription/");
    char sid[128];
    snprintf(sid, sizeof sid, "%.*s", (int)strcspn(p, "/?#"), p);
    if (!sid[0]) return;
    for (int i = 0; i < a->n_sids; i++)
        if (strcmp(a->sids[i], sid) == 0) return;
    snprintf(a->sids[a->n_sids], sizeof a->sids[0], "%s", sid);
    absolute(a, resource_uri, a->sid_uris[a->n_sids]);
    a->n_sids++;
}

static int on_resource(void *ctx, const espi_resource *r, eg_err *err)
{
    (void)err;
    scan *s = ctx;
    const espi_entry *e = r->entry;
    if (r->type == ESPI_RES_AUTHORIZATION && r->u.authorization.resource_uri[0])
        remember_sid(s->a, r->u.authorization.resource_uri);
    if (!e) return 0;
    if (!s->in_entry || strcmp(s->cur_id, e->id) != 0 || s->cur_line != e->line) {
        scan_entry_done(s);
        s->in_entry = 1;
        s->cur_line = e->line;
        snprintf(s->cur_id, sizeof s->cur_id, "%s", e->id);
        if (e->self.href[0]) absolute(s->a, e->self.href, s->cur_self);
        else s->cur_self[0] = '\0';
        EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
        if (s->want_entries && s->n_entries < MAX_SCAN) {
            scan_entry *se = &s->entries[s->n_entries++];
            snprintf(se->id, sizeof se->id, "%s", e->id);
            se->published = e->published;
            se->updated = e->updated;
        } else if (s->want_entries) {
            s->truncated = 1;
        }
        if (s->enqueue) {
            if (e->self.href[0]) enqueue(s->a, e->self.href, s->tok, s->from);
            if (e->up.href[0]) enqueue(s->a, e->up.href, s->tok, s->from);
            for (int i = 0; i < e->n_related; i++)
                enqueue(s->a, e->related[i].href, s->tok, s->from);
        }
    }
    /* hash this resource as our writer writes it alone: the canonical form */
    espi_writer_opts wo = {0};
    eg_err werr;
    espi_writer *w = espi_writer_open_io(hash_write, s->md, &wo, &werr);
    if (w) {
        if (espi_writer_resource(w, r, &werr) == 0) espi_writer_close(w, &werr);
        else espi_writer_abort(w);
    }
    return 0;
}

static int on_head(void *ctx, const espi_feed_head *h, eg_err *err)
{
    (void)err;
    scan *s = ctx;
    if (s->enqueue && h->self.href[0]) enqueue(s->a, h->self.href, s->tok, s->from);
    return 0;
}

/* Read f's body once for entries, links and hashes.  Returns 0 when the
 * document was read (entries in s). */
static int scan_body(audit *a, fetch *f, scan *s)
{
    if (!f->body || f->overflow) return -1;
    s->a = a;
    s->from = f->url;
    s->md = EVP_MD_CTX_new();
    if (!s->md) return -1;
    if (s->want_entries) s->entries = calloc(MAX_SCAN, sizeof *s->entries);
    rewind(f->body);
    espi_reader_opts ro;
    espi_reader_opts_init(&ro);
    ro.check_schema = 0;
    espi_reader_cbs cbs = {s, on_head, on_resource, NULL, NULL};
    eg_err err;
    eg_err_clear(&err);
    int rc = espi_read_io(body_read, f->body, f->url, &ro, &cbs, NULL, &err);
    scan_entry_done(s);
    EVP_MD_CTX_free(s->md);
    s->md = NULL;
    return rc;
}

static void scan_release(scan *s)
{
    free(s->entries);
    s->entries = NULL;
}

/* ---- the link queue ----------------------------------------------------- */

static visited *visited_find(audit *a, const char *url)
{
    for (long i = 0; i < a->n_v; i++)
        if (strcmp(a->v[i].url, url) == 0) return &a->v[i];
    return NULL;
}

static int same_origin(const audit *a, const char *url)
{
    size_t n = strlen(a->origin);
    return strncmp(url, a->origin, n) == 0 && (url[n] == '/' || url[n] == '\0');
}

/* Mark url as fetched with status (explicit walk steps), so links to it
 * are resolved without fetching it again. */
static void visited_set(audit *a, const char *url, int status, enum tok tok)
{
    visited *v = visited_find(a, url);
    if (!v) {
        if (a->n_v >= MAX_VISITED) return;
        v = &a->v[a->n_v++];
        v->url = strdup(url);
        v->from = NULL;
        if (!v->url) {
            a->n_v--;
            return;
        }
    }
    v->status = status;
    v->tok = tok;
}

static void enqueue(audit *a, const char *href, enum tok tok, const char *from)
{
    char url[AUDIT_URL_MAX];
    absolute(a, href, url);
    if (!same_origin(a, url)) return;
    visited *v = visited_find(a, url);
    if (v) {
        if (v->status > 0 && v->tok == tok) {
            int ok = v->status == 200 || (tok == TOK_CLIENT && v->status == 403);
            if (!ok)
                check(a, "AUD-LINK-001", 0, "GET", url, v->status, NULL,
                      "link from %s does not resolve", from);
        }
        return;
    }
    if (a->n_v >= MAX_VISITED) return;
    v = &a->v[a->n_v++];
    v->url = strdup(url);
    v->from = strdup(from);
    v->status = -1;
    v->tok = tok;
    if (!v->url || !v->from) {
        free(v->url);
        free(v->from);
        a->n_v--;
    }
}

/* ---- checks on one fetched resource ------------------------------------ */

static int is_atom(const char *ctype)
{
    size_t n = strlen("application/atom+xml");
    return strncasecmp(ctype, "application/atom+xml", n) == 0 &&
           (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/* The common checks of an ESPI resource answered 200: content type, the
 * validator, then a scan for links (and entries when asked). */
static void resource_checks(audit *a, fetch *f, scan *s)
{
    if (f->status != 200) return;
    if (f->overflow) return;
    int service_status = strstr(f->url, "/ReadServiceStatus") != NULL;
    int ok = is_atom(f->ctype) ||
             (service_status && strncasecmp(f->ctype, "application/xml", 15) == 0);
    check(a, "AUD-HTTP-003", ok, f->method, f->url, f->status, f->ctype,
          ok ? "Content-Type %s" : "Content-Type is '%s', expected application/atom+xml",
          f->ctype);
    validate_body(a, f);
    if (s) scan_body(a, f, s);
}

/* GET a resource the grant covers: 200 expected (AUD-HTTP-004), then the
 * common checks and links queued with the same token. */
static int get_covered(audit *a, const char *url, const char *bearer, enum tok tok,
                       const char *what, scan *s_out)
{
    fetch f;
    int rc = fetch_get(a, &f, url, bearer);
    if (rc == -2) goto done;
    visited_set(a, url, f.status > 0 ? f.status : 599, tok);
    if (rc == 0)
        check(a, "AUD-HTTP-004", f.status == 200, "GET", url, f.status, f.excerpt,
              f.status == 200 ? "%s" : "%s: expected 200 with a valid token", what);
    if (f.status == 200) {
        scan local;
        scan *s = s_out ? s_out : &local;
        if (!s_out) memset(&local, 0, sizeof local);
        s->tok = tok;
        s->enqueue = 1;
        resource_checks(a, &f, s);
        if (!s_out) scan_release(&local);
    }
done:
    fetch_release(&f);
    return rc == 0 && f.status == 200 ? 0 : -1;
}

/* ---- TLS ---------------------------------------------------------------- */

static const char *tls_name(int v)
{
    switch (v) {
    case TLS1_VERSION: return "TLS 1.0";
    case TLS1_1_VERSION: return "TLS 1.1";
    case TLS1_2_VERSION: return "TLS 1.2";
    case TLS1_3_VERSION: return "TLS 1.3";
    default: return "unknown";
    }
}

/* Probe with verification on.  Returns 0 to go on, -1 to stop the audit. */
static int tls_checks(audit *a)
{
    char url[AUDIT_URL_MAX];
    urlf(url, sizeof url, "%s/ReadServiceStatus", a->res_base);
    fetch f;
    request q = {"GET", url, NULL, NULL, NULL, NULL, 1, 0, 1};
    int rc = fetch_do(a, &f, &q);
    int go_on = 0;
    if (rc == 0) {
        check(a, "AUD-TLS-002", 1, "TLS", url, f.status, NULL, "certificate verified%s",
              a->o.ca_file ? " against --ca-file" : "");
    } else if (f.cc == CURLE_PEER_FAILED_VERIFICATION || f.cc == CURLE_SSL_CACERT_BADFILE ||
               f.cc == CURLE_SSL_ISSUER_ERROR) {
        a->any_http = 1;   /* the server is there: it is its certificate */
        check(a, "AUD-TLS-002", 0, "TLS", url, 0, NULL, "%s", f.error);
        if (!a->o.insecure) {
            note(a, "the certificate does not verify: nothing else was checked (give the CA "
                    "with --ca-file, or --insecure to audit anyway)");
            go_on = -1;
        } else {
            note(a, "--insecure: the certificate does not verify, continuing without "
                    "verification");
        }
    } else {
        a->unreachable = 1;
        note(a, "cannot reach %s: %s", url, f.error);
        go_on = -1;
    }
    fetch_release(&f);
    if (go_on) return go_on;

    /* the negotiated version, on a fresh verified-or-insecure connection */
    request q2 = {"GET", url, NULL, NULL, NULL, NULL, 1, 0, 0};
    if (fetch_do(a, &f, &q2) == 0 || f.tls_version) {
        if (f.tls_version)
            check(a, "AUD-TLS-001", f.tls_version >= TLS1_2_VERSION, "TLS", url, f.status, NULL,
                  "negotiated %s", tls_name(f.tls_version));
        else
            skip(a, "AUD-TLS-001", "libcurl does not expose the OpenSSL session here");
    }
    fetch_release(&f);

    request q3 = {"GET", url, NULL, NULL, NULL, NULL, 1, 1, 0};
    rc = fetch_do(a, &f, &q3);
    if (rc == -2) goto done;
    if (rc == 0 || f.tls_version) {
        check(a, "AUD-TLS-003", 0, "TLS", url, f.status, NULL,
              "the server accepted a %s handshake", tls_name(f.tls_version));
    } else if (f.cc == CURLE_SSL_CONNECT_ERROR || f.cc == CURLE_RECV_ERROR ||
               f.cc == CURLE_SEND_ERROR || f.cc == CURLE_GOT_NOTHING) {
        check(a, "AUD-TLS-003", 1, "TLS", url, 0, NULL, "TLS 1.0/1.1 handshake refused: %s",
              f.error);
    } else {
        skip(a, "AUD-TLS-003", "this libcurl/OpenSSL cannot offer TLS 1.0/1.1");
        note(a, "TLS 1.0/1.1 probe inconclusive: %s", f.error);
    }
done:
    fetch_release(&f);
    return 0;
}

/* ---- OAuth -------------------------------------------------------------- */

/* POST to the token endpoint; *json gets the parsed body (NULL if not JSON). */
static int token_post(audit *a, fetch *f, const char *form, const char *user, const char *pass,
                      json_t **json)
{
    char url[AUDIT_URL_MAX];
    urlf(url, sizeof url, "%s/oauth/token", a->base);
    request q = {"POST", url, NULL, form, user, pass, 0, 0, 0};
    *json = NULL;
    int rc = fetch_do(a, f, &q);
    if (rc == 0 && f->body && f->bytes < (1u << 20)) {
        rewind(f->body);
        json_error_t je;
        *json = json_loadf(f->body, 0, &je);
    }
    return rc;
}

static const char *jstr(json_t *j, const char *k)
{
    json_t *v = j ? json_object_get(j, k) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void oauth_error_check(audit *a, const char *id, fetch *f, json_t *j, int want_status,
                              const char *want_error)
{
    const char *e = jstr(j, "error");
    int ok = f->status == want_status && e && strcmp(e, want_error) == 0;
    check(a, id, ok, f->method, f->url, f->status, f->excerpt,
          ok ? "%d with error=%s" : "expected %d with a JSON body {\"error\": \"%s\"}",
          want_status, want_error);
}

static void client_token(audit *a)
{
    fetch f;
    json_t *j = NULL;
    char bad[512];
    const char *id = a->o.client_id, *secret = a->o.client_secret;

    if (token_post(a, &f, "grant_type=client_credentials", id, secret, &j) == 0) {
        char miss[256] = "";
        static const char *const fields[] = {"access_token", "token_type", "scope", "resourceURI",
                                             "authorizationURI"};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (!jstr(j, fields[i])) {
                size_t n = strlen(miss);
                snprintf(miss + n, sizeof miss - n, "%s%s", n ? ", " : "", fields[i]);
            }
        json_t *exp = j ? json_object_get(j, "expires_in") : NULL;
        if (!json_is_integer(exp) || json_integer_value(exp) <= 0) {
            size_t n = strlen(miss);
            snprintf(miss + n, sizeof miss - n, "%sexpires_in", n ? ", " : "");
        }
        const char *tt = jstr(j, "token_type");
        int ok = f.status == 200 && j && !miss[0] && tt && strcasecmp(tt, "Bearer") == 0;
        check(a, "AUD-OAUTH-009", ok, f.method, f.url, f.status, f.excerpt,
              ok ? "client_credentials token response has every field"
                 : "expected 200 and JSON with access_token, token_type Bearer, expires_in, "
                   "scope, resourceURI, authorizationURI%s%s",
              miss[0] ? "; missing: " : "", miss);
        const char *tok = jstr(j, "access_token");
        if (f.status == 200 && tok) {
            snprintf(a->client_token, sizeof a->client_token, "%s", tok);
            const char *scope = jstr(j, "scope");
            snprintf(a->client_scope, sizeof a->client_scope, "%s", scope ? scope : "");
            if (jstr(j, "resourceURI"))
                absolute(a, jstr(j, "resourceURI"), a->client_resource_uri);
        }
    }
    json_decref(j);
    fetch_release(&f);

    snprintf(bad, sizeof bad, "%s-not-the-secret", secret);
    if (token_post(a, &f, "grant_type=client_credentials", id, bad, &j) == 0)
        oauth_error_check(a, "AUD-OAUTH-007", &f, j, 401, "invalid_client");
    json_decref(j);
    fetch_release(&f);

    if (token_post(a, &f, "grant_type=urn%3Aespigate%3Aaudit%3Aunsupported", id, secret, &j) == 0)
        oauth_error_check(a, "AUD-OAUTH-008", &f, j, 400, "unsupported_grant_type");
    json_decref(j);
    fetch_release(&f);
}

/* 401 + WWW-Authenticate: Bearer for a missing, malformed, unknown token. */
static void bad_token_checks(audit *a, const char *url)
{
    static const struct {
        const char *id, *what, *header;
    } cases[] = {
        {"AUD-OAUTH-001", "no Authorization header", NULL},
        {"AUD-OAUTH-002", "a malformed token (\"Bearer not a token!\")", "Bearer not a token!"},
        {"AUD-OAUTH-003", "an unknown random token", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char authz[160];
        const char *h = cases[i].header;
        if (h && !h[0]) {
            unsigned char rnd[32];
            if (RAND_bytes(rnd, sizeof rnd) != 1) memset(rnd, 0x5a, sizeof rnd);
            int n = snprintf(authz, sizeof authz, "Bearer ");
            for (size_t k = 0; k < sizeof rnd; k++)
                n += snprintf(authz + n, sizeof authz - (size_t)n, "%02x", rnd[k]);
            h = authz;
        }
        fetch f;
        request q = {"GET", url, h, NULL, NULL, NULL, 0, 0, 0};
        if (fetch_do(a, &f, &q) == 0) {
            int ok = f.status == 401 && strncasecmp(f.www_auth, "Bearer", 6) == 0;
            char ev[400];
            snprintf(ev, sizeof ev, "WWW-Authenticate: %s", f.www_auth[0] ? f.www_auth : "(none)");
            check(a, cases[i].id, ok, "GET", url, f.status, ev,
                  ok ? "%s: 401 with a Bearer challenge"
                     : "%s: expected 401 with WWW-Authenticate: Bearer",
                  cases[i].what);
        }
        fetch_release(&f);
    }
}

/* A token must not reach url: 403 or 404 expected. */
static void out_of_scope(audit *a, const char *id, const char *url, const char *bearer,
                         const char *what)
{
    fetch f;
    if (fetch_get(a, &f, url, bearer) == 0) {
        int ok = f.status == 403 || f.status == 404;
        check(a, id, ok, "GET", url, f.status, f.excerpt,
              ok ? "%s: refused" : "%s: expected 403 or 404", what);
    }
    fetch_release(&f);
}

/* ---- query parameters --------------------------------------------------- */

static int get_entries(audit *a, const char *url, scan *s)
{
    fetch f;
    memset(s, 0, sizeof *s);
    s->want_entries = 1;
    s->tok = TOK_CUSTOMER;
    int rc = fetch_get(a, &f, url, a->o.token);
    if (rc == 0 && f.status == 200) rc = scan_body(a, &f, s);
    else rc = -1;
    if (rc == 0 && !s->entries) rc = -1;
    fetch_release(&f);
    return rc;
}

/* Do the ids of got equal those of full whose value passes keep()? */
static int same_ids(const scan *got, const scan *full, int64_t lo, int64_t hi, int published,
                    long *want)
{
    long n = 0;
    for (long i = 0; i < full->n_entries; i++) {
        int64_t v = published ? full->entries[i].published : full->entries[i].updated;
        if (v >= lo && v <= hi) n++;
    }
    *want = n;
    if (got->n_entries != n) return 0;
    for (long i = 0; i < got->n_entries; i++) {
        long k = 0;
        for (; k < full->n_entries; k++)
            if (strcmp(got->entries[i].id, full->entries[k].id) == 0) break;
        if (k == full->n_entries) return 0;
        int64_t v = published ? full->entries[k].published : full->entries[k].updated;
        if (v < lo || v > hi) return 0;
    }
    return 1;
}

static void filter_check(audit *a, const scan *full, int published, const char *param,
                         int64_t pivot, int64_t lo, int64_t hi)
{
    const char *id = published ? "AUD-QUERY-001" : "AUD-QUERY-002";
    char t[32], url[AUDIT_URL_MAX + 64];
    fmt_time(t, pivot);
    urlf(url, sizeof url, "%s%s%s=%s", a->collection, strchr(a->collection, '?') ? "&" : "?",
             param, t);
    scan got;
    if (get_entries(a, url, &got) != 0) {
        check(a, id, 0, "GET", url, 0, NULL, "the filtered collection could not be read");
    } else {
        long want = 0;
        int ok = same_ids(&got, full, lo, hi, published, &want);
        check(a, id, ok, "GET", url, 200, NULL, ok ? "%ld of %ld entries, as expected"
                                                  : "got %ld entries, expected %ld of %ld",
              ok ? want : got.n_entries, ok ? full->n_entries : want, full->n_entries);
    }
    scan_release(&got);
}

static void filter_checks(audit *a, const scan *full, int published)
{
    int64_t vmin = INT64_MAX, vmax = INT64_MIN;
    for (long i = 0; i < full->n_entries; i++) {
        int64_t v = published ? full->entries[i].published : full->entries[i].updated;
        if (v == ESPI_NONE) continue;
        if (v < vmin) vmin = v;
        if (v > vmax) vmax = v;
    }
    const char *id = published ? "AUD-QUERY-001" : "AUD-QUERY-002";
    if (vmin == INT64_MAX) {
        skip(a, id, "the collection's entries carry no such dates");
        return;
    }
    const char *pmin = published ? "published-min" : "updated-min";
    const char *pmax = published ? "published-max" : "updated-max";
    /* past either end: nothing; before the start / after the end: everything */
    filter_check(a, full, published, pmin, vmax + 1, vmax + 1, INT64_MAX);
    filter_check(a, full, published, pmax, vmin - 1, INT64_MIN, vmin - 1);
    filter_check(a, full, published, pmin, vmin - 1, vmin - 1, INT64_MAX);
    /* a pivot strictly between two distinct values, when there is one */
    int64_t lower = INT64_MIN;
    for (long i = 0; i < full->n_entries; i++) {
        int64_t v = published ? full->entries[i].published : full->entries[i].updated;
        if (v != ESPI_NONE && v < vmax && v > lower) lower = v;
    }
    if (lower != INT64_MIN && vmax - lower >= 2) {
        int64_t pivot = lower + 1;
        filter_check(a, full, published, pmin, pivot, pivot, INT64_MAX);
        filter_check(a, full, published, pmax, pivot, INT64_MIN, pivot);
    }
}

static void paging_check(audit *a, const scan *full)
{
    long n = full->n_entries, k = n >= 3 ? (n + 2) / 3 : 1, got_total = 0;
    int ok = 1;
    char url[AUDIT_URL_MAX + 64], why[400] = "";
    for (long start = 1; start <= n + 1 && ok; start += k) {
        urlf(url, sizeof url, "%s%smax-results=%ld&start-index=%ld", a->collection,
                 strchr(a->collection, '?') ? "&" : "?", k, start);
        scan page;
        if (get_entries(a, url, &page) != 0) {
            ok = 0;
            snprintf(why, sizeof why, "page could not be read");
            scan_release(&page);
            break;
        }
        long expect = n - (start - 1) < k ? n - (start - 1) : k;
        if (page.n_entries != expect) {
            ok = 0;
            snprintf(why, sizeof why, "page has %ld entries, expected %ld", page.n_entries,
                     expect);
        }
        for (long i = 0; ok && i < page.n_entries; i++)
            if (strcmp(page.entries[i].id, full->entries[start - 1 + i].id) != 0) {
                ok = 0;
                snprintf(why, sizeof why, "entry %ld is %s, expected %s (the collection's order)",
                         start + i, page.entries[i].id, full->entries[start - 1 + i].id);
            }
        got_total += page.n_entries;
        scan_release(&page);
    }
    if (ok)
        check(a, "AUD-QUERY-003", 1, "GET", url, 200, NULL,
              "%ld pages of max-results=%ld concatenate to the %ld entries (%ld)",
              (n + k - 1) / k, k, n, got_total);
    else
        check(a, "AUD-QUERY-003", 0, "GET", url, 0, NULL, "max-results=%ld paging: %s", k, why);
}

static void query_checks(audit *a)
{
    static const char *const ids[] = {"AUD-QUERY-001", "AUD-QUERY-002", "AUD-QUERY-003"};
    if (!a->collection[0] || !a->o.token) {
        for (int i = 0; i < 3; i++) skip(a, ids[i], "needs a customer token and a collection");
        return;
    }
    scan full;
    if (get_entries(a, a->collection, &full) != 0 || full.n_entries == 0 || full.truncated) {
        for (int i = 0; i < 3; i++)
            skip(a, ids[i], "the collection chosen for query checks is empty or unreadable");
        scan_release(&full);
        return;
    }
    filter_checks(a, &full, 1);
    filter_checks(a, &full, 0);
    paging_check(a, &full);
    scan_release(&full);
}

/* ---- the walk ------------------------------------------------------------ */

static void client_walk(audit *a)
{
    char url[AUDIT_URL_MAX];
    const char *tok = a->client_token;
    urlf(url, sizeof url, "%s/ApplicationInformation/%s", a->res_base, a->o.client_id);
    get_covered(a, url, tok, TOK_CLIENT, "ApplicationInformation with the client token", NULL);
    urlf(url, sizeof url, "%s/Authorization", a->res_base);
    get_covered(a, url, tok, TOK_CLIENT, "the Authorization list with the client token", NULL);
    urlf(url, sizeof url, "%s/ReadServiceStatus", a->res_base);
    get_covered(a, url, tok, TOK_CLIENT, "ReadServiceStatus with the client token", NULL);

    /* Bulk, where the grant allows: the token's resourceURI, else Bulk/{client_id} */
    if (a->client_resource_uri[0] && strstr(a->client_resource_uri, "/Batch/Bulk/"))
        urlf(url, sizeof url, "%s", a->client_resource_uri);
    else
        urlf(url, sizeof url, "%s/Batch/Bulk/%s", a->res_base, a->o.client_id);
    fetch f;
    if (fetch_get(a, &f, url, tok) == 0) {
        visited_set(a, url, f.status, TOK_CLIENT);
        if (f.status == 200) {
            scan s;
            memset(&s, 0, sizeof s);
            s.tok = TOK_CLIENT;
            resource_checks(a, &f, &s);   /* not followed: bulk links are customer data */
            scan_release(&s);
        } else {
            note(a, "Bulk %s answered %d with the client token: not offered (scope '%s')", url,
                 f.status, a->client_scope);
        }
    }
    fetch_release(&f);
}

/* The customer token's subscription: --resource-uri, else the first
 * Authorization's subscription the token can read. */
static int find_subscription(audit *a)
{
    if (a->o.resource_uri) {
        absolute(a, a->o.resource_uri, a->resource_uri);
    } else {
        for (int i = 0; i < a->n_sids && !a->resource_uri[0]; i++) {
            char url[AUDIT_URL_MAX + 200];
            urlf(url, sizeof url, "%s/Subscription/%s/UsagePoint", a->res_base, a->sids[i]);
            fetch f;
            if (fetch_get(a, &f, url, a->o.token) == 0 && f.status == 200)
                urlf(a->resource_uri, sizeof a->resource_uri, "%s", a->sid_uris[i]);
            fetch_release(&f);
        }
        if (!a->resource_uri[0]) {
            note(a, "no Authorization's subscription answers the customer token: give "
                    "--resource-uri");
            return -1;
        }
    }
    const char *p = strstr(a->resource_uri, "/Batch/Subscription/");
    if (!p) {
        note(a, "resource URI %s is not .../Batch/Subscription/{id}", a->resource_uri);
        return -1;
    }
    p += strlen("/Batch/Subscription/");
    snprintf(a->sid, sizeof a->sid, "%.*s", (int)strcspn(p, "/?#"), p);
    return a->sid[0] ? 0 : -1;
}

static void customer_walk(audit *a)
{
    char url[AUDIT_URL_MAX + 200];
    /* the whole subscription: entries remembered for AUD-BATCH-001 */
    urlf(url, sizeof url, "%s/Batch/Subscription/%s", a->res_base, a->sid);
    scan s;
    memset(&s, 0, sizeof s);
    s.is_batch = 1;
    if (get_covered(a, url, a->o.token, TOK_CUSTOMER, "Batch/Subscription with the customer token",
                    &s) == 0)
        a->batch_loaded = 1;
    scan_release(&s);
    urlf(url, sizeof url, "%s/Subscription/%s/UsagePoint", a->res_base, a->sid);
    get_covered(a, url, a->o.token, TOK_CUSTOMER, "the UsagePoint collection", NULL);
}

/* Follow queued links breadth first until the queue or the budget ends. */
static void link_walk(audit *a)
{
    for (long i = 0; i < a->n_v && !a->stopped; i++) {
        visited *v = &a->v[i];
        if (v->status != -1) continue;
        const char *bearer = v->tok == TOK_CLIENT ? a->client_token : a->o.token;
        fetch f;
        int rc = fetch_get(a, &f, v->url, bearer);
        if (rc == -2) {
            fetch_release(&f);
            break;
        }
        v = &a->v[i];
        v->status = f.status > 0 ? f.status : 599;
        if (rc == 0) {
            int ok = f.status == 200 || (v->tok == TOK_CLIENT && f.status == 403);
            check(a, "AUD-LINK-001", ok, "GET", v->url, f.status, f.excerpt,
                  ok ? "resolves" : "link from %s does not resolve (expected 200)", v->from);
            /* remember an IntervalBlock collection for the query checks */
            size_t n = strlen(v->url);
            if (!a->collection[0] && n > 14 && strcmp(v->url + n - 14, "/IntervalBlock") == 0)
                urlf(a->collection, sizeof a->collection, "%s", v->url);
            scan s;
            memset(&s, 0, sizeof s);
            s.tok = v->tok;
            s.enqueue = 1;
            resource_checks(a, &f, &s);
            scan_release(&s);
        }
        fetch_release(&f);
    }
}

static void finish_rules(audit *a)
{
    for (int i = 0; i < N_RULES; i++) {
        audit_rule_result *r = &a->rules[i];
        r->status = r->failed ? AUDIT_FAIL : r->passed ? AUDIT_PASS : AUDIT_SKIP;
        if (r->status == AUDIT_SKIP && !r->skip_reason[0])
            snprintf(r->skip_reason, sizeof r->skip_reason, "%s",
                     a->stopped ? "not reached: the walk stopped early (see notes)"
                                : "nothing to check it on");
    }
}

static int parse_base(audit *a, const char *base, eg_err *err)
{
    if (strncmp(base, "https://", 8) != 0)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "--base-url '%s' is not https:// (ESPI requires HTTPS; e.g. "
                       "https://localhost:8443/DataCustodian)", base);
    if (strlen(base) > 600)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "--base-url is longer than 600 characters");
    urlf(a->base, sizeof a->base, "%s", base);
    size_t n = strlen(a->base);
    while (n > 8 && a->base[n - 1] == '/') a->base[--n] = '\0';
    const char *slash = strchr(a->base + 8, '/');
    urlf(a->origin, sizeof a->origin, "%.*s", (int)(slash ? slash - a->base : (long)n),
             a->base);
    urlf(a->res_base, sizeof a->res_base, "%s/espi/1_1/resource", a->base);
    return 0;
}

int audit_run(const audit_opts *o, audit **out, eg_err *err)
{
    int rc = 0;
    *out = NULL;
    if (!o->base_url)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "no --base-url given (e.g. "
                                                   "https://localhost:8443/DataCustodian)");
    if (!o->client_id != !o->client_secret)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "--client-id and --client-secret go together");
    if (o->token && !o->resource_uri && !o->client_id)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "with --token, give --resource-uri (the token response's resourceURI) or "
                       "--client-id/--client-secret to discover it");
    if (o->max_bytes == 0 || o->timeout <= 0 || o->max_requests <= 0)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "limits must be > 0");
    audit *a = calloc(1, sizeof *a);
    if (!a) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    a->o = *o;
    for (int i = 0; i < N_RULES; i++) a->rules[i].rule = &catalog[i];
    clock_gettime(CLOCK_MONOTONIC, &a->t0);
    fmt_time(a->started, (int64_t)time(NULL));
    if ((rc = parse_base(a, o->base_url, err))) goto fail;
    a->v = calloc(MAX_VISITED, sizeof *a->v);
    a->batch = calloc(MAX_BATCH, sizeof *a->batch);
    a->curl = curl_easy_init();
    if (!a->v || !a->batch || !a->curl) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }
    if (o->insecure)
        note(a, "--insecure: the audit continues even if the certificate does not verify; "
                "AUD-TLS-002 still reports whether it does");

    if (tls_checks(a) == 0) {
        if (o->client_id) {
            client_token(a);
            if (a->client_token[0]) client_walk(a);
        } else {
            static const char *const ids[] = {"AUD-OAUTH-007", "AUD-OAUTH-008", "AUD-OAUTH-009"};
            for (int i = 0; i < 3; i++) skip(a, ids[i], "needs --client-id and --client-secret");
            skip(a, "AUD-OAUTH-004", "needs --client-id and --client-secret");
        }
        int have_sub = o->token && find_subscription(a) == 0;
        if (have_sub) customer_walk(a);
        else skip(a, "AUD-BATCH-001", "needs --token (a customer access token)");

        /* bad tokens, on a resource that needs one */
        char url[AUDIT_URL_MAX + 200];
        if (have_sub)
            urlf(url, sizeof url, "%s/Subscription/%s/UsagePoint", a->res_base, a->sid);
        else if (o->client_id)
            urlf(url, sizeof url, "%s/ApplicationInformation/%s", a->res_base, o->client_id);
        else
            urlf(url, sizeof url, "%s/ReadServiceStatus", a->res_base);
        bad_token_checks(a, url);

        /* scopes */
        if (have_sub && a->client_token[0]) {
            urlf(url, sizeof url, "%s/Batch/Subscription/%s", a->res_base, a->sid);
            out_of_scope(a, "AUD-OAUTH-004", url, a->client_token,
                         "client_credentials token on Batch/Subscription");
            urlf(url, sizeof url, "%s/Subscription/%s/UsagePoint", a->res_base, a->sid);
            out_of_scope(a, "AUD-OAUTH-004", url, a->client_token,
                         "client_credentials token on a UsagePoint collection");
        } else if (o->client_id) {
            skip(a, "AUD-OAUTH-004", "needs a subscription (--token)");
        }
        if (o->token && o->client_id) {
            urlf(url, sizeof url, "%s/ApplicationInformation/%s", a->res_base, o->client_id);
            out_of_scope(a, "AUD-OAUTH-005", url, o->token,
                         "customer token on ApplicationInformation");
        } else {
            skip(a, "AUD-OAUTH-005", "needs --token and --client-id/--client-secret");
        }
        if (have_sub) {
            unsigned char r[16];
            if (RAND_bytes(r, sizeof r) != 1) memset(r, 0x3c, sizeof r);
            char other[40];
            snprintf(other, sizeof other, "%02x%02x%02x%02x-%02x%02x-4%x%02x-a%x%02x-%02x%02x%02x%02x%02x%02x",
                     r[0], r[1], r[2], r[3], r[4], r[5], r[6] & 15, r[7], r[8] & 15, r[9], r[10],
                     r[11], r[12], r[13], r[14], r[15]);
            urlf(url, sizeof url, "%s/Subscription/%s/UsagePoint", a->res_base, other);
            out_of_scope(a, "AUD-OAUTH-006", url, o->token,
                         "customer token on an unknown subscription");
            for (int i = 0; i < a->n_sids; i++) {
                if (strcmp(a->sids[i], a->sid) == 0) continue;
                urlf(url, sizeof url, "%s/Subscription/%s/UsagePoint", a->res_base,
                         a->sids[i]);
                out_of_scope(a, "AUD-OAUTH-006", url, o->token,
                             "customer token on another Authorization's subscription");
                urlf(url, sizeof url, "%s/Batch/Subscription/%s", a->res_base, a->sids[i]);
                out_of_scope(a, "AUD-OAUTH-006", url, o->token,
                             "customer token on another Authorization's Batch/Subscription");
            }
        } else {
            skip(a, "AUD-OAUTH-006", "needs --token (a customer access token)");
        }

        /* links first (they find the IntervalBlock collection), then queries */
        link_walk(a);
        if (have_sub && !a->collection[0])
            urlf(a->collection, sizeof a->collection, "%s/Subscription/%s/UsagePoint",
                     a->res_base, a->sid);
        query_checks(a);
        if (have_sub && !a->batch_loaded)
            skip(a, "AUD-BATCH-001", "Batch/Subscription could not be read");
        else if (have_sub)
            skip(a, "AUD-BATCH-001", "no entry of Batch/Subscription was fetched alone");
    }
    if (!a->any_http) a->unreachable = 1;
    finish_rules(a);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    a->seconds = (double)(t1.tv_sec - a->t0.tv_sec) + (double)(t1.tv_nsec - a->t0.tv_nsec) / 1e9;
    curl_easy_cleanup(a->curl);
    a->curl = NULL;
    *out = a;
    return 0;
fail:
    audit_free(a);
    return rc;
}

void audit_free(audit *a)
{
    if (!a) return;
    if (a->curl) curl_easy_cleanup(a->curl);
    for (long i = 0; a->v && i < a->n_v; i++) {
        free(a->v[i].url);
        free(a->v[i].from);
    }
    free(a->v);
    for (long i = 0; a->batch && i < a->n_batch; i++) free(a->batch[i].self);
    free(a->batch);
    free(a);
}

int audit_rule_count(const audit *a)
{
    (void)a;
    return N_RULES;
}
const audit_rule_result *audit_rule_at(const audit *a, int i) { return &a->rules[i]; }
int audit_failed(const audit *a)
{
    for (int i = 0; i < N_RULES; i++)
        if (a->rules[i].status == AUDIT_FAIL) return 1;
    return 0;
}
int audit_unreachable(const audit *a) { return a->unreachable; }
long audit_requests(const audit *a) { return a->requests; }
unsigned long long audit_bytes(const audit *a) { return a->bytes; }
double audit_seconds(const audit *a) { return a->seconds; }
const char *audit_base_url(const audit *a) { return a->base; }
const char *audit_started(const audit *a) { return a->started; }
int audit_note_count(const audit *a) { return a->n_notes; }
const char *audit_note_at(const audit *a, int i) { return a->notes[i]; }
