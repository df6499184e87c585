#!/usr/bin/python3
"""SIGKILL at every step of a launch and of a stop (issue 20).

The controller runs with MINNA_FAULT_POINT=<point> and kills itself there;
it is started again without it, and then the stored sessions, the API, the
job processes and the relay's routes must agree, and no acknowledged
session may be lost: a launch ends up running, a stop ended.
"""
import faults_lib as fl
from faults_lib import TAP, need

LAUNCH_POINTS = ["launch-stored", "submit-before", "submit-after", "submitted-before-save",
                 "submitted-stored", "route-registered"]
STOP_POINTS = ["stop-stored", "stop-cancelled", "finish-before-save", "finish-stored"]

fl.ms.require_built()
p = fl.Portal("kill")
p.start()
acked = set()

for point in LAUNCH_POINTS:
    p.kill_controller()
    p.start_controller(env={"MINNA_FAULT_POINT": point})
    st, sid, body = p.launch_raw()
    if sid:
        acked.add(sid)
    died = p.wait_controller_gone(30)
    TAP.ok(died, f"launch: the controller killed itself at {point} (answer {st})",
           fl.tail(p.controller_log))
    p.start_controller()
    stored = p.stored()
    live = [s for s, (state, _) in stored.items() if state not in ("ended", "failed")]
    ran = all(p.wait_state(s, ("running",), seconds=40) is not None and
              p.session(s)["state"] == "running" for s in live)
    why = p.wait_agree(acked)
    TAP.ok(why is None and ran and len(live) == 1,
           f"launch killed at {point}: the session runs after the restart, stored sessions,"
           f" API, processes and routes agree", why or f"live {live}: {p.new_log()[-1500:]}")
    p.end_all()

for point in STOP_POINTS:
    st, sid, body = p.launch_raw()
    need(sid is not None, f"launch: {st} {body}")
    acked.add(sid)
    s = p.wait_state(sid, ("running",), seconds=40)
    need(s is not None and s["state"] == "running", f"{sid} runs: {s}")
    p.kill_controller()
    p.start_controller(env={"MINNA_FAULT_POINT": point})
    st, _ = p.api("DELETE", f"/api/v1/sessions/{sid}")
    died = p.wait_controller_gone(30)
    TAP.ok(died, f"stop: the controller killed itself at {point} (answer {st})",
           fl.tail(p.controller_log))
    p.start_controller()
    s = p.wait_state(sid, ("ended",), seconds=30)
    why = p.wait_agree(acked)
    TAP.ok(why is None and s is not None and s["state"] == "ended",
           f"stop killed at {point}: ended after the restart, stored sessions, API, processes"
           f" and routes agree", why or f"{s}: {p.new_log()[-1500:]}")

TAP.ok(all(sid in p.stored() for sid in acked),
       f"all {len(acked)} acknowledged sessions are stored")
TAP.done()
