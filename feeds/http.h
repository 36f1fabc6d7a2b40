/* http.h -- what a request handler sees of the HTTP server.
 *
 * The server core (server.c: libevent evhttp over bufferevent_openssl)
 * parses requests, enforces limits (header and body size, time, connection
 * caps) and owns connections.  Handlers -- the ESPI resources (espi_api.c),
 * the OAuth authorization server (oauth*.c) -- see only this interface:
 * an immutable request and a response they fill.  That keeps OAuth and
 * the resource code testable without a socket (tests build http_req
 * values with http_test.h) and lets the core change without touching them.
 *
 * Small responses are buffered: set status and headers, write the body,
 * return.  Large ones (Batch/Subscription, Bulk) stream: the handler
 * returns a producer that the core calls whenever the connection can take
 * more, so a multi-GB feed never sits in memory and a slow client slows
 * only its own producer. */
#ifndef FEEDS_HTTP_H
#define FEEDS_HTTP_H

#include <stddef.h>

struct eg_err;

typedef struct http_req http_req;
typedef struct http_resp http_resp;

/* ---- request (borrowed, valid during the handler call) ---------------- */

const char *http_req_method(const http_req *r);          /* "GET", "POST", ... */
/* Path without the query, percent-decoded, e.g.
 * "/DataCustodian/espi/1_1/resource/Batch/Subscription/5". */
const char *http_req_path(const http_req *r);
/* A query parameter, percent-decoded; NULL when absent.  A parameter given
 * twice is a 400 from the core before the handler runs. */
const char *http_req_query(const http_req *r, const char *name);
/* A request header (case-insensitive name); NULL when absent. */
const char *http_req_header(const http_req *r, const char *name);
/* The body (bounded by the server's body limit; "" and 0 when none). */
const char *http_req_body(const http_req *r, size_t *len);
/* A field of an application/x-www-form-urlencoded body, decoded; NULL when
 * absent or the body is not a form. */
const char *http_req_form(const http_req *r, const char *name);
/* Peer address as text, for logs and rate limits. */
const char *http_req_remote(const http_req *r);
/* "https://host:port" as configured (--base-url), for absolute links. */
const char *http_req_origin(const http_req *r);

/* ---- response --------------------------------------------------------- */

void http_resp_status(http_resp *rs, int code);           /* default 200 */
/* Add a header; Content-Type defaults to text/plain.  Names and values
 * must not contain CR or LF (checked: such a header is dropped and the
 * response becomes a 500). */
void http_resp_header(http_resp *rs, const char *name, const char *value);
/* Append to a buffered body.  Returns 0, or -1 when the buffered-body
 * limit (1 MiB) is exceeded: use a stream for big bodies. */
int http_resp_write(http_resp *rs, const char *buf, size_t len);
int http_resp_printf(http_resp *rs, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Append a malloc'd buffer p of len bytes to the body and take it (freed
 * here in every case).  p must have room for len + 1 bytes.  When the body
 * is empty p becomes the body without a copy: how a producer hands over a
 * chunk it filled elsewhere.  0, or -1 as http_resp_write. */
int http_resp_give(http_resp *rs, char *p, size_t len);

/* Streaming: after setting status and headers, hand the core a producer.
 * The core calls produce(ctx, rs) whenever the client has drained what was
 * sent; the producer writes a bounded amount with http_resp_write (e.g. a
 * few entries, <= 64 KiB) and returns 1 for "more to come", 0 for "done",
 * or -1 on error (the connection is closed: a chunked response cannot
 * change its status once started).  done(ctx) is called exactly once at
 * the end, on success, error or client disconnect, to free ctx. */
typedef int (*http_produce_fn)(void *ctx, http_resp *rs);
void http_resp_stream(http_resp *rs, http_produce_fn produce, void (*done)(void *ctx), void *ctx);

/* A whole body already built in memory: takes p (malloc'd; freed here in
 * every case).  Buffered when it fits the buffered-body limit, else sent
 * as a stream from p, so a document of any size goes out.  0, or -1 when
 * out of memory (the caller answers 500). */
int http_resp_take_buffer(http_resp *rs, char *p, size_t len);

/* A producer may also return HTTP_PRODUCE_WAIT: nothing to send yet (its
 * data comes from another thread).  The core then stops calling it until
 * someone calls http_resp_wake(rs), which is safe from any thread. */
#define HTTP_PRODUCE_WAIT 2
void http_resp_wake(http_resp *rs);

/* A handler: returns 1 when it handled the request (response filled), 0
 * when the path is not its own (the core tries the next handler, then
 * answers 404). */
typedef int (*http_handler_fn)(void *ctx, const http_req *r, http_resp *rs);

/* ---- for the core and for tests (http.c) --------------------------------
 *
 * http.c holds requests and responses as plain data, so handlers run the
 * same under the server (server.c fills an http_req from libevent and sends
 * what the http_resp holds) and under unit tests (which build requests by
 * hand and read responses back) -- no socket needed. */

/* A request for METHOD and TARGET ("/path?query", as on the request line).
 * The path is percent-decoded; a NUL byte, a bad escape, a path not
 * starting with '/' or a query parameter given twice is EG_EDATA (the core
 * answers 400).  Caller frees with http_req_free(). */
int http_req_new(const char *method, const char *target, http_req **out, struct eg_err *err);
void http_req_free(http_req *r);
/* Add a header (copied).  At most HTTP_MAX_HEADERS; -1 beyond. */
#define HTTP_MAX_HEADERS 100
int http_req_add_header(http_req *r, const char *name, const char *value);
/* Set the body (copied); form fields are parsed from it when the request's
 * Content-Type is application/x-www-form-urlencoded. */
int http_req_set_body(http_req *r, const char *body, size_t len);
void http_req_set_remote(http_req *r, const char *remote);
void http_req_set_origin(http_req *r, const char *origin);

/* Caller frees with http_resp_free() (which calls a stream's done()). */
http_resp *http_resp_new(void);
void http_resp_free(http_resp *rs);
int http_resp_get_status(const http_resp *rs);
/* 1 when a header was refused (CR/LF): the core sends a 500 instead. */
int http_resp_broken(const http_resp *rs);
size_t http_resp_header_count(const http_resp *rs);
void http_resp_header_at(const http_resp *rs, size_t i, const char **name, const char **value);
/* Last value of a header set by the handler (case-insensitive); NULL if none. */
const char *http_resp_get_header(const http_resp *rs, const char *name);
/* The buffered body so far; http_resp_take_body() hands it to the caller
 * (free() it) and leaves the buffer empty, which is how the core drains a
 * stream chunk by chunk. */
const char *http_resp_body(const http_resp *rs, size_t *len);
char *http_resp_take_body(http_resp *rs, size_t *len);
/* Streaming: 1 when the handler set a producer. */
int http_resp_is_stream(const http_resp *rs);
/* Call the producer once (1 more, 0 done, -1 error, HTTP_PRODUCE_WAIT). */
int http_resp_produce(http_resp *rs);
/* Who is told by http_resp_wake() (the core: an event made active). */
void http_resp_set_waker(http_resp *rs, void (*wake)(void *ctx), void *ctx);

#endif
