"""SQLAlchemy tables of the record store. Alembic migrations in ``assistant/store/migrations`` mirror these."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from assistant.models import Stage


def new_id() -> str:
    """Opaque random ids: never derived from content or people."""
    return uuid.uuid4().hex


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LoginSession(Base):
    """A login to the app, so it survives a restart; only the token's hash is kept (a stolen copy of the store
    cannot be replayed as a cookie). Ends after ``session_hours``, at log-out, or with its account."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class OidcIdentity(Base):
    """A person at the region's identity provider (issuer + subject, the only stable pair OpenID Connect
    promises) and the local account their single sign-on logs into; that account has no password."""

    __tablename__ = "oidc_identities"

    issuer: Mapped[str] = mapped_column(String(255), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """A token one integration uses on the REST API, with its scopes. Only a hash of the secret is kept; the
    secret is shown once, at creation. Revoked tokens stay, so the audit trail can still name them."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the secret's first characters, to tell tokens apart in lists
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ReferenceCounter(Base):
    """The last case number given out in a year (``assistant.store.numbering`` bumps it atomically at intake)."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # What people read and say: "UTH-2026-0142" (assistant.references). Set before every insert; nullable only
    # because SQLite cannot add a NOT NULL column without rebuilding the table, which would cascade deletes.
    reference: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reporter_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The API token that handed it in (no foreign key: tokens are revoked, never deleted), so a replay by the same
    # token gets this case back; migration 0014.
    api_token_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sector: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(200), default="")
    event_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    event_type: Mapped[str] = mapped_column(String(200), default="")
    guide_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    keep_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(32), default="processing")
    # Who told it: "staff" (logged in), or "patient" / "relative" from the open report page.
    reporter_type: Mapped[str] = mapped_column(String(16), default="staff", server_default="staff")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    audio: Mapped[list[AudioFile]] = relationship(back_populates="case", cascade="all, delete-orphan")
    transcript: Mapped[Transcript | None] = relationship(back_populates="case", cascade="all, delete-orphan")
    drafts: Mapped[list[Draft]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Draft.created_at"
    )
    jobs: Mapped[list[Job]] = relationship(back_populates="case", cascade="all, delete-orphan")
    pseudonyms: Mapped[list[PseudonymEntry]] = relationship(cascade="all, delete-orphan")
    feedback: Mapped[Feedback | None] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        Index("ix_cases_status_created", "status", "created_at"),
        Index("ux_cases_reference", "reference", unique=True),
    )


class AudioFile(Base):
    """An uploaded recording, stored under a generated name and deleted when its retention ends."""

    __tablename__ = "audio_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[float] = mapped_column(Float)
    stored_name: Mapped[str] = mapped_column(String(80))
    delete_after: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    case: Mapped[Case] = relationship(back_populates="audio")


class Transcript(Base):
    """The pseudonymised transcript; raw text is never stored."""

    __tablename__ = "transcripts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    model_id: Mapped[str] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # When the team said the text is right: its recording goes then unless it consented (assistant.jobs.recordings).
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    case: Mapped[Case] = relationship(back_populates="transcript")
    segments: Mapped[list[Segment]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", order_by="Segment.index"
    )


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transcript_id: Mapped[str] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    speaker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # [{"text", "start", "end", "probability"}], pseudonymised like ``text``; empty before words were kept.
    words: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")

    transcript: Mapped[Transcript] = relationship(back_populates="segments")

    __table_args__ = (UniqueConstraint("transcript_id", "index"),)


class PseudonymEntry(Base):
    """Placeholder → original. Kept apart, never exported, read only by admins; erased with the case."""

    __tablename__ = "pseudonym_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    placeholder: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(20))
    original: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("case_id", "placeholder"),)


class Draft(Base):
    """One AI draft of a case, with the prompt version and model that made it."""

    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    prompt_id: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[str] = mapped_column(String(16))
    model_id: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    isbar: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # "small" (the LLM chose lines and wrote short fields), "rich" (it wrote everything), "extractive" (its time ran
    # out and the transcript filled the rest); warnings are {"key", "params"} for the reviewer, translated on show.
    method: Mapped[str] = mapped_column(String(16), default="rich", server_default="rich")
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="drafts")
    learning_points: Mapped[list[LearningPoint]] = relationship(
        back_populates="draft", cascade="all, delete-orphan", order_by="LearningPoint.position"
    )


class LearningPoint(Base):
    """A learning point: drafted by AI, edited and decided by a learning agent."""

    __tablename__ = "learning_points"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    draft_id: Mapped[str] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The point's number within its case ("UTH-2026-0142/2"); a redraft's points continue the count. Set before
    # every insert (assistant.store.numbering), nullable for the same reason as Case.reference.
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    what_happened: Mapped[str] = mapped_column(Text)
    contributing_factors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    what_went_well: Mapped[list[Any]] = mapped_column(JSON, default=list)
    suggested_actions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    safety_ii: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")  # the drafting checks' flags
    status: Mapped[str] = mapped_column(String(16), default="draft")
    visibility: Mapped[str] = mapped_column(String(16), default="staff")
    reject_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # "Send back with a question": what the agent asked the team, and their answer (pseudonymised before storing).
    reporter_question: Mapped[str | None] = mapped_column(Text, nullable=True)
    reporter_answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    reporter_answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    draft: Mapped[Draft] = relationship(back_populates="learning_points")

    __table_args__ = (
        Index("ix_learning_points_status", "status"),
        Index("ux_learning_points_case_number", "case_id", "number", unique=True),
    )


class Job(Base):
    """Work on one case, staged and leased so a crashed worker's job is picked up again exactly once."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="ingest")
    stage: Mapped[str] = mapped_column(String(32), default=Stage.decoding.value)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Higher runs first; public reports queue below staff work so anonymous load cannot starve it.
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Typed notes wait here, un-pseudonymised, only until the transcript stage commits; then cleared.
    pending_segments: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    # ISBAR sections a facilitator's guide gave directly (pseudonymised), waiting for the drafting step.
    guide_isbar: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    case: Mapped[Case] = relationship(back_populates="jobs")

    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)


class CaseLink(Base):
    """A patient's or relative's account linked to the staff case about the same event, by a learning agent."""

    __tablename__ = "case_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    account_case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    linked_by: Mapped[str] = mapped_column(String(120))
    linked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("staff_case_id", "account_case_id", name="ux_case_links_pair"),)


class AuditEvent(Base):
    """Append-only record of who did what, when, with before/after. Database triggers refuse edits."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    learning_point_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Feedback(Base):
    """The learning agent's message to the reporter: drafted by AI, edited, released by a human."""

    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    model_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prompt: Mapped[str | None] = mapped_column(String(80), nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class AnswerRating(Base):
    """Thumbs up/down on a chat answer, kept for evaluating retrieval and answers."""

    __tablename__ = "answer_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    cited_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)


class SimilarityJudgement(Base):
    """A learning agent's "similar" / "not similar" on a pair of cases, kept as evaluation data for the search.

    The pair is unordered (``case_a_id`` < ``case_b_id``); one row per agent and pair, so a later judgement replaces
    the earlier one (the audit log keeps both). Goes with either case when it is erased."""

    __tablename__ = "similarity_judgements"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_a_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    case_b_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    judged_by: Mapped[str] = mapped_column(String(120))
    similar: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    judged_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("case_a_id", "case_b_id", "judged_by", name="ux_similarity_judgements_pair_agent"),
    )


class ActionFollowUp(Base):
    """Follow-up of one suggested action on an approved learning point (PDSA): who (a role), by when, how far."""

    __tablename__ = "action_follow_ups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    learning_point_id: Mapped[str] = mapped_column(ForeignKey("learning_points.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(Text)
    measure: Mapped[str] = mapped_column(Text, default="")
    owner_role: Mapped[str] = mapped_column(String(120), default="")
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_action_follow_ups_status_due", "status", "due_date"),)


class CaseMessage(Base):
    """One message in the thread between a case's learning agent and its reporter, in the order written.

    ``author`` is "agent" or "reporter"; ``kind`` says what it is: a free "message", a point's "question" and its
    "answer", or the released "feedback". The text is stored pseudonymised; the case's erasure takes the thread."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="message")
    body: Mapped[str] = mapped_column(Text)
    learning_point_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    written_by: Mapped[str] = mapped_column(String(120))  # the audit name; never shown to the reporter
    written_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
