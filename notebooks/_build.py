"""Write the notebooks from their cell sources (outputs cleared): python notebooks/_build.py"""
import nbformat as nbf

SETUP = '''import os, sys
from pathlib import Path
# Run from the project root (the configs name files relative to it).
ROOT = Path.cwd() if (Path.cwd() / "configs").is_dir() else Path.cwd().parent
os.chdir(ROOT)
# CI runs the notebooks on the tiny test configuration; unset EXPEL_NOTEBOOK_TINY for the real thing.
TINY = os.environ.get("EXPEL_NOTEBOOK_TINY", "0") == "1"
print("project root:", ROOT, "| tiny:", TINY)'''

CORPUS = [
    ("md", "# 1. The corpus and the schema\n\nThe gold corpus follows `ANNOTATION.md`: each document has `events`, "
           "each event a `trigger` span and `arguments` with a role (EXPELLER, EXPELLED, REASON, TIME, DEADLINE). "
           "Offsets are characters `[start, end)` into the text."),
    ("code", SETUP),
    ("code", '''from pipeline.formats import read_corpus
from pipeline.annotation.check import corpus_stats
train = read_corpus("data/gold/train.jsonl")
dev = read_corpus("data/gold/dev.jsonl")
seed = read_corpus("seeds/nato-expels-eight-russian-officials.events.jsonl")
for name, docs in [("train", train), ("dev", dev), ("seed", seed)]:
    s = corpus_stats(docs)
    print(f"{name:5s} documents {s['documents']:4d}  with events {s['with_events']:3d}  events {s['events']:3d}  {s['arguments_per_role']}")'''),
    ("md", "## One document, three views\n\nThe events JSONL line, the inline markup annotators write, and the spans."),
    ("code", '''import json
from pipeline.formats.inline import to_markup
from pipeline.formats.jsonl import dumps_document
doc = next(d for d in dev if len(d.events) >= 2)
print(to_markup(doc), "\\n")
print(json.dumps(json.loads(dumps_document(doc))["events"][0], indent=1, ensure_ascii=False)[:800])
for s in doc.spans():
    assert doc.text[s.start:s.end] == s.text
    print(f"{s.label:9s} [{s.start:3d},{s.end:3d}) {s.text!r}")'''),
    ("md", "## How long are the spans, and which roles are rare?"),
    ("code", '''import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from collections import Counter
roles = Counter(a.label for d in train + dev + seed for e in d.events for a in e.arguments)
lengths = {r: [len(a.text.split()) for d in train + dev for e in d.events for a in e.arguments if a.label == r] for r in roles}
fig, ax = plt.subplots(1, 2, figsize=(10, 3))
ax[0].bar(list(roles), list(roles.values())); ax[0].set_title("arguments per role")
ax[1].boxplot(list(lengths.values())); ax[1].set_xticks(range(1, len(lengths) + 1), list(lengths)); ax[1].set_title("span length (words)")
plt.tight_layout(); plt.show()'''),
    ("md", "## Negatives\n\nMost documents have no event: hard negatives (deportations of non-officials, expulsions "
           "from parties, threats, recalls) teach the model what is *not* an expulsion."),
    ("code", '''for d in [d for d in dev if not d.events and d.meta.get("pool") == "keyword"][:5]:
    print("-", d.text[:140], "\\n   note:", d.meta.get("note", ""))'''),
]

TRAIN = [
    ("md", "# 2. Train a model and read its report\n\nThe stages are plain functions; the notebook composes the same "
           "Hydra configs as `expel-train` / `expel-evaluate`."),
    ("code", SETUP),
    ("code", '''import tempfile
from pipeline.config import compose_config
from pipeline.stages import train
work = Path(tempfile.mkdtemp(prefix="expel-nb-"))
overrides = ["experiment=tiny", "trainer.max_steps=4"] if TINY else []
cfg = compose_config("train", overrides + [f"output_dir={work / 'model'}"])
print(cfg.model.encoder, cfg.trainer.epochs, cfg.data.train)
result = train(cfg, work / "train-run")
print({k: v for k, v in result.items() if k != "dev_scores"})'''),
    ("code", '''from pipeline.stages import evaluate
ecfg = compose_config("evaluate", [f"model_dir={result['model_dir']}", f"gold={cfg.data.dev}", "bootstrap=50"])
res = evaluate(ecfg, work / "eval-run")
m = res["metrics"]["model"]
print(f"trigger F1 {m['trigger']['f1']:.3f}  Arg-C F1 {m['argument']['f1']:.3f}  Arg-C+ F1 {m['argument_attached']['f1']:.3f}")
print("report:", res["report"])'''),
    ("code", '''from IPython.display import Markdown, display
text = Path(res["report"]).read_text()
display(Markdown(text[:4000]))'''),
]

ERRORS = [
    ("md", "# 3. Error analysis on the dev split\n\nPredict on dev, then sort the differences with gold into kinds."),
    ("code", SETUP),
    ("code", '''from pipeline.formats import read_corpus
from pipeline.tagger import Tagger, TaggerSettings
from pipeline.evaluation.scoring import score_documents
model_dir = Path("models/expel-minilm")
if TINY or not model_dir.is_dir():
    # No trained model here: train the tiny one on the fixtures (seconds).
    import tempfile
    from pipeline.config import compose_config
    from pipeline.stages import train
    work = Path(tempfile.mkdtemp(prefix="expel-nb-"))
    model_dir = Path(train(compose_config("train", ["experiment=tiny", "trainer.max_steps=4",
                                                    f"output_dir={work / 'model'}"]), work / "run")["model_dir"])
    dev = read_corpus("tests/fixtures/gold/dev.jsonl")
else:
    dev = read_corpus("data/gold/dev.jsonl")
tagger = Tagger.from_dir(str(model_dir), TaggerSettings())
from pipeline.schema import Document
pred = tagger.predict([Document(d.id, d.text, meta=d.meta) for d in dev])
scores = score_documents(dev, pred)
print({k: round(scores[k]["f1"], 3) for k in ("trigger", "argument", "argument_attached")})'''),
    ("code", '''from collections import Counter
def kind(g, p):
    """Classify one gold span g against predictions p of the same document."""
    same = [x for x in p if (x.start, x.end) == (g.start, g.end)]
    if any(x.label == g.label for x in same):
        return "correct"
    if same:
        return "wrong role"
    if any(x.label == g.label and x.start < g.end and g.start < x.end for x in p):
        return "wrong boundary"
    return "missed"
kinds, examples = Counter(), {}
by_id = {d.id: d for d in pred}
for g in dev:
    p = by_id[g.id].spans()
    for s in g.spans():
        k = kind(s, p)
        kinds[(s.label, k)] += 1
        examples.setdefault(k, []).append((g.id, s.label, s.text))
for (label, k), n in sorted(kinds.items()):
    print(f"{label:9s} {k:15s} {n}")'''),
    ("code", '''for k in ("wrong boundary", "wrong role", "missed"):
    print(f"== {k}")
    for ex in examples.get(k, [])[:5]:
        print("  ", ex)'''),
]


def build(cells, path):
    nb = nbf.v4.new_notebook()
    nb.cells = [nbf.v4.new_markdown_cell(src) if t == "md" else nbf.v4.new_code_cell(src) for t, src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbf.write(nb, path)


if __name__ == "__main__":
    from pathlib import Path
    here = Path(__file__).parent
    build(CORPUS, here / "01_corpus_and_schema.ipynb")
    build(TRAIN, here / "02_train_and_report.ipynb")
    build(ERRORS, here / "03_error_analysis.ipynb")
