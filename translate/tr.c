/* tr.c -- helpers shared by all translators: the counting summary sink and
 * the strict/lenient row-problem report (see tr.h).
 *
 * The summary is a sink that sits between a translator and whatever consumes
 * its output, so every translator gets the same `--summary` for free and no
 * translator has to count anything itself.  It keeps O(channels) state: per
 * channel the previous reading's end (for gaps) and the previous reading's
 * local day (for day counts), never the readings. */
#include "tr.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "decimal.h"

static tr_channel_summary *summary_channel(tr_summary *s, int index)
{
    for (int i = 0; i < s->n_channels; i++)
        if (s->ch[i].channel.index == index) return &s->ch[i];
    return NULL;
}

static int summary_on_channel(void *ctx, const tr_channel *ch, eg_err *err)
{
    tr_summary *s = ctx;
    if (s->n_channels >= TR_MAX_CHANNELS || summary_channel(s, ch->index))
        return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0,
                       "channel %d (%s) declared twice or too many channels", ch->index, ch->key);
    tr_channel_summary *c = &s->ch[s->n_channels++];
    memset(c, 0, sizeof *c);
    c->channel = *ch;
    c->first_start = c->last_end = ESPI_NONE;
    c->last_day = ESPI_NONE;
    return s->next && s->next->channel ? s->next->channel(s->next->ctx, ch, err) : 0;
}

static void count_local_day(tr_summary *s, tr_channel_summary *c, int64_t start)
{
    int y, mo, d;
    int64_t ds, de;
    if (!s->tz) return;
    tr_tz_cache_local_date(&s->tzc, start, &y, &mo, &d);
    int64_t day = tr_days_from_civil(y, mo, d);
    if (day == c->last_day) return;
    c->last_day = day;
    c->local_days++;
    if (tr_tz_day_bounds(s->tz, y, mo, d, &ds, &de) == 0 && de - ds != 86400) c->dst_days++;
}

static int summary_on_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    tr_summary *s = ctx;
    tr_channel_summary *c = summary_channel(s, r->channel);
    if (!c)
        return eg_errf(err, EG_ESOFTWARE, NULL, 0, 0,
                       "reading for channel %d before its declaration", r->channel);
    c->readings++;
    c->total += r->value;
    if (r->cost != ESPI_NONE) c->cost_total += r->cost;
    if (r->quality == ESPI_QUALITY_ESTIMATED_REFERENCE_DAY ||
        r->quality == ESPI_QUALITY_ESTIMATED_LINEAR)
        c->estimated++;
    if (r->flags & TR_READING_ROUNDED) c->rounded++;
    if (c->first_start == ESPI_NONE) c->first_start = r->start;
    else if (r->start != c->last_end) {
        c->gaps++;
        c->gap_seconds += r->start - c->last_end;
    }
    c->last_end = r->start + r->duration;
    count_local_day(s, c, r->start);
    return s->next && s->next->reading ? s->next->reading(s->next->ctx, r, err) : 0;
}

static int summary_on_skip(void *ctx, const tr_skip *sk, eg_err *err)
{
    tr_summary *s = ctx;
    if (sk->kind >= TR_SKIP_BAD_ROW && sk->kind <= TR_SKIP_WARNING) s->skipped[sk->kind]++;
    if (sk->kind != TR_SKIP_NONEXISTENT && s->n_kept < TR_SUMMARY_SKIPS_KEPT)
        s->kept[s->n_kept++] = *sk;
    return s->next && s->next->skip ? s->next->skip(s->next->ctx, sk, err) : 0;
}

static int summary_on_bill(void *ctx, const tr_bill *b, eg_err *err)
{
    tr_summary *s = ctx;
    s->bills++;
    if (b->consumption != ESPI_NONE) s->bill_consumption += b->consumption;
    if (b->bill_total != ESPI_NONE) s->bill_total += b->bill_total;
    return s->next && s->next->bill ? s->next->bill(s->next->ctx, b, err) : 0;
}

void tr_summary_init(tr_summary *s, const tr_tz *tz, const tr_sink *next, tr_sink *sink)
{
    memset(s, 0, sizeof *s);
    s->tz = tz;
    tr_tz_cache_init(&s->tzc, tz);
    s->next = next;
    sink->ctx = s;
    sink->channel = summary_on_channel;
    sink->reading = summary_on_reading;
    sink->skip = summary_on_skip;
    sink->bill = summary_on_bill;
}

static const char *skip_kind_name(int k)
{
    switch (k) {
    case TR_SKIP_BAD_ROW: return "bad rows skipped";
    case TR_SKIP_NONEXISTENT: return "rows for nonexistent local times dropped";
    case TR_SKIP_NO_VALUE: return "rows without a value";
    default: return "warnings";
    }
}

void tr_summary_print(const tr_summary *s, FILE *out)
{
    char total[32], start[32], end[32];
    for (int i = 0; i < s->n_channels; i++) {
        const tr_channel_summary *c = &s->ch[i];
        fprintf(out, "channel %s (%s)\n", c->channel.key, c->channel.name);
        tr_dec_format(c->total, 0, total, sizeof total);
        fprintf(out, "  readings %" PRId64 ", total %s (uom %" PRId64 " x 10^%" PRId64 ")\n",
                c->readings, total, c->channel.uom, c->channel.power_of_ten_multiplier);
        if (c->readings > 0) {
            espi_time_format(c->first_start, start, sizeof start);
            espi_time_format(c->last_end, end, sizeof end);
            fprintf(out, "  span %s .. %s\n", start, end);
        }
        fprintf(out, "  gaps %" PRId64 " (%" PRId64 " s), estimated %" PRId64 ", rounded %" PRId64
                     ", local days %" PRId64 " (DST days %" PRId64 ")\n",
                c->gaps, c->gap_seconds, c->estimated, c->rounded, c->local_days, c->dst_days);
    }
    if (s->bills) {
        char wh[32], money[32];
        tr_dec_format(s->bill_consumption, 3, wh, sizeof wh);
        tr_dec_format(s->bill_total, 5, money, sizeof money);
        fprintf(out, "bills %" PRId64 ": %s kWh, %s billed\n", s->bills, wh, money);
    }
    for (int k = 0; k <= TR_SKIP_WARNING; k++)
        if (s->skipped[k]) fprintf(out, "%s: %" PRId64 "\n", skip_kind_name(k), s->skipped[k]);
    for (int i = 0; i < s->n_kept; i++)
        fprintf(out, "  line %ld: %s\n", s->kept[i].line, s->kept[i].reason);
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 0)))
#endif
static int vreport(const tr_sink *sink, tr_skip_kind kind, long line, eg_err *err,
                   const char *fmt, va_list ap)
{
    tr_skip sk;
    if (!sink->skip) return 0;
    sk.kind = kind;
    sk.line = line;
    vsnprintf(sk.reason, sizeof sk.reason, fmt, ap);
    return sink->skip(sink->ctx, &sk, err);
}

int tr_report_skip(const tr_sink *sink, tr_skip_kind kind, long line, eg_err *err,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vreport(sink, kind, line, err, fmt, ap);
    va_end(ap);
    return rc;
}

int tr_row_problem(const tr_sink *sink, const tr_options *o, const char *file, long line,
                   eg_err *err, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    if (o->lenient) rc = vreport(sink, TR_SKIP_BAD_ROW, line, err, fmt, ap);
    else rc = eg_verrf(err, EG_EDATA, file, line, 0, fmt, ap);
    va_end(ap);
    return rc;
}
