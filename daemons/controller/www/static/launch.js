// minna portal: the launch form.  Its fields come from the app's file
// (GET /api/v1/apps/ID/form: type, bounds, options, default or the user's
// last value) and, for the interactive queue, the policy's caps as they are
// now (the form's policy_max, GET /api/v1/queue's limits); the server checks
// again and its 400s and refusals are shown by the field they name.
import { api, announce, clock, el, num, serverNow } from './api.js';

// The resource fields: their inputs are in the page (index.html).
const RESOURCES = {
  cores: { label: 'Cores', unit: '', integer: true, cap: 'max_cores' },
  memory_gb: { label: 'Memory', unit: ' GB', integer: false, cap: 'max_memory_gb' },
  gpus: { label: 'GPUs', unit: '', integer: true, cap: 'max_gpus' },
  hours: { label: 'Hours', unit: '', integer: false, cap: 'max_hours' },
};
// How often the queue line and the limits are asked again (ms)
const QUEUE_POLL = 10000;

// An app's own field has the id f-NAME (its name may be any a-z word).
function idOf (name) {
  return RESOURCES[name] ? name : `f-${name}`;
}

export class LaunchForm {
  constructor (form, { me, onLaunched }) {
    this.form = form;
    this.apps = [];
    this.spec = null;      // the selected app's form (GET apps/ID/form)
    this.limits = null;
    this.last = me.last_form || null;
    this.onLaunched = onLaunched;
    this.formSeq = 0;
    form.addEventListener('submit', (e) => this.submit(e));
    form.app.addEventListener('change', () => this.appChanged());
    for (const r of form.querySelectorAll('input[name="queue"]')) {
      r.addEventListener('change', () => { this.applyBounds(); this.showQueueStatus(); });
    }
    for (const name of Object.keys(RESOURCES)) {
      form[name].addEventListener('change', () => this.fieldError(name, this.check(this.field(name))));
    }
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.refreshQueue();
    });
    setInterval(() => { if (!document.hidden) this.refreshQueue(); }, QUEUE_POLL);
  }

  async load () {
    const [apps, queue] = await Promise.all([api('GET', 'apps'), api('GET', 'queue')]);
    this.apps = apps.apps || [];
    this.queueInfo = queue;
    this.limits = queue.limits || null;
    const select = this.form.app;
    select.replaceChildren(...this.apps.map((a) => el('option', { value: a.id, text: a.name })));
    if (this.apps.length === 0) {
      this.formError('No apps are configured on this portal.');
      document.getElementById('launch').disabled = true;
      return;
    }
    const last = this.last;
    // batch only where the service takes it ([backend] batch)
    const batch = queue.batch !== false;
    document.getElementById('queue-batch-choice').hidden = !batch;
    document.getElementById('queue-batch').disabled = !batch;
    // the policy's if_busy unless the user chose before (the policy's words:
    // wait, give_up; forms saved before said give-up)
    if (queue.if_busy === 'wait' || queue.if_busy === 'give_up') this.setRadio('if_busy', queue.if_busy);
    if (last && this.apps.some((a) => a.id === last.app)) select.value = last.app;
    if (last && (last.queue === 'interactive' || (batch && last.queue === 'batch'))) this.setRadio('queue', last.queue);
    const lastIfBusy = last && last.if_busy === 'give-up' ? 'give_up' : last && last.if_busy;
    if (lastIfBusy === 'wait' || lastIfBusy === 'give_up') this.setRadio('if_busy', lastIfBusy);
    await this.appChanged(true);
    this.showQueueStatus();
    this.loadKernels();
  }

  app () {
    return this.apps.find((a) => a.id === this.form.app.value) || this.apps[0];
  }

  field (name) {
    return ((this.spec && this.spec.fields) || []).find((f) => f.name === name) || null;
  }

  radio (name) {
    const r = this.form.querySelector(`input[name="${name}"]:checked`);
    return r ? r.value : null;
  }

  setRadio (name, value) {
    const r = this.form.querySelector(`input[name="${name}"][value="${value}"]`);
    if (r) r.checked = true;
  }

  // Bounds of a number field for the current queue: on the interactive
  // queue, the policy's cap now (the queue's limits, else the form's).
  bounds (f) {
    let max = f.max;
    let capped = false;
    if (this.radio('queue') === 'interactive' && f.cap) {
      const live = this.limits && typeof this.limits[f.cap] === 'number' ? this.limits[f.cap] : f.policy_max;
      if (typeof live === 'number' && live < max) {
        max = live;
        capped = true;
      }
    }
    return { min: f.min, max, capped };
  }

  applyBounds () {
    for (const f of (this.spec && this.spec.fields) || []) {
      if (f.type !== 'number') continue;
      const b = this.bounds(f);
      const input = document.getElementById(idOf(f.name));
      if (!input) continue;
      input.min = num(b.min);
      input.max = num(b.max);
      const unit = (RESOURCES[f.name] || {}).unit || '';
      const range = document.getElementById(idOf(f.name) + '-range');
      if (range) {
        range.textContent = `${num(b.min)} to ${num(b.max)}${unit}` +
          (b.capped ? ' (the interactive queue\'s limit now)' : '');
      }
      // a value the current limit refuses is brought within it
      const v = Number(input.value);
      if (input.value !== '' && Number.isFinite(v) && v > b.max && b.max >= b.min) input.value = num(b.max);
    }
  }

  // A new app: its form, with the user's last values for that app.
  async appChanged (initial) {
    const app = this.app();
    const seq = ++this.formSeq;
    document.getElementById('app-description').textContent = app.description || '';
    let spec;
    try {
      spec = await api('GET', `apps/${encodeURIComponent(app.id)}/form`);
    } catch (e) {
      this.formError(`The form of ${app.name} could not be loaded: ${e.message}`);
      return;
    }
    if (seq !== this.formSeq) return;   // another app was chosen meanwhile
    this.spec = spec;
    for (const f of spec.fields) {
      if (RESOURCES[f.name]) {
        this.form[f.name].value = f.value;
        this.form[f.name].step = f.step > 0 ? num(f.step) : 'any';
        this.fieldError(f.name, '');
      }
    }
    this.renderOwn(spec);
    this.applyBounds();
    if (!initial) this.formError('');
    document.getElementById('launch-form').dataset.app = app.id;
    // a site command's list still being made: ask again shortly
    if (spec.fields.some((f) => f.options_pending)) {
      setTimeout(() => { if (seq === this.formSeq) this.appChanged(true); }, 1000);
    }
  }

  // The app's own fields (select, checkbox, text, number), below the resources.
  renderOwn (spec) {
    const box = document.getElementById('own-fields');
    const own = spec.fields.filter((f) => !RESOURCES[f.name]);
    box.replaceChildren(...own.map((f) => this.renderField(f)));
    box.hidden = own.length === 0;
    for (const f of own) {
      if (f.type === 'select' && f.source === 'user-kernels' && f.options === null) this.fillKernels(f);
    }
  }

  renderField (f) {
    const id = idOf(f.name);
    const describedBy = `${id}-help ${id}-error`;
    const help = el('p', { id: `${id}-help`, class: 'hint', text: f.help || '' });
    const error = el('p', { id: `${id}-error`, class: 'field-error', hidden: true });
    let input;
    if (f.type === 'checkbox') {
      input = el('input', { id, name: f.name, type: 'checkbox', 'aria-describedby': describedBy });
      input.checked = f.value === 'true';
      return el('div', { class: 'field choice own-field', 'data-field': f.name, 'data-type': f.type },
        input, el('label', { for: id, text: f.label }), help, error);
    }
    if (f.type === 'select') {
      input = el('select', { id, name: f.name, 'aria-describedby': describedBy });
      this.setOptions(input, f, (f.options || []).map((v) => ({ value: v, label: v })));
      if (f.options === null && f.options_problem && f.source !== 'user-kernels') {
        help.textContent = `${f.help ? f.help + ' ' : ''}(${f.options_problem})`;
      }
    } else if (f.type === 'number') {
      input = el('input', {
        id, name: f.name, type: 'number', step: f.step > 0 ? num(f.step) : 'any',
        min: num(f.min), max: num(f.max), 'aria-describedby': `${id}-range ${describedBy}`,
      });
      input.value = f.value;
      input.addEventListener('change', () => this.fieldError(f.name, this.check(f)));
    } else {
      input = el('input', { id, name: f.name, type: 'text', maxlength: f.max_length, 'aria-describedby': describedBy });
      input.value = f.value;
    }
    const parts = [el('label', { for: id, text: f.label }), input];
    if (f.type === 'number') parts.push(el('p', { id: `${id}-range`, class: 'hint' }));
    return el('div', { class: 'field own-field', 'data-field': f.name, 'data-type': f.type }, ...parts, help, error);
  }

  // A select's options; "" first when nothing need be chosen (the app's own default).
  setOptions (select, f, options) {
    const items = [];
    if (f.default === '') items.push(el('option', { value: '', text: 'Default' }));
    for (const o of options) items.push(el('option', { value: o.value, text: o.label }));
    select.replaceChildren(...items);
    if ([...select.options].some((o) => o.value === f.value)) select.value = f.value;
    select.disabled = items.length === 0;
  }

  // The user's kernels for a user-kernels select (the server had no list yet).
  async fillKernels (f) {
    let data;
    try {
      data = await api('GET', 'kernels');
    } catch (e) {
      return;
    }
    const select = document.getElementById(idOf(f.name));
    if (!select) return;
    const kernels = (data && data.kernels) || [];
    this.setOptions(select, f, kernels.map((k) => ({ value: k.name, label: k.display_name || k.name })));
  }

  // The error text for one field, '' when it is fine.
  check (f) {
    if (!f) return '';
    const input = document.getElementById(idOf(f.name));
    if (!input || f.type !== 'number') return '';
    const label = (RESOURCES[f.name] || {}).label || f.label;
    const unit = (RESOURCES[f.name] || {}).unit || '';
    const integer = (RESOURCES[f.name] || {}).integer || f.step === 1;
    const text = input.value.trim();
    const b = this.bounds(f);
    if (text === '') return `Enter the ${label.toLowerCase()}.`;
    const v = Number(text);
    if (!Number.isFinite(v)) return `${label}: enter a number.`;
    if (integer && !Number.isInteger(v)) return `${label} must be a whole number.`;
    if (v < b.min || v > b.max) {
      return `${label} must be between ${num(b.min)} and ${num(b.max)}${unit}` +
        (b.capped ? ' on the interactive queue.' : '.');
    }
    return '';
  }

  fieldError (name, text) {
    const id = name === 'queue' || name === 'if_busy' || name === 'app' ? name : idOf(name);
    const p = document.getElementById(id + '-error');
    if (!p) return false;
    p.textContent = text || '';
    p.hidden = !text;
    const input = name === 'queue' || name === 'if_busy'
      ? this.form.querySelector(`input[name="${name}"]`) : document.getElementById(id);
    if (input) {
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    return true;
  }

  formError (text) {
    const p = document.getElementById('launch-error');
    p.textContent = text || '';
    p.hidden = !text;
  }

  clearErrors () {
    for (const name of ['app', 'queue', 'if_busy']) this.fieldError(name, '');
    for (const f of (this.spec && this.spec.fields) || []) this.fieldError(f.name, '');
    this.formError('');
  }

  // The request: every field of the form by its type.
  body () {
    const body = {
      app: this.app().id,
      queue: this.radio('queue'),
      if_busy: this.radio('if_busy'),
    };
    for (const f of (this.spec && this.spec.fields) || []) {
      const input = document.getElementById(idOf(f.name));
      if (!input) continue;
      if (f.type === 'number') body[f.name] = Number(input.value);
      else if (f.type === 'checkbox') body[f.name] = input.checked;
      else body[f.name] = input.value;
    }
    return body;
  }

  async submit (event) {
    event.preventDefault();
    this.clearErrors();
    let first = null;
    for (const f of (this.spec && this.spec.fields) || []) {
      const msg = this.check(f);
      if (msg) {
        this.fieldError(f.name, msg);
        first = first || document.getElementById(idOf(f.name));
      }
    }
    if (first) {
      first.focus();
      return;
    }
    const body = this.body();
    const button = document.getElementById('launch');
    button.disabled = true;
    button.textContent = 'Launching…';
    try {
      const session = await api('POST', 'sessions', body);
      this.last = body;
      announce(`${this.app().name} launched: ${session.state}.`);
      this.onLaunched(session);
      this.refreshQueue();
    } catch (e) {
      this.showApiError(e);
    } finally {
      button.disabled = false;
      button.textContent = 'Launch';
    }
  }

  // A 400 goes by the field it names; a refusal (409) says the policy's reason.
  showApiError (e) {
    if (e.status === 401) {
      location.assign('/login?next=/');
      return;
    }
    if (e.status === 400 && e.field && this.fieldError(e.field, e.message)) {
      const input = document.getElementById(e.field === 'queue' || e.field === 'if_busy' ? e.field : idOf(e.field)) ||
        this.form.querySelector(`[name="${e.field}"]`);
      if (input) input.focus();
      return;
    }
    if (e.status === 409) {
      this.formError(`Not launched: ${e.message}`);
      this.refreshQueue();
    } else {
      this.formError(e.message);
    }
  }

  // The queue line and the limits, as they are now (also after the
  // sessions list saw a change: see portal.js).
  async refreshQueue () {
    try {
      this.queueInfo = await api('GET', 'queue');
      this.limits = this.queueInfo.limits || this.limits;
      this.applyBounds();
      this.showQueueStatus();
    } catch (e) {
      // the status line is a hint; keep the old one
    }
  }

  showQueueStatus () {
    const q = this.queueInfo;
    const p = document.getElementById('queue-status');
    const limit = document.getElementById('limit-status');
    const l = (q && q.limits) || {};
    // at the per-user limit: no session would start, whatever the queue
    const atLimit = typeof l.max_jobs_per_user === 'number' && l.max_jobs_per_user > 0 &&
      typeof l.your_jobs === 'number' && l.your_jobs >= l.max_jobs_per_user;
    if (limit) {
      limit.textContent = atLimit
        ? `You are at your limit: ${l.your_jobs} of ${l.max_jobs_per_user} session${l.max_jobs_per_user === 1 ? '' : 's'}` +
          ' running or waiting. Stop one to launch another.'
        : '';
      limit.hidden = !atLimit;
    }
    if (!q || this.radio('queue') !== 'interactive') {
      p.textContent = '';
      return;
    }
    let used = 0;
    let places = 0;
    for (const n of q.nodes || []) {
      for (const lg of n.logical_nodes || []) {
        used += lg.jobs;
        places += lg.max_jobs;
      }
    }
    let tail;
    if (atLimit) {
      tail = 'you are at your limit.';
    } else {
      let when = 'not known';
      if (typeof q.estimated_start === 'number') {
        when = q.estimated_start <= serverNow() + 5 ? 'now' : clock(q.estimated_start);
      }
      tail = `a new session would start ${when === 'now' ? 'now' : 'at ' + when}.`;
    }
    p.textContent = `${q.queue}: ${used} of ${places} places in use, ${q.waiting} waiting; ${tail}`;
  }

  // The user's own Jupyter kernels (GET /api/v1/kernels: minna-kernel list,
  // run as the user); none, or no list at all, leaves the box hidden.  The
  // box's data-state says which it was (none, listed, error).
  async loadKernels () {
    const box = document.getElementById('kernels');
    let data;
    try {
      data = await api('GET', 'kernels');
    } catch (e) {
      box.dataset.state = 'error';
      return;
    }
    const kernels = (data && data.kernels) || [];
    if (kernels.length === 0) {
      box.dataset.state = 'none';
      return;
    }
    const list = document.getElementById('kernel-list');
    list.replaceChildren(...kernels.map((k) => {
      const modules = (k.modules || []).length ? ` (modules: ${k.modules.join(', ')})` : '';
      const problem = k.problem ? el('span', { class: 'warning-text', text: ` — ${k.problem}` }) : null;
      return el('li', { 'data-kernel': k.name }, el('strong', { text: k.display_name || k.name }), modules, problem);
    }));
    box.hidden = false;
    box.dataset.state = 'listed';
  }
}
