/*
 * tap: a small TAP producer for the C tests, read by automake's
 * tap-driver.sh. One process per test file; plan at the end.
 */
#ifndef PS_TAP_H
#define PS_TAP_H

/* Prints "ok N - name" or "not ok N - name"; returns cond. */
int tap_ok(int cond, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Compares strings (NULL allowed), printing both on a mismatch. */
int tap_str(const char *got, const char *want, const char *name);
/* Compares integers, printing both on a mismatch. */
int tap_int(long long got, long long want, const char *name);
/* Compares doubles within 1e-9 (NaN equals NaN). */
int tap_dbl(double got, double want, const char *name);
/* "# ..." diagnostic line. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the plan "1..N"; returns the exit status (0 if all passed). */
int tap_done(void);

/* A fresh directory under $TMPDIR (malloc'd path, caller frees) and its
 * recursive removal, for tests that need files. */
char *tap_tmpdir(void);
void tap_rmrf(const char *path);

#endif
