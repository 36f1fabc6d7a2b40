/* oauth_page.c -- the consent and error pages of the authorization server.
 *
 * See oauth_page.h.  The page is built with http_resp_printf from fixed
 * templates; client text goes through esc() (HTML-escaped, bounded).  The
 * scope grammar is the ESPI one (NOTES.md section 4): ';'-separated
 * Name=value terms, names compared case-insensitively:
 *   FB=1_3_4_5;IntervalDuration=900_3600;BlockDuration=daily;HistoryLength=13
 * HistoryLength has no agreed unit: values of a day or more (>= 86400) are
 * read as seconds (Hydro One), smaller ones as months (GBJ's "13"). */
#include "oauth_page.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char page_style[] =
    "body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;"
    "color:#222}h1{font-size:1.4em}ul{line-height:1.5}.err{background:#fdd;border:1px solid #c00;"
    "padding:.5em}label{display:block;margin-top:.8em}input{font-size:1em;padding:.3em;width:100%;"
    "box-sizing:border-box}.buttons{margin-top:1.2em}button{font-size:1em;padding:.4em 1.5em;"
    "margin-right:1em}";

/* Function Blocks (NOTES.md section 4). */
static const struct {
    int fb;
    const char *name;
} fb_names[] = {
    {1, "Usage Data Common"}, {2, "Download My Data"}, {3, "Connect My Data"},
    {4, "Interval Metering"}, {5, "Electricity Interval"}, {6, "Demand Electricity"},
    {7, "Net Electricity"}, {8, "Forward and Reverse Electricity"}, {9, "Register Values"},
    {10, "Natural Gas Interval"}, {11, "Water Interval"}, {12, "Cost of Interval Data"},
    {13, "Security and Privacy Classes"}, {15, "Usage Summary"}, {16, "Usage Summary with Cost"},
    {17, "Power Quality Summary"}, {27, "Usage Summary with Demands and Previous Day"},
    {28, "Usage Summary Costs for Current Billing Period"}, {29, "Temperature Interval"},
    {30, "Common User Experience"},
    {31, "Authorization and Authentication without pre-negotiated scope"}, {34, "SFTP Bulk"},
    {35, "REST Bulk"}, {37, "Query Parameters"}, {39, "PUSH Model"},
    {40, "Offline Authorization"}, {41, "Manage ApplicationInformation"},
    {44, "Manage Authorization"}, {51, "Retail Customer Common"},
    {52, "Retail Customer Download My Data"}, {53, "Retail Customer Connect My Data"},
    {54, "Retail Customer Basic"}, {55, "Retail Customer Demographic"},
    {56, "Retail Customer Billing"}, {57, "Retail Customer Account-Agreement"},
    {58, "Retail Customer Service-Location"}, {59, "Retail Customer Service-Supplier"},
    {60, "Retail Customer Meter"}, {61, "Retail Customer End-Device"},
    {62, "Retail Customer Program-Date-ID-Mappings"}, {63, "Retail Customer Common User Experience"},
    {64, "Retail Customer Security and Privacy"},
    {65, "Retail Customer Authorization without pre-negotiated scope"},
    {66, "Retail Customer SFTP Bulk"}, {67, "Retail Customer REST Bulk"},
    {69, "Retail Customer PUSH"}, {70, "Retail Customer Offline Authorization"},
};

/* HTML-escape s into out (size bytes, always terminated). */
static const char *esc(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (; s && *s && o + 7 < size; s++) {
        const char *r = NULL;
        switch (*s) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&#39;"; break;
        default: break;
        }
        if (r) {
            size_t k = strlen(r);
            memcpy(out + o, r, k);
            o += k;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return out;
}

/* Append printf output to out[*o..size). */
static void add(char *out, size_t size, size_t *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void add(char *out, size_t size, size_t *o, const char *fmt, ...)
{
    if (*o >= size) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *o, size - *o, fmt, ap);
    va_end(ap);
    if (n > 0) *o = *o + (size_t)n < size ? *o + (size_t)n : size - 1;
}

static void duration_words(long long s, char *out, size_t size)
{
    if (s > 0 && s % 86400 == 0) snprintf(out, size, "%lld day%s", s / 86400, s == 86400 ? "" : "s");
    else if (s > 0 && s % 3600 == 0) snprintf(out, size, "%lld hour%s", s / 3600, s == 3600 ? "" : "s");
    else if (s > 0 && s % 60 == 0) snprintf(out, size, "%lld minute%s", s / 60, s == 60 ? "" : "s");
    else snprintf(out, size, "%lld second%s", s, s == 1 ? "" : "s");
}

static void describe_fbs(const char *v, size_t vlen, char *out, size_t size, size_t *o)
{
    size_t i = 0;
    while (i < vlen) {
        size_t j = i;
        while (j < vlen && v[j] != '_') j++;
        char num[16];
        snprintf(num, sizeof num, "%.*s", (int)(j - i < 15 ? j - i : 15), v + i);
        char *end;
        long fb = strtol(num, &end, 10);
        const char *name = NULL;
        for (size_t k = 0; *end == '\0' && num[0] && k < sizeof fb_names / sizeof fb_names[0]; k++)
            if (fb_names[k].fb == fb) name = fb_names[k].name;
        char e[64];
        if (name) add(out, size, o, "<li>Function Block %ld: %s</li>\n", fb, name);
        else if (num[0]) add(out, size, o, "<li>Function Block %s (unknown)</li>\n", esc(num, e, sizeof e));
        i = j + 1;
    }
}

void oauth_scope_describe(const char *scope, char *out, size_t size)
{
    size_t o = 0;
    const char *p = scope;
    out[0] = '\0';
    while (*p) {
        size_t n = strcspn(p, ";");
        const char *eq = memchr(p, '=', n);
        if (eq) {
            size_t kl = (size_t)(eq - p), vl = n - kl - 1;
            char val[300], e[400], w[64];
            snprintf(val, sizeof val, "%.*s", (int)(vl < 299 ? vl : 299), eq + 1);
            if (kl == 2 && strncasecmp(p, "FB", 2) == 0) {
                describe_fbs(eq + 1, vl, out, size, &o);
            } else if (kl == 16 && strncasecmp(p, "IntervalDuration", 16) == 0) {
                add(out, size, &o, "<li>Readings every ");
                for (const char *t = val; *t;) {
                    duration_words(atoll(t), w, sizeof w);
                    add(out, size, &o, "%s%s", t == val ? "" : " or ", w);
                    t += strcspn(t, "_");
                    if (*t == '_') t++;
                }
                add(out, size, &o, " (interval duration)</li>\n");
            } else if (kl == 13 && strncasecmp(p, "BlockDuration", 13) == 0) {
                const char *words = strcasecmp(val, "daily") == 0     ? "one day"
                                    : strcasecmp(val, "monthly") == 0 ? "one month"
                                    : strcasecmp(val, "weekly") == 0  ? "one week"
                                                                      : NULL;
                if (words) add(out, size, &o, "<li>Data in blocks of %s (block duration)</li>\n", words);
                else add(out, size, &o, "<li>Block duration: %s</li>\n", esc(val, e, sizeof e));
            } else if (kl == 13 && strncasecmp(p, "HistoryLength", 13) == 0) {
                long long h = atoll(val);
                if (h >= 86400) {
                    duration_words(h - h % 86400, w, sizeof w);
                    add(out, size, &o, "<li>History: the last %s of data</li>\n", w);
                } else {
                    add(out, size, &o, "<li>History: the last %lld month%s of data</li>\n", h,
                        h == 1 ? "" : "s");
                }
            } else {
                char k[64];
                snprintf(k, sizeof k, "%.*s", (int)(kl < 63 ? kl : 63), p);
                char ek[200];
                add(out, size, &o, "<li>%s: %s</li>\n", esc(k, ek, sizeof ek), esc(val, e, sizeof e));
            }
        }
        p += n;
        if (*p == ';') p++;
    }
}

/* 'sha256-...' of the inline style, for the CSP. */
static void style_hash(char *out, size_t size)
{
    unsigned char md[32], b64[48];
    unsigned int n = 0;
    EVP_Digest(page_style, strlen(page_style), md, &n, EVP_sha256(), NULL);
    EVP_EncodeBlock(b64, md, 32);
    snprintf(out, size, "'sha256-%s'", (const char *)b64);
}

/* scheme://authority of an absolute URI, when it is made of plain
 * characters (else ""), for form-action. */
static void origin_of(const char *uri, char *out, size_t size)
{
    out[0] = '\0';
    const char *p = strstr(uri, "://");
    if (!p) return;
    size_t n = (size_t)(p - uri) + 3 + strcspn(p + 3, "/?#");
    if (n >= size) return;
    for (size_t i = 0; i < n; i++) {
        char c = uri[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(".-:/[]", c)))
            return;
    }
    memcpy(out, uri, n);
    out[n] = '\0';
}

static void security_headers(http_resp *rs, const char *redirect_uri)
{
    char h[80], origin[300], csp[600];
    style_hash(h, sizeof h);
    origin_of(redirect_uri ? redirect_uri : "", origin, sizeof origin);
    snprintf(csp, sizeof csp,
             "default-src 'none'; style-src %s; form-action 'self'%s%s; frame-ancestors 'none';"
             " base-uri 'none'",
             h, origin[0] ? " " : "", origin);
    http_resp_header(rs, "Content-Type", "text/html; charset=utf-8");
    http_resp_header(rs, "Content-Security-Policy", csp);
    http_resp_header(rs, "X-Frame-Options", "DENY");
    http_resp_header(rs, "X-Content-Type-Options", "nosniff");
    http_resp_header(rs, "Referrer-Policy", "no-referrer");
    http_resp_header(rs, "Cache-Control", "no-store");
    http_resp_header(rs, "Pragma", "no-cache");
}

static void head(http_resp *rs, const char *title)
{
    char e[600];
    http_resp_printf(rs,
                     "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n",
                     esc(title, e, sizeof e), page_style);
}

static void hidden(http_resp *rs, const char *name, const char *value)
{
    char *e = malloc(6 * strlen(value) + 8);
    if (!e) return;
    http_resp_printf(rs, "<input type=\"hidden\" name=\"%s\" value=\"%s\">\n", name,
                     esc(value, e, 6 * strlen(value) + 8));
    free(e);
}

void oauth_page_consent(http_resp *rs, int status, const oauth_page_args *a)
{
    char name[800], title[600], login[400], action[600], err[800];
    char *desc = malloc(16384);
    http_resp_status(rs, status);
    security_headers(rs, a->redirect_uri);
    head(rs, a->title);
    esc(a->app_name, name, sizeof name);
    http_resp_printf(rs, "<h1>%s</h1>\n", esc(a->title, title, sizeof title));
    http_resp_printf(rs, "<p><strong>%s</strong> asks to read your energy data.</p>\n", name);
    if (a->error) http_resp_printf(rs, "<p class=\"err\" role=\"alert\">%s</p>\n", esc(a->error, err, sizeof err));
    if (desc) {
        oauth_scope_describe(a->scope, desc, 16384);
        http_resp_printf(rs, "<p>It would get, for every service point of your account:</p>\n<ul>\n%s</ul>\n",
                         desc);
        free(desc);
    }
    /* a preview of what would be shared: the member's own data page, which
     * shows exactly the account's usage points (what a Subscription covers) */
    char preview[512];
    const char *tail = strstr(a->action, "/oauth/authorize");
    snprintf(preview, sizeof preview, "%.*s/member",
             tail ? (int)(tail - a->action) : 0, a->action);
    http_resp_printf(rs,
                     "<p><a id=\"preview\" href=\"%s\" target=\"_blank\" rel=\"noopener\">"
                     "Preview the data that would be shared</a> (your data page, in a new "
                     "tab).</p>\n",
                     esc(preview, title, sizeof title));
    http_resp_printf(rs,
                     "<p>You can withdraw this permission at any time.</p>\n"
                     "<form method=\"post\" action=\"%s\">\n",
                     esc(a->action, action, sizeof action));
    hidden(rs, "response_type", "code");
    hidden(rs, "client_id", a->client_id);
    hidden(rs, "redirect_uri", a->redirect_uri);
    hidden(rs, "scope", a->scope);
    hidden(rs, "state", a->state ? a->state : "");
    hidden(rs, "code_challenge", a->challenge);
    hidden(rs, "code_challenge_method", "S256");
    hidden(rs, "csrf", a->csrf);
    http_resp_printf(rs,
                     "<label for=\"login\">Login</label>\n"
                     "<input id=\"login\" name=\"login\" autocomplete=\"username\" value=\"%s\">\n"
                     "<label for=\"password\">Password</label>\n"
                     "<input id=\"password\" name=\"password\" type=\"password\""
                     " autocomplete=\"current-password\">\n"
                     "<div class=\"buttons\">\n"
                     "<button id=\"approve\" type=\"submit\" name=\"decision\" value=\"approve\">"
                     "Approve</button>\n"
                     "<button id=\"deny\" type=\"submit\" name=\"decision\" value=\"deny\">"
                     "Deny</button>\n</div>\n</form>\n</body>\n</html>\n",
                     esc(a->login ? a->login : "", login, sizeof login));
}

void oauth_page_error(http_resp *rs, int status, const char *title, const char *msg)
{
    char t[600], m[1600];
    http_resp_status(rs, status);
    security_headers(rs, NULL);
    head(rs, title);
    http_resp_printf(rs, "<h1>%s</h1>\n<p class=\"err\">%s</p>\n</body>\n</html>\n",
                     esc(title, t, sizeof t), esc(msg, m, sizeof m));
}
