/* test_hierarchy.c - code hierarchies on the real 决算 of samples/juesuan (安化县医疗保障局 2021):
 * every 类/款/项 sum of 公开02/03/05 (功能分类, 3/5/7 digits) and of 公开06's groups (经济分类,
 * 3/5) gives exactly the rounding differences of expected.json as 尾数误差 warnings and no error;
 * a 款 changed by 10 is an error at that 款 and its chain only, by 0.01 a warning; crafted
 * tables for a missing level, codes typed every way, the band and blanks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfsheet/hierarchy.h"
#include "perfsheet/reader.h"

#define ANHUA "samples/juesuan/anhua-2021-juesuan.xls"

static const unsigned FUNCTIONAL[] = {3, 5, 7}; /* 功能分类科目编码: 类, 款, 项 */
static const unsigned ECONOMIC[] = {3, 5};      /* 经济分类: 301, 30101 */

static ps_workbook *open_anhua(void)
{
    ps_workbook *wb = NULL;
    ps_error err;
    ps_error_clear(&err);
    ps_limits lim = ps_reader_default_limits();
    if (ps_reader_open(ANHUA, &lim, &wb, &err) != PS_OK)
        print_error("%s: %s\n", ANHUA, err.message);
    assert_non_null(wb);
    return wb;
}

static const ps_sheet *sheet_named(const ps_workbook *wb, const char *name)
{
    for (size_t i = 0; i < ps_workbook_sheet_count(wb); i++)
        if (!strcmp(ps_sheet_name(ps_workbook_sheet(wb, i)), name))
            return ps_workbook_sheet(wb, i);
    fail_msg("no sheet %s", name);
    return NULL;
}

static void cell_name(uint32_t row, uint32_t col, char *buf, size_t size)
{
    snprintf(buf, size, "%c%u", (char)('A' + col), row + 1);
}

/* The tables of the Anhua file that are keyed by codes, found by inspection: the code column,
 * the rows from the 合计 row (or the first code) to the last, and the money columns. */
static const struct {
    const char *sheet;
    uint32_t first, last, code_col, col_from, col_to;
    const unsigned *levels;
    size_t nlevels;
} tables[] = {
    {"公开02表", 6, 33, 0, 2, 8, FUNCTIONAL, 3}, /* 合计 A7, 201 … 2299999; 本年收入合计 … 其他收入 */
    {"公开03表", 6, 36, 0, 2, 7, FUNCTIONAL, 3}, /* 合计 A7; 本年支出合计, 基本, 项目, 上缴, 经营, 对附属 */
    {"公开05表", 6, 32, 0, 2, 4, FUNCTIONAL, 3}, /* 合计 A7; 小计, 基本支出, 项目支出 */
    /* 公开06表: three groups side by side (人员经费 A:C, 公用经费 D:F and G:I); only the first has
     * its own 合计 row in its columns (A34 人员经费合计, C34): 公用经费合计 D34 covers two groups
     * and stands in I34, so those two are checked 类 = Σ 款 without a root */
    {"公开06表", 5, 33, 0, 2, 2, ECONOMIC, 2},
    {"公开06表", 5, 32, 3, 5, 5, ECONOMIC, 2},
    {"公开06表", 5, 32, 6, 8, 8, ECONOMIC, 2},
};

/* samples/juesuan/expected.json, rounding_differences: the 8 of its 11 that are sums of codes
 * (合计 = Σ 类, 类 = Σ 款, 款 = Σ 项). The other three are not code sums: 公开01 F33 (本年支出合计 =
 * Σ of the 01 rows, which carry no codes), 公开04 C38 (总计 = 收入合计 + 年初结转) and 公开05 D7 against
 * 公开06 (a cross-table identity). */
static const struct {
    const char *sheet, *cell;
    double declared, sum, difference;
    const char *parts; /* the children's cells */
} rounding[] = {
    {"公开03表", "C7", 6866.94, 6866.93, 0.01, "C8 C11 C19 C30 C33"},
    {"公开03表", "D7", 1048.87, 1048.86, 0.01, "D8 D11 D19 D30 D33"},
    {"公开03表", "C25", 668.62, 668.63, -0.01, "C26 C27 C28 C29"},
    {"公开03表", "D25", 502.62, 502.63, -0.01, "D26 D27 D28 D29"},
    {"公开05表", "C25", 668.62, 668.63, -0.01, "C26 C27 C28 C29"},
    {"公开05表", "D25", 502.62, 502.63, -0.01, "D26 D27 D28 D29"},
    {"公开06表", "C6", 583.27, 583.28, -0.01, "C7 C8 C9 C10 C11 C12 C13 C14 C15 C16 C17 C18 C19"},
    {"公开06表", "F6", 366.23, 366.22, 0.01,
     "F7 F8 F9 F10 F11 F12 F13 F14 F15 F16 F17 F18 F19 F20 F21 F22 F23 F24 F25 F26 F27 F28 F29 F30 F31 F32 "
     "F33"},
};
#define NROUNDING (sizeof rounding / sizeof rounding[0])

/* Runs the check over every money column of table t; optionally changes one figure first. Each
 * issue found is matched against want (sheet, cell) or counted in *unexpected. */
typedef struct found {
    char sheet[32], cell[16], parts[512];
    ps_hierarchy_issue issue;
} found;

static size_t check_table(const ps_workbook *wb, size_t t, const char *change_cell, double change, found *out,
                          size_t max)
{
    const ps_sheet *sh = sheet_named(wb, tables[t].sheet);
    ps_hierarchy *h = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_hierarchy_build_sheet(sh, tables[t].first, tables[t].last, tables[t].code_col,
                                              tables[t].levels, tables[t].nlevels, &h, &err),
                     PS_OK);
    size_t n = ps_hierarchy_rows(h), nfound = 0;
    double *values = calloc(n, sizeof *values);
    bool *present = calloc(n, sizeof *present);
    assert_non_null(values);
    assert_non_null(present);
    for (uint32_t col = tables[t].col_from; col <= tables[t].col_to; col++) {
        ps_hierarchy_read_column(h, sh, tables[t].first, col, values, present);
        for (size_t i = 0; change_cell && i < n; i++) {
            char name[16];
            cell_name(tables[t].first + (uint32_t)i, col, name, sizeof name);
            if (!strcmp(name, change_cell)) {
                assert_true(present[i]);
                values[i] += change;
            }
        }
        ps_hierarchy_issue *issues = NULL;
        size_t nissues = 0;
        assert_int_equal(ps_hierarchy_check_sums(h, values, present, -1, &issues, &nissues, &err), PS_OK);
        for (size_t k = 0; k < nissues; k++) {
            assert_true(nfound < max);
            found *f = &out[nfound++];
            snprintf(f->sheet, sizeof f->sheet, "%s", tables[t].sheet);
            cell_name(tables[t].first + (uint32_t)issues[k].row, col, f->cell, sizeof f->cell);
            f->issue = issues[k];
            f->parts[0] = '\0';
            for (size_t c = 0; c < ps_hierarchy_child_count(h, issues[k].row); c++) {
                char part[16];
                cell_name(tables[t].first + (uint32_t)ps_hierarchy_child(h, issues[k].row, c), col, part,
                          sizeof part);
                size_t used = strlen(f->parts);
                snprintf(f->parts + used, sizeof f->parts - used, "%s%s", used ? " " : "", part);
            }
        }
        free(issues);
    }
    free(values);
    free(present);
    ps_hierarchy_free(h);
    return nfound;
}

static size_t check_all(const ps_workbook *wb, const char *sheet, const char *cell, double change, found *out,
                        size_t max)
{
    size_t n = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        n += check_table(wb, t, sheet && !strcmp(sheet, tables[t].sheet) ? cell : NULL, change, out + n,
                         max - n);
    return n;
}

static const found *find(const found *f, size_t n, const char *sheet, const char *cell)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(f[i].sheet, sheet) && !strcmp(f[i].cell, cell))
            return &f[i];
    return NULL;
}

/* Exactly the rounding differences of expected.json, as warnings that say 尾数误差, no error. */
static void test_anhua_rounding_differences(void **state)
{
    ps_workbook *wb = open_anhua();
    found f[64];
    size_t n = check_all(wb, NULL, NULL, 0, f, 64);
    for (size_t i = 0; i < n; i++)
        print_message("%s!%s %s %.2f vs %.2f\n", f[i].sheet, f[i].cell, ps_severity_name(f[i].issue.severity),
                      f[i].issue.actual, f[i].issue.expected);
    assert_int_equal(n, NROUNDING);
    for (size_t i = 0; i < NROUNDING; i++) {
        const found *g = find(f, n, rounding[i].sheet, rounding[i].cell);
        print_message("row %zu: %s!%s\n", i, rounding[i].sheet, rounding[i].cell);
        assert_non_null(g);
        assert_int_equal(g->issue.severity, PS_SEV_WARNING);
        assert_true(fabs(g->issue.actual - rounding[i].declared) < 1e-9);
        assert_true(fabs(g->issue.expected - rounding[i].sum) < 1e-6);
        assert_true(fabs(g->issue.difference - rounding[i].difference) < 1e-6);
        assert_string_equal(g->parts, rounding[i].parts);
        char msg[256];
        ps_hierarchy_issue_message(&g->issue, msg, sizeof msg);
        assert_non_null(strstr(msg, "尾数误差"));
        char diff[32];
        snprintf(diff, sizeof diff, "%.2f", rounding[i].difference);
        assert_non_null(strstr(msg, diff));
    }
    ps_workbook_free(wb);
}

/* A 款 changed by 10: an error at that 款 (against its 项) and at its 类 (against its 款), none
 * elsewhere; the other rounding warnings stay. Changed by 0.01: warnings only. */
static void test_anhua_changed_kuan(void **state)
{
    ps_workbook *wb = open_anhua();
    found f[64];
    /* 公开03表 C22: 21013 医疗救助 4512.94 = 604.79 + 3908.15, under 210 卫生健康支出 (C19) */
    size_t n = check_all(wb, "公开03表", "C22", 10, f, 64);
    size_t errors = 0;
    for (size_t i = 0; i < n; i++)
        if (f[i].issue.severity == PS_SEV_ERROR) {
            errors++;
            print_message("error %s!%s %.2f vs %.2f\n", f[i].sheet, f[i].cell, f[i].issue.actual,
                          f[i].issue.expected);
        }
    assert_int_equal(errors, 2);
    const found *kuan = find(f, n, "公开03表", "C22"), *lei = find(f, n, "公开03表", "C19");
    assert_non_null(kuan);
    assert_non_null(lei);
    assert_int_equal(kuan->issue.severity, PS_SEV_ERROR);
    assert_true(fabs(kuan->issue.difference - 10) < 1e-6);
    assert_string_equal(kuan->parts, "C23 C24");
    assert_int_equal(lei->issue.severity, PS_SEV_ERROR);
    assert_true(fabs(lei->issue.difference + 10) < 1e-6); /* 类 5198.28, its 款 now sum 5208.28 */
    assert_string_equal(lei->parts, "C20 C22 C25");
    assert_int_equal(n, NROUNDING + 2); /* the rounding warnings are still there, nothing else */
    char msg[256];
    ps_hierarchy_issue_message(&kuan->issue, msg, sizeof msg);
    assert_string_equal(msg, "应为 4512.94（下级合计），表中为 4522.94，相差 10.00");

    n = check_all(wb, "公开03表", "C22", 0.01, f, 64);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(f[i].issue.severity, PS_SEV_WARNING);
    assert_int_equal(n, NROUNDING + 2);
    assert_non_null(find(f, n, "公开03表", "C22"));
    assert_non_null(find(f, n, "公开03表", "C19"));
    ps_workbook_free(wb);
}

/* The codes of the Anhua 公开02表: 22960 has no 项 under it, 合计 heads every 类. */
static void test_anhua_structure(void **state)
{
    ps_workbook *wb = open_anhua();
    ps_hierarchy *h = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_hierarchy_build_sheet(sheet_named(wb, "公开02表"), 3, 33, 0, FUNCTIONAL, 3, &h, &err),
                     PS_OK);
    /* rows 3..5 are headers: outside */
    assert_int_equal(ps_hierarchy_level(h, 0), -1);
    assert_int_equal(ps_hierarchy_level(h, 2), -1);
    size_t root = ps_hierarchy_root(h);
    assert_int_equal(root, 3); /* sheet row 7, 合计 */
    assert_int_equal(ps_hierarchy_child_count(h, root), 5);
    static const char *const lei[] = {"201", "208", "210", "221", "229"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(ps_hierarchy_code(h, ps_hierarchy_child(h, root, i)), lei[i]);
    size_t r22960 = 31 - 3; /* sheet row 32 (A32), from first row 3 */
    assert_string_equal(ps_hierarchy_code(h, r22960), "22960");
    assert_int_equal(ps_hierarchy_level(h, r22960), 2);
    assert_int_equal(ps_hierarchy_child_count(h, r22960), 0);
    assert_string_equal(ps_hierarchy_code(h, ps_hierarchy_parent(h, r22960)), "229");
    ps_hierarchy_free(h);
    ps_workbook_free(wb);
}

/* Crafted: a missing level, codes typed with spaces, full-width digits, as numbers, a total at
 * the bottom. */
static void test_missing_level_and_typed_codes(void **state)
{
    static const char *const codes[] = {
        "210",        /* 0 类 */
        "2101101",    /* 1 项 right under its 类: no 21011 */
        "２１０１３", /* 2 款, full-width */
        "210 13 01",  /* 3 项 with spaces */
        "2101399.0",  /* 4 项, a number formatted with a decimal */
        "221",        /* 5 类 */
        "　22102　",  /* 6 款, U+3000 padding */
        NULL,         /* 7 a blank line */
        "小计",       /* 8 text that is no code */
        "2291",       /* 9 a length that is no level: outside */
        "总  计",     /* 10 the root, at the bottom */
    };
    ps_hierarchy *h = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_hierarchy_build(codes, 11, FUNCTIONAL, 3, &h, &err), PS_OK);
    static const struct {
        int level;
        size_t parent;
        const char *code;
    } want[] = {
        {1, 10, "210"},
        {3, 0, "2101101"},
        {2, 0, "21013"},
        {3, 2, "2101301"},
        {3, 2, "2101399"},
        {1, 10, "221"},
        {2, 5, "22102"},
        {-1, PS_HIERARCHY_NONE, ""},
        {-1, PS_HIERARCHY_NONE, ""},
        {-1, PS_HIERARCHY_NONE, ""},
        {0, PS_HIERARCHY_NONE, ""},
    };
    for (size_t i = 0; i < 11; i++) {
        print_message("row %zu: %s\n", i, codes[i] ? codes[i] : "(null)");
        assert_int_equal(ps_hierarchy_level(h, i), want[i].level);
        assert_int_equal(ps_hierarchy_parent(h, i), want[i].parent);
        assert_string_equal(ps_hierarchy_code(h, i), want[i].code);
    }
    assert_int_equal(ps_hierarchy_root(h), 10);
    assert_int_equal(ps_hierarchy_child_count(h, 0), 2); /* 2101101 and 21013 */
    assert_int_equal(ps_hierarchy_child(h, 0, 1), 2);
    assert_int_equal(ps_hierarchy_child(h, 0, 2), PS_HIERARCHY_NONE);

    /* figures: 210 = 10 + 30 (21013 = 12 + 18), 221 = 22102, 总计 = 210 + 221 */
    double v[11] = {40, 10, 30, 12, 18, 5, 5, 0, 0, 999, 45};
    bool p[11] = {true, true, true, true, true, true, true, false, false, true, true};
    ps_hierarchy_issue *issues = NULL;
    size_t n = 99;
    assert_int_equal(ps_hierarchy_check_sums(h, v, p, -1, &issues, &n, &err), PS_OK);
    assert_int_equal(n, 0); /* the 999 outside the hierarchy counts nowhere */
    assert_null(issues);

    /* the missing-level 项 changed by 10: an error at 210, its parent, only (the 类 itself did not
     * change, so 总计 = Σ 类 holds) */
    v[1] = 20;
    assert_int_equal(ps_hierarchy_check_sums(h, v, p, -1, &issues, &n, &err), PS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(issues[0].row, 0);
    assert_int_equal(issues[0].severity, PS_SEV_ERROR);
    assert_true(fabs(issues[0].expected - 50) < 1e-9 && fabs(issues[0].difference + 10) < 1e-9);
    free(issues);
    ps_hierarchy_free(h);
}

/* The band: within it a warning, beyond an error; a blank counts 0; all blank is skipped. */
static void test_band_and_blanks(void **state)
{
    static const char *const codes[] = {"合计", "301", "30101", "30102", "302", "30201"};
    ps_hierarchy *h = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_hierarchy_build(codes, 6, ECONOMIC, 2, &h, &err), PS_OK);
    double v[6] = {100.03, 100.03, 50, 50, 0, 0};
    bool p[6] = {true, true, true, true, false, false}; /* 302 and its 款 all blank: skipped */
    ps_hierarchy_issue *issues = NULL;
    size_t n = 0;
    assert_int_equal(ps_hierarchy_check_sums(h, v, p, -1, &issues, &n, &err), PS_OK);
    assert_int_equal(n, 1); /* 301 = 100.03 against 100: 0.03 > 0.01 */
    assert_int_equal(issues[0].row, 1);
    assert_int_equal(issues[0].severity, PS_SEV_ERROR);
    free(issues);
    assert_int_equal(ps_hierarchy_check_sums(h, v, p, 0.05, &issues, &n, &err), PS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(issues[0].severity, PS_SEV_WARNING); /* a band of 0.05 set by the template */
    char msg[256];
    ps_hierarchy_issue_message(&issues[0], msg, sizeof msg);
    assert_string_equal(msg, "尾数误差 0.03：表中为 100.03，下级合计 100.00");
    free(issues);

    /* a blank parent with filled children counts 0: 301 (against 100) and 合计 (100.03 against
     * 301 + 302, both blank) are errors */
    p[1] = false;
    assert_int_equal(ps_hierarchy_check_sums(h, v, p, -1, &issues, &n, &err), PS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(issues[0].row, 0);
    assert_true(fabs(issues[0].expected) < 1e-9 && fabs(issues[0].actual - 100.03) < 1e-9);
    assert_int_equal(issues[1].row, 1);
    assert_true(fabs(issues[1].expected - 100) < 1e-9 && fabs(issues[1].actual) < 1e-9);
    assert_int_equal(issues[1].severity, PS_SEV_ERROR);
    free(issues);
    ps_hierarchy_free(h);
}

static void test_bad_levels(void **state)
{
    static const char *const codes[] = {"301"};
    static const unsigned down[] = {5, 3}, none[] = {0};
    ps_hierarchy *h = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_hierarchy_build(codes, 1, down, 2, &h, &err), PS_ERR_USAGE);
    assert_null(h);
    assert_non_null(strstr(err.message, "逐级递增"));
    assert_int_equal(ps_hierarchy_build(codes, 1, none, 1, &h, &err), PS_ERR_USAGE);
    assert_int_equal(ps_hierarchy_build(codes, 1, down, 0, &h, &err), PS_ERR_USAGE);
    assert_int_equal(ps_hierarchy_build(NULL, 0, ECONOMIC, 2, &h, &err), PS_OK);
    assert_int_equal(ps_hierarchy_rows(h), 0);
    assert_int_equal(ps_hierarchy_root(h), PS_HIERARCHY_NONE);
    ps_hierarchy_free(h);
    ps_hierarchy_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anhua_rounding_differences),
        cmocka_unit_test(test_anhua_changed_kuan),
        cmocka_unit_test(test_anhua_structure),
        cmocka_unit_test(test_missing_level_and_typed_codes),
        cmocka_unit_test(test_band_and_blanks),
        cmocka_unit_test(test_bad_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
