/*
 * Commands that write migration files: new and merge.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "godwit/buf.h"
#include "godwit/cli.h"
#include "godwit/log.h"

/* "0007_add_email": the next number and a slug of the message. */
static char *make_id(const struct gw_ctx *ctx, const char *message)
{
	struct gw_buf b = GW_BUF_INIT;
	size_t slug = 0;
	unsigned long next = 1;

	/* One more than the highest numeric prefix so far (branches share numbers). */
	for (size_t i = 0; i < ctx->set.n; i++) {
		unsigned long n = strtoul(ctx->set.v[i].id, NULL, 10);

		if (n >= next)
			next = n + 1;
	}
	gw_buf_printf(&b, "%04lu_", next);
	for (const char *p = message; *p && slug < 40; p++) {
		if (isalnum((unsigned char)*p)) {
			gw_buf_putc(&b, (char)tolower((unsigned char)*p));
			slug++;
		} else if (b.data[b.len - 1] != '_') {
			gw_buf_putc(&b, '_');
			slug++;
		}
	}
	while (b.data[b.len - 1] == '_')
		b.data[--b.len] = '\0';
	return gw_buf_detach(&b);
}

static int write_file(struct gw_ctx *ctx, const char *id, json_t *parents, const char *message)
{
	char *path = gw_asprintf("%s/%s.json", ctx->migrations_dir, id);
	json_t *o = json_pack("{s:s, s:O, s:s, s:[]}", "id", id, "parents", parents, "message",
			      message, "operations");
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	FILE *f = NULL;
	int fd, rc = 0;

	if (!gw_migration_id_valid(id)) {
		rc = gw_usage_error(ctx, "invalid revision id '%s': use letters, digits and _", id);
		goto out;
	}
	if (gw_migration_set_find(&ctx->set, id)) {
		rc = gw_usage_error(ctx, "revision '%s' already exists", id);
		goto out;
	}
	if (mkdir(ctx->migrations_dir, 0777) < 0 && errno != EEXIST) {
		rc = gw_error_set(&ctx->err, GW_ERR_IO, "could not create directory '%s': %s",
				  ctx->migrations_dir, strerror(errno));
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		rc = gw_error_set(&ctx->err, GW_ERR_IO, "could not create '%s': %s", path,
				  strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (fprintf(f, "%s\n", text) < 0 || fclose(f) != 0)
		rc = gw_error_set(&ctx->err, GW_ERR_IO, "could not write '%s': %s", path,
				  strerror(errno));
	f = NULL;
	if (rc == 0)
		printf("%s\n", path);
out:
	free(text);
	json_decref(o);
	free(path);
	return rc;
}

/* Split argv into -m/--message, --id and positional arguments. */
static int parse(struct gw_ctx *ctx, int argc, char **argv, const char **message,
		 const char **id, char **pos, int *npos)
{
	*npos = 0;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--message") == 0) &&
		    i + 1 < argc) {
			*message = argv[++i];
		} else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc) {
			*id = argv[++i];
		} else if (argv[i][0] == '-' && strcmp(argv[i], "--") != 0) {
			return gw_usage_error(ctx, "unknown option '%s'", argv[i]);
		} else if (strcmp(argv[i], "--") != 0) {
			pos[(*npos)++] = argv[i];
		}
	}
	return 0;
}

int cmd_new(int argc, char **argv, struct gw_ctx *ctx)
{
	const char *message = NULL, *id = NULL;
	char **pos = gw_calloc((size_t)argc, sizeof(char *));
	size_t *heads = NULL, nheads;
	json_t *parents = json_array();
	char *made = NULL;
	int npos, rc;

	rc = parse(ctx, argc, argv, &message, &id, pos, &npos);
	if (rc < 0)
		goto out;
	if (npos == 1 && !message)
		message = pos[0];
	else if (npos > 0)
		rc = gw_usage_error(ctx, "expected one MESSAGE");
	if (rc == 0 && !message)
		rc = gw_usage_error(ctx, "missing MESSAGE");
	if (rc == 0)
		rc = gw_migration_set_load(ctx->migrations_dir, true, &ctx->set, &ctx->err);
	if (rc == 0)
		rc = gw_graph_build(&ctx->set, &ctx->graph, &ctx->err);
	if (rc < 0)
		goto out;
	heads = gw_calloc(ctx->graph.n + 1, sizeof(size_t));
	nheads = gw_graph_heads(&ctx->graph, heads);
	if (nheads > 1) {
		rc = gw_error_set(&ctx->err, GW_ERR_GRAPH, "there are %zu heads", nheads);
		gw_error_hint(&ctx->err, "merge them first: godwit merge heads -m \"merge\"");
		goto out;
	}
	if (nheads == 1)
		json_array_append_new(parents, json_string(ctx->graph.node[heads[0]]->id));
	if (!id)
		id = made = make_id(ctx, message);
	rc = write_file(ctx, id, parents, message);
out:
	free(made);
	free(heads);
	free(pos);
	json_decref(parents);
	return rc;
}

int cmd_merge(int argc, char **argv, struct gw_ctx *ctx)
{
	const char *message = NULL, *id = NULL;
	char **pos = gw_calloc((size_t)argc, sizeof(char *));
	size_t *heads = gw_calloc(ctx->graph.n + 1, sizeof(size_t));
	json_t *parents = json_array();
	char *made = NULL;
	int npos, rc;

	rc = parse(ctx, argc, argv, &message, &id, pos, &npos);
	if (rc < 0)
		goto out;
	if (!message) {
		rc = gw_usage_error(ctx, "missing -m MESSAGE");
		goto out;
	}
	for (int i = 0; i < npos; i++) {
		size_t idx, n = 1;

		if (strcmp(pos[i], "heads") == 0) {
			n = gw_graph_heads(&ctx->graph, heads);
		} else {
			rc = gw_graph_find(&ctx->graph, pos[i], &idx, &ctx->err);
			if (rc < 0)
				goto out;
			heads[0] = idx;
		}
		for (size_t k = 0; k < n; k++)
			json_array_append_new(parents, json_string(ctx->graph.node[heads[k]]->id));
	}
	if (json_array_size(parents) < 2) {
		rc = gw_usage_error(ctx, "a merge needs at least two revisions");
		goto out;
	}
	if (!id) {
		char *slug = gw_asprintf("merge %s", message);

		id = made = make_id(ctx, slug);
		free(slug);
	}
	rc = write_file(ctx, id, parents, message);
out:
	free(made);
	free(heads);
	free(pos);
	json_decref(parents);
	return rc;
}
