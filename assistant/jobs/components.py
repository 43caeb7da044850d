"""The external models a pipeline needs, built lazily from settings; tests hand in small fakes instead."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.llm import ChatModel
    from assistant.privacy import Pseudonymiser
    from assistant.speech import Transcriber
    from assistant.speech.speakers import SpeakerTurns


@dataclass
class Components:
    """Transcriber, speaker turns, pseudonymiser and chat model; each is loaded on first use and then shared."""

    settings: Settings
    transcriber_: Transcriber | None = None
    pseudonymiser_: Pseudonymiser | None = None
    chat_: ChatModel | None = None
    speaker_turns_: SpeakerTurns | None = None
    # None drafts with assistant.drafting.draft_case; the demo cases hand in drafts written as data instead.
    drafter: Callable[..., Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def transcriber(self) -> Transcriber:
        with self._lock:
            if self.transcriber_ is None:
                from assistant.speech import make_transcriber

                self.transcriber_ = make_transcriber(self.settings)
            return self.transcriber_

    @property
    def pseudonymiser(self) -> Pseudonymiser:
        with self._lock:
            if self.pseudonymiser_ is None:
                from assistant.privacy import Pseudonymiser

                self.pseudonymiser_ = Pseudonymiser(self.settings)
            return self.pseudonymiser_

    @property
    def chat(self) -> ChatModel:
        with self._lock:
            if self.chat_ is None:
                from assistant.llm import make_chat_model

                self.chat_ = make_chat_model(self.settings)
            return self.chat_

    @property
    def speaker_turns(self) -> SpeakerTurns:
        with self._lock:
            if self.speaker_turns_ is None:
                from assistant.speech.speakers import make_speaker_turns

                self.speaker_turns_ = make_speaker_turns(self.settings)
            return self.speaker_turns_
