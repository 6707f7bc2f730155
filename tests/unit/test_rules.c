/* test_rules.c - runs the rule cases of tests/rules/NAME.test and the ```test blocks of
 * docs/rules.md (the same format), plus table tests of the caret display and the limits.
 *
 * Case format (one case per paragraph, '#' lines are comments):
 *   line 1  a rule id (zpb.rate: every entry of that id in the mapping its prefix names, or in
 *           every mapping when none has that name), a mapping and a rule id
 *           (gansu_zhengti/zpb.block_weight: the Gansu mappings check zpb.* too), a rule as a
 *           YAML flow mapping {id: t.sum, check: "a = b + c", message: "…"}, or a mapping's
 *           defaults and rules {defaults: {blank: zero}, rules: [{…}, …]} (every rule runs)
 *   line 2  the document as JSON: {"key": value, …, "tables": {"projects": [{…}, …]}}; a value
 *           is a number, a text, or {"n": 0.98, "t": "fraction", "cell": "F6", "dec": 2,
 *           "formula": true, "raw": "100%", "text": "…"}. A cross-table rule takes
 *           {"jcsj": {…}, "zpb": {…}}.
 *   then    one line per expected finding, in order: `error [@F6] message` (or `ok` for none)
 * After a line `%%SYNTAX`: line 1 a check expression, line 2 `line:col: message`.
 * After a line `%%LOAD`: every line but the last a mapping file (YAML without empty lines), the
 * last `line:col: message`: loading it must fail there with that message (a name that does not
 * resolve, a bad pattern …); or `ok` when it loads.
 * After `%%EVAL`: evaluation cases again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfsheet/mapping.h"
#include "perfsheet/rules.h"
#include "perfsheet/workbook.h"

static ps_ruleset *builtin[16];
static char builtin_name[16][64]; /* the file's stem: zpb, gansu_zhengti … */
static size_t nbuiltin;

/* Does the rule line "zpb.rate" (the mapping named by the id's prefix, or every mapping when
 * none has that name) or "gansu_zhengti/zpb.rate" (that mapping) take builtin b? *id is the id. */
static bool builtin_takes(size_t b, const char *line, const char **id)
{
    const char *slash = strchr(line, '/');
    *id = slash ? slash + 1 : line;
    size_t n = slash ? (size_t)(slash - line) : strcspn(line, ".");
    if (strlen(builtin_name[b]) == n && !strncmp(builtin_name[b], line, n))
        return true;
    if (slash)
        return false;
    for (size_t i = 0; i < nbuiltin; i++)
        if (strlen(builtin_name[i]) == n && !strncmp(builtin_name[i], line, n))
            return false;
    return true;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static int load_builtin(void **state)
{
    (void)state;
    glob_t g;
    if (glob("mappings/*.yaml", 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc && nbuiltin < 16; i++) {
        size_t len;
        char *text = slurp(g.gl_pathv[i], &len);
        ps_error err = {0};
        ps_ruleset *rs = NULL;
        if (text && ps_ruleset_from_string(text, len, g.gl_pathv[i], &rs, &err) == PS_OK) {
            const char *base = strrchr(g.gl_pathv[i], '/');
            snprintf(builtin_name[nbuiltin], sizeof builtin_name[nbuiltin], "%s",
                     base ? base + 1 : g.gl_pathv[i]);
            char *dot = strrchr(builtin_name[nbuiltin], '.');
            if (dot)
                *dot = '\0';
            builtin[nbuiltin++] = rs;
        } else
            fprintf(stderr, "%s:%d:%d: %s\n", err.file, err.line, err.col, err.message);
        free(text);
    }
    globfree(&g);
    return 0;
}

static int free_builtin(void **state)
{
    (void)state;
    for (size_t i = 0; i < nbuiltin; i++)
        ps_ruleset_free(builtin[i]);
    return 0;
}

static const ps_rule *find_builtin(const char *line)
{
    for (size_t i = 0; i < nbuiltin; i++) {
        const char *id;
        if (!builtin_takes(i, line, &id))
            continue;
        const ps_rule *r = ps_ruleset_find(builtin[i], id);
        if (r)
            return r;
    }
    return NULL;
}

/* ---- documents from JSON ---- */

static ps_field_type type_named(const char *t)
{
    static const struct {
        const char *n;
        ps_field_type t;
    } names[] = {{"money", PS_TYPE_MONEY},   {"fraction", PS_TYPE_FRACTION}, {"int", PS_TYPE_INT},
                 {"number", PS_TYPE_NUMBER}, {"text", PS_TYPE_TEXT},         {"year", PS_TYPE_YEAR},
                 {"phone", PS_TYPE_PHONE},   {"date", PS_TYPE_DATE},         {"grade", PS_TYPE_GRADE},
                 {"target", PS_TYPE_TARGET}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(names[i].n, t))
            return names[i].t;
    return PS_TYPE_NUMBER;
}

static bool plain_number(struct fy_node *n, double *d)
{
    if (fy_node_get_style(n) != FYNS_PLAIN)
        return false;
    const char *s = fy_node_get_scalar0(n);
    char *end;
    *d = strtod(s, &end);
    return end != s && *end == '\0';
}

static const char *lookup(struct fy_node *obj, const char *key)
{
    struct fy_node *v = fy_node_mapping_lookup_by_string(obj, key, FY_NT);
    return v && fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;
}

/* A ps_value from a JSON value; strings in it borrow from the YAML document. */
static bool json_value(struct fy_node *n, ps_value *v)
{
    memset(v, 0, sizeof *v);
    v->row = v->col = PS_NO_CELL;
    v->decimals = 255;
    double d;
    if (fy_node_is_scalar(n)) {
        if (plain_number(n, &d)) {
            v->type = PS_TYPE_NUMBER;
            v->has_number = true;
            v->number = d;
        } else {
            v->type = PS_TYPE_TEXT;
            v->text = fy_node_get_scalar0(n);
        }
        return true;
    }
    if (!fy_node_is_mapping(n))
        return false;
    const char *t = lookup(n, "t"), *cell = lookup(n, "cell"), *dec = lookup(n, "dec");
    const char *formula = lookup(n, "formula");
    struct fy_node *num = fy_node_mapping_lookup_by_string(n, "n", FY_NT);
    v->type = t ? type_named(t) : PS_TYPE_NUMBER;
    if (num && plain_number(num, &d)) {
        v->has_number = true;
        v->number = d;
    }
    v->text = lookup(n, "text");
    v->raw = lookup(n, "raw");
    if (!num && !v->text && v->type == PS_TYPE_TEXT)
        v->text = v->raw;
    if (cell && !ps_cell_ref_parse(cell, &v->row, &v->col))
        return false;
    if (dec)
        v->decimals = (uint8_t)atoi(dec);
    v->formula = formula && !strcmp(formula, "true");
    return true;
}

static ps_document *json_document(struct fy_node *obj, const char *template_id)
{
    ps_document *doc = ps_document_new(template_id, "test", "test.xls", "Sheet1");
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(obj, &it))) {
        const char *key = fy_node_get_scalar0(fy_node_pair_key(p));
        struct fy_node *val = fy_node_pair_value(p);
        if (!strcmp(key, "tables")) {
            void *it2 = NULL;
            struct fy_node_pair *tp;
            while ((tp = fy_node_mapping_iterate(val, &it2))) {
                ps_table *t = ps_document_add_table(doc, fy_node_get_scalar0(fy_node_pair_key(tp)));
                void *it3 = NULL;
                struct fy_node *row;
                while ((row = fy_node_sequence_iterate(fy_node_pair_value(tp), &it3))) {
                    size_t r = ps_table_add_row(t);
                    void *it4 = NULL;
                    struct fy_node_pair *cp;
                    while ((cp = fy_node_mapping_iterate(row, &it4))) {
                        ps_value v;
                        if (json_value(fy_node_pair_value(cp), &v))
                            ps_table_set(t, r, fy_node_get_scalar0(fy_node_pair_key(cp)), &v);
                    }
                }
            }
            continue;
        }
        ps_value v;
        if (json_value(val, &v))
            ps_document_set(doc, key, &v);
    }
    return doc;
}

/* ---- cases ---- */

typedef struct runner {
    const char *file;
    int failures, cases;
} runner;

static void failf(runner *rn, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", rn->file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    rn->failures++;
}

static void run_eval_case(runner *rn, int line, char **lines, size_t n)
{
    rn->cases++;
    if (n < 2) {
        failf(rn, line, "a case needs a rule and a JSON document");
        return;
    }
    ps_ruleset *own_set = NULL;
    const ps_rule *rules[16];
    size_t nrules = 0;
    ps_error err = {0};
    if (lines[0][0] == '{') {
        /* {defaults: {…}, rules: [{…}, …]}: rules with a mapping's defaults, all run */
        bool with_defaults = !strncmp(lines[0], "{defaults:", 10);
        size_t len = strlen(lines[0]) + 3;
        char *yaml = malloc(len);
        snprintf(yaml, len, "%s%s", with_defaults ? "" : "- ", lines[0]);
        if (ps_ruleset_from_string(yaml, strlen(yaml), rn->file, &own_set, &err) != PS_OK) {
            failf(rn, line, "rule does not compile: %d:%d: %s", err.line, err.col, err.message);
            free(yaml);
            return;
        }
        free(yaml);
        for (size_t i = 0; i < ps_ruleset_count(own_set) && nrules < 16; i++)
            rules[nrules++] = ps_ruleset_at(own_set, i);
    } else {
        /* every entry of that id, in file order (one rule of checks.md may be written in parts) */
        for (size_t b = 0; b < nbuiltin; b++) {
            const char *id;
            if (!builtin_takes(b, lines[0], &id))
                continue;
            for (size_t i = 0; i < ps_ruleset_count(builtin[b]) && nrules < 16; i++)
                if (!strcmp(ps_rule_id(ps_ruleset_at(builtin[b], i)), id))
                    rules[nrules++] = ps_ruleset_at(builtin[b], i);
        }
        if (!nrules) {
            failf(rn, line, "no rule %s in mappings/NAME.yaml", lines[0]);
            return;
        }
    }
    const ps_rule *rule = rules[0];
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
    struct fy_document *json = fy_document_build_from_string(&cfg, lines[1], strlen(lines[1]));
    if (!json || !fy_node_is_mapping(fy_document_root(json))) {
        failf(rn, line + 1, "the document is not a JSON object");
        fy_document_destroy(json);
        ps_ruleset_free(own_set);
        return;
    }
    ps_document *docs[8] = {0};
    size_t ndocs = ps_rule_namespace_count(rule);
    ps_status st = PS_OK;
    if (ndocs == 0) {
        docs[0] = json_document(fy_document_root(json), "test");
        ndocs = 1;
        for (size_t i = 0; i < nrules && st == PS_OK; i++)
            st = ps_rule_eval(rules[i], docs[0], &err);
    } else {
        for (size_t i = 0; i < ndocs && i < 8; i++) {
            struct fy_node *o =
                fy_node_mapping_lookup_by_string(fy_document_root(json), ps_rule_namespace(rule, i), FY_NT);
            docs[i] = o ? json_document(o, ps_rule_namespace(rule, i))
                        : ps_document_new(ps_rule_namespace(rule, i), "t", "t.xls", "S");
        }
        for (size_t i = 0; i < nrules && st == PS_OK; i++)
            st = ps_rule_eval_cross(rules[i], docs, ndocs, &err);
    }
    if (st != PS_OK)
        failf(rn, line, "evaluation failed: %s", err.message);
    /* every finding of every document, in document order */
    size_t want = 0;
    for (size_t i = 2; i < n; i++)
        if (strcmp(lines[i], "ok") != 0)
            want++;
    size_t got = 0;
    for (size_t d = 0; d < ndocs; d++)
        got += ps_findings_count(ps_document_findings(docs[d]));
    if (got != want)
        failf(rn, line, "%s: expected %zu findings, got %zu", ps_rule_id(rule), want, got);
    size_t k = 2;
    for (size_t d = 0; d < ndocs; d++) {
        const ps_findings *fs = ps_document_findings(docs[d]);
        for (size_t i = 0; i < ps_findings_count(fs); i++) {
            const ps_finding *f = ps_findings_at(fs, i);
            char have[2048];
            snprintf(have, sizeof have, "%s %s%s%s%s", ps_severity_name(f->severity), f->cell ? "@" : "",
                     f->cell ? f->cell : "", f->cell ? " " : "", f->message);
            while (k < n && !strcmp(lines[k], "ok"))
                k++;
            if (k >= n) {
                failf(rn, line, "unexpected finding: %s", have);
                continue;
            }
            /* the expected line may leave out the cell */
            const char *w = lines[k];
            bool ok = !strcmp(w, have);
            if (!ok && !strchr(w, '@')) {
                char nocell[2048];
                snprintf(nocell, sizeof nocell, "%s %s", ps_severity_name(f->severity), f->message);
                ok = !strcmp(w, nocell);
            }
            if (!ok)
                failf(rn, line + (int)k, "finding differs\n  want: %s\n  have: %s", w, have);
            k++;
        }
    }
    for (size_t d = 0; d < ndocs; d++)
        ps_document_free(docs[d]);
    fy_document_destroy(json);
    ps_ruleset_free(own_set);
}

static void run_syntax_case(runner *rn, int line, char **lines, size_t n)
{
    rn->cases++;
    if (n != 2) {
        failf(rn, line, "a syntax case is a rule line and a `line:col: message` line");
        return;
    }
    ps_error err = {0};
    ps_origin o = {NULL, 0, 0};
    ps_rule *r = ps_rule_compile("syntax", lines[0], o, &err);
    if (r) {
        failf(rn, line, "compiled, but should fail with %s", lines[1]);
        ps_rule_free(r);
        return;
    }
    char have[700];
    snprintf(have, sizeof have, "%d:%d: %s", err.line, err.col, err.message);
    if (strcmp(have, lines[1]) != 0)
        failf(rn, line + 1, "syntax error differs\n  want: %s\n  have: %s", lines[1], have);
}

static void run_load_case(runner *rn, int line, char **lines, size_t n)
{
    rn->cases++;
    if (n < 2) {
        failf(rn, line, "a load case is a mapping file and a `line:col: message` (or ok) line");
        return;
    }
    char text[8192];
    size_t o = 0;
    for (size_t i = 0; i + 1 < n; i++)
        o += (size_t)snprintf(text + o, o < sizeof text ? sizeof text - o : 0, "%s\n", lines[i]);
    if (o >= sizeof text) {
        failf(rn, line, "mapping too long");
        return;
    }
    ps_error err = {0};
    ps_mapping *m = NULL;
    ps_status st = ps_mapping_load_text("m.yaml", text, o, &m, &err);
    const char *want = lines[n - 1];
    if (st == PS_OK) {
        if (strcmp(want, "ok") != 0)
            failf(rn, line, "loaded, but should fail with %s", want);
        ps_mapping_free(m);
        return;
    }
    char have[700];
    snprintf(have, sizeof have, "%d:%d: %s", err.line, err.col, err.message);
    if (strcmp(have, want) != 0)
        failf(rn, line + (int)n - 1, "load error differs\n  want: %s\n  have: %s", want, have);
}

typedef enum case_mode { EVAL, SYNTAX, LOAD } case_mode;

static void run_case(case_mode mode, runner *rn, int line, char **lines, size_t n)
{
    if (mode == EVAL)
        run_eval_case(rn, line, lines, n);
    else if (mode == SYNTAX)
        run_syntax_case(rn, line, lines, n);
    else
        run_load_case(rn, line, lines, n);
}

/* Runs the cases of text (a .test file, or the ```test blocks of a markdown file). */
static void run_text(runner *rn, char *text, bool markdown)
{
    case_mode mode = EVAL;
    char *lines[64];
    size_t n = 0;
    int start = 0, lineno = 0;
    bool in_block = !markdown;
    char *save = NULL;
    /* keep empty lines: split by hand */
    (void)save;
    for (char *s = text; s && *s;) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *l = s;
        s = nl ? nl + 1 : NULL;
        size_t len = strlen(l);
        if (len && l[len - 1] == '\r')
            l[--len] = '\0';
        if (markdown && !strncmp(l, "```", 3)) {
            bool opening = !in_block && !strcmp(l, "```test");
            bool closing = in_block;
            if (closing || opening) {
                if (n)
                    run_case(mode, rn, start, lines, n);
                n = 0;
                mode = EVAL;
                in_block = opening;
            }
            continue;
        }
        if (!in_block)
            continue;
        if (l[0] == '#' && n == 0)
            continue;
        if (!strcmp(l, "%%SYNTAX") || !strcmp(l, "%%EVAL") || !strcmp(l, "%%LOAD")) {
            if (n)
                run_case(mode, rn, start, lines, n);
            n = 0;
            mode = l[2] == 'S' ? SYNTAX : l[2] == 'L' ? LOAD : EVAL;
            continue;
        }
        if (len == 0) {
            if (n)
                run_case(mode, rn, start, lines, n);
            n = 0;
            continue;
        }
        if (n == 0)
            start = lineno;
        if (n < 64)
            lines[n++] = l;
    }
    if (n)
        run_case(mode, rn, start, lines, n);
}

static void test_rule_files(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob("tests/rules/*.test", 0, NULL, &g), 0);
    int failures = 0, cases = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        size_t len;
        char *text = slurp(g.gl_pathv[i], &len);
        assert_non_null(text);
        runner rn = {g.gl_pathv[i], 0, 0};
        run_text(&rn, text, false);
        print_message("%s: %d cases, %d failures\n", g.gl_pathv[i], rn.cases, rn.failures);
        failures += rn.failures;
        cases += rn.cases;
        free(text);
    }
    globfree(&g);
    assert_true(cases >= 40);
    assert_int_equal(failures, 0);
}

static void test_docs_examples(void **state)
{
    (void)state;
    size_t len;
    char *text = slurp("docs/rules.md", &len);
    assert_non_null(text);
    runner rn = {"docs/rules.md", 0, 0};
    run_text(&rn, text, true);
    print_message("docs/rules.md: %d cases, %d failures\n", rn.cases, rn.failures);
    free(text);
    assert_true(rn.cases >= 5);
    assert_int_equal(rn.failures, 0);
    /* the ```test blocks of docs/mapping.md (what loading refuses, layouts) */
    text = slurp("docs/mapping.md", &len);
    assert_non_null(text);
    runner rm = {"docs/mapping.md", 0, 0};
    run_text(&rm, text, true);
    print_message("docs/mapping.md: %d cases, %d failures\n", rm.cases, rm.failures);
    free(text);
    assert_true(rm.cases >= 3);
    assert_int_equal(rm.failures, 0);
    /* docs/juesuan.md: the built-in juesuan's hierarchy rule */
    text = slurp("docs/juesuan.md", &len);
    assert_non_null(text);
    runner rj = {"docs/juesuan.md", 0, 0};
    run_text(&rj, text, true);
    print_message("docs/juesuan.md: %d cases, %d failures\n", rj.cases, rj.failures);
    free(text);
    assert_true(rj.cases >= 1);
    assert_int_equal(rj.failures, 0);
}

/* Every rule of spec/checks.md is in the mapping files. */
static void test_every_rule_present(void **state)
{
    (void)state;
    static const char *const ids[] = {"jcsj.control_rate",
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
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        print_message("rule %s\n", ids[i]);
        assert_non_null(find_builtin(ids[i]));
    }
}

static void test_caret(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        int col, width;
        const char *want;
    } rows[] = {
        {"funds.rate = funds.executed /", 29, 1,
         "funds.rate = funds.executed /\n                            ^"},
        {"a = b", 1, 3, "a = b\n^~~"},
        {"年度 = x", 4, 1, "年度 = x\n     ^"},                     /* two CJK characters are four columns */
        {"  type: 分数, x", 9, 2, "  type: 分数, x\n        ^~~~"}, /* the culprit's own CJK width */
        {"f(年度x)", 3, 3, "f(年度x)\n  ^~~~~"},
        {"ab", 2, 3, "ab\n ^~~"},      /* past the end of the line: one column a character */
        {"a = b", 3, 0, "a = b\n  ^"}, /* span unknown */
        {"\tx = (", 6, 1, "\tx = (\n\t    ^"},
        {"", 1, 1, "\n^"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[256];
        size_t need = ps_rule_caret(rows[i].line, rows[i].col, rows[i].width, buf, sizeof buf);
        print_message("row %zu: %s\n", i, buf);
        assert_string_equal(buf, rows[i].want);
        assert_int_equal(need, strlen(rows[i].want));
    }
    char small[8];
    size_t need = ps_rule_caret("abcdefghij", 5, 1, small, sizeof small);
    assert_int_equal(need, strlen("abcdefghij\n    ^"));
    assert_int_equal(strlen(small), 7);
}

/* 10,000 nested parentheses, a 10,000-term sum and 10,000 minus signs end in a clean error
 * or a result, never a stack overflow. */
static void test_limits(void **state)
{
    (void)state;
    size_t n = 10000;
    char *deep = malloc(2 * n + 2);
    memset(deep, '(', n);
    deep[n] = '1';
    memset(deep + n + 1, ')', n);
    deep[2 * n + 1] = '\0';
    ps_error err = {0};
    ps_origin o = {"x.yaml", 3, 12};
    ps_rule *r = ps_rule_compile("deep", deep, o, &err);
    assert_null(r);
    assert_int_equal(err.code, PS_ERR_RULE_SYNTAX);
    assert_string_equal(err.message, "规则过长（超过 8192 字节）");
    deep[2 * 4000 + 1] = '\0'; /* 4000 ( then 1 then ) … within the length limit */
    memset(deep, '(', 4000);
    deep[4000] = '1';
    memset(deep + 4001, ')', 4000);
    r = ps_rule_compile("deep", deep, o, &err);
    assert_null(r);
    assert_int_equal(err.code, PS_ERR_RULE_SYNTAX);
    assert_string_equal(err.message, "表达式嵌套过深（超过 128 层）");
    assert_int_equal(err.line, 3);
    assert_true(err.col > 12 && err.col < 12 + 200);
    memset(deep, '-', 4000);
    deep[4000] = '1';
    deep[4001] = '\0';
    r = ps_rule_compile("neg", deep, o, &err);
    assert_null(r);
    assert_string_equal(err.message, "表达式嵌套过深（超过 128 层）");
    /* a flat sum is a deep tree as well (evaluation recurses its length): 100 terms are
     * fine, 2000 a clean error at the operator past the limit */
    size_t k = 0;
    for (int i = 0; i < 100; i++)
        k += (size_t)sprintf(deep + k, "%s1", i ? "+" : "");
    r = ps_rule_compile("flat", deep, o, &err);
    assert_non_null(r);
    ps_rule_free(r);
    k = 0;
    for (int i = 0; i < 2000; i++)
        k += (size_t)sprintf(deep + k, "%s1", i ? "+" : "");
    r = ps_rule_compile("flat", deep, o, &err);
    assert_null(r);
    assert_string_equal(err.message, "表达式嵌套过深（超过 128 层）");
    assert_int_equal(err.col, 12 + 2 * 128 - 1); /* the 128th "+" */
    free(deep);
}

/* Mutated rule texts (bytes inserted, deleted, replaced in real checks) compile or fail
 * cleanly, and those that compile evaluate on a document without crashing (ASan/UBSan). */
static void test_mutated_rules(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        ("three_public.{c} = COALESCE(vehicle.{c}, vehicle_purchase.{c} + vehicle_operation.{c}) + "
         "reception.{c}"),
        "w = SUM(indicators[].weight WHERE level1 = \"产出指标\") AND COUNT(indicators[]) > 0",
        "grade = IF(total.score >= 90, \"优秀\", total.score >= 80, \"良好\", \"差\") OR NOT PRESENT(x)",
        "MATCHES(DIGITS(year), \"^[0-9]{4}$\") AND year >= 2000 AND year <= THIS_YEAR()",
        "jcsj:basic_expense.final = zpb:expense.basic * (1 - -2) / ROUND(a, 2) ≤ ABS(MIN(t[].x))",
    };
    static const char alphabet[] = "()+-*/=<>!,.\"'[]{}: aZ09_%\xE2\x89\xA4\xEF\xBC\x88";
    uint32_t rng = 12345;
    ps_document *doc = ps_document_new("t", "m", "f.xls", "S");
    ps_value v = ps_value_number(PS_TYPE_MONEY, 1.5, 3, 2);
    ps_document_set(doc, "a", &v);
    ps_document_set(doc, "year", &v);
    ps_table *t = ps_document_add_table(doc, "t");
    for (int i = 0; i < 5; i++) {
        size_t r = ps_table_add_row(t);
        ps_table_set(t, r, "x", &v);
    }
    int compiled = 0;
    for (int iter = 0; iter < 20000; iter++) {
        const char *seed = seeds[iter % 5];
        char buf[512];
        size_t n = strlen(seed);
        memcpy(buf, seed, n + 1);
        int edits = 1 + (int)((rng = rng * 1103515245u + 12345u) >> 16) % 4;
        for (int e = 0; e < edits && n > 0 && n < sizeof buf - 2; e++) {
            rng = rng * 1103515245u + 12345u;
            size_t at = (rng >> 8) % n;
            char ch = alphabet[(rng >> 20) % (sizeof alphabet - 1)];
            switch ((rng >> 4) % 3) {
            case 0:
                memmove(buf + at + 1, buf + at, n - at + 1);
                buf[at] = ch;
                n++;
                break;
            case 1:
                memmove(buf + at, buf + at + 1, n - at);
                n--;
                break;
            default: buf[at] = ch; break;
            }
        }
        ps_error err = {0};
        ps_origin o = {"m.yaml", 7, 12};
        ps_rule *r = ps_rule_compile("m", buf, o, &err);
        if (!r) {
            assert_true(err.code == PS_ERR_RULE_SYNTAX);
            assert_true(err.line >= 7 && err.col >= 1 && err.message[0]);
            continue;
        }
        compiled++;
        assert_int_equal(ps_rule_eval(r, doc, &err), PS_OK);
        ps_rule_free(r);
    }
    print_message("%d of 20000 mutated rules compiled\n", compiled);
    assert_true(compiled > 100);
    ps_document_free(doc);
}

/* each: by a column over a table of 50,000 rows with distinct values ends (grouping sorts) and
 * reports every group. */
static void test_big_groups(void **state)
{
    (void)state;
    const char *yaml = "- {id: g, each: t by k, check: \"t[].w = SUM(t[].x)\", message: \"{t[].k}\"}\n";
    ps_ruleset *rs = NULL;
    ps_error err = {0};
    assert_int_equal(ps_ruleset_from_string(yaml, strlen(yaml), "m.yaml", &rs, &err), PS_OK);
    ps_document *doc = ps_document_new("t", "m", "f.xls", "S");
    ps_table *t = ps_document_add_table(doc, "t");
    for (int i = 0; i < 50000; i++) {
        size_t r = ps_table_add_row(t);
        char k[32];
        snprintf(k, sizeof k, "k%d", i / 2);
        ps_value kv = {.type = PS_TYPE_TEXT, .text = k, .row = (uint32_t)i, .col = 0, .decimals = 255};
        ps_value w = ps_value_number(PS_TYPE_NUMBER, 2, (uint32_t)i, 1),
                 x = ps_value_number(PS_TYPE_NUMBER, 1, (uint32_t)i, 2);
        ps_table_set(t, r, "k", &kv);
        if (i % 2 == 0)
            ps_table_set(t, r, "w", &w);
        ps_table_set(t, r, "x", &x);
    }
    /* one group in 1000 is wrong */
    for (int i = 0; i < 50000; i += 2000) {
        ps_value w = ps_value_number(PS_TYPE_NUMBER, 3, (uint32_t)i, 1);
        ps_table_set(t, (size_t)i, "w", &w);
    }
    assert_int_equal(ps_rule_eval(ps_ruleset_at(rs, 0), doc, &err), PS_OK);
    const ps_findings *fs = ps_document_findings(doc);
    assert_int_equal(ps_findings_count(fs), 25);
    assert_string_equal(ps_findings_at(fs, 0)->message, "k0");
    assert_string_equal(ps_findings_at(fs, 0)->cell, "B1");
    assert_string_equal(ps_findings_at(fs, 1)->message, "k1000");
    ps_document_free(doc);
    ps_ruleset_free(rs);
}

/* A finding's cells: the left-hand side first, then every other input in reading order, each
 * once; expected and actual as numbers. */
static void test_cells(void **state)
{
    (void)state;
    const char *yaml = "- {id: c, check: \"f = e / d + SUM(t[].x) - e\", message: m}\n";
    ps_ruleset *rs = NULL;
    ps_error err = {0};
    assert_int_equal(ps_ruleset_from_string(yaml, strlen(yaml), "m.yaml", &rs, &err), PS_OK);
    ps_document *doc = ps_document_new("t", "m", "f.xls", "自评表");
    ps_value f = ps_value_number(PS_TYPE_FRACTION, 1, 5, 5), e = ps_value_number(PS_TYPE_MONEY, 3, 5, 4),
             d = ps_value_number(PS_TYPE_MONEY, 4, 5, 3), x = ps_value_number(PS_TYPE_MONEY, 1, 9, 7);
    ps_document_set(doc, "f", &f);
    ps_document_set(doc, "e", &e);
    ps_document_set(doc, "d", &d);
    ps_table *t = ps_document_add_table(doc, "t");
    ps_table_set(t, ps_table_add_row(t), "x", &x);
    assert_int_equal(ps_rule_eval(ps_ruleset_at(rs, 0), doc, &err), PS_OK);
    const ps_findings *fs = ps_document_findings(doc);
    assert_int_equal(ps_findings_count(fs), 1);
    const ps_finding *fd = ps_findings_at(fs, 0);
    assert_string_equal(fd->cell, "F6");
    assert_string_equal(fd->file, "f.xls");
    assert_string_equal(fd->sheet, "自评表");
    assert_int_equal(fd->ncells, 4);
    assert_string_equal(fd->cells[0], "F6");
    assert_string_equal(fd->cells[1], "E6");
    assert_string_equal(fd->cells[2], "D6");
    assert_string_equal(fd->cells[3], "H10");
    assert_int_equal(fd->expected.kind, PS_SCALAR_NUMBER);
    assert_true(fabs(fd->expected.number - -1.25) < 1e-12); /* 3/4 + 1 - 3 */
    assert_int_equal(fd->actual.kind, PS_SCALAR_NUMBER);
    assert_true(fabs(fd->actual.number - 1) < 1e-12);
    ps_document_free(doc);
    ps_ruleset_free(rs);
}

/* YAML anchors, aliases and merge keys in a mapping's rules: a template written once. */
static void test_rule_anchors(void **state)
{
    (void)state;
    const char *yaml = "id: t\n"
                       "fields:\n"
                       "  - {key: a, type: number, at: B2}\n"
                       "  - {key: b, type: number, at: C2}\n"
                       "rules:\n"
                       "  - &nonneg\n"
                       "    id: t.nonneg\n"
                       "    check: a >= 0\n"
                       "    severity: warning\n"
                       "    message: 不应为负\n"
                       "  - <<: *nonneg\n"
                       "    check: b >= 0\n"
                       "  - *nonneg\n";
    ps_mapping *m = NULL;
    ps_error err = {0};
    assert_int_equal(ps_mapping_load_text("m.yaml", yaml, strlen(yaml), &m, &err), PS_OK);
    const ps_ruleset *rs = ps_mapping_rules(m);
    assert_int_equal(ps_ruleset_count(rs), 3);
    ps_document *doc = ps_document_new("t", "m", "f.xls", "表");
    ps_value a = ps_value_number(PS_TYPE_NUMBER, 1, 1, 1), b = ps_value_number(PS_TYPE_NUMBER, -2, 1, 2);
    ps_document_set(doc, "a", &a);
    ps_document_set(doc, "b", &b);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(ps_rule_eval(ps_ruleset_at(rs, i), doc, &err), PS_OK);
    const ps_findings *fs = ps_document_findings(doc);
    assert_int_equal(ps_findings_count(fs), 1); /* only the merged rule, on b */
    const ps_finding *fd = ps_findings_at(fs, 0);
    assert_string_equal(fd->rule, "t.nonneg");
    assert_int_equal(fd->severity, PS_SEV_WARNING);
    assert_string_equal(fd->cell, "C2");
    assert_string_equal(fd->message, "不应为负");
    a = ps_value_number(PS_TYPE_NUMBER, -1, 1, 1);
    ps_document_set(doc, "a", &a);
    assert_int_equal(ps_rule_eval(ps_ruleset_at(rs, 2), doc, &err), PS_OK); /* the plain alias */
    assert_int_equal(ps_findings_count(fs), 2);
    assert_string_equal(ps_findings_at(fs, 1)->cell, "B2");
    ps_document_free(doc);
    ps_mapping_free(m);
}

/* A rule list from a string (tests, fuzz_rules) resolves anchors and merge keys as a mapping
 * file does, with the same alias-bomb limit and a located error; both paths share the code. */
static void test_ruleset_string_anchors(void **state)
{
    (void)state;
    const char *yaml = "rules:\n"
                       "  - &base\n"
                       "    id: t.nonneg\n"
                       "    check: a >= 0\n"
                       "    severity: warning\n"
                       "    message: \"{id} 不应为负\"\n"
                       "  - <<: *base\n"
                       "    id: t.nonneg_b\n"
                       "    check: b >= 0\n";
    ps_ruleset *rs = NULL;
    ps_error err = {0};
    assert_int_equal(ps_ruleset_from_string(yaml, strlen(yaml), "r.yaml", &rs, &err), PS_OK);
    assert_int_equal(ps_ruleset_count(rs), 2);
    ps_document *doc = ps_document_new("t", "m", "f.xls", "表");
    ps_value a = ps_value_number(PS_TYPE_NUMBER, 1, 1, 1), b = ps_value_number(PS_TYPE_NUMBER, -2, 1, 2);
    ps_document_set(doc, "a", &a);
    ps_document_set(doc, "b", &b);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(ps_rule_eval(ps_ruleset_at(rs, i), doc, &err), PS_OK);
    const ps_findings *fs = ps_document_findings(doc);
    assert_int_equal(ps_findings_count(fs), 1); /* the merged rule, with the base's severity and message */
    assert_string_equal(ps_findings_at(fs, 0)->rule, "t.nonneg_b");
    assert_int_equal(ps_findings_at(fs, 0)->severity, PS_SEV_WARNING);
    assert_string_equal(ps_findings_at(fs, 0)->cell, "C2");
    assert_string_equal(ps_findings_at(fs, 0)->message, "t.nonneg_b 不应为负");
    ps_document_free(doc);
    ps_ruleset_free(rs);

    /* a billion laughs: 10^7 nodes once expanded, refused at the alias that runs out, the same
     * way by both entry points (a mapping file and a rule list) */
    char bomb[2048];
    size_t o = (size_t)snprintf(bomb, sizeof bomb, "id: t\nx0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n");
    for (int i = 1; i <= 6; i++)
        o += (size_t)snprintf(bomb + o, sizeof bomb - o,
                              "x%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
                              "*a%d, *a%d, *a%d]\n",
                              i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    o +=
        (size_t)snprintf(bomb + o, sizeof bomb - o, "rules:\n  - {id: t.x, check: \"a >= 0\", message: m}\n");
    rs = NULL;
    assert_int_equal(ps_ruleset_from_string(bomb, o, "r.yaml", &rs, &err), PS_ERR_MAPPING);
    assert_null(rs);
    assert_string_equal(err.file, "r.yaml");
    assert_string_equal(err.message, "不是有效的 YAML：锚点与别名展开后超过 200000 个节点");
    assert_int_equal(err.line, 7); /* x5: the level that passes 200,000, at its first alias */
    assert_int_equal(err.col, 11);
    ps_mapping *m = NULL;
    ps_error merr = {0};
    assert_int_equal(ps_mapping_load_text("r.yaml", bomb, o, &m, &merr), PS_ERR_MAPPING);
    assert_string_equal(merr.message, err.message);
    assert_int_equal(merr.line, err.line);
    assert_int_equal(merr.col, err.col);

    /* a merge key naming no anchor: located too */
    const char *dangling = "- <<: *nope\n  id: t.x\n  check: a >= 0\n  message: x\n";
    assert_int_equal(ps_ruleset_from_string(dangling, strlen(dangling), "r.yaml", &rs, &err), PS_ERR_MAPPING);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.col, 8); /* as a mapping file says it (tests/rules/language.test) */
    assert_string_equal(err.message, "不是有效的 YAML：invalid merge key value");
}

/* at: moves the finding's cell; the left-hand cell stays in its cells. */
static void test_at_cells(void **state)
{
    (void)state;
    const char *yaml = "- {id: c, check: \"a <= b\", at: b, message: m}\n";
    ps_ruleset *rs = NULL;
    ps_error err = {0};
    assert_int_equal(ps_ruleset_from_string(yaml, strlen(yaml), "m.yaml", &rs, &err), PS_OK);
    ps_document *doc = ps_document_new("t", "m", "f.xls", "表");
    ps_value a = ps_value_number(PS_TYPE_NUMBER, 5, 4, 2), b = ps_value_number(PS_TYPE_NUMBER, 3, 4, 3);
    ps_document_set(doc, "a", &a);
    ps_document_set(doc, "b", &b);
    assert_int_equal(ps_rule_eval(ps_ruleset_at(rs, 0), doc, &err), PS_OK);
    const ps_findings *fs = ps_document_findings(doc);
    assert_int_equal(ps_findings_count(fs), 1);
    const ps_finding *fd = ps_findings_at(fs, 0);
    assert_string_equal(fd->cell, "D5");
    assert_int_equal(fd->ncells, 2);
    assert_string_equal(fd->cells[0], "D5");
    assert_string_equal(fd->cells[1], "C5");
    assert_true(fabs(fd->expected.number - 3) < 1e-12);
    assert_true(fabs(fd->actual.number - 5) < 1e-12);
    ps_document_free(doc);
    ps_ruleset_free(rs);
}

/* A blank left-hand side in a table row points at its cell (kept by the extraction as
 * "<table>[<row>].<column>"), and expected/actual carry the cell's precision. */
static void test_finding_cell_and_precision(void **state)
{
    (void)state;
    const char *yaml =
        "- {id: r, each: t, check: \"t[].total = t[].a + t[].b\", message: \"{expected:money}\"}\n"
        "- {id: q, check: \"rate = x / y\", tolerance: rate, message: m}\n"
        "- {id: s, check: \"sum = x + y + z\", message: m}\n";
    ps_ruleset *rs = NULL;
    ps_error err = {0};
    assert_int_equal(ps_ruleset_from_string(yaml, strlen(yaml), "m.yaml", &rs, &err), PS_OK);
    ps_document *doc = ps_document_new("t", "m", "f.xls", "S");
    ps_table *t = ps_document_add_table(doc, "t");
    ps_value a = ps_value_number(PS_TYPE_MONEY, 1.25, 8, 1), b = ps_value_number(PS_TYPE_MONEY, 2.5, 8, 2);
    size_t r0 = ps_table_add_row(t);
    ps_table_set(t, r0, "a", &a);
    ps_table_set(t, r0, "b", &b);
    assert_true(ps_document_set_blank_cell(doc, "t[0].total", 8, 3)); /* D9 is blank */
    ps_value x = ps_value_number(PS_TYPE_MONEY, 6866.93, 2, 1),
             y = ps_value_number(PS_TYPE_MONEY, 7000, 2, 2);
    ps_value z = ps_value_number(PS_TYPE_MONEY, 0.01, 2, 3);
    ps_value rate = ps_value_number(PS_TYPE_FRACTION, 1, 2, 4);
    rate.decimals = 0; /* shown as 100% */
    ps_value sum = ps_value_number(PS_TYPE_MONEY, 1, 2, 5);
    ps_document_set(doc, "x", &x);
    ps_document_set(doc, "y", &y);
    ps_document_set(doc, "z", &z);
    ps_document_set(doc, "rate", &rate);
    ps_document_set(doc, "sum", &sum);
    for (size_t i = 0; i < ps_ruleset_count(rs); i++)
        assert_int_equal(ps_rule_eval(ps_ruleset_at(rs, i), doc, &err), PS_OK);
    const ps_findings *fs = ps_document_findings(doc);
    assert_int_equal(ps_findings_count(fs), 3);
    const ps_finding *f = ps_findings_at(fs, 0);
    assert_string_equal(f->rule, "r");
    assert_non_null(f->cell); /* the blank total of the row: its cell, not none */
    assert_string_equal(f->cell, "D9");
    assert_string_equal(f->message, "3.75");
    f = ps_findings_at(fs, 1); /* 6866.93 / 7000 = 0.98099: a rate to 2 decimals of percent */
    assert_string_equal(f->cell, "E3");
    assert_true(f->expected.number == 0.981);
    f = ps_findings_at(fs, 2); /* 6866.93 + 7000 + 0.01 is 13866.939999999999 in binary */
    assert_string_equal(f->cell, "F3");
    assert_true(f->expected.number == 13866.94);
    assert_true(f->actual.number == 1);
    ps_document_free(doc);
    ps_ruleset_free(rs);
}

/* Errors in a mapping file's rules: section point at file:line:column of the culprit. */
static void test_yaml_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        int line, col;
        ps_status code;
        const char *msg;
    } rows[] = {
        {"rules:\n  - id: a\n    check: funds.rate = funds.executed /\n    message: x\n", 3, 40,
         PS_ERR_RULE_SYNTAX, "“/” 后缺少数值"},
        {"rules:\n  - id: a\n    check: \"a = SUM(b)\"\n    message: x\n", 3, 21, PS_ERR_RULE_SYNTAX,
         "SUM 的参数应为表列，如 projects[].final"},
        {"rules:\n  - id: a\n    chek: a = b\n    message: x\n", 3, 5, PS_ERR_MAPPING,
         "未知的规则键 “chek”。您是不是要写 “check”？"},
        {"rules:\n  - id: a\n    check: a = b\n    severity: fatal\n    message: x\n", 4, 15, PS_ERR_MAPPING,
         "severity 应为 error、warning 或 info"},
        {"rules:\n  - id: a\n    check: a = b\n", 2, 5, PS_ERR_MAPPING, "规则 a 缺少 message"},
        {"rules:\n  - id: a\n    check: a = b\n    message: \"{actual:pct}\"\n", 4, 23, PS_ERR_MAPPING,
         "消息中的格式 “pct” 无效（可用 money、percent、num、int、text、raw）"},
        {"rules:\n  - id: a\n    for: c of x, y\n    check: a = b\n    message: x\n", 3, 10, PS_ERR_MAPPING,
         "for: 应写成 “变量 in 值1, 值2, …”（多个变量用 “;” 分开）"},
        {"rules:\n  - id: a\n    for: {k: [a, b], l: [x]}\n    check: a = b\n    message: x\n", 3, 26,
         PS_ERR_MAPPING, "for: 变量 l 的值个数与前一个变量不同"},
        {"rules: 5\n", 1, 8, PS_ERR_MAPPING, "rules: 应为规则列表（每项以 “- id:” 开始）"},
        {"rules:\n  - id: a\n    check: projects[].final >= 0\n    message: x\n", 3, 12, PS_ERR_RULE_SYNTAX,
         "表列 projects[].final 只能用在 SUM/COUNT/MIN/MAX 中，或用在 each: 该表的规则里"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ps_error err = {0};
        ps_ruleset *rs = NULL;
        ps_status st = ps_ruleset_from_string(rows[i].yaml, strlen(rows[i].yaml), "m.yaml", &rs, &err);
        print_message("row %zu: %s:%d:%d: %s\n", i, err.file, err.line, err.col, err.message);
        assert_null(rs);
        assert_int_equal(st, rows[i].code);
        assert_string_equal(err.file, "m.yaml");
        assert_int_equal(err.line, rows[i].line);
        assert_int_equal(err.col, rows[i].col);
        assert_string_equal(err.message, rows[i].msg);
    }
    /* and a good one */
    const char *ok = "rules:\n  - {id: a, check: a = b, message: x}\n  - {id: a, check: c = d, message: y}\n";
    ps_error err = {0};
    ps_ruleset *rs = NULL;
    assert_int_equal(ps_ruleset_from_string(ok, strlen(ok), "m.yaml", &rs, &err), PS_OK);
    assert_int_equal(ps_ruleset_count(rs), 2);
    assert_string_equal(ps_rule_id(ps_ruleset_find(rs, "a")), "a");
    ps_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_files),
        cmocka_unit_test(test_docs_examples),
        cmocka_unit_test(test_every_rule_present),
        cmocka_unit_test(test_caret),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_rule_anchors),
        cmocka_unit_test(test_ruleset_string_anchors),
        cmocka_unit_test(test_at_cells),
        cmocka_unit_test(test_finding_cell_and_precision),
        cmocka_unit_test(test_mutated_rules),
        cmocka_unit_test(test_big_groups),
    };
    return cmocka_run_group_tests(tests, load_builtin, free_builtin);
}
