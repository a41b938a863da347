/* SHA-256 through OpenSSL's libcrypto (the only file that includes it); libpq links
 * libcrypto already, so this costs no new dependency. */
#include "util/checksum.h"

#include <openssl/evp.h>

int mig_sha256_hex(char out[MIG_CHECKSUM_HEX], const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	out[0] = '\0';
	if (!EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL) || n != 32)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[64] = '\0';
	return 0;
}
