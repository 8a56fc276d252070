"""The evaluation report: ``report.md``, a self-contained ``report.html`` and PNG plots.

- :mod:`~pipeline.report.sections`: :func:`write_report`, the report's sections as blocks;
- :mod:`~pipeline.report.analysis`: errors by kind, trigger scores, the PR curve;
- :mod:`~pipeline.report.render`: Markdown and HTML renderers of the blocks;
- :mod:`~pipeline.report.plots`: the PNG plots.
"""

from pipeline.report.analysis import ERROR_KINDS, ErrorItem, classify_errors, pr_curve, trigger_outcomes
from pipeline.report.render import highlight, md_escape, render_html, render_markdown
from pipeline.report.sections import MODEL, write_report

__all__ = ["ERROR_KINDS", "MODEL", "ErrorItem", "classify_errors", "highlight", "md_escape", "pr_curve",
           "render_html", "render_markdown", "trigger_outcomes", "write_report"]
