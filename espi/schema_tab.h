/* schema_tab.h -- internal: the shape of espigate's schema tables.
 *
 * The schema is data, the checker (schema.c) is one engine over it.  Every
 * type, simple or complex, is one sch_type in sch_types[], named by an
 * enum id (T_* complex, S_* simple).  A complex type is one of:
 *
 *   SCH_SEQ     a flat xs:sequence of particles (name, type, min, max),
 *               base-type particles first, checked greedily in order;
 *   SCH_CHOICE  Atom's repeated xs:choice: children in any order; a
 *               particle's min is the shortest run of it (entry needs
 *               links in runs of two or more); SCH_F_OTHER admits global
 *               ESPI/customer elements (xs:any ##other, strict);
 *   SCH_WILD    atom:content: only global ESPI/customer elements, mixed;
 *   SCH_SIMPLE  simple content of type .base (no child elements);
 *   SCH_EMPTY   no content at all (atom:category);
 *   SCH_ANY     xs:anyType: anything, with children that happen to be
 *               global elements validated (lax).
 *
 * A simple type is a value space: kind (string, integer, boolean, ...),
 * range, maxLength (characters for strings, octets for hexBinary),
 * enumeration.  Integer lexical rules follow libxml2, the reference the
 * differential test compares against: .lex says whether surrounding
 * whitespace and a sign are accepted (see schema.c).
 *
 * Element and attribute names point into these static tables, so the
 * checker can keep them in frames without copying. */
#ifndef ESPI_SCHEMA_TAB_H
#define ESPI_SCHEMA_TAB_H

/* Namespaces the checker tells apart. */
enum sch_ns {
    SCH_NS_NONE = 0, /* no namespace */
    SCH_NS_ATOM,
    SCH_NS_ESPI,
    SCH_NS_CUST,
    SCH_NS_XML,
    SCH_NS_XSI,
    SCH_NS_XMLNS,
    SCH_NS_OTHER
};

#define SCH_URI_ATOM "http://www.w3.org/2005/Atom"
#define SCH_URI_ESPI "http://naesb.org/espi"
#define SCH_URI_CUST "http://naesb.org/espi/customer"
#define SCH_URI_XML "http://www.w3.org/XML/1998/namespace"
#define SCH_URI_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define SCH_URI_XMLNS "http://www.w3.org/2000/xmlns/"
#define SCH_URI_XHTML "http://www.w3.org/1999/xhtml"

#define SCH_UNBOUNDED 0xFFFFu

enum sch_kind {
    /* simple types */
    SCH_STRING,   /* xs:string: .maxlen characters, optional enumeration (exact) */
    SCH_TOKEN,    /* whitespace collapsed, then one of the enumeration */
    SCH_INT,      /* an integer in [.min, .max], lexical rules in .lex */
    SCH_BOOL,     /* true, false, 1, 0 */
    SCH_HEX,      /* hexBinary, .maxlen octets */
    SCH_URI,      /* anyURI (RFC 3986 reference after escaping) */
    SCH_FLOAT,    /* xs:float */
    SCH_DATETIME, /* xs:dateTime */
    SCH_LANG,     /* xs:language */
    SCH_NMTOKEN,  /* xs:NMTOKEN */
    SCH_NCNAME,   /* xs:NCName (xml:id) */
    SCH_EMAIL,    /* atom emailType: \w+@(\w+\.)+\w+ */
    /* complex types */
    SCH_SEQ,
    SCH_CHOICE,
    SCH_WILD,
    SCH_SIMPLE,
    SCH_EMPTY,
    SCH_ANY
};

/* Integer lexical rules (sch_type.lex). */
#define SCH_LEX_TRIM 1u  /* leading/trailing whitespace allowed */
#define SCH_LEX_PLUS 2u  /* a leading '+' allowed */
#define SCH_LEX_MINUS 4u /* a leading '-' allowed */

/* sch_type.flags */
#define SCH_F_NOMIN 1u  /* integer: no lower bound (xs:integer) */
#define SCH_F_NOMAX 2u  /* integer: no upper bound */
#define SCH_F_MIXED 4u  /* complex: character data allowed */
#define SCH_F_OTHER 8u  /* choice: global ESPI/customer elements allowed */

/* Atom attribute sets (sch_type.attrs). */
enum sch_attrset_id {
    SCH_AS_NONE = 0, /* ESPI/customer types: no attributes (xsi: only) */
    SCH_AS_COMMON,   /* xml:base, xml:lang, other-namespace (strict) */
    SCH_AS_TEXT,
    SCH_AS_CONTENT,
    SCH_AS_CATEGORY,
    SCH_AS_GENERATOR,
    SCH_AS_LINK,
    SCH_AS_COUNT
};

typedef struct sch_particle {
    const char *name;
    unsigned short type; /* index in sch_types */
    unsigned short min;
    unsigned short max;  /* SCH_UNBOUNDED for unbounded */
} sch_particle;

typedef struct sch_type {
    const char *name;           /* XSD type name, for messages */
    unsigned char kind;         /* enum sch_kind */
    unsigned char flags;        /* SCH_F_* */
    unsigned char lex;          /* SCH_INT: SCH_LEX_* */
    unsigned char ns;           /* complex: namespace of the child elements */
    unsigned char attrs;        /* enum sch_attrset_id */
    unsigned short base;        /* SCH_SIMPLE: the content's simple type */
    unsigned short n;           /* number of parts, or of enums */
    unsigned maxlen;            /* STRING: characters; HEX: octets; 0 = none */
    long long min, max;         /* SCH_INT bounds */
    const sch_particle *parts;  /* SEQ, CHOICE */
    const char *const *enums;   /* STRING, TOKEN */
} sch_type;

typedef struct sch_global {
    const char *name;
    unsigned short type;
} sch_global;

typedef struct sch_attr {
    const char *name;
    unsigned short type;   /* simple type */
    unsigned char required;
} sch_attr;

typedef struct sch_attrset {
    const sch_attr *attrs;
    unsigned char n;
} sch_attrset;

enum sch_type_id {
    /* Atom (hand-written) */
    T_ATOM_FEED,
    T_ATOM_ENTRY,
    T_ATOM_CONTENT,
    T_ATOM_TEXT,
    T_ATOM_PERSON,
    T_ATOM_CATEGORY,
    T_ATOM_GENERATOR,
    T_ATOM_URI,
    T_ATOM_DATETIME,
    T_ATOM_LINK,
    S_ATOM_EMAIL,
    S_ATOM_TEXTKIND,
    S_xs_dateTime,
    S_xs_positiveInteger,
    S_xs_language,
    S_xs_NMTOKEN,
    S_xs_ID,
    S_XML_SPACE,
    /* ESPI and customer (extracted) */
    T_ANY,
    S_HexBinary16,
    S_CRUDOperation,
    S_StatusCode,
    S_String256,
    S_String64,
    S_DataCustodianApplicationStatus,
    S_ThirdPartyApplicatonStatus,
    S_ThirdPartyApplicationType,
    S_ThirdPartyApplicationUse,
    S_String32,
    S_xs_anyURI,
    S_String512,
    S_TimeType,
    S_TokenEndPointMethod,
    S_GrantType,
    S_ResponseType,
    S_UInt32,
    S_AuthorizationStatus,
    S_TokenType,
    S_OAuthError,
    S_Int48,
    S_QualityOfReading,
    S_Int16,
    S_AccumulationKind,
    S_CommodityKind,
    S_Currency,
    S_DataQualifierKind,
    S_FlowDirectionKind,
    S_MeasurementKind,
    S_PhaseCodeKind,
    S_UnitMultiplierKind,
    S_TimePeriodOfInterest,
    S_UnitSymbolKind,
    S_xs_integer,
    S_TimeAttributeKind,
    S_ServiceKind,
    S_UInt8,
    S_EnrollmentStatus,
    S_AmiBillingReadyKind,
    S_xs_boolean,
    S_UsagePointConnectedKind,
    S_ApnodeType,
    S_AnodeType,
    S_ItemKind,
    S_ESPIServiceStatus,
    S_DstRuleType,
    S_tOUorCPPorConsumptionTier,
    S_NotificationMethodKind,
    S_name,
    S_PerCent,
    S_CustomerKind,
    S_C_EnrollmentStatus,
    S_xs_string,
    S_MeterMultiplierKind,
    S_xs_float,
    S_ProgramDateKind,
    S_SupplierKind,
    S_MediaType,
    T_E_Object,
    T_E_BatchItemInfo,
    T_E_IdentifiedObject,
    T_E_ApplicationInformation,
    T_E_DateTimeInterval,
    T_E_Authorization,
    T_E_ReadingQuality,
    T_E_IntervalReading,
    T_E_IntervalBlock,
    T_E_MeterReading,
    T_E_ReadingInterharmonic,
    T_E_RationalNumber,
    T_E_ReadingType,
    T_E_ServiceCategory,
    T_E_TariffRiderRef,
    T_E_TariffRiderRefs,
    T_E_ServiceDeliveryPoint,
    T_E_SummaryMeasurement,
    T_E_PnodeRef,
    T_E_PnodeRefs,
    T_E_AggregateNodeRef,
    T_E_AggregateNodeRefs,
    T_E_UsagePoint,
    T_E_ElectricPowerQualitySummary,
    T_E_LineItem,
    T_E_ElectricPowerUsageSummary,
    T_E_BillingChargeSource,
    T_E_UsageSummary,
    T_E_ServiceStatus,
    T_E_TimeConfiguration,
    T_E_programIdMapping_anon,
    T_E_ProgramIdMappings,
    T_E_BatchListType,
    T_C_Object,
    T_C_AcceptanceTest,
    T_C_AccountNotification,
    T_C_BatchItemInfo,
    T_C_IdentifiedObject,
    T_C_ElectronicAddress,
    T_C_Status,
    T_C_Document,
    T_C_DateTimeInterval,
    T_C_Agreement,
    T_C_LifecycleDate,
    T_C_Asset,
    T_C_AssetContainer,
    T_C_BatchListType,
    T_C_StreetDetail,
    T_C_TownDetail,
    T_C_StreetAddress,
    T_C_TelephoneNumber,
    T_C_Organisation,
    T_C_OrganisationRole,
    T_C_Priority,
    T_C_Customer,
    T_C_CustomerAccount,
    T_C_ProgramDate,
    T_C_SummaryMeasurement,
    T_C_DemandResponseProgram,
    T_C_PricingStructure,
    T_C_CustomerAgreement,
    T_C_EndDevice,
    T_C_TimeConfiguration,
    T_C_PositionPoint,
    T_C_Location,
    T_C_MeterMultiplier,
    T_C_Meter,
    T_C_ProgramDateIdMapping,
    T_C_ProgramDateIdMappings,
    T_C_WorkLocation,
    T_C_UsagePoint,
    T_C_UsagePoints,
    T_C_ServiceLocation,
    T_C_ServiceSupplier,
    T_C_StatementRef,
    T_C_Statement,
    SCH_N_TYPES
};

extern const sch_type sch_types[SCH_N_TYPES];
extern const sch_attrset sch_attrsets[SCH_AS_COUNT];
extern const sch_attr sch_xml_attrs[];      /* xml:lang, xml:base, ... */
extern const unsigned sch_n_xml_attrs;

/* Global elements per namespace, sorted by name (strcmp order). */
extern const sch_global sch_atom_globals[];
extern const unsigned sch_n_atom_globals;
extern const sch_global sch_espi_globals[];
extern const unsigned sch_n_espi_globals;
extern const sch_global sch_cust_globals[];
extern const unsigned sch_n_cust_globals;

#endif
