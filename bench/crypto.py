"""SM2/SM3/SM4 throughput: sscard (GmSSL inside gmssl-pyx) beside OpenSSL and pure-Python gmssl.

Run by hand: ``.venv/bin/python bench/crypto.py``. Prints one JSON document. Every figure is
single-threaded (one core). MB means 10^6 bytes. Takes about a minute.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

MIB = 1 << 20
KIB64 = 64 << 10


def rate(action: Callable[[], object], *, seconds: float = 2.0, max_calls: int = 10**9) -> float:
    """Calls per second of ``action`` over about ``seconds`` (or ``max_calls``)."""
    action()
    calls, start = 0, time.perf_counter()
    deadline = start + seconds
    while calls < max_calls:
        action()
        calls += 1
        if calls % 8 == 0 and time.perf_counter() > deadline:
            break
    return calls / (time.perf_counter() - start)


def ratio(ours: float | None, other: float | None) -> float | None:
    return None if not ours or not other else round(ours / other, 2)


def ours() -> dict[str, float]:
    from sscard.crypto import primitives
    from sscard.crypto.primitives import SM2PrivateKey

    key = SM2PrivateKey.generate()
    message = b"e-card 370800 " * 4
    signature = key.sign(message)
    sm4_key = primitives.random_bytes(16)
    iv = primitives.random_bytes(16)
    buffers = {"1mib": os.urandom(MIB), "64kib": os.urandom(KIB64)}
    result = {
        "sm2_sign_per_s": rate(lambda: key.sign(message)),
        "sm2_verify_per_s": rate(lambda: key.public_key.verify(message, signature)),
    }
    for label, data in buffers.items():
        mb = len(data) / 1e6
        result[f"sm3_mb_per_s_{label}"] = mb * rate(lambda d=data: primitives.sm3(d))
        result[f"sm4_gcm_mb_per_s_{label}"] = mb * rate(
            lambda d=data: primitives.sm4_gcm_encrypt(sm4_key, d)
        )
        result[f"sm4_cbc_mb_per_s_{label}"] = mb * rate(
            lambda d=data: primitives.sm4_cbc_encrypt(sm4_key, iv, d)
        )
    return {k: round(v, 1) for k, v in result.items()}


def fields_figures() -> dict[str, float]:
    """Field tokens and blind indexes with keys cached, on a throwaway SQLite database."""
    workdir = tempfile.mkdtemp(prefix="sscard-bench-")
    os.environ.update(
        {
            "SSCARD_ENV": "test",
            "SSCARD_DATA_DIR": workdir,
            "SSCARD_MASTER_KEY": os.urandom(16).hex(),
            "SSCARD_DATABASE_URL": f"sqlite:///{workdir}/bench.db",
        }
    )
    from sscard import bootstrap, db
    from sscard.crypto import fields
    from sscard.db import migrate
    from sscard.settings import reset_settings

    reset_settings()
    bootstrap.import_models()
    db.configure()
    migrate.upgrade("heads")
    where = {"table": "registry_person", "column": "name", "row_id": "01JBENCH0000000000000000001"}
    with db.transaction() as session:
        keys = fields.load_keys(session, table=where["table"])
        token = fields.encrypt_field("王小明", session=session, **where)
        figures = {
            "encrypt_field_per_s": rate(
                lambda: fields.encrypt_field("王小明", session=session, **where)
            ),
            "decrypt_field_per_s": rate(
                lambda: fields.decrypt_field(token, session=session, **where)
            ),
            "blind_index_per_s": rate(
                lambda: fields.blind_index(
                    "37080219900307451X", purpose="person.id_number", session=session
                )
            ),
            "field_keys_encrypt_per_s": rate(
                lambda: keys.encrypt_field("王小明", column="name", row_id=where["row_id"])
            ),
        }
    per_row = 4 / figures["encrypt_field_per_s"] + 1 / figures["blind_index_per_s"]
    figures["rows_per_s_with_4_fields_and_1_index"] = 1 / per_row
    db.get_engine().dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    return {k: round(v, 1) for k, v in figures.items()}


def gmssl_figures() -> dict[str, float]:
    """The pure-Python ``gmssl`` package: a few hundred calls are enough."""
    from gmssl import func, sm2, sm3, sm4

    from sscard.crypto.primitives import SM2PrivateKey

    key = SM2PrivateKey.generate()
    crypt = sm2.CryptSM2(private_key=key.private_bytes().hex(), public_key=key.public_key.raw.hex())
    message = b"e-card 370800 " * 4
    signature = crypt.sign_with_sm3(message)
    data = os.urandom(KIB64)
    cipher = sm4.CryptSM4()
    cipher.set_key(os.urandom(16), sm4.SM4_ENCRYPT)
    iv = os.urandom(16)
    mb = len(data) / 1e6
    result = {
        "sm2_sign_per_s": rate(lambda: crypt.sign_with_sm3(message), max_calls=300),
        "sm2_verify_per_s": rate(lambda: crypt.verify_with_sm3(signature, message), max_calls=300),
        "sm3_mb_per_s_64kib": mb
        * rate(lambda: sm3.sm3_hash(func.bytes_to_list(data)), max_calls=5),
        "sm4_cbc_mb_per_s_64kib": mb * rate(lambda: cipher.crypt_cbc(iv, data), max_calls=3),
    }
    return {k: round(v, 2) for k, v in result.items()}


def openssl_figures() -> dict[str, Any]:
    openssl = shutil.which("openssl")
    if openssl is None:
        return {"reason": "the openssl command is not installed"}
    version = subprocess.run([openssl, "version"], capture_output=True, text=True).stdout.strip()
    result: dict[str, Any] = {"version": version}
    sm2 = subprocess.run(
        [openssl, "speed", "-seconds", "2", "sm2"], capture_output=True, text=True, check=False
    )
    match = re.search(r"SM2 \(CurveSM2\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", sm2.stdout)
    if match:
        result["sm2_sign_per_s"] = float(match.group(1))
        result["sm2_verify_per_s"] = float(match.group(2))
    else:
        result["sm2_sign_per_s"] = result["sm2_verify_per_s"] = None
        result["sm2_reason"] = "openssl speed sm2 is not supported by this build"
    for name, algorithm in (("sm3", "sm3"), ("sm4_cbc", "sm4-cbc"), ("sm4_gcm", "sm4-gcm")):
        run = subprocess.run(
            [openssl, "speed", "-mr", "-seconds", "2", "-bytes", str(KIB64), "-evp", algorithm],
            capture_output=True,
            text=True,
            check=False,
        )
        found = re.search(r"^\+F:\d+:[^:]+:([\d.]+)$", run.stdout, re.MULTILINE)
        result[f"{name}_mb_per_s_64kib"] = round(float(found.group(1)) / 1e6, 1) if found else None
        if not found:
            short = version.split(" (")[0]
            result[f"{name}_reason"] = f"{short} has no {algorithm.upper()} cipher to measure"
    return result


def main() -> None:
    import gmssl_pyx

    mine = ours()
    pure = gmssl_figures()
    ossl = openssl_figures()
    report = {
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "gmssl_pyx": gmssl_pyx.__version__,
            "openssl": ossl.get("version"),
            "threads": 1,
        },
        "ours": mine,
        "fields": fields_figures(),
        "gmssl_pure_python": pure,
        "openssl": ossl,
        "ratio_ours_to_openssl": {
            "sm2_sign": ratio(mine["sm2_sign_per_s"], ossl.get("sm2_sign_per_s")),
            "sm2_verify": ratio(mine["sm2_verify_per_s"], ossl.get("sm2_verify_per_s")),
            "sm3_64kib": ratio(mine["sm3_mb_per_s_64kib"], ossl.get("sm3_mb_per_s_64kib")),
            "sm4_cbc_64kib": ratio(
                mine["sm4_cbc_mb_per_s_64kib"], ossl.get("sm4_cbc_mb_per_s_64kib")
            ),
            "sm4_gcm_64kib": ratio(
                mine["sm4_gcm_mb_per_s_64kib"], ossl.get("sm4_gcm_mb_per_s_64kib")
            ),
        },
        "ratio_ours_to_gmssl": {
            "sm2_sign": ratio(mine["sm2_sign_per_s"], pure["sm2_sign_per_s"]),
            "sm2_verify": ratio(mine["sm2_verify_per_s"], pure["sm2_verify_per_s"]),
            "sm3_64kib": ratio(mine["sm3_mb_per_s_64kib"], pure["sm3_mb_per_s_64kib"]),
            "sm4_cbc_64kib": ratio(mine["sm4_cbc_mb_per_s_64kib"], pure["sm4_cbc_mb_per_s_64kib"]),
        },
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
