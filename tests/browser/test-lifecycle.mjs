// Browser test of the session lifecycle and of app forms that sites write
// (issue 18): Debian's Chromium driven by playwright-core against the real
// minna-controller (local backend) behind the real minna-relay.  A site's
// app with select fields (static options and a site command's list) is
// launched from the form and the values reach the app; the launch form's
// limits follow the policy and the user's own limit; Extend is accepted and
// refused; Stop asks first; ended cards say why in the user's words, carry
// full dates, and can be removed; notifications are opt-in: 15 minutes
// before the end, and when a session that waited for a place on the full
// logical node starts (the slot freed by another user's Stop; the page's
// own polling decides, window.Notification only records).  TAP on stdout
// (a failure's lines on stderr too: harness.mjs);
// screenshots in $MINNA_BUILD_DIR/tests/browser/artifacts/3*.png.
import fs from 'node:fs';
import path from 'node:path';
import { CHROMIUM, Portal, Tap, artifacts, buildDir, check, loadPlaywright } from './harness.mjs';

const tap = new Tap();
const playwright = await loadPlaywright(tap);

// gus and hana fill the logical node so that erin's launch waits
const users = { erin: 'erin-pass-1', frank: 'frank-pass-2', ada: 'ada-admin-3', gus: 'gus-pass-4', hana: 'hana-pass-5' };
const policy = { nodes: 1, perNode: 1, maxJobs: 3, perUser: 1, extendStep: '1h', extendMax: '2h' };
// A site's app: what was chosen is what its page says.
const SITE_APP = '# a site-written app (issue 18): selects, a checkbox\n' +
  '[app]\nname = Toolchain page\ndescription = Says which toolchain was chosen\n' +
  'command = mkdir -p "{session_dir}/www{base_url}" && echo "<!DOCTYPE html><title>Toolchain</title>' +
  '<h1 id=chosen>$MINNA_FIELD_MODULE {field_release} debug={field_debug}</h1>"' +
  ' > "{session_dir}/www{base_url}index.html"\\n' +
  'exec /usr/bin/python3 -m http.server --bind "{host}" --directory "{session_dir}/www" "{port}"\n' +
  '[field memory_gb]\nmin = 0.1\nmax = 4\ndefault = 0.5\n' +
  '[field release]\ntype = select\nlabel = Release\nhelp = The toolchain release\n' +
  'options = R2023b, R2024a, R2024b\ndefault = R2023b\n' +
  '[field module]\ntype = select\nsource = command\nlabel = Toolchain\nhelp = What this site has\n' +
  "command = printf 'gcc/12\\\\nopenmpi/4\\\\nintel/2024\\\\n'\ntimeout = 5s\n" +
  '[field debug]\ntype = checkbox\nlabel = Debug build\n';

// answers for 4 s, then ends by itself with exit code 0 (a Quit in the app)
const QUIT_APP = '[app]\nname = Quitter\ncommand = mkdir -p "{session_dir}/www{base_url}"\\n' +
  '/usr/bin/python3 -m http.server --bind "{host}" --directory "{session_dir}/www" "{port}" & p=$!\\n' +
  'sleep 4\\nkill $p\\nwait $p\\nexit 0\n[field memory_gb]\nmin = 0.1\nmax = 4\ndefault = 0.25\n';
const portal = new Portal({
  users, admins: ['ada'], policy, name: 'lifecycle',
  extraApps: { 'toolchain.app': SITE_APP, 'quitter.app': QUIT_APP },
});
const missing = portal.missing();
if (missing.length) {
  tap.skipAll(`not built or not installed: ${missing.join(', ')}`);
  fs.rmSync(portal.dir, { recursive: true, force: true });
  process.exit(77);
}
fs.mkdirSync(artifacts, { recursive: true });

const consoleErrors = [];
function watch (page, who) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = (msg.location() && msg.location().url) || '';
    // 4xx from the API are answers the page shows (a refused Extend)
    if (/status of 4\d\d/.test(msg.text()) && new URL(url || 'http://x/').pathname.startsWith('/api/v1/')) return;
    consoleErrors.push(`${who} ${page.url()}: ${msg.text()} (${url})`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`${who} ${page.url()}: uncaught: ${err.message}`));
}

async function shot (page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function login (context, who) {
  const page = await context.newPage();
  watch(page, who);
  await page.goto(portal.url + '/');
  await page.waitForURL(/\/login\?next=/);
  await page.fill('#user', who);
  await page.fill('#password', users[who]);
  await page.click('#login-button');
  await page.waitForURL(portal.url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

function card (page, id) {
  return page.locator(`#sessions li.card[data-session-id="${id}"]`);
}

async function waitCardState (page, id, state, timeout = 60000) {
  await card(page, id).and(page.locator(`.card-${state}`)).waitFor({ timeout });
}

async function launch (page) {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/sessions') && r.request().method() === 'POST'),
    page.click('#launch'),
  ]);
  return resp;
}

// A call to the JSON API as the page's user (CSRF token from /me).
async function apiCall (page, method, url, body) {
  return page.evaluate(async ({ method, url, body }) => {
    const meResp = await fetch('/api/v1/me', { headers: { Accept: 'application/json' } });
    // not logged in (or an error page): say so, with what came back
    if (!meResp.ok) return { status: meResp.status, body: null, text: (await meResp.text()).slice(0, 300) };
    const me = await meResp.json();
    const r = await fetch(url, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, { method, url, body });
}

let browser = null;
const ctx = {};
try {
  await tap.step('minna-controller (with a site-written app) and minna-relay start', async () => {
    await portal.start();
    tap.comment(`portal at ${portal.url}; ${portal.mode}`);
  });

  await tap.step('Chromium starts (headless, fresh profile, notifications allowed to be asked)', async () => {
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
    await ctx.erin.grantPermissions(['notifications'], { origin: portal.url });
    // what the page hands the Notification API is recorded (headless
    // Chromium shows nothing)
    await ctx.erin.addInitScript(() => {
      const Real = window.Notification;
      window.sentNotifications = [];
      class Recorded {
        constructor (title, options) {
          window.sentNotifications.push({ title, body: options && options.body, tag: options && options.tag });
          this.close = () => {};
        }
        static get permission () { return Real ? Real.permission : 'granted'; }
        static requestPermission () { return Real ? Real.requestPermission() : Promise.resolve('granted'); }
      }
      window.Notification = Recorded;
    });
  });

  let erin;
  let siteId;
  await tap.step('a site-written app: its form has the select fields of its file, the site command\'s options too', async () => {
    erin = await login(ctx.erin, 'erin');
    await erin.selectOption('#app', 'toolchain');
    await erin.waitForSelector('#launch-form[data-app="toolchain"]');
    const release = erin.locator('#f-release');
    check(await release.evaluate((s) => s.tagName) === 'SELECT', 'release is not a select');
    const releases = await release.locator('option').allTextContents();
    check(releases.join(',') === 'R2023b,R2024a,R2024b', `release options: ${releases}`);
    check(await release.inputValue() === 'R2023b', 'the file\'s default is not chosen');
    check(await erin.locator('label[for="f-release"]').textContent() === 'Release', 'no label from the file');
    check(/toolchain release/.test(await erin.locator('#f-release-help').textContent()), 'no help line');
    // the site command's list (made in the background, asked again)
    await erin.locator('#f-module option[value="openmpi/4"]').waitFor({ state: 'attached' });
    const modules = await erin.locator('#f-module option').allTextContents();
    // no default in the file: "Default" (the app's own choice) comes first
    check(modules.join(',') === 'Default,gcc/12,openmpi/4,intel/2024', `module options: ${modules}`);
    check(await erin.locator('#f-debug').getAttribute('type') === 'checkbox', 'debug is not a checkbox');
    check(await erin.getAttribute('#memory_gb', 'max') === '4', 'memory max is not the file\'s 4');
    await shot(erin, '30-site-app-form');
  });

  await tap.step('launched from the form: the values chosen reach the app', async () => {
    await erin.selectOption('#f-release', 'R2024a');
    await erin.selectOption('#f-module', 'openmpi/4');
    await erin.check('#f-debug');
    await erin.fill('#hours', '0.2');
    const resp = await launch(erin);
    check(resp.status() === 201, `launch: ${resp.status()} ${await resp.text()}`);
    const s = await resp.json();
    siteId = s.id;
    check(s.fields && s.fields.module === 'openmpi/4' && s.fields.release === 'R2024a' && s.fields.debug === 'true',
      `the session's fields: ${JSON.stringify(s.fields)}`);
    await waitCardState(erin, siteId, 'running');
    const [app] = await Promise.all([
      ctx.erin.waitForEvent('page'),
      card(erin, siteId).locator('a[data-action="connect"]').click(),
    ]);
    watch(app, 'erin/app');
    await app.waitForSelector('#chosen');
    const chosen = await app.locator('#chosen').textContent();
    check(chosen === 'openmpi/4 R2024a debug=true', `the app says '${chosen}'`);
    await shot(app, '31-site-app-running');
    await app.close();
    await erin.bringToFront();
  });

  await tap.step('the launch form shows the live limits: at her limit, and the policy\'s walltime cap after a reload', async () => {
    await erin.reload();
    await erin.waitForSelector('body[data-ready="true"]');
    const limit = erin.locator('#limit-status');
    await limit.waitFor();
    check(/You are at your limit: 1 of 1 session/.test(await limit.textContent()), `limit line: ${await limit.textContent()}`);
    check(/you are at your limit\.$/.test(await erin.locator('#queue-status').textContent()),
      `queue line: ${await erin.locator('#queue-status').textContent()}`);
    check(!/would start now/.test(await erin.locator('#queue-status').textContent()), 'says a session would start now');
    // the admin caps walltime at 1 h: the form's bound and default follow
    await portal.reloadPolicy({ ...policy, walltime: '1h', extendMax: '1h' });
    await erin.selectOption('#app', 'webapp');
    await erin.reload();
    await erin.waitForSelector('body[data-ready="true"]');
    await erin.selectOption('#app', 'webapp');
    await erin.waitForSelector('#launch-form[data-app="webapp"]');
    const range = await erin.locator('#hours-range').textContent();
    check(/to 1 \(the interactive queue's limit now\)/.test(range), `hours range: ${range}`);
    check(Number(await erin.inputValue('#hours')) <= 1, `hours default ${await erin.inputValue('#hours')} beside a 1 h cap`);
    check(await erin.getAttribute('#hours', 'max') === '1', 'hours max is not the cap');
    await shot(erin, '32-launch-form-limits');
    await portal.reloadPolicy(policy);
    await erin.reload();
    await erin.waitForSelector('body[data-ready="true"]');
  });

  await tap.step('opt-in notifications: nothing until asked; then 15 minutes before the end', async () => {
    check(await erin.evaluate(() => window.sentNotifications.length) === 0, 'a notification before opting in');
    const button = erin.locator('#notify-toggle');
    check(await button.isVisible(), 'no notification button');
    check(await button.getAttribute('aria-pressed') === 'false', 'notifications on without asking');
    await button.click();
    check(await button.getAttribute('aria-pressed') === 'true', 'notifications not on after the click');
    // the session has 12 minutes: under 15, the notice comes at the next tick
    await erin.waitForFunction(() => window.sentNotifications.some((n) => /ends in/.test(n.title)), null, { timeout: 5000 });
    const sent = await erin.evaluate(() => window.sentNotifications);
    tap.comment(`notification: ${JSON.stringify(sent[0])}`);
    check(sent.length === 1 && /Toolchain page ends in 1[12] min/.test(sent[0].title), `sent: ${JSON.stringify(sent)}`);
  });

  await tap.step('Extend: accepted by the policy\'s step, then refused at its limit with the reason', async () => {
    const c = card(erin, siteId);
    const button = c.locator('button[data-action="extend"]');
    check(/Extend 1 h/.test(await button.textContent()), `button: ${await button.textContent()}`);
    const [resp] = await Promise.all([
      erin.waitForResponse((r) => r.url().endsWith('/extend')),
      button.click(),
    ]);
    check(resp.status() === 200, `extend: ${resp.status()} ${await resp.text()}`);
    await c.locator('.spec').getByText('1.2 h').waitFor();
    check(/Extended: 1\.2 h in all/.test(await c.locator('.card-error').textContent()), 'no note that it was extended');
    check(/^Time left: 1 h 1\d min/.test(await c.locator('.time-left').textContent()),
      `time left: ${await c.locator('.time-left').textContent()}`);
    check(await c.locator('.walltime-warning').isHidden(), 'the walltime warning is still shown');
    await shot(erin, '33-extend-accepted');
    // the last step is shorter (to 2 h), then the policy says no
    // (its answer is awaited: getByText('2 h') matched '1.2 h' already
    // shown, and the third click's wait caught the second's 200)
    const [second] = await Promise.all([
      erin.waitForResponse((r) => r.url().endsWith('/extend')),
      c.locator('button[data-action="extend"]').click(),
    ]);
    check(second.status() === 200, `a second extend: ${second.status()} ${await second.text()}`);
    await c.locator('.spec', { hasText: / · 2 h$/ }).waitFor();
    const [refused] = await Promise.all([
      erin.waitForResponse((r) => r.url().endsWith('/extend')),
      c.locator('button[data-action="extend"]').click(),
    ]);
    check(refused.status() === 409, `a third extend: ${refused.status()}`);
    // the page writes the reason after it has read the answer's body: wait
    // for the card to change (read at once, it still said 'Extended: 2 h')
    await c.locator('.card-error', { hasText: /Not extended/ }).waitFor({ timeout: 10000 })
      .catch(() => {});
    const shown = await c.locator('.card-error').textContent();
    check(/^Not extended: the session already has the longest run time allowed \(2h\)/.test(shown), `refusal shown: '${shown}'`);
    await shot(erin, '34-extend-refused');
  });

  await tap.step('Stop asks first and says unsaved work is lost; Keep it running keeps it', async () => {
    const c = card(erin, siteId);
    await c.locator('button[data-action="stop"]').click();
    const dialog = erin.locator('#stop-dialog');
    await dialog.waitFor({ state: 'visible' });
    const text = await dialog.textContent();
    check(/Stop Toolchain page\?/.test(text) && /not saved in it is\s+lost/.test(text), `dialog: ${text}`);
    check(await erin.evaluate(() => document.activeElement.id) === 'stop-dialog-cancel', 'the safe choice has no focus');
    await shot(erin, '35-stop-confirm');
    await erin.click('#stop-dialog-cancel');
    await dialog.waitFor({ state: 'hidden' });
    await erin.waitForTimeout(1500);
    check(await c.evaluate((li) => li.classList.contains('card-running')), 'Keep it running stopped it');
    // Escape is "keep it" too
    await c.locator('button[data-action="stop"]').click();
    await dialog.waitFor({ state: 'visible' });
    await erin.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    check(await c.evaluate((li) => li.classList.contains('card-running')), 'Escape stopped it');
    await c.locator('button[data-action="stop"]').click();
    await erin.click('#stop-dialog-confirm');
    await waitCardState(erin, siteId, 'ended');
  });

  await tap.step('the ended card: why in her words, full dates, no host; Remove hides it (kept for the admin)', async () => {
    const c = card(erin, siteId);
    check(await c.locator('.end-text').textContent() === 'You stopped it.', `end text: ${await c.locator('.end-text').textContent()}`);
    const when = await c.locator('.when').textContent();
    check(new RegExp(String(new Date().getFullYear())).test(when) && /^Ended /.test(when), `dates: ${when}`);
    check(await c.locator('.host').count() === 0 && !/127\.0\.0\.1/.test(await c.textContent()), 'the host is shown to a student');
    await shot(erin, '36-ended-card');
    await c.locator('button[data-action="remove"]').click();
    await c.waitFor({ state: 'detached' });
    await erin.reload();
    await erin.waitForSelector('body[data-ready="true"]');
    check(await card(erin, siteId).count() === 0, 'the removed card is back after a reload');
    const ada = await login(ctx.ada, 'ada');
    const all = await ada.evaluate(async () => (await (await fetch('/api/v1/sessions')).json()).sessions);
    const row = all.find((s) => s.id === undefined ? false : s.user === 'erin' && s.hidden);
    check(row, 'the removed session is not in the admin\'s list');
    await ada.close();
  });

  await tap.step('opt-in notifications: a session that waited behind the full node is announced when it starts', async () => {
    // ada, gus and hana take the logical node's 3 places
    const fillers = {};
    for (const who of ['ada', 'gus', 'hana']) {
      // ada logged in in the step before: her context has the cookie
      let page;
      if ((await ctx[who].cookies()).length) {
        page = await ctx[who].newPage();
        watch(page, who);
        await page.goto(portal.url + '/');
        await page.waitForSelector('body[data-ready="true"]');
      } else {
        page = await login(ctx[who], who);
      }
      const args = { app: 'webapp', queue: 'interactive', hours: 0.2, memory_gb: 0.25 };
      let r = await apiCall(page, 'POST', '/api/v1/sessions', args);
      if (r.status === 401 || r.status === 403) {
        // the context's cookie was not (or no longer) a login: log in afresh
        tap.comment(`${who}: /api/v1/me answered ${r.status}; logging in again`);
        await page.close();
        page = await login(ctx[who], who);
        r = await apiCall(page, 'POST', '/api/v1/sessions', args);
      }
      check(r.status === 201, `${who}'s launch: ${r.status} ${JSON.stringify(r.body)} ${r.text || ''}`);
      fillers[who] = { page, id: r.body.id };
    }
    await erin.reload();
    await erin.waitForSelector('body[data-ready="true"]');
    check(await erin.locator('#notify-toggle').getAttribute('aria-pressed') === 'true', 'notifications are off after a reload');
    const before = await erin.evaluate(() => window.sentNotifications.length);
    await erin.selectOption('#app', 'webapp');
    await erin.waitForSelector('#launch-form[data-app="webapp"]');
    await erin.check('#if_busy-wait');
    // over 15 minutes: no notice of its end in the way
    await erin.fill('#hours', '0.5');
    const resp = await launch(erin);
    check(resp.status() === 201, `erin's launch: ${resp.status()} ${await resp.text()}`);
    const waiting = await resp.json();
    check(waiting.state === 'queued', `erin's session is ${waiting.state}, not waiting (queued)`);
    await waitCardState(erin, waiting.id, 'queued', 15000);
    // polled while it waits: no notice yet
    await erin.waitForTimeout(2500);
    check(await erin.evaluate(() => window.sentNotifications.length) === before,
      `a notification while it waits: ${JSON.stringify(await erin.evaluate(() => window.sentNotifications))}`);
    await shot(erin, '36b-waiting-card');
    // hana stops hers: the place goes to erin's session
    const stop = await apiCall(fillers.hana.page, 'DELETE', `/api/v1/sessions/${fillers.hana.id}`);
    check([200, 202, 204].includes(stop.status), `hana's stop: ${stop.status}`);
    await waitCardState(erin, waiting.id, 'running', 60000);
    await erin.waitForFunction((n) => window.sentNotifications.length > n, before, { timeout: 10000 });
    const sent = (await erin.evaluate(() => window.sentNotifications)).slice(before);
    tap.comment(`notification: ${JSON.stringify(sent)}`);
    check(sent.length === 1 && sent[0].title === 'Web app is ready' && sent[0].tag === `${waiting.id}:started` &&
      /has started/.test(sent[0].body), `sent: ${JSON.stringify(sent)}`);
    await shot(erin, '36c-waited-running');
    // the node is left empty for the next step
    for (const [who, page, id] of [['erin', erin, waiting.id], ['ada', fillers.ada.page, fillers.ada.id],
      ['gus', fillers.gus.page, fillers.gus.id]]) {
      const r = await apiCall(page, 'DELETE', `/api/v1/sessions/${id}`);
      check([200, 202, 204].includes(r.status), `${who}'s stop: ${r.status}`);
    }
    for (const [page, id] of [[erin, waiting.id], [fillers.ada.page, fillers.ada.id], [fillers.gus.page, fillers.gus.id],
      [fillers.hana.page, fillers.hana.id]]) {
      await page.waitForFunction(async (id) => ['ended', 'failed'].includes((await (await fetch(`/api/v1/sessions/${id}`)).json()).state),
        id, { timeout: 30000, polling: 300 });
    }
    for (const f of Object.values(fillers)) await f.page.close();
  });

  await tap.step('an app that quits by itself (exit code 0, as Jupyter\'s Quit) reads "You quit the app."', async () => {
    const frank = await login(ctx.frank, 'frank');
    await frank.selectOption('#app', 'quitter');
    try {
      await frank.waitForSelector('#launch-form[data-app="quitter"]', { timeout: 20000 });
    } catch (e) {
      // what the page shows instead (seen once under load: not understood yet)
      await shot(frank, '37-quit-form-stuck');
      throw new Error(`the form did not switch to quitter: app=${await frank.inputValue('#app')},` +
        ` data-app=${await frank.getAttribute('#launch-form', 'data-app')},` +
        ` error='${await frank.locator('#launch-error').textContent()}'`);
    }
    const resp = await launch(frank);
    check(resp.status() === 201, `launch: ${resp.status()}`);
    const id = (await resp.json()).id;
    await waitCardState(frank, id, 'ended', 60000);
    const c = card(frank, id);
    check(await c.locator('.end-text').textContent() === 'You quit the app.', `end text: ${await c.locator('.end-text').textContent()}`);
    check(!/exit code 0/.test(await c.locator('.end-text').textContent()), 'the code is the headline');
    await shot(frank, '37-quit-card');
    await frank.close();
  });

  await tap.step('no errors in the browser console', async () => {
    check(consoleErrors.length === 0, consoleErrors.join('\n'));
  });
} catch (e) {
  tap.comment('controller log (tail):\n' + portal.logTail('controller'));
  if (consoleErrors.length) tap.comment('console errors so far:\n' + consoleErrors.join('\n'));
} finally {
  if (browser) await browser.close().catch(() => {});
  await portal.stop();
  tap.comment(`screenshots in ${artifacts}`);
  tap.end();
}
process.exit(tap.failed ? 1 : 0);
