"""Every example of the README runs as written, so that the README cannot drift again.

Against a tiny model in the default run (the examples run; their settings exist), and
against the trained model (``models/expel-minilm``, which the README's main job writes
and CI has) in the slow run, where what an example prints must be what the README shows
after it (scores aside).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TRAINED = ROOT / "models" / "expel-minilm"
STAGES = {"expel-train": "train", "expel-evaluate": "evaluate", "expel-predict": "predict",
          "expel-annotate": "annotate"}


def blocks() -> list[tuple[str, str, str | None]]:
    """``(language, code, the text block right after it or None)`` for each fenced block."""
    found = [(m.group(1), m.group(2), m.end(), m.start())
             for m in re.finditer(r"^```(\w*)\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)]
    out = []
    for i, (lang, code, end, _) in enumerate(found):
        nxt = found[i + 1] if i + 1 < len(found) else None
        shown = nxt[1] if nxt and nxt[0] == "text" and len(README.read_text()[end:nxt[3]].strip()) < 200 else None
        out.append((lang, code, shown))
    return out


def commands() -> list[list[str]]:
    """Every ``expel-*`` command line of the README's bash blocks, as arguments."""
    out = []
    for lang, code, _ in blocks():
        if lang != "bash":
            continue
        for line in code.splitlines():
            for part in re.split(r"\s+&&\s+", line.split("  #")[0].strip()):
                args = shlex.split(part, comments=True)
                if args and args[0] in STAGES:
                    out.append(args)
    return out


def _without_scores(text: str) -> str:
    return re.sub(r" \((?:score \d\.\d\d|by rule)\)", "", text).strip()


def _python_examples() -> list[tuple[str, str | None]]:
    return [(code, shown) for lang, code, shown in blocks() if lang == "python"]


def _run_python(code: str, model_dir: Path) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.replace("models/expel-minilm", str(model_dir)), "README.md", "exec"), {})
    return out.getvalue()


def test_the_readme_has_the_examples_these_tests_run():
    assert len(_python_examples()) >= 1
    assert any(a[0] == "expel-predict" and any(x.startswith("text=") for x in a) for a in commands())


def test_every_python_example_runs_as_written(tiny_model_dir):
    for code, _ in _python_examples():
        _run_python(code, tiny_model_dir)


def test_every_command_uses_settings_and_options_that_exist():
    from pipeline.config import GROUPS, check_overrides

    for args in commands():
        stage = STAGES[args[0]]
        overrides = [a for a in args[1:] if not a.startswith("-")]
        assert check_overrides(stage, overrides) is None, args
        for a in overrides:
            key, _, value = a.partition("=")
            if key in GROUPS[stage]:
                assert (ROOT / "configs" / key / f"{value}.yaml").is_file(), f"{a} in {args}"


def test_the_one_sentence_commands_run(tiny_model_dir, tmp_path):
    for args in commands():
        if args[0] == "expel-predict" and any(a.startswith("text=") for a in args):
            res = subprocess.run([sys.executable, "-c", "from pipeline.cli import predict_main; predict_main()",
                                  *args[1:], f"model_dir={tiny_model_dir}", f"hydra.run.dir={tmp_path}/run"],
                                 capture_output=True, text=True, timeout=300, cwd=ROOT)
            assert res.returncode == 0, res.stderr[-2000:]


def _trained() -> Path:
    if not (TRAINED / "model.safetensors").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{TRAINED} is missing: CI runs the README's main job before the tests")
        pytest.skip(f"no trained model at {TRAINED} (run the README's main job: expel-train)")
    return TRAINED


@pytest.mark.slow
def test_the_examples_print_what_the_readme_shows(tmp_path):
    model = _trained()
    checked = 0
    for code, shown in _python_examples():
        if shown is not None:
            assert _run_python(code, model).strip() == shown.strip()
            checked += 1
    for lang, code, shown in blocks():
        if lang != "bash" or shown is None:
            continue
        (args,) = [shlex.split(line) for line in code.strip().splitlines()]
        res = subprocess.run([sys.executable, "-c", f"from pipeline.cli import {STAGES[args[0]]}_main; "
                              f"{STAGES[args[0]]}_main()", *args[1:], f"model_dir={model}",
                              f"hydra.run.dir={tmp_path}/run"], capture_output=True, text=True, timeout=300,
                             cwd=ROOT)
        assert res.returncode == 0, res.stderr[-2000:]
        assert _without_scores(res.stdout) == _without_scores(shown)
        checked += 1
    assert checked >= 2


def test_links_between_the_docs_resolve():
    """Every relative link of the README and docs/ names a file of the repository."""
    for md in [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "data" / "README.md"]:
        for target in re.findall(r"\]\(([^)\s]+)\)", md.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+://|#|mailto:", target):
                continue
            path = (md.parent / target.split("#")[0]).resolve()
            assert path.exists(), f"{md.relative_to(ROOT)} links to {target}, which does not exist"
