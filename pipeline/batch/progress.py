"""Progress bar, phase timers and summary of a batch run."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.batch.store import PROGRESS_FILE, REJECTS_FILE, ShardStore


def process_age() -> float:
    """Seconds since this process started (Linux ``/proc``; else since this module loaded)."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime"))
        return time.time() - (boot + start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, StopIteration):
        return time.perf_counter() - _LOADED


_LOADED = time.perf_counter()


def peak_rss_mb() -> float | None:
    """This process's peak resident memory in MiB, or None where ``resource`` is missing
    (Windows).  ``ru_maxrss`` is in KiB on Linux, in bytes on macOS."""
    try:
        import resource
    except ImportError:
        return None
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


class Phases:
    """Wall time per phase of a run (read, filter, tagger, write, records), and when the
    first document came out of the tagger (seconds since the process started)."""

    def __init__(self):
        self.seconds: dict[str, float] = {"read": 0.0, "filter": 0.0, "tagger": 0.0, "write": 0.0}
        self.first_tagged: float | None = None
        self.reused = 0        # documents whose text was tagged earlier in the run (copies)

    @contextmanager
    def time(self, phase: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - t0

    def tagged(self) -> None:
        if self.first_tagged is None:
            self.first_tagged = process_age()

    def to_json(self) -> dict[str, Any]:
        total = sum(self.seconds.values()) or 1.0
        return {"seconds": {k: round(v, 3) for k, v in self.seconds.items()},
                "share": {k: round(v / total, 3) for k, v in self.seconds.items()},
                "first_tagged_after_s": round(self.first_tagged, 3) if self.first_tagged is not None else None,
                "copies_tagged_once": self.reused}


def progress_bar(store: ShardStore):
    """A bar over records, starting at the records earlier runs finished."""
    from tqdm.auto import tqdm

    return tqdm(unit=" docs", desc="expel-predict", dynamic_ncols=True,
                initial=sum(e["count"] for e in store.shards.values()), smoothing=0.05)


def summary(batch, store: ShardStore, records: int, processed: int, skipped: int,
            seconds: float, phases: Phases | None = None) -> dict[str, Any]:
    """What a finished run did (see :func:`pipeline.stages.predict.predict`'s return value)."""
    t = store.totals()
    extra = {"phases": phases.to_json()} if phases is not None else {}
    return {"documents": t["documents"], "events": t["events"], "rejects": t["rejects"],
            "tagged": t["documents"] - t["filtered_out"], "filtered_out": t["filtered_out"],
            "dated": t["dated"], "date_warnings": t["date_warnings"], "date_field": batch.date_field,
            "input_records": records,
            "processed_this_run": processed, "skipped_shards": skipped,
            "seconds": round(seconds, 3),
            "docs_per_second": round(processed / seconds, 1) if seconds > 0 else None,
            "engine": batch.engine, "output": str(store.out), "shards": store.paths(),
            "rejects_path": str(store.out / REJECTS_FILE),
            "progress_path": str(store.out / PROGRESS_FILE), **extra}


def summary_text(s: dict[str, Any]) -> str:
    """The summary as the few lines ``expel-predict`` prints."""
    resumed = f" (resumed: {s['skipped_shards']} shard(s) already done)" if s["skipped_shards"] else ""
    records = (f"\nEvent records: {s['event_records']:,} in {s['records_dir']}"
               if "records_dir" in s else "")
    return (f"\n{s['input_records']:,} records -> {s['documents']:,} documents ({s['tagged']:,} read by the "
            f"tagger, {s['filtered_out']:,} skipped by the document filter), {s['events']:,} events, "
            f"{s['rejects']:,} rejects{resumed}{_copies(s)}\n"
            f"{s['processed_this_run']:,} records in {s['seconds']:.1f} s "
            f"({s['docs_per_second'] or 0:,.1f} docs/s, engine {s['engine']})\n"
            f"Output: {s['output']} ({len(s['shards'])} shard(s)); rejects: {s['rejects_path']}"
            + records + _date_lines(s))


def _copies(s: dict[str, Any]) -> str:
    n = (s.get("phases") or {}).get("copies_tagged_once") or 0
    return f"; {n:,} were copies of a text tagged earlier in the run (tagged once)" if n else ""


def _date_lines(s: dict[str, Any]) -> str:
    """Warnings about the documents' dates: unreadable ones, or none at all."""
    lines = ""
    if s.get("date_warnings"):
        lines += (f"\nWarning: {s['date_warnings']:,} document(s) have a date that cannot be read; they are "
                  "kept without a date (each such line says why in 'date_warning')")
    if s.get("documents") and not s.get("dated"):
        field = s.get("date_field")
        lines += ("\nWarning: no document has a date" + (f" (no readable field {field!r})" if field else "")
                  + ", so records are undated and 'Monday' or 'by Friday' are not resolved; set "
                  "date_field=NAME to the field that holds the publication date")
    return lines
