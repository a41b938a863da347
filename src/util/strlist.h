/* Growing a list of owned strings (char **, count), the one way lint, the parse-tree
 * reader and --observe's lock reader keep names. Header-only: it is used on both sides of
 * the libmigrate / CLI boundary. */
#ifndef MIGRATE_STRLIST_H
#define MIGRATE_STRLIST_H

#include <stdlib.h>
#include <string.h>

/* Appends a copy of s to *list (*n entries). 0, or -1 when memory runs out; the list is
 * left valid (and freeable) either way. */
static inline int mig_strlist_push(char ***list, size_t *n, const char *s)
{
	char **grown = realloc(*list, (*n + 1) * sizeof **list);
	if (!grown)
		return -1;
	*list = grown;
	if (!(grown[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

#endif
