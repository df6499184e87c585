# expect: :6: [field cores] type
[app]
name = X
command = run
[field cores]
type = select
options = 1
