"""Card numbers handed out by concurrent allocations are unique and never reused."""

from __future__ import annotations

import secrets
import threading

from sqlalchemy import Engine

from sscard import db
from sscard.issuance.cards import number_service
from sscard.issuance.cards.schemas import RangeIn


def test_eight_concurrent_allocations_never_hand_out_a_number_twice(engine: Engine) -> None:
    region = f"37{secrets.randbelow(9000) + 1000}"
    with db.transaction() as session:
        number_service.add_range(
            session, data=RangeIn(region_code=region, prefix="Q", start=1, end=300)
        )
        number_service.add_range(
            session, data=RangeIn(region_code=region, prefix="R", start=1, end=300)
        )
    handed: list[list[str]] = []
    barrier = threading.Barrier(8)

    def allocate() -> None:
        barrier.wait()
        for _ in range(5):
            with db.transaction() as session:
                handed.append(
                    number_service.allocate_numbers(session, region_code=region, count=15)
                )

    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbers = [n for batch in handed for n in batch]
    assert len(numbers) == 8 * 5 * 15 == len(set(numbers))
    assert numbers and all(n.startswith(("Q", "R")) and len(n) == 9 for n in numbers)
    with db.transaction() as session:
        remaining = sum(
            r.remaining for r in number_service.list_ranges(session, region_code=region)
        )
    assert remaining == 600 - len(numbers)
