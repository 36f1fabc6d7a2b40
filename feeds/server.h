/* server.h -- the HTTPS server core: connections, limits, TLS, logging.
 *
 * One event loop (libevent 2.1 evhttp) serves every connection over
 * bufferevent_openssl; no plain-text connection can exist.  Each request is
 * copied into an http_req (http.h) and handed to the registered handlers in
 * order; the first that answers 1 has filled the http_resp, which the core
 * sends with Content-Length (buffered) or chunked (a stream whose producer
 * is called as the client drains, and may wait for another thread).
 *
 * The core, not libevent, enforces the limits that keep one client from
 * hurting the others: a whole request (TLS handshake, head and body) must
 * arrive within header_timeout_s of its first byte; an idle keep-alive
 * connection is closed after idle_timeout_s; a response that makes no
 * progress for write_timeout_s is cut; at most max_connections are open
 * (more are closed at once); heads and bodies are size-bounded.
 *
 * Threads: everything runs on the thread that calls server_run(), except
 * server_stop() and http_resp_wake(), which any thread may call. */
#ifndef FEEDS_SERVER_H
#define FEEDS_SERVER_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "http.h"

typedef struct server server;

typedef struct server_opts {
    const char *listen;       /* "127.0.0.1:8443", "[::1]:8443"; port 0 = ephemeral */
    const char *cert_file;    /* PEM chain; required (HTTPS only) */
    const char *key_file;     /* PEM key; required */
    const char *origin;       /* "https://localhost:8443", for http_req_origin() */
    size_t max_header_bytes;  /* request line + headers, default 16 KiB (-> 400, close) */
    size_t max_body_bytes;    /* default 64 KiB (-> 413, close) */
    int header_timeout_s;     /* a whole request must arrive within this, default 10 */
    int idle_timeout_s;       /* keep-alive idle, default 30 */
    int write_timeout_s;      /* a response without progress is cut, default 60 */
    int max_connections;      /* default 1024; beyond it new connections are closed */
    int shutdown_grace_s;     /* in-flight requests may finish this long, default 5 */
    int handle_signals;       /* 1 (default): SIGINT/SIGTERM stop server_run */
    FILE *access_log;         /* JSON lines, NULL = none (borrowed) */
    int listen_fd;            /* > 0: accept on this listening socket (made by
                                 server_listen_socket, shared by pre-forked
                                 workers) instead of binding `listen` */
} server_opts;

/* Defaults as documented above; listen "127.0.0.1:8443", origin
 * "https://localhost:8443", no certificate (the caller must set one). */
void server_opts_init(server_opts *o);

/* Bind the listening socket and load the TLS certificate.  Returns NULL and
 * fills err when the address cannot be parsed or bound (EG_ECONFIG), or the
 * certificate/key cannot be used (EG_ECONFIG, see tls.h).  Strings in o are
 * copied.  Ignores SIGPIPE for the process (a peer that vanishes must not
 * kill the server).  Caller frees with server_free(). */
server *server_new(const server_opts *o, eg_err *err);

/* Add a handler (http.h): handlers are tried in the order added; when none
 * answers the core sends 404.  ctx is borrowed.  Call before server_run().
 * Returns 0 or -1 (out of memory). */
int server_add_handler(server *sv, http_handler_fn fn, void *ctx);

/* Call fn(ctx) every `seconds` on the loop thread while server_run runs
 * (e.g. notification delivery, expiry sweeps).  Returns 0 or -1. */
int server_add_timer(server *sv, double seconds, void (*fn)(void *ctx), void *ctx);

/* A listening TCP socket for listen_addr (non-blocking, close-on-exec),
 * for several worker processes to share (server_opts.listen_fd); -1 with
 * err filled when it cannot be made. */
int server_listen_socket(const char *listen_addr, eg_err *err);

/* The bound TCP port (useful with port 0). */
int server_port(const server *sv);

/* Serve until server_stop() or (when handle_signals) SIGINT/SIGTERM: then
 * stop accepting, let requests in flight finish for up to
 * shutdown_grace_s, and return 0.  Returns a negative EG_E* code when the
 * loop fails.  Call once, from one thread. */
int server_run(server *sv, eg_err *err);

/* Ask server_run to stop gracefully.  Safe from any thread, any time after
 * server_new and before server_free, also before server_run starts. */
void server_stop(server *sv);

/* Close every connection (streams are ended: their done() is called) and
 * free.  Not while server_run runs.  NULL is fine. */
void server_free(server *sv);

#endif
