/* test_multisheet.c - multi-sheet templates (`parts:` in a mapping, docs/mapping.md): one
 * document read from several sheets of one workbook, each part found by its own anchors
 * whatever its sheet is called; values, blank cells and findings keep their sheet; a rule across
 * parts; a missing required part named; load errors located. On the real Anhua 决算
 * (samples/juesuan) and on sheets built in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfsheet/check.h"
#include "perfsheet/mapping.h"
#include "perfsheet/reader.h"
#include "workbook_int.h"

#define MINI_DIR "tests/data/mapping/multisheet"
#define ANHUA "samples/juesuan/anhua-2021-juesuan.xls"

static ps_workbook *open_anhua(void)
{
    ps_workbook *wb = NULL;
    ps_error err;
    ps_error_clear(&err);
    ps_limits lim = ps_reader_default_limits();
    assert_int_equal(ps_reader_open(ANHUA, &lim, &wb, &err), PS_OK);
    return wb;
}

static const ps_value *value_on(const ps_document *d, const char *key, const char *sheet, const char *a1)
{
    const ps_value *v = ps_document_get(d, key);
    assert_non_null(v);
    char ref[320], want[320];
    snprintf(want, sizeof want, "%s!%s", sheet, a1);
    assert_string_equal(ps_document_value_ref(d, v, ref, sizeof ref), want);
    assert_string_equal(ps_document_value_sheet(d, v), sheet);
    return v;
}

/* One document from the two sheets the parts name (公开01表, 公开03表), none from the optional
 * part that is not there, and none of the built-in juesuan, which would take the same sheets: a
 * -m mapping claims first; a rule across the parts points at its left side's sheet and names the
 * other sheet's cell with its sheet. */
static void test_anhua_two_parts(void **state)
{
    (void)state;
    ps_mapping_set *set = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_set_load(MINI_DIR, &set, &err), PS_OK);
    ps_workbook *wb = open_anhua();
    ps_document **docs = NULL;
    size_t n = 0;
    assert_int_equal(ps_mapping_extract_workbook(set, wb, ANHUA, &docs, &n, &err), PS_OK);
    assert_int_equal(n, 1);
    ps_document *d = docs[0];
    assert_string_equal(ps_document_template(d), "jsmini");
    assert_int_equal(ps_document_sheet_count(d), 2);
    assert_string_equal(ps_document_sheet(d), "公开01表");
    assert_string_equal(ps_document_sheet_at(d, 1), "公开03表");
    assert_null(ps_document_sheet_at(d, 2));
    assert_true(value_on(d, "income_total", "公开01表", "C33")->number == 5986.91);
    assert_true(value_on(d, "expense_total", "公开01表", "F33")->number == 6866.94);
    assert_true(value_on(d, "t03_total", "公开03表", "C7")->number == 6866.94);
    assert_true(value_on(d, "basic_expense", "公开03表", "D7")->number == 1048.87);
    assert_null(ps_document_get(d, "missing_total")); /* the optional part has no sheet */

    /* the spill file's encoding keeps every sheet */
    char *data = NULL;
    size_t len = 0;
    assert_true(ps_document_encode(d, &data, &len));
    ps_document *back = ps_document_decode(data, len);
    free(data);
    assert_non_null(back);
    assert_int_equal(ps_document_sheet_count(back), 2);
    value_on(back, "t03_total", "公开03表", "C7");
    ps_document_free(back);

    ps_checker *checker = NULL;
    assert_int_equal(ps_checker_new(set, &checker, &err), PS_OK);
    assert_int_equal(ps_checker_check_document(checker, d, &err), PS_OK);
    const ps_findings *fl = ps_document_findings_const(d);
    const ps_finding *cross = NULL, *same = NULL, *absent = NULL;
    for (size_t i = 0; i < ps_findings_count(fl); i++) {
        const ps_finding *f = ps_findings_at(fl, i);
        if (!strcmp(f->rule, "jsmini.across"))
            cross = f;
        else if (!strcmp(f->rule, "jsmini.basic"))
            same = f;
        else if (!strcmp(f->rule, "jsmini.present"))
            absent = f;
        else
            assert_string_equal(f->rule, "jsmini.expense (no finding expected)");
    }
    /* 5986.91 (公开01表) <= 6866.94 - 1000: fails, at C33 of 公开01表, 公开03表's C7 named with its sheet */
    assert_non_null(cross);
    assert_string_equal(cross->sheet, "公开01表");
    assert_string_equal(cross->cell, "C33");
    assert_int_equal(cross->ncells, 2);
    assert_string_equal(cross->cells[1], "公开03表!C7");
    assert_non_null(same);
    assert_string_equal(same->sheet, "公开03表");
    assert_string_equal(same->cell, "D7");
    assert_string_equal(same->cells[1], "C7");
    /* a label not found in its part's sheet: no cell, the message names the sheet it was looked for in */
    assert_non_null(absent);
    assert_null(absent->cell);
    print_message("%s\n", absent->message);
    assert_non_null(strstr(absent->message, "未找到工作表「公开03表」中的标签“没有这个标签”"));
    ps_checker_free(checker);
    for (size_t i = 0; i < n; i++)
        ps_document_free(docs[i]);
    free(docs);

    /* detect says which part each sheet holds */
    ps_detection *det = NULL;
    assert_int_equal(ps_mapping_detect(set, wb, &det, &n, &err), PS_OK);
    assert_int_equal(n, 9);
    assert_string_equal(ps_mapping_id(det[0].mapping), "jsmini");
    assert_string_equal(det[0].part, "公开01表");
    assert_true(det[0].complete);
    assert_string_equal(det[2].part, "公开03表");
    /* the built-in juesuan matches every sheet too, but a -m mapping claims its sheets first: the
     * rest are juesuan's parts of an incomplete match, saying which parts it lacks */
    assert_string_equal(ps_mapping_id(det[1].mapping), "juesuan");
    assert_string_equal(det[1].part, "公开02表");
    assert_false(det[1].complete);
    print_message("%s\n", det[1].missing);
    assert_non_null(strstr(det[1].missing, "公开01表"));
    free(det);
    ps_workbook_free(wb);
    ps_mapping_set_free(set);
}

/* ---- sheets built in memory ---- */

static void put_text(ps_workbook *wb, ps_sheet *sh, uint32_t r, uint32_t c, const char *text)
{
    ps_cell cell = {.row = r, .col = c, .decimals = 255, .type = PS_CELL_TEXT};
    cell.text = ps_workbook_strndup(wb, text, strlen(text));
    assert_true(ps_sheet_put(sh, &cell));
}

static void put_number(ps_sheet *sh, uint32_t r, uint32_t c, double x)
{
    ps_cell cell = {.row = r, .col = c, .decimals = 255, .type = PS_CELL_NUMBER, .number = x};
    assert_true(ps_sheet_put(sh, &cell));
}

/* Part a's title (支出决算表) is contained in part b's (一般公共预算财政拨款支出决算表): the part
 * with fewer candidate sheets chooses first, so each part gets its own sheet whatever the sheets
 * are called and in whatever order they come. */
static const char two_titles[] =
    "id: tt\n"
    "parts:\n"
    "  - name: 支出表\n"
    "    detect: {title: 支出决算表}\n"
    "    fields: [{key: a, find: 合计, take: right}]\n"
    "  - name: 一般公共预算表\n"
    "    detect: {title: 一般公共预算财政拨款支出决算表}\n"
    "    fields: [{key: b, find: 合计, take: right}]\n"
    "rules:\n"
    "  - {id: tt.ab, check: a >= b, message: \"支出 {actual:num} 小于 {expected:num}\"}\n";

static ps_workbook *two_sheets(bool missing_a)
{
    ps_workbook *wb = ps_workbook_new(PS_FORMAT_XLSX);
    ps_sheet *s1 = ps_workbook_add_sheet(wb, "Sheet1");
    put_text(wb, s1, 0, 0, "一般公共预算财政拨款支出决算表");
    put_text(wb, s1, 3, 0, "合计");
    put_number(s1, 3, 1, 80);
    ps_sheet *s2 = ps_workbook_add_sheet(wb, "表3");
    if (!missing_a) {
        put_text(wb, s2, 1, 1, "支出决算表");
        put_text(wb, s2, 5, 1, "合计");
        put_number(s2, 5, 2, 100);
    }
    ps_workbook_finish(wb);
    return wb;
}

static ps_mapping_set *set_of(const char *text)
{
    char dir[] = "/tmp/ps-multisheet-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/m.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    ps_mapping_set *set = NULL;
    ps_error err;
    ps_error_clear(&err);
    if (ps_mapping_set_load(dir, &set, &err) != PS_OK)
        print_error("%s:%d:%d: %s\n", err.file, err.line, err.col, err.message);
    assert_non_null(set);
    remove(path);
    remove(dir);
    return set;
}

static void test_parts_choose_their_sheets(void **state)
{
    (void)state;
    ps_mapping_set *set = set_of(two_titles);
    ps_workbook *wb = two_sheets(false);
    ps_document **docs = NULL;
    size_t n = 0;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_extract_workbook(set, wb, "w.xlsx", &docs, &n, &err), PS_OK);
    assert_int_equal(n, 1);
    /* the document's sheets come in part order, not workbook order */
    assert_string_equal(ps_document_sheet_at(docs[0], 0), "表3");
    assert_string_equal(ps_document_sheet_at(docs[0], 1), "Sheet1");
    value_on(docs[0], "a", "表3", "C6");
    value_on(docs[0], "b", "Sheet1", "B4");
    ps_document_free(docs[0]);
    free(docs);
    ps_workbook_free(wb);

    /* a required part missing: no document, the part named */
    wb = two_sheets(true);
    assert_int_equal(ps_mapping_extract_workbook(set, wb, "w.xlsx", &docs, &n, &err), PS_ERR_NO_TEMPLATE);
    print_message("%s\n", err.message);
    assert_non_null(strstr(err.message, "tt"));
    assert_non_null(strstr(err.message, "1/2"));
    assert_non_null(strstr(err.message, "缺少："));
    ps_workbook_free(wb);
    ps_mapping_set_free(set);
}

/* ---- load errors ---- */

static const struct {
    const char *text;
    int line, col;
    const char *says;
} bad[] = {
    {"id: x\ndetect: {title: t}\nparts:\n  - {name: a, detect: {title: t}, fields: [{key: k, at: A1}]}\n", 2,
     1, "有 parts 时，detect 应写在各部分里"},
    {"id: x\nparts:\n  - {detect: {title: t}, fields: [{key: k, at: A1}]}\n", 3, 6, "需要 name"},
    {"id: x\nparts:\n  - {name: a, fields: [{key: k, at: A1}]}\n", 3, 6, "需要 detect"},
    {"id: x\nparts:\n  - {name: a, detect: {title: t}}\n", 3, 6, "至少需要 fields 或 tables"},
    {"id: x\nparts:\n  - {name: a, detect: {title: t}, fields: [{key: k, at: A1}]}\n"
     "  - {name: a, detect: {title: u}, fields: [{key: j, at: A1}]}\n",
     4, 12, "部分名“a”重复"},
    /* keys and tables are one namespace across the parts */
    {"id: x\nparts:\n  - {name: a, detect: {title: t}, fields: [{key: k, at: A1}]}\n"
     "  - {name: b, detect: {title: u}, fields: [{key: k, at: A2}]}\n",
     4, 50, "键“k”重复定义"},
    {"id: x\nparts:\n  - name: a\n    detect: {title: t}\n    tables: [{name: t, header: h, row_key: c, "
     "columns: [{key: c, header: h}]}]\n"
     "  - name: b\n    detect: {title: u}\n    tables: [{name: t, header: h, row_key: c, columns: [{key: c, "
     "header: h}]}]\n",
     8, 21, "表名“t”重复定义"},
    {"id: x\nparts:\n  - {name: a, optional: true, detect: {title: t}, fields: [{key: k, at: A1}]}\n", 3, 6,
     "至少要有一部分不是 optional"},
    {"id: x\nparts:\n  - {name: a, detect: {title: t}, fields: [{key: k, at: A1}], colour: red}\n", 3, 63,
     "parts中未知的键“colour”"},
    /* rules resolve against every part's keys */
    {"id: x\nparts:\n  - {name: a, detect: {title: t}, fields: [{key: total, at: A1}]}\n"
     "rules:\n  - {id: x.r, check: totl > 0, message: m}\n",
     5, 22, "totl"},
};

static void test_load_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ps_mapping *m = NULL;
        ps_error err;
        ps_error_clear(&err);
        ps_status st = ps_mapping_load_text("bad.yaml", bad[i].text, strlen(bad[i].text), &m, &err);
        print_message("row %zu: %d:%d %s\n", i, err.line, err.col, err.message);
        assert_int_equal(st, PS_ERR_MAPPING);
        assert_null(m);
        assert_int_equal(err.line, bad[i].line);
        assert_int_equal(err.col, bad[i].col);
        assert_non_null(strstr(err.message, bad[i].says));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anhua_two_parts),
        cmocka_unit_test(test_parts_choose_their_sheets),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
