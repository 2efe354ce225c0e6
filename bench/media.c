/*
 * media.c - in-process media work beside the ffmpeg tools doing the same:
 * a probe in this process against an ffprobe process, and the thumbnail
 * and storyboard of a 10 s 720p clip with dense and with x264's default
 * keyframes.  Built by `make bench` as build/bench/media; bench.sh runs it
 * (section "media").  Clips are made here with the ffmpeg tool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/media.h"
#include "kindling/mem.h"

#define FF "ffmpeg -nostdin -v error -y"

static char dir[64];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *in_dir(const char *name)
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
		fprintf(stderr, "media bench: command failed (%d): %s\n", rc, cmd);
	return rc;
}

static int probe_case(void)
{
	struct media_facts f;
	char err[KD_ERRMSG_MAX];
	char *p = in_dir("short.mp4");
	int rc = run(FF " -f lavfi -i testsrc2=s=320x240:r=25:d=3 -f lavfi -i sine=d=3 "
	                "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac '%s'", p);
	if (rc != 0)
		goto out;
	const int rounds = 50, tool_rounds = 10;
	double t0 = now();
	for (int i = 0; i < rounds && rc == 0; i++)
		rc = media_probe(p, &f, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "media bench: probe failed: %s\n", err);
		goto out;
	}
	double in_process = (now() - t0) / rounds;
	t0 = now();
	for (int i = 0; i < tool_rounds && rc == 0; i++)
		rc = run("ffprobe -v error -print_format json -show_format -show_streams '%s' "
		         ">/dev/null", p);
	double tool = (now() - t0) / tool_rounds;
	printf("probe, 3 s clip: kindling %.2f ms in process, ffprobe %.1f ms a process: %.0fx\n",
	       in_process * 1e3, tool * 1e3, tool / in_process);
out:
	free(p);
	return rc;
}

static int images_case(const char *gop, const char *label)
{
	struct media_facts f;
	char err[KD_ERRMSG_MAX];
	char *p = in_dir("hd.mp4"), *t = in_dir("t.jpg"), *q = in_dir("p.jpg");
	char *sj = in_dir("sb.jpg"), *sv = in_dir("sb.vtt");
	int rc = run(FF " -f lavfi -i testsrc2=s=1280x720:r=30:d=10 -f lavfi -i sine=d=10 "
	                "-c:v libx264 -preset veryfast -pix_fmt yuv420p %s -c:a aac '%s'", gop, p);
	if (rc == 0)
		rc = media_probe(p, &f, err, sizeof err);
	double t0 = now(), images = 0, board = 0;
	if (rc == 0 && (rc = media_make_images(p, &f, t, q, err, sizeof err)) == 0) {
		images = now() - t0;
		t0 = now();
		rc = media_make_storyboard(p, &f, sj, sv, "sb.jpg", err, sizeof err);
		board = now() - t0;
	}
	if (rc == 0)
		printf("10 s 720p30 (%s): thumbnail+poster %.0f ms, storyboard %.0f ms\n", label,
		       images * 1e3, board * 1e3);
	else if (rc < 0)
		fprintf(stderr, "media bench: %s\n", err);
	free(p);
	free(t);
	free(q);
	free(sj);
	free(sv);
	return rc;
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/kindling-bench-media.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("media bench: mkdtemp");
		return 1;
	}
	int rc = probe_case();
	if (rc == 0)
		rc = images_case("-g 30", "a keyframe every second");
	if (rc == 0)
		rc = images_case("", "x264 default keyframes");
	kd_remove_tree(dir);
	return rc == 0 ? 0 : 1;
}
