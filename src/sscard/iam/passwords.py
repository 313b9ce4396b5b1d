"""Password hashing (argon2id) and the password rules, in one place."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# A hash of a random password, checked when the username is unknown so that both paths
# take the same time and do not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("sscard-dummy-password-for-timing")

MIN_LENGTH = 8
MAX_LENGTH = 128


def problems(password: str) -> list[str]:
    """Reasons the password is not acceptable, in words an operator understands."""
    reasons = []
    if len(password) < MIN_LENGTH:
        reasons.append(f"密码至少 {MIN_LENGTH} 位")
    if len(password) > MAX_LENGTH:
        reasons.append(f"密码不能超过 {MAX_LENGTH} 位")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        reasons.append("密码须同时包含字母和数字")
    return reasons


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
