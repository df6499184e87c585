[app]
name = Minimal
command = exec sleep 60
