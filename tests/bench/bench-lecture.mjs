// The 10:00 lecture: N users (default 30) press Launch at the same moment,
// through the portal's API behind minna-relay; each waits for its Jupyter,
// starts a kernel through the relay and runs `1+1` over the kernel
// WebSocket.  Measured: time from Launch to the first result (p50, p99),
// with the phases; baseline in the same run: one user alone on an idle
// portal.  Real minna-controller (local backend), real minna-relay, real
// Jupyter (Debian's notebook).
//
//   node tests/bench/bench-lecture.mjs [--users N] [--json FILE]
//   (or: meson test -C BUILD --benchmark lecture; MINNA_BUILD_DIR and
//   MINNA_SOURCE_DIR must name the build and source trees when run directly)
//
// A failed user is reported with the controller's state of the session at
// that moment, how long its kernel WebSocket had been open and how it ended
// (the server's close frame, or none), the relay's log lines about the
// session and the app's own warnings and errors.  G_MESSAGES_DEBUG=minna-relay
// adds the relay's resends, early answers and which side closed each
// WebSocket; MINNA_KEEP_TEST_DIR=1 keeps every log.
//
// Known failure: "kernel WebSocket closed without a close frame" about 120 s
// after it opened, with Jupyter's "Timeout waiting for kernel_info reply"
// and an uncaught TimeoutError: Jupyter Notebook 6 answers the upgrade after
// kernel_info_timeout (60 s) without a reply from a starved kernel, then
// aborts the WebSocket when its nudge times out too (tornado aborts a
// WebSocket whose open() fails).  The relay only passes that on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Portal } from '../browser/harness.mjs';
import { connect } from './bench-lecture-ws.mjs';

function usage (text) {
  console.error(`bench-lecture: ${text}\nusage: bench-lecture.mjs [--users N] [--json FILE]`);
  process.exit(2);
}

let nUsers = 30;
let jsonFile = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--users' && i + 1 < argv.length) {
    nUsers = Number(argv[++i]);
    if (!Number.isInteger(nUsers) || nUsers < 1 || nUsers > 200) usage('--users: a whole number 1..200');
  } else if (argv[i] === '--json' && i + 1 < argv.length) {
    jsonFile = argv[++i];
  } else {
    usage(`unknown argument '${argv[i]}'`);
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now() / 1000;

function request (base, method, path, { cookie, csrf, xsrf, origin, body } = {}) {
  return new Promise((resolve, reject) => {
    const headers = { Accept: 'application/json' };
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    if (data) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = data.length;
    }
    if (cookie) headers.Cookie = cookie;
    if (csrf) headers['X-CSRF-Token'] = csrf;
    if (xsrf) headers['X-XSRFToken'] = xsrf;
    if (origin) headers.Origin = origin;
    const req = http.request(base + path, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, json, text });
      });
    });
    req.setTimeout(120000, () => req.destroy(new Error(`${method} ${path}: no answer in 120 s`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function login (base, user, password) {
  const r = await request(base, 'POST', '/api/v1/login', { body: { user, password } });
  if (r.status !== 200) throw new Error(`login ${user}: ${r.status} ${r.text}`);
  const set = [].concat(r.headers['set-cookie'] || []).find((c) => c.startsWith('minna_session='));
  return { cookie: set.split(';')[0], csrf: r.json.csrf_token };
}

// Runs code in a kernel over its WebSocket; resolves to the text/plain result.
async function runCell (base, id, auth, code) {
  // Jupyter's XSRF check stays on behind the relay: double submit (cookie and header)
  // and the relay lets state changes and WebSockets in from its own pages only
  const origin = new URL(base).origin;
  const k = await request(base, 'POST', `/s/${id}/api/kernels`, { cookie: `${auth.cookie}; _xsrf=bench`, xsrf: 'bench', origin, body: { name: 'python3' } });
  if (k.status !== 201 && k.status !== 200) throw new Error(`kernel start: ${k.status} ${k.text.slice(0, 200)}`);
  const kernelStarted = now();
  const ws = await connect(`${base.replace(/\/$/, '')}/s/${id}/api/kernels/${k.json.id}/channels`, { Cookie: auth.cookie, Origin: origin });
  const msgId = randomUUID();
  const result = await new Promise((resolve, reject) => {
    const opened = now();
    const seen = () => `${(now() - opened).toFixed(1)} s after it opened, ${ws.messages} messages received`;
    const timer = setTimeout(() => reject(new Error(`no result within 120 s (${seen()})`)), 120000);
    ws.onclose = () => {
      clearTimeout(timer);
      const by = ws.closeFrame ? `closed by the server (close frame ${ws.closeFrame})` : 'connection closed without a close frame';
      reject(new Error(`kernel WebSocket ${by}, ${seen()}`));
    };
    ws.onmessage = (text) => {
      const m = JSON.parse(text);
      if (m.parent_header && m.parent_header.msg_id === msgId && m.msg_type === 'execute_result') {
        clearTimeout(timer);
        resolve(m.content.data['text/plain']);
      }
      if (m.parent_header && m.parent_header.msg_id === msgId && m.msg_type === 'error') {
        clearTimeout(timer);
        reject(new Error(`kernel error: ${m.content.ename}`));
      }
    };
    ws.send(JSON.stringify({
      header: { msg_id: msgId, username: 'bench', session: randomUUID(), msg_type: 'execute_request', version: '5.3', date: new Date().toISOString() },
      parent_header: {},
      metadata: {},
      content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      channel: 'shell',
      buffers: [],
    }));
  });
  ws.onclose = null;
  ws.close();
  return { result, kernelStarted };
}

// One user: Launch -> running -> kernel -> 1+1 = 2.  Times in seconds.
async function oneUser (base, user, password) {
  const auth = await login(base, user, password);
  const t0 = now();
  const r = await request(base, 'POST', '/api/v1/sessions', {
    ...auth, body: { app: 'jupyter', queue: 'interactive', cores: 1, memory_gb: 1, gpus: 0, hours: 1, if_busy: 'wait' },
  });
  if (r.status !== 201) return { user, ok: false, error: `launch: ${r.status} ${r.json ? r.json.error : r.text}` };
  const id = r.json.id;
  let state = r.json.state;
  let reason = null;
  while (state !== 'running') {
    if (state === 'failed' || state === 'ended') return { user, id, ok: false, error: `session ${state}: ${reason}` };
    if (now() - t0 > 900) return { user, id, ok: false, error: `still ${state} after 900 s` };
    await sleep(100);
    const g = await request(base, 'GET', `/api/v1/sessions/${id}`, auth);
    state = g.json.state;
    reason = g.json.reason;
  }
  const running = now();
  try {
    const { result, kernelStarted } = await runCell(base, id, auth, '1+1');
    const done = now();
    if (result !== '2') return { user, id, auth, ok: false, error: `1+1 gave ${result}` };
    return {
      user, id, auth, ok: true,
      toRunning: running - t0, toKernel: kernelStarted - t0, toResult: done - t0,
    };
  } catch (e) {
    // what the controller thinks of the session at that moment
    const g = await request(base, 'GET', `/api/v1/sessions/${id}`, auth).catch(() => null);
    const st = g && g.json ? ` [session ${g.json.state}${g.json.reason ? `: ${g.json.reason}` : ''}]` : '';
    return { user, id, auth, ok: false, error: `${e.message}${st}` };
  }
}

// For each failure: the relay's log lines about the session and the app's
// own warnings and errors (Jupyter's output), so that a failed run says why.
function diagnose (portal, results) {
  const read = (p) => { try { return fs.readFileSync(p, 'utf8').split('\n'); } catch (e) { return []; } };
  const relayLog = read(path.join(portal.dir, 'relay.log'));
  for (const r of results.filter((x) => !x.ok && x.id)) {
    console.log(`\n${r.user} (session ${r.id}): ${r.error}`);
    for (const l of relayLog.filter((x) => x.includes(r.id)).slice(-12)) console.log(`  relay: ${l}`);
    const out = read(path.join(portal.dir, 'state', 'sessions', r.id, 'output.log'));
    for (const l of out.filter((x) => /^\[[WEC] |Traceback|Error/.test(x)).slice(-12)) console.log(`  app:   ${l}`);
  }
}

function quantile (values, q) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

function summary (name, results, wall) {
  const ok = results.filter((r) => r.ok);
  const pick = (k) => ok.map((r) => r[k]);
  return {
    case: name,
    users: results.length,
    ok: ok.length,
    failed: results.filter((r) => !r.ok).map((r) => `${r.user}: ${r.error}`),
    wall_s: wall,
    launch_to_result_p50_s: quantile(pick('toResult'), 0.5),
    launch_to_result_p99_s: quantile(pick('toResult'), 0.99),
    launch_to_result_max_s: quantile(pick('toResult'), 1),
    launch_to_running_p50_s: quantile(pick('toRunning'), 0.5),
    launch_to_running_p99_s: quantile(pick('toRunning'), 0.99),
    launch_to_kernel_p50_s: quantile(pick('toKernel'), 0.5),
    launch_to_kernel_p99_s: quantile(pick('toKernel'), 0.99),
  };
}

async function stopAll (base, results) {
  await Promise.all(results.filter((r) => r.id && r.auth).map((r) =>
    request(base, 'DELETE', `/api/v1/sessions/${r.id}`, r.auth).catch(() => null)));
}

const users = { solo: 'solo-password' };
for (let i = 1; i <= nUsers; i++) users[`student${String(i).padStart(3, '0')}`] = `pass-${i}-lecture`;
// room for everyone: 4 logical nodes of 8 (more if asked for more users)
const perNode = Math.max(4, Math.ceil(nUsers / 8));
// a 2-core machine starting 30 Jupyters needs far more than the usual 120 s
const portal = new Portal({
  users, policy: { nodes: 1, perNode, maxJobs: 8, perUser: 1 }, name: 'lecture', readyTimeout: 900,
});
const missing = portal.missing();
if (missing.length) {
  console.log(`bench-lecture: SKIP: not built or not installed: ${missing.join(', ')}`);
  process.exit(77);
}

let code = 0;
const loadBefore = os.loadavg()[0].toFixed(1);
try {
  await portal.start();
  const base = portal.url;

  // baseline: one user alone on an idle portal
  let t = now();
  const solo = await oneUser(base, 'solo', users.solo);
  const baseline = summary('baseline: 1 user alone', [solo], now() - t);
  await stopAll(base, [solo]);
  await sleep(2000);

  // the lecture: everyone at once (logins first, as students log in before)
  const names = Object.keys(users).filter((u) => u !== 'solo');
  t = now();
  const lecture = await Promise.all(names.map((u) => oneUser(base, u, users[u])));
  const hall = summary(`lecture: ${nUsers} users at once`, lecture, now() - t);
  await stopAll(base, lecture);

  const f = (v) => (v === null ? '-' : v.toFixed(2));
  console.log(`\nminna lecture benchmark: Launch -> Jupyter running -> kernel -> 1+1 = 2, through minna-relay`);
  console.log(`(local backend, Debian's Jupyter Notebook; this machine: ${os.cpus().length} cores, ` +
    `load average ${loadBefore} before the run, ${os.loadavg()[0].toFixed(1)} after)\n`);
  const rows = [
    ['case', 'users', 'ok', 'result p50 s', 'result p99 s', 'max s', 'running p50/p99 s', 'kernel p50/p99 s', 'wall s'],
    ...[baseline, hall].map((s) => [s.case, s.users, s.ok, f(s.launch_to_result_p50_s), f(s.launch_to_result_p99_s),
      f(s.launch_to_result_max_s), `${f(s.launch_to_running_p50_s)}/${f(s.launch_to_running_p99_s)}`,
      `${f(s.launch_to_kernel_p50_s)}/${f(s.launch_to_kernel_p99_s)}`, f(s.wall_s)]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  '));
  if (hall.launch_to_result_p50_s !== null && baseline.launch_to_result_p50_s) {
    console.log(`\nlecture p50 / baseline: ${(hall.launch_to_result_p50_s / baseline.launch_to_result_p50_s).toFixed(1)}x`);
  }
  for (const s of [baseline, hall]) for (const e of s.failed) console.log(`FAILED ${e}`);
  diagnose(portal, [solo, ...lecture]);
  if (jsonFile) {
    fs.writeFileSync(jsonFile, JSON.stringify({
      benchmark: 'lecture', users: nUsers, cores: os.cpus().length,
      load_average_before: Number(loadBefore), baseline, lecture: hall,
    }, null, 2) + '\n');
  }
  if (baseline.ok !== 1 || hall.ok !== nUsers) code = 1;
} catch (e) {
  console.log(`bench-lecture: ${e.stack || e}`);
  console.log(portal.logTail('controller'));
  code = 1;
} finally {
  agent.destroy();
  await portal.stop();
}
process.exit(code);
