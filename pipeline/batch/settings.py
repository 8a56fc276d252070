"""A batch run's settings: checked before anything heavy is loaded and resolved once into a
frozen :class:`BatchSettings` (as the tagger's are into ``TaggerSettings``); the document
filter they name; what a resumed run must share with the first one.

The predict stage resolves its config into it once (``pipeline.stages.predict.resolve_batch``);
everything in ``pipeline/batch`` takes the resolved object and never reads the Hydra config.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.batch.dumps import _SUFFIXES

log = logging.getLogger(__name__)

OUTPUT_FORMATS = ("jsonl", "parquet")
ENGINES = ("local", "ray")
# Settings that decide what lands in which shard; a resumed run must use the same ones.
RUN_KEYS = ("input", "input_format", "id_field", "text_field", "date_field", "chunk_size", "max_chars",
            "output_format", "model_dir", "filter", "filter_threshold")
# ... and of the resolved tagger settings (precision as resolved: fp32, bf16 or int8).
TAGGER_RUN_KEYS = ("max_length", "stride", "windows", "paragraphs", "linking", "decoding", "reason", "consistency", "min_trigger_score", "verifier",
                   "precision")


@dataclass(frozen=True)
class BatchSettings:
    """A batch run's settings, checked and resolved (:func:`resolve_batch`): the input's
    format is known, the output folder named, the document filter a path or None."""

    input: str
    input_format: str
    output: str
    model_dir: str
    overwrite: bool = False
    output_format: str = "jsonl"
    id_field: str = "id"
    text_field: str = "text"
    date_field: str | None = "date"
    chunk_size: int = 1000
    queue_docs: int = 512
    max_chars: int = 1_000_000
    filter: str | None = None            # the filter file, resolved (None: every document is tagged)
    filter_threshold: float | None = None
    engine: str = "local"
    records: bool = True
    threads: int = 0


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


def filter_path(choice: str | None, model_dir: str | Path) -> Path | None:
    """The document filter file a ``filter`` setting names, or None to tag every document.

    ``auto``: ``model_dir/docfilter.json`` when it exists; ``none`` (or null): no filter;
    anything else: a path to a filter file.
    """
    from pipeline.batch.docfilter import FILTER_FILE

    choice = choice if choice is not None else "none"
    if choice.lower() == "none":
        return None
    if choice.lower() == "auto":
        path = Path(model_dir) / FILTER_FILE
        return path if path.is_file() else None
    return Path(choice)


def load_doc_filter(path: str | Path | None):
    """The document filter saved at ``path`` (see :func:`filter_path`), or None for none.

    Raises:
        FilterError: a named filter file that is missing or corrupt.
    """
    from pipeline.batch.docfilter import DocFilter

    if path is None:
        log.info("no document filter: every document goes to the tagger")
        return None
    return DocFilter.load(path)


def run_settings(batch: BatchSettings, tagger) -> dict[str, Any]:
    """The settings a resumed run must share with the first one, plus the input's
    size and a fingerprint of its content (a changed input cannot be resumed; a file
    that was only touched or copied can).

    Args:
        batch: the resolved batch settings.
        tagger: the resolved :class:`pipeline.tagger.TaggerSettings`.
    """
    run = {k: getattr(batch, k) for k in RUN_KEYS}
    run.update({k: getattr(tagger, k) for k in TAGGER_RUN_KEYS})
    p = Path(batch.input)
    run["input"] = str(p.resolve())
    run["model_dir"] = str(Path(batch.model_dir).resolve())
    run["input_fingerprint"] = input_fingerprint(p)
    # A retrained model or filter in the same place must not mix with earlier shards.
    run["model_files"] = {f.name: [f.stat().st_size, f.stat().st_mtime_ns]
                          for f in sorted([*Path(batch.model_dir).glob("*.safetensors"),
                                           *Path(batch.model_dir).glob("verifier.json")])}
    fp = Path(batch.filter) if batch.filter is not None else None
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
