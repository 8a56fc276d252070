"""The three stages, thin functions over the library: ``train``, ``evaluate``, ``predict``.

Each takes its typed config (:mod:`pipeline.config`) and its run directory and returns
what it did; :mod:`pipeline.cli` wraps them for Hydra and prints their summaries.  No
stage imports another, and the library never imports a stage.
"""

from pipeline.stages.evaluate import evaluate
from pipeline.stages.predict import predict
from pipeline.stages.train import train

__all__ = ["evaluate", "predict", "train"]
