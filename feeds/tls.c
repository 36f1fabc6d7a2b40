/* tls.c -- the server's TLS policy (see tls.h).
 *
 * Every setting below is a deliberate choice, explained where it is made.
 * The policy is fixed in code, not configurable: an operator supplies
 * certificate and key files, never cipher strings, so a deployment cannot
 * weaken it by accident.  Certificates for development come from
 * certs/make-dev-certs.sh; production uses the operator's own files. */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

/* The last OpenSSL error as text ("" when none), and clear the queue. */
static const char *ossl_reason(char *buf, size_t size)
{
    unsigned long e = ERR_peek_last_error();
    buf[0] = '\0';
    if (e) ERR_error_string_n(e, buf, size);
    ERR_clear_error();
    return buf;
}

/* A clear message for a file that is missing or unreadable before OpenSSL
 * gives its terser one. */
static int check_readable(const char *path, const char *what, eg_err *err)
{
    if (!path || !*path)
        return eg_errf(err, EG_ECONFIG, NULL, 0, 0,
                       "no TLS %s file given (HTTPS only: pass a PEM file, e.g. "
                       "certs/dev/server.%s made by certs/make-dev-certs.sh)",
                       what, strcmp(what, "key") == 0 ? "key" : "pem");
    FILE *f = fopen(path, "rb");
    if (!f)
        return eg_errf(err, EG_ECONFIG, path, 0, 0, "cannot read TLS %s file: %s", what,
                       strerror(errno));
    fclose(f);
    return 0;
}

SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, eg_err *err)
{
    char why[256];
    SSL_CTX *ctx = NULL;
    int rc = 0;

    if ((rc = check_readable(cert_file, "certificate", err))) goto done;
    if ((rc = check_readable(key_file, "key", err))) goto done;

    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "cannot create the TLS context: %s",
                     ossl_reason(why, sizeof why));
        goto done;
    }

    /* TLS 1.2 is the floor: GBA's implementation notes require HTTPS with
     * TLS 1.2 minimum; 1.0 and 1.1 have no AEAD suites and are deprecated
     * (RFC 8996).  No maximum: TLS 1.3 is offered and preferred. */
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        rc = eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "cannot set TLS 1.2 minimum: %s",
                     ossl_reason(why, sizeof why));
        goto done;
    }

    /* TLS 1.2 suites: ephemeral ECDHE key exchange only (forward secrecy;
     * no static RSA, no DHE with weak groups) and AEAD ciphers only (GCM,
     * ChaCha20-Poly1305; no CBC, so no Lucky13/POODLE-style padding
     * oracles).  The AES-GCM ECDHE suites are the ones the ESPI notes cite
     * for Green Button; ChaCha20 serves clients without AES hardware. */
    if (SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_TLS12) != 1) {
        rc = eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "cannot set the TLS 1.2 cipher list: %s",
                     ossl_reason(why, sizeof why));
        goto done;
    }
    /* TLS 1.3 suites are left at OpenSSL's defaults (AES-256-GCM,
     * ChaCha20-Poly1305, AES-128-GCM): all AEAD, all forward secret. */

    /* Key-exchange groups: X25519 first, then the NIST curves clients with
     * FIPS constraints need. */
    if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
        rc = eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "cannot set TLS groups: %s",
                     ossl_reason(why, sizeof why));
        goto done;
    }

    /* NO_COMPRESSION: TLS compression leaks secrets (CRIME).
     * NO_RENEGOTIATION: client-initiated renegotiation is a CPU DoS lever
     * and has had its own bugs; TLS 1.3 has none anyway.
     * CIPHER_SERVER_PREFERENCE: our order above wins over the client's.
     * NO_TICKET: session-ticket keys would live for the whole process and
     * undo forward secrecy; resumption uses the server-side cache instead. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);

    /* Partial writes and a moving write buffer are what a non-blocking
     * bufferevent needs (libevent's bufferevent_openssl relies on them). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);

    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        rc = eg_errf(err, EG_ECONFIG, cert_file, 0, 0,
                     "not a PEM certificate chain (%s); expected the server certificate "
                     "followed by any intermediates, e.g. certs/dev/server.pem",
                     ossl_reason(why, sizeof why));
        goto done;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            rc = eg_errf(err, EG_ECONFIG, key_file, 0, 0,
                         "private key does not match the certificate in %s (%s); give the "
                         "key that was made with that certificate",
                         cert_file, ossl_reason(why, sizeof why));
            goto done;
        }
        rc = eg_errf(err, EG_ECONFIG, key_file, 0, 0,
                     "not a usable PEM private key (%s); expected an unencrypted key, "
                     "e.g. certs/dev/server.key",
                     ossl_reason(why, sizeof why));
        goto done;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        rc = eg_errf(err, EG_ECONFIG, key_file, 0, 0,
                     "private key does not match the certificate in %s (%s); give the key "
                     "that was made with that certificate",
                     cert_file, ossl_reason(why, sizeof why));
        goto done;
    }
done:
    if (rc) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}
