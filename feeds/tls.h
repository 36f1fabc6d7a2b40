/* tls.h -- the server's TLS policy, in one place.
 *
 * Green Button Connect My Data requires HTTPS for every ESPI and OAuth
 * exchange (shared/espi/NOTES.md section 4).  tls_server_ctx_new() builds
 * the OpenSSL 3 SSL_CTX that every server connection uses: TLS 1.2 minimum,
 * ECDHE + AEAD suites only for TLS 1.2 (the ones GBA material cites first),
 * OpenSSL's TLS 1.3 defaults, no compression, no renegotiation.  tls.c
 * explains each choice next to the call that makes it. */
#ifndef FEEDS_TLS_H
#define FEEDS_TLS_H

#include <openssl/ssl.h>

#include "err.h"

/* The TLS 1.2 cipher list (OpenSSL names), strongest-first within the
 * suites the ESPI notes list; exported for tests and docs. */
#define TLS_CIPHERS_TLS12                                                       \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* A server SSL_CTX for the PEM certificate chain cert_file (leaf first,
 * then intermediates) and the PEM private key key_file.  Returns NULL and
 * fills err (EG_ECONFIG) when a file cannot be read, is not PEM, or the
 * key does not belong to the certificate.  Caller frees with SSL_CTX_free(). */
SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, eg_err *err);

#endif
