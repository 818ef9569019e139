"""The compute agent of one host: its RPC server, heartbeat and reports.

:class:`ComputeService` is what ``orchestrator-compute`` runs once and what
``orchestrator-allinone`` runs once per fake host, all on the process's
transport (:func:`orchestrator.rpc.init` must have been called).

Drivers are found by name (``[compute] driver``) with :func:`load_driver`:
first in the ``orchestrator.compute_drivers`` entry point group, then in
:data:`BUILTIN_DRIVERS`, so the in-tree drivers work before the package is
installed.

Besides the heartbeat the agent reports the power state of every guest
(``report_power_states``) every ``[compute] sync_power_state_interval_s``
and at once when its driver signals a guest changed outside the
orchestrator; the conductor reconciles the database with the reports
(:mod:`orchestrator.conductor.power_sync`). A negative interval disables
the reports.
"""

import importlib
import importlib.metadata
import threading

import oslo_messaging as messaging
from oslo_log import log as logging

from orchestrator.compute import manager as compute_manager
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.compute.drivers import base as driver_base
from orchestrator.conductor import rpcapi as conductor_rpcapi
from orchestrator import context as orch_context
from orchestrator import exception
from orchestrator import rpc

LOG = logging.getLogger(__name__)

BINARY = 'orchestrator-compute'
DRIVER_ENTRY_POINT_GROUP = 'orchestrator.compute_drivers'
#: How long a host's first report waits for a conductor's answer, and the
#: first pause before it is sent again (doubled up to the heartbeat
#: interval).
REGISTER_TIMEOUT_S = 2.0
REGISTER_RETRY_MIN_S = 0.2

#: How long stop() waits for a heartbeat in progress.
HEARTBEAT_STOP_TIMEOUT_S = 10
#: The shortest spacing of power-state reports (smaller intervals are
#: raised to it).
MIN_REPORT_INTERVAL_S = 0.1
BUILTIN_DRIVERS = {'fake': 'orchestrator.compute.drivers.fake:FakeDriver'}


def _driver_class(name):
    found = importlib.metadata.entry_points(group=DRIVER_ENTRY_POINT_GROUP,
                                            name=name)
    for entry_point in found:
        return entry_point.load()
    if name in BUILTIN_DRIVERS:
        module_name, _, class_name = BUILTIN_DRIVERS[name].partition(':')
        return getattr(importlib.import_module(module_name), class_name)
    known = sorted(set(BUILTIN_DRIVERS) | {
        ep.name for ep in importlib.metadata.entry_points(
            group=DRIVER_ENTRY_POINT_GROUP)})
    raise exception.Invalid(reason='unknown compute driver %r (known: %s)'
                                   % (name, ', '.join(known)))


def load_driver(name, host, conf):
    """Build the driver called ``name`` for ``host``.

    :raises orchestrator.exception.Invalid: no driver has that name, or
        what has it is not a ComputeDriver.
    """
    driver_class = _driver_class(name)
    if not (isinstance(driver_class, type)
            and issubclass(driver_class, driver_base.ComputeDriver)):
        raise exception.Invalid(reason='compute driver %r is %r, not a '
                                       'ComputeDriver' % (name, driver_class))
    return driver_class(host, conf)


class ComputeService:
    """Serve ``host``: RPC endpoint, heartbeat and power-state reports,
    between start and stop.

    :param host: the compute host name (the RPC server name).
    :param driver: a ComputeDriver built for ``host``.
    :param conf: the configuration (``[compute] heartbeat_interval_s``,
        ``sync_power_state_interval_s``, read at each start).
    :param availability_zone: the zone the host reports with its
        heartbeats (default ``[compute] availability_zone``).

    ``start`` and ``stop`` may each be called more than once; a stopped
    service can be started again.
    """

    def __init__(self, host, driver, conf, availability_zone=None):
        self.host = host
        self.driver = driver
        self.conf = conf
        #: The zone this host reports with every heartbeat.
        self.availability_zone = (availability_zone
                                  or conf.compute.availability_zone)
        self.manager = compute_manager.ComputeManager(host, driver)
        self._server = None
        self._heartbeat = None
        self._reporter = None
        self._stopping = threading.Event()
        self._report_now = threading.Event()
        self._registered = threading.Event()
        self._lock = threading.Lock()

    @classmethod
    def from_conf(cls, conf, host=None):
        """The service of ``host`` (default ``[DEFAULT] host``) with the
        driver ``[compute] driver``."""
        host = host or conf.host
        return cls(host, load_driver(conf.compute.driver, host, conf), conf)

    @property
    def running(self):
        return self._server is not None

    def start(self, heartbeat=True):
        """Initialise the driver, serve RPC, send the first heartbeat
        (unless ``heartbeat`` is False: then :meth:`start_heartbeat`
        starts it, e.g. once the process's own conductor listens).

        Raises what ``driver.init_host`` raises (nothing is left running
        then).
        """
        with self._lock:
            if self._server is not None:
                return
            self.driver.init_host(self.host)
            target = messaging.Target(topic=compute_rpcapi.TOPIC,
                                      server=self.host)
            server = rpc.get_server(target, [self.manager])
            server.start()
            self._server = server
            # A fresh event per run: a beat left behind by an earlier
            # stop() still sees its own event set and ends.
            self._stopping = threading.Event()
            self._registered = threading.Event()
            LOG.info('Compute host %s serving (driver %s)', self.host,
                     type(self.driver).__name__)
        if heartbeat:
            self.start_heartbeat()

    def start_heartbeat(self):
        """Start the heartbeat (its first report registers the host) and
        the power-state reports; once per start."""
        with self._lock:
            if self._server is None or self._heartbeat is not None:
                return
            self._heartbeat = threading.Thread(
                target=self._heartbeat_loop, args=(self._stopping,),
                name='heartbeat-%s' % self.host, daemon=True)
            self._heartbeat.start()
            self._start_reporter()

    def stop(self):
        """Stop taking requests, wake calls blocked in the driver, stop
        the heartbeat and wait for requests in progress to finish."""
        with self._lock:
            server, self._server = self._server, None
            if server is None:
                return
            server.stop()
            self._stopping.set()
            self._report_now.set()
            self.driver.register_lifecycle_callback(None)
            self.driver.cleanup_host(self.host)
            if self._heartbeat is not None:
                self._heartbeat.join(HEARTBEAT_STOP_TIMEOUT_S)
            if self._heartbeat is not None and self._heartbeat.is_alive():
                # NOTE: a cast to an unreachable broker may retry for long;
                # the thread is a daemon and must not hold up the stop.
                LOG.warning('Heartbeat of %s still busy after %ss; leaving '
                            'it behind', self.host, HEARTBEAT_STOP_TIMEOUT_S)
            self._heartbeat = None
            if self._reporter is not None:
                self._reporter.join(HEARTBEAT_STOP_TIMEOUT_S)
                if self._reporter.is_alive():
                    LOG.warning('Power-state report of %s still busy; '
                                'leaving it behind', self.host)
                self._reporter = None
            server.wait()
            LOG.info('Compute host %s stopped', self.host)

    def wait_registered(self, timeout=None):
        """Block until a conductor acknowledged this host's first report
        (True), or ``timeout`` seconds passed (False)."""
        return self._registered.wait(timeout)

    def _heartbeat_loop(self, stopping):
        conductor = conductor_rpcapi.ConductorAPI()
        ctxt = orch_context.get_admin_context()
        interval = self.conf.compute.heartbeat_interval_s
        delay = REGISTER_RETRY_MIN_S
        while not stopping.is_set() and not self.register(conductor, ctxt):
            stopping.wait(delay)
            delay = min(delay * 2, max(interval, REGISTER_RETRY_MIN_S))
        while not stopping.wait(interval):
            self.send_heartbeat(conductor, ctxt)

    def register(self, conductor, ctxt):
        """Send this host's report as a call: True once a conductor
        recorded it. A cast sent before any conductor listens is lost
        (the in-memory transport drops it; a broker may too), and a host
        nobody knows gets no builds until its next beat, an interval
        later; so the first report is a call, repeated until it is
        acknowledged."""
        try:
            conductor.report_heartbeat(ctxt, self.host, BINARY,
                                       self._resources(), wait=True,
                                       timeout=REGISTER_TIMEOUT_S)
        except Exception as e:  # noqa: BLE001 - retried
            LOG.info('Host %s not registered yet (%s: %s); retrying',
                     self.host, type(e).__name__, e)
            return False
        self._registered.set()
        LOG.info('Host %s registered with a conductor', self.host)
        return True

    def _resources(self):
        return dict(self.driver.get_available_resources(),
                    availability_zone=self.availability_zone)

    def send_heartbeat(self, conductor, ctxt):
        """One ``report_heartbeat`` cast; failures are logged, not
        raised (the next beat tries again)."""
        try:
            conductor.report_heartbeat(ctxt, self.host, BINARY,
                                       self._resources())
        except Exception:  # noqa: BLE001 - a missed beat is not fatal
            LOG.warning('Heartbeat of %s failed', self.host, exc_info=True)

    # -- power-state reports ------------------------------------------------
    def _start_reporter(self):
        """Start the report thread unless reports are disabled (< 0)."""
        interval = self.conf.compute.sync_power_state_interval_s
        if interval < 0:
            LOG.info('Power-state reports of %s are disabled', self.host)
            return
        self._report_now = threading.Event()
        self._reporter = threading.Thread(
            target=self._report_loop,
            args=(self._stopping, self._report_now,
                  max(interval, MIN_REPORT_INTERVAL_S)),
            name='power-states-%s' % self.host, daemon=True)
        self.driver.register_lifecycle_callback(self._lifecycle_event)
        self._reporter.start()

    def _lifecycle_event(self, instance_uuid, power_state):
        """The driver's callback: a guest changed outside the orchestrator;
        the report thread sends a report now instead of at its interval
        (several events close together make one or two reports)."""
        LOG.info('Guest %s on %s changed by itself: power state %s',
                 instance_uuid, self.host, power_state)
        self._report_now.set()

    def _report_loop(self, stopping, report_now, interval):
        conductor = conductor_rpcapi.ConductorAPI()
        while not stopping.is_set():
            self.send_power_states(conductor)
            report_now.wait(interval)
            # NOTE: an event after this clear is not lost: its change is
            # written before the callback, and the report below reads it.
            report_now.clear()

    def send_power_states(self, conductor):
        """One ``report_power_states`` cast of every guest's power state;
        failures are logged, not raised (the next report tries again).
        Safe to call at any time and again: a report is a snapshot."""
        try:
            power_states = self.driver.list_instances()
            conductor.report_power_states(orch_context.get_admin_context(),
                                          self.host, power_states)
        except Exception:  # noqa: BLE001 - a missed report is not fatal
            LOG.warning('Power-state report of %s failed', self.host,
                        exc_info=True)
