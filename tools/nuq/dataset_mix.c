// SPDX-License-Identifier: GPL-2.0
/*
 * nuq: one line of text for the rendered sets - a span of the corpus, its
 * words shuffled in one of four cases, words mixed with numbers, dates,
 * prices, codes and punctuation, or a "Label: value" record.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_text.h"

static unsigned int up_to_digits(uint64_t *s, unsigned int digits)
{
	unsigned int max = 1;

	while (digits--)
		max *= 10;
	return text_pick(s, 0, max - 1);
}

static const char *word(const struct corpus *c, uint64_t *s)
{
	return c->words[text_rnd(s) % c->nwords];
}

enum wcase { CASE_ASIS, CASE_TITLE, CASE_UPPER, CASE_LOWER };

static void put_word(char *out, size_t len, const char *w, enum wcase wc)
{
	size_t i;

	snprintf(out, len, "%s", w);
	for (i = 0; out[i]; i++) {
		unsigned char ch = (unsigned char)out[i];

		if (wc == CASE_UPPER || (wc == CASE_TITLE && !i))
			out[i] = (char)toupper(ch);
		else if (wc == CASE_LOWER || wc == CASE_TITLE)
			out[i] = (char)tolower(ch);
	}
}

/* Numbers and the other things a page has that the corpus lacks. */
static void token(const struct corpus *c, uint64_t *s, char *out, size_t len)
{
	static const char *const tld[] = { "org", "com", "net", "de", "io", "edu" };
	static const char *const brackets[] = { "()", "[]", "\"\"", "''", "<>", "{}" };
	static const char *const abbrev[] = { "No.", "p.", "Fig.", "Sec.", "Tab.", "Vol." };
	char w[20], v[20];
	const char *b;

	switch (text_pick(s, 0, 15)) {
	case 0:
		snprintf(out, len, "%u", up_to_digits(s, text_pick(s, 1, 6)));
		break;
	case 1:
		snprintf(out, len, "%u.%0*u", up_to_digits(s, text_pick(s, 1, 3)), 2, text_pick(s, 0, 99));
		break;
	case 2:
		if (text_pick(s, 0, 1))
			snprintf(out, len, "%u,%03u", text_pick(s, 1, 999), text_pick(s, 0, 999));
		else
			snprintf(out, len, "%u,%03u,%03u", text_pick(s, 1, 99), text_pick(s, 0, 999),
				 text_pick(s, 0, 999));
		break;
	case 3:
		snprintf(out, len, "%s%u%s%%", text_pick(s, 0, 3) ? "" : "-", text_pick(s, 0, 100),
			 text_pick(s, 0, 2) ? "" : ".5");
		break;
	case 4:
		snprintf(out, len, "$%u.%02u", up_to_digits(s, text_pick(s, 1, 4)), text_pick(s, 0, 99));
		break;
	case 5:
		snprintf(out, len, "%04u-%02u-%02u", text_pick(s, 1950, 2049), text_pick(s, 1, 12),
			 text_pick(s, 1, 28));
		break;
	case 6:
		snprintf(out, len, text_pick(s, 0, 1) ? "%02u/%02u/%04u" : "%02u.%02u.%04u",
			 text_pick(s, 1, 28), text_pick(s, 1, 12), text_pick(s, 1950, 2049));
		break;
	case 7:
		if (text_pick(s, 0, 1))
			snprintf(out, len, "%02u:%02u", text_pick(s, 0, 23), text_pick(s, 0, 59));
		else
			snprintf(out, len, "%02u:%02u:%02u", text_pick(s, 0, 23), text_pick(s, 0, 59),
				 text_pick(s, 0, 59));
		break;
	case 8:
		if (text_pick(s, 0, 1))
			snprintf(out, len, "(%03u) %03u-%04u", text_pick(s, 100, 999), text_pick(s, 0, 999),
				 text_pick(s, 0, 9999));
		else
			snprintf(out, len, "+%u %u %07u", text_pick(s, 1, 99), text_pick(s, 10, 999),
				 text_pick(s, 0, 9999999));
		break;
	case 9:
		snprintf(out, len, "v%u.%u.%u", text_pick(s, 0, 12), text_pick(s, 0, 40), text_pick(s, 0, 99));
		break;
	case 10: {
		/* A product or serial code: capitals and digits, no language to help. */
		static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
		unsigned int n1 = text_pick(s, 2, 4), n2 = text_pick(s, 3, 5), i, o = 0;

		for (i = 0; i < n1 + n2 + 1 && o + 1 < len; i++)
			out[o++] = i == n1 ? '-' : set[text_pick(s, 0, sizeof(set) - 2)];
		out[o] = 0;
		break;
	}
	case 11:
		put_word(w, sizeof(w), word(c, s), CASE_LOWER);
		put_word(v, sizeof(v), word(c, s), CASE_LOWER);
		if (text_pick(s, 0, 1))
			snprintf(out, len, "%s@%s.%s", w, v, tld[text_pick(s, 0, 5)]);
		else
			snprintf(out, len, "%s%u@%s.%s", w, text_pick(s, 1, 99), v,
				 tld[text_pick(s, 0, 5)]);
		break;
	case 12:
		b = brackets[text_pick(s, 0, 5)];
		put_word(w, sizeof(w), word(c, s), text_pick(s, 0, 3));
		snprintf(out, len, "%c%s%c", b[0], w, b[1]);
		break;
	case 13:
		switch (text_pick(s, 0, 3)) {
		case 0:
			snprintf(out, len, "%u+%u=%u", text_pick(s, 0, 99), text_pick(s, 0, 99),
				 text_pick(s, 0, 198));
			break;
		case 1:
			snprintf(out, len, "%u*%u", text_pick(s, 2, 99), text_pick(s, 2, 99));
			break;
		case 2:
			snprintf(out, len, "x^%u", text_pick(s, 2, 9));
			break;
		default:
			snprintf(out, len, "%u/%u", text_pick(s, 1, 99), text_pick(s, 1, 99));
		}
		break;
	case 14:
		put_word(w, sizeof(w), word(c, s), CASE_LOWER);
		put_word(v, sizeof(v), word(c, s), CASE_LOWER);
		switch (text_pick(s, 0, 5)) {
		case 0:
			snprintf(out, len, "#%u", text_pick(s, 1, 999));
			break;
		case 1:
			snprintf(out, len, "@%s", w);
			break;
		case 2:
			snprintf(out, len, "%s_%s", w, v);
			break;
		case 3:
			snprintf(out, len, "~/%s", w);
			break;
		case 4:
			snprintf(out, len, "%s|%s", w, v);
			break;
		default:
			snprintf(out, len, "%s&%s", w, v);
		}
		break;
	default:
		snprintf(out, len, "%s %u", abbrev[text_pick(s, 0, 5)], text_pick(s, 1, 999));
	}
}

/* Appends " item" if the line stays within TEXT_MAX_CHARS. */
static int append(char *line, const char *item)
{
	size_t n = strlen(line), m = strlen(item);

	if (n + !!n + m > TEXT_MAX_CHARS)
		return -1;
	if (n)
		line[n++] = ' ';
	memcpy(line + n, item, m + 1);
	return 0;
}

/* A span of the corpus as written: 8 to TEXT_MAX_CHARS characters, whole words. */
static void span(const struct corpus *c, uint64_t *s, char *line)
{
	size_t start = text_rnd(s) % (c->len - TEXT_MAX_CHARS), want = text_pick(s, 8, TEXT_MAX_CHARS);
	size_t end;

	while (start < c->len && c->text[start] != ' ')
		start++;
	start++;
	end = start;
	/* Whole words up to the wanted length, at least one. */
	while (end < c->len) {
		size_t next = end + 1;

		while (next < c->len && c->text[next] != ' ')
			next++;
		if (next - start > want && end > start)
			break;
		if (next - start > TEXT_MAX_CHARS)
			break;
		end = next;
	}
	if (end == start)
		end = start + 1;
	memcpy(line, c->text + start, end - start);
	line[end - start] = 0;
	if (line[0] == ' ')
		memmove(line, line + 1, strlen(line));
}

char *text_line(const struct corpus *c, uint64_t *s)
{
	static const char punct[] = ",.;:!?";
	char line[TEXT_MAX_CHARS + 1] = "", item[64];
	unsigned int kind = text_pick(s, 0, 99), items, i;
	enum wcase wc = text_pick(s, 0, 9) < 5 ? CASE_ASIS : (enum wcase)text_pick(s, 1, 3);

	if (kind < 25) {
		span(c, s, line);
		return strdup(line);
	}
	items = text_pick(s, 2, 7);
	for (i = 0; i < items; i++) {
		if (kind >= 85 && i % 2 == 0) {
			/* A record: "Label: value". */
			put_word(item, sizeof(item), word(c, s), CASE_TITLE);
			strcat(item, ":");
		} else if (kind >= 85 || (kind >= 50 && text_pick(s, 0, 9) < 4)) {
			token(c, s, item, sizeof(item));
		} else {
			put_word(item, sizeof(item), word(c, s), wc);
			if (text_pick(s, 0, 6) == 0)
				strncat(item, &punct[text_pick(s, 0, sizeof(punct) - 2)], 1);
		}
		if (append(line, item) && line[0])
			break;
		if (!line[0]) {
			/* Even the first item is too long: cut it. */
			item[TEXT_MAX_CHARS] = 0;
			append(line, item);
		}
	}
	return strdup(line);
}
