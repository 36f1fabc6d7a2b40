/* tz.h -- local wall-clock time <-> UTC from the real tz database, with no
 * global state.
 *
 * Every source we translate writes local wall-clock times in the utility's
 * zone (SMT, Opower, SmartHub CSV) or wall-clock-as-UTC (SmartHub poll x).
 * localtime()/mktime() would tie us to the process-wide TZ variable, which a
 * server handling several utilities cannot set per request.  So we read the
 * zone's TZif file (RFC 8536) ourselves into an immutable tr_tz: the 64-bit
 * transition table of a v2+ file (the 32-bit v1 table for old files), the
 * list of local time types, and the POSIX TZ footer ("CST6CDT,M3.2.0,M11.1.0")
 * that governs every instant after the last listed transition.  A tr_tz is
 * read-only after tr_tz_load(), so threads may share one.
 *
 * Wall-clock times are not unique.  On a spring-forward day 02:00-02:59
 * does not exist (a *gap*); on a fall-back day 01:00-01:59 happens twice
 * (*ambiguous*).  tr_tz_local_to_utc() reports both through flags and, like
 * Python's PEP 495, takes a `fold`: 0 picks the first occurrence of an
 * ambiguous time (still DST) and reads a gap time with the offset in force
 * before the gap; 1 picks the second occurrence and the offset after.
 * Translators decide fold from row order (first = DST).
 *
 * The zone directory is a parameter (NULL = /usr/share/zoneinfo): a caller
 * that honours TZDIR reads the environment once at start and passes it in. */
#ifndef TR_TZ_H
#define TR_TZ_H

#include <stdint.h>

#include "err.h"
#include "espi.h"

#define TR_TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TR_TZ_NAME_MAX 64
#define TR_TZ_FILE_MAX (1024 * 1024) /* no real TZif file comes near this */

enum tr_tz_flags {
    TR_TZ_GAP = 1 << 0,       /* the wall time does not exist (spring forward) */
    TR_TZ_AMBIGUOUS = 1 << 1  /* the wall time happens twice (fall back) */
};

typedef struct tr_tz tr_tz;

/* Broken-down local time of an instant. */
typedef struct tr_tm {
    int year, mon, mday;   /* mon 1..12 */
    int hour, min, sec;
    int wday;              /* 0 = Sunday .. 6 = Saturday */
    int32_t utoff;         /* seconds east of UTC in force */
    int isdst;
} tr_tm;

/* Load zone `name` (e.g. "America/Chicago") from dir (NULL = the default).
 * Names are checked (no "..", no leading '/').  Returns a zone the caller
 * frees with tr_tz_free(), or NULL with err filled (EG_ENOINPUT when the
 * file is missing, EG_EDATA when it is not a valid TZif file). */
tr_tz *tr_tz_load(const char *name, const char *dir, eg_err *err);

/* Parse a TZif image already in memory (tests, fuzzing). Same contract. */
tr_tz *tr_tz_from_bytes(const char *name, const unsigned char *buf, size_t len, eg_err *err);

/* Free a zone; NULL is fine. */
void tr_tz_free(tr_tz *z);

/* The name the zone was loaded under. */
const char *tr_tz_name(const tr_tz *z);

/* Convert local wall time to UTC seconds.  fold: 0 first occurrence / the
 * pre-gap offset, 1 second occurrence / the post-gap offset.  *flags (may be
 * NULL) gets TR_TZ_GAP or TR_TZ_AMBIGUOUS or 0.  Returns 0, or EG_EUSAGE
 * when a field is out of range (month 13, 24:00, Feb 30 ...). */
int tr_tz_local_to_utc(const tr_tz *z, int y, int mo, int d, int h, int mi, int s,
                       int fold, int64_t *utc, int *flags);

/* Offset from UTC (seconds east) in force at instant utc. */
int32_t tr_tz_utc_offset(const tr_tz *z, int64_t utc);

/* Local broken-down time of utc. */
void tr_tz_local(const tr_tz *z, int64_t utc, tr_tm *out);

/* Local calendar date of utc. */
void tr_tz_local_date(const tr_tz *z, int64_t utc, int *y, int *mo, int *d);

/* First instant of local day y-mo-d, and first instant of the next day, in
 * UTC: end - start is 82800 on a spring-forward day, 90000 on a fall-back
 * day.  end may be NULL.  Returns 0 or EG_EUSAGE for an invalid date. */
int tr_tz_day_bounds(const tr_tz *z, int y, int mo, int d, int64_t *start, int64_t *end);

/* ---- per-caller cache ------------------------------------------------------
 *
 * Translators convert every reading's time, and the answer almost never
 * changes between neighbouring readings.  A tr_tz_cache (caller-owned, so a
 * tr_tz stays immutable and shareable) remembers the span of UTC time around
 * the last answer in which the zone's offset is constant; a conversion that
 * falls inside it is one addition.  Local -> UTC takes the shortcut only when
 * the wall time lies more than TR_TZ_CACHE_MARGIN inside the span (no offset
 * change is that large, so the time is then neither in a gap nor ambiguous);
 * anything else goes the full way (tr_tz_local_to_utc) and refills the
 * cache.  Results are identical to the uncached functions. */

typedef struct tr_tz_cache {
    const tr_tz *z;
    int64_t from, to;   /* UTC [from, to) where utoff holds; empty when from >= to */
    int32_t utoff;
} tr_tz_cache;

#define TR_TZ_CACHE_MARGIN (3 * 86400)

/* An empty cache for zone z (borrowed; may be NULL, then do not use the cache). */
void tr_tz_cache_init(tr_tz_cache *c, const tr_tz *z);

/* tr_tz_utc_offset(), tr_tz_local_date() and tr_tz_local_to_utc() through c. */
int32_t tr_tz_cache_offset(tr_tz_cache *c, int64_t utc);
void tr_tz_cache_local_date(tr_tz_cache *c, int64_t utc, int *y, int *mo, int *d);
int tr_tz_cache_local_to_utc(tr_tz_cache *c, int y, int mo, int d, int h, int mi, int s, int fold,
                             int64_t *utc, int *flags);

/* ESPI LocalTimeParameters for `year`: tzOffset (standard offset), dstOffset
 * and DstRuleType start/end rules.  Rules come from the POSIX footer when it
 * governs that year ("M3.2.0" -> operator "second Sunday"), otherwise from
 * the year's actual transitions (operator 0, fixed day of month).  A rule's
 * time is the wall-clock time in force just before the transition (POSIX
 * semantics): US rules are 0x360E2000 (02:00 standard time) and 0xB40E2000
 * (02:00 daylight time).  Zones without DST in that year get
 * ESPI_DST_RULE_NONE rules and dstOffset 0.  Returns 0, or EG_EDATA with
 * err filled when the year has an irregular pattern (DST starts without
 * ending, two DST periods, ...). */
int tr_tz_local_time_parameters(const tr_tz *z, int year, espi_local_time_parameters *out,
                                eg_err *err);

/* Proleptic Gregorian day number (days since 1970-01-01) and back. */
int64_t tr_days_from_civil(int y, int mo, int d);
void tr_civil_from_days(int64_t days, int *y, int *mo, int *d);
/* Days in month mo of year y (0 for an invalid month). */
int tr_days_in_month(int y, int mo);

#endif
