"""The tagger: a trained token-classification model and the settings to run it.

- :mod:`~pipeline.tagger.settings`: frozen :class:`TaggerSettings`, resolved once from
  the ``tagger`` config group (:func:`resolve_settings`);
- :mod:`~pipeline.tagger.core`: :class:`Tagger` (windows -> batched forward passes ->
  spans -> linked events);
- :mod:`~pipeline.tagger.decoding`: BIO decoding (constrained Viterbi) and span repairs;
- :mod:`~pipeline.tagger.precision`: fp32, bf16 and int8, gated on a measured F1 cost.

Example:
    >>> from pipeline.tagger import Tagger, TaggerSettings              # doctest: +SKIP
    >>> tagger = Tagger.from_dir("models/expel-minilm", TaggerSettings())  # doctest: +SKIP
"""

from pipeline.tagger.core import Tagger, run_model
from pipeline.tagger.settings import TaggerSettings, resolve_settings

__all__ = ["Tagger", "TaggerSettings", "resolve_settings", "run_model"]
