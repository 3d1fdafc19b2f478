/*
 * web: what the two FastCGI programs include. The process and its
 * serving loop are serve.h; one request, as a handler sees it, is
 * request.h; the pure HTTP rules under both are http.h.
 */
#ifndef PS_WEB_H
#define PS_WEB_H

#include "request.h"
#include "serve.h"

#endif
