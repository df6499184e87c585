[app]
name = Modules
command = module load {field_module}
[field module]
type = select
source = command
command = printf "gcc/12\\nopenmpi/4\\n"
timeout = 3s
cache = 5m
