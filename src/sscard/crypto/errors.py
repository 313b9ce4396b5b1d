"""Errors of the keys and cryptography component (密钥密码系统).

No message ever carries key material: names, versions, paths and check values only.
"""

from __future__ import annotations

from sscard.errors import SSCardError


class KeyNotFound(SSCardError):
    status_code = 404
    code = "key_not_found"


class KeyVersionNotFound(SSCardError):
    status_code = 404
    code = "key_version_not_found"


class KeyAlreadyExists(SSCardError):
    status_code = 409
    code = "key_exists"


class KeyRevoked(SSCardError):
    status_code = 409
    code = "key_revoked"


class KeyVersionActive(SSCardError):
    """The active version cannot be revoked; rotate first."""

    status_code = 409
    code = "key_version_active"


class WrongKeyKind(SSCardError):
    status_code = 422
    code = "wrong_key_kind"


class InvalidKey(SSCardError):
    """Key bytes of the wrong length, out of range, or not on the SM2 curve."""

    status_code = 422
    code = "invalid_key"


class InvalidKeyFile(SSCardError):
    """A PEM or DER key file that cannot be read as an SM2 key."""

    status_code = 422
    code = "invalid_key_file"


class InvalidCryptoInput(SSCardError):
    """An argument a primitive cannot take (plaintext too long, nonce of the wrong size)."""

    status_code = 422
    code = "invalid_crypto_input"


class DecryptionFailed(SSCardError):
    """The ciphertext was tampered with, moved, truncated, or made under another key."""

    status_code = 400
    code = "decryption_failed"


class MasterKeyMissing(SSCardError):
    status_code = 500
    code = "master_key_missing"


class MasterKeyCorrupt(SSCardError):
    """The master key file (or SSCARD_MASTER_KEY) cannot be trusted as it is."""

    status_code = 500
    code = "master_key_corrupt"


class MasterKeyInsecure(MasterKeyCorrupt):
    """The master key file is readable or writable by others than its owner."""

    code = "master_key_insecure"


class MasterKeyExists(SSCardError):
    status_code = 409
    code = "master_key_exists"


class MasterKeyForeign(SSCardError):
    """The master key is not the one this database's keys were wrapped with."""

    status_code = 500
    code = "master_key_foreign"


class TableNotRegistered(SSCardError):
    status_code = 404
    code = "table_not_registered"
