/* The orchestrator web console: a single page, no framework, no build.
 *
 * Every datum comes from the console JSON API under api/ (relative to the
 * page, /console/api/...) with the caller's credentials: an
 * "Authorization: Basic" header (http_basic) or an X-Auth-Token
 * (keystone), kept in sessionStorage for this tab only; noauth needs
 * none. Pages are chosen by the URL's hash (#/servers, #/servers/<id>,
 * #/flows, #/flows/<uuid>, #/hosts, #/states) and refresh themselves by
 * polling. Everything the API returns is put into the page as text
 * (textContent, attributes), never as HTML.
 *
 * Elements carry stable ids and data attributes (data-server,
 * data-flow, data-step + data-state, data-host, ...) for tests.
 */
'use strict';

(function () {
  const AUTH_KEY = 'orchestrator.console.auth';
  const SERVERS_POLL_MS = 2000;
  const FLOW_POLL_MS = 1000;
  const LIST_POLL_MS = 2000;
  /* Flow states each repair starts from (orchestrator/flow_repair.py). */
  const REPAIRABLE = {retry: ['FAILURE', 'REVERTED'], revert: ['FAILURE']};
  const SERVER_STATUSES = [
    'ACTIVE', 'BUILD', 'ERROR', 'SHUTOFF', 'PAUSED', 'SUSPENDED', 'RESCUE',
    'REBOOT', 'HARD_REBOOT', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE',
    'REVERT_RESIZE', 'MIGRATING', 'SHELVED', 'SHELVED_OFFLOADED',
    'SOFT_DELETED', 'DELETED'];
  const STEP_STATES = [
    ['pending', 'pending'], ['running', 'running'], ['success', 'done'],
    ['failure', 'failed'], ['reverting', 'reverting'],
    ['reverted', 'reverted'], ['revert_failure', 'revert failed']];

  const S = {
    session: null,      /* the answer of api/session */
    generation: 0,      /* bumped on every page change: stale work stops */
    filters: {servers: {name: '', status: '', host: '', all: false},
              flows: {state: 'open', all: false}},
  };

  /* ---- DOM helpers --------------------------------------------------- */

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, kids);
    return el;
  }

  function svg(tag, attrs, ...kids) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    setAttrs(el, attrs);
    append(el, kids);
    return el;
  }

  function setAttrs(el, attrs) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) {
        continue;
      }
      if (key === 'class') {
        el.setAttribute('class', value);
      } else if (key.startsWith('on')) {
        el.addEventListener(key.slice(2), value);
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }

  function append(el, kids) {
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) {
        continue;
      }
      el.append(kid instanceof Node ? kid : document.createTextNode(
        String(kid)));
    }
  }

  function replace(el, ...kids) {
    el.replaceChildren();
    append(el, kids);
  }

  const main = () => document.getElementById('main');

  /* ---- formatting ---------------------------------------------------- */

  function dash(value) {
    return value === null || value === undefined || value === '' ? '—'
      : value;
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined) {
      return '—';
    }
    s = Math.max(0, s);
    if (s < 10) {
      return s.toFixed(s < 1 ? 2 : 1) + ' s';
    }
    if (s < 60) {
      return Math.round(s) + ' s';
    }
    const m = Math.floor(s / 60);
    if (m < 60) {
      return m + 'm ' + Math.round(s % 60) + 's';
    }
    const hrs = Math.floor(m / 60);
    if (hrs < 48) {
      return hrs + 'h ' + (m % 60) + 'm';
    }
    return Math.floor(hrs / 24) + 'd ' + (hrs % 24) + 'h';
  }

  function fmtAge(s) {
    return s === null || s === undefined ? '—' : fmtSeconds(s).replace(
      /\.\d+ s$/, ' s');
  }

  /* "2026-12-06 03:01:02" from an ISO 8601 UTC string (title: all of it). */
  function fmtTime(iso) {
    if (!iso) {
      return '—';
    }
    const text = String(iso).replace('T', ' ').replace(/\.\d+/, '')
      .replace(/(\+00:00|Z)$/, '');
    return h('time', {datetime: iso, title: iso + ' (UTC)'}, text);
  }

  function fmtClock(iso) {
    if (!iso) {
      return '—';
    }
    const m = String(iso).match(/T(\d\d:\d\d:\d\d)(\.\d{1,3})?/);
    return h('time', {datetime: iso, title: iso + ' (UTC)'},
      m ? m[1] + (m[2] || '') : String(iso));
  }

  /* Seconds from now to an ISO time (negative: past), or null. */
  function secondsUntil(iso) {
    const t = Date.parse(iso && !/[Z+]/.test(iso.slice(19)) ? iso + 'Z'
      : iso);
    return Number.isNaN(t) ? null : (t - Date.now()) / 1000;
  }

  function fmtLease(iso) {
    const s = secondsUntil(iso);
    if (s === null) {
      return '—';
    }
    return h('span', {class: s < 0 ? 'expired' : '', title: iso},
      s < 0 ? 'expired ' + fmtAge(-s) + ' ago' : 'in ' + fmtAge(s));
  }

  function short(uuid) {
    return uuid ? String(uuid).slice(0, 8) : '—';
  }

  function opName(name) {
    return String(name || '').replace(/^orchestrator-/, '')
      .replace(/-server$/, '');
  }

  function mb(value) {
    return value >= 1024 ? (value / 1024).toFixed(value % 1024 ? 1 : 0) +
      ' GB' : value + ' MB';
  }

  function badge(text, kind, attrs) {
    return h('span', Object.assign({class: 'badge ' + kind}, attrs || {}),
      text);
  }

  function statusBadge(status) {
    const s = String(status || 'UNKNOWN');
    let kind = 'neutral';
    if (s === 'ACTIVE') {
      kind = 'ok';
    } else if (s === 'ERROR') {
      kind = 'bad';
    } else if (['SHUTOFF', 'SHELVED', 'SHELVED_OFFLOADED', 'SOFT_DELETED',
      'DELETED', 'PAUSED', 'SUSPENDED'].includes(s)) {
      kind = 'idle';
    } else {
      kind = 'busy';
    }
    return badge(s, kind, {'data-status': s});
  }

  function flowStateBadge(state) {
    const s = String(state || '').toUpperCase();
    const kinds = {SUCCESS: 'ok', FAILURE: 'bad', REVERTED: 'reverted',
      RUNNING: 'busy', REVERTING: 'warn', PENDING: 'idle',
      SUSPENDED: 'idle', RESUMING: 'busy'};
    return badge(s || '—', kinds[s] || 'neutral', {'data-flow-state': s});
  }

  function resultBadge(result) {
    if (!result) {
      return badge('running', 'busy');
    }
    return badge(result, /success/i.test(result) ? 'ok' : 'bad');
  }

  /* A usage bar: used of total, with the numbers beside it. */
  function bar(used, total, label, attrs) {
    const ratio = total ? Math.min(1, Math.max(0, used / total)) : 0;
    const fill = h('div', {class: 'fill' + (ratio > 0.9 ? ' high' : '')});
    fill.style.width = (ratio * 100).toFixed(1) + '%';
    return h('div', Object.assign({class: 'bar', role: 'meter',
      'aria-valuenow': used, 'aria-valuemin': 0, 'aria-valuemax': total,
      title: label}, attrs || {}), fill,
    h('span', {class: 'bar-label'}, label));
  }

  /* The progress of a task in flight (nothing when none runs). */
  function progressBar(progress, active) {
    if (!active) {
      return '—';
    }
    if (progress === null || progress === undefined) {
      return h('div', {class: 'bar indeterminate'},
        h('div', {class: 'fill'}));
    }
    const el = bar(progress, 100, progress + '%',
      {'data-progress': progress});
    el.classList.add('progress');
    return el;
  }

  /* ---- credentials and the API --------------------------------------- */

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function loadAuth() {
    try {
      return JSON.parse(sessionStorage.getItem(AUTH_KEY)) || null;
    } catch (e) {
      return null;
    }
  }

  function saveAuth(auth) {
    if (auth) {
      sessionStorage.setItem(AUTH_KEY, JSON.stringify(auth));
    } else {
      sessionStorage.removeItem(AUTH_KEY);
    }
  }

  function authHeaders(auth) {
    if (!auth) {
      return {};
    }
    if (auth.kind === 'basic') {
      return {Authorization: 'Basic ' + auth.value};
    }
    return {'X-Auth-Token': auth.value};
  }

  function basicValue(user, password) {
    const bytes = new TextEncoder().encode(user + ':' + password);
    let text = '';
    bytes.forEach((b) => { text += String.fromCharCode(b); });
    return btoa(text);
  }

  /* The message of a Nova-style fault ({"itemNotFound": {"message"}}). */
  function faultMessage(body, status) {
    if (body && typeof body === 'object') {
      for (const value of Object.values(body)) {
        if (value && typeof value === 'object' && value.message) {
          return value.message;
        }
      }
    }
    return 'HTTP ' + status;
  }

  async function request(path, options, auth) {
    const opts = options || {};
    const headers = Object.assign({Accept: 'application/json'},
      authHeaders(auth === undefined ? loadAuth() : auth));
    let body;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const resp = await fetch('api/' + path, {method: opts.method || 'GET',
      headers: headers, body: body, cache: 'no-store',
      credentials: 'omit'});
    let data = null;
    const text = await resp.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
    if (!resp.ok) {
      throw new ApiError(resp.status, faultMessage(data, resp.status));
    }
    return data;
  }

  /* A data call of a page: a 401 ends the session (back to sign in). */
  async function api(path, options) {
    try {
      return await request(path, options);
    } catch (e) {
      if (e.status === 401 && S.session &&
          S.session.auth_strategy !== 'noauth') {
        signOut('Your credentials were refused; sign in again.');
      }
      throw e;
    }
  }

  async function fetchSession(auth) {
    try {
      return await request('session', {}, auth);
    } catch (e) {
      if (e.status === 401) {
        return {authenticated: false};
      }
      throw e;
    }
  }

  /* ---- banner, confirmation ------------------------------------------ */

  function showBanner(text, kind) {
    const el = document.getElementById('banner');
    el.textContent = text;
    el.className = kind || 'error';
    el.hidden = !text;
  }

  function confirmAction(title, text, okLabel) {
    const dialog = document.getElementById('confirm-dialog');
    document.getElementById('confirm-title').textContent = title;
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-ok').textContent = okLabel;
    dialog.returnValue = '';
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(
        dialog.returnValue === 'ok'), {once: true});
      dialog.showModal();
      document.getElementById('confirm-cancel').focus();
    });
  }

  /* ---- polling -------------------------------------------------------- */

  /* Runs load() now and every intervalMs until the page changes or it
   * returns true (done). Errors show in the banner and polling goes on. */
  function poll(load, intervalMs) {
    const generation = S.generation;
    const alive = () => generation === S.generation;
    (async () => {
      while (alive()) {
        let done = false;
        try {
          done = await load(alive);
          if (alive()) {
            showBanner('');
          }
        } catch (e) {
          if (!alive()) {
            return;
          }
          if (e.status === 404 || e.status === 403) {
            showPageError(e);
            return;
          }
          showBanner(e.message || String(e));
        }
        if (done || !alive()) {
          return;
        }
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
    return alive;
  }

  function showPageError(e) {
    const text = e.status === 403
      ? 'You are not allowed to see this page.' : e.message;
    replace(main(), h('section', {class: 'page', id: 'page-error',
      'data-status': e.status}, h('h1', {}, e.status === 403
      ? 'Not allowed' : 'Not found'), h('p', {class: 'empty'}, text)));
  }

  function stamp(el) {
    replace(el, 'updated ', new Date().toLocaleTimeString());
  }

  /* ---- sign in -------------------------------------------------------- */

  function signOut(message) {
    saveAuth(null);
    S.session = null;
    location.hash = '#/login';
    start(message);
  }

  async function tryAuth(auth, errorEl) {
    const session = await fetchSession(auth);
    if (!session.authenticated) {
      errorEl.textContent = 'Those credentials were refused.';
      return;
    }
    saveAuth(auth);
    S.session = session;
    showIdentity(session);
    history.replaceState(null, '', '#/servers');
    route();
  }

  function field(id, label, type, extra) {
    return h('label', {for: id}, label, h('input', Object.assign({id: id,
      name: id, type: type || 'text', autocomplete: 'off'}, extra || {})));
  }

  function renderLogin(strategy, message) {
    const error = h('p', {class: 'form-error', id: 'login-error',
      role: 'alert'}, message || '');
    const busy = (form, fn) => async (ev) => {
      ev.preventDefault();
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      error.textContent = '';
      try {
        await fn();
      } catch (e) {
        error.textContent = e.status === 401
          ? 'Those credentials were refused.' : e.message;
      } finally {
        button.disabled = false;
      }
    };
    const forms = [];
    if (strategy === 'http_basic') {
      const form = h('form', {id: 'login-form', class: 'card login'},
        h('h1', {}, 'Sign in'),
        field('login-username', 'User name', 'text',
          {autocomplete: 'username', required: true}),
        field('login-password', 'Password', 'password',
          {autocomplete: 'current-password', required: true}),
        h('button', {type: 'submit', id: 'login-submit',
          class: 'primary'}, 'Sign in'), error);
      form.addEventListener('submit', busy(form, () => tryAuth(
        {kind: 'basic', value: basicValue(
          form.querySelector('#login-username').value,
          form.querySelector('#login-password').value)}, error)));
      forms.push(form);
    } else if (strategy === 'keystone') {
      const form = h('form', {id: 'login-form', class: 'card login'},
        h('h1', {}, 'Sign in with Keystone'),
        field('login-username', 'User name', 'text',
          {autocomplete: 'username', required: true}),
        field('login-password', 'Password', 'password',
          {autocomplete: 'current-password', required: true}),
        field('login-project', 'Project', 'text', {required: true}),
        field('login-domain', 'Domain', 'text', {value: 'Default'}),
        h('button', {type: 'submit', id: 'login-submit',
          class: 'primary'}, 'Sign in'), error);
      form.addEventListener('submit', busy(form, async () => {
        const domain = form.querySelector('#login-domain').value ||
          'Default';
        const answer = await request('login', {method: 'POST', body: {
          username: form.querySelector('#login-username').value,
          password: form.querySelector('#login-password').value,
          project_name: form.querySelector('#login-project').value,
          user_domain_name: domain, project_domain_name: domain}}, null);
        await tryAuth({kind: 'token', value: answer.token}, error);
      }));
      const tokenForm = h('form', {id: 'token-form', class: 'card login'},
        h('h2', {}, 'Or paste a token'),
        field('login-token', 'Keystone token', 'password',
          {required: true}),
        h('button', {type: 'submit', id: 'token-submit'}, 'Use token'));
      tokenForm.addEventListener('submit', busy(tokenForm, () => tryAuth(
        {kind: 'token', value: tokenForm.querySelector('#login-token')
          .value.trim()}, error)));
      forms.push(form, tokenForm);
    } else {
      forms.push(h('div', {class: 'card login'}, h('h1', {}, 'No access'),
        h('p', {}, 'The API refused the console (auth strategy ' +
          strategy + ').'), error));
    }
    replace(main(), h('section', {class: 'page', id: 'page-login'},
      forms));
    const first = main().querySelector('input');
    if (first) {
      first.focus();
    }
  }

  /* ---- servers -------------------------------------------------------- */

  function serversQuery() {
    const f = S.filters.servers;
    const q = new URLSearchParams();
    for (const key of ['status', 'host', 'name']) {
      if (f[key]) {
        q.set(key, f[key]);
      }
    }
    if (f.all && S.session.can_view_all) {
      q.set('all_projects', '1');
    }
    const text = q.toString();
    return text ? '?' + text : '';
  }

  function renderServers() {
    const f = S.filters.servers;
    const body = h('tbody', {});
    const updated = h('span', {class: 'updated', id: 'servers-updated'});
    const empty = h('p', {class: 'empty', id: 'servers-empty', hidden: true},
      'No servers match.');
    const projectHead = h('th', {id: 'servers-project-head'}, 'Project');
    let refreshSoon = null;
    /* A filter changed: poll again with it (the page and its inputs
     * stay; typing is waited for a moment). */
    const onFilter = (key, value) => {
      f[key] = value;
      clearTimeout(refreshSoon);
      refreshSoon = setTimeout(() => {
        S.generation += 1;
        startPolling();
      }, 300);
    };
    const statusSelect = h('select', {id: 'filter-status',
      onchange: (ev) => onFilter('status', ev.target.value)},
    h('option', {value: ''}, 'any status'),
    SERVER_STATUSES.map((s) => h('option', {value: s,
      selected: s === f.status}, s)));
    const filters = h('form', {class: 'filters', id: 'server-filters',
      onsubmit: (ev) => ev.preventDefault()},
    h('input', {id: 'filter-name', type: 'search', placeholder: 'name',
      value: f.name, oninput: (ev) => onFilter('name', ev.target.value)}),
    statusSelect,
    // Hosts are shown to, and filtered by, those who may see them only.
    S.session.can_view_all ? h('input', {id: 'filter-host', type: 'search',
      placeholder: 'host', value: f.host,
      oninput: (ev) => onFilter('host', ev.target.value)}) : null,
    S.session.can_view_all ? h('label', {class: 'check'},
      h('input', {type: 'checkbox', id: 'filter-all-projects',
        checked: f.all,
        onchange: (ev) => onFilter('all', ev.target.checked)}),
      'all projects') : null);
    replace(main(), h('section', {class: 'page', id: 'page-servers'},
      h('div', {class: 'toolbar'}, h('h1', {}, 'Servers'), filters,
        updated),
      h('table', {class: 'grid', id: 'servers-table'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'),
          h('th', {}, 'Status'), h('th', {}, 'Task'),
          h('th', {class: 'w-progress'}, 'Progress'),
          S.session.can_view_all ? h('th', {}, 'Host') : null,
          h('th', {}, 'Flavor'), projectHead, h('th', {}, 'Age'))),
        body),
      empty));
    const startPolling = () => poll(async (alive) => {
      const data = await api('servers' + serversQuery());
      if (!alive()) {
        return false;
      }
      const all = f.all && S.session.can_view_all;
      projectHead.hidden = !all;
      replace(body, data.servers.map((s) => serverRow(s, all)));
      empty.hidden = data.servers.length > 0;
      stamp(updated);
      return false;
    }, SERVERS_POLL_MS);
    startPolling();
  }

  function flavorText(flavor) {
    if (!flavor) {
      return '—';
    }
    return h('span', {title: flavor.vcpus + ' vCPU, ' + mb(flavor.ram) +
      ' RAM, ' + flavor.disk + ' GB disk'}, flavor.name,
    h('small', {}, ' ' + flavor.vcpus + ' vCPU · ' + mb(flavor.ram)));
  }

  function serverRow(s, withProject) {
    const busy = Boolean(s.task_state) || s.status === 'BUILD';
    return h('tr', {'data-server': s.id, 'data-status': s.status,
      'data-name': s.name},
    h('td', {}, h('a', {href: '#/servers/' + s.id, class: 'name'},
      s.name || s.id), s.locked ? h('span', {class: 'lock',
      title: 'locked'}, ' 🔒') : null, h('div', {class: 'sub mono'},
      short(s.id))),
    h('td', {}, statusBadge(s.status)),
    h('td', {class: 'task'}, dash(s.task_state)),
    h('td', {}, progressBar(s.progress, busy)),
    S.session.can_view_all ? h('td', {}, dash(s.host)) : null,
    h('td', {}, flavorText(s.flavor)),
    withProject ? h('td', {class: 'mono'}, s.project_id) : null,
    h('td', {}, fmtAge(s.age_s)));
  }

  function renderServer(id) {
    const head = h('div', {class: 'page-head'});
    const details = h('div', {});
    replace(main(), h('section', {class: 'page', id: 'page-server',
      'data-server': id}, h('p', {class: 'crumbs'},
      h('a', {href: '#/servers'}, 'Servers'), ' / ', short(id)),
    head, details));
    poll(async (alive) => {
      const data = await api('servers/' + encodeURIComponent(id));
      if (!alive()) {
        return false;
      }
      const s = data.server;
      replace(head, h('h1', {}, s.name || s.id, ' ', statusBadge(s.status)),
        h('span', {class: 'updated', id: 'server-updated'}, 'updated ',
          new Date().toLocaleTimeString()));
      replace(details, serverFacts(s), s.fault ? faultBox(s.fault) : null,
        h('h2', {}, 'Actions'), data.actions.length ? data.actions.map(
          actionCard) : h('p', {class: 'empty'}, 'No actions.'),
        h('h2', {}, 'Faults'), faultsTable(data.faults));
      return false;
    }, SERVERS_POLL_MS);
  }

  function facts(pairs, id) {
    return h('dl', {class: 'facts', id: id}, pairs.filter(Boolean).map(
      ([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  function serverFacts(s) {
    const busy = Boolean(s.task_state);
    return facts([
      ['ID', h('span', {class: 'mono'}, s.id)],
      ['vm_state', dash(s.vm_state)],
      ['task_state', h('span', {id: 'server-task-state'},
        dash(s.task_state))],
      ['power_state', dash(s.power_state)],
      ['progress', progressBar(s.progress, busy)],
      S.session.can_view_all ? ['host', dash(s.host)] : null,
      ['flavor', flavorText(s.flavor)],
      ['project', h('span', {class: 'mono'}, dash(s.project_id))],
      ['created', fmtTime(s.created)],
      ['age', fmtAge(s.age_s)],
      ['locked', s.locked ? 'yes' : 'no'],
    ], 'server-facts');
  }

  function faultBox(fault) {
    return h('div', {class: 'fault', id: 'server-fault'},
      h('strong', {}, 'Fault ', dash(fault.code), ': '), dash(fault.message),
      fault.details ? h('details', {}, h('summary', {}, 'details'),
        h('pre', {}, fault.details)) : null);
  }

  function actionCard(a) {
    const rows = (a.events || []).map((e) => h('tr', {
      'data-event': e.event, 'data-result': e.result || 'running'},
    h('td', {}, e.event), h('td', {}, fmtClock(e.start_time)),
    h('td', {}, fmtClock(e.finish_time)),
    h('td', {class: 'num'}, fmtSeconds(e.duration_s)),
    h('td', {class: 'num'}, dash(e.attempts)),
    h('td', {}, resultBadge(e.result), e.traceback ? h('details', {},
      h('summary', {}, 'traceback'), h('pre', {}, e.traceback)) : null)));
    return h('div', {class: 'card action', 'data-action': a.action,
      'data-request': a.request_id},
    h('div', {class: 'action-head'}, h('strong', {}, a.action),
      h('span', {class: 'sub'}, ' ', fmtTime(a.start_time), ' → ',
        a.finish_time ? fmtTime(a.finish_time) : 'running'),
      a.message ? badge(a.message, /error|fail/i.test(a.message) ? 'bad'
        : 'neutral') : null,
      h('span', {class: 'sub'}, ' by ', dash(a.user_id)),
      a.flow_uuid ? h('a', {href: '#/flows/' + a.flow_uuid,
        class: 'flow-link', 'data-flow-link': a.flow_uuid},
      'flow ' + short(a.flow_uuid) + ' ›') : null),
    rows.length ? h('table', {class: 'grid compact'}, h('thead', {},
      h('tr', {}, h('th', {}, 'Step'), h('th', {}, 'Started'),
        h('th', {}, 'Finished'), h('th', {class: 'num'}, 'Duration'),
        h('th', {class: 'num'}, 'Attempts'), h('th', {}, 'Result'))),
    h('tbody', {}, rows)) : h('p', {class: 'empty'}, 'No steps recorded.'));
  }

  function faultsTable(faults) {
    if (!faults || !faults.length) {
      return h('p', {class: 'empty', id: 'server-faults'}, 'No faults.');
    }
    return h('table', {class: 'grid compact', id: 'server-faults'},
      h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Code'),
        h('th', {}, 'Message'))),
      h('tbody', {}, faults.map((f) => h('tr', {'data-fault': f.code},
        h('td', {}, fmtTime(f.created)), h('td', {}, dash(f.code)),
        h('td', {}, f.message, f.details ? h('details', {},
          h('summary', {}, 'details'), h('pre', {}, f.details)) : null)))));
  }

  /* ---- flows ---------------------------------------------------------- */

  function renderFlows() {
    const f = S.filters.flows;
    const body = h('tbody', {});
    const updated = h('span', {class: 'updated', id: 'flows-updated'});
    const empty = h('p', {class: 'empty', id: 'flows-empty', hidden: true},
      'No flows.');
    const change = (key, value) => {
      f[key] = value;
      S.generation += 1;
      startPolling();
    };
    const filters = h('form', {class: 'filters', id: 'flow-filters',
      onsubmit: (ev) => ev.preventDefault()},
    h('select', {id: 'filter-flow-state',
      onchange: (ev) => change('state', ev.target.value)},
    [['open', 'in flight and failed'], ['failed', 'failed'],
      ['all', 'all, finished too']].map(([v, t]) => h('option',
      {value: v, selected: v === f.state}, t))),
    S.session.can_view_all ? h('label', {class: 'check'},
      h('input', {type: 'checkbox', id: 'filter-flows-all-projects',
        checked: f.all, onchange: (ev) => change('all', ev.target.checked)}),
      'all projects') : null);
    replace(main(), h('section', {class: 'page', id: 'page-flows'},
      h('div', {class: 'toolbar'}, h('h1', {}, 'Flows'), filters, updated),
      h('table', {class: 'grid', id: 'flows-table'}, h('thead', {},
        h('tr', {}, h('th', {}, 'Flow'), h('th', {}, 'Operation'),
          h('th', {}, 'State'), h('th', {}, 'Server'),
          h('th', {}, 'Current step'), h('th', {}, 'Owner'),
          h('th', {}, 'Lease'), h('th', {}, 'Age'))), body), empty));
    const startPolling = () => poll(async (alive) => {
      const q = new URLSearchParams({state: f.state});
      if (f.all && S.session.can_view_all) {
        q.set('all_projects', '1');
      }
      const data = await api('flows?' + q.toString());
      if (!alive()) {
        return false;
      }
      replace(body, data.flows.map(flowRow));
      empty.hidden = data.flows.length > 0;
      stamp(updated);
      return false;
    }, LIST_POLL_MS);
    startPolling();
  }

  function flowRow(fl) {
    return h('tr', {'data-flow': fl.uuid, 'data-state': fl.state,
      'data-instance': fl.instance},
      h('td', {}, h('a', {href: '#/flows/' + fl.uuid, class: 'mono'},
        short(fl.uuid))),
      h('td', {}, opName(fl.name)),
      h('td', {}, flowStateBadge(fl.state)),
      h('td', {}, fl.instance ? h('a', {href: '#/servers/' + fl.instance},
        fl.instance_name || short(fl.instance)) : '—'),
      h('td', {class: 'task'}, dash(fl.step)),
      h('td', {}, dash(fl.owner)),
      h('td', {}, fl.lease_expires ? fmtLease(fl.lease_expires) : '—'),
      h('td', {}, fmtAge(fl.age_s)));
  }

  function renderFlow(id) {
    const head = h('div', {class: 'page-head'});
    const repair = h('div', {class: 'repair', id: 'flow-repair'});
    const info = h('div', {});
    const graph = h('div', {class: 'graph', id: 'flow-graph'});
    const timeline = h('div', {id: 'flow-timeline'});
    const notice = h('p', {class: 'notice', id: 'repair-notice',
      hidden: true});
    replace(main(), h('section', {class: 'page', id: 'page-flow',
      'data-flow': id},
    h('p', {class: 'crumbs'}, h('a', {href: '#/flows'}, 'Flows'), ' / ',
      short(id)),
    head, repair, notice, info,
    h('h2', {}, 'Steps'), legend(), graph,
    h('h2', {}, 'Timeline'), timeline));
    let lastState = null;
    const load = async (alive) => {
      const data = await api('flows/' + encodeURIComponent(id));
      if (!alive()) {
        return true;
      }
      const fl = data.flow;
      const page = document.getElementById('page-flow');
      page.dataset.state = fl.state;
      page.dataset.final = String(Boolean(fl.final));
      replace(head, h('h1', {}, opName(fl.name), ' ',
        flowStateBadge(fl.state)),
      h('span', {class: 'live' + (fl.final ? ' final' : ''),
        id: 'flow-live'}, fl.final ? 'finished' : 'live'));
      replace(info, facts([
        ['flow', h('span', {class: 'mono'}, fl.uuid)],
        ['operation', fl.name],
        ['server', fl.instance ? h('a', {href: '#/servers/' + fl.instance,
          id: 'flow-server'}, fl.instance_name || fl.instance) : '—'],
        ['project', h('span', {class: 'mono'}, dash(fl.project_id))],
        ['request', h('span', {class: 'mono'}, dash(fl.request_id))],
        ['owner', dash(fl.owner)],
        ['job', h('span', {class: 'mono'}, dash(fl.job))],
        ['lease', fl.lease_expires ? fmtLease(fl.lease_expires) : '—'],
        ['resume policy', dash(fl.resume_policy)],
        ['age', fmtAge(fl.age_s)],
      ], 'flow-facts'));
      /* Settled: ended, and its job gone from the board (a repair of a
       * flow whose job is still there is refused). */
      const settled = Boolean(fl.final) && !fl.job;
      page.dataset.settled = String(settled);
      const repairKey = fl.state + '/' + settled;
      if (repairKey !== lastState) {
        renderRepair(repair, notice, fl, settled, () => restart());
        lastState = repairKey;
      }
      replace(graph, drawNode(fl.tree, true));
      replace(timeline, timelineTable(fl.timeline));
      return settled;
    };
    const restart = () => poll(load, FLOW_POLL_MS);
    restart();
  }

  function legend() {
    return h('div', {class: 'legend'}, STEP_STATES.map(([state, label]) =>
      h('span', {class: 'legend-item'}, h('span', {class: 'swatch step',
        'data-state': state}), label)),
    h('span', {class: 'legend-item'}, h('span', {class: 'swatch step',
      'data-state': 'pending', 'data-undone': 'true'}),
    'undone and reset (a retry\'s sub-flow)'));
  }

  function renderRepair(el, notice, fl, settled, restart) {
    replace(el);
    if (!S.session.can_repair || !settled) {
      return;
    }
    const state = String(fl.state).toUpperCase();
    const button = (mode, label, text) => h('button', {type: 'button',
      id: 'flow-' + mode, class: mode === 'revert' ? 'danger' : 'primary',
      onclick: async (ev) => {
        const ok = await confirmAction(label + ' this flow?', text,
          label);
        if (!ok) {
          return;
        }
        ev.target.disabled = true;
        try {
          const answer = await api('flows/' + encodeURIComponent(fl.uuid) +
            '/' + mode, {method: 'POST', body: {confirm: true}});
          notice.className = 'notice ok';
          notice.textContent = label + ' started: the flow is ' +
            answer.flow.state + '.';
          notice.hidden = false;
          restart();
        } catch (e) {
          notice.className = 'notice bad';
          notice.textContent = label + ' refused: ' + e.message;
          notice.hidden = false;
          ev.target.disabled = false;
        }
      }}, label);
    if (REPAIRABLE.retry.includes(state)) {
      el.append(button('retry', 'Retry',
        'Every step that failed or was undone runs again, from the ' +
        'first of them. The server is claimed again for this flow.'));
    }
    if (REPAIRABLE.revert.includes(state)) {
      el.append(button('revert', 'Revert',
        'The steps whose revert failed are reverted again and the ' +
        'rollback finishes.'));
    }
  }

  /* One node of the flow's tree: a step (task), or a pattern drawn as a
   * column (linear: in order, top to bottom) or a row (unordered or
   * graph: side by side); a pattern under a retry is framed by it. */
  function drawNode(node, root) {
    if (!node) {
      return h('p', {class: 'empty'}, 'No steps.');
    }
    if (node.kind === 'task') {
      return drawStep(node, 'task');
    }
    const kind = node.kind === 'linear' ? 'linear' : 'parallel';
    const kids = [];
    (node.children || []).forEach((c, i) => {
      if (i > 0 && kind === 'linear') {
        kids.push(h('div', {class: 'connector'}));
      }
      kids.push(drawNode(c, false));
    });
    const box = h('div', {class: 'pattern ' + kind, 'data-kind': node.kind,
      'data-pattern': node.name},
    !root && !node.retry ? h('div', {class: 'pattern-label'},
      node.kind === 'linear' ? node.name : node.kind + ': ' + node.name)
      : null,
    h('div', {class: 'pattern-body'}, kids));
    if (!node.retry) {
      return box;
    }
    const r = node.retry;
    const rState = stepState(r.state);
    /* Attempts: as the retry counts them, or as often as a step of its
     * sub-flow ran when that is more (a reverted retry forgets its
     * history). */
    const tries = Math.max(r.attempts || 0, ...(node.children || []).map(
      (c) => (c.kind === 'task' ? c.attempts || 0 : 0)));
    return h('div', {class: 'retry-frame', 'data-retry': r.name,
      'data-state': rState, 'data-attempts': tries},
    h('div', {class: 'retry-label'}, h('span', {class: 'retry-icon'}, '↻'),
      ' ', r.name, ' · ', h('span', {class: 'attempts'},
        tries + (tries === 1 ? ' attempt' : ' attempts')),
      ' · ', rState.replace('_', ' '), r.duration_s !== null &&
        r.duration_s !== undefined ? ' · ' + fmtSeconds(r.duration_s)
        : null),
    r.failure ? h('div', {class: 'retry-failure'}, r.failure) : null,
    h('div', {class: 'pattern-label'}, node.name), box);
  }

  /* A step's state in lower case (TaskFlow spells them in capitals). */
  function stepState(state) {
    return String(state || 'pending').toLowerCase();
  }

  function drawStep(node) {
    const state = stepState(node.state);
    const tip = [node.name, 'state: ' + state,
      node.intention ? 'intention: ' + node.intention : null,
      node.start ? 'started ' + node.start : null,
      node.finish ? 'finished ' + node.finish : null,
      node.failure ? 'failure: ' + node.failure : null].filter(Boolean);
    /* A pending step that ran was undone and reset for the retry's next
     * attempt (TaskFlow resets a retry's sub-flow once reverted). */
    const undone = state === 'pending' && node.attempts > 0;
    return h('div', {class: 'step', 'data-step': node.name,
      'data-state': state, 'data-attempts': node.attempts || 0,
      'data-undone': undone ? 'true' : null, title: tip.join('\n')},
    h('div', {class: 'step-name'}, node.name),
    h('div', {class: 'step-meta'}, h('span', {class: 'step-state'},
      undone ? 'undone, reset' : state.replace('_', ' ')),
    node.duration_s !== null && node.duration_s !== undefined
      ? ' · ' + fmtSeconds(node.duration_s) : null,
    node.attempts > 1 ? ' · ran ' + node.attempts + '×' : null),
    node.failure ? h('div', {class: 'step-failure'}, node.failure) : null);
  }

  function timelineTable(events) {
    if (!events || !events.length) {
      return h('p', {class: 'empty'}, 'Nothing happened yet.');
    }
    return h('table', {class: 'grid compact timeline'}, h('thead', {},
      h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Step'),
        h('th', {}, 'What'), h('th', {}, 'Result'))),
    h('tbody', {}, events.map((e) => h('tr', {'data-step': e.step,
      'data-what': e.what},
    h('td', {}, fmtClock(e.time)), h('td', {}, dash(e.step)),
    h('td', {}, dash(e.what)), h('td', {class: 'result' + (
      /error|fail/i.test(e.result || '') ? ' bad' : '')},
    dash(e.result))))));
  }

  /* ---- hosts ---------------------------------------------------------- */

  function renderHosts() {
    const grid = h('div', {class: 'hosts', id: 'hosts'});
    const migrations = h('div', {id: 'migrations'});
    const updated = h('span', {class: 'updated', id: 'hosts-updated'});
    replace(main(), h('section', {class: 'page', id: 'page-hosts'},
      h('div', {class: 'toolbar'}, h('h1', {}, 'Hosts'), updated), grid,
      h('h2', {}, 'Migrations in flight'), migrations));
    poll(async (alive) => {
      const data = await api('hosts');
      if (!alive()) {
        return false;
      }
      replace(grid, data.hosts.length ? data.hosts.map(hostCard)
        : h('p', {class: 'empty'}, 'No hosts.'));
      replace(migrations, migrationsTable(data.migrations));
      stamp(updated);
      return false;
    }, LIST_POLL_MS);
  }

  function hostCard(host) {
    const up = host.state === 'up';
    return h('div', {class: 'card host' + (up ? '' : ' down'),
      'data-host': host.name, 'data-state': host.state,
      'data-enabled': String(Boolean(host.enabled))},
    h('div', {class: 'host-head'}, h('strong', {}, host.name),
      h('span', {class: 'sub'}, ' ', dash(host.zone)),
      badge(up ? 'up' : 'down', up ? 'ok' : 'bad'),
      badge(host.enabled ? 'enabled' : 'disabled', host.enabled ? 'ok'
        : 'idle', {title: host.disabled_reason || ''}),
      host.forced_down ? badge('forced down', 'bad') : null),
    host.disabled_reason ? h('p', {class: 'sub'}, 'disabled: ',
      host.disabled_reason) : null,
    h('div', {class: 'usage'},
      h('span', {}, 'vCPU'), bar(host.vcpus_used, host.vcpus,
        host.vcpus_used + ' / ' + host.vcpus, {'data-usage': 'vcpus'}),
      h('span', {}, 'RAM'), bar(host.memory_mb_used, host.memory_mb,
        mb(host.memory_mb_used) + ' / ' + mb(host.memory_mb),
        {'data-usage': 'ram'}),
      h('span', {}, 'Disk'), bar(host.local_gb_used, host.local_gb,
        host.local_gb_used + ' / ' + host.local_gb + ' GB',
        {'data-usage': 'disk'})),
    h('div', {class: 'guests'}, (host.servers || []).length
      ? host.servers.map((s) => h('a', {href: '#/servers/' + s.id,
        class: 'guest', 'data-server': s.id}, statusDot(s.status),
      s.name || short(s.id)))
      : h('span', {class: 'sub'}, 'no guests')));
  }

  function statusDot(status) {
    return h('span', {class: 'dot', 'data-status': status, title: status});
  }

  function migrationsTable(rows) {
    if (!rows || !rows.length) {
      return h('p', {class: 'empty'}, 'No migration in flight.');
    }
    return h('table', {class: 'grid compact'}, h('thead', {}, h('tr', {},
      h('th', {}, 'Server'), h('th', {}, 'Type'), h('th', {}, 'From'),
      h('th', {}, 'To'), h('th', {}, 'Status'),
      h('th', {class: 'w-progress'}, 'Progress'))),
    h('tbody', {}, rows.map((m) => h('tr', {'data-migration': m.uuid,
      'data-status': m.status},
      h('td', {}, h('a', {href: '#/servers/' + m.instance},
        m.instance_name || short(m.instance))),
      h('td', {}, m.type), h('td', {}, dash(m.source)),
      h('td', {}, dash(m.dest)), h('td', {}, m.status),
      h('td', {}, progressBar(m.progress, true))))));
  }

  /* ---- state rules ---------------------------------------------------- */

  async function renderStates() {
    const generation = S.generation;
    replace(main(), h('section', {class: 'page', id: 'page-states'},
      h('h1', {}, 'State rules'), h('p', {class: 'loading'}, 'Loading…')));
    let data;
    try {
      data = await api('states');
    } catch (e) {
      if (generation === S.generation) {
        showPageError(e);
      }
      return;
    }
    if (generation !== S.generation) {
      return;
    }
    replace(main(), h('section', {class: 'page', id: 'page-states'},
      h('h1', {}, 'State rules'),
      h('p', {class: 'sub'}, 'From orchestrator/state_machine.py, the ' +
        'source of docs/states.md. Hover an arrow for its actions.'),
      diagramCard(data),
      h('h2', {}, 'Allowed actions'),
      h('p', {class: 'sub'}, '● allowed with no task running; a task ' +
        'state named: allowed while that task runs.'),
      allowedTable(data),
      h('details', {id: 'transitions'}, h('summary', {},
        h('h2', {}, 'Every transition')), transitionsTable(data))));
  }

  /* Actions that lead from (nearly) every state to error or deleted, or
   * only follow what the hypervisor reports: drawn on request only. */
  const GENERIC_ACTIONS = ['resetState', 'fail', 'sync_power_state',
    'delete', 'forceDelete'];

  function diagramCard(data) {
    const holder = h('div', {});
    const draw = (all) => replace(holder, stateDiagram(data, all));
    const toggle = h('label', {class: 'check'}, h('input', {
      type: 'checkbox', id: 'diagram-all',
      onchange: (ev) => draw(ev.target.checked)}),
    'also draw ' + GENERIC_ACTIONS.join(', '));
    draw(false);
    return h('div', {class: 'card diagram'}, h('div', {class: 'toolbar'},
      h('span', {class: 'sub'}, 'vm_state machine; hover an arrow for ' +
        'its actions.'), toggle), holder);
  }

  /* {from: {to: [actions]}} of the transitions. */
  function edgesOf(transitions) {
    const out = {};
    for (const t of transitions) {
      out[t.from] = out[t.from] || {};
      (out[t.from][t.to] = out[t.from][t.to] || []).push(t.action);
    }
    return out;
  }

  /* The vm_state machine drawn as an SVG: active in the middle (most
   * actions start or end there), the other states on an ellipse around
   * it; one curved arrow per (from, to) pair, its title listing the
   * actions. Without ``all``, GENERIC_ACTIONS are left out. */
  function stateDiagram(data, all) {
    const states = data.vm_states;
    const W = 960, H = 560, NW = 136, NH = 34;
    const cx = W / 2, cy = H / 2, rx = W / 2 - NW / 2 - 16,
      ry = H / 2 - NH / 2 - 16;
    const hub = states.includes('active') ? 'active' : null;
    const ring = states.filter((s) => s !== hub);
    const pos = {};
    if (hub) {
      pos[hub] = [cx, cy];
    }
    ring.forEach((s, i) => {
      const a = -Math.PI / 2 + 2 * Math.PI * i / ring.length;
      pos[s] = [cx + rx * Math.cos(a), cy + ry * Math.sin(a)];
    });
    const edges = edgesOf(data.transitions.filter((t) => all ||
      !GENERIC_ACTIONS.includes(t.action)));
    const paths = [];
    const loops = [];
    for (const [from, tos] of Object.entries(edges)) {
      for (const [to, actions] of Object.entries(tos)) {
        if (!pos[from] || !pos[to]) {
          continue;
        }
        if (from === to) {
          loops.push(from);
          continue;
        }
        paths.push(edgePath(pos[from], pos[to], NW, NH, from, to,
          actions));
      }
    }
    const nodes = states.map((s) => {
      const [x, y] = pos[s];
      return svg('g', {class: 'state-node', 'data-vm-state': s,
        transform: 'translate(' + (x - NW / 2) + ',' + (y - NH / 2) + ')'},
      svg('title', {}, s + (loops.includes(s) ? ' (actions that stay ' +
        'in it: ' + edges[s][s].join(', ') + ')' : '')),
      svg('rect', {width: NW, height: NH, rx: 8, class: 'vm-' + s}),
      svg('text', {x: NW / 2, y: NH / 2 + 5, 'text-anchor': 'middle'},
        s));
    });
    return svg('svg', {id: 'state-diagram', viewBox: '0 0 ' + W + ' ' + H,
      role: 'img', 'aria-label': 'vm_state transitions'},
    svg('defs', {}, svg('marker', {id: 'arrow', viewBox: '0 0 10 10',
      refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
      orient: 'auto-start-reverse'}, svg('path',
      {d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head'}))),
    paths, nodes);
  }

  /* Where the ray from a box's centre towards (dx, dy) leaves the box. */
  function boxExit(x, y, dx, dy, w, hgt) {
    const tx = dx ? (w / 2 + 4) / Math.abs(dx) : Infinity;
    const ty = dy ? (hgt / 2 + 4) / Math.abs(dy) : Infinity;
    const t = Math.min(tx, ty);
    return [x + dx * t, y + dy * t];
  }

  function edgePath(a, b, w, hgt, from, to, actions) {
    const dx = b[0] - a[0], dy = b[1] - a[1];
    const len = Math.hypot(dx, dy);
    const nx = -dy / len, ny = dx / len;
    const bend = Math.min(60, len * 0.18);
    const c = [(a[0] + b[0]) / 2 + nx * bend, (a[1] + b[1]) / 2 + ny * bend];
    const s = boxExit(a[0], a[1], c[0] - a[0], c[1] - a[1], w, hgt);
    const e = boxExit(b[0], b[1], c[0] - b[0], c[1] - b[1], w, hgt);
    return svg('path', {class: 'edge', 'data-from': from, 'data-to': to,
      d: 'M' + s.join(',') + ' Q' + c.join(',') + ' ' + e.join(','),
      'marker-end': 'url(#arrow)'},
    svg('title', {}, from + ' → ' + to + ': ' + actions.join(', ')));
  }

  function transitionsTable(data) {
    const edges = edgesOf(data.transitions);
    return h('table', {class: 'grid compact', id: 'transitions-table'},
      h('thead', {}, h('tr', {}, h('th', {}, 'From'), h('th', {}, 'To'),
        h('th', {}, 'Actions'))),
      h('tbody', {}, data.vm_states.filter((s) => edges[s]).map((from) =>
        Object.entries(edges[from]).map(([to, actions], i) => h('tr', {
          'data-from': from, 'data-to': to},
        h('td', {}, i === 0 ? h('span', {class: 'vm vm-' + from}, from)
          : ''),
        h('td', {}, h('span', {class: 'vm vm-' + to}, to)),
        h('td', {class: 'actions-list'}, actions.join(', ')))))));
  }

  function allowedTable(data) {
    const columns = data.vm_states;
    return h('div', {class: 'scroll'}, h('table', {
      class: 'grid compact matrix', id: 'allowed-table'},
    h('thead', {}, h('tr', {}, h('th', {}, 'Action'), columns.map((s) =>
      h('th', {class: 'rot'}, h('span', {}, s))))),
    h('tbody', {}, data.actions.map((a) => h('tr', {
      'data-action': a.action}, h('th', {}, a.action), columns.map((s) => {
      const here = a.allowed.filter((x) => x.vm_state === s);
      const idle = here.some((x) => !x.task_state);
      const busy = here.filter((x) => x.task_state).map((x) => x.task_state);
      let during = null;
      if (busy.includes('*')) {
        during = 'during any task';
      } else if (busy.length > 3) {
        during = 'during ' + busy.length + ' tasks';
      } else if (busy.length) {
        during = busy.join(', ');
      }
      return h('td', {class: here.length ? 'yes' : '',
        'data-vm-state': s, 'data-allowed': String(here.length > 0),
        title: busy.length ? a.action + ' in ' + s + ' during: ' +
          busy.join(', ') : null},
      idle ? '●' : null, during ? h('small', {}, during) : null);
    }))))));
  }

  /* ---- routing --------------------------------------------------------- */

  function setNav(page) {
    for (const a of document.querySelectorAll('#nav a')) {
      a.classList.toggle('active', a.dataset.nav === page);
    }
  }

  function route() {
    S.generation += 1;
    showBanner('');
    if (!S.session || !S.session.authenticated) {
      start();
      return;
    }
    const parts = location.hash.replace(/^#\/?/, '').split('/')
      .map(decodeURIComponent);
    const page = parts[0] || 'servers';
    setNav(page);
    if (page === 'servers' && parts[1]) {
      renderServer(parts[1]);
    } else if (page === 'flows' && parts[1]) {
      renderFlow(parts[1]);
    } else if (page === 'flows') {
      renderFlows();
    } else if (page === 'hosts') {
      renderHosts();
    } else if (page === 'states') {
      renderStates();
    } else {
      if (location.hash !== '#/servers') {
        history.replaceState(null, '', '#/servers');
      }
      setNav('servers');
      renderServers();
    }
  }

  function showIdentity(session) {
    const noauth = session.auth_strategy === 'noauth';
    document.getElementById('nav').hidden = false;
    document.getElementById('nav-hosts').hidden = !session.can_view_all;
    document.getElementById('who').hidden = false;
    document.getElementById('logout').hidden = noauth;
    replace(document.getElementById('who-name'),
      h('strong', {}, dash(session.user_id)), ' in ',
      h('span', {class: 'mono'}, dash(session.project_id)),
      h('span', {class: 'roles'}, ' (' + (session.roles || []).join(', ') +
        ')'));
    document.body.dataset.canRepair = String(Boolean(session.can_repair));
    document.body.dataset.canViewAll = String(Boolean(session.can_view_all));
  }

  function hideIdentity() {
    document.getElementById('nav').hidden = true;
    document.getElementById('who').hidden = true;
    delete document.body.dataset.canRepair;
    delete document.body.dataset.canViewAll;
  }

  /* Asks who we are; shows the sign-in page or the one in the hash. */
  async function start(message) {
    S.generation += 1;
    const generation = S.generation;
    let session;
    try {
      session = await fetchSession(loadAuth());
    } catch (e) {
      showBanner('The console API does not answer: ' + e.message);
      setTimeout(() => { if (generation === S.generation) start(); },
        3000);
      return;
    }
    if (generation !== S.generation) {
      return;
    }
    if (session.authenticated) {
      S.session = session;
      showIdentity(session);
      if (!location.hash || location.hash === '#/login') {
        history.replaceState(null, '', '#/servers');
      }
      route();
      return;
    }
    saveAuth(null);
    S.session = null;
    hideIdentity();
    renderLogin(session.auth_strategy, message);
  }

  /* The drawing of a flow's tree, for tests of its layout. */
  window.OrchestratorConsole = Object.freeze({drawFlowTree: drawNode});

  document.addEventListener('DOMContentLoaded', () => {
    window.addEventListener('hashchange', () => {
      if (S.session) {
        route();
      }
    });
    document.getElementById('logout').addEventListener('click',
      () => signOut(''));
    start();
  });
}());
