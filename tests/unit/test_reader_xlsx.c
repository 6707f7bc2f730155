/* test_reader_xlsx.c - the .xlsx reader on the Hengyang tables (truth from openpyxl) and on
 * real-world files from other writers (tests/data/xlsx/README.md says where each comes from). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfsheet/reader.h"
#include "format_reader.h"

#define DATA "tests/data/xlsx/"

static ps_status open_xlsx_file(const char *path, const ps_limits *lim, ps_workbook **wb, ps_error *err)
{
    return open_with(ps_reader_open_xlsx, path, lim, wb, err);
}

static ps_workbook *open_ok(const char *path)
{
    ps_workbook *wb = NULL;
    ps_error err;
    ps_error_clear(&err);
    ps_status st = ps_reader_open(path, NULL, &wb, &err);
    if (st != PS_OK)
        print_error("%s: %s: %s\n", path, ps_error_code_name(st), err.message);
    assert_int_equal(st, PS_OK);
    assert_non_null(wb);
    assert_int_equal(ps_workbook_format(wb), PS_FORMAT_XLSX);
    return wb;
}

static const ps_cell *at(const ps_sheet *sh, const char *ref)
{
    uint32_t row, col;
    assert_true(ps_cell_ref_parse(ref, &row, &col));
    return ps_sheet_cell(sh, row, col);
}

/* A cell that must exist with this type; prints its address when it does not. */
static const ps_cell *cell_of(const ps_sheet *sh, const char *ref, ps_cell_type type)
{
    const ps_cell *c = at(sh, ref);
    print_message("cell %s\n", ref);
    assert_non_null(c);
    assert_int_equal(c->type, type);
    return c;
}

static void assert_number(const ps_sheet *sh, const char *ref, double want)
{
    const ps_cell *c = cell_of(sh, ref, PS_CELL_NUMBER);
    assert_true(fabs(c->number - want) < 1e-9);
}

static void assert_text(const ps_sheet *sh, const char *ref, const char *want)
{
    const ps_cell *c = cell_of(sh, ref, PS_CELL_TEXT);
    assert_string_equal(c->text, want);
}

static bool has_merge(const ps_sheet *sh, const char *from, const char *to)
{
    uint32_t r1, c1, r2, c2;
    assert_true(ps_cell_ref_parse(from, &r1, &c1) && ps_cell_ref_parse(to, &r2, &c2));
    const ps_range *m = ps_sheet_merge_at(sh, r1, c1);
    return m && m->first_row == r1 && m->first_col == c1 && m->last_row == r2 && m->last_col == c2;
}

static void test_zpb(void **state)
{
    ps_workbook *wb = open_ok(DATA "zpb.xlsx");
    assert_int_equal(ps_workbook_sheet_count(wb), 1);
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    assert_string_equal(ps_sheet_name(sh), "自评表");
    assert_int_equal(ps_sheet_rows(sh), 31);
    assert_int_equal(ps_sheet_cols(sh), 8);
    assert_int_equal(ps_sheet_cell_count(sh), 110);

    /* 执行率 F6 = E6/D6: a formula whose cached result is 1, shown as 0% */
    const ps_cell *f6 = cell_of(sh, "F6", PS_CELL_NUMBER);
    assert_true(f6->formula);
    assert_true(f6->number == 1.0);
    assert_int_equal(f6->format, PS_FMT_PERCENT);
    assert_int_equal(f6->decimals, 0);
    const ps_cell *e6 = cell_of(sh, "E6", PS_CELL_NUMBER);
    assert_false(e6->formula);
    assert_int_equal(e6->format, PS_FMT_GENERAL); /* LibreOffice's custom "General" (id 164) */
    const ps_cell *g6 = cell_of(sh, "G6", PS_CELL_NUMBER);
    assert_int_equal(g6->format, PS_FMT_NUMBER); /* "0" */
    assert_int_equal(g6->decimals, 0);

    assert_number(sh, "C6", 1059.83);
    assert_number(sh, "D6", 1220.03);
    assert_number(sh, "C8", 1202.7);
    assert_number(sh, "F15", 949768);
    assert_number(sh, "H27", 97);
    assert_text(sh, "A3", "（ 20201 年度）");
    assert_text(sh, "D7", "按支出性质分\u3000\u3000");
    assert_text(sh, "B15", "产出\n指标\n（50分）");
    assert_text(sh, "E15", "\u3000940812");
    assert_text(sh, "C10", "\u3000");
    assert_text(sh, "E26", "\u3000≥98%");
    assert_text(sh, "A4", "填报单位（盖章）： 衡阳县医疗保障事务中心                填报时间：2022年4月25日");
    assert_null(at(sh, "B2")); /* styled but empty */

    assert_int_equal(ps_sheet_merge_count(sh), 35);
    assert_true(has_merge(sh, "A2", "H2"));
    assert_true(has_merge(sh, "G15", "G21"));
    assert_true(has_merge(sh, "A31", "H31"));
    /* 得分 48 is merged over the 产出 block */
    uint32_t r, c;
    assert_true(ps_cell_ref_parse("H19", &r, &c));
    const ps_cell *shown = ps_sheet_cell_shown(sh, r, c);
    assert_non_null(shown);
    assert_true(shown->number == 48);
    ps_workbook_free(wb);
}

static void test_jcsj(void **state)
{
    ps_workbook *wb = open_ok(DATA "jcsj.xlsx");
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    assert_string_equal(ps_sheet_name(sh), "基础数据表");
    assert_int_equal(ps_sheet_rows(sh), 28);
    assert_int_equal(ps_sheet_cols(sh), 4);
    assert_text(sh, "B5", "\u3000114"); /* 编制数 typed as text with a leading U+3000 */
    assert_number(sh, "C5", 112);
    assert_text(sh, "D5", "\u3000100%");
    assert_text(sh, "C9", "10.5\u3000");
    assert_number(sh, "B9", 10.5);
    assert_number(sh, "D24", 264.75);
    assert_text(sh, "D3", "2022年4月25日");
    assert_text(sh, "A9", "       2、三公经费");
    assert_null(at(sh, "B10"));
    assert_int_equal(ps_sheet_merge_count(sh), 6);
    assert_true(has_merge(sh, "A4", "A5"));
    assert_true(has_merge(sh, "B26", "D26"));
    ps_workbook_free(wb);
}

static void test_renamed(void **state)
{
    ps_workbook *wb = open_ok("tests/data/bad/xlsx-renamed.xls");
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    assert_string_equal(ps_sheet_name(sh), "自评表");
    assert_text(sh, "A3", "（ 2021 年度）");
    const ps_cell *f6 = cell_of(sh, "F6", PS_CELL_NUMBER);
    assert_true(f6->formula);
    assert_true(fabs(f6->number - 0.972032) < 1e-6);
    assert_int_equal(f6->format, PS_FMT_PERCENT);
    assert_int_equal(f6->decimals, 2);
    assert_number(sh, "E6", 1504.57);
    ps_workbook_free(wb);
}

/* Inline strings, entities, t="b", t="d", built-in and custom formats, formula strings. */
static void test_inline_and_types(void **state)
{
    ps_workbook *wb = open_ok(DATA "sheetjs__xlsx-stream-d-date-cell.xlsx");
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    assert_text(sh, "B1", "てすと");
    assert_text(sh, "C1", "&'\";<>");
    assert_text(sh, "D1", "&amp;");
    assert_number(sh, "D3", 1.23456789e+22);
    const ps_cell *b4 = cell_of(sh, "B4", PS_CELL_BOOL);
    assert_true(b4->number == 1);
    assert_true(cell_of(sh, "C4", PS_CELL_BOOL)->number == 0);
    const ps_cell *b5 = cell_of(sh, "B5", PS_CELL_DATE); /* t="d" 2014-02-14T08:27:48.765Z */
    assert_string_equal(b5->text, "2014-02-14T08:27:49");
    assert_true(fabs(b5->number - 41684.3526) < 1e-4);
    const ps_cell *b6 = cell_of(sh, "B6", PS_CELL_NUMBER);
    assert_int_equal(b6->format, PS_FMT_NUMBER);
    assert_int_equal(b6->decimals, 2);
    const ps_cell *b8 = cell_of(sh, "B8", PS_CELL_NUMBER); /* built-in 10: 0.00% */
    assert_int_equal(b8->format, PS_FMT_PERCENT);
    assert_int_equal(b8->decimals, 2);
    const ps_cell *b9 = cell_of(sh, "B9", PS_CELL_NUMBER); /* custom 00.000% */
    assert_int_equal(b9->format, PS_FMT_PERCENT);
    assert_int_equal(b9->decimals, 3);
    const ps_cell *b7 = cell_of(sh, "B7", PS_CELL_DATE); /* built-in 18 h:mm AM/PM */
    assert_string_equal(b7->text, "1900-01-01T12:00:00");
    const ps_cell *b11 = cell_of(sh, "B11", PS_CELL_TEXT); /* inline string with a formula */
    assert_true(b11->formula);
    assert_string_equal(b11->text, "String1");
    ps_workbook_free(wb);
}

static void test_dates_and_shared_formulas(void **state)
{
    ps_workbook *wb = open_ok(DATA "exceldatareader__Test_num_double_date_bool_string.xlsx");
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    const ps_cell *c1 = cell_of(sh, "C1", PS_CELL_DATE);
    assert_string_equal(c1->text, "2009-05-11");
    assert_true(c1->number == 39944);
    assert_false(c1->formula);
    const ps_cell *f1 = cell_of(sh, "F1", PS_CELL_DATE);
    assert_string_equal(f1->text, "2009-05-07T11:01:02");
    const ps_cell *c4 = cell_of(sh, "C4", PS_CELL_DATE); /* <f t="shared" si="0"/> */
    assert_true(c4->formula);
    assert_string_equal(c4->text, "2009-06-01");
    const ps_cell *b3 = cell_of(sh, "B3", PS_CELL_NUMBER);
    assert_true(b3->formula);
    assert_true(fabs(b3->number - 4.08) < 1e-9);
    assert_int_equal(b3->decimals, 2);
    ps_workbook_free(wb);

    wb = open_ok(DATA "calamine__shared_formula_bench.xlsx");
    sh = ps_workbook_sheet(wb, 0);
    assert_int_equal(ps_sheet_cell_count(sh), 200);
    for (uint32_t r = 0; r < 100; r++) {
        const ps_cell *b = ps_sheet_cell(sh, r, 1);
        print_message("row %u\n", r + 1);
        assert_non_null(b);
        assert_true(b->formula);
        assert_true(b->number == 2.0 * (r + 1));
        assert_false(ps_sheet_cell(sh, r, 0)->formula);
    }
    ps_workbook_free(wb);

    wb = open_ok(DATA "exceldatareader__roo_1900_base.xlsx"); /* t="d" cells */
    sh = ps_workbook_sheet(wb, 0);
    const ps_cell *a1 = cell_of(sh, "A1", PS_CELL_DATE);
    assert_string_equal(a1->text, "2009-06-15");
    assert_true(a1->number == 39979);
    assert_string_equal(cell_of(sh, "A2", PS_CELL_DATE)->text, "2013-04-19");
    ps_workbook_free(wb);
}

static void test_odd_text(void **state)
{
    /* cells and rows without r attribute take the next column / row */
    ps_workbook *wb = open_ok(DATA "phpspreadsheet__without_cell_reference.xlsx");
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    assert_string_equal(ps_sheet_name(sh), "工作表1");
    assert_int_equal(ps_sheet_cell_count(sh), 100);
    assert_int_equal(ps_sheet_rows(sh), 10);
    assert_int_equal(ps_sheet_cols(sh), 10);
    assert_number(sh, "A1", 1);
    assert_number(sh, "J10", 10);
    assert_number(sh, "E7", 5);
    ps_workbook_free(wb);

    /* phonetic runs (rPh) are not part of the text */
    wb = open_ok(DATA "calamine__rph.xlsx");
    assert_text(ps_workbook_sheet(wb, 0), "A1", "課きく\u3000毛こ");
    ps_workbook_free(wb);

    /* _x000D_ escapes decode to the character */
    wb = open_ok(DATA "roo__x000D.xlsx");
    sh = ps_workbook_sheet(wb, 0);
    assert_string_equal(ps_sheet_name(sh), "情人节活动");
    assert_text(sh, "H2", "1、实物奖中奖概率设置为100%\r\n2、抽到的是卡片1\r\n3、虚拟奖中奖概率设置为100%");
    assert_true(has_merge(sh, "A2", "A66"));
    ps_workbook_free(wb);
}

static void test_limits(void **state)
{
    ps_limits lim = ps_reader_default_limits();
    ps_workbook *wb = NULL;
    ps_error err;

    lim.max_cells_per_sheet = 100; /* zpb has 110 */
    assert_int_equal(open_xlsx_file(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_null(wb);
    assert_non_null(strstr(err.message, "max_cells_per_sheet"));
    assert_string_equal(err.sheet, "自评表");

    lim = ps_reader_default_limits();
    lim.max_xml_depth = 3; /* worksheet/sheetData/row/c is 4 deep */
    assert_int_equal(open_xlsx_file(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_xml_depth"));

    lim = ps_reader_default_limits();
    lim.max_uncompressed = 20000; /* the parts of zpb.xlsx inflate to more */
    assert_int_equal(open_xlsx_file(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_uncompressed"));

    lim = ps_reader_default_limits();
    lim.max_zip_entries = 5; /* zpb.xlsx has 10 */
    assert_int_equal(open_xlsx_file(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_zip_entries"));

    lim = ps_reader_default_limits();
    lim.max_sst_entries = 10;
    assert_int_equal(open_xlsx_file(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_sst_entries"));

    lim = ps_reader_default_limits();
    lim.max_string_bytes = 100; /* E13 holds ~800 spaces */
    assert_int_equal(open_xlsx_file(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_string_bytes"));

    lim = ps_reader_default_limits();
    lim.max_rows = 30; /* row 31 is used */
    assert_int_equal(open_xlsx_file(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_rows"));

    lim = ps_reader_default_limits();
    lim.max_cells_per_file = 50;
    assert_int_equal(open_xlsx_file(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_cells_per_file"));

    lim = ps_reader_default_limits();
    lim.max_sheets = 0;
    assert_int_equal(open_xlsx_file(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_sheets"));

    lim = ps_reader_default_limits();
    lim.max_cols = 7; /* column H is used */
    assert_int_equal(open_xlsx_file(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_cols"));
    assert_null(wb);

    lim = ps_reader_default_limits();
    lim.max_file_bytes = 1000;
    assert_int_equal(ps_reader_open(DATA "zpb.xlsx", &lim, &wb, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_file_bytes"));
    assert_null(wb);
}

/* Hand-made ZIP tails that once pointed the directory walk outside the file. */
static void test_tiny_zips(void **state)
{
    /* a ZIP64 locator pointing far away, in a 42-byte file: EOCD claims 0xFFFF entries */
    unsigned char zip64[42] = {'P',  'K',  6,    7,    0,    0,    0,    0,    0xF0, 0xFF, 0xFF,
                               0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1,    0,    0,    0,    'P',  'K',
                               5,    6,    0,    0,    0,    0,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                               0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0,    0};
    /* one directory entry whose name runs past the end of the directory */
    unsigned char name[22 + 46] = {'P', 'K', 1, 2};
    name[28] = 0xFF; /* name length 255 */
    memcpy(name + 46, "PK\x05\x06\0\0\0\0\x01\0\x01\0\x2E\0\0\0\0\0\0\0\0\0", 22);
    const struct {
        const unsigned char *bytes;
        size_t n;
        ps_status want;
    } cases[] = {{zip64, sizeof zip64, PS_ERR_UNSUPPORTED}, {name, sizeof name, PS_ERR_CORRUPT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[] = "/tmp/ps_test_zip_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, cases[i].bytes, cases[i].n), (ssize_t)cases[i].n);
        close(fd);
        ps_workbook *wb = NULL;
        ps_error err;
        ps_status st = open_xlsx_file(path, NULL, &wb, &err);
        print_message("case %zu: %s %s\n", i, ps_error_code_name(st), err.message);
        unlink(path);
        assert_int_equal(st, cases[i].want);
        assert_null(wb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zpb),
        cmocka_unit_test(test_jcsj),
        cmocka_unit_test(test_renamed),
        cmocka_unit_test(test_inline_and_types),
        cmocka_unit_test(test_dates_and_shared_formulas),
        cmocka_unit_test(test_odd_text),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_tiny_zips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
