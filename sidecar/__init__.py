"""Mentor Sidecar: a companion panel for mentoring over video calls."""

__version__ = "0.1.0"
