"""Slice a contiguous run of lines out of a Chronicling America OCR text.

Family: en-ocr-historic.  The source is a plain OCR text as chroniclingamerica.loc.gov
serves it (one printed line per text line, columns one after another).  Some sources
hold a whole issue (all pages concatenated) or a whole page far longer than wanted; this
transform keeps lines `lines = "A-B"` (1-based, inclusive) of the source, unchanged, each
ended with '\n'.  Nothing else is altered (no OCR fixing, no re-wrapping).
"""


def extract(data: bytes, args: dict) -> str:
    text = data.decode("utf-8")
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    spec = str(args["lines"]).strip()
    a_str, b_str = spec.split("-", 1)
    a, b = int(a_str), int(b_str)
    if a < 1 or b < a or b > len(lines):
        raise ValueError(f"line range {spec} outside 1-{len(lines)}")
    return "".join(line + "\n" for line in lines[a - 1 : b])
