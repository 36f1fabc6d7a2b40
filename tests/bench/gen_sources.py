#!/usr/bin/env python3
"""gen_sources.py -- synthetic source files for the translator benchmark.

    gen_sources.py smt OUTDIR --meters N [--year Y] [--months M]
    gen_sources.py smarthub OUTDIR --meters N [--year Y] [--months M]

smt: one Smart Meter Texas 15-minute interval CSV per meter (ESIID) for the
year, as SMT exports them (FORMATS.md B.1): local wall-clock rows, 96 a day,
the spring-forward day's 02:00-02:45 rows blank, the fall-back day with 100
rows (the repeated hour by order).

smarthub: one SmartHub poll answer (COMPLETE, USAGE + COST) per meter and
month, x = wall-clock-as-UTC epoch ms (FORMATS.md A.4), as a 30-day-chunked
pull would save them.

Values come from a fixed integer hash, so runs are repeatable. Zone:
America/Chicago. Prints the number of readings written.
"""
import argparse
import datetime as dt
import json
import os
import sys
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("America/Chicago")
UTC = dt.timezone.utc
STEP = dt.timedelta(minutes=15)


def value_wh(meter, t):
    """Deterministic 15-minute kWh in Wh (an integer), shaped by hour."""
    h = (meter * 2654435761 + int(t.timestamp()) // 900 * 40503) & 0xFFFFFFFF
    base = (60, 50, 45, 45, 50, 80, 150, 200, 160, 120, 110, 110,
            120, 130, 150, 180, 250, 350, 400, 380, 300, 220, 150, 90)
    return base[t.astimezone(ZONE).hour] + h % 97


def local_days(year, months):
    d = dt.date(year, 1, 1)
    end = dt.date(year + months // 12, months % 12 + 1, 1) if months < 12 else dt.date(year + 1, 1, 1)
    while d < end:
        yield d
        d += dt.timedelta(days=1)


def day_intervals(d):
    """UTC starts of the 15-minute intervals of local day d."""
    start = dt.datetime(d.year, d.month, d.day, tzinfo=ZONE).astimezone(UTC)
    nd = d + dt.timedelta(days=1)
    end = dt.datetime(nd.year, nd.month, nd.day, tzinfo=ZONE).astimezone(UTC)
    t = start
    while t < end:
        yield t
        t += STEP


def kwh(wh):
    s = "%d.%03d" % (wh // 1000, wh % 1000)
    s = s.rstrip("0").rstrip(".")
    return s[1:] if s.startswith("0.") else s


def gen_smt(out, meters, year, months):
    n = 0
    for m in range(meters):
        esiid = "1044372%010d" % (m + 1)
        with open(os.path.join(out, "IntervalData_%s.csv" % esiid), "w", newline="\n") as f:
            f.write("ESIID,USAGE_DATE,REVISION_DATE,USAGE_START_TIME,USAGE_END_TIME,"
                    "USAGE_KWH,ESTIMATED_ACTUAL,CONSUMPTION_SURPLUSGENERATION\n")
            for d in local_days(year, months):
                date = d.strftime("%m/%d/%Y")
                rev = (d + dt.timedelta(days=1)).strftime("%m/%d/%Y") + " 08:58:15"
                rows = list(day_intervals(d))
                if len(rows) == 92:  # spring forward: SMT keeps 96 rows, 4 blank
                    for i, t in enumerate(rows):
                        lt = t.astimezone(ZONE)
                        if lt.hour == 3 and lt.minute == 0:
                            for q in range(4):
                                f.write("'%s,%s,%s,02:%02d,%s,,,Consumption\n" % (
                                    esiid, date, rev, q * 15,
                                    "03:00" if q == 3 else "02:%02d" % (q * 15 + 15)))
                        f.write(smt_row(esiid, date, rev, m, t))
                        n += 1
                else:
                    for t in rows:
                        f.write(smt_row(esiid, date, rev, m, t))
                        n += 1
    return n


def smt_row(esiid, date, rev, m, t):
    a = t.astimezone(ZONE)
    b = (t + STEP).astimezone(ZONE)
    return "'%s,%s,%s,%02d:%02d,%02d:%02d,%s,A,Consumption\n" % (
        esiid, date, rev, a.hour, a.minute, b.hour, b.minute, kwh(value_wh(m, t)))


def wall_ms(t):
    """Wall-clock-as-UTC epoch ms of UTC instant t (SmartHub's x)."""
    lt = t.astimezone(ZONE).replace(tzinfo=UTC)
    return int(lt.timestamp()) * 1000


def gen_smarthub(out, meters, year, months):
    n = 0
    for m in range(meters):
        meter = "1ND%08d" % (m + 1)
        for month in range(1, months + 1):
            first = dt.date(year, month, 1)
            nxt = dt.date(year + month // 12, month % 12 + 1, 1)
            pts, cost, xto = [], [], {}
            d = first
            while d < nxt:
                for t in day_intervals(d):
                    x = wall_ms(t)
                    wh = value_wh(m, t)
                    pts.append({"x": x, "y": wh / 1000, "enableDrilldown": False})
                    cost.append({"x": x, "y": round(wh * 0.1185 / 1000, 4), "enableDrilldown": False})
                    xto[str(x)] = {"interval": {"start": x, "end": x + 900000},
                                   "createTickDrillDownLink": False}
                    n += 1
                d += dt.timedelta(days=1)
            s = int(dt.datetime(first.year, first.month, 1, tzinfo=ZONE).timestamp()) * 1000
            e = int(dt.datetime(nxt.year, nxt.month, 1, tzinfo=ZONE).timestamp()) * 1000
            meter_obj = {"serviceLocationNumber": "55%05d" % m, "accountNumber": "77%08d" % m,
                         "industry": "ELECTRIC", "meterNumber": meter, "channel": 1,
                         "flowDirection": "FORWARD", "rate": None, "rateName": None,
                         "unitOfMeasure": "KWH", "isParentMeter": False, "parentMeters": [],
                         "isNetMeter": False, "visible": True, "meterName": meter,
                         "seriesId": meter}

            def entry(kind, data):
                e_ = {"serviceLocationNumber": meter_obj["serviceLocationNumber"],
                      "accountNumber": meter_obj["accountNumber"], "startDateTime": s,
                      "endDateTime": e, "timeFrame": "HOURLY", "industry": "ELECTRIC",
                      "type": kind, "meters": [meter_obj],
                      "series": [{"name": meter, "meterNumber": meter, "channel": 1,
                                  "isNet": False, "type": "column", "data": data}],
                      "estimatedSeries": {}, "editedSeries": {}, "xToOrderedInterval": xto}
                if kind == "USAGE":
                    e_["unitOfMeasure"] = "KWH"
                return e_

            doc = {"status": "COMPLETE", "data": {"ELECTRIC": [entry("USAGE", pts), entry("COST", cost)]}}
            name = "poll_%s_%04d-%02d.json" % (meter, year, month)
            with open(os.path.join(out, name), "w") as f:
                json.dump(doc, f, separators=(",", ":"))
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("format", choices=["smt", "smarthub"])
    ap.add_argument("out")
    ap.add_argument("--meters", type=int, default=1)
    ap.add_argument("--year", type=int, default=2023)
    ap.add_argument("--months", type=int, default=12)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    gen = gen_smt if a.format == "smt" else gen_smarthub
    print(gen(a.out, a.meters, a.year, a.months))
    return 0


if __name__ == "__main__":
    sys.exit(main())
