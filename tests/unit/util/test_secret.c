/* Unit tests of the small value parsers under the config: password discovery in DSNs and
 * URIs and in-place redaction (src/util/secret.c), ${VAR} expansion (src/util/expand.c), module names
 * and durations (src/util/names.c). Redaction runs on exact-size heap buffers so ASan sees overflows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/expand.h"
#include "util/names.h"
#include "util/secret.h"
#include "unit.h"



/* Runs mig_dsn_passwords and checks it found exactly raw (and decoded, when not NULL). */
static void check_passwords(const char *dsn, const char *raw, const char *decoded)
{
	char *found[MIG_DSN_PASSWORDS_MAX] = {(char *)"junk", (char *)"junk"};
	int n = mig_dsn_passwords(dsn, found);
	int want = raw ? (decoded ? 2 : 1) : 0;
	if (n != want)
		fail_msg("'%s': found %d passwords, expected %d", dsn, n, want);
	if (raw)
		assert_string_equal(found[0], raw);
	else
		assert_null(found[0]);
	if (decoded)
		assert_string_equal(found[1], decoded);
	else
		assert_null(found[1]);
	free(found[0]);
	free(found[1]);
}

/* Regression: `sslpassword=` once hid the `password=` after it, and a URI with both
 * userinfo and ?password= reported only the first. Every parameter named like a
 * password is a secret (sslpassword, tlsCertificateKeyFilePassword). */
static void test_every_password_parameter_is_found(void **state)
{
	(void)state;
	char *found[MIG_DSN_PASSWORDS_MAX] = {0};
	int n = mig_dsn_passwords("postgres://u@h/db?sslpassword=keypw&password=real", found);
	assert_int_equal(n, 2);
	assert_string_equal(found[0], "keypw");
	assert_string_equal(found[1], "real");
	free(found[0]);
	free(found[1]);
	n = mig_dsn_passwords("mongodb://h/?tls=true&tlsCertificateKeyFilePassword=k%40y", found);
	assert_int_equal(n, 2);
	assert_string_equal(found[0], "k%40y");
	assert_string_equal(found[1], "k@y");
	free(found[0]);
	free(found[1]);
	n = mig_dsn_passwords("postgres://u:p1@h/db?password=p2", found);
	assert_int_equal(n, 2);
	assert_string_equal(found[0], "p1");
	assert_string_equal(found[1], "p2");
	free(found[0]);
	free(found[1]);
}

/* --- mig_dsn_passwords --- */

static void test_uri_plain_password(void **state)
{
	(void)state;
	check_passwords("postgres://app:hunter2@db.example:5432/app", "hunter2", NULL);
	check_passwords("postgresql://app:hunter2@h1,h2/app?sslmode=require", "hunter2", NULL);
}

static void test_uri_percent_encoded_password_returns_raw_and_decoded(void **state)
{
	(void)state;
	check_passwords("postgres://app:p%40ss%2Fw%3Ard@localhost/app", "p%40ss%2Fw%3Ard",
			"p@ss/w:rd");
	/* a '%' that starts no escape stays as it is */
	check_passwords("postgres://app:100%zz@localhost/app", "100%zz", NULL);
}

static void test_uri_password_with_at_sign_uses_last_at(void **state)
{
	(void)state;
	check_passwords("postgres://app:p@ss@localhost/app", "p@ss", NULL);
}

static void test_uri_without_password(void **state)
{
	(void)state;
	check_passwords("postgres://app@localhost:5432/app", NULL, NULL);
	check_passwords("postgres://localhost/app", NULL, NULL);
	check_passwords("postgres://app:@localhost/app", NULL, NULL);
	check_passwords("", NULL, NULL);
}

static void test_uri_query_password(void **state)
{
	(void)state;
	check_passwords("postgres://localhost/app?user=app&password=s3cr%21t&sslmode=disable",
			"s3cr%21t", "s3cr!t");
	check_passwords("postgres://app@localhost/app?password=plain", "plain", NULL);
}

static void test_mongodb_srv_uri(void **state)
{
	(void)state;
	check_passwords("mongodb+srv://root:m0ngo%25pw@cluster0.example.net/app?retryWrites=true",
			"m0ngo%25pw", "m0ngo%pw");
	check_passwords("mongodb://root:pw@h1:27017,h2:27017/app?authSource=admin", "pw", NULL);
}

static void test_keyword_password(void **state)
{
	(void)state;
	check_passwords("host=localhost password=pw1 dbname=app", "pw1", NULL);
	check_passwords("password=first", "first", NULL);
	check_passwords("host=h\tpassword = spaced user=u", "spaced", NULL);
}

static void test_keyword_quoted_password_with_space_and_escaped_quote(void **state)
{
	(void)state;
	check_passwords("host=h password='a b\\'c' user=u", "a b\\'c", "a b'c");
	check_passwords("password='simple' host=h", "simple", NULL);
}

static void test_keyword_password_inside_other_word_is_not_one(void **state)
{
	(void)state;
	check_passwords("host=h user=nopassword=x dbname=app", NULL, NULL);
	check_passwords("host=h password='' user=u", NULL, NULL);
	/* libpq skips blanks after '=', so here the password really is "user=u" */
	check_passwords("host=h password= user=u", "user=u", NULL);
}

/* --- mig_redact --- */

/* A heap copy of text exactly size bytes long, so ASan catches any write past it. */
static char *exact_buffer(const char *text, size_t size)
{
	assert_true(strlen(text) < size);
	char *b = malloc(size);
	assert_non_null(b);
	memset(b, 'Z', size);
	memcpy(b, text, strlen(text) + 1);
	return b;
}

static void test_redact_every_occurrence(void **state)
{
	(void)state;
	char text[64] = "dsn postgres://u:pw@h failed, pw again: pw";
	mig_redact(text, sizeof text, "pw");
	assert_string_equal(text, "dsn postgres://u:***@h failed, *** again: ***");
}

static void test_redact_secret_longer_than_mask(void **state)
{
	(void)state;
	char *b = exact_buffer("x hunter2hunter2 y", 19);
	mig_redact(b, 19, "hunter2");
	assert_string_equal(b, "x ****** y");
	free(b);
}

static void test_redact_secret_shorter_than_mask_grows_in_place(void **state)
{
	(void)state;
	char *b = exact_buffer("axbxc", 32);
	mig_redact(b, 32, "x");
	assert_string_equal(b, "a***b***c");
	free(b);
}

static void test_redact_truncates_to_size(void **state)
{
	(void)state;
	/* "ab***cd" needs 8 bytes: only 6 are there */
	char *b = exact_buffer("abxcd", 6);
	mig_redact(b, 6, "x");
	assert_string_equal(b, "ab***");
	free(b);

	/* no room for the whole mask: a part of it, never the secret */
	b = exact_buffer("abx", 4);
	mig_redact(b, 4, "x");
	assert_string_equal(b, "ab*");
	free(b);

	b = exact_buffer("x", 2);
	mig_redact(b, 2, "x");
	assert_string_equal(b, "*");
	free(b);

	/* many growths in a tiny buffer: every byte stays inside it */
	b = exact_buffer("xxxxxxx", 8);
	mig_redact(b, 8, "x");
	assert_string_equal(b, "*******");
	assert_null(strchr(b, 'x'));
	free(b);
}

static void test_redact_mask_that_contains_the_secret_terminates(void **state)
{
	(void)state;
	char text[32] = "a*b**c";
	mig_redact(text, sizeof text, "*");
	assert_string_equal(text, "a***b******c");
}

static void test_redact_ignores_null_and_empty_secret(void **state)
{
	(void)state;
	char text[16] = "keep me";
	mig_redact(text, sizeof text, NULL);
	mig_redact(text, sizeof text, "");
	mig_redact(text, 0, "keep");
	assert_string_equal(text, "keep me");
}

static void test_secure_zero_clears(void **state)
{
	(void)state;
	char b[8] = "secret!";
	mig_secure_zero(b, sizeof b);
	for (size_t i = 0; i < sizeof b; i++)
		assert_int_equal(b[i], 0);
}

/* --- mig_expand_env --- */

static char *expand_ok(const char *text)
{
	char *out = NULL;
	mig_error err = {0};
	int rc = mig_expand_env(&out, text, &err);
	if (rc != MIG_OK)
		fail_msg("expanding '%s': %d %s", text, rc, err.message);
	assert_non_null(out);
	return out;
}

static void expect_expand_error(const char *text, const char *needle)
{
	char *out = (char *)"junk";
	mig_error err = {0};
	assert_int_equal(mig_expand_env(&out, text, &err), MIG_EUSAGE);
	assert_int_equal(err.code, MIG_EUSAGE);
	assert_null(out);
	assert_contains(err.message, needle);
}

static void test_expand_variable_and_default(void **state)
{
	(void)state;
	setenv("MIGT_HOST", "db.internal", 1);
	unsetenv("MIGT_PORT");
	char *s = expand_ok("${MIGT_HOST}:${MIGT_PORT:-5432}/x");
	assert_string_equal(s, "db.internal:5432/x");
	free(s);
	unsetenv("MIGT_HOST");
}

static void test_expand_empty_variable_takes_default(void **state)
{
	(void)state;
	setenv("MIGT_EMPTY", "", 1);
	char *s = expand_ok("[${MIGT_EMPTY:-fallback}][${MIGT_EMPTY}]");
	assert_string_equal(s, "[fallback][]");
	free(s);
	unsetenv("MIGT_EMPTY");
}

static void test_expand_empty_default(void **state)
{
	(void)state;
	unsetenv("MIGT_NOPE");
	char *s = expand_ok("a${MIGT_NOPE:-}b");
	assert_string_equal(s, "ab");
	free(s);
}

static void test_expand_keeps_dollar_without_brace(void **state)
{
	(void)state;
	char *s = expand_ok("cost $5, $HOME, $$ and a trailing $");
	assert_string_equal(s, "cost $5, $HOME, $$ and a trailing $");
	free(s);
	s = expand_ok("");
	assert_string_equal(s, "");
	free(s);
}

static void test_expand_required_variable(void **state)
{
	(void)state;
	setenv("MIGT_SET", "v", 1);
	char *s = expand_ok("${MIGT_SET?needed}");
	assert_string_equal(s, "v");
	free(s);
	unsetenv("MIGT_SET");
	expect_expand_error("${MIGT_SET?set it to the role}",
			    "environment variable 'MIGT_SET': set it to the role");
	expect_expand_error("${MIGT_SET?}", "environment variable 'MIGT_SET' is not set");
}

/* lookup for the span tests: A=1, everything else unset */
static const char *span_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "A") ? NULL : "1";
}

static void test_expand_spans_only_between_markers(void **state)
{
	(void)state;
	const char *text = "x ${B} $$ ${A}\n"
			   "  -- migrate:envsub on  \r\n"
			   "y ${A} ${B:-2} $$\n"
			   "-- migrate:envsub off\n"
			   "z ${A}";
	char *out = NULL;
	size_t n = 0;
	unsigned line = 99;
	mig_error err = {0};
	assert_int_equal(mig_expand_spans(&out, &n, text, strlen(text), span_lookup, NULL, &line,
					  &err),
			 MIG_OK);
	const char *want = "x ${B} $$ ${A}\n"
			   "  -- migrate:envsub on  \r\n"
			   "y 1 2 $$\n"
			   "-- migrate:envsub off\n"
			   "z ${A}";
	assert_non_null(out);
	assert_int_equal(n, strlen(want));
	assert_string_equal(out, want);
	free(out);
	/* no span: nothing copied */
	out = (char *)"junk";
	assert_int_equal(mig_expand_spans(&out, &n, "a ${B}\n-- migrate:envsub\n", 22, span_lookup,
					  NULL, &line, &err),
			 MIG_OK);
	assert_null(out);
	/* an unset placeholder names its line; an unclosed span runs to the end */
	const char *bad = "-- migrate:envsub on\nok ${A}\n\nbad ${B}\n";
	out = (char *)"junk";
	assert_int_equal(mig_expand_spans(&out, &n, bad, strlen(bad), span_lookup, NULL, &line,
					  &err),
			 MIG_EUSAGE);
	assert_null(out);
	assert_int_equal(line, 4);
	assert_contains(err.message, "placeholder 'B' is not set");
}

static void test_expand_value_is_not_expanded_again(void **state)
{
	(void)state;
	setenv("MIGT_INDIRECT", "${MIGT_NOPE}", 1);
	unsetenv("MIGT_NOPE");
	char *s = expand_ok("$${MIGT_INDIRECT}");
	assert_string_equal(s, "$${MIGT_NOPE}");
	free(s);
	unsetenv("MIGT_INDIRECT");
}

static void test_expand_unset_variable_names_it(void **state)
{
	(void)state;
	unsetenv("MIGT_UNSET");
	expect_expand_error("x${MIGT_UNSET}y", "environment variable 'MIGT_UNSET' is not set");
}

static void test_expand_unclosed_brace(void **state)
{
	(void)state;
	expect_expand_error("abc ${MIGT_X", "unclosed '${'");
	expect_expand_error("${", "unclosed '${'");
}

static void test_expand_bad_names(void **state)
{
	(void)state;
	expect_expand_error("${1BAD}", "bad variable name in '${1BAD}'");
	expect_expand_error("${}", "bad variable name in '${}'");
	expect_expand_error("${A-B}", "bad variable reference '${A-B}'");
	expect_expand_error("${A:=x}", "bad variable reference '${A:=x}'");
	expect_expand_error("${A B}", "bad variable reference '${A B}'");
}

static void test_expand_too_long_name(void **state)
{
	(void)state;
	char text[400];
	memset(text, 'A', sizeof text);
	memcpy(text, "${", 2);
	text[sizeof text - 2] = '}';
	text[sizeof text - 1] = '\0';
	expect_expand_error(text, "variable name too long");
}

/* --- mig_module_name_valid --- */

static void test_module_names(void **state)
{
	(void)state;
	assert_true(mig_module_name_valid("catalog"));
	assert_true(mig_module_name_valid("core"));
	assert_true(mig_module_name_valid("a_1"));
	assert_true(mig_module_name_valid("0"));
	assert_true(mig_module_name_valid("_"));
	assert_false(mig_module_name_valid(""));
	assert_false(mig_module_name_valid("Catalog"));
	assert_false(mig_module_name_valid("a-b"));
	assert_false(mig_module_name_valid("a b"));
	assert_false(mig_module_name_valid("a.b"));
	assert_false(mig_module_name_valid("a/b"));
	assert_false(mig_module_name_valid("caf\xc3\xa9"));

	char name[65];
	memset(name, 'm', 63);
	name[63] = '\0';
	assert_true(mig_module_name_valid(name));
	name[63] = 'm';
	name[64] = '\0';
	assert_false(mig_module_name_valid(name));
}

/* --- mig_parse_duration_ms --- */

static long long duration(const char *text)
{
	long long ms = -12345;
	if (mig_parse_duration_ms(text, &ms) != 0)
		fail_msg("'%s' rejected", text);
	return ms;
}

static void expect_bad_duration(const char *text)
{
	long long ms = -12345;
	if (mig_parse_duration_ms(text, &ms) != -1)
		fail_msg("'%s' accepted as %lld", text, ms);
	assert_int_equal(ms, -12345); /* untouched on failure */
}

static void test_durations(void **state)
{
	(void)state;
	assert_int_equal(duration("0"), 0);
	assert_int_equal(duration("0ms"), 0);
	assert_int_equal(duration("500ms"), 500);
	assert_int_equal(duration("10s"), 10000);
	assert_int_equal(duration("30"), 30000);
	assert_int_equal(duration("5m"), 300000);
	assert_int_equal(duration("5min"), 300000);
	assert_int_equal(duration("1h"), 3600000);
	assert_int_equal(duration("007s"), 7000);
}

static void test_bad_durations(void **state)
{
	(void)state;
	expect_bad_duration("");
	expect_bad_duration("s");
	expect_bad_duration("ms");
	expect_bad_duration("-1");
	expect_bad_duration("+1s");
	expect_bad_duration("1.5s");
	expect_bad_duration("10 s");
	expect_bad_duration(" 10s");
	expect_bad_duration("10S");
	expect_bad_duration("10x");
	expect_bad_duration("1d");
	expect_bad_duration("10sec");
}

static void test_duration_overflow_is_rejected(void **state)
{
	(void)state;
	/* PostgreSQL timeouts are int milliseconds: 2147483647 is the largest */
	assert_int_equal(duration("2147483647ms"), 2147483647LL);
	expect_bad_duration("2147483648ms");
	assert_int_equal(duration("2147483s"), 2147483000LL);
	expect_bad_duration("2147484s");
	expect_bad_duration("2147484");
	assert_int_equal(duration("35791m"), 2147460000LL);
	expect_bad_duration("35792m");
	assert_int_equal(duration("596h"), 2145600000LL);
	expect_bad_duration("597h");
	expect_bad_duration("99999999999999999999999999s");
	expect_bad_duration("9223372036854775808ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_plain_password),
		cmocka_unit_test(test_uri_percent_encoded_password_returns_raw_and_decoded),
		cmocka_unit_test(test_uri_password_with_at_sign_uses_last_at),
		cmocka_unit_test(test_uri_without_password),
		cmocka_unit_test(test_uri_query_password),
		cmocka_unit_test(test_mongodb_srv_uri),
		cmocka_unit_test(test_keyword_password),
		cmocka_unit_test(test_keyword_quoted_password_with_space_and_escaped_quote),
		cmocka_unit_test(test_keyword_password_inside_other_word_is_not_one),
		cmocka_unit_test(test_redact_every_occurrence),
		cmocka_unit_test(test_redact_secret_longer_than_mask),
		cmocka_unit_test(test_redact_secret_shorter_than_mask_grows_in_place),
		cmocka_unit_test(test_redact_truncates_to_size),
		cmocka_unit_test(test_redact_mask_that_contains_the_secret_terminates),
		cmocka_unit_test(test_redact_ignores_null_and_empty_secret),
		cmocka_unit_test(test_secure_zero_clears),
		cmocka_unit_test(test_expand_variable_and_default),
		cmocka_unit_test(test_expand_empty_variable_takes_default),
		cmocka_unit_test(test_expand_empty_default),
		cmocka_unit_test(test_expand_keeps_dollar_without_brace),
		cmocka_unit_test(test_expand_value_is_not_expanded_again),
		cmocka_unit_test(test_expand_required_variable),
		cmocka_unit_test(test_expand_spans_only_between_markers),
		cmocka_unit_test(test_expand_unset_variable_names_it),
		cmocka_unit_test(test_expand_unclosed_brace),
		cmocka_unit_test(test_expand_bad_names),
		cmocka_unit_test(test_expand_too_long_name),
		cmocka_unit_test(test_module_names),
		cmocka_unit_test(test_every_password_parameter_is_found),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bad_durations),
		cmocka_unit_test(test_duration_overflow_is_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
