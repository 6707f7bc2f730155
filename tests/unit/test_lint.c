/* test_lint.c - runs the lint cases of tests/lint/NAME.yaml and the ```lint blocks of
 * docs/lint.md (the same format), then lints the built-in mappings (nothing to say) and, when
 * samples/ is there, measures their coverage.
 *
 * Case format: a mapping file whose leading comment holds the expected findings, one per line
 * after `# expect:`, as perfsheet lint prints them without the file name:
 *   # expect:
 *   # 16:12: 警告 [lint.implied_value] t.sum4: 与 t.sum3（第 13 行「a = b + c」）同时要求，…
 * or `# expect: clean`. The mapping is linted with the built-in ones (-m DIR holding only it);
 * what is said about the built-in files alone, and coverage, is not part of a case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfsheet/document.h"
#include "perfsheet/lint.h"
#include "perfsheet/rules.h"

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

static const char *severity_word(ps_severity s)
{
    return s == PS_SEV_ERROR ? "错误" : s == PS_SEV_WARNING ? "警告" : "信息";
}

/* One finding as the expected lines write it: the mapping's path left out when it is path. */
static void finding_line(const ps_lint_finding *f, const char *path, char *buf, size_t size)
{
    char where[600] = "";
    if (strcmp(f->file, path) != 0)
        snprintf(where, sizeof where, "%s%s", f->file, f->line > 0 ? ":" : ": ");
    char pos[32] = "";
    if (f->line > 0)
        snprintf(pos, sizeof pos, "%d:%d: ", f->line, f->col);
    char rule[300] = "";
    if (f->rule)
        snprintf(rule, sizeof rule, "%s%s%s%s: ", f->rule, f->instance ? "[" : "",
                 f->instance ? f->instance : "", f->instance ? "]" : "");
    snprintf(buf, size, "%s%s%s [%s] %s%s", where, pos, severity_word(f->severity),
             ps_lint_kind_name(f->kind), rule, f->message);
}

/* The expected lines of a case text (after "# expect:"), each without "# "; *clean when the
 * case says `# expect: clean`. Returns how many; lines point into text (modified). */
static size_t expected_lines(char *text, char **lines, size_t max, bool *clean, bool *found)
{
    size_t n = 0;
    *clean = *found = false;
    bool in = false;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "# expect:", 9) == 0) {
            *found = in = true;
            *clean = strstr(line + 9, "clean") != NULL;
            continue;
        }
        if (!in)
            continue;
        if (strncmp(line, "# ", 2) != 0 || line[2] == ' ' || line[2] == '\0')
            break;
        if (n < max)
            lines[n++] = line + 2;
    }
    return n;
}

/* Lints the mapping text as the only file of a temporary -m directory and compares. */
static void run_case(const char *name, const char *yaml, size_t len)
{
    char dir[] = "/tmp/ps_lint_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[600];
    snprintf(path, sizeof path, "%s/case.yaml", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(yaml, 1, len, f), len);
    fclose(f);

    ps_lint_options opt = {.mapping_dir = dir, .limits = ps_reader_default_limits()};
    ps_lint_report *rep = NULL;
    ps_error err;
    ps_status st = ps_lint_run(&opt, &rep, &err);
    unlink(path);
    rmdir(dir);
    assert_int_equal(st, PS_OK);

    char *text = malloc(len + 1);
    assert_non_null(text);
    memcpy(text, yaml, len);
    text[len] = '\0';
    char *want[64];
    bool clean, found;
    size_t nwant = expected_lines(text, want, 64, &clean, &found);
    if (!found)
        fail_msg("%s: no `# expect:` section", name);
    if (!clean && nwant == 0)
        fail_msg("%s: `# expect:` lists no finding and does not say clean", name);

    size_t got = 0;
    bool bad = false;
    for (size_t i = 0; i < ps_lint_count(rep); i++) {
        const ps_lint_finding *lf = ps_lint_at(rep, i);
        if (lf->kind == PS_LINT_COVERAGE || (lf->kind != PS_LINT_LOAD && strcmp(lf->file, path) != 0))
            continue; /* about the built-in mappings alone: test_builtin_clean's to say */
        char line[3000];
        finding_line(lf, path, line, sizeof line);
        if (got >= nwant || strcmp(line, want[got]) != 0) {
            print_message("%s: finding %zu\n  got:  %s\n  want: %s\n", name, got + 1, line,
                          got < nwant ? want[got] : "(none)");
            bad = true;
        }
        got++;
    }
    if (got < nwant) {
        print_message("%s: %zu findings, %zu expected; first missing: %s\n", name, got, nwant, want[got]);
        bad = true;
    }
    free(text);
    ps_lint_report_free(rep);
    if (bad)
        fail_msg("%s: lint findings differ from the expected ones", name);
}

static void test_lint_cases(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob("tests/lint/*.yaml", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 8);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        size_t len;
        char *yaml = slurp(g.gl_pathv[i], &len);
        assert_non_null(yaml);
        print_message("case %s\n", g.gl_pathv[i]);
        run_case(g.gl_pathv[i], yaml, len);
        free(yaml);
    }
    globfree(&g);
}

/* docs/lint.md: every ```lint block is a case. */
static void test_lint_doc_examples(void **state)
{
    (void)state;
    size_t len;
    char *doc = slurp("docs/lint.md", &len);
    assert_non_null(doc);
    size_t n = 0;
    for (char *p = strstr(doc, "\n```lint\n"); p; p = strstr(p, "\n```lint\n")) {
        char *start = p + 9;
        char *end = strstr(start, "\n```\n");
        assert_non_null(end);
        char name[64];
        snprintf(name, sizeof name, "docs/lint.md example %zu", ++n);
        run_case(name, start, (size_t)(end - start) + 1);
        p = end;
    }
    assert_true(n >= 5);
    free(doc);
}

/* The built-in mappings have nothing to be said about. */
static void test_builtin_clean(void **state)
{
    (void)state;
    ps_lint_options opt = {.limits = ps_reader_default_limits()};
    ps_lint_report *rep = NULL;
    ps_error err;
    assert_int_equal(ps_lint_run(&opt, &rep, &err), PS_OK);
    for (size_t i = 0; i < ps_lint_count(rep); i++) {
        char line[3000];
        finding_line(ps_lint_at(rep, i), "", line, sizeof line);
        print_message("built-in: %s\n", line);
    }
    assert_int_equal(ps_lint_count(rep), 0);
    ps_lint_report_free(rep);
}

/* Coverage on the bundled samples: real documents, real counts. */
static void test_samples_coverage(void **state)
{
    (void)state;
    struct stat st;
    if (stat("samples/hengyang-county-2021/zpb.xls", &st) != 0)
        skip();
    const char *files[] = {"samples/hengyang-county-2021/jcsj.xls", "samples/hengyang-county-2021/zpb.xls",
                           "samples/hengyang-county-2021/zpb.xlsx", "samples/synthetic/u04-shiwan/zpb.xls",
                           "samples/synthetic/u04-shiwan/jcsj.xls"};
    ps_lint_options opt = {.files = files, .nfiles = 5, .limits = ps_reader_default_limits()};
    ps_lint_report *rep = NULL;
    ps_error err;
    assert_int_equal(ps_lint_run(&opt, &rep, &err), PS_OK);
    bool rate = false, cross = false, required = false;
    for (size_t i = 0; i < ps_lint_count(rep); i++) {
        const ps_lint_finding *f = ps_lint_at(rep, i);
        assert_int_equal(f->kind, PS_LINT_COVERAGE); /* the rules are clean, the files readable */
        /* the Gansu mappings check zpb.* too, on their own documents (none here) */
        bool of_zpb = f->file && strstr(f->file, "zpb.yaml");
        if (!strcmp(f->rule, "zpb.rate") && of_zpb) {
            /* three zpb documents; u04-shiwan's 执行率 is 100.00% for 97.70% */
            assert_int_equal(f->documents, 3);
            assert_int_equal(f->passed + f->failed, 3);
            assert_int_equal(f->failed, 1);
            rate = true;
        }
        if (!strcmp(f->rule, "cross.basic")) {
            assert_int_equal(f->documents, 2); /* two units with both tables */
            assert_int_equal(f->passed + f->failed + f->blank, 2);
            cross = true;
        }
        if (!strcmp(f->rule, "zpb.required") && of_zpb && f->instance &&
            !strcmp(f->instance, "k=year,label=年度")) {
            assert_int_equal(f->passed, 3);
            required = true;
        }
    }
    assert_true(rate && cross && required);
    ps_lint_report_free(rep);
}

/* The evaluator's tally (the hook coverage stands on): each run counted once, by its outcome
 * and its for: instance. */
static void set_number(ps_document *d, const char *key, double v)
{
    ps_value val = {.type = PS_TYPE_MONEY,
                    .has_number = true,
                    .number = v,
                    .row = PS_NO_CELL,
                    .col = PS_NO_CELL,
                    .decimals = 255};
    assert_true(ps_document_set(d, key, &val));
}

static void test_rule_tally(void **state)
{
    (void)state;
    static const char yaml[] = "rules:\n"
                               "  - {id: t.when, when: \"x > 0\", check: \"a = b\", message: m}\n"
                               "  - {id: t.for, for: \"c in p, q\", check: \"a.{c} >= 0\", message: m}\n";
    ps_ruleset *rs = NULL;
    ps_error err;
    assert_int_equal(ps_ruleset_from_string(yaml, sizeof yaml - 1, "t.yaml", &rs, &err), PS_OK);
    const ps_rule *when = ps_ruleset_at(rs, 0), *inst = ps_ruleset_at(rs, 1);
    assert_int_equal(ps_rule_instance_count(when), 1);
    assert_int_equal(ps_rule_instance_count(inst), 2);
    /* x, a, b per document (-1: blank) */
    static const struct {
        double x, a, b;
    } docs[] = {{1, 1, 1}, {1, 1, 2}, {0, 1, 1}, {-1, 1, 1}, {1, -1, -1}, {1, -1, 2}};
    ps_rule_tally t = {0}, ti[2] = {{0}};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        ps_document *d = ps_document_new("t", "t.yaml", "t.xls", "Sheet1");
        assert_non_null(d);
        if (docs[i].x >= 0)
            set_number(d, "x", docs[i].x);
        if (docs[i].a >= 0)
            set_number(d, "a", docs[i].a);
        if (docs[i].b >= 0)
            set_number(d, "b", docs[i].b);
        if (i < 2)
            set_number(d, "a.p", (double)i - 1); /* -1 fails, 0 passes; a.q stays blank */
        assert_int_equal(ps_rule_eval_tally(when, d, &t, &err), PS_OK);
        assert_int_equal(ps_rule_eval_tally(inst, d, ti, &err), PS_OK);
        ps_document_free(d);
    }
    /* passed {1,1,1}; failed {1,1,2} and the blank left side of {1,_,2}; when: false (x = 0)
     * and blank (no x); blank: both sides blank */
    assert_int_equal(t.passed, 1);
    assert_int_equal(t.failed, 2);
    assert_int_equal(t.skipped_when, 2);
    assert_int_equal(t.blank, 1);
    assert_int_equal(ti[0].failed, 1);
    assert_int_equal(ti[0].passed, 1);
    assert_int_equal(ti[0].blank, 4);
    assert_int_equal(ti[1].blank, 6);
    assert_int_equal(ti[1].passed + ti[1].failed + ti[1].skipped_when, 0);
    ps_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_tally),        cmocka_unit_test(test_lint_cases),
        cmocka_unit_test(test_lint_doc_examples), cmocka_unit_test(test_builtin_clean),
        cmocka_unit_test(test_samples_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
