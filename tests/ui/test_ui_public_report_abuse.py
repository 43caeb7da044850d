"""The open report page under abuse and bad input, through its API (gradio_client) against the real app on
loopback: a flood of anonymous hand-ins is refused after the limits in plain words and leaves no rows behind,
the team's own work is still drafted first, and empty, huge, marked-up or English accounts and guessed receipt
codes get the answers a citizen should see. Fakes for speech, names and drafting.

Callers are told apart by address; the tests give each imitated caller its own through ``X-Forwarded-For``,
which uvicorn takes only from a proxy on loopback (its default ``forwarded_allow_ips``), as here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from gradio_client import Client
from sqlalchemy import func, select

from assistant.cases import receipt_hash
from assistant.intake import submit_notes
from assistant.jobs import pipeline
from assistant.models import CaseContext, JobStatus, Sector
from assistant.store.tables import AudioFile, Case, Job, Segment
from tests.support.fakes import FakeChat, fake_draft
from tests.support.hardening_app import RunningApp, serve_app

PER_CLIENT = 10
PER_HOUR = 15
FLOOD = 100


def caller(app: RunningApp, address: str) -> Client:
    """An anonymous visitor of the open page, seen by the app as coming from ``address``."""
    return Client(app.url + "/public/", headers={"X-Forwarded-For": address}, verbose=False)


def report(client: Client, text: str, language: str = "da", who: str = "relative"):
    """What the open page shows after "Send": the message and the receipt code."""
    return client.predict(language, who, text, None, True, api_name="/report_event")


def rows(app: RunningApp) -> dict[str, int]:
    """What a hand-in can leave behind: cases, their jobs, receipts, segments and recordings."""
    with app.runtime.db.session() as session:
        def count(table, *where) -> int:
            return session.scalar(select(func.count()).select_from(table).where(*where))
        return {"cases": count(Case), "jobs": count(Job), "receipts": count(Case, Case.receipt_hash.is_not(None)),
                "segments": count(Segment), "audio": count(AudioFile)}


def wait_until_done(app: RunningApp, job_ids: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.runtime.db.session() as session:
            statuses = {session.get(Job, job_id).status for job_id in job_ids}
        if statuses == {JobStatus.done.value}:
            return
        time.sleep(0.2)
    raise AssertionError(f"jobs not done in {timeout:.0f} s: {statuses}")


# -- a flood of anonymous hand-ins -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flooded_app(tmp_path_factory) -> Iterator[RunningApp]:
    with serve_app(tmp_path_factory.mktemp("ui-public-flood"), chat=FakeChat(),
                   public_reports_per_client_per_hour=PER_CLIENT, public_reports_per_hour=PER_HOUR) as app:
        yield app


@pytest.fixture
def held_drafting(monkeypatch) -> threading.Event:
    """Drafting waits until the returned event is set, so the queue the flood leaves can be looked at."""
    gate = threading.Event()

    def draft_when_let_through(*args, **kwargs):
        gate.wait(timeout=120)
        return fake_draft(*args, **kwargs)

    monkeypatch.setattr(pipeline, "draft_case", draft_when_let_through)
    yield gate
    gate.set()


def test_a_flood_of_anonymous_accounts_is_refused_after_the_limits_and_staff_work_still_comes_first(
        flooded_app, held_drafting):
    before = rows(flooded_app)
    flooder = caller(flooded_app, "203.0.113.7")
    receipts, refusals = [], []
    started = time.monotonic()
    for number in range(FLOOD):
        try:
            receipts.append(report(flooder, f"Fortælling nummer {number}: medicinen kom for sent om natten.")[1])
        except Exception as error:  # noqa: BLE001 - the refusal is what we look for
            refusals.append(str(error))
    assert time.monotonic() - started < 60  # a hundred in a minute

    assert len(receipts) == PER_CLIENT and len(set(receipts)) == PER_CLIENT
    assert len(refusals) == FLOOD - PER_CLIENT
    assert all("Du har sendt mange fortællinger på kort tid" in r and "Intet er gemt" in r for r in refusals)

    # Others still get through, until everyone's hour is used up; then the page says so, in the reader's language.
    for number in range(PER_HOUR - PER_CLIENT):
        visitor = caller(flooded_app, f"198.51.100.{number + 1}")
        receipts.append(report(visitor, f"Pårørende {number}: ingen ringede.")[1])
    with pytest.raises(Exception, match="We are receiving many accounts right now") as everyone:
        report(caller(flooded_app, "198.51.100.99"), "One more account: nobody called us.", language="en")
    assert "Nothing was stored" in str(everyone.value)

    # Only the accepted accounts left rows: one case, one job and one receipt each, no recording; the segments
    # are those of the one account the worker has begun (its drafting is held), all of an accepted case.
    after = rows(flooded_app)
    assert after == {**before, "cases": before["cases"] + PER_HOUR, "jobs": before["jobs"] + PER_HOUR,
                     "receipts": before["receipts"] + PER_HOUR, "segments": after["segments"]}
    with flooded_app.runtime.db.session() as session:
        begun = set(session.scalars(select(Segment.transcript_id)))
    assert len(begun) <= 1
    with flooded_app.runtime.db.session() as session:
        stored = set(session.scalars(select(Case.receipt_hash).where(Case.reporter_type == "relative")))
        public_jobs = list(session.scalars(select(Job.id).join(Case).where(Case.reporter_type == "relative")))
    assert {receipt_hash(code) for code in receipts} == stored

    # The team hands in while the flood waits in the queue: its job is drafted before the waiting accounts.
    staff = submit_notes(flooded_app.runtime.db, flooded_app.runtime.settings,
                         "Vi glemte dobbeltkontrollen af insulin ved vagtskiftet.",
                         CaseContext(sector=Sector.hospital, unit="Akutmodtagelsen"))
    flooded_app.context.wake_worker()
    held_drafting.set()
    wait_until_done(flooded_app, [staff.job_id, *public_jobs])
    with flooded_app.runtime.db.session() as session:
        staff_done = session.get(Job, staff.job_id).finished_at
        before_staff = session.scalar(select(func.count()).select_from(Job).where(
            Job.id.in_(public_jobs), Job.finished_at < staff_done))
    assert before_staff <= 1  # at most the account the worker was already drafting when the team handed in


# -- bad input on the open page ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    with serve_app(tmp_path_factory.mktemp("ui-public-input"), chat=FakeChat(),
                   public_reports_per_client_per_hour=PER_CLIENT, public_reports_per_hour=100,
                   receipt_lookups_per_minute=5) as app:
        yield app


def drafted_case(app: RunningApp, receipt: str, timeout: float = 30.0) -> Case:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.runtime.db.session() as session:
            case = session.scalar(select(Case).where(Case.receipt_hash == receipt_hash(receipt)))
            if case is not None and case.drafts:
                return case
        time.sleep(0.2)
    raise AssertionError("the worker did not draft the account")


@pytest.mark.parametrize("text", ["", "   \n\n  \t ", "\x00\x07\x1b"], ids=["empty", "only-spaces", "only-control"])
def test_an_empty_account_is_refused_with_a_plain_message_and_nothing_is_stored(running_app, text):
    before = rows(running_app)
    with pytest.raises(Exception, match="Skriv eller tal ind, hvad der skete, før du sender."):
        report(caller(running_app, "192.0.2.10"), text)
    with pytest.raises(Exception, match="Write or speak what happened before you send."):
        report(caller(running_app, "192.0.2.10"), text, language="en")
    assert rows(running_app) == before


def test_a_huge_account_is_refused_as_too_long_and_nothing_is_stored(running_app):
    before = rows(running_app)
    huge = "Medicinen kom for sent. " * 40_000  # almost a megabyte
    with pytest.raises(Exception, match=r"Teksten er for lang \(\d+ tegn; højst 5000\)"):
        report(caller(running_app, "192.0.2.11"), huge)
    assert rows(running_app) == before


def test_markup_in_an_account_reaches_the_learning_agent_as_text(running_app):
    hostile = ("Min mor fik den forkerte pille <script>alert('x')</script> <img src=x onerror=alert(1)>.\n\n"
               "Sygeplejersken <b>opdagede</b> det.")
    _message, receipt = report(caller(running_app, "192.0.2.12"), hostile)
    case = drafted_case(running_app, receipt)

    shown, _points = running_app.client("lars").predict("da", case.id, api_name="/open_case")

    assert "&lt;script&gt;" in shown and "&lt;b&gt;opdagede&lt;/b&gt;" in shown
    for live in ("<script", "<img", "<b>opdagede"):
        assert live not in shown


def test_an_account_in_english_is_taken_and_thanked_in_english(running_app):
    message, receipt = report(caller(running_app, "192.0.2.13"),
                              "My father was given his insulin twice during the night.\n\nNobody told us until "
                              "the morning.", language="en", who="relative")
    assert "Thank you. We have received your account" in message
    case = drafted_case(running_app, receipt)
    assert case.reporter_type == "relative"
    status = caller(running_app, "192.0.2.13").predict("en", receipt, api_name="/status_by_receipt")
    assert "Messages with the learning agent" in status


def test_guessed_receipt_codes_read_like_unknown_ones_and_are_limited_on_every_route(running_app):
    _message, receipt = report(caller(running_app, "192.0.2.14"), "Alarmen på stuen virkede ikke om natten.")
    guesser = caller(running_app, "192.0.2.66")
    unknown = []
    for route, extra in (("/status_by_receipt", ()), ("/reply_by_receipt", ("Hej?",)),
                         ("/answer_question_by_receipt", ("", "Svar"))):
        with pytest.raises(Exception) as refused:
            guesser.predict("da", f"GAET{len(unknown)}-KODE0-AAAAA-BBBBB-CCCCC-D", *extra, api_name=route)
        unknown.append(str(refused.value))
    assert len(set(unknown)) == 1 and "Kvitteringskoden findes ikke" in unknown[0]

    for n in range(2):  # up to the five lookups a minute set here
        with pytest.raises(Exception, match="Kvitteringskoden findes ikke"):
            guesser.predict("da", f"GAETT-KODE{n}-AAAAA-BBBBB-CCCCC-D", "Hej?", api_name="/reply_by_receipt")
    for route, extra in (("/status_by_receipt", ()), ("/reply_by_receipt", ("Hej?",))):
        with pytest.raises(Exception, match="For mange opslag"):  # even with the right code
            guesser.predict("da", receipt, *extra, api_name=route)
    # The reporter, from their own address, is not held up by the guesser.
    assert "Venter" in caller(running_app, "192.0.2.14").predict("da", receipt, api_name="/status_by_receipt")
