/* xlsx.c -- co-op Excel (.xlsx) interval exports -> ESPI-ready readings.
 *
 * An .xlsx file is a zip of XML parts.  We read exactly four of them:
 *
 *   xl/workbook.xml              the sheet list: the first visible <sheet>'s
 *                                name and r:id, and workbookPr date1904;
 *   xl/_rels/workbook.xml.rels   r:id -> the sheet part ("worksheets/
 *                                sheet1.xml"), and the sharedStrings part;
 *   xl/sharedStrings.xml         the shared strings table (text cells point
 *                                into it by index), kept in memory, bounded
 *                                by TR_XLSX_MAX_STRINGS / TR_XLSX_STRINGS_BYTES;
 *   the sheet                    streamed row by row: memory holds one row
 *                                (TR_XLSX_MAX_COLS cells of CELL_MAX bytes)
 *                                and a small record per meter, whatever the
 *                                number of rows.
 *
 * Safety.  The zip is read with libzip from memory (the file is bounded by
 * TR_XLSX_FILE_MAX); a workbook with more than TR_XLSX_MAX_ENTRIES entries,
 * a part declaring more than TR_XLSX_PART_MAX bytes, or a part over 1 MiB
 * compressed more than TR_XLSX_MAX_RATIO:1 is refused before inflating
 * anything, and a part that inflates to more than it declared is cut off.
 * XML goes through libxml2's streaming xmlTextReader with XML_PARSE_NONET
 * and no DTD loading, attribute defaulting or entity substitution; any
 * DOCTYPE is refused (OOXML parts never have one).
 *
 * Cells.  <c r="B7" t="..."><v>...</v></c>: t="s" shared string index,
 * t="inlineStr" (<is><t>), t="str" (formula text), t="b" boolean, t="e"
 * error, t="d" ISO date text, none/"n" a number as text.  Numbers are never
 * turned into doubles: dates and kWh are parsed exactly from their text.
 *
 * Columns are found by header text, compared after keeping only letters and
 * digits, lowercased ("Read Date/Time" -> "readdatetime").  The header is the
 * first row (of TR_XLSX_HEADER_ROWS) holding a kWh column and a date or time
 * column; rows above it are titles.  Synonyms (first match per role wins):
 *   meter    meter, meternumber, meterno, meterid, meterserial,
 *            meterserialnumber, serialnumber
 *   date     date, readdate, readingdate, usagedate, intervaldate,
 *            servicedate, startdate, day
 *   start    starttime, start, intervalstart, intervalstarttime,
 *            startdatetime, intervalstartdatetime, begintime, fromtime,
 *            datetime, timestamp, time, intervaltime, intervaldatetime
 *   end      endtime, end, intervalend, intervalendtime, enddatetime,
 *            intervalenddatetime, totime, hourending, readdatetime,
 *            readingdatetime, readtime, readingtime
 *   kWh      kwh, usagekwh, kwhusage, consumptionkwh, energykwh, kwhused,
 *            kwhdelivered, deliveredkwh, intervalkwh, readingkwh, valuekwh,
 *            totalkwh
 *   quality  estimated, estimate, isestimated, estimatedflag,
 *            estimatedactual, quality, readquality, readingquality,
 *            dataquality, qualitycode, readtype
 * "Read Date/Time" is an END: a meter read is taken at the end of the
 * interval it measures.  A bare "Usage" is not taken as kWh (its unit is
 * unknown).  Without a meter column the sheet is one meter, "meter".
 *
 * Times.  A date or time cell is an Excel serial number (days since
 * 1899-12-30, or 1904-01-01 with date1904; the fraction is the time of day)
 * or text ("11/3/2024 1:00:00 AM", "2024-11-03 01:00", "01:15").  A serial
 * is parsed exactly at 12 decimals (tr_dec_parse) and its fraction rounded
 * to the nearest second -- Excel's doubles print within microseconds of the
 * true time, so 45599.0104166667 is 2024-11-03 00:15:00 exactly.  A time
 * without a date takes the row's Date; an End of 00:00 after a later Start
 * is midnight of the next day.  Wall clock -> UTC with tr_tz_local_to_utc.
 * The interval length L of a meter is End - Start of its first row, or the
 * largest of 1 day, 60, 30, 20, 15, 10, 5, 3, 2, 1 minutes dividing the gap
 * between its first two rows (its first row waits for the second; a row
 * missing between them stays a gap).
 * L == 1 day makes daily readings (23/25-hour days on DST days).  Like
 * smt.c, a row's UTC start is chosen among its Start read both ways (first
 * and second occurrence of a repeated hour) and End - L read both ways: the
 * one equal to the meter's previous end wins (so the second 01:xx block of a
 * fall-back day is standard time, by row order), else the earliest not
 * before it; a row going back in time is refused.  Spring-forward rows with
 * no kWh are dropped (TR_SKIP_NONEXISTENT); blank kWh is a gap, not a zero.
 *
 * Values.  kWh parsed exactly at 3 decimals (Wh), text or number, with no
 * thousands separators (a decimal comma "0,145" is refused, never read as
 * 145 kWh); Excel's float noise
 * (0.145000000000001, 0.14499999999999999) is rounded half away from zero
 * to the Wh and the reading flagged TR_READING_ROUNDED.  Quality: estimated
 * (E, Est, Estimated, Y, Yes, True, 1, a TRUE boolean) -> 8 "estimated
 * using reference day", as smt.c; edited (Edited, Manual) -> 7; actual (A,
 * Actual, N, No, False, 0, Valid, Good, empty) -> none. */
#include "xlsx.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>
#include <zip.h>

#include "decimal.h"

#define CELL_MAX 128
#define METER_MAX 48
#define PART_NAME_MAX 256
#define SHEET_NAME_MAX 128
#define XML_MSG_MAX 200
#define ONE_MIB ((zip_uint64_t)1 << 20)
#define E12 INT64_C(1000000000000)
#define MAX_SHEET_ROW 1048576L   /* Excel's last row */
#define SKIPPED 1                /* a row dropped in lenient mode */
#define SERIAL_1970_1900 25569   /* serial of 1970-01-01, 1900 date system */
#define SERIAL_1970_1904 24107   /* the same in the 1904 date system */
#define SERIAL_MAX 2958465       /* 9999-12-31 */

typedef enum cell_kind { CELL_EMPTY = 0, CELL_NUMBER, CELL_TEXT, CELL_BOOL, CELL_ERROR } cell_kind;

typedef struct cell {
    cell_kind kind;
    int truncated;             /* text longer than CELL_MAX - 1 */
    char text[CELL_MAX];
} cell;

typedef struct row {
    long number;               /* the sheet row, 1-based: our "line" */
    int max_col;               /* highest column holding a cell, -1 none */
    cell c[TR_XLSX_MAX_COLS];
} row;

enum role { ROLE_METER, ROLE_DATE, ROLE_START, ROLE_END, ROLE_KWH, ROLE_QUALITY, ROLE_COUNT };

/* The shared strings: NUL-terminated texts back to back, and their offsets. */
typedef struct sst {
    uint32_t *off;
    size_t n, cap;
    char *text;
    size_t len, tcap;
} sst;

/* One zip part being inflated into the XML reader. */
typedef struct part {
    zip_file_t *zf;
    zip_uint64_t declared, got;
    int overrun, zip_failed;
    char zip_msg[XML_MSG_MAX];
} part;

typedef struct xml {
    xmlTextReaderPtr r;
    part p;
    const char *name;          /* the part's name, for messages */
    char msg[XML_MSG_MAX];     /* libxml2's first error */
    int line;
} xml;

/* A data row, parsed: naive local wall seconds (days since 1970 * 86400 + seconds). */
typedef struct rowdata {
    char meter[METER_MAX];
    int has_s, has_e;
    int64_t ws, we;
    int has_value, rounded;
    int64_t wh, quality;
    long line;
} rowdata;

typedef struct chan {
    char meter[METER_MAX];
    int index;                 /* tr_channel.index, -1 until declared */
    int64_t len;               /* interval length in seconds, 0 until known */
    int64_t last_end;          /* UTC end of the previous row, ESPI_NONE */
    int has_pending;
    rowdata pending;           /* the first row, while the length is unknown */
} chan;

typedef struct xlsx {
    const char *name;
    const tr_options *o;
    const tr_sink *sink;
    eg_err *err;
    zip_t *za;
    int date1904;
    char sheet_name[SHEET_NAME_MAX];
    char sheet_part[PART_NAME_MAX];
    char sst_part[PART_NAME_MAX];
    sst s;
    int have_header;
    long header_row, rows_before_header;
    int col[ROLE_COUNT];       /* -1 when absent */
    char label[ROLE_COUNT][CELL_MAX];
    chan ch[TR_MAX_CHANNELS];
    int n_ch, n_declared;
    long data_rows;
    row cur;
    long last_row;
} xlsx;

/* ---- messages ---------------------------------------------------------------- */

#define ROW_PROBLEM(x, line, ...) \
    tr_row_problem((x)->sink, (x)->o, (x)->name, (line), (x)->err, __VA_ARGS__)

static int problem_rc(int rc)
{
    return rc < 0 ? rc : SKIPPED;
}

/* "AB12" for column 27, row 12. */
static void cell_ref(int col, long rownum, char out[16])
{
    char letters[4];
    int n = 0;
    for (int c = col + 1; c > 0 && n < 3; c = (c - 1) / 26) letters[n++] = (char)('A' + (c - 1) % 26);
    int k = 0;
    while (n > 0) out[k++] = letters[--n];
    snprintf(out + k, (size_t)(16 - k), "%ld", rownum);
}

/* A cell's text for a message: printable ASCII, at most 40 characters. */
static void shown(const cell *c, char out[48])
{
    size_t n = 0;
    for (const char *p = c->text; *p && n < 40; p++)
        out[n++] = (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f ? *p : '?';
    if (c->text[n] || c->truncated) memcpy(out + (n > 40 ? 40 : n), "...", 3), n += 3;
    out[n] = 0;
}

/* ---- the zip package ---------------------------------------------------------- */

static int open_package(xlsx *x, const void *buf, size_t len)
{
    zip_error_t ze;
    zip_source_t *src;
    const unsigned char *b = buf;
    if (len < 4 || memcmp(b, "PK\003\004", 4) != 0) {
        if (len >= 4 && memcmp(b, "\xD0\xCF\x11\xE0", 4) == 0)
            return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                           "is an OLE2 file: an old .xls workbook or a password-protected .xlsx "
                           "(expected an .xlsx zip; save it from Excel as .xlsx without a password)");
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                       "is not a zip archive (an .xlsx workbook is a zip starting with \"PK\")");
    }
    zip_error_init(&ze);
    if (!(src = zip_source_buffer_create(buf, len, 0, &ze))) {
        zip_error_fini(&ze);
        return eg_errf(x->err, EG_ENOMEM, x->name, 0, 0, "out of memory");
    }
    if (!(x->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze))) {
        int rc = eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                         "is not a readable zip archive: %s (expected an .xlsx workbook)",
                         zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return rc;
    }
    zip_error_fini(&ze);
    zip_int64_t n = zip_get_num_entries(x->za, 0);
    if (n > TR_XLSX_MAX_ENTRIES)
        return eg_errf(x->err, EG_ELIMIT, x->name, 0, 0,
                       "zip holds %lld entries (limit %d; an .xlsx export has a dozen)",
                       (long long)n, TR_XLSX_MAX_ENTRIES);
    return 0;
}

/* Open part `pname` for reading, after the zip-bomb checks.  0 ok, 1 absent
 * and not required, <0 error. */
static int open_part(xlsx *x, const char *pname, int required, part *p)
{
    zip_stat_t st;
    zip_int64_t i = zip_name_locate(x->za, pname, ZIP_FL_NOCASE);
    if (i < 0) {
        if (!required) return 1;
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                       "%s: missing from the zip (expected an .xlsx workbook with this part)", pname);
    }
    zip_stat_init(&st);
    if (zip_stat_index(x->za, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0, "%s: cannot read its zip entry: %s", pname,
                       zip_strerror(x->za));
    if (st.size > TR_XLSX_PART_MAX)
        return eg_errf(x->err, EG_ELIMIT, x->name, 0, 0,
                       "%s: declares %llu bytes uncompressed (limit %llu): refused as a possible "
                       "zip bomb", pname, (unsigned long long)st.size, TR_XLSX_PART_MAX);
    if ((st.valid & ZIP_STAT_COMP_SIZE) && st.size > ONE_MIB &&
        st.size / (st.comp_size ? st.comp_size : 1) > TR_XLSX_MAX_RATIO)
        return eg_errf(x->err, EG_ELIMIT, x->name, 0, 0,
                       "%s: compressed %llu:1 (limit %d:1): refused as a possible zip bomb", pname,
                       (unsigned long long)(st.size / (st.comp_size ? st.comp_size : 1)),
                       TR_XLSX_MAX_RATIO);
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                       "%s: encrypted (expected a workbook saved without a password)", pname);
    if (!(p->zf = zip_fopen_index(x->za, (zip_uint64_t)i, 0)))
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0, "%s: cannot be opened: %s", pname,
                       zip_strerror(x->za));
    p->declared = st.size;
    return 0;
}

/* libxml2 pulls bytes through here; -1 stops the parse (reasons in *p). */
static int part_read(void *ctx, char *buf, int len)
{
    part *p = ctx;
    if (len <= 0) return 0;
    zip_int64_t n = zip_fread(p->zf, buf, (zip_uint64_t)len);
    if (n < 0) {
        p->zip_failed = 1;
        snprintf(p->zip_msg, sizeof p->zip_msg, "%s", zip_file_strerror(p->zf));
        return -1;
    }
    p->got += (zip_uint64_t)n;
    if (p->got > p->declared || p->got > TR_XLSX_PART_MAX) {
        p->overrun = 1;
        return -1;
    }
    return (int)n;
}

/* ---- streaming XML ------------------------------------------------------------- */

static void xml_error(void *ctx, xmlErrorPtr e)
{
    xml *m = ctx;
    if (m->msg[0] || !e) return;
    snprintf(m->msg, sizeof m->msg, "%s", e->message ? e->message : "XML error");
    size_t n = strlen(m->msg);
    while (n && (m->msg[n - 1] == '\n' || m->msg[n - 1] == ' ')) m->msg[--n] = 0;
    m->line = e->line;
}

static void xml_close(xml *m)
{
    if (m->r) xmlFreeTextReader(m->r);
    if (m->p.zf) zip_fclose(m->p.zf);
    m->r = NULL;
    m->p.zf = NULL;
}

/* Open part pname as a streaming XML reader.  0 ok, 1 absent (not
 * required), <0 error.  Close with xml_close() in every case. */
static int xml_open(xlsx *x, const char *pname, int required, xml *m)
{
    int rc;
    memset(m, 0, sizeof *m);
    m->name = pname;
    if ((rc = open_part(x, pname, required, &m->p))) return rc;
    /* NONET; no DTDLOAD, DTDATTR, NOENT: nothing outside the part is read
     * and no entity is substituted. */
    m->r = xmlReaderForIO(part_read, NULL, &m->p, pname, NULL, XML_PARSE_NONET);
    if (!m->r) return eg_errf(x->err, EG_ENOMEM, x->name, 0, 0, "%s: out of memory", pname);
    xmlTextReaderSetStructuredErrorHandler(m->r, xml_error, m);
    return 0;
}

/* Advance to the next node: 1 a node, 0 the end, <0 error (err filled). */
static int xml_next(xlsx *x, xml *m)
{
    int rc = xmlTextReaderRead(m->r);
    if (rc == 1) {
        if (xmlTextReaderNodeType(m->r) == XML_READER_TYPE_DOCUMENT_TYPE)
            return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                           "%s: has a DOCTYPE declaration (xlsx parts have none; refused so that "
                           "no entity is ever expanded)", m->name);
        return 1;
    }
    if (rc == 0) return 0;
    if (m->p.overrun)
        return eg_errf(x->err, EG_ELIMIT, x->name, 0, 0,
                       "%s: inflates to more than the %llu bytes it declares: refused as a possible "
                       "zip bomb", m->name, (unsigned long long)m->p.declared);
    if (m->p.zip_failed)
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0, "%s: cannot be decompressed: %s", m->name,
                       m->p.zip_msg);
    return eg_errf(x->err, EG_EDATA, x->name, 0, 0, "%s:%d: not well-formed XML: %s", m->name,
                   m->line, m->msg[0] ? m->msg : "parse error");
}

static int node_is(const xml *m, int type, const char *local)
{
    const char *n;
    if (xmlTextReaderNodeType(m->r) != type) return 0;
    n = (const char *)xmlTextReaderConstLocalName(m->r);
    return n && strcmp(n, local) == 0;
}

static int is_start(const xml *m, const char *local)
{
    return node_is(m, XML_READER_TYPE_ELEMENT, local);
}

static int is_end(const xml *m, const char *local)
{
    return node_is(m, XML_READER_TYPE_END_ELEMENT, local);
}

static int is_empty(const xml *m)
{
    return xmlTextReaderIsEmptyElement(m->r) == 1;
}

static const char *text_of(const xml *m)
{
    int t = xmlTextReaderNodeType(m->r);
    if (t != XML_READER_TYPE_TEXT && t != XML_READER_TYPE_CDATA &&
        t != XML_READER_TYPE_WHITESPACE && t != XML_READER_TYPE_SIGNIFICANT_WHITESPACE)
        return NULL;
    return (const char *)xmlTextReaderConstValue(m->r);
}

/* Copy the attribute with local name `local` (any prefix) into out; 1 found. */
static int attr(const xml *m, const char *local, char *out, size_t size)
{
    int found = 0;
    out[0] = 0;
    if (xmlTextReaderMoveToFirstAttribute(m->r) != 1) return 0;
    do {
        const char *n = (const char *)xmlTextReaderConstLocalName(m->r);
        const char *v = (const char *)xmlTextReaderConstValue(m->r);
        if (n && v && strcmp(n, local) == 0) {
            snprintf(out, size, "%s", v);
            found = 1;
            break;
        }
    } while (xmlTextReaderMoveToNextAttribute(m->r) == 1);
    xmlTextReaderMoveToElement(m->r);
    return found;
}

/* ---- workbook and relationships ---------------------------------------------------- */

/* "worksheets/sheet1.xml" (relative to xl/) or "/xl/worksheets/sheet1.xml". */
static int resolve_target(const char *target, char out[PART_NAME_MAX])
{
    int n;
    if (!*target || strstr(target, "..") || strchr(target, '\\') || strstr(target, "://")) return -1;
    n = target[0] == '/' ? snprintf(out, PART_NAME_MAX, "%s", target + 1)
                         : snprintf(out, PART_NAME_MAX, "xl/%s", target);
    return n > 0 && n < PART_NAME_MAX ? 0 : -1;
}

static int read_rels(xlsx *x, const char *rid)
{
    static const char rels[] = "xl/_rels/workbook.xml.rels";
    char id[64], type[256], target[PART_NAME_MAX];
    xml m;
    int rc, have_sheet = 0;
    if ((rc = xml_open(x, rels, 1, &m))) goto done;
    while ((rc = xml_next(x, &m)) == 1) {
        if (!is_start(&m, "Relationship")) continue;
        attr(&m, "Id", id, sizeof id);
        attr(&m, "Type", type, sizeof type);
        attr(&m, "Target", target, sizeof target);
        size_t tl = strlen(type);
        if (strcmp(id, rid) == 0) {
            if (resolve_target(target, x->sheet_part)) {
                rc = eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                             "%s: sheet \"%s\" points to \"%s\" (expected a part inside the zip, "
                             "e.g. worksheets/sheet1.xml)", rels, x->sheet_name, target);
                goto done;
            }
            have_sheet = 1;
        } else if (tl >= 14 && strcmp(type + tl - 14, "/sharedStrings") == 0 &&
                   resolve_target(target, x->sst_part)) {
            snprintf(x->sst_part, sizeof x->sst_part, "xl/sharedStrings.xml");
        }
    }
    if (rc < 0) goto done;
    if (!have_sheet)
        rc = eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                     "%s: has no Relationship Id=\"%s\" for sheet \"%s\" (expected the workbook's "
                     "sheet list and relationships to agree)", rels, rid, x->sheet_name);
done:
    xml_close(&m);
    return rc < 0 ? rc : 0;
}

static int read_workbook(xlsx *x)
{
    static const char wb[] = "xl/workbook.xml";
    char rid[64] = "", v[16];
    xml m;
    int rc;
    if ((rc = xml_open(x, wb, 1, &m))) goto done;
    while ((rc = xml_next(x, &m)) == 1) {
        if (is_start(&m, "workbookPr") && attr(&m, "date1904", v, sizeof v))
            x->date1904 = strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
        if (!is_start(&m, "sheet")) continue;
        if (attr(&m, "state", v, sizeof v) && strcmp(v, "visible") != 0) continue;
        attr(&m, "name", x->sheet_name, sizeof x->sheet_name);
        attr(&m, "id", rid, sizeof rid);
        break;
    }
    if (rc < 0) goto done;
    if (!rid[0]) {
        rc = eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                     "%s: lists no visible sheet with an r:id (expected <sheet name=\"...\" "
                     "r:id=\"rId1\"/>)", wb);
        goto done;
    }
    xml_close(&m);
    snprintf(x->sst_part, sizeof x->sst_part, "xl/sharedStrings.xml");
    rc = read_rels(x, rid);
done:
    xml_close(&m);
    return rc < 0 ? rc : 0;
}

/* ---- shared strings ----------------------------------------------------------------- */

static void sst_release(sst *s)
{
    free(s->off);
    free(s->text);
    memset(s, 0, sizeof *s);
}

static int sst_append(xlsx *x, const char *t, size_t n)
{
    sst *s = &x->s;
    if (s->len + n + 1 > TR_XLSX_STRINGS_BYTES)
        return eg_errf(x->err, EG_ELIMIT, x->name, 0, 0,
                       "%s: shared strings exceed %zu MiB of text (limit)", x->sst_part,
                       TR_XLSX_STRINGS_BYTES >> 20);
    if (s->len + n + 1 > s->tcap) {
        size_t cap = s->tcap ? s->tcap : 4096;
        while (cap < s->len + n + 1) cap *= 2;
        if (cap > TR_XLSX_STRINGS_BYTES) cap = TR_XLSX_STRINGS_BYTES;
        char *t2 = realloc(s->text, cap);
        if (!t2) return eg_errf(x->err, EG_ENOMEM, x->name, 0, 0, "out of memory");
        s->text = t2;
        s->tcap = cap;
    }
    memcpy(s->text + s->len, t, n);
    s->len += n;
    s->text[s->len] = 0;
    return 0;
}

/* Close the string being built (it started at offset start). */
static int sst_push(xlsx *x, size_t start)
{
    sst *s = &x->s;
    int rc;
    if (s->n >= TR_XLSX_MAX_STRINGS)
        return eg_errf(x->err, EG_ELIMIT, x->name, 0, 0,
                       "%s: more than %d shared strings (limit)", x->sst_part, TR_XLSX_MAX_STRINGS);
    if ((rc = sst_append(x, "", 0))) return rc;
    s->len++; /* keep the NUL */
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint32_t *o2 = realloc(s->off, cap * sizeof *o2);
        if (!o2) return eg_errf(x->err, EG_ENOMEM, x->name, 0, 0, "out of memory");
        s->off = o2;
        s->cap = cap;
    }
    s->off[s->n++] = (uint32_t)start;
    return 0;
}

static int read_shared_strings(xlsx *x)
{
    xml m;
    int rc, in_si = 0, in_t = 0, in_rph = 0;
    size_t start = 0;
    const char *t;
    if ((rc = xml_open(x, x->sst_part, 0, &m))) goto done; /* 1: no strings table */
    while ((rc = xml_next(x, &m)) == 1) {
        if (is_start(&m, "si")) {
            start = x->s.len;
            in_si = !is_empty(&m);
            in_t = in_rph = 0;
            if (!in_si && (rc = sst_push(x, start))) goto done;
        } else if (is_end(&m, "si") && in_si) {
            in_si = 0;
            if ((rc = sst_push(x, start))) goto done;
        } else if (is_start(&m, "rPh")) {
            in_rph = !is_empty(&m);       /* phonetic runs are not part of the text */
        } else if (is_end(&m, "rPh")) {
            in_rph = 0;
        } else if (is_start(&m, "t")) {
            in_t = in_si && !in_rph && !is_empty(&m);
        } else if (is_end(&m, "t")) {
            in_t = 0;
        } else if (in_t && (t = text_of(&m)) && (rc = sst_append(x, t, strlen(t)))) {
            goto done;
        }
    }
done:
    xml_close(&m);
    return rc < 0 ? rc : 0;
}

/* ---- header ---------------------------------------------------------------------------- */

/* Letters and digits only, lowercased: "Read Date/Time" -> "readdatetime". */
static void normalize(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s && n + 1 < size; s++)
        if (isalnum((unsigned char)*s)) out[n++] = (char)tolower((unsigned char)*s);
    out[n] = 0;
}

static int in_list(const char *norm, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(norm, *list) == 0) return 1;
    return 0;
}

static int role_of(const char *norm)
{
    static const char *const meter[] = {"meter", "meternumber", "meterno", "meterid", "meterserial",
                                        "meterserialnumber", "serialnumber", NULL};
    static const char *const date[] = {"date", "readdate", "readingdate", "usagedate",
                                       "intervaldate", "servicedate", "startdate", "day", NULL};
    static const char *const start[] = {"starttime", "start", "intervalstart", "intervalstarttime",
                                        "startdatetime", "intervalstartdatetime", "begintime",
                                        "fromtime", "datetime", "timestamp", "time", "intervaltime",
                                        "intervaldatetime", NULL};
    static const char *const end[] = {"endtime", "end", "intervalend", "intervalendtime",
                                      "enddatetime", "intervalenddatetime", "totime", "hourending",
                                      "readdatetime", "readingdatetime", "readtime", "readingtime",
                                      NULL};
    static const char *const kwh[] = {"kwh", "usagekwh", "kwhusage", "consumptionkwh", "energykwh",
                                      "kwhused", "kwhdelivered", "deliveredkwh", "intervalkwh",
                                      "readingkwh", "valuekwh", "totalkwh", NULL};
    static const char *const quality[] = {"estimated", "estimate", "isestimated", "estimatedflag",
                                          "estimatedactual", "quality", "readquality",
                                          "readingquality", "dataquality", "qualitycode",
                                          "readtype", NULL};
    static const char *const *const roles[ROLE_COUNT] = {meter, date, start, end, kwh, quality};
    for (int r = 0; r < ROLE_COUNT; r++)
        if (in_list(norm, roles[r])) return r;
    return -1;
}

/* Is r the header row?  If so, record the columns. */
static int take_header(xlsx *x, const row *r)
{
    int col[ROLE_COUNT];
    char norm[CELL_MAX];
    for (int i = 0; i < ROLE_COUNT; i++) col[i] = -1;
    for (int c = 0; c <= r->max_col; c++) {
        if (r->c[c].kind != CELL_TEXT) continue;
        normalize(r->c[c].text, norm, sizeof norm);
        int role = role_of(norm);
        if (role >= 0 && col[role] < 0) col[role] = c;
    }
    if (col[ROLE_KWH] < 0 || (col[ROLE_DATE] < 0 && col[ROLE_START] < 0 && col[ROLE_END] < 0))
        return 0;
    for (int i = 0; i < ROLE_COUNT; i++) {
        x->col[i] = col[i];
        if (col[i] >= 0) snprintf(x->label[i], sizeof x->label[i], "%s", r->c[col[i]].text);
    }
    x->have_header = 1;
    x->header_row = r->number;
    return 1;
}

/* ---- cell values -------------------------------------------------------------------------- */

typedef struct xtime {
    int has_date, has_time;
    int64_t days;              /* days since 1970-01-01 when has_date */
    int32_t sec;               /* 0..86400 (86400 = "24:00") */
} xtime;

static int read_uint(const char **p, int min_digits, int max_digits, int *out)
{
    int v = 0, n = 0;
    while (isdigit((unsigned char)**p) && n < max_digits) v = v * 10 + (*(*p)++ - '0'), n++;
    if (n < min_digits || isdigit((unsigned char)**p)) return -1;
    *out = v;
    return n;
}

static void skip_blanks(const char **p)
{
    while (**p == ' ' || **p == '\t') (*p)++;
}

static int text_date(const char **p, xtime *t)
{
    int a, b, c, na, nc;
    char sep;
    if ((na = read_uint(p, 1, 4, &a)) < 0) return -1;
    sep = **p;
    if (sep != '/' && sep != '-') return -1;
    (*p)++;
    if (read_uint(p, 1, 2, &b) < 0 || **p != sep) return -1;
    (*p)++;
    if ((nc = read_uint(p, 1, 4, &c)) < 0) return -1;
    int y = na == 4 ? a : c, mo = na == 4 ? b : a, d = na == 4 ? c : b;
    if ((na == 4) == (nc == 4)) return -1; /* M/D/YYYY or YYYY-M-D, nothing else */
    if (mo < 1 || mo > 12 || d < 1 || d > tr_days_in_month(y, mo)) return -1;
    t->has_date = 1;
    t->days = tr_days_from_civil(y, mo, d);
    return 0;
}

static int text_clock(const char **p, xtime *t)
{
    int h, mi, s = 0, pm = -1;
    if (read_uint(p, 1, 2, &h) < 0 || *(*p)++ != ':' || read_uint(p, 2, 2, &mi) < 0) return -1;
    if (**p == ':') {
        (*p)++;
        if (read_uint(p, 2, 2, &s) < 0) return -1;
        if (**p == '.')
            for ((*p)++; isdigit((unsigned char)**p); (*p)++)
                if (**p != '0') return -1; /* fractional seconds: only zeros */
    }
    skip_blanks(p);
    if (tolower((unsigned char)**p) == 'a' || tolower((unsigned char)**p) == 'p') {
        pm = tolower((unsigned char)**p) == 'p';
        (*p)++;
        if (**p == '.') (*p)++;
        if (tolower((unsigned char)**p) != 'm') return -1;
        (*p)++;
        if (**p == '.') (*p)++;
        if (h < 1 || h > 12) return -1;
        h = h % 12 + (pm ? 12 : 0);
    }
    if (mi > 59 || s > 59 || h > 24 || (h == 24 && (mi || s || pm >= 0))) return -1;
    t->has_time = 1;
    t->sec = h * 3600 + mi * 60 + s;
    return 0;
}

/* "11/3/2024 1:00:00 AM", "2024-11-03T01:00", "11/03/2024", "01:15" ... */
static int text_time(const char *s, xtime *t)
{
    const char *p = s, *q;
    skip_blanks(&p);
    q = p;
    while (isdigit((unsigned char)*q)) q++;
    if (*q == '/' || *q == '-') {
        if (text_date(&p, t)) return -1;
        if (*p == 'T') p++;
        else skip_blanks(&p);
    }
    if (*p && text_clock(&p, t)) return -1;
    skip_blanks(&p);
    return *p || (!t->has_date && !t->has_time) ? -1 : 0;
}

/* An Excel serial: days (date part) and the fraction, to the nearest second. */
static int serial_time(const xlsx *x, const char *s, xtime *t)
{
    int64_t v;
    if (tr_dec_parse_str(s, 12, TR_DEC_EXPONENT, &v, NULL) != TR_DEC_OK || v < 0) return -1;
    int64_t days = v / E12, frac = v % E12;
    int64_t sec = (frac * 86400 + E12 / 2) / E12;
    if (days > SERIAL_MAX) return -1;
    t->has_time = frac != 0;
    if (days == 0) { /* a time of day without a date */
        t->sec = (int32_t)sec;
        return 0;
    }
    if (!x->date1904 && days < 61) return -1; /* before 1900-03-01: Excel's fake 1900-02-29 */
    if (sec == 86400) days++, sec = 0;
    t->has_date = 1;
    t->days = days - (x->date1904 ? SERIAL_1970_1904 : SERIAL_1970_1900);
    t->sec = (int32_t)sec;
    return 0;
}

/* 0 ok, 1 empty, -1 not a date/time. */
static int cell_time(const xlsx *x, const cell *c, xtime *t)
{
    memset(t, 0, sizeof *t);
    if (c->kind == CELL_EMPTY) return 1;
    if (c->truncated) return -1;
    if (c->kind == CELL_NUMBER) return serial_time(x, c->text, t);
    if (c->kind != CELL_TEXT) return -1;
    const char *p = c->text;
    skip_blanks(&p);
    if (!*p) return 1;
    return text_time(c->text, t);
}

/* Estimated/Quality cell -> ESPI quality; 0 ok, -1 unknown. */
static int cell_quality(const cell *c, int64_t *q)
{
    static const char *const est[] = {"e", "est", "estimate", "estimated", "y", "yes", "true", "1",
                                      "x", NULL};
    static const char *const edited[] = {"edited", "manual", "manuallyedited", "m", NULL};
    static const char *const actual[] = {"", "a", "act", "actual", "n", "no", "false", "0",
                                         "valid", "v", "good", "ok", "measured", NULL};
    char norm[CELL_MAX];
    *q = ESPI_NONE;
    if (c->kind == CELL_EMPTY) return 0;
    if (c->kind == CELL_ERROR || c->truncated) return -1;
    normalize(c->text, norm, sizeof norm);
    if (in_list(norm, actual)) return 0;
    if (in_list(norm, est)) return *q = ESPI_QUALITY_ESTIMATED_REFERENCE_DAY, 0;
    if (in_list(norm, edited)) return *q = ESPI_QUALITY_MANUALLY_EDITED, 0;
    return -1;
}

/* The meter id: text trimmed, or a whole number; letters, digits, . _ - only. */
static int cell_meter(const cell *c, char out[METER_MAX])
{
    if (c->truncated) return -1;
    if (c->kind == CELL_NUMBER) {
        int64_t v;
        if (tr_dec_parse_str(c->text, 0, TR_DEC_EXPONENT | TR_DEC_EXACT, &v, NULL) != TR_DEC_OK ||
            v < 0)
            return -1;
        snprintf(out, METER_MAX, "%lld", (long long)v);
        return 0;
    }
    if (c->kind != CELL_TEXT) return -1;
    const char *p = c->text;
    size_t n = 0;
    skip_blanks(&p);
    for (; *p; p++) {
        if (n + 1 >= METER_MAX) return -1;
        if (isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-') out[n++] = *p;
        else break;
    }
    skip_blanks(&p);
    out[n] = 0;
    return n && !*p ? 0 : -1;
}

/* ---- data rows ------------------------------------------------------------------------------ */

static const cell *role_cell(const xlsx *x, const row *r, int role)
{
    static const cell empty = {CELL_EMPTY, 0, ""};
    int c = x->col[role];
    return c >= 0 && c <= r->max_col ? &r->c[c] : &empty;
}

/* Report a cell that is not what its column needs; returns problem_rc. */
static int bad_cell(xlsx *x, const row *r, int role, const char *expected)
{
    char ref[16], txt[48];
    cell_ref(x->col[role], r->number, ref);
    shown(role_cell(x, r, role), txt);
    return problem_rc(ROW_PROBLEM(x, r->number, "%s (%s) \"%s\" is not %s", x->label[role], ref,
                                  txt, expected));
}

static int row_is_blank(const row *r)
{
    for (int c = 0; c <= r->max_col; c++)
        if (r->c[c].kind != CELL_EMPTY) return 0;
    return 1;
}

static int row_is_totals(const row *r)
{
    char norm[CELL_MAX];
    for (int c = 0; c <= r->max_col; c++) {
        if (r->c[c].kind != CELL_TEXT) continue;
        normalize(r->c[c].text, norm, sizeof norm);
        if (strncmp(norm, "total", 5) == 0 || strncmp(norm, "grandtotal", 10) == 0) return 1;
    }
    return 0;
}

/* The row's Start and End as naive local seconds.  0 ok, 1 no time at all,
 * SKIPPED, <0 stop. */
static int row_times(xlsx *x, const row *r, rowdata *d)
{
    xtime D, S, E;
    int rd, rs, re;
    static const char *const when = "a date or time (expected e.g. 11/03/2024 01:15, "
                                    "2024-11-03 01:15 or an Excel date)";
    if ((rd = cell_time(x, role_cell(x, r, ROLE_DATE), &D)) < 0) return bad_cell(x, r, ROLE_DATE, when);
    if ((rs = cell_time(x, role_cell(x, r, ROLE_START), &S)) < 0) return bad_cell(x, r, ROLE_START, when);
    if ((re = cell_time(x, role_cell(x, r, ROLE_END), &E)) < 0) return bad_cell(x, r, ROLE_END, when);
    if (rd == 0 && !D.has_date) return bad_cell(x, r, ROLE_DATE, "a date (expected e.g. 11/03/2024)");
    if (x->col[ROLE_START] < 0 && x->col[ROLE_END] < 0) { /* the date column is the start */
        if (rd) return 1;
        d->has_s = 1;
        d->ws = D.days * 86400 + D.sec;
        return 0;
    }
    if (rs && re) return 1;
    if (rs == 0) {
        if (!S.has_date && rd) return bad_cell(x, r, ROLE_START, "a date and time (the row has no date)");
        if (!S.has_date) S.days = D.days;
        if (S.sec == 86400) return bad_cell(x, r, ROLE_START, "a start time (24:00 ends a day)");
        d->has_s = 1;
        d->ws = S.days * 86400 + S.sec;
    }
    if (re == 0) {
        if (!E.has_date && rd && rs) return bad_cell(x, r, ROLE_END, "a date and time (the row has no date)");
        if (!E.has_date) {
            E.days = rs == 0 ? S.days : D.days;
            if (rs == 0 && E.sec == 0 && S.sec > 0) E.days++; /* ends at midnight */
        }
        d->has_e = 1;
        d->we = E.days * 86400 + E.sec;
    }
    return 0;
}

/* Parse row r into d.  0 ok, 1 ignore (blank), SKIPPED, <0 stop. */
static int parse_row(xlsx *x, const row *r, rowdata *d)
{
    int rc;
    const cell *k = role_cell(x, r, ROLE_KWH);
    memset(d, 0, sizeof *d);
    d->line = r->number;
    if ((rc = row_times(x, r, d)) != 0) {
        if (rc != 1) return rc;
        if (k->kind == CELL_EMPTY && row_is_blank(r)) return 1;
        if (k->kind == CELL_EMPTY) /* no time, no kWh: a note below the data */
            rc = tr_report_skip(x->sink, TR_SKIP_WARNING, r->number, x->err,
                                "row %ld has no date/time and no kWh; ignored", r->number);
        else if (row_is_totals(r))
            rc = tr_report_skip(x->sink, TR_SKIP_WARNING, r->number, x->err,
                                "row %ld looks like a totals row (no date/time); ignored", r->number);
        else
            return problem_rc(ROW_PROBLEM(x, r->number, "row has a kWh value but no date or time "
                                                        "(expected the columns under the header of "
                                                        "row %ld)", x->header_row));
        return rc < 0 ? rc : 1;
    }
    if (x->col[ROLE_METER] < 0) snprintf(d->meter, sizeof d->meter, "meter");
    else if (cell_meter(role_cell(x, r, ROLE_METER), d->meter))
        return bad_cell(x, r, ROLE_METER, "a meter number (expected letters, digits, '.', '_', '-')");
    if (cell_quality(role_cell(x, r, ROLE_QUALITY), &d->quality))
        return bad_cell(x, r, ROLE_QUALITY, "a quality flag (expected Actual/Estimated, A/E, Y/N "
                                            "or TRUE/FALSE)");
    if (k->kind == CELL_EMPTY) return 0; /* a gap */
    /* no TR_DEC_THOUSANDS: a text "0,145" (decimal comma) must not become 145 kWh */
    rc = k->kind == CELL_NUMBER || k->kind == CELL_TEXT
             ? tr_dec_parse_str(k->text, 3, TR_DEC_EXPONENT, &d->wh, &d->rounded) : TR_DEC_ESYNTAX;
    if (rc == TR_DEC_EEMPTY) return 0;
    if (rc != TR_DEC_OK || k->truncated)
        return bad_cell(x, r, ROLE_KWH, "a number of kWh (expected e.g. 0.145)");
    if (d->wh < 0) return bad_cell(x, r, ROLE_KWH, "a kWh value >= 0 (delivered energy)");
    d->has_value = 1;
    return 0;
}

/* ---- channels ---------------------------------------------------------------------------------- */

static int64_t period_of(int64_t len)
{
    return len == 300 ? ESPI_TIMEATTR_5_MINUTE : len == 600 ? ESPI_TIMEATTR_10_MINUTE
         : len == 900 ? ESPI_TIMEATTR_15_MINUTE : len == 1800 ? ESPI_TIMEATTR_30_MINUTE
         : len == 3600 ? ESPI_TIMEATTR_60_MINUTE : len == 86400 ? ESPI_TIMEATTR_24_HOUR : ESPI_NONE;
}

static int find_channel(xlsx *x, const char *meter, long line, chan **out)
{
    for (int i = 0; i < x->n_ch; i++)
        if (strcmp(x->ch[i].meter, meter) == 0) return *out = &x->ch[i], 0;
    if (x->n_ch >= TR_MAX_CHANNELS)
        return eg_errf(x->err, EG_ELIMIT, x->name, line, 0,
                       "more than %d meters in one sheet (limit)", TR_MAX_CHANNELS);
    chan *c = &x->ch[x->n_ch++];
    memset(c, 0, sizeof *c);
    snprintf(c->meter, sizeof c->meter, "%s", meter);
    c->index = -1;
    c->last_end = ESPI_NONE;
    *out = c;
    return 0;
}

static int declare(xlsx *x, chan *c)
{
    tr_channel ch;
    int rc;
    memset(&ch, 0, sizeof ch);
    ch.tou = ch.cpp = ch.consumption_tier = ESPI_NONE; /* 0 would be a code */
    ch.index = x->n_declared;
    snprintf(ch.key, sizeof ch.key, "xlsx:%s:consumption", c->meter);
    snprintf(ch.usage_point, sizeof ch.usage_point, "xlsx:%s", c->meter);
    snprintf(ch.name, sizeof ch.name, "Meter %s Consumption", c->meter);
    ch.service_kind = ESPI_SERVICE_ELECTRICITY;
    ch.flow_direction = ESPI_FLOW_FORWARD;
    ch.uom = ESPI_UOM_WH;
    ch.power_of_ten_multiplier = 0;
    ch.interval_length = c->len;
    ch.commodity = ESPI_COMMODITY_ELECTRICITY_SECONDARY;
    ch.kind = ESPI_KIND_ENERGY;
    ch.accumulation = ESPI_ACCUM_DELTA_DATA;
    ch.measuring_period = period_of(c->len);
    ch.currency = ESPI_NONE;
    if (x->sink->channel && (rc = x->sink->channel(x->sink->ctx, &ch, x->err))) return rc;
    c->index = x->n_declared++;
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* UTC candidates of naive wall time w: 0..2; *gap when w does not exist. */
static int candidates(const xlsx *x, int64_t w, int64_t out[2], int *gap)
{
    int64_t day = floor_div(w, 86400);
    int sec = (int)(w - day * 86400), y, mo, d, flags = 0;
    tr_civil_from_days(day, &y, &mo, &d);
    if (tr_tz_local_to_utc(x->o->tz, y, mo, d, sec / 3600, sec / 60 % 60, sec % 60, 0, &out[0],
                           &flags))
        return 0;
    if (flags & TR_TZ_GAP) return *gap = 1, 0;
    if (!(flags & TR_TZ_AMBIGUOUS)) return 1;
    tr_tz_local_to_utc(x->o->tz, y, mo, d, sec / 3600, sec / 60 % 60, sec % 60, 1, &out[1], &flags);
    return 2;
}

static void wall_text(int64_t w, char out[24])
{
    int64_t day = floor_div(w, 86400);
    int sec = (int)(w - day * 86400), y, mo, d;
    tr_civil_from_days(day, &y, &mo, &d);
    snprintf(out, 24, "%04d-%02d-%02d %02d:%02d", y, mo, d, sec / 3600, sec / 60 % 60);
}

/* The UTC start of a sub-daily row (see the file comment).  0 ok, 1 the
 * local time does not exist, 2 goes back in time. */
static int resolve_start(const xlsx *x, const chan *c, const rowdata *d, int64_t *start)
{
    int64_t sc[2], ec[2], prev = c->last_end;
    int ns = 0, ne = 0, sgap = 0, egap = 0;
    if (d->has_s) ns = candidates(x, d->ws, sc, &sgap);
    if (d->has_e) ne = candidates(x, d->we, ec, &egap);
    for (int i = 0; i < ne; i++) ec[i] -= c->len;
    if (prev != ESPI_NONE) {
        for (int i = 0; i < ns; i++)
            if (sc[i] == prev) return *start = sc[i], 0;
        for (int i = 0; i < ne; i++)
            if (ec[i] == prev) return *start = ec[i], 0;
    }
    for (int i = 0; i < ns; i++)
        if (prev == ESPI_NONE || sc[i] >= prev) return *start = sc[i], 0;
    for (int i = 0; i < ne && !d->has_s; i++)
        if (prev == ESPI_NONE || ec[i] >= prev) return *start = ec[i], 0;
    return (d->has_s ? sgap : egap) ? 1 : 2;
}

/* Start and End agree: End - Start == L as labelled, or End is the true
 * wall clock of start + L. */
static int end_agrees(const xlsx *x, const chan *c, const rowdata *d, int64_t start)
{
    int64_t ec[2];
    int gap = 0, ne;
    if (!d->has_s || !d->has_e || d->we - d->ws == c->len) return 1;
    ne = candidates(x, d->we, ec, &gap);
    for (int i = 0; i < ne; i++)
        if (ec[i] == start + c->len) return 1;
    return 0;
}

static int emit_row(xlsx *x, chan *c, const rowdata *d)
{
    int64_t start = 0, dur = c->len, de;
    char w[24];
    int rc;
    wall_text(d->has_s ? d->ws : d->we, w);
    if (c->len == 86400) {
        int64_t wall = d->has_s ? d->ws : d->we - 86400;
        int y, mo, dd;
        if (floor_div(wall, 86400) * 86400 != wall)
            return problem_rc(ROW_PROBLEM(x, d->line, "%s is not midnight (rows one day apart are "
                                                      "daily readings; expected dates only)", w));
        tr_civil_from_days(floor_div(wall, 86400), &y, &mo, &dd);
        if (tr_tz_day_bounds(x->o->tz, y, mo, dd, &start, &de))
            return eg_errf(x->err, EG_ESOFTWARE, x->name, d->line, 0, "day bounds failed");
        dur = de - start;
        rc = c->last_end != ESPI_NONE && start < c->last_end ? 2 : 0;
    } else {
        rc = resolve_start(x, c, d, &start);
    }
    if (rc == 1 && !d->has_value)
        return tr_report_skip(x->sink, TR_SKIP_NONEXISTENT, d->line, x->err,
                              "%s does not exist in %s (clocks spring forward); blank row dropped", w,
                              tr_tz_name(x->o->tz));
    if (rc == 1)
        return problem_rc(ROW_PROBLEM(x, d->line, "%s does not exist in %s (clocks spring forward) "
                                                  "but the row has a kWh value (expected a blank row)",
                                      w, tr_tz_name(x->o->tz)));
    if (rc == 2)
        return problem_rc(ROW_PROBLEM(x, d->line, "meter %s %s comes before the previous row's end "
                                                  "(expected each meter's rows in time order, no "
                                                  "duplicates)", c->meter, w));
    if (!end_agrees(x, c, d, start)) {
        char e[24];
        wall_text(d->we, e);
        return problem_rc(ROW_PROBLEM(x, d->line, "end %s is not start %s + %lld minutes (expected "
                                                  "every interval of meter %s to last as long as "
                                                  "its first)", e, w, (long long)(c->len / 60),
                                      c->meter));
    }
    c->last_end = start + dur;
    if (!d->has_value)
        return tr_report_skip(x->sink, TR_SKIP_NO_VALUE, d->line, x->err,
                              "meter %s %s has no kWh (a gap in the export)", c->meter, w);
    tr_reading rd = {c->index, start, dur, d->wh, ESPI_NONE, d->quality,
                     d->rounded ? TR_READING_ROUNDED : 0u, d->line};
    return x->sink->reading(x->sink->ctx, &rd, x->err);
}

/* The interval lengths we accept: ESPI's measuring periods. */
static const int64_t lengths[] = {86400, 3600, 1800, 1200, 900, 600, 300, 180, 120, 60};
#define N_LENGTHS (sizeof lengths / sizeof lengths[0])

/* Interval length from End - Start (exact) or from the gap between a
 * meter's first two rows (the largest accepted length dividing the gap, so
 * a missing or dropped row between them leaves a gap, not a longer
 * interval).  0 ok (*len set), SKIPPED, <0 stop. */
static int settle_length(xlsx *x, const chan *c, int64_t span, long line, long from_line,
                         int64_t *len)
{
    for (size_t i = 0; i < N_LENGTHS; i++)
        if (from_line ? span > 0 && span % lengths[i] == 0 : span == lengths[i])
            return *len = lengths[i], 0;
    if (from_line)
        return problem_rc(ROW_PROBLEM(x, line, "meter %s: %lld seconds from row %ld to row %ld "
                                               "(expected rows a multiple of 1, 5, 15, 30 or 60 "
                                               "minutes or a day apart, in time order)",
                                      c->meter, (long long)span, from_line, line));
    return problem_rc(ROW_PROBLEM(x, line, "meter %s: end - start is %lld seconds (expected 1, 5, "
                                           "15, 30 or 60 minutes or a day)", c->meter,
                                  (long long)span));
}

/* A parsed data row: settle the meter's interval length, then emit. */
static int handle_row(xlsx *x, const rowdata *d)
{
    chan *c = NULL;
    int rc;
    if ((rc = find_channel(x, d->meter, d->line, &c))) return rc;
    if (c->len == 0) {
        if (d->has_s && d->has_e) {
            if ((rc = settle_length(x, c, d->we - d->ws, d->line, 0, &c->len)))
                return rc < 0 ? rc : 0;
        } else if (!c->has_pending) {
            c->pending = *d;
            c->has_pending = 1;
            return 0;
        } else {
            const rowdata *p = &c->pending;
            int64_t span = (d->has_s ? d->ws : d->we) - (p->has_s ? p->ws : p->we);
            if (d->has_s != p->has_s) span = 0;
            if ((rc = settle_length(x, c, span, d->line, p->line, &c->len))) return rc < 0 ? rc : 0;
        }
        if ((rc = declare(x, c))) return rc;
        if (c->has_pending) {
            c->has_pending = 0;
            if ((rc = emit_row(x, c, &c->pending)) < 0) return rc;
        }
    }
    rc = emit_row(x, c, d);
    return rc < 0 ? rc : 0;
}

static int process_row(xlsx *x, const row *r)
{
    rowdata d;
    int rc;
    if (!x->have_header) {
        if (take_header(x, r)) return 0;
        if (++x->rows_before_header >= TR_XLSX_HEADER_ROWS)
            return eg_errf(x->err, EG_EDATA, x->name, r->number, 0,
                           "sheet \"%s\" (%s): no header row in its first %d rows (expected a row "
                           "naming a kWh column and a date or time column, e.g. \"Meter Number | "
                           "Date | Start Time | End Time | kWh\")",
                           x->sheet_name, x->sheet_part, TR_XLSX_HEADER_ROWS);
        return 0;
    }
    if ((rc = parse_row(x, r, &d)) != 0) return rc < 0 ? rc : 0;
    x->data_rows++;
    return handle_row(x, &d);
}

/* Meters whose only row is still waiting for a second one. */
static int flush_pending(xlsx *x)
{
    int rc;
    for (int i = 0; i < x->n_ch; i++) {
        chan *c = &x->ch[i];
        if (!c->has_pending) continue;
        c->has_pending = 0;
        rc = ROW_PROBLEM(x, c->pending.line, "meter %s has one row and no End column, so its "
                                             "interval length is unknown (expected Start and End "
                                             "columns or at least two rows per meter)", c->meter);
        if (rc) return rc;
    }
    return 0;
}

/* ---- the sheet ------------------------------------------------------------------------------------ */

typedef struct cellstate {
    int col;                   /* -1 when beyond TR_XLSX_MAX_COLS */
    char type[16];
    char raw[CELL_MAX];
    size_t n;
    int truncated;
    int in_v, in_is, in_t, in_rph;
} cellstate;

static void raw_append(cellstate *cs, const char *t)
{
    size_t k = strlen(t);
    if (cs->n + k >= CELL_MAX) {
        k = CELL_MAX - 1 - cs->n;
        cs->truncated = 1;
    }
    memcpy(cs->raw + cs->n, t, k);
    cs->n += k;
    cs->raw[cs->n] = 0;
}

/* Column of a reference "AB12" (0-based), -1 when it has no letters. */
static int ref_col(const char *ref)
{
    int c = 0, n = 0;
    for (; isalpha((unsigned char)*ref) && n < 4; ref++, n++)
        c = c * 26 + (toupper((unsigned char)*ref) - 'A' + 1);
    return n == 0 || n > 3 ? -1 : c - 1;
}

static void begin_row(xlsx *x, const xml *m)
{
    char v[24];
    long n = x->last_row + 1;
    if (attr(m, "r", v, sizeof v)) n = strtol(v, NULL, 10);
    for (int c = 0; c <= x->cur.max_col; c++) x->cur.c[c].kind = CELL_EMPTY;
    x->cur.max_col = -1;
    x->cur.number = n;
}

static void begin_cell(xlsx *x, const xml *m, cellstate *cs, int *next_col)
{
    char ref[24];
    memset(cs, 0, sizeof *cs);
    cs->col = attr(m, "r", ref, sizeof ref) ? ref_col(ref) : *next_col;
    if (cs->col < 0) cs->col = *next_col;
    *next_col = cs->col + 1;
    if (cs->col >= TR_XLSX_MAX_COLS) cs->col = -1;
    if (!attr(m, "t", cs->type, sizeof cs->type)) snprintf(cs->type, sizeof cs->type, "n");
}

/* Store the finished cell in the current row.  0, or <0 for a bad shared string index. */
static int end_cell(xlsx *x, cellstate *cs)
{
    if (cs->col < 0) return 0;
    cell *c = &x->cur.c[cs->col];
    const char *text = cs->raw;
    c->kind = CELL_TEXT;
    c->truncated = cs->truncated;
    if (strcmp(cs->type, "s") == 0 && !cs->raw[0]) {
        c->kind = CELL_EMPTY;  /* <c t="s"/> without a value: an empty cell */
    } else if (strcmp(cs->type, "s") == 0) {
        char *endp;
        unsigned long i = strtoul(cs->raw, &endp, 10);
        if (*endp || i >= x->s.n) {
            char ref[16];
            cell_ref(cs->col, x->cur.number, ref);
            return eg_errf(x->err, EG_EDATA, x->name, x->cur.number, 0,
                           "cell %s refers to shared string \"%s\" but %s holds %zu strings "
                           "(expected a valid index)", ref, cs->raw, x->sst_part, x->s.n);
        }
        text = x->s.text + x->s.off[i];
        c->truncated = strlen(text) >= CELL_MAX;
    } else if (strcmp(cs->type, "b") == 0) {
        c->kind = CELL_BOOL;
    } else if (strcmp(cs->type, "e") == 0) {
        c->kind = CELL_ERROR;
    } else if (strcmp(cs->type, "n") == 0) {
        c->kind = CELL_NUMBER;
    }
    snprintf(c->text, sizeof c->text, "%s", text);
    if (!c->text[0] && c->kind != CELL_ERROR) c->kind = CELL_EMPTY;
    if (cs->col > x->cur.max_col) x->cur.max_col = cs->col;
    return 0;
}

static int end_row(xlsx *x)
{
    if (x->cur.number <= x->last_row || x->cur.number > MAX_SHEET_ROW)
        return eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                       "%s: row number %ld after row %ld (expected increasing rows 1..%ld)",
                       x->sheet_part, x->cur.number, x->last_row, MAX_SHEET_ROW);
    x->last_row = x->cur.number;
    return process_row(x, &x->cur);
}

static int read_sheet(xlsx *x)
{
    xml m;
    cellstate cs;
    int rc, in_row = 0, in_c = 0, next_col = 0;
    const char *t;
    memset(&cs, 0, sizeof cs);
    x->cur.max_col = -1;
    if ((rc = xml_open(x, x->sheet_part, 1, &m))) goto done;
    while ((rc = xml_next(x, &m)) == 1) {
        if (is_start(&m, "row")) {
            begin_row(x, &m);
            next_col = 0;
            in_row = !is_empty(&m);
            if (!in_row && (rc = end_row(x))) goto done;
        } else if (is_end(&m, "row") && in_row) {
            in_row = 0;
            if ((rc = end_row(x))) goto done;
        } else if (is_start(&m, "c") && in_row) {
            begin_cell(x, &m, &cs, &next_col);
            in_c = !is_empty(&m);
            if (!in_c && (rc = end_cell(x, &cs))) goto done;
        } else if (is_end(&m, "c") && in_c) {
            in_c = 0;
            if ((rc = end_cell(x, &cs))) goto done;
        } else if (in_c && is_start(&m, "v")) {
            cs.in_v = !is_empty(&m);
        } else if (is_end(&m, "v")) {
            cs.in_v = 0;
        } else if (in_c && is_start(&m, "is")) {
            cs.in_is = !is_empty(&m);
        } else if (is_end(&m, "is")) {
            cs.in_is = 0;
        } else if (in_c && is_start(&m, "rPh")) {
            cs.in_rph = !is_empty(&m);
        } else if (is_end(&m, "rPh")) {
            cs.in_rph = 0;
        } else if (in_c && is_start(&m, "t")) {
            cs.in_t = cs.in_is && !cs.in_rph && !is_empty(&m);
        } else if (is_end(&m, "t")) {
            cs.in_t = 0;
        } else if (in_c && (cs.in_v || cs.in_t) && (t = text_of(&m))) {
            raw_append(&cs, t);
        }
    }
    if (rc < 0) goto done;
    if (!x->have_header)
        rc = eg_errf(x->err, EG_EDATA, x->name, 0, 0,
                     "sheet \"%s\" (%s): no header row (expected a row naming a kWh column and a "
                     "date or time column, e.g. \"Meter Number | Date | Start Time | End Time | "
                     "kWh\")", x->sheet_name, x->sheet_part);
    else if ((rc = flush_pending(x)) == 0 && x->data_rows == 0)
        rc = eg_errf(x->err, EG_EDATA, x->name, x->header_row, 0,
                     "sheet \"%s\" has a header but no data rows below it (expected one row per "
                     "interval)", x->sheet_name);
done:
    xml_close(&m);
    return rc < 0 ? rc : 0;
}

/* ---- entry points ------------------------------------------------------------------------------------ */

int tr_xlsx_read_mem(const void *buf, size_t len, const char *name, const tr_options *opts,
                     const tr_sink *sink, eg_err *err)
{
    xlsx *x = NULL;
    int rc;
    if (!opts || !opts->tz || !sink || !sink->reading)
        return eg_errf(err, EG_EUSAGE, name, 0, 0, "tr_xlsx_read needs a zone and a reading sink");
    if (!(x = calloc(1, sizeof *x))) return eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
    x->name = name;
    x->o = opts;
    x->sink = sink;
    x->err = err;
    if ((rc = open_package(x, buf, len)) || (rc = read_workbook(x)) ||
        (rc = read_shared_strings(x)) || (rc = read_sheet(x)))
        goto done;
done:
    if (x->za) zip_discard(x->za);
    sst_release(&x->s);
    free(x);
    return rc < 0 ? rc : 0;
}

int tr_xlsx_read(FILE *in, const char *name, const tr_options *opts, const tr_sink *sink,
                 eg_err *err)
{
    unsigned char *buf = NULL, *b2;
    size_t len = 0, cap = 0, n;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > TR_XLSX_FILE_MAX + 1) ncap = TR_XLSX_FILE_MAX + 1;
            if (ncap == cap) {
                rc = eg_errf(err, EG_ELIMIT, name, 0, 0, "is larger than %zu MiB (limit for a "
                             "workbook)", TR_XLSX_FILE_MAX >> 20);
                goto done;
            }
            if (!(b2 = realloc(buf, ncap))) {
                rc = eg_errf(err, EG_ENOMEM, name, 0, 0, "out of memory");
                goto done;
            }
            buf = b2;
            cap = ncap;
        }
        if ((n = fread(buf + len, 1, cap - len, in)) == 0) break;
        len += n;
    }
    if (ferror(in)) {
        rc = eg_errf(err, EG_EIO, name, 0, 0, "cannot read the workbook");
        goto done;
    }
    rc = tr_xlsx_read_mem(buf ? (const void *)buf : "", len, name, opts, sink, err);
done:
    free(buf);
    return rc;
}
