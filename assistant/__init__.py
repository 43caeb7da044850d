"""Debrief: turn conversations about patient-safety events into reviewed, shared learning."""

__version__ = "0.1.0"
