# expect: :9: [field n] options
[app]
name = X
command = run
[field n]
type = number
min = 1
max = 2
options = 1, 2
