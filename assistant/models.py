"""The domain's units of work as pydantic models: what crosses every boundary (store, LLM, index, UI)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class Sector(StrEnum):
    hospital = "hospital"
    municipality = "municipality"
    general_practice = "general_practice"
    other = "other"


class Severity(StrEnum):
    """A rough harm estimate on the scale Danish UTH reporting uses; humans confirm it in review."""

    none = "ingen"
    mild = "mild"
    moderate = "moderat"
    severe = "alvorlig"
    fatal = "doedelig"


class IsbarPart(StrEnum):
    """Danish ISBAR: Identifikation, Situation, Baggrund, Analyse, Råd."""

    identifikation = "identifikation"
    situation = "situation"
    baggrund = "baggrund"
    analyse = "analyse"
    raad = "raad"


class SourceKind(StrEnum):
    audio = "audio"
    notes = "notes"
    guide = "guide"
    demo = "demo"  # synthetic cases from `debrief demo load`; `debrief demo clear` removes exactly these


class ReporterType(StrEnum):
    """Who told the case: the team (logged in), or a patient or relative on the open report page."""

    staff = "staff"
    patient = "patient"
    relative = "relative"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Stage(StrEnum):
    """Pipeline stages in order; a job resumes at the first stage not yet committed."""

    decoding = "decoding"
    transcription = "transcription"
    pseudonymisation = "pseudonymisation"
    drafting = "drafting"
    done = "done"


class CaseStatus(StrEnum):
    processing = "processing"
    awaiting_review = "awaiting_review"
    in_review = "in_review"
    decided = "decided"
    failed = "failed"


NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class PendingSegment(BaseModel):
    """A paragraph of typed notes waiting for pseudonymisation; guide notes carry their ISBAR part."""

    text: str
    isbar_part: IsbarPart | None = None


class CaseContext(BaseModel):
    """What the team tells us about the event when they hand in a debrief."""

    sector: Sector = Sector.hospital
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    event_date: dt.date | None = None
    event_type: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    keep_audio: bool = False


class Word(BaseModel):
    """One recognised word: seconds from the start of the recording and how sure the recogniser was (0-1).

    Stored words are pseudonymised like their segment's text (see ``assistant.speech.words.align_words``).
    """

    text: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    probability: float = Field(ge=0, le=1)


class Segment(BaseModel):
    """One timed stretch of speech (or one paragraph of notes, with no times)."""

    index: int = Field(ge=0)
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str
    speaker: str | None = None
    # Empty for typed notes, for backends that give no word confidence, for transcripts stored before words
    # were kept, and for segments a person has corrected (the recogniser's confidence no longer applies).
    words: list[Word] = Field(default_factory=list)


class Transcript(BaseModel):
    """What a transcriber returns: segments in order plus how they were made."""

    segments: list[Segment]
    language: str | None = None
    duration: float = 0.0
    model_id: str

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments)


class PseudonymEntity(BaseModel):
    """A placeholder and the original it hides; stored only in the access-controlled pseudonym map."""

    placeholder: str
    entity_type: str
    original: str


class Evidence(BaseModel):
    """A quote from the (pseudonymised) transcript that supports a learning point."""

    segment_index: int = Field(ge=0)
    quote: NonEmpty


class IsbarSection(BaseModel):
    part: IsbarPart
    text: str
    segment_indices: list[int] = Field(default_factory=list)


class SuggestedAction(BaseModel):
    """A PDSA-style improvement: what to try (plan/do) and how to know it helped (study)."""

    action: NonEmpty
    measure: str = ""


class DraftWarning(BaseModel):
    """Something a drafting check found that the reviewer should see; ``key`` names a translated message."""

    key: str
    params: dict[str, str] = Field(default_factory=dict)


class DraftMethod(StrEnum):
    """How a draft was made: what the reviewer may expect of it."""

    small = "small"  # the LLM chose lines, classified and wrote short fields; the rest is the transcript's words
    rich = "rich"  # the LLM wrote ISBAR sections and whole points (strong models)
    extractive = "extractive"  # the time budget ran out: the transcript's own lines, with rule-based labels


class LearningPointDraft(BaseModel):
    """One learning point as the LLM must produce it (validated; retried on failure)."""

    model_config = ConfigDict(use_enum_values=False)

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    what_happened: NonEmpty
    contributing_factors: list[str] = Field(default_factory=list)
    what_went_well: list[str] = Field(default_factory=list)
    suggested_actions: list[SuggestedAction] = Field(default_factory=list)
    category: str
    severity: Severity = Severity.none
    safety_ii: bool = Field(False, description="True when the point is mainly about what went well.")
    evidence: list[Evidence] = Field(default_factory=list)
    warnings: list[DraftWarning] = Field(default_factory=list)


class Draft(BaseModel):
    """The AI's draft for one case: ISBAR sections and learning points, with provenance."""

    isbar: list[IsbarSection]
    learning_points: list[LearningPointDraft]
    prompt_id: str
    prompt_version: str
    model_id: str
    attempts: int = 1
    tokens_in: int = 0
    tokens_out: int = 0
    method: DraftMethod = DraftMethod.rich
    warnings: list[DraftWarning] = Field(default_factory=list)


class JobProgress(BaseModel):
    """A snapshot of a job for progress bars."""

    job_id: str
    case_id: str
    stage: Stage
    status: JobStatus
    progress: float = Field(0.0, ge=0, le=1)
    error_key: str | None = None
    error: str | None = None
    attempts: int = 0


Role = Literal["reporter", "facilitator", "learning_agent", "staff", "admin", "public"]
