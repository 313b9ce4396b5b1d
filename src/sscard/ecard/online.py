"""Online services (线上应用) after e-card authentication: my insurance, the parts later
components supply, and who accessed my data.

Benefits, rights records and contributions belong to components the platform does not have
yet; their answers say so plainly (``available: false``) and never invent values. The access
log reads the audit chain: every entry whose subject is the resident, with the acting party,
its institution, the action in Chinese, the stated purpose and the field names touched.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.audit import service as audit_service
from sscard.ecard.schemas import (
    AccessLogItem,
    AccessLogPage,
    InsuranceItem,
    InsuranceOut,
    NotAvailableOut,
)
from sscard.errors import NotFound
from sscard.iam import service as iam_service
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.registry.persons import service as registry_service

MAX_PAGE_SIZE = 100

LATER: dict[str, tuple[str, str]] = {
    "benefits": (
        "待遇享受",
        "待遇发放信息由社会保险待遇组件提供，该组件尚未接入本平台，暂无数据。",
    ),
    "rights": (
        "权益记录",
        "个人权益记录由社会保险经办组件提供，该组件尚未接入本平台，暂无数据。",
    ),
    "contributions": (
        "缴费记录",
        "缴费信息由社会保险费征缴组件提供，该组件尚未接入本平台，暂无数据。",
    ),
}
"""Parts of "my social insurance" that later components will supply."""

ACTOR_KINDS = {
    "operator": "工作人员",
    "terminal": "受理终端",
    "app": "合作应用",
    "resident": "个人",
    "system": "系统",
}

ACTIONS = {
    "person.read": "查看个人信息（脱敏）",
    "person.reveal": "查看完整个人信息",
    "person.create": "登记个人信息",
    "person.update": "修改个人信息",
    "person.delete": "删除个人信息",
    "person.import": "批量导入个人信息",
    "person.photo.read": "查看照片",
    "person.photo.write": "保存照片",
    "ecard.sign": "签发电子社保卡",
    "ecard.pin_reset": "重置电子社保卡密码",
    "ecard.login": "登录电子社保卡",
    "ecard.verify": "扫码核验电子社保卡",
    "ecard.insurance": "查询参保信息",
    "ecard.oauth.grant": "同意授权第三方应用",
    "ecard.oauth.deny": "拒绝授权第三方应用",
    "ecard.oauth.token": "第三方应用取得授权令牌",
    "ecard.oauth.userinfo": "第三方应用读取授权信息",
    "ecard.scanlogin.confirm": "确认扫码登录",
    "ecard.scanlogin.refuse": "拒绝扫码登录",
    "ecard.scanlogin.login": "政务网站扫码登录取得身份",
    "ecard.family.bind": "绑定亲情服务",
    "ecard.family.consent": "同意亲情服务绑定",
    "ecard.family.refuse": "拒绝或撤回亲情服务绑定",
    "ecard.family.unbind": "解除亲情服务绑定",
    "ecard.family.code": "亲属代为出示二维码",
    "ecard.credential.issue": "亮证",
    "ecard.credential.verify": "核验亮证凭证",
    "ecard.card.formal_loss": "线上正式挂失",
    "ecard.card.instant_apply": "线上申请即时制卡",
    "ecard.phone.code": "发送手机号变更验证码",
    "ecard.phone.change": "变更预留手机号",
}
"""Audit actions in words a resident understands."""

FIELDS = {
    "id_number": "证件号码",
    "id_number_masked": "证件号码（脱敏）",
    "name": "姓名",
    "name_masked": "姓名（脱敏）",
    "phone": "手机号码",
    "address": "联系地址",
    "content": "照片",
    "photo": "照片",
    "gender": "性别",
    "birth_date": "出生日期",
    "age_band": "年龄段",
    "card_number": "社会保障卡卡号",
    "card_status": "卡状态",
    "card_valid": "卡状态是否有效",
    "region": "参保地",
    "insurance": "参保信息",
    "sub": "用户标识",
}


def _record(session: Session, action: str, person_id: str, fields: tuple[str, ...] = ()) -> None:
    with access.suppress_reads(session):
        display, _ = registry_service.person_display(session, person_id=person_id)
    access.record(
        session,
        AccessRecord(
            action=action,
            subject_type="person",
            subject_id=person_id,
            subject_display=display,
            fields=fields,
        ),
    )


def insurance_items(session: Session, *, person_id: str) -> list[InsuranceItem]:
    """The person's enrolments from the registry (no personal field decrypted)."""
    with access.suppress_reads(session):
        person = registry_service.get_person_by_id(session, person_id=person_id)
        view = registry_service.person_out(session, person)
    return [
        InsuranceItem(
            insurance_type=e.insurance_type.code,
            insurance_type_name=e.insurance_type.name,
            status=e.status.code,
            status_name=e.status.name,
            start_date=e.start_date,
            end_date=e.end_date,
        )
        for e in view.enrolments
    ]


def my_insurance(session: Session, *, person_id: str) -> InsuranceOut:
    """My insurance enrolments (参保信息), read from the cardholder registry."""
    items = insurance_items(session, person_id=person_id)
    _record(session, "ecard.insurance", person_id, ("insurance",))
    return InsuranceOut(items=items, source="持卡人基础信息库")


def not_yet(topic: str) -> NotAvailableOut:
    """The honest answer for a part a later component supplies."""
    title, message = LATER[topic]
    return NotAvailableOut(topic=topic, title=title, available=False, message=message)


def _institution_name(
    session: Session, code: str | None, seen: dict[str, str | None]
) -> str | None:
    if code is None:
        return None
    if code not in seen:
        try:
            seen[code] = iam_service.get_institution(session, code=code).name
        except NotFound:
            seen[code] = None
    return seen[code]


def action_name(action: str) -> str:
    """An audit action in Chinese (the code itself when it has no name yet)."""
    return ACTIONS.get(action, f"其他操作（{action}）")


def access_log(
    session: Session,
    *,
    person_id: str,
    page: int = 1,
    page_size: int = 20,
    include_self: bool = False,
) -> AccessLogPage:
    """Who accessed my data: audit entries about me, newest first (my own acts left out)."""
    page, page_size = max(1, page), min(max(1, page_size), MAX_PAGE_SIZE)
    found = audit_service.subject_history(
        session,
        subject_type="person",
        subject_id=person_id,
        exclude_actor_id=None if include_self else person_id,
        page=page,
        page_size=page_size,
    )
    seen: dict[str, str | None] = {}
    items = [
        AccessLogItem(
            occurred_at=e.occurred_at,
            actor_kind=e.actor_kind,
            actor_kind_name=ACTOR_KINDS.get(e.actor_kind, e.actor_kind),
            actor_name=e.actor_name,
            institution_code=e.institution_code,
            institution_name=_institution_name(session, e.institution_code, seen),
            action=e.action,
            action_name=action_name(e.action),
            purpose=e.purpose,
            fields=list(e.fields),
            field_names=[FIELDS.get(f, f) for f in e.fields],
            outcome=e.outcome,
        )
        for e in found.items
    ]
    return AccessLogPage(items=items, total=found.total, page=page, page_size=page_size)
