/*
 * conn: a FastCGI connection before libfcgi reads it. The accept loop of
 * serve.c takes a connection here (under its mutex, never blocking), then,
 * outside the mutex, waits here until the peer has sent the whole head of
 * its request, peeking so that every byte stays queued for libfcgi's own
 * reader. A peer that sends nothing, sends it too slowly, or closes,
 * costs one worker for at most the read timeout and never the others;
 * a stop file descriptor (the shutdown pipe) ends every wait at once.
 *
 * No libfcgi here, no threads, no state: plain sockets and the record
 * layout of the FastCGI 1.0 specification.
 */
#ifndef PS_CONN_H
#define PS_CONN_H

#include <stddef.h>

/* How long a peer may take to send the head of its request (FastCGI
 * BEGIN_REQUEST and PARAMS), and how long the writes of one answer may
 * wait for it in all (request.c) or one write at most (SO_SNDTIMEO). */
#define CONN_READ_TIMEOUT_MS 5000
#define CONN_WRITE_TIMEOUT_MS 5000
/* The most a head may weigh; nginx sends a few KiB. */
#define CONN_HEAD_MAX 65536

/* 1 when the n bytes at p (what a peer has sent so far) hold a whole
 * request head as libfcgi reads it: a BEGIN_REQUEST record, then (after
 * any other records) a PARAMS record of that request with no content;
 * also 1 when a record header there has a version other than 1 (libfcgi
 * refuses it at once, without reading on). 0 when more bytes are needed
 * (never for n >= CONN_HEAD_MAX bytes that make no head: see
 * conn_wait_head). p may be NULL when n is 0. */
int conn_head_complete(const unsigned char *p, size_t n);

/* Accepts one connection on the non-blocking listening socket lfd,
 * waiting (poll) until one comes or stop_fd is readable. Returns the new
 * socket (close-on-exec, blocking, with the read and write timeouts above
 * as SO_RCVTIMEO and SO_SNDTIMEO), or -2 when stop_fd is readable, or -1
 * with errno for a broken listening socket. Connections refused by
 * allowed (see conn_peer_allowed) and peers gone before accept() are
 * skipped. */
int conn_accept(int lfd, int stop_fd, const char *allowed);

/* 1 when the peer of fd may talk to us: allowed is NULL or empty (no
 * list), the peer is not an IPv4 socket, or its address is in allowed
 * (a comma-separated list of dotted quads: libfcgi's
 * FCGI_WEB_SERVER_ADDRS). */
int conn_peer_allowed(int fd, const char *allowed);

enum conn_wait {
	CONN_READY,  /* the head is there: libfcgi will not block on it */
	CONN_CLOSED, /* the peer closed (or reset) first */
	CONN_SLOW,   /* no whole head within timeout_ms */
	CONN_BIG,    /* no head in the first CONN_HEAD_MAX bytes */
	CONN_STOP,   /* stop_fd became readable */
	CONN_ERROR   /* a socket error (errno) */
};

/* Waits until the peer of fd has sent a whole request head, without
 * reading it (MSG_PEEK): buf (cap >= CONN_HEAD_MAX bytes, the caller's)
 * holds the copies. While nothing new comes, it sleeps in poll on fd and
 * stop_fd; while a head is incomplete it looks again every few ms. */
enum conn_wait conn_wait_head(int fd, int stop_fd, int timeout_ms,
                              unsigned char *buf, size_t cap);

/* A short word for a wait result, for logs ("closed", "slow", ...). */
const char *conn_wait_name(enum conn_wait w);

#endif
