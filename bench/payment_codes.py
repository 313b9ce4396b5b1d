"""Payment code formats in process, on one core: consumer payment codes issued and read per
second, and EMVCo merchant QR payloads built and parsed per second. Prints JSON; no
assertions.

    .venv/bin/python bench/payment_codes.py [--codes 50000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from sscard.crypto import primitives
from sscard.payments.codes import emv
from sscard.payments.codes.paycode import REFERENCE_SPAN, PaycodeCodec


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--codes", type=int, default=50_000)
    args = parser.parse_args()

    codec = PaycodeCodec(key=primitives.random_bytes(32))
    started = time.perf_counter()
    texts = [codec.issue(product="01", reference=n % REFERENCE_SPAN) for n in range(args.codes)]
    issue_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts:
        codec.read(text)
    read_seconds = time.perf_counter() - started

    merchant = emv.MerchantQr(
        accounts=(emv.MerchantAccount(26, "cn.sscard.pay", (("01", "M370811000001"),)),),
        mcc="5912",
        name="仁和大药房任城店",
        city="济宁",
    )
    started = time.perf_counter()
    payloads = [
        emv.build(
            emv.MerchantQr(
                merchant.accounts, merchant.mcc, merchant.name, merchant.city, n + 1, f"B{n}"
            )
        )
        for n in range(args.codes)
    ]
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for payload in payloads:
        emv.parse(payload)
    parse_seconds = time.perf_counter() - started

    result = {
        "benchmark": "payment_codes_in_process",
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
        "codes": args.codes,
        "paycode": {
            "issue_per_s": _rate(args.codes, issue_seconds),
            "read_per_s": _rate(args.codes, read_seconds),
        },
        "merchant_qr": {
            "payload_chars": len(payloads[0]),
            "build_per_s": _rate(args.codes, build_seconds),
            "parse_per_s": _rate(args.codes, parse_seconds),
        },
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))  # noqa: T201 - the report


if __name__ == "__main__":
    main()
