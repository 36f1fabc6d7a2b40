/* oauth_page.h -- the HTML of the authorization server (internal to oauth.c).
 *
 * One self-contained HTML5 page, no external resources, served with a
 * strict Content-Security-Policy (default-src 'none'; the one inline style
 * allowed by its hash; form-action limited to us and the client's redirect
 * origin, because browsers apply form-action to the redirect that follows
 * the POST), X-Frame-Options DENY and Cache-Control no-store.  Every string
 * that comes from a client or a request is HTML-escaped.
 *
 * The consent page says exactly what the application asks for: the
 * Function Blocks of its scope by number and name, the interval duration,
 * block duration and history length in words, then a login form (inputs
 * id="login", id="password") and Approve / Deny buttons (id="approve",
 * id="deny"). */
#ifndef FEEDS_OAUTH_PAGE_H
#define FEEDS_OAUTH_PAGE_H

#include "http.h"

typedef struct oauth_page_args {
    const char *title;          /* operator name, e.g. "espigate Data Custodian" */
    const char *action;         /* form target: {prefix}/oauth/authorize */
    const char *app_name;
    const char *client_id, *redirect_uri, *scope, *state, *challenge, *csrf;
    const char *login;          /* pre-filled login after a failed attempt, or "" */
    const char *error;          /* message shown above the form, or NULL */
} oauth_page_args;

/* The consent page with status. */
void oauth_page_consent(http_resp *rs, int status, const oauth_page_args *a);
/* An error page (no redirect anywhere) with status, a title and a message. */
void oauth_page_error(http_resp *rs, int status, const char *title, const char *msg);

/* The scope in words, as HTML-escaped list items (for tests and the page):
 * one "<li>" per Function Block ("FB 4: Interval Metering"), then the
 * interval, block and history terms.  Writes at most size bytes. */
void oauth_scope_describe(const char *scope, char *out, size_t size);

#endif
