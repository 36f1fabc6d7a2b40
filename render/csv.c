/* csv.c -- interval readings as CSV for spreadsheets, one row per reading.
 *
 * Rows are written from the reader callback as each IntervalBlock
 * arrives: nothing but the pass-1 metadata (ReadingTypes, titles, local
 * time) is kept, so memory does not grow with the feed.  Columns:
 *
 *   usage_point, meter_reading, reading_type, start_utc, start_local,
 *   duration_s, value, unit, cost, currency, quality
 *
 * value is the exact decimal in the display unit (Wh x 10^p shown as kWh:
 * value x 10^p / 1000, by moving the decimal point, never a float); cost
 * is the exact decimal of hundred-thousandths (5 places).  Fields are
 * quoted per RFC 4180 when needed, and text that a spreadsheet would run
 * as a formula (starting with = + - @ or a control) gets a leading '. */
#include <string.h>

#include "render_int.h"

typedef struct csv_ctx {
    render_agg *a;
    FILE *out;
} csv_ctx;

static void csv_text(FILE *f, const char *s)
{
    int quote = strpbrk(s, ",\"\r\n") != NULL || *s == ' ';
    int formula = *s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r';
    if (quote) fputc('"', f);
    if (formula) fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    if (quote) fputc('"', f);
}

static void csv_quality(FILE *f, const espi_interval_reading *r, const espi_reading_type *rt)
{
    if (r->n_qualities == 0) {
        if (rt && rt->default_quality != ESPI_NONE) fputs(render_quality_word(rt->default_quality), f);
        return;
    }
    for (int i = 0; i < r->n_qualities && i < ESPI_MAX_QUALITIES; i++) {
        if (i) fputs("; ", f);
        fputs(render_quality_word(r->qualities[i]), f);
    }
}

static void csv_row(csv_ctx *c, int ch, const espi_interval_reading *r, int64_t dflt)
{
    render_agg *a = c->a;
    const render_channel *chan = &a->chs[ch];
    const espi_reading_type *rt = render_agg_rt(a, ch);
    char buf[64], rtw[160];
    int ue = 0;
    const char *unit = rt ? render_unit(rt->uom, &ue) : "";
    int64_t p = rt && rt->power_of_ten_multiplier != ESPI_NONE ? rt->power_of_ten_multiplier : 0;
    if (p < -18 || p > 18) p = 0;
    int64_t dur = r->time_period.duration != ESPI_NONE ? r->time_period.duration : dflt;

    csv_text(c->out, chan->up >= 0 && *a->ups[chan->up].title ? a->ups[chan->up].title
                     : chan->up >= 0                          ? a->ups[chan->up].key
                                                              : "");
    fputc(',', c->out);
    csv_text(c->out, *chan->title ? chan->title : chan->key);
    fputc(',', c->out);
    if (rt) render_reading_type_words(rt, rtw, sizeof rtw);
    csv_text(c->out, rt ? rtw : "");
    fputc(',', c->out);
    if (r->time_period.start != ESPI_NONE) {
        espi_time_format(r->time_period.start, buf, sizeof buf);
        fputs(buf, c->out);
        fputc(',', c->out);
        render_local_format(&a->lt, r->time_period.start, buf, sizeof buf);
        fputs(buf, c->out);
    } else {
        fputc(',', c->out);
    }
    fputc(',', c->out);
    if (dur != ESPI_NONE) fprintf(c->out, "%lld", (long long)dur);
    fputc(',', c->out);
    if (r->value != ESPI_NONE && !render_decimal(r->value, (int)p - ue, buf, sizeof buf))
        fputs(buf, c->out);
    fputc(',', c->out);
    csv_text(c->out, unit);
    fputc(',', c->out);
    if (r->cost != ESPI_NONE && !render_decimal(r->cost, -5, buf, sizeof buf)) fputs(buf, c->out);
    fputc(',', c->out);
    if (r->cost != ESPI_NONE && rt && rt->currency != ESPI_NONE)
        fputs(render_currency_code(rt->currency), c->out);
    fputc(',', c->out);
    csv_quality(c->out, r, rt);
    fputs("\r\n", c->out);
}

int render_csv_block(render_agg *a, FILE *out, const espi_resource *r, eg_err *err)
{
    csv_ctx c = {a, out};
    if (r->type != ESPI_RES_INTERVAL_BLOCK) return 0;
    const espi_interval_block *b = &r->u.interval_block;
    int ch = render_agg_channel(a, r->entry, err);
    if (ch < 0) return err && err->code ? err->code : 0;
    const espi_reading_type *rt = render_agg_rt(a, ch);
    int64_t dflt = rt && rt->interval_length > 0 ? rt->interval_length : ESPI_NONE;
    for (size_t i = 0; i < b->n_readings; i++) csv_row(&c, ch, &b->readings[i], dflt);
    if (ferror(out)) return eg_errf(err, EG_EIO, NULL, 0, 0, "cannot write the CSV output");
    return 0;
}

void render_csv_header(FILE *out)
{
    fputs("usage_point,meter_reading,reading_type,start_utc,start_local,duration_s,value,unit,"
          "cost,currency,quality\r\n",
          out);
}

