/* test_reader.c -- the streaming ESPI reader (espi/reader.h).
 *
 * Three groups: the shared sample feeds (exact resource counts from
 * samples/SOURCES.md and known field values; skipped when ESPIGATE_SHARED
 * is absent), small in-memory documents for the shapes a reader must cope
 * with (entry root, bare root, content before links, several blocks in one
 * content), and hostile input (tests/espi/hostile/ plus generated deep,
 * huge and very long documents) which must end in a clean XML-00x
 * diagnostic, never expansion, a crash or unbounded memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "reader.h"

/* The bounded-memory test compares peak RSS; ASan's quarantine of freed
 * blocks (256 MB by default) would otherwise grow with the input. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=4";
}

#define MAX_SAVED 8
#define MAX_DIAGS 32

typedef struct tctx {
    long counts[ESPI_RES_COUNT];
    long readings, resources, null_entry;
    int stop_after;                 /* return EG_ESTOP after n resources */
    int head_calls;
    espi_feed_head head;
    int have_first;
    espi_interval first_interval;
    espi_interval_reading first_reading;
    int64_t first_qualities[2];
    long qualities;
    espi_local_time_parameters ltp;
    espi_reading_type rt;
    espi_usage_point up;
    espi_application_information ai;
    espi_authorization auth[4];
    int n_auth;
    espi_usage_summary us;
    espi_line_item items[4];
    espi_power_quality_summary pq;
    espi_entry entries[MAX_SAVED];
    espi_resource_type entry_types[MAX_SAVED];
    int n_entries;
    char batch[4][128];
    size_t n_batch;
    int n_diags;
    char rules[MAX_DIAGS][16];
    long diag_line[MAX_DIAGS], diag_col[MAX_DIAGS];
    int progress_calls, progress_bad;
    unsigned long long last_progress;
} tctx;

static int on_head(void *ctx, const espi_feed_head *h, eg_err *err)
{
    tctx *t = ctx;
    (void)err;
    t->head_calls++;
    t->head = *h;
    return 0;
}

static void save_block(tctx *t, const espi_interval_block *b)
{
    t->readings += (long)b->n_readings;
    for (size_t i = 0; i < b->n_readings; i++) t->qualities += b->readings[i].n_qualities;
    if (t->have_first || b->n_readings == 0) return;
    t->have_first = 1;
    t->first_interval = b->interval;
    t->first_reading = b->readings[0];
    for (int i = 0; i < 2 && i < b->readings[0].n_qualities; i++)
        t->first_qualities[i] = b->readings[0].qualities[i];
}

static void save_resource(tctx *t, const espi_resource *r)
{
    switch (r->type) {
    case ESPI_RES_INTERVAL_BLOCK: save_block(t, &r->u.interval_block); break;
    case ESPI_RES_LOCAL_TIME_PARAMETERS: t->ltp = r->u.local_time_parameters; break;
    case ESPI_RES_READING_TYPE: t->rt = r->u.reading_type; break;
    case ESPI_RES_USAGE_POINT: t->up = r->u.usage_point; break;
    case ESPI_RES_APPLICATION_INFORMATION: t->ai = r->u.application_information; break;
    case ESPI_RES_AUTHORIZATION:
        if (t->n_auth < 4) t->auth[t->n_auth++] = r->u.authorization;
        break;
    case ESPI_RES_USAGE_SUMMARY:
        t->us = r->u.usage_summary;
        for (size_t i = 0; i < 4 && i < t->us.n_line_items; i++) t->items[i] = t->us.line_items[i];
        t->us.line_items = NULL;
        break;
    case ESPI_RES_POWER_QUALITY_SUMMARY: t->pq = r->u.power_quality_summary; break;
    case ESPI_RES_BATCH_LIST:
        t->n_batch = r->u.batch_list.n_resources;
        for (size_t i = 0; i < 4 && i < t->n_batch; i++)
            snprintf(t->batch[i], sizeof t->batch[i], "%s", r->u.batch_list.resources[i]);
        break;
    default: break;
    }
}

static int on_resource(void *ctx, const espi_resource *r, eg_err *err)
{
    tctx *t = ctx;
    (void)err;
    t->resources++;
    t->counts[r->type]++;
    if (!r->entry) t->null_entry++;
    else if (t->n_entries < MAX_SAVED) {
        t->entries[t->n_entries] = *r->entry;
        t->entry_types[t->n_entries++] = r->type;
    }
    save_resource(t, r);
    if (t->stop_after && t->resources >= t->stop_after) return EG_ESTOP;
    return 0;
}

static void on_diag(void *ctx, const espi_diag *d)
{
    tctx *t = ctx;
    if (t->n_diags < MAX_DIAGS) {
        snprintf(t->rules[t->n_diags], sizeof t->rules[0], "%s", d->rule);
        t->diag_line[t->n_diags] = d->line;
        t->diag_col[t->n_diags] = d->col;
    }
    t->n_diags++;
}

static void on_progress(void *ctx, unsigned long long bytes)
{
    tctx *t = ctx;
    if (t->progress_calls && bytes < t->last_progress + 1024 * 1024) t->progress_bad++;
    t->progress_calls++;
    t->last_progress = bytes;
}

static tctx *tctx_new(void)
{
    tctx *t = calloc(1, sizeof *t);
    assert_non_null(t);
    return t;
}

static espi_reader_cbs cbs_for(tctx *t)
{
    espi_reader_cbs c = {t, on_head, on_resource, on_diag, on_progress};
    return c;
}

static int read_file(const char *path, tctx *t, const espi_reader_opts *o, espi_read_stats *st,
                     eg_err *err)
{
    espi_reader_opts def;
    espi_reader_opts_init(&def);
    espi_reader_cbs c = cbs_for(t);
    return espi_read_file(path, o ? o : &def, &c, st, err);
}

static int read_mem(const char *doc, tctx *t, const espi_reader_opts *o, espi_read_stats *st,
                    eg_err *err)
{
    espi_reader_opts def;
    espi_reader_opts_init(&def);
    espi_reader_cbs c = cbs_for(t);
    return espi_read_memory(doc, strlen(doc), "mem.xml", o ? o : &def, &c, st, err);
}

/* $ESPIGATE_SHARED/<rel> into out; 0, or -1 when the folder is absent. */
static int shared_path(const char *rel, char *out, size_t size)
{
    const char *shared = getenv("ESPIGATE_SHARED");
    struct stat sb;
    if (!shared || !*shared) return -1;
    snprintf(out, size, "%s/%s", shared, rel);
    return stat(out, &sb) == 0 ? 0 : -1;
}

static int has_rule(const tctx *t, const char *rule)
{
    for (int i = 0; i < t->n_diags && i < MAX_DIAGS; i++)
        if (!strcmp(t->rules[i], rule)) return 1;
    return 0;
}

/* ---- Shared samples ----------------------------------------------------- */

typedef struct sample_counts {
    const char *file;
    long up, mr, rt, ib, ir, us, pq, ltp, ai, au, cust, quality;
} sample_counts;

/* From samples/SOURCES.md ("contents" column). */
static const sample_counts samples[] = {
    {"gba_15minLP_15Days.xml", 1, 1, 1, 14, 1340, 1, 0, 1, 0, 0, 0, 0},
    {"gba_1hrLP_32DaysNoCost.xml", 1, 1, 1, 32, 768, 1, 0, 1, 0, 0, 0, 0},
    {"gba_Gas.xml", 1, 1, 1, 13, 13, 1, 0, 1, 0, 0, 0, 0},
    {"gba_MonthlyOnlyElectricData.xml", 1, 1, 1, 14, 14, 1, 0, 1, 0, 0, 0, 0},
    {"openespi_ApplicationInformation-Entry-Anonymized.xml", 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0},
    {"openespi_Authorization-Entry-Anonymized.xml", 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0},
    {"openespi_Customer-Subscription-Feed-Anonymized.xml", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0},
    {"openespi_Multiple-Authorization-Feed-Anonymized.xml", 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0},
    {"openespi_test_usage_data_01.xml", 1, 1, 1, 1, 96, 1, 1, 1, 0, 0, 0, 2},
};

static void test_samples_have_the_documented_resource_counts(void **state)
{
    (void)state;
    char path[1024];
    if (shared_path("espi/samples", path, sizeof path)) skip();
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        const sample_counts *s = &samples[i];
        char rel[256];
        snprintf(rel, sizeof rel, "espi/samples/%s", s->file);
        assert_int_equal(shared_path(rel, path, sizeof path), 0);
        tctx *t = tctx_new();
        espi_read_stats st;
        eg_err err;
        eg_err_clear(&err);
        int rc = read_file(path, t, NULL, &st, &err);
        if (rc) print_error("%s: %s\n", s->file, err.msg);
        assert_int_equal(rc, 0);
        assert_int_equal(t->counts[ESPI_RES_USAGE_POINT], s->up);
        assert_int_equal(t->counts[ESPI_RES_METER_READING], s->mr);
        assert_int_equal(t->counts[ESPI_RES_READING_TYPE], s->rt);
        assert_int_equal(t->counts[ESPI_RES_INTERVAL_BLOCK], s->ib);
        assert_int_equal(t->readings, s->ir);
        assert_int_equal(st.interval_readings, s->ir);
        assert_int_equal(t->counts[ESPI_RES_USAGE_SUMMARY], s->us);
        assert_int_equal(t->counts[ESPI_RES_POWER_QUALITY_SUMMARY], s->pq);
        assert_int_equal(t->counts[ESPI_RES_LOCAL_TIME_PARAMETERS], s->ltp);
        assert_int_equal(t->counts[ESPI_RES_APPLICATION_INFORMATION], s->ai);
        assert_int_equal(t->counts[ESPI_RES_AUTHORIZATION], s->au);
        assert_int_equal(t->counts[ESPI_RES_CUSTOMER], s->cust);
        assert_int_equal(t->qualities, s->quality);
        assert_int_equal(st.resources, t->resources);
        assert_true(st.bytes > 0);
        free(t);
    }
}

static void test_15min_sample_fields(void **state)
{
    (void)state;
    char path[1024];
    if (shared_path("espi/samples/gba_15minLP_15Days.xml", path, sizeof path)) skip();
    tctx *t = tctx_new();
    espi_read_stats st;
    assert_int_equal(read_file(path, t, NULL, &st, NULL), 0);
    assert_int_equal(t->head_calls, 1);
    assert_string_equal(t->head.id, "urn:uuid:0071C5A7-91CF-434E-8BCE-C38AC8AF215D");
    assert_string_equal(t->head.title, "ThirdPartyX Batch Feed");
    assert_int_equal(t->head.updated, 1351036800); /* 2012-10-24T00:00:00Z */
    assert_string_equal(t->head.self.href, "/ThirdParty/83e269c1/Batch");
    assert_int_equal(t->ltp.tz_offset, -18000);
    assert_int_equal(t->ltp.dst_offset, 3600);
    assert_int_equal(t->ltp.dst_start_rule, 0x360E2000u);
    assert_int_equal(t->ltp.dst_end_rule, 0xB40E2000u);
    assert_int_equal(t->rt.interval_length, 900);
    assert_int_equal(t->rt.uom, ESPI_UOM_WH);
    assert_int_equal(t->rt.accumulation_behaviour, ESPI_ACCUM_DELTA_DATA);
    assert_int_equal(t->rt.flow_direction, ESPI_FLOW_FORWARD);
    assert_int_equal(t->rt.currency, 840);
    assert_int_equal(t->rt.power_of_ten_multiplier, 0);
    assert_int_equal(t->up.service_kind, ESPI_SERVICE_ELECTRICITY);
    assert_int_equal(t->first_interval.duration, 86400);
    assert_int_equal(t->first_interval.start, 1330578000);
    assert_int_equal(t->first_reading.cost, 974);
    assert_int_equal(t->first_reading.value, 324);
    assert_int_equal(t->first_reading.time_period.duration, 900);
    assert_int_equal(t->first_reading.time_period.start, 1330578000);
    assert_int_equal(t->first_reading.n_qualities, 0);
    /* The UsagePoint entry: links read, published/updated after content. */
    assert_int_equal(t->entry_types[0], ESPI_RES_USAGE_POINT);
    assert_string_equal(t->entries[0].id, "urn:uuid:7BC41774-7190-4864-841C-861AC76D46C2");
    assert_string_equal(t->entries[0].title, "your house");
    assert_int_equal(t->entries[0].published, 1351036800);
    assert_int_equal(t->entries[0].updated, 1351036800);
    assert_int_equal(t->entries[0].n_related, 3);
    assert_string_equal(t->entries[0].related[2].href, "LocalTimeParameters/01");
    assert_true(t->entries[0].line > 50);
    assert_int_equal(st.entries, 6); /* 14 blocks share one entry */
    free(t);
}

static void test_usage_data_01_summaries_and_qualities(void **state)
{
    (void)state;
    char path[1024];
    if (shared_path("espi/samples/openespi_test_usage_data_01.xml", path, sizeof path)) skip();
    tctx *t = tctx_new();
    assert_int_equal(read_file(path, t, NULL, NULL, NULL), 0);
    assert_int_equal(t->first_reading.n_qualities, 1);
    assert_int_equal(t->first_qualities[0], ESPI_QUALITY_ESTIMATED_REFERENCE_DAY);
    assert_int_equal(t->us.legacy_name, 1);
    assert_int_equal(t->us.billing_period.duration, 1119600);
    assert_int_equal(t->us.bill_last_period, 15252000);
    assert_int_equal(t->us.cost_additional_last_period, 1346000);
    assert_int_equal(t->us.overall_consumption_last_period.value, 1298640);
    assert_int_equal(t->us.overall_consumption_last_period.time_stamp, ESPI_NONE);
    assert_int_equal(t->us.current_billing_period_overall_consumption.time_stamp, 1331784000);
    assert_int_equal(t->us.quality_of_reading, 14);
    assert_int_equal(t->us.status_time_stamp, 1331784000);
    assert_int_equal(t->us.peak_demand.value, ESPI_NONE);
    assert_int_equal(t->pq.flicker_plt, 1);
    assert_int_equal(t->pq.measurement_protocol, 6);
    assert_int_equal(t->pq.summary_interval.duration, 2119600);
    assert_int_equal(t->pq.summary_interval.start, 2330578000LL);
    assert_int_equal(t->pq.temp_overvoltage, 13);
    free(t);
}

static void test_application_information_entry(void **state)
{
    (void)state;
    char path[1024];
    if (shared_path("espi/samples/openespi_ApplicationInformation-Entry-Anonymized.xml", path,
                    sizeof path))
        skip();
    tctx *t = tctx_new();
    assert_int_equal(read_file(path, t, NULL, NULL, NULL), 0);
    assert_int_equal(t->head_calls, 0); /* entry root: no feed head */
    assert_int_equal(t->null_entry, 0);
    const espi_application_information *a = &t->ai;
    assert_string_equal(a->client_id, "test-client-id");
    assert_int_equal(a->n_redirect_uri, 1);
    assert_string_equal(a->redirect_uri[0], "https://test-thirdparty.example.com/callback");
    assert_int_equal(a->n_grant_types, 3);
    assert_string_equal(a->grant_types[1], "client_credentials");
    assert_int_equal(a->n_scope, 1);
    assert_int_equal(a->data_custodian_application_status, ESPI_DC_APP_PRODUCTION);
    assert_int_equal(a->client_secret_expires_at, 86400000000LL);
    assert_string_equal(a->data_custodian_scope_selection_screen_uri,
                        "https://test-datacustodian.example.com/RetailCustomer/ScopeSelectionList");
    assert_string_equal(t->entries[0].self.href,
                        "https://test-datacustodian.example.com/espi/1_1/resource/"
                        "ApplicationInformation/12345678");
    assert_string_equal(t->entries[0].self.type, "espi-entry/ApplicationInformation");
    assert_int_equal(t->entries[0].published, 1735689600);
    free(t);
}

static void test_authorization_feed(void **state)
{
    (void)state;
    char path[1024];
    if (shared_path("espi/samples/openespi_Multiple-Authorization-Feed-Anonymized.xml", path,
                    sizeof path))
        skip();
    tctx *t = tctx_new();
    assert_int_equal(read_file(path, t, NULL, NULL, NULL), 0);
    assert_int_equal(t->n_auth, 2);
    assert_string_equal(t->auth[1].resource_uri,
                        "https://test-api.example.com/espi/1_1/resource/Batch/Subscription/"
                        "test-subscription-id-2");
    assert_string_equal(t->entries[1].id, "urn:uuid:bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb");
    free(t);
}

static void test_official_xsd_runs_in_the_same_pass(void **state)
{
    (void)state;
    char xsd[1024], good[1024], bad[1024];
    if (shared_path("espi/schemas/espi-4.0/feed.xsd", xsd, sizeof xsd) ||
        shared_path("espi/samples/gba_15minLP_15Days.xml", good, sizeof good) ||
        shared_path("espi/samples/gba_1hrLP_32DaysNoCost.xml", bad, sizeof bad))
        skip();
    espi_reader_opts o;
    espi_reader_opts_init(&o);
    o.xsd_file = xsd;
    o.check_schema = 0; /* only libxml2's findings, in document order */
    tctx *t = tctx_new();
    espi_read_stats st;
    assert_int_equal(read_file(good, t, &o, &st, NULL), 0);
    assert_int_equal(st.errors, 0);
    assert_false(has_rule(t, "XSD-001"));
    assert_int_equal(t->readings, 1340);
    free(t);

    t = tctx_new();
    assert_int_equal(read_file(bad, t, &o, &st, NULL), 0); /* findings do not stop */
    assert_true(st.errors >= 1);
    assert_true(has_rule(t, "XSD-001"));
    assert_string_equal(t->rules[0], "XSD-001");
    assert_int_equal(t->diag_line[0], 72);
    assert_int_equal(t->readings, 768);
    free(t);
}

/* ---- Document shapes ----------------------------------------------------- */

static void test_entry_root_with_content_before_links(void **state)
{
    (void)state;
    const char *doc =
        "<entry xmlns='http://www.w3.org/2005/Atom'>"
        " <content><ReadingType xmlns='http://naesb.org/espi'>"
        "  <intervalLength> 3600 </intervalLength><kind>x12</kind>"
        "  <interharmonic><numerator>1</numerator><denominator>2</denominator></interharmonic>"
        "  <measuringPeriod>\n7\n</measuringPeriod>"
        " </ReadingType></content>"
        " <link rel='self' href=' ReadingType/07 ' type='espi-entry/ReadingType'/>"
        " <link rel='up' href='ReadingType'/>"
        " <link href='x'/>"
        " <id>urn:uuid:11111111-2222-3333-4444-555555555555</id>"
        " <published>2024-03-10T07:00:00Z</published>"
        " <updated>2024-03-10</updated>"
        "</entry>";
    tctx *t = tctx_new();
    espi_read_stats st;
    assert_int_equal(read_mem(doc, t, NULL, &st, NULL), 0);
    assert_int_equal(t->resources, 1);
    assert_int_equal(t->head_calls, 0);
    assert_int_equal(t->entry_types[0], ESPI_RES_READING_TYPE);
    assert_string_equal(t->entries[0].id, "urn:uuid:11111111-2222-3333-4444-555555555555");
    assert_string_equal(t->entries[0].self.href, "ReadingType/07");
    assert_string_equal(t->entries[0].self.type, "espi-entry/ReadingType");
    assert_string_equal(t->entries[0].up.href, "ReadingType");
    assert_int_equal(t->entries[0].n_related, 0);
    assert_int_equal(t->entries[0].published, 1710054000);
    assert_int_equal(t->entries[0].updated, 1710028800);
    assert_int_equal(t->rt.interval_length, 3600);       /* whitespace tolerated */
    assert_int_equal(t->rt.kind, ESPI_NONE);             /* unparsable stays absent */
    assert_int_equal(t->rt.measuring_period, 7);
    assert_int_equal(t->rt.interharmonic.denominator, 2);
    assert_int_equal(t->rt.uom, ESPI_NONE);
    assert_int_equal(st.entries, 1);
    free(t);
}

static void test_bare_roots_have_no_entry(void **state)
{
    (void)state;
    const char *up =
        "<?xml version='1.0'?><UsagePoint xmlns='http://naesb.org/espi'>"
        "<roleFlags>0001</roleFlags><ServiceCategory><kind>1</kind></ServiceCategory>"
        "<serviceDeliveryPoint><name>SDP 1</name></serviceDeliveryPoint>"
        "<checkBilling>true</checkBilling><isVirtual>0</isVirtual>"
        "<ratedPower><powerOfTenMultiplier>3</powerOfTenMultiplier><uom>38</uom>"
        "<value>12</value><readingTypeRef>ReadingType/1</readingTypeRef></ratedPower>"
        "</UsagePoint>";
    tctx *t = tctx_new();
    assert_int_equal(read_mem(up, t, NULL, NULL, NULL), 0);
    assert_int_equal(t->counts[ESPI_RES_USAGE_POINT], 1);
    assert_int_equal(t->null_entry, 1);
    assert_string_equal(t->up.role_flags, "0001");
    assert_int_equal(t->up.service_kind, ESPI_SERVICE_GAS);
    assert_string_equal(t->up.sdp_name, "SDP 1");
    assert_int_equal(t->up.check_billing, 1);
    assert_int_equal(t->up.is_virtual, 0);
    assert_int_equal(t->up.grounded, ESPI_BOOL_NONE);
    assert_int_equal(t->up.rated_power.power_of_ten_multiplier, 3);
    assert_int_equal(t->up.rated_power.value, 12);
    assert_string_equal(t->up.rated_power.reading_type_ref, "ReadingType/1");
    free(t);

    const char *bl =
        "<BatchList xmlns='http://naesb.org/espi'>"
        "<resources>https://dc.example/espi/1_1/resource/Batch/Subscription/5</resources>"
        "<resources> https://dc.example/espi/1_1/resource/Batch/Bulk/7 </resources>"
        "</BatchList>";
    t = tctx_new();
    assert_int_equal(read_mem(bl, t, NULL, NULL, NULL), 0);
    assert_int_equal(t->counts[ESPI_RES_BATCH_LIST], 1);
    assert_int_equal(t->null_entry, 1);
    assert_int_equal(t->n_batch, 2);
    assert_string_equal(t->batch[1], "https://dc.example/espi/1_1/resource/Batch/Bulk/7");
    free(t);

    const char *ss = "<ServiceStatus xmlns='http://naesb.org/espi'><currentStatus>1"
                     "</currentStatus></ServiceStatus>";
    t = tctx_new();
    assert_int_equal(read_mem(ss, t, NULL, NULL, NULL), 0);
    assert_int_equal(t->counts[ESPI_RES_SERVICE_STATUS], 1);
    free(t);
}

static void test_several_blocks_in_one_content_share_the_entry(void **state)
{
    (void)state;
    const char *doc =
        "<feed xmlns='http://www.w3.org/2005/Atom'><id>urn:uuid:f</id>"
        "<link rel='related' href='https://cert.greenbuttonalliance.org/certificate/1'/>"
        "<entry><content>"
        "<IntervalBlock xmlns='http://naesb.org/espi'><interval><duration>7200</duration>"
        "<start>100</start></interval>"
        "<IntervalReading><ReadingQuality><quality>8</quality></ReadingQuality>"
        "<ReadingQuality><quality>7</quality></ReadingQuality><value>5</value></IntervalReading>"
        "<IntervalReading><value>6</value><tou>2</tou></IntervalReading></IntervalBlock>"
        "<IntervalBlock xmlns='http://naesb.org/espi'><interval><duration>3600</duration>"
        "<start>7300</start></interval>"
        "<IntervalReading><cost>9</cost><value>7</value></IntervalReading></IntervalBlock>"
        "</content><id>urn:uuid:e</id></entry>"
        "<entry><id>urn:uuid:e2</id><content><cust:Customer "
        "xmlns:cust='http://naesb.org/espi/customer'><cust:x>1</cust:x></cust:Customer>"
        "</content></entry></feed>";
    tctx *t = tctx_new();
    espi_read_stats st;
    assert_int_equal(read_mem(doc, t, NULL, &st, NULL), 0);
    assert_int_equal(t->head_calls, 1);
    assert_string_equal(t->head.id, "urn:uuid:f");
    assert_int_equal(t->head.n_related, 1);
    assert_int_equal(t->head.updated, ESPI_NONE);
    assert_int_equal(t->counts[ESPI_RES_INTERVAL_BLOCK], 2);
    assert_int_equal(t->counts[ESPI_RES_CUSTOMER], 1);
    assert_string_equal(t->entries[0].id, "urn:uuid:e");
    assert_string_equal(t->entries[1].id, "urn:uuid:e");
    assert_string_equal(t->entries[2].id, "urn:uuid:e2");
    assert_int_equal(t->readings, 3);
    assert_int_equal(t->qualities, 2);
    assert_int_equal(t->first_qualities[1], ESPI_QUALITY_MANUALLY_EDITED);
    assert_int_equal(t->first_reading.value, 5);
    assert_int_equal(t->first_reading.cost, ESPI_NONE);
    assert_int_equal(t->first_interval.duration, 7200);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.resources, 3);
    free(t);
}

static void test_usage_summary_line_items(void **state)
{
    (void)state;
    const char *doc =
        "<UsageSummary xmlns='http://naesb.org/espi'>"
        "<billingPeriod><duration>2592000</duration><start>1000</start></billingPeriod>"
        "<costAdditionalDetailLastPeriod><amount>1500</amount><note>Delivery</note>"
        "<itemKind>2</itemKind><itemPeriod><duration>10</duration><start>20</start></itemPeriod>"
        "</costAdditionalDetailLastPeriod>"
        "<costAdditionalDetailLastPeriod><amount>-300</amount><note>Credit</note>"
        "<measurement><uom>72</uom><value>42</value></measurement><itemKind>7</itemKind>"
        "</costAdditionalDetailLastPeriod>"
        "<currency>124</currency><statusTimeStamp>99</statusTimeStamp>"
        "<billingChargeSource><agencyName>Utility</agencyName></billingChargeSource>"
        "</UsageSummary>";
    tctx *t = tctx_new();
    assert_int_equal(read_mem(doc, t, NULL, NULL, NULL), 0);
    assert_int_equal(t->us.legacy_name, 0);
    assert_int_equal(t->us.n_line_items, 2);
    assert_int_equal(t->items[0].amount, 1500);
    assert_int_equal(t->items[0].item_period.start, 20);
    assert_string_equal(t->items[1].note, "Credit");
    assert_int_equal(t->items[1].amount, -300);
    assert_int_equal(t->items[1].measurement.value, 42);
    assert_int_equal(t->items[1].item_kind, ESPI_ITEM_DELIVERY_CREDIT);
    assert_int_equal(t->us.currency, ESPI_CURRENCY_CAD);
    assert_string_equal(t->us.billing_charge_source, "Utility");

    espi_reader_opts o;
    espi_reader_opts_init(&o);
    o.max_line_items = 1;
    free(t);
    t = tctx_new();
    eg_err err;
    assert_int_equal(read_mem(doc, t, &o, NULL, &err), EG_ELIMIT);
    assert_true(has_rule(t, "XML-004"));
    free(t);
}

/* ---- Hostile input ------------------------------------------------------- */

/* The reader's own finding, alone: the schema checker is off here (the
 * deep-nesting test keeps it on). */
static void expect_refused(const char *file, int code, const char *rule)
{
    tctx *t = tctx_new();
    espi_read_stats st;
    eg_err err;
    espi_reader_opts o;
    espi_reader_opts_init(&o);
    o.check_schema = 0;
    eg_err_clear(&err);
    assert_int_equal(read_file(file, t, &o, &st, &err), code);
    assert_int_equal(err.code, code);
    assert_string_equal(err.file, file);
    assert_true(t->n_diags >= 1);
    assert_string_equal(t->rules[0], rule);
    assert_true(t->diag_line[0] >= 1);
    assert_int_equal(t->resources, 0);
    assert_int_equal(st.errors, 1);
    free(t);
}

static void test_billion_laughs_is_refused_without_expansion(void **state)
{
    (void)state;
    expect_refused("hostile/billion_laughs.xml", EG_EDATA, "XML-002");
}

static void test_external_entities_are_refused(void **state)
{
    (void)state;
    expect_refused("hostile/xxe.xml", EG_EDATA, "XML-002");
    expect_refused("hostile/xxe_parameter.xml", EG_EDATA, "XML-002");
    expect_refused("hostile/external_dtd.xml", EG_EDATA, "XML-002");
}

static void test_malformed_xml_reports_line_and_column(void **state)
{
    (void)state;
    tctx *t = tctx_new();
    eg_err err;
    espi_reader_opts o;
    espi_reader_opts_init(&o);
    o.check_schema = 0;
    assert_int_equal(read_file("hostile/mismatched.xml", t, &o, NULL, &err), EG_EDATA);
    assert_string_equal(t->rules[0], "XML-001");
    assert_int_equal(t->diag_line[0], 3);
    assert_true(t->diag_col[0] > 1);
    assert_int_equal(err.line, 3);
    free(t);
    expect_refused("hostile/truncated.xml", EG_EDATA, "XML-001");
    expect_refused("hostile/not_utf8.xml", EG_EDATA, "XML-001");
    expect_refused("hostile/empty.xml", EG_EDATA, "XML-001");
    expect_refused("hostile/bad_encoding.xml", EG_EDATA, "XML-001");
}

/* libxml2 must not print: every problem arrives as one diagnostic. */
static void test_hostile_input_prints_nothing_on_stderr(void **state)
{
    (void)state;
    static const char *const files[] = {
        "hostile/billion_laughs.xml", "hostile/xxe.xml", "hostile/xxe_parameter.xml",
        "hostile/external_dtd.xml", "hostile/truncated.xml", "hostile/not_utf8.xml",
        "hostile/empty.xml", "hostile/mismatched.xml", "hostile/bad_encoding.xml",
    };
    FILE *cap = tmpfile();
    assert_non_null(cap);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(cap), STDERR_FILENO) >= 0);
    int bad = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        tctx *t = tctx_new();
        espi_reader_opts o;
        espi_reader_opts_init(&o);
        o.check_schema = 0;
        if (read_file(files[i], t, &o, NULL, NULL) != EG_EDATA || t->n_diags != 1) bad++;
        free(t);
    }
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fseek(cap, 0, SEEK_END);
    long printed = ftell(cap);
    fclose(cap);
    assert_int_equal(bad, 0);
    assert_int_equal(printed, 0);
}

static void test_missing_file_is_noinput(void **state)
{
    (void)state;
    tctx *t = tctx_new();
    eg_err err;
    assert_int_equal(read_file("hostile/does-not-exist.xml", t, NULL, NULL, &err), EG_ENOINPUT);
    assert_int_equal(err.code, EG_ENOINPUT);
    assert_int_equal(read_file("hostile", t, NULL, NULL, &err), EG_ENOINPUT);
    assert_int_equal(t->n_diags, 0);
    free(t);
}

static void test_deep_nesting_is_limited(void **state)
{
    (void)state;
    const int levels = 10000;
    size_t size = (size_t)levels * 7 + 1;
    char *doc = malloc(size), *p = doc;
    assert_non_null(doc);
    for (int i = 0; i < levels; i++, p += 3) memcpy(p, "<a>", 3);
    for (int i = 0; i < levels; i++, p += 4) memcpy(p, "</a>", 4);
    *p = '\0';
    tctx *t = tctx_new();
    eg_err err;
    eg_err_clear(&err);
    assert_int_equal(read_mem(doc, t, NULL, NULL, &err), EG_ELIMIT);
    assert_true(has_rule(t, "XML-003")); /* the schema checker may report <a> first */
    assert_string_equal(t->rules[t->n_diags - 1], "XML-003");
    assert_int_equal(err.code, EG_ELIMIT);
    assert_non_null(strstr(err.msg, "64"));
    free(t);
    free(doc);
}

static void test_huge_text_node_is_limited(void **state)
{
    (void)state;
    const char *head = "<UsagePoint xmlns='http://naesb.org/espi'><readCycle>";
    const char *tail = "</readCycle></UsagePoint>";
    size_t n = 2 * 1024 * 1024;
    char *doc = malloc(strlen(head) + n + strlen(tail) + 1);
    assert_non_null(doc);
    size_t hl = strlen(head), tl = strlen(tail);
    memcpy(doc, head, hl);
    memset(doc + hl, 'x', n);
    memcpy(doc + hl + n, tail, tl + 1);
    tctx *t = tctx_new();
    eg_err err;
    assert_int_equal(read_mem(doc, t, NULL, NULL, &err), EG_ELIMIT);
    assert_true(has_rule(t, "XML-004"));
    assert_int_equal(t->resources, 0);
    free(t);
    free(doc);
}

static void test_block_readings_are_capped(void **state)
{
    (void)state;
    const char *doc =
        "<IntervalBlock xmlns='http://naesb.org/espi'>"
        "<IntervalReading><value>1</value></IntervalReading>"
        "<IntervalReading><value>2</value></IntervalReading>"
        "<IntervalReading><value>3</value></IntervalReading></IntervalBlock>";
    espi_reader_opts o;
    espi_reader_opts_init(&o);
    o.max_block_readings = 2;
    tctx *t = tctx_new();
    assert_int_equal(read_mem(doc, t, &o, NULL, NULL), EG_ELIMIT);
    assert_true(has_rule(t, "XML-004"));
    free(t);
    const char *empty = "<IntervalBlock xmlns='http://naesb.org/espi'><interval>"
                        "<duration>0</duration><start>5</start></interval></IntervalBlock>";
    t = tctx_new();
    assert_int_equal(read_mem(empty, t, &o, NULL, NULL), 0);
    assert_int_equal(t->counts[ESPI_RES_INTERVAL_BLOCK], 1);
    assert_int_equal(t->readings, 0);
    free(t);
    o.max_block_readings = 3;
    t = tctx_new();
    assert_int_equal(read_mem(doc, t, &o, NULL, NULL), 0);
    assert_int_equal(t->readings, 3);
    assert_int_equal(t->null_entry, 1);
    free(t);
}

static void test_callback_stop_ends_the_read_quietly(void **state)
{
    (void)state;
    char path[1024];
    if (shared_path("espi/samples/gba_15minLP_15Days.xml", path, sizeof path)) skip();
    tctx *t = tctx_new();
    t->stop_after = 3;
    eg_err err;
    eg_err_clear(&err);
    assert_int_equal(read_file(path, t, NULL, NULL, &err), EG_ESTOP);
    assert_int_equal(t->resources, 3);
    assert_int_equal(t->n_diags, 0);
    assert_int_equal(err.code, 0);
    free(t);
}

/* A source that hands out a few bytes at a time, then maybe fails. */
typedef struct drip {
    const char *buf;
    size_t len, pos;
    size_t fail_at; /* return -1 once pos reaches this; 0 never */
} drip;

static int drip_read(void *io, char *buf, int len)
{
    drip *d = io;
    if (d->fail_at && d->pos >= d->fail_at) return -1;
    size_t n = (size_t)(len < 7 ? len : 7);
    if (n > d->len - d->pos) n = d->len - d->pos;
    memcpy(buf, d->buf + d->pos, n);
    d->pos += n;
    return (int)n;
}

static void test_read_io_in_small_pieces_and_io_errors(void **state)
{
    (void)state;
    const char *doc =
        "<feed xmlns='http://www.w3.org/2005/Atom'><id>urn:uuid:f</id><entry><content>"
        "<LocalTimeParameters xmlns='http://naesb.org/espi'><dstEndRule>B40E2000</dstEndRule>"
        "<dstOffset>3600</dstOffset><dstStartRule>360e2000</dstStartRule>"
        "<tzOffset>-21600</tzOffset></LocalTimeParameters></content>"
        "<id>urn:uuid:e</id></entry></feed>";
    drip d = {doc, strlen(doc), 0, 0};
    tctx *t = tctx_new();
    espi_reader_cbs c = cbs_for(t);
    espi_read_stats st;
    assert_int_equal(espi_read_io(drip_read, &d, "drip", NULL, &c, &st, NULL), 0);
    assert_int_equal(t->counts[ESPI_RES_LOCAL_TIME_PARAMETERS], 1);
    assert_int_equal(t->ltp.dst_start_rule, 0x360E2000u); /* hex is case-insensitive */
    assert_int_equal(t->ltp.tz_offset, -21600);
    assert_string_equal(t->entries[0].id, "urn:uuid:e");
    assert_int_equal(st.bytes, strlen(doc));
    free(t);

    drip bad = {doc, strlen(doc), 0, 40};
    t = tctx_new();
    c = cbs_for(t);
    eg_err err;
    eg_err_clear(&err);
    assert_int_equal(espi_read_io(drip_read, &bad, "drip", NULL, &c, &st, &err), EG_EIO);
    assert_int_equal(err.code, EG_EIO);
    assert_int_equal(t->n_diags, 0);
    assert_int_equal(t->resources, 0);
    free(t);
}

/* ---- Bounded memory ------------------------------------------------------ */

/* Write a feed of about mb megabytes: entries of one 96-reading block. */
static void write_feed(const char *path, size_t mb)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns='http://www.w3.org/2005/Atom'>"
          "<id>urn:uuid:big</id><title>big</title><updated>2024-01-01T00:00:00Z</updated>\n", fp);
    long start = 1704067200;
    for (long e = 0; ftell(fp) < (long)(mb * 1024 * 1024); e++) {
        fprintf(fp, "<entry><id>urn:uuid:%08ld</id><link rel='self' href='IntervalBlock/%ld'/>"
                    "<content><IntervalBlock xmlns='http://naesb.org/espi'><interval>"
                    "<duration>86400</duration><start>%ld</start></interval>\n",
                e, e, start);
        for (int i = 0; i < 96; i++, start += 900)
            fprintf(fp, "<IntervalReading><cost>%ld</cost><timePeriod><duration>900</duration>"
                        "<start>%ld</start></timePeriod><value>%d</value></IntervalReading>\n",
                    start % 997, start, i);
        fputs("</IntervalBlock></content><published>2024-01-01T00:00:00Z</published></entry>\n",
              fp);
    }
    fputs("</feed>\n", fp);
    assert_int_equal(fclose(fp), 0);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

static void test_memory_stays_flat_from_5_to_50_mb(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char small[512], big[512];
    snprintf(small, sizeof small, "%s/espi-reader-5mb-%ld.xml", tmp ? tmp : "/tmp", (long)getpid());
    snprintf(big, sizeof big, "%s/espi-reader-50mb-%ld.xml", tmp ? tmp : "/tmp", (long)getpid());
    write_feed(small, 5);
    write_feed(big, 50);

    tctx *t = tctx_new();
    espi_read_stats st;
    assert_int_equal(read_file(small, t, NULL, &st, NULL), 0);
    long rss_small = max_rss_kb();
    long small_readings = t->readings;
    free(t);

    t = tctx_new();
    assert_int_equal(read_file(big, t, NULL, &st, NULL), 0);
    long rss_big = max_rss_kb();
    assert_true(t->readings > 9 * small_readings);
    assert_int_equal(st.interval_readings, t->readings);
    assert_true(st.bytes >= 50ULL * 1024 * 1024);
    assert_true(t->progress_calls >= 45);
    assert_int_equal(t->progress_bad, 0);
    print_message("max RSS after 5 MB: %ld kB, after 50 MB: %ld kB\n", rss_small, rss_big);
    assert_true(rss_big - rss_small < 8 * 1024);
    free(t);
    unlink(small);
    unlink(big);
}


/* ---- The parser thread ---------------------------------------------------- */

/* Files of 4 MiB or more are parsed on a second thread; what the callbacks
 * see must be what a single-thread read of the same bytes sees: the same
 * resources, the same diagnostics at the same lines, the same stop. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    assert_true(n > 0);
    rewind(fp);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void expect_same_reads(const char *path, const char *buf, size_t len, int stop_after)
{
    tctx *a = tctx_new(), *b = tctx_new();
    a->stop_after = b->stop_after = stop_after;
    espi_read_stats sa, sb;
    espi_reader_opts o;
    espi_reader_opts_init(&o);
    espi_reader_cbs ca = cbs_for(a), cb = cbs_for(b);
    int ra = espi_read_file(path, &o, &ca, &sa, NULL);
    int rb = espi_read_memory(buf, len, path, &o, &cb, &sb, NULL);
    assert_int_equal(ra, rb);
    assert_int_equal(a->resources, b->resources);
    assert_int_equal(a->readings, b->readings);
    assert_int_equal(a->n_diags, b->n_diags);
    for (int i = 0; i < a->n_diags && i < MAX_DIAGS; i++) {
        assert_string_equal(a->rules[i], b->rules[i]);
        assert_int_equal(a->diag_line[i], b->diag_line[i]);
    }
    assert_int_equal(sa.errors, sb.errors);
    free(a);
    free(b);
}

static void test_parser_thread_reads_like_one_thread(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/espi-reader-thread-%ld.xml", tmp ? tmp : "/tmp",
             (long)getpid());
    write_feed(path, 6);
    size_t len;
    char *buf = slurp(path, &len);
    expect_same_reads(path, buf, len, 0);      /* valid */
    expect_same_reads(path, buf, len, 1000);   /* a callback stops the read midway */

    /* a schema error (a value that is no integer) near the end, then the
     * document cut short: one more error each (SCHEMA-003, XML-001) */
    espi_read_stats st;
    tctx *t = tctx_new();
    assert_int_equal(read_file(path, t, NULL, &st, NULL), 0);
    long base = st.errors; /* write_feed's entries lack what the schema wants */
    free(t);
    char *late = strstr(buf + len - 200000, "<value>");
    assert_non_null(late);
    late[7] = 'x';
    spit(path, buf, len - 1000);
    expect_same_reads(path, buf, len - 1000, 0);
    t = tctx_new();
    assert_int_equal(read_file(path, t, NULL, &st, NULL), EG_EDATA);
    assert_true(st.errors >= base + 1); /* XML-001 ends it, after SCHEMA-003 */
    free(t);
    free(buf);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_have_the_documented_resource_counts),
        cmocka_unit_test(test_15min_sample_fields),
        cmocka_unit_test(test_usage_data_01_summaries_and_qualities),
        cmocka_unit_test(test_application_information_entry),
        cmocka_unit_test(test_authorization_feed),
        cmocka_unit_test(test_official_xsd_runs_in_the_same_pass),
        cmocka_unit_test(test_entry_root_with_content_before_links),
        cmocka_unit_test(test_bare_roots_have_no_entry),
        cmocka_unit_test(test_several_blocks_in_one_content_share_the_entry),
        cmocka_unit_test(test_usage_summary_line_items),
        cmocka_unit_test(test_billion_laughs_is_refused_without_expansion),
        cmocka_unit_test(test_external_entities_are_refused),
        cmocka_unit_test(test_malformed_xml_reports_line_and_column),
        cmocka_unit_test(test_hostile_input_prints_nothing_on_stderr),
        cmocka_unit_test(test_missing_file_is_noinput),
        cmocka_unit_test(test_deep_nesting_is_limited),
        cmocka_unit_test(test_huge_text_node_is_limited),
        cmocka_unit_test(test_block_readings_are_capped),
        cmocka_unit_test(test_parser_thread_reads_like_one_thread),
        cmocka_unit_test(test_callback_stop_ends_the_read_quietly),
        cmocka_unit_test(test_read_io_in_small_pieces_and_io_errors),
        cmocka_unit_test(test_memory_stays_flat_from_5_to_50_mb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
