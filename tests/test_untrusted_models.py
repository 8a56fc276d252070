"""Untrusted model directories are refused with a ModelDirError that names the file and the fix.

tests/test_model.py covers a missing directory, a corrupt config, ``auto_map`` in
config.json, pickle-only weights, a label-map mismatch and corrupt safetensors; these
are the other ways a downloaded or hand-edited directory can be broken or hostile.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import pytest

from pipeline.tagger.loading import ModelDirError, check_model_dir, load_model, load_tokenizer
from tests.helpers import ROOT


@pytest.fixture
def model_copy(tiny_model_dir, tmp_path) -> Path:
    """A fresh copy of the tiny trained model, to break."""
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))


def edit_json(path: Path, change) -> None:
    obj = json.loads(path.read_text(encoding="utf-8"))
    change(obj)
    path.write_text(json.dumps(obj), encoding="utf-8")


def refused(model_dir: Path, *words: str) -> str:
    """Load ``model_dir``; it must fail with a ModelDirError containing every word."""
    with pytest.raises(ModelDirError) as e:
        load_model(model_dir)
    msg = str(e.value)
    for w in words:
        assert w in msg, f"{w!r} not in: {msg}"
    return msg


def test_missing_tokenizer_files_are_refused(model_copy):
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (model_copy / name).unlink(missing_ok=True)
    # Before the check: TypeError("stat: path should be string ... not NoneType") from transformers.
    refused(model_copy, "no tokenizer files", "tokenizer.json", str(model_copy))
    with pytest.raises(ModelDirError, match="no tokenizer files"):
        check_model_dir(model_copy)


def test_corrupt_tokenizer_files_are_refused(model_copy):
    (model_copy / "tokenizer.json").write_text("{not json")
    # Before: a bare Exception("key must be a string at line 1 column 2") from tokenizers.
    refused(model_copy, "cannot load the tokenizer", str(model_copy), "corrupt")


def test_corrupt_tokenizer_config_is_refused(model_copy):
    (model_copy / "tokenizer_config.json").write_text("{not json")
    refused(model_copy, "tokenizer_config.json", "not valid JSON")


@pytest.mark.parametrize("content", ["[1, 2, 3]", '"a string"', "null", "7"])
def test_config_that_is_not_a_json_object_is_refused(model_copy, content):
    (model_copy / "config.json").write_text(content)
    refused(model_copy, "config.json", "must hold a JSON object")


def test_tokenizer_config_with_auto_map_is_refused_and_no_code_runs(model_copy, tmp_path):
    marker = tmp_path / "pwned"
    (model_copy / "evil_tokenizer.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\nraise SystemExit('remote code ran')\n")

    def add(cfg):
        cfg["auto_map"] = {"AutoTokenizer": ["evil_tokenizer.EvilTokenizer", None]}
        cfg["tokenizer_class"] = "EvilTokenizer"

    edit_json(model_copy / "tokenizer_config.json", add)
    refused(model_copy, "tokenizer_config.json", "remote", "auto_map")
    with pytest.raises(ModelDirError, match="auto_map"):
        load_tokenizer(str(model_copy))
    assert not marker.exists()


def test_auto_map_with_a_standard_tokenizer_class_is_refused_too(model_copy):
    # transformers would load the standard class and ignore auto_map; the rule is simpler:
    # a directory that asks for custom code is not used at all.
    edit_json(model_copy / "tokenizer_config.json",
              lambda c: c.update(auto_map={"AutoTokenizer": ["x.Tok", "x.TokFast"]}))
    refused(model_copy, "tokenizer_config.json", "auto_map")


def test_trust_remote_code_in_config_is_refused(model_copy):
    edit_json(model_copy / "config.json", lambda c: c.update(trust_remote_code=True))
    refused(model_copy, "config.json", "remote")


def test_unknown_model_type_is_refused_naming_it(model_copy):
    edit_json(model_copy / "config.json", lambda c: c.update(model_type="no-such-arch"))
    refused(model_copy, "cannot read the config", "no-such-arch")


def test_config_without_model_type_is_refused(model_copy):
    edit_json(model_copy / "config.json", lambda c: (c.pop("model_type"), c.pop("architectures", None)))
    refused(model_copy, "cannot read the config", "model_type")


def test_weights_of_another_shape_are_refused(model_copy):
    edit_json(model_copy / "config.json", lambda c: c.update(hidden_size=64))
    refused(model_copy, "cannot load the weights", "another architecture")


@pytest.mark.parametrize("content", ["{broken", "[]"])
def test_corrupt_schema_record_is_refused(model_copy, content):
    (model_copy / "expel_schema.json").write_text(content)
    # Before: json.JSONDecodeError escaped from load_model; a list loaded as the info record.
    refused(model_copy, "expel_schema.json")


def test_config_json_as_a_directory_is_refused(model_copy):
    (model_copy / "config.json").unlink()
    (model_copy / "config.json").mkdir()
    refused(model_copy, "config.json is missing")


def hub_offline(monkeypatch) -> None:
    """No hub look-ups: without this, a name not on disk costs ~60 s of retries offline.

    huggingface_hub reads HF_HUB_OFFLINE once, at import, so the constant is patched too.
    """
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def test_unknown_encoder_name_is_refused_naming_it(monkeypatch):
    hub_offline(monkeypatch)
    with pytest.raises(ModelDirError) as e:
        load_tokenizer("no-such-model-xyz")
    assert "no-such-model-xyz" in str(e.value) and "local path" in str(e.value)


# --------------------------------------------------------------------------- source checks

SOURCES = sorted((ROOT / "pipeline").rglob("*.py"))


def test_no_source_file_trusts_remote_code():
    hits = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
            for p in SOURCES for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"trust_remote_code\s*=\s*(?!False\b)", line)]
    assert not hits, "trust_remote_code must never be anything but False:\n" + "\n".join(hits)


def test_every_from_pretrained_call_says_trust_remote_code_false():
    """A call that leaves the argument out depends on transformers' default; say it."""
    missing = []
    for p in SOURCES:
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "from_pretrained"):
                kw = {k.arg: k.value for k in node.keywords}
                ok = isinstance(kw.get("trust_remote_code"), ast.Constant) and \
                    kw["trust_remote_code"].value is False
                if not ok:
                    missing.append(f"{p.relative_to(ROOT)}:{node.lineno}")
    assert not missing, f"from_pretrained without trust_remote_code=False: {missing}"


def test_no_source_file_unpickles():
    """Model directories are untrusted: nothing in the package may unpickle from them."""
    pattern = re.compile(r"\bpickle\.loads?\(|\bjoblib\.load\(|\btorch\.load\((?![^)]*weights_only=True)")
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in SOURCES
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line)]
    assert not hits, hits
