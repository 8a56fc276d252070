"""``expel-check``: validate corpora in any supported format and print their statistics.

Usage::

    expel-check data/gold/train.jsonl data/gold/dev.jsonl seeds/*.events.jsonl
    expel-check --train data/gold/train.jsonl --dev data/gold/dev.jsonl
    expel-check corpus.conll --format conll --json stats.json

Exits 1 on any error: a broken record (file, line, id and the fix are printed),
a document in both train and dev, a duplicated id or text, or an item dated on or
after 2023-01-01 (reserved for independent evaluation).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from typing import Any

from pipeline.formats import read_corpus
from pipeline.schema import RESERVED_FROM, ROLES, CorpusError, Document


def corpus_stats(docs: list[Document]) -> dict[str, Any]:
    """Counts a reader of a corpus wants before training on it."""
    roles: Counter = Counter()
    lengths: dict[str, list[int]] = {lab: [] for lab in ("TRIGGER", *ROLES)}
    n_events = 0
    for d in docs:
        n_events += len(d.events)
        for s in d.spans():
            lengths[s.label].append(len(s.text.split()))
        for ev in d.events:
            for a in ev.arguments:
                roles[a.label] += 1
    texts = Counter(d.text for d in docs)
    return {
        "documents": len(docs),
        "with_events": sum(1 for d in docs if d.events),
        "negatives": sum(1 for d in docs if not d.events),
        "events": n_events,
        "arguments_per_role": {r: roles[r] for r in ROLES},
        "span_words": {lab: {"n": len(v), "mean": round(statistics.mean(v), 2) if v else 0,
                             "max": max(v) if v else 0} for lab, v in lengths.items()},
        "pools": dict(Counter(str(d.meta.get("pool", "-")) for d in docs)),
        "years": dict(sorted(Counter(str(d.date)[:4] for d in docs if d.date).items())),
        "duplicate_texts": sum(c - 1 for c in texts.values() if c > 1),
        "reserved_items": sorted(d.id for d in docs if d.date and str(d.date) >= RESERVED_FROM),
    }


def problems(named: dict[str, list[Document]], train: list[str], dev: list[str]) -> list[str]:
    """Errors across files: repeated ids, train/dev overlap (ids or texts), reserved items."""
    out = []
    where: dict[str, str] = {}
    for path, docs in named.items():
        for d in docs:
            if d.id in where and where[d.id] != path:
                out.append(f"id {d.id!r} is in both {where[d.id]} and {path}; ids must be unique")
            where[d.id] = path
            if d.date and str(d.date) >= RESERVED_FROM:
                out.append(f"{path}: id {d.id!r} is dated {d.date}: items from {RESERVED_FROM} on are "
                           "reserved for independent evaluation; remove it")
    tr = [d for p in train for d in named[p]]
    dv = [d for p in dev for d in named[p]]
    shared_text = {d.text for d in tr} & {d.text for d in dv}
    if shared_text:
        ex = next(iter(shared_text))[:80]
        out.append(f"{len(shared_text)} text(s) are in both train and dev (e.g. {ex!r}); "
                   "keep each text in one split")
    return out


def read_checked(path: str, fmt: str | None = None) -> tuple[list[Document], list[CorpusError]]:
    """The documents of a corpus file and every problem found in it: line by line for
    events JSONL (all problems of the file), the first problem for the other formats.

    Raises:
        CorpusError: an unknown format.
        OSError: the file cannot be opened.
    """
    from pipeline.formats import guess_format
    from pipeline.formats.jsonl import check_events_jsonl

    if (fmt or guess_format(path)) == "events":
        return check_events_jsonl(path)
    try:
        return read_corpus(path, fmt), []
    except CorpusError as e:
        return [], [e]


def _print_stats(name: str, s: dict[str, Any]) -> None:
    print(f"== {name}")
    print(f"  documents {s['documents']}  with events {s['with_events']}  negatives {s['negatives']}"
          f"  events {s['events']}")
    print("  arguments: " + ", ".join(f"{r} {n}" for r, n in s["arguments_per_role"].items()))
    print("  span length in words (mean/max): " + ", ".join(
        f"{lab} {v['mean']}/{v['max']}" for lab, v in s["span_words"].items() if v["n"]))
    print(f"  pools: {s['pools']}")
    print(f"  duplicate texts: {s['duplicate_texts']}  items dated {RESERVED_FROM} or later: "
          f"{len(s['reserved_items'])}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="expel-check", description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="corpus files (format from the name)")
    ap.add_argument("--train", nargs="*", default=[], help="files of the train split")
    ap.add_argument("--dev", nargs="*", default=[], help="files of the dev split")
    ap.add_argument("--format", default=None, help="force a format (events, inline, conll, doccano, labelstudio)")
    ap.add_argument("--json", default=None, help="also write the statistics to this JSON file")
    ap.add_argument("--max-errors", type=int, default=20, help="problems shown per file (all are counted)")
    args = ap.parse_args(argv)
    paths = [*args.files, *args.train, *args.dev]
    if not paths:
        ap.error("give at least one corpus file")
    named: dict[str, list[Document]] = {}
    errors = 0
    for p in dict.fromkeys(paths):
        try:
            docs, found = read_checked(p, args.format)
        except (CorpusError, OSError, UnicodeDecodeError) as e:
            print(f"error: {e}", file=sys.stderr)
            errors += 1
            continue
        for e in found[:args.max_errors]:
            print(f"error: {e}", file=sys.stderr)
        if len(found) > args.max_errors:
            print(f"error: ... and {len(found) - args.max_errors} more problem(s) in {p} "
                  f"({len(found)} in all; --max-errors N shows more)", file=sys.stderr)
        errors += len(found)
        named[p] = docs
    report: dict[str, Any] = {}
    for p, docs in named.items():
        report[p] = corpus_stats(docs)
        _print_stats(p, report[p])
    if len(named) > 1:
        report["total"] = corpus_stats([d for docs in named.values() for d in docs])
        _print_stats("total", report["total"])
    found = problems(named, [p for p in args.train if p in named], [p for p in args.dev if p in named])
    for msg in found:
        print(f"error: {msg}", file=sys.stderr)
    errors += len(found)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    print(f"{'FAILED' if errors else 'OK'}: {len(named)} file(s) read, {errors} error(s)")
    return 1 if errors else 0
