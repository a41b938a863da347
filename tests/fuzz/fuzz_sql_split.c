/* libFuzzer target for mig_sql_split: whatever the bytes, statements come back in order,
 * disjoint and inside the input, start on a significant byte, carry the line
 * mig_sql_line_at gives, leave only white space, comments and ';' between them, and each
 * one split again on its own comes back whole. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/sql_split.h"
#include "fuzz.h"


static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* White space may end a statement only as part of a trailing -- comment. */
static int ends_in_line_comment(const char *s, size_t len)
{
	size_t i = len;
	while (i > 0 && s[i - 1] != '\n' && s[i - 1] != '\r')
		i--;
	for (; i + 1 < len; i++)
		if (s[i] == '-' && s[i + 1] == '-')
			return 1;
	return 0;
}

/* A stretch that splits into nothing: white space, closed comments and ';' only. */
static void check_empty(const char *s, size_t len)
{
	mig_sql_stmt *st = NULL;
	size_t n = 1;
	if (mig_sql_split(&st, &n, s, len) != 0)
		return;
	CHECK(n == 0 && st == NULL);
}

/* A statement split again on its own is one statement covering all of it. */
static void check_whole(const char *s, size_t len)
{
	mig_sql_stmt *st = NULL;
	size_t n = 0;
	if (mig_sql_split(&st, &n, s, len) != 0)
		return;
	CHECK(n == 1);
	CHECK(st[0].offset == 0 && st[0].length == len && st[0].line == 1);
	free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy without a terminator, so any read past size is caught */
	char *sql = malloc(size ? size : 1);
	if (!sql)
		return 0;
	if (size)
		memcpy(sql, data, size);

	mig_sql_stmt *st = NULL;
	size_t n = 0;
	if (mig_sql_split(&st, &n, sql, size) != 0) {
		free(sql);
		return 0;
	}
	CHECK((n == 0) == (st == NULL));

	size_t prev_end = 0;
	for (size_t i = 0; i < n; i++) {
		size_t off = st[i].offset, len = st[i].length;
		CHECK(off <= size && len <= size - off);
		CHECK(len > 0);
		CHECK(off >= prev_end); /* in order, never overlapping */
		CHECK(st[i].line == mig_sql_line_at(sql, size, off));
		CHECK(i == 0 || st[i].line >= st[i - 1].line);

		unsigned char first = (unsigned char)sql[off];
		CHECK(!is_space(first) && first != ';');
		if (len >= 2 && first == '/' && sql[off + 1] == '*')
			CHECK(off + len == size); /* only an unclosed comment may lead */
		CHECK(!(len >= 2 && first == '-' && sql[off + 1] == '-'));

		int last = i + 1 == n;
		/* all but the last end at their ';'; the last may also end at the text's end
		 * or after its final token */
		if (!last)
			CHECK(sql[off + len - 1] == ';');
		else if (sql[off + len - 1] != ';' && off + len != size &&
			 is_space((unsigned char)sql[off + len - 1]))
			CHECK(ends_in_line_comment(sql + off, len));

		check_empty(sql + prev_end, off - prev_end);
		check_whole(sql + off, len);
		prev_end = off + len;
	}
	check_empty(sql + prev_end, size - prev_end);

	/* line_at is monotonic and clamps */
	CHECK(mig_sql_line_at(sql, size, size) == mig_sql_line_at(sql, size, size + 1));

	free(st);
	free(sql);
	return 0;
}
