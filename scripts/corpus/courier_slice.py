"""Slice of a UNESCO Courier issue from inidun/tagged_courier, with the annotation removed.

Source: annotated_issues/annotated_<year>_<id>.md. Each issue is OCR text, one printed line per
line, with `## [Page N](<pdf>#page=N) M` page headings (kept: they are page breaks). The
annotators inserted marker lines that ARE the gold segmentation, each padded by one blank line
before and after:

    ### 74041: Emotionalism in science      (article id: catalogue title)
    ### IGNORE                              (end of an article / non-article text)
    ### EDITORIAL, ### UNINDEXED_SUPPLEMENT, ### UNINDEXED_ARTICLE

`extract` keeps lines args["from"]..args["to"] (1-based, inclusive, of the source file) and
drops every marker line together with the run of blank lines directly before it and the run
directly after it (the padding the annotators added with it), so no trace of the gold remains.
Everything else is kept byte for byte (trailing spaces, OCR damage, other `#` lines).
"""

import re

MARKER = re.compile(
    r"^#{3,4} ?(?:\d+:.*|(?:IGNORE|EDITORIAL|UNINDEXED_ARTICLE|UNINDEXED_SUPPLEMENT)\W*)$",
    re.IGNORECASE,
)


def extract(data: bytes, args: dict) -> str:
    text = data.decode("utf-8")
    lines = text.split("\n")
    a, b = int(args["from"]), int(args["to"])
    part = lines[a - 1 : b]
    drop = set()
    for i, line in enumerate(part):
        if MARKER.match(line.rstrip("\r")):
            drop.add(i)
            j = i - 1
            while j >= 0 and part[j].strip() == "":
                drop.add(j)
                j -= 1
            j = i + 1
            while j < len(part) and part[j].strip() == "":
                drop.add(j)
                j += 1
    kept = [line for i, line in enumerate(part) if i not in drop]
    return "\n".join(kept) + "\n"
