// minna portal: "My sessions", one card per session with its live state.
// Polls GET /api/v1/sessions (fast while something is changing), counts the
// time left down between polls, and keeps keyboard focus across updates.
import { api, announce, clock, duration, el, fullDate, num, serverNow } from './api.js';
import { Notifier } from './notify.js';

const LIVE = new Set(['queued', 'starting', 'running', 'ending', 'unknown']);
const CHANGING = new Set(['queued', 'starting', 'ending', 'unknown']);
const WARN_BEFORE = 15 * 60;   // seconds of walltime left that earn a warning
const FAST = 1000;
const SLOW = 5000;
const HOLD = 25;          // s the server may hold a list request until something changes
const CHANGING_HOLD = 5;  // ... while a session is queued or starting: what the card says of
                          // its wait (estimated start, place among the starts) moves with
                          // other users' sessions, which do not end this user's hold
const REHOLD = 20;        // ms between an answer and the next held request

const STATE_TEXT = {
  queued: 'Queued',
  starting: 'Starting',
  running: 'Running',
  ending: 'Ending',
  ended: 'Ended',
  failed: 'Failed',
  unknown: 'Checking',
};

// Where a starting session is, from the controller's reason text.
const START_STEPS = [
  { match: /job to start/, step: 1, text: 'Waiting for the job to start' },
  { match: /app to answer/, step: 2, text: 'Waiting for the app to answer' },
];

export class SessionList {
  constructor (list, { appName, admin, onChange }) {
    this.list = list;
    this.appName = appName;
    this.admin = !!admin;
    this.onChange = onChange || (() => {});
    this.notifier = new Notifier(document.getElementById('notify-toggle'));
    this.cards = new Map();   // id -> { li, session, key }
    this.timer = null;
    this.inflight = null;     // the AbortController of the list request in flight
    this.token = null;        // the last list's "changes": held requests wait for the next
    this.holdOffUntil = 0;    // ms: poll instead of holding until then (server said 429/503)
    this.changing = false;   // a session is queued, starting or ending
    this.heldFailed = false;  // the last held request failed (not answered)
    this.busy = new Set();    // ids with a Stop/Relaunch in flight
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.refresh();
      else if (this.inflight) this.inflight.abort();   // a hidden tab holds no connection
    });
    setInterval(() => this.tick(), 1000);
  }

  // The list, asked again at once after each answer: the server holds the
  // request until one of the user's sessions changes (wait=, since= the
  // last answer's token), so a new state shows the moment it is stored.
  // A newer refresh withdraws the request in flight (the server frees its
  // place at once).  Without a token, after an error, or if the server
  // refuses to hold (429, 503: too many), it polls as before.
  async refresh () {
    clearTimeout(this.timer);
    if (this.inflight) this.inflight.abort();
    const ctl = new AbortController();
    this.inflight = ctl;
    let sessions = null;
    const hold = this.token && !document.hidden && Date.now() >= this.holdOffUntil;
    const wait = hold ? `&wait=${this.changing ? CHANGING_HOLD : HOLD}&since=${encodeURIComponent(this.token)}` : '';
    try {
      const data = await api('GET', 'sessions?all=0' + wait, undefined, ctl.signal);
      if (ctl.signal.aborted) return;
      sessions = data.sessions || [];
      this.token = typeof data.changes === 'string' ? data.changes : null;
      this.heldFailed = false;
      this.render(sessions);
      this.setError('');
    } catch (e) {
      if (e.status === -1 || ctl.signal.aborted) return;   // a newer refresh took over
      if (e.status === 401) {
        location.assign('/login?next=/');
        return;
      }
      this.token = null;
      if (e.status === 429 || e.status === 503) {
        // too many held lists: poll for a while (e.g. many tabs)
        this.holdOffUntil = Date.now() + 1000 * (e.retryAfter || 5);
      } else if (hold && !this.heldFailed) {
        // a held request cut off on the way (a proxy's timeout): once
        // quietly, the next asks without holding
        this.heldFailed = true;
      } else {
        this.setError(`Could not update the sessions: ${e.message}`);
      }
    } finally {
      if (this.inflight === ctl) this.inflight = null;
    }
    this.changing = sessions !== null && sessions.some((s) => CHANGING.has(s.state));
    const changing = sessions === null || this.changing || this.busy.size > 0;
    if (document.hidden) return;
    if (this.token && Date.now() >= this.holdOffUntil) this.timer = setTimeout(() => this.refresh(), REHOLD);
    else this.timer = setTimeout(() => this.refresh(), changing ? FAST : SLOW);
  }

  setError (text) {
    const p = document.getElementById('page-error');
    if (p) {
      p.textContent = text;
      p.hidden = !text;
    }
  }

  // A session that was just launched shows at once, before the next poll.
  add (session) {
    const known = [...this.cards.values()].map((c) => c.session).filter((s) => s.id !== session.id);
    this.render([session, ...known]);
    const card = this.cards.get(session.id);
    if (card) card.li.scrollIntoView({ block: 'nearest' });
    this.refresh();
  }

  render (sessions) {
    const seen = new Set();
    let previous = null;
    for (const s of sessions) {
      seen.add(s.id);
      let card = this.cards.get(s.id);
      if (!card) {
        card = { li: el('li', { class: 'card', 'data-session-id': s.id }), session: null, key: '' };
        this.cards.set(s.id, card);
      }
      const old = card.session;
      // seen waiting (queued, or in the scheduler's queue): its start is
      // announced, also when a poll saw it starting in between
      if (old && (old.state === 'queued' || typeof old.estimated_start === 'number')) card.waited = true;
      card.session = s;
      card.serverNow = serverNow();
      const key = [s.state, s.reason, s.url, s.estimated_start, s.host, s.hours,
        s.extend && s.extend.allowed].join('|');
      if (key !== card.key) {
        card.key = key;
        this.fill(card);
        if (old && old.state !== s.state) {
          announce(`${this.appName(s.app)} session: ${STATE_TEXT[s.state] || s.state}.`);
          this.onChange();
          // a session that waited has started
          if (s.state === 'running' && card.waited) {
            card.waited = false;
            this.notifier.started(s, this.appName(s.app));
          }
        }
      }
      // keep the server's order (newest first) without moving focused nodes needlessly
      const want = previous ? previous.nextSibling : this.list.firstChild;
      if (want !== card.li) this.list.insertBefore(card.li, want);
      previous = card.li;
    }
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.li.remove();
        this.cards.delete(id);
      }
    }
    document.getElementById('no-sessions').hidden = sessions.length > 0;
    this.tick();
  }

  // Rebuilds one card; focus on one of its buttons survives.
  fill (card) {
    const s = card.session;
    const focused = card.li.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    const title = el('h3', {}, this.appName(s.app));
    const badge = el('span', { class: `state state-${s.state}`, text: STATE_TEXT[s.state] || s.state });
    const spec = el('p', { class: 'spec' },
      `${s.queue === 'batch' ? 'Batch' : 'Interactive'} · ${s.cores} core${s.cores === 1 ? '' : 's'} · ` +
      `${num(s.memory_gb)} GB · ${s.gpus} GPU${s.gpus === 1 ? '' : 's'} · ${num(s.hours)} h`);
    const body = el('div', { class: 'card-body' });
    const actions = el('div', { class: 'actions' });
    const errorBox = el('p', { class: 'form-error card-error', role: 'alert', hidden: true });

    switch (s.state) {
      case 'queued': {
        const est = typeof s.estimated_start === 'number'
          ? `Estimated start: ${clock(s.estimated_start)} (in ${duration(s.estimated_start - serverNow())})`
          : 'Estimated start: not known yet';
        body.append(el('p', { class: 'estimate' }, est));
        if (s.reason) body.append(el('p', { class: 'hint', text: s.reason }));
        break;
      }
      case 'starting': {
        const step = START_STEPS.find((x) => x.match.test(s.reason || ''));
        const bar = el('progress', { max: 3, 'aria-label': 'Starting', class: 'starting' });
        if (step) bar.value = step.step;
        body.append(el('div', { class: 'progress-row' }, bar,
          el('span', { class: 'elapsed', 'data-since': s.submitted || s.created })));
        if (typeof s.estimated_start === 'number') {
          // submitted, but the scheduler (Slurm, Grid Engine) holds the job in its queue
          body.append(el('p', { class: 'hint estimate', text: 'Waiting in the scheduler\'s queue, ' +
            `estimated start ${clock(s.estimated_start)}` }));
        } else {
          body.append(el('p', { class: 'hint', text: step ? step.text : (s.reason || 'Starting') }));
        }
        break;
      }
      case 'running':
        if (s.started || s.job_started) {
          body.append(el('p', { class: 'hint when' }, `Started ${fullDate(s.job_started || s.started)}`));
        }
        body.append(el('p', { class: 'time-left' }, 'Time left: ', el('strong', { class: 'left' })));
        body.append(el('p', { class: 'warning walltime-warning', role: 'status', hidden: true }));
        // while running, a reason is a notice from the controller (idle culling ahead)
        if (s.reason) body.append(el('p', { class: 'warning notice', role: 'status', text: s.reason }));
        if (s.url) {
          actions.append(el('a', {
            class: 'button primary', href: s.url, target: '_blank', rel: 'noopener',
            'data-action': 'connect', 'aria-label': `Connect to ${this.appName(s.app)} (opens a new tab)`,
          }, 'Connect'));
        }
        break;
      case 'ending':
        body.append(el('p', { class: 'hint', text: s.reason || 'Stopping…' }));
        break;
      case 'unknown':
        body.append(el('p', { class: 'hint', text: 'The scheduler did not answer; checking again.' }));
        if (s.reason) body.append(el('p', { class: 'hint', text: s.reason }));
        break;
      default: {
        // ended, failed: why in the user's words, and when (with the date)
        const started = s.job_started || s.started || s.created;
        const when = s.ended
          ? `${s.state === 'failed' ? 'Failed' : 'Ended'} ${fullDate(s.ended)} (launched ${fullDate(s.created)}` +
            `${started && s.ended > started ? `, ran ${duration(s.ended - started)}` : ''})`
          : '';
        if (when) body.append(el('p', { class: 'hint when', text: when }));
        if (s.end_text) body.append(el('p', { class: 'end-text', text: s.end_text }));
        // the technical reason, as details (a crash's output, a walltime)
        if (s.reason && s.reason !== s.end_text) {
          const multi = s.reason.includes('\n');
          body.append(el('details', { class: 'reason' }, el('summary', { text: 'Details' }),
            multi ? el('pre', { text: s.reason }) : el('p', { text: s.reason })));
        }
      }
    }
    // where it runs is for admins; a student needs only Connect
    if (s.host && this.admin) body.append(el('p', { class: 'hint host', text: `Host: ${s.host}` }));
    if (s.state === 'running' && s.extend) {
      const ext = s.extend;
      actions.append(el('button', {
        type: 'button', 'data-action': 'extend',
        'aria-label': ext.allowed ? `Extend ${this.appName(s.app)} by ${num(ext.step_hours)} h` : `Extend (${ext.why_not})`,
        title: ext.allowed ? `Adds ${num(ext.step_hours)} h (at most ${num(ext.limit_hours)} h in all)` : ext.why_not,
        onclick: () => this.extend(card, errorBox),
      }, ext.allowed ? `Extend ${num(ext.step_hours)} h` : 'Extend'));
    }
    if (LIVE.has(s.state) && s.state !== 'ending') {
      actions.append(el('button', {
        type: 'button', 'data-action': 'stop', 'aria-label': `Stop ${this.appName(s.app)} session ${s.id}`,
        onclick: () => this.confirmStop(card, errorBox),
      }, 'Stop'));
    } else if (!LIVE.has(s.state)) {
      actions.append(el('button', {
        type: 'button', 'data-action': 'relaunch',
        'aria-label': `Relaunch ${this.appName(s.app)} with the same settings`,
        onclick: () => this.relaunch(card, errorBox),
      }, 'Relaunch'));
      actions.append(el('button', {
        type: 'button', 'data-action': 'remove', class: 'quiet',
        'aria-label': `Remove this ${this.appName(s.app)} card from the list`,
        onclick: () => this.remove(card, errorBox),
      }, 'Remove'));
    }
    card.li.className = `card card-${s.state}`;
    card.li.replaceChildren(
      el('div', { class: 'card-head' }, title, badge), spec, body, errorBox, actions,
      el('p', { class: 'session-id', text: `Session ${s.id}` }));
    if (focused) {
      const again = card.li.querySelector(`[data-action="${focused}"]`);
      if (again) again.focus();
      else card.li.querySelector('[data-action]')?.focus();
    }
  }

  // Once a second: time left, elapsed start time.
  tick () {
    const now = serverNow();
    for (const card of this.cards.values()) {
      const s = card.session;
      if (s.state === 'running' && typeof s.time_left === 'number') {
        const left = Math.max(0, s.time_left - (now - card.serverNow));
        const strong = card.li.querySelector('.left');
        if (strong) strong.textContent = duration(left);
        const warn = card.li.querySelector('.walltime-warning');
        if (warn) {
          const show = left <= WARN_BEFORE;
          const text = left > 0
            ? `Ends in ${duration(left)}: save your work.`
            : 'Walltime reached: the session is being stopped.';
          if (warn.hidden === show || warn.textContent !== text) {
            warn.hidden = !show;
            warn.textContent = show ? text : '';
          }
          card.li.classList.toggle('card-warn', show);
          if (show && left > 0) this.notifier.endingSoon(s, this.appName(s.app), left);
        }
      }
      const elapsed = card.li.querySelector('.elapsed');
      if (elapsed && elapsed.dataset.since) {
        elapsed.textContent = `for ${duration(now - Number(elapsed.dataset.since))}`;
      }
    }
  }

  // Stop asks first: what is not saved in the app is lost.
  confirmStop (card, errorBox) {
    const s = card.session;
    const dialog = document.getElementById('stop-dialog');
    if (!dialog || typeof dialog.showModal !== 'function') {
      if (window.confirm(`Stop ${this.appName(s.app)}? Work you have not saved in it is lost.`)) this.stop(card, errorBox);
      return;
    }
    document.getElementById('stop-dialog-app').textContent = this.appName(s.app);
    const opener = card.li.querySelector('[data-action="stop"]');
    dialog.returnValue = '';
    dialog.onclose = () => {
      if (dialog.returnValue === 'stop') this.stop(card, errorBox);
      else if (opener) opener.focus();
    };
    dialog.showModal();
    document.getElementById('stop-dialog-cancel').focus();
  }

  async extend (card, errorBox) {
    // the server decides (the policy, then the scheduler) and says why not
    const s = card.session;
    this.busy.add(s.id);
    this.disable(card);
    try {
      const updated = await api('POST', `sessions/${encodeURIComponent(s.id)}/extend`);
      this.busy.delete(s.id);
      announce(`${this.appName(s.app)} extended: ${duration(updated.time_left)} left.`);
      this.notifier.forget(s.id);
      this.render([...this.cards.values()].map((c) => (c.session.id === s.id ? updated : c.session)));
      const again = this.cards.get(s.id);
      const note = again && again.li.querySelector('.card-error');
      if (note) {
        note.textContent = `Extended: ${num(updated.hours)} h in all.`;
        note.className = 'card-error notice-ok';
        note.hidden = false;
      }
    } catch (e) {
      this.busy.delete(s.id);
      this.showCardError(card, errorBox, `Not extended: ${e.message}`);
    }
    this.refresh();
  }

  async remove (card, errorBox) {
    const s = card.session;
    this.busy.add(s.id);
    this.disable(card);
    try {
      await api('POST', `sessions/${encodeURIComponent(s.id)}/hide`);
      this.busy.delete(s.id);
      const next = card.li.nextElementSibling || card.li.previousElementSibling;
      card.li.remove();
      this.cards.delete(s.id);
      announce(`${this.appName(s.app)} card removed.`);
      document.getElementById('no-sessions').hidden = this.cards.size > 0;
      (next ? next.querySelector('[data-action]') : document.getElementById('sessions-heading'))?.focus();
    } catch (e) {
      this.busy.delete(s.id);
      this.showCardError(card, errorBox, `Not removed: ${e.message}`);
    }
  }

  async stop (card, errorBox) {
    const s = card.session;
    this.busy.add(s.id);
    this.disable(card);
    try {
      const updated = await api('DELETE', `sessions/${encodeURIComponent(s.id)}`);
      announce(`Stopping ${this.appName(s.app)}.`);
      this.busy.delete(s.id);
      this.render([...this.cards.values()].map((c) => (c.session.id === s.id ? updated : c.session)));
    } catch (e) {
      this.busy.delete(s.id);
      this.showCardError(card, errorBox, `Could not stop: ${e.message}`);
    }
    this.refresh();
  }

  async relaunch (card, errorBox) {
    const s = card.session;
    // the same settings, the app's own fields too (the hours without the extensions)
    const body = {
      ...(s.fields || {}),
      app: s.app, queue: s.queue, cores: s.cores, memory_gb: s.memory_gb,
      gpus: s.gpus, hours: Math.max(0.001, s.hours - (s.extended_hours || 0)), if_busy: s.if_busy,
    };
    this.busy.add(s.id);
    this.disable(card);
    try {
      const created = await api('POST', 'sessions', body);
      this.busy.delete(s.id);
      announce(`${this.appName(s.app)} relaunched.`);
      this.add(created);
      this.cards.get(created.id)?.li.querySelector('[data-action]')?.focus();
    } catch (e) {
      this.busy.delete(s.id);
      this.showCardError(card, errorBox, `Not relaunched: ${e.message}`);
    }
  }

  disable (card) {
    for (const b of card.li.querySelectorAll('button')) b.disabled = true;
  }

  showCardError (card, errorBox, text) {
    for (const b of card.li.querySelectorAll('button')) b.disabled = false;
    const box = card.li.querySelector('.card-error') || errorBox;
    box.className = 'form-error card-error';
    box.textContent = text;
    box.hidden = false;
  }
}
