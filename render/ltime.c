/* ltime.c -- the feed's local time, from LocalTimeParameters.
 *
 * ESPI gives a zone as a standard offset (tzOffset, seconds east of UTC),
 * a DST shift (dstOffset) and two DstRuleType words saying when DST starts
 * and ends each year.  Local wall time at a UTC instant t is
 * t + tzOffset (+ dstOffset while DST is in force).  We decode the rules
 * for the instant's local year with espi_dst_rule_instant() -- a rule's
 * time is wall-clock time just before the change, so the start rule is
 * decoded with tzOffset and the end rule with tzOffset + dstOffset; when start
 * comes after end in the year (southern hemisphere) DST spans new year.
 * Day numbers are days since 1970-01-01 of local wall time, so the local
 * day of the spring-forward change is 23 hours long. */
#include <stdio.h>
#include <string.h>

#include "render_int.h"

#define MAX_TZ (14 * 3600)

/* Floor division for the negative instants before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Civil year of a day number (H. Hinnant's civil_from_days, year only). */
static int year_of_day(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return (int)(yoe + era * 400 + (m <= 2));
}

int render_ltime_set(render_ltime *lt, const espi_local_time_parameters *p, const char *title)
{
    memset(lt, 0, sizeof *lt);
    if (p->tz_offset == ESPI_NONE || p->tz_offset > MAX_TZ || p->tz_offset < -MAX_TZ) return -1;
    lt->valid = 1;
    lt->tz_offset = p->tz_offset;
    lt->dst_start = p->dst_start_rule;
    lt->dst_end = p->dst_end_rule;
    lt->dst_offset = p->dst_offset == ESPI_NONE ? 0 : p->dst_offset;
    snprintf(lt->title, sizeof lt->title, "%s", title ? title : "");
    int64_t probe;
    lt->has_dst = lt->dst_offset != 0 && lt->dst_offset > -MAX_TZ && lt->dst_offset < MAX_TZ &&
                  espi_dst_rule_instant(lt->dst_start, 2000, lt->tz_offset, &probe) == 0 &&
                  espi_dst_rule_instant(lt->dst_end, 2000, lt->tz_offset + lt->dst_offset,
                                        &probe) == 0;
    return 0;
}

int64_t render_ltime_offset(const render_ltime *lt, int64_t utc)
{
    if (!lt->valid) return 0;
    if (!lt->has_dst) return lt->tz_offset;
    int year = year_of_day(floor_div(utc + lt->tz_offset, 86400));
    int64_t start, end;
    if (espi_dst_rule_instant(lt->dst_start, year, lt->tz_offset, &start) != 0 ||
        espi_dst_rule_instant(lt->dst_end, year, lt->tz_offset + lt->dst_offset, &end) != 0)
        return lt->tz_offset;
    int dst = start < end ? (utc >= start && utc < end) : (utc >= start || utc < end);
    return lt->tz_offset + (dst ? lt->dst_offset : 0);
}

int64_t render_local_day(const render_ltime *lt, int64_t utc)
{
    return floor_div(utc + render_ltime_offset(lt, utc), 86400);
}

int64_t render_local_midnight(const render_ltime *lt, int64_t day)
{
    int64_t guess = day * 86400 - (lt->valid ? lt->tz_offset : 0);
    /* the offset at midnight may include DST: settle in two steps */
    int64_t t = day * 86400 - render_ltime_offset(lt, guess);
    return day * 86400 - render_ltime_offset(lt, t);
}

int64_t render_local_day_length(const render_ltime *lt, int64_t day)
{
    return render_local_midnight(lt, day + 1) - render_local_midnight(lt, day);
}

void render_day_format(int64_t day, char *out, size_t size)
{
    char buf[40];
    espi_time_format(day * 86400, buf, sizeof buf);
    snprintf(out, size, "%.10s", buf);
}

const char *render_day_weekday(int64_t day)
{
    static const char *const names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    int64_t w = (day % 7 + 7 + 3) % 7; /* 1970-01-01 was a Thursday */
    return names[w];
}

void render_offset_format(int64_t off, char *out, size_t size)
{
    char sign = off < 0 ? '-' : '+';
    int64_t a = off < 0 ? -off : off;
    snprintf(out, size, "UTC%c%02d:%02d", sign, (int)(a / 3600), (int)(a / 60 % 60));
}

void render_local_format(const render_ltime *lt, int64_t utc, char *out, size_t size)
{
    int64_t off = render_ltime_offset(lt, utc);
    char buf[40], zone[16];
    espi_time_format(utc + off, buf, sizeof buf);
    render_offset_format(off, zone, sizeof zone);
    snprintf(out, size, "%.19s%s", buf, zone + 3); /* "...T03:00:00" + "-04:00" */
}

void render_dst_rule_words(uint32_t rule, char *out, size_t size)
{
    static const char *const months[] = {"",     "January", "February",  "March",
                                         "April", "May",     "June",      "July",
                                         "August", "September", "October", "November",
                                         "December"};
    static const char *const days[] = {"day",      "Monday", "Tuesday",  "Wednesday",
                                       "Thursday", "Friday", "Saturday", "Sunday"};
    static const char *const nth[] = {"", "", "first", "second", "third", "fourth", "fifth", "last"};
    unsigned secs = rule & 0xFFF, hours = (rule >> 12) & 0x1F, wday = (rule >> 17) & 0x7;
    unsigned mday = (rule >> 20) & 0x1F, op = (rule >> 25) & 0x7, month = (rule >> 28) & 0xF;
    if (rule == ESPI_DST_RULE_NONE || month < 1 || month > 12) {
        snprintf(out, size, "none");
        return;
    }
    if (op == 0)
        snprintf(out, size, "%s %u, %02u:%02u", months[month], mday, hours, secs / 60);
    else if (op == 1)
        snprintf(out, size, "first %s on or after %s %u, %02u:%02u", days[wday], months[month],
                 mday, hours, secs / 60);
    else
        snprintf(out, size, "%s %s of %s, %02u:%02u", nth[op], days[wday], months[month], hours,
                 secs / 60);
}
