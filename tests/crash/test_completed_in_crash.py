"""A flow killed after its last step ended its task, resumed only after
the next request claimed the server, has finished: it is not rolled
back (found by the random-kill soak: a resumed boot destroyed the guest
of a live server).

A boot is SIGKILLed after ``MarkActive`` wrote the instance (ACTIVE, no
task) and before the logbook recorded it. The next start keeps the boot's
job from running (its dispatch fails at ``job:before-run``, so it is
retried) while a stop claims and stops the server. Killed again and
restarted unarmed, the boot's flow resumes in ``MarkActive``: it ends
SUCCESS, the stopped server keeps its guest and its allocation.
"""

from orchestrator import failpoints

from tests.crash import checks
from tests.crash import harness
from tests.crash import recipes
from tests.functional.systems import free_port
from tests.waiting import wait_for

BOOT = 'orchestrator-boot-server'


def _armed(*points):
    return {failpoints.ENV_VAR: ','.join(points)}


def test_boot_killed_after_its_last_write_is_not_rolled_back(
        template, launcher, tmp_path):
    template_dir, _servers = template
    state_dir = str(tmp_path / 'state')
    recipes.copy_template(template_dir, state_dir)
    aio = harness.AllInOneProcess(state_dir, free_port(), launcher=launcher)
    config = recipes.BASE_CONFIG
    try:
        aio.start(env=_armed('%s:MarkActive:after-execute=kill' % BOOT),
                  config=config)
        known = {i['uuid'] for i in checks.read_db(aio)['instances']}
        try:
            recipes.api(aio, 'POST', '/v2.1/servers',
                        json=recipes.create_body('done-in-crash'))
        except Exception:  # noqa: BLE001 - the process may die first
            pass
        assert aio.wait_exit(60) is not None, aio.log()
        (server_id,) = [i['uuid'] for i in checks.read_db(aio)['instances']
                        if i['uuid'] not in known]

        aio.start(env=_armed('%s:job:before-run=%s'
                             % (BOOT, failpoints.RAISE)), config=config)
        shown = aio.server(server_id)
        assert (shown['status'], shown['OS-EXT-STS:task_state']) == (
            'ACTIVE', None), shown
        resp = recipes.api(aio, 'POST', '/v2.1/servers/%s/action'
                           % server_id, json={'os-stop': None})
        assert resp.status_code == 202, resp.text
        wait_for(lambda: (aio.server(server_id) or {}).get('status')
                 == 'SHUTOFF', timeout=60, what='the stop')
        aio.kill()

        aio.start(config=config)
        wait_for(lambda: checks.settled(aio), timeout=120,
                 what='the boot to be resumed and settle')
        data = checks.read_db(aio)
        (boot,) = [f for f in data['flows'] if f['name'] == BOOT
                   and checks.flow_store(f)['instance_uuid'] == server_id]
        assert boot['state'] == 'SUCCESS', aio.log(4000)
        assert aio.server(server_id)['status'] == 'SHUTOFF'
        results = {a['action']: a['result'] for a in data['actions']
                   if a['instance_uuid'] == server_id}
        assert results == {'create': 'Success', 'stop': 'Success'}, results
        assert checks.problems(aio, data) == []
    finally:
        aio.close()
