# expect: :6: [field t] type
[app]
name = X
command = run
[field t]
type = slider
