"""The project's synthetic training documents (data/synthetic/): marked, valid, never gold,
compiled from their sources, and kept apart from every score."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.training.corpus import load_synthetic
from pipeline.schema import RESERVED_FROM
from pipeline.tagger.decoding import tidy_span

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(str(p) for p in (ROOT / "data" / "synthetic").glob("*.jsonl"))


def test_the_compiled_files_match_their_sources():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_synthetic.py"), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_every_synthetic_document_is_marked_dated_and_well_formed():
    docs = load_synthetic(FILES)
    assert docs and len({d.id for d in docs}) == len(docs)
    for d in docs:
        assert d.id.startswith("syn-") and d.meta["synthetic"] is True
        assert "2000-01-01" <= d.date < RESERVED_FROM
        for sp in d.spans():                  # spans as decoding would give them (R7)
            assert tidy_span(d.text, sp.start, sp.end) == (sp.start, sp.end), (d.id, sp.text)
        if d.meta["kind"] == "article":
            assert 150 <= len(d.text.split()) <= 600, (d.id, len(d.text.split()))


def test_synthetic_text_is_never_gold_and_never_scored(tmp_path):
    from pipeline.config import DataConfig
    from pipeline.training.corpus import load_split
    from pipeline.errors import CorpusError

    for gold in (ROOT / "data" / "gold").glob("*.jsonl"):
        assert '"synthetic"' not in gold.read_text(encoding="utf-8")
    data = DataConfig(train=["data/gold/train.jsonl", "data/gold/dev.jsonl"], synthetic=FILES, folds=5, fold=4)
    split = load_split(data, seed=0)
    assert split.synthetic and not any(d.meta.get("synthetic") for d in split.train + split.heldout)
    unmarked = tmp_path / "u.jsonl"
    unmarked.write_text(json.dumps({"id": "x", "text": "t", "events": []}) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="synthetic"):
        load_synthetic([str(unmarked)])
