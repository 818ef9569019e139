"""Rules of what a user sets on a server without a task: its name,
description and access addresses (``PUT /servers/{id}``), its metadata
(``/servers/{id}/metadata``), and of the availability zones
(``/os-availability-zone``). Nova's rule names and defaults."""

from orchestrator.policies import base

UPDATE = 'os_compute_api:servers:update'
METADATA = 'os_compute_api:server-metadata:%s'
METADATA_INDEX = METADATA % 'index'
METADATA_SHOW = METADATA % 'show'
METADATA_CREATE = METADATA % 'create'
METADATA_UPDATE_ALL = METADATA % 'update_all'
METADATA_UPDATE = METADATA % 'update'
METADATA_DELETE = METADATA % 'delete'
AZ_LIST = 'os_compute_api:os-availability-zone:list'
AZ_DETAIL = 'os_compute_api:os-availability-zone:detail'

_ALL = '/servers/{server_id}/metadata'
_ONE = '/servers/{server_id}/metadata/{key}'

rules = [
    base.rule(UPDATE, base.PROJECT_MEMBER_OR_ADMIN,
              'Update a server\'s name, description (2.19+) and access '
              'addresses.', ('PUT', '/servers/{server_id}')),
    base.rule(METADATA_INDEX, base.PROJECT_READER_OR_ADMIN,
              'List a server\'s metadata.', ('GET', _ALL)),
    base.rule(METADATA_SHOW, base.PROJECT_READER_OR_ADMIN,
              'Show one metadata item of a server.', ('GET', _ONE)),
    base.rule(METADATA_CREATE, base.PROJECT_MEMBER_OR_ADMIN,
              'Add or change metadata items of a server (the others '
              'stay).', ('POST', _ALL)),
    base.rule(METADATA_UPDATE_ALL, base.PROJECT_MEMBER_OR_ADMIN,
              'Replace all of a server\'s metadata.', ('PUT', _ALL)),
    base.rule(METADATA_UPDATE, base.PROJECT_MEMBER_OR_ADMIN,
              'Set one metadata item of a server.', ('PUT', _ONE)),
    base.rule(METADATA_DELETE, base.PROJECT_MEMBER_OR_ADMIN,
              'Delete one metadata item of a server.', ('DELETE', _ONE)),
    base.rule(AZ_LIST, base.PROJECT_READER_OR_ADMIN,
              'List the availability zones and whether they are '
              'available.', ('GET', '/os-availability-zone')),
    base.rule(AZ_DETAIL, base.ADMIN,
              'List the availability zones with their hosts and '
              'services.', ('GET', '/os-availability-zone/detail')),
]


def list_rules():
    return rules
