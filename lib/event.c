/*
 * event: serialises sync events (SPEC §4) and §5 error bodies as one line of
 * JSON each. cJSON keeps insertion order, so the field order here is the
 * order users see; it follows the examples in the SPEC.
 */
#include <math.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "event.h"
#include "isotime.h"

static int
add_time(cJSON *o, const char *name, int64_t t)
{
	char iso[PS_ISOTIME_LEN];

	if (t == 0)
		return cJSON_AddNullToObject(o, name) ? 0 : -1;
	return cJSON_AddStringToObject(o, name, ps_isotime_fmt(t, iso)) ? 0
	                                                                : -1;
}

static int
add_str_or_null(cJSON *o, const char *name, const char *s)
{
	if (s == NULL)
		return cJSON_AddNullToObject(o, name) ? 0 : -1;
	return cJSON_AddStringToObject(o, name, s) ? 0 : -1;
}

static int
add_num(cJSON *o, const char *name, double d)
{
	if (isnan(d))
		return cJSON_AddNullToObject(o, name) ? 0 : -1;
	return cJSON_AddNumberToObject(o, name, d) ? 0 : -1;
}

static int
add_symbols(cJSON *o, const char *const *syms, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, "failed_symbols");
	size_t i;

	if (a == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		cJSON *s = cJSON_CreateString(syms[i]);

		if (s == NULL || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			return -1;
		}
	}
	return 0;
}

static int
fill_start(cJSON *o, const struct ps_event *ev)
{
	if (!cJSON_AddStringToObject(o, "type", "start") ||
	    !cJSON_AddNumberToObject(o, "total", (double)ev->total) ||
	    !cJSON_AddNumberToObject(o, "batches", (double)ev->batches))
		return -1;
	return add_time(o, "started_at", ev->started_at);
}

static int
fill_progress(cJSON *o, const struct ps_event *ev)
{
	if (!cJSON_AddStringToObject(o, "type", "progress") ||
	    !cJSON_AddNumberToObject(o, "batch", (double)ev->batch) ||
	    !cJSON_AddNumberToObject(o, "batches", (double)ev->batches) ||
	    !cJSON_AddNumberToObject(o, "done", (double)ev->done) ||
	    !cJSON_AddNumberToObject(o, "total", (double)ev->total) ||
	    !cJSON_AddNumberToObject(o, "updated", (double)ev->updated) ||
	    !cJSON_AddNumberToObject(o, "failed", (double)ev->failed))
		return -1;
	if (ev->error != NULL &&
	    !cJSON_AddStringToObject(o, "error", ev->error))
		return -1;
	if (ev->n_failed_symbols > 0)
		return add_symbols(o, ev->failed_symbols, ev->n_failed_symbols);
	return 0;
}

static int
fill_complete(cJSON *o, const struct ps_event *ev)
{
	if (!cJSON_AddStringToObject(o, "type", "complete") ||
	    !cJSON_AddNumberToObject(o, "total", (double)ev->total) ||
	    !cJSON_AddNumberToObject(o, "updated", (double)ev->updated) ||
	    !cJSON_AddNumberToObject(o, "failed", (double)ev->failed) ||
	    add_symbols(o, ev->failed_symbols, ev->n_failed_symbols) < 0 ||
	    !cJSON_AddStringToObject(o, "mode",
	                             ev->mode ? ev->mode : "batch") ||
	    add_num(o, "fx_rate", ev->fx_rate) < 0 ||
	    add_str_or_null(o, "fx_error", ev->fx_error) < 0 ||
	    add_time(o, "last_synced", ev->last_synced) < 0 ||
	    !cJSON_AddNumberToObject(o, "duration_ms", (double)ev->duration_ms))
		return -1;
	return 0;
}

static int
fill_error(cJSON *o, const struct ps_event *ev)
{
	if (!cJSON_AddStringToObject(o, "type", "error") ||
	    !cJSON_AddStringToObject(o, "code", ps_code_name(ev->code)) ||
	    !cJSON_AddStringToObject(o, "message",
	                             ev->message ? ev->message : ""))
		return -1;
	/* Only a sync that started has counts; one that could not start is
	 * "no sync at all" (SPEC §4) and says only why. */
	if (ev->started &&
	    (!cJSON_AddNumberToObject(o, "updated", (double)ev->updated) ||
	     !cJSON_AddNumberToObject(o, "failed", (double)ev->failed)))
		return -1;
	return 0;
}

char *
ps_event_json(const struct ps_event *ev)
{
	cJSON *o = cJSON_CreateObject();
	char *line = NULL;
	int rc = -1;

	if (o == NULL)
		return NULL;
	switch (ev->type) {
	case PS_EV_START:
		rc = fill_start(o, ev);
		break;
	case PS_EV_PROGRESS:
		rc = fill_progress(o, ev);
		break;
	case PS_EV_COMPLETE:
		rc = fill_complete(o, ev);
		break;
	case PS_EV_ERROR:
		rc = fill_error(o, ev);
		break;
	}
	if (rc == 0)
		line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}

char *
ps_error_json(const struct ps_err *err)
{
	struct ps_event ev = {.type = PS_EV_ERROR};

	ev.code = err->code;
	ev.message = err->msg;
	return ps_event_json(&ev);
}
