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


ABOUT = {
    "train": ("fine-tune the tagger on the gold data and train the document filter",
              ["expel-train", "expel-train trainer.epochs=3 trainer.seed=7", "expel-train data=heldout",
               "expel-train experiment=crossval"]),
    "evaluate": ("score a model on a gold file and write report.md / report.html",
                 ["expel-evaluate", "expel-evaluate model_dir=models/expel-minilm gold=data/gold/dev.jsonl"]),
    "predict": ("tag a news dump (or one text=) and write predictions and event records",
                ['expel-predict text="Poland expels 45 Russian diplomats." date=2023-03-01',
                 "expel-predict input=news.jsonl.gz text_field=body date_field=published",
                 "expel-predict input=news.jsonl.gz overwrite=true"]),
    "annotate": ("pick documents of a dump for a person to correct, pre-annotated by the model",
                 ["expel-annotate input=news.jsonl n=100 output=outputs/annotate/round1"]),
}


def stage_help(stage: str) -> str:
    """What ``expel-<stage> --help`` prints: what the stage does, its settings with their
    defaults, its config groups and examples (Hydra's own help lists every group of
    configs/, training's included, whatever the stage)."""
    from omegaconf import OmegaConf

    from pipeline.config import GROUPS, compose_raw

    cfg = OmegaConf.to_container(compose_raw(stage), resolve=False)
    cfg.pop("hydra", None)

    def flat(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict):
                yield from flat(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k}", v

    what, examples = ABOUT[stage]
    width = max(len(k) for k, _ in flat(cfg))
    lines = [f"expel-{stage}: {what}.", "", f"Usage: expel-{stage} [key=value ...]", "",
             "Settings (key=value; the defaults shown):"]
    shown = {None: "null", True: "true", False: "false"}
    lines += [f"  {k:<{width}}  {shown.get(v, v) if isinstance(v, (bool, type(None))) else v}"
              for k, v in flat(cfg)]
    groups = [g for g in GROUPS[stage] if g != "experiment"]
    lines += ["", "Config groups (configs/<group>/<option>.yaml): " + ", ".join(groups)]
    if "experiment" in GROUPS[stage]:
        lines.append("Experiments: experiment=tiny | crossval | seeds | learning_curve")
    lines += ["", "Examples:"] + [f"  {e}" for e in examples]
    lines += ["", "Hydra's own options: --hydra-help; the resolved config without running: --cfg job"]
    return "\n".join(lines)


def _run(stage: str) -> None:
    import hydra
    from pipeline.config import check_overrides, register_configs, to_typed

    if any(a in ("--help", "-h") for a in sys.argv[1:]):
        print(stage_help(stage))
        raise SystemExit(0)
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


try:
    from hydra.experimental.callback import Callback as _HydraCallback
except ImportError:  # pragma: no cover - hydra is a dependency
    _HydraCallback = object


class CrossvalReport(_HydraCallback):
    """Hydra callback of ``experiment=crossval``: when the last fold is done, the
    cross-validation report (``crossval.html``/``.md``, ``estimate.json``; composed
    articles and baselines on the same folds) is written into the sweep folder.  A failure
    is reported with the command that writes the report by hand, never raised: the folds'
    work is kept."""

    def __init__(self, articles: bool = True, baselines: bool = True) -> None:
        self.articles, self.baselines = articles, baselines

    def on_multirun_end(self, config, **kwargs) -> None:
        from pipeline.evaluation.crossval import write_crossval_report
        from pipeline.errors import ExpelError

        sweep = Path(str(config.hydra.sweep.dir))
        overrides = [o for o in config.hydra.overrides.task if not o.startswith("data.fold=")]
        command = "expel-train " + " ".join(overrides)
        print(f"\nWriting the cross-validation report (composed articles, baselines) into {sweep} ...",
              flush=True)
        saved = all((p.parent / "model" / "model.safetensors").is_file() for p in sweep.rglob("split.json"))
        try:
            md = write_crossval_report(sweep, articles=self.articles and saved, baselines=self.baselines,
                                       command=command)
        except Exception as e:       # noqa: BLE001 - the folds' work is kept whatever went wrong
            if not isinstance(e, (ExpelError, OSError)):
                log.exception("the cross-validation report failed")
            print(f"error: the cross-validation report could not be written: {e}\n  write it with: python "
                  f"benchmarks/crossval_report.py {sweep} --articles --baselines", file=sys.stderr)
            return
        print(f"Cross-validation report: {md.with_suffix('.html')} (and {md.name}, estimate.json); "
              "out-of-sample figures of this recipe")


def _train(cfg, run_dir: Path) -> None:
    from pipeline.stages.train import train

    from pipeline.training.loop import epoch_table

    res = train(cfg, run_dir)
    s = res["scores"]
    if res["epochs"]:
        print("\n" + epoch_table(res["epochs"]))
    print(f"\nTrained on {res['train_docs']} documents in {res['seconds']:.0f} s; scored on "
          f"{res['scored_on']} ({res['scored_docs']} documents): trigger F1 {s['trigger']['f1']:.3f}, "
          f"Arg-C F1 {s['argument']['f1']:.3f}, Arg-C+ F1 {s['argument_attached']['f1']:.3f}")
    if res["in_sample"]:
        print("  (in-sample: these documents were trained on, so the figures say little about new text)")
    est = res.get("estimate") or {}
    if est.get("measured"):
        ms = est["mean_std"]
        print("Out of sample (this recipe, cross-validated, " + str(est.get("folds")) + " folds; the figures to "
              "quote, first in the model card): " + ", ".join(f"{k} {ms[k]['mean']:.3f} ± {ms[k]['std']:.3f}"
                                                               for k in ("Tri-C", "Arg-C", "Arg-C+") if k in ms))
    elif res.get("model_dir"):
        print("Out of sample: not measured for this recipe (" + (est.get("note") or "no estimate") + ")")
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
    est = res["metrics"].get("estimate") or {}
    if est.get("measured"):
        ms = est["mean_std"]
        print("\nOut of sample (this recipe, cross-validated, " + str(est.get("folds")) + " folds): "
              + ", ".join(f"{k} {ms[k]['mean']:.3f} ± {ms[k]['std']:.3f}" for k in ("Tri-C", "Arg-C", "Arg-C+")
                          if k in ms) + " (the figures to quote; see the report)")
    else:
        print("\nOut of sample: " + (est.get("note") or "no cross-validated estimate for this model") + ".")
    print(f"{'In this evaluation' if not seen else 'In-sample'}: Trigger F1 {m['trigger']['f1']:.3f}, "
          f"Arg-C F1 {m['argument']['f1']:.3f}, "
          f"Arg-C+ F1 {m['argument_attached']['f1']:.3f} on {n} documents")
    print("Recall per role: " + ", ".join(f"{r} {v['recall']:.2f}" for r, v in m["per_role"].items()))
    forms = res["metrics"]["trigger_forms"]
    print("Trigger recall per form: " + ", ".join(
        f"{f} {v['found']}/{v['gold']}" for f, v in list(forms.items())[:8]) + (", ..." if len(forms) > 8 else ""))
    if seen:
        print(f"IN-SAMPLE: {seen} of these {n} documents were in the model's training data; the figures "
              "say how well it fits them, not how it does on new text (see the report)")
    fields = {k: v for k, v in res["metrics"].get("fields", {}).items() if v.get("n")}
    if fields:
        print("Record fields on the events whose trigger was found (agree / gold events that state it): "
              + ", ".join(f"{k} {v['agree']}/{v['n']}" for k, v in fields.items()))
    print(f"Report: {res['report_html']} (and {Path(res['report']).name} beside it)\nMetrics: {res['metrics_path']}")


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
    from pipeline.annotation.merge import main

    raise SystemExit(main(sys.argv[1:]))


def check_main() -> None:
    """``expel-check``: corpus statistics and validation (no Hydra: plain arguments)."""
    from pipeline.annotation.check import main

    raise SystemExit(main(sys.argv[1:]))
