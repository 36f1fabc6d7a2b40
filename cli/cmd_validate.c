/* cmd_validate.c -- `espigate validate`: check Green Button feeds.
 *
 * Each FEED is streamed once through espi_validate_file() (reader + our
 * schema + semantic rules, plus the official XSD with --xsd).  Findings are
 * printed as they arrive, so a 1 GB feed with a million problems still
 * runs in constant memory; only --format junit buffers, and only up to
 * --max-errors findings per file. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "validate.h"

static const char validate_help[] =
    "Usage: espigate validate [options] FEED...\n"
    "\n"
    "Check Green Button (NAESB REQ.21 ESPI) feeds -- Download My Data files, Batch/Subscription\n"
    "responses or single entries, ours or any utility's -- against espigate's schema and the\n"
    "semantic rules in docs/rules.md. Each problem is printed as\n"
    "    file:line:col: RULE-ID: message\n"
    "FEED '-' reads standard input.\n"
    "\n"
    "Options:\n"
    "  -f, --format FMT     text (default), json (one document on stdout) or junit (XML report)\n"
    "  -x, --xsd PATH       also validate with the official XSD: a .xsd file, or a folder holding\n"
    "                       feed.xsd (e.g. ../shared/espi/schemas/espi-4.0); findings are XSD-001\n"
    "  -l, --level LEVEL    schema (well-formedness and schema only) or full (default: + rules)\n"
    "  -s, --strict         warnings make a feed invalid too\n"
    "  -m, --max-errors N   print at most N findings per feed (default 100, 0 = all)\n"
    "  -i, --ignore RULE    drop findings of RULE (e.g. LINK-004); repeatable\n"
    "  -q, --quiet          print findings only, no per-feed summary line\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 every feed valid, 65 a feed is invalid or not XML, 66 a feed cannot be\n"
    "read, 64 usage error.\n"
    "\n"
    "Examples:\n"
    "  espigate validate usage.xml\n"
    "  espigate validate --format json --xsd ../shared/espi/schemas/espi-4.0 *.xml\n";

typedef struct vopts {
    cli_format format;
    int strict, quiet;
    long max_errors;
} vopts;

/* Per-file state for printing findings. */
typedef struct vfile {
    const vopts *o;
    const char *name;
    long shown, hidden;
    int first_json;
    /* junit buffer */
    char **junit;
    long n_junit;
} vfile;

static void print_diag(void *p, const espi_diag *d)
{
    vfile *f = p;
    if (d->severity == ESPI_SEV_INFO) return;
    if (f->o->max_errors && f->shown >= f->o->max_errors) {
        f->hidden++;
        return;
    }
    f->shown++;
    const char *sev = espi_severity_name(d->severity);
    switch (f->o->format) {
    case CLI_FMT_TEXT:
        cli_print_position(stdout, d->file ? d->file : f->name, d->line, d->col);
        printf(" %s: %s%s%s\n", d->rule, d->severity == ESPI_SEV_ERROR ? "" : sev,
               d->severity == ESPI_SEV_ERROR ? "" : ": ", d->msg);
        break;
    case CLI_FMT_JSON:
        printf("%s\n      {\"rule\": ", f->first_json ? "" : ",");
        f->first_json = 0;
        eg_json_string(stdout, d->rule);
        printf(", \"severity\": \"%s\", \"line\": %ld, \"col\": %ld, \"message\": ", sev, d->line,
               d->col);
        eg_json_string(stdout, d->msg);
        printf("}");
        break;
    case CLI_FMT_JUNIT: {
        char **grown = realloc(f->junit, (size_t)(f->n_junit + 1) * sizeof *grown);
        if (!grown) return;
        f->junit = grown;
        size_t len = strlen(d->msg) + strlen(d->rule) + 64;
        char *s = malloc(len);
        if (!s) return;
        snprintf(s, len, "%s\t%s\t%ld:%ld\t%s", d->rule, sev, d->line, d->col, d->msg);
        f->junit[f->n_junit++] = s;
        break;
    }
    }
}

static void show_progress(void *p, unsigned long long bytes)
{
    vfile *f = p;
    cli_progress(f->name, bytes, 0);
}

static void junit_file(const vfile *f, const espi_validate_result *r, int ok)
{
    printf("  <testsuite name=\"");
    eg_xml_text(stdout, f->name);
    printf("\" tests=\"%ld\" failures=\"%ld\" errors=\"0\">\n", f->n_junit ? f->n_junit : 1,
           ok ? 0 : (f->n_junit ? f->n_junit : 1));
    if (!f->n_junit) {
        printf("    <testcase classname=\"espigate.validate\" name=\"%s\"/>\n",
               ok ? "valid" : "invalid");
    }
    for (long i = 0; i < f->n_junit; i++) {
        char *s = f->junit[i], *rule = s, *sev = strchr(rule, '\t');
        *sev++ = '\0';
        char *pos = strchr(sev, '\t');
        *pos++ = '\0';
        char *msg = strchr(pos, '\t');
        *msg++ = '\0';
        printf("    <testcase classname=\"espigate.validate.");
        eg_xml_text(stdout, rule);
        printf("\" name=\"");
        eg_xml_text(stdout, f->name);
        printf(":%s\">\n      <failure type=\"%s\" message=\"", pos, sev);
        eg_xml_text(stdout, msg);
        printf("\"/>\n    </testcase>\n");
    }
    printf("    <system-out>entries=%ld readings=%ld errors=%ld warnings=%ld</system-out>\n",
           r->entries, r->interval_readings, r->errors, r->warnings);
    printf("  </testsuite>\n");
}

/* Validate one feed; returns its exit status. */
static int validate_one(const char *path, const vopts *o, const espi_validate_opts *vo,
                        int *first_file)
{
    vfile f = {o, path, 0, 0, 1, NULL, 0};
    espi_validate_result r;
    eg_err err;
    eg_err_clear(&err);

    if (o->format == CLI_FMT_JSON) {
        printf("%s\n    {\"file\": ", *first_file ? "" : ",");
        eg_json_string(stdout, path);
        printf(", \"diagnostics\": [");
    }
    *first_file = 0;
    int rc = espi_validate_file(path, vo, print_diag, show_progress, &f, &r, &err);
    cli_progress_done();

    int ok = rc == 0 && r.errors == 0 && !(o->strict && r.warnings);
    int status = ok ? EG_EXIT_OK : EG_EXIT_DATAERR;
    if (rc == EG_ENOINPUT || rc == EG_ENOMEM || rc == EG_EIO) status = eg_exit_status(rc);
    if (rc && rc != EG_EDATA && o->format == CLI_FMT_TEXT) cli_report(&err);

    switch (o->format) {
    case CLI_FMT_TEXT:
        if (f.hidden)
            printf("%s: %ld more findings not shown (use --max-errors 0 to see all)\n", path,
                   f.hidden);
        if (!o->quiet && rc != EG_ENOINPUT)
            printf("%s: %s (%ld entries, %ld interval readings, %ld errors, %ld warnings)\n", path,
                   ok ? "valid" : "INVALID", r.entries, r.interval_readings, r.errors, r.warnings);
        break;
    case CLI_FMT_JSON:
        printf("%s], \"valid\": %s, \"readable\": %s, \"errors\": %ld, \"warnings\": %ld, "
               "\"entries\": %ld, \"interval_readings\": %ld, \"bytes\": %llu, \"hidden\": %ld",
               f.first_json ? "" : "\n    ", ok ? "true" : "false",
               rc == EG_ENOINPUT ? "false" : "true", r.errors, r.warnings, r.entries,
               r.interval_readings, r.bytes, f.hidden);
        if (rc && rc != EG_EDATA) {
            printf(", \"error\": ");
            eg_json_string(stdout, err.msg);
        }
        printf("}");
        break;
    case CLI_FMT_JUNIT:
        junit_file(&f, &r, ok);
        break;
    }
    for (long i = 0; i < f.n_junit; i++) free(f.junit[i]);
    free(f.junit);
    return status;
}

int cmd_validate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"xsd", required_argument, NULL, 'x'},
        {"level", required_argument, NULL, 'l'},  {"strict", no_argument, NULL, 's'},
        {"max-errors", required_argument, NULL, 'm'}, {"quiet", no_argument, NULL, 'q'},
        {"ignore", required_argument, NULL, 'i'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static const char *ignore[64];
    vopts o = {CLI_FMT_TEXT, 0, 0, 100};
    espi_validate_opts vo = {ESPI_LEVEL_FULL, NULL, ignore, 0};
    char xsd_buf[4096];
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "f:x:l:sm:i:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': {
            int fmt = cli_parse_format(optarg, 7);
            if (fmt < 0)
                return cli_usage_error("validate", "--format '%s' is not text, json or junit",
                                       optarg);
            o.format = (cli_format)fmt;
            break;
        }
        case 'x': {
            struct stat st;
            if (stat(optarg, &st) != 0)
                return cli_usage_error("validate", "--xsd '%s' does not exist", optarg);
            if (S_ISDIR(st.st_mode)) {
                snprintf(xsd_buf, sizeof xsd_buf, "%s/feed.xsd", optarg);
                if (stat(xsd_buf, &st) != 0)
                    return cli_usage_error("validate", "--xsd folder '%s' has no feed.xsd", optarg);
                vo.xsd_file = xsd_buf;
            } else {
                vo.xsd_file = optarg;
            }
            break;
        }
        case 'l':
            if (strcmp(optarg, "schema") == 0) vo.level = ESPI_LEVEL_SCHEMA;
            else if (strcmp(optarg, "full") == 0) vo.level = ESPI_LEVEL_FULL;
            else return cli_usage_error("validate", "--level '%s' is not schema or full", optarg);
            break;
        case 's': o.strict = 1; break;
        case 'i':
            if (vo.n_ignore == (int)(sizeof ignore / sizeof ignore[0]))
                return cli_usage_error("validate", "at most 64 --ignore options");
            ignore[vo.n_ignore++] = optarg;
            break;
        case 'q': o.quiet = 1; break;
        case 'm': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 0)
                return cli_usage_error("validate", "--max-errors wants a number >= 0, not '%s'",
                                       optarg);
            o.max_errors = n;
            break;
        }
        case 'h': fputs(validate_help, stdout); return EG_EXIT_OK;
        default: return cli_usage_error("validate", "unknown option");
        }
    }
    if (optind >= argc) return cli_usage_error("validate", "no FEED given");

    if (o.format == CLI_FMT_JSON) printf("{\n  \"files\": [");
    if (o.format == CLI_FMT_JUNIT)
        printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"espigate validate\">\n");
    int status = EG_EXIT_OK, first = 1;
    for (int i = optind; i < argc; i++) {
        int s = validate_one(argv[i], &o, &vo, &first);
        /* the worst status wins: missing input (66) over invalid data (65) */
        if (s > status) status = s;
    }
    if (o.format == CLI_FMT_JSON)
        printf("\n  ],\n  \"valid\": %s\n}\n", status == EG_EXIT_OK ? "true" : "false");
    if (o.format == CLI_FMT_JUNIT) printf("</testsuites>\n");
    fflush(stdout);
    return status;
}
