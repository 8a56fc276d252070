"""What a model card and an evaluation report say first: the cross-validated figures of
the model's recipe (``estimate.json``, written by :func:`pipeline.evaluation.crossval.report_runs`
and matched to a trained model by :func:`pipeline.evaluation.crossval.find_estimate`), with where
they come from, or why there are none.
"""

from __future__ import annotations

from typing import Any

from pipeline.schema import ROLES

MAIN = {"Tri-C": ("trigger", "f1"), "Arg-C": ("argument", "f1"), "Arg-C+": ("argument_attached", "f1")}
ROLE_ROWS = {f"{r} (Arg-C)": ("per_role", r, "f1") for r in ROLES}
HEADER = ["metric", "mean ± std over folds", "pooled [95% interval]", "on composed articles (mean ± std)"]


def estimate_parts(est: dict[str, Any] | None) -> tuple[str, list[list[str]] | None, str | None]:
    """(lead sentence, table rows under :data:`HEADER` or None, provenance or None)."""
    if not est:
        return ("**Out-of-sample figures: none.** This model has no cross-validation estimate "
                "(estimate.json); run `expel-train experiment=crossval` with the same settings.", None, None)
    if not est.get("measured"):
        return ("**Out-of-sample figures: not measured for this recipe.** " + est.get("note", "")
                + ". Run `expel-train experiment=crossval` with the same overrides for an estimate; "
                "the figures of the nearest recipe do not apply to this model.", None, None)
    ms, iv, pooled = est.get("mean_std", {}), est.get("intervals", {}), est.get("pooled", {})
    art = est.get("articles") or {}
    rows = []
    for k in (*MAIN, *ROLE_ROWS):
        m, ci, a = ms.get(k), iv.get(k), art.get(k)
        rows.append([k, f"{m['mean']:.3f} ± {m['std']:.3f}" if m else "-",
                     (f"{pooled[k]:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")) if k in pooled else "-",
                     f"{a['mean']:.3f} ± {a['std']:.3f}" if a else "-"])
    p = est.get("provenance", {})
    where = "; ".join(f"{k} {v}" for k, v in p.items() if v and k != "sweep")
    lead = (f"**Out-of-sample figures (cross-validated: {est.get('folds')} time-blocked folds, "
            f"{est.get('documents')} gold documents each held out once).** These are the figures to quote "
            "for this model: its recipe, measured on text the fold models never saw.")
    return lead, rows, f"Provenance: {where}; source {est.get('source')}."


def estimate_lines(est: dict[str, Any] | None) -> list[str]:
    """:func:`estimate_parts` as Markdown lines."""
    lead, rows, tail = estimate_parts(est)
    if rows is None:
        return [lead]
    cells = lambda r: "| " + " | ".join(r) + " |"  # noqa: E731
    return [lead, "", cells(HEADER), "|" + "---|" * len(HEADER), *map(cells, rows), "", tail or ""]


def estimate_blocks(est: dict[str, Any] | None) -> list[tuple]:
    """:func:`estimate_parts` as report blocks (:mod:`pipeline.report.render`)."""
    lead, rows, tail = estimate_parts(est)
    blocks: list[tuple] = [("h2", "Out-of-sample estimate of this model's recipe"), ("p", lead)]
    if rows is not None:
        blocks += [("table", HEADER, rows), ("p", tail or "")]
    return blocks
