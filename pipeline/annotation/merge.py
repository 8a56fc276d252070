"""``expel-merge``: add corrected annotations (a Label Studio or doccano export, or any
corpus format) to a gold file, with checks and a summary of what changed.

Usage::

    expel-merge data/gold/train.jsonl export.labelstudio.json --dry-run
    expel-merge data/gold/train.jsonl export.labelstudio.json
    expel-merge data/gold/train.jsonl corrected.doccano.jsonl --replace

Checks, each naming the document:

- an id already in the gold file with **another text** is refused (the export is of a
  different item; give it a new id);
- an id already there with the same text and **other annotations** is refused unless
  ``--replace`` (a correction of a gold document);
- an id given twice in the new files is refused;
- spans that break the contract (overlaps, offsets that do not match the text) are
  refused by the readers, with the task or line;
- an item dated 2023-01-01 or later is refused (reserved for independent evaluation)
  unless ``--no-reservation`` says the data has no such rule;
- a text already in the gold file under another id is reported (the same story filed
  twice) and added.

Selection bookkeeping that ``expel-annotate`` put into the tasks (``selection``,
``uncertainty``, ``filter_score``, ``tagged``) is dropped.  The gold file is rewritten
atomically; nothing is written with ``--dry-run`` or when anything is refused.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from pipeline.errors import ExpelError
from pipeline.files import atomic_lines
from pipeline.formats.labelstudio import UNCHANGED
from pipeline.schema import RESERVED_FROM, ROLES, Document

BOOKKEEPING = ("selection", "uncertainty", "filter_score", "tagged", UNCHANGED)
# The date ranges of the shipped splits (data/README.md): a document merged into a file
# of other years would blur the split by date that data=heldout and cross-validation use.
SPLIT_YEARS = {"train.jsonl": (2002, 2019), "dev.jsonl": (2020, 2022)}


@dataclass
class MergeReport:
    """What a merge adds, replaces and refuses."""

    added: list[Document] = field(default_factory=list)
    replaced: list[Document] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicate_texts: list[tuple[str, str]] = field(default_factory=list)   # (new id, gold id)
    refused: list[str] = field(default_factory=list)                        # messages
    unreviewed: list[str] = field(default_factory=list)   # ids whose annotation is the model's proposal as is
    other_years: dict[str, list[str]] = field(default_factory=dict)  # split file -> ids left out for it

    def text(self) -> str:
        events = sum(len(d.events) for d in self.added + self.replaced)
        roles = Counter(a.label for d in self.added + self.replaced for e in d.events for a in e.arguments)
        lines = [f"added {len(self.added)} document(s) ({sum(1 for d in self.added if d.events)} with events), "
                 f"replaced {len(self.replaced)}, unchanged {len(self.unchanged)}, refused {len(self.refused)}",
                 f"events in added and replaced documents: {events}; arguments: "
                 + ", ".join(f"{r} {roles.get(r, 0)}" for r in ROLES)]
        lines += [f"  same text as gold {g!r}: {n!r} (added; the same story filed twice?)"
                  for n, g in self.duplicate_texts]
        lines += [f"  refused: {m}" for m in self.refused]
        for home, ids in self.other_years.items():
            lines.append(f"  left out {len(ids)} document(s) of other years ({', '.join(ids[:5])}"
                         f"{', ...' if len(ids) > 5 else ''}): they belong in {home}; merge the same "
                         "export there too (the split by date stays clean)")
        if self.unreviewed:
            shown = ", ".join(self.unreviewed[:10]) + (", ..." if len(self.unreviewed) > 10 else "")
            lines.append(f"  {len(self.unreviewed)} document(s) hold exactly the model's proposed spans, unchanged "
                         f"({shown}): gold is what a person read and corrected, so open them in Label Studio "
                         "and check them before training on them")
        return "\n".join(lines)


def _clean(doc: Document) -> Document:
    meta = {k: v for k, v in doc.meta.items() if k not in BOOKKEEPING}
    return Document(doc.id, doc.text, doc.events, meta)


def _same_annotations(a: Document, b: Document) -> bool:
    return sorted(e.to_json().__repr__() for e in a.events) == sorted(e.to_json().__repr__() for e in b.events)


def _first_difference(a: str, b: str, context: int = 30) -> str:
    """Where two texts part: the character and a few words of each around it."""
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    lo = max(0, i - context)
    return (f"they differ from character {i} (gold {len(a)} characters, new {len(b)}): gold "
            f"{a[lo:i + context]!r}, new {b[lo:i + context]!r}")


def split_years(gold_path: str | Path | None) -> tuple[int, int] | None:
    """The years a gold file holds by this project's split (train 2002-2019, dev 2020-2022),
    or None for a file of another name."""
    return SPLIT_YEARS.get(Path(gold_path).name) if gold_path else None


def plan_merge(gold: Sequence[Document], new: Sequence[Document], *, replace: bool = False,
               reservation: bool = True, years: tuple[int, int] | None = None) -> MergeReport:
    """Decide what a merge does, without writing anything.

    Args:
        years: the first and last year the gold file holds (its split); a document of
            another year is refused, naming the file of its split.
    """
    report = MergeReport()
    by_id = {d.id: d for d in gold}
    by_text = {d.text: d.id for d in gold}
    seen: set[str] = set()
    report.unreviewed = [d.id for d in new if d.meta.get(UNCHANGED)]
    for doc in map(_clean, new):
        if doc.id in seen:
            report.refused.append(f"id {doc.id!r} is given twice in the new files")
            continue
        seen.add(doc.id)
        if reservation and str(doc.date or "") >= RESERVED_FROM:
            report.refused.append(f"id {doc.id!r} is dated {doc.date}: items dated {RESERVED_FROM} or later are "
                                  "reserved for independent evaluation (--no-reservation if your data has no such rule)")
            continue
        year = int(str(doc.date)[:4]) if doc.date and str(doc.date)[:4].isdigit() else None
        if years and year is not None and not years[0] <= year <= years[1]:
            home = next((n for n, (a, b) in SPLIT_YEARS.items() if a <= year <= b), "a file of your own")
            report.other_years.setdefault(home, []).append(doc.id)
            continue
        old = by_id.get(doc.id)
        if old is not None and old.text != doc.text:
            report.refused.append(f"id {doc.id!r} is in the gold file with another text; "
                                  f"{_first_difference(old.text, doc.text)}; give the new document its own id")
        elif old is not None and _same_annotations(old, doc):
            report.unchanged.append(doc.id)
        elif old is not None and not replace:
            report.refused.append(f"id {doc.id!r} is in the gold file with other annotations; pass --replace to "
                                  "take the corrected version")
        elif old is not None:
            report.replaced.append(doc)
        else:
            if doc.text in by_text:
                report.duplicate_texts.append((doc.id, by_text[doc.text]))
            report.added.append(doc)
    return report


def apply_merge(gold_path: str | Path, gold: Sequence[Document], report: MergeReport) -> int:
    """Rewrite the gold file (events JSONL) with the report's changes, atomically."""
    from pipeline.formats.jsonl import dumps_document

    replaced = {d.id: d for d in report.replaced}
    docs = [replaced.get(d.id, d) for d in gold] + sorted(report.added, key=lambda d: (str(d.date or ""), d.id))
    path = Path(gold_path)
    atomic_lines(path, (dumps_document(d) for d in docs))
    return len(docs)


def main(argv: Sequence[str] | None = None) -> int:
    from pipeline.formats import read_corpus

    ap = argparse.ArgumentParser(prog="expel-merge", description=__doc__.split("\n\n")[0])
    ap.add_argument("gold", help="the gold file to add to (events JSONL, rewritten in place)")
    ap.add_argument("new", nargs="+", help="corrected exports: Label Studio JSON, doccano JSONL, any corpus format")
    ap.add_argument("--format", default=None, help="format of the new files (default: from the name)")
    ap.add_argument("--replace", action="store_true", help="take corrected versions of documents already in gold")
    ap.add_argument("--no-reservation", action="store_true",
                    help="accept items dated 2023-01-01 or later (data without this project's reservation)")
    ap.add_argument("--any-year", action="store_true",
                    help="accept documents of any year into train.jsonl / dev.jsonl (blurs the split by date)")
    ap.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    a = ap.parse_args(argv)
    try:
        gold = list(read_corpus(a.gold)) if Path(a.gold).is_file() else []
        if not Path(a.gold).is_file():
            print(f"note: {a.gold} does not exist yet; it will be created")
        new = [d for p in a.new for d in read_corpus(p, a.format)]
        report = plan_merge(gold, new, replace=a.replace, reservation=not a.no_reservation,
                            years=None if a.any_year else split_years(a.gold))
    except (ExpelError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(report.text())
    if report.refused:
        print(f"nothing written: fix the {len(report.refused)} refused document(s) above, or leave them out",
              file=sys.stderr)
        return 1
    if a.dry_run:
        print("dry run: nothing written")
        return 0
    n = apply_merge(a.gold, gold, report)
    print(f"wrote {a.gold}: {n} documents")
    return 0

