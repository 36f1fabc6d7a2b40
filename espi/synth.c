/* synth.c -- deterministic synthetic Download-My-Data feeds (see synth.h).
 *
 * Local days.  The feed's LocalTimeParameters say US Central (tzOffset
 * -21600, dstOffset 3600, rules 360E2000 / B40E2000).  Local midnight of
 * calendar date D is D*86400 - tzOffset, minus dstOffset when DST is in
 * effect at that instant; DST is decided with espi_dst_rule_instant(), never
 * with the C library's TZ (global state).  A day's IntervalBlock runs from
 * its local midnight to the next, so the spring-forward day holds 23 hours
 * of readings and the fall-back day 25.  Midnight is never inside a
 * transition (they happen at 02:00 local).
 *
 * Values.  A reading is hash(seed, usage point, instant) shaped by an
 * hourly house-load profile (W at each wall-clock hour, linearly
 * interpolated), a monthly heating/cooling factor and a per-house size, all
 * in integer arithmetic.  Net metering adds a triangle-shaped 4 kW rooftop
 * array (07:00-19:00 wall time, a cloudiness factor per day): forward =
 * max(0, load - solar), reverse = max(0, solar - load).  Because a reading
 * is a pure function, the monthly UsageSummary recomputes its totals
 * instead of buffering anything.
 *
 * Money (hundred-thousandths of USD per Wh): 11 off-peak, 24 from 16:00 to
 * 21:00 wall time; exported energy is credited at 5 (written as a positive
 * cost on the reverse reading).  A summary bills energy + a 12.00 USD
 * monthly delivery charge (prorated by days) + 5 % tax. */
#include "synth.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uri.h"

#define SYNTH_TZ_OFFSET (-21600)
#define SYNTH_DST_OFFSET 3600
#define SYNTH_DST_START 0x360E2000u
#define SYNTH_DST_END 0xB40E2000u

#define PRICE_OFFPEAK 11
#define PRICE_PEAK 24
#define PRICE_EXPORT 5
#define DELIVERY_PER_MONTH 1200000 /* 12.00 USD */
#define TAX_PERCENT 5

enum { FLOW_FORWARD, FLOW_REVERSE };

typedef struct synth {
    espi_writer *w;
    const espi_synth_opts *o;
    const char *base;
    int64_t stamp;          /* published/updated */
    int64_t day0;           /* first local date, days since 1970-01-01 */
    char sid[37], ltp[37];
    espi_entry e;           /* reused for every entry (large) */
    char key[160];
} synth;

/* ---- integer helpers ------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t hash3(uint64_t seed, uint64_t a, uint64_t b)
{
    return splitmix64(splitmix64(splitmix64(seed) ^ a) ^ b);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Civil date of a day count (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

/* ---- local time ------------------------------------------------------------ */

/* Is UTC instant u inside DST of the given year (rules of the feed)? */
static int in_dst(int year, int64_t u)
{
    int64_t on, off;
    if (espi_dst_rule_instant(SYNTH_DST_START, year, SYNTH_TZ_OFFSET, &on) ||
        espi_dst_rule_instant(SYNTH_DST_END, year, SYNTH_TZ_OFFSET + SYNTH_DST_OFFSET, &off))
        return 0;
    if (on <= off) return u >= on && u < off;
    return u >= on || u < off; /* southern hemisphere rules */
}

/* UTC instant of local midnight starting calendar date `date`. */
static int64_t local_midnight(int64_t date)
{
    int y, m, d;
    civil_from_days(date, &y, &m, &d);
    int64_t standard = date * 86400 - SYNTH_TZ_OFFSET;
    int64_t daylight = standard - SYNTH_DST_OFFSET;
    return in_dst(y, daylight) ? daylight : standard;
}

/* Seconds since local (wall-clock) midnight of UTC instant t in a day
 * starting at midnight m of year y. */
static int64_t wall_seconds(int y, int64_t m, int64_t t)
{
    int64_t s = t - m + (int64_t)(in_dst(y, t) - in_dst(y, m)) * SYNTH_DST_OFFSET;
    return s < 0 ? 0 : s;
}

/* ---- values ---------------------------------------------------------------- */

/* Average house load in W at each wall-clock hour. */
static const int load_profile[25] = {
    450, 400, 380, 370, 380, 450, 700, 1100, 1000, 800, 700, 700, 750,
    750, 800, 900, 1200, 1700, 2100, 2000, 1700, 1300, 900, 600, 450,
};
/* Heating/cooling factor by month, percent. */
static const int month_factor[12] = {130, 120, 105, 95, 100, 120, 145, 145, 115, 95, 105, 125};

typedef struct reading_val {
    int64_t forward, reverse;   /* Wh */
    int peak;                   /* inside the peak price window */
    int estimated;
} reading_val;

/* The reading of usage point `up` starting at t, in a day of the given
 * month starting at midnight; a day of exactly 24 h has no DST change, so
 * wall time is simply t - midnight (saves four rule evaluations). */
static reading_val reading_at(const synth *s, int up, int y, int month, int64_t midnight,
                              int64_t day_len, int64_t t, int64_t date)
{
    const espi_synth_opts *o = s->o;
    reading_val r;
    int64_t mid = t + o->interval / 2;
    int64_t wall = day_len == 86400 ? mid - midnight : wall_seconds(y, midnight, mid);
    int h = (int)(wall / 3600 % 24), frac = (int)(wall % 3600);
    int64_t watts = load_profile[h] + (int64_t)(load_profile[h + 1] - load_profile[h]) * frac / 3600;
    uint64_t hx = hash3(o->seed, (uint64_t)up, (uint64_t)t);
    int64_t size = 70 + (int64_t)(hash3(o->seed, (uint64_t)up, 0x5151) % 81); /* 70..150 % */
    int64_t noise = 80 + (int64_t)(hx % 41);                                  /* 80..120 % */
    watts = watts * size / 100 * month_factor[month - 1] / 100 * noise / 100;
    if ((hx >> 20) % 53 == 0) watts += 1500;                                  /* a kettle */
    int64_t load = watts * o->interval / 3600;
    int64_t solar = 0;
    if (o->net_metering && wall >= 7 * 3600 && wall < 19 * 3600) {
        int64_t dist = wall > 13 * 3600 ? wall - 13 * 3600 : 13 * 3600 - wall;
        int64_t clear = 30 + (int64_t)(hash3(o->seed, (uint64_t)up, (uint64_t)date) % 71);
        int64_t pw = 4000 * (6 * 3600 - dist) / (6 * 3600) * clear / 100;
        solar = pw * o->interval / 3600;
    }
    r.forward = load > solar ? load - solar : 0;
    r.reverse = solar > load ? solar - load : 0;
    r.peak = wall >= 16 * 3600 && wall < 21 * 3600;
    r.estimated = o->with_quality && (hx >> 40) % 97 == 0;
    return r;
}

/* ---- entries ----------------------------------------------------------------- */

/* s->key = "synth:<seed>:" + suffix; reset s->e with the id, title and
 * times of that key; the bare UUID (for hrefs) goes to bare. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void entry_for(synth *s, const char *title, char bare[37], const char *fmt, ...)
{
    char suffix[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(suffix, sizeof suffix, fmt, ap);
    va_end(ap);
    snprintf(s->key, sizeof s->key, "synth:%llu:%s", (unsigned long long)s->o->seed, suffix);
    espi_entry_init(&s->e);
    espi_uuid5(s->key, s->e.id);
    espi_uuid5_bare(s->key, bare);
    snprintf(s->e.title, sizeof s->e.title, "%s", title);
    s->e.published = s->e.updated = s->stamp;
}

static const char *flow_name(int flow)
{
    return flow == FLOW_FORWARD ? "forward" : "reverse";
}

static int write_ltp(synth *s, eg_err *err)
{
    espi_local_time_parameters t;
    entry_for(s, "US Central Time", s->ltp, "ltp");
    espi_links_local_time_parameters(&s->e, s->base, s->ltp);
    t.dst_end_rule = SYNTH_DST_END;
    t.dst_offset = SYNTH_DST_OFFSET;
    t.dst_start_rule = SYNTH_DST_START;
    t.tz_offset = SYNTH_TZ_OFFSET;
    return espi_writer_local_time_parameters(s->w, &s->e, &t, err);
}

static int write_usage_point(synth *s, int up, char upid[37], eg_err *err)
{
    char title[64];
    espi_usage_point p;
    snprintf(title, sizeof title, "Synthetic house %d", up);
    entry_for(s, title, upid, "up:%d", up);
    espi_links_usage_point(&s->e, s->base, s->sid, upid, s->ltp, 1, 0);
    espi_usage_point_init(&p);
    p.service_kind = ESPI_SERVICE_ELECTRICITY;
    p.status = 1;
    return espi_writer_usage_point(s->w, &s->e, &p, err);
}

static int write_meter_reading(synth *s, int up, const char *upid, int flow, char mrid[37],
                               eg_err *err)
{
    char title[96], rtid[37], mr_key[64];
    int rc;
    snprintf(title, sizeof title, "Energy %s (%d s intervals)",
             flow == FLOW_FORWARD ? "delivered" : "received", s->o->interval);
    snprintf(mr_key, sizeof mr_key, "up:%d:mr:%s", up, flow_name(flow));
    entry_for(s, "", rtid, "%s:rt", mr_key); /* only for the ReadingType id */
    entry_for(s, title, mrid, "%s", mr_key);
    espi_links_meter_reading(&s->e, s->base, s->sid, upid, mrid, rtid);
    if ((rc = espi_writer_meter_reading(s->w, &s->e, err))) return rc;

    espi_reading_type rt;
    snprintf(title, sizeof title, "Wh %s, %d s intervals",
             flow == FLOW_FORWARD ? "delivered" : "received", s->o->interval);
    entry_for(s, title, rtid, "%s:rt", mr_key);
    espi_links_reading_type(&s->e, s->base, rtid);
    espi_reading_type_init(&rt);
    rt.accumulation_behaviour = ESPI_ACCUM_DELTA_DATA;
    rt.commodity = ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    rt.currency = ESPI_CURRENCY_USD;
    rt.data_qualifier = ESPI_QUALIFIER_NORMAL;
    rt.flow_direction = flow == FLOW_FORWARD ? ESPI_FLOW_FORWARD : ESPI_FLOW_REVERSE;
    rt.interval_length = s->o->interval;
    rt.kind = ESPI_KIND_ENERGY;
    rt.phase = 769; /* PhaseCodeKind s12N: residential split phase */
    rt.power_of_ten_multiplier = 0;
    rt.time_attribute = ESPI_TPOI_NONE;
    rt.uom = ESPI_UOM_WH;
    if (s->o->interval == 900) rt.measuring_period = ESPI_TIMEATTR_15_MINUTE;
    else if (s->o->interval == 3600) rt.measuring_period = ESPI_TIMEATTR_60_MINUTE;
    return espi_writer_reading_type(s->w, &s->e, &rt, err);
}

/* One local day of one MeterReading as one IntervalBlock. */
static int write_day(synth *s, int up, const char *upid, int flow, const char *mrid, int day,
                     eg_err *err)
{
    char ibid[37], title[96];
    int y, m, d, rc;
    int64_t date = s->day0 + day, start = local_midnight(date), end = local_midnight(date + 1);
    civil_from_days(date, &y, &m, &d);
    snprintf(title, sizeof title, "Energy %s %04d-%02d-%02d",
             flow == FLOW_FORWARD ? "delivered" : "received", y, m, d);
    entry_for(s, title, ibid, "up:%d:mr:%s:ib:%04d-%02d-%02d", up, flow_name(flow), y, m, d);
    espi_links_interval_block(&s->e, s->base, s->sid, upid, mrid, ibid);
    espi_interval iv = {end - start, start};
    if ((rc = espi_writer_begin_interval_block(s->w, &s->e, &iv, err))) return rc;
    espi_interval_reading r;
    espi_interval_reading_init(&r);
    for (int64_t t = start; t < end; t += s->o->interval) {
        reading_val v = reading_at(s, up, y, m, start, end - start, t, date);
        r.value = flow == FLOW_FORWARD ? v.forward : v.reverse;
        if (s->o->with_cost)
            r.cost = r.value * (flow == FLOW_REVERSE ? PRICE_EXPORT : v.peak ? PRICE_PEAK : PRICE_OFFPEAK);
        r.n_qualities = v.estimated ? 1 : 0;
        r.qualities[0] = ESPI_QUALITY_ESTIMATED_REFERENCE_DAY;
        r.time_period.duration = s->o->interval;
        r.time_period.start = t;
        if ((rc = espi_writer_interval_reading(s->w, &r, err))) return rc;
    }
    return espi_writer_end_interval_block(s->w, err);
}

/* ---- monthly summaries ----------------------------------------------------- */

typedef struct month_total {
    int64_t wh, cost;
    int estimated;
} month_total;

/* Forward totals of days [first, last) (offsets from day0). */
static month_total month_totals(const synth *s, int up, int first, int last)
{
    month_total mt = {0, 0, 0};
    for (int day = first; day < last; day++) {
        int y, m, d;
        int64_t date = s->day0 + day, start = local_midnight(date), end = local_midnight(date + 1);
        civil_from_days(date, &y, &m, &d);
        for (int64_t t = start; t < end; t += s->o->interval) {
            reading_val v = reading_at(s, up, y, m, start, end - start, t, date);
            mt.wh += v.forward;
            mt.cost += v.forward * (v.peak ? PRICE_PEAK : PRICE_OFFPEAK);
            mt.estimated |= v.estimated;
        }
    }
    return mt;
}

static void measurement_wh(espi_summary_measurement *sm, int64_t wh, int64_t at)
{
    espi_summary_measurement_init(sm);
    sm->power_of_ten_multiplier = 0;
    sm->time_stamp = at;
    sm->uom = ESPI_UOM_WH;
    sm->value = wh;
}

static void line_item(espi_line_item *li, int64_t amount, const char *note, int64_t kind,
                      const espi_interval *period)
{
    espi_line_item_init(li);
    li->amount = amount;
    snprintf(li->note, sizeof li->note, "%s", note);
    li->item_kind = kind;
    li->item_period = *period;
}

/* The UsageSummary of days [first, last), all in one local month. */
static int write_summary(synth *s, int up, const char *upid, int first, int last, eg_err *err)
{
    char usid[37], title[64];
    int y, m, d, dim;
    civil_from_days(s->day0 + first, &y, &m, &d);
    int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
    {   /* days in this month: next month's first day minus this one's */
        int64_t z = s->day0 + first - (d - 1), k = z;
        int yy, mm, dd;
        do civil_from_days(++k, &yy, &mm, &dd); while (!(yy == ny && mm == nm));
        dim = (int)(k - z);
    }
    snprintf(title, sizeof title, "Usage summary %04d-%02d", y, m);
    entry_for(s, title, usid, "up:%d:us:%04d-%02d", up, y, m);
    espi_links_usage_summary(&s->e, s->base, s->sid, upid, usid);

    month_total mt = month_totals(s, up, first, last);
    int64_t start = local_midnight(s->day0 + first), end = local_midnight(s->day0 + last);
    espi_usage_summary us;
    espi_line_item items[2];
    espi_usage_summary_init(&us);
    us.billing_period.duration = end - start;
    us.billing_period.start = start;
    if (s->o->with_cost) {
        int64_t delivery = (int64_t)DELIVERY_PER_MONTH * (last - first) / dim;
        int64_t tax = (mt.cost + delivery) * TAX_PERCENT / 100;
        /* costAdditionalDetailLastPeriod itemises costAdditionalLastPeriod
         * (the charges beyond energy), so the items must add up to it */
        line_item(&items[0], delivery, "Delivery charge", ESPI_ITEM_DELIVERY_FEE, &us.billing_period);
        line_item(&items[1], tax, "Sales tax", ESPI_ITEM_TAX, &us.billing_period);
        us.bill_last_period = mt.cost + delivery + tax;
        us.cost_additional_last_period = delivery + tax;
        us.line_items = items;
        us.n_line_items = 2;
        us.currency = ESPI_CURRENCY_USD;
    }
    measurement_wh(&us.overall_consumption_last_period, mt.wh, end);
    us.quality_of_reading = mt.estimated ? ESPI_QUALITY_MIXED : ESPI_QUALITY_VALID;
    us.status_time_stamp = s->stamp;
    us.commodity = ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    return espi_writer_usage_summary(s->w, &s->e, &us, err);
}

static int write_summaries(synth *s, int up, const char *upid, eg_err *err)
{
    int first = 0, rc = 0;
    while (first < s->o->days && !rc) {
        int y0, m0, d0, y, m, d, last = first + 1;
        civil_from_days(s->day0 + first, &y0, &m0, &d0);
        for (; last < s->o->days; last++) {
            civil_from_days(s->day0 + last, &y, &m, &d);
            if (m != m0 || y != y0) break;
        }
        rc = write_summary(s, up, upid, first, last, err);
        first = last;
    }
    return rc;
}

/* ---- the feed -------------------------------------------------------------- */

void espi_synth_opts_init(espi_synth_opts *o)
{
    memset(o, 0, sizeof *o);
    o->usage_points = 1;
    o->start = 1704067200; /* 2024-01-01T00:00:00Z */
    o->days = 7;
    o->interval = 900;
    o->base_url = NULL;
    o->seed = 1;
    o->updated = ESPI_NONE;
}

static int check_opts(const espi_synth_opts *o, eg_err *err)
{
    if (o->usage_points < 1 || o->usage_points > ESPI_SYNTH_MAX_USAGE_POINTS)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "usage points %d out of range (expected 1..%d)",
                       o->usage_points, ESPI_SYNTH_MAX_USAGE_POINTS);
    if (o->days < 1 || o->days > ESPI_SYNTH_MAX_DAYS)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "days %d out of range (expected 1..%d)",
                       o->days, ESPI_SYNTH_MAX_DAYS);
    if (o->interval < 1 || o->interval > 3600 || 3600 % o->interval != 0)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0,
                       "interval %d s does not divide an hour (expected e.g. 900 or 3600)", o->interval);
    /* keep every date inside years 1..9999 so times format as xs:dateTime */
    if (o->start < -62135596800LL || o->start > 253402300799LL - (int64_t)o->days * 86400)
        return eg_errf(err, EG_EUSAGE, NULL, 0, 0, "start %lld out of range (years 1..9999)",
                       (long long)o->start);
    return 0;
}

static int write_usage_point_all(synth *s, int up, eg_err *err)
{
    char upid[37], mrid[37];
    int rc = write_usage_point(s, up, upid, err);
    for (int flow = FLOW_FORWARD; !rc && flow <= (s->o->net_metering ? FLOW_REVERSE : FLOW_FORWARD); flow++) {
        rc = write_meter_reading(s, up, upid, flow, mrid, err);
        for (int day = 0; !rc && day < s->o->days; day++)
            rc = write_day(s, up, upid, flow, mrid, day, err);
    }
    if (!rc) rc = write_summaries(s, up, upid, err);
    return rc;
}

int espi_synth_write(espi_writer *w, const espi_synth_opts *o, eg_err *err)
{
    int rc = check_opts(o, err);
    if (rc) return rc;
    static const synth zero;
    synth *s = NULL;
    espi_feed_head *h = NULL;
    /* the entry and feed head are ~40 KiB: keep them off the stack */
    s = malloc(sizeof *s);
    h = malloc(sizeof *h);
    if (!s || !h) { rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory"); goto done; }
    *s = zero;
    s->w = w;
    s->o = o;
    s->base = o->base_url && *o->base_url ? o->base_url : ESPI_DEFAULT_BASE;
    s->day0 = floor_div(o->start, 86400);
    s->stamp = o->updated != ESPI_NONE ? o->updated : local_midnight(s->day0 + o->days);

    char feed_id[37];
    entry_for(s, "", s->sid, "subscription");
    entry_for(s, "", feed_id, "feed");
    memset(h, 0, sizeof *h);
    snprintf(h->id, sizeof h->id, "%s", s->e.id);
    snprintf(h->title, sizeof h->title, "Green Button Download My Data (espigate synthetic, seed %llu)",
             (unsigned long long)o->seed);
    h->updated = s->stamp;
    snprintf(h->self.rel, sizeof h->self.rel, "self");
    espi_uri_batch_subscription(h->self.href, s->base, s->sid);
    if ((rc = espi_writer_begin_feed(w, h, err))) goto done;
    if ((rc = write_ltp(s, err))) goto done;
    for (int up = 1; up <= o->usage_points; up++)
        if ((rc = write_usage_point_all(s, up, err))) goto done;
    rc = espi_writer_end_feed(w, err);
done:
    free(s);
    free(h);
    return rc;
}
