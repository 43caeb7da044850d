"""Staff questions answered from approved learning points, every sentence cited."""

from __future__ import annotations

from assistant.chat.ask import Citation, answer_question, rate_answer, similar_cases, stream_answer

__all__ = ["Citation", "answer_question", "rate_answer", "similar_cases", "stream_answer"]
