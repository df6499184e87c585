# expect: :7: [field n] min
[app]
name = X
command = run
[field n]
type = number
min = 5
max = 4
