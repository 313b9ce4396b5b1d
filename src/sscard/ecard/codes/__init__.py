"""Dynamic QR codes of the e-card: the formats (``qr``, pure), the check a terminal or the
platform runs (``verifier``, pure), and issuing and verifying codes (``service``)."""
