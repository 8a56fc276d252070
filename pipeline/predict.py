"""The predict stage: a news dump in, sharded event predictions out, resumable.

``predict(cfg, run_dir)`` validates the paths, loads the tagger (and the document
filter saved beside it), streams the dump with :mod:`pipeline.dumps`, and writes

- ``OUTPUT/part-00000.jsonl``, ... : one shard per ``chunk_size`` input records, one line
  per usable input document in the ANNOTATION.md format (other input fields kept,
  ``score`` on triggers and arguments); ``part-*.parquet`` with ``output_format=parquet``;
- ``OUTPUT/rejects.jsonl``: one line per record that could not be used (source, line,
  id, reason);
- ``OUTPUT/_progress.json``: the run's settings and a manifest of finished shards
  (shard number -> first and last record number, count, file size).

Each shard is written to a temporary name and renamed into place, then entered in the
manifest, so a run killed at any point and started again with the same command skips
the shards it finished and redoes the rest: every input record ends up exactly once
in a shard or in ``rejects.jsonl``.

Example:
    >>> from pipeline.config import PredictConfig
    >>> summary = predict(PredictConfig(input="dump.jsonl.gz", output="out/"), "runs/x")  # doctest: +SKIP
    >>> summary["documents"], summary["events"]                                      # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from pipeline.config import PredictConfig
from pipeline.dumps import DUMP_FORMATS, Item, Record, Reject, guess_dump_format, read_dump
from pipeline.schema import Document, closest

log = logging.getLogger(__name__)

PROGRESS_FILE = "_progress.json"
REJECTS_FILE = "rejects.jsonl"
REJECTS_DIR = "_rejects"           # per-shard rejects, joined into rejects.jsonl at the end
OUTPUT_FORMATS = ("jsonl", "parquet")
ENGINES = ("local", "ray")
# Settings that decide what lands in which shard; a resumed run must use the same ones.
RUN_KEYS = ("input", "input_format", "id_field", "text_field", "chunk_size", "max_chars",
            "output_format", "model_dir", "filter", "filter_threshold", "max_length", "stride",
            "linking", "decoding", "reason", "precision", "quantize")


class PredictError(ValueError):
    """A predict setting or output folder that cannot be used; the message says the fix."""


# --------------------------------------------------------------------------- validation


def validate(cfg: PredictConfig) -> str:
    """Check the settings and paths before anything heavy is loaded.

    Returns:
        the input format (given or guessed from the input's name).

    Raises:
        FileNotFoundError: the input does not exist (its path is named).
        ModelDirError: the model directory is missing or unsafe.
        PredictError: an unknown format or engine, a bad number, an output path that is a file.
    """
    from pipeline.modeling import check_model_dir

    if not Path(cfg.input).exists():
        raise FileNotFoundError(f"input {cfg.input!r} does not exist (working directory: "
                                f"{Path.cwd()}); set input=PATH to a dump file or a folder of .txt files")
    check_model_dir(cfg.model_dir)
    if cfg.quantize:
        check_quantization(cfg.model_dir)
    elif cfg.precision == "bf16":
        from pipeline.precision import resolve

        resolve("bf16", cfg.model_dir, "cpu")   # fails now when the model lacks a passing check
    _choice("output_format", cfg.output_format, OUTPUT_FORMATS)
    _choice("engine", cfg.engine, ENGINES)
    if cfg.input_format is not None:
        _choice("input_format", cfg.input_format, DUMP_FORMATS)
    for name in ("chunk_size", "batch_size", "max_chars", "max_length"):
        if getattr(cfg, name) <= 0:
            raise PredictError(f"{name} must be a positive number, got {getattr(cfg, name)}")
    if cfg.filter_threshold is not None and not 0 <= cfg.filter_threshold <= 1:
        raise PredictError(f"filter_threshold must be in [0, 1] or null, got {cfg.filter_threshold}")
    if Path(cfg.output).exists() and not Path(cfg.output).is_dir():
        raise PredictError(f"output {cfg.output!r} is a file; output names a folder for the shards")
    try:
        return cfg.input_format or guess_dump_format(cfg.input)
    except ValueError as e:
        raise PredictError(str(e)) from None


def _choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise PredictError(f"{name}={value!r} is not one of {', '.join(allowed)}." + closest(value, allowed))


# ------------------------------------------------------------------------------ loading


def filter_path(cfg: PredictConfig) -> Path | None:
    """The document filter file ``cfg.filter`` names, or None to tag every document.

    ``auto``: ``model_dir/docfilter.json`` when it exists; ``none`` (or null): no filter;
    anything else: a path to a filter file.
    """
    from pipeline.docfilter import FILTER_FILE

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
    from pipeline.docfilter import DocFilter

    path = filter_path(cfg)
    if path is None:
        log.info("no document filter: every document goes to the tagger")
        return None
    return DocFilter.load(path)


def build_tagger(cfg: PredictConfig):
    """The tagger for ``cfg`` (optionally int8-quantised, or in bfloat16 where measured
    harmless: :mod:`pipeline.precision`), ready for CPU or GPU."""
    from pipeline.predictor import Tagger, TaggerSettings

    settings = TaggerSettings(max_length=cfg.max_length, stride=cfg.stride,
                              batch_size=cfg.batch_size, linking=cfg.linking,
                              decoding=cfg.decoding, reason=cfg.reason)
    tagger = Tagger.from_dir(cfg.model_dir, settings)
    if cfg.quantize:
        check_quantization(cfg.model_dir)
        tagger.model = quantize(tagger.model)   # int8 runs in fp32 around its matmuls
    else:
        from pipeline.precision import set_precision

        _to_best_device(tagger)
        set_precision(tagger, cfg.precision, cfg.model_dir)
    return tagger


QUANT_CHECK_FILE = "quantization.json"
QUANT_MAX_DROP = 1.0   # F1 points on dev, for any of trigger, Arg-C, Arg-C+


def check_quantization(model_dir: str | Path) -> dict[str, Any]:
    """``quantize=true`` is accepted only for a model whose int8 dev F1 was measured to
    drop by at most ``QUANT_MAX_DROP`` points (``quantization.json`` in the model dir,
    written by ``benchmarks/batch_benchmark.py --quantize --save-check``).

    Raises:
        PredictError: no measurement, or a drop over the limit.
    """
    path = Path(model_dir) / QUANT_CHECK_FILE
    how = (f"python benchmarks/batch_benchmark.py --model-dir {model_dir} --quantize --save-check")
    try:
        check = json.loads(path.read_text(encoding="utf-8"))
        drops = {str(k): float(v) for k, v in check["drop_points"].items()}
    except FileNotFoundError:
        raise PredictError(f"quantize=true needs the measured dev F1 cost of int8 for this model "
                           f"({path} is missing); measure it with `{how}`, or set quantize=false") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise PredictError(f"{path} is corrupt; measure again with `{how}`") from None
    worst = max(drops.values(), default=float("inf"))
    if worst > QUANT_MAX_DROP:
        raise PredictError(f"int8 quantisation costs this model up to {worst:.2f} F1 points on dev "
                           f"({drops}), more than the {QUANT_MAX_DROP} allowed; set quantize=false")
    return check


def quantize(model):
    """Dynamic int8 quantisation of the Linear layers (CPU only): weights int8, activations
    quantised on the fly.  See :func:`check_quantization` for when it is allowed."""
    import warnings

    import torch
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        # torch announces a move of eager quantisation to torchao; the API still works.
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        return quantize_dynamic(model.cpu(), {torch.nn.Linear}, dtype=torch.qint8)


def _to_best_device(tagger) -> None:
    import torch

    if torch.cuda.is_available():
        tagger.model = tagger.model.to("cuda")


# ------------------------------------------------------------------------------ tagging


@dataclass
class ChunkResult:
    """What one chunk of records turned into."""

    docs: list[Document]          # in record order
    rejects: list[Reject]
    events: int = 0
    filtered_out: int = 0
    passed: list[bool] = field(default_factory=list)  # per doc: the filter let it through


def tag_chunk(items: Sequence[Item], tagger, doc_filter=None,
              threshold: float | None = None) -> ChunkResult:
    """Filter, tag and link one chunk of dump items; rejects pass through.

    Documents the filter turns away get ``"events": []`` without reaching the model.
    """
    records = [it for it in items if isinstance(it, Record)]
    rejects = [it for it in items if isinstance(it, Reject)]
    keep = [True] * len(records)
    if doc_filter is not None and records:
        keep = [bool(k) for k in doc_filter.keep([r.text for r in records], threshold)]
    docs = [Document(id=r.id, text=r.text, meta=dict(r.fields)) for r in records]
    to_tag = [d for d, k in zip(docs, keep) if k]
    # The tagger sorts windows by length and pads each batch to its own longest window.
    tagged = iter(tagger.predict(to_tag) if to_tag else ())
    out = [next(tagged) if k else d for d, k in zip(docs, keep)]
    return ChunkResult(out, rejects, events=sum(len(d.events) for d in out),
                       filtered_out=len(keep) - sum(keep), passed=keep)


def chunks(items: Iterable[Item], chunk_size: int, done: set[int]) -> Iterator[tuple[int, list[Item]]]:
    """``(shard number, items)`` for consecutive runs of ``chunk_size`` records; shards in
    ``done`` are passed over."""
    shard, buf = None, []
    for it in items:
        k = it.record_no // chunk_size
        if k != shard:
            if buf and shard not in done:
                yield shard, buf
            shard, buf = k, []
        if k not in done:
            buf.append(it)
    if buf and shard not in done:
        yield shard, buf


# ------------------------------------------------------------------------------- output


@dataclass
class ShardStore:
    """The output folder: shard files, per-shard rejects, and the progress manifest.

    A shard is finished when the manifest lists it and its files are there with the
    recorded size; anything else is redone.
    """

    out: Path
    run: dict[str, Any]
    shards: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, out: str | Path, run: dict[str, Any]) -> "ShardStore":
        """Open (or start) the output folder for a run with settings ``run``.

        Raises:
            PredictError: the folder holds a run with other settings or a changed input.
        """
        out = Path(out)
        (out / REJECTS_DIR).mkdir(parents=True, exist_ok=True)
        store = cls(out, run)
        prog = out / PROGRESS_FILE
        if prog.is_file():
            try:
                old = json.loads(prog.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise PredictError(f"{prog} is corrupt; delete the output folder {str(out)!r} "
                                   "to start over") from None
            diff = {k: (old.get("run", {}).get(k), run.get(k)) for k in run
                    if old.get("run", {}).get(k) != run.get(k)}
            if diff:
                lines = "\n".join(f"  {k}: was {a!r}, now {b!r}" for k, (a, b) in diff.items())
                raise PredictError(f"output {str(out)!r} holds a run with other settings or input:\n"
                                   f"{lines}\nUse a new output folder, or delete this one to start over.")
            store.shards = {int(k): v for k, v in old.get("shards", {}).items()}
        store._drop_unfinished()
        return store

    def _drop_unfinished(self) -> None:
        for k, entry in list(self.shards.items()):
            data, rej = self.out / entry["file"], self.out / REJECTS_DIR / _shard_name(k, "jsonl")
            ok = (data.is_file() and data.stat().st_size == entry["bytes"] and rej.is_file()
                  and entry["first"] == k * self.run["chunk_size"])
            if not ok:
                log.warning("shard %d is listed as finished but its files are missing or changed; "
                            "redoing it", k)
                del self.shards[k]

    @property
    def done(self) -> set[int]:
        return set(self.shards)

    def write(self, shard: int, items: Sequence[Item], result: ChunkResult) -> dict[str, Any]:
        """Write one shard and its rejects atomically, then record it in the manifest."""
        fmt = self.run["output_format"]
        name = _shard_name(shard, fmt)
        _atomic_lines(self.out / REJECTS_DIR / _shard_name(shard, "jsonl"),
                      (json.dumps(r.to_json(), ensure_ascii=False) for r in result.rejects))
        if fmt == "parquet":
            _atomic_parquet(self.out / name, result.docs)
        else:
            _atomic_lines(self.out / name, (json.dumps(d.to_json(), ensure_ascii=False)
                                            for d in result.docs))
        entry = {"file": name, "first": items[0].record_no, "last": items[-1].record_no,
                 "count": len(items), "documents": len(result.docs), "rejects": len(result.rejects),
                 "events": result.events, "filtered_out": result.filtered_out,
                 "bytes": (self.out / name).stat().st_size}
        self.shards[shard] = entry
        self.save(complete=False)
        return entry

    def save(self, complete: bool, records: int | None = None) -> None:
        obj = {"version": 1, "run": self.run, "complete": complete, "records": records,
               "shards": {str(k): self.shards[k] for k in sorted(self.shards)}}
        _atomic_text(self.out / PROGRESS_FILE, json.dumps(obj, indent=1))

    def finish(self, records: int) -> None:
        """Check that shards cover records 0..records-1 once; join the rejects files.

        Raises:
            PredictError: a gap or an overlap in the manifest (the input changed mid-run).
        """
        expected = math.ceil(records / self.run["chunk_size"])
        missing = sorted(set(range(expected)) - self.done)
        extra = sorted(self.done - set(range(expected)))
        covered = sum(self.shards[k]["count"] for k in range(expected) if k in self.shards)
        if missing or extra or covered != records:
            raise PredictError(f"the manifest of {self.out} does not cover the {records} input "
                               f"records once (missing shards {missing[:5]}, extra {extra[:5]}, "
                               f"{covered} covered); the input changed during the run: start over "
                               "in a new output folder")
        _atomic_lines(self.out / REJECTS_FILE, _concat(
            self.out / REJECTS_DIR / _shard_name(k, "jsonl") for k in range(expected)))
        self.save(complete=True, records=records)

    def totals(self) -> dict[str, int]:
        keys = ("count", "documents", "rejects", "events", "filtered_out")
        return {k: sum(e[k] for e in self.shards.values()) for k in keys}

    def paths(self) -> list[str]:
        return [str(self.out / self.shards[k]["file"]) for k in sorted(self.shards)]


def _shard_name(shard: int, ext: str) -> str:
    return f"part-{shard:05d}.{ext}"


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _atomic_lines(path: Path, lines: Iterable[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _concat(files: Iterable[Path]) -> Iterator[str]:
    for p in files:
        with open(p, encoding="utf-8") as f:
            for line in f:
                yield line.rstrip("\n")


# Parquet shards: events nested; other input fields, whose types vary from document
# to document, as one JSON string column.
def _parquet_schema():
    import pyarrow as pa

    span = [("start", pa.int64()), ("end", pa.int64()), ("text", pa.string()), ("score", pa.float64())]
    event = pa.struct([("trigger", pa.struct(span)),
                       ("arguments", pa.list_(pa.struct([("role", pa.string()), *span]))),
                       ("extra_json", pa.string())])
    return pa.schema([("id", pa.string()), ("text", pa.string()), ("events", pa.list_(event)),
                      ("fields_json", pa.string())])


def _atomic_parquet(path: Path, docs: Sequence[Document]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for d in docs:
        events = []
        for e in d.to_json()["events"]:
            extra = {k: v for k, v in e.items() if k not in ("trigger", "arguments")}
            events.append({"trigger": e["trigger"], "arguments": e["arguments"],
                           "extra_json": json.dumps(extra, ensure_ascii=False) if extra else None})
        rows.append({"id": d.id, "text": d.text, "events": events,
                     "fields_json": json.dumps(d.meta, ensure_ascii=False)})
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=_parquet_schema()), tmp)
    os.replace(tmp, path)


# -------------------------------------------------------------------------------- stage


def run_settings(cfg: PredictConfig, input_format: str) -> dict[str, Any]:
    """The settings a resumed run must share with the first one, plus the input's
    size and modification time (a changed input cannot be resumed)."""
    run = {k: getattr(cfg, k) for k in RUN_KEYS}
    p = Path(cfg.input)
    run["input"] = str(p.resolve())
    run["model_dir"] = str(Path(cfg.model_dir).resolve())
    run["input_format"] = input_format
    if p.is_file():
        st = p.stat()
        run["input_size"], run["input_mtime_ns"] = st.st_size, st.st_mtime_ns
    # A retrained model or filter in the same place must not mix with earlier shards.
    run["model_files"] = {f.name: [f.stat().st_size, f.stat().st_mtime_ns]
                          for f in sorted(Path(cfg.model_dir).glob("*.safetensors"))}
    fp = filter_path(cfg)
    run["filter_file"] = ([str(fp.resolve()), fp.stat().st_size, fp.stat().st_mtime_ns]
                          if fp is not None and fp.is_file() else None)
    return run


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
        FileNotFoundError: the input is missing.
        ModelDirError: the model directory is missing or unsafe.
        PredictError: a bad setting, or an output folder holding another run.
        FilterError: the document filter file is corrupt.
    """
    input_format = validate(cfg)
    if cfg.threads > 0:
        import torch

        torch.set_num_threads(cfg.threads)
    store = ShardStore.open(cfg.output, run_settings(cfg, input_format))
    skipped = len(store.done)
    t0 = time.perf_counter()
    if cfg.engine == "ray":
        records, processed = _run_ray(cfg, input_format, store)
    else:
        records, processed = _run_local(cfg, input_format, store)
    seconds = time.perf_counter() - t0
    store.finish(records)
    summary = _summary(cfg, store, records, processed, skipped, seconds)
    if cfg.records:
        summary.update(write_event_records(store))
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "predict_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(_summary_text(summary))
    return summary


def _items(cfg: PredictConfig, input_format: str, store: ShardStore) -> Iterator[Item]:
    # Records before the first unfinished shard are passed over unparsed.
    first_todo = next(k for k in range(len(store.done) + 1) if k not in store.done)
    return read_dump(cfg.input, input_format, id_field=cfg.id_field, text_field=cfg.text_field,
                     max_chars=cfg.max_chars, skip_before=first_todo * cfg.chunk_size)


class _Counter:
    """Counts records as they stream past (the total is known only at the end)."""

    def __init__(self, items: Iterable[Item]):
        self.items, self.last = items, -1

    def __iter__(self) -> Iterator[Item]:
        for it in self.items:
            self.last = it.record_no
            yield it


def _run_local(cfg: PredictConfig, input_format: str, store: ShardStore) -> tuple[int, int]:
    """Tag shard by shard in this process; returns (records in the dump, records processed)."""
    tagger = build_tagger(cfg)
    doc_filter = load_doc_filter(cfg)
    stream = _Counter(_items(cfg, input_format, store))
    processed = 0
    with _progress_bar(store) as bar:
        for shard, items in chunks(stream, cfg.chunk_size, store.done):
            result = tag_chunk(items, tagger, doc_filter, cfg.filter_threshold)
            store.write(shard, items, result)
            processed += len(items)
            bar.update(len(items))
    return _record_total(stream.last, store), processed


def read_shards(out: str | Path) -> Iterator[Document]:
    """The documents of a finished output folder, shard by shard, in input order.

    Raises:
        PredictError: the folder has no finished run (no complete ``_progress.json``).
    """
    prog = Path(out) / PROGRESS_FILE
    obj = json.loads(prog.read_text(encoding="utf-8")) if prog.is_file() else {}
    if not obj.get("complete"):
        raise PredictError(f"{out} holds no finished predict run; run expel-predict to the end first")
    for k in sorted(obj["shards"], key=int):
        path = Path(out) / obj["shards"][k]["file"]
        if path.suffix == ".parquet":
            yield from _parquet_docs(path)
        else:
            from pipeline.formats.jsonl import read_events_jsonl

            yield from read_events_jsonl(str(path), check_unique=False)


def _parquet_docs(path: Path) -> Iterator[Document]:
    import pyarrow.parquet as pq

    from pipeline.formats.jsonl import parse_document

    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            events = [{"trigger": e["trigger"], "arguments": e["arguments"],
                       **json.loads(e["extra_json"] or "{}")} for e in row["events"]]
            yield parse_document({"id": row["id"], "text": row["text"],
                                  **json.loads(row["fields_json"]), "events": events})


def write_event_records(store: ShardStore) -> dict[str, Any]:
    """Event records (``pipeline.records``) from the documents with events, into
    ``OUTPUT/records/``; only those documents are held in memory."""
    from pipeline.records import build_records, write_records

    with_events = [d for d in read_shards(store.out) if d.events]
    records = build_records(with_events)
    paths = write_records(records, store.out / "records")
    return {"event_records": len(records), "records_dir": str(store.out / "records"),
            "records_files": {k: str(v) for k, v in paths.items()}}


def _record_total(last_seen: int, store: ShardStore) -> int:
    # When every record was passed over (all shards done), the manifest knows the end.
    ends = [e["last"] for e in store.shards.values()]
    return max([last_seen, *ends]) + 1 if ends or last_seen >= 0 else 0


def _progress_bar(store: ShardStore):
    from tqdm.auto import tqdm

    return tqdm(unit="docs", unit_scale=True, desc="expel-predict", dynamic_ncols=True,
                initial=sum(e["count"] for e in store.shards.values()), smoothing=0.05)


def _summary(cfg, store: ShardStore, records: int, processed: int, skipped: int,
             seconds: float) -> dict[str, Any]:
    t = store.totals()
    return {"documents": t["documents"], "events": t["events"], "rejects": t["rejects"],
            "filtered_out": t["filtered_out"], "input_records": records,
            "processed_this_run": processed, "skipped_shards": skipped,
            "seconds": round(seconds, 3),
            "docs_per_second": round(processed / seconds, 1) if seconds > 0 else None,
            "engine": cfg.engine, "output": str(store.out), "shards": store.paths(),
            "rejects_path": str(store.out / REJECTS_FILE),
            "progress_path": str(store.out / PROGRESS_FILE)}


def _summary_text(s: dict[str, Any]) -> str:
    resumed = f" (resumed: {s['skipped_shards']} shard(s) already done)" if s["skipped_shards"] else ""
    records = (f"\nEvent records: {s['event_records']:,} in {s['records_dir']}"
               if "records_dir" in s else "")
    return (f"\n{s['input_records']:,} records -> {s['documents']:,} documents, {s['events']:,} events, "
            f"{s['rejects']:,} rejects, {s['filtered_out']:,} skipped by the document filter{resumed}\n"
            f"{s['processed_this_run']:,} records in {s['seconds']:.1f} s "
            f"({s['docs_per_second'] or 0:,.1f} docs/s, engine {s['engine']})\n"
            f"Output: {s['output']} ({len(s['shards'])} shard(s)); rejects: {s['rejects_path']}"
            + records)


# ---------------------------------------------------------------------------- ray engine

RAY_HINT = "engine=ray needs Ray Data: pip install 'expel-pipeline[ray]'"


def _run_ray(cfg: PredictConfig, input_format: str, store: ShardStore) -> tuple[int, int]:
    """Tag with a Ray Data pipeline: the dump is read by one streaming read task (the same
    readers), tagged by a pool of actors that each load the model once, and the results
    come back in record order to this process, which writes the shards as above.

    Ray connects to the cluster named by ``RAY_ADDRESS`` (or one started on this node
    with ``ray start``), else starts a local one.
    """
    try:
        import ray
        import ray.data
    except ImportError:
        raise PredictError(RAY_HINT) from None
    if not ray.is_initialized():
        ray.init(ignore_reinit_error=True, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True   # shards are cut in record order
    ctx.enable_progress_bars = False
    cpus_per_actor = max(cfg.threads, 1)
    actors = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))
    ds = ray.data.read_datasource(_dump_datasource(cfg, input_format, store.done, store))
    ds = ds.map_batches(_RayTagger, fn_constructor_args=(_cfg_dict(cfg),), batch_size=cfg.chunk_size,
                        batch_format="pyarrow", concurrency=(1, actors), num_cpus=cpus_per_actor)
    last, processed, pending = -1, 0, []
    with _progress_bar(store) as bar:
        for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            for row in batch.to_pylist():
                shard = row["record_no"] // cfg.chunk_size
                if pending and pending[0]["record_no"] // cfg.chunk_size != shard:
                    processed += _write_ray_shard(store, cfg, pending)
                    bar.update(len(pending))
                    pending = []
                pending.append(row)
                last = row["record_no"]
        if pending:
            processed += _write_ray_shard(store, cfg, pending)
            bar.update(len(pending))
    return _record_total(last, store), processed


def _cfg_dict(cfg: PredictConfig) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(cfg)


def _dump_datasource(cfg: PredictConfig, input_format: str, done: set[int], store: ShardStore):
    """A Ray Datasource with one streaming read task over ``read_dump`` (a dump is one
    sequential stream); records of finished shards are left out, rejects ride along."""
    import pyarrow as pa
    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    skip_before = min(set(range(len(done) + 1)) - done) * cfg.chunk_size
    args = dict(path=cfg.input, fmt=input_format, id_field=cfg.id_field, text_field=cfg.text_field,
                max_chars=cfg.max_chars, skip_before=skip_before)
    chunk_size, done = cfg.chunk_size, frozenset(done)

    def read_fn():
        rows = []
        for it in read_dump(**args):
            if it.record_no // chunk_size in done:
                continue
            rows.append(_item_row(it))
            if len(rows) == chunk_size:
                yield pa.Table.from_pylist(rows, schema=_ROW_SCHEMA())
                rows = []
        if rows:
            yield pa.Table.from_pylist(rows, schema=_ROW_SCHEMA())

    class _DumpDatasource(Datasource):
        def estimate_inmemory_data_size(self):
            return None

        def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):
            meta = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None,
                                 input_files=(str(args["path"]),))
            return [ReadTask(read_fn, meta)]

    return _DumpDatasource()


def _ROW_SCHEMA():
    import pyarrow as pa

    return pa.schema([("record_no", pa.int64()), ("id", pa.string()), ("text", pa.string()),
                      ("fields_json", pa.string()), ("reject_json", pa.string())])


def _item_row(it: Item) -> dict[str, Any]:
    if isinstance(it, Reject):
        return {"record_no": it.record_no, "id": it.id, "text": None, "fields_json": None,
                "reject_json": json.dumps(it.to_json(), ensure_ascii=False)}
    return {"record_no": it.record_no, "id": it.id, "text": it.text,
            "fields_json": json.dumps(it.fields, ensure_ascii=False), "reject_json": None}


def _row_item(row: dict[str, Any]) -> Item:
    if row["reject_json"] is not None:
        r = json.loads(row["reject_json"])
        return Reject(row["record_no"], r["source"], r["line"], r["id"], r["reason"])
    return Record(row["record_no"], row["id"], row["text"], json.loads(row["fields_json"]))


class _RayTagger:
    """A Ray Data actor: loads the tagger and filter once, tags batches of rows.

    Output rows: ``record_no``, ``doc_json`` (the output line; null for a reject),
    ``reject_json``, ``events``, ``filtered`` (the filter turned the document away).
    """

    def __init__(self, cfg: dict[str, Any]):
        self.cfg = PredictConfig(**cfg)
        if self.cfg.threads > 0:
            import torch

            torch.set_num_threads(self.cfg.threads)
        self.tagger = build_tagger(self.cfg)
        self.doc_filter = load_doc_filter(self.cfg)

    def __call__(self, batch):
        import pyarrow as pa

        items = [_row_item(r) for r in batch.to_pylist()]
        records = [it for it in items if isinstance(it, Record)]
        res = tag_chunk(records, self.tagger, self.doc_filter, self.cfg.filter_threshold)
        by_no = {r.record_no: (d, k) for r, d, k in zip(records, res.docs, res.passed)}
        out = {"record_no": [], "doc_json": [], "reject_json": [], "events": [], "filtered": []}
        for it in items:
            out["record_no"].append(it.record_no)
            if isinstance(it, Reject):
                out["doc_json"].append(None)
                out["reject_json"].append(json.dumps(it.to_json(), ensure_ascii=False))
                out["events"].append(0)
                out["filtered"].append(False)
            else:
                d, k = by_no[it.record_no]
                out["doc_json"].append(json.dumps(d.to_json(), ensure_ascii=False))
                out["reject_json"].append(None)
                out["events"].append(len(d.events))
                out["filtered"].append(not k)
        return pa.table(out)


def _write_ray_shard(store: ShardStore, cfg: PredictConfig, rows: list[dict[str, Any]]) -> int:
    from pipeline.formats.jsonl import parse_document

    items: list[Item] = []
    docs, rejects = [], []
    for row in rows:
        if row["reject_json"] is not None:
            r = json.loads(row["reject_json"])
            rej = Reject(row["record_no"], r["source"], r["line"], r["id"], r["reason"])
            rejects.append(rej)
            items.append(rej)
        else:
            doc = parse_document(json.loads(row["doc_json"]))
            docs.append(doc)
            items.append(Record(row["record_no"], doc.id, doc.text))
    result = ChunkResult(docs, rejects, events=sum(r["events"] for r in rows),
                         filtered_out=sum(bool(r["filtered"]) for r in rows))
    store.write(rows[0]["record_no"] // cfg.chunk_size, items, result)
    return len(rows)
