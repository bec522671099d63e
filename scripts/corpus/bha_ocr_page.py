"""PaddleOCR result of one scanned page -> raw OCR text, as a converter would emit it.

Source: the page JSON files of the banned-historical-archives repositories
(`<uuid>/<n>.json`, `{"ocr_results": [{"text": ..., "box": [[x,y]*4]}, ...], "dimensions": ...}`).

Output: one OCR text box per line, in the order the OCR wrote them (PaddleOCR sorts boxes
top-to-bottom, so side-by-side columns come out interleaved line by line). Nothing is
reordered, merged, split or corrected; a newline inside a box text becomes a space.

args:
  region  optional list of rectangles [x0, y0, x1, y1] in page pixels. When given, only the
          boxes whose centre (middle of the box's bounding rectangle) lies inside one of the
          rectangles (x0 <= x < x1, y0 <= y < y1) are kept, still in OCR order. Used to take
          one physical page out of a two-page scan, or a band/column block of a page.
"""

import json


def _centre(box):
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    return (min(xs) + max(xs)) / 2.0, (min(ys) + max(ys)) / 2.0


def extract(data: bytes, args: dict) -> str:
    doc = json.loads(data.decode("utf-8"))
    results = doc["ocr_results"] if isinstance(doc, dict) else doc
    rects = args.get("region") or []
    lines = []
    for r in results:
        text = r.get("text", "")
        if rects:
            cx, cy = _centre(r["box"])
            if not any(x0 <= cx < x1 and y0 <= cy < y1 for x0, y0, x1, y1 in rects):
                continue
        lines.append(text.replace("\r\n", " ").replace("\r", " ").replace("\n", " "))
    return "\n".join(lines) + "\n"
