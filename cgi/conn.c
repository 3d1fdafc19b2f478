/*
 * conn: taking a FastCGI connection and waiting for its request head
 * (see conn.h). Peeking keeps libfcgi's reader untouched: once the head
 * is queued, FCGX_Accept_r reads it without blocking.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"

/* FastCGI 1.0 record types and the header's size. */
#define REC_HEADER 8
#define REC_BEGIN_REQUEST 1
#define REC_PARAMS 4

/* How often an incomplete head is looked at again: the peer's next bytes
 * do not wake a poll on a socket that already has unread bytes. */
#define RECHECK_MS 10

int
conn_head_complete(const unsigned char *p, size_t n)
{
	size_t off = 0;
	int id = -1; /* of the BEGIN_REQUEST, once seen */

	while (n - off >= REC_HEADER) {
		const unsigned char *h = p + off;
		int type = h[1], rid = h[2] << 8 | h[3];
		size_t clen = (size_t)(h[4] << 8 | h[5]), plen = h[6];

		if (h[0] != 1)
			return 1; /* libfcgi stops at this header */
		if (type == REC_BEGIN_REQUEST && id < 0)
			id = rid;
		else if (type == REC_PARAMS && id >= 0 && rid == id &&
		         clen == 0)
			return 1;
		off += REC_HEADER + clen + plen;
		if (off > n)
			break;
	}
	return 0;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void
set_timeouts(int fd)
{
	struct timeval rt = {CONN_READ_TIMEOUT_MS / 1000,
	                     CONN_READ_TIMEOUT_MS % 1000 * 1000};
	struct timeval wt = {CONN_WRITE_TIMEOUT_MS / 1000,
	                     CONN_WRITE_TIMEOUT_MS % 1000 * 1000};

	/* Backstops for the reads and writes libfcgi makes itself: a peer
	 * can hold a worker for one timeout at most per call. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof(wt));
}

int
conn_peer_allowed(int fd, const char *allowed)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
	const char *p = allowed;

	if (!allowed || !*allowed)
		return 1;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    ss.ss_family != AF_INET)
		return 1;
	while (*p) {
		char one[INET_ADDRSTRLEN];
		size_t n = strcspn(p, ",");
		struct in_addr a;

		if (n < sizeof(one)) {
			memcpy(one, p, n);
			one[n] = '\0';
			if (inet_pton(AF_INET, one, &a) == 1 &&
			    a.s_addr == in->sin_addr.s_addr)
				return 1;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

/* 1 when stop_fd is readable now. */
static int
stopping(int stop_fd)
{
	struct pollfd s = {.fd = stop_fd, .events = POLLIN};

	return poll(&s, 1, 0) > 0;
}

int
conn_accept(int lfd, int stop_fd, const char *allowed)
{
	struct pollfd fds[2] = {{.fd = lfd, .events = POLLIN},
	                        {.fd = stop_fd, .events = POLLIN}};

	for (;;) {
		int fd, one = 1;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (fds[1].revents)
			return -2;
		if (fds[0].revents & (POLLERR | POLLNVAL))
			return errno = EBADF, -1;
		if (!fds[0].revents)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
			case ENETDOWN:
			case ENOPROTOOPT:
			case EHOSTDOWN:
			case ENONET:
			case EHOSTUNREACH:
			case EOPNOTSUPP:
			case ENETUNREACH:
				continue; /* that peer is gone; the next one */
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				/* Out of something for now: wait a little
				 * rather than spin, still hearing stop_fd. */
				if (poll(fds + 1, 1, 100) > 0)
					return -2;
				continue;
			default:
				return -1;
			}
		}
		if (!conn_peer_allowed(fd, allowed)) {
			close(fd);
			continue;
		}
		/* No replies to our output: Nagle would only delay events. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		set_timeouts(fd);
		return fd;
	}
}

enum conn_wait
conn_wait_head(int fd, int stop_fd, int timeout_ms, unsigned char *buf,
               size_t cap)
{
	long end = now_ms() + timeout_ms;

	if (cap > CONN_HEAD_MAX)
		cap = CONN_HEAD_MAX;
	for (;;) {
		struct pollfd fds[2] = {{.fd = fd},
		                        {.fd = stop_fd, .events = POLLIN}};
		ssize_t n = recv(fd, buf, cap, MSG_PEEK | MSG_DONTWAIT);
		long left;

		if (n == 0)
			return CONN_CLOSED;
		if (n < 0 && errno == ECONNRESET)
			return CONN_CLOSED;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return CONN_ERROR;
		if (n > 0 && conn_head_complete(buf, (size_t)n))
			return CONN_READY;
		if (n > 0 && (size_t)n >= cap)
			return CONN_BIG;
		if (stopping(stop_fd))
			return CONN_STOP;
		left = end - now_ms();
		if (left <= 0)
			return CONN_SLOW;
		/* Nothing queued: sleep until bytes come. Part of a head
		 * queued: poll would wake at once, so look again soon, but
		 * wake at once if the peer hangs up. */
		fds[0].events = n > 0 ? POLLRDHUP : POLLIN | POLLRDHUP;
		if (n > 0 && left > RECHECK_MS)
			left = RECHECK_MS;
		if (poll(fds, 2, (int)left) < 0 && errno != EINTR)
			return CONN_ERROR;
		if (fds[1].revents)
			return CONN_STOP;
		if (n > 0 && (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return CONN_CLOSED;
	}
}

const char *
conn_wait_name(enum conn_wait w)
{
	switch (w) {
	case CONN_READY:
		return "ready";
	case CONN_CLOSED:
		return "closed";
	case CONN_SLOW:
		return "slow";
	case CONN_BIG:
		return "too big";
	case CONN_STOP:
		return "stopping";
	default:
		return "error";
	}
}
