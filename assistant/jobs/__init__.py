"""The pipeline as an ordered table of stages, the job runner and worker, and the shared components."""

from __future__ import annotations

from assistant.jobs.components import Components
from assistant.jobs.pipeline import known_pseudonyms
from assistant.jobs.runner import Worker, claim_job, job_progress, retry_job, run_job
from assistant.jobs.runtime import Runtime

__all__ = ["Components", "Runtime", "Worker", "claim_job", "job_progress", "known_pseudonyms", "retry_job", "run_job"]
