#!/usr/bin/env bash
# The bad-input corpus: every directory tests/corpus/cases/NNN-name/ is one test. Its
# `case` file says how to run migrate and what must come out; the other files are copied
# into a scratch directory first (see tests/corpus/README.md for the format). Besides what
# the case asks for, every case must leave a one-line error on stderr, never show a
# password, and leave the PostgreSQL database (and, for mongo=1 cases, the MongoDB
# database) as empty, and the files as they were: bad input is refused before anything
# changes.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"
CORPUS=$(cd "$here/../corpus" && pwd)

# Debian's psql is a perl wrapper that costs ~50 ms a call, and every case calls it
# twice (new_db, check_databases): call the real client when it is there.
REAL_PSQL=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)
if [ -n "$REAL_PSQL" ]; then
	psql() { "$REAL_PSQL" "$@"; }
fi

# A wrong password for the app role that the leak check can recognise.
BAD_PASSWORD=Wr0ng-Pa55-9f3
DEFAULT_TIMEOUT=10

# Problems are collected rather than failing at the first one, so a broken case reports
# everything that is wrong with it (wrong exit status AND a changed database, say).
PROBLEMS=()
problem() { PROBLEMS+=("$*"); }

# read_case FILE: the key=value lines of a case file into C_* variables.
read_case() {
	C_ARGS='' C_EXIT='' C_TIMEOUT=$DEFAULT_TIMEOUT C_RSS='' C_MONGO='' C_CHANGES='' C_BASE=''
	C_STDERR=() C_STDOUT=() C_ENV=() C_SETUP=() C_SECRET=()
	local line key value have_args=''
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		case $line in '' | '#'*) continue ;; esac
		[[ $line == *=* ]] || fail "$1: line without '=': $line"
		key=${line%%=*}
		value=${line#*=}
		case $key in
		args) C_ARGS=$value have_args=1 ;;
		exit) C_EXIT=$value ;;
		stderr | stderr[0-9]*) C_STDERR+=("$value") ;;
		stdout | stdout[0-9]*) C_STDOUT+=("$value") ;;
		env) C_ENV+=("$value") ;;
		setup) C_SETUP+=("$value") ;;
		secret) C_SECRET+=("$value") ;;
		mongo) C_MONGO=$value ;;
		changes) C_CHANGES=$value ;;
		timeout) C_TIMEOUT=$value ;;
		max_rss_mb) C_RSS=$value ;;
		base) C_BASE=$value ;;
		*) fail "$1: unknown key '$key'" ;;
		esac
	done <"$1"
	[ -n "$have_args" ] || fail "$1: no args="
	[[ $C_EXIT =~ ^[0-9]+$ ]] || fail "$1: exit= must be a number"
	[[ $C_TIMEOUT =~ ^[0-9]+$ ]] || fail "$1: timeout= must be a number of seconds"
	[ "${#C_STDERR[@]}" -gt 0 ] || [ "$C_EXIT" = 0 ] || fail "$1: a failing case needs stderr="
}

# subst TEXT: TEXT with the placeholders replaced. The replacements are quoted so that
# bash 5.2's patsub_replacement cannot read '&' in a URI as "the matched text".
subst() {
	local s=$1
	s=${s//@BAD_PASSWORD_DSN@/"postgres://app:$BAD_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/$DB"}
	s=${s//@DSN@/"$DSN"}
	s=${s//@MONGO_URI@/"${MIGRATE_TEST_MONGO_URI:-}"}
	s=${s//@MDB@/"$MDB"}
	s=${s//@PORT@/"$MIGRATE_PG_PORT"}
	s=${s//@DB@/"$DB"}
	printf '%s' "$s"
}

# subst_files: the same replacements in every copied file that holds a placeholder,
# in place (perl reads the values from the environment: no quoting to get wrong).
subst_files() {
	local files
	mapfile -t files < <(grep -rlE '@(DSN|BAD_PASSWORD_DSN|MONGO_URI|MDB|PORT|DB)@' . || true)
	[ "${#files[@]}" -gt 0 ] || return 0
	S_BAD="postgres://app:$BAD_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/$DB" S_DSN=$DSN \
		S_MONGO=${MIGRATE_TEST_MONGO_URI:-} S_MDB=$MDB S_PORT=$MIGRATE_PG_PORT S_DB=$DB \
		perl -pi -e 's/\@BAD_PASSWORD_DSN\@/$ENV{S_BAD}/g; s/\@DSN\@/$ENV{S_DSN}/g;
			s/\@MONGO_URI\@/$ENV{S_MONGO}/g; s/\@MDB\@/$ENV{S_MDB}/g;
			s/\@PORT\@/$ENV{S_PORT}/g; s/\@DB\@/$ENV{S_DB}/g' "${files[@]}"
}

# as_user CMD...: runs CMD as the user migrate runs as in this case. Root reads every
# file whatever its mode, so when root runs the tests an `unreadable:` case runs
# migrate (and these checks) as nobody, for whom mode 000 really means unreadable.
as_user() {
	if [ -n "$AS_NOBODY" ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
	else
		"$@"
	fi
}

# make_unreadable PATH: mode 000, then proves that migrate's user cannot read it.
make_unreadable() {
	if [ "$(id -u)" -eq 0 ] && [ -z "$AS_NOBODY" ]; then
		AS_NOBODY=1
		chmod 755 "$SCRATCH"
		chmod -R a+rX "$WORK"
		as_user test -x "$MIGRATE_BIN" || fail "nobody cannot run $MIGRATE_BIN"
		as_user test -r "$WORK" || fail "nobody cannot read $WORK"
	fi
	chmod 000 "$1"
	if as_user test -r "$1"; then
		fail "setup: could not make $1 unreadable for $(as_user id -un)"
	fi
}

# stale_mongoc_shm: a migrate that is killed leaves libmongoc's /dev/shm/mongoc-<pid>
# behind, and a later process with that PID finds it taken. To make that happen on
# purpose, migrate runs as PID 1 of a private PID namespace over a private /dev/shm
# that already holds mongoc-1 (unshare needs root, or user namespaces without it).
stale_mongoc_shm() {
	NAMESPACE=(unshare --mount --pid --fork --kill-child)
	[ "$(id -u)" -eq 0 ] || NAMESPACE+=(--map-root-user)
	NAMESPACE+=(sh -c 'mount -t tmpfs tmpfs /dev/shm && : >/dev/shm/mongoc-1 && exec "$@"' sh)
	"${NAMESPACE[@]}" true 2>/dev/null ||
		fail "setup stale-mongoc-shm: cannot make a PID and mount namespace here (unshare)"
}

# setup HELPER:ARGS: builds what a file in the case directory cannot hold.
setup() {
	# split at the first three colons; the last field keeps any further colons (and a
	# trailing one, which `IFS=: read` would drop)
	local kind=${1%%:*} rest=${1#*:} a b c
	a=${rest%%:*} rest=${rest#"$a"} rest=${rest#:}
	b=${rest%%:*} rest=${rest#"$b"} rest=${rest#:}
	c=$rest
	[ -n "$a" ] || [ "$kind" = stale-mongoc-shm ] || fail "setup '$1': missing path"
	case $kind in
	unreadable | chmod000) make_unreadable "$a" ;;
	symlink) # symlink:TARGET:LINK
		mkdir -p "$(dirname "$b")"
		ln -sfn "$a" "$b" ;;
	bigfile) # bigfile:PATH:MB, a text file of MB megabytes of comment lines
		local pad='# padding for a big file'
		[[ $a == *.sql ]] && pad='-- padding for a big file'
		mkdir -p "$(dirname "$a")"
		# yes ends on SIGPIPE (141) when head has enough: that is how it stops
		{ yes -- "$pad" || true; } | head -c "$((b * 1024 * 1024))" >"$a"
		[ "$(stat -c %s "$a")" -eq "$((b * 1024 * 1024))" ] || fail "setup '$1': $a is not $b MB" ;;
	binary) # binary:PATH, starts like YAML, then NUL and other control bytes
		printf 'postgres:\n  dsn: "x"\n\0\0\001\002\377\376 modules:\n' >"$a" ;;
	dir) # dir:PATH, a directory where a file is expected
		rm -rf "$a"
		mkdir -p "$a" ;;
	fifo) # fifo:PATH, a named pipe nobody writes to
		rm -rf "$a"
		mkdir -p "$(dirname "$a")"
		mkfifo "$a" ;;
	repeat) # repeat:PATH:N:TEXT, appends TEXT N times (no newline)
		perl -e 'print $ARGV[1] x $ARGV[0]' "$b" "$c" >>"$a" ;;
	lines) # lines:PATH:N:TEMPLATE, appends N lines, {i} in TEMPLATE counting from 1
		perl -e 'for my $i (1 .. $ARGV[0]) { (my $s = $ARGV[1]) =~ s/\{i\}/$i/g; print "$s\n" }' \
			"$b" "$c" >>"$a" ;;
	ctlfile) # ctlfile:PATH, an empty file whose name holds printf escapes (\t ...)
		local name
		name=$(printf '%b' "$a")
		mkdir -p "$(dirname "$name")"
		: >"$name" ;;
	stale-mongoc-shm) # libmongoc's counters file for migrate's PID is already there
		stale_mongoc_shm ;;
	*) fail "unknown setup helper '$kind'" ;;
	esac
}

# run_case_migrate: runs migrate in $WORK with the case's arguments and environment,
# under a timeout (a hang is a failure, not a stuck suite), optionally measuring its
# peak memory. Leaves $OUT, $ERR, $STATUS and $RSS_KB like the harness's run_migrate.
run_case_migrate() {
	local -a argv cmd
	# split like a shell would (quotes, '' for an empty argument) but expand nothing
	mapfile -d '' -t argv < <(perl -MText::ParseWords -e 'print "$_\0" for shellwords($ARGV[0])' \
		"$(subst "$C_ARGS")")
	# a sanitizer build runs several times slower: MIGRATE_TEST_TIME_SCALE (tests/run.sh
	# sets 3 for it) stretches every limit alike, so a hang still shows and a slow build
	# does not pass for one
	cmd=(timeout -k 2 "$((C_TIMEOUT * ${MIGRATE_TEST_TIME_SCALE:-1}))")
	[ -z "$C_RSS" ] || cmd+=(/usr/bin/time -q -f %M -o "$SCRATCH/rss")
	# a clean, known environment: no config, libpq or home-directory defaults leak in
	cmd+=(env -u APP_CONFIG -u PGHOST -u PGPORT -u PGUSER -u PGPASSWORD -u PGDATABASE
		-u PGSERVICE -u PGPASSFILE -u PGSERVICEFILE HOME="$WORK")
	# libmongoc makes /dev/shm/mongoc-<pid> in every process at load time and leaves it
	# behind when the process is killed (as the hang cases are), and a later migrate with
	# that PID then warns on stderr. Keep the corpus from leaving such files and from
	# tripping over other people's; case 524 provokes the warning on purpose.
	[ "${#NAMESPACE[@]}" -gt 0 ] || cmd+=(MONGOC_DISABLE_SHM=1)
	local e
	for e in "${C_ENV[@]}"; do cmd+=("$(subst "$e")"); done
	cmd+=("${NAMESPACE[@]}")
	[ -z "$AS_NOBODY" ] || cmd+=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	cmd+=("$MIGRATE_BIN" "${argv[@]}")
	OUT=$SCRATCH/stdout ERR=$SCRATCH/stderr
	set +e
	(cd "$WORK" && "${cmd[@]}") >"$OUT" 2>"$ERR" </dev/null
	STATUS=$?
	set -e
	# only cases with rss= are measured (check_output says so when one is missing)
	RSS_KB=""
	[ ! -f "$SCRATCH/rss" ] || RSS_KB=$(tail -1 "$SCRATCH/rss")
}

# passwords: every password that must never be printed, one a line: the app role's,
# the case's secret= values, and any found in the case's YAML files (URI userinfo,
# including up to the first and up to the last '@', and password=... in key=value DSNs).
passwords() {
	printf '%s\n' "$PG_PASSWORD" "$BAD_PASSWORD"
	local s
	for s in "${C_SECRET[@]}"; do subst "$s"; echo; done
	find "$WORK" -name '*.yaml' -type f -size -2M -readable -exec perl -ne '
		while (m{://[^:/@\s"'\'']*:([^\s"'\'']+)@}g) { print "$1\n" }
		while (m{://[^:/@\s"'\'']*:([^\s"'\''@]+)@}g) { print "$1\n" }
		while (/\bpassword\s*=\s*(?:'\''((?:[^'\''\\]|\\.)*)'\''|([^\s"'\''&]+))/g) { print(($1 // $2), "\n") }
	' {} + 2>/dev/null | awk 'length($0) >= 4'
}

# check_output: the exit status, the one-line error with the texts the case asks for,
# stdout, no password anywhere, bounded memory.
check_output() {
	[ "$STATUS" != 124 ] || problem "timed out after $((C_TIMEOUT * ${MIGRATE_TEST_TIME_SCALE:-1}))s (a hang)"
	[ "$STATUS" = "$C_EXIT" ] || problem "exit status $STATUS, expected $C_EXIT"
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$ERR"; then
		problem "sanitizer report: $(grep -m1 -E 'ERROR|runtime error' "$ERR")"
	fi
	if [ "$C_EXIT" != 0 ]; then
		local lines
		lines=$(wc -l <"$ERR")
		[ "$lines" -eq 1 ] || problem "stderr has $lines lines, expected exactly one"
		head -1 "$ERR" | grep -q '^migrate: ' || problem "stderr does not start with 'migrate: '"
	fi
	local want
	for want in "${C_STDERR[@]}"; do
		want=$(subst "$want")
		grep -qF -- "$want" "$ERR" || problem "stderr lacks '$want'"
	done
	if [ "${#C_STDOUT[@]}" -eq 0 ]; then
		[ ! -s "$OUT" ] || problem "stdout should be empty"
	fi
	for want in "${C_STDOUT[@]}"; do
		want=$(subst "$want")
		grep -qF -- "$want" "$OUT" || problem "stdout lacks '$want'"
	done
	local pw
	while IFS= read -r pw; do
		[ -n "$pw" ] || continue
		if grep -qF -- "$pw" "$OUT" "$ERR"; then
			problem "a password from the case ('${pw:0:3}…') appears in the output"
		fi
	done < <(passwords | sort -u)
	if [ -n "$C_RSS" ]; then
		if [ -z "$RSS_KB" ]; then
			problem "no memory measurement"
		elif [ "$RSS_KB" -gt $((C_RSS * 1024)) ]; then
			problem "peak memory $((RSS_KB / 1024)) MB, limit $C_RSS MB"
		fi
	fi
}

# check_databases: bad input changes nothing. Any relation outside the system schemas
# (schema_migrations included, wherever it went) means something ran.
check_databases() {
	[ "$C_CHANGES" = allowed ] && return 0
	local made
	made=$(sql "SELECT coalesce(string_agg(n.nspname || '.' || c.relname, ' ' ORDER BY 1), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'")
	[ -z "$made" ] || problem "the PostgreSQL database was changed; it now holds: $made"
	if [ "$C_MONGO" = 1 ]; then
		local reply
		reply=$(/usr/bin/python3 "$here/../lib/mongo_cmd.py" "$MIGRATE_TEST_MONGO_URI" "$MDB" \
			'{"listCollections": 1, "nameOnly": true}') ||
			{ problem "could not list the MongoDB collections"; return 0; }
		[[ $reply == *'"firstBatch": []'* ]] ||
			problem "the MongoDB database was changed; listCollections: ${reply:0:300}"
	fi
	return 0
}

# tree_listing: every path in the scratch tree with its type and size, so that a file
# migrate writes, removes or changes on bad input (`create`, say) shows as a difference.
tree_listing() {
	find . -printf '%p %y %s\n' | LC_ALL=C sort
}

# run_case DIR: one corpus case from start to finish.
run_case() {
	local dir=$1
	read_case "$dir/case"
	if [ "$C_MONGO" = 1 ] && [ -z "${MIGRATE_TEST_MONGO_URI:-}" ]; then
		fail "this case needs MIGRATE_TEST_MONGO_URI (tests/run.sh starts the stand-in)"
	fi
	new_db
	MDB="c_$DB"
	WORK=$SCRATCH/work
	AS_NOBODY='' NAMESPACE=()
	mkdir "$WORK"
	# put modes back even when a check fails, so the harness can remove the scratch dir
	trap 'chmod -R u+rwX "$WORK" 2>/dev/null || true' EXIT
	if [ -n "$C_BASE" ]; then
		[ -d "$CORPUS/bases/$C_BASE" ] || fail "no base '$C_BASE' in $CORPUS/bases"
		cp -R "$CORPUS/bases/$C_BASE/." "$WORK/"
	fi
	cp -R "$dir/." "$WORK/"
	rm -f "$WORK/case"
	cd "$WORK"
	subst_files
	local s
	for s in "${C_SETUP[@]}"; do setup "$(subst "$s")"; done
	local before
	before=$(tree_listing)
	run_case_migrate
	check_output
	check_databases
	[ "$C_CHANGES" = allowed ] || [ "$(tree_listing)" = "$before" ] ||
		problem "the tree changed: $(diff <(echo "$before") <(tree_listing) | grep '^[<>]' | head -5 | tr '\n' ' ')"
	if [ "${#PROBLEMS[@]}" -gt 0 ]; then
		echo "    migrate $(subst "$C_ARGS")" >&2
		echo "    stderr: $(head -c 600 "$ERR")" >&2
		[ ! -s "$OUT" ] || echo "    stdout: $(head -c 600 "$OUT")" >&2
		local p
		for p in "${PROBLEMS[@]}"; do echo "    FAILED: $p" >&2; done
		exit 1
	fi
}

# run_case_isolated DIR RESULT: run_case in its own scratch directory, as run_tests would
# run a test, leaving the reason for a failure in RESULT.reason and the status in
# RESULT.status.
run_case_isolated() {
	local scratch status
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/migrate-corpus.XXXXXX")
	SCRATCH=$scratch run_isolated run_case "$1" 2>"$2.reason" </dev/null
	status=$?
	echo "$status" >"$2.status"
	[ -n "${MIGRATE_TEST_KEEP:-}" ] || rm -rf "$scratch"
}

# The cases run side by side up front and the test functions below only replay their
# results, in order, through run_tests. A case spends most of its time waiting (on psql,
# on a server, on a timeout), so a few at once make the corpus several times faster;
# each has its own scratch directory and databases, so they cannot disturb each other.
RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/migrate-corpus-results.XXXXXX")
trap 'rm -rf "$RESULTS"' EXIT
JOBS=${MIGRATE_CORPUS_JOBS:-4}

for dir in "$CORPUS"/cases/*/; do
	dir=${dir%/}
	name=$(basename "$dir")
	if [[ ! $name =~ ^[0-9]{3}-[a-z0-9-]+$ ]]; then
		eval "test_corpus_bad_name_$RANDOM() { fail 'corpus case directory \"$name\" is not named NNN-lower-case-words'; }"
		continue
	fi
	fn=test_corpus_${name//-/_}
	if [ -n "${MIGRATE_TEST_FILTER:-}" ] && [[ $fn != *$MIGRATE_TEST_FILTER* ]]; then
		continue
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
	run_case_isolated "$dir" "$RESULTS/$name" &
	# one test function per case, named after its directory, so run_tests numbers and
	# reports it like any other test
	eval "$fn() { cat '$RESULTS/$name.reason' >&2; return \"\$(cat '$RESULTS/$name.status')\"; }"
done
wait

run_tests
