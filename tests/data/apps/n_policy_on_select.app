# expect: :7: [field s] source
[app]
name = X
command = run
[field s]
type = select
source = policy
