#!/bin/sh
# Enforce what is modelled, or refuse (issue 19): a policy with an
# over-subscribing design, which the simulator models but minna-controller
# does not place, stops the controller at start with the file and the key
# named; design = dedicated passes.  TAP.
set -u
ctl="$MINNA_BUILD_DIR/daemons/controller/minna-controller"
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
echo "1..3"
n=0
for design in hybrid oversubscribe; do
  n=$((n + 1))
  printf '[oversubscribe]\ndesign = %s\n' "$design" > "$d/p.conf"
  printf '[state]\npolicy_file = %s/p.conf\nstate_dir = %s/st\napps_dir = %s\n[server]\nport = 0\nwww_dir = %s\n' "$d" "$d" "$MINNA_SOURCE_DIR/daemons/controller/apps" "$MINNA_SOURCE_DIR/daemons/controller/www" > "$d/c.conf"
  out=$(timeout 20 "$ctl" --config "$d/c.conf" 2>&1); rc=$?
  case "$rc:$out" in
    1:*"$d/p.conf: [oversubscribe] design = $design: minna-controller enforces only design = dedicated"*)
      echo "ok $n design = $design refused at start, naming the file and the key" ;;
    *) echo "not ok $n design = $design: exit $rc: $out" ;;
  esac
done
printf '[oversubscribe]\ndesign = dedicated\n' > "$d/p.conf"
# The rest of this bare config (no cookie key dir) may stop it later: the
# policy itself must pass.
timeout -s TERM 3 "$ctl" --config "$d/c.conf" > "$d/log" 2>&1
if ! grep -q "enforces only design" "$d/log"; then
  echo "ok 3 design = dedicated passes the policy check"
else
  echo "not ok 3 design = dedicated: $(cat "$d/log")"
fi
