/*
 * backfill-cmd: see backfill-cmd.h. Normalises every SYMBOL first so a
 * bad one starts nothing, then prints the events as `sync` does: a
 * progress bar on a terminal, NDJSON otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backfill-cmd.h"
#include "backfill.h"
#include "histargs.h"
#include "progress.h"
#include "symbol.h"
#include "table.h"

#define EX_FAIL 1
#define EX_PARTIAL 3

struct out {
	int tty;
	int code;
};

static void
on_event(const struct ps_event *ev, void *arg)
{
	struct out *o = arg;
	char *line;

	if (ev->type == PS_EV_COMPLETE)
		o->code = ev->failed > 0 ? EX_PARTIAL : 0;
	else if (ev->type == PS_EV_ERROR)
		o->code = EX_FAIL;
	if (o->tty && ev->type == PS_EV_ERROR) {
		/* progress_draw would call it a sync. */
		if (ev->started)
			fputc('\n', stdout);
		fflush(stdout);
		fprintf(stderr, "pricesync: backfill failed (%s): ",
		        ps_code_name(ev->code));
		table_text(stderr, ev->message);
		fputc('\n', stderr);
		return;
	}
	if (o->tty) {
		progress_draw(stdout, stderr, ev);
		return;
	}
	/* Write errors are ignored: the backfill commits to its end. */
	line = ps_event_json(ev);
	if (line != NULL) {
		fprintf(stdout, "%s\n", line);
		fflush(stdout);
	}
	free(line);
}

static int
parse_days(const char *s, int *days)
{
	struct ps_err err;

	if (ps_histargs_days("--days", s, days, &err) < 0) {
		fputs("pricesync: ", stderr);
		table_text(stderr, err.msg);
		fputc('\n', stderr);
		return -1;
	}
	return 0;
}

int
cli_backfill(const struct ps_conf *c, struct ps_store *s, const char *days,
             int json, int nops, char **ops)
{
	struct ps_backfill_opts bo = {0};
	struct out o = {0, EX_FAIL};
	struct ps_err err;
	char(*syms)[PS_SYMBOL_MAX + 1] = NULL;
	const char **names = NULL;
	int i, j, n = 0;

	if (days != NULL && parse_days(days, &bo.days) < 0)
		return EX_FAIL;
	if (nops > 0) {
		syms = calloc((size_t)nops, sizeof(*syms));
		names = calloc((size_t)nops, sizeof(*names));
		if (syms == NULL || names == NULL) {
			fputs("pricesync: out of memory\n", stderr);
			goto free_names;
		}
	}
	/* Every SYMBOL first, so a bad one starts nothing; repeats once. */
	for (i = 0; i < nops; i++) {
		if (ps_symbol_normalize(ops[i], syms[n], &err) < 0) {
			fputs("pricesync: ", stderr);
			table_text(stderr, err.msg);
			fputc('\n', stderr);
			goto free_names;
		}
		for (j = 0; j < n && strcmp(syms[j], syms[n]) != 0; j++)
			;
		if (j == n)
			names[n] = syms[n], n++;
	}
	bo.symbols = names;
	bo.nsymbols = (size_t)n;
	o.tty = !json && isatty(STDOUT_FILENO);
	ps_backfill_run(c, s, &bo, on_event, &o, &err);
free_names:
	free(names);
	free(syms);
	return o.code;
}
