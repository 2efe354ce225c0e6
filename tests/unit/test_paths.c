/* test_paths.c - a clip's files on disk and in URLs (include/kindling/paths.h). */
#include <stdio.h>

#include "helpers.h"
#include "kindling/paths.h"

static const struct {
	enum kd_media_file f;
	const char *name, *type;
} files[] = {
	{KD_FILE_ORIGINAL, "original", "application/octet-stream"},
	{KD_FILE_VIDEO, "video.mp4", "video/mp4"},
	{KD_FILE_THUMBNAIL, "thumbnail.jpg", "image/jpeg"},
	{KD_FILE_POSTER, "poster.jpg", "image/jpeg"},
	{KD_FILE_STORYBOARD_VTT, "storyboard.vtt", "text/vtt; charset=utf-8"},
	{KD_FILE_STORYBOARD_JPG, "storyboard.jpg", "image/jpeg"},
	{KD_FILE_CAPTIONS, "captions.vtt", "text/vtt; charset=utf-8"},
};

static void every_file_has_its_name_and_type(void **state)
{
	(void)state;
	assert_int_equal(sizeof files / sizeof *files, KD_FILE_COUNT);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		assert_string_equal(paths_file_name(files[i].f), files[i].name);
		assert_string_equal(paths_file_type(files[i].f), files[i].type);
		assert_null(strchr(files[i].name, '/'));
	}
}

static void url_names_find_every_file_but_the_original(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		enum kd_media_file f = KD_FILE_COUNT;
		int rc = paths_file_by_name(files[i].name, &f);
		if (files[i].f == KD_FILE_ORIGINAL) {
			assert_int_equal(rc, -1); /* never served */
			assert_int_equal(f, KD_FILE_COUNT);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(f, files[i].f);
		}
	}
	const char *unknown[] = {"", "VIDEO.MP4", "video.mp4 ", "video", "../original",
	                         "./video.mp4", "video.mp4/", "catalogue.db", "original.mp4"};
	for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
		enum kd_media_file f = KD_FILE_COUNT;
		if (paths_file_by_name(unknown[i], &f) != -1)
			fail_msg("'%s' was found", unknown[i]);
		assert_int_equal(f, KD_FILE_COUNT);
	}
}

static void clip_and_upload_folders(void **state)
{
	(void)state;
	char *p;
	assert_string_equal(p = paths_clip_dir("/srv/kindling", 42), "/srv/kindling/media/42");
	free(p);
	assert_string_equal(p = paths_clip_dir("data", 9007199254740993LL),
	                    "data/media/9007199254740993");
	free(p);
	assert_string_equal(p = paths_clip_file("/srv/kindling", 42, KD_FILE_ORIGINAL),
	                    "/srv/kindling/media/42/original");
	free(p);
	assert_string_equal(p = paths_clip_file("/srv/kindling", 7, KD_FILE_POSTER),
	                    "/srv/kindling/media/7/poster.jpg");
	free(p);
	assert_string_equal(p = paths_clip_file("rel", 1, KD_FILE_STORYBOARD_VTT),
	                    "rel/media/1/storyboard.vtt");
	free(p);
	assert_string_equal(p = paths_uploads_dir("/srv/kindling"), "/srv/kindling/uploads");
	free(p);
	assert_string_equal(p = paths_upload_dir("/srv/kindling", "0123456789abcdef"),
	                    "/srv/kindling/uploads/0123456789abcdef");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_file_has_its_name_and_type),
		cmocka_unit_test(url_names_find_every_file_but_the_original),
		cmocka_unit_test(clip_and_upload_folders),
	};
	return cmocka_run_group_tests_name("paths", tests, NULL, NULL);
}
