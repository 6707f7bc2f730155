/* test_rules_hierarchy.c - the rule forms of code tables on the real 决算 of samples/juesuan
 * (安化县医疗保障局 2021), through the whole pipeline (reader, mapping, checker) with the test
 * mapping tests/data/mapping/juesuan03 (公开03表 支出决算表: a hierarchy: rule over six money
 * columns and a row identity with defaults: band 0.01, blank: zero):
 * - as submitted: exactly the four 尾数误差 of expected.json for 公开03表 (C7, D7, C25, D25), as
 *   warnings with their figures, relation and cells, and no error;
 * - one 款 figure changed by +10: errors in its chain of sums - that 款 (its 项 sum and its row
 *   identity) and its 类 - and nowhere else (合计 = Σ 类 reads the 类 figures, unchanged);
 * - changed by +0.01: warnings only;
 * - in a multi-sheet template (tests/data/mapping/juesuan-parts: 公开03表 and 公开05表 as parts),
 *   each part's differences on its own sheet. */
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

#include "perfsheet/check.h"
#include "perfsheet/mapping.h"
#include "perfsheet/reader.h"

#define ANHUA "samples/juesuan/anhua-2021-juesuan.xls"
#define EXPECTED "samples/juesuan/expected.json"
#define MAPPING_DIR "tests/data/mapping/juesuan03"

static ps_mapping_set *set;
static ps_checker *checker;

static int setup(void **state)
{
    (void)state;
    ps_error err;
    ps_error_clear(&err);
    if (ps_mapping_set_load(MAPPING_DIR, &set, &err) != PS_OK) {
        print_error("ps_mapping_set_load: %s:%d:%d: %s\n", err.file, err.line, err.col, err.message);
        return -1;
    }
    if (ps_checker_new(set, &checker, &err) != PS_OK) {
        print_error("ps_checker_new: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ps_checker_free(checker);
    ps_mapping_set_free(set);
    return 0;
}

/* The documents of the Anhua file; *doc is its 公开03表 (template juesuan03), not yet checked. */
typedef struct opened {
    ps_document **docs;
    size_t n;
    ps_document *doc;
} opened;

static void open_anhua(opened *o)
{
    ps_workbook *wb = NULL;
    ps_error err;
    ps_error_clear(&err);
    ps_limits lim = ps_reader_default_limits();
    if (ps_reader_open(ANHUA, &lim, &wb, &err) != PS_OK)
        print_error("%s: %s\n", ANHUA, err.message);
    assert_non_null(wb);
    if (ps_mapping_extract_workbook(set, wb, ANHUA, &o->docs, &o->n, &err) != PS_OK)
        print_error("%s: %s\n", ANHUA, err.message);
    o->doc = NULL;
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(ps_document_template(o->docs[i]), "juesuan03"))
            o->doc = o->docs[i];
    assert_non_null(o->doc);
    assert_string_equal(ps_document_sheet(o->doc), "公开03表");
    ps_workbook_free(wb);
}

static void close_anhua(opened *o)
{
    for (size_t i = 0; i < o->n; i++)
        ps_document_free(o->docs[i]);
    free(o->docs);
}

static void check(ps_document *doc)
{
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_checker_check_document(checker, doc, &err), PS_OK);
}

/* Adds delta to column col of the g03 row of code (the value keeps its cell). */
static void change(ps_document *doc, const char *code, const char *col, double delta)
{
    ps_table *t = (ps_table *)ps_document_table(doc, "g03");
    assert_non_null(t);
    for (size_t i = 0; i < ps_table_row_count(t); i++) {
        const ps_value *c = ps_table_get(t, i, "code");
        if (c && c->text && !strcmp(c->text, code)) {
            const ps_value *v = ps_table_get(t, i, col);
            assert_non_null(v);
            assert_true(v->has_number);
            ps_value nv = *v;
            nv.number += delta;
            assert_true(ps_table_set(t, i, col, &nv));
            return;
        }
    }
    fail_msg("no row %s in g03", code);
}

/* The findings of the juesuan03 rules as "severity rule cell", sorted, joined by "; ". */
static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void rule_findings(const ps_document *doc, char *out, size_t size)
{
    const ps_findings *fs = ps_document_findings_const(doc);
    char *items[64];
    size_t n = 0;
    for (size_t i = 0; i < ps_findings_count(fs); i++) {
        const ps_finding *f = ps_findings_at(fs, i);
        if (strncmp(f->rule, "juesuan03.", 10) != 0)
            continue;
        assert_true(n < 64);
        items[n] = malloc(128);
        snprintf(items[n], 128, "%s %s %s", ps_severity_name(f->severity), f->rule, f->cell ? f->cell : "-");
        n++;
    }
    qsort(items, n, sizeof items[0], by_text);
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s%s", i ? "; " : "", items[i]);
        free(items[i]);
    }
}

static const ps_finding *finding_at(const ps_document *doc, const char *rule, const char *cell)
{
    const ps_findings *fs = ps_document_findings_const(doc);
    for (size_t i = 0; i < ps_findings_count(fs); i++) {
        const ps_finding *f = ps_findings_at(fs, i);
        if (!strcmp(f->rule, rule) && f->cell && !strcmp(f->cell, cell))
            return f;
    }
    fail_msg("no %s at %s", rule, cell);
    return NULL;
}

/* ---- as submitted: expected.json's rounding differences of 公开03表 ---- */

static const char *str(struct fy_node *obj, const char *key)
{
    struct fy_node *v = fy_node_mapping_lookup_by_string(obj, key, FY_NT);
    return v && fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;
}

static void test_sample_rounding(void **state)
{
    (void)state;
    opened o;
    open_anhua(&o);
    check(o.doc);
    assert_int_equal(ps_findings_count_severity(ps_document_findings_const(o.doc), PS_SEV_ERROR), 0);

    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_JSON_FORCE};
    struct fy_document *json = fy_document_build_from_file(&cfg, EXPECTED);
    assert_non_null(json);
    struct fy_node *rd = fy_node_by_path(
        fy_document_root(json), "/anhua-2021-juesuan.xls/rounding_differences", FY_NT, FYNWF_DONT_FOLLOW);
    assert_non_null(rd);
    size_t want = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(rd, &it))) {
        if (strcmp(str(item, "sheet"), "公开03表") != 0)
            continue;
        want++;
        const char *cell = str(item, "cell");
        const ps_finding *f = finding_at(o.doc, "juesuan03.tree", cell);
        assert_int_equal(f->severity, PS_SEV_WARNING);
        assert_non_null(strstr(f->message, "尾数误差"));
        assert_non_null(strstr(f->message, str(item, "relation")));
        char diff[32];
        snprintf(diff, sizeof diff, "尾数误差 %.2f）", atof(str(item, "difference")));
        assert_non_null(strstr(f->message, diff));
        assert_int_equal(f->expected.kind, PS_SCALAR_NUMBER);
        assert_int_equal(f->actual.kind, PS_SCALAR_NUMBER);
        assert_true(f->expected.number == atof(str(item, "sum_of_parts"))); /* rounded: no 6866.929999 */
        assert_true(f->actual.number == atof(str(item, "declared")));
        /* cells: the parent, then its children */
        struct fy_node *parts = fy_node_mapping_lookup_by_string(item, "parts", FY_NT);
        assert_int_equal(f->ncells, 1 + (size_t)fy_node_sequence_item_count(parts));
        assert_string_equal(f->cells[0], cell);
        void *pit = NULL;
        struct fy_node *part;
        size_t k = 1;
        while ((part = fy_node_sequence_iterate(parts, &pit)))
            assert_string_equal(f->cells[k++], fy_node_get_scalar0(part));
    }
    fy_document_destroy(json);
    assert_int_equal(want, 4);
    char got[2048];
    rule_findings(o.doc, got, sizeof got);
    assert_string_equal(got,
                        "warning juesuan03.tree C25; warning juesuan03.tree C7; warning juesuan03.tree D25; "
                        "warning juesuan03.tree D7");
    close_anhua(&o);
}

/* ---- one 款 changed ---- */

static void test_kuan_plus_10(void **state)
{
    (void)state;
    opened o;
    open_anhua(&o);
    change(o.doc, "21013", "total", 10); /* C22 医疗救助: 4512.94 -> 4522.94 */
    check(o.doc);
    char got[2048];
    rule_findings(o.doc, got, sizeof got);
    /* errors in its chain of sums: the 款 (21013 = Σ 项, and its row identity) and its 类
     * (210 = Σ 款, C19); 合计 = Σ 类 reads the 类 figures, unchanged: its 尾数误差 and the others
     * stay as they were */
    assert_string_equal(got,
                        "error juesuan03.identity C22; error juesuan03.tree C19; error juesuan03.tree C22; "
                        "warning juesuan03.tree C25; warning juesuan03.tree C7; warning juesuan03.tree D25; "
                        "warning juesuan03.tree D7");
    const ps_finding *f = finding_at(o.doc, "juesuan03.tree", "C22");
    assert_true(f->expected.number == 4512.94);
    assert_true(f->actual.number == 4522.94);
    assert_non_null(strstr(f->message, "21013 = Σ 项"));
    assert_int_equal(f->ncells, 3);
    assert_string_equal(f->cells[1], "C23");
    assert_string_equal(f->cells[2], "C24");
    f = finding_at(o.doc, "juesuan03.tree", "C19");
    assert_non_null(strstr(f->message, "210 = Σ 款"));
    assert_true(f->expected.number == 5208.28); /* 16.72 + 4522.94 + 668.62 */
    assert_true(f->actual.number == 5198.28);
    assert_null(strstr(f->message, "尾数误差"));
    assert_int_equal(f->ncells, 4); /* C19, then its 款 C20 C22 C25 */
    assert_string_equal(f->cells[3], "C25");
    close_anhua(&o);
}

static void test_kuan_plus_cent(void **state)
{
    (void)state;
    opened o;
    open_anhua(&o);
    change(o.doc, "21013", "total", 0.01);
    check(o.doc);
    assert_int_equal(ps_findings_count_severity(ps_document_findings_const(o.doc), PS_SEV_ERROR), 0);
    char got[2048];
    rule_findings(o.doc, got, sizeof got);
    /* 21013 and 210 are off by 0.01 now, and so is the row */
    assert_string_equal(got,
                        "warning juesuan03.identity C22; warning juesuan03.tree C19; "
                        "warning juesuan03.tree C22; warning juesuan03.tree C25; warning juesuan03.tree C7; "
                        "warning juesuan03.tree D25; warning juesuan03.tree D7");
    const ps_finding *f = finding_at(o.doc, "juesuan03.identity", "C22");
    assert_non_null(strstr(f->message, "（尾数误差 0.01）"));
    close_anhua(&o);
}

/* a 款 of the 基本支出 column, down by 10: errors on that column's chain only */
static void test_kuan_basic_minus_10(void **state)
{
    (void)state;
    opened o;
    open_anhua(&o);
    change(o.doc, "20801", "basic", -10); /* D12 人力资源和社会保障管理事务 */
    check(o.doc);
    char got[2048];
    rule_findings(o.doc, got, sizeof got);
    assert_string_equal(got,
                        "error juesuan03.identity C12; error juesuan03.tree D11; error juesuan03.tree D12; "
                        "warning juesuan03.tree C25; warning juesuan03.tree C7; warning juesuan03.tree D25; "
                        "warning juesuan03.tree D7");
    close_anhua(&o);
}

/* a 类 changed: its 款 sum and 合计 = Σ 类 */
static void test_lei_plus_10(void **state)
{
    (void)state;
    opened o;
    open_anhua(&o);
    change(o.doc, "210", "total", 10); /* C19 卫生健康支出 */
    check(o.doc);
    char got[2048];
    rule_findings(o.doc, got, sizeof got);
    assert_string_equal(got,
                        "error juesuan03.identity C19; error juesuan03.tree C19; error juesuan03.tree C7; "
                        "warning juesuan03.tree C25; warning juesuan03.tree D25; warning juesuan03.tree D7");
    const ps_finding *f = finding_at(o.doc, "juesuan03.tree", "C7");
    assert_true(f->expected.number == 6876.93);
    assert_true(f->actual.number == 6866.94);
    close_anhua(&o);
}

/* A multi-sheet template (parts:) with a hierarchy: rule per part: the rounding differences of
 * expected.json for 公开03表 and 公开05表, each on its own sheet. */
static void test_parts(void **state)
{
    (void)state;
    ps_mapping_set *ms = NULL;
    ps_error err;
    ps_error_clear(&err);
    if (ps_mapping_set_load("tests/data/mapping/juesuan-parts", &ms, &err) != PS_OK)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.col, err.message);
    ps_checker *ck = NULL;
    assert_int_equal(ps_checker_new(ms, &ck, &err), PS_OK);
    ps_workbook *wb = NULL;
    ps_limits lim = ps_reader_default_limits();
    assert_int_equal(ps_reader_open(ANHUA, &lim, &wb, &err), PS_OK);
    ps_document **docs = NULL;
    size_t n = 0;
    assert_int_equal(ps_mapping_extract_workbook(ms, wb, ANHUA, &docs, &n, &err), PS_OK);
    ps_document *doc = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ps_document_template(docs[i]), "jsms"))
            doc = docs[i];
    assert_non_null(doc);
    assert_int_equal(ps_checker_check_document(ck, doc, &err), PS_OK);
    const ps_findings *fs = ps_document_findings_const(doc);
    char got[1024] = "";
    size_t o = 0;
    for (size_t i = 0; i < ps_findings_count(fs); i++) {
        const ps_finding *f = ps_findings_at(fs, i);
        if (strncmp(f->rule, "jsms.", 5) != 0)
            continue;
        assert_int_equal(f->severity, PS_SEV_WARNING);
        o += (size_t)snprintf(got + o, sizeof got - o, "%s!%s ", f->sheet, f->cell);
    }
    assert_string_equal(got, "公开03表!C7 公开03表!C25 公开03表!D7 公开03表!D25 公开05表!C25 公开05表!D25 ");
    for (size_t i = 0; i < n; i++)
        ps_document_free(docs[i]);
    free(docs);
    ps_workbook_free(wb);
    ps_checker_free(ck);
    ps_mapping_set_free(ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_rounding), cmocka_unit_test(test_kuan_plus_10),
        cmocka_unit_test(test_kuan_plus_cent),  cmocka_unit_test(test_kuan_basic_minus_10),
        cmocka_unit_test(test_lei_plus_10),     cmocka_unit_test(test_parts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
