"""The servers of one multiple create, accepted together
(orchestrator.db.boot_requests), on SQLite, PostgreSQL and MariaDB:
min_count's capacity claimed in the insert's transaction holds under
concurrent requests, and a ClaimRace starts the acceptance again."""

import uuid

import pytest
import sqlalchemy as sa

from orchestrator import exception
from orchestrator.api import server_count
from orchestrator.db import allocations
from orchestrator.db import boot_requests
from orchestrator.db import hosts as db_hosts
from orchestrator.db import models
from orchestrator.db import session
from orchestrator.scheduler import host_selection
from tests import racing

MEDIUM = {'vcpus': 2, 'memory_mb': 4096, 'root_gb': 40, 'ephemeral_gb': 0}


def _host(name):
    """8 vCPU, 8 GiB, 100 GB: room for two m1.medium."""
    db_hosts.heartbeat(name, host_selection.COMPUTE_BINARY)
    db_hosts.update_compute_node(name, 8, 8192, 100)


def _values(project_id):
    return dict(MEDIUM, project_id=project_id, user_id='u', flavor_id='3',
                flavor={'flavorid': '3'}, image_ref='image',
                display_name='racer')


def _servers(values):
    def servers(count):
        return [dict(values, uuid=str(uuid.uuid4()), launch_index=i,
                     reservation_id='r-test') for i in range(count)]
    return servers


def _accept(conf, project_id, min_count, max_count):
    values = _values(project_id)
    claim = server_count.capacity_claim(
        conf, host_selection.resources_of(values), min_count)
    return boot_requests.accept(
        values, _servers(values), (min_count, max_count),
        {'request_id': 'req-%s' % uuid.uuid4(), 'user_id': 'u',
         'project_id': project_id},
        request={'method': 'build_instance', 'extra': {}, 'context': {}},
        claim=claim)


def _count(model):
    with session.reader() as s:
        return s.execute(sa.select(sa.func.count()).select_from(
            model)).scalar()


def test_concurrent_requests_never_pass_the_capacity(database, conf):
    """10 requests of min_count 2 (each its own project: no quota lock
    serialises them) race for room for 4: exactly 2 are accepted."""
    _host('h1')
    _host('h2')
    outcomes, samples = racing.race(
        lambda i: _accept(conf, 'project-%d' % i, 2, 2), 10,
        lambda: len(allocations.list_all()))
    accepted = [o for o in outcomes if isinstance(o, list)]
    refused = [o for o in outcomes if not isinstance(o, list)]
    assert len(accepted) == 2, refused[:3]
    for error in refused:
        assert isinstance(error, exception.InsufficientCapacity), \
            repr(error)
    assert max(samples) <= 4
    assert _count(models.Instance) == 4
    assert _count(models.InstanceAction) == 4
    held = {a['consumer_uuid'] for a in allocations.list_all()}
    assert held == {i['uuid'] for pair in accepted for i, _a in pair}


def test_a_claim_race_starts_the_acceptance_again(db, conf, monkeypatch):
    _host('h1')
    real = allocations.claim_in
    raced = []

    def racing_once(*args, **kwargs):
        if not raced:
            raced.append(True)
            raise exception.ClaimRace(host='h1')
        return real(*args, **kwargs)
    monkeypatch.setattr(allocations, 'claim_in', racing_once)
    accepted = _accept(conf, 'p', 2, 2)
    assert raced and len(accepted) == 2
    # Nothing of the attempt that raced was kept.
    assert _count(models.Instance) == 2
    assert _count(models.InstanceAction) == 2
    assert len(allocations.list_all()) == 2


def test_claim_races_without_end_give_up(db, conf, monkeypatch):
    _host('h1')

    def always(*args, **kwargs):
        raise exception.ClaimRace(host='h1')
    monkeypatch.setattr(allocations, 'claim_in', always)
    with pytest.raises(exception.ClaimRace):
        _accept(conf, 'p', 2, 2)
    assert _count(models.Instance) == 0
