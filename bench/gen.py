#!/usr/bin/python3
"""Generates the benchmark's migration trees, configs and the equivalent psql scripts.

usage: gen.py OUT DSN MONGO_URI N BIG DOWN_STEPS MONGO_COLLECTIONS

Writes under OUT (all paths absolute inside the scripts):
  table/        N migrations over 10 modules: CREATE TABLE + CREATE INDEX each (+ .down.sql)
  insert/       N one-statement migrations over 10 modules: one INSERT each (+ .down.sql)
  mixed/        N migrations over 10 modules, a real history's shape: odd versions create a
                table and an index, every tenth a SQL function called from a DO block, the
                other even ones ALTER TABLE ... ADD COLUMN on the previous table
  big/          BIG tiny one-statement migrations over 10 modules
  empty/        the same modules with no files (fixed cost of a run)
  probe/        one migration in module `probe`: creates migrate's ledger tables
  mongo/        mongodb/<module>/indexes.json: MONGO_COLLECTIONS collections x 5 indexes
  table.yaml insert.yaml mixed.yaml big.yaml empty.yaml   all 10 modules
  table_core.yaml insert_core.yaml mixed_core.yaml        core only (round-trip count)
  probe.yaml                                         core and probe
  mongo.yaml
  table.psql insert.psql mixed.psql       psql limit for `up`: same files, same order,
                                          after \\i ledger_ddl.sql (written by run.sh)
  table_core.psql insert_core.psql mixed_core.psql empty.psql
  table_down.psql                         psql limit for `down --module LAST --steps S`
  table_framing.psql mixed_framing.psql … the psql scripts with each file's statements
                                          replaced by `SELECT 1`s (framing alone)
  last_module                             the module `down` rolls back
"""
import hashlib
import json
import os
import sys

MODULES = ["core", "catalog", "billing", "orders", "shipping", "inventory", "payments",
           "accounts", "search", "reports"]

# The ledger tables exactly as migrate creates them: run.sh dumps them (pg_dump
# --schema-only) to OUT/ledger_ddl.sql before any psql script runs.
LEDGER_DDL = "\\i {out}/ledger_ddl.sql\nRESET ALL;\n"
# What migrate sends for each migration's ledger row (src/postgres/pg_ledger.c).
LEDGER_INSERT = ("INSERT INTO schema_migrations (module, version, name, checksum, duration_ms)"
                 " VALUES ('{m}', {v}, '{n}', '{c}',"
                 " (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint);\n")
LEDGER_DELETE = "DELETE FROM schema_migrations WHERE module = '{m}' AND version = {v};\n"


def table_sql(mod, v, w):
    t = f"{mod}_t{v:0{w}d}"
    up = (f"-- {mod} {v}: the {t} table\n"
          f"CREATE TABLE {t} (\n"
          f"    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
          f"    owner_id bigint NOT NULL,\n"
          f"    name text NOT NULL,\n"
          f"    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),\n"
          f"    payload jsonb NOT NULL DEFAULT '{{}}',\n"
          f"    created_at timestamptz NOT NULL DEFAULT now(),\n"
          f"    updated_at timestamptz\n"
          f");\n\n"
          f"CREATE INDEX {t}_owner_created_idx ON {t} (owner_id, created_at DESC);\n")
    down = f"DROP TABLE {t};\n"
    return f"create_{t}", up, down


def insert_sql(mod, v, w):
    key = f"{mod}.setting_{v:0{w}d}"
    up = f"INSERT INTO bench_settings (key, value) VALUES ('{key}', 'value {v}');\n"
    down = f"DELETE FROM bench_settings WHERE key = '{key}';\n"
    return f"seed_setting_{v:0{w}d}", up, down


def mixed_sql(mod, v, w):
    if v % 2:
        return table_sql(mod, v, w)
    t = f"{mod}_t{v - 1:0{w}d}"
    if v % 10 == 0:
        f = f"{mod}_f{v:0{w}d}"
        up = (f"-- {mod} {v}: a function, used once\n"
              f"CREATE FUNCTION {f}(x bigint) RETURNS bigint\n"
              f"    LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 + {v} $$;\n\n"
              f"DO $$\nBEGIN\n"
              f"    IF {f}(1) < 0 THEN\n"
              f"        RAISE EXCEPTION '{f} is broken';\n"
              f"    END IF;\n"
              f"    UPDATE {t} SET updated_at = now() WHERE owner_id = {f}(0);\n"
              f"END\n$$;\n")
        return f"add_{f}", up, f"DROP FUNCTION {f}(bigint);\n"
    up = (f"-- {mod} {v}: a column on {t}\n"
          f"ALTER TABLE {t} ADD COLUMN c{v} int NOT NULL DEFAULT 0;\n")
    return f"add_{t}_c{v}", up, f"ALTER TABLE {t} DROP COLUMN c{v};\n"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def config(path, dsn, root, modules):
    lines = ["postgres:", f'  dsn: "{dsn}"', "  lock_wait: 60s", f"root: {root}"]
    if modules:
        lines.append("modules:")
        lines += [f"  {m}: {{ enabled: true }}" for m in modules]
    write(path, "\n".join(lines) + "\n")


def tree(out, name, total, make):
    """Writes the tree; returns [(module, version, name, up_path, down_path, checksum)] in
    the order migrate applies them: core first, then the modules as listed."""
    per = total // len(MODULES)
    w = max(3, len(str(per)))
    steps = []
    for mod in MODULES:
        d = os.path.join(out, name, "postgres", mod)
        os.makedirs(d, exist_ok=True)
        for v in range(1, per + 1):
            mname, up, down = make(mod, v, w)
            base = os.path.join(d, f"{v:0{w}d}_{mname}")
            write(base + ".up.sql", up)
            write(base + ".down.sql", down)
            steps.append((mod, v, mname, base + ".up.sql", base + ".down.sql",
                          hashlib.sha256(up.encode()).hexdigest()))
    return steps


def psql_up(path, steps):
    with open(path, "w") as f:
        f.write(LEDGER_DDL.format(out=os.path.dirname(os.path.abspath(path))))
        for mod, v, mname, up, _, sha in steps:
            f.write("BEGIN;\n\\i " + up + "\n")
            f.write(LEDGER_INSERT.format(m=mod, v=v, n=mname, c=sha))
            f.write("COMMIT;\n")


def statement_count(sql):
    """Top-level statements of a generated file (its $$ bodies hold no top-level ';')."""
    n, inside = 0, False
    for line in sql.splitlines():
        if line.lstrip().startswith("--"):
            continue
        if line.count("$$") % 2:
            inside = not inside
        if not inside and line.rstrip().endswith(";"):
            n += 1
    return n


def psql_framing(path, steps):
    """The psql script's framing alone: the same transactions and ledger rows, each file's
    statements replaced by as many `SELECT 1`. What one round trip per migration can
    save at most; the rest of psql's time is the server's own work."""
    with open(path, "w") as f:
        f.write(LEDGER_DDL.format(out=os.path.dirname(os.path.abspath(path))))
        for mod, v, mname, up, _, sha in steps:
            with open(up) as src:
                f.write("BEGIN;\n" + "SELECT 1;\n" * statement_count(src.read()))
            f.write(LEDGER_INSERT.format(m=mod, v=v, n=mname, c=sha))
            f.write("COMMIT;\n")


def psql_down(path, steps):
    with open(path, "w") as f:
        for mod, v, _, _, down, _ in steps:
            f.write("BEGIN;\n\\i " + down + "\n")
            f.write(LEDGER_DELETE.format(m=mod, v=v))
            f.write("COMMIT;\n")


def mongo_tree(out, collections):
    per = max(1, collections // len(MODULES))
    for mod in MODULES:
        colls = []
        for j in range(1, per + 1):
            colls.append({"name": f"{mod}_c{j:02d}", "indexes": [
                {"keys": {"sku": 1}, "options": {"unique": True, "name": "sku_unique"}},
                {"keys": {"owner_id": 1, "created_at": -1}, "options": {"name": "owner_created"}},
                {"keys": {"expires_at": 1}, "options": {"name": "ttl", "expireAfterSeconds": 3600}},
                {"keys": {"deleted_at": 1}, "options": {
                    "name": "deleted", "partialFilterExpression": {"deleted_at": {"$exists": True}}}},
                {"keys": {"tags": 1, "status": 1}},
            ]})
        write(os.path.join(out, "mongo", "mongodb", mod, "indexes.json"),
              json.dumps({"collections": colls}, indent=1) + "\n")


def main():
    out, dsn, mongo_uri = sys.argv[1], sys.argv[2], sys.argv[3]
    n, big, down_steps, mongo_colls = (int(x) for x in sys.argv[4:8])
    others = MODULES[1:]
    for name, make, total in (("table", table_sql, n), ("insert", insert_sql, n),
                              ("mixed", mixed_sql, n)):
        steps = tree(out, name, total, make)
        config(f"{out}/{name}.yaml", dsn, name, others)
        config(f"{out}/{name}_core.yaml", dsn, name, [])
        psql_up(f"{out}/{name}.psql", steps)
        psql_framing(f"{out}/{name}_framing.psql", steps)
        psql_up(f"{out}/{name}_core.psql", [s for s in steps if s[0] == "core"])
        if name == "table":
            last = [s for s in steps if s[0] == MODULES[-1]]
            psql_down(f"{out}/table_down.psql", list(reversed(last))[:down_steps])
    tree(out, "big", big, insert_sql)
    config(f"{out}/big.yaml", dsn, "big", others)
    for mod in MODULES:
        os.makedirs(os.path.join(out, "empty", "postgres", mod), exist_ok=True)
    config(f"{out}/empty.yaml", dsn, "empty", others)
    config(f"{out}/empty_core.yaml", dsn, "empty", [])
    psql_up(f"{out}/empty.psql", [])
    write(os.path.join(out, "probe", "postgres", "probe", "001_probe.up.sql"), "SELECT 1;\n")
    config(f"{out}/probe.yaml", dsn, "probe", ["probe"])
    mongo_tree(out, mongo_colls)
    write(f"{out}/mongo.yaml",
          f'mongodb:\n  uri: "{mongo_uri}"\n  database: bench\nroot: mongo\nmodules:\n' +
          "".join(f"  {m}: {{ enabled: true }}\n" for m in others))
    write(f"{out}/last_module", MODULES[-1] + "\n")


if __name__ == "__main__":
    main()
