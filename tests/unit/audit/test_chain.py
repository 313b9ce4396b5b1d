from datetime import UTC, datetime

from sscard.audit import chain


def _entries(n: int) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    prev = chain.GENESIS
    for seq in range(1, n + 1):
        entry: dict[str, object] = {
            "id": seq,
            "seq": seq,
            "occurred_at": datetime(2026, 1, 1, 8, 0, seq, tzinfo=UTC),
            "recorded_at": datetime(2026, 1, 1, 8, 0, seq, tzinfo=UTC),
            "actor_kind": "operator",
            "actor_id": "clerk",
            "action": "person.read",
            "subject_display": "370802********123X",
            "fields": ["name"],
            "outcome": "success",
            "detail": {},
        }
        entry["prev_hash"] = prev
        entry["entry_hash"] = prev = chain.entry_hash(prev, entry)
        entries.append(entry)
    return entries


def test_an_untouched_chain_holds() -> None:
    entries = _entries(5)
    head = {"seq": 5, "entry_hash": entries[-1]["entry_hash"]}
    assert chain.verify(entries, head=head) is None


def test_an_edited_entry_is_named() -> None:
    entries = _entries(5)
    entries[2]["actor_id"] = "someone-else"
    broken = chain.verify(entries, head=None)
    assert broken is not None and broken.seq == 3
    assert "changed" in broken.reason


def test_a_deleted_entry_is_named() -> None:
    entries = _entries(5)
    del entries[1]
    broken = chain.verify(entries, head=None)
    assert broken is not None and broken.seq == 2 and "missing" in broken.reason


def test_swapped_entries_are_caught() -> None:
    entries = _entries(5)
    entries[1], entries[2] = entries[2], entries[1]
    broken = chain.verify(entries, head=None)
    assert broken is not None and broken.seq == 2


def test_deleting_the_newest_entries_is_caught_by_the_head() -> None:
    entries = _entries(5)
    head = {"seq": 5, "entry_hash": entries[-1]["entry_hash"]}
    broken = chain.verify(entries[:3], head=head)
    assert broken is not None and broken.seq == 4 and "deleted" in broken.reason


def test_the_hash_depends_on_the_previous_entry() -> None:
    entry = _entries(1)[0]
    assert chain.entry_hash(chain.GENESIS, entry) != chain.entry_hash("1" * 64, entry)
