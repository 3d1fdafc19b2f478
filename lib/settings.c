/*
 * settings: the keys, types and encodings of SPEC §3's settings, over the
 * store's raw key/value calls. The key names are the on-disk format: an
 * existing store keeps working, so they never change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isotime.h"
#include "settings.h"

static const char *const time_keys[] = {
        [PS_SET_LAST_SYNCED] = "last_synced",
        [PS_SET_SYNC_STARTED_AT] = "sync_started_at",
        [PS_SET_SINGLE_SINCE] = "batch_single_since",
};

static const char *const doc_keys[] = {
        [PS_SET_PROGRESS] = "progress",
        [PS_SET_LAST_RESULT] = "last_result",
        [PS_SET_FX] = "fx",
};

static const char *const counter_keys[] = {
        [PS_SET_SYNCS_COMPLETE] = "syncs_total_complete",
        [PS_SET_SYNCS_PARTIAL] = "syncs_total_partial",
        [PS_SET_SYNCS_ERROR] = "syncs_total_error",
};

#define REQ_DAY_KEY "requests_day"
#define REQ_COUNT_KEY "requests_count"
#define RATE_KEY_MAX 32

int
ps_settings_time(struct ps_txn *t, enum ps_set_time k, int64_t *at,
                 struct ps_err *err)
{
	char *val = NULL;
	int rc = ps_store_setting_get(t, time_keys[k], &val, err);

	if (rc == 1 && ps_isotime_parse(val, at) < 0)
		rc = 0;
	free(val);
	return rc;
}

int
ps_settings_set_time(struct ps_txn *t, enum ps_set_time k, int64_t at,
                     struct ps_err *err)
{
	char iso[PS_ISOTIME_LEN];

	return ps_store_setting_put(t, time_keys[k], ps_isotime_fmt(at, iso),
	                            err);
}

int
ps_settings_clear_time(struct ps_txn *t, enum ps_set_time k, struct ps_err *err)
{
	return ps_store_setting_put(t, time_keys[k], NULL, err);
}

int
ps_settings_doc(struct ps_txn *t, enum ps_set_doc k, char **json,
                struct ps_err *err)
{
	return ps_store_setting_get(t, doc_keys[k], json, err);
}

int
ps_settings_set_doc(struct ps_txn *t, enum ps_set_doc k, const char *json,
                    struct ps_err *err)
{
	return ps_store_setting_put(t, doc_keys[k], json, err);
}

static int
rate_key(const char *ccy, char key[RATE_KEY_MAX], struct ps_err *err)
{
	size_t n = strlen(ccy);

	if (n == 0 || n > RATE_KEY_MAX - sizeof("fx_rate_"))
		return ps_err_set(err, PS_EINVALID,
		                  "\"%s\" is not a currency code", ccy);
	snprintf(key, RATE_KEY_MAX, "fx_rate_%s", ccy);
	return 0;
}

int
ps_settings_rate(struct ps_txn *t, const char *ccy, char **json,
                 struct ps_err *err)
{
	char key[RATE_KEY_MAX];

	*json = NULL;
	if (rate_key(ccy, key, err) < 0)
		return -1;
	return ps_store_setting_get(t, key, json, err);
}

int
ps_settings_set_rate(struct ps_txn *t, const char *ccy, const char *json,
                     struct ps_err *err)
{
	char key[RATE_KEY_MAX];

	if (rate_key(ccy, key, err) < 0)
		return -1;
	return ps_store_setting_put(t, key, json, err);
}

/* A non-negative decimal, or -1 when val is absent or mangled. */
static long
decimal(const char *val)
{
	char *end;
	long n;

	if (val == NULL)
		return -1;
	errno = 0;
	n = strtol(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || n < 0)
		return -1;
	return n;
}

/* "YYYY-MM-DD" of now, the day the counter belongs to. */
static void
utc_day(int64_t now, char day[PS_ISOTIME_LEN])
{
	ps_isotime_fmt(now, day);
	day[10] = '\0';
}

int
ps_settings_requests(struct ps_txn *t, int64_t now, long *count,
                     struct ps_err *err)
{
	char today[PS_ISOTIME_LEN], *day = NULL, *num = NULL;
	int ret = -1;

	*count = 0;
	if (ps_store_setting_get(t, REQ_DAY_KEY, &day, err) < 0 ||
	    ps_store_setting_get(t, REQ_COUNT_KEY, &num, err) < 0)
		goto strings_free;
	utc_day(now, today);
	/* A mangled counter must not block syncs forever: start the day
	 * again rather than fail. */
	if (day != NULL && strcmp(day, today) == 0 && decimal(num) >= 0)
		*count = decimal(num);
	ret = 0;
strings_free:
	free(day);
	free(num);
	return ret;
}

int
ps_settings_requests_add(struct ps_txn *t, int64_t now, long delta, long *count,
                         struct ps_err *err)
{
	char today[PS_ISOTIME_LEN], num[32];
	long n;

	if (ps_settings_requests(t, now, &n, err) < 0)
		return -1;
	n += delta;
	if (n < 0)
		n = 0;
	if (count != NULL)
		*count = n;
	if (delta == 0)
		return 0;
	utc_day(now, today);
	snprintf(num, sizeof(num), "%ld", n);
	if (ps_store_setting_put(t, REQ_DAY_KEY, today, err) < 0 ||
	    ps_store_setting_put(t, REQ_COUNT_KEY, num, err) < 0)
		return -1;
	return 0;
}

int
ps_settings_counter(struct ps_txn *t, enum ps_set_counter k, long *value,
                    struct ps_err *err)
{
	char *val = NULL;

	if (ps_store_setting_get(t, counter_keys[k], &val, err) < 0)
		return -1;
	*value = decimal(val);
	if (*value < 0)
		*value = 0;
	free(val);
	return 0;
}

int
ps_settings_counter_add(struct ps_txn *t, enum ps_set_counter k, long delta,
                        struct ps_err *err)
{
	char num[32];
	long v;

	if (ps_settings_counter(t, k, &v, err) < 0)
		return -1;
	snprintf(num, sizeof(num), "%ld", v + delta);
	return ps_store_setting_put(t, counter_keys[k], num, err);
}
