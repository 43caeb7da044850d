"""Conversation guides for facilitators, kept as YAML data and validated here; adding a guide needs no code.

A guide lives in ``guides/<id>.yaml`` (or in a site's own folder passed as ``extra_dir``)::

    id: hot_debrief            # must match the file name
    version: "1"               # stored with every case run from the guide; bump it on any change
    kind: debrief              # debrief | handover | positive
    title: {da: ..., en: ...}  # every text is a mapping with a required Danish and an English text
    description: {da: ..., en: ...}
    principles: [ingen_navne, ...]   # optional: ids from principles.yaml; default all of them
    phases:
      - id: hvad_skete_der
        title / purpose: {da, en}
        minutes: 5             # suggested time, 1..60
        isbar_part: situation  # identifikation | situation | baggrund | analyse | raad | null
        questions: [{da, en}, ...]   # at least one
        tips / reminders / good_looks_like: [{da, en}, ...]   # optional

``principles.yaml`` (the blame-free principles shown to facilitators) and ``isbar.yaml`` (the ISBAR part names)
are shared data, not guides.

Notes map to ISBAR by each phase's ``isbar_part``, in phase order. Notes from a phase without a part
(the framing or closing round) count as Råd: what a team agrees at the end is what it takes with it, and nothing
a facilitator wrote is silently dropped. See :func:`notes_to_isbar`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

GUIDES_DIR = Path(__file__).resolve().parent
PRINCIPLES_FILE = "principles.yaml"
ISBAR_FILE = "isbar.yaml"
_SHARED_FILES = frozenset({PRINCIPLES_FILE, ISBAR_FILE})
_ID = r"^[a-z][a-z0-9_]*$"

IsbarPartId = Literal["identifikation", "situation", "baggrund", "analyse", "raad"]
"""The five Danish ISBAR parts; the same values as ``assistant.models.IsbarPart`` (guides may not import it)."""
ISBAR_PARTS: tuple[IsbarPartId, ...] = ("identifikation", "situation", "baggrund", "analyse", "raad")
UNMAPPED_NOTES_PART: IsbarPartId = "raad"
"""Where notes from a phase without an ISBAR part go."""

Language = Literal["da", "en"]

__all__ = [
    "ISBAR_PARTS",
    "UNMAPPED_NOTES_PART",
    "Guide",
    "GuideError",
    "GuideInvalid",
    "GuideNotFound",
    "IsbarPartId",
    "LocalText",
    "Phase",
    "Principle",
    "isbar_label",
    "list_guides",
    "load_guide",
    "load_guide_file",
    "load_principles",
    "notes_to_isbar",
    "notes_to_text",
    "phase_notes",
]


class GuideError(ValueError):
    """Something is wrong with a guide or with what was asked of it."""


class GuideNotFound(GuideError):
    """No guide has the requested id."""


class GuideInvalid(GuideError):
    """A guide file does not match the schema; the message names the file and each bad field."""

    def __init__(self, path: Path | str, errors: list[str]) -> None:
        self.path = Path(path)
        self.errors = list(errors)
        super().__init__("\n".join(f"{self.path.name}: {error}" for error in self.errors))


Text = Annotated[str, StringConstraints(strip_whitespace=True)]
RequiredText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class LocalText(BaseModel):
    """A text in Danish (required) and English (shown in Danish when missing)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    da: RequiredText
    en: Text = ""

    def get(self, language: str) -> str:
        """The text in ``language``, falling back to Danish."""
        return self.en if language == "en" and self.en else self.da


class Principle(BaseModel):
    """A blame-free principle a facilitator reads out or keeps in view."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_ID)
    text: LocalText
    why: LocalText | None = None


class Phase(BaseModel):
    """One step of a conversation; its notes go to ``isbar_part`` in the draft."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_ID)
    title: LocalText
    purpose: LocalText
    minutes: int = Field(ge=1, le=60)
    questions: list[LocalText] = Field(min_length=1)
    tips: list[LocalText] = Field(default_factory=list)
    reminders: list[LocalText] = Field(default_factory=list)
    good_looks_like: list[LocalText] = Field(default_factory=list)
    isbar_part: IsbarPartId | None


def _version_as_text(value: Any) -> Any:
    # Authors write `version: 2`; it is still a label, not a number.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class Guide(BaseModel):
    """A loaded, validated conversation guide; ``id`` and ``version`` are stored with each case run from it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_ID)
    version: Annotated[str, BeforeValidator(_version_as_text), StringConstraints(min_length=1)]
    title: LocalText
    description: LocalText
    kind: Literal["debrief", "handover", "positive"]
    phases: list[Phase] = Field(min_length=1)
    # Left out, a guide shows every principle; None is turned into that list before validation.
    principles: list[Principle] = Field(default=None, validate_default=True)  # type: ignore[assignment]

    @field_validator("principles", mode="before")
    @classmethod
    def _principles_by_id(cls, value: Any) -> Any:
        if value is None:
            return list(load_principles())
        if not isinstance(value, list):
            return value
        catalogue = {p.id: p for p in load_principles()}
        resolved = []
        for item in value:
            if isinstance(item, str):
                if item not in catalogue:
                    raise ValueError(
                        f"ukendt princip {item!r}; kendte: {sorted(catalogue)} / unknown principle {item!r}"
                    )
                resolved.append(catalogue[item])
            else:
                resolved.append(item)
        return resolved

    @model_validator(mode="after")
    def _phases_fit(self) -> Guide:
        seen: set[str] = set()
        for phase in self.phases:
            if phase.id in seen:
                raise ValueError(f"fasen {phase.id!r} findes to gange / duplicate phase id {phase.id!r}")
            seen.add(phase.id)
        if self.kind == "handover":
            parts = tuple(p.isbar_part for p in self.phases)
            if parts != ISBAR_PARTS:
                raise ValueError(
                    "en ISBAR-guide skal have én fase pr. del i rækkefølgen identifikation, situation, baggrund, "
                    f"analyse, raad / a handover guide needs one phase per ISBAR part in order; got {list(parts)}"
                )
        return self

    @property
    def total_minutes(self) -> int:
        """Suggested length of the whole conversation."""
        return sum(p.minutes for p in self.phases)

    def phase(self, phase_id: str) -> Phase:
        """The phase with ``phase_id``; raises :class:`GuideError` naming the guide's phases."""
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise GuideError(f"guide {self.id!r} has no phase {phase_id!r}; phases: {[p.id for p in self.phases]}")


# Danish first, then pydantic's own English words, so both authors and logs understand the problem.
_DANISH_PROBLEMS = {
    "missing": "feltet mangler",
    "extra_forbidden": "ukendt felt (stavefejl?)",
    "string_too_short": "teksten må ikke være tom",
    "string_type": "skal være en tekst",
    "string_pattern_mismatch": "kun små bogstaver a-z, tal og _ (begynd med et bogstav)",
    "int_parsing": "skal være et helt tal",
    "int_type": "skal være et helt tal",
    "greater_than_equal": "tallet er for lille",
    "less_than_equal": "tallet er for stort",
    "literal_error": "ugyldig værdi",
    "list_type": "skal være en liste",
    "model_type": "skal være en mapping (fx {da: ..., en: ...})",
    "model_attributes_type": "skal være en mapping (fx {da: ..., en: ...})",
}
_DANISH_TOO_SHORT = {
    "questions": "mindst ét spørgsmål kræves",
    "phases": "mindst én fase kræves",
}


def _describe(error: Mapping[str, Any], data: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    # Name the phase too: "phases.2 (hvad_gik_godt).questions" is easier to find than "phases.2.questions".
    if len(loc) >= 2 and loc[0] == "phases" and loc[1].isdigit() and isinstance(data, dict):
        phases = data.get("phases")
        index = int(loc[1])
        if isinstance(phases, list) and index < len(phases) and isinstance(phases[index], dict):
            phase_id = phases[index].get("id")
            if phase_id:
                loc[1] = f"{loc[1]} ({phase_id})"
    where = ".".join(loc) or "(guide)"
    kind = error["type"]
    if kind == "too_short":
        danish = _DANISH_TOO_SHORT.get(str(error["loc"][-1]), "listen må ikke være tom")
    elif kind == "value_error":
        return f"{where}: {error['msg'].removeprefix('Value error, ')}"
    else:
        danish = _DANISH_PROBLEMS.get(kind, "ugyldig")
    return f"{where}: {danish} / {error['msg']}"


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as exc:
        raise GuideInvalid(path, [f"filen kan ikke læses / cannot read file: {exc}"]) from exc
    except yaml.YAMLError as exc:
        raise GuideInvalid(path, [f"ikke gyldig YAML / not valid YAML: {exc}"]) from exc


def load_guide_file(path: Path | str) -> Guide:
    """Load and validate one guide file; raises :class:`GuideInvalid` naming the file and each bad field."""
    path = Path(path)
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise GuideInvalid(path, ["en guide skal være en mapping med id, version, title, ... / must be a mapping"])
    try:
        guide = Guide.model_validate(data)
    except ValidationError as exc:
        raise GuideInvalid(path, [_describe(e, data) for e in exc.errors()]) from exc
    if guide.id != path.stem:
        raise GuideInvalid(path, [f"id: {guide.id!r} skal svare til filnavnet / must match the file name"])
    return guide


@lru_cache(maxsize=1)
def load_principles() -> tuple[Principle, ...]:
    """The blame-free principles every guide may show, in the order facilitators read them."""
    path = GUIDES_DIR / PRINCIPLES_FILE
    data = _read_yaml(path)
    items = data.get("principles") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise GuideInvalid(path, ["principles: en ikke-tom liste kræves / a non-empty list is required"])
    principles = []
    for index, item in enumerate(items):
        try:
            principles.append(Principle.model_validate(item))
        except ValidationError as exc:
            raise GuideInvalid(
                path, [f"principles.{index}.{_describe(e, None)}" for e in exc.errors()]
            ) from exc
    ids = [p.id for p in principles]
    if len(set(ids)) != len(ids):
        raise GuideInvalid(path, ["principles: samme id to gange / duplicate principle id"])
    return tuple(principles)


@lru_cache(maxsize=1)
def _isbar_labels() -> dict[str, LocalText]:
    path = GUIDES_DIR / ISBAR_FILE
    data = _read_yaml(path)
    parts = data.get("parts") if isinstance(data, dict) else None
    if not isinstance(parts, dict) or set(parts) != set(ISBAR_PARTS):
        raise GuideInvalid(path, [f"parts: skal have præcis {list(ISBAR_PARTS)} / must have exactly these parts"])
    try:
        return {part: LocalText.model_validate(parts[part]["title"]) for part in ISBAR_PARTS}
    except (ValidationError, KeyError, TypeError) as exc:
        raise GuideInvalid(path, [f"parts: hver del skal have en title med da og en / {exc}"]) from exc


def isbar_label(part: str, language: str = "da") -> str:
    """The name of an ISBAR part as facilitators know it (Danish: Identifikation … Råd)."""
    labels = _isbar_labels()
    if part not in labels:
        raise GuideError(f"unknown ISBAR part {part!r}; parts: {list(ISBAR_PARTS)}")
    return labels[part].get(language)


def _guide_files(extra_dir: Path | None) -> dict[str, Path]:
    files: dict[str, Path] = {}
    # A site's own folder comes last so its guide replaces a shipped guide with the same id.
    for folder in (GUIDES_DIR, extra_dir):
        if folder is None:
            continue
        for path in sorted(Path(folder).glob("*.yaml")):
            if path.name not in _SHARED_FILES:
                files[path.stem] = path
    return files


@lru_cache(maxsize=None)
def _load_cached(path: Path, mtime_ns: int) -> Guide:
    return load_guide_file(path)


def _load(path: Path) -> Guide:
    # Keyed on modification time so an edited guide is picked up without a restart.
    return _load_cached(path, path.stat().st_mtime_ns)


def list_guides(extra_dir: Path | None = None) -> list[Guide]:
    """Every guide, shipped and from ``extra_dir``, sorted by id; one invalid file fails the whole list loudly."""
    return [_load(path) for _, path in sorted(_guide_files(extra_dir).items())]


def load_guide(guide_id: str, extra_dir: Path | None = None) -> Guide:
    """The guide ``guide_id``; raises :class:`GuideNotFound` naming the known guides."""
    files = _guide_files(extra_dir)
    if not re.fullmatch(_ID, guide_id or "") or guide_id not in files:
        raise GuideNotFound(f"unknown guide {guide_id!r}; known guides: {sorted(files)}")
    return _load(files[guide_id])


def _checked_notes(guide: Guide, notes_by_phase: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(notes_by_phase) - {p.id for p in guide.phases})
    if unknown:
        # A misspelt phase id would otherwise lose a facilitator's notes without a word.
        raise GuideError(f"guide {guide.id!r} has no phases {unknown}; phases: {[p.id for p in guide.phases]}")
    return {key: (value or "").strip() for key, value in notes_by_phase.items()}


def phase_notes(guide: Guide, notes_by_phase: Mapping[str, str]) -> list[tuple[str, IsbarPartId]]:
    """Non-empty notes in phase order, each with the ISBAR part it goes to (no part → Råd)."""
    notes = _checked_notes(guide, notes_by_phase)
    return [
        (notes[phase.id], phase.isbar_part or UNMAPPED_NOTES_PART)
        for phase in guide.phases
        if notes.get(phase.id)
    ]


def notes_to_isbar(guide: Guide, notes_by_phase: Mapping[str, str]) -> dict[IsbarPartId, str]:
    """Notes per ISBAR part, all five keys in ISBAR order; phases sharing a part are joined in phase order.

    A phase without a part (the closing round) counts as Råd, so its notes follow the Råd phase before it.
    """
    by_part: dict[IsbarPartId, list[str]] = {part: [] for part in ISBAR_PARTS}
    for text, part in phase_notes(guide, notes_by_phase):
        by_part[part].append(text)
    return {part: "\n\n".join(texts) for part, texts in by_part.items()}


def notes_to_text(guide: Guide, notes_by_phase: Mapping[str, str], language: Language = "da") -> str:
    """The notes as plain text with a heading per phase, for the transcript of a guide-based debrief.

    Phases without notes are left out so the draft model reads only what was said.
    """
    if language not in ("da", "en"):
        raise GuideError(f"unknown language {language!r}; use 'da' or 'en'")
    notes = _checked_notes(guide, notes_by_phase)
    blocks = [f"{guide.title.get(language)} ({guide.id} v{guide.version})"]
    for number, phase in enumerate(guide.phases, start=1):
        text = notes.get(phase.id)
        if not text:
            continue
        heading = f"{number}. {phase.title.get(language)}"
        if phase.isbar_part:
            heading += f" [{isbar_label(phase.isbar_part, language)}]"
        blocks.append(f"{heading}\n{'-' * len(heading)}\n{text}")
    return "\n\n".join(blocks) + "\n"
