/*
 * progress: the progress bar `pricesync sync` draws on a terminal, and the
 * one-line summary after it. Terminal escapes live here and nowhere else.
 */
#ifndef PS_PROGRESS_H
#define PS_PROGRESS_H

#include <stdio.h>

#include "event.h"

/* Draws ev on the terminal out: a bar for start/progress (redrawn in
 * place), a summary line for complete, a message for error (on err). */
void progress_draw(FILE *out, FILE *err, const struct ps_event *ev);

#endif
