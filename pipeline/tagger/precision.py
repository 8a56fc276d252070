"""Numeric precision of the tagger: float32, or a faster one where it was measured harmless.

- ``fp32``: the reference.
- ``bf16``: the forward pass under ``torch.autocast`` with bfloat16.  Matrix products run
  on the CPU's bfloat16 units (AMX or AVX512-BF16 on recent Xeons) or a GPU's tensor
  cores, layer norms and the softmax stay in float32.  About twice as fast where the
  hardware computes bfloat16 natively; emulated (slower) elsewhere.
- ``int8``: ONNX Runtime's dynamic int8 (weights int8 per output column, activations
  quantised per batch) of the attention output and both feed-forward projections of every
  layer (:data:`pipeline.tagger.ort.ORT_INT8`), gated on its own measurement
  (``onnx_int8``).  CPU only, BERT-family models (those ONNX Runtime runs).  It is the one
  int8 path: PyTorch's per-tensor int8 could quantise only query/key/value (its
  feed-forward layers cost 6.9 Arg-C points), so it bought less speed for a similar cost,
  and was removed.

Each model carries its own measurement, ``precision.json`` beside the weights: dev F1
(trigger, Arg-C, Arg-C+) in float32 and in each faster precision, written by
``expel-train`` (or by ``python benchmarks/batch_benchmark.py --model-dir DIR
--precision-check`` for a model trained before).  One gate serves every faster
precision: it is used only when no F1 drops by more than ``MAX_DROP`` points.
``precision=auto`` resolves to bf16 only where the hardware computes it natively and
the gate lets it through, else to fp32.

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

from pipeline.errors import PrecisionError

log = logging.getLogger(__name__)

PRECISION_FILE = "precision.json"
MAX_DROP = 1.0                          # F1 points on dev, for any of trigger, Arg-C, Arg-C+
RESOLVED = ("fp32", "bf16", "int8")     # what a tagger runs in
FASTER = ("bf16", "int8")               # what needs a passing measurement
VARIANTS = ("bf16", "onnx", "onnx_int8")   # measured in precision.json: bf16, ONNX Runtime in
                                        # float32 (for the record) and in int8 (the int8 gate)
_METRICS = ("trigger", "argument", "argument_attached")


def native_bf16(device: str) -> bool:
    """Whether ``device`` ("cpu", "cuda", "cuda:0") computes bfloat16 natively.

    On a Linux CPU the answer is in ``/proc/cpuinfo`` (``amx_bf16`` or ``avx512_bf16``, the
    flags torch's own check reads), so a float32 run on ONNX Runtime never imports torch.
    """
    if not device.startswith("cuda"):
        flags = _cpu_flags()
        if flags is not None:
            return bool(flags & {"amx_bf16", "avx512_bf16"})
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def _cpu_flags() -> set[str] | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def autocast(precision: str, device: str):
    """The context that runs a forward pass in ``precision`` on ``device``."""
    if precision != "bf16":
        return contextlib.nullcontext()
    import torch

    return torch.autocast("cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16)


# --------------------------------------------------------------------------- measurement


def measure(score: Callable[[str], dict[str, Any]], precisions: Sequence[str] = FASTER,
            fp32_scores: dict[str, Any] | None = None) -> dict[str, Any]:
    """Dev F1 in float32 and in each of ``precisions``, and whether each passes the gate.

    Args:
        score: ``score(precision)`` returns scores as :func:`pipeline.evaluation.scoring.score_documents` does.
        precisions: the faster precisions to measure.
        fp32_scores: the float32 scores when already computed.

    Returns:
        ``{"fp32": {metric: F1 points}, "max_drop": MAX_DROP, "bf16": {"f1", "drop_points",
        "accepted"}, ...}``: what :func:`write_check` saves.
    """
    fp32 = _f1(fp32_scores if fp32_scores is not None else score("fp32"))
    check: dict[str, Any] = {"version": 2, "fp32": fp32, "max_drop": MAX_DROP}
    for p in precisions:
        try:
            f1 = _f1(score(p))
        except PrecisionError as e:           # onnx for an encoder it does not run
            check[p] = {"accepted": False, "error": str(e)}
            continue
        except Exception as e:                # ONNX Runtime refusing the graph (e.g. an old onnxruntime)
            if not p.startswith("onnx"):
                raise
            check[p] = {"accepted": False, "error": f"ONNX Runtime could not run the model: {e}"}
            continue
        drop = {k: round(fp32[k] - f1[k], 2) for k in _METRICS}
        check[p] = {"f1": f1, "drop_points": drop, "accepted": all(v <= MAX_DROP for v in drop.values())}
        if p == "onnx_int8":
            check[p]["layers"] = _ort_int8_layers()
    return check


def gate_entry(precision: str, runtime: str = "onnx") -> str:
    """The ``precision.json`` entry that gates ``precision``: ``onnx_int8`` for int8 (the one
    int8 path, on ONNX Runtime), ``onnx`` for float32 on ONNX Runtime (for the record),
    else the precision's own."""
    if precision == "int8":
        return "onnx_int8"
    if runtime == "onnx" and precision == "fp32":
        return "onnx"
    return precision


def _ort_int8_layers() -> list[str]:
    from pipeline.tagger.ort import ORT_INT8

    return list(ORT_INT8)


def _f1(scores: dict[str, Any]) -> dict[str, float]:
    return {k: round(100 * scores[k]["f1"], 2) for k in _METRICS}


def write_check(model_dir: str | Path, check: dict[str, Any]) -> Path:
    path = Path(model_dir) / PRECISION_FILE
    path.write_text(json.dumps(check, indent=2), encoding="utf-8")
    return path


def read_file(model_dir: str | Path | None) -> dict[str, Any]:
    """The model's ``precision.json`` as written, or ``{}`` (none, or not a JSON object)."""
    if model_dir is None:
        return {}
    try:
        obj = json.loads((Path(model_dir) / PRECISION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return obj if isinstance(obj, dict) else {}


def read_check(model_dir: str | Path | None) -> dict[str, dict[str, Any]]:
    """``{variant: {"drop_points", "accepted"}}`` for each measured variant (bf16, onnx,
    onnx_int8; an ``"error"`` key where it could not run); empty when the model has no
    measurement (or an unreadable one).

    Reads this version's file and the earlier bf16-only one (``drop_points`` and
    ``accepted`` at the top level).
    """
    if model_dir is None:
        return {}
    path = Path(model_dir) / PRECISION_FILE
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        entries = {"bf16": obj} if "drop_points" in obj else {p: obj[p] for p in VARIANTS if p in obj}
        out: dict[str, dict[str, Any]] = {}
        for p, e in entries.items():
            if "error" in e:
                out[p] = {"accepted": False, "error": str(e["error"])}
            elif p == "onnx_int8" and e.get("layers") != _ort_int8_layers():
                out[p] = {"accepted": False, "error": (
                    f"{path} measured ONNX Runtime's int8 with other layers ({e.get('layers')}) than this "
                    f"version quantises ({_ort_int8_layers()}); measure it again with `python "
                    f"benchmarks/batch_benchmark.py --model-dir {Path(model_dir)} --precision-check`, "
                    f"or set precision=fp32")}
            else:
                out[p] = {"drop_points": {str(k): float(v) for k, v in e["drop_points"].items()},
                          "accepted": bool(e["accepted"])}
        return out
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("%s is unreadable; only float32 will be used until it is measured again", path)
        return {}


# ---------------------------------------------------------------------------- resolution


def resolve(choice: str, model_dir: str | Path, device: str, runtime: str = "auto") -> tuple[str, str]:
    """The precision to run (one of ``RESOLVED``) and why, for ``precision=choice``
    (int8 is ONNX Runtime's, gated on ``onnx_int8``).

    Raises:
        PrecisionError: an unknown word; ``bf16`` or ``int8`` for a model with no
            measurement or with a drop over the limit; ``int8`` on a GPU.
    """
    if choice == "fp32":
        return "fp32", "precision=fp32"
    if choice not in ("auto", *FASTER):
        raise PrecisionError(f"precision={choice!r} is not one of auto, {', '.join(RESOLVED)}")
    checks = read_check(model_dir)
    how = f"python benchmarks/batch_benchmark.py --model-dir {model_dir} --precision-check"
    if choice in FASTER:
        if choice == "int8" and device.startswith("cuda"):
            raise PrecisionError("precision=int8 (dynamic quantisation) runs on the CPU only; "
                                 "set tagger.device=cpu, or use precision=bf16 on a GPU")
        if choice == "int8" and runtime == "torch":
            raise PrecisionError("precision=int8 runs on ONNX Runtime (its int8 of the attention output and "
                                 "feed-forward layers); set tagger.runtime=auto or onnx, or precision=fp32")
        entry = gate_entry(choice, runtime)
        check = checks.get(entry)
        if check is None:
            raise PrecisionError(f"precision={choice} needs the measured dev F1 cost of {entry} for this "
                                 f"model ({Path(model_dir) / PRECISION_FILE} has none); measure it with "
                                 f"`{how}`, or set precision=fp32")
        if "error" in check:
            raise PrecisionError(check["error"])
        if not check["accepted"]:
            raise PrecisionError(f"{entry} costs this model up to {max(check['drop_points'].values()):.2f} "
                                 f"F1 points on dev ({check['drop_points']}), more than the {MAX_DROP} "
                                 "allowed; set precision=fp32")
        return choice, f"precision={choice}"
    if not native_bf16(device):
        return "fp32", f"precision=auto: fp32 ({device} has no native bfloat16)"
    check = checks.get("bf16")
    if check is None:
        return "fp32", f"precision=auto: fp32 (no bf16 measurement in {PRECISION_FILE}; `{how}` measures it)"
    if not check["accepted"]:
        return "fp32", f"precision=auto: fp32 (bfloat16 drops dev F1 by {check['drop_points']})"
    return "bf16", f"precision=auto: bf16 (dev F1 drop {check['drop_points']}, at most {MAX_DROP})"
