# The faults suite's app (tests/faults/faultapp.py): a page, a slow 64 MB
# download and a WebSocket echo under the session's base URL.
[app]
name = Faults test app
description = A download and a WebSocket to kill the app in the middle of
readiness_path =
command = exec /usr/bin/python3 @FAULTAPP@ "{host}" "{port}" "{base_url}"

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
