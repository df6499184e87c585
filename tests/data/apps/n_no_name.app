# expect: : [app] name
[app]
command = run
