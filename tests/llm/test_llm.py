"""Chat model backends: the embedded llama.cpp default and any OpenAI-compatible server, behind one protocol."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.errors import ModelUnavailable
from assistant.llm import ChatMessage, ChatModel, LlamaCppChat, OpenAICompatibleChat, make_chat_model

SCHEMA = {
    "type": "object",
    "properties": {"svar": {"type": "string", "enum": ["ja", "nej"]}, "antal": {"type": "integer"}},
    "required": ["svar", "antal"],
}
ASK = [
    ChatMessage(role="system", content="Du svarer kun med JSON."),
    ChatMessage(role="user", content="Er 2 større end 1? Svar med svar (ja/nej) og antal=2."),
]


class FakeOpenAIServer(BaseHTTPRequestHandler):
    """A tiny OpenAI-compatible endpoint: can refuse json_schema like many servers, and streams over SSE."""

    refuse_json_schema = False
    refusal_status = 400  # llama.cpp's server says it with 500
    cut_off = False  # answer as if max_tokens ran out mid-JSON
    requests: list[dict] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        fmt = (body.get("response_format") or {}).get("type")
        if fmt == "json_schema" and self.refuse_json_schema:
            return self._json(self.refusal_status, {"error": {"message": "response_format json_schema is not supported",
                                              "type": "invalid_request_error"}})
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in ["Hej", " med", " dig"]:
                delta = {"role": "assistant", "content": piece}
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return None
        content = json.dumps({"svar": "ja", "antal": 2})
        content, finish = (content[:9], "length") if self.cut_off else (content, "stop")
        return self._json(200, {
            "id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 31, "completion_tokens": 9, "total_tokens": 40},
        })

    def _json(self, status: int, payload: dict):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def openai_server():
    FakeOpenAIServer.requests = []
    FakeOpenAIServer.refuse_json_schema = False
    FakeOpenAIServer.refusal_status = 400
    FakeOpenAIServer.cut_off = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAIServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_backend_is_chosen_by_settings_without_loading_anything(settings, tmp_path):
    assert isinstance(make_chat_model(settings), LlamaCppChat)
    remote = settings.model_copy(update={"llm_backend": "openai", "llm_base_url": "http://127.0.0.1:9/v1"})
    chat = make_chat_model(remote)
    assert isinstance(chat, OpenAICompatibleChat) and isinstance(chat, ChatModel)
    assert chat.model_id == settings.llm_model


def test_a_missing_gguf_file_is_reported_as_model_unavailable(settings, tmp_path):
    chat = LlamaCppChat(settings.model_copy(update={"llm_model_path": tmp_path / "ingen.gguf"}))
    assert chat.model_id == "ingen"
    with pytest.raises(ModelUnavailable) as failure:
        chat.complete_json(ASK, SCHEMA, 20)
    assert "ingen.gguf" in failure.value.message("da")


def test_a_corrupt_gguf_file_is_reported_as_model_unavailable(settings, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a gguf file at all")
    with pytest.raises(ModelUnavailable):
        list(LlamaCppChat(settings.model_copy(update={"llm_model_path": broken})).stream(ASK, 5))


def test_the_openai_backend_needs_a_server_url(settings):
    with pytest.raises(ModelUnavailable, match="model.unavailable"):
        OpenAICompatibleChat(settings.model_copy(update={"llm_backend": "openai", "llm_base_url": None}))


def test_an_unreachable_server_is_reported_as_model_unavailable(settings):
    url = f"http://127.0.0.1:{free_port()}/v1"
    chat = OpenAICompatibleChat(settings.model_copy(update={"llm_backend": "openai", "llm_base_url": url}))
    with pytest.raises(ModelUnavailable) as failure:
        chat.complete_json(ASK, SCHEMA, 20)
    assert url in failure.value.message("en")
    with pytest.raises(ModelUnavailable):
        list(chat.stream(ASK, 20))


def test_the_server_gets_the_schema_and_its_json_comes_back_with_usage(settings, openai_server):
    chat = OpenAICompatibleChat(settings.model_copy(update={"llm_backend": "openai", "llm_base_url": openai_server}))
    reply = chat.complete_json(ASK, SCHEMA, 50)
    assert json.loads(reply.text) == {"svar": "ja", "antal": 2}
    assert (reply.finish_reason, reply.tokens_in, reply.tokens_out) == ("stop", 31, 9)
    sent = FakeOpenAIServer.requests[0]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"] == SCHEMA
    assert sent["max_tokens"] == 50 and "max_completion_tokens" not in sent  # what llama.cpp/Ollama/vLLM read
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


def test_a_server_that_refuses_json_schema_gets_json_object_from_then_on(settings, openai_server):
    FakeOpenAIServer.refuse_json_schema = True
    chat = OpenAICompatibleChat(settings.model_copy(update={"llm_backend": "openai", "llm_base_url": openai_server}))
    assert json.loads(chat.complete_json(ASK, SCHEMA, 50).text)["svar"] == "ja"
    chat.complete_json(ASK, SCHEMA, 50)
    kinds = [r["response_format"]["type"] for r in FakeOpenAIServer.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert '"enum":["ja","nej"]' in FakeOpenAIServer.requests[-1]["messages"][0]["content"]  # the schema, as text


def test_reasoning_model_servers_get_the_limit_as_max_completion_tokens(settings, openai_server):
    chat = OpenAICompatibleChat(settings.model_copy(update={
        "llm_backend": "openai", "llm_base_url": openai_server, "llm_max_tokens_param": "max_completion_tokens"}))
    chat.complete_json(ASK, SCHEMA, 50)
    sent = FakeOpenAIServer.requests[0]
    assert sent["max_completion_tokens"] == 50 and "max_tokens" not in sent


def test_a_server_error_that_names_json_schema_also_means_use_json_object(settings, openai_server):
    FakeOpenAIServer.refuse_json_schema, FakeOpenAIServer.refusal_status = True, 500
    chat = OpenAICompatibleChat(settings.model_copy(update={"llm_backend": "openai", "llm_base_url": openai_server}))
    assert json.loads(chat.complete_json(ASK, SCHEMA, 50).text)["antal"] == 2
    kinds = [r["response_format"]["type"] for r in FakeOpenAIServer.requests]
    assert kinds[-1] == "json_object" and set(kinds[:-1]) == {"json_schema"}  # the client retries a 500 once


def test_an_answer_cut_off_by_the_token_limit_comes_back_as_such_for_validation_to_retry(settings, openai_server):
    FakeOpenAIServer.cut_off = True
    chat = OpenAICompatibleChat(settings.model_copy(update={"llm_backend": "openai", "llm_base_url": openai_server}))
    reply = chat.complete_json(ASK, SCHEMA, 5)
    assert (reply.text, reply.finish_reason, reply.tokens_out) == ('{"svar": ', "length", 9)


def test_the_server_streams_text_pieces(settings, openai_server):
    chat = OpenAICompatibleChat(settings.model_copy(update={"llm_backend": "openai", "llm_base_url": openai_server}))
    assert "".join(chat.stream(ASK, 20)) == "Hej med dig"


@pytest.mark.real_llm
def test_the_bundled_model_answers_json_for_a_schema_and_streams_text(settings):
    chat = LlamaCppChat(settings)
    reply = chat.complete_json(ASK, SCHEMA, 40)
    assert reply.finish_reason == "stop"
    answer = json.loads(reply.text)
    assert answer["svar"] in {"ja", "nej"} and isinstance(answer["antal"], int)
    assert reply.tokens_in > 0 and reply.tokens_out > 0 and reply.seconds > 0
    pieces = list(chat.stream([ChatMessage(role="user", content="Sig hej på dansk.")], 8))
    assert len(pieces) >= 2 and "".join(pieces).strip()


@pytest.mark.real_llm
def test_instances_for_the_same_file_share_one_loaded_model(settings):
    from assistant.llm import chat_models as llm

    first, second = LlamaCppChat(settings), LlamaCppChat(settings)
    assert first._model() is second._model()
    assert len([k for k in llm._loaded if k[0] == str(first._path())]) == 1


@pytest.mark.real_llm
def test_a_call_past_its_time_limit_ends_cut_off_instead_of_running_on(settings):
    from assistant.llm.limits import time_limit

    chat = LlamaCppChat(settings.model_copy(update={"llm_call_seconds": 2.0}))
    story = [ChatMessage(role="user", content="Skriv en lang historie om en dag på et hospital.")]
    chat.complete_json(story, {"type": "object", "properties": {"a": {"type": "string"}}}, 1)  # loads the model
    reply = chat.complete_json(story, {"type": "object", "properties": {"historie": {"type": "string"}}}, 2000)
    assert reply.finish_reason == "length" and 0 < reply.tokens_out < 200  # ~10 tokens/s for 2 s, not 2,000
    with time_limit(1.0):  # an enclosing budget narrows the call's own limit
        pieces = list(chat.stream(story, 2000))
    assert 0 < len(pieces) < 200
