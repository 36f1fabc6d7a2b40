/* test_edi867.c -- edi867.c on the shipped samples (exact kWh per channel,
 * the 25-hour fall-back day by order of generic CT times, the 23-hour
 * spring day with explicit CS/CD codes and a gap, estimated counts,
 * UsageSummaries from PTD*SU), and bad content in strict and lenient mode
 * with its "file:segment N (SEG)" positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "edi867.h"

#define MAX_READINGS 1024

typedef struct collected {
    tr_channel ch[TR_MAX_CHANNELS];
    int n_ch;
    tr_reading r[MAX_READINGS];
    int n;
    tr_bill bills[16];
    int n_bills;
    tr_skip skips[32];
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
    if (k->n_skips < 32) k->skips[k->n_skips++] = *s;
    return 0;
}

static int on_bill(void *ctx, const tr_bill *b, eg_err *err)
{
    collected *k = ctx;
    (void)err;
    if (k->n_bills < 16) k->bills[k->n_bills++] = *b;
    return 0;
}

typedef struct fixture {
    tr_tz *tz;
    collected *k;
    tr_summary sum;
    tr_sink inner, sink;
    tr_options opts;
    eg_err err;
    char msg[EG_ERR_MSG_MAX + 64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    eg_err err;
    assert_non_null(f);
    f->tz = tr_tz_load("America/Chicago", NULL, &err);
    assert_non_null(f->tz);
    f->k = calloc(1, sizeof *f->k);
    f->inner = (tr_sink){f->k, on_channel, on_reading, on_skip, on_bill};
    tr_summary_init(&f->sum, f->tz, &f->inner, &f->sink);
    f->opts = (tr_options){f->tz, 0};
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

static int run_stream(fixture *f, FILE *in, const char *name)
{
    eg_err_clear(&f->err);
    int rc = tr_edi867_read(in, name, &f->opts, &f->sink, &f->err);
    eg_err_format(&f->err, f->msg, sizeof f->msg);
    return rc;
}

static int run_sample(fixture *f, const char *file)
{
    char path[1024];
    const char *src = getenv("ESPIGATE_SRC");
    snprintf(path, sizeof path, "%s/samples/edi867/%s", src ? src : "../..", file);
    FILE *in = fopen(path, "rb");
    if (!in) fail_msg("cannot open %s", path);
    int rc = run_stream(f, in, file);
    fclose(in);
    return rc;
}

/* One ST*867 transaction around body (segments joined by '~'), with the
 * envelope and SE01 counted right. */
static int run_body(fixture *f, const char *body)
{
    char text[8192];
    int segs = 2;
    for (const char *p = body; *p; p++) segs += *p == '~';
    snprintf(text, sizeof text,
             "ISA*00*          *00*          *ZZ*S              *ZZ*R              *231107*1200*"
             "U*00401*000000001*0*P*>~GS*PT*S*R*20231107*1200*1*X*004010~ST*867*0001~%s"
             "SE*%d*0001~GE*1*1~IEA*1*000000001~", body, segs);
    FILE *in = fmemopen(text, strlen(text), "r");
    assert_non_null(in);
    int rc = run_stream(f, in, "t.x12");
    fclose(in);
    return rc;
}

static void expect_msg(fixture *f, const char *want)
{
    if (!strstr(f->msg, want)) fail_msg("message \"%s\" (wanted \"%s\")", f->msg, want);
}

static int64_t total(const fixture *f, int ch)
{
    return f->sum.ch[ch].total;
}

/* ---- samples ------------------------------------------------------------------- */

static void test_edi867_monthly_sample_exact_totals_and_summaries(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "monthly_2023-11_to_2024-01.x12"), 0);
    assert_int_equal(f->k->n_ch, 2);
    assert_string_equal(f->k->ch[0].usage_point, "edi867:10443720000000001");
    assert_int_equal(total(f, 0), 3049000); /* Wh: samples/edi867/README.md */
    assert_int_equal(total(f, 1), 3239000);
    assert_int_equal(f->sum.ch[0].estimated, 1);
    assert_int_equal(f->k->n_bills, 6);
    assert_int_equal(f->sum.bill_consumption, 3049000 + 3239000);
    /* periods are read date to read date, local midnights: Nov 1 CDT .. Dec 1 CST */
    assert_int_equal(f->k->bills[0].start, 1698814800);
    assert_int_equal(f->k->bills[0].duration, 30 * 86400 + 3600);
    assert_true(f->k->bills[0].peak_demand > 0);
    assert_int_equal(f->k->n_skips, 0); /* MEA reads agree with the quantities */
}

static void test_edi867_fall_back_day_has_25_hours_by_order(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "interval_hourly_2023-11-04_to_2023-11-06_fall_dst.x12"), 0);
    assert_int_equal(f->k->n_ch, 2);
    assert_int_equal(f->k->ch[0].flow_direction, ESPI_FLOW_FORWARD);
    assert_int_equal(f->k->ch[1].flow_direction, ESPI_FLOW_REVERSE);
    assert_int_equal(f->sum.ch[0].readings, 73);
    assert_int_equal(total(f, 0), 89292);
    assert_int_equal(total(f, 1), 4196);
    assert_int_equal(f->sum.ch[0].estimated, 2);
    assert_int_equal(f->sum.ch[0].dst_days, 1);
    assert_int_equal(f->sum.ch[0].gaps, 0);
    /* readings 24 and 25 (0-based) both end at "0100 CT": 06:00Z then 07:00Z */
    assert_int_equal(f->k->r[24].start + f->k->r[24].duration, 1699164000);
    assert_int_equal(f->k->r[25].start + f->k->r[25].duration, 1699167600);
    for (int i = 1; i < 73; i++) assert_int_equal(f->k->r[i].start, f->k->r[i - 1].start + 3600);
}

static void test_edi867_spring_day_explicit_codes_and_gap(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_sample(f, "interval_15min_2023-03-11_to_2023-03-13_spring_dst.x12"), 0);
    assert_int_equal(f->k->n_ch, 1);
    assert_int_equal(f->sum.ch[0].readings, 276);
    assert_int_equal(total(f, 0), 130216);
    assert_int_equal(f->sum.ch[0].estimated, 4);
    assert_int_equal(f->sum.ch[0].gaps, 1);
    assert_int_equal(f->sum.ch[0].gap_seconds, 7200);
    assert_int_equal(f->sum.ch[0].dst_days, 1);
    assert_int_equal(f->k->ch[0].interval_length, 900);
}

/* ---- content problems ------------------------------------------------------------ */

#define HDR "BPT*00*X*20231107*C1~REF*Q5*123~"

static void test_edi867_generic_code_must_match_the_zone(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_body(f, HDR "PTD*PM~DTM*150*20231104*0000*ET~"), EG_EDATA);
    expect_msg(f, "t.x12:segment 7 (DTM): DTM*150 time code ET (Eastern time, UTC-5 in winter) "
                  "does not match the zone America/Chicago");
}

static void test_edi867_explicit_codes_are_exact(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_body(f, HDR "PTD*PM~DTM*150*20231105*0100*CD~QTY*QD*1*KH~"
                                     "DTM*582*20231105*0100*CS~"), 0);
    assert_int_equal(f->k->r[0].start, 1699164000);
    assert_int_equal(f->k->r[0].duration, 3600);
    assert_int_equal(f->k->r[0].value, 1000);
}

static void test_edi867_qty_without_its_dtm(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_body(f, HDR "PTD*PM~DTM*150*20231101*0000*UT~QTY*QD*1*KH~QTY*QD*2*KH~"),
                     EG_EDATA);
    expect_msg(f, "t.x12:segment 9 (QTY): QTY follows a QTY without its DTM*582");
    assert_int_equal(run_body(f, HDR "PTD*PM~DTM*150*20231101*0000*UT~QTY*QD*1*KH~"), EG_EDATA);
    expect_msg(f, "has no DTM*582");
}

static void test_edi867_uneven_interval_is_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_body(f, HDR "PTD*PM~DTM*150*20231101*0000*UT~QTY*QD*1*KH~"
                                     "DTM*582*20231101*0015*UT~QTY*QD*1*KH~DTM*582*20231101*0045*UT~"),
                     EG_EDATA);
    expect_msg(f, "segment 11 (DTM): this interval is 30 minutes long, the loop's first 15");
}

static void test_edi867_bad_quantity_strict_and_lenient(void **state)
{
    fixture *f = *state;
    const char *body = HDR "PTD*PM~DTM*150*20231101*0000*UT~QTY*QD*1,5*KH~DTM*582*20231101*0015*UT~"
                           "QTY*QD*2*KH~DTM*582*20231101*0030*UT~";
    assert_int_equal(run_body(f, body), EG_EDATA);
    expect_msg(f, "t.x12:segment 8 (QTY): QTY02 \"1,5\" is not a decimal number");
    f->opts.lenient = 1;
    memset(f->k, 0, sizeof *f->k);
    tr_summary_init(&f->sum, f->tz, &f->inner, &f->sink);
    assert_int_equal(run_body(f, body), 0);
    assert_int_equal(f->k->n, 1);           /* the bad one skipped, the gap stays a gap */
    assert_int_equal(f->k->r[0].start, 1698797700);
    assert_int_equal(f->sum.ch[0].first_start, 1698797700);
    assert_int_equal(f->k->r[0].duration, 900);
    assert_int_equal(f->k->n_skips, 1);
    assert_int_equal(f->k->skips[0].kind, TR_SKIP_BAD_ROW);
}

static void test_edi867_cancellation_and_other_sets_are_skipped(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_body(f, "BPT*01*X*20231107*C1~REF*Q5*123~PTD*PM~DTM*150*20231101*0000*UT~"
                                 "QTY*QD*1*KH~DTM*582*20231101*0015*UT~"), 0);
    assert_int_equal(f->k->n, 0); /* a cancellation is reported, not applied */
    assert_int_equal(f->k->n_skips, 1);
    assert_int_equal(f->k->skips[0].kind, TR_SKIP_WARNING);
}

static void test_edi867_ptd_before_ref_and_unknown_loop(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_body(f, "BPT*00*X*20231107*C1~PTD*PM~"), EG_EDATA);
    expect_msg(f, "segment 5 (PTD): PTD before the service point id (expected REF*Q5");
    assert_int_equal(run_body(f, HDR "PTD*ZZ~"), EG_EDATA);
    expect_msg(f, "PTD01 \"ZZ\" is not a loop we read");
}

static void test_edi867_monthly_read_mismatch_is_a_warning(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_body(f, HDR "PTD*SU~DTM*150*20231101~DTM*151*20231201~QTY*QD*100*KH~"
                                     "MEA*AA*PRQ*100*KH*1000*1110*51~"), 0);
    assert_int_equal(f->k->n, 1);
    assert_int_equal(f->k->r[0].value, 100000);
    assert_int_equal(f->k->n_skips, 1);
    assert_int_equal(f->k->skips[0].kind, TR_SKIP_WARNING);
    assert_non_null(strstr(f->k->skips[0].reason, "ending minus beginning read is 110"));
}

static void test_edi867_negative_only_on_net(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_body(f, HDR "PTD*PM~DTM*150*20231101*0000*UT~QTY*QD*-1*KH~"
                                     "DTM*582*20231101*0015*UT~"), EG_EDATA);
    expect_msg(f, "is negative");
    assert_int_equal(run_body(f, HDR "PTD*PM***OZ*NET~DTM*150*20231101*0000*UT~QTY*QD*-1*KH~"
                                     "DTM*582*20231101*0015*UT~"), 0);
    assert_int_equal(f->k->r[f->k->n - 1].value, -1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_edi867_monthly_sample_exact_totals_and_summaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_fall_back_day_has_25_hours_by_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_spring_day_explicit_codes_and_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_generic_code_must_match_the_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_explicit_codes_are_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_qty_without_its_dtm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_uneven_interval_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_bad_quantity_strict_and_lenient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_cancellation_and_other_sets_are_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_ptd_before_ref_and_unknown_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_monthly_read_mismatch_is_a_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edi867_negative_only_on_net, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
