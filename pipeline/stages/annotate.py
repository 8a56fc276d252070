"""The annotate stage: a dump in, documents for a person to correct out, pre-annotated.

``annotate(cfg, run_dir)`` streams the dump, leaves out documents already in the gold
files (by id and by text) and, for this project's data, items dated 2023-01-01 or later;
runs the document filter, tags what passes, picks ``cfg.n`` documents
(:mod:`pipeline.annotation.selection`) and writes into ``cfg.output``:

- ``tasks.labelstudio.json``: Label Studio tasks whose ``predictions`` are the model's
  spans and trigger -> argument relations (import them into a project made with
  ``labeling_config.xml``; accepting or correcting a prediction makes the annotation);
- ``labeling_config.xml``: the labelling interface for those tasks;
- ``tasks.doccano.jsonl``: the same documents pre-annotated for doccano (entities and
  relations);
- ``selection.jsonl``: why each document was picked (bucket, uncertainty, filter score).

The corrected export comes back with ``expel-merge GOLD EXPORT`` (:mod:`pipeline.annotation.merge`).
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

from pipeline.config import AnnotateConfig

log = logging.getLogger(__name__)

CHUNK = 1000


def annotate(cfg: AnnotateConfig, run_dir: str | Path) -> dict[str, Any]:
    """Pick documents to annotate and write them as pre-annotated tasks.

    Returns:
        ``{"picked", "buckets", "read", "excluded", "reserved", "tagged", "output", "files"}``.

    Raises:
        MissingFileError: the input or an ``exclude`` gold file is missing.
        ModelDirError: the model directory is missing or unsafe.
        ConfigError: bad shares or a non-positive ``n``.
    """
    from pipeline.batch.dumps import Record, read_dump
    from pipeline.batch.settings import filter_path, load_doc_filter
    from pipeline.training.corpus import load_gold
    from pipeline.errors import ConfigError, MissingFileError
    from pipeline.tagger.loading import check_model_dir
    from pipeline.schema import RESERVED_FROM, Document
    from pipeline.annotation.selection import Candidate, select
    from pipeline.tagger import Tagger, resolve_settings

    if cfg.n <= 0:
        raise ConfigError(f"n must be a positive number of documents, got {cfg.n}")
    if not Path(cfg.input).exists():
        raise MissingFileError(f"input {cfg.input!r} does not exist (working directory: {Path.cwd()}); "
                               "set input=PATH to a dump")
    check_model_dir(cfg.model_dir)
    gold = load_gold(cfg.exclude) if cfg.exclude else []
    gold_ids, gold_texts = {d.id for d in gold}, {d.text for d in gold}
    doc_filter = load_doc_filter(filter_path(cfg.filter, cfg.model_dir))
    rng = random.Random(cfg.seed)
    passing: list[Candidate] = []
    others: list[Candidate] = []
    counts = {"read": 0, "excluded": 0, "reserved": 0, "passed_filter": 0}
    keep_others = max(3 * cfg.n, 200)
    offered = {True: 0, False: 0}            # documents offered to each reservoir so far

    def take(chunk: list[Document]) -> None:
        if not chunk:
            return
        texts = [d.text for d in chunk]
        keep = doc_filter.keep(texts, cfg.filter_threshold) if doc_filter else [True] * len(chunk)
        scores = doc_filter.scores(texts) if doc_filter else [None] * len(chunk)
        for d, k, s in zip(chunk, keep, scores):
            k = bool(k)
            offered[k] += 1
            counts["passed_filter"] += k
            _reservoir(passing if k else others, Candidate(d, k, None if s is None else round(float(s), 4)),
                       cfg.max_tagged if k else keep_others, offered[k], rng)

    chunk: list[Document] = []
    for it in read_dump(cfg.input, cfg.input_format, id_field=cfg.id_field, text_field=cfg.text_field,
                        max_chars=cfg.max_chars, date_field=cfg.date_field):
        if not isinstance(it, Record):
            continue
        if it.id in gold_ids or it.text in gold_texts:
            counts["excluded"] += 1
            continue
        if cfg.reserved and str(it.fields.get("date") or "") >= RESERVED_FROM:
            counts["reserved"] += 1
            continue
        counts["read"] += 1
        chunk.append(Document(it.id, it.text, meta=dict(it.fields)))
        if len(chunk) >= CHUNK:
            take(chunk)
            chunk = []
    take(chunk)
    tagger = Tagger.from_dir(cfg.model_dir, resolve_settings(cfg.tagger, cfg.model_dir))
    tagged = tagger.predict([c.doc for c in passing]) if passing else []
    for c, d in zip(passing, tagged):
        c.doc = d
    try:
        picks = select(passing + others, cfg.n, uncertain_share=cfg.uncertain_share,
                       confident_share=cfg.confident_share, seed=cfg.seed)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    files = _write(picks, Path(cfg.output), model_version=Path(cfg.model_dir).resolve().name)
    buckets = {b: sum(p.bucket == b for p in picks) for b in ("uncertain", "confident", "random")}
    summary = {"picked": len(picks), "buckets": buckets, **counts, "tagged": len(passing),
               "merge_into": merge_targets(p.candidate.doc.date for p in picks),
               "output": str(cfg.output), "files": {k: str(v) for k, v in files.items()}}
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "annotate_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def merge_targets(dates) -> dict[str, int]:
    """How many picked documents belong in each gold file, by the split's years (train
    2002-2019, dev 2020-2022); others (no date, or another year) under ``"your own file"``."""
    from pipeline.annotation.merge import SPLIT_YEARS

    out: dict[str, int] = {}
    for d in dates:
        year = int(str(d)[:4]) if d and str(d)[:4].isdigit() else None
        name = next((f"data/gold/{n}" for n, (a, b) in SPLIT_YEARS.items()
                     if year is not None and a <= year <= b), "your own file")
        out[name] = out.get(name, 0) + 1
    return out


def _reservoir(pool: list, item, size: int, seen: int, rng: random.Random) -> None:
    """Keep a uniform sample of ``size`` of the ``seen`` items offered so far."""
    if len(pool) < size:
        pool.append(item)
    else:
        k = rng.randrange(seen)
        if k < size:
            pool[k] = item


def _write(picks, out: Path, model_version: str) -> dict[str, Path]:
    from pipeline.formats.doccano import write_doccano
    from pipeline.formats.labelstudio import LABELING_CONFIG, to_prediction_task
    from pipeline.schema import Document

    out.mkdir(parents=True, exist_ok=True)
    docs = []
    for p in picks:
        d = p.candidate.doc
        meta = {**d.meta, "selection": p.bucket}
        if p.uncertainty is not None:
            meta["uncertainty"] = round(p.uncertainty, 4)
        if p.candidate.filter_score is not None:
            meta["filter_score"] = p.candidate.filter_score
        meta["tagged"] = p.candidate.tagged
        docs.append(Document(d.id, d.text, d.events, meta))
    files = {"labelstudio": out / "tasks.labelstudio.json", "labeling_config": out / "labeling_config.xml",
             "doccano": out / "tasks.doccano.jsonl", "selection": out / "selection.jsonl"}
    tasks = [to_prediction_task(d, model_version) for d in docs]
    files["labelstudio"].write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    files["labeling_config"].write_text(LABELING_CONFIG, encoding="utf-8")
    write_doccano(docs, str(files["doccano"]))
    with open(files["selection"], "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"id": d.id, **{k: d.meta[k] for k in ("selection", "uncertainty", "filter_score",
                                                                      "tagged") if k in d.meta},
                                "events": len(d.events)}, ensure_ascii=False) + "\n")
    return files


def summary_text(s: dict[str, Any]) -> str:
    """The lines ``expel-annotate`` prints."""
    b = s["buckets"]
    return (f"\n{s['read']:,} documents read ({s['excluded']:,} already in gold, {s['reserved']:,} reserved "
            f"(dated 2023-01-01 or later) left out); {s['passed_filter']:,} passed the filter, "
            f"{s['tagged']:,} tagged\nPicked {s['picked']} for annotation: {b['uncertain']} uncertain, "
            f"{b['confident']} confident, {b['random']} random filter negatives\n"
            f"Label Studio: import {s['files']['labelstudio']} into a project whose labeling config is "
            f"{s['files']['labeling_config']}\ndoccano: import {s['files']['doccano']} (JSONL, entities and "
            f"relations)\nWhen corrected, export and merge the export into the file of each split; each "
            f"takes the documents of its years and leaves the others:\n" + "\n".join(
                f"  {n} document(s): expel-merge {target if target != 'your own file' else 'data/gold/mine.jsonl'} "
                f"EXPORT_FILE --dry-run" + ("  (undated or of other years; list the file in data.train)"
                                            if target == "your own file" else "")
                for target, n in s.get("merge_into", {}).items()))
