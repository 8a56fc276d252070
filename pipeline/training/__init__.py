"""Training: the gold and synthetic corpora (``corpus``), augmentation (``augment``,
``articles``), building and saving the model (``modeling``), the loop (``loop``) and the
model card (``model_card``)."""
