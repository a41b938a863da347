#!/usr/bin/env python3
"""Random migration histories for tests/integration/test_history_random.sh (issue 24).

A seeded generator writes a small tree of two independent modules (core and app), each a
stack of migrations over a model of the schema: tables with serial and identity
columns, primary keys, UNIQUE, CHECK and FOREIGN KEY constraints, indexes (unique,
partial, expression), views, materialized views with indexes, functions, triggers, enum
and composite types, sequences; later migrations ADD, DROP (the last column, so that a
down puts it back in its place), RENAME and retype columns, rename tables, indexes,
views and functions, and DROP ... IF EXISTS tables, indexes, views, functions,
triggers, types and sequences, through CASCADE when something depends on them; some
statements run as dynamic SQL in DO blocks. Every migration has a faithful down: the SQL
that turns the model after it back into the model before it.

A runner applies a random sequence of `up`, `up --module M --to V` and `down --module M
--steps K`, and after every step asserts that `verify` is clean and that `drift` finds
0 differences (the shadow built from the applied history is the ground truth). Then it
drops one tracked object by hand and asserts that `verify` names exactly that object.
A failure prints its seed; `write SEED DIR` writes that history for reading.

usage:
  gen_history.py write-range FIRST COUNT DIR     (DIR/tSEED for each)
  gen_history.py run --seeds N [--first S] [--seed-file F] [--steps K] [--drift-every D]
                     [--workers W] [--keep DIR]
  gen_history.py write SEED DIR

Environment: MIGRATE_BIN, MIGRATE_PG_SOCKET, MIGRATE_PG_PORT (a server the test may
create databases and roles on, as tests/lib/postgres.sh describes).
"""
import copy
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

MODULES = [("core", "c"), ("app", "a")]


def find_psql():
    """psql itself: Debian's /usr/bin/psql is a Perl wrapper that costs 30-40 ms a call."""
    try:
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
    except OSError:
        bindir = ""
    path = os.path.join(bindir, "psql")
    return path if bindir and os.access(path, os.X_OK) else "psql"


PSQL = find_psql()

# ---- the schema model --------------------------------------------------------------------


class Model:
    """Every object by a stable id; names change with renames, ids never."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.next = 0
        self.tables = {}    # id -> {"name", "cols": [col]}
        self.seqs = {}      # id -> {"name", "owner": (table, col) | None, "as": type | None}
        self.cons = {}      # id -> {"name", "table", "kind" p|u|c|f, "cols", "expr", "ref"}
        self.indexes = {}   # id -> {"name", "table", "unique", "keys", "where"}
        self.views = {}     # id -> {"name", "table", "cols": [(col, out)], "mat": bool}
        self.mvindexes = {} # id -> {"name", "view", "out"}
        self.funcs = {}     # id -> {"name", "trigger": bool, "body"}
        self.triggers = {}  # id -> {"name", "table", "func", "timing"}
        self.types = {}     # id -> {"name", "enum": [values] | None, "attrs": [(n, t)] | None}

    def new_id(self):
        self.next += 1
        return self.next

    def new_name(self, what):
        return f"{self.prefix}{what}{self.new_id()}"

    # names of everything in pg_class (relations, indexes, sequences) and pg_type
    def relnames(self):
        names = {t["name"] for t in self.tables.values()}
        names |= {s["name"] for s in self.seqs.values()}
        names |= {i["name"] for i in self.indexes.values()}
        names |= {c["name"] for c in self.cons.values() if c["kind"] in "pu"}
        names |= {v["name"] for v in self.views.values()}
        names |= {i["name"] for i in self.mvindexes.values()}
        names |= {t["name"] for t in self.types.values()}
        return names

    def col(self, tid, cid):
        for c in self.tables[tid]["cols"]:
            if c["id"] == cid:
                return c
        raise KeyError(cid)

    def colname(self, tid, cid):
        return self.col(tid, cid)["name"]

    def expr(self, tid, template):
        """A template with {colid} references, in the columns' current names."""
        out = template
        for c in self.tables[tid]["cols"]:
            out = out.replace("{%d}" % c["id"], c["name"])
        return out

    # what refers to a column or a table
    def col_used(self, tid, cid):
        tag = "{%d}" % cid
        used = {"indexes": [], "cons": [], "fks_in": [], "views": []}
        for iid, i in self.indexes.items():
            if i["table"] == tid and (any(k == ("c", cid) or (k[0] == "e" and tag in k[1]) for k in i["keys"])
                                      or (i["where"] and tag in i["where"])):
                used["indexes"].append(iid)
        for kid, k in self.cons.items():
            if k["table"] == tid and (cid in k["cols"] or (k["expr"] and tag in k["expr"])):
                used["cons"].append(kid)
            if k["kind"] == "f" and k["ref"] == (tid, cid):
                used["fks_in"].append(kid)
        for vid, v in self.views.items():
            if v["table"] == tid and any(c == cid for c, _ in v["cols"]):
                used["views"].append(vid)
        return used

    def table_dependents(self, tid):
        views = [vid for vid, v in self.views.items() if v["table"] == tid]
        fks = [kid for kid, k in self.cons.items() if k["kind"] == "f" and k["ref"][0] == tid and k["table"] != tid]
        return views, fks

    # removal, with what goes along (as PostgreSQL drops it)
    def remove_view(self, vid):
        for iid in [i for i, x in self.mvindexes.items() if x["view"] == vid]:
            del self.mvindexes[iid]
        del self.views[vid]

    def remove_con(self, kid):
        del self.cons[kid]

    def remove_column(self, tid, cid):
        used = self.col_used(tid, cid)
        for iid in used["indexes"]:
            self.indexes.pop(iid, None)
        for kid in used["cons"] + used["fks_in"]:
            self.cons.pop(kid, None)
        for vid in used["views"]:
            self.remove_view(vid)
        for sid in [s for s, x in self.seqs.items() if x["owner"] == (tid, cid)]:
            del self.seqs[sid]
        t = self.tables[tid]
        t["cols"] = [c for c in t["cols"] if c["id"] != cid]

    def remove_table(self, tid):
        views, fks = self.table_dependents(tid)
        for vid in views:
            self.remove_view(vid)
        for kid in fks:
            del self.cons[kid]
        for kid in [k for k, x in self.cons.items() if x["table"] == tid]:
            del self.cons[kid]
        for iid in [i for i, x in self.indexes.items() if x["table"] == tid]:
            del self.indexes[iid]
        for gid in [g for g, x in self.triggers.items() if x["table"] == tid]:
            del self.triggers[gid]
        for sid in [s for s, x in self.seqs.items() if x["owner"] and x["owner"][0] == tid]:
            del self.seqs[sid]
        del self.tables[tid]

    def types_used(self):
        used = set()
        for t in self.tables.values():
            used |= {c["type"] for c in t["cols"]}
        for t in self.types.values():
            used |= {a[1] for a in (t["attrs"] or [])}
        return used


# ---- rendering the model as SQL ----------------------------------------------------------


def seq_default_name(m, tname, cname):
    return f"{tname}_{cname}_seq"


def column_sql(m, t, c, pre, post):
    """The column's definition; statements it needs before (an explicitly named
    sequence) and after (its ownership) go to pre and post."""
    tname = t["name"]
    if c.get("serial"):
        s = m.seqs[c["serial"]]
        if s["name"] == seq_default_name(m, tname, c["name"]) and s.get("implicit_ok", True):
            return f"{c['name']} {'serial' if c['type'] == 'integer' else 'bigserial'}"
        pre.append(f"CREATE SEQUENCE {s['name']} AS {c['type']}")
        post.append(f"ALTER SEQUENCE {s['name']} OWNED BY {tname}.{c['name']}")
        return f"{c['name']} {c['type']} NOT NULL DEFAULT nextval('{s['name']}'::regclass)"
    if c.get("identity"):
        kind, sid = c["identity"]
        s = m.seqs[sid]
        how = "ALWAYS" if kind == "a" else "BY DEFAULT"
        return f"{c['name']} {c['type']} GENERATED {how} AS IDENTITY (SEQUENCE NAME {s['name']})"
    out = f"{c['name']} {c['type']}"
    if c.get("not_null"):
        out += " NOT NULL"
    if c.get("default") is not None:
        out += f" DEFAULT {c['default']}"
    return out


def con_sql(m, k):
    tid = k["table"]
    cols = ", ".join(m.colname(tid, c) for c in k["cols"])
    if k["kind"] == "p":
        return f"CONSTRAINT {k['name']} PRIMARY KEY ({cols})"
    if k["kind"] == "u":
        return f"CONSTRAINT {k['name']} UNIQUE ({cols})"
    if k["kind"] == "c":
        return f"CONSTRAINT {k['name']} CHECK ({m.expr(tid, k['expr'])})"
    rt, rc = k["ref"]
    return (f"CONSTRAINT {k['name']} FOREIGN KEY ({cols}) REFERENCES "
            f"{m.tables[rt]['name']} ({m.colname(rt, rc)})")


def table_sql(m, tid, with_fks, if_not_exists=False):
    t = m.tables[tid]
    pre, post = [], []
    parts = [column_sql(m, t, c, pre, post) for c in t["cols"]]
    for k in sorted(m.cons.values(), key=lambda k: k["name"]):
        if k["table"] == tid and (k["kind"] != "f" or with_fks):
            parts.append(con_sql(m, k))
    ine = "IF NOT EXISTS " if if_not_exists else ""
    return pre + [f"CREATE TABLE {ine}{t['name']} ({', '.join(parts)})"] + post


def index_sql(m, i):
    tid = i["table"]
    keys = []
    for kind, v in i["keys"]:
        keys.append(m.colname(tid, v) if kind == "c" else f"({m.expr(tid, v)})")
    sql = (f"CREATE {'UNIQUE ' if i['unique'] else ''}INDEX {i['name']} ON "
           f"{m.tables[tid]['name']} ({', '.join(keys)})")
    if i["where"]:
        sql += f" WHERE {m.expr(tid, i['where'])}"
    return sql


def view_sql(m, v):
    tid = v["table"]
    cols = ", ".join(f"x.{m.colname(tid, c)} AS {out}" for c, out in v["cols"])
    what = "MATERIALIZED VIEW" if v["mat"] else "VIEW"
    return f"CREATE {what} {v['name']} AS SELECT {cols} FROM {m.tables[tid]['name']} x"


def func_sql(f):
    if f["trigger"]:
        return (f"CREATE FUNCTION {f['name']}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {f['body']} RETURN NEW; END $$")
    return (f"CREATE FUNCTION {f['name']}(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS "
            f"$$ SELECT x + {f['body']} $$")


def func_ref(f):
    return f"{f['name']}()" if f["trigger"] else f"{f['name']}(integer)"


def trigger_sql(m, g):
    return (f"CREATE TRIGGER {g['name']} {g['timing']} ON {m.tables[g['table']]['name']} "
            f"FOR EACH ROW EXECUTE FUNCTION {m.funcs[g['func']]['name']}()")


def type_sql(t):
    if t["enum"] is not None:
        return f"CREATE TYPE {t['name']} AS ENUM ({', '.join(repr(v) for v in t['enum'])})"
    return f"CREATE TYPE {t['name']} AS ({', '.join(f'{a} {ty}' for a, ty in t['attrs'])})"


def transform(a, b, rng=None):
    """SQL that turns the database of model a into that of model b, for objects that
    one has and the other has not (renames and type changes are the callers'): drops in
    dependency order, then creations in dependency order."""
    out = []
    # -- drops: what a has and b has not
    for gid in a.triggers:
        if gid not in b.triggers and a.triggers[gid]["table"] in b.tables:
            g = a.triggers[gid]
            out.append(f"DROP TRIGGER {g['name']} ON {a.tables[g['table']]['name']}")
    for vid in a.views:
        if vid not in b.views:
            v = a.views[vid]
            out.append(f"DROP {'MATERIALIZED VIEW' if v['mat'] else 'VIEW'} {v['name']}")
    for iid in a.mvindexes:
        if iid not in b.mvindexes and a.mvindexes[iid]["view"] in b.views:
            out.append(f"DROP INDEX {a.mvindexes[iid]['name']}")
    for iid in a.indexes:
        if iid not in b.indexes and a.indexes[iid]["table"] in b.tables:
            out.append(f"DROP INDEX {a.indexes[iid]['name']}")
    # foreign keys first, then the other constraints, of tables that stay
    for kinds in ("f", "puc"):
        for kid in a.cons:
            k = a.cons[kid]
            if kid not in b.cons and k["kind"] in kinds and k["table"] in b.tables:
                out.append(f"ALTER TABLE {a.tables[k['table']]['name']} DROP CONSTRAINT {k['name']}")
    for tid in a.tables:
        if tid in b.tables:
            keep = {c["id"] for c in b.tables[tid]["cols"]}
            for c in reversed(a.tables[tid]["cols"]):
                if c["id"] not in keep:
                    out.append(f"ALTER TABLE {a.tables[tid]['name']} DROP COLUMN {c['name']}")
    for tid in a.tables:
        if tid not in b.tables:
            out.append(f"DROP TABLE {a.tables[tid]['name']} CASCADE")
    for fid in a.funcs:
        if fid not in b.funcs:
            out.append(f"DROP FUNCTION {func_ref(a.funcs[fid])} CASCADE")
    for sid in a.seqs:
        if sid not in b.seqs and not a.seqs[sid]["owner"]:
            out.append(f"DROP SEQUENCE {a.seqs[sid]['name']}")
    for yid in a.types:
        if yid not in b.types:
            out.append(f"DROP TYPE {a.types[yid]['name']}")
    # -- creations: what b has and a has not
    for yid in sorted(b.types):
        if yid not in a.types:
            out.append(type_sql(b.types[yid]))
    for sid in sorted(b.seqs):
        if sid not in a.seqs and not b.seqs[sid]["owner"]:
            out.append(f"CREATE SEQUENCE {b.seqs[sid]['name']}")
    for fid in sorted(b.funcs):
        if fid not in a.funcs:
            out.append(func_sql(b.funcs[fid]))
    new_tables = [tid for tid in sorted(b.tables) if tid not in a.tables]
    for tid in new_tables:
        out += table_sql(b, tid, with_fks=False, if_not_exists=bool(rng and rng.random() < 0.3))
    for tid in sorted(b.tables):
        if tid in a.tables:
            have = {c["id"] for c in a.tables[tid]["cols"]}
            t = b.tables[tid]
            for c in t["cols"]:
                if c["id"] not in have:
                    pre, post = [], []
                    col = column_sql(b, t, c, pre, post)
                    out += pre + [f"ALTER TABLE {t['name']} ADD COLUMN {col}"] + post
    for kinds in ("puc", "f"):
        for kid in sorted(b.cons):
            k = b.cons[kid]
            if kid in a.cons or k["kind"] not in kinds:
                continue
            if k["table"] in new_tables and k["kind"] != "f":
                continue  # created with its table
            out.append(f"ALTER TABLE {b.tables[k['table']]['name']} ADD {con_sql(b, k)}")
    for iid in sorted(b.indexes):
        if iid not in a.indexes:
            out.append(index_sql(b, b.indexes[iid]))
    for vid in sorted(b.views):
        if vid not in a.views:
            out.append(view_sql(b, b.views[vid]))
    for iid in sorted(b.mvindexes):
        if iid not in a.mvindexes:
            i = b.mvindexes[iid]
            out.append(f"CREATE INDEX {i['name']} ON {b.views[i['view']]['name']} ({i['out']})")
    for gid in sorted(b.triggers):
        if gid not in a.triggers:
            out.append(trigger_sql(b, b.triggers[gid]))
    return out


# ---- migrations: each changes the model and says how, up and down -------------------------

INT_TYPES = ("integer", "bigint")


def pick(rng, d):
    return rng.choice(sorted(d)) if d else None


def new_column(m, rng, t, allow_key=True):
    cid = m.new_id()
    name = f"k{cid}"
    r = rng.random()
    enums = [y for y in m.types.values() if y["enum"] is not None]
    col = {"id": cid, "name": name}
    if allow_key and r < 0.12:
        ty = rng.choice(INT_TYPES)
        sid = m.new_id()
        sname = seq_default_name(m, t["name"], name)
        if sname in m.relnames():
            sname = m.new_name("s")
        m.seqs[sid] = {"name": sname, "owner": (None, cid), "as": ty}
        col.update(type=ty, serial=sid, not_null=True)
    elif allow_key and r < 0.22:
        ty = rng.choice(INT_TYPES)
        sid = m.new_id()
        sname = seq_default_name(m, t["name"], name)
        if sname in m.relnames():
            sname = m.new_name("s")
        m.seqs[sid] = {"name": sname, "owner": (None, cid), "as": ty}
        col.update(type=ty, identity=(rng.choice("ad"), sid), not_null=True)
    elif enums and r < 0.3:
        col.update(type=rng.choice(enums)["name"])
    else:
        col.update(type=rng.choice(["integer", "integer", "bigint", "text", "text", "boolean"]))
        if rng.random() < 0.2:
            col["not_null"] = True
            col["default"] = {"integer": "0", "bigint": "0", "text": "''::text",
                              "boolean": "false"}[col["type"]]
    return col


def own_sequences(m, tid):
    for c in m.tables[tid]["cols"]:
        sid = c.get("serial") or (c.get("identity") or (None, None))[1]
        if sid:
            m.seqs[sid]["owner"] = (tid, c["id"])


def m_create_table(m, rng):
    tid = m.new_id()
    t = {"name": m.new_name("t"), "cols": []}
    m.tables[tid] = t
    key = new_column(m, rng, t)
    t["cols"].append(key)
    for _ in range(rng.randint(1, 3)):
        t["cols"].append(new_column(m, rng, t, allow_key=False))
    own_sequences(m, tid)
    if key["type"] in INT_TYPES and rng.random() < 0.8:
        m.cons[m.new_id()] = {"name": f"{t['name']}_pkey", "table": tid, "kind": "p",
                              "cols": [key["id"]], "expr": None, "ref": None}
    others = [c for c in t["cols"][1:]]
    texts = [c for c in others if c["type"] == "text"]
    ints = [c for c in others if c["type"] in INT_TYPES]
    if texts and rng.random() < 0.4:
        m.cons[m.new_id()] = {"name": m.new_name("u"), "table": tid, "kind": "u",
                              "cols": [rng.choice(texts)["id"]], "expr": None, "ref": None}
    if ints and rng.random() < 0.4:
        c = rng.choice(ints)
        m.cons[m.new_id()] = {"name": m.new_name("ck"), "table": tid, "kind": "c", "cols": [],
                              "expr": "{%d} > -1" % c["id"], "ref": None}
    # a foreign key to another table's single-column primary key of the same type
    targets = [(k["table"], k["cols"][0]) for k in m.cons.values()
               if k["kind"] == "p" and k["table"] != tid and len(k["cols"]) == 1]
    if targets and rng.random() < 0.4:
        rt, rc = rng.choice(sorted(targets))
        rtype = m.col(rt, rc)["type"]
        fk = {"id": m.new_id(), "name": None, "type": rtype}
        fk["name"] = f"k{fk['id']}"
        t["cols"].append(fk)
        m.cons[m.new_id()] = {"name": m.new_name("fk"), "table": tid, "kind": "f",
                              "cols": [fk["id"]], "expr": None, "ref": (rt, rc)}
    return [table_sql(m, tid, with_fks=True)], None


def columns_of(m, tid, types=None):
    return [c for c in m.tables[tid]["cols"] if types is None or c["type"] in types]


def m_create_index(m, rng):
    tid = pick(rng, m.tables)
    if tid is None:
        return None
    cols = columns_of(m, tid, INT_TYPES + ("text", "boolean"))
    if not cols:
        return None
    c = rng.choice(cols)
    i = {"name": m.new_name("i"), "table": tid, "unique": False, "keys": [("c", c["id"])], "where": None}
    r = rng.random()
    if r < 0.25:
        i["unique"] = True
    elif r < 0.5:
        i["where"] = "{%d} IS NOT NULL" % c["id"]
    elif r < 0.75:
        if c["type"] == "text":
            i["keys"] = [("e", "lower({%d})" % c["id"])]
        elif c["type"] in INT_TYPES:
            i["keys"] = [("e", "{%d} + 1" % c["id"])]
    m.indexes[m.new_id()] = i
    return [index_sql(m, i)], None


def m_create_view(m, rng):
    tid = pick(rng, m.tables)
    if tid is None:
        return None
    cols = m.tables[tid]["cols"]
    chosen = rng.sample(cols, rng.randint(1, min(2, len(cols))))
    mat = rng.random() < 0.4
    v = {"name": m.new_name("mv" if mat else "v"), "table": tid, "mat": mat,
         "cols": [(c["id"], f"o{c['id']}") for c in chosen]}
    vid = m.new_id()
    m.views[vid] = v
    up = [view_sql(m, v)]
    if mat and rng.random() < 0.6:
        i = {"name": m.new_name("mi"), "view": vid, "out": v["cols"][0][1]}
        m.mvindexes[m.new_id()] = i
        up.append(f"CREATE INDEX {i['name']} ON {v['name']} ({i['out']})")
    return up, None


def m_create_function(m, rng):
    f = {"name": m.new_name("f"), "trigger": False, "body": str(rng.randint(1, 99))}
    m.funcs[m.new_id()] = f
    return [func_sql(f)], None


def m_create_trigger(m, rng):
    tid = pick(rng, m.tables)
    if tid is None:
        return None
    up = []
    fns = [fid for fid, f in m.funcs.items() if f["trigger"]]
    if fns and rng.random() < 0.5:
        fid = rng.choice(sorted(fns))
    else:
        fid = m.new_id()
        m.funcs[fid] = {"name": m.new_name("tf"), "trigger": True, "body": "NULL;"}
        up.append(func_sql(m.funcs[fid]))
    g = {"name": m.new_name("tg"), "table": tid, "func": fid,
         "timing": rng.choice(["BEFORE INSERT", "BEFORE UPDATE", "AFTER INSERT"])}
    m.triggers[m.new_id()] = g
    up.append(trigger_sql(m, g))
    return up, None


def m_create_type(m, rng):
    if rng.random() < 0.5:
        y = {"name": m.new_name("e"), "enum": ["p", "q", "r"][:rng.randint(1, 3)], "attrs": None}
    else:
        y = {"name": m.new_name("ct"), "enum": None, "attrs": [("x", "integer"), ("y", "text")]}
    m.types[m.new_id()] = y
    up = [type_sql(y)]
    if rng.random() < 0.3:
        s = {"name": m.new_name("sq"), "owner": None, "as": None}
        m.seqs[m.new_id()] = s
        up.append(f"CREATE SEQUENCE {s['name']}")
    return up, None


def m_add_column(m, rng):
    tid = pick(rng, m.tables)
    if tid is None:
        return None
    t = m.tables[tid]
    c = new_column(m, rng, t)
    t["cols"].append(c)
    own_sequences(m, tid)
    pre, post = [], []
    col = column_sql(m, t, c, pre, post)
    up = pre + [f"ALTER TABLE {t['name']} ADD COLUMN {col}"] + post
    if c.get("serial") or c.get("identity"):
        if rng.random() < 0.5:
            m.cons[m.new_id()] = {"name": m.new_name("u"), "table": tid, "kind": "u",
                                  "cols": [c["id"]], "expr": None, "ref": None}
            up.append(f"ALTER TABLE {t['name']} ADD {con_sql(m, m.cons[max(m.cons)])}")
    return up, None


def m_drop_column(m, rng):
    """The last column, with whatever goes along: its indexes and constraints, the
    sequence it owns, views over it and foreign keys of other tables to it (CASCADE)."""
    tid = pick(rng, {t: x for t, x in m.tables.items() if len(x["cols"]) > 1})
    if tid is None:
        return None
    t = m.tables[tid]
    c = t["cols"][-1]
    used = m.col_used(tid, c["id"])
    cascade = bool(used["views"] or used["fks_in"])
    m.remove_column(tid, c["id"])
    return [f"ALTER TABLE {t['name']} DROP COLUMN {c['name']}{' CASCADE' if cascade else ''}"], None


def m_alter_type(m, rng):
    cands = []
    for tid, t in m.tables.items():
        for c in t["cols"]:
            if c["type"] not in INT_TYPES or c.get("serial") or c.get("identity"):
                continue
            used = m.col_used(tid, c["id"])
            if used["views"] or used["fks_in"] or any(m.cons[k]["kind"] in "pf" for k in used["cons"]):
                continue
            cands.append((tid, c["id"]))
    if not cands:
        return None
    tid, cid = rng.choice(sorted(cands))
    c = m.col(tid, cid)
    old = c["type"]
    c["type"] = "bigint" if old == "integer" else "integer"
    t = m.tables[tid]["name"]
    return ([f"ALTER TABLE {t} ALTER COLUMN {c['name']} TYPE {c['type']}"],
            [f"ALTER TABLE {t} ALTER COLUMN {c['name']} TYPE {old}"])


def m_rename(m, rng):
    what = rng.choice(["column", "table", "index", "view", "function", "type"])
    if what == "column":
        tid = pick(rng, m.tables)
        if tid is None:
            return None
        c = rng.choice(m.tables[tid]["cols"])
        old, new = c["name"], f"r{m.new_id()}"
        c["name"] = new
        t = m.tables[tid]["name"]
        return ([f"ALTER TABLE {t} RENAME COLUMN {old} TO {new}"],
                [f"ALTER TABLE {t} RENAME COLUMN {new} TO {old}"])
    coll, stmt = {"table": (m.tables, "TABLE"), "index": (m.indexes, "INDEX"),
                  "view": (m.views, None), "function": (m.funcs, "FUNCTION"),
                  "type": (m.types, "TYPE")}[what]
    oid = pick(rng, coll)
    if oid is None:
        return None
    o = coll[oid]
    old, new = o["name"], m.new_name("n")
    if what == "view":
        stmt = "MATERIALIZED VIEW" if o["mat"] else "VIEW"
    if what == "function":
        ref_old, o["name"] = func_ref(o), new
        return ([f"ALTER FUNCTION {ref_old} RENAME TO {new}"],
                [f"ALTER FUNCTION {func_ref(o)} RENAME TO {old}"])
    o["name"] = new
    return [f"ALTER {stmt} {old} RENAME TO {new}"], [f"ALTER {stmt} {new} RENAME TO {old}"]


def m_drop(m, rng):
    """DROP ... IF EXISTS of one object, through CASCADE when something depends on it."""
    what = rng.choice(["table", "table", "index", "view", "function", "trigger", "type", "sequence"])
    if what == "table":
        tid = pick(rng, m.tables)
        if tid is None:
            return None
        views, fks = m.table_dependents(tid)
        name = m.tables[tid]["name"]
        m.remove_table(tid)
        return [f"DROP TABLE IF EXISTS {name}{' CASCADE' if views or fks else ''}"], None
    if what == "index":
        iid = pick(rng, m.indexes)
        if iid is None:
            return None
        name = m.indexes.pop(iid)["name"]
        return [f"DROP INDEX IF EXISTS {name}"], None
    if what == "view":
        vid = pick(rng, m.views)
        if vid is None:
            return None
        v = m.views[vid]
        m.remove_view(vid)
        return [f"DROP {'MATERIALIZED VIEW' if v['mat'] else 'VIEW'} IF EXISTS {v['name']}"], None
    if what == "function":
        fid = pick(rng, m.funcs)
        if fid is None:
            return None
        f = m.funcs.pop(fid)
        users = [g for g, x in m.triggers.items() if x["func"] == fid]
        for g in users:
            del m.triggers[g]
        return [f"DROP FUNCTION IF EXISTS {func_ref(f)}{' CASCADE' if users else ''}"], None
    if what == "trigger":
        gid = pick(rng, m.triggers)
        if gid is None:
            return None
        g = m.triggers.pop(gid)
        return [f"DROP TRIGGER IF EXISTS {g['name']} ON {m.tables[g['table']]['name']}"], None
    if what == "type":
        used = m.types_used()
        yid = pick(rng, {y: t for y, t in m.types.items() if t["name"] not in used})
        if yid is None:
            return None
        return [f"DROP TYPE IF EXISTS {m.types.pop(yid)['name']}"], None
    sid = pick(rng, {s: x for s, x in m.seqs.items() if not x["owner"]})
    if sid is None:
        return None
    return [f"DROP SEQUENCE IF EXISTS {m.seqs.pop(sid)['name']}"], None


ACTIONS = [(m_create_table, 5), (m_create_index, 4), (m_create_view, 2), (m_create_function, 1),
           (m_create_trigger, 2), (m_create_type, 1), (m_add_column, 3), (m_drop_column, 3),
           (m_alter_type, 2), (m_rename, 3), (m_drop, 4)]


def as_do_block(stmts):
    body = " ".join("EXECUTE '%s';" % s.replace("'", "''") for s in stmts)
    return [f"DO $$ BEGIN {body} END $$"]


def generate(seed, per_module=(4, 7)):
    """The history of seed: {module: [(name, up_sql, down_sql)]}."""
    rng = random.Random(seed)
    history = {}
    for module, prefix in MODULES:
        m = Model(prefix)
        migs = []
        n = rng.randint(*per_module)
        while len(migs) < n:
            before = copy.deepcopy(m)
            fn = rng.choices([a for a, _ in ACTIONS], [w for _, w in ACTIONS])[0]
            if not m.tables:
                fn = m_create_table
            got = fn(m, rng)
            if got is None:
                m = before
                continue
            up, inverse = got
            up = [s for part in up for s in ([part] if isinstance(part, str) else part)]
            if len(up) <= 3 and not any("$$" in u for u in up) and rng.random() < 0.15:
                up = as_do_block(up)
            down = inverse if inverse is not None else transform(m, before, rng)
            migs.append((fn.__name__[2:], up, down))
        history[module] = migs
    return history


def write_tree(history, root):
    for module, migs in history.items():
        d = os.path.join(root, "migrations", "postgres", module)
        os.makedirs(d, exist_ok=True)
        for v, (name, up, down) in enumerate(migs, 1):
            with open(os.path.join(d, f"{v:03d}_{name}.up.sql"), "w") as f:
                f.write(";\n".join(up) + ";\n")
            with open(os.path.join(d, f"{v:03d}_{name}.down.sql"), "w") as f:
                f.write(";\n".join(down) + ";\n")


# ---- running a history ------------------------------------------------------------------


class Failure(Exception):
    pass


class Runner:
    def __init__(self, worker, keep, break_downs=False):
        self.break_downs = break_downs
        self.bin = os.environ["MIGRATE_BIN"]
        self.socket = os.environ["MIGRATE_PG_SOCKET"]
        self.port = os.environ["MIGRATE_PG_PORT"]
        # one role and database per worker of this run: runs side by side do not meet
        self.role = f"hist_{os.getppid() if worker else os.getpid()}_w{worker}"
        self.db = self.role
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix=f"migrate-history-w{worker}.")
        self.psql_admin(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)", db="postgres")
        self.drop_templates()
        self.psql_admin(f"DROP ROLE IF EXISTS {self.role}", db="postgres")
        self.psql_admin(f"CREATE ROLE {self.role} LOGIN SUPERUSER", db="postgres")
        self.psql_admin(f"CREATE DATABASE {self.db} OWNER {self.role}", db="postgres")

    def psql_admin(self, sql, db=None, user="postgres"):
        """Runs sql as the superuser over the socket (trusted), as user when given."""
        if user != "postgres":
            sql = f"SET ROLE {user}; {sql}"
        r = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.socket,
                            "-p", self.port, "-U", "postgres", "-d", db or self.db, "-c", sql],
                           capture_output=True, text=True)
        if r.returncode:
            raise Failure(f"psql: {sql[:200]}: {r.stderr.strip()}")
        return r.stdout.strip()

    def drop_templates(self):
        rows = self.psql_admin(
            "SELECT string_agg(quote_ident(datname), ' ') FROM pg_database d JOIN pg_roles r"
            f" ON r.oid = d.datdba WHERE r.rolname = '{self.role}' AND datname <> '{self.db}'",
            db="postgres")
        for name in rows.split():
            try:
                self.psql_admin(f"ALTER DATABASE {name} IS_TEMPLATE false", db="postgres")
            except Failure:
                pass  # a database left invalid by an interrupted drop: dropped as it is
            self.psql_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", db="postgres")

    def reset(self, history):
        # public as a new database of this server has it: owned by the database's owner
        # with USAGE for all from PostgreSQL 15, owned by the superuser with every right
        # for all before (pg_database_owner does not exist before 14)
        if not getattr(self, "server_num", None):
            self.server_num = int(self.psql_admin("SHOW server_version_num"))
        if self.server_num >= 150000:
            public = "CREATE SCHEMA public AUTHORIZATION pg_database_owner; GRANT USAGE ON SCHEMA public TO PUBLIC"
        else:
            public = "CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO PUBLIC"
        self.psql_admin(f"DROP SCHEMA public CASCADE; {public};"
                        " COMMENT ON SCHEMA public IS 'standard public schema'")
        self.drop_templates()
        tree = os.path.join(self.dir, "tree")
        shutil.rmtree(tree, ignore_errors=True)
        os.makedirs(tree)
        write_tree(history, tree)
        if self.break_downs:
            # the harness's own test: downs that put back nothing their up dropped
            for module, migs in history.items():
                for v, (name, _, _) in enumerate(migs, 1):
                    if name in ("drop", "drop_column"):
                        with open(os.path.join(tree, "migrations", "postgres", module,
                                               f"{v:03d}_{name}.down.sql"), "w") as f:
                            f.write("SELECT 1;\n")
        with open(os.path.join(tree, "config.yaml"), "w") as f:
            # the superuser over the trusted socket (no password round), acting as the
            # worker's role: what it creates, templates included, is the worker's
            f.write(f'postgres:\n  dsn: "host={self.socket} port={self.port} user=postgres'
                    f' dbname={self.db} options=\'-c role={self.role}\'"\n  lock_wait: 30s\n  lint: off\n'
                    "modules:\n  app: {}\n")
        return tree

    def migrate(self, tree, *args):
        r = subprocess.run([self.bin, *args], cwd=tree, capture_output=True, text=True)
        return r.returncode, r.stdout, r.stderr

    def expect(self, tree, want, *args):
        rc, out, err = self.migrate(tree, *args)
        if rc != want:
            raise Failure(f"'migrate {' '.join(args)}' exited {rc}, expected {want}\n"
                          f"--- stdout\n{out}--- stderr\n{err}")
        return out, err

    def check(self, tree, drift):
        out, _ = self.expect(tree, 0, "verify")
        if "missing" in out:
            raise Failure(f"verify: {out}")
        if drift:
            out, err = self.expect(tree, 0, "drift")
            if "drift: 0 differences" not in out + err:
                raise Failure(f"drift: {out}{err}")

    def hand_drop(self, tree, rng):
        """Drops one tracked object (one whose drop takes no other tracked object
        along) and expects verify to name exactly it."""
        rows = self.psql_admin(
            "SELECT o.kind || '|' || o.schema || '|' || o.name || '|' || o.oid"
            " FROM schema_migrations_objects o JOIN schema_migrations m USING (module, version)"
            " WHERE o.dropped_version IS NULL AND o.kind IN ('index', 'view', 'function', 'trigger', 'type', 'sequence')"
            " AND CASE o.kind WHEN 'function' THEN EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = o.oid)"
            " WHEN 'trigger' THEN EXISTS (SELECT 1 FROM pg_trigger g WHERE g.oid = o.oid)"
            " WHEN 'type' THEN EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = o.oid)"
            " ELSE EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = o.oid) END"
            " ORDER BY 1", user=self.role)
        cands = [r.split("|") for r in rows.splitlines() if r]
        rng.shuffle(cands)
        for kind, _, _, oid in cands:
            # the object's statement and its name now, from the catalogs
            q = {
                "index": ("DROP INDEX %s RESTRICT", f"SELECT c.oid::regclass::text, n.nspname || '.' || c.relname"
                          f" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = {oid}"
                          f" AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = c.oid)"),
                "view": ("DROP %s RESTRICT", f"SELECT CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW ' ELSE 'VIEW ' END"
                         f" || c.oid::regclass::text, n.nspname || '.' || c.relname"
                         f" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = {oid}"
                         f" AND NOT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = c.oid)"),
                "sequence": ("DROP SEQUENCE %s RESTRICT", f"SELECT c.oid::regclass::text, n.nspname || '.' || c.relname"
                             f" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = {oid}"
                             f" AND NOT EXISTS (SELECT 1 FROM pg_depend WHERE objid = c.oid AND deptype IN ('a', 'i'))"),
                "function": ("DROP FUNCTION %s RESTRICT", f"SELECT p.oid::regprocedure::text, n.nspname || '.' || p.proname"
                             f" || '(' || pg_get_function_identity_arguments(p.oid) || ')'"
                             f" FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = {oid}"),
                "type": ("DROP TYPE %s RESTRICT", f"SELECT t.oid::regtype::text, n.nspname || '.' || t.typname"
                         f" FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = {oid}"),
                "trigger": ("DROP TRIGGER %s", f"SELECT format('%I ON %s', g.tgname, g.tgrelid::regclass),"
                            f" n.nspname || '.' || c.relname || '.' || g.tgname FROM pg_trigger g"
                            f" JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                            f" WHERE g.oid = {oid}"),
            }[kind]
            row = self.psql_admin(q[1].replace("SELECT ", "SELECT ", 1) + "", user=self.role)
            if not row:
                continue  # backs a constraint, has indexes, or is owned: its drop takes more along
            ident, name = row.split("|", 1)
            drop = q[0] % ident
            try:
                self.psql_admin(drop, user=self.role)
            except Failure:
                continue  # something depends on it: another one
            out, _ = self.expect(tree, 3, "verify")
            lines = [l for l in out.splitlines() if l.startswith("missing")]
            want = f"missing  postgres {kind} {name} ("
            if not lines or any(not l.startswith(want) for l in lines):
                raise Failure(f"hand drop '{drop}': verify should name {kind} {name} only, said:\n{out}")
            return f"{kind} {name}"
        return None

    def run(self, seed, steps, drift_every):
        rng = random.Random(seed * 7919 + 1)
        history = generate(seed)
        tree = self.reset(history)
        applied = {m: 0 for m, _ in MODULES}
        count = {m: len(history[m]) for m, _ in MODULES}
        log = []
        try:
            for step in range(steps):
                module = rng.choice([m for m, _ in MODULES])
                r = rng.random()
                if applied[module] and r < 0.4:
                    k = rng.randint(1, min(3, applied[module]))
                    args = ["down", "--module", module, "--steps", str(k)]
                    applied[module] -= k
                elif applied[module] < count[module] and r < 0.8:
                    v = rng.randint(applied[module] + 1, count[module])
                    args = ["up", "--module", module, "--to", str(v)]
                    applied[module] = v
                else:
                    args = ["up"]
                    applied = dict(count)
                log.append(" ".join(args))
                self.expect(tree, 0, *args)
                self.check(tree, drift=drift_every and (step % drift_every == 0 or step == steps - 1))
            dropped = self.hand_drop(tree, rng)
            log.append(f"hand drop: {dropped}")
        except Failure as e:
            keep = os.path.join(self.keep or self.dir, f"seed-{seed}")
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(tree, keep)
            raise Failure(f"seed {seed}: steps: {' ; '.join(log)}\n{e}\n(tree kept in {keep})")
        return log

    def close(self):
        self.drop_templates()
        self.psql_admin(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)", db="postgres")
        self.psql_admin(f"DROP ROLE IF EXISTS {self.role}", db="postgres")
        shutil.rmtree(self.dir, ignore_errors=True)


def run_seeds(seeds, steps, drift_every, worker, keep, out, break_downs=False):
    runner = Runner(worker, keep, break_downs)
    failed = 0
    done = 0
    try:
        for seed in seeds:
            try:
                runner.run(seed, steps, drift_every)
                done += 1
                if done % 25 == 0:
                    out.write(f"# worker {worker}: {done} passed\n")
                    out.flush()
            except Failure as e:
                failed += 1
                out.write(f"FAILED {e}\n")
                out.flush()
            except Exception as e:  # the runner's own trouble: still a failure of this seed
                failed += 1
                out.write(f"FAILED seed {seed}: {type(e).__name__}: {e}\n")
                out.flush()
    finally:
        runner.close()
    return done, failed


def main(argv):
    if len(argv) == 3 and argv[0] == "write":
        write_tree(generate(int(argv[1])), argv[2])
        return 0
    if len(argv) == 4 and argv[0] == "write-range":
        first, count = int(argv[1]), int(argv[2])
        for seed in range(first, first + count):
            write_tree(generate(seed), os.path.join(argv[3], f"t{seed}"))
        return 0
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["run"])
    p.add_argument("--seeds", type=int, default=0, help="how many random seeds")
    p.add_argument("--first", type=int, default=None, help="the first seed (default: from the time)")
    p.add_argument("--seed-file", default=None, help="seeds always run (one a line, # comments)")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--drift-every", type=int, default=1, help="drift after every D-th step (0: never)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--keep", default=None, help="where failing trees are kept")
    p.add_argument("--break-downs", action="store_true",
                   help="self-test: downs of drops restore nothing, so histories must fail")
    a = p.parse_args(argv)
    seeds = []
    if a.seed_file:
        for line in open(a.seed_file):
            line = line.split("#")[0].strip()
            if line:
                seeds.append(int(line))
    first = a.first if a.first is not None else int(time.time() * 1000) % 10**9
    seeds += range(first, first + a.seeds)
    t0 = time.time()
    print(f"# {len(seeds)} histories x {a.steps} steps (random seeds from {first}), drift every "
          f"{a.drift_every or 'never'}, {a.workers} worker(s)", flush=True)
    parts = [seeds[i::a.workers] for i in range(a.workers)]
    pids = []
    results = []
    for w, part in enumerate(parts):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            with os.fdopen(wfd, "w") as res:
                try:
                    done, failed = run_seeds(part, a.steps, a.drift_every, w + 1, a.keep, sys.stdout,
                                             a.break_downs)
                except Failure as e:
                    print(f"FAILED worker {w + 1}: {e}", flush=True)
                    done, failed = 0, len(part)
                res.write(f"{done} {failed}\n")
            os._exit(0)
        os.close(wfd)
        pids.append((pid, rfd))
    for pid, rfd in pids:
        with os.fdopen(rfd) as res:
            text = res.read().split()
        os.waitpid(pid, 0)
        results.append(tuple(map(int, text)) if len(text) == 2 else (0, 1))
    done = sum(d for d, _ in results)
    failed = sum(f for _, f in results)
    print(f"# {done} passed, {failed} failed, {done * a.steps} steps in {time.time() - t0:.0f} s", flush=True)
    return 1 if failed or done != len(seeds) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
