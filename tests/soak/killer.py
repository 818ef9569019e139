"""The soak's killer: SIGKILL the all-in-one at random instants, start it
again on the same state directory, and keep what it saw.

The instants are not failpoints: each kill comes a random time (uniform
in ``gap_s``) after the previous one, wherever the flows are. Before each
kill it samples the process (threads, RSS); after each start it waits
until the API serves and every host is up (the clients do not wait:
they keep sending, and a refused connection just tells them it is
down).
"""

import dataclasses
import threading

from tests.soak import process


@dataclasses.dataclass
class Kill:
    """One SIGKILL and the restart after it (run-clock seconds)."""

    at: float
    serving: float = None
    #: The process just before it died (process.Sample).
    before: object = None
    #: The new process once it served.
    started: object = None


class Killer(threading.Thread):
    """Kills ``aio`` at most ``max_kills`` times until ``until`` seconds
    into the run (or ``stop``).

    :param start: starts the all-in-one again (and waits until it
        serves); raises when it cannot.
    """

    def __init__(self, rng, aio, start, clock, gap_s, max_kills, until,
                 stop):
        super().__init__(name='soak-killer', daemon=True)
        self.rng = rng
        self.aio = aio
        self.start_aio = start
        self.clock = clock
        self.gap_s = gap_s
        self.max_kills = max_kills
        self.until = until
        self.stop = stop
        self.kills = []
        #: What went wrong: the process exited by itself, or did not
        #: start again.
        self.failures = []

    def run(self):
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - reported by the verdict
            self.failures.append('the killer failed: %s: %s\n%s' % (
                type(e).__name__, e, self.aio.log(3000)))

    def _run(self):
        next_at = self.clock() + self.rng.uniform(*self.gap_s)
        while len(self.kills) < self.max_kills:
            if next_at >= self.until or self.stop.wait(
                    max(0, next_at - self.clock())):
                return
            if not self.aio.alive():
                self.failures.append(
                    'the all-in-one exited by itself (status %s) before '
                    'kill %d; log: %s' % (self.aio.proc.returncode,
                                          len(self.kills) + 1,
                                          self.aio.log_path))
                return
            kill = Kill(at=self.clock(),
                        before=process.sample(self.aio.proc.pid))
            self.aio.kill()
            self.kills.append(kill)
            self.start_aio()
            kill.serving = self.clock()
            kill.started = process.sample(self.aio.proc.pid)
            next_at = kill.at + self.rng.uniform(*self.gap_s)
            next_at = max(next_at, kill.serving + 1)

    def down_windows(self):
        """[(killed at, serving again at)] (None: never served again)."""
        return [(k.at, k.serving) for k in self.kills]
