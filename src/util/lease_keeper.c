/* The lease keeper's thread (see lease_keeper.h). It shares with its owner only the
 * stop and lost flags and the failure's text, all under the mutex; the renewal itself runs
 * outside it, so a slow renewal never blocks mig_lease_keeper_lost. */

#include "util/lease_keeper.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct mig_lease_keeper {
	long long every_ms;
	mig_lease_renew_fn renew;
	mig_lease_lost_fn on_lost;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake; /* on CLOCK_MONOTONIC */
	bool stop;
	bool lost;
	char why[512];
};

static void *keeper_main(void *arg)
{
	mig_lease_keeper *k = arg;
	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		struct timespec at;
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += k->every_ms / 1000;
		at.tv_nsec += (k->every_ms % 1000) * 1000000;
		if (at.tv_nsec >= 1000000000) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000;
		}
		/* 0 is a signal or a spurious wake-up: wait on for the same moment */
		while (!k->stop && pthread_cond_timedwait(&k->wake, &k->mu, &at) == 0)
			;
		if (k->stop)
			break;
		pthread_mutex_unlock(&k->mu);
		char why[sizeof k->why];
		bool ok = k->renew(k->ctx, why, sizeof why);
		pthread_mutex_lock(&k->mu);
		if (!ok && !k->stop) {
			k->lost = true;
			snprintf(k->why, sizeof k->why, "%s", why);
			if (k->on_lost)
				k->on_lost(k->ctx);
			break;
		}
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

int mig_lease_keeper_start(mig_lease_keeper **out, long long every_ms, mig_lease_renew_fn renew,
			   mig_lease_lost_fn on_lost, void *ctx)
{
	*out = NULL;
	mig_lease_keeper *k = calloc(1, sizeof *k);
	if (!k)
		return ENOMEM;
	k->every_ms = every_ms > 0 ? every_ms : 1;
	k->renew = renew;
	k->on_lost = on_lost;
	k->ctx = ctx;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->wake, &attr);
	pthread_condattr_destroy(&attr);
	int rc = pthread_create(&k->thread, NULL, keeper_main, k);
	if (rc != 0) {
		pthread_cond_destroy(&k->wake);
		pthread_mutex_destroy(&k->mu);
		free(k);
		return rc;
	}
	*out = k;
	return 0;
}

bool mig_lease_keeper_lost(mig_lease_keeper *k, char *why, size_t size)
{
	pthread_mutex_lock(&k->mu);
	bool lost = k->lost;
	if (lost)
		snprintf(why, size, "%s", k->why);
	pthread_mutex_unlock(&k->mu);
	return lost;
}

void mig_lease_keeper_stop(mig_lease_keeper *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	pthread_cond_destroy(&k->wake);
	pthread_mutex_destroy(&k->mu);
	free(k);
}
