"""The OHIF viewer served by ``cloudpacs serve`` at ``/viewer/``, in a real browser.

It lists every stored study, the pydicom corpus's studies without Modality included (OHIF's
study list fails for the whole list on an empty Modalities in Study without a ``Value``: see
``cloudpacs.services.return_keys``), opens the CT study, and draws it: the viewport's canvas
holds an image, not a uniform fill. No request of the page fails (thumbnails, QIDO-RS, WADO-RS,
the viewer's own files): every response with status >= 400 is recorded.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.data import CT_DESCRIPTION, corpus_studies, ct_series
from tests.support.multipart_body import stow_body

MODALITIES_IN_STUDY = "00080061"
INSTANCES_IN_STUDY = "00201208"
CANVAS_STATS = """() => {
  const canvas = document.querySelector('canvas.cornerstone-canvas');
  if (!canvas || !canvas.width || !canvas.height) return null;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const levels = new Set();
  let lit = 0;
  for (let i = 0; i < data.length; i += 4) {
    const grey = (data[i] + data[i + 1] + data[i + 2]) / 3;
    levels.add(Math.round(grey));
    if (grey > 20) lit += 1;
  }
  return {levels: levels.size, lit: lit / (data.length / 4), width: canvas.width};
}"""


@pytest.fixture(scope="module")
def studies(served: str) -> list[dict[str, dict[str, object]]]:
    """Store the data; the archive's study list as QIDO-RS answers it."""
    with httpx.Client(base_url=served + "/dicom-web", timeout=60) as http:
        body, headers = stow_body([*ct_series(), *corpus_studies()])
        stored = http.post("/studies", content=body, headers=headers)
        assert stored.status_code == 200, stored.text[:2000]
        found = http.get("/studies", headers={"Accept": "application/dicom+json"})
        assert found.status_code == 200
        result: list[dict[str, dict[str, object]]] = found.json()
    return result


@pytest.fixture
def page(browser: Browser) -> Page:
    return browser.new_page(viewport={"width": 1400, "height": 900})


def test_viewer_lists_every_study_and_draws_the_ct(
    served: str, studies: list[dict[str, dict[str, object]]], page: Page, tmp_path: Path
) -> None:
    without_modality = [s for s in studies if s[MODALITIES_IN_STUDY].get("Value") == [None]]
    assert without_modality, "the data should include a study whose instances lack Modality"
    failed: list[str] = []
    errors: list[str] = []
    dicomweb: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(f"{r.failure} {r.url}"))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: dicomweb.append(r.url) if "/dicom-web/" in r.url else None)

    page.goto(served + "/viewer/", wait_until="networkidle")
    rows = page.locator("tbody tr[aria-selected]")  # data rows, not the filter row
    rows.nth(len(studies) - 1).wait_for(timeout=30_000)
    assert rows.count() == len(studies), errors
    shown = Counter(int(t) for t in rows.locator("td:nth-child(6)").all_inner_texts())
    assert shown == Counter(int(s[INSTANCES_IN_STUDY]["Value"][0]) for s in studies)  # type: ignore[index]

    rows.filter(has_text=CT_DESCRIPTION).click()
    page.get_by_role("button", name="Basic Viewer").click()
    page.wait_for_url("**/viewer/viewer?**", timeout=30_000)
    stats = _wait_for_image(page)
    page.screenshot(path=str(tmp_path / "viewer.png"))
    assert stats is not None and stats["levels"] > 32 and 0.05 < stats["lit"] < 0.95, stats

    page.wait_for_load_state("networkidle")
    assert failed == [], failed
    assert not [e for e in errors if "Cannot read properties" in e], errors
    assert any("/dicom-web/studies?" in url for url in dicomweb)  # QIDO-RS study search
    assert any("/frames/" in url for url in dicomweb), dicomweb  # WADO-RS pixel data


def _wait_for_image(page: Page, seconds: float = 30) -> dict[str, float] | None:
    """The viewport canvas's statistics once it holds more than a uniform fill."""
    deadline = time.monotonic() + seconds
    stats = None
    while time.monotonic() < deadline:
        stats = page.evaluate(CANVAS_STATS)
        if stats is not None and stats["levels"] > 32:
            return dict(stats)
        time.sleep(0.25)
    return stats
