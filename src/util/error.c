/* mig_error helpers: one-line messages and the status -> exit code mapping. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>

int mig_error_set(mig_error *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	for (char *p = err->message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	err->code = code;
	err->sqlstate[0] = '\0';
	err->line = 0;
	return code;
}

int mig_exit_status(int code)
{
	switch (code) {
	case MIG_OK:
		return 0;
	case MIG_EUSAGE:
		return 2;
	case MIG_ESCHEMA:
		return 3;
	case MIG_EBUSY:
		return 4;
	default:
		return 1;
	}
}
