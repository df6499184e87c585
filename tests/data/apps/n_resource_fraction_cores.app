# expect: :8: [field cores] step
[app]
name = X
command = run
[field cores]
min = 1
max = 4
step = 0.5
