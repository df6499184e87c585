# A remote desktop: TigerVNC's Xvnc with Openbox, an xterm and glxgears
# (OpenGL in software) in its menu, in the browser through noVNC.
# minna_desktop.py (beside this file) runs it all as the job: Xvnc listens
# on a 0600 Unix socket in the session directory only (no VNC password
# exists), and websockify's library on the job's port serves noVNC and the
# WebSocket only to requests that carry the session's secret ({token_file},
# 0600) in the header that minna-relay adds.  Closing the tab leaves the
# desktop running; open the session again to get it back.
# Needs on the nodes: tigervnc-standalone-server openbox xterm mesa-utils
# novnc python3-websockify (scripts/packages/desktop.txt).
[app]
name = Desktop
description = A Linux desktop (Openbox, terminal, OpenGL in software) in your browser
readiness_path = vnc.html
command = exec /usr/bin/python3 "{app_dir}/minna_desktop.py" --host "{host}" --port "{port}" --base-url "{base_url}" --token-file "{token_file}" --session-dir "{session_dir}"

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
