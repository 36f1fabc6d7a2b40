/* cmd_demo.c -- `espigate demo`: the main job on the shipped samples.
 *
 * What README's first command ends with.  Today it writes a sample
 * Download-My-Data feed (one month of 15-minute data with a DST day, costs,
 * estimated readings and a solar export channel), validates it with our
 * schema and rules -- and with the official ESPI 4.0 XSD when ../shared is
 * beside the checkout -- and says what to try next.  As translators, the
 * store and the server land, this grows into translate -> validate ->
 * store -> serve. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "synth.h"
#include "validate.h"
#include "writer.h"

static const char demo_help[] =
    "Usage: espigate demo [--out DIR] [--xsd PATH]\n"
    "\n"
    "Write a sample Green Button feed to DIR/demo.xml (default DIR: out), validate it with\n"
    "espigate's schema and rules, and with the official ESPI 4.0 XSD when found (default:\n"
    "../shared/espi/schemas/espi-4.0/feed.xsd), then print what to try next.\n"
    "\n"
    "Options:\n"
    "  -o, --out DIR    where to write (created if missing)\n"
    "  -x, --xsd PATH   official XSD file to validate against as well\n"
    "  -h, --help       this help\n";

#define DEFAULT_XSD "../shared/espi/schemas/espi-4.0/feed.xsd"

typedef struct demo_counts { long shown; } demo_counts;

static void print_finding(void *ctx, const espi_diag *d)
{
    demo_counts *c = ctx;
    if (d->severity == ESPI_SEV_INFO || c->shown >= 20) return;
    c->shown++;
    printf("  %s:%ld:%ld: %s: %s\n", d->file, d->line, d->col, d->rule, d->msg);
}

static int write_demo_feed(const char *path, eg_err *err)
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

int cmd_demo(int argc, char **argv)
{
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'},
                                             {"xsd", required_argument, NULL, 'x'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *out = "out", *xsd = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:x:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'x': xsd = optarg; break;
        case 'h': fputs(demo_help, stdout); return EG_EXIT_OK;
        default: return cli_usage_error("demo", "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
    if (!xsd && access(DEFAULT_XSD, R_OK) == 0) xsd = DEFAULT_XSD;

    eg_err err;
    eg_err_clear(&err);
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        eg_errf(&err, EG_ECANTCREAT, out, 0, 0, "cannot create folder: %s", strerror(errno));
        return cli_report(&err);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/demo.xml", out);

    printf("espigate demo\n\n1. write a sample Green Button feed\n");
    if (write_demo_feed(path, &err)) return cli_report(&err);
    struct stat st;
    stat(path, &st);
    printf("   %s: %lld bytes (1 usage point, 31 days of 15-minute import and export "
           "readings with costs)\n",
           path, (long long)st.st_size);

    printf("\n2. validate it: espigate schema + semantic rules%s\n",
           xsd ? " + the official ESPI 4.0 XSD" : " (official XSD not found: skipped)");
    espi_validate_opts vo = {ESPI_LEVEL_FULL, xsd, NULL, 0};
    espi_validate_result r;
    demo_counts counts = {0};
    int rc = espi_validate_file(path, &vo, print_finding, NULL, &counts, &r, &err);
    if (rc && rc != EG_EDATA) return cli_report(&err);
    printf("   %s: %s (%ld entries, %ld interval readings, %ld errors, %ld warnings)\n", path,
           r.errors ? "INVALID" : "valid", r.entries, r.interval_readings, r.errors, r.warnings);

    printf("\nNext:\n"
           "   build/cli/espigate validate %s                 # the same check, by hand\n"
           "   build/cli/espigate validate --format json %s   # for scripts\n"
           "   build/cli/espigate validate ../shared/espi/samples/*.xml    # real utilities' files\n"
           "   build/cli/espigate synth --help                            # bigger feeds\n",
           path, path);
    return r.errors ? EG_EXIT_DATAERR : EG_EXIT_OK;
}
