/* uri.h -- ESPI REST URIs and the entry links built from them.
 *
 * Every entry we write links itself (self), its collection (up) and its
 * children (related) with the Data Custodian URI conventions of
 * ../shared/espi/NOTES.md section 3, under a base such as
 * "https://localhost:8443/DataCustodian/espi/1_1/resource":
 *
 *   {base}/Subscription/{sid}/UsagePoint/{up}
 *   {base}/Subscription/{sid}/UsagePoint/{up}/MeterReading/{mr}
 *   {base}/Subscription/{sid}/UsagePoint/{up}/MeterReading/{mr}/IntervalBlock/{ib}
 *   {base}/Subscription/{sid}/UsagePoint/{up}/UsageSummary/{us}
 *   {base}/Subscription/{sid}/UsagePoint/{up}/ElectricPowerQualitySummary/{q}
 *   {base}/LocalTimeParameters/{id}    {base}/ReadingType/{id}
 *
 * Ids in URIs are the bare UUIDs of the entries (espi_uuid5_bare).  A NULL
 * or "" sid leaves out "/Subscription/{sid}" (a file with no subscription).
 * A trailing '/' on base is ignored; URIs are truncated to ESPI_URI_MAX - 1. */
#ifndef ESPI_URI_H
#define ESPI_URI_H

#include "espi.h"

#define ESPI_DEFAULT_BASE "https://localhost:8443/DataCustodian/espi/1_1/resource"

/* Fill e's self/up/related links for each resource kind.  Any of the
 * string ids may be bare UUIDs or other URI-safe keys.  Titles, ids and
 * times are not touched. */
void espi_links_usage_point(espi_entry *e, const char *base, const char *sid, const char *up,
                            const char *ltp /* LocalTimeParameters id or NULL */,
                            int has_summary, int has_quality_summary);
void espi_links_meter_reading(espi_entry *e, const char *base, const char *sid, const char *up,
                              const char *mr, const char *rt);
void espi_links_reading_type(espi_entry *e, const char *base, const char *rt);
void espi_links_interval_block(espi_entry *e, const char *base, const char *sid, const char *up,
                               const char *mr, const char *ib);
void espi_links_usage_summary(espi_entry *e, const char *base, const char *sid, const char *up,
                              const char *us);
void espi_links_power_quality_summary(espi_entry *e, const char *base, const char *sid,
                                      const char *up, const char *q);
void espi_links_local_time_parameters(espi_entry *e, const char *base, const char *ltp);

/* {base}/Batch/Subscription/{sid}: the URI of a whole subscription as one
 * feed (the self link of a Download-My-Data or Batch feed). */
void espi_uri_batch_subscription(char out[ESPI_URI_MAX], const char *base, const char *sid);

/* Add one related link; silently ignored past ESPI_MAX_RELATED. */
void espi_entry_add_related(espi_entry *e, const char *href);

#endif
