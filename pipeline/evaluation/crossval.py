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
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from pipeline.errors import MissingFileError
from pipeline.report.crossval import ARTICLES, BASELINE, MAIN, ROLE_ROWS, write_pages
from pipeline.schema import ROLES, Document
from pipeline.evaluation.scoring import field_agreement, lookup, mean_std, recall_by_trigger_form, score_documents

log = logging.getLogger(__name__)


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


def gold_by_id(cfg: dict[str, Any]) -> dict[str, Document]:
    from pipeline.training.corpus import load_gold

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
DECODING_KEYS = ("windows", "paragraphs", "linking", "decoding", "reason", "consistency", "min_trigger_score", "verifier")


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
    t = {"windows": "document", "paragraphs": "all", **(run.config.get("tagger") or {})}   # keys newer than the sweep: as it ran
    base = TaggerConfig(**{k: v for k, v in t.items() if k in TaggerConfig.__dataclass_fields__})
    return Tagger.from_dir(str(model_dir), resolve_settings(replace(base, **changes), model_dir))


def retagged_run(run: FoldRun, changes: dict[str, Any], name: str | None = None) -> FoldRun:
    """The fold's held-out documents tagged again by its saved model with ``changes``,
    written to ``<job>/retagged/<name>/``.  Without ``name`` the run keeps its recipe,
    curves and time (the same recipe, decoded as today); with one it is a recipe of its own
    (``<recipe> + <name>``, a decoding variant)."""
    from pipeline.evaluation.runs import predict_and_score
    from pipeline.formats.jsonl import read_events_jsonl, write_events_jsonl

    by_id = gold_by_id(run.config)
    gold = [by_id[d.id] for d in read_events_jsonl(str(run.path / "heldout_predictions.jsonl"))]
    scores, pred = predict_and_score(fold_tagger(run, **changes), gold)
    out = run.job_dir / "retagged" / (name or "current").replace(" ", "_").replace("/", "-")
    out.mkdir(parents=True, exist_ok=True)
    write_events_jsonl(pred, str(out / "heldout_predictions.jsonl"))
    (out / "scores.json").write_text(json.dumps(scores, indent=1), encoding="utf-8")
    (out / "settings.json").write_text(json.dumps(changes, indent=1), encoding="utf-8")
    config = {**run.config, "tagger": {**(run.config.get("tagger") or {}), **changes}}   # as decoded here
    if name is None:
        return FoldRun(out, run.recipe, run.fold, config, scores, run.epochs, run.seconds, run.job_dir)
    return FoldRun(out, f"{run.recipe} + {name}", run.fold, config, scores, [], None, run.job_dir)


# The composite articles of evaluation are laid out with another seed than any training run's.
ARTICLE_SEED = 7001


def article_run(run: FoldRun, seed: int = ARTICLE_SEED, changes: dict[str, Any] | None = None) -> FoldRun:
    """The fold's held-out items composed into articles (:func:`pipeline.training.articles.articles_of`,
    3-5 items each, every item once) and tagged by the fold's saved model; written to
    ``<job>/articles/`` (gold and predictions) and returned as a run of its own."""
    import random

    from pipeline.training.articles import articles_of
    from pipeline.evaluation.runs import predict_and_score
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
    return FoldRun(out, f"{run.recipe}{ARTICLES}", run.fold, run.config, scores, [], None, run.job_dir)


def summarise(runs: Sequence[FoldRun]) -> dict[str, Any]:
    """Everything the report says about one recipe."""
    rows = {**MAIN, **ROLE_ROWS}
    folds = sorted(runs, key=lambda r: r.fold)
    per_fold = {name: [lookup(r.scores, path) for r in folds] for name, path in rows.items()}
    out: dict[str, Any] = {
        "folds": [r.fold for r in folds],
        "fold_scores": per_fold,
        "mean_std": {name: mean_std(v) for name, v in per_fold.items() if None not in v},
        "seconds_per_fold": mean_std([r.seconds for r in folds if r.seconds is not None])
        if any(r.seconds for r in folds) else None,
    }
    gold, pred = pooled(folds)
    scores = score_documents(gold, pred)
    out["pooled"] = {name: lookup(scores, path) for name, path in rows.items()}
    out["pooled_scores"] = scores
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


def baseline_runs(run: FoldRun) -> list[FoldRun]:
    """The two baselines (:mod:`pipeline.baselines`) on the fold's held-out documents: the
    lexicon rules, and the feature tagger trained on the fold's gold training side (not the
    synthetic text); written to ``<job>/baselines/<name>/``."""
    from pipeline.baselines import FeatureTagger, LexiconTagger
    from pipeline.formats.jsonl import read_events_jsonl, write_events_jsonl

    by_id = gold_by_id(run.config)
    held = [by_id[d.id] for d in read_events_jsonl(str(run.job_dir / "heldout_predictions.jsonl"))]
    held_ids = {d.id for d in held}
    blank = [Document(id=d.id, text=d.text, meta=dict(d.meta)) for d in held]
    train = [d for i, d in by_id.items() if i not in held_ids]
    seed = int(run.config.get("trainer", {}).get("seed", 13))
    out = []
    for name, predict in (("lexicon rules", lambda: LexiconTagger().predict(blank)),
                          ("feature tagger", lambda: FeatureTagger.train(train, seed=seed).predict(blank))):
        pred = predict()
        scores = score_documents(held, pred)
        folder = run.job_dir / "baselines" / name.replace(" ", "_")
        folder.mkdir(parents=True, exist_ok=True)
        write_events_jsonl(pred, str(folder / "heldout_predictions.jsonl"))
        (folder / "scores.json").write_text(json.dumps(scores, indent=1), encoding="utf-8")
        out.append(FoldRun(folder, name + BASELINE, run.fold, run.config, scores, [], None, run.job_dir))
    return out


def write_crossval_report(multirun_dirs: str | Path | Sequence[str | Path],
                          out_dir: str | Path | None = None, articles: bool = False,
                          retag: dict[str, Any] | None = None, baselines: bool = False,
                          command: str | None = None) -> Path:
    """Write ``crossval.md``, ``crossval.html``, ``crossval.json``, ``estimate.json`` and
    ``crossval_curves.png`` (into ``out_dir``, default the first sweep folder).

    Args:
        articles: also score every fold on its held-out items composed into articles
            (:func:`article_run`; needs the saved fold models), a recipe row of its own.
        retag: tag every fold's held-out documents again with these decoding settings
            (:func:`retagged_run`, e.g. :func:`current_decoding`), so that a sweep trained
            before a decoding change reports the recipe as it runs today.
        baselines: also run the lexicon rules and the feature tagger on the same folds.
        command: the command that made the report, for its provenance.

    Returns:
        The path of ``crossval.md``.
    """
    jobs = collect(multirun_dirs)
    runs = [retagged_run(r, retag) for r in jobs] if retag is not None else list(jobs)
    if articles:
        runs += [article_run(r, changes=retag) for r in jobs]
    if baselines:
        runs += [b for r in jobs for b in baseline_runs(r)]
    first = multirun_dirs if isinstance(multirun_dirs, (str, Path)) else multirun_dirs[0]
    out = Path(out_dir) if out_dir else Path(first)
    roots = [first] if isinstance(multirun_dirs, (str, Path)) else list(multirun_dirs)
    return report_runs(runs, out, retag=retag, provenance=provenance(jobs, command, roots))


def report_runs(runs: Sequence[FoldRun], out: Path, retag: dict[str, Any] | None = None,
                provenance: dict[str, Any] | None = None, resamples: int = 1000) -> Path:
    """The report of finished fold runs (any mix of recipes, article runs and baselines)."""
    from pipeline.evaluation.intervals import bootstrap_ci

    groups: dict[str, list[FoldRun]] = {}
    for r in runs:
        groups.setdefault(r.recipe, []).append(r)
    order = sorted(groups, key=lambda n: (n.endswith(BASELINE), n.removesuffix(ARTICLES), n.endswith(ARTICLES)))
    summary = {name: summarise(groups[name]) for name in order}
    together = {name: pooled(groups[name]) for name in order}
    intervals = {name: bootstrap_ci(*together[name], resamples=resamples, seed=13) for name in order}
    out.mkdir(parents=True, exist_ok=True)
    (out / "crossval.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    plot_curves(summary, out / "crossval_curves.png")
    recipes = [n for n in order if not n.endswith((ARTICLES, BASELINE))]
    prov = dict(provenance or {})
    estimates = [estimate_of(name, groups[name], summary, intervals, retag, prov) for name in recipes]
    (out / ESTIMATE_FILE).write_text(json.dumps(estimates, indent=1), encoding="utf-8")
    tl = _token_level(groups[recipes[0]], together[recipes[0]]) if recipes else None
    return write_pages(out, summary, runs, together, intervals, prov, retag, tl)


def _token_level(runs: Sequence[FoldRun], gold_pred) -> dict[str, Any] | None:
    """Word tags of a recipe's pooled predictions, with its first saved fold model's tokenizer."""
    from pipeline.evaluation.runs import token_level

    model = next((r.job_dir / "model" for r in runs if (r.job_dir / "model" / "tokenizer.json").is_file()), None)
    if model is None:
        return None
    from pipeline.tagger.loading import load_tokenizer

    gold, pred = gold_pred
    return token_level(gold, pred, load_tokenizer(str(model)))


# ----------------------------------------------------------------------------- estimates

# What makes two training runs the same recipe: the encoder, the training settings, the
# augmentation and the data layout; not the fold, the output folders, the seed, threads or
# batch size of scoring, nor early stopping (which needs a held-out set the shipped
# training has not got).
_NOT_RECIPE = {"data": {"fold", "folds", "dev"},
               "trainer": {"seed", "threads", "eval_batch_size", "early_stopping_patience", "score_each_epoch"}}
ESTIMATE_FILE = "estimate.json"


def recipe_of(cfg: dict[str, Any]) -> dict[str, Any]:
    """The recipe of a train config (a plain dict): ``model``, ``trainer``, ``augment`` and
    ``data`` without the keys that do not change what is learned (:data:`_NOT_RECIPE`),
    and the decoding settings of ``tagger`` (:data:`DECODING_KEYS`)."""
    out: dict[str, Any] = {}
    for group in ("model", "trainer", "augment", "data"):
        values = cfg.get(group) or {}
        out[group] = {k: v for k, v in sorted(values.items()) if k not in _NOT_RECIPE.get(group, set())}
    t = cfg.get("tagger") or {}
    out["tagger"] = {k: t[k] for k in DECODING_KEYS if k in t}
    return out


def recipe_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """``key (a vs b)`` for every recipe setting where ``a`` and ``b`` differ."""
    out = []
    for group in sorted(set(a) | set(b)):
        ga, gb = a.get(group, {}), b.get(group, {})
        for k in sorted(set(ga) | set(gb)):
            if ga.get(k) != gb.get(k):
                out.append(f"{group}.{k} ({ga.get(k, 'unset')} vs {gb.get(k, 'unset')})")
    return out


def estimate_of(name: str, runs: Sequence[FoldRun], summary: dict[str, Any], intervals: dict[str, Any],
                retag: dict[str, Any] | None, provenance: dict[str, Any]) -> dict[str, Any]:
    """What a model card and an evaluation report quote of a cross-validated recipe."""
    cfg = dict(runs[0].config)
    if retag is not None:
        cfg["tagger"] = {**(cfg.get("tagger") or {}), **retag}
    recipe = name.split(": ", 1)[1] if ": " in name else name      # several sweeps: "folder: recipe"
    provenance = {**provenance, "training": "expel-train experiment=crossval"
                  + ("" if recipe == "(default recipe)" else " " + recipe.split(" + ")[0])}
    s = summary[name]
    art = summary.get(name + ARTICLES)
    return {
        "recipe_name": name,
        "recipe": recipe_of(cfg),
        "folds": len(s["folds"]),
        "documents": sum(1 for _ in pooled(runs)[0]),
        "mean_std": s["mean_std"],
        "pooled": s["pooled"],
        "pooled_prf": s["pooled_prf"],
        "intervals": {k: lookup(intervals[name], path) for k, path in {**MAIN, **ROLE_ROWS}.items()},
        "articles": art["mean_std"] if art else None,
        "provenance": provenance,
    }


def find_estimate(cfg: dict[str, Any], where: str | Path) -> dict[str, Any]:
    """The cross-validated estimate of the recipe of train config ``cfg`` (a plain dict),
    searched in every ``estimate.json`` under ``where``; ``measured`` False when no estimate
    has this recipe, with the nearest one's differences (so a model card can say that
    its figures were not measured).

    Example:
        >>> find_estimate({"trainer": {"epochs": 3}}, "no/such/folder")["measured"]
        False
    """
    want = json.loads(json.dumps(recipe_of(cfg)))
    root = Path(where)
    # newest first, so that of two estimates of the same recipe the later one is quoted
    files = sorted(root.rglob(ESTIMATE_FILE), key=lambda f: -f.stat().st_mtime) if root.is_dir() else []
    best: tuple[int, dict[str, Any], list[str], Path] | None = None
    for f in files:
        try:
            estimates = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("%s is not readable JSON; skipped", f)
            continue
        for est in estimates if isinstance(estimates, list) else []:
            diff = recipe_differences(want, json.loads(json.dumps(est.get("recipe", {}))))
            if best is None or len(diff) < best[0]:
                best = (len(diff), est, diff, f)
    if best is None:
        return {"measured": False, "differences": [], "source": None,
                "note": f"no cross-validation estimate ({ESTIMATE_FILE}) under {where}"}
    _, est, diff, f = best
    if diff:
        return {"measured": False, "differences": diff, "source": str(f), "nearest": est.get("recipe_name"),
                "note": f"this recipe was not cross-validated; the nearest estimate ({f}) differs in "
                        + ", ".join(diff[:6]) + (f" and {len(diff) - 6} more" if len(diff) > 6 else "")}
    return {"measured": True, "source": str(f), **est}


def provenance(jobs: Sequence[FoldRun], command: str | None = None,
               sweeps: Sequence[str | Path] | None = None) -> dict[str, Any]:
    """Where a report's figures come from: the code's commit, when the folds were trained,
    the command, the machine and the sweep folder."""
    import datetime as dt
    import platform
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                                  cwd=Path(__file__).resolve().parent).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD")
    if commit and git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    trained = [r.job_dir / "scores.json" for r in jobs if (r.job_dir / "scores.json").is_file()]
    when = max((p.stat().st_mtime for p in trained), default=None)
    recipe = jobs[0].recipe if jobs else ""
    training = "expel-train experiment=crossval" + ("" if recipe in ("", "(default recipe)") else " " + recipe)
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import os

    return {"commit": commit or None,
            "trained": dt.datetime.fromtimestamp(when).strftime("%Y-%m-%d") if when else None,
            "reported": dt.date.today().isoformat(),
            "folds": len({r.fold for r in jobs}),
            "training": training,
            "command": command if command and command != training else None,
            "machine": f"{cpu}, {os.cpu_count()} cores",
            "sweep": ", ".join(str(p) for p in sweeps) if sweeps else None}


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
