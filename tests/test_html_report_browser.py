"""report.html in a real browser (Debian's Chromium through Playwright): the findings list leads, a cell
opens its row's panel with the differences table, and the filters hide what they do not select."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report import document
from harness.report import html as html_report

CHROMIUM = Path("/usr/bin/chromium")
ENGINES = [{"engine": "chromium", "version": "156.0", "driver": "playwright", "build": "system"},
           {"engine": "firefox", "version": "153.7.0", "driver": "playwright", "build": "system"}]
TFJS = [{"version": "4.22.0", "source": "npm:@tensorflow/tfjs@4.22.0"}]
FINDINGS = {
    "embedding-dtype-added": {"kind": "tfjs-bug", "title": "A load + save adds config.dtype to an Embedding layer",
                              "promise": "save(load(x)) writes what x was",
                              "link": "https://github.com/tensorflow/tfjs/issues/1", "intermittent": False},
    "save-overwrites-silently": {"kind": "hazard", "title": "save() replaces a stored model without asking",
                                 "promise": "a user does not lose a model by saving another under its name",
                                 "link": "https://www.tensorflow.org/js/guide/save_load", "intermittent": False},
}
EXPLAINED = {"what": "loaded", "path": "$.modelTopology.config.layers[0].config.dtype", "expected": None,
             "actual": "float32", "message": "a dtype the saved model did not have", "finding": "embedding-dtype-added"}
UNEXPLAINED = {"what": "predictions", "path": "output[0]", "expected": [0.5, 0.25], "actual": [0.5, 0.75],
               "message": "predictions differ from the golden's"}
HAZARD = {"id": "save-overwrites-silently", "what": "storage", "path": "localstorage://m",
          "message": "the second save replaced the first without a prompt"}

PASSED, XFAILED, FAILED, HAZARDOUS = 0, 2, 3, 4  # indices of the rows the checks look at


def row(engine: str, scheme: str, model: str, outcome: str, differences=(), findings=(), hazards=()) -> dict:
    r = {"engine": engine, "build": "system", "context": "window", "backend": "cpu", "tfjs": "4.22.0",
         "scheme": scheme, "model": model, "format": "layers-model", "outcome": outcome,
         "differences": list(differences), "findings": list(findings), "hazards": list(hazards),
         "duration_s": 0.5, "test_s": 0.75, "page_s": 0.25,
         "test": f"scenarios/test_roundtrip.py::test_roundtrip[{scheme}-{model}-{engine}]"}
    r["detail"] = document.detail(r)
    return r


def conformance() -> dict:
    """Two engines: passing rows, an xfailed row a tfjs-bug explains, a failed row with one explained and one
    unexplained difference, and a passing row that observed a hazard."""
    rows = [
        row("chromium", "indexeddb", "mlp", "passed"),
        row("firefox", "indexeddb", "mlp", "passed"),
        row("chromium", "indexeddb", "embedding", "xfailed", [EXPLAINED], ["embedding-dtype-added"]),
        row("firefox", "indexeddb", "embedding", "failed", [EXPLAINED, UNEXPLAINED], ["embedding-dtype-added"]),
        row("chromium", "localstorage", "mlp", "passed", hazards=[HAZARD]),
        row("firefox", "localstorage", "mlp", "passed"),
    ]
    doc = document.build(ENGINES, TFJS, rows, FINDINGS)
    document.validate(doc)
    return doc


async def open_report(p, path: Path):
    """A Chromium page showing the report at `path` (the browser is closed with the Playwright instance)."""
    browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    await page.goto(path.as_uri())
    return page


def cell(page, index: int):
    """The matrix cell holding row `index`."""
    return page.locator(f'#matrix td[data-rows~="{index}"]')


async def check_findings_lead(page) -> None:
    findings = page.locator("#findings")
    assert await findings.is_visible()
    before = await page.evaluate("document.getElementById('findings').compareDocumentPosition("
                                 "document.getElementById('matrix')) & Node.DOCUMENT_POSITION_FOLLOWING")
    assert before, "the findings list comes after the matrix"
    line = findings.locator("#f-embedding-dtype-added td")
    assert [t.strip() for t in (await line.all_inner_texts())[:4]] == [
        "embedding-dtype-added", "tfjs-bug", "2", "chromium, firefox"]
    assert "hazard" in await findings.locator("#f-save-overwrites-silently").inner_text()


async def check_panel_opens(page) -> None:
    panel = page.locator(f"#r{FAILED}")
    assert not await panel.is_visible()
    await cell(page, FAILED).locator("a").click()
    assert await panel.is_visible()
    lines = panel.locator("table.differences tbody tr")
    assert await lines.count() == 2
    explained = lines.filter(has_text=EXPLAINED["message"])
    unexplained = lines.filter(has_text=UNEXPLAINED["message"])
    assert await explained.locator("a.fid").inner_text() == "embedding-dtype-added"
    assert await unexplained.locator("a.fid").count() == 0
    assert "unexplained" in await unexplained.inner_text()


async def check_outcome_filter(page) -> None:
    await page.select_option("#filter-outcome", "failed")
    assert not await cell(page, PASSED).locator("span").is_visible()
    assert not await cell(page, XFAILED).locator("a").is_visible()
    assert await cell(page, FAILED).locator("a").is_visible()
    assert await page.locator("tr.problem.o-xfailed").is_hidden()
    assert await page.locator("tr.problem.o-failed").is_visible()
    await page.select_option("#filter-outcome", "")
    assert await cell(page, PASSED).locator("span").is_visible()


async def check_engine_filter(page) -> None:
    await page.select_option("#filter-engine", "firefox")
    for index in (PASSED, XFAILED, HAZARDOUS):  # chromium's
        assert await cell(page, index).is_hidden()
    assert await page.locator('#matrix th.col[data-engine="chromium"]').is_hidden()
    assert await cell(page, FAILED).is_visible()
    assert await page.locator("#f-save-overwrites-silently").is_hidden()  # seen on chromium only
    assert await page.locator("#f-embedding-dtype-added").is_visible()


async def test_report_in_chromium(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.async_api import async_playwright

    path = html_report.write(conformance(), tmp_path)
    async with async_playwright() as p:
        page = await open_report(p, path)
        await check_findings_lead(page)
        await check_panel_opens(page)
        await page.keyboard.press("Escape")
        assert not await page.locator(f"#r{FAILED}").is_visible()
        await check_outcome_filter(page)
        await check_engine_filter(page)
        shot = tmp_path / "report.png"
        await page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0 and shot.read_bytes().startswith(b"\x89PNG")
