/* cmd_render.c -- `espigate render`: Green Button feeds people can read.
 *
 * HTML (default): one self-contained page per feed, made by render/ from
 * an aggregate of the feed through the built-in stylesheet.  CSV: one row
 * per interval reading, streamed.  Output goes to a temporary file next to
 * -o OUT and is renamed into place only when complete, so a failed run
 * never leaves a half-written report. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_render.h"
#include "render.h"

static const char render_help[] =
    "Usage: espigate render [options] FEED\n"
    "\n"
    "Show a Green Button (NAESB REQ.21 ESPI) feed to people:\n"
    "  html  one self-contained page (no scripts, no network): usage points, meter readings\n"
    "        with their reading types in words, a daily-usage chart and a 24-hour average\n"
    "        load profile, import/export for net metering, billing periods with line items,\n"
    "        estimated and missing readings highlighted; times in the feed's local time\n"
    "  csv   one row per interval reading for spreadsheets: usage point, meter reading,\n"
    "        reading type, start UTC, start local, duration (s), value as an exact decimal,\n"
    "        unit (e.g. kWh), cost, currency, quality\n"
    "FEED '-' reads standard input (copied to a temporary file: the feed is read twice).\n"
    "\n"
    "Options:\n"
    "  -f, --format FMT   html (default) or csv\n"
    "  -o, --output OUT   write to OUT ('-' = standard output, the default); OUT appears\n"
    "                     only when complete\n"
    "  -t, --title TEXT   page title (default: the feed's title)\n"
    "  -h, --help         this help\n"
    "\n"
    "Limits: the HTML page aggregates at most 200,000 day rows (meter readings x local days),\n"
    "512 meter readings and 2,000 billing periods; above that, split the feed or export a\n"
    "shorter date range.  CSV has no data limit.\n"
    "\n"
    "Exit status: 0 done, 65 the feed cannot be read (file:line:col says where) or is over a\n"
    "limit, 66 FEED missing, 73 OUT cannot be created, 74 write error, 64 usage error.\n"
    "\n"
    "Examples:\n"
    "  espigate render usage.xml -o usage.html\n"
    "  espigate render --format csv usage.xml -o usage.csv\n";

typedef enum rformat { RENDER_HTML, RENDER_CSV } rformat;

/* Open the output: stdout for "-", else a temp file beside path. */
static FILE *open_output(const char *path, char *tmp, size_t size, eg_err *err)
{
    if (strcmp(path, "-") == 0) {
        *tmp = '\0';
        return stdout;
    }
    if ((size_t)snprintf(tmp, size, "%s.XXXXXX", path) >= size) {
        eg_errf(err, EG_ECANTCREAT, path, 0, 0, "output path is too long");
        return NULL;
    }
    int fd = mkstemp(tmp);
    if (fd >= 0) { /* mkstemp makes 0600; a report is as readable as any file */
        struct stat st;
        mode_t um = umask(0);
        umask(um);
        fchmod(fd, stat(path, &st) == 0 ? (st.st_mode & 07777) : (0666 & ~um));
    }
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        eg_errf(err, EG_ECANTCREAT, path, 0, 0, "cannot create the output: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        *tmp = '\0';
    }
    return f;
}

/* Finish the output: rename into place on success, remove on failure. */
static int close_output(FILE *f, const char *path, const char *tmp, int rc, eg_err *err)
{
    if (f == stdout) {
        if (fflush(stdout) != 0 && !rc) rc = eg_errf(err, EG_EIO, "-", 0, 0, "cannot write");
        return rc;
    }
    if (!rc && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        rc = eg_errf(err, EG_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
    if (fclose(f) != 0 && !rc) rc = eg_errf(err, EG_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = eg_errf(err, EG_ECANTCREAT, path, 0, 0, "cannot rename into place: %s", strerror(errno));
    if (rc) unlink(tmp);
    return rc;
}

int cmd_render(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
        {"title", required_argument, NULL, 't'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    rformat fmt = RENDER_HTML;
    const char *out_path = "-";
    render_opts ro;
    char tmp[4096];
    eg_err err;
    int c, rc;

    render_opts_init(&ro);
    eg_err_clear(&err);
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "html") == 0) fmt = RENDER_HTML;
            else if (strcmp(optarg, "csv") == 0) fmt = RENDER_CSV;
            else return cli_usage_error("render", "--format '%s' is not html or csv", optarg);
            break;
        case 'o': out_path = optarg; break;
        case 't': ro.title = optarg; break;
        case 'h': fputs(render_help, stdout); return EG_EXIT_OK;
        default: return cli_usage_error("render", "unknown option");
        }
    }
    if (optind >= argc) return cli_usage_error("render", "no FEED given");
    if (argc - optind > 1)
        return cli_usage_error("render", "one FEED at a time (got %d)", argc - optind);
    const char *feed = argv[optind];
    if (strcmp(feed, "-") != 0 && access(feed, R_OK) != 0) {
        eg_errf(&err, EG_ENOINPUT, feed, 0, 0, "cannot read the feed: %s", strerror(errno));
        return cli_report(&err);
    }
    FILE *out = open_output(out_path, tmp, sizeof tmp, &err);
    if (!out) return cli_report(&err);
    rc = fmt == RENDER_CSV ? render_feed_csv(feed, &ro, out, &err)
                           : render_feed_html(feed, &ro, out, &err);
    rc = close_output(out, out_path, tmp, rc, &err);
    return rc ? cli_report(&err) : EG_EXIT_OK;
}
