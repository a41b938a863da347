#!/usr/bin/python3
"""MongoDB stand-in for tests: an in-memory server that speaks enough of the
MongoDB wire protocol for libmongoc 1.23 and for `migrate seed`.

It is NOT a database and not a mock of mongod's internals.  It keeps a few
dictionaries in memory and answers the catalogue commands the project uses
(listCollections, create, listIndexes, createIndexes, dropIndexes, drop, ...)
with replies shaped like those of a standalone mongod 7.0, including the error
codes and messages of index conflicts.  Everything is lost when it exits.

Run it with Debian's interpreter, which has Debian's python3-bson (pymongo's
bson module); nothing else outside the standard library is used:

    /usr/bin/python3 tests/mongo_standin/mongo_standin.py --port 0 --port-file PATH

Two commands exist only here, for tests and benchmarks: `standinStats` (count
of commands received, per name) and `standinReset` (forget all state and
counts).  See README.md beside this file.
"""

import argparse
import datetime
import ipaddress
import itertools
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import traceback
import uuid

import copy

import bson
from bson.binary import Binary
from bson.codec_options import CodecOptions
from bson.errors import BSONError
from bson.int64 import Int64
from bson.objectid import ObjectId
from bson.son import SON

import standin_query as q
from standin_query import QueryError

# ---------------------------------------------------------------------------
# Constants of the protocol and of the server we imitate

OP_REPLY = 1
OP_QUERY = 2004
OP_MSG = 2013

MSG_CHECKSUM_PRESENT = 1 << 0
MSG_MORE_TO_COME = 1 << 1
# Bits 0-15 are "required": a receiver must reject a message with one it does
# not know.  We know 0 and 1.
MSG_REQUIRED_BITS_KNOWN = MSG_CHECKSUM_PRESENT | MSG_MORE_TO_COME

MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
MAX_MESSAGE_SIZE = 48000000
MAX_WRITE_BATCH_SIZE = 100000
# 21 is MongoDB 7.0, matching buildInfo.  libmongoc 1.23 speaks up to 17 and
# accepts a server whose range overlaps its own (its minimum is 6).
MIN_WIRE_VERSION = 0
MAX_WIRE_VERSION = 21
VERSION = "7.0.0-standin"
# The mongod version imitated where behaviour differs (--mongod-version): 5.0, 7.0, 8.0.
# Set once by main() before the server starts.
MONGOD = (7, 0)
# --replset NAME: answer hello as the primary of a one-member replica set, which is what
# sessions with transactions need (None: a standalone server, which refuses them).
REPLSET = None
WIRE_VERSIONS = {(5, 0): 13, (7, 0): 21, (8, 0): 25}

# Decode documents as SON so that key order survives: it matters for index
# key patterns and for the first key of a command, which names it.
CODEC = CodecOptions(document_class=SON)

HANDSHAKE_COMMANDS = ("hello", "isMaster", "ismaster")

# Fields any command may carry that say nothing about what it does.
GENERIC_FIELDS = frozenset((
    "$db", "lsid", "$clusterTime", "$readPreference", "readConcern",
    "writeConcern", "maxTimeMS", "comment", "apiVersion", "apiStrict",
    "apiDeprecationErrors", "txnNumber", "autocommit", "startTransaction",
    "$audit", "$client", "$configServerState", "$gleStats",
))

# Commands that may change state; standinStats counts them as "writes".
WRITE_COMMANDS = frozenset((
    "create", "createIndexes", "collMod", "dropIndexes", "deleteIndexes", "drop",
    "dropDatabase", "insert", "delete", "update", "findAndModify", "findandmodify",
    "renameCollection",
))

# What may run inside a multi-document transaction (mongod refuses the rest with 263).
TRANSACTION_COMMANDS = frozenset((
    "insert", "update", "delete", "findAndModify", "findandmodify", "find", "aggregate",
    "distinct", "getMore", "killCursors", "commitTransaction", "abortTransaction",
))

CODE_NAMES = {
    1: "InternalError",
    2: "BadValue",
    9: "FailedToParse",
    14: "TypeMismatch",
    26: "NamespaceNotFound",
    27: "IndexNotFound",
    43: "CursorNotFound",
    48: "NamespaceExists",
    59: "CommandNotFound",
    67: "CannotCreateIndex",
    166: "CommandNotSupportedOnView",
    72: "InvalidOptions",
    73: "InvalidNamespace",
    85: "IndexOptionsConflict",
    86: "IndexKeySpecsConflict",
    197: "InvalidIndexSpecificationOption",
    352: "UnsupportedOpQueryCommand",
    11000: "DuplicateKey",
    20: "IllegalOperation",
    28: "PathNotViable",
    40: "ConflictingUpdateOperators",
    56: "EmptyFieldName",
    66: "ImmutableField",
    168: "InvalidPipelineOperator",
    251: "NoSuchTransaction",
    263: "OperationNotSupportedInTransaction",
    13113: "MergeStageNoMatchingDocument",
    51183: "Location51183",
}

# Index options mongod accepts in a spec; anything else is code 197.
INDEX_FIELDS = frozenset((
    "key", "name", "v", "ns", "unique", "sparse", "expireAfterSeconds",
    "partialFilterExpression", "collation", "hidden", "background",
    "dropDups", "weights", "default_language", "language_override",
    "textIndexVersion", "2dsphereIndexVersion", "bits", "min", "max",
    "wildcardProjection", "storageEngine", "prepareUnique",
    "coarsestIndexedLevel", "finestIndexedLevel",
))

# Options that, with the key pattern, tell two indexes apart (mongod's
# "index signature").  The other options only make two specs identical or
# merely "equivalent".
SIGNATURE_EXCLUDED = frozenset((
    "key", "ns", "name", "v", "textIndexVersion", "2dsphereIndexVersion",
    "background", "dropDups", "collation", "partialFilterExpression",
    "unique", "sparse", "wildcardProjection",
))

INDEX_KEY_STRINGS = frozenset(("text", "2dsphere", "2d", "hashed", "geoHaystack"))

# mongod stores a collation with every field filled in.  These are ICU's
# defaults for most locales; a few locales differ (e.g. fr_CA sets
# backwards), which this stand-in ignores.
COLLATION_DEFAULTS = (
    ("caseLevel", False),
    ("caseFirst", "off"),
    ("strength", 3),
    ("numericOrdering", False),
    ("alternate", "non-ignorable"),
    ("maxVariable", "punct"),
    ("normalization", False),
    ("backwards", False),
    ("version", "57.1"),
)


class CommandError(Exception):
    """A command failed the way mongod reports it: ok 0 with code and codeName."""

    def __init__(self, code, errmsg):
        super().__init__(errmsg)
        self.code = code
        self.errmsg = errmsg

    def reply(self):
        return SON([("ok", 0.0), ("errmsg", self.errmsg), ("code", self.code),
                    ("codeName", CODE_NAMES.get(self.code, "Location%d" % self.code))])


class Malformed(Exception):
    """The bytes on a connection are not a message we understand: close it."""


# ---------------------------------------------------------------------------
# BSON values: comparison and mongod-style printing


def is_number(v):
    # bool is an int in Python but a distinct type in BSON.
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def bson_equal(a, b):
    """Equality as mongod's simple comparator sees it: numbers compare by
    value whatever their width, documents compare field by field in order."""
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a.keys()) != list(b.keys()):
            return False
        return all(bson_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(bson_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def true_value(v):
    """BSONElement::trueValue: false, 0, null and missing are false."""
    if v is None or v is False:
        return False
    if is_number(v):
        return v != 0
    return True


def fmt(v):
    """Print a value the way mongod's BSONObj::toString does in error messages."""
    if isinstance(v, dict):
        if not v:
            return "{}"
        return "{ " + ", ".join("%s: %s" % (k, fmt(x)) for k, x in v.items()) + " }"
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[ " + ", ".join(fmt(x) for x in v) + " ]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)  # 1.0 prints as "1.0", as mongod does
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, str):
        return '"%s"' % v
    if v is None:
        return "null"
    if isinstance(v, ObjectId):
        return "ObjectId('%s')" % v
    return str(v)


# ---------------------------------------------------------------------------
# Filters (listCollections, find, delete): equality and a few operators


def get_path(doc, path):
    cur = doc
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return False, None
        cur = cur[part]
    return True, cur


def value_matches(found, value, cond):
    if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
        for op, arg in cond.items():
            if op == "$eq":
                ok = found and bson_equal(value, arg)
            elif op == "$ne":
                ok = not (found and bson_equal(value, arg))
            elif op == "$in":
                ok = found and any(bson_equal(value, x) for x in arg)
            elif op == "$nin":
                ok = not (found and any(bson_equal(value, x) for x in arg))
            elif op == "$exists":
                ok = found == true_value(arg)
            else:
                raise CommandError(2, "unknown operator: %s" % op)
            if not ok:
                return False
        return True
    if not found:
        return cond is None
    if isinstance(value, list) and not isinstance(cond, list):
        return any(bson_equal(x, cond) for x in value)
    return bson_equal(value, cond)


def matches(doc, flt):
    """mongod's query semantics (standin_query.py)."""
    try:
        return q.matches(doc, flt)
    except QueryError as e:
        raise CommandError(e.code, e.errmsg)


# ---------------------------------------------------------------------------
# Index specs: normalisation and conflict rules of mongod 6/7


def id_index_spec(collation=None):
    spec = SON([("v", 2), ("key", SON([("_id", 1)])), ("name", "_id_")])
    if collation is not None:
        spec["collation"] = collation
    return spec


# Locales whose ICU defaults differ from the root's (the README's table).
LOCALE_DEFAULTS = {
    "fr_CA": {"backwards": True},
    "da": {"caseFirst": "upper"},
    "mt": {"caseFirst": "upper"},
    "th": {"alternate": "shifted"},
    "as": {"normalization": True},
    "bn": {"normalization": True},
    "my": {"normalization": True},
    "vi": {"normalization": True},
}
COLLATION_FIELDS = frozenset(["locale"] + [f for f, _ in COLLATION_DEFAULTS])


def expand_collation(coll):
    """Return the stored form of a collation, or None for the simple one."""
    if not isinstance(coll, dict):
        raise CommandError(14, "collation must be an object")
    locale = coll.get("locale")
    if not isinstance(locale, str):
        raise CommandError(40414, "BSON field 'locale' is missing but a required field")
    if locale == "simple":
        if len(coll) > 1:
            raise CommandError(2, "If \"locale\" is set to \"simple\", then no other fields may be set")
        return None
    for field, value in coll.items():
        if field not in COLLATION_FIELDS:
            raise CommandError(40415, "BSON field 'collation.%s' is an unknown field" % field)
    if "-" in locale or not locale:
        raise CommandError(2, "Field 'locale' is invalid in: %s" % fmt(coll))
    strength = coll.get("strength", 3)
    if not is_number(strength) or strength < 1 or strength > 5:
        raise CommandError(2, "Field 'strength' must be an integer 1 through 5. Got: %s" % fmt(strength))
    out = SON([("locale", locale)])
    own = LOCALE_DEFAULTS.get(locale, {})
    for field, default in COLLATION_DEFAULTS:
        out[field] = coll.get(field, own.get(field, default))
    if out["backwards"] and out["strength"] == 1:
        raise CommandError(2, "backwards is only valid with strength 2 or greater")
    return out


def normalize_text_key(key, spec):
    """mongod rewrites a text index: text fields become _fts/_ftsx in the key
    and their weights move to a `weights` document, sorted by field name."""
    if "_fts" in key:  # already the stored form, e.g. copied from listIndexes
        return key, spec.get("weights", SON())
    new_key = SON()
    weights = {}
    for field, value in key.items():
        if value == "text":
            weights[field] = 1
            if "_fts" not in new_key:
                new_key["_fts"] = "text"
                new_key["_ftsx"] = 1
        else:
            new_key[field] = value
    given = spec.get("weights")
    if isinstance(given, dict):
        for field, value in given.items():
            weights[field] = int(value)
    return new_key, SON(sorted(weights.items()))


def validate_key(key, spec):
    if not isinstance(key, dict):
        raise CommandError(9, "The 'key' field must be an object, but got %s" % fmt(key))
    if not key:
        raise CommandError(67, "Error in specification %s :: caused by :: Index keys cannot be "
                           "an empty field" % fmt(spec))
    for field, value in key.items():
        ok = (is_number(value) and value != 0) or (isinstance(value, str) and value in INDEX_KEY_STRINGS)
        if not ok:
            raise CommandError(67, "Error in specification %s :: caused by :: Values in v:2 index key "
                               "pattern cannot be of type %s. Only numbers > 0, numbers < 0, and "
                               "strings are allowed." % (fmt(spec), type(value).__name__))


def normalize_index_spec(raw, default_collation):
    """The spec as mongod stores it: v, key, name, then the other options in
    the order sent, a collation expanded, text and 2dsphere extras appended."""
    if not isinstance(raw, dict):
        raise CommandError(14, "Each index specification must be an object")
    for field in raw:
        if field not in INDEX_FIELDS:
            raise CommandError(197, "Error in specification %s :: caused by :: The field '%s' is not "
                               "valid for an index specification. Specification: %s"
                               % (fmt(raw), field, fmt(raw)))
    if "key" not in raw:
        raise CommandError(9, "Error in specification %s :: caused by :: The 'key' field is a "
                           "required property of an index specification" % fmt(raw))
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise CommandError(9, "Error in specification %s :: caused by :: The 'name' field is a "
                           "required property of an index specification" % fmt(raw))
    key = raw["key"]
    validate_key(key, raw)
    is_id = list(key.keys()) == ["_id"] and is_number(key["_id"]) and key["_id"] == 1
    if name == "_id_" and not is_id:
        raise CommandError(2, "The index name '_id_' is reserved for the _id index, which must have "
                           "key pattern {_id: 1}, found key: %s" % fmt(key))
    if name == "*":
        raise CommandError(2, "The index name '*' is not valid.")

    is_text = any(v == "text" for v in key.values()) or "_fts" in key
    is_2dsphere = any(v == "2dsphere" for v in key.values())
    weights = None
    if is_text:
        key, weights = normalize_text_key(key, raw)

    spec = SON([("v", raw.get("v", 2)), ("key", key), ("name", name)])
    text_extras = ("weights", "default_language", "language_override", "textIndexVersion")
    for field, value in raw.items():
        if field in ("v", "key", "name", "ns") or (is_text and field in text_extras):
            continue
        if field == "collation":
            value = expand_collation(value)
            if value is None:  # the simple collation is stored as no collation
                continue
            if is_text:
                raise CommandError(67, "Error in specification %s :: caused by :: Index type "
                                   "'text' does not support collation: %s" % (fmt(raw), fmt(value)))
        if field in ("unique", "hidden") and not true_value(value):
            continue  # stored only when true
        spec[field] = value
    check_index_rules(raw, raw["key"])
    if "collation" not in raw and default_collation is not None:
        if is_text:
            raise CommandError(67, "Error in specification %s :: caused by :: Index type 'text' "
                               "does not support collation: %s" % (fmt(raw), fmt(default_collation)))
        spec["collation"] = default_collation  # inherited from the collection
    if is_text:
        spec["weights"] = weights
        spec["default_language"] = raw.get("default_language", "english")
        spec["language_override"] = raw.get("language_override", "language")
        spec["textIndexVersion"] = raw.get("textIndexVersion", 3)
    if is_2dsphere and "2dsphereIndexVersion" not in spec:
        spec["2dsphereIndexVersion"] = 3
    return spec


PARTIAL_OPS = frozenset(("$eq", "$gt", "$gte", "$lt", "$lte", "$type", "$exists", "$in"))


def check_partial(flt, raw, depth=0):
    for k, v in flt.items():
        if k in ("$and", "$or"):
            if k == "$or" and MONGOD < (6, 0):
                raise CommandError(67, "Error in specification %s :: caused by :: Expression "
                                   "not supported in partial index: $or" % fmt(raw))
            for sub in v:
                check_partial(sub, raw, depth + 1)
            continue
        if k.startswith("$"):
            raise CommandError(67, "Error in specification %s :: caused by :: Expression not "
                               "supported in partial index: %s" % (fmt(raw), k))
        if isinstance(v, dict) and v and next(iter(v)).startswith("$"):
            for op, arg in v.items():
                if op not in PARTIAL_OPS or (op == "$exists" and not true_value(arg)) or \
                        (op == "$in" and MONGOD < (6, 0)):
                    raise CommandError(67, "Error in specification %s :: caused by :: Expression "
                                       "not supported in partial index: %s %s" % (fmt(raw), k, op))


def check_index_rules(raw, key):
    """The CannotCreateIndex (67) rules of index_key_validate.cpp and _isSpecOk."""
    kinds = set(v for v in key.values() if isinstance(v, str))
    if len(kinds) > 1:
        raise CommandError(67, "Error in specification %s :: caused by :: Can't use more than "
                           "one index plugin for a single index." % fmt(raw))
    if "expireAfterSeconds" in raw and len(key) > 1:
        raise CommandError(67, "Error in specification %s :: caused by :: TTL indexes are "
                           "single-field indexes, compound indexes do not support TTL." % fmt(raw))
    if true_value(raw.get("sparse")) and "partialFilterExpression" in raw:
        raise CommandError(67, "Error in specification %s :: caused by :: cannot mix "
                           "\"partialFilterExpression\" and \"sparse\" options" % fmt(raw))
    if "hashed" in kinds and true_value(raw.get("unique")):
        raise CommandError(67, "Error in specification %s :: caused by :: Currently hashed "
                           "indexes cannot guarantee uniqueness. Use a regular index." % fmt(raw))
    if isinstance(raw.get("partialFilterExpression"), dict):
        check_partial(raw["partialFilterExpression"], raw)


IDENTICAL, EQUIVALENT, DIFFERENT = "identical", "equivalent", "different"


def canon(v, sort_list=False):
    if is_number(v):
        return repr(float(v))
    if isinstance(v, dict):
        return "{" + ",".join("%s:%s" % (k, canon(x)) for k, x in v.items()) + "}"
    if isinstance(v, list):
        items = [canon(x) for x in v]
        return "[" + ",".join(sorted(items) if sort_list else items) + "]"
    return repr(v)


def normalize_filter(flt):
    """A match expression as mongod normalises it: $and flattened, {f: v} as {f: {$eq: v}},
    predicates, $or branches and $in lists unordered."""
    preds = set()
    for k, v in flt.items():
        if k == "$and":
            for sub in v:
                preds |= normalize_filter(sub)
        elif k == "$or":
            preds.add(("$or", frozenset(frozenset(normalize_filter(sub)) for sub in v)))
        elif isinstance(v, dict) and v and next(iter(v)).startswith("$"):
            for op, arg in v.items():
                preds.add((k, op, canon(arg, op == "$in")))
        else:
            preds.add((k, "$eq", canon(v)))
    return preds


def compare_index(candidate, existing):
    """IndexDescriptor::compareIndexOptions: DIFFERENT when the key pattern or
    an identifying option (unique, sparse, collation, partial filter, wildcard
    projection) differs, EQUIVALENT when only other options differ."""
    if not bson_equal(candidate["key"], existing["key"]):
        return DIFFERENT
    if not bson_equal(dict(candidate.get("wildcardProjection") or {}),
                      dict(existing.get("wildcardProjection") or {})):
        return DIFFERENT
    for flag in ("unique", "sparse"):
        if true_value(candidate.get(flag)) != true_value(existing.get(flag)):
            return DIFFERENT
    for field in ("collation", "partialFilterExpression"):
        if (field in candidate) != (field in existing):
            return DIFFERENT
    if "collation" in candidate and not bson_equal(candidate["collation"], existing["collation"]):
        return DIFFERENT
    if "partialFilterExpression" in candidate and \
            normalize_filter(candidate["partialFilterExpression"]) != \
            normalize_filter(existing["partialFilterExpression"]):
        return DIFFERENT
    excluded = SIGNATURE_EXCLUDED | (frozenset(("hidden",)) if MONGOD < (7, 0) else frozenset())
    mine = {k: v for k, v in candidate.items() if k not in excluded}
    theirs = {k: v for k, v in existing.items() if k not in excluded}
    if mine.keys() != theirs.keys():
        return EQUIVALENT
    if all(bson_equal(mine[k], theirs[k]) for k in mine):
        return IDENTICAL
    return EQUIVALENT


def check_new_index(spec, indexes):
    """Return True if spec must be built, False if an identical index exists;
    raise the error mongod raises for a conflict (same checks, same order)."""
    name = spec["name"]
    for existing in indexes:
        if existing["name"] != name:
            continue
        verdict = compare_index(spec, existing)
        if verdict == DIFFERENT:
            raise CommandError(86, "An existing index has the same name as the requested index. "
                               "When index names are not specified, they are auto generated and can "
                               "cause conflicts. Please refer to our documentation. Requested index: "
                               "%s, existing index: %s" % (fmt(spec), fmt(existing)))
        if verdict == EQUIVALENT:
            raise CommandError(85, "An equivalent index already exists with the same name but "
                               "different options. Requested index: %s, existing index: %s"
                               % (fmt(spec), fmt(existing)))
        return False
    for existing in indexes:
        verdict = compare_index(spec, existing)
        if verdict == EQUIVALENT:
            raise CommandError(85, "An equivalent index already exists with a different name and "
                               "options. Requested index: %s, existing index: %s"
                               % (fmt(spec), fmt(existing)))
        if verdict == IDENTICAL:
            raise CommandError(85, "Index already exists with a different name: %s" % existing["name"])
    if "_fts" in spec["key"]:
        for existing in indexes:
            if "_fts" in existing["key"]:
                raise CommandError(67, "only one text index per collection allowed, found existing "
                                   "text index \"%s\"" % existing["name"])
    return True


# ---------------------------------------------------------------------------
# In-memory state


class Collection:
    def __init__(self, options):
        self.type = "collection"
        self.building = set()
        self.options = options
        self.indexes = [id_index_spec(options.get("collation"))]
        self.documents = []
        self.uuid = Binary(uuid.uuid4().bytes, 4)


class Store:
    """Databases -> collections, plus the counters of standinStats.  One lock
    serialises every command, which is all the concurrency a test needs."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.databases = {}
        self.sessions = {}  # lsid id -> the session's transaction
        self.last = {}      # command name -> the last body received (standinLast)
        self.fail_next = {}  # command name -> (code, errmsg) (standinFailNext)
        self.commands = {}
        self.handshakes = 0
        self.writes = 0
        self.changes = 0

    def collection(self, db, name):
        return self.databases.get(db, {}).get(name)

    def create_collection(self, db, name, options):
        coll = Collection(options)
        self.databases.setdefault(db, {})[name] = coll
        return coll


def collection_name(body, command):
    name = body.get(command)
    if not isinstance(name, str):
        raise CommandError(73, "collection name has invalid type %s" % type(name).__name__)
    if not name or "$" in name or name.startswith("."):
        raise CommandError(73, "Invalid namespace specified '%s'" % name)
    return name


def cursor_reply(ns, batch):
    return SON([("cursor", SON([("id", Int64(0)), ("ns", ns), ("firstBatch", batch)])), ("ok", 1.0)])


def ok(**fields):
    reply = SON(fields)
    reply["ok"] = 1.0
    return reply


# ---------------------------------------------------------------------------
# Commands.  Each takes (store, connection, db, body) and returns the reply
# document, or raises CommandError.  They run under store.lock.


def cmd_hello(store, conn, db, body):
    reply = SON()
    # mongod answers the legacy name with `ismaster`, hello with
    # `isWritablePrimary`; libmongoc reads either, so give both.
    reply["ismaster"] = True
    reply["isWritablePrimary"] = True
    reply["helloOk"] = True
    # No topologyVersion: without it libmongoc polls with plain hello
    # instead of the streaming (exhaust) protocol, which we do not speak.
    reply["maxBsonObjectSize"] = MAX_BSON_OBJECT_SIZE
    reply["maxMessageSizeBytes"] = MAX_MESSAGE_SIZE
    reply["maxWriteBatchSize"] = MAX_WRITE_BATCH_SIZE
    reply["localTime"] = datetime.datetime.now(datetime.timezone.utc)
    reply["logicalSessionTimeoutMinutes"] = 30
    reply["connectionId"] = conn.connection_id
    reply["minWireVersion"] = MIN_WIRE_VERSION
    reply["maxWireVersion"] = WIRE_VERSIONS[MONGOD]
    reply["readOnly"] = False
    if REPLSET:
        me = "%s:%d" % conn.server.server_address[:2]
        reply["setName"] = REPLSET
        reply["setVersion"] = 1
        reply["hosts"] = [me]
        reply["primary"] = me
        reply["me"] = me
        reply["secondary"] = False
        reply["electionId"] = ObjectId("7fffffff0000000000000001")
        reply["lastWrite"] = SON([("lastWriteDate", datetime.datetime.now(datetime.timezone.utc))])
    # No `compression`: we never agree to OP_COMPRESSED.
    reply["ok"] = 1.0
    return reply


def cmd_ping(store, conn, db, body):
    return ok()


def cmd_build_info(store, conn, db, body):
    return ok(version="%d.%d.0-standin" % MONGOD, gitVersion="standin",
              versionArray=[MONGOD[0], MONGOD[1], 0, 0],
              bits=64, debug=False, maxBsonObjectSize=MAX_BSON_OBJECT_SIZE,
              storageEngines=["standin"])


def cmd_list_databases(store, conn, db, body):
    names = sorted(store.databases)
    if true_value(body.get("nameOnly")):
        return ok(databases=[SON([("name", n)]) for n in names])
    dbs = [SON([("name", n), ("sizeOnDisk", 0), ("empty", not store.databases[n])]) for n in names]
    return ok(databases=dbs, totalSize=0, totalSizeMb=0)


def collection_entry(name, coll, name_only):
    if name_only:
        return SON([("name", name), ("type", coll.type)])
    return SON([
        ("name", name),
        ("type", coll.type),
        ("options", coll.options),
        ("info", SON([("readOnly", False), ("uuid", coll.uuid)])),
        ("idIndex", coll.indexes[0] if coll.indexes and coll.indexes[0]["name"] == "_id_"
         else id_index_spec(coll.options.get("collation"))),
    ])


def cmd_list_collections(store, conn, db, body):
    flt = body.get("filter") or SON()
    name_only = true_value(body.get("nameOnly"))
    batch = []
    for name in sorted(store.databases.get(db, {})):
        coll = store.databases[db][name]
        full = collection_entry(name, coll, False)
        if matches(full, flt):
            batch.append(collection_entry(name, coll, name_only))
    return cursor_reply("%s.$cmd.listCollections" % db, batch)


def cmd_create(store, conn, db, body):
    name = collection_name(body, "create")
    existing = store.collection(db, name)
    options = SON()
    for field, value in body.items():
        if field == "create" or field in GENERIC_FIELDS:
            continue
        if field == "collation":
            value = expand_collation(value)
            if value is None:
                continue
        options[field] = value
    if existing is not None:
        # 7.0 answers ok when the options are the same; before, always 48
        if MONGOD >= (7, 0) and bson_equal(dict(existing.options), dict(options)):
            return ok()
        raise CommandError(48, "Collection %s.%s already exists." % (db, name))
    coll = store.create_collection(db, name, options)
    if "viewOn" in options:
        coll.type = "view"
        coll.indexes = []
    elif "timeseries" in options:
        coll.type = "timeseries"
        coll.indexes = []
    store.changes += 1
    return ok()


def check_not_view(coll, db, name):
    if coll is not None and coll.type == "view":
        raise CommandError(166, "Namespace %s.%s is a view, not a collection" % (db, name))


def cmd_coll_mod(store, conn, db, body):
    name = collection_name(body, "collMod")
    coll = store.collection(db, name)
    if coll is None:
        raise CommandError(26, "ns does not exist: %s.%s" % (db, name))
    check_not_view(coll, db, name)
    reply = SON()
    index = body.get("index")
    if index is not None:
        target = [i for i in coll.indexes if i["name"] == index.get("name") or
                  ("keyPattern" in index and bson_equal(i["key"], index["keyPattern"]))]
        if not target:
            raise CommandError(27, "cannot find index %s for ns %s.%s" % (fmt(index), db, name))
        spec = target[0]
        if "expireAfterSeconds" in index:
            if "expireAfterSeconds" not in spec:
                raise CommandError(72, "no expireAfterSeconds field to update")
            reply["expireAfterSeconds_old"] = spec["expireAfterSeconds"]
            reply["expireAfterSeconds_new"] = index["expireAfterSeconds"]
            spec["expireAfterSeconds"] = index["expireAfterSeconds"]
        if "hidden" in index:
            if spec["name"] == "_id_":
                raise CommandError(72, "can't hide _id index")
            reply["hidden_old"] = true_value(spec.get("hidden"))
            reply["hidden_new"] = true_value(index["hidden"])
            if true_value(index["hidden"]):
                spec["hidden"] = True
            else:
                spec.pop("hidden", None)
    for field in ("validator", "validationLevel", "validationAction"):
        if field in body:
            coll.options[field] = body[field]
    store.changes += 1
    reply["ok"] = 1.0
    return reply


def cmd_standin_building(store, conn, db, body):
    """Test-only: marks an index as a build still in progress (listIndexes with
    includeBuildUUIDs then shows it as {spec, buildUUID})."""
    coll = store.collection(db, collection_name(body, "standinBuilding"))
    if coll is None:
        raise CommandError(26, "ns does not exist")
    coll.building.add(body.get("index"))
    return ok()


def cmd_drop(store, conn, db, body):
    name = collection_name(body, "drop")
    coll = store.collection(db, name)
    if coll is None:
        return ok()  # mongod 7.0 no longer fails on a missing collection
    del store.databases[db][name]
    store.changes += 1
    return ok(nIndexesWas=len(coll.indexes), ns="%s.%s" % (db, name))


def cmd_drop_database(store, conn, db, body):
    if store.databases.pop(db, None) is not None:
        store.changes += 1
    return ok(dropped=db)


def cmd_list_indexes(store, conn, db, body):
    name = collection_name(body, "listIndexes")
    coll = store.collection(db, name)
    if coll is None:
        raise CommandError(26, "ns does not exist: %s.%s" % (db, name))
    check_not_view(coll, db, name)
    batch = []
    for spec in coll.indexes:
        if spec["name"] in coll.building and true_value(body.get("includeBuildUUIDs")):
            batch.append(SON([("spec", spec), ("buildUUID", Binary(uuid.uuid4().bytes, 4))]))
        else:
            batch.append(spec)
    return cursor_reply("%s.$cmd.listIndexes.%s" % (db, name), batch)


def check_duplicates(spec, documents, db, name):
    """E11000 when a new unique index meets two documents with the same key."""
    if not true_value(spec.get("unique")):
        return
    seen = []
    for doc in documents:
        values = [get_path(doc, f)[1] for f in spec["key"]]
        for other in seen:
            if all(bson_equal(a, b) for a, b in zip(values, other)):
                raise CommandError(11000, "Index build failed: E11000 duplicate key error "
                                   "collection: %s.%s index: %s dup key: { %s }" % (
                                       db, name, spec["name"], ", ".join(
                                           "%s: %s" % (f, fmt(v)) for f, v in zip(spec["key"], values))))
        seen.append(values)


def cmd_create_indexes(store, conn, db, body):
    name = collection_name(body, "createIndexes")
    raw_specs = body.get("indexes")
    if not isinstance(raw_specs, list):
        raise CommandError(14, "BSON field 'createIndexes.indexes' is the wrong type, expected type 'array'")
    if not raw_specs:
        raise CommandError(2, "Must specify at least one index to create")
    coll = store.collection(db, name)
    check_not_view(coll, db, name)
    default_collation = coll.options.get("collation") if coll else None
    specs = [normalize_index_spec(raw, default_collation) for raw in raw_specs]

    # Work on a copy and commit at the end: one bad spec fails the whole
    # command and nothing of it is created, as in mongod.
    indexes = list(coll.indexes) if coll else [id_index_spec()]
    before = len(indexes)
    for spec in specs:
        if check_new_index(spec, indexes):
            check_duplicates(spec, coll.documents if coll else [], db, name)
            indexes.append(spec)
    after = len(indexes)

    if coll is None:
        coll = store.create_collection(db, name, SON())
        coll.indexes = indexes
        store.changes += 1
        return ok(numIndexesBefore=before, numIndexesAfter=after, createdCollectionAutomatically=True)
    if after == before:
        return ok(numIndexesBefore=before, numIndexesAfter=after, note="all indexes already exist")
    coll.indexes = indexes
    store.changes += 1
    reply = SON([("numIndexesBefore", before), ("numIndexesAfter", after),
                 ("createdCollectionAutomatically", False)])
    if after < before + len(specs):
        reply["note"] = "index already exists"
    reply["ok"] = 1.0
    return reply


def cmd_drop_indexes(store, conn, db, body):
    command = next(iter(body))
    name = collection_name(body, command)
    coll = store.collection(db, name)
    if coll is None:
        raise CommandError(26, "ns not found %s.%s" % (db, name))
    target = body.get("index")
    was = len(coll.indexes)
    if target == "*":
        coll.indexes = [i for i in coll.indexes if i["name"] == "_id_"]
        store.changes += 1
        return ok(nIndexesWas=was, msg="non-_id indexes dropped for collection")
    if isinstance(target, str):
        names = [target]
    elif isinstance(target, list) and all(isinstance(t, str) for t in target):
        names = target
    elif isinstance(target, dict):
        found = [i for i in coll.indexes if bson_equal(i["key"], target)]
        if not found:
            raise CommandError(27, "can't find index with key: %s" % fmt(target))
        names = [found[0]["name"]]
    else:
        raise CommandError(14, "BSON field 'dropIndexes.index' is the wrong type")
    for n in names:
        if n == "_id_":
            raise CommandError(72, "cannot drop _id index")
        if not any(i["name"] == n for i in coll.indexes):
            raise CommandError(27, "index not found with name [%s]" % n)
    coll.indexes = [i for i in coll.indexes if i["name"] not in names]
    store.changes += 1
    return ok(nIndexesWas=was)


def cmd_insert(store, conn, db, body):
    name = collection_name(body, "insert")
    docs = body.get("documents")
    if not isinstance(docs, list):
        raise CommandError(14, "BSON field 'insert.documents' is the wrong type, expected type 'array'")
    ordered = body.get("ordered", True)
    coll = store.collection(db, name) or store.create_collection(db, name, SON())
    n = 0
    errors = []
    for i, doc in enumerate(docs):
        if "_id" not in doc:
            doc = SON([("_id", ObjectId())] + list(doc.items()))
        if any(bson_equal(d["_id"], doc["_id"]) for d in coll.documents):
            errors.append(SON([("index", i), ("code", 11000),
                               ("errmsg", "E11000 duplicate key error collection: %s.%s index: "
                                "_id_ dup key: { _id: %s }" % (db, name, fmt(doc["_id"])))]))
            if ordered:
                break
            continue
        coll.documents.append(doc)
        n += 1
    if n:
        store.changes += 1
    reply = SON([("n", n)])
    if errors:
        reply["writeErrors"] = errors
    reply["ok"] = 1.0
    return reply


def cmd_delete(store, conn, db, body):
    name = collection_name(body, "delete")
    coll = store.collection(db, name)
    n = 0
    for stmt in body.get("deletes") or []:
        if coll is None:
            break
        flt, limit = stmt.get("q"), stmt.get("limit", 0)
        keep = []
        removed = 0
        for doc in coll.documents:
            if (limit == 0 or removed < limit) and matches(doc, flt):
                removed += 1
            else:
                keep.append(doc)
        coll.documents = keep
        n += removed
    if n:
        store.changes += 1
    return ok(n=n)


def cmd_find(store, conn, db, body):
    name = collection_name(body, "find")
    coll = store.collection(db, name)
    docs = [d for d in (coll.documents if coll else []) if matches(d, body.get("filter"))]
    if body.get("sort"):
        docs = sorted_docs(docs, body.get("sort"))
    skip = body.get("skip")
    if is_number(skip) and skip > 0:
        docs = docs[int(skip):]
    limit = body.get("limit")
    if is_number(limit) and limit > 0:
        docs = docs[:int(limit)]
    if body.get("projection"):
        try:
            docs = [projected(d, body["projection"]) for d in docs]
        except QueryError as e:
            raise CommandError(e.code, e.errmsg)
    return cursor_reply("%s.%s" % (db, name), docs)


def write_error(index, e):
    return SON([("index", index), ("code", e.code), ("errmsg", e.errmsg)])


def put_id_first(doc):
    if "_id" not in doc:
        return SON([("_id", ObjectId())] + list(doc.items()))
    return SON([("_id", doc["_id"])] + [(k, v) for k, v in doc.items() if k != "_id"])


def duplicate_id(coll, doc, db, name, skip=None):
    for d in coll.documents:
        if d is not skip and q.equal(d["_id"], doc["_id"]):
            return QueryError(11000, "E11000 duplicate key error collection: %s.%s index: _id_ "
                              "dup key: { _id: %s }" % (db, name, fmt(doc["_id"])))
    return None


def check_update_spec(u, array_filters):
    """What mongod refuses when it parses an update, whether or not a document matches."""
    filters = q.parse_array_filters(array_filters)
    if isinstance(u, dict) and u and not q.is_replacement(u):
        used = set()
        for op, fields in u.items():
            if op not in q.UPDATE_OPERATORS:
                raise QueryError(9, "Unknown modifier: %s. Expected a valid update modifier or "
                                 "pipeline-style update specified as an array" % op)
            for path in (fields if isinstance(fields, dict) else {}):
                used.update(q.identifiers(path))
        for ident in filters:
            if ident not in used:
                raise QueryError(9, "The array filter for identifier '%s' was not used in the "
                                 "update %s" % (ident, q.show(u)))


def upsert_document(flt, u, array_filters, coll, db, name):
    if q.is_replacement(u):
        new = SON((k, copy.deepcopy(v)) for k, v in u.items())
        seed_id = q.upsert_seed(flt).get("_id")
        if "_id" not in new and seed_id is not None:
            new["_id"] = seed_id
    else:
        new, _ = q.apply_update(q.upsert_seed(flt), u, array_filters, inserting=True)
    new = put_id_first(new)
    dup = duplicate_id(coll, new, db, name) if coll else None
    if dup:
        raise dup
    return new


def cmd_update(store, conn, db, body):
    name = collection_name(body, "update")
    updates = body.get("updates")
    if not isinstance(updates, list):
        raise CommandError(14, "BSON field 'update.updates' is the wrong type, expected type 'array'")
    ordered = body.get("ordered", True)
    n = modified = 0
    upserted, errors = [], []
    for i, stmt in enumerate(updates):
        coll = store.collection(db, name)
        try:
            flt, u = stmt.get("q") or SON(), stmt.get("u")
            if u is None:
                raise QueryError(40414, "BSON field 'update.updates.u' is missing but a required "
                                 "field")
            multi, upsert = true_value(stmt.get("multi")), true_value(stmt.get("upsert"))
            af = stmt.get("arrayFilters")
            if multi and q.is_replacement(u) and u:
                raise QueryError(9, "multi update is not supported for replacement-style update")
            check_update_spec(u, af)
            if coll is not None and coll.type == "view":
                raise QueryError(166, "Namespace %s.%s is a view, not a collection" % (db, name))
            hits = [d for d in (coll.documents if coll else []) if q.matches(d, flt)]
            if not multi:
                hits = hits[:1]
            for d in hits:
                new, changed = q.apply_update(d, u, af)
                n += 1
                if changed:
                    coll.documents[coll.documents.index(d)] = new
                    modified += 1
                    store.changes += 1
            if not hits and upsert:
                new = upsert_document(flt, u, af, coll, db, name)
                coll = coll or store.create_collection(db, name, SON())
                coll.documents.append(new)
                upserted.append(SON([("index", i), ("_id", new["_id"])]))
                n += 1
                store.changes += 1
        except QueryError as e:
            errors.append(write_error(i, e))
            if ordered:
                break
    reply = SON([("n", n), ("nModified", modified)])
    if upserted:
        reply["upserted"] = upserted
    if errors:
        reply["writeErrors"] = errors
    reply["ok"] = 1.0
    return reply


def sorted_docs(docs, sort):
    docs = list(docs)
    for k, direction in reversed(list((sort or SON()).items())):
        docs.sort(key=q.SortKey.of(k), reverse=is_number(direction) and direction < 0)
    return docs


def projected(doc, fields):
    if doc is None or not fields:
        return doc
    return q.project(doc, fields, "$project")


def cmd_find_and_modify(store, conn, db, body):
    name = collection_name(body, next(iter(body)))
    flt = body.get("query") or SON()
    remove, u = true_value(body.get("remove")), body.get("update")
    if remove and u is not None:
        raise CommandError(9, "Cannot specify both an update and remove=true")
    if not remove and u is None:
        raise CommandError(9, "Either an update or remove=true must be specified")
    if remove and true_value(body.get("upsert")):
        raise CommandError(9, "Cannot specify both upsert=true and remove=true")
    af = body.get("arrayFilters")
    coll = store.collection(db, name)
    try:
        if u is not None:
            check_update_spec(u, af)
        hits = sorted_docs([d for d in (coll.documents if coll else []) if q.matches(d, flt)],
                           body.get("sort"))
        doc = hits[0] if hits else None
        last = SON([("n", 0)])
        value = None
        if remove:
            if doc is not None:
                coll.documents.remove(doc)
                store.changes += 1
                last["n"] = 1
                value = doc
        elif doc is not None:
            new, changed = q.apply_update(doc, u, af)
            if changed:
                coll.documents[coll.documents.index(doc)] = new
                store.changes += 1
            last["n"] = 1
            last["updatedExisting"] = True
            value = new if true_value(body.get("new")) else doc
        elif true_value(body.get("upsert")):
            new = upsert_document(flt, u, af, coll, db, name)
            coll = coll or store.create_collection(db, name, SON())
            coll.documents.append(new)
            store.changes += 1
            last["n"] = 1
            last["updatedExisting"] = False
            last["upserted"] = new["_id"]
            value = new if true_value(body.get("new")) else None
        else:
            last["updatedExisting"] = False
    except QueryError as e:
        raise CommandError(e.code, e.errmsg)
    return ok(lastErrorObject=last, value=projected(value, body.get("fields")))


def cmd_count(store, conn, db, body):
    name = collection_name(body, "count")
    coll = store.collection(db, name)
    docs = [d for d in (coll.documents if coll else []) if matches(d, body.get("query"))]
    skip, limit = body.get("skip") or 0, body.get("limit") or 0
    docs = docs[int(skip):]
    if limit:
        docs = docs[:abs(int(limit))]
    return ok(n=len(docs))


def cmd_distinct(store, conn, db, body):
    name = collection_name(body, "distinct")
    key = body.get("key")
    if not isinstance(key, str):
        raise CommandError(14, "BSON field 'distinct.key' is the wrong type, expected type 'string'")
    coll = store.collection(db, name)
    values = []
    for d in (coll.documents if coll else []):
        if not matches(d, body.get("query")):
            continue
        for v in q.expand(q.resolve(d, key)):
            if isinstance(v, list):
                continue
            if not any(q.equal(v, x) for x in values):
                values.append(v)
    values.sort(key=q.SortKey)
    return ok(values=values)


class StoreOps:
    """$out and $merge: how an aggregation writes to the store."""

    def __init__(self, store):
        self.store = store

    @staticmethod
    def target(db, spec, what):
        if isinstance(spec, str):
            return db, spec
        if isinstance(spec, dict) and isinstance(spec.get("coll"), str):
            return spec.get("db", db), spec["coll"]
        raise QueryError(13111 if what == "$merge" else 16990,
                         "%s only supports a string or object argument" % what)

    def out(self, db, spec, docs):
        tdb, tname = self.target(db, spec, "$out")
        docs = [put_id_first(d) for d in docs]
        for i, d in enumerate(docs):
            if any(q.equal(d["_id"], x["_id"]) for x in docs[:i]):
                raise QueryError(11000, "E11000 duplicate key error collection: %s.%s index: "
                                 "_id_ dup key: { _id: %s }" % (tdb, tname, fmt(d["_id"])))
        coll = self.store.collection(tdb, tname) or self.store.create_collection(tdb, tname, SON())
        coll.documents = docs  # the target's indexes and options stay
        self.store.changes += 1

    def merge(self, db, spec, docs):
        if isinstance(spec, str):
            spec = SON([("into", spec)])
        tdb, tname = self.target(db, spec.get("into"), "$merge")
        on = spec.get("on", "_id")
        on = [on] if isinstance(on, str) else list(on)
        matched, not_matched = spec.get("whenMatched", "merge"), spec.get("whenNotMatched", "insert")
        coll = self.store.collection(tdb, tname)
        if on != ["_id"] and coll is not None and not any(
                true_value(i.get("unique")) and sorted(i["key"]) == sorted(on)
                for i in coll.indexes):
            raise QueryError(51183, "Cannot find index to verify that join fields will be unique")
        if coll is None:
            coll = self.store.create_collection(tdb, tname, SON())
        for d in docs:
            for f in on:
                present, _ = q.get_field(d, f)
                if not present and f != "_id":
                    raise QueryError(51132, "$merge write error: 'on' field '%s' cannot be "
                                     "missing, null, undefined or an array" % f)
            key = SON((f, q.get_field(d, f)[1]) for f in on if q.get_field(d, f)[0])
            hit = next((x for x in coll.documents if all(
                q.get_field(x, f)[0] and q.equal(q.get_field(x, f)[1], v) for f, v in key.items())),
                None) if key else None
            if hit is None:
                if not_matched == "insert":
                    coll.documents.append(put_id_first(copy.deepcopy(d)))
                elif not_matched == "fail":
                    raise QueryError(13113, "$merge could not find a matching document in the "
                                     "target collection for at least one document in the "
                                     "source collection")
                continue
            i = coll.documents.index(hit)
            if matched == "merge":
                new = SON(hit)
                for k, v in d.items():
                    if k != "_id":
                        new[k] = copy.deepcopy(v)
                coll.documents[i] = new
            elif matched == "replace":
                new = SON([("_id", hit["_id"])] + [(k, copy.deepcopy(v)) for k, v in d.items()
                                                   if k != "_id"])
                coll.documents[i] = new
            elif matched == "fail":
                raise QueryError(11000, "$merge failed: E11000 duplicate key error collection: "
                                 "%s.%s" % (tdb, tname))
            elif isinstance(matched, list):
                coll.documents[i] = q.run_stages([hit], matched, None, None, updating=True)[0]
            elif matched != "keepExisting":
                raise QueryError(2, "Enumeration value '%s' for field 'whenMatched' is not a "
                                 "valid value." % matched)
        self.store.changes += 1


def cmd_aggregate(store, conn, db, body):
    target = body.get("aggregate")
    pipeline = body.get("pipeline")
    if not isinstance(pipeline, list):
        raise CommandError(14, "'pipeline' option must be specified as an array")
    if "cursor" not in body and not true_value(body.get("explain")):
        raise CommandError(9, "The 'cursor' option is required, except for aggregate with the "
                           "explain argument")
    if isinstance(target, str):
        coll = store.collection(db, target)
        docs = list(coll.documents) if coll else []
        ns = "%s.%s" % (db, target)
    else:
        docs, ns = [], "%s.$cmd.aggregate" % db
    try:
        out = q.run_stages(copy.deepcopy(docs), pipeline, StoreOps(store), db)
    except QueryError as e:
        raise CommandError(e.code, e.errmsg)
    return cursor_reply(ns, out)


def cmd_rename_collection(store, conn, db, body):
    if db != "admin":
        raise CommandError(13, "renameCollection may only be run against the admin database.")
    src, dst = body.get("renameCollection"), body.get("to")
    if not isinstance(src, str) or not isinstance(dst, str) or "." not in src or "." not in dst:
        raise CommandError(73, "Invalid namespace specified '%s'" % (src if "." not in str(src)
                                                                    else dst))
    sdb, sname = src.split(".", 1)
    tdb, tname = dst.split(".", 1)
    coll = store.collection(sdb, sname)
    if coll is None:
        raise CommandError(26, "Source collection %s does not exist" % src)
    if store.collection(tdb, tname) is not None:
        if not true_value(body.get("dropTarget")):
            raise CommandError(48, "target namespace exists")
    del store.databases[sdb][sname]
    store.databases.setdefault(tdb, {})[tname] = coll
    store.changes += 1
    return ok()


def cmd_end_sessions(store, conn, db, body):
    return ok()


def cmd_kill_cursors(store, conn, db, body):
    # Every cursor we hand out is exhausted in its first batch (id 0).
    return ok(cursorsKilled=[], cursorsNotFound=list(body.get("cursors") or []),
              cursorsAlive=[], cursorsUnknown=[])


def cmd_get_more(store, conn, db, body):
    raise CommandError(43, "cursor id %s not found" % body.get("getMore"))


def cmd_standin_stats(store, conn, db, body):
    commands = SON(sorted(store.commands.items()))
    return ok(commands=commands, handshakes=store.handshakes, writes=store.writes,
              changes=store.changes)


def cmd_standin_last(store, conn, db, body):
    last = store.last.get(body.get("standinLast"))
    return ok(command=last)


def cmd_standin_fail_next(store, conn, db, body):
    """Test-only: the next command of that name fails with code and errmsg, as a server
    refusal, before it runs (once)."""
    name = body.get("standinFailNext")
    code = body.get("code")
    if not isinstance(name, str) or not is_number(code) or not isinstance(body.get("errmsg"), str):
        raise CommandError(2, "standinFailNext takes a command name, code and errmsg")
    store.fail_next[name] = (int(code), body["errmsg"])
    return ok()


def cmd_standin_reset(store, conn, db, body):
    store.reset()
    return ok()


COMMANDS = {
    "hello": cmd_hello,
    "isMaster": cmd_hello,
    "ismaster": cmd_hello,
    "ping": cmd_ping,
    "buildInfo": cmd_build_info,
    "buildinfo": cmd_build_info,
    "listDatabases": cmd_list_databases,
    "listCollections": cmd_list_collections,
    "create": cmd_create,
    "drop": cmd_drop,
    "dropDatabase": cmd_drop_database,
    "listIndexes": cmd_list_indexes,
    "createIndexes": cmd_create_indexes,
    "collMod": cmd_coll_mod,
    "standinBuilding": cmd_standin_building,
    "dropIndexes": cmd_drop_indexes,
    "deleteIndexes": cmd_drop_indexes,
    "insert": cmd_insert,
    "delete": cmd_delete,
    "find": cmd_find,
    "update": cmd_update,
    "findAndModify": cmd_find_and_modify,
    "findandmodify": cmd_find_and_modify,
    "count": cmd_count,
    "distinct": cmd_distinct,
    "aggregate": cmd_aggregate,
    "renameCollection": cmd_rename_collection,
    "commitTransaction": None,  # handled by Server.transaction
    "abortTransaction": None,
    "endSessions": cmd_end_sessions,
    "killCursors": cmd_kill_cursors,
    "getMore": cmd_get_more,
    "standinStats": cmd_standin_stats,
    "standinReset": cmd_standin_reset,
    "standinLast": cmd_standin_last,
    "standinFailNext": cmd_standin_fail_next,
}

# Commands that observe the counters rather than add to them.
UNCOUNTED = frozenset(("standinStats", "standinReset", "standinLast", "standinFailNext"))


# ---------------------------------------------------------------------------
# Wire protocol


def recv_exact(sock, n):
    """n bytes, or None at end of stream before the first byte."""
    chunks = []
    got = 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            if got == 0:
                return None
            raise Malformed("connection closed in the middle of a message")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_cstring(data, pos):
    end = data.find(b"\x00", pos)
    if end < 0:
        raise Malformed("unterminated C string")
    return data[pos:end].decode("utf-8"), end + 1


def read_document(data, pos, limit):
    if pos + 4 > limit:
        raise Malformed("truncated document")
    (size,) = struct.unpack_from("<i", data, pos)
    if size < 5 or pos + size > limit:
        raise Malformed("bad document length %d" % size)
    docs = bson.decode_all(data[pos:pos + size], CODEC)
    if len(docs) != 1:
        raise Malformed("expected one document")
    return docs[0], pos + size


def parse_op_msg(payload):
    """Return (flags, body): the kind-0 document with every kind-1 sequence
    merged in under its identifier, as mongod sees the command."""
    if len(payload) < 5:
        raise Malformed("OP_MSG too short")
    (flags,) = struct.unpack_from("<I", payload, 0)
    if flags & 0xFFFF & ~MSG_REQUIRED_BITS_KNOWN:
        raise Malformed("OP_MSG with unknown required flag bits 0x%x" % flags)
    end = len(payload) - (4 if flags & MSG_CHECKSUM_PRESENT else 0)
    pos = 4
    body = None
    sequences = []
    while pos < end:
        kind = payload[pos]
        pos += 1
        if kind == 0:
            if body is not None:
                raise Malformed("OP_MSG with two body sections")
            body, pos = read_document(payload, pos, end)
        elif kind == 1:
            if pos + 4 > end:
                raise Malformed("truncated document sequence")
            (size,) = struct.unpack_from("<i", payload, pos)
            seq_end = pos + size
            if size < 5 or seq_end > end:
                raise Malformed("bad document sequence length %d" % size)
            ident, p = read_cstring(payload, pos + 4)
            docs = []
            while p < seq_end:
                doc, p = read_document(payload, p, seq_end)
                docs.append(doc)
            sequences.append((ident, docs))
            pos = seq_end
        else:
            raise Malformed("unknown OP_MSG section kind %d" % kind)
    if body is None:
        raise Malformed("OP_MSG without a body section")
    for ident, docs in sequences:
        if ident in body:
            raise Malformed("document sequence %r duplicates a body field" % ident)
        body[ident] = docs
    return flags, body


def parse_op_query(payload):
    """Return (namespace, query) of a legacy OP_QUERY, unwrapping $query."""
    if len(payload) < 4:
        raise Malformed("OP_QUERY too short")
    ns, pos = read_cstring(payload, 4)
    pos += 8  # numberToSkip, numberToReturn
    query, pos = read_document(payload, pos, len(payload))
    if "$query" in query and isinstance(query["$query"], dict):
        query = query["$query"]
    elif "query" in query and isinstance(query["query"], dict):
        query = query["query"]
    return ns, query


def pack_op_msg(request_id, response_to, doc):
    payload = struct.pack("<I", 0) + b"\x00" + bson.BSON.encode(doc)
    return struct.pack("<iiii", 16 + len(payload), request_id, response_to, OP_MSG) + payload


def pack_op_reply(request_id, response_to, doc, flags=0):
    # AwaitCapable (bit 3) is always set by mongod.
    payload = struct.pack("<iqii", flags | 8, 0, 0, 1) + bson.BSON.encode(doc)
    return struct.pack("<iiii", 16 + len(payload), request_id, response_to, OP_REPLY) + payload


# ---------------------------------------------------------------------------
# Server


class StandinServer(socketserver.ThreadingTCPServer):
    daemon_threads = True  # a client that never hangs up must not block exit
    allow_reuse_address = True

    def __init__(self, address, log_path):
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__(address, Connection)
        self.store = Store()
        self.request_ids = itertools.count(1)
        self.connection_ids = itertools.count(1)
        self.log_lock = threading.Lock()
        self.log_file = open(log_path, "a", buffering=1) if log_path else None

    def log(self, line):
        if self.log_file is None:
            return
        stamp = datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3]
        with self.log_lock:
            self.log_file.write("%s %s\n" % (stamp, line))

    def run_command(self, conn, db, body, via):
        if not body:
            raise Malformed("empty command document")
        name = next(iter(body))
        handler = COMMANDS.get(name)
        with self.store.lock:
            if name in HANDSHAKE_COMMANDS:
                self.store.handshakes += 1
            elif name not in UNCOUNTED:
                self.store.commands[name] = self.store.commands.get(name, 0) + 1
                if name in WRITE_COMMANDS:
                    self.store.writes += 1
            try:
                if via == "query" and name not in HANDSHAKE_COMMANDS:
                    # mongod 6+ answers nothing but the handshake over OP_QUERY.
                    raise CommandError(352, "Unsupported OP_QUERY command: %s. The client driver "
                                       "may require an upgrade." % name)
                if handler is None and name not in ("commitTransaction", "abortTransaction"):
                    raise CommandError(59, "no such command: '%s'" % name)
                if name in self.store.fail_next:
                    raise CommandError(*self.store.fail_next.pop(name))
                reply = self.dispatch(conn, db, body, name, handler)
            except CommandError as e:
                reply = e.reply()
            except QueryError as e:
                reply = CommandError(e.code, e.errmsg).reply()
            except Exception as e:  # a stand-in bug: report it, keep serving
                traceback.print_exc(file=sys.stderr)
                reply = CommandError(1, "stand-in internal error: %r" % e).reply()
        if reply.get("ok"):
            result = "ok"
        else:
            result = "error %s %s" % (reply.get("code"), reply.get("codeName"))
        self.log("conn%d %s %s.%s %s" % (conn.connection_id, via, db, name, result))
        return reply


    def dispatch(self, conn, db, body, name, handler):
        self.store.last[name] = body
        reply = self.run_in_session(conn, db, body, name, handler)
        return self.apply_write_concern(body, name, reply)

    @staticmethod
    def apply_write_concern(body, name, reply):
        """A numeric w above 1 is what one server cannot satisfy: a standalone mongod refuses
        the command (2 BadValue, before it runs: the stand-in has already run it, which only
        matters to a test that then reads the data); a one-member replica set runs the write
        and reports a writeConcernError (100)."""
        wc = body.get("writeConcern")
        if not isinstance(wc, dict) or name not in WRITE_COMMANDS or not reply.get("ok"):
            return reply
        w = wc.get("w")
        if not is_number(w) or w <= 1:
            return reply
        if not REPLSET:
            return CommandError(2, "cannot use 'w' > 1 with a standalone").reply()
        reply["writeConcernError"] = SON([
            ("code", 100), ("codeName", "UnsatisfiableWriteConcern"),
            ("errmsg", "Not enough data-bearing nodes"),
            ("errInfo", SON([("writeConcern", wc)]))])
        return reply

    def run_in_session(self, conn, db, body, name, handler):
        """Runs a command, inside its session's transaction when it names one: the
        transaction works on its own copy of the databases, and commitTransaction puts
        the collections it wrote back (a write by another client to the same collection
        meanwhile is overwritten: the stand-in detects no write conflicts)."""
        store = self.store
        lsid, number, auto = body.get("lsid"), body.get("txnNumber"), body.get("autocommit")
        if name in ("commitTransaction", "abortTransaction") and (number is None or lsid is None):
            raise CommandError(50768, "txnNumber must be provided for %s" % name)
        if lsid is None or number is None or auto is None:
            return handler(store, conn, db, body)  # no transaction (a retryable write at most)
        if auto is not False:
            raise CommandError(50768, "autocommit field can only be specified as false")
        if not REPLSET:
            raise CommandError(20, "Transaction numbers are only allowed on a replica set "
                               "member or mongos")
        key = str(lsid.get("id"))
        sess = store.sessions.get(key)
        if true_value(body.get("startTransaction")):
            sess = {"number": number, "working": copy.deepcopy(store.databases),
                    "touched": set(), "state": "active"}
            store.sessions[key] = sess
        elif sess is None or sess["number"] != number:
            raise CommandError(251, "Given transaction number %d does not match any in-progress "
                               "transactions." % number)
        if name == "commitTransaction":
            if sess["state"] == "aborted":
                raise CommandError(251, "Transaction with { txnNumber: %d } has been aborted."
                                   % number)
            if sess["state"] == "active":
                for tdb, tname in sess["touched"]:
                    coll = sess["working"].get(tdb, {}).get(tname)
                    if coll is None:
                        store.databases.get(tdb, {}).pop(tname, None)
                    else:
                        store.databases.setdefault(tdb, {})[tname] = coll
                sess["state"] = "committed"
            return ok()
        if name == "abortTransaction":
            if sess["state"] != "active":
                raise CommandError(251, "Transaction with { txnNumber: %d } has been aborted."
                                   % number)
            sess["state"] = "aborted"
            return ok()
        if sess["state"] != "active":
            raise CommandError(251, "Transaction with { txnNumber: %d } has been aborted." % number)
        if name not in TRANSACTION_COMMANDS:
            sess["state"] = "aborted"
            raise CommandError(263, "Cannot run '%s' in a multi-document transaction." % name)
        if "writeConcern" in body:
            sess["state"] = "aborted"
            raise CommandError(72, "Cannot set write concern after starting a transaction.")
        saved = store.databases
        store.databases = sess["working"]
        try:
            reply = handler(store, conn, db, body)
        except (CommandError, QueryError):
            sess["state"] = "aborted"  # mongod aborts a transaction on a failed command
            raise
        finally:
            store.databases = saved
        if reply.get("writeErrors"):
            sess["state"] = "aborted"
        elif isinstance(body.get(name), str):
            sess["touched"].add((db, body[name]))
        return reply


class Connection(socketserver.BaseRequestHandler):
    """One client connection: read a message, answer it, until it closes."""

    def setup(self):
        self.connection_id = next(self.server.connection_ids)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self):
        server = self.server
        try:
            while True:
                header = recv_exact(self.request, 16)
                if header is None:
                    return
                length, request_id, _, opcode = struct.unpack("<iiii", header)
                if length < 16 or length > MAX_MESSAGE_SIZE:
                    raise Malformed("message length %d" % length)
                payload = recv_exact(self.request, length - 16) if length > 16 else b""
                if payload is None:
                    raise Malformed("connection closed after a header")
                reply = self.answer(request_id, opcode, payload)
                if reply is not None:
                    self.request.sendall(reply)
        except (Malformed, BSONError, UnicodeDecodeError, struct.error, ValueError) as e:
            # Bad bytes: drop this connection only, as mongod does.
            server.log("conn%d closed: malformed message: %s" % (self.connection_id, e))
        except OSError:
            pass  # the client went away

    def answer(self, request_id, opcode, payload):
        server = self.server
        if opcode == OP_MSG:
            flags, body = parse_op_msg(payload)
            db = body.get("$db")
            via = "msg(moreToCome)" if flags & MSG_MORE_TO_COME else "msg"
            if not isinstance(db, str) or not db:
                reply = CommandError(40571, "OP_MSG requests require a $db argument").reply()
            else:
                reply = server.run_command(self, db, body, via)
            if flags & MSG_MORE_TO_COME:
                return None  # e.g. an unacknowledged (w:0) write: no reply allowed
            return pack_op_msg(next(server.request_ids), request_id, reply)
        if opcode == OP_QUERY:
            ns, query = parse_op_query(payload)
            if not ns.endswith(".$cmd"):
                err = SON([("$err", "OP_QUERY is no longer supported for find"), ("code", 5739101),
                           ("ok", 0.0)])
                return pack_op_reply(next(server.request_ids), request_id, err, flags=2)
            reply = server.run_command(self, ns[:-len(".$cmd")], query, "query")
            return pack_op_reply(next(server.request_ids), request_id, reply)
        raise Malformed("unsupported opcode %d" % opcode)


# ---------------------------------------------------------------------------
# Command line


def loopback_host(host):
    """Refuse anything but a loopback address: this is for tests on this machine."""
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost":
            return "127.0.0.1"
        raise SystemExit("mongo_standin: --host must be a loopback address, got %r" % host)
    if not addr.is_loopback:
        raise SystemExit("mongo_standin: --host must be a loopback address, got %r" % host)
    return str(addr)


def write_port_file(path, port):
    # Write then rename, so a script polling for the file never reads half of it.
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="In-memory MongoDB stand-in for tests (not a database).")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--mongod-version", default="7.0", choices=("5.0", "7.0", "8.0"),
                        help="the mongod whose behaviour differences to imitate (default 7.0)")
    parser.add_argument("--log", help="append one line per command to this file")
    parser.add_argument("--replset", metavar="NAME",
                        help="answer as the primary of the one-member replica set NAME, "
                             "which runs transactions (default: a standalone server)")
    args = parser.parse_args(argv)
    global MONGOD, REPLSET
    MONGOD = tuple(int(x) for x in args.mongod_version.split("."))
    REPLSET = args.replset

    host = loopback_host(args.host)
    try:
        server = StandinServer((host, args.port), args.log)
    except OSError as e:
        raise SystemExit("mongo_standin: cannot listen on %s:%d: %s" % (host, args.port, e.strerror))
    port = server.server_address[1]

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    # serve_forever runs in a thread because shutdown() must be called from
    # another thread than the one serving; the main thread waits for a signal.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    server.log("listening on %s:%d (pid %d)" % (host, port, os.getpid()))
    if args.port_file:
        write_port_file(args.port_file, port)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        server.shutdown()
        server.server_close()
        server.log("stopped")
        if args.port_file:
            try:
                os.unlink(args.port_file)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
