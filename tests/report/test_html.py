"""report.html: one self-contained page with the report's content and a gallery of paired clips a
model got right clean and wrong degraded, checked in a real headless Chromium (Debian's
``chromium`` driven by Playwright; skipped only when no browser can be started)."""

from __future__ import annotations

import re
import shutil

import pytest

from synth.dataset import read_manifest
from synth.report.document import Evaluation, write_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def gallery_report(tmp_path):
    """A real square-clip dataset with a noisy copy; model m right on every clean clip, wrong (an
    abstention) on every noisy one."""
    from support.square_clips import make_dataset

    root = make_dataset(tmp_path / "ds", n=4, noise_levels=(40,))
    records = read_manifest(root)
    lines = [{"id": r["id"], "variant": "mcq", "rotation": 0, "choices": 4, "response": "nothing moves" if r["degradations"] else r["answer"],
              "parsed": None if r["degradations"] else r["answer"], "correct": not r["degradations"]} for r in records]  # fmt: skip
    out = tmp_path / "report"
    write_report([Evaluation(root, "m", records, lines, ["mcq"], False, 8)], out, "gallery test")
    return out


def test_the_page_is_self_contained_and_has_the_gallery(tmp_path):
    out = gallery_report(tmp_path)
    page = (out / "report.html").read_text()
    assert "<h2>Findings</h2>" in page and "<table>" in page
    # every image inline: nothing to fetch beside the page or from outside
    sources = re.findall(r'<img[^>]* src="([^"]+)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in page and "https://" not in page
    assert "Gallery: clean right, degraded wrong" in page and page.count('class="pair"') == 3
    assert "abstained (named no option)" in page and "In which direction does the square move?" in page


def test_the_page_loads_in_a_real_browser_and_its_images_render(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    out = gallery_report(tmp_path)
    errors: list[str] = []
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((out / "report.html").as_uri())
            page.wait_for_load_state("load")
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
            gallery = page.eval_on_selector_all(".pair img", "imgs => imgs.map(i => i.naturalWidth)")
            headings = page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
            browser.close()
    except playwright.Error as exc:
        if not shutil.which("chromium"):  # no browser on this machine (.ci/system-deps installs one)
            pytest.skip(f"no headless Chromium: {exc}")
        raise
    assert errors == []
    assert widths and all(w > 0 for w in widths)
    assert len(gallery) == 6 and all(w > 0 for w in gallery)  # 3 pairs, clean and degraded
    assert headings[0] == "Findings"
