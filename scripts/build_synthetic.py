"""Compile the project's hand-written synthetic documents into events JSONL.

Usage: python scripts/build_synthetic.py [--check]

Each ``data/synthetic/*.txt`` source holds documents written by this project (no
third-party text), annotated inline as they were written (``[span]{ROLE#n}``,
pipeline/formats/inline.py).  A document starts with a header line::

    ### syn-art-001 | 2019-03-14 | article
    Headline

    WARSAW (Wire) - [Poland]{EXPELLER#1} [expelled]{TRIGGER#1} ...

(id, date, kind: ``article`` or ``pair``; a pair's two halves share an id stem and end
in ``a`` / ``b``).  The body runs to the next header; blank lines inside it are the
article's paragraph breaks.  Every document is written with ``"synthetic": true`` to
``data/synthetic/<source name>.jsonl``: training only (``data.synthetic``), never gold,
never scored.  ``--check`` compares instead of writing (a test runs it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.formats.inline import parse_markup  # noqa: E402
from pipeline.formats.jsonl import dumps_document  # noqa: E402
from pipeline.schema import RESERVED_FROM  # noqa: E402

HEADER = re.compile(r"^### (syn-[a-z]+-\d{3}[ab]?) \| (\d{4}-\d{2}-\d{2}) \| (article|pair)(?: \| (.*))?$")


def parse_source(path: Path) -> list:
    """The documents of one source file, validated (CorpusError names the id and offset)."""
    docs, head, body, start = [], None, [], 0
    lines = path.read_text(encoding="utf-8").splitlines()

    def close():
        if head is None:
            return
        doc_id, date, kind, note = head
        markup = "\n".join(body).strip("\n")
        if date >= RESERVED_FROM:
            raise ValueError(f"{path}:{start}: {doc_id} is dated {date}; synthetic documents are dated "
                             f"before {RESERVED_FROM}")
        meta = {"date": date, "synthetic": True, "kind": kind, "source": f"data/synthetic/{path.name}"}
        if note:
            meta["note"] = note
        docs.append(parse_markup(doc_id, markup, meta=meta, path=str(path), line=start))

    for n, line in enumerate(lines, start=1):
        m = HEADER.match(line)
        if m:
            close()
            head, body, start = (m[1], m[2], m[3], m[4]), [], n
        elif line.startswith("###"):
            raise ValueError(f"{path}:{n}: a header reads '### syn-KIND-NNN | YYYY-MM-DD | article|pair', "
                             f"got {line!r}")
        elif head is not None:
            body.append(line)
    close()
    return docs


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    seen: set[str] = set()
    for src in sorted((ROOT / "data" / "synthetic").glob("*.txt")):
        docs = parse_source(src)
        dup = [d.id for d in docs if d.id in seen]
        if dup:
            raise ValueError(f"{src}: ids used twice: {dup[:5]}")
        seen.update(d.id for d in docs)
        out = src.with_suffix(".jsonl")
        text = "".join(dumps_document(d) + "\n" for d in docs)
        if check:
            if not out.is_file() or out.read_text(encoding="utf-8") != text:
                stale.append(str(out.relative_to(ROOT)))
        else:
            out.write_text(text, encoding="utf-8")
            print(f"{out.relative_to(ROOT)}: {len(docs)} documents, "
                  f"{sum(len(d.events) for d in docs)} events")
    if stale:
        print("out of date (run python scripts/build_synthetic.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
