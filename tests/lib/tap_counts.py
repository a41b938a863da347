#!/usr/bin/env python3
"""Counts what `meson test` ran, from its testlog.json: every TAP "ok"/"not ok" line of
every test, a test that died without reporting a failure (crash, bail out, timeout) as one
failure, and a sanitizer report in its output as one more. Prints the failures' lines and
a summary per test; appends "passed failed" to COUNTS.

    tap_counts.py TESTLOG.json COUNTS
"""
import json
import re
import sys

SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer")


def main() -> int:
    log, counts = sys.argv[1], sys.argv[2]
    total_passed = total_failed = 0
    with open(log, encoding="utf-8", errors="replace") as f:
        tests = [json.loads(line) for line in f if line.strip()]
    for t in tests:
        name = t.get("name", "?")
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        lines = out.splitlines()
        passed = sum(1 for line in lines if line.startswith("ok "))
        failed = sum(1 for line in lines if line.startswith("not ok "))
        for line in lines:
            if line.startswith(("not ok", "#", "Bail out!")):
                print(f"  [{name}] {line}")
        if t.get("returncode", 0) != 0 and failed == 0:
            print(f"  [{name}] exited {t.get('returncode')} ({t.get('result')}) without reporting a failing test:")
            for line in lines[-20:]:
                print(f"    {line}")
            failed = 1
        if SANITIZER.search(out):
            print(f"  [{name}] sanitizer report:")
            for line in [line for line in lines if SANITIZER.search(line)][:10]:
                print(f"    {line}")
            failed += 1
        print(f"  {name}: {passed} passed, {failed} failed")
        total_passed += passed
        total_failed += failed
    if not tests:
        print("  meson test ran nothing")
        total_failed += 1
    with open(counts, "a", encoding="utf-8") as f:
        f.write(f"{total_passed} {total_failed}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
