#!/usr/bin/env python3
"""text2pdf.py -- typeset bill text (pdftotext -layout style) as a small PDF.

    python3 text2pdf.py bill.layout.txt > bill.pdf

The bill tests need a bill PDF without committing one: this writes a
one-page PDF 1.4 in Courier 9 pt where every run of text separated by three
or more blanks is its own text object at its column's x position -- the way
a bill printer places its two columns -- so a PDF reader has to put the
columns back together by position.  Output is deterministic (no dates, no
ids): the same text gives the same bytes.  Standard library only."""
import re
import sys

FONT_SIZE = 9.0
CHAR_W = FONT_SIZE * 0.6      # Courier advance width
LEADING = 11.0
LEFT, TOP, WIDTH, HEIGHT = 36.0, 756.0, 612, 792


def pdf_string(s):
    s = s.encode("latin-1", "replace").decode("latin-1")
    return "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def content(lines):
    ops = ["BT", "/F1 %.1f Tf" % FONT_SIZE]
    for i, line in enumerate(lines):
        y = TOP - i * LEADING
        for m in re.finditer(r"\S+(?: {1,2}\S+)*", line):
            x = LEFT + m.start() * CHAR_W
            ops.append("1 0 0 1 %.2f %.2f Tm %s Tj" % (x, y, pdf_string(m.group(0))))
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.read().replace("\f", "\n").split("\n")
    stream = content(lines)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        ("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R "
         "/Resources << /Font << /F1 5 0 R >> >> >>" % (WIDTH, HEIGHT)).encode(),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    sys.stdout.buffer.write(bytes(out))


if __name__ == "__main__":
    main()
