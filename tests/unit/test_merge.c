/* test_merge.c - the consolidated workbook of real samples: one 汇总 row per unit, a totals
 * row of SUM formulas whose cached values are the sums, 指标明细 in long format, 校验结果 with
 * every finding and the duplicate, 文件 with the unreadable file, flagged values filled,
 * byte-identical re-runs. Read back with openpyxl (tests/cli/readback.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "perfsheet/check.h"
#include "perfsheet/mapping.h"
#include "perfsheet/merge.h"
#include "perfsheet/reader.h"

#include "readback.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* In batch order. hengyang zpb.xlsx repeats the 自评表 of both.xls: a duplicate. */
static const char *const inputs[] = {
    "samples/bad/empty.xls",
    "samples/hengyang-county-2021/both.xls",
    "samples/hengyang-county-2021/zpb.xlsx",
    "samples/synthetic/u01-qingxi/zpb.xls",
    "samples/synthetic/u02-yuntai/zpb.xls",
    "samples/synthetic/u04-shiwan/jcsj.xls",
    "samples/synthetic/u04-shiwan/zpb.xls",
    "samples/synthetic/u05-meiling/zpb.xls",
};
#define NINPUTS (sizeof inputs / sizeof inputs[0])

/* funds.executed of the five distinct 自评表 (expected.json): 1220.03 (衡阳) + 1504.57 +
 * 1015.29 + 1352.9 + 1527.04; their 三级指标: 12 + 12 + 20 + 12 + 6. */
#define WANT_EXECUTED 6619.83
#define WANT_INDICATORS 62

static ps_status merge_samples(const ps_mapping_set *set, const ps_checker *ck, const char *out,
                               size_t *ndups)
{
    ps_merge *mg = NULL;
    ps_error err;
    ps_status st = ps_merge_open(set, out, &err, &mg);
    if (st != PS_OK) {
        print_message("ps_merge_open: %s\n", err.message);
        return st;
    }
    for (size_t i = 0; i < NINPUTS; i++) {
        ps_workbook *wb = NULL;
        ps_document **docs = NULL;
        size_t n = 0;
        ps_error ferr;
        st = ps_reader_open(inputs[i], NULL, &wb, &ferr);
        if (st == PS_OK) {
            st = ps_mapping_extract_workbook(set, wb, inputs[i], &docs, &n, &ferr);
            ps_workbook_free(wb);
        }
        if (st == PS_OK) {
            for (size_t d = 0; d < n; d++)
                assert_int_equal(ps_checker_check_document(ck, docs[d], &err), PS_OK);
            assert_int_equal(ps_checker_check_cross(ck, docs, n, &err), PS_OK);
        }
        assert_int_equal(ps_merge_add_file(mg, inputs[i], st, st ? &ferr : NULL, docs, n), PS_OK);
        for (size_t d = 0; d < n; d++)
            ps_document_free(docs[d]);
        free(docs);
    }
    *ndups = ps_merge_duplicate_count(mg);
    return ps_merge_close(mg, &err);
}

typedef struct fixture {
    ps_mapping_set *set;
    ps_checker *ck;
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    ps_error err;
    if (!f || ps_mapping_set_load(NULL, &f->set, &err) != PS_OK ||
        ps_checker_new(f->set, &f->ck, &err) != PS_OK)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/ps_merge_test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char p[128];
    const char *names[] = {"a.xlsx", "b.xlsx"};
    for (size_t i = 0; i < 2 && !getenv("PS_TEST_KEEP"); i++) {
        snprintf(p, sizeof p, "%s/%s", f->dir, names[i]);
        unlink(p);
    }
    if (!getenv("PS_TEST_KEEP"))
        rmdir(f->dir);
    ps_checker_free(f->ck);
    ps_mapping_set_free(f->set);
    free(f);
    return 0;
}

/* The row number (1-based) of the cell in column col of sheet whose text is text, or 0. */
static int row_of(const readback *rb, const char *sheet, const char *text)
{
    const rb_cell *c = readback_find_text(rb, sheet, text);
    if (!c)
        return 0;
    const char *p = strrchr(c->ref, '!') + 1;
    while (*p >= 'A' && *p <= 'Z')
        p++;
    return atoi(p);
}

/* The column letters of the header cell text in row 1 of sheet. */
static const char *col_of(const readback *rb, const char *sheet, const char *text, char *buf)
{
    const rb_cell *c = readback_find_text(rb, sheet, text);
    assert_non_null(c);
    const char *p = strrchr(c->ref, '!') + 1;
    size_t n = 0;
    while (p[n] >= 'A' && p[n] <= 'Z')
        buf[n] = p[n], n++;
    buf[n] = '\0';
    assert_string_equal(p + n, "1");
    return buf;
}

static const rb_cell *at(const readback *rb, const char *sheet, const char *col, int row)
{
    char ref[200];
    snprintf(ref, sizeof ref, "%s!%s%d", sheet, col, row);
    return readback_get(rb, ref);
}

static void test_merge_samples(void **state)
{
    fixture *f = *state;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a.xlsx", f->dir);
    snprintf(b, sizeof b, "%s/b.xlsx", f->dir);
    size_t dups = 0;
    assert_int_equal(merge_samples(f->set, f->ck, a, &dups), PS_OK);
    assert_int_equal(dups, 1);
    if (!readback_available())
        skip();
    readback rb;
    assert_true(readback_load(&rb, a));
    const char *zs = "汇总-自评表";
    char col[8], ucol[8];
    /* header frozen below row 1 and right of 文件/填报单位/年度 */
    bool frozen = false;
    for (size_t i = 0; i < rb.nfreeze; i++)
        frozen |= strcmp(rb.freeze[i], "汇总-自评表 D2") == 0;
    assert_true(frozen);
    /* one row per distinct unit document: 衡阳, 青溪, 云台, 石湾, 梅岭, then 合计 */
    int total_row = row_of(&rb, zs, "合计");
    assert_int_equal(total_row, 7);
    col_of(&rb, zs, "填报单位", ucol);
    assert_string_equal(at(&rb, zs, ucol, 2)->value, "衡阳县医疗保障事务中心");
    assert_string_equal(at(&rb, zs, ucol, 6)->value, "梅岭县医疗保障局");
    /* totals: a live SUM over the unit rows, its cached value the sum */
    col_of(&rb, zs, "全年执行数", col);
    const rb_cell *t = at(&rb, zs, col, total_row);
    assert_non_null(t);
    assert_string_equal(t->kind, "f");
    char want[64];
    snprintf(want, sizeof want, "=SUM(%s2:%s6)", col, col);
    assert_string_equal(t->formula, want);
    assert_true(fabs(atof(t->value) - WANT_EXECUTED) < 1e-6);
    double sum = 0;
    for (int r = 2; r <= 6; r++)
        sum += atof(at(&rb, zs, col, r)->value);
    assert_true(fabs(sum - atof(t->value)) < 1e-6);
    /* rates are not summed */
    col_of(&rb, zs, "执行率", col);
    assert_null(at(&rb, zs, col, total_row));
    /* 石湾's 执行率 (F6, zpb.rate) is filled red in 汇总 */
    const rb_cell *rate = at(&rb, zs, col, 5);
    assert_string_equal(at(&rb, zs, ucol, 5)->value, "石湾县医疗保障局");
    assert_string_equal(rate->numfmt, "0.00%");
    assert_string_equal(rate->fill, "FFFFC7CE");
    assert_string_equal(at(&rb, zs, col, 3)->fill, ""); /* 青溪: clean */
    /* 指标明细: every indicator of the five, long format */
    assert_int_equal(readback_count_prefix(&rb, "指标明细!A"), 1 + WANT_INDICATORS);
    assert_string_equal(readback_get(&rb, "指标明细!A2")->value, "衡阳县医疗保障事务中心");
    /* 校验结果: the duplicate, the rate finding with its source cell */
    int dup = row_of(&rb, "校验结果", "merge.duplicate");
    assert_true(dup > 1);
    assert_string_equal(at(&rb, "校验结果", "A", dup)->value, "samples/hengyang-county-2021/zpb.xlsx");
    assert_string_equal(at(&rb, "校验结果", "F", dup)->value, "warning");
    int rr = row_of(&rb, "校验结果", "zpb.rate");
    assert_true(rr > 1);
    assert_string_equal(at(&rb, "校验结果", "B", rr)->value, "石湾县医疗保障局");
    assert_string_equal(at(&rb, "校验结果", "D", rr)->value, "F6");
    assert_string_equal(at(&rb, "校验结果", "F", rr)->value, "error");
    /* 文件: every input, the empty file as an error with its code */
    assert_int_equal(readback_count_prefix(&rb, "文件!A"), 1 + NINPUTS);
    int er = row_of(&rb, "文件", "samples/bad/empty.xls");
    assert_int_equal(er, 2);
    assert_string_equal(at(&rb, "文件", "B", er)->value, "error");
    assert_string_equal(at(&rb, "文件", "C", er)->value, "not_a_spreadsheet");
    readback_free(&rb);

    /* the same input gives the same bytes */
    assert_int_equal(merge_samples(f->set, f->ck, b, &dups), PS_OK);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    assert_int_equal(system(cmd), 0);
}

static void test_merge_abort(void **state)
{
    fixture *f = *state;
    char out[128];
    snprintf(out, sizeof out, "%s/aborted.xlsx", f->dir);
    ps_merge *mg = NULL;
    ps_error err;
    assert_int_equal(ps_merge_open(f->set, out, &err, &mg), PS_OK);
    assert_int_equal(ps_merge_add_file(mg, "x.xls", PS_ERR_CORRUPT, NULL, NULL, 0), PS_OK);
    ps_merge_abort(mg);
    assert_int_not_equal(access(out, F_OK), 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q tmp-", f->dir);
    assert_int_not_equal(system(cmd), 0); /* no temporary file left */
    /* an output folder that does not exist */
    snprintf(out, sizeof out, "%s/missing/x.xlsx", f->dir);
    assert_int_equal(ps_merge_open(f->set, out, &err, &mg), PS_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_samples),
        cmocka_unit_test(test_merge_abort),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
