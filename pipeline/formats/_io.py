"""Reading untrusted corpus files: UTF-8 lines and JSON values, every failure a CorpusError.

Files are opened with ``errors="surrogateescape"`` so that an invalid byte does not
stop the reader with a bare ``UnicodeDecodeError`` (which names neither file nor
line): it becomes a lone surrogate ``\\udc80``-``\\udcff`` in the decoded line, and
:func:`check_utf8` turns it into a CorpusError naming the line and the byte.

``json.loads`` raises more than ``JSONDecodeError`` on hostile input: a value nested
thousands deep raises ``RecursionError`` and an integer of more than 4,300 digits a
plain ``ValueError`` (Python's limit on int/str conversion).  :func:`load_json` turns
all three into a CorpusError.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from pipeline.errors import json_problem
from pipeline.schema import CorpusError

# Bytes that are not UTF-8, as decoded with errors="surrogateescape".
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def check_utf8(text: str, *, path: str, line: int | None) -> None:
    """Raise a CorpusError if ``text`` (decoded with surrogateescape) held invalid bytes.

    Raises:
        CorpusError: naming the file, the line and the first bad byte.
    """
    m = _UNDECODABLE.search(text)
    if m:
        byte = ord(m.group()) - 0xDC00
        raise CorpusError(f"invalid UTF-8: byte 0x{byte:02X} at character {m.start() + 1} of the "
                          "line; save the file as UTF-8 (it may be Latin-1 or Windows-1252)",
                          path=path, line=line)


def utf8_lines(path: str, *, bom: bool = False) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for each line of a UTF-8 file, newline kept.

    Args:
        path: the file.
        bom: skip a UTF-8 byte order mark at the start (``utf-8-sig``).

    Raises:
        CorpusError: at the first line with bytes that are not UTF-8.
    """
    with open(path, encoding="utf-8-sig" if bom else "utf-8", errors="surrogateescape") as f:
        for lineno, line in enumerate(f, start=1):
            check_utf8(line, path=path, line=lineno)
            yield lineno, line


def read_utf8(path: str) -> str:
    """The whole text of a UTF-8 file (a BOM skipped).

    Raises:
        CorpusError: naming the line of the first byte that is not UTF-8.
    """
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as f:
        text = f.read()
    m = _UNDECODABLE.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        check_utf8(text[text.rfind("\n", 0, m.start()) + 1:], path=path, line=line)
    return text


def load_json(text: str, *, path: str, line: int | None, what: str,
              doc_id: str | None = None) -> Any:
    """Decode one JSON value.

    Args:
        text: the JSON text.
        path, line: where it comes from, for messages (``line`` None: the whole file,
            the line is taken from the parser where it knows it).
        what: what the text should be, for the message ("each line must be one JSON object").
        doc_id: the document, when known, for messages.

    Raises:
        CorpusError: for broken JSON, nesting too deep for the parser, or an integer
            too long to convert.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise CorpusError(f"not valid JSON ({json_problem(e)}); {what}", path=path,
                          line=line if line is not None else e.lineno, doc_id=doc_id) from None
    except RecursionError:
        raise CorpusError(f"JSON nested too deeply to read; {what}", path=path, line=line,
                          doc_id=doc_id) from None
    except ValueError as e:  # an integer of more than 4300 digits
        # Python's message ends with advice to raise the limit, which is not the fix here.
        reason = str(e).split(":")[0]
        raise CorpusError(f"JSON value cannot be read ({reason}); {what}", path=path, line=line,
                          doc_id=doc_id) from None
