"""The evaluation report renders from a small hand-made fixture (tests/fixtures/report/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.baselines import LexiconTagger, word_spans
from pipeline.config import EvaluateConfig
from pipeline.tagger.encoding import word_tags
from pipeline.formats import read_corpus
from pipeline.report import classify_errors, pr_curve, write_report
from pipeline.schema import Document
from pipeline.evaluation.scoring import score_documents

FIX = Path("tests/fixtures/report")


def _token_level(gold, pred) -> dict:
    by_id = {d.id: d for d in pred}
    y_true, y_pred = [], []
    for g in gold:
        spans = word_spans(g.text)
        y_true.append(word_tags(g, spans))
        y_pred.append(word_tags(by_id[g.id], spans))
    return {"y_true": y_true, "y_pred": y_pred}


@pytest.fixture()
def inputs():
    gold = read_corpus(str(FIX / "gold.jsonl"))
    pred = read_corpus(str(FIX / "pred.jsonl"))
    lexicon = LexiconTagger().predict([Document(d.id, d.text) for d in gold])
    # The model is listed second on purpose: the report puts it first.
    systems = {"lexicon rules": (score_documents(gold, lexicon), lexicon),
               "fine-tuned model": (score_documents(gold, pred), pred)}
    metrics = json.loads((FIX / "metrics.json").read_text())
    return gold, pred, systems, metrics, _token_level(gold, pred)


def test_report_writes_markdown_html_and_plots(tmp_path, inputs):
    gold, _, systems, metrics, tl = inputs
    md_path = write_report(tmp_path, gold, systems, metrics, tl, EvaluateConfig(bootstrap=40, seed=3))
    md = md_path.read_text()
    page = (tmp_path / "report.html").read_text()
    for png in ("confusion_matrix.png", "trigger_scores.png", "trigger_pr_curve.png"):
        assert (tmp_path / png).stat().st_size > 1000
        assert f"]({png})" in md
    header = next(line for line in md.splitlines() if line.startswith("| metric"))
    assert header.index("fine-tuned model F1") < header.index("lexicon rules F1")
    assert "### fine-tuned model: precision, recall, F1" in md
    assert "### lexicon rules: precision, recall, F1" in md
    assert "| Tri-C | 3 |" in md and "| Arg-C+ EXPELLER |" in md
    assert "0.250 [" in md                        # model Tri-C precision with its interval
    for kind in ("Wrong boundary (2)", "Wrong role (1)", "Missed event (1)", "Spurious event (2)",
                 "Missed argument (2)", "Spurious argument (2)"):
        assert kind in md and kind in page
    assert "**Friday**`DEADLINE`" in md and "\\[Russian diplomats\\]`EXPELLED`" in md
    assert "## Event record fields" in md and "| count | 0.750 | 3 / 4 | 1 |" in md
    assert page.count("data:image/png;base64,") == 3 and 'src="confusion_matrix.png"' not in page
    assert "&lt;b&gt;Markup&lt;/b&gt;" in page and "<b>Markup</b>" not in page
    assert '<mark class="gold"' in page and '<mark class="pred"' in page


def test_report_without_intervals_fields_or_scores(tmp_path, inputs):
    gold, _, _, _, tl = inputs
    unscored = LexiconTagger().predict([Document(d.id, d.text) for d in gold])
    systems = {"fine-tuned model": (score_documents(gold, unscored), unscored)}
    md = write_report(tmp_path, gold, systems, {}, {}, EvaluateConfig(bootstrap=0)).read_text()
    assert "no confidence intervals" in md and " [" not in md.split("## Scores")[1].split("##")[0]
    assert "record fields" not in md and "Not measured" not in md      # no dead section
    assert "the predicted triggers carry no score" in md
    assert "no token-level tags" in md
    assert not (tmp_path / "trigger_scores.png").exists()


def test_errors_are_classified_by_kind(inputs):
    gold, pred, *_ = inputs
    by_id = {d.id: d for d in pred}
    got = {g.id: sorted((e.kind, (e.gold or e.pred).label) for e in classify_errors(g, by_id[g.id]))
           for g in gold}
    assert got == {
        "r1": [("missed argument", "DEADLINE"), ("wrong boundary", "EXPELLED"), ("wrong role", "REASON")],
        "r2": [("missed event", "TRIGGER"), ("spurious event", "TRIGGER")],
        "r3": [("spurious argument", "EXPELLED"), ("spurious argument", "EXPELLER"),
               ("spurious event", "TRIGGER")],
        "r4": [("missed argument", "REASON"), ("wrong boundary", "TRIGGER")],
    }


def test_pr_curve_sweeps_thresholds_with_ties():
    outcomes = [(0.9, True), (0.8, False), (0.8, True), (0.3, False)]
    thr, prec, rec = pr_curve(outcomes, n_gold=4)
    assert thr == [0.9, 0.8, 0.3]
    assert prec == [1.0, 2 / 3, 0.5]
    assert rec == [0.25, 0.5, 0.5]
