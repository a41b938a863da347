#!/usr/bin/env python3
"""Checks a SARIF log against what SARIF 2.1.0's schema requires and GitHub code scanning
reads (no network here to fetch the schema itself): version "2.1.0", $schema, runs[] each
with tool.driver.name and rules (ids unique), and results[] each with ruleId, level,
message.text and locations[].physicalLocation.artifactLocation.uri + region.startLine;
ruleIndex, when present, must point at the rule of that id.
  sarif_check.py FILE [RULE:LINE ...]   the results must be exactly those (any order)
  sarif_check.py FILE --any             any results (the log must still be valid)
Exits 1 naming the first problem."""
import json
import sys
import urllib.parse


def fail(msg):
    print(f"sarif_check: {msg}", file=sys.stderr)
    sys.exit(1)


def need(obj, key, kind, where):
    if not isinstance(obj, dict) or key not in obj:
        fail(f"{where}: missing '{key}'")
    if not isinstance(obj[key], kind):
        fail(f"{where}.{key}: {type(obj[key]).__name__}, expected {kind}")
    return obj[key]


def main():
    log = json.load(open(sys.argv[1]))
    if need(log, "version", str, "log") != "2.1.0":
        fail(f"version {log['version']!r}")
    schema = need(log, "$schema", str, "log")
    if "sarif" not in schema or "2.1.0" not in schema:
        fail(f"$schema {schema!r} is not SARIF 2.1.0's")
    runs = need(log, "runs", list, "log")
    if not runs:
        fail("no runs")
    got = []
    for i, run in enumerate(runs):
        driver = need(need(run, "tool", dict, f"runs[{i}]"), "driver", dict, f"runs[{i}].tool")
        if not need(driver, "name", str, f"runs[{i}].tool.driver"):
            fail("empty tool name")
        rules = need(driver, "rules", list, f"runs[{i}].tool.driver")
        ids = [need(r, "id", str, f"rules[{k}]") for k, r in enumerate(rules)]
        if len(set(ids)) != len(ids):
            fail("rule ids are not unique")
        for k, r in enumerate(rules):
            level = r.get("defaultConfiguration", {}).get("level", "warning")
            if level not in ("none", "note", "warning", "error"):
                fail(f"rules[{k}] level {level!r}")
        for k, res in enumerate(need(run, "results", list, f"runs[{i}]")):
            where = f"results[{k}]"
            rule = need(res, "ruleId", str, where)
            if rule not in ids:
                fail(f"{where}: ruleId {rule!r} is not among the tool's rules")
            if "ruleIndex" in res and ids[res["ruleIndex"]] != rule:
                fail(f"{where}: ruleIndex {res['ruleIndex']} is {ids[res['ruleIndex']]!r}, not {rule!r}")
            if need(res, "level", str, where) not in ("none", "note", "warning", "error"):
                fail(f"{where}: level {res['level']!r}")
            if not need(need(res, "message", dict, where), "text", str, where + ".message"):
                fail(f"{where}: empty message")
            locs = need(res, "locations", list, where)
            if not locs:
                fail(f"{where}: no location")
            for n, loc in enumerate(locs):
                lw = f"{where}.locations[{n}].physicalLocation"
                phys = need(loc, "physicalLocation", dict, f"{where}.locations[{n}]")
                uri = need(need(phys, "artifactLocation", dict, lw), "uri", str, lw + ".artifactLocation")
                if not uri or any(c in uri for c in " \t\n\\"):
                    fail(f"{lw}: uri {uri!r} is not a URI reference")
                line = need(need(phys, "region", dict, lw), "startLine", int, lw + ".region")
                if line < 1:
                    fail(f"{lw}: startLine {line}")
                got.append(f"{rule}:{line}:{urllib.parse.unquote(uri)}")
    want = sys.argv[2:]
    if want != ["--any"]:
        have = sorted(g.rsplit(":", 1)[0] for g in got)
        if have != sorted(want):
            fail(f"results {have}, expected {sorted(want)}")
    for g in got:
        print(g)


main()
