# scheduler-suite.sh: sourced by tests/slurm/run-slurm-suite.sh and
# tests/sge/run-sge-suite.sh.  The twin scenarios (issue 14) each suite
# plays through controllers of its own on its scheduler
# (tests/twin/scheduler-twin.py), and the Unix accounts the suites make.

twin_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
twin_scenarios=(lecture-burst memory-hog gpu-capped scheduler-queue)

# twin_setup SCHEDULER ACCOUNT_PREFIX: twin_accounts, the 41 a lecture
# needs (PREFIX01..PREFIX41), and twin_dir for the scenarios' files.
twin_setup () {
  local i
  twin_accounts=()
  for i in $(seq -w 1 41); do twin_accounts+=("$2$i"); done
  twin_dir=$(mktemp -d "/var/tmp/minna-$1-twin-XXXXXX")
}

# twin_prepare SCHEDULER: on one line, the scenarios' policies that the
# bring-up exports beside the suite's own; fails when scheduler-twin.py does.
twin_prepare () {
  local files=() s
  for s in "${twin_scenarios[@]}"; do files+=("$twin_here/scenarios/$s.twin"); done
  python3 "$twin_here/scheduler-twin.py" prepare "$1" "$twin_dir" "${files[@]}" | tr '\n' ' '
}

# accounts_add USER...: made in the background while the daemons come up
# (useradd takes a while); wait for $accounts_pid before using them.
accounts_add () {
  ( for u in "$@"; do
      id "$u" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$u"
    done ) &
  accounts_pid=$!
}

# accounts_remove USER...: those that exist.
accounts_remove () {
  local u
  for u in "$@"; do
    id "$u" >/dev/null 2>&1 && userdel "$u" 2>/dev/null
  done
  return 0
}

# tap_lines PREFIX: the TAP lines without a plan that a test script prints
# (stdin: "ok - ...", "not ok - ...", "not ok - ... # TODO why") counted as
# the suite's own (its ok/nok, its n), named PREFIX...; other lines as they
# are.  Call it in the suite's shell (tap_lines P < <(script)), not in a pipe.
tap_lines () {
  local line
  while IFS= read -r line; do
    case $line in
      "ok - "*) ok "$1${line#ok - }" ;;
      "not ok - "*"# TODO "*) n=$((n + 1)); echo "not ok $n - $1${line#not ok - }" ;;
      "not ok - "*) nok "$1${line#not ok - }" ;;
      *) echo "$line" ;;
    esac
  done
}
