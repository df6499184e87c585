[app]
name = All
command = run {field_gpu_debug} {field_project} {field_threads}
[field gpu_debug]
type = checkbox
label = Debug
default = true
[field project]
type = text
pattern = [a-z][a-z0-9-]{2,15}
default = physics
max_length = 16
[field threads]
type = number
min = 1
max = 64
step = 1
default = 8
