"""Demo data for trying the platform: institutions, channels, one account per role, keys.

Idempotent: running it again creates only what is missing. Everything it creates is marked
as demo, and production mode refuses to start while any of it is active.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType, InstitutionType
from sscard.iam.errors import InstitutionNotFound, OperatorNotFound
from sscard.iam.schemas import ChannelCreate, InstitutionCreate, OperatorCreate

DEMO_PASSWORD = "demo1234"  # noqa: S105 - the published demo password, refused in production
"""Password of every demo account. Demo only: never use it on a real platform."""

INSTITUTIONS: list[tuple[str, str, InstitutionType, str, str | None]] = [
    ("PLATFORM", "济宁市社会保障卡服务中心", InstitutionType.hrss_bureau, "370800", None),
    ("HALL-RC", "任城区社会保险服务大厅", InstitutionType.service_hall, "370811", "PLATFORM"),
    ("HALL-YZ", "兖州区社会保险服务大厅", InstitutionType.service_hall, "370812", "PLATFORM"),
    ("PROV-SD", "山东省社会保障卡管理中心", InstitutionType.province_card_centre, "370000", None),
    ("BANK-ICBC", "中国工商银行济宁分行", InstitutionType.bank, "370800", None),
    ("BANK-JNRCB", "济宁农村商业银行", InstitutionType.bank, "370800", None),
    ("VENDOR-HD", "华大智能卡制造有限公司", InstitutionType.card_vendor, "370000", None),
    ("HOSP-JN1", "济宁市第一人民医院", InstitutionType.medical, "370811", None),
    ("LIB-JN", "济宁市图书馆", InstitutionType.partner, "370811", None),
]

CHANNELS: list[tuple[str, str, ChannelType, str]] = [
    ("HALL", "社保服务大厅", ChannelType.service_hall, "PLATFORM"),
    ("SDRS-APP", "山东人社APP", ChannelType.hrss_app, "PLATFORM"),
    ("ICBC-APP", "工银融e行", ChannelType.bank_app, "BANK-ICBC"),
    ("WX-MP", "微信电子社保卡小程序", ChannelType.mini_program, "PLATFORM"),
    ("GOV-PORTAL", "爱山东政务服务门户", ChannelType.gov_portal, "PLATFORM"),
    ("KIOSK", "自助服务终端", ChannelType.kiosk, "HALL-RC"),
]

OPERATORS: list[tuple[str, str, str, str]] = [
    ("admin", "系统管理员", "PLATFORM", "admin"),
    ("clerk", "王柜员", "HALL-RC", "clerk"),
    ("cardmgr", "李卡管", "PLATFORM", "card_manager"),
    ("bank", "赵银行经办", "BANK-ICBC", "bank_agent"),
    ("vendor", "钱卡商经办", "VENDOR-HD", "vendor_agent"),
    ("auditor", "孙审计", "PLATFORM", "auditor"),
    ("analyst", "周分析", "PLATFORM", "analyst"),
]


def _institutions(session: Session) -> int:
    created = 0
    for code, name, kind, region, parent in INSTITUTIONS:
        try:
            iam_service.get_institution(session, code=code)
        except InstitutionNotFound:
            data = InstitutionCreate(
                code=code, name=name, type=kind, region_code=region, parent_code=parent
            )
            iam_service.create_institution(session, data=data, demo=True)
            created += 1
    return created


def _channels(session: Session) -> int:
    existing = {c.code for c in iam_service.list_channels(session)}
    created = 0
    for code, name, kind, owner in CHANNELS:
        if code not in existing:
            data = ChannelCreate(code=code, name=name, type=kind, owner_institution_code=owner)
            iam_service.create_channel(session, data=data, demo=True)
            created += 1
    return created


def _operators(session: Session) -> int:
    created = 0
    for username, name, institution, role in OPERATORS:
        try:
            iam_service.get_operator(session, username=username)
        except OperatorNotFound:
            data = OperatorCreate.model_validate(
                {
                    "username": username,
                    "name": name,
                    "institution_code": institution,
                    "roles": [role],
                    "password": DEMO_PASSWORD,
                }
            )
            iam_service.create_operator(session, data=data, demo=True)
            created += 1
    return created


def seed(session: Session) -> list[str]:
    """Create whatever demo data is missing; report what was done."""
    return [
        f"institutions: {_institutions(session)} created",
        f"channels: {_channels(session)} created",
        f"operators: {_operators(session)} created (password '{DEMO_PASSWORD}', demo only)",
    ]
