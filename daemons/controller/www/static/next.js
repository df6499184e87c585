// minna portal: where the login page may send the browser afterwards.
//
// Only an absolute path on this very site.  Browsers drop tabs and line
// breaks from URLs and read a backslash as a slash, so "/\t/evil.example",
// "/\\evil.example" or "//evil.example" would leave the site (an open
// redirect makes the login page a phishing aid).  The value is checked as
// the browser will read it: no control characters or backslashes at all,
// one leading slash, and resolved against this origin it must stay here.
// Anything else goes to "/".
export function safeNext (raw, origin) {
  if (typeof raw !== 'string' || raw === '' || raw.length > 2048) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return '/';
  if (raw[0] !== '/' || raw[1] === '/') return '/';
  let url;
  try {
    url = new URL(raw, origin);
  } catch (e) {
    return '/';
  }
  if (url.origin !== origin) return '/';
  const path = url.pathname + url.search + url.hash;
  // the path as the browser will ask for it must not start a new authority
  if (!path.startsWith('/') || path.startsWith('//')) return '/';
  return path;
}
