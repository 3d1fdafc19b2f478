/*
 * fakefmp: the fake upstream (tests/fake_fmp.py) for the C tests that need
 * one. One fake per test process; stopped at exit if not before, and with
 * the test (PR_SET_PDEATHSIG) if the test dies.
 */
#ifndef PS_TEST_FAKEFMP_H
#define PS_TEST_FAKEFMP_H

/* Starts it with its ready file in dir; its port, or -1. Polls the ready
 * file (for at most 15 s), never sleeps a fixed time for it. */
int start_fake(const char *dir);
/* Stops it; safe when none runs. */
void stop_fake(void);

#endif
