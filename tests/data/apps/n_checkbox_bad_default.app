# expect: :7: [field c] default
[app]
name = X
command = run
[field c]
type = checkbox
default = maybe
