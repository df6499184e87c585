// minna portal: the login page.
import { api } from './api.js';
import { safeNext as checkNext } from './next.js';

// Only a path on this site (next.js says why and how).
function safeNext () {
  return checkNext(new URLSearchParams(location.search).get('next'), location.origin);
}

function fieldError (name, text) {
  const p = document.getElementById(name + '-error');
  const input = document.getElementById(name);
  p.textContent = text || '';
  p.hidden = !text;
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function formError (text) {
  const p = document.getElementById('login-error');
  p.textContent = text || '';
  p.hidden = !text;
}

async function submit (event) {
  event.preventDefault();
  const form = event.target;
  const user = form.user.value.trim();
  const password = form.password.value;
  const button = document.getElementById('login-button');
  fieldError('user', '');
  fieldError('password', '');
  formError('');
  if (!user) fieldError('user', 'Enter your user name.');
  if (!password) fieldError('password', 'Enter your password.');
  if (!user || !password) {
    (user ? form.password : form.user).focus();
    return;
  }
  button.disabled = true;
  button.textContent = 'Logging in…';
  try {
    await api('POST', 'login', { user, password });
    location.assign(safeNext());
    return;
  } catch (e) {
    if (e.status === 400 && (e.field === 'user' || e.field === 'password')) {
      fieldError(e.field, e.message);
      form[e.field].focus();
    } else if (e.status === 429) {
      formError(e.retryAfter
        ? `Too many failed logins. Try again in ${e.retryAfter} s.`
        : e.message);
    } else if (e.status === 401) {
      formError('Wrong user name or password.');
      form.password.select();
      form.password.focus();
    } else {
      formError(e.message);
    }
  }
  button.disabled = false;
  button.textContent = 'Log in';
}

const form = document.getElementById('login-form');
form.addEventListener('submit', submit);
form.user.focus();
