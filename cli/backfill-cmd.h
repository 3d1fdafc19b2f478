/*
 * backfill-cmd: the `pricesync backfill` command (SPEC §6), kept apart
 * from pricesync.c, whose table only names it (and parses its options).
 */
#ifndef PS_CLI_BACKFILL_CMD_H
#define PS_CLI_BACKFILL_CMD_H

#include "conf.h"
#include "store.h"

#define BACKFILL_HELP                                                          \
	"usage: pricesync backfill [SYMBOL...] [--days N] [--json]\n"          \
	"Fetches daily closes: with no SYMBOL for every symbol not yet\n"      \
	"backfilled, else for the ones named (again); and the fx rates\n"      \
	"they use. --days N (1..36500) overrides history_days. On a\n"         \
	"terminal: a progress bar; with --json or piped: NDJSON events.\n"     \
	"Exit 0 all done, 3 some failed, 1 error.\n"

/* Runs a backfill of the nops symbols in ops (none: those not yet
 * backfilled) reaching back `days` (a string, NULL: history_days); json
 * forces NDJSON on a terminal. Returns the exit code: 0, 3 (some symbols
 * failed) or 1 (error, a bad SYMBOL or --days). */
int cli_backfill(const struct ps_conf *c, struct ps_store *s, const char *days,
                 int json, int nops, char **ops);

#endif
