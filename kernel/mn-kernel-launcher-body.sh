
# --- from here on the same for every minna kernel ---
mn_check=0
if [ "${1-}" = --check ]; then mn_check=1; shift; fi

mn_say () { if [ "$mn_check" = 1 ]; then printf 'minna-check:%s\n' "$1"; fi; }
mn_fail () {
  local code=$1; shift
  printf 'minna-kernel %s: %s\n' "$MN_NAME" "$*" >&2
  exit "$code"
}

# Where sites keep the init script: the environment's own hints first, then
# what `minna-kernel add` found, then the usual Lmod and Environment Modules
# locations.
mn_init_modules () {
  local f
  for f in "${MINNA_MODULES_INIT-}" \
           "${LMOD_PKG:+$LMOD_PKG/init/bash}" \
           "${LMOD_CMD:+${LMOD_CMD%/libexec/lmod}/init/bash}" \
           "${MODULESHOME:+$MODULESHOME/init/bash}" \
           "$MN_MODULES_INIT_AT_ADD" \
           /usr/share/lmod/lmod/init/bash \
           /usr/share/modules/init/bash \
           /etc/profile.d/lmod.sh \
           /etc/profile.d/modules.sh; do
    [ -n "$f" ] && [ -r "$f" ] || continue
    # init scripts may chatter; stdout is the check report
    . "$f" >&2 || continue
    if declare -F module >/dev/null; then
      mn_say "module-system=$f"
      return 0
    fi
  done
  if declare -F module >/dev/null; then
    mn_say "module-system=inherited"
    return 0
  fi
  mn_fail 10 "no module system found (neither Lmod nor Environment Modules:" \
    "no init/bash script under \$LMOD_PKG, \$MODULESHOME, /usr/share/lmod/lmod" \
    "or /usr/share/modules); set MINNA_MODULES_INIT to the site's init script"
}

if [ "${#MN_MODULES[@]}" -gt 0 ]; then
  mn_init_modules
  # The search path seen by `minna-kernel add`: a Jupyter started from a
  # batch job may come with a bare MODULEPATH.
  IFS=: read -r -a mn_dirs <<<"$MN_MODULEPATH_AT_ADD"
  for mn_d in "${mn_dirs[@]}"; do
    [ -n "$mn_d" ] && [ -d "$mn_d" ] || continue
    case ":${MODULEPATH-}:" in *":$mn_d:"*) continue ;; esac
    module use --append "$mn_d" >&2
  done
  for mn_m in "${MN_MODULES[@]}"; do
    if ! module load "$mn_m" >&2 || ! module is-loaded "$mn_m" >/dev/null 2>&1; then
      mn_say "failed-module=$mn_m"
      mn_fail 11 "module '$mn_m' could not be loaded (MODULEPATH=${MODULEPATH-})"
    fi
  done
fi

case "$MN_ENV_KIND" in
  system)
    MN_PY=$(command -v python3) ||
      mn_fail 13 "no python3 on PATH after loading the modules (PATH=$PATH)"
    ;;
  python)
    case "$MN_ENV" in
      */*) MN_PY=$MN_ENV ;;
      *) MN_PY=$(command -v "$MN_ENV") ||
           mn_fail 13 "python '$MN_ENV' not found on PATH after loading the modules (PATH=$PATH)" ;;
    esac
    ;;
  venv)
    [ -d "$MN_ENV" ] || mn_fail 12 "virtual environment $MN_ENV does not exist"
    [ -e "$MN_ENV/bin/python" ] || mn_fail 13 "python $MN_ENV/bin/python does not exist (is $MN_ENV a virtual environment?)"
    export VIRTUAL_ENV="$MN_ENV"
    export PATH="$MN_ENV/bin:$PATH"
    unset PYTHONHOME
    MN_PY=$MN_ENV/bin/python
    ;;
  conda)
    mn_conda=${CONDA_EXE-}
    if [ -z "$mn_conda" ] || [ ! -x "$mn_conda" ]; then
      mn_conda=$(command -v conda) ||
        mn_fail 12 "conda not found (not on PATH, no \$CONDA_EXE); load the module that provides it with --module"
    fi
    mn_hook=$("$mn_conda" shell.bash hook 2>&1) ||
      mn_fail 12 "'$mn_conda shell.bash hook' failed: $mn_hook"
    eval "$mn_hook" >&2
    conda activate "$MN_ENV" >&2 ||
      mn_fail 12 "conda environment '$MN_ENV' could not be activated (see 'conda env list')"
    MN_PY=${CONDA_PREFIX-}/bin/python
    ;;
  *)
    mn_fail 12 "unknown environment kind '$MN_ENV_KIND'"
    ;;
esac

[ -f "$MN_PY" ] && [ -x "$MN_PY" ] ||
  mn_fail 13 "python $MN_PY does not exist or is not executable"
mn_say "python=$MN_PY"

if [ "$mn_check" = 1 ]; then
  mn_out=$("$MN_PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>&1) ||
    mn_fail 13 "python $MN_PY does not run: $mn_out"
  mn_say "python-version=${mn_out##*$'\n'}"
  mn_out=$("$MN_PY" -c 'import importlib.util, ipykernel
assert importlib.util.find_spec("ipykernel_launcher"), "no ipykernel_launcher"
print(ipykernel.__version__)' 2>&1) || {
    printf '%s\n' "$mn_out" >&2
    mn_fail 14 "python $MN_PY cannot import ipykernel"
  }
  mn_say "ipykernel=${mn_out##*$'\n'}"
  mn_say ok
  exit 0
fi

exec "$MN_PY" -m ipykernel_launcher "$@"
