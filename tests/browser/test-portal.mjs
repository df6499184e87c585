// Browser test of the minna portal: Debian's Chromium driven by
// playwright-core against the real minna-controller (local backend, real
// Jupyter) behind the real minna-relay.  TAP on stdout; screenshots of each
// page in $MINNA_BUILD_DIR/tests/browser/artifacts/.
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, Portal, Tap, artifacts, check, loadPlaywright } from './harness.mjs';

const tap = new Tap();
function fail (text) {
  throw new Error(text);
}

const playwright = await loadPlaywright(tap);

const users = { alice: 'alice-pass-1', bob: 'bob-pass-22', carol: 'carol-pass-3', ada: 'ada-admin-4', dave: 'dave-pass-55' };
const portal = new Portal({
  users,
  admins: ['ada'],
  policy: { nodes: 1, perNode: 1, maxJobs: 2, perUser: 1 },
  // an app whose job dies before it answers: the card must say why
  extraApps: {
    'crash.app': "[app]\nname = Crash test\ndescription = dies at once\n" +
      "command = echo starting; echo 'boom: no module named numpyy' >&2; exit 3\n",
  },
});
const missing = portal.missing();
if (missing.length) {
  tap.skipAll(`not built or not installed: ${missing.join(', ')}`);
  fs.rmSync(portal.dir, { recursive: true, force: true });
  process.exit(77);
}
fs.mkdirSync(artifacts, { recursive: true });

// ---- console watching ---------------------------------------------------------
// Every console error and uncaught exception fails the suite, except the
// browser's own "Failed to load resource" line for answers the test asks
// for on purpose and the page handles: 4xx from /api/v1/ (shown by the field
// or as the refusal) and the 403 of another user's session.
const consoleErrors = [];
const expectedForbidden = new Set();

// Notebook 6 always probes for the ipywidgets extension and catches the
// failure itself (its "hardcoded widgets hack"); without widgetsnbextension
// installed the browser logs the 404 and the MIME refusal of that one file.
// That is Jupyter's, on the session's pages only, and nothing else passes.
const JUPYTER_WIDGETS_PROBE = /^\/s\/[0-9a-f]+\/nbextensions\/widgets\/notebook\/js\/extension\.js$/;
let widgetsProbes = 0;

function jupyterWidgetsProbe (text, url) {
  const m = /(https?:\/\/[^\s']+\/extension\.js)\?v=\d+/.exec(text + ' ' + (url || ''));
  if (!m) return false;
  if (!JUPYTER_WIDGETS_PROBE.test(new URL(m[1]).pathname)) return false;
  widgetsProbes++;
  return true;
}

function expectedNetworkError (text, url) {
  const m = /^Failed to load resource: the server responded with a status of (\d+)/.exec(text);
  if (!m || !url) return false;
  const status = Number(m[1]);
  const p = new URL(url).pathname;
  if (p.startsWith('/api/v1/') && status >= 400 && status < 500) return true;
  return status === 403 && expectedForbidden.has(p);
}

function watch (page, who) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = msg.location() && msg.location().url;
    if (expectedNetworkError(msg.text(), url) || jupyterWidgetsProbe(msg.text(), url)) return;
    consoleErrors.push(`${who} ${page.url()}: console error: ${msg.text()} (${url || 'no location'})`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`${who} ${page.url()}: uncaught: ${err.message}`));
}

async function shot (page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// Every form control has a label (or an aria-label), every button a name.
async function checkLabels (page) {
  const unlabelled = await page.evaluate(() => {
    const bad = [];
    for (const c of document.querySelectorAll('input, select, textarea, button, a.button')) {
      if (c.type === 'hidden' || c.closest('[hidden]')) continue;
      const named = (c.labels && c.labels.length > 0) || c.getAttribute('aria-label') ||
        c.getAttribute('aria-labelledby') || ((c.tagName === 'BUTTON' || c.tagName === 'A') && c.textContent.trim());
      if (!named) bad.push(c.outerHTML.slice(0, 80));
    }
    return bad;
  });
  check(unlabelled.length === 0, `controls without a label: ${unlabelled.join(' | ')}`);
}

async function login (context, who, { keyboard = false } = {}) {
  const page = await context.newPage();
  watch(page, who);
  await page.goto(portal.url + '/');
  await page.waitForURL(/\/login\?next=/);
  if (keyboard) {
    await page.waitForSelector('#user:focus');
    // keyboard only: the user field has focus, Tab to the password, Enter
    await page.keyboard.type(who);
    await page.keyboard.press('Tab');
    await page.keyboard.type(users[who]);
    await page.keyboard.press('Enter');
  } else {
    await page.fill('#user', who);
    await page.fill('#password', users[who]);
    await page.click('#login-button');
  }
  await page.waitForURL(portal.url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

function card (page, id) {
  return page.locator(`#sessions li.card[data-session-id="${id}"]`);
}

// Launches from the form; returns the new session's id (the first card).
async function launchFromForm (page, { app, queue = 'interactive', ifBusy = 'wait', hours }) {
  await page.selectOption('#app', app);
  await page.check(`#queue-${queue}`);
  await page.check(`#if_busy-${ifBusy}`);
  if (hours !== undefined) await page.fill('#hours', String(hours));
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/sessions') && r.request().method() === 'POST'),
    page.click('#launch'),
  ]);
  return resp;
}

// Stop asks first (issue 18): the dialog, then "Stop and lose unsaved work".
async function confirmStop (page) {
  await page.locator('#stop-dialog').waitFor({ state: 'visible' });
  await page.click('#stop-dialog-confirm');
}

async function waitCardState (page, id, state, timeout = 60000) {
  await card(page, id).and(page.locator(`.card-${state}`)).waitFor({ timeout });
}

let browser = null;
const ctx = {};
let sessionId = null;

try {
  await tap.step('minna-controller and minna-relay start', async () => {
    await portal.start();
    tap.comment(`portal at ${portal.url}; ${portal.mode}`);
  });

  await tap.step('Chromium starts (headless, fresh profile)', async () => {
    browser = await playwright.chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
    });
    for (const who of Object.keys(users)) {
      ctx[who] = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      ctx[who].setDefaultTimeout(30000);
    }
  });

  let alice;
  await tap.step('login page: a wrong password is refused, the right one logs in', async () => {
    const page = await ctx.alice.newPage();
    watch(page, 'alice');
    await page.goto(portal.url + '/');
    await page.waitForURL(/\/login\?next=%2F$/);
    await checkLabels(page);
    await shot(page, '01-login');
    await page.fill('#user', 'alice');
    await page.fill('#password', 'not-her-password');
    await page.click('#login-button');
    await page.locator('#login-error').getByText('Wrong user name or password').waitFor();
    await shot(page, '02-login-refused');
    await page.fill('#password', users.alice);
    await page.click('#login-button');
    await page.waitForURL(portal.url + '/');
    await page.waitForSelector('body[data-ready="true"]');
    check(await page.locator('#who').textContent() === 'alice', 'header does not name alice');
    check(await page.locator('#admin-link').isHidden(), 'alice is not an admin but sees the admin link');
    await checkLabels(page);
    alice = page;
  });

  await tap.step('launch form: bounds from the API, queue explained, defaults filled in', async () => {
    const page = alice;
    const apps = await page.locator('#app option').allTextContents();
    check(apps.includes('Jupyter') && apps.includes('Web app'), `apps listed: ${apps}`);
    await page.selectOption('#app', 'jupyter');
    check(await page.getAttribute('#cores', 'max') === '7', 'cores max is not 7');
    check(await page.getAttribute('#cores', 'min') === '1', 'cores min is not 1');
    check(await page.inputValue('#memory_gb') === '4', 'memory default is not the app default 4');
    check(/starts at once/i.test(await page.locator('#queue-interactive-hint').textContent()), 'no interactive explanation');
    check(/may wait/i.test(await page.locator('#queue-batch-hint').textContent()), 'no batch explanation');
    check(/interactive\.q: 0 of 2 places in use/.test(await page.locator('#queue-status').textContent()),
      `queue status: ${await page.locator('#queue-status').textContent()}`);
  });

  await tap.step("the launch form lists the user's Jupyter kernels: no box without any, the kernel once there is one", async () => {
    // alice asked before any kernel existed: no box
    await alice.waitForSelector('#kernels[data-state]', { state: 'attached' });
    const state = await alice.getAttribute('#kernels', 'data-state');
    check(state === 'none', `alice's kernel box is '${state}'`);
    check(await alice.locator('#kernels').isHidden(), 'alice sees a kernel box without kernels');
    // the real minna-kernel writes one (run_as = controller: every portal
    // user is the controller's account), then dave logs in
    portal.addKernel('physics', 'Physics 2026');
    const dave = await login(ctx.dave, 'dave');
    const item = dave.locator('#kernel-list li[data-kernel="physics"]');
    await item.waitFor();
    check(await dave.getAttribute('#kernels', 'data-state') === 'listed', 'dave\'s kernel box is not marked listed');
    check(await dave.locator('#kernels').isVisible(), 'the kernel box is hidden');
    check((await item.textContent()).includes('Physics 2026'), `kernel shown as '${await item.textContent()}'`);
    check(await dave.locator('#kernel-list li').count() === 1, 'more kernels than the one written');
    await checkLabels(dave);
    await shot(dave, '18-launch-form-kernels');
    await dave.close();
  });

  await tap.step('launch Jupyter: the card shows starting, then running with Connect and time left', async () => {
    const page = alice;
    await page.evaluate(() => {
      window.seenStates = [];
      const note = () => {
        for (const li of document.querySelectorAll('#sessions li.card')) {
          const m = /card-(\w+)/.exec(li.className);
          if (m && window.seenStates[window.seenStates.length - 1] !== m[1]) window.seenStates.push(m[1]);
        }
      };
      new MutationObserver(note).observe(document.getElementById('sessions'),
        { subtree: true, childList: true, attributes: true });
    });
    // the card follows the session with held lists (?wait=&since=), not polls
    const lists = [];
    const onList = (r) => {
      if (r.url().includes('/api/v1/sessions?all=0')) lists.push({ url: r.url(), ms: r.timing().responseEnd });
    };
    page.on('requestfinished', onList);
    const resp = await launchFromForm(page, { app: 'jupyter', hours: 1 });
    check(resp.status() === 201, `launch answered ${resp.status()}: ${await resp.text()}`);
    sessionId = (await resp.json()).id;
    const first = page.locator('#sessions li.card').first();
    check(await first.getAttribute('data-session-id') === sessionId, 'the new session is not the first card');
    if (await page.locator(`li.card-starting[data-session-id="${sessionId}"] progress`).count()) await shot(page, '03-portal-starting');
    await waitCardState(page, sessionId, 'running', 90000);
    const seen = await page.evaluate(() => window.seenStates);
    tap.comment(`states seen: ${seen.join(' -> ')}`);
    page.off('requestfinished', onList);
    const held = lists.filter((l) => /[?&]wait=\d+&since=\d+/.test(l.url));
    tap.comment(`list requests while it started: ${lists.length}, ${held.length} held; held for` +
                ` ${held.map((l) => Math.round(l.ms)).join(', ')} ms`);
    check(held.length > 0 && held.length === lists.length,
      `the page polled instead of holding its list: ${lists.map((l) => l.url).join(' ')}`);
    check(seen[0] === 'starting' || seen[0] === 'queued', `first state was ${seen[0]}`);
    check(seen[seen.length - 1] === 'running', 'not running at the end');
    const c = card(page, sessionId);
    check(await c.locator('a[data-action="connect"]').getAttribute('href') === `/s/${sessionId}/`, 'Connect URL');
    check(await c.locator('a[data-action="connect"]').getAttribute('target') === '_blank', 'Connect does not open a new tab');
    check(/^Time left: (59 min|1 h)/.test(await c.locator('.time-left').textContent()),
      `time left: ${await c.locator('.time-left').textContent()}`);
    check(await c.locator('.walltime-warning').isHidden(), 'a warning with an hour left');
    await shot(page, '04-portal-running');
  });

  await tap.step('Connect opens Jupyter; a new notebook runs 1+1 and shows 2', async () => {
    const [jp] = await Promise.all([
      ctx.alice.waitForEvent('page'),
      card(alice, sessionId).locator('a[data-action="connect"]').click(),
    ]);
    watch(jp, 'alice/jupyter');
    await jp.waitForLoadState('domcontentloaded');
    check(jp.url().startsWith(`${portal.url}/s/${sessionId}/`), `Jupyter at ${jp.url()}`);
    await jp.waitForSelector('#new-dropdown-button', { timeout: 60000 });
    await jp.waitForLoadState('load');
    await shot(jp, '05-jupyter-tree');
    await jp.click('#new-dropdown-button');
    const [nb] = await Promise.all([
      ctx.alice.waitForEvent('page'),
      jp.click('#kernel-python3 a'),
    ]);
    watch(nb, 'alice/notebook');
    await nb.waitForSelector('#kernel_indicator_icon.kernel_idle_icon', { timeout: 60000 });
    await nb.click('.cell .CodeMirror');
    await nb.keyboard.type('1+1');
    await nb.keyboard.press('Shift+Enter');
    const out = nb.locator('.output_subarea.output_result, .output_subarea.output_text').first();
    await out.waitFor({ timeout: 60000 });
    const text = (await out.textContent()).trim();
    check(text === '2', `the cell printed '${text}'`);
    await shot(nb, '06-jupyter-notebook');
    await nb.close();
    await jp.close();
    await alice.bringToFront();
  });

  await tap.step('a session URL opened while logged out goes through the login page and back', async () => {
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await fresh.newPage();
      watch(page, 'alice/fresh');
      await page.goto(`${portal.url}/s/${sessionId}/`);
      await page.waitForURL(/\/login\?next=/);
      await page.fill('#user', 'alice');
      await page.fill('#password', users.alice);
      await page.click('#login-button');
      await page.waitForURL(new RegExp(`/s/${sessionId}/`));
      await page.waitForSelector('#new-dropdown-button', { timeout: 60000 });
    } finally {
      await fresh.close();
    }
  });

  let bob;
  await tap.step('another user gets a 403 page on the session URL and does not see the session', async () => {
    bob = await login(ctx.bob, 'bob');
    expectedForbidden.add(`/s/${sessionId}/`);
    const page = await ctx.bob.newPage();
    watch(page, 'bob');
    const resp = await page.goto(`${portal.url}/s/${sessionId}/`);
    check(resp.status() === 403, `bob got ${resp.status()} on alice's session`);
    check(/another user/i.test(await page.textContent('body')), 'the 403 page does not say why');
    await shot(page, '07-forbidden-403');
    await page.close();
    await bob.reload();
    await bob.waitForSelector('body[data-ready="true"]');
    check(await card(bob, sessionId).count() === 0, "alice's session is in bob's list");
    const status = await bob.evaluate(async (id) => (await fetch(`/api/v1/sessions/${id}`)).status, sessionId);
    check(status === 404, `bob's GET of alice's session answered ${status}`);
  });

  await tap.step('out-of-range values: a message by the field, from the form and from the server', async () => {
    await bob.selectOption('#app', 'jupyter');
    await bob.check('#queue-interactive');
    await bob.fill('#cores', '99');
    await bob.fill('#memory_gb', '0');
    await bob.fill('#hours', '1.5');
    await bob.click('#launch');
    const coresErr = await bob.locator('#cores-error').textContent();
    check(/between 1 and 7/.test(coresErr), `cores error: '${coresErr}'`);
    check(/between 1 and 60 GB/.test(await bob.locator('#memory_gb-error').textContent()), 'no memory error');
    check(await bob.locator('#hours-error').isHidden(), 'hours 1.5 was refused');
    check(await bob.getAttribute('#cores', 'aria-invalid') === 'true', 'cores not marked invalid');
    check(await bob.evaluate(() => document.activeElement.id) === 'cores', 'focus is not on the first bad field');
    await shot(bob, '08-form-errors');

    // A stale form (wider bounds than the server's): the server's 400 names
    // the field and the page puts its message there.
    const page = await ctx.bob.newPage();
    watch(page, 'bob');
    // the launch form is drawn from GET /api/v1/apps/ID/form (issue 18)
    await page.route('**/api/v1/apps/*/form', async (route) => {
      const real = await route.fetch();
      const data = await real.json();
      for (const f of data.fields) if (f.name === 'cores') f.max = 99;
      await route.fulfill({ response: real, json: data });
    });
    await page.goto(portal.url + '/');
    await page.waitForSelector('body[data-ready="true"]');
    await page.selectOption('#app', 'webapp');
    await page.check('#queue-batch');
    await page.fill('#cores', '50');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/sessions') && r.request().method() === 'POST'),
      page.click('#launch'),
    ]);
    check(resp.status() === 400, `the server answered ${resp.status()}`);
    const body = await resp.json();
    check(body.field === 'cores', `the 400 names '${body.field}'`);
    await page.locator('#cores-error').getByText(body.error).waitFor();
    check(await page.locator('#launch-error').isHidden(), 'the field error also went to the form');
    await shot(page, '09-server-field-error');
    await page.close();
  });

  let carol;
  await tap.step('keyboard-only login; a short session warns before its walltime', async () => {
    carol = await login(ctx.carol, 'carol', { keyboard: true });
    const resp = await launchFromForm(carol, { app: 'webapp', hours: 0.2 });
    check(resp.status() === 201, `carol's launch: ${resp.status()} ${await resp.text()}`);
    const id = (await resp.json()).id;
    await waitCardState(carol, id, 'running');
    const warn = card(carol, id).locator('.walltime-warning');
    await warn.waitFor();
    check(/Ends in \d+ min: save your work/.test(await warn.textContent()), `warning: ${await warn.textContent()}`);
    await shot(carol, '10-portal-walltime-warning');
    // the last values come back in the form
    await carol.reload();
    await carol.waitForSelector('body[data-ready="true"]');
    check(await carol.inputValue('#app') === 'webapp', 'last app not filled in');
    check(await carol.inputValue('#hours') === '0.2', `last hours not filled in: ${await carol.inputValue('#hours')}`);
    check(await carol.isChecked('#queue-interactive') && await carol.isChecked('#if_busy-wait'), 'last choices lost');
  });

  await tap.step('give-up on a full interactive.q shows the refusal reason', async () => {
    await bob.reload();
    await bob.waitForSelector('body[data-ready="true"]');
    check(/2 of 2 places in use/.test(await bob.locator('#queue-status').textContent()), 'queue not shown full');
    await bob.fill('#cores', '1');
    await bob.fill('#memory_gb', '1');
    const resp = await launchFromForm(bob, { app: 'webapp', ifBusy: 'give_up', hours: 1 });
    check(resp.status() === 409, `give-up launch answered ${resp.status()}`);
    const body = await resp.json();
    const shown = await bob.locator('#launch-error').textContent();
    check(shown.includes(body.error) && /no free slot/.test(shown), `refusal shown: '${shown}'`);
    await shot(bob, '11-refused-give-up');
  });

  await tap.step('a waiting launch is queued with an estimated start; Stop ends it', async () => {
    const resp = await launchFromForm(bob, { app: 'webapp', ifBusy: 'wait', hours: 1 });
    check(resp.status() === 201, `wait launch answered ${resp.status()}`);
    const id = (await resp.json()).id;
    await waitCardState(bob, id, 'queued');
    check(/^Estimated start: /.test(await card(bob, id).locator('.estimate').textContent()), 'no estimate');
    check(await bob.locator('#launch-error').isHidden(), 'the old refusal is still shown');
    await shot(bob, '12-portal-queued');
    // by keyboard: the Stop button takes focus and Enter presses it
    await card(bob, id).locator('button[data-action="stop"]').focus();
    await bob.keyboard.press('Enter');
    // the dialog's safe choice has focus: Tab to "Stop", Enter
    await bob.locator('#stop-dialog').waitFor({ state: 'visible' });
    await bob.keyboard.press('Tab');
    await bob.keyboard.press('Enter');
    await waitCardState(bob, id, 'ended');
    check(await card(bob, id).locator('button[data-action="relaunch"]').count() === 1, 'no Relaunch on an ended card');
  });

  await tap.step('an app that dies before it answers: the card is failed, with its output as the reason', async () => {
    await bob.fill('#memory_gb', '1');
    const resp = await launchFromForm(bob, { app: 'crash', queue: 'batch', hours: 1 });
    check(resp.status() === 201, `crash launch answered ${resp.status()}`);
    const id = (await resp.json()).id;
    await waitCardState(bob, id, 'failed');
    const reason = await card(bob, id).locator('.reason').textContent();
    check(/no module named numpyy/.test(reason), `failed card reason: '${reason}'`);
    await shot(bob, '13-portal-failed');
  });

  await tap.step('admin page: occupancy by logical node, sessions by user, launches per hour plot', async () => {
    const page = await login(ctx.ada, 'ada');
    check(await page.locator('#admin-link').isVisible(), 'no admin link for the admin');
    await page.click('#admin-link');
    await page.waitForURL(portal.url + '/admin');
    await page.waitForSelector('body[data-ready="true"]');
    const jobs = await page.locator('#occupancy [data-node="0"][data-logical="0"] .jobs').textContent();
    check(jobs === '2 / 2', `occupancy ${jobs}`);
    for (const u of ['alice', 'bob', 'carol']) {
      check(await page.locator(`#by-user tr[data-user="${u}"]`).count() === 1, `no row for ${u}`);
    }
    check(await page.locator('#by-user tr[data-user="alice"] td.running').textContent() === '1', 'alice not running');
    const bars = page.locator('#hour-chart svg.bar-chart rect.bar');
    check(await bars.count() === 24, `${await bars.count()} bars`);
    const total = (await bars.evaluateAll((rs) => rs.map((r) => Number(r.dataset.value)))).reduce((a, b) => a + b, 0);
    check(total >= 3, `the plot counts ${total} launches`);
    await checkLabels(page);
    await shot(page, '14-admin');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, '15-admin-phone');
    // not for everyone: a user who is not an admin gets the 403 page with a way back
    expectedForbidden.add('/admin');
    const forbidden = await bob.goto(portal.url + '/admin');
    check(forbidden.status() === 403, `bob got ${forbidden.status()} on /admin`);
    check(await bob.locator('#admin-content').count() === 0, 'bob sees the admin page');
    check(await bob.locator('a#back[href="/"]').isVisible(), 'the 403 page has no link back');
    await bob.goBack();
  });

  await tap.step('phone layout: nothing wider than the screen', async () => {
    await alice.setViewportSize({ width: 390, height: 844 });
    await alice.waitForTimeout(200);
    const { scroll, inner } = await alice.evaluate(() => ({
      scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
    }));
    check(scroll <= inner, `page is ${scroll} px wide on a ${inner} px screen`);
    await shot(alice, '16-portal-phone');
    await alice.setViewportSize({ width: 1280, height: 900 });
  });

  await tap.step('Stop: the Jupyter session ends with its reason; Relaunch starts it again', async () => {
    const c = card(alice, sessionId);
    await c.locator('button[data-action="stop"]').click();
    await confirmStop(alice);
    await waitCardState(alice, sessionId, 'ended', 60000);
    check(/stopped by the user/.test(await c.locator('.reason').textContent()), 'no reason on the ended card');
    await shot(alice, '17-portal-ended');
    const [resp] = await Promise.all([
      alice.waitForResponse((r) => r.url().endsWith('/api/v1/sessions') && r.request().method() === 'POST'),
      c.locator('button[data-action="relaunch"]').click(),
    ]);
    check(resp.status() === 201, `relaunch answered ${resp.status()}`);
    const again = await resp.json();
    check(again.app === 'jupyter' && again.hours === 1, 'relaunch changed the settings');
    await waitCardState(alice, again.id, 'running', 90000);
    await card(alice, again.id).locator('button[data-action="stop"]').click();
    await confirmStop(alice);
    await waitCardState(alice, again.id, 'ended', 60000);
  });

  await tap.step('log out: back to the login page, the portal needs a login again', async () => {
    const [resp] = await Promise.all([
      alice.waitForResponse((r) => r.url().endsWith('/api/v1/logout')),
      alice.click('#logout'),
    ]);
    check(resp.status() === 200, `logout answered ${resp.status()}`);
    await alice.waitForURL(/\/login$/);
    check(!(await ctx.alice.cookies()).some((c) => c.name === 'minna_session'), 'the login cookie is still in the browser');
    const [me] = await Promise.all([
      alice.waitForResponse((r) => r.url().endsWith('/api/v1/me')),
      alice.goto(portal.url + '/'),
    ]);
    check(me.status() === 401, `after logout /api/v1/me answered ${me.status()}`);
    await alice.waitForURL(/\/login\?next=%2F$/);
  });

  await tap.step('no errors in the browser console', async () => {
    if (widgetsProbes) tap.comment(`${widgetsProbes} console lines of Notebook 6's own ipywidgets probe were not counted`);
    check(consoleErrors.length === 0, consoleErrors.join('\n'));
  });
} catch (e) {
  tap.comment('controller log (tail):\n' + portal.logTail('controller'));
  tap.comment('relay log (tail):\n' + portal.logTail('relay'));
  if (consoleErrors.length) tap.comment('console errors so far:\n' + consoleErrors.join('\n'));
} finally {
  if (browser) await browser.close().catch(() => {});
  await portal.stop();
  tap.comment(`screenshots in ${artifacts}`);
  tap.end();
}
process.exit(tap.failed ? 1 : 0);
