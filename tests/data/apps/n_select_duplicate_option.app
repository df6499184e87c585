# expect: :7: [field release] options
[app]
name = X
command = run
[field release]
type = select
options = a, b, a
