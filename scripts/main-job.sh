#!/usr/bin/env bash
# The main job on its embedded default: size interactive.q on the generated
# TSUBAME-style world (scenarios/tsubame3-fy2019.scenario), drawn on five
# seeds in-process: sweep, recommendation (what meets every target on every
# seed) and report; then check the recommended policy file the way an admin
# would before deploying it.
set -euo pipefail
build=${1:-build}
out=reports/out/tsubame3-fy2019
echo "== Sizing interactive.q on the default TSUBAME-style world, five seeds (scenarios/tsubame3-fy2019.scenario) =="
"$build/sim/minna-sim" run scenarios/tsubame3-fy2019.scenario --out "$out" --report
echo
echo "== The recommended policy, as the controller will load it =="
"$build/policy/minna-policy" check "$out/recommended.conf"
echo
echo "Report:          $(pwd)/$out/report.html"
echo "Recommendation:  $(pwd)/$out/recommended.conf"
echo "Scheduler setup: $build/policy/minna-policy export --slurm|--sge $out/recommended.conf"
