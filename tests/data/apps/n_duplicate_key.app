# expect: :8: [field t] type
[app]
name = X
command = run
[field t]
type = text
[field t]
type = checkbox
