/* err.c - descriptions of the project error codes. */
#include "kindling/err.h"

const char *kd_strerror(int err)
{
	switch (err) {
	case KD_OK: return "success";
	case KD_ENOMEM: return "out of memory";
	case KD_EIO: return "input/output error";
	case KD_EDB: return "database error";
	case KD_ENOTFOUND: return "not found";
	case KD_EINVAL: return "invalid input";
	case KD_EEXIST: return "already exists";
	case KD_EPERM: return "not allowed";
	case KD_ETOOBIG: return "too large";
	case KD_EAUTH: return "not signed in";
	case KD_EVERSION: return "written by a newer version of kindling";
	case KD_EBUSY: return "database busy";
	case KD_ELIMIT: return "too many for now";
	case KD_EAGAIN: return "not now: try again later";
	}
	return "unknown error";
}
