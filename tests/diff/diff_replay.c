// SPDX-License-Identifier: MIT
/*
 * The differential test: seeded random scripts replayed on mmsim and on the
 * host kernel, whose transcripts must be identical line for line.
 *
 *	diff_replay [--scripts N] [--ops N] [--seed S] [--keep DIR]
 *
 * Script i uses seed S + i.  On a difference the script and the first
 * differing lines are printed (and the script saved as DIR/seed-N.script
 * with --keep, ready for 'mmsim replay'), and the run goes on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define CONTEXT_LINES	5

struct buffer {
	char *data;
	size_t size;
};

struct options {
	unsigned long scripts;
	unsigned long ops;
	uint64_t seed;
	const char *keep;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: diff_replay [--scripts N] [--ops N] [--seed S] "
		"[--keep DIR]\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	uint64_t v;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		}
		if (i + 1 >= argc)
			return -1;
		if (!strcmp(argv[i], "--keep")) {
			opt->keep = argv[++i];
			continue;
		}
		if (parse_u64(argv[i + 1], &v))
			return -1;
		if (!strcmp(argv[i], "--scripts") && v <= 100000000)
			opt->scripts = v;
		else if (!strcmp(argv[i], "--ops") && v <= 1000000)
			opt->ops = v;
		else if (!strcmp(argv[i], "--seed"))
			opt->seed = v;
		else
			return -1;
		i++;
	}
	return 0;
}

static int gen_script(uint64_t seed, int ops, struct buffer *script)
{
	FILE *f = open_memstream(&script->data, &script->size);

	if (!f)
		return -1;
	replay_gen_script(f, seed, ops);
	return fclose(f) ? -1 : 0;
}

/* Replay the script on a freshly reset backend into a memory buffer. */
static int run_script(const struct replay_backend *be, void *ctx,
		      const struct buffer *script, struct buffer *out)
{
	FILE *in, *f;

	in = fmemopen(script->data, script->size, "r");
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

/* Line n (from 0) of buf, its length in *len; NULL past the end. */
static const char *nth_line(const struct buffer *buf, size_t n, size_t *len)
{
	const char *p = buf->data, *end = buf->data + buf->size, *nl;

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		if (!n--) {
			*len = nl - p;
			return p;
		}
		p = nl + 1;
	}
	return NULL;
}

/* The first line (from 0) where a and b differ, or -1 if they are equal. */
static long first_difference(const struct buffer *a, const struct buffer *b)
{
	size_t common = a->size < b->size ? a->size : b->size;
	size_t i;
	long line = 0;

	for (i = 0; i < common && a->data[i] == b->data[i]; i++)
		if (a->data[i] == '\n')
			line++;
	if (i == a->size && i == b->size)
		return -1;
	return line;
}

static void print_line(const char *prefix, const struct buffer *buf, size_t n)
{
	size_t len;
	const char *line = nth_line(buf, n, &len);

	if (line)
		printf("%s%.*s\n", prefix, (int)len, line);
	else
		printf("%s<end of transcript>\n", prefix);
}

static void keep_script(const char *dir, uint64_t seed,
			const struct buffer *script)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%" PRIu64 ".script", dir, seed);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "diff_replay: %s: %s\n", path, strerror(errno));
		return;
	}
	fwrite(script->data, 1, script->size, f);
	if (fclose(f))
		fprintf(stderr, "diff_replay: %s: %s\n", path, strerror(errno));
	else
		printf("diff_replay: kept %s\n", path);
}

static void report(uint64_t seed, const struct buffer *script,
		   const struct buffer *sim, const struct buffer *host,
		   size_t line)
{
	size_t n = line > CONTEXT_LINES ? line - CONTEXT_LINES : 0;

	printf("diff_replay: seed %" PRIu64 ": transcripts differ at line %zu\n",
	       seed, line + 1);
	printf("--- script (seed %" PRIu64 ")\n", seed);
	fwrite(script->data, 1, script->size, stdout);
	printf("--- transcript: ' ' both, '-' mmsim, '+' kernel\n");
	for (; n < line; n++)
		print_line(" ", sim, n);
	print_line("-", sim, line);
	print_line("+", host, line);
	printf("---\n");
}

int main(int argc, char **argv)
{
	struct options opt = { .scripts = 100, .ops = 60, .seed = 1 };
	struct buffer script, sim, host;
	void *sim_ctx, *host_ctx;
	unsigned long i, passed = 0, failed = 0;
	uint64_t seed;
	long line;

	if (parse_options(argc, argv, &opt)) {
		usage(stderr);
		return 2;
	}
	sim_ctx = replay_backend_mmsim.open(4);
	host_ctx = replay_backend_native.open(4);
	if (!sim_ctx || !host_ctx) {
		fprintf(stderr, "diff_replay: cannot open the %s backend\n",
			sim_ctx ? "native" : "mmsim");
		return 2;
	}

	for (i = 0; i < opt.scripts; i++) {
		seed = opt.seed + i;
		memset(&script, 0, sizeof(script));
		memset(&sim, 0, sizeof(sim));
		memset(&host, 0, sizeof(host));
		if (gen_script(seed, opt.ops, &script) ||
		    run_script(&replay_backend_mmsim, sim_ctx, &script, &sim) ||
		    run_script(&replay_backend_native, host_ctx, &script, &host)) {
			fprintf(stderr, "diff_replay: seed %" PRIu64 ": out of "
				"memory\n", seed);
			failed++;
			goto next;
		}
		line = first_difference(&sim, &host);
		if (line < 0) {
			passed++;
			goto next;
		}
		failed++;
		report(seed, &script, &sim, &host, line);
		if (opt.keep)
			keep_script(opt.keep, seed, &script);
next:
		free(script.data);
		free(sim.data);
		free(host.data);
		fflush(stdout);
	}

	replay_backend_mmsim.close(sim_ctx);
	replay_backend_native.close(host_ctx);
	printf("diff_replay: %lu passed, %lu failed\n", passed, failed);
	return failed ? 1 : 0;
}
