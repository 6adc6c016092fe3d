// SPDX-License-Identifier: GPL-2.0
/*
 * onnx_conformance: the ONNX backend test suite (Debian's
 * libonnx-testdata) through nuq's fp32 graph executor.
 *
 *   onnx_conformance [-t SECONDS] [-o TAP] [-l LOG] [DATA_DIR]
 *   onnx_conformance -c CASE_DIR      one case, in this process (debugging)
 *
 * Every case runs in a child process with a time limit, so a crash or a
 * hang is one case's verdict, not the end of the run.  A case passes,
 * is refused (nuq returned an error: the op or type it names is
 * counted), is wrong (ran, different answer) or crashed.  The TAP file
 * has one test per suite directory, failing on any wrong or crashed
 * case; refusals do not fail it.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conformance.h"

#define DEFAULT_DATA	"/usr/share/libonnx-testdata/data"
#define MAX_KEYS	512
#define MAX_BAD		64

static const char *const result_names[] = { "pass", "refused", "wrong", "crash", "skip" };

struct suite {
	char name[64];
	unsigned int n[5];
	char bad[MAX_BAD][96];		/* wrong and crashed cases */
	unsigned int nbad;
};

struct key_count {
	char key[64];
	unsigned int count;
};

static struct key_count keys[MAX_KEYS];
static unsigned int nkeys;

/*
 * What a refusal is about, from nuq's message: the op of the node it
 * names ("node 'x' (LSTM): ...", "node #3 (Pad, output 'y'): ..."), or
 * the kind of value it could not take ("input bool", "input sequence").
 */
static void refusal_key(const char *msg, char *key, size_t size)
{
	const char *p = NULL, *e;
	char type[32];

	if (!strncmp(msg, "node '", 6) && (p = strstr(msg, "' (")))
		p += 3;
	else if (!strncmp(msg, "node #", 6) && (p = strchr(msg, '(')))
		p += 1;
	if (p) {
		e = p + strcspn(p, "),");
		snprintf(key, size, "%.*s", (int)(e - p), p);
		return;
	}
	if (!strncmp(msg, "Constant node", 13)) {
		snprintf(key, size, "Constant (attribute)");
		return;
	}
	if ((p = strstr(msg, "' is ")) && (!strncmp(msg, "input '", 7) ||
					   !strncmp(msg, "graph input '", 13) ||
					   !strncmp(msg, "graph output '", 14))) {
		p += 5;
		if (!strncmp(p, "a ", 2))
			p += 2;
		else if (!strncmp(p, "an ", 3))
			p += 3;
		snprintf(type, sizeof(type), "%.*s", (int)strcspn(p, ";, "), p);
		snprintf(key, size, "%s %s", strstr(msg, "output") == msg + 6 ? "output" : "input",
			 type);
		return;
	}
	if (!strncmp(msg, "tensor '", 8) && (p = strstr(msg, "data type "))) {
		snprintf(key, size, "tensor type %d", atoi(p + 10));
		return;
	}
	snprintf(key, size, "%.*s", (int)strcspn(msg, ":'"), msg);
}

static void count_key(const char *key)
{
	unsigned int i;

	for (i = 0; i < nkeys; i++)
		if (!strcmp(keys[i].key, key))
			break;
	if (i == nkeys) {
		if (nkeys == MAX_KEYS)
			return;
		snprintf(keys[nkeys++].key, sizeof(keys[0].key), "%s", key);
	}
	keys[i].count++;
}

static int by_count(const void *a, const void *b)
{
	const struct key_count *x = a, *y = b;

	return x->count != y->count ? (int)y->count - (int)x->count : strcmp(x->key, y->key);
}

/* Run @dir in a child; its verdict and reason come back through a pipe. */
static enum case_result run_child(const char *dir, unsigned int seconds, char *why,
				  size_t whylen)
{
	int fd[2], status, res = -1;
	char buf[1024];
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	if (pipe(fd))
		return CASE_CRASH;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return CASE_CRASH;
	}
	if (pid == 0) {
		enum case_result cr;

		close(fd[0]);
		alarm(seconds);
		/* A passing case writes no reason: not the parent's last one. */
		buf[4] = 0;
		cr = case_run(dir, buf + 4, sizeof(buf) - 4);
		/* "N   reason": the verdict in a fixed 4-byte field. */
		snprintf(buf, 4, "%-3d", (int)cr);
		buf[3] = ' ';
		if (write(fd[1], buf, strnlen(buf, sizeof(buf))) < 0)
			_exit(2);
		/* exit(), not _exit(): LeakSanitizer checks at exit (stdio was flushed). */
		exit(0);
	}
	close(fd[1]);
	while (len < sizeof(buf) - 1 && (r = read(fd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = 0;
	close(fd[0]);
	if (waitpid(pid, &status, 0) < 0)
		status = -1;
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM)
			snprintf(why, whylen, "timed out after %u s", seconds);
		else
			snprintf(why, whylen, "killed by signal %d (%s)", WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
		return CASE_CRASH;
	}
	if (len >= 4 && sscanf(buf, "%d", &res) == 1 && res >= CASE_PASS && res <= CASE_SKIP &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		snprintf(why, whylen, "%s", buf + 4);
		return (enum case_result)res;
	}
	/* A verdict and then a failing exit: a sanitizer's report (leaks) at exit. */
	snprintf(why, whylen, "exited with status %d %s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		 len >= 4 ? "after its verdict (see stderr)" : "and no verdict");
	return CASE_CRASH;
}

static int only_dirs(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void run_suite(const char *data, struct suite *s, unsigned int seconds, FILE *log)
{
	struct dirent **cases;
	char dir[4096], why[1024];
	int n, i;

	snprintf(dir, sizeof(dir), "%s/%s", data, s->name);
	n = scandir(dir, &cases, only_dirs, alphasort);
	for (i = 0; i < n; i++) {
		enum case_result r;
		char key[64];

		snprintf(dir, sizeof(dir), "%s/%s/%s", data, s->name, cases[i]->d_name);
		why[0] = 0;
		r = run_child(dir, seconds, why, sizeof(why));
		s->n[r]++;
		if (r == CASE_REFUSED) {
			refusal_key(why, key, sizeof(key));
			count_key(key);
		}
		if ((r == CASE_WRONG || r == CASE_CRASH) && s->nbad < MAX_BAD)
			snprintf(s->bad[s->nbad++], sizeof(s->bad[0]), "%.95s", cases[i]->d_name);
		if (log)
			fprintf(log, "%-7s %s/%s: %s\n", result_names[r], s->name, cases[i]->d_name,
				why);
		if (r == CASE_WRONG || r == CASE_CRASH)
			printf("  %s %s/%s: %s\n", result_names[r], s->name, cases[i]->d_name, why);
		free(cases[i]);
	}
	if (n >= 0)
		free(cases);
}

static void write_tap(FILE *tap, const struct suite *s, unsigned int ns)
{
	unsigned int i, k;

	fprintf(tap, "1..%u\n", ns);
	for (i = 0; i < ns; i++) {
		unsigned int bad = s[i].n[CASE_WRONG] + s[i].n[CASE_CRASH];

		fprintf(tap, "%sok %u - conformance %s: %u pass, %u refused, %u wrong, %u crashed"
			" (%u skipped)\n", bad ? "not " : "", i + 1, s[i].name, s[i].n[CASE_PASS],
			s[i].n[CASE_REFUSED], s[i].n[CASE_WRONG], s[i].n[CASE_CRASH],
			s[i].n[CASE_SKIP]);
		for (k = 0; k < s[i].nbad; k++)
			fprintf(tap, "# %s/%s\n", s[i].name, s[i].bad[k]);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: onnx_conformance [-t SECONDS] [-o TAP] [-l LOG] [DATA_DIR]\n"
			"       onnx_conformance -c CASE_DIR\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *data = DEFAULT_DATA, *tap_path = NULL, *log_path = NULL, *one = NULL;
	struct suite suites[16];
	struct dirent **dirs;
	unsigned int seconds = 10, ns = 0, i, bad = 0, tot[5] = { 0 };
	FILE *log = NULL, *tap;
	char why[1024];
	int opt, n;

	while ((opt = getopt(argc, argv, "t:o:l:c:")) != -1) {
		switch (opt) {
		case 't':
			seconds = (unsigned int)atoi(optarg);
			break;
		case 'o':
			tap_path = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'c':
			one = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind < argc)
		data = argv[optind];
	if (one) {
		enum case_result r = case_run(one, why, sizeof(why));

		printf("%s: %s\n", result_names[r], why);
		return r == CASE_WRONG || r == CASE_CRASH;
	}
	tap = tap_path ? fopen(tap_path, "w") : stdout;
	if (!tap)
		return perror(tap_path), 1;
	n = scandir(data, &dirs, only_dirs, alphasort);
	if (n <= 0) {
		fprintf(tap, "1..1\nnot ok 1 - conformance: no suite in %s "
			"(libonnx-testdata is installed by make deps)\n", data);
		fprintf(stderr, "onnx_conformance: no suite in %s\n", data);
		return 1;
	}
	if (log_path && !(log = fopen(log_path, "w")))
		return perror(log_path), 1;
	for (i = 0; i < (unsigned int)n; i++) {
		if (ns < sizeof(suites) / sizeof(suites[0])) {
			memset(&suites[ns], 0, sizeof(suites[ns]));
			snprintf(suites[ns].name, sizeof(suites[ns].name), "%.63s", dirs[i]->d_name);
			run_suite(data, &suites[ns], seconds, log);
			ns++;
		}
		free(dirs[i]);
	}
	free(dirs);
	printf("%-20s %6s %6s %8s %6s %6s %8s\n", "suite", "cases", "pass", "refused", "wrong",
	       "crash", "skipped");
	for (i = 0; i < ns; i++) {
		unsigned int k, all = 0;

		for (k = 0; k < 5; k++) {
			all += suites[i].n[k];
			tot[k] += suites[i].n[k];
		}
		printf("%-20s %6u %6u %8u %6u %6u %8u\n", suites[i].name, all, suites[i].n[0],
		       suites[i].n[1], suites[i].n[2], suites[i].n[3], suites[i].n[4]);
		bad += suites[i].n[CASE_WRONG] + suites[i].n[CASE_CRASH];
	}
	printf("%-20s %6u %6u %8u %6u %6u %8u\n", "all",
	       tot[0] + tot[1] + tot[2] + tot[3] + tot[4], tot[0], tot[1], tot[2], tot[3], tot[4]);
	qsort(keys, nkeys, sizeof(keys[0]), by_count);
	printf("refused, by op or type (cases):\n");
	for (i = 0; i < nkeys; i++)
		printf("%s%s %u%s", i % 8 ? " " : "  ", keys[i].key, keys[i].count,
		       i + 1 == nkeys || i % 8 == 7 ? "\n" : ",");
	write_tap(tap, suites, ns);
	if (tap != stdout)
		fclose(tap);
	if (log)
		fclose(log);
	return bad ? 1 : 0;
}
