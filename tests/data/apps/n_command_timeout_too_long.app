# expect: :9: [field module] timeout
[app]
name = X
command = run
[field module]
type = select
source = command
command = true
timeout = 2h
