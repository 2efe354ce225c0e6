/*
 * test_media.c - probing, thumbnails and storyboards, on clips made here
 * with the ffmpeg command line (lavfi sources, tiny sizes, a few seconds).
 *
 * ffprobe and ffmpeg are the oracles: the probe must agree with ffprobe,
 * and a thumbnail must face the way ffmpeg's own autorotation turns the
 * picture.
 *
 * Sign convention: media_facts.rotation is the clockwise turn that shows
 * the picture upright; ffprobe's "rotation" is av_display_rotation_get(),
 * the counter-clockwise angle of the matrix, so ours is -ffprobe mod 360.
 * (The FFmpeg 5.1 command line's "-metadata:s:v:0 rotate=90" writes a
 * matrix ffprobe reads as 90, which we call 270.)
 */
#include "helpers.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/display.h>

#include "kindling/fs.h"
#include "kindling/media.h"
#include "kindling/mem.h"
#include "media/frames.h"
#include "media/lav_compat.h"

static char dir[64];

static char *clip(const char *name)
{
	return kd_asprintf("%s/%s", dir, name);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

#define FF "ffmpeg -nostdin -v error -y"
#define X264 "-c:v libx264 -preset ultrafast -pix_fmt yuv420p"

/* Copy a file's packets into a new MP4 whose video stream carries the
 * display matrix m: mirrored clips, which the 5.1 command line cannot
 * make. */
static int remux_with_matrix(const char *in, const char *out, const int32_t m[9])
{
	AVFormatContext *ic = NULL, *oc = NULL;
	AVPacket *pkt = av_packet_alloc();
	int ret = avformat_open_input(&ic, in, NULL, NULL);
	if (ret >= 0)
		ret = avformat_find_stream_info(ic, NULL);
	if (ret >= 0)
		ret = avformat_alloc_output_context2(&oc, NULL, "mp4", out);
	for (unsigned i = 0; ret >= 0 && i < ic->nb_streams; i++) {
		AVStream *os = avformat_new_stream(oc, NULL);
		ret = avcodec_parameters_copy(os->codecpar, ic->streams[i]->codecpar);
		os->codecpar->codec_tag = 0;
		os->time_base = ic->streams[i]->time_base;
		if (ret >= 0 && os->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
			ret = lav_stream_set_displaymatrix(os, m);
	}
	if (ret >= 0)
		ret = avio_open(&oc->pb, out, AVIO_FLAG_WRITE);
	if (ret >= 0)
		ret = avformat_write_header(oc, NULL);
	while (ret >= 0 && av_read_frame(ic, pkt) >= 0) {
		int s = pkt->stream_index;
		av_packet_rescale_ts(pkt, ic->streams[s]->time_base, oc->streams[s]->time_base);
		pkt->pos = -1;
		ret = av_interleaved_write_frame(oc, pkt);
	}
	if (ret >= 0)
		ret = av_write_trailer(oc);
	if (oc)
		avio_closep(&oc->pb);
	avformat_free_context(oc);
	avformat_close_input(&ic);
	av_packet_free(&pkt);
	return ret < 0 ? -1 : 0;
}

static int truncate_copy(const char *in, const char *out, double fraction)
{
	char *data = NULL;
	size_t len = 0;
	if (kd_read_file(in, 1 << 26, &data, &len) != 0)
		return -1;
	int rc = kd_write_file_atomic(out, data, (size_t)(len * fraction));
	free(data);
	return rc;
}

static int write_text(const char *name, const char *text)
{
	char *p = clip(name);
	int rc = kd_write_file_atomic(p, text, strlen(text));
	free(p);
	return rc;
}

static int make_clips(void **state)
{
	(void)state;
	kd_log_set_level(KD_LOG_WARN);
	strcpy(dir, "/tmp/kd-media-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	const char *d = dir;
	int32_t m[9];
	char *a, *b;
	int rc = 0;

	rc |= run(FF " -f lavfi -i testsrc2=s=320x240:r=25:d=3 -f lavfi -i sine=f=440:d=3 "
	          X264 " -c:a aac -b:a 48k %s/h264_aac.mp4", d);
	rc |= run(FF " -i %s/h264_aac.mp4 -c copy -movflags +faststart %s/faststart.mp4", d, d);
	/* Black with a white top-left quadrant: each of the eight ways to turn
	 * or mirror it puts the quadrant or the long side somewhere else. */
	rc |= run(FF " -f lavfi -i \"color=black:s=320x160:r=25:d=2,"
	          "drawbox=x=0:y=0:w=160:h=80:color=white:t=fill\" " X264 " %s/orient.mp4", d);
	for (int r = 90; r <= 270; r += 90)
		rc |= run(FF " -i %s/orient.mp4 -c copy -metadata:s:v:0 rotate=%d %s/rot%d.mp4", d, r,
		          d, r);
	/* Mirrored clips.  The names say what the files hold once muxed, as
	 * ffprobe reads them back: a left-right mirror, a plain transpose
	 * (ffmpeg: transpose=cclock_flip) and the other diagonal
	 * (transpose=clock_flip). */
	a = clip("orient.mp4");
	b = clip("hflip.mp4");
	av_display_rotation_set(m, 0);
	av_display_matrix_flip(m, 1, 0);
	rc |= remux_with_matrix(a, b, m);
	free(b);
	b = clip("transpose.mp4");
	av_display_rotation_set(m, 90);
	av_display_matrix_flip(m, 1, 0);
	rc |= remux_with_matrix(a, b, m);
	free(b);
	b = clip("antitranspose.mp4");
	av_display_rotation_set(m, -90);
	av_display_matrix_flip(m, 1, 0);
	rc |= remux_with_matrix(a, b, m);
	free(b);
	free(a);
	rc |= run(FF " -f lavfi -i testsrc2=s=320x240:r=25:d=2 -vf setsar=4/3 " X264
	          " %s/anamorphic.mp4", d);
	rc |= run(FF " -f lavfi -i testsrc2=s=320x240:r=25:d=2 -f lavfi -i sine=d=2 -c:v libx265 "
	          "-preset ultrafast -x265-params log-level=error -pix_fmt yuv420p -c:a aac "
	          "%s/hevc.mov", d);
	rc |= run(FF " -f lavfi -i testsrc2=s=320x240:r=25:d=2 -f lavfi -i sine=d=2 "
	          "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -c:a libopus "
	          "%s/vp9.webm", d);
	rc |= run(FF " -f lavfi -i testsrc2=s=320x240:r=25:d=2 -f lavfi -i sine=d=2 -c:v mpeg4 "
	          "-q:v 5 -c:a libmp3lame %s/mpeg4.avi", d);
	rc |= run(FF " -f lavfi -i testsrc2=s=320x240:r=25:d=2 -f lavfi -i sine=d=2 " X264
	          " -g 12 -c:a aac -f mpegts %s/camcorder.mts", d);
	rc |= run(FF " -f lavfi -i color=black:s=320x240:r=25:d=2 -f lavfi -i "
	          "testsrc2=s=320x240:r=25:d=2 -filter_complex \"[0:v][1:v]concat=n=2:v=1:a=0[v]\" "
	          "-map \"[v]\" " X264 " %s/blackstart.mp4", d);
	rc |= run(FF " -f lavfi -i color=black:s=160x120:r=25:d=2 " X264 " %s/blank.mp4", d);
	rc |= run(FF " -f lavfi -i testsrc2=s=160x120:r=25:d=3 -vf "
	          "\"setpts='if(lt(N,20),N/25/TB,(N-20)/5/TB+0.8/TB)'\" -vsync vfr " X264
	          " %s/vfr.mp4", d);
	/* 250 s whose brightness rises with time, keyframe every second or
	 * (x264's default) hardly ever: both storyboard strategies. */
	rc |= run(FF " -f lavfi -i \"color=black:s=64x48:r=1:d=250,format=gray,geq=lum='16+T*0.8',"
	          "format=yuv420p\" " X264 " -g 1 %s/ramp_keys.mp4", d);
	rc |= run(FF " -i %s/ramp_keys.mp4 " X264 " -g 250 %s/ramp_gop.mp4", d, d);
	rc |= run(FF " -i %s/ramp_keys.mp4 " X264 " -g 10 %s/ramp_g10.mp4", d, d);
	rc |= run(FF " -f lavfi -i testsrc2=s=1920x1080:r=25:d=0.4 " X264 " %s/big.mp4", d);
	rc |= run(FF " -f lavfi -i color=gray:s=8200x16:r=25:d=0.08 -c:v mjpeg -pix_fmt yuvj420p "
	          "%s/huge.avi", d);

	rc |= run(FF " -f lavfi -i sine=d=2 -c:a aac %s/audio_only.mp4", d);
	rc |= run(FF " -f lavfi -i sine=d=2 -c:a libmp3lame -f mp3 %s/mp3_named.mp4", d);
	rc |= run(FF " -f lavfi -i color=red:s=64x64:d=0.04 -frames:v 1 %s/cover.png", d);
	rc |= run(FF " -f lavfi -i sine=d=2 -i %s/cover.png -map 0 -map 1 -c:a libmp3lame "
	          "-c:v png -disposition:v attached_pic %s/cover_art.mp3", d, d);
	a = clip("h264_aac.mp4");
	b = clip("cut.mp4");
	rc |= truncate_copy(a, b, 0.5);
	free(b);
	free(a);
	a = clip("faststart.mp4");
	b = clip("cut_faststart.mp4");
	rc |= truncate_copy(a, b, 0.5);
	free(b);
	free(a);
	rc |= write_text("text.mp4", "These are my notes from the lesson, not a video.\n");
	rc |= write_text("empty.mp4", "");
	rc |= write_text("playlist.mp4", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n"
	                                 "file:///etc/passwd\n#EXT-X-ENDLIST\n");
	rc |= write_text("concat.mp4", "ffconcat version 1.0\nfile '/etc/passwd'\n");
	return rc == 0 ? 0 : -1;
}

static int remove_clips(void **state)
{
	(void)state;
	if (!getenv("KEEP_MEDIA_CLIPS"))
		kd_remove_tree(dir);
	return 0;
}

/* --- oracles --------------------------------------------------------- */

static json_t *ffprobe(const char *path)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
	         "ffprobe -v error -print_format json -show_format -show_streams '%s'", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	json_error_t jerr;
	json_t *root = json_loadf(p, 0, &jerr);
	pclose(p);
	if (!root)
		fail_msg("ffprobe %s: %s", path, jerr.text);
	return root;
}

static double ratio(const char *s, char sep)
{
	long n = 0, d = 0;
	char fmt[16];
	snprintf(fmt, sizeof fmt, "%%ld%c%%ld", sep);
	if (!s || sscanf(s, fmt, &n, &d) != 2 || d == 0)
		return 0;
	return (double)n / d;
}

/* Size and grey pixels of the first picture of a file, decoded by ffmpeg
 * (with its autorotation) into a PGM. */
static uint8_t *grey(const char *path, int *w, int *h)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
	         "ffmpeg -nostdin -v error -i '%s' -frames:v 1 -pix_fmt gray -c:v pgm -f image2pipe -",
	         path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	int maxval = 0;
	if (fscanf(p, "P5 %d %d %d", w, h, &maxval) != 3 || maxval != 255 || fgetc(p) == EOF)
		fail_msg("ffmpeg could not decode %s", path);
	size_t n = (size_t)*w * (size_t)*h;
	uint8_t *px = kd_malloc(n);
	assert_int_equal(fread(px, 1, n, p), n);
	pclose(p);
	return px;
}

static double mean(const uint8_t *px, int w, int x0, int y0, int x1, int y1)
{
	double s = 0;
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++)
			s += px[y * w + x];
	return s / ((double)(x1 - x0) * (y1 - y0));
}

/* 0 top left, 1 top right, 2 bottom left, 3 bottom right. */
static int bright_quadrant(const uint8_t *px, int w, int h)
{
	double q[4] = {mean(px, w, 0, 0, w / 2, h / 2), mean(px, w, w / 2, 0, w, h / 2),
	               mean(px, w, 0, h / 2, w / 2, h), mean(px, w, w / 2, h / 2, w, h)};
	int best = 0;
	for (int i = 1; i < 4; i++)
		if (q[i] > q[best])
			best = i;
	return best;
}

static void probe_ok(const char *name, struct media_facts *f)
{
	char err[KD_ERRMSG_MAX];
	char *p = clip(name);
	int rc = media_probe(p, f, err, sizeof err);
	if (rc != 0)
		fail_msg("media_probe %s: %d %s", name, rc, err);
	free(p);
}

/* --- probe ------------------------------------------------------------ */

static void agrees_with_ffprobe(const char *name)
{
	struct media_facts f;
	probe_ok(name, &f);
	char *p = clip(name);
	json_t *root = ffprobe(p);
	free(p);
	json_t *fmt = json_object_get(root, "format");

	assert_string_equal(f.container, json_string_value(json_object_get(fmt, "format_name")));
	const char *size = json_string_value(json_object_get(fmt, "size"));
	assert_int_equal(f.size_bytes, strtoll(size, NULL, 10));
	const char *dur = json_string_value(json_object_get(fmt, "duration"));
	if (dur)
		assert_true(fabs(f.duration_s - strtod(dur, NULL)) < 0.05);
	const char *br = json_string_value(json_object_get(fmt, "bit_rate"));
	assert_int_equal(f.bit_rate, br ? strtoll(br, NULL, 10) : 0);
	json_t *ct = json_object_get(json_object_get(fmt, "tags"), "creation_time");
	assert_string_equal(f.creation_time, ct ? json_string_value(ct) : "");

	json_t *streams = json_object_get(root, "streams");
	json_t *v = json_array_get(streams, (size_t)f.video_stream);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "codec_type")), "video");
	assert_string_equal(f.video_codec, json_string_value(json_object_get(v, "codec_name")));
	assert_string_equal(f.pix_fmt, json_string_value(json_object_get(v, "pix_fmt")));
	assert_int_equal(f.coded_width, json_integer_value(json_object_get(v, "width")));
	assert_int_equal(f.coded_height, json_integer_value(json_object_get(v, "height")));
	double fps = ratio(json_string_value(json_object_get(v, "avg_frame_rate")), '/');
	if (fps > 0)
		assert_true(fabs(f.fps - fps) <= fps * 0.01);

	const char *sar = json_string_value(json_object_get(v, "sample_aspect_ratio"));
	if (sar) {
		char ours[32];
		snprintf(ours, sizeof ours, "%d:%d", f.sar_num, f.sar_den);
		assert_string_equal(ours, sar);
		/* Our display size, before turning, has ffprobe's aspect. */
		double dar = ratio(json_string_value(json_object_get(v, "display_aspect_ratio")), ':');
		bool turned = f.rotation == 90 || f.rotation == 270;
		double our = turned ? (double)f.height / f.width : (double)f.width / f.height;
		assert_true(fabs(our - dar) <= dar * 0.01);
	}

	int want_rotation = 0;
	json_t *sd;
	size_t i;
	json_array_foreach(json_object_get(v, "side_data_list"), i, sd) {
		json_t *r = json_object_get(sd, "rotation");
		if (r)
			want_rotation = ((-(int)json_integer_value(r)) % 360 + 360) % 360;
	}
	assert_int_equal(f.rotation, want_rotation);

	const char *audio = "";
	int audio_index = -1;
	json_t *s;
	json_array_foreach(streams, i, s) {
		if (!strcmp(json_string_value(json_object_get(s, "codec_type")), "audio")) {
			audio = json_string_value(json_object_get(s, "codec_name"));
			audio_index = (int)i;
			break;
		}
	}
	assert_string_equal(f.audio_codec, audio);
	assert_int_equal(f.audio_stream, audio_index);
	json_decref(root);
}

static void probe_agrees_with_ffprobe(void **state)
{
	(void)state;
	static const char *names[] = {
		"h264_aac.mp4", "faststart.mp4", "rot90.mp4", "rot180.mp4", "rot270.mp4",
		"hflip.mp4", "transpose.mp4", "antitranspose.mp4", "anamorphic.mp4", "hevc.mov", "vp9.webm",
		"mpeg4.avi", "camcorder.mts", "blackstart.mp4", "vfr.mp4", "ramp_keys.mp4",
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		agrees_with_ffprobe(names[i]);
}

static void probe_tells_codecs_sizes_and_turns(void **state)
{
	(void)state;
	struct media_facts f;

	probe_ok("h264_aac.mp4", &f);
	assert_string_equal(f.container, "mov,mp4,m4a,3gp,3g2,mj2");
	assert_string_equal(f.video_codec, "h264");
	assert_string_equal(f.audio_codec, "aac");
	assert_int_equal(f.width, 320);
	assert_int_equal(f.height, 240);
	assert_int_equal(f.rotation, 0);
	assert_false(f.hflip || f.vflip);
	assert_true(fabs(f.fps - 25) < 0.01);
	assert_true(f.browser_ready);
	assert_true(f.size_bytes > 0);

	probe_ok("rot90.mp4", &f); /* ffprobe: 90, a quarter turn counter-clockwise */
	assert_int_equal(f.rotation, 270);
	assert_int_equal(f.width, 160);
	assert_int_equal(f.height, 320);
	probe_ok("rot180.mp4", &f);
	assert_int_equal(f.rotation, 180);
	assert_false(f.hflip || f.vflip);
	assert_int_equal(f.width, 320);
	probe_ok("rot270.mp4", &f);
	assert_int_equal(f.rotation, 90);
	assert_int_equal(f.width, 160);
	assert_int_equal(f.height, 320);

	/* A left-right mirror reads as 180 degrees (av_display_rotation_get),
	 * which with our turn-then-mirror convention is 180 + top-bottom. */
	probe_ok("hflip.mp4", &f);
	assert_int_equal(f.rotation, 180);
	assert_false(f.hflip);
	assert_true(f.vflip);
	/* ffmpeg: transpose=cclock_flip, the plain transpose: a quarter turn
	 * clockwise, then mirrored. */
	probe_ok("transpose.mp4", &f);
	assert_int_equal(f.rotation, 90);
	assert_true(f.hflip);
	assert_false(f.vflip);
	assert_int_equal(f.width, 160);
	/* ffmpeg: transpose=clock_flip: three quarter turns, then mirrored. */
	probe_ok("antitranspose.mp4", &f);
	assert_int_equal(f.rotation, 270);
	assert_true(f.hflip);
	assert_false(f.vflip);
	assert_int_equal(f.height, 320);

	probe_ok("anamorphic.mp4", &f);
	assert_int_equal(f.sar_num, 4);
	assert_int_equal(f.sar_den, 3);
	assert_int_equal(f.width, 426);
	assert_int_equal(f.height, 240);
	assert_true(f.browser_ready);

	probe_ok("hevc.mov", &f);
	assert_string_equal(f.video_codec, "hevc");
	assert_false(f.browser_ready);
	probe_ok("vp9.webm", &f);
	assert_string_equal(f.container, "matroska,webm");
	assert_string_equal(f.video_codec, "vp9");
	assert_string_equal(f.audio_codec, "opus");
	assert_false(f.browser_ready);
	probe_ok("mpeg4.avi", &f);
	assert_string_equal(f.container, "avi");
	assert_string_equal(f.video_codec, "mpeg4");
	assert_string_equal(f.audio_codec, "mp3");
	assert_false(f.browser_ready);

	probe_ok("blank.mp4", &f); /* no audio is fine for the browser */
	assert_int_equal(f.audio_stream, -1);
	assert_string_equal(f.audio_codec, "");
	assert_true(f.browser_ready);
}

static void refused(const char *name, int want_rc, const char *want_words)
{
	struct media_facts f;
	char err[KD_ERRMSG_MAX];
	char *p = clip(name);
	int rc = media_probe(p, &f, err, sizeof err);
	if (rc != want_rc || !strstr(err, want_words))
		fail_msg("%s: got %d \"%s\", want %d \"%s\"", name, rc, err, want_rc, want_words);
	free(p);
}

static void bad_files_are_refused_in_plain_words(void **state)
{
	(void)state;
	refused("empty.mp4", KD_EINVAL, "the file is empty");
	refused("text.mp4", KD_EINVAL, "not a video file");
	refused("playlist.mp4", KD_EINVAL, "not a video file");
	refused("concat.mp4", KD_EINVAL, "not a video file");
	refused("audio_only.mp4", KD_EINVAL, "sound but no picture");
	refused("mp3_named.mp4", KD_EINVAL, "sound but no picture");
	refused("cover_art.mp3", KD_EINVAL, "sound but no picture");
	refused("cut.mp4", KD_EINVAL, "cut off");
	refused("cut_faststart.mp4", KD_EINVAL, "cut off");
	refused("huge.avi", KD_EINVAL, "too large");
	refused("missing.mp4", KD_ENOTFOUND, "not there");

	/* The other entry points refuse them the same way. */
	struct media_facts f;
	char err[KD_ERRMSG_MAX];
	probe_ok("h264_aac.mp4", &f);
	char *p = clip("text.mp4"), *t = clip("t.jpg"), *q = clip("q.jpg"), *v = clip("q.vtt");
	assert_int_equal(media_make_images(p, &f, t, q, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "not a video file"));
	assert_int_equal(media_make_storyboard(p, &f, t, v, "q.jpg", err, sizeof err), KD_EINVAL);
	assert_int_equal(access(t, F_OK), -1);
	assert_int_equal(access(v, F_OK), -1);
	free(p);
	free(t);
	free(q);
	free(v);
}

/* --- images ---------------------------------------------------------- */

static void make_images(const char *name, struct media_facts *f, char **thumb, char **poster)
{
	char err[KD_ERRMSG_MAX];
	probe_ok(name, f);
	char *p = clip(name);
	*thumb = kd_asprintf("%s.thumb.jpg", p);
	*poster = kd_asprintf("%s.poster.jpg", p);
	int rc = media_make_images(p, f, *thumb, *poster, err, sizeof err);
	if (rc != 0)
		fail_msg("media_make_images %s: %d %s", name, rc, err);
	free(p);
}

static void thumbnails_face_the_way_ffmpeg_shows_them(void **state)
{
	(void)state;
	static const char *names[] = {
		"orient.mp4", "rot90.mp4",     "rot180.mp4",        "rot270.mp4",
		"hflip.mp4",  "transpose.mp4", "antitranspose.mp4",
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		struct media_facts f;
		char *thumb, *poster;
		int w, h, ow, oh, pw, ph;
		make_images(names[i], &f, &thumb, &poster);
		char *p = clip(names[i]);
		uint8_t *want = grey(p, &ow, &oh);
		uint8_t *got = grey(thumb, &w, &h);
		uint8_t *big = grey(poster, &pw, &ph);
		assert_int_equal(w, 320);
		assert_int_equal(h, 320 * oh / ow);
		assert_int_equal(pw, ow); /* never larger than the source */
		assert_int_equal(ph, oh);
		int q = bright_quadrant(want, ow, oh);
		if (bright_quadrant(got, w, h) != q || bright_quadrant(big, pw, ph) != q)
			fail_msg("%s: ffmpeg shows the white corner at %d, thumbnail at %d, poster at %d",
			         names[i], q, bright_quadrant(got, w, h), bright_quadrant(big, pw, ph));
		free(want);
		free(got);
		free(big);
		free(p);
		free(thumb);
		free(poster);
	}
}

static void thumbnails_keep_the_aspect_and_posters_the_limit(void **state)
{
	(void)state;
	struct media_facts f;
	char *thumb, *poster;
	int w, h;
	uint8_t *px;

	make_images("anamorphic.mp4", &f, &thumb, &poster); /* shown at 426x240 */
	free(grey(thumb, &w, &h));
	assert_int_equal(w, 320);
	assert_int_equal(h, 180);
	free(grey(poster, &w, &h));
	assert_int_equal(w, 426);
	assert_int_equal(h, 240);
	free(thumb);
	free(poster);

	make_images("big.mp4", &f, &thumb, &poster);
	free(grey(poster, &w, &h));
	assert_int_equal(w, 1280);
	assert_int_equal(h, 720);
	free(thumb);
	free(poster);

	static const char *others[] = {"hevc.mov", "vp9.webm", "mpeg4.avi", "camcorder.mts",
	                               "vfr.mp4"};
	for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
		make_images(others[i], &f, &thumb, &poster);
		px = grey(thumb, &w, &h);
		assert_int_equal(w, 320);
		assert_true(mean(px, w, 0, 0, w, h) > 40);
		free(px);
		free(thumb);
		free(poster);
	}
}

static void thumbnail_skips_a_black_start(void **state)
{
	(void)state;
	struct media_facts f;
	char *thumb, *poster;
	int w, h;
	make_images("blackstart.mp4", &f, &thumb, &poster);
	uint8_t *px = grey(thumb, &w, &h);
	double m = mean(px, w, 0, 0, w, h);
	if (m <= 40)
		fail_msg("the thumbnail is dark: mean luma %.1f", m);
	free(px);
	free(thumb);
	free(poster);
}

static void black_stays_black_in_full_range(void **state)
{
	(void)state;
	struct media_facts f;
	char *thumb, *poster;
	int w, h;
	/* Every candidate is black: the best of them is still written, and
	 * limited-range black (16) comes out as JPEG black, not grey. */
	make_images("blank.mp4", &f, &thumb, &poster);
	uint8_t *px = grey(thumb, &w, &h);
	assert_true(mean(px, w, 0, 0, w, h) < 4);
	free(px);
	/* And white (235) as white: the orientation clip's white corner. */
	free(thumb);
	free(poster);
	make_images("orient.mp4", &f, &thumb, &poster);
	px = grey(thumb, &w, &h);
	assert_true(mean(px, w, 8, 8, w / 2 - 8, h / 2 - 8) > 250);
	free(px);
	free(thumb);
	free(poster);
}

/* --- storyboard ------------------------------------------------------ */

struct cue {
	long start, end; /* ms */
	int x, y, w, h;
};

static long ms(int hh, int mm, int ss, int mmm)
{
	return ((hh * 60L + mm) * 60 + ss) * 1000 + mmm;
}

/* Make and parse a storyboard; returns the cues (caller frees). */
static struct cue *storyboard(const char *name, struct media_facts *f, int *ncues,
                              uint8_t **sprite, int *sw, int *sh)
{
	char err[KD_ERRMSG_MAX];
	probe_ok(name, f);
	char *p = clip(name);
	char *jpg = kd_asprintf("%s.sb.jpg", p), *vtt = kd_asprintf("%s.sb.vtt", p);
	int rc = media_make_storyboard(p, f, jpg, vtt, "/media/7/storyboard.jpg", err, sizeof err);
	if (rc != 0)
		fail_msg("media_make_storyboard %s: %d %s", name, rc, err);
	*sprite = grey(jpg, sw, sh);

	char *text = NULL;
	size_t len;
	assert_int_equal(kd_read_file(vtt, 1 << 20, &text, &len), 0);
	assert_memory_equal(text, "WEBVTT\n\n", 8);
	struct cue *cues = kd_calloc(1000, sizeof *cues);
	int n = 0, used;
	const char *s = text + 8;
	int a[4], b[4];
	while (*s) {
		assert_true(n < 1000);
		struct cue *c = &cues[n];
		used = 0;
		int k = sscanf(s,
		               "%2d:%2d:%2d.%3d --> %2d:%2d:%2d.%3d\n/media/7/storyboard.jpg#xywh="
		               "%d,%d,%d,%d%n",
		               &a[0], &a[1], &a[2], &a[3], &b[0], &b[1], &b[2], &b[3], &c->x, &c->y,
		               &c->w, &c->h, &used);
		if (k != 12 || used == 0 || strncmp(s + used, "\n\n", 2) != 0)
			fail_msg("%s: cue %d does not parse: %.60s", name, n, s);
		c->start = ms(a[0], a[1], a[2], a[3]);
		c->end = ms(b[0], b[1], b[2], b[3]);
		s += used + 2;
		n++;
	}
	free(text);
	free(jpg);
	free(vtt);
	free(p);
	*ncues = n;
	return cues;
}

static void check_cues(const char *name, const struct media_facts *f, const struct cue *c, int n,
                       int sw, int sh)
{
	assert_true(n >= 1 && n <= 100);
	assert_int_equal(c[0].start, 0);
	for (int i = 0; i < n; i++) {
		assert_true(c[i].end > c[i].start);
		if (i > 0)
			assert_int_equal(c[i].start, c[i - 1].end);
		assert_int_equal(c[i].w, 160);
		assert_int_equal(c[i].h, 160 * f->height / f->width / 2 * 2);
		assert_true(c[i].x >= 0 && c[i].x + c[i].w <= sw);
		assert_true(c[i].y >= 0 && c[i].y + c[i].h <= sh);
	}
	if (fabs(c[n - 1].end / 1000.0 - f->duration_s) > 0.05)
		fail_msg("%s: the last cue ends at %ld ms, the clip at %.3f s", name, c[n - 1].end,
		         f->duration_s);
}

static void storyboards_cover_the_whole_clip(void **state)
{
	(void)state;
	static const char *names[] = {"h264_aac.mp4", "vfr.mp4", "rot90.mp4", "vp9.webm",
	                              "camcorder.mts"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		struct media_facts f;
		uint8_t *sprite;
		int n, sw, sh;
		struct cue *c = storyboard(names[i], &f, &n, &sprite, &sw, &sh);
		check_cues(names[i], &f, c, n, sw, sh);
		assert_int_equal(n, (int)ceil(f.duration_s)); /* one a second */
		free(c);
		free(sprite);
	}
}

/* Tile i of the ramp clips shows second 3i, whose brightness is known:
 * the keyframe pass and the seeking pass both put each moment in its
 * place. */
static void storyboard_tiles_show_their_moment(void **state)
{
	(void)state;
	static const char *names[] = {"ramp_keys.mp4", "ramp_gop.mp4"};
	for (size_t k = 0; k < 2; k++) {
		struct media_facts f;
		uint8_t *sprite;
		int n, sw, sh;
		struct cue *c = storyboard(names[k], &f, &n, &sprite, &sw, &sh);
		check_cues(names[k], &f, c, n, sw, sh);
		assert_int_equal(n, 84); /* every 3 s */
		assert_int_equal(c[1].start, 3000);
		for (int i = 0; i < n; i++) {
			double t = c[i].start / 1000.0;
			double want = 16 + t * 0.8; /* geq drew it on full-range grey */
			double got = mean(sprite, sw, c[i].x + 8, c[i].y + 8, c[i].x + c[i].w - 8,
			                  c[i].y + c[i].h - 8);
			if (fabs(got - want) > 6)
				fail_msg("%s: tile %d (%.0f s) has brightness %.1f, want %.1f", names[k], i,
				         t, got, want);
		}
		free(c);
		free(sprite);
	}
}

/* --- one pass for every picture ------------------------------------- */

struct seen {
	double tb;      /* the stream's time base */
	int n;
	double t[128];  /* the time of the frame each moment got */
	bool key[128];
};

static int note_frame(void *ctx, int i, const AVFrame *frame)
{
	struct seen *s = ctx;
	assert_int_equal(i, s->n);
	s->t[i] = (double)frame->pts * s->tb; /* (the ramp starts at 0) */
	s->key[i] = lav_frame_is_key(frame);
	s->n++;
	return 0;
}

/* Moments every 3 s of the 250 s ramp with a keyframe every 10 s: exact
 * within the budget; with none, nothing but keyframes, each at most 5 s
 * (half the interval) from its moment; with a little, nearer. */
static void a_pass_is_as_exact_as_its_budget(void **state)
{
	(void)state;
	struct media_facts f;
	probe_ok("ramp_g10.mp4", &f);
	double times[84];
	for (int i = 0; i < 84; i++)
		times[i] = 3.0 * i;
	char err[KD_ERRMSG_MAX];
	char *p = clip("ramp_g10.mp4");
	int64_t budgets[] = {FRAMES_BUDGET_PX, 0, 64 * 48 * 60};
	double worst[3];
	for (int k = 0; k < 3; k++) {
		struct frames_decoder d;
		assert_int_equal(frames_decoder_open(&d, p, &f, FRAMES_ALL, err, sizeof err), 0);
		d.budget_px = budgets[k];
		struct seen s = {.tb = av_q2d(d.st->time_base)};
		assert_int_equal(frames_pass(&d, times, 84, note_frame, &s), 0);
		assert_int_equal(s.n, 84);
		worst[k] = 0;
		/* (past the last keyframe, at 240 s, the nearest keyframe is
		 * that one however far) */
		for (int i = 0; i < 80; i++) {
			worst[k] = fmax(worst[k], fabs(s.t[i] - times[i]));
			if (budgets[k] == 0 && !s.key[i])
				fail_msg("budget 0: moment %d (%.0f s) got a frame that is not a keyframe", i,
				         times[i]);
		}
		frames_decoder_close(&d);
	}
	free(p);
	if (worst[0] > 0.5 || worst[1] > 5.01 || !(worst[2] < worst[1]))
		fail_msg("furthest from its moment: %.2f s exact, %.2f s keyframes only, %.2f s with "
		         "a little budget", worst[0], worst[1], worst[2]);
}

/* media_make_pictures makes all four files at once, and they are what
 * media_make_images and media_make_storyboard make on their own. */
static void pictures_in_one_pass_match_the_parts(void **state)
{
	(void)state;
	struct media_facts f;
	char err[KD_ERRMSG_MAX];
	probe_ok("h264_aac.mp4", &f);
	char *p = clip("h264_aac.mp4");
	char *one[4], *two[4];
	static const char *ext[4] = {"thumb.jpg", "poster.jpg", "sb.jpg", "sb.vtt"};
	for (int i = 0; i < 4; i++) {
		one[i] = kd_asprintf("%s.one.%s", p, ext[i]);
		two[i] = kd_asprintf("%s.two.%s", p, ext[i]);
	}
	struct media_picture_paths paths = {one[0], one[1], one[2], one[3], "sb.jpg"};
	assert_int_equal(media_make_pictures(p, &f, &paths, NULL, err, sizeof err), 0);
	assert_int_equal(media_make_images(p, &f, two[0], two[1], err, sizeof err), 0);
	assert_int_equal(media_make_storyboard(p, &f, two[2], two[3], "sb.jpg", err, sizeof err), 0);
	for (int i = 0; i < 4; i++) {
		char *a = NULL, *b = NULL;
		size_t la, lb;
		assert_int_equal(kd_read_file(one[i], 1 << 24, &a, &la), 0);
		assert_int_equal(kd_read_file(two[i], 1 << 24, &b, &lb), 0);
		if (la != lb || memcmp(a, b, la) != 0)
			fail_msg("%s differs between one pass and two", ext[i]);
		char *tmp = kd_asprintf("%s.tmp", one[i]);
		assert_int_equal(access(tmp, F_OK), -1); /* nothing left behind */
		free(tmp);
		free(a);
		free(b);
		free(one[i]);
		free(two[i]);
	}
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe_agrees_with_ffprobe),
		cmocka_unit_test(probe_tells_codecs_sizes_and_turns),
		cmocka_unit_test(bad_files_are_refused_in_plain_words),
		cmocka_unit_test(thumbnails_face_the_way_ffmpeg_shows_them),
		cmocka_unit_test(thumbnails_keep_the_aspect_and_posters_the_limit),
		cmocka_unit_test(thumbnail_skips_a_black_start),
		cmocka_unit_test(black_stays_black_in_full_range),
		cmocka_unit_test(storyboards_cover_the_whole_clip),
		cmocka_unit_test(storyboard_tiles_show_their_moment),
		cmocka_unit_test(a_pass_is_as_exact_as_its_budget),
		cmocka_unit_test(pictures_in_one_pass_match_the_parts),
	};
	return cmocka_run_group_tests(tests, make_clips, remove_clips);
}
