"""Code translation use cases: code sets, external systems, mappings, files, translating.

Other components translate through :func:`translate` (one value), :func:`translate_many`
(a column of a file) or, for whole files, a :class:`~sscard.exchange.translation.Translator`
from :func:`translator`, kept for the file and consulted without a query per value.
Translators are cached per process and rebuilt when the system's stored revision changes,
which every change to its tables (or to the code sets) does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sscard.errors import FieldProblem, ValidationFailed
from sscard.exchange import (
    bank,
    files,
    mapping,
    province_batch,
    province_cards,
    repository,
    translation,
    transport,
)
from sscard.exchange.errors import (
    CodeNotFound,
    CodeSetNotFound,
    ImportRejected,
    MappingConflict,
    MappingNotFound,
    SystemNotFound,
)
from sscard.exchange.schemas import (
    CodeOut,
    CodeSetDetail,
    CodeSetOut,
    ImportReport,
    LoadReport,
    MappingOut,
    SystemOut,
    SystemTableOut,
    TranslationOut,
)
from sscard.exchange.translation import (
    CODE_SET_COLUMNS,
    CODE_SET_REQUIRED,
    MAPPING_COLUMNS,
    MAPPING_REQUIRED,
    CodeSetPlan,
    Direction,
    MappingPlan,
    Reject,
    SetInfo,
    SystemTables,
    Translator,
)
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor

_translators: dict[str, Translator] = {}


# ---- state of the tables --------------------------------------------------------------


def _set_infos(session: Session) -> dict[str, SetInfo]:
    codes: dict[str, dict[str, str]] = {}
    for key, code, name in repository.code_rows(session):
        codes.setdefault(key, {})[code] = name
    return {
        key: SetInfo(key, name, codes.get(key, {})) for key, name in repository.set_rows(session)
    }


def _system_tables(session: Session, system: str | None = None) -> dict[str, SystemTables]:
    fields: dict[str, dict[str, str]] = {}
    for system_key, key, name in repository.field_rows(session, system):
        fields.setdefault(system_key, {})[key] = name
    codes: dict[str, dict[str, dict[str, str]]] = {}
    for system_key, key, ours, theirs in repository.mapping_rows(session, system=system):
        codes.setdefault(system_key, {}).setdefault(key, {})[ours] = theirs
    found = [s for s in repository.systems(session) if system is None or s.key == system]
    return {
        s.key: SystemTables(s.key, s.name, fields.get(s.key, {}), codes.get(s.key, {}))
        for s in found
    }


def _check(field: str, reason: str | None) -> None:
    if reason:
        raise ValidationFailed([FieldProblem(field, reason)])


def _record(
    session: Session, action: str, subject_type: str, subject_id: str, **detail: Any
) -> None:
    access.record(
        session,
        AccessRecord(
            action=action,
            subject_type=subject_type,
            subject_id=subject_id[:64],
            subject_display=subject_id[:64],
            detail=detail,
        ),
    )


# ---- code sets ------------------------------------------------------------------------


def _code_set(session: Session, key: str) -> SetInfo:
    found = repository.code_set(session, key)
    if found is None:
        raise CodeSetNotFound(f"代码集 {translation.shown(key)} 不存在")
    codes = {c.code: c.name for c in repository.codes_of(session, key)}
    return SetInfo(found.key, found.name, codes)


def list_code_sets(session: Session) -> list[CodeSetOut]:
    """Every code set with its size."""
    return [
        CodeSetOut(key=s.key, name=s.name, size=size)
        for s, size in repository.code_sets_with_size(session)
    ]


def get_code_set(session: Session, *, key: str) -> CodeSetDetail:
    """A code set with its codes, or CodeSetNotFound."""
    info = _code_set(session, key)
    codes = [CodeOut(code=c, name=n) for c, n in info.codes.items()]
    return CodeSetDetail(key=info.key, name=info.name, codes=codes)


def upsert_code_set(session: Session, *, key: str, name: str) -> CodeSetOut:
    """Create a code set, or rename it."""
    _check("key", translation.key_problem(key))
    _check("name", translation.name_problem(name, max_length=64))
    found = repository.code_set(session, key)
    if found is None:
        repository.add_code_sets(session, [(key, name)])
    elif found.name != name:
        found.name = name
    else:
        return CodeSetOut(key=key, name=name, size=len(repository.codes_of(session, key)))
    session.flush()
    repository.touch(session)
    _record(session, "exchange.code_set.upsert", "code_set", key)
    return CodeSetOut(key=key, name=name, size=len(repository.codes_of(session, key)))


def upsert_code(session: Session, *, code_set: str, code: str, name: str) -> CodeOut:
    """Add one of our codes to a set, or rename it."""
    _code_set(session, code_set)
    _check("code", translation.code_problem(code))
    _check("name", translation.name_problem(name, max_length=100))
    found = repository.code(session, code_set, code)
    if found is not None and found.name == name:
        return CodeOut(code=code, name=name)
    if found is None:
        repository.add_codes(session, [(code_set, code, name)])
    else:
        found.name = name
    session.flush()
    repository.touch(session)
    _record(session, "exchange.code.upsert", "code_set", code_set, code=code)
    return CodeOut(code=code, name=name)


# ---- systems and mappings -------------------------------------------------------------


def _system(session: Session, key: str) -> SystemTables:
    found = _system_tables(session, key).get(key)
    if found is None:
        raise SystemNotFound(f"外部系统 {translation.shown(key)} 不存在")
    return found


def _system_out(
    tables: SystemTables, sets: Mapping[str, str], counts: Mapping[tuple[str, str], int]
) -> SystemOut:
    return SystemOut(
        key=tables.key,
        name=tables.name,
        tables=[
            SystemTableOut(
                code_set=key,
                code_set_name=sets.get(key, key),
                external_field=name,
                mappings=counts.get((tables.key, key), 0),
            )
            for key, name in sorted(tables.fields.items())
        ],
    )


def list_systems(session: Session) -> list[SystemOut]:
    """Every external system with its tables (set, field name, number of codes)."""
    sets = dict(repository.set_rows(session))
    counts = repository.mapping_counts(session)
    return [_system_out(t, sets, counts) for t in _system_tables(session).values()]


def get_system(session: Session, *, key: str) -> SystemOut:
    """One external system with its tables, or SystemNotFound."""
    tables = _system(session, key)
    counts = repository.mapping_counts(session)
    return _system_out(tables, dict(repository.set_rows(session)), counts)


def upsert_system(session: Session, *, key: str, name: str) -> SystemOut:
    """Register an external system, or rename it."""
    _check("key", translation.key_problem(key))
    _check("name", translation.name_problem(name, max_length=64))
    found = repository.system(session, key)
    if found is None:
        repository.add_systems(session, [(key, name)])
    elif found.name != name:
        found.name = name
        repository.touch(session, [key])
    else:
        return get_system(session, key=key)
    session.flush()
    _record(session, "exchange.system.upsert", "exchange_system", key)
    return get_system(session, key=key)


def mappings(session: Session, *, system: str, code_set: str | None = None) -> list[MappingOut]:
    """The system's codes for ours, of one set or of all."""
    tables = _system(session, system)
    sets = _set_infos(session)
    if code_set is not None and code_set not in sets:
        raise CodeSetNotFound(f"代码集 {translation.shown(code_set)} 不存在")
    return [
        MappingOut(
            system=system,
            code_set=key,
            external_field=tables.fields[key],
            code=ours,
            name=sets[key].codes[ours],
            external_code=theirs,
        )
        for _, key, ours, theirs in repository.mapping_rows(session, system=system, key=code_set)
    ]


def _table_field(
    session: Session, tables: SystemTables, info: SetInfo, external_field: str | None
) -> str:
    """The field name of the table, created or renamed as asked."""
    existing = tables.fields.get(info.key)
    if external_field is None or external_field == existing:
        if existing is None:
            reason = f"{tables.name}还没有“{info.name}”的字段名，请同时填写"
            raise ValidationFailed([FieldProblem("external_field", reason)])
        return existing
    _check("external_field", translation.field_problem(external_field))
    owner = repository.field_owner(session, tables.key, external_field)
    if owner is not None:
        raise MappingConflict(f"{tables.name}的字段名 {external_field} 已用于代码集 {owner}")
    if existing is None:
        repository.add_fields(session, [(tables.key, info.key, external_field)])
    else:
        repository.rename_field(session, tables.key, info.key, external_field)
    session.flush()
    return external_field


def _check_free(tables: SystemTables, info: SetInfo, code: str, external_code: str) -> None:
    for ours, theirs in tables.codes.get(info.key, {}).items():
        if theirs == external_code and ours != code:
            raise MappingConflict(
                f"{tables.name}的“{info.name}”代码 {external_code} 已对应本系统代码 {ours}，"
                "一个外部代码只能对应一个本系统代码",
                fields=[FieldProblem("external_code", f"已对应本系统代码 {ours}")],
            )


def set_mapping(
    session: Session,
    *,
    system: str,
    code_set: str,
    code: str,
    external_code: str,
    external_field: str | None = None,
) -> MappingOut:
    """Map one of our codes to the system's code (and name the system's field for the set)."""
    tables = _system(session, system)
    info = _code_set(session, code_set)
    if code not in info.codes:
        raise CodeNotFound(f"“{info.name}”没有代码 {translation.shown(code)}")
    _check("external_code", translation.external_code_problem(external_code))
    _check_free(tables, info, code, external_code)
    field_name = _table_field(session, tables, info, external_field)
    found = repository.mapping(session, system, code_set, code)
    if found is None:
        repository.add_mappings(session, [(system, code_set, code, external_code)])
    else:
        found.external_code = external_code
    session.flush()
    repository.touch(session, [system])
    _record(session, "exchange.mapping.set", "exchange_system", system, code_set=code_set)
    return MappingOut(
        system=system,
        code_set=code_set,
        external_field=field_name,
        code=code,
        name=info.codes[code],
        external_code=external_code,
    )


def delete_mapping(session: Session, *, system: str, code_set: str, code: str) -> None:
    """Remove the system's code for one of ours; that code then cannot be sent to it."""
    tables = _system(session, system)
    info = _code_set(session, code_set)
    if code not in tables.codes.get(code_set, {}):
        raise MappingNotFound(
            f"{tables.name}的“{info.name}”没有本系统代码 {translation.shown(code)} 的对照"
        )
    repository.delete_mappings(session, [(system, code_set, code)])
    repository.touch(session, [system])
    _record(session, "exchange.mapping.delete", "exchange_system", system, code_set=code_set)


# ---- translating ----------------------------------------------------------------------


def translator(session: Session, *, system: str) -> Translator:
    """Every table of ``system``, for translating a whole file without a query per value."""
    current = repository.revision(session, system)
    if current is None:
        raise SystemNotFound(f"外部系统 {translation.shown(system)} 不存在")
    cached = _translators.get(system)
    if cached is not None and cached.revision == current:
        return cached
    built = Translator(_system(session, system), _set_infos(session), revision=current)
    _translators[system] = built
    return built


def translate(
    session: Session, *, system: str, code_set: str, value: str, direction: Direction = "out"
) -> str:
    """One value: ``out`` ours -> the system's, ``in`` the system's -> ours."""
    return translator(session, system=system).translate(code_set, value, direction)


def translate_many(
    session: Session,
    *,
    system: str,
    code_set: str,
    values: Iterable[str],
    direction: Direction = "out",
) -> list[str]:
    """Many values of one set, in order; CodeUnmapped names every value without a match."""
    return translator(session, system=system).translate_many(code_set, values, direction)


def external_field(session: Session, *, system: str, code_set: str) -> str:
    """The system's field name for the set (``AAC004`` for gender at the province)."""
    return translator(session, system=system).external_field(code_set)


def translation_of(
    session: Session, *, system: str, code_set: str, value: str, direction: Direction = "out"
) -> TranslationOut:
    """One value translated, with the field name it travels under."""
    found = translator(session, system=system)
    return TranslationOut(
        system=system,
        code_set=code_set,
        external_field=found.external_field(code_set),
        direction=direction,
        value=value,
        result=found.translate(code_set, value, direction),
    )


# ---- files ----------------------------------------------------------------------------


def _refuse(rejects: Sequence[Reject]) -> None:
    if rejects:
        raise ImportRejected(
            translation.rejects_as_problems(rejects), translation.rejects_message(rejects)
        )


def _apply_code_sets(session: Session, plan: CodeSetPlan) -> None:
    repository.add_code_sets(session, plan.new_sets.items())
    for key, name in plan.renamed_sets.items():
        repository.rename_code_set(session, key, name)
    session.flush()
    repository.add_codes(session, plan.new_codes)
    for key, code, name in plan.renamed_codes:
        repository.rename_code(session, key, code, name)
    session.flush()
    repository.touch(session)


def _code_sets_report(plan: CodeSetPlan, notes: list[str], dry_run: bool) -> ImportReport:
    return ImportReport(
        rows=plan.rows,
        created=len(plan.new_codes),
        updated=len(plan.renamed_codes),
        unchanged=plan.unchanged,
        notes=notes,
        dry_run=dry_run,
    )


def import_code_sets(session: Session, *, data: bytes, dry_run: bool = False) -> ImportReport:
    """Add and rename codes from a CSV file (code_set, code, name[, code_set_name]): all or none."""
    rows = translation.read_rows(data, columns=CODE_SET_COLUMNS, required=CODE_SET_REQUIRED)
    current = _set_infos(session)
    plan = translation.plan_code_sets(rows, current)
    _refuse(plan.rejects)
    if plan.changed and not dry_run:
        _apply_code_sets(session, plan)
        _record(session, "exchange.code_sets.import", "code_set", "*", rows=plan.rows)
    return _code_sets_report(plan, plan.notes(current), dry_run)


def _apply_fields(session: Session, plan: MappingPlan) -> None:
    repository.add_fields(session, [(s, k, f) for (s, k), f in plan.new_fields.items()])
    # Two sets may swap field names: move the renamed ones aside first.
    for system, key in plan.renamed_fields:
        repository.rename_field(session, system, key, f"~{key}")
    session.flush()
    for (system, key), name in plan.renamed_fields.items():
        repository.rename_field(session, system, key, name)
    session.flush()


def _apply_mappings(session: Session, plan: MappingPlan) -> None:
    repository.add_systems(session, plan.new_systems.items())
    for key, name in plan.renamed_systems.items():
        repository.rename_system(session, key, name)
    session.flush()
    _apply_fields(session, plan)
    # Codes may swap external codes: remove the changed rows before adding them back.
    repository.delete_mappings(session, [(s, k, c) for s, k, c, _ in plan.changed_mappings])
    repository.add_mappings(session, [*plan.new_mappings, *plan.changed_mappings])
    session.flush()
    touched = {s for s, *_ in (*plan.new_mappings, *plan.changed_mappings)}
    touched |= {s for s, _ in (*plan.new_fields, *plan.renamed_fields)}
    repository.touch(session, touched | set(plan.renamed_systems))


def _mappings_report(plan: MappingPlan, notes: list[str], dry_run: bool) -> ImportReport:
    return ImportReport(
        rows=plan.rows,
        created=len(plan.new_mappings),
        updated=len(plan.changed_mappings),
        unchanged=plan.unchanged,
        notes=notes,
        dry_run=dry_run,
    )


def import_mappings(session: Session, *, data: bytes, dry_run: bool = False) -> ImportReport:
    """Set mappings from a CSV file (system, code_set, external_field, code, external_code
    [, system_name]): every row checked against the tables as they will be; all or none."""
    rows = translation.read_rows(data, columns=MAPPING_COLUMNS, required=MAPPING_REQUIRED)
    systems = _system_tables(session)
    plan = translation.plan_mappings(rows, code_sets=_set_infos(session), systems=systems)
    _refuse(plan.rejects)
    if plan.changed and not dry_run:
        _apply_mappings(session, plan)
        _record(session, "exchange.mappings.import", "exchange_system", "*", rows=plan.rows)
    return _mappings_report(plan, plan.notes(systems), dry_run)


def export_code_sets(session: Session) -> bytes:
    """Every code of every set as CSV (UTF-8 with BOM, as Excel opens it)."""
    names = dict(repository.set_rows(session))
    rows = [(key, code, name, names[key]) for key, code, name in repository.code_rows(session)]
    return translation.write_rows(CODE_SET_COLUMNS, rows)


def export_mappings(session: Session, *, system: str | None = None) -> bytes:
    """Every mapping (of one system, or of all) as CSV (UTF-8 with BOM)."""
    tables = _system_tables(session, system)
    if system is not None and system not in tables:
        raise SystemNotFound(f"外部系统 {translation.shown(system)} 不存在")
    rows = [
        (t.key, key, t.fields[key], ours, theirs, t.name)
        for t in tables.values()
        for key, codes in sorted(t.codes.items())
        for ours, theirs in sorted(codes.items())
    ]
    return translation.write_rows(MAPPING_COLUMNS, rows)


def default_code_sets() -> bytes:
    """The code sets shipped with sscard (``seeds/code_sets.csv``)."""
    return resources.files("sscard.exchange").joinpath("seeds", "code_sets.csv").read_bytes()


def default_mappings() -> bytes:
    """The translation tables shipped with sscard (``seeds/mappings.csv``)."""
    return resources.files("sscard.exchange").joinpath("seeds", "mappings.csv").read_bytes()


def load_defaults(session: Session) -> LoadReport:
    """Add the shipped code sets and tables that are missing; local changes are kept."""
    rows = translation.read_rows(
        default_code_sets(), columns=CODE_SET_COLUMNS, required=CODE_SET_REQUIRED
    )
    current = _set_infos(session)
    sets_plan = translation.plan_code_sets(rows, current, keep_existing=True)
    _refuse(sets_plan.rejects)
    if sets_plan.changed:
        _apply_code_sets(session, sets_plan)
    rows = translation.read_rows(
        default_mappings(), columns=MAPPING_COLUMNS, required=MAPPING_REQUIRED
    )
    systems = _system_tables(session)
    plan = translation.plan_mappings(
        rows, code_sets=_set_infos(session), systems=systems, keep_existing=True
    )
    _refuse(plan.rejects)
    if plan.changed:
        _apply_mappings(session, plan)
    if sets_plan.changed or plan.changed:
        _record(session, "exchange.load_defaults", "exchange_system", "*")
    return LoadReport(
        code_sets=_code_sets_report(sets_plan, sets_plan.notes(current), False),
        mappings=_mappings_report(plan, plan.notes(systems), False),
        kept=sets_plan.skipped + plan.skipped,
    )


# ---- banks, transport and the province card centre (HTTP peers) ------------------------
# Other components reach the outside parties of a card only through these functions. They
# do no database work: callers load what a call needs, and outbox handlers call them after
# commit. Failures are ``PEER_REFUSALS`` (the party said no: do not retry) or
# ``PEER_OUTAGES`` (unreachable or broken: retry later).

PEER_REFUSALS: tuple[type[Exception], ...] = (
    bank.BankRefused,
    transport.TransportRefused,
    province_cards.ProvinceRefused,
)
PEER_OUTAGES: tuple[type[Exception], ...] = (
    bank.BankUnavailable,
    transport.TransportUnavailable,
    province_cards.ProvinceUnavailable,
)
BankBalance = bank.Balance
BankTransaction = bank.BankTransaction
ProvinceCard = province_cards.ProvinceCard


def bank_configured(*, bank_code: str) -> bool:
    """Whether the platform knows how to reach this bank (SSCARD_BANK_URLS)."""
    return bank.configured(bank_code)


def bank_activate_account(*, bank_code: str, card_number: str, account: str, key: str) -> None:
    """Ask the card's bank to activate the card's account."""
    bank.activate_account(bank_code=bank_code, card_number=card_number, account=account, key=key)


def bank_deactivate_account(*, bank_code: str, card_number: str, account: str, key: str) -> None:
    """Ask the card's bank to deactivate the card's account (undo of an activation)."""
    bank.deactivate_account(bank_code=bank_code, card_number=card_number, account=account, key=key)


def bank_bind_card(*, bank_code: str, card_number: str, activate: bool, key: str) -> str:
    """Bind the card to an account at ``bank_code``; returns the account number."""
    return bank.bind_card(bank_code=bank_code, card_number=card_number, activate=activate, key=key)


def bank_unbind_card(*, bank_code: str, card_number: str, key: str) -> None:
    """Unbind the card from its account at ``bank_code``."""
    bank.unbind_card(bank_code=bank_code, card_number=card_number, key=key)


def bank_balance(*, bank_code: str, card_number: str, account: str) -> bank.Balance:
    """The balance of the card's account, from its bank."""
    return bank.balance(bank_code=bank_code, card_number=card_number, account=account)


def bank_transactions(
    *,
    bank_code: str,
    card_number: str,
    account: str,
    start: date | None = None,
    end: date | None = None,
    limit: int = 50,
) -> list[bank.BankTransaction]:
    """Transactions of the card's account, newest first, from its bank."""
    return bank.transactions(
        bank_code=bank_code, card_number=card_number, account=account, start=start, end=end,
        limit=limit,
    )  # fmt: skip


def transport_configured() -> bool:
    """Whether the platform has a transport partner (SSCARD_TRANSPORT_URL)."""
    return transport.configured()


def transport_enable(*, card_number: str, card_id_code: str | None, key: str) -> None:
    """Enable the card's transit function at the transport operator."""
    transport.enable(card_number=card_number, card_id_code=card_id_code, key=key)


def transport_disable(*, card_number: str, key: str) -> None:
    """Disable the card's transit function at the transport operator."""
    transport.disable(card_number=card_number, key=key)


def province_cards_of(*, id_number: str) -> list[province_cards.ProvinceCard]:
    """The cards the province records for a person (every city)."""
    return province_cards.cards_of(id_number=id_number)


def province_report_transfer(
    *,
    id_number: str,
    card_number: str,
    card_id_code: str | None,
    region_code: str,
    from_region_code: str,
    to_region_code: str,
    key: str,
) -> None:
    """Tell the province a card's management moved to another city (地市卡转移)."""
    province_cards.report_transfer(
        id_number=id_number, card_number=card_number, card_id_code=card_id_code,
        region_code=region_code, from_region_code=from_region_code,
        to_region_code=to_region_code, key=key,
    )  # fmt: skip


def province_cancel_record(
    *,
    id_number: str,
    card_number: str,
    card_id_code: str | None,
    region_code: str,
    managing_region_code: str,
    reason: str,
    key: str,
) -> None:
    """Cancel a card's provincial record (注销省厅卡信息)."""
    province_cards.cancel_record(
        id_number=id_number, card_number=card_number, card_id_code=card_id_code,
        region_code=region_code, managing_region_code=managing_region_code, reason=reason,
        key=key,
    )  # fmt: skip


# ---- batch card making: files, the province, entity mappings (see docs/formats.md) -----

Package = files.Package
PackageWriter = files.PackageWriter
PackageRow = files.Row
PackageRejected = files.PackageRejected
TransferKey = files.TransferKey
ProvinceState = province_batch.ProvinceState
Unresolved = mapping.Unresolved
EntityMappingIn = mapping.EntityMappingIn
EntityMappingOut = mapping.EntityMappingOut
ResolveIn = mapping.ResolveIn
UnresolvedOut = mapping.UnresolvedOut
MappingImportReport = mapping.MappingImportReport
ACCOUNT_OPENING_COLUMNS = files.ACCOUNT_OPENING.names
CARD_RESULT_COLUMNS = files.CARD_RESULT.names
RESULT_SUCCESS, RESULT_FAILURE = files.SUCCESS, files.FAILURE
FAILURE_STAGES = files.STAGES


def account_opening_writer(*, path: Path, batch_no: str) -> files.PackageWriter:
    """A writer of the batch account-opening package (批量开户文件) for the province."""
    return files.PackageWriter(
        path, fmt=files.ACCOUNT_OPENING, batch_no=batch_no,
        sender=province_batch.city_party(), recipient=province_batch.PROVINCE,
    )  # fmt: skip


def finish_package(session: Session, *, writer: files.PackageWriter) -> files.Manifest:
    """Sign a package with the city's key and move it into place."""
    return writer.finish(province_batch.signer(session))


def open_card_result(session: Session, *, path: Path) -> files.Package:
    """A card-making result package (制卡结果文件), checked whole against the province's key."""
    return files.open_package(
        path, expect=files.CARD_RESULT, verify=province_batch.province_verifier(session)
    )


def card_result_batch_no(*, path: Path) -> str:
    """The batch a result package names (unchecked: to find where it belongs)."""
    return files.peek_manifest(path).batch_no


def decrypt_card_result(session: Session, *, source: Path, target: Path) -> Path:
    """An uploaded result file, SM4-GCM unwrapped when it is wrapped (else ``source``)."""
    return province_batch.decrypt_upload(session, source=source, target=target)


def package_digest(*, path: Path) -> str:
    """SM3 of a whole file (hex)."""
    return files.sm3_file(path)


def province_transfer_key(session: Session) -> files.TransferKey:
    """The SM4 key shared with the province for transfer encryption (active version)."""
    return province_batch.transfer_key(session, party=province_batch.PROVINCE)


def submit_batch(*, path: Path, batch_no: str, key: files.TransferKey | None) -> dict[str, Any]:
    """Send a batch package to the province (wrapped under ``key`` if given); its receipt."""
    return province_batch.submit(path=path, batch_no=batch_no, key=key)


def province_batch_state(*, batch_no: str) -> province_batch.ProvinceState:
    """The province's state of a batch (accepted, processing, done, failed)."""
    return province_batch.state(batch_no=batch_no)


def download_batch_result(*, batch_no: str, target: Path, encrypt: bool) -> Path:
    """Download a batch's result package from the province, as sent."""
    return province_batch.download(batch_no=batch_no, target=target, encrypt=encrypt)


def batch_sign_key_pem(session: Session) -> str:
    """The city's manifest-signing public key as PEM (created on first use)."""
    return province_batch.ensure_sign_key(session)


def write_transfer_key(session: Session, *, party: str, path: Path) -> int:
    """Write the SM4 transfer key shared with ``party`` to a key file; its version."""
    key = province_batch.transfer_key(session, party=party)
    files.write_transfer_key(path, key)
    return key.version


def entity_codes_out(
    session: Session, *, system: str, kind: str, codes: Iterable[str]
) -> dict[str, str]:
    """Our employer, community or card-type codes -> the system's (mapped ones only)."""
    return mapping.to_external(session, system=system, kind=kind, codes=codes)


def entity_codes_in(
    session: Session, *, system: str, kind: str, codes: Iterable[str]
) -> dict[str, str]:
    """The system's employer, community or card-type codes -> ours (mapped ones only)."""
    return mapping.to_internal(session, system=system, kind=kind, codes=codes)


def note_unresolved(
    session: Session, *, system: str, kind: str, direction: Direction,
    found: Iterable[mapping.Unresolved], source: str,
) -> int:  # fmt: skip
    """Queue codes met without a counterpart for clerks; how many were new."""
    return mapping.note_unresolved(
        session, system=system, kind=kind, direction=direction, found=found, source=source
    )


def list_entity_mappings(
    session: Session, *, system: str | None = None, kind: str | None = None,
    code: str | None = None, limit: int = 200, offset: int = 0,
) -> list[mapping.EntityMappingOut]:  # fmt: skip
    """Employer, community and card-type mappings."""
    return mapping.list_mappings(
        session, system=system, kind=kind, code=code, limit=limit, offset=offset
    )


def set_entity_mapping(
    session: Session, *, data: mapping.EntityMappingIn, actor: Actor
) -> mapping.EntityMappingOut:
    """Map one of our entities to a system's code (one to one)."""
    return mapping.set_mapping(session, data=data, actor=actor, source=f"clerk:{actor.id}")


def delete_entity_mapping(session: Session, *, system: str, kind: str, code: str) -> None:
    """Remove one entity mapping."""
    mapping.delete_mapping(session, system=system, kind=kind, code=code)


def import_entity_mappings(
    session: Session, *, data: bytes, actor: Actor, source: str
) -> mapping.MappingImportReport:
    """Set entity mappings from a CSV file: all or none."""
    return mapping.import_mappings(session, data=data, actor=actor, source=source)


def list_unresolved(
    session: Session, *, system: str | None = None, kind: str | None = None,
    status: str | None = "open", limit: int = 200, offset: int = 0,
) -> list[mapping.UnresolvedOut]:  # fmt: skip
    """Codes met without a counterpart, most often met first."""
    return mapping.list_unresolved(
        session, system=system, kind=kind, status=status, limit=limit, offset=offset
    )


def count_unresolved(session: Session, *, source: str | None = None) -> int:
    """How many queued codes are still open (of one batch or file, if given)."""
    return mapping.count_unresolved(session, source=source)


def resolve_unresolved(
    session: Session, *, unresolved_id: int, data: mapping.ResolveIn, actor: Actor
) -> mapping.UnresolvedOut:
    """Answer a queued code (the mapping is written) or ignore it."""
    return mapping.resolve(session, unresolved_id=unresolved_id, data=data, actor=actor)
