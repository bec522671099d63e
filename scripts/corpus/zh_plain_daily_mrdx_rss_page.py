"""One page of 新华每日电讯 (Xinhua Daily Telegraph) from an RSS snapshot.

Source: an RSS 2.0 file as written by ifyuls/xhmrdx-rss (history/mrdx_YYYY-MM-DD.xml): one
<item> per article, in the e-paper's order, titled "[NN版：栏目] 标题", the article page's
HTML in <description>: a header table (kicker in an 18px font, headline in a 23px font,
subtitle in an 18px font, then a rule and a "稿件来源" metadata row) and a body <div> whose
paragraphs are separated by <br/> (section heads in centred <div><strong>).

args: { page = N }
Output: for each item of page N, in feed order: its kicker, headline and subtitle lines (the
ones that are not empty), then its body lines; <br/> and block tags end lines, other tags are
dropped, entities unescaped, lines that are empty or only whitespace dropped.  The web-only
metadata row ("（ 日期 ） 稿件来源：…") is not page text and is left out.  Lines joined with
"\n", ending with "\n".
"""
import html
import re
import xml.etree.ElementTree as ET

_BREAK = re.compile(r"<br\s*/?>|</?p\s*/?>|</?div[^>]*>|</?tr[^>]*>|</?td[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")
_FONT = re.compile(r'<font style="FONT-SIZE:\s*(\d+)px">(.*?)</font>', re.S | re.I)


def _lines(fragment):
    text = _BREAK.sub("\n", fragment)
    text = html.unescape(_TAG.sub("", text))
    return [ln for ln in text.split("\n") if ln.strip()]


def _article(desc):
    body_start = desc.find("<body")
    doc = desc[body_start:] if body_start >= 0 else desc
    end = doc.find("</body>")
    if end >= 0:
        doc = doc[:end]
    head, sep, body = doc.partition("</table>")
    if not sep:
        head, body = "", doc
    out = []
    rule = head.find("<hr")
    header = head[:rule] if rule >= 0 else head
    for _, inner in _FONT.findall(header):
        out.extend(ln.strip() for ln in _lines(inner))
    out.extend(_lines(body))
    return out


def extract(data: bytes, args: dict) -> str:
    page = int(args["page"])
    root = ET.fromstring(data)
    want = re.compile(r"^\[0*%d版" % page)
    lines = []
    for item in root.iter("item"):
        title = item.findtext("title") or ""
        if not want.match(title):
            continue
        lines.extend(_article(item.findtext("description") or ""))
    if not lines:
        raise ValueError("no items for page %d" % page)
    return "\n".join(lines) + "\n"
