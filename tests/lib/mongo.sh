# MongoDB helpers for the integration tests, against MIGRATE_TEST_MONGO_URI (the stand-in
# tests/run.sh starts, or a real mongod). A test sets MDB to its database first.
: "${MIGRATE_TEST_MONGO_URI:?set MIGRATE_TEST_MONGO_URI (tests/run.sh starts the stand-in)}"
URI=$MIGRATE_TEST_MONGO_URI
_mongo_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mongo() { # COMMAND_JSON: runs a command in this test's database, prints the reply;
	# fails (the test, under the harness) when the server refuses it
	/usr/bin/python3 "$_mongo_lib/mongo_cmd.py" "$URI" "$MDB" "$1"
}

mongo_error() { # COMMAND_JSON: as mongo, for a command that must be refused
	/usr/bin/python3 "$_mongo_lib/mongo_cmd.py" --expect-error "$URI" "$MDB" "$1"
}

# check_json EXPR-SCRIPT: runs python with the JSON on stdin as r, fails the test if it raises
check_json() {
	/usr/bin/python3 -c "import json,sys; r=json.load(sys.stdin); $1" || fail "check failed: $1"
}

# standin: 0 when the server is the test stand-in (it answers standinStats; a real mongod
# refuses the command)
standin() {
	/usr/bin/python3 "$_mongo_lib/mongo_cmd.py" "$URI" admin '{"standinStats": 1}' >/dev/null 2>&1
}
