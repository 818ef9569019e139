"""The web console in headless chromium against a real all-in-one
(tests/browser/conftest.py): an administrator of project A watches a
boot's flow run to the end, sees a failed spawn's failed and reverted
steps and repairs flows through the confirmation dialog; a member of
project B sees none of A's servers, no hosts page and no repair button.
Every main page is photographed (``TEST_ARTIFACTS``)."""

from tests.browser.conftest import USERS
from tests.browser.pages import attr
from tests.browser.pages import by_id
from tests.browser.pages import click
from tests.browser.pages import script_errors
from tests.browser.pages import css
from tests.browser.pages import shot
from tests.browser.pages import shown
from tests.browser.pages import text
from tests.browser.pages import wait

#: The boot flow's steps as the console names them.
BOOT_STEPS = ('BuildToErrorOnRevert', 'PrepareNetworks',
              'PrepareBlockDevices', 'FetchImage', 'SpawnOnHost',
              'MarkActive')


def sign_in(driver, system, user):
    """Open the console signed out, sign in as ``user``."""
    driver.get(system.url + '/console/')
    driver.execute_script('sessionStorage.clear()')
    driver.get(system.url + '/console/#/login')
    shown(driver, '#login-username').send_keys(user)
    by_id(driver, 'login-password').send_keys(USERS[user][0])
    by_id(driver, 'login-submit').click()
    shown(driver, '#page-servers')
    assert user in by_id(driver, 'who-name').text


def steps(driver):
    """{step name: state} of the flow graph on the page."""
    return driver.execute_script(
        'const out = {};'
        'for (const e of document.querySelectorAll("#flow-graph .step")) {'
        '  out[e.dataset.step] = e.dataset.state; }'
        'return out;')


def listed_servers(driver):
    """The ids of the servers listed on the servers page."""
    return driver.execute_script(
        'return [...document.querySelectorAll('
        '  "#servers-table tr[data-server]")].map((e) => e.dataset.server);')


def go(driver, system, fragment, page):
    driver.get(system.url + '/console/#/' + fragment)
    return shown(driver, '#' + page)


def flow_final(driver, state):
    """Wait until the flow page says it ended in ``state`` and its job
    left the board (the page polls no more)."""
    wait(driver, lambda d: css(
        d, '#page-flow[data-settled=true][data-state=%s]' % state),
        what='the flow to end %s' % state)


def open_flow_of(driver, system, server_id, action='create'):
    """From the server's page, follow its action's flow link."""
    go(driver, system, 'servers/' + server_id, 'page-server')
    link = '[data-action=%s] a.flow-link' % action
    shown(driver, link)
    flow_id = attr(driver, link, 'data-flow-link')
    click(driver, link)
    shown(driver, '#page-flow[data-flow="%s"]' % flow_id)
    return flow_id


def confirm(driver, button_id, accept, screenshot=None):
    """Click a repair button and answer its confirmation dialog (a
    screenshot of it first, when named)."""
    click(driver, '#' + button_id)
    shown(driver, '#confirm-dialog')
    assert attr(driver, '#confirm-dialog', 'open') is not None
    if screenshot:
        shot(driver, screenshot)
    click(driver, '#confirm-ok' if accept else '#confirm-cancel')
    wait(driver, lambda d: attr(d, '#confirm-dialog', 'open') is None,
         what='the dialog to close')


def frame_attempts(driver):
    return attr(driver, '.retry-frame', 'data-attempts')


def test_a_boot_runs_to_the_end_on_its_flow_page(driver, system):
    # Slow spawns: the flow is seen running before it is done.
    system.inject({'spawn': {'delay_s': 5}})
    try:
        sign_in(driver, system, 'ada')
        server_id = system.boot('ada', 'web-1')
        row = 'tr[data-server="%s"]' % server_id
        shown(driver, row)
        assert 'web-1' in text(driver, row)
        wait(driver, lambda d: attr(d, row, 'data-status') == 'BUILD',
             what='BUILD listed')
        flow_id = open_flow_of(driver, system, server_id)
        wait(driver, lambda d: steps(d).get('SpawnOnHost') == 'running',
             what='SpawnOnHost running')
        assert attr(driver, '#page-flow', 'data-final') == 'false'
        found = steps(driver)
        assert found['BuildToErrorOnRevert'] == 'success', found
        assert found['MarkActive'] == 'pending', found
        assert attr(driver, '.retry-frame', 'data-retry') == \
            'ScheduleInstance'
        # The host steps are inside the retry's frame, in order.
        framed = driver.execute_script(
            'return [...document.querySelectorAll(".retry-frame .step")]'
            '.map((e) => e.dataset.step);')
        assert framed == list(BOOT_STEPS[1:5])
        shot(driver, 'flow-running')
        # The same page, polling, sees the flow to its end.
        flow_final(driver, 'SUCCESS')
        assert driver.current_url.endswith('#/flows/' + flow_id)
        assert steps(driver) == {name: 'success' for name in BOOT_STEPS}
        assert frame_attempts(driver) == '1'
        assert 'SpawnOnHost' in text(driver, '#flow-timeline')
        assert css(driver, '#flow-retry') == []
        shot(driver, 'flow-done')
        go(driver, system, 'servers/' + server_id, 'page-server')
        wait(driver, lambda d: text(d, '#page-server h1 [data-status]') ==
             'ACTIVE', what='ACTIVE on its page')
        events = driver.execute_script(
            'const out = {};'
            'for (const e of document.querySelectorAll('
            '    "[data-action=create] tr[data-event]")) {'
            '  out[e.dataset.event] = e.dataset.result; }'
            'return out;')
        assert events, 'no steps listed on the server page'
        assert set(events.values()) == {'Success'}, events
        shot(driver, 'server')
    finally:
        system.inject({})


def test_a_failed_spawn_shows_failed_and_reverted_steps_then_retry(
        driver, system):
    system.inject({'spawn': 'raise'})
    try:
        sign_in(driver, system, 'ada')
        server_id = system.boot('ada', 'broken-1')
        system.wait_status('ada', server_id, 'ERROR')
        flow_id = open_flow_of(driver, system, server_id)
        flow_final(driver, 'REVERTED')
        found = steps(driver)
        assert found['BuildToErrorOnRevert'] == 'reverted', found
        assert found['MarkActive'] == 'pending', found
        # The host steps ran on both hosts, were undone each time and
        # reset by the retry, which then gave up.
        for name in BOOT_STEPS[1:5]:
            assert found[name] in ('pending', 'reverted'), found
            assert attr(driver, '[data-step=%s]' % name,
                        'data-attempts') == '2'
        assert attr(driver, '[data-step=SpawnOnHost]', 'data-undone') \
            == 'true'
        assert 'Injected fault in spawn' in text(
            driver, '[data-step=SpawnOnHost] .step-failure')
        assert attr(driver, '.retry-frame', 'data-state') == 'reverted'
        # Two placements, then a third run that found no host left.
        assert int(frame_attempts(driver)) >= 2
        assert 'No valid host' in text(driver, '.retry-failure')
        timeline = text(driver, '#flow-timeline')
        assert 'run finished (attempt 2)' in timeline
        assert 'revert finished' in timeline
        shot(driver, 'flow-reverted')
    finally:
        system.inject({})
    # Cancel first: nothing happens.
    confirm(driver, 'flow-retry', accept=False, screenshot='flow-confirm')
    assert attr(driver, '#page-flow', 'data-state') == 'REVERTED'
    assert system.status('ada', server_id) == 'ERROR'
    confirm(driver, 'flow-retry', accept=True)
    shown(driver, '#repair-notice.ok')
    flow_final(driver, 'SUCCESS')
    assert steps(driver) == {name: 'success' for name in BOOT_STEPS}
    system.wait_status('ada', server_id, 'ACTIVE')
    assert flow_id in driver.current_url


def test_a_failed_rollback_is_red_and_an_admin_reverts_it(driver, system):
    # The spawn fails and so does the destroy its revert calls.
    system.inject({'spawn': 'raise', 'destroy': 'raise'})
    try:
        sign_in(driver, system, 'ada')
        server_id = system.boot('ada', 'stuck-1')
        system.wait_status('ada', server_id, 'ERROR')
        go(driver, system, 'flows', 'page-flows')
        row = 'tr[data-instance="%s"]' % server_id
        shown(driver, row)
        assert attr(driver, row, 'data-state') == 'FAILURE'
        assert 'stuck-1' in text(driver, row)
        shot(driver, 'flows')
        open_flow_of(driver, system, server_id)
        flow_final(driver, 'FAILURE')
        found = steps(driver)
        assert found['SpawnOnHost'] == 'revert_failure', found
        assert found['FetchImage'] == 'success', found
        assert 'Injected fault in spawn' in text(
            driver, '[data-step=SpawnOnHost] .step-failure')
        assert css(driver, '#flow-retry') and css(driver, '#flow-revert')
        shot(driver, 'flow-failed')
    finally:
        system.inject({})
    confirm(driver, 'flow-revert', accept=True)
    shown(driver, '#repair-notice.ok')
    wait(driver, lambda d: attr(d, '#page-flow', 'data-settled') == 'true'
         and 'revert_failure' not in steps(d).values()
         and attr(d, '#page-flow', 'data-state') in ('REVERTED', 'SUCCESS'),
         what='the rollback to finish')
    assert css(driver, '#flow-revert') == []


def test_hosts_and_state_rules(driver, system):
    guest = system.boot('ada', 'guest-1')
    system.wait_status('ada', guest, 'ACTIVE')
    system.inject({'spawn': 'raise'})
    try:
        failed = system.boot('ada', 'err-1')
        system.wait_status('ada', failed, 'ERROR')
        system.inject({'spawn': {'delay_s': 8}})
        building = system.boot('ada', 'build-1')
        sign_in(driver, system, 'ada')
        # The list's filters: all projects shows the project; by name.
        row = 'tr[data-server="%s"]' % building
        wait(driver, lambda d: attr(d, row, 'data-status') == 'BUILD',
             what='build-1 listed in BUILD')
        assert attr(driver, 'tr[data-server="%s"]' % failed,
                    'data-status') == 'ERROR'
        assert not by_id(driver, 'servers-project-head').is_displayed()
        click(driver, '#filter-all-projects')
        shown(driver, '#servers-project-head')
        shot(driver, 'servers')
    finally:
        system.inject({})
    by_id(driver, 'filter-name').send_keys('guest-1')
    wait(driver, lambda d: listed_servers(d) == [guest],
         what='only guest-1 listed')
    assert by_id(driver, 'nav-hosts').is_displayed()
    # A slow live migration of guest-1: in flight on the hosts page.
    system.inject({'live_migration': {'delay_s': 6}})
    try:
        resp = system.api('ada', 'POST', '/v2.1/servers/%s/action' % guest,
                          json={'os-migrateLive': {
                              'host': None, 'block_migration': 'auto'}})
        assert resp.status_code == 202, resp.text
        go(driver, system, 'hosts', 'page-hosts')
        row = '#migrations tr[data-migration]'
        shown(driver, row)
        assert guest in attr(driver, row + ' a', 'href')
        # Copying the memory: its progress moves.
        wait(driver, lambda d: int(attr(d, row + ' [data-progress]',
                                        'data-progress') or 0) > 0,
             what='the migration to make progress')
    finally:
        system.inject({})
    wait(driver, lambda d: len(css(d, '.host[data-host]')) == 2,
         what='2 host cards')
    hosts = driver.execute_script(
        'return [...document.querySelectorAll(".host[data-host]")].map('
        '  (e) => [e.dataset.state, [...e.querySelectorAll('
        '    ".bar[data-usage]")].map((b) => b.dataset.usage)]);')
    assert hosts == [['up', ['vcpus', 'ram', 'disk']]] * 2
    shown(driver, '.host .guest[data-server="%s"]' % guest)
    shot(driver, 'hosts')
    go(driver, system, 'states', 'page-states')
    shown(driver, '#state-diagram')
    nodes = {e.get_attribute('data-vm-state') for e in
             css(driver, '#state-diagram .state-node')}
    assert {'active', 'building', 'error', 'stopped'} <= nodes
    assert css(driver, '#state-diagram path.edge[data-from=active]'
                       '[data-to=stopped]')
    cell = '#allowed-table tr[data-action=stop] td[data-vm-state=%s]'
    assert attr(driver, cell % 'active', 'data-allowed') == 'true'
    assert attr(driver, cell % 'stopped', 'data-allowed') == 'false'
    shot(driver, 'states')
    # Every page so far ran without a script error or a blocked load.
    assert script_errors(driver) == []


def test_a_member_of_another_project_sees_only_its_own(driver, system):
    private = system.boot('ada', 'a-private')
    system.wait_status('ada', private, 'ACTIVE')
    system.inject({'spawn': 'raise'})
    try:
        own = system.boot('ben', 'ben-broken')
        system.wait_status('ben', own, 'ERROR')
    finally:
        system.inject({})
    # A wrong password is refused on the page; nothing is kept.
    driver.get(system.url + '/console/')
    driver.execute_script('sessionStorage.clear()')
    driver.get(system.url + '/console/#/login')
    shown(driver, '#login-username').send_keys('ben')
    by_id(driver, 'login-password').send_keys('not-his-password')
    click(driver, '#login-submit')
    wait(driver, lambda d: 'refused' in text(d, '#login-error'),
         what='the refusal')
    assert driver.execute_script('return sessionStorage.length') == 0
    assert css(driver, '#page-servers') == []
    sign_in(driver, system, 'ben')
    row = 'tr[data-server="%s"]' % own
    shown(driver, row)
    assert 'ben-broken' in text(driver, row)
    assert listed_servers(driver) == [own]
    assert css(driver, '#filter-all-projects') == []
    # Hosts are not its to see: no filter, no column.
    assert css(driver, '#filter-host') == []
    assert 'host' not in text(driver, '#servers-table thead').lower()
    assert not by_id(driver, 'nav-hosts').is_displayed()
    shot(driver, 'reader-servers')
    # Project A's server is not found; the hosts page is not allowed.
    go(driver, system, 'servers/' + private, 'page-error')
    assert attr(driver, '#page-error', 'data-status') == '404'
    go(driver, system, 'hosts', 'page-error')
    assert attr(driver, '#page-error', 'data-status') == '403'
    # Its own failed flow, without a repair button.
    open_flow_of(driver, system, own)
    flow_final(driver, 'REVERTED')
    assert steps(driver)['BuildToErrorOnRevert'] == 'reverted'
    assert css(driver, '#flow-repair button') == []
    shot(driver, 'reader-flow')
    # Project A's flows are not listed to it.
    go(driver, system, 'flows', 'page-flows')
    click(driver, '#filter-flow-state option[value=all]')
    shown(driver, 'tr[data-flow]')
    wait(driver, lambda d: 'ben-broken' in text(d, '#flows-table'),
         what='its flow listed')
    assert script_errors(driver) == []
    assert 'a-private' not in text(driver, '#flows-table')


def _task(name, state, attempts=1):
    return {'kind': 'task', 'name': name, 'state': state,
            'intention': 'execute', 'attempts': attempts, 'start': None,
            'finish': None, 'duration_s': None, 'failure': None,
            'retry': None, 'children': []}


def test_the_flow_drawing_lays_out_every_pattern(driver, system):
    # No flow of the catalog has parallel branches yet: the drawing of a
    # tree that has them, in order, under a retry.
    tree = {'kind': 'linear', 'name': 'root', 'state': None, 'retry': None,
            'children': [
                _task('First', 'success'),
                {'kind': 'unordered', 'name': 'both', 'state': None,
                 'retry': None, 'children': [
                     _task('Left', 'running'), _task('Right', 'failure')]},
                {'kind': 'linear', 'name': 'tried', 'state': None,
                 'retry': dict(_task('Again', 'success', attempts=2),
                               kind='retry'),
                 'children': [_task('Inner', 'reverted', attempts=2),
                              _task('Last', 'pending', attempts=0)]}]}
    driver.get(system.url + '/console/')
    boxes = driver.execute_script(
        'const root = window.OrchestratorConsole.drawFlowTree('
        '    arguments[0], true);'
        'const holder = document.createElement("div");'
        'holder.id = "drawing";'
        'holder.append(root);'
        'document.body.append(holder);'
        'const out = {};'
        'for (const e of root.querySelectorAll(".step")) {'
        '  const r = e.getBoundingClientRect();'
        '  out[e.dataset.step] = [r.left, r.top, e.dataset.state,'
        '    Boolean(e.closest(".retry-frame"))]; }'
        'return out;', tree)
    # In order top to bottom; the parallel branches side by side.
    assert boxes['First'][1] < boxes['Left'][1] < boxes['Inner'][1] < \
        boxes['Last'][1]
    assert boxes['Left'][1] == boxes['Right'][1]
    assert boxes['Left'][0] < boxes['Right'][0]
    assert {name: box[2] for name, box in boxes.items()} == {
        'First': 'success', 'Left': 'running', 'Right': 'failure',
        'Inner': 'reverted', 'Last': 'pending'}
    # The retry frames its sub-flow only, labelled with its attempts.
    assert [name for name, box in boxes.items() if box[3]] == [
        'Inner', 'Last']
    assert attr(driver, '#drawing .retry-frame', 'data-retry') == 'Again'
    assert '2 attempts' in text(driver, '#drawing .retry-label')
