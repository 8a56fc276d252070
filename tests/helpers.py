"""Paths and helpers shared by the tests (a plain module: conftest.py is pytest's, not ours)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def compose(stage: str, overrides: list[str] | None = None):
    """Compose configs/<stage>.yaml with overrides, untyped, as Hydra does for the CLI."""
    from pipeline.config import compose_raw

    return compose_raw(stage, overrides)


def predict_config(**kw):
    """A :class:`PredictConfig` from flat keywords: tagger keys (``batch_size``,
    ``max_length``, ``precision``, ...) go into its ``tagger`` group."""
    from dataclasses import fields

    from pipeline.config import PredictConfig, TaggerConfig

    names = {f.name for f in fields(TaggerConfig)}
    tagger = TaggerConfig(**{k: kw.pop(k) for k in list(kw) if k in names})
    return PredictConfig(tagger=tagger, **kw)
