"""Progress bar and summary of a batch run."""

from __future__ import annotations

from typing import Any

from pipeline.batch.store import PROGRESS_FILE, REJECTS_FILE, ShardStore


def progress_bar(store: ShardStore):
    """A bar over records, starting at the records earlier runs finished."""
    from tqdm.auto import tqdm

    return tqdm(unit="docs", unit_scale=True, desc="expel-predict", dynamic_ncols=True,
                initial=sum(e["count"] for e in store.shards.values()), smoothing=0.05)


def summary(cfg, store: ShardStore, records: int, processed: int, skipped: int,
            seconds: float) -> dict[str, Any]:
    """What a finished run did (see :func:`pipeline.stages.predict.predict`'s return value)."""
    t = store.totals()
    return {"documents": t["documents"], "events": t["events"], "rejects": t["rejects"],
            "filtered_out": t["filtered_out"], "input_records": records,
            "processed_this_run": processed, "skipped_shards": skipped,
            "seconds": round(seconds, 3),
            "docs_per_second": round(processed / seconds, 1) if seconds > 0 else None,
            "engine": cfg.engine, "output": str(store.out), "shards": store.paths(),
            "rejects_path": str(store.out / REJECTS_FILE),
            "progress_path": str(store.out / PROGRESS_FILE)}


def summary_text(s: dict[str, Any]) -> str:
    """The summary as the few lines ``expel-predict`` prints."""
    resumed = f" (resumed: {s['skipped_shards']} shard(s) already done)" if s["skipped_shards"] else ""
    records = (f"\nEvent records: {s['event_records']:,} in {s['records_dir']}"
               if "records_dir" in s else "")
    return (f"\n{s['input_records']:,} records -> {s['documents']:,} documents, {s['events']:,} events, "
            f"{s['rejects']:,} rejects, {s['filtered_out']:,} skipped by the document filter{resumed}\n"
            f"{s['processed_this_run']:,} records in {s['seconds']:.1f} s "
            f"({s['docs_per_second'] or 0:,.1f} docs/s, engine {s['engine']})\n"
            f"Output: {s['output']} ({len(s['shards'])} shard(s)); rejects: {s['rejects_path']}"
            + records)
