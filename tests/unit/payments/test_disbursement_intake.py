"""Reading benefit files (pure: no database): the columns, the row checks, the encodings."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.disbursement import intake
from sscard.registry.imports.errors import ImportFileInvalid

NUMBER = "370811195501011234"


def rows(tmp_path: Path, text: str, encoding: str = "utf-8") -> list[tuple[int, object, list[str]]]:
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding))
    return list(intake.read_file(path))


def test_a_good_row_is_read_with_its_amount_in_fen_and_its_kind_as_a_code(tmp_path: Path) -> None:
    (found,) = rows(
        tmp_path, f"期别,待遇类型,金额,姓名,身份证号\n202612,养老金,1850.5,张三,{NUMBER.lower()}\n"
    )
    row_no, row, problems = found
    assert (row_no, problems) == (1, [])
    assert isinstance(row, intake.BenefitRow)
    assert (row.id_number, row.name, row.amount_fen, row.kind, row.period) == (
        NUMBER,
        "张三",
        185050,
        "pension",
        "202612",
    )


def test_a_gb18030_file_is_read_as_well(tmp_path: Path) -> None:
    text = f"社会保障号码,姓名,金额,待遇类型,期别\n{NUMBER},李四,100,失业金,202611\n"
    ((_, row, problems),) = rows(tmp_path, text, "gb18030")
    assert problems == [] and isinstance(row, intake.BenefitRow) and row.kind == "unemployment"


@pytest.mark.parametrize(
    ("cells", "words"),
    [
        ("123,张三,1.00,补贴,202612", "18 位"),
        (f"{NUMBER},,1.00,补贴,202612", "姓名为空"),
        (f"{NUMBER},张三,0,补贴,202612", "大于 0"),
        (f"{NUMBER},张三,1.234,补贴,202612", "金额"),
        (f"{NUMBER},张三,100000.01,补贴,202612", "金额"),
        (f"{NUMBER},张三,1.00,工资,202612", "待遇类型"),
        (f"{NUMBER},张三,1.00,补贴,202613", "期别"),
        (f"{NUMBER},张三,1.00,补贴,2026-12", "期别"),
    ],
)
def test_a_bad_row_is_named_with_the_reason(tmp_path: Path, cells: str, words: str) -> None:
    ((row_no, row, problems),) = rows(
        tmp_path, "社会保障号码,姓名,金额,待遇类型,期别\n" + cells + "\n"
    )
    assert row_no == 1 and row is None
    assert any(words in p for p in problems), problems


def test_a_missing_column_refuses_the_file_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ImportFileInvalid) as refused:
        rows(tmp_path, f"社会保障号码,姓名,金额,期别\n{NUMBER},张三,1.00,202612\n")
    assert "待遇类型" in refused.value.message


@given(st.integers(min_value=1, max_value=intake.LINE_LIMIT_FEN))
def test_any_amount_within_the_limit_reads_back_to_the_same_fen(fen: int) -> None:
    row, problems = intake._row(
        1,
        {  # noqa: SLF001 - the row check on its own
            "id_number": NUMBER,
            "name": "张三",
            "amount": fen_to_yuan(fen),
            "kind": "subsidy",
            "period": "202612",
        },
    )
    assert problems == [] and row is not None and row.amount_fen == fen
