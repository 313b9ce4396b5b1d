"""Each peer, run as its own process, says where it listens and logs every request without
personal data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("peer", ["province", "bank", "vendor", "transport"])
def test_a_peer_prints_where_it_listens_and_logs_each_request(peer: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "PYTHONUNBUFFERED": "1",
        "PEER_DATA_DIR": str(tmp_path / peer),
        "PEER_TRUST_DIR": str(tmp_path / "trust"),
    }
    out = tmp_path / "out.log"
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", f"peers.{peer}", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert httpx.get(f"{url}/healthz", timeout=2).status_code == 200
                    break
                except httpx.TransportError:
                    assert process.poll() is None, out.read_text()
                    assert time.monotonic() < deadline, out.read_text()
                    time.sleep(0.2)
            missing = httpx.get(f"{url}/nothing/370102199003071211?id_number=370102199003071211")
            assert missing.status_code == 404
            time.sleep(0.3)
        finally:
            process.terminate()
            process.wait(timeout=10)
    text = out.read_text()
    assert f"peers.{peer} listening on http://127.0.0.1:{port}" in text
    assert re.search(rf"peer={peer} method=GET path=/healthz status=200 ms=\d+\.\d", text), text
    assert re.search(rf"peer={peer} method=GET path=/nothing/\* status=404 ms=", text), text
    assert "370102199003071211" not in text
