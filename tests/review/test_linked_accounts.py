"""A patient's or relative's account beside the team's debrief of the same event: a learning agent links the two
(audited), other roles cannot, and Review reads both texts, pseudonymised, with points from the account marked."""

from __future__ import annotations

import pytest

from assistant.audit import events_for_case
from assistant.auth import Role, add_user
from assistant.errors import InvalidInput, NotAllowed
from assistant.intake import PublicReportLimits, submit_notes, submit_public_report
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext
from assistant.review import link_account, linked_cases, open_case, review_queue
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft
from ui.linked_accounts_panel import side_by_side_html

PASSWORD = "korrekt-hest-batteri"
DEBRIEF = "Mette gav insulin to gange ved vagtskiftet.\n\nVi opdagede det ved dobbeltkontrollen om morgenen."
ACCOUNT = "Min far Jens fik insulin to gange om natten.\n\nIngen sagde noget til os før om morgenen."


@pytest.fixture
def people(db):
    roles = {"lars": Role.learning_agent, "sofie": Role.staff, "rita": Role.reporter, "adam": Role.admin}
    return {name: add_user(db, name, role, PASSWORD) for name, role in roles.items()}


@pytest.fixture
def cases(db, settings, people, monkeypatch):
    """The team's debrief and a relative's account of the same night, both drafted."""
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(),
                            chat_=FakeChat())
    staff = submit_notes(db, settings, DEBRIEF, CaseContext(), actor=people["rita"])
    account = submit_public_report(db, settings, PublicReportLimits(5, 50), "10.0.0.1", reporter_type="relative",
                                   consent=True, text=ACCOUNT)
    for submission in (staff, account):
        run_job(db, components, submission.job_id)
    return {"staff": staff.case_id, "account": account.case_id}


def test_a_learning_agent_links_an_account_to_the_staff_case_and_it_is_audited(db, people, cases):
    link_account(db, people["lars"], cases["staff"], cases["account"])

    events = [e for e in events_for_case(db, cases["staff"]) if e["action"] == "link_account"]
    assert len(events) == 1
    assert events[0]["actor"] == "lars"
    assert events[0]["after"]["account_case_id"] == cases["account"]
    assert events[0]["after"]["reporter_type"] == "relative"


def test_linking_works_in_either_order_and_twice_changes_nothing(db, people, cases):
    link_account(db, people["lars"], cases["account"], cases["staff"])
    link_account(db, people["adam"], cases["staff"], cases["account"])

    assert len(linked_cases(db, people["lars"], cases["staff"])) == 1
    assert len([e for e in events_for_case(db, cases["staff"]) if e["action"] == "link_account"]) == 1


@pytest.mark.parametrize("who", ["sofie", "rita"])
def test_staff_and_reporters_cannot_link_accounts(db, people, cases, who):
    with pytest.raises(NotAllowed):
        link_account(db, people[who], cases["staff"], cases["account"])

    assert linked_cases(db, people["lars"], cases["staff"]) == []
    assert not [e for e in events_for_case(db, cases["staff"]) if e["action"] == "link_account"]


def test_two_staff_cases_cannot_be_linked_as_an_account(db, settings, people, cases):
    other = submit_notes(db, settings, "Et andet vagtskifte uden dobbeltkontrol.", CaseContext(),
                         actor=people["rita"])

    with pytest.raises(InvalidInput) as refused:
        link_account(db, people["lars"], cases["staff"], other.case_id)

    assert refused.value.key == "report.link_not_an_account"


def test_review_reads_both_accounts_side_by_side_pseudonymised(db, people, cases):
    link_account(db, people["lars"], cases["staff"], cases["account"])

    from_staff = linked_cases(db, people["lars"], cases["staff"])
    from_account = linked_cases(db, people["lars"], cases["account"])

    assert [c.case_id for c in from_staff] == [cases["account"]]
    assert from_staff[0].reporter_type == "relative"
    assert "[PERSON_1] fik insulin to gange om natten." in from_staff[0].text
    assert "Jens" not in from_staff[0].text
    assert [c.case_id for c in from_account] == [cases["staff"]]
    assert "Mette" not in from_account[0].text and "dobbeltkontrollen" in from_account[0].text

    shown = side_by_side_html(open_case(db, people["lars"], cases["staff"]), from_staff, "da")
    assert "Personalets debriefing" in shown and "Fra patient/pårørende" in shown
    assert "gav insulin to gange ved vagtskiftet" in shown and "om natten" in shown


def test_only_roles_that_read_any_case_see_linked_accounts(db, people, cases):
    with pytest.raises(NotAllowed):
        linked_cases(db, people["sofie"], cases["staff"])


def test_points_drafted_from_an_account_are_marked_as_from_a_patient_or_relative(db, people, cases):
    account = open_case(db, people["lars"], cases["account"])
    staff = open_case(db, people["lars"], cases["staff"])

    assert account.reporter_type == "relative"
    assert account.learning_points and all(p.reporter_type == "relative" for p in account.learning_points)
    assert all(p.reporter_type == "staff" for p in staff.learning_points)
    queued = {item.case_id: item.reporter_type for item in review_queue(db, people["lars"])}
    assert queued == {cases["staff"]: "staff", cases["account"]: "relative"}
