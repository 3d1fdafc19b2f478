/*
 * t-event: every event type and the §5 error body serialise to the exact
 * bytes of SPEC §4's examples (field order included).
 */
#include <math.h>
#include <stdlib.h>

#include "event.h"
#include "tap.h"

static void
check(const struct ps_event *ev, const char *want, const char *name)
{
	char *got = ps_event_json(ev);

	tap_str(got, want, name);
	free(got);
}

int
main(void)
{
	const char *failed[] = {"NOSUCH", "BAD.L"};
	struct ps_event ev = {.type = PS_EV_START};
	struct ps_err err;
	char *body;

	ev.total = 500;
	ev.batches = 10;
	ev.started_at = 1795599000; /* 2026-11-25T09:30:00Z */
	check(&ev,
	      "{\"type\":\"start\",\"total\":500,\"batches\":10,"
	      "\"started_at\":\"2026-11-25T09:30:00Z\"}",
	      "start");

	ev = (struct ps_event){.type = PS_EV_PROGRESS};
	ev.batch = 3, ev.batches = 10, ev.done = 150, ev.total = 500;
	ev.updated = 148, ev.failed = 2;
	ev.failed_symbols = failed, ev.n_failed_symbols = 2;
	check(&ev,
	      "{\"type\":\"progress\",\"batch\":3,\"batches\":10,\"done\":150,"
	      "\"total\":500,\"updated\":148,\"failed\":2,"
	      "\"failed_symbols\":[\"NOSUCH\",\"BAD.L\"]}",
	      "progress with failed symbols");
	ev.n_failed_symbols = 0;
	ev.error = "upstream timeout after 15 s";
	check(&ev,
	      "{\"type\":\"progress\",\"batch\":3,\"batches\":10,\"done\":150,"
	      "\"total\":500,\"updated\":148,\"failed\":2,"
	      "\"error\":\"upstream timeout after 15 s\"}",
	      "progress with a batch error, failed_symbols absent when none");

	ev = (struct ps_event){.type = PS_EV_COMPLETE};
	ev.total = 500, ev.updated = 448, ev.failed = 52;
	ev.failed_symbols = failed, ev.n_failed_symbols = 1;
	ev.mode = "batch", ev.fx_rate = 0.7891, ev.fx_error = NULL;
	ev.last_synced = 1795599007, ev.duration_ms = 7012;
	check(&ev,
	      "{\"type\":\"complete\",\"total\":500,\"updated\":448,"
	      "\"failed\":52,\"failed_symbols\":[\"NOSUCH\"],\"mode\":"
	      "\"batch\",\"fx_rate\":0.7891,\"fx_error\":null,"
	      "\"last_synced\":\"2026-11-25T09:30:07Z\",\"duration_ms\":7012}",
	      "complete");
	ev.n_failed_symbols = 0, ev.fx_rate = NAN, ev.fx_error = "HTTP 500";
	ev.last_synced = 0, ev.mode = "single";
	check(&ev,
	      "{\"type\":\"complete\",\"total\":500,\"updated\":448,"
	      "\"failed\":52,\"failed_symbols\":[],\"mode\":\"single\","
	      "\"fx_rate\":null,\"fx_error\":\"HTTP 500\","
	      "\"last_synced\":null,\"duration_ms\":7012}",
	      "complete with nulls and an empty failed_symbols");

	ev = (struct ps_event){.type = PS_EV_ERROR};
	ev.code = PS_EUPSTREAM_AUTH, ev.message = "FMP rejected the API key";
	ev.started = 1;
	check(&ev,
	      "{\"type\":\"error\",\"code\":\"upstream_auth\",\"message\":"
	      "\"FMP rejected the API key\",\"updated\":0,\"failed\":0}",
	      "error after start carries counts");
	ev.started = 0, ev.code = PS_ESYNC_IN_PROGRESS;
	ev.message = "say \"why\"\n";
	check(&ev,
	      "{\"type\":\"error\",\"code\":\"sync_in_progress\",\"message\":"
	      "\"say \\\"why\\\"\\n\"}",
	      "error that never started: no counts; escaping");

	ps_err_set(&err, PS_ENOT_FOUND, "unknown symbol %s", "ZZZ");
	body = ps_error_json(&err);
	tap_str(body,
	        "{\"type\":\"error\",\"code\":\"not_found\",\"message\":"
	        "\"unknown symbol ZZZ\"}",
	        "error body of SPEC §5");
	free(body);
	return tap_done();
}
