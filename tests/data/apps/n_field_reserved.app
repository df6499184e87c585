# expect: :5: [field queue]
[app]
name = X
command = run
[field queue]
type = text
