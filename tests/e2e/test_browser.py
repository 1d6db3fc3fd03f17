"""The default plan's reports in a real browser (issue 7).

Debian's Chromium (``/usr/bin/chromium``; ``make browser`` installs it), driven by
Playwright, opens ``index.html`` and every page it links to (the reports without and with
code), served from a localhost HTTP server — ``file://`` is also tried for the index and one
brief. Each page must load without a console error or an uncaught exception, show every
image, carry Vietnamese text, and every link must resolve: relative links (pages, CSV and
Excel downloads, the manifest) answer 200 from the server, anchors exist in their page, and
nothing points at or loads from the network (requests leaving localhost are aborted and
counted). Screenshots of the index and one district brief go to ``reports/screenshots/``.

Pages are opened once (module fixture); each test checks one property over all of them.
"""

from __future__ import annotations

import functools
import http.server
import re
import struct
import threading
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis.runner import layout
from tests.helpers import CHROMIUM
from tests.helpers import CHROMIUM_FLAGS as FLAGS

# with pytest-xdist, every test of the default plan's run goes to one worker (built once)
pytestmark = pytest.mark.xdist_group("default_run")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "reports" / "screenshots"
# letters only Vietnamese uses among the Latin scripts (ă â đ ê ô ơ ư and the tone-marked
# vowels of Latin Extended Additional), plus the tone-marked vowels of Latin-1
VIETNAMESE = re.compile(
    r"\w*[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ\u1ea0-\u1ef9]\w*", re.IGNORECASE
)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

# everything a page shows or links to, read in the page after it loaded
_COLLECT = """() => {
  const shown = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const ids = new Set([...document.querySelectorAll('[id]')].map((e) => e.id));
  for (const a of document.querySelectorAll('a[name]')) ids.add(a.getAttribute('name'));
  return {
    text: document.body ? document.body.innerText : '',
    ids: [...ids],
    links: [...document.querySelectorAll('a[href], area[href]')].map((a) => ({
      raw: a.getAttribute('href'), resolved: a.href, text: a.textContent.trim().slice(0, 60)})),
    images: [...document.images].map((img) => ({
      src: img.currentSrc.slice(0, 80), complete: img.complete, width: img.naturalWidth,
      shown: shown(img)})),
    selects: document.querySelectorAll('select').length,
  };
}"""

# images may be lazy: make them eager and wait until each has loaded or failed
_LOAD_IMAGES = """async () => {
  const images = [...document.images];
  for (const img of images) img.loading = 'eager';
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
}"""


def _missing_chromium() -> str:
    return (
        f"Chromium is not installed at {CHROMIUM}: `make browser` installs Debian's chromium "
        "package (apt-get), which the browser tests drive through Playwright"
    )


# --------------------------------------------------------------------------
# A localhost server over the plan's output folder


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@dataclass
class Served:
    out: Path  # the plan's output folder
    base: str  # its URL, ending in '/'
    origin: str

    @property
    def root(self) -> str:
        """The URL of the served folder (the plan folder's parent), ending in '/'."""
        return self.origin + "/"

    def url(self, path: Path) -> str:
        return self.base + urllib.parse.quote(path.relative_to(self.out).as_posix())


@pytest.fixture(scope="module")
def served(default_run):
    out, done = default_run
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # the parent is served so that a link out of the plan folder (../kpi/…) is checked too
    handler = functools.partial(_Handler, directory=str(out.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield Served(out, f"{origin}/{urllib.parse.quote(out.name)}/", origin)
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------
# The browser, and every page opened once


@dataclass
class Page:
    name: str
    url: str
    errors: list[str] = field(default_factory=list)  # console errors, page errors, failures
    text: str = ""
    ids: set[str] = field(default_factory=set)
    links: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    selects: int = 0


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(_missing_chromium(), pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )  # a fresh, temporary profile each time
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def context(browser, served):
    """A browser context where every request that leaves the local server is aborted and
    recorded (``context.network``): the reports must be viewable offline."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.network = []

    def guard(route):
        url = route.request.url
        local = (served.origin + "/", served.out.parent.as_uri() + "/", "data:", "blob:")
        if url.startswith(local):
            route.continue_()
        else:
            context.network.append(url)
            route.abort()

    context.route("**/*", guard)
    yield context
    context.close()


class Tab:
    """One browser tab that reads page after page, each page's errors recorded apart."""

    def __init__(self, context) -> None:
        self.tab = context.new_page()
        self.page: Page | None = None
        self.tab.on("console", lambda m: m.type == "error" and self._error(f"console: {m.text}"))
        self.tab.on("pageerror", lambda e: self._error(f"uncaught: {e}"))
        self.tab.on("requestfailed", lambda r: self._error(f"failed: {r.url[:120]} {r.failure}"))
        self.tab.on(
            "response",
            lambda r: r.status >= 400 and self._error(f"HTTP {r.status}: {r.url[:120]}"),
        )

    def _error(self, message: str) -> None:
        if self.page is not None:
            self.page.errors.append(message)

    def open(self, name: str, url: str) -> Page:
        self.page = page = Page(name, url)
        response = self.tab.goto(url, wait_until="load")
        if url.startswith("http") and (response is None or response.status not in (200, 304)):
            page.errors.append(f"HTTP {response and response.status} for the page itself")
        self.tab.evaluate(_LOAD_IMAGES)
        found = self.tab.evaluate(_COLLECT)
        page.text, page.ids, page.links = found["text"], set(found["ids"]), found["links"]
        page.images, page.selects = found["images"], found["selects"]
        return page

    def close(self) -> None:
        self.tab.close()


@pytest.fixture(scope="module")
def pages(context, served):
    """The index and every HTML page of the plan folder that the index links to, by name
    (``index``, ``html/<run>.report.html``, ``../<plan>.internal/html/<run>.code.html``:
    the path from the plan folder)."""
    tab = Tab(context)
    index = tab.open("index", served.base + "index.html")
    opened = {"index": index}
    listing = [index]  # the front page, then the run log it links (which links the code pages)
    while listing:
        for link in listing.pop(0).links:
            raw, resolved = link["raw"], link["resolved"].split("#")[0]
            if SCHEME.match(raw) or not resolved.startswith(served.root):
                continue
            local = served.out.parent / urllib.parse.unquote(resolved[len(served.root) :])
            name = layout.relative(served.out, local)
            if name.endswith(".html") and name not in opened and name != "index.html":
                opened[name] = tab.open(name, resolved)
                if name == RUNS:
                    listing.append(opened[name])
    tab.close()
    return opened


RUNS = "runs.html"  # the run log, linked from the front page


def _reports(pages: dict[str, Page]) -> dict[str, Page]:
    return {k: p for k, p in pages.items() if k.endswith(".report.html")}


# --------------------------------------------------------------------------
# Every report page was opened, and none logs an error


def test_index_links_every_report_of_the_plan(pages, served):
    folders = (served.out, layout.internal_dir(served.out))
    on_disk = sorted(layout.relative(served.out, p) for f in folders for p in f.glob("html/*.html"))
    assert on_disk and sorted(k for k in pages if k not in ("index", RUNS)) == on_disk
    # seven notebooks (the inspection one internal: it names schools), one brief per district
    assert len(_reports(pages)) == 7 + 9


def test_no_console_errors(pages, context):
    errors = [f"{name}: {e}" for name, page in pages.items() for e in page.errors]
    assert not errors, "\n".join(errors)
    assert not context.network, "loaded from the network: " + ", ".join(context.network)


def test_every_image_loads(pages):
    broken = [
        f"{name}: {image['src']}"
        for name, page in pages.items()
        for image in page.images
        if not (image["complete"] and image["width"] > 0)
    ]
    assert not broken, "images that did not load:\n" + "\n".join(broken)
    # the reports do show figures (the check above is not vacuous)
    assert sum(len(p.images) for p in _reports(pages).values()) >= 15


# --------------------------------------------------------------------------
# Links


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" or (tag == "a" and key == "name"):
                self.ids.add(value or "")


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def _anchor(fragment: str) -> str:
    return urllib.parse.unquote(fragment)


def test_every_link_resolves(pages, served):
    """Relative links answer 200 (downloads fetched from the server, never navigated to),
    in-page and cross-page anchors exist, and no link leaves for the network."""
    problems: list[str] = []
    fetched: dict[str, tuple[int, bytes]] = {}
    checked = 0
    for name, page in pages.items():
        for link in page.links:
            raw, resolved = link["raw"].strip(), link["resolved"]
            where = f"{name}: href={raw!r} ({link['text']!r})"
            if raw == "" or raw == "#":
                continue
            if SCHEME.match(raw):
                if not raw.lower().startswith("data:"):
                    problems.append(f"{where} leaves the reports (absolute or scripted link)")
                continue
            checked += 1
            if raw.startswith("#"):
                if _anchor(raw[1:]) not in page.ids and raw[1:] not in page.ids:
                    problems.append(f"{where}: no element with that id in the page")
                continue
            target, _, fragment = resolved.partition("#")
            target = target.split("?")[0]
            if not target.startswith(served.origin + "/"):
                problems.append(f"{where} resolves outside the server: {resolved}")
                continue
            if target not in fetched:
                fetched[target] = _fetch(target)
            status, body = fetched[target]
            if status != 200:
                problems.append(f"{where}: HTTP {status} for {target[len(served.origin) :]}")
            elif not body:
                problems.append(f"{where}: empty file {target[len(served.origin) :]}")
            elif fragment:
                ids = _Ids()
                ids.feed(body.decode("utf-8", "replace"))
                if _anchor(fragment) not in ids.ids and fragment not in ids.ids:
                    problems.append(f"{where}: no element #{fragment} in the target page")
    assert not problems, "\n".join(problems)
    # the index links every report twice, the manifest and the figures table
    assert checked >= 2 * 15 + 2


def test_links_to_downloads_are_checked_too(pages, served):
    """The downloads are among the links checked above: the KPI workbook (Excel) and the
    front page's tables from the front page, the manifest and the figures table from the
    run log, the data behind tables and figures (CSV) from the reports."""

    def downloads(page: Page, extension: str) -> list[str]:
        return [
            link["resolved"]
            for link in page.links
            if not SCHEME.match(link["raw"])
            and link["resolved"].split("#")[0].split("?")[0].endswith(extension)
        ]

    index, log = pages["index"], pages[RUNS]
    manifest = served.root + urllib.parse.quote(f"{served.out.name}.internal/manifest.json")
    assert manifest in downloads(log, ".json")
    assert served.base + "figures.csv" in downloads(log, ".csv")
    assert downloads(index, ".xlsx"), "the front page links no KPI workbook"
    front = {served.base + f"data/front/{n}.csv" for n in ("headline", "ranking", "maturity")}
    assert front <= set(downloads(index, ".csv")), "the front page's tables are no download"
    without = [name for name, page in _reports(pages).items() if not downloads(page, ".csv")]
    assert not without, f"reports without a CSV link: {without}"


# --------------------------------------------------------------------------
# Vietnamese


def _vietnamese_words(text: str) -> set[str]:
    return {m.group(0).lower() for m in VIETNAMESE.finditer(text)}


def test_vietnamese_text_is_present(pages):
    assert "Chỉ tiêu so với kế hoạch" in pages["index"].text
    assert "Nhật ký chạy" in pages[RUNS].text
    few = {}
    for name, page in _reports(pages).items():
        words = _vietnamese_words(page.text)
        if len(words) < 10:
            few[name] = sorted(words)
    assert few == {}, "reports with (almost) no Vietnamese text"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is no PNG"
    return struct.unpack(">II", data[16:24])


# the first visible element whose own text has Vietnamese letters: screenshots of it as it
# is, with the diacritics stripped, and with each non-ASCII letter replaced by a code point
# no font has (it renders as the missing-glyph box)
_FIND_TEXT = """() => {
  const re = /[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ\\u1ea0-\\u1ef9]/i;
  for (const el of document.querySelectorAll('h1, h2, h3, h4, p, td, th, li')) {
    if (el.children.length === 0 && re.test(el.textContent) && el.offsetWidth > 0) {
      el.setAttribute('data-glyph-check', '1');
      return el.textContent;
    }
  }
  return null;
}"""


def _strip_diacritics(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _glyphs_render(tab) -> str:
    """The text checked; fails when its Vietnamese letters draw as missing-glyph boxes."""
    text = tab.evaluate(_FIND_TEXT)
    assert text, "no visible Vietnamese text to check"
    element = tab.locator("[data-glyph-check]")
    shown = element.screenshot()
    element.evaluate("(el, t) => { el.textContent = t; }", _strip_diacritics(text))
    plain = element.screenshot()
    boxes = "".join(c if c.isascii() else "\U000f0000" for c in text)
    element.evaluate("(el, t) => { el.textContent = t; }", boxes)
    missing = element.screenshot()
    element.evaluate("(el, t) => { el.textContent = t; }", text)
    assert shown != plain, f"the diacritics of {text!r} are not drawn"
    assert shown != missing, f"{text!r} renders as missing-glyph boxes"
    return text


def test_screenshots_of_the_index_and_a_district_brief(context, served, pages):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    briefs = sorted(k for k in _reports(pages) if "district_brief" in k)
    assert briefs, sorted(pages)
    targets = {"index": served.base + "index.html", "district_brief": served.base + briefs[0]}
    tab = Tab(context)
    for name, url in targets.items():
        page = tab.open(name, url)
        assert page.errors == []
        path = SCREENSHOTS / f"{name}.png"
        tab.tab.screenshot(path=str(path), full_page=True)
        _glyphs_render(tab.tab)
        width, height = _png_size(path)
        assert width >= 1000 and height >= 400, (path, width, height)
        assert path.stat().st_size > 20_000, path  # a blank page compresses to a few KB
    tab.close()


# --------------------------------------------------------------------------
# file:// — what a reader gets opening the folder they were sent


def test_index_and_a_brief_from_files(context, served, pages):
    briefs = sorted(k for k in _reports(pages) if "district_brief" in k)
    errors = {}
    tab = Tab(context)
    for name in ("index.html", briefs[0]):
        page = tab.open(name, (served.out / name).as_uri())
        broken = [i for i in page.images if not (i["complete"] and i["width"] > 0)]
        local = [
            link["raw"]
            for link in page.links
            if not SCHEME.match(link["raw"]) and not link["raw"].startswith("#")
        ]
        gone = [
            raw
            for raw in local
            if not (served.out / Path(name).parent / urllib.parse.unquote(raw.split("#")[0]))
            .resolve()
            .exists()
        ]
        if page.errors or broken or gone:
            errors[name] = {"errors": page.errors, "images": broken, "missing files": gone}
    tab.close()
    assert errors == {}


# --------------------------------------------------------------------------
# The run log's filters (notebook, district, status)


_ROWS = """() => [...document.querySelectorAll('tbody tr')].map((tr) => ({
  data: {...tr.dataset},
  text: tr.innerText,
  shown: !!(tr.offsetWidth || tr.offsetHeight || tr.getClientRects().length),
}))"""

_SELECTS = """() => [...document.querySelectorAll('select')].map((s, i) => ({
  index: i, name: s.name || s.id || s.getAttribute('aria-label') || String(i),
  filter: s.dataset.filter || null,
  options: [...s.options].map((o) => ({value: o.value, label: o.textContent.trim()})),
}))"""


def _attribute_for(options: list[dict], rows: list[dict]) -> str | None:
    """The row data attribute a filter selects on: the one whose values its options name
    most (an option may name a value no row has, e.g. the status ``failed``)."""
    values = {o["value"] for o in options if o["value"]}
    keys = sorted({k for row in rows for k in row["data"]})
    overlap = {k: len(values & {row["data"].get(k) for row in rows}) for k in keys}
    best = max(keys, key=lambda k: overlap[k], default=None)
    return best if best is not None and overlap[best] else None


def test_filters_hide_the_rows_that_do_not_match(context, served, pages):
    """Choosing a value shows the rows carrying it and hides the rows carrying another
    value (a row without the attribute, e.g. a province-wide run under a district filter,
    may go either way); choosing the empty option shows every row again."""
    assert pages[RUNS].selects >= 3, "the run log has no notebook, district and status filter"
    reader = Tab(context)
    reader.open("runs", served.base + RUNS)
    tab = reader.tab
    rows = tab.evaluate(_ROWS)
    assert len(rows) == 16 and all(r["shown"] for r in rows)
    problems = []
    for select in tab.evaluate(_SELECTS):
        choices = [o for o in select["options"] if o["value"]]
        key = select["filter"] or _attribute_for(choices, rows)  # data-filter names it
        assert choices and key, f"filter {select['name']!r}: which row attribute does it use?"
        handle = tab.locator("select").nth(select["index"])
        for option in choices:
            handle.select_option(value=option["value"])
            after = tab.evaluate(_ROWS)
            wrong = [
                r["data"].get("run") or r["text"][:40]
                for r in after
                if r["data"].get(key) and r["shown"] != (r["data"][key] == option["value"])
            ]
            if wrong:
                problems.append((select["name"], option["value"], wrong))
        everything = [o["value"] for o in select["options"] if not o["value"]]
        if everything:
            handle.select_option(value="")
        else:
            handle.select_option(index=0)
        if not all(r["shown"] for r in tab.evaluate(_ROWS)):
            problems.append((select["name"], "reset", "rows stay hidden"))
    tab.close()
    assert problems == []
