# expect: :8: [field t] default
[app]
name = X
command = run
[field t]
type = text
pattern = [0-9]+
default = abc
