// minna portal: browser notifications, opt-in (the Notification API): when
// a session that waited starts, and 15 minutes before a session's end.
// Nothing is asked of the browser until the user presses the button; the
// choice is kept in this browser (localStorage).
const KEY = 'minna-notify';

export class Notifier {
  constructor (button) {
    this.button = button;
    this.sent = new Set();   // "ID:kind" already notified
    this.supported = typeof window.Notification === 'function';
    if (!button) return;
    if (!this.supported) {
      button.hidden = true;
      return;
    }
    button.hidden = false;
    button.addEventListener('click', () => this.toggle());
    this.show();
  }

  enabled () {
    return this.supported && Notification.permission === 'granted' && localStorage.getItem(KEY) === 'on';
  }

  show () {
    if (!this.button) return;
    const on = this.enabled();
    this.button.setAttribute('aria-pressed', on ? 'true' : 'false');
    this.button.textContent = on ? 'Notifications: on' : 'Notify me';
    this.button.title = Notification.permission === 'denied'
      ? 'Notifications are blocked for this site in your browser settings'
      : 'A notice when a waiting session starts and 15 minutes before a session ends';
    this.button.dataset.permission = Notification.permission;
  }

  async toggle () {
    if (this.enabled()) {
      localStorage.setItem(KEY, 'off');
    } else {
      let permission = Notification.permission;
      if (permission === 'default') permission = await Notification.requestPermission();
      localStorage.setItem(KEY, permission === 'granted' ? 'on' : 'off');
    }
    this.show();
  }

  send (id, kind, title, body) {
    const key = `${id}:${kind}`;
    if (!this.enabled() || this.sent.has(key)) return;
    this.sent.add(key);
    try {
      const n = new Notification(title, { body, tag: key });
      n.onclick = () => { window.focus(); n.close(); };
    } catch (e) {
      // some browsers allow notifications only from a service worker
    }
  }

  started (s, appName) {
    this.send(s.id, 'started', `${appName} is ready`, 'Your session has started: connect from the portal.');
  }

  endingSoon (s, appName, left) {
    this.send(s.id, 'ending', `${appName} ends in ${Math.ceil(left / 60)} min`,
      'Save your work, or extend the session from the portal.');
  }

  // an extended session may warn again at its new end
  forget (id) {
    this.sent.delete(`${id}:ending`);
  }
}
