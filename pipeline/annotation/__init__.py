"""The annotation loop: picking documents for a person (``selection``), merging corrected
annotations into gold (``merge``) and checking an events file (``check``)."""
