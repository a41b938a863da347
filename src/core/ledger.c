/* The in-memory ledger: rows of schema_migrations as one driver call returns them. */
#include "driver/driver.h"

#include <stdlib.h>
#include <string.h>

void mig_ledger_clear(mig_ledger *ledger)
{
	for (size_t i = 0; i < ledger->nrows; i++) {
		free(ledger->rows[i].module);
		free(ledger->rows[i].name);
	}
	free(ledger->rows);
	memset(ledger, 0, sizeof *ledger);
}

const mig_applied *mig_ledger_find(const mig_ledger *ledger, const char *module,
				   long long version)
{
	/* rows are sorted by (module, version): binary search keeps 10,000 rows cheap */
	size_t lo = 0, hi = ledger->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const mig_applied *row = &ledger->rows[mid];
		int c = strcmp(row->module, module);
		if (c == 0)
			c = row->version < version ? -1 : row->version > version;
		if (c == 0)
			return row;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void mig_missing_objects_free(mig_missing_object *objects, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(objects[i].module);
		free(objects[i].kind);
		free(objects[i].schema);
		free(objects[i].name);
	}
	free(objects);
}

void mig_repeatable_ledger_clear(mig_repeatable_ledger *l)
{
	for (size_t i = 0; i < l->nrows; i++) {
		free(l->rows[i].module);
		free(l->rows[i].name);
	}
	free(l->rows);
	memset(l, 0, sizeof *l);
}

const mig_repeatable_row *mig_repeatable_ledger_find(const mig_repeatable_ledger *l,
						     const char *module, const char *name)
{
	size_t lo = 0, hi = l->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const mig_repeatable_row *row = &l->rows[mid];
		int c = strcmp(row->module, module);
		if (c == 0)
			c = strcmp(row->name, name);
		if (c == 0)
			return row;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
