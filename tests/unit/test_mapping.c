/* test_mapping.c - the mapping language: load errors at file:line:column, sets (built-ins,
 * user directory, rules-only members, duplicates), the worked example of docs/mapping.md on
 * sheets built in memory (anchors, inserted rows/columns, capture/fallback, fill-down, (N分)
 * weights, per-row and per-block 分值/得分), detection scoring and ties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_int.h"
#include "perfsheet/clean.h"
#include "perfsheet/mapping.h"
#include "workbook_int.h"

#define EXAMPLE "tests/data/mapping/userdir/example.yaml"

/* ---- load errors ------------------------------------------------------------------- */

static const struct {
    const char *text;
    int line, col;
    const char *says;
} bad_mappings[] = {
    /* YAML syntax */
    {"id: x\ntitle: \"abc\n", 2, 9, "不是有效的 YAML"},
    {"id: x\nid: y\n", 2, 1, "duplicate key"},
    {"id: x\nfields:\n  - key: a\n    find: {regex: a\n  - key: b\n", 5, 8, "不是有效的 YAML"},
    /* unknown type: points at the value */
    {"id: x\ndetect: {title: t}\nfields:\n  - key: a\n    type: moneyy\n    at: B5\n", 5, 11,
     "未知的类型“moneyy”"},
    /* unknown keys: top level, field, table, matcher */
    {"id: x\nfoo: 1\n", 2, 1, "未知的键“foo”"},
    {"id: x\nfields:\n  - key: a\n    at: B5\n    colour: red\n", 5, 5, "字段中未知的键“colour”"},
    {"id: x\ntables:\n  - name: t\n    header: h\n    row_key: a\n    columns: [{key: a, header: h}]\n    "
     "rowz: 1\n",
     7, 5, "表中未知的键“rowz”"},
    {"id: x\nfields:\n  - {key: a, find: {lable: 编制数}}\n", 3, 21, "标签中未知的键“lable”"},
    /* bad regex: points at the pattern */
    {"id: x\nfields:\n  - {key: a, find: {regex: \"([\"}, capture: 1}\n", 3, 29, "正则表达式“([”无效"},
    /* a capture group the regex does not have */
    {"id: x\nfields:\n  - key: a\n    find: {regex: \"^a(b)$\"}\n    capture: 2\n", 5, 14,
     "超出正则的分组数"},
    /* capture needs a regex */
    {"id: x\nfields:\n  - {key: a, find: 编制数, capture: 1}\n", 3, 34, "需要 find: {regex"},
    /* neither or both of at/find */
    {"id: x\nfields:\n  - key: a\n    type: money\n", 3, 10, "需要 at 或 find 之一"},
    {"id: x\nfields:\n  - {key: a, at: ZZZZ0}\n", 3, 18, "单元格地址"},
    /* a key defined twice */
    {"id: x\nfields:\n  - {key: a, at: A1}\n  - {key: a, at: A2}\n", 4, 11, "重复定义"},
    /* bad id, missing id */
    {"id: Zpb\n", 1, 5, "小写字母"},
    {"title: t\n", 1, 1, "缺少“id”"},
    /* a table column that is not there */
    {"id: x\ntables:\n  - name: t\n    header: h\n    row_key: b\n    columns: [{key: a, header: h}]\n", 5,
     14, "row_key“b”不是本表的列"},
    /* take after column */
    {"id: x\nfields:\n  - {key: a, find: x, column: y, take: below}\n", 3, 40,
     "有 column 时不能再指定取值方式"},
    /* unknown take, fallback */
    {"id: x\nfields:\n  - {key: a, find: x, take: left}\n", 3, 29, "未知的取值方式“left”"},
    /* take is one word: an offset written under it is explained */
    {"id: x\nfields:\n  - {key: a, find: x, take: {offset: [0, 2]}}\n", 3, 30, "偏移写作字段的 offset: [行, 列]"},
    /* keys are read in the file's order: the first bad one is reported, a later key overrides */
    {"id: x\nfields:\n  - {key: a, at: ZZ, type: moneyy}\n", 3, 18, "单元格地址"},
    {"id: x\nfields:\n  - {key: a, type: moneyy, at: ZZ}\n", 3, 20, "未知的类型“moneyy”"},
    {"id: x\nfields:\n  - {key: a, find: x, take: right, capture: 1}\n", 3, 45, "需要 find: {regex"},
    {"id: x\ndetect: {title: t, foo: 1}\n", 2, 20, "detect中未知的键“foo”"},
    /* constants and defaults are values of the field's type; a constant reads no cell */
    {"id: x\nfields:\n  - {key: a, type: year, value: abc}\n", 3, 33, "不是 year 类型的值"},
    {"id: x\nfields:\n  - {key: a, type: money, find: x, default: many}\n", 3, 45, "不是 money 类型的值"},
    {"id: x\nfields:\n  - {key: a, find: x, value: 1}\n", 3, 30, "有 value（常量）时不能再有"},
    {"id: x\nfields:\n  - {key: a, from_filename: \"(\"}\n", 3, 30, "正则表达式“(”无效"},
    /* split: a group the regex has */
    {"id: x\nfields:\n  - {key: a, find: x, split: {regex: \"(a)\", part: 2}}\n", 3, 51, "超出正则的分组数"},
};

static void test_load_errors_are_located(void **state)
{
    for (size_t i = 0; i < sizeof bad_mappings / sizeof bad_mappings[0]; i++) {
        ps_mapping *m = NULL;
        ps_error err;
        ps_error_clear(&err);
        ps_status st =
            ps_mapping_load_text("bad.yaml", bad_mappings[i].text, strlen(bad_mappings[i].text), &m, &err);
        print_message("row %zu: %d:%d %s\n", i, err.line, err.col, err.message);
        assert_int_equal(st, PS_ERR_MAPPING);
        assert_null(m);
        assert_string_equal(err.file, "bad.yaml");
        assert_int_equal(err.line, bad_mappings[i].line);
        assert_int_equal(err.col, bad_mappings[i].col);
        assert_non_null(strstr(err.message, bad_mappings[i].says));
    }
}

static void test_load_file_errors(void **state)
{
    ps_mapping *m = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_load_file("tests/data/mapping/no-such-file.yaml", &m, &err), PS_ERR_IO);
    assert_null(m);
    /* text need not be NUL-terminated: only len bytes are read */
    const char text[] = "id: abc\ndetect: {title: t}\nfields: [{key: a, at: A1}]\nXXXX";
    assert_int_equal(ps_mapping_load_text("t.yaml", text, sizeof text - 5, &m, &err), PS_OK);
    assert_string_equal(ps_mapping_id(m), "abc");
    ps_mapping_free(m);
    ps_mapping_free(NULL);
    ps_mapping_set_free(NULL);
}

/* ---- every name resolved at load ----------------------------------------------------- */

#define NAMES_HEAD                                                                                           \
    "id: n\n"                                                                                                \
    "fields:\n"                                                                                              \
    "  - {key: funds.score, at: B2}\n"                                                                       \
    "  - {key: funds.weight, at: C2}\n"                                                                      \
    "  - grid: {rows: {vehicle: 公车}, columns: {final: 决算数, budget: 预算数}}\n"                  \
    "tables:\n"                                                                                              \
    "  - name: indicators\n"                                                                                 \
    "    header: 三级指标\n"                                                                             \
    "    row_key: name\n"                                                                                    \
    "    columns:\n"                                                                                         \
    "      - {key: level1, header: 一级指标}\n"                                                          \
    "      - {key: name, header: 三级指标}\n"                                                            \
    "      - {key: weight, type: number, header: 分值}\n"

/* Each slip fails loading at its line:column (the lines after NAMES_HEAD's 13), with the
 * suggestion when a known name is close. A grid's keys <row>.<column> and a table's columns are
 * known from the mapping: resolution is exact. */
static void test_names_resolved(void **state)
{
    (void)state;
    static const struct {
        const char *tail;
        ps_status code;
        int line, col;
        const char *says;
    } rows[] = {
        {"rules:\n  - {id: a, check: funds.scor <= funds.weight, message: x}\n", PS_ERR_MAPPING, 15, 20,
         "未知的字段 “funds.scor”（映射 n 的 fields 中没有这个键）。您是不是要写 “funds.score”？"},
        {"rules:\n  - {id: a, check: \"SUM(indicators[].weigth) <= 100\", message: x}\n", PS_ERR_MAPPING, 15,
         25, "表 indicators 没有列 “weigth”。您是不是要写 “weight”？"},
        {"rules:\n  - {id: a, check: \"SUM(indicator[].weight) <= 100\", message: x}\n", PS_ERR_MAPPING, 15,
         25, "未知的表 “indicator”"},
        {"rules:\n  - {id: a, each: indicators by levl1, check: \"SUM(indicators[].weight) <= 100\", "
         "message: x}\n",
         PS_ERR_MAPPING, 15, 33, "each: 的分组列 “levl1” 不是表 indicators 的列。您是不是要写 “level1”？"},
        {"rules:\n  - {id: a, each: indicatrs, check: \"1 = 1\", message: x}\n", PS_ERR_MAPPING, 15, 19,
         "您是不是要写 “indicators”？"},
        {"rules:\n  - {id: a, check: funds.score <= funds.weight, message: \"{expectd:num}\"}\n",
         PS_ERR_MAPPING, 15, 59, "您是不是要写 “expected”？"},
        {"rules:\n  - {id: a, check: funds.score <= funds.weight, message: \"{indicators[].name}\"}\n",
         PS_ERR_MAPPING, 15, 59, "只能用在 each: indicators 的规则里"},
        {"rules:\n  - {id: a, for: \"c in final, budgt\", check: \"vehicle.{c} >= 0\", message: x}\n",
         PS_ERR_MAPPING, 15, 47,
         "未知的字段 “vehicle.budgt”（映射 n 的 fields 中没有这个键）（for: c = budgt）。您是不是要写 "
         "“vehicle.budget”？"},
        {"rules:\n  - {id: a, for: c in final, check: \"vehicle.{d} >= 0\", message: x}\n",
         PS_ERR_RULE_SYNTAX, 15, 38, "“{d}” 不是 for: 的变量"},
        {"rules:\n  - {id: a, for: c in A, check: \"COUNT(indicators[] WHERE name = \\\"{code}\\\") = 0\", "
         "message: x}\n",
         PS_ERR_RULE_SYNTAX, 15, 67, "字符串中的 “{code}” 不是 for: 的变量"},
        {"rules:\n  - {id: a, check: \"SUM(indicators[].weight WHERE levl1 = 1) <= 100\", message: x}\n",
         PS_ERR_MAPPING, 15, 51, "表 indicators 没有列 “levl1”"},
        {"rules:\n  - {id: a, check: \"MATCHES(TEXT(funds.score), \\\"^[0-9\\\")\", message: x}\n",
         PS_ERR_RULE_SYNTAX, 15, 48, "无效的正则表达式"},
        {"layout:\n  header: [funds.scor]\n", PS_ERR_MAPPING, 15, 12, "您是不是要写 “funds.score”？"},
        {"layout:\n  blocks:\n    - grid: {rows: [vehicle], columns: [final, prev]}\n", PS_ERR_MAPPING, 16,
         21, "“vehicle.prev”不是本映射的字段"},
        {"layout:\n  blocks:\n    - {table: indicators, columns: [name, wieght]}\n", PS_ERR_MAPPING, 16, 43,
         "表 indicators 没有列“wieght”"},
        {"layout:\n  blocks:\n    - {table: indicator}\n", PS_ERR_MAPPING, 16, 15, "不是本映射的表"},
        {"layout:\n  blocks:\n    - {fields: [funds.score], colour: red}\n", PS_ERR_MAPPING, 16, 31,
         "colour"},
        {"layout:\n  formulas:\n    funds.score: funds.weight\n", PS_ERR_MAPPING, 15, 3, "computed: true"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text, "%s%s", NAMES_HEAD, rows[i].tail);
        ps_mapping *m = NULL;
        ps_error err;
        ps_error_clear(&err);
        ps_status st = ps_mapping_load_text("n.yaml", text, strlen(text), &m, &err);
        print_message("row %zu: %d:%d %s\n", i, err.line, err.col, err.message);
        assert_null(m);
        assert_int_equal(st, rows[i].code);
        assert_string_equal(err.file, "n.yaml");
        assert_int_equal(err.line, rows[i].line);
        assert_int_equal(err.col, rows[i].col);
        assert_non_null(strstr(err.message, rows[i].says));
    }
    /* the same names spelled right load, and the layout is data */
    const char *good = NAMES_HEAD
        "rules:\n"
        "  - {id: a, check: funds.score <= funds.weight, message: \"{actual:num} {funds.weight}\"}\n"
        "  - {id: b, for: \"c in final, budget\", check: \"vehicle.{c} >= 0\", message: "
        "\"{vehicle.{c}:money}\"}\n"
        "  - {id: c, each: indicators by level1, check: \"SUM(indicators[].weight) <= 100\",\n"
        "     message: \"{indicators[].level1}\"}\n"
        "layout:\n"
        "  sheet: 表\n"
        "  header: [funds.score]\n"
        "  blocks:\n"
        "    - grid: {rows: {vehicle: 公车}, columns: [final, budget]}\n"
        "    - {table: indicators, columns: {name: 指标, weight: 分值}, detail: false}\n";
    ps_mapping *m = NULL;
    ps_error err;
    assert_int_equal(ps_mapping_load_text("n.yaml", good, strlen(good), &m, &err), PS_OK);
    assert_int_equal(ps_ruleset_count(ps_mapping_rules(m)), 3);
    const ps_layout *lay = ps_mapping_layout(m);
    assert_non_null(lay);
    assert_string_equal(lay->sheet, "表");
    assert_null(lay->title);
    assert_int_equal(lay->nheader, 1);
    assert_string_equal(lay->header[0].key, "funds.score");
    assert_null(lay->header[0].label);
    assert_int_equal(lay->nblocks, 2);
    assert_int_equal(lay->blocks[0].kind, PS_LAYOUT_GRID);
    assert_int_equal(lay->blocks[0].nitems, 1);
    assert_string_equal(lay->blocks[0].items[0].label, "公车");
    assert_int_equal(lay->blocks[0].ncolumns, 2);
    assert_string_equal(lay->blocks[0].columns[1].key, "budget");
    assert_int_equal(lay->blocks[1].kind, PS_LAYOUT_TABLE);
    assert_string_equal(lay->blocks[1].table, "indicators");
    assert_string_equal(lay->blocks[1].detail, "");
    assert_string_equal(lay->blocks[1].items[1].label, "分值");
    ps_mapping_free(m);
}

/* Cross-table names are resolved against the other mappings of the set, once all are loaded. */
static void test_cross_names_resolved(void **state)
{
    (void)state;
    ps_mapping_set *set = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_set_load("tests/data/mapping/slips-cross/field", &set, &err), PS_ERR_MAPPING);
    assert_null(set);
    print_message("%s:%d:%d: %s\n", err.file, err.line, err.col, err.message);
    assert_string_equal(err.file, "tests/data/mapping/slips-cross/field/cross.yaml");
    assert_int_equal(err.line, 5);
    assert_int_equal(err.col, 12);
    assert_non_null(strstr(
        err.message, "“jcsj:basic_expense.finl” 不是模板 jcsj 的字段。您是不是要写 “basic_expense.final”？"));
    assert_int_equal(ps_mapping_set_load("tests/data/mapping/slips-cross/template", &set, &err),
                     PS_ERR_MAPPING);
    assert_int_equal(err.line, 5);
    assert_int_equal(err.col, 39);
    assert_non_null(strstr(err.message, "没有模板 “zbp” 的映射文件。您是不是要写 “zpb”？"));
}

/* ---- sets -------------------------------------------------------------------------- */

static void test_builtin_set(void **state)
{
    ps_mapping_set *set = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_set_load(NULL, &set, &err), PS_OK);
    /* the built-ins skip the UTF-8 check at start: their files pass it (and load alone) here */
    static const char *const files[] = {"mappings/jcsj.yaml", "mappings/zpb.yaml", "mappings/cross.yaml"};
    for (size_t i = 0; i < 3; i++) {
        ps_mapping *m = NULL;
        assert_int_equal(ps_mapping_load_file(files[i], &m, &err), PS_OK);
        ps_mapping_free(m);
    }
    const ps_mapping *zpb = ps_mapping_set_find(set, "zpb"), *jcsj = ps_mapping_set_find(set, "jcsj");
    assert_non_null(zpb);
    assert_non_null(jcsj);
    assert_string_equal(ps_mapping_path(zpb), "mappings/zpb.yaml");
    assert_string_equal(ps_mapping_title(zpb), "部门整体支出绩效自评表");
    assert_true(ps_mapping_detectable(zpb));
    assert_null(ps_mapping_set_find(set, "nope"));
    /* fields in fields.md order, table columns tagged with their table */
    static const char *first[] = {"unit_name", "year",  "fill_date",
                                  "preparer",  "phone", "funds.budget_initial"};
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++)
        assert_string_equal(ps_mapping_field(zpb, i)->key, first[i]);
    assert_string_equal(ps_mapping_field(zpb, 0)->label, "填报单位");
    assert_true(ps_mapping_field(zpb, 0)->required);
    assert_int_equal(ps_mapping_field(zpb, 1)->type, PS_TYPE_YEAR);
    bool saw_level1 = false, saw_count = false;
    for (size_t i = 0; i < ps_mapping_field_count(zpb); i++) {
        const ps_field_spec *s = ps_mapping_field(zpb, i);
        if (!strcmp(s->key, "level1_weight") && s->table && !strcmp(s->table, "indicators"))
            saw_level1 = true;
        if (!strcmp(s->key, "indicator_count") && !s->table)
            saw_count = true;
    }
    assert_true(saw_level1);
    bool saw_block_weight = false;
    for (size_t i = 0; i < ps_mapping_field_count(zpb); i++) {
        const ps_field_spec *s = ps_mapping_field(zpb, i);
        if (s->table && !strcmp(s->table, "blocks") && !strcmp(s->key, "weight")) {
            saw_block_weight = true;
            assert_string_equal(s->label, "分值");
            assert_int_equal(s->type, PS_TYPE_NUMBER);
        }
        if (s->table && !strcmp(s->table, "indicators") && !strcmp(s->key, "level1_weight"))
            assert_string_equal(s->label, "一级指标分值");
    }
    assert_true(saw_block_weight);
    assert_true(saw_count);
    assert_null(ps_mapping_field(zpb, ps_mapping_field_count(zpb)));
    /* jcsj grid keys */
    bool saw_grid = false;
    for (size_t i = 0; i < ps_mapping_field_count(jcsj); i++)
        if (!strcmp(ps_mapping_field(jcsj, i)->key, "three_public.prev_final")) {
            saw_grid = true;
            assert_int_equal(ps_mapping_field(jcsj, i)->type, PS_TYPE_MONEY);
            assert_string_equal(ps_mapping_field(jcsj, i)->label, "三公经费（上年决算数）");
        }
    assert_true(saw_grid);
    ps_mapping_set_free(set);
}

static void test_user_dir(void **state)
{
    ps_mapping_set *set = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_set_load("tests/data/mapping/userdir", &set, &err), PS_OK);
    /* a user file replaces the built-in mapping with its id */
    const ps_mapping *zpb = ps_mapping_set_find(set, "zpb");
    assert_string_equal(ps_mapping_path(zpb), "tests/data/mapping/userdir/zpb.yaml");
    assert_string_equal(ps_mapping_title(zpb), "自评表（用户版）");
    assert_non_null(ps_mapping_set_find(set, "jcsj"));
    assert_non_null(ps_mapping_set_find(set, "xmzp"));
    /* a rules-only member: found, never detected, its rules kept for the checks */
    const ps_mapping *cross = ps_mapping_set_find(set, "cross");
    assert_non_null(cross);
    assert_false(ps_mapping_detectable(cross));
    const ps_ruleset *rules = ps_mapping_rules(cross);
    assert_non_null(rules);
    assert_true(ps_ruleset_count(rules) > 0);
    assert_true(ps_rule_namespace_count(ps_ruleset_at(rules, 0)) > 0);
    assert_null(ps_mapping_layout(cross));
    /* the built-ins jcsj, zpb (replaced), cross, gansu_zhengti, gansu_xiangmu, gansu_zhuanyi,
     * juesuan, and the user's xmzp */
    assert_int_equal(ps_mapping_set_count(set), 8);
    ps_mapping_set_free(set);

    /* two user files with one id */
    set = NULL;
    assert_int_equal(ps_mapping_set_load("tests/data/mapping/dup", &set, &err), PS_ERR_MAPPING);
    assert_null(set);
    assert_string_equal(err.file, "tests/data/mapping/dup/two.yaml");
    assert_non_null(strstr(err.message, "dup/one.yaml"));
    assert_int_equal(ps_mapping_set_load("tests/data/mapping/nothere", &set, &err), PS_ERR_IO);
}

/* ---- sheets in memory -------------------------------------------------------------- */

typedef struct cellspec {
    uint32_t row, col;
    const char *text; /* NULL: number */
    double number;
} cellspec;

/* Set: example_sheet repeats 「产出指标」 in A8, as a page break cutting the 产出 block does. */
static bool example_label_again;

/* The worked example's sheet, shifted by (r0, c0). per_block merges 分值/得分 down the first
 * block and leaves its second row blank. */
static ps_workbook *example_sheet(uint32_t r0, uint32_t c0, bool per_block)
{
    const cellspec cells[] = {
        {0, 0, "项目支出绩效自评表", 0},
        {1, 0, "填报单位：", 0},
        {1, 2, "某县医疗保障局", 0},
        {2, 0, "项目名称", 0},
        {2, 1, "　", 0},
        {2, 2, "医保信息化建设", 0},
        {3, 1, "年初预算数", 0},
        {3, 2, "全年执行数", 0},
        {4, 0, "资金总额", 0},
        {4, 1, NULL, 100},
        {4, 2, "９８．５", 0},
        {5, 0, "一级指标", 0},
        {5, 1, "三级指标", 0},
        {5, 2, "指标值", 0},
        {5, 3, "分值", 0},
        {5, 4, "得分", 0},
        {6, 0, "产出\n指标\n（60分）", 0},
        {6, 1, "参保率", 0},
        {6, 2, "≥95%", 0},
        {6, 3, NULL, 30},
        {6, 4, NULL, 28},
        {7, 1, "结算及时率", 0},
        {7, 2, NULL, 0.98},
        {8, 0, "效益指标（40分）", 0},
        {8, 1, "基金平衡", 0},
        {8, 2, "平衡", 0},
        {8, 3, NULL, 40},
        {8, 4, NULL, 35},
        {9, 0, "总  分", 0},
        {9, 1, NULL, 93},
    };
    ps_workbook *wb = ps_workbook_new(PS_FORMAT_XLSX);
    ps_sheet *sh = ps_workbook_add_sheet(wb, "项目表");
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        ps_cell c = {.row = cells[i].row + r0, .col = cells[i].col + c0, .decimals = 255};
        if (cells[i].text) {
            c.type = PS_CELL_TEXT;
            c.text = ps_workbook_strndup(wb, cells[i].text, strlen(cells[i].text));
        } else {
            c.type = PS_CELL_NUMBER;
            c.number = cells[i].number;
        }
        assert_true(ps_sheet_put(sh, &c));
    }
    ps_cell w2 = {.row = 7 + r0, .col = 3 + c0, .type = PS_CELL_NUMBER, .number = 30, .decimals = 255};
    ps_cell s2 = {.row = 7 + r0, .col = 4 + c0, .type = PS_CELL_NUMBER, .number = 30, .decimals = 255};
    if (per_block) {
        /* 产出 block: 一级 merged over two rows, 分值 60 / 得分 58 merged likewise */
        ps_cell *w = ps_sheet_cell_mut(sh, 6 + r0, 3 + c0), *s = ps_sheet_cell_mut(sh, 6 + r0, 4 + c0);
        w->number = 60;
        s->number = 58;
        ps_sheet_add_merge(sh, (ps_range){6 + r0, 0 + c0, 7 + r0, 0 + c0});
        ps_sheet_add_merge(sh, (ps_range){6 + r0, 3 + c0, 7 + r0, 3 + c0});
        ps_sheet_add_merge(sh, (ps_range){6 + r0, 4 + c0, 7 + r0, 4 + c0});
    } else {
        /* per row, and the 一级 cell not merged: fill-down carries it */
        ps_sheet_put(sh, &w2);
        ps_sheet_put(sh, &s2);
    }
    if (example_label_again) {
        ps_cell again = {.row = 7 + r0, .col = 0 + c0, .type = PS_CELL_TEXT, .decimals = 255};
        again.text = ps_workbook_strndup(wb, "产出指标", strlen("产出指标"));
        assert_true(ps_sheet_put(sh, &again));
    }
    ps_workbook_finish(wb);
    return wb;
}

static ps_mapping *example_mapping(void)
{
    ps_mapping *m = NULL;
    ps_error err;
    ps_error_clear(&err);
    if (ps_mapping_load_file(EXAMPLE, &m, &err) != PS_OK)
        print_error("%s:%d:%d: %s\n", err.file, err.line, err.col, err.message);
    assert_non_null(m);
    return m;
}

static void expect_number(const ps_value *v, double want, uint32_t row, uint32_t col)
{
    assert_non_null(v);
    assert_true(v->has_number);
    assert_true(fabs(v->number - want) < 1e-9);
    assert_int_equal(v->row, row);
    assert_int_equal(v->col, col);
}

static void expect_text(const ps_value *v, const char *want)
{
    assert_non_null(v);
    assert_non_null(v->text);
    assert_string_equal(v->text, want);
}

static void test_example_extraction(void **state)
{
    ps_mapping *m = example_mapping();
    assert_string_equal(ps_mapping_id(m), "xmzp");
    assert_int_equal(ps_mapping_version(m), 1);
    assert_true(ps_ruleset_count(ps_mapping_rules(m)) > 0);
    /* the same values wherever the template sits: rows and columns inserted before it */
    static const uint32_t shifts[][2] = {{0, 0}, {1, 0}, {0, 1}, {3, 2}};
    for (size_t k = 0; k < 4; k++) {
        uint32_t r0 = shifts[k][0], c0 = shifts[k][1];
        print_message("shift %u,%u\n", r0, c0);
        ps_workbook *wb = example_sheet(r0, c0, false);
        ps_document *d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "x.xlsx");
        assert_non_null(d);
        assert_string_equal(ps_document_template(d), "xmzp");
        assert_string_equal(ps_document_mapping(d), EXAMPLE);
        assert_string_equal(ps_document_sheet(d), "项目表");
        /* capture empty -> fallback to the next non-blank cell */
        expect_text(ps_document_get(d, "unit_name"), "某县医疗保障局");
        assert_int_equal(ps_document_get(d, "unit_name")->col, 2 + c0);
        /* right_nonblank skips the U+3000 cell */
        expect_text(ps_document_get(d, "project"), "医保信息化建设");
        expect_number(ps_document_get(d, "funds.budget"), 100, 4 + r0, 1 + c0);
        const ps_value *ex = ps_document_get(d, "funds.executed");
        expect_number(ex, 98.5, 4 + r0, 2 + c0);
        assert_string_equal(ex->raw, "９８．５");
        expect_number(ps_document_get(d, "total.score"), 93, 9 + r0, 1 + c0);
        expect_number(ps_document_get(d, "indicator_count"), 3, PS_NO_CELL, PS_NO_CELL);
        /* the full-width figure is a silent (info) normalisation at its cell */
        const ps_findings *fs = ps_document_findings_const(d);
        assert_int_equal(ps_findings_count(fs), 1);
        const ps_finding *f = ps_findings_at(fs, 0);
        assert_string_equal(f->rule, "clean.number");
        assert_int_equal(f->severity, PS_SEV_INFO);
        char ref[16];
        assert_string_equal(f->cell, ps_cell_ref(4 + r0, 2 + c0, ref, sizeof ref));

        const ps_table *t = ps_document_table(d, "indicators");
        assert_non_null(t);
        assert_int_equal(ps_table_row_count(t), 3);
        expect_text(ps_table_get(t, 0, "level1"), "产出指标");
        expect_number(ps_table_get(t, 0, "level1_weight"), 60, 6 + r0, 0 + c0);
        expect_text(ps_table_get(t, 1, "level1"), "产出指标"); /* carried down */
        expect_number(ps_table_get(t, 1, "level1_weight"), 60, 6 + r0, 0 + c0);
        expect_text(ps_table_get(t, 2, "level1"), "效益指标");
        expect_text(ps_table_get(t, 0, "target"), "≥95%");
        assert_string_equal(ps_table_get(t, 0, "target")->comparator, "≥");
        assert_true(fabs(ps_table_get(t, 0, "target")->number - 0.95) < 1e-9);
        expect_text(ps_table_get(t, 1, "target"), "0.98");
        /* per row: every row has its own 分值/得分, blocks carry only the 一级 */
        expect_number(ps_table_get(t, 1, "weight"), 30, 7 + r0, 3 + c0);
        expect_number(ps_table_get(t, 2, "score"), 35, 8 + r0, 4 + c0);
        const ps_table *b = ps_document_table(d, "blocks");
        assert_int_equal(ps_table_row_count(b), 2);
        expect_text(ps_table_get(b, 1, "level1"), "效益指标");
        expect_number(ps_table_get(b, 1, "level1_weight"), 40, 8 + r0, 0 + c0);
        assert_null(ps_table_get(b, 0, "weight"));
        ps_document_free(d);
        ps_workbook_free(wb);
    }
    ps_mapping_free(m);
}

static void test_example_per_block(void **state)
{
    ps_mapping *m = example_mapping();
    ps_workbook *wb = example_sheet(2, 1, true);
    ps_document *d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "x.xlsx");
    const ps_table *t = ps_document_table(d, "indicators");
    assert_int_equal(ps_table_row_count(t), 3);
    /* merged per block: the rows carry no 分值/得分, the blocks do */
    for (size_t r = 0; r < 3; r++) {
        assert_null(ps_table_get(t, r, "weight"));
        assert_null(ps_table_get(t, r, "score"));
    }
    expect_text(ps_table_get(t, 1, "level1"), "产出指标");
    const ps_table *b = ps_document_table(d, "blocks");
    assert_int_equal(ps_table_row_count(b), 2);
    expect_number(ps_table_get(b, 0, "weight"), 60, 8, 4);
    expect_number(ps_table_get(b, 0, "score"), 58, 8, 5);
    expect_number(ps_table_get(b, 1, "weight"), 40, 10, 4);
    ps_document_free(d);
    ps_workbook_free(wb);
    ps_mapping_free(m);
}

/* A blank cell of a table row keeps its address ("<table>[<row>].<column>"), as a blank field
 * does: a finding about it points at it. */
static void test_blank_table_cell_located(void **state)
{
    (void)state;
    const char *text = "id: bt\ndetect: {title: 明细表}\nfields: [{key: a, at: A1}]\n"
                       "tables:\n  - name: t\n    header: 名称\n    row_key: name\n    columns:\n"
                       "      - {key: name, header: 名称}\n      - {key: total, type: money, header: 合计}\n";
    ps_mapping *m = NULL;
    ps_error err;
    assert_int_equal(ps_mapping_load_text("bt.yaml", text, strlen(text), &m, &err), PS_OK);
    ps_workbook *wb = ps_workbook_new(PS_FORMAT_XLSX);
    ps_sheet *sh = ps_workbook_add_sheet(wb, "S");
    const char *texts[][2] = {{"明细表", NULL}, {"名称", "合计"}, {"甲", NULL}, {"乙", NULL}};
    for (uint32_t r = 0; r < 4; r++)
        for (uint32_t c = 0; c < 2; c++) {
            ps_cell cell = {.row = r, .col = c, .decimals = 255};
            if (texts[r][c]) {
                cell.type = PS_CELL_TEXT;
                cell.text = ps_workbook_strndup(wb, texts[r][c], strlen(texts[r][c]));
            } else if (r == 2 && c == 1) {
                cell.type = PS_CELL_NUMBER;
                cell.number = 12;
            } else {
                continue;
            }
            assert_true(ps_sheet_put(sh, &cell));
        }
    ps_workbook_finish(wb);
    ps_document *d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "bt.xlsx");
    assert_non_null(d);
    const ps_table *t = ps_document_table(d, "t");
    assert_int_equal(ps_table_row_count(t), 2);
    assert_null(ps_table_get(t, 1, "total"));
    uint32_t row = 0, col = 0;
    assert_true(ps_document_blank_cell(d, "t[1].total", &row, &col));
    assert_int_equal(row, 3);
    assert_int_equal(col, 1);
    assert_false(ps_document_blank_cell(d, "t[0].total", &row, &col));
    ps_document_free(d);
    ps_workbook_free(wb);
    ps_mapping_free(m);
}

static void test_detection(void **state)
{
    ps_mapping_set *set = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_set_load("tests/data/mapping/userdir", &set, &err), PS_OK);
    ps_workbook *wb = example_sheet(1, 1, false);
    ps_detection *det = NULL;
    size_t n = 0;
    assert_int_equal(ps_mapping_detect(set, wb, &det, &n, &err), PS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ps_mapping_id(det[0].mapping), "xmzp");
    assert_true(det[0].complete);
    assert_true(det[0].score == 1.0);
    assert_string_equal(det[0].missing, "");
    free(det);
    ps_document **docs = NULL;
    assert_int_equal(ps_mapping_extract_workbook(set, wb, "x.xlsx", &docs, &n, &err), PS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ps_document_unit(docs[0]), "某县医疗保障局");
    ps_document_free(docs[0]);
    free(docs);
    ps_workbook_free(wb);

    /* an empty workbook matches nothing */
    wb = ps_workbook_new(PS_FORMAT_XLSX);
    ps_workbook_add_sheet(wb, "Sheet1");
    ps_workbook_finish(wb);
    assert_int_equal(ps_mapping_extract_workbook(set, wb, "e.xlsx", &docs, &n, &err), PS_ERR_NO_TEMPLATE);
    assert_string_equal(err.file, "e.xlsx");
    assert_non_null(strstr(err.message, "没有工作表与任何模板匹配"));
    ps_workbook_free(wb);
    ps_mapping_set_free(set);

    /* two mappings matching one sheet equally are a tie: no template, saying so */
    assert_int_equal(ps_mapping_set_load("tests/data/mapping/tie", &set, &err), PS_OK);
    wb = ps_workbook_new(PS_FORMAT_XLSX);
    ps_sheet *sh = ps_workbook_add_sheet(wb, "表");
    ps_cell c1 = {.row = 0, .col = 0, .type = PS_CELL_TEXT, .text = "同一张表"};
    ps_cell c2 = {.row = 1, .col = 0, .type = PS_CELL_TEXT, .text = "甲"};
    ps_sheet_put(sh, &c1);
    ps_sheet_put(sh, &c2);
    ps_workbook_finish(wb);
    assert_int_equal(ps_mapping_extract_workbook(set, wb, "t.xlsx", &docs, &n, &err), PS_ERR_NO_TEMPLATE);
    print_message("tie: %s\n", err.message);
    assert_non_null(strstr(err.message, "同时匹配 tie_a 和 tie_b"));
    ps_workbook_free(wb);
    ps_mapping_set_free(set);
}

static ps_workbook *text_sheet(const char *const *texts, size_t n)
{
    ps_workbook *wb = ps_workbook_new(PS_FORMAT_XLSX);
    ps_sheet *sh = ps_workbook_add_sheet(wb, "表");
    for (size_t i = 0; i < n; i++) {
        if (!texts[i])
            continue;
        ps_cell c = {.row = (uint32_t)(i / 4),
                     .col = (uint32_t)(i % 4),
                     .type = PS_CELL_TEXT,
                     .text = texts[i],
                     .decimals = 255};
        assert_true(ps_sheet_put(sh, &c));
    }
    ps_workbook_finish(wb);
    return wb;
}

/* Among complete matches the more specific mapping wins; a partial match never does. */
static void test_specific_mapping_wins(void **state)
{
    ps_mapping_set *set = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_set_load("tests/data/mapping/specific", &set, &err), PS_OK);
    static const char *const both[] = {"某表", "甲", "乙", NULL};
    static const char *const one[] = {"某表", "甲", NULL, NULL};
    static const struct {
        const char *const *texts;
        const char *want;
    } rows[] = {{both, "wide"}, {one, "narrow"}};
    for (size_t i = 0; i < 2; i++) {
        ps_workbook *wb = text_sheet(rows[i].texts, 4);
        ps_detection *det = NULL;
        size_t n = 0;
        assert_int_equal(ps_mapping_detect(set, wb, &det, &n, &err), PS_OK);
        print_message("row %zu: %s\n", i, ps_mapping_id(det[0].mapping));
        assert_true(det[0].complete);
        assert_string_equal(ps_mapping_id(det[0].mapping), rows[i].want);
        free(det);
        ps_workbook_free(wb);
    }
    ps_mapping_set_free(set);
}

/* A fallback that lands on the next label (填报时间：) is not taken as the value. */
static void test_fallback_stops_at_next_label(void **state)
{
    ps_mapping *m = example_mapping();
    static const char *const cells[] = {"项目支出绩效自评表", NULL, NULL,         NULL,
                                        "填报单位：",         NULL, "填报时间：", "2022-04-01"};
    ps_workbook *wb = text_sheet(cells, 8);
    ps_document *d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "x.xlsx");
    assert_non_null(d);
    assert_null(ps_document_get(d, "unit_name"));
    assert_int_equal(ps_document_value_count(d), 0); /* no table header: no indicator_count either */
    assert_null(ps_document_table(d, "indicators"));
    ps_document_free(d);
    ps_workbook_free(wb);
    ps_mapping_free(m);
}

/* A 指标值 typed as a bare figure with full-width digits or thousands separators is that figure,
 * as a number cell gives it, with an info note; other texts stay as typed. */
static void test_target_figures_typed_as_text(void **state)
{
    static const struct {
        const char *typed, *want;
        bool noted;
    } targets[] = {
        {"５７４１", "5741", true}, {"7,108", "7108", true}, {"　940812", "940812", false},
        {"95.0", "95.0", false},    {"≥95%", "≥95%", false}, {"100   100", "100   100", false},
    };
    ps_mapping *m = example_mapping();
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        print_message("row %zu: %s\n", i, targets[i].typed);
        ps_workbook *wb = example_sheet(0, 0, false);
        ps_sheet *sh = (ps_sheet *)ps_workbook_sheet(wb, 0);
        ps_cell *c = ps_sheet_cell_mut(sh, 6, 2);
        assert_non_null(c);
        c->type = PS_CELL_TEXT;
        c->text = ps_workbook_strndup(wb, targets[i].typed, strlen(targets[i].typed));
        ps_document *d = ps_mapping_extract_sheet(m, wb, sh, "x.xlsx");
        assert_non_null(d);
        const ps_value *v = ps_table_get(ps_document_table(d, "indicators"), 0, "target");
        expect_text(v, targets[i].want);
        size_t notes = 0;
        const ps_findings *fs = ps_document_findings_const(d);
        for (size_t k = 0; k < ps_findings_count(fs); k++)
            notes += !strcmp(ps_findings_at(fs, k)->cell, "C7");
        assert_int_equal(notes, targets[i].noted ? 1 : 0);
        ps_document_free(d);
        ps_workbook_free(wb);
    }
    ps_mapping_free(m);
}

/* ---- column headers scoped to their table ----------------------------------------- */

/* 公开06's layout: three groups side by side under one header row that repeats 科目编码 / 科目名称
 * / 决算数, and a total row whose label is merged over two columns. */
static ps_workbook *side_by_side_sheet(void)
{
    const cellspec cells[] = {
        {0, 0, "一般公共预算财政拨款基本支出决算表", 0},
        {1, 0, "人员经费", 0},
        {1, 3, "公用经费", 0},
        {2, 0, "科目编码", 0},
        {2, 1, "科目名称", 0},
        {2, 2, "决算数", 0},
        {2, 3, "科目编码", 0},
        {2, 4, "科目名称", 0},
        {2, 5, "决算数", 0},
        {2, 6, "科目编码", 0},
        {2, 7, "科目名称", 0},
        {2, 8, "决算数", 0},
        {3, 0, "30101", 0},
        {3, 1, "基本工资", 0},
        {3, 2, NULL, 156.25},
        {3, 3, "30201", 0},
        {3, 4, "办公费", 0},
        {3, 5, NULL, 61.85},
        {3, 6, "30701", 0},
        {3, 7, "国内债务付息", 0},
        {4, 0, "30102", 0},
        {4, 1, "津贴补贴", 0},
        {4, 2, NULL, 153.73},
        {4, 3, "30207", 0},
        {4, 4, "邮电费", 0},
        {4, 5, NULL, 65.58},
        {4, 6, "310", 0},
        {4, 7, "资本性支出", 0},
        {4, 8, NULL, 4.5},
        {5, 0, "人员经费合计", 0},
        {5, 2, NULL, 309.98},
        {5, 3, "公用经费合计", 0},
        {5, 8, NULL, 131.93},
    };
    ps_workbook *wb = ps_workbook_new(PS_FORMAT_XLSX);
    ps_sheet *sh = ps_workbook_add_sheet(wb, "公开06表");
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        ps_cell c = {.row = cells[i].row, .col = cells[i].col, .decimals = 255};
        if (cells[i].text) {
            c.type = PS_CELL_TEXT;
            c.text = ps_workbook_strndup(wb, cells[i].text, strlen(cells[i].text));
        } else {
            c.type = PS_CELL_NUMBER;
            c.number = cells[i].number;
        }
        assert_true(ps_sheet_put(sh, &c));
    }
    ps_sheet_add_merge(sh, (ps_range){5, 0, 5, 1});
    ps_sheet_add_merge(sh, (ps_range){5, 3, 5, 7});
    ps_workbook_finish(wb);
    return wb;
}

static const char side_by_side_yaml[] = "id: gk06\n"
                                        "detect: {title: 一般公共预算财政拨款基本支出决算表}\n"
                                        "fields:\n"
                                        "  - grid:\n"
                                        "      type: money\n"
                                        "      rows:\n"
                                        "        salary: {label: 基本工资}\n"
                                        "        office: {label: 办公费}\n"
                                        "        postage: {label: 邮电费}\n"
                                        "        personnel_total: {label: 人员经费合计}\n"
                                        "        public_total: {label: 公用经费合计}\n"
                                        "      columns:\n"
                                        "        final: {label: 决算数}\n"
                                        "tables:\n"
                                        "  - name: personnel\n"
                                        "    header: 科目编码\n"
                                        "    row_key: code\n"
                                        "    columns:\n"
                                        "      - {key: code, header: 科目编码}\n"
                                        "      - {key: name, header: 科目名称}\n"
                                        "      - {key: final, type: money, header: 决算数}\n"
                                        "  - name: public\n"
                                        "    header: {label: 科目编码, nth: 2}\n"
                                        "    row_key: code\n"
                                        "    columns:\n"
                                        "      - {key: code, header: 科目编码}\n"
                                        "      - {key: name, header: 科目名称}\n"
                                        "      - {key: final, type: money, header: 决算数}\n"
                                        "  - name: public_by_start\n"
                                        "    start: {label: 科目编码, nth: 2}\n"
                                        "    row_key: code\n"
                                        "    columns:\n"
                                        "      - {key: code, from: anchor}\n"
                                        "      - {key: name, header: 科目名称}\n"
                                        "      - {key: final, type: money, header: 决算数}\n";

/* Each row and table reads the 决算数 of its own group, never the first one of the sheet. */
static void test_headers_scoped_to_their_group(void **state)
{
    ps_mapping *m = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(
        ps_mapping_load_text("gk06.yaml", side_by_side_yaml, strlen(side_by_side_yaml), &m, &err), PS_OK);
    ps_workbook *wb = side_by_side_sheet();
    ps_document *d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "gk06.xlsx");
    assert_non_null(d);
    expect_number(ps_document_get(d, "salary.final"), 156.25, 3, 2);
    expect_number(ps_document_get(d, "office.final"), 61.85, 3, 5);
    expect_number(ps_document_get(d, "postage.final"), 65.58, 4, 5);
    expect_number(ps_document_get(d, "personnel_total.final"), 309.98, 5, 2);
    expect_number(ps_document_get(d, "public_total.final"), 131.93, 5, 8); /* label merged D:H */

    /* header tables: the second group's columns lie between its 科目编码 and the third's */
    const ps_table *per = ps_document_table(d, "personnel"), *pub = ps_document_table(d, "public");
    assert_non_null(per);
    assert_non_null(pub);
    assert_int_equal(ps_table_row_count(per), 3);
    assert_int_equal(ps_table_row_count(pub), 3);
    expect_text(ps_table_get(per, 1, "name"), "津贴补贴");
    expect_number(ps_table_get(per, 1, "final"), 153.73, 4, 2);
    expect_text(ps_table_get(pub, 0, "code"), "30201");
    expect_number(ps_table_get(pub, 0, "final"), 61.85, 3, 5);
    expect_text(ps_table_get(pub, 1, "name"), "邮电费");
    expect_number(ps_table_get(pub, 1, "final"), 65.58, 4, 5);
    assert_null(ps_table_get(pub, 2, "final")); /* 公用经费合计's figure sits in the third group */
    expect_number(ps_table_get(per, 2, "final"), 309.98, 5, 2);

    /* a start table: the headers on the anchor's row, inside its group */
    const ps_table *st = ps_document_table(d, "public_by_start");
    assert_non_null(st);
    assert_int_equal(ps_table_row_count(st), 3);
    expect_text(ps_table_get(st, 1, "name"), "邮电费");
    expect_number(ps_table_get(st, 1, "final"), 65.58, 4, 5);
    ps_document_free(d);
    ps_workbook_free(wb);
    ps_mapping_free(m);
}

/* ---- the label index ---------------------------------------------------------------- */

/* ps_map_find by its definition: every cell of the window in order, tested with ps_map_match. */
static size_t find_by_scan(const map_sheet *ms, const map_matcher *m, uint32_t min_row, uint32_t row_only)
{
    unsigned seen = 0;
    for (size_t i = 0; i < ms->n; i++) {
        const ps_cell *c = ms->cells[i];
        if (c->row < min_row || (row_only != UINT32_MAX && c->row != row_only))
            continue;
        if (ps_map_match(m, ms->labels[i], NULL, 0) && ++seen == m->nth)
            return i;
    }
    return SIZE_MAX;
}

/* ps_map_find (exact labels from the hash index, the others from memmem, regexes on labels
 * checked for UTF-8 once) finds what a scan of every cell finds, and ps_map_match_cell answers
 * as ps_map_match does, captures included. */
static void test_label_index(void **state)
{
    ps_workbook *wb = ps_workbook_new(PS_FORMAT_XLSX);
    ps_sheet *sh = ps_workbook_add_sheet(wb, "表");
    static const char *const texts[] = {
        "年度资金总额",
        "年度资金总额 ",
        "年度资金总额：",
        "其中：一般公共预算",
        "一般公共预算",
        "填报单位（盖章）：某局",
        "填报单位:",
        "分值",
        "得分",
        " ",
        "\xe5\xb9\xb4\xed\xa0\x80一般公共预算", /* not UTF-8 (a surrogate), holds the needle */
        "\xef\xbc\x88盖章\xef\xbc\x89",
        "总分",
        "总分合计",
        "年度",
        "(2022年度)",
    };
    char buf[64];
    uint32_t row = 0;
    for (int k = 0; k < 300; k++) { /* enough labels for the index to probe past collisions */
        const char *t = texts[k % (int)(sizeof texts / sizeof texts[0])];
        if (k % 7 == 3) {
            snprintf(buf, sizeof buf, "标签%d", k);
            t = buf;
        }
        ps_cell c = {.row = row, .col = (uint32_t)(k % 5), .type = PS_CELL_TEXT, .decimals = 255};
        c.text = ps_workbook_strndup(wb, t, strlen(t));
        assert_true(ps_sheet_put(sh, &c));
        if (k % 5 == 4)
            row += 1 + (uint32_t)(k % 3);
    }
    ps_cell num = {.row = 1, .col = 6, .type = PS_CELL_NUMBER, .number = 1, .decimals = 255};
    assert_true(ps_sheet_put(sh, &num));
    ps_workbook_finish(wb);
    map_sheet ms;
    assert_true(ps_map_sheet_init(&ms, ps_workbook_sheet(wb, 0)));

    static const struct {
        match_kind kind;
        const char *text, *must;
    } matchers[] = {
        {MATCH_EXACT, "年度资金总额", ""},
        {MATCH_EXACT, "年度资金总额:", ""},
        {MATCH_EXACT, "一般公共预算", ""},
        {MATCH_EXACT, "标签101", ""},
        {MATCH_EXACT, "没有的标签", ""},
        {MATCH_EXACT, "", ""},
        {MATCH_EXACT, "(盖章)", ""},
        {MATCH_PREFIX, "年度", ""},
        {MATCH_PREFIX, "填报单位", ""},
        {MATCH_CONTAINS, "一般公共预算", ""},
        {MATCH_CONTAINS, "总分", ""},
        {MATCH_REGEX, "^(其中:)?一般公共预算$", "一般公共预算"},
        {MATCH_REGEX, "一般公共预算$", "一般公共预算"},
        {MATCH_REGEX, "^填报单位(\\(盖章\\))?:(.*)$", "填报单位"},
        {MATCH_REGEX, "^\\(([0-9]+)年度?\\)$", ""},
    };
    static const uint32_t min_rows[] = {0, 1, 7, 90};
    static const uint32_t row_onlys[] = {UINT32_MAX, 0, 2, 7, 400};
    for (size_t k = 0; k < sizeof matchers / sizeof matchers[0]; k++) {
        map_matcher m = {.set = true, .kind = matchers[k].kind, .text = matchers[k].text};
        snprintf(m.must, sizeof m.must, "%s", matchers[k].must);
        if (m.kind == MATCH_REGEX) {
            int code;
            PCRE2_SIZE where;
            m.re = pcre2_compile((PCRE2_SPTR)m.text, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &where, NULL);
            assert_non_null(m.re);
            m.compiled = true;
        }
        size_t found = 0;
        for (m.nth = 1; m.nth <= 4; m.nth++)
            for (size_t a = 0; a < sizeof min_rows / sizeof min_rows[0]; a++)
                for (size_t b = 0; b < sizeof row_onlys / sizeof row_onlys[0]; b++) {
                    size_t want = find_by_scan(&ms, &m, min_rows[a], row_onlys[b]);
                    size_t got = ps_map_find(&ms, &m, min_rows[a], row_onlys[b]);
                    if (got != want)
                        print_message("matcher %zu '%s' nth %u min_row %u row_only %u: %zu, want %zu\n", k,
                                      m.text, m.nth, min_rows[a], row_onlys[b], got, want);
                    assert_int_equal(got, want);
                    found += want != SIZE_MAX;
                }
        print_message("matcher %zu '%s': found in %zu of 80 searches\n", k, m.text, found);
        for (size_t i = 0; i < ms.n; i++) {
            regmatch_t want[10], got[10];
            memset(want, 0x55, sizeof want);
            memset(got, 0x55, sizeof got);
            bool w = ps_map_match(&m, ms.labels[i], want, 10);
            assert_int_equal(ps_map_match_cell(&ms, i, &m, got, 10), w);
            if (w)
                assert_memory_equal(got, want, sizeof want);
        }
        pcre2_code_free(m.re);
    }
    /* the index itself: one chain per distinct label, in cell order, each label once */
    size_t chained = 0;
    for (size_t s = 0; s < ms.nslots; s++)
        for (uint32_t t1 = ms.slots[s], prev = 0; t1; prev = t1, t1 = ms.same_next[t1 - 1]) {
            assert_true(t1 > prev);
            assert_string_equal(ms.joined + ms.text_off[t1 - 1], ms.joined + ms.text_off[ms.slots[s] - 1]);
            chained++;
        }
    assert_int_equal(chained, ms.ntext);
    ps_map_sheet_release(&ms);
    ps_workbook_free(wb);
}

/* docs/mapping.md shows the example file verbatim, so the documented mapping is the tested one. */
/* Constants, defaults and a cell split by a regex: the example of docs/mapping.md. */
static const char given_example[] =
    "id: given\n"
    "fields:\n"
    "  - {key: year, type: year, value: 2021}\n"
    "  - {key: unit_name, find: 单位名称, default: 未填写}\n"
    "  - {key: contact, find: 联系人, default: 无}\n"
    "  - {key: budget, type: money, find: 预算数, default: 0}\n"
    "  - {key: weight, type: number, find: 分值/得分,\n"
    "     split: {regex: \"^\\\\s*([0-9.]+)\\\\s+([0-9.]+)\\\\s*$\", part: 1}}\n"
    "  - {key: score, type: number, find: 分值/得分,\n"
    "     split: {regex: \"^\\\\s*([0-9.]+)\\\\s+([0-9.]+)\\\\s*$\", part: 2}}\n";

static size_t findings_of(const ps_document *d, const char *rule, const char *cell)
{
    size_t n = 0;
    const ps_findings *fs = ps_document_findings_const(d);
    for (size_t k = 0; k < ps_findings_count(fs); k++) {
        const ps_finding *f = ps_findings_at(fs, k);
        n += !strcmp(f->rule, rule) && (cell ? f->cell && !strcmp(f->cell, cell) : !f->cell);
    }
    return n;
}

static void test_constants_defaults_split(void **state)
{
    ps_mapping *m = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_load_text("given.yaml", given_example, strlen(given_example), &m, &err),
                     PS_OK);
    static const char *const cells[] = {"单位名称",  NULL,       "预算数", NULL,
                                        "分值/得分", "100   95", NULL,     NULL};
    ps_workbook *wb = text_sheet(cells, 8);
    ps_document *d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "x.xlsx");
    assert_non_null(d);
    /* the constant: typed as a year, no source cell */
    expect_number(ps_document_get(d, "year"), 2021, PS_NO_CELL, PS_NO_CELL);
    /* defaults: the cell blank (said at that cell) or the label absent (said without a cell) */
    const ps_value *v = ps_document_get(d, "unit_name");
    expect_text(v, "未填写");
    assert_int_equal(v->row, PS_NO_CELL);
    assert_null(v->raw);
    assert_int_equal(findings_of(d, "mapping.default", "B1"), 1);
    expect_text(ps_document_get(d, "contact"), "无");
    assert_int_equal(findings_of(d, "mapping.default", NULL), 1);
    expect_number(ps_document_get(d, "budget"), 0, PS_NO_CELL, PS_NO_CELL);
    assert_int_equal(findings_of(d, "mapping.default", "D1"), 1);
    /* one cell, two numbers: each part, the cell kept as typed */
    v = ps_document_get(d, "weight");
    expect_number(v, 100, 1, 1);
    assert_string_equal(v->raw, "100   95");
    expect_number(ps_document_get(d, "score"), 95, 1, 1);
    assert_int_equal(findings_of(d, "mapping.split", "B2"), 0);
    ps_document_free(d);
    ps_workbook_free(wb);
    /* a cell that does not split is read as typed, and said */
    static const char *const one[] = {"单位名称", "甲", "预算数", "5", "分值/得分", "100", NULL, NULL};
    wb = text_sheet(one, 8);
    d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "x.xlsx");
    assert_non_null(d);
    expect_number(ps_document_get(d, "weight"), 100, 1, 1);
    assert_int_equal(findings_of(d, "mapping.split", "B2"), 2);
    assert_int_equal(findings_of(d, "mapping.default", "B1") + findings_of(d, "mapping.default", "D1"), 0);
    expect_text(ps_document_get(d, "unit_name"), "甲");
    ps_document_free(d);
    ps_workbook_free(wb);
    ps_mapping_free(m);
}

/* The year no cell holds: from the file name, then --year, then the default; each said. */
static const char year_example[] =
    "id: years\n"
    "fields:\n"
    "  - {key: year, type: year, find: 年度, from_filename: \"(20[0-9]{2})\"}\n"
    "  - {key: plan_year, type: year, from_filename: \"计划(20[0-9]{2})\", default: 2020}\n";

static void test_year_without_cell(void **state)
{
    ps_mapping *m = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_load_text("years.yaml", year_example, strlen(year_example), &m, &err), PS_OK);
    static const char *const cells[] = {"年度", "2019", NULL, NULL};
    static const char *const blank[] = {"年度", NULL, NULL, NULL};
    ps_workbook *wb = text_sheet(cells, 4), *wb_blank = text_sheet(blank, 4);
    /* a cell that holds the year wins over the file name */
    ps_document *d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "dir/2022/甲单位2021.xlsx");
    assert_non_null(d);
    expect_number(ps_document_get(d, "year"), 2019, 0, 1);
    /* no 计划YYYY in the name: the default, said without a cell */
    expect_number(ps_document_get(d, "plan_year"), 2020, PS_NO_CELL, PS_NO_CELL);
    assert_int_equal(findings_of(d, "mapping.default", NULL), 1);
    ps_document_free(d);
    /* the cell blank: the base name's year (not the directory's), said at the cell */
    d = ps_mapping_extract_sheet(m, wb_blank, ps_workbook_sheet(wb_blank, 0), "dir/2022/甲单位计划2021.xlsx");
    assert_non_null(d);
    expect_number(ps_document_get(d, "year"), 2021, PS_NO_CELL, PS_NO_CELL);
    assert_int_equal(findings_of(d, "mapping.from_filename", "B1"), 1);
    expect_number(ps_document_get(d, "plan_year"), 2021, PS_NO_CELL, PS_NO_CELL);
    ps_document_free(d);
    /* no year in the name: --year (ps_mapping_set_year passes it here), before the default */
    map_sheet ms;
    assert_true(ps_map_sheet_init(&ms, ps_workbook_sheet(wb_blank, 0)));
    d = ps_map_extract_indexed(m, &ms, "甲单位.xlsx", 2023);
    assert_non_null(d);
    expect_number(ps_document_get(d, "year"), 2023, PS_NO_CELL, PS_NO_CELL);
    expect_number(ps_document_get(d, "plan_year"), 2023, PS_NO_CELL, PS_NO_CELL);
    assert_int_equal(findings_of(d, "mapping.year_option", "B1"), 1);
    assert_int_equal(findings_of(d, "mapping.year_option", NULL), 1);
    ps_document_free(d);
    /* without --year: the year field stays blank (its cell kept), plan_year takes its default */
    d = ps_map_extract_indexed(m, &ms, "甲单位.xlsx", 0);
    assert_null(ps_document_get(d, "year"));
    expect_number(ps_document_get(d, "plan_year"), 2020, PS_NO_CELL, PS_NO_CELL);
    ps_document_free(d);
    ps_map_sheet_release(&ms);
    ps_workbook_free(wb);
    ps_workbook_free(wb_blank);
    ps_mapping_free(m);
}

/* Labels as extracted text gives them: a line break inside, doubled by a page break. */
static void test_labels_broken_or_doubled(void **state)
{
    static const char text[] = "id: labels\nfields:\n  - {key: unit_name, find: 单位名称}\n"
                               "  - {key: output, find: 产出指标}\n";
    ps_mapping *m = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_load_text("labels.yaml", text, strlen(text), &m, &err), PS_OK);
    static const char *const cells[] = {"单位\n名称", "甲", NULL, NULL, "产出指标产出指标", "30", NULL, NULL};
    ps_workbook *wb = text_sheet(cells, 8);
    ps_document *d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "x.xlsx");
    assert_non_null(d);
    expect_text(ps_document_get(d, "unit_name"), "甲");
    expect_text(ps_document_get(d, "output"), "30");
    char buf[64];
    ps_clean_label("数量数量", buf, sizeof buf); /* halves of two characters: collapsed */
    assert_string_equal(buf, "数量");
    ps_clean_label("数数", buf, sizeof buf); /* one character doubled is a word, kept */
    assert_string_equal(buf, "数数");
    ps_document_free(d);
    ps_workbook_free(wb);
    ps_mapping_free(m);
}

/* aliases:, blocks sums: and count: {key, label} (issue 12, the Gansu 自评表s): a typo read as its
 * label with what was typed kept and said, each block's rows added up, the count labelled. */
static void test_aliases_sums_count(void **state)
{
    static const char text[] =
        "id: t\n"
        "aliases: {参保率: 基本医疗保险参保率, 平 衡: 收支平衡}\n"
        "fields:\n"
        "  - {key: total.score, type: number, find: 总分, take: right}\n"
        "tables:\n"
        "  - name: indicators\n"
        "    header: 三级指标\n"
        "    end: {prefix: 总分}\n"
        "    row_key: name\n"
        "    count: {key: indicator_count, label: 三级指标个数}\n"
        "    columns:\n"
        "      - {key: level1, header: 一级指标, fill_down: true, weight_key: level1_weight}\n"
        "      - {key: name, header: 三级指标}\n"
        "      - {key: target, type: target, header: 指标值}\n"
        "      - {key: weight, type: number, header: 分值}\n"
        "      - {key: score, type: number, header: 得分}\n"
        "    blocks: {table: blocks, by: level1, keep: [level1_weight], values: [weight, score],\n"
        "             sums: {weight: row_weight_sum, score: row_score_sum}}\n";
    ps_mapping *m = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_mapping_load_text("t.yaml", text, strlen(text), &m, &err), PS_OK);
    bool labelled = false, summed = false;
    for (size_t i = 0; ps_mapping_field(m, i); i++) {
        const ps_field_spec *f = ps_mapping_field(m, i);
        if (!strcmp(f->key, "indicator_count"))
            labelled = !strcmp(f->label, "三级指标个数") && f->type == PS_TYPE_INT && !f->table;
        if (!strcmp(f->key, "row_weight_sum"))
            summed = f->table && !strcmp(f->table, "blocks") && f->type == PS_TYPE_NUMBER;
    }
    assert_true(labelled && summed);

    ps_workbook *wb = example_sheet(0, 0, false);
    ps_document *d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "x.xlsx");
    assert_non_null(d);
    const ps_table *t = ps_document_table(d, "indicators");
    const ps_value *v = ps_table_get(t, 0, "name");
    expect_text(v, "基本医疗保险参保率"); /* B7 参保率 */
    assert_string_equal(v->raw, "参保率");
    v = ps_table_get(t, 2, "target"); /* D9 平衡: targets are no labels, no alias */
    expect_text(v, "平衡");
    const ps_findings *fs = ps_document_findings_const(d);
    size_t said = 0;
    for (size_t i = 0; i < ps_findings_count(fs); i++) {
        const ps_finding *f = ps_findings_at(fs, i);
        if (strcmp(f->rule, "clean.alias"))
            continue;
        said++;
        assert_int_equal(f->severity, PS_SEV_INFO);
        assert_string_equal(f->cell, "B7");
        assert_string_equal(f->message, "“参保率”按“基本医疗保险参保率”读取");
    }
    assert_int_equal(said, 1);
    /* per block: 产出 (60分) rows 30+30 and 28+30, 效益 (40分) 40 and 35; the block row keeps
     * its label cell (A7) for the findings about it */
    const ps_table *b = ps_document_table(d, "blocks");
    assert_int_equal(ps_table_row_count(b), 2);
    expect_number(ps_table_get(b, 0, "row_weight_sum"), 60, PS_NO_CELL, PS_NO_CELL);
    expect_number(ps_table_get(b, 0, "row_score_sum"), 58, PS_NO_CELL, PS_NO_CELL);
    expect_number(ps_table_get(b, 1, "row_weight_sum"), 40, PS_NO_CELL, PS_NO_CELL);
    expect_number(ps_table_get(b, 1, "row_score_sum"), 35, PS_NO_CELL, PS_NO_CELL);
    expect_number(ps_table_get(b, 0, "level1_weight"), 60, 6, 0);
    v = ps_table_get(b, 0, "level1");
    expect_text(v, "产出指标");
    assert_int_equal(v->row, 6);
    assert_int_equal(v->col, 0);
    expect_number(ps_document_get(d, "indicator_count"), 3, PS_NO_CELL, PS_NO_CELL);
    ps_document_free(d);
    ps_workbook_free(wb);

    /* 产出指标 repeated in A8 where a page break cut its block: still one block */
    example_label_again = true;
    wb = example_sheet(0, 0, false);
    example_label_again = false;
    d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "x.xlsx");
    b = ps_document_table(d, "blocks");
    assert_int_equal(ps_table_row_count(b), 2);
    expect_number(ps_table_get(b, 0, "row_weight_sum"), 60, PS_NO_CELL, PS_NO_CELL);
    expect_number(ps_table_get(b, 0, "level1_weight"), 60, 6, 0);
    ps_document_free(d);
    ps_workbook_free(wb);

    /* per block (分值/得分 merged down the block): the rows carry no figure, no sum */
    wb = example_sheet(0, 0, true);
    d = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, 0), "x.xlsx");
    b = ps_document_table(d, "blocks");
    assert_null(ps_table_get(b, 0, "row_weight_sum"));
    expect_number(ps_table_get(b, 0, "weight"), 60, 6, 3);
    ps_document_free(d);
    ps_workbook_free(wb);
    ps_mapping_free(m);

    /* the slips: located */
    static const struct {
        const char *yaml, *where, *what;
    } bad[] = {
        {"id: t\naliases: {ab: b, ａb: c}\nfields:\n  - {key: x, at: A1}\n", "2:18", "重复"},
        {"id: t\naliases: [a]\nfields:\n  - {key: x, at: A1}\n", "2:11", "aliases 应为"},
        {"id: t\naliases: {甲: 甲}\nfields:\n  - {key: x, at: A1}\n", "2:11", "相同"},
        {"id: t\ntables:\n  - name: i\n    header: h\n    row_key: n\n    count: {key: c, labl: C}\n"
         "    columns: [{key: n, header: h}]\n",
         "6:21", "count 中未知的键“labl”"},
        {"id: t\ntables:\n  - name: i\n    header: h\n    row_key: n\n    columns: [{key: n, header: h}, "
         "{key: w, header: w}]\n    blocks: {table: b, by: n, sums: {wieght: ws}}\n",
         "7:38", "sums 的列“wieght”不是本表的列"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = NULL;
        ps_error_clear(&err);
        assert_int_equal(ps_mapping_load_text("t.yaml", bad[i].yaml, strlen(bad[i].yaml), &m, &err),
                         PS_ERR_MAPPING);
        char where[32];
        snprintf(where, sizeof where, "%d:%d", err.line, err.col);
        print_message("slip %zu: %s %s\n", i, where, err.message);
        assert_string_equal(where, bad[i].where);
        assert_non_null(strstr(err.message, bad[i].what));
    }
}

static void test_docs_show_the_tested_example(void **state)
{
    FILE *f = fopen("docs/mapping.md", "rb");
    assert_non_null(f);
    static char docs[256 * 1024];
    size_t n = fread(docs, 1, sizeof docs - 1, f);
    fclose(f);
    docs[n] = '\0';
    f = fopen(EXAMPLE, "rb");
    assert_non_null(f);
    static char example[16 * 1024];
    n = fread(example, 1, sizeof example - 1, f);
    fclose(f);
    example[n] = '\0';
    assert_non_null(strstr(docs, example));
    assert_non_null(strstr(docs, given_example));
    assert_non_null(strstr(docs, year_example));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_errors_are_located),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_names_resolved),
        cmocka_unit_test(test_cross_names_resolved),
        cmocka_unit_test(test_builtin_set),
        cmocka_unit_test(test_user_dir),
        cmocka_unit_test(test_example_extraction),
        cmocka_unit_test(test_example_per_block),
        cmocka_unit_test(test_blank_table_cell_located),
        cmocka_unit_test(test_detection),
        cmocka_unit_test(test_specific_mapping_wins),
        cmocka_unit_test(test_fallback_stops_at_next_label),
        cmocka_unit_test(test_target_figures_typed_as_text),
        cmocka_unit_test(test_headers_scoped_to_their_group),
        cmocka_unit_test(test_label_index),
        cmocka_unit_test(test_constants_defaults_split),
        cmocka_unit_test(test_year_without_cell),
        cmocka_unit_test(test_labels_broken_or_doubled),
        cmocka_unit_test(test_aliases_sums_count),
        cmocka_unit_test(test_docs_show_the_tested_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
