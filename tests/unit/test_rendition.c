/*
 * test_rendition.c - the browser copy of a clip (media_make_rendition).
 *
 * Inputs are made here with the ffmpeg command line from tiny lavfi sources
 * (testsrc2 320x240, a sine tone), in a mkdtemp folder; outputs are checked
 * with ffprobe and by decoding them fully with ffmpeg.  Clips with a display
 * matrix the 5.1 command line cannot write (mirrors), and clips with damaged
 * packets, are made by a small libavformat remux below.
 */
#define _GNU_SOURCE /* strcasestr */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/log.h>

#include "helpers.h"
#include "kindling/fs.h"
#include "kindling/media.h"
#include "kindling/mem.h"
#include "media/lav_compat.h"

static char dir[64];

/* ---------------------------------------------------------------- shell */

static char *path_in(const char *name)
{
	return kd_path_join(dir, name);
}

/* Run a shell command that must succeed; its stderr is shown if not. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	char *full = kd_asprintf("%s 2>'%s/sh.err'", cmd, dir);
	int rc = system(full);
	free(full);
	if (rc != 0) {
		char *log = path_in("sh.err"), *text = NULL;
		size_t len = 0;
		kd_read_file(log, 1 << 16, &text, &len);
		fail_msg("command failed (%d): %s\n%s", rc, cmd, text ? text : "");
	}
}

/* stdout of a command (caller frees); fails the test when it fails. */
static char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh_out(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	buf[len] = '\0';
	int rc = pclose(p);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* A lavfi test picture (and a tone, when audio is not NULL) encoded as told. */
static char *make_clip(const char *name, const char *size, double secs, const char *vopts,
                       const char *audio_opts)
{
	char *out = path_in(name);
	if (audio_opts)
		sh("ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=%s:rate=25:duration=%g "
		   "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=%g %s %s -shortest '%s'",
		   size, secs, secs, vopts, audio_opts, out);
	else
		sh("ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=%s:rate=25:duration=%g "
		   "%s -an '%s'", size, secs, vopts, out);
	return out;
}

/* Black, with a white block filling most of the top-left quarter: which
 * quarter ends up bright tells how the picture was turned. */
static char *make_marker_clip(const char *name, const char *vopts)
{
	char *out = path_in(name);
	sh("ffmpeg -nostdin -v error -y -f lavfi "
	   "-i color=c=black:size=320x240:rate=25:duration=2,drawbox=x=0:y=0:w=140:h=105:"
	   "color=white:t=fill %s -an '%s'", vopts, out);
	return out;
}

/* ---------------------------------------------------------------- ffprobe */

static double json_num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		return atof(json_string_value(v));
	if (json_is_number(v))
		return json_number_value(v);
	return 0;
}

static const char *json_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : "";
}

static json_t *ffprobe_json(const char *path)
{
	char *text = sh_out("ffprobe -v error -show_format -show_streams -of json '%s'", path);
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
	if (!root)
		fail_msg("ffprobe JSON for %s: %s", path, jerr.text);
	free(text);
	return root;
}

/* Clockwise degrees from an ffprobe stream's display matrix side data. */
static int json_rotation(json_t *st, bool *found)
{
	json_t *sd;
	size_t i;
	*found = false;
	json_array_foreach(json_object_get(st, "side_data_list"), i, sd) {
		if (json_object_get(sd, "rotation")) {
			*found = true;
			int ccw = (int)json_num(sd, "rotation");
			return ((-ccw % 360) + 360) % 360;
		}
	}
	return 0;
}

/* The facts the pipeline would have: media_probe's. */
static void facts(const char *path, struct media_facts *f)
{
	char err[KD_ERRMSG_MAX] = "";
	int rc = media_probe(path, f, err, sizeof err);
	if (rc != 0)
		fail_msg("media_probe %s: %d %s", path, rc, err);
}

/* ---------------------------------------------------------------- checks */

struct out_info {
	char vcodec[32], vpix[32], vprofile[32], acodec[32];
	int w, h, achannels, arate, nstreams;
	double duration;
	bool has_rotation;
	int rotation;          /* clockwise */
	char bad_tag[128];     /* a location or device tag found, "" if none */
};

static void find_bad_tags(json_t *tags, char *bad, size_t n)
{
	static const char *words[] = { "location", "make", "model", "software", "com.apple", "xyz" };
	const char *key;
	json_t *v;
	json_object_foreach(tags, key, v) {
		for (size_t i = 0; i < sizeof words / sizeof *words; i++)
			if (strcasestr(key, words[i]) && !bad[0])
				snprintf(bad, n, "%s=%s", key, json_is_string(v) ? json_string_value(v) : "?");
	}
}

static void inspect(const char *path, struct out_info *o)
{
	json_t *root = ffprobe_json(path), *st;
	size_t i;
	memset(o, 0, sizeof *o);
	json_t *fmt = json_object_get(root, "format");
	o->duration = json_num(fmt, "duration");
	find_bad_tags(json_object_get(fmt, "tags"), o->bad_tag, sizeof o->bad_tag);
	json_array_foreach(json_object_get(root, "streams"), i, st) {
		o->nstreams++;
		find_bad_tags(json_object_get(st, "tags"), o->bad_tag, sizeof o->bad_tag);
		const char *type = json_str(st, "codec_type");
		if (!strcmp(type, "video")) {
			snprintf(o->vcodec, sizeof o->vcodec, "%s", json_str(st, "codec_name"));
			snprintf(o->vpix, sizeof o->vpix, "%s", json_str(st, "pix_fmt"));
			snprintf(o->vprofile, sizeof o->vprofile, "%s", json_str(st, "profile"));
			o->w = (int)json_num(st, "width");
			o->h = (int)json_num(st, "height");
			o->rotation = json_rotation(st, &o->has_rotation);
		} else if (!strcmp(type, "audio")) {
			snprintf(o->acodec, sizeof o->acodec, "%s", json_str(st, "codec_name"));
			o->achannels = (int)json_num(st, "channels");
			o->arate = (int)json_num(st, "sample_rate");
		}
	}
	json_decref(root);
}

/* Offsets of the top-level moov and mdat boxes, -1 when absent. */
static void top_level_boxes(const char *path, long *moov, long *mdat)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	*moov = *mdat = -1;
	fseek(fp, 0, SEEK_END);
	long end = ftell(fp), pos = 0;
	while (pos + 8 <= end) {
		unsigned char h[16];
		fseek(fp, pos, SEEK_SET);
		assert_int_equal(fread(h, 1, 8, fp), 8);
		uint64_t size = (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3];
		if (size == 1) {
			assert_int_equal(fread(h + 8, 1, 8, fp), 8);
			size = 0;
			for (int i = 8; i < 16; i++)
				size = size << 8 | h[i];
		} else if (size == 0) {
			size = (uint64_t)(end - pos);
		}
		if (!memcmp(h + 4, "moov", 4) && *moov < 0)
			*moov = pos;
		if (!memcmp(h + 4, "mdat", 4) && *mdat < 0)
			*mdat = pos;
		assert_true(size >= 8);
		pos += (long)size;
	}
	assert_int_equal(pos, end);
	fclose(fp);
}

static void assert_faststart(const char *path)
{
	long moov, mdat;
	top_level_boxes(path, &moov, &mdat);
	assert_true(moov >= 0 && mdat >= 0);
	if (moov > mdat)
		fail_msg("%s: moov at %ld after mdat at %ld", path, moov, mdat);
}

/* The whole file decodes without a single error, and the pictures span
 * about as long as expected. */
static void assert_decodes(const char *path, double expect_s, double tol)
{
	char *errlog = path_in("decode.err"), *text = NULL;
	size_t len = 0;
	char *cmd = kd_asprintf("ffmpeg -nostdin -v error -xerror -i '%s' -f null - 2>'%s'", path,
	                        errlog);
	int rc = system(cmd);
	free(cmd);
	assert_int_equal(kd_read_file(errlog, 1 << 16, &text, &len), 0);
	if (rc != 0 || len != 0)
		fail_msg("%s does not decode cleanly (%d): %s", path, rc, text);
	free(text);
	free(errlog);

	char *frames = sh_out("ffprobe -v error -select_streams v:0 -show_entries "
	                      "frame=pts_time,pkt_duration_time -of csv=p=0 '%s'", path);
	double first = NAN, last = NAN;
	for (char *line = strtok(frames, "\n"); line; line = strtok(NULL, "\n")) {
		double pts, dur = 0;
		if (sscanf(line, "%lf,%lf", &pts, &dur) < 1)
			continue;
		if (isnan(first) || pts < first)
			first = pts;
		if (isnan(last) || pts + dur > last)
			last = pts + dur;
	}
	free(frames);
	assert_false(isnan(first));
	double span = last - first;
	if (fabs(span - expect_s) > tol)
		fail_msg("%s: decoded %.3f s of pictures, expected %.3f s", path, span, expect_s);
}

/* Brightness of the four quarters of the first picture (TL, TR, BL, BR),
 * as ffmpeg displays it (turned by any display matrix). */
static void quarters(const char *path, unsigned char q[4])
{
	char *cmd = kd_asprintf("ffmpeg -nostdin -v error -i '%s' -frames:v 1 -vf scale=2:2:flags=area "
	                        "-f rawvideo -pix_fmt gray -", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fread(q, 1, 4, p), 4);
	assert_int_equal(pclose(p), 0);
	free(cmd);
}

/* Which quarter is bright (the others dark); -1 if not exactly one. */
static int bright_quarter(const char *path)
{
	unsigned char q[4];
	quarters(path, q);
	int which = -1;
	for (int i = 0; i < 4; i++) {
		if (q[i] > 100) {
			if (which >= 0)
				return -1;
			which = i;
		} else if (q[i] > 60) {
			return -1;
		}
	}
	return which;
}

static char *render(const char *src, const struct media_facts *f)
{
	char err[KD_ERRMSG_MAX] = "";
	char *out = kd_asprintf("%s.web.mp4", src);
	int rc = media_make_rendition(src, f, out, NULL, err, sizeof err);
	if (rc != 0)
		fail_msg("media_make_rendition %s: %d %s", src, rc, err);
	assert_true(exists(out));
	char *tmp = kd_asprintf("%s.tmp", out);
	assert_false(exists(tmp));
	free(tmp);
	return out;
}

/* Transcoded: H.264 8-bit 4:2:0, AAC stereo (when there was sound), no
 * display matrix, index first, decodes fully. */
static void assert_transcoded(const char *out, const struct media_facts *f, bool audio,
                              struct out_info *o)
{
	inspect(out, o);
	assert_string_equal(o->vcodec, "h264");
	assert_string_equal(o->vpix, "yuv420p");
	assert_true(!strcmp(o->vprofile, "High") || !strcmp(o->vprofile, "Main"));
	assert_false(o->has_rotation);
	assert_true(o->h <= 1080 && o->w <= 1920);
	assert_int_equal(o->w % 2, 0);
	assert_int_equal(o->h % 2, 0);
	if (audio) {
		assert_string_equal(o->acodec, "aac");
		assert_int_equal(o->achannels, 2);
		assert_true(o->arate == 48000 || o->arate == 44100);
		assert_int_equal(o->nstreams, 2);
	} else {
		assert_int_equal(o->nstreams, 1);
	}
	if (o->bad_tag[0])
		fail_msg("%s keeps %s", out, o->bad_tag);
	assert_faststart(out);
	assert_decodes(out, f->duration_s, 0.15);
}

/* ---------------------------------------------------------------- libavformat helpers */

/* Change a packet on its way through rewrite(); t is seconds. */
typedef void (*pkt_fn)(AVPacket *pkt, bool video, double t, void *arg);

/* Copy in to out stream by stream, giving the video stream display matrix
 * m (when not NULL) and passing each packet through fn (when not NULL). */
static void rewrite(const char *in, const char *out, const int32_t *m, pkt_fn fn, void *arg)
{
	AVFormatContext *ic = NULL, *oc = NULL;
	AVPacket *pkt = av_packet_alloc();
	assert_int_equal(avformat_open_input(&ic, in, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(ic, NULL) >= 0);
	assert_true(avformat_alloc_output_context2(&oc, NULL, NULL, out) >= 0);
	for (unsigned i = 0; i < ic->nb_streams; i++) {
		AVStream *ist = ic->streams[i], *ost = avformat_new_stream(oc, NULL);
		assert_non_null(ost);
		assert_true(avcodec_parameters_copy(ost->codecpar, ist->codecpar) >= 0);
		ost->codecpar->codec_tag = 0;
		ost->time_base = ist->time_base;
		if (m && ist->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
			assert_int_equal(lav_stream_set_displaymatrix(ost, m), 0);
	}
	assert_true(avio_open(&oc->pb, out, AVIO_FLAG_WRITE) >= 0);
	assert_true(avformat_write_header(oc, NULL) >= 0);
	while (av_read_frame(ic, pkt) >= 0) {
		AVStream *ist = ic->streams[pkt->stream_index];
		if (fn) {
			int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
			assert_true(av_packet_make_writable(pkt) >= 0);
			fn(pkt, ist->codecpar->codec_type == AVMEDIA_TYPE_VIDEO,
			   (double)ts * av_q2d(ist->time_base), arg);
		}
		av_packet_rescale_ts(pkt, ist->time_base, oc->streams[pkt->stream_index]->time_base);
		pkt->pos = -1;
		assert_true(av_interleaved_write_frame(oc, pkt) >= 0);
	}
	assert_true(av_write_trailer(oc) >= 0);
	avio_closep(&oc->pb);
	avformat_free_context(oc);
	avformat_close_input(&ic);
	av_packet_free(&pkt);
}

struct garble {
	double from, to;     /* seconds */
	int max;             /* packets to garble at most */
	int done;
	bool keys;           /* keyframes too */
	uint32_t seed;
};

/* Overwrite the payload of video packets in [from, to) with noise. */
static void garble_packets(AVPacket *pkt, bool video, double t, void *arg)
{
	struct garble *g = arg;
	if (!video || t < g->from || t >= g->to || g->done >= g->max)
		return;
	if ((pkt->flags & AV_PKT_FLAG_KEY) && !g->keys)
		return;
	for (int i = 0; i < pkt->size; i++) {
		g->seed = g->seed * 1103515245u + 12345u;
		pkt->data[i] = (uint8_t)(g->seed >> 16);
	}
	g->done++;
}

/* ---------------------------------------------------------------- fixtures */

static int setup(void **state)
{
	(void)state;
	kd_log_set_level(KD_LOG_ERROR);
	av_log_set_level(AV_LOG_ERROR);
	snprintf(dir, sizeof dir, "/tmp/kd-rendition-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return kd_remove_tree(dir) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- tests */

/* An H.264/AAC MOV straight from a phone: the index at the end, the place
 * of filming and the maker in the metadata.  It is copied, not re-encoded;
 * the index moves to the front; the metadata stays behind. */
static void remux_moves_index_and_drops_location(void **state)
{
	(void)state;
	char *src = make_clip("phone.mov", "320x240", 2,
	                      "-c:v libx264 -preset ultrafast -pix_fmt yuv420p "
	                      "-metadata location=+48.8584+002.2945/ -metadata make=Apple "
	                      "-metadata model=iPhone",
	                      "-c:a aac -b:a 96k");
	struct out_info in_info, o;
	inspect(src, &in_info);
	assert_true(in_info.bad_tag[0] != '\0'); /* the source does carry them */
	long moov, mdat;
	top_level_boxes(src, &moov, &mdat);
	assert_true(moov > mdat); /* and has its index last */

	struct media_facts f;
	facts(src, &f);
	assert_true(f.browser_ready);
	char *out = render(src, &f);
	inspect(out, &o);
	assert_string_equal(o.vcodec, "h264");
	assert_string_equal(o.acodec, "aac");
	assert_int_equal(o.nstreams, 2);
	assert_int_equal(o.w, 320);
	assert_int_equal(o.h, 240);
	if (o.bad_tag[0])
		fail_msg("the rendition keeps %s", o.bad_tag);
	char *tags = sh_out("ffprobe -v error -show_format -show_streams '%s'", out);
	assert_null(strcasestr(tags, "TAG:location"));
	assert_null(strstr(tags, "48.8584"));
	assert_null(strcasestr(tags, "apple"));
	assert_null(strcasestr(tags, "iphone"));
	free(tags);
	assert_faststart(out);
	assert_true(fabs(o.duration - f.duration_s) <= 0.1);
	assert_decodes(out, f.duration_s, 0.1);

	/* Not re-encoded: the video packets are byte for byte the same. */
	char *h1 = sh_out("ffmpeg -nostdin -v error -i '%s' -map 0:v -c copy -f md5 -", src);
	char *h2 = sh_out("ffmpeg -nostdin -v error -i '%s' -map 0:v -c copy -f md5 -", out);
	assert_string_equal(h1, h2);
	free(h1);
	free(h2);
	free(out);
	free(src);
}

/* A phone held upright: the display matrix survives the remux. */
static void remux_keeps_rotation(void **state)
{
	(void)state;
	char *plain = make_clip("plain.mp4", "320x240", 2,
	                        "-c:v libx264 -preset ultrafast -pix_fmt yuv420p", "-c:a aac");
	char *src = path_in("turned.mp4");
	sh("ffmpeg -nostdin -v error -y -i '%s' -c copy -metadata:s:v:0 rotate=90 '%s'", plain, src);
	struct out_info in_info, o;
	inspect(src, &in_info);
	assert_true(in_info.has_rotation);

	struct media_facts f;
	facts(src, &f);
	assert_true(f.browser_ready);
	assert_true(f.rotation == 90 || f.rotation == 270);
	char *out = render(src, &f);
	inspect(out, &o);
	assert_string_equal(o.vcodec, "h264");
	assert_true(o.has_rotation);
	/* ffmpeg 5.1 stores rotate=90 as 90 degrees counterclockwise (ffprobe
	 * "rotation": 90); whatever it is, the copy says the same. */
	assert_int_equal(o.rotation, in_info.rotation);
	assert_int_equal(o.w, 320);
	assert_int_equal(o.h, 240);
	assert_faststart(out);
	assert_decodes(out, f.duration_s, 0.1);
	/* And it displays the way the original does. */
	char *msrc = make_marker_clip("marker.mp4", "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
	char *mturned = path_in("marker-turned.mp4");
	sh("ffmpeg -nostdin -v error -y -i '%s' -c copy -metadata:s:v:0 rotate=90 '%s'", msrc, mturned);
	struct media_facts mf;
	facts(mturned, &mf);
	char *mout = render(mturned, &mf);
	assert_int_equal(bright_quarter(mout), bright_quarter(mturned));
	free(mout);
	free(mturned);
	free(msrc);
	free(out);
	free(src);
	free(plain);
}

/* HEVC in MOV, with 5.1 PCM sound at 32 kHz: H.264 + stereo AAC. */
static void transcodes_hevc_mov(void **state)
{
	(void)state;
	char *src = make_clip("hevc.mov", "320x240", 2,
	                      "-c:v libx265 -preset ultrafast -x265-params log-level=error -tag:v hvc1",
	                      "-c:a pcm_s16le -ar 32000 -ac 6");
	struct media_facts f;
	facts(src, &f);
	assert_false(f.browser_ready);
	char *out = render(src, &f);
	struct out_info o;
	assert_transcoded(out, &f, true, &o);
	assert_int_equal(o.w, 320);
	assert_int_equal(o.h, 240);
	assert_int_equal(o.arate, 48000);
	free(out);
	free(src);
}

static void transcodes_vp9_opus_webm(void **state)
{
	(void)state;
	char *src = make_clip("vp9.webm", "320x240", 2,
	                      "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k",
	                      "-c:a libopus -b:a 64k");
	struct media_facts f;
	facts(src, &f);
	assert_false(f.browser_ready);
	char *out = render(src, &f);
	struct out_info o;
	assert_transcoded(out, &f, true, &o);
	assert_int_equal(o.w, 320);
	assert_int_equal(o.h, 240);
	free(out);
	free(src);
}

static void transcodes_mpeg4_avi_mp3(void **state)
{
	(void)state;
	char *src = make_clip("old.avi", "320x240", 2, "-c:v mpeg4 -q:v 5",
	                      "-c:a libmp3lame -ar 44100 -b:a 96k");
	struct media_facts f;
	facts(src, &f);
	assert_false(f.browser_ready);
	char *out = render(src, &f);
	struct out_info o;
	assert_transcoded(out, &f, true, &o);
	assert_int_equal(o.arate, 44100);
	free(out);
	free(src);
}

/* 10-bit H.264 plays in few browsers: it becomes 8-bit. */
static void transcodes_10bit_h264(void **state)
{
	(void)state;
	char *src = make_clip("deep.mp4", "320x240", 2,
	                      "-c:v libx264 -preset ultrafast -pix_fmt yuv420p10le", "-c:a aac");
	struct media_facts f;
	facts(src, &f);
	assert_false(f.browser_ready);
	char *out = render(src, &f);
	struct out_info o;
	assert_transcoded(out, &f, true, &o);
	free(out);
	free(src);
}

/* 2560x1440 comes down to 1920x1080, no sound stays no sound. */
static void scales_down_to_1080_lines(void **state)
{
	(void)state;
	char *src = make_clip("big.mkv", "2560x1440", 2, "-c:v mpeg4 -q:v 10", NULL);
	struct media_facts f;
	facts(src, &f);
	char *out = render(src, &f);
	struct out_info o;
	assert_transcoded(out, &f, false, &o);
	assert_int_equal(o.w, 1920);
	assert_int_equal(o.h, 1080);
	free(out);
	free(src);
}

/* Non-square pixels (anamorphic DV-like 16:9 in 720x480) become square. */
static void applies_sample_aspect_ratio(void **state)
{
	(void)state;
	char *src = make_clip("wide.avi", "720x480", 2, "-c:v mpeg4 -q:v 5 -aspect 16:9", NULL);
	struct media_facts f;
	facts(src, &f);
	char *out = render(src, &f);
	struct out_info o;
	assert_transcoded(out, &f, false, &o);
	assert_int_equal(o.h, 480);
	assert_int_equal(o.w, 854);
	free(out);
	free(src);
}

/* A portrait HEVC clip (stored sideways plus a matrix): the rendition is
 * upright in its pixels, with no matrix left, turned the way ffmpeg turns
 * the original. */
static void portrait_hevc_is_upright(void **state)
{
	(void)state;
	char *stored = make_marker_clip("portrait-stored.mov",
	                                "-c:v libx265 -preset ultrafast -x265-params log-level=error "
	                                "-tag:v hvc1");
	char *src = path_in("portrait.mov");
	sh("ffmpeg -nostdin -v error -y -i '%s' -c copy -metadata:s:v:0 rotate=90 '%s'", stored, src);
	struct media_facts f;
	facts(src, &f);
	assert_false(f.browser_ready);
	char *out = render(src, &f);
	struct out_info o;
	assert_transcoded(out, &f, false, &o);
	assert_true(o.w < o.h);
	assert_int_equal(o.w, 240);
	assert_int_equal(o.h, 320);
	int want = bright_quarter(src);
	assert_true(want >= 0);
	assert_int_equal(bright_quarter(out), want);
	free(out);
	free(src);
	free(stored);
}

/* The orientation convention of media_facts: turn clockwise, then mirror
 * left-right, then top-bottom.  Facts set by hand on an unturned clip;
 * the white block starts top-left (quarter 0). */
static void follows_orientation_facts(void **state)
{
	(void)state;
	static const struct {
		int rotation;
		bool hflip, vflip;
		int quarter; /* 0 TL, 1 TR, 2 BL, 3 BR */
	} cases[] = {
		{ 90, false, false, 1 },  /* TL -> TR */
		{ 180, false, false, 3 }, /* TL -> BR */
		{ 270, false, false, 2 }, /* TL -> BL */
		{ 0, true, false, 1 },    /* mirrored: TL -> TR */
		{ 0, false, true, 2 },    /* upside down mirror: TL -> BL */
		{ 90, true, false, 0 },   /* TR, then mirrored: TL */
		{ 270, false, true, 0 },  /* BL, then top-bottom: TL */
	};
	char *src = make_marker_clip("marker.avi", "-c:v mpeg4 -q:v 3");
	assert_int_equal(bright_quarter(src), 0);
	struct media_facts base;
	facts(src, &base);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct media_facts f = base;
		f.rotation = cases[i].rotation;
		f.hflip = cases[i].hflip;
		f.vflip = cases[i].vflip;
		char *out = render(src, &f);
		struct out_info o;
		inspect(out, &o);
		bool turned = f.rotation == 90 || f.rotation == 270;
		assert_int_equal(o.w, turned ? 240 : 320);
		assert_int_equal(o.h, turned ? 320 : 240);
		int got = bright_quarter(out);
		if (got != cases[i].quarter)
			fail_msg("rotation %d hflip %d vflip %d: bright quarter %d, expected %d",
			         f.rotation, f.hflip, f.vflip, got, cases[i].quarter);
		unlink(out);
		free(out);
	}
	free(src);
}

/* End to end with a mirrored display matrix, through media_probe: the
 * marker lands where the matrix itself sends the top-left quarter. */
static void mirrored_matrix_end_to_end(void **state)
{
	(void)state;
	char *stored = make_marker_clip("mirror-stored.mkv", "-c:v mpeg4 -q:v 3");
	static const struct { double ccw; bool hflip, vflip; } cases[] = {
		{ 90, true, false }, { -90, false, true }, { 0, true, false }, { 180, true, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int32_t m[9];
		av_display_rotation_set(m, cases[i].ccw);
		av_display_matrix_flip(m, cases[i].hflip, cases[i].vflip);
		char *src = path_in("mirror.mov");
		rewrite(stored, src, m, NULL, NULL);
		/* Where the matrix sends the middle of the top-left quarter
		 * (y down): x' = a x + c y, y' = b x + d y. */
		double x = -1, y = -1;
		double dx = m[0] / 65536.0 * x + m[3] / 65536.0 * y;
		double dy = m[1] / 65536.0 * x + m[4] / 65536.0 * y;
		int want = (dy > 0 ? 2 : 0) + (dx > 0 ? 1 : 0);
		struct media_facts f;
		facts(src, &f);
		char *out = render(src, &f);
		int got = bright_quarter(out);
		if (got != want)
			fail_msg("matrix ccw %g hflip %d vflip %d (facts: rotation %d hflip %d vflip %d): "
			         "bright quarter %d, expected %d", cases[i].ccw, cases[i].hflip,
			         cases[i].vflip, f.rotation, f.hflip, f.vflip, got, want);
		unlink(out);
		free(out);
		free(src);
	}
	free(stored);
}

/* A few damaged packets are skipped; the rendition is still whole. */
static void tolerates_a_few_damaged_packets(void **state)
{
	(void)state;
	char *clean = make_clip("clean.mkv", "320x240", 3, "-c:v mpeg4 -q:v 5 -g 25",
	                        "-c:a libmp3lame -b:a 96k");
	char *src = path_in("scratched.mkv");
	struct garble g = { .from = 1.0, .to = 2.0, .max = 3, .seed = 7 };
	rewrite(clean, src, NULL, garble_packets, &g);
	assert_int_equal(g.done, 3);
	struct media_facts f;
	facts(src, &f);
	char *out = render(src, &f);
	struct out_info o;
	assert_transcoded(out, &f, true, &o);
	free(out);
	free(src);
	free(clean);
}

/* Most of the picture unreadable: a plain error saying where, and no
 * file left behind. */
static void fails_when_mostly_damaged(void **state)
{
	(void)state;
	char *clean = make_clip("clean2.mkv", "320x240", 3, "-c:v libx264 -preset ultrafast -g 25",
	                        "-c:a aac");
	char *src = path_in("broken.mkv");
	struct garble g = { .from = 0.8, .to = 1e9, .max = 1 << 30, .keys = true, .seed = 11 };
	rewrite(clean, src, NULL, garble_packets, &g);
	assert_true(g.done > 40);
	struct media_facts f;
	facts(src, &f);
	f.browser_ready = false; /* (H.264 in MKV: make sure it is decoded) */
	char err[KD_ERRMSG_MAX] = "";
	char *out = path_in("broken.web.mp4");
	int rc = media_make_rendition(src, &f, out, NULL, err, sizeof err);
	assert_int_equal(rc, KD_EINVAL);
	if (!strstr(err, "damaged from the start") && !strstr(err, "damaged half-way (at 00:00:01"))
		fail_msg("unexpected message: %s", err);
	assert_false(exists(out));
	char *tmp = kd_asprintf("%s.tmp", out);
	assert_false(exists(tmp));
	free(tmp);
	free(out);
	free(src);
	free(clean);
}

/* An output folder that is not there: KD_EIO, nothing left behind. */
static void unwritable_output_is_eio(void **state)
{
	(void)state;
	char *src = make_clip("small.avi", "320x240", 1, "-c:v mpeg4", NULL);
	struct media_facts f;
	facts(src, &f);
	char err[KD_ERRMSG_MAX] = "";
	char *out = path_in("missing-folder/out.mp4");
	assert_int_equal(media_make_rendition(src, &f, out, NULL, err, sizeof err), KD_EIO);
	assert_non_null(strstr(err, "could not write"));
	free(out);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(remux_moves_index_and_drops_location),
		cmocka_unit_test(remux_keeps_rotation),
		cmocka_unit_test(transcodes_hevc_mov),
		cmocka_unit_test(transcodes_vp9_opus_webm),
		cmocka_unit_test(transcodes_mpeg4_avi_mp3),
		cmocka_unit_test(transcodes_10bit_h264),
		cmocka_unit_test(scales_down_to_1080_lines),
		cmocka_unit_test(applies_sample_aspect_ratio),
		cmocka_unit_test(portrait_hevc_is_upright),
		cmocka_unit_test(follows_orientation_facts),
		cmocka_unit_test(mirrored_matrix_end_to_end),
		cmocka_unit_test(tolerates_a_few_damaged_packets),
		cmocka_unit_test(fails_when_mostly_damaged),
		cmocka_unit_test(unwritable_output_is_eio),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
