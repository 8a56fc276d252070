"""Event records: normalise expulsion mentions, merge duplicates, link reciprocity.

``build_records(docs, **cfg)`` is the entry point and ``write_records(records,
out_dir)`` writes ``events.jsonl``, ``events.csv``, ``events.parquet``,
``summary.csv`` and ``timeline.png``.  See docs/records.md.
"""

from pipeline.records.build import RecordsConfig, build_records
from pipeline.records.outputs import write_records

__all__ = ["RecordsConfig", "build_records", "write_records"]
