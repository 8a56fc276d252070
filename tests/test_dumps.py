"""Streaming dump readers: every format, malformed records become rejects, memory stays flat."""

from __future__ import annotations

import csv
import gzip
import json
import tracemalloc
import types

import pytest

from pipeline.batch.dumps import DumpError, Record, Reject, guess_dump_format, read_dump

GOOD = [
    {"id": "a1", "text": "Peru expels two Venezuelan diplomats.", "date": "2020-01-02"},
    {"id": 7, "text": "Norway expels a Russian diplomat.", "lang": "en"},
    {"text": "Markets fall in Tokyo."},                                 # no id
    {"id": "a4", "text": "", "events": [{"old": "dropped"}]},           # empty text is a document
]


def _jsonl_bytes() -> bytes:
    lines = [json.dumps(GOOD[0]).encode(), json.dumps(GOOD[1]).encode(), b"",
             json.dumps(GOOD[2]).encode(), b'{"id": "b1", "text": "broken',          # broken JSON
             b'["a", "list"]',                                                      # not an object
             json.dumps({"id": "b3", "body": "no text field"}).encode(),
             json.dumps({"id": "b4", "text": 12}).encode(),
             b'{"id": "b5", "text": "caf\xe9 au lait"}',                            # Latin-1 byte
             json.dumps({"id": "b6", "text": "x" * 500}).encode(),                  # over max_chars
             json.dumps(GOOD[3]).encode()]
    return b"\n".join(lines) + b"\n"


def _check_jsonl_items(items, source_name: str):
    assert [it.record_no for it in items] == list(range(10))       # blank line not counted
    recs = [it for it in items if isinstance(it, Record)]
    rejs = {it.id or it.line: it for it in items if isinstance(it, Reject)}
    assert [r.id for r in recs] == ["a1", "7", f"{source_name}:4", "a4"]
    assert recs[0].fields == {"date": "2020-01-02"} and recs[1].fields == {"lang": "en"}
    assert recs[3].text == "" and "events" not in recs[3].fields
    assert [it.line for it in items if isinstance(it, Reject)] == [5, 6, 7, 8, 9, 10]
    reasons = [it.reason for it in items if isinstance(it, Reject)]
    assert "not valid JSON" in reasons[0]
    assert "expected a JSON object, got list" in reasons[1]
    assert "'text' is missing" in reasons[2] and "String fields of this record: body" in reasons[2]
    assert "holds a int" in reasons[3]
    assert "invalid UTF-8" in reasons[4]
    assert "max_chars=100" in reasons[5] and rejs["b6"].id == "b6"


def test_jsonl_records_and_rejects(tmp_path):
    p = tmp_path / "items.jsonl"
    p.write_bytes(_jsonl_bytes())
    _check_jsonl_items(list(read_dump(p, max_chars=100)), "items")


def test_jsonl_gz(tmp_path):
    p = tmp_path / "items.jsonl.gz"
    with gzip.open(p, "wb") as f:
        f.write(_jsonl_bytes())
    assert guess_dump_format(p) == "jsonl.gz"
    _check_jsonl_items(list(read_dump(p, max_chars=100)), "items")


def test_skip_before_matches_full_read(tmp_path):
    p = tmp_path / "items.jsonl"
    p.write_bytes(_jsonl_bytes())
    full = list(read_dump(p, max_chars=100))
    assert list(read_dump(p, max_chars=100, skip_before=6)) == full[6:]


def test_overlong_line_is_rejected_and_reading_goes_on(tmp_path):
    p = tmp_path / "long.jsonl"
    huge = json.dumps({"id": "big", "text": "y" * (3 << 20)})      # 3 MiB on one line
    p.write_text(huge + "\n" + json.dumps({"id": "after", "text": "ok"}) + "\n")
    items = list(read_dump(p, max_chars=1000))
    assert isinstance(items[0], Reject) and "line longer than" in items[0].reason
    assert isinstance(items[1], Record) and items[1].id == "after" and items[1].record_no == 1


def test_id_of_wrong_type_is_rejected(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps({"id": ["x"], "text": "t"}) + "\n" + json.dumps({"id": True, "text": "t"}) + "\n")
    items = list(read_dump(p))
    assert all(isinstance(it, Reject) and "id field 'id'" in it.reason for it in items)


def test_custom_id_and_text_fields(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps({"uid": "u1", "body": "Peru expels a diplomat.", "text": "other"}) + "\n")
    (rec,) = read_dump(p, id_field="uid", text_field="body")
    assert (rec.id, rec.text, rec.fields) == ("u1", "Peru expels a diplomat.", {"text": "other"})


def test_csv(tmp_path):
    p = tmp_path / "news.csv"
    with open(p, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "date"])
        w.writerow(["c1", "Peru expels\ntwo diplomats.", "2020-01-01"])    # quoted, two lines
        w.writerow(["", "No id here.", "2020-01-02"])
        w.writerow(["c3", "z" * 300, "2020-01-03"])
        w.writerow(["c4", "too", "many", "fields"])
    with open(p, "ab") as f:
        f.write(b'c5,"caf\xe9",2020-01-05\r\n')
        f.write(b"c6,fine,2020-01-06\r\n")
    items = list(read_dump(p, max_chars=100))
    assert [it.record_no for it in items] == list(range(6))
    assert isinstance(items[0], Record) and items[0].text == "Peru expels\ntwo diplomats."
    assert items[0].fields == {"date": "2020-01-01"}
    assert items[1].id == "news:4"                       # the line where the row ends
    assert isinstance(items[2], Reject) and "max_chars" in items[2].reason
    assert isinstance(items[3], Reject) and "4 fields" in items[3].reason
    assert isinstance(items[4], Reject) and "invalid UTF-8" in items[4].reason
    assert isinstance(items[5], Record) and items[5].id == "c6"
    assert list(read_dump(p, max_chars=100, skip_before=4)) == items[4:]


def test_csv_without_text_column(tmp_path):
    p = tmp_path / "news.csv"
    p.write_text("id,body\n1,hello\n")
    with pytest.raises(DumpError, match=r"no column 'text' in the header \['id', 'body'\]"):
        list(read_dump(p))


def test_parquet_batches_and_row_groups(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [{"id": f"p{i}", "text": f"item {i}", "n": i} for i in range(25)]
    rows[3]["id"] = None
    rows[5]["text"] = None
    p = tmp_path / "news.parquet"
    pq.write_table(pa.Table.from_pylist(rows), p, row_group_size=10)
    items = list(read_dump(p))
    assert [it.record_no for it in items] == list(range(25))
    assert items[3].id == "news:4" and items[0].fields == {"n": 0}
    assert isinstance(items[5], Reject) and "'text' is missing" in items[5].reason
    assert list(read_dump(p, skip_before=12)) == items[12:]       # skips a whole row group


def test_parquet_binary_text_with_invalid_utf8(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"id": ["x", "y"], "text": pa.array([b"ok", b"bad \xff"], pa.binary())})
    p = tmp_path / "bin.parquet"
    pq.write_table(table, p)
    ok, bad = read_dump(p)
    assert isinstance(ok, Record) and ok.text == "ok"
    assert isinstance(bad, Reject) and "invalid UTF-8" in bad.reason


def test_txt_dir(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "b.txt").write_text("Norway expels a diplomat.", encoding="utf-8")
    (d / "a.txt").write_text("Peru expels two diplomats.", encoding="utf-8")
    (d / "c.txt").write_bytes(b"\xff\xfe broken")
    (d / "d.txt").write_text("w" * 1000)
    (d / "notes.md").write_text("ignored")
    assert guess_dump_format(d) == "txt-dir"
    items = list(read_dump(d, max_chars=100))
    assert [(it.record_no, it.id) for it in items] == [(0, "a"), (1, "b"), (2, "c"), (3, "d")]
    assert isinstance(items[2], Reject) and "invalid UTF-8" in items[2].reason
    assert isinstance(items[3], Reject) and "max_chars" in items[3].reason
    assert items[3].source.endswith("d.txt")
    assert list(read_dump(d, max_chars=100, skip_before=1)) == items[1:]


def test_bad_paths_and_formats(tmp_path):
    with pytest.raises(DumpError, match="does not exist"):
        read_dump(tmp_path / "missing.jsonl")
    (tmp_path / "x.xml").write_text("<a/>")
    with pytest.raises(DumpError, match="cannot tell the format"):
        read_dump(tmp_path / "x.xml")
    with pytest.raises(DumpError, match="Did you mean 'jsonl'"):
        read_dump(tmp_path / "x.xml", fmt="jsonll")
    with pytest.raises(DumpError, match="txt-dir needs a folder"):
        read_dump(tmp_path / "x.xml", fmt="txt-dir")


def test_streaming_is_lazy_and_memory_flat(tmp_path):
    p = tmp_path / "big.jsonl"
    line = json.dumps({"id": "x", "text": "Some ordinary news item about markets. " * 5})
    with open(p, "w") as f:
        for i in range(30000):                                          # ~7 MB
            f.write(line.replace('"x"', f'"x{i}"') + "\n")
    gen = read_dump(p)
    assert isinstance(gen, types.GeneratorType)
    tracemalloc.start()
    n = sum(1 for _ in gen)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert n == 30000
    assert peak < 1_000_000, f"peak {peak} bytes while streaming a {p.stat().st_size}-byte dump"
