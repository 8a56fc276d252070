"""Which engine runs the tagger's network, by a rule: ONNX Runtime where it can, PyTorch
elsewhere.

``tagger.runtime``:

- ``auto`` (default): on the CPU, float32 and int8 run on ONNX Runtime
  (:mod:`pipeline.tagger.ort`) when it is installed and the model is one it runs (a
  BERT-family encoder with a ``tokenizer.json``); bf16, GPUs and other architectures run
  on PyTorch.  Int8 on ONNX Runtime also needs its measured dev F1 cost (``onnx_int8`` in
  ``precision.json``) to pass the gate; without it int8 stays on PyTorch, under PyTorch's
  own gate.  The reason is logged.
- ``torch``: the reference (every precision, every device).
- ``onnx``: ONNX Runtime or an error that says why not.

Float32 needs no gate: both engines compute the same network, and a test holds their
probabilities equal (within 1e-4; about 1e-5 measured).  No speed is measured at run
time: as whole processes ONNX Runtime was the faster on the CPUs measured (it spares the
PyTorch import; README, Speed), so the rule holds without a per-machine probe.

Example:
    >>> resolve_runtime("torch", "models/expel-minilm", "cpu", "fp32")
    ('torch', 'runtime=torch')
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import PrecisionError

RUNTIMES = ("torch", "onnx")


def resolve_runtime(choice: str, model_dir: str | Path | None, device: str, precision: str) -> tuple[str, str]:
    """The engine to run (one of ``RUNTIMES``) and why, for ``runtime=choice``.

    Raises:
        PrecisionError: ``onnx`` where it cannot run (a GPU, bf16, no onnxruntime, an
            architecture it does not know, int8 without a passing measurement); an
            unknown word.
    """
    if choice == "torch":
        return "torch", "runtime=torch"
    if choice not in ("auto", "onnx"):
        raise PrecisionError(f"tagger.runtime={choice!r} is not one of auto, torch, onnx")
    reason = _cannot(model_dir, device, precision)
    if reason is not None:
        if choice == "onnx":
            raise PrecisionError(f"tagger.runtime=onnx: {reason}; use tagger.runtime=torch")
        return "torch", f"runtime=auto: torch ({reason})"
    if precision == "int8":
        from pipeline.tagger.precision import gate_entry, read_check

        gate = read_check(model_dir).get(gate_entry("int8", "onnx"))
        if gate is None or "error" in gate or not gate["accepted"]:
            how = f"python benchmarks/batch_benchmark.py --model-dir {model_dir} --precision-check"
            why = (f"has no measured dev F1 for ONNX Runtime in int8 (`{how}` measures it)" if gate is None else
                   gate.get("error") or f"ONNX Runtime in int8 drops its dev F1 by {gate['drop_points']}, "
                                        "more than allowed")
            if choice == "onnx":
                raise PrecisionError(f"tagger.runtime=onnx: the model {why}; use tagger.runtime=torch")
            return "torch", f"runtime=auto: torch (the model {why})"
        return "onnx", f"runtime={choice}: onnx, int8 (dev F1 drop {gate['drop_points']})"
    return "onnx", f"runtime={choice}: onnx (float32 on the CPU, a model ONNX Runtime runs)"


def _cannot(model_dir: str | Path | None, device: str, precision: str) -> str | None:
    """Why ONNX Runtime cannot run this tagger, or None."""
    from pipeline.tagger.ort import available, supported

    if not device.startswith("cpu"):
        return f"it runs on the CPU here, and the tagger runs on {device}"
    if precision not in ("fp32", "int8"):
        return f"it runs float32 or int8, and the tagger runs {precision}"
    if not available():
        return "onnxruntime is not installed (pip install onnxruntime)"
    if model_dir is None:
        return "no model directory to build its graph from"
    try:
        config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "the model's config.json is unreadable"
    if not supported(config) or not (Path(model_dir) / "tokenizer.json").is_file():
        return "it runs BERT-family models with a tokenizer.json, and this is not one"
    return None
