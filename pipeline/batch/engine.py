"""The local engine: filter, tag and write a dump shard by shard in this process.

Documents that pass the document filter are tagged; the others keep ``"events": []``.
"""

from __future__ import annotations

import logging
from typing import Iterable, Iterator, Sequence

from pipeline.batch.dumps import Item, Record, Reject, read_dump
from pipeline.batch.progress import progress_bar
from pipeline.batch.settings import load_doc_filter
from pipeline.batch.store import ChunkResult, ShardStore
from pipeline.config import PredictConfig
from pipeline.schema import Document
from pipeline.tagger import Tagger, TaggerSettings

log = logging.getLogger(__name__)


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


def dump_items(cfg: PredictConfig, input_format: str, store: ShardStore) -> Iterator[Item]:
    """The dump's items from the first unfinished shard on (earlier records are passed
    over unparsed)."""
    first_todo = next(k for k in range(len(store.done) + 1) if k not in store.done)
    return read_dump(cfg.input, input_format, id_field=cfg.id_field, text_field=cfg.text_field,
                     max_chars=cfg.max_chars, skip_before=first_todo * cfg.chunk_size)


class RecordCounter:
    """Counts records as they stream past (the total is known only at the end)."""

    def __init__(self, items: Iterable[Item]):
        self.items, self.last = items, -1

    def __iter__(self) -> Iterator[Item]:
        for it in self.items:
            self.last = it.record_no
            yield it


def run_local(cfg: PredictConfig, settings: TaggerSettings, input_format: str,
              store: ShardStore) -> tuple[int, int]:
    """Tag shard by shard in this process; returns (records in the dump, records processed).

    Args:
        cfg: the predict config (input, fields, filter, chunk size).
        settings: the resolved tagger settings.
        input_format: the dump's format.
        store: the open output folder (finished shards are passed over).
    """
    tagger = Tagger.from_dir(cfg.model_dir, settings)
    doc_filter = load_doc_filter(cfg)
    stream = RecordCounter(dump_items(cfg, input_format, store))
    processed = 0
    with progress_bar(store) as bar:
        for shard, items in chunks(stream, cfg.chunk_size, store.done):
            result = tag_chunk(items, tagger, doc_filter, cfg.filter_threshold)
            store.write(shard, items, result)
            processed += len(items)
            bar.update(len(items))
    return record_total(stream.last, store), processed


def record_total(last_seen: int, store: ShardStore) -> int:
    # When every record was passed over (all shards done), the manifest knows the end.
    ends = [e["last"] for e in store.shards.values()]
    return max([last_seen, *ends]) + 1 if ends or last_seen >= 0 else 0
