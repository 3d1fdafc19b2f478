/*
 * event: the typed events of one sync (SPEC §4) and their NDJSON form.
 * The sync routine yields them; the CLI, the HTTP program and the stored
 * progress only serialise them with ps_event_json, so every reader sees the
 * same bytes. Pointers inside an event are borrowed until the callback
 * returns.
 */
#ifndef PS_EVENT_H
#define PS_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum ps_event_type { PS_EV_START, PS_EV_PROGRESS, PS_EV_COMPLETE, PS_EV_ERROR };

struct ps_event {
	enum ps_event_type type;
	long total, batches;  /* start, progress, complete */
	long batch, done;     /* progress */
	long updated, failed; /* progress, complete, error */
	int64_t started_at;   /* start */
	const char *error; /* progress: why the whole batch failed, or NULL */
	const char *const *failed_symbols; /* progress (this batch), complete */
	size_t n_failed_symbols;
	const char *mode;     /* complete: "batch" or "single" */
	double fx_rate;       /* complete: NaN = null */
	const char *fx_error; /* complete: NULL = null */
	int64_t last_synced;  /* complete: 0 = null */
	long duration_ms;     /* complete */
	enum ps_code code;    /* error */
	const char *message;  /* error */
	long retry_after;     /* error: seconds, for cooldown (not printed) */
	int started;          /* error: 1 when a start event came before it,
	                         so the counts are printed */
};

/* The event as one line of JSON without the newline, malloc'd (caller
 * frees); NULL when out of memory. Field order follows SPEC §4. */
char *ps_event_json(const struct ps_event *ev);

/* The one-line error body of SPEC §5 for err:
 * {"type":"error","code":"...","message":"..."}; malloc'd, caller frees. */
char *ps_error_json(const struct ps_err *err);

#endif
