/* reader.c -- streaming ESPI reader: libxml2 xmlTextReader -> espi.h model.
 *
 * One pass, constant memory.  libxml2's pull reader hands us one node at a
 * time and frees what we have passed; we keep only a stack of the open
 * elements (namespace + local name, capped by opts.max_depth), the text of
 * the current element (capped by opts.max_text), the current Atom entry and
 * the one resource inside its <content>.  Every element start/text/end is
 * also forwarded to our schema checker (schema.h) when asked, and libxml2
 * can validate against an official XSD in the same pass (XSD-001).
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
 * Hardening: XML_PARSE_NONET, never NOENT/DTDLOAD/DTDATTR/HUGE.  Any
 * DOCTYPE or entity reference is refused with XML-002 (also when libxml2
 * trips over the DTD's entities before the reader reaches the DOCTYPE
 * node: an error raised while the document has an internal subset counts
 * as XML-002).  CDATA sections are merged into text (XML_PARSE_NOCDATA), so
 * the model and the checker see one kind of character data.
 *
 * Positions: libxml2's parser runs up to a chunk ahead of the node the
 * reader hands out, so xmlTextReaderGetParserLineNumber() points past the
 * node.  Diagnostics about a node use the node's own line (xmlGetLineNo)
 * and column 0 (unknown), falling back to the parser position where the
 * node line is not recorded (past line 65535).  XML-001/XSD-001 carry the
 * exact line and column libxml2 reports. */
#include "reader.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/catalog.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>

#include "schema.h"

#define RD_PATH_MAX 256
#define RD_PROGRESS_STEP (1024ULL * 1024ULL)
#define RD_MAX_ATTRS 256
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

typedef struct espi_rd {
    xmlTextReaderPtr xr;
    const rd_source *src;
    int io_failed;              /* the read callback returned -1 */
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

    char *text;                 /* text of the current element */
    size_t text_len, text_cap;

    espi_schema_attr attrs[RD_MAX_ATTRS]; /* attributes of the current tag */
    size_t attr_off[RD_MAX_ATTRS];        /* value offsets while filling */
    int n_attrs;
    char *attr_buf;
    size_t attr_len, attr_cap;

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

/* Parse a decimal integer with optional surrounding whitespace. */
static int parse_int(const char *s, int64_t *out)
{
    char buf[64];
    copy_trimmed(buf, sizeof buf, s);
    if (buf[0] == '\0' || strlen(buf) >= sizeof buf - 1) return -1;
    const char *p = buf[0] == '+' ? buf + 1 : buf;
    if (*p == '-' ? p[1] < '0' || p[1] > '9' : *p < '0' || *p > '9') return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(p, &end, 10);
    if (errno || *end != '\0' || v == INT64_MIN) return -1;
    *out = (int64_t)v;
    return 0;
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

static rd_ns ns_of(const char *uri)
{
    if (!uri) return RD_NS_OTHER;
    if (!strcmp(uri, ATOM_NS)) return RD_NS_ATOM;
    if (!strcmp(uri, ESPI_NS)) return RD_NS_ESPI;
    if (!strcmp(uri, ESPI_NS_CUSTOMER)) return RD_NS_CUST;
    return RD_NS_OTHER;
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

/* Line of the current node (see the header comment on positions). */
static long rd_node_line(espi_rd *rd)
{
    xmlNodePtr n = xmlTextReaderCurrentNode(rd->xr);
    long line = n ? xmlGetLineNo(n) : -1;
    if (line <= 0 || line == 65535) line = xmlTextReaderGetParserLineNumber(rd->xr);
    if (line > rd->line) rd->line = line;
    return line;
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

/* libxml2's structured errors: parser errors end the read (XML-001, or
 * XML-002 inside a DTD), XSD validity errors are findings (XSD-001). */
static void rd_xml_error(void *ctx, xmlErrorPtr e)
{
    espi_rd *rd = ctx;
    char msg[EG_ERR_MSG_MAX];
    copy_trimmed(msg, sizeof msg, e->message ? e->message : "unknown libxml2 error");
    long line = e->line, col = e->int2;
    if (e->domain == XML_FROM_SCHEMASV || e->domain == XML_FROM_VALID) {
        if (e->level == XML_ERR_WARNING) rd_diag(rd, "XSD-001", ESPI_SEV_WARNING, line, col, msg);
        else rd_diag(rd, "XSD-001", ESPI_SEV_ERROR, line, col, msg);
        return;
    }
    if (rd->io_failed) return; /* a consequence of the failed read: EG_EIO */
    if (e->level == XML_ERR_WARNING) {
        if (!rd->rc) rd_diag(rd, "XML-001", ESPI_SEV_WARNING, line, col, msg);
        return;
    }
    if (line <= 0 && rd->xr) { /* encoding and I/O errors carry no position */
        line = xmlTextReaderGetParserLineNumber(rd->xr);
        col = xmlTextReaderGetParserColumnNumber(rd->xr);
    }
    if (error_in_dtd(e))
        rd_fail(rd, EG_EDATA, "XML-002", line, col,
                "DOCTYPE or entity refused (%s); ESPI feeds need no DTD, remove it", msg);
    else if (e->code == XML_ERR_DOCUMENT_END && rd->root == RD_ROOT_NONE)
        rd_fail(rd, EG_EDATA, "XML-001", line, col,
                "not well-formed XML: the document is empty or has no root element (%s)", msg);
    else if (e->code == XML_ERR_DOCUMENT_END && rd->depth > 0)
        rd_fail(rd, EG_EDATA, "XML-001", line, col,
                "not well-formed XML: the document ends while <%s> is open; is it truncated? (%s)",
                rd->stack[rd->depth].local, msg);
    else
        rd_fail(rd, EG_EDATA, "XML-001", line, col,
                "not well-formed XML: %s; fix the document (is it truncated or not UTF-8?)", msg);
}

/* libxml2's unstructured messages (e.g. "xmlParseChunk: encoder error")
 * would go to stderr; keep the last one for the XML-001 message instead. */
static void rd_generic_error(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rd_generic_error(void *ctx, const char *fmt, ...)
{
    espi_rd *rd = ctx;
    char msg[sizeof rd->generic_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    copy_trimmed(rd->generic_msg, sizeof rd->generic_msg, msg);
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

static const rd_field ir_fields[] = {
    FI("cost", espi_interval_reading, cost),
    FV("timePeriod", espi_interval_reading, time_period),
    FI("value", espi_interval_reading, value),
    FI("consumptionTier", espi_interval_reading, consumption_tier),
    FI("tou", espi_interval_reading, tou),
    FI("cpp", espi_interval_reading, cpp),
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
    if (rd->res.type == ESPI_RES_INTERVAL_BLOCK && rd->n_blocks == 0) return 0;
    if (rd->res.type == ESPI_RES_INTERVAL_BLOCK && !strcmp(f->local, "IntervalReading")) {
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
    if (rd_grow((void **)&rd->readings, &rd->readings_cap, rd->n_readings + 1,
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
static int resource_child_end(espi_rd *rd)
{
    char path[RD_PATH_MAX];
    espi_resource *r = &rd->res;
    int first = rd->res_depth + 1;
    if (resource_path(rd, first, path, sizeof path)) return 0;
    const char *t = rd->text ? rd->text : "";
    switch (r->type) {
    case ESPI_RES_USAGE_POINT: apply_field(up_fields, NFIELDS(up_fields), &r->u, path, t); break;
    case ESPI_RES_READING_TYPE: apply_field(rt_fields, NFIELDS(rt_fields), &r->u, path, t); break;
    case ESPI_RES_INTERVAL_BLOCK: {
        rd_block *b = &rd->blocks[rd->n_blocks - 1];
        if (!strcmp(path, "IntervalReading")) return add_reading(rd);
        if (!strncmp(path, "interval/", 9)) set_interval(&b->interval, path + 9, t);
        else if (!strcmp(path, "IntervalReading/ReadingQuality/quality")) {
            int64_t q = int_or_none(t);
            if (q != ESPI_NONE && rd->cur.n_qualities < ESPI_MAX_QUALITIES)
                rd->cur.qualities[rd->cur.n_qualities++] = q;
        } else if (!strncmp(path, "IntervalReading/", 16))
            apply_field(ir_fields, NFIELDS(ir_fields), &rd->cur, path + 16, t);
        break;
    }
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

static int is_atom(const rd_frame *f, const char *local)
{
    return f->ns == RD_NS_ATOM && !strcmp(f->local, local);
}

static int on_start(espi_rd *rd)
{
    const rd_frame *f = &rd->stack[rd->depth];
    int d = rd->depth;
    if (d == 1) {
        if (is_atom(f, "feed")) rd->root = RD_ROOT_FEED;
        else if (is_atom(f, "entry")) {
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
        if (is_atom(f, "entry")) {
            int rc = send_head(rd);
            if (rc) return rc;
            begin_entry(rd);
        } else if (is_atom(f, "link"))
            feed_link(rd);
        return 0;
    }
    if (rd->entry_depth && d == rd->entry_depth + 1 && is_atom(f, "link")) entry_link(rd);
    else if (rd->entry_depth && d == rd->entry_depth + 2 && is_atom(&rd->stack[d - 1], "content"))
        return start_resource_element(rd, f);
    return 0;
}

static void on_entry_child_end(espi_rd *rd, const rd_frame *f)
{
    espi_entry *e = &rd->entry;
    const char *t = rd->text ? rd->text : "";
    if (f->ns != RD_NS_ATOM) return;
    if (!strcmp(f->local, "id")) copy_trimmed(e->id, sizeof e->id, t);
    else if (!strcmp(f->local, "title")) copy_trimmed(e->title, sizeof e->title, t);
    else if (!strcmp(f->local, "published")) e->published = time_or_none(t);
    else if (!strcmp(f->local, "updated")) e->updated = time_or_none(t);
}

static void on_feed_child_end(espi_rd *rd, const rd_frame *f)
{
    espi_feed_head *h = &rd->head;
    const char *t = rd->text ? rd->text : "";
    if (f->ns != RD_NS_ATOM) return;
    if (!strcmp(f->local, "id")) copy_trimmed(h->id, sizeof h->id, t);
    else if (!strcmp(f->local, "title")) copy_trimmed(h->title, sizeof h->title, t);
    else if (!strcmp(f->local, "updated")) h->updated = time_or_none(t);
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

/* ---- Node handling ----------------------------------------------------- */

/* Collect the attributes of the current start tag (xmlns excluded). */
static int collect_attrs(espi_rd *rd)
{
    rd->n_attrs = 0;
    rd->attr_len = 0;
    while (xmlTextReaderMoveToNextAttribute(rd->xr) == 1) {
        if (xmlTextReaderIsNamespaceDecl(rd->xr) == 1) continue;
        const char *v = (const char *)xmlTextReaderConstValue(rd->xr);
        size_t len = v ? strlen(v) + 1 : 1;
        if (rd->n_attrs >= RD_MAX_ATTRS || rd->attr_len + len > rd->o.max_text) {
            xmlTextReaderMoveToElement(rd->xr);
            return rd_fail(rd, EG_ELIMIT, "XML-004", rd->line, 0,
                           "start tag has more than %d attributes or %zu bytes of values",
                           RD_MAX_ATTRS, rd->o.max_text);
        }
        if (rd_grow((void **)&rd->attr_buf, &rd->attr_cap, rd->attr_len + len, 1)) {
            xmlTextReaderMoveToElement(rd->xr);
            return rd_fail(rd, EG_ENOMEM, "XML-004", rd->line, 0, "out of memory for attributes");
        }
        memcpy(rd->attr_buf + rd->attr_len, v ? v : "", len);
        espi_schema_attr *a = &rd->attrs[rd->n_attrs];
        a->ns = (const char *)xmlTextReaderConstNamespaceUri(rd->xr);
        a->local = (const char *)xmlTextReaderConstLocalName(rd->xr);
        rd->attr_off[rd->n_attrs++] = rd->attr_len;
        rd->attr_len += len;
    }
    xmlTextReaderMoveToElement(rd->xr);
    for (int i = 0; i < rd->n_attrs; i++) rd->attrs[i].value = rd->attr_buf + rd->attr_off[i];
    return 0;
}

static int node_end(espi_rd *rd, long line)
{
    if (rd->sc) espi_schema_end(rd->sc, line, 0);
    int rc = on_end(rd);
    rd->depth--;
    return rc;
}

static int node_element(espi_rd *rd)
{
    long line = rd_node_line(rd);
    int empty = xmlTextReaderIsEmptyElement(rd->xr) == 1;
    const char *local = (const char *)xmlTextReaderConstLocalName(rd->xr);
    const char *ns = (const char *)xmlTextReaderConstNamespaceUri(rd->xr);
    if (rd->depth + 1 > rd->o.max_depth)
        return rd_fail(rd, EG_ELIMIT, "XML-003", line, 0,
                       "element <%s> is nested deeper than %d levels (raise max_depth)",
                       local ? local : "?", rd->o.max_depth);
    size_t cap = (size_t)rd->stack_cap;
    if (rd_grow((void **)&rd->stack, &cap, (size_t)rd->depth + 2, sizeof *rd->stack))
        return rd_fail(rd, EG_ENOMEM, "XML-003", line, 0, "out of memory for the element stack");
    rd->stack_cap = (int)cap;
    int rc = collect_attrs(rd);
    if (rc) return rc;
    rd->depth++;
    rd->stack[rd->depth].ns = ns_of(ns);
    rd->stack[rd->depth].local = local ? local : "";
    rd->text_len = 0;
    if (rd->text) rd->text[0] = '\0';
    if (rd->sc) espi_schema_start(rd->sc, ns ? ns : "", local ? local : "", rd->attrs,
                                  rd->n_attrs, line, 0);
    if ((rc = on_start(rd))) return rc;
    return empty ? node_end(rd, line) : 0;
}

static int node_text(espi_rd *rd)
{
    long line = rd_node_line(rd);
    const char *v = (const char *)xmlTextReaderConstValue(rd->xr);
    if (!v) return 0;
    size_t len = strlen(v);
    if (len > rd->o.max_text || rd->text_len + len > rd->o.max_text)
        return rd_fail(rd, EG_ELIMIT, "XML-004", line, 0,
                       "text of %zu bytes exceeds the limit of %zu (raise max_text)",
                       rd->text_len + len, rd->o.max_text);
    if (rd->sc) espi_schema_text(rd->sc, v, line, 0);
    if (rd->depth == 0) return 0;
    if (rd_grow((void **)&rd->text, &rd->text_cap, rd->text_len + len + 1, 1))
        return rd_fail(rd, EG_ENOMEM, "XML-004", line, 0, "out of memory for text");
    memcpy(rd->text + rd->text_len, v, len + 1);
    rd->text_len += len;
    return 0;
}

static int handle_node(espi_rd *rd)
{
    switch (xmlTextReaderNodeType(rd->xr)) {
    case XML_READER_TYPE_ELEMENT: return node_element(rd);
    case XML_READER_TYPE_END_ELEMENT: return node_end(rd, rd->line);
    case XML_READER_TYPE_TEXT:
    case XML_READER_TYPE_CDATA:
    case XML_READER_TYPE_WHITESPACE:
    case XML_READER_TYPE_SIGNIFICANT_WHITESPACE: return node_text(rd);
    case XML_READER_TYPE_DOCUMENT_TYPE:
    case XML_READER_TYPE_ENTITY_REFERENCE:
    case XML_READER_TYPE_ENTITY:
    case XML_READER_TYPE_NOTATION: {
        const char *nm = (const char *)xmlTextReaderConstName(rd->xr);
        return rd_fail(rd, EG_EDATA, "XML-002", rd_node_line(rd), 0,
                       "DOCTYPE or entity reference '%s' refused; ESPI feeds need no DTD, "
                       "remove it", nm ? nm : "?");
    }
    default: return 0; /* comments, processing instructions */
    }
}

/* Progress at most once per RD_PROGRESS_STEP bytes; the total ends up in
 * stats.bytes. */
static void report_progress(espi_rd *rd)
{
    long b = xmlTextReaderByteConsumed(rd->xr);
    unsigned long long bytes = b > 0 ? (unsigned long long)b : 0;
    if (rd->st) rd->st->bytes = bytes;
    if (!rd->cbs->progress) return;
    if (bytes - rd->last_progress >= RD_PROGRESS_STEP) {
        rd->last_progress = bytes;
        rd->cbs->progress(rd->cbs->ctx, bytes);
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

/* Compile o.xsd_file and attach it to the reader. Caller frees *out. */
static int xsd_attach(espi_rd *rd, xmlSchemaPtr *schema, xmlSchemaValidCtxtPtr *vctxt)
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
    if (!*vctxt || xmlTextReaderSchemaValidateCtxt(rd->xr, *vctxt, 0) != 0)
        rc = eg_errf(rd->err, EG_ECONFIG, rd->o.xsd_file, 0, 0,
                     "cannot attach XSD validation to the reader");
done:
    return rc;
}

/* ---- Driver ------------------------------------------------------------ */

static void rd_release(espi_rd *rd)
{
    espi_schema_checker_free(rd->sc);
    free(rd->stack);
    free(rd->text);
    free(rd->attr_buf);
    free(rd->readings);
    free(rd->blocks);
    free(rd->items);
    free(rd->batch_buf);
    free(rd->batch_ptrs);
}

#define RD_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES)

/* Where the bytes come from: a memory buffer or a read callback. */
struct rd_source {
    const char *buf;
    size_t len;
    int (*readfn)(void *io, char *buf, int len);
    void *io;
};

/* libxml2 sees a failed read as malformed input; remember it so the read
 * ends with EG_EIO instead. */
static int rd_io_read(void *ctx, char *buf, int len)
{
    espi_rd *rd = ctx;
    int n = rd->src->readfn(rd->src->io, buf, len);
    if (n < 0) rd->io_failed = 1;
    return n;
}

static xmlTextReaderPtr rd_open(espi_rd *rd)
{
    const rd_source *src = rd->src;
    if (src->readfn) return xmlReaderForIO(rd_io_read, NULL, rd, rd->name, NULL, RD_OPTIONS);
    return xmlReaderForMemory(src->len ? src->buf : "", (int)src->len, rd->name, NULL,
                              RD_OPTIONS);
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

/* Read the whole document from src. */
static int rd_run(const rd_source *src, const char *name, const espi_reader_opts *o,
                  const espi_reader_cbs *cbs, espi_read_stats *st, eg_err *err)
{
    xmlSchemaPtr schema = NULL;
    xmlSchemaValidCtxtPtr vctxt = NULL;
    int rc = 0, ret = 0;
    espi_rd *rd = calloc(1, sizeof *rd);
    if (!rd) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
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
     * us for the duration of the read and restore the caller's after. */
    xmlInitParser();
    xmlStructuredErrorFunc old_serror = xmlStructuredError;
    void *old_sctx = xmlStructuredErrorContext;
    xmlGenericErrorFunc old_generic = xmlGenericError;
    void *old_gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(rd, rd_xml_error);
    xmlSetGenericErrorFunc(rd, rd_generic_error);

    rd->src = src;
    rd->xr = rd_open(rd);
    if (!rd->xr) {
        rc = eg_errf(err, EG_ENOMEM, name, 0, 0, "cannot create the XML reader");
        goto done;
    }
    xmlTextReaderSetStructuredErrorHandler(rd->xr, rd_xml_error, rd);
    if (rd->o.check_schema) {
        rd->sc = espi_schema_checker_new(name, rd_schema_diag, rd);
        if (!rd->sc) {
            rc = eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory for the schema checker");
            goto done;
        }
    }
    if (rd->o.xsd_file && (rc = xsd_attach(rd, &schema, &vctxt))) goto done;

    unsigned long nodes = 0;
    while (!rd->rc && (ret = xmlTextReaderRead(rd->xr)) == 1) {
        if (rd->rc) break; /* an error raised while reading ahead */
        if (handle_node(rd)) break;
        if ((++nodes & 1023) == 0) report_progress(rd); /* cheap enough every 1024 nodes */
    }
    if (rd->io_failed) {
        rd->rc = eg_errf(err, EG_EIO, name, 0, 0, "read error: the input stopped before its end");
    } else if (!rd->rc && ret < 0)
        rd_fail(rd, EG_EDATA, "XML-001", xmlTextReaderGetParserLineNumber(rd->xr),
                xmlTextReaderGetParserColumnNumber(rd->xr), "not well-formed XML%s%s",
                rd->generic_msg[0] ? ": " : "", rd->generic_msg);
    report_progress(rd);
    rc = rd->rc;
done:
    if (rd->xr) xmlFreeTextReader(rd->xr);
    if (vctxt) xmlSchemaFreeValidCtxt(vctxt);
    if (schema) xmlSchemaFree(schema);
    xmlSetStructuredErrorFunc(old_sctx, old_serror);
    xmlSetGenericErrorFunc(old_gctx, old_generic);
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
    rd_init_stats(stats);
    if (!fp) return eg_errf(err, EG_ENOINPUT, path, 0, 0, "cannot open: %s", strerror(errno));
    if (!is_stdin && fstat(fileno(fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(fp);
        return eg_errf(err, EG_ENOINPUT, path, 0, 0, "is a directory, expected a feed file");
    }
    rc = espi_read_io(file_read, fp, name, o, cbs, stats, err);
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
    rd_source src = {buf, len, NULL, NULL};
    return rd_run(&src, name, o, cbs, stats, err);
}

int espi_read_io(int (*readfn)(void *io, char *buf, int len), void *io, const char *name,
                 const espi_reader_opts *o, const espi_reader_cbs *cbs, espi_read_stats *stats,
                 eg_err *err)
{
    rd_init_stats(stats);
    if (!name) name = "<stream>";
    rd_source src = {NULL, 0, readfn, io};
    return rd_run(&src, name, o, cbs, stats, err);
}
