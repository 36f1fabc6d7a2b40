/* espi.h -- the ESPI (NAESB REQ.21, "Green Button") resource model.
 *
 * Plain structs, one per ESPI resource, plus the Atom envelope (espi_entry)
 * that carries every resource in a feed.  The model is streaming-shaped: a
 * producer (a translator, the reader, the store) hands out one resource at
 * a time through a callback; nothing here holds a whole feed.  An
 * IntervalBlock carries its readings as a borrowed array that is valid only
 * during the callback.
 *
 * Conventions:
 *  - Every optional integer field holds ESPI_NONE when absent.  Booleans
 *    are ints: 1 true, 0 false, ESPI_BOOL_NONE absent.
 *  - Optional strings are "" when absent.  Fixed-size buffers carry the
 *    schema's maximum lengths (String256 -> 257 bytes) so a resource never
 *    allocates; longer input is a schema error, reported by the reader.
 *  - Times are int64 seconds since 1970-01-01T00:00:00Z (ESPI TimeType).
 *  - Money is int64 hundred-thousandths of the currency (1 USD = 100000),
 *    energy/volume an int64 value in uom x 10^powerOfTenMultiplier.
 *  - Every ESPI code list is an enum below; code never uses bare numbers.
 *
 * Child-element order of each struct follows the ESPI 4.0 xs:sequence, so
 * the writer can emit fields top to bottom. */
#ifndef ESPI_H
#define ESPI_H

#include <stddef.h>
#include <stdint.h>

#define ESPI_NONE INT64_MIN
#define ESPI_BOOL_NONE (-1)

#define ESPI_NS "http://naesb.org/espi"
#define ESPI_NS_CUSTOMER "http://naesb.org/espi/customer"
#define ATOM_NS "http://www.w3.org/2005/Atom"

/* Buffer sizes: schema maximum + NUL. */
#define ESPI_STR256 257
#define ESPI_STR64 65
#define ESPI_STR32 33
#define ESPI_STR512 513
#define ESPI_URI_MAX 1025 /* our limit on any href/URI (schema has none) */
#define ESPI_ID_MAX 128   /* "urn:uuid:" + 36, with room for odd ids */
#define ESPI_MAX_RELATED 16
#define ESPI_MAX_QUALITIES 8

/* ---- Code lists (ESPI 4.0 simple types) ------------------------------ */

typedef enum espi_service_kind {
    ESPI_SERVICE_ELECTRICITY = 0,
    ESPI_SERVICE_GAS = 1,
    ESPI_SERVICE_WATER = 2,
    ESPI_SERVICE_TIME = 3,
    ESPI_SERVICE_HEAT = 4,
    ESPI_SERVICE_REFUSE = 5,
    ESPI_SERVICE_SEWERAGE = 6,
    ESPI_SERVICE_RATES = 7,
    ESPI_SERVICE_TV_LICENCE = 8,
    ESPI_SERVICE_INTERNET = 9
} espi_service_kind;

typedef enum espi_accumulation {
    ESPI_ACCUM_NONE = 0,
    ESPI_ACCUM_BULK_QUANTITY = 1,
    ESPI_ACCUM_CONTINUOUS_CUMULATIVE = 2,
    ESPI_ACCUM_CUMULATIVE = 3,
    ESPI_ACCUM_DELTA_DATA = 4,
    ESPI_ACCUM_INDICATING = 6,
    ESPI_ACCUM_SUMMATION = 9,
    ESPI_ACCUM_TIME_DELAY = 10,
    ESPI_ACCUM_INSTANTANEOUS = 12,
    ESPI_ACCUM_LATCHING_QUANTITY = 13,
    ESPI_ACCUM_BOUNDED_QUANTITY = 14
} espi_accumulation;

typedef enum espi_commodity {
    ESPI_COMMODITY_NONE = 0,
    ESPI_COMMODITY_ELECTRICITY_SECONDARY = 1,
    ESPI_COMMODITY_ELECTRICITY_PRIMARY = 2,
    ESPI_COMMODITY_COMMUNICATION = 3,
    ESPI_COMMODITY_AIR = 4,
    ESPI_COMMODITY_INSULATIVE_GAS = 5,
    ESPI_COMMODITY_INSULATIVE_OIL = 6,
    ESPI_COMMODITY_NATURAL_GAS = 7,
    ESPI_COMMODITY_PROPANE = 8,
    ESPI_COMMODITY_POTABLE_WATER = 9,
    ESPI_COMMODITY_STEAM = 10,
    ESPI_COMMODITY_WASTE_WATER = 11,
    ESPI_COMMODITY_HEATING_FLUID = 12,
    ESPI_COMMODITY_COOLING_FLUID = 13
} espi_commodity;

typedef enum espi_data_qualifier {
    ESPI_QUALIFIER_NONE = 0,
    ESPI_QUALIFIER_AVERAGE = 2,
    ESPI_QUALIFIER_EXCESS = 4,
    ESPI_QUALIFIER_HIGH_THRESHOLD = 5,
    ESPI_QUALIFIER_LOW_THRESHOLD = 7,
    ESPI_QUALIFIER_MAXIMUM = 8,
    ESPI_QUALIFIER_MINIMUM = 9,
    ESPI_QUALIFIER_NOMINAL = 11,
    ESPI_QUALIFIER_NORMAL = 12,
    ESPI_QUALIFIER_SECOND_MAXIMUM = 16,
    ESPI_QUALIFIER_SECOND_MINIMUM = 17,
    ESPI_QUALIFIER_THIRD_MAXIMUM = 23,
    ESPI_QUALIFIER_FOURTH_MAXIMUM = 24,
    ESPI_QUALIFIER_FIFTH_MAXIMUM = 25,
    ESPI_QUALIFIER_SUM = 26
} espi_data_qualifier;

typedef enum espi_flow_direction {
    ESPI_FLOW_NONE = 0,
    ESPI_FLOW_FORWARD = 1,  /* delivered to the customer (import) */
    ESPI_FLOW_LAGGING = 2,
    ESPI_FLOW_LEADING = 3,
    ESPI_FLOW_NET = 4,      /* forward minus reverse */
    ESPI_FLOW_Q1_PLUS_Q2 = 5,
    ESPI_FLOW_Q1_PLUS_Q3 = 7,
    ESPI_FLOW_Q1_PLUS_Q4 = 8,
    ESPI_FLOW_Q1_MINUS_Q4 = 9,
    ESPI_FLOW_Q2_PLUS_Q3 = 10,
    ESPI_FLOW_Q2_PLUS_Q4 = 11,
    ESPI_FLOW_Q2_MINUS_Q3 = 12,
    ESPI_FLOW_Q3_PLUS_Q4 = 13,
    ESPI_FLOW_Q3_MINUS_Q2 = 14,
    ESPI_FLOW_QUADRANT_1 = 15,
    ESPI_FLOW_QUADRANT_2 = 16,
    ESPI_FLOW_QUADRANT_3 = 17,
    ESPI_FLOW_QUADRANT_4 = 18,
    ESPI_FLOW_REVERSE = 19, /* received from the customer (export) */
    ESPI_FLOW_TOTAL = 20,
    ESPI_FLOW_TOTAL_BY_PHASE = 21
} espi_flow_direction;

typedef enum espi_measurement_kind {
    ESPI_KIND_NONE = 0,
    ESPI_KIND_CURRENT = 4,
    ESPI_KIND_DEMAND = 8,
    ESPI_KIND_ENERGY = 12,
    ESPI_KIND_POWER = 37,
    ESPI_KIND_VOLTAGE = 54,
    ESPI_KIND_VOLUME = 58,
    ESPI_KIND_TEMPERATURE = 46
} espi_measurement_kind;

typedef enum espi_uom {
    ESPI_UOM_NONE = 0,
    ESPI_UOM_DEGREES_C = 23,
    ESPI_UOM_SECONDS = 27,
    ESPI_UOM_V = 29,
    ESPI_UOM_A = 5,
    ESPI_UOM_W = 38,
    ESPI_UOM_M3 = 42,
    ESPI_UOM_VA = 61,
    ESPI_UOM_VAR = 63,
    ESPI_UOM_VAH = 71,
    ESPI_UOM_WH = 72,
    ESPI_UOM_VARH = 73,
    ESPI_UOM_MONEY = 80,
    ESPI_UOM_CODE = 114,
    ESPI_UOM_US_GALLON = 128,
    ESPI_UOM_M3_COMPENSATED = 167,
    ESPI_UOM_THERM = 169
} espi_uom;

typedef enum espi_quality {
    ESPI_QUALITY_VALID = 0,
    ESPI_QUALITY_MANUALLY_EDITED = 7,
    ESPI_QUALITY_ESTIMATED_REFERENCE_DAY = 8,
    ESPI_QUALITY_ESTIMATED_LINEAR = 9,
    ESPI_QUALITY_QUESTIONABLE = 10,
    ESPI_QUALITY_DERIVED = 11,
    ESPI_QUALITY_PROJECTED = 12,
    ESPI_QUALITY_MIXED = 13,
    ESPI_QUALITY_RAW = 14,
    ESPI_QUALITY_WEATHER_NORMALIZED = 15,
    ESPI_QUALITY_OTHER = 16,
    ESPI_QUALITY_VALIDATED = 17,
    ESPI_QUALITY_VERIFICATION_REQUIRED = 18,
    ESPI_QUALITY_REVENUE = 19
} espi_quality;

typedef enum espi_currency {
    ESPI_CURRENCY_USD = 840,
    ESPI_CURRENCY_CAD = 124,
    ESPI_CURRENCY_EUR = 978
} espi_currency;

typedef enum espi_item_kind {
    ESPI_ITEM_GENERATION_FEE = 1,
    ESPI_ITEM_DELIVERY_FEE = 2,
    ESPI_ITEM_USAGE_FEE = 3,
    ESPI_ITEM_ADMIN_FEE = 4,
    ESPI_ITEM_TAX = 5,
    ESPI_ITEM_GENERATION_CREDIT = 6,
    ESPI_ITEM_DELIVERY_CREDIT = 7,
    ESPI_ITEM_ADMIN_CREDIT = 8,
    ESPI_ITEM_PAYMENT = 9,
    ESPI_ITEM_INFORMATION = 10
} espi_item_kind;

typedef enum espi_time_attribute { /* TimeAttributeKind (measuringPeriod) */
    ESPI_TIMEATTR_NONE = 0,
    ESPI_TIMEATTR_10_MINUTE = 1,
    ESPI_TIMEATTR_15_MINUTE = 2,
    ESPI_TIMEATTR_1_MINUTE = 3,
    ESPI_TIMEATTR_24_HOUR = 4,
    ESPI_TIMEATTR_30_MINUTE = 5,
    ESPI_TIMEATTR_5_MINUTE = 6,
    ESPI_TIMEATTR_60_MINUTE = 7,
    ESPI_TIMEATTR_2_MINUTE = 10,
    ESPI_TIMEATTR_3_MINUTE = 14,
    ESPI_TIMEATTR_PRESENT = 15,
    ESPI_TIMEATTR_PREVIOUS = 16,
    ESPI_TIMEATTR_20_MINUTE = 31,
    ESPI_TIMEATTR_FIXED_BLOCK_60_MIN = 50,
    ESPI_TIMEATTR_FIXED_BLOCK_30_MIN = 51,
    ESPI_TIMEATTR_FIXED_BLOCK_20_MIN = 52,
    ESPI_TIMEATTR_FIXED_BLOCK_15_MIN = 53,
    ESPI_TIMEATTR_FIXED_BLOCK_10_MIN = 54,
    ESPI_TIMEATTR_FIXED_BLOCK_5_MIN = 55,
    ESPI_TIMEATTR_FIXED_BLOCK_1_MIN = 56
} espi_time_attribute;

typedef enum espi_period_of_interest { /* TimePeriodOfInterest (timeAttribute) */
    ESPI_TPOI_NONE = 0,
    ESPI_TPOI_BILLING_PERIOD = 8,
    ESPI_TPOI_DAILY = 11,
    ESPI_TPOI_MONTHLY = 13,
    ESPI_TPOI_SEASONAL = 22,
    ESPI_TPOI_WEEKLY = 24,
    ESPI_TPOI_SPECIFIED_PERIOD = 32
} espi_period_of_interest;

typedef enum espi_auth_status {
    ESPI_AUTH_REVOKED = 0,
    ESPI_AUTH_ACTIVE = 1,
    ESPI_AUTH_DENIED = 2
} espi_auth_status;

typedef enum espi_service_status {
    ESPI_SERVICE_UNAVAILABLE = 0,
    ESPI_SERVICE_AVAILABLE = 1
} espi_service_status;

typedef enum espi_dc_app_status { /* DataCustodianApplicationStatus */
    ESPI_DC_APP_REVIEW = 1,
    ESPI_DC_APP_PRODUCTION = 2,
    ESPI_DC_APP_ON_HOLD = 3,
    ESPI_DC_APP_REVOKED = 4
} espi_dc_app_status;

/* LocalTimeParameters DstRuleType: 0xFFFFFFFF means "no DST". */
#define ESPI_DST_RULE_NONE 0xFFFFFFFFu

/* ---- Atom envelope ---------------------------------------------------- */

typedef enum espi_resource_type {
    ESPI_RES_UNKNOWN = 0,
    ESPI_RES_USAGE_POINT,
    ESPI_RES_METER_READING,
    ESPI_RES_READING_TYPE,
    ESPI_RES_INTERVAL_BLOCK,
    ESPI_RES_USAGE_SUMMARY,  /* also ElectricPowerUsageSummary (ESPI 1.x/3.x name) */
    ESPI_RES_POWER_QUALITY_SUMMARY,
    ESPI_RES_LOCAL_TIME_PARAMETERS,
    ESPI_RES_APPLICATION_INFORMATION,
    ESPI_RES_AUTHORIZATION,
    ESPI_RES_SUBSCRIPTION,
    ESPI_RES_RETAIL_CUSTOMER,
    ESPI_RES_BATCH_LIST,
    ESPI_RES_SERVICE_STATUS,
    ESPI_RES_CUSTOMER,       /* any resource in the customer namespace */
    ESPI_RES_COUNT
} espi_resource_type;

/* Name of the element as written ("UsagePoint"); NULL for unknown. */
const char *espi_resource_name(espi_resource_type t);
/* Inverse of espi_resource_name (accepts "ElectricPowerUsageSummary"). */
espi_resource_type espi_resource_from_name(const char *name);

typedef struct espi_link {
    char rel[16];            /* "self", "up", "related", "alternate" ... */
    char href[ESPI_URI_MAX];
    char type[64];           /* optional, e.g. "espi-entry/UsagePoint" */
} espi_link;

/* The <entry> that carries one resource. */
typedef struct espi_entry {
    char id[ESPI_ID_MAX];        /* "urn:uuid:..." */
    char title[ESPI_STR256];
    int64_t published, updated;  /* ESPI_NONE when absent */
    espi_link self, up;          /* href "" when absent */
    espi_link related[ESPI_MAX_RELATED];
    int n_related;
    long line;                   /* where the entry starts (reader only) */
} espi_entry;

/* The <feed> header. */
typedef struct espi_feed_head {
    char id[ESPI_ID_MAX];
    char title[ESPI_STR256];
    int64_t updated;
    espi_link self;
    espi_link related[ESPI_MAX_RELATED]; /* e.g. the GBA certification link */
    int n_related;
} espi_feed_head;

/* ---- Shared value types ---------------------------------------------- */

typedef struct espi_interval {   /* DateTimeInterval: duration then start */
    int64_t duration;            /* seconds, UInt32 */
    int64_t start;               /* TimeType */
} espi_interval;

typedef struct espi_summary_measurement {
    int64_t power_of_ten_multiplier, time_stamp, uom, value;
    char reading_type_ref[ESPI_URI_MAX];
} espi_summary_measurement;

/* ---- Resources -------------------------------------------------------- */

typedef struct espi_usage_point {
    char role_flags[8];          /* HexBinary16 as text, "" absent */
    int64_t service_kind;        /* espi_service_kind; ServiceCategory/kind */
    int64_t status;              /* UInt8: 1 on, 0 off */
    char sdp_name[ESPI_STR256];  /* serviceDeliveryPoint/name */
    char sdp_tariff_profile[ESPI_STR256];
    char sdp_customer_agreement[ESPI_STR256];
    char ami_billing_ready[ESPI_STR32];
    int check_billing;
    char connection_state[ESPI_STR32];
    espi_summary_measurement estimated_load;
    int grounded, is_sdp, is_virtual, minimal_usage_expected;
    espi_summary_measurement nominal_service_voltage;
    char outage_region[ESPI_STR256];
    int64_t phase_code;
    espi_summary_measurement rated_current, rated_power;
    char read_cycle[ESPI_STR256], read_route[ESPI_STR256];
    char service_delivery_remark[ESPI_STR256];
    char service_priority[ESPI_STR32];
} espi_usage_point;

typedef struct espi_meter_reading {
    int unused; /* MeterReading has no fields of its own: links only */
} espi_meter_reading;

typedef struct espi_rational {
    int64_t numerator, denominator;
} espi_rational;

/* Every ReadingType field the standard defines, in schema order. */
typedef struct espi_reading_type {
    int64_t accumulation_behaviour; /* espi_accumulation */
    int64_t commodity;              /* espi_commodity */
    int64_t consumption_tier;
    int64_t currency;               /* ISO 4217 numeric */
    int64_t data_qualifier;         /* espi_data_qualifier */
    int64_t default_quality;        /* espi_quality */
    int64_t flow_direction;         /* espi_flow_direction */
    int64_t interval_length;        /* seconds */
    int64_t kind;                   /* espi_measurement_kind */
    int64_t phase;
    int64_t power_of_ten_multiplier;
    int64_t time_attribute;         /* espi_period_of_interest */
    int64_t tou;
    int64_t uom;                    /* espi_uom */
    int64_t cpp;
    espi_rational interharmonic;
    int64_t measuring_period;       /* espi_time_attribute */
    espi_rational argument;
} espi_reading_type;

typedef struct espi_interval_reading {
    int64_t cost;                   /* hundred-thousandths of currency */
    int64_t qualities[ESPI_MAX_QUALITIES]; /* espi_quality */
    int n_qualities;
    espi_interval time_period;      /* duration ESPI_NONE when absent */
    int64_t value;
    int64_t consumption_tier, tou, cpp;
} espi_interval_reading;

/* One IntervalBlock.  `readings` is borrowed: valid during the callback. */
typedef struct espi_interval_block {
    espi_interval interval;
    const espi_interval_reading *readings;
    size_t n_readings;
} espi_interval_block;

typedef struct espi_line_item {
    int64_t amount, rounding, date_time;
    char note[ESPI_STR256];
    espi_summary_measurement measurement;
    int64_t item_kind;              /* espi_item_kind */
    int64_t unit_cost;
    espi_interval item_period;
} espi_line_item;

/* UsageSummary / ElectricPowerUsageSummary.  line_items is borrowed. */
typedef struct espi_usage_summary {
    int legacy_name;                /* 1: element is ElectricPowerUsageSummary */
    espi_interval billing_period;
    int64_t bill_last_period, bill_to_date, cost_additional_last_period;
    const espi_line_item *line_items;
    size_t n_line_items;
    int64_t currency;
    espi_summary_measurement overall_consumption_last_period;
    espi_summary_measurement current_billing_period_overall_consumption;
    espi_summary_measurement current_day_last_year_net_consumption;
    espi_summary_measurement current_day_net_consumption;
    espi_summary_measurement current_day_overall_consumption;
    espi_summary_measurement peak_demand;
    espi_summary_measurement previous_day_last_year_overall_consumption;
    espi_summary_measurement previous_day_net_consumption;
    espi_summary_measurement previous_day_overall_consumption;
    int64_t quality_of_reading;
    espi_summary_measurement ratchet_demand;
    espi_interval ratchet_demand_period;
    int64_t status_time_stamp;      /* required */
    int64_t commodity;
    char tariff_profile[ESPI_STR256];
    char read_cycle[ESPI_STR256];
    char billing_charge_source[ESPI_STR256]; /* agencyName */
} espi_usage_summary;

typedef struct espi_power_quality_summary {
    int64_t flicker_plt, flicker_pst, harmonic_voltage, long_interruptions;
    int64_t mains_voltage, measurement_protocol, power_frequency;
    int64_t rapid_voltage_changes, short_interruptions;
    espi_interval summary_interval; /* required */
    int64_t supply_voltage_dips, supply_voltage_imbalance;
    int64_t supply_voltage_variations, temp_overvoltage;
} espi_power_quality_summary;

typedef struct espi_local_time_parameters {
    uint32_t dst_end_rule;          /* DstRuleType; ESPI_DST_RULE_NONE */
    int64_t dst_offset;             /* seconds added in DST */
    uint32_t dst_start_rule;
    int64_t tz_offset;              /* standard time offset from UTC, s */
} espi_local_time_parameters;

#define ESPI_MAX_LIST 16  /* redirect_uri, scope, grant_types, contacts */

typedef struct espi_application_information {
    char data_custodian_id[ESPI_STR64];
    int64_t data_custodian_application_status; /* espi_dc_app_status */
    char third_party_application_description[ESPI_STR256];
    int64_t third_party_application_status, third_party_application_type;
    int64_t third_party_application_use;
    char third_party_phone[ESPI_STR32];
    char authorization_server_uri[ESPI_URI_MAX];
    char third_party_notify_uri[ESPI_URI_MAX];
    char authorization_server_authorization_endpoint[ESPI_URI_MAX];
    char authorization_server_registration_endpoint[ESPI_URI_MAX];
    char authorization_server_token_endpoint[ESPI_URI_MAX];
    char data_custodian_bulk_request_uri[ESPI_URI_MAX];
    char data_custodian_resource_endpoint[ESPI_URI_MAX];
    char third_party_scope_selection_screen_uri[ESPI_URI_MAX];
    char third_party_user_portal_screen_uri[ESPI_URI_MAX];
    char client_secret[ESPI_STR512];
    char logo_uri[ESPI_URI_MAX];
    char client_name[ESPI_STR256];
    char client_uri[ESPI_URI_MAX];
    char redirect_uri[ESPI_MAX_LIST][ESPI_URI_MAX];
    int n_redirect_uri;
    char client_id[ESPI_STR64];
    char tos_uri[ESPI_URI_MAX], policy_uri[ESPI_URI_MAX];
    char software_id[ESPI_STR256];
    char software_version[ESPI_STR32];
    int64_t client_id_issued_at, client_secret_expires_at;
    char contacts[ESPI_MAX_LIST][ESPI_STR256];
    int n_contacts;
    char token_endpoint_auth_method[ESPI_STR32];
    char scope[ESPI_MAX_LIST][ESPI_STR256];
    int n_scope;
    char grant_types[ESPI_MAX_LIST][ESPI_STR32];
    int n_grant_types;
    char response_types[ESPI_STR32];
    char registration_client_uri[ESPI_URI_MAX];
    char registration_access_token[ESPI_STR512];
    char data_custodian_scope_selection_screen_uri[ESPI_URI_MAX];
} espi_application_information;

typedef struct espi_authorization {
    espi_interval authorized_period, published_period;
    int64_t status;                 /* espi_auth_status */
    int64_t expires_at;
    char grant_type[ESPI_STR32];
    char scope[ESPI_STR256];
    char token_type[ESPI_STR32];
    char error[ESPI_STR32];
    char error_description[ESPI_STR256];
    char error_uri[ESPI_URI_MAX];
    char resource_uri[ESPI_URI_MAX];
    char authorization_uri[ESPI_URI_MAX];
    char customer_resource_uri[ESPI_URI_MAX];
} espi_authorization;

/* Subscription and RetailCustomer are Data Custodian bookkeeping: ESPI
 * names them in URIs (Batch/Subscription/{id}) but 4.0 defines no element. */
typedef struct espi_subscription {
    char id[ESPI_ID_MAX];
    char application_id[ESPI_ID_MAX];
    char authorization_id[ESPI_ID_MAX];
    char retail_customer_id[ESPI_ID_MAX];
    char scope[ESPI_STR256];
} espi_subscription;

typedef struct espi_retail_customer {
    char id[ESPI_ID_MAX];
    char name[ESPI_STR256];
} espi_retail_customer;

/* BatchList: URIs of resources ready for the third party.  Borrowed. */
typedef struct espi_batch_list {
    const char *const *resources;
    size_t n_resources;
} espi_batch_list;

typedef struct espi_service_status_res {
    int64_t current_status;         /* espi_service_status */
} espi_service_status_res;

/* One resource as the reader hands it out. */
typedef struct espi_resource {
    espi_resource_type type;
    const espi_entry *entry;        /* NULL for a bare root element */
    union {
        espi_usage_point usage_point;
        espi_meter_reading meter_reading;
        espi_reading_type reading_type;
        espi_interval_block interval_block;
        espi_usage_summary usage_summary;
        espi_power_quality_summary power_quality_summary;
        espi_local_time_parameters local_time_parameters;
        espi_application_information application_information;
        espi_authorization authorization;
        espi_batch_list batch_list;
        espi_service_status_res service_status;
    } u;
} espi_resource;

/* Reset a resource to "everything absent" (ESPI_NONE, "", ESPI_BOOL_NONE). */
void espi_usage_point_init(espi_usage_point *p);
void espi_reading_type_init(espi_reading_type *r);
void espi_interval_reading_init(espi_interval_reading *r);
void espi_usage_summary_init(espi_usage_summary *s);
void espi_line_item_init(espi_line_item *li);
void espi_power_quality_summary_init(espi_power_quality_summary *q);
void espi_local_time_parameters_init(espi_local_time_parameters *t);
void espi_application_information_init(espi_application_information *a);
void espi_authorization_init(espi_authorization *a);
void espi_summary_measurement_init(espi_summary_measurement *m);
void espi_entry_init(espi_entry *e);

/* ---- Identifiers ------------------------------------------------------ */

/* Deterministic id: "urn:uuid:" + UUIDv5(namespace, key).  The namespace
 * is espigate's own (a fixed UUID); key is a stable source key such as
 * "smt:1044372000012345:MeterReading:forward".  out must hold ESPI_ID_MAX. */
void espi_uuid5(const char *key, char out[ESPI_ID_MAX]);
/* Same, bare UUID text (36 chars + NUL) for use in hrefs. */
void espi_uuid5_bare(const char *key, char out[37]);

/* ---- Time helpers ----------------------------------------------------- */

/* RFC 3339 UTC "2024-03-10T07:00:00Z" for t; out holds >= 32 bytes. */
void espi_time_format(int64_t t, char *out, size_t size);
/* Parse xs:dateTime (with Z or +hh:mm, or none = UTC) to seconds; 0 on
 * success, -1 when malformed. A date alone is accepted as midnight UTC. */
int espi_time_parse(const char *s, int64_t *out);

/* Decode a DstRuleType for a given year: the UTC instant the rule fires.
 * The rule's time of day is local wall-clock time as it reads just before
 * the change, so pass the UTC offset in force then: tzOffset for the start
 * rule, tzOffset + dstOffset for the end rule (US: 360E2000 with -21600 is
 * 2024-03-10T08:00Z; B40E2000 with -18000 is 2024-11-03T07:00Z, the real
 * changes).  Returns 0 and sets *out, or -1 when the rule is not a valid
 * rule (bad month/operator/day) or is ESPI_DST_RULE_NONE. */
int espi_dst_rule_instant(uint32_t rule, int year, int64_t offset_before, int64_t *out);

/* Set up the global state of the libraries under the reader and writer
 * (libxml2 initialises its globals lazily, which races when two threads
 * open their first parser or writer at once).  Call it once from the main
 * thread before any other thread reads or writes XML; calling it again is
 * harmless.  The CLI calls it at startup. */
void espi_global_init(void);

#endif
