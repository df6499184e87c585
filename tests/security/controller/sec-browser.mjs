// sec-browser.mjs: what a real browser holds (issue 15 items 3 and 9).
//
// Debian's Chromium (playwright-core from tests/browser) against the real
// minna-controller and minna-relay with a real Jupyter (the harness of the
// browser suite).  Alice logs in on the login page, launches Jupyter,
// opens it, makes a notebook and runs a cell; then the session's token
// (its 0600 file) must be in no DOM of any page or frame, no URL the
// browser asked for or was sent to, no response header, no cookie and no
// local or session storage.  The login page's ?next= is tried with hostile
// values: after login the browser stays on the portal.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const browserDir = path.resolve(here, '..', '..', 'browser');
const { Portal, Tap } = await import(path.join(browserDir, 'harness.mjs'));
const CHROMIUM = process.env.MINNA_CHROMIUM || '/usr/bin/chromium';
const tap = new Tap();

let playwright;
try {
  // playwright-core lives in tests/browser/node_modules (scripts/setup.d/browser.sh)
  const require = createRequire(path.join(browserDir, 'package.json'));
  const mod = await import(require.resolve('playwright-core'));
  playwright = mod.chromium ? mod : mod.default;
} catch (e) {
  tap.skipAll('playwright-core is not installed in tests/browser/node_modules: run scripts/setup.d/browser.sh');
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) {
  tap.skipAll(`${CHROMIUM} is missing: apt-get install chromium`);
  process.exit(77);
}

const users = { alice: 'alice-pass-sec-1' };
const portal = new Portal({ users, name: 'sec-browser', policy: { nodes: 1, perNode: 1, maxJobs: 2, perUser: 1 } });
const missing = portal.missing();
if (missing.length) {
  tap.skipAll(`not built or not installed: ${missing.join(', ')}`);
  fs.rmSync(portal.dir, { recursive: true, force: true });
  process.exit(77);
}

function check (cond, text) {
  if (!cond) throw new Error(text);
}

let browser;
const urls = [];          // every request and every redirect target
const headers = [];       // every response's headers, as text
let exitCode = 0;

function watch (page) {
  page.on('request', (r) => urls.push(r.url()));
  page.on('response', async (r) => {
    try {
      headers.push(`${r.status()} ${r.url()}\n${JSON.stringify(await r.allHeaders())}`);
    } catch (e) { /* the page went away */ }
  });
  page.on('framenavigated', (f) => urls.push(f.url()));
}

async function login (page, next) {
  await page.goto(`${portal.url}/login` + (next === undefined ? '' : `?next=${next}`));
  await page.fill('#user', 'alice');
  await page.fill('#password', users.alice);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 30000 }),
    page.click('#login-button'),
  ]);
}

try {
  await tap.step('minna-controller, minna-relay and Chromium start', async () => {
    await portal.start();
    browser = await playwright.chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
    });
  });

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  ctx.setDefaultTimeout(60000);
  const page = await ctx.newPage();
  watch(page);
  let sessionId;
  let token;

  await tap.step('alice logs in on the login page and launches Jupyter', async () => {
    await login(page);
    const r = await page.evaluate(async () => {
      const me = await (await fetch('/api/v1/me')).json();
      const res = await fetch('/api/v1/sessions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: JSON.stringify({ app: 'jupyter', hours: 1 }),
      });
      return { status: res.status, body: await res.json() };
    });
    check(r.status === 201, `launch: ${r.status} ${JSON.stringify(r.body)}`);
    sessionId = r.body.id;
    for (let i = 0; i < 900; i++) {
      const s = await page.evaluate(async (id) => (await (await fetch(`/api/v1/sessions/${id}`)).json()).state, sessionId);
      if (s === 'running') break;
      check(s !== 'failed' && s !== 'ended', `the session is ${s}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    token = fs.readFileSync(path.join(portal.dir, 'state-sessions', sessionId, 'token'), 'utf8').trim();
    check(token.length >= 32, 'the session has its token');
  });

  let nb;
  await tap.step('Jupyter opens through the relay; a new notebook runs a cell', async () => {
    await page.goto(`${portal.url}/s/${sessionId}/`);
    await page.waitForSelector('#new-dropdown-button', { timeout: 60000 });
    await page.click('#new-dropdown-button');
    [nb] = await Promise.all([ctx.waitForEvent('page'), page.click('#kernel-python3 a')]);
    watch(nb);
    await nb.waitForSelector('#kernel_indicator_icon.kernel_idle_icon', { timeout: 60000 });
    await nb.click('.cell .CodeMirror');
    await nb.keyboard.type('6*7');
    await nb.keyboard.press('Shift+Enter');
    const out = nb.locator('.output_subarea.output_result, .output_subarea.output_text').first();
    await out.waitFor({ timeout: 60000 });
    check((await out.textContent()).trim() === '42', 'the cell printed 42');
  });

  await tap.step('the token is in no DOM, URL, response header, cookie or storage', async () => {
    const where = [];
    for (const p of ctx.pages()) {
      for (const f of p.frames()) {
        const dom = await f.content();
        if (dom.includes(token)) where.push(`DOM of ${f.url()}`);
        const attrs = await f.evaluate(() => [...document.querySelectorAll('*')]
          .flatMap((e) => [...e.attributes].map((a) => a.value)).join('\n'));
        if (attrs.includes(token)) where.push(`attributes in ${f.url()}`);
      }
      const storage = await p.evaluate(() => JSON.stringify({
        local: Object.entries(localStorage), session: Object.entries(sessionStorage), cookie: document.cookie,
        href: location.href,
      }));
      if (storage.includes(token)) where.push(`storage or document.cookie of ${p.url()}`);
    }
    const cookies = JSON.stringify(await ctx.cookies());
    if (cookies.includes(token)) where.push('the cookie jar');
    const state = JSON.stringify(await ctx.storageState());
    if (state.includes(token)) where.push('the storage state');
    for (const u of urls) if (u.includes(token)) where.push(`URL ${u}`);
    for (const h of headers) if (h.includes(token)) where.push(`headers of ${h.split('\n')[0]}`);
    check(urls.length > 20 && headers.length > 20, `the walk saw ${urls.length} URLs, ${headers.length} answers`);
    check(where.length === 0, `the token was found in: ${where.join('; ')}`);
    tap.comment(`checked ${urls.length} URLs, ${headers.length} responses, ${(await ctx.cookies()).length} cookies`);
  });

  await tap.step('the page says no token to scripts either (data-jupyter-api-token empty)', async () => {
    const attr = await page.evaluate(() => document.body.getAttribute('data-jupyter-api-token'));
    check(!attr, `data-jupyter-api-token="${attr}"`);
  });

  // ---- ?next= after login ------------------------------------------------------
  const hostile = ['//evil.example/', '/%09/evil.example/', '/%5Cevil.example/', '%2F%2Fevil.example/',
    'https://evil.example/', '/%0A/evil.example/', 'javascript:alert(1)', '/..//evil.example/'];
  for (const next of hostile) {
    await tap.step(`login with next=${next} stays on the portal`, async () => {
      const fresh = await browser.newContext();
      try {
        const p2 = await fresh.newPage();
        await login(p2, next);
        const u = new URL(p2.url());
        check(u.origin === portal.url, `the browser went to ${p2.url()}`);
      } finally {
        await fresh.close();
      }
    });
  }
  await tap.step('login with next= a session path goes there', async () => {
    const fresh = await browser.newContext();
    try {
      const p2 = await fresh.newPage();
      await login(p2, encodeURIComponent(`/s/${sessionId}/tree`));
      check(p2.url().startsWith(`${portal.url}/s/${sessionId}/tree`), `the browser went to ${p2.url()}`);
    } finally {
      await fresh.close();
    }
  });
} catch (e) {
  exitCode = 1;
  tap.comment(portal.logTail('controller'));
  tap.comment(portal.logTail('relay'));
} finally {
  if (browser) await browser.close();
  await portal.stop();
  tap.end();
}
process.exit(exitCode || (tap.failed ? 1 : 0));
