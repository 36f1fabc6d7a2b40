/* oauth.h -- the OAuth 2.0 authorization server of the Data Custodian.
 *
 * Third parties (ApplicationInformation: client id, hashed secret, exact
 * redirect URIs, notify URI, scope) register with `espigate client add`.
 * A member logs in on the consent page (password hashed with scrypt),
 * sees exactly what the app asks for (Function Blocks, history length,
 * interval) and approves; the app trades the code (PKCE S256 required,
 * `state` echoed) for an access token and a refresh token at the token
 * endpoint (client authentication: HTTP Basic or client_secret_post).
 * client_credentials gives bulk/admin tokens.  Every grant is an ESPI
 * Authorization resource tied to one Subscription; the token response
 * carries resourceURI (Batch/Subscription/{sid}) and authorizationURI.
 *
 * Tokens and codes are 256-bit random (OpenSSL RAND_bytes), shown once,
 * stored only as SHA-256 hashes and compared in constant time.  All state
 * lives in the store (SQLite or PostgreSQL), so several server processes
 * behind a load balancer share it.
 *
 * The HTTP side is a handler (http.h): oauth_handle() serves
 *   GET/POST {prefix}/oauth/authorize   consent page, login, approve/deny
 *   POST     {prefix}/oauth/token       authorization_code, refresh_token,
 *                                       client_credentials
 *   POST     {prefix}/oauth/revoke      RFC 7009
 * and the resource server asks oauth_check_bearer() about every request. */
#ifndef FEEDS_OAUTH_H
#define FEEDS_OAUTH_H

#include <stdint.h>

#include "err.h"
#include "http.h"
#include "store.h"

#define OAUTH_ID_MAX 64          /* = CD_ID_MAX (custodian.h) */
#define OAUTH_SCOPE_MAX 512

typedef struct oauth oauth;

typedef enum oauth_grant_kind {
    OAUTH_GRANT_CUSTOMER = 1,   /* authorization_code: one subscription */
    OAUTH_GRANT_CLIENT = 2      /* client_credentials: the client's own resources, bulk */
} oauth_grant_kind;

/* What a valid bearer token allows. */
typedef struct oauth_grant {
    oauth_grant_kind kind;
    char client_id[OAUTH_ID_MAX];
    char subscription_id[OAUTH_ID_MAX];   /* "" for client grants */
    char authorization_id[OAUTH_ID_MAX];
    char customer_id[OAUTH_ID_MAX];       /* retail customer behind the subscription */
    char scope[OAUTH_SCOPE_MAX];
    int64_t expires_at;                   /* UTC seconds */
} oauth_grant;

typedef struct oauth_opts {
    const char *prefix;         /* URL path prefix, e.g. "/DataCustodian" */
    const char *resource_base;  /* ".../espi/1_1/resource" absolute, for URIs */
    int64_t access_ttl;         /* seconds, default 3600 */
    int64_t refresh_ttl;        /* seconds, default 1 year; also how long an approval lasts */
    int64_t code_ttl;           /* seconds, default 60 */
    const char *page_title;     /* operator name on the consent page; default
                                   "espigate Data Custodian" */
    int64_t (*now)(void *ctx);  /* clock (UTC seconds); NULL = time(NULL).  Tests move it. */
    void *now_ctx;
} oauth_opts;

/* Zero/NULL fields of o get the defaults above; 0 ttl = default. */
void oauth_opts_init(oauth_opts *o);

/* An authorization server over store s (borrowed: it must outlive the
 * returned object; one oauth per store connection, used by one thread at a
 * time, like the store).  Creates the Data Custodian tables (cd_init) and
 * the server's CSRF key (kept in the store's meta table, shared by every
 * process on the same store).  NULL with err filled on failure; free with
 * oauth_free(). */
oauth *oauth_new(store *s, const oauth_opts *o, eg_err *err);
void oauth_free(oauth *a);

/* The HTTP handler (http_handler_fn) for the endpoints above. */
int oauth_handle(void *a, const http_req *r, http_resp *rs);

/* Check an "Authorization: Bearer ..." header value.  0 and *out filled
 * when the token is valid; EG_EINVALID when it is missing, malformed,
 * unknown, expired or revoked (the caller answers 401 with
 * WWW-Authenticate: Bearer error="invalid_token"). */
int oauth_check_bearer(oauth *a, const char *authorization_header, oauth_grant *out,
                       eg_err *err);

#endif
