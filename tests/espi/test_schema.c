/* test_schema.c -- the schema checker, driven through its event API.
 *
 * No XML parser here: each test plays start/text/end events as a reader
 * would and asserts the exact rule ids (and their count) the checker
 * reports.  Agreement with the official XSDs on whole files is the job of
 * test_differential.sh; these tests pin down the boundaries (Int48 limits,
 * maxLength in characters, link runs, ...) and the messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "schema.h"

#define ESPI "http://naesb.org/espi"
#define CUST "http://naesb.org/espi/customer"
#define ATOM "http://www.w3.org/2005/Atom"
#define XSI "http://www.w3.org/2001/XMLSchema-instance"
#define XMLNS_XML "http://www.w3.org/XML/1998/namespace"

#define MAX_SEEN 64

typedef struct seen {
    int n;
    char rule[MAX_SEEN][16];
    char msg[MAX_SEEN][640];
    long line[MAX_SEEN];
} seen;

static void collect(void *ctx, const espi_diag *d)
{
    seen *s = ctx;
    assert_int_equal(d->severity, ESPI_SEV_ERROR);
    assert_string_equal(d->file, "t.xml");
    if (s->n < MAX_SEEN) {
        snprintf(s->rule[s->n], sizeof s->rule[0], "%s", d->rule);
        snprintf(s->msg[s->n], sizeof s->msg[0], "%s", d->msg);
        s->line[s->n] = d->line;
    }
    s->n++;
}

typedef struct fixture {
    espi_schema_checker *c;
    seen s;
    long line; /* each event gets the next line number */
} fixture;

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof f);
    f.c = espi_schema_checker_new("t.xml", collect, &f.s);
    assert_non_null(f.c);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    espi_schema_checker_free(f->c);
    return 0;
}

/* ---- event helpers ------------------------------------------------------- */

static void open_a(fixture *f, const char *ns, const char *local, const espi_schema_attr *a, int n)
{
    espi_schema_start(f->c, ns, local, a, n, ++f->line, 1);
}
static void open_e(fixture *f, const char *ns, const char *local) { open_a(f, ns, local, NULL, 0); }
static void text(fixture *f, const char *t) { espi_schema_text(f->c, t, f->line, 2); }
static void close_e(fixture *f) { espi_schema_end(f->c, ++f->line, 1); }
static void leaf(fixture *f, const char *ns, const char *local, const char *value)
{
    open_e(f, ns, local);
    if (value) text(f, value);
    close_e(f);
}

/* One espi child with a value inside a resource. */
static void one_value(fixture *f, const char *resource, const char *child, const char *value)
{
    open_e(f, ESPI, resource);
    leaf(f, ESPI, child, value);
    close_e(f);
}

static void expect_rules(const fixture *f, int n, ...)
{
    va_list ap;
    int i;
    if (f->s.n != n) {
        for (i = 0; i < f->s.n && i < MAX_SEEN; i++)
            print_message("  got %s: %s\n", f->s.rule[i], f->s.msg[i]);
    }
    assert_int_equal(f->s.n, n);
    assert_int_equal(espi_schema_error_count(f->c), n);
    va_start(ap, n);
    for (i = 0; i < n; i++) assert_string_equal(f->s.rule[i], va_arg(ap, const char *));
    va_end(ap);
}

/* ---- sequences ------------------------------------------------------------ */

static void test_schema_reading_type_in_order_is_valid(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "ReadingType");
    text(f, "\n  ");
    leaf(f, ESPI, "accumulationBehaviour", "4");
    leaf(f, ESPI, "commodity", "1");
    leaf(f, ESPI, "intervalLength", "900");
    leaf(f, ESPI, "uom", "72");
    open_e(f, ESPI, "argument");
    leaf(f, ESPI, "numerator", " -12345678901234567890123 ");
    leaf(f, ESPI, "denominator", "anything");
    close_e(f);
    close_e(f);
    expect_rules(f, 0);
}

static void test_schema_swapped_children_are_schema_001(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "ReadingType");
    leaf(f, ESPI, "commodity", "1");
    leaf(f, ESPI, "accumulationBehaviour", "4");
    close_e(f);
    expect_rules(f, 1, "SCHEMA-001");
    assert_non_null(strstr(f->s.msg[0], "'accumulationBehaviour' not expected in ReadingType"));
    assert_non_null(strstr(f->s.msg[0], "expected one of: consumptionTier, currency"));
    assert_int_equal(f->s.line[0], 4);
}

/* With stable names (the reader's libxml2 dictionary strings) a name that
 * matched a particle before is recognised by its pointer: same verdicts. */
static void test_schema_stable_names_give_the_same_verdicts(void **state)
{
    fixture *f = *state;
    espi_schema_names_stable(f->c);
    for (int pass = 0; pass < 2; pass++) { /* the second pass matches by pointer */
        open_e(f, ESPI, "ReadingType");
        leaf(f, ESPI, "accumulationBehaviour", "4");
        leaf(f, ESPI, "commodity", "1");
        close_e(f);
    }
    expect_rules(f, 0);
    open_e(f, ESPI, "ReadingType"); /* seen names, out of order: still SCHEMA-001 */
    leaf(f, ESPI, "commodity", "1");
    leaf(f, ESPI, "accumulationBehaviour", "4");
    close_e(f);
    expect_rules(f, 1, "SCHEMA-001");
}

static void test_schema_capitalised_service_delivery_point_names_what_comes_next(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "UsagePoint");
    open_e(f, ESPI, "ServiceCategory");
    leaf(f, ESPI, "kind", "0");
    close_e(f);
    open_e(f, ESPI, "ServiceDeliveryPoint");
    leaf(f, ESPI, "name", "x"); /* skipped with its parent: no second report */
    close_e(f);
    close_e(f);
    expect_rules(f, 1, "SCHEMA-001");
    assert_non_null(strstr(f->s.msg[0], "element 'ServiceDeliveryPoint' not expected in UsagePoint; "
                                        "expected one of: status, serviceDeliveryPoint, "));
}

static void test_schema_missing_kind_at_end_is_schema_002(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "UsagePoint");
    open_e(f, ESPI, "ServiceCategory");
    text(f, "   ");
    close_e(f);
    close_e(f);
    expect_rules(f, 1, "SCHEMA-002");
    assert_non_null(strstr(f->s.msg[0], "required element 'kind' missing in ServiceCategory"));
    assert_int_equal(f->s.line[0], 2); /* reported at the parent's start tag */
}

static void test_schema_missing_dst_offset_before_sibling_is_schema_002(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "LocalTimeParameters");
    leaf(f, ESPI, "dstEndRule", "B40E2000");
    leaf(f, ESPI, "dstStartRule", "360E2000");
    leaf(f, ESPI, "tzOffset", "-18000");
    close_e(f);
    expect_rules(f, 1, "SCHEMA-002");
    assert_non_null(strstr(f->s.msg[0], "'dstOffset' missing in LocalTimeParameters before 'dstStartRule'"));
}

static void test_schema_repeated_single_child_is_schema_001(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "IntervalReading");
    leaf(f, ESPI, "value", "1");
    leaf(f, ESPI, "value", "2");
    close_e(f);
    expect_rules(f, 1, "SCHEMA-001");
}

static void test_schema_child_in_wrong_namespace_is_schema_001(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "UsagePoint");
    open_e(f, ESPI, "ServiceCategory");
    leaf(f, CUST, "kind", "0");
    close_e(f);
    close_e(f);
    expect_rules(f, 1, "SCHEMA-001");
    assert_non_null(strstr(f->s.msg[0], "'cust:kind'"));
}

static void test_schema_program_id_mappings_need_one_mapping(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "ProgramIdMappings");
    close_e(f);
    expect_rules(f, 1, "SCHEMA-002");
}

/* ---- values ---------------------------------------------------------------- */

static void test_schema_int48_boundaries(void **state)
{
    fixture *f = *state;
    one_value(f, "IntervalReading", "value", "140737488355328");
    one_value(f, "IntervalReading", "value", "-140737488355328");
    expect_rules(f, 0);
    one_value(f, "IntervalReading", "value", "140737488355329");
    one_value(f, "IntervalReading", "value", "-140737488355329");
    one_value(f, "IntervalReading", "value", "1e20");
    expect_rules(f, 3, "SCHEMA-003", "SCHEMA-003", "SCHEMA-003");
    assert_non_null(strstr(f->s.msg[0], "'140737488355329' is not a valid Int48"));
    assert_non_null(strstr(f->s.msg[0], "-140737488355328..140737488355328"));
}

static void test_schema_time_type_is_int64(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "DateTimeInterval");
    leaf(f, ESPI, "duration", "4294967295");
    leaf(f, ESPI, "start", "-9223372036854775808");
    close_e(f);
    open_e(f, ESPI, "DateTimeInterval");
    leaf(f, ESPI, "duration", "4294967296");
    leaf(f, ESPI, "start", "9223372036854775808");
    close_e(f);
    expect_rules(f, 2, "SCHEMA-003", "SCHEMA-003");
}

static void test_schema_value_in_pieces_is_joined(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "IntervalReading");
    open_e(f, ESPI, "value");
    text(f, "14073748835");
    text(f, "5329");
    close_e(f);
    close_e(f);
    expect_rules(f, 1, "SCHEMA-003");
}

/* libxml2 (the official-XSD reference) collapses whitespace for the numeric
 * code lists (unions) but not for UInt8/UInt32/Int16/Int48/TimeType, and
 * takes no sign at all on unsigned types. */
static void test_schema_integer_whitespace_and_sign_follow_libxml2(void **state)
{
    fixture *f = *state;
    one_value(f, "ReadingType", "uom", " 72 ");
    one_value(f, "ReadingType", "powerOfTenMultiplier", "\n -3\n");
    one_value(f, "ReadingType", "tou", "+1");
    one_value(f, "ReadingType", "intervalLength", "0003600");
    expect_rules(f, 0);
    one_value(f, "ReadingType", "intervalLength", " 3600 ");
    one_value(f, "ReadingType", "intervalLength", "+3600");
    one_value(f, "ReadingType", "uom", "-0");
    one_value(f, "ReadingType", "uom", "65536");
    expect_rules(f, 4, "SCHEMA-003", "SCHEMA-003", "SCHEMA-003", "SCHEMA-003");
}

static void test_schema_numeric_code_lists_accept_any_in_range_value(void **state)
{
    fixture *f = *state;
    one_value(f, "ReadingType", "phase", "12345");
    one_value(f, "ReadingType", "kind", "65535");
    expect_rules(f, 0);
}

static void test_schema_uint8_status_300_is_out_of_range(void **state)
{
    fixture *f = *state;
    one_value(f, "UsagePoint", "status", "255");
    expect_rules(f, 0);
    one_value(f, "UsagePoint", "status", "300");
    expect_rules(f, 1, "SCHEMA-003");
    assert_non_null(strstr(f->s.msg[0], "UInt8 (expected an integer 0..255"));
}

static void test_schema_boolean_lexical_forms(void **state)
{
    fixture *f = *state;
    one_value(f, "UsagePoint", "checkBilling", " true\n");
    one_value(f, "UsagePoint", "checkBilling", "0");
    expect_rules(f, 0);
    one_value(f, "UsagePoint", "checkBilling", "TRUE");
    one_value(f, "UsagePoint", "checkBilling", "yes");
    expect_rules(f, 2, "SCHEMA-003", "SCHEMA-003");
}

static void test_schema_hex_binary_length_is_in_octets(void **state)
{
    fixture *f = *state;
    one_value(f, "UsagePoint", "roleFlags", "");
    one_value(f, "UsagePoint", "roleFlags", " 0aF1 ");
    expect_rules(f, 0);
    one_value(f, "UsagePoint", "roleFlags", "0aF");
    one_value(f, "UsagePoint", "roleFlags", "0aF123");
    expect_rules(f, 2, "SCHEMA-003", "SCHEMA-004");
}

static void test_schema_max_length_counts_characters_not_bytes(void **state)
{
    fixture *f = *state;
    char v[200] = "";
    int i;
    for (i = 0; i < 32; i++) strcat(v, "\xc3\xa9"); /* 32 x e-acute = 64 bytes */
    one_value(f, "UsagePoint", "servicePriority", v);
    expect_rules(f, 0);
    strcat(v, "x");
    one_value(f, "UsagePoint", "servicePriority", v);
    expect_rules(f, 1, "SCHEMA-004");
    assert_non_null(strstr(f->s.msg[0], "33 characters, longer than String32 allows (32)"));
}

static void test_schema_enumerated_strings_are_exact(void **state)
{
    fixture *f = *state;
    one_value(f, "UsagePoint", "amiBillingReady", "enabled");
    one_value(f, "UsagePoint", "connectionState", "logicallyDisconnected");
    expect_rules(f, 0);
    one_value(f, "UsagePoint", "amiBillingReady", " enabled");
    expect_rules(f, 1, "SCHEMA-003");
    assert_non_null(strstr(f->s.msg[0], "AmiBillingReadyKind (expected one of: amiCapable, amiDisabled"));
}

static void authorization(fixture *f, const char *grant, const char *token)
{
    open_e(f, ESPI, "Authorization");
    leaf(f, ESPI, "status", "1");
    leaf(f, ESPI, "expires_at", "1600000000");
    leaf(f, ESPI, "grant_type", grant);
    leaf(f, ESPI, "scope", "FB=1_3");
    leaf(f, ESPI, "token_type", token);
    leaf(f, ESPI, "resourceURI", "https://example.com/espi/1_1/resource/Batch/Subscription/1");
    leaf(f, ESPI, "authorizationURI", "https://example.com/espi/1_1/resource/Authorization/1");
    close_e(f);
}

static void test_schema_grant_and_token_types(void **state)
{
    fixture *f = *state;
    authorization(f, "refresh_token", "Bearer");
    expect_rules(f, 0);
    authorization(f, "password", "bearer");
    expect_rules(f, 2, "SCHEMA-003", "SCHEMA-003");
    assert_non_null(strstr(f->s.msg[0], "GrantType"));
    assert_non_null(strstr(f->s.msg[1], "TokenType (expected one of: Bearer)"));
}

static void test_schema_over_long_value_is_reported_not_buffered(void **state)
{
    fixture *f = *state;
    static char chunk[4097];
    int i;
    memset(chunk, '1', 4096);
    open_e(f, ESPI, "IntervalReading");
    open_e(f, ESPI, "value");
    for (i = 0; i < 8; i++) text(f, chunk); /* 32 KiB of digits */
    close_e(f);
    close_e(f);
    expect_rules(f, 1, "SCHEMA-003");
}

static void test_schema_element_inside_simple_type_is_schema_001(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "UsagePoint");
    open_e(f, ESPI, "servicePriority");
    leaf(f, ESPI, "x", "1");
    close_e(f);
    close_e(f);
    expect_rules(f, 1, "SCHEMA-001");
}

/* ---- text ------------------------------------------------------------------ */

static void test_schema_text_in_element_only_content_is_schema_005(void **state)
{
    fixture *f = *state;
    open_e(f, ESPI, "UsagePoint");
    text(f, " \t\r\n");
    text(f, "oops");
    text(f, "again"); /* reported once per element */
    close_e(f);
    expect_rules(f, 1, "SCHEMA-005");
    assert_non_null(strstr(f->s.msg[0], "element-only"));
}

/* ---- Atom ------------------------------------------------------------------ */

static void link_a(fixture *f, const espi_schema_attr *a, int n)
{
    open_a(f, ATOM, "link", a, n);
    close_e(f);
}

static void test_schema_atom_link_attributes(void **state)
{
    fixture *f = *state;
    const espi_schema_attr ok[] = {{"", "href", "/a/b"}, {"", "rel", "self"}, {"", "length", " 5 "},
                                   {XMLNS_XML, "lang", "en-US"}, {XSI, "schemaLocation", "a b"}};
    const espi_schema_attr no_href[] = {{"", "rel", "self"}};
    const espi_schema_attr extra[] = {{"", "href", "x"}, {"", "rel", "up"}, {"", "foo", "1"}};
    const espi_schema_attr zero[] = {{"", "href", "x"}, {"", "rel", "up"}, {"", "length", "0"}};
    const espi_schema_attr foreign[] = {{"", "href", "x"}, {"", "rel", "up"}, {"urn:x", "a", "1"}};
    const espi_schema_attr bad_uri[] = {{"", "href", "%zz"}, {"", "rel", "up"}};
    open_e(f, ATOM, "feed");
    link_a(f, ok, 5);
    expect_rules(f, 0);
    link_a(f, no_href, 1);
    link_a(f, extra, 3);
    link_a(f, zero, 3);
    link_a(f, foreign, 3);
    link_a(f, bad_uri, 2);
    close_e(f);
    expect_rules(f, 5, "SCHEMA-006", "SCHEMA-006", "SCHEMA-003", "SCHEMA-006", "SCHEMA-003");
    assert_non_null(strstr(f->s.msg[0], "required attribute 'href' missing on 'atom:link'"));
}

static void test_schema_feed_children_in_any_order(void **state)
{
    fixture *f = *state;
    const espi_schema_attr l[] = {{"", "href", "x"}, {"", "rel", "self"}};
    open_e(f, ATOM, "feed");
    leaf(f, ATOM, "updated", "2012-10-24T24:00:00Z");
    link_a(f, l, 2);
    leaf(f, ATOM, "title", "t");
    leaf(f, ATOM, "id", "urn:uuid:1");
    leaf(f, ATOM, "id", "urn:uuid:2");
    close_e(f);
    expect_rules(f, 0);
}

static void test_schema_entry_links_come_in_runs_of_two(void **state)
{
    fixture *f = *state;
    const espi_schema_attr l[] = {{"", "href", "x"}, {"", "rel", "self"}};
    open_e(f, ATOM, "entry");
    link_a(f, l, 2);
    link_a(f, l, 2);
    leaf(f, ATOM, "id", "x");
    close_e(f);
    expect_rules(f, 0);
    open_e(f, ATOM, "entry");
    link_a(f, l, 2);
    close_e(f);
    expect_rules(f, 1, "SCHEMA-002");
    open_e(f, ATOM, "entry");
    link_a(f, l, 2);
    leaf(f, ATOM, "id", "x");
    link_a(f, l, 2);
    link_a(f, l, 2);
    close_e(f);
    expect_rules(f, 2, "SCHEMA-002", "SCHEMA-001");
}

static void test_schema_updated_is_strict_date_time(void **state)
{
    fixture *f = *state;
    open_e(f, ATOM, "feed");
    leaf(f, ATOM, "updated", "2012-10-24T00:00:00.25-05:00");
    leaf(f, ATOM, "updated", "2000-02-29T00:00:00");
    expect_rules(f, 0);
    leaf(f, ATOM, "updated", "2012-10-24");
    leaf(f, ATOM, "updated", " 2012-10-24T00:00:00Z");
    leaf(f, ATOM, "updated", "1900-02-29T00:00:00Z");
    leaf(f, ATOM, "updated", "2012-10-24T00:00:00+14:01");
    close_e(f);
    expect_rules(f, 4, "SCHEMA-003", "SCHEMA-003", "SCHEMA-003", "SCHEMA-003");
}

static void test_schema_content_holds_only_global_espi_elements(void **state)
{
    fixture *f = *state;
    open_e(f, ATOM, "entry");
    open_e(f, ATOM, "content");
    text(f, "mixed text is fine");
    leaf(f, ESPI, "MeterReading", NULL);
    leaf(f, ESPI, "ElectricPowerUsageSummary", NULL); /* needs statusTimeStamp */
    open_e(f, CUST, "Customer");
    leaf(f, CUST, "customerName", "A");
    close_e(f);
    expect_rules(f, 1, "SCHEMA-002");
    leaf(f, ESPI, "MeterReadings", NULL);
    leaf(f, "urn:x", "thing", NULL);
    leaf(f, "", "MeterReading", NULL);
    leaf(f, ATOM, "entry", NULL);
    close_e(f);
    close_e(f);
    expect_rules(f, 5, "SCHEMA-002", "SCHEMA-008", "SCHEMA-008", "SCHEMA-008", "SCHEMA-008");
}

static void test_schema_feed_accepts_espi_but_not_unknown_namespaces(void **state)
{
    fixture *f = *state;
    open_e(f, ATOM, "feed");
    leaf(f, ESPI, "MeterReading", NULL);
    leaf(f, "urn:x", "ext", NULL);
    leaf(f, ATOM, "foo", NULL);
    close_e(f);
    expect_rules(f, 2, "SCHEMA-001", "SCHEMA-001");
}

static void test_schema_category_is_empty_and_needs_term(void **state)
{
    fixture *f = *state;
    const espi_schema_attr term[] = {{"", "term", "x"}};
    open_e(f, ATOM, "feed");
    open_a(f, ATOM, "category", term, 1);
    text(f, "t");
    close_e(f);
    open_a(f, ATOM, "category", NULL, 0);
    close_e(f);
    close_e(f);
    expect_rules(f, 2, "SCHEMA-005", "SCHEMA-006");
}

/* ---- roots, anyType, attributes on ESPI elements --------------------------- */

static void test_schema_roots(void **state)
{
    fixture *f = *state;
    open_e(f, ATOM, "entry");
    close_e(f);
    open_e(f, ESPI, "UsagePoint");
    close_e(f);
    open_e(f, CUST, "UsagePoint"); /* customer's UsagePoint: an anyURI */
    text(f, "/x");
    close_e(f);
    expect_rules(f, 0);
    open_e(f, "urn:not-atom", "feed");
    leaf(f, ESPI, "UsagePoint", NULL);
    close_e(f);
    open_e(f, ESPI, "Feed");
    close_e(f);
    expect_rules(f, 2, "SCHEMA-007", "SCHEMA-007");
}

static void test_schema_extension_takes_anything_but_checks_known_globals(void **state)
{
    fixture *f = *state;
    const espi_schema_attr any[] = {{"", "a", "1"}, {"urn:x", "b", "2"}};
    open_e(f, ESPI, "UsagePoint");
    open_a(f, ESPI, "extension", any, 2);
    text(f, "free text");
    open_e(f, "urn:x", "x");
    leaf(f, "", "y", "z");
    close_e(f);
    close_e(f);
    open_e(f, ESPI, "extension");
    open_e(f, ESPI, "ReadingType");
    leaf(f, ESPI, "bogus", NULL);
    close_e(f);
    close_e(f);
    close_e(f);
    expect_rules(f, 1, "SCHEMA-001");
}

static void test_schema_espi_elements_take_no_attributes(void **state)
{
    fixture *f = *state;
    const espi_schema_attr id[] = {{"", "id", "1"}};
    const espi_schema_attr nil[] = {{XSI, "nil", "true"}};
    const espi_schema_attr same_type[] = {{XSI, "type", "espi:MeterReading"}};
    open_a(f, ESPI, "MeterReading", same_type, 1);
    close_e(f);
    expect_rules(f, 0);
    open_a(f, ESPI, "MeterReading", id, 1);
    close_e(f);
    open_a(f, ESPI, "MeterReading", nil, 1);
    close_e(f);
    expect_rules(f, 2, "SCHEMA-006", "SCHEMA-006");
}

static void test_schema_depth_is_capped_and_recovers(void **state)
{
    fixture *f = *state;
    int i;
    open_e(f, ESPI, "UsagePoint");
    for (i = 0; i < 300; i++) open_e(f, ESPI, "extension");
    for (i = 0; i < 300; i++) close_e(f);
    leaf(f, ESPI, "status", "300"); /* still checked after the deep subtree */
    close_e(f);
    expect_rules(f, 2, "SCHEMA-009", "SCHEMA-003");
}

static void test_schema_is_global(void **state)
{
    (void)state;
    assert_true(espi_schema_is_global(ESPI, "UsagePoint"));
    assert_true(espi_schema_is_global(ESPI, "ElectricPowerUsageSummary"));
    assert_true(espi_schema_is_global(ESPI, "UsageSummary"));
    assert_true(espi_schema_is_global(ESPI, "LocalTimeParameters"));
    assert_true(espi_schema_is_global(CUST, "ProgramDateIdMappings"));
    assert_true(espi_schema_is_global(CUST, "Statement"));
    assert_false(espi_schema_is_global(ESPI, "Customer"));
    assert_false(espi_schema_is_global(ESPI, "serviceDeliveryPoint"));
    assert_false(espi_schema_is_global(ATOM, "feed"));
    assert_false(espi_schema_is_global("", "UsagePoint"));
    assert_false(espi_schema_is_global(NULL, "UsagePoint"));
}

static void test_schema_null_is_harmless(void **state)
{
    (void)state;
    espi_schema_checker *c = espi_schema_checker_new("x", NULL, NULL);
    assert_non_null(c);
    espi_schema_start(c, ESPI, "Nope", NULL, 0, 1, 1); /* no callback: still counted */
    espi_schema_end(c, 1, 1);
    espi_schema_end(c, 1, 1); /* unbalanced end is ignored */
    assert_int_equal(espi_schema_error_count(c), 1);
    espi_schema_checker_free(c);
    espi_schema_checker_free(NULL);
    assert_int_equal(espi_schema_error_count(NULL), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_schema_reading_type_in_order_is_valid),
        T(test_schema_swapped_children_are_schema_001),
        T(test_schema_stable_names_give_the_same_verdicts),
        T(test_schema_capitalised_service_delivery_point_names_what_comes_next),
        T(test_schema_missing_kind_at_end_is_schema_002),
        T(test_schema_missing_dst_offset_before_sibling_is_schema_002),
        T(test_schema_repeated_single_child_is_schema_001),
        T(test_schema_child_in_wrong_namespace_is_schema_001),
        T(test_schema_program_id_mappings_need_one_mapping),
        T(test_schema_int48_boundaries),
        T(test_schema_time_type_is_int64),
        T(test_schema_value_in_pieces_is_joined),
        T(test_schema_integer_whitespace_and_sign_follow_libxml2),
        T(test_schema_numeric_code_lists_accept_any_in_range_value),
        T(test_schema_uint8_status_300_is_out_of_range),
        T(test_schema_boolean_lexical_forms),
        T(test_schema_hex_binary_length_is_in_octets),
        T(test_schema_max_length_counts_characters_not_bytes),
        T(test_schema_enumerated_strings_are_exact),
        T(test_schema_grant_and_token_types),
        T(test_schema_over_long_value_is_reported_not_buffered),
        T(test_schema_element_inside_simple_type_is_schema_001),
        T(test_schema_text_in_element_only_content_is_schema_005),
        T(test_schema_atom_link_attributes),
        T(test_schema_feed_children_in_any_order),
        T(test_schema_entry_links_come_in_runs_of_two),
        T(test_schema_updated_is_strict_date_time),
        T(test_schema_content_holds_only_global_espi_elements),
        T(test_schema_feed_accepts_espi_but_not_unknown_namespaces),
        T(test_schema_category_is_empty_and_needs_term),
        T(test_schema_roots),
        T(test_schema_extension_takes_anything_but_checks_known_globals),
        T(test_schema_espi_elements_take_no_attributes),
        T(test_schema_depth_is_capped_and_recovers),
        cmocka_unit_test(test_schema_is_global),
        cmocka_unit_test(test_schema_null_is_harmless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
