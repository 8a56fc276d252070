"""Which engine runs the tagger's network, by a rule: ONNX Runtime where it can, PyTorch
elsewhere.

``tagger.runtime``:

- ``auto`` (default): on the CPU, float32 and int8 run on ONNX Runtime
  (:mod:`pipeline.tagger.ort`) when it is installed and the model is one it runs (a
  BERT-family encoder with a ``tokenizer.json``); bf16, GPUs and other architectures run
  on PyTorch.  Int8 is ONNX Runtime's only (its gate, ``onnx_int8``, is checked by
  :func:`pipeline.tagger.precision.resolve`): where ONNX Runtime cannot run, int8 is
  refused with the reason.  The reason of every choice is logged.
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
        if choice == "onnx" or precision == "int8":
            raise PrecisionError(f"tagger.runtime={choice}: ONNX Runtime cannot run here ({reason})"
                                 + ("; int8 runs on ONNX Runtime only: use tagger.precision=fp32" if precision == "int8"
                                    else "; use tagger.runtime=torch"))
        return "torch", f"runtime=auto: torch ({reason})"
    if precision == "int8":
        return "onnx", f"runtime={choice}: onnx, int8 (its gate onnx_int8 passed)"
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
