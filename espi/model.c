/* model.c -- initialisers and small helpers for the espi.h model. */
#include "espi.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include <libxml/parser.h>

static const char *const resource_names[ESPI_RES_COUNT] = {
    [ESPI_RES_USAGE_POINT] = "UsagePoint",
    [ESPI_RES_METER_READING] = "MeterReading",
    [ESPI_RES_READING_TYPE] = "ReadingType",
    [ESPI_RES_INTERVAL_BLOCK] = "IntervalBlock",
    [ESPI_RES_USAGE_SUMMARY] = "UsageSummary",
    [ESPI_RES_POWER_QUALITY_SUMMARY] = "ElectricPowerQualitySummary",
    [ESPI_RES_LOCAL_TIME_PARAMETERS] = "LocalTimeParameters",
    [ESPI_RES_APPLICATION_INFORMATION] = "ApplicationInformation",
    [ESPI_RES_AUTHORIZATION] = "Authorization",
    [ESPI_RES_SUBSCRIPTION] = "Subscription",
    [ESPI_RES_RETAIL_CUSTOMER] = "RetailCustomer",
    [ESPI_RES_BATCH_LIST] = "BatchList",
    [ESPI_RES_SERVICE_STATUS] = "ServiceStatus",
    [ESPI_RES_CUSTOMER] = "Customer",
};

const char *espi_resource_name(espi_resource_type t)
{
    if (t <= ESPI_RES_UNKNOWN || t >= ESPI_RES_COUNT) return NULL;
    return resource_names[t];
}

espi_resource_type espi_resource_from_name(const char *name)
{
    if (!name) return ESPI_RES_UNKNOWN;
    if (strcmp(name, "ElectricPowerUsageSummary") == 0) return ESPI_RES_USAGE_SUMMARY;
    for (int t = ESPI_RES_UNKNOWN + 1; t < ESPI_RES_COUNT; t++)
        if (t != ESPI_RES_CUSTOMER && strcmp(name, resource_names[t]) == 0)
            return (espi_resource_type)t;
    return ESPI_RES_UNKNOWN;
}

void espi_summary_measurement_init(espi_summary_measurement *m)
{
    m->power_of_ten_multiplier = m->time_stamp = m->uom = m->value = ESPI_NONE;
    m->reading_type_ref[0] = '\0';
}

static void interval_none(espi_interval *iv)
{
    iv->duration = iv->start = ESPI_NONE;
}

void espi_entry_init(espi_entry *e)
{
    memset(e, 0, sizeof *e);
    e->published = e->updated = ESPI_NONE;
}

void espi_usage_point_init(espi_usage_point *p)
{
    memset(p, 0, sizeof *p);
    p->service_kind = p->status = p->phase_code = ESPI_NONE;
    p->check_billing = p->grounded = p->is_sdp = p->is_virtual = ESPI_BOOL_NONE;
    p->minimal_usage_expected = ESPI_BOOL_NONE;
    espi_summary_measurement_init(&p->estimated_load);
    espi_summary_measurement_init(&p->nominal_service_voltage);
    espi_summary_measurement_init(&p->rated_current);
    espi_summary_measurement_init(&p->rated_power);
}

void espi_reading_type_init(espi_reading_type *r)
{
    r->accumulation_behaviour = r->commodity = r->consumption_tier = ESPI_NONE;
    r->currency = r->data_qualifier = r->default_quality = ESPI_NONE;
    r->flow_direction = r->interval_length = r->kind = r->phase = ESPI_NONE;
    r->power_of_ten_multiplier = r->time_attribute = r->tou = r->uom = ESPI_NONE;
    r->cpp = r->measuring_period = ESPI_NONE;
    r->interharmonic.numerator = r->interharmonic.denominator = ESPI_NONE;
    r->argument.numerator = r->argument.denominator = ESPI_NONE;
}

void espi_interval_reading_init(espi_interval_reading *r)
{
    r->cost = r->value = r->consumption_tier = r->tou = r->cpp = ESPI_NONE;
    r->n_qualities = 0;
    interval_none(&r->time_period);
}

void espi_line_item_init(espi_line_item *li)
{
    memset(li, 0, sizeof *li);
    li->amount = li->rounding = li->date_time = li->item_kind = li->unit_cost = ESPI_NONE;
    espi_summary_measurement_init(&li->measurement);
    interval_none(&li->item_period);
}

void espi_usage_summary_init(espi_usage_summary *s)
{
    memset(s, 0, sizeof *s);
    interval_none(&s->billing_period);
    interval_none(&s->ratchet_demand_period);
    s->bill_last_period = s->bill_to_date = s->cost_additional_last_period = ESPI_NONE;
    s->currency = s->quality_of_reading = s->status_time_stamp = s->commodity = ESPI_NONE;
    espi_summary_measurement *ms[] = {
        &s->overall_consumption_last_period, &s->current_billing_period_overall_consumption,
        &s->current_day_last_year_net_consumption, &s->current_day_net_consumption,
        &s->current_day_overall_consumption, &s->peak_demand,
        &s->previous_day_last_year_overall_consumption, &s->previous_day_net_consumption,
        &s->previous_day_overall_consumption, &s->ratchet_demand,
    };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) espi_summary_measurement_init(ms[i]);
}

void espi_power_quality_summary_init(espi_power_quality_summary *q)
{
    q->flicker_plt = q->flicker_pst = q->harmonic_voltage = q->long_interruptions = ESPI_NONE;
    q->mains_voltage = q->measurement_protocol = q->power_frequency = ESPI_NONE;
    q->rapid_voltage_changes = q->short_interruptions = ESPI_NONE;
    interval_none(&q->summary_interval);
    q->supply_voltage_dips = q->supply_voltage_imbalance = ESPI_NONE;
    q->supply_voltage_variations = q->temp_overvoltage = ESPI_NONE;
}

void espi_local_time_parameters_init(espi_local_time_parameters *t)
{
    t->dst_end_rule = t->dst_start_rule = ESPI_DST_RULE_NONE;
    t->dst_offset = t->tz_offset = ESPI_NONE;
}

void espi_application_information_init(espi_application_information *a)
{
    memset(a, 0, sizeof *a);
    a->data_custodian_application_status = a->third_party_application_status = ESPI_NONE;
    a->third_party_application_type = a->third_party_application_use = ESPI_NONE;
    a->client_id_issued_at = a->client_secret_expires_at = ESPI_NONE;
}

void espi_authorization_init(espi_authorization *a)
{
    memset(a, 0, sizeof *a);
    interval_none(&a->authorized_period);
    interval_none(&a->published_period);
    a->status = a->expires_at = ESPI_NONE;
}

/* ---- ids -------------------------------------------------------------- */

/* espigate's UUIDv5 namespace: random bytes chosen once; fixed forever,
 * since every id we emit depends on it. */
static const uuid_t espigate_ns = {
    0x4e, 0x8c, 0x5b, 0x0e, 0x2f, 0x4d, 0x5a, 0x1c,
    0x9b, 0x61, 0x3d, 0x27, 0xa0, 0x45, 0x8e, 0x11,
};

void espi_uuid5_bare(const char *key, char out[37])
{
    uuid_t u;
    uuid_generate_sha1(u, espigate_ns, key, strlen(key));
    uuid_unparse_lower(u, out);
}

void espi_uuid5(const char *key, char out[ESPI_ID_MAX])
{
    char bare[37];
    espi_uuid5_bare(key, bare);
    snprintf(out, ESPI_ID_MAX, "urn:uuid:%s", bare);
}

/* ---- time ------------------------------------------------------------- */

/* Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void espi_time_format(int64_t t, char *out, size_t size)
{
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) { secs += 86400; days--; }
    /* civil_from_days */
    int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(out, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (**p < '0' || **p > '9') return -1;
        v = v * 10 + (*(*p)++ - '0');
    }
    *out = v;
    return 0;
}

int espi_time_parse(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return -1;
    int64_t off = 0;
    if (*p == 'T') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &se))
            return -1;
        if (h > 24 || mi > 59 || se > 60) return -1;
        if (*p == '.') { p++; while (*p >= '0' && *p <= '9') p++; }
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om)) return -1;
        off = sign * (oh * 3600 + om * 60);
    }
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p) return -1;
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
    return 0;
}

/* Weekday of a day count since the epoch, 1 = Monday ... 7 = Sunday. */
static int weekday(int64_t days)
{
    int w = (int)((days % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday (3 from Monday=0) */
    return w + 1;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

int espi_dst_rule_instant(uint32_t rule, int year, int64_t offset_before, int64_t *out)
{
    if (rule == ESPI_DST_RULE_NONE) return -1;
    unsigned secs = rule & 0xFFF, hours = (rule >> 12) & 0x1F, wday = (rule >> 17) & 0x7;
    unsigned mday = (rule >> 20) & 0x1F, op = (rule >> 25) & 0x7, month = (rule >> 28) & 0xF;
    if (month < 1 || month > 12 || hours > 23 || secs > 3599) return -1;
    int dim = days_in_month(year, (int)month), day;
    int64_t first = days_from_civil(year, month, 1);
    if (op == 0) {
        if (mday < 1 || (int)mday > dim) return -1;
        day = (int)mday;
    } else if (op == 1) {
        if (wday < 1 || mday < 1 || (int)mday > dim) return -1;
        day = (int)mday;
        while (weekday(first + day - 1) != (int)wday) day++;
        if (day > dim) return -1;
    } else if (op >= 2 && op <= 6) {
        if (wday < 1) return -1;
        day = 1;
        while (weekday(first + day - 1) != (int)wday) day++;
        day += 7 * (int)(op - 2);
        if (day > dim) return -1;
    } else { /* 7: last weekday of month */
        if (wday < 1) return -1;
        day = dim;
        while (weekday(first + day - 1) != (int)wday) day--;
    }
    *out = (first + day - 1) * 86400 + hours * 3600 + secs - offset_before;
    return 0;
}

void espi_global_init(void)
{
    xmlInitParser();
}
