"""Threads and memory of a running process, from /proc."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Sample:
    threads: int
    rss_mb: float

    def __str__(self):
        return '%d threads, %.0f MB RSS' % (self.threads, self.rss_mb)


def sample(pid):
    """The process's thread count and resident memory, or None when it
    is gone."""
    fields = {}
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                key, _, value = line.partition(':')
                fields[key] = value.split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    try:
        return Sample(threads=int(fields['Threads'][0]),
                      rss_mb=int(fields['VmRSS'][0]) / 1024.0)
    except (KeyError, IndexError, ValueError):
        return None
