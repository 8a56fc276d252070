"""Accuracy of each normalised field on gold events, against a hand-written table.

The table (default ``data/gold/normalised_dev.jsonl``) has one line per gold event
with arguments: ``doc_id``, ``trigger`` (start, end, text), ``expeller_texts`` (to
tell apart two events that share a trigger) and ``expected`` values written by
reading the text.  The normaliser runs on the gold spans, so these figures measure
normalisation alone, not span prediction.

Fields compared: ``expeller`` and ``expelled`` (the sets of codes), ``count`` (the
triple count, count_min, count_max), ``time_date``, ``deadline_date`` and ``cameo``.

Usage:
    python benchmarks/records_report.py                        # dev + seeds, default table
    python benchmarks/records_report.py data/gold/dev.jsonl --expected my_table.jsonl --errors
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from pipeline.formats.jsonl import read_events_jsonl  # noqa: E402
from pipeline.records.normalise import normalise_event  # noqa: E402

FIELDS = ("expeller", "expelled", "count", "time_date", "deadline_date", "cameo")
DEFAULT_GOLD = ["data/gold/dev.jsonl", "seeds/*.events.jsonl"]
DEFAULT_EXPECTED = "data/gold/normalised_dev.jsonl"


def _key(doc_id: str, trigger: dict[str, Any], expellers: Sequence[str]) -> tuple:
    return doc_id, trigger["start"], trigger["end"], tuple(expellers)


def predicted_fields(gold_paths: Iterable[str]) -> dict[tuple, dict[str, Any]]:
    """Normalise every gold event; key by document, trigger and EXPELLER texts."""
    out: dict[tuple, dict[str, Any]] = {}
    for path in gold_paths:
        for doc in read_events_jsonl(path):
            for ev in doc.events:
                f = normalise_event(ev, doc)
                expellers = [a.text for a in ev.arguments if a.label == "EXPELLER"]
                out[_key(doc.id, ev.trigger.to_json(role_key=None), expellers)] = f
    return out


def _compare(field: str, got: dict[str, Any], want: dict[str, Any]) -> tuple[Any, Any]:
    if field == "expeller":
        return sorted(got.get("expeller_countries") or []), sorted(want["expeller_countries"])
    if field == "expelled":
        return sorted(got.get("expelled_countries") or []), sorted(want["expelled_countries"])
    if field == "count":
        triple = ("count", "count_min", "count_max")
        return [got.get(k) for k in triple], [want[k] for k in triple]
    return got.get(field), want[field]


def report(gold_paths: Sequence[str], expected_path: str) -> dict[str, Any]:
    """Per-field accuracy of the normaliser on the expected table.

    Returns:
        ``events`` compared, ``skipped`` (table rows of documents not in the gold
        files), ``accuracy`` and ``correct`` per field, and the ``errors``.

    Raises:
        FileNotFoundError: when the expected table or a gold file is missing.
        KeyError: when a table line names an event its gold document does not have.
    """
    predicted = predicted_fields(gold_paths)
    rows = [json.loads(line) for line in Path(expected_path).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    # Rows of documents outside the given gold files are left out (and counted).
    docs = {k[0] for k in predicted}
    skipped = sum(1 for r in rows if r["doc_id"] not in docs)
    rows = [r for r in rows if r["doc_id"] in docs]
    hits = {f: 0 for f in FIELDS}
    errors: list[dict[str, Any]] = []
    for row in rows:
        key = _key(row["doc_id"], row["trigger"], row.get("expeller_texts", []))
        if key not in predicted:
            raise KeyError(f"{expected_path}: document {row['doc_id']} has no event with trigger "
                           f"{row['trigger']} and EXPELLER texts {row.get('expeller_texts')}; "
                           "the table and the gold file disagree, regenerate one of them")
        for field in FIELDS:
            got, want = _compare(field, predicted[key], row["expected"])
            if got == want:
                hits[field] += 1
            else:
                errors.append({"doc_id": row["doc_id"], "trigger": row["trigger"]["text"],
                               "field": field, "got": got, "want": want, "note": row.get("note")})
    n = len(rows)
    return {"events": n, "skipped": skipped, "accuracy": {f: hits[f] / n if n else 0.0 for f in FIELDS},
            "correct": hits, "errors": errors}


def _expand(patterns: Sequence[str]) -> list[str]:
    paths: list[str] = []
    for p in patterns:
        matches = sorted(glob.glob(str(ROOT / p) if not Path(p).is_absolute() else p))
        if not matches and not any(c in p for c in "*?["):
            raise FileNotFoundError(f"gold file {p!r} not found")
        paths.extend(matches)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="*", default=DEFAULT_GOLD,
                        help="gold events JSONL files or globs (default: dev and seeds)")
    parser.add_argument("--expected", default=DEFAULT_EXPECTED, help="the hand-written table")
    parser.add_argument("--errors", action="store_true", help="list every mismatch")
    parser.add_argument("--json", help="also write the report to this file")
    args = parser.parse_args(argv)
    expected = args.expected if Path(args.expected).is_absolute() else str(ROOT / args.expected)
    res = report(_expand(args.gold), expected)
    print(f"{res['events']} events" + (f" ({res['skipped']} table rows of other documents left out)"
                                       if res["skipped"] else ""))
    for f in FIELDS:
        print(f"  {f:14s} {res['accuracy'][f]:6.1%}  ({res['correct'][f]}/{res['events']})")
    if args.errors:
        for e in res["errors"]:
            print(f"  {e['doc_id']} {e['trigger']!r} {e['field']}: got {e['got']}, want {e['want']}"
                  + (f"  ({e['note']})" if e["note"] else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
