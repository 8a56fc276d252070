"""Write records as files people count and plot.

==================  ======================================================
``events.jsonl``    one record a line, provenance (``mentions``) included
``events.csv``      the flat table (:data:`COLUMNS`), one row a record
``events.parquet``  the same table, typed
``summary.csv``     per year x (expeller, expelled): events and people
``timeline.png``    expulsions per year (per month when the dates span under
                    three years), stacked by the top expelling countries
==================  ======================================================

Example:
    >>> paths = write_records(build_records(docs), "outputs/records")   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

# The flat table, in this order; list fields are joined with ";" (texts with " | ").
COLUMNS: tuple[str, ...] = (
    "id", "date", "date_precision", "year", "expeller_country", "expelled_country",
    "expelled_countries", "count", "count_min", "count_max", "deadline_date", "cameo",
    "plover", "plover_mode", "retaliation", "reciprocates", "first_reported", "last_reported",
    "n_mentions", "n_documents", "doc_ids", "expeller_texts", "expelled_texts", "reason_texts")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "year", "expeller_country", "expelled_country", "events", "events_with_count", "people",
    "people_min")
_INT_COLUMNS = {"year", "count", "count_min", "count_max", "n_mentions", "n_documents"}


def flat_row(rec: dict[str, Any]) -> dict[str, Any]:
    """One record as a row of :data:`COLUMNS` (scalars only)."""
    row = {c: rec.get(c) for c in COLUMNS}
    row["year"] = int(rec["date"][:4]) if rec.get("date") else None
    row["expelled_countries"] = ";".join(rec.get("expelled_countries") or [])
    row["doc_ids"] = ";".join(dict.fromkeys(m["doc_id"] for m in rec.get("mentions", [])))
    for key in ("expeller_texts", "expelled_texts", "reason_texts"):
        row[key] = " | ".join(rec.get(key) or [])
    return row


def _pair_key(rec: dict[str, Any]) -> tuple[str, str]:
    # Several expelled countries ("envoys from Australia and New Zealand") form their
    # own key, "AUS;NZL", so their people are not counted twice.
    expelled = rec.get("expelled_country") or ";".join(rec.get("expelled_countries") or [])
    return rec.get("expeller_country") or "", expelled


def summarise(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events and people per year x (expeller, expelled).

    ``people`` sums the exact counts; ``people_min`` adds the lower bounds of the
    others ("several" counts 3), a floor on the number of people expelled.
    Records without a date are left out.
    """
    agg: dict[tuple, Counter] = defaultdict(Counter)
    for rec in records:
        if not rec.get("date"):
            continue
        key = (int(rec["date"][:4]), *_pair_key(rec))
        c = agg[key]
        c["events"] += 1
        if rec.get("count") is not None:
            c["events_with_count"] += 1
            c["people"] += rec["count"]
        c["people_min"] += rec.get("count") or rec.get("count_min") or 0
    return [{"year": y, "expeller_country": er, "expelled_country": ed,
             **{k: agg[(y, er, ed)][k] for k in SUMMARY_COLUMNS[3:]}}
            for (y, er, ed) in sorted(agg)]


def _write_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(columns))
        w.writeheader()
        for row in rows:
            w.writerow({c: "" if row.get(c) is None else row[c] for c in columns})


def _write_parquet(rows: Sequence[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # An explicit schema keeps the column types when a column is empty in this dump.
    types = {c: pa.int64() if c in _INT_COLUMNS else pa.bool_() if c == "retaliation" else pa.string()
             for c in COLUMNS}
    schema = pa.schema([(c, types[c]) for c in COLUMNS])
    # Through Arrow's own JSON reader rather than Table.from_pylist, which imports pandas
    # (0.3-0.6 s of a run that tags a few hundred documents); the same table either way.
    lines = [json.dumps({c: r.get(c) for c in COLUMNS}).encode("utf-8") + b"\n" for r in rows]
    if not lines:
        table = schema.empty_table()
    else:
        import pyarrow.json as pj

        block = min(max(1 << 20, max(map(len, lines)) + 1), 2**31 - 1)   # a block holds whole lines
        table = pj.read_json(io.BytesIO(b"".join(lines)), read_options=pj.ReadOptions(block_size=block),
                             parse_options=pj.ParseOptions(explicit_schema=schema))
    pq.write_table(table, path)


def timeline_counts(records: Iterable[dict[str, Any]], top: int = 8) -> tuple[list[str], dict[str, list[int]]]:
    """Periods (years, or months when the dates span under three years) and, per
    expelling country (the ``top`` most frequent, then ``other``), events per period."""
    dated = [r for r in records if r.get("date")]
    if not dated:
        return [], {}
    years = sorted({int(r["date"][:4]) for r in dated})
    monthly = years[-1] - years[0] < 3
    period = (lambda r: r["date"][:7]) if monthly else (lambda r: r["date"][:4])
    if monthly:
        periods = [f"{y}-{m:02d}" for y in range(years[0], years[-1] + 1) for m in range(1, 13)]
        first, last = min(map(period, dated)), max(map(period, dated))
        periods = [p for p in periods if first <= p <= last]
    else:
        periods = [str(y) for y in range(years[0], years[-1] + 1)]
    totals = Counter(r.get("expeller_country") or "unknown" for r in dated)
    keep = [c for c, _ in totals.most_common(top)]
    series: dict[str, list[int]] = {c: [0] * len(periods) for c in keep}
    index = {p: i for i, p in enumerate(periods)}
    for r in dated:
        name = r.get("expeller_country") or "unknown"
        name = name if name in series else "other"
        series.setdefault(name, [0] * len(periods))[index[period(r)]] += 1
    return periods, series


def plot_timeline(records: Iterable[dict[str, Any]], path: Path, top: int = 8):
    """Stacked bars of expulsions over time by expelling country (Agg, no display); returns
    the matplotlib Figure it saved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    periods, series = timeline_counts(records, top=top)
    # The legend sits right of the bars (room added for it), never over them.
    fig = Figure(figsize=(max(6.0, 0.35 * len(periods) + 2) + 1.6, 4.0), dpi=100)
    FigureCanvasAgg(fig)  # the Agg canvas, without touching pyplot's global backend
    ax = fig.subplots()
    if not periods:
        ax.text(0.5, 0.5, "no dated expulsion records", ha="center", va="center")
        ax.set_axis_off()
    else:
        bottom = [0] * len(periods)
        x = list(range(len(periods)))   # positions, labelled below (period strings like
        for name, counts in series.items():  # "2021" would go through categorical units)
            ax.bar(x, counts, bottom=bottom, label=name)
            bottom = [b + c for b, c in zip(bottom, counts)]
        ax.set_xticks(x, periods)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))   # counts of records
        ax.set_ylabel("expulsions (records)")
        ax.set_title("Diplomatic expulsions by expelling country")
        ax.tick_params(axis="x", labelrotation=90 if len(periods) > 12 else 0)
        ax.legend(fontsize="small", title="expeller", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    return fig


def write_records(records: Sequence[dict[str, Any]], out_dir: str | Path) -> dict[str, Path]:
    """Write the five output files into ``out_dir`` (created if needed).

    Args:
        records: from :func:`pipeline.records.build_records`.
        out_dir: the folder to write into; existing files of the same names are replaced.

    Returns:
        ``{"jsonl", "csv", "parquet", "summary", "timeline"}`` -> path written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"jsonl": out / "events.jsonl", "csv": out / "events.csv",
             "parquet": out / "events.parquet", "summary": out / "summary.csv",
             "timeline": out / "timeline.png"}
    with open(paths["jsonl"], "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    rows = [flat_row(r) for r in records]
    _write_csv(rows, COLUMNS, paths["csv"])
    _write_parquet(rows, paths["parquet"])
    _write_csv(summarise(records), SUMMARY_COLUMNS, paths["summary"])
    plot_timeline(records, paths["timeline"])
    return paths
