/* test_reader_xls.c - ps_reader_open_xls on real files (tests/data/xls/, copies of samples/ and
 * of the corpus) and on small BIFF8 workbooks built here record by record for the cases no
 * sample has (CONTINUE-split strings, every FORMULA result kind, limits, damaged streams).
 * freexl 1.0.6 serves as an oracle: every constant cell it returns must be ours too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <freexl.h>
#include <gsf/gsf.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfsheet/reader.h"
#include "format_reader.h"

#define DATA "tests/data/xls/"

static ps_status open_xls_file(const char *path, const ps_limits *lim, ps_workbook **wb, ps_error *err)
{
    return open_with(ps_reader_open_xls, path, lim, wb, err);
}

static ps_workbook *open_ok(const char *path)
{
    ps_workbook *wb = NULL;
    ps_error err;
    ps_error_clear(&err);
    ps_status st = open_xls_file(path, NULL, &wb, &err);
    print_message("%s: %s %s\n", path, ps_error_code_name(st), err.message);
    assert_int_equal(st, PS_OK);
    assert_non_null(wb);
    return wb;
}

static ps_status open_fail(const char *path, const ps_limits *lim, ps_error *err)
{
    ps_workbook *wb = NULL;
    ps_error_clear(err);
    ps_status st = open_xls_file(path, lim, &wb, err);
    print_message("%s: %s [%s!%s] %s\n", path, ps_error_code_name(st), err->sheet, err->cell, err->message);
    assert_int_not_equal(st, PS_OK);
    assert_null(wb);
    assert_string_equal(err->file, path);
    return st;
}

static const ps_cell *cell_at(const ps_sheet *sh, const char *ref)
{
    uint32_t r, c;
    assert_true(ps_cell_ref_parse(ref, &r, &c));
    return ps_sheet_cell(sh, r, c);
}

static const ps_sheet *sheet_named(const ps_workbook *wb, const char *name)
{
    for (size_t i = 0; i < ps_workbook_sheet_count(wb); i++)
        if (strcmp(ps_sheet_name(ps_workbook_sheet(wb, i)), name) == 0)
            return ps_workbook_sheet(wb, i);
    fail_msg("no sheet %s", name);
    return NULL;
}

/* ---- the Hengyang tables ------------------------------------------------------------------ */

/* xlrd.open_workbook(f, formatting_info=True).sheet_by_index(0).merged_cells, made inclusive */
static const ps_range zpb_merges[] = {
    {1, 0, 1, 7},   {2, 0, 2, 7},   {3, 0, 3, 7},   {4, 0, 10, 0},  {6, 1, 6, 2},   {6, 3, 6, 7},
    {7, 4, 7, 7},   {8, 4, 8, 7},   {9, 4, 9, 7},   {10, 4, 10, 7}, {11, 0, 12, 0}, {11, 1, 11, 3},
    {11, 4, 11, 7}, {12, 1, 12, 3}, {12, 4, 12, 7}, {13, 0, 20, 0}, {14, 1, 20, 1}, {14, 2, 16, 2},
    {14, 6, 20, 6}, {14, 7, 20, 7}, {17, 2, 18, 2}, {21, 0, 25, 0}, {21, 1, 24, 1}, {21, 6, 24, 6},
    {21, 7, 24, 7}, {22, 2, 23, 2}, {26, 1, 26, 3}, {26, 4, 26, 5}, {27, 0, 28, 0}, {27, 1, 27, 3},
    {27, 4, 27, 7}, {28, 1, 28, 3}, {28, 4, 28, 7}, {29, 0, 29, 7}, {30, 0, 30, 7}};

static void check_zpb(const ps_workbook *wb)
{
    assert_int_equal(ps_workbook_sheet_count(wb), 1);
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    assert_string_equal(ps_sheet_name(sh), "自评表");
    assert_int_equal(ps_sheet_rows(sh), 31);
    assert_int_equal(ps_sheet_cols(sh), 8);

    const ps_cell *f6 = cell_at(sh, "F6"); /* =E6/D6, format 0% */
    assert_non_null(f6);
    assert_true(f6->formula);
    assert_int_equal(f6->type, PS_CELL_NUMBER);
    assert_true(fabs(f6->number - 1.0) < 1e-12);
    assert_int_equal(f6->format, PS_FMT_PERCENT);
    assert_int_equal(f6->decimals, 0);

    const ps_cell *d6 = cell_at(sh, "D6");
    assert_false(d6->formula);
    assert_true(fabs(d6->number - 1220.03) < 1e-9);
    const ps_cell *g6 = cell_at(sh, "G6");
    assert_int_equal(g6->type, PS_CELL_NUMBER);
    assert_true(g6->number == 10);

    assert_string_equal(cell_at(sh, "A2")->text, "部门整体支出绩效自评表");
    assert_string_equal(cell_at(sh, "A3")->text, "（ 20201 年度）");
    assert_string_equal(cell_at(sh, "A4")->text,
                        "填报单位（盖章）： 衡阳县医疗保障事务中心                填报时间：2022年4月25日");
    assert_string_equal(cell_at(sh, "D7")->text, "按支出性质分\u3000\u3000");
    assert_string_equal(cell_at(sh, "C10")->text, "\u3000");

    size_t n = sizeof zpb_merges / sizeof zpb_merges[0];
    assert_int_equal(ps_sheet_merge_count(sh), n);
    for (size_t i = 0; i < n; i++) {
        const ps_range *m = &ps_sheet_merges(sh)[i];
        print_message("merge %zu\n", i);
        assert_memory_equal(m, &zpb_merges[i], sizeof *m);
    }
    /* H7 lies in D7:H7, whose top-left holds the text */
    assert_string_equal(ps_sheet_cell_shown(sh, 6, 7)->text, "按支出性质分\u3000\u3000");
}

static void test_zpb_biff8(void **state)
{
    ps_workbook *wb = open_ok(DATA "hengyang-zpb.xls");
    assert_int_equal(ps_workbook_format(wb), PS_FORMAT_XLS_BIFF8);
    assert_int_equal(ps_workbook_codepage(wb), 0);
    check_zpb(wb);
    ps_workbook_free(wb);
}

/* The BIFF5/GBK copy gives the same workbook cell by cell, RSTRING cells included. */
static void test_zpb_biff5_same_as_biff8(void **state)
{
    ps_workbook *b5 = open_ok(DATA "hengyang-zpb-biff5.xls");
    assert_int_equal(ps_workbook_format(b5), PS_FORMAT_XLS_BIFF5);
    assert_int_equal(ps_workbook_codepage(b5), 936);
    check_zpb(b5);
    ps_workbook *b8 = open_ok(DATA "hengyang-zpb.xls");
    const ps_sheet *s5 = ps_workbook_sheet(b5, 0), *s8 = ps_workbook_sheet(b8, 0);
    assert_int_equal(ps_sheet_cell_count(s5), ps_sheet_cell_count(s8));
    assert_int_equal(ps_sheet_cell_count(s8), 110);
    for (size_t i = 0; i < ps_sheet_cell_count(s8); i++) {
        const ps_cell *a = &ps_sheet_cells(s8)[i], *b = &ps_sheet_cells(s5)[i];
        char ref[16];
        print_message("cell %s\n", ps_cell_ref(a->row, a->col, ref, sizeof ref));
        assert_int_equal(a->row, b->row);
        assert_int_equal(a->col, b->col);
        assert_int_equal(a->type, b->type);
        assert_int_equal(a->format, b->format);
        assert_int_equal(a->decimals, b->decimals);
        assert_int_equal(a->formula, b->formula);
        assert_true(a->number == b->number);
        if (a->text)
            assert_string_equal(a->text, b->text);
        else
            assert_null(b->text);
    }
    ps_workbook_free(b8);
    ps_workbook_free(b5);
}

static void test_jcsj_text_kept_exactly(void **state)
{
    ps_workbook *wb = open_ok(DATA "hengyang-jcsj.xls");
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    assert_string_equal(cell_at(sh, "B4")->text, "编制数");
    const ps_cell *b5 = cell_at(sh, "B5");
    assert_int_equal(b5->type, PS_CELL_TEXT);
    assert_string_equal(b5->text, "\u3000"
                                  "114");
    assert_string_equal(cell_at(sh, "C9")->text, "10.5\u3000");
    ps_workbook_free(wb);
}

/* Cached results of the cells samples' expected.json lists under formula_cells, as xlrd reads
 * them, with the class and decimals of their number format. */
static const struct {
    const char *file, *sheet, *ref;
    double value;
    ps_format_class fmt;
    int decimals;
} formulas[] = {
    {"u08-jcsj.xls", "基础数据表", "D5", 1, PS_FMT_PERCENT, 2},
    {"u08-jcsj.xls", "基础数据表", "B9", 5.4500000000000002, PS_FMT_NUMBER, 2},
    {"u08-jcsj.xls", "基础数据表", "C9", 6.1100000000000003, PS_FMT_NUMBER, 2},
    {"u08-jcsj.xls", "基础数据表", "D9", 8.2799999999999994, PS_FMT_NUMBER, 2},
    {"u08-jcsj.xls", "基础数据表", "B17", 350.62, PS_FMT_NUMBER, 2},
    {"u08-jcsj.xls", "基础数据表", "C17", 374.98000000000002, PS_FMT_NUMBER, 2},
    {"u08-jcsj.xls", "基础数据表", "D17", 279.47000000000003, PS_FMT_NUMBER, 2},
    {"u08-zpb.xls", "自评表", "F6", 0.93718637433110552, PS_FMT_PERCENT, 2},
    {"u08-zpb.xls", "自评表", "E8", 1449.79, PS_FMT_NUMBER, 2},
    {"u08-zpb.xls", "自评表", "G26", 100, PS_FMT_NUMBER, 0},
    {"u08-zpb.xls", "自评表", "H26", 95.400000000000006, PS_FMT_NUMBER, 1},
    {"u10-jcsj.xls", "基础数据表", "D5", 1, PS_FMT_PERCENT, 2},
    {"u10-jcsj.xls", "基础数据表", "B9", 14.640000000000001, PS_FMT_NUMBER, 2},
    {"u10-jcsj.xls", "基础数据表", "C9", 29.419999999999998, PS_FMT_NUMBER, 2},
    {"u10-jcsj.xls", "基础数据表", "D9", 14.02, PS_FMT_NUMBER, 2},
    {"u10-jcsj.xls", "基础数据表", "B10", 5.9500000000000002, PS_FMT_NUMBER, 2},
    {"u10-jcsj.xls", "基础数据表", "C10", 19.969999999999999, PS_FMT_NUMBER, 2},
    {"u10-jcsj.xls", "基础数据表", "D10", 3.7400000000000002, PS_FMT_NUMBER, 2},
    {"u10-jcsj.xls", "基础数据表", "C17", 326.88999999999999, PS_FMT_NUMBER, 2},
    {"u10-jcsj.xls", "基础数据表", "D17", 328.89999999999998, PS_FMT_NUMBER, 2},
    {"u10-zpb.xls", "自评表", "F6", 1, PS_FMT_PERCENT, 2},
    {"hengyang-zpb.xls", "自评表", "F6", 1, PS_FMT_PERCENT, 0},
    {"hengyang-zpb-biff5.xls", "自评表", "F6", 1, PS_FMT_PERCENT, 0},
};

static void test_formula_cells(void **state)
{
    for (size_t i = 0; i < sizeof formulas / sizeof formulas[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, DATA "%s", formulas[i].file);
        print_message("row %zu: %s!%s\n", i, formulas[i].file, formulas[i].ref);
        ps_workbook *wb = open_ok(path);
        const ps_cell *c = cell_at(sheet_named(wb, formulas[i].sheet), formulas[i].ref);
        assert_non_null(c);
        assert_true(c->formula);
        assert_int_equal(c->type, PS_CELL_NUMBER);
        assert_true(fabs(c->number - formulas[i].value) < 1e-12);
        assert_int_equal(c->format, formulas[i].fmt);
        assert_int_equal(c->decimals, formulas[i].decimals);
        ps_workbook_free(wb);
    }
}

/* ---- freexl as an oracle for constant cells ----------------------------------------------- */

static void test_constants_match_freexl(void **state)
{
    static const char *files[] = {"hengyang-zpb.xls", "hengyang-jcsj.xls", "u08-jcsj.xls",
                                  "u08-zpb.xls",      "u10-jcsj.xls",      "u10-zpb.xls"};
    static const size_t nformulas[] = {1, 0, 7, 4, 9, 1}; /* formula_cells in expected.json */
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, DATA "%s", files[i]);
        ps_workbook *wb = open_ok(path);
        const void *h = NULL;
        assert_int_equal(freexl_open(path, &h), FREEXL_OK);
        assert_non_null(h);
        unsigned nsheets = 0;
        freexl_get_info(h, FREEXL_BIFF_SHEET_COUNT, &nsheets);
        assert_int_equal(nsheets, ps_workbook_sheet_count(wb));
        size_t seen = 0, formulas_seen = 0, ours = 0;
        for (unsigned s = 0; s < nsheets; s++) {
            const ps_sheet *sh = ps_workbook_sheet(wb, s);
            assert_int_equal(freexl_select_active_worksheet(h, (unsigned short)s), FREEXL_OK);
            unsigned rows;
            unsigned short cols;
            freexl_worksheet_dimensions(h, &rows, &cols);
            for (unsigned r = 0; r < rows; r++)
                for (unsigned c = 0; c < cols; c++) {
                    FreeXL_CellValue v;
                    assert_int_equal(freexl_get_cell_value(h, r, (unsigned short)c, &v), FREEXL_OK);
                    if (v.type == FREEXL_CELL_NULL)
                        continue;
                    const ps_cell *mine = ps_sheet_cell(sh, r, c);
                    char ref[16];
                    print_message("%s %s\n", files[i], ps_cell_ref(r, c, ref, sizeof ref));
                    assert_non_null(mine);
                    assert_false(mine->formula);
                    seen++;
                    if (v.type == FREEXL_CELL_INT)
                        assert_true(mine->number == v.value.int_value);
                    else if (v.type == FREEXL_CELL_DOUBLE)
                        assert_true(mine->number == v.value.double_value);
                    else if (v.type == FREEXL_CELL_TEXT || v.type == FREEXL_CELL_SST_TEXT)
                        assert_string_equal(mine->text, v.value.text_value);
                }
            ours += ps_sheet_cell_count(sh);
            for (size_t k = 0; k < ps_sheet_cell_count(sh); k++)
                formulas_seen += ps_sheet_cells(sh)[k].formula;
        }
        /* what freexl misses is exactly the formula cells */
        assert_int_equal(ours, seen + formulas_seen);
        assert_int_equal(formulas_seen, nformulas[i]);
        freexl_close(h);
        ps_workbook_free(wb);
    }
}

/* ---- other real files --------------------------------------------------------------------- */

static void test_dates_1904(void **state)
{
    ps_workbook *wb = open_ok(DATA "calamine__date_1904.xls");
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    const ps_cell *a1 = cell_at(sh, "A1"), *a3 = cell_at(sh, "A3");
    assert_int_equal(a1->type, PS_CELL_DATE);
    assert_int_equal(a1->format, PS_FMT_DATE);
    assert_true(a1->number == 44197); /* 1904-based 42735 + 1462 */
    assert_string_equal(a1->text, "2021-01-01");
    assert_int_equal(a3->type, PS_CELL_DATE);
    assert_string_equal(a3->text, "1904-01-11T15:10:10");
    assert_int_equal(cell_at(sh, "B1")->type, PS_CELL_NUMBER);
    ps_workbook_free(wb);
}

static void test_error_and_bool_cells(void **state)
{
    ps_workbook *wb = open_ok(DATA "sheetjs__ErrorTypes.xls");
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    static const struct {
        const char *ref, *text;
    } errs[] = {{"A2", "#NULL!"}, {"A3", "#DIV/0!"}, {"A4", "#VALUE!"}, {"A5", "#REF!"},
                {"A6", "#NAME?"}, {"A7", "#NUM!"},   {"A8", "#N/A"},    {"F9", "#N/A"}};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        print_message("%s\n", errs[i].ref);
        const ps_cell *c = cell_at(sh, errs[i].ref);
        assert_int_equal(c->type, PS_CELL_ERROR);
        assert_string_equal(c->text, errs[i].text);
    }
    assert_string_equal(cell_at(sh, "C2")->text, "#NULL?");
    assert_int_equal(cell_at(sh, "H2")->type, PS_CELL_BOOL);
    assert_true(cell_at(sh, "H2")->number == 1);
    assert_int_equal(cell_at(sh, "I2")->type, PS_CELL_BOOL);
    assert_true(cell_at(sh, "I2")->number == 0);
    assert_int_equal(cell_at(sh, "A12")->type, PS_CELL_DATE);
    assert_true(cell_at(sh, "A12")->number == 41923);
    ps_workbook_free(wb);
}

static void test_bare_biff3(void **state)
{
    ps_workbook *wb = open_ok(DATA "exceldatareader__as3xls_BIFF3.xls");
    assert_int_equal(ps_workbook_sheet_count(wb), 1);
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    assert_string_equal(ps_sheet_name(sh), "Sheet 1");
    assert_true(cell_at(sh, "A1")->number == 1);
    assert_string_equal(cell_at(sh, "B1")->text, "Hi");
    const ps_cell *c1 = cell_at(sh, "C1");
    assert_true(c1->number == 10.22);
    assert_int_equal(c1->format, PS_FMT_NUMBER); /* #,##0.00 */
    assert_int_equal(c1->decimals, 2);
    const ps_cell *d1 = cell_at(sh, "D1");
    assert_true(d1->formula);
    assert_true(fabs(d1->number - 14.754317602356753) < 1e-12);
    const ps_cell *c2 = cell_at(sh, "C2"); /* d\-mmm in a 1904 file */
    assert_int_equal(c2->type, PS_CELL_DATE);
    assert_true(c2->number == 37673 + 1462);
    assert_string_equal(c2->text, "2007-02-22");
    ps_workbook_free(wb);
}

static void test_encrypted(void **state)
{
    static const char *files[] = {"exceldatareader__Test_git_issue_242_std_rc4_pwd_password.xls",
                                  "sheetjs__biff5_password_2002_40_xor.xls", "calamine__pass_protected.xlsx"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, DATA "%s", files[i]);
        ps_error err;
        assert_int_equal(open_fail(path, NULL, &err), PS_ERR_ENCRYPTED);
        assert_string_equal(err.message, "文件已加密（设有打开密码），请提交未加密的文件");
    }
    /* and every encrypted file of the corpus, when it is at hand */
    const char *shared = getenv("PS_SHARED");
    if (!shared)
        return;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/corpus/realworld/odd", shared);
    DIR *d = opendir(dir);
    if (!d)
        return;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strstr(e->d_name, "pwtest") && !strstr(e->d_name, "password") && !strstr(e->d_name, "_pwd_"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ps_error err;
        assert_int_equal(open_fail(path, NULL, &err), PS_ERR_ENCRYPTED);
        n++;
    }
    closedir(d);
    assert_true(n >= 20);
}

/* libgsf reports this file through GLib's log: that must end in the error, not on stderr. */
static void test_truncated_is_corrupt_and_silent(void **state)
{
    char tmpl[] = "/tmp/ps_xls_stderr_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    ps_error err;
    ps_status st1 = open_fail(DATA "truncated.xls", NULL, &err);
    ps_error err2;
    ps_status st2 = open_fail(DATA "truncated.xls", NULL, &err2);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(tmpl);
    assert_int_equal(st1, PS_ERR_CORRUPT);
    assert_int_equal(st2, PS_ERR_CORRUPT);
    assert_int_equal(size, 0);
    assert_non_null(strstr(err.message, "OLE2"));
}

/* Files read on several threads at once: each gets its own result, and what is wrong with
 * truncated.xls lands in that file's error on its own thread, never on stderr. */
static void *read_many(void *arg)
{
    long bad = 0, id = (long)(intptr_t)arg;
    for (int i = 0; i < 40; i++) {
        const char *path = (i + id) % 3 == 0   ? DATA "truncated.xls"
                           : (i + id) % 3 == 1 ? DATA "hengyang-zpb.xls"
                                               : DATA "hengyang-zpb-biff5.xls";
        ps_workbook *wb = NULL;
        ps_error err;
        ps_status st = open_xls_file(path, NULL, &wb, &err);
        if (strstr(path, "truncated")) {
            bad += st != PS_ERR_CORRUPT || !strstr(err.message, "directory sector 20 lies beyond the end");
        } else {
            bad += st != PS_OK || !wb || ps_sheet_cell_count(ps_workbook_sheet(wb, 0)) != 110;
            ps_workbook_free(wb);
        }
    }
    return (void *)(intptr_t)bad;
}

static void test_threads(void **state)
{
    char tmpl[] = "/tmp/ps_xls_stderr_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    pthread_t t[6];
    for (long i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&t[i], NULL, read_many, (void *)(intptr_t)i), 0);
    long bad = 0;
    for (int i = 0; i < 6; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)(intptr_t)r;
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(tmpl);
    assert_int_equal(bad, 0);
    assert_int_equal(size, 0);
}

/* ---- BIFF8 workbooks built record by record ----------------------------------------------- */

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void put8(bytes *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    put(b, &c, 1);
}
static void put16(bytes *b, unsigned v)
{
    put8(b, v & 0xFF);
    put8(b, v >> 8 & 0xFF);
}
static void put32(bytes *b, uint32_t v)
{
    put16(b, v & 0xFFFF);
    put16(b, v >> 16);
}
static void putf64(bytes *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put32(b, (uint32_t)u);
    put32(b, (uint32_t)(u >> 32));
}
/* UTF-8 (BMP only) to UTF-16LE; returns the number of characters */
static unsigned put_utf16(bytes *b, const char *s)
{
    unsigned n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; n++) {
        unsigned cp;
        if (*p < 0x80)
            cp = *p++;
        else if (*p < 0xE0) {
            cp = (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu);
            p += 2;
        } else {
            cp = (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
            p += 3;
        }
        put16(b, cp);
    }
    return n;
}
static unsigned utf16_len(const char *s)
{
    bytes t = {0};
    unsigned n = put_utf16(&t, s);
    free(t.p);
    return n;
}
/* A record: id, then its body */
static void rec(bytes *b, unsigned id, const bytes *body)
{
    put16(b, id);
    put16(b, (unsigned)body->n);
    put(b, body->p, body->n);
}
static void bof(bytes *b, unsigned dt)
{
    bytes r = {0};
    put16(&r, 0x0600);
    put16(&r, dt);
    put16(&r, 0x0DBB);
    put16(&r, 0x07CC);
    put32(&r, 0);
    put32(&r, 0x0206);
    rec(b, 0x0809, &r);
    free(r.p);
}
static void eof(bytes *b)
{
    bytes r = {0};
    rec(b, 0x000A, &r);
}
static void ustr16(bytes *r, const char *s) /* XLUnicodeString, 16-bit count, UTF-16 */
{
    put16(r, utf16_len(s));
    put8(r, 1);
    put_utf16(r, s);
}
static void cellhdr(bytes *r, unsigned row, unsigned col, unsigned xf)
{
    put16(r, row);
    put16(r, col);
    put16(r, xf);
}

typedef struct built {
    int filepass;       /* put a FILEPASS record in the globals */
    int cut_sheet;      /* cut the stream inside the sheet's last record */
    uint32_t sst_claim; /* SST unique count to claim (0: the real count) */
} built;

/* Globals (FORMATs, XFs, SST with a CONTINUE-split string, one BOUNDSHEET) and a sheet "表一"
 * with one cell of every kind. XF 0 General, 1 date (14), 2 "0.000%", 3 yyyy"年"m"月"d"日,
 * 4 "@", 5 "#,##0.00_ ", 6 [h]:mm:ss. */
static bytes build_workbook(built opt)
{
    bytes b = {0}, r = {0};
    bof(&b, 0x0005);
    if (opt.filepass) {
        r.n = 0;
        put16(&r, 0);
        put16(&r, 0x1234);
        put16(&r, 0x5678);
        rec(&b, 0x002F, &r);
    }
    static const char *fmts[] = {"0.000%", "yyyy\"年\"m\"月\"d\"日\"", "#,##0.00_ ", "[h]:mm:ss"};
    for (unsigned i = 0; i < 4; i++) {
        r.n = 0;
        put16(&r, 164 + i);
        ustr16(&r, fmts[i]);
        rec(&b, 0x041E, &r);
    }
    static const unsigned xf_fmt[] = {0, 14, 164, 165, 49, 166, 167};
    for (unsigned i = 0; i < 7; i++) {
        r.n = 0;
        put16(&r, 0);
        put16(&r, xf_fmt[i]);
        for (int k = 0; k < 16; k++)
            put8(&r, 0);
        rec(&b, 0x00E0, &r);
    }
    /* SST: "甲乙", then "hello世界" split: "hel" compressed in SST, "lo世界" wide in CONTINUE */
    r.n = 0;
    put32(&r, 3);
    put32(&r, opt.sst_claim ? opt.sst_claim : 2);
    ustr16(&r, "甲乙");
    put16(&r, 7);
    put8(&r, 0);
    put(&r, "hel", 3);
    rec(&b, 0x00FC, &r);
    r.n = 0;
    put8(&r, 1);
    put_utf16(&r, "lo世界");
    rec(&b, 0x003C, &r);
    size_t bs_at = b.n;
    r.n = 0;
    put32(&r, 0); /* patched below */
    put8(&r, 0);
    put8(&r, 0);
    put8(&r, (unsigned)utf16_len("表一"));
    put8(&r, 1);
    put_utf16(&r, "表一");
    rec(&b, 0x0085, &r);
    eof(&b);

    uint32_t sheet_at = (uint32_t)b.n;
    memcpy(b.p + bs_at + 4, &sheet_at, 4); /* little-endian host */
    bof(&b, 0x0010);
    r.n = 0;
    cellhdr(&r, 0, 0, 0);
    put32(&r, 0);
    rec(&b, 0x00FD, &r); /* A1 LABELSST 甲乙 */
    r.n = 0;
    cellhdr(&r, 0, 1, 0);
    put32(&r, 1);
    rec(&b, 0x00FD, &r); /* B1 hello世界 */
    r.n = 0;
    cellhdr(&r, 1, 0, 1);
    putf64(&r, 44676);
    rec(&b, 0x0203, &r); /* A2 2022-04-25 */
    r.n = 0;
    cellhdr(&r, 1, 1, 3);
    put32(&r, (44676u << 2) | 2);
    rec(&b, 0x027E, &r); /* B2 RK int */
    r.n = 0;
    cellhdr(&r, 1, 2, 2);
    putf64(&r, 0.98765);
    rec(&b, 0x0203, &r); /* C2 0.000% */
    r.n = 0;
    cellhdr(&r, 1, 3, 6);
    putf64(&r, 1.5);
    rec(&b, 0x0203, &r); /* D2 [h]:mm:ss */
    /* A3: MULRK 1.23 (RK x100), 5, over A3:B3 with XF 5 and 0 */
    r.n = 0;
    put16(&r, 2);
    put16(&r, 0);
    put16(&r, 5);
    put32(&r, (123u << 2) | 3);
    put16(&r, 0);
    put32(&r, (5u << 2) | 2);
    put16(&r, 1);
    rec(&b, 0x00BD, &r);
    /* formulas in row 4: string (+STRING), bool, error, empty string, number */
    static const uint8_t tail[] = {0, 0, 0, 0, 0, 0, 3, 0, 0x1E, 1, 0}; /* flags, chn, cce=3, =1 */
    r.n = 0;
    cellhdr(&r, 3, 0, 4);
    put8(&r, 0);
    for (int k = 0; k < 5; k++)
        put8(&r, 0);
    put16(&r, 0xFFFF);
    put(&r, tail, sizeof tail);
    rec(&b, 0x0006, &r);
    r.n = 0;
    ustr16(&r, "结果文本");
    rec(&b, 0x0207, &r);
    r.n = 0;
    cellhdr(&r, 3, 1, 0);
    put8(&r, 1);
    put8(&r, 0);
    put8(&r, 1);
    put8(&r, 0);
    put16(&r, 0);
    put16(&r, 0xFFFF);
    put(&r, tail, sizeof tail);
    rec(&b, 0x0006, &r);
    r.n = 0;
    cellhdr(&r, 3, 2, 0);
    put8(&r, 2);
    put8(&r, 0);
    put8(&r, 0x07);
    put8(&r, 0);
    put16(&r, 0);
    put16(&r, 0xFFFF);
    put(&r, tail, sizeof tail);
    rec(&b, 0x0006, &r);
    r.n = 0;
    cellhdr(&r, 3, 3, 0);
    put8(&r, 3);
    for (int k = 0; k < 5; k++)
        put8(&r, 0);
    put16(&r, 0xFFFF);
    put(&r, tail, sizeof tail);
    rec(&b, 0x0006, &r);
    r.n = 0;
    cellhdr(&r, 3, 4, 2);
    putf64(&r, 0.5);
    put(&r, tail, sizeof tail);
    rec(&b, 0x0006, &r);
    /* BOOLERR: E1 TRUE, F1 #N/A; LABEL C1 (BIFF8 unicode) */
    r.n = 0;
    cellhdr(&r, 0, 4, 0);
    put8(&r, 1);
    put8(&r, 0);
    rec(&b, 0x0205, &r);
    r.n = 0;
    cellhdr(&r, 0, 5, 0);
    put8(&r, 0x2A);
    put8(&r, 1);
    rec(&b, 0x0205, &r);
    r.n = 0;
    cellhdr(&r, 0, 2, 0);
    ustr16(&r, "标签");
    rec(&b, 0x0204, &r);
    /* MERGEDCELLS: A6:C7 */
    r.n = 0;
    put16(&r, 1);
    put16(&r, 5);
    put16(&r, 6);
    put16(&r, 0);
    put16(&r, 2);
    rec(&b, 0x00E5, &r);
    /* a cell far down: row 60000 */
    r.n = 0;
    cellhdr(&r, 60000, 7, 0);
    putf64(&r, 7);
    rec(&b, 0x0203, &r);
    eof(&b);
    if (opt.cut_sheet)
        b.n -= 12; /* into the NUMBER record before EOF */
    free(r.p);
    return b;
}

/* n BOUNDSHEETs whose offsets point at n BOF records in a row, followed by many cells and no
 * EOF: each sheet would walk the whole rest of the stream. */
static bytes build_overlapping(unsigned n)
{
    bytes b = {0}, r = {0};
    bof(&b, 0x0005);
    size_t bs_at = b.n;
    for (unsigned i = 0; i < n; i++) {
        r.n = 0;
        put32(&r, 0);
        put8(&r, 0);
        put8(&r, 0);
        put8(&r, 1);
        put8(&r, 0);
        put8(&r, 'A' + i % 26);
        rec(&b, 0x0085, &r);
    }
    eof(&b);
    for (unsigned i = 0; i < n; i++) {
        uint32_t at = (uint32_t)b.n;
        memcpy(b.p + bs_at + i * 13 + 4, &at, 4);
        bof(&b, 0x0010);
    }
    for (unsigned i = 0; i < 5000; i++) {
        r.n = 0;
        cellhdr(&r, i, 0, 0);
        putf64(&r, i);
        rec(&b, 0x0203, &r);
    }
    free(r.p);
    return b;
}

/* Writes an OLE2 file holding one stream; returns its path (static buffer). */
static const char *write_ole(const char *stream_name, const bytes *data)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/ps_xls_test_%d.xls", (int)getpid());
    gsf_init();
    GError *gerr = NULL;
    GsfOutput *out = gsf_output_stdio_new(path, &gerr);
    assert_non_null(out);
    GsfOutfile *ole = gsf_outfile_msole_new(out);
    GsfOutput *s = gsf_outfile_new_child(ole, stream_name, FALSE);
    assert_true(gsf_output_write(s, data->n, data->p));
    gsf_output_close(s);
    g_object_unref(s);
    gsf_output_close(GSF_OUTPUT(ole));
    g_object_unref(ole);
    g_object_unref(out);
    return path;
}

static void test_built_workbook(void **state)
{
    bytes b = build_workbook((built){0});
    const char *path = write_ole("Workbook", &b);
    free(b.p);
    ps_workbook *wb = open_ok(path);
    assert_int_equal(ps_workbook_format(wb), PS_FORMAT_XLS_BIFF8);
    const ps_sheet *sh = sheet_named(wb, "表一");
    assert_string_equal(cell_at(sh, "A1")->text, "甲乙");
    assert_string_equal(cell_at(sh, "B1")->text, "hello世界");
    assert_string_equal(cell_at(sh, "C1")->text, "标签");
    assert_int_equal(cell_at(sh, "E1")->type, PS_CELL_BOOL);
    assert_true(cell_at(sh, "E1")->number == 1);
    assert_int_equal(cell_at(sh, "F1")->type, PS_CELL_ERROR);
    assert_string_equal(cell_at(sh, "F1")->text, "#N/A");

    const ps_cell *a2 = cell_at(sh, "A2"), *b2 = cell_at(sh, "B2"), *c2 = cell_at(sh, "C2"),
                  *d2 = cell_at(sh, "D2");
    assert_int_equal(a2->type, PS_CELL_DATE);
    assert_true(a2->number == 44676);
    assert_string_equal(a2->text, "2022-04-25");
    assert_int_equal(b2->type, PS_CELL_DATE); /* yyyy"年"m"月"d"日" */
    assert_string_equal(b2->text, "2022-04-25");
    assert_int_equal(c2->type, PS_CELL_NUMBER);
    assert_int_equal(c2->format, PS_FMT_PERCENT);
    assert_int_equal(c2->decimals, 3);
    assert_int_equal(d2->type, PS_CELL_DATE);
    assert_string_equal(d2->text, "1900-01-01T12:00:00"); /* serial 1 is 1900-01-01 */

    const ps_cell *a3 = cell_at(sh, "A3"), *b3 = cell_at(sh, "B3");
    assert_true(fabs(a3->number - 1.23) < 1e-12);
    assert_int_equal(a3->format, PS_FMT_NUMBER);
    assert_int_equal(a3->decimals, 2);
    assert_true(b3->number == 5);
    assert_int_equal(b3->format, PS_FMT_GENERAL);
    assert_int_equal(b3->decimals, 255);

    const ps_cell *f;
    f = cell_at(sh, "A4");
    assert_true(f->formula);
    assert_int_equal(f->type, PS_CELL_TEXT);
    assert_string_equal(f->text, "结果文本");
    assert_int_equal(f->format, PS_FMT_TEXT);
    f = cell_at(sh, "B4");
    assert_true(f->formula);
    assert_int_equal(f->type, PS_CELL_BOOL);
    assert_true(f->number == 1);
    f = cell_at(sh, "C4");
    assert_true(f->formula);
    assert_int_equal(f->type, PS_CELL_ERROR);
    assert_string_equal(f->text, "#DIV/0!");
    f = cell_at(sh, "D4");
    assert_true(f->formula);
    assert_int_equal(f->type, PS_CELL_TEXT);
    assert_string_equal(f->text, "");
    f = cell_at(sh, "E4");
    assert_true(f->formula);
    assert_true(f->number == 0.5);
    assert_int_equal(f->format, PS_FMT_PERCENT);

    assert_int_equal(ps_sheet_merge_count(sh), 1);
    const ps_range *m = ps_sheet_merge_at(sh, 6, 2);
    assert_non_null(m);
    assert_int_equal(m->first_row, 5);
    assert_int_equal(m->last_col, 2);
    assert_int_equal(ps_sheet_rows(sh), 60001);
    assert_int_equal(ps_sheet_cols(sh), 8);
    ps_workbook_free(wb);
    unlink(path);
}

static void test_built_failures(void **state)
{
    ps_error err;
    /* FILEPASS */
    bytes b = build_workbook((built){.filepass = 1});
    const char *path = write_ole("Workbook", &b);
    free(b.p);
    assert_int_equal(open_fail(path, NULL, &err), PS_ERR_ENCRYPTED);

    /* a cell beyond max_rows names the limit, the sheet and the cell */
    b = build_workbook((built){0});
    path = write_ole("Workbook", &b);
    free(b.p);
    ps_limits lim = ps_reader_default_limits();
    lim.max_rows = 1000;
    assert_int_equal(open_fail(path, &lim, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_rows"));
    assert_string_equal(err.sheet, "表一");
    assert_string_equal(err.cell, "H60001");
    lim = ps_reader_default_limits();
    lim.max_cells_per_sheet = 5;
    assert_int_equal(open_fail(path, &lim, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_cells_per_sheet"));
    lim = ps_reader_default_limits();
    lim.max_string_bytes = 4;
    assert_int_equal(open_fail(path, &lim, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_string_bytes"));

    /* an SST claiming more entries than allowed; then one claiming more than it has (read) */
    b = build_workbook((built){.sst_claim = 3000000});
    path = write_ole("Workbook", &b);
    free(b.p);
    assert_int_equal(open_fail(path, NULL, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_sst_entries"));
    b = build_workbook((built){.sst_claim = 1000});
    path = write_ole("Workbook", &b);
    free(b.p);
    ps_workbook *wb = open_ok(path);
    assert_string_equal(cell_at(ps_workbook_sheet(wb, 0), "B1")->text, "hello世界");
    ps_workbook_free(wb);

    /* a stream cut inside a record */
    b = build_workbook((built){.cut_sheet = 1});
    path = write_ole("Workbook", &b);
    free(b.p);
    assert_int_equal(open_fail(path, NULL, &err), PS_ERR_CORRUPT);
    assert_non_null(strstr(err.message, "表一"));
    assert_string_equal(err.sheet, "表一");

    /* sheets that overlap: refused, not walked 200 times; too many sheets for the limit */
    b = build_overlapping(200);
    path = write_ole("Workbook", &b);
    free(b.p);
    assert_int_equal(open_fail(path, NULL, &err), PS_ERR_CORRUPT);
    assert_non_null(strstr(err.message, "重叠"));
    lim = ps_reader_default_limits();
    lim.max_sheets = 100;
    assert_int_equal(open_fail(path, &lim, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "max_sheets"));

    /* a Word document, and an OLE2 file with neither */
    bytes doc = {0};
    put(&doc, "not really a word document", 26);
    path = write_ole("WordDocument", &doc);
    assert_int_equal(open_fail(path, NULL, &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "Word"));
    path = write_ole("Contents", &doc);
    assert_int_equal(open_fail(path, NULL, &err), PS_ERR_UNSUPPORTED);
    /* a Workbook stream that is not BIFF */
    path = write_ole("Workbook", &doc);
    assert_int_equal(open_fail(path, NULL, &err), PS_ERR_CORRUPT);
    free(doc.p);
    unlink(path);

    /* not a file, empty, random */
    assert_int_equal(open_fail(DATA "no-such-file.xls", NULL, &err), PS_ERR_IO);
    char tmp[] = "/tmp/ps_xls_empty_XXXXXX";
    int fd = mkstemp(tmp);
    assert_int_equal(open_fail(tmp, NULL, &err), PS_ERR_NOT_A_SPREADSHEET);
    assert_true(write(fd, "hello, world\n", 13) == 13);
    close(fd);
    assert_int_equal(open_fail(tmp, NULL, &err), PS_ERR_NOT_A_SPREADSHEET);
    unlink(tmp);
}

/* Every prefix and many byte flips of a good file: an error or a workbook, never a crash. */
static void test_damaged_copies(void **state)
{
    FILE *f = fopen(DATA "hengyang-zpb.xls", "rb");
    assert_non_null(f);
    static uint8_t good[16384];
    size_t n = fread(good, 1, sizeof good, f);
    fclose(f);
    char path[64];
    snprintf(path, sizeof path, "/tmp/ps_xls_damaged_%d.xls", (int)getpid());
    uint32_t seed = 12345;
    size_t opened = 0, failed = 0;
    for (int round = 0; round < 300; round++) {
        static uint8_t bad[16384];
        memcpy(bad, good, n);
        size_t len = n;
        if (round < 40) {
            len = n * (size_t)round / 40; /* prefixes */
        } else {
            for (int k = 0; k < 8; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = 512 + (seed >> 8) % (n - 512); /* keep the header, hit the body */
                seed = seed * 1103515245u + 12345u;
                bad[at] = (uint8_t)(seed >> 16);
            }
        }
        FILE *o = fopen(path, "wb");
        fwrite(bad, 1, len, o);
        fclose(o);
        ps_workbook *wb = NULL;
        ps_error err;
        ps_status st = open_xls_file(path, NULL, &wb, &err);
        if (st == PS_OK) {
            opened++;
            ps_workbook_free(wb);
        } else {
            failed++;
            assert_true(st == PS_ERR_CORRUPT || st == PS_ERR_NOT_A_SPREADSHEET || st == PS_ERR_UNSUPPORTED ||
                        st == PS_ERR_ENCRYPTED);
        }
    }
    unlink(path);
    print_message("damaged copies: %zu opened, %zu refused\n", opened, failed);
    assert_true(failed >= 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zpb_biff8),
        cmocka_unit_test(test_zpb_biff5_same_as_biff8),
        cmocka_unit_test(test_jcsj_text_kept_exactly),
        cmocka_unit_test(test_formula_cells),
        cmocka_unit_test(test_constants_match_freexl),
        cmocka_unit_test(test_dates_1904),
        cmocka_unit_test(test_error_and_bool_cells),
        cmocka_unit_test(test_bare_biff3),
        cmocka_unit_test(test_encrypted),
        cmocka_unit_test(test_truncated_is_corrupt_and_silent),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_built_workbook),
        cmocka_unit_test(test_built_failures),
        cmocka_unit_test(test_damaged_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
