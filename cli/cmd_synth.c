/* cmd_synth.c -- `espigate synth`: a synthetic Green Button feed on demand.
 *
 * A thin shell over espi_synth_write(): parse options with getopt_long into
 * an espi_synth_opts, open a writer on -o (default stdout; a file appears
 * only when complete), write, close.  The output depends on the options
 * alone, so the command doubles as a golden-file and benchmark generator. */
#include "cmd_synth.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "espi.h"
#include "synth.h"
#include "uri.h"
#include "writer.h"

static void synth_usage(FILE *f)
{
    fputs("usage: espigate synth [--usage-points N] [--days N] [--interval 900|3600]\n"
          "                      [--start YYYY-MM-DD] [--cost] [--net] [--quality]\n"
          "                      [--seed N] [--base-url URL] [--compact] [-o OUT|-]\n"
          "\n"
          "Write a deterministic synthetic Download-My-Data feed (ESPI 4.0 Atom).\n"
          "\n"
          "  --usage-points N  houses to generate (default 1)\n"
          "  --days N          local days of interval data from --start (default 7)\n"
          "  --interval S      reading length in seconds: 900 or 3600 (default 900)\n"
          "  --start DATE      first local day, YYYY-MM-DD (default 2024-01-01)\n"
          "  --cost            add IntervalReading cost and billed monthly summaries\n"
          "  --net             add a reverse-flow (rooftop solar export) MeterReading\n"
          "  --quality         mark some readings as estimated\n"
          "  --seed N          value and id seed (default 1)\n"
          "  --base-url URL    base of every link (default " ESPI_DEFAULT_BASE ")\n"
          "  --compact         no indentation\n"
          "  -o, --output OUT  output file, - for stdout (default -)\n"
          "  -h, --help        this text\n",
          f);
}

/* Parse a decimal in [lo, hi]; 0 on success. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s) return -1;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int bad_option(const char *what, const char *value, const char *expected)
{
    fprintf(stderr, "espigate synth: %s \"%s\" is not valid (expected %s); "
                    "see espigate synth --help\n", what, value, expected);
    return EG_EXIT_USAGE;
}

int cmd_synth(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"usage-points", required_argument, NULL, 'u'},
        {"days", required_argument, NULL, 'd'},
        {"interval", required_argument, NULL, 'i'},
        {"start", required_argument, NULL, 's'},
        {"cost", no_argument, NULL, 'c'},
        {"net", no_argument, NULL, 'n'},
        {"quality", no_argument, NULL, 'q'},
        {"seed", required_argument, NULL, 'S'},
        {"base-url", required_argument, NULL, 'b'},
        {"compact", no_argument, NULL, 'C'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    espi_synth_opts o;
    espi_writer_opts wo = {1};
    const char *out = "-";
    eg_err err;
    long v;
    int c, rc;

    espi_synth_opts_init(&o);
    eg_err_clear(&err);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            if (parse_long(optarg, 1, ESPI_SYNTH_MAX_USAGE_POINTS, &v))
                return bad_option("--usage-points", optarg, "a whole number from 1 to 100000");
            o.usage_points = (int)v;
            break;
        case 'd':
            if (parse_long(optarg, 1, ESPI_SYNTH_MAX_DAYS, &v))
                return bad_option("--days", optarg, "a whole number from 1 to 36600");
            o.days = (int)v;
            break;
        case 'i':
            if (parse_long(optarg, 1, 3600, &v) || (v != 900 && v != 3600))
                return bad_option("--interval", optarg, "900 or 3600");
            o.interval = (int)v;
            break;
        case 's': {
            int64_t t;
            if (strlen(optarg) != 10 || espi_time_parse(optarg, &t))
                return bad_option("--start", optarg, "a date such as 2024-03-09");
            o.start = t;
            break;
        }
        case 'c': o.with_cost = 1; break;
        case 'n': o.net_metering = 1; break;
        case 'q': o.with_quality = 1; break;
        case 'S': {
            char *end;
            if (!*optarg || *optarg == '-') return bad_option("--seed", optarg, "a whole number >= 0");
            unsigned long long s = strtoull(optarg, &end, 10);
            if (*end) return bad_option("--seed", optarg, "a whole number >= 0");
            o.seed = s;
            break;
        }
        case 'b':
            if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0)
                return bad_option("--base-url", optarg, "an http:// or https:// URL");
            o.base_url = optarg;
            break;
        case 'C': wo.indent = 0; break;
        case 'o': out = optarg; break;
        case 'h': synth_usage(stdout); return EG_EXIT_OK;
        case ':':
            fprintf(stderr, "espigate synth: option %s needs a value; see espigate synth --help\n",
                    argv[optind - 1]);
            return EG_EXIT_USAGE;
        default:
            fprintf(stderr, "espigate synth: unknown option %s; see espigate synth --help\n",
                    argv[optind - 1]);
            return EG_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "espigate synth: unexpected argument \"%s\" (synth takes options only; "
                        "use -o FILE for the output); see espigate synth --help\n", argv[optind]);
        return EG_EXIT_USAGE;
    }

    espi_writer *w = espi_writer_open_path(out, &wo, &err);
    if (!w) { rc = err.code; goto done; }
    if ((rc = espi_synth_write(w, &o, &err))) {
        espi_writer_abort(w);
        goto done;
    }
    rc = espi_writer_close(w, &err);
done:
    if (rc) {
        char buf[EG_ERR_MSG_MAX + EG_ERR_FILE_MAX + 64];
        fprintf(stderr, "espigate synth: %s\n", eg_err_format(&err, buf, sizeof buf));
        return eg_exit_status(rc);
    }
    return EG_EXIT_OK;
}
