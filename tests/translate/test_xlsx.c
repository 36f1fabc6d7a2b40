/* test_xlsx.c -- xlsx.c on the generated samples (exact totals per meter,
 * 100 intervals on the fall-back day, 23 on the spring-forward day, no two
 * readings at one instant, estimated and rounded counts) and on workbooks
 * built here in memory by a tiny zip writer: cell types, header synonyms,
 * serial and text dates, fold by row order, gaps, lenient mode, and
 * malformed packages (not a zip, no workbook, a DOCTYPE, zip bombs) whose
 * errors must name the part of the workbook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xlsx.h"

#define MAX_READINGS 4096
#define ZONE "America/Chicago"

/* ---- a minimal zip writer (stored entries, or deflate "stored blocks") ---------- */

typedef struct zentry {
    const char *name;
    const char *data;          /* NULL: strlen-less empty */
    size_t len;                /* 0: strlen(data) */
    int deflate;               /* method 8 with one stored deflate block */
    uint32_t declared;         /* uncompressed size to declare; 0: the real one */
} zentry;

typedef struct zbuf {
    unsigned char *p;
    size_t n, cap;
} zbuf;

static void put(zbuf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 1024;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put16(zbuf *b, uint32_t v)
{
    unsigned char c[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(b, c, 2);
}

static void put32(zbuf *b, uint32_t v)
{
    put16(b, v & 0xffff);
    put16(b, v >> 16);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* Build a zip of n entries; caller frees *out. */
static size_t zip_build(const zentry *e, int n, unsigned char **out)
{
    zbuf z = {0}, cd = {0};
    for (int i = 0; i < n; i++) {
        const unsigned char *d = (const unsigned char *)(e[i].data ? e[i].data : "");
        size_t len = e[i].len ? e[i].len : strlen((const char *)d);
        zbuf body = {0};
        if (e[i].deflate) { /* BFINAL stored block: 01 LEN NLEN bytes */
            unsigned char h = 1;
            put(&body, &h, 1);
            put16(&body, (uint32_t)len);
            put16(&body, (uint32_t)~len & 0xffff);
        }
        put(&body, d, len);
        uint32_t crc = crc32_of(d, len), usize = e[i].declared ? e[i].declared : (uint32_t)len;
        uint32_t off = (uint32_t)z.n, nl = (uint32_t)strlen(e[i].name);
        uint16_t method = e[i].deflate ? 8 : 0;
        put32(&z, 0x04034b50), put16(&z, 20), put16(&z, 0), put16(&z, method);
        put16(&z, 0), put16(&z, 0x21), put32(&z, crc), put32(&z, (uint32_t)body.n);
        put32(&z, usize), put16(&z, nl), put16(&z, 0), put(&z, e[i].name, nl);
        put(&z, body.p, body.n);
        put32(&cd, 0x02014b50), put16(&cd, 20), put16(&cd, 20), put16(&cd, 0), put16(&cd, method);
        put16(&cd, 0), put16(&cd, 0x21), put32(&cd, crc), put32(&cd, (uint32_t)body.n);
        put32(&cd, usize), put16(&cd, nl), put16(&cd, 0), put16(&cd, 0), put16(&cd, 0);
        put16(&cd, 0), put32(&cd, 0), put32(&cd, off), put(&cd, e[i].name, nl);
        free(body.p);
    }
    uint32_t cd_off = (uint32_t)z.n;
    put(&z, cd.p, cd.n);
    put32(&z, 0x06054b50), put16(&z, 0), put16(&z, 0), put16(&z, (uint32_t)n);
    put16(&z, (uint32_t)n), put32(&z, (uint32_t)cd.n), put32(&z, cd_off), put16(&z, 0);
    free(cd.p);
    *out = z.p;
    return z.n;
}

/* ---- workbook parts ------------------------------------------------------------- */

#define NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" " \
           "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""
#define RELS_NS "http://schemas.openxmlformats.org/package/2006/relationships"
#define REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define WORKBOOK "<?xml version=\"1.0\"?><workbook " NS "><sheets><sheet name=\"Data\" " \
                 "sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
#define RELS "<?xml version=\"1.0\"?><Relationships xmlns=\"" RELS_NS "\">" \
             "<Relationship Id=\"rId1\" Type=\"" REL "/worksheet\" Target=\"worksheets/sheet1.xml\"/>" \
             "<Relationship Id=\"rId2\" Type=\"" REL "/sharedStrings\" Target=\"sharedStrings.xml\"/>" \
             "</Relationships>"
#define SHEET(rows) "<?xml version=\"1.0\"?><worksheet " NS "><sheetData>" rows \
                    "</sheetData></worksheet>"
#define ROW(n, cells) "<row r=\"" n "\">" cells "</row>"
#define IS(ref, text) "<c r=\"" ref "\" t=\"inlineStr\"><is><t>" text "</t></is></c>"
#define N(ref, num) "<c r=\"" ref "\"><v>" num "</v></c>"
#define S(ref, idx) "<c r=\"" ref "\" t=\"s\"><v>" idx "</v></c>"
#define HEAD3(a, b, c) ROW("1", IS("A1", a) IS("B1", b) IS("C1", c))

/* ---- the collecting sink ---------------------------------------------------------- */

typedef struct collected {
    tr_channel ch[TR_MAX_CHANNELS];
    int n_ch;
    tr_reading r[MAX_READINGS];
    int n;
    tr_skip skips[64];
    int n_skips;
} collected;

static int on_channel(void *ctx, const tr_channel *c, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    assert_int_equal(c->index, k->n_ch);
    k->ch[k->n_ch++] = *c;
    return 0;
}

static int on_reading(void *ctx, const tr_reading *r, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    assert_true(r->channel < k->n_ch);
    assert_true(k->n < MAX_READINGS);
    k->r[k->n++] = *r;
    return 0;
}

static int on_skip(void *ctx, const tr_skip *s, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    if (k->n_skips < 64) k->skips[k->n_skips++] = *s;
    return 0;
}

typedef struct fixture {
    tr_tz *tz;
    collected *k;
    tr_summary sum;
    tr_sink inner, sink;
    tr_options opts;
    eg_err err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    eg_err err;
    if (!f) return -1;
    f->tz = tr_tz_load(ZONE, NULL, &err);
    f->k = calloc(1, sizeof *f->k);
    if (!f->tz || !f->k) return -1;
    f->inner = (tr_sink){f->k, on_channel, on_reading, on_skip, NULL};
    tr_summary_init(&f->sum, f->tz, &f->inner, &f->sink);
    f->opts.tz = f->tz;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tr_tz_free(f->tz);
    free(f->k);
    free(f);
    return 0;
}

static int run_sample(fixture *f, const char *file)
{
    char path[1024];
    const char *src = getenv("ESPIGATE_SRC");
    snprintf(path, sizeof path, "%s/samples/xlsx/%s", src ? src : "../..", file);
    FILE *in = fopen(path, "rb");
    if (!in) fail_msg("cannot open %s", path);
    int rc = tr_xlsx_read(in, file, &f->opts, &f->sink, &f->err);
    fclose(in);
    return rc;
}

static int run_zip(fixture *f, const zentry *e, int n)
{
    unsigned char *z;
    size_t len = zip_build(e, n, &z);
    int rc = tr_xlsx_read_mem(z, len, "t.xlsx", &f->opts, &f->sink, &f->err);
    free(z);
    return rc;
}

/* A standard workbook around `sheet`, with shared strings `sst` (NULL: none). */
static int run_book(fixture *f, const char *sst, const char *sheet)
{
    zentry e[] = {{"xl/workbook.xml", WORKBOOK, 0, 0, 0},
                  {"xl/_rels/workbook.xml.rels", RELS, 0, 0, 0},
                  {"xl/worksheets/sheet1.xml", sheet, 0, 0, 0},
                  {"xl/sharedStrings.xml", sst, 0, 0, 0}};
    return run_zip(f, e, sst ? 4 : 3);
}

static void expect_error(const fixture *f, int rc, int code, const char *needle)
{
    char buf[1024];
    eg_err_format(&f->err, buf, sizeof buf);
    if (rc != code || !strstr(buf, needle))
        fail_msg("rc %d (wanted %d), message \"%s\" (wanted it to contain \"%s\")", rc, code, buf,
                 needle);
}

/* Readings of channel `key` on local day mo/d: count, Wh, estimated. */
static void expect_day(const fixture *f, const char *key, int mo, int d, int count, int64_t wh,
                       int estimated)
{
    int c = 0, e = 0;
    int64_t t = 0;
    for (int i = 0; i < f->k->n; i++) {
        const tr_reading *r = &f->k->r[i];
        int y, m, dd;
        if (strcmp(f->k->ch[r->channel].key, key) != 0) continue;
        tr_tz_local_date(f->tz, r->start, &y, &m, &dd);
        if (m != mo || dd != d) continue;
        c++;
        t += r->value;
        e += r->quality == ESPI_QUALITY_ESTIMATED_REFERENCE_DAY;
    }
    if (c != count || t != wh || e != estimated)
        fail_msg("%s %02d/%02d: %d readings %lld Wh %d estimated; expected %d, %lld, %d", key, mo, d,
                 c, (long long)t, e, count, (long long)wh, estimated);
}

/* Per channel: strictly increasing, contiguous, `len` seconds, never one instant twice. */
static void expect_contiguous(const fixture *f, int64_t len)
{
    for (int c = 0; c < f->k->n_ch; c++) {
        int64_t prev_end = ESPI_NONE;
        for (int i = 0; i < f->k->n; i++) {
            const tr_reading *r = &f->k->r[i];
            if (r->channel != c) continue;
            assert_int_equal(r->duration, len);
            if (prev_end != ESPI_NONE) assert_int_equal(r->start, prev_end);
            prev_end = r->start + r->duration;
            for (int j = 0; j < i; j++)
                if (f->k->r[j].channel == c) assert_true(f->k->r[j].start != r->start);
        }
    }
}

static int64_t utc(const fixture *f, int y, int mo, int d, int h, int mi, int fold)
{
    int64_t t;
    assert_int_equal(tr_tz_local_to_utc(f->tz, y, mo, d, h, mi, 0, fold, &t, NULL), 0);
    return t;
}

/* ---- the samples --------------------------------------------------------------------- */

#define M15 "xlsx:51000123:consumption"

static void test_xlsx_fall_back_day_has_100_intervals(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "interval_15min_2024-11-02_to_2024-11-04.xlsx"), 0);
    assert_int_equal(f->k->n_ch, 1);
    assert_string_equal(f->k->ch[0].key, M15);
    assert_string_equal(f->k->ch[0].usage_point, "xlsx:51000123");
    assert_int_equal(f->k->ch[0].interval_length, 900);
    assert_int_equal(f->k->ch[0].uom, ESPI_UOM_WH);
    assert_int_equal(f->k->ch[0].flow_direction, ESPI_FLOW_FORWARD);
    /* totals computed by tests/translate/make-xlsx.py --totals */
    expect_day(f, M15, 11, 2, 96, 41836, 0);
    expect_day(f, M15, 11, 3, 100, 41282, 0);
    expect_day(f, M15, 11, 4, 96, 37756, 4);
    assert_int_equal(f->k->n, 292);
    assert_int_equal(f->sum.ch[0].total, 120874);
    assert_int_equal(f->sum.ch[0].estimated, 4);
    assert_int_equal(f->sum.ch[0].rounded, 13);  /* 0.145000000000001-style float noise */
    assert_int_equal(f->sum.ch[0].dst_days, 1);
    assert_int_equal(f->sum.ch[0].gaps, 0);
    assert_int_equal(f->sum.skipped[TR_SKIP_BAD_ROW], 0);
    expect_contiguous(f, 900);
    /* 01:00 appears twice: CDT first, then CST an hour later */
    int seen = 0;
    for (int i = 0; i < f->k->n; i++)
        if (f->k->r[i].start == utc(f, 2024, 11, 3, 1, 0, 0) ||
            f->k->r[i].start == utc(f, 2024, 11, 3, 1, 0, 1))
            seen++;
    assert_int_equal(seen, 2);
    assert_int_equal(f->k->r[0].start, utc(f, 2024, 11, 2, 0, 0, 0));
    assert_int_equal(f->k->r[0].line, 5); /* below two title rows, a blank row and the header */
}

#define MA "xlsx:80012345:consumption"
#define MB "xlsx:80067890:consumption"

static void test_xlsx_text_dates_two_meters_spring_forward(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "hourly_text_dates.xlsx"), 0);
    assert_int_equal(f->k->n_ch, 2);
    assert_string_equal(f->k->ch[0].key, MA);
    assert_string_equal(f->k->ch[1].key, MB);
    assert_int_equal(f->k->ch[1].interval_length, 3600);
    assert_int_equal(f->k->ch[1].measuring_period, ESPI_TIMEATTR_60_MINUTE);
    expect_day(f, MA, 3, 9, 24, 39028, 0);
    expect_day(f, MA, 3, 10, 23, 34005, 0);
    expect_day(f, MA, 3, 11, 24, 42556, 0);
    expect_day(f, MB, 3, 9, 24, 39716, 0);
    expect_day(f, MB, 3, 10, 23, 37441, 0);
    expect_day(f, MB, 3, 11, 24, 33212, 2);
    assert_int_equal(f->sum.ch[0].total, 115589);
    assert_int_equal(f->sum.ch[1].total, 110369);
    assert_int_equal(f->sum.ch[1].estimated, 2);
    assert_int_equal(f->sum.ch[0].dst_days, 1);
    expect_contiguous(f, 3600);
    /* "Read Date/Time" labels the END: the first reading starts at midnight */
    assert_int_equal(f->k->r[0].start, utc(f, 2024, 3, 9, 0, 0, 0));
}

/* ---- cells, headers and times ------------------------------------------------------------ */

static void test_xlsx_serial_datetime_rounds_to_the_second(void **state)
{
    fixture *f = *state;
    const char *sheet = SHEET(
        HEAD3("Interval Start", "Usage (kWh)", "x")
        ROW("2", N("A2", "45366.0104166667") N("B2", "1.5"))
        ROW("3", N("A3", "4.5366020833333336E4") N("B3", "1.25E-1")));
    assert_int_equal(run_book(f, NULL, sheet), 0);
    assert_int_equal(f->k->n, 2);
    assert_int_equal(f->k->r[0].start, INT64_C(1710479700)); /* 2024-03-15T05:15:00Z = 00:15 CDT */
    assert_int_equal(f->k->r[0].duration, 900);
    assert_int_equal(f->k->r[0].value, 1500);
    assert_int_equal(f->k->r[1].value, 125);
}

static void test_xlsx_cell_types_and_shared_strings(void **state)
{
    fixture *f = *state;
    const char *sst = "<sst " NS "><si><t>METER #</t></si><si><t xml:space=\"preserve\"> kWh </t>"
                      "</si><si><r><t>7</t></r><r><t>7</t></r><rPh><t>x</t></rPh></si>"
                      "<si><t>0.250</t></si><si><t>Date / Time</t></si></sst>";
    const char *sheet = SHEET(
        ROW("1", S("A1", "0") S("B1", "4") S("C1", "1") IS("D1", "Estimated"))
        ROW("2", S("A2", "2") IS("B2", "2024-11-03 00:00") S("C2", "3") "<c r=\"D2\" t=\"b\"><v>1</v></c>")
        ROW("3", N("A3", "77") "<c r=\"B3\" t=\"str\"><v>11/3/2024 12:15:00 AM</v></c>"
                 "<c r=\"C3\" t=\"str\"><f>X</f><v>0.5</v></c>" IS("D3", "Actual")));
    assert_int_equal(run_book(f, sst, sheet), 0);
    assert_int_equal(f->k->n_ch, 1); /* "77" as rich text and as a number: one meter */
    assert_string_equal(f->k->ch[0].key, "xlsx:77:consumption");
    assert_int_equal(f->k->n, 2);
    assert_int_equal(f->k->r[0].value, 250);
    assert_int_equal(f->k->r[0].quality, ESPI_QUALITY_ESTIMATED_REFERENCE_DAY);
    assert_int_equal(f->k->r[1].value, 500);
    assert_int_equal(f->k->r[1].quality, ESPI_NONE);
    assert_int_equal(f->k->r[0].start, utc(f, 2024, 11, 3, 0, 0, 0));
}

static void test_xlsx_read_datetime_is_end_and_fold_by_row_order(void **state)
{
    fixture *f = *state;
    /* hour-ending labels across fall-back: 01:00 twice (CDT, then CST) */
    const char *sheet = SHEET(
        HEAD3("Read Date/Time", "kWh", "Quality")
        ROW("2", IS("A2", "11/03/2024 00:00") N("B2", "1"))
        ROW("3", IS("A3", "11/03/2024 01:00") N("B3", "2"))
        ROW("4", IS("A4", "11/03/2024 01:00") N("B4", "3"))
        ROW("5", IS("A5", "11/03/2024 02:00") N("B5", "4") IS("C5", "E")));
    assert_int_equal(run_book(f, NULL, sheet), 0);
    assert_int_equal(f->k->n, 4);
    assert_int_equal(f->k->r[0].start, utc(f, 2024, 11, 2, 23, 0, 0));
    assert_int_equal(f->k->r[1].start, utc(f, 2024, 11, 3, 0, 0, 0));
    assert_int_equal(f->k->r[2].start, utc(f, 2024, 11, 3, 1, 0, 0)); /* 01:00 CDT */
    assert_int_equal(f->k->r[3].start, utc(f, 2024, 11, 3, 1, 0, 1)); /* 01:00 CST */
    assert_int_equal(f->k->r[3].quality, ESPI_QUALITY_ESTIMATED_REFERENCE_DAY);
    expect_contiguous(f, 3600);
}

static void test_xlsx_naive_end_labels_on_fall_back_are_accepted(void **state)
{
    fixture *f = *state;
    /* an export computing End = Start + 15 min in wall clock: 01:45-02:00 twice */
    const char *sheet = SHEET(
        ROW("1", IS("A1", "date") IS("B1", "START TIME") IS("C1", "end_time") IS("D1", "KWH"))
        ROW("2", IS("A2", "11/3/2024") IS("B2", "01:30") IS("C2", "01:45") N("D2", "1"))
        ROW("3", IS("A3", "11/3/2024") IS("B3", "01:45") IS("C3", "02:00") N("D3", "1"))
        ROW("4", IS("A4", "11/3/2024") IS("B4", "01:00") IS("C4", "01:15") N("D4", "1"))
        ROW("5", IS("A5", "11/3/2024") IS("B5", "01:15") IS("C5", "01:30") N("D5", "1"))
        ROW("6", IS("A6", "11/3/2024") IS("B6", "01:30") IS("C6", "01:45") N("D6", "1"))
        ROW("7", IS("A7", "11/3/2024") IS("B7", "01:45") IS("C7", "02:00") N("D7", "1"))
        ROW("8", IS("A8", "11/3/2024") IS("B8", "02:00") IS("C8", "02:15") N("D8", "1")));
    assert_int_equal(run_book(f, NULL, sheet), 0);
    assert_int_equal(f->k->n, 7);
    expect_contiguous(f, 900);
    assert_int_equal(f->k->r[2].start, utc(f, 2024, 11, 3, 1, 0, 1));
}

static void test_xlsx_wrong_start_label_follows_the_end(void **state)
{
    fixture *f = *state;
    /* the SMT trap: the first repeated row says Start 02:00 but End 01:15 (right) */
    const char *sheet = SHEET(
        ROW("1", IS("A1", "Date") IS("B1", "Start Time") IS("C1", "End Time") IS("D1", "kWh"))
        ROW("2", IS("A2", "11/3/2024") IS("B2", "01:30") IS("C2", "01:45") N("D2", "1"))
        ROW("3", IS("A3", "11/3/2024") IS("B3", "01:45") IS("C3", "01:00") N("D3", "1"))
        ROW("4", IS("A4", "11/3/2024") IS("B4", "02:00") IS("C4", "01:15") N("D4", "2"))
        ROW("5", IS("A5", "11/3/2024") IS("B5", "01:15") IS("C5", "01:30") N("D5", "3")));
    assert_int_equal(run_book(f, NULL, sheet), 0);
    assert_int_equal(f->k->n, 4);
    expect_contiguous(f, 900);
    assert_int_equal(f->k->r[2].start, utc(f, 2024, 11, 3, 1, 0, 1));
}

static void test_xlsx_midnight_end_and_title_rows(void **state)
{
    fixture *f = *state;
    const char *sheet = SHEET(
        ROW("1", IS("A1", "Cooperative report"))
        ROW("2", IS("A2", "kWh by interval") IS("C2", "2024"))
        "<row r=\"3\"/>"
        ROW("4", IS("B4", "Meter Number") IS("C4", "Date") IS("D4", "Start Time") IS("E4", "End Time")
                 IS("F4", "kWh"))
        ROW("5", IS("B5", "M-1") N("C5", "45598") N("D5", "0.9791666666666666") N("E5", "0.98958333333333337")
                 N("F5", "0.1"))
        ROW("6", IS("B6", "M-1") N("C6", "45598") N("D6", "0.98958333333333337") N("E6", "0")
                 N("F6", "0.2"))
        ROW("7", IS("A7", "Total") N("F7", "0.3"))
        ROW("8", "<c r=\"A8\"/><c r=\"B8\" t=\"s\"/>"));
    assert_int_equal(run_book(f, NULL, sheet), 0);
    assert_int_equal(f->k->n, 2);
    assert_int_equal(f->k->r[1].start + 900, utc(f, 2024, 11, 3, 0, 0, 0));
    assert_int_equal(f->sum.skipped[TR_SKIP_WARNING], 1); /* the totals row */
    assert_int_equal(f->k->r[0].line, 5);
}

static void test_xlsx_gap_stays_gap_and_spring_blank_is_dropped(void **state)
{
    fixture *f = *state;
    const char *sheet = SHEET(
        HEAD3("Timestamp", "kWh", "Estimated")
        ROW("2", IS("A2", "2024-03-10 01:00") N("B2", "1"))
        ROW("3", IS("A3", "2024-03-10 01:30") N("B3", "1"))
        ROW("4", IS("A4", "2024-03-10 02:00"))
        ROW("5", IS("A5", "2024-03-10 02:30"))
        ROW("6", IS("A6", "2024-03-10 03:00") N("B6", "1"))
        ROW("7", IS("A7", "2024-03-10 03:30"))
        ROW("8", IS("A8", "2024-03-10 04:00") N("B8", "1")));
    assert_int_equal(run_book(f, NULL, sheet), 0);
    assert_int_equal(f->k->n, 4);
    assert_int_equal(f->sum.skipped[TR_SKIP_NONEXISTENT], 2);
    assert_int_equal(f->sum.skipped[TR_SKIP_NO_VALUE], 1);
    assert_int_equal(f->sum.ch[0].gaps, 1);
    assert_int_equal(f->k->r[2].start, f->k->r[1].start + 1800); /* 01:30 CST -> 03:00 CDT */
    assert_int_equal(f->k->r[3].start, f->k->r[2].start + 3600);
}

static void test_xlsx_daily_rows_make_23_and_25_hour_days(void **state)
{
    fixture *f = *state;
    const char *sheet = SHEET(
        HEAD3("Usage Date", "Total kWh", "x")
        ROW("2", IS("A2", "11/02/2024") N("B2", "20.5"))
        ROW("3", IS("A3", "11/03/2024") N("B3", "21"))
        ROW("4", IS("A4", "11/04/2024") N("B4", "19.999")));
    assert_int_equal(run_book(f, NULL, sheet), 0);
    assert_int_equal(f->k->n_ch, 1);
    assert_int_equal(f->k->ch[0].interval_length, 86400);
    assert_int_equal(f->k->r[1].duration, 90000);
    assert_int_equal(f->k->r[2].duration, 86400);
    assert_int_equal(f->sum.ch[0].total, 61499);
}

static void test_xlsx_date1904_workbooks(void **state)
{
    fixture *f = *state;
    const char *wb = "<workbook " NS "><workbookPr date1904=\"1\"/><sheets><sheet name=\"D\" "
                     "sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
    const char *sheet = SHEET(HEAD3("Date/Time", "kWh", "x")
                              ROW("2", N("A2", "44136") N("B2", "1"))
                              ROW("3", N("A3", "44136.010416666664") N("B3", "1")));
    zentry e[] = {{"xl/workbook.xml", wb, 0, 0, 0}, {"xl/_rels/workbook.xml.rels", RELS, 0, 0, 0},
                  {"xl/worksheets/sheet1.xml", sheet, 0, 0, 0}};
    assert_int_equal(run_zip(f, e, 3), 0);
    assert_int_equal(f->k->r[0].start, utc(f, 2024, 11, 2, 0, 0, 0)); /* 44136 + 1462 = 45598 */
}

static void test_xlsx_meters_are_channels_in_any_row_order(void **state)
{
    fixture *f = *state;
    const char *sheet = SHEET(
        HEAD3("Meter", "Interval End", "kWh")
        ROW("2", IS("A2", "A") IS("B2", "2024-01-01 00:15") N("C2", "1"))
        ROW("3", IS("A3", "B") IS("B3", "2024-01-01 01:00") N("C3", "2"))
        ROW("4", IS("A4", "B") IS("B4", "2024-01-01 02:00") N("C4", "2"))
        ROW("5", IS("A5", "A") IS("B5", "2024-01-01 00:30") N("C5", "1")));
    assert_int_equal(run_book(f, NULL, sheet), 0);
    assert_int_equal(f->k->n_ch, 2);
    assert_string_equal(f->k->ch[0].key, "xlsx:B:consumption"); /* B knew its length first */
    assert_int_equal(f->k->ch[0].interval_length, 3600);
    assert_int_equal(f->k->ch[1].interval_length, 900);
    assert_int_equal(f->sum.ch[0].total, 4000);
    assert_int_equal(f->sum.ch[1].total, 2000);
}

/* ---- bad rows: strict and lenient -------------------------------------------------------------- */

#define BAD_ROWS SHEET(HEAD3("Date/Time", "kWh", "Estimated") \
                       ROW("2", IS("A2", "2024-01-01 00:00") N("B2", "1")) \
                       ROW("3", IS("A3", "2024-01-01 00:15") IS("B3", "0,145")) \
                       ROW("4", IS("A4", "2024-01-01 00:30") N("B4", "1") IS("C4", "maybe")) \
                       ROW("5", IS("A5", "2024-01-01 00:45") N("B5", "1")))

static void test_xlsx_bad_kwh_names_file_row_and_cell(void **state)
{
    fixture *f = *state;
    int rc = run_book(f, NULL, BAD_ROWS);
    expect_error(f, rc, EG_EDATA, "t.xlsx:3: kWh (B3) \"0,145\" is not a number of kWh");
}

static void test_xlsx_lenient_skips_and_reports(void **state)
{
    fixture *f = *state;
    f->opts.lenient = 1;
    assert_int_equal(run_book(f, NULL, BAD_ROWS), 0);
    assert_int_equal(f->k->n, 2);
    assert_int_equal(f->sum.skipped[TR_SKIP_BAD_ROW], 2);
    assert_int_equal(f->k->ch[0].interval_length, 900); /* 00:00 to 00:45: 15 minutes, a gap */
    assert_int_equal(f->sum.ch[0].gaps, 1);
    assert_non_null(strstr(f->sum.kept[1].reason, "Estimated (C4) \"maybe\" is not a quality flag"));
}

static void test_xlsx_rows_out_of_order_are_refused(void **state)
{
    fixture *f = *state;
    const char *sheet = SHEET(HEAD3("Start", "End", "kWh")
                              ROW("2", IS("A2", "2024-01-01 00:15") IS("B2", "2024-01-01 00:30") N("C2", "1"))
                              ROW("3", IS("A3", "2024-01-01 00:00") IS("B3", "2024-01-01 00:15") N("C3", "1")));
    expect_error(f, run_book(f, NULL, sheet), EG_EDATA, "t.xlsx:3: meter meter 2024-01-01 00:00 comes before");
}

static void test_xlsx_one_row_without_end_is_an_error(void **state)
{
    fixture *f = *state;
    const char *sheet = SHEET(HEAD3("Date/Time", "kWh", "x") ROW("2", IS("A2", "2024-01-01 00:15") N("B2", "1")));
    expect_error(f, run_book(f, NULL, sheet), EG_EDATA, "t.xlsx:2: meter meter has one row");
}

static void test_xlsx_no_header_names_the_sheet(void **state)
{
    fixture *f = *state;
    const char *sheet = SHEET(HEAD3("Date", "Usage", "Cost") ROW("2", IS("A2", "1/1/2024") N("B2", "1")));
    expect_error(f, run_book(f, NULL, sheet), EG_EDATA,
                 "sheet \"Data\" (xl/worksheets/sheet1.xml): no header row");
}

static void test_xlsx_bad_shared_string_index(void **state)
{
    fixture *f = *state;
    const char *sheet = SHEET(ROW("1", S("A1", "9")));
    expect_error(f, run_book(f, "<sst " NS "><si><t>a</t></si></sst>", sheet), EG_EDATA,
                 "cell A1 refers to shared string \"9\" but xl/sharedStrings.xml holds 1 strings");
}

/* ---- malformed packages ------------------------------------------------------------------------- */

static void test_xlsx_not_a_zip(void **state)
{
    fixture *f = *state;
    int rc = tr_xlsx_read_mem("Meter,Date\n", 11, "t.xlsx", &f->opts, &f->sink, &f->err);
    expect_error(f, rc, EG_EDATA, "t.xlsx: is not a zip archive");
    rc = tr_xlsx_read_mem("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8, "t.xlsx", &f->opts, &f->sink, &f->err);
    expect_error(f, rc, EG_EDATA, "password-protected");
    rc = tr_xlsx_read_mem("PK\003\004garbage", 11, "t.xlsx", &f->opts, &f->sink, &f->err);
    expect_error(f, rc, EG_EDATA, "t.xlsx: is not a readable zip archive");
}

static void test_xlsx_zip_without_workbook(void **state)
{
    fixture *f = *state;
    zentry e[] = {{"word/document.xml", "<w/>", 0, 0, 0}};
    expect_error(f, run_zip(f, e, 1), EG_EDATA, "t.xlsx: xl/workbook.xml: missing from the zip");
}

static void test_xlsx_missing_sheet_part_and_relationship(void **state)
{
    fixture *f = *state;
    zentry e[] = {{"xl/workbook.xml", WORKBOOK, 0, 0, 0}, {"xl/_rels/workbook.xml.rels", RELS, 0, 0, 0}};
    expect_error(f, run_zip(f, e, 2), EG_EDATA, "xl/worksheets/sheet1.xml: missing from the zip");
    zentry e2[] = {{"xl/workbook.xml", WORKBOOK, 0, 0, 0},
                   {"xl/_rels/workbook.xml.rels", "<Relationships/>", 0, 0, 0}};
    expect_error(f, run_zip(f, e2, 2), EG_EDATA,
                 "xl/_rels/workbook.xml.rels: has no Relationship Id=\"rId1\" for sheet \"Data\"");
    zentry e3[] = {{"xl/workbook.xml", "<workbook><sheets/></workbook>", 0, 0, 0}};
    expect_error(f, run_zip(f, e3, 1), EG_EDATA, "xl/workbook.xml: lists no visible sheet");
}

static void test_xlsx_doctype_is_refused(void **state)
{
    fixture *f = *state;
    const char *sheet = "<?xml version=\"1.0\"?><!DOCTYPE w [<!ENTITY a \"aaaaaaaa\">"
                        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><worksheet><sheetData>"
                        "<row r=\"1\"><c t=\"inlineStr\"><is><t>&b;</t></is></c></row>"
                        "</sheetData></worksheet>";
    expect_error(f, run_book(f, NULL, sheet), EG_EDATA,
                 "t.xlsx: xl/worksheets/sheet1.xml: has a DOCTYPE declaration");
    expect_error(f, run_book(f, "<!DOCTYPE sst SYSTEM \"http://example.com/x.dtd\"><sst/>", SHEET("")),
                 EG_EDATA, "xl/sharedStrings.xml: has a DOCTYPE declaration");
}

static void test_xlsx_zip_bombs_are_refused_before_inflating(void **state)
{
    fixture *f = *state;
    /* a 6-byte deflate stream declaring ~4 GiB */
    zentry huge[] = {{"xl/workbook.xml", WORKBOOK, 0, 0, 0},
                     {"xl/_rels/workbook.xml.rels", RELS, 0, 0, 0},
                     {"xl/worksheets/sheet1.xml", "\003", 1, 1, 0xfffffff0u}};
    expect_error(f, run_zip(f, huge, 3), EG_ELIMIT,
                 "t.xlsx: xl/worksheets/sheet1.xml: declares 4294967280 bytes uncompressed "
                 "(limit 268435456): refused as a possible zip bomb");
    /* 200 MiB declared from a few bytes: within the size limit, not the ratio */
    zentry ratio[] = {{"xl/workbook.xml", WORKBOOK, 0, 0, 0},
                      {"xl/_rels/workbook.xml.rels", RELS, 0, 0, 0},
                      {"xl/sharedStrings.xml", "x", 0, 1, 200u << 20}};
    expect_error(f, run_zip(f, ratio, 3), EG_ELIMIT, "xl/sharedStrings.xml: compressed");
    /* a part inflating to more than it declares is cut off */
    zentry liar[] = {{"xl/workbook.xml", WORKBOOK, 0, 1, 10}};
    int rc = run_zip(f, liar, 1);
    assert_true(rc == EG_ELIMIT || rc == EG_EDATA);
    expect_error(f, rc, rc, "xl/workbook.xml: ");
}

static void test_xlsx_not_well_formed_xml_names_the_part(void **state)
{
    fixture *f = *state;
    expect_error(f, run_book(f, NULL, "<worksheet><sheetData><row></sheetData>"), EG_EDATA,
                 "xl/worksheets/sheet1.xml:1: not well-formed XML");
}

static void test_xlsx_file_and_memory_agree(void **state)
{
    fixture *f = *state;
    unsigned char *z;
    zentry e[] = {{"xl/workbook.xml", WORKBOOK, 0, 0, 0},
                  {"xl/_rels/workbook.xml.rels", RELS, 0, 0, 0},
                  {"xl/worksheets/sheet1.xml", BAD_ROWS, 0, 0, 0}};
    size_t len = zip_build(e, 3, &z);
    FILE *in = fmemopen(z, len, "rb");
    assert_non_null(in);
    f->opts.lenient = 1;
    assert_int_equal(tr_xlsx_read(in, "t.xlsx", &f->opts, &f->sink, &f->err), 0);
    fclose(in);
    free(z);
    assert_int_equal(f->k->n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_xlsx_fall_back_day_has_100_intervals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_text_dates_two_meters_spring_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_serial_datetime_rounds_to_the_second, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_cell_types_and_shared_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_read_datetime_is_end_and_fold_by_row_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_naive_end_labels_on_fall_back_are_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_wrong_start_label_follows_the_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_midnight_end_and_title_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_gap_stays_gap_and_spring_blank_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_daily_rows_make_23_and_25_hour_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_date1904_workbooks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_meters_are_channels_in_any_row_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_bad_kwh_names_file_row_and_cell, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_lenient_skips_and_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_rows_out_of_order_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_one_row_without_end_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_no_header_names_the_sheet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_bad_shared_string_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_not_a_zip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_zip_without_workbook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_missing_sheet_part_and_relationship, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_doctype_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_zip_bombs_are_refused_before_inflating, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_not_well_formed_xml_names_the_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xlsx_file_and_memory_agree, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
