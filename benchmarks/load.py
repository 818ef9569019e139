"""Boot+delete through the HTTP API, as clients that wait do.

Each client boots a server (POST, then GETs until it is ACTIVE with no
task), deletes it (DELETE, then GETs until 404) and starts again, until
the run has done its count of operations. A client polls every
``poll_s`` (its GETs are part of the load, as real waiting clients'
are): 5 ms alone, else 10 ms per client up to 250 ms, so that all the
clients together send at most about 200 GETs per second (the API's
reads are measured too, not made the whole load). Latencies run from
the POST (the DELETE) to the response that shows the end; they are
rounded up by up to one poll.
"""

import threading
import time

import requests

from benchmarks import stats
from benchmarks.systems import API_HEADERS


class Client:
    """One HTTP client (keep-alive session) of ``url``."""

    def __init__(self, url, poll_s, timeout_s=120):
        self.url = url
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.http = requests.Session()
        self.http.headers.update(API_HEADERS)

    def catalog(self):
        flavor = self.http.get(self.url + '/v2.1/flavors').json()[
            'flavors'][0]['id']
        image = self.http.get(self.url + '/image/v2/images').json()[
            'images'][0]['id']
        return flavor, image

    def _poll(self, server_id, done):
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            resp = self.http.get(self.url + '/v2.1/servers/' + server_id)
            verdict = done(resp)
            if verdict is not None:
                return verdict
            time.sleep(self.poll_s)
        raise RuntimeError('server %s: no end within %s s'
                           % (server_id, self.timeout_s))

    def boot(self, flavor, image, name='bench'):
        """(server id, seconds, ok) of one boot."""
        start = time.monotonic()
        resp = self.http.post(self.url + '/v2.1/servers', json={'server': {
            'name': name, 'flavorRef': flavor, 'imageRef': image,
            'networks': 'none'}})
        if resp.status_code != 202:
            raise RuntimeError('boot refused: %s %s'
                               % (resp.status_code, resp.text[:300]))
        server_id = resp.json()['server']['id']

        def active(resp):
            server = resp.json()['server']
            if server['OS-EXT-STS:task_state'] is None and \
                    server['status'] in ('ACTIVE', 'ERROR'):
                return server['status'] == 'ACTIVE'
            return None

        ok = self._poll(server_id, active)
        return server_id, time.monotonic() - start, ok

    def delete(self, server_id):
        """(seconds, ok) of one delete."""
        start = time.monotonic()
        resp = self.http.delete(self.url + '/v2.1/servers/' + server_id)
        if resp.status_code not in (204, 404):
            raise RuntimeError('delete refused: %s %s'
                               % (resp.status_code, resp.text[:300]))
        ok = self._poll(server_id, lambda r: True if r.status_code == 404
                        else None)
        return time.monotonic() - start, ok


def boot_delete(url, concurrency, operations, poll_s=None):
    """``operations`` boot+delete cycles by ``concurrency`` clients.

    Returns {'ops_per_s', 'boot_p50_ms', 'boot_p99_ms', 'delete_p50_ms',
    'delete_p99_ms', 'errors'}.
    """
    if poll_s is None:
        poll_s = 0.005 if concurrency == 1 else min(0.25,
                                                    0.01 * concurrency)
    flavor, image = Client(url, poll_s).catalog()
    boots, deletes, errors = [], [], []
    lock = threading.Lock()
    remaining = [operations]

    def take():
        with lock:
            if remaining[0] <= 0:
                return False
            remaining[0] -= 1
            return True

    def work():
        client = Client(url, poll_s)
        while take():
            try:
                server_id, boot_s, ok = client.boot(flavor, image)
                delete_s, _ = client.delete(server_id)
            except Exception as e:  # noqa: BLE001 - counted, reported
                with lock:
                    errors.append(repr(e)[:200])
                continue
            with lock:
                boots.append(boot_s)
                deletes.append(delete_s)
                if not ok:
                    errors.append('a boot ended in ERROR')

    threads = [threading.Thread(target=work, daemon=True)
               for _ in range(concurrency)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    ms = 1000.0
    return {
        'ops_per_s': len(boots) / elapsed if elapsed else None,
        'boot_p50_ms': _scaled(stats.percentile(boots, 0.5), ms),
        'boot_p99_ms': _scaled(stats.percentile(boots, 0.99), ms),
        'delete_p50_ms': _scaled(stats.percentile(deletes, 0.5), ms),
        'delete_p99_ms': _scaled(stats.percentile(deletes, 0.99), ms),
        'errors': len(errors),
        'first_error': errors[0] if errors else None,
    }


def _scaled(value, factor):
    return None if value is None else value * factor
