"""``/v2.1/servers/{id}/os-server-password``: the encrypted password a
server's guest left (Nova's API, at every microversion from 2.1).

* ``GET`` (200 ``{"password": "..."}``; a reader of the server's
  project or an administrator): the password as the guest encrypted it
  with the server's public key, ``""`` when none is kept;
* ``DELETE`` (204; a member of the project or an administrator): forget
  it. The guest's password itself is not changed.

In Nova the guest posts the encrypted password to the metadata service.
This deployment runs no metadata service, so no password is ever kept:
``GET`` answers ``""`` and ``DELETE`` has nothing to remove (see
:mod:`orchestrator.db.server_passwords`). Another project's server, or
none, is a 404, as every server sub-resource; a deleted one as well.
Neither changes the server's state, so both answer whatever task runs
and whether the server is locked, and record no instance action, as in
Nova. Query parameters and a request body are ignored.
"""

from orchestrator.api import request as api_request
from orchestrator.api import servers
from orchestrator.db import server_passwords
from orchestrator.policies import server_password as rules


def show(req, server_id):
    """GET /servers/{id}/os-server-password (200; 403, 404)."""
    instance = servers.get_instance(req, server_id, rule=rules.SHOW)
    return api_request.json_response(
        {'password': server_passwords.read(instance)})


def clear(req, server_id):
    """DELETE /servers/{id}/os-server-password (204; 403, 404)."""
    instance = servers.get_instance(req, server_id, rule=rules.CLEAR)
    server_passwords.clear(instance['uuid'], project_id=req.owner_project())
    return api_request.empty_response(204)


def register(router):
    router.add('GET', '/v2.1/servers/{server_id}/os-server-password', show)
    router.add('DELETE', '/v2.1/servers/{server_id}/os-server-password',
               clear)
