// minna portal: the launch form.  Bounds come from the app definition
// (GET /api/v1/apps) and, for the interactive queue, from the policy's caps
// (GET /api/v1/queue); the server checks again and its 400s and refusals are
// shown by the field they name.
import { api, announce, clock, el, num, serverNow } from './api.js';

const NUMBERS = [
  { name: 'cores', label: 'Cores', unit: '', integer: true, cap: 'max_cores' },
  { name: 'memory_gb', label: 'Memory', unit: ' GB', integer: false, cap: 'max_memory_gb' },
  { name: 'gpus', label: 'GPUs', unit: '', integer: true, cap: 'max_gpus' },
  { name: 'hours', label: 'Hours', unit: '', integer: false, cap: 'max_hours' },
];
const FIELDS = ['app', 'queue', 'if_busy', ...NUMBERS.map((f) => f.name)];

export class LaunchForm {
  constructor (form, { me, onLaunched }) {
    this.form = form;
    this.apps = [];
    this.limits = null;
    this.last = me.last_form || null;
    this.onLaunched = onLaunched;
    form.addEventListener('submit', (e) => this.submit(e));
    form.app.addEventListener('change', () => this.appChanged());
    for (const r of form.querySelectorAll('input[name="queue"]')) {
      r.addEventListener('change', () => { this.applyBounds(); this.showQueueStatus(); });
    }
    for (const f of NUMBERS) {
      form[f.name].addEventListener('change', () => this.fieldError(f.name, this.check(f)));
    }
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
    this.appChanged(true);
    this.showQueueStatus();
    this.loadKernels();
  }

  app () {
    return this.apps.find((a) => a.id === this.form.app.value) || this.apps[0];
  }

  radio (name) {
    const r = this.form.querySelector(`input[name="${name}"]:checked`);
    return r ? r.value : null;
  }

  setRadio (name, value) {
    const r = this.form.querySelector(`input[name="${name}"][value="${value}"]`);
    if (r) r.checked = true;
  }

  // Bounds of one number field for the current app and queue.
  bounds (f) {
    const spec = (this.app().fields || {})[f.name] || { min: 0, max: 1e9, default: 0 };
    let max = spec.max;
    if (this.radio('queue') === 'interactive' && this.limits && typeof this.limits[f.cap] === 'number') {
      max = Math.min(max, this.limits[f.cap]);
    }
    return { min: spec.min, max, def: spec.default };
  }

  applyBounds () {
    for (const f of NUMBERS) {
      const b = this.bounds(f);
      const input = this.form[f.name];
      input.min = num(b.min);
      input.max = num(b.max);
      document.getElementById(f.name + '-range').textContent = `${num(b.min)} to ${num(b.max)}${f.unit}`;
    }
  }

  // A new app: its defaults, or the user's last values for that same app.
  appChanged (initial) {
    const app = this.app();
    document.getElementById('app-description').textContent = app.description || '';
    this.applyBounds();
    const last = this.last && this.last.app === app.id ? this.last : null;
    for (const f of NUMBERS) {
      const b = this.bounds(f);
      let v = b.def;
      if (last && typeof last[f.name] === 'number' && last[f.name] >= b.min && last[f.name] <= b.max) v = last[f.name];
      this.form[f.name].value = num(v);
      this.fieldError(f.name, '');
    }
    if (!initial) this.formError('');
  }

  // The error text for one number field, '' when it is fine.
  check (f) {
    const input = this.form[f.name];
    const text = input.value.trim();
    const b = this.bounds(f);
    if (text === '') return `Enter the ${f.label.toLowerCase()}.`;
    const v = Number(text);
    if (!Number.isFinite(v)) return `${f.label}: enter a number.`;
    if (f.integer && !Number.isInteger(v)) return `${f.label} must be a whole number.`;
    if (v < b.min || v > b.max) {
      return `${f.label} must be between ${num(b.min)} and ${num(b.max)}${f.unit}` +
        (this.radio('queue') === 'interactive' && b.max < ((this.app().fields || {})[f.name] || {}).max
          ? ' on the interactive queue.' : '.');
    }
    return '';
  }

  fieldError (name, text) {
    const p = document.getElementById(name + '-error');
    if (!p) return false;
    p.textContent = text || '';
    p.hidden = !text;
    const input = name === 'queue' || name === 'if_busy'
      ? this.form.querySelector(`input[name="${name}"]`) : this.form[name];
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
    for (const name of FIELDS) this.fieldError(name, '');
    this.formError('');
  }

  async submit (event) {
    event.preventDefault();
    this.clearErrors();
    let first = null;
    for (const f of NUMBERS) {
      const msg = this.check(f);
      if (msg) {
        this.fieldError(f.name, msg);
        first = first || this.form[f.name];
      }
    }
    if (first) {
      first.focus();
      return;
    }
    const body = {
      app: this.app().id,
      queue: this.radio('queue'),
      if_busy: this.radio('if_busy'),
    };
    for (const f of NUMBERS) body[f.name] = Number(this.form[f.name].value);
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
      const input = this.form.querySelector(`[name="${e.field}"]`);
      if (input) input.focus();
      return;
    }
    if (e.status === 409) {
      this.formError(`Not launched: ${e.message}`);
    } else {
      this.formError(e.message);
    }
  }

  async refreshQueue () {
    try {
      this.queueInfo = await api('GET', 'queue');
      this.limits = this.queueInfo.limits || this.limits;
      this.showQueueStatus();
    } catch (e) {
      // the status line is a hint; keep the old one
    }
  }

  showQueueStatus () {
    const q = this.queueInfo;
    const p = document.getElementById('queue-status');
    if (!q || this.radio('queue') !== 'interactive') {
      p.textContent = '';
      return;
    }
    let used = 0;
    let places = 0;
    for (const n of q.nodes || []) {
      for (const l of n.logical_nodes || []) {
        used += l.jobs;
        places += l.max_jobs;
      }
    }
    let when = 'not known';
    if (typeof q.estimated_start === 'number') {
      when = q.estimated_start <= serverNow() + 5 ? 'now' : clock(q.estimated_start);
    }
    p.textContent = `${q.queue}: ${used} of ${places} places in use, ${q.waiting} waiting; ` +
      `a new session would start ${when === 'now' ? 'now' : 'at ' + when}.`;
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
