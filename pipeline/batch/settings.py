"""A batch run's settings: checked before anything heavy is loaded; the document filter
they name; what a resumed run must share with the first one."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Sequence

from pipeline.batch.dumps import _SUFFIXES, DUMP_FORMATS, guess_dump_format
from pipeline.config import PredictConfig
from pipeline.errors import MissingFileError, PredictError, closest

log = logging.getLogger(__name__)

OUTPUT_FORMATS = ("jsonl", "parquet")
ENGINES = ("local", "ray")
# Settings that decide what lands in which shard; a resumed run must use the same ones.
RUN_KEYS = ("input", "input_format", "id_field", "text_field", "date_field", "chunk_size", "max_chars",
            "output_format", "model_dir", "filter", "filter_threshold")
# ... and of the resolved tagger settings (precision as resolved: fp32, bf16 or int8).
TAGGER_RUN_KEYS = ("max_length", "stride", "linking", "decoding", "reason", "consistency", "min_trigger_score", "verifier",
                   "precision")


def validate(cfg: PredictConfig) -> str:
    """Check the settings and paths before anything heavy is loaded.

    Returns:
        the input format (given or guessed from the input's name).

    Raises:
        MissingFileError: the input does not exist (its path is named).
        ModelDirError: the model directory is missing or unsafe.
        PredictError: an unknown format or engine, a bad number, an output path that is a file.
    """
    from pipeline.modeling import check_model_dir

    if not Path(cfg.input).exists():
        raise MissingFileError(f"input {cfg.input!r} does not exist (working directory: "
                               f"{Path.cwd()}); set input=PATH to a dump file or a folder of .txt files")
    check_model_dir(cfg.model_dir)
    if cfg.date is not None:
        raise PredictError(f"date={cfg.date} goes with text=; the documents of a dump carry their own "
                           f"dates: set date_field=NAME to the field that holds them (now {cfg.date_field!r})")
    _choice("output_format", cfg.output_format, OUTPUT_FORMATS)
    _choice("engine", cfg.engine, ENGINES)
    if cfg.input_format is not None:
        _choice("input_format", cfg.input_format, DUMP_FORMATS)
    for name in ("chunk_size", "max_chars", "queue_docs"):
        if getattr(cfg, name) <= 0:
            raise PredictError(f"{name} must be a positive number, got {getattr(cfg, name)}")
    for name in ("batch_size", "max_length"):
        if getattr(cfg.tagger, name) <= 0:
            raise PredictError(f"tagger.{name} must be a positive number, got {getattr(cfg.tagger, name)}")
    if cfg.filter_threshold is not None and not 0 <= cfg.filter_threshold <= 1:
        raise PredictError(f"filter_threshold must be in [0, 1] or null, got {cfg.filter_threshold}")
    if Path(cfg.output).exists() and not Path(cfg.output).is_dir():
        raise PredictError(f"output {cfg.output!r} is a file; output names a folder for the shards")
    try:
        return cfg.input_format or guess_dump_format(cfg.input)
    except ValueError as e:
        raise PredictError(str(e)) from None


def default_output(input_path: str | Path) -> str:
    """``outputs/predictions/<name>``: the input's name without its format suffixes
    (``news.jsonl.gz`` -> ``news``; a folder keeps its name), so that two dumps never
    share an output folder by default."""
    p = Path(input_path)
    name = p.name
    for suffix, _ in _SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[:-len(suffix)]
            break
    return str(Path("outputs/predictions") / (name or "input"))


def with_output(cfg: PredictConfig) -> PredictConfig:
    """``cfg`` with its output folder named (:func:`default_output` when not given)."""
    from dataclasses import replace

    return cfg if cfg.output else replace(cfg, output=default_output(cfg.input))


def _choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise PredictError(f"{name}={value!r} is not one of {', '.join(allowed)}." + closest(value, allowed))


def filter_path(cfg: PredictConfig) -> Path | None:
    """The document filter file ``cfg.filter`` names, or None to tag every document.

    ``auto``: ``model_dir/docfilter.json`` when it exists; ``none`` (or null): no filter;
    anything else: a path to a filter file.
    """
    from pipeline.batch.docfilter import FILTER_FILE

    choice = cfg.filter if cfg.filter is not None else "none"
    if choice.lower() == "none":
        return None
    if choice.lower() == "auto":
        path = Path(cfg.model_dir) / FILTER_FILE
        return path if path.is_file() else None
    return Path(choice)


def load_doc_filter(cfg: PredictConfig):
    """The document filter for ``cfg`` (see :func:`filter_path`), or None.

    Raises:
        FilterError: a named filter file that is missing or corrupt.
    """
    from pipeline.batch.docfilter import DocFilter

    path = filter_path(cfg)
    if path is None:
        log.info("no document filter: every document goes to the tagger")
        return None
    return DocFilter.load(path)


def run_settings(cfg: PredictConfig, input_format: str, tagger) -> dict[str, Any]:
    """The settings a resumed run must share with the first one, plus the input's
    size and a fingerprint of its content (a changed input cannot be resumed; a file
    that was only touched or copied can).

    Args:
        cfg: the predict config.
        input_format: the input's format, given or guessed.
        tagger: the resolved :class:`pipeline.tagger.TaggerSettings`.
    """
    run = {k: getattr(cfg, k) for k in RUN_KEYS}
    run.update({k: getattr(tagger, k) for k in TAGGER_RUN_KEYS})
    if tagger.precision == "int8" and getattr(tagger, "runtime", "torch") == "onnx":
        run["int8_engine"] = "onnx"          # other layers in int8 than PyTorch's: not the same network
    p = Path(cfg.input)
    run["input"] = str(p.resolve())
    run["model_dir"] = str(Path(cfg.model_dir).resolve())
    run["input_format"] = input_format
    run["input_fingerprint"] = input_fingerprint(p)
    # A retrained model or filter in the same place must not mix with earlier shards.
    run["model_files"] = {f.name: [f.stat().st_size, f.stat().st_mtime_ns]
                          for f in sorted([*Path(cfg.model_dir).glob("*.safetensors"),
                                           *Path(cfg.model_dir).glob("verifier.json")])}
    fp = filter_path(cfg)
    run["filter_file"] = ([str(fp.resolve()), fp.stat().st_size, fp.stat().st_mtime_ns]
                          if fp is not None and fp.is_file() else None)
    return run


def input_fingerprint(p: Path, blocks: int = 32, block: int = 1 << 16) -> str | None:
    """Size and a hash of ``blocks`` evenly spaced 64 KiB pieces of a file (its first and
    last included): a changed dump is caught, a touched or copied one is not mistaken for
    one, and a 50 GB dump costs a few milliseconds.  A folder: its ``.txt`` names and sizes."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    if not p.exists():
        return None
    if p.is_dir():
        with os.scandir(p) as it:
            entries = sorted((e.name, e.stat().st_size) for e in it if e.name.endswith(".txt") and e.is_file())
        for name, size in entries:
            h.update(f"{name}\0{size}\n".encode("utf-8", "surrogateescape"))
        return f"{len(entries)} files:{h.hexdigest()}"
    size = p.stat().st_size
    with open(p, "rb") as f:
        offsets = sorted({min(size, max(0, size - block) * i // max(1, blocks - 1)) for i in range(blocks)})
        for off in offsets:
            f.seek(off)
            h.update(f.read(block))
    return f"{size} bytes:{h.hexdigest()}"
