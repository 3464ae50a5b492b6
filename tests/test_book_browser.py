"""The built book in a real browser: headless Chromium, driven by Selenium.

Run after ``make book``; skipped when ``_build/html`` or Chromium is missing. The
browser reaches nothing but the local server, as for a reader offline. Every page must
render, load all of its images, typeset all of its math (with the book's own MathJax),
and (for chapters) link to its notebook in Colab; figures must stay on white in dark
mode; search must find "ticket".
Screenshots of one chapter in light and dark mode are left in ``_build/browser-test/``.
"""

from __future__ import annotations

import functools
import http.server
import io
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML (installed with the book extra) reads _toc.yml")

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "browser-test"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
REPO = "https://github.com/strong-lottery-tickets/slt"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # offline: only the local server answers
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (HTML / "index.html").exists(), reason="no built book in _build/html: run `make book` first"
    ),
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="headless Chromium is missing: apt-get install chromium chromium-driver",
    ),
]


def toc_pages() -> list[str]:
    """The pages of _toc.yml, as paths without suffix (book/intro, notebooks/intro-first-ticket, ...)."""

    def walk(entry: dict | list) -> list[str]:
        if isinstance(entry, list):
            return [f for item in entry for f in walk(item)]
        files = [entry["file"]] if "file" in entry else []
        files += [entry["root"]] if "root" in entry else []
        return files + walk(entry.get("parts", [])) + walk(entry.get("chapters", [])) + walk(entry.get("sections", []))

    return walk(yaml.safe_load((ROOT / "_toc.yml").read_text()))


PAGES = toc_pages()
CHAPTERS = [p for p in PAGES if p.startswith("notebooks/")]


@pytest.fixture(scope="module")
def site():
    """The built book served on a free local port."""
    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="slt-chromium-")
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_until(driver, script: str, timeout: float = 20.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: d.execute_script(script))


def open_page(driver, url: str, theme: str = "light") -> None:
    """Load a page in the given colour theme (the theme reads it from localStorage, as after a user's click)."""
    driver.get(url)
    driver.execute_script(
        "localStorage.setItem('theme', arguments[0]); localStorage.setItem('mode', arguments[0]);", theme
    )
    driver.get_log("browser")  # drop the first load's messages: it only served to reach the site's localStorage
    driver.get(url)
    wait_until(driver, "return document.readyState === 'complete'")
    wait_until(driver, "return Array.from(document.images).every(img => img.complete)")
    assert driver.execute_script("return document.documentElement.dataset.theme") == theme


def open_built(driver, site: str, page: str, theme: str = "light") -> None:
    """Open a page of the toc in the given theme; skip when it was not built (another test fails for that)."""
    if not (HTML / f"{page}.html").exists():
        pytest.skip(f"{page} was not built (test_every_toc_page_was_built fails)")
    open_page(driver, f"{site}/{page}.html", theme=theme)


# sphinx-thebe 0.3.1 under Sphinx 7.4 writes its configuration script twice on every page; the
# second copy fails harmlessly (its constants are already set). Thebe is not used by this book.
KNOWN_UPSTREAM_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)


def console_errors(driver) -> list[str]:
    """The page's console errors (a file the book would fetch from the network fails offline and shows here)."""
    return [
        e["message"]
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE"
        and "/favicon.ico" not in e["message"]  # asked for by the browser itself; the book has no icon
        and not any(known in e["message"] for known in KNOWN_UPSTREAM_ERRORS)
    ]


# What MathJax leaves in the text of a formula it did not typeset: Sphinx writes inline math as
# \(...\) and display math as \[...\]; $$ is what a display formula MyST did not parse shows.
RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$$")

AWAIT_TYPESETTING = """
const done = arguments[arguments.length - 1];
window.MathJax.startup.promise.then(() => done('typeset'), err => done('MathJax failed: ' + err));
"""


def typeset_math(driver, timeout: float = 30.0) -> str:
    """Wait for MathJax's first typesetting of the page: 'typeset', 'no math' (Sphinx loads no MathJax) or why not."""
    from selenium.common.exceptions import TimeoutException

    # Sphinx writes the configuration (window.MathJax = {...}) and a deferred <script> only on pages with
    # math; the loaded MathJax replaces that object with its own, whose startup.promise settles after typesetting.
    if not driver.execute_script("return 'MathJax' in window"):
        return "no math"
    try:
        wait_until(driver, "return !!(window.MathJax.startup && window.MathJax.startup.promise)", timeout)
    except TimeoutException:
        return f"MathJax did not load within {timeout:.0f} s"
    driver.set_script_timeout(timeout)
    return driver.execute_async_script(AWAIT_TYPESETTING)


def figure_images(driver) -> list:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "div.cell_output img")


def border_brightness(png: bytes, inset: int = 2, width: int = 3) -> float:
    """The darkest mean channel value over strips just inside the four edges of a screenshot (255 = white).

    The strips start ``inset`` pixels in, past rows that subpixel positioning may blend with the page.
    """
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = image.size
    a, b = inset, inset + width
    strips = [(a, a, w - a, b), (a, h - b, w - a, h - a), (a, a, b, h - a), (w - b, a, w - a, h - a)]
    return min(min(ImageStat.Stat(image.crop(box)).mean) for box in strips)


def test_every_toc_page_was_built():
    missing = [p for p in PAGES if not (HTML / f"{p}.html").exists()]
    assert not missing, f"pages of _toc.yml missing from _build/html: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_its_images(site, browser, page):
    from selenium.webdriver.common.by import By

    open_built(browser, site, page)
    article = browser.find_element(By.CSS_SELECTOR, "main article, main")
    assert article.text.strip(), f"{page}: empty page"
    problems = browser.find_elements(By.CSS_SELECTOR, ".system-message, .problematic, div.output.error, div.traceback")
    assert not problems, f"{page}: Sphinx or cell errors on the page: {[p.text[:200] for p in problems]}"
    broken = browser.execute_script(
        "return Array.from(document.images).filter(img => !(img.naturalWidth > 0)).map(img => img.src)"
    )
    assert not broken, f"{page}: images that did not load: {broken}"
    errors = console_errors(browser)
    assert not errors, f"{page}: console errors: {errors}"


@pytest.mark.parametrize("page", PAGES)
def test_math_is_typeset(site, browser, page):
    open_built(browser, site, page)
    state = typeset_math(browser)
    text = browser.execute_script("return document.body.innerText")
    raw = [text[max(i - 40, 0) : i + 40] for i in (text.find(d) for d in RAW_TEX) if i >= 0]
    assert not raw, f"{page}: raw TeX on the page ({state}): {raw}"
    assert state in ("typeset", "no math"), f"{page}: {state}"
    untypeset = browser.execute_script(
        "return Array.from(document.querySelectorAll('span.math, div.math'))"
        ".filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 80))"
    )
    assert not untypeset, f"{page}: formulas without MathJax output: {untypeset}"
    errors = browser.execute_script(
        "return Array.from(document.querySelectorAll('mjx-merror')).map(e => e.getAttribute('data-mjx-error'))"
    )
    assert not errors, f"{page}: TeX errors in formulas: {errors}"


def test_math_renders_with_the_books_own_mathjax(site, browser):
    """A chapter with math loads MathJax from the book's _static (not a CDN) and shows MathJax's output."""
    page = "notebooks/frozen-freezing-ratio"  # its overview counts the tickets as \binom{N}{(1-k)N}
    open_built(browser, site, page)
    assert typeset_math(browser) == "typeset"
    sources = browser.execute_script(
        "return Array.from(document.scripts).map(s => s.src).filter(src => /mathjax/i.test(src))"
    )
    assert sources, f"{page}: no MathJax script"
    assert all(src.startswith(f"{site}/_static/mathjax/") for src in sources), f"{page}: MathJax from {sources}"
    rendered = browser.execute_script(
        "return Array.from(document.querySelectorAll('mjx-container')).filter(c => c.getBoundingClientRect().width > 0)"
        ".length"
    )
    assert rendered > 0, f"{page}: no formula rendered by MathJax (no visible mjx-container)"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_opens_its_notebook_in_colab(site, browser, chapter):
    from selenium.webdriver.common.by import By

    open_built(browser, site, chapter)
    links = [
        a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href*='colab.research.google.com']")
    ]
    expected = (
        f"https://colab.research.google.com/github/{REPO.removeprefix('https://github.com/')}/blob/main/{chapter}.ipynb"
    )
    assert expected in links, f"{chapter}: no Colab link to {expected} (found {links})"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_figures_stay_on_white_in_dark_mode(site, browser, chapter):
    open_built(browser, site, chapter, theme="dark")
    body = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    images = figure_images(browser)
    if not images:
        pytest.skip(f"{chapter} has no figures")
    for i, img in enumerate(images):
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", img)
        brightness = border_brightness(img.screenshot_as_png)
        assert brightness > 240, (
            f"{chapter}: figure {i + 1} is not on white in dark mode "
            f"(edge brightness {brightness:.0f}/255 on a page of {body})"
        )


def test_screenshots_light_and_dark(site, browser):
    """Leave screenshots of the first chapter for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = next((c for c in CHAPTERS if (HTML / f"{c}.html").exists()), PAGES[0])
    for theme in ("light", "dark"):
        open_page(browser, f"{site}/{page}.html", theme=theme)
        images = figure_images(browser)
        if images:
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", images[0])
        path = SHOTS / f"{Path(page).name}-{theme}.png"
        assert browser.save_screenshot(str(path)), f"could not save {path}"


def test_search_finds_tickets(site, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/search.html?q=ticket")
    # Sphinx appends results one by one on a timer and writes the summary line only after the last:
    # reading the list before that sees a partial list (CI once saw only the first result).
    finished = "return document.querySelector('#search-results p.search-summary')?.innerText.length > 0"
    wait_until(browser, finished, timeout=60)
    results = browser.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")
    targets = {a.get_attribute("href").split("#")[0].removeprefix(site + "/") for a in results}
    assert any(t.startswith("notebooks/") for t in targets), f"search for 'ticket' found no chapter: {sorted(targets)}"
