/*
 * keys.h - what a key and a key prefix may be (see storage.h), shared by
 * storage.c, which checks what callers pass, and the back ends, which
 * check what they find (files in the data folder, keys in a listing).
 * Private to src/storage/.
 */
#ifndef KINDLING_STORAGE_KEYS_H
#define KINDLING_STORAGE_KEYS_H

#include <stdbool.h>

/* Is p a prefix of valid keys: "" or the start of one ("12", "123/",
 * "123/vid")?  Cannot fail. */
bool storage_prefix_valid(const char *p);

#endif
