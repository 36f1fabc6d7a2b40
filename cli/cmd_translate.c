/* cmd_translate.c -- `espigate translate`: co-op data -> one Green Button feed.
 *
 * Every INPUT is opened once (standard input is first copied to a
 * temporary file, because we read each input twice), its format detected
 * from content (translate/detect.h) unless --from names it, and then:
 *
 *   pass 1  each input runs through its translator into a tr_summary (what
 *           was read: readings, exact totals, gaps, skipped rows) chained to
 *           the emitter's scan sink (channels, usage points, the data's span);
 *           strict-mode data errors stop here, before any output exists;
 *   sort    inputs by their first reading, so files given in any order make
 *           one time-ordered feed;
 *   pass 2  each input runs again into the emitter's write sink, which
 *           streams entries through an espi_writer (a file appears only when
 *           complete).
 *
 * The zone of the local times is --tz, or the format's own (SMT: ERCOT's
 * America/Chicago); formats whose times carry UTC offsets would need none.
 * TZDIR is read here, once, and passed down.  --summary reports both sides
 * (in = what translators produced, out = what the feed holds) so a user can
 * see nothing was lost on the way.
 *
 * Batch mode (-O DIR): co-ops export one file per meter (SMT: one CSV per
 * ESIID; a SmartHub pull: one poll answer per month), and a user with many
 * meters wants one feed per meter without a process per meter.  Each INPUT
 * file becomes its own feed DIR/<name>.xml (extension replaced), each INPUT
 * directory one feed of every regular file in it (sorted by name, dot files
 * skipped) named DIR/<directory name>.xml.  Each feed is a complete run of the
 * single-feed path above (same checks, same atomic write), so a bad input
 * fails only its own feed: the others are still written, and the exit status
 * is the first failure's.  Durability is the same as -o (a feed is fsync'd
 * before it is renamed into place) but the waits overlap: each finished feed
 * starts its writeback (sync_file_range) and waits, complete but under its
 * temporary name, until BATCH_COMMIT_EVERY feeds are done (or the run ends);
 * then all are fsync'd and renamed.  An fsync per feed right away would make
 * the disk the pace of a run of many small feeds.
 *
 * -j N runs N feeds at a time on N threads (feeds are independent: each has
 * its own run, zone, emitter, writer and commit group; translate/ keeps no
 * global state).  Feeds are taken in input order; summaries are collected
 * per feed and printed in input order whatever order the feeds finish in,
 * so the JSON array is the same for any N; what goes to stderr (detection
 * lines, errors) is printed as it happens, one whole line at a time. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "afile.h"
#include "cli.h"
#include "decimal.h"
#include "detect.h"
#include "emit.h"
#include "espi.h"
#include "spool.h"
#include "tr.h"
#include "tz.h"
#include "uri.h"
#include "writer.h"

#define TRANSLATE_MAX_INPUTS 1024
#define BATCH_COMMIT_EVERY 16 /* -O: finished feeds waiting for one fsync + rename round */
#define BATCH_FILE_BUF (1u << 20)
#define TRANSLATE_SPOOL_MEMORY ((size_t)8 * 1024 * 1024) /* pass-1 events beyond go to a file */
#define BATCH_MAX_JOBS 64
#define EXIT_UNAVAILABLE 69 /* sysexits EX_UNAVAILABLE: format known, translator not written */

static const char translate_help[] =
    "Usage: espigate translate [options] INPUT...\n"
    "\n"
    "Turn co-op utility data into one Green Button (ESPI 4.0) Download-My-Data feed:\n"
    "per usage point a UsagePoint, per channel a MeterReading + ReadingType, one\n"
    "IntervalBlock per channel and local day (23/25 hours on DST days), one\n"
    "LocalTimeParameters. Several INPUTs (any order; '-' = standard input) go into one\n"
    "feed. The same input always gives byte-identical output: ids are UUIDv5 of source\n"
    "keys and timestamps come from the data, never the clock.\n"
    "\n"
    "Options:\n"
    "  --from FORMAT       auto (default: detect from content), smarthub, smarthub-csv,\n"
    "                      smt, opower, bill-pdf, bill-text, bill-csv, xlsx\n"
    "  --tz ZONE           IANA zone of the source's local times (e.g. America/Chicago).\n"
    "                      Default for smt: America/Chicago (ERCOT); other formats need it,\n"
    "                      since their times carry no UTC offset. Zones are read from\n"
    "                      $TZDIR or /usr/share/zoneinfo\n"
    "  --usage-point NAME  keep only the usage point whose key is NAME or ends with\n"
    "                      ':NAME' (e.g. an ESIID); others are read but not written\n"
    "  --base-url URL      base of every link (default " ESPI_DEFAULT_BASE ")\n"
    "  --updated TIME      published/updated of every entry (RFC 3339 or YYYY-MM-DD;\n"
    "                      default: the end of the data)\n"
    "  --lenient           skip bad rows (reported in --summary) instead of failing\n"
    "  --summary           report what was read and written: per channel readings and\n"
    "                      exact kWh in/out, gaps, estimated readings, DST days, skipped\n"
    "                      rows with reasons. Goes to stdout when -o is a file, to stderr\n"
    "                      when the feed goes to stdout\n"
    "  --format FMT        summary as text (default) or json (one document)\n"
    "  -o, --output OUT    the feed: a file (written atomically) or - for stdout (default)\n"
    "  -O, --output-dir DIR  batch: one feed per INPUT, each written atomically to DIR:\n"
    "                      a file INPUT gives DIR/<its name, extension .xml>, a\n"
    "                      directory INPUT gives DIR/<directory name>.xml from all the\n"
    "                      files in it (e.g. a meter's monthly SmartHub answers). A\n"
    "                      failing feed is reported and the others are still written;\n"
    "                      the exit status is the first failure's. Each feed is fsync'd\n"
    "                      before it appears under its name; they appear 16 at a time.\n"
    "                      --summary prints one report per feed (with --format json a\n"
    "                      JSON array of them)\n"
    "  -j, --jobs N        with -O: translate N feeds at a time (1 to 64, default 1);\n"
    "                      use the number of cores (nproc) for a large batch. Output\n"
    "                      is the same for any N\n"
    "  -q, --quiet         do not say what was detected (stderr)\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 feed written; 64 usage error; 65 bad input data (file:line: what was\n"
    "expected) or unknown format (the message lists every format tried); 66 an INPUT or\n"
    "the zone cannot be read; 69 the format was recognised but this build cannot read it;\n"
    "70 internal error; 73 the output cannot be created; 74 I/O error; 78 PDF input in a\n"
    "build without poppler-glib.\n"
    "\n"
    "Examples:\n"
    "  espigate translate -o feed.xml IntervalData.csv\n"
    "  espigate translate --summary --format json -o feed.xml spring.csv fall.csv\n"
    "  espigate translate -O feeds/ IntervalData_*.csv meter1/ meter2/\n"
    "  espigate translate -O feeds/ -j \"$(nproc)\" --quiet meters/*/\n";

typedef struct topts {
    const tr_format_info *from;     /* NULL = auto */
    const char *tz, *usage_point, *base_url, *out;
    const char *out_dir;            /* -O: batch mode */
    int64_t updated;
    int lenient, summary, quiet;
    int jobs;                       /* -j: feeds at a time in batch mode */
    cli_format format;
} topts;

typedef struct input {
    const char *path;               /* as given ("-" for stdin) */
    const char *name;               /* for messages */
    FILE *f;
    const tr_format_info *fmt;
    char what[TR_DETECT_WHAT_MAX + 64];
    tr_summary *sum;                /* pass 1 counts */
    tr_spool *spool;                /* pass 1 events, replayed by pass 2 */
    int64_t first_start;            /* earliest reading, ESPI_NONE */
} input;

/* -O: finished feeds under their temporary names, waiting for fsync + rename. */
typedef struct batch_out {
    espi_afile p[BATCH_COMMIT_EVERY];
    int n;
} batch_out;

typedef struct run {
    topts o;
    const char *tzdir;
    input *in;
    int n_in;
    tr_tz *tz;
    tr_emit *emit;
    espi_writer *w;
    size_t spool_budget;            /* memory the inputs' spools may take (spool.h) */
    batch_out *batch;               /* -O: deferred commits; NULL = the writer's own */
    eg_err err;
} run;

/* ---- inputs ------------------------------------------------------------------- */

/* Copy standard input to a temporary file (detection reads its head first). */
static FILE *spool_stdin(eg_err *err)
{
    char buf[65536];
    size_t n;
    FILE *t = tmpfile();
    if (!t) {
        eg_errf(err, EG_EIO, "<stdin>", 0, 0, "cannot create a temporary file: %s", strerror(errno));
        return NULL;
    }
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        if (fwrite(buf, 1, n, t) != n) break;
    if (ferror(stdin) || ferror(t)) {
        eg_errf(err, EG_EIO, "<stdin>", 0, 0, "cannot copy standard input: %s", strerror(errno));
        fclose(t);
        return NULL;
    }
    rewind(t);
    return t;
}

/* Open one input and decide its format.  0, or an exit status (message printed). */
static int open_input(run *r, input *in, unsigned char *head)
{
    tr_detection d;
    in->name = strcmp(in->path, "-") == 0 ? "<stdin>" : in->path;
    in->first_start = ESPI_NONE;
    in->f = strcmp(in->path, "-") == 0 ? spool_stdin(&r->err) : fopen(in->path, "rb");
    if (!in->f) {
        if (strcmp(in->path, "-") != 0)
            eg_errf(&r->err, EG_ENOINPUT, in->name, 0, 0, "cannot open: %s", strerror(errno));
        return cli_report(&r->err);
    }
    size_t n = fread(head, 1, TR_DETECT_HEAD, in->f);
    if (ferror(in->f)) {
        eg_errf(&r->err, EG_EIO, in->name, 0, 0, "cannot read: %s", strerror(errno));
        return cli_report(&r->err);
    }
    rewind(in->f);
    tr_detect(head, n, &d);
    if (r->o.from) {
        in->fmt = r->o.from;
        snprintf(in->what, sizeof in->what, "named by --from (content looks like: %s)",
                 d.format == TR_FORMAT_UNKNOWN ? d.what : tr_format_get(d.format)->name);
    } else if (d.format == TR_FORMAT_UNKNOWN) {
        fprintf(stderr, "espigate: %s: unknown format: %s.\nTried: %s.\n"
                        "Name the format with --from if it is one of these.\n",
                in->name, d.what, tr_detect_tried());
        return EG_EXIT_DATAERR;
    } else {
        in->fmt = tr_format_get(d.format);
        snprintf(in->what, sizeof in->what, "%s", d.what);
    }
    if (!r->o.quiet) fprintf(stderr, "%s: %s (%s)\n", in->name, in->fmt->name, in->what);
    if (!in->fmt->read) {
        fprintf(stderr, "espigate: %s: %s is recognised but its translator is not implemented "
                        "yet (available: ", in->name, in->fmt->description);
        size_t nf;
        const tr_format_info *all = tr_formats(&nf);
        for (size_t i = 0, k = 0; i < nf; i++)
            if (all[i].read) fprintf(stderr, "%s%s", k++ ? ", " : "", all[i].name);
        fprintf(stderr, ")\n");
        return EXIT_UNAVAILABLE;
    }
    return 0;
}

/* The zone every input agrees on; 0 or an exit status. */
static int load_zone(run *r)
{
    const char *zone = r->o.tz;
    for (int i = 0; !zone && i < r->n_in; i++) {
        const tr_format_info *f = r->in[i].fmt;
        if (f->default_zone) zone = f->default_zone;
    }
    for (int i = 0; !r->o.tz && i < r->n_in; i++) {
        const tr_format_info *f = r->in[i].fmt;
        if (f->has_offsets) continue;
        if (!f->default_zone)
            return cli_usage_error("translate",
                                   "--tz ZONE is required for %s (%s): its times are local wall "
                                   "clock without a UTC offset (e.g. --tz America/Chicago)",
                                   r->in[i].name, f->description);
        if (strcmp(f->default_zone, zone) != 0)
            return cli_usage_error("translate",
                                   "inputs default to different zones (%s, %s); say which with --tz",
                                   zone, f->default_zone);
    }
    if (!zone) zone = "UTC"; /* every input carries offsets: days are UTC days */
    if (!(r->tz = tr_tz_load(zone, r->tzdir, &r->err))) {
        if (r->o.tz) return cli_usage_error("translate", "--tz '%s': %s", zone, r->err.msg);
        return cli_report(&r->err);
    }
    return 0;
}

/* ---- the two passes --------------------------------------------------------------- */

/* Pass 1: translate the input once, recording its events in a spool. */
static int translate_input(run *r, input *in, const tr_sink *sink)
{
    tr_options opts = {r->tz, r->o.lenient};
    tr_sink tee;
    rewind(in->f);
    tr_emit_begin_input(r->emit, in->name);
    if (!(in->spool = tr_spool_new(sink, &tee, &r->spool_budget, &r->err))) return r->err.code;
    return in->fmt->read(in->f, in->name, &opts, &tee, &r->err);
}

/* Pass 2: the same events again, from the spool (no second parse). */
static int replay_input(run *r, input *in, const tr_sink *sink)
{
    tr_emit_begin_input(r->emit, in->name);
    return tr_spool_replay(in->spool, sink, &r->err);
}

static int scan_all(run *r)
{
    tr_sink scan, counted;
    int rc = 0;
    tr_emit_scan_sink(r->emit, &scan);
    for (int i = 0; i < r->n_in && !rc; i++) {
        input *in = &r->in[i];
        if (!(in->sum = malloc(sizeof *in->sum)))
            return eg_errf(&r->err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        tr_summary_init(in->sum, r->tz, &scan, &counted);
        rc = translate_input(r, in, &counted);
        for (int c = 0; c < in->sum->n_channels; c++) {
            int64_t s = in->sum->ch[c].first_start;
            if (s != ESPI_NONE && (in->first_start == ESPI_NONE || s < in->first_start))
                in->first_start = s;
        }
    }
    return rc;
}

static int by_first_start(const void *a, const void *b)
{
    const input *x = a, *y = b;
    if (x->first_start == y->first_start) return strcmp(x->name, y->name);
    if (x->first_start == ESPI_NONE) return 1;
    if (y->first_start == ESPI_NONE) return -1;
    return x->first_start < y->first_start ? -1 : 1;
}

/* ---- batch output (-O) ------------------------------------------------------------ */

static int io_fwrite(void *io, const char *buf, int len)
{
    return fwrite(buf, 1, (size_t)len, io) == (size_t)len ? len : -1;
}

/* The feed in the current slot is complete: flush it and start its
 * writeback, keeping it for batch_commit(); not ok, or a failed flush:
 * remove it. */
static int batch_finish(batch_out *b, int ok, eg_err *err)
{
    espi_afile *f = &b->p[b->n];
    int rc = ok ? espi_afile_flush(f, err) : 0;
    if (ok && !rc) {
        b->n++;
        return 0;
    }
    espi_afile_abort(f);
    return rc;
}

/* fsync, close and rename every waiting feed.  0 or the exit status of the
 * first that failed (each failure is reported). */
static int batch_commit(batch_out *b)
{
    int status = 0;
    for (int i = 0; i < b->n; i++) {
        eg_err err;
        eg_err_clear(&err);
        if (espi_afile_commit(&b->p[i], &err)) {
            int st = cli_report(&err);
            if (!status) status = st;
        }
    }
    b->n = 0;
    return status;
}

static int write_all(run *r)
{
    tr_sink sink;
    espi_writer_opts wo = {1};
    int rc;
    if (r->batch) {
        if ((rc = espi_afile_open(&r->batch->p[r->batch->n], r->o.out, BATCH_FILE_BUF, &r->err)))
            return rc;
        if (!(r->w = espi_writer_open_io(io_fwrite, r->batch->p[r->batch->n].fp, &wo, &r->err))) {
            batch_finish(r->batch, 0, &r->err);
            return r->err.code ? r->err.code : EG_EIO;
        }
    } else if (!(r->w = espi_writer_open_path(r->o.out, &wo, &r->err))) {
        return r->err.code ? r->err.code : EG_EIO;
    }
    if ((rc = tr_emit_begin(r->emit, r->w, &r->err))) goto done;
    tr_emit_write_sink(r->emit, &sink);
    for (int i = 0; i < r->n_in && !rc; i++) rc = replay_input(r, &r->in[i], &sink);
    if (!rc) rc = tr_emit_end(r->emit, &r->err);
    if (!rc) {
        rc = espi_writer_close(r->w, &r->err);
        r->w = NULL;
    }
done:
    if (r->batch) {
        espi_writer_abort(r->w); /* the io sink: frees only */
        r->w = NULL;
        int frc = batch_finish(r->batch, rc == 0, &r->err);
        if (!rc) rc = frc;
    }
    return rc;
}

/* ---- summary ------------------------------------------------------------------------ */

/* Channel totals over every input's pass-1 summary. */
typedef struct in_totals {
    int64_t readings, total, cost, estimated, gaps, rounded, local_days, dst_days;
} in_totals;

static in_totals totals_in(const run *r, const char *key)
{
    in_totals t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < r->n_in; i++)
        for (int c = 0; r->in[i].sum && c < r->in[i].sum->n_channels; c++) {
            const tr_channel_summary *s = &r->in[i].sum->ch[c];
            if (strcmp(s->channel.key, key) != 0) continue;
            t.readings += s->readings;
            t.total += s->total;
            t.cost += s->cost_total;
            t.estimated += s->estimated;
            t.gaps += s->gaps;
            t.rounded += s->rounded;
            t.local_days += s->local_days;
            t.dst_days += s->dst_days;
        }
    return t;
}

/* An energy total as exact kWh text when the unit is Wh; "" otherwise. */
static const char *kwh(const tr_channel *ch, int64_t v, char *buf, size_t size)
{
    int64_t p = ch->power_of_ten_multiplier;
    buf[0] = 0;
    if (ch->uom != ESPI_UOM_WH || p > 3 || p < -12) return buf;
    return tr_dec_format(v, (int)(3 - p), buf, size);
}

static const char *skip_kind_key(int k)
{
    static const char *const names[] = {"bad_rows", "nonexistent_local_times", "no_value", "warnings"};
    return k >= 0 && k <= TR_SKIP_WARNING ? names[k] : "other";
}

static void summary_text(const run *r, FILE *f)
{
    char a[40], b[40], t[32];
    for (int i = 0; i < r->n_in; i++) {
        const input *in = &r->in[i];
        fprintf(f, "input %s: %s -- %s\n", in->name, in->fmt->name, in->what);
        for (int k = 0; in->sum && k <= TR_SKIP_WARNING; k++)
            if (in->sum->skipped[k])
                fprintf(f, "  %s: %" PRId64 "\n", skip_kind_key(k), in->sum->skipped[k]);
        for (int k = 0; in->sum && k < in->sum->n_kept; k++)
            fprintf(f, "  %s:%ld: %s\n", in->name, in->sum->kept[k].line, in->sum->kept[k].reason);
    }
    espi_time_format(tr_emit_updated(r->emit), t, sizeof t);
    fprintf(f, "feed %s: %" PRId64 " entries, zone %s, updated %s\n",
            strcmp(r->o.out, "-") == 0 ? "<stdout>" : r->o.out, tr_emit_entries(r->emit),
            tr_tz_name(r->tz), t);
    for (int c = 0; c < tr_emit_channel_count(r->emit); c++) {
        const tr_emit_channel_stats *s = tr_emit_channel_info(r->emit, c);
        in_totals it = totals_in(r, s->channel.key);
        fprintf(f, "channel %s (%s)%s\n", s->channel.key, s->channel.name,
                s->selected ? "" : " -- not selected by --usage-point, not written");
        fprintf(f, "  readings in %" PRId64 ", out %" PRId64 "\n", it.readings, s->readings);
        if (*kwh(&s->channel, it.total, a, sizeof a))
            fprintf(f, "  kWh in %s, out %s\n", a, kwh(&s->channel, s->total, b, sizeof b));
        else
            fprintf(f, "  total in %" PRId64 ", out %" PRId64 " (uom %" PRId64 " x 10^%" PRId64 ")\n",
                    it.total, s->total, s->channel.uom, s->channel.power_of_ten_multiplier);
        if (s->with_cost)
            fprintf(f, "  cost in %s, out %s\n", tr_dec_format(it.cost, 5, a, sizeof a),
                    tr_dec_format(s->cost_total, 5, b, sizeof b));
        fprintf(f, "  gaps %" PRId64 " (in the feed, across inputs: %" PRId64 "), estimated %" PRId64
                   ", rounded %" PRId64 "\n", it.gaps, s->gaps, s->estimated, it.rounded);
        fprintf(f, "  local days %" PRId64 ", DST days %" PRId64 "; IntervalBlocks %" PRId64
                   " (%" PRId64 " of 23/25 hours)\n",
                it.local_days, it.dst_days, s->blocks, s->dst_blocks);
    }
}

static void json_kv_kwh(FILE *f, const char *k, const tr_channel *ch, int64_t v)
{
    char buf[40];
    fprintf(f, ", \"%s\": %s", k, *kwh(ch, v, buf, sizeof buf) ? buf : "null");
}

static void summary_json_inputs(const run *r, FILE *f)
{
    fprintf(f, "  \"inputs\": [");
    for (int i = 0; i < r->n_in; i++) {
        const input *in = &r->in[i];
        fprintf(f, "%s\n    {\"file\": ", i ? "," : "");
        eg_json_string(f, in->name);
        fprintf(f, ", \"format\": \"%s\", \"detected\": ", in->fmt->name);
        eg_json_string(f, in->what);
        fprintf(f, ", \"skipped\": {");
        for (int k = 0; k <= TR_SKIP_WARNING; k++)
            fprintf(f, "%s\"%s\": %" PRId64, k ? ", " : "", skip_kind_key(k),
                    in->sum ? in->sum->skipped[k] : 0);
        fprintf(f, "}, \"skips\": [");
        for (int k = 0; in->sum && k < in->sum->n_kept; k++) {
            fprintf(f, "%s{\"line\": %ld, \"kind\": \"%s\", \"reason\": ", k ? ", " : "",
                    in->sum->kept[k].line, skip_kind_key((int)in->sum->kept[k].kind));
            eg_json_string(f, in->sum->kept[k].reason);
            fprintf(f, "}");
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n  ],\n");
}

static void summary_json(const run *r, FILE *f)
{
    char t[32];
    int64_t rin = 0, rout = 0;
    espi_time_format(tr_emit_updated(r->emit), t, sizeof t);
    fprintf(f, "{\n  \"output\": ");
    eg_json_string(f, r->o.out);
    fprintf(f, ",\n  \"zone\": ");
    eg_json_string(f, tr_tz_name(r->tz));
    fprintf(f, ",\n  \"updated\": \"%s\",\n  \"entries\": %" PRId64 ",\n", t, tr_emit_entries(r->emit));
    summary_json_inputs(r, f);
    fprintf(f, "  \"channels\": [");
    for (int c = 0; c < tr_emit_channel_count(r->emit); c++) {
        const tr_emit_channel_stats *s = tr_emit_channel_info(r->emit, c);
        const tr_channel *ch = &s->channel;
        in_totals it = totals_in(r, ch->key);
        rin += it.readings;
        rout += s->readings;
        fprintf(f, "%s\n    {\"key\": ", c ? "," : "");
        eg_json_string(f, ch->key);
        fprintf(f, ", \"name\": ");
        eg_json_string(f, ch->name);
        fprintf(f, ", \"usage_point\": ");
        eg_json_string(f, ch->usage_point);
        fprintf(f, ", \"selected\": %s, \"flow_direction\": %" PRId64 ", \"uom\": %" PRId64
                   ", \"power_of_ten_multiplier\": %" PRId64 ", \"interval_length\": %" PRId64,
                s->selected ? "true" : "false", ch->flow_direction, ch->uom,
                ch->power_of_ten_multiplier, ch->interval_length);
        fprintf(f, ",\n     \"readings_in\": %" PRId64 ", \"readings_out\": %" PRId64
                   ", \"total_in\": %" PRId64 ", \"total_out\": %" PRId64,
                it.readings, s->readings, it.total, s->total);
        json_kv_kwh(f, "kwh_in", ch, it.total);
        json_kv_kwh(f, "kwh_out", ch, s->total);
        fprintf(f, ",\n     \"cost_in\": %" PRId64 ", \"cost_out\": %" PRId64 ", \"gaps_in\": %" PRId64
                   ", \"gaps_out\": %" PRId64 ", \"estimated_in\": %" PRId64
                   ", \"estimated_out\": %" PRId64 ", \"rounded\": %" PRId64,
                it.cost, s->cost_total, it.gaps, s->gaps, it.estimated, s->estimated, it.rounded);
        fprintf(f, ", \"local_days\": %" PRId64 ", \"dst_days\": %" PRId64 ", \"blocks\": %" PRId64
                   ", \"dst_blocks\": %" PRId64 "}",
                it.local_days, it.dst_days, s->blocks, s->dst_blocks);
    }
    fprintf(f, "\n  ],\n  \"totals\": {\"readings_in\": %" PRId64 ", \"readings_out\": %" PRId64
               "}\n}\n", rin, rout);
}

/* ---- options -------------------------------------------------------------------------- */

static int parse_options(int argc, char **argv, topts *o, int *done)
{
    static const struct option longopts[] = {
        {"from", required_argument, NULL, 'F'},   {"tz", required_argument, NULL, 'z'},
        {"usage-point", required_argument, NULL, 'u'}, {"base-url", required_argument, NULL, 'b'},
        {"updated", required_argument, NULL, 'U'}, {"lenient", no_argument, NULL, 'l'},
        {"summary", no_argument, NULL, 's'},      {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'},
        {"output-dir", required_argument, NULL, 'O'}, {"jobs", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int c, fmt;
    *done = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:O:j:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'F':
            if (strcmp(optarg, "auto") == 0) o->from = NULL;
            else if (!(o->from = tr_format_by_name(optarg)))
                return cli_usage_error("translate", "--from '%s' is not a format (expected auto, "
                                       "smarthub, smarthub-csv, smt, opower, bill-pdf, bill-text, "
                                       "bill-csv or xlsx)", optarg);
            break;
        case 'z': o->tz = optarg; break;
        case 'u': o->usage_point = optarg; break;
        case 'b': o->base_url = optarg; break;
        case 'U':
            if (espi_time_parse(optarg, &o->updated))
                return cli_usage_error("translate", "--updated '%s' is not a time (expected e.g. "
                                       "2024-03-12T05:00:00Z or 2024-03-12)", optarg);
            break;
        case 'l': o->lenient = 1; break;
        case 's': o->summary = 1; break;
        case 'f':
            if ((fmt = cli_parse_format(optarg, 3)) < 0)
                return cli_usage_error("translate", "--format '%s' is not text or json", optarg);
            o->format = (cli_format)fmt;
            break;
        case 'o': o->out = optarg; break;
        case 'O': o->out_dir = optarg; break;
        case 'j': {
            char *end;
            long j = strtol(optarg, &end, 10);
            if (!*optarg || *end || j < 1 || j > BATCH_MAX_JOBS)
                return cli_usage_error("translate", "--jobs wants a number from 1 to %d, not '%s'",
                                       BATCH_MAX_JOBS, optarg);
            o->jobs = (int)j;
            break;
        }
        case 'q': o->quiet = 1; break;
        case 'h': fputs(translate_help, stdout); *done = 1; return EG_EXIT_OK;
        case ':': return cli_usage_error("translate", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("translate", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("translate", "no INPUT given");
    if (o->out_dir && strcmp(o->out, "-") != 0)
        return cli_usage_error("translate", "-o and -O exclude each other (one feed, or one feed "
                               "per INPUT)");
    if (!o->out_dir && o->jobs > 1)
        return cli_usage_error("translate", "--jobs needs -O DIR (one feed is written by one "
                               "thread)");
    if (!o->out_dir && argc - optind > TRANSLATE_MAX_INPUTS)
        return cli_usage_error("translate", "at most %d INPUTs per feed", TRANSLATE_MAX_INPUTS);
    return 0;
}

/* Report r->err; an error without a code is an internal error, never success. */
static int report(run *r)
{
    if (!r->err.code) eg_errf(&r->err, EG_ESOFTWARE, NULL, 0, 0, "failed without a message (a bug)");
    return cli_report(&r->err);
}

static void release(run *r)
{
    espi_writer_abort(r->w);
    tr_emit_free(r->emit);
    tr_tz_free(r->tz);
    for (int i = 0; r->in && i < r->n_in; i++) {
        if (r->in[i].f) fclose(r->in[i].f);
        tr_spool_free(r->in[i].spool);
        free(r->in[i].sum);
    }
    free(r->in);
}

/* One feed from paths[0..n) to out (o->out is ignored); a --summary goes to
 * sum_out, or by the single-feed rule when NULL.  Returns the exit status. */
static int run_feed(const topts *o, const char *tzdir, const char *const *paths, int n,
                    const char *out, batch_out *batch, FILE *sum_out)
{
    run r;
    unsigned char *head = NULL;
    int status, rc;
    memset(&r, 0, sizeof r);
    r.o = *o;
    r.o.out = out;
    r.tzdir = tzdir;
    r.spool_budget = TRANSLATE_SPOOL_MEMORY;
    r.batch = batch;
    eg_err_clear(&r.err);
    r.n_in = n;
    r.in = calloc((size_t)r.n_in, sizeof *r.in);
    head = malloc(TR_DETECT_HEAD);
    if (!r.in || !head) { status = EG_EXIT_OSERR; fputs("espigate: out of memory\n", stderr); goto done; }
    for (int i = 0; i < r.n_in; i++) {
        r.in[i].path = paths[i];
        if ((status = open_input(&r, &r.in[i], head))) goto done;
    }
    if ((status = load_zone(&r))) goto done;

    tr_emit_opts eo;
    tr_emit_opts_init(&eo);
    eo.tz = r.tz;
    eo.base_url = r.o.base_url;
    eo.updated = r.o.updated;
    eo.usage_point = r.o.usage_point;
    if (!(r.emit = tr_emit_new(&eo, &r.err))) { status = report(&r); goto done; }
    if ((rc = scan_all(&r))) { status = report(&r); goto done; }
    qsort(r.in, (size_t)r.n_in, sizeof *r.in, by_first_start);
    if ((rc = write_all(&r))) { status = report(&r); goto done; }
    status = EG_EXIT_OK;
    if (r.o.summary) {
        FILE *f = sum_out ? sum_out : strcmp(r.o.out, "-") == 0 ? stderr : stdout;
        if (r.o.format == CLI_FMT_JSON) summary_json(&r, f);
        else summary_text(&r, f);
    }
done:
    free(head);
    release(&r);
    return status;
}

/* ---- batch mode (-O DIR) ---------------------------------------------------------------- */

typedef struct feed_job {
    const char *input;              /* as given */
    char out[4096];                 /* DIR/<name>.xml */
    char **files;                   /* a directory's files (owned), else NULL */
    int n_files;
    int rc, done;                   /* exit status once done */
    char *summary;                  /* --summary text, printed in input order */
    size_t summary_len;
} feed_job;

/* The feeds of a batch and the threads working through them. */
typedef struct batch_run {
    const topts *o;
    const char *tzdir;
    feed_job *jobs;
    int n;
    pthread_mutex_t mu;             /* guards the fields below and stdout */
    int next;                       /* next feed to take */
    int next_print;                 /* next feed whose summary is due on stdout */
    int commit_fail;                /* first fsync/rename failure's status */
} batch_run;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of directory dir, sorted, dot files skipped.  0 or an exit status. */
static int list_dir(const char *dir, feed_job *j)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int cap = 0, status = 0;
    if (!d) {
        fprintf(stderr, "espigate: %s: cannot open directory: %s\n", dir, strerror(errno));
        return EG_EXIT_NOINPUT;
    }
    while ((de = readdir(d))) {
        char path[4096];
        struct stat st;
        if (de->d_name[0] == '.') continue;
        int w = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (w < 0 || (size_t)w >= sizeof path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (j->n_files >= TRANSLATE_MAX_INPUTS) {
            status = cli_usage_error("translate", "%s: more than %d files (at most %d INPUTs per "
                                     "feed)", dir, TRANSLATE_MAX_INPUTS, TRANSLATE_MAX_INPUTS);
            break;
        }
        if (j->n_files == cap) {
            cap = cap ? cap * 2 : 16;
            char **nf = realloc(j->files, (size_t)cap * sizeof *nf);
            if (!nf) { status = EG_EXIT_OSERR; break; }
            j->files = nf;
        }
        if (!(j->files[j->n_files] = strdup(path))) { status = EG_EXIT_OSERR; break; }
        j->n_files++;
    }
    closedir(d);
    if (status == EG_EXIT_OSERR) fputs("espigate: out of memory\n", stderr);
    if (!status && j->n_files == 0) {
        fprintf(stderr, "espigate: %s: no files in the directory (expected a meter's source files)\n",
                dir);
        status = EG_EXIT_NOINPUT;
    }
    if (!status) qsort(j->files, (size_t)j->n_files, sizeof *j->files, by_name);
    return status;
}

/* DIR/<name>.xml for input path p: a file's name with its extension
 * replaced, a directory's name.  0 or an exit status. */
static int feed_path(const char *dir, const char *p, int is_dir, char *out, size_t size)
{
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/') len--;
    size_t b = len;
    while (b > 0 && p[b - 1] != '/') b--;
    size_t end = len;
    if (!is_dir)
        for (size_t k = len; k > b + 1; k--)
            if (p[k - 1] == '.') { end = k - 1; break; }
    if (end == b || (end - b == 1 && p[b] == '.') || (end - b == 2 && memcmp(p + b, "..", 2) == 0))
        return cli_usage_error("translate", "'%s': cannot name a feed after it (give the "
                               "directory by a path that ends in its name)", p);
    int w = snprintf(out, size, "%s/%.*s.xml", dir, (int)(end - b), p + b);
    if (w < 0 || (size_t)w >= size)
        return cli_usage_error("translate", "'%s': output path too long", p);
    return 0;
}

/* Print, in input order, the summaries of the feeds finished so far (b->mu held). */
static void print_ready(batch_run *b)
{
    const topts *o = b->o;
    while (b->next_print < b->n && b->jobs[b->next_print].done) {
        feed_job *j = &b->jobs[b->next_print];
        if (o->summary && o->format == CLI_FMT_JSON && b->next_print) fputs(",\n", stdout);
        if (j->summary && !j->rc) fwrite(j->summary, 1, j->summary_len, stdout);
        else if (o->summary && o->format == CLI_FMT_JSON) fputs("null\n", stdout);
        free(j->summary);
        j->summary = NULL;
        b->next_print++;
    }
    fflush(stdout);
}

/* One thread: take the next feed until none is left; commit its own group. */
static void *batch_worker(void *arg)
{
    batch_run *b = arg;
    batch_out bo;
    bo.n = 0;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        int i = b->next < b->n ? b->next++ : -1;
        pthread_mutex_unlock(&b->mu);
        if (i < 0) break;
        feed_job *j = &b->jobs[i];
        char *sum = NULL;
        size_t sum_len = 0;
        FILE *m = b->o->summary ? open_memstream(&sum, &sum_len) : NULL;
        const char *one[1] = {j->input};
        int rc;
        if (b->o->summary && !m) {
            fputs("espigate: out of memory\n", stderr);
            rc = EG_EXIT_OSERR;
        } else {
            rc = j->files ? run_feed(b->o, b->tzdir, (const char *const *)j->files, j->n_files,
                                     j->out, &bo, m)
                          : run_feed(b->o, b->tzdir, one, 1, j->out, &bo, m);
        }
        if (m) fclose(m);
        int crc = bo.n == BATCH_COMMIT_EVERY ? batch_commit(&bo) : 0;
        pthread_mutex_lock(&b->mu);
        j->rc = rc;
        j->summary = sum;
        j->summary_len = sum_len;
        j->done = 1;
        if (crc && !b->commit_fail) b->commit_fail = crc;
        print_ready(b);
        pthread_mutex_unlock(&b->mu);
    }
    int crc = batch_commit(&bo);
    pthread_mutex_lock(&b->mu);
    if (crc && !b->commit_fail) b->commit_fail = crc;
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static int run_batch(const topts *o, const char *tzdir, char **inputs, int n)
{
    feed_job *jobs = calloc((size_t)n, sizeof *jobs);
    int status = 0;
    struct stat st;
    if (!jobs) { fputs("espigate: out of memory\n", stderr); return EG_EXIT_OSERR; }
    if (stat(o->out_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        status = cli_usage_error("translate", "-O '%s' is not a directory (create it first)",
                                 o->out_dir);
        goto done;
    }
    for (int i = 0; i < n && !status; i++) { /* every name first: no feed if one is wrong */
        feed_job *j = &jobs[i];
        j->input = inputs[i];
        if (strcmp(inputs[i], "-") == 0) {
            status = cli_usage_error("translate", "-O reads files and directories, not standard "
                                     "input");
            break;
        }
        if (stat(inputs[i], &st) != 0) {
            fprintf(stderr, "espigate: %s: cannot open: %s\n", inputs[i], strerror(errno));
            status = EG_EXIT_NOINPUT;
            break;
        }
        if ((status = feed_path(o->out_dir, inputs[i], S_ISDIR(st.st_mode), j->out, sizeof j->out)))
            break;
        for (int k = 0; k < i && !status; k++)
            if (strcmp(jobs[k].out, j->out) == 0)
                status = cli_usage_error("translate", "%s and %s would both be written to %s "
                                         "(rename one)", jobs[k].input, j->input, j->out);
        if (!status && S_ISDIR(st.st_mode)) status = list_dir(inputs[i], j);
    }
    if (status) goto done;
    if (o->summary && o->format == CLI_FMT_JSON) fputs("[\n", stdout);
    batch_run b = {o, tzdir, jobs, n, PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    int nthreads = o->jobs > n ? n : o->jobs > 1 ? o->jobs : 1, started = 0;
    pthread_t tid[BATCH_MAX_JOBS];
    for (int t = 1; t < nthreads; t++) { /* the calling thread is worker 0 */
        if (pthread_create(&tid[started], NULL, batch_worker, &b) != 0) {
            fprintf(stderr, "espigate: translate: could not start thread %d of %d (%s); going on "
                            "with %d\n", t + 1, nthreads, strerror(errno), started + 1);
            break;
        }
        started++;
    }
    batch_worker(&b);
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&b.mu);
    if (o->summary && o->format == CLI_FMT_JSON) fputs("]\n", stdout);
    for (int i = 0; i < n && !status; i++) status = jobs[i].rc; /* the first failure's */
    if (!status) status = b.commit_fail;
done:
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < jobs[i].n_files; k++) free(jobs[i].files[k]);
        free(jobs[i].files);
    }
    free(jobs);
    return status;
}

int cmd_translate(int argc, char **argv)
{
    topts o;
    int status, done;
    memset(&o, 0, sizeof o);
    o.out = "-";
    o.updated = ESPI_NONE;
    o.format = CLI_FMT_TEXT;
    if ((status = parse_options(argc, argv, &o, &done)) || done) return status;
    const char *tzdir = getenv("TZDIR");
    if (tzdir && !*tzdir) tzdir = NULL;
    if (o.out_dir) return run_batch(&o, tzdir, argv + optind, argc - optind);
    return run_feed(&o, tzdir, (const char *const *)(argv + optind), argc - optind, o.out, NULL,
                    NULL);
}
