"""The predict stage: a news dump in, sharded event predictions out, resumable.

``predict(cfg, run_dir)`` checks the settings (:mod:`pipeline.batch.settings`), resolves
the tagger settings once, opens the output folder (:mod:`pipeline.batch.store`), runs an
engine (:mod:`pipeline.batch.engine` or :mod:`pipeline.batch.ray_engine`), and writes
event records (:mod:`pipeline.records`).  ``pipeline.cli`` prints the summary.

Example:
    >>> from pipeline.config import PredictConfig
    >>> summary = predict(PredictConfig(input="dump.jsonl.gz", output="out/"), "runs/x")  # doctest: +SKIP
    >>> summary["documents"], summary["events"]                                      # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.config import PredictConfig


def predict(cfg: PredictConfig, run_dir: str | Path) -> dict[str, Any]:
    """Tag every document of a dump and write sharded predictions (resumable).

    Args:
        cfg: the resolved predict config.
        run_dir: this run's own directory (``predict_summary.json`` goes there).

    Returns:
        ``{"documents", "events", "rejects", "filtered_out", "input_records",
        "processed_this_run", "skipped_shards", "seconds", "docs_per_second", "engine",
        "output", "shards", "rejects_path", "progress_path"}``, plus ``"event_records",
        "records_dir", "records_files"`` when ``cfg.records``.  Counts cover the whole
        output, earlier runs' shards included; the speed covers this run.

    Raises:
        MissingFileError: the input is missing.
        ModelDirError: the model directory is missing or unsafe.
        PredictError: a bad setting, or an output folder holding another run.
        PrecisionError: bf16 or int8 asked for without a passing measurement.
        FilterError: the document filter file is corrupt.
    """
    if cfg.text is not None:
        return predict_text(cfg)
    from pipeline.batch.progress import Phases, peak_rss_mb
    from pipeline.batch.progress import summary as run_summary
    from pipeline.batch.settings import run_settings
    from pipeline.batch.store import ShardStore
    from pipeline.tagger import resolve_settings

    batch = resolve_batch(cfg)              # checked and frozen: pipeline/batch reads only this
    settings = _with_threads(resolve_settings(cfg.tagger, cfg.model_dir), cfg.threads)
    store = ShardStore.open(batch.output, run_settings(batch, settings), overwrite=batch.overwrite)
    skipped = len(store.done)
    t0 = time.perf_counter()
    phases = Phases()
    if batch.engine == "ray":
        from pipeline.batch.ray_engine import run_ray

        records, processed = run_ray(batch, settings, store)
    else:
        from pipeline.batch.engine import run_local

        records, processed = run_local(batch, settings, store, phases)
    seconds = time.perf_counter() - t0
    store.finish(records)
    if batch.records:
        with phases.time("records"):
            extra = _write_event_records(store.out)
    summary = run_summary(batch, store, records, processed, skipped, seconds,
                          phases if batch.engine == "local" else None)
    if batch.records:
        summary.update(extra)
    summary["tagger"] = {"precision": settings.precision, "runtime": settings.runtime, "device": settings.device}
    summary["peak_rss_mb"] = peak_rss_mb()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "predict_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def _with_threads(settings, threads: int):
    """``settings`` running on ``threads`` CPU threads (0: the engine's default)."""
    if threads > 0 and settings.runtime == "torch":
        import torch

        torch.set_num_threads(threads)
    return replace(settings, threads=max(0, threads))


def predict_text(cfg: PredictConfig) -> dict[str, Any]:
    """Tag the one text of ``cfg.text`` (no dump, no filter): ``{"text", "date", "events"}``
    with each event's spans, scores and normalised record fields.

    Raises:
        ModelDirError: the model directory is missing or unsafe.
        PredictError: an empty text.
    """
    from pipeline.errors import PredictError
    from pipeline.tagger.loading import check_model_dir
    from pipeline.tagger import Tagger, resolve_settings

    if not cfg.text.strip():
        raise PredictError('text= is empty; give the sentence to tag: expel-predict text="Peru expels a diplomat."')
    day = checked_date(cfg.date)
    check_model_dir(cfg.model_dir)
    tagger = Tagger.from_dir(cfg.model_dir, resolve_settings(cfg.tagger, cfg.model_dir))
    doc = tagger(cfg.text, date=day)
    return {"text": cfg.text, "date": day, "events": [e.to_json() for e in doc.events]}


def checked_date(value) -> str | None:
    """``date=`` as ``YYYY-MM-DD`` (None when not given).

    Raises:
        PredictError: a date that cannot be read or is not a real day.
    """
    from pipeline.errors import PredictError
    from pipeline.records.dates import document_date

    try:
        return document_date(value)
    except ValueError as e:
        raise PredictError(f"date={value}: {e}") from None


def text_summary(res: dict[str, Any]) -> str:
    """The events of :func:`predict_text` as the lines ``expel-predict text=...`` prints."""
    if not res["events"]:
        return "No expulsion found."
    def score(s: dict[str, Any]) -> str:
        return f"score {s['score']:.2f}" if s.get("score") is not None else "by rule"

    lines = []
    for i, ev in enumerate(res["events"], start=1):
        t = ev["trigger"]
        lines.append(f"Event {i}: trigger {t['text']!r} ({score(t)})")
        for a in ev["arguments"]:
            lines.append(f"  {a['role']:<9} {a['text']!r} ({score(a)})")
        fields = _record_fields(ev)
        if fields:
            lines.append("  record: " + ", ".join(f"{k}={v}" for k, v in fields.items()))
    return "\n".join(lines)


# The record fields worth a line on the console, in this order (the output files have all).
SHOWN_FIELDS = ("count", "expeller_country", "expelled_country", "time_date", "deadline_date", "cameo",
                "retaliation")


def _record_fields(ev: dict[str, Any]) -> dict[str, Any]:
    """The fields of :data:`SHOWN_FIELDS` that say something; a count known only within
    bounds as ``count=3-9``; several countries as a list."""
    out: dict[str, Any] = {}
    for k in SHOWN_FIELDS:
        v = ev.get(k)
        if k == "count" and v is None and ev.get("count_min") is not None:
            v = f"{ev['count_min']}-{ev.get('count_max') or ''}"
        if k.endswith("_country") and v is None and len(ev.get(k + "_countries") or []) > 1:
            v = ev[k + "_countries"]
        if v not in (None, [], {}, False):
            out[k] = v
    return out


def _write_event_records(out: Path) -> dict[str, Any]:
    """Event records from the documents with events, into ``OUTPUT/records/``; only those
    documents are held in memory."""
    from pipeline.batch.store import read_shards
    from pipeline.records import build_records, write_records

    records = build_records(list(read_shards(out, with_events_only=True)))
    paths = write_records(records, out / "records")
    return {"event_records": len(records), "records_dir": str(out / "records"),
            "records_files": {k: str(v) for k, v in paths.items()}}


# ----------------------------------------------------------------------------- settings

def resolve_batch(cfg: PredictConfig):
    """The frozen :class:`pipeline.batch.settings.BatchSettings` of a predict config,
    checked (:func:`validate`) before anything heavy is loaded.

    Raises:
        MissingFileError / ModelDirError / PredictError: as :func:`validate`.
    """
    from pipeline.batch.settings import BatchSettings, filter_path

    cfg = with_output(cfg)
    input_format = validate(cfg)
    fp = filter_path(cfg.filter, cfg.model_dir)
    return BatchSettings(input=cfg.input, input_format=input_format, output=cfg.output, model_dir=cfg.model_dir,
                         overwrite=cfg.overwrite, output_format=cfg.output_format, id_field=cfg.id_field,
                         text_field=cfg.text_field, date_field=cfg.date_field, chunk_size=cfg.chunk_size,
                         queue_docs=cfg.queue_docs, max_chars=cfg.max_chars,
                         filter=None if fp is None else str(fp), filter_threshold=cfg.filter_threshold,
                         engine=cfg.engine, records=cfg.records, threads=cfg.threads)


def validate(cfg: PredictConfig) -> str:
    """Check the settings and paths before anything heavy is loaded.

    Returns:
        the input format (given or guessed from the input's name).

    Raises:
        MissingFileError: the input does not exist (its path is named).
        ModelDirError: the model directory is missing or unsafe.
        PredictError: an unknown format or engine, a bad number, an output path that is a file.
    """
    from pipeline.batch.dumps import DUMP_FORMATS, guess_dump_format
    from pipeline.batch.settings import ENGINES, OUTPUT_FORMATS
    from pipeline.errors import MissingFileError, PredictError
    from pipeline.tagger.loading import check_model_dir

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


def with_output(cfg: PredictConfig) -> PredictConfig:
    """``cfg`` with its output folder named (:func:`pipeline.batch.settings.default_output`
    when not given)."""
    from pipeline.batch.settings import default_output

    return cfg if cfg.output else replace(cfg, output=default_output(cfg.input))


def _choice(name: str, value: str, allowed) -> None:
    from pipeline.errors import PredictError, closest

    if value not in allowed:
        raise PredictError(f"{name}={value!r} is not one of {', '.join(allowed)}." + closest(value, allowed))
