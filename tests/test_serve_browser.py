"""The page of `rolecli serve` in a real browser: Debian's chromium, driven by Selenium.

A person pastes a posting and submits it, with JavaScript and without; types, and sees the
verdict change as they write (on a desktop and at phone width) without losing their place;
asks what the verdict would be without a line, by mouse and by keyboard; uploads a CSV and
an .xlsx file and reads the file that comes back. Nothing from the posting runs, the
keyboard reaches every control in order with focus shown, text keeps its contrast in light
and dark mode, axe-core finds no serious or critical violation, and at phone width nothing
scrolls sideways and the line table reads as a list (in the page and in the HTML report).
Screenshots go to tmp_path, or to docs/screenshots when ROLECLI_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import struct
import tempfile
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT
from serving import HOSTILE, running_server

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

# Drives a headless Chromium against a live server: the full run's.
pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "docs" / "screenshots"
SCREENSHOT_POSTING = EXAMPLES / "ranking-scientist-engineer.txt"
DESKTOP = (1280, 2000)
PHONE = (390, 2000)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
HEADINGS = {"engineer": "ML engineer", "scientist": "ML scientist", "mixed": "Mixed role",
            None: "Off-topic"}
# WCAG AA: 4.5 for body text. Computed in the page, from the colours the browser resolved.
CONTRAST_SCRIPT = """
const parse = (c) => c.match(/[\\d.]+/g).map(Number);
// The colour behind an element: its and its ancestors' backgrounds, blended down to the canvas.
const background = (el) => {
  const layers = [];
  for (; el; el = el.parentElement) {
    const c = parse(getComputedStyle(el).backgroundColor);
    if (c.length < 4) { layers.push(c); break; }
    if (c[3] > 0) layers.push(c);
  }
  let base = [255, 255, 255];
  if (!layers.length || layers[layers.length - 1].length === 4) {
    base = parse(getComputedStyle(document.documentElement).backgroundColor).slice(0, 3);
  }
  for (const c of layers.reverse()) {
    const a = c.length < 4 ? 1 : c[3];
    base = base.map((v, i) => c[i] * a + v * (1 - a));
  }
  return base;
};
const lum = (c) => {
  const [r, g, b] = c.slice(0, 3).map((v) => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
return arguments[0].map((selector) => {
  const el = document.querySelector(selector);
  if (!el) return [selector, null];
  const [a, b] = [lum(parse(getComputedStyle(el).color)), lum(background(el))];
  return [selector, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
});
"""
TEXT_ELEMENTS = ["label[for=text]", ".hint", ".opt", "textarea", "button", ".intro p",
                 "#result h1", "#result .eyebrow", "#result .note", "#result td.text",
                 "#result footer", ".live-status", "#result .said", "#result .why",
                 "#result .tag", "#result button.without", ".sheet > p", "label[for=sheet-file]"]


def _binary(name: str, debian: str) -> str:
    found = debian if Path(debian).is_file() else shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI (.ci/run installs chromium and chromium-driver)")
        pytest.skip(f"{name} is not installed (apt-get install chromium chromium-driver)")
    return found


def _driver(javascript: bool = True):
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "/usr/bin/chromium")
    profile = tempfile.mkdtemp(prefix="rolecli-chromium-")
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    service = Service(executable_path=_binary("chromedriver", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    return driver, profile


@pytest.fixture(scope="module")
def server():
    with running_server() as running:
        yield running


def _browser(javascript: bool):
    driver, profile = _driver(javascript=javascript)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    yield from _browser(javascript=True)


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"], scope="module")
def either_browser(request):
    """The page must work the same with and without its script."""
    for driver in _browser(javascript=request.param):
        driver.javascript = request.param
        yield driver


def viewport(driver, size: tuple[int, int], dark: bool = False) -> None:
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600,
    })
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}],
    })


def paste(driver, server, text: str) -> None:
    """A fresh page with `text` pasted into the posting field, as a paste lands."""
    driver.get(server.url + "/")
    area = driver.find_element(By.ID, "text")
    area.click()
    driver.execute_cdp_cmd("Input.insertText", {"text": text})
    assert area.get_property("value") == text


def heading(driver) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, "#result h1")
    return found[0].text if found else ""


def wait_for_heading(driver, wanted: str, seconds: float = 30) -> None:
    WebDriverWait(driver, seconds).until(lambda d: heading(d) == wanted)


def paste_and_submit(driver, server, text: str, title: str = "") -> None:
    driver.get(server.url + "/")
    area = driver.find_element(By.ID, "text")
    area.click()
    # What a paste does: the whole text lands in the field at once.
    driver.execute_cdp_cmd("Input.insertText", {"text": text})
    assert area.get_property("value") == text
    if title:
        driver.find_element(By.ID, "title").send_keys(title)
    driver.execute_script("window.__before_submit = true")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#result h1, #result [role=alert]")
    )
    # With its script the page swaps the result in; without, the form posts and a new page
    # loads: either way the same result.
    reloaded = driver.execute_script("return window.__before_submit") is None
    assert reloaded != getattr(driver, "javascript", True)


def expected_label(server, text: str) -> str | None:
    status, _, data = server.post_json("/v1/classify", {"text": text})
    assert status == 200
    return data["label"]


def nothing_ran(driver) -> None:
    assert driver.execute_script("return window.__pwned") is None
    assert "pwned" not in driver.title
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.accept()  # a script from the posting opened an alert


def test_pasted_posting_shows_its_verdict(either_browser, server):
    browser = either_browser
    text = (EXAMPLES / "data-scientist.txt").read_text(encoding="utf-8")
    viewport(browser, DESKTOP)
    paste_and_submit(browser, server, text, title="Data Scientist")
    heading = browser.find_element(By.CSS_SELECTOR, "#result h1").text
    assert heading == HEADINGS[expected_label(server, text)]
    # A long posting is in a closed <details> (its decisive lines come first): read it all.
    shown = browser.find_element(By.CSS_SELECTOR, "#result .posting").get_attribute("textContent")
    assert shown.split() == text.split()
    assert browser.find_elements(By.CSS_SELECTOR, "#result .posting mark")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result .article li")) == 3
    # The form keeps what was sent, whether the page reloaded or not.
    assert browser.find_element(By.ID, "text").get_property("value") == text
    assert browser.find_element(By.ID, "title").get_property("value") == "Data Scientist"


def test_hostile_posting_runs_nothing(either_browser, server):
    browser = either_browser
    viewport(browser, DESKTOP)
    paste_and_submit(browser, server, HOSTILE, title="<img src=x onerror=window.__pwned=1>")
    nothing_ran(browser)
    assert browser.find_element(By.CSS_SELECTOR, "#result h1").text == HEADINGS[
        expected_label(server, HOSTILE)]
    result = browser.find_element(By.ID, "result")
    for tag in ("script", "img", "svg", "iframe", "a", "style", "meta", "textarea"):
        assert not result.find_elements(By.TAG_NAME, tag), tag
    assert "<script>window.__pwned=1" in result.find_element(By.CLASS_NAME, "posting").text
    assert browser.find_element(By.ID, "text").get_property("value") == HOSTILE
    nothing_ran(browser)


def test_keyboard_reaches_every_control_in_order(browser, server):
    viewport(browser, DESKTOP)
    browser.get(server.url + "/")
    order = []
    for _ in range(5):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        active = browser.switch_to.active_element
        order.append(active.get_attribute("id") or active.get_attribute("class") or active.tag_name)
    assert order == ["skip", "title", "text", "file", "button"]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_text_keeps_its_contrast(browser, server, dark):
    viewport(browser, DESKTOP, dark=dark)
    paste_and_submit(browser, server, SCREENSHOT_POSTING.read_text(encoding="utf-8"))
    ratios = dict(browser.execute_script(CONTRAST_SCRIPT, TEXT_ELEMENTS))
    assert None not in ratios.values(), ratios
    low = {selector: round(ratio, 2) for selector, ratio in ratios.items() if ratio < 4.5}
    assert not low, low


def _save(driver, tmp_path: Path, name: str, size: tuple[int, int], top: bool = True) -> None:
    # The page from its top, and the pasted posting from its first line.
    driver.execute_script("document.getElementById('text').scrollTop = 0")
    if top:
        driver.execute_script("window.scrollTo(0, 0)")
    target = SCREENSHOTS / name if os.environ.get("ROLECLI_UPDATE_SCREENSHOTS") == "1" else (
        tmp_path / name)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = driver.get_screenshot_as_png()
    assert struct.unpack(">II", data[16:24]) == size
    assert len(data) > 50_000, "a near-empty screenshot: the page did not render"
    target.write_bytes(data)


def open_folds(driver) -> None:
    driver.execute_script("document.querySelectorAll('#result details')"
                          ".forEach((d) => { d.open = true; })")


def test_screenshots_desktop_and_phone(browser, server, tmp_path):
    text = SCREENSHOT_POSTING.read_text(encoding="utf-8")
    for name, size, dark, folds in (
        ("serve-desktop.png", DESKTOP, False, False),
        ("serve-phone.png", PHONE, False, False),
        ("serve-phone-dark.png", PHONE, True, False),
        ("serve-phone-how.png", PHONE, False, True),
    ):
        viewport(browser, size, dark=dark)
        paste_and_submit(browser, server, text, title="Research Engineer")
        if folds:  # "How the score is computed", open: the line table as a list
            open_folds(browser)
            table = browser.find_element(By.CSS_SELECTOR, "#result table.lines")
            browser.execute_script("arguments[0].closest('section').scrollIntoView()", table)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= size[0], f"{name}: the page scrolls sideways ({width} px)"
        _save(browser, tmp_path, name, size, top=not folds)


# -- live scoring ------------------------------------------------------------------------------

# Typed one key at a time after an engineering paragraph: the verdict turns once the last
# line is in (measured with `rolecli classify` on each prefix).
TYPED_START = (
    "About the role\nYou will deploy machine learning models to production, build training "
    "and inference pipelines on Kubernetes, and monitor serving latency and reliability.\n"
)
TYPED_LINES = [
    "Design and run experiments to test new modelling ideas.\n",
    "Develop novel statistical methods for causal inference.\n",
    "Publish research papers at NeurIPS, ICML and ICLR.\n",
    "Analyze results and write research reports for the science team.\n",
    "Read the literature and propose new research directions.\n",
    "A PhD in statistics, mathematics or computer science.\n",
]


def live_requests(server) -> int:
    return server.log().count("POST /live ")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_typing_changes_the_verdict_in_place(browser, server, size):
    viewport(browser, size)
    paste(browser, server, TYPED_START)
    before = expected_label(server, TYPED_START)
    wait_for_heading(browser, HEADINGS[before])
    status = browser.find_element(By.ID, "live-status").text
    assert re.fullmatch(rf"As you write: {HEADINGS[before]} \(scored in \d+\.\d ms on the "
                        r"server, \d+ ms in all\)\.", status), status
    area = browser.find_element(By.ID, "text")
    # The page scrolled, and the caret where the typing goes: both must stay put.
    browser.execute_script("window.scrollTo(0, 120)")
    scrolled = browser.execute_script("return window.scrollY")
    requests = live_requests(server)
    browser.execute_script("arguments[0].setSelectionRange(arguments[1], arguments[1])",
                           area, len(TYPED_START))
    typed = "".join(TYPED_LINES)
    for line in TYPED_LINES:
        area.send_keys(line)
    final = TYPED_START + typed
    after = expected_label(server, final)
    assert after != before
    wait_for_heading(browser, HEADINGS[after])
    assert area.get_property("value") == final
    assert browser.execute_script("return arguments[0].selectionStart", area) == len(final)
    assert browser.execute_script("return document.activeElement.id") == "text"
    assert browser.execute_script("return window.scrollY") == scrolled
    # Debounced: far fewer updates than keys pressed, and the last one is the text typed.
    time.sleep(1.5)
    sent = live_requests(server) - requests
    assert 1 <= sent < len(typed) / 4, sent
    assert heading(browser) == HEADINGS[after]
    assert browser.find_element(By.ID, "announce").get_attribute("textContent") == (
        f"Verdict: {HEADINGS[after]}")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= size[0]


def test_stale_updates_are_cancelled(browser, server):
    viewport(browser, DESKTOP)
    paste(browser, server, TYPED_START)
    wait_for_heading(browser, HEADINGS[expected_label(server, TYPED_START)])
    # Every update cancels the one before it: count the answers the page actually used.
    browser.execute_script("""
        window.__aborted = 0;
        const original = window.fetch;
        window.fetch = (url, options) => {
          if (options && options.signal) {
            options.signal.addEventListener("abort", () => { window.__aborted += 1; });
          }
          return original(url, options);
        };""")
    area = browser.find_element(By.ID, "text")
    # Six updates sent at once (the button skips the pause): each one cancels the last.
    browser.execute_script("""
        for (const line of arguments[1]) {
          arguments[0].value += line;
          arguments[0].dispatchEvent(new Event('input'));
          document.querySelector('form.ask').requestSubmit();
        }""", area, TYPED_LINES)
    final = TYPED_START + "".join(TYPED_LINES)
    wait_for_heading(browser, HEADINGS[expected_label(server, final)])
    assert browser.execute_script("return window.__aborted") == len(TYPED_LINES) - 1
    time.sleep(1)
    assert heading(browser) == HEADINGS[expected_label(server, final)]


def test_text_cleared_brings_back_the_prompt(browser, server):
    viewport(browser, DESKTOP)
    paste(browser, server, TYPED_START)
    wait_for_heading(browser, HEADINGS[expected_label(server, TYPED_START)])
    area = browser.find_element(By.ID, "text")
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys(Keys.DELETE)
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#result .waiting"))
    assert not browser.find_elements(By.CSS_SELECTOR, "#result h1")


def test_a_long_text_is_checked_by_the_button(browser, server):
    viewport(browser, DESKTOP)
    text = SCREENSHOT_POSTING.read_text(encoding="utf-8")
    long = (text + "\n") * (100_000 // len(text) + 1)
    paste(browser, server, long)
    requests = live_requests(server)
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.ID, "live-status").text.startswith("A long text (over 100,000"))
    assert not browser.find_elements(By.CSS_SELECTOR, "#result h1")
    browser.find_element(By.CSS_SELECTOR, "form.ask button[type=submit]").click()
    wait_for_heading(browser, HEADINGS[expected_label(server, long)], seconds=60)
    assert live_requests(server) == requests  # the form's post, not /live
    assert not [b for b in browser.find_elements(By.CSS_SELECTOR, "#result button.without")
                if b.is_displayed()]  # its offsets are the server's, not the page's


# -- what if this line were gone? --------------------------------------------------------------


def cut(text: str, start: int, end: int) -> str:
    return text[:start] + text[end + (text[end:end + 1] == "\n"):]


def test_what_if_a_line_were_gone_by_keyboard_and_by_mouse(browser, server):
    viewport(browser, DESKTOP)
    text = SCREENSHOT_POSTING.read_text(encoding="utf-8")
    paste(browser, server, text)
    label = expected_label(server, text)
    wait_for_heading(browser, HEADINGS[label])
    buttons = browser.find_elements(By.CSS_SELECTOR, "#result button.without")
    assert len(buttons) >= 2 and all(b.is_displayed() for b in buttons)
    # Keyboard: Tab from the file input reaches the first line's button; Enter asks.
    browser.execute_script("arguments[0].focus()", browser.find_element(
        By.CSS_SELECTOR, "form.ask button[type=submit]"))
    for _ in range(30):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.switch_to.active_element == buttons[0]:
            break
    assert browser.switch_to.active_element == buttons[0]
    outline = browser.execute_script(
        "return getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    for index, via in ((0, "keyboard"), (1, "mouse")):
        button = buttons[index]
        if via == "mouse":  # a click on the line's text asks too
            button.find_element(By.XPATH, "..").find_element(By.CLASS_NAME, "said").click()
        start, end = int(button.get_attribute("data-start")), int(button.get_attribute("data-end"))
        without = expected_label(server, cut(text, start, end))
        said = f"still reads as {HEADINGS[without]}" if without == label else (
            f"reads as {HEADINGS[without]} instead")
        out = button.find_element(By.XPATH, "following-sibling::p[@class='without-result']")
        WebDriverWait(browser, 20).until(lambda d, out=out: "Without this line" in out.text)
        assert out.text.startswith(f"Without this line it {said} ("), (via, out.text)


def test_line_buttons_stay_hidden_without_javascript(either_browser, server):
    viewport(either_browser, DESKTOP)
    paste_and_submit(either_browser, server, SCREENSHOT_POSTING.read_text(encoding="utf-8"))
    shown = [b.is_displayed() for b in either_browser.find_elements(
        By.CSS_SELECTOR, "#result button.without")]
    assert shown and all(shown) == either_browser.javascript and any(shown) == all(shown)


# -- accessibility: axe-core in the page -------------------------------------------------------


def axe_violations(driver) -> list[dict]:
    """axe-core's violations of WCAG 2.x A and AA (and its best practices) in the page as it
    is now, at impact serious or critical."""
    from selenium_axe_python import Axe

    Axe(driver).inject()
    results = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]})
          .then(done, (e) => done({error: String(e)}));
    """)
    assert "error" not in results, results
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"] if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("size, dark", [(DESKTOP, False), (PHONE, False), (DESKTOP, True),
                                        (PHONE, True)],
                         ids=["desktop", "phone", "desktop-dark", "phone-dark"])
def test_axe_finds_no_serious_violation(browser, server, size, dark):
    viewport(browser, size, dark=dark)
    browser.get(server.url + "/")
    assert axe_violations(browser) == []  # the empty page
    paste(browser, server, SCREENSHOT_POSTING.read_text(encoding="utf-8"))
    wait_for_heading(browser, HEADINGS[expected_label(
        server, SCREENSHOT_POSTING.read_text(encoding="utf-8"))])
    button = browser.find_element(By.CSS_SELECTOR, "#result button.without")
    button.click()
    WebDriverWait(browser, 20).until(lambda d: "Without this line" in d.find_element(
        By.CSS_SELECTOR, "#result .without-result").text)
    open_folds(browser)
    assert axe_violations(browser) == []  # the result, every fold open
    browser.find_element(By.CSS_SELECTOR, ".sheet button[type=submit]").click()  # no file
    assert axe_violations(browser) == []  # the spreadsheet form's error


def test_html_report_reads_at_phone_width(browser, rolecli, tmp_path):
    page = tmp_path / "report.html"
    result = rolecli("explain", SCREENSHOT_POSTING, "--html", page, "--all-lines")
    assert result.returncode == 0, result.stderr
    viewport(browser, PHONE)
    browser.get(page.as_uri())
    assert axe_violations(browser) == []
    open_folds(browser)
    assert axe_violations(browser) == []
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0]
    _line_table_is_a_list(browser, "table.lines")


def _line_table_is_a_list(driver, table: str) -> None:
    # One word per line was the bug: each line's text now has the card's whole width.
    widths = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' td.text')]"
        ".map((td) => td.getBoundingClientRect().width)", table)
    card = driver.execute_script(
        "return document.querySelector(arguments[0]).getBoundingClientRect().width", table)
    assert widths and min(widths) >= card - 16, (min(widths), card)
    assert card >= 300


def test_the_page_line_table_reads_at_phone_width(browser, server):
    viewport(browser, PHONE)
    paste_and_submit(browser, server, SCREENSHOT_POSTING.read_text(encoding="utf-8"))
    open_folds(browser)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
    _line_table_is_a_list(browser, "#result table.lines")


# -- spreadsheets in and out --------------------------------------------------------------------


def spreadsheet(kind: str, path: Path) -> list[dict[str, str]]:
    rows = [{"id": p.stem, "title": "", "text": p.read_text(encoding="utf-8")}
            for p in sorted(EXAMPLES.glob("*.txt"))]
    rows.append({"id": "formula", "title": "=1+1", "text": "@SUM(A1)"})
    if kind == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ["id", "title", "text"])
            writer.writeheader()
            writer.writerows(rows)
    else:
        import openpyxl

        book = openpyxl.Workbook()
        book.active.append(["id", "title", "text"])
        for row in rows:
            book.active.append([row["id"], row["title"] or None, row["text"]])
        for cell in book.active["B"] + book.active["C"]:
            cell.data_type = "s"
        book.save(path)
    return rows


def read_back(path: Path) -> list[dict[str, object]]:
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"),
                                               newline="")))
    import openpyxl

    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def api_labels(server, rows) -> dict[str, str]:
    body = "\n".join(json.dumps(row) for row in rows)
    status, _, answer = server.request("POST", "/v1/batch", body,
                                       {"Content-Type": "application/x-ndjson"})
    assert status == 200
    return {r["id"]: r["label"] or "off-topic" for r in map(json.loads, answer.splitlines())}


@pytest.mark.parametrize("kind, out", [("csv", "csv"), ("xlsx", "xlsx"), ("csv", "xlsx")])
def test_spreadsheet_in_spreadsheet_out(either_browser, server, tmp_path, kind, out):
    browser = either_browser
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(downloads)})
    viewport(browser, PHONE if kind == "xlsx" else DESKTOP)
    source = tmp_path / f"postings.{kind}"
    rows = spreadsheet(kind, source)
    browser.get(server.url + "/")
    browser.find_element(By.ID, "sheet-file").send_keys(str(source))
    Select(browser.find_element(By.ID, "sheet-format")).select_by_value(out)
    browser.find_element(By.CSS_SELECTOR, ".sheet button[type=submit]").click()
    target = downloads / f"postings-rolecli.{out}"
    WebDriverWait(browser, 60).until(lambda d: target.is_file() and not list(
        downloads.glob("*.crdownload")))
    back = read_back(target)
    assert [str(r["id"]) for r in back] == [r["id"] for r in rows]
    assert {str(r["id"]): r["rolecli_label"] for r in back} == api_labels(server, rows)
    formula = back[-1]
    assert formula["title"] == "'=1+1" and formula["text"] == "'@SUM(A1)"
    if browser.javascript:  # the page stays, and says what came back
        status = browser.find_element(By.ID, "sheet-status").text
        assert status.startswith(f"{len(rows)} rows scored (") and status.endswith(
            f"postings-rolecli.{out} is downloaded. Download postings-rolecli.{out} again")
        if any(r["rolecli_title_grade"] for r in back):  # and each title grade's count
            assert "titles against their body: " in status


def test_spreadsheet_errors_show_on_the_page(either_browser, server, tmp_path):
    browser = either_browser
    viewport(browser, DESKTOP)
    bad = tmp_path / "names.csv"
    bad.write_text("name,city\nAda,London\n", encoding="utf-8")
    browser.get(server.url + "/")
    browser.find_element(By.ID, "sheet-file").send_keys(str(bad))
    browser.find_element(By.CSS_SELECTOR, ".sheet button[type=submit]").click()
    alert = WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".sheet [role=alert] p"))
    assert alert[0].text.startswith("no text column (looked for text, description")
