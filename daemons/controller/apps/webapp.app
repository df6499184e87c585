# A generic web app: a static file server under the session's base URL.
# Small and quick to start: used by the tests and the benchmark.
[app]
name = Web app
description = A static page served by python3 -m http.server
readiness_path =
command = mkdir -p "{session_dir}/www{base_url}" && echo "minna session {session_id}" > "{session_dir}/www{base_url}index.html"\nexec /usr/bin/python3 -m http.server --bind "{host}" --directory "{session_dir}/www" "{port}"

[field cores]
min = 1
max = 7
default = 1

[field memory_gb]
min = 0.1
max = 60
default = 1

[field gpus]
min = 0
max = 1
default = 0

[field hours]
min = 0.0001
max = 24
default = 1
