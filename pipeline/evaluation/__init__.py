"""Evaluation: scores as ANNOTATION.md defines them (``scoring``), bootstrap intervals
(``intervals``), scoring a tagger on gold (``runs``), cross-validation (``crossval``) and
seed-variance / learning-curve reports (``variance``)."""
