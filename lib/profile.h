/*
 * profile: the listing currency of symbols from their FMP profiles, on
 * demand (`pricesync add --refresh-profile`); a sync reads the profiles it
 * needs itself (lib/sync.h).
 */
#ifndef PS_PROFILE_H
#define PS_PROFILE_H

#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "store.h"

/* Reads the listing currency of each symbol from its FMP profile now and
 * stores it, unless the user set one. A failed profile call is an error
 * naming the symbol; nothing else is changed for it. */
int ps_profile_refresh(const struct ps_conf *c, struct ps_store *s,
                       const char *const *symbols, size_t n,
                       struct ps_err *err);

#endif
