// Browser test of the admin page (issue 18 part 4): Debian's Chromium driven
// by playwright-core against the real minna-controller (local backend, real
// apps as processes) behind the real minna-relay.  ada (admin) watches the
// occupancy grid, filters every session, reads a job's output, stops bob's
// session after confirming, reads the accounting and downloads its CSV; the
// page at 1280 px shows the whole user and session tables (bounding boxes);
// bob gets the styled 403 and 404 pages with a link back.  The faults panel
// (GET /api/v1/faults) says all is well at first; then the real database is
// locked by another process (SQLITE_BUSY after the controller's 5 s busy
// timeout) while alice's app dies: her end waits to be stored and the panel
// shows it with the database's error, until the lock goes and the end is
// stored.  TAP on stdout (a failure's lines on stderr too: harness.mjs);
// screenshots in $MINNA_BUILD_DIR/tests/browser/artifacts/admin-*.png.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, Portal, Tap, artifacts, buildDir, check, loadPlaywright } from './harness.mjs';

const tap = new Tap();
const playwright = await loadPlaywright(tap);

const users = { alice: 'alice-pass-1', bob: 'bob-pass-22', ada: 'ada-admin-4' };
const portal = new Portal({
  users,
  admins: ['ada'],
  name: 'browser-admin',
  // one node of two logical nodes: alice's and bob's sessions one on each
  policy: { nodes: 1, perNode: 2, maxJobs: 2, perUser: 1 },
  readyTimeout: 60,
  extraApps: {
    // prints what must never reach the admin's screen
    'chatty.app': '[app]\nname = Chatty\ndescription = prints a token URL\n' +
      'command = echo "Jupyter is at http://{host}:{port}/lab?token=feedfacefeedfacefeedfacefeedface"\\n' +
      'echo "chatty app is up"\\n' +
      'mkdir -p "{session_dir}/www{base_url}" && echo ok > "{session_dir}/www{base_url}index.html"\\n' +
      'exec /usr/bin/python3 -m http.server --bind "{host}" --directory "{session_dir}/www" "{port}"\n',
  },
});
const missing = portal.missing();
if (missing.length) {
  tap.skipAll(`not built or not installed: ${missing.join(', ')}`);
  fs.rmSync(portal.dir, { recursive: true, force: true });
  process.exit(77);
}
fs.mkdirSync(artifacts, { recursive: true });

// Console errors fail the run, but the browser's own line for the 403/404
// pages this test opens on purpose.
const consoleErrors = [];
const expected = new Set();
function watch (page, who) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = (msg.location() && msg.location().url) || '';
    const m = /status of (\d+)/.exec(msg.text());
    if (m && url && expected.has(new URL(url).pathname)) return;
    consoleErrors.push(`${who} ${page.url()}: ${msg.text()} (${url})`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`${who} ${page.url()}: uncaught: ${err.message}`));
}

const shots = [];
async function shot (page, name) {
  const file = path.join(artifacts, `admin-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

async function login (context, who) {
  const page = await context.newPage();
  watch(page, who);
  await page.goto(portal.url + '/login');
  await page.fill('#user', who);
  await page.fill('#password', users[who]);
  await Promise.all([page.waitForURL(portal.url + '/'), page.click('#login-button')]);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

// A launch through the API as the page's user (the launch form is not
// what this test is about).
async function launch (page, app) {
  return page.evaluate(async (app) => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch('/api/v1/sessions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ app, queue: 'interactive', hours: 1 }),
    });
    return { status: r.status, body: await r.json() };
  }, app);
}

async function sessionAs (page, id) {
  return page.evaluate(async (id) => (await fetch(`/api/v1/sessions/${id}`)).json(), id);
}

async function waitSession (page, id, state, seconds = 60) {
  for (let i = 0; i < seconds * 5; i++) {
    const s = await sessionAs(page, id);
    if (s.state === state) return s;
    if (s.state === 'failed') throw new Error(`session ${id} failed: ${s.reason}`);
    await page.waitForTimeout(200);
  }
  throw new Error(`session ${id} did not become ${state}`);
}

function rows (page) {
  return page.locator('#sessions-table tbody tr[data-session-id]');
}

// Every cell of @table lies inside the viewport and inside its panel, and
// its scroll box does not scroll: nothing is cut off.
async function wholeTable (page, table) {
  return page.evaluate((sel) => {
    const t = document.querySelector(sel);
    const wrap = t.closest('.table-wrap');
    const panel = t.closest('section');
    const p = panel.getBoundingClientRect();
    const bad = [];
    for (const c of t.querySelectorAll('th, td')) {
      const r = c.getBoundingClientRect();
      if (r.width === 0) continue;
      if (r.left < p.left - 0.5 || r.right > p.right + 0.5 || r.right > window.innerWidth) {
        bad.push(`${c.textContent.trim().slice(0, 20)} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
      }
    }
    return {
      bad,
      cells: t.querySelectorAll('th, td').length,
      scroll: wrap ? wrap.scrollWidth : 0,
      client: wrap ? wrap.clientWidth : 0,
      panel: [Math.round(p.left), Math.round(p.right)],
      inner: window.innerWidth,
    };
  }, table);
}

let browser = null;
const ctx = {};
let ada, alice, bob;
let aliceId, bobId;
let locker = null;

try {
  await tap.step('minna-controller and minna-relay start', async () => {
    await portal.start();
    tap.comment(`portal at ${portal.url}; ${portal.mode}`);
  });

  await tap.step('Chromium starts; alice and bob launch a session each', async () => {
    browser = await playwright.chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
    });
    for (const who of Object.keys(users)) {
      ctx[who] = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
      ctx[who].setDefaultTimeout(30000);
    }
    alice = await login(ctx.alice, 'alice');
    bob = await login(ctx.bob, 'bob');
    const a = await launch(alice, 'chatty');
    const b = await launch(bob, 'webapp');
    check(a.status === 201 && b.status === 201, `launches answered ${a.status}, ${b.status}`);
    aliceId = a.body.id;
    bobId = b.body.id;
    await waitSession(alice, aliceId, 'running');
    await waitSession(bob, bobId, 'running');
    // accounting counts whole seconds of running
    await alice.waitForTimeout(2500);
  });

  await tap.step('admin page: occupancy grid by logical node shows both sessions where the policy put them', async () => {
    ada = await login(ctx.ada, 'ada');
    await ada.goto(portal.url + '/admin');
    await ada.waitForSelector('body[data-ready="true"]');
    const cells = ada.locator('#occupancy .logical');
    check(await cells.count() === 2, `${await cells.count()} logical nodes in the grid`);
    for (const l of [0, 1]) {
      const jobs = await ada.locator(`#occupancy .logical[data-node="0"][data-logical="${l}"] .jobs`).textContent();
      check(jobs === '1 / 2', `logical node ${l}: ${jobs}`);
    }
    check(await ada.locator(`#occupancy li[data-session-id="${aliceId}"]`).count() === 1, 'alice not in the grid');
    check(await ada.locator(`#occupancy li[data-session-id="${bobId}"]`).count() === 1, 'bob not in the grid');
    check(/2 running, 0 waiting/.test(await ada.locator('#queue-summary').textContent()), 'summary');
    await shot(ada, '01-page-1280');
  });

  await tap.step('faults panel: all is well (the empty state)', async () => {
    const faults = ada.locator('#faults');
    await faults.scrollIntoViewIfNeeded();
    check(await faults.getAttribute('data-ok') === 'true', `faults data-ok=${await faults.getAttribute('data-ok')}`);
    const summary = await ada.locator('#faults-summary').textContent();
    check(/takes every change; nothing is waiting/.test(summary) && summary.includes('controller.db') &&
      !/refused/.test(summary), `summary: ${summary}`);
    for (const id of ['faults-pending', 'faults-jobs']) {
      check(await ada.locator(`#${id}-none`).isVisible(), `no "None" line for ${id}`);
      check(!(await ada.locator(`#${id}`).isVisible()), `the empty table ${id} is shown`);
    }
    check(/Nothing amiss/.test(await ada.locator('#faults-reconcile').textContent()), 'the last start found something');
    await faults.screenshot({ path: path.join(artifacts, 'admin-faults-1-empty.png') });
    shots.push(path.join(artifacts, 'admin-faults-1-empty.png'));
  });

  await tap.step('filters: by user, by state, by node', async () => {
    check(await rows(ada).count() === 2, `${await rows(ada).count()} rows without a filter`);
    const nodes = (await ada.locator('#sessions-table tbody td.node').allTextContents()).sort();
    check(nodes.join(' ') === '0.0 0.1', `node column: ${nodes.join(' ')}`);
    await ada.selectOption('#filter-user', 'alice');
    await ada.waitForFunction(() => document.querySelectorAll('#sessions-table tbody tr[data-session-id]').length === 1);
    check(await rows(ada).first().getAttribute('data-user') === 'alice', 'the user filter shows someone else');
    await shot(ada, '02-filter-user');
    await ada.selectOption('#filter-user', '');
    await ada.selectOption('#filter-state', 'ended');
    await ada.waitForFunction(() => document.querySelector('#sessions-table tbody').textContent.includes('No session matches'));
    await ada.selectOption('#filter-state', 'running');
    await ada.waitForFunction(() => document.querySelectorAll('#sessions-table tbody tr[data-session-id]').length === 2);
    await ada.selectOption('#filter-node', '0');
    await ada.waitForFunction(() => document.querySelectorAll('#sessions-table tbody tr[data-session-id]').length === 2);
    check(/1–2 of 2/.test(await ada.locator('#page-info').textContent()), 'pager');
    await ada.selectOption('#filter-state', '');
    await ada.selectOption('#filter-node', '');
  });

  await tap.step("output viewer: the job's output, with the token URL hidden", async () => {
    await ada.locator(`#sessions-table tr[data-session-id="${aliceId}"] button[data-action="output"]`).click();
    const dialog = ada.locator('#output-dialog');
    await dialog.waitFor({ state: 'visible' });
    const text = await ada.locator('#output-text').textContent();
    check(/chatty app is up/.test(text), `output: ${text}`);
    check(/lab\?token=\[hidden\]/.test(text), 'the token URL is not scrubbed');
    check(!/feedface/.test(text), 'the token reached the page');
    await shot(ada, '03-output');
    await ada.click('#output-close');
    await dialog.waitFor({ state: 'hidden' });
  });

  await tap.step("the admin stops bob's session: a confirm dialog first, cancel keeps it", async () => {
    const stop = ada.locator(`#sessions-table tr[data-session-id="${bobId}"] button[data-action="stop"]`);
    // its word must be readable (it was red on red once)
    const [fg, bg] = await stop.evaluate((e) => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]);
    check(fg !== bg, `the Stop button's text is ${fg} on ${bg}`);
    await stop.click();
    const dialog = ada.locator('#stop-dialog');
    await dialog.waitFor({ state: 'visible' });
    check(/bob/.test(await ada.locator('#stop-title').textContent()), 'the dialog does not name bob');
    check(/not saved is lost/.test(await dialog.textContent()), 'no unsaved-work warning');
    await shot(ada, '04-stop-confirm');
    await ada.click('#stop-cancel');
    await dialog.waitFor({ state: 'hidden' });
    check((await sessionAs(bob, bobId)).state === 'running', 'cancel stopped it');
    await stop.click();
    await dialog.waitFor({ state: 'visible' });
    const [resp] = await Promise.all([
      ada.waitForResponse((r) => r.url().endsWith(`/api/v1/admin/sessions/${bobId}/stop`)),
      ada.click('#stop-confirm'),
    ]);
    check(resp.status() === 200, `stop answered ${resp.status()}`);
    const s = await waitSession(bob, bobId, 'ended', 30);
    check(s.end_reason === 'admin', `end_reason ${s.end_reason}`);
    check(/administrator ada/.test(s.reason), `reason '${s.reason}'`);
    await ada.waitForSelector(`#sessions-table tr[data-session-id="${bobId}"][data-state="ended"]`);
    check(await ada.locator(`#sessions-table tr[data-session-id="${bobId}"] button[data-action="stop"]`).count() === 0,
      'an ended session still has Stop');
    const log = fs.readFileSync(path.join(portal.dir, 'controller.log'), 'utf8');
    check(log.includes(`admin ada stops session ${bobId} of bob`), 'the controller log does not name the admin');
    // bob's own page says so
    await bob.reload();
    await bob.waitForSelector('body[data-ready="true"]');
    await bob.waitForFunction(() => /administrator ada/.test(document.body.textContent));
    await shot(bob, '05-bob-sees-stopped');
    await shot(ada, '06-after-stop');
  });

  await tap.step('usage accounting: node-hours by user and group, the CSV download', async () => {
    await ada.waitForSelector('#accounting tbody tr[data-user="bob"]');
    const hours = Number(await ada.locator('#accounting tr[data-user="bob"] td.hours').textContent());
    const charged = Number(await ada.locator('#accounting tr[data-user="bob"] td.charged').textContent());
    check(hours > 0, `bob's hours ${hours}`);
    check(Math.abs(charged - hours * 0.2) < 0.0015, `charged ${charged} for ${hours} h`);
    await ada.selectOption('#acct-by', 'group');
    await ada.waitForFunction(() => !document.querySelector('#accounting tbody tr[data-user]') &&
      document.querySelector('#accounting tbody tr[data-group]'));
    const href = await ada.locator('#acct-csv').getAttribute('href');
    check(/format=csv/.test(href) && /by=group/.test(href), `CSV link ${href}`);
    const [download] = await Promise.all([ada.waitForEvent('download'), ada.click('#acct-csv')]);
    const file = await download.path();
    const csv = fs.readFileSync(file, 'utf8');
    check(/^minna-accounting-\d{4}-\d\d-to-\d{4}-\d\d-by-group\.csv$/.test(download.suggestedFilename()),
      `file name ${download.suggestedFilename()}`);
    check(csv.startsWith('month,group,sessions,hours,node_hours,charged_node_hours\r\n'), `CSV: ${csv}`);
    tap.comment(`CSV:\n${csv.trim()}`);
    await ada.selectOption('#acct-by', 'user');
    await ada.waitForSelector('#accounting tbody tr[data-user="bob"]');
  });

  await tap.step('at 1280 px the whole user table and session table are visible (bounding boxes)', async () => {
    await ada.setViewportSize({ width: 1280, height: 900 });
    await ada.waitForTimeout(200);
    for (const t of ['#by-user', '#sessions-table', '#accounting']) {
      await ada.locator(t).scrollIntoViewIfNeeded();
      const r = await wholeTable(ada, t);
      tap.comment(`${t}: ${r.cells} cells, panel ${r.panel}, scroll ${r.scroll} / ${r.client}, window ${r.inner}`);
      check(r.cells > 7, `${t} has ${r.cells} cells`);
      check(r.bad.length === 0, `${t} cut off at 1280 px: ${r.bad.join('; ')}`);
      check(r.scroll <= r.client + 1, `${t} scrolls sideways at 1280 px (${r.scroll} > ${r.client})`);
    }
    const { scroll, inner } = await ada.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    check(scroll <= inner, `the page is ${scroll} px wide at ${inner}`);
    await shot(ada, '07-tables-1280');
  });

  await tap.step('phone (390 px): the page does not scroll sideways; wide tables scroll in their box', async () => {
    await ada.setViewportSize({ width: 390, height: 844 });
    await ada.waitForTimeout(300);
    const { scroll, inner } = await ada.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    check(scroll <= inner, `the page is ${scroll} px wide on a ${inner} px screen`);
    await shot(ada, '08-phone');
    await ada.setViewportSize({ width: 1280, height: 900 });
  });

  await tap.step('403 and 404 pages: styled, with a link back (controller and relay)', async () => {
    expected.add('/admin');
    expected.add('/no/such/page');
    expected.add(`/s/${aliceId}/`);
    let r = await bob.goto(portal.url + '/admin');
    check(r.status() === 403, `bob on /admin: ${r.status()}`);
    check(await bob.locator('a#back[href="/"]').isVisible(), 'no link back on the 403 page');
    const bg = await bob.evaluate(() => getComputedStyle(document.body).backgroundColor);
    check(bg !== 'rgba(0, 0, 0, 0)', 'the 403 page is not styled');
    await shot(bob, '09-controller-403');
    await Promise.all([bob.waitForURL(portal.url + '/'), bob.click('a#back')]);
    r = await bob.goto(portal.url + '/no/such/page');
    check(r.status() === 404, `404 page: ${r.status()}`);
    check(await bob.locator('a#back[href="/"]').isVisible(), 'no link back on the 404 page');
    await shot(bob, '10-controller-404');
    r = await bob.goto(`${portal.url}/s/${aliceId}/`);
    check(r.status() === 403, `bob on alice's session: ${r.status()}`);
    check(/another user/i.test(await bob.textContent('body')), 'the relay 403 page does not say why');
    check(await bob.locator('a#back[href="/"]').isVisible(), 'no link back on the relay 403 page');
    const relayBg = await bob.evaluate(() => getComputedStyle(document.querySelector('main')).borderRadius);
    check(relayBg === '8px', `the relay 403 page is not styled (${relayBg})`);
    await shot(bob, '11-relay-403');
    await Promise.all([bob.waitForURL(portal.url + '/'), bob.click('a#back')]);
  });

  await tap.step("faults panel: the database locked while alice's app dies: her end waits, shown with the error, then stored", async () => {
    const db = path.join(portal.dir, 'state', 'controller.db');
    check(fs.existsSync(db), `no database at ${db}`);
    // another process holds the database's write lock: the controller's
    // writes fail with SQLITE_BUSY after its busy timeout (reads go on: WAL)
    locker = spawn('/usr/bin/python3', ['-c',
      'import sqlite3, sys\n' +
      'c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n' +
      'c.execute("BEGIN EXCLUSIVE")\nprint("locked", flush=True)\nsys.stdin.read()\nc.execute("ROLLBACK")\n', db],
    { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise((resolve, reject) => {
      locker.stdout.on('data', (d) => { if (/locked/.test(String(d))) resolve(); });
      locker.on('exit', (code) => reject(new Error(`the locker exited (${code}) before taking the lock`)));
      setTimeout(() => reject(new Error('the locker did not take the lock in 30 s')), 30000);
    });
    const record = fs.readFileSync(path.join(portal.dir, 'state', 'jobs', aliceId), 'utf8');
    const pid = Number((record.match(/^pid=(\d+)/m) || [])[1]);
    check(pid > 1, `no pid in alice's job record: ${record}`);
    process.kill(-pid, 'SIGKILL');
    // the page asks every 5 s; each refused write holds the controller 5 s
    const row = ada.locator(`#faults-pending tr[data-session-id="${aliceId}"]`);
    await row.waitFor({ state: 'attached', timeout: 90000 });
    await ada.locator('#faults[data-ok="false"]').waitFor({ timeout: 30000 });
    const text = await row.textContent();
    const summary = await ada.locator('#faults-summary').textContent();
    tap.comment(`pending row: ${text}\nsummary: ${summary}`);
    check(/alice/.test(text) && /running/.test(text), `the row does not show alice's session as still running: ${text}`);
    check(await ada.locator('#faults-pending-none').isHidden(), 'the pending table still says None');
    check(Number(await row.locator('td.attempts').textContent()) >= 1, 'no attempt counted');
    check(/locked|busy/i.test(text), `the row does not give the database's error: ${text}`);
    check(/refuses changes: .*(locked|busy)/i.test(summary), `summary: ${summary}`);
    check(await ada.locator('#faults').evaluate((e) => getComputedStyle(e).borderLeftWidth) === '5px', 'the panel is not marked');
    await ada.locator('#faults').scrollIntoViewIfNeeded();
    await ada.locator('#faults').screenshot({ path: path.join(artifacts, 'admin-faults-2-pending.png') });
    shots.push(path.join(artifacts, 'admin-faults-2-pending.png'));
    // the lock goes: the retry stores the end
    locker.stdin.end();
    await new Promise((resolve) => (locker.exitCode !== null ? resolve() : locker.on('exit', resolve)));
    locker = null;
    let s = null;
    for (let i = 0; i < 450 && !(s && ['ended', 'failed'].includes(s.state)); i++) {
      if (s) await alice.waitForTimeout(200);
      s = await sessionAs(alice, aliceId);
    }
    check(['ended', 'failed'].includes(s.state), `alice's session is ${s.state} 90 s after the lock went`);
    tap.comment(`alice's session: ${s.state} (${s.reason})`);
    await ada.locator('#faults[data-ok="true"]').waitFor({ timeout: 60000 });
    check(await row.count() === 0 && await ada.locator('#faults-pending-none').isVisible(),
      'the stored end is still listed as pending');
    const after = await ada.locator('#faults-summary').textContent();
    check(/takes every change/.test(after) && /refused \d+ change/.test(after), `summary after: ${after}`);
    await ada.locator('#faults').screenshot({ path: path.join(artifacts, 'admin-faults-3-stored.png') });
    shots.push(path.join(artifacts, 'admin-faults-3-stored.png'));
  });

  await tap.step('no errors in the browser console', async () => {
    check(consoleErrors.length === 0, consoleErrors.join('\n'));
  });
} catch (e) {
  tap.comment('controller log (tail):\n' + portal.logTail('controller'));
  tap.comment('relay log (tail):\n' + portal.logTail('relay'));
  if (consoleErrors.length) tap.comment('console errors so far:\n' + consoleErrors.join('\n'));
} finally {
  if (locker && locker.exitCode === null) locker.kill('SIGKILL');
  if (browser) await browser.close().catch(() => {});
  await portal.stop();
  tap.comment(`screenshots: ${shots.join(' ')}`);
  tap.end();
}
process.exit(tap.failed ? 1 : 0);
