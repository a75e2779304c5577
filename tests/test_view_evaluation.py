"""``criteria-nlp evaluate --html``: every miss and false positive of the run, in context, with the
gold and predicted spans marked at their offsets; the scores are those of the run without it."""
from __future__ import annotations

import pytest

from criteria_nlp.cli import main
from criteria_nlp.evaluation.command import resolve_corpus_dir, run_evaluation
from view_dom import parse_page

LCT_DIR = resolve_corpus_dir()

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def corpus_dir():
    if not LCT_DIR.is_dir() or not any(LCT_DIR.glob("*.ann")):
        pytest.skip(f"LCT corpus not available at {LCT_DIR} (set CRITERIA_NLP_LCT_DIR)")
    return LCT_DIR


def _table(out: str) -> list[str]:
    return [line for line in out.splitlines() if not line.startswith("seconds")]


def test_html_report_lists_every_error_in_context(corpus_dir, tmp_path, capsys):
    argv = ["evaluate", "--split", "test", "--system", "baseline", "--corpus-dir", str(corpus_dir)]
    assert main(argv) == 0
    plain = capsys.readouterr().out
    report = tmp_path / "errors.html"
    assert main(argv + ["--html", str(report)]) == 0
    assert _table(capsys.readouterr().out) == _table(plain)  # the option does not change the scores

    result = run_evaluation(corpus_dir, "test", "baseline")
    raw = report.read_text(encoding="utf-8")
    assert raw.count('class="error-item"') == len(result.errors) == sum(result.error_counts.values())
    misses = [e for e in result.errors if e.gold is not None]
    assert f"Misses ({len(misses)})" in raw
    assert f"False positives ({len(result.errors) - len(misses)})" in raw
    assert f"{result.levels['full'].f1:.3f}" in raw

    # each context is a slice of the document with the gold comparison / predicted rule marked exactly
    contexts = parse_page(raw.replace('<div class="context">', '<pre class="criteria-text">')
                          .replace("</div></div>", "</pre></div>"))
    assert len(contexts.texts) == len(result.errors)
    for gold in (e.gold for e in result.errors if e.gold is not None):
        assert any(contexts.marked.get((i, "gold", gold.id)) == gold.text for i in range(len(contexts.texts)))
    for pred in (e.pred for e in result.errors if e.gold is None):
        assert any(contexts.marked.get((i, "pred", pred.id)) == pred.text for i in range(len(contexts.texts)))


def test_html_report_is_not_overwritten_without_force(corpus_dir, tmp_path, capsys):
    report = tmp_path / "errors.html"
    report.write_text("mine", encoding="utf-8")
    code = main(["evaluate", "--split", "test", "--system", "oracle", "--corpus-dir", str(corpus_dir),
                 "--html", str(report)])
    assert code == 2 and "--force" in capsys.readouterr().err
    assert report.read_text(encoding="utf-8") == "mine"
    assert main(["evaluate", "--split", "test", "--system", "oracle", "--corpus-dir", str(corpus_dir),
                 "--html", str(report), "--force"]) == 0
    raw = report.read_text(encoding="utf-8")
    errors = run_evaluation(corpus_dir, "test", "oracle").errors  # the oracle misses only unparseable gold
    assert raw.count('class="error-item"') == len(errors) and "False positives (0)" in raw
    assert all("gold value not parseable" in e.note for e in errors) and raw.count("gold value not parseable") == len(errors)
