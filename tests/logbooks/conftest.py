"""The zygote that forks the all-in-ones resuming snapshots (the crash
suite's ``launcher`` fixture)."""

from tests.crash.conftest import launcher  # noqa: F401
