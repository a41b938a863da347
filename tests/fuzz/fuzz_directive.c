/* libFuzzer target for mig_directives_scan on arbitrary bytes (not NUL-terminated): it
 * never reads past len, is deterministic, and only the leading comment block counts, so
 * appending a line of SQL and then anything at all changes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/directive.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so any read past the end is caught */
	char *s = malloc(size ? size : 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	mig_directives a, b;
	mig_directives_scan(&a, s, size);
	mig_directives_scan(&b, s, size);
	CHECK(a.no_transaction == b.no_transaction && a.contract == b.contract);

	/* after a line that ends the block, nothing more counts */
	static const char tail[] = "\nSELECT 1;\n-- migrate:phase contract\n-- morph:nontransactional\n";
	size_t n = size + sizeof tail - 1;
	char *longer = malloc(n);
	if (longer) {
		memcpy(longer, s, size);
		memcpy(longer + size, tail, sizeof tail - 1);
		mig_directives c;
		mig_directives_scan(&c, longer, n);
		/* the tail's newline ends the input's last line (unchanged) and its SQL line
		 * ends the block, whatever came before */
		CHECK(c.no_transaction == a.no_transaction && c.contract == a.contract);
		free(longer);
	}
	free(s);
	return 0;
}
