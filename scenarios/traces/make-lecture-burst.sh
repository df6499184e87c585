#!/bin/sh
# make-lecture-burst.sh: writes lecture-burst.native, the trace of the
# lecture-burst scenario: two days (Monday and Tuesday, 8-9 April 2019, JST)
# of a 64-node TSUBAME3-style machine kept about 96% busy by one-node batch
# jobs, light interactive use all day, and 100 students of a lecture pressing
# Launch within five minutes of 10:00 on Monday.  Deterministic: a small
# Lehmer generator, exact in awk's doubles.  Usage: sh make-lecture-burst.sh > lecture-burst.native
cat <<'HEADER'
#minna-trace 1
# Note: scenarios/traces/make-lecture-burst.sh: a lecture burst on a busy machine, not a real log
# Computer: TSUBAME3-like, 64 nodes of 28 cores, 4 GPUs, 240 GB
# MaxNodes: 64
# MaxProcs: 1792
# UnixStartTime: 1554649200
# TimeZone: 32400
# TimeZoneString: Asia/Tokyo
# Queue: all.q batch
# Queue: interactive.q interactive
# Columns: id submit start end runtime walltime_req user group queue interactive name rtype rtype_count procs procs_alloc gpus memory_req_mb memory_used_mb cpu_time cpu_active gpu_memory_mb exit_status memory_profile
HEADER
awk 'BEGIN {
  OFS = "\t"; x = 20190408; start = 1554649200; id = 0
  # Batch: a backlog at time 0, then about 13 one-node jobs an hour, 2-8 h
  # each: 13 x 5 h / 64 nodes = 1.0 offered, ~96% carried.
  t = 0
  for (i = 0; i < 72; i++) batch(i * 10)
  while (t < 48 * 3600) { t += 60 + int(rnd() * 420); batch(t) }
  # Interactive all day: one session every 10-20 minutes, 1-3 h.
  t = 0
  while (t < 48 * 3600) { t += 600 + int(rnd() * 600); session(t, 3600 + int(rnd() * 7200), "u" (500 + int(rnd() * 400)), "jupyter") }
  # The lecture: 100 students, Monday 10:00:00 to 10:05, 90-minute sessions.
  for (s = 0; s < 100; s++) session(10 * 3600 + s * 3, 5400, "s" (1000 + s), "jupyter-lecture")
}
function rnd() { x = (x * 16807) % 2147483647; return x / 2147483647 }
function batch(at,   run) {
  run = 7200 + int(rnd() * 21600)
  print ++id, start + at, -1, -1, run, run + 3600, "u" (100 + int(rnd() * 60)), "g1", "all.q", 0, "batch", "F", 1, 28, -1, 4, 245760, 180000, run * 28, -1, -1, 0, "-"
}
function session(at, run, user, name,   used) {
  used = 2000 + int(rnd() * 4000)
  print ++id, start + at, -1, -1, run, run, user, "g2", "interactive.q", 1, name, "Q", 1, 7, -1, 1, 61440, used, int(run * 0.1), 0.1, 0, 0, "0:" int(used / 2) "," int(run / 3) ":" used
}' | sort -t "$(printf '\t')" -k2,2n -k1,1n | awk 'BEGIN { FS = OFS = "\t" } /^#/ { print; next } { $1 = ++n; print }'
