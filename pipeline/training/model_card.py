"""The model card (``README.md`` in a model directory): data, encoder and dev scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.tagger.encoding import BIO_LABELS


def write_model_card(out_dir: Path, info: dict[str, Any]) -> Path:
    """Write ``out_dir/README.md`` from the model's ``info`` record (as saved beside it)."""
    s = info["dev_scores"]

    def row(name: str, m: dict) -> str:
        return f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |"

    from pipeline.report.estimate import estimate_lines

    scored_on = info.get("scored_on", "dev")
    warning = ([f"**In-sample:** the scores below are on {scored_on}: documents the model was trained "
                "on. They show how well it fits them, not how well it does on new text; quote the "
                "cross-validated figures above.", ""]
               if info.get("in_sample") else [])
    second = "In-sample fit" if info.get("in_sample") else f"Scores on {scored_on}"
    lines = [
        "---", "library_name: transformers", "pipeline_tag: token-classification", "tags: [expulsion-events]",
        "---", "", "# Diplomatic expulsion event tagger", "",
        f"Encoder: `{info['config']['model']['encoder']}`; trained on {info['train_docs']} gold documents "
        "(scoring of docs/ANNOTATION.md in the repository).", "",
        "## Out-of-sample estimate", "", *estimate_lines(info.get("estimate")), "",
        f"## {second}", "",
        f"Scored on {scored_on} ({info['dev_docs']} documents).", "",
        *warning,
        "| metric | precision | recall | F1 |", "|---|---|---|---|",
        row("Trigger (Tri-C)", s["trigger"]), row("Argument (Arg-C)", s["argument"]),
        row("Argument attached (Arg-C+)", s["argument_attached"]),
        *(row(f"Arg-C {r}", m) for r, m in s["per_role"].items()), "",
        "Labels: " + ", ".join(BIO_LABELS), "",
        "Training text: Wikipedia Current Events Portal, CC BY-SA 4.0, by Wikipedia contributors.",
    ]
    path = Path(out_dir) / "README.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
