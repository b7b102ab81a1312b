"""`vigil docs hyperkalaemia` opened in headless Chromium on a phone-sized screen: every rule,
both unit systems, the scenario table; the page asks for nothing over the network.

Drives Debian's /usr/bin/chromium through Playwright (no browser is downloaded); skipped
where it is not installed. One browser serves the whole module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import engine
from engine.loader import check_text
from tests.vigil.test_evaluate_command import vigil

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
SECTIONS = """() => Object.fromEntries([...document.querySelectorAll("section.rule")].map(
  (s) => [s.id.slice("rule-".length), [s.getClientRects().length > 0, s.innerText]]))"""

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (Debian's chromium package)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The review page of the packaged hyperkalaemia ruleset, written through the CLI."""
    out = tmp_path_factory.mktemp("docs")
    run = vigil("docs", "hyperkalaemia", "-o", out)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[:2] == [str(out / "index.html"), str(out / "index.md")]
    return out / "index.html"


def test_the_page_shows_every_rule_units_and_scenarios_on_a_phone(
    browser: sync_api.Browser, written: Path, tmp_path: Path
) -> None:
    path = engine.packaged_rulesets()["hyperkalaemia"]
    ruleset = check_text(path.read_text(), str(path), source=path)
    scenarios = list((path.parent / "scenarios").glob("*.yaml"))
    requested: list[str] = []
    page = browser.new_page(viewport=PHONE)
    page.on("request", lambda request: requested.append(request.url))
    page.goto(written.as_uri())

    # each rule's section: shown (it has a size on the page) and its text, read at once
    shown = page.evaluate(SECTIONS)
    for rule in ruleset.rules:
        visible, text = shown[rule.id]
        assert visible and rule.title in text and rule.id in text, rule.id
    assert "5.5 mmol/L (5.5 mEq/L; ≈21.5 mg/dL)" in shown["renal-unit-result"][1]

    rows = page.locator("#scenarios ~ div table tbody tr")
    assert rows.count() == len(scenarios) > 0
    results = rows.locator("td:first-child").all_inner_texts()
    assert all(text.split()[0] in {"pass", "fail"} for text in results)
    assert page.get_by_text(f"{len(scenarios)} of {len(scenarios)} scenarios pass.").is_visible()

    # nothing wider than the phone, nothing fetched but the file itself
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert requested and all(url.startswith("file://") for url in requested), requested
    shot = tmp_path / "review-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    page.close()
