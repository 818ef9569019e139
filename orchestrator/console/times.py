"""Times as the console's JSON has them: ISO 8601 UTC strings, ages and
durations in seconds (floats). Every database column is naive UTC."""

from orchestrator.db import models


def now():
    """Now, naive UTC (as the columns)."""
    return models.utcnow()


def iso(value):
    """``2026-01-02T03:04:05.123456Z`` of a naive UTC datetime, or None."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None) - value.utcoffset()
    return value.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def seconds_between(start, end):
    """Seconds from ``start`` to ``end`` (None if either is)."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds()
