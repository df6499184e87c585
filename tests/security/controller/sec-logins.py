#!/usr/bin/python3
"""sec-logins.py: a logout ends the login, everywhere, for good (issue 15
item 5).

The real controller and relay; alice runs a web app session.  A cookie is
reused after logout at the relay (the app) and at the controller (the API),
after each daemon restarts, after a logout made while the relay was down;
every other spelling of a live cookie is refused by both, and so is a
cookie from another key or an old-style stateless one.
"""
import base64
import hashlib
import hmac
import json
import time

from minna_sec import TAP, Portal, require_built

require_built()

p = Portal("logins", {"alice": "alice-password-1", "bob": "bob-password-1"}).start()


def login(user):
    st, cookie, csrf = p.login(user, via_relay=True)
    TAP.ok(st == 200 and cookie is not None, f"{user} logs in through the relay")
    return cookie, csrf


def app(cookie_header):
    """The status of alice's app through the relay with this Cookie header."""
    st, hd, _ = p.request("GET", f"/s/{sid}/", headers={"Cookie": cookie_header}, via_relay=True)
    return st


def api(cookie_header, via_relay=False):
    st, _, _ = p.request("GET", "/api/v1/me", headers={"Cookie": cookie_header}, via_relay=via_relay)
    return st


def logout(cookie, csrf):
    origin = f"http://127.0.0.1:{p.relay_port}"
    st, hd, _ = p.request("POST", "/api/v1/logout", b"{}", via_relay=True,
                          headers={"Cookie": f"minna_session={cookie}", "X-CSRF-Token": csrf,
                                   "Origin": origin})
    return st


c1, k1 = login("alice")
sid = p.launch(c1, k1, "webapp")
st, _, body = p.request("GET", "/api/v1/routes", headers={"Authorization": f"Bearer {p.secret}"})
route_upstream = [r["upstream"] for r in json.loads(body)["routes"] if r["id"] == sid][0]
TAP.ok(app(f"minna_session={c1}") == 200, "alice's cookie opens her app through the relay")
TAP.ok(api(f"minna_session={c1}") == 200, "and the API at the controller")

# ---- logout, then reuse -----------------------------------------------------------
c2, k2 = login("alice")
TAP.ok(logout(c1, k1) == 200, "alice logs out (the first login)")
t0 = time.time()
TAP.ok(app(f"minna_session={c1}") == 302, "the relay refuses the logged-out cookie at once (302 to the login page)")
TAP.ok(api(f"minna_session={c1}") == 401, "the controller refuses it (401)")
TAP.ok(api(f"minna_session={c1}", via_relay=True) == 401, "the controller refuses it through the relay")
TAP.ok(app(f"minna_session={c2}") == 200, "alice's other login still works: a logout ends only its own login")
TAP.diag(f"refused {1000 * (time.time() - t0):.0f} ms after the logout answered")

# ---- restarts -----------------------------------------------------------------------
p.stop_controller()
p.start_controller()
TAP.ok(api(f"minna_session={c1}") == 401, "after a controller restart the logged-out cookie is still refused")
TAP.ok(api(f"minna_session={c2}") == 200, "after a controller restart a live login still works")
TAP.ok(app(f"minna_session={c1}") == 302, "after a controller restart the relay still refuses the logged-out cookie")
TAP.ok(app(f"minna_session={c2}") == 200, "and still takes the live one")
p.stop_relay()
p.start_relay()
TAP.ok(app(f"minna_session={c1}") == 302, "after a relay restart the relay refuses the logged-out cookie")
TAP.ok(app(f"minna_session={c2}") == 200, "after a relay restart the live login opens the app again")
p.stop_relay()
p.stop_controller()
p.start_controller()
p.start_relay()
TAP.ok(app(f"minna_session={c1}") == 302 and api(f"minna_session={c1}") == 401,
       "after both restart the logged-out cookie is refused by both")

# a logout while the relay is down: the relay learns it when it is back
c3, k3 = login("alice")
TAP.ok(app(f"minna_session={c3}") == 200, "a fresh login opens the app")
p.stop_relay()
st, _, _ = p.request("POST", "/api/v1/logout", b"{}",
                     headers={"Cookie": f"minna_session={c3}", "X-CSRF-Token": k3})
TAP.ok(st == 200, "logout at the controller while the relay is down")
p.start_relay()
TAP.ok(app(f"minna_session={c3}") == 302, "the restarted relay refuses the login ended while it was down")
# a relay that does not ask the controller at its start (no controller_url)
# still learns the live set: the controller, whose push failed while the
# relay was down, sends the whole set again until it is taken
c4, k4 = login("alice")
p.stop_relay()
st, _, _ = p.request("POST", "/api/v1/logout", b"{}",
                     headers={"Cookie": f"minna_session={c4}", "X-CSRF-Token": k4})
TAP.ok(st == 200, "another logout while the relay is down")
p.start_relay(extra=["--controller-url="])
admin = {"Authorization": f"Bearer {p.secret}"}
end = time.time() + 15
count = 0
while time.time() < end:
    st, _, body = p.request("GET", "/logins", headers=admin, port=p.relay_admin)
    count = json.loads(body)["count"] if st == 200 else 0
    if count > 0:
        break
    time.sleep(0.2)
TAP.ok(count > 0, f"the controller re-sent the whole live set to the relay ({count} logins)")
st, _, _ = p.request("PUT", f"/routes/{sid}", {"upstream": route_upstream, "owner": "alice",
                                               "token": "", "expires": 0},
                     headers=admin, port=p.relay_admin)
TAP.ok(app(f"minna_session={c4}") == 302, "a logout the relay missed is in that set: refused")
TAP.ok(app(f"minna_session={c2}") == 200, "while the other live login goes on")
p.stop_relay()
p.start_relay()

# ---- other spellings of a live cookie ------------------------------------------------
live = c2
i, mac = live.split(".")
key = open(p.key_file).read().strip().encode()
stateless = base64.urlsafe_b64encode(b"alice").rstrip(b"=").decode() + f".{int(time.time()) + 3600}"
stateless += "." + base64.urlsafe_b64encode(
    hmac.new(key, stateless.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
forged_key = hmac.new(b"another-key-another-key-another-key", f"minna-login:{i}".encode(),
                      hashlib.sha256).hexdigest()
spellings = {
    "upper-case id": f"minna_session={i.upper()}.{mac}",
    "upper-case MAC": f"minna_session={i}.{mac.upper()}",
    "quoted": f'minna_session="{live}"',
    "space inside": f"minna_session= {live}",
    "percent-encoded dot": f"minna_session={i}%2E{mac}",
    "padding": f"minna_session={live}=",
    "extra part": f"minna_session={live}.00",
    "short MAC": f"minna_session={live[:-2]}",
    "MAC of another key": f"minna_session={i}.{forged_key}",
    "base64 MAC": f"minna_session={i}." + base64.urlsafe_b64encode(bytes.fromhex(mac)).rstrip(b'=').decode(),
    "old stateless cookie": f"minna_session={stateless}",
    "twice (same)": f"minna_session={live}; minna_session={live}",
    "twice (garbage first)": f"minna_session=x; minna_session={live}",
    "twice (garbage last)": f"minna_session={live}; minna_session=x",
    "name in capitals": f"MINNA_SESSION={live}",
    "name with a space": f"minna_session ={live}",
}
for name, header in spellings.items():
    a, c = app(header), api(header)
    TAP.ok(a == 302 and c == 401, f"'{name}' is refused by the relay (302) and the controller (401)",
           f"relay {a}, controller {c}: {header}")
TAP.ok(app(f"a=1; minna_session={live}; b=2") == 200 and api(f"minna_session={live}") == 200,
       "the one canonical spelling, among other cookies, is taken")

# bob's login does not open alice's app
cb, kb = login("bob")
TAP.ok(app(f"minna_session={cb}") == 403, "bob's live login gets 403 on alice's app")
TAP.done()
