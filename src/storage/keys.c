/* keys.c - valid keys and key prefixes (see keys.h and storage.h). */
#include "keys.h"

#include <string.h>

#include "kindling/storage.h"

static bool key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* A key is folders and a name: never empty, never '.'-led, so that ".",
 * "..", hidden files and the back ends' own ".tmp-" and ".multipart"
 * names can never be keys; and only characters that need no escaping in a
 * file name, a URL or an XML listing. */
static bool valid(const char *s, bool partial)
{
	size_t n = strlen(s), part = 0;
	if (n >= STORAGE_KEY_MAX || (!partial && n == 0))
		return false;
	for (size_t i = 0; i < n; i++) {
		bool start = i == 0 || s[i - 1] == '/';
		if (s[i] == '/') {
			if (start)
				return false; /* "/x", "a//b" */
			part = 0;
		} else if (!key_char(s[i]) || (start && s[i] == '.') || ++part > STORAGE_NAME_MAX) {
			return false;
		}
	}
	/* a key does not end with '/': that would be a folder */
	return partial || s[n - 1] != '/';
}

bool storage_key_valid(const char *key)
{
	return key && valid(key, false);
}

bool storage_prefix_valid(const char *p)
{
	return p && valid(p, true);
}
