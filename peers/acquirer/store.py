"""The acquirer's records (收单流水), the source of its daily file.

One JSON object per line in ``<PEER_DATA_DIR>/records.jsonl`` (UTF-8, append only; see
docs/peers.md, "acquirer: records"). A later line for the same ``acquirer_ref`` replaces
an earlier one (a payment the platform left ``paying`` and later answered). The code the
resident showed is kept masked (first 6 and last 4 digits), never whole.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE = "records.jsonl"
FIELDS = (
    "acquirer_ref",
    "at",
    "merchant",
    "terminal",
    "merchant_order_no",
    "amount_fen",
    "code_masked",
    "status",
    "order_no",
    "detail",
)


def mask_code(code: str) -> str:
    return code[:6] + "*" * max(len(code) - 10, 0) + code[-4:] if len(code) > 10 else "*" * 4


class Records:
    """Append and read the records file; refs ``A`` + yyyymmdd (UTC) + 8-digit sequence."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE
        self.lock = threading.Lock()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.sequence = (
            sum(1 for _ in self.path.open(encoding="utf-8")) if self.path.exists() else 0
        )

    def new_ref(self) -> str:
        with self.lock:
            self.sequence += 1
            return f"A{datetime.now(UTC):%Y%m%d}{self.sequence:08d}"

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps({k: record.get(k) for k in FIELDS}, ensure_ascii=False)
        with self.lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def all(self) -> list[dict[str, Any]]:
        """The records, the last line of each ``acquirer_ref`` winning, in order of first sight."""
        if not self.path.exists():
            return []
        found: dict[str, dict[str, Any]] = {}
        with self.lock:
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    found[record["acquirer_ref"]] = record
        return list(found.values())
