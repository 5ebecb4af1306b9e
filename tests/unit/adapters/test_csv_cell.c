/* test_csv_cell.c - writing one CSV cell (adapters/common/csv_cell.c): the
 * quoting of ';', '"' and line breaks, the formula guard (= + - @, tab,
 * carriage return get a leading ' when the text came from another party),
 * and the UTF-8 byte order mark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/csv_cell.h"

/* The cell text as csv_cell_write (or, when code, csv_cell_write_code_as_text)
 * writes it (static buffer). */
static const char *s_write(const char *text, bool guard, bool code)
{
    static char out[256];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    if (code)
        csv_cell_write_code_as_text(f, text);
    else
        csv_cell_write(f, text, guard);
    assert_int_equal(fclose(f), 0);
    snprintf(out, sizeof out, "%s", buf);
    free(buf);
    return out;
}

static const char *s_cell(const char *text, bool guard)
{
    return s_write(text, guard, false);
}

static void test_csv_cell_plain_and_quoted(void **state)
{
    (void)state;
    assert_string_equal(s_cell("Annecy", true), "Annecy");
    assert_string_equal(s_cell("", true), "");
    assert_string_equal(s_cell(NULL, true), "");
    assert_string_equal(s_cell("a;b", false), "\"a;b\"");
    assert_string_equal(s_cell("dit \"oui\"", false), "\"dit \"\"oui\"\"\"");
    assert_string_equal(s_cell("l1\nl2", false), "\"l1\nl2\"");
    assert_string_equal(s_cell("Bâtiment B", true), "Bâtiment B");
}

static void test_csv_cell_guards_formulas(void **state)
{
    (void)state;
    assert_string_equal(s_cell("=HYPERLINK(\"http://x\")", true),
                        "\"'=HYPERLINK(\"\"http://x\"\")\"");
    assert_string_equal(s_cell("=1+1;2", true), "\"'=1+1;2\"");
    assert_string_equal(s_cell("+33 4 50", true), "'+33 4 50");
    assert_string_equal(s_cell("-2+3", true), "'-2+3");
    assert_string_equal(s_cell("@SUM(A1)", true), "'@SUM(A1)");
    assert_string_equal(s_cell("\tcmd", true), "'\tcmd");
    /* Not guarded: the writer's own cells, and text not starting with one. */
    assert_string_equal(s_cell("-1", false), "-1");
    assert_string_equal(s_cell("a=b", true), "a=b");
    assert_true(csv_cell_is_formula("=x"));
    assert_false(csv_cell_is_formula("x="));
    assert_false(csv_cell_is_formula(""));
    assert_true(csv_cell_needs_quotes("a\rb"));
    assert_false(csv_cell_needs_quotes("a,b"));
}

/* Codes of digits only, asked as text: ="01004", which Excel opening the
 * file keeps as 01004 (not 1004, nor 7,40125E+13 for a NUR); anything else
 * written and guarded as usual, so a formula from a message never runs. */
static void test_csv_cell_codes_as_text_keep_their_zeros(void **state)
{
    (void)state;
    assert_string_equal(s_write("01004", true, true), "=\"01004\"");
    assert_string_equal(s_write("074012500000999", true, true), "=\"074012500000999\"");
    assert_string_equal(s_write("200066793", true, true), "=\"200066793\"");
    assert_string_equal(s_write("2A004", true, true), "2A004"); /* Corsica: text already */
    assert_string_equal(s_write("", true, true), "");
    assert_string_equal(s_write(NULL, true, true), "");
    assert_string_equal(s_write("=HYPERLINK(\"x\")", true, true), "\"'=HYPERLINK(\"\"x\"\")\"");
    assert_string_equal(s_write("-1", true, true), "'-1");
    assert_string_equal(s_write("12,5", true, true), "12,5");
    assert_true(csv_cell_is_code("0"));
    assert_false(csv_cell_is_code("1 004"));
    assert_false(csv_cell_is_code("+33"));
    assert_false(csv_cell_is_code(""));
}

static void test_csv_cell_bom_is_utf8(void **state)
{
    (void)state;
    assert_memory_equal(CSV_CELL_BOM, "\xEF\xBB\xBF", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_cell_plain_and_quoted),
        cmocka_unit_test(test_csv_cell_guards_formulas),
        cmocka_unit_test(test_csv_cell_codes_as_text_keep_their_zeros),
        cmocka_unit_test(test_csv_cell_bom_is_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
