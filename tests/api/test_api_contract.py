"""The REST API held to its own schema and scopes over real HTTP: the app served by uvicorn on a loopback port,
a real SQLite store and index, fake speech, pseudonymisation and drafting, and no language model.

* Schemathesis generates calls to every operation from ``/api/v1/openapi.json``: none may answer 5xx, and every
  answer (status, content type, body) must be one the schema declares.
* Each single-scope token reaches its own endpoints and gets 403 at every other one.
* A BI tool reads a trends table as CSV with nothing but the standard library.
"""

from __future__ import annotations

import csv
import io
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from assistant.api_tokens import Scope, create_token
from assistant.auth import SYSTEM
from assistant.errors import ModelUnavailable
from assistant.jobs import Runtime
from assistant.settings import Settings
from tests.api.test_api import API, api_app
from tests.support.audio_factory import tone
from tests.support.servers import app_in_thread


class NoLanguageModel:
    """The chat model when none is installed: themes fall back to keyword names."""

    model_id = "none"

    def complete_json(self, messages, schema, max_tokens):
        raise ModelUnavailable("model.unavailable", name="none", reason="not installed in tests")

    def stream(self, messages, max_tokens):
        raise ModelUnavailable("model.unavailable", name="none", reason="not installed in tests")


@dataclass
class LiveApi:
    url: str  # the API's root, ending in /api/v1
    runtime: Runtime
    data: Path

    def token(self, *scopes: Scope, name: str = "integration") -> str:
        return create_token(self.runtime.db, SYSTEM, name, list(scopes)).secret


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[LiveApi]:
    data = tmp_path_factory.mktemp("api-contract")
    # Generated calls come fast: the limits are tested in test_api.py, not here.
    settings_ = Settings(data_dir=data / "data", cpu_threads=2, api_requests_per_minute=100_000,
                         receipt_lookups_per_minute=100_000)
    with api_app(settings_, points=8, chat_=NoLanguageModel()) as (app, runtime), \
            app_in_thread(app, name="debrief-api-contract") as url:
        yield LiveApi(url=f"{url}{API}", runtime=runtime, data=data)


# -- the schema ------------------------------------------------------------------------------------------------


OPERATIONS = [("POST", "/cases/notes"), ("POST", "/cases/recording"), ("POST", "/cases/status"),
              ("GET", "/points/search"), ("GET", "/trends"), ("GET", "/themes"), ("GET", "/reports/monthly/{month}")]


@pytest.fixture(scope="module")
def api_schema(live):
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json")


def test_the_contract_tests_cover_every_operation_in_the_schema(api_schema):
    listed = {(result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS)


# Data valid by the schema may still be refused by rules a schema cannot state (blank notes, a sound that is not
# a recording, notes another token handed in): 422 then is right. Unknown query parameters are ignored, as HTTP
# APIs commonly do, so invalid calls need not all be refused; they must still get a declared answer, never 5xx.
LENIENT = [positive_data_acceptance, negative_data_rejection]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_answers_as_its_schema_says_and_never_5xx(method, path, mode, api_schema, live):
    secret = live.token(*Scope, name="schemathesis")

    @given(case=api_schema[path][method].as_strategy(generation_mode=mode))
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_as_declared(case):
        case.call_and_validate(base_url=live.url, headers=auth(secret), excluded_checks=LENIENT)

    answers_as_declared()


# -- scopes ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    """One endpoint, called as an integration with its scope would, with input it accepts."""

    name: str
    scopes: frozenset[Scope]

    def call(self, client: httpx.Client, live: LiveApi, secret: str) -> httpx.Response:
        headers = auth(secret)
        match self.name:
            case "POST /cases/notes":
                return client.post("/cases/notes", headers=headers,
                                   json={"notes": f"Noter fra scope-testen med nøgle {secret[-8:]}."})
            case "POST /cases/recording":
                recording = tone(live.data / f"scope-{secret[-8:]}.wav", seconds=2.0)
                with recording.open("rb") as file:
                    return client.post("/cases/recording", headers=headers,
                                       files={"recording": ("debrief.wav", file, "audio/wav")})
            case "POST /cases/status":
                return client.post("/cases/status", headers=headers, json={"receipt_code": "AAAAA-BBBBB-CCCCC"})
            case "GET /points/search":
                return client.get("/points/search", headers=headers, params={"q": "insulin"})
            case "GET /trends":
                return client.get("/trends", headers=headers)
            case "GET /themes":
                return client.get("/themes", headers=headers)
            case "GET /reports/monthly/{month}":
                return client.get("/reports/monthly/2026-05", headers=headers)
        raise AssertionError(self.name)


ENDPOINTS = [
    Endpoint("POST /cases/notes", frozenset({Scope.submit})),
    Endpoint("POST /cases/recording", frozenset({Scope.submit})),
    Endpoint("POST /cases/status", frozenset({Scope.status})),
    Endpoint("GET /points/search", frozenset({Scope.read_public, Scope.read_staff})),
    Endpoint("GET /trends", frozenset({Scope.read_trends})),
    Endpoint("GET /themes", frozenset({Scope.read_trends})),
    Endpoint("GET /reports/monthly/{month}", frozenset({Scope.read_trends})),
]


@pytest.fixture(scope="module")
def client(live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        yield client


@pytest.mark.parametrize("scope", list(Scope), ids=[s.value for s in Scope])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_a_single_scope_token_reaches_only_its_own_endpoints(endpoint, scope, live, client):
    answer = endpoint.call(client, live, live.token(scope, name=f"only-{scope.value}"))
    if scope in endpoint.scopes:
        # Its own endpoint: served (a made-up receipt code is simply not found), never refused for the scope.
        assert answer.status_code in (200, 201, 404), answer.text
        if answer.status_code == 404:
            assert answer.json()["error"]["key"] == "record.not_found"
    else:
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["key"] == "api.scope_missing"


# -- a BI tool ---------------------------------------------------------------------------------------------------

def test_a_bi_tool_reads_a_trends_table_as_csv_over_http(live):
    request = urllib.request.Request(f"{live.url}/trends?since=2026-01-01&format=csv&table=by_category",
                                     headers=auth(live.token(Scope.read_trends, name="power-bi")))
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in answer.headers["Content-Disposition"]
        text = answer.read().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and list(rows[0]) == ["category", "status", "points"]
    assert all(int(row["points"]) > 0 for row in rows)
    assert sum(int(row["points"]) for row in rows if row["status"] == "approved") == 8
