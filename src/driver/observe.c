/* Freeing what `lint --observe` learned: the types are backend-neutral (observe.h), so
 * lint's report frees them without reaching into the PostgreSQL driver that fills them. */
#include "driver/observe.h"

#include <stdlib.h>

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void mig_observation_clear(mig_observation *obs)
{
	for (size_t i = 0; i < obs->nstmts; i++) {
		free_list(obs->stmts[i].locks, obs->stmts[i].nlocks);
		free_list(obs->stmts[i].rewritten, obs->stmts[i].nrewritten);
	}
	free(obs->stmts);
	obs->stmts = NULL;
	obs->nstmts = 0;
}
