"""The tagger's network on ONNX Runtime: float32, no torch, weights from safetensors.

ONNX Runtime runs a BERT encoder with fused kernels (one ``Attention`` node per layer,
the bias and residual folded into ``SkipLayerNormalization``, ``BiasGelu``), which on the
CPUs measured here is faster than PyTorch eager at the same float32 arithmetic, and a
process that tags with it never imports torch (about 1.7 s of start-up saved).

Nothing is exported and no ``.onnx`` file is read: the graph is written here, in memory,
from the model directory's ``config.json`` and its ``model.safetensors`` weights (by
their transformers names, strictly, as :mod:`pipeline.tagger.bert` loads them), so a
model directory stays what it was (config, safetensors, tokenizer) and nothing in it is
executed or unpickled.  :func:`model_proto` serialises the ONNX protobuf itself (a few
message types).  The ``onnx`` package's helpers would do the same, and were tried: importing
``onnx`` costs 0.68 s (0.57 s of it ``ml_dtypes``) and building and checking the graph with
it 0.6 s more, so a one-sentence ``expel-predict`` went from 1.0 to 2.0 s.  The writer stays;
the test suite loads what it writes with ``onnx`` and passes it through ``onnx.checker``
(``tests/test_ort.py``), so a malformed field cannot go unnoticed.

The same architectures as :mod:`pipeline.tagger.bert` are accepted (BERT, MiniLM: absolute
positions, exact GELU); a test checks that probabilities equal PyTorch's to 1e-4 and that
predictions are the same.  Whether a process uses this path is decided by
``tagger.runtime`` (:mod:`pipeline.tagger.runtime`), by a rule.

Shapes in comments: B batch, T tokens, D hidden size.
"""

from __future__ import annotations

import struct
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping

import numpy as np

# ----------------------------------------------------------------- protobuf, by hand
# Field numbers from onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
# TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto).

_FLOAT, _INT8, _INT32, _INT64 = 1, 3, 6, 7   # TensorProto.DataType
_ATTR_FLOAT, _ATTR_INT = 1, 2             # AttributeProto.AttributeType
IR_VERSION, OPSET = 8, 17


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class _Msg:
    """A protobuf message as a list of byte pieces, joined once at the end (the weights,
    90 MB for MiniLM, are copied once rather than once per nesting level)."""

    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[bytes | memoryview] = []
        self.size = 0

    def _add(self, *pieces: bytes | memoryview) -> "_Msg":
        for p in pieces:
            self.parts.append(p)
            self.size += len(p) if isinstance(p, bytes) else p.nbytes
        return self

    def int(self, field: int, n: int) -> "_Msg":
        return self._add(_varint(field << 3 | 0) + _varint(n))

    def float(self, field: int, x: float) -> "_Msg":
        return self._add(_varint(field << 3 | 5) + struct.pack("<f", x))

    def raw(self, field: int, data: bytes | memoryview) -> "_Msg":
        n = len(data) if isinstance(data, bytes) else data.nbytes
        return self._add(_varint(field << 3 | 2) + _varint(n), data)

    def str(self, field: int, s: str) -> "_Msg":
        return self.raw(field, s.encode("utf-8"))

    def msg(self, field: int, m: "_Msg") -> "_Msg":
        self._add(_varint(field << 3 | 2) + _varint(m.size))
        self.parts.extend(m.parts)
        self.size += m.size
        return self

    def bytes(self) -> bytes:
        return b"".join(self.parts)


def _tensor(name: str, arr: np.ndarray) -> _Msg:
    arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    dtype = {"f": _FLOAT, "i": {8: _INT64, 4: _INT32, 1: _INT8}[arr.itemsize]}[arr.dtype.kind]
    t = _Msg()
    for d in arr.shape:
        t.int(1, d)
    return t.int(2, dtype).str(8, name).raw(9, memoryview(arr).cast("B"))


def _node(op: str, inputs: list[str], outputs: list[str], domain: str = "", **attrs: int | float) -> _Msg:
    n = _Msg()
    for i in inputs:
        n.str(1, i)
    for o in outputs:
        n.str(2, o)
    n.str(4, op)
    for k, v in attrs.items():
        a = _Msg().str(1, k)
        a = a.float(2, v).int(20, _ATTR_FLOAT) if isinstance(v, float) else a.int(3, v).int(20, _ATTR_INT)
        n.msg(5, a)
    return n.str(7, domain) if domain else n


def _value_info(name: str, elem_type: int, dims: list[str]) -> _Msg:
    shape = _Msg()
    for d in dims:                                                       # symbolic dims (dim_param)
        shape.msg(1, _Msg().str(2, d))
    tensor_type = _Msg().int(1, elem_type).msg(2, shape)
    return _Msg().str(1, name).msg(2, _Msg().msg(1, tensor_type))


def _model(nodes: list[_Msg], initializers: list[_Msg], inputs: list[_Msg], outputs: list[_Msg],
           opsets: Mapping[str, int]) -> bytes:
    graph = _Msg()
    for n in nodes:
        graph.msg(1, n)
    graph.str(2, "expel_tagger")
    for t in initializers:
        graph.msg(5, t)
    for v in inputs:
        graph.msg(11, v)
    for v in outputs:
        graph.msg(12, v)
    model = _Msg().int(1, IR_VERSION).str(2, "expel-pipeline")
    for domain, version in opsets.items():
        opset = _Msg().str(1, domain) if domain else _Msg()
        model.msg(8, opset.int(2, version))
    return model.msg(7, graph).bytes()


# --------------------------------------------------------------------------- the graph

SUPPORTED = {"model_type": ("bert",), "hidden_act": ("gelu",), "position_embedding_type": ("absolute", None)}


def supported(config: dict[str, Any]) -> bool:
    """Whether :class:`BertTagger` reproduces the architecture ``config`` describes."""
    try:
        heads_fit = config["hidden_size"] % config["num_attention_heads"] == 0
        sizes = all(isinstance(config[k], int) and config[k] > 0 for k in (
            "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
            "max_position_embeddings"))
    except (KeyError, TypeError, ZeroDivisionError):
        return False
    return heads_fit and sizes and isinstance(config.get("id2label"), dict) and \
        all(config.get(k) in allowed for k, allowed in SUPPORTED.items())




def weight_names(config: Mapping[str, Any]) -> set[str]:
    """The safetensors names the graph reads (a ``BertForTokenClassification`` without pooler)."""
    e = "bert.embeddings."
    names = {e + n for n in ("word_embeddings.weight", "position_embeddings.weight",
                             "token_type_embeddings.weight", "LayerNorm.weight", "LayerNorm.bias")}
    per_layer = ("attention.self.query", "attention.self.key", "attention.self.value",
                 "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
                 "output.dense", "output.LayerNorm")
    for i in range(config["num_hidden_layers"]):
        names |= {f"bert.encoder.layer.{i}.{m}.{w}" for m in per_layer for w in ("weight", "bias")}
    return names | {"classifier.weight", "classifier.bias"}


INT8_LAYERS = ("qkv", "attn_out", "ffn_in", "ffn_out")   # the linear layers of each encoder layer
# What ``tagger.precision=int8 tagger.runtime=onnx`` quantises.  Measured on dev with a model
# trained on the train split (weights per column, activations per batch): these three cost
# at most 0.88 F1 points (Arg-C+), 1.7x faster than float32; all four cost 2.1 points.
ORT_INT8 = ("attn_out", "ffn_in", "ffn_out")


def quantize_columns(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output column of a (in, out) float matrix: ``(q, scale)`` with
    ``w ~= q * scale`` (zero point 0)."""
    scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0
    return np.clip(np.rint(w / scale), -127, 127).astype(np.int8), scale.astype(np.float32)


def model_proto(config: Mapping[str, Any], weights: Mapping[str, np.ndarray],
                int8: frozenset[str] | set[str] = frozenset()) -> bytes:
    """The serialised ONNX model: ``input_ids``, ``attention_mask`` (B, T) int64 ->
    ``probs`` (B, T, labels) float32, the softmax of the token classifier's logits.

    ``int8`` names the linear layers (of :data:`INT8_LAYERS`) to run as dynamically quantised
    int8 matrix products (``DynamicQuantizeMatMul``: weights int8 per output column,
    activations quantised per batch at run time); the others, the embeddings, layer norms,
    softmax and classifier stay float32.

    Raises:
        KeyError: a weight the graph needs is missing.
    """
    W = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items() if k in weight_names(config)}
    heads, eps = config["num_attention_heads"], float(config.get("layer_norm_eps", 1e-12))
    nodes: list[_Msg] = []
    inits: list[_Msg] = []
    count = [0]

    def init(name: str, arr: np.ndarray) -> str:
        inits.append(_tensor(name, arr))
        return name

    def op(kind: str, inputs: list[str], domain: str = "", **attrs) -> str:
        count[0] += 1
        out = f"{kind.lower()}_{count[0]}"
        nodes.append(_node(kind, inputs, [out], domain, **attrs))
        return out

    def qmatmul(x: str, name: str, w: np.ndarray, b: np.ndarray | None = None) -> str:
        """x @ w (+ b), with int8 weights; the bias is added inside when given."""
        q, scale = quantize_columns(w)
        inputs = [x, init(name, q), init(name + ".scale", scale), init(name + ".zp", np.zeros(q.shape[1], np.int8))]
        return op("DynamicQuantizeMatMul", inputs + ([init(name + ".b", b)] if b is not None else []), ms)

    def matmul(layer: str, x: str, name: str, w: np.ndarray) -> str:
        return qmatmul(x, name, w) if layer in int8 else op("MatMul", [x, init(name, w)])

    unknown = set(int8) - set(INT8_LAYERS)
    if unknown:
        raise ValueError(f"int8 layers must be among {INT8_LAYERS}, not {sorted(unknown)}")
    ms = "com.microsoft"
    e = "bert.embeddings."
    word = op("Gather", [init("word_embeddings", W[e + "word_embeddings.weight"]), "input_ids"])   # (B, T, D)
    length = op("Shape", ["input_ids"], start=1, end=2)                                          # [T]
    zero = init("zero", np.array([0], dtype=np.int64))
    pos = op("Slice", [init("position_embeddings", W[e + "position_embeddings.weight"]), zero, length, zero])
    pos = op("Add", [pos, init("token_type_0", W[e + "token_type_embeddings.weight"][0])])        # (T, D)
    x = op("LayerNormalization", [op("Add", [word, pos]), init("emb_ln_g", W[e + "LayerNorm.weight"]),
                                  init("emb_ln_b", W[e + "LayerNorm.bias"])], axis=-1, epsilon=eps)
    mask = op("Cast", ["attention_mask"], to=_INT32)                    # (B, T): 1 attend, 0 padding
    for i in range(config["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."

        def w(name: str, transpose: bool = True) -> np.ndarray:
            return W[p + name].T if transpose else W[p + name]

        qkv_w = np.concatenate([w(f"attention.self.{k}.weight") for k in ("query", "key", "value")], axis=1)
        qkv_b = np.concatenate([w(f"attention.self.{k}.bias", False) for k in ("query", "key", "value")])
        if "qkv" in int8:        # int8 projections, then attention on the float q, k, v
            q, k, v = (f"{p}{n}_{count[0]}" for n in "qkv")
            nodes.append(_node("Split", [qmatmul(x, p + "qkv.w", qkv_w, qkv_b)], [q, k, v], axis=-1))
            a = op("MultiHeadAttention", [q, k, v, "", mask], ms, num_heads=heads)
        else:
            a = op("Attention", [x, init(p + "qkv.w", qkv_w), init(p + "qkv.b", qkv_b), mask], ms, num_heads=heads)
        a = matmul("attn_out", a, p + "ao.w", w("attention.output.dense.weight"))
        x = op("SkipLayerNormalization", [a, x, init(p + "ao.ln.g", w("attention.output.LayerNorm.weight", False)),
                                          init(p + "ao.ln.b", w("attention.output.LayerNorm.bias", False)),
                                          init(p + "ao.b", w("attention.output.dense.bias", False))], ms, epsilon=eps)
        h = matmul("ffn_in", x, p + "in.w", w("intermediate.dense.weight"))
        h = op("BiasGelu", [h, init(p + "in.b", w("intermediate.dense.bias", False))], ms)     # exact GELU
        h = matmul("ffn_out", h, p + "out.w", w("output.dense.weight"))
        x = op("SkipLayerNormalization", [h, x, init(p + "out.ln.g", w("output.LayerNorm.weight", False)),
                                          init(p + "out.ln.b", w("output.LayerNorm.bias", False)),
                                          init(p + "out.b", w("output.dense.bias", False))], ms, epsilon=eps)
    logits = op("Add", [op("MatMul", [x, init("classifier.w", W["classifier.weight"].T)]),
                        init("classifier.b", W["classifier.bias"])])
    nodes.append(_node("Softmax", [logits], ["probs"], axis=-1))
    inputs = [_value_info(n, _INT64, ["B", "T"]) for n in ("input_ids", "attention_mask")]
    outputs = [_value_info("probs", _FLOAT, ["B", "T", "L"])]
    return _model(nodes, inits, inputs, outputs, {"": OPSET, ms: 1})


# --------------------------------------------------------------------------- the model


def available() -> bool:
    """Whether ONNX Runtime is installed (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


class OrtTagger:
    """The token classifier on ONNX Runtime: ``probs(ids, mask)`` -> (B, T, labels) float32.

    Attributes:
        config: ``pad_token_id``, ``num_labels`` and ``id2label``, as the tagger reads them.
        runtime: ``"onnx"`` (the tagger's runtime setting this model runs).
    """

    runtime = "onnx"

    def __init__(self, config: Mapping[str, Any], weights: Mapping[str, np.ndarray], threads: int = 0,
                 int8: frozenset[str] | set[str] = frozenset()):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3                  # errors only: no shape-merge warnings on stderr
        if threads > 0:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(model_proto(config, weights, int8), opts, providers=["CPUExecutionProvider"])
        self.int8 = frozenset(int8)
        self._source = (config, weights, threads)    # to build the same network with other int8 layers
        self.config = SimpleNamespace(pad_token_id=config.get("pad_token_id") or 0,
                                      vocab_size=config["vocab_size"], num_labels=len(config["id2label"]),
                                      id2label={int(k): v for k, v in config["id2label"].items()})

    def with_int8(self, int8: frozenset[str] | set[str], threads: int | None = None) -> "OrtTagger":
        """This network with ``int8`` layers quantised (none: float32), on ``threads``
        (default: as now)."""
        config, weights, now = self._source
        threads = now if threads is None else threads
        if frozenset(int8) == self.int8 and threads == now:
            return self
        return OrtTagger(config, weights, threads, int8=int8)

    def probs(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Label probabilities (B, T, labels) for int64 ``ids`` and ``mask`` (B, T)."""
        return self.session.run(["probs"], {"input_ids": ids.astype(np.int64, copy=False),
                                            "attention_mask": mask.astype(np.int64, copy=False)})[0]

    @classmethod
    def from_dir(cls, path: str | Path, config: Mapping[str, Any], threads: int = 0,
                 int8: frozenset[str] | set[str] = frozenset()) -> "OrtTagger | None":
        """The model of a checked directory, or None when its weights do not fit exactly
        (one safetensors file holding the graph's weights and nothing else but a pooler)."""
        from safetensors.numpy import load_file

        files = sorted(Path(path).glob("*.safetensors"))
        if len(files) != 1:
            return None
        try:
            weights = load_file(str(files[0]))
        except Exception:        # e.g. bfloat16 weights, which numpy cannot hold
            return None
        return cls.from_weights(config, weights, threads, int8)

    @classmethod
    def from_weights(cls, config: Mapping[str, Any], weights: Mapping[str, np.ndarray],
                     threads: int = 0, int8: frozenset[str] | set[str] = frozenset()) -> "OrtTagger | None":
        """The model from in-memory weights (transformers names), or None when they do not fit."""
        names = {k for k in weights if not k.startswith("bert.pooler.")}
        if names != weight_names(config):
            return None
        return cls(config, weights, threads, int8)

    @classmethod
    def from_torch(cls, model, threads: int = 0, int8: frozenset[str] | set[str] = frozenset()) -> "OrtTagger | None":
        """The same network as a PyTorch ``BertForTokenClassification`` (or the light
        :class:`pipeline.tagger.bert.BertTagger`), or None when it is another architecture."""
        config = getattr(model, "raw_config", None)
        if config is None and hasattr(model.config, "to_dict"):
            config = model.config.to_dict()
        if config is None or not supported(config):
            return None
        weights = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
        return cls.from_weights(config, weights, threads, int8)
