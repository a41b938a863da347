/* libFuzzer target for the two readers of MongoDB files a tree carries: versioned
 * migrations (NNN_name.up.json, mig_doc_file_load) and seed data (seed/NAME.json,
 * mig_doc_seed_load). The first input byte picks the reader, the rest is the file, written
 * to a private temporary file since both readers take a path. On success a migration
 * has at least one command and a seed names its collection and environment; on failure
 * the error is one line. */
#include <stdio.h>
#include <unistd.h>

#include "mongodb/mongo_migrate.h"
#include "mongodb/mongo_seed.h"
#include "fuzz.h"

static char path[64];

static void write_input(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		snprintf(path, sizeof path, "/tmp/fuzz_mongo_files.%ld.json", (long)getpid());
	}
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK(size == 0 || fwrite(data, 1, size, f) == size);
	CHECK(fclose(f) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool seed = data[0] & 1;
	write_input(data + 1, size - 1);
	mig_error err = {0};
	if (seed) {
		mig_doc_seed *s = NULL;
		int rc = mig_doc_seed_load(&s, path, &err);
		if (rc == MIG_OK) {
			CHECK(s != NULL);
			CHECK(mig_doc_seed_collection(s) && *mig_doc_seed_collection(s));
			CHECK(mig_doc_seed_env(s) != NULL);
			mig_doc_seed_free(s);
		} else {
			CHECK(s == NULL);
			check_one_line_error(&err, rc);
		}
	} else {
		mig_doc_file *f = NULL;
		int rc = mig_doc_file_load(&f, path, &err);
		if (rc == MIG_OK) {
			CHECK(f != NULL);
			(void)mig_doc_file_transaction(f);
			(void)mig_doc_file_contract(f);
			(void)mig_doc_file_commands(f);
			mig_doc_file_free(f);
		} else {
			CHECK(f == NULL);
			check_one_line_error(&err, rc);
		}
	}
	return 0;
}
