/* serve_member.c -- the member's own page on the Data Custodian.
 *
 *   GET  {prefix}/member        a login form
 *   POST {prefix}/member        login + password -> the member's data as the
 *                               page `espigate render` makes (daily chart,
 *                               24-hour profile, bills, data quality)
 *
 * This is what a member sees of their data, and it is exactly what an
 * application gets when the member approves it (a Subscription covers all
 * the member's usage points), so the consent page links here as a preview.
 * It lives in cli/ because it joins two layers that do not know each other:
 * the store (feeds/) and the renderer (render/).
 *
 * The page is made per request, stateless (no session, no cookie): the
 * customer's data is exported from the store into a temporary file, rendered
 * (bounded by the renderer's documented caps) and sent.  Login failures take
 * the same time for unknown logins and wrong passwords (scrypt either way). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "custodian.h"
#include "http.h"
#include "render.h"
#include "serve_member.h"
#include "writer.h"

#define MEMBER_PAGE_MAX (32u << 20) /* refuse to send a rendered page above this */

static const char login_form[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>Your energy data</title><style>body{font-family:system-ui,sans-serif;"
    "max-width:30em;margin:2em auto;padding:0 1em}label{display:block;margin-top:.8em}"
    "input{font-size:1em;width:100%%;box-sizing:border-box;padding:.3em}"
    "button{margin-top:1em;font-size:1em;padding:.4em 1.5em}.err{background:#fdd;"
    "border:1px solid #c00;padding:.5em}</style></head>\n<body><h1>Your energy data</h1>\n%s"
    "<p>Log in to see the data this utility holds for your account: the same data an "
    "application you approve would receive.</p>\n"
    "<form method=\"post\" action=\"%s/member\">\n"
    "<label for=\"login\">Login</label><input id=\"login\" name=\"login\" "
    "autocomplete=\"username\">\n<label for=\"password\">Password</label>"
    "<input id=\"password\" name=\"password\" type=\"password\" "
    "autocomplete=\"current-password\">\n<button id=\"show\" type=\"submit\">Show my data"
    "</button>\n</form></body></html>\n";

static void page_headers(http_resp *rs)
{
    http_resp_header(rs, "Content-Type", "text/html; charset=utf-8");
    http_resp_header(rs, "Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                     "form-action 'self'; frame-ancestors 'none'");
    http_resp_header(rs, "X-Frame-Options", "DENY");
    http_resp_header(rs, "Cache-Control", "no-store");
}

static void send_form(const member_page *mp, http_resp *rs, int status, const char *error)
{
    char err[256] = "";
    if (error) snprintf(err, sizeof err, "<p class=\"err\" role=\"alert\">%s</p>\n", error);
    http_resp_status(rs, status);
    page_headers(rs);
    http_resp_printf(rs, login_form, err, mp->prefix);
}

/* Export customer's data into a temporary feed and render it into memory. */
static int render_customer(const member_page *mp, const char *customer, char **html,
                           size_t *len, eg_err *err)
{
    char path[] = "/tmp/espigate-member-XXXXXX";
    int fd = mkstemp(path), rc;
    FILE *out = NULL;
    store_query q;
    *html = NULL;
    *len = 0;
    if (fd < 0) return eg_errf(err, EG_EIO, NULL, 0, 0, "cannot make a temporary file");
    close(fd);
    espi_writer *w = espi_writer_open_path(path, NULL, err);
    if (!w) {
        rc = err->code ? err->code : EG_EIO;
        goto done;
    }
    store_query_init(&q);
    q.customer = customer;
    rc = store_export(mp->s, &q, w, NULL, err);
    if (rc) {
        espi_writer_abort(w);
        goto done;
    }
    if ((rc = espi_writer_close(w, err))) goto done;
    if (!(out = open_memstream(html, len))) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    render_opts ro;
    render_opts_init(&ro);
    ro.title = "Your energy data";
    ro.source_name = "your account";
    rc = render_feed_html(path, &ro, out, err);
    fclose(out);
done:
    unlink(path);
    if (rc) {
        free(*html);
        *html = NULL;
    }
    return rc;
}

int member_page_handle(void *ctx, const http_req *r, http_resp *rs)
{
    const member_page *mp = ctx;
    char want[300];
    snprintf(want, sizeof want, "%s/member", mp->prefix);
    if (strcmp(http_req_path(r), want) != 0) return 0;
    const char *method = http_req_method(r);
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        send_form(mp, rs, 200, NULL);
        return 1;
    }
    if (strcmp(method, "POST") != 0) {
        http_resp_status(rs, 405);
        http_resp_header(rs, "Allow", "GET, HEAD, POST");
        return 1;
    }
    const char *login = http_req_form(r, "login"), *password = http_req_form(r, "password");
    char customer[CD_ID_MAX];
    eg_err err;
    eg_err_clear(&err);
    if (!login || !password || !*login ||
        cd_member_check(mp->s, login, password, (int64_t)time(NULL), customer, &err)) {
        if (err.code == EG_ELIMIT)
            send_form(mp, rs, 429, "Too many wrong passwords for this login: wait a few minutes, "
                                   "then try again.");
        else
            send_form(mp, rs, 403, "Login or password is not right. Try again.");
        return 1;
    }
    char *html;
    size_t len;
    if (render_customer(mp, customer, &html, &len, &err)) {
        send_form(mp, rs, err.code == EG_EINVALID || err.code == EG_ELIMIT ? 413 : 500,
                  err.code == EG_ELIMIT ? "Your data is too large to show on one page; "
                                          "ask the utility for an export."
                                        : "Your data could not be shown right now.");
        return 1;
    }
    page_headers(rs);
    if (len > MEMBER_PAGE_MAX) {
        free(html);
        send_form(mp, rs, 413, "Your data is too large to show on one page.");
        return 1;
    }
    if (http_resp_take_buffer(rs, html, len)) /* larger than 1 MiB: streamed */
        send_form(mp, rs, 500, "Out of memory; try again.");
    return 1;
}
