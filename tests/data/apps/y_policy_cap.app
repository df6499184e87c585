[app]
name = Cap
command = run {field_lease}
[field hours]
min = 0.5
max = 12
step = 0.5
default = 1
[field lease]
type = number
source = policy
cap = max_hours
min = 0
max = 24
