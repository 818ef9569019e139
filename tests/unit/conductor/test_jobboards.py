"""The jobboard factory: backend lookup and the conf handed to boards."""

import pytest

from orchestrator.conductor import jobboard_redis
from orchestrator.conductor import jobboard_sql
from orchestrator.conductor import jobboards


def test_builtin_backends_are_found_with_or_without_entry_points():
    assert jobboards.backend_class('sql') is jobboard_sql.SQLJobBoard
    assert (jobboards.backend_class('redis')
            is jobboard_redis.LeasedRedisJobBoard)


def test_unknown_backend_is_refused_by_name():
    with pytest.raises(ValueError, match='zookeeper'):
        jobboards.backend_class('zookeeper')


@pytest.mark.parametrize('url, expected', [
    ('redis://127.0.0.1:6379/0', {'host': '127.0.0.1', 'port': 6379,
                                  'db': 0}),
    ('redis://redis.example', {'host': 'redis.example', 'port': 6379}),
    ('rediss://u:p%40ss@h:7000/3', {'host': 'h', 'port': 7000, 'db': 3,
                                    'ssl': True, 'username': 'u',
                                    'password': 'p@ss'}),
    ('unix:///run/redis.sock?db=2', {'unix_socket_path': '/run/redis.sock',
                                     'db': 2}),
])
def test_redis_urls_become_taskflow_client_conf(url, expected):
    assert jobboards.redis_conf(url) == expected


def test_redis_conf_refuses_other_schemes():
    with pytest.raises(ValueError):
        jobboards.redis_conf('http://127.0.0.1:6379')


def test_board_conf_carries_name_lease_and_redis_settings(conf):
    conf.set_override('claim_lease_s', 12.5, group='conductor')
    conf.set_override('board_name', 'b1', group='jobboard')
    assert jobboards.board_conf(conf) == {
        'board': 'sql', 'board_name': 'b1', 'claim_lease_s': 12.5}
    conf.set_override('backend', 'redis', group='jobboard')
    conf.set_override('redis_url', 'redis://h:1/4', group='jobboard')
    conf.set_override('redis_namespace', 'ns', group='jobboard')
    assert jobboards.board_conf(conf) == {
        'board': 'redis', 'board_name': 'b1', 'claim_lease_s': 12.5,
        'host': 'h', 'port': 1, 'db': 4, 'namespace': 'ns'}


def test_lease_must_be_positive():
    with pytest.raises(ValueError):
        jobboard_sql.SQLJobBoard('b', {'claim_lease_s': 0})
    assert jobboard_sql.SQLJobBoard('b', {'lease_s': '2.5'}).lease_s == 2.5
