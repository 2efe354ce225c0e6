/*
 * test_audio.c - media_make_wav (src/media/audio.c): the WAV a
 * transcription command is handed (issue 15), made from clips the ffmpeg
 * command line makes here.  The file is read back byte by byte: its
 * header must say 16 kHz, one channel, 16 bits, and its data must be as
 * long as the sound, at the same pitch (a 1 kHz tone crosses zero 2000
 * times a second whatever the source's rate), with both channels mixed.
 */
#include "helpers.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kindling/fs.h"
#include "kindling/media.h"
#include "kindling/mem.h"

static char dir[64];

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
#define PICTURE "-f lavfi -i testsrc2=s=160x120:r=25:d=%s"
#define X264 "-c:v libx264 -preset ultrafast -pix_fmt yuv420p"
#define TONE "sin(2*PI*1000*t)*0.5"

static int make_clips(void **state)
{
	(void)state;
	kd_log_set_level(KD_LOG_WARN);
	strcpy(dir, "/tmp/kd-audio-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	const char *d = dir;
	int rc = 0;
	/* PCM in Matroska: the sound's length is exact (no codec priming). */
	rc |= run(FF " " PICTURE " -f lavfi -i aevalsrc='" TONE "|" TONE "':s=44100:d=3 " X264
	          " -c:a pcm_s16le -shortest %s/stereo44.mkv", "3", d);
	/* The channels opposite: a downmix cancels them, taking one would not. */
	rc |= run(FF " " PICTURE " -f lavfi -i aevalsrc='" TONE "|-" TONE "':s=48000:d=2 " X264
	          " -c:a pcm_s16le -shortest %s/opposite.mkv", "2", d);
	/* AAC in MP4, as cameras and phones make them. */
	rc |= run(FF " " PICTURE " -f lavfi -i aevalsrc='" TONE "':s=48000:d=4 " X264
	          " -c:a aac -b:a 64k -shortest %s/aac.mp4", "4", d);
	/* Sound that starts a second after the picture. */
	rc |= run(FF " " PICTURE " -itsoffset 1 -f lavfi -i aevalsrc='" TONE "':s=16000:d=2 " X264
	          " -c:a pcm_s16le %s/late.mkv", "3", d);
	rc |= run(FF " " PICTURE " " X264 " %s/silent.mp4", "2", d);
	char *garbage = kd_asprintf("%s/garbage.mp4", d);
	FILE *f = fopen(garbage, "w");
	free(garbage);
	if (!f)
		return -1;
	for (int i = 0; i < 5000; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	return rc == 0 ? 0 : -1;
}

static int remove_clips(void **state)
{
	(void)state;
	kd_remove_tree(dir);
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

struct wav {
	uint8_t *bytes;
	size_t len;
	const int16_t *pcm; /* little-endian machines only, as kindling's */
	size_t n;
};

/* Make the WAV of name, check its header, and read it back. */
static void make(const char *name, double max_s, struct wav *w, int64_t *samples)
{
	char *in = kd_asprintf("%s/%s", dir, name), *out = kd_asprintf("%s/%s.wav", dir, name);
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(media_make_wav(in, out, max_s, samples, err, sizeof err), 0);
	char *data = NULL;
	assert_int_equal(kd_read_file(out, 64 << 20, &data, &w->len), 0);
	w->bytes = (uint8_t *)data;
	assert_true(w->len >= 44);
	const uint8_t *h = w->bytes;
	assert_memory_equal(h, "RIFF", 4);
	assert_int_equal(le32(h + 4), w->len - 8);
	assert_memory_equal(h + 8, "WAVEfmt ", 8);
	assert_int_equal(le32(h + 16), 16);
	assert_int_equal(le16(h + 20), 1);        /* PCM */
	assert_int_equal(le16(h + 22), 1);        /* one channel */
	assert_int_equal(le32(h + 24), 16000);    /* samples a second */
	assert_int_equal(le32(h + 28), 32000);    /* bytes a second */
	assert_int_equal(le16(h + 32), 2);
	assert_int_equal(le16(h + 34), 16);
	assert_memory_equal(h + 36, "data", 4);
	assert_int_equal(le32(h + 40), w->len - 44);
	w->pcm = (const int16_t *)(const void *)(w->bytes + 44);
	w->n = (w->len - 44) / 2;
	assert_int_equal((int64_t)w->n, *samples);
	/* no temporary left beside it */
	char *tmp = kd_asprintf("%s.tmp", out);
	assert_int_not_equal(access(tmp, F_OK), 0);
	free(tmp);
	free(in);
	free(out);
}

static double rms(const struct wav *w, size_t from, size_t to)
{
	double sum = 0;
	for (size_t i = from; i < to && i < w->n; i++)
		sum += (double)w->pcm[i] * w->pcm[i];
	return to > from ? sqrt(sum / (double)(to - from)) : 0;
}

static size_t zero_crossings(const struct wav *w, size_t from, size_t to)
{
	size_t n = 0;
	for (size_t i = from + 1; i < to && i < w->n; i++)
		n += (w->pcm[i - 1] < 0) != (w->pcm[i] < 0);
	return n;
}

static void stereo_44k_becomes_16k_mono_of_the_same_length(void **state)
{
	(void)state;
	struct wav w;
	int64_t samples;
	make("stereo44.mkv", 0, &w, &samples);
	/* 3 s: 48000 samples, give or take the resampler's last few */
	assert_true(labs((long)(samples - 48000)) <= 16);
	/* the pitch kept: 1 kHz crosses zero 2000 times a second (away from
	 * the ends, where the filter rings) */
	size_t z = zero_crossings(&w, 1600, 1600 + 32000);
	assert_true(z >= 3990 && z <= 4010);
	/* half full scale in, about half full scale out (RMS of a sine: /sqrt 2) */
	double r = rms(&w, 1600, 1600 + 32000);
	assert_true(r > 0.5 * 32767 / sqrt(2) * 0.9 && r < 0.5 * 32767 / sqrt(2) * 1.1);
	free(w.bytes);
}

static void both_channels_are_mixed(void **state)
{
	(void)state;
	struct wav w;
	int64_t samples;
	make("opposite.mkv", 0, &w, &samples);
	assert_true(labs((long)(samples - 32000)) <= 16);
	/* left and right cancel: what is left is rounding */
	assert_true(rms(&w, 0, w.n) < 50);
	free(w.bytes);
}

static void aac_is_decoded(void **state)
{
	(void)state;
	struct wav w;
	int64_t samples;
	make("aac.mp4", 0, &w, &samples);
	/* 4 s; AAC's priming and padding are a frame (1024 samples at 48 kHz:
	 * 341 at 16 kHz) at most */
	assert_true(labs((long)(samples - 64000)) <= 341);
	size_t z = zero_crossings(&w, 8000, 8000 + 32000);
	assert_true(z >= 3980 && z <= 4020);
	free(w.bytes);
}

static void a_late_start_is_silence_first(void **state)
{
	(void)state;
	struct wav w;
	int64_t samples;
	make("late.mkv", 0, &w, &samples);
	/* its first sample is at 1 s: a second of silence before it */
	assert_true(labs((long)(samples - 48000)) <= 16);
	assert_true(rms(&w, 0, 15000) < 50);
	assert_true(rms(&w, 17000, 47000) > 5000);
	free(w.bytes);
}

static void max_s_bounds_the_length(void **state)
{
	(void)state;
	struct wav w;
	int64_t samples;
	make("stereo44.mkv", 1.0, &w, &samples);
	assert_int_equal(samples, 16000);
	free(w.bytes);
}

static void no_sound_and_no_media_are_refused(void **state)
{
	(void)state;
	char err[KD_ERRMSG_MAX] = "";
	int64_t samples = -1;
	char *in = kd_asprintf("%s/silent.mp4", dir), *out = kd_asprintf("%s/silent.wav", dir);
	assert_int_equal(media_make_wav(in, out, 0, &samples, err, sizeof err), KD_ENOTFOUND);
	assert_int_equal(samples, 0);
	assert_string_equal(err, "this file has no sound in it");
	assert_int_not_equal(access(out, F_OK), 0);
	free(in);
	free(out);
	in = kd_asprintf("%s/garbage.mp4", dir);
	out = kd_asprintf("%s/garbage.wav", dir);
	err[0] = '\0';
	assert_int_equal(media_make_wav(in, out, 0, &samples, err, sizeof err), KD_EINVAL);
	assert_true(err[0] != '\0');
	assert_int_not_equal(access(out, F_OK), 0);
	free(in);
	free(out);
	in = kd_asprintf("%s/missing.mp4", dir);
	out = kd_asprintf("%s/missing.wav", dir);
	assert_int_equal(media_make_wav(in, out, 0, &samples, err, sizeof err), KD_ENOTFOUND);
	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stereo_44k_becomes_16k_mono_of_the_same_length),
		cmocka_unit_test(both_channels_are_mixed),
		cmocka_unit_test(aac_is_decoded),
		cmocka_unit_test(a_late_start_is_silence_first),
		cmocka_unit_test(max_s_bounds_the_length),
		cmocka_unit_test(no_sound_and_no_media_are_refused),
	};
	return cmocka_run_group_tests(tests, make_clips, remove_clips);
}
