"""Record files: written, readable, with the documented columns."""

from __future__ import annotations

import csv
import json

from pipeline.formats.inline import parse_markup
from pipeline.records import build_records, write_records
from pipeline.records.outputs import COLUMNS, SUMMARY_COLUMNS, plot_timeline, summarise, timeline_counts


def expel(doc_id, expeller, expelled, date):
    return parse_markup(doc_id, f"[{expeller}]{{EXPELLER}} [expels]{{TRIGGER}} [{expelled}]{{EXPELLED}}.",
                        meta={"date": date})


DOCS = [
    ("a", "Poland", "45 Russian diplomats", "2022-03-23"),
    ("b", "Russia", "45 Polish diplomats", "2022-04-15"),
    ("c", "Norway", "a Russian diplomat", "2020-08-19"),
    ("d", "Norway", "several Russian diplomats", "2020-11-02"),
    ("e", "Peru", "Venezuelan diplomats", "2019-03-01"),
]


def make_records():
    return build_records([expel(*d) for d in DOCS])


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_all_files_are_written(tmp_path):
    recs = make_records()
    paths = write_records(recs, tmp_path / "out")
    assert set(paths) == {"jsonl", "csv", "parquet", "summary", "timeline"}
    for p in paths.values():
        assert p.exists() and p.stat().st_size > 0
    lines = paths["jsonl"].read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [r["id"] for r in recs]


def test_events_csv_and_parquet_have_the_flat_columns(tmp_path):
    import pandas as pd

    paths = write_records(make_records(), tmp_path)
    rows = read_csv(paths["csv"])
    assert list(rows[0]) == list(COLUMNS) and len(rows) == len(DOCS)
    table = pd.read_parquet(paths["parquet"])
    assert list(table.columns) == list(COLUMNS) and len(table) == len(DOCS)
    pol = table[table.expeller_country == "POL"].iloc[0]
    assert pol["count"] == 45 and pol["year"] == 2022 and pol["doc_ids"] == "a"


def test_summary_counts_events_and_people(tmp_path):
    paths = write_records(make_records(), tmp_path)
    rows = read_csv(paths["summary"])
    assert list(rows[0]) == list(SUMMARY_COLUMNS)
    nor = next(r for r in rows if r["expeller_country"] == "NOR")
    assert (nor["year"], nor["events"], nor["events_with_count"], nor["people"], nor["people_min"]) == \
        ("2020", "2", "1", "1", "4")  # one known diplomat, "several" adds at least 3
    assert sum(int(r["events"]) for r in rows) == len(DOCS)


def test_timeline_png_is_a_png(tmp_path):
    paths = write_records(make_records(), tmp_path)
    assert paths["timeline"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_empty_records_still_write_every_file(tmp_path):
    paths = write_records([], tmp_path)
    assert read_csv(paths["csv"]) == [] and paths["timeline"].stat().st_size > 0
    assert summarise([]) == []


def test_timeline_is_yearly_over_long_spans_and_monthly_over_short_ones():
    periods, series = timeline_counts(make_records())
    assert periods == ["2019", "2020", "2021", "2022"] and series["NOR"] == [0, 2, 0, 0]
    short = [r for r in make_records() if r["date"] >= "2022"]
    periods, series = timeline_counts(short)
    assert periods == ["2022-03", "2022-04"] and series["POL"] == [1, 0]


def test_parquet_holds_the_same_table_as_the_rows_and_an_empty_one_keeps_its_types(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.records.outputs import _write_parquet, flat_row

    rows = [flat_row(r) for r in make_records()]
    rows[0] = {**rows[0], "reason_texts": "expulsó ‘Ünïcode’ \"quoted\"\n", "retaliation": True, "count": 2**40}
    _write_parquet(rows, tmp_path / "a.parquet")
    got = pq.read_table(tmp_path / "a.parquet")
    assert got.column_names == list(COLUMNS)
    assert got.to_pylist() == [{c: r.get(c) for c in COLUMNS} for r in rows]
    _write_parquet([], tmp_path / "empty.parquet")
    empty = pq.read_table(tmp_path / "empty.parquet")
    assert empty.num_rows == 0 and empty.schema.field("count").type == pa.int64()
    assert empty.schema.field("retaliation").type == pa.bool_()


def test_the_timeline_legend_does_not_cover_the_bars(tmp_path):
    records = [{"date": f"20{10 + i % 9}-0{1 + i % 9}-01", "expeller_country": c}
               for i, c in enumerate(["RUS", "USA", "POL", "GBR", "FRA", "DEU", "CZE", "EST", "LVA", "LTU"] * 3)]
    fig = plot_timeline(records, tmp_path / "t.png")
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.x0 >= ax.get_window_extent(renderer).x1          # right of the plotting area
    assert legend.x1 <= fig.bbox.x1                                  # and inside the picture
