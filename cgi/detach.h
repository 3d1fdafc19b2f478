/*
 * detach: plain CGI requests answered from a process the web server
 * cannot kill. Apache stops a CGI whose client left with SIGTERM, then
 * SIGKILL (AH01259); a sync it started must still run to its end and
 * commit (SPEC §5). So the CGI process forks twice: the grandchild, in a
 * session of its own and adopted by init, serves the request and writes
 * its answer to a pipe; the CGI process only relays that pipe to its
 * stdout. When the relay dies, the grandchild's next write fails (SIGPIPE
 * is ignored), the client is taken as gone, and the sync goes on.
 *
 * Limits: the request body is not read (the sync takes none); stderr is
 * shared, so the grandchild's log lines still reach the server's error
 * log while it reads them.
 */
#ifndef PS_DETACH_H
#define PS_DETACH_H

/* Forks the answering process. Returns 0 in it: stdin is /dev/null,
 * stdout the pipe to the relay, go on and serve. Returns 1 in the CGI
 * process once the answer is relayed, with its exit status in *status:
 * it must only exit. Returns -1 (logged, prefixed with prog) when it
 * cannot fork: serve from this process, as before. */
int detach_relay(const char *prog, int *status);

#endif
