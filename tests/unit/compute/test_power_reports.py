"""A compute agent's power-state reports, over a real transport.

A ComputeService on kombu's in-memory broker reports to a real RPC server
on topic ``conductor`` whose endpoint records the reports of its host:
every interval, at once on a driver lifecycle event, never when the
interval is negative, and no more after stop.
"""

import queue
import threading
import time

import oslo_messaging as messaging
import pytest

from orchestrator.compute.drivers import fake
from orchestrator.compute import service as compute_service
from orchestrator import rpc
from orchestrator import states
from tests.unit.compute.conftest import IMAGE
from tests.unit.compute.conftest import make_instance

WAIT_S = 10
pytestmark = pytest.mark.timeout(60)


class RecordingConductor:
    """Endpoint of the host-facing casts (1.2); keeps the power-state
    reports of one host (the in-memory broker is shared)."""

    target = messaging.Target(version='1.2')

    def __init__(self, host):
        self.host = host
        self.reports = queue.Queue()

    def report_heartbeat(self, ctxt, host, binary, resources):
        pass

    def report_power_states(self, ctxt, host, power_states):
        if host == self.host:
            self.reports.put(power_states)


@pytest.fixture
def conductor(memory_rpc, host_name):
    endpoint = RecordingConductor(host_name)
    server = rpc.get_server(
        messaging.Target(topic='conductor', server='recorder-' + host_name),
        [endpoint])
    server.start()
    yield endpoint
    server.stop()
    server.wait()


@pytest.fixture
def make_service(conf, memory_rpc, conductor, host_name, state_dir):
    """Build (not start) the host's service with reports every
    ``interval`` seconds; stopped at the end of the test."""
    made = []

    def make(interval):
        conf.set_override('sync_power_state_interval_s', interval,
                          group='compute')
        driver = fake.FakeDriver(host_name, conf, state_dir=state_dir)
        service = compute_service.ComputeService(host_name, driver, conf)
        made.append(service)
        return service

    yield make
    for service in made:
        service.stop()


def _reporter_threads(host_name):
    return [t for t in threading.enumerate()
            if t.name == 'power-states-%s' % host_name and t.is_alive()]


def test_reports_come_every_interval_with_every_guest(make_service,
                                                      conductor):
    service = make_service(0.2)
    instance = make_instance()
    service.driver.spawn(instance, IMAGE)
    service.start()
    reports = [conductor.reports.get(timeout=WAIT_S) for _ in range(3)]
    assert reports == [{instance['uuid']: states.RUNNING}] * 3


def test_a_lifecycle_event_sends_a_report_at_once(make_service, conductor):
    service = make_service(600)
    instance = make_instance()
    service.driver.spawn(instance, IMAGE)
    service.start()
    assert conductor.reports.get(timeout=WAIT_S) == {
        instance['uuid']: states.RUNNING}
    started = time.monotonic()
    service.driver.emulate_guest_power_change(instance['uuid'],
                                              states.SHUTDOWN)
    assert conductor.reports.get(timeout=WAIT_S) == {
        instance['uuid']: states.SHUTDOWN}
    assert time.monotonic() - started < WAIT_S
    service.driver.emulate_guest_vanished(instance['uuid'])
    assert conductor.reports.get(timeout=WAIT_S) == {}


def test_a_negative_interval_sends_no_report(make_service, conductor,
                                             host_name):
    service = make_service(-1)
    instance = make_instance()
    service.driver.spawn(instance, IMAGE)
    service.start()
    service.driver.emulate_guest_power_change(instance['uuid'],
                                              states.SHUTDOWN)
    with pytest.raises(queue.Empty):
        conductor.reports.get(timeout=1.0)
    assert _reporter_threads(host_name) == []
    assert 'list_instances' not in service.driver.host_state()['calls']


def test_stop_ends_the_reports_and_a_restart_resumes_them(
        make_service, conductor, host_name):
    service = make_service(0.1)
    service.start()
    conductor.reports.get(timeout=WAIT_S)
    service.stop()
    assert _reporter_threads(host_name) == []
    instance = make_instance()
    service.driver.spawn(instance, IMAGE)
    service.driver.emulate_guest_power_change(instance['uuid'],
                                              states.SHUTDOWN)
    # Reports sent before the stop may still arrive; none knows the guest.
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        try:
            assert conductor.reports.get(timeout=0.1) == {}
        except queue.Empty:
            pass
    service.start()
    assert conductor.reports.get(timeout=WAIT_S) == {
        instance['uuid']: states.SHUTDOWN}
