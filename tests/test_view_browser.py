"""The reviewer view in a real headless browser (Debian's chromium; skipped when it is absent):
the page renders offline, the highlights and the rule table are in the live DOM."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from criteria_nlp import extract
from criteria_nlp.cli import main
from view_dom import check_highlights, parse_page

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "corpora" / "examples" / "NCT06852573.criteria.txt"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/install-chromium.sh)")

HOSTILE = 'Inclusion Criteria:\n- Age >= 18 years <script>document.title="owned"</script> "q" \'s\'\n'


def chromium(page: Path, *options: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", *options, page.as_uri()],
            capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def reference_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("view") / "ref.html"
    assert main(["view", str(REFERENCE), "-o", str(out)]) == 0
    return out


def test_browser_dom_has_the_text_highlights_and_rule_table(reference_page):
    proc = chromium(reference_page, "--dump-dom")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-500:]
    dom = parse_page(proc.stdout.decode("utf-8"))
    text = REFERENCE.read_text(encoding="utf-8")
    assert dom.texts == [text]
    result = extract(text, doc_id="NCT06852573.criteria")
    counts = check_highlights(dom, 0, result, text)
    n_rules = sum(len(c["rules"]) for c in result["criteria"])
    assert n_rules >= 36 and counts["rules"] == n_rules and counts["variable"] == n_rules and counts["unit"] >= 15
    assert len(dom.rows) == n_rules and dom.rows[0][0].startswith("inc-")
    assert not dom.tags & {"script", "link", "img", "iframe"}


def test_browser_screenshot(reference_page):
    png = reference_page.with_suffix(".png")
    proc = chromium(reference_page, "--window-size=1300,1800", f"--screenshot={png}")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-500:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a drawn page, not a blank one


def test_record_markup_stays_text_in_the_browser(tmp_path):
    src = tmp_path / "hostile.txt"
    src.write_text(HOSTILE, encoding="utf-8")
    out = tmp_path / "hostile.html"
    assert main(["view", str(src), "-o", str(out), "--title", '<i>"title"</i>']) == 0
    proc = chromium(out, "--dump-dom")
    assert proc.returncode == 0
    html_text = proc.stdout.decode("utf-8")
    dom = parse_page(html_text)
    assert dom.texts == [HOSTILE]
    assert "<title>&lt;i&gt;\"title\"&lt;/i&gt;</title>" in html_text  # the title did not run or change
    assert "script" not in dom.tags and "i" not in dom.tags
