#!/usr/bin/env bash
# Integration tests of issue 16 ("MongoDB as a real mongod 5.0-8.0 behaves") through the
# real binary, against MIGRATE_TEST_MONGO_URI: the stand-in (tests/run.sh starts it once per
# imitated mongod version) or a real mongod. Each test uses its own database; each names the
# finding it covers.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/mongo.sh"

new_mongo_db() {
	MDB="t_$(basename "$SCRATCH" | tr -c 'a-zA-Z0-9\n' '_')"
	printf 'mongodb:\n  uri: "%s"\n  database: %s\nmodules:\n  m: {}\n' "$URI" "$MDB" >config.yaml
}

spec() { # JSON: the indexes.json of module m
	mkdir -p migrations/mongodb/m
	printf '%s\n' "$1" >migrations/mongodb/m/indexes.json
}

converges() { # seed twice (the second creates nothing), then verify exits 0
	expect_status 0 seed
	expect_status 0 seed
	assert_contains "$OUT" "seed: 0 created"
	assert_not_contains "$OUT" "created m:"
	expect_status 0 verify
	assert_contains "$OUT" "verify: ok"
}

# Every index kind of the issue converges: seed, seed again creates nothing, verify passes.
test_every_index_kind_converges() {
	new_mongo_db
	spec '{"collections": [{"name": "k", "indexes": [
	 {"keys": {"a": 1}}, {"keys": {"b": -1}}, {"keys": {"c": 1, "d": -1}},
	 {"keys": {"u": 1}, "options": {"unique": true}},
	 {"keys": {"s": 1}, "options": {"sparse": true}},
	 {"keys": {"h": 1}, "options": {"hidden": true}},
	 {"keys": {"ttl": 1}, "options": {"expireAfterSeconds": 3600}},
	 {"keys": {"p": 1}, "options": {"partialFilterExpression": {"$and": [{"qty": {"$gt": 0}}, {"status": "active"}]}}},
	 {"keys": {"en": 1}, "options": {"collation": {"locale": "en", "strength": 2}}},
	 {"keys": {"fr": 1}, "options": {"collation": {"locale": "fr_CA"}}},
	 {"keys": {"de": 1}, "options": {"collation": {"locale": "de@collation=phonebook"}}},
	 {"keys": {"sim": 1}, "options": {"collation": {"locale": "simple"}}},
	 {"keys": {"title": "text", "body": "text"}, "options": {"weights": {"title": 10}, "default_language": "french", "language_override": "lang"}},
	 {"keys": {"loc": "2dsphere"}},
	 {"keys": {"uid": "hashed"}}]},
	 {"name": "w", "indexes": [{"keys": {"$**": "text"}}]}]}'
	converges
}

# Finding 1: on a collection created (by someone else) with a default collation, the indexes
# seed creates inherit it, and the next seed and verify see no conflict.
test_default_collation_is_inherited() {
	new_mongo_db
	mongo '{"create": "c", "collation": {"locale": "fr", "strength": 1}}' >/dev/null
	spec '{"collections": [{"name": "c", "indexes": [{"keys": {"a": 1}}]}]}'
	converges
	mongo '{"listIndexes": "c"}' | check_json '
ix = {i["name"]: i for i in r["cursor"]["firstBatch"]}
assert ix["a_1"]["collation"]["locale"] == "fr", ix'
}

# The same when the spec declares the collection's collation itself.
test_declared_default_collation_converges() {
	new_mongo_db
	spec '{"collections": [{"name": "c", "options": {"collation": {"locale": "fr", "strength": 1}},
	  "indexes": [{"keys": {"a": 1}}, {"keys": {"b": 1}, "options": {"collation": {"locale": "simple"}}}]}]}'
	converges
	mongo '{"listIndexes": "c"}' | check_json '
ix = {i["name"]: i for i in r["cursor"]["firstBatch"]}
assert ix["a_1"]["collation"]["locale"] == "fr", ix
assert ix["a_1"]["collation"]["strength"] == 1, ix
assert "collation" not in ix["b_1"] or ix["b_1"]["collation"]["locale"] == "simple", ix'
}

# Finding 2: the collation is compared in full: strength 2 on the server is not {locale: "en"}.
test_collation_compared_in_full() {
	new_mongo_db
	mongo '{"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1", "collation": {"locale": "en", "strength": 2}}]}' >/dev/null
	spec '{"collections": [{"name": "c", "indexes": [{"keys": {"a": 1}, "options": {"collation": {"locale": "en"}}}]}]}'
	expect_status 3 verify
	assert_contains "$OUT" "differs  mongodb m: index c.a_1: collation"
}

# Finding 3: text weights are part of the spec and compared.
test_text_weights_compared() {
	new_mongo_db
	mongo '{"createIndexes": "c", "indexes": [{"key": {"t": "text"}, "name": "t_text", "weights": {"t": 3}}]}' >/dev/null
	spec '{"collections": [{"name": "c", "indexes": [{"keys": {"t": "text"}}]}]}'
	expect_status 3 verify
	assert_contains "$OUT" "weights"
	spec '{"collections": [{"name": "c", "indexes": [{"keys": {"t": "text"}, "options": {"weights": {"t": 3}}}]}]}'
	expect_status 0 verify
}

# Finding 4: what mongod refuses fails at parse time with file:line, exit 2, nothing sent.
test_mongod_rules_fail_before_connecting() {
	new_mongo_db
	local bad
	for bad in \
		'{"keys": {"a": 1, "b": 1}, "options": {"expireAfterSeconds": 5}}|TTL only on a single-field' \
		'{"keys": {"a": 1}, "options": {"sparse": true, "partialFilterExpression": {"a": 1}}}|both' \
		'{"keys": {"t": "text"}, "options": {"collation": {"locale": "en"}}}|collation' \
		'{"keys": {"t": "text", "l": "2dsphere"}}|mixes index types' \
		'{"keys": {"t": "text", "x": 1, "u": "text"}}|next to each other' \
		'{"keys": {"h": "hashed"}, "options": {"unique": true}}|hashed index cannot be unique' \
		'{"keys": {"a": 1}, "options": {"partialFilterExpression": {"a": {"$ne": 1}}}}|$ne' \
		'{"keys": {"a": 1}, "options": {"collation": {"locale": "en-US"}}}|unknown locale' \
		'{"keys": {"a": 1}, "options": {"collation": {"locale": "en", "strength": 6}}}|bad value 6' \
		'{"keys": {"a": 1}, "options": {"collation": {"locale": "en", "colour": 1}}}|unknown field' \
		'{"keys": {"a": 1}, "options": {"collation": {"locale": "fr", "strength": 1, "backwards": true}}}|backwards' \
		'{"keys": {"a": 1}, "options": {"name": "*"}}|not allowed' \
		'{"keys": {"a": 1}, "options": {"name": "_id_"}}|reserved'; do
		spec "{\"collections\": [{\"name\": \"c\", \"indexes\": [
 ${bad%%|*}]}]}"
		expect_status 2 seed
		assert_contains "$ERR" "${bad#*|}"
		assert_contains "$ERR" "indexes.json:2)"
		assert_one_line "$ERR"
	done
	spec '{"collections": [{"name": "c", "indexes": [{"keys": {"a": "text"}},
	 {"keys": {"b": "text"}}]}]}'
	expect_status 2 seed
	assert_contains "$ERR" "second text index"
	mongo '{"listCollections": 1}' | check_json 'assert r["cursor"]["firstBatch"] == [], r'
}

# Finding 5: a refused index (duplicate keys under a new unique index) is reported with the
# server's code; the others and the later collections are still created; exit 1 naming it.
test_refused_index_is_reported_and_the_rest_created() {
	new_mongo_db
	mongo '{"insert": "c", "documents": [{"a": 1}, {"a": 1}]}' >/dev/null
	spec '{"collections": [{"name": "c", "indexes": [{"keys": {"a": 1}, "options": {"unique": true}}, {"keys": {"b": 1}}]},
	 {"name": "later", "indexes": [{"keys": {"x": 1}}]}]}'
	expect_status 1 seed
	assert_contains "$OUT" "failed m: index c.a_1: "
	assert_contains "$OUT" "(code 11000)"
	assert_contains "$OUT" "created m: index c.b_1"
	assert_contains "$OUT" "created m: index later.x_1"
	assert_contains "$ERR" "1 item not created or changed: c.a_1"
	assert_one_line "$ERR"
}

# Finding 6: a build still in progress is `building`, and verify does not pass early
# (the stand-in marks one; a real mongod cannot be made to hold a build open here).
test_build_in_progress_is_building() {
	new_mongo_db
	standin || skip "needs the MongoDB stand-in (a real mongod cannot be made to hold an index build open)"
	spec '{"collections": [{"name": "c", "indexes": [{"keys": {"a": 1}}]}]}'
	expect_status 0 seed
	mongo '{"standinBuilding": "c", "index": "a_1"}' >/dev/null
	expect_status 3 verify
	assert_contains "$OUT" "building mongodb m: index c.a_1"
	expect_status 0 status
	assert_contains "$OUT" "building m: index c.a_1"
}

# Finding 7: a view named as a collection is a clear error naming it.
test_view_is_named() {
	new_mongo_db
	mongo '{"create": "base"}' >/dev/null
	mongo '{"create": "v", "viewOn": "base", "pipeline": []}' >/dev/null
	spec '{"collections": [{"name": "v", "indexes": [{"keys": {"a": 1}}]}]}'
	expect_status 1 seed
	assert_contains "$OUT" "is a view, not a collection"
	assert_contains "$OUT" ".v'"
}

# Finding 7: a time-series collection is created from its options and its indexes converge;
# a difference in a creation-only option is a conflict, not a change.
test_time_series_collection() {
	new_mongo_db
	spec '{"collections": [{"name": "ts", "options": {"timeseries": {"timeField": "at", "metaField": "meta", "granularity": "minutes"}},
	  "indexes": [{"keys": {"meta": 1, "at": -1}}]}]}'
	converges
	mongo '{"listCollections": 1}' | check_json '
c = r["cursor"]["firstBatch"]
ts = [x for x in c if x["name"] == "ts"][0]
assert ts["type"] == "timeseries" and ts["options"]["timeseries"]["timeField"] == "at", ts'
	spec '{"collections": [{"name": "ts", "options": {"timeseries": {"timeField": "when"}}}]}'
	expect_status 3 verify
	assert_contains "$OUT" "timeseries differs"
}

# A text index on a collection with a default collation needs {locale: "simple"} (mongod
# refuses to copy the default into it); declared so, it converges.
test_text_index_on_collection_with_collation() {
	new_mongo_db
	spec '{"collections": [{"name": "c", "options": {"collation": {"locale": "en"}},
	  "indexes": [{"keys": {"t": "text"}, "options": {"collation": {"locale": "simple"}}}]}]}'
	converges
}

# Finding 8: a listener that accepts but never answers fails within serverSelectionTimeoutMS
# (not libmongoc's 10 s connectTimeoutMS); so does a closed port. The bound is 8 s, well
# under those 10 s, so a loaded machine or a sanitizer build does not make it flaky.
test_unanswering_listener_fails_within_selection_timeout() {
	local port start end
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(0)
time.sleep(30)' "$port" &
	local pid=$!
	sleep 0.3
	MDB=t_hang
	printf 'mongodb:\n  uri: "mongodb://127.0.0.1:%s/?serverSelectionTimeoutMS=1000"\n  database: x\nmodules:\n  m: {}\n' "$port" >config.yaml
	spec '{"collections": [{"name": "c"}]}'
	start=$(date +%s%N)
	expect_status 1 seed
	end=$(date +%s%N)
	kill "$pid"
	wait "$pid" 2>/dev/null || true # 143: the listener was killed, as meant
	assert_contains "$ERR" "cannot reach MongoDB"
	[ $(((end - start) / 1000000)) -lt 8000 ] || fail "took $(((end - start) / 1000000)) ms with serverSelectionTimeoutMS=1000"
	printf 'mongodb:\n  uri: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1000"\n  database: x\nmodules:\n  m: {}\n' >config.yaml
	start=$(date +%s%N)
	expect_status 1 seed
	end=$(date +%s%N)
	[ $(((end - start) / 1000000)) -lt 8000 ] || fail "closed port took $(((end - start) / 1000000)) ms"
}

# Finding 9: partial filters are compared as normalised expressions.
test_partial_filter_normalised() {
	new_mongo_db
	mongo '{"createIndexes": "c", "indexes": [{"key": {"p": 1}, "name": "p_1", "partialFilterExpression": {"status": "active", "qty": {"$gt": 0}}}]}' >/dev/null
	spec '{"collections": [{"name": "c", "indexes": [{"keys": {"p": 1}, "options": {"partialFilterExpression": {"$and": [{"qty": {"$gt": 0}}, {"status": "active"}]}}}]}]}'
	expect_status 0 verify
}

# collMod: a changed expireAfterSeconds or hidden is applied in place, `changed`.
test_collmod_applies_ttl_and_hidden() {
	new_mongo_db
	spec '{"collections": [{"name": "c", "indexes": [{"keys": {"t": 1}, "options": {"expireAfterSeconds": 60}}]}]}'
	expect_status 0 seed
	spec '{"collections": [{"name": "c", "indexes": [{"keys": {"t": 1}, "options": {"expireAfterSeconds": 120, "hidden": true}}]}]}'
	expect_status 3 verify
	expect_status 0 seed --dry-run
	assert_contains "$OUT" "would change m: index c.t_1: "
	expect_status 0 seed
	assert_contains "$OUT" "changed m: index c.t_1: "
	expect_status 0 seed --format json
	assert_contains "$OUT" '"present"'
	expect_status 0 verify
	mongo '{"listIndexes": "c"}' | check_json '
ix = {i["name"]: i for i in r["cursor"]["firstBatch"]}
assert ix["t_1"]["expireAfterSeconds"] == 120 and ix["t_1"]["hidden"] is True, ix'
}

# Collection options: a validator applied at creation, changed with collMod; a
# creation-only difference is a conflict.
test_collection_options_and_validator() {
	new_mongo_db
	spec '{"collections": [{"name": "c", "options": {"validator": {"$jsonSchema": {"required": ["a"]}}, "validationAction": "warn"}}]}'
	expect_status 0 seed
	assert_contains "$OUT" "created m: collection c"
	mongo '{"listCollections": 1}' | check_json '
o = r["cursor"]["firstBatch"][0]["options"]
assert o["validator"] == {"$jsonSchema": {"required": ["a"]}} and o["validationAction"] == "warn", o'
	expect_status 0 verify
	spec '{"collections": [{"name": "c", "options": {"validator": {"$jsonSchema": {"required": ["b"]}}, "validationAction": "warn"}}]}'
	expect_status 3 verify
	expect_status 0 seed
	assert_contains "$OUT" "changed m: collection c: validator"
	expect_status 0 verify
	spec '{"collections": [{"name": "c", "options": {"capped": true, "size": 4096}}]}'
	expect_status 3 seed
	assert_contains "$OUT" "conflict m: collection c: capped"
}

# seed --prune drops undeclared indexes except _id_ and "ignore" patterns; without it they
# are listed as extra and the exit is unaffected.
test_prune_with_ignore_patterns() {
	new_mongo_db
	mongo '{"createIndexes": "c", "indexes": [{"key": {"x": 1}, "name": "adhoc_x"}, {"key": {"y": 1}, "name": "old_y"}]}' >/dev/null
	spec '{"collections": [{"name": "c", "ignore": ["adhoc_*"], "indexes": [{"keys": {"a": 1}}]}]}'
	expect_status 0 seed
	assert_contains "$OUT" "extra m: index c.old_y"
	assert_not_contains "$OUT" "adhoc_x"
	expect_status 0 seed --prune --dry-run
	assert_contains "$OUT" "would drop m: index c.old_y"
	expect_status 0 seed --prune
	assert_contains "$OUT" "dropped m: index c.old_y"
	mongo '{"listIndexes": "c"}' | check_json '
names = sorted(i["name"] for i in r["cursor"]["firstBatch"])
assert names == ["_id_", "a_1", "adhoc_x"], names'
}

run_tests
