/* The collation locales mongod accepts (MongoDB's "Supported Languages and Locales") and
 * the per-locale ICU defaults that differ from ICU's root collation. mongod stores every
 * collation with all its fields filled in from these; index_spec.c expands a spec's
 * collation the same way so that the two can be compared field by field. The table of
 * exceptions is documented in README.md ("Collations"). */
#include "mongodb/index_collation.h"

#include <string.h>

static const char *const locales[] = {
	"af", "sq", "am", "ar", "hy", "as", "az", "be", "bn", "bs", "bs_Cyrl", "bg", "my", "ca",
	"chr", "zh", "zh_Hant", "hr", "cs", "da", "nl", "dz", "en", "en_US", "en_US_POSIX", "eo",
	"et", "ee", "fo", "fil", "fi", "fi_FI", "fr", "fr_CA", "gl", "ka", "de", "de_AT", "el",
	"gu", "ha", "haw", "he", "hi", "hu", "is", "ig", "smn", "id", "ga", "it", "ja", "kl", "kn",
	"kk", "km", "kok", "ko", "ky", "lk", "lo", "lv", "li", "lt", "dsb", "lb", "mk", "ms",
	"ml", "mt", "mr", "mn", "ne", "se", "nb", "nn", "or", "om", "ps", "fa", "fa_AF", "pl",
	"pt", "pa", "ro", "ru", "sr", "sr_Latn", "si", "sk", "sl", "es", "sw", "sv", "ta", "te",
	"th", "bo", "to", "tr", "uk", "hsb", "ur", "ug", "vi", "wae", "cy", "yi", "yo", "zu",
};

/* The "@collation=" variants mongod lists (e.g. "de@collation=phonebook"). */
static const char *const variants[] = {
	"search", "phonebook", "traditional", "compat", "pinyin", "stroke", "unihan", "zhuyin",
	"big5han", "gb2312han", "dictionary", "eor", "standard",
};

/* Locales whose ICU defaults differ from the root's (caseFirst "off", alternate
 * "non-ignorable", normalization false, backwards false). */
typedef struct exception {
	const char *locale;
	const char *case_first, *alternate;
	bool normalization, backwards;
} exception;

static const exception exceptions[] = {
	{"fr_CA", "off", "non-ignorable", false, true},
	{"da", "upper", "non-ignorable", false, false},
	{"mt", "upper", "non-ignorable", false, false},
	{"th", "off", "shifted", false, false},
	{"as", "off", "non-ignorable", true, false},
	{"bn", "off", "non-ignorable", true, false},
	{"bn@collation=traditional", "off", "non-ignorable", true, false},
	{"my", "off", "non-ignorable", true, false},
	{"az@collation=search", "off", "non-ignorable", true, false},
	{"bs@collation=search", "off", "non-ignorable", true, false},
	{"ca@collation=search", "off", "non-ignorable", true, false},
	{"vi", "off", "non-ignorable", true, false},
	{"vi@collation=traditional", "off", "non-ignorable", true, false},
};

static bool in(const char *s, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == n && !strncmp(list[i], s, n))
			return true;
	return false;
}

int mig_collation_defaults(mig_collation *c, const char *locale)
{
	const char *at = strchr(locale, '@');
	size_t base = at ? (size_t)(at - locale) : strlen(locale);

	if (!in(locale, base, locales, sizeof locales / sizeof *locales))
		return -1;
	if (at) {
		static const char prefix[] = "@collation=";
		const char *v = at + sizeof prefix - 1;
		if (strncmp(at, prefix, sizeof prefix - 1) ||
		    !in(v, strlen(v), variants, sizeof variants / sizeof *variants))
			return -1;
	}
	c->case_level = false;
	c->case_first = "off";
	c->strength = 3;
	c->numeric_ordering = false;
	c->alternate = "non-ignorable";
	c->max_variable = "punct";
	c->normalization = false;
	c->backwards = false;
	for (size_t i = 0; i < sizeof exceptions / sizeof *exceptions; i++)
		if (!strcmp(exceptions[i].locale, locale)) {
			c->case_first = exceptions[i].case_first;
			c->alternate = exceptions[i].alternate;
			c->normalization = exceptions[i].normalization;
			c->backwards = exceptions[i].backwards;
		}
	return 0;
}
