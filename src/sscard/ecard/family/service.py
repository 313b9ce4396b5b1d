"""Family service (亲情服务): a guardian holds and shows the e-card of a child or an elder.

Design overview
===============
- Who may be bound: a minor (under 18) or an elder (60 or over), by the birth date in the
  ID number the guardian types (every 18-character document carries it in positions 7-14;
  the registry's birth date otherwise). The guardian must be an adult and give the member's
  name as registered; an unknown number and a wrong name get the same answer.
- A minor's binding is active at once (consent ``by_age``). An elder's stays ``pending``
  until the elder consents in their own wallet (``member_ecard``) or a clerk records the
  consent at a counter (``counter``); the elder may refuse, or later withdraw.
- A guardian holds at most ``settings.ecard_family_max`` bindings (pending or active).
- The guardian's app holds a proxy copy (``proxy=True``) of the member's e-card, one per
  channel app, created when a minor is bound and otherwise when the first code is shown.
  Its codes carry the proxy flag, so a terminal sees ``proxy: true``.
- What a proxy may do: every scenario and business type except payment (支付, 02): a
  guardian shows a child's or elder's e-card for identity, medical care, libraries, parks,
  but never pays with it. Proxy codes for payment are not issued, and verification refuses
  a proxy code that claims payment.
- Ending a binding (guardian unbinds, elder withdraws) revokes the guardian's proxy copies
  at once; the change enters the revocation list offline terminals follow.
- Binding, consent, refusal and unbinding are audited with the member as the subject, so the
  member sees them in "who accessed my data"; each use of a proxy code is audited when a
  terminal verifies it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.ecard import records as ecard_records
from sscard.ecard import service as ecard_service
from sscard.ecard.codes import service as codes_service
from sscard.ecard.codes.schemas import CodeOut
from sscard.ecard.errors import ECardNotFound
from sscard.ecard.family import repository
from sscard.ecard.family.errors import (
    FamilyBindingExists,
    FamilyBindingNotFound,
    FamilyLimitReached,
    FamilyRefused,
    ProxyPaymentRefused,
)
from sscard.ecard.family.models import FamilyBinding
from sscard.ecard.family.rules import (
    ADULT_AGE,
    RELATIONS,
    age_on,
    birth_date_from_id,
    proxy_may,
    relation_for,
)
from sscard.ecard.family.schemas import FamilyBindIn, FamilyMemberOut, FamilyRequestOut
from sscard.ecard.models import Copy
from sscard.ecard.schemas import ResidentSessionOut
from sscard.errors import FieldProblem, NotFound
from sscard.kit import access
from sscard.kit.context import Actor
from sscard.registry.persons import service as registry_service
from sscard.settings import get_settings

LIVE = ("pending", "active")
STATUS_NAMES = {"pending": "待老人同意", "active": "已绑定", "ended": "已解除"}


# ---- views ---------------------------------------------------------------------------


def _display(session: Session, person_id: str) -> tuple[str, str]:
    with access.suppress_reads(session):
        return registry_service.person_display(session, person_id=person_id)


def _ecard_status(session: Session, person_id: str) -> str | None:
    try:
        return ecard_service.get_ecard_of_person(session, person_id=person_id).status
    except ECardNotFound:
        return None


def member_out(session: Session, binding: FamilyBinding) -> FamilyMemberOut:
    id_masked, name_masked = _display(session, binding.member_person_id)
    return FamilyMemberOut(
        id=binding.id,
        member_name=name_masked,
        member_id_number=id_masked,
        relation=binding.relation,
        relation_name=RELATIONS.get(binding.relation, binding.relation),
        status=binding.status,
        status_name=STATUS_NAMES.get(binding.status, binding.status),
        consent=binding.consent,
        created_at=binding.created_at,
        ecard_status=_ecard_status(session, binding.member_person_id),
    )


def request_out(session: Session, binding: FamilyBinding) -> FamilyRequestOut:
    g_id, g_name = _display(session, binding.guardian_person_id)
    m_id, m_name = _display(session, binding.member_person_id)
    return FamilyRequestOut(
        id=binding.id,
        guardian_name=g_name,
        guardian_id_number=g_id,
        member_name=m_name,
        member_id_number=m_id,
        relation=binding.relation,
        relation_name=RELATIONS.get(binding.relation, binding.relation),
        status=binding.status,
        status_name=STATUS_NAMES.get(binding.status, binding.status),
        consent=binding.consent,
        created_at=binding.created_at,
    )


def _record(session: Session, action: str, binding: FamilyBinding) -> None:
    ecard_records.record_about(
        session,
        action,
        binding.member_person_id,
        {"binding": binding.id, "relation": binding.relation},
    )


# ---- binding -------------------------------------------------------------------------


def _today() -> date:
    return datetime.now(UTC).date()


def _member(session: Session, data: FamilyBindIn) -> tuple[str, int]:
    """(the member's person id, age), or one refusal whatever was wrong."""
    refused = FamilyRefused(
        "证件号码与姓名不符，或该家庭成员未在社会保障卡系统登记",
        fields=[FieldProblem("member_id_number", "证件号码与姓名不符")],
    )
    with access.suppress_reads(session):
        person = registry_service.find_person(session, id_number=data.member_id_number)
        if person is None:
            raise refused
        record = registry_service.current_record(session, person)
    if registry_service.canonical_name(data.member_name) != record.name:
        raise refused
    born = birth_date_from_id(record.id_number) or person.birth_date
    return person.id, age_on(born, _today())


def _check_guardian(session: Session, guardian_id: str, member_id: str) -> None:
    with access.suppress_reads(session):
        guardian = registry_service.get_person_by_id(session, person_id=guardian_id)
    if age_on(guardian.birth_date, _today()) < ADULT_AGE:
        raise FamilyRefused("办理亲情服务的监护人须年满 18 周岁")
    if repository.live_binding(session, guardian_id, member_id, LIVE) is not None:
        raise FamilyBindingExists()
    count = repository.count_live(session, guardian_id, LIVE)
    limit = get_settings().ecard_family_max
    if count >= limit:
        raise FamilyLimitReached(f"亲情服务最多绑定 {limit} 位家庭成员")


def bind(session: Session, *, guardian: ResidentSessionOut, data: FamilyBindIn) -> FamilyBinding:
    """Bind a minor (active at once) or an elder (pending until the elder consents)."""
    member_id, age = _member(session, data)
    if member_id == guardian.person_id:
        raise FamilyRefused("不能绑定本人")
    relation = relation_for(age)
    if relation is None:
        raise FamilyRefused("亲情服务只能绑定未满 18 周岁的未成年人或 60 周岁及以上的老人")
    if data.relation is not None and data.relation != relation:
        raise FamilyRefused(
            f"该家庭成员为{RELATIONS[relation]}，与所选关系不符",
            fields=[FieldProblem("relation", "与年龄不符")],
        )
    _check_guardian(session, guardian.person_id, member_id)
    try:
        ecard_service.get_ecard_of_person(session, person_id=member_id)
    except ECardNotFound as missing:
        raise ECardNotFound("该家庭成员尚未领取电子社保卡，请先为其签发") from missing
    minor = relation == "minor"
    binding = FamilyBinding(
        guardian_person_id=guardian.person_id,
        member_person_id=member_id,
        relation=relation,
        consent="by_age" if minor else "awaiting",
        status="active" if minor else "pending",
        created_at=utcnow(),
        ended_at=None,
    )
    repository.add(session, binding)
    if minor:
        proxy_copy(session, binding=binding, channel_code=guardian.channel_code)
    _record(session, "ecard.family.bind", binding)
    return binding


def members(session: Session, *, guardian_person_id: str) -> list[FamilyBinding]:
    """The guardian's bindings that are pending or active, oldest first."""
    return repository.bindings_of_guardian(session, guardian_person_id, LIVE)


def guardian_binding(
    session: Session, *, guardian_person_id: str, binding_id: int
) -> FamilyBinding:
    """One of the guardian's live bindings, or FamilyBindingNotFound."""
    found = repository.binding(session, binding_id)
    if found is None or found.guardian_person_id != guardian_person_id or found.status not in LIVE:
        raise FamilyBindingNotFound()
    return found


def proxy_copy(session: Session, *, binding: FamilyBinding, channel_code: str) -> Copy:
    """The guardian's proxy copy of the member's current e-card in one channel app."""
    if binding.status != "active":
        raise FamilyRefused("该家庭成员尚未同意绑定，暂不能使用亲情服务")
    ecard = ecard_service.get_ecard_of_person(session, person_id=binding.member_person_id)
    copy = ecard_service.add_copy(
        session,
        ecard=ecard,
        channel_code=channel_code,
        holder_person_id=binding.guardian_person_id,
        proxy=True,
    )
    if copy.status == "revoked" and ecard.status != "revoked":
        ecard_service.set_copy_status(session, copy=copy, status=ecard.status)
    return copy


def issue_proxy_code(
    session: Session, *, guardian: ResidentSessionOut, binding_id: int, business: int = 1
) -> CodeOut:
    """A family member's dynamic code shown by the guardian (proxy flag set; no payment)."""
    if not proxy_may(business):
        raise ProxyPaymentRefused()
    binding = guardian_binding(
        session, guardian_person_id=guardian.person_id, binding_id=binding_id
    )
    copy = proxy_copy(session, binding=binding, channel_code=guardian.channel_code)
    return codes_service.issue_code(session, copy=copy, business=business)


def _end(session: Session, binding: FamilyBinding) -> None:
    binding.status, binding.ended_at = "ended", utcnow()
    ecard_service.revoke_proxy_copies(
        session,
        member_person_id=binding.member_person_id,
        holder_person_id=binding.guardian_person_id,
    )


def unbind(session: Session, *, guardian_person_id: str, binding_id: int) -> None:
    """The guardian ends a binding: the proxy copies are revoked at once."""
    binding = guardian_binding(
        session, guardian_person_id=guardian_person_id, binding_id=binding_id
    )
    _end(session, binding)
    _record(session, "ecard.family.unbind", binding)


# ---- the member's side and the counter -----------------------------------------------


def requests_for(session: Session, *, member_person_id: str) -> list[FamilyBinding]:
    """Bindings of me as the family member that are pending or active."""
    return repository.bindings_of_member(session, member_person_id, LIVE)


def _member_binding(session: Session, member_person_id: str, binding_id: int) -> FamilyBinding:
    found = repository.binding(session, binding_id)
    if found is None or found.member_person_id != member_person_id or found.status not in LIVE:
        raise FamilyBindingNotFound()
    return found


def _consent(session: Session, binding: FamilyBinding, how: str) -> FamilyBinding:
    if binding.status != "pending":
        raise FamilyRefused("该绑定不在等待同意状态")
    binding.status, binding.consent = "active", how
    session.flush()
    _record(session, "ecard.family.consent", binding)
    return binding


def consent(session: Session, *, member_person_id: str, binding_id: int) -> FamilyBinding:
    """The elder consents in their own wallet."""
    return _consent(session, _member_binding(session, member_person_id, binding_id), "member_ecard")


def refuse(session: Session, *, member_person_id: str, binding_id: int) -> FamilyBinding:
    """The member refuses a pending binding or withdraws an active one."""
    binding = _member_binding(session, member_person_id, binding_id)
    if binding.status == "pending":
        binding.consent = "refused"
    _end(session, binding)
    _record(session, "ecard.family.refuse", binding)
    return binding


def bindings_of_member(session: Session, *, id_number: str, actor: Actor) -> list[FamilyBinding]:
    """A person's live bindings as the family member, for a clerk at a counter (the clerk's
    region only)."""
    try:
        with access.suppress_reads(session):
            person = registry_service.get_person(session, id_number=id_number, actor=actor)
    except NotFound:
        return []
    return requests_for(session, member_person_id=person.id)


def counter_consent(session: Session, *, binding_id: int, actor: Actor) -> FamilyBinding:
    """A clerk records the elder's consent given in person at a counter."""
    binding = repository.binding(session, binding_id)
    if binding is None or binding.status not in LIVE:
        raise FamilyBindingNotFound()
    try:
        with access.suppress_reads(session):
            registry_service.get_person_in_scope(
                session, person_id=binding.member_person_id, actor=actor
            )
    except NotFound as outside:
        raise FamilyBindingNotFound() from outside
    return _consent(session, binding, "counter")
