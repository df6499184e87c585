# a site app with a select field
[app]
name = Matlab
command = exec matlab --version "{field_release}"

[field release]
type = select
label = Release
help = Which MATLAB release
options = R2023b, R2024a, R2024b
default = R2024a
