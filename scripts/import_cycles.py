#!/usr/bin/env python3
"""Finds import circles: two source files whose imports reach each other, directly or through
other files. Rust: `use crate::…`, `crate::…`, `super::…` paths resolved to the file that
defines the module (test modules at the end of a file aside). The dashboard: static `import`
statements between its ES modules. Prints each circle and exits 1 when there is one.

Usage: scripts/import_cycles.py [ROOT]   (ROOT: the repository, default: this script's parent)
"""

import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
RUST_CRATES = ["core", "client", "redis-module", "feeder", "web", "sim", "tests"]
JS_DIR = "web/assets"


def strip_rust(text):
    """The file without comments, string literals and its trailing test module."""
    text = re.split(r"\n#\[cfg\(test\)\]\s*\nmod tests\b", text)[0]
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def rust_modules(src):
    """Module path (tuple) → file, for every .rs file under src."""
    modules = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            if rel in (["lib"], ["main"]):
                rel = []
            # Binaries under src/bin are crates of their own.
            if rel[:1] == ["bin"]:
                continue
            modules[tuple(rel)] = path
    return modules


def reexports(modules):
    """(module, name) → the path it re-exports (`pub use child::{A, b::C}` in a module)."""
    table = {}
    for mod, path in modules.items():
        text = strip_rust(open(path, encoding="utf-8").read())
        for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([\w:]+?)(?:::\{([^}]*)\})?\s*;", text):
            base = [p for p in m.group(1).split("::") if p]
            items = [g.strip() for g in m.group(2).split(",")] if m.group(2) else [base.pop()] if base else []
            if base and base[0] == "crate":
                start = []
                base = base[1:]
            elif base and base[0] == "super":
                start = list(mod[:-1])
                base = base[1:]
            elif base and base[0] == "self":
                start = list(mod)
                base = base[1:]
            else:
                start = list(mod)
            for item in items:
                if not item:
                    continue
                parts = item.split(" as ")
                name = parts[-1].strip().split("::")[-1]
                table[(mod, name)] = start + base + parts[0].strip().split("::")
    return table


REEXPORTS = {}


def resolve(modules, parts, depth=0):
    """The file that defines what `parts` names: the longest module prefix that is a file,
    followed through that module's re-exports."""
    for n in range(len(parts), -1, -1):
        if tuple(parts[:n]) in modules:
            mod = tuple(parts[:n])
            if n < len(parts) and depth < 8:
                target = REEXPORTS.get((mod, parts[n]))
                if target is not None:
                    return resolve(modules, target + parts[n + 1:], depth + 1)
            return mod
    return None


def rust_edges(src):
    modules = rust_modules(src)
    REEXPORTS.clear()
    REEXPORTS.update(reexports(modules))
    edges = {}
    for mod, path in modules.items():
        text = strip_rust(open(path, encoding="utf-8").read())
        # `use a::{b, c::d}` groups: expand one level of braces after a path.
        targets = set()
        for m in re.finditer(r"\b(crate|super|self)(?=::)((?:::\w+)*)(?:::\{([^}]*)\})?", text):
            head, rest, group = m.group(1), m.group(2), m.group(3)
            base = [p for p in rest.split("::") if p]
            if head == "crate":
                start = []
            elif head == "super":
                start = list(mod[:-1])
                while base and base[0] == "super":
                    start = start[:-1]
                    base = base[1:]
            else:
                start = list(mod)
            paths = [start + base]
            if group:
                paths = [start + base + [g.strip().split("::")[0]] for g in group.split(",") if g.strip()]
                paths += [start + base + g.strip().split("::") for g in group.split(",") if g.strip()]
            for p in paths:
                p = [x for x in p if x != "self"]
                target = resolve(modules, p)
                if target is not None and target != mod:
                    targets.add(target)
        # `pub use child::x` in a parent names its child without `self::`.
        for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+(\w+)::", text):
            target = resolve(modules, list(mod) + [m.group(1)])
            if target is not None and target != mod and len(target) > len(mod):
                targets.add(target)
        edges[path] = {modules[t] for t in targets}
    return edges


def js_edges(folder):
    edges = {}
    for f in os.listdir(folder):
        if not f.endswith(".js"):
            continue
        path = os.path.join(folder, f)
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        targets = set()
        for m in re.finditer(r"^\s*(?:import|export)\s[^;]*?from\s+['\"](\./[\w.-]+)['\"]", text, flags=re.M):
            targets.add(os.path.normpath(os.path.join(folder, m.group(1))))
        for m in re.finditer(r"^\s*import\s+['\"](\./[\w.-]+)['\"]", text, flags=re.M):
            targets.add(os.path.normpath(os.path.join(folder, m.group(1))))
        edges[path] = targets
    return edges


def cycles(edges):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def main():
    found = []
    for crate in RUST_CRATES:
        src = os.path.join(ROOT, crate, "src")
        if os.path.isdir(src):
            found += cycles(rust_edges(src))
    folder = os.path.join(ROOT, JS_DIR)
    if os.path.isdir(folder):
        found += cycles(js_edges(folder))
    for comp in found:
        print("import circle: " + " ↔ ".join(os.path.relpath(p, ROOT) for p in comp))
    if found:
        sys.exit(1)
    print("no import circles")


if __name__ == "__main__":
    main()
