/* pull_smarthub.c -- a small SmartHub web client on libcurl; see pull_smarthub.h.
 *
 * One CURL easy handle per pull: connections and the cookie engine (for the
 * XSRF-TOKEN cookie) are reused across requests.  Every request goes through
 * sh_request(), which sets the method, headers and body, collects the answer
 * into a capped buffer and records status and Content-Type; nothing else
 * touches curl.  Secured requests go through sh_secured(), which adds the
 * Bearer token and, on 401, logs in again once and repeats the request.
 *
 * Classification of answers is in one place (sh_check_answer): a transport
 * failure, a redirect, a 5xx, or an HTML page means the portal cannot serve
 * us now (TR_PULL_EUNAVAIL); 401/403 mean the login is not good
 * (TR_PULL_EAUTH); anything but 200 + JSON-looking text is reported with the
 * HTTP status.  The login has its own rules (sh_login): SmartHub answers an
 * account with two-factor authentication with HTTP 500 and "Your data could
 * not be verified", which earlier clients retried as a network error; here
 * it is an authentication failure that says what to do.
 *
 * Secrets: the form body holding the URL-encoded password and the
 * Authorization header are built in buffers we wipe (explicit_bzero) right
 * after the request; the token lives in one heap string wiped on free.
 * Server text quoted in messages is cut short, stripped of control bytes
 * and dropped entirely when it contains the password or the token. */
#include "pull_smarthub.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SH_URL_MAX 1024
#define SH_TOKEN_MAX 8192
#define SH_XSRF_MAX 512
#define SH_LOC_MAX 64
#define SH_MAX_LOCATIONS 16
#define SH_HINT_MAX 120
#define SH_CTYPE_MAX 128

typedef struct sh_answer {
    long status;                 /* HTTP status, 0 when none arrived */
    char ctype[SH_CTYPE_MAX];    /* Content-Type, "" when none */
    char *body;                  /* NUL-terminated copy of what arrived */
    size_t len, cap, max;
    int too_big;
} sh_answer;

typedef struct sh_client {
    const tr_pull_opts *o;
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
    char *token;                 /* authorizationToken; wiped on free */
    char xsrf[SH_XSRF_MAX];      /* XSRF-TOKEN cookie value, "" when none */
    char location[SH_LOC_MAX];   /* service location in use */
    int logins;
} sh_client;

/* ---- small helpers ------------------------------------------------------------ */

static void sh_note(const sh_client *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void sh_note(const sh_client *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (!c->o->note) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->o->note(c->o->note_ctx, msg);
}

static void sh_day_text(int64_t day, char *buf, size_t size)
{
    int y, m, d;
    tr_civil_from_days(day, &y, &m, &d);
    snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
}

/* Sleep ms milliseconds (resuming after signals). */
static void sh_sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) == -1 && errno == EINTR) {}
}

/* Does hay contain needle, ignoring ASCII case? */
static int sh_contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return 0;
}

/* Does a server text speak of a second factor? */
static int sh_mentions_mfa(const char *t)
{
    static const char *const words[] = {"could not be verified", "two-factor", "two factor",
                                        "twofactor", "totp", "mfa", "verification code",
                                        "multi-factor"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (sh_contains_ci(t, words[i])) return 1;
    return 0;
}

/* A short printable extract of an answer for messages, "" when it would
 * reveal a secret or says nothing. */
static const char *sh_hint(const sh_client *c, const sh_answer *a, char *buf, size_t size)
{
    size_t k = 0;
    int space = 0;
    buf[0] = 0;
    if (!a->body || !a->len) return buf;
    if (c->o->password && *c->o->password && strstr(a->body, c->o->password)) return buf;
    if (c->token && strstr(a->body, c->token)) return buf;
    for (const unsigned char *p = (const unsigned char *)a->body; *p && k + 4 < size; p++) {
        if (isspace(*p) || *p < 0x20 || *p == 0x7f) { space = k > 0; continue; }
        if (space) buf[k++] = ' ';
        space = 0;
        buf[k++] = (char)*p;
        if (k >= SH_HINT_MAX) { memcpy(buf + k, "...", 3); k += 3; break; }
    }
    buf[k] = 0;
    return buf;
}

/* Does the answer look like an HTML page (by Content-Type or first byte)? */
static int sh_is_html(const sh_answer *a)
{
    const char *p = a->body ? a->body : "";
    while (*p && isspace((unsigned char)*p)) p++;
    return sh_contains_ci(a->ctype, "html") || *p == '<';
}

static void sh_answer_reset(sh_answer *a, size_t max)
{
    a->status = 0;
    a->ctype[0] = 0;
    a->len = 0;
    a->too_big = 0;
    a->max = max;
    if (a->body) a->body[0] = 0;
}

static void sh_answer_release(sh_answer *a)
{
    if (a->body) explicit_bzero(a->body, a->cap);
    free(a->body);
    memset(a, 0, sizeof *a);
}

static size_t sh_collect(char *data, size_t size, size_t n, void *ud)
{
    sh_answer *a = ud;
    size_t add = size * n;
    if (add > a->max - a->len) { a->too_big = 1; return 0; }
    if (a->len + add + 1 > a->cap) {
        size_t ncap = a->cap ? a->cap : 16384;
        while (ncap < a->len + add + 1) ncap *= 2;
        char *nb = realloc(a->body, ncap);
        if (!nb) return 0;
        a->body = nb;
        a->cap = ncap;
    }
    memcpy(a->body + a->len, data, add);
    a->len += add;
    a->body[a->len] = 0;
    return add;
}

/* ---- one HTTP request -------------------------------------------------------------- */

/* Append one header line (copied); 1 when out of memory. */
static int sh_add_header(struct curl_slist **h, const char *line)
{
    struct curl_slist *t = curl_slist_append(*h, line);
    if (!t) return 1;
    *h = t;
    return 0;
}

/* The copies hold the token: wipe them before they go back to malloc. */
static void sh_free_headers(struct curl_slist *h)
{
    for (struct curl_slist *t = h; t; t = t->next) explicit_bzero(t->data, strlen(t->data));
    curl_slist_free_all(h);
}

typedef enum sh_kind { SH_GET, SH_POST_FORM, SH_POST_JSON } sh_kind;

/* Perform one request to the portal: path (starting with '/'), body for POSTs.
 * secured adds the Bearer token, xsrf the X-XSRF-TOKEN header.  On a
 * transport failure returns TR_PULL_EUNAVAIL (or EG_ELIMIT for an answer
 * over the cap) with err filled; any HTTP status is 0 and left to the caller. */
static int sh_request(sh_client *c, const char *what, sh_kind kind, const char *path,
                      const char *body, int secured, int xsrf, sh_answer *a, eg_err *err)
{
    char url[SH_URL_MAX], hdr[SH_TOKEN_MAX + 64];
    struct curl_slist *h = NULL;
    const char *ct = NULL;
    CURLcode cc;
    int rc = 0;
    int oom = 0;
    sh_answer_reset(a, c->o->max_body);
    if ((size_t)snprintf(url, sizeof url, "%s%s", c->o->portal, path) >= sizeof url)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "%s: the URL is longer than %d bytes", what, SH_URL_MAX);
    oom |= sh_add_header(&h, "Accept: application/json, text/plain, */*");
    if (kind == SH_POST_FORM) oom |= sh_add_header(&h, "Content-Type: application/x-www-form-urlencoded");
    if (kind == SH_POST_JSON) oom |= sh_add_header(&h, "Content-Type: application/json");
    if (xsrf && c->xsrf[0]) {
        snprintf(hdr, sizeof hdr, "X-XSRF-TOKEN: %s", c->xsrf);
        oom |= sh_add_header(&h, hdr);
    }
    if (secured) {
        snprintf(hdr, sizeof hdr, "X-NISC-SMARTHUB-USERNAME: %s", c->o->user);
        oom |= sh_add_header(&h, hdr);
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", c->token ? c->token : "");
        oom |= sh_add_header(&h, hdr);
        explicit_bzero(hdr, sizeof hdr);
    }
    if (oom) {
        sh_free_headers(h);
        return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory building a request");
    }
    c->errbuf[0] = 0;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, a);
    if (kind == SH_GET) {
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    cc = curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    sh_free_headers(h);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &a->status);
    if (curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        snprintf(a->ctype, sizeof a->ctype, "%s", ct);
    if (cc == CURLE_OK) goto done;
    if (a->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        rc = eg_errf(err, EG_ELIMIT, NULL, 0, 0,
                     "%s: the answer is larger than %zu bytes (ask for fewer days per request "
                     "with --chunk-days)", what, c->o->max_body);
    } else if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
               cc == CURLE_SSL_CONNECT_ERROR) {
        rc = eg_errf(err, TR_PULL_EUNAVAIL, NULL, 0, 0,
                     "%s: TLS with %s failed: %s (a portal with a private certificate needs "
                     "--ca FILE; --insecure turns the check off and is for debugging only)",
                     what, c->o->portal, c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        rc = eg_errf(err, TR_PULL_EUNAVAIL, NULL, 0, 0,
                     "%s: %s did not answer within %ld ms (%s); try again later or raise --timeout",
                     what, c->o->portal, c->o->timeout_ms,
                     c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
    } else if (cc == CURLE_WRITE_ERROR) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "%s: out of memory storing the answer", what);
    } else {
        rc = eg_errf(err, TR_PULL_EUNAVAIL, NULL, 0, 0, "%s: cannot reach %s: %s", what,
                     c->o->portal, c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
    }
done:
    return rc;
}

/* Classify an answer that should be 200 + JSON.  0 when it is. */
static int sh_check_answer(sh_client *c, const char *what, const sh_answer *a, eg_err *err)
{
    char hint[SH_HINT_MAX + 8];
    if (a->status == 200 && !sh_is_html(a)) return 0;
    sh_hint(c, a, hint, sizeof hint);
    if (a->status == 401 || a->status == 403)
        return eg_errf(err, TR_PULL_EAUTH, NULL, 0, 0,
                       "%s: SmartHub refused the login token (HTTP %ld%s%s%s)", what, a->status,
                       *hint ? ": \"" : "", hint, *hint ? "\"" : "");
    if (a->status >= 300 && a->status < 400) {
        char *loc = NULL;
        curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &loc);
        return eg_errf(err, TR_PULL_EUNAVAIL, NULL, 0, 0,
                       "%s: the portal redirects to %.200s (HTTP %ld) instead of answering: it may "
                       "be down for maintenance, or --host is not the SmartHub portal",
                       what, loc ? loc : "another page", a->status);
    }
    if (sh_is_html(a))
        return eg_errf(err, TR_PULL_EUNAVAIL, NULL, 0, 0,
                       "%s: the portal answered with a web page (HTTP %ld, %s), not JSON: it may be "
                       "down for maintenance or blocking scripted access, or --host is not a "
                       "SmartHub portal; try again later or open it in a browser",
                       what, a->status, a->ctype[0] ? a->ctype : "no Content-Type");
    return eg_errf(err, TR_PULL_EUNAVAIL, NULL, 0, 0, "%s: the portal answered HTTP %ld%s%s%s", what,
                   a->status, *hint ? " \"" : "", hint, *hint ? "\"" : "");
}

/* Parse an answer as JSON; EG_EDATA with jansson's position otherwise. */
static int sh_parse(const char *what, const sh_answer *a, json_t **out, eg_err *err)
{
    json_error_t je;
    *out = json_loadb(a->body ? a->body : "", a->len, JSON_ALLOW_NUL, &je);
    if (*out) return 0;
    return eg_errf(err, EG_EDATA, what, je.line, je.column,
                   "the answer is not JSON: %s (Content-Type %s)", je.text,
                   a->ctype[0] ? a->ctype : "none");
}

/* ---- login ---------------------------------------------------------------------------- */

/* The XSRF-TOKEN cookie, if the portal set one. */
static void sh_take_xsrf(sh_client *c)
{
    struct curl_slist *cookies = NULL;
    c->xsrf[0] = 0;
    if (curl_easy_getinfo(c->curl, CURLINFO_COOKIELIST, &cookies) != CURLE_OK) return;
    for (struct curl_slist *p = cookies; p; p = p->next) {
        /* Netscape format: domain, flag, path, secure, expiry, name, value */
        const char *f = p->data;
        for (int i = 0; i < 5 && f; i++) f = (f = strchr(f, '\t')) ? f + 1 : NULL;
        if (f && strncmp(f, "XSRF-TOKEN\t", 11) == 0) {
            const char *v = f + 11;
            size_t n = strcspn(v, "\r\n");
            if (n < sizeof c->xsrf) { memcpy(c->xsrf, v, n); c->xsrf[n] = 0; }
        }
    }
    curl_slist_free_all(cookies);
}

/* The form body "userId=..&password=..[&twoFactorCode=..]"; caller wipes and frees. */
static char *sh_login_form(sh_client *c, eg_err *err)
{
    char *u = curl_easy_escape(c->curl, c->o->user, 0);
    char *p = curl_easy_escape(c->curl, c->o->password, 0);
    char *o = c->o->otp ? curl_easy_escape(c->curl, c->o->otp, 0) : NULL;
    char *form = NULL;
    if (u && p && (o || !c->o->otp)) {
        size_t n = strlen(u) + strlen(p) + (o ? strlen(o) : 0) + 64;
        if ((form = malloc(n)))
            snprintf(form, n, "userId=%s&password=%s%s%s", u, p, o ? "&twoFactorCode=" : "", o ? o : "");
    }
    if (!form) eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory building the login");
    if (p) explicit_bzero(p, strlen(p));
    curl_free(u);
    curl_free(p);
    curl_free(o);
    return form;
}

static int sh_mfa_error(sh_client *c, const char *seen, eg_err *err)
{
    return eg_errf(err, TR_PULL_EAUTH, NULL, 0, 0,
                   "this account uses two-factor authentication: SmartHub %s when logging in as %s. "
                   "Give the current code with --otp-code CODE%s, or use a login without "
                   "two-factor authentication",
                   seen, c->o->user, c->o->otp ? " (the code given was not accepted; codes expire "
                                                  "within a minute)" : "");
}

/* Read the token out of a 200 login answer. */
static int sh_login_answer(sh_client *c, const sh_answer *a, eg_err *err)
{
    json_t *root = NULL;
    const char *tok, *status;
    int rc;
    if ((rc = sh_parse("login", a, &root, err))) goto done;
    tok = json_string_value(json_object_get(root, "authorizationToken"));
    status = json_string_value(json_object_get(root, "status"));
    if (tok && *tok) {
        size_t n = strlen(tok);
        int bad = n >= SH_TOKEN_MAX;
        for (size_t i = 0; i < n && !bad; i++) bad = tok[i] <= 0x20 || tok[i] == 0x7f;
        if (bad) { rc = eg_errf(err, EG_EDATA, NULL, 0, 0, "login: the token in the answer is not "
                                "printable text of a sane length"); goto done; }
        if (c->token) { explicit_bzero(c->token, strlen(c->token)); free(c->token); }
        if (!(c->token = strdup(tok))) { rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory"); goto done; }
        goto done;
    }
    if (sh_mentions_mfa(a->body)) {
        rc = sh_mfa_error(c, "asks for a second factor", err);
        goto done;
    }
    rc = eg_errf(err, TR_PULL_EAUTH, NULL, 0, 0,
                 "login refused for %s: SmartHub gave no token (status %s): check the user and "
                 "the password (a password file holds the password on its first line)",
                 c->o->user, status ? status : "none");
done:
    json_decref(root);
    return rc;
}

/* POST the login; on success c->token holds a fresh token. */
static int sh_login(sh_client *c, eg_err *err)
{
    sh_answer a;
    char hint[SH_HINT_MAX + 8];
    char *form = NULL;
    int rc;
    memset(&a, 0, sizeof a);
    if (++c->logins > TR_PULL_MAX_RELOGINS) {
        rc = eg_errf(err, TR_PULL_EAUTH, NULL, 0, 0, "logged in %d times and every token was "
                     "refused soon after; giving up", TR_PULL_MAX_RELOGINS);
        goto done;
    }
    sh_note(c, "logging in to %s as %s", c->o->portal, c->o->user);
    if (!(form = sh_login_form(c, err))) { rc = err ? err->code : EG_ENOMEM; goto done; }
    rc = sh_request(c, "login", SH_POST_FORM, "/services/oauth/auth/v2", form, 0, 1, &a, err);
    explicit_bzero(form, strlen(form));
    if (rc) goto done;
    sh_hint(c, &a, hint, sizeof hint);
    if (a.status == 200 && !sh_is_html(&a)) {
        rc = sh_login_answer(c, &a, err);
    } else if (a.status == 500 && !sh_is_html(&a) && sh_mentions_mfa(a.body ? a.body : "")) {
        char seen[SH_HINT_MAX + 64];
        snprintf(seen, sizeof seen, "answered HTTP 500 \"%s\"", hint);
        rc = sh_mfa_error(c, seen, err);
    } else if (a.status == 400 || a.status == 401 || a.status == 403) {
        rc = eg_errf(err, TR_PULL_EAUTH, NULL, 0, 0,
                     "login refused for %s (HTTP %ld%s%s%s): check the user and the password",
                     c->o->user, a.status, *hint && !sh_is_html(&a) ? ": \"" : "",
                     sh_is_html(&a) ? "" : hint, *hint && !sh_is_html(&a) ? "\"" : "");
    } else {
        rc = sh_check_answer(c, "login", &a, err);
        if (!rc) rc = eg_errf(err, TR_PULL_EUNAVAIL, NULL, 0, 0, "login: HTTP %ld", a.status);
    }
done:
    if (form) explicit_bzero(form, strlen(form));
    free(form);
    sh_answer_release(&a);
    return rc;
}

/* A secured request; a 401 logs in again and repeats it once. */
static int sh_secured(sh_client *c, const char *what, sh_kind kind, const char *path,
                      const char *body, sh_answer *a, eg_err *err)
{
    int rc = sh_request(c, what, kind, path, body, 1, 0, a, err);
    if (!rc && a->status == 401) {
        sh_note(c, "%s: the login token expired; logging in again", what);
        if ((rc = sh_login(c, err))) return rc;
        rc = sh_request(c, what, kind, path, body, 1, 0, a, err);
    }
    return rc;
}

/* ---- service location discovery --------------------------------------------------------- */

typedef struct sh_locations {
    char loc[SH_MAX_LOCATIONS][SH_LOC_MAX];
    int n;
    char accounts[256];            /* accounts seen, for the message */
} sh_locations;

/* A JSON string or integer as text ("" for anything else). */
static void sh_json_text(const json_t *v, char *buf, size_t size)
{
    buf[0] = 0;
    if (json_is_string(v)) snprintf(buf, size, "%s", json_string_value(v));
    else if (json_is_integer(v)) snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
}

static void sh_add_location_text(sh_locations *l, const char *t)
{
    if (!*t || strlen(t) >= SH_LOC_MAX || l->n >= SH_MAX_LOCATIONS) return;
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->loc[i], t) == 0) return;
    snprintf(l->loc[l->n++], SH_LOC_MAX, "%s", t);
}

static void sh_add_location(sh_locations *l, const json_t *v)
{
    char t[SH_LOC_MAX];
    sh_json_text(v, t, sizeof t);
    sh_add_location_text(l, t);
}

static void sh_add_account(sh_locations *l, const char *acct)
{
    size_t k = strlen(l->accounts), n = strlen(acct);
    for (const char *p = l->accounts; (p = strstr(p, acct)); p += n)
        if ((p == l->accounts || p[-1] == ' ') && (p[n] == ',' || p[n] == 0)) return;
    if (k + strlen(acct) + 3 < sizeof l->accounts)
        snprintf(l->accounts + k, sizeof l->accounts - k, "%s%s", k ? ", " : "", acct);
}

/* /accounts: [{"account": 1000001, "serviceLocations": ["900001", ...]}] and
 * /user-data: [{"account": .., "primaryServiceLocationId": ..,
 *               "serviceLocationToIndustries": {"<loc>": ["ELECTRIC", ..]}}] */
static void sh_collect_locations(const tr_pull_opts *o, const json_t *root, sh_locations *l)
{
    size_t i;
    const json_t *e;
    json_array_foreach(root, i, e) {
        char acct[64];
        const json_t *locs = json_object_get(e, "serviceLocations");
        const json_t *ind = json_object_get(e, "serviceLocationToIndustries");
        sh_json_text(json_object_get(e, "account"), acct, sizeof acct);
        if (!*acct) continue;
        sh_add_account(l, acct);
        if (strcmp(acct, o->account) != 0) continue;
        if (json_is_array(locs)) {
            size_t j;
            const json_t *v;
            json_array_foreach(locs, j, v) sh_add_location(l, v);
        } else if (json_is_object(ind)) {
            const char *k;
            const json_t *v;
            json_object_foreach((json_t *)ind, k, v) {
                size_t j;
                const json_t *x;
                json_array_foreach(v, j, x)
                    if (json_is_string(x) && strcmp(json_string_value(x), "ELECTRIC") == 0)
                        sh_add_location_text(l, k);
            }
        }
        if (l->n == 0) sh_add_location(l, json_object_get(e, "primaryServiceLocationId"));
    }
}

/* Ask one discovery endpoint; *tried = 0 when it does not exist (404/405). */
static int sh_discover_at(sh_client *c, const char *path, sh_locations *l, int *tried, eg_err *err)
{
    sh_answer a;
    json_t *root = NULL;
    int rc;
    memset(&a, 0, sizeof a);
    *tried = 1;
    if ((rc = sh_secured(c, "account list", SH_GET, path, NULL, &a, err))) goto done;
    if (a.status == 404 || a.status == 405) { *tried = 0; goto done; }
    if ((rc = sh_check_answer(c, "account list", &a, err))) goto done;
    if ((rc = sh_parse("account list", &a, &root, err))) goto done;
    if (!json_is_array(root)) { *tried = 0; goto done; }
    sh_collect_locations(c->o, root, l);
done:
    json_decref(root);
    sh_answer_release(&a);
    return rc;
}

static int sh_discover(sh_client *c, eg_err *err)
{
    sh_locations l;
    char path[SH_URL_MAX], *u = NULL;
    int rc, tried = 0;
    memset(&l, 0, sizeof l);
    sh_note(c, "looking up the service location of account %s", c->o->account);
    if ((rc = sh_discover_at(c, "/services/secured/accounts", &l, &tried, err))) goto done;
    if (!l.n) {
        if (!(u = curl_easy_escape(c->curl, c->o->user, 0))) {
            rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        snprintf(path, sizeof path, "/services/secured/user-data?userId=%s", u);
        int tried2 = 0;
        if ((rc = sh_discover_at(c, path, &l, &tried2, err))) goto done;
        tried |= tried2;
    }
    if (l.n == 1) {
        snprintf(c->location, sizeof c->location, "%s", l.loc[0]);
        sh_note(c, "account %s: service location %s", c->o->account, c->location);
    } else if (l.n > 1) {
        char list[SH_MAX_LOCATIONS * (SH_LOC_MAX + 2)] = "";
        for (int i = 0; i < l.n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", l.loc[i]);
        rc = eg_errf(err, EG_EUSAGE, NULL, 0, 0, "account %s has %d service locations (%s): say "
                     "which with --service-location", c->o->account, l.n, list);
    } else if (!tried) {
        rc = eg_errf(err, TR_PULL_EUNAVAIL, NULL, 0, 0, "this portal has no account list "
                     "(/services/secured/accounts and user-data): give --service-location "
                     "(shown in the portal's usage page address)");
    } else {
        rc = eg_errf(err, EG_EUSAGE, NULL, 0, 0, "account %s is not among the accounts of %s "
                     "(found: %s); check --account, or give --service-location", c->o->account,
                     c->o->user, l.accounts[0] ? l.accounts : "none");
    }
done:
    curl_free(u);
    return rc;
}

/* ---- usage poll ---------------------------------------------------------------------------- */

/* The JSON poll request; caller frees with free(). */
static char *sh_poll_body(const sh_client *c, int64_t start, int64_t end)
{
    json_t *b = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:[s], s:I, s:I}",
                          "timeFrame", "HOURLY", "userId", c->o->user, "screen", "USAGE_EXPLORER",
                          "includeDemand", 0, "serviceLocationNumber", c->location,
                          "accountNumber", c->o->account, "industries", "ELECTRIC",
                          "startDateTime", (json_int_t)(start * 1000),
                          "endDateTime", (json_int_t)(end * 1000));
    char *s = b ? json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(b);
    return s;
}

/* "COMPLETE" (or the bare data object) -> 1, "PENDING" -> 0, else an error. */
static int sh_poll_state(sh_client *c, const char *what, const sh_answer *a, eg_err *err)
{
    json_t *root = NULL;
    int rc;
    if ((rc = sh_parse(what, a, &root, err))) goto done;
    const json_t *st = json_object_get(root, "status");
    const char *s = json_string_value(st);
    if (!json_is_object(root)) {
        rc = eg_errf(err, EG_EDATA, what, 0, 0, "the answer is not a JSON object (expected "
                     "{\"status\":\"COMPLETE\",\"data\":{...}})");
    } else if (!st && json_object_get(root, "ELECTRIC")) {
        rc = 1; /* some portals answer with the data object itself */
    } else if (s && strcmp(s, "COMPLETE") == 0) {
        rc = 1;
    } else if (s && strcmp(s, "PENDING") == 0) {
        rc = 0;
    } else if (s) {
        rc = eg_errf(err, TR_PULL_EUNAVAIL, NULL, 0, 0,
                     "%s: SmartHub answered status %.40s for account %s, service location %s "
                     "(expected PENDING or COMPLETE): it refused the request; check --account and "
                     "--service-location, or try again later", what, s, c->o->account, c->location);
    } else {
        rc = eg_errf(err, EG_EDATA, what, 0, 0, "the answer has no status and no ELECTRIC data "
                     "(expected {\"status\":\"COMPLETE\",\"data\":{\"ELECTRIC\":[...]}})");
    }
done:
    json_decref(root);
    return rc;
}

/* Poll one chunk until COMPLETE; hand the answer to fn. */
static int sh_poll_chunk(sh_client *c, tr_pull_chunk *ch, tr_pull_chunk_fn fn, void *ctx, eg_err *err)
{
    char what[96], d0[16], d1[16];
    sh_answer a;
    char *body = NULL;
    int rc = 0, state = 0;
    memset(&a, 0, sizeof a);
    sh_day_text(ch->first_day, d0, sizeof d0);
    sh_day_text(ch->last_day, d1, sizeof d1);
    snprintf(what, sizeof what, "usage %s..%s", d0, d1);
    if (!(body = sh_poll_body(c, ch->start, ch->end))) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory building the poll request");
        goto done;
    }
    for (ch->polls = 1; ch->polls <= c->o->poll_tries; ch->polls++) {
        if (ch->polls > 1) sh_sleep_ms(c->o->poll_interval_ms);
        if ((rc = sh_secured(c, what, SH_POST_JSON, "/services/secured/utility-usage/poll", body, &a, err)))
            goto done;
        if ((rc = sh_check_answer(c, what, &a, err))) goto done;
        if ((state = sh_poll_state(c, what, &a, err)) < 0) { rc = state; goto done; }
        if (state == 1) break;
        sh_note(c, "%s: PENDING (try %d of %d)", what, ch->polls, c->o->poll_tries);
    }
    if (state != 1) {
        rc = eg_errf(err, TR_PULL_EGAVEUP, NULL, 0, 0,
                     "%s: SmartHub still answered PENDING after %d tries, %ld ms apart; it is busy "
                     "or stuck: try again later (or more tries with --poll-tries, fewer days per "
                     "request with --chunk-days)", what, c->o->poll_tries, c->o->poll_interval_ms);
        goto done;
    }
    ch->service_location = c->location;
    ch->body = a.body;
    ch->len = a.len;
    rc = fn(ctx, ch, err);
    ch->body = NULL;
done:
    free(body);
    sh_answer_release(&a);
    return rc;
}

/* ---- setup and the whole pull ---------------------------------------------------------------- */

static int sh_check_opts(const tr_pull_opts *o, eg_err *err)
{
    if (!o->portal || !o->user || !*o->user || !o->password || !o->account || !*o->account || !o->tz)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "portal, user, password, account and zone are required");
    if (strncmp(o->portal, "https://", 8) != 0 && !(o->insecure && strncmp(o->portal, "http://", 7) == 0))
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "the portal address must start with https:// "
                       "(http:// sends the password in clear; allowed only with --insecure)");
    for (const char *p = o->portal; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "the portal address holds a space or control character");
    if (strpbrk(o->user, "\r\n") || strpbrk(o->account, "\r\n") ||
        (o->service_location && (strpbrk(o->service_location, "\r\n") ||
                                 strlen(o->service_location) >= SH_LOC_MAX)))
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "user, account and service location must be one line");
    if (o->first_day > o->last_day || o->last_day - o->first_day >= TR_PULL_MAX_DAYS)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "the range must be 1 to %d days, first day first",
                       TR_PULL_MAX_DAYS);
    if (o->chunk_days < 1 || o->chunk_days > TR_PULL_MAX_CHUNK_DAYS || o->poll_tries < 1 ||
        o->poll_interval_ms < 0 || o->timeout_ms < 1 || o->connect_timeout_ms < 1 || o->max_body < 1)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "chunk days, poll tries, timeouts or size cap out of range");
    return 0;
}

static int sh_client_open(sh_client *c, const tr_pull_opts *o, eg_err *err)
{
    memset(c, 0, sizeof *c);
    c->o = o;
    if (!(c->curl = curl_easy_init())) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "cannot start libcurl");
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "espigate/" ESPIGATE_VERSION);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, o->insecure ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sh_collect);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    if (o->ca_file && curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file) != CURLE_OK)
        return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "cannot set the CA file");
    if (o->service_location) snprintf(c->location, sizeof c->location, "%s", o->service_location);
    return 0;
}

static void sh_client_close(sh_client *c)
{
    if (c->token) { explicit_bzero(c->token, strlen(c->token)); free(c->token); }
    explicit_bzero(c->xsrf, sizeof c->xsrf);
    if (c->curl) curl_easy_cleanup(c->curl);
    memset(c, 0, sizeof *c);
}

/* GET /ui/ for the XSRF-TOKEN cookie; the status does not matter. */
static int sh_xsrf(sh_client *c, eg_err *err)
{
    sh_answer a;
    int rc;
    memset(&a, 0, sizeof a);
    rc = sh_request(c, "portal", SH_GET, "/ui/", NULL, 0, 0, &a, err);
    if (!rc) sh_take_xsrf(c);
    sh_answer_release(&a);
    return rc;
}

int tr_pull_global_init(eg_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "libcurl failed to start");
    return 0;
}

void tr_pull_global_cleanup(void)
{
    curl_global_cleanup();
}

void tr_pull_opts_init(tr_pull_opts *o)
{
    memset(o, 0, sizeof *o);
    o->chunk_days = TR_PULL_MAX_CHUNK_DAYS;
    o->connect_timeout_ms = 10000;
    o->timeout_ms = 120000;
    o->poll_interval_ms = 2000;
    o->poll_tries = 20;
    o->max_body = TR_PULL_MAX_BODY;
}

int tr_pull_smarthub(const tr_pull_opts *o, tr_pull_chunk_fn fn, void *ctx, eg_err *err)
{
    sh_client c;
    int rc;
    memset(&c, 0, sizeof c);
    if ((rc = sh_check_opts(o, err))) return rc;
    if ((rc = sh_client_open(&c, o, err))) goto done;
    if ((rc = sh_xsrf(&c, err))) goto done;
    if ((rc = sh_login(&c, err))) goto done;
    if (!c.location[0] && (rc = sh_discover(&c, err))) goto done;
    int64_t n_days = o->last_day - o->first_day + 1;
    int count = (int)((n_days + o->chunk_days - 1) / o->chunk_days);
    for (int i = 0; i < count; i++) {
        tr_pull_chunk ch;
        int y, m, d;
        memset(&ch, 0, sizeof ch);
        ch.index = i;
        ch.count = count;
        ch.account = o->account;
        ch.first_day = o->first_day + (int64_t)i * o->chunk_days;
        ch.last_day = ch.first_day + o->chunk_days - 1;
        if (ch.last_day > o->last_day) ch.last_day = o->last_day;
        int64_t unused;
        tr_civil_from_days(ch.first_day, &y, &m, &d);
        rc = tr_tz_day_bounds(o->tz, y, m, d, &ch.start, &unused);
        tr_civil_from_days(ch.last_day, &y, &m, &d);
        if (!rc) rc = tr_tz_day_bounds(o->tz, y, m, d, &unused, &ch.end);
        if (rc) { rc = eg_errf(err, EG_EUSAGE, NULL, 0, 0, "a day of the range is not a date"); goto done; }
        if ((rc = sh_poll_chunk(&c, &ch, fn, ctx, err))) goto done;
    }
done:
    sh_client_close(&c);
    return rc;
}
