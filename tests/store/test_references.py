"""References people read and say aloud: ``UTH-2026-0142`` for a case, ``UTH-2026-0142/2`` for its second point.

Numbers run per year in the order cases arrive, survive intakes at the same moment, never change once given,
and resolve back to the ids (which stay in the store and the API) in the forms people type them.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import select, text

from assistant.intake import submit_notes
from assistant.models import CaseContext, Sector
from assistant.cases import find_case, find_point
from assistant.references import parse_reference
from assistant.settings import Settings
from assistant.store import open_database
from assistant.store.database import Database
from assistant.store.tables import Case, Draft, LearningPoint, ReferenceCounter

CONTEXT = CaseContext(sector=Sector.hospital, unit="Akutmodtagelsen")


def a_case(session, created_at: dt.datetime | None = None) -> Case:
    case = Case(source_kind="notes", content_hash=uuid.uuid4().hex, receipt_hash=uuid.uuid4().hex,
                sector="hospital", created_at=created_at)
    session.add(case)
    session.flush()
    return case


def a_draft(session, case: Case, titles: list[str]) -> list[LearningPoint]:
    draft = Draft(case_id=case.id, prompt_id="p", prompt_version="1", model_id="m", isbar=[])
    draft.learning_points = [LearningPoint(case_id=case.id, position=i, title=title, what_happened="x",
                                           category="medicin", severity="mild") for i, title in enumerate(titles)]
    session.add(draft)
    session.flush()
    return draft.learning_points


def test_cases_are_numbered_in_the_order_they_arrive_within_their_year(settings):
    db = open_database(settings)
    made = [submit_notes(db, settings, f"Notat {n}: insulin ved vagtskifte.", CONTEXT) for n in range(3)]
    year = dt.datetime.now(dt.UTC).year
    assert [s.reference for s in made] == [f"UTH-{year}-0001", f"UTH-{year}-0002", f"UTH-{year}-0003"]
    with db.session() as session:
        december, january = a_case(session, dt.datetime(2025, 12, 31, 23, 59)), a_case(session, dt.datetime(2030, 1, 1))
        assert (december.reference, january.reference) == ("UTH-2025-0001", "UTH-2030-0001")
    # Handing in the same notes again returns the case with the reference it already has.
    again = submit_notes(db, settings, "Notat 1: insulin ved vagtskifte.", CONTEXT)
    assert again.duplicate and again.reference == made[1].reference


def test_intakes_at_the_same_moment_each_get_their_own_number(settings):
    db = open_database(settings)
    references, errors = [], []
    start = threading.Barrier(8)

    def hand_in(n: int) -> None:
        try:
            start.wait()
            references.append(submit_notes(db, settings, f"Samtidig sag {n}: faldt om natten.", CONTEXT).reference)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=hand_in, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    year = dt.datetime.now(dt.UTC).year
    assert sorted(references) == [f"UTH-{year}-{n:04d}" for n in range(1, 9)]


def test_a_rolled_back_intake_gives_its_number_back(settings):
    db = open_database(settings)
    with pytest.raises(RuntimeError), db.session() as session:
        a_case(session, dt.datetime(2026, 5, 1))
        raise RuntimeError("the intake failed after the case row was written")
    with db.session() as session:
        assert a_case(session, dt.datetime(2026, 5, 2)).reference == "UTH-2026-0001"


def test_points_are_numbered_within_their_case_and_a_redraft_continues_the_count(settings):
    db = open_database(settings)
    with db.session() as session:
        case = a_case(session, dt.datetime(2026, 3, 1))
        first = a_draft(session, case, ["Insulin", "Dobbeltkontrol"])
        other = a_draft(session, a_case(session, dt.datetime(2026, 3, 2)), ["Fald"])
        assert [p.number for p in first] == [1, 2] and other[0].number == 1
    with db.session() as session:
        redraft = a_draft(session, session.get(Case, case.id), ["Insulin", "Dobbeltkontrol", "Overlevering"])
        assert [p.number for p in redraft] == [3, 4, 5]  # /1 and /2 keep meaning the first draft's points


def test_references_resolve_in_the_forms_people_type_them(settings):
    db = open_database(settings)
    with db.session() as session:
        case = a_case(session, dt.datetime(2026, 3, 1))
        point = a_draft(session, case, ["Insulin", "Dobbeltkontrol"])[1]
    with db.session() as session:
        for typed in ("UTH-2026-0001", "uth-2026-1", "UTH 2026 0001", " 2026-0001 ", case.id):
            assert find_case(session, typed).id == case.id, typed
        for typed in ("UTH-2026-0001/2", "uth-2026-0001 / 2", "2026-1/2", point.id):
            assert find_point(session, typed).id == point.id, typed
        for wrong in ("UTH-2026-0002", "UTH-2026-0001/3", "UTH-2026-0001", "hej", "", "UTH-2026-0000"):
            assert find_point(session, wrong) is None, wrong
    assert parse_reference("AUH-2026-0142/2").case == "AUH-2026-0142"
    assert str(parse_reference("auh-2026-142/2")) == "AUH-2026-0142/2"


def test_the_prefix_is_a_setting_and_a_case_keeps_the_reference_it_was_given(tmp_path):
    first = Settings(data_dir=tmp_path / "data", reference_prefix="AUH")
    db = open_database(first)
    made = submit_notes(db, first, "Notat om sondemad.", CONTEXT)
    assert made.reference.startswith("AUH-")
    with pytest.raises(ValueError):
        Settings(data_dir=tmp_path / "data", reference_prefix="uth-1")
    renamed = Database(first.resolved_database_url, reference_prefix="RH")
    later = submit_notes(renamed, first, "Notat om fald.", CONTEXT)
    assert later.reference.startswith("RH-") and later.reference.endswith("-0002")
    with renamed.session() as session:
        assert session.get(Case, made.case_id).reference == made.reference
        assert find_case(session, made.reference.replace("AUH", "RH")).id == made.case_id  # any prefix is found
    renamed.dispose()


def test_the_migration_numbers_existing_cases_and_points_in_creation_order(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    db.upgrade("0005")  # a store from before references
    rows = [("c-late", "2026-02-01 10:00:00"), ("c-early", "2026-01-05 09:00:00"), ("c-old", "2025-11-30 08:00:00")]
    with db.engine.begin() as connection:
        for case_id, created in rows:
            connection.execute(text(
                "INSERT INTO cases (id, source_kind, content_hash, receipt_hash, sector, unit, event_type, keep_audio, "
                "status, created_at, updated_at) VALUES (:id, 'notes', :id, :id, 'hospital', '', '', 0, 'decided', "
                ":at, :at)"), {"id": case_id, "at": created})
        for draft_id, created in (("d-new", "2026-01-07 00:00:00"), ("d-old", "2026-01-06 00:00:00")):
            connection.execute(text(
                "INSERT INTO drafts (id, case_id, prompt_id, prompt_version, model_id, attempts, tokens_in, "
                "tokens_out, isbar, created_at) VALUES (:id, 'c-early', 'p', '1', 'm', 1, 0, 0, '[]', :at)"),
                {"id": draft_id, "at": created})
        for point_id, draft_id, position in (("p-b", "d-new", 0), ("p-a", "d-old", 1), ("p-c", "d-old", 0)):
            connection.execute(text(
                "INSERT INTO learning_points (id, case_id, draft_id, position, title, what_happened, "
                "contributing_factors, what_went_well, suggested_actions, category, severity, safety_ii, evidence, "
                "status, visibility, created_at, updated_at) VALUES (:id, 'c-early', :draft, :pos, 't', 'w', '[]', "
                "'[]', '[]', 'medicin', 'mild', 0, '[]', 'draft', 'staff', '2026-01-07', '2026-01-07')"),
                {"id": point_id, "draft": draft_id, "pos": position})
    db.upgrade()
    with db.session() as session:
        assert dict(session.execute(select(Case.id, Case.reference)).all()) == {
            "c-old": "UTH-2025-0001", "c-early": "UTH-2026-0001", "c-late": "UTH-2026-0002"}
        numbers = dict(session.execute(select(LearningPoint.id, LearningPoint.number)).all())
        assert numbers == {"p-c": 1, "p-a": 2, "p-b": 3}  # older draft first, then by position
        assert dict(session.execute(select(ReferenceCounter.year, ReferenceCounter.last_number)).all()) == {
            2025: 1, 2026: 2}
        assert a_case(session, dt.datetime(2026, 3, 1)).reference == "UTH-2026-0003"  # the count goes on
    db.dispose()
