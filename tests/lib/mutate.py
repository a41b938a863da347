#!/usr/bin/env python3
"""The mutation operators of tests/mutants.sh (no mutation tool is packaged here).

    mutate.py list SEED COUNT FILE...   prints a seeded sample of COUNT mutants, one a line:
                                        FILE<TAB>LINE<TAB>COL<TAB>FROM<TAB>TO
    mutate.py apply FILE LINE COL FROM TO
                                        rewrites FILE with that one mutation

Operators, on code only (comments, strings and preprocessor lines are left alone):
flip a comparison (== !=, < <=, > >=), swap && and ||, drop a `!`, flip a boolean
return, change an integer constant (N -> N+1, 0 -> 1), return early (`return MIG_OK;`
inserted before an `if`'s body is not done: replacing `rc < 0` checks is covered by the
comparison flips).
"""
import random
import re
import sys

OPERATORS = [
    (re.compile(r" == "), " != "),
    (re.compile(r" != "), " == "),
    (re.compile(r" < "), " <= "),
    (re.compile(r" <= "), " < "),
    (re.compile(r" > "), " >= "),
    (re.compile(r" >= "), " > "),
    (re.compile(r" && "), " || "),
    (re.compile(r" \|\| "), " && "),
    (re.compile(r"(?<=[(\s])!(?=[a-zA-Z_(])"), ""),
    (re.compile(r"\breturn true;"), "return false;"),
    (re.compile(r"\breturn false;"), "return true;"),
    (re.compile(r"(?<![\w.])([1-9][0-9]*)(?![\w.])"), None),  # N -> N+1
    (re.compile(r"(?<![\w.])0(?![\w.x])"), "1"),
]


def code_spans(text):
    """Per line, a mask of which characters are code (not comment, string or char)."""
    masks = []
    in_block = False
    for line in text.split("\n"):
        mask = [False] * len(line)
        stripped = line.lstrip()
        if not in_block and stripped.startswith("#"):
            masks.append(mask)
            continue
        i = 0
        while i < len(line):
            if in_block:
                if line.startswith("*/", i):
                    in_block = False
                    i += 2
                    continue
                i += 1
                continue
            if line.startswith("/*", i):
                in_block = True
                i += 2
                continue
            if line.startswith("//", i):
                break
            if line[i] in "\"'":
                q = line[i]
                i += 1
                while i < len(line) and line[i] != q:
                    i += 2 if line[i] == "\\" else 1
                i += 1
                continue
            mask[i] = True
            i += 1
        masks.append(mask)
    return masks


def sites(path):
    text = open(path, encoding="utf-8").read()
    lines = text.split("\n")
    masks = code_spans(text)
    out = []
    for n, (line, mask) in enumerate(zip(lines, masks), 1):
        # constants in array sizes, enum values and declarations make uninteresting
        # (or unbuildable) mutants; leave lines that declare things alone for constants
        declares = re.match(r"\s*(static |const |#|enum |typedef |char |[a-z_]+ [a-z_]+\[)", line)
        for rx, repl in OPERATORS:
            for m in rx.finditer(line):
                if not all(mask[m.start():m.end()]):
                    continue
                if repl is None or repl == "1":
                    if declares or "[" in line[max(0, m.start() - 1):m.start() + 1]:
                        continue
                frm = m.group(0)
                to = str(int(frm) + 1) if repl is None else repl
                out.append((path, n, m.start() + 1, frm, to))
    return out


def main():
    if sys.argv[1] == "list":
        seed, count, files = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
        every = [s for f in files for s in sites(f)]
        rng = random.Random(seed)
        sample = rng.sample(every, min(count, len(every)))
        sample.sort(key=lambda s: (s[0], s[1], s[2]))
        for s in sample:
            print("\t".join(str(x) for x in s))
        print(f"{len(every)} mutation sites in {len(files)} files", file=sys.stderr)
        return 0
    if sys.argv[1] == "apply":
        path, line, col, frm, to = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
        lines = open(path, encoding="utf-8").read().split("\n")
        text = lines[line - 1]
        if text[col - 1:col - 1 + len(frm)] != frm:
            sys.exit(f"mutate.py: {path}:{line}:{col} does not hold '{frm}'")
        lines[line - 1] = text[:col - 1] + to + text[col - 1 + len(frm):]
        open(path, "w", encoding="utf-8").write("\n".join(lines))
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
