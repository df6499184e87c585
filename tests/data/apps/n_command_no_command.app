# expect: :5: [field module] command
[app]
name = X
command = run
[field module]
type = select
source = command
