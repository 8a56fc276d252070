"""The evaluation report: ``report.md``, a self-contained ``report.html`` and PNG plots.

Sections: scores of every system side by side (bootstrap 95% intervals), the token-level
role confusion matrix, seqeval's per-label table, the model's errors grouped by kind with
gold and predicted spans highlighted, the distribution of trigger scores and the trigger
precision-recall curve, and the normalised event fields.

The report is built as a list of blocks (heading, paragraph, table, image, error
example) that two small renderers turn into Markdown and HTML, so both always agree.

Example:
    >>> write_report(Path("outputs/eval"), gold, {"fine-tuned model": (scores, pred)},
    ...              metrics, token_level, cfg)                                  # doctest: +SKIP
    PosixPath('outputs/eval/report.md')
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from pipeline.linking import sentence_bounds
from pipeline.schema import LABELS, ROLES, TRIGGER, Document, Span

MODEL = "fine-tuned model"
MAX_EXAMPLES = 15          # error examples shown per kind
ERROR_KINDS = ("wrong boundary", "wrong role", "missed event", "spurious event",
               "missed argument", "spurious argument")
COLOURS = {TRIGGER: "#ffd166", "EXPELLER": "#8ecae6", "EXPELLED": "#f4a3a8", "REASON": "#b5e48c",
           "TIME": "#cdb4db", "DEADLINE": "#ffb703"}
METRIC_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Tri-C", ("trigger",)), ("Arg-C", ("argument",)), ("Arg-C+", ("argument_attached",)),
    *((f"Arg-C {r}", ("per_role", r)) for r in ROLES),
    *((f"Arg-C+ {r}", ("per_role_attached", r)) for r in ROLES),
)


@dataclass
class ErrorItem:
    """One error of a system on one document; ``gold``/``pred`` are the spans involved."""

    kind: str
    doc: Document
    gold: Span | None
    pred: Span | None


# A block is ("h1" | "h2" | "h3" | "p", text), ("table", header, rows), ("img", file, alt)
# or ("example", ErrorItem, gold spans, predicted spans).
Block = tuple


def write_report(run_dir: Path, gold: Sequence[Document], systems: dict[str, tuple[dict, list[Document]]],
                 metrics: dict[str, Any], token_level: dict[str, Any], cfg) -> Path:
    """Write ``report.md``, ``report.html`` and the PNG plots into ``run_dir``.

    Args:
        run_dir: output folder (created if missing).
        gold: the gold documents.
        systems: name -> (scores of :func:`pipeline.scoring.score_documents`, predicted
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
    blocks: list[Block] = [("h1", "Evaluation report"), ("p", _summary(gold, metrics, cfg))]
    blocks += _scores_section(gold, systems, cfg)
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


def _summary(gold: Sequence[Document], metrics: dict, cfg) -> str:
    n_pos = sum(1 for d in gold if d.events)
    n_ev = sum(len(d.events) for d in gold)
    parts = [f"{len(gold)} gold documents ({n_pos} with expulsions, {n_ev} events)"]
    for key in ("gold", "model_dir"):
        if metrics.get(key):
            parts.append(f"{key}: {metrics[key]}")
    if getattr(cfg, "reason", None):
        parts.append(f"decoding: {getattr(cfg, 'decoding', '-')}; REASON spans: "
                     + ("clause rule from the model's triggers (reason=rules)" if cfg.reason == "rules"
                        else "the tagger's own (reason=model)"))
    b = getattr(cfg, "bootstrap", 0)
    parts.append(f"confidence intervals: {b} bootstrap resamples of documents, seed "
                 f"{getattr(cfg, 'seed', None)}" if b else "confidence intervals: none (bootstrap = 0)")
    return "; ".join(parts) + "."


# ----------------------------------------------------------------------------- scores

def _lookup(d: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


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
    from pipeline.scoring_ci import bootstrap_ci

    resamples, seed = int(getattr(cfg, "bootstrap", 0) or 0), int(getattr(cfg, "seed", 13))
    cis = {n: bootstrap_ci(gold, pred, resamples=resamples, seed=seed) for n, (_, pred) in systems.items()}
    first_scores = next(iter(systems.values()))[0]
    gold_counts = {label: _lookup(first_scores, path) for label, path in METRIC_ROWS}

    def rows(cells) -> list[list[str]]:
        return [[label, str(gold_counts[label]["gold"]) if gold_counts[label] else "-", *cells(path)]
                for label, path in METRIC_ROWS]

    note = ("Tri-C: trigger span exact; Arg-C: (role, span) exact; Arg-C+: Arg-C and linked to a "
            "correct trigger of its gold event (ANNOTATION.md). Micro scores"
            + (f"; [low, high] = 95% bootstrap interval over {resamples} document resamples." if resamples
               else "; no confidence intervals (bootstrap = 0)."))
    blocks: list[Block] = [
        ("h2", "Scores"), ("p", note),
        ("table", ["metric", "gold"] + [f"{n} F1" for n in systems],
         rows(lambda path: [_cell(_lookup(s, path), _lookup(cis[n], path), "f1")
                            for n, (s, _) in systems.items()]))]
    for n, (s, _) in systems.items():
        blocks += [("h3", f"{n}: precision, recall, F1"),
                   ("table", ["metric", "gold", "P", "R", "F1"],
                    rows(lambda path, s=s, n=n: [_cell(_lookup(s, path), _lookup(cis[n], path), k)
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
    _plot_confusion(cm, labels, run_dir / "confusion_matrix.png")
    rows = [[labels[i], *(str(int(v)) for v in cm[i])] for i in range(len(labels))]
    return head + [("p", "Rows: gold role of each word; columns: predicted role (words of the "
                         "gold file's tokenisation)."),
                   ("img", "confusion_matrix.png", "token-level role confusion matrix"),
                   ("table", ["gold \\ predicted", *labels], rows)]


def _plot_confusion(cm, labels: list[str], path: Path) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)     # row-normalised colours
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("Token-level role confusion (colour: share of gold row)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _seqeval_section(metrics: dict) -> list[Block]:
    seq = metrics.get("seqeval")
    if not isinstance(seq, dict) or not seq:
        return []
    rows = [[label, *(f"{m.get(k, 0):.3f}" for k in ("precision", "recall", "f1-score")),
             str(int(m.get("support", 0)))] for label, m in seq.items() if isinstance(m, dict)]
    return [("h2", "Entity-level (seqeval, strict IOB2)"),
            ("table", ["label", "P", "R", "F1", "support"], rows)]


# ----------------------------------------------------------------------------- errors

def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def classify_errors(gold: Document, pred: Document) -> list[ErrorItem]:
    """The errors of one predicted document against its gold, by kind.

    Triggers: a gold trigger without an exact prediction is a *wrong boundary* when a
    predicted trigger overlaps it, else a *missed event*; a predicted trigger overlapping
    no gold trigger is a *spurious event*.  Arguments (distinct role and span): same span
    with another role is a *wrong role*, an overlapping span with the same role a *wrong
    boundary*, otherwise a *missed* or *spurious argument*.
    """
    g_spans, p_spans = gold.spans(), pred.spans()
    g_keys, p_keys = {s.key for s in g_spans}, {s.key for s in p_spans}
    items: list[ErrorItem] = []
    for g in (s for s in g_spans if s.key not in p_keys):
        trig = g.label == TRIGGER
        same_span = [p for p in p_spans if (p.start, p.end) == (g.start, g.end) and (p.label == TRIGGER) == trig]
        near = [p for p in p_spans if p.label == g.label and _overlaps(p, g)]
        if same_span and not trig:
            items.append(ErrorItem("wrong role", gold, g, same_span[0]))
        elif near:
            items.append(ErrorItem("wrong boundary", gold, g, near[0]))
        else:
            items.append(ErrorItem("missed event" if trig else "missed argument", gold, g, None))
    for p in (s for s in p_spans if s.key not in g_keys):
        trig = p.label == TRIGGER
        explained = any(((g.start, g.end) == (p.start, p.end) and not trig and g.label != TRIGGER)
                        or (g.label == p.label and _overlaps(g, p)) for g in g_spans)
        if not explained:
            items.append(ErrorItem("spurious event" if trig else "spurious argument", gold, None, p))
    return items


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


def _describe(item: ErrorItem) -> str:
    parts = []
    if item.gold:
        parts.append(f"gold {item.gold.label} \"{item.gold.text}\"")
    if item.pred:
        parts.append(f"predicted {item.pred.label} \"{item.pred.text}\"")
    return f"{item.doc.id}: " + ", ".join(parts)


def _non_overlapping(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if not out or s.start >= out[-1].end:
            out.append(s)
    return out


def highlight(text: str, window: tuple[int, int], spans: list[Span], mark) -> str:
    """``text[window]`` with each span replaced by ``mark(span_text, label)``; the plain
    pieces between spans pass through ``mark(piece, None)`` (escaping)."""
    start, end = window
    out, pos = [], start
    for s in _non_overlapping(spans):
        out.append(mark(text[pos:s.start], None))
        out.append(mark(text[s.start:s.end], s.label))
        pos = s.end
    out.append(mark(text[pos:end], None))
    return "".join(out).strip()


# ----------------------------------------------------------------------------- trigger scores

def trigger_outcomes(gold: Sequence[Document], pred: Sequence[Document]) -> tuple[list[tuple[float, bool]], int]:
    """(score, correct) for every scored predicted trigger, and the number of gold triggers."""
    gold_t = {(d.id, e.trigger.start, e.trigger.end) for d in gold for e in d.events}
    seen: set = set()
    out = []
    for d in pred:
        for e in d.events:
            key = (d.id, e.trigger.start, e.trigger.end)
            if e.trigger.score is not None and key not in seen:
                seen.add(key)
                out.append((float(e.trigger.score), key in gold_t))
    return out, len(gold_t)


def pr_curve(outcomes: list[tuple[float, bool]], n_gold: int) -> tuple[list[float], list[float], list[float]]:
    """Precision and recall of the triggers kept at each score threshold (high to low).

    Returns:
        ``(thresholds, precision, recall)``, one point per distinct score.
    """
    ranked = sorted(outcomes, key=lambda x: -x[0])
    thresholds, precision, recall, tp = [], [], [], 0
    for k, (score, ok) in enumerate(ranked, start=1):
        tp += ok
        if k < len(ranked) and ranked[k][0] == score:
            continue                              # ties enter together
        thresholds.append(score)
        precision.append(tp / k)
        recall.append(tp / n_gold if n_gold else 0.0)
    return thresholds, precision, recall


def _trigger_score_section(run_dir: Path, gold, pred, name: str) -> list[Block]:
    outcomes, n_gold = trigger_outcomes(gold, pred)
    head: list[Block] = [("h2", f"Trigger scores ({name})")]
    if not outcomes:
        return head + [("p", "Not available: the predicted triggers carry no score.")]
    _plot_score_hist(outcomes, run_dir / "trigger_scores.png")
    thr, prec, rec = pr_curve(outcomes, n_gold)
    _plot_pr(prec, rec, run_dir / "trigger_pr_curve.png")
    best = max(range(len(thr)), key=lambda i: _f1(prec[i], rec[i]))
    return head + [
        ("p", f"{len(outcomes)} predicted triggers, {sum(ok for _, ok in outcomes)} correct, "
              f"{n_gold} gold. Best trigger F1 over thresholds: {_f1(prec[best], rec[best]):.3f} "
              f"at score >= {thr[best]:.3f} (P {prec[best]:.3f}, R {rec[best]:.3f})."),
        ("img", "trigger_scores.png", "trigger score distribution, correct vs wrong"),
        ("img", "trigger_pr_curve.png", "trigger precision-recall curve over score thresholds"),
    ]


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _plot_score_hist(outcomes, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = [i / 20 for i in range(21)]
    ax.hist([s for s, ok in outcomes if ok], bins=bins, alpha=0.7, label="correct", color="#2a9d8f")
    ax.hist([s for s, ok in outcomes if not ok], bins=bins, alpha=0.7, label="wrong", color="#e76f51")
    ax.set_xlabel("trigger score")
    ax.set_ylabel("predicted triggers")
    ax.set_title("Predicted trigger scores")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_pr(precision: list[float], recall: list[float], path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(recall, precision, marker=".", drawstyle="steps-post")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Triggers: precision-recall over score threshold")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- fields

def _fields_section(metrics: dict) -> list[Block]:
    """Accuracy of normalised event fields (count, countries, dates) when measured."""
    head: list[Block] = [("h2", "Normalised event fields")]
    fields = metrics.get("fields")
    if not fields:
        return head + [("p", "Not measured: the metrics hold no \"fields\" entry (accuracy of "
                             "count, expelled_country, expeller_country, deadline_date).")]
    rows = []
    for name, v in fields.items():
        if isinstance(v, dict):
            acc = v.get("accuracy")
            n = v.get("total", v.get("n", v.get("support", "")))
            rows.append([str(name), f"{acc:.3f}" if isinstance(acc, (int, float)) else "-", str(n)])
        elif isinstance(v, (int, float)):
            rows.append([str(name), f"{v:.3f}", ""])
    return head + [("table", ["field", "accuracy", "n"], rows)]


# ----------------------------------------------------------------------------- renderers

_MD_SPECIAL = "\\`*_[]<>|#"


def md_escape(text: str) -> str:
    """Text safe inside Markdown: special characters escaped, line breaks flattened."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text).replace("\n", " ")


def _md_mark(style: str):
    def mark(piece: str, label: str | None) -> str:
        if label is None:
            return md_escape(piece)
        body = md_escape(piece)
        return f"**{body}**`{label}`" if style == "gold" else f"\\[{body}\\]`{label}`"
    return mark


def _html_mark(style: str):
    def mark(piece: str, label: str | None) -> str:
        if label is None:
            return html.escape(piece)
        colour = COLOURS.get(label, "#dddddd")
        css = f"background:{colour}" if style == "gold" else f"border:2px dashed {colour}"
        return (f'<mark class="{style}" style="{css}" title="{html.escape(label)}">{html.escape(piece)}'
                f"<sub>{html.escape(label)}</sub></mark>")
    return mark


def render_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + b[1])
        elif kind == "p":
            out.append(b[1])
        elif kind == "table":
            header, rows = b[1], b[2]
            cells = lambda r: "| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |"  # noqa: E731
            out.append("\n".join([cells(header), "|" + "---|" * len(header), *map(cells, rows)]))
        elif kind == "img":
            out.append(f"![{b[2]}]({b[1]})")
        elif kind == "example":
            item, window, g_spans, p_spans = b[1:]
            text = item.doc.text
            out.append(f"- {md_escape(_describe(item))}\n"
                       f"  - gold: {highlight(text, window, g_spans, _md_mark('gold'))}\n"
                       f"  - pred: {highlight(text, window, p_spans, _md_mark('pred'))}")
    return "\n\n".join(out) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:0.85em;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;
text-align:right}td:first-child,th:first-child{text-align:left}mark{padding:0 2px;border-radius:3px}
mark sub{font-size:0.65em;margin-left:2px}.ex{border-left:3px solid #ddd;padding:4px 10px;margin:8px 0}
.desc{font-size:0.85em;color:#555}img{max-width:100%}"""


def _html_block(b: Block, run_dir: Path) -> str:
    kind = b[0]
    if kind in ("h1", "h2", "h3", "p"):
        return f"<{kind}>{html.escape(b[1])}</{kind}>"
    if kind == "table":
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in b[1])
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in b[2])
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    if kind == "img":
        path = run_dir / b[1]
        if not path.is_file():
            return f"<p>[missing plot {html.escape(b[1])}]</p>"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'<p><img alt="{html.escape(b[2])}" src="data:image/png;base64,{data}"></p>'
    item, window, g_spans, p_spans = b[1:]
    text = item.doc.text
    return (f'<div class="ex"><div class="desc">{html.escape(_describe(item))}</div>'
            f"<div>gold: {highlight(text, window, g_spans, _html_mark('gold'))}</div>"
            f"<div>pred: {highlight(text, window, p_spans, _html_mark('pred'))}</div></div>")


def render_html(blocks: list[Block], run_dir: Path) -> str:
    """A self-contained page: styles inline, plots embedded as base64 PNG."""
    body = "\n".join(_html_block(b, Path(run_dir)) for b in blocks)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Evaluation report'
            f"</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n")
