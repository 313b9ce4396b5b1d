"""Card photos: the rules a photo must meet (``rules.py``, pure), demo portraits
(``portraits.py``), and the use cases (``service.py``): upload, audited read, look-ups."""
