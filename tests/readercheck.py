"""What a policy reader must not meet on a page, found in the page's visible text.

Used by ``tests/e2e/test_reader_pages.py`` on every reader page of the default plan (the
pages without code, the front page and the run log are not reader pages in the same sense:
the run log is for the people who run the plan and is checked for paths and stderr only).
Each finder returns lines naming the page and an example, so a failure reads as a list of
what to fix. The lists of words are the test's own, not the workbench's labels.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from analysis.runner import share

SNAKE = re.compile(r"(?<![\w/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/.-])")
FORMULA = re.compile(r"\bC\([a-z_]+\)|\[T\.[^\]]+\]|\b[a-z_]+\s*(?:<=|>=|==|!=)\s*[a-z_]+\b")
# common English words that have no Vietnamese homograph (not "an", "to", "do", "in", "no")
ENGLISH = re.compile(
    r"\b(?:the|and|of|with|is|are|for|from|value|values|mean|median|rural|urban|"
    r"placeholder|school|schools|district|districts|level|share|total|missing|year|"
    r"status|model|group|rank|target|change|estimate|interval|effect|none|true|false|"
    r"nan|behind|met|feature|importance|lower|upper|left|right|message)\b",
    re.IGNORECASE,
)
# Vietnamese function words that no English sentence carries
VIETNAMESE = re.compile(
    r"(?<!\w)(?:của|và|các|những|được|không|với|cho|là|này|trong|năm học|chỉ tiêu|tỷ lệ)(?!\w)",
    re.IGNORECASE,
)
WRONG_NUMBER = {
    # a decimal point with one, two or four+ digits is English; a year never has a dot
    # nor does a thousands group follow a lone 0 ("0.094" is a decimal)
    "vi": re.compile(r"(?<![\d.,])(?:\d+\.(?:\d{1,2}|\d{4,})|0\.\d+|2\.0[0-4]\d)(?![\d.,])"),
    "en": re.compile(r"(?<![\d.,])(?:\d+,(?:\d{1,2}|\d{4,})|0,\d+|2,0[0-4]\d)(?![\d.,])"),
}
VERSION = re.compile(r"\b\d+\.\d+\.\d+\S*")  # the code version in the footer is not a number
ALLOWED_ENGLISH = re.compile(r"\b(?:Internet|LMS|CNTT|CĐS|kbps|OLS|p)\b")
CUT_NOTE = {"vi": re.compile(r"(\d[\d.]*) trong (\d[\d.]*) dòng"),
            "en": re.compile(r"(\d[\d,]*) of (\d[\d,]*) rows")}  # fmt: skip


class Visible(HTMLParser):
    """The text a reader sees (no script, style or hidden markup), and the tables' row counts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.rows: list[int] = []  # body rows of each table
        self._skip: list[str] = []
        self._in_body = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "head", "title"}:
            self._skip.append(tag)
        if tag == "table":
            self.rows.append(0)
        if tag == "tbody":
            self._in_body += 1
        if tag == "tr" and self._in_body and self.rows:
            self.rows[-1] += 1
        if tag in {"p", "div", "br", "tr", "li", "td", "th", "h1", "h2", "h3", "h4"}:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
        if tag == "tbody":
            self._in_body = max(0, self._in_body - 1)

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def visible(raw: str) -> Visible:
    page = Visible()
    page.feed(raw)
    page.close()
    return page


def _examples(pattern: re.Pattern, text: str, limit: int = 5) -> list[str]:
    seen: list[str] = []
    for match in pattern.finditer(text):
        found = match.group(0)
        if found not in seen:
            seen.append(found)
    return seen[:limit]


def problems(path: Path, lang: str, tables: list[dict] | None = None) -> list[str]:
    """Everything on the reader page ``path`` (in ``lang``) a reader must not meet."""
    raw = path.read_text(encoding="utf-8")
    page = visible(raw)
    text = page.text
    name = path.name
    out = share.server_traces(name, raw.encode("utf-8"), host="")  # each names the page
    for label, pattern in (("code name", SNAKE), ("formula", FORMULA)):
        if found := _examples(pattern, text):
            out.append(f"{name}: {label} {found}")
    other = ENGLISH if lang == "vi" else VIETNAMESE
    words = _examples(other, ALLOWED_ENGLISH.sub("", text))
    if words:
        out.append(f"{name}: {'English' if lang == 'vi' else 'Vietnamese'} words {words}")
    if found := _examples(WRONG_NUMBER[lang], VERSION.sub("", text)):
        out.append(f"{name}: numbers not in the {lang} style {found}")
    notes = [int(re.sub(r"\D", "", total)) for _, total in CUT_NOTE[lang].findall(text)]
    for table in tables or []:
        if table.get("kind") == "data" and table.get("rows") == 0:
            out.append(f"{name}: an empty chart ({table['name']}: no data behind it)")
        shown = table.get("rows", 0)
        cut = table.get("kind") == "table" and shown > 15 and shown not in notes
        if cut and shown not in page.rows:
            out.append(f"{name}: table {table['name']} of {shown} rows cut without its note")
    return out
