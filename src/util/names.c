/* Module names and durations: the small value grammars of config.yaml and the tree. */
#include "util/names.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

bool mig_module_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
		      name[i] == '_'))
			return false;
	return true;
}

int mig_parse_duration_ms(const char *text, long long *ms)
{
	const char *p = text;
	long long value = 0;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		value = value * 10 + (*p - '0');
		if (value > INT_MAX)
			return -1;
	}
	long long unit;
	if (!*p || !strcmp(p, "s"))
		unit = 1000;
	else if (!strcmp(p, "ms"))
		unit = 1;
	else if (!strcmp(p, "m") || !strcmp(p, "min"))
		unit = 60 * 1000;
	else if (!strcmp(p, "h"))
		unit = 3600 * 1000;
	else
		return -1;
	if (value * unit > INT_MAX)
		return -1;
	*ms = value * unit;
	return 0;
}

bool mig_schema_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 63 || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

bool mig_environment_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 63)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}
