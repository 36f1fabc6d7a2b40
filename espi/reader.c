/* reader.c -- streaming ESPI reader: libxml2 SAX2 push parser -> espi.h model.
 *
 * One pass, constant memory.  libxml2's SAX2 push parser is fed 64 KiB at
 * a time and builds no tree; its callbacks only record events (start tag
 * with its attributes, end tag, a run of text, a comment/PI, a DOCTYPE, an
 * error) into blocks of memory, and the element logic replays the blocks:
 * we keep only a stack of the open elements (namespace + interned local
 * name, capped by opts.max_depth), the text of the current element (capped
 * by opts.max_text), the current Atom entry and the one resource inside
 * its <content>.  Every element start/text/end is also forwarded to our
 * schema checker (schema.h) when asked, and libxml2's XSD validator can be
 * plugged into the same SAX stream (opts.xsd_file, XSD-001).
 *
 * Two threads for large files: espi_read_file on a regular file of
 * RD_THREAD_MIN bytes or more runs libxml2 on a second thread while the
 * calling thread replays (schema, model and every callback stay on the
 * caller's thread, in document order).  Four blocks of RD_BLK bytes
 * circulate between the two, so memory stays bounded; when the caller
 * stops (a callback's code, a fatal finding) the parser thread stops at
 * its next event.  Smaller documents, memory and read-callback sources
 * (an HTTP body) are parsed and replayed on one thread, chunk by chunk.
 *
 * Element names come from the parser's dictionary, so the hot paths
 * compare pointers with names interned once per document (rd_names):
 * IntervalBlock content, >99% of a feed, is mapped without building paths
 * or calling strcmp, and integers are parsed in place.
 *
 * Why callbacks fire at </entry>: Atom child order is free, so <published>
 * and <updated> (and even links) often follow <content>.  The resource is
 * therefore collected while its content streams by and handed out when the
 * entry closes.  Several <IntervalBlock>s may share one <content>: their
 * readings are kept in one buffer, reused from entry to entry (so steady
 * state allocates nothing), and the callback fires once per block.  The
 * buffer is capped by opts.max_block_readings, which therefore bounds both
 * one block and all the blocks of one entry.  A bare resource root (a
 * <UsagePoint> or <BatchList> document) is handed out at its own end tag
 * with entry == NULL.
 *
 * Field mapping is table driven: each resource has a table of paths
 * relative to the resource element ("ServiceCategory/kind",
 * "interharmonic/numerator") with a kind (integer, boolean, string, hex,
 * SummaryMeasurement, DateTimeInterval, list) and the offset of the model
 * field.  A value that does not parse is left absent (ESPI_NONE, "",
 * ESPI_BOOL_NONE): the schema checker reports it, the reader does not
 * report it twice.  Strings longer than the model's buffer are truncated
 * (again the schema checker reports the length).
 *
 * Hardening: XML_PARSE_NONET, never NOENT/DTDLOAD/DTDATTR/HUGE, and a
 * SAX handler with no entity, DTD or tree callbacks.  A DOCTYPE is refused
 * with XML-002 as soon as its name is read, before any internal subset;
 * an undeclared entity reference is an error libxml2 raises, also counted
 * as XML-002.  CDATA sections are merged into text (XML_PARSE_NOCDATA), so
 * the model and the checker see one kind of character data.
 *
 * Positions: each event carries the parser's line when libxml2 raised it
 * -- for a start tag the line its attributes end on, as xmlGetLineNo of a
 * tree node would say; for text the line of its first piece.  Diagnostics
 * about a node use that line and column 0 (unknown); an end tag reports
 * the latest line seen.  XML-001/XSD-001 carry the line and column
 * libxml2 reports. */
#include "reader.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/SAX2.h>
#include <libxml/catalog.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>

#include "schema.h"

#define RD_PATH_MAX 256
#define RD_PROGRESS_STEP (1024ULL * 1024ULL)
#define RD_MAX_ATTRS 256
#define RD_CHUNK (64 * 1024)      /* bytes handed to the push parser at a time */
#define RD_THREAD_MIN (4 * 1024 * 1024) /* files this large parse on a second thread */
#define RD_XML_XSD_URI "https://www.w3.org/2001/03/xml.xsd"

typedef enum rd_ns { RD_NS_OTHER = 0, RD_NS_ATOM, RD_NS_ESPI, RD_NS_CUST } rd_ns;

typedef enum rd_root { RD_ROOT_NONE = 0, RD_ROOT_FEED, RD_ROOT_ENTRY, RD_ROOT_RESOURCE } rd_root;

/* One open element.  local is interned in the reader's dictionary. */
typedef struct rd_frame {
    rd_ns ns;
    const char *local;
} rd_frame;

/* One IntervalBlock of the current entry: a slice of the readings buffer. */
typedef struct rd_block {
    espi_interval interval;
    size_t first, n;
} rd_block;

typedef enum rd_kind { F_INT, F_BOOL, F_STR, F_HEX32, F_MEAS, F_IVAL, F_LIST, F_TIME } rd_kind;

/* A model field reached by a path relative to the resource element. */
typedef struct rd_field {
    const char *path;
    rd_kind kind;
    size_t off;       /* offset of the field in the struct */
    size_t size;      /* F_STR/F_LIST: buffer size of one string */
    size_t count_off; /* F_LIST: offset of the int count */
} rd_field;

typedef struct rd_source rd_source;

/* Element names the hot paths compare, interned in the parser's
 * dictionary: libxml2 hands out every element name from that dictionary,
 * so a name is one of these exactly when the pointers are equal. */
typedef struct rd_names {
    const char *feed, *entry, *link, *content, *id, *title, *published, *updated;
    const char *interval, *IntervalReading, *timePeriod, *duration, *start, *value, *cost,
        *consumptionTier, *tou, *cpp, *ReadingQuality, *quality;
} rd_names;

typedef struct espi_rd {
    rd_names nm;
    const char *last_uri;       /* namespace URI last classified, and its class */
    rd_ns last_ns;
    const char *name;
    espi_reader_opts o;
    const espi_reader_cbs *cbs;
    espi_read_stats *st;
    eg_err *err;
    int rc;                     /* first fatal code, 0 while reading */
    espi_schema_checker *sc;
    long line;                  /* latest node line seen */
    unsigned long long last_progress;
    char generic_msg[256];      /* last unstructured libxml2 message */

    rd_frame *stack;
    int depth, stack_cap;

    char *text;                 /* text of the current element, NUL terminated */
    size_t text_len, text_cap;
    size_t pend_off;            /* text[pend_off..] not yet given to the checker */
    long pend_line;             /* line of that run's first piece */
    int pend;                   /* a run of character data is pending */

    espi_schema_attr attrs[RD_MAX_ATTRS]; /* attributes of the current tag */
    int n_attrs;

    rd_root root;
    espi_feed_head head;
    int head_sent;
    espi_entry entry;
    int entry_depth;            /* 0: not inside an entry */

    espi_resource res;          /* the resource being collected */
    int res_depth;              /* depth of its element; 0: none */
    int res_ignored;            /* a second resource in one content */
    int res_pending;            /* collected, waiting for </entry> */

    espi_interval_reading *readings;
    size_t n_readings, readings_cap;
    espi_interval_reading cur;  /* the IntervalReading being read */
    rd_block *blocks;
    size_t n_blocks, blocks_cap;

    espi_line_item *items;
    size_t n_items, items_cap;

    char *batch_buf;            /* BatchList resources, NUL separated */
    size_t batch_len, batch_cap;
    const char **batch_ptrs;
    size_t n_batch, batch_ptrs_cap;
} espi_rd;

/* ---- Small helpers ---------------------------------------------------- */

/* Grow *buf to hold at least need elements of size elem; 0 or -1. */
static int rd_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) ncap *= 2;
    if (ncap > SIZE_MAX / elem) return -1;
    void *p = realloc(*buf, ncap * elem);
    if (!p) return -1;
    *buf = p;
    *cap = ncap;
    return 0;
}

static int is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copy s without leading/trailing XML whitespace into out (truncating). */
static void copy_trimmed(char *out, size_t size, const char *s)
{
    while (is_xml_space(*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && is_xml_space(s[n - 1])) n--;
    if (n >= size) n = size - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* Parse a decimal integer of n bytes with optional surrounding XML
 * whitespace and sign.  Hot (three times per IntervalReading), so no copy,
 * strlen or strtoll.  Refused like before: empty, 63 characters or more,
 * out of int64_t range, and INT64_MIN (ESPI_NONE). */
static int parse_int_n(const char *s, size_t n, int64_t *out)
{
    while (n > 0 && is_xml_space(*s)) s++, n--;
    while (n > 0 && is_xml_space(s[n - 1])) n--;
    if (n == 0 || n >= 63) return -1;
    size_t i = s[0] == '+' || s[0] == '-';
    if (i == n) return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)((unsigned char)s[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (v > (uint64_t)INT64_MAX) return -1;
    *out = s[0] == '-' ? -(int64_t)v : (int64_t)v;
    return 0;
}

static int parse_int(const char *s, int64_t *out)
{
    return parse_int_n(s, strlen(s), out);
}

/* hexBinary of at most 4 octets (DstRuleType) to uint32. */
static int parse_hex32(const char *s, uint32_t *out)
{
    char buf[16];
    copy_trimmed(buf, sizeof buf, s);
    size_t n = strlen(buf);
    if (n == 0 || n > 8 || n % 2) return -1;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        uint32_t d;
        if (c >= '0' && c <= '9') d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = (uint32_t)(c - 'A' + 10);
        else return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static int parse_bool(const char *s)
{
    char buf[8];
    copy_trimmed(buf, sizeof buf, s);
    if (!strcmp(buf, "true") || !strcmp(buf, "1")) return 1;
    if (!strcmp(buf, "false") || !strcmp(buf, "0")) return 0;
    return ESPI_BOOL_NONE;
}

static int64_t int_or_none(const char *s)
{
    int64_t v;
    return parse_int(s, &v) ? ESPI_NONE : v;
}

static int64_t time_or_none(const char *s)
{
    char buf[64];
    int64_t v;
    copy_trimmed(buf, sizeof buf, s);
    return espi_time_parse(buf, &v) ? ESPI_NONE : v;
}

static int64_t int_or_none_n(const char *s, size_t n)
{
    int64_t v;
    return parse_int_n(s, n, &v) ? ESPI_NONE : v;
}

/* Namespace URIs come from the parser's dictionary too; one cached
 * pointer saves three strcmp per element. */
static rd_ns ns_of(espi_rd *rd, const char *uri)
{
    if (!uri) return RD_NS_OTHER;
    if (uri == rd->last_uri) return rd->last_ns;
    rd_ns ns = RD_NS_OTHER;
    if (!strcmp(uri, ATOM_NS)) ns = RD_NS_ATOM;
    else if (!strcmp(uri, ESPI_NS)) ns = RD_NS_ESPI;
    else if (!strcmp(uri, ESPI_NS_CUSTOMER)) ns = RD_NS_CUST;
    rd->last_uri = uri;
    rd->last_ns = ns;
    return ns;
}

/* ---- Diagnostics ------------------------------------------------------ */

static void rd_diag(espi_rd *rd, const char *rule, espi_severity sev, long line, long col,
                    const char *msg)
{
    if (sev == ESPI_SEV_ERROR && rd->st) rd->st->errors++;
    if (!rd->cbs->diag) return;
    espi_diag d = {rule, sev, rd->name, line, col, msg};
    rd->cbs->diag(rd->cbs->ctx, &d);
}

/* The schema checker reports through here so its errors are counted. */
static void rd_schema_diag(void *ctx, const espi_diag *d)
{
    espi_rd *rd = ctx;
    if (d->severity == ESPI_SEV_ERROR && rd->st) rd->st->errors++;
    if (rd->cbs->diag) rd->cbs->diag(rd->cbs->ctx, d);
}


/* A fatal finding: report it once, remember the code, fill err. */
static int rd_fail(espi_rd *rd, int code, const char *rule, long line, long col,
                   const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int rd_fail(espi_rd *rd, int code, const char *rule, long line, long col,
                   const char *fmt, ...)
{
    if (rd->rc) return rd->rc;
    char msg[EG_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rd_diag(rd, rule, ESPI_SEV_ERROR, line, col, msg);
    eg_errf(rd->err, code, rd->name, line, col, "%s: %s", rule, msg);
    rd->rc = code;
    return code;
}

/* Does the document being parsed have a DOCTYPE?  Used to classify errors
 * libxml2 raises while parsing a DTD or its entities as XML-002. */
static int error_in_dtd(const xmlError *e)
{
    if (e->domain != XML_FROM_PARSER) return 0;
    switch (e->code) {
    case XML_ERR_ENTITY_LOOP:
    case XML_ERR_UNDECLARED_ENTITY:
    case XML_WAR_UNDECLARED_ENTITY:
    case XML_ERR_ENTITY_BOUNDARY:
    case XML_ERR_ENTITY_PE_INTERNAL:
    case XML_ERR_DOCTYPE_NOT_FINISHED:
        return 1;
    default:
        break;
    }
    const xmlParserCtxt *ctxt = e->ctxt;
    if (!ctxt) return 0;
    return ctxt->inSubset || (ctxt->myDoc && (ctxt->myDoc->intSubset || ctxt->myDoc->extSubset));
}

/* A libxml2 error as the parser thread records it (rd_xml_error) for the
 * reading thread to report (rd_xml_report). */
typedef struct rd_xerr {
    int domain, code, level, in_dtd;
    long line, col;
} rd_xerr;

/* libxml2's structured errors: parser errors end the read (XML-001, or
 * XML-002 inside a DTD), XSD validity errors are findings (XSD-001). */
static void rd_xml_report(espi_rd *rd, const rd_xerr *x, const char *message)
{
    char msg[EG_ERR_MSG_MAX];
    copy_trimmed(msg, sizeof msg, message[0] ? message : "unknown libxml2 error");
    long line = x->line, col = x->col;
    if (x->domain == XML_FROM_SCHEMASV || x->domain == XML_FROM_VALID) {
        if (x->level == XML_ERR_WARNING) rd_diag(rd, "XSD-001", ESPI_SEV_WARNING, line, col, msg);
        else rd_diag(rd, "XSD-001", ESPI_SEV_ERROR, line, col, msg);
        return;
    }
    if (x->level == XML_ERR_WARNING) {
        if (!rd->rc) rd_diag(rd, "XML-001", ESPI_SEV_WARNING, line, col, msg);
        return;
    }
    if (x->in_dtd)
        rd_fail(rd, EG_EDATA, "XML-002", line, col,
                "DOCTYPE or entity refused (%s); ESPI feeds need no DTD, remove it", msg);
    else if ((x->code == XML_ERR_DOCUMENT_END || x->code == XML_ERR_DOCUMENT_EMPTY) &&
             rd->root == RD_ROOT_NONE)
        rd_fail(rd, EG_EDATA, "XML-001", line, col,
                "not well-formed XML: the document is empty or has no root element (%s)", msg);
    else if (x->code == XML_ERR_DOCUMENT_END && rd->depth > 0)
        rd_fail(rd, EG_EDATA, "XML-001", line, col,
                "not well-formed XML: the document ends while <%s> is open; is it truncated? (%s)",
                rd->stack[rd->depth].local, msg);
    else
        rd_fail(rd, EG_EDATA, "XML-001", line, col,
                "not well-formed XML: %s; fix the document (is it truncated or not UTF-8?)", msg);
}

/* ---- Resource field tables -------------------------------------------- */

#define FI(p, T, f) {p, F_INT, offsetof(T, f), 0, 0}
#define FT(p, T, f) {p, F_TIME, offsetof(T, f), 0, 0}
#define FB(p, T, f) {p, F_BOOL, offsetof(T, f), 0, 0}
#define FS(p, T, f) {p, F_STR, offsetof(T, f), sizeof(((T *)0)->f), 0}
#define FH(p, T, f) {p, F_HEX32, offsetof(T, f), 0, 0}
#define FM(p, T, f) {p, F_MEAS, offsetof(T, f), 0, 0}
#define FV(p, T, f) {p, F_IVAL, offsetof(T, f), 0, 0}
#define FL(p, T, f, n) {p, F_LIST, offsetof(T, f), sizeof(((T *)0)->f[0]), offsetof(T, n)}
#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static const rd_field up_fields[] = {
    FS("roleFlags", espi_usage_point, role_flags),
    FI("ServiceCategory/kind", espi_usage_point, service_kind),
    FI("status", espi_usage_point, status),
    FS("serviceDeliveryPoint/name", espi_usage_point, sdp_name),
    FS("serviceDeliveryPoint/tariffProfile", espi_usage_point, sdp_tariff_profile),
    FS("serviceDeliveryPoint/customerAgreement", espi_usage_point, sdp_customer_agreement),
    FS("amiBillingReady", espi_usage_point, ami_billing_ready),
    FB("checkBilling", espi_usage_point, check_billing),
    FS("connectionState", espi_usage_point, connection_state),
    FM("estimatedLoad", espi_usage_point, estimated_load),
    FB("grounded", espi_usage_point, grounded),
    FB("isSdp", espi_usage_point, is_sdp),
    FB("isVirtual", espi_usage_point, is_virtual),
    FB("minimalUsageExpected", espi_usage_point, minimal_usage_expected),
    FM("nominalServiceVoltage", espi_usage_point, nominal_service_voltage),
    FS("outageRegion", espi_usage_point, outage_region),
    FI("phaseCode", espi_usage_point, phase_code),
    FM("ratedCurrent", espi_usage_point, rated_current),
    FM("ratedPower", espi_usage_point, rated_power),
    FS("readCycle", espi_usage_point, read_cycle),
    FS("readRoute", espi_usage_point, read_route),
    FS("serviceDeliveryRemark", espi_usage_point, service_delivery_remark),
    FS("servicePriority", espi_usage_point, service_priority),
};

static const rd_field rt_fields[] = {
    FI("accumulationBehaviour", espi_reading_type, accumulation_behaviour),
    FI("commodity", espi_reading_type, commodity),
    FI("consumptionTier", espi_reading_type, consumption_tier),
    FI("currency", espi_reading_type, currency),
    FI("dataQualifier", espi_reading_type, data_qualifier),
    FI("defaultQuality", espi_reading_type, default_quality),
    FI("flowDirection", espi_reading_type, flow_direction),
    FI("intervalLength", espi_reading_type, interval_length),
    FI("kind", espi_reading_type, kind),
    FI("phase", espi_reading_type, phase),
    FI("powerOfTenMultiplier", espi_reading_type, power_of_ten_multiplier),
    FI("timeAttribute", espi_reading_type, time_attribute),
    FI("tou", espi_reading_type, tou),
    FI("uom", espi_reading_type, uom),
    FI("cpp", espi_reading_type, cpp),
    FI("interharmonic/numerator", espi_reading_type, interharmonic.numerator),
    FI("interharmonic/denominator", espi_reading_type, interharmonic.denominator),
    FI("measuringPeriod", espi_reading_type, measuring_period),
    FI("argument/numerator", espi_reading_type, argument.numerator),
    FI("argument/denominator", espi_reading_type, argument.denominator),
};

static const rd_field li_fields[] = {
    FI("amount", espi_line_item, amount),
    FI("rounding", espi_line_item, rounding),
    FI("dateTime", espi_line_item, date_time),
    FS("note", espi_line_item, note),
    FM("measurement", espi_line_item, measurement),
    FI("itemKind", espi_line_item, item_kind),
    FI("unitCost", espi_line_item, unit_cost),
    FV("itemPeriod", espi_line_item, item_period),
};

static const rd_field us_fields[] = {
    FV("billingPeriod", espi_usage_summary, billing_period),
    FI("billLastPeriod", espi_usage_summary, bill_last_period),
    FI("billToDate", espi_usage_summary, bill_to_date),
    FI("costAdditionalLastPeriod", espi_usage_summary, cost_additional_last_period),
    FI("currency", espi_usage_summary, currency),
    FM("overallConsumptionLastPeriod", espi_usage_summary, overall_consumption_last_period),
    FM("currentBillingPeriodOverAllConsumption", espi_usage_summary,
       current_billing_period_overall_consumption),
    FM("currentDayLastYearNetConsumption", espi_usage_summary,
       current_day_last_year_net_consumption),
    FM("currentDayNetConsumption", espi_usage_summary, current_day_net_consumption),
    FM("currentDayOverallConsumption", espi_usage_summary, current_day_overall_consumption),
    FM("peakDemand", espi_usage_summary, peak_demand),
    FM("previousDayLastYearOverallConsumption", espi_usage_summary,
       previous_day_last_year_overall_consumption),
    FM("previousDayNetConsumption", espi_usage_summary, previous_day_net_consumption),
    FM("previousDayOverallConsumption", espi_usage_summary, previous_day_overall_consumption),
    FI("qualityOfReading", espi_usage_summary, quality_of_reading),
    FM("ratchetDemand", espi_usage_summary, ratchet_demand),
    FV("ratchetDemandPeriod", espi_usage_summary, ratchet_demand_period),
    FI("statusTimeStamp", espi_usage_summary, status_time_stamp),
    FI("commodity", espi_usage_summary, commodity),
    FS("tariffProfile", espi_usage_summary, tariff_profile),
    FS("readCycle", espi_usage_summary, read_cycle),
    FS("billingChargeSource/agencyName", espi_usage_summary, billing_charge_source),
};

static const rd_field pq_fields[] = {
    FI("flickerPlt", espi_power_quality_summary, flicker_plt),
    FI("flickerPst", espi_power_quality_summary, flicker_pst),
    FI("harmonicVoltage", espi_power_quality_summary, harmonic_voltage),
    FI("longInterruptions", espi_power_quality_summary, long_interruptions),
    FI("mainsVoltage", espi_power_quality_summary, mains_voltage),
    FI("measurementProtocol", espi_power_quality_summary, measurement_protocol),
    FI("powerFrequency", espi_power_quality_summary, power_frequency),
    FI("rapidVoltageChanges", espi_power_quality_summary, rapid_voltage_changes),
    FI("shortInterruptions", espi_power_quality_summary, short_interruptions),
    FV("summaryInterval", espi_power_quality_summary, summary_interval),
    FI("supplyVoltageDips", espi_power_quality_summary, supply_voltage_dips),
    FI("supplyVoltageImbalance", espi_power_quality_summary, supply_voltage_imbalance),
    FI("supplyVoltageVariations", espi_power_quality_summary, supply_voltage_variations),
    FI("tempOvervoltage", espi_power_quality_summary, temp_overvoltage),
};

static const rd_field lt_fields[] = {
    FH("dstEndRule", espi_local_time_parameters, dst_end_rule),
    FI("dstOffset", espi_local_time_parameters, dst_offset),
    FH("dstStartRule", espi_local_time_parameters, dst_start_rule),
    FI("tzOffset", espi_local_time_parameters, tz_offset),
};

#define AI espi_application_information
static const rd_field ai_fields[] = {
    FS("dataCustodianId", AI, data_custodian_id),
    FI("dataCustodianApplicationStatus", AI, data_custodian_application_status),
    FS("thirdPartyApplicationDescription", AI, third_party_application_description),
    FI("thirdPartyApplicationStatus", AI, third_party_application_status),
    FI("thirdPartyApplicationType", AI, third_party_application_type),
    FI("thirdPartyApplicationUse", AI, third_party_application_use),
    FS("thirdPartyPhone", AI, third_party_phone),
    FS("authorizationServerUri", AI, authorization_server_uri),
    FS("thirdPartyNotifyUri", AI, third_party_notify_uri),
    FS("authorizationServerAuthorizationEndpoint", AI, authorization_server_authorization_endpoint),
    FS("authorizationServerRegistrationEndpoint", AI, authorization_server_registration_endpoint),
    FS("authorizationServerTokenEndpoint", AI, authorization_server_token_endpoint),
    FS("dataCustodianBulkRequestURI", AI, data_custodian_bulk_request_uri),
    FS("dataCustodianResourceEndpoint", AI, data_custodian_resource_endpoint),
    FS("thirdPartyScopeSelectionScreenURI", AI, third_party_scope_selection_screen_uri),
    FS("thirdPartyUserPortalScreenURI", AI, third_party_user_portal_screen_uri),
    FS("client_secret", AI, client_secret),
    FS("logo_uri", AI, logo_uri),
    FS("client_name", AI, client_name),
    FS("client_uri", AI, client_uri),
    FL("redirect_uri", AI, redirect_uri, n_redirect_uri),
    FS("client_id", AI, client_id),
    FS("tos_uri", AI, tos_uri),
    FS("policy_uri", AI, policy_uri),
    FS("software_id", AI, software_id),
    FS("software_version", AI, software_version),
    FI("client_id_issued_at", AI, client_id_issued_at),
    FI("client_secret_expires_at", AI, client_secret_expires_at),
    FL("contacts", AI, contacts, n_contacts),
    FS("token_endpoint_auth_method", AI, token_endpoint_auth_method),
    FL("scope", AI, scope, n_scope),
    FL("grant_types", AI, grant_types, n_grant_types),
    FS("response_types", AI, response_types),
    FS("registration_client_uri", AI, registration_client_uri),
    FS("registration_access_token", AI, registration_access_token),
    FS("dataCustodianScopeSelectionScreenURI", AI, data_custodian_scope_selection_screen_uri),
};
#undef AI

static const rd_field au_fields[] = {
    FV("authorizedPeriod", espi_authorization, authorized_period),
    FV("publishedPeriod", espi_authorization, published_period),
    FI("status", espi_authorization, status),
    FI("expires_at", espi_authorization, expires_at),
    FS("grant_type", espi_authorization, grant_type),
    FS("scope", espi_authorization, scope),
    FS("token_type", espi_authorization, token_type),
    FS("error", espi_authorization, error),
    FS("error_description", espi_authorization, error_description),
    FS("error_uri", espi_authorization, error_uri),
    FS("resourceURI", espi_authorization, resource_uri),
    FS("authorizationURI", espi_authorization, authorization_uri),
    FS("customerResourceURI", espi_authorization, customer_resource_uri),
};

static const rd_field ss_fields[] = {
    FI("currentStatus", espi_service_status_res, current_status),
};

/* SummaryMeasurement / DateTimeInterval members by their element name. */
static void set_measurement(espi_summary_measurement *m, const char *sub, const char *text)
{
    if (!strcmp(sub, "powerOfTenMultiplier")) m->power_of_ten_multiplier = int_or_none(text);
    else if (!strcmp(sub, "timeStamp")) m->time_stamp = int_or_none(text);
    else if (!strcmp(sub, "uom")) m->uom = int_or_none(text);
    else if (!strcmp(sub, "value")) m->value = int_or_none(text);
    else if (!strcmp(sub, "readingTypeRef"))
        copy_trimmed(m->reading_type_ref, sizeof m->reading_type_ref, text);
}

static void set_interval(espi_interval *iv, const char *sub, const char *text)
{
    if (!strcmp(sub, "duration")) iv->duration = int_or_none(text);
    else if (!strcmp(sub, "start")) iv->start = int_or_none(text);
}

static void set_field(const rd_field *f, void *base, const char *sub, const char *text)
{
    char *p = (char *)base + f->off;
    switch (f->kind) {
    case F_INT: *(int64_t *)p = int_or_none(text); break;
    case F_TIME: *(int64_t *)p = time_or_none(text); break;
    case F_BOOL: *(int *)p = parse_bool(text); break;
    case F_STR: copy_trimmed(p, f->size, text); break;
    case F_HEX32: {
        uint32_t v;
        if (!parse_hex32(text, &v)) *(uint32_t *)p = v;
        break;
    }
    case F_MEAS: set_measurement((espi_summary_measurement *)p, sub, text); break;
    case F_IVAL: set_interval((espi_interval *)p, sub, text); break;
    case F_LIST: {
        int *n = (int *)((char *)base + f->count_off);
        if (*n < ESPI_MAX_LIST) copy_trimmed(p + (size_t)*n * f->size, f->size, text);
        if (*n < ESPI_MAX_LIST) (*n)++;
        break;
    }
    }
}

/* Find path in tab and store text there.  Compound kinds (F_MEAS, F_IVAL)
 * match "name/member". */
static void apply_field(const rd_field *tab, size_t n, void *base, const char *path,
                        const char *text)
{
    for (size_t i = 0; i < n; i++) {
        const rd_field *f = &tab[i];
        size_t len = strlen(f->path);
        if (strncmp(path, f->path, len) != 0) continue;
        if (f->kind == F_MEAS || f->kind == F_IVAL) {
            if (path[len] == '/' && !strchr(path + len + 1, '/')) {
                set_field(f, base, path + len + 1, text);
                return;
            }
        } else if (path[len] == '\0') {
            set_field(f, base, "", text);
            return;
        }
    }
}

/* ---- Links and Atom envelope ------------------------------------------ */

static const char *attr_value(const espi_rd *rd, const char *local)
{
    for (int i = 0; i < rd->n_attrs; i++)
        if ((!rd->attrs[i].ns || !rd->attrs[i].ns[0]) && !strcmp(rd->attrs[i].local, local))
            return rd->attrs[i].value;
    return NULL;
}

/* Fill l from the current <link>'s attributes; rel defaults to alternate. */
static void read_link(const espi_rd *rd, espi_link *l)
{
    const char *rel = attr_value(rd, "rel");
    const char *href = attr_value(rd, "href");
    const char *type = attr_value(rd, "type");
    copy_trimmed(l->rel, sizeof l->rel, rel ? rel : "alternate");
    copy_trimmed(l->href, sizeof l->href, href ? href : "");
    copy_trimmed(l->type, sizeof l->type, type ? type : "");
}

static void entry_link(espi_rd *rd)
{
    espi_link l;
    read_link(rd, &l);
    espi_entry *e = &rd->entry;
    if (!strcmp(l.rel, "self")) e->self = l;
    else if (!strcmp(l.rel, "up")) e->up = l;
    else if (!strcmp(l.rel, "related") && e->n_related < ESPI_MAX_RELATED)
        e->related[e->n_related++] = l;
}

static void feed_link(espi_rd *rd)
{
    espi_link l;
    read_link(rd, &l);
    espi_feed_head *h = &rd->head;
    if (!strcmp(l.rel, "self")) h->self = l;
    else if (!strcmp(l.rel, "related") && h->n_related < ESPI_MAX_RELATED)
        h->related[h->n_related++] = l;
}

static int send_head(espi_rd *rd)
{
    if (rd->head_sent) return 0;
    rd->head_sent = 1;
    if (!rd->cbs->feed_head) return 0;
    int rc = rd->cbs->feed_head(rd->cbs->ctx, &rd->head, rd->err);
    if (rc) rd->rc = rc;
    return rc;
}

static void begin_entry(espi_rd *rd)
{
    espi_entry_init(&rd->entry);
    rd->entry.line = rd->line;
    rd->entry_depth = rd->depth;
    rd->res_depth = rd->res_ignored = rd->res_pending = 0;
    rd->res.type = ESPI_RES_UNKNOWN;
    rd->n_readings = rd->n_blocks = 0;
}

/* ---- Resources -------------------------------------------------------- */

static void begin_resource(espi_rd *rd, espi_resource_type t, const char *local)
{
    if (rd->res_pending && !(t == ESPI_RES_INTERVAL_BLOCK && rd->res.type == t)) {
        rd->res_ignored = 1; /* one resource per content; the schema says so */
        rd->res_depth = rd->depth;
        return;
    }
    rd->res_depth = rd->depth;
    rd->res_ignored = 0;
    if (rd->res_pending) return; /* another IntervalBlock of the same entry */
    memset(&rd->res, 0, sizeof rd->res);
    rd->res.type = t;
    espi_resource *r = &rd->res;
    switch (t) {
    case ESPI_RES_USAGE_POINT: espi_usage_point_init(&r->u.usage_point); break;
    case ESPI_RES_READING_TYPE: espi_reading_type_init(&r->u.reading_type); break;
    case ESPI_RES_USAGE_SUMMARY:
        espi_usage_summary_init(&r->u.usage_summary);
        r->u.usage_summary.legacy_name = !strcmp(local, "ElectricPowerUsageSummary");
        rd->n_items = 0;
        break;
    case ESPI_RES_POWER_QUALITY_SUMMARY:
        espi_power_quality_summary_init(&r->u.power_quality_summary);
        break;
    case ESPI_RES_LOCAL_TIME_PARAMETERS:
        espi_local_time_parameters_init(&r->u.local_time_parameters);
        break;
    case ESPI_RES_APPLICATION_INFORMATION:
        espi_application_information_init(&r->u.application_information);
        break;
    case ESPI_RES_AUTHORIZATION: espi_authorization_init(&r->u.authorization); break;
    case ESPI_RES_SERVICE_STATUS: r->u.service_status.current_status = ESPI_NONE; break;
    case ESPI_RES_BATCH_LIST: rd->batch_len = rd->n_batch = 0; break;
    default: break;
    }
}

/* Start of an element inside the resource: repeated structures. */
static int resource_child_start(espi_rd *rd, const rd_frame *f)
{
    int rel = rd->depth - rd->res_depth;
    if (rel != 1) return 0;
    if (rd->res.type == ESPI_RES_INTERVAL_BLOCK) {
        if (rd->n_blocks > 0 && f->local == rd->nm.IntervalReading)
            espi_interval_reading_init(&rd->cur);
        return 0;
    }
    if (rd->res.type == ESPI_RES_USAGE_SUMMARY &&
        !strcmp(f->local, "costAdditionalDetailLastPeriod")) {
        if (rd->n_items >= rd->o.max_line_items)
            return rd_fail(rd, EG_ELIMIT, "XML-004", rd->line, 0,
                           "more than %zu LineItems in one UsageSummary (raise max_line_items)",
                           rd->o.max_line_items);
        if (rd_grow((void **)&rd->items, &rd->items_cap, rd->n_items + 1, sizeof *rd->items))
            return rd_fail(rd, EG_ENOMEM, "XML-004", rd->line, 0, "out of memory for LineItems");
        espi_line_item_init(&rd->items[rd->n_items++]);
    }
    return 0;
}

static int add_reading(espi_rd *rd)
{
    if (rd->n_readings >= rd->o.max_block_readings)
        return rd_fail(rd, EG_ELIMIT, "XML-004", rd->line, 0,
                       "more than %zu IntervalReadings in one entry's IntervalBlocks "
                       "(raise max_block_readings or split the blocks into entries)",
                       rd->o.max_block_readings);
    if (rd->n_readings >= rd->readings_cap &&
        rd_grow((void **)&rd->readings, &rd->readings_cap, rd->n_readings + 1,
                sizeof *rd->readings))
        return rd_fail(rd, EG_ENOMEM, "XML-004", rd->line, 0, "out of memory for readings");
    rd->readings[rd->n_readings++] = rd->cur;
    rd->blocks[rd->n_blocks - 1].n++;
    return 0;
}

static int add_batch_resource(espi_rd *rd, const char *text)
{
    char uri[ESPI_URI_MAX];
    copy_trimmed(uri, sizeof uri, text);
    size_t len = strlen(uri) + 1;
    if (rd->n_batch >= rd->o.max_line_items)
        return rd_fail(rd, EG_ELIMIT, "XML-004", rd->line, 0,
                       "more than %zu resources in one BatchList", rd->o.max_line_items);
    if (rd_grow((void **)&rd->batch_buf, &rd->batch_cap, rd->batch_len + len, 1) ||
        rd_grow((void **)&rd->batch_ptrs, &rd->batch_ptrs_cap, rd->n_batch + 1,
                sizeof *rd->batch_ptrs))
        return rd_fail(rd, EG_ENOMEM, "XML-004", rd->line, 0, "out of memory for BatchList");
    memcpy(rd->batch_buf + rd->batch_len, uri, len);
    rd->batch_len += len;
    rd->n_batch++;
    return 0;
}

/* "a/b/c" of the open elements below the resource element. */
static int resource_path(const espi_rd *rd, int from, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int d = from; d <= rd->depth; d++) { /* hot: once per element, so no printf */
        size_t n = strlen(rd->stack[d].local);
        if (used + n + 2 > size) return -1;
        if (d > from) out[used++] = '/';
        memcpy(out + used, rd->stack[d].local, n);
        used += n;
        out[used] = '\0';
    }
    return 0;
}

/* End of an element inside the resource: store its text in the model. */
/* The same for an IntervalBlock, >99% of a feed's elements: element
 * names compared as interned pointers (rd_names), not as paths.  Maps
 * exactly what the ir_fields paths would: interval/{duration,start},
 * IntervalReading, IntervalReading/{cost,value,consumptionTier,tou,cpp},
 * IntervalReading/timePeriod/{duration,start} and
 * IntervalReading/ReadingQuality/quality. */
static int block_child_end(espi_rd *rd)
{
    const rd_names *nm = &rd->nm;
    int rel = rd->depth - rd->res_depth;
    const char *l = rd->stack[rd->depth].local;
    const char *t = rd->text ? rd->text : "";
    size_t n = rd->text_len;
    if (rel == 1) return l == nm->IntervalReading ? add_reading(rd) : 0;
    const char *up = rd->stack[rd->depth - 1].local;
    if (rel == 2 && up == nm->IntervalReading) {
        espi_interval_reading *c = &rd->cur;
        if (l == nm->value) c->value = int_or_none_n(t, n);
        else if (l == nm->cost) c->cost = int_or_none_n(t, n);
        else if (l == nm->consumptionTier) c->consumption_tier = int_or_none_n(t, n);
        else if (l == nm->tou) c->tou = int_or_none_n(t, n);
        else if (l == nm->cpp) c->cpp = int_or_none_n(t, n);
    } else if (rel == 2 && up == nm->interval) {
        espi_interval *iv = &rd->blocks[rd->n_blocks - 1].interval;
        if (l == nm->duration) iv->duration = int_or_none_n(t, n);
        else if (l == nm->start) iv->start = int_or_none_n(t, n);
    } else if (rel == 3 && rd->stack[rd->depth - 2].local == nm->IntervalReading) {
        if (up == nm->timePeriod) {
            if (l == nm->duration) rd->cur.time_period.duration = int_or_none_n(t, n);
            else if (l == nm->start) rd->cur.time_period.start = int_or_none_n(t, n);
        } else if (up == nm->ReadingQuality && l == nm->quality) {
            int64_t q = int_or_none_n(t, n);
            if (q != ESPI_NONE && rd->cur.n_qualities < ESPI_MAX_QUALITIES)
                rd->cur.qualities[rd->cur.n_qualities++] = q;
        }
    }
    return 0;
}

static int resource_child_end(espi_rd *rd)
{
    char path[RD_PATH_MAX];
    espi_resource *r = &rd->res;
    int first = rd->res_depth + 1;
    if (r->type == ESPI_RES_INTERVAL_BLOCK) return rd->n_blocks ? block_child_end(rd) : 0;
    if (resource_path(rd, first, path, sizeof path)) return 0;
    const char *t = rd->text ? rd->text : "";
    switch (r->type) {
    case ESPI_RES_USAGE_POINT: apply_field(up_fields, NFIELDS(up_fields), &r->u, path, t); break;
    case ESPI_RES_READING_TYPE: apply_field(rt_fields, NFIELDS(rt_fields), &r->u, path, t); break;
    case ESPI_RES_USAGE_SUMMARY: {
        static const char li[] = "costAdditionalDetailLastPeriod/";
        if (!strncmp(path, li, sizeof li - 1)) {
            if (rd->n_items > 0)
                apply_field(li_fields, NFIELDS(li_fields), &rd->items[rd->n_items - 1],
                            path + sizeof li - 1, t);
        } else
            apply_field(us_fields, NFIELDS(us_fields), &r->u, path, t);
        break;
    }
    case ESPI_RES_POWER_QUALITY_SUMMARY:
        apply_field(pq_fields, NFIELDS(pq_fields), &r->u, path, t);
        break;
    case ESPI_RES_LOCAL_TIME_PARAMETERS:
        apply_field(lt_fields, NFIELDS(lt_fields), &r->u, path, t);
        break;
    case ESPI_RES_APPLICATION_INFORMATION:
        apply_field(ai_fields, NFIELDS(ai_fields), &r->u, path, t);
        break;
    case ESPI_RES_AUTHORIZATION: apply_field(au_fields, NFIELDS(au_fields), &r->u, path, t); break;
    case ESPI_RES_SERVICE_STATUS: apply_field(ss_fields, NFIELDS(ss_fields), &r->u, path, t); break;
    case ESPI_RES_BATCH_LIST:
        if (!strcmp(path, "resources")) return add_batch_resource(rd, t);
        break;
    default: break;
    }
    return 0;
}

static int call_resource(espi_rd *rd)
{
    rd->res.entry = rd->entry_depth ? &rd->entry : NULL;
    if (rd->st) rd->st->resources++;
    int rc = rd->cbs->resource ? rd->cbs->resource(rd->cbs->ctx, &rd->res, rd->err) : 0;
    if (rc) rd->rc = rc;
    return rc;
}

/* Hand out the collected resource (one call per IntervalBlock). */
static int emit_resource(espi_rd *rd)
{
    int rc = 0;
    espi_resource *r = &rd->res;
    rd->res_pending = 0;
    switch (r->type) {
    case ESPI_RES_INTERVAL_BLOCK:
        for (size_t i = 0; i < rd->n_blocks && !rc; i++) {
            const rd_block *b = &rd->blocks[i];
            r->u.interval_block.interval = b->interval;
            r->u.interval_block.readings = b->n ? rd->readings + b->first : NULL;
            r->u.interval_block.n_readings = b->n;
            if (rd->st) rd->st->interval_readings += (long)b->n;
            rc = call_resource(rd);
        }
        rd->n_readings = rd->n_blocks = 0;
        return rc;
    case ESPI_RES_USAGE_SUMMARY:
        r->u.usage_summary.line_items = rd->items;
        r->u.usage_summary.n_line_items = rd->n_items;
        break;
    case ESPI_RES_BATCH_LIST: {
        const char *p = rd->batch_buf;
        for (size_t i = 0; i < rd->n_batch; i++) {
            rd->batch_ptrs[i] = p;
            p += strlen(p) + 1;
        }
        r->u.batch_list.resources = rd->batch_ptrs;
        r->u.batch_list.n_resources = rd->n_batch;
        break;
    }
    default: break;
    }
    return call_resource(rd);
}

/* A resource element starts at the current depth (in content or as root). */
static int start_resource_element(espi_rd *rd, const rd_frame *f)
{
    espi_resource_type t = ESPI_RES_UNKNOWN;
    if (f->ns == RD_NS_ESPI) t = espi_resource_from_name(f->local);
    else if (f->ns == RD_NS_CUST) t = ESPI_RES_CUSTOMER;
    if (t == ESPI_RES_UNKNOWN) return 0; /* the schema checker reports it */
    begin_resource(rd, t, f->local);
    if (rd->res_ignored || t != ESPI_RES_INTERVAL_BLOCK) return 0;
    if (!rd->entry_depth) rd->n_readings = rd->n_blocks = 0;
    if (rd->n_blocks >= rd->o.max_block_readings)
        return rd_fail(rd, EG_ELIMIT, "XML-004", rd->line, 0,
                       "more than %zu IntervalBlocks in one entry", rd->o.max_block_readings);
    if (rd_grow((void **)&rd->blocks, &rd->blocks_cap, rd->n_blocks + 1, sizeof *rd->blocks))
        return rd_fail(rd, EG_ENOMEM, "XML-004", rd->line, 0, "out of memory for blocks");
    rd_block *b = &rd->blocks[rd->n_blocks++];
    b->interval.duration = b->interval.start = ESPI_NONE;
    b->first = rd->n_readings;
    b->n = 0;
    return 0;
}

/* ---- Element events ----------------------------------------------------- */

/* local is one of rd->nm's interned names. */
static int is_atom(const rd_frame *f, const char *local)
{
    return f->ns == RD_NS_ATOM && f->local == local;
}

static int on_start(espi_rd *rd)
{
    const rd_frame *f = &rd->stack[rd->depth];
    int d = rd->depth;
    if (d == 1) {
        if (is_atom(f, rd->nm.feed)) rd->root = RD_ROOT_FEED;
        else if (is_atom(f, rd->nm.entry)) {
            rd->root = RD_ROOT_ENTRY;
            begin_entry(rd);
        } else {
            rd->root = RD_ROOT_RESOURCE;
            return start_resource_element(rd, f);
        }
        return 0;
    }
    if (rd->res_depth && d > rd->res_depth) {
        if (rd->res_ignored || rd->res.type == ESPI_RES_CUSTOMER) return 0;
        return resource_child_start(rd, f);
    }
    if (rd->root == RD_ROOT_FEED && d == 2) {
        if (is_atom(f, rd->nm.entry)) {
            int rc = send_head(rd);
            if (rc) return rc;
            begin_entry(rd);
        } else if (is_atom(f, rd->nm.link))
            feed_link(rd);
        return 0;
    }
    if (rd->entry_depth && d == rd->entry_depth + 1 && is_atom(f, rd->nm.link)) entry_link(rd);
    else if (rd->entry_depth && d == rd->entry_depth + 2 &&
             is_atom(&rd->stack[d - 1], rd->nm.content))
        return start_resource_element(rd, f);
    return 0;
}

static void on_entry_child_end(espi_rd *rd, const rd_frame *f)
{
    espi_entry *e = &rd->entry;
    const char *t = rd->text ? rd->text : "";
    if (f->ns != RD_NS_ATOM) return;
    if (f->local == rd->nm.id) copy_trimmed(e->id, sizeof e->id, t);
    else if (f->local == rd->nm.title) copy_trimmed(e->title, sizeof e->title, t);
    else if (f->local == rd->nm.published) e->published = time_or_none(t);
    else if (f->local == rd->nm.updated) e->updated = time_or_none(t);
}

static void on_feed_child_end(espi_rd *rd, const rd_frame *f)
{
    espi_feed_head *h = &rd->head;
    const char *t = rd->text ? rd->text : "";
    if (f->ns != RD_NS_ATOM) return;
    if (f->local == rd->nm.id) copy_trimmed(h->id, sizeof h->id, t);
    else if (f->local == rd->nm.title) copy_trimmed(h->title, sizeof h->title, t);
    else if (f->local == rd->nm.updated) h->updated = time_or_none(t);
}

static int on_end(espi_rd *rd)
{
    int d = rd->depth, rc = 0;
    const rd_frame *f = &rd->stack[d];
    if (rd->res_depth && d > rd->res_depth) {
        if (!rd->res_ignored && rd->res.type != ESPI_RES_CUSTOMER) rc = resource_child_end(rd);
    } else if (rd->res_depth && d == rd->res_depth) {
        rd->res_depth = 0;
        if (rd->res_ignored) rd->res_ignored = 0;
        else if (!rd->entry_depth) rc = emit_resource(rd);
        else rd->res_pending = 1;
    } else if (rd->entry_depth && d == rd->entry_depth) {
        if (rd->st) rd->st->entries++;
        if (rd->res_pending) rc = emit_resource(rd);
        rd->entry_depth = 0;
    } else if (rd->entry_depth && d == rd->entry_depth + 1) {
        on_entry_child_end(rd, f);
    } else if (rd->root == RD_ROOT_FEED && d == 2) {
        on_feed_child_end(rd, f);
    } else if (rd->root == RD_ROOT_FEED && d == 1) {
        rc = send_head(rd);
    }
    rd->text_len = 0;
    if (rd->text) rd->text[0] = '\0';
    return rc;
}

/* ---- Events: what the parser saw, in order ------------------------------ */

/* libxml2's SAX callbacks (the producer) do no work of ours: each records
 * an event in a block of memory, and the reading thread (the consumer)
 * replays the blocks through the element logic above.  One event is a
 * 16-byte header and its payload, padded to 8 bytes:
 *   EV_START  local and uri pointers (parser dictionary), then n
 *             attributes (local, uri pointers; NUL-terminated value)
 *   EV_END    nothing
 *   EV_TEXT   len bytes of character data (one SAX piece)
 *   EV_MARK   a comment or PI: ends a text node
 *   EV_DOCTYPE its name, NUL-terminated
 *   EV_XMLERR an rd_xerr and the message, NUL-terminated
 *   EV_GENERIC an unstructured libxml2 message, NUL-terminated
 *   EV_FED    bytes handed to the parser so far (progress)
 * Names are the dictionary's: they stay valid until the parser context is
 * freed, after the consumer is done. */
enum { EV_START = 1, EV_END, EV_TEXT, EV_MARK, EV_DOCTYPE, EV_XMLERR, EV_GENERIC, EV_FED };

typedef struct rd_ev {
    unsigned type, n;   /* n: EV_START attributes */
    unsigned len;       /* payload bytes before padding */
    int line;           /* the parser's line at the event */
} rd_ev;

#define RD_PAD(n) (((n) + 7u) & ~(size_t)7u)

/* A block of events. */
typedef struct rd_blk {
    char *p;
    size_t len, cap;
} rd_blk;

/* Threaded: RD_QBLOCKS blocks circulate between the two threads, so
 * memory stays bounded (a block grows past RD_BLK only to hold one large
 * event, such as a 1 MiB text). */
#define RD_BLK (256 * 1024)
#define RD_QBLOCKS 4

typedef struct rd_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rd_blk blk[RD_QBLOCKS];
    int full[RD_QBLOCKS];  /* FIFO of blocks to replay */
    int nfull, head;
    int free_[RD_QBLOCKS]; /* blocks the producer may take */
    int nfree;
    int done;              /* the producer has finished */
} rd_queue;

/* The producer: libxml2 and the bytes it is fed.  In threaded mode these
 * fields belong to the parser thread until it is joined. */
typedef struct rd_prod {
    espi_rd *rd;             /* single-thread mode: replay target */
    xmlParserCtxtPtr ctxt;
    const rd_source *src;
    size_t pos;              /* memory sources: bytes taken */
    unsigned long long fed;
    int io_failed;           /* the read callback returned -1 */
    int oom;                 /* an event could not be recorded */
    rd_blk *cur;             /* block being written */
    rd_blk own;              /* single-thread mode: the one block */
    rd_queue *q;             /* threaded mode, else NULL */
    int cur_i;
    atomic_int *stop;        /* set by the consumer: stop parsing */
    int in_error;            /* inside libxml2's error handler: no xmlStopParser */
    int well_formed;         /* at the end */
    long end_line, end_col;
    xmlStructuredErrorFunc caller_serror; /* the caller's libxml2 handlers */
    void *caller_sctx;
    xmlGenericErrorFunc caller_generic;
    void *caller_gctx;
} rd_prod;

static void rd_replay(espi_rd *rd, const rd_blk *b);

/* Threaded: hand the current block over and take a free one. */
static int prod_swap(rd_prod *p)
{
    rd_queue *q = p->q;
    pthread_mutex_lock(&q->mu);
    q->full[(q->head + q->nfull++) % RD_QBLOCKS] = p->cur_i;
    pthread_cond_broadcast(&q->cv);
    while (q->nfree == 0) pthread_cond_wait(&q->cv, &q->mu);
    p->cur_i = q->free_[--q->nfree];
    pthread_mutex_unlock(&q->mu);
    p->cur = &q->blk[p->cur_i];
    p->cur->len = 0;
    return 0;
}

/* Room for an event with a payload of len bytes; NULL when out of memory. */
static rd_ev *ev_new(rd_prod *p, unsigned type, size_t len)
{
    size_t need = sizeof(rd_ev) + RD_PAD(len);
    rd_blk *b = p->cur;
    if (b->len + need > b->cap) {
        if (p->q && b->len > 0) {
            prod_swap(p);
            b = p->cur;
        } else if (!p->q && b->len >= RD_BLK && !p->in_error) {
            rd_replay(p->rd, b); /* single thread: consume now, reuse the block */
            b->len = 0;
            if (p->rd->rc) xmlStopParser(p->ctxt);
        }
        if (b->len + need > b->cap) {
            size_t cap = b->cap ? b->cap : RD_BLK;
            while (cap < b->len + need) cap *= 2;
            char *np = realloc(b->p, cap);
            if (!np) {
                p->oom = 1;
                if (!p->in_error) xmlStopParser(p->ctxt);
                return NULL;
            }
            b->p = np;
            b->cap = cap;
        }
    }
    rd_ev *e = (rd_ev *)(b->p + b->len);
    e->type = type;
    e->n = 0;
    e->len = (unsigned)len;
    e->line = p->ctxt && p->ctxt->input ? p->ctxt->input->line : 0;
    b->len += need;
    return e;
}

static int prod_stopped(rd_prod *p)
{
    if (!atomic_load_explicit(p->stop, memory_order_relaxed)) return 0;
    xmlStopParser(p->ctxt);
    return 1;
}

static void prod_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                       const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                       int nb_attributes, int nb_defaulted, const xmlChar **av)
{
    rd_prod *p = ctx;
    (void)prefix, (void)nb_namespaces, (void)namespaces, (void)nb_defaulted;
    if (prod_stopped(p)) return;
    /* one over the limit is enough for the consumer to refuse the tag */
    int n = nb_attributes > RD_MAX_ATTRS ? RD_MAX_ATTRS + 1 : nb_attributes;
    size_t len = 2 * sizeof(const char *);
    for (int i = 0; i < n; i++)
        len += 2 * sizeof(const char *) + RD_PAD((size_t)(av[i * 5 + 4] - av[i * 5 + 3]) + 1);
    rd_ev *e = ev_new(p, EV_START, len);
    if (!e) return;
    e->n = (unsigned)n;
    char *w = (char *)(e + 1);
    const char *names[2] = {(const char *)localname, (const char *)uri};
    memcpy(w, names, sizeof names);
    w += sizeof names;
    for (int i = 0; i < n; i++, av += 5) {
        size_t vlen = (size_t)(av[4] - av[3]);
        const char *an[2] = {(const char *)av[0], (const char *)av[2]};
        memcpy(w, an, sizeof an);
        w += sizeof an;
        memcpy(w, av[3], vlen);
        w[vlen] = '\0';
        w += RD_PAD(vlen + 1);
    }
}

static void prod_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *uri)
{
    rd_prod *p = ctx;
    (void)localname, (void)prefix, (void)uri;
    if (!prod_stopped(p)) ev_new(p, EV_END, 0);
}

static void prod_chars(void *ctx, const xmlChar *ch, int len)
{
    rd_prod *p = ctx;
    if (prod_stopped(p) || len <= 0) return;
    rd_ev *e = ev_new(p, EV_TEXT, (size_t)len);
    if (e) memcpy(e + 1, ch, (size_t)len);
}

static void prod_mark(rd_prod *p)
{
    if (!prod_stopped(p)) ev_new(p, EV_MARK, 0);
}

static void prod_comment(void *ctx, const xmlChar *value)
{
    (void)value;
    prod_mark(ctx);
}

static void prod_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    (void)target, (void)data;
    prod_mark(ctx);
}

static void ev_string(rd_prod *p, unsigned type, const char *s)
{
    size_t n = strlen(s);
    rd_ev *e = ev_new(p, type, n + 1);
    if (e) memcpy(e + 1, s, n + 1);
}

/* A DOCTYPE: refused (by the consumer) before its internal subset is
 * even parsed. */
static void prod_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                         const xmlChar *system_id)
{
    rd_prod *p = ctx;
    (void)external_id, (void)system_id;
    ev_string(p, EV_DOCTYPE, name ? (const char *)name : "?");
    xmlStopParser(p->ctxt);
}

/* libxml2's structured errors, parser and XSD alike: recorded in order. */
static void prod_xml_error(void *ctx, xmlErrorPtr e)
{
    rd_prod *p = ctx;
    if (p->io_failed) return; /* a consequence of the failed read: EG_EIO */
    const char *m = e->message ? e->message : "";
    size_t n = strlen(m);
    if (n >= EG_ERR_MSG_MAX) n = EG_ERR_MSG_MAX - 1;
    p->in_error = 1;
    rd_ev *ev = ev_new(p, EV_XMLERR, sizeof(rd_xerr) + n + 1);
    p->in_error = 0;
    if (!ev) return;
    rd_xerr x = {e->domain, e->code, e->level, error_in_dtd(e), e->line, e->int2};
    if (x.line <= 0 && p->ctxt && p->ctxt->input) { /* encoding errors carry no position */
        x.line = p->ctxt->input->line;
        x.col = p->ctxt->input->col;
    }
    char *w = (char *)(ev + 1);
    memcpy(w, &x, sizeof x);
    memcpy(w + sizeof x, m, n);
    w[sizeof x + n] = '\0';
}

/* libxml2's unstructured messages (e.g. "xmlParseChunk: encoder error")
 * would go to stderr; the last one goes into the XML-001 message instead. */
static void prod_generic_error(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void prod_generic_error(void *ctx, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rd_prod *p = ctx;
    p->in_error = 1;
    ev_string(p, EV_GENERIC, msg);
    p->in_error = 0;
}

/* ---- Replaying events into the element logic ----------------------------- */

/* Attributes of a start tag (libxml2 passes xmlns declarations apart, so
 * they are not among them); values point into the event. */
static int collect_attrs(espi_rd *rd, unsigned n, const char *w)
{
    size_t total = 0;
    rd->n_attrs = 0;
    for (unsigned i = 0; i < n; i++) {
        const char *an[2];
        memcpy(an, w, sizeof an);
        w += sizeof an;
        size_t len = strlen(w) + 1;
        total += len;
        if (rd->n_attrs >= RD_MAX_ATTRS || total > rd->o.max_text)
            return rd_fail(rd, EG_ELIMIT, "XML-004", rd->line, 0,
                           "start tag has more than %d attributes or %zu bytes of values",
                           RD_MAX_ATTRS, rd->o.max_text);
        espi_schema_attr *a = &rd->attrs[rd->n_attrs++];
        a->local = an[0];
        a->ns = an[1];
        a->value = w;
        w += RD_PAD(len);
    }
    return 0;
}

/* Give the pending run of character data to the schema checker as one
 * piece, as a text node: at the next tag, comment or PI. */
static void flush_text(espi_rd *rd)
{
    if (!rd->pend) return;
    rd->pend = 0;
    if (rd->sc)
        espi_schema_text_n(rd->sc, rd->text + rd->pend_off, rd->text_len - rd->pend_off,
                           rd->pend_line, 0);
}

static void ev_start(espi_rd *rd, const rd_ev *e)
{
    const char *names[2];
    memcpy(names, e + 1, sizeof names);
    flush_text(rd);
    long line = e->line;
    if (line > rd->line) rd->line = line;
    const char *local = names[0] ? names[0] : "";
    const char *ns = names[1];
    if (rd->depth + 1 > rd->o.max_depth) {
        rd_fail(rd, EG_ELIMIT, "XML-003", line, 0,
                "element <%s> is nested deeper than %d levels (raise max_depth)", local,
                rd->o.max_depth);
        return;
    }
    if (rd->depth + 2 > rd->stack_cap) {
        size_t cap = (size_t)rd->stack_cap;
        if (rd_grow((void **)&rd->stack, &cap, (size_t)rd->depth + 2, sizeof *rd->stack)) {
            rd_fail(rd, EG_ENOMEM, "XML-003", line, 0, "out of memory for the element stack");
            return;
        }
        rd->stack_cap = (int)cap;
    }
    if (collect_attrs(rd, e->n, (const char *)(e + 1) + sizeof names)) return;
    rd->depth++;
    rd->stack[rd->depth].ns = ns_of(rd, ns);
    rd->stack[rd->depth].local = local;
    rd->text_len = 0;
    if (rd->text) rd->text[0] = '\0';
    if (rd->sc) espi_schema_start(rd->sc, ns ? ns : "", local, rd->attrs, rd->n_attrs, line, 0);
    on_start(rd);
}

static void ev_end(espi_rd *rd)
{
    flush_text(rd);
    if (rd->sc) espi_schema_end(rd->sc, rd->line, 0);
    on_end(rd);
    rd->depth--;
}

/* Character data (CDATA sections arrive here too, XML_PARSE_NOCDATA),
 * possibly in several pieces: appended to the element's text. */
static void ev_text(espi_rd *rd, const rd_ev *e)
{
    size_t n = e->len;
    if (!rd->pend) {
        rd->pend = 1;
        rd->pend_off = rd->text_len;
        rd->pend_line = e->line;
        if (e->line > rd->line) rd->line = e->line;
    }
    if (n > rd->o.max_text || rd->text_len + n > rd->o.max_text) {
        rd_fail(rd, EG_ELIMIT, "XML-004", rd->pend_line, 0,
                "text of %zu bytes exceeds the limit of %zu (raise max_text)", rd->text_len + n,
                rd->o.max_text);
        return;
    }
    if (rd->text_len + n + 1 > rd->text_cap &&
        rd_grow((void **)&rd->text, &rd->text_cap, rd->text_len + n + 1, 1)) {
        rd_fail(rd, EG_ENOMEM, "XML-004", rd->pend_line, 0, "out of memory for text");
        return;
    }
    memcpy(rd->text + rd->text_len, e + 1, n);
    rd->text_len += n;
    rd->text[rd->text_len] = '\0';
}

/* Progress at most once per RD_PROGRESS_STEP bytes; the total ends up in
 * stats.bytes. */
static void report_progress(espi_rd *rd, unsigned long long fed)
{
    if (rd->st) rd->st->bytes = fed;
    if (!rd->cbs->progress) return;
    if (fed - rd->last_progress >= RD_PROGRESS_STEP) {
        rd->last_progress = fed;
        rd->cbs->progress(rd->cbs->ctx, fed);
    }
}

/* Replay one block.  After a fatal finding (rd->rc) only progress is
 * still taken: the read ends there. */
static void rd_replay(espi_rd *rd, const rd_blk *b)
{
    size_t off = 0;
    while (off < b->len) {
        const rd_ev *e = (const rd_ev *)(b->p + off);
        off += sizeof *e + RD_PAD(e->len);
        if (rd->rc && e->type != EV_FED) continue;
        switch (e->type) {
        case EV_START: ev_start(rd, e); break;
        case EV_END: ev_end(rd); break;
        case EV_TEXT: ev_text(rd, e); break;
        case EV_MARK: flush_text(rd); break;
        case EV_DOCTYPE:
            rd_fail(rd, EG_EDATA, "XML-002", e->line, 0,
                    "DOCTYPE or entity reference '%s' refused; ESPI feeds need no DTD, remove it",
                    (const char *)(e + 1));
            break;
        case EV_XMLERR: {
            rd_xerr x;
            memcpy(&x, e + 1, sizeof x);
            rd_xml_report(rd, &x, (const char *)(e + 1) + sizeof x);
            break;
        }
        case EV_GENERIC:
            copy_trimmed(rd->generic_msg, sizeof rd->generic_msg, (const char *)(e + 1));
            break;
        case EV_FED: {
            unsigned long long fed;
            memcpy(&fed, e + 1, sizeof fed);
            report_progress(rd, fed);
            break;
        }
        default: break;
        }
    }
}

/* ---- Official XSD (libxml2) -------------------------------------------- */

static void xsd_compile_error(void *ctx, xmlErrorPtr e)
{
    char *first = ctx;
    if (first[0] == '\0' && e->message) copy_trimmed(first, EG_ERR_MSG_MAX, e->message);
}

/* Load "catalog.xml" next to the XSD or one folder up, unless the XML
 * namespace schema already resolves (xmlLoadCatalog appends each time). */
static void load_catalog_near(const char *xsd)
{
    xmlChar *known = xmlCatalogResolveURI((const xmlChar *)RD_XML_XSD_URI);
    if (known) {
        xmlFree(known);
        return;
    }
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s", xsd);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else snprintf(dir, sizeof dir, ".");
        snprintf(path, sizeof path, "%s/catalog.xml", dir);
        FILE *fp = fopen(path, "r");
        if (fp) {
            fclose(fp);
            xmlLoadCatalog(path);
            return;
        }
        if (!slash) return;
    }
}

/* The parser's position for XSD-001 findings. */
static int xsd_locate(void *ctx, const char **file, unsigned long *line)
{
    rd_prod *p = ctx;
    if (file) *file = p->ctxt && p->ctxt->input ? p->ctxt->input->filename : NULL;
    if (line) *line = p->ctxt && p->ctxt->input ? (unsigned long)p->ctxt->input->line : 0;
    return 0;
}

/* Compile o.xsd_file into a validation context whose findings come to
 * prod_xml_error.  Caller frees *schema and *vctxt. */
static int xsd_compile(espi_rd *rd, rd_prod *p, xmlSchemaPtr *schema,
                       xmlSchemaValidCtxtPtr *vctxt)
{
    char first[EG_ERR_MSG_MAX] = "";
    int rc = 0;
    load_catalog_near(rd->o.xsd_file);
    xmlExternalEntityLoader old = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(rd->o.xsd_file);
    if (pc) {
        xmlSchemaSetParserStructuredErrors(pc, xsd_compile_error, first);
        *schema = xmlSchemaParse(pc);
        xmlSchemaFreeParserCtxt(pc);
    }
    xmlSetExternalEntityLoader(old);
    if (!*schema) {
        rc = eg_errf(rd->err, EG_ECONFIG, rd->o.xsd_file, 0, 0,
                     "cannot compile XSD: %s", first[0] ? first : "unreadable");
        goto done;
    }
    *vctxt = xmlSchemaNewValidCtxt(*schema);
    if (!*vctxt) {
        rc = eg_errf(rd->err, EG_ENOMEM, rd->o.xsd_file, 0, 0, "out of memory for the XSD");
        goto done;
    }
    xmlSchemaSetValidStructuredErrors(*vctxt, prod_xml_error, p);
    xmlSchemaValidateSetLocator(*vctxt, xsd_locate, p);
done:
    return rc;
}

/* ---- Driver ------------------------------------------------------------ */

static void rd_release(espi_rd *rd)
{
    espi_schema_checker_free(rd->sc);
    free(rd->stack);
    free(rd->text);
    free(rd->readings);
    free(rd->blocks);
    free(rd->items);
    free(rd->batch_buf);
    free(rd->batch_ptrs);
}

#define RD_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA)

/* Where the bytes come from: a memory buffer or a read callback. */
struct rd_source {
    const char *buf;
    size_t len;
    int (*readfn)(void *io, char *buf, int len);
    void *io;
    int threaded;            /* parse on a second thread (large files) */
};

/* Next bytes of the document into buf (at most cap): count, 0 at the end,
 * -1 on a read error (remembered: the read ends with EG_EIO). */
static int rd_fill(rd_prod *p, char *buf, int cap)
{
    const rd_source *src = p->src;
    if (src->readfn) {
        int n = src->readfn(src->io, buf, cap);
        if (n < 0) p->io_failed = 1;
        return n;
    }
    size_t left = src->len - p->pos;
    size_t n = left < (size_t)cap ? left : (size_t)cap;
    if (n) memcpy(buf, src->buf + p->pos, n);
    p->pos += n;
    return (int)n;
}

static void rd_apply_opts(espi_rd *rd, const espi_reader_opts *o)
{
    espi_reader_opts_init(&rd->o);
    if (o) rd->o = *o;
    if (rd->o.max_depth <= 0) rd->o.max_depth = 64;
    if (rd->o.max_text == 0) rd->o.max_text = 1024 * 1024;
    if (rd->o.max_block_readings == 0) rd->o.max_block_readings = 1000000;
    if (rd->o.max_line_items == 0) rd->o.max_line_items = 10000;
}

static const char *rd_intern(xmlParserCtxtPtr ctxt, const char *name)
{
    const char *p = (const char *)xmlDictLookup(ctxt->dict, (const xmlChar *)name, -1);
    return p ? p : ""; /* out of memory: matches nothing the parser hands out */
}

static void rd_intern_names(espi_rd *rd, xmlParserCtxtPtr c)
{
    rd_names *n = &rd->nm;
    n->feed = rd_intern(c, "feed");
    n->entry = rd_intern(c, "entry");
    n->link = rd_intern(c, "link");
    n->content = rd_intern(c, "content");
    n->id = rd_intern(c, "id");
    n->title = rd_intern(c, "title");
    n->published = rd_intern(c, "published");
    n->updated = rd_intern(c, "updated");
    n->interval = rd_intern(c, "interval");
    n->IntervalReading = rd_intern(c, "IntervalReading");
    n->timePeriod = rd_intern(c, "timePeriod");
    n->duration = rd_intern(c, "duration");
    n->start = rd_intern(c, "start");
    n->value = rd_intern(c, "value");
    n->cost = rd_intern(c, "cost");
    n->consumptionTier = rd_intern(c, "consumptionTier");
    n->tou = rd_intern(c, "tou");
    n->cpp = rd_intern(c, "cpp");
    n->ReadingQuality = rd_intern(c, "ReadingQuality");
    n->quality = rd_intern(c, "quality");
}

/* The producer's SAX2 handler: elements, text, comments/PIs (they end a
 * text node), and a DOCTYPE to refuse.  No entity, DTD or tree callbacks:
 * nothing is declared, loaded or built.  Errors come through the
 * structured handler (no serror here, so libxml2 uses the thread's). */
static void rd_sax_init(xmlSAXHandler *sax)
{
    memset(sax, 0, sizeof *sax);
    sax->initialized = XML_SAX2_MAGIC;
    sax->startElementNs = prod_start;
    sax->endElementNs = prod_end;
    sax->characters = prod_chars;
    sax->ignorableWhitespace = prod_chars;
    sax->cdataBlock = prod_chars;
    sax->comment = prod_comment;
    sax->processingInstruction = prod_pi;
    sax->internalSubset = prod_doctype;
}

/* Push the document through the parser, RD_CHUNK bytes at a time, the
 * first n already in buf.  Single-thread mode replays after each chunk. */
static void prod_parse(rd_prod *p, char *buf, int n)
{
    while (n > 0 && !atomic_load(p->stop) && !p->oom) {
        p->fed += (unsigned long long)n;
        int bad = xmlParseChunk(p->ctxt, buf, n, 0) != 0;
        rd_ev *e = ev_new(p, EV_FED, sizeof p->fed);
        if (e) memcpy(e + 1, &p->fed, sizeof p->fed);
        if (!p->q) {
            rd_replay(p->rd, p->cur);
            p->cur->len = 0;
            if (p->rd->rc) atomic_store(p->stop, 1);
        }
        if (bad) break;
        n = rd_fill(p, buf, RD_CHUNK);
    }
    if (!atomic_load(p->stop) && !p->io_failed && !p->oom) {
        xmlParseChunk(p->ctxt, NULL, 0, 1);
        if (!p->q) {
            rd_replay(p->rd, p->cur);
            p->cur->len = 0;
        }
    }
    p->well_formed = p->ctxt->wellFormed;
    p->end_line = p->ctxt->input ? p->ctxt->input->line : 0;
    p->end_col = p->ctxt->input ? p->ctxt->input->col : 0;
}

typedef struct rd_job {
    rd_prod *p;
    char *buf;
    int n;
} rd_job;

/* The parser thread: parse, hand over the last block, say done. */
static void *prod_thread(void *arg)
{
    rd_job *j = arg;
    rd_prod *p = j->p;
    rd_queue *q = p->q;
    xmlSetStructuredErrorFunc(p, prod_xml_error); /* libxml2's handlers are per thread */
    xmlSetGenericErrorFunc(p, prod_generic_error);
    prod_parse(p, j->buf, j->n);
    pthread_mutex_lock(&q->mu);
    if (p->cur->len) q->full[(q->head + q->nfull++) % RD_QBLOCKS] = p->cur_i;
    q->done = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* The reading thread's side: replay blocks as they come, give them back. */
static void rd_consume(espi_rd *rd, rd_prod *p)
{
    rd_queue *q = p->q;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (q->nfull == 0 && !q->done) pthread_cond_wait(&q->cv, &q->mu);
        if (q->nfull == 0) {
            pthread_mutex_unlock(&q->mu);
            return;
        }
        int i = q->full[q->head];
        q->head = (q->head + 1) % RD_QBLOCKS;
        q->nfull--;
        pthread_mutex_unlock(&q->mu);
        rd_replay(rd, &q->blk[i]);
        if (rd->rc) atomic_store(p->stop, 1);
        pthread_mutex_lock(&q->mu);
        q->blk[i].len = 0;
        q->free_[q->nfree++] = i;
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
    }
}

/* Parse on a second thread while this one replays.  Returns 0, or -1 when
 * the thread cannot be started (the caller parses here instead). */
static int rd_run_threaded(espi_rd *rd, rd_prod *p, char *buf, int n)
{
    rd_queue *q = calloc(1, sizeof *q);
    int rc = -1;
    if (!q) return -1;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    for (int i = 0; i < RD_QBLOCKS; i++) {
        q->blk[i].p = malloc(RD_BLK);
        if (!q->blk[i].p) goto done;
        q->blk[i].cap = RD_BLK;
    }
    for (int i = 1; i < RD_QBLOCKS; i++) q->free_[q->nfree++] = i;
    p->q = q;
    p->cur_i = 0;
    p->cur = &q->blk[0];
    rd_job job = {p, buf, n};
    pthread_t th;
    if (pthread_create(&th, NULL, prod_thread, &job) != 0) {
        p->q = NULL;
        p->cur = &p->own;
        goto done;
    }
    /* libxml2 now runs on the parser thread; whatever our callbacks do
     * with libxml2 here reports to the caller's handlers again */
    xmlSetStructuredErrorFunc(p->caller_sctx, p->caller_serror);
    xmlSetGenericErrorFunc(p->caller_gctx, p->caller_generic);
    rd_consume(rd, p);
    pthread_join(th, NULL);
    rc = 0;
done:
    for (int i = 0; i < RD_QBLOCKS; i++) free(q->blk[i].p);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
    return rc;
}

/* Read the whole document from src. */
static int rd_run(const rd_source *src, const char *name, const espi_reader_opts *o,
                  const espi_reader_cbs *cbs, espi_read_stats *st, eg_err *err)
{
    xmlSchemaPtr schema = NULL;
    xmlSchemaValidCtxtPtr vctxt = NULL;
    xmlSchemaSAXPlugPtr plug = NULL;
    char *buf = NULL;
    int rc = 0;
    atomic_int stop = 0;
    rd_prod prod;
    rd_prod *p = &prod;
    espi_rd *rd = calloc(1, sizeof *rd);
    if (!rd) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    memset(p, 0, sizeof *p);
    p->rd = rd;
    p->src = src;
    p->stop = &stop;
    p->cur = &p->own;
    rd->name = name;
    rd->cbs = cbs;
    rd->st = st;
    rd->err = err;
    rd_apply_opts(rd, o);
    espi_entry_init(&rd->entry);
    memset(&rd->head, 0, sizeof rd->head);
    rd->head.updated = ESPI_NONE;

    /* Errors raised without a parser context (encoding, I/O) go to
     * libxml2's per-thread handlers, which print to stderr: route them to
     * us for the duration of the read and restore the caller's after.  The
     * parser's own errors come the same way (our handler has no serror). */
    xmlInitParser();
    p->caller_serror = xmlStructuredError;
    p->caller_sctx = xmlStructuredErrorContext;
    p->caller_generic = xmlGenericError;
    p->caller_gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(p, prod_xml_error);
    xmlSetGenericErrorFunc(p, prod_generic_error);

    if (rd->o.check_schema) {
        rd->sc = espi_schema_checker_new(name, rd_schema_diag, rd);
        if (!rd->sc) {
            rc = eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory for the schema checker");
            goto done;
        }
        espi_schema_names_stable(rd->sc); /* names are the parser dictionary's */
    }
    xmlSAXHandler sax_local;
    xmlSAXHandlerPtr sax = &sax_local;
    void *user = p;
    rd_sax_init(&sax_local);
    if (rd->o.xsd_file) {
        if ((rc = xsd_compile(rd, p, &schema, &vctxt))) goto done;
        plug = xmlSchemaSAXPlug(vctxt, &sax, &user); /* validator first, then us */
        if (!plug) {
            rc = eg_errf(err, EG_ECONFIG, rd->o.xsd_file, 0, 0,
                         "cannot attach XSD validation to the reader");
            goto done;
        }
    }
    buf = malloc(RD_CHUNK);
    if (!buf) {
        rc = eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory for the read buffer");
        goto done;
    }
    int n = rd_fill(p, buf, RD_CHUNK);
    int head = n > 4 ? 4 : n > 0 ? n : 0; /* enough to detect the encoding */
    p->ctxt = xmlCreatePushParserCtxt(sax, user, buf, head, name);
    if (!p->ctxt) {
        rc = eg_errf(err, EG_ENOMEM, name, 0, 0, "cannot create the XML parser");
        goto done;
    }
    xmlCtxtUseOptions(p->ctxt, RD_OPTIONS);
    rd_intern_names(rd, p->ctxt);
    p->fed = (unsigned long long)head;
    if (n > head) {
        memmove(buf, buf + head, (size_t)(n - head));
        n -= head;
    } else if (n >= 0) {
        n = rd_fill(p, buf, RD_CHUNK);
    }
    if (!src->threaded || rd_run_threaded(rd, p, buf, n) != 0) prod_parse(p, buf, n);
    if (p->oom && !rd->rc)
        rd_fail(rd, EG_ENOMEM, "XML-004", rd->line, 0, "out of memory for parser events");
    if (p->io_failed) {
        rd->rc = eg_errf(err, EG_EIO, name, 0, 0, "read error: the input stopped before its end");
    } else if (!rd->rc && !p->well_formed)
        rd_fail(rd, EG_EDATA, "XML-001", p->end_line, p->end_col, "not well-formed XML%s%s",
                rd->generic_msg[0] ? ": " : "", rd->generic_msg);
    report_progress(rd, p->fed);
    rc = rd->rc;
done:
    if (plug) xmlSchemaSAXUnplug(plug);
    if (p->ctxt) {
        if (p->ctxt->myDoc) xmlFreeDoc(p->ctxt->myDoc);
        xmlFreeParserCtxt(p->ctxt);
    }
    if (vctxt) xmlSchemaFreeValidCtxt(vctxt);
    if (schema) xmlSchemaFree(schema);
    xmlSetStructuredErrorFunc(p->caller_sctx, p->caller_serror);
    xmlSetGenericErrorFunc(p->caller_gctx, p->caller_generic);
    free(p->own.p);
    free(buf);
    rd_release(rd);
    free(rd);
    return rc;
}

void espi_reader_opts_init(espi_reader_opts *o)
{
    o->check_schema = 1;
    o->xsd_file = NULL;
    o->max_depth = 64;
    o->max_text = 1024 * 1024;
    o->max_block_readings = 1000000;
    o->max_line_items = 10000;
}

static void rd_init_stats(espi_read_stats *st)
{
    if (st) memset(st, 0, sizeof *st);
}

static int file_read(void *io, char *buf, int len)
{
    FILE *fp = io;
    size_t n = fread(buf, 1, (size_t)len, fp);
    if (n == 0 && ferror(fp)) return -1;
    return (int)n;
}

int espi_read_file(const char *path, const espi_reader_opts *o, const espi_reader_cbs *cbs,
                   espi_read_stats *stats, eg_err *err)
{
    int rc = 0;
    int is_stdin = !strcmp(path, "-");
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    struct stat sb;
    int big = 0;
    rd_init_stats(stats);
    if (!fp) return eg_errf(err, EG_ENOINPUT, path, 0, 0, "cannot open: %s", strerror(errno));
    if (!is_stdin && fstat(fileno(fp), &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            fclose(fp);
            return eg_errf(err, EG_ENOINPUT, path, 0, 0, "is a directory, expected a feed file");
        }
        big = S_ISREG(sb.st_mode) && sb.st_size >= RD_THREAD_MIN;
    }
    /* a large regular file is parsed on a second thread (see rd_run_threaded) */
    rd_source src = {NULL, 0, file_read, fp, big};
    rc = rd_run(&src, name, o, cbs, stats, err);
    if (!is_stdin) fclose(fp);
    return rc;
}

int espi_read_memory(const char *buf, size_t len, const char *name, const espi_reader_opts *o,
                     const espi_reader_cbs *cbs, espi_read_stats *stats, eg_err *err)
{
    rd_init_stats(stats);
    if (!name) name = "<memory>";
    if (len > INT_MAX)
        return eg_errf(err, EG_ELIMIT, name, 0, 0,
                       "document of %zu bytes too large for memory reading; use a file", len);
    rd_source src = {buf, len, NULL, NULL, 0};
    return rd_run(&src, name, o, cbs, stats, err);
}

int espi_read_io(int (*readfn)(void *io, char *buf, int len), void *io, const char *name,
                 const espi_reader_opts *o, const espi_reader_cbs *cbs, espi_read_stats *stats,
                 eg_err *err)
{
    rd_init_stats(stats);
    if (!name) name = "<stream>";
    rd_source src = {NULL, 0, readfn, io, 0};
    return rd_run(&src, name, o, cbs, stats, err);
}
