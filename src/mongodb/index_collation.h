/* The collation locales mongod accepts and the defaults ICU gives each of them
 * (src/mongodb/index_collation.c): what index_spec.c needs to expand a collation into the full
 * form mongod stores. Pure data, no I/O. */
#ifndef MIGRATE_INDEX_COLLATION_H
#define MIGRATE_INDEX_COLLATION_H

#include "mongodb/index_spec.h"

/* Fills c with the defaults of locale (c->locale is left alone). Returns 0, or -1 when
 * mongod does not know locale (unknown, or not in ICU's canonical form such as "en-US"). */
int mig_collation_defaults(mig_collation *c, const char *locale);

#endif
