/* http.c -- requests and responses as plain data (see http.h).
 *
 * A request owns copies of everything it was given: method, decoded path,
 * decoded query parameters, headers, body, and -- parsed on first use --
 * the fields of a urlencoded form body.  A response is a status, a header
 * list, a growing body buffer and, for streams, a producer.  Nothing here
 * knows about sockets; server.c copies libevent's request into an http_req
 * and sends what the http_resp holds. */
#include "http.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

#define RESP_BODY_MAX (1u << 20) /* buffered-body limit, http.h */

typedef struct kv {
    char *name, *value;
} kv;

typedef struct kvlist {
    kv *v;
    size_t n, cap;
} kvlist;

struct http_req {
    char *method, *path;
    kvlist query, headers, form;
    int form_parsed;
    char *body;
    size_t body_len;
    char remote[64], origin[256];
};

struct http_resp {
    int status, broken;
    kvlist headers;
    char *body;
    size_t len, cap;
    http_produce_fn produce;
    void (*done)(void *ctx);
    void *ctx;
    void (*wake)(void *ctx);
    void *wake_ctx;
};

/* ---- small helpers ------------------------------------------------------ */

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static int kv_add(kvlist *l, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        kv *v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    char *n = dup_n(name, nlen), *val = dup_n(value, vlen);
    if (!n || !val) {
        free(n);
        free(val);
        return -1;
    }
    l->v[l->n].name = n;
    l->v[l->n].value = val;
    l->n++;
    return 0;
}

static void kv_free(kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Last match wins for headers set twice by a handler; requests refuse
 * duplicates of query parameters before this is asked. */
static const char *kv_get(const kvlist *l, const char *name, int nocase)
{
    for (size_t i = l->n; i-- > 0;)
        if (nocase ? strcasecmp(l->v[i].name, name) == 0 : strcmp(l->v[i].name, name) == 0)
            return l->v[i].value;
    return NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) in place into out (at most n bytes + NUL); plus
 * becomes a space when form is set.  -1 on a bad escape or a NUL byte. */
static int pct_decode(const char *s, size_t n, int form, char *out, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = h * 16 + l;
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        }
        if (c == 0) return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *outlen = o;
    return 0;
}

/* Parse "a=1&b=2" into l.  Duplicate names are refused when strict.
 * Returns 0, or -1 (bad escape, duplicate, out of memory). */
static int parse_pairs(const char *s, size_t n, int form, int strict, kvlist *l)
{
    size_t i = 0;
    char *buf = malloc(n + 1);
    if (!buf) return -1;
    int rc = 0;
    while (i < n && rc == 0) {
        size_t j = i;
        while (j < n && s[j] != '&') j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && s[eq] != '=') eq++;
            size_t nlen, vlen;
            char *val;
            if (pct_decode(s + i, eq - i, form, buf, &nlen)) {
                rc = -1;
                break;
            }
            char *name = dup_n(buf, nlen);
            if (!name) {
                rc = -1;
                break;
            }
            size_t vstart = eq < j ? eq + 1 : j;
            if (pct_decode(s + vstart, j - vstart, form, buf, &vlen)) {
                free(name);
                rc = -1;
                break;
            }
            val = buf;
            if (strict && kv_get(l, name, 0)) rc = -1;
            else if (kv_add(l, name, nlen, val, vlen)) rc = -1;
            free(name);
        }
        i = j + 1;
    }
    free(buf);
    return rc;
}

/* ---- requests ----------------------------------------------------------- */

int http_req_new(const char *method, const char *target, http_req **out, eg_err *err)
{
    *out = NULL;
    http_req *r = calloc(1, sizeof *r);
    if (!r) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    size_t plen = strcspn(target, "?#");
    int rc = 0;
    r->method = dup_n(method, strlen(method));
    r->path = malloc(plen + 1);
    r->body = dup_n("", 0);
    if (!r->method || !r->path || !r->body) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    size_t dlen;
    if (plen == 0 || target[0] != '/' || pct_decode(target, plen, 0, r->path, &dlen)) {
        rc = eg_errf(err, EG_EDATA, NULL, 0, 0,
                     "request target '%.100s' is not an absolute path with valid escapes",
                     target);
        goto done;
    }
    if (target[plen] == '?') {
        size_t qlen = strcspn(target + plen + 1, "#");
        if (parse_pairs(target + plen + 1, qlen, 1, 1, &r->query)) {
            rc = eg_errf(err, EG_EDATA, NULL, 0, 0,
                         "query string has a bad escape or a parameter given twice");
            goto done;
        }
    }
done:
    if (rc) http_req_free(r);
    else *out = r;
    return rc;
}

void http_req_free(http_req *r)
{
    if (!r) return;
    free(r->method);
    free(r->path);
    free(r->body);
    kv_free(&r->query);
    kv_free(&r->headers);
    kv_free(&r->form);
    free(r);
}

int http_req_add_header(http_req *r, const char *name, const char *value)
{
    if (r->headers.n >= HTTP_MAX_HEADERS) return -1;
    return kv_add(&r->headers, name, strlen(name), value, strlen(value));
}

int http_req_set_body(http_req *r, const char *body, size_t len)
{
    char *b = dup_n(body, len);
    if (!b) return -1;
    free(r->body);
    r->body = b;
    r->body_len = len;
    kv_free(&r->form);
    r->form_parsed = 0;
    return 0;
}

void http_req_set_remote(http_req *r, const char *remote)
{
    snprintf(r->remote, sizeof r->remote, "%s", remote ? remote : "");
}

void http_req_set_origin(http_req *r, const char *origin)
{
    snprintf(r->origin, sizeof r->origin, "%s", origin ? origin : "");
}

const char *http_req_method(const http_req *r) { return r->method; }
const char *http_req_path(const http_req *r) { return r->path; }
const char *http_req_query(const http_req *r, const char *name) { return kv_get(&r->query, name, 0); }
const char *http_req_header(const http_req *r, const char *name) { return kv_get(&r->headers, name, 1); }
const char *http_req_remote(const http_req *r) { return r->remote; }
const char *http_req_origin(const http_req *r) { return r->origin; }

const char *http_req_body(const http_req *r, size_t *len)
{
    if (len) *len = r->body_len;
    return r->body;
}

static int is_form(const http_req *r)
{
    const char *ct = http_req_header(r, "Content-Type");
    if (!ct) return 0;
    size_t n = strlen("application/x-www-form-urlencoded");
    return strncasecmp(ct, "application/x-www-form-urlencoded", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || isspace((unsigned char)ct[n]));
}

/* The form is parsed on first use; the request is logically immutable, so
 * the cache lives behind a cast.  A form with a bad escape or a repeated
 * field reads as no form at all (every field NULL). */
const char *http_req_form(const http_req *cr, const char *name)
{
    http_req *r = (http_req *)cr;
    if (!r->form_parsed) {
        r->form_parsed = 1;
        if (is_form(r) && memchr(r->body, '\0', r->body_len) == NULL &&
            parse_pairs(r->body, r->body_len, 1, 1, &r->form))
            kv_free(&r->form);
    }
    return kv_get(&r->form, name, 0);
}

/* ---- responses ---------------------------------------------------------- */

http_resp *http_resp_new(void)
{
    http_resp *rs = calloc(1, sizeof *rs);
    if (rs) rs->status = 200;
    return rs;
}

void http_resp_free(http_resp *rs)
{
    if (!rs) return;
    if (rs->done) rs->done(rs->ctx);
    kv_free(&rs->headers);
    free(rs->body);
    free(rs);
}

void http_resp_status(http_resp *rs, int code) { rs->status = code; }
int http_resp_get_status(const http_resp *rs) { return rs->broken ? 500 : rs->status; }
int http_resp_broken(const http_resp *rs) { return rs->broken; }

void http_resp_header(http_resp *rs, const char *name, const char *value)
{
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n") || !*name) {
        rs->broken = 1;
        return;
    }
    if (kv_add(&rs->headers, name, strlen(name), value, strlen(value))) rs->broken = 1;
}

size_t http_resp_header_count(const http_resp *rs) { return rs->headers.n; }

void http_resp_header_at(const http_resp *rs, size_t i, const char **name, const char **value)
{
    *name = rs->headers.v[i].name;
    *value = rs->headers.v[i].value;
}

const char *http_resp_get_header(const http_resp *rs, const char *name)
{
    return kv_get(&rs->headers, name, 1);
}

int http_resp_write(http_resp *rs, const char *buf, size_t len)
{
    if (len > RESP_BODY_MAX || rs->len > RESP_BODY_MAX - len) return -1;
    if (rs->len + len + 1 > rs->cap) {
        size_t cap = rs->cap ? rs->cap : 4096;
        while (cap < rs->len + len + 1) cap *= 2;
        char *b = realloc(rs->body, cap);
        if (!b) return -1;
        rs->body = b;
        rs->cap = cap;
    }
    memcpy(rs->body + rs->len, buf, len);
    rs->len += len;
    rs->body[rs->len] = '\0';
    return 0;
}

int http_resp_give(http_resp *rs, char *p, size_t len)
{
    if (!p) return -1;
    if (rs->len == 0 && len <= RESP_BODY_MAX) {
        free(rs->body);
        rs->body = p;
        rs->len = len;
        rs->cap = len + 1;
        rs->body[len] = '\0';
        return 0;
    }
    int rc = http_resp_write(rs, p, len);
    free(p);
    return rc;
}

int http_resp_printf(http_resp *rs, const char *fmt, ...)
{
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n < sizeof small) return http_resp_write(rs, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = http_resp_write(rs, big, (size_t)n);
    free(big);
    return rc;
}

const char *http_resp_body(const http_resp *rs, size_t *len)
{
    if (len) *len = rs->len;
    return rs->body ? rs->body : "";
}

char *http_resp_take_body(http_resp *rs, size_t *len)
{
    char *b = rs->body;
    *len = rs->len;
    rs->body = NULL;
    rs->len = rs->cap = 0;
    if (!b) b = calloc(1, 1);
    return b;
}

void http_resp_stream(http_resp *rs, http_produce_fn produce, void (*done)(void *ctx), void *ctx)
{
    rs->produce = produce;
    rs->done = done;
    rs->ctx = ctx;
}

/* http_resp_take_buffer's stream: the taken buffer, 64 KiB a call. */
typedef struct owned_body {
    char *p;
    size_t len, off;
} owned_body;

static int owned_produce(void *ctx, http_resp *rs)
{
    owned_body *b = ctx;
    size_t n = b->len - b->off < 65536 ? b->len - b->off : 65536;
    if (n && http_resp_write(rs, b->p + b->off, n)) return -1;
    b->off += n;
    return b->off < b->len ? 1 : 0;
}

static void owned_done(void *ctx)
{
    owned_body *b = ctx;
    free(b->p);
    free(b);
}

int http_resp_take_buffer(http_resp *rs, char *p, size_t len)
{
    if (http_resp_write(rs, p ? p : "", len) == 0) {
        free(p);
        return 0;
    }
    owned_body *b = malloc(sizeof *b);
    if (!b) {
        free(p);
        return -1;
    }
    b->p = p;
    b->len = len;
    b->off = 0;
    http_resp_stream(rs, owned_produce, owned_done, b);
    return 0;
}

int http_resp_is_stream(const http_resp *rs) { return rs->produce != NULL; }

int http_resp_produce(http_resp *rs)
{
    if (!rs->produce) return 0;
    return rs->produce(rs->ctx, rs);
}

void http_resp_set_waker(http_resp *rs, void (*wake)(void *ctx), void *ctx)
{
    rs->wake = wake;
    rs->wake_ctx = ctx;
}

void http_resp_wake(http_resp *rs)
{
    if (rs->wake) rs->wake(rs->wake_ctx);
}
