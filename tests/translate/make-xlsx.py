#!/usr/bin/env python3
"""make-xlsx.py -- write the synthetic co-op spreadsheet exports in samples/xlsx/.

    python3 tests/translate/make-xlsx.py [--totals] [OUTDIR]  (default: samples/xlsx of this checkout)
    python3 tests/translate/make-xlsx.py --fuzz-seeds tests/fuzz/corpus/xlsx

No real co-op workbook exists in ../shared, so these two files are built to look like
what a co-op's meter data system sends when a member asks for interval data "in Excel":

interval_15min_2024-11-02_to_2024-11-04.xlsx
    one sheet "Interval Data"; two title rows and a blank row above the header
    `Meter Number | Date | Start Time | End Time | kWh | Estimated`; Date is an Excel
    serial day number, Start/End Time are fractions of a day (some in Excel's E notation,
    e.g. 1.0416666666666666E-2), kWh are numbers -- a few carry binary-float noise
    (0.145000000000001, 0.14499999999999999) that rounds to Wh; Estimated is a boolean
    cell (t="b") TRUE for one hour.  America/Chicago, 15 minutes, 2024-11-02..04: the
    fall-back day 11-03 has 100 rows, the repeated 01:xx hour appears twice with the same
    Start Time, and the end of 01:45 CDT is written as the true wall clock 01:00 (CST).
hourly_text_dates.xlsx
    one sheet "Usage", header `Meter # | Read Date/Time | kWh | Quality`, every cell a
    shared string (text dates "3/9/2024 1:00:00 AM" that label the END of each hour,
    kWh as text, Quality "Actual"/"Estimated"); two meters one after the other;
    2024-03-09..11 in America/Chicago, so the spring-forward day has 23 rows per meter.

Only the Python standard library is used (zipfile); the output is byte-identical from
run to run (fixed timestamps, fixed order).  The exact totals the tests assert are
printed (`--totals`) and written into tests/translate/test_xlsx.c and test_xlsx_cli.sh.
"""
import datetime as dt
import os
import sys
import zipfile
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")
UTC = dt.timezone.utc
EXCEL_EPOCH = dt.date(1899, 12, 30)


def lcg(seed):
    """Deterministic pseudo-random Wh values (no dependence on Python's random)."""
    state = seed
    while True:
        state = (state * 1103515245 + 12345) % (1 << 31)
        yield state


def col_name(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


class Book:
    """A minimal but complete xlsx: one worksheet, shared strings, styles."""

    def __init__(self, sheet_name):
        self.sheet_name = sheet_name
        self.strings, self.index = [], {}
        self.rows = []  # list of (row number, [cell xml])

    def sst(self, text):
        if text not in self.index:
            self.index[text] = len(self.strings)
            self.strings.append(text)
        return self.index[text]

    def row(self, number, cells):
        """cells: list of (kind, value) with kind s (shared), n (number text), b (0/1),
        None for an empty cell (omitted, as Excel does)."""
        xml = []
        for i, cell in enumerate(cells):
            if cell is None:
                continue
            kind, value = cell
            ref = f"{col_name(i)}{number}"
            if kind == "s":
                xml.append(f'<c r="{ref}" t="s"><v>{self.sst(value)}</v></c>')
            elif kind == "b":
                xml.append(f'<c r="{ref}" t="b"><v>{value}</v></c>')
            elif kind == "date":
                xml.append(f'<c r="{ref}" s="1"><v>{value}</v></c>')
            elif kind == "time":
                xml.append(f'<c r="{ref}" s="2"><v>{value}</v></c>')
            else:
                xml.append(f'<c r="{ref}" s="3"><v>{value}</v></c>')
        self.rows.append((number, xml))

    def parts(self):
        ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        rns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
        rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
        head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        yield "[Content_Types].xml", head + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            "</Types>")
        yield "_rels/.rels", head + (
            f'<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>")
        yield "xl/workbook.xml", head + (
            f"<workbook {ns} {rns}><workbookPr/><bookViews><workbookView/></bookViews>"
            f'<sheets><sheet name="{escape(self.sheet_name)}" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>")
        yield "xl/_rels/workbook.xml.rels", head + (
            f'<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId3" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>")
        yield "xl/styles.xml", head + (
            f'<styleSheet {ns}><numFmts count="1"><numFmt numFmtId="164" formatCode="h:mm"/></numFmts>'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            "</cellXfs></styleSheet>")
        sheet = [f"<worksheet {ns} {rns}><sheetData>"]
        for number, cells in self.rows:
            sheet.append(f'<row r="{number}">' + "".join(cells) + "</row>")
        sheet.append("</sheetData></worksheet>")
        # shared strings come after the sheet was built (the sheet fills the table)
        sst = [f'<sst {ns} count="{len(self.strings)}" uniqueCount="{len(self.strings)}">']
        for s in self.strings:
            sp = ' xml:space="preserve"' if s != s.strip() else ""
            sst.append(f"<si><t{sp}>{escape(s)}</t></si>")
        sst.append("</sst>")
        yield "xl/worksheets/sheet1.xml", head + "".join(sheet)
        yield "xl/sharedStrings.xml", head + "".join(sst)

    def write(self, path):
        parts = list(self.parts())
        with zipfile.ZipFile(path, "w") as z:
            for name, text in parts:
                info = zipfile.ZipInfo(name, date_time=(2024, 11, 5, 8, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                z.writestr(info, text.encode("utf-8"), compresslevel=6)


def excel_fraction(seconds):
    """A time of day as Excel writes the double: small values in E notation."""
    x = seconds / 86400
    if x == 0:
        return "0"
    if x < 0.1:
        mant, exp = ("%.16E" % x).split("E")
        return f"{mant}E{int(exp)}"
    return repr(x)


def kwh_text(wh, noise):
    base = f"{wh // 1000}.{wh % 1000:03d}"
    if noise == 1:
        return base + "000000000001"           # 0.145000000000001
    if noise == 2:
        lower = wh - 1
        return f"{lower // 1000}.{lower % 1000:03d}99999999999999"  # 0.14499999999999999
    return repr(wh / 1000)


def local_days(first, n):
    return [first + dt.timedelta(days=i) for i in range(n)]


def intervals(day, minutes):
    """(start UTC, end UTC) of each interval of a local day, in order."""
    start = dt.datetime(day.year, day.month, day.day, tzinfo=CHICAGO).astimezone(UTC)
    nxt = day + dt.timedelta(days=1)
    end = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=CHICAGO).astimezone(UTC)
    t = start
    while t < end:
        yield t, t + dt.timedelta(minutes=minutes)
        t += dt.timedelta(minutes=minutes)


def fifteen_minute_book():
    book = Book("Interval Data")
    meter = "51000123"
    book.row(1, [("s", "Example Electric Cooperative - Interval Usage Report")])
    book.row(2, [("s", "Account 000123456"), None, ("s", "Exported 11/05/2024")])
    # row 3 is blank: Excel writes no <row> element for it
    book.row(4, [("s", h) for h in ("Meter Number", "Date", "Start Time", "End Time", "kWh",
                                    "Estimated")])
    rnd = lcg(2024)
    total = count = estimated = rounded = 0
    per_day = {}
    row = 5
    for day in local_days(dt.date(2024, 11, 2), 3):
        for k, (s, e) in enumerate(intervals(day, 15)):
            ls, le = s.astimezone(CHICAGO), e.astimezone(CHICAGO)
            wh = 60 + next(rnd) % 700
            noise = 1 if count % 41 == 7 else 2 if count % 53 == 11 else 0
            est = day == dt.date(2024, 11, 4) and ls.hour == 9
            book.row(row, [
                ("s", meter),
                ("date", str((ls.date() - EXCEL_EPOCH).days)),
                ("time", excel_fraction(ls.hour * 3600 + ls.minute * 60)),
                ("time", excel_fraction(le.hour * 3600 + le.minute * 60)),
                ("n", kwh_text(wh, noise)),
                ("b", "1" if est else "0"),
            ])
            row += 1
            total += wh
            count += 1
            estimated += est
            rounded += noise != 0
            per_day[day] = per_day.get(day, (0, 0))
            per_day[day] = (per_day[day][0] + 1, per_day[day][1] + wh)
    return book, {meter: (count, total, estimated, rounded, per_day)}


def hour_label(t):
    """.NET-style text: 3/9/2024 1:00:00 AM (midnight = 12:00:00 AM)."""
    h12 = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t.year} {h12}:{t.minute:02d}:00 {'AM' if t.hour < 12 else 'PM'}"


def hourly_text_book():
    book = Book("Usage")
    book.row(1, [("s", h) for h in ("Meter #", "Read Date/Time", "kWh", "Quality")])
    stats = {}
    row = 2
    for meter, seed in (("80012345", 7), ("80067890", 11)):
        rnd = lcg(seed)
        count = total = estimated = 0
        per_day = {}
        for day in local_days(dt.date(2024, 3, 9), 3):
            for s, e in intervals(day, 60):
                wh = 200 + next(rnd) % 2800
                est = meter == "80067890" and day == dt.date(2024, 3, 11) and \
                    s.astimezone(CHICAGO).hour in (13, 14)
                book.row(row, [("s", meter), ("s", hour_label(e.astimezone(CHICAGO))),
                               ("s", repr(wh / 1000).removesuffix(".0")),  # "1.234", "2"
                               ("s", "Estimated" if est else "Actual")])
                row += 1
                count += 1
                total += wh
                estimated += est
                per_day[day] = per_day.get(day, (0, 0))
                per_day[day] = (per_day[day][0] + 1, per_day[day][1] + wh)
        stats[meter] = (count, total, estimated, 0, per_day)
    return book, stats


def fuzz_seeds(out):
    """Small seeds for tests/fuzz/fuzz_xlsx.c: a whole stored workbook, and the
    target's split form "sheet XML NUL sharedStrings XML" that skips the zip."""
    os.makedirs(out, exist_ok=True)
    book, _ = fifteen_minute_book()
    book.rows = book.rows[:4] + book.rows[100:112]     # titles, header, the repeated hour
    parts = list(book.parts())
    with zipfile.ZipFile(os.path.join(out, "fall_back_stored.xlsx"), "w") as z:
        for name, text in parts:
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 11, 5, 8, 0, 0)), text)
    sheet, sst = dict(parts)["xl/worksheets/sheet1.xml"], dict(parts)["xl/sharedStrings.xml"]
    with open(os.path.join(out, "fall_back_split"), "wb") as f:
        f.write(sheet.encode() + b"\0" + sst.encode())
    book, _ = hourly_text_book()
    book.rows = book.rows[:26]                          # the first meter's spring-forward night
    used = max(int(v) for _, cells in book.rows for c in cells if 't="s"' in c
               for v in [c.split("<v>")[1].split("<")[0]])
    book.strings = book.strings[:used + 1]              # strings are numbered in row order
    parts = dict(book.parts())
    with open(os.path.join(out, "text_dates_split"), "wb") as f:
        f.write(parts["xl/worksheets/sheet1.xml"].encode() + b"\0" +
                parts["xl/sharedStrings.xml"].encode())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if len(sys.argv) == 3 and sys.argv[1] == "--fuzz-seeds":
        return fuzz_seeds(sys.argv[2])
    args = [a for a in sys.argv[1:] if a != "--totals"]
    out = args[0] if args else os.path.join(here, "..", "..", "samples", "xlsx")
    os.makedirs(out, exist_ok=True)
    for name, make in (("interval_15min_2024-11-02_to_2024-11-04.xlsx", fifteen_minute_book),
                       ("hourly_text_dates.xlsx", hourly_text_book)):
        book, stats = make()
        book.write(os.path.join(out, name))
        if "--totals" in sys.argv:
            for meter, (count, total, est, rounded, per_day) in stats.items():
                print(f"{name} meter {meter}: {count} readings, {total} Wh, {est} estimated, "
                      f"{rounded} rounded")
                for day, (n, wh) in sorted(per_day.items()):
                    print(f"    {day}: {n} readings, {wh} Wh")


if __name__ == "__main__":
    main()
