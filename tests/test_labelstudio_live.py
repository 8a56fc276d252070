"""The annotation loop against a real Label Studio server (slow; skipped where the
``annotate`` extra is not installed): our tasks with predictions are imported through its
API into a project made with our labelling config, a person's "accept" is recorded as an
annotation, the project is exported, and the export reads back through our reader with
every span and link intact, then merges into a gold file."""

from __future__ import annotations

import json
import tempfile

import pytest

from pipeline.formats.labelstudio import LABELING_CONFIG, read_labelstudio, to_prediction_task
from pipeline.formats.links import event_links
from pipeline.formats.inline import parse_markup
from pipeline.annotation.merge import plan_merge
from tests import labelstudio_server as ls

pytestmark = pytest.mark.slow

MARKUP = [
    "[Poland]{EXPELLER#1} [expels]{TRIGGER#1} [45 Russian diplomats]{EXPELLED#1} for [spying]{REASON#1}.",
    "[Peru]{EXPELLER#1} 🇵🇪 [expelled]{TRIGGER#1} [the ambassador]{EXPELLED#1} on [3 May]{TIME#1}; he must leave "
    "within [72 hours]{DEADLINE#1}.",
    "[Russia]{EXPELLER#1,2} [expels]{TRIGGER#1} [two Estonian diplomats]{EXPELLED#1} and [orders]{TRIGGER#2} "
    "[a Latvian consul]{EXPELLED#2} to leave.",
    "Markets fall in Tokyo.",
]


@pytest.fixture(scope="module")
def server():
    binary = ls.executable()
    if binary is None:
        pytest.skip("Label Studio is not installed (pip install -e '.[annotate]', or set EXPEL_LABEL_STUDIO)")
    with tempfile.TemporaryDirectory(prefix="expel-ls-") as data:
        srv = ls.Server(binary, data)
        try:
            srv.start(timeout=300)
            api = ls.Api(f"http://127.0.0.1:{srv.port}")
            api.auth = f"Token {ls.USER_TOKEN}"
            yield api
        finally:
            srv.stop()


def test_tasks_with_predictions_round_trip_through_label_studio(server, tmp_path):
    docs = []
    for i, m in enumerate(MARKUP):
        d = parse_markup(f"ls-{i}", m)
        d.meta.update(date="2021-03-0" + str(i + 1), selection="uncertain", tagged=True)
        docs.append(d)
    tasks = [to_prediction_task(d, "expel-test") for d in docs]
    project = server.call("POST", "/api/projects/", {"title": "expel loop test", "label_config": LABELING_CONFIG})
    imported = server.call("POST", f"/api/projects/{project['id']}/import?return_task_ids=true", tasks)
    assert imported["task_count"] == len(docs) and imported["prediction_count"] == len(docs)
    for tid in imported["task_ids"]:
        (pred,) = server.call("GET", f"/api/predictions/?task={tid}")
        server.call("POST", f"/api/tasks/{tid}/annotations/",
                    {"result": pred["result"], "was_cancelled": False, "parent_prediction": pred["id"]})
    raw = server.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON", raw=True)
    export = tmp_path / "export.labelstudio.json"
    export.write_bytes(raw)
    back = {d.id: d for d in read_labelstudio(str(export))}
    assert sorted(back) == sorted(d.id for d in docs)
    for d in docs:
        got = back[d.id]
        assert got.text == d.text
        assert sorted(s.key for s in got.spans()) == sorted(s.key for s in d.spans())
        assert event_links(got) == event_links(d)                  # every link kept
    report = plan_merge([], list(back.values()))
    assert len(report.added) == len(docs) and not report.refused
    assert all("selection" not in d.meta and "tagged" not in d.meta for d in report.added)
    assert json.loads(raw)[0]["annotations"][0]["result"]             # a real annotation came back
