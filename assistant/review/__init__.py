"""Learning-agent decisions, questions to and answers from the reporter, feedback and erasure."""

from __future__ import annotations

from assistant.review.decisions import (
    PointEdit,
    QueueFilters,
    RejectReason,
    approve,
    edit_point,
    open_case,
    reject,
    reopen,
    review_queue,
    send_back,
)
from assistant.review.erasure import erase_case
from assistant.review.feedback import draft_feedback, release_feedback, save_feedback
from assistant.review.linked_accounts import LinkedCase, link_account, linked_cases
from assistant.review.reporter_status import (
    ReporterStatus,
    answer_question_as_reporter,
    answer_question_by_receipt,
    job_error_message,
    my_cases,
    status_by_receipt,
    status_for_reporter,
)
from assistant.review.similarity_judgements import (
    JudgementView,
    judge_similarity,
    judgements_for_case,
    list_judgements,
    similar_for_review,
)

__all__ = [
    "JudgementView",
    "LinkedCase",
    "PointEdit",
    "QueueFilters",
    "RejectReason",
    "ReporterStatus",
    "answer_question_as_reporter",
    "answer_question_by_receipt",
    "approve",
    "draft_feedback",
    "edit_point",
    "erase_case",
    "job_error_message",
    "judge_similarity",
    "judgements_for_case",
    "link_account",
    "linked_cases",
    "list_judgements",
    "my_cases",
    "open_case",
    "reject",
    "release_feedback",
    "reopen",
    "review_queue",
    "save_feedback",
    "send_back",
    "similar_for_review",
    "status_by_receipt",
    "status_for_reporter",
]
