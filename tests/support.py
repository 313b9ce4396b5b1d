"""Helpers for end-to-end tests: a real platform process, accounts, logging in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_server(
    log: Path, *, workers: int = 1, extra_env: dict[str, str] | None = None
) -> LiveServer:
    port = free_port()
    env = {**os.environ, **(extra_env or {})}
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sscard.cli.main",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(url, process, log)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


@dataclass
class Account:
    username: str
    password: str
    institution_code: str


def login(server: LiveServer, account: Account) -> str:
    response = httpx.post(
        f"{server.url}/api/v1/auth/token",
        data={"username": account.username, "password": account.password},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def citizen_id(region: str = "370811", born: str | None = None, *, male: bool = True) -> str:
    """A valid, random citizen ID number (GB 11643) for tests that share a database."""
    import random

    rng = random.SystemRandom()
    if born is None:
        born = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    sequence = rng.randrange(0, 999)
    sequence += (sequence % 2 == 0) if male else (sequence % 2 == 1)
    first17 = f"{region}{born}{sequence % 1000:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def person_body(id_number: str, **changes: object) -> dict[str, object]:
    """A registration body that agrees with ``id_number`` (birth date and gender)."""
    born = id_number[6:14]
    values: dict[str, object] = {
        "id_number": id_number,
        "name": "测试人员",
        "gender": "1" if int(id_number[16]) % 2 else "2",
        "ethnicity": "01",
        "birth_date": f"{born[:4]}-{born[4:6]}-{born[6:]}",
        "phone": "13853700000",
        "address": "山东省济宁市任城区古槐路1号",
        "household_region_code": id_number[:6],
        "residence_region_code": id_number[:6],
    }
    values.update(changes)
    return values
