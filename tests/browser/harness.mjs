// The real portal for the browser tests and the lecture benchmark:
// minna-controller (local backend, real Jupyter) behind minna-relay, on
// ephemeral loopback ports, in a fresh directory; everything started here is
// stopped here, by PID.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const sourceDir = process.env.MINNA_SOURCE_DIR ||
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const buildDir = process.env.MINNA_BUILD_DIR || '';
export const wwwDir = path.join(sourceDir, 'daemons', 'controller', 'www');

export const CHROMIUM = process.env.MINNA_CHROMIUM || '/usr/bin/chromium';
// screenshots and page dumps of the browser tests
export const artifacts = path.join(buildDir || '.', 'tests', 'browser', 'artifacts');

export function check (cond, text) {
  if (!cond) throw new Error(text);
}

// playwright-core and Debian's Chromium, or a TAP skip (exit 77) naming
// what is missing and how to get it.
export async function loadPlaywright (tap) {
  let playwright;
  try {
    playwright = await import('playwright-core');
  } catch (e) {
    tap.skipAll('playwright-core is not installed in tests/browser/node_modules: run scripts/setup.d/browser.sh');
    process.exit(77);
  }
  if (!fs.existsSync(CHROMIUM)) {
    tap.skipAll(`${CHROMIUM} is missing: apt-get install chromium`);
    process.exit(77);
  }
  return playwright;
}

export function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForPort (port, what, log, proc) {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode}); see ${log}`);
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} did not come up on port ${port}; see ${log}`);
}

// The content types of the portal's files, by extension.
export const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// Page URL -> file in www/.  The controller must serve the same (see
// daemons/controller/www/README.md); this map is what the stand-in serves.
export const PAGES = {
  '/': 'index.html',
  '/login': 'login.html',
  '/admin': 'admin.html',
  '/favicon.ico': 'static/favicon.svg',   // pages that are not ours (the relay's 403) ask for it
};

// Stand-in for the controller's own serving of www/ while it has none: the
// portal's pages from the source tree, everything else passed to the
// controller unchanged (same origin for the browser: both sit behind the
// relay).
function startPageServer (controllerPort) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = null;
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (PAGES[url.pathname]) file = PAGES[url.pathname];
      else if (/^\/static\/[a-z0-9][a-z0-9_-]*\.(css|js|svg)$/.test(url.pathname)) file = url.pathname.slice(1);
    }
    if (file) {
      const full = path.join(wwwDir, file);
      fs.readFile(full, (err, data) => {
        if (err) {
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          res.end('not found\n');
          return;
        }
        res.writeHead(200, {
          'Content-Type': CONTENT_TYPES[path.extname(full)],
          'Cache-Control': 'no-cache',
          'X-Content-Type-Options': 'nosniff',
          'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
          'Referrer-Policy': 'same-origin',
        });
        res.end(req.method === 'HEAD' ? undefined : data);
      });
      return;
    }
    const up = http.request({
      host: '127.0.0.1', port: controllerPort, method: req.method, path: req.url, headers: req.headers,
    }, (upRes) => {
      res.writeHead(upRes.statusCode, upRes.rawHeaders);
      upRes.pipe(res);
    });
    up.on('error', (e) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`controller: ${e.message}\n`);
    });
    req.pipe(up);
  });
  // The relay pools its connections to the portal: Node's default of 5 s
  // idle would close them under its feet (a POST on such a connection
  // cannot be replayed, and gives a 502).
  server.keepAliveTimeout = 600000;
  server.headersTimeout = 610000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// walltime, extendStep, extendMax (optional): [queue] max_walltime, [job]
// extend_step and extend_max as the policy file spells them ("1h").
function policyText ({ nodes, perNode, maxJobs, perUser, walltime, extendStep, extendMax }) {
  return `[queue]\nnodes = ${nodes}\nmax_jobs_per_user = ${perUser}\n` +
    (walltime ? `max_walltime = ${walltime}\n` : '') +
    `[logical_node]\nper_node = ${perNode}\nmax_jobs = ${maxJobs}\n` +
    (extendStep || extendMax ? '[job]\n' : '') +
    (extendStep ? `extend_step = ${extendStep}\n` : '') +
    (extendMax ? `extend_max = ${extendMax}\n` : '');
}

function httpGet (port, p) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] || '' }));
    });
    req.on('error', () => resolve({ status: 0, type: '' }));
  });
}

// A process's start time (clock ticks since boot, /proc/PID/stat field 22),
// as the controller records it in a job record; 0 when gone.
function procStartTime (pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) || 0;
  } catch (e) {
    return 0;
  }
}

export class Portal {
  // users: { name: password }; admins: [names]; policy: see policyText.
  // extraApps: { 'name.app': 'GKeyFile text' } beside the shipped apps.
  // readyTimeout: seconds the controller gives an app to answer.
  constructor ({ users, admins = [], policy, name = 'browser', extraApps = {}, readyTimeout = 120 }) {
    this.users = users;
    this.readyTimeout = readyTimeout;
    this.extraApps = extraApps;
    this.admins = admins;
    this.policy = policy;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `minna-${name}-`));
    this.procs = [];
    this.pageServer = null;
    this.mode = null;
  }

  bin (component, exe) {
    return path.join(buildDir, 'daemons', component, exe);
  }

  missing () {
    const need = [this.bin('controller', 'minna-controller'), this.bin('relay', 'minna-relay'), '/usr/bin/python3',
      path.join(buildDir, 'kernel', 'minna-kernel')];
    return need.filter((p) => !fs.existsSync(p));
  }

  write (name, text, mode = 0o644) {
    const p = path.join(this.dir, name);
    fs.writeFileSync(p, text, { mode });
    fs.chmodSync(p, mode);
    return p;
  }

  async start () {
    const d = this.dir;
    const controller = this.bin('controller', 'minna-controller');
    this.port = await freePort();
    this.relayPort = await freePort();
    this.relayAdmin = await freePort();
    const polpath = this.write('interactive.conf', policyText(this.policy));
    const apps = path.join(d, 'apps');
    fs.mkdirSync(apps);
    // every shipped app with the helpers beside it (minna_*.py)
    const shipped = path.join(sourceDir, 'daemons', 'controller', 'apps');
    for (const a of fs.readdirSync(shipped)) {
      if (/\.(app|py)$/.test(a)) fs.copyFileSync(path.join(shipped, a), path.join(apps, a));
    }
    for (const [a, text] of Object.entries(this.extraApps)) fs.writeFileSync(path.join(apps, a), text);
    this.secretFile = this.write('relay.secret', randomBytes(24).toString('hex'), 0o600);
    this.keyFile = this.write('cookie.key', randomBytes(32).toString('hex') + '\n', 0o600);
    const help = spawnSync(controller, ['--help-config'], { encoding: 'utf8' }).stdout || '';
    // when the controller serves www/ itself, from this source tree
    const wwwKey = /www_dir/.test(help) ? `www_dir = ${wwwDir}\n` : '';
    // the users' kernels: minna-kernel from the build, with a Jupyter data
    // directory of this run's own (run_as = controller: every portal user
    // is this account, so the controller lists what addKernel wrote)
    this.kernelBin = path.join(buildDir, 'kernel', 'minna-kernel');
    this.jupyterData = path.join(d, 'jupyter-data');
    const kernelKey = /kernel_program/.test(help) && fs.existsSync(this.kernelBin)
      ? `kernel_program = ${this.kernelBin}\n` : '';
    this.config = this.write('controller.conf',
      `[server]\nlisten = 127.0.0.1\nadmins = ${this.admins.join(', ')}\n${wwwKey}` +
      `[state]\nstate_dir = ${d}/state\napps_dir = ${apps}\npolicy_file = ${polpath}\n` +
      `[auth]\nmethods = users-file\nusers_file = ${d}/users\nkey_file = ${this.keyFile}\npbkdf2_iterations = 1000\n` +
      `[relay]\nurl = http://127.0.0.1:${this.relayAdmin}\nsecret_file = ${this.secretFile}\n` +
      // batch = allow: the portal test launches on the batch queue too (the
      // local backend refuses it by default: it would bypass the policy)
      '[backend]\nrun_as = controller\n' + (/^ +batch +string/m.test(help) ? 'batch = allow\n' : '') +
      `port_lock_dir = ${d}/ports\n` + kernelKey +
      `poll_interval_ms = 100\nkill_grace = 1s\nready_timeout = ${this.readyTimeout}s\n`, 0o600);
    for (const [user, password] of Object.entries(this.users)) {
      const r = spawnSync(controller, ['passwd', '--config', this.config, user],
        { input: password + '\n', encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`passwd ${user}: ${r.stderr}`);
    }
    this.controller = this.spawn('controller', controller,
      ['--config', this.config, '--set', `server.port=${this.port}`],
      { ...process.env, JUPYTER_DATA_DIR: this.jupyterData });
    await waitForPort(this.port, 'minna-controller', this.controller.log, this.controller);

    // Does the controller serve the portal's pages itself?
    const root = await httpGet(this.port, '/');
    let upstream = this.port;
    if (root.status === 200 && root.type.startsWith('text/html')) {
      this.mode = 'controller serves www/';
    } else {
      this.pageServer = await startPageServer(this.port);
      upstream = this.pageServer.address().port;
      this.mode = `controller does not serve www/ yet (GET / -> ${root.status}): ` +
        'the harness serves the pages and passes the rest to the controller';
    }
    this.relay = this.spawn('relay', this.bin('relay', 'minna-relay'), [
      '--listen-https', '', '--listen-http', `127.0.0.1:${this.relayPort}`,
      '--admin-listen', `127.0.0.1:${this.relayAdmin}`, '--admin-secret-file', this.secretFile,
      '--cookie-key-file', this.keyFile, '--controller-url', `http://127.0.0.1:${upstream}`,
      '--state-dir', path.join(d, 'relay-state'), '--access-log', '',
    ]);
    await waitForPort(this.relayPort, 'minna-relay', this.relay.log, this.relay);
    this.url = `http://127.0.0.1:${this.relayPort}`;
    return this;
  }

  // A new policy (see policyText) and SIGHUP: the controller reloads it.
  async reloadPolicy (policy) {
    this.policy = policy;
    this.write('interactive.conf', policyText(policy));
    this.controller.kill('SIGHUP');
    await sleep(500);
  }

  spawn (name, bin, args, env = process.env) {
    const log = path.join(this.dir, `${name}.log`);
    const fd = fs.openSync(log, 'a');
    const proc = spawn(bin, args, { stdio: ['ignore', fd, fd], env });
    fs.closeSync(fd);
    proc.log = log;
    proc.on('exit', (code, signal) => {
      proc.exitCode = code === null ? -1 : code;
      // a daemon gone while the test ran: say how (a crash, or a signal
      // from elsewhere), in the log the failure report shows
      if (!this.stopping) {
        try {
          fs.appendFileSync(log, `\n[harness] ${name} (pid ${proc.pid}) exited while the test ran: ` +
            `code ${code}, signal ${signal}\n`);
        } catch (e) { /* the directory is gone */ }
      }
    });
    this.procs.push(proc);
    return proc;
  }

  // A Jupyter kernel written by the real `minna-kernel add` where the
  // controller's minna-kernel list will find it.
  addKernel (name, displayName) {
    const r = spawnSync(this.kernelBin, ['add', name, '--python', '/usr/bin/python3', '--display-name', displayName], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: process.env.HOME || '/', JUPYTER_DATA_DIR: this.jupyterData },
    });
    if (r.status !== 0) throw new Error(`minna-kernel add ${name}: ${r.stdout}${r.stderr}${r.error || ''}`);
    return r.stdout;
  }

  logTail (name, lines = 30) {
    try {
      return fs.readFileSync(path.join(this.dir, `${name}.log`), 'utf8').split('\n').slice(-lines).join('\n');
    } catch (e) {
      return '';
    }
  }

  // The daemons by PID, then the jobs by the PIDs the controller recorded
  // (it leaves jobs running on purpose: they are adopted after a restart).
  async stop () {
    this.stopping = true;
    for (const p of this.procs.reverse()) {
      if (p.exitCode === null) {
        p.kill('SIGTERM');
        for (let i = 0; i < 50 && p.exitCode === null; i++) await sleep(100);
        if (p.exitCode === null) p.kill('SIGKILL');
      }
    }
    if (this.pageServer) this.pageServer.close();
    const jobs = path.join(this.dir, 'state', 'jobs');
    let names = [];
    try { names = fs.readdirSync(jobs); } catch (e) { names = []; }
    for (const n of names) {
      const text = fs.readFileSync(path.join(jobs, n), 'utf8');
      const pid = Number((text.match(/^pid=(\d+)/m) || [])[1]);
      const start = Number((text.match(/^starttime=(\d+)/m) || [])[1]);
      // only the job's own process group: pids wrap within minutes on a busy
      // machine, and a stale pid may now lead another test's daemon
      if (pid > 1 && start && procStartTime(pid) === start) {
        try { process.kill(-pid, 'SIGKILL'); } catch (e) { /* already gone */ }
      }
      await sleep(50);
      const cg = (text.match(/^cgroups=(.*)$/m) || [])[1] || '';
      for (const c of cg.split(';')) {
        if (c) { try { fs.rmdirSync(c); } catch (e) { /* busy or gone */ } }
      }
    }
    if (!process.env.MINNA_KEEP_TEST_DIR) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// TAP output for meson, one line per step; a failed step stops the run
// (later steps depend on it) and is reported with the daemons' logs.
export class Tap {
  constructor () {
    this.n = 0;
    this.failed = 0;
    this.stepLines = [];   // the current step's comments
  }

  // CI shows a failed test's stderr only: once a step failed, its comments
  // and every later one (the logs the test prints) go to stderr as well.
  comment (text) {
    for (const line of String(text).split('\n')) {
      console.log(`# ${line}`);
      if (this.failed) console.error(`# ${line}`);
      else if (this.stepLines.length < 400) this.stepLines.push(line);
    }
  }

  async step (name, fn) {
    const t0 = Date.now();
    this.stepLines = [];
    try {
      await fn();
      this.n++;
      console.log(`ok ${this.n} - ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return true;
    } catch (e) {
      this.n++;
      this.failed++;
      console.log(`not ok ${this.n} - ${name}`);
      console.error(`not ok ${this.n} - ${name}`);
      for (const line of this.stepLines) console.error(`# ${line}`);
      this.comment(e && e.stack ? e.stack : String(e));
      throw e;
    }
  }

  skipAll (reason) {
    console.log(`1..0 # SKIP ${reason}`);
  }

  end () {
    console.log(`1..${this.n}`);
  }
}
