/* jpeg.c - a picture as a JPEG file (see picture.h). */
#include <string.h>

#include <libavcodec/avcodec.h>

#include "kindling/err.h"
#include "media/lav_compat.h"
#include "media/picture.h"

int picture_write_jpeg(const AVFrame *img, int q, struct outputs *out, const char *path, char *err,
                       size_t errlen)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *enc = NULL;
	AVFrame *fr = NULL;
	AVPacket *pkt = NULL;
	int rc = 0, ret;

	if (!codec) {
		snprintf(err, errlen, "this FFmpeg has no JPEG encoder");
		return KD_EINVAL;
	}
	enc = avcodec_alloc_context3(codec);
	fr = av_frame_clone(img);
	pkt = av_packet_alloc();
	if (!enc || !fr || !pkt) {
		rc = KD_ENOMEM;
		goto out;
	}
	enc->width = img->width;
	enc->height = img->height;
	/* yuv420p marked full range is what YUVJ420P meant, without the
	 * deprecated format: the encoder accepts it and writes a normal JFIF. */
	enc->pix_fmt = AV_PIX_FMT_YUV420P;
	enc->color_range = AVCOL_RANGE_JPEG;
	enc->sample_aspect_ratio = (AVRational){1, 1};
	enc->time_base = (AVRational){1, 1};
	enc->flags |= AV_CODEC_FLAG_QSCALE | AV_CODEC_FLAG_BITEXACT;
	enc->global_quality = q * FF_QP2LAMBDA;
	enc->thread_count = 1;
	ret = avcodec_open2(enc, codec, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "the JPEG encoder refused the picture: %s", av_err2str(ret));
		rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
		goto out;
	}
	/* With a fixed quantiser the encoder reads the quality off each frame. */
	fr->quality = enc->global_quality;
	fr->pts = 0;
	ret = avcodec_send_frame(enc, fr);
	if (ret >= 0)
		ret = avcodec_send_frame(enc, NULL);
	if (ret >= 0)
		ret = avcodec_receive_packet(enc, pkt);
	if (ret < 0) {
		snprintf(err, errlen, "the picture could not be encoded as JPEG: %s", av_err2str(ret));
		rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
		goto out;
	}
	rc = outputs_write(out, path, pkt->data, (size_t)pkt->size, err, errlen);
out:
	av_packet_free(&pkt);
	av_frame_free(&fr);
	avcodec_free_context(&enc);
	return rc;
}
