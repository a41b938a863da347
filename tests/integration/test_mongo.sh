#!/usr/bin/env bash
# Integration tests of `seed`, `status` and `verify` for MongoDB through the real binary,
# against MIGRATE_TEST_MONGO_URI: the wire-protocol stand-in that tests/run.sh starts, or
# a real mongod. Each test uses its own database.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/mongo.sh"

new_mongo_db() {
	MDB="t_$(basename "$SCRATCH" | tr -c 'a-zA-Z0-9\n' '_')"
	printf 'mongodb:\n  uri: "%s"\n  database: %s\n' "$URI" "$MDB" >config.yaml
	printf '%s\n' "$@" >>config.yaml
}

index_file() { # MODULE JSON
	mkdir -p "migrations/mongodb/$1"
	printf '%s\n' "$2" >"migrations/mongodb/$1/indexes.json"
}

example() {
	cp -r "$MIGRATE_SOURCE_ROOT/migrations" .
}

test_seed_creates_collections_and_indexes_with_order_and_options() {
	new_mongo_db 'modules:' '  catalog: {}'
	example
	expect_status 0 seed
	assert_contains "$OUT" "created catalog: collection products"
	assert_contains "$OUT" "created catalog: index products.sku_unique"
	assert_contains "$OUT" "created core: index sessions.user_id_1_created_at_-1"
	assert_contains "$OUT" "seed: 10 created, 0 already present, 0 conflicts"
	mongo '{"listIndexes": "products"}' | check_json '
ix = {i["name"]: i for i in r["cursor"]["firstBatch"]}
assert list(ix["category_date"]["key"].items()) == [["category_id", 1], ["created_at", -1]] or list(ix["category_date"]["key"].items()) == [("category_id", 1), ("created_at", -1)], ix["category_date"]
assert ix["sku_unique"]["unique"] is True
assert ix["discontinued"]["partialFilterExpression"] == {"discontinued_at": {"$exists": True}}
assert "title_search" in ix'
	mongo '{"listIndexes": "sessions"}' | check_json '
ix = {i["name"]: i for i in r["cursor"]["firstBatch"]}
assert ix["sessions_ttl"]["expireAfterSeconds"] == 0
assert list(ix["user_id_1_created_at_-1"]["key"]) == ["user_id", "created_at"]'
}

test_rerun_changes_nothing() {
	new_mongo_db 'modules:' '  catalog: {}'
	example
	expect_status 0 seed
	local before after
	before=$(mongo '{"listIndexes": "products"}')
	expect_status 0 seed
	assert_contains "$OUT" "seed: 0 created, 10 already present, 0 conflicts"
	after=$(mongo '{"listIndexes": "products"}')
	assert_eq "$after" "$before" "indexes after re-run"
}

# The stand-in counts the writes it is sent; a real mongod shared by several suites has
# no per-database count to read, so there this test is a (listed) skip.
test_rerun_sends_no_writes() {
	standin || skip "needs the MongoDB stand-in (write counts come from its standinStats)"
	new_mongo_db 'modules:' '  catalog: {}'
	example
	expect_status 0 seed
	local writes_before writes_after
	writes_before=$(mongo '{"standinStats": 1}' | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["writes"])')
	[ -n "$writes_before" ] && [ "$writes_before" -gt 0 ] || fail "the first seed counted no writes ($writes_before)"
	expect_status 0 seed
	writes_after=$(mongo '{"standinStats": 1}' | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["writes"])')
	assert_eq "$writes_after" "$writes_before" "writes sent by a re-run"
}

test_disabled_module_is_not_seeded() {
	new_mongo_db 'modules:' '  catalog: { enabled: false }'
	example
	expect_status 0 seed
	assert_not_contains "$OUT" "catalog"
	mongo '{"listCollections": 1, "nameOnly": true}' | check_json '
names = sorted(c["name"] for c in r["cursor"]["firstBatch"])
assert names == ["audit_log", "sessions"], names'
}

test_conflicting_index_is_left_alone_and_the_rest_seeded() {
	new_mongo_db
	index_file core '{"collections": [{"name": "items", "indexes": [
  {"keys": {"sku": 1}, "options": {"name": "sku_idx", "unique": true}},
  {"keys": {"title": 1}, "options": {"name": "title_idx"}}]},
 {"name": "other", "indexes": [{"keys": {"a": 1}}]}]}'
	mongo '{"createIndexes": "items", "indexes": [{"key": {"sku": -1}, "name": "sku_idx"}]}' >/dev/null
	expect_status 3 seed
	assert_contains "$OUT" "conflict core: index items.sku_idx"
	assert_contains "$OUT" "created core: index items.title_idx"
	assert_contains "$OUT" "created core: index other.a_1"
	assert_contains "$ERR" "1 conflicting index left alone"
	assert_one_line "$ERR"
	mongo '{"listIndexes": "items"}' | check_json '
ix = {i["name"]: i for i in r["cursor"]["firstBatch"]}
assert ix["sku_idx"]["key"] == {"sku": -1}, ix
assert "unique" not in ix["sku_idx"]
assert "title_idx" in ix'
	expect_status 3 verify
	assert_contains "$OUT" "differs  mongodb core: index items.sku_idx"
}

test_verify_catches_a_dropped_index_and_collection() {
	new_mongo_db 'modules:' '  catalog: {}'
	example
	expect_status 0 seed
	expect_status 0 verify
	assert_contains "$OUT" "verify: ok"
	mongo '{"dropIndexes": "products", "index": "sku_unique"}' >/dev/null
	mongo '{"drop": "audit_log"}' >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "missing  mongodb catalog: index products.sku_unique"
	assert_contains "$OUT" "missing  mongodb core: collection audit_log"
	assert_contains "$ERR" "verify found"
	expect_status 0 status
	assert_contains "$OUT" "missing  catalog: products.sku_unique"
	expect_status 3 verify --format json
	/usr/bin/python3 - "$OUT" <<'PY' || fail "verify json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False
missing = [(i["module"], i["collection"], i["index"]) for i in d["mongodb"]["items"] if i["state"] == "missing"]
assert ("catalog", "products", "sku_unique") in missing, missing
PY
}

test_dry_run_changes_nothing() {
	new_mongo_db
	example
	expect_status 0 seed --dry-run
	assert_contains "$OUT" "would create core: collection sessions"
	assert_contains "$OUT" "seed: 5 to create"
	mongo '{"listCollections": 1}' | check_json 'assert r["cursor"]["firstBatch"] == [], r'
}

test_unreachable_server_fails_fast_without_password() {
	example
	printf 'mongodb:\n  uri: "mongodb://seeder:Secr3t-Mongo-PW@127.0.0.1:1/?serverSelectionTimeoutMS=500"\n  database: app\n' >config.yaml
	local start end
	start=$(date +%s)
	expect_status 1 seed
	end=$(date +%s)
	[ $((end - start)) -le 5 ] || fail "took $((end - start)) s"
	assert_one_line "$ERR"
	assert_not_contains "$ERR" "Secr3t-Mongo-PW"
	assert_not_contains "$OUT" "Secr3t-Mongo-PW"
}

# seed --prune: a dropIndexes the server refuses is reported with the server's message, and
# that message is scrubbed of the URI's passwords as every other one is (a server may quote
# what it was sent). The stand-in is told the refusal's words; a real mongod's failCommand
# fail point cannot choose them, so there this test is a (listed) skip.
test_prune_refusal_detail_hides_the_password() {
	standin || skip "needs the MongoDB stand-in (a real mongod cannot be made to word a refusal)"
	new_mongo_db
	sed -i "s|^  uri: \"\(.*\)\"|  uri: \"\1\&password=Pr4ne-S3cret\"|" config.yaml
	grep -q 'password=Pr4ne-S3cret' config.yaml || fail "config: $(cat config.yaml)"
	index_file core '{"collections": [{"name": "c", "indexes": [{"keys": {"a": 1}}]}]}'
	mongo '{"createIndexes": "c", "indexes": [{"key": {"y": 1}, "name": "old_y"}]}' >/dev/null
	mongo '{"standinFailNext": "dropIndexes", "code": 13, "errmsg": "not authorized for password=Pr4ne-S3cret"}' >/dev/null
	expect_status 1 seed --prune
	assert_contains "$OUT" "failed core: index c.old_y: dropIndexes failed: not authorized for password=*** (code 13)"
	assert_not_contains "$OUT" "Pr4ne-S3cret"
	assert_not_contains "$ERR" "Pr4ne-S3cret"
	mongo '{"listIndexes": "c"}' | check_json 'assert "old_y" in [i["name"] for i in r["cursor"]["firstBatch"]], r'
}

test_seed_needs_a_mongodb_section() {
	example
	printf 'postgres:\n  dsn: ""\n' >config.yaml
	expect_status 2 seed
	assert_contains "$ERR" "needs a 'mongodb:' section"
}

test_bad_indexes_json_is_exit_2_before_connecting() {
	printf 'mongodb:\n  uri: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"\n  database: app\n' >config.yaml
	index_file core '{"collections": [
  {"name": "a", "indexes": [{"keys": {"x": 1}, "options": {"colour": "red"}}]}]}'
	expect_status 2 seed
	assert_contains "$ERR" "colour"
	assert_contains "$ERR" "migrations/mongodb/core/indexes.json:2"
	index_file core '{"collections": [ {"name": "a",, }]}'
	expect_status 2 seed
	assert_contains "$ERR" "migrations/mongodb/core/indexes.json:1:"
	mkdir -p migrations/mongodb/Bad
	expect_status 2 verify
	assert_contains "$ERR" "bad module directory name"
}

test_status_and_verify_cover_only_configured_backends() {
	new_mongo_db
	example
	expect_status 0 status
	assert_contains "$OUT" "MONGODB"
	assert_not_contains "$OUT" "APPLIED"
	expect_status 3 verify
	assert_contains "$OUT" "missing  mongodb core: collection sessions"
}

test_up_dry_run_shows_both_backends() {
	new_mongo_db
	example
	# the throwaway PostgreSQL of tests/run.sh; a dry run only reads its ledger
	: "${MIGRATE_PG_PORT:?this test needs the PostgreSQL that tests/run.sh starts}"
	printf 'postgres:\n  dsn: "postgres://app:%s@127.0.0.1:%s/app"\n' \
		"${MIGRATE_PG_PASSWORD:-s3cret-Pa55}" "$MIGRATE_PG_PORT" >>config.yaml
	expect_status 0 up --dry-run
	assert_contains "$OUT" "would create mongodb core: collection sessions"
	assert_contains "$OUT" "would create mongodb core: index sessions.sessions_ttl"
	expect_status 0 up --dry-run --format json
	/usr/bin/python3 - "$OUT" <<'PY' || fail "json plan"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dry_run"] is True and d["direction"] == "up"
items = [(i["collection"], i["index"], i["state"]) for i in d["mongodb"]["items"]]
assert ("sessions", None, "missing") in items, items
PY
	mongo '{"listCollections": 1}' | check_json 'assert r["cursor"]["firstBatch"] == [], r'
}

run_tests
