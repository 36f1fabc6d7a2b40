/* custodian.c -- the Data Custodian's records in the store (custodian.h).
 *
 * Plain SQL over the store's backend vtable (s->ops), written once for
 * SQLite and PostgreSQL: TEXT and BIGINT columns, TEXT primary keys,
 * numbered parameters, ON CONFLICT and RETURNING.  Lists (redirect URIs,
 * scopes) are stored newline-joined: neither may contain a control
 * character, which cd_app_add checks.
 *
 * Writes that must be atomic (approve = subscription + authorization +
 * code; a code exchange = mark used + issue tokens) run in one write
 * transaction opened by the caller (oauth.c) through cd_begin()/cd_commit();
 * functions that say "in_tx" do not open their own then.  On PostgreSQL we
 * open a plain BEGIN rather than the store's import lock, so a long feed
 * import does not hold up the token endpoint. */
#include "custodian.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cd_schema =
    "CREATE TABLE IF NOT EXISTS cd_app(client_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL,"
    " name TEXT NOT NULL, redirect_uris TEXT NOT NULL, notify_uri TEXT NOT NULL,"
    " scopes TEXT NOT NULL, entry_id TEXT NOT NULL, created BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS cd_member(login TEXT PRIMARY KEY, customer TEXT NOT NULL,"
    " pw TEXT NOT NULL, created BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS cd_login_fail(login TEXT PRIMARY KEY, failures BIGINT NOT NULL,"
    " locked_until BIGINT NOT NULL, last BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS cd_subscription(id TEXT PRIMARY KEY, client_id TEXT NOT NULL,"
    " customer TEXT NOT NULL, created BIGINT NOT NULL, UNIQUE(client_id, customer));"
    "CREATE TABLE IF NOT EXISTS cd_authorization(id TEXT PRIMARY KEY, client_id TEXT NOT NULL,"
    " subscription_id TEXT NOT NULL, customer TEXT NOT NULL, scope TEXT NOT NULL,"
    " grant_type TEXT NOT NULL, status BIGINT NOT NULL, auth_start BIGINT, auth_duration BIGINT,"
    " pub_start BIGINT, pub_duration BIGINT, created BIGINT NOT NULL, updated BIGINT NOT NULL,"
    " expires BIGINT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS cd_authorization_client ON cd_authorization(client_id);"
    "CREATE INDEX IF NOT EXISTS cd_authorization_sub ON cd_authorization(subscription_id);"
    "CREATE TABLE IF NOT EXISTS cd_token(hash TEXT PRIMARY KEY, kind BIGINT NOT NULL,"
    " authorization_id TEXT NOT NULL, client_id TEXT NOT NULL, expires BIGINT NOT NULL,"
    " revoked BIGINT NOT NULL, used BIGINT NOT NULL, redirect_uri TEXT NOT NULL,"
    " challenge TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS cd_token_auth ON cd_token(authorization_id);"
    "CREATE INDEX IF NOT EXISTS cd_token_client ON cd_token(client_id);";

/* scrypt cost; the stored string carries its own, bounded when read back. */
#define SCRYPT_N 32768u
#define SCRYPT_R 8u
#define SCRYPT_P 1u
#define SCRYPT_MAXMEM (64u * 1024u * 1024u)
#define SALT_LEN 16
#define PW_HASH_LEN 32
#define PW_MAX 1024
#define CD_BASE_MAX 900 /* resource_base bound: room for "/Batch/Subscription/{uuid}" */

/* ---- transactions, small helpers --------------------------------------- */

int cd_begin(store *s, eg_err *err)
{
    if (strcmp(s->ops->name, "postgresql") == 0) return s->ops->exec(s, "BEGIN", err);
    return s->ops->begin(s, 1, err);
}

int cd_commit(store *s, eg_err *err) { return s->ops->commit(s, err); }
void cd_rollback(store *s) { s->ops->rollback(s); }

/* Finish a transaction we opened: commit on success, else roll back. */
static int finish_tx(store *s, int rc, eg_err *err)
{
    if (rc) cd_rollback(s);
    else rc = cd_commit(s, err);
    return rc;
}

static int prep(store *s, const char *sql, store_stmt **st, eg_err *err)
{
    return s->ops->prepare(s, sql, 0, st, err);
}

/* Bounded copy: at most size - 1 bytes, always terminated. */
static void copy(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

static int64_t col_opt(store *s, store_stmt *st, int i)
{
    return s->ops->col_null(st, i) ? ESPI_NONE : s->ops->col_i64(st, i);
}

static void bind_opt(store *s, store_stmt *st, int i, int64_t v)
{
    if (v == ESPI_NONE) s->ops->bind_null(st, i);
    else s->ops->bind_i64(st, i, v);
}

/* Run sql with text parameters p[0..n) that returns no rows we need;
 * *changed (may be NULL) = 1 when it returned a row (RETURNING). */
static int run_text(store *s, const char *sql, const char *const *p, int n, int *changed,
                    eg_err *err)
{
    store_stmt *st = NULL;
    int rc = prep(s, sql, &st, err);
    if (rc) goto done;
    for (int i = 0; i < n; i++) s->ops->bind_text(st, i + 1, p[i]);
    rc = s->ops->step(st, err);
    if (changed) *changed = rc == 1;
    if (rc > 0) rc = 0;
done:
    s->ops->finalize(st);
    return rc;
}

int cd_init(store *s, eg_err *err)
{
    return s->ops->exec(s, cd_schema, err);
}

/* ---- randomness and hashing ---------------------------------------------- */

static void b64url(const unsigned char *in, size_t n, char *out, size_t size)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < size; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        if (i + 1 < n) out[o++] = tab[v >> 6 & 63];
        if (i + 2 < n) out[o++] = tab[v & 63];
    }
    out[o] = '\0';
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
    if (strlen(s) != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
            else return -1;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}

int cd_random_token(char *out, size_t size, eg_err *err)
{
    unsigned char b[32];
    if (size < 44) return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "token buffer too small");
    if (RAND_bytes(b, sizeof b) != 1)
        return eg_errf(err, EG_EIO, NULL, 0, 0, "OpenSSL RAND_bytes failed: no randomness");
    b64url(b, sizeof b, out, size);
    OPENSSL_cleanse(b, sizeof b);
    return 0;
}

int cd_random_uuid(char *out, size_t size, eg_err *err)
{
    unsigned char b[16];
    char h[33];
    if (size < 37) return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "uuid buffer too small");
    if (RAND_bytes(b, sizeof b) != 1)
        return eg_errf(err, EG_EIO, NULL, 0, 0, "OpenSSL RAND_bytes failed: no randomness");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    hex(b, sizeof b, h);
    snprintf(out, size, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
    return 0;
}

void cd_sha256_hex(const char *s, char out[CD_HASH_HEX])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    hex(md, 32, out);
}

int cd_sha256_hex_with(EVP_MD_CTX *ctx, const EVP_MD *md, const char *s, char out[CD_HASH_HEX])
{
    unsigned char d[32];
    unsigned int n = 0;
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, s, strlen(s)) != 1 ||
        EVP_DigestFinal_ex(ctx, d, &n) != 1 || n != 32) {
        out[0] = '\0';
        return -1;
    }
    hex(d, 32, out);
    return 0;
}

void cd_pkce_s256(const char *verifier, char out[48])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(), NULL);
    b64url(md, 32, out, 48);
}

/* ---- passwords ------------------------------------------------------------ */

static int scrypt_raw(const char *pw, const unsigned char *salt, uint64_t n, uint64_t r,
                      uint64_t p, unsigned char out[PW_HASH_LEN])
{
    return EVP_PBE_scrypt(pw, strlen(pw), salt, SALT_LEN, n, r, p, SCRYPT_MAXMEM, out,
                          PW_HASH_LEN) == 1
               ? 0
               : -1;
}

int cd_password_hash(const char *password, char *out, size_t size, eg_err *err)
{
    unsigned char salt[SALT_LEN], h[PW_HASH_LEN];
    char sh[2 * SALT_LEN + 1], hh[2 * PW_HASH_LEN + 1];
    if (!password[0] || strlen(password) > PW_MAX)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "a password is 1 to %d bytes", PW_MAX);
    if (RAND_bytes(salt, sizeof salt) != 1)
        return eg_errf(err, EG_EIO, NULL, 0, 0, "OpenSSL RAND_bytes failed: no randomness");
    if (scrypt_raw(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, h))
        return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "scrypt failed (needs 32 MiB of memory)");
    hex(salt, sizeof salt, sh);
    hex(h, sizeof h, hh);
    snprintf(out, size, "scrypt$%u$%u$%u$%s$%s", SCRYPT_N, SCRYPT_R, SCRYPT_P, sh, hh);
    OPENSSL_cleanse(h, sizeof h);
    return 0;
}

int cd_password_verify(const char *password, const char *stored, eg_err *err)
{
    unsigned long n, r, p;
    char sh[2 * SALT_LEN + 1], hh[2 * PW_HASH_LEN + 1];
    unsigned char salt[SALT_LEN], want[PW_HASH_LEN], got[PW_HASH_LEN];
    int rc = EG_EINVALID;
    if (sscanf(stored, "scrypt$%lu$%lu$%lu$%32[0-9a-f]$%64[0-9a-f]", &n, &r, &p, sh, hh) != 5 ||
        n < 2 || n > (1ul << 20) || (n & (n - 1)) || r < 1 || r > 16 || p < 1 || p > 4 ||
        unhex(sh, salt, sizeof salt) || unhex(hh, want, sizeof want))
        return eg_errf(err, EG_EINVALID, NULL, 0, 0, "stored password hash is malformed");
    if (strlen(password) <= PW_MAX && scrypt_raw(password, salt, n, r, p, got) == 0 &&
        CRYPTO_memcmp(got, want, sizeof got) == 0)
        rc = 0;
    OPENSSL_cleanse(got, sizeof got);
    return rc ? eg_errf(err, rc, NULL, 0, 0, "wrong login or password") : 0;
}

/* ---- applications ----------------------------------------------------------- */

static int bad_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || *s == 0x7f) return 1;
    return 0;
}

static int redirect_ok(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n >= CD_URI_MAX || bad_text(u) || strchr(u, '#')) return 0;
    if (strncmp(u, "https://", 8) == 0) return n > 8 && u[8] != '/';
    static const char *const dev[] = {"http://localhost", "http://127.0.0.1"};
    for (size_t i = 0; i < 2; i++) {
        size_t k = strlen(dev[i]);
        if (strncmp(u, dev[i], k) == 0 && (u[k] == ':' || u[k] == '/' || u[k] == '\0')) return 1;
    }
    return 0;
}

static int scope_ok(const char *sc)
{
    size_t n = strlen(sc);
    return n > 3 && n < ESPI_STR256 && !bad_text(sc) && strncmp(sc, "FB=", 3) == 0 &&
           strchr(sc, '"') == NULL && strchr(sc, '\\') == NULL;
}

/* Join list[0..n) with '\n' into out. */
static void join(char (*list)[CD_URI_MAX], int n, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "\n" : "", list[i]);
}

static void join_scopes(char (*list)[CD_SCOPE_MAX], int n, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "\n" : "", list[i]);
}

/* Split "a\nb" into list entries of width w; returns the count. */
static int split(const char *s, char *list, size_t w, int max)
{
    int n = 0;
    while (*s && n < max) {
        size_t k = strcspn(s, "\n");
        snprintf(list + (size_t)n * w, w, "%.*s", (int)k, s);
        n++;
        s += k;
        if (*s == '\n') s++;
    }
    return n;
}

int cd_app_add(store *s, cd_app *a, int64_t now, char secret[CD_SECRET_MAX], eg_err *err)
{
    char uris[CD_MAX_LIST * CD_URI_MAX], scopes[CD_MAX_LIST * CD_SCOPE_MAX];
    char sh[CD_HASH_HEX], created[24], key[CD_ID_MAX + 8];
    int rc;
    if (!a->name[0])
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "an application needs a name (--name)");
    for (const char *p = a->name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                           "the application name must not contain control characters");
    if (a->n_redirect_uri < 1 || a->n_redirect_uri > CD_MAX_LIST)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "an application needs 1 to %d redirect URIs (--redirect-uri)", CD_MAX_LIST);
    for (int i = 0; i < a->n_redirect_uri; i++)
        if (!redirect_ok(a->redirect_uri[i]))
            return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                           "redirect URI '%.200s' is not an absolute https:// URI without a "
                           "fragment (http:// only for localhost/127.0.0.1)",
                           a->redirect_uri[i]);
    if (a->notify_uri[0] && !redirect_ok(a->notify_uri))
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "notify URI '%.200s' is not an absolute https:// URI", a->notify_uri);
    if (a->n_scope < 1 || a->n_scope > CD_MAX_LIST)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "an application needs 1 to %d scopes (--scope)", CD_MAX_LIST);
    for (int i = 0; i < a->n_scope; i++)
        if (!scope_ok(a->scope[i]))
            return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                           "scope '%.200s' is not an ESPI scope (expected e.g. "
                           "FB=1_3_4_5_13_14_39;IntervalDuration=3600;BlockDuration=daily;"
                           "HistoryLength=13, no spaces or quotes, < 256 characters)",
                           a->scope[i]);
    /* neither may start with '-' or '_': a client id or secret that looks
     * like an option breaks command lines (ours, curl's, argparse's) */
    do {
        if ((rc = cd_random_token(a->client_id, sizeof a->client_id, err))) return rc;
    } while (a->client_id[0] == '-' || a->client_id[0] == '_');
    a->client_id[22] = '\0'; /* 132 random bits are plenty for an id */
    do {
        if ((rc = cd_random_token(secret, CD_SECRET_MAX, err))) return rc;
    } while (secret[0] == '-' || secret[0] == '_');
    cd_sha256_hex(secret, sh);
    snprintf(key, sizeof key, "app:%s", a->client_id);
    espi_uuid5_bare(key, a->entry_id);
    a->created = now;
    join(a->redirect_uri, a->n_redirect_uri, uris, sizeof uris);
    join_scopes(a->scope, a->n_scope, scopes, sizeof scopes);
    snprintf(created, sizeof created, "%lld", (long long)now);
    const char *p[] = {a->client_id, sh, a->name, uris, a->notify_uri, scopes, a->entry_id, created};
    rc = run_text(s,
                  "INSERT INTO cd_app(client_id, secret_hash, name, redirect_uris, notify_uri,"
                  " scopes, entry_id, created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                  p, 8, NULL, err);
    return rc;
}

static void app_from_row(store *s, store_stmt *st, cd_app *a)
{
    memset(a, 0, sizeof *a);
    copy(a->client_id, sizeof a->client_id, s->ops->col_text(st, 0));
    copy(a->name, sizeof a->name, s->ops->col_text(st, 1));
    a->n_redirect_uri = split(s->ops->col_text(st, 2), &a->redirect_uri[0][0], CD_URI_MAX,
                              CD_MAX_LIST);
    copy(a->notify_uri, sizeof a->notify_uri, s->ops->col_text(st, 3));
    a->n_scope = split(s->ops->col_text(st, 4), &a->scope[0][0], CD_SCOPE_MAX, CD_MAX_LIST);
    copy(a->entry_id, sizeof a->entry_id, s->ops->col_text(st, 5));
    a->created = s->ops->col_i64(st, 6);
}

#define APP_COLS "client_id, name, redirect_uris, notify_uri, scopes, entry_id, created"

/* The application whose client id (or, with by_entry, entry id) is id. */
static int app_lookup(store *s, const char *id, int by_entry, cd_app *out, eg_err *err)
{
    static const char by_client[] = "SELECT " APP_COLS " FROM cd_app WHERE client_id = ?1",
                      by_either[] = "SELECT " APP_COLS " FROM cd_app WHERE client_id = ?1"
                                    " OR entry_id = ?1";
    store_stmt *st = NULL;
    int rc = prep(s, by_entry ? by_either : by_client, &st, err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, id);
    rc = s->ops->step(st, err);
    if (rc == 1) {
        app_from_row(s, st, out);
        rc = 0;
    } else if (rc == 0) {
        rc = eg_errf(err, EG_ENOINPUT, NULL, 0, 0,
                     "no application with client id '%.80s' (see 'espigate client list')", id);
    }
done:
    s->ops->finalize(st);
    return rc;
}

int cd_app_get(store *s, const char *client_id, cd_app *out, eg_err *err)
{
    return app_lookup(s, client_id, 0, out, err);
}

int cd_app_list(store *s, int (*cb)(void *ctx, const cd_app *a), void *ctx, eg_err *err)
{
    store_stmt *st = NULL;
    cd_app *a = malloc(sizeof *a);
    int rc = a ? prep(s, "SELECT " APP_COLS " FROM cd_app ORDER BY name, client_id", &st, err)
               : eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    while (!rc && (rc = s->ops->step(st, err)) == 1) {
        app_from_row(s, st, a);
        rc = cb(ctx, a);
    }
    s->ops->finalize(st);
    free(a);
    return rc;
}

int cd_app_remove(store *s, const char *client_id, int64_t now, eg_err *err)
{
    char t[24];
    int changed = 0;
    int rc = cd_begin(s, err);
    if (rc) return rc;
    snprintf(t, sizeof t, "%lld", (long long)now);
    const char *p[] = {client_id, t};
    if ((rc = run_text(s, "DELETE FROM cd_app WHERE client_id = ?1 RETURNING client_id", p, 1,
                       &changed, err)))
        goto done;
    if (!changed) {
        rc = eg_errf(err, EG_ENOINPUT, NULL, 0, 0,
                     "no application with client id '%.80s' (see 'espigate client list')",
                     client_id);
        goto done;
    }
    if ((rc = run_text(s, "UPDATE cd_token SET revoked = 1 WHERE client_id = ?1", p, 1, NULL, err)))
        goto done;
    rc = run_text(s,
                  "UPDATE cd_authorization SET status = 0, updated = CAST(?2 AS BIGINT)"
                  " WHERE client_id = ?1 AND status = 1",
                  p, 2, NULL, err);
done:
    return finish_tx(s, rc, err);
}

int cd_app_check_secret(store *s, const char *client_id, const char *secret, eg_err *err)
{
    store_stmt *st = NULL;
    char want[CD_HASH_HEX], got[CD_HASH_HEX];
    int found = 0;
    int rc = prep(s, "SELECT secret_hash FROM cd_app WHERE client_id = ?1", &st, err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, client_id);
    rc = s->ops->step(st, err);
    if (rc < 0) goto done;
    found = rc == 1;
    copy(want, sizeof want, found ? s->ops->col_text(st, 0) : "");
    rc = 0;
done:
    s->ops->finalize(st);
    if (rc) return rc;
    cd_sha256_hex(secret, got);
    if (found && strlen(want) == 64 && CRYPTO_memcmp(got, want, 64) == 0) return 0;
    return eg_errf(err, EG_EINVALID, NULL, 0, 0, "client authentication failed");
}

int cd_app_has_redirect(const cd_app *a, const char *uri)
{
    for (int i = 0; i < a->n_redirect_uri; i++)
        if (strcmp(a->redirect_uri[i], uri) == 0) return 1;
    return 0;
}

int cd_app_has_scope(const cd_app *a, const char *scope)
{
    for (int i = 0; i < a->n_scope; i++)
        if (strcmp(a->scope[i], scope) == 0) return 1;
    return 0;
}

/* resource_base without a trailing '/' and, when it ends so, without
 * "/espi/1_1/resource": the server root where /oauth/... lives. */
static void base_parts(const char *resource_base, char *base, size_t bsize, char *root,
                       size_t rsize)
{
    static const char tail[] = "/espi/1_1/resource";
    copy(base, bsize, resource_base);
    size_t n = strlen(base);
    while (n && base[n - 1] == '/') base[--n] = '\0';
    copy(root, rsize, base);
    size_t t = sizeof tail - 1;
    if (n >= t && strcmp(base + n - t, tail) == 0) root[n - t] = '\0';
}

int cd_app_info(store *s, const char *resource_base, const char *id, espi_entry *e,
                espi_application_information *out, eg_err *err)
{
    char base[CD_BASE_MAX], root[CD_BASE_MAX];
    cd_app *a = malloc(sizeof *a);
    int rc = a ? app_lookup(s, id, 1, a, err) : eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    if (rc) goto done;
    base_parts(resource_base, base, sizeof base, root, sizeof root);
    espi_entry_init(e);
    snprintf(e->id, sizeof e->id, "urn:uuid:%s", a->entry_id);
    copy(e->title, sizeof e->title, a->name);
    e->published = e->updated = a->created;
    copy(e->self.rel, sizeof e->self.rel, "self");
    snprintf(e->self.href, sizeof e->self.href, "%s/ApplicationInformation/%s", base, a->entry_id);
    copy(e->up.rel, sizeof e->up.rel, "up");
    snprintf(e->up.href, sizeof e->up.href, "%s/ApplicationInformation", base);
    espi_application_information_init(out);
    out->data_custodian_application_status = ESPI_DC_APP_PRODUCTION;
    /* required by the schema; the secret itself exists only at registration
     * (`espigate client add` shows it once, the store keeps a hash) */
    copy(out->data_custodian_id, sizeof out->data_custodian_id, "espigate");
    copy(out->client_secret, sizeof out->client_secret,
         "(shown once at registration; stored only as a hash)");
    copy(out->software_id, sizeof out->software_id, a->name);
    copy(out->software_version, sizeof out->software_version, "1");
    /* RFC 7592's client configuration endpoint is this resource itself; no
     * registration access token is issued (client_credentials reads it) */
    copy(out->registration_client_uri, sizeof out->registration_client_uri, e->self.href);
    copy(out->registration_access_token, sizeof out->registration_access_token,
         "(none issued: read this resource with a client_credentials token)");
    if (!out->third_party_notify_uri[0]) /* required by the schema; none registered */
        copy(out->third_party_notify_uri, sizeof out->third_party_notify_uri,
             "urn:espigate:no-notify-uri-registered");
    copy(out->third_party_notify_uri, sizeof out->third_party_notify_uri, a->notify_uri);
    snprintf(out->authorization_server_uri, ESPI_URI_MAX, "%s/oauth", root);
    snprintf(out->authorization_server_authorization_endpoint, ESPI_URI_MAX, "%s/oauth/authorize",
             root);
    snprintf(out->authorization_server_token_endpoint, ESPI_URI_MAX, "%s/oauth/token", root);
    snprintf(out->data_custodian_bulk_request_uri, ESPI_URI_MAX, "%s/Batch/Bulk/%s", base,
             a->client_id);
    copy(out->data_custodian_resource_endpoint, ESPI_URI_MAX, base);
    copy(out->client_name, sizeof out->client_name, a->name);
    for (int i = 0; i < a->n_redirect_uri && i < ESPI_MAX_LIST; i++)
        copy(out->redirect_uri[out->n_redirect_uri++], ESPI_URI_MAX, a->redirect_uri[i]);
    copy(out->client_id, sizeof out->client_id, a->client_id);
    out->client_id_issued_at = a->created;
    out->client_secret_expires_at = 0;
    copy(out->token_endpoint_auth_method, sizeof out->token_endpoint_auth_method,
         "client_secret_basic");
    for (int i = 0; i < a->n_scope && i < ESPI_MAX_LIST; i++)
        copy(out->scope[out->n_scope++], ESPI_STR256, a->scope[i]);
    static const char *const grants[] = {"authorization_code", "client_credentials",
                                         "refresh_token"};
    for (int i = 0; i < 3; i++) copy(out->grant_types[out->n_grant_types++], ESPI_STR32, grants[i]);
    copy(out->response_types, sizeof out->response_types, "code");
done:
    free(a);
    return rc;
}

/* ---- members ------------------------------------------------------------------ */

int cd_member_set(store *s, const char *login, const char *customer, const char *password,
                  int64_t now, eg_err *err)
{
    char pw[256], t[24];
    int64_t found = 0;
    store_stmt *st = NULL;
    int rc;
    if (!login[0] || strlen(login) >= CD_ID_MAX || bad_text(login))
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "a login is 1 to %d printable characters without spaces", CD_ID_MAX - 1);
    if ((rc = cd_password_hash(password, pw, sizeof pw, err))) return rc;
    if ((rc = cd_begin(s, err))) return rc;
    if ((rc = prep(s, "SELECT COUNT(*) FROM customer WHERE ext_id = ?1", &st, err))) goto done;
    s->ops->bind_text(st, 1, customer);
    if ((rc = s->ops->step(st, err)) == 1) found = s->ops->col_i64(st, 0), rc = 0;
    if (rc) goto done;
    if (!found) {
        rc = eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                     "customer '%.80s' does not exist (add it with 'espigate customer add %.80s')",
                     customer, customer);
        goto done;
    }
    snprintf(t, sizeof t, "%lld", (long long)now);
    const char *p[] = {login, customer, pw, t};
    rc = run_text(s,
                  "INSERT INTO cd_member(login, customer, pw, created) VALUES(?1, ?2, ?3,"
                  " CAST(?4 AS BIGINT)) ON CONFLICT(login) DO UPDATE SET customer = excluded.customer,"
                  " pw = excluded.pw",
                  p, 4, NULL, err);
done:
    s->ops->finalize(st);
    OPENSSL_cleanse(pw, sizeof pw);
    return finish_tx(s, rc, err);
}

/* Seconds login must still wait before its password is checked again (0: none). */
static int login_wait(store *s, const char *login, int64_t now, int64_t *wait, eg_err *err)
{
    store_stmt *st = NULL;
    int rc = prep(s, "SELECT locked_until FROM cd_login_fail WHERE login = ?1", &st, err);
    *wait = 0;
    if (!rc) {
        s->ops->bind_text(st, 1, login);
        rc = s->ops->step(st, err);
        if (rc == 1 && s->ops->col_i64(st, 0) > now) *wait = s->ops->col_i64(st, 0) - now;
        if (rc > 0) rc = 0;
    }
    s->ops->finalize(st);
    return rc;
}

/* Count one failure of login; from the CD_LOGIN_FREE_TRIES-th on, lock it for
 * 30 s doubling per further failure, at most CD_LOGIN_MAX_WAIT.  Rows idle
 * for a day are dropped when a new one is made. */
static int login_failed(store *s, const char *login, int64_t now, eg_err *err)
{
    store_stmt *st = NULL;
    int64_t failures = 0;
    int rc = prep(s,
                  "INSERT INTO cd_login_fail(login, failures, locked_until, last)"
                  " VALUES(?1, 1, 0, CAST(?2 AS BIGINT)) ON CONFLICT(login) DO UPDATE SET"
                  " failures = cd_login_fail.failures + 1, last = excluded.last RETURNING failures",
                  &st, err);
    if (!rc) {
        s->ops->bind_text(st, 1, login);
        s->ops->bind_i64(st, 2, now);
        if ((rc = s->ops->step(st, err)) == 1) failures = s->ops->col_i64(st, 0);
        if (rc > 0) rc = 0;
    }
    s->ops->finalize(st);
    st = NULL;
    if (rc) return rc;
    if (failures == 1) {
        if ((rc = prep(s, "DELETE FROM cd_login_fail WHERE last < CAST(?1 AS BIGINT)", &st, err)))
            return rc;
        s->ops->bind_i64(st, 1, now - 86400);
        rc = s->ops->step(st, err);
        s->ops->finalize(st);
        return rc < 0 ? rc : 0;
    }
    if (failures < CD_LOGIN_FREE_TRIES) return 0;
    int64_t lock = 30;
    for (int64_t k = CD_LOGIN_FREE_TRIES; k < failures && lock < CD_LOGIN_MAX_WAIT; k++) lock *= 2;
    if (lock > CD_LOGIN_MAX_WAIT) lock = CD_LOGIN_MAX_WAIT;
    if ((rc = prep(s, "UPDATE cd_login_fail SET locked_until = CAST(?2 AS BIGINT) WHERE login = ?1",
                   &st, err)))
        return rc;
    s->ops->bind_text(st, 1, login);
    s->ops->bind_i64(st, 2, now + lock);
    rc = s->ops->step(st, err);
    s->ops->finalize(st);
    return rc < 0 ? rc : 0;
}

int cd_member_check(store *s, const char *login, const char *password, int64_t now,
                    char customer[CD_ID_MAX], eg_err *err)
{
    /* A well-formed hash of nothing anyone knows: unknown logins pay for
     * one scrypt too, so timing does not tell them from wrong passwords. */
    static const char dummy[] = "scrypt$32768$8$1$00000000000000000000000000000000$"
                                "0000000000000000000000000000000000000000000000000000000000000000";
    char pw[256] = "";
    store_stmt *st = NULL;
    int64_t wait;
    customer[0] = '\0';
    int rc = login_wait(s, login, now, &wait, err);
    if (rc) return rc;
    if (wait > 0) /* no scrypt either: a locked login costs an attacker's requests nothing */
        return eg_errf(err, EG_ELIMIT, NULL, 0, 0, "too many failed logins; try again in %lld s",
                       (long long)wait);
    rc = prep(s, "SELECT pw, customer FROM cd_member WHERE login = ?1", &st, err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, login);
    rc = s->ops->step(st, err);
    if (rc < 0) goto done;
    if (rc == 1) {
        copy(pw, sizeof pw, s->ops->col_text(st, 0));
        copy(customer, CD_ID_MAX, s->ops->col_text(st, 1));
    }
    s->ops->finalize(st);
    st = NULL;
    rc = cd_password_verify(password, pw[0] ? pw : dummy, NULL);
    if (rc || !pw[0]) {
        customer[0] = '\0';
        eg_err ferr;
        eg_err_clear(&ferr);
        if ((rc = login_failed(s, login, now, &ferr))) return eg_errf(err, rc, NULL, 0, 0, "%s", ferr.msg);
        rc = eg_errf(err, EG_EINVALID, NULL, 0, 0, "wrong login or password");
    } else {
        const char *p[] = {login};
        rc = run_text(s, "DELETE FROM cd_login_fail WHERE login = ?1", p, 1, NULL, err);
    }
done:
    s->ops->finalize(st);
    OPENSSL_cleanse(pw, sizeof pw);
    return rc;
}

int cd_member_list(store *s,
                   int (*cb)(void *ctx, const char *login, const char *customer, int64_t created),
                   void *ctx, eg_err *err)
{
    store_stmt *st = NULL;
    int rc = prep(s, "SELECT login, customer, created FROM cd_member ORDER BY login", &st, err);
    while (!rc && (rc = s->ops->step(st, err)) == 1)
        rc = cb(ctx, s->ops->col_text(st, 0), s->ops->col_text(st, 1), s->ops->col_i64(st, 2));
    s->ops->finalize(st);
    return rc;
}

int cd_member_remove(store *s, const char *login, eg_err *err)
{
    int changed = 0;
    const char *p[] = {login};
    int rc = run_text(s, "DELETE FROM cd_member WHERE login = ?1 RETURNING login", p, 1, &changed,
                      err);
    if (!rc && !changed)
        rc = eg_errf(err, EG_ENOINPUT, NULL, 0, 0,
                     "no member with login '%.80s' (see 'espigate member list')", login);
    return rc;
}

/* ---- subscriptions and authorizations --------------------------------------- */

#define AUTH_COLS                                                                              \
    "id, client_id, subscription_id, customer, scope, grant_type, status, auth_start,"         \
    " auth_duration, pub_start, pub_duration, created, updated, expires"

static void auth_from_row(store *s, store_stmt *st, cd_authorization *a)
{
    memset(a, 0, sizeof *a);
    copy(a->id, sizeof a->id, s->ops->col_text(st, 0));
    copy(a->client_id, sizeof a->client_id, s->ops->col_text(st, 1));
    copy(a->subscription_id, sizeof a->subscription_id, s->ops->col_text(st, 2));
    copy(a->customer, sizeof a->customer, s->ops->col_text(st, 3));
    copy(a->scope, sizeof a->scope, s->ops->col_text(st, 4));
    copy(a->grant_type, sizeof a->grant_type, s->ops->col_text(st, 5));
    a->status = (int)s->ops->col_i64(st, 6);
    a->authorized_start = col_opt(s, st, 7);
    a->authorized_duration = col_opt(s, st, 8);
    a->published_start = col_opt(s, st, 9);
    a->published_duration = col_opt(s, st, 10);
    a->created = s->ops->col_i64(st, 11);
    a->updated = s->ops->col_i64(st, 12);
    a->expires = s->ops->col_i64(st, 13);
}

static int auth_insert(store *s, const cd_authorization *a, eg_err *err)
{
    store_stmt *st = NULL;
    int rc = prep(s,
                  "INSERT INTO cd_authorization(" AUTH_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                  " ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                  &st, err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, a->id);
    s->ops->bind_text(st, 2, a->client_id);
    s->ops->bind_text(st, 3, a->subscription_id);
    s->ops->bind_text(st, 4, a->customer);
    s->ops->bind_text(st, 5, a->scope);
    s->ops->bind_text(st, 6, a->grant_type);
    s->ops->bind_i64(st, 7, a->status);
    bind_opt(s, st, 8, a->authorized_start);
    bind_opt(s, st, 9, a->authorized_duration);
    bind_opt(s, st, 10, a->published_start);
    bind_opt(s, st, 11, a->published_duration);
    s->ops->bind_i64(st, 12, a->created);
    s->ops->bind_i64(st, 13, a->updated);
    s->ops->bind_i64(st, 14, a->expires);
    rc = s->ops->step(st, err);
    if (rc > 0) rc = 0;
done:
    s->ops->finalize(st);
    return rc;
}

/* The subscription id of (client, customer), created when missing. */
static int subscription_of(store *s, const char *client_id, const char *customer, int64_t now,
                           char sid[CD_ID_MAX], eg_err *err)
{
    store_stmt *st = NULL;
    char fresh[40], t[24];
    int rc = cd_random_uuid(fresh, sizeof fresh, err);
    if (rc) return rc;
    snprintf(t, sizeof t, "%lld", (long long)now);
    const char *p[] = {fresh, client_id, customer, t};
    if ((rc = run_text(s,
                       "INSERT INTO cd_subscription(id, client_id, customer, created)"
                       " VALUES(?1, ?2, ?3, CAST(?4 AS BIGINT))"
                       " ON CONFLICT(client_id, customer) DO NOTHING",
                       p, 4, NULL, err)))
        return rc;
    if ((rc = prep(s, "SELECT id FROM cd_subscription WHERE client_id = ?1 AND customer = ?2",
                   &st, err)))
        goto done;
    s->ops->bind_text(st, 1, client_id);
    s->ops->bind_text(st, 2, customer);
    rc = s->ops->step(st, err);
    if (rc == 1) copy(sid, CD_ID_MAX, s->ops->col_text(st, 0)), rc = 0;
    else if (rc == 0) rc = eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "subscription vanished");
done:
    s->ops->finalize(st);
    return rc;
}

/* A new active authorization (random id) valid from now for ttl seconds. */
static int auth_new(cd_authorization *out, const char *client_id, const char *scope,
                    const char *grant_type, int64_t now, int64_t ttl, eg_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = cd_random_uuid(out->id, sizeof out->id, err);
    if (rc) return rc;
    copy(out->client_id, sizeof out->client_id, client_id);
    copy(out->scope, sizeof out->scope, scope);
    copy(out->grant_type, sizeof out->grant_type, grant_type);
    out->status = ESPI_AUTH_ACTIVE;
    out->authorized_start = now;
    out->authorized_duration = ttl;
    out->published_start = out->published_duration = ESPI_NONE;
    out->created = out->updated = now;
    out->expires = now + ttl;
    return 0;
}

int cd_authorization_create(store *s, const char *client_id, const char *customer,
                            const char *scope, int64_t now, int64_t ttl, int in_tx,
                            cd_authorization *out, eg_err *err)
{
    int rc = in_tx ? 0 : cd_begin(s, err);
    if (rc) return rc;
    if ((rc = auth_new(out, client_id, scope, "authorization_code", now, ttl, err))) goto done;
    if ((rc = subscription_of(s, client_id, customer, now, out->subscription_id, err))) goto done;
    copy(out->customer, sizeof out->customer, customer);
    rc = auth_insert(s, out, err);
done:
    return in_tx ? rc : finish_tx(s, rc, err);
}

int cd_authorization_client(store *s, const char *client_id, const char *scope, int64_t now,
                            int64_t ttl, int in_tx, cd_authorization *out, eg_err *err)
{
    store_stmt *st = NULL;
    int rc = in_tx ? 0 : cd_begin(s, err);
    if (rc) return rc;
    if ((rc = prep(s,
                   "SELECT " AUTH_COLS " FROM cd_authorization WHERE client_id = ?1 AND scope = ?2"
                   " AND grant_type = 'client_credentials' AND status = 1 AND expires > ?3"
                   " ORDER BY created DESC, id LIMIT 1",
                   &st, err)))
        goto done;
    s->ops->bind_text(st, 1, client_id);
    s->ops->bind_text(st, 2, scope);
    s->ops->bind_i64(st, 3, now);
    rc = s->ops->step(st, err);
    if (rc == 1) {
        auth_from_row(s, st, out);
        rc = 0;
        goto done;
    }
    if (rc) goto done;
    if ((rc = auth_new(out, client_id, scope, "client_credentials", now, ttl, err))) goto done;
    rc = auth_insert(s, out, err);
done:
    s->ops->finalize(st);
    return in_tx ? rc : finish_tx(s, rc, err);
}

int cd_authorization_get(store *s, const char *id, cd_authorization *out, eg_err *err)
{
    store_stmt *st = NULL;
    int rc = prep(s, "SELECT " AUTH_COLS " FROM cd_authorization WHERE id = ?1", &st, err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, id);
    rc = s->ops->step(st, err);
    if (rc == 1) auth_from_row(s, st, out), rc = 0;
    else if (rc == 0) rc = eg_errf(err, EG_ENOINPUT, NULL, 0, 0, "no authorization '%.80s'", id);
done:
    s->ops->finalize(st);
    return rc;
}

int cd_authorization_revoke(store *s, const char *id, int64_t now, int in_tx, eg_err *err)
{
    char t[24];
    int rc = in_tx ? 0 : cd_begin(s, err);
    if (rc) return rc;
    snprintf(t, sizeof t, "%lld", (long long)now);
    const char *p[] = {id, t};
    if ((rc = run_text(s, "UPDATE cd_token SET revoked = 1 WHERE authorization_id = ?1", p, 1, NULL,
                       err)))
        goto done;
    rc = run_text(s,
                  "UPDATE cd_authorization SET status = 0, updated = CAST(?2 AS BIGINT)"
                  " WHERE id = ?1 AND status <> 0",
                  p, 2, NULL, err);
done:
    return in_tx ? rc : finish_tx(s, rc, err);
}

static void auth_to_espi(const cd_authorization *a, const char *resource_base, espi_entry *e,
                         espi_authorization *out)
{
    char base[CD_BASE_MAX], root[CD_BASE_MAX];
    base_parts(resource_base, base, sizeof base, root, sizeof root);
    espi_entry_init(e);
    snprintf(e->id, sizeof e->id, "urn:uuid:%s", a->id);
    snprintf(e->title, sizeof e->title, "Authorization");
    e->published = a->created;
    e->updated = a->updated;
    copy(e->self.rel, sizeof e->self.rel, "self");
    snprintf(e->self.href, sizeof e->self.href, "%s/Authorization/%s", base, a->id);
    copy(e->up.rel, sizeof e->up.rel, "up");
    snprintf(e->up.href, sizeof e->up.href, "%s/Authorization", base);
    espi_authorization_init(out);
    out->authorized_period.start = a->authorized_start;
    out->authorized_period.duration = a->authorized_duration;
    out->published_period.start = a->published_start;
    out->published_period.duration = a->published_duration;
    out->status = a->status;
    out->expires_at = a->expires;
    copy(out->grant_type, sizeof out->grant_type, a->grant_type);
    copy(out->scope, sizeof out->scope, a->scope);
    copy(out->token_type, sizeof out->token_type, "Bearer");
    if (a->subscription_id[0])
        snprintf(out->resource_uri, sizeof out->resource_uri, "%s/Batch/Subscription/%s", base,
                 a->subscription_id);
    else
        snprintf(out->resource_uri, sizeof out->resource_uri, "%s/Batch/Bulk/%s", base,
                 a->client_id);
    snprintf(out->authorization_uri, sizeof out->authorization_uri, "%s/Authorization/%s", base,
             a->id);
}

int cd_authorization_espi(store *s, const char *resource_base, const char *client_id,
                          const char *id, espi_entry *e, espi_authorization *out, eg_err *err)
{
    cd_authorization a;
    int rc = cd_authorization_get(s, id, &a, err);
    if (rc) return rc;
    if (client_id && strcmp(client_id, a.client_id) != 0)
        return eg_errf(err, EG_ENOINPUT, NULL, 0, 0, "no authorization '%.80s'", id);
    auth_to_espi(&a, resource_base, e, out);
    return 0;
}

int cd_authorization_list(store *s, const char *resource_base, const char *client_id,
                          int (*cb)(void *ctx, const espi_entry *e, const espi_authorization *a),
                          void *ctx, eg_err *err)
{
    store_stmt *st = NULL;
    cd_authorization a;
    espi_entry *e = malloc(sizeof *e);
    espi_authorization *ea = malloc(sizeof *ea);
    int rc = e && ea ? prep(s,
                            "SELECT " AUTH_COLS " FROM cd_authorization WHERE client_id = ?1"
                            " ORDER BY created, id",
                            &st, err)
                     : eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc) s->ops->bind_text(st, 1, client_id);
    while (!rc && (rc = s->ops->step(st, err)) == 1) {
        auth_from_row(s, st, &a);
        auth_to_espi(&a, resource_base, e, ea);
        rc = cb(ctx, e, ea);
    }
    s->ops->finalize(st);
    free(e);
    free(ea);
    return rc;
}

static int subscriptions_where(store *s, const char *where, const char *key, cd_subscription_cb cb,
                               void *ctx, eg_err *err)
{
    char sql[700];
    store_stmt *st = NULL;
    snprintf(sql, sizeof sql,
             "SELECT sb.id, sb.client_id, sb.customer, (SELECT a.id FROM cd_authorization a"
             " WHERE a.subscription_id = sb.id AND a.status = 1 ORDER BY a.created DESC, a.id"
             " LIMIT 1) FROM cd_subscription sb WHERE %s AND EXISTS (SELECT 1 FROM"
             " cd_authorization a WHERE a.subscription_id = sb.id AND a.status = 1)"
             " ORDER BY sb.client_id, sb.customer",
             where);
    int rc = prep(s, sql, &st, err);
    if (!rc) s->ops->bind_text(st, 1, key);
    while (!rc && (rc = s->ops->step(st, err)) == 1)
        rc = cb(ctx, s->ops->col_text(st, 0), s->ops->col_text(st, 1), s->ops->col_text(st, 2),
                s->ops->col_text(st, 3));
    s->ops->finalize(st);
    return rc;
}

int cd_subscriptions_of_customer(store *s, const char *customer, cd_subscription_cb cb,
                                 void *ctx, eg_err *err)
{
    return subscriptions_where(s, "sb.customer = ?1", customer, cb, ctx, err);
}

int cd_subscriptions_of_client(store *s, const char *client_id, cd_subscription_cb cb, void *ctx,
                               eg_err *err)
{
    return subscriptions_where(s, "sb.client_id = ?1", client_id, cb, ctx, err);
}

/* ---- tokens -------------------------------------------------------------------- */

int cd_token_issue(store *s, int kind, const char *authorization_id, const char *client_id,
                   int64_t expires, const char *redirect_uri, const char *challenge,
                   char out[CD_SECRET_MAX], eg_err *err)
{
    char h[CD_HASH_HEX];
    store_stmt *st = NULL;
    int rc = cd_random_token(out, CD_SECRET_MAX, err);
    if (rc) return rc;
    cd_sha256_hex(out, h);
    if ((rc = prep(s,
                   "INSERT INTO cd_token(hash, kind, authorization_id, client_id, expires, revoked,"
                   " used, redirect_uri, challenge) VALUES(?1, ?2, ?3, ?4, ?5, 0, 0, ?6, ?7)",
                   &st, err)))
        goto done;
    s->ops->bind_text(st, 1, h);
    s->ops->bind_i64(st, 2, kind);
    s->ops->bind_text(st, 3, authorization_id);
    s->ops->bind_text(st, 4, client_id);
    s->ops->bind_i64(st, 5, expires);
    s->ops->bind_text(st, 6, redirect_uri ? redirect_uri : "");
    s->ops->bind_text(st, 7, challenge ? challenge : "");
    rc = s->ops->step(st, err);
    if (rc > 0) rc = 0;
done:
    s->ops->finalize(st);
    if (rc) OPENSSL_cleanse(out, CD_SECRET_MAX);
    return rc;
}

int cd_token_find(store *s, const char *plain, cd_token *out, eg_err *err)
{
    char h[CD_HASH_HEX];
    store_stmt *st = NULL;
    cd_sha256_hex(plain, h);
    int rc = prep(s,
                  "SELECT hash, kind, authorization_id, client_id, expires, revoked, used,"
                  " redirect_uri, challenge FROM cd_token WHERE hash = ?1",
                  &st, err);
    if (rc) goto done;
    s->ops->bind_text(st, 1, h);
    rc = s->ops->step(st, err);
    if (rc == 1) {
        memset(out, 0, sizeof *out);
        copy(out->hash, sizeof out->hash, s->ops->col_text(st, 0));
        out->kind = (int)s->ops->col_i64(st, 1);
        copy(out->authorization_id, sizeof out->authorization_id, s->ops->col_text(st, 2));
        copy(out->client_id, sizeof out->client_id, s->ops->col_text(st, 3));
        out->expires = s->ops->col_i64(st, 4);
        out->revoked = (int)s->ops->col_i64(st, 5);
        out->used = (int)s->ops->col_i64(st, 6);
        copy(out->redirect_uri, sizeof out->redirect_uri, s->ops->col_text(st, 7));
        copy(out->challenge, sizeof out->challenge, s->ops->col_text(st, 8));
        rc = 0;
    } else if (rc == 0) {
        rc = eg_errf(err, EG_ENOINPUT, NULL, 0, 0, "unknown token");
    }
done:
    s->ops->finalize(st);
    return rc;
}

int cd_token_use_code(store *s, const char *hash, eg_err *err)
{
    int changed = 0;
    const char *p[] = {hash};
    int rc = run_text(s, "UPDATE cd_token SET used = 1 WHERE hash = ?1 AND used = 0 RETURNING hash",
                      p, 1, &changed, err);
    if (!rc && !changed) rc = eg_errf(err, EG_EINVALID, NULL, 0, 0, "code already used");
    return rc;
}

int cd_token_revoke(store *s, const char *hash, eg_err *err)
{
    int changed = 0;
    const char *p[] = {hash};
    int rc = run_text(s,
                      "UPDATE cd_token SET revoked = 1 WHERE hash = ?1 AND revoked = 0 RETURNING hash",
                      p, 1, &changed, err);
    if (!rc && !changed) rc = eg_errf(err, EG_EINVALID, NULL, 0, 0, "token already revoked");
    return rc;
}

int cd_token_prune(store *s, int64_t before, long *deleted, eg_err *err)
{
    store_stmt *st = NULL;
    long n = 0;
    int rc = prep(s, "DELETE FROM cd_token WHERE expires < CAST(?1 AS BIGINT) RETURNING hash", &st,
                  err);
    if (!rc) {
        s->ops->bind_i64(st, 1, before);
        while ((rc = s->ops->step(st, err)) == 1) n++;
        if (rc > 0) rc = 0;
    }
    s->ops->finalize(st);
    if (deleted) *deleted = rc ? 0 : n;
    return rc;
}
