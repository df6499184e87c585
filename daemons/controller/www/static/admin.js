// minna portal: the admin page.  interactive.q occupancy by logical node
// (the policy's placement), every session with filters, Stop (confirmed)
// and the job's output, usage accounting with its CSV, sessions by user,
// launches per hour of day, and the faults (what the database refused or
// has not taken yet, what the last start found amiss: GET /api/v1/faults).
// API: GET /api/v1/admin/... (mn-controller-admin.h).
import { ApiError, announce, api, clock, duration, el, requireLogin, serverNow, setupHeader, showPageError } from './api.js';
import { barChart } from './chart.js';

const REFRESH = 5000;
const STATES = ['queued', 'starting', 'running', 'ended', 'failed'];
const PAGE = 50;

let offset = 0;
let total = 0;
let outputFor = null;

// A month as <input type=month> spells it, UTC.
function month (unix) {
  const d = new Date(unix * 1000);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

// Full date and time (the admin compares sessions across days).
function when (unix) {
  if (!unix) return '';
  return new Date(unix * 1000).toLocaleString([], {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

function fixed (v, digits = 3) {
  return Number(v || 0).toFixed(digits);
}

// ---- occupancy ------------------------------------------------------------------

function showOccupancy (q) {
  const box = document.getElementById('occupancy');
  const nodes = [];
  let used = 0;
  let places = 0;
  for (const n of q.nodes || []) {
    const cells = [];
    for (const l of n.logical_nodes || []) {
      used += l.jobs;
      places += l.max_jobs;
      const label = `Node ${n.node} logical node ${l.logical}: ${l.jobs} of ${l.max_jobs} jobs`;
      const meter = el('meter', {
        min: 0, max: l.max_jobs, value: l.jobs, high: Math.max(1, l.max_jobs - 1), optimum: 0, 'aria-label': label,
      });
      const people = (l.sessions || []).map((s) =>
        el('li', { 'data-session-id': s.id },
          el('strong', { text: s.user }), ` ${s.app}, ${s.cores} core${s.cores === 1 ? '' : 's'}`,
          s.time_left !== null && s.time_left !== undefined ? `, ${duration(s.time_left)} left` : ''));
      cells.push(el('div', {
        class: `logical${l.jobs >= l.max_jobs ? ' full' : ''}${l.jobs === 0 ? ' empty' : ''}`,
        'data-node': n.node, 'data-logical': l.logical, role: 'group', 'aria-label': label,
      },
      el('div', { class: 'logical-head' },
        el('span', { class: 'logical-name', text: `Logical node ${l.logical}` }),
        el('span', { class: 'jobs', text: `${l.jobs} / ${l.max_jobs}` })),
      meter,
      el('p', { class: 'hint', text: `${l.cores_requested} of ${l.cores} cores asked` + (l.gpus ? `, ${l.gpus} GPU${l.gpus === 1 ? '' : 's'}` : '') }),
      people.length ? el('ul', { class: 'placed' }, ...people) : el('p', { class: 'hint', text: 'Free' })));
    }
    nodes.push(el('div', { class: 'node', 'data-node': n.node },
      el('h3', { text: `Node ${n.node}` },
        el('span', { class: 'hint', text: ` · ${n.jobs} job${n.jobs === 1 ? '' : 's'}, ${fixed(n.memory_committed_gb, 1)} of ${fixed(n.memory_gb, 0)} GB memory + swap committed` })),
      el('div', { class: 'logicals' }, ...cells)));
  }
  box.replaceChildren(...nodes);
  document.getElementById('queue-summary').textContent =
    `${q.queue}: ${q.running} running, ${q.waiting} waiting; ${used} of ${places} places in use.`;
  const waiting = document.getElementById('waiting-list');
  const w = q.waiting_sessions || [];
  waiting.hidden = w.length === 0;
  waiting.textContent = w.length ? `Waiting: ${w.map((s) => s.user).join(', ')}.` : '';
  // the node filter offers the policy's nodes
  const select = document.getElementById('filter-node');
  if (select.options.length === 1) {
    for (const n of q.nodes || []) select.append(el('option', { value: n.node, text: `Node ${n.node}` }));
  }
}

// ---- faults (GET /api/v1/faults) ------------------------------------------------------

// A fault table is shown only when it has rows; else its one line "None".
function faultTable (id, rows) {
  document.querySelector(`#${id} tbody`).replaceChildren(...rows);
  document.getElementById(id).closest('.table-wrap').hidden = rows.length === 0;
  document.getElementById(`${id}-none`).hidden = rows.length > 0;
}

function showFaults (f) {
  const store = f.store || {};
  const pending = f.pending || [];
  const jobs = f.unsaved_jobs || [];
  const found = f.reconcile || [];
  const box = document.getElementById('faults');
  box.dataset.ok = store.ok ? 'true' : 'false';
  box.classList.toggle('fault', !store.ok);
  const waiting = pending.length + jobs.length;
  let summary;
  if (store.last_error) {
    // the error names the database's file
    summary = `The database refuses changes: ${store.last_error} (last at ${when(store.last_error_at)}; ` +
      `${store.refusals} refused since the controller started).`;
  } else {
    summary = `The database (${store.path}) takes every change; ` +
      (waiting ? `${waiting} still wait${waiting === 1 ? 's' : ''} to be stored.` : 'nothing is waiting to be stored.') +
      (store.refusals ? ` It refused ${store.refusals} change${store.refusals === 1 ? '' : 's'} since the controller started, the last at ${when(store.last_error_at)}.` : '');
  }
  document.getElementById('faults-summary').textContent = summary;
  faultTable('faults-pending', pending.map((p) => el('tr', { 'data-session-id': p.session },
    el('td', { class: 'session-id', text: p.session }),
    el('th', { scope: 'row', text: p.user }),
    el('td', {}, el('span', { class: `state state-${p.stored_state}`, text: p.stored_state })),
    el('td', {}, el('span', { class: `state state-${p.state}`, text: p.state })),
    el('td', { class: 'reason', text: p.reason }),
    el('td', { class: 'num attempts', text: p.attempts }),
    el('td', { class: 'num', text: `${(p.next_try_ms / 1000).toFixed(1)} s` }),
    el('td', { class: 'reason error', text: p.error }))));
  faultTable('faults-jobs', jobs.map((j) => el('tr', { 'data-session-id': j.session },
    el('td', { class: 'session-id', text: j.session }), el('td', { text: j.job_id }))));
  const items = found.map((line) => el('li', { text: line }));
  if (items.length === 0) items.push(el('li', { class: 'none', text: 'Nothing amiss: the database agreed with what runs.' }));
  document.getElementById('faults-reconcile').replaceChildren(...items);
}

// ---- sessions ---------------------------------------------------------------------

function filterQuery () {
  const p = new URLSearchParams();
  const user = document.getElementById('filter-user').value;
  const state = document.getElementById('filter-state').value;
  const node = document.getElementById('filter-node').value;
  if (user) p.set('user', user);
  if (state) p.set('state', state);
  if (node !== '') p.set('node', node);
  p.set('limit', String(PAGE));
  p.set('offset', String(offset));
  return p.toString();
}

function live (s) {
  return !['ended', 'failed'].includes(s.state);
}

function sessionRow (s) {
  const actions = el('div', { class: 'actions' },
    el('button', { type: 'button', 'data-action': 'output', 'aria-label': `Output of ${s.user}'s session ${s.id}`, text: 'Output' }));
  if (live(s) && s.state !== 'ending') {
    actions.append(el('button', {
      type: 'button', class: 'danger', 'data-action': 'stop', 'aria-label': `Stop ${s.user}'s session ${s.id}`, text: 'Stop',
    }));
  }
  const end = s.ended ? when(s.ended) : (s.time_left !== null && s.time_left !== undefined ? `${duration(s.time_left)} left` : '');
  const node = s.node !== undefined && s.node !== null ? `${s.node}.${s.logical_node}` : '';
  return el('tr', { 'data-session-id': s.id, 'data-user': s.user, 'data-state': s.state },
    el('td', { class: 'session-id', text: s.id }),
    el('th', { scope: 'row', text: s.user }),
    el('td', { text: s.app }),
    el('td', {}, el('span', { class: `state state-${s.state}`, text: s.state })),
    el('td', { class: 'node', text: node }),
    el('td', { class: 'when', text: when(s.created) }),
    el('td', { class: 'when', text: end }),
    el('td', { class: 'reason', text: s.reason || '' }),
    el('td', {}, actions));
}

function showSessions (list) {
  total = list.total;
  const rows = (list.sessions || []).map(sessionRow);
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 9, text: 'No session matches.' })));
  document.querySelector('#sessions-table tbody').replaceChildren(...rows);
  const first = total ? offset + 1 : 0;
  const last = offset + (list.sessions || []).length;
  document.getElementById('page-info').textContent = `${first}–${last} of ${total}`;
  document.getElementById('page-prev').disabled = offset === 0;
  document.getElementById('page-next').disabled = last >= total;
  const users = document.getElementById('filter-user');
  const chosen = users.value;
  const have = new Set([...users.options].map((o) => o.value));
  for (const u of list.users || []) {
    if (!have.has(u)) users.append(el('option', { value: u, text: u }));
  }
  users.value = chosen;
  document.getElementById('sessions-table').dataset.sessions = JSON.stringify((list.sessions || []).map((s) => s.id));
}

let sessionsById = new Map();

async function refreshSessions () {
  const list = await api('GET', `admin/sessions?${filterQuery()}`);
  sessionsById = new Map((list.sessions || []).map((s) => [s.id, s]));
  showSessions(list);
  return list;
}

// Stop, after the admin confirms in a dialog that names the user.
async function stopSession (s) {
  const dialog = document.getElementById('stop-dialog');
  document.getElementById('stop-title').textContent = `Stop ${s.user}'s session?`;
  document.getElementById('stop-text').textContent =
    `${s.app} session ${s.id} of ${s.user}, ${s.state}` + (s.job_started ? ` since ${when(s.job_started)}` : '') +
    `. ${s.user} will see that an administrator stopped it.`;
  dialog.returnValue = '';
  dialog.showModal();
  document.getElementById('stop-cancel').focus();
  const answer = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
  if (answer !== 'stop') return;
  try {
    await api('POST', `admin/sessions/${encodeURIComponent(s.id)}/stop`);
    announce(`Stopping ${s.user}'s session ${s.id}.`);
  } catch (e) {
    showPageError(`Could not stop session ${s.id}: ${e.message}`);
  }
  await refreshAll();
}

async function showOutput (s) {
  outputFor = s;
  const dialog = document.getElementById('output-dialog');
  document.getElementById('output-title').textContent = `Output of ${s.user}'s session ${s.id} (${s.app})`;
  await loadOutput();
  if (!dialog.open) dialog.showModal();
  document.getElementById('output-text').focus();
}

async function loadOutput () {
  const s = outputFor;
  const pre = document.getElementById('output-text');
  const info = document.getElementById('output-info');
  if (!s) return;
  try {
    const o = await api('GET', `admin/sessions/${encodeURIComponent(s.id)}/output`);
    pre.textContent = o.text || (o.exists ? '(empty)' : '(no output file yet)');
    info.textContent = `${o.size} bytes` + (o.truncated ? ', showing the end' : '') +
      '; secrets the app printed are shown as [hidden].';
    pre.scrollTop = pre.scrollHeight;
  } catch (e) {
    pre.textContent = '';
    info.textContent = `The output cannot be shown: ${e.message}`;
  }
}

// ---- accounting ------------------------------------------------------------------

function accountingQuery (format) {
  const p = new URLSearchParams();
  p.set('from', document.getElementById('acct-from').value);
  p.set('to', document.getElementById('acct-to').value);
  p.set('by', document.getElementById('acct-by').value);
  if (format) p.set('format', format);
  return p.toString();
}

function showAccounting (a) {
  const byUser = a.by === 'user';
  const cols = ['Month', ...(byUser ? ['User'] : []), 'Group', 'Sessions', 'Hours', 'Node-hours', 'Charged node-hours'];
  const numeric = new Set(['Sessions', 'Hours', 'Node-hours', 'Charged node-hours']);
  document.querySelector('#accounting thead tr').replaceChildren(
    ...cols.map((c) => el('th', { scope: 'col', class: numeric.has(c) ? 'num' : null, text: c })));
  const sum = { sessions: 0, hours: 0, node_hours: 0, charged_node_hours: 0 };
  const rows = (a.rows || []).map((r) => {
    for (const k of Object.keys(sum)) sum[k] += r[k];
    return el('tr', { 'data-month': r.month, 'data-user': r.user || null, 'data-group': r.group },
      el('td', { text: r.month }),
      ...(byUser ? [el('th', { scope: 'row', text: r.user })] : []),
      el('td', { text: r.group }),
      el('td', { class: 'num', text: r.sessions }),
      el('td', { class: 'num hours', text: fixed(r.hours) }),
      el('td', { class: 'num node-hours', text: fixed(r.node_hours) }),
      el('td', { class: 'num charged', text: fixed(r.charged_node_hours) }));
  });
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: cols.length, text: 'No interactive session ran in this period.' })));
  document.querySelector('#accounting tbody').replaceChildren(...rows);
  document.querySelector('#accounting tfoot').replaceChildren(el('tr', {},
    el('th', { scope: 'row', colspan: byUser ? 3 : 2, text: 'Total' }),
    el('td', { class: 'num', text: sum.sessions }),
    el('td', { class: 'num', text: fixed(sum.hours) }),
    el('td', { class: 'num', text: fixed(sum.node_hours) }),
    el('td', { class: 'num', text: fixed(sum.charged_node_hours) })));
  document.getElementById('accounting-caption').textContent =
    `Node-hours of ${a.from === a.to ? a.from : `${a.from} to ${a.to}`}, by ${byUser ? 'user' : 'group'}`;
  document.getElementById('accounting-lead').textContent =
    `Node-hours of the interactive queue per month (UTC). Charge: ${a.charge_coefficient} of a node per hour of a session; a node has ${a.node_cores} cores.`;
  document.getElementById('acct-csv').href = `/api/v1/admin/accounting?${accountingQuery('csv')}`;
}

async function refreshAccounting () {
  const err = document.getElementById('accounting-error');
  try {
    showAccounting(await api('GET', `admin/accounting?${accountingQuery()}`));
    err.hidden = true;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status === 401) throw e;
    err.textContent = e.message;
    err.hidden = false;
  }
}

// ---- sessions by user, launches per hour ---------------------------------------------------

function showUsers (sessions) {
  const users = new Map();
  for (const s of sessions) {
    let u = users.get(s.user);
    if (!u) {
      u = { user: s.user, last: 0, counts: Object.fromEntries(STATES.map((k) => [k, 0])) };
      users.set(s.user, u);
    }
    const st = s.state === 'ending' || s.state === 'unknown' ? 'running' : s.state;
    if (st in u.counts) u.counts[st]++;
    u.last = Math.max(u.last, s.created || 0);
  }
  const rows = [...users.values()].sort((a, b) => a.user.localeCompare(b.user)).map((u) =>
    el('tr', { 'data-user': u.user },
      el('th', { scope: 'row', text: u.user }),
      ...STATES.map((k) => el('td', { class: k, text: u.counts[k] })),
      el('td', { text: u.last ? clock(u.last) : '' })));
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 7, text: 'No sessions yet.' })));
  document.querySelector('#by-user tbody').replaceChildren(...rows);
}

function showUsage (u) {
  const hours = u.by_hour || [];
  const labels = hours.map((_, h) => String(h).padStart(2, '0'));
  const peak = hours.reduce((best, v, h) => (v > hours[best] ? h : best), 0);
  const chart = barChart({
    values: hours,
    labels,
    labelEvery: 2,
    title: 'Launches per hour of day',
    description: `${u.launches} launches in all; the busiest hour starts at ${labels[peak]}:00 with ${hours[peak] || 0}.`,
    xTitle: 'Hour of day (UTC)',
    yTitle: 'Launches',
  });
  document.getElementById('hour-chart').replaceChildren(chart);
  document.getElementById('hour-caption').textContent =
    u.from > 0 ? `${u.launches} launches from ${clock(u.from)} to ${clock(u.to)}.` : `${u.launches} launches in all.`;
  const days = Object.entries(u.by_weekday || {});
  document.querySelector('#by-weekday thead tr').replaceChildren(
    ...days.map(([d]) => el('th', { scope: 'col', text: d })));
  document.querySelector('#by-weekday tbody tr').replaceChildren(
    ...days.map(([, v]) => el('td', { text: v })));
}

async function refreshAll () {
  const period = document.getElementById('period').value;
  const usagePath = period === 'all' ? 'usage' : `usage?from=${serverNow() - Number(period) * 86400}`;
  try {
    const [q, list, usage, faults] = await Promise.all([
      api('GET', 'admin/occupancy'), api('GET', 'sessions'), api('GET', usagePath), api('GET', 'faults'), refreshSessions(),
    ]);
    showOccupancy(q);
    showFaults(faults);
    showUsers(list.sessions || []);
    showUsage(usage);
    await refreshAccounting();
    showPageError('');
  } catch (e) {
    if (e.status === 401) {
      location.assign('/login?next=/admin');
      return;
    }
    showPageError(`Could not update: ${e.message}`);
  }
}

async function main () {
  const me = await requireLogin();
  setupHeader(me);
  document.getElementById('admin-link').hidden = false;
  if (!me.admin) {
    document.getElementById('not-admin').hidden = false;
    document.body.dataset.ready = 'true';
    return;
  }
  document.getElementById('admin-content').hidden = false;
  const now = month(serverNow());
  document.getElementById('acct-from').value = now;
  document.getElementById('acct-to').value = now;
  for (const id of ['filter-user', 'filter-state', 'filter-node']) {
    document.getElementById(id).addEventListener('change', () => { offset = 0; refreshSessions().catch((e) => showPageError(e.message)); });
  }
  document.getElementById('filters').addEventListener('submit', (e) => e.preventDefault());
  document.getElementById('accounting-form').addEventListener('submit', (e) => e.preventDefault());
  for (const id of ['acct-from', 'acct-to', 'acct-by']) {
    document.getElementById(id).addEventListener('change', () => refreshAccounting().catch((e) => showPageError(e.message)));
  }
  document.getElementById('page-prev').addEventListener('click', () => { offset = Math.max(0, offset - PAGE); refreshSessions(); });
  document.getElementById('page-next').addEventListener('click', () => { if (offset + PAGE < total) offset += PAGE; refreshSessions(); });
  document.querySelector('#sessions-table tbody').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-action]');
    if (!button) return;
    const s = sessionsById.get(button.closest('tr').dataset.sessionId);
    if (!s) return;
    if (button.dataset.action === 'stop') stopSession(s);
    else if (button.dataset.action === 'output') showOutput(s);
  });
  document.getElementById('output-refresh').addEventListener('click', loadOutput);
  document.getElementById('output-close').addEventListener('click', () => document.getElementById('output-dialog').close());
  document.getElementById('period').addEventListener('change', refreshAll);
  await refreshAll();
  setInterval(() => {
    // not while a dialog is open: the rows under it must not move
    if (!document.hidden && !document.querySelector('dialog[open]')) refreshAll();
  }, REFRESH);
  document.body.dataset.ready = 'true';
}

main().catch((e) => showPageError(`The page could not load: ${e.message}`));
