/* num.c -- exact decimals and ESPI codes in words, for people.
 *
 * Values stay integers end to end: a reading's value v in uom x 10^p is
 * shown in the display unit (kWh for Wh: unit_exp 3) as the exact decimal
 * v x 10^(p - unit_exp), by moving the decimal point in the digit string,
 * never through a double.  Averages and money rounding use 128-bit integer
 * division, rounding half away from zero. */
#include <stdio.h>
#include <string.h>

#include "render_int.h"

typedef __int128 i128;

/* Digits of |v| (v may be INT64_MIN) into buf, most significant first. */
static size_t abs_digits(i128 v, char *buf, size_t size)
{
    char tmp[48];
    size_t n = 0;
    unsigned __int128 u = v < 0 ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u && n < sizeof tmp);
    if (n >= size) return 0;
    for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

/* Write v x 10^exp10 exactly. */
static int decimal128(i128 v, int exp10, char *out, size_t size)
{
    char d[48];
    size_t n = abs_digits(v, d, sizeof d), pos = 0;
    if (!n || exp10 > 30 || exp10 < -30) return -1;
    char buf[96];
    if (v < 0) buf[pos++] = '-';
    if (exp10 >= 0) {
        memcpy(buf + pos, d, n);
        pos += n;
        for (int i = 0; i < exp10 && !(n == 1 && d[0] == '0'); i++) buf[pos++] = '0';
    } else {
        size_t frac = (size_t)-exp10;
        if (n <= frac) {
            buf[pos++] = '0';
            buf[pos++] = '.';
            for (size_t i = n; i < frac; i++) buf[pos++] = '0';
            memcpy(buf + pos, d, n);
            pos += n;
        } else {
            memcpy(buf + pos, d, n - frac);
            pos += n - frac;
            buf[pos++] = '.';
            memcpy(buf + pos, d + n - frac, frac);
            pos += frac;
        }
    }
    if (v < 0 && strspn(buf + 1, "0.") == pos - 1) { /* "-0.000" -> "0.000" */
        memmove(buf, buf + 1, pos - 1);
        pos--;
    }
    if (pos + 1 > size) return -1;
    memcpy(out, buf, pos);
    out[pos] = '\0';
    return 0;
}

int render_decimal(int64_t v, int exp10, char *out, size_t size)
{
    return decimal128(v, exp10, out, size);
}

int render_ratio(int64_t num, int64_t den, int exp10, int decimals, char *out, size_t size)
{
    if (den == 0 || decimals < 0 || decimals > 12) return -1;
    /* result = num/den x 10^exp10, shown with `decimals` digits:
     * q = round(num x 10^(exp10 + decimals) / den), printed at 10^-decimals */
    i128 n = num, d = den;
    int shift = exp10 + decimals;
    for (int i = 0; i < shift; i++) n *= 10;
    for (int i = 0; i > shift; i--) d *= 10;
    if (d < 0) { n = -n; d = -d; }
    i128 q = n / d, r = n % d;
    if (2 * (r < 0 ? -r : r) >= d) q += n < 0 ? -1 : 1;
    return decimal128(q, -decimals, out, size);
}

const char *render_unit(int64_t uom, int *unit_exp)
{
    *unit_exp = 0;
    switch (uom) {
    case ESPI_UOM_WH: *unit_exp = 3; return "kWh";
    case ESPI_UOM_W: *unit_exp = 3; return "kW";
    case ESPI_UOM_VARH: *unit_exp = 3; return "kVArh";
    case ESPI_UOM_VAR: *unit_exp = 3; return "kVAr";
    case ESPI_UOM_VAH: *unit_exp = 3; return "kVAh";
    case ESPI_UOM_VA: *unit_exp = 3; return "kVA";
    case ESPI_UOM_M3: return "m\xc2\xb3";
    case ESPI_UOM_M3_COMPENSATED: return "m\xc2\xb3 (compensated)";
    case ESPI_UOM_THERM: return "therm";
    case ESPI_UOM_US_GALLON: return "US gal";
    case ESPI_UOM_V: return "V";
    case ESPI_UOM_A: return "A";
    case ESPI_UOM_DEGREES_C: return "\xc2\xb0" "C";
    case ESPI_UOM_SECONDS: return "s";
    case ESPI_UOM_MONEY: return "money";
    default: return "";
    }
}

const char *render_kind_word(int64_t kind)
{
    switch (kind) {
    case ESPI_KIND_ENERGY: return "Energy";
    case ESPI_KIND_DEMAND: return "Demand";
    case ESPI_KIND_VOLUME: return "Volume";
    case ESPI_KIND_POWER: return "Power";
    case ESPI_KIND_CURRENT: return "Current";
    case ESPI_KIND_VOLTAGE: return "Voltage";
    case ESPI_KIND_TEMPERATURE: return "Temperature";
    default: return "Measurement";
    }
}

const char *render_flow_word(int64_t flow)
{
    switch (flow) {
    case ESPI_FLOW_FORWARD: return "delivered (forward)";
    case ESPI_FLOW_REVERSE: return "received (reverse)";
    case ESPI_FLOW_NET: return "net";
    case ESPI_FLOW_TOTAL: return "total";
    default: return "";
    }
}

const char *render_commodity_word(int64_t c)
{
    switch (c) {
    case ESPI_COMMODITY_ELECTRICITY_SECONDARY: return "electricity (secondary metered)";
    case ESPI_COMMODITY_ELECTRICITY_PRIMARY: return "electricity (primary metered)";
    case ESPI_COMMODITY_NATURAL_GAS: return "natural gas";
    case ESPI_COMMODITY_PROPANE: return "propane";
    case ESPI_COMMODITY_POTABLE_WATER: return "potable water";
    case ESPI_COMMODITY_STEAM: return "steam";
    case ESPI_COMMODITY_AIR: return "air";
    default: return "";
    }
}

const char *render_service_word(int64_t kind)
{
    static const char *const names[] = {"electricity", "gas",   "water", "time",     "heat",
                                        "refuse",      "sewerage", "rates", "TV licence",
                                        "internet"};
    if (kind < 0 || kind > 9) return "unknown service";
    return names[kind];
}

const char *render_item_kind_word(int64_t kind)
{
    static const char *const names[] = {"",
                                        "energy generation fee",
                                        "energy delivery fee",
                                        "energy usage fee",
                                        "administrative fee",
                                        "tax",
                                        "energy generation credit",
                                        "energy delivery credit",
                                        "administrative credit",
                                        "payment",
                                        "information"};
    if (kind < 1 || kind > 10) return "other";
    return names[kind];
}

const char *render_currency_code(int64_t currency)
{
    switch (currency) {
    case ESPI_CURRENCY_USD: return "USD";
    case ESPI_CURRENCY_CAD: return "CAD";
    case ESPI_CURRENCY_EUR: return "EUR";
    case 826: return "GBP";
    case 36: return "AUD";
    default: return "";
    }
}

void render_interval_words(int64_t s, char *out, size_t size)
{
    if (s == ESPI_NONE || s <= 0) snprintf(out, size, "%s", "");
    else if (s == 3600) snprintf(out, size, "hourly");
    else if (s == 86400) snprintf(out, size, "daily");
    else if (s >= 28 * 86400 && s <= 31 * 86400) snprintf(out, size, "monthly");
    else if (s % 60 == 0 && s < 3600) snprintf(out, size, "%lld-minute", (long long)(s / 60));
    else if (s % 3600 == 0 && s < 86400) snprintf(out, size, "%lld-hour", (long long)(s / 3600));
    else snprintf(out, size, "%lld-second", (long long)s);
}

void render_reading_type_words(const espi_reading_type *rt, char *out, size_t size)
{
    int ue;
    const char *unit = render_unit(rt->uom, &ue);
    const char *flow = render_flow_word(rt->flow_direction);
    char iv[32];
    render_interval_words(rt->interval_length, iv, sizeof iv);
    snprintf(out, size, "%s%s%s%s%s%s%s", render_kind_word(rt->kind), *unit ? ", " : "", unit,
             *flow ? ", " : "", flow, *iv ? ", " : "", iv);
}

int render_quality_class(const int64_t *q, int n, int64_t default_quality)
{
    int cls = 0;
    if (n == 0 && default_quality != ESPI_NONE) {
        q = &default_quality;
        n = 1;
    }
    for (int i = 0; i < n; i++) {
        switch (q[i]) {
        case ESPI_QUALITY_ESTIMATED_REFERENCE_DAY:
        case ESPI_QUALITY_ESTIMATED_LINEAR:
            return 1;
        case ESPI_QUALITY_MANUALLY_EDITED:
        case ESPI_QUALITY_QUESTIONABLE:
        case ESPI_QUALITY_DERIVED:
        case ESPI_QUALITY_PROJECTED:
        case ESPI_QUALITY_MIXED:
        case ESPI_QUALITY_OTHER:
        case ESPI_QUALITY_VERIFICATION_REQUIRED:
            cls = 2;
            break;
        default: break;
        }
    }
    return cls;
}

const char *render_quality_word(int64_t q)
{
    switch (q) {
    case ESPI_QUALITY_VALID: return "valid";
    case ESPI_QUALITY_MANUALLY_EDITED: return "manually edited";
    case ESPI_QUALITY_ESTIMATED_REFERENCE_DAY: return "estimated (reference day)";
    case ESPI_QUALITY_ESTIMATED_LINEAR: return "estimated (linear interpolation)";
    case ESPI_QUALITY_QUESTIONABLE: return "questionable";
    case ESPI_QUALITY_DERIVED: return "derived";
    case ESPI_QUALITY_PROJECTED: return "projected";
    case ESPI_QUALITY_MIXED: return "mixed";
    case ESPI_QUALITY_RAW: return "raw";
    case ESPI_QUALITY_WEATHER_NORMALIZED: return "normalized for weather";
    case ESPI_QUALITY_OTHER: return "other";
    case ESPI_QUALITY_VALIDATED: return "validated";
    case ESPI_QUALITY_VERIFICATION_REQUIRED: return "verification required";
    case ESPI_QUALITY_REVENUE: return "revenue quality";
    default: return "unknown";
    }
}

void render_href_key(const char *href, char *out, size_t size)
{
    const char *p = strstr(href, "/resource/");
    if (p) {
        p += strlen("/resource/");
    } else if ((p = strstr(href, "://")) != NULL) {
        p = strchr(p + 3, '/');
        p = p ? p : "";
    } else {
        p = href;
    }
    while (*p == '/') p++;
    snprintf(out, size, "%s", p);
    size_t n = strlen(out);
    while (n && out[n - 1] == '/') out[--n] = '\0';
}
