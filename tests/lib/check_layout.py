#!/usr/bin/env python3
"""The layout rule, checked: includes between src/ folders point down the order below (a
folder may include only folders after it), no include climbs with "../", every folder of
src/ is ranked and says what it owns in a README.md, and each library's header is included
only in its folder. TAP output; run by `meson test` (suite unit).

    check_layout.py SRC_ROOT
"""
import os
import re
import sys

# top to bottom; each folder may include only folders after it in this list
ORDER = ["cli", "api", "report", "fleet", "scratch", "lint", "core", "postgres", "mongodb",
         "driver", "schema", "util"]
# folders that may include nothing but themselves and "util" come last; a library's header
# may be included only under its folder
LIBRARY = {"libpq-fe.h": "postgres", "mongoc/mongoc.h": "mongodb", "yaml.h": "core",
           "pg_query.h": "lint"}


def main() -> int:
    src = os.path.join(sys.argv[1], "src")
    problems = {"ranked": [], "readme": [], "arrows": [], "climb": [], "library": []}
    folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    for d in folders:
        if d not in ORDER:
            problems["ranked"].append(f"src/{d}/ is not in ORDER")
        if not os.path.isfile(os.path.join(src, d, "README.md")):
            problems["readme"].append(f"src/{d}/README.md is missing")
    for d in ORDER:
        if d not in folders:
            problems["ranked"].append(f"ORDER names src/{d}/, which does not exist")
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            here = rel.split(os.sep)[0] if os.sep in rel else None  # None: src/main.c
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for n, line in enumerate(text.splitlines(), 1):
                m = re.match(r'\s*#\s*include\s*([<"])([^">]+)[">]', line)
                if not m:
                    continue
                kind, inc = m.groups()
                if kind == '"' and ".." in inc.split("/"):
                    problems["climb"].append(f"src/{rel}:{n} includes \"{inc}\"")
                if kind == "<" and inc in LIBRARY and here != LIBRARY[inc]:
                    problems["library"].append(f"src/{rel}:{n} includes <{inc}> outside src/{LIBRARY[inc]}/")
                if kind != '"' or "/" not in inc or here is None:
                    continue
                there = inc.split("/")[0]
                if there in ("migrate",) or there == here:
                    continue
                if here in ORDER and there in ORDER and ORDER.index(there) <= ORDER.index(here):
                    problems["arrows"].append(f"src/{rel}:{n}: {here}/ includes {inc}, which is not below it")
    failed = 0
    for i, (what, found) in enumerate(problems.items(), 1):
        if found:
            failed += 1
            print(f"not ok {i} {what}")
            for p in found:
                print(f"# {p}")
        else:
            print(f"ok {i} {what}")
    print(f"1..{len(problems)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
