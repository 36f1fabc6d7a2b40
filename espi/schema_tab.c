/* schema_tab.c -- espigate's schema as C tables (see schema_tab.h for the shapes).
 *
 * The ESPI (namespace http://naesb.org/espi) and customer
 * (http://naesb.org/espi/customer) parts were extracted mechanically from the
 * facts of the ESPI 4.0 XSDs: each complex type is flattened to one sequence of
 * particles, base type particles first (Object: extension*; IdentifiedObject:
 * batchItemInfo? ...), and each simple type reduced to its value space (kind,
 * range, length, enumeration).  Numeric "enumerations" are unions with their
 * base integer type, so they keep only the base range.  Elements declared
 * without a type are xs:anyType (T_ANY).  The Atom part is written by hand from
 * GBA's atom.xsd profile.  Edit entries here when the standard changes; the
 * differential test (tests/espi/test_differential.sh) checks agreement with the
 * official XSDs through xmllint. */
#include "schema_tab.h"

#include <stdint.h>

#define U SCH_UNBOUNDED

static const char *const S_TokenEndPointMethod_enums[] = {"client_secret_basic"};
static const char *const S_GrantType_enums[] = {"authorization_code", "client_credentials", "refresh_token"};
static const char *const S_ResponseType_enums[] = {"code"};
static const char *const S_TokenType_enums[] = {"Bearer"};
static const char *const S_OAuthError_enums[] = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "invalid_redirect_uri", "invalid_client_metadata", "invalid_client_id", "access_denied", "unsupported_response_type", "server_error", "temporarily_unavailable"};
static const char *const S_EnrollmentStatus_enums[] = {"unenrolled", "enrolled", "enrolledPending"};
static const char *const S_AmiBillingReadyKind_enums[] = {"amiCapable", "amiDisabled", "billingApproved", "enabled", "nonAmi", "nonMetered", "operable"};
static const char *const S_UsagePointConnectedKind_enums[] = {"connected", "logicallyDisconnected", "physicallyDisconnected"};
static const char *const S_ApnodeType_enums[] = {"AG", "CPZ", "DPZ", "LAP", "TH", "SYS", "CA", "DCA", "GA", "GH", "EHV", "ZN", "INT", "BUS"};
static const char *const S_AnodeType_enums[] = {"SYS", "RUC", "LFZ", "REG", "AGR", "POD", "ALR", "LTAC", "ACA", "ASR", "ECA"};
static const char *const S_tOUorCPPorConsumptionTier_enums[] = {"tou", "cpp", "consumptiontier"};

static const sch_particle T_E_Object_parts[] = {
    {"extension", T_ANY, 0, U},
};
static const sch_particle T_E_BatchItemInfo_parts[] = {
    {"extension", T_ANY, 0, U},
    {"name", S_HexBinary16, 0, 1},
    {"operation", S_CRUDOperation, 0, 1},
    {"statusCode", S_StatusCode, 0, 1},
    {"statusReason", S_String256, 0, 1},
};
static const sch_particle T_E_IdentifiedObject_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
};
static const sch_particle T_E_ApplicationInformation_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
    {"dataCustodianId", S_String64, 1, 1},
    {"dataCustodianApplicationStatus", S_DataCustodianApplicationStatus, 1, 1},
    {"thirdPartyApplicationDescription", S_String256, 0, 1},
    {"thirdPartyApplicationStatus", S_ThirdPartyApplicatonStatus, 0, 1},
    {"thirdPartyApplicationType", S_ThirdPartyApplicationType, 0, 1},
    {"thirdPartyApplicationUse", S_ThirdPartyApplicationUse, 0, 1},
    {"thirdPartyPhone", S_String32, 0, 1},
    {"authorizationServerUri", S_xs_anyURI, 0, 1},
    {"thirdPartyNotifyUri", S_xs_anyURI, 1, 1},
    {"authorizationServerAuthorizationEndpoint", S_xs_anyURI, 1, 1},
    {"authorizationServerRegistrationEndpoint", S_xs_anyURI, 0, 1},
    {"authorizationServerTokenEndpoint", S_xs_anyURI, 1, 1},
    {"dataCustodianBulkRequestURI", S_xs_anyURI, 1, 1},
    {"dataCustodianResourceEndpoint", S_xs_anyURI, 1, 1},
    {"thirdPartyScopeSelectionScreenURI", S_xs_anyURI, 0, 1},
    {"thirdPartyUserPortalScreenURI", S_xs_anyURI, 0, 1},
    {"client_secret", S_String512, 1, 1},
    {"logo_uri", S_xs_anyURI, 0, 1},
    {"client_name", S_String256, 1, 1},
    {"client_uri", S_xs_anyURI, 0, 1},
    {"redirect_uri", S_xs_anyURI, 1, U},
    {"client_id", S_String64, 1, 1},
    {"tos_uri", S_xs_anyURI, 0, 1},
    {"policy_uri", S_xs_anyURI, 0, 1},
    {"software_id", S_String256, 1, 1},
    {"software_version", S_String32, 1, 1},
    {"client_id_issued_at", S_TimeType, 1, 1},
    {"client_secret_expires_at", S_TimeType, 1, 1},
    {"contacts", S_String256, 0, U},
    {"token_endpoint_auth_method", S_TokenEndPointMethod, 1, 1},
    {"scope", S_String256, 1, U},
    {"grant_types", S_GrantType, 2, U},
    {"response_types", S_ResponseType, 1, 1},
    {"registration_client_uri", T_ANY, 1, 1},
    {"registration_access_token", T_ANY, 1, 1},
    {"dataCustodianScopeSelectionScreenURI", T_ANY, 0, 1},
};
static const sch_particle T_E_DateTimeInterval_parts[] = {
    {"extension", T_ANY, 0, U},
    {"duration", S_UInt32, 1, 1},
    {"start", S_TimeType, 1, 1},
};
static const sch_particle T_E_Authorization_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
    {"authorizedPeriod", T_E_DateTimeInterval, 0, 1},
    {"publishedPeriod", T_E_DateTimeInterval, 0, 1},
    {"status", S_AuthorizationStatus, 1, 1},
    {"expires_at", S_TimeType, 1, 1},
    {"grant_type", S_GrantType, 0, 1},
    {"scope", S_String256, 1, 1},
    {"token_type", S_TokenType, 1, 1},
    {"error", S_OAuthError, 0, 1},
    {"error_description", S_String256, 0, 1},
    {"error_uri", S_xs_anyURI, 0, 1},
    {"resourceURI", S_xs_anyURI, 1, 1},
    {"authorizationURI", S_xs_anyURI, 1, 1},
    {"customerResourceURI", S_xs_anyURI, 0, 1},
};
static const sch_particle T_E_ReadingQuality_parts[] = {
    {"extension", T_ANY, 0, U},
    {"quality", S_QualityOfReading, 1, 1},
};
static const sch_particle T_E_IntervalReading_parts[] = {
    {"extension", T_ANY, 0, U},
    {"cost", S_Int48, 0, 1},
    {"ReadingQuality", T_E_ReadingQuality, 0, U},
    {"timePeriod", T_E_DateTimeInterval, 0, 1},
    {"value", S_Int48, 0, 1},
    {"consumptionTier", S_Int16, 0, 1},
    {"tou", S_Int16, 0, 1},
    {"cpp", S_Int16, 0, 1},
};
static const sch_particle T_E_IntervalBlock_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
    {"interval", T_E_DateTimeInterval, 0, 1},
    {"IntervalReading", T_E_IntervalReading, 0, U},
};
static const sch_particle T_E_MeterReading_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
};
static const sch_particle T_E_ReadingInterharmonic_parts[] = {
    {"extension", T_ANY, 0, U},
    {"numerator", S_xs_integer, 0, 1},
    {"denominator", T_ANY, 0, 1},
};
static const sch_particle T_E_RationalNumber_parts[] = {
    {"extension", T_ANY, 0, U},
    {"numerator", S_xs_integer, 0, 1},
    {"denominator", T_ANY, 0, 1},
};
static const sch_particle T_E_ReadingType_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
    {"accumulationBehaviour", S_AccumulationKind, 0, 1},
    {"commodity", S_CommodityKind, 0, 1},
    {"consumptionTier", S_Int16, 0, 1},
    {"currency", S_Currency, 0, 1},
    {"dataQualifier", S_DataQualifierKind, 0, 1},
    {"defaultQuality", S_QualityOfReading, 0, 1},
    {"flowDirection", S_FlowDirectionKind, 0, 1},
    {"intervalLength", S_UInt32, 0, 1},
    {"kind", S_MeasurementKind, 0, 1},
    {"phase", S_PhaseCodeKind, 0, 1},
    {"powerOfTenMultiplier", S_UnitMultiplierKind, 0, 1},
    {"timeAttribute", S_TimePeriodOfInterest, 0, 1},
    {"tou", S_Int16, 0, 1},
    {"uom", S_UnitSymbolKind, 0, 1},
    {"cpp", S_Int16, 0, 1},
    {"interharmonic", T_E_ReadingInterharmonic, 0, 1},
    {"measuringPeriod", S_TimeAttributeKind, 0, 1},
    {"argument", T_E_RationalNumber, 0, 1},
};
static const sch_particle T_E_ServiceCategory_parts[] = {
    {"extension", T_ANY, 0, U},
    {"kind", S_ServiceKind, 1, 1},
};
static const sch_particle T_E_TariffRiderRef_parts[] = {
    {"extension", T_ANY, 0, U},
    {"riderType", S_String256, 1, 1},
    {"enrollmentStatus", S_EnrollmentStatus, 1, 1},
    {"effectiveDate", S_TimeType, 1, 1},
};
static const sch_particle T_E_TariffRiderRefs_parts[] = {
    {"extension", T_ANY, 0, U},
    {"tariffRiderRef", T_E_TariffRiderRef, 1, U},
};
static const sch_particle T_E_ServiceDeliveryPoint_parts[] = {
    {"extension", T_ANY, 0, U},
    {"name", S_String256, 0, 1},
    {"tariffProfile", S_String256, 0, 1},
    {"customerAgreement", S_String256, 0, 1},
    {"tariffRiderRefs", T_E_TariffRiderRefs, 0, 1},
};
static const sch_particle T_E_SummaryMeasurement_parts[] = {
    {"extension", T_ANY, 0, U},
    {"powerOfTenMultiplier", S_UnitMultiplierKind, 0, 1},
    {"timeStamp", S_TimeType, 0, 1},
    {"uom", S_UnitSymbolKind, 0, 1},
    {"value", S_Int48, 0, 1},
    {"readingTypeRef", S_xs_anyURI, 0, 1},
};
static const sch_particle T_E_PnodeRef_parts[] = {
    {"extension", T_ANY, 0, U},
    {"apnodeType", S_ApnodeType, 1, 1},
    {"ref", S_String256, 1, 1},
    {"startEffectiveDate", S_TimeType, 0, 1},
    {"endEffectiveDate", S_TimeType, 0, 1},
};
static const sch_particle T_E_PnodeRefs_parts[] = {
    {"extension", T_ANY, 0, U},
    {"pnodeRef", T_E_PnodeRef, 1, U},
};
static const sch_particle T_E_AggregateNodeRef_parts[] = {
    {"extension", T_ANY, 0, U},
    {"anodeType", S_AnodeType, 1, 1},
    {"ref", S_String256, 1, 1},
    {"startEffectiveDate", S_TimeType, 0, 1},
    {"endEffectiveDate", S_TimeType, 0, 1},
    {"pnodeRef", T_E_PnodeRef, 0, U},
};
static const sch_particle T_E_AggregateNodeRefs_parts[] = {
    {"extension", T_ANY, 0, U},
    {"aggregateNodeRef", T_E_AggregateNodeRef, 1, U},
};
static const sch_particle T_E_UsagePoint_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
    {"roleFlags", S_HexBinary16, 0, 1},
    {"ServiceCategory", T_E_ServiceCategory, 0, 1},
    {"status", S_UInt8, 0, 1},
    {"serviceDeliveryPoint", T_E_ServiceDeliveryPoint, 0, 1},
    {"amiBillingReady", S_AmiBillingReadyKind, 0, 1},
    {"checkBilling", S_xs_boolean, 0, 1},
    {"connectionState", S_UsagePointConnectedKind, 0, 1},
    {"estimatedLoad", T_E_SummaryMeasurement, 0, 1},
    {"grounded", S_xs_boolean, 0, 1},
    {"isSdp", S_xs_boolean, 0, 1},
    {"isVirtual", S_xs_boolean, 0, 1},
    {"minimalUsageExpected", S_xs_boolean, 0, 1},
    {"nominalServiceVoltage", T_E_SummaryMeasurement, 0, 1},
    {"outageRegion", S_String256, 0, 1},
    {"phaseCode", S_PhaseCodeKind, 0, 1},
    {"ratedCurrent", T_E_SummaryMeasurement, 0, 1},
    {"ratedPower", T_E_SummaryMeasurement, 0, 1},
    {"readCycle", S_String256, 0, 1},
    {"readRoute", S_String256, 0, 1},
    {"serviceDeliveryRemark", S_String256, 0, 1},
    {"servicePriority", S_String32, 0, 1},
    {"pnodeRefs", T_E_PnodeRefs, 0, 1},
    {"aggregateNodeRefs", T_E_AggregateNodeRefs, 0, 1},
};
static const sch_particle T_E_ElectricPowerQualitySummary_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
    {"flickerPlt", S_Int48, 0, 1},
    {"flickerPst", S_Int48, 0, 1},
    {"harmonicVoltage", S_Int48, 0, 1},
    {"longInterruptions", S_Int48, 0, 1},
    {"mainsVoltage", S_Int48, 0, 1},
    {"measurementProtocol", S_UInt8, 0, 1},
    {"powerFrequency", S_Int48, 0, 1},
    {"rapidVoltageChanges", S_Int48, 0, 1},
    {"shortInterruptions", S_Int48, 0, 1},
    {"summaryInterval", T_E_DateTimeInterval, 1, 1},
    {"supplyVoltageDips", S_Int48, 0, 1},
    {"supplyVoltageImbalance", S_Int48, 0, 1},
    {"supplyVoltageVariations", S_Int48, 0, 1},
    {"tempOvervoltage", S_Int48, 0, 1},
};
static const sch_particle T_E_LineItem_parts[] = {
    {"extension", T_ANY, 0, U},
    {"amount", S_Int48, 0, 1},
    {"rounding", S_Int48, 0, 1},
    {"dateTime", S_TimeType, 0, 1},
    {"note", S_String256, 1, 1},
    {"measurement", T_E_SummaryMeasurement, 0, 1},
    {"itemKind", S_ItemKind, 1, 1},
    {"unitCost", S_Int48, 0, 1},
    {"itemPeriod", T_E_DateTimeInterval, 0, 1},
};
static const sch_particle T_E_ElectricPowerUsageSummary_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
    {"billingPeriod", T_E_DateTimeInterval, 0, 1},
    {"billLastPeriod", S_Int48, 0, 1},
    {"billToDate", S_Int48, 0, 1},
    {"costAdditionalLastPeriod", S_Int48, 0, 1},
    {"costAdditionalDetailLastPeriod", T_E_LineItem, 0, U},
    {"currency", S_Currency, 0, 1},
    {"overallConsumptionLastPeriod", T_E_SummaryMeasurement, 0, 1},
    {"currentBillingPeriodOverAllConsumption", T_E_SummaryMeasurement, 0, 1},
    {"currentDayLastYearNetConsumption", T_E_SummaryMeasurement, 0, 1},
    {"currentDayNetConsumption", T_E_SummaryMeasurement, 0, 1},
    {"currentDayOverallConsumption", T_E_SummaryMeasurement, 0, 1},
    {"peakDemand", T_E_SummaryMeasurement, 0, 1},
    {"previousDayLastYearOverallConsumption", T_E_SummaryMeasurement, 0, 1},
    {"previousDayNetConsumption", T_E_SummaryMeasurement, 0, 1},
    {"previousDayOverallConsumption", T_E_SummaryMeasurement, 0, 1},
    {"qualityOfReading", S_QualityOfReading, 0, 1},
    {"ratchetDemand", T_E_SummaryMeasurement, 0, 1},
    {"ratchetDemandPeriod", T_E_DateTimeInterval, 0, 1},
    {"statusTimeStamp", S_TimeType, 1, 1},
    {"commodity", S_CommodityKind, 0, 1},
};
static const sch_particle T_E_BillingChargeSource_parts[] = {
    {"extension", T_ANY, 0, U},
    {"agencyName", S_String256, 0, 1},
};
static const sch_particle T_E_UsageSummary_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
    {"billingPeriod", T_E_DateTimeInterval, 0, 1},
    {"billLastPeriod", S_Int48, 0, 1},
    {"billToDate", S_Int48, 0, 1},
    {"costAdditionalLastPeriod", S_Int48, 0, 1},
    {"costAdditionalDetailLastPeriod", T_E_LineItem, 0, U},
    {"currency", S_Currency, 0, 1},
    {"overallConsumptionLastPeriod", T_E_SummaryMeasurement, 0, 1},
    {"currentBillingPeriodOverAllConsumption", T_E_SummaryMeasurement, 0, 1},
    {"currentDayLastYearNetConsumption", T_E_SummaryMeasurement, 0, 1},
    {"currentDayNetConsumption", T_E_SummaryMeasurement, 0, 1},
    {"currentDayOverallConsumption", T_E_SummaryMeasurement, 0, 1},
    {"peakDemand", T_E_SummaryMeasurement, 0, 1},
    {"previousDayLastYearOverallConsumption", T_E_SummaryMeasurement, 0, 1},
    {"previousDayNetConsumption", T_E_SummaryMeasurement, 0, 1},
    {"previousDayOverallConsumption", T_E_SummaryMeasurement, 0, 1},
    {"qualityOfReading", S_QualityOfReading, 0, 1},
    {"ratchetDemand", T_E_SummaryMeasurement, 0, 1},
    {"ratchetDemandPeriod", T_E_DateTimeInterval, 0, 1},
    {"statusTimeStamp", S_TimeType, 1, 1},
    {"commodity", S_CommodityKind, 0, 1},
    {"tariffProfile", S_String256, 0, 1},
    {"readCycle", S_String256, 0, 1},
    {"tariffRiderRefs", T_E_TariffRiderRefs, 0, 1},
    {"billingChargeSource", T_E_BillingChargeSource, 0, 1},
};
static const sch_particle T_E_ServiceStatus_parts[] = {
    {"extension", T_ANY, 0, U},
    {"currentStatus", S_ESPIServiceStatus, 1, 1},
};
static const sch_particle T_E_TimeConfiguration_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
    {"dstEndRule", S_DstRuleType, 1, 1},
    {"dstOffset", S_TimeType, 1, 1},
    {"dstStartRule", S_DstRuleType, 1, 1},
    {"tzOffset", S_TimeType, 1, 1},
};
static const sch_particle T_E_programIdMapping_anon_parts[] = {
    {"tOUorCPPorConsumptionTier", S_tOUorCPPorConsumptionTier, 1, 1},
    {"code", T_ANY, 1, 1},
    {"name", T_ANY, 1, 1},
    {"note", T_ANY, 0, 1},
};
static const sch_particle T_E_ProgramIdMappings_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_E_BatchItemInfo, 0, 1},
    {"programIdMapping", T_E_programIdMapping_anon, 1, U},
};
static const sch_particle T_E_BatchListType_parts[] = {
    {"resources", S_xs_anyURI, 0, U},
};
static const sch_particle T_C_Object_parts[] = {
    {"extension", T_ANY, 0, U},
};
static const sch_particle T_C_AcceptanceTest_parts[] = {
    {"extension", T_ANY, 0, U},
    {"type", S_String256, 0, 1},
    {"success", S_xs_boolean, 0, 1},
    {"dateTime", S_TimeType, 0, 1},
};
static const sch_particle T_C_AccountNotification_parts[] = {
    {"extension", T_ANY, 0, U},
    {"methodKind", S_NotificationMethodKind, 1, 1},
    {"time", S_TimeType, 1, 1},
    {"note", S_String256, 1, 1},
    {"customerNotificationKind", S_String256, 1, 1},
};
static const sch_particle T_C_BatchItemInfo_parts[] = {
    {"extension", T_ANY, 0, U},
    {"name", S_HexBinary16, 0, 1},
    {"operation", S_CRUDOperation, 0, 1},
    {"statusCode", S_StatusCode, 0, 1},
    {"statusReason", S_String256, 0, 1},
};
static const sch_particle T_C_IdentifiedObject_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
};
static const sch_particle T_C_ElectronicAddress_parts[] = {
    {"extension", T_ANY, 0, U},
    {"lan", S_String256, 0, 1},
    {"mac", S_String256, 0, 1},
    {"email1", S_String256, 0, 1},
    {"email2", S_String256, 0, 1},
    {"web", S_String256, 0, 1},
    {"radio", S_String256, 0, 1},
    {"userID", S_String256, 0, 1},
    {"password", S_String256, 0, 1},
};
static const sch_particle T_C_Status_parts[] = {
    {"extension", T_ANY, 0, U},
    {"value", S_String256, 0, 1},
    {"dateTime", S_TimeType, 0, 1},
    {"remark", S_String256, 0, 1},
    {"reason", S_String256, 0, 1},
};
static const sch_particle T_C_Document_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"authorName", S_String256, 0, 1},
    {"createdDateTime", S_TimeType, 0, 1},
    {"lastModifiedDateTime", S_TimeType, 0, 1},
    {"revisionNumber", S_String256, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"subject", S_String256, 0, 1},
    {"title", S_String256, 0, 1},
    {"docStatus", T_C_Status, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"comment", S_String256, 0, 1},
};
static const sch_particle T_C_DateTimeInterval_parts[] = {
    {"extension", T_ANY, 0, U},
    {"duration", S_UInt32, 0, 1},
    {"start", S_TimeType, 0, 1},
};
static const sch_particle T_C_Agreement_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"authorName", S_String256, 0, 1},
    {"createdDateTime", S_TimeType, 0, 1},
    {"lastModifiedDateTime", S_TimeType, 0, 1},
    {"revisionNumber", S_String256, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"subject", S_String256, 0, 1},
    {"title", S_String256, 0, 1},
    {"docStatus", T_C_Status, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"comment", S_String256, 0, 1},
    {"signDate", S_TimeType, 0, 1},
    {"validityInterval", T_C_DateTimeInterval, 0, 1},
};
static const sch_particle T_C_LifecycleDate_parts[] = {
    {"extension", T_ANY, 0, U},
    {"manufacturedDate", S_TimeType, 0, 1},
    {"purchaseDate", S_TimeType, 0, 1},
    {"receivedDate", S_TimeType, 0, 1},
    {"installationDate", S_TimeType, 0, 1},
    {"removalDate", S_TimeType, 0, 1},
    {"retiredDate", S_TimeType, 0, 1},
};
static const sch_particle T_C_Asset_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"utcNumber", S_String256, 0, 1},
    {"serialNumber", S_String256, 0, 1},
    {"lotNumber", S_String256, 0, 1},
    {"purchasePrice", S_Int48, 0, 1},
    {"critical", S_xs_boolean, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"lifecycle", T_C_LifecycleDate, 0, 1},
    {"acceptanceTest", T_C_AcceptanceTest, 0, 1},
    {"initialCondition", S_String256, 0, 1},
    {"initialLossOfLife", S_PerCent, 0, 1},
    {"status", T_C_Status, 0, 1},
};
static const sch_particle T_C_AssetContainer_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"utcNumber", S_String256, 0, 1},
    {"serialNumber", S_String256, 0, 1},
    {"lotNumber", S_String256, 0, 1},
    {"purchasePrice", S_Int48, 0, 1},
    {"critical", S_xs_boolean, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"lifecycle", T_C_LifecycleDate, 0, 1},
    {"acceptanceTest", T_C_AcceptanceTest, 0, 1},
    {"initialCondition", S_String256, 0, 1},
    {"initialLossOfLife", S_PerCent, 0, 1},
    {"status", T_C_Status, 0, 1},
};
static const sch_particle T_C_BatchListType_parts[] = {
    {"resources", S_xs_anyURI, 0, U},
};
static const sch_particle T_C_StreetDetail_parts[] = {
    {"extension", T_ANY, 0, U},
    {"number", S_String256, 0, 1},
    {"name", S_String256, 0, 1},
    {"suffix", S_String256, 0, 1},
    {"prefix", S_String256, 0, 1},
    {"type", S_String256, 0, 1},
    {"code", S_String256, 0, 1},
    {"buildingName", S_String256, 0, 1},
    {"suiteNumber", S_String256, 0, 1},
    {"addressGeneral", S_String256, 0, 1},
    {"addressGeneral2", S_String256, 0, 1},
    {"addressGeneral3", S_String256, 0, 1},
    {"withinTownLimits", S_xs_boolean, 0, 1},
};
static const sch_particle T_C_TownDetail_parts[] = {
    {"extension", T_ANY, 0, U},
    {"code", S_String256, 0, 1},
    {"section", S_String256, 0, 1},
    {"name", S_String256, 0, 1},
    {"county", S_String256, 0, 1},
    {"stateOrProvince", S_String256, 0, 1},
    {"country", S_String256, 0, 1},
};
static const sch_particle T_C_StreetAddress_parts[] = {
    {"extension", T_ANY, 0, U},
    {"streetDetail", T_C_StreetDetail, 0, 1},
    {"townDetail", T_C_TownDetail, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"postalCode", S_String256, 0, 1},
    {"poBox", S_String256, 0, 1},
};
static const sch_particle T_C_TelephoneNumber_parts[] = {
    {"extension", T_ANY, 0, U},
    {"countryCode", S_String256, 0, 1},
    {"areaCode", S_String256, 0, 1},
    {"cityCode", S_String256, 0, 1},
    {"localNumber", S_String256, 0, 1},
    {"ext", S_String256, 0, 1},
    {"dialOut", S_String256, 0, 1},
    {"internationalPrefix", S_String256, 0, 1},
    {"ituPhone", S_String256, 0, 1},
};
static const sch_particle T_C_Organisation_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"streetAddress", T_C_StreetAddress, 0, 1},
    {"postalAddress", T_C_StreetAddress, 0, 1},
    {"phone1", T_C_TelephoneNumber, 0, 1},
    {"phone2", T_C_TelephoneNumber, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"organisationName", S_String256, 0, 1},
};
static const sch_particle T_C_OrganisationRole_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"Organisation", T_C_Organisation, 0, 1},
};
static const sch_particle T_C_Priority_parts[] = {
    {"extension", T_ANY, 0, U},
    {"rank", S_xs_integer, 1, 1},
    {"type", S_String256, 0, 1},
    {"justification", S_String256, 0, 1},
};
static const sch_particle T_C_Customer_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"Organisation", T_C_Organisation, 0, 1},
    {"kind", S_CustomerKind, 0, 1},
    {"specialNeed", S_String256, 0, 1},
    {"vip", S_xs_boolean, 0, 1},
    {"pucNumber", S_String256, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"priority", T_C_Priority, 0, 1},
    {"locale", S_String256, 0, 1},
    {"customerName", S_String256, 0, 1},
};
static const sch_particle T_C_CustomerAccount_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"authorName", S_String256, 0, 1},
    {"createdDateTime", S_TimeType, 0, 1},
    {"lastModifiedDateTime", S_TimeType, 0, 1},
    {"revisionNumber", S_String256, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"subject", S_String256, 0, 1},
    {"title", S_String256, 0, 1},
    {"docStatus", T_C_Status, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"comment", S_String256, 0, 1},
    {"billingCycle", S_String256, 0, 1},
    {"budgetBill", S_String256, 0, 1},
    {"lastBillAmount", S_Int48, 0, 1},
    {"notifications", T_C_AccountNotification, 0, U},
    {"contactInfo", T_C_Organisation, 0, 1},
    {"accountId", S_String256, 0, 1},
};
static const sch_particle T_C_ProgramDate_parts[] = {
    {"programDate", S_TimeType, 0, 1},
    {"programDateDescription", S_xs_string, 0, 1},
};
static const sch_particle T_C_SummaryMeasurement_parts[] = {
    {"extension", T_ANY, 0, U},
    {"powerOfTenMultiplier", S_UnitMultiplierKind, 0, 1},
    {"timeStamp", S_TimeType, 0, 1},
    {"uom", S_UnitSymbolKind, 0, 1},
    {"value", S_Int48, 0, 1},
    {"readingTypeRef", S_xs_anyURI, 0, 1},
};
static const sch_particle T_C_DemandResponseProgram_parts[] = {
    {"programName", S_String256, 0, 1},
    {"enrollmentStatus", S_C_EnrollmentStatus, 0, 1},
    {"programDescription", S_xs_anyURI, 0, 1},
    {"programDate", T_C_ProgramDate, 0, U},
    {"capacityReservationLevel", T_C_SummaryMeasurement, 0, 1},
    {"DRProgramNomination", T_C_SummaryMeasurement, 0, 1},
};
static const sch_particle T_C_CustomerAgreement_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"authorName", S_String256, 0, 1},
    {"createdDateTime", S_TimeType, 0, 1},
    {"lastModifiedDateTime", S_TimeType, 0, 1},
    {"revisionNumber", S_String256, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"subject", S_String256, 0, 1},
    {"title", S_String256, 0, 1},
    {"docStatus", T_C_Status, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"comment", S_String256, 0, 1},
    {"signDate", S_TimeType, 0, 1},
    {"validityInterval", T_C_DateTimeInterval, 0, 1},
    {"loadMgmt", S_String256, 0, 1},
    {"isPrePay", S_xs_boolean, 0, 1},
    {"shutOffDateTime", S_TimeType, 0, 1},
    {"DemandResponseProgram", T_C_DemandResponseProgram, 0, U},
    {"PricingStructures", T_C_PricingStructure, 0, U},
    {"currency", S_Currency, 0, 1},
    {"futureStatus", T_C_Status, 0, U},
    {"agreementId", S_String256, 0, 1},
};
static const sch_particle T_C_EndDevice_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"utcNumber", S_String256, 0, 1},
    {"serialNumber", S_String256, 0, 1},
    {"lotNumber", S_String256, 0, 1},
    {"purchasePrice", S_Int48, 0, 1},
    {"critical", S_xs_boolean, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"lifecycle", T_C_LifecycleDate, 0, 1},
    {"acceptanceTest", T_C_AcceptanceTest, 0, 1},
    {"initialCondition", S_String256, 0, 1},
    {"initialLossOfLife", S_PerCent, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"isVirtual", S_xs_boolean, 0, 1},
    {"isPan", S_xs_boolean, 0, 1},
    {"installCode", S_String256, 0, 1},
    {"amrSystem", S_String256, 0, 1},
};
static const sch_particle T_C_TimeConfiguration_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"dstEndRule", S_DstRuleType, 1, 1},
    {"dstOffset", S_TimeType, 1, 1},
    {"dstStartRule", S_DstRuleType, 1, 1},
    {"tzOffset", S_TimeType, 1, 1},
};
static const sch_particle T_C_PositionPoint_parts[] = {
    {"extension", T_ANY, 0, U},
    {"xPosition", S_String256, 0, 1},
    {"yPosition", S_String256, 0, 1},
    {"zPosition", S_String256, 0, 1},
};
static const sch_particle T_C_Location_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"mainAddress", T_C_StreetAddress, 0, 1},
    {"secondaryAddress", T_C_StreetAddress, 0, 1},
    {"phone1", T_C_TelephoneNumber, 0, 1},
    {"phone2", T_C_TelephoneNumber, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"geoInfoReference", S_String256, 0, 1},
    {"direction", S_String256, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"positionPoints", T_C_PositionPoint, 0, U},
};
static const sch_particle T_C_MeterMultiplier_parts[] = {
    {"extension", T_ANY, 0, U},
    {"kind", S_MeterMultiplierKind, 0, 1},
    {"value", S_xs_float, 0, 1},
};
static const sch_particle T_C_Meter_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"utcNumber", S_String256, 0, 1},
    {"serialNumber", S_String256, 0, 1},
    {"lotNumber", S_String256, 0, 1},
    {"purchasePrice", S_Int48, 0, 1},
    {"critical", S_xs_boolean, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"lifecycle", T_C_LifecycleDate, 0, 1},
    {"acceptanceTest", T_C_AcceptanceTest, 0, 1},
    {"initialCondition", S_String256, 0, 1},
    {"initialLossOfLife", S_PerCent, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"isVirtual", S_xs_boolean, 0, 1},
    {"isPan", S_xs_boolean, 0, 1},
    {"installCode", S_String256, 0, 1},
    {"amrSystem", S_String256, 0, 1},
    {"formNumber", S_String256, 0, 1},
    {"MeterMultipliers", T_C_MeterMultiplier, 0, U},
    {"intervalLength", S_UInt32, 0, 1},
};
static const sch_particle T_C_ProgramDateIdMapping_parts[] = {
    {"extension", T_ANY, 0, U},
    {"programDateType", S_ProgramDateKind, 1, 1},
    {"code", S_String64, 1, 1},
    {"name", S_String256, 1, 1},
    {"note", S_String256, 0, 1},
};
static const sch_particle T_C_ProgramDateIdMappings_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"programDateIdMapping", T_C_ProgramDateIdMapping, 0, 1},
};
static const sch_particle T_C_WorkLocation_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"mainAddress", T_C_StreetAddress, 0, 1},
    {"secondaryAddress", T_C_StreetAddress, 0, 1},
    {"phone1", T_C_TelephoneNumber, 0, 1},
    {"phone2", T_C_TelephoneNumber, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"geoInfoReference", S_String256, 0, 1},
    {"direction", S_String256, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"positionPoints", T_C_PositionPoint, 0, U},
};
static const sch_particle T_C_UsagePoints_parts[] = {
    {"extension", T_ANY, 0, U},
    {"UsagePoint", T_C_UsagePoint, 0, U},
};
static const sch_particle T_C_ServiceLocation_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"type", S_String256, 0, 1},
    {"mainAddress", T_C_StreetAddress, 0, 1},
    {"secondaryAddress", T_C_StreetAddress, 0, 1},
    {"phone1", T_C_TelephoneNumber, 0, 1},
    {"phone2", T_C_TelephoneNumber, 0, 1},
    {"electronicAddress", T_C_ElectronicAddress, 0, 1},
    {"geoInfoReference", S_String256, 0, 1},
    {"direction", S_String256, 0, 1},
    {"status", T_C_Status, 0, 1},
    {"positionPoints", T_C_PositionPoint, 0, U},
    {"accessMethod", S_String256, 0, 1},
    {"siteAccessProblem", S_String256, 0, 1},
    {"needsInspection", S_xs_boolean, 0, 1},
    {"UsagePoints", T_C_UsagePoints, 0, U},
    {"outageBlock", S_String32, 0, 1},
};
static const sch_particle T_C_ServiceSupplier_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"Organisation", T_C_Organisation, 0, 1},
    {"kind", S_SupplierKind, 0, 1},
    {"issuerIdentificationNumber", S_String256, 0, 1},
    {"effectiveDate", S_TimeType, 0, 1},
};
static const sch_particle T_C_StatementRef_parts[] = {
    {"extension", T_ANY, 0, U},
    {"fileName", S_String512, 0, 1},
    {"mediaType", S_MediaType, 0, 1},
    {"statementURL", S_xs_anyURI, 1, 1},
};
static const sch_particle T_C_Statement_parts[] = {
    {"extension", T_ANY, 0, U},
    {"batchItemInfo", T_C_BatchItemInfo, 0, 1},
    {"name", S_name, 0, 1},
    {"issueDateTime", S_TimeType, 0, 1},
    {"statementRef", T_C_StatementRef, 0, U},
};

/* ---- Atom, as GBA's atom.xsd profiles RFC 4287 (hand-written) ----------
 * feed and entry are repeated choices: any order, any number; an entry's
 * links come in runs of at least two (link minOccurs="2" inside the
 * choice).  Every Atom element carries the common attributes (xml:base,
 * xml:lang, other-namespace attributes with a global declaration). */
static const sch_particle atom_feed_parts[] = {
    {"author", T_ATOM_PERSON, 0, U},   {"category", T_ATOM_CATEGORY, 0, U},
    {"contributor", T_ATOM_PERSON, 0, U}, {"generator", T_ATOM_GENERATOR, 0, 1},
    {"icon", T_ATOM_URI, 0, 1},        {"id", T_ATOM_URI, 1, 1},
    {"link", T_ATOM_LINK, 1, 1},       {"logo", T_ATOM_URI, 0, 1},
    {"rights", T_ATOM_TEXT, 0, 1},     {"subtitle", T_ATOM_TEXT, 0, 1},
    {"title", T_ATOM_TEXT, 1, 1},      {"updated", T_ATOM_DATETIME, 1, 1},
    {"entry", T_ATOM_ENTRY, 1, U},
};

static const sch_particle atom_entry_parts[] = {
    {"author", T_ATOM_PERSON, 0, U},   {"category", T_ATOM_CATEGORY, 0, U},
    {"content", T_ATOM_CONTENT, 0, 1}, {"contributor", T_ATOM_PERSON, 0, U},
    {"id", T_ATOM_URI, 1, 1},          {"link", T_ATOM_LINK, 2, U},
    {"published", T_ATOM_DATETIME, 1, 1}, {"rights", T_ATOM_TEXT, 0, 1},
    {"source", T_ATOM_TEXT, 0, 1},     {"summary", T_ATOM_TEXT, 0, 1},
    {"title", T_ATOM_TEXT, 1, 1},      {"updated", T_ATOM_DATETIME, 1, 1},
};

static const sch_particle atom_person_parts[] = {
    {"name", S_xs_string, 1, 1},
    {"uri", T_ATOM_URI, 0, 1},
    {"email", S_ATOM_EMAIL, 0, 1},
};

static const char *const atom_textkind_enums[] = {"text", "html", "xhtml"};
static const char *const xml_space_enums[] = {"default", "preserve"};

static const sch_attr atom_text_attrs[] = {{"type", S_ATOM_TEXTKIND, 0}};
static const sch_attr atom_content_attrs[] = {{"type", S_xs_string, 0}, {"src", S_xs_anyURI, 0}};
static const sch_attr atom_category_attrs[] = {
    {"term", S_xs_string, 1}, {"scheme", S_xs_anyURI, 0}, {"label", S_xs_string, 0}};
static const sch_attr atom_generator_attrs[] = {{"uri", S_xs_anyURI, 0}, {"version", S_xs_string, 0}};
static const sch_attr atom_link_attrs[] = {
    {"href", S_xs_anyURI, 1},     {"rel", S_xs_string, 1},   {"type", S_xs_string, 0},
    {"hreflang", S_xs_NMTOKEN, 0}, {"title", S_xs_string, 0}, {"length", S_xs_positiveInteger, 0}};

#define N_OF(a) ((unsigned char)(sizeof(a) / sizeof((a)[0])))
const sch_attrset sch_attrsets[SCH_AS_COUNT] = {
    [SCH_AS_NONE] = {0, 0},
    [SCH_AS_COMMON] = {0, 0},
    [SCH_AS_TEXT] = {atom_text_attrs, N_OF(atom_text_attrs)},
    [SCH_AS_CONTENT] = {atom_content_attrs, N_OF(atom_content_attrs)},
    [SCH_AS_CATEGORY] = {atom_category_attrs, N_OF(atom_category_attrs)},
    [SCH_AS_GENERATOR] = {atom_generator_attrs, N_OF(atom_generator_attrs)},
    [SCH_AS_LINK] = {atom_link_attrs, N_OF(atom_link_attrs)},
};

/* Attributes of the XML namespace (xml.xsd), allowed on Atom elements. */
const sch_attr sch_xml_attrs[] = {
    {"base", S_xs_anyURI, 0}, {"id", S_xs_ID, 0}, {"lang", S_xs_language, 0}, {"space", S_XML_SPACE, 0}};
const unsigned sch_n_xml_attrs = N_OF(sch_xml_attrs);

const sch_global sch_atom_globals[] = {{"entry", T_ATOM_ENTRY}, {"feed", T_ATOM_FEED}};
const unsigned sch_n_atom_globals = N_OF(sch_atom_globals);

#define SCH_ATOM_TYPES \
    [T_ATOM_FEED] = {.name = "atom:feedType", .kind = SCH_CHOICE, .flags = SCH_F_OTHER, \
                     .ns = SCH_NS_ATOM, .attrs = SCH_AS_COMMON, .parts = atom_feed_parts, \
                     .n = N_OF(atom_feed_parts)}, \
    [T_ATOM_ENTRY] = {.name = "atom:entryType", .kind = SCH_CHOICE, .flags = SCH_F_OTHER, \
                      .ns = SCH_NS_ATOM, .attrs = SCH_AS_COMMON, .parts = atom_entry_parts, \
                      .n = N_OF(atom_entry_parts)}, \
    [T_ATOM_CONTENT] = {.name = "atom:contentType", .kind = SCH_WILD, .flags = SCH_F_MIXED, \
                        .ns = SCH_NS_ATOM, .attrs = SCH_AS_CONTENT}, \
    [T_ATOM_TEXT] = {.name = "atom:textType", .kind = SCH_EMPTY, .flags = SCH_F_MIXED, \
                     .ns = SCH_NS_ATOM, .attrs = SCH_AS_TEXT}, \
    [T_ATOM_PERSON] = {.name = "atom:personType", .kind = SCH_CHOICE, .flags = SCH_F_OTHER, \
                       .ns = SCH_NS_ATOM, .attrs = SCH_AS_COMMON, .parts = atom_person_parts, \
                       .n = N_OF(atom_person_parts)}, \
    [T_ATOM_CATEGORY] = {.name = "atom:categoryType", .kind = SCH_EMPTY, .ns = SCH_NS_ATOM, \
                         .attrs = SCH_AS_CATEGORY}, \
    [T_ATOM_GENERATOR] = {.name = "atom:generatorType", .kind = SCH_SIMPLE, .ns = SCH_NS_ATOM, \
                          .attrs = SCH_AS_GENERATOR, .base = S_xs_string}, \
    [T_ATOM_URI] = {.name = "atom:uriType", .kind = SCH_SIMPLE, .ns = SCH_NS_ATOM, \
                    .attrs = SCH_AS_COMMON, .base = S_xs_anyURI}, \
    [T_ATOM_DATETIME] = {.name = "atom:dateTimeType", .kind = SCH_SIMPLE, .ns = SCH_NS_ATOM, \
                         .attrs = SCH_AS_COMMON, .base = S_xs_dateTime}, \
    [T_ATOM_LINK] = {.name = "atom:linkType", .kind = SCH_EMPTY, .flags = SCH_F_MIXED, \
                     .ns = SCH_NS_ATOM, .attrs = SCH_AS_LINK}, \
    [S_ATOM_EMAIL] = {.name = "atom:emailType", .kind = SCH_EMAIL}, \
    [S_ATOM_TEXTKIND] = {.name = "atom:textType/@type", .kind = SCH_TOKEN, \
                         .enums = atom_textkind_enums, .n = N_OF(atom_textkind_enums)}, \
    [S_xs_dateTime] = {.name = "xs:dateTime", .kind = SCH_DATETIME}, \
    [S_xs_positiveInteger] = {.name = "xs:positiveInteger", .kind = SCH_INT, \
                              .lex = SCH_LEX_TRIM | SCH_LEX_PLUS, .flags = SCH_F_NOMAX, .min = 1}, \
    [S_xs_language] = {.name = "xs:language", .kind = SCH_LANG}, \
    [S_xs_NMTOKEN] = {.name = "xs:NMTOKEN", .kind = SCH_NMTOKEN}, \
    [S_xs_ID] = {.name = "xs:ID", .kind = SCH_NCNAME}, \
    [S_XML_SPACE] = {.name = "xml:space", .kind = SCH_TOKEN, .enums = xml_space_enums, \
                     .n = N_OF(xml_space_enums)},


const sch_type sch_types[SCH_N_TYPES] = {
    SCH_ATOM_TYPES
    [T_ANY] = {.name = "xs:anyType", .kind = SCH_ANY},
    [S_HexBinary16] = {.name = "HexBinary16", .kind = SCH_HEX, .maxlen = 2},
    [S_CRUDOperation] = {.name = "CRUDOperation", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_StatusCode] = {.name = "StatusCode", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_String256] = {.name = "String256", .kind = SCH_STRING, .maxlen = 256},
    [S_String64] = {.name = "String64", .kind = SCH_STRING, .maxlen = 64},
    [S_DataCustodianApplicationStatus] = {.name = "DataCustodianApplicationStatus", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_ThirdPartyApplicatonStatus] = {.name = "ThirdPartyApplicatonStatus", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_ThirdPartyApplicationType] = {.name = "ThirdPartyApplicationType", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_ThirdPartyApplicationUse] = {.name = "ThirdPartyApplicationUse", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_String32] = {.name = "String32", .kind = SCH_STRING, .maxlen = 32},
    [S_xs_anyURI] = {.name = "xs:anyURI", .kind = SCH_URI},
    [S_String512] = {.name = "String512", .kind = SCH_STRING, .maxlen = 512},
    [S_TimeType] = {.name = "TimeType", .kind = SCH_INT, .lex = SCH_LEX_PLUS|SCH_LEX_MINUS, .min = (-9223372036854775807LL - 1), .max = 9223372036854775807LL},
    [S_TokenEndPointMethod] = {.name = "TokenEndPointMethod", .kind = SCH_STRING, .maxlen = 32, .enums = S_TokenEndPointMethod_enums, .n = 1},
    [S_GrantType] = {.name = "GrantType", .kind = SCH_STRING, .maxlen = 32, .enums = S_GrantType_enums, .n = 3},
    [S_ResponseType] = {.name = "ResponseType", .kind = SCH_STRING, .maxlen = 32, .enums = S_ResponseType_enums, .n = 1},
    [S_UInt32] = {.name = "UInt32", .kind = SCH_INT, .lex = 0, .min = 0LL, .max = 4294967295LL},
    [S_AuthorizationStatus] = {.name = "AuthorizationStatus", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_TokenType] = {.name = "TokenType", .kind = SCH_STRING, .maxlen = 32, .enums = S_TokenType_enums, .n = 1},
    [S_OAuthError] = {.name = "OAuthError", .kind = SCH_STRING, .maxlen = 32, .enums = S_OAuthError_enums, .n = 13},
    [S_Int48] = {.name = "Int48", .kind = SCH_INT, .lex = SCH_LEX_PLUS|SCH_LEX_MINUS, .min = -140737488355328LL, .max = 140737488355328LL},
    [S_QualityOfReading] = {.name = "QualityOfReading", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_Int16] = {.name = "Int16", .kind = SCH_INT, .lex = SCH_LEX_PLUS|SCH_LEX_MINUS, .min = -32768LL, .max = 32767LL},
    [S_AccumulationKind] = {.name = "AccumulationKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_CommodityKind] = {.name = "CommodityKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_Currency] = {.name = "Currency", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_DataQualifierKind] = {.name = "DataQualifierKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_FlowDirectionKind] = {.name = "FlowDirectionKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_MeasurementKind] = {.name = "MeasurementKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_PhaseCodeKind] = {.name = "PhaseCodeKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_UnitMultiplierKind] = {.name = "UnitMultiplierKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM|SCH_LEX_PLUS|SCH_LEX_MINUS, .min = -32768LL, .max = 32767LL},
    [S_TimePeriodOfInterest] = {.name = "TimePeriodOfInterest", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_UnitSymbolKind] = {.name = "UnitSymbolKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_xs_integer] = {.name = "xs:integer", .kind = SCH_INT, .lex = SCH_LEX_TRIM|SCH_LEX_PLUS|SCH_LEX_MINUS, .flags = SCH_F_NOMIN|SCH_F_NOMAX},
    [S_TimeAttributeKind] = {.name = "TimeAttributeKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_ServiceKind] = {.name = "ServiceKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_UInt8] = {.name = "UInt8", .kind = SCH_INT, .lex = 0, .min = 0LL, .max = 255LL},
    [S_EnrollmentStatus] = {.name = "EnrollmentStatus", .kind = SCH_STRING, .maxlen = 32, .enums = S_EnrollmentStatus_enums, .n = 3},
    [S_AmiBillingReadyKind] = {.name = "AmiBillingReadyKind", .kind = SCH_STRING, .maxlen = 32, .enums = S_AmiBillingReadyKind_enums, .n = 7},
    [S_xs_boolean] = {.name = "xs:boolean", .kind = SCH_BOOL},
    [S_UsagePointConnectedKind] = {.name = "UsagePointConnectedKind", .kind = SCH_STRING, .maxlen = 32, .enums = S_UsagePointConnectedKind_enums, .n = 3},
    [S_ApnodeType] = {.name = "ApnodeType", .kind = SCH_STRING, .maxlen = 8, .enums = S_ApnodeType_enums, .n = 14},
    [S_AnodeType] = {.name = "AnodeType", .kind = SCH_STRING, .maxlen = 8, .enums = S_AnodeType_enums, .n = 11},
    [S_ItemKind] = {.name = "ItemKind", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_ESPIServiceStatus] = {.name = "ESPIServiceStatus", .kind = SCH_INT, .lex = SCH_LEX_TRIM, .min = 0LL, .max = 65535LL},
    [S_DstRuleType] = {.name = "DstRuleType", .kind = SCH_HEX, .maxlen = 4},
    [S_tOUorCPPorConsumptionTier] = {.name = "tOUorCPPorConsumptionTier", .kind = SCH_STRING, .enums = S_tOUorCPPorConsumptionTier_enums, .n = 3},
    [S_NotificationMethodKind] = {.name = "NotificationMethodKind", .kind = SCH_STRING},
    [S_name] = {.name = "name", .kind = SCH_STRING, .maxlen = 64},
    [S_PerCent] = {.name = "PerCent", .kind = SCH_INT, .lex = SCH_LEX_TRIM|SCH_LEX_PLUS|SCH_LEX_MINUS, .min = 0LL, .max = 100LL},
    [S_CustomerKind] = {.name = "CustomerKind", .kind = SCH_STRING},
    [S_C_EnrollmentStatus] = {.name = "EnrollmentStatus", .kind = SCH_STRING},
    [S_xs_string] = {.name = "xs:string", .kind = SCH_STRING},
    [S_MeterMultiplierKind] = {.name = "MeterMultiplierKind", .kind = SCH_STRING},
    [S_xs_float] = {.name = "xs:float", .kind = SCH_FLOAT},
    [S_ProgramDateKind] = {.name = "ProgramDateKind", .kind = SCH_STRING, .maxlen = 64},
    [S_SupplierKind] = {.name = "SupplierKind", .kind = SCH_STRING},
    [S_MediaType] = {.name = "MediaType", .kind = SCH_STRING},
    [T_E_Object] = {.name = "Object", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_Object_parts, .n = 1},
    [T_E_BatchItemInfo] = {.name = "BatchItemInfo", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_BatchItemInfo_parts, .n = 5},
    [T_E_IdentifiedObject] = {.name = "IdentifiedObject", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_IdentifiedObject_parts, .n = 2},
    [T_E_ApplicationInformation] = {.name = "ApplicationInformation", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_ApplicationInformation_parts, .n = 38},
    [T_E_DateTimeInterval] = {.name = "DateTimeInterval", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_DateTimeInterval_parts, .n = 3},
    [T_E_Authorization] = {.name = "Authorization", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_Authorization_parts, .n = 15},
    [T_E_ReadingQuality] = {.name = "ReadingQuality", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_ReadingQuality_parts, .n = 2},
    [T_E_IntervalReading] = {.name = "IntervalReading", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_IntervalReading_parts, .n = 8},
    [T_E_IntervalBlock] = {.name = "IntervalBlock", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_IntervalBlock_parts, .n = 4},
    [T_E_MeterReading] = {.name = "MeterReading", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_MeterReading_parts, .n = 2},
    [T_E_ReadingInterharmonic] = {.name = "ReadingInterharmonic", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_ReadingInterharmonic_parts, .n = 3},
    [T_E_RationalNumber] = {.name = "RationalNumber", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_RationalNumber_parts, .n = 3},
    [T_E_ReadingType] = {.name = "ReadingType", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_ReadingType_parts, .n = 20},
    [T_E_ServiceCategory] = {.name = "ServiceCategory", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_ServiceCategory_parts, .n = 2},
    [T_E_TariffRiderRef] = {.name = "TariffRiderRef", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_TariffRiderRef_parts, .n = 4},
    [T_E_TariffRiderRefs] = {.name = "TariffRiderRefs", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_TariffRiderRefs_parts, .n = 2},
    [T_E_ServiceDeliveryPoint] = {.name = "ServiceDeliveryPoint", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_ServiceDeliveryPoint_parts, .n = 5},
    [T_E_SummaryMeasurement] = {.name = "SummaryMeasurement", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_SummaryMeasurement_parts, .n = 6},
    [T_E_PnodeRef] = {.name = "PnodeRef", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_PnodeRef_parts, .n = 5},
    [T_E_PnodeRefs] = {.name = "PnodeRefs", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_PnodeRefs_parts, .n = 2},
    [T_E_AggregateNodeRef] = {.name = "AggregateNodeRef", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_AggregateNodeRef_parts, .n = 6},
    [T_E_AggregateNodeRefs] = {.name = "AggregateNodeRefs", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_AggregateNodeRefs_parts, .n = 2},
    [T_E_UsagePoint] = {.name = "UsagePoint", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_UsagePoint_parts, .n = 25},
    [T_E_ElectricPowerQualitySummary] = {.name = "ElectricPowerQualitySummary", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_ElectricPowerQualitySummary_parts, .n = 16},
    [T_E_LineItem] = {.name = "LineItem", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_LineItem_parts, .n = 9},
    [T_E_ElectricPowerUsageSummary] = {.name = "ElectricPowerUsageSummary", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_ElectricPowerUsageSummary_parts, .n = 22},
    [T_E_BillingChargeSource] = {.name = "BillingChargeSource", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_BillingChargeSource_parts, .n = 2},
    [T_E_UsageSummary] = {.name = "UsageSummary", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_UsageSummary_parts, .n = 26},
    [T_E_ServiceStatus] = {.name = "ServiceStatus", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_ServiceStatus_parts, .n = 2},
    [T_E_TimeConfiguration] = {.name = "TimeConfiguration", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_TimeConfiguration_parts, .n = 6},
    [T_E_programIdMapping_anon] = {.name = "programIdMapping", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_programIdMapping_anon_parts, .n = 4},
    [T_E_ProgramIdMappings] = {.name = "ProgramIdMappings", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_ProgramIdMappings_parts, .n = 3},
    [T_E_BatchListType] = {.name = "BatchListType", .kind = SCH_SEQ, .ns = SCH_NS_ESPI, .parts = T_E_BatchListType_parts, .n = 1},
    [T_C_Object] = {.name = "Object", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Object_parts, .n = 1},
    [T_C_AcceptanceTest] = {.name = "AcceptanceTest", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_AcceptanceTest_parts, .n = 4},
    [T_C_AccountNotification] = {.name = "AccountNotification", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_AccountNotification_parts, .n = 5},
    [T_C_BatchItemInfo] = {.name = "BatchItemInfo", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_BatchItemInfo_parts, .n = 5},
    [T_C_IdentifiedObject] = {.name = "IdentifiedObject", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_IdentifiedObject_parts, .n = 3},
    [T_C_ElectronicAddress] = {.name = "ElectronicAddress", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_ElectronicAddress_parts, .n = 9},
    [T_C_Status] = {.name = "Status", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Status_parts, .n = 5},
    [T_C_Document] = {.name = "Document", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Document_parts, .n = 14},
    [T_C_DateTimeInterval] = {.name = "DateTimeInterval", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_DateTimeInterval_parts, .n = 3},
    [T_C_Agreement] = {.name = "Agreement", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Agreement_parts, .n = 16},
    [T_C_LifecycleDate] = {.name = "LifecycleDate", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_LifecycleDate_parts, .n = 7},
    [T_C_Asset] = {.name = "Asset", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Asset_parts, .n = 15},
    [T_C_AssetContainer] = {.name = "AssetContainer", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_AssetContainer_parts, .n = 15},
    [T_C_BatchListType] = {.name = "BatchListType", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_BatchListType_parts, .n = 1},
    [T_C_StreetDetail] = {.name = "StreetDetail", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_StreetDetail_parts, .n = 13},
    [T_C_TownDetail] = {.name = "TownDetail", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_TownDetail_parts, .n = 7},
    [T_C_StreetAddress] = {.name = "StreetAddress", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_StreetAddress_parts, .n = 6},
    [T_C_TelephoneNumber] = {.name = "TelephoneNumber", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_TelephoneNumber_parts, .n = 9},
    [T_C_Organisation] = {.name = "Organisation", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Organisation_parts, .n = 9},
    [T_C_OrganisationRole] = {.name = "OrganisationRole", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_OrganisationRole_parts, .n = 4},
    [T_C_Priority] = {.name = "Priority", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Priority_parts, .n = 4},
    [T_C_Customer] = {.name = "Customer", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Customer_parts, .n = 12},
    [T_C_CustomerAccount] = {.name = "CustomerAccount", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_CustomerAccount_parts, .n = 20},
    [T_C_ProgramDate] = {.name = "ProgramDate", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_ProgramDate_parts, .n = 2},
    [T_C_SummaryMeasurement] = {.name = "SummaryMeasurement", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_SummaryMeasurement_parts, .n = 6},
    [T_C_DemandResponseProgram] = {.name = "DemandResponseProgram", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_DemandResponseProgram_parts, .n = 6},
    [T_C_PricingStructure] = {.name = "PricingStructure", .kind = SCH_SIMPLE, .ns = SCH_NS_CUST, .base = S_xs_anyURI},
    [T_C_CustomerAgreement] = {.name = "CustomerAgreement", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_CustomerAgreement_parts, .n = 24},
    [T_C_EndDevice] = {.name = "EndDevice", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_EndDevice_parts, .n = 19},
    [T_C_TimeConfiguration] = {.name = "TimeConfiguration", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_TimeConfiguration_parts, .n = 7},
    [T_C_PositionPoint] = {.name = "PositionPoint", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_PositionPoint_parts, .n = 4},
    [T_C_Location] = {.name = "Location", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Location_parts, .n = 13},
    [T_C_MeterMultiplier] = {.name = "MeterMultiplier", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_MeterMultiplier_parts, .n = 3},
    [T_C_Meter] = {.name = "Meter", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Meter_parts, .n = 22},
    [T_C_ProgramDateIdMapping] = {.name = "ProgramDateIdMapping", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_ProgramDateIdMapping_parts, .n = 5},
    [T_C_ProgramDateIdMappings] = {.name = "ProgramDateIdMappings", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_ProgramDateIdMappings_parts, .n = 4},
    [T_C_WorkLocation] = {.name = "WorkLocation", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_WorkLocation_parts, .n = 13},
    [T_C_UsagePoint] = {.name = "UsagePoint", .kind = SCH_SIMPLE, .ns = SCH_NS_CUST, .base = S_xs_anyURI},
    [T_C_UsagePoints] = {.name = "UsagePoints", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_UsagePoints_parts, .n = 2},
    [T_C_ServiceLocation] = {.name = "ServiceLocation", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_ServiceLocation_parts, .n = 18},
    [T_C_ServiceSupplier] = {.name = "ServiceSupplier", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_ServiceSupplier_parts, .n = 7},
    [T_C_StatementRef] = {.name = "StatementRef", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_StatementRef_parts, .n = 4},
    [T_C_Statement] = {.name = "Statement", .kind = SCH_SEQ, .ns = SCH_NS_CUST, .parts = T_C_Statement_parts, .n = 5},
};

/* Global elements, sorted by name (byte order) for binary search. */
const sch_global sch_espi_globals[] = {
    {"ApplicationInformation", T_E_ApplicationInformation},
    {"Authorization", T_E_Authorization},
    {"BatchItemInfo", T_E_BatchItemInfo},
    {"BatchList", T_E_BatchListType},
    {"DateTimeInterval", T_E_DateTimeInterval},
    {"ElectricPowerQualitySummary", T_E_ElectricPowerQualitySummary},
    {"ElectricPowerUsageSummary", T_E_ElectricPowerUsageSummary},
    {"IdentifiedObject", T_E_IdentifiedObject},
    {"IntervalBlock", T_E_IntervalBlock},
    {"IntervalReading", T_E_IntervalReading},
    {"LocalTimeParameters", T_E_TimeConfiguration},
    {"MeterReading", T_E_MeterReading},
    {"Object", T_E_Object},
    {"ProgramIdMappings", T_E_ProgramIdMappings},
    {"ReadingQuality", T_E_ReadingQuality},
    {"ReadingType", T_E_ReadingType},
    {"ServiceStatus", T_E_ServiceStatus},
    {"SummaryMeasurement", T_E_SummaryMeasurement},
    {"UsagePoint", T_E_UsagePoint},
    {"UsageSummary", T_E_UsageSummary},
};
const unsigned sch_n_espi_globals = sizeof sch_espi_globals / sizeof sch_espi_globals[0];

/* Global elements, sorted by name (byte order) for binary search. */
const sch_global sch_cust_globals[] = {
    {"AcceptanceTest", T_C_AcceptanceTest},
    {"AccountNotification", T_C_AccountNotification},
    {"Agreement", T_C_Agreement},
    {"Asset", T_C_Asset},
    {"AssetContainer", T_C_AssetContainer},
    {"BatchItemInfo", T_C_BatchItemInfo},
    {"BatchList", T_C_BatchListType},
    {"Customer", T_C_Customer},
    {"CustomerAccount", T_C_CustomerAccount},
    {"CustomerAgreement", T_C_CustomerAgreement},
    {"DateTimeInterval", T_C_DateTimeInterval},
    {"DemandResponseProgram", T_C_DemandResponseProgram},
    {"Document", T_C_Document},
    {"ElectronicAddress", T_C_ElectronicAddress},
    {"EndDevice", T_C_EndDevice},
    {"IdentifiedObject", T_C_IdentifiedObject},
    {"LifecycleDate", T_C_LifecycleDate},
    {"LocalTimeParameters", T_C_TimeConfiguration},
    {"Location", T_C_Location},
    {"Meter", T_C_Meter},
    {"MeterMultiplier", T_C_MeterMultiplier},
    {"Object", T_C_Object},
    {"Organisation", T_C_Organisation},
    {"OrganisationRole", T_C_OrganisationRole},
    {"PositionPoint", T_C_PositionPoint},
    {"PricingStructure", T_C_PricingStructure},
    {"Priority", T_C_Priority},
    {"ProgramDate", T_C_ProgramDate},
    {"ProgramDateIdMapping", T_C_ProgramDateIdMapping},
    {"ProgramDateIdMappings", T_C_ProgramDateIdMappings},
    {"ServiceLocation", T_C_ServiceLocation},
    {"ServiceSupplier", T_C_ServiceSupplier},
    {"Statement", T_C_Statement},
    {"StatementRef", T_C_StatementRef},
    {"Status", T_C_Status},
    {"StreetAddress", T_C_StreetAddress},
    {"StreetDetail", T_C_StreetDetail},
    {"SummaryMeasurement", T_C_SummaryMeasurement},
    {"TelephoneNumber", T_C_TelephoneNumber},
    {"TimeConfiguration", T_C_TimeConfiguration},
    {"TownDetail", T_C_TownDetail},
    {"UsagePoint", T_C_UsagePoint},
    {"UsagePoints", T_C_UsagePoints},
    {"WorkLocation", T_C_WorkLocation},
};
const unsigned sch_n_cust_globals = sizeof sch_cust_globals / sizeof sch_cust_globals[0];

