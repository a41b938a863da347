/* Shadow databases (src/scratch/shadow.h) as scratch databases: one admin session on the
 * scratch server for the whole run, a sweep of the shadows dead runs left, a clone of
 * the template or an empty database, and the drop on the same session. */
#include <stdlib.h>
#include <string.h>

#include "scratch/scratch.h"
#include "scratch/shadow.h"

struct mig_shadow {
	mig_config cfg; /* a shallow copy of the live config, pg.dsn pointing here */
	mig_scratch *sc;
	char *dsn; /* the shadow's conninfo */
	char name[MIG_SCRATCH_NAME_MAX];
	char tpl[MIG_SCRATCH_NAME_MAX];
	bool cached;
	bool created;
};

static int start(mig_shadow **out, const mig_config *cfg, mig_error *err)
{
	mig_shadow *s = calloc(1, sizeof *s);
	if (!s)
		return mig_error_set(err, MIG_EFAIL, "out of memory");
	*out = s;
	int rc = mig_scratch_open(&s->sc, cfg, err);
	if (rc < 0)
		return rc;
	/* best effort: a leftover must not stop this run */
	mig_scratch_sweep_shadows(s->sc, NULL);
	mig_scratch_new_name(s->name, MIG_SCRATCH_SHADOW_PREFIX);
	return mig_scratch_conninfo(&s->dsn, s->sc, s->name, true, err);
}

static int finish(mig_shadow **out, const mig_config *cfg, int rc)
{
	mig_shadow *s = *out;
	if (rc < 0) {
		mig_shadow_drop(s);
		*out = NULL;
		return rc;
	}
	s->cfg = *cfg;
	s->cfg.pg.dsn = s->dsn;
	s->cfg.pg.lock_mode = MIG_LOCK_ADVISORY; /* nobody else reaches a shadow */
	return MIG_OK;
}

int mig_shadow_create(mig_shadow **out, const mig_config *cfg, mig_error *err)
{
	*out = NULL;
	int rc = start(out, cfg, err);
	if (rc == MIG_OK && (rc = mig_scratch_create((*out)->sc, (*out)->name, err)) == MIG_OK)
		(*out)->created = true;
	return finish(out, cfg, rc);
}

int mig_shadow_clone(mig_shadow **out, const mig_config *cfg, const mig_plan *plan,
		     const mig_run *run, mig_error *err)
{
	*out = NULL;
	bool built = false;
	int rc = start(out, cfg, err);
	if (rc == MIG_OK)
		rc = mig_scratch_template((*out)->tpl, &built, (*out)->sc, plan, run, err);
	bool clone_failed = false;
	if (rc == MIG_OK)
		clone_failed = (rc = mig_scratch_clone((*out)->sc, (*out)->tpl, (*out)->name,
						       err)) < 0;
	if (clone_failed) {
		/* a `testdb gc` may have dropped the template between finding and cloning
		 * it: then it is built again, once */
		bool rebuilt = false;
		mig_error again = {0};
		if (mig_scratch_template((*out)->tpl, &rebuilt, (*out)->sc, plan, run, &again) ==
			    MIG_OK &&
		    rebuilt) {
			built = true;
			rc = mig_scratch_clone((*out)->sc, (*out)->tpl, (*out)->name, err);
		}
	}
	if (rc == MIG_OK) {
		(*out)->created = true;
		(*out)->cached = !built;
	}
	return finish(out, cfg, rc);
}

int mig_shadow_copy(mig_shadow **out, const mig_config *cfg, const mig_shadow *from,
		    mig_error *err)
{
	*out = NULL;
	int rc = start(out, cfg, err);
	if (rc == MIG_OK &&
	    (rc = mig_scratch_clone((*out)->sc, from->name, (*out)->name, err)) == MIG_OK)
		(*out)->created = true;
	return finish(out, cfg, rc);
}

mig_config *mig_shadow_config(mig_shadow *s)
{
	return &s->cfg;
}

const char *mig_shadow_name(const mig_shadow *s)
{
	return s->name;
}

const char *mig_shadow_template(const mig_shadow *s)
{
	return s->tpl;
}

bool mig_shadow_cached(const mig_shadow *s)
{
	return s->cached;
}

void mig_shadow_drop(mig_shadow *s)
{
	if (!s)
		return;
	if (s->created) {
		char *names[] = {s->name};
		mig_scratch_drop(s->sc, names, 1, NULL);
	}
	mig_scratch_close(s->sc);
	free(s->dsn);
	free(s);
}
