/* cmd_pull.c -- `espigate pull smarthub`: log in to a co-op's SmartHub portal,
 * fetch your usage, write it as a Green Button feed.
 *
 * A member of a co-op without Green Button can read their own data in
 * SmartHub; this command does the reading (translate/pull_smarthub.h: login,
 * service location, the PENDING/COMPLETE poll per <= 30-day chunk) and then
 * exactly what `espigate translate` does with the answers, so the feed is
 * byte-identical to translating the same JSON files:
 *
 *   pass 1  as each chunk's answer arrives it is kept in a temporary file
 *           and translated (tr_smarthub_read_mem) into a tr_summary chained
 *           to the emitter's scan sink -- a data error stops the pull early;
 *   pass 2  after the last chunk, every kept answer is translated again
 *           from its file into the emitter's write sink (nothing is fetched
 *           twice); the feed appears only when complete.
 *
 * Each chunk asks for whole local days [start, end); a reading the portal
 * returns outside them (a boundary point repeated by the next request) is
 * dropped and counted as a warning, so neighbouring chunks never put two
 * readings at one instant.
 *
 * The password comes from --password-file (first line), $ESPIGATE_PASSWORD,
 * or a prompt on the terminal without echo -- never from the command line,
 * where other users can read it in the process list.  It is wiped after the
 * pull.  Exit statuses follow sysexits(3), documented in the help. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_pull.h"
#include "decimal.h"
#include "emit.h"
#include "espi.h"
#include "pull_smarthub.h"
#include "smarthub.h"
#include "tr.h"
#include "tz.h"
#include "uri.h"
#include "writer.h"

#define EXIT_UNAVAILABLE 69 /* EX_UNAVAILABLE */
#define EXIT_TEMPFAIL 75    /* EX_TEMPFAIL */
#define EXIT_NOPERM 77      /* EX_NOPERM */
#define PULL_PASSWORD_MAX 1024
#define PULL_HOST_MAX 253
#define PULL_NAME_MAX 64

static const char pull_help[] =
    "Usage: espigate pull smarthub --host CO-OP.smarthub.coop --user LOGIN --account NUMBER\n"
    "                              --from YYYY-MM-DD --to YYYY-MM-DD --tz ZONE [options]\n"
    "\n"
    "Log in to your co-op's NISC SmartHub portal as you, fetch your interval usage (and\n"
    "cost, where the co-op publishes it) for the local days FROM..TO inclusive, and\n"
    "write it as one Green Button (ESPI 4.0) Download-My-Data feed -- the same bytes\n"
    "`espigate translate --tz ZONE` writes for the same SmartHub answers.\n"
    "\n"
    "Portal and account:\n"
    "  --host HOST           the portal's host name, e.g. myco-op.smarthub.coop\n"
    "  --portal-url URL      the portal's address instead of https://HOST (e.g. a test\n"
    "                        server); https:// only, unless --insecure\n"
    "  --user LOGIN          your SmartHub login (usually an e-mail address)\n"
    "  --account NUMBER      the account number on your bill\n"
    "  --service-location N  SmartHub's service location id (default: looked up; needed\n"
    "                        when the account has several)\n"
    "  --from, --to DATE     first and last local day (YYYY-MM-DD), at most 3660 days\n"
    "  --tz ZONE             the co-op's IANA zone (e.g. America/Chicago): SmartHub\n"
    "                        writes local wall-clock times without an offset\n"
    "\n"
    "Password (never on the command line):\n"
    "  --password-file FILE  read it from the first line of FILE (keep it chmod 600)\n"
    "                        else $ESPIGATE_PASSWORD, else a prompt on the terminal\n"
    "  --otp-code CODE       the current two-factor code, for accounts that have one\n"
    "\n"
    "Connection:\n"
    "  --ca FILE             trust the CA certificates in FILE (PEM) instead of the\n"
    "                        system's; the portal's certificate is always verified\n"
    "  --insecure            do not verify the certificate (debugging only; warns)\n"
    "  --timeout SECONDS     limit per request (default 120; connecting: 10)\n"
    "  --poll-interval MS    wait between PENDING answers (default 2000)\n"
    "  --poll-tries N        poll requests per chunk before giving up (default 20)\n"
    "  --chunk-days N        days per usage request, 1..30 (default 30)\n"
    "  --max-answer-bytes N  refuse a larger answer (default 67108864)\n"
    "\n"
    "Output:\n"
    "  --base-url URL        base of every link in the feed (default " ESPI_DEFAULT_BASE ")\n"
    "  -o, --output OUT      the feed: a file (written atomically) or - for stdout (default)\n"
    "  --summary             report per channel readings and exact kWh/cost in and out,\n"
    "                        gaps and warnings (stdout with -o FILE, stderr otherwise)\n"
    "  -q, --quiet           no progress messages on stderr\n"
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 feed written; 64 usage error (also: the account is not in your\n"
    "login's list, or has several service locations -- the message lists them); 65 an\n"
    "answer is not the data it should be, or is over the size cap; 69 the portal cannot\n"
    "be reached or answers with an error, a redirect or a web page, or refuses the usage\n"
    "request (FAILED), TLS verification failed; 70 internal error; 73 the output\n"
    "cannot be created; 74 I/O error; 75 SmartHub still said PENDING after the last try\n"
    "(try again later); 77 login refused: wrong user or password, two-factor\n"
    "authentication needed, or the token was refused.\n"
    "\n"
    "Example:\n"
    "  espigate pull smarthub --host myco-op.smarthub.coop --user me@example.com \\\n"
    "      --account 7700123456 --from 2024-01-01 --to 2024-03-31 \\\n"
    "      --tz America/Chicago --password-file ~/.smarthub-pass -o usage.xml\n";

typedef struct popts {
    const char *host, *portal_url, *from, *to, *tz, *password_file, *base_url, *out;
    int summary, quiet;
} popts;

/* One chunk's answer: kept for pass 2, with pass 1 counts. */
typedef struct chunk {
    char name[PULL_NAME_MAX];      /* "smarthub 2024-01-01..2024-01-30" */
    FILE *f;
    int64_t start, end;            /* the request's UTC bounds */
    int polls;
    tr_summary *sum;
} chunk;

typedef struct prun {
    popts o;
    tr_pull_opts po;
    char portal[PULL_HOST_MAX + 16];
    char password[PULL_PASSWORD_MAX];
    char location[PULL_NAME_MAX];
    tr_tz *tz;
    tr_emit *emit;
    espi_writer *w;
    chunk *ch;
    int n_ch, cap_ch;
    int64_t dropped;               /* readings outside their chunk's days */
    eg_err err;
} prun;

/* ---- keeping each chunk's readings inside its days ------------------------------------ */

typedef struct range_filter {
    const tr_sink *next;
    int64_t start, end;
    int64_t *dropped;
    const tr_tz *tz;
} range_filter;

static int rf_channel(void *ctx, const tr_channel *c, eg_err *err)
{
    const range_filter *f = ctx;
    return f->next->channel(f->next->ctx, c, err);
}

static int rf_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    const range_filter *f = ctx;
    tr_tm t;
    if (r->start >= f->start && r->start < f->end) return f->next->reading(f->next->ctx, r, err);
    if (f->dropped) (*f->dropped)++;
    tr_tz_local(f->tz, r->start, &t);
    return tr_report_skip(f->next, TR_SKIP_WARNING, r->line, err,
                          "a reading at %04d-%02d-%02d %02d:%02d lies outside the days asked for; "
                          "dropped (the request for its own days carries it)",
                          t.year, t.mon, t.mday, t.hour, t.min);
}

static int rf_skip(void *ctx, const tr_skip *s, eg_err *err)
{
    const range_filter *f = ctx;
    return f->next->skip ? f->next->skip(f->next->ctx, s, err) : 0;
}

static int rf_bill(void *ctx, const tr_bill *b, eg_err *err)
{
    const range_filter *f = ctx;
    return f->next->bill ? f->next->bill(f->next->ctx, b, err) : 0;
}

/* dropped (may be NULL) counts the readings left out. */
static void range_filter_init(range_filter *f, prun *r, const chunk *k, int64_t *dropped,
                              const tr_sink *next, tr_sink *sink)
{
    f->next = next;
    f->start = k->start;
    f->end = k->end;
    f->dropped = dropped;
    f->tz = r->tz;
    *sink = (tr_sink){.ctx = f, .channel = rf_channel, .reading = rf_reading, .skip = rf_skip,
                      .bill = rf_bill};
}

/* ---- the two passes ---------------------------------------------------------------------- */

static void note(void *ctx, const char *msg)
{
    const prun *r = ctx;
    if (!r->o.quiet) fprintf(stderr, "espigate pull: %s\n", msg);
}

/* Pass 1, called by the puller for every COMPLETE answer. */
static int on_chunk(void *ctx, const tr_pull_chunk *c, eg_err *err)
{
    prun *r = ctx;
    char d0[16], d1[16];
    int y, m, d;
    tr_sink scan, counted, filtered;
    range_filter f;
    if (r->n_ch == r->cap_ch) {
        int ncap = r->cap_ch ? r->cap_ch * 2 : 8;
        chunk *n = realloc(r->ch, (size_t)ncap * sizeof *n);
        if (!n) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
        r->ch = n;
        r->cap_ch = ncap;
    }
    chunk *k = &r->ch[r->n_ch++];
    memset(k, 0, sizeof *k);
    tr_civil_from_days(c->first_day, &y, &m, &d);
    snprintf(d0, sizeof d0, "%04d-%02d-%02d", y, m, d);
    tr_civil_from_days(c->last_day, &y, &m, &d);
    snprintf(d1, sizeof d1, "%04d-%02d-%02d", y, m, d);
    snprintf(k->name, sizeof k->name, "smarthub %s..%s", d0, d1);
    snprintf(r->location, sizeof r->location, "%s", c->service_location);
    k->start = c->start;
    k->end = c->end;
    k->polls = c->polls;
    if (!r->o.quiet)
        fprintf(stderr, "espigate pull: usage %s..%s: COMPLETE after %d poll%s, %zu bytes\n", d0, d1,
                c->polls, c->polls == 1 ? "" : "s", c->len);
    if (!(k->f = tmpfile()))
        return eg_errf(err, EG_EIO, NULL, 0, 0, "cannot create a temporary file: %s", strerror(errno));
    if (fwrite(c->body, 1, c->len, k->f) != c->len || fflush(k->f) != 0)
        return eg_errf(err, EG_EIO, NULL, 0, 0, "cannot keep the answer in a temporary file: %s",
                       strerror(errno));
    if (!(k->sum = malloc(sizeof *k->sum))) return eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory");
    tr_emit_scan_sink(r->emit, &scan);
    tr_summary_init(k->sum, r->tz, &scan, &counted);
    range_filter_init(&f, r, k, &r->dropped, &counted, &filtered);
    tr_options to = {r->tz, 0};
    tr_emit_begin_input(r->emit, k->name);
    return tr_smarthub_read_mem(c->body, c->len, k->name, &to, &filtered, err);
}

/* EG_EDATA when no chunk held a reading: say what SmartHub did answer. */
static int check_some_readings(prun *r)
{
    int channels = 0;
    for (int i = 0; i < r->n_ch; i++)
        for (int c = 0; c < r->ch[i].sum->n_channels; c++) {
            channels++;
            if (r->ch[i].sum->ch[c].readings) return 0;
        }
    return eg_errf(&r->err, EG_EDATA, NULL, 0, 0,
                   "SmartHub returned no interval readings for %s..%s (account %s, service "
                   "location %s; %d series%s): the days may not be available yet, or the meter "
                   "records only monthly data", r->o.from, r->o.to, r->po.account, r->location,
                   channels, channels ? ", all empty" : "");
}

/* Pass 2: every kept answer into the feed. */
static int write_all(prun *r)
{
    tr_sink sink, filtered;
    range_filter f;
    espi_writer_opts wo = {1};
    tr_options to = {r->tz, 0};
    int rc;
    if (!(r->w = espi_writer_open_path(r->o.out, &wo, &r->err))) return r->err.code ? r->err.code : EG_EIO;
    if ((rc = tr_emit_begin(r->emit, r->w, &r->err))) return rc;
    tr_emit_write_sink(r->emit, &sink);
    for (int i = 0; i < r->n_ch && !rc; i++) {
        chunk *k = &r->ch[i];
        rewind(k->f);
        range_filter_init(&f, r, k, NULL, &sink, &filtered);
        tr_emit_begin_input(r->emit, k->name);
        rc = tr_smarthub_read(k->f, k->name, &to, &filtered, &r->err);
    }
    if (!rc) rc = tr_emit_end(r->emit, &r->err);
    if (!rc) {
        rc = espi_writer_close(r->w, &r->err);
        r->w = NULL;
    }
    return rc;
}

/* ---- summary ----------------------------------------------------------------------------------- */

static const char *kwh_text(const tr_channel *ch, int64_t v, char *buf, size_t size)
{
    int64_t p = ch->power_of_ten_multiplier;
    if (ch->uom != ESPI_UOM_WH || p > 3 || p < -12) {
        snprintf(buf, size, "%" PRId64 " (uom %" PRId64 " x 10^%" PRId64 ")", v, ch->uom, p);
        return buf;
    }
    return tr_dec_format(v, (int)(3 - p), buf, size);
}

static void summary_text(const prun *r, FILE *f)
{
    char a[48], b[48], t[32];
    int polls = 0;
    int64_t skipped[TR_SKIP_WARNING + 1] = {0};
    for (int i = 0; i < r->n_ch; i++) {
        polls += r->ch[i].polls;
        for (int s = 0; s <= TR_SKIP_WARNING; s++) skipped[s] += r->ch[i].sum->skipped[s];
    }
    fprintf(f, "pulled %s account %s service location %s: %s..%s in %d request%s (%d poll%s)\n",
            r->po.portal, r->po.account, r->location, r->o.from, r->o.to, r->n_ch,
            r->n_ch == 1 ? "" : "s", polls, polls == 1 ? "" : "s");
    fprintf(f, "  gaps in SmartHub's data (y null): %" PRId64 ", nonexistent local times: %" PRId64
               ", warnings: %" PRId64 " (of which outside the days asked for: %" PRId64 ")\n",
            skipped[TR_SKIP_NO_VALUE], skipped[TR_SKIP_NONEXISTENT], skipped[TR_SKIP_WARNING],
            r->dropped);
    for (int i = 0; i < r->n_ch; i++)
        for (int k = 0; k < r->ch[i].sum->n_kept; k++)
            fprintf(f, "  %s: %s\n", r->ch[i].name, r->ch[i].sum->kept[k].reason);
    espi_time_format(tr_emit_updated(r->emit), t, sizeof t);
    fprintf(f, "feed %s: %" PRId64 " entries, zone %s, updated %s\n",
            strcmp(r->o.out, "-") == 0 ? "<stdout>" : r->o.out, tr_emit_entries(r->emit),
            tr_tz_name(r->tz), t);
    for (int c = 0; c < tr_emit_channel_count(r->emit); c++) {
        const tr_emit_channel_stats *s = tr_emit_channel_info(r->emit, c);
        int64_t rin = 0, tin = 0, cin = 0;
        for (int i = 0; i < r->n_ch; i++)
            for (int j = 0; j < r->ch[i].sum->n_channels; j++) {
                const tr_channel_summary *cs = &r->ch[i].sum->ch[j];
                if (strcmp(cs->channel.key, s->channel.key) != 0) continue;
                rin += cs->readings;
                tin += cs->total;
                cin += cs->cost_total;
            }
        fprintf(f, "channel %s (%s)\n", s->channel.key, s->channel.name);
        fprintf(f, "  readings in %" PRId64 ", out %" PRId64 "\n", rin, s->readings);
        fprintf(f, "  kWh in %s, out %s\n", kwh_text(&s->channel, tin, a, sizeof a),
                kwh_text(&s->channel, s->total, b, sizeof b));
        if (s->with_cost)
            fprintf(f, "  cost in %s, out %s\n", tr_dec_format(cin, 5, a, sizeof a),
                    tr_dec_format(s->cost_total, 5, b, sizeof b));
        fprintf(f, "  gaps %" PRId64 ", estimated %" PRId64 ", IntervalBlocks %" PRId64
                   " (%" PRId64 " of 23/25 hours)\n",
                s->gaps, s->estimated, s->blocks, s->dst_blocks);
    }
}

/* ---- options, password ---------------------------------------------------------------------------- */

static int parse_day(const char *opt, const char *s, int64_t *day)
{
    int y, m, d, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || strlen(s) != 10 || y < 1971 ||
        m < 1 || m > 12 || d < 1 || d > tr_days_in_month(y, m))
        return cli_usage_error("pull", "%s '%s' is not a date (expected YYYY-MM-DD, e.g. 2024-01-31)",
                               opt, s);
    *day = tr_days_from_civil(y, m, d);
    return 0;
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return cli_usage_error("pull", "%s '%s' is not a whole number from %ld to %ld", opt, s, lo, hi);
    *out = v;
    return 0;
}

/* A host name: letters, digits, '-', '.', and an optional :port. */
static int host_ok(const char *h)
{
    size_t n = strlen(h);
    if (!n || n > PULL_HOST_MAX || h[0] == '.' || h[0] == '-') return 0;
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == ':'))
            return 0;
    return 1;
}

/* Strip a trailing newline (and CR). */
static void chomp(char *s)
{
    size_t n = strcspn(s, "\r\n");
    s[n] = 0;
}

/* Prompt on the terminal with echo off. */
static int prompt_password(prun *r)
{
    struct termios old, quiet;
    int rc = 0, restored = 1;
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) return cli_usage_error("pull", "no password: give --password-file FILE or set "
                                     "ESPIGATE_PASSWORD (no terminal to ask on)");
    fprintf(tty, "SmartHub password for %s: ", r->po.user);
    fflush(tty);
    if (tcgetattr(fileno(tty), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        restored = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) != 0;
    }
    if (!fgets(r->password, sizeof r->password, tty)) r->password[0] = 0;
    if (!restored) tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    chomp(r->password);
    if (!r->password[0]) rc = cli_usage_error("pull", "no password given");
    return rc;
}

static int read_password(prun *r)
{
    const char *env = getenv("ESPIGATE_PASSWORD");
    if (r->o.password_file) {
        struct stat st;
        FILE *f = fopen(r->o.password_file, "r");
        if (!f) {
            fprintf(stderr, "espigate pull: %s: cannot open the password file: %s\n",
                    r->o.password_file, strerror(errno));
            return EG_EXIT_NOINPUT;
        }
        if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
            fprintf(stderr, "espigate pull: warning: %s can be read by other users (chmod 600 it)\n",
                    r->o.password_file);
        if (!fgets(r->password, sizeof r->password, f)) r->password[0] = 0;
        fclose(f);
        chomp(r->password);
        if (!r->password[0])
            return cli_usage_error("pull", "%s: the first line (the password) is empty", r->o.password_file);
        return 0;
    }
    if (env && *env) {
        if (strlen(env) >= sizeof r->password)
            return cli_usage_error("pull", "ESPIGATE_PASSWORD is longer than %d bytes", PULL_PASSWORD_MAX - 1);
        snprintf(r->password, sizeof r->password, "%s", env);
        return 0;
    }
    if (!isatty(STDIN_FILENO))
        return cli_usage_error("pull", "no password: give --password-file FILE, set ESPIGATE_PASSWORD, "
                               "or run on a terminal to be asked");
    return prompt_password(r);
}

static int parse_options(int argc, char **argv, prun *r, int *done)
{
    enum { O_HOST = 256, O_PORTAL, O_USER, O_ACCOUNT, O_LOCATION, O_FROM, O_TO, O_TZ, O_PWFILE,
           O_OTP, O_CA, O_INSECURE, O_TIMEOUT, O_INTERVAL, O_TRIES, O_CHUNK, O_MAXBODY, O_BASE,
           O_SUMMARY };
    static const struct option longopts[] = {
        {"host", required_argument, NULL, O_HOST}, {"portal-url", required_argument, NULL, O_PORTAL},
        {"user", required_argument, NULL, O_USER}, {"account", required_argument, NULL, O_ACCOUNT},
        {"service-location", required_argument, NULL, O_LOCATION},
        {"from", required_argument, NULL, O_FROM}, {"to", required_argument, NULL, O_TO},
        {"tz", required_argument, NULL, O_TZ}, {"password-file", required_argument, NULL, O_PWFILE},
        {"otp-code", required_argument, NULL, O_OTP}, {"ca", required_argument, NULL, O_CA},
        {"insecure", no_argument, NULL, O_INSECURE}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"poll-interval", required_argument, NULL, O_INTERVAL},
        {"poll-tries", required_argument, NULL, O_TRIES},
        {"chunk-days", required_argument, NULL, O_CHUNK},
        {"max-answer-bytes", required_argument, NULL, O_MAXBODY},
        {"base-url", required_argument, NULL, O_BASE}, {"summary", no_argument, NULL, O_SUMMARY},
        {"output", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    tr_pull_opts *p = &r->po;
    long v = 0;
    int c, rc;
    *done = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        rc = 0;
        switch (c) {
        case O_HOST: r->o.host = optarg; break;
        case O_PORTAL: r->o.portal_url = optarg; break;
        case O_USER: p->user = optarg; break;
        case O_ACCOUNT: p->account = optarg; break;
        case O_LOCATION: p->service_location = optarg; break;
        case O_FROM: rc = parse_day("--from", r->o.from = optarg, &p->first_day); break;
        case O_TO: rc = parse_day("--to", r->o.to = optarg, &p->last_day); break;
        case O_TZ: r->o.tz = optarg; break;
        case O_PWFILE: r->o.password_file = optarg; break;
        case O_OTP: p->otp = optarg; break;
        case O_CA: p->ca_file = optarg; break;
        case O_INSECURE: p->insecure = 1; break;
        case O_TIMEOUT:
            if (!(rc = parse_long("--timeout", optarg, 1, 3600, &v))) {
                p->timeout_ms = v * 1000;
                p->connect_timeout_ms = v < 10 ? v * 1000 : 10000;
            }
            break;
        case O_INTERVAL:
            if (!(rc = parse_long("--poll-interval", optarg, 0, 60000, &v))) p->poll_interval_ms = v;
            break;
        case O_TRIES:
            if (!(rc = parse_long("--poll-tries", optarg, 1, 1000, &v))) p->poll_tries = (int)v;
            break;
        case O_CHUNK:
            if (!(rc = parse_long("--chunk-days", optarg, 1, TR_PULL_MAX_CHUNK_DAYS, &v))) p->chunk_days = (int)v;
            break;
        case O_MAXBODY:
            if (!(rc = parse_long("--max-answer-bytes", optarg, 1024, 1L << 30, &v))) p->max_body = (size_t)v;
            break;
        case O_BASE: r->o.base_url = optarg; break;
        case O_SUMMARY: r->o.summary = 1; break;
        case 'o': r->o.out = optarg; break;
        case 'q': r->o.quiet = 1; break;
        case 'h': fputs(pull_help, stdout); *done = 1; return EG_EXIT_OK;
        case ':': return cli_usage_error("pull", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("pull", "unknown option '%s'", argv[optind - 1]);
        }
        if (rc) return rc;
    }
    return 0;
}

/* Required options and the portal address; 0 or an exit status. */
static int check_options(prun *r, int argc, char **argv)
{
    const char *missing = !r->o.host && !r->o.portal_url ? "--host" : !r->po.user ? "--user"
                        : !r->po.account ? "--account" : !r->o.from ? "--from" : !r->o.to ? "--to"
                        : !r->o.tz ? "--tz" : NULL;
    if (optind >= argc) return cli_usage_error("pull", "say which portal: espigate pull smarthub ...");
    if (strcmp(argv[optind], "smarthub") != 0)
        return cli_usage_error("pull", "'%s' is not a source this command can pull from (expected smarthub)",
                               argv[optind]);
    if (optind + 1 < argc) return cli_usage_error("pull", "unexpected argument '%s'", argv[optind + 1]);
    if (missing)
        return cli_usage_error("pull", "%s is required%s", missing,
                               strcmp(missing, "--tz") == 0
                                   ? " (the co-op's IANA zone, e.g. --tz America/Chicago)" : "");
    if (r->po.first_day > r->po.last_day)
        return cli_usage_error("pull", "--from %s is after --to %s", r->o.from, r->o.to);
    if (r->po.last_day - r->po.first_day >= TR_PULL_MAX_DAYS)
        return cli_usage_error("pull", "%s..%s is more than %d days; pull it in parts", r->o.from,
                               r->o.to, TR_PULL_MAX_DAYS);
    if (r->o.portal_url) {
        size_t n = strlen(r->o.portal_url);
        while (n && r->o.portal_url[n - 1] == '/') n--;
        if (n >= sizeof r->portal) return cli_usage_error("pull", "--portal-url is too long");
        memcpy(r->portal, r->o.portal_url, n);
        r->portal[n] = 0;
        if (strncmp(r->portal, "https://", 8) != 0 &&
            !(r->po.insecure && strncmp(r->portal, "http://", 7) == 0))
            return cli_usage_error("pull", "--portal-url must start with https:// (http:// would send "
                                   "your password in clear; allowed only with --insecure)");
    } else {
        if (!host_ok(r->o.host))
            return cli_usage_error("pull", "--host '%s' is not a host name (expected e.g. "
                                   "myco-op.smarthub.coop)", r->o.host);
        snprintf(r->portal, sizeof r->portal, "https://%s", r->o.host);
    }
    r->po.portal = r->portal;
    return 0;
}

static int exit_status(int code)
{
    switch (code) {
    case TR_PULL_EAUTH: return EXIT_NOPERM;
    case TR_PULL_EUNAVAIL: return EXIT_UNAVAILABLE;
    case TR_PULL_EGAVEUP: return EXIT_TEMPFAIL;
    default: return eg_exit_status(code);
    }
}

/* Report r->err with the pull's exit statuses. */
static int report(prun *r)
{
    char buf[EG_ERR_MSG_MAX + EG_ERR_FILE_MAX + 64];
    if (!r->err.code) eg_errf(&r->err, EG_ESOFTWARE, NULL, 0, 0, "failed without a message (a bug)");
    fprintf(stderr, "espigate pull: %s\n", eg_err_format(&r->err, buf, sizeof buf));
    return exit_status(r->err.code);
}

static void release(prun *r)
{
    espi_writer_abort(r->w);
    tr_emit_free(r->emit);
    tr_tz_free(r->tz);
    for (int i = 0; i < r->n_ch; i++) {
        if (r->ch[i].f) fclose(r->ch[i].f);
        free(r->ch[i].sum);
    }
    free(r->ch);
    explicit_bzero(r->password, sizeof r->password);
}

int cmd_pull(int argc, char **argv)
{
    prun r;
    tr_emit_opts eo;
    int status, done, curl_up = 0;
    const char *tzdir = getenv("TZDIR");
    memset(&r, 0, sizeof r);
    tr_pull_opts_init(&r.po);
    r.o.out = "-";
    eg_err_clear(&r.err);
    if ((status = parse_options(argc, argv, &r, &done)) || done) goto done;
    if ((status = check_options(&r, argc, argv))) goto done;
    if (!(r.tz = tr_tz_load(r.o.tz, tzdir && *tzdir ? tzdir : NULL, &r.err))) {
        status = cli_usage_error("pull", "--tz '%s': %s", r.o.tz, r.err.msg);
        goto done;
    }
    if ((status = read_password(&r))) goto done;
    r.po.password = r.password;
    r.po.tz = r.tz;
    r.po.note = note;
    r.po.note_ctx = &r;
    if (r.po.insecure)
        fprintf(stderr, "espigate pull: warning: --insecure: %s's certificate is not checked, so "
                        "anyone on the way can read your password and data\n", r.portal);
    tr_emit_opts_init(&eo);
    eo.tz = r.tz;
    eo.base_url = r.o.base_url;
    if (!(r.emit = tr_emit_new(&eo, &r.err))) { status = report(&r); goto done; }
    if (tr_pull_global_init(&r.err)) { status = report(&r); goto done; }
    curl_up = 1;
    if (tr_pull_smarthub(&r.po, on_chunk, &r, &r.err) || check_some_readings(&r) || write_all(&r)) {
        status = report(&r);
        goto done;
    }
    status = EG_EXIT_OK;
    if (r.o.summary) summary_text(&r, strcmp(r.o.out, "-") == 0 ? stderr : stdout);
done:
    release(&r);
    if (curl_up) tr_pull_global_cleanup();
    return status;
}
