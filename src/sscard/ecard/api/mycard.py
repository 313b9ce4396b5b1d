"""My card business with the e-card session (线上办理): the card's status, making progress and
enabling, formal loss, an instant card at a bank branch, and a phone number change confirmed
by a code sent to the old number. The wallet pages do the same through the same services."""

from __future__ import annotations

from fastapi import APIRouter

from sscard.ecard import mybusiness, myphone
from sscard.ecard.api.deps import Resident
from sscard.ecard.schemas import (
    BranchOut,
    FormalLossIn,
    InstantIn,
    MyCardOut,
    PhoneChangedOut,
    PhoneChangeIn,
    PhoneCodeIn,
    PhoneCodeOut,
)
from sscard.httpkit.deps import CurrentActor, DbSession
from sscard.httpkit.units import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/ecard/me", tags=["e-card online"])


@router.get("/card", response_model=MyCardOut)
def my_card(resident: Resident, session: DbSession) -> MyCardOut:
    """My live card: status, making progress, enabling and what I may do online."""
    return mybusiness.my_card_out(session, person_id=resident.person_id)


@router.post("/card/formal-loss", response_model=MyCardOut)
def formal_loss(
    data: FormalLossIn, resident: Resident, actor: CurrentActor, session: DbSession
) -> MyCardOut:
    """正式挂失 of my card (confirmation and e-card PIN); it leads to a replacement."""
    pin = data.ecard_pin.get_secret_value()
    mybusiness.report_formal_loss(session, actor=actor, pin=pin, confirmed=data.confirm)
    return mybusiness.my_card_out(session, person_id=resident.person_id)


@router.get("/instant-branches", response_model=list[BranchOut])
def instant_branches(_resident: Resident, session: DbSession) -> list[BranchOut]:
    """The cooperating banks whose branches make instant cards."""
    return [BranchOut(code=b.code, name=b.name) for b in mybusiness.instant_branches(session)]


@router.post("/card/instant", response_model=MyCardOut)
def apply_instant(
    data: InstantIn, resident: Resident, actor: CurrentActor, session: DbSession
) -> MyCardOut:
    """Apply for an instant replacement at the chosen bank (after a formal loss)."""
    mybusiness.apply_instant(session, actor=actor, bank_code=data.bank_code, confirmed=data.confirm)
    return mybusiness.my_card_out(session, person_id=resident.person_id)


@router.post("/phone/code", response_model=PhoneCodeOut)
def phone_code(
    data: PhoneCodeIn, _resident: Resident, actor: CurrentActor, session: DbSession
) -> PhoneCodeOut:
    """Send a one-time code to my OLD number to confirm the new one."""
    sent = myphone.send_code(session, actor=actor, new_phone=data.new_phone)
    return PhoneCodeOut(sent_to=sent.old_phone_masked, expires_at=sent.expires_at)


@router.post("/phone", response_model=PhoneChangedOut)
def change_phone(
    data: PhoneChangeIn, _resident: Resident, actor: CurrentActor, session: DbSession
) -> PhoneChangedOut:
    """Change my number with the code sent to the old one."""
    masked = myphone.confirm_change(session, actor=actor, new_phone=data.new_phone, code=data.code)
    return PhoneChangedOut(phone_masked=masked)
