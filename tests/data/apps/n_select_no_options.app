# expect: :5: [field release] options
[app]
name = X
command = run
[field release]
type = select
