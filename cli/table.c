/*
 * table: see table.h. Numbers are formatted here, so only the strings
 * (symbol, name, currency, time, error) need escaping; an escape is never
 * cut in the middle when a cell is cut to its width.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "table.h"
#include "utf8.h"

/* The next unit of s as shown: a character, or the escape for it. Returns
 * the bytes of s it covers (0 at the end); out gets its display form. */
static size_t
next_unit(const char *s, char out[16], int *cols)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strnlen(s, 4), n;
	uint32_t cp;

	if (len == 0)
		return 0;
	n = ps_utf8_char(u, len, &cp);
	if (n == 0) {
		*cols = snprintf(out, 16, "\\x%02X", u[0]);
		return 1;
	}
	if (ps_utf8_is_control(cp)) {
		*cols = cp < 0x80 ? snprintf(out, 16, "\\x%02X", (unsigned)cp)
		                  : snprintf(out, 16, "\\u%04X", (unsigned)cp);
		return n;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	*cols = 1;
	return n;
}

void
table_cell(FILE *out, const char *s, int width, int max)
{
	char unit[16];
	int used = 0, cols;
	size_t n;

	while ((n = next_unit(s, unit, &cols)) > 0) {
		if (max >= 0 && used + cols > max)
			break;
		fputs(unit, out);
		used += cols;
		s += n;
	}
	while (used < width) {
		fputc(' ', out);
		used++;
	}
}

void
table_text(FILE *out, const char *s)
{
	table_cell(out, s, 0, -1);
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static void
jnum(char *out, size_t len, const cJSON *o, const char *k, const char *fmt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsNumber(v))
		snprintf(out, len, fmt, v->valuedouble);
	else
		snprintf(out, len, "-");
}

static void
print_row(FILE *out, const cJSON *row)
{
	char price[32], chg[32], gbp[32], qty[32], val[32];

	jnum(price, sizeof(price), row, "price", "%.4f");
	jnum(chg, sizeof(chg), row, "change_percent", "%+.2f");
	jnum(gbp, sizeof(gbp), row, "price_gbp", "%.4f");
	jnum(qty, sizeof(qty), row, "quantity", "%g");
	jnum(val, sizeof(val), row, "value_gbp", "%.2f");
	table_cell(out, jstr(row, "symbol"), 10, -1);
	fputc(' ', out);
	table_cell(out, jstr(row, "name"), 24, 24);
	fprintf(out, " %12s ", price);
	table_cell(out, jstr(row, "currency"), 4, -1);
	fprintf(out, " %8s %12s %10s %12s  ", chg, gbp, qty, val);
	table_cell(out, jstr(row, "updated_at"), 20, -1);
	fputc(' ', out);
	table_cell(out, jstr(row, "error"), 0, -1);
	fputc('\n', out);
}

int
table_print(FILE *out, const char *json)
{
	cJSON *doc = cJSON_Parse(json), *row;
	char total[32];

	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return -1;
	}
	fprintf(out, "%-10s %-24s %12s %-4s %8s %12s %10s %12s  %-20s %s\n",
	        "SYMBOL", "NAME", "PRICE", "CCY", "CHG%", "GBP", "QTY",
	        "VALUE_GBP", "UPDATED", "ERROR");
	cJSON_ArrayForEach(row, cJSON_GetObjectItem(doc, "symbols"))
	{
		print_row(out, row);
	}
	jnum(total, sizeof(total), doc, "total_value_gbp", "%.2f");
	fprintf(out, "TOTAL_VALUE_GBP %s\n", total);
	cJSON_Delete(doc);
	return 0;
}
