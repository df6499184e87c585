// minna portal: what every page shares (API calls, the page header,
// formatting).  Plain ES module, no build step, nothing from other hosts.

const API = '/api/v1/';

// Server clock minus ours, in seconds, from the Date header of API answers:
// estimated starts and time left are server times.
let clockSkew = 0;

export class ApiError extends Error {
  constructor (status, body) {
    super((body && body.error) || `the server answered ${status}`);
    this.status = status;
    this.field = (body && body.field) || null;
    this.reason = (body && body.reason) || null;
    this.retryAfter = null;
  }
}

let csrfToken = null;

export function setCsrf (token) {
  csrfToken = token;
}

// One API call.  Resolves to the parsed JSON body; rejects with ApiError
// (status, message, and the field the server named) on any non-2xx answer.
// @signal (an AbortSignal) may withdraw it: then it rejects with status -1.
export async function api (method, path, body, signal) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(API + path, init);
  } catch (e) {
    if (signal && signal.aborted) throw new ApiError(-1, { error: 'withdrawn' });
    throw new ApiError(0, { error: 'the portal cannot be reached; check your connection' });
  }
  const date = res.headers.get('Date');
  if (date) {
    const server = Date.parse(date);
    if (!Number.isNaN(server)) clockSkew = Math.round((server - Date.now()) / 1000);
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    const retry = res.headers.get('Retry-After');
    if (retry) err.retryAfter = Number(retry);
    throw err;
  }
  return data;
}

// Server time now, Unix seconds.
export function serverNow () {
  return Math.floor(Date.now() / 1000) + clockSkew;
}

// The logged-in user ({user, admin, csrf_token, last_form}); a visitor who
// is not logged in is sent to the login page and this never resolves.
export async function requireLogin () {
  try {
    const me = await api('GET', 'me');
    setCsrf(me.csrf_token);
    return me;
  } catch (e) {
    if (e.status === 401) {
      const next = location.pathname + location.search;
      location.replace('/login?next=' + encodeURIComponent(next));
      return new Promise(() => {});
    }
    throw e;
  }
}

// Creates an element: el('p', {class: 'x', text: 'hi'}, child...).
export function el (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Fills the header: user name, the admin link for admins, log out.
export function setupHeader (me) {
  const who = document.getElementById('who');
  if (who) who.textContent = me.user;
  const adminLink = document.getElementById('admin-link');
  if (adminLink) adminLink.hidden = !me.admin;
  const logout = document.getElementById('logout');
  if (logout) {
    logout.addEventListener('click', async () => {
      logout.disabled = true;
      try {
        await api('POST', 'logout');
      } catch (e) {
        // the cookie may already be void; go to the login page anyway
      }
      location.assign('/login');
    });
  }
}

// Text for the live region that screen readers announce.
export function announce (text) {
  const live = document.getElementById('announce');
  if (live) {
    live.textContent = '';
    // a change of text is what gets announced
    setTimeout(() => { live.textContent = text; }, 50);
  }
}

// 3725 -> "1 h 2 min"; 45 -> "45 s".
export function duration (seconds) {
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

// Unix seconds -> local clock time, with the date when not today.
export function clock (unix) {
  const d = new Date(unix * 1000);
  const today = new Date();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === today.toDateString()) return time;
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + time;
}

// Unix seconds -> the full local date and time: "Mon 7 Dec 2026, 10:05".
export function fullDate (unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }) +
    ', ' + d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// A number as the form shows it: 4 -> "4", 0.25 -> "0.25".
export function num (v) {
  return String(Math.round(v * 1000) / 1000);
}

// Puts an error message where the whole page can see it.
export function showPageError (text) {
  const box = document.getElementById('page-error');
  if (!box) return;
  box.textContent = text;
  box.hidden = !text;
}
