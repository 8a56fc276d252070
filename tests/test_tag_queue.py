"""The batch engine's TagQueue: documents of several chunks tagged together, shards
written in order once all their documents are tagged, the first flush early."""

from __future__ import annotations

from pipeline.batch.engine import FilteredChunk, TagQueue
from pipeline.schema import Document


class FakeTagger:
    def __init__(self):
        self.calls: list[list[str]] = []

    def predict(self, docs):
        self.calls.append([d.id for d in docs])
        return [Document(d.id, d.text, meta=dict(d.meta)) for d in docs]


class FakeStore:
    def __init__(self):
        self.written: list[tuple[int, list[str], list[bool]]] = []

    def write(self, shard, items, result):
        self.written.append((shard, [d.id for d in result.docs], [d.meta["tagged"] for d in result.docs]))


class FakeBar:
    def __init__(self):
        self.n = 0

    def update(self, n):
        self.n += n


def chunk(shard: int, n: int, keep_every: int) -> FilteredChunk:
    docs = [Document(f"s{shard}-{i}", f"Peru expels diplomat {shard}-{i}.") for i in range(n)]   # distinct texts
    keep = [i % keep_every == 0 for i in range(n)]
    return FilteredChunk(shard, list(range(n)), docs, [], keep, [0.9 if k else 0.1 for k in keep])


def test_queue_flushes_early_then_in_full_batches_and_writes_every_shard_once_in_order():
    tagger, store, bar = FakeTagger(), FakeStore(), FakeBar()
    q = TagQueue(tagger, store, bar, max_docs=64, first_docs=4)
    for shard in range(12):
        q.add(chunk(shard, 10, keep_every=2))     # 5 filter-passing documents a chunk
    q.flush()
    for shard in range(12, 27):                   # 75 more: one full flush (>= 64), 10 left
        q.add(chunk(shard, 10, keep_every=2))
    q.flush()
    sizes = [len(c) for c in tagger.calls]
    # the first flush after one chunk (>= 4 queued); the rest wait for 64: 55 at the first
    # explicit flush, then one full flush of 65 and 10 left for the last
    assert sizes == [5, 55, 65, 10]
    assert [w[0] for w in store.written] == list(range(27))
    assert bar.n == 270
    for shard, ids, tagged in store.written:
        assert ids == [f"s{shard}-{i}" for i in range(10)]
        assert tagged == [i % 2 == 0 for i in range(10)]
    tagged_ids = [i for c in tagger.calls for i in c]
    assert len(tagged_ids) == len(set(tagged_ids)) == 135


def test_first_docs_never_exceeds_max_docs():
    tagger = FakeTagger()
    q = TagQueue(tagger, FakeStore(), FakeBar(), max_docs=8, first_docs=32)
    q.add(chunk(0, 8, keep_every=1))              # 8 queued = max_docs: tagged at once
    assert [len(c) for c in tagger.calls] == [8]


def test_a_failed_write_leaves_only_the_unwritten_chunks_in_the_queue():
    class FailingOnce(FakeStore):
        def write(self, shard, items, result):
            if shard == 1 and not getattr(self, "failed", False):
                self.failed = True
                raise OSError("disk full")
            super().write(shard, items, result)

    tagger, store = FakeTagger(), FailingOnce()
    q = TagQueue(tagger, store, FakeBar(), max_docs=100, first_docs=100)
    for shard in range(3):
        q.add(chunk(shard, 4, keep_every=1))
    try:
        q.flush()
    except OSError:
        pass
    assert [w[0] for w in store.written] == [0]
    q.flush()                                     # retried: shard 0 is not written again, and
    assert [w[0] for w in store.written] == [0, 1, 2]   # the texts of 1 and 2, tagged before the
    assert len(tagger.calls) == 1                 # failed write, are not tagged again (SeenTexts)
    assert [ids for _, ids, _ in store.written[1:]] == [[f"s{s}-{i}" for i in range(4)] for s in (1, 2)]
