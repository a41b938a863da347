#!/usr/bin/env python3
"""Prints, one per line, every shell line of a GitHub Actions workflow's `run:` steps
that runs migrate (backslash continuations joined), after checking the workflow's shape
with python3-yaml: triggered on pull_request, allowed to upload SARIF, and uploading
the file its SARIF lint line writes.
  workflow_commands.py WORKFLOW.yml"""
import re
import sys

import yaml


def fail(msg):
    print(f"workflow_commands: {msg}", file=sys.stderr)
    sys.exit(1)


doc = yaml.safe_load(open(sys.argv[1]))
# PyYAML reads the bare key `on` as the boolean True (YAML 1.1)
on = doc.get("on", doc.get(True))
if not isinstance(on, dict) or "pull_request" not in on:
    fail("not triggered on pull_request")
if doc.get("permissions", {}).get("security-events") != "write":
    fail("permissions.security-events is not write (upload-sarif needs it)")
lines, uploads = [], []
for name, job in doc["jobs"].items():
    for step in job.get("steps", []):
        if "upload-sarif" in step.get("uses", ""):
            uploads.append(step.get("with", {}).get("sarif_file"))
        script = step.get("run")
        if not script:
            continue
        for line in re.sub(r"\\\n\s*", " ", script).splitlines():
            if re.search(r"(^|[\s;&|(])migrate\s", line):
                lines.append(line.strip())
sarif = [l for l in lines if "--format sarif" in l]
if not sarif:
    fail("no `migrate lint --format sarif` line")
m = re.search(r">\s*(\S+)", sarif[0])
if not m or m.group(1) not in uploads:
    fail(f"the SARIF written ({m and m.group(1)}) is not the one uploaded ({uploads})")
print("\n".join(lines))
