"""A fixed subset of tempest's compute API tests (``make conformance``
runs all of them), in ``make test``: tempest against the all-in-one
authenticating with a real Keystone (tests/tempest_harness.py), about
twenty stable tests in under a minute and a half. Any of them failing or
being skipped fails this test; Keystone or tempest missing is a skip, and
a failure under CI=true.
"""

import re

from tests import tempest_harness
from tests.conftest import service_missing

#: {tempest class: how many of its tests run}: chosen to cover the
#: version document, flavors, keypairs, a server's metadata (one boot),
#: server groups (one boot into a group) and the isolation of two
#: projects (alternate credentials).
SUBSET = {
    'tempest.api.compute.test_versions.TestVersions': 2,
    'tempest.api.compute.flavors.test_flavors.FlavorsV2TestJSON': 11,
    'tempest.api.compute.keypairs.test_keypairs.KeyPairsV2TestJSON': 4,
    'tempest.api.compute.servers.test_server_metadata.'
    'ServerMetadataTestJSON': 7,
    'tempest.api.compute.servers.test_server_group.ServerGroupTestJSON': 6,
}


def test_tempest_compute_subset_passes(tmp_path):
    why = tempest_harness.missing()
    if why:
        service_missing('tempest with Keystone', why)
    regex = '^(%s)\\.' % '|'.join(re.escape(c) for c in SUBSET)
    result = tempest_harness.run(str(tmp_path), regex, concurrency=2,
                                 users=tempest_harness.accounts_for(2))
    failed = {name: result.tests[name][1] for name in result.names('fail')}
    skipped = {name: result.tests[name][1] for name in result.names('skip')}
    assert not failed, 'tempest failures (workspace %s): %s' % (
        tmp_path, failed)
    assert not skipped, 'tempest skipped: %s' % skipped
    ran = {}
    for name in result.names('success'):
        cls = name.rsplit('.', 1)[0]
        ran[cls] = ran.get(cls, 0) + 1
    assert ran == SUBSET, result.output[-3000:]
    assert result.returncode == 0, result.output[-3000:]
