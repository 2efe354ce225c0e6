/*
 * Uploaded video files are the most hostile input kindling reads: probing
 * (and, when the probe accepts the file, the thumbnail and storyboard)
 * must fail cleanly on any bytes.  The input goes through a temporary
 * file named .mp4, as an upload would, so probing by name is exercised.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/media.h"

static char dir[] = "/tmp/fuzz_probe_XXXXXX";
static char path[64], thumb[64], poster[64], sprite[64], vtt[64], wav[64];

static void cleanup(void)
{
	unlink(path);
	unlink(thumb);
	unlink(poster);
	unlink(sprite);
	unlink(vtt);
	unlink(wav);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kd_log_set_level(KD_LOG_ERROR);
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof path, "%s/clip.mp4", dir);
	snprintf(thumb, sizeof thumb, "%s/t.jpg", dir);
	snprintf(poster, sizeof poster, "%s/p.jpg", dir);
	snprintf(sprite, sizeof sprite, "%s/s.jpg", dir);
	snprintf(vtt, sizeof vtt, "%s/s.vtt", dir);
	snprintf(wav, sizeof wav, "%s/a.wav", dir); /* issue 15 */
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();

	struct media_facts facts;
	char err[KD_ERRMSG_MAX];
	int rc = media_probe(path, &facts, err, sizeof err);
	if (rc != 0) {
		if (err[0] == '\0')
			abort(); /* every refusal says why */
		return 0;
	}
	/* What the probe accepts, the rest of the pipeline can rely on. */
	if (facts.video_stream < 0 || facts.width <= 0 || facts.height <= 0 ||
	    facts.coded_width > 8192 || facts.coded_height > 8192 || facts.duration_s < 0 ||
	    (facts.rotation != 0 && facts.rotation != 90 && facts.rotation != 180 &&
	     facts.rotation != 270))
		abort();
	/* Decode only what stays quick; the fuzzer is after crashes. */
	if ((int64_t)facts.width * facts.height > 640 * 480 || facts.duration_s > 600)
		return 0;
	media_make_images(path, &facts, thumb, poster, err, sizeof err);
	media_make_storyboard(path, &facts, sprite, vtt, "s.jpg", err, sizeof err);
	/* issue 15: the WAV a transcription command is handed (at most 10 s) */
	int64_t samples = -1;
	err[0] = '\0';
	rc = media_make_wav(path, wav, 10, &samples, err, sizeof err);
	if ((rc == 0) != (samples > 0) || samples > 10 * MEDIA_WAV_RATE || (rc != 0 && !err[0]))
		abort();
	unlink(wav);
	return 0;
}
