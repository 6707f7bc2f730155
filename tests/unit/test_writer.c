/* test_writer.c - the standardized workbook: names, cells read back with openpyxl
 * (tests/cli/readback.py): the submitted figures and no formula, fills and comments on flagged (and
 * flagged blank) cells, 校验结果, text that looks like a formula, atomic and byte-identical output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "perfsheet/check.h"
#include "perfsheet/document.h"
#include "perfsheet/mapping.h"
#include "perfsheet/reader.h"
#include "perfsheet/workbook.h"
#include "perfsheet/writer.h"

#include "readback.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- names ---- */

static const struct {
    const char *unit;
    int year;
    const char *tmpl;
    const char *want;
} names[] = {
    {"衡阳县医疗保障事务中心", 2021, "zpb", "衡阳县医疗保障事务中心_2021_zpb.xlsx"},
    {NULL, 0, "jcsj", "未知单位_未知年度_jcsj.xlsx"},
    {"　青溪县/医保:局*?  ", 2020, "zpb", "青溪县_医保_局___2020_zpb.xlsx"},
    {"..\\..\\etc", 2021, "zpb", "_.._etc_2021_zpb.xlsx"},
    {"CON", 2021, "zpb", "_CON_2021_zpb.xlsx"}, /* harmless here, needed alone */
    {"a\x01"
     "b\"c<d>e|f",
     2021, "zpb", "a_b_c_d_e_f_2021_zpb.xlsx"},
    {"\xff\xfe单位", 2021, "zpb", "__单位_2021_zpb.xlsx"},
    {"   ", 2021, "zpb", "未知单位_2021_zpb.xlsx"},
};

static ps_document *doc_with_unit(const char *unit, int year, const char *tmpl)
{
    ps_document *d = ps_document_new(tmpl, "mappings/x.yaml", "in.xls", "Sheet1");
    assert_non_null(d);
    if (unit) {
        ps_value v = {.type = PS_TYPE_TEXT, .text = unit, .row = 1, .col = 0};
        assert_true(ps_document_set(d, "unit_name", &v));
    }
    if (year) {
        ps_value v = ps_value_number(PS_TYPE_YEAR, year, 2, 0);
        assert_true(ps_document_set(d, "year", &v));
    }
    return d;
}

static void test_document_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ps_document *d = doc_with_unit(names[i].unit, names[i].year, names[i].tmpl);
        char buf[256];
        print_message("row %zu: %s\n", i, names[i].want);
        assert_int_equal(ps_writer_document_name(d, buf, sizeof buf), PS_OK);
        assert_string_equal(buf, names[i].want);
        ps_document_free(d);
    }
}

static void test_document_name_long(void **state)
{
    (void)state;
    char unit[1024] = "";
    for (int i = 0; i < 100; i++)
        strcat(unit, "医"); /* 300 bytes */
    ps_document *d = doc_with_unit(unit, 2021, "zpb");
    char buf[256];
    assert_int_equal(ps_writer_document_name(d, buf, sizeof buf), PS_OK);
    size_t n = strlen(buf);
    assert_true(n <= WRITER_NAME_MAX);
    assert_true(n > WRITER_NAME_MAX - 4);
    const char *tail = "_2021_zpb.xlsx";
    assert_string_equal(buf + n - strlen(tail), tail);
    /* cut at a character boundary: the unit part is whole 3-byte characters */
    assert_int_equal((n - strlen(tail)) % 3, 0);
    /* a reserved device name as the whole stem */
    char part[64];
    ps_writer_safe_file_part("nul", part, sizeof part);
    assert_string_equal(part, "_nul");
    ps_writer_safe_file_part("COM1.txt", part, sizeof part);
    assert_string_equal(part, "_COM1.txt");
    ps_document_free(d);
}

static void test_sheet_name(void **state)
{
    (void)state;
    char buf[128];
    ps_writer_sheet_name("汇总-[基础]数据表:*?/\\", buf, sizeof buf);
    assert_string_equal(buf, "汇总-_基础_数据表_____");
    ps_writer_sheet_name("'quoted'", buf, sizeof buf);
    assert_string_equal(buf, "quoted");
    ps_writer_sheet_name("", buf, sizeof buf);
    assert_string_equal(buf, "Sheet");
    ps_writer_sheet_name("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三", buf,
                         sizeof buf);
    assert_string_equal(buf, "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一");
}

/* ---- a hand-made 基础数据表 document ---- */

static void set_num(ps_document *d, const char *key, ps_field_type t, double v, uint32_t r, uint32_t c)
{
    ps_value val = ps_value_number(t, v, r, c);
    assert_true(ps_document_set(d, key, &val));
}

static void set_text(ps_document *d, const char *key, ps_field_type t, const char *s, uint32_t r, uint32_t c)
{
    ps_value val = {.type = t, .text = s, .row = r, .col = c, .decimals = 255};
    assert_true(ps_document_set(d, key, &val));
}

/* 衡阳县 2021 基础数据表 as extracted: 控制率 100% (should be 98.25%), 三公 10.5 (= 6.85 + 3.65). */
static ps_document *jcsj_doc(const char *file)
{
    ps_document *d = ps_document_new("jcsj", "mappings/jcsj.yaml", file, "基础数据表");
    assert_non_null(d);
    set_text(d, "unit_name", PS_TYPE_TEXT, "衡阳县医疗保障事务中心", 1, 0);
    set_num(d, "year", PS_TYPE_YEAR, 2021, 1, 0);
    set_text(d, "fill_date", PS_TYPE_DATE, "2022-04-25", 1, 2);
    set_text(d, "preparer", PS_TYPE_TEXT, "=1+1", 40, 1); /* text that looks like a formula */
    set_text(d, "phone", PS_TYPE_PHONE, "13873480977", 40, 3);
    set_num(d, "staff_quota", PS_TYPE_INT, 114, 4, 1);
    set_num(d, "staff_actual", PS_TYPE_INT, 112, 4, 2);
    set_num(d, "staff_control_rate", PS_TYPE_FRACTION, 1.0, 4, 3);
    set_num(d, "basic_expense.final", PS_TYPE_MONEY, 1220.03, 6, 1);
    set_num(d, "three_public.final", PS_TYPE_MONEY, 10.5, 8, 1);
    assert_true(ps_document_set_blank_cell(d, "vehicle.final", 9, 1)); /* B10, left blank */
    set_num(d, "vehicle_operation.final", PS_TYPE_MONEY, 6.85, 11, 1);
    set_num(d, "reception.final", PS_TYPE_MONEY, 3.65, 12, 1);
    set_num(d, "project_expense.final", PS_TYPE_MONEY, 20, 16, 1);
    ps_table *t = ps_document_add_table(d, "projects");
    assert_non_null(t);
    const double finals[] = {12.5, 7.5};
    const char *pn[] = {"医保信息化", "@SUM(A1)"};
    for (size_t i = 0; i < 2; i++) {
        size_t r = ps_table_add_row(t);
        ps_value name = {.type = PS_TYPE_TEXT, .text = pn[i], .row = (uint32_t)(18 + i), .col = 0};
        ps_value fin = ps_value_number(PS_TYPE_MONEY, finals[i], (uint32_t)(18 + i), 1);
        assert_true(ps_table_set(t, r, "name", &name));
        assert_true(ps_table_set(t, r, "final", &fin));
    }
    ps_findings *fl = ps_document_findings(d);
    ps_finding *f = ps_findings_add(fl, "jcsj.control_rate", PS_SEV_ERROR, file, "基础数据表", "D5",
                                    "控制率应为 98.25%（112/114），表中为 100.00%");
    assert_non_null(f);
    ps_finding_set_expected_number(f, 0.982456);
    ps_finding_set_actual_number(f, 1.0);
    assert_non_null(ps_findings_add(fl, "clean.percent_text", PS_SEV_WARNING, file, "基础数据表", "D5",
                                    "控制率以文本录入：'　100%'"));
    assert_non_null(
        ps_findings_add(fl, "clean.fullwidth", PS_SEV_INFO, file, "基础数据表", "B7", "全角数字已转换"));
    assert_non_null(ps_findings_add(fl, "jcsj.vehicle", PS_SEV_ERROR, file, "基础数据表", "B10",
                                    "公务用车购置和维护经费应为 6.85（公车购置+公车运行维护），表中为空"));
    return d;
}

static const char *const jcsj_yaml =
    "id: jcsj\n"
    "title: 部门整体支出绩效评价基础数据表\n"
    "fields:\n"
    "  - {key: unit_name, label: 填报单位, type: text, at: B2}\n"
    "  - {key: year, label: 年度, type: year, at: B3}\n"
    "  - {key: fill_date, label: 填报时间, type: date, at: D2}\n"
    "  - {key: preparer, label: 填表人, at: B41}\n"
    "  - {key: phone, label: 联系电话, type: phone, at: D41}\n"
    "  - {key: staff_quota, label: 编制数, type: int, at: B5}\n"
    "  - {key: staff_actual, label: 实际在职人数, type: int, at: C5}\n"
    "  - {key: staff_control_rate, label: 控制率, type: fraction, at: D5}\n"
    "  - grid:\n"
    "      rows: {basic_expense: 一、部门基本支出, three_public: 2、三公经费, vehicle: "
    "公务用车购置和维护经费,\n"
    "             vehicle_purchase: 其中：公车购置, vehicle_operation: 公车运行维护, reception: 公务接待,\n"
    "             overseas: 出国经费, project_expense: 四、部门项目支出}\n"
    "      columns: {final: 决算数, budget: 预算数}\n"
    "tables:\n"
    "  - name: projects\n"
    "    header: 项目名称\n"
    "    row_key: name\n"
    "    columns:\n"
    "      - {key: name, label: 项目名称, header: 项目名称}\n"
    "      - {key: final, label: 决算数, type: money, header: 决算数}\n"
    "layout:\n"
    "  sheet: 基础数据表\n"
    "  blocks:\n"
    "    - title: 财政供养人员情况\n"
    "      fields: [staff_quota, staff_actual, {staff_control_rate: 控制率}]\n"
    "    - grid:\n"
    "        columns: {final: 决算数, budget: 预算数}\n"
    "        rows: {basic_expense: 一、部门基本支出, three_public: 2、三公经费, vehicle: "
    "公务用车购置和维护经费,\n"
    "               vehicle_purchase: 其中：公车购置, vehicle_operation: 公车运行维护, reception: 公务接待,\n"
    "               overseas: 出国经费, project_expense: 四、部门项目支出}\n"
    "    - table: projects\n";

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ps_writer_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (getenv("PS_TEST_KEEP")) { /* for a look at the files */
        print_message("kept %s\n", tmpdir);
        return 0;
    }
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

/* The mapping of jcsj_yaml, or NULL when the mapping loader cannot read it (then the writer's
 * default layout is used and grid-specific asserts are skipped). */
static ps_mapping *test_mapping(void)
{
    ps_mapping *m = NULL;
    ps_error err;
    if (ps_mapping_load_text("test/jcsj.yaml", jcsj_yaml, strlen(jcsj_yaml), &m, &err) != PS_OK) {
        print_message("ps_mapping_load_text: %s\n", err.message);
        return NULL;
    }
    return m;
}

static void test_convert_cells(void **state)
{
    (void)state;
    if (!readback_available())
        skip();
    ps_mapping *m = test_mapping();
    assert_non_null(m);
    ps_document *d = jcsj_doc("in/jcsj.xls");
    char path[512];
    snprintf(path, sizeof path, "%s/out.xlsx", tmpdir);
    ps_error err;
    assert_int_equal(ps_writer_convert(m, d, path, &err), PS_OK);

    readback rb;
    assert_true(readback_load(&rb, path));
    /* title merged across the sheet, header rows */
    const rb_cell *c = readback_find_text(&rb, "基础数据表", "部门整体支出绩效评价基础数据表");
    assert_non_null(c);
    assert_string_equal(c->ref, "基础数据表!A1");
    c = readback_right_of(&rb, "基础数据表", "填报单位");
    assert_non_null(c);
    assert_string_equal(c->value, "衡阳县医疗保障事务中心");
    c = readback_right_of(&rb, "基础数据表", "年度");
    assert_string_equal(c->kind, "n");
    assert_string_equal(c->value, "2021");
    assert_string_equal(c->numfmt, "0");
    c = readback_right_of(&rb, "基础数据表", "填报时间");
    assert_string_equal(c->kind, "d");
    assert_string_equal(c->value, "2022-04-25T00:00:00");
    /* text that looks like a formula stays text */
    c = readback_find_text(&rb, "基础数据表", "=1+1");
    assert_non_null(c);
    assert_string_equal(c->kind, "s");
    c = readback_find_text(&rb, "基础数据表", "@SUM(A1)");
    assert_non_null(c);
    assert_string_equal(c->kind, "s");
    /* 控制率: the declared 100% as submitted (no formula), flagged red, the error first */
    c = readback_right_of(&rb, "基础数据表", "控制率");
    assert_non_null(c);
    assert_string_equal(c->kind, "n");
    assert_string_equal(c->value, "1");
    assert_string_equal(c->formula, "");
    assert_string_equal(c->numfmt, "0.00%");
    assert_string_equal(c->fill, "FFFFC7CE");
    const char *err_line = strstr(c->comment, "错误：控制率应为 98.25%"),
               *warn = strstr(c->comment, "警告：控制率以文本录入");
    assert_non_null(err_line);
    assert_non_null(warn);
    assert_true(err_line < warn);
    assert_non_null(strstr(c->comment, "〔jcsj.control_rate〕"));
    /* basic_expense.final: info finding → light blue, money format */
    c = readback_right_of(&rb, "基础数据表", "一、部门基本支出");
    assert_string_equal(c->value, "1220.03");
    assert_string_equal(c->numfmt, "0.00");
    assert_string_equal(c->fill, "FFDDEBF7");
    /* 三公经费: the submitted 10.5, a number */
    c = readback_right_of(&rb, "基础数据表", "2、三公经费");
    assert_string_equal(c->kind, "n");
    assert_string_equal(c->value, "10.5");
    /* the blank 公务用车 subtotal stays blank, flagged red with its finding */
    c = readback_right_of(&rb, "基础数据表", "公务用车购置和维护经费");
    assert_non_null(c);
    assert_string_equal(c->value, "");
    assert_string_equal(c->fill, "FFFFC7CE");
    assert_non_null(strstr(c->comment, "错误：公务用车购置和维护经费应为 6.85"));
    /* 项目支出: the submitted 20 */
    c = readback_right_of(&rb, "基础数据表", "四、部门项目支出");
    assert_string_equal(c->kind, "n");
    assert_string_equal(c->value, "20");
    /* no formula anywhere; the legend of the fills */
    for (size_t i = 0; i < rb.n; i++)
        assert_string_not_equal(rb.cells[i].kind, "f");
    c = readback_find_text(&rb, "基础数据表", "错误");
    assert_non_null(c);
    assert_string_equal(c->fill, "FFFFC7CE");
    assert_string_equal(readback_find_text(&rb, "基础数据表", "警告")->fill, "FFFFEB9C");
    assert_string_equal(readback_find_text(&rb, "基础数据表", "提示")->fill, "FFDDEBF7");
    /* 校验结果 lists all four findings, severities in Chinese, the rule in its own column,
     * 期望值/实际值 in the format of their cell */
    assert_int_equal(readback_count_prefix(&rb, "校验结果!B"), 5); /* header + 4 */
    assert_non_null(readback_find_text(&rb, "校验结果", "jcsj.vehicle"));
    assert_non_null(readback_find_text(&rb, "校验结果", "B10"));
    const rb_cell *rule = readback_find_text(&rb, "校验结果", "jcsj.control_rate");
    assert_non_null(rule);
    char ref[200];
    int r = atoi(rule->ref + strlen("校验结果!B"));
    snprintf(ref, sizeof ref, "校验结果!A%d", r);
    assert_string_equal(readback_get(&rb, ref)->value, "错误");
    snprintf(ref, sizeof ref, "校验结果!G%d", r);
    assert_string_equal(readback_get(&rb, ref)->numfmt, "0.00%");
    snprintf(ref, sizeof ref, "校验结果!E%d", r); /* the cell that shows it */
    assert_string_equal(readback_get(&rb, ref)->value, readback_right_of(&rb, "基础数据表", "控制率")->ref);
    assert_null(readback_find_text(&rb, "校验结果", "error"));
    readback_free(&rb);
    ps_document_free(d);
    ps_mapping_free(m);
}

static bool same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = false;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void test_convert_deterministic_atomic(void **state)
{
    (void)state;
    ps_mapping *m = test_mapping();
    ps_document *d = jcsj_doc("in/jcsj.xls");
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/a.xlsx", tmpdir);
    snprintf(b, sizeof b, "%s/b.xlsx", tmpdir);
    ps_error err;
    assert_int_equal(ps_writer_convert(m, d, a, &err), PS_OK);
    sleep(1); /* a clock in the output would now differ */
    assert_int_equal(ps_writer_convert(m, d, b, &err), PS_OK);
    assert_true(same_bytes(a, b));
    /* rewriting over an existing output replaces it atomically, no temp left */
    assert_int_equal(ps_writer_convert(m, d, a, &err), PS_OK);
    assert_true(same_bytes(a, b));
    DIR *dir = opendir(tmpdir);
    struct dirent *e;
    while ((e = readdir(dir)))
        assert_null(strstr(e->d_name, ".tmp-"));
    closedir(dir);
    /* a folder that does not exist: an io error, nothing written */
    char bad[512];
    snprintf(bad, sizeof bad, "%s/missing/x.xlsx", tmpdir);
    assert_int_equal(ps_writer_convert(m, d, bad, &err), PS_ERR_IO);
    ps_document_free(d);
    ps_mapping_free(m);
}

static void test_convert_refuses_input(void **state)
{
    (void)state;
    char in[512];
    snprintf(in, sizeof in, "%s/input.xls", tmpdir);
    FILE *f = fopen(in, "wb");
    assert_non_null(f);
    fputs("not really a spreadsheet", f);
    fclose(f);
    ps_document *d = jcsj_doc(in);
    char alias[512];
    snprintf(alias, sizeof alias, "%s/./input.xls", tmpdir);
    ps_error err;
    assert_int_equal(ps_writer_convert(NULL, d, alias, &err), PS_ERR_IO);
    f = fopen(in, "rb");
    char buf[64] = "";
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "not really a spreadsheet");
    ps_document_free(d);
}

/* Without a mapping the writer lays out every key of the document; perfsheet's own reader
 * reads the result back. */
static void test_convert_no_mapping_own_reader(void **state)
{
    (void)state;
    ps_document *d = jcsj_doc("in/jcsj.xls");
    char path[512];
    snprintf(path, sizeof path, "%s/plain.xlsx", tmpdir);
    ps_error err;
    assert_int_equal(ps_writer_convert(NULL, d, path, &err), PS_OK);
    ps_workbook *wb = NULL;
    ps_status st = ps_reader_open(path, NULL, &wb, &err);
    if (st != PS_OK) {
        print_message("ps_reader_open: %s\n", err.message);
        fail();
    }
    assert_true(ps_workbook_sheet_count(wb) >= 2);
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    bool found = false;
    for (uint32_t r = 0; r < 60 && !found; r++) {
        const ps_cell *label = ps_sheet_cell(sh, r, 0);
        if (label && label->type == PS_CELL_TEXT && strcmp(label->text, "basic_expense.final") == 0) {
            const ps_cell *v = ps_sheet_cell(sh, r, 1);
            assert_non_null(v);
            assert_int_equal(v->type, PS_CELL_NUMBER);
            assert_true(fabs(v->number - 1220.03) < 1e-9);
            found = true;
        }
    }
    assert_true(found);
    ps_workbook_free(wb);
    ps_document_free(d);
}

/* A broken layout: the mapping does not load (the layout is compiled with it), a mapping error
 * at its line and column, so nothing can be converted with it. */
static void test_layout_errors(void **state)
{
    (void)state;
    static const struct {
        const char *layout;
        int line;
        const char *says;
    } cases[] = {
        {"layout:\n  blocks:\n    - {fields: [a], table: t}\n", 3, "只有"},
        {"layout:\n  blocks:\n    - grid: {rows: [a]}\n", 0, "columns"},
        {"layout:\n  formulas: [a]\n", 2, "computed: true"},
        {"layout:\n  blocks:\n    - fields: [{a: [1]}]\n", 3, "标签"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "id: t\nfields:\n  - {key: a, at: A1}\n%s", cases[i].layout);
        ps_mapping *m = NULL;
        ps_error err;
        print_message("case %zu\n", i);
        assert_int_equal(ps_mapping_load_text("t.yaml", text, strlen(text), &m, &err), PS_ERR_MAPPING);
        assert_null(m);
        print_message("  %s:%d:%d: %s\n", err.file, err.line, err.col, err.message);
        assert_string_equal(err.file, "t.yaml");
        if (cases[i].line)
            assert_int_equal(err.line, cases[i].line + 3);
        assert_non_null(strstr(err.message, cases[i].says));
    }
    /* the built-in layouts are valid */
    ps_mapping_set *set = NULL;
    ps_error err;
    assert_int_equal(ps_mapping_set_load(NULL, &set, &err), PS_OK);
    for (size_t i = 0; i < ps_mapping_set_count(set); i++)
        assert_int_equal(ps_writer_layout_check(ps_mapping_set_at(set, i), &err), PS_OK);
    ps_mapping_set_free(set);
}

/* A real file: synthetic 石湾县 自评表, whose 执行率 F6 reads 100% for 1352.90 / 1384.75
 * (zpb.rate): read, extracted, checked, converted with the built-in mapping and its layout. */
static void test_convert_real_sample(void **state)
{
    (void)state;
    const char *in = "samples/synthetic/u04-shiwan/zpb.xls";
    ps_mapping_set *set = NULL;
    ps_checker *ck = NULL;
    ps_workbook *wb = NULL;
    ps_document **docs = NULL;
    size_t n = 0;
    ps_error err;
    assert_int_equal(ps_mapping_set_load(NULL, &set, &err), PS_OK);
    assert_int_equal(ps_checker_new(set, &ck, &err), PS_OK);
    assert_int_equal(ps_reader_open(in, NULL, &wb, &err), PS_OK);
    assert_int_equal(ps_mapping_extract_workbook(set, wb, in, &docs, &n, &err), PS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ps_checker_check_document(ck, docs[0], &err), PS_OK);
    char name[256], path[600];
    assert_int_equal(ps_writer_document_name(docs[0], name, sizeof name), PS_OK);
    assert_string_equal(name, "石湾县医疗保障局_2021_zpb.xlsx");
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    assert_int_equal(ps_writer_convert(ps_mapping_set_find(set, "zpb"), docs[0], path, &err), PS_OK);
    if (readback_available()) {
        readback rb;
        assert_true(readback_load(&rb, path));
        const rb_cell *rate = readback_right_of(&rb, "自评表", "执行率");
        assert_non_null(rate);
        assert_string_equal(rate->kind, "n"); /* the submitted 100%, not recomputed */
        assert_string_equal(rate->value, "1");
        const rb_cell *exec = readback_right_of(&rb, "自评表", "全年执行数");
        assert_string_equal(exec->value, "1352.9");
        assert_string_equal(rate->fill, "FFFFC7CE");
        assert_non_null(strstr(rate->comment, "错误：执行率应为 97.70%"));
        assert_non_null(strstr(rate->comment, "〔zpb.rate〕"));
        /* 绩效指标: the 12 三级指标 rows under their header, texts as written */
        const rb_cell *head = readback_find_text(&rb, "自评表", "三级指标");
        assert_non_null(head);
        /* 总分: the submitted figure */
        const rb_cell *total = readback_right_of(&rb, "自评表", "总分得分");
        assert_non_null(total);
        assert_string_equal(total->kind, "n");
        for (size_t i = 0; i < rb.n; i++)
            assert_string_not_equal(rb.cells[i].kind, "f");
        readback_free(&rb);
    }
    for (size_t i = 0; i < n; i++)
        ps_document_free(docs[i]);
    free(docs);
    ps_workbook_free(wb);
    ps_checker_free(ck);
    ps_mapping_set_free(set);
}

/* Hostile values from cells: control characters, a 40,000-character text (Excel holds
 * 32,767), a number that is not finite, a unit name cut inside a UTF-8 character. The file is
 * still written and readable. */
static void test_convert_hostile_values(void **state)
{
    (void)state;
    ps_document *d = ps_document_new("zpb", "mappings/zpb.yaml", "in.xls", "自评表");
    assert_non_null(d);
    set_text(d, "unit_name", PS_TYPE_TEXT, "单位\x01\x1f名", 1, 0);
    size_t big = 40000 * 3;
    char *long_text = malloc(big + 1);
    assert_non_null(long_text);
    for (size_t i = 0; i < big; i += 3)
        memcpy(long_text + i, "医", 3);
    long_text[big] = '\0';
    set_text(d, "goals.planned", PS_TYPE_TEXT, long_text, 10, 0);
    set_num(d, "funds.executed", PS_TYPE_MONEY, INFINITY, 5, 4);
    set_num(d, "funds.budget_full", PS_TYPE_MONEY, NAN, 5, 3);
    set_text(d, "grade", PS_TYPE_GRADE, "\xe4\xbc", 30, 1); /* a cut character */
    assert_non_null(ps_findings_add(ps_document_findings(d), "x.long", PS_SEV_ERROR, "in.xls", "自评表",
                                    "A11", long_text));
    char path[512];
    snprintf(path, sizeof path, "%s/hostile.xlsx", tmpdir);
    ps_error err;
    assert_int_equal(ps_writer_convert(NULL, d, path, &err), PS_OK);
    free(long_text);
    ps_workbook *wb = NULL;
    assert_int_equal(ps_reader_open(path, NULL, &wb, &err), PS_OK);
    const ps_sheet *sh = ps_workbook_sheet(wb, 0);
    bool unit = false, text = false;
    for (size_t i = 0; i < ps_sheet_cell_count(sh); i++) {
        const ps_cell *c = &ps_sheet_cells(sh)[i];
        if (c->type == PS_CELL_TEXT && strncmp(c->text, "单位", 6) == 0 && strstr(c->text, "名"))
            unit = true;
        if (c->type == PS_CELL_TEXT && strlen(c->text) == 32767 * 3)
            text = true;
        if (c->type == PS_CELL_NUMBER)
            assert_true(isfinite(c->number));
    }
    assert_true(unit);
    assert_true(text);
    ps_workbook_free(wb);
    if (readback_available()) {
        readback rb;
        assert_true(readback_load(&rb, path));
        readback_free(&rb);
    }
    ps_document_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document_name),
        cmocka_unit_test(test_document_name_long),
        cmocka_unit_test(test_sheet_name),
        cmocka_unit_test(test_convert_cells),
        cmocka_unit_test(test_convert_deterministic_atomic),
        cmocka_unit_test(test_convert_refuses_input),
        cmocka_unit_test(test_convert_no_mapping_own_reader),
        cmocka_unit_test(test_convert_hostile_values),
        cmocka_unit_test(test_convert_real_sample),
        cmocka_unit_test(test_layout_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
