"""The random-kill soak: clients, a killer, then settle and judge.

An all-in-one with three hosts (a :class:`tests.crash.harness.
AllInOneProcess` forked from the crash suite's zygote) serves
``SOAK_CLIENTS`` client threads (:mod:`tests.soak.clients`) acting on
``SOAK_SERVERS`` server slots for ``SOAK_SECONDS``, while a killer
(:mod:`tests.soak.killer`) SIGKILLs it ``SOAK_KILLS`` times at random
instants and starts it again on the same state directory (none in the
last :func:`Settings.calm_s`).

Then the clients stop and the all-in-one settles (no job, no task_state,
every action finished; at most ``SOAK_SETTLE_S``). A probe follows: new
clients for ``SOAK_PROBE_S`` without kills, and a second settle; the
process's threads and RSS, idle before and after it, tell whether
operations leave anything behind. :func:`tests.soak.verdict.judge`
checks the whole. Deadlines are a day long: the watchdog must not be
what settles a lost operation.

Every random choice comes from ``SOAK_SEED`` (``random``: a fresh one,
printed): the clients' and the killer's choices replay with it, as far
as the timing of the threads lets them.
"""

import dataclasses
import os
import random
import threading
import time

from tests.crash import checks
from tests.crash import harness
from tests.functional.systems import free_port
from tests.soak import clients
from tests.soak import killer
from tests.soak import process
from tests.soak import verdict
from tests.waiting import wait_for

#: The seed of ``make test``'s short run.
DEFAULT_SEED = 20261204
HOSTS = 3
#: Driver delays (seconds), so that operations last long enough to be
#: interrupted by a kill or by another client's delete.
DELAYS_S = {'spawn': 1, 'fetch_image': 1, 'live_migration': 2,
            'migrate_disk_and_power_off': 1, 'finish_migration': 0.5,
            'snapshot': 0.5, 'upload_snapshot': 1, 'power_off': 0.5,
            'power_on': 0.5, 'reboot': 0.5, 'reboot_hard': 0.5,
            'pause': 0.3, 'suspend': 0.3, 'resume': 0.3, 'rebuild': 1,
            'rescue': 0.5, 'unrescue': 0.5, 'destroy': 0.5}
#: A task deadline no soak reaches.
DAY_S = 86400


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, '') else default


def _settle_default(seconds):
    """How long a settle may take: flows last seconds, so a minute after
    a short run, two after a long one."""
    return 60 if seconds <= 300 else 120


def time_budget_s():
    """Seconds a soak may take in all (its pytest timeout)."""
    seconds = _env_int('SOAK_SECONDS', Settings.seconds)
    return (seconds + _env_int('SOAK_PROBE_S', Settings.probe_s)
            + 2 * _env_int('SOAK_SETTLE_S', _settle_default(seconds))
            + 240)


@dataclasses.dataclass
class Settings:
    """The knobs (environment variables ``SOAK_*``)."""

    seed: int
    seconds: float = 75
    servers: int = 12
    clients: int = 4
    kills: int = None
    soft_delete: bool = None
    settle_s: float = 60
    probe_s: float = 20

    @classmethod
    def from_env(cls):
        seed = os.environ.get('SOAK_SEED') or str(DEFAULT_SEED)
        if seed == 'random':
            seed = str(random.SystemRandom().randrange(10 ** 9))
        settings = cls(
            seed=int(seed),
            seconds=_env_int('SOAK_SECONDS', cls.seconds),
            servers=_env_int('SOAK_SERVERS', cls.servers),
            clients=_env_int('SOAK_CLIENTS', cls.clients),
            settle_s=0,
            probe_s=_env_int('SOAK_PROBE_S', cls.probe_s))
        settings.settle_s = _env_int('SOAK_SETTLE_S',
                                     _settle_default(settings.seconds))
        settings.kills = _env_int('SOAK_KILLS', max(1, round(
            (settings.seconds - settings.calm_s()) / 12)))
        soft = os.environ.get('SOAK_SOFT_DELETE')
        settings.soft_delete = (
            random.Random(settings.seed).random() < 0.3 if soft in
            (None, '') else soft == '1')
        return settings

    def calm_s(self):
        """The last seconds of the workload, with no kill."""
        return max(10.0, self.seconds * 0.1)

    def gap_s(self):
        """(min, max) seconds between two kills."""
        mean = (self.seconds - self.calm_s()) / max(1, self.kills)
        return (mean * 0.5, mean * 1.5)

    def replay(self):
        return ('SOAK_SEED=%d SOAK_SECONDS=%d SOAK_SERVERS=%d '
                'SOAK_CLIENTS=%d SOAK_KILLS=%d SOAK_SOFT_DELETE=%d '
                'make soak' % (self.seed, self.seconds, self.servers,
                               self.clients, self.kills,
                               self.soft_delete))

    def config(self):
        """The all-in-one's options."""
        return {
            'DEFAULT': {'reclaim_instance_interval_s':
                        30 if self.soft_delete else 0},
            'conductor': {'default_task_deadline_s': DAY_S,
                          'task_deadlines_s': 'spawning:%d' % DAY_S,
                          'reclaim_check_interval_s': 5},
            'fake_driver': {'delays_s': ','.join(
                '%s:%s' % item for item in sorted(DELAYS_S.items()))},
            # Every slot's server in one project, resizes to any flavor:
            # the soak is about kills, not limits.
            'quota': {'instances': -1, 'cores': -1, 'ram': -1},
        }


class Run:
    """One soak on ``state_dir``: :meth:`go`, then :meth:`report`."""

    def __init__(self, settings, state_dir, out=print):
        self.settings = settings
        self.state_dir = str(state_dir)
        self.out = out
        self.launcher = None
        self.aio = None
        self.killer = None
        self.clients = []
        #: Run-clock seconds of each settle that timed out.
        self.unsettled = []
        self._stuck = set()
        self.settle_took = []
        self.last_started = None
        self.idle_before = None
        self.final_sample = None
        self._t0 = None
        self._extra_failures = []

    def clock(self):
        return time.monotonic() - self._t0

    def _start(self):
        self.aio.start(config=self.settings.config())
        self.last_started = process.sample(self.aio.proc.pid)

    def go(self):
        """The workload with kills, settle; the probe without kills,
        settle again."""
        s = self.settings
        self.out('soak: seed %d, %d s, %d servers, %d clients, %d kills, '
                 'soft delete %s; state %s; replay: %s' % (
                     s.seed, s.seconds, s.servers, s.clients, s.kills,
                     'on' if s.soft_delete else 'off', self.state_dir,
                     s.replay()))
        self.launcher = harness.ZygoteLauncher()
        self.aio = harness.AllInOneProcess(self.state_dir, free_port(),
                                           hosts=HOSTS,
                                           launcher=self.launcher)
        self._start()
        self._t0 = time.monotonic()
        slots = clients.Slots(s.servers)
        stop = threading.Event()
        self.killer = killer.Killer(
            random.Random('%d-killer' % s.seed), self.aio, self._start,
            self.clock, s.gap_s(), s.kills, s.seconds - s.calm_s(), stop)
        self.killer.start()
        self._workload('workload', slots, s.seconds, stop)
        self.killer.join(300)
        if not self.aio.alive():
            self._extra_failures.append(
                'the all-in-one was not running at the end (status %s)'
                % self.aio.proc.returncode)
            self._start()
        self._settle()
        self.idle_before = self._wound_down()
        self._workload('probe', slots, s.probe_s, threading.Event())
        self._settle()
        self.final_sample = self._wound_down()

    def _workload(self, phase, slots, seconds, stop):
        """Clients on ``slots`` for ``seconds``, then stopped."""
        s = self.settings
        mine = [clients.Client(
            len(self.clients) + i,
            random.Random('%d-%s-%d' % (s.seed, phase, i)), self.aio,
            slots, s.soft_delete, stop, self.clock)
            for i in range(s.clients)]
        self.clients.extend(mine)
        for client in mine:
            client.start()
        stop.wait(seconds)
        stop.set()
        for client in mine:
            client.join(60)

    def _settle(self):
        """Wait until nothing is left to do; what a settle that timed out
        left (it is reported) is not waited for again."""
        start = time.monotonic()
        try:
            wait_for(lambda: self._left() <= self._stuck,
                     timeout=self.settings.settle_s, interval=0.5,
                     what='the soak to settle')
        except AssertionError:
            self.unsettled.append(self.clock())
            self._stuck |= self._left()
        self.settle_took.append(time.monotonic() - start)

    def _left(self):
        """What :func:`tests.crash.checks.settled` waits for: jobs,
        task_states, unfinished actions."""
        data = checks.read_db(self.aio)
        return ({('job', j['uuid']) for j in data['jobs']}
                | {('task', i['uuid']) for i in data['instances']
                   if i['task_state'] and not i['deleted']}
                | {('action', a['id']) for a in data['actions']
                   if not a['finish_time']})

    def _wound_down(self):
        """The process once its threads stopped winding down (the last
        flows' engines and executors end after their jobs): its thread
        count did not drop for 3 s, or 20 s passed."""
        samples = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            samples.append(process.sample(self.aio.proc.pid))
            if len(samples) > 6 and None not in samples[-7:] and min(
                    s.threads for s in samples[-7:]) >= samples[-7].threads:
                break
            time.sleep(0.5)
        return samples[-1]

    def requests(self):
        return [r for c in self.clients for r in c.requests]

    def oddities(self):
        return sorted(o for c in self.clients for o in c.oddities)

    def harness_failures(self):
        yield from self.killer.failures
        yield from self._extra_failures
        for c in self.clients:
            if c.crashed:
                yield 'client %d crashed: %s' % (c.index, c.crashed)
            if c.is_alive():
                yield 'client %d did not stop' % c.index

    def judge(self):
        """({check: [problems]}, the report as text)."""
        results, uuids = verdict.judge(self)
        return results, self.report(results, uuids)

    def report(self, results, uuids):
        s = self.settings
        lines = ['=== soak summary: seed %d (%s)' % (s.seed, s.replay())]
        counts = {}
        for r in self.requests():
            per = counts.setdefault(r.action, {})
            per[r.outcome] = per.get(r.outcome, 0) + 1
        outcomes = (clients.ACCEPTED, clients.REFUSED, clients.UNKNOWN,
                    clients.ERROR, clients.DOWN)
        lines.append('%-20s %6s ' % ('action', 'sent')
                     + ' '.join('%9s' % o for o in outcomes))
        total = {}
        for action, per in sorted(counts.items()):
            sent = sum(per.values()) - per.get(clients.DOWN, 0)
            lines.append('%-20s %6d ' % (action, sent) + ' '.join(
                '%9d' % per.get(o, 0) for o in outcomes))
            for o, n in per.items():
                total[o] = total.get(o, 0) + n
        lines.append('%-20s %6d ' % ('total', sum(total.values())
                                     - total.get(clients.DOWN, 0))
                     + ' '.join('%9d' % total.get(o, 0) for o in outcomes))
        restarts = sum(1 for k in self.killer.kills if k.serving)
        lines.append('kills %d, restarts %d (down %s s)' % (
            len(self.killer.kills), restarts, ', '.join(
                '%.1f' % (k.serving - k.at) for k in self.killer.kills
                if k.serving)))
        lines.append('processes before each kill: %s' % '; '.join(
            str(k.before) for k in self.killer.kills))
        since = self.killer.kills[-1].serving if self.killer.kills else 0
        served = sum(1 for r in self.requests()
                     if r.outcome == clients.ACCEPTED
                     and since <= r.started < s.seconds)
        probed = sum(1 for r in self.requests()
                     if r.outcome == clients.ACCEPTED
                     and r.started >= s.seconds)
        lines.append('last all-in-one: %s at its start, %s idle after '
                     'the workload (%d requests accepted since its start), '
                     '%s idle after the probe (%d accepted); settled in %s'
                     % (self.last_started, self.idle_before, served,
                        self.final_sample, probed, ', '.join(
                            '%.0f s' % t for t in self.settle_took)))
        for check, problems in results.items():
            lines.append('check %-40s %s' % (
                check, 'ok' if not problems
                else 'FAILED (%d)' % len(problems)))
            lines.extend('    ' + p for p in problems[:40])
            if len(problems) > 40:
                lines.append('    ... and %d more' % (len(problems) - 40))
        if any(results.values()):
            lines.append('FAILED: seed %d; replay: %s' % (s.seed,
                                                          s.replay()))
            lines.append('state directory kept: %s; log: %s' % (
                self.state_dir, self.aio.log_path))
            for uuid in sorted(uuids)[:15]:
                lines.append(verdict.describe_instance(self.aio, uuid))
                lines.extend('soak request: ' + r.describe()
                             for r in self.requests()
                             if r.server_id == uuid)
        return '\n'.join(lines)

    def close(self):
        if self.aio is not None:
            self.aio.close()
        if self.launcher is not None:
            self.launcher.close()
