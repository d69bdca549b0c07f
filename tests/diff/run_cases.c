// SPDX-License-Identifier: MIT
/*
 * Hand-written replay cases: every DIR/NAME.script is replayed on one
 * backend and its transcript compared byte for byte with DIR/NAME.expected,
 * which the host kernel produced.
 *
 *	run_cases --mmsim|--native DIR
 *	run_cases --native --update DIR	(re)write the .expected files
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define SCRIPT_SUFFIX	".script"
#define EXPECTED_SUFFIX	".expected"

struct buffer {
	char *data;
	size_t size;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: run_cases --mmsim|--native DIR\n"
		"       run_cases --native --update DIR\n");
}

static int is_script(const struct dirent *d)
{
	size_t len = strlen(d->d_name), slen = strlen(SCRIPT_SUFFIX);

	return len > slen && !strcmp(d->d_name + len - slen, SCRIPT_SUFFIX);
}

static int read_file(const char *path, struct buffer *buf)
{
	FILE *f = fopen(path, "r"), *mem;
	char chunk[8192];
	size_t n;

	buf->data = NULL;
	buf->size = 0;
	if (!f)
		return -1;
	mem = open_memstream(&buf->data, &buf->size);
	if (!mem) {
		fclose(f);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, mem);
	if (ferror(f)) {
		fclose(f);
		fclose(mem);
		free(buf->data);
		buf->data = NULL;
		return -1;
	}
	fclose(f);
	return fclose(mem) ? -1 : 0;
}

/* Replay path on a freshly reset backend, transcript into out. */
static int run_script(const struct replay_backend *be, void *ctx,
		      const char *path, struct buffer *out)
{
	FILE *in, *f;

	out->data = NULL;
	out->size = 0;
	in = fopen(path, "r");
	if (!in)
		return -1;
	f = open_memstream(&out->data, &out->size);
	if (!f) {
		fclose(in);
		return -1;
	}
	be->reset(ctx);
	replay_run(in, f, be, ctx);
	fclose(in);
	return fclose(f) ? -1 : 0;
}

static int write_file(const char *path, const struct buffer *buf)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	if (fwrite(buf->data, 1, buf->size, f) != buf->size) {
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

/* Print line n (from 1) of buf, or that it does not exist. */
static void print_line(const char *what, const struct buffer *buf,
		       const char *line, unsigned long n)
{
	const char *end = buf->data + buf->size, *nl;

	if (line >= end) {
		printf("  %-8s <end of file>\n", what);
		return;
	}
	nl = memchr(line, '\n', end - line);
	if (!nl)
		nl = end;
	printf("  %-8s line %lu: %.*s\n", what, n, (int)(nl - line), line);
}

/* Report the first line where the transcript differs from the expected. */
static void show_difference(const struct buffer *expected,
			    const struct buffer *got)
{
	size_t common = expected->size < got->size ? expected->size : got->size;
	size_t i, start = 0;
	unsigned long line = 1;

	for (i = 0; i < common && expected->data[i] == got->data[i]; i++) {
		if (expected->data[i] == '\n') {
			line++;
			start = i + 1;
		}
	}
	print_line("expected", expected, expected->data + start, line);
	print_line("got", got, got->data + start, line);
}

/* Returns 0 if the case passed (or was updated). */
static int run_case(const struct replay_backend *be, void *ctx,
		    const char *dir, const char *file, bool update)
{
	size_t base = strlen(file) - strlen(SCRIPT_SUFFIX);
	struct buffer got, expected = { NULL, 0 };
	char script[4096], want[4096];
	int ret = -1;

	snprintf(script, sizeof(script), "%s/%s", dir, file);
	snprintf(want, sizeof(want), "%s/%.*s%s", dir, (int)base, file,
		 EXPECTED_SUFFIX);

	if (run_script(be, ctx, script, &got)) {
		printf("FAIL %.*s\n  cannot replay %s: %s\n", (int)base, file,
		       script, strerror(errno));
		goto out;
	}
	if (update) {
		if (write_file(want, &got)) {
			printf("FAIL %.*s\n  cannot write %s: %s\n", (int)base,
			       file, want, strerror(errno));
			goto out;
		}
		printf("UPDATED %.*s\n", (int)base, file);
		ret = 0;
		goto out;
	}
	if (read_file(want, &expected)) {
		printf("FAIL %.*s\n  cannot read %s: %s\n", (int)base, file,
		       want, strerror(errno));
		goto out;
	}
	if (got.size == expected.size &&
	    !memcmp(got.data, expected.data, got.size)) {
		printf("PASS %.*s\n", (int)base, file);
		ret = 0;
		goto out;
	}
	printf("FAIL %.*s\n", (int)base, file);
	show_difference(&expected, &got);
out:
	free(got.data);
	free(expected.data);
	return ret;
}

int main(int argc, char **argv)
{
	const struct replay_backend *be = NULL;
	const char *dir = NULL;
	struct dirent **names;
	bool update = false;
	int i, n, passed = 0, failed = 0;
	void *ctx;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--mmsim"))
			be = &replay_backend_mmsim;
		else if (!strcmp(argv[i], "--native"))
			be = &replay_backend_native;
		else if (!strcmp(argv[i], "--update"))
			update = true;
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else
			goto bad_usage;
	}
	/* Only the kernel may say what is expected. */
	if (!be || !dir || (update && be != &replay_backend_native))
		goto bad_usage;

	n = scandir(dir, &names, is_script, alphasort);
	if (n < 0) {
		fprintf(stderr, "run_cases: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	ctx = be->open(4);
	if (!ctx) {
		fprintf(stderr, "run_cases: cannot open the %s backend\n",
			be->name);
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		if (run_case(be, ctx, dir, names[i]->d_name, update))
			failed++;
		else
			passed++;
		fflush(stdout);
	}
	be->close(ctx);
out_free:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	printf("run_cases: %d passed, %d failed\n", passed, failed);
	if (!n)
		fprintf(stderr, "run_cases: no %s files in %s\n",
			SCRIPT_SUFFIX, dir);
	return failed || !n || !ctx ? 1 : 0;

bad_usage:
	usage(stderr);
	return 2;
}
