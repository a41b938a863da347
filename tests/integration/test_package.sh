#!/usr/bin/env bash
# The Debian package, end to end, as a user gets it: `dpkg-buildpackage -us -uc -b` on a
# copy of MIGRATE_SOURCE_ROOT, lintian (no error; only the warnings README lists),
# `apt-get install ./migrate_*.deb ./libmigrate-dev_*.deb`, the example tree run by the
# installed /usr/bin/migrate against the throwaway server (up, verify, seed against the
# MongoDB stand-in), examples/app_startup.c compiled against the installed header and
# library through pkg-config, then `apt-get purge` and nothing left behind.
# Needs root (it installs into the system) and the packaging tools, which it asks
# scripts/deps.sh for. The steps run in order (test_1_... to test_6_...), each on what the
# one before left in $PKG_WORK; a failing step fails every later one.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"

: "${MIGRATE_SOURCE_ROOT:?MIGRATE_SOURCE_ROOT must name the source tree}"
: "${MIGRATE_TEST_MONGO_URI:?set MIGRATE_TEST_MONGO_URI (tests/lib/with-servers.sh starts the stand-in)}"

# meson test points LD_LIBRARY_PATH at the build tree's libmigrate.so.0: what is tested
# here is the installed one, and the package build must not see the outer build either
unset LD_LIBRARY_PATH
PKG_WORK=$(mktemp -d "${TMPDIR:-/tmp}/migrate-package.XXXXXX")
PACKAGES=(migrate libmigrate-dev)
# The lintian tags kept, and why (README, "Installing"): libmigrate.so.0 ships in
# `migrate` itself rather than in a libmigrate0 package of its own.
KNOWN_LINTIAN="W: migrate: package-name-doesnt-match-sonames libmigrate0"

cleanup() {
	# never leave the package installed, whatever failed
	if dpkg-query -W -f='${Status}' migrate 2>/dev/null | grep -q 'ok installed'; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${PACKAGES[@]}" >/dev/null 2>&1 || true
	fi
	[ -n "${MIGRATE_TEST_KEEP:-}" ] || rm -rf "$PKG_WORK"
}
trap cleanup EXIT

# step NAME: fails unless the steps before this one passed; marks this one running
step_after() {
	[ -z "$1" ] || [ -e "$PKG_WORK/ok.$1" ] || fail "an earlier step ($1) failed"
}
step_done() {
	touch "$PKG_WORK/ok.$1"
}

seconds_since() { # START (from date +%s%N): elapsed seconds with one decimal
	echo "$(( ($(date +%s%N) - $1) / 100000000 ))" | sed 's/\(.\)$/.\1/; s/^\./0./'
}

test_1_build_with_dpkg_buildpackage() {
	[ "$(id -u)" -eq 0 ] || fail "needs root: it installs the package into the system"
	"$MIGRATE_SOURCE_ROOT/scripts/deps.sh" package || fail "packaging tools missing"
	if dpkg-query -W -f='${Status}' migrate 2>/dev/null | grep -q 'ok installed'; then
		fail "a package named migrate is already installed; remove it first"
	fi
	local copy=$PKG_WORK/src
	mkdir -p "$copy"
	# a copy without build directories: the tracked and new files of a checkout, or the
	# whole tree of a release tarball (which meson dist unpacks inside the build directory
	# of a checkout: that checkout's files are not the tarball's)
	local top
	top=$(git -C "$MIGRATE_SOURCE_ROOT" rev-parse --show-toplevel 2>/dev/null || true)
	if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(cd "$MIGRATE_SOURCE_ROOT" && pwd -P)" ]; then
		(cd "$MIGRATE_SOURCE_ROOT" && git ls-files -co --exclude-standard -z |
			xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$copy"
	else
		tar -C "$MIGRATE_SOURCE_ROOT" --exclude='./build' --exclude='./build-*' \
			--exclude='./obj-*' -cf - . | tar -xf - -C "$copy"
	fi
	local start
	start=$(date +%s%N)
	(cd "$copy" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
		>"$PKG_WORK/build.log" 2>&1 || { tail -30 "$PKG_WORK/build.log" >&2; fail "dpkg-buildpackage failed"; }
	echo "# dpkg-buildpackage -us -uc -b: $(seconds_since "$start") s"
	local version
	version=$(dpkg-parsechangelog -l "$copy/debian/changelog" -S Version)
	[ -f "$PKG_WORK/migrate_${version}_amd64.deb" ] || fail "no migrate_${version}_amd64.deb: $(ls "$PKG_WORK")"
	[ -f "$PKG_WORK/libmigrate-dev_${version}_amd64.deb" ] || fail "no libmigrate-dev_${version}_amd64.deb"
	# the unit tests ran inside the build (dh_auto_test)
	grep -qE '^ *[0-9]+/[0-9]+ migrate:unit / plan +OK' "$PKG_WORK/build.log" || fail "the unit tests did not run in the build"
	# what goes where
	dpkg-deb -c "$PKG_WORK/migrate_${version}_amd64.deb" | awk '{print $6}' >migrate.files
	for f in ./usr/bin/migrate ./usr/lib/x86_64-linux-gnu/libmigrate.so.0 \
		./usr/lib/x86_64-linux-gnu/migrate/migrate-mongodb.so ./usr/share/man/man1/migrate.1.gz \
		./usr/share/bash-completion/completions/migrate ./usr/share/zsh/vendor-completions/_migrate; do
		grep -qxF "$f" migrate.files || fail "$f not in the migrate package"
	done
	dpkg-deb -c "$PKG_WORK/libmigrate-dev_${version}_amd64.deb" | awk '{print $6}' >dev.files
	for f in ./usr/include/migrate/migrate.h ./usr/include/migrate/version.h \
		./usr/lib/x86_64-linux-gnu/libmigrate.so ./usr/lib/x86_64-linux-gnu/libmigrate.a \
		./usr/lib/x86_64-linux-gnu/pkgconfig/migrate.pc; do
		grep -qxF "$f" dev.files || fail "$f not in the libmigrate-dev package"
	done
	step_done 1
}

test_2_lintian_finds_no_error() {
	step_after 1
	local start
	start=$(date +%s%N)
	# lintian exits non-zero on an error tag; the tags themselves are checked below
	lintian --fail-on none "$PKG_WORK"/migrate_*_amd64.changes >lintian.out 2>lintian.err ||
		fail "lintian did not run: $(cat lintian.err)"
	echo "# lintian: $(seconds_since "$start") s"
	sed 's/^/# /' lintian.out
	grep -q '^E: ' lintian.out && fail "lintian errors: $(grep '^E: ' lintian.out)"
	# any tag beyond the known ones is news: fix it or add it, with its reason, above
	local extra
	extra=$(grep -E '^[EW]: ' lintian.out | grep -vxF "$KNOWN_LINTIAN" || true)
	[ -z "$extra" ] || fail "new lintian warnings: $extra"
	step_done 2
}

test_3_apt_installs_the_packages() {
	step_after 2
	local start
	start=$(date +%s%N)
	(cd "$PKG_WORK" && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		./migrate_*_amd64.deb ./libmigrate-dev_*_amd64.deb) >apt.log 2>&1 ||
		fail "apt-get install failed: $(tail -20 apt.log)"
	echo "# apt-get install: $(seconds_since "$start") s"
	dpkg-query -L "${PACKAGES[@]}" | sort -u >"$PKG_WORK/installed.list"
	[ "$(command -v migrate)" = /usr/bin/migrate ] || fail "migrate on PATH is $(command -v migrate)"
	assert_eq "$(/usr/bin/migrate --version)" "$("$MIGRATE_BIN" --version)" "installed --version"
	man -w migrate >/dev/null 2>&1 || fail "man -w migrate finds no page"
	assert_eq "$(bash -c '. /usr/share/bash-completion/completions/migrate && complete -p migrate')" \
		"complete -F _migrate migrate" "bash completion"
	ldconfig -p | grep 'libmigrate.so.0 ' >/dev/null || fail "libmigrate.so.0 not in the linker cache"
	step_done 3
}

test_4_installed_binary_runs_the_example_tree() {
	step_after 3
	new_db
	cp -r "$MIGRATE_SOURCE_ROOT/migrations" "$MIGRATE_SOURCE_ROOT/config.yaml" .
	export MIGRATE_PG_DSN=$DSN MIGRATE_MONGO_URI=$MIGRATE_TEST_MONGO_URI MIGRATE_MONGO_DB=$DB
	# the module must come from the package's library directory, not from a build tree
	unset MIGRATE_MODULE_DIR
	MIGRATE_BIN=/usr/bin/migrate
	expect_status 0 wait --timeout 10s
	expect_status 0 up
	assert_contains "$OUT" "applied core/001_create_users"
	expect_status 0 seed
	assert_contains "$OUT" "created"
	expect_status 0 verify
	expect_status 0 status
	assert_contains "$OUT" "up to date"
	expect_status 0 seed --dry-run --format json
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["mongodb"]["missing"] == 0, d' "$OUT" ||
		fail "seed left something missing"
	LD_DEBUG=files /usr/bin/migrate seed --dry-run 2>&1 | grep -o 'file=[^ ]*migrate-mongodb.so' |
		sort -u >modules.loaded
	assert_eq "$(cat modules.loaded)" "file=/usr/lib/x86_64-linux-gnu/migrate/migrate-mongodb.so" \
		"the MongoDB module the installed binary loaded"
	echo "$DSN" >"$PKG_WORK/dsn"
	step_done 4
}

test_5_app_startup_builds_against_the_installed_library() {
	step_after 4
	local dsn
	dsn=$(cat "$PKG_WORK/dsn")
	cp "$MIGRATE_SOURCE_ROOT/examples/app_startup.c" .
	# shellcheck disable=SC2046 # pkg-config's words
	cc -o app_startup app_startup.c $(pkg-config --cflags --libs migrate) || fail "cc failed"
	ldd ./app_startup >ldd.out # to a file: grep -q closing the pipe early would fail it
	grep -qE '=> (/usr)?/lib/x86_64-linux-gnu/libmigrate.so.0 ' ldd.out ||
		fail "app_startup does not link the installed libmigrate.so.0: $(cat ldd.out)"
	./app_startup "$dsn" >app.out 2>app.err || fail "app_startup refused a migrated database: $(cat app.err)"
	assert_contains app.out "schema is up to date"
	# and refuses an empty one
	new_db
	if ./app_startup "$DSN" >app.out 2>app.err; then
		fail "app_startup started on an empty database"
	fi
	assert_contains app.err "core schema not applied"
	step_done 5
}

test_6_purge_leaves_nothing() {
	step_after 3
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${PACKAGES[@]}" >purge.log 2>&1 ||
		fail "apt-get purge failed: $(tail -20 purge.log)"
	local left=() f
	while IFS= read -r f; do
		case $f in /. | /usr | /usr/* | /etc*) ;; *) continue ;; esac
		# directories shared with other packages stay; files and our own directories go
		if [ -d "$f" ] && [ ! -L "$f" ]; then
			case $f in
			/usr/lib/x86_64-linux-gnu/migrate | /usr/include/migrate | /usr/share/doc/migrate | \
				/usr/share/doc/libmigrate-dev) [ -e "$f" ] && left+=("$f") ;;
			esac
		elif [ -e "$f" ] || [ -L "$f" ]; then
			left+=("$f")
		fi
	done <"$PKG_WORK/installed.list"
	[ ${#left[@]} -eq 0 ] || fail "left behind: ${left[*]}"
	dpkg-query -W -f='${Status}' migrate 2>/dev/null | grep -q 'ok installed' && fail "migrate still installed"
	ldconfig -p | grep 'libmigrate.so' >/dev/null && fail "libmigrate still in the linker cache"
	[ ! -e /usr/bin/migrate ] || fail "/usr/bin/migrate still there"
	step_done 6
}

run_tests
