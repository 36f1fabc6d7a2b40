/* detect.c -- source format detection from content, and the format table.
 *
 * Each test looks for markers that real exports carry in their first lines
 * (../shared/sources/FORMATS.md): binary signatures first (PDF, ZIP), then
 * JSON and XML by their first character, then the CSV and text layouts by
 * header words.  The order matters only where layouts could share a word;
 * the most specific markers go first.  Nothing is decoded: a file that
 * passes detection may still be rejected by its translator, with a line
 * number. */
#include "detect.h"

#include <string.h>

#include "bill.h"
#include "edi867.h"
#include "opower.h"
#include "smarthub.h"
#include "smt.h"
#include "xlsx.h"

/* The registry.  Adding a translator = putting its reader in its row. */
static const tr_format_info formats[] = {
    {TR_FORMAT_SMARTHUB, "smarthub", "SmartHub usage poll JSON", tr_smarthub_read, NULL, 0},
    {TR_FORMAT_SMARTHUB_CSV, "smarthub-csv", "SmartHub Green Button CSV", tr_smarthub_csv_read,
     NULL, 0},
    {TR_FORMAT_SMT, "smt", "Smart Meter Texas interval or daily CSV", tr_smt_read, TR_SMT_ZONE, 0},
    {TR_FORMAT_OPOWER, "opower", "Opower Download My Data CSV", tr_opower_read, NULL, 0},
    {TR_FORMAT_BILL_PDF, "bill-pdf", "bill PDF", tr_bill_pdf_read, NULL, 0},
    {TR_FORMAT_BILL_TEXT, "bill-text", "bill text (pdftotext -layout)", tr_bill_text_read, NULL, 0},
    {TR_FORMAT_BILL_CSV, "bill-csv", "billing-history CSV", tr_bill_csv_read, NULL, 0},
    {TR_FORMAT_XLSX, "xlsx", "xlsx workbook", tr_xlsx_read, NULL, 0},
    {TR_FORMAT_EDI867, "edi867", "ANSI X12 867 usage (EDI)", tr_edi867_read, NULL, 0},
};
#define N_FORMATS (sizeof formats / sizeof formats[0])

const tr_format_info *tr_formats(size_t *n)
{
    *n = N_FORMATS;
    return formats;
}

const tr_format_info *tr_format_get(tr_format f)
{
    for (size_t i = 0; i < N_FORMATS; i++)
        if (formats[i].format == f) return &formats[i];
    return NULL;
}

const tr_format_info *tr_format_by_name(const char *name)
{
    for (size_t i = 0; i < N_FORMATS; i++)
        if (strcmp(formats[i].name, name) == 0) return &formats[i];
    return NULL;
}

const char *tr_detect_tried(void)
{
    return "SmartHub usage poll JSON, SmartHub Green Button CSV, Smart Meter Texas interval or "
           "daily CSV, Opower Download My Data CSV, bill PDF, bill text (pdftotext -layout), "
           "billing-history CSV, xlsx workbook, ANSI X12 867 usage (EDI)";
}

/* ---- byte helpers ----------------------------------------------------------- */

typedef struct span {
    const char *p;
    size_t n;
} span;

static int has(span s, const char *needle)
{
    size_t k = strlen(needle);
    if (k == 0 || k > s.n) return k == 0;
    for (size_t i = 0; i + k <= s.n; i++)
        if (s.p[i] == needle[0] && memcmp(s.p + i, needle, k) == 0) return 1;
    return 0;
}

static int starts(span s, const char *prefix)
{
    size_t k = strlen(prefix);
    return s.n >= k && memcmp(s.p, prefix, k) == 0;
}

/* The next line of *rest (without CR/LF, leading blanks kept); 0 at the end. */
static int next_line(span *rest, span *line)
{
    if (rest->n == 0) return 0;
    const char *nl = memchr(rest->p, '\n', rest->n);
    size_t len = nl ? (size_t)(nl - rest->p) : rest->n;
    line->p = rest->p;
    line->n = len > 0 && rest->p[len - 1] == '\r' ? len - 1 : len;
    rest->p += nl ? len + 1 : len;
    rest->n -= nl ? len + 1 : len;
    return 1;
}

static span skip_bom_blanks(span s)
{
    if (starts(s, "\xEF\xBB\xBF")) s.p += 3, s.n -= 3;
    while (s.n && (*s.p == ' ' || *s.p == '\t' || *s.p == '\r' || *s.p == '\n')) s.p++, s.n--;
    return s;
}

static tr_format found(tr_detection *out, tr_format f, const char *what)
{
    out->format = f;
    snprintf(out->what, sizeof out->what, "%s", what);
    return f;
}

/* What an unknown text starts with: its first line, printable, shortened. */
static tr_format unknown_text(tr_detection *out, span first)
{
    char shown[64];
    size_t n = 0;
    for (size_t i = 0; i < first.n && n + 1 < sizeof shown - 4; i++) {
        unsigned char c = (unsigned char)first.p[i];
        shown[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (first.n > n) memcpy(shown + n, "...", 3), n += 3;
    shown[n] = 0;
    out->format = TR_FORMAT_UNKNOWN;
    snprintf(out->what, sizeof out->what, "text starting \"%s\"", shown);
    return TR_FORMAT_UNKNOWN;
}

/* ---- the tests ------------------------------------------------------------------ */

static tr_format detect_binary(span s, tr_detection *out)
{
    span first_kib = {s.p, s.n < 1024 ? s.n : 1024};
    if (has(first_kib, "%PDF-")) return found(out, TR_FORMAT_BILL_PDF, "a PDF document (%PDF-)");
    if (starts(s, "PK\x03\x04")) {
        if (has(s, "xl/")) return found(out, TR_FORMAT_XLSX, "a ZIP archive with xl/ parts (xlsx)");
        return found(out, TR_FORMAT_UNKNOWN,
                     "a ZIP archive that is not an xlsx workbook (a Green Button ZIP holds ESPI "
                     "XML: unzip it and run espigate validate)");
    }
    return TR_FORMAT_UNKNOWN;
}

static tr_format detect_json_xml(span s, tr_detection *out)
{
    if (*s.p == '{' || *s.p == '[') {
        if (has(s, "\"ELECTRIC\""))
            return found(out, TR_FORMAT_SMARTHUB, "JSON with an \"ELECTRIC\" usage key (SmartHub poll)");
        if (has(s, "\"status\"") && (has(s, "\"data\"") || has(s, "PENDING")))
            return found(out, TR_FORMAT_SMARTHUB, "JSON with SmartHub's \"status\"/\"data\" wrapper");
        return found(out, TR_FORMAT_UNKNOWN, "JSON without SmartHub's \"status\"/\"data\"/\"ELECTRIC\" keys");
    }
    if (*s.p == '<') {
        if (has(s, "http://www.w3.org/2005/Atom") || has(s, "naesb.org/espi"))
            return found(out, TR_FORMAT_UNKNOWN,
                         "ESPI/Atom XML: already a Green Button feed (check it with espigate validate)");
        return found(out, TR_FORMAT_UNKNOWN, "XML that is not a known source");
    }
    return TR_FORMAT_UNKNOWN;
}

static tr_format detect_text(span s, tr_detection *out)
{
    span rest = s, line, first = {s.p, 0};
    int n = 0, opower = 0, opower_billing = 0;
    next_line(&(span){s.p, s.n}, &first);
    if (starts(s, "ISA") && s.n > 3 && !(s.p[3] >= '0' && s.p[3] <= '9') &&
        !((s.p[3] | 0x20) >= 'a' && (s.p[3] | 0x20) <= 'z') && s.p[3] != ' ')
        return found(out, TR_FORMAT_EDI867, "an X12 interchange header (ISA)");
    if (has(first, "ESIID") && has(first, "USAGE_DATE")) {
        if (has(first, "USAGE_START_TIME"))
            return found(out, TR_FORMAT_SMT, "SMT 15-minute interval CSV header (ESIID,USAGE_DATE,...)");
        return found(out, TR_FORMAT_SMT, "SMT daily meter read CSV header (ESIID,USAGE_DATE,...)");
    }
    if (has(s, "Interval Blockdata") || (has(s, "Usage Information") && has(s, "Type of readings")))
        return found(out, TR_FORMAT_SMARTHUB_CSV, "SmartHub block layout (Usage Information / "
                                                   "Interval Blockdata)");
    while (n++ < 64 && next_line(&rest, &line)) {
        if (starts(line, "\xEF\xBB\xBF")) line.p += 3, line.n -= 3;
        if (starts(line, "TYPE,")) {
            opower = 1;
            opower_billing = has(line, "START DATE");
            break;
        }
    }
    if (opower)
        return found(out, TR_FORMAT_OPOWER, opower_billing ? "Opower billing CSV (TYPE,START DATE,...)"
                                                           : "Opower interval CSV (TYPE,DATE,...)");
    if (has(s, "Billing Period") && has(s, "kWh Use"))
        return found(out, TR_FORMAT_BILL_TEXT, "bill text with \"Billing Period\" and \"kWh Use\"");
    if (has(first, "bill_date") && (has(first, "kwh_used") || has(first, "line_item")))
        return found(out, TR_FORMAT_BILL_CSV, has(first, "line_item")
                                                  ? "billing line-item CSV header (bill_date,line_item,...)"
                                                  : "billing-history CSV header (bill_date,...,kwh_used,...)");
    return unknown_text(out, first);
}

tr_format tr_detect(const unsigned char *buf, size_t len, tr_detection *out)
{
    span s = {(const char *)buf, len < TR_DETECT_HEAD ? len : TR_DETECT_HEAD};
    tr_format f;
    out->format = TR_FORMAT_UNKNOWN;
    out->what[0] = 0;
    if (len == 0) return found(out, TR_FORMAT_UNKNOWN, "an empty file");
    if ((f = detect_binary(s, out)) != TR_FORMAT_UNKNOWN || out->what[0]) return f;
    s = skip_bom_blanks(s);
    if (s.n == 0) return found(out, TR_FORMAT_UNKNOWN, "only blank lines");
    if ((f = detect_json_xml(s, out)) != TR_FORMAT_UNKNOWN || out->what[0]) return f;
    if (memchr(s.p, 0, s.n)) return found(out, TR_FORMAT_UNKNOWN, "binary data of no known kind");
    return detect_text(s, out);
}
