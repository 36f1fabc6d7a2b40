#!/usr/bin/env python3
"""feedcmp.py -- do two Green Button feeds hold the same data?

Usage: feedcmp.py A.xml B.xml   (exit 0 same, 1 different, 2 usage/parse error)

A semantic comparison, independent of espigate's reader: Python's own XML
parser streams both files (iterparse, one entry at a time) and builds

  - every IntervalReading keyed by (its block's collection href, start,
    duration) -> value, cost, qualities, consumptionTier, tou, cpp; a
    block's collection is its up href (or its self href without the last
    segment), so blocks that were re-identified still match;
  - every other entry keyed by id -> its content (canonical, whitespace
    trimmed), self/up hrefs, related hrefs, published and updated.

Entry order, indentation, namespace prefixes and comments do not matter.
Memory is one dict entry per reading: fine for test feeds, not meant for
the benchmark-sized ones.
"""
import sys
import xml.etree.ElementTree as ET

ATOM = "{http://www.w3.org/2005/Atom}"
ESPI = "{http://naesb.org/espi}"


def local(tag):
    return tag.rsplit("}", 1)[-1]


def canon(el):
    """Element -> nested tuple (name, text, children) without whitespace."""
    kids = tuple(canon(c) for c in el if isinstance(c.tag, str))
    text = (el.text or "").strip() if not kids else ""
    return (local(el.tag), text, kids)


def text_of(el, name):
    c = el.find(ESPI + name)
    return None if c is None or c.text is None else c.text.strip()


def load(path):
    readings, entries = {}, {}
    for _, el in ET.iterparse(path, events=("end",)):
        if el.tag != ATOM + "entry":
            continue
        eid = (el.findtext(ATOM + "id") or "").strip()
        links = {"related": []}
        for l in el.findall(ATOM + "link"):
            rel = l.get("rel", "related")
            if rel == "related":
                links["related"].append(l.get("href", ""))
            else:
                links[rel] = l.get("href", "")
        content = el.find(ATOM + "content")
        blocks = [] if content is None else content.findall(ESPI + "IntervalBlock")
        if blocks:
            series = links.get("up") or links.get("self", "").rsplit("/", 1)[0]
            for b in blocks:
                for r in b.findall(ESPI + "IntervalReading"):
                    tp = r.find(ESPI + "timePeriod")
                    key = (series, text_of(tp, "start") if tp is not None else None,
                           text_of(tp, "duration") if tp is not None else None)
                    quals = tuple(q.text.strip() for q in r.findall(ESPI + "ReadingQuality/" + ESPI + "quality"))
                    val = (text_of(r, "value"), text_of(r, "cost"), quals,
                           text_of(r, "consumptionTier"), text_of(r, "tou"), text_of(r, "cpp"))
                    if key in readings:
                        raise ValueError("%s: reading %r appears twice" % (path, key))
                    readings[key] = val
        else:
            entries[eid] = (canon(content) if content is not None else None,
                            links.get("self"), links.get("up"), tuple(sorted(links["related"])),
                            (el.findtext(ATOM + "published") or "").strip(),
                            (el.findtext(ATOM + "updated") or "").strip())
        el.clear()
    return readings, entries


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        ra, ea = load(argv[1])
        rb, eb = load(argv[2])
    except (ET.ParseError, OSError, ValueError) as e:
        print("feedcmp: %s" % e, file=sys.stderr)
        return 2
    diffs = []
    for k in sorted(set(ra) | set(rb), key=repr):
        if ra.get(k) != rb.get(k):
            diffs.append("reading %r: %r != %r" % (k, ra.get(k), rb.get(k)))
    for k in sorted(set(ea) | set(eb)):
        if ea.get(k) != eb.get(k):
            diffs.append("entry %s: %r\n    != %r" % (k, ea.get(k), eb.get(k)))
    for d in diffs[:20]:
        print(d)
    if diffs:
        print("feedcmp: %d differences (%d shown)" % (len(diffs), min(20, len(diffs))))
        return 1
    print("feedcmp: same (%d readings, %d other entries)" % (len(ra), len(ea)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
