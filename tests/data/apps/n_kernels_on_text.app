# expect: :7: [field k] source
[app]
name = X
command = run
[field k]
type = text
source = user-kernels
