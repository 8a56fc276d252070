"""The Ray engine (``engine=ray``): the same filter and tagger on a Ray Data pipeline.

Ray connects to the cluster named by ``RAY_ADDRESS`` (or one started on this node with
``ray start``), else starts a local one; see ``docs/cluster.md``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from pipeline.batch.dumps import Item, Record, Reject, read_dump
from pipeline.batch.engine import record_total, tag_chunk
from pipeline.batch.progress import progress_bar
from pipeline.batch.settings import BatchSettings, load_doc_filter
from pipeline.batch.store import ChunkResult, ShardStore
from pipeline.errors import PredictError
from pipeline.tagger import Tagger, TaggerSettings

RAY_HINT = "engine=ray needs Ray Data: pip install 'expel-pipeline[ray]'"


def run_ray(batch: BatchSettings, settings: TaggerSettings, store: ShardStore) -> tuple[int, int]:
    """Tag with a Ray Data pipeline: the dump is read by one streaming read task (the same
    readers), tagged by a pool of actors that each load the model once with the resolved
    ``settings``, and the results come back in record order to this process, which writes
    the shards as the local engine does.

    Raises:
        PredictError: Ray Data is not installed.
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
    cpus_per_actor = max(batch.threads, 1)
    actors = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))
    ds = ray.data.read_datasource(_dump_datasource(batch, store.done, store))
    # A killed actor is restarted and its batch retried (the driver writes each shard once,
    # in record order, so a retried batch cannot land twice).
    ds = ds.map_batches(_RayTagger, fn_constructor_args=(asdict(batch), asdict(settings)), batch_size=batch.chunk_size,
                        batch_format="pyarrow", concurrency=(1, actors), num_cpus=cpus_per_actor,
                        max_restarts=-1, max_task_retries=-1)
    last, processed, pending, plan = -1, 0, [], store.plan
    with progress_bar(store) as bar:
        for block in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            for row in block.to_pylist():
                shard = plan.shard_of(row["record_no"])
                if pending and plan.shard_of(pending[0]["record_no"]) != shard:
                    processed += _write_ray_shard(store, batch, pending)
                    bar.update(len(pending))
                    pending = []
                pending.append(row)
                last = row["record_no"]
        if pending:
            processed += _write_ray_shard(store, batch, pending)
            bar.update(len(pending))
    return record_total(last, store), processed


def _dump_datasource(batch: BatchSettings, done: set[int], store: ShardStore):
    """A Ray Datasource with one streaming read task over ``read_dump`` (a dump is one
    sequential stream); records of finished shards are left out, rejects ride along."""
    import pyarrow as pa
    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    plan = store.plan
    skip_before = plan.first_record(min(set(range(len(done) + 1)) - done))
    args = dict(path=batch.input, fmt=batch.input_format, id_field=batch.id_field, text_field=batch.text_field,
                max_chars=batch.max_chars, skip_before=skip_before, date_field=batch.date_field)
    chunk_size, done = batch.chunk_size, frozenset(done)

    def read_fn():
        rows = []
        for it in read_dump(**args):
            if plan.shard_of(it.record_no) in done:
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

    def __init__(self, batch: dict[str, Any], settings: dict[str, Any]):
        self.batch = BatchSettings(**batch)
        settings = TaggerSettings(**settings)
        if self.batch.threads > 0 and settings.runtime == "torch":
            import torch

            torch.set_num_threads(self.batch.threads)
        self.tagger = Tagger.from_dir(self.batch.model_dir, settings)
        self.doc_filter = load_doc_filter(self.batch.filter)

    def __call__(self, batch):
        import pyarrow as pa

        items = [_row_item(r) for r in batch.to_pylist()]
        records = [it for it in items if isinstance(it, Record)]
        res = tag_chunk(records, self.tagger, self.doc_filter, self.batch.filter_threshold)
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


def _write_ray_shard(store: ShardStore, batch: BatchSettings, rows: list[dict[str, Any]]) -> int:
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
    store.write(store.plan.shard_of(rows[0]["record_no"]), items, result)
    return len(rows)
