#!/usr/bin/env python3
"""Counts what `meson test` ran, from its testlog.json: every TAP "ok"/"not ok" line of
every test ("ok ... # SKIP" apart), a test that died without reporting a failure (crash,
bail out, timeout) as one failure, and a sanitizer report in its output as one more.
A test that ran fewer TAP results than tests/expected-counts records is a failure (a
suite must not shrink unseen); so is an expected test that did not run at all, unless
it is named with --not-run. Prints the failures' lines and a summary per test; appends
"passed failed skipped" to COUNTS.

    tap_counts.py TESTLOG.json COUNTS [--expected FILE] [--not-run SUITE]... [--only-suite SUITE]

--only-suite: the run was `meson test --suite SUITE`: only the expected tests of that
suite must have run.
"""
import argparse
import json
import re
import sys

SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer")
SKIP = re.compile(r"^ok .*#\s*SKIP", re.IGNORECASE)


def short_name(name):
    """meson's "migrate:integration+install / install" without the project: the key of
    tests/expected-counts ("integration+install / install")"""
    return name.split(":", 1)[1] if ":" in name.split(" / ")[0] else name


def excused(name, not_run):
    """true when a suite of NAME was left out on purpose (meson test --no-suite)"""
    suites = name.split(" / ")[0].split("+") if " / " in name else []
    return any(s in suites for s in not_run)


def in_suite(name, suite):
    """true when NAME ("integration+pg / drift") belongs to SUITE"""
    return " / " in name and suite in name.split(" / ")[0].split("+")


def read_expected(path):
    """COUNT NAME lines ('#' comments); NAME as short_name() gives it."""
    expected = {}
    if not path:
        return expected
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                count, name = line.split(None, 1)
                if not name.startswith("tap / "):  # tests/run.sh's run_tap checks those
                    expected[name] = int(count)
    return expected


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("counts")
    ap.add_argument("--expected")
    ap.add_argument("--not-run", action="append", default=[])
    ap.add_argument("--only-suite")
    args = ap.parse_args()
    expected = read_expected(args.expected)
    if args.only_suite:
        expected = {n: c for n, c in expected.items() if in_suite(n, args.only_suite)}
    total_passed = total_failed = total_skipped = 0
    try:
        with open(args.log, encoding="utf-8", errors="replace") as f:
            tests = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        print(f"  no {args.log}: meson test wrote no results")
        tests = []
    seen = set()
    for t in tests:
        name = short_name(t.get("name", "?"))
        seen.add(name)
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        lines = out.splitlines()
        skipped = sum(1 for line in lines if SKIP.match(line))
        passed = sum(1 for line in lines if line.startswith("ok ")) - skipped
        failed = sum(1 for line in lines if line.startswith("not ok "))
        for line in lines:
            if line.startswith(("not ok", "#", "Bail out!")) or SKIP.match(line):
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
        want = expected.get(name)
        if want is not None and passed + failed + skipped < want:
            print(f"  [{name}] ran {passed + failed + skipped} tests, tests/expected-counts says {want}")
            failed += 1
        print(f"  {name}: {passed} passed, {failed} failed, {skipped} skipped")
        total_passed += passed
        total_failed += failed
        total_skipped += skipped
    for name in sorted(n for n in set(expected) - seen if not excused(n, args.not_run)):
        print(f"  [{name}] did not run (tests/expected-counts expects {expected[name]} tests)")
        total_failed += 1
    if not tests:
        print("  meson test ran nothing")
        total_failed += 1
    with open(args.counts, "a", encoding="utf-8") as f:
        f.write(f"{total_passed} {total_failed} {total_skipped}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
