"""The local engine: filter, tag and write a dump shard by shard in this process.

Documents that pass the document filter are tagged (several chunks' worth together, in
batches of similar length: :class:`TagQueue`); the others keep ``"events": []`` and say
``"tagged": false``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from pipeline.batch.dumps import Item, Record, Reject, read_dump
from pipeline.batch.progress import Phases, progress_bar
from pipeline.batch.settings import BatchSettings, load_doc_filter
from pipeline.batch.store import ChunkResult, ShardPlan, ShardStore
from pipeline.schema import Document, Event
from pipeline.tagger import Tagger, TaggerSettings

log = logging.getLogger(__name__)


@dataclass
class FilteredChunk:
    """One chunk of dump items after the document filter, waiting for the tagger."""

    shard: int
    items: list[Item]
    docs: list[Document]               # the usable records, in record order
    rejects: list[Reject]
    keep: list[bool]                   # per document: the filter let it through
    scores: list[float] | None         # per document: the filter's score (None: no filter)


def filter_chunk(shard: int, items: Sequence[Item], doc_filter=None,
                 threshold: float | None = None) -> FilteredChunk:
    """Run the document filter over one chunk; rejects pass through."""
    records = [it for it in items if isinstance(it, Record)]
    rejects = [it for it in items if isinstance(it, Reject)]
    docs = [Document(id=r.id, text=r.text, meta=dict(r.fields)) for r in records]
    if doc_filter is None or not records:
        return FilteredChunk(shard, list(items), docs, rejects, [True] * len(docs), None)
    gated, scores = doc_filter.gated_scores([r.text for r in records])
    t = doc_filter.threshold if threshold is None else threshold
    keep = [bool(g and sc >= t) for g, sc in zip(gated, scores)]
    return FilteredChunk(shard, list(items), docs, rejects, keep, [round(float(x), 4) for x in scores])


def finish_chunk(fc: FilteredChunk, tagged: Iterator[Document]) -> ChunkResult:
    """The chunk's output documents: the tagged ones from ``tagged`` (in order), the
    others as they are; every line says whether the tagger read it (``"tagged"``) and,
    with a filter, the filter's score (``"filter_score"``)."""
    out = []
    for i, (d, k) in enumerate(zip(fc.docs, fc.keep)):
        doc = next(tagged) if k else d
        doc.meta["tagged"] = k
        if fc.scores is not None:
            doc.meta["filter_score"] = fc.scores[i]
        out.append(doc)
    return ChunkResult(out, fc.rejects, events=sum(len(d.events) for d in out),
                       filtered_out=len(fc.keep) - sum(fc.keep), passed=fc.keep)


class SeenTexts:
    """Texts already tagged in this run and their events (syndicated wire copy repeats
    across outlets word for word): each distinct text is tagged once and every copy gets
    its events, under its own id.  Keyed by a hash of the text; the oldest are forgotten
    past ``limit`` texts, so memory stays bounded on a long run."""

    def __init__(self, limit: int = 20_000):
        from collections import OrderedDict

        self.limit = limit
        self.events: "OrderedDict[bytes, list]" = OrderedDict()
        self.reused = 0

    @staticmethod
    def key(text: str) -> bytes:
        import hashlib

        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def predict(self, tagger, docs: list[Document]) -> list[Document]:
        """``tagger.predict(docs)``, with every text tagged at most once in the run."""
        import copy

        keys = [self.key(d.text) for d in docs]
        todo: dict[bytes, Document] = {}
        for k, d in zip(keys, docs):
            if k not in self.events and k not in todo:
                todo[k] = d
        for k, out in zip(todo, tagger.predict(list(todo.values())) if todo else ()):
            self.events[k] = out.events          # kept here; every output gets its own copy
        result = []
        for k, d in zip(keys, docs):
            first = todo.get(k) is d
            if not first:
                self.reused += 1
            self.events.move_to_end(k)
            # Spans are frozen, so they are shared; the lists and the extra fields are copied.
            events = [Event(e.trigger, list(e.arguments), copy.deepcopy(e.extra) if e.extra else {})
                      for e in self.events[k]]
            result.append(Document(id=d.id, text=d.text, events=events, meta=dict(d.meta)))
        while len(self.events) > self.limit:
            self.events.popitem(last=False)
        return result


def tag_chunk(items: Sequence[Item], tagger, doc_filter=None,
              threshold: float | None = None) -> ChunkResult:
    """Filter, tag and link one chunk of dump items on its own (the Ray workers' unit);
    identical texts of the chunk are tagged once."""
    fc = filter_chunk(0, items, doc_filter, threshold)
    to_tag = [d for d, k in zip(fc.docs, fc.keep) if k]
    return finish_chunk(fc, iter(SeenTexts().predict(tagger, to_tag) if to_tag else ()))


class TagQueue:
    """Filter-passing documents of consecutive chunks, tagged together.

    After filtering, a chunk of 1,000 news items leaves a few dozen documents; tagging
    them chunk by chunk pads every batch to the longest of a handful.  The queue gathers
    the documents of several chunks until it holds ``max_docs`` (or ``max_chunks``
    chunks wait), tags them in one call (the tagger sorts all their windows by length, so
    batches hold windows of similar length), then writes the waiting chunks' shards in
    order.  A shard is written only when all its documents are tagged, so resume and
    exactly-once output are as before; at most ``max_chunks`` unwritten chunks are lost
    to a kill.

    The first flush comes early: it waits for ``first_docs`` documents only, the later ones
    for ``max_docs``, so the first results are written seconds after start-up rather than
    after ``max_docs`` documents have been tagged.  A text already tagged in the run is not
    tagged again (:class:`SeenTexts`): its copies get its events under their own ids.
    """

    def __init__(self, tagger, store: ShardStore, bar, max_docs: int = 512, max_chunks: int = 50,
                 phases: Phases | None = None, first_docs: int = 32):
        self.tagger, self.store, self.bar = tagger, store, bar
        self.phases = phases or Phases()
        self.max_docs, self.max_chunks = max_docs, max_chunks
        self.threshold = max(1, min(first_docs, max_docs))
        self.pending: list[FilteredChunk] = []
        self.queued = 0
        self.seen = SeenTexts()

    def add(self, fc: FilteredChunk) -> None:
        self.pending.append(fc)
        self.queued += sum(fc.keep)
        if self.queued >= self.threshold or len(self.pending) >= self.max_chunks:
            self.flush()
            self.threshold = self.max_docs

    def flush(self) -> None:
        to_tag = [d for fc in self.pending for d, k in zip(fc.docs, fc.keep) if k]
        with self.phases.time("tagger"):
            tagged = iter(self.seen.predict(self.tagger, to_tag) if to_tag else ())
        self.phases.reused = self.seen.reused
        if to_tag:
            self.phases.tagged()
        with self.phases.time("write"):
            while self.pending:      # a chunk leaves the queue once its shard is written
                fc = self.pending[0]
                self.store.write(fc.shard, fc.items, finish_chunk(fc, tagged))
                self.pending.pop(0)
                self.queued -= sum(fc.keep)
                self.bar.update(len(fc.items))


def chunks(items: Iterable[Item], plan: ShardPlan, done: set[int]) -> Iterator[tuple[int, list[Item]]]:
    """``(shard number, items)``: the records of each shard of ``plan`` in turn; shards in
    ``done`` are passed over."""
    shard, buf = None, []
    for it in items:
        k = plan.shard_of(it.record_no)
        if k != shard:
            if buf and shard not in done:
                yield shard, buf
            shard, buf = k, []
        if k not in done:
            buf.append(it)
    if buf and shard not in done:
        yield shard, buf


def dump_items(batch: BatchSettings, store: ShardStore) -> Iterator[Item]:
    """The dump's items from the first unfinished shard on (earlier records are passed
    over unparsed)."""
    first_todo = next(k for k in range(len(store.done) + 1) if k not in store.done)
    return read_dump(batch.input, batch.input_format, id_field=batch.id_field, text_field=batch.text_field,
                     max_chars=batch.max_chars, skip_before=store.plan.first_record(first_todo),
                     date_field=batch.date_field)


class RecordCounter:
    """Counts records as they stream past (the total is known only at the end)."""

    def __init__(self, items: Iterable[Item]):
        self.items, self.last = items, -1

    def __iter__(self) -> Iterator[Item]:
        for it in self.items:
            self.last = it.record_no
            yield it


def _timed(items: Iterable, phases: Phases, phase: str) -> Iterator:
    """``items`` with the time spent producing each one added to ``phase``."""
    it = iter(items)
    while True:
        with phases.time(phase):
            try:
                x = next(it)
            except StopIteration:
                return
        yield x


def run_local(batch: BatchSettings, settings: TaggerSettings,
              store: ShardStore, phases: Phases | None = None) -> tuple[int, int]:
    """Tag shard by shard in this process; returns (records in the dump, records processed).

    Args:
        batch: the resolved batch settings (input, fields, filter, chunk size).
        settings: the resolved tagger settings.
        store: the open output folder (finished shards are passed over).
    """
    phases = phases or Phases()
    tagger = Tagger.from_dir(batch.model_dir, settings)
    doc_filter = load_doc_filter(batch.filter)
    stream = RecordCounter(dump_items(batch, store))
    processed = 0
    with progress_bar(store) as bar:
        queue = TagQueue(tagger, store, bar, max_docs=batch.queue_docs, phases=phases)
        in_queue = False
        try:
            for shard, items in _timed(chunks(stream, store.plan, store.done), phases, "read"):
                with phases.time("filter"):
                    fc = filter_chunk(shard, items, doc_filter, batch.filter_threshold)
                in_queue = True
                queue.add(fc)
                in_queue = False
                processed += len(items)
        except Exception:
            # The input broke off (a read error): the chunks read before it are whole, so
            # they are tagged and written before the error goes on; the rerun resumes after.
            # An error of the tagger or the store itself is not retried here.
            if not in_queue:
                _flush_quietly(queue)
            raise
        queue.flush()
    return record_total(stream.last, store), processed


def _flush_quietly(queue: TagQueue) -> None:
    try:
        queue.flush()
    except Exception as e:          # the first error is the one to report
        log.warning("could not write the chunks read before the error (%s); they are redone", e)


def record_total(last_seen: int, store: ShardStore) -> int:
    # When every record was passed over (all shards done), the manifest knows the end.
    ends = [e["last"] for e in store.shards.values()]
    return max([last_seen, *ends]) + 1 if ends or last_seen >= 0 else 0
