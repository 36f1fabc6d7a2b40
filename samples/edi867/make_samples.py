#!/usr/bin/env python3
"""make_samples.py -- write the synthetic X12 867 interchanges of samples/edi867/.

Deterministic (no clock, no randomness beyond a fixed LCG), so running it
again gives the same bytes.  Prints each file's exact kWh totals per
channel, which samples/edi867/README.md records and the tests assert.
Usage: python3 samples/edi867/make_samples.py [OUTDIR]"""
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)
CHI = ZoneInfo("America/Chicago")
seed = 867


def rnd(lo, hi):
    """Fixed LCG -> a kWh Decimal with 3 decimals in [lo, hi)."""
    global seed
    seed = (seed * 1103515245 + 12345) % 2**31
    lo, hi = Decimal(str(lo)), Decimal(str(hi))
    return lo + Decimal(seed % int((hi - lo) * 1000)) / 1000


def isa(ctrl, date="231107", time="1200"):
    f = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "ESPIGATECOOP".ljust(15), "ZZ",
         "SUPPLIER01".ljust(15), date, time, "U", "00401", f"{ctrl:09d}", "0", "P", ">"]
    s = "*".join(f)
    assert len(s) == 105, len(s)
    return s


def interchange(transactions, ctrl=1):
    segs = [isa(ctrl), f"GS*PT*ESPIGATECOOP*SUPPLIER01*20231107*1200*{ctrl}*X*004010"]
    for i, body in enumerate(transactions, 1):
        st = f"{i:04d}"
        tx = [f"ST*867*{st}"] + body
        tx.append(f"SE*{len(tx) + 1}*{st}")
        segs += tx
    segs += [f"GE*{len(transactions)}*{ctrl}", f"IEA*1*{ctrl:09d}"]
    return "~\n".join(segs) + "~\n"


def code(dt_utc, explicit):
    local = dt_utc.astimezone(CHI)
    if not explicit:
        return local, "CT"
    return local, "CD" if local.dst() else "CS"


def interval_loop(ptd, start_utc, n, step, explicit, values, flow=None, qual=None):
    segs = [ptd + ("***OZ*" + flow if flow else "")]
    local, c = code(start_utc, explicit)
    segs.append(f"DTM*150*{local:%Y%m%d}*{local:%H%M}*{c}")
    total = Decimal(0)
    t = start_utc
    for i in range(n):
        t += step
        v = values(i)
        q = qual(i) if qual else "QD"
        local, c = code(t, explicit)
        segs.append(f"QTY*{q}*{v}*KH")
        segs.append(f"DTM*582*{local:%Y%m%d}*{local:%H%M}*{c}")
        total += v
    return segs, total, t


def monthly():
    txs, totals = [], {}
    for sp, reads in (("10443720000000001", 10234), ("10443720000000009", 55120)):
        body = [f"BPT*00*MU{sp[-4:]}*20240205*DD", f"REF*Q5*{sp}"]
        beg = Decimal(reads)
        tot = Decimal(0)
        for (a, b), est in ((("20231101", "20231201"), False), (("20231201", "20240102"), True),
                            (("20240102", "20240201"), False)):
            kwh = rnd(600, 1600).quantize(Decimal(1))
            end = beg + kwh
            body += ["PTD*SU", f"DTM*150*{a}", f"DTM*151*{b}",
                     f"QTY*{'KA' if est else 'QD'}*{kwh}*KH",
                     f"MEA*AA*PRQ*{kwh}*KH*{beg}*{end}*51",
                     f"QTY*QD*{rnd(3, 9)}*K1"]
            beg = end
            tot += kwh
        txs.append(body)
        totals[sp] = tot
    (OUT / "monthly_2023-11_to_2024-01.x12").write_text(interchange(txs, 101))
    return totals


def fall():
    start = datetime(2023, 11, 4, 5, 0, tzinfo=timezone.utc)  # 00:00 CDT
    hours = 24 + 25 + 24
    body = ["BPT*00*IU0002*20231107*C1", "REF*Q5*10443720000000002"]
    fwd, tf, _ = interval_loop("PTD*PM", start, hours, timedelta(hours=1), False,
                               lambda i: rnd(0.3, 2.5), qual=lambda i: "KA" if i in (30, 31) else "QD")
    body += [fwd[0], "REF*MG*M0002"] + fwd[1:]
    solar_start = datetime(2023, 11, 5, 14, 0, tzinfo=timezone.utc)  # 08:00 CST
    rev, tr, _ = interval_loop("PTD*PM", solar_start, 8, timedelta(hours=1), False,
                               lambda i: rnd(0, 1.2), flow="REVERSE")
    body += [rev[0], "REF*MG*M0002"] + rev[1:]
    (OUT / "interval_hourly_2023-11-04_to_2023-11-06_fall_dst.x12").write_text(
        interchange([body], 102))
    return {"forward": tf, "reverse": tr}


def spring():
    body = ["BPT*00*IU0003*20230314*C1", "REF*Q5*10443720000000003"]
    start = datetime(2023, 3, 11, 6, 0, tzinfo=timezone.utc)  # 00:00 CST
    n1 = 96 + 40   # Saturday and the spring-forward morning, then a 2-hour gap
    seg1, t1, end1 = interval_loop("PTD*PM", start, n1, timedelta(minutes=15), True,
                                   lambda i: rnd(0.05, 0.9),
                                   qual=lambda i: "KA" if 100 <= i < 104 else "QD")
    gap_end = end1 + timedelta(hours=2)
    n2 = (92 - 40 - 8) + 96  # rest of the 23-hour day, then Monday
    seg2, t2, _ = interval_loop("PTD*PM", gap_end, n2, timedelta(minutes=15), True,
                                lambda i: rnd(0.05, 0.9))
    body += seg1 + seg2
    (OUT / "interval_15min_2023-03-11_to_2023-03-13_spring_dst.x12").write_text(
        interchange([body], 103))
    return {"forward": t1 + t2, "readings": n1 + n2}


if __name__ == "__main__":
    print("monthly", monthly())
    print("fall", fall())
    print("spring", spring())
