# expect: :8: [field release] default
[app]
name = X
command = run
[field release]
type = select
options = a, b
default = c
