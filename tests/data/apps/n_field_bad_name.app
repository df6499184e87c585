# expect: :5: group [field Release]: a form field's gr
[app]
name = X
command = run
[field Release]
type = text
