/* test_sandbox.c - a worker in its sandbox reaches its clip's folder and
 * nothing else: each escape is tried in a child process of its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/fs.h"
#include "kindling/mem.h"
#include "kindling/sandbox.h"

static char top[64], clip_dir[96], catalogue[96];

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof top, "/tmp/kindling-sandbox.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(clip_dir, sizeof clip_dir, "%s/media/7", top);
	snprintf(catalogue, sizeof catalogue, "%s/catalogue.db", top);
	kd_mkdirs(clip_dir, 0750);
	kd_write_file_atomic(catalogue, "SQLite format 3", 15);
	char *orig = kd_asprintf("%s/original", clip_dir);
	kd_write_file_atomic(orig, "video bytes", 11);
	free(orig);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kd_remove_tree(top);
	return 0;
}

static bool has_landlock(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) >= 1;
}

/* Run what in a child sandboxed to the clip folder; return its wait status. */
static int in_sandbox(int (*what)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		struct sandbox_limits l = {.mem_mb = 1024, .cpu_s = 30, .file_mb = 16, .open_files = 32};
		char err[KD_ERRMSG_MAX];
		bool confined;
		if (sandbox_enter(clip_dir, &l, &confined, err, sizeof err) < 0) {
			fprintf(stderr, "sandbox_enter: %s\n", err);
			_exit(90);
		}
		_exit(what());
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return status;
}

static int read_and_write_own_folder(void)
{
	char path[160];
	snprintf(path, sizeof path, "%s/original", clip_dir);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 1;
	close(fd);
	snprintf(path, sizeof path, "%s/thumbnail.jpg", clip_dir);
	if (kd_write_file_atomic(path, "jpeg", 4) < 0)
		return 2;
	return 0;
}

static int open_the_catalogue(void)
{
	int fd = open(catalogue, O_RDWR);
	return fd < 0 && errno == EACCES ? 0 : 1;
}

static int write_beside_the_clip(void)
{
	char path[160];
	snprintf(path, sizeof path, "%s/media/evil", top);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	return fd < 0 && errno == EACCES ? 0 : 1;
}

static int start_a_program(void)
{
	char *argv[] = {"/bin/true", NULL};
	execv(argv[0], argv);
	return 1; /* not stopped */
}

static int start_a_process(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	return 1;
}

static int open_a_socket(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	return s < 0 ? 2 : 1;
}

/* The parent of a worker, or its whole process group, is not its to
 * signal; itself it may (abort). */
static int signal_the_parent(void)
{
	kill(getppid(), SIGCONT);
	return 1;
}

static int signal_the_group(void)
{
	kill(0, SIGCONT);
	return 1;
}

static int signal_itself(void)
{
	signal(SIGUSR1, SIG_IGN);
	return kill(getpid(), SIGUSR1) == 0 && raise(SIGUSR1) == 0 ? 0 : 1;
}

static void *thread_main(void *arg)
{
	return arg;
}

static int start_a_thread(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, thread_main, NULL) != 0)
		return 1;
	pthread_join(t, NULL);
	return 0;
}

static int write_past_the_file_limit(void)
{
	char path[160];
	snprintf(path, sizeof path, "%s/big", clip_dir);
	signal(SIGXFSZ, SIG_IGN);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	static char mb[1 << 20];
	for (int i = 0; i < 32; i++)
		if (write(fd, mb, sizeof mb) < 0)
			return errno == EFBIG ? 0 : 1;
	return 1;
}

static void its_own_folder_works(void **state)
{
	(void)state;
	int st = in_sandbox(read_and_write_own_folder);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = in_sandbox(start_a_thread);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void the_catalogue_and_other_folders_are_out_of_reach(void **state)
{
	(void)state;
	if (!has_landlock())
		skip(); /* the kernel has no Landlock: the worker logs that it is not confined */
	int st = in_sandbox(open_the_catalogue);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = in_sandbox(write_beside_the_clip);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void programs_processes_sockets_and_signals_end_it(void **state)
{
	(void)state;
	int (*escapes[])(void) = {start_a_program, start_a_process, open_a_socket,
	                          signal_the_parent, signal_the_group};
	for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++) {
		int st = in_sandbox(escapes[i]);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
	int st = in_sandbox(signal_itself);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void files_are_limited_in_size(void **state)
{
	(void)state;
	int st = in_sandbox(write_past_the_file_limit);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(its_own_folder_works),
		cmocka_unit_test(the_catalogue_and_other_folders_are_out_of_reach),
		cmocka_unit_test(programs_processes_sockets_and_signals_end_it),
		cmocka_unit_test(files_are_limited_in_size),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
