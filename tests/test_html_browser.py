"""The HTML report in a real browser: it renders, it reads at phone width, and hostile
posting text stays text.

Uses Debian's chromium in headless mode (installed by .ci/run). Screenshots go to
tmp_path, or to docs/screenshots when ROLECLI_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

from rolecli.render.explain_view import display_text

# Drives a headless Chromium: the full run's.
pytestmark = pytest.mark.slow

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.txt"))
SCREENSHOTS = ROOT / "docs" / "screenshots"
DESKTOP = (1280, 2400)
PHONE = (390, 2400)
PHONE_EXAMPLE = "ranking-scientist-engineer.txt"
HEADINGS = {"engineer": "ML engineer", "scientist": "ML scientist", "mixed": "Mixed role",
            None: "Off-topic"}
# Every element the report itself uses; anything else in the DOM came from the posting.
REPORT_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "footer", "section",
    "div", "p", "h1", "h2", "h3", "h4", "ul", "ol", "li", "span", "b", "sup", "mark",
    "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "code",
}
PWNED = "pwned"
PAYLOADS = [
    f'<script>window.__pwned=1; document.title="{PWNED}"</script>',
    f"<img src=x onerror=\"window.__pwned=1; document.title='{PWNED}'\">",
    f"\"><svg onload=\"document.title='{PWNED}'\"></svg>",
    f"</title><script>document.title='{PWNED}'</script>",
    f"</div></main><iframe src=\"javascript:parent.document.title='{PWNED}'\"></iframe>",
    f"<a href=\"javascript:document.title='{PWNED}'\">click</a>",
    "<style>body { display: none }</style>",
    "<meta http-equiv=\"refresh\" content=\"0; url=https://example.invalid/\">",
]
HOSTILE = (
    "Machine Learning Engineer\n\n"
    + "".join(f"- Deploy models to production and run experiments {p}\n" for p in PAYLOADS)
    + "- Build training pipelines on Kubernetes & publish research\n"
)


@pytest.fixture(scope="session")
def chromium() -> str:
    found = "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium, or run .ci/run)")
    return found


def browse(chromium: str, page: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Headless chromium on a local page, with a fresh profile and no network chatter."""
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
                *args, page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )


def dump_dom(chromium: str, page: Path) -> str:
    # The virtual time budget lets any timer or event handler run before the DOM is read.
    result = browse(chromium, page, "--dump-dom", "--virtual-time-budget=2000")
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result.stdout.decode("utf-8")


def screenshot(chromium: str, page: Path, target: Path, size: tuple[int, int]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    result = browse(chromium, page, f"--screenshot={target}", f"--window-size={size[0]},{size[1]}")
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == size
    assert len(data) > 50_000, "a near-empty screenshot: the page did not render"


def screenshot_path(tmp_path: Path, name: str) -> Path:
    if os.environ.get("ROLECLI_UPDATE_SCREENSHOTS") == "1":
        return SCREENSHOTS / name
    return tmp_path / name


def report(rolecli, posting: Path, page: Path) -> dict:
    result = rolecli("explain", posting, "--format", "json", "--html", page)
    assert result.returncode in (0, 3), result.stderr
    return json.loads(result.stdout)


def elements(dom: str) -> list[str]:
    return re.findall(r"<[a-zA-Z][^>]*>", dom)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_report_renders(chromium, rolecli, tmp_path, path):
    page = tmp_path / f"{path.stem}.html"
    explanation = report(rolecli, path, page)
    dom = dump_dom(chromium, page)

    assert f"<h1>{HEADINGS[explanation['label']]}</h1>" in dom
    assert f"{explanation['probabilities']['scientist']:.3f}" in dom
    table = re.search(r'<table class="lines">.*?<tbody>(.*?)</tbody>', dom, re.S)
    assert table is not None
    # A long posting lists the lines that decided it; the whole text is in the shaded posting.
    decisive = [s for s in explanation["sentences"] if s["decisive"]]
    listed = explanation["sentences"] if len(explanation["sentences"]) <= 20 else decisive
    assert table.group(1).count("<tr") == len(listed)
    for reason in explanation["reasons"]:
        assert html.escape(reason, quote=False) in dom
    posting = re.search(r'<div class="posting">(.*?)</div>', dom, re.S)
    assert posting is not None
    # The highlighted posting, as the browser parsed it, is exactly the text: nothing lost,
    # nothing turned into markup.
    shown = html.unescape(re.sub(r"<[^>]+>", "", posting.group(1)))
    assert shown == display_text(path.read_text(encoding="utf-8"))
    assert posting.group(1).count("<mark") > 0
    for bullet in explanation["closest_article"]:
        assert html.escape(bullet["text"], quote=False) in dom

    screenshot(chromium, page, screenshot_path(tmp_path, f"{path.stem}.png"), DESKTOP)


def test_phone_width_screenshot(chromium, rolecli, tmp_path):
    path = EXAMPLES / PHONE_EXAMPLE
    page = tmp_path / "phone.html"
    report(rolecli, path, page)
    screenshot(chromium, page, screenshot_path(tmp_path, f"{path.stem}-phone.png"), PHONE)


def test_hostile_posting_executes_nothing(chromium, rolecli, tmp_path):
    # The file name reaches the page too (title and header), so it is hostile as well.
    posting = tmp_path / "x\"><img src=x onerror=document.title='pwned'>.txt"
    posting.write_text(HOSTILE, encoding="utf-8")
    page = tmp_path / "hostile.html"
    explanation = report(rolecli, posting, page)
    dom = dump_dom(chromium, page)

    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None
    assert title.group(1) == html.escape(
        f"{HEADINGS[explanation['label']]}: {posting.name} (rolecli)", quote=False
    )
    tags = elements(dom)
    assert {re.match(r"<([a-zA-Z0-9]+)", t).group(1).lower() for t in tags} <= REPORT_TAGS
    assert not [t for t in tags if re.search(r"\s(on\w+|src|href)\s*=", t, re.I)]
    metas = [t for t in tags if t.startswith("<meta")]
    assert len(metas) == 5 and not any("refresh" in m for m in metas)
    for payload in PAYLOADS:
        assert html.escape(payload, quote=False) in dom, payload
    assert "<h1>" in dom and '<table class="lines">' in dom

    screenshot(chromium, page, tmp_path / "hostile.png", DESKTOP)


# -- rolecli evaluate --html --------------------------------------------------------------

EVALUATION_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "div",
    "section", "figure", "figcaption", "svg", "line", "text", "rect", "circle", "polyline",
    "tspan", "table", "thead", "tbody", "tr", "th", "td", "span", "ol", "li", "footer", "b",
    "br",
}
LAYOUT_SCRIPT = """
return {
  title: document.title,
  pageWidth: document.documentElement.scrollWidth,
  figures: [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    return [svg.getAttribute('aria-label'), Math.round(box.width), Math.round(box.height),
            svg.querySelectorAll('rect, polyline, circle').length];
  }),
};
"""


def _layout(chromium: str, page: Path, width: int) -> dict:
    """The page's width and each figure's rendered size, read by WebDriver in Chromium."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    driver_path = "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").is_file() else \
        shutil.which("chromedriver")
    if driver_path is None:
        pytest.skip("chromedriver is not installed (apt-get install chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    with tempfile.TemporaryDirectory() as profile:
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     f"--window-size={width},1200", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        try:
            # A window is at least 500 px wide: a phone's viewport is emulated instead.
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": 1200, "deviceScaleFactor": 1, "mobile": width < 500})
            driver.get(page.as_uri())
            return driver.execute_script(LAYOUT_SCRIPT)
        finally:
            driver.quit()


def test_evaluation_report_renders_its_figures(chromium, rolecli, tmp_path):
    from test_evaluate_html import HOSTILE_ID, HOSTILE_SOURCE, labelled_table

    data = labelled_table(tmp_path / "labelled.csv")
    page = tmp_path / "evaluation.html"
    result = rolecli("evaluate", data, "--html", page)
    assert result.returncode == 0, result.stderr
    dom = dump_dom(chromium, page)
    tags = elements(dom)
    assert {re.match(r"<([a-zA-Z0-9]+)", t).group(1).lower() for t in tags} <= EVALUATION_TAGS
    assert not [t for t in tags if re.search(r"\s(on\w+|src|href)\s*=", t, re.I)]
    assert "<title>How the model does on labelled.csv (rolecli evaluate)</title>" in dom
    for payload in (HOSTILE_ID, HOSTILE_SOURCE):
        assert html.escape(payload, quote=False) in dom

    for width in (1280, 390):
        layout = _layout(chromium, page, width)
        assert layout["title"] == "How the model does on labelled.csv (rolecli evaluate)"
        assert layout["pageWidth"] <= width, layout  # no sideways scrolling, even on a phone
        names = [name for name, *_ in layout["figures"]]
        assert names[:3] == ["Reliability diagram of P(scientist)",
                             names[1], "Confusion matrix: true label by verdict"], names
        assert names[1].startswith("ROC curve of P(scientist), AUC ")
        for name, figure_width, height, marks in layout["figures"]:
            assert figure_width >= min(280, width - 80) and height >= 60, (name, width)
            assert marks > 0, name

    # The screenshots for the docs: the same table with plain names.
    plain = tmp_path / "plain.html"
    assert rolecli("evaluate", labelled_table(tmp_path / "labelled.csv", hostile=False),
                   "--html", plain).returncode == 0
    screenshot(chromium, plain, screenshot_path(tmp_path, "evaluate-report.png"), DESKTOP)
    screenshot(chromium, plain, screenshot_path(tmp_path, "evaluate-report-phone.png"), PHONE)
