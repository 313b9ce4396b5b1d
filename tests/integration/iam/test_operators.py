from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sscard.iam import passwords, service
from sscard.iam.catalog import ChannelType, InstitutionType
from sscard.iam.errors import (
    AccountDisabled,
    AccountLocked,
    DuplicateCode,
    InvalidCredentials,
    MissingPermission,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    WeakPassword,
)
from sscard.iam.login import service as login_service
from sscard.iam.models import LoginAttempt, Token
from sscard.iam.operators import service as operators_service
from sscard.iam.schemas import ChannelCreate, InstitutionCreate, OperatorCreate, OperatorUpdate

PASSWORD = "good1234"


def _institution(session: Session, code: str = "HALL-T1", region: str = "370811") -> str:
    service.create_institution(
        session,
        data=InstitutionCreate(
            code=code, name="测试服务大厅", type=InstitutionType.service_hall, region_code=region
        ),
    )
    return code


def _operator(session: Session, username: str = "tclerk", roles: list[str] | None = None):
    inst = _institution(session)
    data = OperatorCreate.model_validate(
        {
            "username": username,
            "name": "测试柜员",
            "institution_code": inst,
            "roles": roles or ["clerk"],
            "password": PASSWORD,
        }
    )
    return operators_service.create_operator(session, data=data)


def test_an_operator_logs_in_and_acts_within_the_institutions_region(session: Session) -> None:
    operator = _operator(session)
    found = login_service.authenticate(session, username="TClerk ", password=PASSWORD)
    assert found.id == operator.id
    raw, token = login_service.issue_token(session, operator=found)
    assert raw.startswith("sst_") and token.token_hash != raw
    actor = service.resolve_token(session, raw=raw)
    assert actor.id == "tclerk" and actor.roles == frozenset({"clerk"})
    assert service.region_scope(actor) == "370811"


def test_only_the_token_hash_is_stored(session: Session) -> None:
    operator = _operator(session)
    raw, _ = login_service.issue_token(session, operator=operator)
    stored = session.scalars(select(Token.token_hash)).all()
    assert raw not in stored


def test_a_wrong_password_is_refused_and_counted(session: Session) -> None:
    _operator(session)
    with pytest.raises(InvalidCredentials):
        login_service.authenticate(session, username="tclerk", password="wrong123")
    attempts = session.scalars(select(LoginAttempt).where(LoginAttempt.username == "tclerk")).all()
    assert [a.succeeded for a in attempts] == [False]


class _CountingHasher:
    """The real argon2 hasher, counting the verifications it performs."""

    def __init__(self, real: object) -> None:
        self.real, self.hashes = real, []

    def verify(self, password_hash: str, password: str) -> bool:
        self.hashes.append(password_hash)
        return self.real.verify(password_hash, password)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def test_an_unknown_username_costs_a_password_verification_like_a_known_one(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _operator(session)
    counting = _CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    for username in ("tclerk", "nobody-here"):
        with pytest.raises(InvalidCredentials):
            login_service.authenticate(session, username=username, password="wrong123")
    assert len(counting.hashes) == 2
    assert all(h.startswith("$argon2id$") for h in counting.hashes)


def test_five_failures_lock_the_account_even_with_the_right_password(session: Session) -> None:
    _operator(session)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            login_service.authenticate(session, username="tclerk", password="wrong123")
    with pytest.raises(AccountLocked) as refused:
        login_service.authenticate(session, username="tclerk", password=PASSWORD)
    assert "分钟后再试" in refused.value.message
    assert login_service.locked_until(session, username="tclerk") is not None


def test_a_lockout_ends_after_the_window(session: Session) -> None:
    _operator(session)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            login_service.authenticate(session, username="tclerk", password="wrong123")
    for attempt in session.scalars(select(LoginAttempt)):
        attempt.attempted_at -= timedelta(minutes=16)
    assert login_service.authenticate(session, username="tclerk", password=PASSWORD)


def test_a_disabled_account_cannot_log_in_and_its_tokens_end(session: Session) -> None:
    operator = _operator(session)
    raw, _ = login_service.issue_token(session, operator=operator)
    operators_service.update_operator(
        session, username="tclerk", data=OperatorUpdate(status="disabled")
    )
    with pytest.raises(AccountDisabled):
        login_service.authenticate(session, username="tclerk", password=PASSWORD)
    with pytest.raises(TokenRevoked):
        service.resolve_token(session, raw=raw)


def test_expired_revoked_and_unknown_tokens_are_refused(session: Session) -> None:
    operator = _operator(session)
    raw, token = login_service.issue_token(session, operator=operator)
    token.expires_at = token.created_at - timedelta(seconds=1)
    with pytest.raises(TokenExpired):
        service.resolve_token(session, raw=raw)
    raw2, _ = login_service.issue_token(session, operator=operator)
    login_service.revoke_token(session, raw=raw2)
    with pytest.raises(TokenRevoked):
        service.resolve_token(session, raw=raw2)
    with pytest.raises(TokenInvalid):
        service.resolve_token(session, raw="sst_not-a-token")


def test_a_web_session_is_not_a_bearer_token(session: Session) -> None:
    operator = _operator(session)
    raw, _ = login_service.issue_token(session, operator=operator, kind="web")
    with pytest.raises(TokenInvalid):
        service.resolve_token(session, raw=raw, kind="api")


def test_permissions_come_from_roles_as_data(session: Session) -> None:
    operator = _operator(session, roles=["auditor"])
    actor = service.actor_for(session, operator)
    service.authorize(actor, "audit.read")
    with pytest.raises(MissingPermission):
        service.authorize(actor, "iam.manage")
    service.grant_permission(session, role="auditor", permission="iam.manage", grant=True)
    service.authorize(service.actor_for(session, operator), "iam.manage")


def test_weak_passwords_and_unknown_roles_are_refused_with_field_reasons(session: Session) -> None:
    inst = _institution(session)
    with pytest.raises(WeakPassword) as weak:
        operators_service.create_operator(
            session,
            data=OperatorCreate.model_validate(
                {
                    "username": "weak1",
                    "name": "n",
                    "institution_code": inst,
                    "roles": ["clerk"],
                    "password": "short",
                }
            ),
        )
    assert {f.field for f in weak.value.fields} == {"password"}
    with pytest.raises(Exception, match="角色 wizard 不存在"):
        operators_service.create_operator(
            session,
            data=OperatorCreate.model_validate(
                {
                    "username": "weak2",
                    "name": "n",
                    "institution_code": inst,
                    "roles": ["wizard"],
                    "password": PASSWORD,
                }
            ),
        )


def test_codes_are_unique(session: Session) -> None:
    _institution(session)
    with pytest.raises(DuplicateCode):
        _institution(session)


def test_a_channel_belongs_to_an_institution_and_can_be_suspended(session: Session) -> None:
    inst = _institution(session)
    channel = service.create_channel(
        session,
        data=ChannelCreate(
            code="T-APP", name="测试APP", type=ChannelType.hrss_app, owner_institution_code=inst
        ),
    )
    assert service.channel_out(channel).type_name == "人社APP"
    assert (
        service.set_channel_status(session, code="T-APP", status="suspended").status == "suspended"
    )


def test_an_administrator_is_created_at_the_platform_institution(session: Session) -> None:
    operator = operators_service.create_admin(
        session, username="root2", password=PASSWORD, name="管理员"
    )
    actor = service.actor_for(session, operator)
    assert actor.institution_code == "PLATFORM"
    service.authorize(actor, "iam.manage")
