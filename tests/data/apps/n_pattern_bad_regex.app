# expect: :7: [field t] pattern
[app]
name = X
command = run
[field t]
type = text
pattern = ([a-z
