/*
 * pricesync: the command-line tool (SPEC §6). main finds the command in
 * the table below and parses its whole command line first, so a usage error
 * touches nothing; only then it loads the config, opens the store and runs
 * the command's function, which does its one job and returns an exit code:
 * 0 done, 1 failed (a message on stderr), 2 the command line does not
 * parse, 3 a sync that completed with some symbols failed.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "backfill-cmd.h"
#include "buf.h"
#include "conf.h"
#include "csvimport.h"
#include "histargs.h"
#include "profile.h"
#include "progress.h"
#include "store.h"
#include "symbol.h"
#include "sync.h"
#include "table.h"
#include "view.h"

#define EX_FAIL 1
#define EX_USAGE 2
#define EX_PARTIAL 3

static const char usage_text[] =
        "usage: pricesync COMMAND [OPTIONS]\n"
        "\n"
        "  add SYMBOL... [--quantity N] [--currency CCY] [--refresh-profile]\n"
        "  remove SYMBOL...\n"
        "  list [--json]\n"
        "  sync [--json]\n"
        "  status\n"
        "  history SYMBOL [--csv] [--daily] [--from ISO] [--to ISO] "
        "[--limit N]\n"
        "  import FILE.csv          one symbol[,quantity[,currency]] a line\n"
        "  backfill [SYMBOL...] [--days N] [--json]   daily closes\n"
        "\n"
        "Config: $PRICESYNC_CONFIG, else " SYSCONFDIR "/pricesync.conf\n"
        "(see pricesync.conf(5)). Exit: 0 ok, 1 failure, 2 usage, 3 sync\n"
        "completed with failed symbols. See pricesync(1).\n";

static int
fail(const struct ps_err *err)
{
	fputs("pricesync: ", stderr);
	table_text(stderr, err->msg);
	fputc('\n', stderr);
	return EX_FAIL;
}

/* fmt has one %s, for arg, which is quoted: it is what the user typed. */
static int
usage_error(const char *fmt, const char *arg)
{
	char q[PS_QUOTE_SIZE];

	fputs("pricesync: ", stderr);
	fprintf(stderr, fmt, ps_err_quote(arg, q));
	fputs("\nTry 'pricesync --help'.\n", stderr);
	return EX_USAGE;
}

/* stdout as the writer of a document (lib/view.h). */
static int
stdout_out(const char *p, size_t n, void *arg)
{
	return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

static const struct ps_view_sink to_stdout = {NULL, stdout_out, NULL};

/* The end of a document a view wrote to stdout, returning rc: a newline,
 * or, when it failed, the message (after what went out of it). */
static int
streamed(int rc, const struct ps_err *err)
{
	if (rc < 0) {
		fflush(stdout);
		return fail(err);
	}
	putchar('\n');
	return fflush(stdout) == 0 ? 0 : EX_FAIL;
}

/* ---- option parsing shared by the commands ---- */

enum {
	OPT_JSON = 1,
	OPT_CSV,
	OPT_FROM,
	OPT_TO,
	OPT_LIMIT,
	OPT_QUANTITY,
	OPT_CURRENCY,
	OPT_REFRESH,
	OPT_DAILY,
	OPT_DAYS,
	OPT_HELP /* the last: bad_option() tells these from letters by it */
};

#define OPT(x) (1u << (x))

struct opts {
	int json, csv, refresh, daily;
	const char *from, *to, *limit, *quantity, *currency, *days;
};

static const struct option long_opts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"csv", no_argument, NULL, OPT_CSV},
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"quantity", required_argument, NULL, OPT_QUANTITY},
        {"currency", required_argument, NULL, OPT_CURRENCY},
        {"refresh-profile", no_argument, NULL, OPT_REFRESH},
        {"daily", no_argument, NULL, OPT_DAILY},
        {"days", required_argument, NULL, OPT_DAYS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0}};

/* The usage error for what getopt_long refused (ch '?' or ':'). */
static int
bad_option(int ch, char **argv)
{
	char opt[3] = {'-', (char)optopt, '\0'};

	if (ch == ':')
		return usage_error("option '%s' needs an argument",
		                   argv[optind - 1]);
	/* optopt: 0 for an unknown long option, the letter for an unknown
	 * short one, our value for a long one given an argument it takes
	 * not. */
	if (optopt == 0)
		return usage_error("unknown option '%s'", argv[optind - 1]);
	if (optopt < OPT_JSON || optopt > OPT_HELP)
		return usage_error("unknown option '%s'", opt);
	return usage_error("option '%s' takes no argument", argv[optind - 1]);
}

static void
set_opt(struct opts *o, int ch)
{
	switch (ch) {
	case OPT_JSON:
		o->json = 1;
		break;
	case OPT_CSV:
		o->csv = 1;
		break;
	case OPT_FROM:
		o->from = optarg;
		break;
	case OPT_TO:
		o->to = optarg;
		break;
	case OPT_LIMIT:
		o->limit = optarg;
		break;
	case OPT_QUANTITY:
		o->quantity = optarg;
		break;
	case OPT_CURRENCY:
		o->currency = optarg;
		break;
	case OPT_REFRESH:
		o->refresh = 1;
		break;
	case OPT_DAILY:
		o->daily = 1;
		break;
	case OPT_DAYS:
		o->days = optarg;
		break;
	}
}

/* Parses argv with the options in `allowed` (OPT() bits) and leaves the
 * operands at argv[optind..]. -1 on a usage error (printed). */
static int
parse_opts(int argc, char **argv, unsigned allowed, struct opts *o)
{
	char name[40];
	int ch, idx;

	memset(o, 0, sizeof(*o));
	optind = 0; /* 0, not 1: glibc then resets its state fully */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", long_opts, &idx)) != -1) {
		if (ch == '?' || ch == ':')
			return bad_option(ch, argv), -1;
		if (ch == 'h' || ch == OPT_HELP)
			continue; /* main has answered --help already */
		if (!(allowed & OPT(ch))) {
			snprintf(name, sizeof(name), "--%s",
			         long_opts[idx].name);
			return usage_error("unknown option '%s'", name), -1;
		}
		set_opt(o, ch);
	}
	return 0;
}

/* Normalises every symbol first, so one bad symbol writes nothing, and
 * drops repeats (after upper-casing: AAPL and aapl are one symbol).
 * Returns the number kept in out, or -1. */
static int
normalize_all(char **in, int n, char (*out)[PS_SYMBOL_MAX + 1],
              struct ps_err *err)
{
	int i, j, kept = 0;

	for (i = 0; i < n; i++) {
		if (ps_symbol_normalize(in[i], out[kept], err) < 0)
			return -1;
		for (j = 0; j < kept; j++)
			if (strcmp(out[j], out[kept]) == 0)
				break;
		if (j == kept)
			kept++;
	}
	return kept;
}

/* ---- commands: each gets the parsed options and its operands ---- */

/* What every command gets: the parsed config and an open store. */
struct ctx {
	struct ps_conf conf;
	struct ps_store *store;
};

/* The operands as normalised, distinct symbols: *syms and *names (borrowed
 * from *syms) are malloc'd, the caller frees both. Returns the count or
 * -1. */
static int
symbols_of(int n, char **ops, char (**syms)[PS_SYMBOL_MAX + 1],
           const char ***names, struct ps_err *err)
{
	int i, kept;

	*syms = calloc((size_t)n, sizeof(**syms));
	*names = calloc((size_t)n, sizeof(**names));
	if (*syms == NULL || *names == NULL)
		return ps_err_set(err, PS_ENOMEM, "out of memory");
	kept = normalize_all(ops, n, *syms, err);
	for (i = 0; i < kept; i++)
		(*names)[i] = (*syms)[i];
	return kept;
}

/* Adds (or updates) the symbols in one write transaction. */
static int
add_symbols(struct ps_store *s, const struct ps_symrec *recs, size_t n,
            struct ps_err *err)
{
	struct ps_txn *t;

	if (ps_txn_begin(s, 1, &t, err) < 0)
		return -1;
	if (ps_store_sym_add(t, recs, n, err) < 0) {
		ps_txn_abort(&t);
		return -1;
	}
	return ps_txn_commit(&t, err);
}

/* Removes all of them or, when one is not there, none. */
static int
remove_symbols(struct ps_store *s, const char *const *names, size_t n,
               struct ps_err *err)
{
	struct ps_txn *t;

	if (ps_txn_begin(s, 1, &t, err) < 0)
		return -1;
	if (ps_store_sym_remove(t, names, n, err) < 0) {
		ps_txn_abort(&t);
		return -1;
	}
	return ps_txn_commit(&t, err);
}

static int
cmd_add(struct ctx *cx, const struct opts *o, int nops, char **ops)
{
	struct ps_err err;
	char(*syms)[PS_SYMBOL_MAX + 1] = NULL;
	const char **names = NULL;
	struct ps_symrec *recs = NULL;
	char ccy[PS_CCY_MAX] = "";
	double qty = NAN;
	int n, i, rc = -1;

	if ((o->quantity && ps_quantity_parse(o->quantity, &qty, &err) < 0) ||
	    (o->currency && ps_currency_normalize(o->currency, ccy, &err) < 0))
		return fail(&err);
	n = symbols_of(nops, ops, &syms, &names, &err);
	if (n < 0)
		goto free_syms;
	recs = calloc((size_t)n, sizeof(*recs));
	if (recs == NULL) {
		ps_err_set(&err, PS_ENOMEM, "out of memory");
		goto free_syms;
	}
	for (i = 0; i < n; i++) {
		ps_symrec_init(&recs[i], syms[i]);
		recs[i].quantity = qty;
		if (ccy[0] != '\0') {
			memcpy(recs[i].currency, ccy, sizeof(ccy));
			recs[i].currency_src = PS_CCY_USER;
		}
	}
	if (add_symbols(cx->store, recs, (size_t)n, &err) < 0 ||
	    (o->refresh && ccy[0] == '\0' &&
	     ps_profile_refresh(&cx->conf, cx->store, names, (size_t)n, &err) <
	             0))
		goto free_syms;
	rc = 0;
free_syms:
	free(recs);
	free(names);
	free(syms);
	return rc == 0 ? 0 : fail(&err);
}

static int
cmd_remove(struct ctx *cx, const struct opts *o, int nops, char **ops)
{
	struct ps_err err;
	char(*syms)[PS_SYMBOL_MAX + 1] = NULL;
	const char **names = NULL;
	int n, rc = -1;

	n = symbols_of(nops, ops, &syms, &names, &err);
	if (n >= 0)
		rc = remove_symbols(cx->store, names, (size_t)n, &err);
	free(names);
	free(syms);
	return rc == 0 ? 0 : fail(&err);
}

static int
cmd_list(struct ctx *cx, const struct opts *o, int nops, char **ops)
{
	struct ps_txn *t;
	struct ps_err err;
	char *doc;
	int rc;

	if (ps_txn_begin(cx->store, 0, &t, &err) < 0)
		return fail(&err);
	if (o->json) {
		rc = ps_view_prices_write(t, &to_stdout, &err);
		ps_txn_abort(&t);
		return streamed(rc, &err);
	}
	doc = ps_view_prices(t, &err);
	ps_txn_abort(&t);
	if (doc == NULL)
		return fail(&err);
	rc = table_print(stdout, doc) < 0 || fflush(stdout) != 0 ? EX_FAIL : 0;
	free(doc);
	return rc;
}

struct sync_out {
	int tty;
	int code; /* exit code from the terminal event */
};

static void
on_event(const struct ps_event *ev, void *arg)
{
	struct sync_out *so = arg;

	if (ev->type == PS_EV_COMPLETE)
		so->code = ev->failed > 0 ? EX_PARTIAL : 0;
	else if (ev->type == PS_EV_ERROR)
		so->code = EX_FAIL;
	if (so->tty) {
		progress_draw(stdout, stderr, ev);
		return;
	}
	char *line = ps_event_json(ev);

	/* A reader that went away must not stop the sync: write errors are
	 * ignored (SIGPIPE is too) and the sync commits to its end. */
	if (line != NULL) {
		fprintf(stdout, "%s\n", line);
		fflush(stdout);
	}
	free(line);
}

static struct sync_out
sync_out_for(const struct opts *o)
{
	struct sync_out so = {!o->json && isatty(STDOUT_FILENO), EX_FAIL};

	return so;
}

static int
cmd_sync(struct ctx *cx, const struct opts *o, int nops, char **ops)
{
	struct ps_err err;
	struct sync_out so = sync_out_for(o);

	ps_sync_run(&cx->conf, cx->store, NULL, on_event, &so, &err);
	return so.code;
}

/* A sync that cannot even load its config or open its store ends like one
 * that the pipeline refused (SPEC §6): its error event on stdout when not
 * on a terminal, so cron and scripts read one format. */
static int
sync_not_started(const struct opts *o, const struct ps_err *err)
{
	struct sync_out so = sync_out_for(o);
	struct ps_event ev = {.type = PS_EV_ERROR};

	ev.code = err->code;
	ev.message = err->msg;
	on_event(&ev, &so);
	return so.code;
}

static int
cmd_status(struct ctx *cx, const struct opts *o, int nops, char **ops)
{
	struct ps_err err;

	return streamed(
	        ps_view_status_write(cx->store, time(NULL), &to_stdout, &err),
	        &err);
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int
print_csv(const char *json)
{
	cJSON *doc = cJSON_Parse(json), *p;

	if (doc == NULL)
		return EX_FAIL;
	puts("time,price");
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "points"))
	{
		const cJSON *price = cJSON_GetObjectItem(p, "price");
		char num[PS_DOUBLE_LEN];

		printf("%s,%s\n", jstr(p, "time"),
		       ps_fmt_double(num, cJSON_IsNumber(price)
		                                  ? price->valuedouble
		                                  : NAN));
	}
	cJSON_Delete(doc);
	return fflush(stdout) == 0 ? 0 : EX_FAIL;
}

static int
cmd_history(struct ctx *cx, const struct opts *o, int nops, char **ops)
{
	struct ps_txn *t;
	struct ps_err err;
	struct ps_histargs a;
	char sym[PS_SYMBOL_MAX + 1], *doc;
	int rc;

	ps_histargs_init(&a);
	a.daily = o->daily;
	if ((o->limit != NULL && ps_histargs_set(&a, PS_HIST_LIMIT, "--limit",
	                                         o->limit, &err) < 0) ||
	    ps_symbol_normalize(ops[0], sym, &err) < 0 ||
	    (o->from != NULL &&
	     ps_histargs_set(&a, PS_HIST_FROM, "--from", o->from, &err) < 0) ||
	    (o->to != NULL &&
	     ps_histargs_set(&a, PS_HIST_TO, "--to", o->to, &err) < 0) ||
	    ps_histargs_check(&a, "--from and --to", &err) < 0)
		return fail(&err);
	if (ps_txn_begin(cx->store, 0, &t, &err) < 0)
		return fail(&err);
	if (!o->csv) {
		rc = ps_view_history_write(t, sym, a.from, a.to, a.limit,
		                           a.daily, &to_stdout, &err);
		ps_txn_abort(&t);
		return streamed(rc, &err);
	}
	doc = ps_view_history(t, sym, a.from, a.to, a.limit, a.daily, &err);
	ps_txn_abort(&t);
	if (doc == NULL)
		return fail(&err);
	rc = print_csv(doc);
	free(doc);
	return rc;
}

/* ---- import: symbol[,quantity[,currency]] per line ---- */

/* The whole file in memory: the parser wants bytes and a length, and a
 * portfolio file is small. */
static int
read_all(FILE *f, const char *path, struct ps_buf *b, struct ps_err *err)
{
	char chunk[8192], q[PS_QUOTE_SIZE];
	size_t got;

	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (ps_buf_append(b, chunk, got) < 0)
			return ps_err_set(err, PS_ENOMEM, "out of memory");
	if (ferror(f))
		return ps_err_set(err, PS_EINVALID, "%s: %s",
		                  ps_err_quote(path, q), strerror(errno));
	return 0;
}

static int
cmd_import(struct ctx *cx, const struct opts *o, int nops, char **ops)
{
	struct ps_err err;
	struct ps_symrec *recs = NULL;
	struct ps_buf data = {0};
	const char *path = ops[0];
	char q[PS_QUOTE_SIZE];
	size_t n = 0;
	FILE *f;
	int rc;

	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (f == NULL) {
		ps_err_set(&err, PS_EINVALID, "%s: %s", ps_err_quote(path, q),
		           strerror(errno));
		return fail(&err);
	}
	rc = read_all(f, path, &data, &err);
	if (f != stdin)
		fclose(f);
	if (rc == 0)
		rc = ps_csvimport_parse(data.data, data.len, path, &recs, &n,
		                        &err);
	ps_buf_free(&data);
	if (rc == 0 && n > 0)
		rc = add_symbols(cx->store, recs, n, &err);
	free(recs);
	if (rc < 0)
		return fail(&err);
	fprintf(stderr, "pricesync: imported %zu symbol%s\n", n,
	        n == 1 ? "" : "s");
	return 0;
}

static int
cmd_backfill(struct ctx *cx, const struct opts *o, int nops, char **ops)
{
	return cli_backfill(&cx->conf, cx->store, o->days, o->json, nops, ops);
}

/* ---- the table of contents ---- */

static const struct command {
	const char *name;
	unsigned opts;        /* OPT() bits */
	int min_ops, max_ops; /* operands; max -1: no limit */
	const char *operand;  /* their name, for usage errors */
	int (*run)(struct ctx *, const struct opts *, int, char **);
	/* how a failure before run (config, store) is reported; NULL: a
	 * message on stderr */
	int (*not_started)(const struct opts *, const struct ps_err *);
	const char *help;
} commands[] = {
        {"add", OPT(OPT_QUANTITY) | OPT(OPT_CURRENCY) | OPT(OPT_REFRESH), 1, -1,
         "SYMBOL", cmd_add, NULL,
         "usage: pricesync add SYMBOL... [--quantity N] [--currency CCY] "
         "[--refresh-profile]\n"
         "Adds symbols, or updates the quantity/currency of ones present.\n"},
        {"remove", 0, 1, -1, "SYMBOL", cmd_remove, NULL,
         "usage: pricesync remove SYMBOL...\n"
         "Deletes symbols and their history.\n"},
        {"list", OPT(OPT_JSON), 0, 0, NULL, cmd_list, NULL,
         "usage: pricesync list [--json]\n"
         "Prints every symbol's stored quote, GBP value and holding value.\n"},
        {"sync", OPT(OPT_JSON), 0, 0, NULL, cmd_sync, sync_not_started,
         "usage: pricesync sync [--json]\n"
         "Fetches every symbol's quote and the fx rate. On a terminal: a\n"
         "progress bar; with --json or piped: NDJSON events. Exit 0 all\n"
         "updated, 3 some failed, 1 error.\n"},
        {"status", 0, 0, 0, NULL, cmd_status, NULL,
         "usage: pricesync status\n"
         "Prints the status JSON (last sync, running, fx, last result).\n"},
        {"history",
         OPT(OPT_CSV) | OPT(OPT_FROM) | OPT(OPT_TO) | OPT(OPT_LIMIT) |
                 OPT(OPT_DAILY),
         1, 1, "SYMBOL", cmd_history, NULL,
         "usage: pricesync history SYMBOL [--csv] [--daily] [--from ISO] "
         "[--to ISO] [--limit N]\n"
         "Prints a symbol's stored prices, oldest first (newest N, default "
         "1000).\n"
         "--daily: one point per UTC date (its last); N then counts dates.\n"},
        {"import", 0, 1, 1, "FILE", cmd_import, NULL,
         "usage: pricesync import FILE.csv\n"
         "Adds symbol[,quantity[,currency]] lines; '#' comments, an optional\n"
         "header; any bad line refuses the whole file.\n"},
        {"backfill", OPT(OPT_DAYS) | OPT(OPT_JSON), 0, -1, "SYMBOL",
         cmd_backfill, sync_not_started, BACKFILL_HELP},
};

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

/* The whole command line, before anything is read or created. */
static int
parse_command(const struct command *cmd, int argc, char **argv, struct opts *o)
{
	char msg[80];
	int nops;

	if (parse_opts(argc, argv, cmd->opts, o) < 0)
		return -1;
	nops = argc - optind;
	if (nops < cmd->min_ops) {
		snprintf(msg, sizeof(msg), "%s: missing %s", cmd->name,
		         cmd->operand);
		return usage_error("%s", msg), -1;
	}
	if (cmd->max_ops >= 0 && nops > cmd->max_ops) {
		if (cmd->max_ops > 0) {
			snprintf(msg, sizeof(msg), "%s: one %s only", cmd->name,
			         cmd->operand);
			return usage_error("%s", msg), -1;
		}
		snprintf(msg, sizeof(msg), "%s: unexpected argument '%%s'",
		         cmd->name);
		return usage_error(msg, argv[optind]), -1;
	}
	return 0;
}

static int
not_started(const struct command *cmd, const struct opts *o,
            const struct ps_err *err)
{
	return cmd->not_started ? cmd->not_started(o, err) : fail(err);
}

static int
run_command(const struct command *cmd, int argc, char **argv)
{
	struct ctx cx = {0};
	struct opts o;
	struct ps_err err;
	int rc;

	if (parse_command(cmd, argc, argv, &o) < 0)
		return EX_USAGE;
	if (ps_conf_load(&cx.conf, NULL, &err) < 0)
		return not_started(cmd, &o, &err);
	for (int i = 0; i < cx.conf.nwarnings; i++) {
		fputs("pricesync: warning: ", stderr);
		table_text(stderr, cx.conf.warnings[i]);
		fputc('\n', stderr);
	}
	if (ps_store_open(&cx.store, cx.conf.db_path, cx.conf.map_size_mb,
	                  &err) < 0) {
		ps_conf_free(&cx.conf);
		return not_started(cmd, &o, &err);
	}
	rc = cmd->run(&cx, &o, argc - optind, argv + optind);
	ps_store_close(&cx.store);
	ps_conf_free(&cx.conf);
	return rc;
}

int
main(int argc, char **argv)
{
	const struct command *cmd;
	int rc;

	if (argc < 2)
		return usage_error("%s", "missing COMMAND");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("pricesync " PACKAGE_VERSION);
		return 0;
	}
	cmd = find_command(argv[1]);
	if (cmd == NULL)
		return usage_error("unknown command '%s'", argv[1]);
	if (wants_help(argc - 1, argv + 1)) {
		fputs(cmd->help, stdout);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("pricesync: curl_global_init failed\n", stderr);
		return EX_FAIL;
	}
	rc = run_command(cmd, argc - 1, argv + 1);
	curl_global_cleanup();
	return rc;
}
