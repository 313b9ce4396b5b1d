import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.errors import FieldProblem
from sscard.registry.names import MIDDLE_DOT, normalise_name, validate_name

ideographs = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
extension_ideographs = st.one_of(
    st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),
    st.characters(min_codepoint=0x30000, max_codepoint=0x3134F),
)


@given(st.text(alphabet=st.one_of(ideographs, extension_ideographs), min_size=2, max_size=20))
def test_any_two_to_twenty_ideographs_make_a_name(name: str) -> None:
    assert validate_name(name) == []


@given(
    st.lists(st.text(alphabet=ideographs, min_size=1, max_size=5), min_size=2, max_size=4).filter(
        lambda parts: len(MIDDLE_DOT.join(parts)) <= 20
    ),
    st.sampled_from(["·", "•", "・", "‧", "･", " · "]),
)
def test_minority_names_with_any_common_dot_are_accepted_and_written_with_one_dot(
    parts: list[str], dot: str
) -> None:
    typed = dot.join(parts)
    assert validate_name(typed) == []
    assert normalise_name(typed) == MIDDLE_DOT.join(parts)


@pytest.mark.parametrize(
    "name", ["张三", "欧阳娜娜", "阿卜杜·热合曼", "𠈌明", "买买提·吐尔逊·艾力"]
)
def test_names_seen_at_the_counter_are_accepted(name: str) -> None:
    assert validate_name(name) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("张", "姓名应为 2-20 个汉字（实际 1 个字符）"),
        ("张" * 21, "姓名应为 2-20 个汉字（实际 21 个字符）"),
        ("·热合曼", "间隔号“·”不能在姓名开头或结尾"),
        ("热合曼·", "间隔号“·”不能在姓名开头或结尾"),
        ("阿卜杜··热合曼", "间隔号“·”不能连用"),
        ("张3", "姓名只能由汉字组成，少数民族姓名可用间隔号“·”，不能有：3"),
        ("张 三", "姓名只能由汉字组成，少数民族姓名可用间隔号“·”，不能有：空格"),
        (
            "Zhang San",
            "姓名只能由汉字组成，少数民族姓名可用间隔号“·”，不能有：空格、S、Z、a、g、h、n",
        ),
        ("  ", "请填写姓名"),
    ],
)
def test_a_bad_chinese_name_is_explained(name: str, reason: str) -> None:
    assert validate_name(name) == [FieldProblem("name", reason)]


@pytest.mark.parametrize(
    "name", ["SMITH, JOHN", "O'BRIEN, MARY-ANNE", "Müller, Jürgen", "LI Wei", "J. R. R. TOLKIEN"]
)
def test_a_foreigner_may_be_registered_under_the_latin_name_of_the_document(name: str) -> None:
    assert validate_name(name, document_type="02") == []
    assert validate_name(name, document_type="01") != []


def test_a_foreigner_with_a_chinese_name_follows_the_chinese_rules() -> None:
    assert validate_name("李思明", document_type="02") == []
    assert validate_name("李", document_type="02") != []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("A" * 61, "外文姓名不能超过 60 个字符（实际 61 个）"),
        ("SMITH 3", "外文姓名只能包含拉丁字母、空格、逗号、点、连字符和撇号，不能有：3"),
        ("., -", "外文姓名应包含拉丁字母"),
    ],
)
def test_a_bad_latin_name_is_explained(name: str, reason: str) -> None:
    assert validate_name(name, document_type="02") == [FieldProblem("name", reason)]


def test_spaces_around_a_latin_name_are_trimmed_and_runs_collapsed() -> None:
    assert normalise_name("  SMITH,   JOHN ") == "SMITH, JOHN"
