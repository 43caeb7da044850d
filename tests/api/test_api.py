"""The REST API under /api/v1, driven as an integration would: the real app (Gradio mounted beside it), a real
SQLite store and index; speech, pseudonymisation and drafting are the small fakes (the API is under test here)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.api_tokens import Scope, create_token, revoke_token
from assistant.auth import SYSTEM
from assistant.jobs import Components, Runtime, pipeline
from assistant.settings import Settings
from assistant.store.tables import AuditEvent
from tests.support.audio_factory import tone
from tests.support.fakes import FakePseudonymiser, FakeTranscriber, fake_draft
from tests.support.learning_cases import store_approved, synthetic_points

API = "/api/v1"
NOTES = "Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nMette opdagede det ved dobbeltkontrollen."


@dataclass
class RunningApi:
    client: TestClient
    runtime: Runtime

    def token(self, *scopes: Scope, name: str = "integration") -> str:
        return create_token(self.runtime.db, SYSTEM, name, list(scopes)).secret

    def api_calls(self) -> list[AuditEvent]:
        with self.runtime.db.session() as session:
            rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "api_call")
                                   .order_by(AuditEvent.id)).all()
            session.expunge_all()
            return list(rows)


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@contextmanager
def api_app(settings: Settings, points: int, **fakes) -> Iterator[tuple[FastAPI, Runtime]]:
    """The real app on a runtime with fake speech, pseudonymisation and drafting (``fakes`` add or replace
    components), holding ``points`` approved points, every other one public."""
    from ui.app import create_app

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "draft_case", fake_draft)
        components = Components(settings, **({"transcriber_": FakeTranscriber(),
                                              "pseudonymiser_": FakePseudonymiser()} | fakes))
        runtime = Runtime.create(settings, components)
        rows = synthetic_points()[:points]
        for n, row in enumerate(rows):
            row["visibility"] = "public" if n % 2 == 0 else "staff"
        store_approved(runtime.db, runtime.index, rows)
        app, _ctx = create_app(runtime)
        try:
            yield app, runtime
        finally:
            runtime.stop()


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Iterator[RunningApi]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("api"), cpu_threads=2)
    with api_app(settings, points=6) as (app, runtime), TestClient(app) as client:
        yield RunningApi(client=client, runtime=runtime)


def test_a_new_token_hands_in_notes_and_gets_reference_and_receipt(running):
    answer = running.client.post(f"{API}/cases/notes", headers=auth(running.token(Scope.submit)),
                                 json={"notes": NOTES, "sector": "hospital", "unit": "Akutmodtagelsen",
                                       "event_date": "2026-11-02"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["reference"].startswith("UTH-") and body["receipt_code"] and body["case_id"]


def test_a_replayed_hand_in_returns_the_same_case_without_the_receipt_code(running):
    secret = running.token(Scope.submit, name="intake-form-retrying")
    notes = {"notes": "Pumpen alarmerede uden at nogen hørte det.\n\nVi flyttede den tættere på vagtstuen."}
    first = running.client.post(f"{API}/cases/notes", headers=auth(secret), json=notes)
    replayed = running.client.post(f"{API}/cases/notes", headers=auth(secret), json=notes)
    assert first.status_code == 201 and replayed.status_code == 200, replayed.text
    assert first.json()["receipt_code"] and replayed.json()["receipt_code"] is None
    assert replayed.json()["duplicate"] is True
    assert {k: replayed.json()[k] for k in ("case_id", "reference")} == {k: first.json()[k]
                                                                        for k in ("case_id", "reference")}
    assert running.api_calls()[-1].case_id == first.json()["case_id"]


def test_the_same_notes_from_another_token_are_refused_and_reveal_nothing(running):
    notes = {"notes": "Blodprøven blev mærket med den forkerte patients navn."}
    first = running.client.post(f"{API}/cases/notes", headers=auth(running.token(Scope.submit)), json=notes)
    other = running.client.post(f"{API}/cases/notes", headers=auth(running.token(Scope.submit)), json=notes)
    assert first.status_code == 201
    assert other.status_code == 422 and other.json()["error"]["key"] == "case.already_received"
    assert first.json()["reference"] not in other.text and first.json()["case_id"] not in other.text


def test_a_replayed_recording_returns_the_same_case(running, tmp_path):
    secret = running.token(Scope.submit)
    recording = tone(tmp_path / "replayed.wav", seconds=2.5)
    answers = []
    for _ in range(2):
        with recording.open("rb") as file:
            answers.append(running.client.post(f"{API}/cases/recording", headers=auth(secret),
                                               files={"recording": ("replayed.wav", file, "audio/wav")}))
    assert [a.status_code for a in answers] == [201, 200], answers[-1].text
    assert answers[1].json()["case_id"] == answers[0].json()["case_id"] and answers[1].json()["receipt_code"] is None


def test_the_receipt_code_shows_the_case_status(running):
    submitted = running.client.post(f"{API}/cases/notes", headers=auth(running.token(Scope.submit)),
                                    json={"notes": "Et andet vagtskifte, hvor medicinlisten manglede."}).json()
    answer = running.client.post(f"{API}/cases/status", headers=auth(running.token(Scope.status)),
                                 json={"receipt_code": submitted["receipt_code"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["reference"] == submitted["reference"]


def test_a_wrong_receipt_code_is_not_found_with_a_translated_message(running):
    answer = running.client.post(f"{API}/cases/status", headers=auth(running.token(Scope.status)) |
                                 {"Accept-Language": "en"}, json={"receipt_code": "AAAAA-BBBBB-CCCCC"})
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "The receipt code does not exist."


def test_a_recording_is_handed_in_like_notes(running, tmp_path):
    recording = tone(tmp_path / "debrief.wav", seconds=3.0)  # the fake transcriber hears the same words in any sound
    with recording.open("rb") as file:
        answer = running.client.post(f"{API}/cases/recording", headers=auth(running.token(Scope.submit)),
                                     files={"recording": ("debrief.wav", file, "audio/wav")},
                                     data={"sector": "municipality", "unit": "Hjemmeplejen"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["reference"].startswith("UTH-") and answer.json()["receipt_code"]


def test_a_call_without_a_token_is_refused_with_401(running):
    answer = running.client.get(f"{API}/trends")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["error"]["key"] == "api.token_missing"


def test_a_revoked_token_is_refused_with_401(running):
    made = create_token(running.runtime.db, SYSTEM, "old-bi", [Scope.read_trends])
    assert running.client.get(f"{API}/trends", headers=auth(made.secret)).status_code == 200
    revoke_token(running.runtime.db, SYSTEM, made.id)
    answer = running.client.get(f"{API}/trends", headers=auth(made.secret))
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "API-nøglen er ukendt eller tilbagekaldt."


def test_a_token_without_the_scope_is_refused_with_403(running):
    answer = running.client.post(f"{API}/cases/notes", headers=auth(running.token(Scope.read_public)),
                                 json={"notes": NOTES})
    assert answer.status_code == 403
    assert answer.json()["error"]["key"] == "api.scope_missing"


def test_bad_input_is_refused_with_422_and_names_the_field(running):
    answer = running.client.post(f"{API}/cases/notes", headers=auth(running.token(Scope.submit)),
                                 json={"notes": "Noter", "event_date": "i går"})
    assert answer.status_code == 422
    assert "event_date" in answer.json()["error"]["message"]


def test_a_body_that_is_not_text_is_refused_with_422_as_json(running):
    answer = running.client.post(f"{API}/cases/status", headers=auth(running.token(Scope.status)) |
                                 {"Content-Type": "application/json"}, content=b"\xff\xfe\x00")
    assert answer.status_code == 422 and answer.json()["error"]["key"] == "input.invalid"


def test_empty_notes_are_refused_with_422_in_the_callers_language(running):
    answer = running.client.post(f"{API}/cases/notes", headers=auth(running.token(Scope.submit)) |
                                 {"Accept-Language": "en-GB,en;q=0.9"}, json={"notes": "   "})
    assert answer.status_code == 422
    assert answer.json()["error"]["key"] == "input.empty_notes"
    assert answer.json()["error"]["message"].isascii()


def test_a_public_search_returns_only_public_points(running):
    answer = running.client.get(f"{API}/points/search", params={"q": "insulin", "k": 10},
                                headers=auth(running.token(Scope.read_public)))
    assert answer.status_code == 200, answer.text
    hits = answer.json()["hits"]
    assert hits and {h["visibility"] for h in hits} == {"public"}


def test_a_staff_search_also_returns_internal_points(running):
    answer = running.client.get(f"{API}/points/search", params={"q": "insulin", "k": 10},
                                headers=auth(running.token(Scope.read_staff)))
    assert answer.status_code == 200, answer.text
    assert {h["visibility"] for h in answer.json()["hits"]} == {"public", "staff"}


def test_a_public_token_cannot_ask_for_the_staff_audience(running):
    answer = running.client.get(f"{API}/points/search", params={"q": "insulin", "audience": "staff"},
                                headers=auth(running.token(Scope.read_public)))
    assert answer.status_code == 403


def test_trends_come_as_json_and_as_csv_with_a_header_row(running):
    token = auth(running.token(Scope.read_trends))
    as_json = running.client.get(f"{API}/trends", headers=token)
    assert as_json.status_code == 200 and "by_month" in as_json.json()["tables"]
    as_csv = running.client.get(f"{API}/trends", params={"format": "csv", "table": "by_category"}, headers=token)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0] == ["category", "status", "points"] and len(rows) > 1


def test_themes_come_as_csv_with_a_header_row(running):
    answer = running.client.get(f"{API}/themes", params={"format": "csv"},
                                headers=auth(running.token(Scope.read_trends)))
    assert answer.status_code == 200, answer.text
    assert answer.text.splitlines()[0].startswith("theme_id,label,month,sector,reference")


def test_the_monthly_report_comes_as_json_and_markdown(running):
    token = auth(running.token(Scope.read_trends))
    as_json = running.client.get(f"{API}/reports/monthly/2026-05", headers=token)
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["month"] == "2026-05"
    as_markdown = running.client.get(f"{API}/reports/monthly/2026-05", params={"format": "md"}, headers=token)
    assert as_markdown.status_code == 200 and as_markdown.headers["content-type"].startswith("text/markdown")


def test_a_bad_month_is_refused_with_422(running):
    answer = running.client.get(f"{API}/reports/monthly/maj", headers=auth(running.token(Scope.read_trends)))
    assert answer.status_code == 422


@pytest.mark.parametrize("month", ["0000-01", "0001-01", "9999-12"])
def test_a_month_far_off_is_refused_with_422_not_an_error(running, month):
    answer = running.client.get(f"{API}/reports/monthly/{month}", headers=auth(running.token(Scope.read_trends)))
    assert answer.status_code == 422 and answer.json()["error"]["key"] == "learning.bad_month"


def test_every_call_with_a_token_leaves_an_audit_row(running):
    secret = running.token(Scope.read_trends, name="audited-bi")
    before = len(running.api_calls())
    running.client.get(f"{API}/trends", headers=auth(secret))
    running.client.get(f"{API}/points/search", params={"q": "insulin"}, headers=auth(secret))  # wrong scope
    calls = running.api_calls()[before:]
    assert [(c.actor, c.after["path"], c.after["status"]) for c in calls] == [
        ("api:audited-bi", f"{API}/trends", 200), ("api:audited-bi", f"{API}/points/search", 403)]
    assert all(secret not in str(c.after) + (c.note or "") for c in calls)


def test_a_hand_in_is_audited_with_its_case(running):
    submitted = running.client.post(f"{API}/cases/notes", headers=auth(running.token(Scope.submit)),
                                    json={"notes": "Noter om en tredje hændelse med forsinket svar."}).json()
    assert running.api_calls()[-1].case_id == submitted["case_id"]


def test_the_openapi_schema_lists_the_routes(running):
    schema = running.client.get(f"{API}/openapi.json").json()
    assert {"/cases/notes", "/cases/recording", "/cases/status", "/points/search", "/trends", "/themes",
            "/reports/monthly/{month}"} <= set(schema["paths"])
    assert schema["servers"][0]["url"] == API


def test_the_docs_page_lists_the_endpoints_without_fetching_anything(running):
    page = running.client.get(f"{API}/docs")
    assert page.status_code == 200 and f"{API}/cases/notes" in page.text
    assert "<script" not in page.text and "https://" not in page.text


def test_an_unknown_api_address_is_json_not_the_app(running):
    answer = running.client.get(f"{API}/nothing-here")
    assert answer.status_code == 404 and answer.json()["error"]["key"] == "api.not_found"
    escaped = running.client.get(f"{API}/reports/monthly/%0A2026-05")  # a newline slips past the mount's pattern
    assert escaped.status_code == 404 and escaped.json()["error"]["key"] == "api.not_found"
    assert running.client.get("/no-such-page-%0A").status_code == 404
    wrong_method = running.client.get(f"{API}/cases/notes")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["key"] == "api.wrong_method"


def test_too_many_calls_with_one_token_get_429_and_a_retry_time(tmp_path):
    from ui.api import api_app
    from ui.context import AppContext

    settings = Settings(data_dir=tmp_path / "data", cpu_threads=2, api_requests_per_minute=3)
    runtime = Runtime.create(settings, Components(settings))
    secret = create_token(runtime.db, SYSTEM, "busy-bi", [Scope.read_trends]).secret
    other = create_token(runtime.db, SYSTEM, "quiet-bi", [Scope.read_trends]).secret
    with TestClient(api_app(AppContext(runtime))) as client:
        answers = [client.get("/trends", headers=auth(secret)) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["Retry-After"]) > 0
        assert answers[-1].json()["error"]["key"] == "api.too_many_requests"
        assert client.get("/trends", headers=auth(other)).status_code == 200  # the limit is per token
