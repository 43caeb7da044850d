"""Feedback to the reporter: AI drafts a short Danish message, the learning agent edits and releases it."""

from __future__ import annotations

from assistant import audit
from assistant.auth import Actor, Permission
from assistant.errors import InvalidInput, NotFound
from assistant.i18n import translate
from assistant.review.case_thread import Author, MessageKind, add_message
from assistant.store import Database
from assistant.store.tables import Case, Feedback, utcnow


def draft_feedback(db: Database, chat, actor: Actor, case_id: str, *, notes: str = "") -> str:
    """A first version of the message for the agent to edit; nothing is stored or sent by drafting."""
    from prompts import load_prompt

    actor.require(Permission.decide)
    with db.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
        points = case.drafts[-1].learning_points if case.drafts else []
        approved = [p for p in points if p.status == "approved"]
        rejected = sum(p.status == "rejected" for p in points)
        listing = "\n".join(f"- {p.title}: {'; '.join(p.what_went_well) or p.what_happened}" for p in approved)
    prompt = load_prompt("reporter_feedback", "da")
    messages = prompt.render(approved=listing or "(ingen)", rejected=rejected, notes=notes or "(ingen)")
    text = "".join(chat.stream(messages, max_tokens=220)).strip()
    return text or translate("feedback.fallback", "da", approved=len(approved))


def save_feedback(db: Database, actor: Actor, case_id: str, text: str) -> None:
    """Keep the agent's edited message as a draft (not yet visible to the reporter)."""
    _store(db, actor, case_id, text, release=False)


def release_feedback(db: Database, actor: Actor, case_id: str, text: str) -> None:
    """Make the message visible to the reporter (by receipt code or login); audited."""
    _store(db, actor, case_id, text, release=True)


def _store(db: Database, actor: Actor, case_id: str, text: str, *, release: bool) -> None:
    actor.require(Permission.decide)
    text = (text or "").strip()
    if not text:
        raise InvalidInput("feedback.empty")
    with db.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
        row = case.feedback or Feedback(case_id=case_id, text=text)
        before = {"text": row.text, "status": row.status} if case.feedback else None
        row.text = text
        if release:
            row.status, row.released_by, row.released_at = "released", actor.name, utcnow()
        session.add(row)
        audit.record(session, actor, "feedback_released" if release else "feedback_saved", case_id=case_id,
                     before=before, after={"text": text, "status": row.status or "draft"})
        if release:  # the reporter reads it in the case's thread, where it is told the case is decided
            add_message(session, case_id, Author.agent, MessageKind.feedback, text, actor.name)
