"""Chat models behind one protocol: bundled llama.cpp or any OpenAI-compatible server."""

from __future__ import annotations

from assistant.llm.chat_models import (
    ChatMessage,
    ChatModel,
    ChatReply,
    LlamaCppChat,
    OpenAICompatibleChat,
    make_chat_model,
)

__all__ = [
    "ChatMessage",
    "ChatModel",
    "ChatReply",
    "LlamaCppChat",
    "OpenAICompatibleChat",
    "make_chat_model",
]
