"""Transform for the `en-ocr-student` family (jondoughty/article-reconstruction,
tagged_data/*.csv): one tagged CSV (one Mustang Daily issue, one row per OCR
line/block) -> the plain OCR text of one page, one CSV row per output line, in
the CSV's order, without any of the tag columns.

CSV layout: row 1 is a function-key legend, row 2 the column names
(LINE, PAGE, ARTICLE NUMBER, FUNCTION, PARAGRAPH NUMBER, JUMP, AD #, SCANNED TEXT);
data rows follow.  Column 2 (PAGE) is the page the row is on, 0 when the
taggers found the row unintelligible.

A page is: every row whose PAGE equals args["page"], plus the rows tagged page
0 (or with an empty PAGE cell) that lie between two rows of that page (OCR
noise printed on the page).  Rows tagged with another page number are left out
even when they lie inside the span.  Line breaks inside a text cell (rare) are
replaced by one space so that one CSV row stays one output line.

args: {"page": <int or str>}
"""

import csv
import io


def extract(data: bytes, args: dict) -> str:
    page = str(int(args["page"]))
    text = data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    body = [r for r in rows[2:] if len(r) >= 8]

    def pg(r):
        return r[1].strip()

    idx = [i for i, r in enumerate(body) if pg(r) == page]
    if not idx:
        raise ValueError("no rows for page %s" % page)
    first, last = idx[0], idx[-1]
    out = []
    for r in body[first:last + 1]:
        p = pg(r)
        if p == page or p in ("", "0"):
            cell = r[7].replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
            out.append(cell)
    return "\n".join(out) + "\n"
