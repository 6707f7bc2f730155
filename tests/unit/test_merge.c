/* test_merge.c - the consolidated workbook of real samples: one 汇总 row per unit in the order
 * units first appear, a 合计 row of sums and ratios of sums (no formula), 指标明细 in long
 * format, 校验结果 with every finding and the duplicate once (which file won and why), 文件
 * with the unreadable file, flagged values filled and commented, byte-identical re-runs. Read
 * back with openpyxl (tests/cli/readback.py). */
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

/* The column letters of the header cell text in row `row` of sheet. */
static const char *col_of(const readback *rb, const char *sheet, const char *text, int row, char *buf)
{
    const rb_cell *c = NULL;
    for (size_t i = 0; i < rb->n && !c; i++) {
        const rb_cell *x = &rb->cells[i];
        size_t n = strlen(sheet);
        if (!strncmp(x->ref, sheet, n) && x->ref[n] == '!' && !strcmp(x->value, text) &&
            atoi(x->ref + n + 1 + strspn(x->ref + n + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")) == row)
            c = x;
    }
    assert_non_null(c);
    const char *p = strrchr(c->ref, '!') + 1;
    size_t n = 0;
    while (p[n] >= 'A' && p[n] <= 'Z')
        buf[n] = p[n], n++;
    buf[n] = '\0';
    return buf;
}

static const rb_cell *at(const readback *rb, const char *sheet, const char *col, int row)
{
    char ref[200];
    snprintf(ref, sizeof ref, "%s!%s%d", sheet, col, row);
    return readback_get(rb, ref);
}

static double num_at(const readback *rb, const char *sheet, const char *col, int row)
{
    const rb_cell *c = at(rb, sheet, col, row);
    return c && c->kind[0] == 'n' ? atof(c->value) : 0;
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
    char col[8], bcol[8], wcol[8];
    /* title, legend, 合计 and header frozen above row 5, 填报单位 frozen at the left */
    bool frozen = false;
    for (size_t i = 0; i < rb.nfreeze; i++)
        frozen |= strcmp(rb.freeze[i], "汇总-自评表 B5") == 0;
    assert_true(frozen);
    assert_string_equal(at(&rb, zs, "A", 4)->value, "填报单位");
    assert_string_equal(at(&rb, zs, "B", 4)->value, "年度");
    assert_string_equal(at(&rb, zs, "B", 2)->value, "错误");
    assert_string_equal(at(&rb, zs, "B", 2)->fill, "FFFFC7CE");
    /* one row per distinct unit, in the order units first appear: 衡阳, 青溪, 云台, 石湾, 梅岭 */
    assert_string_equal(at(&rb, zs, "A", 5)->value, "衡阳县医疗保障事务中心");
    assert_string_equal(at(&rb, zs, "A", 6)->value, "青溪县医疗保障局");
    assert_string_equal(at(&rb, zs, "A", 8)->value, "石湾县医疗保障局");
    assert_string_equal(at(&rb, zs, "A", 9)->value, "梅岭县医疗保障局");
    assert_null(at(&rb, zs, "A", 10));
    /* the file last: the duplicate 自评表 of 衡阳 comes from zpb.xlsx (same 填报时间, later file) */
    const rb_cell *last = NULL;
    for (size_t i = 0; i < rb.n; i++)
        if (!strncmp(rb.cells[i].ref, "汇总-自评表!", strlen("汇总-自评表!")) &&
            atoi(rb.cells[i].ref + strlen("汇总-自评表!") +
                 strspn(rb.cells[i].ref + strlen("汇总-自评表!"), "ABCDEFGHIJKLMNOPQRSTUVWXYZ")) == 5)
            last = &rb.cells[i];
    assert_non_null(last);
    assert_string_equal(last->value, "samples/hengyang-county-2021/zpb.xlsx");
    /* 合计 above the header: money summed, 执行率 from the sums, scores not summed */
    assert_string_equal(at(&rb, zs, "A", 3)->value, "合计（5 个单位）");
    col_of(&rb, zs, "全年执行数", 4, col);
    col_of(&rb, zs, "全年预算数", 4, bcol);
    double sum = 0, budget = 0;
    for (int r = 5; r <= 9; r++) {
        sum += num_at(&rb, zs, col, r);
        budget += num_at(&rb, zs, bcol, r);
    }
    const rb_cell *t = at(&rb, zs, col, 3);
    assert_non_null(t);
    assert_string_equal(t->kind, "n");
    assert_true(fabs(atof(t->value) - WANT_EXECUTED) < 1e-6);
    assert_true(fabs(sum - atof(t->value)) < 1e-6);
    col_of(&rb, zs, "执行率", 4, col);
    t = at(&rb, zs, col, 3);
    assert_non_null(t);
    assert_string_equal(t->numfmt, "0.00%");
    assert_true(fabs(atof(t->value) - sum / budget) < 1e-12);
    col_of(&rb, zs, "总分得分", 4, wcol);
    assert_true(at(&rb, zs, wcol, 3) == NULL || !at(&rb, zs, wcol, 3)->value[0]);
    col_of(&rb, zs, "三级指标个数", 4, wcol);
    assert_true(at(&rb, zs, wcol, 3) == NULL || !at(&rb, zs, wcol, 3)->value[0]);
    /* each 一级指标's score has its column */
    col_of(&rb, zs, "产出指标得分", 4, wcol);
    assert_string_equal(at(&rb, zs, wcol, 8)->kind, "n");
    /* 石湾's 执行率 (F6, zpb.rate) is filled red in 汇总, the message first in its comment */
    const rb_cell *rate = at(&rb, zs, col, 8);
    assert_string_equal(rate->numfmt, "0.00%");
    assert_string_equal(rate->fill, "FFFFC7CE");
    assert_true(strncmp(rate->comment, "错误：执行率应为", strlen("错误：执行率应为")) == 0);
    assert_string_equal(at(&rb, zs, col, 6)->fill, ""); /* 青溪: clean */
    /* no formula anywhere */
    for (size_t i = 0; i < rb.n; i++)
        assert_string_not_equal(rb.cells[i].kind, "f");
    /* 指标明细: every indicator of the five, long format, numbers as numbers */
    assert_int_equal(readback_count_prefix(&rb, "指标明细!A"), 1 + WANT_INDICATORS);
    assert_string_equal(readback_get(&rb, "指标明细!A2")->value, "衡阳县医疗保障事务中心");
    col_of(&rb, "指标明细", "指标值", 1, wcol);
    size_t numbers = 0;
    for (int r = 2; r <= 1 + WANT_INDICATORS; r++)
        numbers += at(&rb, "指标明细", wcol, r) && at(&rb, "指标明细", wcol, r)->kind[0] == 'n';
    assert_true(numbers >= 25); /* "800", "100%" …; "≥98%", "78家" stay text */
    /* 校验结果: the duplicate once, saying which file won and why */
    int dup = row_of(&rb, "校验结果", "merge.duplicate");
    assert_true(dup > 1);
    assert_string_equal(at(&rb, "校验结果", "K", dup)->value, "samples/hengyang-county-2021/both.xls");
    assert_string_equal(at(&rb, "校验结果", "F", dup)->value, "警告");
    assert_non_null(strstr(at(&rb, "校验结果", "H", dup)->value, "samples/hengyang-county-2021/zpb.xlsx"));
    assert_non_null(strstr(at(&rb, "校验结果", "H", dup)->value, "靠后"));
    int rr = row_of(&rb, "校验结果", "zpb.rate");
    assert_true(rr > 1);
    assert_string_equal(at(&rb, "校验结果", "A", rr)->value, "石湾县医疗保障局");
    assert_string_equal(at(&rb, "校验结果", "D", rr)->value, "F6");
    assert_string_equal(at(&rb, "校验结果", "F", rr)->value, "错误");
    char where[64];
    snprintf(where, sizeof where, "汇总-自评表!%s8", col);
    assert_string_equal(at(&rb, "校验结果", "E", rr)->value, where);
    assert_string_equal(at(&rb, "校验结果", "I", rr)->numfmt, "0.00%");
    /* 文件: every input, the empty file as an error with its code, the duplicate said */
    assert_int_equal(readback_count_prefix(&rb, "文件!A"), 2 + NINPUTS);
    int er = row_of(&rb, "文件", "samples/bad/empty.xls");
    assert_int_equal(er, 3);
    assert_string_equal(at(&rb, "文件", "B", er)->value, "无法处理");
    assert_string_equal(at(&rb, "文件", "C", er)->value, "not_a_spreadsheet");
    int both = row_of(&rb, "文件", "samples/hengyang-county-2021/both.xls");
    assert_non_null(strstr(at(&rb, "文件", "I", both)->value, "未计入汇总"));
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
