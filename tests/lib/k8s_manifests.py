#!/usr/bin/env python3
"""Checks the Kubernetes manifests of contrib/kubernetes/ with python3-yaml and prints
what the tests run.
  k8s_manifests.py job FILE     the migrate Job: backoffLimit, activeDeadlineSeconds, the
                                config from a ConfigMap, the password from a Secret,
                                `migrate wait` in an init container; prints the ConfigMap's
                                config.yaml
  k8s_manifests.py fleet FILE   the Indexed Job: completionMode Indexed, completions =
                                parallelism = N, `--shard $(JOB_COMPLETION_INDEX)/N`;
                                prints N, then the container's command, one word a line
Exits 1 naming the first problem."""
import sys

import yaml


def fail(msg):
    print(f"k8s_manifests: {msg}", file=sys.stderr)
    sys.exit(1)


def docs(path):
    out = {}
    for d in yaml.safe_load_all(open(path)):
        if d:
            out.setdefault(d["kind"], []).append(d)
    return out


def container_env_secret(c):
    for e in c.get("env", []):
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref and ref.get("name") and ref.get("key"):
            return True
    return False


def check_pod(spec, configmap):
    pod = spec["template"]["spec"]
    if pod.get("restartPolicy") != "Never":
        fail("restartPolicy is not Never (podFailurePolicy needs it; the Job retries)")
    inits = pod.get("initContainers", [])
    if not any(c["command"][:2] == ["migrate", "wait"] and "--timeout" in c["command"] for c in inits):
        fail("no init container running `migrate wait --timeout ...`")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    main = [c for c in pod["containers"] if c["name"] == "migrate"]
    if not main:
        fail("no container named migrate")
    for c in inits + main:
        if not container_env_secret(c):
            fail(f"container {c['name']}: the password does not come from a Secret")
        mounts = [m for m in c.get("volumeMounts", []) if vols.get(m["name"], {}).get("configMap", {}).get("name") == configmap]
        if not mounts:
            fail(f"container {c['name']}: no ConfigMap {configmap} mounted")
        cfg = c["command"][c["command"].index("--config") + 1]
        if not cfg.startswith(mounts[0]["mountPath"] + "/"):
            fail(f"container {c['name']}: --config {cfg} is not in the ConfigMap's mount")
    for rule in spec.get("podFailurePolicy", {}).get("rules", []):
        codes = rule.get("onExitCodes")
        if codes and codes["containerName"] != "migrate":
            fail("podFailurePolicy names another container")
    return main[0]


def main():
    what, path = sys.argv[1], sys.argv[2]
    d = docs(path)
    job = d["Job"][0]["spec"]
    for key in ("backoffLimit", "activeDeadlineSeconds"):
        if not isinstance(job.get(key), int) or job[key] <= 0:
            fail(f"{key} missing")
    cms = d.get("ConfigMap", [])
    if not cms or "config.yaml" not in cms[0]["data"]:
        fail("no ConfigMap with config.yaml")
    config = cms[0]["data"]["config.yaml"]
    if "${DB_PASSWORD}" not in config:
        fail("the config does not take the password from the environment")
    c = check_pod(job, cms[0]["metadata"]["name"])
    if what == "job":
        if c["command"][:2] != ["migrate", "up"]:
            fail("the Job does not run `migrate up`")
        rules = job.get("podFailurePolicy", {}).get("rules", [])
        ignored = [v for r in rules if r["action"] == "Ignore" and "onExitCodes" in r for v in r["onExitCodes"]["values"]]
        if 4 not in ignored:
            fail("exit 4 (lock busy) is not retried apart from backoffLimit")
        print(config, end="")
    else:
        if job.get("completionMode") != "Indexed":
            fail("completionMode is not Indexed")
        n = job.get("completions")
        if not isinstance(n, int) or job.get("parallelism") != n:
            fail("completions and parallelism differ")
        cmd = c["command"]
        want = f"$(JOB_COMPLETION_INDEX)/{n}"
        if "--shard" not in cmd or cmd[cmd.index("--shard") + 1] != want:
            fail(f"the command does not take --shard {want}: {cmd}")
        print(n)
        print("\n".join(cmd))


main()
