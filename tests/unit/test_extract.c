/* test_extract.c - extraction through the built-in mappings against the ground truth of the
 * samples: every `values` entry and every table row of expected.json (synthetic units, the
 * Hengyang tables in every format, bad/xlsx-renamed.xls), cleaning findings, and no_template
 * for bad/no-indicators.xls. expected.json is parsed with libfyaml (JSON is YAML). */
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

/* The repository's root: ctest runs the test there. Only files the repository holds are read
 * (samples/), never ../shared, which a clone does not have. */
static const char *repo(void)
{
    return ".";
}

static ps_mapping_set *builtins(void)
{
    ps_mapping_set *set = NULL;
    ps_error err;
    ps_error_clear(&err);
    if (ps_mapping_set_load(NULL, &set, &err) != PS_OK)
        print_error("ps_mapping_set_load: %s:%d:%d: %s\n", err.file, err.line, err.col, err.message);
    assert_non_null(set);
    return set;
}

static struct fy_document *load_json(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", repo(), rel);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_JSON_FORCE};
    struct fy_document *doc = fy_document_build_from_file(&cfg, path);
    if (!doc)
        print_error("cannot parse %s\n", path);
    assert_non_null(doc);
    return doc;
}

static char *scalar_dup(struct fy_node *n)
{
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    char *out = malloc(len + 1);
    assert_non_null(out);
    memcpy(out, s ? s : "", len);
    out[len] = '\0';
    return out;
}

static bool is_string(struct fy_node *n)
{
    return fy_node_get_style(n) == FYNS_DOUBLE_QUOTED || fy_node_get_style(n) == FYNS_SINGLE_QUOTED;
}

/* Compares one expected JSON scalar with a value; prints and counts a mismatch. */
static int compare(const char *file, const char *where, const char *key, struct fy_node *want,
                   const ps_value *got)
{
    char *w = scalar_dup(want);
    int bad = 0;
    if (!got) {
        print_message("MISMATCH %s %s %s: missing, expected %s\n", file, where, key, w);
        bad = 1;
    } else if (is_string(want)) {
        if (!got->text || strcmp(got->text, w)) {
            print_message("MISMATCH %s %s %s: got '%s', expected '%s'\n", file, where, key,
                          got->text ? got->text : "(none)", w);
            bad = 1;
        }
    } else {
        double e = strtod(w, NULL);
        double tol = 1e-9 * (fabs(e) + 1);
        if (got->type == PS_TYPE_MONEY)
            tol = 0.005 + 1e-9;
        else if (got->type == PS_TYPE_FRACTION)
            tol = 5e-7 + 1e-12;
        if (!got->has_number || fabs(got->number - e) > tol) {
            print_message("MISMATCH %s %s %s: got %s%.10g, expected %s\n", file, where, key,
                          got->has_number ? "" : "(no number) ", got->number, w);
            bad = 1;
        }
    }
    free(w);
    return bad;
}

static const ps_value *find_value(ps_document **docs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        const ps_value *v = ps_document_get(docs[i], key);
        if (v)
            return v;
    }
    return NULL;
}

static const ps_table *find_table(ps_document **docs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        const ps_table *t = ps_document_table(docs[i], name);
        if (t)
            return t;
    }
    return NULL;
}

/* Set while the Gansu files are compared: their expected tables (blocks with declared_weight,
 * label_cell, rows) are in their own terms, compared by gansu_blocks(). */
static bool values_only;

/* Extracts <dir>/<name> and compares it with the entry <name> of <dir>/expected.json.
 * Returns the number of mismatches. */
static int check_file(ps_mapping_set *set, struct fy_document *truth, const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", repo(), dir, name);
    struct fy_node *entry = fy_node_mapping_lookup_by_string(fy_document_root(truth), name, (size_t)-1);
    if (!entry) {
        print_message("MISMATCH %s: no entry in expected.json\n", path);
        return 1;
    }
    ps_workbook *wb = NULL;
    ps_error err;
    ps_error_clear(&err);
    if (ps_reader_open(path, NULL, &wb, &err) != PS_OK) {
        print_message("MISMATCH %s: reader: %s\n", path, err.message);
        return 1;
    }
    ps_document **docs = NULL;
    size_t ndocs = 0;
    ps_status st = ps_mapping_extract_workbook(set, wb, path, &docs, &ndocs, &err);
    if (st != PS_OK) {
        print_message("MISMATCH %s: extract: %s\n", path, err.message);
        ps_workbook_free(wb);
        return 1;
    }
    int bad = 0;
    struct fy_node *sheets = fy_node_mapping_lookup_by_string(entry, "sheets", (size_t)-1);
    if (sheets && fy_node_sequence_item_count(sheets) != (int)ndocs) {
        print_message("MISMATCH %s: %zu documents, expected %d\n", name, ndocs,
                      fy_node_sequence_item_count(sheets));
        bad++;
    }
    struct fy_node *values = fy_node_mapping_lookup_by_string(entry, "values", (size_t)-1);
    void *it = NULL;
    struct fy_node_pair *p;
    while (values && (p = fy_node_mapping_iterate(values, &it))) {
        char *key = scalar_dup(fy_node_pair_key(p));
        bad += compare(path, "values", key, fy_node_pair_value(p), find_value(docs, ndocs, key));
        free(key);
    }
    struct fy_node *tables =
        values_only ? NULL : fy_node_mapping_lookup_by_string(entry, "tables", (size_t)-1);
    it = NULL;
    while (tables && (p = fy_node_mapping_iterate(tables, &it))) {
        char *tname = scalar_dup(fy_node_pair_key(p));
        struct fy_node *rows = fy_node_pair_value(p);
        const ps_table *t = find_table(docs, ndocs, tname);
        size_t want_rows = (size_t)fy_node_sequence_item_count(rows);
        size_t got_rows = t ? ps_table_row_count(t) : 0;
        if (got_rows != want_rows) {
            print_message("MISMATCH %s table %s: %zu rows, expected %zu\n", path, tname, got_rows, want_rows);
            bad++;
        }
        for (size_t r = 0; t && r < want_rows && r < got_rows; r++) {
            struct fy_node *row = fy_node_sequence_get_by_index(rows, (int)r);
            char where[128];
            snprintf(where, sizeof where, "%s[%zu]", tname, r);
            void *ri = NULL;
            struct fy_node_pair *rp;
            size_t nkeys = 0;
            while ((rp = fy_node_mapping_iterate(row, &ri))) {
                char *key = scalar_dup(fy_node_pair_key(rp));
                bad += compare(path, where, key, fy_node_pair_value(rp), ps_table_get(t, r, key));
                free(key);
                nkeys++;
            }
            /* no extra keys: per-block 分值/得分 must not appear on indicator rows */
            for (size_t c = 0; c < ps_table_column_count(t); c++) {
                const char *col = ps_table_column(t, c);
                if (ps_table_get(t, r, col) && !fy_node_mapping_lookup_by_string(row, col, (size_t)-1)) {
                    print_message("MISMATCH %s %s %s: unexpected key\n", path, where, col);
                    bad++;
                }
            }
            (void)nkeys;
        }
        free(tname);
    }
    for (size_t i = 0; i < ndocs; i++)
        ps_document_free(docs[i]);
    free(docs);
    ps_workbook_free(wb);
    return bad;
}

static const char *units[] = {"u01-qingxi",  "u02-yuntai",   "u03-baisha",  "u04-shiwan",
                              "u05-meiling", "u06-fengqiao", "u07-liutang", "u08-songxi",
                              "u09-zhuyuan", "u10-guichuan", "u11-hetang",  "u12-lanxi"};

static void test_synthetic_units(void **state)
{
    ps_mapping_set *set = builtins();
    struct fy_document *truth = load_json("samples/synthetic/expected.json");
    int bad = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s/jcsj.xls", units[i]);
        bad += check_file(set, truth, "samples/synthetic", name);
        snprintf(name, sizeof name, "%s/zpb.xls", units[i]);
        bad += check_file(set, truth, "samples/synthetic", name);
    }
    fy_document_destroy(truth);
    ps_mapping_set_free(set);
    assert_int_equal(bad, 0);
}

static void test_hengyang(void **state)
{
    static const char *files[] = {"jcsj.xls",  "zpb.xls",  "both.xls",
                                  "jcsj.xlsx", "zpb.xlsx", "zpb-biff5.xls"};
    ps_mapping_set *set = builtins();
    struct fy_document *truth = load_json("samples/hengyang-county-2021/expected.json");
    int bad = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        bad += check_file(set, truth, "samples/hengyang-county-2021", files[i]);
    fy_document_destroy(truth);
    ps_mapping_set_free(set);
    assert_int_equal(bad, 0);
}

static void test_xlsx_renamed(void **state)
{
    ps_mapping_set *set = builtins();
    struct fy_document *truth = load_json("samples/bad/expected.json");
    assert_int_equal(check_file(set, truth, "samples/bad", "xlsx-renamed.xls"), 0);
    fy_document_destroy(truth);
    ps_mapping_set_free(set);
}

static void test_no_indicators_is_no_template(void **state)
{
    ps_mapping_set *set = builtins();
    char path[1024];
    snprintf(path, sizeof path, "%s/samples/bad/no-indicators.xls", repo());
    ps_workbook *wb = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_reader_open(path, NULL, &wb, &err), PS_OK);
    ps_document **docs = NULL;
    size_t n = 0;
    assert_int_equal(ps_mapping_extract_workbook(set, wb, path, &docs, &n, &err), PS_ERR_NO_TEMPLATE);
    print_message("message: %s\n", err.message);
    assert_non_null(strstr(err.message, "绩效指标"));
    assert_non_null(strstr(err.message, "zpb"));
    assert_null(strstr(err.message, "综合评定等级")); /* present in the file: not reported */
    assert_string_equal(err.file, path);
    assert_string_equal(err.sheet, "自评表");

    ps_detection *det = NULL;
    size_t nd = 0;
    assert_int_equal(ps_mapping_detect(set, wb, &det, &nd, &err), PS_OK);
    assert_int_equal(nd, 1);
    assert_non_null(det[0].mapping);
    assert_string_equal(ps_mapping_id(det[0].mapping), "zpb");
    assert_false(det[0].complete);
    assert_true(det[0].score > 0.5 && det[0].score < 1);
    assert_string_equal(det[0].missing, "绩效指标");
    free(det);
    ps_workbook_free(wb);
    ps_mapping_set_free(set);
}

/* Opens a sample and extracts it; the single document. */
static ps_document *extract_one(ps_mapping_set *set, const char *rel, ps_workbook **wbp)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", repo(), rel);
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_reader_open(path, NULL, wbp, &err), PS_OK);
    ps_document **docs = NULL;
    size_t n = 0;
    assert_int_equal(ps_mapping_extract_workbook(set, *wbp, rel, &docs, &n, &err), PS_OK);
    assert_int_equal(n, 1);
    ps_document *d = docs[0];
    free(docs);
    return d;
}

static const ps_finding *find_finding(const ps_document *d, const char *rule, const char *cell)
{
    const ps_findings *fs = ps_document_findings_const(d);
    for (size_t i = 0; i < ps_findings_count(fs); i++) {
        const ps_finding *f = ps_findings_at(fs, i);
        if (!strcmp(f->rule, rule) && f->cell && !strcmp(f->cell, cell))
            return f;
    }
    return NULL;
}

static void test_cleaning_findings(void **state)
{
    ps_mapping_set *set = builtins();
    ps_workbook *wb = NULL;

    /* Hengyang jcsj: 控制率 typed '　100%', 编制数 '　114', 三公 budget '10.5　' */
    ps_document *d = extract_one(set, "samples/hengyang-county-2021/jcsj.xls", &wb);
    const ps_finding *f = find_finding(d, "clean.percent_text", "D5");
    assert_non_null(f);
    assert_int_equal(f->severity, PS_SEV_WARNING);
    assert_string_equal(f->message, "控制率以文本录入：'　100%'");
    assert_string_equal(f->sheet, "基础数据表");
    f = find_finding(d, "clean.number", "B5");
    assert_non_null(f);
    assert_int_equal(f->severity, PS_SEV_INFO);
    assert_non_null(find_finding(d, "clean.number", "C9"));
    const ps_value *v = ps_document_get(d, "staff_quota");
    assert_non_null(v);
    assert_string_equal(v->raw, "　114");
    assert_int_equal(v->row, 4);
    assert_int_equal(v->col, 1);
    /* cells holding only U+3000 are blank: no key */
    assert_null(ps_document_get(d, "vehicle.prev_final"));
    assert_null(ps_document_get(d, "overseas.final"));
    assert_string_equal(ps_document_unit(d), "衡阳县医疗保障事务中心");
    /* a blank total keeps its cell: 公务用车购置和维护经费 B10 */
    uint32_t br = 0, bc = 0;
    assert_true(ps_document_blank_cell(d, "vehicle.final", &br, &bc));
    assert_int_equal(br, 9);
    assert_int_equal(bc, 1);
    assert_false(ps_document_blank_cell(d, "basic_expense.final", &br, &bc));
    ps_document_free(d);
    ps_workbook_free(wb);

    /* Hengyang zpb: the year typo keeps its digits in text, the intended year as number */
    d = extract_one(set, "samples/hengyang-county-2021/zpb.xls", &wb);
    v = ps_document_get(d, "year");
    assert_non_null(v);
    assert_true(v->has_number);
    assert_int_equal((int)v->number, 2021);
    assert_string_equal(v->text, "20201");
    assert_string_equal(v->raw, "（ 20201 年度）");
    assert_int_equal(v->row, 2);
    assert_int_equal(v->col, 0);
    v = ps_document_get(d, "funds.rate");
    assert_non_null(v);
    assert_true(v->formula);
    ps_document_free(d);
    ps_workbook_free(wb);

    /* u12 zpb: 执行率 typed '100%' */
    d = extract_one(set, "samples/synthetic/u12-lanxi/zpb.xls", &wb);
    f = find_finding(d, "clean.percent_text", "F6");
    assert_non_null(f);
    assert_string_equal(f->message, "执行率以文本录入：'100%'");
    ps_document_free(d);
    ps_workbook_free(wb);

    /* u06: thousands separators are silent (info), never warnings */
    d = extract_one(set, "samples/synthetic/u06-fengqiao/zpb.xls", &wb);
    f = find_finding(d, "clean.number", "C8");
    assert_non_null(f);
    assert_int_equal(f->severity, PS_SEV_INFO);
    assert_int_equal(ps_findings_count_severity(ps_document_findings_const(d), PS_SEV_WARNING), 0);
    ps_document_free(d);
    ps_workbook_free(wb);
    ps_mapping_set_free(set);
}

/* Gansu's three 自评表s (samples/gansu-jiayuguan-2021, real published figures): every value of
 * expected.json, the 一级 blocks' declared weights and row sums with their label cells, and
 * after the checks every defect at its cell with its rule and severity - and no other error or
 * warning. */
static const char *gansu_files[] = {"jiayuguan-2021-zhengti.xls", "jiayuguan-2021-xiangmu-manxingbing.xls",
                                    "jiayuguan-2021-zhuanyi-zhifu.xls"};

static int gansu_blocks(const char *name, struct fy_node *entry, ps_document *doc)
{
    int bad = 0;
    struct fy_node *tables = fy_node_mapping_lookup_by_string(entry, "tables", (size_t)-1);
    struct fy_node *rows = tables ? fy_node_mapping_lookup_by_string(tables, "blocks", (size_t)-1) : NULL;
    if (!rows)
        return 0;
    const ps_table *bt = ps_document_table(doc, "blocks");
    const ps_table *it = ps_document_table(doc, "indicators");
    int n = fy_node_sequence_item_count(rows);
    if (!bt || !it || ps_table_row_count(bt) != (size_t)n) {
        print_message("MISMATCH %s: %zu blocks, expected %d\n", name, bt ? ps_table_row_count(bt) : 0, n);
        return 1;
    }
    static const char *const keys[][2] = {{"level1", "level1"},
                                          {"declared_weight", "level1_weight"},
                                          {"row_weight_sum", "row_weight_sum"},
                                          {"row_score_sum", "row_score_sum"}};
    for (int r = 0; r < n; r++) {
        struct fy_node *row = fy_node_sequence_get_by_index(rows, r);
        char where[32];
        snprintf(where, sizeof where, "blocks[%d]", r);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            bad += compare(name, where, keys[k][1],
                           fy_node_mapping_lookup_by_string(row, keys[k][0], (size_t)-1),
                           ps_table_get(bt, (size_t)r, keys[k][1]));
        /* the block row remembers its label cell (B22), where its findings point */
        char *cell = scalar_dup(fy_node_mapping_lookup_by_string(row, "label_cell", (size_t)-1));
        const ps_value *label = ps_table_get(bt, (size_t)r, "level1");
        char ref[16] = "";
        if (label)
            ps_cell_ref(label->row, label->col, ref, sizeof ref);
        if (strcmp(ref, cell)) {
            print_message("MISMATCH %s %s label cell %s, expected %s\n", name, where, ref, cell);
            bad++;
        }
        free(cell);
        /* its rows: the indicators carrying its label */
        char *want = scalar_dup(fy_node_mapping_lookup_by_string(row, "rows", (size_t)-1));
        size_t count = 0;
        for (size_t i = 0; label && i < ps_table_row_count(it); i++) {
            const ps_value *l1 = ps_table_get(it, i, "level1");
            count += l1 && l1->row == label->row && l1->col == label->col;
        }
        if (count != (size_t)atoi(want)) {
            print_message("MISMATCH %s %s: %zu rows, expected %s\n", name, where, count, want);
            bad++;
        }
        free(want);
    }
    return bad;
}

static int gansu_defects(const char *name, struct fy_node *entry, ps_document *doc)
{
    int bad = 0;
    const ps_findings *fs = ps_document_findings_const(doc);
    struct fy_node *defects = fy_node_mapping_lookup_by_string(entry, "defects", (size_t)-1);
    int n = fy_node_sequence_item_count(defects);
    bool *claimed = calloc(ps_findings_count(fs) + 1, sizeof *claimed);
    assert_non_null(claimed);
    for (int d = 0; d < n; d++) {
        struct fy_node *def = fy_node_sequence_get_by_index(defects, d);
        char *cell = scalar_dup(fy_node_mapping_lookup_by_string(def, "cell", (size_t)-1));
        char *rule = scalar_dup(fy_node_mapping_lookup_by_string(def, "rule", (size_t)-1));
        char *sev = scalar_dup(fy_node_mapping_lookup_by_string(def, "severity", (size_t)-1));
        ps_severity want = !strcmp(sev, "error") ? PS_SEV_ERROR : PS_SEV_WARNING;
        bool found = false;
        for (size_t i = 0; i < ps_findings_count(fs) && !found; i++) {
            const ps_finding *f = ps_findings_at(fs, i);
            if (!claimed[i] && !strcmp(f->rule, rule) && f->severity == want && f->cell &&
                !strcmp(f->cell, cell))
                found = claimed[i] = true;
        }
        if (!found) {
            print_message("MISMATCH %s: no %s %s at %s\n", name, sev, rule, cell);
            bad++;
        }
        free(cell);
        free(rule);
        free(sev);
    }
    for (size_t i = 0; i < ps_findings_count(fs); i++) {
        const ps_finding *f = ps_findings_at(fs, i);
        if (!claimed[i] && f->severity != PS_SEV_INFO) {
            print_message("MISMATCH %s: unexpected [%s] at %s: %s\n", name, f->rule, f->cell ? f->cell : "-",
                          f->message);
            bad++;
        }
    }
    free(claimed);
    return bad;
}

static void test_gansu(void **state)
{
    (void)state;
    ps_mapping_set *set = builtins();
    ps_checker *checker = NULL;
    ps_error err;
    ps_error_clear(&err);
    assert_int_equal(ps_checker_new(set, &checker, &err), PS_OK);
    const char *dir = "samples/gansu-jiayuguan-2021";
    struct fy_document *truth = load_json("samples/gansu-jiayuguan-2021/expected.json");
    int bad = 0, defects = 0;
    for (size_t k = 0; k < sizeof gansu_files / sizeof gansu_files[0]; k++) {
        const char *name = gansu_files[k];
        struct fy_node *entry = fy_node_mapping_lookup_by_string(fy_document_root(truth), name, (size_t)-1);
        assert_non_null(entry);
        values_only = true;
        bad += check_file(set, truth, dir, name); /* values (the blocks' keys are Gansu's: below) */
        values_only = false;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/%s", repo(), dir, name);
        ps_workbook *wb = NULL;
        assert_int_equal(ps_reader_open(path, NULL, &wb, &err), PS_OK);
        ps_document **docs = NULL;
        size_t ndocs = 0;
        assert_int_equal(ps_mapping_extract_workbook(set, wb, path, &docs, &ndocs, &err), PS_OK);
        assert_int_equal(ndocs, 1);
        char *tpl = scalar_dup(fy_node_mapping_lookup_by_string(entry, "template", (size_t)-1));
        assert_string_equal(ps_document_template(docs[0]), tpl);
        free(tpl);
        bad += gansu_blocks(name, entry, docs[0]);
        assert_int_equal(ps_checker_check_document(checker, docs[0], &err), PS_OK);
        bad += gansu_defects(name, entry, docs[0]);
        defects +=
            fy_node_sequence_item_count(fy_node_mapping_lookup_by_string(entry, "defects", (size_t)-1));
        ps_document_free(docs[0]);
        free(docs);
        ps_workbook_free(wb);
    }
    assert_int_equal(defects, 6); /* 5 of the 整体 table, 1 of the 项目 table */
    assert_int_equal(bad, 0);
    fy_document_destroy(truth);
    ps_checker_free(checker);
    ps_mapping_set_free(set);
}

/* The quirks: 可持续影响招标 read as 可持续影响指标 (raw kept, said), 「质量…质量…」 read once, ≧ as ≥,
 * 「100   100」 split into 分值 and 得分 */
static void test_gansu_quirks(void **state)
{
    (void)state;
    ps_mapping_set *set = builtins();
    ps_workbook *wb = NULL;
    ps_document *d =
        extract_one(set, "samples/gansu-jiayuguan-2021/jiayuguan-2021-xiangmu-manxingbing.xls", &wb);
    const ps_table *t = ps_document_table(d, "indicators");
    assert_non_null(t);
    const ps_value *v = ps_table_get(t, 16, "level2"); /* row 31 of the sheet, C30 merged down */
    assert_non_null(v);
    assert_string_equal(v->text, "可持续影响指标");
    assert_string_equal(v->raw, "可持续影响招标");
    size_t aliases = 0;
    const ps_findings *fs = ps_document_findings_const(d);
    for (size_t i = 0; i < ps_findings_count(fs); i++)
        aliases += !strcmp(ps_findings_at(fs, i)->rule, "clean.alias");
    assert_int_equal(aliases, 1); /* once, at C30, not once per row of its merge */
    const ps_finding *f = find_finding(d, "clean.alias", "C30");
    assert_non_null(f);
    assert_int_equal(f->severity, PS_SEV_INFO);
    assert_string_equal(f->message, "“可持续影响招标”按“可持续影响指标”读取");
    v = ps_table_get(t, 2, "target"); /* E16 '≧80%' */
    assert_non_null(v);
    assert_string_equal(v->comparator, "≥");
    assert_true(fabs(v->number - 0.8) < 1e-12);
    const ps_value *w = ps_document_get(d, "total.weight"), *s = ps_document_get(d, "total.score");
    assert_non_null(w);
    assert_non_null(s);
    assert_true(w->number == 100 && s->number == 100);
    assert_string_equal(s->raw, "100   100");
    ps_document_free(d);
    ps_workbook_free(wb);

    d = extract_one(set, "samples/gansu-jiayuguan-2021/jiayuguan-2021-zhuanyi-zhifu.xls", &wb);
    t = ps_document_table(d, "indicators");
    assert_non_null(t);
    assert_int_equal(ps_table_row_count(t), 18);
    v = ps_table_get(t, 8, "level2"); /* C21 「质量\n\n指标\n\n质量\n\n指标」 */
    assert_non_null(v);
    assert_string_equal(v->text, "质量指标");
    assert_string_equal(v->raw, "质量\n\n指标\n\n质量\n\n指标");
    /* 产出指标 on both sides of the page break (B13 and B21) */
    assert_string_equal(ps_table_get(t, 0, "level1")->text, "产出指标");
    assert_string_equal(ps_table_get(t, 8, "level1")->text, "产出指标");
    ps_document_free(d);
    ps_workbook_free(wb);

    d = extract_one(set, "samples/gansu-jiayuguan-2021/jiayuguan-2021-zhengti.xls", &wb);
    t = ps_document_table(d, "indicators");
    v = ps_table_get(t, 10, "target"); /* E22 '216个' */
    assert_non_null(v);
    assert_true(v->has_number && v->number == 216);
    v = ps_table_get(t, 0, "actual"); /* F12 '91%%': kept as typed (the check says it) */
    assert_non_null(v);
    assert_string_equal(v->raw, "91%%");
    ps_document_free(d);
    ps_workbook_free(wb);
    ps_mapping_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_units),   cmocka_unit_test(test_hengyang),
        cmocka_unit_test(test_xlsx_renamed),      cmocka_unit_test(test_no_indicators_is_no_template),
        cmocka_unit_test(test_cleaning_findings), cmocka_unit_test(test_gansu),
        cmocka_unit_test(test_gansu_quirks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
