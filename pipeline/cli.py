"""Command-line entry points: thin Hydra wrappers around the plain stage functions.

``expel-train``, ``expel-evaluate`` and ``expel-predict`` take Hydra overrides
(``expel-train trainer.epochs=3 model=tiny``).  Each composes ``configs/<stage>.yaml``
against its typed schema, checks the overrides' keys first (with the closest valid
name on a typo), calls the stage function with the run's own directory and prints its
summary.  A user error (:class:`pipeline.errors.ExpelError`, or a file system error such
as a full disk) is printed as one message without a traceback, exit status 2.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")
log = logging.getLogger("pipeline")


def _quote_text(args: list[str]) -> list[str]:
    """``text=<any sentence>`` as a quoted Hydra value, so that ``;``, ``,``, ``=``, quotes
    and brackets in the sentence are text, not override syntax."""
    out = []
    for a in args:
        if a.startswith("text=") and not a[5:6] in ("'", '"'):
            v = a[5:].replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${")
            a = f"text='{v}'"
        out.append(a)
    return out


def _run(stage: str) -> None:
    import hydra
    from pipeline.config import check_overrides, register_configs, to_typed

    sys.argv[1:] = _quote_text(sys.argv[1:])
    problem = check_overrides(stage, sys.argv[1:])
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(2)
    register_configs()

    @hydra.main(config_path=CONFIG_DIR, config_name=stage, version_base="1.3")
    def main(cfg) -> None:
        from hydra.core.hydra_config import HydraConfig

        run_dir = Path(HydraConfig.get().runtime.output_dir)
        from pipeline.errors import ExpelError

        try:
            typed = to_typed(cfg, stage)  # the schema dataclass, keys and values checked
            STAGES[stage](typed, run_dir)
        except (ExpelError, OSError) as e:
            # Bad input or a file system problem, not a bug: the message says where and
            # what to do; no traceback.
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(2) from None

    main()


def _train(cfg, run_dir: Path) -> None:
    from pipeline.stages.train import train

    from pipeline.training import epoch_table

    res = train(cfg, run_dir)
    s = res["scores"]
    if res["epochs"]:
        print("\n" + epoch_table(res["epochs"]))
    print(f"\nTrained on {res['train_docs']} documents in {res['seconds']:.0f} s; scored on "
          f"{res['scored_on']} ({res['scored_docs']} documents): trigger F1 {s['trigger']['f1']:.3f}, "
          f"Arg-C F1 {s['argument']['f1']:.3f}, Arg-C+ F1 {s['argument_attached']['f1']:.3f}")
    if res["in_sample"]:
        print("  (in-sample: these documents were trained on, so the figures say little about new "
              "text; the README gives cross-validated figures: expel-train experiment=crossval)")
    f = res["doc_filter"]
    if f and "dev_recall" in f:
        print(f"Document filter: held-out recall {f['dev_recall']:.3f}, "
              f"{100 * f['dev_negative_pass_rate']:.1f}% of held-out negatives pass")
    elif f:
        print(f"Document filter: cross-validated recall {f['cv_recall']:.3f} on the training documents")
    where = f"Model saved to {res['model_dir']}; " if res["model_dir"] else "No model saved (save_model=false); "
    print(f"{where}run directory {run_dir}")


def _evaluate(cfg, run_dir: Path) -> None:
    from pipeline.stages.evaluate import evaluate

    res = evaluate(cfg, run_dir)
    m = res["metrics"]["model"]
    n, seen = res["metrics"]["documents"], res["metrics"]["in_sample_documents"]
    print(f"\nTrigger F1 {m['trigger']['f1']:.3f}, Arg-C F1 {m['argument']['f1']:.3f}, "
          f"Arg-C+ F1 {m['argument_attached']['f1']:.3f} on {n} documents")
    print("Recall per role: " + ", ".join(f"{r} {v['recall']:.2f}" for r, v in m["per_role"].items()))
    forms = res["metrics"]["trigger_forms"]
    print("Trigger recall per form: " + ", ".join(
        f"{f} {v['found']}/{v['gold']}" for f, v in list(forms.items())[:8]) + (", ..." if len(forms) > 8 else ""))
    if seen:
        print(f"IN-SAMPLE: {seen} of these {n} documents were in the model's training data; the figures "
              "say how well it fits them, not how it does on new text (see the report)")
    print(f"Report: {res['report']}\nMetrics: {res['metrics_path']}")


def _predict(cfg, run_dir: Path) -> None:
    from pipeline.batch.progress import summary_text
    from pipeline.stages.predict import predict, text_summary

    res = predict(cfg, run_dir)
    print(text_summary(res) if cfg.text is not None else summary_text(res))


def _annotate(cfg, run_dir: Path) -> None:
    from pipeline.stages.annotate import annotate, summary_text

    print(summary_text(annotate(cfg, run_dir)))


STAGES = {"train": _train, "evaluate": _evaluate, "predict": _predict, "annotate": _annotate}


def train_main() -> None:
    """``expel-train``."""
    _run("train")


def evaluate_main() -> None:
    """``expel-evaluate``."""
    _run("evaluate")


def predict_main() -> None:
    """``expel-predict``."""
    _run("predict")


def annotate_main() -> None:
    """``expel-annotate``."""
    _run("annotate")


def merge_main() -> None:
    """``expel-merge``: add corrected annotations to a gold file, with checks (plain arguments)."""
    from pipeline.merge import main

    raise SystemExit(main(sys.argv[1:]))


def check_main() -> None:
    """``expel-check``: corpus statistics and validation (no Hydra: plain arguments)."""
    from pipeline.check import main

    raise SystemExit(main(sys.argv[1:]))
