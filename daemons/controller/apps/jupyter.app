# Jupyter Lab; falls back to Jupyter Notebook 6 / jupyter-server where Lab
# is not installed (Debian 12 ships only those).
# Jupyter's own token is empty: it would put it into its pages, URLs and
# cookies.  minna_jupyter_auth.py (beside this file) lets in only requests
# that carry the session's secret ({token_file}, 0600) in the header that
# minna-relay adds; Jupyter's XSRF and Origin checks stay on.
# Notebook 6's Terminal page: Debian's bundle of it is broken (exports is
# not defined); minna_jupyter_terminal.py writes a working one into the
# session's jupyter-static/, which Notebook serves first.
# The kernel chosen in the form ([field kernel], one of the user's own
# kernels from minna-kernel) is Jupyter's default kernel: new notebooks and
# kernels started without a name get it; not chosen, Jupyter's own default.
# A home that is there but not writable (an account whose home is /nonexistent
# when some process made that directory): Jupyter died on PermissionError
# writing ~/.jupyter or ~/.local; its directories then go to the session's.
# kernel_info_timeout: a kernel starved by a lecture's burst of starts gets
# 5 min (not 60 s) to answer before Jupyter drops its WebSocket.
[app]
name = Jupyter
description = Jupyter Lab (or Notebook) in your home directory
readiness_path = api/status
command = unset JUPYTER_TOKEN\nif [ ! -w "$HOME" ]; then JUPYTER_CONFIG_DIR="{session_dir}/jupyter-config"; JUPYTER_DATA_DIR="{session_dir}/jupyter-data"; IPYTHONDIR="{session_dir}/ipython"; export JUPYTER_CONFIG_DIR JUPYTER_DATA_DIR IPYTHONDIR; fi\nPYTHONPATH="{app_dir}${PYTHONPATH:+:$PYTHONPATH}"; export PYTHONPATH\nopts="--no-browser --ip={host} --port={port} --port-retries=0 --allow-root"\nif [ -n "{field_kernel}" ]; then opts="$opts --MappingKernelManager.default_kernel_name={field_kernel}"; fi\nif /usr/bin/python3 -c 'import jupyterlab' 2>/dev/null; then exec /usr/bin/python3 -m jupyterlab $opts --ServerApp.base_url="{base_url}" --ServerApp.token= --ServerApp.password= --ServerApp.login_handler_class=minna_jupyter_auth.ServerLogin --ServerApp.authenticate_prometheus=True --MappingKernelManager.kernel_info_timeout=300 --ServerApp.allow_remote_access=True --ServerApp.trust_xheaders=True ; fi\nif /usr/bin/python3 -c 'import notebook.notebookapp' 2>/dev/null; then if [ -f "{app_dir}/minna_jupyter_terminal.py" ]; then /usr/bin/python3 "{app_dir}/minna_jupyter_terminal.py" "{session_dir}/jupyter-static"; fi; exec /usr/bin/python3 -m notebook $opts --NotebookApp.base_url="{base_url}" --NotebookApp.extra_static_paths="{session_dir}/jupyter-static" --NotebookApp.token= --NotebookApp.password= --NotebookApp.login_handler_class=minna_jupyter_auth.NotebookLogin --NotebookApp.authenticate_prometheus=True --MappingKernelManager.kernel_info_timeout=300 --NotebookApp.allow_remote_access=True --NotebookApp.trust_xheaders=True ; fi\nexec /usr/bin/python3 -m jupyter_server $opts --ServerApp.base_url="{base_url}" --ServerApp.token= --ServerApp.password= --ServerApp.login_handler_class=minna_jupyter_auth.ServerLogin --ServerApp.authenticate_prometheus=True --MappingKernelManager.kernel_info_timeout=300 --ServerApp.allow_remote_access=True --ServerApp.trust_xheaders=True

[field cores]
min = 1
max = 7
default = 1

[field memory_gb]
min = 1
max = 60
default = 4

[field gpus]
min = 0
max = 1
default = 0

[field hours]
min = 0.001
max = 24
default = 2

[field kernel]
type = select
source = user-kernels
label = Kernel
help = The kernel new notebooks start with: one of your kernels (minna-kernel); not chosen, Python 3.
default =
