"""HTTP requests to the API, with errors turned into :mod:`.exits`.

:class:`Api` sends every request through the session of
:class:`~orchestrator.cli.config.Endpoints` (which authenticates it) at
the Compute API microversion :data:`MICROVERSION`, and raises:

* :class:`exits.Unreachable` when nothing answers, authentication fails
  or the API answers 401;
* :class:`exits.NotFound` on 404 and :class:`exits.Refused` on any other
  4xx, with the API's message;
* :class:`exits.ServerError` on 5xx.
"""

from keystoneauth1 import exceptions as ks_exceptions

from orchestrator.cli import exits

#: The microversion the CLI speaks (the API's newest).
MICROVERSION = '2.79'
REQUEST_ID_HEADER = 'x-openstack-request-id'


class Response:
    """What a request returned: its status, JSON body (None if empty)
    and the request id the API gave it."""

    def __init__(self, status, body, request_id):
        self.status = status
        self.body = body
        self.request_id = request_id


def error_message(resp):
    """One line: the API's message of an error response and its status."""
    try:
        body = resp.json()
        (inner,) = body.values()
        message = inner['message']
    except Exception:  # noqa: BLE001 - any other body: its first line
        message = (resp.text or '').strip()[:200] or resp.reason or ''
    return '%s (HTTP %s)' % (' '.join(str(message).split()),
                             resp.status_code)


class Api:
    """The Compute, image and console APIs behind one session."""

    def __init__(self, endpoints):
        self.endpoints = endpoints
        self.session = endpoints.session

    def request(self, method, url, json=None, params=None):
        """One request to an absolute ``url``; a :class:`Response`."""
        headers = {'Accept': 'application/json',
                   'OpenStack-API-Version': 'compute ' + MICROVERSION,
                   'X-OpenStack-Nova-API-Version': MICROVERSION}
        try:
            resp = self.session.request(url, method, json=json,
                                        params=params, headers=headers,
                                        raise_exc=False)
        except ks_exceptions.ConnectFailure as e:
            # Its text ends with urllib3's whole story: the first
            # sentence says it.
            why = str(e).split(': ', 1)[0]
            raise exits.Unreachable('cannot reach %s: %s'
                                    % (self.endpoints.root, why)) from None
        except ks_exceptions.ClientException as e:
            why = ' '.join(str(e).split())
            raise exits.Unreachable('cannot reach or authenticate to %s: '
                                    '%s' % (self.endpoints.root, why)
                                    ) from None
        if resp.status_code == 401:
            raise exits.Unreachable('authentication refused: %s'
                                    % error_message(resp))
        if resp.status_code == 404:
            raise exits.NotFound(error_message(resp), 404)
        if 400 <= resp.status_code < 500:
            raise exits.Refused(error_message(resp), resp.status_code)
        if resp.status_code >= 500:
            raise exits.ServerError(error_message(resp))
        try:
            body = resp.json() if resp.content else None
        except ValueError:
            body = None
        return Response(resp.status_code, body,
                        resp.headers.get(REQUEST_ID_HEADER))

    def compute(self, method, path, **kwargs):
        return self.request(method, self.endpoints.compute + path, **kwargs)

    def console(self, method, path, **kwargs):
        return self.request(method, self.endpoints.console + path, **kwargs)

    def get(self, path, **kwargs):
        """The JSON body of a Compute API GET."""
        return self.compute('GET', path, **kwargs).body

    # --- lookups -------------------------------------------------------

    def server_or_none(self, server_id):
        """The server, or None once the API says 404."""
        try:
            return self.get('/servers/%s' % server_id)['server']
        except exits.NotFound:
            return None

    def find(self, collection, key, name_or_id, params=None):
        """The item of ``collection`` whose id or name is ``name_or_id``
        (an id first); :class:`exits.NotFound` or :class:`exits.Refused`
        (several match) otherwise."""
        try:
            return self.get('/%s/%s' % (collection, name_or_id))[key]
        except exits.NotFound:
            pass
        items = self.get('/%s/detail' % collection,
                         params=params)[collection]
        matches = [i for i in items if i.get('name') == name_or_id]
        if not matches:
            raise exits.NotFound('no %s named or with id %r'
                                 % (key, name_or_id), 404)
        if len(matches) > 1:
            raise exits.Refused('%d %ss are named %r: give an id'
                                % (len(matches), key, name_or_id))
        return matches[0]

    def find_server(self, name_or_id):
        return self.find('servers', 'server', name_or_id,
                         params={'name': '^%s$' % _regex_escape(name_or_id)})

    def find_flavor(self, name_or_id):
        return self.find('flavors', 'flavor', name_or_id)

    def find_image(self, name_or_id):
        base = self.endpoints.image + '/v2/images'
        try:
            return self.request('GET', '%s/%s' % (base, name_or_id)).body
        except exits.NotFound:
            pass
        images = self.request('GET', base,
                              params={'name': name_or_id}).body['images']
        if not images:
            raise exits.NotFound('no image named or with id %r'
                                 % name_or_id, 404)
        if len(images) > 1:
            raise exits.Refused('%d images are named %r: give an id'
                                % (len(images), name_or_id))
        return images[0]

    # --- the console API -----------------------------------------------

    def flows(self, **params):
        """Rows of ``GET /console/api/flows`` (oldest first)."""
        params = {k: v for k, v in params.items() if v is not None}
        return self.console('GET', '/flows', params=params).body['flows']

    def flow(self, uuid):
        """``GET /console/api/flows/{uuid}``'s flow (a prefix of 8 or more
        characters works)."""
        return self.console('GET', '/flows/%s' % uuid).body['flow']

    def console_server(self, server_id):
        """``GET /console/api/servers/{id}``: the server with its actions
        (each with its flow uuid) and faults; None on 404 (no such server,
        or an API without the console)."""
        try:
            return self.console('GET', '/servers/%s' % server_id).body
        except exits.NotFound:
            return None


def _regex_escape(text):
    """``text`` as a literal in the server list's name filter (a regular
    expression)."""
    return ''.join('\\' + c if c in '.^$*+?{}[]\\|()' else c for c in text)
