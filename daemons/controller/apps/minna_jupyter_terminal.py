# minna_jupyter_terminal: makes Jupyter Notebook 6's Terminal page work with
# Debian 12's packages (apps/jupyter.app runs it before Notebook starts).
#
# Why the page is blank ("ReferenceError: exports is not defined"):
# Debian's jupyter-notebook 6.4.12 serves static/terminal/js/main.min.js, an
# r.js bundle made at package build time in which xterm.js's fit addon
# (libjs-xterm 3.8.1, addons/fit/fit.js) is pasted as raw CommonJS: its
# first line `Object.defineProperty(exports, ...)` throws at the top level,
# so nothing of the page's script runs.  The "xterm" module itself is no
# better: libjs-xterm's xterm.js is a 288-byte wrapper that calls
# require("./public/Terminal") in the browser.
#
# What this does: writes OUT/terminal/js/main.min.js, which Notebook finds
# first through --NotebookApp.extra_static_paths=OUT.  It defines the AMD
# modules "xterm" (xterm.js 3.8.1's CommonJS modules from Debian's node-xterm
# package, /usr/share/nodejs/xterm/lib, each wrapped in a function with a
# small module table) and "xtermjs-fit" (the fit addon, wrapped the same
# way), then loads Notebook's own terminal/js/main.js unchanged (its other
# modules come from Notebook's static directory as they are).  Nothing is
# copied into minna: the code is Debian's, read on the node at each start.
#
# Usage: minna_jupyter_terminal.py OUT_DIR   (exit 0 also when node-xterm is
# missing: Jupyter starts and the reason is in the job's output)

import importlib.util
import json
import os
import sys

XTERM_LIB = "/usr/share/nodejs/xterm/lib"


def collect(lib):
    """Relative path -> source of every module of xterm.js's library (not
    its tests)."""
    modules = {}
    for root, dirs, files in os.walk(lib, followlinks=True):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".js") or name.endswith(".test.js"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, lib)[:-3]
            with open(path, encoding="utf-8") as f:
                modules[rel] = f.read()
    return modules


# A CommonJS module table in the page: require() resolves "./x" and "../x"
# against the requiring module's directory, as Node does for these files.
LOADER = """\
function minnaCommonJS(sources) {
  var cache = {};
  function resolve(from, spec) {
    var parts = from.split('/').slice(0, -1);
    spec.split('/').forEach(function (p) {
      if (p === '..') parts.pop(); else if (p !== '.' && p !== '') parts.push(p);
    });
    return parts.join('/');
  }
  function load(name) {
    if (cache[name]) return cache[name].exports;
    if (!sources[name]) throw new Error('xterm.js module not found: ' + name);
    var module = { exports: {} };
    cache[name] = module;
    sources[name](module, module.exports, function (spec) { return load(resolve(name, spec)); });
    return module.exports;
  }
  return load;
}
"""


def render(modules, main_js):
    out = ["// Written by minna (apps/minna_jupyter_terminal.py) at the session's start:",
           "// Debian's xterm.js 3.8.1 as AMD modules, then Notebook's terminal page.",
           LOADER,
           "define('xterm', [], function () {",
           "  var load = minnaCommonJS({"]
    for rel, source in modules.items():
        if rel.startswith("addons/"):
            continue
        out.append("%s: function (module, exports, require) {\n%s\n}," % (json.dumps(rel), source))
    out += ["  });", "  return load('public/Terminal').Terminal;", "});",
            "define('xtermjs-fit', [], function () {",
            "  var load = minnaCommonJS({",
            "'addons/fit/fit': function (module, exports, require) {\n%s\n}," %
            modules["addons/fit/fit"],
            "  });", "  return load('addons/fit/fit');", "});",
            main_js, ""]
    return "\n".join(out)


def main(argv):
    if len(argv) != 2:
        print("usage: minna_jupyter_terminal.py OUT_DIR", file=sys.stderr)
        return 2
    out_dir = argv[1]
    if not os.path.isfile(os.path.join(XTERM_LIB, "public", "Terminal.js")) or \
       not os.path.isfile(os.path.join(XTERM_LIB, "addons", "fit", "fit.js")):
        print(f"minna: {XTERM_LIB} is missing (Debian package node-xterm): Jupyter's"
              " Terminal page will stay blank", file=sys.stderr)
        return 0
    # where Notebook is, without importing it (that alone takes half a
    # second, at every start of a lecture's burst)
    spec = importlib.util.find_spec("notebook")
    if spec is None or not spec.origin:
        return 0  # jupyter-server or Lab: not this page
    main_path = os.path.join(os.path.dirname(spec.origin), "static", "terminal", "js", "main.js")
    try:
        with open(main_path, encoding="utf-8") as f:
            main_js = f.read()
    except OSError as e:
        print(f"minna: {main_path}: {e.strerror}: Jupyter's Terminal page will stay blank",
              file=sys.stderr)
        return 0
    target = os.path.join(out_dir, "terminal", "js")
    os.makedirs(target, mode=0o700, exist_ok=True)
    text = render(collect(XTERM_LIB), main_js)
    tmp = os.path.join(target, "main.min.js.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, os.path.join(target, "main.min.js"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
