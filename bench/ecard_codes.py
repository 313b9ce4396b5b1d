"""E-card codes in process: generation and verification per second on one core.

Beside them, as the reference, the same codes signed and verified with SM2 (what a design
that signs every code would pay). Prints JSON; no assertions.

    .venv/bin/python bench/ecard_codes.py [--codes 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import time

from sscard.crypto import primitives
from sscard.ecard.codes import qr
from sscard.ecard.codes.verifier import Verifier
from sscard.ecard.schemas import CopyState


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--copies", type=int, default=10_000)
    args = parser.parse_args()

    keys = {(copy, 1): primitives.random_bytes(16) for copy in range(1, args.copies + 1)}
    states = {
        copy: CopyState(copy, f"E{copy}", f"P{copy}", f"C{copy}", f"P{copy}", False, "active", 1)
        for copy in range(1, args.copies + 1)
    }
    now = int(time.time())

    started = time.perf_counter()
    texts = []
    for n in range(args.codes):
        copy = n % args.copies + 1
        code = qr.OnlineCode(copy, now, secrets.token_bytes(6), qr.Business.query, False, 1)
        key = keys[(copy, 1)]
        texts.append(qr.encode_online(code, lambda body, key=key: primitives.sm3_hmac(key, body)))
    generate_seconds = time.perf_counter() - started

    verifier = Verifier(key_for=lambda c, v: keys[(c, v)], state_for=states.get, ttl=60)
    used: set[str] = set()
    started = time.perf_counter()
    accepted = 0
    for text in texts:
        code, _state = verifier.check(text, 1)
        if code.use_key not in used:
            used.add(code.use_key)
            accepted += 1
    verify_seconds = time.perf_counter() - started

    sm2 = primitives.SM2PrivateKey.generate()
    sample = min(args.codes, 5_000)
    bodies = [qr.parse_online(t)[1] for t in texts[:sample]]
    started = time.perf_counter()
    signatures = [sm2.sign(body) for body in bodies]
    sign_seconds = time.perf_counter() - started
    public = sm2.public_key
    started = time.perf_counter()
    for body, signature in zip(bodies, signatures, strict=True):
        public.verify(body, signature)
    sm2_verify_seconds = time.perf_counter() - started

    verify_rate = _rate(args.codes, verify_seconds)
    result = {
        "benchmark": "ecard_codes_in_process",
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
        "codes": args.codes,
        "code_length": len(texts[0]),
        "ours": {
            "generate_per_s": _rate(args.codes, generate_seconds),
            "verify_per_s": verify_rate,
            "accepted": accepted,
        },
        "reference_sm2_every_code": {
            "sign_per_s": _rate(sample, sign_seconds),
            "verify_per_s": _rate(sample, sm2_verify_seconds),
        },
        "ratio_verify_ours_over_sm2": round(verify_rate / _rate(sample, sm2_verify_seconds), 1),
        "aim_verify_per_s": 50_000,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
