#!/usr/bin/python3
"""sec-throttle.py: password guessing (issue 15 item 6).

The real controller and relay, the users file at the default 200,000
PBKDF2 iterations.  Parallel guesses through the relay (each attempt must
be counted before it is checked), X-Forwarded-For chosen by a local process
talking to the controller directly and by a client of the relay, a forged
relay proof, guesses at one user from one address while the real user logs
in from another (no lock-out), the real user's own wrong guesses (a
slow-down that ends), and the time a wrong password takes for a known and
an unknown user name (medians compared with a margin: the machine is
shared).
"""
import concurrent.futures
import time

from minna_sec import TAP, Portal, median, require_built

require_built()

p = Portal("throttle", {"alice": "alice-password-1", "bob": "bob-password-1"},
           iterations=200000).start()
origin = {"Origin": f"http://127.0.0.1:{p.relay_port}"}


def guess(user, password="wrong-password", via_relay=True, source=None, headers=None):
    st, _, _ = p.request("POST", "/api/v1/login", {"user": user, "password": password},
                         via_relay=via_relay, source=source, headers=headers)
    return st


def parallel(n, fn):
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        return list(ex.map(lambda i: fn(i), range(n)))


# ---- 40 parallel guesses, one client ---------------------------------------------
# through the relay from 127.0.0.2: the relay names the client in X-Forwarded-For
def allowed(seconds):
    """Guesses a slow-down of 3 free attempts, then waits of 1, 2, 4... s lets
    through in a burst of @seconds."""
    n, t, wait = 3, 0.0, 1
    while t + wait <= seconds:
        t += wait
        wait *= 2
        n += 1
    return n


t0 = time.monotonic()
res = parallel(40, lambda i: guess("alice", f"guess-{i}", source="127.0.0.2"))
burst = time.monotonic() - t0
checked = res.count(401)
TAP.diag(f"40 parallel guesses at alice through the relay in {burst:.1f} s: {checked} checked (401), "
         f"{res.count(429)} slowed down (429), others {[s for s in res if s not in (401, 429)]}")
TAP.ok(res.count(401) + res.count(429) == 40, "every parallel guess is answered 401 or 429")
TAP.ok(checked <= allowed(burst), f"only the 3 free attempts and one per wait are checked "
       f"({checked}, at most {allowed(burst)} in {burst:.1f} s)")

# ---- X-Forwarded-For from anyone but the relay is not believed -----------------------
# a local process talks to the controller directly, naming a new address each time
t0 = time.monotonic()
res = parallel(30, lambda i: guess("bob", f"guess-{i}", via_relay=False, source="127.0.0.3",
                                   headers={"X-Forwarded-For": f"10.1.{i}.{i}"}))
burst = time.monotonic() - t0
TAP.diag(f"30 guesses at bob straight to the controller, each with its own X-Forwarded-For: "
         f"{res.count(401)} checked, {res.count(429)} slowed down")
TAP.ok(res.count(401) <= allowed(burst), "X-Forwarded-For of a local process is ignored: its guesses "
       "count under its real address")
# the same with a forged relay proof
res = parallel(10, lambda i: guess("bob", f"guess2-{i}", via_relay=False, source="127.0.0.4",
                                   headers={"X-Forwarded-For": f"10.2.{i}.{i}",
                                            "X-Minna-Relay-Proof": "0" * 64}))
TAP.ok(res.count(401) <= allowed(5), f"a forged X-Minna-Relay-Proof does not make it believed "
       f"({res.count(401)} checked of 10)")
# through the relay, a client's own X-Forwarded-For does not help either
res = parallel(10, lambda i: guess("bob", f"guess3-{i}", source="127.0.0.5",
                                   headers={"X-Forwarded-For": f"10.3.{i}.{i}",
                                            "X-Minna-Relay-Proof": "0" * 64}))
TAP.ok(res.count(401) <= allowed(5), f"through the relay a client's X-Forwarded-For is not its address "
       f"({res.count(401)} checked of 10)")

# ---- no lock-out of the real user --------------------------------------------------------
st, cookie, _ = p.login("alice", via_relay=True, source="127.0.0.6")
TAP.ok(st == 200, "alice logs in from another address at once, while her name is being guessed "
       "at 127.0.0.2", f"status {st}")
st, cookie, _ = p.login("bob", via_relay=True, source="127.0.0.7")
TAP.ok(st == 200, "bob too, after 50 guesses at his name from three other addresses", f"status {st}")

# the real user's own three typos: slowed down, then in
for i in range(3):
    guess("alice", f"typo-{i}", source="127.0.0.8")
st, hd, _ = p.request("POST", "/api/v1/login", {"user": "alice", "password": "alice-password-1"},
                      via_relay=True, source="127.0.0.8")
wait = int(hd.get("retry-after", ["0"])[0]) if st == 429 else 0
TAP.ok(st == 429 and 1 <= wait <= 4, f"after three typos alice waits a little, not a lock ({st}, "
       f"Retry-After {wait})")
time.sleep(wait + 0.2)
st, _, _ = p.login("alice", via_relay=True, source="127.0.0.8")
TAP.ok(st == 200, "after that wait the right password lets her in", f"status {st}")

# ---- user names are not told apart by time --------------------------------------------
# each attempt from its own source address (straight to the controller, whose
# peer address is the source), interleaved, so no slow-down and no drift
known, unknown = [], []
for i in range(14):
    for user, out in (("alice", known), ("nosuchuser", unknown)):
        src = f"127.0.{10 + i}.{20 if user == 'alice' else 30}"
        t0 = time.monotonic()
        st = guess(user, "wrong-password", via_relay=False, source=src)
        out.append(time.monotonic() - t0)
        if st != 401:
            TAP.diag(f"{user} from {src}: {st}")
mk, mu = median(known), median(unknown)
TAP.diag(f"wrong password, median of 14: known user {1000 * mk:.1f} ms, unknown user "
         f"{1000 * mu:.1f} ms (ratio {mu / mk:.2f})")
TAP.ok(mk > 0.010, "a wrong password costs real PBKDF2 work for a known user")
TAP.ok(abs(mk - mu) <= max(0.35 * mk, 0.015),
       "a known and an unknown user name take the same time (medians within 35%)")
TAP.done()
