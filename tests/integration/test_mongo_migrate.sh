#!/usr/bin/env bash
# Integration tests of issue 29 (versioned MongoDB migrations: files, ledger, lease,
# transactions) through the real binary, against the PostgreSQL the suite runs with and
# MIGRATE_TEST_MONGO_URI: the stand-in, or a real mongod (a replica set runs the
# transaction tests on it; on the stand-in they get a replica-set stand-in of their own).
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/postgres.sh"
. "$here/../lib/mongo.sh"

standin() { # true when MIGRATE_TEST_MONGO_URI is the stand-in (it answers standinStats)
	mongo '{"standinStats": 1}' | /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("ok") == 1 else 1)'
}

replica_set() { # true when MIGRATE_TEST_MONGO_URI is a replica set member
	mongo '{"hello": 1}' | /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("setName") else 1)'
}

# setup [module yaml lines...]: a fresh PostgreSQL database and MongoDB database, config.yaml
setup() {
	new_db
	MDB="mm_$(basename "$SCRATCH" | tr -c 'a-zA-Z0-9\n' '_')"
	write_config "mongodb:" "  uri: \"$URI\"" "  database: $MDB" "  lock_wait: 30s" "${@:-modules:}"
	mkdir -p migrations/postgres/core migrations/mongodb/core
}

mfile() { # PATH CONTENT: a MongoDB migration file of the tree
	mkdir -p "$(dirname "migrations/mongodb/$1")"
	printf '%s\n' "$2" >"migrations/mongodb/$1"
}

find_docs() { # COLLECTION [FILTER]: the documents as JSON (a list)
	mongo "{\"find\": \"$1\", \"filter\": ${2:-{\}}, \"sort\": {\"_id\": 1}}" |
		/usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["cursor"]["firstBatch"]))'
}

ledger_docs() { # the MongoDB ledger's _ids and dirty flags, one per line
	find_docs schema_migrations | /usr/bin/python3 -c '
import json,sys
for d in json.load(sys.stdin): print(d["_id"], "dirty" if d["dirty"] else "clean")'
}

backfill_tree() {
	mfile core/001_seed_users.up.json '[{"insert": "users", "documents": [
  {"_id": 1, "name": "ada"}, {"_id": 2, "name": "bob", "status": "gone"}]}]'
	mfile core/001_seed_users.down.json '[{"delete": "users", "deletes": [{"q": {}, "limit": 0}]}]'
	mfile core/002_backfill_status.up.json '[
  {"update": "users", "updates": [{"q": {"status": {"$exists": false}}, "u": {"$set": {"status": "active"}}, "multi": true}]}
]'
	mfile core/002_backfill_status.down.json '[
  {"update": "users", "updates": [{"q": {"status": "active"}, "u": {"$unset": {"status": ""}}, "multi": true}]}
]'
}

# up applies each version once, records it (checksum, ms, dirty false), prints counts; a
# re-run does nothing; status shows both; down rolls back the newest, then the next.
test_up_records_versions_and_down_rolls_back() {
	setup
	backfill_tree
	expect_status 0 up
	assert_contains "$OUT" "applied mongodb core/001_seed_users"
	assert_contains "$OUT" "applied mongodb core/002_backfill_status"
	assert_contains "$OUT" "mongodb core/002_backfill_status: update n=1 modified=1"
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/1 clean core/2 clean " "ledger"
	find_docs schema_migrations | check_json '
d = {x["_id"]: x for x in r}["core/2"]
assert d["module"] == "core" and d["version"] == 2 and d["name"] == "backfill_status", d
assert len(d["checksum"]) == 64 and d["dirty"] is False and d["ms"] >= 0 and d["applied_at"], d'
	sum=$(sha256sum migrations/mongodb/core/002_backfill_status.up.json | cut -d' ' -f1)
	find_docs schema_migrations '{"_id": "core/2"}' | check_json "assert r[0]['checksum'] == '$sum', r"
	find_docs users | check_json 'assert [u.get("status") for u in r] == ["active", "gone"], r'
	expect_status 0 up
	assert_contains "$OUT" "nothing to apply"
	expect_status 0 status
	assert_contains "$OUT" "MongoDB versions"
	grep -qE '^core +2 +2 +0 +up to date' "$OUT" || fail "status: $(cat "$OUT")"
	expect_status 0 status --format json
	check_json 'm = r["mongodb_versions"]["modules"]; assert [(x["module"], x["applied"], x["latest"], x["pending"], x["state"]) for x in m] == [("core", 2, 2, 0, "up_to_date")], r' <"$OUT"
	expect_status 0 down --module core
	assert_contains "$OUT" "rolled back mongodb core/002_backfill_status"
	find_docs users | check_json 'assert [u.get("status") for u in r] == [None, "gone"], r'
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/1 clean " "ledger after down"
	expect_status 0 up
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/1 clean core/2 clean " "ledger after up again"
}

# up runs a module's SQL versions, then its MongoDB versions; down --module takes the
# newest version of either backend (by version; MongoDB first on a tie)
test_down_takes_the_newest_of_either_backend() {
	setup
	printf 'CREATE TABLE t1 (id int);\n' >migrations/postgres/core/001_t1.up.sql
	printf 'DROP TABLE t1;\n' >migrations/postgres/core/001_t1.down.sql
	printf 'CREATE TABLE t3 (id int);\n' >migrations/postgres/core/003_t3.up.sql
	printf 'DROP TABLE t3;\n' >migrations/postgres/core/003_t3.down.sql
	mfile core/002_m2.up.json '[{"insert": "m", "documents": [{"_id": 2}]}]'
	mfile core/002_m2.down.json '[{"delete": "m", "deletes": [{"q": {"_id": 2}, "limit": 1}]}]'
	expect_status 0 up
	# SQL first, then MongoDB
	assert_eq "$(grep -o 'applied [a-z ]*/[0-9]*_[a-z0-9]*' "$OUT" | tr '\n' ' ')" \
		"applied core/001_t1 applied core/003_t3 applied mongodb core/002_m2 " "order"
	expect_status 0 down --module core
	assert_contains "$OUT" "rolled back core/003_t3"
	has_table t3 && fail "t3 still there"
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/2 clean " "mongo ledger untouched"
	expect_status 0 down --module core
	assert_contains "$OUT" "rolled back mongodb core/002_m2"
	assert_eq "$(ledger_docs | wc -l)" "0" "mongo ledger"
	has_table t1 || fail "t1 rolled back too early"
	expect_status 0 down --module core --dry-run
	assert_contains "$OUT" "would roll back core/001_t1"
}

# A module whose versions alternate between the backends: SQL 1 and 3, MongoDB 2 and 4,
# each with its down file.
alternating_tree() {
	printf 'CREATE TABLE t1 (id int);\n' >migrations/postgres/core/001_t1.up.sql
	printf 'DROP TABLE t1;\n' >migrations/postgres/core/001_t1.down.sql
	printf 'CREATE TABLE t3 (id int);\n' >migrations/postgres/core/003_t3.up.sql
	printf 'DROP TABLE t3;\n' >migrations/postgres/core/003_t3.down.sql
	local v
	for v in 2 4; do
		mfile "core/00${v}_m$v.up.json" "[{\"insert\": \"m\", \"documents\": [{\"_id\": $v}]}]"
		mfile "core/00${v}_m$v.down.json" "[{\"delete\": \"m\", \"deletes\": [{\"q\": {\"_id\": $v}, \"limit\": 1}]}]"
	done
}

# up --module M --to V counts the MongoDB versions too: V may be a MongoDB version, and
# no MongoDB version above V runs (the dry run shows the same); a V neither backend has
# is refused naming both directories, before anything runs
test_up_to_covers_mongodb_versions() {
	setup
	alternating_tree
	expect_status 0 up --module core --to 2 --dry-run
	assert_contains "$OUT" "would apply core/001_t1"
	assert_contains "$OUT" "would apply mongodb core/002_m2"
	assert_not_contains "$OUT" "core/003_t3"
	assert_not_contains "$OUT" "core/004_m4"
	expect_status 0 up --module core --to 2
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "SQL ledger at --to 2"
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/2 clean " "MongoDB ledger at --to 2"
	expect_status 0 up --module core --to 3
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/3 " "SQL ledger at --to 3"
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/2 clean " "MongoDB ledger at --to 3"
	find_docs m | check_json 'assert r == [{"_id": 2}], r'
	expect_status 2 up --module core --to 5
	assert_one_line "$ERR"
	assert_contains "$ERR" "--to 5: module 'core' has no version 5, neither in"
	assert_contains "$ERR" "migrations/mongodb/core"
	expect_status 0 up --module core --to 4
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/2 clean core/4 clean " "MongoDB ledger at --to 4"
}

# down --module M --to V rolls back every applied version of M above V across both
# backends, newest first; --to 0 rolls back all of them; --to with --steps, or a V that
# neither backend has, is refused before anything changes
test_down_to_covers_both_backends() {
	setup
	alternating_tree
	expect_status 0 up
	expect_status 2 down --module core --to 1 --steps 2
	assert_contains "$ERR" "--steps N or --to V, not both"
	expect_status 2 down --module core --to 7
	assert_contains "$ERR" "module 'core' has no version 7"
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/2 clean core/4 clean " "refusals changed MongoDB"
	expect_status 0 down --module core --to 1 --dry-run
	assert_contains "$OUT" "would roll back mongodb core/004_m4"
	assert_contains "$OUT" "would roll back core/003_t3"
	assert_contains "$OUT" "would roll back mongodb core/002_m2"
	assert_not_contains "$OUT" "core/001_t1"
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/2 clean core/4 clean " "the dry run changed MongoDB"
	expect_status 0 down --module core --to 1
	assert_eq "$(grep -o 'rolled back [a-z ]*/[0-9]*_[a-z0-9]*' "$OUT" | tr '\n' ' ')" \
		"rolled back mongodb core/004_m4 rolled back core/003_t3 rolled back mongodb core/002_m2 " "order"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "SQL ledger after --to 1"
	assert_eq "$(ledger_docs | wc -l)" "0" "MongoDB ledger after --to 1"
	find_docs m | check_json 'assert r == [], r'
	expect_status 0 down --module core --to 1
	assert_contains "$OUT" "nothing to roll back: module 'core' has no applied version above 1"
	expect_status 0 down --module core --to 0
	assert_contains "$OUT" "rolled back core/001_t1"
	assert_eq "$(ledger)" "" "SQL ledger after --to 0"
}

# down --steps N over a history mixing both backends takes the N newest by version (a
# tie: the MongoDB one first, as up ran it after the SQL one); a .down.sql between MongoDB
# files still renders its placeholders; --format json prints only the report
test_down_steps_over_a_mixed_history() {
	setup 'placeholders:' '  T3: t3' 'modules:'
	alternating_tree
	printf -- '-- migrate:envsub on\nDROP TABLE ${T3};\n' >migrations/postgres/core/003_t3.down.sql
	mfile core/005_m5.up.json '[{"insert": "m", "documents": [{"_id": 5}]}]'
	mfile core/005_m5.down.json '[{"delete": "m", "deletes": [{"q": {"_id": 5}, "limit": 1}]}]'
	printf 'CREATE TABLE t5 (id int);\n' >migrations/postgres/core/005_t5.up.sql
	printf 'DROP TABLE t5;\n' >migrations/postgres/core/005_t5.down.sql
	expect_status 0 up
	# newest first: m5 (a tie with t5: MongoDB first), t5
	expect_status 0 down --module core --steps 2
	assert_eq "$(grep -o 'rolled back [a-z ]*/[0-9]*_[a-z0-9]*' "$OUT" | tr '\n' ' ')" \
		"rolled back mongodb core/005_m5 rolled back core/005_t5 " "order"
	# then m4 and t3, whose DROP TABLE ${T3} renders from placeholders:; stdout is the report
	expect_status 0 down --module core --steps 2 --format json
	check_json '
got = sorted((x.get("backend", "postgres"), x["version"], x["state"]) for x in r["migrations"])
assert got == [("mongodb", 4, "rolled_back"), ("postgres", 3, "rolled_back")], got
assert r["ok"] is True and r["direction"] == "down", r' <"$OUT"
	has_table t3 && fail "t3 still there"
	has_table t1 || fail "t1 rolled back"
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "SQL ledger"
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/2 clean " "MongoDB ledger"
	expect_status 0 down --module core --steps 5
	assert_eq "$(grep -o 'rolled back [a-z ]*/[0-9]*_[a-z0-9]*' "$OUT" | tr '\n' ' ')" \
		"rolled back mongodb core/002_m2 rolled back core/001_t1 " "order"
}

# up --phase expand stops each module before its first MongoDB file holding
# "phase": "contract" (as before its first SQL file with `-- migrate:phase contract`);
# the files after it wait too; up --phase contract runs the rest
test_phase_applies_to_mongodb_files() {
	setup
	printf 'CREATE TABLE e1 (id int);\n' >migrations/postgres/core/001_e1.up.sql
	printf -- '-- migrate:phase contract\nDROP TABLE e1;\n' >migrations/postgres/core/003_c3.up.sql
	mfile core/002_m2.up.json '{"phase": "expand", "commands": [{"insert": "m", "documents": [{"_id": 2}]}]}'
	mfile core/004_m4.up.json '{"phase": "contract", "commands": [{"update": "m", "updates": [{"q": {}, "u": {"$unset": {"old": ""}}, "multi": true}]}]}'
	mfile core/005_m5.up.json '[{"insert": "m", "documents": [{"_id": 5}]}]'
	expect_status 0 up --phase expand --dry-run
	assert_contains "$OUT" "would apply mongodb core/002_m2"
	assert_not_contains "$OUT" "004_m4"
	assert_not_contains "$OUT" "005_m5"
	expect_status 0 up --phase expand
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 " "SQL ledger after expand"
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/2 clean " "MongoDB ledger after expand"
	expect_status 0 up --phase expand
	assert_contains "$OUT" "nothing to apply"
	# status: the expand phase is done on the MongoDB side too
	expect_status 0 status --format json
	check_json 'm = r["mongodb_versions"]["modules"]; assert [(x["module"], x["pending"], x["state"]) for x in m] == [("core", 2, "contract_pending")], r' <"$OUT"
	expect_status 0 status
	grep -qE '^core +2 +5 +2 +contract pending' "$OUT" || fail "status: $(cat "$OUT")"
	expect_status 0 up --phase contract
	assert_eq "$(ledger | tr '\n' ' ')" "core/1 core/3 " "SQL ledger after contract"
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/2 clean core/4 clean core/5 clean " "MongoDB ledger after contract"
	mfile core/006_m6.up.json '{"phase": "later", "commands": [{"insert": "m", "documents": [{}]}]}'
	expect_status 2 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "'phase' must be \"expand\" or \"contract\" (migrations/mongodb/core/006_m6.up.json:1)"
}

# --dry-run lists the pending MongoDB files and sends no write; --module limits the run;
# a pending version below an applied one is refused unless --allow-out-of-order
test_dry_run_module_and_out_of_order() {
	setup 'modules:' '  shop: {}'
	backfill_tree
	mfile shop/001_orders.up.json '[{"insert": "orders", "documents": [{"_id": 1}]}]'
	expect_status 0 up --dry-run
	assert_contains "$OUT" "would apply mongodb core/001_seed_users (migrations/mongodb/core/001_seed_users.up.json)"
	assert_contains "$OUT" "would apply mongodb shop/001_orders"
	assert_eq "$(find_docs users)" "[]" "dry run wrote"
	assert_eq "$(find_docs schema_migrations_lock)" "[]" "dry run took the lock"
	expect_status 0 up --dry-run --format json
	check_json 'm = [x for x in r["migrations"] if x["backend"] == "mongodb"]; assert [x["module"] + "/" + str(x["version"]) for x in m] == ["core/1", "core/2", "shop/1"], r' <"$OUT"
	expect_status 0 up --module shop
	assert_eq "$(ledger_docs | tr '\n' ' ')" "shop/1 clean " "only shop"
	mfile shop/003_three.up.json '[{"insert": "orders", "documents": [{"_id": 3}]}]'
	expect_status 0 up --module shop
	mfile shop/002_two.up.json '[{"insert": "orders", "documents": [{"_id": 2}]}]'
	expect_status 2 up --module shop
	assert_contains "$ERR" "shop/2 is pending but shop/3 is already applied"
	assert_one_line "$ERR"
	expect_status 0 up --module shop --allow-out-of-order
	assert_eq "$(ledger_docs | tr '\n' ' ')" "shop/1 clean shop/2 clean shop/3 clean " "out of order"
}

# Extended JSON v2: relaxed {"$date": "..."} and canonical forms, $oid, $numberLong, key
# order kept; stored with their BSON types
test_extended_json_relaxed_and_canonical() {
	setup
	mfile core/001_types.up.json '[{"insert": "e", "documents": [{"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"},
  "z": 1, "a": 2, "relaxed": {"$date": "2024-01-01T00:00:00Z"},
  "canonical": {"$date": {"$numberLong": "1704067200000"}},
  "big": {"$numberLong": "9007199254740993"}, "small": {"$numberInt": "7"}, "d": {"$numberDouble": "1.5"}}]}]'
	expect_status 0 up
	mongo '{"aggregate": "e", "pipeline": [{"$project": {"_id": {"$type": "$_id"}, "r": {"$type": "$relaxed"}, "c": {"$type": "$canonical"}, "same": {"$eq": ["$relaxed", "$canonical"]}, "big": {"$type": "$big"}, "small": {"$type": "$small"}, "d": {"$type": "$d"}}}], "cursor": {}}' |
		check_json 'd = r["cursor"]["firstBatch"][0]; assert d == {"_id": "objectId", "r": "date", "c": "date", "same": True, "big": "long", "small": "int", "d": "double"}, d'
	find_docs e | check_json 'assert list(r[0].keys()) == ["_id", "z", "a", "relaxed", "canonical", "big", "small", "d"], r[0].keys(); assert r[0]["big"] == 9007199254740993, r'
}

# golang-migrate's mongodb driver files (a JSON array of commands, NNNNNN_name.up.json)
# run unchanged
test_golang_migrate_file_runs_unchanged() {
	setup
	cat >migrations/mongodb/core/000001_create_user_indexes.up.json <<'JSON'
[
  {
    "createIndexes": "users",
    "indexes": [
      {
        "key": {
          "email": 1
        },
        "name": "email_unique",
        "unique": true,
        "background": true
      }
    ]
  }
]
JSON
	cat >migrations/mongodb/core/000001_create_user_indexes.down.json <<'JSON'
[
  {
    "dropIndexes": "users",
    "index": "email_unique"
  }
]
JSON
	cp migrations/mongodb/core/000001_create_user_indexes.up.json before.json
	expect_status 0 up
	cmp -s before.json migrations/mongodb/core/000001_create_user_indexes.up.json || fail "file changed"
	mongo '{"listIndexes": "users"}' | check_json 'assert "email_unique" in [i["name"] for i in r["cursor"]["firstBatch"]], r'
	assert_eq "$(ledger_docs)" "core/1 clean" "ledger"
	expect_status 0 down --module core
	mongo '{"listIndexes": "users"}' | check_json 'assert "email_unique" not in [i["name"] for i in r["cursor"]["firstBatch"]], r'
}

# Bad files: one line naming file:line or the element index, exit 2, nothing run in
# either database (the SQL file before them included)
test_bad_files_refused_before_anything_runs() {
	setup
	printf 'CREATE TABLE before_bad (id int);\n' >migrations/postgres/core/001_sql.up.sql
	mfile core/001_ok.up.json '[{"insert": "a", "documents": [{"_id": 1}]}]'
	mfile core/002_bad.up.json '[
  {"insert": "a", "documents": [{"_id": 2}]},
  {"insert": "a", "documents": [{"_id": 3},]}
]'
	expect_status 2 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "invalid JSON"
	assert_contains "$ERR" "002_bad.up.json:3)"
	has_table before_bad && fail "the SQL file ran"
	assert_eq "$(find_docs a)" "[]" "a MongoDB file ran"
	mfile core/002_bad.up.json '[{"insert": "a", "documents": [{"_id": 2}]},
 {"insert": "a", "documents": [{"when": {"$date": "yesterday"}}]}]'
	expect_status 2 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "element 1: Could not parse \"yesterday\" as date"
	assert_contains "$ERR" "002_bad.up.json:2)"
	mfile core/002_bad.up.json '[{"insert": "a", "documents": []}, 5]'
	expect_status 2 up
	assert_contains "$ERR" "element 1 is not a command document"
	mfile core/002_bad.up.json '{"transaction": true, "commands": [{"insert": "a", "documents": [{"_id": 1}]}], "extra": 1}'
	expect_status 2 up
	assert_contains "$ERR" "unknown key 'extra'"
	mfile core/002_bad.up.json '[{"insert": "a", "documents": [{"_id": 1}], "lsid": {"id": 1}}]'
	expect_status 2 up
	assert_contains "$ERR" "sets 'lsid', which migrate sets itself"
	mfile core/002_bad.up.json '[]'
	expect_status 2 up
	assert_contains "$ERR" "holds no command"
	rm migrations/mongodb/core/002_bad.up.json
	mfile core/003_x.down.json '[{"drop": "a"}]'
	expect_status 2 up
	assert_contains "$ERR" "003_x.down.json' has no matching .up.json"
	rm migrations/mongodb/core/003_x.down.json
	has_table before_bad && fail "the SQL file ran"
	assert_eq "$(find_docs a)" "[]" "a MongoDB file ran"
	expect_status 0 up
	has_table before_bad || fail "the SQL file did not run"
}

# Commands that cannot run in a transaction are refused when the file is read, with the
# file, line and element index
test_transaction_refuses_ddl_at_parse_time() {
	setup
	local cmd
	for cmd in '{"create": "c"}' '{"drop": "c"}' '{"collMod": "c", "validator": {}}' \
		'{"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1"}]}' \
		'{"dropDatabase": 1}' '{"renameCollection": "a", "to": "b"}' \
		'{"aggregate": "c", "pipeline": [{"$match": {}}, {"$out": "d"}], "cursor": {}}'; do
		mfile core/001_tx.up.json "{\"transaction\": true, \"commands\": [
  {\"insert\": \"c\", \"documents\": [{\"_id\": 1}]},
  $cmd]}"
		expect_status 2 up
		assert_one_line "$ERR"
		assert_contains "$ERR" "element 1: '"
		assert_contains "$ERR" "cannot run inside a transaction"
		assert_contains "$ERR" "001_tx.up.json:3)"
	done
	assert_eq "$(find_docs c)" "[]" "something ran"
}

# A non-transactional failure names the element, the command, the server's code and
# message; the version stays dirty; up refuses until resolve clears it
test_failure_leaves_version_dirty_until_resolve() {
	setup
	mfile core/001_ok.up.json '[{"insert": "p", "documents": [{"_id": 1, "price": "12"}]}]'
	mfile core/002_convert.up.json '[
  {"update": "p", "updates": [{"q": {}, "u": {"$set": {"touched": true}}, "multi": true}]},
  {"update": "p", "updates": [{"q": {}, "u": {"$inc": {"price": 1}}, "multi": true}]}
]'
	expect_status 1 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "element 1, 'update' on 'p', failed"
	assert_contains "$ERR" "Cannot apply \$inc to a value of non-numeric type"
	assert_contains "$ERR" "(code 14)"
	assert_contains "$ERR" "002_convert.up.json:3)"
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/1 clean core/2 dirty " "ledger"
	find_docs p | check_json 'assert r[0]["touched"] is True, r'
	expect_status 1 up
	assert_contains "$ERR" "resolve"
	expect_status 0 status
	assert_contains "$OUT" "dirty at 2"
	# fix the data by hand, then record the version as applied
	mongo '{"update": "p", "updates": [{"q": {}, "u": {"$set": {"price": 13}}}]}' >/dev/null
	expect_status 0 resolve --module core --version 2 --applied
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/1 clean core/2 clean " "resolved"
	expect_status 0 up
	assert_contains "$OUT" "nothing to apply"
	expect_status 0 resolve --module core --version 2 --rolled-back
	assert_eq "$(ledger_docs | tr '\n' ' ')" "core/1 clean " "rolled back"
}

# ok: 0, writeErrors and writeConcernError all stop the run; per-command counts in the
# JSON run report
test_every_result_checked_and_counted() {
	setup
	mfile core/001_seed.up.json '[
  {"insert": "k", "documents": [{"_id": 1, "n": 1}, {"_id": 2, "n": 2}]},
  {"update": "k", "updates": [{"q": {"n": {"$gte": 2}}, "u": {"$set": {"big": true}}, "multi": true},
                              {"q": {"_id": 9}, "u": {"$set": {"n": 9}}, "upsert": true}]},
  {"delete": "k", "deletes": [{"q": {"_id": 1}, "limit": 1}]},
  {"findAndModify": "k", "query": {"_id": 2}, "update": {"$inc": {"n": 1}}}
]'
	expect_status 0 up --format json
	check_json '
m = [x for x in r["migrations"] if x.get("backend") == "mongodb"][0]
c = m["commands"]
assert [x["command"] for x in c] == ["insert", "update", "delete", "findAndModify"], c
assert (c[0]["n"], c[1]["n"], c[1]["modified"], c[1]["upserted"], c[2]["n"], c[3]["n"]) == (2, 2, 1, 1, 1, 1), c
assert r["ok"] is True and m["state"] == "applied", r' <"$OUT"
	# a duplicate key is a write error, not a success
	mfile core/002_dup.up.json '[{"insert": "k", "documents": [{"_id": 2}]}]'
	expect_status 1 up
	assert_contains "$ERR" "element 0, 'insert' on 'k', failed: write error at its item 0"
	assert_contains "$ERR" "(code 11000)"
	# a command the server refuses (ok: 0)
	expect_status 0 resolve --module core --version 2 --rolled-back
	mfile core/002_dup.up.json '[{"renameCollection": "nope", "to": "other"}]'
	expect_status 1 up
	assert_contains "$ERR" "element 0, 'renameCollection' on 'nope', failed"
	assert_contains "$ERR" "(code 26)"
}

# A replica set for the transaction tests: MIGRATE_TEST_MONGO_URI when it is one, else a
# replica-set stand-in of the test's own (stopped when the test ends). Sets URI, rewrites
# config.yaml.
use_replica_set() {
	if ! replica_set; then
		standin || fail "MIGRATE_TEST_MONGO_URI is a standalone mongod: transactions need a replica set"
		MIGRATE_STANDIN_REPLSET=rs0 "$src/scripts/mongo-standin.sh" start "$SCRATCH/rs" >"$SCRATCH/rs.env" ||
			fail "cannot start a replica-set stand-in"
		trap '"$src/scripts/mongo-standin.sh" stop "$SCRATCH/rs"' EXIT
		URI="mongodb://127.0.0.1:$(cat "$SCRATCH/rs/port")/?serverSelectionTimeoutMS=3000"
		replica_set || fail "the replica-set stand-in does not say so"
	fi
	sed -i "s|^  uri: .*|  uri: \"$URI\"|" config.yaml
}

# A standalone server for the refusal test: MIGRATE_TEST_MONGO_URI when it is one, else a
# standalone stand-in of the test's own.
use_standalone() {
	if replica_set; then
		"$src/scripts/mongo-standin.sh" start "$SCRATCH/sa" >"$SCRATCH/sa.env" || fail "cannot start a stand-in"
		trap '"$src/scripts/mongo-standin.sh" stop "$SCRATCH/sa"' EXIT
		URI="mongodb://127.0.0.1:$(cat "$SCRATCH/sa/port")/?serverSelectionTimeoutMS=3000"
	fi
	sed -i "s|^  uri: .*|  uri: \"$URI\"|" config.yaml
}

# {"transaction": true}: commands and ledger write commit together; a failing command
# aborts it and leaves nothing (no document, no ledger record, not dirty)
test_transaction_commits_or_leaves_nothing() {
	setup
	use_replica_set
	mfile core/001_accounts.up.json '{"transaction": true, "commands": [
  {"insert": "acct", "documents": [{"_id": 1, "bal": 10}, {"_id": 2, "bal": "7"}]},
  {"update": "acct", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"bal": 5}}}]}]}'
	expect_status 0 up
	assert_eq "$(ledger_docs)" "core/1 clean" "ledger"
	find_docs acct | check_json 'assert [d["bal"] for d in r] == [15, "7"], r'
	mfile core/002_move.up.json '{"transaction": true, "commands": [
  {"insert": "acct", "documents": [{"_id": 3, "bal": 1}]},
  {"update": "acct", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"bal": -5}}}]},
  {"update": "acct", "updates": [{"q": {"_id": 2}, "u": {"$inc": {"bal": 5}}}]}]}'
	expect_status 1 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "element 2, 'update' on 'acct', failed"
	assert_contains "$ERR" "(code 14)"
	assert_contains "$ERR" "002_move.up.json:4)"
	find_docs acct | check_json 'assert [(d["_id"], d["bal"]) for d in r] == [(1, 15), (2, "7")], r'
	assert_eq "$(ledger_docs)" "core/1 clean" "ledger after the abort"
	expect_status 0 status
	grep -qE '^core +1 +2 +1 +pending' "$OUT" || fail "status: $(cat "$OUT")"
	# the down file of a transaction runs in one too
	mfile core/002_move.up.json '{"transaction": true, "commands": [{"insert": "acct", "documents": [{"_id": 3, "bal": 1}]}]}'
	mfile core/002_move.down.json '{"transaction": true, "commands": [{"delete": "acct", "deletes": [{"q": {"_id": 3}, "limit": 1}]}]}'
	expect_status 0 up
	expect_status 0 down --module core
	assert_eq "$(ledger_docs)" "core/1 clean" "ledger after down"
	find_docs acct | check_json 'assert [d["_id"] for d in r] == [1, 2], r'
}

# A transaction file on a standalone server is refused before anything runs, naming it
test_transaction_refused_on_standalone() {
	setup
	use_standalone
	printf 'CREATE TABLE before_tx (id int);\n' >migrations/postgres/core/001_sql.up.sql
	mfile core/001_plain.up.json '[{"insert": "s", "documents": [{"_id": 1}]}]'
	mfile core/002_tx.up.json '{"transaction": true, "commands": [{"insert": "s", "documents": [{"_id": 2}]}]}'
	expect_status 2 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "runs them only on a replica set or a sharded cluster"
	assert_contains "$ERR" "(migrations/mongodb/core/002_tx.up.json)"
	has_table before_tx && fail "the SQL file ran"
	assert_eq "$(find_docs s)" "[]" "a MongoDB file ran"
	assert_eq "$(find_docs schema_migrations_lock)" "[]" "the lock was kept"
}

# mongodb.write_concern reaches the lock and ledger writes, and a file's own writeConcern
# its command: an unsatisfiable one is refused by a standalone server (code 2) and comes
# back as a writeConcernError from a replica set (code 100); either stops the run
test_write_concern_reaches_every_write() {
	setup '  write_concern: 2' 'modules:'
	mfile core/001_a.up.json '[{"insert": "wc", "documents": [{"_id": 1}]}]'
	use_standalone
	expect_status 1 up
	assert_contains "$ERR" "taking the lock on '$MDB' failed"
	assert_contains "$ERR" "(code 2)"
	assert_eq "$(find_docs wc)" "[]" "ran without its write concern"
	MDB="${MDB}_rs"
	sed -i -e 's/^  write_concern: 2/  write_concern: majority/' -e "s/^  database: .*/  database: $MDB/" config.yaml
	mfile core/001_a.up.json '[{"insert": "wc", "documents": [{"_id": 1}], "writeConcern": {"w": 50}}]'
	use_replica_set
	expect_status 1 up
	assert_one_line "$ERR"
	assert_contains "$ERR" "element 0, 'insert' on 'wc', failed: write concern error"
	assert_contains "$ERR" "(code 100)"
	assert_eq "$(ledger_docs)" "core/1 dirty" "ledger"
}

# max_time_ms and commit_quorum go with every command (createIndexes for the quorum),
# write_concern with every write and ledger write (what the stand-in received)
test_max_time_and_commit_quorum_are_sent() {
	setup '  max_time_ms: 5000' '  commit_quorum: majority' 'modules:'
	use_replica_set
	mfile core/001_ix.up.json '[{"createIndexes": "w", "indexes": [{"key": {"a": 1}, "name": "a_1"}]},
 {"update": "w", "updates": [{"q": {}, "u": {"$set": {"x": 1}}, "upsert": true}]}]'
	expect_status 0 up
	assert_eq "$(ledger_docs)" "core/1 clean" "ledger"
	mongo '{"listIndexes": "w"}' | check_json 'assert "a_1" in [i["name"] for i in r["cursor"]["firstBatch"]], r'
	if standin || [ -s "$SCRATCH/rs/port" ]; then
		mongo '{"standinLast": "createIndexes"}' | check_json '
c = r["command"]; assert c["createIndexes"] == "w" and c["maxTimeMS"] == 5000 and c["commitQuorum"] == "majority" and c["writeConcern"] == {"w": "majority"}, c'
		mongo '{"standinLast": "update"}' | check_json '
c = r["command"]; assert c["update"] == "schema_migrations" and c["writeConcern"] == {"w": "majority"}, c'
	fi
	printf 'mongodb:\n  uri: "%s"\n  database: x\n  write_concern: most\n' "$URI" >bad.yaml
	expect_status 2 status --config bad.yaml
	assert_contains "$ERR" "'mongodb.write_concern' must be majority or a number of members (bad.yaml:4)"
	printf 'mongodb:\n  uri: "%s"\n  database: x\n  max_time_ms: soon\n' "$URI" >bad.yaml
	expect_status 2 status --config bad.yaml
	assert_contains "$ERR" "'mongodb.max_time_ms' must be a number of milliseconds"
}

# Ten concurrent `up` runs apply each of 20 versions exactly once: every version
# increments a counter and appends its number, so a version run twice shows
test_ten_concurrent_ups_apply_each_version_once() {
	setup
	local i pids=()
	for i in $(seq -w 1 20); do
		mfile "core/0${i}_step.up.json" "[{\"update\": \"runs\", \"updates\": [{\"q\": {\"_id\": \"c\"}, \"u\": {\"\$inc\": {\"n\": 1}, \"\$push\": {\"seen\": $((10#$i))}}, \"upsert\": true}]}]"
	done
	for i in $(seq 10); do
		"$MIGRATE_BIN" up -q >"run$i.out" 2>"run$i.err" &
		pids+=($!)
	done
	for i in $(seq 10); do
		wait "${pids[$((i - 1))]}" || fail "run $i failed: $(cat "run$i.err")"
	done
	find_docs runs | check_json 'assert r[0]["n"] == 20 and r[0]["seen"] == list(range(1, 21)), r'
	assert_eq "$(ledger_docs | grep -c ' clean$')" "20" "ledger"
	assert_eq "$(find_docs schema_migrations_lock)" "[]" "lock released"
}

# A killed run's lease lapses by itself: the next run waits at most the lease, then
# takes it over; while it holds, a run with no wait is refused naming the holder; the
# TTL index is the backstop
test_killed_run_lock_lapses() {
	setup '  lock_lease: 2s' 'modules:'
	printf 'SELECT pg_sleep(60);\n' >migrations/postgres/core/001_slow.up.sql
	mfile core/001_m.up.json '[{"insert": "k", "documents": [{"_id": 1}]}]'
	"$MIGRATE_BIN" up -q >run.out 2>run.err &
	local pid=$! i
	for i in $(seq 200); do
		[ "$(find_docs schema_migrations_lock)" != "[]" ] && break
		sleep 0.1
	done
	find_docs schema_migrations_lock | check_json "d = r[0]; assert d['_id'] == 'lock' and ':$pid:' in d['owner'] and d['pid'] == $pid, r"
	# the lease is renewed on a timer (every third of 2 s) while the run lasts
	local first
	first=$(find_docs schema_migrations_lock | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["expiresAt"])')
	sleep 2
	find_docs schema_migrations_lock | check_json "assert r[0]['expiresAt'] > '$first', (r, '$first')"
	mongo '{"listIndexes": "schema_migrations_lock"}' | check_json '
ttl = [i for i in r["cursor"]["firstBatch"] if i["name"] == "expiresAt_1"]; assert ttl and ttl[0]["expireAfterSeconds"] == 0, r'
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
	sed 's/^  lock_wait: 30s/  lock_wait: 0/' config.yaml >nowait.yaml
	grep -q '^  lock_wait: 0$' nowait.yaml || fail "nowait.yaml"
	expect_status 4 up --config nowait.yaml
	assert_one_line "$ERR"
	assert_contains "$ERR" "another migrate run holds the MongoDB lock (held by "
	assert_contains "$ERR" ":$pid:"
	rm migrations/postgres/core/001_slow.up.sql
	local start=$SECONDS
	expect_status 0 up
	[ $((SECONDS - start)) -le 20 ] || fail "waited $((SECONDS - start)) s for a 2 s lease"
	assert_eq "$(ledger_docs)" "core/1 clean" "ledger"
	assert_eq "$(find_docs schema_migrations_lock)" "[]" "lock released"
}

# A run whose lease another run took stops before its next command, leaving the version
# dirty
test_lost_lease_stops_before_next_command() {
	setup '  lock_lease: 1s' 'modules:'
	/usr/bin/python3 -c '
import json
cmds = [{"insert": "many", "documents": [{"_id": i}]} for i in range(4000)]
open("migrations/mongodb/core/001_many.up.json", "w").write(json.dumps(cmds))'
	"$MIGRATE_BIN" up -q >run.out 2>run.err &
	local pid=$! i
	for i in $(seq 300); do
		[ "$(find_docs many '{"_id": 0}')" != "[]" ] && break
		sleep 0.05
	done
	mongo '{"update": "schema_migrations_lock", "updates": [{"q": {"_id": "lock"}, "u": {"$set": {"owner": "thief"}}}]}' >/dev/null
	local status=0
	wait "$pid" || status=$?
	assert_eq "$status" "1" "exit status"
	assert_contains run.err "lost the MongoDB migration lock: another run took its lease"
	mongo '{"count": "many"}' | check_json 'assert 0 < r["n"] < 4000, r'
	assert_eq "$(ledger_docs)" "core/1 dirty" "ledger"
}

# baseline --mongodb records versions without running them; verify compares every applied
# MongoDB file with its checksum and reports a dirty version
test_baseline_and_verify_cover_mongodb_versions() {
	setup
	backfill_tree
	expect_status 0 baseline --module core --version 1 --mongodb --dry-run
	assert_contains "$OUT" "would record mongodb core/1_seed_users"
	assert_eq "$(ledger_docs | wc -l)" "0" "dry run recorded"
	expect_status 0 baseline --module core --version 1 --mongodb
	assert_contains "$OUT" "recorded mongodb core/1_seed_users"
	assert_eq "$(ledger_docs)" "core/1 clean" "baseline"
	assert_eq "$(find_docs users)" "[]" "baseline ran the file"
	expect_status 0 up
	assert_contains "$OUT" "mongodb core/002_backfill_status: update n=0 modified=0"
	expect_status 0 verify
	assert_contains "$OUT" "verify: ok (2 applied migrations checked"
	printf '\n' >>migrations/mongodb/core/001_seed_users.up.json
	expect_status 3 verify
	assert_contains "$OUT" "changed  mongodb core/1: 'migrations/mongodb/core/001_seed_users.up.json' differs from the file that ran"
	expect_status 3 verify --format json
	check_json 'p = r["mongodb_versions"]["problems"]; assert r["ok"] is False and r["mongodb_versions"]["checked"] == 2 and [(x["module"], x["version"], x["problem"]) for x in p] == [("core", 1, "changed")], r' <"$OUT"
	mongo '{"update": "schema_migrations", "updates": [{"q": {"_id": "core/2"}, "u": {"$set": {"dirty": true}}}]}' >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "dirty    mongodb core/2"
}

# up converges indexes.json after the versioned files (as seed does, under the lease):
# what it creates is printed, a re-run creates nothing, a conflict fails the run (exit 3)
test_up_converges_indexes_after_the_versions() {
	setup
	mfile core/indexes.json '{"collections": [{"name": "users", "indexes": [{"keys": {"email": 1}, "options": {"unique": true, "name": "email_unique"}}]}]}'
	mfile core/001_users.up.json '[{"insert": "users", "documents": [{"_id": 1, "email": "a@x"}, {"_id": 2, "email": "b@x"}]}]'
	expect_status 0 up
	grep -q 'applied mongodb core/001_users' "$OUT" && grep -q 'created mongodb core: index users.email_unique' "$OUT" || fail "$(cat "$OUT")"
	[ "$(grep -n 'applied mongodb' "$OUT" | cut -d: -f1)" -lt "$(grep -n 'created mongodb' "$OUT" | cut -d: -f1)" ] || fail "order: $(cat "$OUT")"
	mongo '{"listIndexes": "users"}' | check_json 'assert "email_unique" in [i["name"] for i in r["cursor"]["firstBatch"]], r'
	expect_status 0 up
	assert_contains "$OUT" "nothing to apply"
	expect_status 0 up --format json
	check_json 'm = r["mongodb"]; assert m["present"] == 2 and m["created"] == 0 and r["ok"] is True, r' <"$OUT"
	mfile core/indexes.json '{"collections": [{"name": "users", "indexes": [{"keys": {"email": -1}, "options": {"name": "email_unique"}}]}]}'
	expect_status 3 up
	assert_contains "$OUT" "conflict mongodb core: index users.email_unique"
	assert_contains "$ERR" "1 conflicting index left alone"
}

# up goes module by module in plan order: a module's SQL versions, then its MongoDB
# versions, then its indexes.json, then the next module's
test_up_goes_module_by_module() {
	setup 'modules:' '  shop: { requires: [core] }'
	mkdir -p migrations/postgres/shop
	printf 'CREATE TABLE c1 (id int);\n' >migrations/postgres/core/001_c1.up.sql
	printf 'CREATE TABLE s1 (id int);\n' >migrations/postgres/shop/001_s1.up.sql
	mfile core/001_cm.up.json '[{"insert": "cm", "documents": [{"_id": 1}]}]'
	mfile core/indexes.json '{"collections": [{"name": "cm", "indexes": [{"keys": {"a": 1}}]}]}'
	mfile shop/001_sm.up.json '[{"insert": "sm", "documents": [{"_id": 1}]}]'
	mfile shop/indexes.json '{"collections": [{"name": "sm", "indexes": [{"keys": {"b": 1}}]}]}'
	expect_status 0 up
	assert_eq "$(grep -oE '^(applied( mongodb)? [a-z]+/[0-9]+_[a-z0-9]+|created mongodb [a-z]+: index [a-z_.0-9]+)' "$OUT" | tr '\n' '|')" \
		"applied core/001_c1|applied mongodb core/001_cm|created mongodb core: index cm.a_1|applied shop/001_s1|applied mongodb shop/001_sm|created mongodb shop: index sm.b_1|" "order"
	expect_status 0 up --format json
	check_json 'assert r["ok"] is True and r["mongodb"]["present"] == 4 and r["migrations"] == [], r' <"$OUT"
}

# resolve of a version the SQL side knows asks nothing of MongoDB (which may be down)
test_resolve_of_a_sql_version_needs_no_mongodb() {
	setup
	printf 'CREATE TABLE r1 (id int);\n' >migrations/postgres/core/001_r1.up.sql
	mfile core/002_m.up.json '[{"insert": "m", "documents": [{"_id": 1}]}]'
	sed -i 's|^  uri: .*|  uri: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"|' config.yaml
	expect_status 0 resolve --module core --version 1 --applied
	assert_contains "$OUT" "resolved core/1 as applied"
	assert_eq "$(ledger)" "core/1" "SQL ledger"
	expect_status 1 resolve --module core --version 2 --applied
	assert_contains "$ERR" "cannot reach MongoDB"
}

# A fleet (targets: kind database): up applies the versioned MongoDB files on each
# target's mongodb_database after its SQL, status counts what is pending there, verify
# checks the files' checksums there
test_fleet_targets_migrate_their_mongodb_database() {
	setup
	printf 'CREATE TABLE f1 (id int);\n' >migrations/postgres/core/001_f1.up.sql
	mfile core/001_fm.up.json '[{"update": "fm", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}, "upsert": true}]}]'
	local t
	for t in a b; do
		pg_admin -d postgres -c "CREATE DATABASE ${DB}_$t OWNER app" >/dev/null
	done
	cat >>config.yaml <<YAML
targets:
  kind: database
  list:
    - { name: a, dsn: "postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/${DB}_a", mongodb_database: ${MDB}_a }
    - { name: b, dsn: "postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/${DB}_b", mongodb_database: ${MDB}_b }
YAML
	expect_status 3 status
	expect_status 0 up --parallel 2
	assert_contains "$OUT" "a: applied 2 (core/1, core/1)"
	assert_contains "$OUT" "b: applied 2 (core/1, core/1)"
	for t in a b; do
		MDB="${MDB%_[ab]}_$t"
		assert_eq "$(ledger_docs)" "core/1 clean" "ledger of $t"
		find_docs fm | check_json 'assert r == [{"_id": 1, "n": 1}], r'
	done
	MDB="${MDB%_[ab]}"
	assert_eq "$(find_docs fm)" "[]" "the config's own database was migrated"
	expect_status 0 up
	expect_status 0 status
	expect_status 0 verify
	printf '\n' >>migrations/mongodb/core/001_fm.up.json
	expect_status 3 verify
}

# fleet_targets: two targets a and b (kind database), each with its PostgreSQL database
# ${DB}_a / ${DB}_b and its mongodb_database ${MDB}_a / ${MDB}_b
fleet_targets() {
	local t
	for t in a b; do
		pg_admin -d postgres -c "CREATE DATABASE ${DB}_$t OWNER app" >/dev/null
	done
	cat >>config.yaml <<YAML
targets:
  kind: database
  list:
    - { name: a, dsn: "postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/${DB}_a", mongodb_database: ${MDB}_a }
    - { name: b, dsn: "postgres://app:$PG_PASSWORD@127.0.0.1:$MIGRATE_PG_PORT/${DB}_b", mongodb_database: ${MDB}_b }
YAML
}

# on_target T CMD...: runs CMD (ledger, ledger_docs, find_docs...) against target T's
# databases
on_target() {
	local t=$1
	shift
	DB="${DB}_$t" MDB="${MDB}_$t" "$@"
}

# both_ledgers T: target T's SQL and MongoDB ledgers on one line, "sql: ... mongo: ..."
both_ledgers() {
	echo "sql: $(on_target "$1" ledger | tr '\n' ' ')mongo: $(on_target "$1" ledger_docs | tr '\n' ' ')"
}

# A fleet's down rolls back each target's MongoDB versions in its mongodb_database, not
# only its SQL ones: the newest of either backend first, as on one database (--steps and
# --to alike)
test_fleet_down_rolls_back_mongodb_versions() {
	setup
	alternating_tree
	fleet_targets
	expect_status 0 up --parallel 2
	local t
	for t in a b; do
		assert_eq "$(both_ledgers $t)" "sql: core/1 core/3 mongo: core/2 clean core/4 clean " "target $t after up"
	done
	expect_status 0 down --module core
	assert_contains "$OUT" "a: rolled back 1 (core/4)"
	assert_contains "$OUT" "b: rolled back 1 (core/4)"
	for t in a b; do
		assert_eq "$(both_ledgers $t)" "sql: core/1 core/3 mongo: core/2 clean " "target $t after down"
		on_target $t find_docs m | check_json 'assert r == [{"_id": 2}], r'
	done
	expect_status 0 down --module core --steps 2 --parallel 2
	for t in a b; do
		assert_eq "$(both_ledgers $t)" "sql: core/1 mongo: " "target $t after down --steps 2"
		on_target $t find_docs m | check_json 'assert r == [], r'
	done
	expect_status 0 up
	expect_status 0 down --module core --to 1
	assert_contains "$OUT" "a: rolled back 3 (core/4, core/3, core/2)"
	expect_status 2 down --module core --to 9
	assert_contains "$ERR" "module 'core' has no version 9"
	expect_status 0 down --module core --to 0 --target b
	assert_eq "$(both_ledgers a)" "sql: core/1 mongo: " "target a after down --to 0 on b"
	assert_eq "$(both_ledgers b)" "sql: mongo: " "target b after down --to 0"
}

# A fleet's up goes module by module on each target, as on one database: a module's SQL
# versions, then its MongoDB versions, then the next module's
test_fleet_up_goes_module_by_module() {
	setup 'modules:' '  shop: { requires: [core] }'
	mkdir -p migrations/postgres/shop
	printf 'CREATE TABLE c1 (id int);\n' >migrations/postgres/core/001_c1.up.sql
	printf 'CREATE TABLE s1 (id int);\n' >migrations/postgres/shop/001_s1.up.sql
	mfile core/002_cm.up.json '[{"insert": "cm", "documents": [{"_id": 1}]}]'
	mfile shop/002_sm.up.json '[{"insert": "sm", "documents": [{"_id": 1}]}]'
	fleet_targets
	expect_status 0 up --parallel 2
	assert_contains "$OUT" "a: applied 4 (core/1, core/2, shop/1, shop/2)"
	assert_contains "$OUT" "b: applied 4 (core/1, core/2, shop/1, shop/2)"
	local t
	for t in a b; do
		assert_eq "$(both_ledgers $t)" "sql: core/1 shop/1 mongo: core/2 clean shop/2 clean " "target $t"
	done
}

# A fleet's up passes --phase on (to the SQL and the MongoDB files of every target) and
# --to V limits the MongoDB versions too
test_fleet_up_passes_phase_and_to() {
	setup
	printf 'CREATE TABLE e1 (id int);\n' >migrations/postgres/core/001_e1.up.sql
	printf -- '-- migrate:phase contract\nDROP TABLE e1;\n' >migrations/postgres/core/003_c3.up.sql
	mfile core/002_m2.up.json '[{"insert": "m", "documents": [{"_id": 2}]}]'
	mfile core/004_m4.up.json '{"phase": "contract", "commands": [{"delete": "m", "deletes": [{"q": {}, "limit": 0}]}]}'
	mfile core/005_m5.up.json '[{"insert": "m", "documents": [{"_id": 5}]}]'
	fleet_targets
	expect_status 0 up --phase expand --parallel 2
	local t
	for t in a b; do
		assert_eq "$(both_ledgers $t)" "sql: core/1 mongo: core/2 clean " "target $t after --phase expand"
	done
	expect_status 0 up --module core --to 3
	for t in a b; do
		assert_eq "$(both_ledgers $t)" "sql: core/1 core/3 mongo: core/2 clean " "target $t after --to 3"
	done
	expect_status 0 up --phase contract
	for t in a b; do
		assert_eq "$(both_ledgers $t)" "sql: core/1 core/3 mongo: core/2 clean core/4 clean core/5 clean " "target $t after --phase contract"
		on_target $t find_docs m | check_json 'assert r == [{"_id": 5}], r'
	done
}

run_tests
