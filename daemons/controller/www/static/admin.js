// minna portal: the admin page (interactive.q occupancy by logical node,
// sessions by user, launches per hour of day as an SVG plot).
import { api, clock, el, requireLogin, serverNow, setupHeader, showPageError } from './api.js';
import { barChart } from './chart.js';

const REFRESH = 10000;
const STATES = ['queued', 'starting', 'running', 'ended', 'failed'];

function showOccupancy (q) {
  const tbody = document.querySelector('#occupancy tbody');
  const rows = [];
  let used = 0;
  let places = 0;
  for (const n of q.nodes || []) {
    for (const l of n.logical_nodes || []) {
      used += l.jobs;
      places += l.max_jobs;
      const meter = el('meter', {
        min: 0, max: l.max_jobs, value: l.jobs, high: Math.max(1, l.max_jobs - 1), optimum: 0,
        'aria-label': `Node ${n.node} logical node ${l.logical}: ${l.jobs} of ${l.max_jobs}`,
      });
      rows.push(el('tr', { 'data-node': n.node, 'data-logical': l.logical },
        el('td', { text: n.node }), el('td', { text: l.logical }),
        el('td', { class: 'jobs', text: `${l.jobs} / ${l.max_jobs}` }), el('td', {}, meter)));
    }
  }
  tbody.replaceChildren(...rows);
  document.getElementById('queue-summary').textContent =
    `${q.queue}: ${q.running} running, ${q.waiting} waiting; ${used} of ${places} places in use.`;
}

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

async function refresh () {
  const period = document.getElementById('period').value;
  const usagePath = period === 'all' ? 'usage' : `usage?from=${serverNow() - Number(period) * 86400}`;
  try {
    const [q, list, usage] = await Promise.all([
      api('GET', 'queue'), api('GET', 'sessions'), api('GET', usagePath),
    ]);
    showOccupancy(q);
    showUsers(list.sessions || []);
    showUsage(usage);
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
  document.getElementById('period').addEventListener('change', refresh);
  await refresh();
  setInterval(() => { if (!document.hidden) refresh(); }, REFRESH);
  document.body.dataset.ready = 'true';
}

main().catch((e) => showPageError(`The page could not load: ${e.message}`));
