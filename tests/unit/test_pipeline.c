/* test_pipeline.c - the contract of pipeline.h, seen from a sink: begin once, then every input
 * file once in input order whatever -j, prepare before file with its data handed over, whole
 * documents carrying their cross-table findings and the sink's labels, the rendering path
 * giving back what render kept plus the cross-table projections (over 64 files: through the
 * spill file), end once; and the summary's counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "perfsheet/pipeline.h"

#include <stdlib.h>
#include <string.h>

static const char *const base[] = {
    "samples/bad/empty.xls",                  /* not_a_spreadsheet */
    "samples/synthetic/u07-liutang/jcsj.xls", /* the pair with a cross.basic error */
    "samples/synthetic/u07-liutang/zpb.xls",
    "samples/synthetic/u01-qingxi/zpb.xls",
};
#define NBASE (sizeof base / sizeof base[0])
enum { MANY = 70 }; /* over 64 files: results wait in the spill file */

typedef struct recorder {
    ps_sink base;
    size_t nfiles, began, ended, out_of_order, prepared, handed, cross_findings, bad_labels;
    size_t rendered, kept_back; /* atomic: render and prepare run on workers */
    bool interrupted;
} recorder;

static char *label_doc(ps_sink *s, const ps_document *doc)
{
    (void)s;
    size_t n = strlen(ps_document_template(doc)) + strlen(ps_document_file(doc)) + 2;
    char *l = malloc(n);
    if (l)
        snprintf(l, n, "%s:%s", ps_document_template(doc), ps_document_file(doc));
    return l;
}

static ps_status rec_begin(ps_sink *s, ps_pipeline *p)
{
    recorder *r = (recorder *)s;
    r->began++;
    assert_int_equal(r->nfiles, 0);
    assert_non_null(ps_pipeline_mappings(p));
    return PS_OK;
}

static void rec_render(ps_sink *s, const ps_sink_input *in, ps_buf *kept)
{
    __atomic_add_fetch(&((recorder *)s)->rendered, 1, __ATOMIC_RELAXED);
    ps_buf_puts(kept, in->file); /* given back at the file's turn */
}

static size_t cross_in(ps_document *const *docs, size_t n)
{
    size_t found = 0;
    for (size_t k = 0; k < n; k++) {
        const ps_findings *fl = ps_document_findings_const(docs[k]);
        for (size_t i = 0; i < ps_findings_count(fl); i++)
            found += !strncmp(ps_findings_at(fl, i)->rule, "cross.", 6);
    }
    return found;
}

static void rec_prepare(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    (void)p;
    if (!f->error && f->kept_len == strlen(f->file) && !memcmp(f->kept, f->file, f->kept_len))
        __atomic_add_fetch(&((recorder *)s)->kept_back, 1, __ATOMIC_RELAXED); /* what render kept */
    if (!s->whole_documents) /* and the cross-table findings that came after */
        __atomic_add_fetch(&((recorder *)s)->cross_findings, cross_in(f->cross, f->ncross), __ATOMIC_RELAXED);
    size_t *marker = malloc(sizeof *marker);
    assert_non_null(marker);
    *marker = f->index;
    f->data = marker;
}

static ps_status rec_file(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    (void)p;
    recorder *r = (recorder *)s;
    r->out_of_order += f->index != r->nfiles;
    r->nfiles++;
    bool bad = !strcmp(f->file, "samples/bad/empty.xls");
    assert_true(bad == (f->error != NULL));
    if (f->error)
        assert_int_equal(f->error->code, PS_ERR_NOT_A_SPREADSHEET);
    if (f->data) { /* prepared: handed over to this very file */
        r->prepared++;
        assert_int_equal(*(size_t *)f->data, f->index);
        free(f->data);
    }
    if (s->whole_documents) {
        assert_true(bad || f->ndocs > 0);
        r->cross_findings += cross_in(f->docs, f->ndocs);
        for (size_t k = 0; k < f->ndocs; k++) {
            char want[1024];
            snprintf(want, sizeof want, "%s:%s", ps_document_template(f->docs[k]), f->file);
            r->bad_labels += !f->labels || strcmp(f->labels[k], want) != 0;
        }
    }
    r->handed++;
    return PS_OK;
}

static void rec_discard(ps_sink *s, ps_sink_file *f)
{
    (void)s;
    free(f->data);
}

static ps_status rec_end(ps_sink *s, ps_pipeline *p, bool interrupted)
{
    (void)p;
    recorder *r = (recorder *)s;
    r->ended++;
    r->interrupted = interrupted;
    return PS_OK;
}

static void run(bool whole, int jobs)
{
    const char *files[MANY];
    for (size_t i = 0; i < MANY; i++)
        files[i] = base[i % NBASE];
    recorder r = {.base = {.work = PS_WORK_CHECK,
                           .whole_documents = whole,
                           .begin = rec_begin,
                           .prepare = rec_prepare,
                           .file = rec_file,
                           .discard = rec_discard,
                           .end = rec_end}};
    if (whole)
        r.base.label = label_doc;
    else
        r.base.render = rec_render;
    ps_pipeline_config cfg = {
        .files = files, .nfiles = MANY, .jobs = jobs, .timeout = 60, .limits = ps_reader_default_limits()};
    ps_pipeline_summary sum;
    ps_error err;
    print_message("%s sink, -j %d\n", whole ? "document" : "rendering", jobs);
    assert_int_equal(ps_pipeline_run(&cfg, &r.base, &sum, &err), PS_OK);
    size_t nbad = (MANY + NBASE - 1) / NBASE; /* empty.xls: every NBASE-th file from the first */
    assert_int_equal(r.began, 1);
    assert_int_equal(r.ended, 1);
    assert_false(r.interrupted);
    assert_int_equal(r.nfiles, MANY);
    assert_int_equal(r.handed, MANY);
    assert_int_equal(r.out_of_order, 0);
    /* prepare: every file for rendering sinks (an error is output too), the files read for
     * document sinks */
    assert_int_equal(r.prepared, whole ? MANY - nbad : MANY);
    assert_int_equal(r.bad_labels, 0);
    if (!whole) {
        assert_int_equal(r.rendered, MANY - nbad);
        assert_int_equal(r.kept_back, MANY - nbad);
    }
    /* every u07 pair's cross-table error reaches the sink (18 copies of the pair, one group
     * of unit and year: each jcsj is paired with the first zpb) */
    assert_true(r.cross_findings >= 18);
    assert_int_equal(sum.total, MANY);
    assert_int_equal(sum.done, MANY);
    assert_int_equal(sum.files_failed, nbad);
    assert_int_equal(sum.by_code[PS_ERR_NOT_A_SPREADSHEET], nbad);
    assert_true(sum.trouble);
    assert_false(sum.interrupted);
    assert_true(sum.by_severity[PS_SEV_ERROR] >= r.cross_findings);
}

static void test_document_sink(void **state)
{
    (void)state;
    run(true, 1);
    run(true, 2);
}

static void test_rendering_sink(void **state)
{
    (void)state;
    run(false, 1);
    run(false, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document_sink),
        cmocka_unit_test(test_rendering_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
