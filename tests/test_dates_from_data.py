"""Dates from the user's data: date_field, the common news forms, unreadable dates kept with
a warning, date= validated."""

from __future__ import annotations

import json

import pytest

from pipeline.batch.dumps import Record, read_dump
from pipeline.batch.progress import summary_text
from pipeline.errors import PredictError
from pipeline.records.dates import document_date


@pytest.mark.parametrize("value, day", [
    ("2023-03-01", "2023-03-01"),
    ("2023-03-01T23:30:00+02:00", "2023-03-01"),        # the writer's day, not UTC's
    ("2023-03-01 10:00:00Z", "2023-03-01"),
    ("Wed, 01 Mar 2023 23:30:00 -0500", "2023-03-01"),  # RFC 2822 (RSS)
    ("01 Mar 2023 10:00 GMT", "2023-03-01"),
    ("March 1, 2023", "2023-03-01"),
    ("1 March 2023", "2023-03-01"),
    (None, None), ("", None),
])
def test_document_dates_in_the_common_news_forms(value, day):
    assert document_date(value) == day


@pytest.mark.parametrize("value", ["2023-13-45", "03/01/2023", "yesterday", "2023-02-30", 20230301])
def test_unreadable_dates_are_refused_with_the_accepted_forms(value):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        document_date(value)


def test_date_field_names_the_column_and_bad_dates_keep_the_record(tmp_path):
    p = tmp_path / "news.csv"
    p.write_text("id,published,text\n"
                 "a,\"Wed, 01 Mar 2023 10:00:00 +0000\",Peru expels a diplomat.\n"
                 "b,03/01/2023,Chile expels a diplomat.\n"
                 "c,,Markets fall.\n", encoding="utf-8")
    a, b, c = read_dump(p, date_field="published")
    assert all(isinstance(x, Record) for x in (a, b, c))
    assert a.fields["date"] == "2023-03-01" and a.fields["published"] == "Wed, 01 Mar 2023 10:00:00 +0000"
    assert "date" not in b.fields and "published: cannot read the date '03/01/2023'" in b.fields["date_warning"]
    assert "date" not in c.fields and "date_warning" not in c.fields
    (a2, _, _) = read_dump(p)                                   # default date_field=date: no such column
    assert "date" not in a2.fields and "date_warning" not in a2.fields


def test_an_unreadable_iso_date_field_is_kept_aside(tmp_path):
    p = tmp_path / "news.jsonl"
    p.write_text(json.dumps({"id": "x", "date": "2023-13-45", "text": "t"}) + "\n", encoding="utf-8")
    (rec,) = read_dump(p)
    assert "date" not in rec.fields and rec.fields["date_raw"] == "2023-13-45"
    assert "not a real day" in rec.fields["date_warning"]


def _summary(**kw):
    base = {"input_records": 3, "documents": 3, "tagged": 1, "filtered_out": 2, "events": 0, "rejects": 0,
            "skipped_shards": 0, "processed_this_run": 3, "seconds": 1.0, "docs_per_second": 3.0,
            "engine": "local", "output": "o", "shards": ["o/part-00000.jsonl"], "rejects_path": "o/r",
            "dated": 3, "date_warnings": 0, "date_field": "date"}
    return summary_text({**base, **kw})


def test_the_summary_warns_about_unreadable_dates_and_about_no_dates():
    assert "Warning" not in _summary()
    assert "1 document(s) have a date that cannot be read" in _summary(dated=2, date_warnings=1)
    text = _summary(dated=0, date_field="published")
    assert "no document has a date (no readable field 'published')" in text and "date_field=NAME" in text


def test_predict_counts_dated_documents_and_warnings(tiny_model_dir, tmp_path):
    from pipeline.stages import predict
    from tests.helpers import predict_config

    p = tmp_path / "news.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "published": "2021-03-04T10:00:00Z", "text": "Peru expels a diplomat."},
        {"id": "b", "published": "04/03/2021", "text": "Chile expels a diplomat."},
        {"id": "c", "text": "Markets fall."}]) + "\n", encoding="utf-8")
    cfg = predict_config(model_dir=str(tiny_model_dir), input=str(p), output=str(tmp_path / "out"),
                         date_field="published", filter="none", records=False, precision="fp32")
    s = predict(cfg, tmp_path / "run")
    assert (s["documents"], s["dated"], s["date_warnings"]) == (3, 1, 1)
    lines = [json.loads(x) for x in (tmp_path / "out" / "part-00000.jsonl").read_text().splitlines()]
    assert [d.get("date") for d in lines] == ["2021-03-04", None, None]
    assert "date_warning" in lines[1]


def test_date_override_is_validated_and_belongs_to_text(tiny_model_dir, tmp_path):
    from pipeline.config import compose_config
    from pipeline.stages.predict import predict_text
    from pipeline.stages import predict

    for bad in ("2023-13-45", "03/01/2023"):
        cfg = compose_config("predict", [f"model_dir={tiny_model_dir}", "text='Peru expels a diplomat.'",
                                         f"date={bad}"])
        with pytest.raises(PredictError, match=f"date={bad}"):
            predict_text(cfg)
    cfg = compose_config("predict", [f"model_dir={tiny_model_dir}", "date=2023-03-01",
                                     f"output={tmp_path / 'o'}"])
    with pytest.raises(PredictError, match="date_field"):
        predict(cfg, tmp_path / "run")
