"""Readers and writers for every corpus format the project accepts.

``read_corpus(path)`` picks the format from the name (or ``fmt=``) and returns validated
documents; ``write_corpus(docs, path, fmt)`` writes them back.

=============  ==================================  =====================
format         file                                 links kept
=============  ==================================  =====================
``events``     ``*.jsonl`` (ANNOTATION.md)          yes
``inline``     ``*.inline.jsonl`` (id + markup)     yes
``conll``      ``*.conll`` / ``*.bio`` columns      yes (``B-ROLE#1,2`` tags)
``doccano``    ``*.doccano.jsonl``                  yes (relations)
``labelstudio`` ``*.labelstudio.json``              yes (relations)
=============  ==================================  =====================
"""

from __future__ import annotations

import importlib
from typing import Callable, Iterable

from pipeline.schema import CorpusError, Document, closest

# name -> (module, reader function, writer function)
FORMATS: dict[str, tuple[str, str, str]] = {
    "events": ("pipeline.formats.jsonl", "read_events_jsonl", "write_events_jsonl"),
    "inline": ("pipeline.formats.inline", "read_inline_jsonl", "write_inline_jsonl"),
    "conll": ("pipeline.formats.conll", "read_conll", "write_conll"),
    "doccano": ("pipeline.formats.doccano", "read_doccano", "write_doccano"),
    "labelstudio": ("pipeline.formats.labelstudio", "read_labelstudio", "write_labelstudio"),
}

_SUFFIXES = [  # longest first
    (".inline.jsonl", "inline"), (".doccano.jsonl", "doccano"), (".labelstudio.json", "labelstudio"),
    (".conll", "conll"), (".bio", "conll"), (".jsonl", "events"),
]


def guess_format(path: str) -> str:
    """Format name from a file name.

    Raises:
        CorpusError: when the suffix is not one of the known ones.
    """
    for suffix, name in _SUFFIXES:
        if str(path).endswith(suffix):
            return name
    raise CorpusError(f"cannot tell the format of {path!r} from its name; name it "
                      f"*.jsonl, *.inline.jsonl, *.conll, *.doccano.jsonl or *.labelstudio.json, "
                      f"or pass the format ({', '.join(FORMATS)})")


def _get(fmt: str, which: int) -> Callable:
    if fmt not in FORMATS:
        raise CorpusError(f"unknown format {fmt!r}; known formats are {', '.join(FORMATS)}."
                          + closest(fmt, FORMATS))
    module = importlib.import_module(FORMATS[fmt][0])
    return getattr(module, FORMATS[fmt][which])


def read_corpus(path: str, fmt: str | None = None) -> list[Document]:
    """Read and validate every document of ``path``.

    Raises:
        CorpusError: naming file, line and id of the first broken record.
    """
    return list(_get(fmt or guess_format(path), 1)(str(path)))


def write_corpus(docs: Iterable[Document], path: str, fmt: str | None = None) -> None:
    """Write documents in the format named by ``fmt`` (or guessed from ``path``)."""
    _get(fmt or guess_format(path), 2)(list(docs), str(path))
