"""Reconciliation rules without a database: the cut-off, fees, folding ledger legs, the
daily file format and the classification of every difference."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.payments.clearing import rules
from sscard.payments.clearing.rules import Movement
from sscard.payments.recon import dailyfile
from sscard.payments.recon.adjust import adjustment
from sscard.payments.recon.dailyfile import DailyFileRefused, Header, Record
from sscard.payments.recon.matching import DiffKind, compare

CUT = time(23, 0)
AT = "2026-12-04T02:00:00Z"


def test_a_payment_after_the_beijing_cut_off_belongs_to_the_next_clearing_day() -> None:
    before = datetime(2026, 12, 4, 14, 59, 59, tzinfo=UTC)  # 22:59:59 Beijing
    after = datetime(2026, 12, 4, 15, 0, 0, tzinfo=UTC)  # 23:00 Beijing
    assert rules.clearing_day(before, CUT) == date(2026, 12, 4)
    assert rules.clearing_day(after, CUT) == date(2026, 12, 5)
    start, end = rules.window(date(2026, 12, 5), CUT)
    assert start == after and end == datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def test_a_midnight_cut_off_makes_the_clearing_day_the_beijing_calendar_day() -> None:
    start, end = rules.window(date(2026, 12, 4), time(0, 0))
    assert (start, end) == (
        datetime(2026, 12, 3, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 4, 16, 0, tzinfo=UTC),
    )


def test_the_fee_rounds_half_up_to_the_fen_and_is_nothing_on_a_loss() -> None:
    assert rules.fee(10_000, 38) == 38
    assert rules.fee(1_250, 20) == 3  # 2.5 fen rounds up
    assert rules.fee(1_249, 20) == 2  # 2.498 fen rounds down
    assert rules.fee(0, 38) == 0 and rules.fee(-500, 38) == 0


@given(st.integers(1, 10**12), st.integers(0, 10_000))
def test_the_fee_is_never_more_than_half_a_fen_from_the_exact_rate(net: int, bp: int) -> None:
    assert abs(rules.fee(net, bp) * 10_000 - net * bp) <= 5_000


def _legs(no: str, bank: str, merchant: str, amount: int, outcome: str) -> list[rules.Row]:
    b, c, m = f"bank-clearing:{bank}", "card:C1", f"merchant:{merchant}"
    rows = [(f"pay:{no}:b", "pending", b, c, amount)]
    if outcome == "done":
        rows += [
            (f"pay:{no}:b:post", "post_pending", b, c, amount),
            (f"pay:{no}:m", "pending", c, m, amount),
            (f"pay:{no}:m:post", "post_pending", c, m, amount),
        ]
    elif outcome == "refused":
        rows.append((f"pay:{no}:b:void", "void_pending", b, c, amount))
    return rows


def test_folding_gives_one_movement_per_order_and_refund_with_its_bank_and_merchant() -> None:
    rows = [
        *_legs("P1", "B1", "M1", 500, "done"),
        *_legs("P2", "B1", "M1", 700, "refused"),
        *_legs("P3", "B2", "M2", 900, "pending"),
        ("ref:R1:m", "posted", "merchant:M1", "card:C1", 200),
        ("ref:R1:b", "posted", "card:C1", "bank-clearing:B1", 200),
        ("top:x", "posted", "bank-clearing:B1", "card:C1", 5),
        ("pay:P4:w", "posted", "bank-clearing:B2", "merchant:M2", 300),
        ("med:M1:b", "pending", "bank-clearing:B1", "card:C2", 40),
        ("med:M1:pool", "pending", "medical-pool", "merchant:M3", 60),
        ("med:M1:b:post", "post_pending", "bank-clearing:B1", "card:C2", 40),
        ("med:M1:m", "posted", "card:C2", "merchant:M3", 40),
        ("pay:P1:m:post:rev", "posted", "merchant:M1", "card:C1", 500),
    ]
    found = rules.fold(rows)
    assert set(found) == {"P1", "P2", "P3", "ref:R1", "P4", "M1"}
    assert found["P4"] == Movement("P4", "debit", 300, "done", "B2", "M2")
    assert found["M1"] == Movement("M1", "debit", 40, "done", "B1", "M3")
    assert found["P1"] == Movement("P1", "debit", 500, "done", "B1", "M1")
    assert (found["P2"].status, found["P3"].status) == ("refused", "pending")
    assert found["ref:R1"] == Movement("ref:R1", "credit", 200, "done", "B1", "M1")
    by_merchant = rules.totals(found.values(), by="merchant")
    assert by_merchant["M1"].net_fen == 300 and by_merchant["M1"].pay_count == 1
    assert rules.totals(found.values(), by="bank")["B1"].refund_fen == 200


def _file(records: list[Record]) -> bytes:
    return dailyfile.write(Header("bank", "B1", date(2026, 12, 4)), records)


def test_an_online_bank_payment_and_its_refund_fold_into_lowered_day_figures() -> None:
    rows = [
        ("pay:P1:w", "payment", "bank-clearing:B1", "merchant:M1", 30_000),
        ("ref:R1:w", "refund", "merchant:M1", "bank-clearing:B1", 10_000),
    ]
    found = rules.fold(rows)
    refund = found["ref:R1"]
    assert (refund.kind, refund.bank, refund.merchant, refund.amount) == (
        "credit",
        "B1",
        "M1",
        10_000,
    )
    assert refund.status == "done"
    assert rules.totals(found.values(), by="merchant")["M1"].net_fen == 20_000
    assert rules.totals(found.values(), by="bank")["B1"].net_fen == 20_000
    matched = compare(
        found,
        [
            Record("P1", "debit", 30_000, "done", "2026-12-04T01:00:00Z"),
            Record("ref:R1", "credit", 10_000, "done", "2026-12-04T02:00:00Z"),
        ],
    )
    assert list(matched) == []


def test_a_daily_file_reads_back_what_was_written() -> None:
    records = [Record("P1", "debit", 500, "done", AT), Record("ref:R1", "credit", 200, "done", AT)]
    parsed = dailyfile.read(_file(records))
    assert parsed.header == Header("bank", "B1", date(2026, 12, 4))
    assert (parsed.count, parsed.debit_fen, parsed.credit_fen) == (2, 500, 200)
    assert list(parsed.records()) == records


@pytest.mark.parametrize(
    ("damage", "line", "words"),
    [
        (lambda b: b[: b.rfind(b"T|")], 3, "缺少尾行"),
        (lambda b: b[:-5], 4, "截断"),
        (lambda b: b.replace(b"|500|", b"|5x0|"), 4, "SM3"),
        (lambda b: b.replace(b"SSCARD-DAILY", b"OTHER"), 1, "文件头"),
        (lambda b: b"", 0, "文件为空"),
    ],
)
def test_a_truncated_or_damaged_daily_file_is_refused_naming_the_line(
    damage: object, line: int, words: str
) -> None:
    good = _file([Record("P1", "debit", 500, "done", AT), Record("P2", "debit", 7, "done", AT)])
    with pytest.raises(DailyFileRefused) as refused:
        dailyfile.read(damage(good))  # type: ignore[operator]
    assert refused.value.line == line and words in str(refused.value)


def test_a_bad_detail_line_is_named_even_when_the_digest_is_right() -> None:
    body = b"H|SSCARD-DAILY|1|bank|B1|20261204\nD|P1|debit|-5|done|" + AT.encode() + b"|\n"
    from sscard.crypto.primitives import sm3

    data = body + f"T|1|0|0|{sm3(body).hex()}\n".encode()
    with pytest.raises(DailyFileRefused) as refused:
        dailyfile.read(data)
    assert refused.value.line == 2 and "金额" in refused.value.reason


def test_every_kind_of_difference_is_found_once_and_agreements_are_not_differences() -> None:
    ours = {
        "A": Movement("A", "debit", 100, "done", "B1", "M1"),
        "B": Movement("B", "debit", 200, "done", "B1", "M1"),
        "C": Movement("C", "debit", 300, "done", "B1", "M1"),
        "D": Movement("D", "debit", 400, "done", "B1", "M1"),
        "F": Movement("F", "debit", 600, "refused", "B1", "M1"),
        "G": Movement("G", "debit", 700, "pending", "B1", "M1"),
        "H": Movement("H", "debit", 800, "done", "B2", "M1"),
    }
    theirs = [
        Record("A", "debit", 100, "done", AT),
        Record("C", "debit", 330, "done", AT),
        Record("D", "debit", 400, "refused", AT),
        Record("E", "debit", 500, "done", AT),
        Record("F", "debit", 600, "refused", AT),
        Record("X", "debit", 900, "refused", AT),
    ]
    found = {d.key: d for d in compare(ours, theirs, expected=lambda m: m.bank == "B1")}
    assert {k: d.kind for k, d in found.items()} == {
        "B": DiffKind.ours_only,
        "C": DiffKind.amount_differs,
        "D": DiffKind.status_differs,
        "E": DiffKind.theirs_only,
    }
    assert (found["C"].ours_amount, found["C"].theirs_amount) == (300, 330)


def test_each_adjustment_moves_the_difference_between_the_party_merchant_and_suspense() -> None:
    def adj(direction: str, ours: tuple[int | None, str | None], theirs: tuple) -> object:
        return adjustment(
            direction=direction, source="bank", party="B1", merchant="M1", ours=ours, theirs=theirs
        )

    bank, merchant = "bank-clearing:B1", "merchant:M1"
    ours_only = adj("debit", (200, "done"), (None, None))
    assert (ours_only.debit_account, ours_only.credit_account, ours_only.amount) == (  # type: ignore[attr-defined]
        merchant,
        "suspense",
        200,
    )
    theirs_only = adj("debit", (None, None), (500, "done"))
    assert (theirs_only.debit_account, theirs_only.credit_account) == (bank, "suspense")  # type: ignore[attr-defined]
    more = adj("debit", (300, "done"), (330, "done"))
    assert (more.debit_account, more.amount) == (bank, 30)  # type: ignore[attr-defined]
    refund = adj("credit", (None, None), (80, "done"))
    assert (refund.debit_account, refund.credit_account) == ("suspense", bank)  # type: ignore[attr-defined]
    assert adj("debit", (100, "done"), (100, "done")) is None
