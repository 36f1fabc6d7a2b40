/* server.c -- the HTTPS server core (see server.h).
 *
 * Shape.  libevent's evhttp parses HTTP/1.1 and keeps connections alive;
 * evhttp_set_bevcb() makes every accepted socket a bufferevent_openssl, so
 * the TLS layer sits under evhttp and no plain-text bufferevent is ever
 * created (if that allocation fails we abort rather than let libevent fall
 * back to a plain socket: fail closed).
 *
 * Per-connection state (struct conn) is attached to the connection's SSL
 * object as ex_data; OpenSSL frees it when libevent frees the bufferevent,
 * whatever the path (normal close, error, refused, server_free).  That one
 * hook counts connections and owns the connection's timer.
 *
 * The timer enforces what evhttp 2.1 cannot: a per-connection state machine
 *   READING   a request is arriving: deadline header_timeout_s from its
 *             first byte (from accept for the first request, so the TLS
 *             handshake counts) -- a slowloris trickling bytes is cut;
 *   HANDLING  a response is being produced/sent: cut when nothing moved in
 *             the output buffer for write_timeout_s;
 *   IDLE      keep-alive between requests: cut after idle_timeout_s.
 * Bytes arriving in IDLE switch to READING (an evbuffer callback on the
 * decrypted input).  "Cut" means SO_LINGER 0 + shutdown(): evhttp sees EOF
 * on its next read, fails the connection and frees it through its normal
 * path, so there is exactly one way a connection dies.
 *
 * Streams.  A streamed response is a struct stream: the evhttp request, the
 * http_resp with its producer, and an event that http_resp_wake() makes
 * active from any thread (evthread_use_pthreads).  The loop calls the
 * producer while less than STREAM_HIGH bytes are queued, and again when the
 * output drains below STREAM_LOW (a bufferevent write watermark) or when
 * woken.  The stream is freed -- and the producer's done() called exactly
 * once -- when it ends, or when the connection closes under it (evhttp's
 * close callback).  done() must make sure no thread calls http_resp_wake()
 * after it returns (join the worker), because the response goes with it.
 *
 * Ending a stream is the delicate part.  evhttp_send_reply_end() queues the
 * last chunk and makes evhttp_send_done() the connection's write callback;
 * evhttp_send_done() declares the response written and disables EV_WRITE
 * (evhttp_start_read_) -- whatever is still in the output buffer then stays
 * there until a timer cuts the connection.  bufferevent_openssl runs its
 * write callback DEFERRED (do_write schedules it whenever the output fell to
 * the low watermark) and does not look at the buffer again when it finally
 * runs.  So if the producer finishes from the wake event while such a
 * callback is pending (scheduled when the buffer dipped below STREAM_LOW,
 * before the wake added more), evhttp_send_done runs with bytes unsent: the
 * client gets a truncated body although the access log says complete.
 * Hence the rules:
 *   - evhttp_send_reply_end() is called only from inside the write callback
 *     (stream_drained: no other write callback can be pending there) and
 *     only when the output buffer is empty; when the producer says done
 *     elsewhere, the stream drops the low watermark to 0 and waits for that
 *     callback (or triggers it, deferred, when the buffer is already empty);
 *   - the status line is sent with the first chunk (evhttp_send_reply_start
 *     is deferred), so once anything is on the wire the write callback is
 *     ours; a stream that ends before its first byte gets status line and
 *     last chunk at once (nothing of it was written: no callback is stale).
 *
 * Limits left to evhttp: head size (400, close), body size (413, close),
 * malformed request lines (400).  Those answers come from libevent and are
 * not in the access log. */
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

#include "tls.h"

#define STREAM_HIGH (256u * 1024) /* queue at most this much of a stream */
#define STREAM_LOW (64u * 1024)  /* ask the producer again below this */
#define PUMP_MAX_CALLS 32        /* producer calls per turn, then yield */
#define ONE_RECORD (16u * 1024)  /* TLS record payload: answers up to this go out whole */
#define ACCEPT_PAUSE_US 1000     /* workers: listener pause after an accept */

typedef struct handler_ent {
    http_handler_fn fn;
    void *ctx;
} handler_ent;

typedef struct timer_ent {
    struct event *ev;
    struct timeval every;
    void (*fn)(void *ctx);
    void *ctx;
} timer_ent;

typedef enum conn_state { CONN_READING, CONN_HANDLING, CONN_IDLE } conn_state;

typedef struct stream stream;

typedef struct conn {
    server *sv;
    struct bufferevent *bev;
    struct event *timer;
    struct evbuffer_cb_entry *in_cb, *out_cb;
    conn_state state;
    int refused, cut;
    int nodelay;                 /* TCP_NODELAY set on the socket */
    struct timeval last_progress; /* output moved (HANDLING) */
    stream *stream;
    /* the request being answered, for the access log */
    char method[16], path[512], ua[256], remote[64];
    int status, logged;
    uint64_t bytes;
    struct timespec t0;
} conn;

struct stream {
    conn *c;
    struct evhttp_request *req; /* NULL once ended or freed */
    http_resp *rs;
    struct event *ev;           /* made active by http_resp_wake() */
    int waiting;                /* producer said HTTP_PRODUCE_WAIT */
    int started;                /* status line sent (with the first chunk) */
    int eof;                    /* producer said done: end once drained */
    int busy;                   /* inside stream_pump */
    int closed;                 /* free when no longer busy */
};

struct server {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    SSL_CTX *ssl;
    server_opts o;
    char *listen, *origin;
    handler_ent *handlers;
    size_t nhandlers;
    timer_ent **timers;
    size_t ntimers;
    struct event *stop_ev, *grace_ev, *sigint_ev, *sigterm_ev;
    struct event *resume_ev;     /* workers: accept again (see accept_one) */
    int port;
    int nconn;    /* open accepted connections */
    int busy;     /* connections in CONN_HANDLING */
    int stopping;
    struct timeval stop_at;
    char date[64];   /* the Date header, for date_sec */
    time_t date_sec;
};

/* ---- process-wide setup, done once ------------------------------------- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_conn_idx = -1; /* SSL ex_data index of struct conn; set once */
static int g_once_ok;

static void conn_free(conn *c);

static void conn_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (ptr) conn_free(ptr);
}

static void once_init(void)
{
    g_conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_ex_free);
    g_once_ok = g_conn_idx >= 0 && evthread_use_pthreads() == 0;
}

/* Allocation failure where libevent would otherwise fall back to plain
 * text: stop the process rather than serve without TLS. */
static void die_closed(const char *what)
{
    fprintf(stderr, "espigate: out of memory creating %s; stopping (fail closed)\n", what);
    abort();
}

/* ---- small helpers ------------------------------------------------------ */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* "Tue, 15 Nov 1994 08:12:31 GMT" (RFC 9110 IMF-fixdate), locale-free;
 * formatted once a second into sv->date (the loop's cached clock). */
static const char *http_date(server *sv)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct timeval tv;
    if (event_base_gettimeofday_cached(sv->base, &tv) != 0) tv.tv_sec = time(NULL);
    if (!sv->date[0] || tv.tv_sec != sv->date_sec) {
        time_t now = tv.tv_sec;
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(sv->date, sizeof sv->date, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                 tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        sv->date_sec = tv.tv_sec;
    }
    return sv->date;
}

/* Append s to out as a JSON string body (no quotes), bounded. */
static void json_escape(char *out, size_t size, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < size; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
}

/* ---- access log --------------------------------------------------------- */

/* One JSON line for the request in c.  Never the query string (it may hold
 * codes or tokens), never Authorization or bodies. */
static void log_request(conn *c, int aborted)
{
    FILE *f = c->sv->o.access_log;
    if (!f || c->logged) return;
    c->logged = 1;
    char when[96], remote[140], method[40], path[1100], ua[540];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
    json_escape(remote, sizeof remote, c->remote);
    json_escape(method, sizeof method, c->method);
    json_escape(path, sizeof path, c->path);
    json_escape(ua, sizeof ua, c->ua);
    fprintf(f,
            "{\"time\":\"%s\",\"remote\":\"%s\",\"method\":\"%s\",\"path\":\"%s\","
            "\"status\":%d,\"bytes\":%llu,\"duration_ms\":%.3f,\"user_agent\":\"%s\"%s}\n",
            when, remote, method, path, c->status, (unsigned long long)c->bytes, ms_since(&c->t0),
            ua, aborted ? ",\"aborted\":true" : "");
    fflush(f);
}

/* ---- connection state and timer ----------------------------------------- */

static void arm(conn *c, int seconds)
{
    struct timeval tv = {seconds > 0 ? seconds : 0, 0};
    evtimer_add(c->timer, &tv);
}

static void conn_set_state(conn *c, conn_state s)
{
    server *sv = c->sv;
    if (c->state == CONN_HANDLING && s != CONN_HANDLING) sv->busy--;
    if (c->state != CONN_HANDLING && s == CONN_HANDLING) sv->busy++;
    c->state = s;
    switch (s) {
    case CONN_READING: arm(c, sv->o.header_timeout_s); break;
    case CONN_HANDLING:
        event_base_gettimeofday_cached(sv->base, &c->last_progress);
        arm(c, sv->o.write_timeout_s);
        break;
    case CONN_IDLE: arm(c, sv->o.idle_timeout_s); break;
    }
}

/* Close the connection under evhttp: RST instead of a lingering close,
 * then shutdown() so evhttp's next read sees EOF and frees the connection
 * through its own path (close callback, request freed, bufferevent freed). */
static void conn_cut(conn *c)
{
    int fd = c->bev ? (int)bufferevent_getfd(c->bev) : -1;
    if (fd >= 0) {
        struct linger l = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        shutdown(fd, SHUT_RDWR);
    }
    c->cut = 1;
    if (c->bev) bufferevent_enable(c->bev, EV_READ);
    arm(c, 1); /* should evhttp not notice, cut again */
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;
    (void)fd, (void)what;
    if (c->refused || c->cut || c->state != CONN_HANDLING) {
        conn_cut(c);
        return;
    }
    struct timeval now;
    event_base_gettimeofday_cached(c->sv->base, &now);
    long idle = (long)(now.tv_sec - c->last_progress.tv_sec);
    if (idle >= c->sv->o.write_timeout_s) conn_cut(c);
    else arm(c, c->sv->o.write_timeout_s - (int)idle);
}

/* Decrypted request bytes: the first byte after an idle period starts the
 * next request's deadline. */
static void conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    conn *c = arg;
    (void)buf;
    if (info->n_added && c->state == CONN_IDLE && !c->cut) conn_set_state(c, CONN_READING);
}

/* Any movement in the output buffer is progress for the write timeout. */
static void conn_output_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    conn *c = arg;
    (void)buf;
    if (info->n_added || info->n_deleted)
        event_base_gettimeofday_cached(c->sv->base, &c->last_progress);
}

/* Pre-forked workers share one listening socket, and libevent accepts in
 * a loop until the backlog is empty: a burst of new connections (a client
 * opening eight at once) would all land on the first worker to wake while
 * the others idle -- measured: 8 of 8 on one of two workers, every time.
 * A worker therefore pauses its listener for ACCEPT_PAUSE_US after each
 * accept, long enough for the other workers woken by the same burst to take
 * theirs (a TLS handshake costs about that much CPU anyway, so the pause
 * does not lower the rate a worker can set up connections at).  Keep-alive
 * requests are not affected. */
static void accept_one(server *sv)
{
    if (sv->o.listen_fd <= 0 || !sv->bound || !sv->resume_ev) return;
    struct evconnlistener *l = evhttp_bound_socket_get_listener(sv->bound);
    struct timeval pause = {0, ACCEPT_PAUSE_US};
    if (l && evconnlistener_disable(l) == 0) evtimer_add(sv->resume_ev, &pause);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    server *sv = arg;
    (void)fd, (void)what;
    if (sv->bound && !sv->stopping) {
        struct evconnlistener *l = evhttp_bound_socket_get_listener(sv->bound);
        if (l) evconnlistener_enable(l);
    }
}

/* evhttp's bufferevent factory: every connection is TLS. */
static struct bufferevent *conn_new_bev(struct event_base *base, void *arg)
{
    server *sv = arg;
    conn *c = calloc(1, sizeof *c);
    SSL *ssl = SSL_new(sv->ssl);
    if (!c || !ssl) die_closed("a TLS connection");
    c->sv = sv;
    c->state = CONN_READING;
    c->timer = evtimer_new(base, conn_timer_cb, c);
    if (!c->timer || SSL_set_ex_data(ssl, g_conn_idx, c) != 1) die_closed("a TLS connection");
    /* from here SSL_free(ssl) frees c */
    struct bufferevent *bev =
        bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) die_closed("a TLS bufferevent");
    c->bev = bev;
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), conn_input_cb, c);
    c->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), conn_output_cb, c);
    if (sv->nconn >= sv->o.max_connections || sv->stopping) {
        c->refused = 1; /* closed as soon as libevent has given it its socket */
        arm(c, 0);
    } else {
        sv->nconn++;
        conn_set_state(c, CONN_READING);
    }
    accept_one(sv);
    return bev;
}

static void stream_release(stream *st);

/* Called by OpenSSL when the connection's SSL object is freed (ex_data). */
static void conn_free(conn *c)
{
    server *sv = c->sv;
    if (c->stream) { /* closecb normally took it; be safe */
        stream *st = c->stream;
        c->stream = NULL;
        st->req = NULL;
        st->closed = 1;
        if (!st->busy) stream_release(st);
    }
    if (c->state == CONN_HANDLING) sv->busy--;
    if (!c->refused) sv->nconn--;
    if (c->bev) {
        if (c->in_cb) evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
        if (c->out_cb) evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
    }
    if (c->timer) event_free(c->timer);
    free(c);
}

static conn *conn_of(struct evhttp_connection *evcon)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
    return ssl ? SSL_get_ex_data(ssl, g_conn_idx) : NULL;
}

/* ---- streams ------------------------------------------------------------ */

static void stream_release(stream *st)
{
    http_resp_free(st->rs); /* calls the producer's done() */
    if (st->ev) event_free(st->ev);
    free(st);
}

static void free_ref(const void *data, size_t len, void *extra)
{
    (void)len, (void)extra;
    free((void *)data);
}

static void stream_pump(stream *st, int in_writecb);

/* The connection's write callback while a stream is sending (deferred by
 * bufferevent_openssl, possibly stale: the buffer may have grown since). */
static void stream_drained(struct evhttp_connection *evcon, void *arg)
{
    stream *st = arg;
    (void)evcon;
    if (!st->waiting || st->eof) stream_pump(st, 1);
}

static void stream_event_cb(evutil_socket_t fd, short what, void *arg)
{
    stream *st = arg;
    (void)fd, (void)what;
    st->waiting = 0;
    stream_pump(st, 0);
}

/* http_resp_wake() lands here, from any thread. */
static void stream_wake(void *arg)
{
    stream *st = arg;
    event_active(st->ev, EV_READ, 0);
}

/* Producer said done and everything before is written (see "Ending a
 * stream" above for when this may be called): finish the chunked reply;
 * evhttp logs it through on_complete once the last chunk is written. */
static void stream_finish(stream *st)
{
    conn *c = st->c;
    struct evhttp_request *req = st->req;
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    st->req = NULL;
    c->stream = NULL;
    st->closed = 1;
    if (!st->started) evhttp_send_reply_start(req, c->status, NULL); /* empty body */
    evhttp_send_reply_end(req);
}

/* Send what the producer wrote; 0, or -1 when it could not be queued. */
static int stream_send(stream *st, char *body, size_t n)
{
    if (!n) {
        free(body);
        return 0;
    }
    struct evbuffer *chunk = evbuffer_new();
    if (!chunk || evbuffer_add_reference(chunk, body, n, free_ref, NULL)) {
        free(body);
        if (chunk) evbuffer_free(chunk);
        return -1;
    }
    if (!st->started) { /* status line and headers go with the first chunk */
        evhttp_send_reply_start(st->req, st->c->status, NULL);
        st->started = 1;
    }
    evhttp_send_reply_chunk_with_cb(st->req, chunk, stream_drained, st);
    evbuffer_free(chunk);
    st->c->bytes += n;
    return 0;
}

/* Call the producer while the output holds less than STREAM_HIGH; end the
 * stream once it said done and the output is empty.  in_writecb: called
 * from the write callback (stream_drained), the only place where ending is
 * safe once bytes were sent. */
static void stream_pump(stream *st, int in_writecb)
{
    if (st->closed || st->busy || !st->req) return;
    st->busy = 1;
    struct evbuffer *out = bufferevent_get_output(st->c->bev);
    int calls = 0;
    while (!st->closed && !st->eof && evbuffer_get_length(out) < STREAM_HIGH) {
        if (calls++ == PUMP_MAX_CALLS) { /* let other connections run */
            event_active(st->ev, EV_READ, 0);
            break;
        }
        int rc = http_resp_produce(st->rs);
        size_t n;
        char *body = http_resp_take_body(st->rs, &n);
        if (!body || (rc != -1 && stream_send(st, body, n))) rc = -1;
        else if (rc == -1) free(body);
        if (rc == 1) continue;
        if (rc == HTTP_PRODUCE_WAIT) {
            st->waiting = 1;
            break;
        }
        if (rc == 0) { /* the write callback must now wait for an empty buffer */
            st->eof = 1;
            bufferevent_setwatermark(st->c->bev, EV_WRITE, 0, 0);
            break;
        }
        /* -1 or nonsense: a chunked reply cannot change its status; cut */
        st->waiting = 1;
        conn_cut(st->c);
        break;
    }
    if (st->eof && !st->closed) {
        if (!st->started || (in_writecb && evbuffer_get_length(out) == 0)) stream_finish(st);
        else if (evbuffer_get_length(out) == 0) /* no write left to call us back */
            bufferevent_trigger(st->c->bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS);
        /* else: the write callback comes when the last byte has been written */
    }
    st->busy = 0;
    if (st->closed) stream_release(st);
}

/* ---- requests ----------------------------------------------------------- */

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_PATCH: return "PATCH";
    default: return "OTHER";
    }
}

/* Headers every response gets, plus the handler's own (framing headers are
 * the core's business and are dropped). */
static void put_headers(server *sv, struct evhttp_request *req, const http_resp *rs)
{
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    int has_type = 0;
    for (size_t i = 0; rs && i < http_resp_header_count(rs); i++) {
        const char *n, *v;
        http_resp_header_at(rs, i, &n, &v);
        if (!strcasecmp(n, "Content-Length") || !strcasecmp(n, "Transfer-Encoding") ||
            !strcasecmp(n, "Connection") || !strcasecmp(n, "Date") || !strcasecmp(n, "Server"))
            continue;
        if (!strcasecmp(n, "Content-Type")) has_type = 1;
        evhttp_add_header(oh, n, v);
    }
    if (!has_type) evhttp_add_header(oh, "Content-Type", "text/plain; charset=utf-8");
    evhttp_add_header(oh, "Date", http_date(sv));
    evhttp_add_header(oh, "Server", "espigate");
    if (sv->stopping) evhttp_add_header(oh, "Connection", "close");
}

static int body_allowed(int status)
{
    return !(status < 200 || status == 204 || status == 304);
}

static void send_buffered(conn *c, struct evhttp_request *req, const http_resp *rs, int head)
{
    size_t len;
    const char *body = http_resp_body(rs, &len);
    int status = http_resp_get_status(rs);
    put_headers(c->sv, req, rs);
    struct evbuffer *buf = evbuffer_new();
    if (body_allowed(status)) {
        char cl[32];
        snprintf(cl, sizeof cl, "%zu", len);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", cl);
        if (!head && buf) evbuffer_add(buf, body, len);
    }
    c->status = status;
    c->bytes = buf ? evbuffer_get_length(buf) : 0;
    evhttp_send_reply(req, status, NULL, buf);
    if (buf) evbuffer_free(buf);
    /* evhttp queued the head and the body as separate chains, which
     * bufferevent_openssl would send as two TLS records in two write()s;
     * a small answer goes out as one record in one write */
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) <= ONE_RECORD) evbuffer_pullup(out, -1);
}

/* A short plain-text answer made by the core (400, 404, 431, 500). */
static void send_plain(conn *c, struct evhttp_request *req, int status, const char *text)
{
    http_resp *rs = http_resp_new();
    if (rs) {
        http_resp_status(rs, status);
        http_resp_printf(rs, "%s\n", text);
        send_buffered(c, req, rs, evhttp_request_get_command(req) == EVHTTP_REQ_HEAD);
        http_resp_free(rs);
    } else {
        c->status = status;
        evhttp_send_reply(req, status, NULL, NULL);
    }
}

static void start_stream(conn *c, struct evhttp_request *req, http_resp *rs, int head)
{
    int status = http_resp_get_status(rs);
    if (head || !body_allowed(status)) { /* headers only: no producer call */
        put_headers(c->sv, req, rs);
        c->status = status;
        evhttp_send_reply(req, status, NULL, NULL);
        http_resp_free(rs);
        return;
    }
    stream *st = calloc(1, sizeof *st);
    if (st) st->ev = event_new(c->sv->base, -1, 0, stream_event_cb, st);
    if (!st || !st->ev) {
        free(st);
        http_resp_free(rs);
        send_plain(c, req, 503, "out of memory; try again");
        return;
    }
    st->c = c;
    st->req = req;
    st->rs = rs;
    c->stream = st;
    c->status = status;
    http_resp_set_waker(rs, stream_wake, st);
    put_headers(c->sv, req, rs);
    bufferevent_setwatermark(c->bev, EV_WRITE, STREAM_LOW, 0);
    stream_pump(st, 0); /* evhttp_send_reply_start comes with the first chunk */
}

/* Response fully written (evhttp_send_done). */
static void on_complete(struct evhttp_request *req, void *arg)
{
    conn *c = arg;
    (void)req;
    log_request(c, 0);
    if (evbuffer_get_length(bufferevent_get_input(c->bev))) conn_set_state(c, CONN_READING);
    else conn_set_state(c, CONN_IDLE);
}

/* The connection is going away (evhttp_connection_free). */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
    conn *c = arg;
    (void)evcon;
    if (c->state == CONN_HANDLING) {
        log_request(c, 1);
        c->state = CONN_READING;
        c->sv->busy--;
    }
    stream *st = c->stream;
    if (!st) return;
    c->stream = NULL;
    if (st->req) {
        /* evhttp detaches a request the user has not finished; it is ours
         * to free then.  One still attached is freed by evhttp. */
        if (evhttp_request_get_connection(st->req) == NULL) evhttp_request_free(st->req);
        st->req = NULL;
    }
    st->closed = 1;
    if (!st->busy) stream_release(st);
}

static void note_request(conn *c, struct evhttp_request *req, struct evhttp_connection *evcon)
{
    snprintf(c->method, sizeof c->method, "%s", method_name(evhttp_request_get_command(req)));
    if (!c->remote[0]) { /* the peer of a connection does not change */
        char *addr = NULL;
        ev_uint16_t port = 0;
        evhttp_connection_get_peer(evcon, &addr, &port);
        snprintf(c->remote, sizeof c->remote, "%s", addr ? addr : "");
    }
    if (c->sv->o.access_log) { /* path and user agent are for the log only */
        const char *uri = evhttp_request_get_uri(req);
        const char *ua = evhttp_find_header(evhttp_request_get_input_headers(req), "User-Agent");
        snprintf(c->path, sizeof c->path, "%.*s", (int)strcspn(uri ? uri : "", "?#"), uri ? uri : "");
        snprintf(c->ua, sizeof c->ua, "%s", ua ? ua : "");
    }
    c->status = 0;
    c->bytes = 0;
    c->logged = 0;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
}

/* Copy libevent's request into an http_req.  0, EG_EDATA (bad target:
 * 400), EG_ELIMIT (too many headers: 431) or EG_ENOMEM. */
static int build_req(conn *c, struct evhttp_request *req, http_req **out)
{
    http_req *r = NULL;
    int rc = http_req_new(c->method, evhttp_request_get_uri(req), &r, NULL);
    if (rc) return rc;
    for (struct evkeyval *h = evhttp_request_get_input_headers(req)->tqh_first; h;
         h = h->next.tqe_next) {
        if (http_req_add_header(r, h->key, h->value)) {
            rc = EG_ELIMIT;
            goto done;
        }
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    if (n) {
        const unsigned char *p = evbuffer_pullup(in, -1);
        if (!p || http_req_set_body(r, (const char *)p, n)) {
            rc = EG_ENOMEM;
            goto done;
        }
    }
    http_req_set_remote(r, c->remote);
    http_req_set_origin(r, c->sv->origin);
done:
    if (rc) http_req_free(r);
    else *out = r;
    return rc;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    server *sv = arg;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    conn *c = conn_of(evcon);
    if (!c) { /* cannot happen: every connection comes from conn_new_bev */
        evhttp_send_error(req, 500, NULL);
        return;
    }
    if (!c->nodelay) {
        /* answers are written whole; Nagle would hold a small one back for the
         * client's delayed ACK (~40 ms per request on keep-alive) */
        int fd = (int)bufferevent_getfd(c->bev), one = 1;
        if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->nodelay = 1;
    }
    conn_set_state(c, CONN_HANDLING);
    evhttp_connection_set_closecb(evcon, on_close, c);
    evhttp_request_set_on_complete_cb(req, on_complete, c);
    note_request(c, req, evcon);

    int head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
    http_req *r = NULL;
    http_resp *rs = NULL;
    int rc = build_req(c, req, &r);
    if (rc == EG_EDATA) {
        send_plain(c, req, 400, "bad request: the target has a bad escape or a repeated query parameter");
        goto done;
    }
    if (rc == EG_ELIMIT) {
        send_plain(c, req, 431, "too many request headers");
        goto done;
    }
    if (rc || !(rs = http_resp_new())) {
        send_plain(c, req, 503, "out of memory; try again");
        goto done;
    }
    int handled = 0;
    for (size_t i = 0; i < sv->nhandlers && !handled; i++)
        handled = sv->handlers[i].fn(sv->handlers[i].ctx, r, rs);
    if (!handled) send_plain(c, req, 404, "not found");
    else if (http_resp_broken(rs)) send_plain(c, req, 500, "internal error: bad response header");
    else if (http_resp_is_stream(rs)) {
        start_stream(c, req, rs, head);
        rs = NULL; /* the stream owns it */
    } else send_buffered(c, req, rs, head);
done:
    http_resp_free(rs);
    http_req_free(r);
}

/* ---- stopping ----------------------------------------------------------- */

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
    server *sv = arg;
    (void)fd, (void)what;
    struct timeval now;
    event_base_gettimeofday_cached(sv->base, &now);
    if (sv->busy <= 0 || now.tv_sec - sv->stop_at.tv_sec >= sv->o.shutdown_grace_s)
        event_base_loopbreak(sv->base);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    server *sv = arg;
    (void)fd, (void)what;
    if (sv->stopping) return;
    sv->stopping = 1;
    if (sv->bound) {
        evhttp_del_accept_socket(sv->http, sv->bound); /* stop accepting */
        sv->bound = NULL;
    }
    event_base_gettimeofday_cached(sv->base, &sv->stop_at);
    struct timeval tick = {0, 50000};
    event_add(sv->grace_ev, &tick);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    timer_ent *t = arg;
    (void)fd, (void)what;
    t->fn(t->ctx);
}

/* ---- public ------------------------------------------------------------- */

void server_opts_init(server_opts *o)
{
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:8443";
    o->origin = "https://localhost:8443";
    o->max_header_bytes = 16 * 1024;
    o->max_body_bytes = 64 * 1024;
    o->header_timeout_s = 10;
    o->idle_timeout_s = 30;
    o->write_timeout_s = 60;
    o->max_connections = 1024;
    o->shutdown_grace_s = 5;
    o->handle_signals = 1;
}

/* "host:port" or "[v6]:port" into host (bounded) and port. */
static int parse_listen(const char *s, char *host, size_t hsize, int *port, eg_err *err)
{
    const char *colon;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') goto bad;
        hlen = (size_t)(close - s - 1);
        s++;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) goto bad;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= hsize) goto bad;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p < 0 || p > 65535) goto bad;
    *port = (int)p;
    return 0;
bad:
    return eg_errf(err, EG_ECONFIG, NULL, 0, 0,
                   "listen address '%.200s' is not HOST:PORT (expected e.g. 127.0.0.1:8443 or "
                   "[::1]:8443; port 0 picks a free port)",
                   s);
}

server *server_new(const server_opts *o, eg_err *err)
{
    server *sv = NULL;
    char host[256];
    int port = 0, rc = 0;

    pthread_once(&g_once, once_init);
    if (!g_once_ok) {
        rc = eg_errf(err, EG_ESOFTWARE, NULL, 0, 0, "cannot set up OpenSSL ex_data or libevent threads");
        goto done;
    }
    if ((rc = parse_listen(o->listen ? o->listen : "", host, sizeof host, &port, err))) goto done;
    if (!(sv = calloc(1, sizeof *sv))) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    sv->o = *o;
    if (sv->o.max_connections <= 0) sv->o.max_connections = 1024;
    if (sv->o.header_timeout_s <= 0) sv->o.header_timeout_s = 10;
    if (sv->o.idle_timeout_s <= 0) sv->o.idle_timeout_s = 30;
    if (sv->o.write_timeout_s <= 0) sv->o.write_timeout_s = 60;
    if (sv->o.shutdown_grace_s < 0) sv->o.shutdown_grace_s = 0;
    if (!sv->o.max_header_bytes) sv->o.max_header_bytes = 16 * 1024;
    if (!sv->o.max_body_bytes) sv->o.max_body_bytes = 64 * 1024;
    sv->listen = dup_str(o->listen);
    sv->origin = dup_str(o->origin ? o->origin : "");
    if (!sv->listen || !sv->origin) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    sv->o.listen = sv->listen;
    sv->o.origin = sv->origin;
    sv->o.cert_file = sv->o.key_file = NULL; /* not kept: loaded below */

    if (!(sv->ssl = tls_server_ctx_new(o->cert_file, o->key_file, err))) {
        rc = err ? err->code : EG_ECONFIG;
        goto done;
    }
    signal(SIGPIPE, SIG_IGN); /* a vanished peer must not kill the process */

    /* epoll's changelist: the read-off/write-on/write-off flips evhttp makes
     * around every request are applied once per loop turn, at epoll_wait,
     * instead of as three epoll_ctl calls (we never dup() a socket, the one
     * case the changelist gets wrong) */
    struct event_config *cfg = event_config_new();
    if (cfg) event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    sv->base = cfg ? event_base_new_with_config(cfg) : NULL;
    if (cfg) event_config_free(cfg);
    sv->http = sv->base ? evhttp_new(sv->base) : NULL;
    if (sv->base) {
        sv->stop_ev = event_new(sv->base, -1, 0, stop_cb, sv);
        sv->grace_ev = event_new(sv->base, -1, EV_PERSIST, grace_cb, sv);
        sv->resume_ev = event_new(sv->base, -1, 0, resume_cb, sv);
    }
    if (!sv->http || !sv->stop_ev || !sv->grace_ev || !sv->resume_ev) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "cannot create the event loop");
        goto done;
    }
    evhttp_set_bevcb(sv->http, conn_new_bev, sv);
    evhttp_set_gencb(sv->http, on_request, sv);
    evhttp_set_max_headers_size(sv->http, (ev_ssize_t)sv->o.max_header_bytes);
    evhttp_set_max_body_size(sv->http, (ev_ssize_t)sv->o.max_body_bytes);
    evhttp_set_allowed_methods(sv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                             EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                             EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    if (o->listen_fd <= 0) { /* a name that does not resolve: say so, before libevent does */
        struct addrinfo hints, *ai = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE;
        if (getaddrinfo(host, NULL, &hints, &ai) != 0) {
            rc = eg_errf(err, EG_ECONFIG, NULL, 0, 0,
                         "cannot listen on %s: '%s' is not an address of this host (expected "
                         "e.g. 127.0.0.1:8443, [::1]:8443 or 0.0.0.0:8443)", o->listen, host);
            goto done;
        }
        freeaddrinfo(ai);
    }
    errno = 0;
    if (o->listen_fd > 0) /* pre-forked workers share one listening socket */
        sv->bound = evhttp_accept_socket_with_handle(sv->http, o->listen_fd);
    else
        sv->bound = evhttp_bind_socket_with_handle(sv->http, host, (ev_uint16_t)port);
    if (!sv->bound) {
        rc = eg_errf(err, EG_ECONFIG, NULL, 0, 0,
                     "cannot listen on %s: %s (is another server using the port, or is the "
                     "address not on this host?)",
                     o->listen, errno ? strerror(errno) : "refused");
        goto done;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname((int)evhttp_bound_socket_get_fd(sv->bound), (struct sockaddr *)&ss, &sl) == 0)
        sv->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                            : ntohs(((struct sockaddr_in *)&ss)->sin_port);
done:
    if (rc) {
        server_free(sv);
        sv = NULL;
    }
    return sv;
}

int server_add_handler(server *sv, http_handler_fn fn, void *ctx)
{
    handler_ent *h = realloc(sv->handlers, (sv->nhandlers + 1) * sizeof *h);
    if (!h) return -1;
    sv->handlers = h;
    h[sv->nhandlers].fn = fn;
    h[sv->nhandlers].ctx = ctx;
    sv->nhandlers++;
    return 0;
}

int server_add_timer(server *sv, double seconds, void (*fn)(void *ctx), void *ctx)
{
    if (!(seconds > 0)) return -1;
    timer_ent **v = realloc(sv->timers, (sv->ntimers + 1) * sizeof *v);
    if (!v) return -1;
    sv->timers = v;
    timer_ent *t = calloc(1, sizeof *t);
    if (!t) return -1;
    t->fn = fn;
    t->ctx = ctx;
    t->every.tv_sec = (time_t)seconds;
    t->every.tv_usec = (suseconds_t)((seconds - (double)t->every.tv_sec) * 1e6);
    t->ev = event_new(sv->base, -1, EV_PERSIST, timer_cb, t);
    if (!t->ev) {
        free(t);
        return -1;
    }
    v[sv->ntimers++] = t;
    return 0;
}

int server_port(const server *sv) { return sv->port; }

int server_listen_socket(const char *listen_addr, eg_err *err)
{
    char host[256], portstr[16];
    int port = 0, fd = -1, one = 1;
    struct addrinfo hints, *ai = NULL;
    if (parse_listen(listen_addr ? listen_addr : "", host, sizeof host, &port, err))
        return -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    snprintf(portstr, sizeof portstr, "%d", port);
    if (getaddrinfo(host, portstr, &hints, &ai) != 0 || !ai) {
        eg_errf(err, EG_ECONFIG, NULL, 0, 0, "listen address '%.200s' is not a numeric "
                "address (e.g. 127.0.0.1:8443 or [::1]:8443)", listen_addr);
        return -1;
    }
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        eg_errf(err, EG_ECONFIG, NULL, 0, 0,
                "cannot listen on %s: %s (is another server using the port, or is the "
                "address not on this host?)", listen_addr, strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int server_run(server *sv, eg_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < sv->ntimers; i++) event_add(sv->timers[i]->ev, &sv->timers[i]->every);
    if (sv->o.handle_signals) {
        sv->sigint_ev = evsignal_new(sv->base, SIGINT, stop_cb, sv);
        sv->sigterm_ev = evsignal_new(sv->base, SIGTERM, stop_cb, sv);
        if (sv->sigint_ev) event_add(sv->sigint_ev, NULL);
        if (sv->sigterm_ev) event_add(sv->sigterm_ev, NULL);
    }
    if (event_base_dispatch(sv->base) < 0)
        rc = eg_errf(err, EG_EIO, NULL, 0, 0, "the event loop failed");
    for (size_t i = 0; i < sv->ntimers; i++) event_del(sv->timers[i]->ev);
    if (sv->sigint_ev) event_del(sv->sigint_ev);
    if (sv->sigterm_ev) event_del(sv->sigterm_ev);
    event_del(sv->grace_ev);
    event_del(sv->resume_ev);
    return rc;
}

void server_stop(server *sv)
{
    if (sv && sv->stop_ev) event_active(sv->stop_ev, EV_READ, 0);
}

void server_free(server *sv)
{
    if (!sv) return;
    for (size_t i = 0; i < sv->ntimers; i++) {
        event_free(sv->timers[i]->ev);
        free(sv->timers[i]);
    }
    if (sv->stop_ev) event_free(sv->stop_ev);
    if (sv->grace_ev) event_free(sv->grace_ev);
    if (sv->resume_ev) event_free(sv->resume_ev);
    if (sv->sigint_ev) event_free(sv->sigint_ev);
    if (sv->sigterm_ev) event_free(sv->sigterm_ev);
    if (sv->http) evhttp_free(sv->http); /* closes connections: streams end */
    if (sv->base) {
        /* bufferevents are freed by finalizers: run them while sv lives */
        event_base_loop(sv->base, EVLOOP_NONBLOCK);
        event_base_loop(sv->base, EVLOOP_NONBLOCK);
        event_base_free(sv->base);
    }
    SSL_CTX_free(sv->ssl);
    free(sv->handlers);
    free(sv->timers);
    free(sv->listen);
    free(sv->origin);
    free(sv);
}
