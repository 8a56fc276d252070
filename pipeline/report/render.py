"""Rendering report blocks as Markdown and as a self-contained HTML page.

A report is a list of blocks (heading, paragraph, table, image, error example) that the
two renderers here turn into Markdown and HTML, so both always say the same.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from pipeline.report.analysis import ErrorItem
from pipeline.schema import TRIGGER, Span

COLOURS = {TRIGGER: "#ffd166", "EXPELLER": "#8ecae6", "EXPELLED": "#f4a3a8", "REASON": "#b5e48c",
           "TIME": "#cdb4db", "DEADLINE": "#ffb703"}


# A block is ("h1" | "h2" | "h3" | "p", text), ("table", header, rows), ("img", file, alt)
# or ("example", ErrorItem, (start, end) of the text shown, gold spans, predicted spans).
Block = tuple


def describe(item: ErrorItem) -> str:
    parts = []
    if item.gold:
        parts.append(f"gold {item.gold.label} \"{item.gold.text}\"")
    if item.pred:
        parts.append(f"predicted {item.pred.label} \"{item.pred.text}\"")
    return f"{item.doc.id}: " + ", ".join(parts)


def _non_overlapping(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if not out or s.start >= out[-1].end:
            out.append(s)
    return out


def highlight(text: str, window: tuple[int, int], spans: list[Span], mark) -> str:
    """``text[window]`` with each span replaced by ``mark(span_text, label)``; the plain
    pieces between spans pass through ``mark(piece, None)`` (escaping)."""
    start, end = window
    out, pos = [], start
    for s in _non_overlapping(spans):
        out.append(mark(text[pos:s.start], None))
        out.append(mark(text[s.start:s.end], s.label))
        pos = s.end
    out.append(mark(text[pos:end], None))
    return "".join(out).strip()


_MD_SPECIAL = "\\`*_[]<>|#"


def md_escape(text: str) -> str:
    """Text safe inside Markdown: special characters escaped, line breaks flattened."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text).replace("\n", " ")


def _md_mark(style: str):
    def mark(piece: str, label: str | None) -> str:
        if label is None:
            return md_escape(piece)
        body = md_escape(piece)
        return f"**{body}**`{label}`" if style == "gold" else f"\\[{body}\\]`{label}`"
    return mark


def _html_mark(style: str):
    def mark(piece: str, label: str | None) -> str:
        if label is None:
            return html.escape(piece)
        colour = COLOURS.get(label, "#dddddd")
        css = f"background:{colour}" if style == "gold" else f"border:2px dashed {colour}"
        return (f'<mark class="{style}" style="{css}" title="{html.escape(label)}">{html.escape(piece)}'
                f"<sub>{html.escape(label)}</sub></mark>")
    return mark


def render_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + b[1])
        elif kind == "p":
            out.append(b[1])
        elif kind == "table":
            header, rows = b[1], b[2]
            cells = lambda r: "| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |"  # noqa: E731
            out.append("\n".join([cells(header), "|" + "---|" * len(header), *map(cells, rows)]))
        elif kind == "img":
            out.append(f"![{b[2]}]({b[1]})")
        elif kind == "example":
            item, window, g_spans, p_spans = b[1:]
            text = item.doc.text
            out.append(f"- {md_escape(describe(item))}\n"
                       f"  - gold: {highlight(text, window, g_spans, _md_mark('gold'))}\n"
                       f"  - pred: {highlight(text, window, p_spans, _md_mark('pred'))}")
    return "\n\n".join(out) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:0.85em;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;
text-align:right}td:first-child,th:first-child{text-align:left}mark{padding:0 2px;border-radius:3px}
mark sub{font-size:0.65em;margin-left:2px}.ex{border-left:3px solid #ddd;padding:4px 10px;margin:8px 0}
.desc{font-size:0.85em;color:#555}img{max-width:100%}"""


def _html_block(b: Block, run_dir: Path) -> str:
    kind = b[0]
    if kind in ("h1", "h2", "h3", "p"):
        return f"<{kind}>{html.escape(b[1])}</{kind}>"
    if kind == "table":
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in b[1])
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in b[2])
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    if kind == "img":
        path = run_dir / b[1]
        if not path.is_file():
            return f"<p>[missing plot {html.escape(b[1])}]</p>"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'<p><img alt="{html.escape(b[2])}" src="data:image/png;base64,{data}"></p>'
    item, window, g_spans, p_spans = b[1:]
    text = item.doc.text
    return (f'<div class="ex"><div class="desc">{html.escape(describe(item))}</div>'
            f"<div>gold: {highlight(text, window, g_spans, _html_mark('gold'))}</div>"
            f"<div>pred: {highlight(text, window, p_spans, _html_mark('pred'))}</div></div>")


def render_html(blocks: list[Block], run_dir: Path, title: str = "Evaluation report") -> str:
    """A self-contained page: styles inline, plots embedded as base64 PNG."""
    body = "\n".join(_html_block(b, Path(run_dir)) for b in blocks)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
            f"</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n")
