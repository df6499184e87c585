# expect: :10: [field n] default
[app]
name = X
command = run
[field n]
type = number
min = 1
max = 10
step = 2
default = 2
