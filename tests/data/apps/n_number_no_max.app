# expect: :5: [field n] max
[app]
name = X
command = run
[field n]
type = number
min = 1
