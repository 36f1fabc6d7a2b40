/* cmd_demo.c -- `espigate demo`: the main job on the shipped samples.
 *
 * What README's first command ends with.  For every source sample shipped
 * in samples/<format>/ (Smart Meter Texas, SmartHub, Opower, co-op bills,
 * Excel) it runs `espigate translate` into DIR/<format>/<name>.xml, then
 * validates each feed with our schema and rules -- and with the official
 * ESPI 4.0 XSD when ../shared is beside the checkout -- and writes one
 * larger synthetic feed as well.  It ends with a table of what was made and
 * what to try next.  Then it stores every valid feed (SQLite, OUT/demo.db,
 * for one demo retail customer), registers a demo member login and a demo
 * third-party application, makes development TLS certificates
 * (certs/make-dev-certs.sh) and runs the Data Custodian (`espigate serve`)
 * on https://localhost:8443, printing the URL and the demo credentials:
 * translate -> validate -> store -> serve.
 *
 * The demo drives the real commands (cmd_translate) rather than a copy of
 * their logic, so what it shows is exactly what a user gets by hand. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>
#include <time.h>

#include "cli.h"
#include "cmd_serve.h"
#include "custodian.h"
#include "store.h"
#include "synth.h"
#include "validate.h"
#include "writer.h"

static const char demo_help[] =
    "Usage: espigate demo [--out DIR] [--samples DIR] [--xsd PATH] [--listen ADDR] [--no-serve]\n"
    "\n"
    "Translate every shipped source sample (samples/smt, smarthub, opower, coop-bill, xlsx,\n"
    "edi867) into Green Button feeds under DIR (default: out), validate each with espigate's\n"
    "schema and rules, and with the official ESPI 4.0 XSD when found (default:\n"
    "../shared/espi/schemas/espi-4.0/feed.xsd), write a synthetic month of data too, and\n"
    "print what was made.  Then store every valid feed in DIR/demo.db (SQLite, made anew),\n"
    "for one demo retail customer, register a demo member login and a demo third-party\n"
    "application, make development certificates (certs/make-dev-certs.sh certs/dev) and run\n"
    "the Connect-My-Data Data Custodian over HTTPS, printing its URL and the credentials.\n"
    "Stop the server with Ctrl-C.\n"
    "\n"
    "Options:\n"
    "  -o, --out DIR       where to write (created if missing)\n"
    "  -s, --samples DIR   the samples folder (default: samples)\n"
    "  -x, --xsd PATH      official XSD file to validate against as well\n"
    "  -l, --listen ADDR   where the server listens (default 127.0.0.1:8443)\n"
    "      --no-serve      stop after storing: no certificates, no server\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 when every sample translated to a valid feed, 65 otherwise.\n";

#define DEFAULT_XSD "../shared/espi/schemas/espi-4.0/feed.xsd"
#define PATH_MAX_DEMO 4096
#define MAX_FILES 64

/* The shipped samples: folder under samples/ and the zone of its data. */
static const struct demo_source {
    const char *dir, *zone, *what;
} sources[] = {
    {"smt", "America/Chicago", "Smart Meter Texas CSV"},
    {"smarthub", "America/Chicago", "SmartHub JSON and CSV"},
    {"opower", "America/New_York", "Opower CSV"},
    {"coop-bill", "America/Chicago", "co-op bills"},
    {"xlsx", "America/Chicago", "Excel interval exports"},
    {"edi867", "America/Chicago", "EDI X12 867 usage"},
};

typedef struct demo_totals {
    int feeds, valid;
    long readings, errors, warnings;
    char *valid_paths[MAX_FILES * 8];    /* what step 3 stores */
    int n_valid_paths;
} demo_totals;

typedef struct demo_diag { long shown; } demo_diag;

static void print_finding(void *ctx, const espi_diag *d)
{
    demo_diag *c = ctx;
    if (d->severity == ESPI_SEV_INFO || c->shown >= 5) return;
    c->shown++;
    fputs("      ", stdout);
    cli_print_position(stdout, d->file, d->line, d->col);
    printf(" %s: %s%s%s\n", d->rule, d->severity == ESPI_SEV_ERROR ? "" : "warning",
           d->severity == ESPI_SEV_ERROR ? "" : ": ", d->msg);
}

static int make_dir(const char *path, eg_err *err)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return eg_errf(err, EG_ECANTCREAT, path, 0, 0, "cannot create folder: %s", strerror(errno));
    return 0;
}

/* Validate one feed and print a result line; counts go into t. */
static void check_feed(const char *path, const char *xsd, demo_totals *t)
{
    espi_validate_opts vo = {ESPI_LEVEL_FULL, xsd, NULL, 0};
    espi_validate_result r;
    demo_diag d = {0};
    eg_err err;
    eg_err_clear(&err);
    int rc = espi_validate_file(path, &vo, print_finding, NULL, &d, &r, &err);
    int ok = rc == 0 && r.errors == 0;
    t->feeds++;
    t->valid += ok;
    t->readings += r.interval_readings;
    t->errors += r.errors;
    t->warnings += r.warnings;
    if (ok && t->n_valid_paths < (int)(sizeof t->valid_paths / sizeof t->valid_paths[0]))
        t->valid_paths[t->n_valid_paths++] = strdup(path);
    printf("    %-64s %s: %ld entries, %ld readings, %ld errors, %ld warnings\n", path,
           ok ? "valid" : "INVALID", r.entries, r.interval_readings, r.errors, r.warnings);
}

static int is_input(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.') return 0;
    if (n > 13 && strcmp(name + n - 13, ".expected.xml") == 0) return 0;
    if (n > 3 && (strcmp(name + n - 3, ".md") == 0 || strcmp(name + n - 3, ".py") == 0)) return 0;
    if (n > 4 && strcmp(name + n - 4, ".xml") == 0) return 0;
    return 1;
}

/* Some samples are one source split in two files that are translated
 * together: a billing history and its line items ("X_history_N.csv" +
 * "X_line_items_N.csv").  companion_for() names the second file of a main
 * one; companion_of() says a file is such a second file. */
static void companion_name(const char *main_name, char *out, size_t size)
{
    const char *h = strstr(main_name, "_history");
    if (!h) {
        out[0] = '\0';
        return;
    }
    snprintf(out, size, "%.*s_line_items%s", (int)(h - main_name), main_name, h + 8);
}

static const char *companion_for(const char *name, char *const *names, int n)
{
    char want[512];
    companion_name(name, want, sizeof want);
    for (int i = 0; want[0] && i < n; i++)
        if (strcmp(names[i], want) == 0) return names[i];
    return NULL;
}

static int companion_of(const char *name, char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (names[i] != name && companion_for(names[i], names, n) &&
            strcmp(companion_for(names[i], names, n), name) == 0)
            return 1;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Translate every input in samples/<src->dir> into out/<dir>/NAME.xml. */
static int demo_source(const char *samples, const char *out, const struct demo_source *src,
                       const char *xsd, demo_totals *t)
{
    char dir[PATH_MAX_DEMO], odir[PATH_MAX_DEMO];
    char *names[MAX_FILES];
    int n = 0, failed = 0;
    snprintf(dir, sizeof dir, "%s/%s", samples, src->dir);
    DIR *d = opendir(dir);
    if (!d) return 0; /* format not shipped (yet) */
    struct dirent *de;
    while ((de = readdir(d)) && n < MAX_FILES)
        if (is_input(de->d_name) && (names[n] = strdup(de->d_name))) n++;
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);

    eg_err err;
    snprintf(odir, sizeof odir, "%s/%s", out, src->dir);
    if (n && make_dir(odir, &err)) {
        cli_report(&err);
        failed = n;
    }
    if (n && !failed) printf("  %s (%s, zone %s)\n", src->what, dir, src->zone);
    for (int i = 0; i < n && !failed; i++) {
        char in[PATH_MAX_DEMO * 2], in2[PATH_MAX_DEMO * 2], outp[PATH_MAX_DEMO * 3];
        if (companion_of(names[i], names, n)) continue; /* goes with its main file */
        snprintf(in, sizeof in, "%s/%s", dir, names[i]);
        const char *dot = strrchr(names[i], '.');
        int stem = dot ? (int)(dot - names[i]) : (int)strlen(names[i]);
        snprintf(outp, sizeof outp, "%s/%.*s.xml", odir, stem, names[i]);
        char a0[] = "translate", a1[] = "--tz", a3[] = "--quiet", a4[] = "-o";
        char *argv[] = {a0, a1, (char *)src->zone, a3, a4, outp, in, NULL, NULL};
        int argc = 7;
        const char *comp = companion_for(names[i], names, n);
        if (comp) {
            snprintf(in2, sizeof in2, "%s/%s", dir, comp);
            argv[argc++] = in2;
        }
        int st = cmd_translate(argc, argv);
        if (st != EG_EXIT_OK) {
            printf("    %-64s translate FAILED (exit %d)\n", in, st);
            t->feeds++;
            failed++;
            continue;
        }
        check_feed(outp, xsd, t);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    return failed;
}

static int write_synthetic(const char *path, eg_err *err)
{
    espi_synth_opts so;
    espi_synth_opts_init(&so);
    so.usage_points = 1;
    espi_time_parse("2024-03-01T00:00:00Z", &so.start);
    so.days = 31;
    so.interval = 900;
    so.with_cost = 1;
    so.with_quality = 1;
    so.net_metering = 1;
    espi_writer *w = espi_writer_open_path(path, NULL, err);
    if (!w) return err->code;
    int rc = espi_synth_write(w, &so, err);
    if (rc) {
        espi_writer_abort(w);
        return rc;
    }
    return espi_writer_close(w, err);
}

#define DEMO_CUSTOMER "member-1001"
#define DEMO_LOGIN "demo"
#define DEMO_PASSWORD "greenbutton-demo"
#define DEMO_SCOPE "FB=1_3_4_5_8_12_13_14_15_16_39;IntervalDuration=900_3600_86400;" \
                   "BlockDuration=daily;HistoryLength=13"
#define DEMO_CALLBACK "/demo/callback" /* answered by serve's front page */
#define DEMO_VERIFIER "espigate-demo-verifier-0123456789-0123456789-0123456789"

/* 3. every valid feed into a fresh SQLite store for the demo customer. */
static int demo_store(const char *out, const demo_totals *t, char *url, size_t size,
                      long *stored)
{
    char path[PATH_MAX_DEMO];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    store *s = NULL;
    eg_err err;
    eg_err_clear(&err);
    *stored = 0;
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/demo.db%s", out, suffix[i]);
        unlink(path);
    }
    snprintf(url, size, "sqlite:%s/demo.db", out);
    int rc = store_open(url, &s, &err);
    if (!rc) rc = store_customer_add(s, DEMO_CUSTOMER, "Demo Member", &err);
    for (int i = 0; !rc && i < t->n_valid_paths; i++) {
        store_import_opts o = {.customer = DEMO_CUSTOMER};
        store_import_result r;
        rc = store_import_file(s, t->valid_paths[i], &o, &r, &err);
        if (!rc) *stored += r.readings;
    }
    store_close(s);
    return rc ? cli_report(&err) : 0;
}

/* Run certs/make-dev-certs.sh DIR; 0 when the certificate is there. */
static int demo_certs(const char *dir)
{
    if (access("certs/make-dev-certs.sh", R_OK) != 0) {
        fprintf(stderr, "espigate demo: certs/make-dev-certs.sh not found: run the demo from "
                        "the espigate checkout (./run.sh demo)\n");
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 1);
        execlp("bash", "bash", "certs/make-dev-certs.sh", dir, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "espigate demo: certs/make-dev-certs.sh failed (is openssl installed?)\n");
        return -1;
    }
    return 0;
}

/* 4. the demo member and third-party application; prints the credentials. */
static int demo_custodian(const char *url, const char *base)
{
    store *s = NULL;
    eg_err err;
    eg_err_clear(&err);
    cd_app *app = calloc(1, sizeof *app);
    char secret[CD_SECRET_MAX], challenge[48], redirect[400];
    snprintf(redirect, sizeof redirect, "%s" DEMO_CALLBACK, base);
    int rc = app ? store_open(url, &s, &err) : eg_errf(&err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc) rc = cd_init(s, &err);
    if (!rc) rc = cd_member_set(s, DEMO_LOGIN, DEMO_CUSTOMER, DEMO_PASSWORD, (int64_t)time(NULL), &err);
    if (!rc) {
        snprintf(app->name, sizeof app->name, "Demo Third Party");
        snprintf(app->redirect_uri[0], sizeof app->redirect_uri[0], "%s", redirect);
        app->n_redirect_uri = 1;
        snprintf(app->scope[0], sizeof app->scope[0], "%s", DEMO_SCOPE);
        app->n_scope = 1;
        rc = cd_app_add(s, app, (int64_t)time(NULL), secret, &err);
    }
    store_close(s);
    if (rc) {
        free(app);
        return cli_report(&err);
    }
    cd_pkce_s256(DEMO_VERIFIER, challenge);
    printf("\n4. the Data Custodian's demo accounts (store %s)\n", url);
    printf("   member (consent page login):  %s / %s   (retail customer %s)\n", DEMO_LOGIN,
           DEMO_PASSWORD, DEMO_CUSTOMER);
    printf("   member's own data page:       %s/DataCustodian/member\n", base);
    printf("   third-party application:      client_id     %s\n", app->client_id);
    printf("                                 client_secret %s\n", secret);
    printf("\n   Try it (in another terminal; the certificate is signed by the development CA\n"
           "   certs/dev/ca.pem, so the browser warns once):\n");
    printf("   a) the member approves in a browser:\n"
           "      %s/DataCustodian/oauth/authorize?response_type=code&client_id=%s"
           "&redirect_uri=%s&state=demo&code_challenge=%s&code_challenge_method=S256\n",
           base, app->client_id, redirect, challenge);
    printf("      (the browser then lands on %s, which shows the code)\n", redirect);
    printf("   b) the app trades the code for a token:\n"
           "      curl --cacert certs/dev/ca.pem -u '%s:%s' -d grant_type=authorization_code \\\n"
           "           -d code=CODE -d redirect_uri=%s -d code_verifier=%s \\\n"
           "           %s/DataCustodian/oauth/token\n",
           app->client_id, secret, redirect, DEMO_VERIFIER, base);
    printf("   c) and reads the member's data from the resourceURI it got:\n"
           "      curl --cacert certs/dev/ca.pem -H 'Authorization: Bearer TOKEN' RESOURCE_URI\n");
    free(app);
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'},
                                             {"samples", required_argument, NULL, 's'},
                                             {"xsd", required_argument, NULL, 'x'},
                                             {"listen", required_argument, NULL, 'l'},
                                             {"no-serve", no_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *out = "out", *xsd = NULL, *samples = "samples", *listen = "127.0.0.1:8443";
    int c, serve = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:s:x:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 's': samples = optarg; break;
        case 'x': xsd = optarg; break;
        case 'l': listen = optarg; break;
        case 'n': serve = 0; break;
        case 'h': fputs(demo_help, stdout); return EG_EXIT_OK;
        default: return cli_usage_error("demo", "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
    if (!xsd && access(DEFAULT_XSD, R_OK) == 0) xsd = DEFAULT_XSD;

    eg_err err;
    eg_err_clear(&err);
    if (make_dir(out, &err)) return cli_report(&err);

    demo_totals t;
    memset(&t, 0, sizeof t);
    int failed = 0;
    printf("espigate demo\n\n1. translate the shipped samples and validate each feed: espigate "
           "schema + rules%s\n",
           xsd ? " + the official ESPI 4.0 XSD" : " (official XSD not found: skipped)");
    fflush(stdout);
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        failed += demo_source(samples, out, &sources[i], xsd, &t);
        fflush(stdout);
    }

    char path[PATH_MAX_DEMO];
    snprintf(path, sizeof path, "%s/synthetic-month.xml", out);
    printf("\n2. a synthetic month (espigate synth): 15-minute import and export with costs\n");
    if (write_synthetic(path, &err)) return cli_report(&err);
    check_feed(path, xsd, &t);

    printf("\n%d feeds, %d valid, %ld interval readings, %ld errors, %ld warnings\n", t.feeds,
           t.valid, t.readings, t.errors, t.warnings);
    int status = failed || t.valid != t.feeds ? EG_EXIT_DATAERR : EG_EXIT_OK;

    char url[PATH_MAX_DEMO + 16];
    long stored = 0;
    printf("\n3. store the valid feeds (import: validated again, one transaction each)\n");
    int st = demo_store(out, &t, url, sizeof url, &stored);
    for (int i = 0; i < t.n_valid_paths; i++) free(t.valid_paths[i]);
    if (st) return st;
    printf("   %s: %d feeds, %ld interval readings for retail customer %s\n", url,
           t.n_valid_paths, stored, DEMO_CUSTOMER);
    if (!serve || status != EG_EXIT_OK) {
        printf("\nNext:\n"
               "   build/cli/espigate translate --summary --tz America/Chicago samples/smt/*.csv\n"
               "   build/cli/espigate render %s -o %s/synthetic-month.html\n"
               "   build/cli/espigate export --db %s --customer %s | head\n"
               "   build/cli/espigate validate ../shared/espi/samples/*.xml     # real utilities' files\n",
               path, out, url, DEMO_CUSTOMER);
        return status;
    }

    char base[300];
    serve_default_base(listen, base, sizeof base);
    if (demo_certs("certs/dev")) return EG_EXIT_CONFIG;
    if ((st = demo_custodian(url, base))) return st;
    printf("\n5. the Data Custodian (espigate serve); stop it with Ctrl-C\n");
    fflush(stdout);
    char a0[] = "serve", a1[] = "--db", a3[] = "--listen", a5[] = "--base-url", a7[] = "--cert",
         a8[] = "certs/dev/server.pem", a9[] = "--key", a10[] = "certs/dev/server.key";
    char *sargv[] = {a0, a1, url, a3, (char *)listen, a5, base, a7, a8, a9, a10, NULL};
    return cmd_serve(11, sargv);
}
