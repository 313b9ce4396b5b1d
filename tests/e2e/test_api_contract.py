"""The API keeps its OpenAPI contract, probed by schemathesis over real HTTP.

Every operation of ``/api/openapi.json`` is called with generated data (valid and invalid,
a bounded number of examples each) against a server of its own on a database of its own
(a SQLite file, or a schema of its own in the PostgreSQL test database: the run creates,
changes and deletes what it likes), with an operator token (role
``admin``), and with a resident's e-card session token on the resident's routes
(``/ecard/me...``) and a terminal's token on the terminal's routes. Checks: no 5xx; every
status, content type, header and body is the one the document declares.

Integers are bounded everywhere: a value past the database's range or a negative limit is
a 422 naming the field, checked route by route first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from sqlalchemy import Engine, text
from tests.e2e import test_ecard_online_support as online
from tests.e2e.test_registry_pages import pages_as
from tests.support import Account, LiveServer, login, start_server, stop_server

from sscard import bootstrap, db
from sscard.crypto import keyring
from sscard.db import migrate
from sscard.ecard import service as ecard_service
from sscard.kit.bounds import BIGINT_MAX

pytestmark = pytest.mark.slow

RESIDENT_PREFIX = "/api/v1/ecard/me"
TERMINAL_PATHS = ("/api/v1/ecard/codes/verify", "/api/v1/ecard/revocations")
TOKEN_ENDERS = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/password"),
    ("DELETE", "/api/v1/ecard/sessions/current"),
}
"""Operations that end the token they are called with: each call gets a fresh token."""


PG_SCHEMA = "sscard_contract"


@dataclass
class Contract:
    server: LiveServer
    tokens: dict[str, str]
    """admin (an operator with every permission), bank (a bank agent), resident, terminal."""
    fresh: dict[str, Callable[[], str]]
    fresh_account: Callable[[], Account]
    backend: str
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def admin(self) -> str:
        return self.tokens["admin"]

    def _kind(self, method: str, path: str) -> str:
        """The first kind of token the operation lets in (asked once, without data)."""
        if path.startswith(RESIDENT_PREFIX) or path == "/api/v1/ecard/sessions/current":
            return "resident"
        if path in TERMINAL_PATHS:
            return "terminal"
        if (method, path) in TOKEN_ENDERS:
            return "admin"
        url = re.sub(r"\{[^}]+\}", "X1", path)
        for kind, token in self.tokens.items():
            with self.server.client(token) as http:
                if http.request(method, url).status_code not in (401, 403):
                    return kind
        return "admin"

    def token_for(self, method: str, path: str) -> str:
        key = (method.upper(), path)
        if key in TOKEN_ENDERS:
            return self.fresh[self._kind(*key)]()
        if key not in self.kinds:
            self.kinds[key] = self._kind(*key)
        return self.tokens[self.kinds[key]]


@pytest.fixture(scope="module")
def contract(
    engine: Engine,
    make_account: Callable[..., Account],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Contract]:
    """A server on a database of its own, and the three kinds of token for it."""
    folder = tmp_path_factory.mktemp("contract")
    original = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{folder}/contract.db"
    else:  # a schema of its own in the test database
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        options = {"options": f"-csearch_path={PG_SCHEMA}"}
        url = engine.url.update_query_dict(options).render_as_string(hide_password=False)
    own = db.configure(url)
    migrate.upgrade("head", engine=own)
    bootstrap.reset_caches()
    keyring.reset()
    server: LiveServer | None = None
    try:
        account = make_account("admin")
        person = online.resident()
        terminal = online.world().terminals["library"]
        server = start_server(folder / "server.log", extra_env={"SSCARD_DATABASE_URL": url})

        def fresh_admin() -> str:
            assert server is not None
            return login(server, account)

        def fresh_resident() -> str:
            with db.transaction() as session:
                raw, _record = ecard_service.login(
                    session,
                    id_number=person.id_number,
                    pin=online.ECARD_PIN,
                    channel_code=online.world().channel,
                )
            return raw

        tokens = {
            "admin": login(server, account),
            "bank": login(server, make_account("bank_agent", institution=online.world().bank)),
            "resident": person.token,
            "terminal": terminal,
        }
        yield Contract(
            server,
            tokens,
            {"admin": fresh_admin, "resident": fresh_resident},
            lambda: make_account("admin"),
            engine.dialect.name,
        )
    finally:
        if server is not None:
            stop_server(server)
        db.configure(original)
        bootstrap.reset_caches()
        keyring.reset()
        if engine.dialect.name != "sqlite":
            with engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))


# ---- integers: bounded on every route (defect 6) -------------------------------------------


def _integer_parameters(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                kinds = [schema, *schema.get("anyOf", [])]
                if any(kind.get("type") == "integer" for kind in kinds):
                    yield method.upper(), path, parameter


def _url(path: str, name: str, value: int) -> str:
    filled = path
    while "{" in filled:
        start, end = filled.index("{"), filled.index("}")
        key = filled[start + 1 : end]
        filled = filled[:start] + (str(value) if key == name else "X1") + filled[end + 1 :]
    return filled


def test_integers_past_the_database_or_below_their_floor_are_422_naming_the_field(
    contract: Contract,
) -> None:
    server = contract.server
    document = httpx.get(f"{server.url}/api/openapi.json").json()
    probed = 0
    for method, path, parameter in _integer_parameters(document):
        name, where = parameter["name"], parameter["in"]
        for value in (BIGINT_MAX + 1, 10**30, -1):
            url = _url(path, name, value) if where == "path" else path
            params = {name: value} if where == "query" else None
            token = contract.token_for(method, path)
            with server.client(token) as http:
                answer = http.request(method, url, params=params)
            assert answer.status_code == 422, (method, path, name, value, answer.text)
            assert name in {f["field"] for f in answer.json()["fields"]}, answer.text
            probed += 1
    assert probed >= 3 * 40
    huge = BIGINT_MAX + 1
    with server.client(contract.admin) as http:
        bodies = [
            ("POST", "/api/v1/persons", {"employer_id": huge}, "employer_id"),
            ("PATCH", "/api/v1/persons/X1", {"employer_id": huge, "version": huge}, "version"),
            ("POST", "/api/v1/number-ranges", {"start": huge, "end": 1}, "start"),
        ]
        for method, url, body, name in bodies:
            answer = http.request(method, url, json=body)
            assert answer.status_code == 422, (url, answer.text)
            assert name in {f["field"] for f in answer.json()["fields"]}, answer.text
        upload = http.post(
            "/api/v1/imports",
            files={"file": ("persons.csv", b"id_number\n", "text/csv")},
            data={"employer_id": str(huge)},
        )
        assert upload.status_code == 422, upload.text
        assert "employer_id" in {f["field"] for f in upload.json()["fields"]}


# ---- schemathesis over the whole API (defect 11) -------------------------------------------


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
EXAMPLES = 5
"""Examples per operation and mode (valid data, invalid data): about 1,600 requests."""
EXCLUDED: dict[str, tuple[Any, ...]] = {}
"""Operation label -> checks left out for it, each with the reason next to it."""


def _run(operation: Any, mode: GenerationMode, contract: Contract) -> None:
    excluded = EXCLUDED.get(operation.label, ())

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        token = contract.token_for(case.method, case.path)
        case.call_and_validate(
            base_url=contract.server.url,
            headers={"Authorization": f"Bearer {token}", "X-Purpose": "contract-test"},
            checks=[check for check in CHECKS if check not in excluded],
            timeout=30,
        )

    run()


def test_every_operation_keeps_the_contract(contract: Contract) -> None:
    """Every operation, valid and invalid data: no 5xx, nothing the document does not say."""
    api = schemathesis.openapi.from_url(f"{contract.server.url}/api/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode, contract)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to make invalid
            except (Exception, BaseExceptionGroup) as exc:  # every failure is listed at the end
                text = "\n".join(str(exc).splitlines()[:12])
                failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}\n{text}")
    assert operations > 150
    assert failures == [], "\n\n".join(failures)


def test_a_method_a_path_does_not_answer_is_405_with_every_allowed_method(
    contract: Contract,
) -> None:
    document = httpx.get(f"{contract.server.url}/api/openapi.json").json()
    methods = {"GET", "POST", "PUT", "PATCH", "DELETE"}
    with contract.server.client(contract.admin) as http:
        templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), set(operations))
            for path, operations in document["paths"].items()
        ]
        for path in document["paths"]:
            url = _url(path, "", 1)
            # a concrete URL may match several templates (export.csv is also a {key})
            declared = {m.upper() for pattern, ms in templates if pattern.match(url) for m in ms}
            unused = sorted(methods - declared)
            if not unused:
                continue
            answer = http.request(unused[0], url)
            assert answer.status_code == 405, (path, unused[0], answer.text)
            assert answer.json()["error"] == "method_not_allowed"
            allowed = {m.strip() for m in answer.headers["allow"].split(",")}
            assert allowed == declared, (path, answer.headers["allow"])


def test_pages_answer_an_id_past_the_database_without_a_server_error(contract: Contract) -> None:
    huge = str(BIGINT_MAX + 1)
    account = contract.fresh_account()
    with pages_as(contract.server, account) as http:
        employer = http.get(f"/registry/employers/{huge}")
        assert employer.status_code == 404, employer.text
        search = http.get("/registry/persons", params={"mode": "employer", "employer_id": huge})
        failures = http.get("/cards/failures", params={"employer_id": huge})
        for answer in (search, failures):
            assert answer.status_code < 500, answer.text
        assert http.get(f"/wallet/family/{huge}/codes").status_code < 500


def test_a_nul_character_or_a_version_past_its_column_is_422_not_500(contract: Contract) -> None:
    """PostgreSQL takes no NUL in text and no row or key version past 2**31 - 1."""
    with contract.server.client(contract.admin) as http:
        for url, name in (
            ("/api/v1/operators?institution=A%00B", "institution"),
            ("/api/v1/terminals?institution=A%00B", "institution"),
        ):
            answer = http.get(url)
            assert answer.status_code == 422, answer.text
            assert name in {f["field"] for f in answer.json()["fields"]}, answer.text
        titled = http.put("/api/v1/systems/NULTEST", json={"name": "省\x00卡管"})
        assert titled.status_code == 422, titled.text
        key = http.get("/api/v1/keys/platform-sign/public.pem", params={"version": 2**31})
        assert key.status_code == 422 and key.json()["fields"][0]["field"] == "version"
        person = http.patch("/api/v1/persons/X1", json={"version": 2**31})
        assert person.status_code == 422
        assert "version" in {f["field"] for f in person.json()["fields"]}
