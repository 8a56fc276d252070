"""Which engine runs the tagger's float32 network: PyTorch, or ONNX Runtime where it was
measured harmless and faster on the machine at hand.

``tagger.runtime``:

- ``torch``: the reference (every precision, every device).
- ``onnx``: :mod:`pipeline.tagger.ort` (CPU, float32, BERT-family models).  Needs the
  model's measured dev F1 cost (the ``onnx`` entry of ``precision.json``, written by
  ``expel-train`` like the bf16 and int8 ones) to pass the same gate: no F1 drops by more
  than 1 point.
- ``auto`` (default): ``onnx`` when the tagger runs float32 on the CPU, ONNX Runtime is
  installed, the model is one it runs, its F1 gate passes, **and** it was measured faster
  than PyTorch on this machine; else ``torch``.  The reason is logged.

Speed is a property of the machine, not of the model, so a verdict is kept per machine
(CPU model, core count, library versions: :func:`machine`).  ``expel-train`` writes the
verdict of the machine it trained on into ``precision.json``; on any other machine the
first ``auto`` run measures both engines on the model (a few seconds, once: both on the
same synthetic windows, best of three) and keeps the verdict in
``~/.cache/expel-pipeline/runtime.json`` (``EXPEL_CACHE_DIR`` moves it).

Example:
    >>> resolve_runtime("torch", "models/expel-minilm", "cpu", "fp32")
    ('torch', 'runtime=torch')
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from pipeline.errors import PrecisionError

log = logging.getLogger(__name__)

RUNTIMES = ("torch", "onnx")
CACHE_FILE = "runtime.json"


def machine() -> str:
    """What a speed verdict holds for: CPU model, cores, torch and onnxruntime versions."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        import platform

        cpu = platform.processor() or cpu

    def v(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "none"

    return f"{cpu} | {os.cpu_count()} cores | torch {v('torch')} | onnxruntime {v('onnxruntime')}"


def cache_path() -> Path:
    root = os.environ.get("EXPEL_CACHE_DIR") or Path.home() / ".cache" / "expel-pipeline"
    return Path(root) / CACHE_FILE


def _model_key(model_dir: str | Path) -> str:
    """The model's weights, by size and modification time (a retrained model is measured again)."""
    files = sorted(Path(model_dir).glob("*.safetensors"))
    return ";".join(f"{Path(model_dir).resolve() / f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                    for f in files)


def speed_verdict(model_dir: str | Path, check: dict[str, Any] | None) -> dict[str, Any] | None:
    """The measured speeds of both engines on this machine, or None when never measured
    here: from ``precision.json`` (the training machine), else from the user cache."""
    here = machine()
    for entry in (check or {}).get("speed", []):
        if entry.get("machine") == here:
            return entry
    try:
        cached = json.loads(cache_path().read_text(encoding="utf-8"))
        entry = cached.get(here, {}).get(_model_key(model_dir))
        return entry if isinstance(entry, dict) and "onnx_faster" in entry else None
    except (OSError, ValueError, AttributeError):
        return None


def remember(model_dir: str | Path, entry: dict[str, Any]) -> None:
    """Keep a verdict in the user cache (best effort: a read-only home only costs a re-measure)."""
    path = cache_path()
    try:
        cached = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        if not isinstance(cached, dict):
            cached = {}
    except (OSError, ValueError):
        cached = {}
    cached.setdefault(machine(), {})[_model_key(model_dir)] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cached, indent=2), encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        log.warning("could not keep the runtime speed measurement in %s (%s)", path, e)


def time_engines(torch_model, ort_model, windows: int = 96, length: int = 48, batch: int = 32,
                 repeats: int = 3, seed: int = 0) -> dict[str, Any]:
    """Seconds for both engines to run the same synthetic windows (best of ``repeats``, the
    engines alternating so a busy moment hits both)."""
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    vocab = ort_model.config.vocab_size                         # ids above the special tokens
    ids = rng.integers(min(1000, vocab // 2), vocab, size=(windows, length)).astype(np.int64)
    mask = np.ones_like(ids)
    best = {"torch": float("inf"), "onnx": float("inf")}
    with torch.inference_mode():
        for _ in range(repeats):
            for name in ("torch", "onnx"):
                t0 = time.perf_counter()
                for i in range(0, windows, batch):
                    if name == "torch":
                        torch_model(input_ids=torch.from_numpy(ids[i:i + batch]),
                                    attention_mask=torch.from_numpy(mask[i:i + batch]))
                    else:
                        ort_model.probs(ids[i:i + batch], mask[i:i + batch])
                best[name] = min(best[name], time.perf_counter() - t0)
    return {"machine": machine(), "torch_s": round(best["torch"], 4), "onnx_s": round(best["onnx"], 4),
            "windows": windows, "tokens_per_window": length,
            "onnx_faster": best["onnx"] < best["torch"]}


def calibrate(model_dir: str | Path) -> dict[str, Any]:
    """Measure both engines on this machine with the model of ``model_dir`` and keep the verdict."""
    from pipeline.modeling import load_for_inference
    from pipeline.tagger.ort import OrtTagger

    model, _, _ = load_for_inference(model_dir)
    ort_model = OrtTagger.from_torch(model)
    if ort_model is None:
        return {"machine": machine(), "onnx_faster": False, "error": "ONNX Runtime does not run this model"}
    entry = time_engines(model, ort_model)
    remember(model_dir, entry)
    return entry


def resolve_runtime(choice: str, model_dir: str | Path | None, device: str, precision: str) -> tuple[str, str]:
    """The engine to run (one of ``RUNTIMES``) and why, for ``runtime=choice``.

    Raises:
        PrecisionError: ``onnx`` where it cannot run (a GPU, bf16, no
            onnxruntime, an architecture it does not know) or without a passing F1
            measurement; an unknown word.
    """
    if choice == "torch":
        return "torch", "runtime=torch"
    if choice not in ("auto", "onnx"):
        raise PrecisionError(f"tagger.runtime={choice!r} is not one of auto, torch, onnx")
    if precision == "int8" and choice == "auto":
        return "torch", "runtime=auto: torch (int8 on ONNX Runtime is opt-in: tagger.runtime=onnx)"
    reason = _cannot(model_dir, device, precision)
    if reason is not None:
        if choice == "onnx":
            raise PrecisionError(f"tagger.runtime=onnx: {reason}; use tagger.runtime=torch")
        return "torch", f"runtime=auto: torch ({reason})"
    from pipeline.tagger.precision import gate_entry, read_check, read_file

    gate = read_check(model_dir).get(gate_entry(precision, "onnx"))
    how = f"python benchmarks/batch_benchmark.py --model-dir {model_dir} --precision-check"
    engine = "ONNX Runtime" + (" in int8" if precision == "int8" else "")
    if gate is None or "error" in gate or not gate["accepted"]:
        why = (f"has no measured dev F1 for {engine} (`{how}` measures it)" if gate is None else
               gate.get("error") or f"{engine} drops its dev F1 by {gate['drop_points']}, more than allowed")
        if choice == "onnx":
            raise PrecisionError(f"tagger.runtime=onnx: the model {why}; use tagger.runtime=torch")
        return "torch", f"runtime=auto: torch (the model {why})"
    if choice == "onnx":
        return "onnx", f"runtime=onnx (dev F1 drop {gate['drop_points']})"
    verdict = speed_verdict(model_dir, read_file(model_dir).get("onnx"))
    if verdict is None:
        log.debug("runtime=auto: measuring PyTorch and ONNX Runtime on this machine once "
                 "(kept in %s)", cache_path())
        verdict = calibrate(model_dir)
    if not verdict.get("onnx_faster"):
        return "torch", (f"runtime=auto: torch (ONNX Runtime not faster on this machine: "
                         f"{verdict.get('onnx_s')} s vs {verdict.get('torch_s')} s)")
    return "onnx", (f"runtime=auto: onnx ({verdict['onnx_s']} s vs torch {verdict['torch_s']} s on this "
                    f"machine; dev F1 drop {gate['drop_points']})")


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
        return "no model directory to measure"
    try:
        config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "the model's config.json is unreadable"
    if not supported(config) or not (Path(model_dir) / "tokenizer.json").is_file():
        return "it runs BERT-family models with a tokenizer.json, and this is not one"
    return None
