"""The cross-validation report as blocks: ``crossval.md`` and a self-contained
``crossval.html``, in the form of the evaluation report (:mod:`pipeline.report.sections`).

Out-of-sample figures first: where they come from (commit, date, folds, command), the
scores of every recipe as mean ± standard deviation over folds and pooled with 95%
bootstrap intervals, the composed-article run of a recipe as the column beside it and
the baselines on the same folds; then per role, per trigger form, the seed article, the
record fields, the role confusion, the errors by kind across folds, the held-out curve
per epoch and every fold.

The numbers are computed by :mod:`pipeline.evaluation.crossval`; this module only lays them out.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from pipeline.report.analysis import ErrorItem, classify_errors, event_kind
from pipeline.report.estimate import MAIN, ROLE_ROWS
from pipeline.report.render import Block, render_html, render_markdown
from pipeline.schema import ROLES, TRIGGER, Document
from pipeline.evaluation.scoring import lookup
MIN_FORM = 3            # trigger forms with at least this many gold mentions are reported
ARTICLES = " · articles"
BASELINE = " (baseline)"
EXAMPLES = 5            # error examples shown per kind


def ms(m: dict[str, float] | None) -> str:
    """``mean ± std`` of a :func:`pipeline.evaluation.crossval._mean_std` record, ``-`` when absent."""
    return f"{m['mean']:.3f} ± {m['std']:.3f}" if m else "-"


def write_pages(out: Path, summary: dict[str, Any], runs: Sequence, pooled: dict[str, tuple[list, list]],
                intervals: dict[str, dict], provenance: dict[str, Any], retag: dict[str, Any] | None,
                token_level: dict[str, Any] | None = None) -> Path:
    """Write ``crossval.md`` and ``crossval.html`` into ``out``; returns the Markdown path.

    Args:
        summary: recipe name -> :func:`pipeline.evaluation.crossval.summarise` record.
        runs: every fold run (recipes, their article runs, baselines).
        pooled: recipe name -> (gold, predictions) of all its folds together.
        intervals: recipe name -> :func:`pipeline.evaluation.intervals.bootstrap_ci` of the pooled run.
        provenance: ``commit``, ``date``, ``command``, ``machine``, ``folds`` (what was run).
        retag: the decoding settings the held-out documents were tagged again with, if any.
        token_level: ``{"y_true", "y_pred"}`` word tags of the first recipe, for the confusion.
    """
    blocks = report_blocks(out, summary, runs, pooled, intervals, provenance, retag, token_level)
    md = Path(out) / "crossval.md"
    md.write_text(render_markdown(blocks), encoding="utf-8")
    (Path(out) / "crossval.html").write_text(render_html(blocks, Path(out), title="Cross-validation report"),
                                            encoding="utf-8")
    return md


def report_blocks(out: Path, summary, runs, pooled, intervals, provenance, retag, token_level) -> list[Block]:
    recipes = [n for n in summary if not n.endswith((ARTICLES, BASELINE))]
    blocks: list[Block] = [("h1", "Time-blocked cross-validation")]
    blocks += _provenance(summary, runs, provenance, retag)
    blocks += _scores(summary, intervals, recipes)
    blocks += _per_role(summary)
    blocks += _forms(summary)
    blocks += _articles(summary, recipes)
    blocks += _seed(summary)
    blocks += _fields(summary)
    if recipes:
        from pipeline.report.sections import _confusion_section

        blocks += _confusion_section(Path(out), token_level or {})
        blocks += _errors(recipes[0], pooled)
    blocks += _curves(summary)
    blocks += _folds(runs)
    return blocks


def _provenance(summary, runs, provenance, retag) -> list[Block]:
    folds = {r.fold: r for r in runs if (r.job_dir / "split.json").is_file()}
    jobs = len({str(r.job_dir) for r in runs})
    text = (f"{len(summary)} row(s) from {jobs} finished fold job(s). Each fold holds out one contiguous "
            "block of years of all gold (train + dev + seed) and trains on the rest; mean ± standard "
            "deviation (n - 1) over folds, then the pooled score of all held-out predictions together "
            "(every gold document is held out once). All figures are out of sample.")
    where = "; ".join(f"{k}: {v}" for k, v in provenance.items() if v)
    blocks: list[Block] = [("p", text), ("p", f"Provenance: {where}.")]
    if retag is not None:
        blocks.append(("p", "Every fold's held-out documents were tagged again by the fold's saved model with "
                            "the decoding settings " + ", ".join(f"`tagger.{k}={v}`" for k, v in retag.items())
                       + " (`--retag`): the recipe as it runs today, whatever the sweep decoded with."))
    rows = []
    import json

    for k in sorted(folds):
        split = folds[k].job_dir / "split.json"
        info = json.loads(split.read_text()) if split.is_file() else {}
        years = "-".join(dict.fromkeys(info.get("years", []))) or "?"
        rows.append([str(k), f"{years} ({info.get('heldout_docs', '?')} documents, "
                             f"{info.get('heldout_events', '?')} events)"])
    return blocks + [("table", ["fold", "held-out years"], rows)]


def _scores(summary, intervals, recipes) -> list[Block]:
    rows = []
    for name, s in summary.items():
        secs = f"{s['seconds_per_fold']['mean']:.0f}" if s.get("seconds_per_fold") else "-"
        rows.append([f"`{name}`", str(len(s["folds"])), *(ms(s["mean_std"].get(k)) for k in MAIN),
                     *(f"{s['pooled'][k]:.3f}" for k in MAIN), secs])
    blocks: list[Block] = [
        ("h2", "Scores"),
        ("p", "Tri-C: trigger span exact; Arg-C: (role, span) exact; Arg-C+: Arg-C and linked to a correct "
              "trigger of its gold event. A row ending in “· articles” is the same fold models on the "
              "held-out items composed into news articles; “(baseline)” rows are the lexicon rules and the "
              "feature tagger, the latter trained on each fold's training side (gold only). The lexicon "
              "rules learn nothing from the folds but were written while reading all of the gold, so "
              "their figures are in-sample in spirit."),
        ("table", ["recipe", "folds", *MAIN, *(f"pooled {k}" for k in MAIN), "s / fold"], rows)]
    metric_rows = {**MAIN, **ROLE_ROWS}
    names = [n for n in summary if n in intervals]
    if names:
        def cell(n: str, path) -> str:
            v = lookup(summary[n]["pooled_scores"], path)
            ci = lookup(intervals[n], path)
            return f"{v:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{v:.3f}"

        blocks += [("h3", "Pooled F1 with 95% bootstrap intervals"),
                   ("p", "Every held-out prediction of all folds scored as one corpus; [low, high] from "
                         "resampling documents (1,000 resamples)."),
                   ("table", ["metric", *(f"`{n}`" for n in names)],
                    [[label, *(cell(n, path) for n in names)] for label, path in metric_rows.items()])]
    return blocks


def _per_role(summary) -> list[Block]:
    rows = [[f"`{n}`", *(f"{ms(s['mean_std'].get(f'{r} (Arg-C)'))} (R {s['role_recall'][r]:.2f})" for r in ROLES)]
            for n, s in summary.items()]
    return [("h2", "Per role (Arg-C F1, mean ± std over folds; pooled recall)"), ("table", ["recipe", *ROLES], rows)]


def _forms(summary) -> list[Block]:
    first = next(iter(summary.values()))
    forms = [f for f, v in first["trigger_forms"].items() if v["gold"] >= MIN_FORM]
    rows = [[f"`{n}`", *(f"{s['trigger_forms'][f]['recall']:.2f}" if f in s["trigger_forms"] else "-"
                         for f in forms)] for n, s in summary.items()]
    blocks: list[Block] = [("h2", f"Trigger recall per form (pooled; forms with >= {MIN_FORM} gold mentions)"),
                           ("table", ["recipe", *(f"{f} ({first['trigger_forms'][f]['gold']})" for f in forms)],
                            rows)]
    rare = {f: v for f, v in first["trigger_forms"].items() if v["gold"] < MIN_FORM}
    if rare:
        blocks.append(("p", "Rarer forms (first row, found / gold): "
                            + ", ".join(f"{f} {v['found']}/{v['gold']}" for f, v in rare.items()) + "."))
    return blocks


def _articles(summary, recipes) -> list[Block]:
    if not any(n + ARTICLES in summary for n in recipes):
        return []
    cols = ["Tri-C", "Arg-C", "Arg-C+", "REASON (Arg-C)"]
    rows = [[f"`{n}`", label, *(ms(summary[key]["mean_std"].get(c)) for c in cols)]
            for n in recipes for label, key in (("summaries", n), ("articles", n + ARTICLES)) if key in summary]
    return [("h2", "Articles and summaries"),
            ("p", "Each fold's held-out items composed into news articles (3-5 items each: headline, dateline, "
                  "paragraphs, curly quotes, wrapped lines; pipeline/training/articles.py, a seed no training run uses), "
                  "tagged by the same fold model; mean ± std over folds."),
            ("table", ["recipe", "text", *cols], rows)]


def _seed(summary) -> list[Block]:
    seeds = {n: s["seed_article"] for n, s in summary.items() if s.get("seed_article")}
    if not seeds:
        return []
    return [("h2", "The seed article (a real multi-paragraph news story, held out in its fold)"),
            ("table", ["recipe", "Tri-C", "Arg-C", "Arg-C+", "REASON"],
             [[f"`{n}`", *(f"{s[k]:.3f}" for k in ("Tri-C", "Arg-C", "Arg-C+", "REASON (Arg-C)"))]
              for n, s in seeds.items()])]


def _fields(summary) -> list[Block]:
    first = next(iter(summary.values()))
    names = list(first.get("fields", {}))
    if not names:
        return []
    rows = []
    for n, s in summary.items():
        f = s.get("fields", {})
        rows.append([f"`{n}`", *(f"{f[k]['accuracy']:.3f} ({f[k]['agree']}/{f[k]['n']})" if f.get(k, {}).get("n")
                                 else "-" for k in names)])
    return [("h2", "Event record fields (pooled; on gold events whose trigger was found)"),
            ("p", "Agreement of the field in the record built from the predicted spans with the one built from "
                  "the gold spans (agree / gold events that state it)."),
            ("table", ["recipe", *names], rows)]


def error_kinds(gold: Sequence[Document], pred: Sequence[Document]) -> dict[str, list[ErrorItem]]:
    """Every error of ``pred`` grouped by the kinds that matter for this event: a missed or
    spurious event by what its sentence is about (:func:`pipeline.report.analysis.event_kind`:
    non-officials, threats and calls, entry bans, recalls and summons, expelled from an
    organisation, other mentions), argument errors as span boundaries, wrong roles, missed and
    spurious arguments."""
    by_id = {d.id: d for d in pred}
    groups: dict[str, list[ErrorItem]] = {}
    for g in gold:
        for item in classify_errors(g, by_id.get(g.id, Document(g.id, g.text))):
            span = item.gold or item.pred
            if span is not None and span.label == TRIGGER and item.kind in ("missed event", "spurious event"):
                key = f"{item.kind}: {event_kind(g.text, span)}"
            elif item.kind == "wrong boundary":
                key = "span boundaries" + (" (trigger)" if span is not None and span.label == TRIGGER else "")
            else:
                key = item.kind
            groups.setdefault(key, []).append(item)
    return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))


def _errors(name: str, pooled) -> list[Block]:
    from pipeline.report.sections import _example_block

    if name not in pooled:
        return []
    gold, pred = pooled[name]
    groups = error_kinds(gold, pred)
    art = pooled.get(name + ARTICLES)
    art_counts = Counter({k: len(v) for k, v in error_kinds(*art).items()}) if art else None
    header = ["kind", "summaries"] + (["articles"] if art_counts is not None else [])
    keys = list(groups) + [k for k in (art_counts or {}) if k not in groups]
    rows = [[k, str(len(groups.get(k, [])))] + ([str(art_counts[k])] if art_counts is not None else []) for k in keys]
    by_id = {d.id: d for d in pred}
    blocks: list[Block] = [
        ("h2", f"Errors by kind across folds (`{name}`)"),
        ("p", "Missed and spurious events by what their sentence is about (non-officials, threats and calls, "
              "entry bans, recalls and summons, expulsions from an organisation: the mentions the annotation "
              "guide keeps out or in), argument errors by kind. Gold spans in bold or solid marks, "
              f"predicted in [brackets] or dashed marks; up to {EXAMPLES} examples a kind."),
        ("table", header, rows)]
    for kind, items in groups.items():
        blocks.append(("h3", f"{kind} ({len(items)})"))
        blocks += [_example_block(item, by_id.get(item.doc.id)) for item in items[:EXAMPLES]]
    return blocks


def _curves(summary) -> list[Block]:
    lines = []
    for n, s in summary.items():
        arg = s["curves"].get("argument")
        if arg:
            best = max(range(len(arg)), key=lambda i: arg[i])
            lines.append(f"`{n}`: best mean Arg-C {arg[best]:.3f} after epoch {best + 1}; last ({len(arg)}) "
                         f"{arg[-1]:.3f}; by epoch: " + ", ".join(f"{v:.3f}" for v in arg) + ".")
    return [("h2", "Held-out F1 after each epoch (mean over folds)"),
            ("img", "crossval_curves.png", "held-out Arg-C and Tri-C after each epoch"),
            *(("p", line) for line in lines)]


def _folds(runs) -> list[Block]:
    rows = [[f"`{r.recipe}`", str(r.fold), *(f"{lookup(r.scores, p):.3f}" for p in MAIN.values()), r.job_dir.name]
            for r in sorted(runs, key=lambda r: (r.recipe, r.fold))]
    return [("h2", "Folds"), ("table", ["recipe", "fold", *MAIN, "job"], rows)]
