# expect: :3: not UTF-8 text
[app]
name = Xÿ
command = run
