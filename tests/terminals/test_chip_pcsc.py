"""The emulated card through real pcscd + vpcd + pyscard (skipped when absent)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.terminals.test_chip_card import CARD_ID, EF05, EF06, MASTERS, make_card

smartcard = pytest.importorskip("smartcard", reason="pyscard (extra 'card') is not installed")
if (
    shutil.which("pcscd") is None
    or subprocess.run(["pgrep", "-x", "pcscd"], check=False).returncode
):
    pytest.skip("pcscd is not installed or not running", allow_module_level=True)

from sscard.terminals.chip.reader import CardReaderError, ChipReader  # noqa: E402

READER = "Virtual PCD 00 00"
pytestmark = pytest.mark.xdist_group("pcsc-slot-0")  # one card program per reader slot


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    if not any(r.startswith(READER) for r in ChipReader.list_readers()):
        pytest.skip(f"vpcd reader {READER!r} not present")
    path = tmp_path / "card.json"
    make_card(path).save()
    src = str(Path(__file__).resolve().parents[2] / "src")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sscard.terminals.chip",
            "serve",
            "--card",
            str(path),
            "--port",
            "35963",
        ],
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            r = ChipReader(next(n for n in ChipReader.list_readers() if n.startswith(READER)))
            r.connect()
            r.disconnect()
            break
        except CardReaderError:
            time.sleep(0.2)
    yield proc
    proc.terminate()
    proc.wait(timeout=5)


def _reader() -> ChipReader:
    return ChipReader(next(n for n in ChipReader.list_readers() if n.startswith(READER)))


def test_read_and_authenticate_over_pcsc(emulator: subprocess.Popen[bytes]) -> None:
    reader = _reader()
    reader.connect()
    reader.select_ssse()
    assert reader.read_identification() == EF05
    assert reader.internal_authenticate(MASTERS, CARD_ID)
    with pytest.raises(CardReaderError, match="6982"):
        reader.read_holder()
    assert reader.verify_pin("123456") == b"\x90\x00"
    assert reader.read_holder() == EF06
    reader.disconnect()


def test_card_pulled_mid_session(emulator: subprocess.Popen[bytes]) -> None:
    reader = _reader()
    reader.connect()
    reader.select_ssse()
    emulator.terminate()
    emulator.wait(timeout=5)
    time.sleep(1)
    with pytest.raises(CardReaderError):
        reader.read_identification()
