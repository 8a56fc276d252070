"""Streaming readers for news dumps: one record at a time, memory flat in the dump size.

``read_dump(path)`` picks a reader from the name (or ``fmt=``) and yields, in input
order, a :class:`Record` for every usable input record and a :class:`Reject` for every
record that cannot be used (broken JSON, no string text, invalid UTF-8, a text longer
than ``max_chars``): a bad record never stops the run.  Every record, good or bad, gets
the next ``record_no`` (0-based), so a dump of N records yields exactly N items and the
output of a batch run can be checked against its input record by record.

=============  ===========================================  ============================
format         input                                         ``record_no`` counts
=============  ===========================================  ============================
``jsonl``      ``*.jsonl`` / ``*.json``: one object a line   non-blank lines
``jsonl.gz``   the same, gzip-compressed                     non-blank lines
``csv``        ``*.csv`` with a header row                   data rows
``parquet``    ``*.parquet`` (read batch by batch)           rows
``txt-dir``    a folder of ``*.txt`` files, id = file stem   files, in name order
=============  ===========================================  ============================

Example:
    >>> for item in read_dump("dump.jsonl.gz", text_field="body"):   # doctest: +SKIP
    ...     if isinstance(item, Reject):
    ...         print("skipped line", item.line, item.reason)
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

from pipeline.errors import DumpError, closest, json_problem
from pipeline.schema import lone_surrogate

DUMP_FORMATS: tuple[str, ...] = ("jsonl", "jsonl.gz", "csv", "parquet", "txt-dir")
_SUFFIXES = [(".jsonl.gz", "jsonl.gz"), (".json.gz", "jsonl.gz"), (".jsonl", "jsonl"),
             (".json", "jsonl"), (".csv", "csv"), (".parquet", "parquet"), (".pq", "parquet")]


@dataclass
class Record:
    """A usable input record.

    Attributes:
        record_no: 0-based position among all records of the dump (rejects included).
        id: the record's id, or one derived from the file and line (``items:17``).
        text: the text to tag.
        fields: every other field of the record, kept as it is in the output.
        line: the 1-based line (row, file) of the record in its source, for messages.
    """

    record_no: int
    id: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass
class Reject:
    """A record that cannot be tagged, and why.

    Attributes:
        record_no: 0-based position among all records of the dump.
        source: the file it came from.
        line: its 1-based line (CSV: the line where the row ends; Parquet: the row;
            txt-dir: the file's position), or None.
        id: its id when one could be read.
        reason: what is wrong and what to do about it.
    """

    record_no: int
    source: str
    line: int | None
    id: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "id": self.id,
                "record_no": self.record_no, "reason": self.reason}


Item = Union[Record, Reject]


def guess_dump_format(path: str | Path) -> str:
    """The dump format from the path: a folder is ``txt-dir``, files go by suffix.

    Raises:
        DumpError: when the suffix is not one of the known ones.
    """
    p = Path(path)
    if p.is_dir():
        return "txt-dir"
    name = p.name.lower()
    for suffix, fmt in _SUFFIXES:
        if name.endswith(suffix):
            return fmt
    raise DumpError(f"cannot tell the format of {str(p)!r} from its name; name it *.jsonl, "
                    "*.jsonl.gz, *.csv or *.parquet, point at a folder of *.txt files, or set "
                    f"input_format to one of {', '.join(DUMP_FORMATS)}")


def read_dump(path: str | Path, fmt: str | None = None, *, id_field: str = "id",
              text_field: str = "text", max_chars: int = 1_000_000,
              skip_before: int = 0, date_field: str | None = "date") -> Iterator[Item]:
    """Yield a :class:`Record` or :class:`Reject` for every record of a dump, in order.

    Args:
        path: a dump file, or a folder of ``*.txt`` files.
        fmt: one of ``DUMP_FORMATS``; None = guessed from ``path``.
        id_field: the field holding the id; records without one get ``<file stem>:<line>``.
        text_field: the field holding the text.
        max_chars: longer texts are rejected (they would hold up a whole batch).
        skip_before: records numbered below this are passed over without being parsed
            (resuming a run); they are not yielded.
        date_field: the field holding the publication date (ISO date or datetime, RFC
            2822, "March 1, 2023"); it becomes the record's ``date`` as ``YYYY-MM-DD``,
            which anchors "Monday" and "by Friday".  A date that cannot be read keeps the
            record, without a ``date`` and with a ``date_warning`` field saying why.
            None: no date is read.

    Raises:
        DumpError: a missing path, an unknown format, (CSV, Parquet) no ``text_field``
            column at all, a ``.jsonl.gz`` that is not gzip, a CSV header that cannot be
            parsed, or a Parquet file that cannot be read (raised while iterating, so
            records before a break in a damaged Parquet file are yielded first).
            Per-record problems (broken or too deeply nested JSON, integers too long to
            convert, a bare CR in an unquoted CSV field, lone surrogates) are yielded as
            rejects, never raised.  A ``.jsonl.gz`` that breaks off (truncated, damaged
            stream) yields the records before the break, then one reject naming the
            line where it broke, and ends.
    """
    p = Path(path)
    if not p.exists():
        raise DumpError(f"input {str(p)!r} does not exist (working directory: {Path.cwd()})")
    fmt = fmt or guess_dump_format(p)
    readers = {"jsonl": _read_jsonl, "jsonl.gz": _read_jsonl, "csv": _read_csv,
               "parquet": _read_parquet, "txt-dir": _read_txt_dir}
    if fmt not in readers:
        raise DumpError(f"unknown input format {fmt!r}; known formats are "
                        f"{', '.join(DUMP_FORMATS)}." + closest(fmt, DUMP_FORMATS))
    if (fmt == "txt-dir") != p.is_dir():
        raise DumpError(f"input format {fmt!r} does not fit {str(p)!r}: txt-dir needs a folder, "
                        "the other formats a file")
    rules = _Rules(str(p), p.name.split(".")[0], id_field, text_field, max_chars, date_field)
    return readers[fmt](p, rules, skip_before, gz=(fmt == "jsonl.gz"))


@dataclass
class _Rules:
    """How a decoded record becomes a Record or a Reject (shared by the readers)."""

    source: str
    stem: str
    id_field: str
    text_field: str
    max_chars: int
    date_field: str | None = "date"

    def make(self, record_no: int, line: int | None, obj: Any) -> Item:
        if not isinstance(obj, dict):
            return self.reject(record_no, line, None,
                               f"expected a JSON object, got {type(obj).__name__}")
        raw_id = obj.get(self.id_field)
        if raw_id is None or raw_id == "":
            doc_id = f"{self.stem}:{line if line is not None else record_no}"
        elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
            doc_id = str(raw_id)
        else:
            return self.reject(record_no, line, None, f"id field {self.id_field!r} holds a "
                               f"{type(raw_id).__name__}; expected a string or an integer")
        text = obj.get(self.text_field)
        if not isinstance(text, str):
            what = "is missing" if text is None else f"holds a {type(text).__name__}"
            strings = [k for k in obj if isinstance(obj[k], str) and k != self.id_field]
            hint = f" String fields of this record: {', '.join(strings)}." if strings else ""
            return self.reject(record_no, line, doc_id, f"text field {self.text_field!r} {what}; "
                               f"expected a string (set text_field).{hint}")
        if len(text) > self.max_chars:
            return self.reject(record_no, line, doc_id, f"text has {len(text):,} characters, more "
                               f"than max_chars={self.max_chars:,}; split it or raise max_chars")
        fields = {k: v for k, v in obj.items()
                  if k not in (self.id_field, self.text_field, "events")}
        try:
            found = lone_surrogate({self.id_field: doc_id, self.text_field: text, **fields})
        except RecursionError:
            return self.reject(record_no, line, doc_id, "a field is nested too deeply to "
                               "check and write; flatten the record")
        if found:
            where, ch = found
            return self.reject(record_no, line, doc_id, f"lone surrogate {ch!r} at {where} "
                               "(a broken \\ud800-style escape); it cannot be written as "
                               "UTF-8; fix the exporter or drop the character")
        if self.date_field:
            _read_date(fields, obj.get(self.date_field), self.date_field)
        return Record(record_no, doc_id, text, fields, line or 0)

    def reject(self, record_no: int, line: int | None, doc_id: str | None, reason: str) -> Reject:
        return Reject(record_no, self.source, line, doc_id, reason)


DATE_WARNING = "date_warning"


def _read_date(fields: dict[str, Any], raw: Any, date_field: str) -> None:
    """Set ``fields["date"]`` to the ISO day of ``raw``; or, when it cannot be read, leave
    the record undated with ``fields["date_warning"]`` saying why (the record is kept)."""
    from pipeline.records.dates import document_date

    try:
        day = document_date(raw)
    except ValueError as e:
        if date_field == "date":
            fields.pop("date", None)
            fields["date_raw"] = raw
        fields[DATE_WARNING] = f"{date_field}: {e}"
        return
    if day:
        fields["date"] = day


def _read_jsonl(p: Path, rules: _Rules, skip_before: int, gz: bool = False) -> Iterator[Item]:
    # Bytes in, decoded line by line: one bad byte costs one line, not the run.
    opener = gzip.open if gz else open
    record_no, lineno = -1, 0
    with opener(p, "rb") as f:
        lines = _capped_lines(f, _line_cap(rules.max_chars))
        while True:
            try:
                nxt = next(lines, None)
            except (EOFError, OSError, zlib.error) as e:  # gz only: plain reads do not fail here
                if not gz:
                    raise
                if lineno == 0:
                    raise DumpError(f"{p} cannot be read as gzip ({type(e).__name__}: {e}); "
                                    "if it is not compressed, name it *.jsonl (or set "
                                    "input_format: jsonl), otherwise re-download or re-compress "
                                    "it") from e
                if record_no + 1 < skip_before:
                    raise DumpError(f"{p}: the gzip stream breaks off after line {lineno} "
                                    f"({type(e).__name__}: {e}), before the record to resume "
                                    "from; the file changed since the run began") from e
                yield rules.reject(record_no + 1, lineno + 1, None, f"{p}: the gzip stream "
                                   f"breaks off at line {lineno + 1} ({type(e).__name__}: {e}); "
                                   "the lines before it were read, the rest of the file is lost; "
                                   "re-download or re-compress the dump")
                return
            if nxt is None:
                return
            lineno, raw = nxt
            if raw is not None and not raw.strip():
                continue
            record_no += 1
            if record_no < skip_before:
                continue
            if raw is None:
                yield rules.reject(record_no, lineno, None, f"line longer than "
                                   f"{_line_cap(rules.max_chars):,} bytes, more than max_chars="
                                   f"{rules.max_chars:,} allows; split the record or raise max_chars")
            else:
                yield _jsonl_item(raw, record_no, lineno, rules)


def _line_cap(max_chars: int) -> int:
    # A JSON line holding max_chars characters (at most 6 bytes each as \uXXXX) plus
    # other fields; anything longer cannot hold an acceptable text.
    return 6 * max_chars + (1 << 20)


def _capped_lines(f, cap: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)``; ``None`` for a line longer than ``cap`` (read past, not kept)."""
    lineno = 0
    while True:
        raw = f.readline(cap)
        if not raw:
            return
        lineno += 1
        if len(raw) == cap and not raw.endswith(b"\n"):
            while True:  # drain the rest of the over-long line in bounded pieces
                rest = f.readline(cap)
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, None
        else:
            yield lineno, raw


def _jsonl_item(raw: bytes, record_no: int, lineno: int, rules: _Rules) -> Item:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return rules.reject(record_no, lineno, None, f"invalid UTF-8 at byte {e.start} "
                            f"({raw[e.start:e.start + 4]!r}); re-encode the dump as UTF-8")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        return rules.reject(record_no, lineno, None, f"not valid JSON ({json_problem(e)}); "
                            "each line must be one JSON object")
    except RecursionError:
        return rules.reject(record_no, lineno, None, "JSON nested too deeply to parse; "
                            "flatten the record")
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        return rules.reject(record_no, lineno, None, f"JSON value cannot be converted ({str(e).split(';')[0]}); "
                            "write very long numbers as strings")
    return rules.make(record_no, lineno, obj)


def _decoded_lines(f: Iterable[bytes]) -> Iterator[str]:
    # Invalid bytes become lone surrogates; the row holding them is rejected below.
    for raw in f:
        yield raw.decode("utf-8", errors="surrogateescape")


def _has_surrogates(values: Iterable[str]) -> bool:
    return any(any("\udc80" <= ch <= "\udcff" for ch in v) for v in values)


def _read_csv(p: Path, rules: _Rules, skip_before: int, gz: bool = False) -> Iterator[Item]:
    # Quoted fields may span lines, so the csv module splits rows; a field may be as
    # long as max_chars (plus slack so that an over-long one is rejected, not fatal).
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open(p, "rb") as f:
        reader = csv.reader(_decoded_lines(f))
        try:
            header = next(reader, None)
        except csv.Error as e:
            raise DumpError(f"{p}: cannot parse the header row ({e}); check its quoting") from e
        if header is None:
            return
        header = [h.lstrip("\ufeff") for h in header]
        if rules.text_field not in header:
            raise DumpError(f"{p}: no column {rules.text_field!r} in the header {header}; set "
                            "text_field." + closest(rules.text_field, header))
        record_no = -1
        while True:
            try:
                row = next(reader, None)
            except csv.Error as e:  # the rest of the broken line is dropped with it
                record_no += 1
                if record_no >= skip_before:
                    yield rules.reject(record_no, reader.line_num, None, f"CSV row cannot be "
                                       f"parsed ({str(e).split(' - ')[0]}); quote fields that hold line breaks or "
                                       "carriage returns")
                continue
            if row is None:
                return
            record_no += 1
            if record_no < skip_before:
                continue
            line = reader.line_num
            if _has_surrogates(row):
                yield rules.reject(record_no, line, None, "invalid UTF-8 in this row; re-encode "
                                   "the dump as UTF-8")
            elif len(row) != len(header):
                yield rules.reject(record_no, line, None, f"row has {len(row)} fields, the "
                                   f"header {len(header)}; check the quoting")
            else:
                yield rules.make(record_no, line, dict(zip(header, row)))


def _read_parquet(p: Path, rules: _Rules, skip_before: int, gz: bool = False,
                  batch_rows: int = 1024) -> Iterator[Item]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    broken = (pa.ArrowException, OSError, ValueError, OverflowError)
    try:
        pf = pq.ParquetFile(p)
        names = pf.schema_arrow.names
        meta = pf.metadata
        num_rows = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    except broken as e:
        raise DumpError(f"{p} is not a readable Parquet file ({type(e).__name__}: {e}); "
                        "re-export it, or name it after its real format (*.jsonl, *.csv)") from e
    if rules.text_field not in names:
        raise DumpError(f"{p}: no column {rules.text_field!r} among {names}; set text_field."
                        + closest(rules.text_field, names))
    # Skip whole row groups before skip_before without decoding them.
    first_group, record_no = 0, 0
    while first_group < len(num_rows) and record_no + num_rows[first_group] <= skip_before:
        record_no += num_rows[first_group]
        first_group += 1
    groups = list(range(first_group, len(num_rows)))
    if not groups:
        return
    batches = pf.iter_batches(batch_size=batch_rows, row_groups=groups)
    while True:
        try:
            batch = next(batches, None)
            rows = None if batch is None else batch.to_pylist()
        except broken as e:
            raise DumpError(f"{p}: the Parquet data is damaged at row {record_no + 1} "
                            f"({type(e).__name__}: {e}); the rows before it were read; "
                            "re-export the file") from e
        if rows is None:
            return
        for obj in rows:
            if record_no >= skip_before:
                yield _parquet_item(obj, record_no, rules)
            record_no += 1


def _parquet_item(obj: dict, record_no: int, rules: _Rules) -> Item:
    text = obj.get(rules.text_field)
    if isinstance(text, bytes):  # a binary column: decode here, reject the row if not UTF-8
        try:
            obj[rules.text_field] = text.decode("utf-8")
        except UnicodeDecodeError as e:
            return rules.reject(record_no, record_no + 1, None,
                                f"invalid UTF-8 at byte {e.start} of the text; re-encode it")
    return rules.make(record_no, record_no + 1, obj)


def _read_txt_dir(p: Path, rules: _Rules, skip_before: int, gz: bool = False) -> Iterator[Item]:
    # Only names are held in memory (sorted, so that record numbers are stable).
    names = sorted(e.name for e in _scandir(p) if e.name.endswith(".txt") and e.is_file())
    for record_no, name in enumerate(names):
        if record_no < skip_before:
            continue
        f = p / name
        stem, line = name[:-len(".txt")], record_no + 1
        source = str(f)
        if f.stat().st_size > 4 * rules.max_chars:
            yield Reject(record_no, source, line, stem, f"file has {f.stat().st_size:,} bytes, "
                         f"more than max_chars={rules.max_chars:,} can hold; split it")
            continue
        try:
            text = f.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            yield Reject(record_no, source, line, stem, f"invalid UTF-8 at byte {e.start}; "
                         "re-encode the file as UTF-8")
            continue
        item = rules.make(record_no, line, {rules.id_field: stem, rules.text_field: text})
        if isinstance(item, Reject):
            item.source = source
        yield item


def _scandir(p: Path):
    with os.scandir(p) as it:
        yield from it
