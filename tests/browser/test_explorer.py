#!/usr/bin/env python3
"""The backprop explorer page in a real browser (headless Chromium).

    test_explorer.py BACKPROP_TRACE [DOCS_PAGE]

First, when DOCS_PAGE (docs/backprop_explorer.html) is given, checks that it
is what backprop_trace writes now (it is committed for docs/backprop.md).
Then runs `backprop_trace --html` into a temporary directory, opens the page
from disk (file://) in headless Chromium through Selenium, and checks that:
  - stepping forward with the right arrow key shows every op's lines as
    nb_tape_print_values printed them, and the buttons move as they say;
  - every backward step shows the same words and numbers as the program's
    nb_tape_trace_backward printout, and the page's data hold the same
    gradients as the tape (the leaves' gradients the program printed);
  - clicking a tensor draws its heat map;
  - nothing was fetched but the page itself, and the console has no errors.

Needs Debian's chromium, chromium-driver and python3-selenium; without them
it exits 77, which Meson reports as skipped.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
DEBIAN_PYTHON = "/usr/bin/python3"  # where python3-selenium is installed


def skip(why):
    print("SKIP: browser test: %s (Debian: apt-get install chromium chromium-driver "
          "python3-selenium)" % why)
    sys.exit(SKIP)


def import_selenium():
    try:
        import selenium  # noqa: F401
    except ImportError:
        # Another python3 first on PATH (pyenv, a venv) does not see Debian's
        # package: run again with Debian's own.
        if (os.path.exists(DEBIAN_PYTHON) and os.path.realpath(sys.executable)
                != os.path.realpath(DEBIAN_PYTHON) and not os.environ.get("EXPLORER_REEXEC")):
            os.environ["EXPLORER_REEXEC"] = "1"
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
        skip("python3-selenium is not installed")


# ---- what the program printed --------------------------------------------------

def parse_trace(text):
    """The forward blocks, the backward blocks and the leaves' gradients of
    backprop_trace's output, each block a list of lines."""
    lines = text.splitlines()
    start = lines.index(next(l for l in lines if l.startswith("backward: L = ")))
    end = lines.index("gradients of the leaves that require one:")

    def blocks(part):
        out = []
        for line in part:
            if line.startswith("["):
                out.append([line])
            elif out and line.strip():
                out[-1].append(line)
        return out

    forward = blocks(lines[1:start])
    backward = blocks(lines[start + 1:end])
    leaves = {}
    for line in lines[end + 1:]:
        m = re.match(r"    dL/d\((.+)\) = \[(.*)\]$", line)
        if not m:
            break
        leaves[m.group(1)] = [float(v) for v in m.group(2).split(", ")]
    return lines[start], forward, backward, leaves


# ---- the browser -------------------------------------------------------------------

def start_chromium(profile):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        skip("chromium or chromedriver is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1100",
                 "--user-data-dir=" + profile]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


class Checker:
    def __init__(self):
        self.failures = []

    def equal(self, got, expected, what):
        if got != expected:
            self.failures.append("%s:\n  page:    %r\n  program: %r" % (what, got, expected))

    def true(self, ok, what):
        if not ok:
            self.failures.append(what)


def text_of(driver, css):
    """textContent (also of elements a closed <details> hides)."""
    return driver.find_element("css selector", css).get_attribute("textContent")


def press(driver, key):
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(driver).send_keys(key).perform()


def click(driver, element_id):
    driver.find_element("id", element_id).click()


def check_forward(driver, check, forward):
    from selenium.webdriver.common.keys import Keys
    for k, block in enumerate(forward):
        press(driver, Keys.ARROW_RIGHT)
        check.equal(text_of(driver, "#step-body .header"), block[0], "forward %d header" % k)
        rows = driver.find_elements("css selector", "#step-body .trace-line[class*=value-]")
        # each row ends with its "heat map" button's text
        shown = [r.get_attribute("textContent").removesuffix("heat map") for r in rows]
        check.equal(shown, block[1:], "forward %d lines" % k)


def check_backward(driver, check, backward):
    from selenium.webdriver.common.keys import Keys
    for k, block in enumerate(backward):
        press(driver, Keys.ARROW_RIGHT)
        title = text_of(driver, "#step-title")
        check.true(title.startswith("Backward %d of %d: " % (k + 1, len(backward))),
                   "backward step %d: title %r" % (k, title))
        check.equal(text_of(driver, "#step-body pre.trace-text").split("\n"), block,
                    "backward step %d, as nb_tape_trace_backward prints it" % k)
        sends = [e.get_attribute("textContent")
                 for e in driver.find_elements("css selector", "#step-body dd.line-sends")]
        printed = [l.split("sends: ", 1)[1] for l in block if "sends: " in l]
        check.equal(sends, printed, "backward step %d: the gradients sent" % k)


def check_gradients(driver, check, leaves):
    """The page's data hold the gradients the tape held (as printed)."""
    data = driver.execute_script(
        "return JSON.parse(document.getElementById('tape-data').textContent)")
    by_name = {t["name"]: t for t in data["tensors"]}
    for name, printed in leaves.items():
        grad = by_name[name]["grad"]
        check.true(grad is not None and len(grad) == len(printed) and
                   all(abs(g - p) <= 1e-5 * max(1.0, abs(p)) for g, p in zip(grad, printed)),
                   "dL/d(%s): page data %r, program printed %r" % (name, grad, printed))
    shown = [e.get_attribute("textContent").removesuffix("heat map")
             for e in driver.find_elements("css selector", "#step-body .leaf-grad")]
    check.equal(len(shown), len(leaves), "the leaves' gradients listed at the end")


def check_buttons(driver, check, n_positions):
    counter = lambda: text_of(driver, "#counter").split(" ")[0]
    last = str(n_positions - 1)
    check.equal(counter(), last, "the position after stepping through everything")
    click(driver, "prev")
    check.equal(counter(), str(n_positions - 2), "Previous goes back one step")
    click(driver, "next")
    check.equal(counter(), last, "Next goes forward one step")
    click(driver, "first")
    check.equal(counter(), "0", "Start goes to the start")
    click(driver, "last")
    check.equal(counter(), last, "End goes to the end")
    from selenium.webdriver.common.keys import Keys
    press(driver, Keys.ARROW_LEFT)
    check.equal(counter(), str(n_positions - 2), "the left arrow goes back one step")


def check_heatmap(driver, check):
    node = driver.find_element("xpath", "//*[@data-tensor and contains(@aria-label, 'W1 (parameter)')]")
    node.click()
    title = text_of(driver, "#inspector-title")
    check.true(title.startswith("Heat map: W1 [2, 2]"), "heat map title %r" % title)
    cells = driver.find_elements("css selector", "#inspector-body table.heatmap td")
    check.equal(len(cells), 8, "W1's heat maps: 4 values and 4 gradients")


def check_network_and_console(driver, check, page_url):
    """Chromium's performance log has the requests of every document (the
    tab's new-tab page loads chrome:// files before ours); the page's are
    those made by the document loaded from page_url (its loader)."""
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            requests.append((params.get("loaderId"), params["request"]["url"]))
    loaders = {loader for loader, url in requests if url == page_url}
    check.true(len(loaders) == 1, "the performance log saw the page load once (%r)" % requests)
    outside = [url for loader, url in requests if loader in loaders and url != page_url]
    check.equal(outside, [], "requests the page made (it should need nothing but itself)")
    resources = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    check.equal(resources, [], "resources the page loaded")
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR", "WARNING")]
    check.equal(errors, [], "console errors and warnings")


def check_docs_page(program, docs_page):
    """The committed page must be the one the program writes now."""
    with tempfile.TemporaryDirectory() as work:
        page = os.path.join(work, "page.html")
        subprocess.run([program, "--html", page, "--dot", os.path.join(work, "g.dot"),
                        "--png", ""], capture_output=True, check=True)
        with open(page, "rb") as new, open(docs_page, "rb") as old:
            if new.read() != old.read():
                print("FAIL: %s is not what backprop_trace writes now; regenerate it with\n"
                      "    build/examples/backprop_trace --html docs/backprop_explorer.html "
                      "--png ''\n(and the screenshot, see docs/backprop.md)" % docs_page)
                sys.exit(1)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: test_explorer.py BACKPROP_TRACE [DOCS_PAGE]")
    program = os.path.abspath(sys.argv[1])
    if len(sys.argv) == 3:
        check_docs_page(program, sys.argv[2])
    import_selenium()
    with tempfile.TemporaryDirectory() as work:
        page = os.path.join(work, "explorer.html")
        run = subprocess.run([program, "--html", page, "--dot", os.path.join(work, "g.dot"),
                              "--png", ""], capture_output=True, text=True, check=True)
        banner, forward, backward, leaves = parse_trace(run.stdout)
        driver = start_chromium(os.path.join(work, "profile"))
        check = Checker()
        try:
            url = "file://" + page
            driver.get_log("performance")  # drop the start-up tab's own requests
            driver.get(url)
            check.equal(text_of(driver, "#step-title"), "Start", "the page opens at the start")
            check.true(banner in text_of(driver, "#step-body"), "the start shows the banner")
            check_forward(driver, check, forward)
            check_backward(driver, check, backward)
            from selenium.webdriver.common.keys import Keys
            press(driver, Keys.ARROW_RIGHT)
            check.true(text_of(driver, "#step-title").startswith("Done"), "the end")
            check_gradients(driver, check, leaves)
            check_buttons(driver, check, 1 + len(forward) + len(backward) + 1)
            check_heatmap(driver, check)
            check_network_and_console(driver, check, url)
        finally:
            driver.quit()
    for failure in check.failures:
        print("FAIL: " + failure)
    print("browser test: %d forward and %d backward steps checked, %d failure(s)"
          % (len(forward), len(backward), len(check.failures)))
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
