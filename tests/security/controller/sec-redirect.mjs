// sec-redirect.mjs: the login page sends the browser only to a path on the
// portal itself (issue 15 item 9: next=/%09/host/... left the site).
// Every value of redirect-corpus.txt goes through what login.js does with
// it: URLSearchParams decodes the query, next.js decides.
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const src = process.env.MINNA_SOURCE_DIR || path.resolve(here, '..', '..', '..');
const { safeNext } = await import(path.join(src, 'daemons', 'controller', 'www', 'static', 'next.js'));

const origin = 'https://portal.example';
let n = 0;
let failed = 0;
for (const line of fs.readFileSync(path.join(here, 'redirect-corpus.txt'), 'utf8').split('\n')) {
  if (!line.trim() || line.startsWith('#')) continue;
  const [kind, value, want] = line.split(' ');
  const next = new URLSearchParams('next=' + value).get('next');
  const got = safeNext(next, origin);
  const expected = kind === 'y' ? want : '/';
  // what the browser does with it: the origin must stay the portal's
  const landed = new URL(got, origin);
  const ok = got === expected && landed.origin === origin;
  n++;
  if (!ok) failed++;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - next=${value} -> ${JSON.stringify(got)}` +
              (ok ? '' : ` (wanted ${JSON.stringify(expected)})`));
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
