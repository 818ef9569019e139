"""Rules of server tags (Nova's names): a project's readers see them,
its members set them."""

from orchestrator.policies import base

PREFIX = 'os_compute_api:os-server-tags:%s'
INDEX = PREFIX % 'index'
SHOW = PREFIX % 'show'
UPDATE = PREFIX % 'update'
UPDATE_ALL = PREFIX % 'update_all'
DELETE = PREFIX % 'delete'
DELETE_ALL = PREFIX % 'delete_all'

_TAGS = '/servers/{server_id}/tags'

rules = [
    base.rule(INDEX, base.PROJECT_READER_OR_ADMIN,
              'List the tags of a server.', ('GET', _TAGS)),
    base.rule(SHOW, base.PROJECT_READER_OR_ADMIN,
              'Check that a server has a tag.', ('GET', _TAGS + '/{tag}')),
    base.rule(UPDATE, base.PROJECT_MEMBER_OR_ADMIN,
              'Add a tag to a server.', ('PUT', _TAGS + '/{tag}')),
    base.rule(UPDATE_ALL, base.PROJECT_MEMBER_OR_ADMIN,
              'Replace the tags of a server.', ('PUT', _TAGS)),
    base.rule(DELETE, base.PROJECT_MEMBER_OR_ADMIN,
              'Remove a tag from a server.', ('DELETE', _TAGS + '/{tag}')),
    base.rule(DELETE_ALL, base.PROJECT_MEMBER_OR_ADMIN,
              'Remove every tag of a server.', ('DELETE', _TAGS)),
]


def list_rules():
    return rules
