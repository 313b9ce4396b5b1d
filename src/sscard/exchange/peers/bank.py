"""HTTP client of a cooperating bank (合作银行): the card's financial account.

The platform asks the bank that serves a card to activate or deactivate the card's account
(one-step activation and its compensation), to bind a card to a new account or unbind it
(changing the service bank), and for the balance and transactions of the account.

What the bank receives is what it needs and already holds: the card number, the account
number (its own) and its institution code. No name or ID number is sent; the bank opened
the account with the holder in front of it. Calls that change something carry an
``Idempotency-Key``: the bank answers a repeated key with its first answer, so an outbox
delivery that is retried never acts twice.

The base URL of each bank comes from ``SSCARD_BANK_URLS`` (institution code -> URL; the key
``*`` serves every bank without an entry of its own). Outcomes:

- 2xx: done;
- 400, 404, 409, 422: the bank refuses (``PeerRefused``, code ``bank_refused``, 502);
- anything else, a timeout or no connection: ``PeerUnavailable`` (``bank_unavailable``,
  503), worth retrying. Balance and transaction queries are retried by the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sscard.exchange.errors import PeerUnavailable
from sscard.exchange.peers import client
from sscard.exchange.peers.config import Peer, peer
from sscard.settings import get_settings


@dataclass(frozen=True, slots=True)
class Balance:
    balance_fen: int
    available_fen: int
    currency: str
    as_of: datetime


@dataclass(frozen=True, slots=True)
class BankTransaction:
    occurred_at: datetime
    amount_fen: int
    balance_fen: int
    kind: str
    description: str


def base_url(bank_code: str) -> str | None:
    """The bank's base URL, or None if the platform has none configured for it."""
    urls = get_settings().bank_urls
    url = urls.get(bank_code) or urls.get("*")
    return url.rstrip("/") if url else None


def configured(bank_code: str) -> bool:
    return base_url(bank_code) is not None


def _bank(bank_code: str) -> Peer:
    return peer("bank", f"合作银行 {bank_code}", base_url(bank_code), instance=bank_code)


def _change(bank_code: str, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    """A call that changes something: sent once, under ``key`` (the outbox retries it)."""
    return client.call(_bank(bank_code), "POST", path, json=body, key=key)


def _query(bank_code: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A call that changes nothing: the client may try it again."""
    return client.call(_bank(bank_code), "POST", path, json=body, retry=True)


def _malformed(bank_code: str, what: str) -> PeerUnavailable:
    return PeerUnavailable("bank", f"合作银行 {bank_code} 的{what}应答格式不正确")


def activate_account(*, bank_code: str, card_number: str, account: str, key: str) -> None:
    """Activate the card's account (the bank's part of one-step activation)."""
    body = {"bank_code": bank_code, "card_number": card_number, "account": account}
    _change(bank_code, "/accounts/activate", body, key)


def deactivate_account(*, bank_code: str, card_number: str, account: str, key: str) -> None:
    """Undo :func:`activate_account` (compensation of a failed activation)."""
    body = {"bank_code": bank_code, "card_number": card_number, "account": account}
    _change(bank_code, "/accounts/deactivate", body, key)


def bind_card(*, bank_code: str, card_number: str, activate: bool, key: str) -> str:
    """Bind the card to an account at this bank (opening one if needed); the account number."""
    body = {"bank_code": bank_code, "card_number": card_number, "activate": activate}
    answer = _change(bank_code, "/cards/bind", body, key)
    account = answer.get("account")
    if not isinstance(account, str) or not account.isdigit():
        raise PeerUnavailable("bank", f"合作银行 {bank_code} 的绑定应答缺少账号")
    return account


def unbind_card(*, bank_code: str, card_number: str, key: str) -> None:
    """Unbind the card from its account at this bank (the card moved to another bank)."""
    _change(bank_code, "/cards/unbind", {"bank_code": bank_code, "card_number": card_number}, key)


def balance(*, bank_code: str, card_number: str, account: str) -> Balance:
    """The account's balance now."""
    body = {"bank_code": bank_code, "card_number": card_number, "account": account}
    answer = _query(bank_code, "/accounts/balance", body)
    try:
        return Balance(
            balance_fen=int(answer["balance_fen"]),
            available_fen=int(answer["available_fen"]),
            currency=str(answer.get("currency", "CNY")),
            as_of=datetime.fromisoformat(str(answer["as_of"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(bank_code, "余额") from exc


def transactions(
    *,
    bank_code: str,
    card_number: str,
    account: str,
    start: date | None,
    end: date | None,
    limit: int,
) -> list[BankTransaction]:
    """The account's transactions, newest first."""
    body: dict[str, Any] = {
        "bank_code": bank_code,
        "card_number": card_number,
        "account": account,
        "start_date": start.isoformat() if start else None,
        "end_date": end.isoformat() if end else None,
        "limit": limit,
    }
    answer = _query(bank_code, "/accounts/transactions", body)
    try:
        return [
            BankTransaction(
                occurred_at=datetime.fromisoformat(str(item["occurred_at"])),
                amount_fen=int(item["amount_fen"]),
                balance_fen=int(item["balance_fen"]),
                kind=str(item["kind"]),
                description=str(item.get("description", "")),
            )
            for item in answer.get("items", [])
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(bank_code, "交易明细") from exc


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """What the bank says of a debit or credit: ``done``, ``refused`` (with its reason code
    and words) or ``unknown`` (a status query about a reference the bank never applied)."""

    status: str
    reason_code: str | None = None
    reason: str | None = None


def _outcome(bank_code: str, response: Any) -> PaymentOutcome:
    """A 2xx is done; a refusal status is refused with the bank's reason; anything else is
    PeerUnavailable (the outcome is not known)."""
    peer_ = _bank(bank_code)
    if response.status_code in client.REFUSAL_STATUSES:
        try:
            body = response.json()
        except ValueError:
            body = {}
        code = str(body.get("error") or "refused")[:40] if isinstance(body, dict) else "refused"
        return PaymentOutcome("refused", code, client.reason(response))
    answer = client.answer(peer_, response)
    status = answer.get("status")
    if status not in ("done", "refused", "unknown"):
        raise _malformed(bank_code, "支付")
    reason = answer.get("reason")
    return PaymentOutcome(str(status), answer.get("reason_code"), reason and str(reason))


def _move(
    path: str,
    *,
    bank_code: str,
    card_number: str,
    account: str,
    amount_fen: int,
    ref: str,
    kind: str,
) -> PaymentOutcome:
    body = {
        "bank_code": bank_code,
        "card_number": card_number,
        "account": account,
        "amount_fen": amount_fen,
        "ref": ref,
        "kind": kind,
    }
    response = client.send(_bank(bank_code), "POST", path, json=body, key=ref, what=path)
    return _outcome(bank_code, response)


def debit(
    *, bank_code: str, card_number: str, account: str, amount_fen: int, ref: str
) -> PaymentOutcome:
    """Ask the bank to take ``amount_fen`` from the card's account (sent once, key ``ref``)."""
    return _move(
        "/payments/debit",
        bank_code=bank_code,
        card_number=card_number,
        account=account,
        amount_fen=amount_fen,
        ref=ref,
        kind="payment",
    )


def credit(
    *, bank_code: str, card_number: str, account: str, amount_fen: int, ref: str, kind: str
) -> PaymentOutcome:
    """Ask the bank to put ``amount_fen`` on the card's account (sent once, key ``ref``)."""
    return _move(
        "/payments/credit",
        bank_code=bank_code,
        card_number=card_number,
        account=account,
        amount_fen=amount_fen,
        ref=ref,
        kind=kind,
    )


def payment_status(*, bank_code: str, ref: str) -> PaymentOutcome:
    """What became of a debit or credit (a query: tried again on a timeout)."""
    body = {"bank_code": bank_code, "ref": ref}
    response = client.send(_bank(bank_code), "POST", "/payments/status", json=body, retry=True)
    return _outcome(bank_code, response)


def reverse_debit(*, bank_code: str, ref: str) -> PaymentOutcome:
    """Reverse (冲正) a debit whose answer never came: credited back if the bank applied it,
    barred if it never did; refused (``reversed``) either way once the bank answers."""
    body = {"bank_code": bank_code, "ref": ref}
    response = client.send(_bank(bank_code), "POST", "/payments/reverse", json=body, key=ref)
    outcome = _outcome(bank_code, response)
    if outcome.status != "refused":
        raise _malformed(bank_code, "冲正")
    return outcome
