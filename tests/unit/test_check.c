/* test_check.c - the audit rules on the real samples, through the whole pipeline (ps_reader_open,
 * ps_mapping_extract_workbook, checker): every defect of samples/synthetic/expected.json and
 * samples/hengyang-county-2021/expected.json is reported at its cell, with its rule, severity,
 * message and figures; no other error or rule warning is reported. Rules that no sample
 * violates are made to fire by changing one value of a real document (the cell stays). */
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
#include "perfsheet/rules.h"

static ps_mapping_set *set;
static ps_checker *checker;

static int setup(void **state)
{
    (void)state;
    ps_error err;
    ps_error_clear(&err);
    if (ps_mapping_set_load(NULL, &set, &err) != PS_OK) {
        print_error("ps_mapping_set_load: %s:%d:%d: %s\n", err.file, err.line, err.col, err.message);
        return -1;
    }
    if (ps_checker_new(set, &checker, &err) != PS_OK) {
        print_error("ps_checker_new: %s:%d:%d: %s\n", err.file, err.line, err.col, err.message);
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

/* The documents of one input file, extracted and checked (cross rules not yet run). */
typedef struct opened {
    char path[512];
    ps_document **docs;
    size_t n;
} opened;

static void open_file(const char *path, opened *o)
{
    snprintf(o->path, sizeof o->path, "%s", path);
    ps_workbook *wb = NULL;
    ps_error err;
    ps_error_clear(&err);
    ps_limits lim = ps_reader_default_limits();
    if (ps_reader_open(path, &lim, &wb, &err) != PS_OK)
        print_error("%s: %s\n", path, err.message);
    assert_non_null(wb);
    if (ps_mapping_extract_workbook(set, wb, path, &o->docs, &o->n, &err) != PS_OK)
        print_error("%s: %s\n", path, err.message);
    assert_true(o->n > 0);
    for (size_t i = 0; i < o->n; i++)
        assert_int_equal(ps_checker_check_document(checker, o->docs[i], &err), PS_OK);
    ps_workbook_free(wb);
}

static void close_file(opened *o)
{
    for (size_t i = 0; i < o->n; i++)
        ps_document_free(o->docs[i]);
    free(o->docs);
    o->docs = NULL;
    o->n = 0;
}

/* Runs the cross rules over the documents of several files. */
static void cross(opened *files, size_t nfiles)
{
    ps_document *all[16];
    size_t n = 0;
    for (size_t f = 0; f < nfiles; f++)
        for (size_t i = 0; i < files[f].n && n < 16; i++)
            all[n++] = files[f].docs[i];
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_checker_check_cross(checker, all, n, &err), PS_OK);
}

/* ---- expected.json ---- */

static struct fy_document *load_json(const char *path)
{
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_JSON_FORCE};
    struct fy_document *doc = fy_document_build_from_file(&cfg, path);
    if (!doc)
        print_error("cannot parse %s\n", path);
    assert_non_null(doc);
    return doc;
}

static const char *str(struct fy_node *obj, const char *key)
{
    struct fy_node *v = fy_node_mapping_lookup_by_string(obj, key, FY_NT);
    return v && fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;
}

static bool is_string(struct fy_node *n)
{
    return fy_node_get_style(n) == FYNS_DOUBLE_QUOTED || fy_node_get_style(n) == FYNS_SINGLE_QUOTED;
}

static bool rule_fired[64];
static const char *const all_rules[] = {"jcsj.control_rate",
                                        "jcsj.three_public",
                                        "jcsj.vehicle",
                                        "jcsj.projects",
                                        "jcsj.public_le_basic",
                                        "jcsj.nonnegative",
                                        "jcsj.required",
                                        "jcsj.phone",
                                        "zpb.rate",
                                        "zpb.income_sum",
                                        "zpb.basic_split",
                                        "zpb.expense_sum",
                                        "zpb.score_le_weight",
                                        "zpb.block_weight",
                                        "zpb.weights_total",
                                        "zpb.score_total",
                                        "zpb.grade",
                                        "zpb.year",
                                        "zpb.funds_score",
                                        "zpb.required",
                                        "cross.basic",
                                        "cross.public",
                                        "cross.project"};
#define NRULES (sizeof all_rules / sizeof all_rules[0])

static void mark_fired(const char *rule)
{
    for (size_t i = 0; i < NRULES; i++)
        if (!strcmp(all_rules[i], rule))
            rule_fired[i] = true;
}

static bool scalar_matches(const ps_scalar *s, struct fy_node *want)
{
    if (!want)
        return true;
    if (is_string(want))
        return s->kind == PS_SCALAR_TEXT && !strcmp(s->text, fy_node_get_scalar0(want));
    double w = strtod(fy_node_get_scalar0(want), NULL);
    /* expected.json rounds fractions to 6 decimals; a finding carries its cell's precision - a rate
     * to the 2 decimals of its percentage (0.9825 for 0.982456), money to 2 - so they agree within
     * half a unit of the 4th decimal */
    return s->kind == PS_SCALAR_NUMBER && fabs(s->number - w) <= 0.5e-4 + 1e-9 * fabs(w);
}

/* Compares the findings of file `name` (key of truth) with its defects. Returns the number of
 * differences, printing each. */
static int compare(struct fy_document *truth, const char *name, const opened *o)
{
    struct fy_node *entry = fy_node_mapping_lookup_by_string(fy_document_root(truth), name, FY_NT);
    assert_non_null(entry);
    struct fy_node *defects = fy_node_mapping_lookup_by_string(entry, "defects", FY_NT);
    int bad = 0;
    int ndef = defects ? fy_node_sequence_item_count(defects) : 0;
    bool used[64][64] = {{0}};
    for (int d = 0; d < ndef && d < 64; d++) {
        struct fy_node *def = fy_node_sequence_get_by_index(defects, d);
        const char *rule = str(def, "rule"), *cell = str(def, "cell"), *sheet = str(def, "sheet");
        const char *sev = str(def, "severity"), *note = str(def, "note");
        bool found = false;
        for (size_t k = 0; k < o->n && !found; k++) {
            const ps_findings *fs = ps_document_findings_const(o->docs[k]);
            for (size_t i = 0; i < ps_findings_count(fs) && i < 64 && !found; i++) {
                const ps_finding *f = ps_findings_at(fs, i);
                if (used[k][i] || strcmp(f->rule, rule) || !f->cell || strcmp(f->cell, cell) ||
                    strcmp(f->sheet, sheet))
                    continue;
                found = true;
                used[k][i] = true;
                if (strcmp(ps_severity_name(f->severity), sev)) {
                    print_error("%s %s!%s %s: severity %s, want %s\n", name, sheet, cell, rule,
                                ps_severity_name(f->severity), sev);
                    bad++;
                }
                /* the wording of the samples, where the note is complete */
                if (!strstr(note, "…") && strncmp(rule, "clean.", 6) && strcmp(f->message, note)) {
                    print_error("%s %s!%s %s:\n  message %s\n  want    %s\n", name, sheet, cell, rule,
                                f->message, note);
                    bad++;
                }
                if (strncmp(rule, "clean.", 6) &&
                    (!scalar_matches(&f->expected,
                                     fy_node_mapping_lookup_by_string(def, "expected", FY_NT)) ||
                     !scalar_matches(&f->actual, fy_node_mapping_lookup_by_string(def, "actual", FY_NT)))) {
                    print_error("%s %s!%s %s: expected/actual differ (%g/%g)\n", name, sheet, cell, rule,
                                f->expected.number, f->actual.number);
                    bad++;
                }
                if (!f->ncells || strcmp(f->cells[0], cell)) {
                    print_error("%s %s!%s %s: cells[0] is not the cell\n", name, sheet, cell, rule);
                    bad++;
                }
                mark_fired(rule);
            }
        }
        if (!found) {
            print_error("%s: missing %s %s at %s!%s (%s)\n", name, sev, rule, sheet, cell, note);
            bad++;
        }
    }
    /* nothing else: no error at all, no warning of a rule (cleaning notes may add warnings) */
    for (size_t k = 0; k < o->n; k++) {
        const ps_findings *fs = ps_document_findings_const(o->docs[k]);
        for (size_t i = 0; i < ps_findings_count(fs) && i < 64; i++) {
            const ps_finding *f = ps_findings_at(fs, i);
            if (used[k][i])
                continue;
            bool rule_warning = f->severity == PS_SEV_WARNING && strncmp(f->rule, "clean.", 6) != 0;
            if (f->severity == PS_SEV_ERROR || rule_warning) {
                print_error("%s: unexpected %s %s at %s!%s: %s\n", name, ps_severity_name(f->severity),
                            f->rule, f->sheet, f->cell ? f->cell : "-", f->message);
                bad++;
            }
        }
    }
    return bad;
}

static void test_synthetic(void **state)
{
    (void)state;
    struct fy_document *truth = load_json("samples/synthetic/expected.json");
    static const char *const units[] = {"u01-qingxi",  "u02-yuntai",   "u03-baisha",  "u04-shiwan",
                                        "u05-meiling", "u06-fengqiao", "u07-liutang", "u08-songxi",
                                        "u09-zhuyuan", "u10-guichuan", "u11-hetang",  "u12-lanxi"};
    int bad = 0;
    size_t clean_files = 0;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        opened files[2];
        char path[256];
        static const char *const tpl[] = {"jcsj.xls", "zpb.xls"};
        for (int t = 0; t < 2; t++) {
            snprintf(path, sizeof path, "samples/synthetic/%s/%s", units[u], tpl[t]);
            open_file(path, &files[t]);
        }
        cross(files, 2);
        for (int t = 0; t < 2; t++) {
            char name[128];
            snprintf(name, sizeof name, "%s/%s", units[u], tpl[t]);
            int b = compare(truth, name, &files[t]);
            bad += b;
            size_t errors = 0;
            for (size_t k = 0; k < files[t].n; k++)
                errors +=
                    ps_findings_count_severity(ps_document_findings_const(files[t].docs[k]), PS_SEV_ERROR);
            struct fy_node *e = fy_node_mapping_lookup_by_string(fy_document_root(truth), name, FY_NT);
            struct fy_node *defects = fy_node_mapping_lookup_by_string(e, "defects", FY_NT);
            if (fy_node_sequence_item_count(defects) == 0) {
                clean_files++;
                assert_int_equal(errors, 0);
            }
            close_file(&files[t]);
        }
    }
    fy_document_destroy(truth);
    assert_int_equal(clean_files, 17);
    assert_int_equal(bad, 0);
}

static void test_hengyang(void **state)
{
    (void)state;
    struct fy_document *truth = load_json("samples/hengyang-county-2021/expected.json");
    /* files checked together, as a batch would pair them */
    static const char *const groups[][2] = {
        {"jcsj.xls", "zpb.xls"}, {"both.xls", NULL}, {"jcsj.xlsx", "zpb.xlsx"}, {"zpb-biff5.xls", NULL}};
    int bad = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        opened files[2];
        size_t n = 0;
        for (int i = 0; i < 2 && groups[g][i]; i++) {
            char path[256];
            snprintf(path, sizeof path, "samples/hengyang-county-2021/%s", groups[g][i]);
            open_file(path, &files[n++]);
        }
        cross(files, n);
        for (size_t i = 0; i < n; i++) {
            bad += compare(truth, groups[g][i], &files[i]);
            close_file(&files[i]);
        }
    }
    fy_document_destroy(truth);
    assert_int_equal(bad, 0);
}

/* ---- rules no sample violates: one changed value in a real document ---- */

static ps_document *doc_of(opened *o, const char *tpl)
{
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(ps_document_template(o->docs[i]), tpl))
            return o->docs[i];
    return NULL;
}

static size_t count_rule(const ps_document *doc, const char *rule, const char *cell, ps_severity sev)
{
    size_t n = 0;
    const ps_findings *fs = ps_document_findings_const(doc);
    for (size_t i = 0; i < ps_findings_count(fs); i++) {
        const ps_finding *f = ps_findings_at(fs, i);
        if (!strcmp(f->rule, rule) && f->severity == sev && (!cell || (f->cell && !strcmp(f->cell, cell))))
            n++;
    }
    return n;
}

static void rerun(ps_document *doc)
{
    /* the findings list keeps the first run's findings; count the difference */
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_checker_check_document(checker, doc, &err), PS_OK);
}

static const struct mutation {
    const char *file, *tpl, *key;
    double number;    /* NAN: remove the key */
    const char *text; /* a text value instead of a number */
    const char *rule, *cell;
    ps_severity sev;
} mutations[] = {
    /* u01 jcsj: 公用经费 276.13 above 部门基本支出 1253.99 */
    {"u01-qingxi/jcsj.xls", "jcsj", "public_expense.final", 1300, NULL, "jcsj.public_le_basic", NULL,
     PS_SEV_ERROR},
    {"u01-qingxi/jcsj.xls", "jcsj", "reception.final", -9.81, NULL, "jcsj.nonnegative", NULL, PS_SEV_ERROR},
    {"u01-qingxi/jcsj.xls", "jcsj", "staff_quota", NAN, NULL, "jcsj.required", NULL, PS_SEV_ERROR},
    {"u01-qingxi/jcsj.xls", "jcsj", "phone", 0, "1888402748", "jcsj.phone", NULL, PS_SEV_WARNING},
    {"u01-qingxi/zpb.xls", "zpb", "funds.executed", 1504.00, NULL, "zpb.expense_sum", NULL, PS_SEV_ERROR},
    {"u01-qingxi/zpb.xls", "zpb", "total.weight", 90, NULL, "zpb.weights_total", NULL, PS_SEV_ERROR},
    {"u01-qingxi/zpb.xls", "zpb", "funds.score", 8.0, NULL, "zpb.funds_score", NULL, PS_SEV_WARNING},
    {"u01-qingxi/zpb.xls", "zpb", "total.score", NAN, NULL, "zpb.required", NULL, PS_SEV_ERROR},
};

static void test_mutations(void **state)
{
    (void)state;
    for (size_t m = 0; m < sizeof mutations / sizeof mutations[0]; m++) {
        const struct mutation *mu = &mutations[m];
        print_message("%s %s -> %s\n", mu->file, mu->key, mu->rule);
        char path[256];
        snprintf(path, sizeof path, "samples/synthetic/%s", mu->file);
        opened o;
        open_file(path, &o);
        ps_document *doc = doc_of(&o, mu->tpl);
        assert_non_null(doc);
        /* not firing on the real file */
        assert_int_equal(count_rule(doc, mu->rule, NULL, mu->sev), 0);
        const ps_value *old = ps_document_get(doc, mu->key);
        assert_non_null(old);
        char cell[16] = "";
        if (old->row != PS_NO_CELL)
            ps_cell_ref(old->row, old->col, cell, sizeof cell);
        if (isnan(mu->number) && !mu->text) {
            ps_document_unset(doc, mu->key);
        } else {
            ps_value v = *old;
            v.raw = NULL;
            v.formula = false;
            if (mu->text) {
                v.has_number = false;
                v.text = mu->text;
            } else {
                v.has_number = true;
                v.number = mu->number;
                v.text = NULL;
            }
            assert_true(ps_document_set(doc, mu->key, &v));
        }
        rerun(doc);
        assert_true(count_rule(doc, mu->rule, NULL, mu->sev) >= 1);
        /* at the changed value's cell, unless the value is gone */
        if (!isnan(mu->number) || mu->text)
            assert_true(count_rule(doc, mu->rule, cell, mu->sev) >= 1);
        mark_fired(mu->rule);
        close_file(&o);
    }
}

/* The remaining rules are fired on real documents by changing a table value or a pair. */
static void test_mutations_tables(void **state)
{
    (void)state;
    ps_error err;
    ps_error_clear(&err);
    /* u02 per-row: one row weight changed, so 产出指标 no longer adds up to （50分） */
    opened o;
    open_file("samples/synthetic/u02-yuntai/zpb.xls", &o);
    ps_document *doc = doc_of(&o, "zpb");
    assert_int_equal(count_rule(doc, "zpb.block_weight", NULL, PS_SEV_ERROR), 0);
    ps_table *t = (ps_table *)ps_document_table(doc, "indicators");
    assert_non_null(t);
    const ps_value *w = ps_table_get(t, 0, "weight");
    assert_non_null(w);
    ps_value v = *w;
    v.number += 1;
    assert_true(ps_table_set(t, 0, "weight", &v));
    rerun(doc);
    assert_int_equal(count_rule(doc, "zpb.block_weight", NULL, PS_SEV_ERROR), 1);
    mark_fired("zpb.block_weight");
    close_file(&o);

    /* u01: 部门项目支出 of 基础数据表 differs from 项目支出 of 自评表 */
    opened pair[2];
    open_file("samples/synthetic/u01-qingxi/jcsj.xls", &pair[0]);
    open_file("samples/synthetic/u01-qingxi/zpb.xls", &pair[1]);
    ps_document *j = doc_of(&pair[0], "jcsj");
    const ps_value *pe = ps_document_get(j, "project_expense.final");
    assert_non_null(pe);
    char cell[16];
    ps_cell_ref(pe->row, pe->col, cell, sizeof cell);
    cross(pair, 2);
    assert_int_equal(count_rule(j, "cross.project", NULL, PS_SEV_ERROR), 0);
    v = *pe;
    v.number = 205.58;
    v.formula = false;
    assert_true(ps_document_set(j, "project_expense.final", &v));
    cross(pair, 2);
    assert_int_equal(count_rule(j, "cross.project", cell, PS_SEV_ERROR), 1);
    /* the finding is on the jcsj document only */
    assert_int_equal(count_rule(doc_of(&pair[1], "zpb"), "cross.project", NULL, PS_SEV_ERROR), 0);
    mark_fired("cross.project");
    close_file(&pair[0]);
    close_file(&pair[1]);
}

/* The one finding of rule in doc (asserted to be one). */
static const ps_finding *only_finding(const ps_document *doc, const char *rule)
{
    const ps_finding *found = NULL;
    size_t n = 0;
    const ps_findings *fs = ps_document_findings_const(doc);
    for (size_t i = 0; i < ps_findings_count(fs); i++)
        if (!strcmp(ps_findings_at(fs, i)->rule, rule)) {
            found = ps_findings_at(fs, i);
            n++;
        }
    print_message("%s: %zu findings%s%s %s\n", rule, n, found && found->cell ? " at " : "",
                  found && found->cell ? found->cell : "", found ? found->message : "");
    assert_int_equal(n, 1);
    return found;
}

/* Findings point at a cell when there is one (docs/rules.md): a blank value cell whose label was
 * found is pointed at, by a comparison and by PRESENT() alike, in a table row too; a label that
 * is not in the sheet leaves no cell, and the message says so instead of naming another one.
 * Copies of the real 自评表 with one label renamed or two cells emptied (tests/data/xlsx). */
static void test_findings_without_cell(void **state)
{
    (void)state;
    opened o;
    open_file("tests/data/xlsx/zpb-blank-cells.xlsx", &o);
    ps_document *doc = doc_of(&o, "zpb");
    assert_non_null(doc);
    assert_null(ps_document_get(doc, "total.score"));
    const ps_finding *f = only_finding(doc, "zpb.score_total"); /* total.score = … */
    assert_string_equal(f->cell, "H27");
    assert_string_equal(f->message, "总分得分应为 97（各项得分合计），表中为空");
    f = only_finding(doc, "zpb.required"); /* PRESENT(total.score): the blank cell too */
    assert_string_equal(f->cell, "H27");
    assert_string_equal(f->message, "缺少总分得分");
    /* a blank left-hand side in a table row: the row's blank 完成值 (when: keeps the rows whose
     * 完成值 differs from 指标值 out), and PRESENT() of it */
    const char *yaml = "- {id: t.actual, each: indicators, when: \"NOT PRESENT(indicators[].actual)\",\n"
                       "   check: \"indicators[].actual = indicators[].target\", tolerance: exact,\n"
                       "   message: \"{indicators[].name}完成值应为 {expected}\"}\n"
                       "- {id: t.present, each: indicators, check: \"PRESENT(indicators[].actual)\",\n"
                       "   message: \"{indicators[].name}缺少完成值\"}\n";
    ps_ruleset *rs = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_ruleset_from_string(yaml, strlen(yaml), "t.yaml", &rs, &err), PS_OK);
    assert_int_equal(ps_rule_eval(ps_ruleset_at(rs, 0), doc, &err), PS_OK);
    assert_int_equal(ps_rule_eval(ps_ruleset_at(rs, 1), doc, &err), PS_OK);
    f = only_finding(doc, "t.actual");
    assert_string_equal(f->cell, "F26");
    assert_string_equal(f->cells[0], "F26");
    assert_string_equal(f->message, "参保人员满意度完成值应为 0.98");
    f = only_finding(doc, "t.present");
    assert_string_equal(f->cell, "F26");
    assert_string_equal(f->message, "参保人员满意度缺少完成值");
    ps_ruleset_free(rs);
    close_file(&o);

    /* a captured value with nothing after its label (填报单位（盖章）： then 填报时间：) nor right of
     * it: the label cell, where the name belongs */
    open_file("tests/data/xlsx/zpb-no-unit.xlsx", &o);
    doc = doc_of(&o, "zpb");
    assert_non_null(doc);
    f = only_finding(doc, "zpb.required");
    assert_string_equal(f->cell, "A4");
    assert_string_equal(f->message, "缺少填报单位");
    close_file(&o);

    open_file("tests/data/xlsx/zpb-missing-labels.xlsx", &o);
    doc = doc_of(&o, "zpb");
    assert_non_null(doc);
    f = only_finding(doc, "zpb.score_total");
    assert_null(f->cell);
    assert_string_equal(f->message, "总分得分应为 97（各项得分合计），表中为空（未找到标签“总分”）");
    assert_int_equal(f->ncells, 4); /* the figures it was computed from are still listed */
    f = only_finding(doc, "zpb.required");
    assert_null(f->cell);
    assert_int_equal(f->ncells, 0);
    assert_string_equal(f->message, "缺少总分得分（未找到标签“总分”）");
    /* the row label found, the column header not: no cell either (the row alone is not one) */
    f = only_finding(doc, "zpb.rate");
    assert_null(f->cell);
    assert_string_equal(f->message, "执行率应为 100.00%（全年执行数 1220.03 / 全年预算数 1220.03），表中为空"
                                    "（未找到标签“年度资金总额”上方的表头“执行率”）");
    close_file(&o);
}

/* Runs last: every rule of checks.md fired somewhere above. */
static void test_every_rule_fired(void **state)
{
    (void)state;
    int missing = 0;
    for (size_t i = 0; i < NRULES; i++)
        if (!rule_fired[i]) {
            print_error("rule %s never fired\n", all_rules[i]);
            missing++;
        }
    assert_int_equal(missing, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic),
        cmocka_unit_test(test_hengyang),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_mutations_tables),
        cmocka_unit_test(test_findings_without_cell),
        cmocka_unit_test(test_every_rule_fired),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
