"""The page of `rolecli serve` in a real browser: Debian's chromium, driven by Selenium.

A person pastes a posting and submits it, with JavaScript and without; the verdict shows,
nothing from the posting runs, the keyboard reaches every control in order, text keeps its
contrast in light and dark mode, and a phone-width page does not scroll sideways.
Screenshots go to tmp_path, or to docs/screenshots when ROLECLI_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
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
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# Drives a headless Chromium against a live server: the full run's.
pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "docs" / "screenshots"
SCREENSHOT_POSTING = EXAMPLES / "mixed-research-engineer.txt"
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
                 "#result footer"]


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


def _save(driver, tmp_path: Path, name: str, size: tuple[int, int]) -> None:
    # The page from its top, and the pasted posting from its first line.
    driver.execute_script("window.scrollTo(0, 0); document.getElementById('text').scrollTop = 0")
    target = SCREENSHOTS / name if os.environ.get("ROLECLI_UPDATE_SCREENSHOTS") == "1" else (
        tmp_path / name)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = driver.get_screenshot_as_png()
    assert struct.unpack(">II", data[16:24]) == size
    assert len(data) > 50_000, "a near-empty screenshot: the page did not render"
    target.write_bytes(data)


def test_screenshots_desktop_and_phone(browser, server, tmp_path):
    text = SCREENSHOT_POSTING.read_text(encoding="utf-8")
    for name, size, dark in (
        ("serve-desktop.png", DESKTOP, False),
        ("serve-phone.png", PHONE, False),
        ("serve-phone-dark.png", PHONE, True),
    ):
        viewport(browser, size, dark=dark)
        paste_and_submit(browser, server, text, title="Research Engineer")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= size[0], f"{name}: the page scrolls sideways ({width} px)"
        _save(browser, tmp_path, name, size)

