"""The thread between a case's learning agent and its reporter: many messages, in the order they were written.

The reporter reads and writes by receipt code (no account) or logged in; the agent in Review. Every message is
pseudonymised with the case's own map before it is stored (a name keeps the placeholder it has in the transcript)
and audited. The point questions of ``send_back``, the team's answers and the released feedback are written to
the thread as well (``kind`` "question", "answer", "feedback"), so the reporter sees one conversation.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import audit
from assistant.auth import Actor, Permission
from assistant.cases import LookupLimiter, find_case, receipt_hash
from assistant.errors import InvalidInput, NotFound
from assistant.references import point_reference
from assistant.store import Database
from assistant.store.tables import Case, CaseMessage, LearningPoint, PseudonymEntry, utcnow

MESSAGE_MAX_CHARS = 4000


class Author(StrEnum):
    agent = "agent"
    reporter = "reporter"


class MessageKind(StrEnum):
    message = "message"
    question = "question"  # a learning point sent back with a question (review.send_back)
    answer = "answer"  # the team's answer to that question
    feedback = "feedback"  # the agent's released message when the case is decided


class ThreadMessage(BaseModel):
    """One message as both sides see it: who wrote it (agent or reporter, never a name), when, what."""

    id: int
    author: Author
    kind: MessageKind
    body: str
    written_at: dt.datetime
    point_reference: str = ""  # the learning point a question or answer is about


class MessageLimiter(LookupLimiter):
    """At most ``per_minute`` reporter messages per case (counted by case, so a new address does not help)."""

    def __init__(self, per_minute: int, **kwargs) -> None:
        super().__init__(per_minute, message_key="thread.too_many_messages", **kwargs)


def add_message(session: Session, case_id: str, author: Author, kind: MessageKind, body: str, written_by: str,
                point_id: str | None = None) -> CaseMessage:
    """Add one already pseudonymised (or agent-written) message to the caller's unit of work."""
    message = CaseMessage(case_id=case_id, author=author.value, kind=kind.value, body=body,
                          learning_point_id=point_id, written_by=written_by, written_at=utcnow())
    session.add(message)
    session.flush()
    return message


def thread_of(session: Session, case: Case) -> list[ThreadMessage]:
    """The case's messages, oldest first."""
    rows = session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id)).all()
    point_ids = {r.learning_point_id for r in rows if r.learning_point_id}
    numbers = dict(session.execute(select(LearningPoint.id, LearningPoint.number)
                                   .where(LearningPoint.id.in_(point_ids))).all()) if point_ids else {}
    return [
        ThreadMessage(id=r.id, author=Author(r.author), kind=MessageKind(r.kind), body=r.body, written_at=r.written_at,
                      point_reference=point_reference(case.reference, numbers[r.learning_point_id])
                      if r.learning_point_id in numbers else "")
        for r in rows
    ]


def thread_for_case(db: Database, actor: Actor, case_id: str) -> list[ThreadMessage]:
    """The thread as the learning agent sees it in Review (by case id or reference)."""
    actor.require(Permission.review)
    with db.session() as session:
        return thread_of(session, _case(session, case_id))


def write_to_reporter(db: Database, pseudonymiser, actor: Actor, case_id: str, text: str) -> list[ThreadMessage]:
    """The learning agent's message to the reporter; only those who decide on cases may write. Returns the thread."""
    actor.require(Permission.decide)
    with db.session() as session:
        case_id = _case(session, case_id).id
    return _write(db, pseudonymiser, actor, case_id, Author.agent, text)


def reply_by_receipt(db: Database, pseudonymiser, code: str, text: str, *, client: str | None = None,
                     limiter: LookupLimiter | None = None,
                     message_limiter: LookupLimiter | None = None) -> list[ThreadMessage]:
    """The reporter's message, written with the case's receipt code. Returns the thread.

    ``limiter`` counts the call like a lookup by ``client`` (codes cannot be tried through this door); a wrong
    code is the same NotFound as on the status page. ``message_limiter`` counts messages per case.
    """
    from assistant.review.reporter_status import RECEIPT_HOLDER

    if limiter is not None:
        limiter.check(client or "unknown")
    with db.session() as session:
        case = session.scalar(select(Case).where(Case.receipt_hash == receipt_hash(code)))
        if case is None:
            raise NotFound("record.not_found", what="record.what.receipt")
        case_id = case.id
    _check_length(text)
    if message_limiter is not None:
        message_limiter.check(case_id)
    return _write(db, pseudonymiser, RECEIPT_HOLDER, case_id, Author.reporter, text)


def reply_as_reporter(db: Database, pseudonymiser, actor: Actor, case_id: str, text: str, *,
                      message_limiter: LookupLimiter | None = None) -> list[ThreadMessage]:
    """The logged-in reporter's message on one of their own cases; anyone else's case is NotFound."""
    with db.session() as session:
        case = find_case(session, case_id)
        if case is None or actor.user_id is None or case.reporter_id != actor.user_id:
            raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
        case_id = case.id
    _check_length(text)
    if message_limiter is not None:
        message_limiter.check(case_id)
    return _write(db, pseudonymiser, actor, case_id, Author.reporter, text)


def _case(session: Session, case_id: str) -> Case:
    case = find_case(session, case_id)
    if case is None:
        raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
    return case


def _check_length(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("thread.message_required")
    if len(text) > MESSAGE_MAX_CHARS:
        raise InvalidInput("thread.message_too_long", chars=len(text), limit=MESSAGE_MAX_CHARS)
    return text


def _write(db: Database, pseudonymiser, actor: Actor, case_id: str, author: Author,
           text: str) -> list[ThreadMessage]:
    """Pseudonymise with the case's own map (as the intake and the answers do), store, audit; the thread after."""
    from assistant.jobs import known_pseudonyms

    text = _check_length(text)
    known = known_pseudonyms(db, case_id)
    texts, entities = pseudonymiser.pseudonymise_many([text], known=known)
    stored = {e.placeholder for e in known}
    with db.session() as session:
        session.add_all(
            PseudonymEntry(case_id=case_id, placeholder=e.placeholder, entity_type=e.entity_type, original=e.original)
            for e in entities if e.placeholder not in stored
        )
        message = add_message(session, case_id, author, MessageKind.message, texts[0], actor.name)
        audit.record(session, actor, "thread_message", case_id=case_id, note=author.value,
                     after={"message_id": message.id, "author": author.value, "body": message.body})
    with db.session() as session:
        return thread_of(session, session.get(Case, case_id))
