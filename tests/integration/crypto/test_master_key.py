"""The master key against the database: first use recorded, a foreign key refused, init-master."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import keyring, master_key, repository
from sscard.crypto import service as crypto
from sscard.crypto.errors import MasterKeyExists, MasterKeyForeign
from sscard.crypto.models import KeyKind
from sscard.db import migrate
from sscard.settings import reset_settings


@contextmanager
def master_from_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> Iterator[None]:
    """Use the key file at ``path`` (written if missing) instead of SSCARD_MASTER_KEY."""
    with monkeypatch.context() as patch:
        patch.delenv("SSCARD_MASTER_KEY")
        patch.setenv("SSCARD_MASTER_KEY_FILE", str(path))
        reset_settings()
        keyring.reset()
        try:
            yield
        finally:
            keyring.reset()
    reset_settings()


def test_the_first_use_of_a_master_key_records_its_check_value(session: Session) -> None:
    master = keyring.keyring.verified_master(session)
    record = repository.get_master_record(session)
    assert record is not None
    assert record.check_value == master.check_value
    assert master.key.hex() not in record.check_value


def test_a_foreign_master_key_file_is_refused(
    session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorded = keyring.keyring.verified_master(session)
    path = tmp_path / "keys" / "master.key"
    foreign = master_key.write_master_key_file(path, origin="production")
    with master_from_file(monkeypatch, path):
        with pytest.raises(MasterKeyForeign) as caught:
            crypto.create_key(session, name="after-restore", kind=KeyKind.sm4_data)
    message = caught.value.message
    assert str(path) in message
    assert recorded.check_value in message and foreign.check_value in message
    assert foreign.key.hex() not in message and recorded.key.hex() not in message
    assert caught.value.code == "master_key_foreign"
    assert path.exists()


def test_a_lost_key_file_is_reported_as_lost_and_no_stray_file_is_left(
    session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorded = keyring.keyring.verified_master(session)
    path = tmp_path / "keys" / "master.key"
    with master_from_file(monkeypatch, path):
        with pytest.raises(MasterKeyForeign, match="there was no master key file") as caught:
            crypto.create_key(session, name="after-loss", kind=KeyKind.sm4_data)
    assert str(path) in caught.value.message
    assert recorded.check_value in caught.value.message
    assert not path.exists()


def test_a_key_file_written_on_first_use_is_private_and_marked_for_development(
    session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "keys" / "master.key"
    with master_from_file(monkeypatch, path):
        reasons = crypto.demo_material_present(session)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert f"主密钥文件 {path} 是为开发环境生成的" in reasons


def test_init_master_refuses_a_database_that_already_has_a_master_key(
    session: Session, tmp_path: Path
) -> None:
    keyring.keyring.verified_master(session)
    path = tmp_path / "new.key"
    with pytest.raises(MasterKeyExists, match="already records a master key"):
        crypto.init_master_key(session, path=path, production=True)
    assert not path.exists()


def test_init_master_prepares_a_new_database_for_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = db.build_engine(f"sqlite:///{tmp_path}/fresh.db", pool_size=1)
    migrate.upgrade("heads", engine=engine)
    path = tmp_path / "keys" / "master.key"
    try:
        with Session(engine) as session:
            master = crypto.init_master_key(session, path=path, production=True)
            assert master.origin == "production"
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            with pytest.raises(MasterKeyExists, match="already exists"):
                crypto.init_master_key(session, path=path, production=True)
            with master_from_file(monkeypatch, path):
                crypto.create_key(session, name="ecard-sign", kind=KeyKind.sm2_sign)
                assert crypto.demo_material_present(session) == []
                record = repository.get_master_record(session)
                assert record is not None
                assert (record.check_value, record.origin) == (master.check_value, "production")
    finally:
        engine.dispose()
