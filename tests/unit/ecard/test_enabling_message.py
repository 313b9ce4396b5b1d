"""What the wallet says about my card's financial side (pure)."""

from __future__ import annotations

from sscard.ecard.mybusiness import _bank_message


def test_a_skipped_bank_step_is_said_plainly_with_the_bank_to_visit() -> None:
    said = _bank_message("某银行", active=False, account=True, configured=False)
    assert "没有配置某银行的接口地址" in said and "跳过了银行账户激活" in said
    assert "到某银行任一网点激活" in said


def test_an_active_account_a_pending_one_and_none_each_read_differently() -> None:
    said = {
        _bank_message("某银行", active=True, account=True, configured=True),
        _bank_message("某银行", active=False, account=True, configured=True),
        _bank_message("某银行", active=False, account=False, configured=True),
    }
    assert len(said) == 3
    assert any("已激活" in s for s in said) and any("没有关联银行账户" in s for s in said)
