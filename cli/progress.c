/*
 * progress: see progress.h. The bar is redrawn in place with "\r" and
 * erase-to-end-of-line, so it needs a terminal; pipes get NDJSON instead.
 * Messages go out escaped (table_text): they may carry outside values.
 */
#include <math.h>

#include "progress.h"
#include "table.h"

#define BAR_WIDTH 30

static void
bar(FILE *out, long done, long total, long failed)
{
	int fill = total > 0 ? (int)(done * BAR_WIDTH / total) : BAR_WIDTH;
	int i;

	fputs("\r[", out);
	for (i = 0; i < BAR_WIDTH; i++)
		fputc(i < fill ? '#' : '-', out);
	fprintf(out, "] %ld / %ld", done, total);
	if (failed > 0)
		fprintf(out, ", %ld failed", failed);
	fputs("\033[K", out);
	fflush(out);
}

void
progress_draw(FILE *out, FILE *err, const struct ps_event *ev)
{
	switch (ev->type) {
	case PS_EV_START:
		bar(out, 0, ev->total, 0);
		break;
	case PS_EV_PROGRESS:
		bar(out, ev->done, ev->total, ev->failed);
		break;
	case PS_EV_COMPLETE:
		fputs("\r\033[K", out);
		fprintf(out, "Updated %ld of %ld", ev->updated, ev->total);
		if (ev->failed > 0)
			fprintf(out, ", %ld failed", ev->failed);
		if (!isnan(ev->fx_rate))
			fprintf(out, "; fx %g", ev->fx_rate);
		else if (ev->fx_error != NULL) {
			fputs("; fx not updated: ", out);
			table_text(out, ev->fx_error);
		}
		fprintf(out, " (%s mode, %.1f s)\n", ev->mode,
		        (double)ev->duration_ms / 1000.0);
		for (size_t i = 0; i < ev->n_failed_symbols && i < 20; i++)
			fprintf(out, "  failed: %s\n", ev->failed_symbols[i]);
		if (ev->n_failed_symbols > 20)
			fprintf(out, "  ... and %zu more (pricesync list)\n",
			        ev->n_failed_symbols - 20);
		break;
	case PS_EV_ERROR:
		fputs("\r\033[K", out);
		fflush(out);
		fprintf(err, "pricesync: sync failed (%s): ",
		        ps_code_name(ev->code));
		table_text(err, ev->message);
		fputc('\n', err);
		break;
	}
}
