"""``sscard batch transfer-key`` writes the key into the data directory, not the current one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from sscard.cli.batch import app
from sscard.settings import get_settings

runner = CliRunner()


def test_the_transfer_key_lands_in_the_data_directory_by_default(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data_dir = get_settings().data_dir
    made = data_dir / "province-transfer.key"
    made.unlink(missing_ok=True)
    result = runner.invoke(app, ["transfer-key", "province"])
    assert result.exit_code == 0, result.output
    assert made.is_file() and not (tmp_path / "province-transfer.key").exists()
    assert stat.S_IMODE(os.stat(made).st_mode) == 0o600
    assert made.read_text().splitlines()[1] == "party: province"
    refused = runner.invoke(app, ["transfer-key", "../province"])
    assert refused.exit_code == 2 and "合作方名称" in refused.output
