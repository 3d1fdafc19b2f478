/*
 * t-conn: cgi/conn.c, the wait for a FastCGI request head before libfcgi
 * reads it: the record scanner on hand-made bytes, and conn_wait_head on
 * a socketpair whose other end plays the peer (silent, slow, closing,
 * oversized, complete) and a pipe that plays the shutdown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "tap.h"

/* Appends one record to b at *n. */
static void
rec(unsigned char *b, size_t *n, int version, int type, int id, size_t clen,
    int plen)
{
	unsigned char *h = b + *n;

	h[0] = (unsigned char)version;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(clen >> 8);
	h[5] = (unsigned char)clen;
	h[6] = (unsigned char)plen;
	h[7] = 0;
	memset(h + 8, 'x', clen + (size_t)plen);
	*n += 8 + clen + (size_t)plen;
}

/* BEGIN_REQUEST id 1, PARAMS of 13 bytes (3 of padding), empty PARAMS. */
static size_t
head(unsigned char *b)
{
	size_t n = 0;

	rec(b, &n, 1, 1, 1, 8, 0);
	rec(b, &n, 1, 4, 1, 13, 3);
	rec(b, &n, 1, 4, 1, 0, 0);
	return n;
}

static void
test_scan(void)
{
	unsigned char b[512];
	size_t n = head(b), i, m;
	int short_ok = 1;

	tap_ok(conn_head_complete(b, n), "scan: a whole head");
	for (i = 0; i < n; i++)
		if (conn_head_complete(b, i))
			short_ok = 0;
	tap_ok(short_ok, "scan: no prefix of it is whole");
	tap_ok(!conn_head_complete(NULL, 0), "scan: nothing");
	m = 0;
	rec(b, &m, 1, 4, 1, 0, 0);
	tap_ok(!conn_head_complete(b, m),
	       "scan: an empty PARAMS before any BEGIN_REQUEST is not a head");
	m = 0;
	rec(b, &m, 1, 1, 7, 8, 0);
	rec(b, &m, 1, 4, 2, 0, 0);
	tap_ok(!conn_head_complete(b, m),
	       "scan: an empty PARAMS of another request is not its end");
	rec(b, &m, 1, 9, 0, 20, 4); /* a management record between */
	rec(b, &m, 1, 4, 7, 0, 0);
	tap_ok(conn_head_complete(b, m), "scan: other records are skipped");
	m = 0;
	rec(b, &m, 2, 1, 1, 8, 0);
	tap_ok(conn_head_complete(b, m),
	       "scan: a bad version is final (libfcgi refuses it at once)");
	m = 0;
	rec(b, &m, 1, 1, 1, 8, 0);
	b[m++] = 1;
	tap_ok(!conn_head_complete(b, m), "scan: a cut header waits");
	/* A record claiming more content than was sent. */
	m = 0;
	rec(b, &m, 1, 1, 1, 8, 0);
	rec(b, &m, 1, 4, 1, 0, 0);
	b[m - 8 + 4] = 0xff; /* that PARAMS now claims 65280 bytes */
	tap_ok(!conn_head_complete(b, m),
	       "scan: a PARAMS claiming more than was sent waits");
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A peer (sv[1]) and our end (sv[0]), and a stop pipe. */
struct rig {
	int sv[2];
	int stop[2];
	unsigned char *buf;
};

static void
rig_open(struct rig *r)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, r->sv) < 0 || pipe(r->stop) < 0)
		tap_diag("socketpair/pipe: %s", strerror(errno));
	r->buf = malloc(CONN_HEAD_MAX);
}

static void
rig_close(struct rig *r)
{
	close(r->sv[0]);
	if (r->sv[1] >= 0)
		close(r->sv[1]);
	close(r->stop[0]);
	close(r->stop[1]);
	free(r->buf);
}

static enum conn_wait
wait_ms(struct rig *r, int timeout, long *took)
{
	struct timespec t0;
	enum conn_wait w;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	w = conn_wait_head(r->sv[0], r->stop[0], timeout, r->buf,
	                   CONN_HEAD_MAX);
	*took = ms_since(&t0);
	return w;
}

static void
test_wait(void)
{
	unsigned char h[512];
	size_t n = head(h);
	struct rig r;
	long took;
	char *big;

	rig_open(&r);
	tap_int(wait_ms(&r, 200, &took), CONN_SLOW, "wait: a silent peer");
	tap_ok(took >= 190 && took < 1000,
	       "wait: ... after the timeout (%ld ms)", took);
	if (write(r.sv[1], h, 3) != 3)
		tap_diag("write: %s", strerror(errno));
	tap_int(wait_ms(&r, 200, &took), CONN_SLOW, "wait: part of a head");
	tap_ok(took < 1000, "wait: ... also ends at the timeout (%ld ms)",
	       took);
	if (write(r.sv[1], h + 3, n - 3) != (ssize_t)(n - 3))
		tap_diag("write: %s", strerror(errno));
	tap_int(wait_ms(&r, 1000, &took), CONN_READY,
	        "wait: the rest came: ready");
	tap_ok(took < 100, "wait: ... at once (%ld ms)", took);
	tap_int(recv(r.sv[0], h, sizeof(h), MSG_DONTWAIT), (long long)n,
	        "wait: every byte is still there for libfcgi");
	rig_close(&r);

	rig_open(&r);
	if (write(r.sv[1], h, 5) != 5)
		tap_diag("write: %s", strerror(errno));
	close(r.sv[1]);
	r.sv[1] = -1;
	tap_int(wait_ms(&r, 5000, &took), CONN_CLOSED,
	        "wait: part of a head, then the peer closed");
	tap_ok(took < 500, "wait: ... seen at once (%ld ms)", took);
	rig_close(&r);

	rig_open(&r);
	close(r.sv[1]);
	r.sv[1] = -1;
	tap_int(wait_ms(&r, 5000, &took), CONN_CLOSED,
	        "wait: a peer that connected and closed");
	rig_close(&r);

	rig_open(&r);
	if (write(r.stop[1], "x", 1) != 1)
		tap_diag("write: %s", strerror(errno));
	tap_int(wait_ms(&r, 5000, &took), CONN_STOP, "wait: stopping");
	tap_ok(took < 100, "wait: ... at once (%ld ms)", took);
	rig_close(&r);

	rig_open(&r);
	big = calloc(1, CONN_HEAD_MAX);
	if (big) {
		size_t m = 0;

		/* One BEGIN_REQUEST, then padding records that never end
		 * the head: socketpair buffers hold that much. */
		rec((unsigned char *)big, &m, 1, 1, 1, 8, 0);
		while (m + 8 + 1000 <= CONN_HEAD_MAX)
			rec((unsigned char *)big, &m, 1, 5, 1, 1000, 0);
		memset(big + m, 0, CONN_HEAD_MAX - m);
		{
			int sz = 4 * CONN_HEAD_MAX;

			setsockopt(r.sv[1], SOL_SOCKET, SO_SNDBUF, &sz,
			           sizeof(sz));
			setsockopt(r.sv[0], SOL_SOCKET, SO_RCVBUF, &sz,
			           sizeof(sz));
		}
		if (write(r.sv[1], big, CONN_HEAD_MAX) != CONN_HEAD_MAX)
			tap_diag("write big: %s", strerror(errno));
		tap_int(wait_ms(&r, 2000, &took), CONN_BIG,
		        "wait: no head in CONN_HEAD_MAX bytes");
	}
	free(big);
	rig_close(&r);
	tap_str(conn_wait_name(CONN_SLOW), "slow", "wait names");
}

int
main(void)
{
	test_scan();
	test_wait();
	return tap_done();
}
