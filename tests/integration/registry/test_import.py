"""Bulk import end to end on a real database: each chunk commits, so these tests use
``engine`` and ``db.transaction()`` (not the rolled-back ``session``) and fresh persons."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, func, select

from sscard import db
from sscard.crypto import keyring
from sscard.errors import SSCardError
from sscard.kit.context import Actor
from sscard.registry import fakes
from sscard.registry.bulk import service as bulk_service
from sscard.registry.imports import job as import_job
from sscard.registry.imports import service as imports_service
from sscard.registry.imports.errors import ImportFileInvalid, ImportJobBusy
from sscard.registry.imports.models import ImportJob
from sscard.registry.persons import service as persons_service
from sscard.registry.persons.models import Enrolment, Person
from sscard.registry.persons.schemas import PersonUpdate
from sscard.registry.units import service as units_service
from sscard.registry.units.schemas import CommunityCreate, EmployerCreate

ENGLISH = [
    "id_number",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "phone",
    "address",
    "household_region_code",
    "residence_region_code",
]
AAC = [
    "AAC002",
    "AAC003",
    "AAC004",
    "AAC005",
    "AAC006",
    "AAE005",
    "AAE006",
    "户籍地区划代码",
    "AAB301",
]  # noqa: E501


def people(seed: int, n: int) -> list[fakes.FakePerson]:
    """Persons nobody else's test uses (each test passes its own seed)."""
    return list(fakes.persons(seed, "370800", n, employers=[], communities=[]))


def cells(p: fakes.FakePerson) -> list[str]:
    return [
        p.id_number,
        p.name,
        p.gender,
        p.ethnicity,
        p.birth_date.strftime("%Y%m%d"),
        p.phone,
        p.address,
        p.household_region_code,
        p.residence_region_code,
    ]


def write_csv(
    path: Path, header: Sequence[str], body: Sequence[Sequence[str]], encoding: str = "utf-8"
) -> Path:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def read_rejects(job_id: int) -> list[dict[str, str]]:
    with db.transaction() as session:
        path = imports_service.rejects_of(session, job_id=job_id)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def stored(id_numbers: Sequence[str]) -> dict[str, Person]:
    with db.transaction() as session:
        found = bulk_service.person_ids(session, id_numbers=list(id_numbers))
        by_id = {
            p.id: p for p in session.scalars(select(Person).where(Person.id.in_(found.values())))
        }
        return {number: by_id[pid] for number, pid in found.items()}


def test_a_gb18030_file_with_aac_headers_imports_good_rows_and_rejects_bad_ones(
    engine: Engine, tmp_path: Path, city_clerk: Actor
) -> None:
    good = people(101, 6)
    bad_gender = cells(people(102, 1)[0])
    bad_gender[2] = "2" if bad_gender[2] == "1" else "1"
    bad_check = cells(people(103, 1)[0])
    bad_check[0] = bad_check[0][:17] + ("0" if bad_check[0][17] != "0" else "1")
    bad_phone_and_region = cells(people(104, 1)[0])
    bad_phone_and_region[5], bad_phone_and_region[8] = "12345", "379999"
    body = [cells(p) for p in good[:3]] + [bad_gender] + [cells(p) for p in good[3:]]
    body += [bad_check, cells(good[0]), bad_phone_and_region]
    path = write_csv(tmp_path / "人员.csv", AAC, body, encoding="gb18030")

    job, ran = import_job.import_file(
        path, actor=city_clerk, options=import_job.RunOptions(chunk=4)
    )

    assert ran and job.status == "completed"
    assert (job.rows_total, job.rows_created, job.rows_rejected) == (10, 6, 4)
    assert job.next_line == 12
    rejects = read_rejects(job.id)
    assert [r["line"] for r in rejects] == ["5", "9", "10", "11"]
    assert rejects[0]["reasons"].startswith("AAC004: 性别与证件号码不一致")
    assert rejects[1]["reasons"].startswith("AAC002: 校验位错误")
    assert rejects[2]["reasons"] == "AAC002: 与第 2 行的证件号码重复"
    assert "AAE005: 手机号码应为 11 位数字" in rejects[3]["reasons"]
    assert "AAB301: 行政区划代码 379999 不是现行代码" in rejects[3]["reasons"]
    text = "\n".join(r["id_number"] + r["reasons"] for r in rejects)
    for row in body:
        assert row[0] not in text
    assert rejects[2]["id_number"] == good[0].id_number[:6] + "********" + good[0].id_number[-4:]
    found = stored([p.id_number for p in good])
    assert len(found) == 6
    assert found[good[4].id_number].name_masked == good[4].name[0] + "*" * (len(good[4].name) - 1)


def test_an_xlsx_file_is_read_with_its_date_and_number_cells(
    engine: Engine, tmp_path: Path, city_clerk: Actor
) -> None:
    chosen = people(111, 3)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "序号",
            "身份证号码",
            "姓名",
            "性别",
            "出生日期",
            "手机号码",
            "户籍地区划代码",
            "居住地区划代码",
        ]
    )  # noqa: E501
    for n, p in enumerate(chosen, 1):
        sheet.append(
            [
                n,
                p.id_number,
                p.name,
                "男" if p.gender == "1" else "女",
                datetime.combine(p.birth_date, datetime.min.time()),
                int(p.phone),
                p.household_region_code,
                p.residence_region_code,
            ]
        )
    extra = people(112, 1)[0]
    sheet.append(
        [
            4,
            int(extra.id_number[:15]),
            extra.name,
            extra.gender,
            extra.birth_date,
            None,
            extra.household_region_code,
            extra.residence_region_code,
        ]
    )
    path = tmp_path / "persons.xlsx"
    book.save(path)

    job, _ = import_job.import_file(path, actor=city_clerk)

    assert (job.rows_created, job.rows_rejected) == (3, 1)
    assert read_rejects(job.id)[0]["line"] == "5"
    assert "文本格式" in read_rejects(job.id)[0]["reasons"]
    found = stored([p.id_number for p in chosen])
    assert (
        found[chosen[0].id_number].phone_masked
        == chosen[0].phone[:3] + "****" + chosen[0].phone[-4:]
    )


def test_importing_the_same_file_again_changes_nothing(
    engine: Engine, tmp_path: Path, city_clerk: Actor
) -> None:
    chosen = people(121, 7)
    path = write_csv(tmp_path / "p.csv", ENGLISH, [cells(p) for p in chosen])
    first, _ = import_job.import_file(
        path, actor=city_clerk, options=import_job.RunOptions(chunk=3)
    )
    before = {
        n: (p.updated_at, p.content_digest, p.version)
        for n, p in stored([c.id_number for c in chosen]).items()
    }  # noqa: E501

    repeated, ran = import_job.import_file(path, actor=city_clerk)
    assert not ran and repeated.id == first.id and repeated.status == "completed"
    again, ran = import_job.import_file(path, actor=city_clerk, again=True)

    assert ran and again.id != first.id
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 7)
    after = {
        n: (p.updated_at, p.content_digest, p.version)
        for n, p in stored([c.id_number for c in chosen]).items()
    }  # noqa: E501
    assert after == before


def test_an_interrupted_import_resumes_where_it_stopped(
    engine: Engine, tmp_path: Path, city_clerk: Actor
) -> None:
    chosen = people(131, 11)
    body = [cells(p) for p in chosen]
    body.insert(
        2, ["370811198503154510", "坏行", "1", "01", "19850315", "", "", "370811", "370811"]
    )
    body.insert(7, cells(chosen[0]))
    path = write_csv(tmp_path / "p.csv", ENGLISH, body)

    def crash(progress: import_job.Progress) -> None:
        if progress.next_line > 2:
            raise RuntimeError("the machine lost power")

    with pytest.raises(RuntimeError):
        import_job.import_file(
            path, actor=city_clerk, options=import_job.RunOptions(chunk=5, after_chunk=crash)
        )
    with db.transaction() as session:
        job = session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
        assert job is not None
        assert (job.status, job.next_line, job.rows_created, job.rows_rejected) == (
            "failed",
            7,
            4,
            1,
        )
        assert job.error == "RuntimeError: the machine lost power"
        job_id = job.id
    assert len(read_rejects(job_id)) == 1

    resumed, ran = import_job.import_file(
        path, actor=city_clerk, options=import_job.RunOptions(chunk=5)
    )

    assert ran and resumed.id == job_id and resumed.status == "completed"
    assert (resumed.rows_created, resumed.rows_rejected, resumed.rows_total) == (11, 2, 13)
    assert [r["line"] for r in read_rejects(job_id)] == ["4", "9"]
    assert read_rejects(job_id)[1]["reasons"] == "id_number: 与第 2 行的证件号码重复"
    assert len(stored([p.id_number for p in chosen])) == 11
    with db.transaction() as session:
        ids = list(
            bulk_service.person_ids(session, id_numbers=[p.id_number for p in chosen]).values()
        )
        count = session.scalar(select(func.count()).select_from(Person).where(Person.id.in_(ids)))
    assert count == 11


def test_a_running_job_is_not_run_twice(engine: Engine, tmp_path: Path, city_clerk: Actor) -> None:
    path = write_csv(tmp_path / "p.csv", ENGLISH, [cells(p) for p in people(141, 2)])
    with db.transaction() as session:
        opened = imports_service.open_job(session, path, source="cli", actor=city_clerk)
    with db.transaction() as session:
        job = imports_service.get_job(session, job_id=opened.job.id)
        job.status, job.updated_at = "running", db.utcnow()
    with pytest.raises(ImportJobBusy):
        import_job.run(opened.job.id, actor=city_clerk)
    with db.transaction() as session:
        job = imports_service.get_job(session, job_id=opened.job.id)
        job.updated_at = db.utcnow() - imports_service.LEASE * 2
    assert import_job.run(opened.job.id, actor=city_clerk).rows_created == 2


def test_a_file_without_a_column_keeps_what_is_stored_and_updates_what_changed(
    engine: Engine, tmp_path: Path, city_clerk: Actor
) -> None:
    first, second = people(151, 2)
    write = write_csv(tmp_path / "a.csv", ENGLISH, [cells(first), cells(second)])
    import_job.import_file(write, actor=city_clerk)
    with db.transaction() as session:
        persons_service.update_person(
            session,
            id_number=first.id_number,
            data=PersonUpdate(ethnicity="03", address="原地址"),
            actor=city_clerk,
        )
    narrow = [h for h in ENGLISH if h not in ("ethnicity", "address")]
    changed = [
        first.id_number,
        first.name,
        first.gender,
        first.birth_date.isoformat(),
        "13900000000",
        first.household_region_code,
        first.residence_region_code,
    ]
    same = [cells(second)[i] for i, h in enumerate(ENGLISH) if h in narrow]
    job, _ = import_job.import_file(
        write_csv(tmp_path / "b.csv", narrow, [changed, same]), actor=city_clerk
    )

    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (0, 1, 1)
    with db.transaction() as session:
        person = persons_service.find_person(session, id_number=first.id_number)
        assert person is not None
        record = persons_service.current_record(session, person)
    assert (record.phone, record.ethnicity, record.address) == ("13900000000", "03", "原地址")


def test_employers_and_communities_must_be_registered(
    engine: Engine, tmp_path: Path, city_clerk: Actor
) -> None:
    employer = fakes.employers(161, "370800", 1)[0]
    community = fakes.communities(161, "370800", 200)[-1]
    with db.transaction() as session:
        if not units_service.employer_ids(session, credit_codes=[employer.credit_code]):
            data = EmployerCreate(
                credit_code=employer.credit_code,
                name=employer.name,
                region_code=employer.region_code,
            )
            units_service.create_employer(session, data=data)
        _, missing = units_service.missing_references(
            session, employer_ids=[], community_codes=[community.code]
        )
        if missing:
            units_service.create_community(
                session, data=CommunityCreate(code=community.code, name=community.name)
            )  # noqa: E501
    chosen = people(162, 4)
    header = [*ENGLISH, "AAB003", "社区代码"]
    body = [
        [*cells(chosen[0]), employer.credit_code, community.code],
        [*cells(chosen[1]), "", ""],
        [*cells(chosen[2]), fakes.employers(163, "370800", 1)[0].credit_code, ""],
        [*cells(chosen[3]), "", community.code[:9] + "999"],
    ]
    job, _ = import_job.import_file(write_csv(tmp_path / "e.csv", header, body), actor=city_clerk)

    assert (job.rows_created, job.rows_rejected) == (2, 2)
    reasons = [r["reasons"] for r in read_rejects(job.id)]
    assert reasons[0].startswith("AAB003: 统一社会信用代码") and reasons[0].endswith(
        "的单位尚未登记"
    )
    assert reasons[1] == f"社区代码: 社区 {community.code[:9]}999 不存在"
    found = stored([chosen[0].id_number])[chosen[0].id_number]
    assert found.employer is not None and found.employer.credit_code == employer.credit_code
    assert found.community_code == community.code

    whole, _ = import_job.import_file(
        write_csv(tmp_path / "f.csv", ENGLISH, [cells(p) for p in people(164, 2)]),
        actor=city_clerk,
        employer_credit_code=employer.credit_code,
    )
    assert whole.rows_created == 2


def test_a_district_clerk_imports_only_persons_of_the_district(
    engine: Engine, tmp_path: Path, district_clerk: Actor
) -> None:
    chosen = [p for p in people(171, 40) if p.residence_region_code != "370812"]
    inside = [p for p in people(172, 200) if p.residence_region_code == "370812"][:1]
    path = write_csv(tmp_path / "d.csv", ENGLISH, [cells(p) for p in chosen[:2] + inside])
    job, _ = import_job.import_file(path, actor=district_clerk)
    rejected = [p for p in chosen[:2] if not p.household_region_code.startswith("370812")]
    assert job.rows_rejected == len(rejected) and job.rows_created == 3 - len(rejected)
    assert all("不在本机构服务区域内" in r["reasons"] for r in read_rejects(job.id))


def test_enrolments_are_imported_with_the_person(
    engine: Engine, tmp_path: Path, city_clerk: Actor
) -> None:
    person = people(181, 1)[0]
    started = max(person.birth_date.year + 18, 2000)
    path = write_csv(
        tmp_path / "en.csv",
        [*ENGLISH, "enrolments"],
        [[*cells(person), f"110:enrolled:{started}-01-01;310:enrolled:{started}-01-01"]],
    )
    import_job.import_file(path, actor=city_clerk)
    person_id = stored([person.id_number])[person.id_number].id
    with db.transaction() as session:
        found = session.scalars(
            select(Enrolment.insurance_type).where(Enrolment.person_id == person_id)
        )
        assert sorted(found) == ["110", "310"]


def test_a_bad_file_is_refused_before_any_job_exists(
    engine: Engine, tmp_path: Path, city_clerk: Actor
) -> None:
    with db.transaction() as session:
        jobs_before = session.scalar(select(func.count()).select_from(ImportJob))
    missing = write_csv(tmp_path / "m.csv", ["id_number", "name"], [["1", "张三"]])
    with pytest.raises(ImportFileInvalid, match="缺少必填列：性别（gender / AAC004）"):
        import_job.import_file(missing, actor=city_clerk)
    broken = tmp_path / "broken.csv"
    broken.write_bytes(",".join(ENGLISH).encode() + "\n张".encode() + b"\xff\n")
    with pytest.raises(ImportFileInvalid, match="第 2 行"):
        import_job.import_file(broken, actor=city_clerk)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ImportJob)) == jobs_before


def test_worker_processes_give_the_same_result(
    engine: Engine, tmp_path: Path, city_clerk: Actor
) -> None:
    # Workers load the keys from the database; this process may still cache those of the
    # database the previous test ran on (the fixtures recreate databases between backends).
    keyring.reset()
    chosen = people(191, 30)
    body = [cells(p) for p in chosen] + [cells(chosen[3])]
    path = write_csv(tmp_path / "w.csv", ENGLISH, body)
    job, _ = import_job.import_file(
        path, actor=city_clerk, options=import_job.RunOptions(chunk=7, workers=2)
    )
    assert (job.rows_created, job.rows_rejected) == (30, 1)
    assert read_rejects(job.id)[0]["reasons"] == "id_number: 与第 5 行的证件号码重复"
    assert len(stored([p.id_number for p in chosen])) == 30


def test_an_unknown_job_is_a_clear_error(engine: Engine, city_clerk: Actor) -> None:
    with pytest.raises(SSCardError, match="导入任务 999999 不存在"):
        import_job.run(999_999, actor=city_clerk)
