#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan) into a build dir ($1,
# default /tmp/migrate-fuzz) and runs each for ${FUZZ_SECONDS:-20} s on a copy of its corpus.
# Prints one TAP line per target (the crash summary as "# " lines on failure); libFuzzer's own
# output goes to <build>/<target>.log. Exit status 0 only when every target built and passed.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-/tmp/migrate-fuzz}
seconds=${FUZZ_SECONDS:-20}
cc=${CC_FUZZ:-}

case $seconds in
'' | *[!0-9]*) echo "FUZZ_SECONDS must be a whole number of seconds, not '$seconds'" >&2; exit 2 ;;
esac

# clang: the plain name, else a versioned one (Debian's clang-14 package)
if [ -z "$cc" ]; then
	for c in clang clang-18 clang-17 clang-16 clang-15 clang-14; do
		if command -v "$c" >/dev/null 2>&1; then
			cc=$c
			break
		fi
	done
fi
if [ -z "$cc" ]; then
	echo "Bail out! clang not found (install clang and libclang-rt-dev, or set CC_FUZZ)"
	exit 2
fi
if ! deps=$(pkg-config --cflags --libs yaml-0.1 jansson libpq 2>&1); then
	echo "Bail out! pkg-config yaml-0.1 jansson libpq: $deps"
	exit 2
fi

deps="$deps -lpg_query" # no pkg-config file on Debian; only the lint target needs it

mkdir -p "$build" || exit 2
build=$(cd "$build" && pwd)

# name and the sources it needs besides tests/fuzz/fuzz_<name>.c
all_targets=(
	"sql_split src/sql_split.c"
	"filename src/filename.c src/error.c"
	"directive src/directive.c src/error.c"
	"index_spec src/index_spec.c src/index_collation.c src/fs.c src/error.c"
	"config src/config.c src/expand.c src/names.c src/secret.c src/fs.c src/error.c"
	"lint src/lint.c src/pg_parse.c src/error.c"
	"pg_drop_names src/driver/pg_track_scan.c src/error.c"
)

# FUZZ_TARGETS="config filename" runs only those
targets=()
for entry in "${all_targets[@]}"; do
	name=${entry%% *}
	if [ -z "${FUZZ_TARGETS:-}" ] || [[ " $FUZZ_TARGETS " == *" $name "* ]]; then
		targets+=("$entry")
	fi
done
if [ "${#targets[@]}" -eq 0 ]; then
	echo "Bail out! FUZZ_TARGETS='${FUZZ_TARGETS:-}' names none of: ${all_targets[*]%% *}"
	exit 2
fi

# shellcheck disable=SC2054 # the commas belong to -fsanitize=
cflags=(-std=c11 -D_DEFAULT_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer -I"$src/include" -I"$src/src")

# leaks count as failures; UBSan stops at the first report, with a stack
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "1..${#targets[@]}"
n=0
failed=0
for entry in "${targets[@]}"; do
	read -r name sources <<<"$entry"
	n=$((n + 1))
	bin=$build/fuzz_$name
	log=$build/fuzz_$name.log
	: >"$log"

	srcs=()
	for s in $sources; do
		srcs+=("$src/$s")
	done
	# shellcheck disable=SC2086 # pkg-config output is a list of words
	if ! "$cc" "${cflags[@]}" -o "$bin" "$src/tests/fuzz/fuzz_$name.c" "${srcs[@]}" $deps \
		>"$build/fuzz_$name.build.log" 2>&1; then
		echo "not ok $n fuzz_$name"
		echo "# build failed ($build/fuzz_$name.build.log):"
		tail -20 "$build/fuzz_$name.build.log" | sed 's/^/#   /'
		failed=$((failed + 1))
		continue
	fi

	# run on a copy so the repository's corpus only grows when someone copies inputs back
	corpus=$build/corpus_$name
	rm -rf "$corpus" "$build/crashes_$name"
	mkdir -p "$corpus" "$build/crashes_$name"
	if [ -d "$src/tests/fuzz/corpus/$name" ]; then
		cp -R "$src/tests/fuzz/corpus/$name/." "$corpus/"
	fi

	start=$(date +%s)
	status=0
	"$bin" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/crashes_$name/" \
		>"$log" 2>&1 || status=$?
	elapsed=$(($(date +%s) - start))

	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	if [ "$status" -eq 0 ] && [ -n "$runs" ]; then
		echo "ok $n fuzz_$name ($runs runs in $elapsed s)"
		continue
	fi

	failed=$((failed + 1))
	echo "not ok $n fuzz_$name"
	echo "# exit status $status after $elapsed s; full log: $log"
	for crash in "$build/crashes_$name"/*; do
		[ -e "$crash" ] || continue
		echo "# input: $crash ($(wc -c <"$crash") bytes)"
		echo "# reproduce: $bin $crash"
	done
	# the sanitizer's or libFuzzer's report: its first line, the top frames and the summary
	report=$(grep -n -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log" | cut -d: -f1)
	if [ -n "$report" ]; then
		sed -n "${report},\$p" "$log" | grep -v -E 'in (__sanitizer_|fuzzer::|__libc_start|_start|main )|libc\.so|abort\.c|^ *$|^stat::|^SUMMARY:|^MS: |^artifact_prefix|^Base64|^NOTE:|^ *Combine libFuzzer|^==[0-9]+==ABORTING' |
			sed 's/ (BuildId: [0-9a-f]*)//' | head -14 | sed 's/^/# /'
		grep -m1 '^SUMMARY:' "$log" | sed 's/^/# /'
	else
		tail -20 "$log" | sed 's/^/# /'
	fi
done

if [ "$failed" -ne 0 ]; then
	echo "# $failed of ${#targets[@]} fuzz targets failed"
	exit 1
fi
exit 0
