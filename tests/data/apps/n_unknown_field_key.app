# expect: :7: unknown key 'colour' in [field t]
[app]
name = X
command = run
[field t]
type = text
colour = red
