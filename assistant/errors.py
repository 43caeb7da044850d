"""The errors users can meet. Each carries a message key that the UI and CLI translate (see ``assistant/locales``)."""

from __future__ import annotations

from vectorstore.errors import EmbeddingUnavailable, EmptyQuery, IndexUnavailable, KeyedError, VectorStoreError


class DebriefError(KeyedError):
    """Base of every expected failure; ``key`` names a translated message, ``params`` fill it."""

    key = "error.unexpected"

    def message(self, language: str = "da") -> str:
        """The user-facing sentence in ``language``."""
        return user_message(self, language)


class InvalidInput(DebriefError):
    """Input a user gave cannot be used (typed notes, form fields, file names)."""

    key = "input.invalid"


class InvalidAudio(InvalidInput):
    """An upload is not usable audio: not audio, empty, corrupt, too long or too big."""

    key = "audio.invalid"


class NoSpeech(InvalidAudio):
    """The recording decodes but holds no speech to learn from."""

    key = "audio.no_speech"


class ModelUnavailable(DebriefError):
    """A model cannot be loaded: missing, corrupt beyond repair, or its server unreachable."""

    key = "model.unavailable"


class TranscriptionServerUnavailable(ModelUnavailable):
    """The transcription server did not answer usably after the allowed retries; the job can be retried later."""

    key = "model.server_unavailable"


class DraftInvalid(DebriefError):
    """The LLM did not produce a valid draft after the allowed retries."""

    key = "draft.invalid"


class DraftTimeUp(DraftInvalid):
    """The draft's time budget ran out before the LLM finished (the draft is then made from the lines alone)."""

    key = "draft.time_up"


class NotAllowed(DebriefError):
    """The acting user's role does not permit the action."""

    key = "auth.not_allowed"


class LoginRefused(NotAllowed):
    """A single sign-on did not log anyone in: the provider's answer failed a check, or it names no Debrief role."""

    key = "sso.refused"


class NotAuthenticated(DebriefError):
    """A call to the REST API came without a token, or with one that is unknown or revoked."""

    key = "api.token_invalid"


class TooManyRequests(NotAllowed):
    """A caller (a receipt lookup's address, an API token) went over its limit per minute; it may try again later."""

    key = "receipt.too_many_lookups"


class NotFound(DebriefError):
    """The case, job or learning point does not exist (or is not visible to this user)."""

    key = "record.not_found"


class BackupRefused(DebriefError):
    """A backup or restore cannot go ahead: the target is not empty, the archive exists, a tool is missing."""

    key = "backup.refused"


class ArchiveDamaged(BackupRefused):
    """A backup archive cannot be trusted: unreadable, incomplete, or a checksum or count does not match."""

    key = "backup.damaged"


# The learning index raises its own errors (it sits below this package); users meet them like ours, and both
# share the keyed root.
USER_ERRORS: tuple[type[Exception], ...] = (KeyedError,)


def user_message(error: KeyedError, language: str = "da") -> str:
    """The translated sentence for any error in :data:`USER_ERRORS`."""
    from assistant.i18n import translate

    return translate(error.key, language, **error.params)


__all__ = [
    "USER_ERRORS", "ArchiveDamaged", "BackupRefused", "DebriefError", "DraftInvalid", "DraftTimeUp", "EmbeddingUnavailable", "EmptyQuery", "IndexUnavailable", "KeyedError",
    "InvalidAudio", "InvalidInput", "LoginRefused", "ModelUnavailable", "NoSpeech", "NotAllowed", "NotAuthenticated", "NotFound",
    "TooManyRequests", "TranscriptionServerUnavailable", "VectorStoreError",
    "user_message",
]
