"""Instruct chat models behind one small interface: embedded llama.cpp by default, an OpenAI-compatible server
to scale out.

``make_chat_model(settings)`` picks the backend from ``settings.llm_backend``; orchestration code and tests only
see :class:`ChatModel`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from assistant.compute import machine_slot
from assistant.errors import InvalidInput, ModelUnavailable
from assistant.llm.limits import extend_limit, seconds_left
from assistant.settings import Settings
from prompts import ChatMessage

log = logging.getLogger(__name__)

__all__ = [
    "ChatMessage",
    "ChatModel",
    "ChatReply",
    "LlamaCppChat",
    "OpenAICompatibleChat",
    "make_chat_model",
]


class ChatReply(BaseModel):
    """What one JSON completion returned, with the numbers that tell whether it was cut off and what it cost."""

    text: str
    finish_reason: str | None = Field(None, description="'stop' when complete; 'length' when max_tokens cut it off.")
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0


@runtime_checkable
class ChatModel(Protocol):
    """An instruct model that answers chat messages, as JSON for a schema or as a stream of text."""

    model_id: str

    def complete_json(self, messages: list[ChatMessage], schema: dict, max_tokens: int) -> ChatReply:
        """One answer as JSON following ``schema`` (as strictly as the backend can enforce it)."""
        ...

    def stream(self, messages: list[ChatMessage], max_tokens: int) -> Iterator[str]:
        """The answer as text pieces, as they are generated."""
        ...


def make_chat_model(settings: Settings) -> ChatModel:
    """The chat model the settings ask for; nothing is loaded or contacted until first use."""
    if settings.llm_backend == "openai":
        return OpenAICompatibleChat(settings)
    return LlamaCppChat(settings)


# -- embedded default: llama.cpp -------------------------------------------------------------------------------


class _Loaded:
    """One llama.cpp model in memory and the lock that lets one generation run on it at a time."""

    def __init__(self, llm: Any):
        self.llm = llm
        self.lock = threading.Lock()


_loaded: dict[tuple, _Loaded] = {}
_loading = threading.Lock()


@lru_cache(maxsize=32)
def _compact_json_grammar(schema_json: str) -> Any:
    """llama.cpp's JSON-schema grammar without the optional spaces between tokens.

    Left free, the 1.5B model writes ``{ "a": [ 1 ] }``, spending slow output tokens (~12/s on 2 cores) on spaces.
    """
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    gbnf = json_schema_to_gbnf(schema_json)
    gbnf = re.sub(r"^space ::= .*$", 'space ::= ""', gbnf, count=1, flags=re.MULTILINE)
    return LlamaGrammar.from_string(gbnf, verbose=False)


class LlamaCppChat:
    """The embedded default: a GGUF file run in-process by llama-cpp-python (bundled Qwen2.5-Coder-1.5B unless
    ``settings.llm_model_path`` names another). Loaded on first use, once per process, shared by all instances."""

    def __init__(self, settings: Settings):
        from assistant.model_cache import QWEN_GGUF

        self.settings = settings
        self.model_id = settings.llm_model_path.stem if settings.llm_model_path else QWEN_GGUF

    def _model(self) -> _Loaded:
        s = self.settings
        path = self._path()
        key = (str(path), s.llm_context_tokens, s.cpu_threads, s.llm_seed)
        with _loading:
            if key not in _loaded:
                _loaded[key] = _Loaded(self._load(path))
            return _loaded[key]

    def _path(self) -> Path:
        if self.settings.llm_model_path is None:
            from assistant.model_cache import qwen_gguf_path

            return qwen_gguf_path(self.settings)
        path = Path(self.settings.llm_model_path).expanduser()
        if not path.is_file():
            raise ModelUnavailable("model.unavailable", name=str(path), reason="file not found")
        return path

    def _load(self, path: Path) -> Any:
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - the package is a hard dependency
            raise ModelUnavailable("model.unavailable", name=self.model_id, reason=f"llama-cpp-python: {exc}") from exc
        s = self.settings
        started = time.perf_counter()
        try:
            llm = Llama(
                model_path=str(path),
                n_ctx=s.llm_context_tokens,
                n_threads=s.cpu_threads,
                seed=s.llm_seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelUnavailable("model.unavailable", name=str(path), reason=str(exc)) from exc
        log.info("loaded %s in %.1f s", path.name, time.perf_counter() - started)
        return llm

    def complete_json(self, messages: list[ChatMessage], schema: dict, max_tokens: int) -> ChatReply:
        """JSON constrained by a grammar built from ``schema``; ``finish_reason`` is "length" when it was cut off
        by ``max_tokens`` or by the call's time limit."""
        pieces: list[str] = []
        finish: list[str | None] = [None]
        loaded = self._model()
        started = time.perf_counter()
        with loaded.lock:
            for piece, reason in self._generate(loaded, messages, max_tokens, _compact_json_grammar(
                    json.dumps(schema, sort_keys=False))):
                pieces.append(piece)
                finish[0] = reason or finish[0]
            in_context = loaded.llm.n_tokens  # the prompt and what was generated, as usage would count them
        tokens_out = sum(1 for piece in pieces if piece)  # one streamed piece per generated token
        return ChatReply(text="".join(pieces), finish_reason=finish[0], tokens_out=tokens_out,
                         tokens_in=max(0, in_context - tokens_out), seconds=time.perf_counter() - started)

    def stream(self, messages: list[ChatMessage], max_tokens: int) -> Iterator[str]:
        """Text pieces as llama.cpp generates them; the model stays locked until the stream ends or is closed."""
        loaded = self._model()
        with loaded.lock:
            for piece, reason in self._generate(loaded, messages, max_tokens, None):
                if reason == "length" and not piece:
                    log.warning("an answer was cut off at its token or time limit")
                if piece:
                    yield piece

    def _generate(self, loaded: _Loaded, messages: list[ChatMessage], max_tokens: int,
                  grammar: Any) -> Iterator[tuple[str, str | None]]:
        """(text piece, finish reason) as llama.cpp streams them, inside the machine's compute slot; stops at the
        call's time limit ("length"). Streaming is how a generation can be stopped: closing it ends the loop."""
        with machine_slot(self.settings.compute_dir, self.settings.compute_slots, "llm") as waited:
            extend_limit(waited)  # queueing for the machine is not the caller's budget
            ends = time.monotonic() + seconds_left(self.settings.llm_call_seconds)
            try:
                chunks = loaded.llm.create_chat_completion(
                    messages=[m.model_dump() for m in messages],
                    grammar=grammar,
                    temperature=self.settings.llm_temperature,
                    max_tokens=max_tokens,
                    seed=self.settings.llm_seed,
                    stream=True,
                )
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    yield choice["delta"].get("content") or "", choice.get("finish_reason")
                    if time.monotonic() >= ends:
                        chunks.close()
                        yield "", "length"
                        return
            except ValueError as exc:  # llama.cpp's way to say the prompt does not fit the context
                raise InvalidInput("draft.prompt_too_long", reason=str(exc)) from exc


def _with_schema(messages: list[ChatMessage], schema: dict) -> list[ChatMessage]:
    note = "JSON schema:\n" + json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    if messages and messages[0].role == "system":
        return [ChatMessage(role="system", content=messages[0].content + "\n\n" + note), *messages[1:]]
    return [ChatMessage(role="system", content=note), *messages]


def _refuses_json_schema(exc: Exception) -> bool:
    """Servers say "no json_schema" differently: OpenAI and vLLM with 400, others with 422, llama.cpp's with 500."""
    status = getattr(exc, "status_code", None)
    text = str(exc).lower()
    return status == 400 or (status in (422, 500) and ("json_schema" in text or "response_format" in text))


def _cut_off_reply(completion: Any, seconds: float) -> ChatReply:
    usage = completion.usage
    return ChatReply(
        text=completion.choices[0].message.content or "",
        finish_reason="length",
        tokens_in=usage.prompt_tokens if usage else 0,
        tokens_out=usage.completion_tokens if usage else 0,
        seconds=seconds,
    )


# -- scale-out: any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, Azure OpenAI) -----------------


class OpenAICompatibleChat:
    """A model served over the OpenAI chat API, through LangChain's ``ChatOpenAI``. Asks for ``json_schema``
    output and falls back to ``json_object`` (schema then only in the prompt) on servers that refuse it."""

    def __init__(self, settings: Settings):
        if not settings.llm_base_url:
            raise ModelUnavailable(
                "model.unavailable", name=settings.llm_model, reason="DEBRIEF_LLM_BASE_URL is not set"
            )
        from langchain_openai import ChatOpenAI

        self.settings = settings
        self.model_id = settings.llm_model
        self._client = ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            temperature=settings.llm_temperature,
            seed=settings.llm_seed,
            max_retries=1,
        )
        self._json_schema_supported = True

    @staticmethod
    def _to_langchain(messages: list[ChatMessage]) -> list:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        return [kinds[m.role](content=m.content) for m in messages]

    def _limit(self, max_tokens: int) -> dict:
        """The answer limit under the name this server reads (LangChain itself only sends the newer name)."""
        if self.settings.llm_max_tokens_param == "max_tokens":
            return {"extra_body": {"max_tokens": max_tokens}}
        return {"max_tokens": max_tokens}

    def _seconds(self) -> float:
        """The call's time limit (at least a second, so a spent budget still gets a prompt, clear refusal)."""
        return max(1.0, seconds_left(self.settings.llm_call_seconds))

    def _unavailable(self, exc: Exception) -> ModelUnavailable:
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        name = f"{self.model_id} @ {self.settings.llm_base_url}"
        return ModelUnavailable("model.unavailable", name=name, reason=reason)

    def complete_json(self, messages: list[ChatMessage], schema: dict, max_tokens: int) -> ChatReply:
        """JSON for ``schema`` from the server; remembers a refusal of ``json_schema`` and stops asking."""
        import openai

        started = time.perf_counter()
        while True:
            if self._json_schema_supported:
                fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": False}}
                lc_messages = self._to_langchain(messages)
            else:
                # The server will not enforce the schema, so the model at least gets to read it.
                fmt = {"type": "json_object"}
                lc_messages = self._to_langchain(_with_schema(messages, schema))
            try:
                message = self._client.invoke(lc_messages, response_format=fmt, timeout=self._seconds(),
                                              **self._limit(max_tokens))
                break
            except openai.LengthFinishReasonError as exc:
                # A cut-off answer is still an answer: drafting's validation sees "length" and retries, as it
                # does with the embedded model (the client refuses to parse it when a response_format was set).
                return _cut_off_reply(exc.completion, time.perf_counter() - started)
            except openai.APIStatusError as exc:
                if not (self._json_schema_supported and _refuses_json_schema(exc)):
                    raise self._unavailable(exc) from exc
                first_line = (str(exc).splitlines() or [""])[0]
                log.warning("%s refused json_schema output (%s); using json_object", self.model_id, first_line)
                self._json_schema_supported = False
            except openai.APIError as exc:
                raise self._unavailable(exc) from exc
        usage = message.usage_metadata or {}
        content = message.content if isinstance(message.content, str) else json.dumps(message.content)
        return ChatReply(
            text=content,
            finish_reason=message.response_metadata.get("finish_reason"),
            tokens_in=usage.get("input_tokens", 0),
            tokens_out=usage.get("output_tokens", 0),
            seconds=time.perf_counter() - started,
        )

    def stream(self, messages: list[ChatMessage], max_tokens: int) -> Iterator[str]:
        """Text pieces as the server sends them."""
        import openai

        try:
            for chunk in self._client.stream(self._to_langchain(messages), timeout=self._seconds(),
                                             **self._limit(max_tokens)):
                if isinstance(chunk.content, str) and chunk.content:
                    yield chunk.content
        except openai.APIError as exc:
            raise self._unavailable(exc) from exc
