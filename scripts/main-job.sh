#!/usr/bin/env bash
# The main job on its embedded default.  For now: the default policy and its
# Slurm and Grid Engine exports (issue 2); the sizing run replaces this later.
set -euo pipefail
build=${1:-build}
echo "== The default interactive.q policy (TSUBAME3) =="
"$build/policy/minna-policy" show
echo
echo "== As Slurm configuration =="
"$build/policy/minna-policy" export --slurm
echo
echo "== As Grid Engine configuration =="
"$build/policy/minna-policy" export --sge
