"""Timestamps as the Compute API shows them (every column is naive UTC)."""


def zulu(value):
    """``2024-05-01T12:00:00Z`` (servers' created/updated), or None."""
    if value is None:
        return None
    return value.strftime('%Y-%m-%dT%H:%M:%SZ')


def iso(value):
    """``2024-05-01T12:00:00.123456`` (launched_at, actions), or None."""
    if value is None:
        return None
    return value.strftime('%Y-%m-%dT%H:%M:%S.%f')
