"""A host's first report registers it even when no conductor listened
when it was sent (the in-memory broker drops such a message, a broker
may too): it is a call, repeated until a conductor answers."""

import queue
import time

import oslo_messaging as messaging
import pytest

from orchestrator.compute.drivers import fake
from orchestrator.compute import service as compute_service
from orchestrator import rpc

pytestmark = pytest.mark.timeout(60)


class HeartbeatRecorder:
    target = messaging.Target(version='1.2')

    def __init__(self, host):
        self.host = host
        self.beats = queue.Queue()

    def report_heartbeat(self, ctxt, host, binary, resources):
        if host == self.host:
            self.beats.put(resources)

    def report_power_states(self, ctxt, host, power_states):
        pass


def test_first_report_is_repeated_until_a_conductor_answers(
        conf, memory_rpc, host_name, state_dir):
    # The next beat is two minutes away: only the first report can
    # register the host within the test.
    conf.set_override('heartbeat_interval_s', 120.0, group='compute')
    conf.set_override('sync_power_state_interval_s', -1, group='compute')
    driver = fake.FakeDriver(host_name, conf, state_dir=state_dir)
    service = compute_service.ComputeService(host_name, driver, conf)
    service.start()
    recorder = HeartbeatRecorder(host_name)
    server = None
    try:
        time.sleep(1.0)  # its first report went nowhere
        server = rpc.get_server(
            messaging.Target(topic='conductor', server='rec-' + host_name),
            [recorder])
        server.start()
        resources = recorder.beats.get(timeout=15)
        assert resources['vcpus'] > 0
        assert service.wait_registered(5)
    finally:
        service.stop()
        if server is not None:
            server.stop()
            server.wait()
