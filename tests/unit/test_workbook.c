/* test_workbook.c - the workbook model: builder order, duplicates, merges, A1 references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "workbook_int.h"

static void test_cell_refs(void **state)
{
    static const struct {
        uint32_t row, col;
        const char *ref;
    } refs[] = {{0, 0, "A1"},
                {5, 5, "F6"},
                {0, 25, "Z1"},
                {0, 26, "AA1"},
                {9, 701, "ZZ10"},
                {0, 702, "AAA1"},
                {1048575, 16383, "XFD1048576"}};
    char buf[16];
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        print_message("row %zu: %s\n", i, refs[i].ref);
        assert_string_equal(ps_cell_ref(refs[i].row, refs[i].col, buf, sizeof buf), refs[i].ref);
        uint32_t r, c;
        assert_true(ps_cell_ref_parse(refs[i].ref, &r, &c));
        assert_int_equal(r, refs[i].row);
        assert_int_equal(c, refs[i].col);
    }
    uint32_t r, c;
    assert_true(ps_cell_ref_parse("$F$6", &r, &c));
    assert_int_equal(r, 5);
    static const char *bad[] = {"", "6", "F", "F0", "XFE1", "A1048577", "A1x", "ABCD1", "A-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        print_message("bad %zu: '%s'\n", i, bad[i]);
        assert_false(ps_cell_ref_parse(bad[i], &r, &c));
    }
}

static void test_builder_sorts_and_last_put_wins(void **state)
{
    ps_workbook *wb = ps_workbook_new(PS_FORMAT_XLS_BIFF8);
    ps_sheet *sh = ps_workbook_add_sheet(wb, "自评表");
    ps_cell c = {.row = 5, .col = 5, .type = PS_CELL_NUMBER, .number = 0.98, .decimals = 255};
    assert_true(ps_sheet_put(sh, &c));
    c = (ps_cell){.row = 0, .col = 0, .type = PS_CELL_TEXT, .text = ps_workbook_strndup(wb, "标题", 6)};
    assert_true(ps_sheet_put(sh, &c));
    /* a formula's cached result found later replaces the constant at the same address */
    c = (ps_cell){.row = 5, .col = 5, .type = PS_CELL_NUMBER, .number = 1.0, .formula = true};
    assert_true(ps_sheet_put(sh, &c));
    c = (ps_cell){.row = 7, .col = 1, .type = PS_CELL_BLANK};
    assert_true(ps_sheet_put(sh, &c));
    assert_true(ps_sheet_add_merge(sh, (ps_range){0, 0, 0, 7}));
    ps_workbook_finish(wb);

    const ps_sheet *s = ps_workbook_sheet(wb, 0);
    assert_string_equal(ps_sheet_name(s), "自评表");
    assert_int_equal(ps_sheet_cell_count(s), 2); /* the blank is dropped, the duplicate merged */
    assert_int_equal(ps_sheet_cells(s)[0].row, 0);
    const ps_cell *f6 = ps_sheet_cell(s, 5, 5);
    assert_non_null(f6);
    assert_true(f6->formula);
    assert_true(f6->number == 1.0);
    assert_null(ps_sheet_cell(s, 7, 1));
    assert_int_equal(ps_sheet_rows(s), 6);
    assert_int_equal(ps_sheet_cols(s), 8); /* the merge A1:H1 widens the sheet */
    const ps_cell *shown = ps_sheet_cell_shown(s, 0, 4);
    assert_non_null(shown);
    assert_string_equal(shown->text, "标题");
    assert_non_null(ps_sheet_merge_at(s, 0, 7));
    assert_null(ps_sheet_merge_at(s, 1, 0));
    ps_workbook_free(wb);
    ps_workbook_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cell_refs),
        cmocka_unit_test(test_builder_sorts_and_last_put_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
