/* cmd_notify.c -- `espigate notify list|send|retry|add|prune`: the notification queue.
 *
 * Thin shells over feeds/notify.h for operators: see what is queued and
 * why a delivery failed (list), push what is due now without the server
 * (send), put a failed row back in line after fixing the receiver or the
 * configuration (retry), queue one by hand (add; the server queues
 * them itself after imports), and delete old sent rows (prune; a running
 * server does it hourly by itself).  The store is chosen as for every store
 * command: --db URL, else $ESPIGATE_DB, else sqlite:espigate.db. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_notify.h"
#include "notify.h"
#include "store.h"

static const char notify_help[] =
    "Usage: espigate notify list  [--db URL] [--format text|json]\n"
    "       espigate notify send  [--db URL] [--ca-file F] [--allow-http] [--batch N]\n"
    "                             [--max-attempts N]\n"
    "       espigate notify retry [--db URL] ID...\n"
    "       espigate notify add   [--db URL] --client ID --uri NOTIFY_URI RESOURCE_URI...\n"
    "       espigate notify prune [--db URL] [--older-than DAYS]\n"
    "\n"
    "ESPI notifications (Function Block 39, PUSH): when new data is stored, the Data Custodian\n"
    "POSTs a BatchList of resource URIs to each third party's thirdPartyNotifyUri. They wait in\n"
    "a durable queue in the store; the server sends them in the background. Failed deliveries\n"
    "are retried with growing delays (30 s doubling up to 6 h); after 10 attempts a row is\n"
    "'failed' and kept until 'notify retry'.\n"
    "\n"
    "  list    every queued row, newest first: id, state, attempts, next try, destination,\n"
    "          last error\n"
    "  send    send what is due now and print one line per delivery and a summary\n"
    "  retry   put failed rows back in line (due now, attempts reset)\n"
    "  add     queue a BatchList by hand (rows for the same client and URI are merged)\n"
    "  prune   delete rows sent more than --older-than days ago (default 30); pending and\n"
    "          failed rows are kept. 'espigate serve' does this by itself every hour\n"
    "\n"
    "Options:\n"
    "  -d, --db URL           the store (see 'espigate import --help')\n"
    "  -f, --format F         list as text (default) or json\n"
    "      --ca-file F        trust this PEM CA too (a development CA); default: system CAs\n"
    "      --allow-http       also POST to http:// URIs (development only; refused otherwise)\n"
    "      --batch N          send at most N rows (default 20)\n"
    "      --max-attempts N   attempts before a row is 'failed' (default 10)\n"
    "      --client ID        (add) the third party's client id\n"
    "      --uri URI          (add) its notify URI\n"
    "      --older-than DAYS  (prune) age of the sent rows to delete (default 30; 0 = all)\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit status: 0 ok (deliveries that failed are retried later, not an error), 64 usage\n"
    "error, 74 database error.\n"
    "\n"
    "Example:\n"
    "  espigate notify list --db postgresql://espigate@db/espigate\n";

typedef struct notify_args {
    const char *url, *ca_file, *client, *uri;
    cli_format fmt;
    int allow_http;
    long batch, max_attempts;
    long older_than_days;        /* prune; -1 = not given */
} notify_args;

static int parse_count(const char *name, const char *v, long *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 1000000)
        return cli_usage_error("notify", "%s wants a whole number from 1 to 1000000, not '%s'",
                               name, v);
    *out = n;
    return 0;
}

/* Options of every subcommand; optind points past them.  -1: --help shown. */
static int parse_args(int argc, char **argv, notify_args *a)
{
    enum { O_CA = 256, O_HTTP, O_BATCH, O_MAX, O_CLIENT, O_URI, O_OLDER };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},         {"format", required_argument, NULL, 'f'},
        {"ca-file", required_argument, NULL, O_CA},   {"allow-http", no_argument, NULL, O_HTTP},
        {"batch", required_argument, NULL, O_BATCH},  {"max-attempts", required_argument, NULL, O_MAX},
        {"client", required_argument, NULL, O_CLIENT}, {"uri", required_argument, NULL, O_URI},
        {"older-than", required_argument, NULL, O_OLDER},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0}};
    int c, rc;
    memset(a, 0, sizeof *a);
    a->url = cli_db_url();
    a->fmt = CLI_FMT_TEXT;
    a->older_than_days = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': a->url = optarg; break;
        case 'f': {
            int f = cli_parse_format(optarg, 1u << CLI_FMT_TEXT | 1u << CLI_FMT_JSON);
            if (f < 0) return cli_usage_error("notify", "--format '%s' is not text or json", optarg);
            a->fmt = (cli_format)f;
            break;
        }
        case O_CA: a->ca_file = optarg; break;
        case O_HTTP: a->allow_http = 1; break;
        case O_BATCH:
            if ((rc = parse_count("--batch", optarg, &a->batch))) return rc;
            break;
        case O_MAX:
            if ((rc = parse_count("--max-attempts", optarg, &a->max_attempts))) return rc;
            break;
        case O_CLIENT: a->client = optarg; break;
        case O_URI: a->uri = optarg; break;
        case O_OLDER: {
            char *end;
            long d = strtol(optarg, &end, 10);
            if (!*optarg || *end || d < 0 || d > 36500)
                return cli_usage_error("notify", "--older-than wants a number of days from 0 to "
                                                 "36500, not '%s'", optarg);
            a->older_than_days = d;
            break;
        }
        case 'h': fputs(notify_help, stdout); return -1;
        default: return cli_usage_error("notify", "unknown option");
        }
    }
    return 0;
}

/* ---- list ---------------------------------------------------------------------- */

typedef struct list_ctx {
    cli_format fmt;
    long n;
} list_ctx;

static void fmt_time(int64_t t, char *out, size_t size)
{
    if (t == ESPI_NONE || t <= 0) snprintf(out, size, "-");
    else espi_time_format(t, out, size);
}

static int print_row(void *ctx, const notify_row *r)
{
    list_ctx *l = ctx;
    char next[40], created[40], sent[40];
    fmt_time(r->next_try, next, sizeof next);
    fmt_time(r->created, created, sizeof created);
    fmt_time(r->sent_at, sent, sizeof sent);
    if (l->fmt == CLI_FMT_JSON) {
        printf("%s\n  {\"id\": ", l->n ? "," : "");
        eg_json_string(stdout, r->id);
        printf(", \"state\": ");
        eg_json_string(stdout, r->state);
        printf(", \"client_id\": ");
        eg_json_string(stdout, r->client_id);
        printf(", \"uri\": ");
        eg_json_string(stdout, r->uri);
        printf(", \"resources\": %ld, \"attempts\": %ld, \"created\": \"%s\", \"next_try\": "
               "\"%s\", \"sent_at\": %s%s%s, \"last_error\": ",
               r->n_resources, r->attempts, created, next, r->sent_at == ESPI_NONE ? "" : "\"",
               r->sent_at == ESPI_NONE ? "null" : sent, r->sent_at == ESPI_NONE ? "" : "\"");
        eg_json_string(stdout, r->last_error);
        printf("}");
    } else {
        char when[64];
        if (strcmp(r->state, "sent") == 0) snprintf(when, sizeof when, "sent %s", sent);
        else if (strcmp(r->state, "failed") == 0) snprintf(when, sizeof when, "gave up");
        else snprintf(when, sizeof when, "next try %s", next);
        printf("%s  %-7s  %ld attempt%s, %s  client %s -> %s  (%ld resource%s)%s%s\n", r->id,
               r->state, r->attempts, r->attempts == 1 ? "" : "s", when, r->client_id, r->uri,
               r->n_resources, r->n_resources == 1 ? "" : "s",
               r->last_error[0] ? "\n    last error: " : "", r->last_error);
    }
    l->n++;
    return 0;
}

static int notify_list_cmd(store *s, const notify_args *a, eg_err *err)
{
    list_ctx l = {a->fmt, 0};
    if (a->fmt == CLI_FMT_JSON) printf("[");
    int rc = notify_list(s, print_row, &l, err);
    if (a->fmt == CLI_FMT_JSON) printf("%s]\n", l.n ? "\n" : "");
    else if (!rc && !l.n) printf("the notification queue is empty\n");
    return rc;
}

/* ---- send ---------------------------------------------------------------------- */

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
    fflush(stdout);
}

static int notify_send_cmd(store *s, const notify_args *a, eg_err *err)
{
    notify_opts o;
    notify_stats st;
    notify_opts_init(&o);
    o.ca_file = a->ca_file;
    o.allow_http = a->allow_http;
    if (a->batch) o.batch = a->batch;
    if (a->max_attempts) o.max_attempts = a->max_attempts;
    o.log = print_line;
    int rc = notify_global_init(err);
    if (rc) return rc;
    rc = notify_run_due(s, &o, (int64_t)time(NULL), &st, err);
    notify_global_cleanup();
    if (rc) return rc;
    printf("notify send: %ld due, %ld sent, %ld to retry later, %ld failed%s\n", st.claimed,
           st.sent, st.retry, st.failed,
           st.claimed >= o.batch ? " (batch full: more may be due, run again)" : "");
    return 0;
}

/* ---- retry, add, prune ---------------------------------------------------------- */

static int notify_prune_cmd(store *s, const notify_args *a, eg_err *err)
{
    long days = a->older_than_days < 0 ? 30 : a->older_than_days, gone = 0;
    int rc = notify_prune_sent(s, (int64_t)time(NULL) - (int64_t)days * 86400 + (days ? 0 : 1),
                               &gone, err);
    if (!rc) printf("pruned %ld sent notification(s) older than %ld day(s)\n", gone, days);
    return rc;
}

static int notify_retry_cmd(store *s, int argc, char **argv, eg_err *err)
{
    for (int i = optind; i < argc; i++) {
        int rc = notify_retry(s, argv[i], err);
        if (rc) return rc;
        printf("%s: pending, due now\n", argv[i]);
    }
    return 0;
}

static int notify_add_cmd(store *s, const notify_args *a, int argc, char **argv, eg_err *err)
{
    char id[40];
    int rc = notify_enqueue_id(s, a->client, a->uri, (const char *const *)(argv + optind),
                               (size_t)(argc - optind), id, err);
    if (!rc) printf("%s: queued for %s\n", id, a->uri);
    return rc;
}

int cmd_notify(int argc, char **argv)
{
    notify_args a;
    store *s = NULL;
    eg_err err;
    int rc;
    const char *sub = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    if (!sub && argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(notify_help, stdout);
        return EG_EXIT_OK;
    }
    if (!sub) return cli_usage_error("notify", "say what to do: list, send, retry, add or prune");
    if (strcmp(sub, "list") && strcmp(sub, "send") && strcmp(sub, "retry") && strcmp(sub, "add") &&
        strcmp(sub, "prune"))
        return cli_usage_error("notify", "'%s' is not list, send, retry, add or prune", sub);
    if ((rc = parse_args(argc - 1, argv + 1, &a))) return rc < 0 ? EG_EXIT_OK : rc;
    argc--;
    argv++;
    if (!strcmp(sub, "retry") && optind >= argc)
        return cli_usage_error("notify", "retry wants the ID of a row (see 'espigate notify list')");
    if (!strcmp(sub, "add") && (!a.client || !a.uri || optind >= argc))
        return cli_usage_error("notify", "add wants --client ID, --uri NOTIFY_URI and at least "
                                         "one RESOURCE_URI");
    if ((!strcmp(sub, "list") || !strcmp(sub, "send") || !strcmp(sub, "prune")) && optind < argc)
        return cli_usage_error("notify", "unexpected argument '%s'", argv[optind]);
    eg_err_clear(&err);
    if ((rc = store_open(a.url, &s, &err))) return cli_report(&err);
    if (!strcmp(sub, "list")) rc = notify_list_cmd(s, &a, &err);
    else if (!strcmp(sub, "send")) rc = notify_send_cmd(s, &a, &err);
    else if (!strcmp(sub, "retry")) rc = notify_retry_cmd(s, argc, argv, &err);
    else if (!strcmp(sub, "prune")) rc = notify_prune_cmd(s, &a, &err);
    else rc = notify_add_cmd(s, &a, argc, argv, &err);
    store_close(s);
    return rc ? cli_report(&err) : EG_EXIT_OK;
}
