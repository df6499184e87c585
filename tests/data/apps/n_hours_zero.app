# expect: :6: [field hours] min
[app]
name = X
command = run
[field hours]
min = 0
max = 1
