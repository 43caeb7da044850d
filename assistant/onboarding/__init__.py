"""A first run that needs no manual: the one-time link that creates the first administrator, and demo cases."""

from __future__ import annotations

from assistant.onboarding.demo import (
    DEMO_FILE,
    MARKER,
    DemoLoad,
    clear_demo,
    demo_case_ids,
    demo_set,
    load_demo,
    real_case_count,
)
from assistant.onboarding.first_admin import SETUP_PATH, FirstAdminSetup, SetupLink, has_users

__all__ = [
    "DEMO_FILE",
    "MARKER",
    "SETUP_PATH",
    "DemoLoad",
    "FirstAdminSetup",
    "SetupLink",
    "clear_demo",
    "demo_case_ids",
    "demo_set",
    "has_users",
    "load_demo",
    "real_case_count",
]
