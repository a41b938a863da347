"""Query, update and aggregation semantics for the MongoDB stand-in.

Written against mongod's documented behaviour (the manual's pages on query and
update operators, array filters, $out and $merge, and the error codes mongod
returns), not copied from any implementation.  It covers what migration files
commonly use; what it does not know it refuses with mongod's code for an
unknown operator rather than guessing.

Values are those python3-bson decodes: SON for documents, list, str, int,
Int64, float, bool, None, datetime, ObjectId, Binary, Decimal128, Regex.
"""

import copy
import datetime
import re

from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.objectid import ObjectId
from bson.regex import Regex
from bson.son import SON
from bson.timestamp import Timestamp


class QueryError(Exception):
    """A failure with mongod's code; the server turns it into ok: 0."""

    def __init__(self, code, errmsg):
        super().__init__(errmsg)
        self.code = code
        self.errmsg = errmsg


# ---------------------------------------------------------------------------
# Values: type order, comparison, printing


def is_number(v):
    return isinstance(v, (int, float, Decimal128)) and not isinstance(v, bool)


def num(v):
    return float(v.to_decimal()) if isinstance(v, Decimal128) else v


def canonical_type(v):
    """mongod's canonical type order, used to compare values of different types."""
    if v is None:
        return 5
    if is_number(v):
        return 10
    if isinstance(v, str):
        return 15
    if isinstance(v, dict):
        return 20
    if isinstance(v, list):
        return 25
    if isinstance(v, (bytes,)):
        return 30
    if isinstance(v, ObjectId):
        return 35
    if isinstance(v, bool):
        return 40
    if isinstance(v, datetime.datetime):
        return 45
    if isinstance(v, Timestamp):
        return 47
    if isinstance(v, (Regex, re.Pattern)):
        return 50
    return 30  # Binary and the rest


def compare(a, b):
    """-1, 0 or 1, as mongod's BSON comparison orders a and b."""
    ta, tb = canonical_type(a), canonical_type(b)
    if ta != tb:
        return -1 if ta < tb else 1
    if ta == 5:
        return 0
    if ta == 10:
        x, y = num(a), num(b)
        return (x > y) - (x < y)
    if ta == 20:
        ka, kb = list(a.items()), list(b.items())
        for (k1, v1), (k2, v2) in zip(ka, kb):
            c = compare(v1, v2)
            if c:
                return c
            if k1 != k2:
                return -1 if k1 < k2 else 1
        return (len(ka) > len(kb)) - (len(ka) < len(kb))
    if ta == 25:
        for x, y in zip(a, b):
            c = compare(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ta == 40:
        return (a > b) - (a < b)
    if ta == 50:
        return 0 if str(a) == str(b) else (-1 if str(a) < str(b) else 1)
    try:
        return (a > b) - (a < b)
    except TypeError:
        return 0 if a == b else -1


def equal(a, b):
    return canonical_type(a) == canonical_type(b) and compare(a, b) == 0


def type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, Int64):
        return "long"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, Decimal128):
        return "decimal"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    if isinstance(v, ObjectId):
        return "objectId"
    if isinstance(v, datetime.datetime):
        return "date"
    if isinstance(v, Timestamp):
        return "timestamp"
    if isinstance(v, (Regex, re.Pattern)):
        return "regex"
    return "binData"


TYPE_ALIASES = {1: "double", 2: "string", 3: "object", 4: "array", 5: "binData",
                7: "objectId", 8: "bool", 9: "date", 10: "null", 11: "regex",
                16: "int", 17: "timestamp", 18: "long", 19: "decimal"}


def show(v):
    """A value as mongod prints it in error messages."""
    if isinstance(v, dict):
        if not v:
            return "{}"
        return "{ " + ", ".join("%s: %s" % (k, show(x)) for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[ " + ", ".join(show(x) for x in v) + " ]" if v else "[]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"%s"' % v
    if v is None:
        return "null"
    if isinstance(v, ObjectId):
        return "ObjectId('%s')" % v
    if isinstance(v, datetime.datetime):
        return "new Date(%d)" % int(v.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    return str(v)


def id_of(doc):
    return "{_id: %s}" % show(doc.get("_id"))


# ---------------------------------------------------------------------------
# Paths


def resolve(doc, path):
    """Every value path reaches in doc (arrays along the way are traversed, and a
    numeric part indexes an array), and whether any was found."""
    values = []

    def walk(node, parts):
        if not parts:
            values.append(node)
            return
        part, rest = parts[0], parts[1:]
        if isinstance(node, dict):
            if part in node:
                walk(node[part], rest)
        elif isinstance(node, list):
            if part.isdigit() and int(part) < len(node):
                walk(node[int(part)], rest)
            for el in node:
                if isinstance(el, dict) and part in el:
                    walk(el[part], rest)

    walk(doc, path.split("."))
    return values


def get_field(doc, path):
    """The value at path with no array traversal, and whether it exists."""
    cur = doc
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return False, None
    return True, cur


# ---------------------------------------------------------------------------
# Matching (find, update, delete, count, distinct, $match, $pull, arrayFilters)


def expand(values):
    """The values an operator meets: each value, and each element of an array."""
    out = []
    for v in values:
        out.append(v)
        if isinstance(v, list):
            out.extend(v)
    return out


def comparable(a, b):
    return canonical_type(a) == canonical_type(b)


def regex_of(arg, options=""):
    if isinstance(arg, Regex):
        pattern, flags = arg.pattern, arg.flags
    elif isinstance(arg, re.Pattern):
        return arg
    else:
        pattern, flags = arg, 0
    for o in options:
        flags |= {"i": re.I, "m": re.M, "s": re.S, "x": re.X}.get(o, 0)
    return re.compile(pattern, flags if isinstance(flags, int) else 0)


def op_matches(op, arg, values, cond):
    found = bool(values)
    every = expand(values)
    if op == "$eq":
        if arg is None:
            return not found or any(v is None for v in every)
        return any(equal(v, arg) for v in every)
    if op == "$ne":
        return not op_matches("$eq", arg, values, cond)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if arg is None and op in ("$gte", "$lte"):
            return op_matches("$eq", None, values, cond)
        for v in every:
            if not comparable(v, arg):
                continue
            c = compare(v, arg)
            if (op == "$gt" and c > 0) or (op == "$gte" and c >= 0) or \
               (op == "$lt" and c < 0) or (op == "$lte" and c <= 0):
                return True
        return False
    if op == "$in":
        if not isinstance(arg, list):
            raise QueryError(2, "$in needs an array")
        for a in arg:
            if isinstance(a, (Regex, re.Pattern)):
                if any(isinstance(v, str) and regex_of(a).search(v) for v in every):
                    return True
            elif op_matches("$eq", a, values, cond):
                return True
        return False
    if op == "$nin":
        if not isinstance(arg, list):
            raise QueryError(2, "$nin needs an array")
        return not op_matches("$in", arg, values, cond)
    if op == "$exists":
        return found == truthy(arg)
    if op == "$type":
        wanted = arg if isinstance(arg, list) else [arg]
        names = set()
        for w in wanted:
            if is_number(w):
                names.add(TYPE_ALIASES.get(int(num(w)), "?"))
            elif w == "number":
                names.update(("int", "long", "double", "decimal"))
            else:
                names.add(w)
        return any(type_name(v) in names for v in every)
    if op == "$size":
        return any(isinstance(v, list) and len(v) == num(arg) for v in values)
    if op == "$all":
        return all(op_matches("$eq", a, values, cond) for a in arg)
    if op == "$elemMatch":
        for v in values:
            if isinstance(v, list):
                for el in v:
                    if is_operator_doc(arg) and not isinstance(el, dict):
                        if all(op_matches(o, a, [el], arg) for o, a in arg.items()):
                            return True
                    elif isinstance(el, dict) and matches(el, arg):
                        return True
                    elif is_operator_doc(arg) and all(op_matches(o, a, [el], arg)
                                                      for o, a in arg.items()):
                        return True
        return False
    if op == "$not":
        if isinstance(arg, (Regex, re.Pattern)):
            return not op_matches("$regex", arg, values, cond)
        if not isinstance(arg, dict):
            raise QueryError(2, "$not needs a regex or a document")
        return not all(op_matches(o, a, values, arg) for o, a in arg.items())
    if op == "$regex":
        rx = regex_of(arg, cond.get("$options", "") if isinstance(cond, dict) else "")
        return any(isinstance(v, str) and rx.search(v) for v in every)
    if op == "$options":
        return True
    if op == "$mod":
        d, r = arg
        return any(is_number(v) and int(num(v)) % int(num(d)) == int(num(r)) for v in every)
    raise QueryError(2, "unknown operator: %s" % op)


def is_operator_doc(v):
    return isinstance(v, dict) and bool(v) and all(k.startswith("$") for k in v)


def truthy(v):
    if v is None or v is False:
        return False
    if is_number(v):
        return num(v) != 0
    return True


def field_matches(doc, path, cond):
    values = resolve(doc, path)
    if is_operator_doc(cond):
        return all(op_matches(op, arg, values, cond) for op, arg in cond.items())
    if isinstance(cond, (Regex, re.Pattern)):
        return op_matches("$regex", cond, values, {})
    return op_matches("$eq", cond, values, {})


def matches(doc, flt):
    if not flt:
        return True
    if not isinstance(flt, dict):
        raise QueryError(14, "filter must be an object")
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(doc, f) for f in cond):
                return False
        elif key == "$or":
            if not any(matches(doc, f) for f in cond):
                return False
        elif key == "$nor":
            if any(matches(doc, f) for f in cond):
                return False
        elif key == "$expr":
            if not truthy(evaluate(cond, doc)):
                return False
        elif key == "$comment":
            continue
        elif key.startswith("$"):
            raise QueryError(2, "unknown top level operator: %s" % key)
        elif not field_matches(doc, key, cond):
            return False
    return True


# ---------------------------------------------------------------------------
# Aggregation expressions ($project, $addFields, $set, $expr, pipeline updates)


def evaluate(expr, doc):
    if isinstance(expr, str):
        if expr.startswith("$$"):
            name = expr[2:]
            if name == "ROOT" or name == "CURRENT":
                return doc
            if name == "NOW":
                return datetime.datetime.utcnow().replace(microsecond=0)
            if name == "REMOVE":
                return REMOVE
            raise QueryError(17276, "Use of undefined variable: %s" % name)
        if expr.startswith("$"):
            values = resolve_expr_path(doc, expr[1:])
            return values
        return expr
    if isinstance(expr, list):
        return [evaluate(e, doc) for e in expr]
    if isinstance(expr, dict):
        if len(expr) == 1 and next(iter(expr)).startswith("$"):
            op, arg = next(iter(expr.items()))
            return operator(op, arg, doc)
        out = SON()
        for k, v in expr.items():
            if k.startswith("$"):
                raise QueryError(16410, "FieldPath field names may not start with '$'.")
            r = evaluate(v, doc)
            if r is not MISSING and r is not REMOVE:
                out[k] = r
        return out
    return expr


class _Missing:
    def __repr__(self):
        return "MISSING"


MISSING = _Missing()
REMOVE = _Missing()


def resolve_expr_path(doc, path):
    cur = doc
    parts = path.split(".")
    for i, part in enumerate(parts):
        if isinstance(cur, dict):
            if part not in cur:
                return MISSING
            cur = cur[part]
        elif isinstance(cur, list):
            rest = ".".join(parts[i:])
            out = []
            for el in cur:
                if isinstance(el, (dict, list)):
                    r = resolve_expr_path(el, rest)
                    if r is not MISSING:
                        out.append(r)
            return out
        else:
            return MISSING
    return cur


def args_of(arg, doc):
    items = arg if isinstance(arg, list) else [arg]
    return [evaluate(a, doc) for a in items]


def nullish(v):
    return v is None or v is MISSING


def operator(op, arg, doc):
    if op == "$literal":
        return arg
    a = None if op in ("$cond", "$ifNull", "$switch", "$let") else args_of(arg, doc)
    if op == "$concat":
        if any(nullish(x) for x in a):
            return None
        for x in a:
            if not isinstance(x, str):
                raise QueryError(16702, "$concat only supports strings, not %s" % type_name(x))
        return "".join(a)
    if op in ("$toUpper", "$toLower"):
        x = a[0]
        if nullish(x):
            return ""
        s = x if isinstance(x, str) else str(x)
        return s.upper() if op == "$toUpper" else s.lower()
    if op in ("$add", "$multiply"):
        if any(nullish(x) for x in a):
            return None
        if op == "$add" and any(isinstance(x, datetime.datetime) for x in a):
            base = next(x for x in a if isinstance(x, datetime.datetime))
            ms = sum(num(x) for x in a if is_number(x))
            return base + datetime.timedelta(milliseconds=ms)
        for x in a:
            if not is_number(x):
                raise QueryError(14 if op == "$add" else 16555,
                                 "%s only supports numeric types, not %s" % (op, type_name(x)))
        r = 0 if op == "$add" else 1
        for x in a:
            r = r + num(x) if op == "$add" else r * num(x)
        return r
    if op in ("$subtract", "$divide", "$mod"):
        x, y = a[0], a[1]
        if nullish(x) or nullish(y):
            return None
        if op == "$subtract" and isinstance(x, datetime.datetime):
            if isinstance(y, datetime.datetime):
                return Int64(int((x - y).total_seconds() * 1000))
            return x - datetime.timedelta(milliseconds=num(y))
        if not is_number(x) or not is_number(y):
            raise QueryError(16556, "%s only supports numeric types, not %s and %s"
                             % (op, type_name(x), type_name(y)))
        if op != "$subtract" and num(y) == 0:
            raise QueryError(2, "can't %s by 0" % ("divide" if op == "$divide" else "$mod"))
        if op == "$subtract":
            return num(x) - num(y)
        if op == "$divide":
            return num(x) / num(y)
        return num(x) % num(y)
    if op == "$ifNull":
        items = arg if isinstance(arg, list) else [arg]
        for e in items[:-1]:
            v = evaluate(e, doc)
            if not nullish(v):
                return v
        return evaluate(items[-1], doc)
    if op == "$cond":
        if isinstance(arg, dict):
            c, t, f = arg.get("if"), arg.get("then"), arg.get("else")
        else:
            c, t, f = arg
        return evaluate(t, doc) if truthy(evaluate(c, doc)) else evaluate(f, doc)
    if op in ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$cmp"):
        x = None if a[0] is MISSING else a[0]
        y = None if a[1] is MISSING else a[1]
        c = compare(x, y)
        return {"$eq": c == 0, "$ne": c != 0, "$gt": c > 0, "$gte": c >= 0,
                "$lt": c < 0, "$lte": c <= 0, "$cmp": c}[op]
    if op == "$and":
        return all(truthy(x) for x in a)
    if op == "$or":
        return any(truthy(x) for x in a)
    if op == "$not":
        return not truthy(a[0])
    if op == "$toString":
        x = a[0]
        if nullish(x):
            return None
        if isinstance(x, datetime.datetime):
            return x.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (x.microsecond // 1000)
        if isinstance(x, bool):
            return "true" if x else "false"
        return str(x)
    if op in ("$toInt", "$toLong", "$toDouble"):
        x = a[0]
        if nullish(x):
            return None
        try:
            if op == "$toDouble":
                return float(num(x)) if not isinstance(x, str) else float(x)
            v = int(num(x)) if not isinstance(x, str) else int(x)
            return Int64(v) if op == "$toLong" else v
        except (TypeError, ValueError):
            raise QueryError(241, "Failed to parse number '%s' in $convert with no onError value"
                             % x)
    if op == "$toDate":
        x = a[0]
        if nullish(x):
            return None
        if isinstance(x, datetime.datetime):
            return x
        if isinstance(x, str):
            return parse_date(x)
        if is_number(x):
            return datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=num(x))
        raise QueryError(241, "can't convert from BSON type %s to Date" % type_name(x))
    if op == "$dateFromString":
        return parse_date(evaluate(arg.get("dateString"), doc))
    if op == "$size":
        x = a[0]
        if not isinstance(x, list):
            raise QueryError(17124, "The argument to $size must be an array. Type of argument "
                             "is: %s" % ("missing" if x is MISSING else type_name(x)))
        return len(x)
    if op == "$type":
        return "missing" if a[0] is MISSING else type_name(a[0])
    if op == "$split":
        s, sep = a[0], a[1]
        if nullish(s):
            return None
        return s.split(sep)
    if op == "$trim":
        x = evaluate(arg.get("input"), doc)
        return None if nullish(x) else x.strip()
    if op == "$arrayElemAt":
        arr, i = a[0], int(num(a[1]))
        if nullish(arr):
            return None
        return arr[i] if -len(arr) <= i < len(arr) else MISSING
    if op == "$mergeObjects":
        out = SON()
        for x in a:
            if isinstance(x, dict):
                out.update(x)
        return out
    raise QueryError(168, "Unrecognized expression '%s'" % op)


def parse_date(s):
    if nullish(s):
        return None
    for f in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(s, f)
        except ValueError:
            pass
    raise QueryError(241, "Error parsing date string '%s'" % s)


# ---------------------------------------------------------------------------
# Updates


UPDATE_OPERATORS = ("$set", "$unset", "$inc", "$mul", "$min", "$max", "$rename",
                    "$setOnInsert", "$push", "$addToSet", "$pull", "$pullAll", "$pop",
                    "$currentDate")


def split_path(path):
    return path.split(".")


def check_conflicts(paths):
    seen = []
    for p in paths:
        for q in seen:
            a, b = split_path(p), split_path(q)
            n = min(len(a), len(b))
            if a[:n] == b[:n]:
                raise QueryError(40, "Updating the path '%s' would create a conflict at '%s'"
                                 % (p, ".".join(a[:n])))
        seen.append(p)


def identifiers(path):
    return [p[2:-1] for p in split_path(path) if p.startswith("$[") and p.endswith("]")
            and len(p) > 3]


class Updater:
    """One update of one document: collects paths, checks them, applies them."""

    def __init__(self, doc, array_filters, inserting, original_id_present=True):
        self.doc = doc
        self.filters = array_filters
        self.inserting = inserting
        self.changed = False

    def elements(self, arr, part, path):
        if part == "$[]":
            return list(range(len(arr)))
        ident = part[2:-1]
        flt = self.filters.get(ident)
        if flt is None:
            raise QueryError(2, "No array filter found for identifier '%s' in path '%s'"
                             % (ident, path))
        return [i for i, el in enumerate(arr) if matches(SON([(ident, el)]), flt)]

    def targets(self, path, create):
        """(container, key) pairs path names; created along the way when create."""
        parts = split_path(path)
        out = []

        def walk(node, i):
            part = parts[i]
            last = i == len(parts) - 1
            if part.startswith("$["):
                if not isinstance(node, list):
                    raise QueryError(2, "The path '%s' must exist in the document in order to "
                                     "apply array updates." % ".".join(parts[:i]))
                for idx in self.elements(node, part, path):
                    if last:
                        out.append((node, idx))
                    else:
                        walk_child(node, idx, i)
                return
            if part == "$":
                raise QueryError(2, "The positional operator did not find the match needed "
                                 "from the query.")
            if isinstance(node, list):
                if not part.isdigit():
                    if not create:
                        return
                    raise QueryError(28, "Cannot create field '%s' in element {%s: %s}"
                                     % (part, parts[i - 1], show(node)))
                idx = int(part)
                if last:
                    out.append((node, idx))
                else:
                    walk_child(node, idx, i)
                return
            if last:
                out.append((node, part))
            else:
                walk_child(node, part, i)

        def walk_child(node, key, i):
            present = (key in node) if isinstance(node, dict) else key < len(node)
            if not present:
                if not create:
                    return
                child = SON()
                set_at(node, key, child)
                self.changed = True
            child = node[key]
            if not isinstance(child, (dict, list)):
                if not create:
                    return
                raise QueryError(28, "Cannot create field '%s' in element {%s: %s}"
                                 % (parts[i + 1], parts[i], show(child)))
            walk(child, i + 1)

        walk(self.doc, 0)
        return out

    def field_name(self, path):
        return path

    def set_value(self, path, value):
        for node, key in self.targets(path, True):
            present, cur = lookup(node, key)
            if not present or not same(cur, value):
                set_at(node, key, copy.deepcopy(value))
                self.changed = True

    def apply(self, op, path, arg):
        if op == "$set":
            self.set_value(path, arg)
        elif op == "$setOnInsert":
            if self.inserting:
                self.set_value(path, arg)
        elif op == "$unset":
            for node, key in self.targets(path, False):
                present, _ = lookup(node, key)
                if present:
                    if isinstance(node, list):
                        node[key] = None
                    else:
                        del node[key]
                    self.changed = True
        elif op in ("$inc", "$mul"):
            if not is_number(arg):
                raise QueryError(14, "Cannot %s with non-numeric argument: {%s: %s}"
                                 % ("increment" if op == "$inc" else "multiply", path, show(arg)))
            for node, key in self.targets(path, True):
                present, cur = lookup(node, key)
                if not present:
                    new = arg if op == "$inc" else type(arg)(0)
                elif not is_number(cur):
                    raise QueryError(14, "Cannot apply %s to a value of non-numeric type. %s has "
                                     "the field '%s' of non-numeric type %s"
                                     % (op, id_of(self.doc), key, type_name(cur)))
                else:
                    new = num(cur) + num(arg) if op == "$inc" else num(cur) * num(arg)
                    if isinstance(cur, Int64) or isinstance(arg, Int64):
                        new = Int64(new) if isinstance(new, int) else new
                    elif isinstance(new, int) and not -2**31 <= new < 2**31:
                        new = Int64(new)
                if not present or not same(cur, new):
                    set_at(node, key, new)
                    self.changed = True
        elif op in ("$min", "$max"):
            for node, key in self.targets(path, True):
                present, cur = lookup(node, key)
                c = compare(arg, cur) if present else 0
                if not present or (op == "$min" and c < 0) or (op == "$max" and c > 0):
                    set_at(node, key, copy.deepcopy(arg))
                    self.changed = True
        elif op == "$currentDate":
            now = datetime.datetime.utcnow()
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            if isinstance(arg, dict) and arg.get("$type") == "timestamp":
                value = Timestamp(int(now.timestamp()), 1)
            else:
                value = now
            self.set_value(path, value)
        elif op == "$rename":
            if not isinstance(arg, str):
                raise QueryError(2, "The 'to' field for $rename must be a string: %s: %s"
                                 % (path, show(arg)))
            if arg == path:
                raise QueryError(2, "The source and target field for $rename must differ: "
                                 "%s: \"%s\"" % (path, arg))
            present, cur = get_field(self.doc, path)
            if not present:
                return
            for node, key in self.targets(path, False):
                if isinstance(node, list):
                    raise QueryError(2, "The source field cannot be an array element, '%s' in "
                                     "doc with _id: %s has an array field called '%s'"
                                     % (path, show(self.doc.get("_id")), key))
                del node[key]
            self.set_value(arg, cur)
            self.changed = True
        elif op in ("$push", "$addToSet"):
            each = arg.get("$each") if isinstance(arg, dict) and "$each" in arg else [arg]
            if not isinstance(each, list):
                raise QueryError(2, "The argument to $each in %s must be an array but it was of "
                                 "type: %s" % (op, type_name(each)))
            for node, key in self.targets(path, True):
                present, cur = lookup(node, key)
                if present and not isinstance(cur, list):
                    raise QueryError(2, "The field '%s' must be an array but is of type %s in "
                                     "document %s" % (key, type_name(cur), id_of(self.doc)))
                arr = list(cur) if present else []
                if op == "$push":
                    pos = arg.get("$position") if isinstance(arg, dict) else None
                    if pos is None:
                        arr.extend(copy.deepcopy(each))
                    else:
                        p = int(num(pos))
                        arr[p:p] = copy.deepcopy(each)
                    if isinstance(arg, dict) and "$slice" in arg:
                        s = int(num(arg["$slice"]))
                        arr = arr[:s] if s >= 0 else arr[s:]
                else:
                    for v in each:
                        if not any(equal(x, v) for x in arr):
                            arr.append(copy.deepcopy(v))
                if not present or not same(cur, arr):
                    set_at(node, key, arr)
                    self.changed = True
        elif op in ("$pull", "$pullAll"):
            for node, key in self.targets(path, False):
                present, cur = lookup(node, key)
                if not present:
                    continue
                if not isinstance(cur, list):
                    raise QueryError(2, "Cannot apply %s to a non-array value" % op)
                if op == "$pullAll":
                    keep = [x for x in cur if not any(equal(x, v) for v in arg)]
                elif isinstance(arg, dict) and not is_operator_doc(arg):
                    keep = [x for x in cur if not (isinstance(x, dict) and matches(x, arg))]
                elif is_operator_doc(arg):
                    keep = [x for x in cur
                            if not all(op_matches(o, a, [x], arg) for o, a in arg.items())]
                else:
                    keep = [x for x in cur if not equal(x, arg)]
                if len(keep) != len(cur):
                    set_at(node, key, keep)
                    self.changed = True
        elif op == "$pop":
            for node, key in self.targets(path, False):
                present, cur = lookup(node, key)
                if not present:
                    continue
                if not isinstance(cur, list):
                    raise QueryError(14, "Path '%s' contains an element of non-array type '%s'"
                                     % (path, type_name(cur)))
                if cur:
                    set_at(node, key, cur[1:] if num(arg) < 0 else cur[:-1])
                    self.changed = True


def lookup(node, key):
    if isinstance(node, list):
        return (key < len(node), node[key] if key < len(node) else None)
    return (key in node, node.get(key))


def set_at(node, key, value):
    if isinstance(node, list):
        while len(node) <= key:
            node.append(None)
    node[key] = value


def same(a, b):
    """Whether an update leaves a field as it was: the same type and value."""
    return type_name(a) == type_name(b) and compare(a, b) == 0 and \
        (not isinstance(a, dict) or list(a.keys()) == list(b.keys()))


def parse_array_filters(array_filters):
    out = {}
    for f in array_filters or []:
        if not isinstance(f, dict) or not f:
            raise QueryError(9, "Cannot use an expression without a top-level field name in "
                             "arrayFilters")
        idents = set(k.split(".")[0] for k in f)
        if len(idents) != 1:
            raise QueryError(9, "Error parsing array filter :: caused by :: Expected a single "
                             "top-level field name, found '%s' and '%s'" % tuple(sorted(idents))[:2])
        ident = idents.pop()
        if not re.match(r"^[a-z][a-zA-Z0-9]*$", ident):
            raise QueryError(2, "Error parsing array filter :: caused by :: The top-level field "
                             "name must be an alphanumeric string beginning with a lowercase "
                             "letter, found '%s'" % ident)
        if ident in out:
            raise QueryError(9, "Found multiple array filters with the same top-level field "
                             "name %s" % ident)
        out[ident] = f
    return out


def is_pipeline(update):
    return isinstance(update, list)


def is_replacement(update):
    return isinstance(update, dict) and not any(k.startswith("$") for k in update)


def apply_update(doc, update, array_filters=None, inserting=False):
    """The updated copy of doc and whether anything changed. Raises QueryError."""
    filters = parse_array_filters(array_filters)
    if is_pipeline(update):
        if filters:
            raise QueryError(72, "arrayFilters may not be specified for pipeline-style updates")
        new = run_stages([copy.deepcopy(doc)], update, None, None, updating=True)[0]
        if "_id" in doc and ("_id" not in new or not equal(new["_id"], doc["_id"])):
            raise QueryError(66, "Performing an update on the path '_id' would modify the "
                             "immutable field '_id'")
        if "_id" in doc:
            new = SON([("_id", doc["_id"])] + [(k, v) for k, v in new.items() if k != "_id"])
        return new, not same(new, doc)
    if not isinstance(update, dict):
        raise QueryError(9, "Update argument must be either an object or an array")
    if is_replacement(update):
        if filters:
            raise QueryError(2, "arrayFilters may not be specified with a replacement document")
        if "_id" in update and "_id" in doc and not equal(update["_id"], doc["_id"]):
            raise QueryError(66, "After applying the update, the (immutable) field '_id' was "
                             "found to have been altered to _id: %s" % show(update["_id"]))
        new = SON()
        if "_id" in doc:
            new["_id"] = doc["_id"]
        for k, v in update.items():
            if k != "_id":
                new[k] = copy.deepcopy(v)
        return new, not same(new, doc)
    if not update:
        raise QueryError(9, "Update document requires atomic operators")
    paths = []
    for op, fields in update.items():
        if op not in UPDATE_OPERATORS:
            raise QueryError(9, "Unknown modifier: %s. Expected a valid update modifier or "
                             "pipeline-style update specified as an array" % op)
        if not isinstance(fields, dict):
            raise QueryError(9, "Modifiers operate on fields but we found type %s instead. For "
                             "example: {$mod: {<field>: ...}} not {%s: %s}"
                             % (type_name(fields), op, show(fields)))
        for path in fields:
            if path == "" or path.endswith(".") or ".." in path:
                raise QueryError(56, "An empty update path is not valid.")
            if path.split(".")[0] == "_id" and op != "$setOnInsert" or \
                    (op == "$setOnInsert" and path.split(".")[0] == "_id" and not inserting):
                if not (op == "$set" and "_id" in doc and path == "_id" and
                        equal(fields[path], doc["_id"])):
                    raise QueryError(66, "Performing an update on the path '_id' would modify "
                                     "the immutable field '_id'")
            paths.append(path)
            if op == "$rename":
                paths.append(fields[path])
    check_conflicts([p for p in paths if isinstance(p, str)])
    used = set()
    for p in paths:
        if isinstance(p, str):
            used.update(identifiers(p))
    for ident in filters:
        if ident not in used:
            raise QueryError(9, "The array filter for identifier '%s' was not used in the update "
                             "%s" % (ident, show(update)))
    new = copy.deepcopy(doc)
    u = Updater(new, filters, inserting)
    for op, fields in update.items():
        for path, arg in fields.items():
            u.apply(op, path, arg)
    return new, u.changed


def upsert_seed(query):
    """The document an upsert starts from: the query's equality fields."""
    seed = SON()

    def take(flt):
        for k, v in (flt or {}).items():
            if k == "$and":
                for f in v:
                    take(f)
            elif k.startswith("$"):
                continue
            elif is_operator_doc(v):
                if "$eq" in v:
                    put(seed, k, copy.deepcopy(v["$eq"]))
            else:
                put(seed, k, copy.deepcopy(v))

    take(query)
    return seed


def put(doc, path, value):
    parts = path.split(".")
    for p in parts[:-1]:
        doc = doc.setdefault(p, SON())
    doc[parts[-1]] = value


# ---------------------------------------------------------------------------
# Aggregation stages


def project(doc, spec, kind):
    """$project / $addFields / $set / $unset of one document."""
    if kind == "$unset":
        fields = [spec] if isinstance(spec, str) else spec
        out = copy.deepcopy(doc)
        for f in fields:
            unset_path(out, f)
        return out
    if kind in ("$addFields", "$set"):
        out = copy.deepcopy(doc)
        for k, v in spec.items():
            r = evaluate(v, doc)
            if r is REMOVE or r is MISSING:
                unset_path(out, k)
            else:
                put(out, k, r)
        return out
    # $project
    include = None
    for k, v in spec.items():
        if k == "_id":
            continue
        is_flag = isinstance(v, bool) or (is_number(v) and not isinstance(v, Decimal128))
        mode = truthy(v) if is_flag else True
        if include is None:
            include = mode
        elif include != mode:
            raise QueryError(31254 if include else 31253,
                             "Invalid $project :: caused by :: Cannot do %s on field %s in "
                             "%s projection" % ("exclusion" if include else "inclusion", k,
                                                "inclusion" if include else "exclusion"))
    id_spec = spec.get("_id", True)
    if include is None:
        include = not (isinstance(id_spec, (bool, int)) and not truthy(id_spec)) and False
    if include is False and all((isinstance(v, (bool, int, float)) and not truthy(v))
                                for v in spec.values()):
        out = copy.deepcopy(doc)
        for k in spec:
            unset_path(out, k)
        return out
    out = SON()
    if "_id" in doc and not (isinstance(id_spec, (bool, int, float)) and not truthy(id_spec)):
        if isinstance(id_spec, (bool, int, float)):
            out["_id"] = doc["_id"]
        else:
            out["_id"] = evaluate(id_spec, doc)
    for k, v in spec.items():
        if k == "_id":
            continue
        if isinstance(v, (bool, int, float)) and not isinstance(v, Decimal128):
            present, cur = get_field(doc, k)
            if present:
                put(out, k, copy.deepcopy(cur))
        else:
            r = evaluate(v, doc)
            if r is not MISSING and r is not REMOVE:
                put(out, k, r)
    return out


def unset_path(doc, path):
    parts = path.split(".")
    cur = doc
    for p in parts[:-1]:
        if not isinstance(cur, dict) or p not in cur:
            return
        cur = cur[p]
    if isinstance(cur, dict) and parts[-1] in cur:
        del cur[parts[-1]]


READ_STAGES = ("$match", "$project", "$addFields", "$set", "$unset", "$limit", "$skip",
               "$sort", "$count", "$replaceWith", "$replaceRoot")


def run_stages(docs, pipeline, store_ops, db, updating=False):
    """Runs the stages of pipeline over docs. $out and $merge (last stage only) call
    store_ops.out / store_ops.merge. Returns the resulting documents."""
    for i, stage in enumerate(pipeline):
        if not isinstance(stage, dict) or len(stage) != 1:
            raise QueryError(40323, "A pipeline stage specification object must contain "
                             "exactly one field.")
        name, spec = next(iter(stage.items()))
        if updating and name not in ("$addFields", "$set", "$project", "$unset",
                                     "$replaceWith", "$replaceRoot"):
            raise QueryError(72, "%s is not allowed to be used within an update" % name)
        if name in ("$out", "$merge") and i != len(pipeline) - 1:
            raise QueryError(40601, "%s can only be the final stage in the pipeline" % name)
        if name == "$match":
            docs = [d for d in docs if matches(d, spec)]
        elif name in ("$project", "$addFields", "$set", "$unset"):
            docs = [project(d, spec, name) for d in docs]
        elif name in ("$replaceWith", "$replaceRoot"):
            expr = spec.get("newRoot") if name == "$replaceRoot" else spec
            new = []
            for d in docs:
                r = evaluate(expr, d)
                if not isinstance(r, dict):
                    raise QueryError(40228, "'replacement document' must evaluate to an object, "
                                     "but resulting value was: %s" % show(r))
                new.append(r)
            docs = new
        elif name == "$limit":
            docs = docs[:int(num(spec))]
        elif name == "$skip":
            docs = docs[int(num(spec)):]
        elif name == "$sort":
            for k, direction in reversed(list(spec.items())):
                docs.sort(key=SortKey.of(k), reverse=num(direction) < 0)
        elif name == "$count":
            docs = [SON([(spec, len(docs))])] if docs else []
        elif name == "$out":
            store_ops.out(db, spec, docs)
            docs = []
        elif name == "$merge":
            store_ops.merge(db, spec, docs)
            docs = []
        else:
            raise QueryError(40324, "Unrecognized pipeline stage name: '%s'" % name)
    return docs


class SortKey:
    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        return compare(self.v, other.v) < 0

    @staticmethod
    def of(path):
        def key(doc):
            present, v = get_field(doc, path)
            return SortKey(v if present else None)
        return key
