"""Memory maps: one model (``model.py``), several readers from text (``iomem``, ``bootlog``, ``machine``)."""
