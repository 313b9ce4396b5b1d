from sscard.iam import passwords


def test_a_short_password_is_refused_with_a_reason() -> None:
    assert "密码至少 8 位" in passwords.problems("ab1")


def test_a_password_needs_letters_and_digits() -> None:
    assert passwords.problems("abcdefgh") == ["密码须同时包含字母和数字"]
    assert passwords.problems("abcd1234") == []


def test_a_hash_verifies_only_its_own_password() -> None:
    hashed = passwords.hash_password("abcd1234")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "abcd1234")
    assert not passwords.verify_password(hashed, "abcd12345")


def test_an_unknown_account_never_verifies() -> None:
    assert not passwords.verify_password(None, "sscard-dummy-password-for-timing")
