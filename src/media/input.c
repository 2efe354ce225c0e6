/* input.c - opening a video file the safe way (see input.h). */
#include "media/input.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/avstring.h>

#include "kindling/err.h"
#include "kindling/media.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "media/lav_compat.h"

/* Demuxers of formats cameras, phones and editors write, plus the common
 * audio ones so an audio file gets "sound but no picture" rather than "not
 * media".  Playlists (hls, dash), scripts (concat), image sequences
 * (image2) and anything else that opens further files stay out. */
static const char allowed_formats[] =
	"mov,matroska,avi,mpegts,mpeg,flv,asf,mxf,dv,ogg,h264,hevc,m4v,mpegvideo,"
	"mp3,aac,wav,w64,flac,amr";

static const char msg_not_media[] =
	"this is not a video file kindling can read: check that it is the video itself "
	"(for example .mp4 or .mov), not a shortcut, a playlist or a document";
static const char msg_cut_off[] =
	"the file seems to be cut off: it may not have finished copying; "
	"copy it again from the camera or card";
static const char msg_damaged[] =
	"the file is damaged and cannot be read: copy it again from the camera or card";

/* FFmpeg's own messages (a missing moov atom, a broken packet) help whoever
 * runs the service, not the coach: they go to the debug log, not stderr. */
static void lav_log(void *avcl, int level, const char *fmt, va_list vl)
{
	if (level > AV_LOG_WARNING)
		return;
	char line[512];
	int print_prefix = 1;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n > 0)
		log_debug("ffmpeg", "%s", line);
}

static void lav_log_init(void)
{
	av_log_set_callback(lav_log);
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static int threads = 2;

void media_set_threads(int n)
{
	threads = n < 1 ? 1 : n > 16 ? 16 : n;
}

int media_threads(void)
{
	return threads;
}

/* Open and close a codec, for the tables it builds the first time. */
static void warm(const AVCodec *codec, bool encoder)
{
	AVCodecContext *c = codec ? avcodec_alloc_context3(codec) : NULL;
	if (!c)
		return;
	if (encoder) {
		c->width = c->height = 16;
		c->pix_fmt = AV_PIX_FMT_YUV420P;
		c->color_range = AVCOL_RANGE_JPEG;
		c->time_base = (AVRational){1, 1};
	}
	c->thread_count = 1;
	avcodec_open2(c, codec, NULL);
	avcodec_free_context(&c);
}

void media_prepare(void)
{
	pthread_once(&log_once, lav_log_init);
	warm(avcodec_find_decoder(AV_CODEC_ID_H264), false);
	warm(avcodec_find_decoder(AV_CODEC_ID_AAC), false);
	warm(avcodec_find_encoder(AV_CODEC_ID_MJPEG), true);
}

int media_input_open(struct media_input *in, const char *path, char *err, size_t errlen)
{
	AVDictionary *opts = NULL;
	const AVInputFormat *ifmt = NULL;
	char *url = NULL;
	struct stat st;
	int rc = 0, ret;

	memset(in, 0, sizeof *in);
	pthread_once(&log_once, lav_log_init);

	if (stat(path, &st) < 0) {
		if (errno == ENOENT) {
			snprintf(err, errlen,
			         "the file is not there any more: it may have been moved or deleted");
			return KD_ENOTFOUND;
		}
		snprintf(err, errlen, "the file could not be read: %s", strerror(errno));
		return KD_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "this is a folder or a device, not a video file");
		return KD_EINVAL;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "the file is empty: nothing was copied into it; "
		                      "copy it again from the camera or card");
		return KD_EINVAL;
	}

	/* "file:" first, so a name like "http:x.mp4" is still a local file. */
	url = kd_asprintf("file:%s", path);
	av_dict_set(&opts, "protocol_whitelist", "file", 0);
	ret = avio_open2(&in->pb, url, AVIO_FLAG_READ, NULL, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		snprintf(err, errlen, "the file could not be opened: %s", av_err2str(ret));
		rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EIO;
		goto out;
	}
	in->size = avio_size(in->pb);
	if (in->size < 0)
		in->size = st.st_size;

	/* Probe before opening, so nothing from a refused demuxer ever runs and
	 * an open failure can be explained by the format it was meant to be. */
	int score = ret = av_probe_input_buffer2(in->pb, &ifmt, path, NULL, 0, 0);
	if (ret < 0 || !ifmt) {
		snprintf(err, errlen, "%s", msg_not_media);
		rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
		goto out;
	}
	av_strlcpy(in->format, ifmt->name, sizeof in->format);
	if (av_match_list(ifmt->name, allowed_formats, ',') <= 0) {
		log_info("media", "refused input format %s", ifmt->name);
		snprintf(err, errlen, "%s", msg_not_media);
		rc = KD_EINVAL;
		goto out;
	}

	in->fmt = avformat_alloc_context();
	if (!in->fmt) {
		rc = KD_ENOMEM;
		goto out;
	}
	in->fmt->pb = in->pb;
	av_dict_set(&opts, "protocol_whitelist", "file", 0);
	av_dict_set(&opts, "format_whitelist", allowed_formats, 0);
	ret = avformat_open_input(&in->fmt, path, ifmt, &opts); /* frees fmt on failure */
	av_dict_free(&opts);
	if (ret < 0) {
		if (ret == AVERROR(ENOMEM)) {
			rc = KD_ENOMEM;
		} else if (ret == AVERROR_INVALIDDATA && score <= AVPROBE_SCORE_RETRY) {
			/* Only the name said what it was (a document called
			 * .mp4): there was nothing of the format inside. */
			snprintf(err, errlen, "%s", msg_not_media);
			rc = KD_EINVAL;
		} else if (ret == AVERROR_INVALIDDATA && av_match_list(in->format, "mov", ',') > 0) {
			/* An MP4 or MOV whose index (the moov atom) is missing:
			 * cameras write it last, so the copy stopped early. */
			snprintf(err, errlen, "%s", msg_cut_off);
			rc = KD_EINVAL;
		} else if (ret == AVERROR_INVALIDDATA || ret == AVERROR_EOF) {
			snprintf(err, errlen, "%s", msg_damaged);
			rc = KD_EINVAL;
		} else {
			snprintf(err, errlen, "the file could not be read: %s", av_err2str(ret));
			rc = KD_EIO;
		}
		goto out;
	}
	ret = avformat_find_stream_info(in->fmt, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "%s", ret == AVERROR(ENOMEM) ? "out of memory" : msg_damaged);
		rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
		goto out;
	}
out:
	free(url);
	return rc;
}

void media_input_close(struct media_input *in)
{
	/* The AVIOContext is ours (custom I/O): closing the format leaves it. */
	avformat_close_input(&in->fmt);
	avio_closep(&in->pb);
}

