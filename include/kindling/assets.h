/*
 * assets.h - the CSS, JavaScript and icons of the web pages, compiled into
 * the binary from assets/ by src/tools/embed_assets.sh.
 *
 * They are served at /assets/v<version>/<name>, where version is a hash of
 * their content: a new build changes the URL, so browsers may keep each
 * one for a year.  Only these names are served; no path comes from a URL.
 */
#ifndef KINDLING_ASSETS_H
#define KINDLING_ASSETS_H

#include <stddef.h>

struct kd_asset {
	const char *name;          /* "style.css" */
	const char *type;          /* its Content-Type */
	const unsigned char *data;
	size_t len;
};

extern const struct kd_asset kd_assets[];
extern const size_t kd_assets_count;
/* A hash of all the assets' bytes (hex). */
extern const char kd_assets_version[];

#endif
