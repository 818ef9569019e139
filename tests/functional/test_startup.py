"""The first seconds after start: a request the all-in-one accepts right
after it started must find its hosts (a user's `make run` followed at
once by the README's first command used to end in ERROR "No valid host
was found. No compute host is reporting")."""

from orchestrator.cmd import allinone

from tests.functional import api_helpers
from tests.functional.systems import free_port


def test_boot_right_after_start_finds_a_host(conf, tmp_path):
    # A heartbeat an interval away: only the hosts' first report can
    # register them before the boot is scheduled.
    conf.set_override('heartbeat_interval_s', 120.0, group='compute')
    conf.set_override('job_poll_interval_s', 0.1, group='conductor')
    node = allinone.AllInOne(conf, str(tmp_path / 'state'),
                             listen='127.0.0.1:%d' % free_port(), hosts=2)
    node.start()
    node.url = 'http://%s:%d' % node.listen
    try:
        server_id = api_helpers.boot(node, name='first')
        found = api_helpers.server(node, server_id)
        assert found['OS-EXT-SRV-ATTR:host'] in allinone.host_names(2)
    finally:
        node.stop()
