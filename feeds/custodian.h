/* custodian.h -- the Data Custodian's records: third-party applications,
 * members' logins, subscriptions, authorizations, tokens.
 *
 * Everything lives in the feed store (store.h), in tables of its own
 * (cd_app, cd_member, cd_subscription, cd_authorization, cd_token) created
 * by cd_init() with CREATE TABLE IF NOT EXISTS in the SQL dialect common to
 * SQLite 3.40 and PostgreSQL 15, so several server processes share one
 * PostgreSQL database and every record survives a restart.
 *
 * Secrets are never stored: a client secret, an access or refresh token
 * and an authorization code are 256-bit random values (RAND_bytes, shown
 * once as base64url) kept only as their SHA-256 in hex -- a hash of a
 * random 256-bit value cannot be guessed back, so no salt or slow hash is
 * needed there -- and compared in constant time.  Members' passwords are
 * chosen by people, so they get scrypt (N=2^15, r=8, p=1, 16-byte salt),
 * stored as "scrypt$N$r$p$salthex$hashhex".
 *
 * The shape of the records:
 *   application   client_id, secret hash, name, exact redirect URIs, notify
 *                 URI, allowed scopes (the first is the default), entry id
 *                 (UUIDv5 of the client id) for ApplicationInformation.
 *   member        login -> retail customer (customer.ext_id) + password.
 *   subscription  one per (client, customer); reused when the member
 *                 approves again; covers all of the customer's usage points.
 *   authorization one per grant (authorization_code approval, or a
 *                 client_credentials grant), status 1 active / 0 revoked.
 *   token         SHA-256 hash -> kind (code/access/refresh), authorization,
 *                 client, expiry, revoked; codes also carry redirect_uri,
 *                 PKCE challenge and a used flag.
 *
 * Ids: subscription and authorization ids are random UUIDs (lowercase, no
 * urn:uuid: prefix).  "Not found" is EG_ENOINPUT everywhere (the HTTP side
 * answers 404), a bad argument EG_EUSAGE, a database failure EG_EIO.
 *
 * Call cd_init() once per store handle before any other cd_ function
 * (oauth_new() does it; it is idempotent and cheap). */
#ifndef FEEDS_CUSTODIAN_H
#define FEEDS_CUSTODIAN_H

#include <openssl/types.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "espi.h"
#include "store.h"

#define CD_ID_MAX 64          /* client ids, UUIDs, logins */
#define CD_URI_MAX 1024
#define CD_SCOPE_MAX 512
#define CD_NAME_MAX 256
#define CD_MAX_LIST 16        /* redirect URIs, scopes per application */
#define CD_SECRET_MAX 64      /* base64url of 32 bytes = 43 chars */
#define CD_HASH_HEX 65        /* SHA-256 in hex + NUL */

/* Create the tables (idempotent).  0 or a database error. */
int cd_init(store *s, eg_err *err);

/* A write transaction for records (on PostgreSQL a plain BEGIN, not the
 * importer's advisory lock, so imports do not hold up OAuth); end it with
 * cd_commit() or cd_rollback(). */
int cd_begin(store *s, eg_err *err);
int cd_commit(store *s, eg_err *err);
void cd_rollback(store *s);

/* ---- randomness and hashing helpers (also used by oauth.c) -------------- */

/* 32 random bytes as base64url without padding (43 chars).  out >= 44. */
int cd_random_token(char *out, size_t size, eg_err *err);
/* A random (version 4) UUID, lowercase, 36 chars.  out >= 37. */
int cd_random_uuid(char *out, size_t size, eg_err *err);
/* SHA-256 of s as lowercase hex (64 chars + NUL). */
void cd_sha256_hex(const char *s, char out[CD_HASH_HEX]);
/* The same with a digest fetched once (EVP_MD_fetch "SHA256") and a context
 * kept by the caller: no implicit fetch nor context allocation per call,
 * for the hash every request's bearer check makes.  0, or -1 on an OpenSSL
 * failure (out is then ""). */
int cd_sha256_hex_with(EVP_MD_CTX *ctx, const EVP_MD *md, const char *s, char out[CD_HASH_HEX]);
/* base64url (no padding) of SHA-256(s): the PKCE S256 transform. */
void cd_pkce_s256(const char *verifier, char out[48]);

/* ---- third-party applications ------------------------------------------- */

typedef struct cd_app {
    char client_id[CD_ID_MAX];
    char name[CD_NAME_MAX];
    char redirect_uri[CD_MAX_LIST][CD_URI_MAX];
    int n_redirect_uri;
    char notify_uri[CD_URI_MAX];          /* "" when none */
    char scope[CD_MAX_LIST][CD_SCOPE_MAX];
    int n_scope;                          /* scope[0] is the default */
    char entry_id[CD_ID_MAX];             /* bare UUIDv5 of the client id */
    int64_t created;
} cd_app;

/* Register an application.  a->client_id is ignored and filled with a new
 * random id; a->entry_id and a->created are filled too.  The secret
 * (base64url, 43 chars) goes to secret -- the only time it exists outside
 * the client: only its hash is stored.  Redirect URIs must be absolute
 * https:// URIs (http://localhost and http://127.0.0.1 are allowed for
 * development) without a fragment; scopes must look like ESPI scopes
 * ("FB=..."); at least one of each.  EG_EUSAGE with a message otherwise. */
int cd_app_add(store *s, cd_app *a, int64_t now, char secret[CD_SECRET_MAX], eg_err *err);
/* Fill *out for client_id; EG_ENOINPUT when there is no such application. */
int cd_app_get(store *s, const char *client_id, cd_app *out, eg_err *err);
/* Each application, ordered by name then client id.  cb returns 0 to go
 * on, anything else stops the walk and is returned. */
int cd_app_list(store *s, int (*cb)(void *ctx, const cd_app *a), void *ctx, eg_err *err);
/* Remove an application: its authorizations become revoked and every token
 * of it is revoked, in one transaction.  EG_ENOINPUT when unknown. */
int cd_app_remove(store *s, const char *client_id, int64_t now, eg_err *err);
/* 0 when secret is the application's secret (constant-time compare of the
 * hashes), EG_EINVALID when not or when the client is unknown. */
int cd_app_check_secret(store *s, const char *client_id, const char *secret, eg_err *err);
/* 1 when uri is one of a's redirect URIs (byte-exact), else 0. */
int cd_app_has_redirect(const cd_app *a, const char *uri);
/* 1 when scope is one of a's scopes (byte-exact), else 0. */
int cd_app_has_scope(const cd_app *a, const char *scope);

/* ApplicationInformation for GET {base}/ApplicationInformation/{id}: the
 * entry (id urn:uuid:{entry_id}, title, self/up links under resource_base,
 * published/updated) and the fields (client id, name, redirect URIs, notify
 * URI, scopes, grant types, the OAuth endpoints derived from resource_base
 * ".../espi/1_1/resource" -> ".../oauth/...").  Never the secret.  id may
 * be the client id or the entry id.  EG_ENOINPUT when unknown. */
int cd_app_info(store *s, const char *resource_base, const char *id, espi_entry *e,
                espi_application_information *out, eg_err *err);

/* ---- members (retail customers' logins) --------------------------------- */

/* Create or replace the login for customer (which must exist in the
 * customer table: EG_EUSAGE otherwise); the password (1..1024 bytes) is
 * hashed with scrypt. */
int cd_member_set(store *s, const char *login, const char *customer, const char *password,
                  int64_t now, eg_err *err);
/* 0 and customer filled when login/password match; EG_EINVALID for an
 * unknown login or a wrong password alike -- an unknown login still runs
 * scrypt once, so both take about the same time.  Guessing is throttled per
 * login, in the store so every server process sees it: after
 * CD_LOGIN_FREE_TRIES failures in a row a login must wait 30 s, doubling with
 * each further failure up to CD_LOGIN_MAX_WAIT; meanwhile the answer is
 * EG_ELIMIT ("try again in N s") and the password is not even checked.
 * Unknown logins count the same, so throttling does not reveal which logins
 * exist.  A success clears the count.  now: UTC seconds. */
#define CD_LOGIN_FREE_TRIES 5
#define CD_LOGIN_MAX_WAIT 900
int cd_member_check(store *s, const char *login, const char *password, int64_t now,
                    char customer[CD_ID_MAX], eg_err *err);
int cd_member_list(store *s,
                   int (*cb)(void *ctx, const char *login, const char *customer, int64_t created),
                   void *ctx, eg_err *err);
/* EG_ENOINPUT when there is no such login. */
int cd_member_remove(store *s, const char *login, eg_err *err);

/* scrypt hash of password as "scrypt$N$r$p$salt$hash" (for tests/tools). */
int cd_password_hash(const char *password, char *out, size_t size, eg_err *err);
/* 0 when password matches the stored string, EG_EINVALID when not. */
int cd_password_verify(const char *password, const char *stored, eg_err *err);

/* ---- subscriptions and authorizations ------------------------------------ */

typedef struct cd_authorization {
    char id[CD_ID_MAX];
    char client_id[CD_ID_MAX];
    char subscription_id[CD_ID_MAX];     /* "" for a client_credentials grant */
    char customer[CD_ID_MAX];            /* "" for a client_credentials grant */
    char scope[CD_SCOPE_MAX];
    char grant_type[32];                 /* authorization_code | client_credentials */
    int status;                          /* ESPI_AUTH_ACTIVE / ESPI_AUTH_REVOKED */
    int64_t authorized_start, authorized_duration;
    int64_t published_start, published_duration;   /* ESPI_NONE when unset */
    int64_t created, updated, expires;
} cd_authorization;

/* A member approved client for customer: reuse or create the Subscription
 * of (client, customer), create a new active Authorization with scope,
 * valid until now + ttl.  out filled.  Runs in the caller's write
 * transaction when in_tx, else in its own. */
int cd_authorization_create(store *s, const char *client_id, const char *customer,
                            const char *scope, int64_t now, int64_t ttl, int in_tx,
                            cd_authorization *out, eg_err *err);
/* The client's active client_credentials Authorization for scope, created
 * when missing (in the caller's write transaction when in_tx). */
int cd_authorization_client(store *s, const char *client_id, const char *scope, int64_t now,
                            int64_t ttl, int in_tx, cd_authorization *out, eg_err *err);
/* Read one authorization.  EG_ENOINPUT when unknown. */
int cd_authorization_get(store *s, const char *id, cd_authorization *out, eg_err *err);
/* Revoke an authorization and all its tokens (status 0); in the caller's
 * write transaction when in_tx. */
int cd_authorization_revoke(store *s, const char *id, int64_t now, int in_tx, eg_err *err);

/* The ESPI Authorization for GET {base}/Authorization/{id}: entry (id
 * urn:uuid:{id}, self/up links) and fields (periods, status, expires_at,
 * grant_type, scope, token_type Bearer, resourceURI, authorizationURI) --
 * never a token.  When client_id is not NULL the authorization must belong
 * to it (else EG_ENOINPUT, as if unknown). */
int cd_authorization_espi(store *s, const char *resource_base, const char *client_id,
                          const char *id, espi_entry *e, espi_authorization *out, eg_err *err);
/* Each authorization of client_id (all statuses), oldest first, as ESPI
 * (see cd_authorization_espi).  cb's nonzero return stops and is returned. */
int cd_authorization_list(store *s, const char *resource_base, const char *client_id,
                          int (*cb)(void *ctx, const espi_entry *e, const espi_authorization *a),
                          void *ctx, eg_err *err);

/* Active subscriptions: those with an active, unexpired-or-not
 * authorization (status 1; the most recent one is reported).  cb gets
 * (subscription_id, client_id, customer_id, authorization_id); its nonzero
 * return stops the walk and is returned. */
typedef int (*cd_subscription_cb)(void *ctx, const char *subscription_id, const char *client_id,
                                  const char *customer_id, const char *authorization_id);
int cd_subscriptions_of_customer(store *s, const char *customer, cd_subscription_cb cb,
                                 void *ctx, eg_err *err);
int cd_subscriptions_of_client(store *s, const char *client_id, cd_subscription_cb cb, void *ctx,
                               eg_err *err);

/* ---- tokens and codes ---------------------------------------------------- */

typedef enum cd_token_kind {
    CD_TOKEN_CODE = 1,
    CD_TOKEN_ACCESS = 2,
    CD_TOKEN_REFRESH = 3
} cd_token_kind;

typedef struct cd_token {
    char hash[CD_HASH_HEX];
    int kind;                            /* cd_token_kind */
    char authorization_id[CD_ID_MAX];
    char client_id[CD_ID_MAX];
    int64_t expires;
    int revoked, used;
    char redirect_uri[CD_URI_MAX];       /* codes */
    char challenge[64];                  /* codes: PKCE S256 challenge */
} cd_token;

/* Make a new random token of kind for authorization/client, store its hash,
 * give the plain value in out (once).  redirect_uri/challenge for codes
 * (NULL otherwise).  Runs in the caller's write transaction. */
int cd_token_issue(store *s, int kind, const char *authorization_id, const char *client_id,
                   int64_t expires, const char *redirect_uri, const char *challenge,
                   char out[CD_SECRET_MAX], eg_err *err);
/* Look a plain token up by its hash.  EG_ENOINPUT when unknown. */
int cd_token_find(store *s, const char *plain, cd_token *out, eg_err *err);
/* Mark a code used; 0 when this call used it, EG_EINVALID when it was used
 * already (a replay).  In the caller's write transaction. */
int cd_token_use_code(store *s, const char *hash, eg_err *err);
/* Revoke one token by hash (in the caller's write transaction).  0 when it
 * was active and is now revoked, EG_EINVALID when it already was. */
int cd_token_revoke(store *s, const char *hash, eg_err *err);
/* Delete every token (code, access, refresh; used, revoked or not) that
 * expired before `before` (UTC seconds); *deleted (may be NULL) gets the
 * count.  An expired token is refused anyway, so nothing changes for
 * clients; the server calls it hourly with a day's grace so the table does
 * not grow with every token ever issued. */
int cd_token_prune(store *s, int64_t before, long *deleted, eg_err *err);

#endif
