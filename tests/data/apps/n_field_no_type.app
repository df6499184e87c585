# expect: :5: [field release] type
[app]
name = X
command = run
[field release]
options = a, b
