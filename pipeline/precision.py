"""bfloat16 inference, used only where it was measured not to cost accuracy.

The tagger's time goes into the encoder's matrix products.  Under ``torch.autocast`` with
bfloat16 they run on the CPU's bfloat16 units (AMX or AVX512-BF16 on recent Xeons) or a
GPU's tensor cores, while layer norms and the softmax stay in float32.  On this project's
2-core Xeon that about doubles tagging speed; on a CPU without native bfloat16 it is
emulated and slower, so ``precision=auto`` never picks it there.

Each model carries its own measurement, ``precision.json`` beside the weights: dev F1
(trigger, Arg-C, Arg-C+) in float32 and in bfloat16, written by ``expel-train`` (or by
``python benchmarks/batch_benchmark.py --model-dir DIR --precision-check`` for a model
trained before).  bfloat16 is used only when no F1 drops by more than ``MAX_DROP`` points.

Example:
    >>> resolve("fp32", "models/expel-minilm", "cpu")
    ('fp32', 'precision=fp32')
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Any, Callable, Sequence

log = logging.getLogger(__name__)

PRECISION_FILE = "precision.json"
MAX_DROP = 1.0          # F1 points on dev, for any of trigger, Arg-C, Arg-C+
_METRICS = ("trigger", "argument", "argument_attached")


class PrecisionError(ValueError):
    """bfloat16 asked for a model without a passing measurement; the message says the fix."""


def native_bf16(device: str) -> bool:
    """Whether ``device`` ("cpu", "cuda", "cuda:0") computes bfloat16 natively."""
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def autocast(precision: str, device: str):
    """The context that runs a forward pass in ``precision`` on ``device``."""
    if precision != "bf16":
        return contextlib.nullcontext()
    import torch

    return torch.autocast("cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16)


def read_check(model_dir: str | Path) -> dict[str, Any] | None:
    """The model's measurement, or None when it has none (or an unreadable one)."""
    path = Path(model_dir) / PRECISION_FILE
    try:
        check = json.loads(path.read_text(encoding="utf-8"))
        check["drop_points"] = {str(k): float(v) for k, v in check["drop_points"].items()}
        check["accepted"] = bool(check["accepted"])
        return check
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("%s is unreadable; bfloat16 will not be used until it is measured again", path)
        return None


def measure(score: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Dev F1 in both precisions; ``score(precision)`` returns scores as in :mod:`pipeline.scoring`."""
    fp32, bf16 = _f1(score("fp32")), _f1(score("bf16"))
    drop = {k: round(fp32[k] - bf16[k], 2) for k in _METRICS}
    return {"dev_f1_fp32": fp32, "dev_f1_bf16": bf16, "drop_points": drop,
            "max_drop": MAX_DROP, "accepted": all(v <= MAX_DROP for v in drop.values())}


def _f1(scores: dict[str, Any]) -> dict[str, float]:
    return {k: round(100 * scores[k]["f1"], 2) for k in _METRICS}


def write_check(model_dir: str | Path, check: dict[str, Any]) -> Path:
    path = Path(model_dir) / PRECISION_FILE
    path.write_text(json.dumps(check, indent=2), encoding="utf-8")
    return path


def measure_tagger(tagger, dev_docs: Sequence, fp32_scores: dict[str, Any] | None = None) -> dict[str, Any]:
    """:func:`measure` for a :class:`pipeline.predictor.Tagger` on gold documents
    (``fp32_scores``: the float32 scores when already computed)."""
    from dataclasses import replace

    from pipeline.evaluate import predict_and_score
    from pipeline.predictor import Tagger

    def score(precision: str) -> dict[str, Any]:
        if precision == "fp32" and fp32_scores is not None:
            return fp32_scores
        t = Tagger(tagger.model, tagger.tokenizer, replace(tagger.settings, precision=precision))
        return predict_and_score(t, dev_docs)[0]

    return measure(score)


def resolve(choice: str, model_dir: str | Path, device: str) -> tuple[str, str]:
    """The precision to run (``fp32`` or ``bf16``) and why, for ``precision=choice``.

    Raises:
        PrecisionError: ``bf16`` for a model with no measurement or with a drop over the limit.
    """
    if choice == "fp32":
        return "fp32", "precision=fp32"
    from pipeline.config import CHOICES

    if choice not in CHOICES["precision"]:
        raise PrecisionError(f"precision={choice!r} is not one of {', '.join(CHOICES['precision'])}")
    check = read_check(model_dir)
    how = f"python benchmarks/batch_benchmark.py --model-dir {model_dir} --precision-check"
    if choice == "bf16":
        if check is None:
            raise PrecisionError(f"precision=bf16 needs the measured dev F1 cost of bfloat16 for this model "
                                 f"({Path(model_dir) / PRECISION_FILE} is missing); measure it with `{how}`, "
                                 "or set precision=fp32")
        if not check["accepted"]:
            raise PrecisionError(f"bfloat16 costs this model up to {max(check['drop_points'].values()):.2f} F1 "
                                 f"points on dev ({check['drop_points']}), more than the {MAX_DROP} allowed; "
                                 "set precision=fp32")
        return "bf16", "precision=bf16"
    if not native_bf16(device):
        return "fp32", f"precision=auto: fp32 ({device} has no native bfloat16)"
    if check is None:
        return "fp32", f"precision=auto: fp32 (no {PRECISION_FILE} in the model directory; `{how}` measures it)"
    if not check["accepted"]:
        return "fp32", f"precision=auto: fp32 (bfloat16 drops dev F1 by {check['drop_points']})"
    return "bf16", f"precision=auto: bf16 (dev F1 drop {check['drop_points']}, at most {MAX_DROP})"


def set_precision(tagger, choice: str, model_dir: str | Path) -> str:
    """Resolve ``precision=choice`` for the device the tagger's model is on, set it on the
    tagger and log why; returns the precision set."""
    device = next(tagger.model.parameters()).device.type
    tagger.settings.precision, why = resolve(choice, model_dir, device)
    log.info("%s", why)
    return tagger.settings.precision
