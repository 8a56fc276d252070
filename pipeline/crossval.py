"""The cross-validation report: mean and spread over time-blocked folds, pooled figures,
recall per trigger form and per-epoch curves, for each recipe of a multirun.

A sweep such as ``expel-train experiment=crossval trainer.epochs=8,12`` has one job per
(recipe, fold); jobs are grouped by their overrides without ``data.fold``.  For each
recipe the report gives

- mean ± standard deviation (n - 1) over folds of Tri-C, Arg-C, Arg-C+ and per-role
  Arg-C F1 (each fold scored on its own held-out block of years);
- the same scores pooled: every gold document is held out exactly once, so the held-out
  predictions of all folds together are scored as one corpus;
- trigger recall per form (lower-cased trigger text) on the pooled predictions;
- held-out Arg-C and Tri-C after each epoch, mean over folds (``crossval_curves.png``),
  which is how the shipped epoch count is chosen.

Example:
    >>> md = write_crossval_report("outputs/train-multirun/2026-12-02_10-00-00")   # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from pipeline.errors import MissingFileError
from pipeline.schema import ROLES, Document
from pipeline.scoring import field_agreement, lookup, recall_by_trigger_form, score_documents

MAIN = {"Tri-C": ("trigger", "f1"), "Arg-C": ("argument", "f1"), "Arg-C+": ("argument_attached", "f1")}
ROLE_ROWS = {f"{r} (Arg-C)": ("per_role", r, "f1") for r in ROLES}
MIN_FORM = 3            # trigger forms with at least this many gold mentions are reported


@dataclass
class FoldRun:
    """One finished job: a fold of one recipe."""

    path: Path
    recipe: str
    fold: int
    config: dict[str, Any]
    scores: dict[str, Any]
    epochs: list[dict[str, Any]] = field(default_factory=list)
    seconds: float | None = None
    job: Path | None = None        # the fold job's folder, where ``path`` is a re-scoring inside it

    @property
    def job_dir(self) -> Path:
        return self.job or self.path


def _recipe(overrides: Sequence[str]) -> str:
    kept = [o for o in overrides if not o.startswith(("data.fold=", "experiment=", "hydra."))]
    return " ".join(sorted(kept)) or "(default recipe)"


def collect(multirun_dirs: str | Path | Sequence[str | Path]) -> list[FoldRun]:
    """The finished cross-validation jobs under one or more sweep folders (``scores.json``
    that is not in-sample, with Hydra's ``.hydra/config.yaml``).  With several folders,
    each recipe's name starts with its folder's name.

    Raises:
        MissingFileError: a folder is missing, or none holds a finished fold.
    """
    roots = [Path(multirun_dirs)] if isinstance(multirun_dirs, (str, Path)) else [Path(p) for p in multirun_dirs]
    runs = []
    for root in roots:
        if not root.is_dir():
            raise MissingFileError(f"multirun directory {str(root)!r} not found; pass the folder Hydra "
                                   "printed for the sweep (outputs/train-multirun/<date>)")
        prefix = f"{root.name}: " if len(roots) > 1 else ""
        runs.extend(_collect_one(root, prefix))
    if not runs:
        raise MissingFileError(f"no finished cross-validation fold under {', '.join(map(str, roots))}: expected "
                               "job folders with scores.json and .hydra/config.yaml (expel-train experiment=crossval)")
    return runs


def _collect_one(root: Path, prefix: str) -> list[FoldRun]:
    import yaml

    runs = []
    for scores_file in sorted(root.rglob("scores.json")):
        job = scores_file.parent
        cfg_file, ov_file = job / ".hydra" / "config.yaml", job / ".hydra" / "overrides.yaml"
        scores = json.loads(scores_file.read_text(encoding="utf-8"))
        if not cfg_file.is_file() or scores.get("in_sample"):
            continue
        cfg = _resolved_yaml(cfg_file)
        if not cfg.get("data", {}).get("folds"):
            continue
        overrides = yaml.safe_load(ov_file.read_text(encoding="utf-8")) if ov_file.is_file() else []
        epochs_file = job / "epochs.json"
        epochs = json.loads(epochs_file.read_text()) if epochs_file.is_file() else []
        runs.append(FoldRun(job, prefix + _recipe([str(o) for o in overrides or []]), int(cfg["data"]["fold"]),
                            cfg, scores, epochs, epochs[-1]["seconds"] if epochs else None))
    return runs


def _resolved_yaml(path: Path) -> dict[str, Any]:
    """A job's saved config with its interpolations (``${data.max_length}``) resolved."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(path), resolve=True) or {}  # type: ignore[return-value]


def _mean_std(values: Sequence[float]) -> dict[str, float]:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "n": n, "min": min(values), "max": max(values)}


def gold_by_id(cfg: dict[str, Any]) -> dict[str, Document]:
    from pipeline.corpus import load_gold

    files = list(cfg["data"]["train"]) + ([cfg["data"]["dev"]] if cfg["data"].get("dev") else [])
    return {d.id: d for d in load_gold(files)}


def pooled(runs: Sequence[FoldRun]) -> tuple[list[Document], list[Document]]:
    """Gold and held-out predictions of all folds of one recipe, as one corpus (the gold
    of a composite-article run is its own ``heldout_gold.jsonl``)."""
    from pipeline.formats.jsonl import read_events_jsonl

    by_id = gold_by_id(runs[0].config)
    gold, pred = [], []
    for r in sorted(runs, key=lambda r: r.fold):
        own = r.path / "heldout_gold.jsonl"
        own_gold = {d.id: d for d in read_events_jsonl(str(own))} if own.is_file() else by_id
        for d in read_events_jsonl(str(r.path / "heldout_predictions.jsonl")):
            pred.append(d)
            gold.append(own_gold[d.id])
    return gold, pred


# Tagger settings that act after training (decoding, rules, thresholds): a saved fold model
# can be tagged again with today's values of these, without retraining.
DECODING_KEYS = ("windows", "linking", "decoding", "reason", "consistency", "min_trigger_score", "verifier")


def current_decoding() -> dict[str, Any]:
    """Today's defaults of :data:`DECODING_KEYS` (``pipeline.config.TaggerConfig``)."""
    from pipeline.config import TaggerConfig

    base = TaggerConfig()
    return {k: getattr(base, k) for k in DECODING_KEYS}


def fold_tagger(run: FoldRun, **changes):
    """The saved model of a fold job with its own tagger settings (``changes`` on top).

    Raises:
        MissingFileError: the job saved no model (``save_model=true``; experiment=crossval does).
    """
    from dataclasses import replace

    from pipeline.config import TaggerConfig
    from pipeline.tagger import Tagger, resolve_settings

    model_dir = run.job_dir / "model"
    if not (model_dir / "model.safetensors").is_file():
        raise MissingFileError(f"{run.job_dir} has no saved model; run the sweep with save_model=true "
                               "(experiment=crossval does)")
    t = run.config.get("tagger", {})
    base = TaggerConfig(**{k: v for k, v in t.items() if k in TaggerConfig.__dataclass_fields__})
    return Tagger.from_dir(str(model_dir), resolve_settings(replace(base, **changes), model_dir))


def retagged_run(run: FoldRun, changes: dict[str, Any], name: str | None = None) -> FoldRun:
    """The fold's held-out documents tagged again by its saved model with ``changes``,
    written to ``<job>/retagged/<name>/``.  Without ``name`` the run keeps its recipe,
    curves and time (the same recipe, decoded as today); with one it is a recipe of its own
    (``<recipe> + <name>``, a decoding variant)."""
    from pipeline.evaluation import predict_and_score
    from pipeline.formats.jsonl import read_events_jsonl, write_events_jsonl

    by_id = gold_by_id(run.config)
    gold = [by_id[d.id] for d in read_events_jsonl(str(run.path / "heldout_predictions.jsonl"))]
    scores, pred = predict_and_score(fold_tagger(run, **changes), gold)
    out = run.job_dir / "retagged" / (name or "current").replace(" ", "_").replace("/", "-")
    out.mkdir(parents=True, exist_ok=True)
    write_events_jsonl(pred, str(out / "heldout_predictions.jsonl"))
    (out / "scores.json").write_text(json.dumps(scores, indent=1), encoding="utf-8")
    (out / "settings.json").write_text(json.dumps(changes, indent=1), encoding="utf-8")
    if name is None:
        return FoldRun(out, run.recipe, run.fold, run.config, scores, run.epochs, run.seconds, run.job_dir)
    return FoldRun(out, f"{run.recipe} + {name}", run.fold, run.config, scores, [], None, run.job_dir)


# The composite articles of evaluation are laid out with another seed than any training run's.
ARTICLE_SEED = 7001


def article_run(run: FoldRun, seed: int = ARTICLE_SEED, changes: dict[str, Any] | None = None) -> FoldRun:
    """The fold's held-out items composed into articles (:func:`pipeline.articles.articles_of`,
    3-5 items each, every item once) and tagged by the fold's saved model; written to
    ``<job>/articles/`` (gold and predictions) and returned as a run of its own."""
    import random

    from pipeline.articles import articles_of
    from pipeline.evaluation import predict_and_score
    from pipeline.formats.jsonl import read_events_jsonl, write_events_jsonl

    by_id = gold_by_id(run.config)
    items = [by_id[d.id] for d in read_events_jsonl(str(run.path / "heldout_predictions.jsonl"))]
    gold = articles_of(items, random.Random(f"{seed}:{run.fold}"))
    scores, pred = predict_and_score(fold_tagger(run, **(changes or {})), gold)
    out = run.job_dir / "articles"
    out.mkdir(parents=True, exist_ok=True)
    write_events_jsonl(gold, str(out / "heldout_gold.jsonl"))
    write_events_jsonl(pred, str(out / "heldout_predictions.jsonl"))
    (out / "scores.json").write_text(json.dumps(scores, indent=1), encoding="utf-8")
    return FoldRun(out, f"{run.recipe} · articles", run.fold, run.config, scores, [], None, run.job_dir)


def summarise(runs: Sequence[FoldRun]) -> dict[str, Any]:
    """Everything the report says about one recipe."""
    rows = {**MAIN, **ROLE_ROWS}
    folds = sorted(runs, key=lambda r: r.fold)
    per_fold = {name: [lookup(r.scores, path) for r in folds] for name, path in rows.items()}
    out: dict[str, Any] = {
        "folds": [r.fold for r in folds],
        "fold_scores": per_fold,
        "mean_std": {name: _mean_std(v) for name, v in per_fold.items() if None not in v},
        "seconds_per_fold": _mean_std([r.seconds for r in folds if r.seconds is not None])
        if any(r.seconds for r in folds) else None,
    }
    gold, pred = pooled(folds)
    scores = score_documents(gold, pred)
    out["pooled"] = {name: lookup(scores, path) for name, path in rows.items()}
    out["pooled_prf"] = {k: {m: scores[k][m] for m in ("precision", "recall", "f1")}
                         for k in ("trigger", "argument", "argument_attached")}
    out["role_recall"] = {r: scores["per_role"][r]["recall"] for r in ROLES}
    out["trigger_forms"] = recall_by_trigger_form(gold, pred, min_count=1)
    out["fields"] = field_agreement(gold, pred)
    seed = [(g, p) for g, p in zip(gold, pred) if g.id.startswith("seed-")]
    if seed:     # the founding article, a real multi-paragraph news story, on its own
        sg, sp = zip(*seed)
        s_scores = score_documents(list(sg), list(sp))
        out["seed_article"] = {name: lookup(s_scores, path) for name, path in {**MAIN, **ROLE_ROWS}.items()}
    out["curves"] = _curves(folds)
    return out


def _curves(folds: Sequence[FoldRun]) -> dict[str, list[float]]:
    """Mean held-out F1 after each epoch, over the folds that scored every epoch."""
    scored = [r.epochs for r in folds if r.epochs and all("scores" in e for e in r.epochs)]
    if not scored:
        return {}
    n = min(len(e) for e in scored)
    return {key: [sum(e[i]["scores"][key] for e in scored) / len(scored) for i in range(n)]
            for key in ("trigger", "argument", "argument_attached")}


def write_crossval_report(multirun_dirs: str | Path | Sequence[str | Path],
                          out_dir: str | Path | None = None, articles: bool = False,
                          retag: dict[str, Any] | None = None) -> Path:
    """Write ``crossval.md``, ``crossval.json`` and ``crossval_curves.png`` (into ``out_dir``,
    default the first sweep folder).

    Args:
        articles: also score every fold on its held-out items composed into articles
            (:func:`article_run`; needs the saved fold models), a recipe row of its own.
        retag: tag every fold's held-out documents again with these decoding settings
            (:func:`retagged_run`, e.g. :func:`current_decoding`), so that a sweep trained
            before a decoding change reports the recipe as it runs today.

    Returns:
        The path of ``crossval.md``.
    """
    jobs = collect(multirun_dirs)
    runs = [retagged_run(r, retag) for r in jobs] if retag is not None else jobs
    if articles:
        runs = runs + [article_run(r, changes=retag) for r in jobs]
    recipes: dict[str, list[FoldRun]] = {}
    for r in runs:
        recipes.setdefault(r.recipe, []).append(r)
    summary = {name: summarise(group) for name, group in sorted(recipes.items())}
    first = multirun_dirs if isinstance(multirun_dirs, (str, Path)) else multirun_dirs[0]
    out = Path(out_dir) if out_dir else Path(first)
    out.mkdir(parents=True, exist_ok=True)
    (out / "crossval.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    plot_curves(summary, out / "crossval_curves.png")
    md = out / "crossval.md"
    md.write_text(render_markdown(summary, runs, retag), encoding="utf-8")
    return md


def _ms(m: dict[str, float] | None) -> str:
    return f"{m['mean']:.3f} ± {m['std']:.3f}" if m else "-"


def render_markdown(summary: dict[str, Any], runs: Sequence[FoldRun],
                    retag: dict[str, Any] | None = None) -> str:
    first = next(iter(summary.values()))
    folds = {r.fold: r for r in runs if (r.job_dir / "split.json").is_file()}   # the jobs, not their article runs
    lines = ["# Time-blocked cross-validation", "",
             f"{len(summary)} recipe(s), {len(runs)} finished fold job(s). Each fold holds out one "
             "contiguous block of years of all gold (train + dev + seed) and trains on the rest; "
             "mean ± standard deviation (n - 1) over folds, then the pooled score of all held-out "
             "predictions together (every gold document is held out once).", ""]
    if retag is not None:
        lines += ["Every fold's held-out documents were tagged again by the fold's saved model with "
                  "the decoding settings " + ", ".join(f"`tagger.{k}={v}`" for k, v in retag.items())
                  + " (`--retag`): the recipe as it runs today, whatever the sweep decoded with.", ""]
    lines += ["| fold | held-out years |", "|---|---|"]
    for k in sorted(folds):
        split = folds[k].job_dir / "split.json"
        info = json.loads(split.read_text()) if split.is_file() else {}
        years = "-".join(dict.fromkeys(info.get("years", []))) or "?"
        lines.append(f"| {k} | {years} ({info.get('heldout_docs', '?')} documents, "
                     f"{info.get('heldout_events', '?')} events) |")
    lines += ["", "## Scores", "", "| recipe | folds | " + " | ".join(MAIN) + " | pooled Tri-C | pooled Arg-C | "
              "pooled Arg-C+ | s / fold |", "|---|---|" + "---|" * (len(MAIN) + 4)]
    for name, s in summary.items():
        secs = f"{s['seconds_per_fold']['mean']:.0f}" if s["seconds_per_fold"] else "-"
        lines.append(f"| `{name}` | {len(s['folds'])} | " + " | ".join(_ms(s["mean_std"].get(k)) for k in MAIN)
                     + " | " + " | ".join(f"{s['pooled'][k]:.3f}" for k in MAIN) + f" | {secs} |")
    lines += ["", "## Per role (Arg-C F1, mean ± std over folds; pooled recall)", "",
              "| recipe | " + " | ".join(ROLES) + " |", "|---|" + "---|" * len(ROLES)]
    for name, s in summary.items():
        lines.append(f"| `{name}` | " + " | ".join(
            f"{_ms(s['mean_std'].get(f'{r} (Arg-C)'))} (R {s['role_recall'][r]:.2f})" for r in ROLES) + " |")
    forms = [f for f, v in first["trigger_forms"].items() if v["gold"] >= MIN_FORM]
    lines += ["", f"## Trigger recall per form (pooled; forms with >= {MIN_FORM} gold mentions)", "",
              "| recipe | " + " | ".join(f"{f} ({first['trigger_forms'][f]['gold']})" for f in forms) + " |",
              "|---|" + "---|" * len(forms)]
    for name, s in summary.items():
        cells = [f"{s['trigger_forms'][f]['recall']:.2f}" if f in s["trigger_forms"] else "-" for f in forms]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    rare = {f: v for f, v in first["trigger_forms"].items() if v["gold"] < MIN_FORM}
    if rare:
        lines += ["", "Rarer forms (first recipe, found / gold): " + ", ".join(
            f"{f} {v['found']}/{v['gold']}" for f, v in rare.items()) + "."]
    plain = [n for n in summary if not n.endswith(" · articles")]
    if any(f"{n} · articles" in summary for n in plain):
        cols = ["Tri-C", "Arg-C", "Arg-C+", "REASON (Arg-C)"]
        lines += ["", "## Articles and summaries", "",
                  "Each fold's held-out items composed into news articles (3-5 items each: headline, "
                  "dateline, paragraphs, curly quotes, wrapped lines; pipeline/articles.py, a seed no "
                  "training run uses), tagged by the same fold model; mean ± std over folds.", "",
                  "| recipe | text | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
        for n in plain:
            for label, key in (("summaries", n), ("articles", f"{n} · articles")):
                if key in summary:
                    lines.append(f"| `{n}` | {label} | " + " | ".join(
                        _ms(summary[key]["mean_std"].get(c)) for c in cols) + " |")
    seeds = {n: s["seed_article"] for n, s in summary.items() if s.get("seed_article")}
    if seeds:
        lines += ["", "## The seed article (a real multi-paragraph news story, held out in its fold)", "",
                  "| recipe | Tri-C | Arg-C | Arg-C+ | REASON |", "|---|---|---|---|---|"]
        for n, s in seeds.items():
            lines.append(f"| `{n}` | {s['Tri-C']:.3f} | {s['Arg-C']:.3f} | {s['Arg-C+']:.3f} | "
                         f"{s['REASON (Arg-C)']:.3f} |")
    names = list(first.get("fields", {}))
    if names:
        lines += ["", "## Event record fields (pooled; on gold events whose trigger was found)", "",
                  "Agreement of the field in the record built from the predicted spans with the one built "
                  "from the gold spans (agree / gold events that state it).", "",
                  "| recipe | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for name, s in summary.items():
            f = s.get("fields", {})
            lines.append(f"| `{name}` | " + " | ".join(
                f"{f[k]['accuracy']:.3f} ({f[k]['agree']}/{f[k]['n']})" if f.get(k, {}).get("n") else "-"
                for k in names) + " |")
    lines += ["", "## Held-out F1 after each epoch (mean over folds)", "",
              "![curves](crossval_curves.png)", ""]
    for name, s in summary.items():
        arg = s["curves"].get("argument")
        if arg:
            best = max(range(len(arg)), key=lambda i: arg[i])
            lines.append(f"- `{name}`: best mean Arg-C {arg[best]:.3f} after epoch {best + 1}; "
                         f"last ({len(arg)}) {arg[-1]:.3f}; by epoch: "
                         + ", ".join(f"{v:.3f}" for v in arg))
    lines += ["", "## Folds", "", "| recipe | fold | Tri-C | Arg-C | Arg-C+ | job |", "|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (r.recipe, r.fold)):
        lines.append(f"| `{r.recipe}` | {r.fold} | " + " | ".join(
            f"{lookup(r.scores, p):.3f}" for p in MAIN.values()) + f" | {r.job_dir.name} |")
    return "\n".join(lines) + "\n"


def plot_curves(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, key, title in ((axes[0], "argument", "held-out Arg-C F1"), (axes[1], "trigger", "held-out Tri-C F1")):
        for name, s in summary.items():
            ys = s["curves"].get(key)
            if ys:
                ax.plot(range(1, len(ys) + 1), ys, marker="o", markersize=3, label=name[:60])
        ax.set_xlabel("epoch")
        ax.set_title(title + " (mean over folds)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("F1")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
