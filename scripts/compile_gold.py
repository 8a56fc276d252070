"""Compile annotators' inline-markup files into the gold events JSONL splits.

Usage: python scripts/compile_gold.py ANNOT_DIR ITEMS_JSONL
ANNOT_DIR holds out_<pool>.jsonl files ({"id", "markup", "note"}) written by annotators
after reading each item; ITEMS_JSONL is the news dump they were drawn from.  Items dated
2023-01-01 or later are refused.  Split by date: dev = 2020-2022, train = 2002-2019.
"""
import json
import sys
from pathlib import Path

from pipeline.formats.inline import parse_markup
from pipeline.formats.jsonl import write_events_jsonl
from pipeline.schema import RESERVED_FROM

POOLS = {"candA": "keyword", "candB": "keyword", "candC": "keyword",
         "hardneg1": "hard-negative", "hardneg2": "hard-negative", "random": "random"}
DEV_FROM = "2020-01-01"


def main(annot_dir: str, items_path: str) -> None:
    wanted = {}
    for pool in POOLS:
        for line in open(Path(annot_dir) / f"out_{pool}.jsonl", encoding="utf-8"):
            rec = json.loads(line)
            wanted[rec["id"]] = (pool, rec)
    items = {}
    for line in open(items_path, encoding="utf-8"):
        d = json.loads(line)
        if d["id"] in wanted:
            items[d["id"]] = d
    train, dev = [], []
    for doc_id in sorted(wanted):
        pool, rec = wanted[doc_id]
        item = items[doc_id]
        if item["date"] >= RESERVED_FROM:
            raise SystemExit(f"{doc_id} is dated {item['date']}: reserved for independent evaluation")
        meta = {"date": item["date"], "category": item["category"], "source": item["source"],
                "pool": POOLS[pool]}
        if rec.get("note"):
            meta["note"] = rec["note"]
        doc = parse_markup(doc_id, rec["markup"], meta=meta, path=f"out_{pool}.jsonl")
        if doc.text != item["text"]:
            raise SystemExit(f"{doc_id}: markup text differs from the item text")
        (dev if item["date"] >= DEV_FROM else train).append(doc)
    print("train", write_events_jsonl(train, "data/gold/train.jsonl"),
          "dev", write_events_jsonl(dev, "data/gold/dev.jsonl"))
    seed = json.loads(open(Path(annot_dir) / "out_seed.jsonl", encoding="utf-8").readline())
    doc = parse_markup(seed["id"], seed["markup"],
                       meta={"date": "2021-10-06", "source": "The Daily Beast (seed article)",
                             "pool": "seed", "note": seed.get("note", "")})
    write_events_jsonl([doc], "seeds/nato-expels-eight-russian-officials.events.jsonl")


if __name__ == "__main__":
    main(*sys.argv[1:])
