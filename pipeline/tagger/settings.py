"""How a tagger runs: frozen settings, resolved once from the ``tagger`` config group.

``configs/tagger/default.yaml`` (schema :class:`pipeline.config.TaggerConfig`) holds
what a user chooses, including ``precision: auto`` and ``device: auto``;
:func:`resolve_settings` turns that into a :class:`TaggerSettings` in which both are
decided (``fp32``/``bf16``/``int8``, ``cpu``/``cuda``), with the reason logged.  The
evaluate and predict stages, training's dev scoring and the Ray workers all run a
tagger from such settings, so nothing changes them on the way.
"""

from __future__ import annotations

import glob
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.tagger.precision import RESOLVED, resolve
from pipeline.tagger.runtime import RUNTIMES, resolve_runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaggerSettings:
    """Resolved tagger settings (see :class:`pipeline.config.TaggerConfig` for each key)."""

    max_length: int = 256
    stride: int = 64
    windows: str = "sentences"  # sentences (paragraphs, long ones cut between sentences), paragraph, document
    paragraphs: str = "keywords"  # paragraphs without an expulsion word are not read; or all
    batch_size: int = 32
    linking: str = "sentence"
    decoding: str = "viterbi"
    reason: str = "rules"       # REASON clauses: "rules" (pipeline.events.reasons) or "model"
    consistency: bool = True    # event-level consistency (pipeline.events.consistency)
    min_trigger_score: float = 0.0   # events whose trigger scores lower are dropped; 0 = keep all
    verifier: float = 0.0       # trigger verifier threshold (pipeline.events.verifier); 0 = off
    precision: str = "fp32"     # fp32, bf16 or int8: resolved, "auto" is not a setting here
    device: str = "cpu"
    runtime: str = "torch"      # torch or onnx: resolved (pipeline/tagger/runtime.py)
    threads: int = 0            # CPU threads of the engine; 0 = its default

    def __post_init__(self):
        from pipeline.config import CHOICES

        allowed = {**CHOICES, "precision": RESOLVED, "runtime": RUNTIMES}
        for key in ("windows", "paragraphs", "linking", "decoding", "reason", "precision", "runtime"):
            value = getattr(self, key)
            if value not in allowed[key]:
                raise ConfigError(f"{key}={value!r} is not known; use "
                                  + " or ".join(f"{key}={a}" for a in allowed[key]))
        for key in ("max_length", "batch_size"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"tagger.{key} must be a positive number, got {getattr(self, key)}")
        if self.precision == "int8" and self.runtime != "onnx":
            raise ConfigError("tagger.precision=int8 runs on ONNX Runtime (the one int8 path); "
                              "use tagger.runtime=onnx (or auto), or tagger.precision=fp32")
        if self.runtime == "onnx" and (self.precision not in ("fp32", "int8") or not self.device.startswith("cpu")):
            raise ConfigError(f"tagger.runtime=onnx runs float32 (or int8) on the CPU, not {self.precision} on "
                              f"{self.device}; use tagger.runtime=torch")
        for key in ("verifier", "min_trigger_score"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ConfigError(f"tagger.{key} must be a probability in [0, 1] (0 = off), got {getattr(self, key)}")
        if self.max_length <= self.stride + 2:
            raise ConfigError(f"tagger.max_length ({self.max_length}) must exceed tagger.stride "
                              f"({self.stride}) + 2")


def resolve_device(choice: str) -> str:
    """``auto`` is ``cuda`` where a GPU is visible, else ``cpu`` (without importing torch
    where the machine has no NVIDIA device at all)."""
    if choice != "auto":
        return choice
    if not _nvidia_present():
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _nvidia_present() -> bool:
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return bool(glob.glob("/dev/nvidia*")) or Path("/proc/driver/nvidia").exists() or os.name != "posix"


def resolve_settings(cfg, model_dir: str | Path | None) -> TaggerSettings:
    """Frozen settings from a ``tagger`` config (:class:`pipeline.config.TaggerConfig`).

    ``precision=auto`` is decided from the device and the model's ``precision.json``
    (:func:`pipeline.tagger.precision.resolve`), then ``runtime=auto`` from those and the
    machine (:func:`pipeline.tagger.runtime.resolve_runtime`); the reasons are logged.

    Raises:
        PrecisionError: bf16 or int8 asked for a model without a passing measurement.
        ConfigError: a setting outside its allowed words or range.
    """
    device = resolve_device(str(cfg.device))
    precision, why = ("fp32", "precision=fp32") if cfg.precision == "fp32" else \
        resolve(cfg.precision, model_dir or ".", device, getattr(cfg, "runtime", "torch"))
    runtime, how = resolve_runtime(getattr(cfg, "runtime", "torch"), model_dir, device, precision)
    log.debug("%s; %s", why, how)
    return TaggerSettings(max_length=cfg.max_length, stride=cfg.stride, batch_size=cfg.batch_size,
                          windows=str(getattr(cfg, "windows", "sentences")),    # words as plain str
                          paragraphs=str(getattr(cfg, "paragraphs", "keywords")),
                          linking=str(cfg.linking), decoding=str(cfg.decoding), reason=str(cfg.reason),
                          consistency=cfg.consistency, verifier=float(getattr(cfg, "verifier", 0.0)),
                          min_trigger_score=float(getattr(cfg, "min_trigger_score", 0.0)),
                          precision=str(precision), device=device, runtime=str(runtime))
