# expect: :7: [field n] cap
[app]
name = X
command = run
[field n]
type = number
source = policy
min = 0
max = 1
