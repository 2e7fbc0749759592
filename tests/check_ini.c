/*
 * check_ini.c - snapshot/compat/ini.c, the INI reader of builds without libinih (the
 * Windows build): built and run on every platform (natively too, where the
 * daemon itself uses libinih), so that both readers accept the same files.
 * The handler records every call; the assertions are on the calls and the
 * returned line numbers.  The same file linked with Debian's libinih 55
 * (-linih instead of snapshot/compat/ini.c) passes too: the expectations are inih's.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "snapshot/compat/md_ini.h"

struct lines {
	const char *text;
	size_t pos;
};

/* An ini_reader over a string, fgets-like. */
static char *
read_text(char *str, int num, void *arg)
{
	struct lines *l = arg;
	size_t n = 0;

	if (l->text[l->pos] == '\0')
		return NULL;
	while (l->text[l->pos] != '\0' && n + 1 < (size_t)num) {
		char c = l->text[l->pos++];

		str[n++] = c;
		if (c == '\n')
			break;
	}
	str[n] = '\0';
	return str;
}

struct calls {
	char log[2048];
	int refuse_key; /* handler returns 0 for key "bad" when set */
};

static int
record(void *arg, const char *section, const char *name, const char *value)
{
	struct calls *c = arg;
	size_t len = strlen(c->log);

	snprintf(c->log + len, sizeof(c->log) - len, "[%s]%s=%s;", section, name, value);
	return !(c->refuse_key && strcmp(name, "bad") == 0);
}

static int
parse(const char *text, struct calls *c)
{
	struct lines l = {text, 0};

	return ini_parse_stream(read_text, &l, record, c);
}

START_TEST(test_ini_parse_stream__sections_keys_comments)
{
	struct calls c = {"", 0};

	ck_assert_int_eq(parse("\xEF\xBB\xBF; comment\n"
	                       "# another\n"
	                       "[memdeltad]\n"
	                       "db = C:\\ProgramData\\m.db   ; inline comment\n"
	                       "listen: 127.0.0.1:7373\n"
	                       "\n"
	                       "[target w3wp]  \n"
	                       "name=w3wp.exe\n"
	                       "cmdline = a;b\n"
	                       "  continued value\n",
	                       &c),
	                 0);
	ck_assert_str_eq(c.log, "[memdeltad]db=C:\\ProgramData\\m.db;"
	                        "[memdeltad]listen=127.0.0.1:7373;"
	                        "[target w3wp]name=w3wp.exe;"
	                        "[target w3wp]cmdline=a;b;"
	                        "[target w3wp]cmdline=continued value;");
}
END_TEST

START_TEST(test_ini_parse_stream__first_bad_line_and_go_on)
{
	struct calls c = {"", 0};

	/* Line 3 has no '=' or ':', line 5 an unclosed section; both are
	 * errors, the first is returned and the keys after are still read. */
	ck_assert_int_eq(parse("[a]\nx = 1\nnot a key\ny = 2\n[b\nz = 3\n", &c), 3);
	ck_assert_str_eq(c.log, "[a]x=1;[a]y=2;[a]z=3;");
}
END_TEST

START_TEST(test_ini_parse_stream__handler_refuses)
{
	struct calls c = {"", 1};

	ck_assert_int_eq(parse("[s]\nok = 1\n\nbad = 2\nbad = 3\n", &c), 4);
	ck_assert_str_eq(c.log, "[s]ok=1;[s]bad=2;[s]bad=3;");
}
END_TEST

START_TEST(test_ini_parse_stream__indented_line_continues_a_key)
{
	struct calls c = {"", 0};

	/* As in inih: any indented line after a key continues it, even one
	 * that looks like a section; blank lines do not end the key. */
	ck_assert_int_eq(parse("[a]\nk = 1\n\n  [b]\n", &c), 0);
	ck_assert_str_eq(c.log, "[a]k=1;[a]k=[b];");
}
END_TEST

START_TEST(test_ini_parse_stream__empty_and_keys_before_sections)
{
	struct calls c = {"", 0};

	ck_assert_int_eq(parse("", &c), 0);
	ck_assert_str_eq(c.log, "");
	ck_assert_int_eq(parse("k = v\n", &c), 0);
	ck_assert_str_eq(c.log, "[]k=v;");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ini");
	TCase *tc = tcase_create("ini_parse_stream");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_ini_parse_stream__sections_keys_comments);
	tcase_add_test(tc, test_ini_parse_stream__first_bad_line_and_go_on);
	tcase_add_test(tc, test_ini_parse_stream__handler_refuses);
	tcase_add_test(tc, test_ini_parse_stream__indented_line_continues_a_key);
	tcase_add_test(tc, test_ini_parse_stream__empty_and_keys_before_sections);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
