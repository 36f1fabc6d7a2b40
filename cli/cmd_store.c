/* cmd_store.c -- `espigate import|export|customer|db`: the feed store.
 *
 * Thin shells over feeds/store.h.  The database is chosen by --db URL, else
 * the ESPIGATE_DB environment variable, else sqlite:espigate.db in the
 * current folder; postgresql://... URLs use PostgreSQL.  Import prints the
 * validator's findings exactly as `espigate validate` does (file:line:col:
 * RULE: message) and a one-line summary per feed; a feed with any error is
 * rejected whole.  Export streams through the espi writer into a
 * temporary file renamed into place, so a failed export leaves nothing. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_store.h"
#include "announce.h"
#include "edi867_out.h"
#include "store.h"
#include "writer.h"

static const char import_help[] =
    "Usage: espigate import [options] FEED...\n"
    "\n"
    "Load Green Button feeds (espigate's or a utility's Download My Data file) into the store.\n"
    "Each FEED is validated (as 'espigate validate' does) while it is read and imported in one\n"
    "transaction: a feed with any error is rejected whole and the store is left unchanged.\n"
    "Importing the same feed again changes nothing; an entry with new content or a later\n"
    "<updated> replaces the stored one.\n"
    "\n"
    "Options:\n"
    "  -d, --db URL         sqlite:PATH (default sqlite:espigate.db, or $ESPIGATE_DB) or\n"
    "                       postgresql://user@host/dbname\n"
    "  -c, --customer ID    attach the feeds' usage points to this retail customer\n"
    "                       (create it first with 'espigate customer add ID')\n"
    "  -m, --max-errors N   print at most N findings per feed (default 100, 0 = all)\n"
    "  -q, --quiet          no per-feed summary line\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 all feeds stored, 65 a feed was rejected, 66 a feed cannot be read,\n"
    "74 database error, 64 usage error.\n"
    "\n"
    "Example:\n"
    "  espigate import --db sqlite:usage.db download-my-data.xml\n";

static const char export_help[] =
    "Usage: espigate export [options]\n"
    "\n"
    "Write stored data as one Green Button (ESPI Atom) feed. Entries come in the order they\n"
    "were imported; exporting a store that holds one feed gives that feed back.\n"
    "\n"
    "Options:\n"
    "  -d, --db URL             the store (see 'espigate import --help')\n"
    "  -c, --customer ID        only this retail customer's usage points\n"
    "  -u, --usage-point ID     only this usage point (entry id, bare id or self href)\n"
    "      --from T, --to T     only IntervalBlocks and summaries overlapping [T, T)\n"
    "      --published-min T, --published-max T, --updated-min T, --updated-max T\n"
    "                           ESPI query parameters (T: 2024-03-01 or 2024-03-01T06:00:00Z)\n"
    "      --start-index N      first entry to write, 1-based (default 1)\n"
    "      --max-results N      write at most N entries\n"
    "      --compact            no indentation\n"
    "      --format F           espi (default) or edi867: ANSI X12 867 usage for a trading\n"
    "                           partner (docs/edi867.md); with --control-number N (ISA13/GS06,\n"
    "                           default 1), --sender ID and --receiver ID (ISA06/ISA08)\n"
    "  -o, --output OUT         output file (default -, stdout); written atomically\n"
    "  -h, --help               this help\n"
    "\n"
    "Example:\n"
    "  espigate export --usage-point 5a1d... --from 2024-01-01 --to 2024-02-01 -o jan.xml\n";

static const char customer_help[] =
    "Usage: espigate customer add [--db URL] ID [NAME]\n"
    "       espigate customer list [--db URL] [--format text|json]\n"
    "\n"
    "Retail customers own usage points: 'espigate import --customer ID' attaches a feed's\n"
    "usage points to one, 'espigate export --customer ID' writes all of them.\n";

static const char db_help[] =
    "Usage: espigate db check [--db URL] [--format text|json]\n"
    "\n"
    "Check the store: the database engine's own check (SQLite integrity_check and\n"
    "foreign_key_check), then every stored row: fields and packed readings decode, counts and\n"
    "content hashes match. Entries whose parent is not stored are listed as notes.\n"
    "\n"
    "Exit status: 0 no damage, 65 damage found, 74 database error.\n";


/* ---- import ----------------------------------------------------------------- */

typedef struct import_print {
    const char *name;
    long max, shown, hidden;
    announce *news;              /* usage points that changed: notify their subscriptions */
} import_print;

static void import_changed(void *p, const char *usage_point_self)
{
    import_print *ip = p;
    if (ip->news) announce_changed(ip->news, usage_point_self);
}

static void import_diag(void *p, const espi_diag *d)
{
    import_print *ip = p;
    if (d->severity == ESPI_SEV_INFO) return;
    if (ip->max && ip->shown >= ip->max) {
        ip->hidden++;
        return;
    }
    ip->shown++;
    printf("%s:%ld:%ld: %s: %s%s%s\n", d->file ? d->file : ip->name, d->line, d->col, d->rule,
           d->severity == ESPI_SEV_ERROR ? "" : espi_severity_name(d->severity),
           d->severity == ESPI_SEV_ERROR ? "" : ": ", d->msg);
}

static void import_progress(void *p, unsigned long long bytes)
{
    import_print *ip = p;
    cli_progress(ip->name, bytes, 0);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int import_one(store *s, const char *path, const char *customer, long max_errors,
                      int quiet)
{
    import_print ip = {path, max_errors, 0, 0, announce_new()};
    store_import_opts o = {customer, import_diag, import_progress, &ip, import_changed};
    store_import_result r;
    struct timespec t0;
    eg_err err;
    int status = EG_EXIT_OK;
    eg_err_clear(&err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = store_import_file(s, path, &o, &r, &err);
    double secs = seconds_since(&t0);
    cli_progress_done();
    if (ip.hidden) printf("%s: %ld more findings not shown\n", path, ip.hidden);
    if (rc && !(rc == EG_EDATA && r.rejected)) {
        status = cli_report(&err);
        goto done;
    }
    if (rc) {
        printf("%s: REJECTED (not well-formed XML); the store is unchanged\n", path);
        status = EG_EXIT_DATAERR;
        goto done;
    }
    if (!quiet)
        printf("%s: stored: %ld entries, %lld readings (%ld new, %ld replaced, %ld unchanged, "
               "%ld stale, %ld ignored, %ld warnings) in %.2f s, %.0f readings/s\n",
               path, r.entries, r.readings, r.inserted, r.replaced, r.unchanged, r.stale,
               r.ignored, r.warnings, secs, secs > 0 ? (double)r.readings / secs : 0.0);
    if (r.inserted || r.replaced) {
        /* the import has committed; tell subscribed third parties (queued,
         * durable; `espigate serve` delivers).  A failure here loses no data:
         * the feed is stored, and the message says so. */
        long queued = 0;
        if (!ip.news) {
            fprintf(stderr, "espigate import: %s: stored, but out of memory for notifications\n",
                    path);
        } else if (announce_send(ip.news, s, &queued, &err)) {
            fprintf(stderr, "espigate import: %s: stored, but notifications were not queued: "
                            "%s\n", path, err.msg);
        } else if (queued && !quiet) {
            printf("%s: %ld notification%s queued for subscribed third parties\n", path, queued,
                   queued == 1 ? "" : "s");
        }
    }
done:
    announce_free(ip.news);
    return status;
}

int cmd_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},         {"customer", required_argument, NULL, 'c'},
        {"max-errors", required_argument, NULL, 'm'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0}};
    const char *url = cli_db_url(), *customer = NULL;
    long max_errors = 100;
    int quiet = 0, c, status = EG_EXIT_OK;
    store *s = NULL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:c:m:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': url = optarg; break;
        case 'c': customer = optarg; break;
        case 'm': {
            char *end;
            max_errors = strtol(optarg, &end, 10);
            if (*end || max_errors < 0)
                return cli_usage_error("import", "--max-errors wants a number >= 0, not '%s'",
                                       optarg);
            break;
        }
        case 'q': quiet = 1; break;
        case 'h': fputs(import_help, stdout); return EG_EXIT_OK;
        default: return cli_usage_error("import", "unknown option");
        }
    }
    if (optind >= argc) return cli_usage_error("import", "no FEED given");
    if ((status = cli_store_open(url, &s))) return status;
    for (int i = optind; i < argc; i++) {
        int st = import_one(s, argv[i], customer, max_errors, quiet);
        if (st > status) status = st;
        fflush(stdout);
    }
    store_close(s);
    return status;
}

/* ---- export ----------------------------------------------------------------- */

static int parse_time_opt(const char *name, const char *v, int64_t *out)
{
    if (espi_time_parse(v, out) != 0)
        return cli_usage_error("export", "%s '%s' is not a date or date-time (e.g. 2024-03-01 "
                               "or 2024-03-01T06:00:00Z)", name, v);
    return 0;
}

int cmd_export(int argc, char **argv)
{
    enum { O_FROM = 256, O_TO, O_PMIN, O_PMAX, O_UMIN, O_UMAX, O_START, O_MAX, O_COMPACT,
           O_FORMAT, O_CTRL, O_SENDER, O_RECEIVER };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"customer", required_argument, NULL, 'c'},
        {"usage-point", required_argument, NULL, 'u'},
        {"from", required_argument, NULL, O_FROM},
        {"to", required_argument, NULL, O_TO},
        {"published-min", required_argument, NULL, O_PMIN},
        {"published-max", required_argument, NULL, O_PMAX},
        {"updated-min", required_argument, NULL, O_UMIN},
        {"updated-max", required_argument, NULL, O_UMAX},
        {"start-index", required_argument, NULL, O_START},
        {"max-results", required_argument, NULL, O_MAX},
        {"compact", no_argument, NULL, O_COMPACT},
        {"format", required_argument, NULL, O_FORMAT},
        {"control-number", required_argument, NULL, O_CTRL},
        {"sender", required_argument, NULL, O_SENDER},
        {"receiver", required_argument, NULL, O_RECEIVER},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *url = cli_db_url(), *out = "-";
    espi_writer_opts wo = {1};
    store_query q;
    store *s = NULL;
    int c, rc, edi = 0;
    eg_err err;
    edi867_out_opts eo;

    edi867_out_opts_init(&eo);
    store_query_init(&q);
    eg_err_clear(&err);
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:c:u:o:h", longopts, NULL)) != -1) {
        int64_t *t = NULL;
        long *n = NULL;
        switch (c) {
        case 'd': url = optarg; break;
        case 'c': q.customer = optarg; break;
        case 'u': q.usage_point = optarg; break;
        case 'o': out = optarg; break;
        case O_FROM: t = &q.from; break;
        case O_TO: t = &q.to; break;
        case O_PMIN: t = &q.published_min; break;
        case O_PMAX: t = &q.published_max; break;
        case O_UMIN: t = &q.updated_min; break;
        case O_UMAX: t = &q.updated_max; break;
        case O_START: n = &q.start_index; break;
        case O_MAX: n = &q.max_results; break;
        case O_COMPACT: wo.indent = 0; break;
        case O_FORMAT:
            if (strcmp(optarg, "edi867") != 0 && strcmp(optarg, "espi") != 0)
                return cli_usage_error("export", "--format '%s' is not espi or edi867", optarg);
            edi = strcmp(optarg, "edi867") == 0;
            break;
        case O_CTRL: n = &eo.control_number; break;
        case O_SENDER: snprintf(eo.sender, sizeof eo.sender, "%.15s", optarg); break;
        case O_RECEIVER: snprintf(eo.receiver, sizeof eo.receiver, "%.15s", optarg); break;
        case 'h': fputs(export_help, stdout); return EG_EXIT_OK;
        default: return cli_usage_error("export", "unknown option");
        }
        if (t && (rc = parse_time_opt(argv[optind - 1], optarg, t))) return rc;
        if (n) {
            char *end;
            *n = strtol(optarg, &end, 10);
            if (*end || *n < (n == &q.start_index || n == &eo.control_number ? 1 : 0))
                return cli_usage_error("export", "%s wants a whole number, not '%s'",
                                       argv[optind - 1], optarg);
        }
    }
    if (optind < argc)
        return cli_usage_error("export", "unexpected argument '%s' (use -o FILE for the output)",
                               argv[optind]);
    if (q.from != ESPI_NONE && q.to != ESPI_NONE && q.from >= q.to)
        return cli_usage_error("export", "--from must be before --to");
    if ((rc = cli_store_open(url, &s))) return rc;
    if (edi) {
        rc = edi867_export(s, &q, &eo, out, NULL, &err);
        goto done;
    }
    espi_writer *w = espi_writer_open_path(out, &wo, &err);
    if (!w) {
        rc = err.code ? err.code : EG_ECANTCREAT;
        goto done;
    }
    rc = store_export(s, &q, w, NULL, &err);
    if (rc) espi_writer_abort(w);
    else rc = espi_writer_close(w, &err);
done:
    store_close(s);
    return rc ? cli_report(&err) : EG_EXIT_OK;
}

/* ---- customer ----------------------------------------------------------------- */

typedef struct list_ctx {
    cli_format fmt;
    long n;
} list_ctx;

static int print_customer(void *p, const char *id, const char *name, long ups)
{
    list_ctx *l = p;
    if (l->fmt == CLI_FMT_JSON) {
        printf("%s\n  {\"id\": ", l->n ? "," : "");
        eg_json_string(stdout, id);
        printf(", \"name\": ");
        eg_json_string(stdout, name);
        printf(", \"usage_points\": %ld}", ups);
    } else {
        printf("%s\t%s\t%ld usage point%s\n", id, name, ups, ups == 1 ? "" : "s");
    }
    l->n++;
    return 0;
}

/* Options shared by customer and db: --db, --format. */
static int store_cmd_opts(const char *cmd, const char *help, int argc, char **argv,
                          const char **url, cli_format *fmt)
{
    static const struct option longopts[] = {{"db", required_argument, NULL, 'd'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': *url = optarg; break;
        case 'f': {
            int f = cli_parse_format(optarg, 1u << CLI_FMT_TEXT | 1u << CLI_FMT_JSON);
            if (f < 0) return cli_usage_error(cmd, "--format '%s' is not text or json", optarg);
            *fmt = (cli_format)f;
            break;
        }
        case 'h': fputs(help, stdout); return -1;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    return 0;
}

int cmd_customer(int argc, char **argv)
{
    const char *url = cli_db_url();
    cli_format fmt = CLI_FMT_TEXT;
    store *s = NULL;
    eg_err err;
    int rc = store_cmd_opts("customer", customer_help, argc, argv, &url, &fmt);
    if (rc) return rc < 0 ? EG_EXIT_OK : rc;
    eg_err_clear(&err);
    if (optind >= argc) return cli_usage_error("customer", "say 'add ID [NAME]' or 'list'");
    const char *verb = argv[optind];
    int nargs = argc - optind - 1;
    if (strcmp(verb, "add") == 0) {
        if (nargs < 1 || nargs > 2)
            return cli_usage_error("customer", "'add' takes ID and an optional NAME");
        if ((rc = cli_store_open(url, &s))) return rc;
        rc = store_customer_add(s, argv[optind + 1], nargs == 2 ? argv[optind + 2] : "", &err);
        if (!rc) printf("customer %s added\n", argv[optind + 1]);
    } else if (strcmp(verb, "list") == 0) {
        list_ctx l = {fmt, 0};
        if (nargs) return cli_usage_error("customer", "'list' takes no arguments");
        if ((rc = cli_store_open(url, &s))) return rc;
        if (fmt == CLI_FMT_JSON) printf("[");
        rc = store_customer_list(s, print_customer, &l, &err);
        if (fmt == CLI_FMT_JSON) printf("%s]\n", l.n ? "\n" : "");
    } else {
        return cli_usage_error("customer", "'%s' is not add or list", verb);
    }
    store_close(s);
    return rc ? cli_report(&err) : EG_EXIT_OK;
}

/* ---- db check ----------------------------------------------------------------- */

typedef struct check_print {
    cli_format fmt;
    long n;
} check_print;

static void print_problem(void *p, const char *msg)
{
    check_print *cp = p;
    if (cp->fmt == CLI_FMT_JSON) {
        printf("%s\n    ", cp->n ? "," : "");
        eg_json_string(stdout, msg);
    } else {
        printf("%s\n", msg);
    }
    cp->n++;
}

int cmd_db(int argc, char **argv)
{
    const char *url = cli_db_url();
    cli_format fmt = CLI_FMT_TEXT;
    store *s = NULL;
    store_check_result r;
    eg_err err;
    int rc = store_cmd_opts("db", db_help, argc, argv, &url, &fmt);
    if (rc) return rc < 0 ? EG_EXIT_OK : rc;
    eg_err_clear(&err);
    if (optind >= argc || strcmp(argv[optind], "check") != 0 || optind + 1 != argc)
        return cli_usage_error("db", "the only subcommand is 'check'");
    if ((rc = cli_store_open(url, &s))) return rc;
    check_print cp = {fmt, 0};
    if (fmt == CLI_FMT_JSON) printf("{\n  \"messages\": [");
    rc = store_check(s, print_problem, &cp, &r, &err);
    store_close(s);
    if (rc) {
        if (fmt == CLI_FMT_JSON) printf("]\n}\n");
        return cli_report(&err);
    }
    if (fmt == CLI_FMT_JSON) {
        printf("%s],\n  \"ok\": %s, \"problems\": %ld, \"orphans\": %ld, \"resources\": %ld,"
               " \"series\": %ld, \"blocks\": %ld, \"readings\": %lld, \"customers\": %ld,"
               " \"feeds\": %ld\n}\n",
               cp.n ? "\n  " : "", r.problems ? "false" : "true", r.problems, r.orphans,
               r.resources, r.series, r.blocks, r.readings, r.customers, r.feeds);
    } else {
        printf("%s: %s: %ld problems, %ld notes; %ld entries, %ld interval blocks in %ld series,"
               " %lld readings, %ld customers, %ld feeds\n",
               url, r.problems ? "DAMAGED" : "ok", r.problems, r.orphans, r.resources, r.blocks,
               r.series, r.readings, r.customers, r.feeds);
    }
    return r.problems ? EG_EXIT_DATAERR : EG_EXIT_OK;
}
