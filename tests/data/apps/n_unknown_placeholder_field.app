# expect: :4: [app] command
[app]
name = X
command = run {field_nope}
