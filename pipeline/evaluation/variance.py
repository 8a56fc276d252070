"""Seed variance and learning curves from a Hydra multirun of the train stage.

Each job directory of a multirun holds ``.hydra/config.yaml`` (the resolved config)
and ``dev_scores.json`` (what :func:`pipeline.stages.train.train` scored on dev).  Runs are
grouped by ``data.fraction``; each metric gets its mean, standard deviation (n - 1)
and number of runs.

Example:
    >>> write_variance_report("outputs/train-multirun/2024-05-01_10-00-00")  # doctest: +SKIP
    PosixPath('outputs/train-multirun/2024-05-01_10-00-00/variance.md')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pipeline.evaluation.scoring import lookup, mean_std

# metric name -> path into dev_scores.json
METRICS: dict[str, tuple[str, ...]] = {
    "trigger_f1": ("trigger", "f1"), "trigger_precision": ("trigger", "precision"),
    "trigger_recall": ("trigger", "recall"), "argument_f1": ("argument", "f1"),
    "argument_precision": ("argument", "precision"), "argument_recall": ("argument", "recall"),
    "argument_attached_f1": ("argument_attached", "f1"),
    "document_f1": ("document", "f1"),
}


@dataclass
class Run:
    """One job of the multirun: its directory, training fraction, seed and dev metrics."""

    path: Path
    fraction: float
    seed: int | None
    metrics: dict[str, float]
    name: str = ""            # job folder relative to the sweep, job number only ("full/0")
    overrides: str = ""       # the job's command-line overrides, as Hydra saved them


def collect_runs(multirun_dir: str | Path) -> list[Run]:
    """Every job under ``multirun_dir`` that finished and scored held-out documents
    (``scores.json`` that is not in-sample; ``dev_scores.json`` of earlier versions).

    Raises:
        FileNotFoundError: the directory is missing or holds no finished job.
    """
    import yaml

    root = Path(multirun_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"multirun directory {str(root)!r} not found; pass the folder "
                                "Hydra printed for the sweep (outputs/train-multirun/<date>)")
    runs = []
    files = sorted([*root.rglob("scores.json"), *root.rglob("dev_scores.json")])
    for scores_file in files:
        cfg_file = scores_file.parent / ".hydra" / "config.yaml"
        if not cfg_file.is_file() or (scores_file.name == "dev_scores.json"
                                      and (scores_file.parent / "scores.json").is_file()):
            continue
        cfg = yaml.safe_load(cfg_file.read_text(encoding="utf-8")) or {}
        scores = json.loads(scores_file.read_text(encoding="utf-8"))
        if scores.get("in_sample"):
            continue
        metrics = {name: float(v) for name, path in METRICS.items()
                   if (v := lookup(scores, path)) is not None}
        name = _job_name(scores_file.parent.relative_to(root).parts)
        ov_file = scores_file.parent / ".hydra" / "overrides.yaml"
        overrides = yaml.safe_load(ov_file.read_text(encoding="utf-8")) if ov_file.is_file() else []
        runs.append(Run(scores_file.parent, float(cfg.get("data", {}).get("fraction", 1.0)),
                        cfg.get("trainer", {}).get("seed"), metrics, name,
                        " ".join(str(o) for o in overrides or [])))
    if not runs:
        raise FileNotFoundError(f"no finished run under {str(root)!r}: expected job folders with "
                                ".hydra/config.yaml and a held-out scores.json (written by expel-train "
                                "with data.dev or data.folds set)")
    return runs


def _job_name(parts: tuple[str, ...]) -> str:
    """``("lr", "0_trainer.lr=1e-4")`` -> ``"lr/0"``: the job number, not the override list
    (which Hydra splits into more folders when a value holds a ``/``)."""
    for i, part in enumerate(parts):
        if re.match(r"\d+(_|$)", part):
            return "/".join([*parts[:i], part.split("_", 1)[0]])
    return "/".join(parts) or "."


def aggregate(runs: Sequence[Run]) -> dict[float, dict[str, dict[str, float]]]:
    """``{fraction: {metric: {"mean", "std", "n"}}}``, fractions in increasing order."""
    out: dict[float, dict[str, dict[str, float]]] = {}
    for frac in sorted({r.fraction for r in runs}):
        group = [r for r in runs if r.fraction == frac]
        out[frac] = {}
        for name in METRICS:
            values = [r.metrics[name] for r in group if name in r.metrics]
            if values:
                m = mean_std(values)
                out[frac][name] = {"mean": m["mean"], "std": m["std"], "n": m["n"]}
    return out


def write_variance_report(multirun_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write ``variance.md``, ``variance.json`` and ``learning_curve.png``.

    Args:
        multirun_dir: the sweep folder.
        out_dir: where to write (default: ``multirun_dir``).

    Returns:
        The path of ``variance.md``.
    """
    runs = collect_runs(multirun_dir)
    agg = aggregate(runs)
    out = Path(out_dir) if out_dir else Path(multirun_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_learning_curve(agg, out / "learning_curve.png")
    (out / "variance.json").write_text(json.dumps({str(k): v for k, v in agg.items()}, indent=2))
    md = out / "variance.md"
    md.write_text(_markdown(runs, agg), encoding="utf-8")
    return md


def _markdown(runs: Sequence[Run], agg: dict) -> str:
    names = [n for n in METRICS if any(n in m for m in agg.values())]
    lines = ["# Seed variance and learning curve", "",
             f"{len(runs)} finished runs; mean ± standard deviation (n - 1) over seeds per "
             "training fraction, dev set scores (ANNOTATION.md scoring).", "",
             "| fraction | runs | " + " | ".join(names) + " |",
             "|---|---|" + "---|" * len(names)]
    for frac, metrics in agg.items():
        n = max((m["n"] for m in metrics.values()), default=0)
        cells = [f"{metrics[k]['mean']:.3f} ± {metrics[k]['std']:.3f}" if k in metrics else "-"
                 for k in names]
        lines.append(f"| {frac:g} | {n} | " + " | ".join(cells) + " |")
    lines += ["", "![learning curve](learning_curve.png)", "", "## Runs", "",
              "| run | fraction | seed | trigger F1 | Arg-C F1 | overrides |", "|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (r.fraction, str(r.seed), r.name)):
        lines.append(f"| {r.name or r.path.name} | {r.fraction:g} | {r.seed} | "
                     f"{r.metrics.get('trigger_f1', float('nan')):.3f} | "
                     f"{r.metrics.get('argument_f1', float('nan')):.3f} | `{r.overrides or '-'}` |")
    return "\n".join(lines) + "\n"


def plot_learning_curve(agg: dict, path: Path) -> None:
    """Arg-C F1 and trigger F1 against the training fraction, with std error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    fracs = list(agg)
    for name, label in (("argument_f1", "Arg-C F1"), ("trigger_f1", "Trigger F1 (Tri-C)")):
        xs = [f for f in fracs if name in agg[f]]
        ax.errorbar(xs, [agg[f][name]["mean"] for f in xs], yerr=[agg[f][name]["std"] for f in xs],
                    marker="o", capsize=4, label=label)
    ax.set_xlabel("data.fraction (share of training documents)")
    ax.set_ylabel("dev F1")
    ax.set_ylim(0, 1.02)
    ax.set_title("Learning curve (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
