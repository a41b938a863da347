#!/usr/bin/env bash
# The main job on the example tree, from nothing: installs what is missing, builds,
# starts a throwaway PostgreSQL and the MongoDB stand-in, and shows up, status,
# verify, seed (indexes and seed data), check and down with the repository's config.yaml, then this round's
# lint, drift, roundtrip and a test database. Leaves nothing running.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

scripts/deps.sh all
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/migrate-demo.XXXXXX")
chmod 755 "$work"
cleanup() {
	scripts/pg-server.sh stop "$work/pg" || true
	scripts/mongo-standin.sh stop "$work/mongo" || true
	rm -rf "$work"
}
trap cleanup EXIT

eval "$(scripts/pg-server.sh start "$work/pg" fsync=off)"
eval "$(scripts/mongo-standin.sh start "$work/mongo")"
export MIGRATE_PG_DSN MIGRATE_MONGO_URI
# config.yaml's environment: a developer's machine (seed data loads only in a named,
# non-production environment)
export MIGRATE_ENV=dev
echo "throwaway PostgreSQL 15 on 127.0.0.1:$MIGRATE_PG_PORT; MongoDB stand-in (not a real mongod) at ${MIGRATE_MONGO_URI%%/\?*}"

show() {
	printf '\n$ migrate %s\n' "$*"
	set +e
	build/migrate "$@"
	local status=$?
	set -e
	[ "$status" -eq 0 ] || echo "(exit status $status)"
}

# three products already in MongoDB, which the MongoDB migration
# migrations/mongodb/catalog/001_backfill_product_status.up.json backfills
for doc in '{"_id": 1, "sku": "A-1", "title": "kettle"}' \
	'{"_id": 2, "sku": "B-2", "title": "toaster", "discontinued_at": {"$date": "2023-06-01T00:00:00Z"}}' \
	'{"_id": 3, "sku": "C-3", "title": "mug", "status": "active"}'; do
	/usr/bin/python3 tests/lib/mongo_cmd.py "$MIGRATE_MONGO_URI" "${MIGRATE_MONGO_DB:-app}" \
		"{\"insert\": \"products\", \"documents\": [$doc]}" >/dev/null
done
products() {
	printf '\n(products in MongoDB: %s)\n' "$(/usr/bin/python3 tests/lib/mongo_cmd.py "$MIGRATE_MONGO_URI" \
		"${MIGRATE_MONGO_DB:-app}" '{"find": "products", "projection": {"sku": 1, "status": 1}}' |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["cursor"]["firstBatch"])')"
}

show check
show up --dry-run
show up
products
# the example's repeatable view (migrations/postgres/catalog/repeatable/product_listing.sql)
listing="SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'product_listing'"
printf '\n$ psql -c "%s"   # a view made by a repeatable migration\n' "$listing"
psql -X -q -A -t -h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres -d app -c "$listing"
show seed --dry-run
show seed
# development seed data (migrations/postgres/*/seed/*.sql, tagged -- migrate:env dev...):
# loaded once, skipped while unchanged; --reset is refused here because reviews and
# tokens reference the seeded users and no seed file writes them
show seed --data
show seed --data
show seed --data --reset
show seed --data --env production
show status
show verify
show up
show seed
show check
show down --module catalog
show down --module catalog
products
show status
show up
show verify

# drift, roundtrip and test databases make scratch databases: the app role may here
psql -X -q -h "$MIGRATE_PG_SOCKET" -p "$MIGRATE_PG_PORT" -U postgres -d postgres \
	-c "ALTER ROLE app CREATEDB" >/dev/null
show lint --all
show drift
show roundtrip --module catalog
testdb=$(build/migrate testdb create -q 2>/dev/null | sed -n "s/.*dbname='\([^']*\)'.*/\1/p")
printf '\n$ migrate testdb create\n%s\n' "${testdb:-(failed)}"
[ -z "$testdb" ] || show testdb drop "$testdb"
