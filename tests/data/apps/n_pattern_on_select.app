# expect: :8: [field s] pattern
[app]
name = X
command = run
[field s]
type = select
options = a
pattern = a
