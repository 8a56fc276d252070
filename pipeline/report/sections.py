"""The evaluation report: ``report.md``, a self-contained ``report.html`` and PNG plots.

Sections: scores of every system side by side (bootstrap 95% intervals), the token-level
role confusion matrix, seqeval's per-label table, the model's errors grouped by kind with
gold and predicted spans highlighted, the distribution of trigger scores and the trigger
precision-recall curve, and the normalised event fields.

Each section is a list of blocks (heading, paragraph, table, image, error example)
that :mod:`pipeline.report.render` turns into Markdown and HTML, so both always agree;
what the sections say about errors comes from :mod:`pipeline.report.analysis`.

Example:
    >>> write_report(Path("outputs/eval"), gold, {"fine-tuned model": (scores, pred)},
    ...              metrics, token_level, cfg)                                  # doctest: +SKIP
    PosixPath('outputs/eval/report.md')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from pipeline.text import sentence_bounds
from pipeline.report.analysis import ERROR_KINDS, ErrorItem, classify_errors, f1, pr_curve, trigger_outcomes
from pipeline.report.estimate import estimate_blocks
from pipeline.report.plots import plot_confusion, plot_pr, plot_score_hist
from pipeline.report.render import Block, render_html, render_markdown
from pipeline.evaluation.scoring import lookup
from pipeline.schema import LABELS, ROLES, Document


MODEL = "fine-tuned model"
MAX_EXAMPLES = 15          # error examples shown per kind
METRIC_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Tri-C", ("trigger",)), ("Arg-C", ("argument",)), ("Arg-C+", ("argument_attached",)),
    *((f"Arg-C {r}", ("per_role", r)) for r in ROLES),
    *((f"Arg-C+ {r}", ("per_role_attached", r)) for r in ROLES),
)


def write_report(run_dir: Path, gold: Sequence[Document], systems: dict[str, tuple[dict, list[Document]]],
                 metrics: dict[str, Any], token_level: dict[str, Any], cfg) -> Path:
    """Write ``report.md``, ``report.html`` and the PNG plots into ``run_dir``.

    Args:
        run_dir: output folder (created if missing).
        gold: the gold documents.
        systems: name -> (scores of :func:`pipeline.evaluation.scoring.score_documents`, predicted
            documents); the fine-tuned model is listed first and its errors are analysed.
        metrics: the evaluate stage's metrics (``seqeval``, optional ``fields``, ...).
        token_level: ``{"y_true", "y_pred"}``, BIO tags per word per document.
        cfg: the evaluate config; ``bootstrap`` resamples (0 = no intervals) and ``seed``.

    Returns:
        The path of ``report.md``.
    """
    import matplotlib

    matplotlib.use("Agg")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    systems = _ordered(systems)
    main_name, (_, main_pred) = next(iter(systems.items()))
    blocks: list[Block] = [("h1", "Evaluation report")]
    if "estimate" in metrics:        # the model's recipe, cross-validated: out-of-sample figures first
        blocks += estimate_blocks(metrics["estimate"])
        blocks += [("h2", "This evaluation" + (" (in-sample)" if metrics.get("in_sample_documents") else ""))]
    blocks += _in_sample_warning(metrics)
    blocks += [("p", _summary(gold, metrics, cfg))]
    blocks += _scores_section(gold, systems, cfg)
    blocks += _recall_section(gold, systems)
    blocks += _confusion_section(run_dir, token_level)
    blocks += _seqeval_section(metrics)
    blocks += _errors_section(gold, main_pred, main_name)
    blocks += _trigger_score_section(run_dir, gold, main_pred, main_name)
    blocks += _fields_section(metrics)
    md_path = run_dir / "report.md"
    md_path.write_text(render_markdown(blocks), encoding="utf-8")
    (run_dir / "report.html").write_text(render_html(blocks, run_dir), encoding="utf-8")
    return md_path


def _ordered(systems: dict) -> dict:
    """The fine-tuned model first, the others in their given order."""
    if not systems:
        raise ValueError("write_report needs at least one system (name -> (scores, predictions))")
    return {**({MODEL: systems[MODEL]} if MODEL in systems else {}),
            **{k: v for k, v in systems.items() if k != MODEL}}


def _in_sample_warning(metrics: dict) -> list[Block]:
    n, total = metrics.get("in_sample_documents"), metrics.get("documents")
    if not n:
        return []
    return [("p", f"In-sample: {n} of the {total} scored documents were in this model's training data, "
                  "so these figures say how well it fits what it saw, not how well it does on new text. "
                  "For an estimate on unseen text use the cross-validated figures (expel-train "
                  "experiment=crossval, benchmarks/crossval_report.py), or score a gold file the "
                  "model was not trained on.")]


def _recall_section(gold: Sequence[Document], systems: dict) -> list[Block]:
    """Recall per role and per trigger form, for every system side by side."""
    from pipeline.evaluation.scoring import recall_by_trigger_form

    names = list(systems)
    first = next(iter(systems.values()))[0]
    role_rows = [[r, str(first["per_role"][r]["gold"])] + [f"{s['per_role'][r]['recall']:.3f}"
                                                            for s, _ in systems.values()] for r in ROLES]
    forms = {n: recall_by_trigger_form(gold, pred) for n, (_, pred) in systems.items()}
    order = forms[names[0]]
    form_rows = [[f, str(v["gold"])] + [f"{forms[n].get(f, {'recall': 0.0})['recall']:.2f}" for n in names]
                 for f, v in order.items()]
    return [("h2", "Recall per role and per trigger form"),
            ("p", "Arg-C recall per role, and Tri-C recall per form of the gold trigger (its text, "
                  "lower-cased): where the misses are."),
            ("table", ["role", "gold", *names], role_rows),
            ("table", ["trigger form", "gold", *names], form_rows)]


def _summary(gold: Sequence[Document], metrics: dict, cfg) -> str:
    n_pos = sum(1 for d in gold if d.events)
    n_ev = sum(len(d.events) for d in gold)
    parts = [f"{len(gold)} gold documents ({n_pos} with expulsions, {n_ev} events)"]
    for key in ("gold", "model_dir"):
        if metrics.get(key):
            parts.append(f"{key}: {metrics[key]}")
    tagger = getattr(cfg, "tagger", None)
    if tagger is not None:
        parts.append(f"decoding: {tagger.decoding}; REASON spans: "
                     + ("clause rule from the model's triggers (reason=rules)" if tagger.reason == "rules"
                        else "the tagger's own (reason=model)"))
    b = getattr(cfg, "bootstrap", 0)
    parts.append(f"confidence intervals: {b} bootstrap resamples of documents, seed "
                 f"{getattr(cfg, 'seed', None)}" if b else "confidence intervals: none (bootstrap = 0)")
    return "; ".join(parts) + "."


# ----------------------------------------------------------------------------- scores

def _cell(m: dict | None, ci: dict | None, name: str) -> str:
    if m is None:
        return "-"
    text = f"{m[name]:.3f}"
    if ci and name in ci:
        lo, hi = ci[name]
        text += f" [{lo:.3f}, {hi:.3f}]"
    return text


def _scores_section(gold, systems: dict, cfg) -> list[Block]:
    """F1 of every system side by side, then precision, recall and F1 per system (each
    with its interval): one wide table of all three would not fit a page."""
    from pipeline.evaluation.intervals import bootstrap_ci

    resamples, seed = int(getattr(cfg, "bootstrap", 0) or 0), int(getattr(cfg, "seed", 13))
    cis = {n: bootstrap_ci(gold, pred, resamples=resamples, seed=seed) for n, (_, pred) in systems.items()}
    first_scores = next(iter(systems.values()))[0]
    gold_counts = {label: lookup(first_scores, path) for label, path in METRIC_ROWS}

    def rows(cells) -> list[list[str]]:
        return [[label, str(gold_counts[label]["gold"]) if gold_counts[label] else "-", *cells(path)]
                for label, path in METRIC_ROWS]

    note = ("Tri-C: trigger span exact; Arg-C: (role, span) exact; Arg-C+: Arg-C and linked to a "
            "correct trigger of its gold event (docs/ANNOTATION.md in the repository). Micro scores"
            + (f"; [low, high] = 95% bootstrap interval over {resamples} document resamples." if resamples
               else "; no confidence intervals (bootstrap = 0)."))
    blocks: list[Block] = [
        ("h2", "Scores"), ("p", note),
        ("table", ["metric", "gold"] + [f"{n} F1" for n in systems],
         rows(lambda path: [_cell(lookup(s, path), lookup(cis[n], path), "f1")
                            for n, (s, _) in systems.items()]))]
    for n, (s, _) in systems.items():
        blocks += [("h3", f"{n}: precision, recall, F1"),
                   ("table", ["metric", "gold", "P", "R", "F1"],
                    rows(lambda path, s=s, n=n: [_cell(lookup(s, path), lookup(cis[n], path), k)
                                                 for k in ("precision", "recall", "f1")]))]
    return blocks


# ----------------------------------------------------------------------------- token level

def _role(tag: str) -> str:
    return tag.split("-", 1)[1] if "-" in tag else tag


def _confusion_section(run_dir: Path, token_level: dict) -> list[Block]:
    """Token-level confusion of roles (B-/I- collapsed), as a table and a PNG."""
    from sklearn.metrics import confusion_matrix

    y_true = [_role(t) for sent in token_level.get("y_true", []) for t in sent]
    y_pred = [_role(t) for sent in token_level.get("y_pred", []) for t in sent]
    head: list[Block] = [("h2", "Token-level role confusion")]
    if not y_true or len(y_true) != len(y_pred):
        return head + [("p", "Not available: no token-level tags were given.")]
    labels = ["O", *LABELS]
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    plot_confusion(cm, labels, run_dir / "confusion_matrix.png")
    rows = [[labels[i], *(str(int(v)) for v in cm[i])] for i in range(len(labels))]
    return head + [("p", "Rows: gold role of each word; columns: predicted role (words of the "
                         "gold file's tokenisation)."),
                   ("img", "confusion_matrix.png", "token-level role confusion matrix"),
                   ("table", ["gold \\ predicted", *labels], rows)]


def _seqeval_section(metrics: dict) -> list[Block]:
    seq = metrics.get("seqeval")
    if not isinstance(seq, dict) or not seq:
        return []
    rows = [[label, *(f"{m.get(k, 0):.3f}" for k in ("precision", "recall", "f1-score")),
             str(int(m.get("support", 0)))] for label, m in seq.items() if isinstance(m, dict)]
    return [("h2", "Entity-level (seqeval, strict IOB2)"),
            ("table", ["label", "P", "R", "F1", "support"], rows)]


# ----------------------------------------------------------------------------- errors

def _errors_section(gold: Sequence[Document], pred: Sequence[Document], name: str) -> list[Block]:
    by_id = {d.id: d for d in pred}
    groups: dict[str, list[ErrorItem]] = {k: [] for k in ERROR_KINDS}
    for g in gold:
        for item in classify_errors(g, by_id.get(g.id, Document(g.id, g.text))):
            groups[item.kind].append(item)
    blocks: list[Block] = [
        ("h2", f"Error analysis ({name})"),
        ("p", "Gold spans are shown in bold (Markdown) or solid marks (HTML), predicted spans in "
              "[brackets] or dashed marks, each followed by its label. "
              + ", ".join(f"{k}: {len(v)}" for k, v in groups.items()) + "."),
    ]
    for kind, items in groups.items():
        blocks.append(("h3", f"{kind.capitalize()} ({len(items)})"))
        if not items:
            blocks.append(("p", "None."))
        for item in items[:MAX_EXAMPLES]:
            blocks.append(_example_block(item, by_id.get(item.doc.id)))
        if len(items) > MAX_EXAMPLES:
            blocks.append(("p", f"... and {len(items) - MAX_EXAMPLES} more."))
    return blocks


def _example_block(item: ErrorItem, pred_doc: Document | None) -> Block:
    """The sentence(s) around the error, with the gold and predicted spans inside it."""
    focus = [s for s in (item.gold, item.pred) if s is not None]
    bounds = sentence_bounds(item.doc.text)
    lo = min(s.start for s in focus)
    hi = max(s.end for s in focus)
    start = max((b for b, e in bounds if b <= lo), default=0)
    end = min((e for b, e in bounds if e >= hi), default=len(item.doc.text))
    inside = lambda spans: [s for s in spans if start <= s.start and s.end <= end]  # noqa: E731
    return ("example", item, (start, end), inside(item.doc.spans()),
            inside(pred_doc.spans() if pred_doc else []))


def _trigger_score_section(run_dir: Path, gold, pred, name: str) -> list[Block]:
    outcomes, n_gold = trigger_outcomes(gold, pred)
    head: list[Block] = [("h2", f"Trigger scores ({name})")]
    if not outcomes:
        return head + [("p", "Not available: the predicted triggers carry no score.")]
    plot_score_hist(outcomes, run_dir / "trigger_scores.png")
    thr, prec, rec = pr_curve(outcomes, n_gold)
    plot_pr(prec, rec, run_dir / "trigger_pr_curve.png")
    best = max(range(len(thr)), key=lambda i: f1(prec[i], rec[i]))
    return head + [
        ("p", f"{len(outcomes)} predicted triggers, {sum(ok for _, ok in outcomes)} correct, "
              f"{n_gold} gold. Best trigger F1 over thresholds: {f1(prec[best], rec[best]):.3f} "
              f"at score >= {thr[best]:.3f} (P {prec[best]:.3f}, R {rec[best]:.3f})."),
        ("img", "trigger_scores.png", "trigger score distribution, correct vs wrong"),
        ("img", "trigger_pr_curve.png", "trigger precision-recall curve over score thresholds"),
    ]


# ----------------------------------------------------------------------------- fields

def _fields_section(metrics: dict) -> list[Block]:
    """Agreement of the records' fields (count, countries, dates) with gold, on the events
    whose trigger was found; no section when they were not measured."""
    fields = metrics.get("fields")
    if not fields:
        return []
    rows = [[str(name), f"{v['accuracy']:.3f}" if isinstance(v.get("accuracy"), (int, float)) else "-",
             f"{v.get('agree', '')} / {v.get('n', '')}", str(v.get("spurious", ""))]
            for name, v in fields.items() if isinstance(v, dict)]
    return [("h2", "Event record fields"),
            ("p", "On the gold events whose trigger the model found, how often the record built from the "
                  "predicted spans gives the same value as the record built from the gold spans (both "
                  "dated by the document; pipeline/records). Spurious: a value where gold states none."),
            ("table", ["field", "agreement", "agree / gold events stating it", "spurious"], rows)]
