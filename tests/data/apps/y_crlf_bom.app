[app]
name = CRLF
command = run
[field cores]
min = 1
max = 2
