/*
 * err.h - the one error convention of kindling.
 *
 * Every function that can fail returns 0 on success or a negative KD_E*
 * code.  Library codes (SQLITE_*, AVERROR, MHD) are translated into these
 * at the module boundary; the detail a person needs goes into a message
 * buffer supplied by the caller where the function takes one.
 */
#ifndef KINDLING_ERR_H
#define KINDLING_ERR_H

#include <stddef.h>

enum kd_err {
	KD_OK = 0,
	KD_ENOMEM = -1,    /* out of memory */
	KD_EIO = -2,       /* a file or socket operation failed (see errno) */
	KD_EDB = -3,       /* the database refused or failed */
	KD_ENOTFOUND = -4, /* no such row or file */
	KD_EINVAL = -5,    /* the input is malformed or out of range */
	KD_EEXIST = -6,    /* it already exists */
	KD_EPERM = -7,     /* not allowed for this user */
	KD_ETOOBIG = -8,   /* over a size limit */
	KD_EAUTH = -9,     /* credentials missing or wrong */
	KD_EVERSION = -10, /* data written by a newer kindling */
	KD_EBUSY = -11,    /* the database stayed locked */
	KD_ELIMIT = -12,   /* too many of something for now (a rate or a count) */
	KD_EAGAIN = -13,   /* a server elsewhere is down or busy: try again later */
};

/* Short human description of a KD_E* code.  Never returns NULL. */
const char *kd_strerror(int err);

/* Size of the message buffers that functions fill for people to read. */
#define KD_ERRMSG_MAX 512

#endif
