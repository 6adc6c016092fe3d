// SPDX-License-Identifier: GPL-2.0
/*
 * nuq kselftest: the short pass of nuq-stress (tests/stress/) - three fixed
 * seeds on /dev/nuq0 and the NPU at once, then every regression seed kept
 * in tests/stress/seeds/ (compiled in), each shortened to a few seconds.
 * Afterwards the module must unload (nothing pinned) and load again with
 * default parameters for the suites that follow.
 */
#include <sys/wait.h>

#include "nuq_harness.h"
#include "nuq_npu.h"
#include "../stress/stress.h"

/* One nuq-stress argument line per regression seed. */
static const char *const regression_seeds[] = {
#include "stress_seeds.h"
	NULL,
};

#define SHORT_SECONDS	6

/* Run nuq-stress with @args in a child of its own; returns its exit status. */
static int stress_args(const char *args, unsigned int max_seconds)
{
	char buf[512], *argv[32], *save, *tok;
	struct stress_opts o;
	int argc = 0, status;
	pid_t pid;

	snprintf(buf, sizeof(buf), "%s", args);
	argv[argc++] = "nuq-stress";
	for (tok = strtok_r(buf, " \t", &save); tok && argc < 31; tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	stress_defaults(&o);
	if (stress_parse(&o, argc, argv))
		return 2;
	if (o.seconds > max_seconds)
		o.seconds = max_seconds;
	/* The seed's devices may not exist in this VM: use the ones here. */
	o.ndevs = 0;
	if (stress_find_devs(&o))
		return 2;
	o.prefix = "# ";
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(stress_run(&o) ? 1 : 0);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 3;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

FIXTURE(stress) {
	int npu;
};

FIXTURE_SETUP(stress)
{
	ASSERT_TRUE(nuq_loaded());
	self->npu = npu_find();
}

FIXTURE_TEARDOWN(stress)
{
	if (!nuq_loaded())
		nuq_load(NULL);
}

TEST_F_TIMEOUT(stress, fixed_seeds, 240)
{
	static const char *const seeds[] = { "0x5eed0001", "0x5eed0002", "0x5eed0003" };
	char args[64];
	unsigned int i;

	TH_LOG("devices: nuq0%s", self->npu > 0 ? " and the NPU" : "");
	for (i = 0; i < 3; i++) {
		snprintf(args, sizeof(args), "--seed %s", seeds[i]);
		EXPECT_EQ(0, stress_args(args, SHORT_SECONDS)) TH_LOG("seed %s", seeds[i]);
	}
}

TEST_F_TIMEOUT(stress, regression_seeds, 600)
{
	unsigned int i;

	const unsigned int n = sizeof(regression_seeds) / sizeof(regression_seeds[0]) - 1;

	if (!n)
		SKIP(return, "no seed in tests/stress/seeds/");
	/* Counted, not NULL-terminated: gcc cannot prove a NULL-ended loop's %s non-NULL. */
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, stress_args(regression_seeds[i], SHORT_SECONDS))
			TH_LOG("%s", regression_seeds[i] ? regression_seeds[i] : "?");
}

/* Nothing of the stress pins the module; it loads again for what follows. */
TEST_F_TIMEOUT(stress, unload_and_reload, 60)
{
	int i, ret = -1;

	for (i = 0; i < 100; i++) {
		ret = nuq_unload();
		if (ret != -EBUSY && ret != -EWOULDBLOCK && ret != -EAGAIN)
			break;
		usleep(100000);
	}
	ASSERT_EQ(0, ret) TH_LOG("rmmod after the stress: %d (%s)", ret, strerror(-ret));
	ASSERT_EQ(0, nuq_load(NULL));
	for (i = 0; i < 50 && access(NUQ_DEV0, F_OK); i++)
		usleep(100000);
	EXPECT_EQ(0, access(NUQ_DEV0, F_OK));
	if (self->npu > 0) {
		for (i = 0; i < 50 && npu_find() < 0; i++)
			usleep(100000);
		EXPECT_EQ(self->npu, npu_find());
	}
}

TEST_HARNESS_MAIN
