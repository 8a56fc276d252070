"""The output folder of a batch run: shards, per-shard rejects and the progress manifest.

- ``OUTPUT/part-00000.jsonl``, ... : one shard per ``chunk_size`` input records (the first
  few smaller, so that results appear seconds after start: :class:`ShardPlan`), one line
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
"""

from __future__ import annotations

import bisect
import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from pipeline.batch.dumps import DATE_WARNING, Item, Reject
from pipeline.errors import PredictError
from pipeline.files import atomic_lines, atomic_text, atomic_write
from pipeline.schema import Document

log = logging.getLogger(__name__)

PROGRESS_FILE = "_progress.json"
REJECTS_FILE = "rejects.jsonl"
REJECTS_DIR = "_rejects"           # per-shard rejects, joined into rejects.jsonl at the end


@dataclass
class ChunkResult:
    """What one chunk of records turned into."""

    docs: list[Document]          # in record order
    rejects: list[Reject]
    events: int = 0
    filtered_out: int = 0
    passed: list[bool] = field(default_factory=list)  # per doc: the filter let it through


# The first shards of a run, in records: a shard is written once all its documents are
# tagged, so a first shard of 1,000 article-length documents that all reach the tagger keeps
# the first result back for ten seconds; these sizes let one appear within about one.
FIRST_SHARDS = (32, 64, 128, 256, 512)


@dataclass(frozen=True)
class ShardPlan:
    """Which input records go to which shard: shard ``k`` holds the records from
    :meth:`first_record` (k) on, ``sizes`` for the first shards, then ``chunk_size`` each.
    A resumed run takes the plan from the manifest, so a folder goes on with the plan it
    began with (even shards, for a folder started before the first ones were smaller).

    Example:
        >>> plan = ShardPlan.for_chunk_size(1000)
        >>> plan.sizes, plan.shard_of(31), plan.shard_of(32), plan.first_record(4), plan.shard_of(1479)
        ((32, 64, 128, 256), 0, 1, 480, 4)
    """

    chunk_size: int
    sizes: tuple[int, ...] = ()

    @classmethod
    def for_chunk_size(cls, chunk_size: int) -> "ShardPlan":
        """The plan of a new run: the :data:`FIRST_SHARDS` at most half of ``chunk_size``."""
        return cls(chunk_size, tuple(s for s in FIRST_SHARDS if 2 * s <= chunk_size))

    @cached_property
    def _starts(self) -> list[int]:
        """Where the small shards start, and where the even ones begin (last)."""
        starts = [0]
        for s in self.sizes:
            starts.append(starts[-1] + s)
        return starts

    def shard_of(self, record_no: int) -> int:
        starts = self._starts
        if record_no < starts[-1]:
            return bisect.bisect_right(starts, record_no) - 1
        return len(self.sizes) + (record_no - starts[-1]) // self.chunk_size

    def first_record(self, shard: int) -> int:
        starts = self._starts
        if shard < len(self.sizes):
            return starts[shard]
        return starts[-1] + (shard - len(self.sizes)) * self.chunk_size

    def count(self, records: int) -> int:
        """How many shards ``records`` input records fill."""
        return self.shard_of(records - 1) + 1 if records > 0 else 0


@dataclass
class ShardStore:
    """The output folder: shard files, per-shard rejects, and the progress manifest.

    A shard is finished when the manifest lists it and its files are there with the
    recorded size; anything else is redone.
    """

    out: Path
    run: dict[str, Any]           # with "shard_sizes": the first shards' sizes (ShardPlan)
    shards: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, out: str | Path, run: dict[str, Any], overwrite: bool = False) -> "ShardStore":
        """Open (or start) the output folder for a run with settings ``run``.

        Args:
            overwrite: start over: the files an earlier run wrote there are removed first
                (only those: other files in the folder are left alone).

        Raises:
            PredictError: the folder holds a run with other settings or a changed input.
        """
        out = Path(out)
        if overwrite:
            clear_run(out)
        (out / REJECTS_DIR).mkdir(parents=True, exist_ok=True)
        run = {**run, "shard_sizes": list(ShardPlan.for_chunk_size(run["chunk_size"]).sizes)}
        prog = out / PROGRESS_FILE
        old = None
        if prog.is_file():
            try:
                old = json.loads(prog.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise PredictError(f"{prog} is corrupt; delete the output folder {str(out)!r} "
                                   "to start over") from None
            before = old.get("run") if isinstance(old.get("run"), dict) else {}
            if "shard_sizes" not in before:          # begun with even shards: it goes on with them
                before = {**before, "shard_sizes": []}
            if before.get("chunk_size") == run["chunk_size"]:
                run["shard_sizes"] = before["shard_sizes"]    # the plan it began with
        store = cls(out, run)
        if old is not None:
            diff = {k: (before.get(k), run.get(k)) for k in run if before.get(k) != run.get(k)}
            if diff:
                lines = "\n".join(f"  {k}: was {a!r}, now {b!r}" for k, (a, b) in diff.items())
                raise PredictError(f"output {str(out)!r} holds a run with other settings or input:\n"
                                   f"{lines}\nUse a new output folder (output=DIR), or add overwrite=true "
                                   "to start over in this one.")
            store.shards = {int(k): v for k, v in old.get("shards", {}).items()}
        store._drop_unfinished()
        return store

    def _drop_unfinished(self) -> None:
        for k, entry in list(self.shards.items()):
            data, rej = self.out / entry["file"], self.out / REJECTS_DIR / shard_name(k, "jsonl")
            ok = (data.is_file() and data.stat().st_size == entry["bytes"] and rej.is_file()
                  and entry["first"] == self.plan.first_record(k))
            if not ok:
                log.warning("shard %d is listed as finished but its files are missing or changed; "
                            "redoing it", k)
                del self.shards[k]

    @property
    def plan(self) -> ShardPlan:
        return ShardPlan(self.run["chunk_size"], tuple(self.run.get("shard_sizes", ())))

    @property
    def done(self) -> set[int]:
        return set(self.shards)

    def write(self, shard: int, items: Sequence[Item], result: ChunkResult) -> dict[str, Any]:
        """Write one shard and its rejects atomically, then record it in the manifest."""
        fmt = self.run["output_format"]
        name = shard_name(shard, fmt)
        atomic_lines(self.out / REJECTS_DIR / shard_name(shard, "jsonl"),
                      (json.dumps(r.to_json(), ensure_ascii=False) for r in result.rejects))
        if fmt == "parquet":
            atomic_parquet(self.out / name, result.docs)
        else:
            atomic_lines(self.out / name, (json.dumps(d.to_json(), ensure_ascii=False)
                                            for d in result.docs))
        entry = {"file": name, "first": items[0].record_no, "last": items[-1].record_no,
                 "count": len(items), "documents": len(result.docs), "rejects": len(result.rejects),
                 "events": result.events, "filtered_out": result.filtered_out,
                 # documents with a readable date, and those whose date could not be read
                 "dated": sum(1 for d in result.docs if d.meta.get("date")),
                 "date_warnings": sum(1 for d in result.docs if DATE_WARNING in d.meta),
                 "bytes": (self.out / name).stat().st_size}
        self.shards[shard] = entry
        self.save(complete=False)
        return entry

    def save(self, complete: bool, records: int | None = None) -> None:
        obj = {"version": 1, "run": self.run, "complete": complete, "records": records,
               "shards": {str(k): self.shards[k] for k in sorted(self.shards)}}
        atomic_text(self.out / PROGRESS_FILE, json.dumps(obj, indent=1))

    def finish(self, records: int) -> None:
        """Check that shards cover records 0..records-1 once; join the rejects files.

        Raises:
            PredictError: a gap or an overlap in the manifest (the input changed mid-run).
        """
        expected = self.plan.count(records)
        missing = sorted(set(range(expected)) - self.done)
        extra = sorted(self.done - set(range(expected)))
        covered = sum(self.shards[k]["count"] for k in range(expected) if k in self.shards)
        if missing or extra or covered != records:
            raise PredictError(f"the manifest of {self.out} does not cover the {records} input "
                               f"records once (missing shards {missing[:5]}, extra {extra[:5]}, "
                               f"{covered} covered); the input changed during the run: start over "
                               "in a new output folder")
        atomic_lines(self.out / REJECTS_FILE, _concat(
            self.out / REJECTS_DIR / shard_name(k, "jsonl") for k in range(expected)))
        self.save(complete=True, records=records)

    def totals(self) -> dict[str, int]:
        keys = ("count", "documents", "rejects", "events", "filtered_out", "dated", "date_warnings")
        return {k: sum(e.get(k, 0) for e in self.shards.values()) for k in keys}

    def paths(self) -> list[str]:
        return [str(self.out / self.shards[k]["file"]) for k in sorted(self.shards)]


def clear_run(out: Path) -> None:
    """Remove what a batch run writes into ``out`` (shards, rejects, manifest, records)."""
    import shutil

    if not out.is_dir():
        return
    for p in [*out.glob("part-*.jsonl"), *out.glob("part-*.parquet"), *out.glob("*.tmp"),
              out / PROGRESS_FILE, out / REJECTS_FILE]:
        p.unlink(missing_ok=True)
    for d in (out / REJECTS_DIR, out / "records"):
        if d.is_dir():
            shutil.rmtree(d)


def shard_name(shard: int, ext: str) -> str:
    return f"part-{shard:05d}.{ext}"


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


def atomic_parquet(path: Path, docs: Sequence[Document]) -> None:
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
    with atomic_write(path, "wb") as f:
        pq.write_table(pa.Table.from_pylist(rows, schema=_parquet_schema()), f)


def read_shards(out: str | Path, with_events_only: bool = False) -> Iterator[Document]:
    """The documents of a finished output folder, shard by shard, in input order (with
    ``with_events_only``, those with events: JSONL lines without any are not parsed).

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
            yield from (d for d in _parquet_docs(path) if d.events or not with_events_only)
        else:
            from pipeline.formats.jsonl import read_events_jsonl

            yield from read_events_jsonl(str(path), check_unique=False, with_events_only=with_events_only)


def _parquet_docs(path: Path) -> Iterator[Document]:
    import pyarrow.parquet as pq

    from pipeline.formats.jsonl import parse_document

    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            events = [{"trigger": e["trigger"], "arguments": e["arguments"],
                       **json.loads(e["extra_json"] or "{}")} for e in row["events"]]
            yield parse_document({"id": row["id"], "text": row["text"],
                                  **json.loads(row["fields_json"]), "events": events})
