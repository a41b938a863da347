#!/usr/bin/env bash
# Installation: `meson setup` + `meson install` of MIGRATE_SOURCE_ROOT into a scratch
# prefix (built once, shared by every test here), then what a packager and a
# user rely on: the binary, the static library, its public header and pkg-config file,
# the man page and the bash and zsh completions. Also that the completions name exactly
# the commands and options of the command table. Needs no database.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"

: "${MIGRATE_SOURCE_ROOT:?MIGRATE_SOURCE_ROOT must name the source tree}"

INSTALL_WORK=$(mktemp -d "${TMPDIR:-/tmp}/migrate-install.XXXXXX")
[ -n "${MIGRATE_TEST_KEEP:-}" ] || trap 'rm -rf "$INSTALL_WORK"' EXIT
# a real prefix rather than a DESTDIR, so the installed migrate.pc points at the tree
TREE=$INSTALL_WORK/prefix

# installed: builds and installs into $TREE once (the first test to ask does the work;
# the others find its result on disk).
installed() {
	if [ ! -e "$INSTALL_WORK/status" ]; then
		local status=0
		{
			meson setup "$INSTALL_WORK/build" "$MIGRATE_SOURCE_ROOT" --prefix="$TREE" \
				-Dbuildtype=plain -Db_sanitize=none --wrap-mode=nodownload &&
				meson install -C "$INSTALL_WORK/build"
		} >"$INSTALL_WORK/log" 2>&1 || status=$?
		echo "$status" >"$INSTALL_WORK/status"
	fi
	if [ "$(cat "$INSTALL_WORK/status")" != 0 ]; then
		tail -30 "$INSTALL_WORK/log" >&2
		fail "meson setup/install failed (log: $INSTALL_WORK/log)"
	fi
}

# installed_file DESCRIPTION FIND-ARGS...: sets $FOUND to the installed file under $TREE
# that matches the find(1) tests, or fails listing what was installed.
installed_file() {
	local what=$1
	shift
	FOUND=$(cd "$TREE" && find . -type f "$@" | sort | head -1)
	if [ -z "$FOUND" ]; then
		echo "    installed: $(cd "$TREE" && find . -type f | sort | tr '\n' ' ')" >&2
		fail "$what not installed"
	fi
	FOUND=$TREE/${FOUND#./}
}

test_install_binary_runs_version() {
	installed
	[ -x "$TREE/bin/migrate" ] || fail "bin/migrate not installed"
	local want
	want=$("$MIGRATE_BIN" --version)
	assert_eq "$("$TREE/bin/migrate" --version)" "$want" "installed migrate --version"
}

test_install_static_library() {
	installed
	installed_file "lib/.../libmigrate.a" -path './lib*/libmigrate.a'
	ar t "$FOUND" | grep -q '\.o$' || fail "$FOUND holds no objects"
}

test_install_public_header() {
	installed
	[ -f "$TREE/include/migrate/migrate.h" ] || {
		echo "    installed: $(cd "$TREE" && find include -type f 2>/dev/null | tr '\n' ' ')" >&2
		fail "include/migrate/migrate.h not installed"
	}
}

test_install_pkg_config_file() {
	installed
	installed_file "lib/.../pkgconfig/migrate.pc" -path './lib*/pkgconfig/migrate.pc'
	local pc=$FOUND
	assert_contains "$pc" "Name:"
	assert_contains "$pc" "-lmigrate"
	export PKG_CONFIG_PATH=${pc%/*}
	pkg-config --exists migrate ||
		fail "pkg-config cannot use $pc: $(pkg-config --print-errors --exists migrate 2>&1)"
	assert_eq "migrate $(pkg-config --modversion migrate)" "$("$MIGRATE_BIN" --version)" \
		"pkg-config --modversion"
	pkg-config --variable=includedir migrate | grep -qF "$TREE" ||
		fail "includedir of $pc is not under the prefix: $(pkg-config --variable=includedir migrate)"
}

# A consumer compiles against the installed header, and links with the installed
# library, with nothing but pkg-config's flags.
test_install_pkg_config_builds_a_consumer() {
	installed
	installed_file "lib/.../pkgconfig/migrate.pc" -path './lib*/pkgconfig/migrate.pc'
	export PKG_CONFIG_PATH=${FOUND%/*}
	[ -f "$TREE/include/migrate/migrate.h" ] || fail "include/migrate/migrate.h not installed"
	local cflags libs
	cflags=$(pkg-config --cflags migrate) || fail "pkg-config --cflags migrate failed"
	# not --static: Debian's libpq.pc names -lpgcommon -lpgport in Libs.private, which
	# libpq-dev does not ship as static archives
	libs=$(pkg-config --libs migrate) || fail "pkg-config --libs migrate failed"
	printf '#include <migrate/migrate.h>\nint main(void) { return 0; }\n' >consumer.c
	# shellcheck disable=SC2086 # the flags are lists of words
	cc -std=c11 -Wall -Werror -c consumer.c -o consumer.o $cflags 2>cc.err ||
		fail "the installed header does not compile with 'cc $cflags': $(head -5 cc.err)"
	# shellcheck disable=SC2086
	cc consumer.o -o consumer $libs 2>ld.err ||
		fail "cannot link with 'cc $libs': $(head -5 ld.err)"
}

test_install_man_page() {
	installed
	local man=$TREE/share/man/man1/migrate.1
	[ -f "$man" ] || fail "share/man/man1/migrate.1 not installed (is scdoc installed?)"
	assert_contains "$man" ".SH NAME"
	assert_contains "$man" "EXIT STATUS"
	# man renders the page as a reader would see it (scripts/deps.sh installs man-db)
	command -v man >/dev/null || skip "man is not installed (scripts/deps.sh test installs man-db)"
	MANWIDTH=80 man -l "$man" >man.txt 2>man.err || fail "man -l failed: $(cat man.err)"
	assert_contains man.txt "migrate - module-scoped database migrations"
}

test_install_bash_completion() {
	installed
	local f=$TREE/share/bash-completion/completions/migrate
	[ -f "$f" ] || fail "share/bash-completion/completions/migrate not installed"
	assert_eq "$(bash -c '. "$1" && complete -p migrate' _ "$f")" "complete -F _migrate migrate" \
		"complete -p migrate"
}

test_install_zsh_completion() {
	installed
	local f=$TREE/share/zsh/site-functions/_migrate
	[ -f "$f" ] || fail "share/zsh/site-functions/_migrate not installed"
	assert_eq "$(head -1 "$f")" "#compdef migrate" "first line of _migrate"
	command -v zsh >/dev/null || skip "zsh is not installed (scripts/deps.sh test installs it)"
	zsh -n "$f" 2>zsh.err || fail "zsh -n $f: $(cat zsh.err)"
}

# The completions must offer exactly what `migrate help` (built from the command and
# option tables) documents. No build needed: this reads the source tree's files.
test_completions_match_command_table() {
	local bashf=$MIGRATE_SOURCE_ROOT/contrib/completion/migrate.bash
	local zshf=$MIGRATE_SOURCE_ROOT/contrib/completion/_migrate
	expect_status 0 help
	local commands
	commands=$(sed -n '/^Commands:/,/^$/p' "$OUT" | awk 'NF && !/^Commands:/ {print $1}' | sort | tr '\n' ' ')
	[ -n "$commands" ] || fail "no commands in 'migrate help'"
	assert_eq "$(bash -c '. "$1"; printf "%s\n" $_migrate_commands' _ "$bashf" | sort | tr '\n' ' ')" \
		"$commands" "bash completion's commands"
	local cmd
	for cmd in $commands; do
		grep -qF "'$cmd:" "$zshf" || fail "zsh completion does not offer '$cmd'"
		expect_status 0 help "$cmd"
		# "  -c, --config PATH   ..." and "      --dry-run   ..." lines of the help
		local want
		want=$(sed -n '/^Options:/,/^$/p' "$OUT" | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' |
			tr -d ' ' | tr ',' '\n' | sort | tr '\n' ' ')
		assert_eq "$(bash -c '. "$1"; printf "%s\n" $(_migrate_options "$2")' _ "$bashf" "$cmd" |
			sort | tr '\n' ' ')" "$want" "bash completion's options for '$cmd'"
		local opt
		for opt in $want; do
			[[ $opt == --* ]] || continue
			grep -qE -- "[,{'()]${opt}[=+,}[]" "$zshf" ||
				fail "zsh completion does not offer $opt (for '$cmd')"
		done
	done
}

# The shared library: a soname, and nothing exported but the API of migrate.h.
test_install_shared_library_exports_only_the_api() {
	installed
	installed_file "lib/.../libmigrate.so.*" -path './lib*/libmigrate.so.*' -name '*.*.*'
	local lib=$FOUND
	objdump -p "$lib" | grep -q 'SONAME *libmigrate\.so\.0$' ||
		fail "no soname libmigrate.so.0 in $lib: $(objdump -p "$lib" | grep SONAME)"
	nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | sort >exported
	grep -v '^#' "$TREE/include/migrate/migrate.h" | grep -o 'MIG_EXTERN [^(]*(' |
		sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | sort >declared
	[ -s declared ] || fail "no MIG_EXTERN declarations found in migrate.h"
	diff declared exported >exports.diff || fail "exported != declared: $(cat exports.diff)"
}

# An application that only wants PostgreSQL needs neither libmongoc nor jansson:
# not on pkg-config's link line, not loaded when it runs.
test_install_consumer_links_without_mongo_or_jansson() {
	installed
	installed_file "lib/.../pkgconfig/migrate.pc" -path './lib*/pkgconfig/migrate.pc'
	export PKG_CONFIG_PATH=${FOUND%/*}
	local libs libdir
	libs=$(pkg-config --libs migrate)
	case $libs in *mongo* | *jansson* | *bson*) fail "pkg-config --libs migrate: $libs" ;; esac
	printf '#include <migrate/migrate.h>\n#include <stdio.h>\n#include <string.h>\nint main(void) {\n  printf("%%s\\n", mig_version());\n  return strcmp(mig_version(), MIGRATE_VERSION_STRING) != 0;\n}\n' >consumer.c
	# shellcheck disable=SC2046,SC2086
	cc -std=c11 -Wall -Werror consumer.c -o consumer $(pkg-config --cflags migrate) $libs 2>cc.err ||
		fail "cannot build a consumer: $(head -5 cc.err)"
	libdir=$(pkg-config --variable=libdir migrate)
	LD_LIBRARY_PATH=$libdir ./consumer >version.out || fail "the consumer failed"
	assert_eq "migrate $(cat version.out)" "$("$MIGRATE_BIN" --version)" "mig_version()"
	LD_LIBRARY_PATH=$libdir ldd ./consumer >ldd.out
	assert_not_contains ldd.out "libmongoc"
	assert_not_contains ldd.out "libjansson"
	assert_contains ldd.out "libmigrate.so.0"
}

# The installed binary finds its MongoDB module in the install tree, and loads it only
# for a config with mongodb:.
test_install_mongodb_module_loads_from_the_prefix() {
	installed
	installed_file "lib/.../migrate/migrate-mongodb.so" -path './lib*/migrate/migrate-mongodb.so'
	ldd "$TREE/bin/migrate" >ldd.out
	assert_not_contains ldd.out "libmongoc"
	mkdir -p migrations/mongodb/core
	printf '{"collections": [{"name": "c", "indexes": []}]}\n' >migrations/mongodb/core/indexes.json
	printf 'mongodb:\n  uri: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200"\n  database: d\n' >config.yaml
	MIGRATE_BIN=$TREE/bin/migrate expect_status 1 seed
	assert_not_contains "$ERR" "cannot load"
	assert_contains "$ERR" "MongoDB"
}

run_tests
