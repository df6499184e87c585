[app]
name = K
command = run {field_kernel}
[field kernel]
type = select
source = user-kernels
label = Kernel
