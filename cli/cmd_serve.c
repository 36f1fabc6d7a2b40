/* cmd_serve.c -- `espigate serve`: the Connect-My-Data Data Custodian.
 *
 * Wires the pieces of feeds/ into one HTTPS server: the core (server.c:
 * libevent evhttp over bufferevent_openssl, limits, access log), the OAuth
 * 2.0 authorization server with the consent page (oauth.c over the
 * custodian records), the ESPI REST resources streamed from the store
 * (espi_api.c), and the notification worker (notify.c: its own thread and
 * store connection, so a slow third party never stalls a request).  All
 * state lives in the store, so several `serve` processes can share one
 * PostgreSQL database (docs/DEPLOY.md).
 *
 * The resource server asks this file for what only the custodian records
 * know (is this bearer token valid, ApplicationInformation, Authorization
 * resources, the subscriptions of a bulk request): small adapters below. */
#include <errno.h>
#include <getopt.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_serve.h"
#include "custodian.h"
#include "espi_api.h"
#include "notify.h"
#include "oauth.h"
#include "server.h"
#include "serve_member.h"
#include "store.h"

static const char serve_help[] =
    "Usage: espigate serve [--db URL] [--listen ADDR] [--cert FILE --key FILE]\n"
    "                      [--base-url URL] [--access-log FILE|-] [options]\n"
    "\n"
    "Run the Green Button Connect-My-Data Data Custodian over HTTPS: the OAuth 2.0\n"
    "authorization server with the member consent page, the ESPI REST resources of the\n"
    "store's feeds, and notifications to third parties when new data is imported.\n"
    "\n"
    "Endpoints (under BASE/DataCustodian):\n"
    "  member                                         a member's own data as a page (login)\n"
    "  oauth/authorize, oauth/token, oauth/revoke     OAuth 2.0 (code + PKCE S256, refresh,\n"
    "                                                 client_credentials, RFC 7009)\n"
    "  espi/1_1/resource/...                          ESPI resources (Batch/Subscription,\n"
    "                                                 UsagePoint trees, Bulk, ReadServiceStatus,\n"
    "                                                 ApplicationInformation, Authorization)\n"
    "\n"
    "Options:\n"
    "  -d, --db URL             store (default $ESPIGATE_DB or sqlite:espigate.db)\n"
    "  -l, --listen ADDR        address:port to listen on (default 127.0.0.1:8443;\n"
    "                           [::1]:8443 for IPv6)\n"
    "      --cert FILE          server certificate chain, PEM (default certs/dev/server.pem\n"
    "      --key FILE           and certs/dev/server.key when they exist: make them with\n"
    "                           certs/make-dev-certs.sh)\n"
    "  -b, --base-url URL       the URL third parties use (default https://localhost:PORT);\n"
    "                           written into token responses and notifications\n"
    "      --access-log FILE    one JSON line per request ('-' = stdout; default none)\n"
    "      --title TEXT         the operator's name on the consent page\n"
    "      --notify-ca FILE     trust anchors for third parties' notify URIs (dev CA)\n"
    "      --notify-interval S  how often queued notifications are sent (default 10)\n"
    "      --notify-allow-http  also POST notifications to http:// URIs (development only)\n"
    "      --max-connections N  concurrent connections (default 1024)\n"
    "      --max-body BYTES     request body limit (default 65536)\n"
    "      --request-timeout S  a whole request must arrive within S seconds (default 10)\n"
    "  -w, --workers N          worker processes sharing the listening socket (default 1;\n"
    "                           e.g. one per core)\n"
    "  -h, --help               this help\n"
    "\n"
    "Stops cleanly on SIGINT or SIGTERM (requests in flight finish first).\n"
    "Exit status: 0 after a clean stop, 64 usage, 78 configuration (certificate, address,\n"
    "database), 70 internal error.\n"
    "\n"
    "Example:\n"
    "  certs/make-dev-certs.sh && espigate serve --db sqlite:out/demo.db\n";

#define PREFIX "/DataCustodian"

typedef struct serve_ctx {
    store *s;
    oauth *oauth;
    char resource_base[1100];
} serve_ctx;

/* ---- adapters for the resource server ---------------------------------- */

static int authorize_cb(void *ctx, const char *header, oauth_grant *g, eg_err *err)
{
    serve_ctx *sc = ctx;
    return oauth_check_bearer(sc->oauth, header, g, err);
}

static int app_info_cb(void *ctx, const char *client_id, espi_entry *e,
                       espi_application_information *out, eg_err *err)
{
    serve_ctx *sc = ctx;
    return cd_app_info(sc->s, sc->resource_base, client_id, e, out, err);
}

typedef struct auth_walk {
    int (*cb)(void *cbctx, const espi_entry *e, const espi_authorization *a, eg_err *err);
    void *cbctx;
    eg_err *err;
} auth_walk;

static int auth_each(void *ctx, const espi_entry *e, const espi_authorization *a)
{
    auth_walk *w = ctx;
    return w->cb(w->cbctx, e, a, w->err);
}

static int authorizations_cb(void *ctx, const char *client_id, const char *authorization_id,
                             int (*cb)(void *cbctx, const espi_entry *e,
                                       const espi_authorization *a, eg_err *err),
                             void *cbctx, eg_err *err)
{
    serve_ctx *sc = ctx;
    if (authorization_id) {
        espi_entry e;
        espi_authorization a;
        int rc = cd_authorization_espi(sc->s, sc->resource_base, client_id, authorization_id,
                                       &e, &a, err);
        return rc ? rc : cb(cbctx, &e, &a, err);
    }
    auth_walk w = {cb, cbctx, err};
    return cd_authorization_list(sc->s, sc->resource_base, client_id, auth_each, &w, err);
}

typedef struct bulk_walk {
    int (*cb)(void *cbctx, const char *customer_id, const char *subscription_id);
    void *cbctx;
} bulk_walk;

static int bulk_each(void *ctx, const char *subscription_id, const char *client_id,
                     const char *customer_id, const char *authorization_id)
{
    bulk_walk *w = ctx;
    (void)client_id;
    (void)authorization_id;
    return w->cb(w->cbctx, customer_id, subscription_id);
}

static int bulk_customers_cb(void *ctx, const char *client_id,
                             int (*cb)(void *cbctx, const char *customer_id,
                                       const char *subscription_id),
                             void *cbctx, eg_err *err)
{
    serve_ctx *sc = ctx;
    bulk_walk w = {cb, cbctx};
    return cd_subscriptions_of_client(sc->s, client_id, bulk_each, &w, err);
}

/* ---- a front page for people ------------------------------------------- */

/* GET /demo/callback: where `espigate demo`'s third party is sent back; it
 * shows the code so a person trying the flow by hand can copy it. */
static int demo_callback(http_resp *rs, const http_req *r)
{
    const char *code = http_req_query(r, "code"), *error = http_req_query(r, "error");
    char safe[200];
    size_t n = 0;
    for (const char *p = code ? code : error ? error : ""; *p && n + 1 < sizeof safe; p++)
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            safe[n++] = *p;
    safe[n] = '\0';
    http_resp_header(rs, "Content-Type", "text/html; charset=utf-8");
    http_resp_header(rs, "Content-Security-Policy", "default-src 'none'");
    http_resp_header(rs, "Cache-Control", "no-store");
    http_resp_printf(rs,
                     "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>Demo third party</title></head><body><h1>Back at the demo third "
                     "party</h1>\n<p>%s: <code>%s</code></p>\n<p>Trade the code for a token "
                     "within a minute (step b printed by <code>espigate demo</code>).</p>"
                     "</body></html>\n",
                     code ? "Authorization code" : "Error", safe);
    return 1;
}

static int front_page(void *ctx, const http_req *r, http_resp *rs)
{
    serve_ctx *sc = ctx;
    const char *p = http_req_path(r);
    if (strcmp(p, "/demo/callback") == 0) return demo_callback(rs, r);
    if (strcmp(p, "/") != 0 && strcmp(p, PREFIX) != 0 && strcmp(p, PREFIX "/") != 0) return 0;
    if (strcmp(http_req_method(r), "GET") != 0 && strcmp(http_req_method(r), "HEAD") != 0) {
        http_resp_status(rs, 405);
        http_resp_header(rs, "Allow", "GET, HEAD");
        return 1;
    }
    http_resp_header(rs, "Content-Type", "text/html; charset=utf-8");
    http_resp_header(rs, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    http_resp_header(rs, "X-Frame-Options", "DENY");
    http_resp_printf(rs,
                     "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>espigate Data Custodian</title></head>\n<body>"
                     "<h1>Green Button Connect My Data</h1>\n"
                     "<p>This is an espigate %s Data Custodian (NAESB REQ.21 ESPI).</p>\n"
                     "<table><caption>Endpoints</caption>\n"
                     "<tr><th scope=\"row\">Authorization</th><td>%s/oauth/authorize</td></tr>\n"
                     "<tr><th scope=\"row\">Token</th><td>%s/oauth/token</td></tr>\n"
                     "<tr><th scope=\"row\">Revocation</th><td>%s/oauth/revoke</td></tr>\n"
                     "<tr><th scope=\"row\">Resources</th><td>%s</td></tr>\n"
                     "</table>\n<p><a href=\"%s/member\">Members: see your own data</a></p>"
                     "</body></html>\n",
                     ESPIGATE_VERSION, PREFIX, PREFIX, PREFIX, sc->resource_base, PREFIX);
    return 1;
}

/* ---- options ------------------------------------------------------------- */

typedef struct serve_opts {
    const char *url, *listen, *cert, *key, *base_url, *access_log, *title, *notify_ca;
    long notify_interval, max_connections, max_body, request_timeout, workers;
    int notify_allow_http;
} serve_opts;

static int parse_long(const char *opt, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max)
        return cli_usage_error("serve", "%s wants a number from %ld to %ld, not '%s'", opt, min,
                               max, s);
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, serve_opts *o)
{
    enum { O_CERT = 256, O_KEY, O_LOG, O_TITLE, O_NCA, O_NINT, O_NHTTP, O_MAXC, O_MAXB, O_RTO };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"cert", required_argument, NULL, O_CERT},
        {"key", required_argument, NULL, O_KEY},
        {"base-url", required_argument, NULL, 'b'},
        {"access-log", required_argument, NULL, O_LOG},
        {"title", required_argument, NULL, O_TITLE},
        {"notify-ca", required_argument, NULL, O_NCA},
        {"notify-interval", required_argument, NULL, O_NINT},
        {"notify-allow-http", no_argument, NULL, O_NHTTP},
        {"max-connections", required_argument, NULL, O_MAXC},
        {"max-body", required_argument, NULL, O_MAXB},
        {"request-timeout", required_argument, NULL, O_RTO},
        {"workers", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->url = cli_db_url();
    o->listen = "127.0.0.1:8443";
    o->notify_interval = 10;
    o->max_connections = 1024;
    o->max_body = 65536;
    o->request_timeout = 10;
    o->workers = 1;
    int c, rc = 0;
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "d:l:b:w:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->url = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'b': o->base_url = optarg; break;
        case O_CERT: o->cert = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_LOG: o->access_log = optarg; break;
        case O_TITLE: o->title = optarg; break;
        case O_NCA: o->notify_ca = optarg; break;
        case O_NINT: rc = parse_long("--notify-interval", optarg, 1, 86400, &o->notify_interval); break;
        case O_NHTTP: o->notify_allow_http = 1; break;
        case O_MAXC: rc = parse_long("--max-connections", optarg, 1, 100000, &o->max_connections); break;
        case O_MAXB: rc = parse_long("--max-body", optarg, 1024, 64L << 20, &o->max_body); break;
        case O_RTO: rc = parse_long("--request-timeout", optarg, 1, 3600, &o->request_timeout); break;
        case 'w': rc = parse_long("--workers", optarg, 1, 64, &o->workers); break;
        case 'h': fputs(serve_help, stdout); return -1;
        default: return cli_usage_error("serve", "unknown option");
        }
    }
    if (rc) return rc;
    if (optind < argc) return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (!o->cert && !o->key && access("certs/dev/server.pem", R_OK) == 0 &&
        access("certs/dev/server.key", R_OK) == 0) {
        o->cert = "certs/dev/server.pem";
        o->key = "certs/dev/server.key";
    }
    if (!o->cert || !o->key)
        return cli_usage_error("serve", "no certificate: give --cert FILE --key FILE (for "
                                        "development, run certs/make-dev-certs.sh first)");
    if (o->base_url && (strncmp(o->base_url, "https://", 8) != 0 ||
                        o->base_url[strlen(o->base_url) - 1] == '/'))
        return cli_usage_error("serve", "--base-url wants https://HOST[:PORT] without a "
                                        "trailing slash, not '%s'", o->base_url);
    return 0;
}

void serve_default_base(const char *listen, char *out, size_t size)
{
    const char *colon = strrchr(listen, ':');
    snprintf(out, size, "https://localhost:%s", colon ? colon + 1 : "8443");
}

/* ---- the command ----------------------------------------------------------- */

static void kick_notify(void *ctx)
{
    notify_worker_kick(ctx);
}

#define TOKEN_GRACE 86400 /* expired tokens are kept a day, then pruned */

/* Hourly: drop tokens that expired more than a day ago (cd_token_prune). */
static void prune_tokens(void *ctx)
{
    serve_ctx *sc = ctx;
    eg_err err;
    eg_err_clear(&err);
    long n = 0;
    if (cd_token_prune(sc->s, (int64_t)time(NULL) - TOKEN_GRACE, &n, &err))
        fprintf(stderr, "espigate serve: pruning expired tokens: %s\n", err.msg);
}

/* One server process: everything above on one event loop.  listen_fd > 0:
 * accept on that shared socket (a pre-forked worker); banner: print where
 * it listens (the first worker only). */
static int serve_one(const serve_opts *po, int listen_fd, int banner)
{
    serve_opts o = *po;
    int rc;
    serve_ctx sc;
    memset(&sc, 0, sizeof sc);
    eg_err err;
    eg_err_clear(&err);
    server *sv = NULL;
    espi_api *api = NULL;
    notify_worker *nw = NULL;
    FILE *log = NULL;
    char base[1024];
    int status = EG_EXIT_OK;

    if (o.base_url) snprintf(base, sizeof base, "%s", o.base_url);
    else serve_default_base(o.listen, base, sizeof base);
    snprintf(sc.resource_base, sizeof sc.resource_base, "%s" PREFIX "/espi/1_1/resource", base);

    if ((rc = notify_global_init(&err))) goto fail;
    if ((rc = store_open(o.url, &sc.s, &err))) goto fail;
    if ((rc = store_meta_set(sc.s, "base_url", base, &err))) goto fail;

    oauth_opts oo;
    oauth_opts_init(&oo);
    oo.prefix = PREFIX;
    oo.resource_base = sc.resource_base;
    if (o.title) oo.page_title = o.title;
    if (!(sc.oauth = oauth_new(sc.s, &oo, &err))) {
        rc = err.code ? err.code : EG_ENOMEM;
        goto fail;
    }

    espi_api_opts ao;
    memset(&ao, 0, sizeof ao);
    ao.prefix = PREFIX;
    ao.store_url = o.url;
    ao.authorize = authorize_cb;
    ao.app_info = app_info_cb;
    ao.authorizations = authorizations_cb;
    ao.bulk_customers = bulk_customers_cb;
    ao.ctx = &sc;
    if (!(api = espi_api_new(sc.s, &ao, &err))) {
        rc = err.code ? err.code : EG_ENOMEM;
        goto fail;
    }

    if (o.access_log) {
        if (strcmp(o.access_log, "-") == 0) {
            log = stdout;
        } else if (!(log = fopen(o.access_log, "a"))) {
            rc = eg_errf(&err, EG_ECANTCREAT, o.access_log, 0, 0,
                         "cannot open the access log: %s", strerror(errno));
            goto fail;
        }
        setvbuf(log, NULL, _IOLBF, 0);
    }

    server_opts so;
    server_opts_init(&so);
    so.listen = o.listen;
    so.cert_file = o.cert;
    so.key_file = o.key;
    so.origin = base;
    so.max_connections = (int)o.max_connections;
    so.max_body_bytes = (size_t)o.max_body;
    so.header_timeout_s = (int)o.request_timeout;
    so.access_log = log;
    so.listen_fd = listen_fd;
    if (!(sv = server_new(&so, &err))) {
        rc = err.code ? err.code : EG_ENOMEM;
        goto fail;
    }

    notify_opts no;
    notify_opts_init(&no);
    no.ca_file = o.notify_ca;
    no.allow_http = o.notify_allow_http;
    if (!(nw = notify_worker_start(o.url, &no, o.notify_interval, &err))) {
        rc = err.code ? err.code : EG_ENOMEM;
        goto fail;
    }

    member_page mp = {sc.s, PREFIX};
    if (server_add_handler(sv, front_page, &sc) || server_add_handler(sv, oauth_handle, sc.oauth) ||
        server_add_handler(sv, member_page_handle, &mp) ||
        server_add_handler(sv, espi_api_handle, api) ||
        server_add_timer(sv, (double)o.notify_interval, kick_notify, nw) ||
        server_add_timer(sv, 3600.0, prune_tokens, &sc)) {
        rc = eg_errf(&err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }

    prune_tokens(&sc); /* once at start, then hourly */
    if (!banner) goto run;
    printf("espigate serve: listening on %s (port %d), store %s", o.listen, server_port(sv),
           o.url);
    if (o.workers > 1) printf(", %ld worker processes", o.workers);
    printf("\n");
    printf("  Data Custodian:  %s" PREFIX "/\n", base);
    printf("  authorize:       %s" PREFIX "/oauth/authorize\n", base);
    printf("  token:           %s" PREFIX "/oauth/token\n", base);
    printf("  resources:       %s\n", sc.resource_base);
    printf("Stop with Ctrl-C.\n");
    fflush(stdout);
run:
    rc = server_run(sv, &err);
    if (rc) goto fail;
    goto done;
fail:
    status = cli_report(&err);
    if (status == EG_EXIT_OK) status = EG_EXIT_SOFTWARE;
done:
    notify_worker_stop(nw);
    server_free(sv);
    espi_api_free(api);
    oauth_free(sc.oauth);
    store_close(sc.s);
    if (log && log != stdout) fclose(log);
    notify_global_cleanup();
    return status;
}

/* ---- several worker processes ------------------------------------------------ */

static volatile sig_atomic_t g_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Pre-fork: the parent makes the listening socket, forks the workers (each a
 * whole server with its own loop and store connections; state is shared
 * through the store, as between processes behind a load balancer) and
 * waits.  SIGINT/SIGTERM are passed on and every worker finishes its
 * requests; a worker that dies on its own stops the others (run under a
 * supervisor that restarts the service). */
static int serve_workers(const serve_opts *o)
{
    eg_err err;
    eg_err_clear(&err);
    int fd = server_listen_socket(o->listen, &err);
    if (fd < 0) return cli_report(&err);
    pid_t pids[64];
    int n = 0, status = EG_EXIT_OK;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fflush(stdout);
    for (; n < o->workers; n++) {
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            _exit(serve_one(o, fd, n == 0));
        }
        if (pid < 0) {
            fprintf(stderr, "espigate serve: cannot start worker %d: %s\n", n + 1, strerror(errno));
            status = EG_EXIT_OSERR;
            g_stop = 1;
            break;
        }
        pids[n] = pid;
    }
    close(fd);
    int alive = n, stopping = 0;
    while (alive > 0) {
        if (g_stop && !stopping) {
            stopping = 1;
            for (int i = 0; i < n; i++)
                if (pids[i] > 0) kill(pids[i], SIGTERM);
        }
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < n; i++)
            if (pids[i] == pid) pids[i] = 0;
        alive--;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : EG_EXIT_SOFTWARE;
        if (!stopping) {
            fprintf(stderr, "espigate serve: worker %d %s %d; stopping the others\n", (int)pid,
                    WIFEXITED(st) ? "exited with" : "was killed by signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            g_stop = 1;
            if (status == EG_EXIT_OK) status = code ? code : EG_EXIT_SOFTWARE;
        } else if (code && status == EG_EXIT_OK) {
            status = code;
        }
    }
    return status;
}

int cmd_serve(int argc, char **argv)
{
    serve_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc < 0) return EG_EXIT_OK;
    if (rc) return rc;
#if defined(__GLIBC__)
    /* A streamed feed moves through 64 KiB chunks that one thread fills and
     * another frees; with glibc's default 128 KiB trim threshold the worker's
     * arena gives those pages back and takes them again (page faults on every
     * chunk).  Keep up to 16 MiB of freed heap for reuse instead.  And
     * libevent follows each such chunk with a buffer chain of its size
     * (~128 KiB, for the chunk's "\r\n"): from the heap, not an mmap and
     * munmap per chunk. */
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
    return o.workers > 1 ? serve_workers(&o) : serve_one(&o, 0, 1);
}
