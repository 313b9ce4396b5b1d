"""Partners' signing keys kept on disk (the peers, and anyone without a key store)."""

from __future__ import annotations

import os
from pathlib import Path

from sscard.crypto import pem, primitives
from sscard.exchange.files.manifest import Manifest, Signer, Verifier, key_signer, key_verifier


def party_signer(key_dir: Path, party: str, *, publish_to: Path | None = None) -> Signer:
    """A party's signer from ``<key_dir>/<party>-sign.key`` (PEM, created 0600 if missing);
    its public key is written to ``<publish_to>/<party>.pem`` for the others to trust."""
    key_dir.mkdir(parents=True, exist_ok=True)
    path = key_dir / f"{party}-sign.key"
    if path.exists():
        private = pem.load_private_key(path.read_bytes())
    else:
        private = primitives.SM2PrivateKey.generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(pem.private_key_to_pem(private))
    if publish_to is not None:
        publish_to.mkdir(parents=True, exist_ok=True)
        public = publish_to / f"{party}.pem"
        partial = publish_to / f".{party}.pem.partial"
        partial.write_text(pem.public_key_to_pem(private.public_key), encoding="ascii")
        os.replace(partial, public)
    return key_signer(party, f"{party}-sign", private)


def trust_dir_verifier(trust_dir: Path) -> Verifier:
    """A verifier trusting the ``<party>.pem`` keys in ``trust_dir`` as they are when asked."""

    def verify(manifest: Manifest, message: bytes, signature: bytes) -> bool:
        return key_verifier(trusted_keys(trust_dir))(manifest, message, signature)

    return verify


def trusted_keys(trust_dir: Path) -> dict[str, primitives.SM2PublicKey]:
    """Every ``<party>.pem`` public key in ``trust_dir``, by party."""
    if not trust_dir.is_dir():
        return {}
    return {path.stem: pem.load_public_key(path.read_bytes()) for path in trust_dir.glob("*.pem")}
