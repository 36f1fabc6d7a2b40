/* test_writer.c -- the streaming writer, byte for byte.
 *
 * Small resources are written to memory through espi_writer_open_io and
 * compared with the exact expected XML: child order, absent fields skipped,
 * escaping of hostile text, number extremes, DstRuleType hex.  Then the
 * file sink's atomicity (close renames, abort leaves nothing, a missing
 * directory is EG_ECANTCREAT) and synth's determinism (SHA-256 of two runs)
 * and local days (23/25-hour DST days). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "espi.h"
#include "synth.h"
#include "uri.h"
#include "writer.h"

/* ---- a memory sink ------------------------------------------------------- */

typedef struct membuf {
    char *data;
    size_t len, cap;
    int fail_after; /* fail writes once len would exceed this (0 = never) */
} membuf;

static int mem_write(void *io, const char *buf, int len)
{
    membuf *m = io;
    if (m->fail_after && m->len + (size_t)len > (size_t)m->fail_after) return -1;
    if (m->len + (size_t)len + 1 > m->cap) {
        size_t cap = (m->cap ? m->cap * 2 : 4096) + (size_t)len;
        char *p = realloc(m->data, cap);
        if (!p) return -1;
        m->data = p;
        m->cap = cap;
    }
    memcpy(m->data + m->len, buf, (size_t)len);
    m->len += (size_t)len;
    m->data[m->len] = '\0';
    return len;
}

static espi_writer *mem_open(membuf *m, int indent)
{
    espi_writer_opts o = {indent};
    eg_err err;
    memset(m, 0, sizeof *m);
    espi_writer *w = espi_writer_open_io(mem_write, m, &o, &err);
    assert_non_null(w);
    return w;
}

static void mem_close(espi_writer *w, membuf *m)
{
    eg_err err;
    assert_int_equal(espi_writer_close(w, &err), 0);
    assert_non_null(m->data);
}

static void entry_basic(espi_entry *e, const char *title)
{
    espi_entry_init(e);
    snprintf(e->id, sizeof e->id, "urn:uuid:00000000-0000-5000-8000-000000000001");
    snprintf(e->title, sizeof e->title, "%s", title);
    e->published = 0;
    e->updated = 1710000000;
    snprintf(e->self.rel, sizeof e->self.rel, "self");
    snprintf(e->self.href, sizeof e->self.href, "http://x/A/1");
    snprintf(e->up.rel, sizeof e->up.rel, "up");
    snprintf(e->up.href, sizeof e->up.href, "http://x/A");
}

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
#define ENTRY_HEAD(title) \
    "<entry xmlns=\"http://www.w3.org/2005/Atom\">" \
    "<id>urn:uuid:00000000-0000-5000-8000-000000000001</id><title>" title "</title>" \
    "<published>1970-01-01T00:00:00Z</published><updated>2024-03-09T16:00:00Z</updated>" \
    "<link rel=\"self\" href=\"http://x/A/1\"/><link rel=\"up\" href=\"http://x/A\"/><content>"
#define ENTRY_TAIL "</content></entry>"

/* ---- exact bytes ----------------------------------------------------------- */

static void test_writer_local_time_parameters_pretty_exact(void **state)
{
    (void)state;
    membuf m;
    espi_writer *w = mem_open(&m, 1);
    espi_entry e;
    espi_local_time_parameters t;
    eg_err err;
    entry_basic(&e, "LTP");
    espi_local_time_parameters_init(&t);
    t.dst_end_rule = 0xB40E2000u;
    t.dst_offset = 3600;
    t.dst_start_rule = 0x0000000Au; /* leading zeros kept: 8 hex digits */
    t.tz_offset = -21600;
    assert_int_equal(espi_writer_local_time_parameters(w, &e, &t, &err), 0);
    mem_close(w, &m);
    assert_string_equal(m.data,
        DECL "\n"
        "<entry xmlns=\"http://www.w3.org/2005/Atom\">\n"
        "  <id>urn:uuid:00000000-0000-5000-8000-000000000001</id>\n"
        "  <title>LTP</title>\n"
        "  <published>1970-01-01T00:00:00Z</published>\n"
        "  <updated>2024-03-09T16:00:00Z</updated>\n"
        "  <link rel=\"self\" href=\"http://x/A/1\"/>\n"
        "  <link rel=\"up\" href=\"http://x/A\"/>\n"
        "  <content>\n"
        "    <LocalTimeParameters xmlns=\"http://naesb.org/espi\">\n"
        "      <dstEndRule>B40E2000</dstEndRule>\n"
        "      <dstOffset>3600</dstOffset>\n"
        "      <dstStartRule>0000000A</dstStartRule>\n"
        "      <tzOffset>-21600</tzOffset>\n"
        "    </LocalTimeParameters>\n"
        "  </content>\n"
        "</entry>\n");
    free(m.data);
}

static void test_writer_reading_type_order_and_absent_fields(void **state)
{
    (void)state;
    membuf m;
    espi_writer *w = mem_open(&m, 0);
    espi_entry e;
    espi_reading_type rt;
    eg_err err;
    entry_basic(&e, "RT");
    espi_reading_type_init(&rt);
    /* set out of struct order; the output must follow the schema order */
    rt.argument.numerator = 1;
    rt.uom = ESPI_UOM_WH;
    rt.accumulation_behaviour = ESPI_ACCUM_DELTA_DATA;
    rt.power_of_ten_multiplier = -3;
    rt.interharmonic.denominator = 2;
    rt.flow_direction = ESPI_FLOW_REVERSE;
    assert_int_equal(espi_writer_reading_type(w, &e, &rt, &err), 0);
    mem_close(w, &m);
    assert_string_equal(m.data,
        DECL ENTRY_HEAD("RT")
        "<ReadingType xmlns=\"http://naesb.org/espi\">"
        "<accumulationBehaviour>4</accumulationBehaviour><flowDirection>19</flowDirection>"
        "<powerOfTenMultiplier>-3</powerOfTenMultiplier><uom>72</uom>"
        "<interharmonic><denominator>2</denominator></interharmonic>"
        "<argument><numerator>1</numerator></argument>"
        "</ReadingType>" ENTRY_TAIL);
    free(m.data);
}

static void test_writer_hostile_text_is_escaped(void **state)
{
    (void)state;
    membuf m;
    espi_writer *w = mem_open(&m, 0);
    espi_entry e;
    eg_err err;
    entry_basic(&e, "<script>alert(\"x\")</script> & \x01 \xff caf\xc3\xa9");
    snprintf(e.self.href, sizeof e.self.href, "http://x/A/1?a=1&b=\"2\"<");
    espi_entry_add_related(&e, "http://x/R?q=<&>");
    assert_int_equal(espi_writer_meter_reading(w, &e, &err), 0);
    mem_close(w, &m);
    assert_string_equal(m.data,
        DECL "<entry xmlns=\"http://www.w3.org/2005/Atom\">"
        "<id>urn:uuid:00000000-0000-5000-8000-000000000001</id>"
        "<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; \xEF\xBF\xBD \xEF\xBF\xBD caf\xc3\xa9</title>"
        "<published>1970-01-01T00:00:00Z</published><updated>2024-03-09T16:00:00Z</updated>"
        "<link rel=\"self\" href=\"http://x/A/1?a=1&amp;b=&quot;2&quot;&lt;\"/>"
        "<link rel=\"up\" href=\"http://x/A\"/>"
        "<link rel=\"related\" href=\"http://x/R?q=&lt;&amp;&gt;\"/>"
        "<content><MeterReading xmlns=\"http://naesb.org/espi\"/></content></entry>");
    assert_null(strstr(m.data, "<script>"));
    free(m.data);
}

static void test_writer_interval_reading_extremes_and_negatives(void **state)
{
    (void)state;
    membuf m;
    espi_writer *w = mem_open(&m, 0);
    espi_entry e;
    espi_interval_reading r[2];
    eg_err err;
    entry_basic(&e, "IB");
    espi_interval_reading_init(&r[0]);
    espi_interval_reading_init(&r[1]);
    r[0].cost = -5;
    r[0].qualities[0] = ESPI_QUALITY_ESTIMATED_REFERENCE_DAY;
    r[0].qualities[1] = ESPI_QUALITY_VALID;
    r[0].n_qualities = 2;
    r[0].time_period.duration = 900;
    r[0].time_period.start = -86400;
    r[0].value = INT64_MAX;
    r[1].value = INT64_MIN + 1; /* INT64_MIN itself is ESPI_NONE: absent */
    r[1].tou = 0;
    espi_interval_block b = {{1800, -86400}, r, 2};
    assert_int_equal(espi_writer_interval_block(w, &e, &b, &err), 0);
    mem_close(w, &m);
    assert_string_equal(m.data,
        DECL ENTRY_HEAD("IB")
        "<IntervalBlock xmlns=\"http://naesb.org/espi\">"
        "<interval><duration>1800</duration><start>-86400</start></interval>"
        "<IntervalReading><cost>-5</cost>"
        "<ReadingQuality><quality>8</quality></ReadingQuality>"
        "<ReadingQuality><quality>0</quality></ReadingQuality>"
        "<timePeriod><duration>900</duration><start>-86400</start></timePeriod>"
        "<value>9223372036854775807</value></IntervalReading>"
        "<IntervalReading><value>-9223372036854775807</value><tou>0</tou></IntervalReading>"
        "</IntervalBlock>" ENTRY_TAIL);
    free(m.data);
}

/* Indented, every IntervalReading field; then thousands of readings (past
 * the 64 KiB batch, so the direct-to-sink spill runs) whose values cross
 * every digit count, checked against snprintf. */
static void test_writer_interval_reading_pretty_all_fields(void **state)
{
    (void)state;
    membuf m;
    espi_writer *w = mem_open(&m, 1);
    espi_entry e;
    espi_interval_reading r;
    eg_err err;
    entry_basic(&e, "IB");
    espi_interval_reading_init(&r);
    r.cost = 10;
    r.qualities[0] = ESPI_QUALITY_VALID;
    r.n_qualities = 1;
    r.time_period.duration = 900;
    r.time_period.start = 1700000000;
    r.value = 99;
    r.consumption_tier = 1;
    r.tou = 2;
    r.cpp = 100;
    espi_interval_block b = {{900, 1700000000}, &r, 1};
    assert_int_equal(espi_writer_interval_block(w, &e, &b, &err), 0);
    mem_close(w, &m);
    const char *want =
        "\n      <IntervalReading>"
        "\n        <cost>10</cost>"
        "\n        <ReadingQuality>"
        "\n          <quality>0</quality>"
        "\n        </ReadingQuality>"
        "\n        <timePeriod>"
        "\n          <duration>900</duration>"
        "\n          <start>1700000000</start>"
        "\n        </timePeriod>"
        "\n        <value>99</value>"
        "\n        <consumptionTier>1</consumptionTier>"
        "\n        <tou>2</tou>"
        "\n        <cpp>100</cpp>"
        "\n      </IntervalReading>"
        "\n    </IntervalBlock>";
    assert_non_null(strstr(m.data, want));
    free(m.data);

    enum { N = 4000 };
    espi_interval_reading *rs = calloc(N, sizeof *rs);
    size_t cap = (size_t)N * 96 + 1024, len = 0;
    char *expect = malloc(cap);
    assert_non_null(rs);
    assert_non_null(expect);
    int64_t v = 0;
    for (int i = 0; i < N; i++) {
        espi_interval_reading_init(&rs[i]);
        rs[i].value = (i % 2 ? -v : v);
        len += (size_t)snprintf(expect + len, cap - len, "<IntervalReading><value>%lld</value></IntervalReading>",
                                (long long)rs[i].value);
        v = v < INT64_MAX / 7 ? v * 7 + i % 10 : i;
    }
    w = mem_open(&m, 0);
    espi_interval_block big = {{900, 0}, rs, N};
    assert_int_equal(espi_writer_interval_block(w, &e, &big, &err), 0);
    mem_close(w, &m);
    assert_non_null(strstr(m.data, expect));
    free(m.data);
    free(expect);
    free(rs);
}

static void test_writer_usage_point_booleans_and_nested(void **state)
{
    (void)state;
    membuf m;
    espi_writer *w = mem_open(&m, 0);
    espi_entry e;
    espi_usage_point p;
    eg_err err;
    entry_basic(&e, "UP");
    espi_usage_point_init(&p);
    p.service_kind = ESPI_SERVICE_GAS;
    p.is_virtual = 0;
    p.grounded = 1;
    snprintf(p.sdp_tariff_profile, sizeof p.sdp_tariff_profile, "E-1 & more");
    p.nominal_service_voltage.uom = ESPI_UOM_V;
    p.nominal_service_voltage.value = 240;
    assert_int_equal(espi_writer_usage_point(w, &e, &p, &err), 0);
    mem_close(w, &m);
    assert_string_equal(m.data,
        DECL ENTRY_HEAD("UP")
        "<UsagePoint xmlns=\"http://naesb.org/espi\">"
        "<ServiceCategory><kind>1</kind></ServiceCategory>"
        "<serviceDeliveryPoint><tariffProfile>E-1 &amp; more</tariffProfile></serviceDeliveryPoint>"
        "<grounded>true</grounded><isVirtual>false</isVirtual>"
        "<nominalServiceVoltage><uom>29</uom><value>240</value></nominalServiceVoltage>"
        "</UsagePoint>" ENTRY_TAIL);
    free(m.data);
}

static void test_writer_legacy_summary_stops_at_commodity(void **state)
{
    (void)state;
    membuf m;
    espi_writer *w = mem_open(&m, 0);
    espi_entry e;
    espi_usage_summary s;
    espi_line_item li;
    eg_err err;
    entry_basic(&e, "US");
    espi_usage_summary_init(&s);
    espi_line_item_init(&li);
    li.amount = 100;
    snprintf(li.note, sizeof li.note, "Tax");
    li.item_kind = ESPI_ITEM_TAX;
    s.legacy_name = 1;
    s.line_items = &li;
    s.n_line_items = 1;
    s.status_time_stamp = 7;
    s.commodity = 1;
    snprintf(s.tariff_profile, sizeof s.tariff_profile, "dropped in the 1.x element");
    assert_int_equal(espi_writer_usage_summary(w, &e, &s, &err), 0);
    mem_close(w, &m);
    assert_string_equal(m.data,
        DECL ENTRY_HEAD("US")
        "<ElectricPowerUsageSummary xmlns=\"http://naesb.org/espi\">"
        "<costAdditionalDetailLastPeriod><amount>100</amount><note>Tax</note><itemKind>5</itemKind>"
        "</costAdditionalDetailLastPeriod>"
        "<statusTimeStamp>7</statusTimeStamp><commodity>1</commodity>"
        "</ElectricPowerUsageSummary>" ENTRY_TAIL);
    free(m.data);
}

static void test_writer_feed_and_bare_documents(void **state)
{
    (void)state;
    membuf m;
    espi_writer *w = mem_open(&m, 0);
    espi_feed_head h;
    espi_entry e;
    eg_err err;
    memset(&h, 0, sizeof h);
    snprintf(h.id, sizeof h.id, "urn:uuid:f");
    snprintf(h.title, sizeof h.title, "F");
    h.updated = 86400;
    entry_basic(&e, "MR");
    assert_int_equal(espi_writer_begin_feed(w, &h, &err), 0);
    assert_int_equal(espi_writer_meter_reading(w, &e, &err), 0);
    /* a BatchList is a document of its own */
    const char *res[] = {"http://x/B"};
    espi_batch_list bl = {res, 1};
    assert_int_equal(espi_writer_batch_list(w, &bl, &err), EG_EUSAGE);
    assert_int_equal(espi_writer_end_feed(w, &err), 0);
    mem_close(w, &m);
    assert_string_equal(m.data,
        DECL "<feed xmlns=\"http://www.w3.org/2005/Atom\"><id>urn:uuid:f</id><title>F</title>"
        "<updated>1970-01-02T00:00:00Z</updated><entry>"
        "<id>urn:uuid:00000000-0000-5000-8000-000000000001</id><title>MR</title>"
        "<published>1970-01-01T00:00:00Z</published><updated>2024-03-09T16:00:00Z</updated>"
        "<link rel=\"self\" href=\"http://x/A/1\"/><link rel=\"up\" href=\"http://x/A\"/>"
        "<content><MeterReading xmlns=\"http://naesb.org/espi\"/></content></entry></feed>");
    free(m.data);

    w = mem_open(&m, 0);
    assert_int_equal(espi_writer_batch_list(w, &bl, &err), 0);
    assert_int_equal(espi_writer_meter_reading(w, &e, &err), EG_EUSAGE); /* document complete */
    mem_close(w, &m);
    assert_string_equal(m.data, DECL "<BatchList xmlns=\"http://naesb.org/espi\">"
                                     "<resources>http://x/B</resources></BatchList>");
    free(m.data);
}

static void test_writer_unfinished_document_is_an_error(void **state)
{
    (void)state;
    membuf m;
    espi_writer *w = mem_open(&m, 0);
    espi_feed_head h;
    eg_err err;
    memset(&h, 0, sizeof h);
    assert_int_equal(espi_writer_begin_feed(w, &h, &err), 0);
    assert_int_equal(espi_writer_close(w, &err), EG_EUSAGE);
    assert_non_null(strstr(err.msg, "unfinished"));
    free(m.data);
}

static void test_writer_callback_failure_is_eio(void **state)
{
    (void)state;
    membuf m;
    espi_writer_opts o = {0};
    eg_err err;
    memset(&m, 0, sizeof m);
    m.fail_after = 100000;
    espi_writer *w = espi_writer_open_io(mem_write, &m, &o, &err);
    assert_non_null(w);
    espi_synth_opts so;
    espi_synth_opts_init(&so);
    so.days = 30;
    int rc = espi_synth_write(w, &so, &err);
    if (rc == 0) rc = espi_writer_close(w, &err);
    else espi_writer_abort(w);
    assert_int_equal(rc, EG_EIO);
    assert_non_null(strstr(err.msg, "write failed"));
    free(m.data);
}

/* ---- files ------------------------------------------------------------------ */

static void make_tmpdir(char *dir, size_t size)
{
    const char *b = getenv("ESPIGATE_BUILD");
    snprintf(dir, size, "%s/test_writer.XXXXXX", b && *b ? b : ".");
    assert_non_null(mkdtemp(dir));
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void write_small_synth(espi_writer *w)
{
    espi_synth_opts so;
    eg_err err;
    espi_synth_opts_init(&so);
    so.days = 1;
    assert_int_equal(espi_synth_write(w, &so, &err), 0);
}

static void test_writer_file_appears_only_on_close(void **state)
{
    (void)state;
    char dir[1024], path[1100];
    eg_err err;
    struct stat st;
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.xml", dir);
    espi_writer *w = espi_writer_open_path(path, NULL, &err);
    assert_non_null(w);
    write_small_synth(w);
    assert_int_equal(stat(path, &st), -1);        /* not there yet */
    assert_int_equal(count_entries(dir), 1);      /* only the temp file */
    assert_int_equal(espi_writer_close(w, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 1000);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(count_entries(dir), 1);      /* temp renamed, not copied */
    unlink(path);
    rmdir(dir);
}

static void test_writer_abort_leaves_no_file(void **state)
{
    (void)state;
    char dir[1024], path[1100];
    eg_err err;
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.xml", dir);
    espi_writer *w = espi_writer_open_path(path, NULL, &err);
    assert_non_null(w);
    write_small_synth(w);
    espi_writer_abort(w);
    assert_int_equal(count_entries(dir), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_writer_missing_directory_is_cantcreat(void **state)
{
    (void)state;
    char dir[1024], path[1100];
    eg_err err;
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/no/such/dir/out.xml", dir);
    eg_err_clear(&err);
    assert_null(espi_writer_open_path(path, NULL, &err));
    assert_int_equal(err.code, EG_ECANTCREAT);
    assert_string_equal(err.file, path);
    assert_non_null(strstr(err.msg, "No such file or directory"));
    rmdir(dir);
}

/* ---- synth -------------------------------------------------------------------- */

static int sha_write(void *io, const char *buf, int len)
{
    return EVP_DigestUpdate(io, buf, (size_t)len) == 1 ? len : -1;
}

static void synth_digest(const espi_synth_opts *so, unsigned char md[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    eg_err err;
    unsigned n = 0;
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    espi_writer *w = espi_writer_open_io(sha_write, ctx, NULL, &err);
    assert_non_null(w);
    assert_int_equal(espi_synth_write(w, so, &err), 0);
    assert_int_equal(espi_writer_close(w, &err), 0);
    assert_int_equal(EVP_DigestFinal_ex(ctx, md, &n), 1);
    assert_int_equal(n, 32);
    EVP_MD_CTX_free(ctx);
}

static void test_synth_two_runs_are_byte_identical(void **state)
{
    (void)state;
    espi_synth_opts so;
    unsigned char a[32], b[32], c[32];
    espi_synth_opts_init(&so);
    so.usage_points = 2;
    so.days = 5;
    so.with_cost = so.with_quality = so.net_metering = 1;
    synth_digest(&so, a);
    synth_digest(&so, b);
    assert_memory_equal(a, b, 32);
    so.seed = 2;
    synth_digest(&so, c);
    assert_memory_not_equal(a, c, 32);
}

static size_t count_str(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static size_t synth_one_day_readings(const char *date, int interval)
{
    espi_synth_opts so;
    membuf m;
    eg_err err;
    espi_synth_opts_init(&so);
    assert_int_equal(espi_time_parse(date, &so.start), 0);
    so.days = 1;
    so.interval = interval;
    espi_writer *w = mem_open(&m, 0);
    assert_int_equal(espi_synth_write(w, &so, &err), 0);
    mem_close(w, &m);
    size_t n = count_str(m.data, "<IntervalReading>");
    free(m.data);
    return n;
}

static void test_synth_dst_days_have_23_and_25_hours(void **state)
{
    (void)state;
    assert_int_equal(synth_one_day_readings("2024-03-09", 900), 96);
    assert_int_equal(synth_one_day_readings("2024-03-10", 900), 92);
    assert_int_equal(synth_one_day_readings("2024-11-03", 900), 100);
    assert_int_equal(synth_one_day_readings("2024-11-03", 3600), 25);
    assert_int_equal(synth_one_day_readings("2024-07-04", 3600), 24);
}

static void test_synth_rejects_bad_options(void **state)
{
    (void)state;
    espi_synth_opts so;
    membuf m;
    eg_err err;
    espi_synth_opts_init(&so);
    so.interval = 7;
    espi_writer *w = mem_open(&m, 0);
    assert_int_equal(espi_synth_write(w, &so, &err), EG_EUSAGE);
    assert_non_null(strstr(err.msg, "interval 7"));
    espi_writer_abort(w);
    free(m.data);
}

/* ---- uri ----------------------------------------------------------------------- */

static void test_uri_links_follow_the_rest_conventions(void **state)
{
    (void)state;
    espi_entry e;
    const char *b = "https://h/espi/1_1/resource/";
    espi_entry_init(&e);
    espi_links_usage_point(&e, b, "S", "U", "L", 1, 1);
    assert_string_equal(e.self.href, "https://h/espi/1_1/resource/Subscription/S/UsagePoint/U");
    assert_string_equal(e.up.href, "https://h/espi/1_1/resource/Subscription/S/UsagePoint");
    assert_int_equal(e.n_related, 4);
    assert_string_equal(e.related[0].href, "https://h/espi/1_1/resource/Subscription/S/UsagePoint/U/MeterReading");
    assert_string_equal(e.related[1].href, "https://h/espi/1_1/resource/Subscription/S/UsagePoint/U/UsageSummary");
    assert_string_equal(e.related[2].href,
                        "https://h/espi/1_1/resource/Subscription/S/UsagePoint/U/ElectricPowerQualitySummary");
    assert_string_equal(e.related[3].href, "https://h/espi/1_1/resource/LocalTimeParameters/L");
    assert_string_equal(e.related[3].rel, "related");

    espi_links_meter_reading(&e, b, NULL, "U", "M", "R");
    assert_string_equal(e.self.href, "https://h/espi/1_1/resource/UsagePoint/U/MeterReading/M");
    assert_string_equal(e.up.href, "https://h/espi/1_1/resource/UsagePoint/U/MeterReading");
    assert_int_equal(e.n_related, 2);
    assert_string_equal(e.related[0].href, "https://h/espi/1_1/resource/UsagePoint/U/MeterReading/M/IntervalBlock");
    assert_string_equal(e.related[1].href, "https://h/espi/1_1/resource/ReadingType/R");

    espi_links_interval_block(&e, b, "S", "U", "M", "I");
    assert_string_equal(e.self.href, "https://h/espi/1_1/resource/Subscription/S/UsagePoint/U/MeterReading/M/IntervalBlock/I");
    assert_string_equal(e.up.href, "https://h/espi/1_1/resource/Subscription/S/UsagePoint/U/MeterReading/M/IntervalBlock");
    assert_int_equal(e.n_related, 0);

    espi_links_reading_type(&e, b, "R");
    assert_string_equal(e.self.href, "https://h/espi/1_1/resource/ReadingType/R");
    assert_string_equal(e.up.href, "https://h/espi/1_1/resource/ReadingType");

    char out[ESPI_URI_MAX];
    espi_uri_batch_subscription(out, b, "S");
    assert_string_equal(out, "https://h/espi/1_1/resource/Batch/Subscription/S");

    for (int i = 0; i < ESPI_MAX_RELATED + 3; i++) espi_entry_add_related(&e, "x");
    assert_int_equal(e.n_related, ESPI_MAX_RELATED);
}

static void test_uri_long_parts_are_truncated_not_overflowed(void **state)
{
    (void)state;
    espi_entry e;
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    espi_entry_init(&e);
    espi_links_interval_block(&e, big, big, big, big, big);
    assert_int_equal(strlen(e.self.href), ESPI_URI_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_local_time_parameters_pretty_exact),
        cmocka_unit_test(test_writer_reading_type_order_and_absent_fields),
        cmocka_unit_test(test_writer_hostile_text_is_escaped),
        cmocka_unit_test(test_writer_interval_reading_extremes_and_negatives),
        cmocka_unit_test(test_writer_interval_reading_pretty_all_fields),
        cmocka_unit_test(test_writer_usage_point_booleans_and_nested),
        cmocka_unit_test(test_writer_legacy_summary_stops_at_commodity),
        cmocka_unit_test(test_writer_feed_and_bare_documents),
        cmocka_unit_test(test_writer_unfinished_document_is_an_error),
        cmocka_unit_test(test_writer_callback_failure_is_eio),
        cmocka_unit_test(test_writer_file_appears_only_on_close),
        cmocka_unit_test(test_writer_abort_leaves_no_file),
        cmocka_unit_test(test_writer_missing_directory_is_cantcreat),
        cmocka_unit_test(test_synth_two_runs_are_byte_identical),
        cmocka_unit_test(test_synth_dst_days_have_23_and_25_hours),
        cmocka_unit_test(test_synth_rejects_bad_options),
        cmocka_unit_test(test_uri_links_follow_the_rest_conventions),
        cmocka_unit_test(test_uri_long_parts_are_truncated_not_overflowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
