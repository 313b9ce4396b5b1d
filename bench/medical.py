"""The medical insurance peer's settlement: bills split per second by the pure rules, and
settlements (settle then cancel) per second over HTTP against the peer served in this
process. Prints JSON; no assertions.

    .venv/bin/python bench/medical.py [--bills 20000] [--settlements 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import threading
import time

import httpx
import uvicorn
from peers.medical.app import create_app
from peers.medical.rules import ITEM_CLASSES, Item, Standing, split
from peers.medical.store import load_rules

ID_NUMBER = "370811199001011237"


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def _items(n: int) -> list[Item]:
    return [
        Item(
            f"I{k}",
            "项目",
            ITEM_CLASSES[k % len(ITEM_CLASSES)],
            1000 + k * 37,
            "E11" if k % 3 == 0 else None,
        )
        for k in range(n)
    ]


def _serve() -> tuple[str, uvicorn.Server]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="error")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bills", type=int, default=20_000)
    parser.add_argument("--settlements", type=int, default=1_000)
    args = parser.parse_args()

    rules, _ = load_rules()
    standing = Standing("employee", 10**7, 0, 0, frozenset({"E11"}))
    bill = _items(10)
    started = time.perf_counter()
    for _ in range(args.bills):
        split(rules, standing, bill, offsite=False)
    split_seconds = time.perf_counter() - started

    url, server = _serve()
    with httpx.Client(base_url=url) as client:
        body = {"id_number": ID_NUMBER, "insurance_type": "employee", "personal_balance_fen": 10**9}
        client.post("/control/persons", json=body)
        items = [
            {"code": i.code, "name": i.name, "item_class": i.item_class, "amount_fen": i.amount_fen}
            for i in bill
        ]
        started = time.perf_counter()
        for n in range(args.settlements):
            number = f"M{n:019d}"
            bill_body = {
                "settlement_no": number,
                "id_number": ID_NUMBER,
                "hospital_code": "H0001",
                "visit_kind": "outpatient",
                "items": items,
            }
            client.post("/medical/settlements", json=bill_body).raise_for_status()
            client.post(f"/medical/settlements/{number}/cancel").raise_for_status()
        http_seconds = time.perf_counter() - started
    server.should_exit = True

    print(
        json.dumps(
            {
                "bench": "medical",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "items_per_bill": len(bill),
                "bills_split_per_second": _rate(args.bills, split_seconds),
                "http_settle_and_cancel_per_second": _rate(args.settlements, http_seconds),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
