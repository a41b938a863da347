#!/usr/bin/env bash
# The commands migration files use, with mongod's semantics (issue 29): each test sends
# commands to MIGRATE_TEST_MONGO_URI (the stand-in, or a real mongod: the same assertions
# hold) and checks the replies and the data as mongod documents them, the cases where
# mongomock differs from mongod included (arrayFilters, $merge, a path under a scalar,
# $inc on a string). Transactions run on a replica set: the server itself when it is one,
# else a replica-set stand-in of the test's own.
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/../lib/harness.sh"
. "$here/../lib/mongo.sh"

# py: runs the Python on stdin with cmd(doc, db=MDB) (one command, the reply), docs(coll)
# (the collection sorted by _id), err(reply) ((code, message) of a failure or of the first
# write error) and ok(reply) bound to this test's database
py() {
	MDB="c_$(basename "$SCRATCH" | tr -c 'a-zA-Z0-9\n' '_')"
	/usr/bin/python3 - "$URI" "$MDB" "$_mongo_lib" <<EOF || fail "assertion failed (see above)"
import sys, uuid, datetime
sys.path.insert(0, sys.argv[3])
from mongo_cmd import run
from bson.son import SON
from bson.binary import Binary
from bson.int64 import Int64
URI, MDB = sys.argv[1], sys.argv[2]
def cmd(d, db=None):
    return run(URI, db or MDB, SON(d) if not isinstance(d, SON) else d)
def S(*pairs):
    return SON(list(pairs))
def docs(coll):
    r = cmd(S(("find", coll), ("sort", {"_id": 1})))
    assert r["ok"] == 1, r
    return r["cursor"]["firstBatch"]
def err(r):
    if r.get("ok") != 1:
        return r.get("code"), r.get("errmsg")
    if r.get("writeErrors"):
        return r["writeErrors"][0]["code"], r["writeErrors"][0]["errmsg"]
    return None
def ok(r):
    assert r.get("ok") == 1 and not r.get("writeErrors") and not r.get("writeConcernError"), r
    return r
$(cat)
EOF
}

test_update_operators_upsert_and_counts() {
	py <<'PY'
ok(cmd(S(("insert", "u"), ("documents", [S(("_id", 1), ("n", 1), ("tags", ["a"])), S(("_id", 2), ("n", 5))]))))
r = ok(cmd(S(("update", "u"), ("updates", [
    S(("q", {"n": {"$gte": 1}}), ("u", S(("$inc", {"n": 1}), ("$set", {"seen": True}))), ("multi", True)),
    S(("q", {"_id": 1}), ("u", S(("$push", {"tags": S(("$each", ["b", "c"]))}), ("$unset", {"seen": ""})))),
    S(("q", {"_id": 2}), ("u", S(("$set", {"n": 6})))),
    S(("q", {"_id": 3}), ("u", S(("$set", {"n": 30}), ("$setOnInsert", {"new": True}))), ("upsert", True)),
    S(("q", {"_id": 1}), ("u", S(("$rename", {"tags": "labels"}), ("$max", {"n": 10}), ("$min", {"low": 0})))),
    S(("q", {"_id": 2}), ("u", S(("$mul", {"n": 2}), ("$addToSet", {"set": S(("$each", [1, 1, 2]))})))),
]))))
# matched 2 + 1 + 1 (n already 6: not modified) + 1 upserted + 1 + 1
assert (r["n"], r["nModified"]) == (7, 5), r
assert r["upserted"] == [{"index": 3, "_id": 3}], r
d = docs("u")
assert d[0] == {"_id": 1, "n": 10, "labels": ["a", "b", "c"], "low": 0}, d[0]
assert d[1] == {"_id": 2, "n": 12, "seen": True, "set": [1, 2]}, d[1]
assert d[2] == {"_id": 3, "n": 30, "new": True}, d[2]
# replacement keeps _id; an upsert builds from the query's equality fields
ok(cmd(S(("update", "u"), ("updates", [S(("q", {"_id": 3}), ("u", {"only": 1}))]))))
r = ok(cmd(S(("update", "u"), ("updates", [S(("q", S(("k", "x"), ("m", {"$gt": 1}))), ("u", {"$set": {"z": 1}}), ("upsert", True))]))))
new = [x for x in docs("u") if x.get("k") == "x"][0]
assert set(new) == {"_id", "k", "z"}, new
assert docs("u")[2] == {"_id": 3, "only": 1}
PY
}

# mongod's errors where mongomock differs: a path under a scalar (28), $inc on a string
# (14), the immutable _id (66), two operators on one path (40), an unknown modifier (9);
# an ordered batch stops at the first, an unordered one goes on
test_update_errors_are_mongods() {
	py <<'PY'
ok(cmd(S(("insert", "e"), ("documents", [S(("_id", 1), ("a", 1), ("s", "text"))]))))
cases = [
    ({"$set": {"a.b": 1}}, 28, "Cannot create field 'b' in element {a: 1}"),
    ({"$inc": {"s": 1}}, 14, "Cannot apply $inc to a value of non-numeric type"),
    ({"$set": {"_id": 2}}, 66, "_id"),
    (S(("$set", {"a": 1}), ("$inc", {"a": 1})), 40, "Updating the path 'a' would create a conflict at 'a'"),
    ({"$bogus": {"a": 1}}, 9, "Unknown modifier: $bogus"),
    ({"$inc": {"a": "x"}}, 14, "Cannot increment with non-numeric argument"),
]
for u, code, text in cases:
    r = cmd(S(("update", "e"), ("updates", [S(("q", {"_id": 1}), ("u", u))])))
    e = err(r)
    assert e and e[0] == code and text in e[1], (u, r)
assert docs("e") == [{"_id": 1, "a": 1, "s": "text"}], docs("e")
r = cmd(S(("update", "e"), ("ordered", True), ("updates", [
    S(("q", {"_id": 1}), ("u", {"$inc": {"s": 1}})), S(("q", {"_id": 1}), ("u", {"$set": {"b": 1}}))])))
assert r["n"] == 0 and len(r["writeErrors"]) == 1 and "b" not in docs("e")[0], r
r = cmd(S(("update", "e"), ("ordered", False), ("updates", [
    S(("q", {"_id": 1}), ("u", {"$inc": {"s": 1}})), S(("q", {"_id": 1}), ("u", {"$set": {"b": 1}}))])))
assert r["n"] == 1 and r["writeErrors"][0]["index"] == 0 and docs("e")[0]["b"] == 1, r
r = cmd(S(("insert", "e"), ("documents", [S(("_id", 1))])))
assert err(r)[0] == 11000, r
PY
}

# arrayFilters: $[id] with conditions, $[] for every element, nested identifiers; an
# unused filter (9) and a missing one (2) are refused
test_array_filters() {
	py <<'PY'
ok(cmd(S(("insert", "g"), ("documents", [
    S(("_id", 1), ("grades", [S(("g", 80), ("m", 1)), S(("g", 95), ("m", 1)), S(("g", 70), ("m", 2))])),
    S(("_id", 2), ("grades", [S(("g", 99), ("m", 1))]))]))))
r = ok(cmd(S(("update", "g"), ("updates", [S(("q", {}), ("u", {"$set": {"grades.$[x].top": True}}),
    ("arrayFilters", [{"x.g": {"$gte": 90}}]), ("multi", True))]))))
assert (r["n"], r["nModified"]) == (2, 2), r
d = docs("g")
assert [x.get("top") for x in d[0]["grades"]] == [None, True, None], d
assert d[1]["grades"][0]["top"] is True, d
ok(cmd(S(("update", "g"), ("updates", [S(("q", {"_id": 1}), ("u", {"$inc": {"grades.$[].g": 1}}))]))))
assert [x["g"] for x in docs("g")[0]["grades"]] == [81, 96, 71]
ok(cmd(S(("update", "g"), ("updates", [S(("q", {"_id": 1}), ("u", {"$set": {"grades.$[a].m": 9}}),
    ("arrayFilters", [S(("a.m", 1), ("a.g", {"$lt": 90}))]))]))))
assert [x["m"] for x in docs("g")[0]["grades"]] == [9, 1, 2], docs("g")
e = err(cmd(S(("update", "g"), ("updates", [S(("q", {}), ("u", {"$set": {"grades.$[x].y": 1}}), ("arrayFilters", [{"z": 1}]))]))))
assert e[0] in (2, 9), e
e = err(cmd(S(("update", "g"), ("updates", [S(("q", {}), ("u", {"$set": {"grades.0.y": 1}}), ("arrayFilters", [{"z": 1}]))]))))
assert e[0] == 9 and "was not used" in e[1], e
PY
}

test_delete_find_and_modify_count_distinct() {
	py <<'PY'
ok(cmd(S(("insert", "f"), ("documents", [S(("_id", i), ("k", i % 3), ("t", ["a", "b"] if i % 2 else "c")) for i in range(1, 10)]))))
r = ok(cmd(S(("count", "f"), ("query", {"k": 0}))))
assert r["n"] == 3, r
r = ok(cmd(S(("distinct", "f"), ("key", "t"))))
assert sorted(r["values"]) == ["a", "b", "c"], r
r = ok(cmd(S(("delete", "f"), ("deletes", [S(("q", {"k": 1}), ("limit", 1)), S(("q", {"k": 2}), ("limit", 0))]))))
assert r["n"] == 4, r
assert [d["_id"] for d in docs("f")] == [3, 4, 6, 7, 9], docs("f")
r = ok(cmd(S(("findAndModify", "f"), ("query", {"k": 0}), ("sort", {"_id": -1}), ("update", {"$set": {"x": 1}}), ("new", True))))
assert r["value"]["_id"] == 9 and r["value"]["x"] == 1 and r["lastErrorObject"]["updatedExisting"] is True, r
r = ok(cmd(S(("findAndModify", "f"), ("query", {"_id": 42}), ("update", {"$set": {"x": 2}}), ("upsert", True), ("new", True))))
assert r["value"] == {"_id": 42, "x": 2} and r["lastErrorObject"]["upserted"] == 42, r
r = ok(cmd(S(("findAndModify", "f"), ("query", {"_id": 3}), ("remove", True))))
assert r["value"]["_id"] == 3 and r["lastErrorObject"]["n"] == 1, r
r = cmd(S(("findAndModify", "f"), ("query", {"_id": 6}), ("update", {"$inc": {"t": 1}})))
assert err(r)[0] == 14, r
PY
}

test_aggregate_stages_out_and_merge() {
	py <<'PY'
ok(cmd(S(("insert", "src"), ("documents", [S(("_id", i), ("first", "f%d" % i), ("last", "L"), ("qty", i), ("old", 1)) for i in range(1, 5)]))))
r = ok(cmd(S(("aggregate", "src"), ("pipeline", [
    {"$match": {"qty": {"$gt": 1}}},
    {"$addFields": {"full": {"$concat": ["$first", " ", "$last"]}}},
    {"$set": {"double": {"$multiply": ["$qty", 2]}}},
    {"$unset": "old"},
    {"$project": S(("full", 1), ("double", 1), ("up", {"$toUpper": "$first"}))}]), ("cursor", {}))))
b = r["cursor"]["firstBatch"]
assert b[0] == {"_id": 2, "full": "f2 L", "double": 4, "up": "F2"}, b
assert len(b) == 3, b
ok(cmd(S(("aggregate", "src"), ("pipeline", [{"$match": {"qty": {"$lte": 2}}}, {"$project": {"qty": 1}}, {"$out": "copy"}]), ("cursor", {}))))
assert docs("copy") == [{"_id": 1, "qty": 1}, {"_id": 2, "qty": 2}], docs("copy")
ok(cmd(S(("insert", "tgt"), ("documents", [S(("_id", 1), ("keep", True), ("qty", 0))]))))
ok(cmd(S(("aggregate", "src"), ("pipeline", [{"$project": {"qty": 1}}, {"$merge": S(("into", "tgt"), ("whenMatched", "merge"), ("whenNotMatched", "insert"))}]), ("cursor", {}))))
t = docs("tgt")
assert t[0] == {"_id": 1, "keep": True, "qty": 1} and len(t) == 4, t
r = cmd(S(("aggregate", "src"), ("pipeline", [{"$merge": S(("into", "tgt"), ("whenMatched", "fail"))}]), ("cursor", {})))
assert r["ok"] == 0 and r["code"] == 11000, r
# "on" a field without a unique index is refused
r = cmd(S(("aggregate", "src"), ("pipeline", [{"$merge": S(("into", "tgt"), ("on", "qty"))}]), ("cursor", {})))
assert r["ok"] == 0 and r["code"] == 51183, r
r = cmd(S(("aggregate", "src"), ("pipeline", [{"$out": "x"}, {"$match": {}}]), ("cursor", {})))
assert r["ok"] == 0 and r["code"] == 40601, r
PY
}

test_create_drop_rename_collmod() {
	py <<'PY'
ok(cmd(S(("create", "v"), ("validator", {"n": {"$exists": True}}))))
ok(cmd(S(("collMod", "v"), ("validator", {"m": {"$exists": True}}), ("validationLevel", "moderate"))))
r = ok(cmd(S(("listCollections", 1), ("filter", {"name": "v"}))))
assert r["cursor"]["firstBatch"][0]["options"]["validator"] == {"m": {"$exists": True}}, r
ok(cmd(S(("insert", "v"), ("documents", [S(("_id", 1), ("m", 1))]))))
ok(cmd(S(("renameCollection", MDB + ".v"), ("to", MDB + ".w")), db="admin"))
assert docs("w") == [{"_id": 1, "m": 1}] and docs("v") == []
r = cmd(S(("renameCollection", MDB + ".nope"), ("to", MDB + ".z")), db="admin")
assert r["ok"] == 0 and r["code"] == 26, r
ok(cmd(S(("insert", "z"), ("documents", [S(("_id", 1))]))))
r = cmd(S(("renameCollection", MDB + ".w"), ("to", MDB + ".z")), db="admin")
assert r["ok"] == 0 and r["code"] == 48, r
ok(cmd(S(("renameCollection", MDB + ".w"), ("to", MDB + ".z"), ("dropTarget", True)), db="admin"))
assert docs("z") == [{"_id": 1, "m": 1}]
ok(cmd(S(("drop", "z"))))
assert docs("z") == []
PY
}

# Sessions with transactions on a replica set: commit makes every write visible, abort
# (or a failing command) leaves nothing; DDL inside one is refused (263); a standalone
# server refuses transaction numbers (20)
test_sessions_and_transactions() {
	if ! mongo '{"hello": 1}' | /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("setName") else 1)'; then
		# a standalone: it refuses transactions; then a replica-set stand-in of our own
		py <<'PY'
lsid = {"id": Binary(uuid.uuid4().bytes, 4)}
r = cmd(S(("insert", "t"), ("documents", [{"_id": 1}]), ("lsid", lsid), ("txnNumber", Int64(1)), ("startTransaction", True), ("autocommit", False)))
assert r["ok"] == 0 and r["code"] == 20, r
PY
		mongo '{"standinStats": 1}' | /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("ok") == 1 else 1)' ||
			fail "MIGRATE_TEST_MONGO_URI is a standalone mongod: the transaction part needs a replica set"
		MIGRATE_STANDIN_REPLSET=rs0 "$src/scripts/mongo-standin.sh" start "$SCRATCH/rs" >/dev/null || fail "no replica-set stand-in"
		trap '"$src/scripts/mongo-standin.sh" stop "$SCRATCH/rs"' EXIT
		URI="mongodb://127.0.0.1:$(cat "$SCRATCH/rs/port")/"
	fi
	py <<'PY'
def txn(lsid, n, body, first=False):
    body = SON(body)
    body["lsid"] = lsid
    body["txnNumber"] = Int64(n)
    body["autocommit"] = False
    if first:
        body["startTransaction"] = True
    return cmd(body, db="admin" if next(iter(body)) in ("commitTransaction", "abortTransaction") else None)
ok(cmd(S(("insert", "t"), ("documents", [S(("_id", 0), ("v", "base"))]))))
a = {"id": Binary(uuid.uuid4().bytes, 4)}
ok(txn(a, 1, S(("insert", "t"), ("documents", [S(("_id", 1))])), first=True))
ok(txn(a, 1, S(("update", "t"), ("updates", [S(("q", {"_id": 0}), ("u", {"$set": {"v": "txn"}}))]))))
r = ok(txn(a, 1, S(("find", "t"), ("filter", {}))))
assert len(r["cursor"]["firstBatch"]) == 2, r           # the transaction sees its writes
assert docs("t") == [{"_id": 0, "v": "base"}], docs("t")  # others do not, yet
ok(txn(a, 1, S(("commitTransaction", 1),)))
assert docs("t") == [{"_id": 0, "v": "txn"}, {"_id": 1}], docs("t")
ok(txn(a, 2, S(("insert", "t"), ("documents", [S(("_id", 2))])), first=True))
ok(txn(a, 2, S(("abortTransaction", 1),)))
assert [d["_id"] for d in docs("t")] == [0, 1], docs("t")
# a failing command aborts the transaction: its earlier writes are gone, commit fails
ok(txn(a, 3, S(("insert", "t"), ("documents", [S(("_id", 3))])), first=True))
r = txn(a, 3, S(("update", "t"), ("updates", [S(("q", {"_id": 0}), ("u", {"$inc": {"v": 1}}))])))
assert err(r)[0] == 14, r
r = txn(a, 3, S(("commitTransaction", 1),))
assert r["ok"] == 0 and r["code"] == 251, r
assert [d["_id"] for d in docs("t")] == [0, 1], docs("t")
r = txn(a, 4, S(("drop", "t"),), first=True)
assert r["ok"] == 0 and r["code"] in (263, 72), r
PY
}

run_tests
