/* pipeline.c - the batch engine (pipeline.h): pass 1 on the pool, the spill file, the
 * cross-table rules group by group, and the ordered hand-over of each file to the sink. */
#include "perfsheet/pipeline.h"

#include "perfsheet/batch.h"
#include "perfsheet/check.h"
#include "perfsheet/deadline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Bytes pass 1 keeps for later: in the spill file when there is one, else in memory. */
typedef struct stored {
    off_t at;     /* in the spill file (when mem is NULL) */
    char *mem;    /* in memory */
    uint32_t len; /* 0: nothing stored */
} stored;

/* What pass 1 keeps of one document. */
typedef struct doc_ref {
    stored proj;        /* check: its cross-table projection, encoded */
    stored parked;      /* document sinks: the whole document, encoded (len 0: read it again) */
    char *label;        /* the sink's label (convert: its output file name, then path) */
    uint64_t unit_hash; /* of its unit_name, to group documents by */
    int32_t year;
    uint16_t tpl; /* its template's index in the mapping set */
    bool paired;  /* has a unit_name and a projection: cross-table rules may pair it */
    bool cross;   /* its projection holds cross-table findings */
} doc_ref;

typedef struct file_result {
    ps_error *err; /* owned; set when the file could not be read, matched or written */
    doc_ref *refs;
    char **labels; /* document sinks with labels: refs[k].label, gathered for the sink */
    uint32_t nrefs;
    stored out;         /* what the sink rendered of the file */
    uint32_t by_sev[3]; /* findings by severity, cross-table ones included once known */
} file_result;

/* A file (document sinks) or a chunk of files (rendering sinks) in flight in the ordered
 * hand-over: i uses slot i % window, as ps_batch_run_ordered never has two that far apart in
 * flight. */
enum { ORDERED_WINDOW = 32 };
/* Rendering sinks' files are put together and written by chunks: per file, handing work
 * over between threads would cost more than the work. */
enum { PRINT_CHUNK = 64, PRINT_WINDOW = 4 };

typedef struct slot {
    ps_document **full; /* document sinks: whole documents */
    size_t nfull;
    bool prepared;
    ps_sink_file files[PRINT_CHUNK]; /* one per file (document sinks: files[0]) */
} slot;

struct ps_pipeline {
    const ps_pipeline_config *cfg;
    ps_sink *sink;
    ps_mapping_set *mappings;
    ps_checker *checker;
    file_result *results;
    slot slots[ORDERED_WINDOW];
    ps_pipeline_summary *sum;
    size_t nread;     /* files pass 1 went through */
    int spill_fd;     /* the spill file, or -1: then rendered output and projections stay in memory */
    off_t spill_end;  /* next free offset (atomic) */
    size_t print_n;   /* rendering sinks: the files to hand over */
    int cross_failed; /* atomic: the first failing cross-table group fills cross_err */
    ps_error cross_err;
};

/* ---- events ---- */

static void say_file_failed(ps_pipeline *p, const ps_error *err)
{
    if (p->cfg->events.file_failed)
        p->cfg->events.file_failed(p->cfg->events.ctx, err);
}

void ps_pipeline_trouble(ps_pipeline *p)
{
    p->sum->trouble = true;
}

void ps_pipeline_error(ps_pipeline *p, const ps_error *err)
{
    if (p->cfg->events.error)
        p->cfg->events.error(p->cfg->events.ctx, err);
    p->sum->trouble = true;
}

void ps_pipeline_notice(ps_pipeline *p, const char *subject, const char *fmt, ...)
{
    char text[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (p->cfg->events.notice)
        p->cfg->events.notice(p->cfg->events.ctx, subject, text);
}

void ps_pipeline_output(ps_pipeline *p, const char *path)
{
    if (p->cfg->events.output)
        p->cfg->events.output(p->cfg->events.ctx, path);
}

const ps_mapping_set *ps_pipeline_mappings(const ps_pipeline *p)
{
    return p->mappings;
}

const ps_pipeline_config *ps_pipeline_config_of(const ps_pipeline *p)
{
    return p->cfg;
}

size_t ps_pipeline_file_count(const ps_pipeline *p)
{
    return p->nread;
}

bool ps_pipeline_file_failed(const ps_pipeline *p, size_t i)
{
    return p->results[i].err != NULL;
}

size_t ps_pipeline_document_count(const ps_pipeline *p, size_t i)
{
    return p->results[i].err ? 0 : p->results[i].nrefs;
}

char **ps_pipeline_label(ps_pipeline *p, size_t i, size_t k)
{
    return &p->results[i].refs[k].label;
}

void ps_sink_free(ps_sink *s)
{
    if (s && s->free)
        s->free(s);
}

/* ---- pass 1: reading ---- */

static void count_findings(file_result *r, ps_document *const *docs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        for (int s = 0; s < 3; s++)
            r->by_sev[s] +=
                (uint32_t)ps_findings_count_severity(ps_document_findings_const(docs[k]), (ps_severity)s);
}

static void free_docs(ps_document ***docs, size_t *n)
{
    for (size_t k = 0; k < *n; k++)
        ps_document_free((*docs)[k]);
    free(*docs);
    *docs = NULL;
    *n = 0;
}

/* Reads, matches and checks file i into *docs under the armed deadline; for PS_WORK_DETECT
 * the sink renders its answer into *kept instead. */
static ps_status read_and_check(ps_pipeline *p, size_t i, ps_document ***docs, size_t *ndocs, ps_buf *kept,
                                ps_error *err)
{
    const char *file = p->cfg->files[i];
    ps_workbook *wb = NULL;
    ps_status st = ps_reader_open(file, &p->cfg->limits, &wb, err);
    if (st != PS_OK)
        return st;
    if (p->sink->work == PS_WORK_DETECT) {
        ps_detection *dets = NULL;
        size_t ndets = 0;
        st = ps_mapping_detect(p->mappings, wb, &dets, &ndets, err);
        if (st == PS_OK && p->sink->render) {
            ps_sink_input in = {.file = file, .workbook = wb, .detections = dets, .ndetections = ndets};
            p->sink->render(p->sink, &in, kept);
        }
        free(dets);
        ps_workbook_free(wb);
        return st;
    }
    st = ps_mapping_extract_workbook(p->mappings, wb, file, docs, ndocs, err);
    ps_workbook_free(wb);
    if (st == PS_OK && ps_deadline_passed())
        st = ps_error_set(err, PS_ERR_UNSUPPORTED, file, "处理超时（超过 %g 秒），已跳过此文件",
                          ps_deadline_seconds());
    for (size_t k = 0; st == PS_OK && p->sink->work == PS_WORK_CHECK && k < *ndocs; k++)
        st = ps_checker_check_document(p->checker, (*docs)[k], err); /* extract: cleaning findings only */
    if (st != PS_OK)
        free_docs(docs, ndocs);
    return st;
}

/* Keeps a copy of err as r's error (on failure only: most files never pay for one). */
static void keep_error(file_result *r, const ps_error *err)
{
    if (!r->err)
        r->err = malloc(sizeof *r->err);
    if (r->err)
        *r->err = *err;
}

static ps_status result_code(const file_result *r)
{
    return r->err ? r->err->code : PS_OK;
}

/* ---- the spill file ---- */

/* Writes len bytes at a freshly reserved place of the spill file; returns the place, or -1. */
static off_t spill_write(ps_pipeline *p, const char *data, size_t len)
{
    if (p->spill_fd < 0 || len == 0)
        return -1;
    off_t at = __atomic_fetch_add(&p->spill_end, (off_t)len, __ATOMIC_RELAXED);
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(p->spill_fd, data + done, len - done, at + (off_t)done);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)w;
    }
    return at;
}

/* Reads len bytes at `at` of the spill file into a new buffer; NULL on failure. */
static char *spill_read(const ps_pipeline *p, off_t at, size_t len)
{
    char *buf = malloc(len ? len : 1);
    size_t done = 0;
    while (buf && done < len) {
        ssize_t got = pread(p->spill_fd, buf + done, len - done, at + (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            free(buf);
            return NULL;
        }
        done += (size_t)got;
    }
    return buf;
}

static void store_free(stored *s)
{
    free(s->mem);
    memset(s, 0, sizeof *s);
}

/* Stores data in place of what s held: in the spill file, or else in memory when
 * keep_in_memory. false when it could not be stored (s is then empty). */
static bool store_put(ps_pipeline *p, stored *s, const char *data, size_t len, bool keep_in_memory)
{
    store_free(s);
    if (len == 0)
        return true;
    if (len > UINT32_MAX)
        return false;
    off_t at = spill_write(p, data, len);
    if (at >= 0) {
        s->at = at;
        s->len = (uint32_t)len;
        return true;
    }
    if (!keep_in_memory || !(s->mem = malloc(len)))
        return false;
    memcpy(s->mem, data, len);
    s->len = (uint32_t)len;
    return true;
}

/* A copy of what s holds (caller frees); NULL when empty or on failure. */
static char *store_get(const ps_pipeline *p, const stored *s)
{
    if (!s->len)
        return NULL;
    if (!s->mem)
        return spill_read(p, s->at, s->len);
    char *copy = malloc(s->len);
    if (copy)
        memcpy(copy, s->mem, s->len);
    return copy;
}

static bool store_document(ps_pipeline *p, stored *s, const ps_document *doc, bool keep_in_memory)
{
    char *data = NULL;
    size_t len = 0;
    bool ok = doc && ps_document_encode(doc, &data, &len) && store_put(p, s, data, len, keep_in_memory);
    free(data);
    if (!ok)
        store_free(s);
    return ok;
}

static ps_document *load_document(const ps_pipeline *p, const stored *s)
{
    char *data = store_get(p, s);
    ps_document *doc = data ? ps_document_decode(data, s->len) : NULL;
    free(data);
    return doc;
}

static void free_result(file_result *r)
{
    free(r->err);
    for (size_t k = 0; k < r->nrefs; k++) {
        store_free(&r->refs[k].proj);
        store_free(&r->refs[k].parked);
        free(r->refs[k].label);
    }
    free(r->refs);
    free(r->labels);
    store_free(&r->out);
    memset(r, 0, sizeof *r);
}

static void release_file(ps_pipeline *p, ps_sink_file *f)
{
    if (f->data && p->sink->discard)
        p->sink->discard(p->sink, f);
    ps_buf_free(&f->out);
    memset(f, 0, sizeof *f);
}

static void free_slot(ps_pipeline *p, slot *s)
{
    free_docs(&s->full, &s->nfull);
    for (size_t k = 0; k < PRINT_CHUNK; k++)
        release_file(p, &s->files[k]);
    s->prepared = false;
}

/* ---- pass 1 ---- */

static uint64_t unit_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static uint16_t template_index(const ps_mapping_set *set, const char *id)
{
    for (size_t k = 0; k < ps_mapping_set_count(set); k++)
        if (!strcmp(ps_mapping_id(ps_mapping_set_at(set, k)), id))
            return (uint16_t)k;
    return 0; /* documents come from the set's mappings */
}

/* Fills ref for doc: template, unit and year, its cross-table projection, and for document
 * sinks the parked whole document and the label. false on out-of-memory. */
static bool keep_document(ps_pipeline *p, doc_ref *ref, const ps_document *doc)
{
    ref->tpl = template_index(p->mappings, ps_document_template(doc));
    if (p->sink->whole_documents && p->spill_fd >= 0)
        store_document(p, &ref->parked, doc, false); /* if not parked, pass 2 reads it again */
    if (p->sink->label && !(ref->label = p->sink->label(p->sink, doc)))
        return false;
    const char *unit = ps_document_unit(doc);
    if (p->sink->work < PS_WORK_CHECK || !unit || !*unit)
        return true;
    ps_document *proj = ps_checker_cross_projection(p->checker, doc);
    ref->paired = store_document(p, &ref->proj, proj, true);
    ps_document_free(proj);
    ref->unit_hash = unit_hash(unit);
    ref->year = ps_document_year(doc);
    return ref->paired;
}

/* Pass 1 on a worker. */
static void process_file(size_t i, void *ctx)
{
    ps_pipeline *p = ctx;
    file_result *r = &p->results[i];
    const char *file = p->cfg->files[i];
    ps_document **docs = NULL;
    size_t ndocs = 0;
    ps_buf kept = {0};
    ps_error err;
    ps_deadline_arm(p->cfg->timeout);
    ps_status st = read_and_check(p, i, &docs, &ndocs, &kept, &err);
    ps_deadline_disarm();
    if (st == PS_OK && p->sink->work != PS_WORK_DETECT) {
        for (size_t k = 0; k < ndocs; k++)
            ps_findings_sort(ps_document_findings(docs[k]));
        count_findings(r, docs, ndocs);
        if (p->sink->render) {
            ps_sink_input in = {.file = file, .docs = docs, .ndocs = ndocs};
            p->sink->render(p->sink, &in, &kept);
        }
        if (ndocs && !(r->refs = calloc(ndocs, sizeof *r->refs)))
            st = ps_error_set(&err, PS_ERR_NOMEM, file, "内存不足");
        r->nrefs = r->refs ? (uint32_t)ndocs : 0;
        for (size_t k = 0; st == PS_OK && k < ndocs; k++)
            if (!keep_document(p, &r->refs[k], docs[k]))
                st = ps_error_set(&err, PS_ERR_NOMEM, file, "内存不足");
    }
    if (st == PS_OK && p->sink->render && (kept.oom || !store_put(p, &r->out, kept.data, kept.len, true)))
        st = ps_error_set(&err, PS_ERR_NOMEM, file, "内存不足：无法保存此文件的结果");
    free_docs(&docs, &ndocs);
    ps_buf_free(&kept);
    if (st != PS_OK) {
        keep_error(r, &err);
        if (p->cfg->events.failed_so_far)
            __atomic_add_fetch(p->cfg->events.failed_so_far, 1, __ATOMIC_RELAXED);
    }
}

/* ---- cross-table rules, one group of documents (same unit hash and year) at a time ---- */

typedef struct cross_key {
    uint64_t hash;
    int32_t year;
    uint32_t doc;
    size_t file;
} cross_key;

typedef struct cross_run {
    ps_pipeline *p;
    const cross_key *keys;
    const size_t *groups; /* group g: keys[groups[2g] .. groups[2g+1]) */
} cross_run;

static int cmp_cross_key(const void *pa, const void *pb)
{
    const cross_key *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    return a->doc < b->doc ? -1 : a->doc > b->doc;
}

static void cross_group(size_t g, void *ctx)
{
    const cross_run *x = ctx;
    ps_pipeline *p = x->p;
    size_t from = x->groups[2 * g], n = x->groups[2 * g + 1] - from;
    ps_document **docs = calloc(n, sizeof *docs);
    ps_error err;
    ps_status st = docs ? PS_OK : ps_error_set(&err, PS_ERR_NOMEM, NULL, "内存不足");
    for (size_t k = 0; st == PS_OK && k < n; k++) {
        const cross_key *key = &x->keys[from + k];
        docs[k] = load_document(p, &p->results[key->file].refs[key->doc].proj);
        if (!docs[k])
            st = ps_error_set(&err, PS_ERR_IO, p->cfg->files[key->file], "无法读回临时文件中的数据");
    }
    /* the checker pairs by the unit's exact text: a hash collision only makes a larger group */
    if (st == PS_OK)
        st = ps_checker_check_cross(p->checker, docs, n, &err);
    for (size_t k = 0; st == PS_OK && k < n; k++) {
        if (!ps_findings_count(ps_document_findings_const(docs[k])))
            continue;
        doc_ref *ref = &p->results[x->keys[from + k].file].refs[x->keys[from + k].doc];
        ps_findings_sort(ps_document_findings(docs[k]));
        if (!store_document(p, &ref->proj, docs[k], true))
            st = ps_error_set(&err, PS_ERR_NOMEM, NULL, "内存不足");
        ref->cross = true;
    }
    if (st != PS_OK && __atomic_exchange_n(&p->cross_failed, 1, __ATOMIC_ACQ_REL) == 0)
        p->cross_err = err;
    for (size_t k = 0; docs && k < n; k++)
        ps_document_free(docs[k]);
    free(docs);
}

/* Runs the cross-table rules over the first `done` files. false when interrupted. */
static bool cross_check(ps_pipeline *p, size_t done)
{
    size_t n = 0;
    for (size_t i = 0; i < done; i++)
        for (uint32_t d = 0; d < p->results[i].nrefs; d++)
            n += p->results[i].refs[d].paired;
    cross_key *keys = malloc((n ? n : 1) * sizeof *keys);
    size_t *groups = malloc((n ? n : 1) * sizeof *groups); /* at most n/2 groups of two or more */
    if (!keys || !groups) {
        free(keys);
        free(groups);
        p->cross_failed = 1;
        ps_error_set(&p->cross_err, PS_ERR_NOMEM, NULL, "内存不足");
        return true;
    }
    size_t k = 0;
    for (size_t i = 0; i < done; i++)
        for (uint32_t d = 0; d < p->results[i].nrefs; d++)
            if (p->results[i].refs[d].paired)
                keys[k++] = (cross_key){p->results[i].refs[d].unit_hash, p->results[i].refs[d].year, d, i};
    qsort(keys, n, sizeof *keys, cmp_cross_key);
    size_t ngroups = 0;
    for (size_t g = 0; g < n;) {
        size_t end = g + 1;
        while (end < n && keys[end].hash == keys[g].hash && keys[end].year == keys[g].year)
            end++;
        if (end - g > 1) { /* a document alone has nothing to be compared with */
            groups[2 * ngroups] = g;
            groups[2 * ngroups + 1] = end;
            ngroups++;
        }
        g = end;
    }
    cross_run x = {p, keys, groups};
    size_t ran = ps_batch_run(ngroups, p->cfg->jobs, cross_group, &x, NULL, NULL);
    free(keys);
    free(groups);
    return ran == ngroups;
}

/* ---- the hand-over: counts, in input order ---- */

static void tally_file(ps_pipeline *p, const file_result *r)
{
    ps_pipeline_summary *t = p->sum;
    for (int s = 0; s < 3; s++)
        t->by_severity[s] += r->by_sev[s];
    for (uint32_t d = 0; d < r->nrefs; d++) {
        const char *id = ps_mapping_id(ps_mapping_set_at(p->mappings, r->refs[d].tpl));
        for (int k = 0; k < 16; k++)
            if (!t->by_template[k].id[0] || !strcmp(t->by_template[k].id, id)) {
                snprintf(t->by_template[k].id, sizeof t->by_template[k].id, "%s", id);
                t->by_template[k].n++;
                break;
            }
    }
}

static void file_failed(ps_pipeline *p, const file_result *r)
{
    p->sum->files_failed++;
    if (result_code(r) <= PS_ERR_NOMEM)
        p->sum->by_code[result_code(r)]++;
    p->sum->trouble = true;
    say_file_failed(p, r->err);
}

/* Counts file i and hands it to the sink's file hook. */
static void hand_over(ps_pipeline *p, size_t i, ps_sink_file *f)
{
    file_result *r = &p->results[i];
    if (r->err)
        file_failed(p, r);
    else if (p->sink->work != PS_WORK_DETECT)
        tally_file(p, r);
    f->error = r->err;
    if (p->sink->file && p->sink->file(p->sink, p, f) != PS_OK)
        p->sum->trouble = true;
    f->data = NULL; /* the file hook has freed it */
}

/* ---- rendering sinks: each file's output put together on the pool, written in order ---- */

/* The projections of r's documents holding cross-table findings (counted into r), into
 * *out (caller frees with free_docs). */
static void load_cross(const ps_pipeline *p, file_result *r, ps_document ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    for (uint32_t k = 0; k < r->nrefs; k++) {
        if (!r->refs[k].cross)
            continue;
        ps_document *proj = load_document(p, &r->refs[k].proj);
        if (!proj)
            continue;
        ps_document **grown = realloc(*out, (*n + 1) * sizeof *grown);
        if (!grown) {
            ps_document_free(proj);
            continue;
        }
        *out = grown;
        count_findings(r, &proj, 1);
        (*out)[(*n)++] = proj;
    }
}

static void finish_file(ps_pipeline *p, size_t i, ps_sink_file *f)
{
    file_result *r = &p->results[i];
    const char *file = p->cfg->files[i];
    char *kept = NULL;
    if (!r->err && r->out.len && !(kept = store_get(p, &r->out))) {
        ps_error err;
        ps_error_set(&err, PS_ERR_IO, file, "无法读回临时文件中的结果");
        keep_error(r, &err);
    }
    ps_document **cross = NULL;
    size_t ncross = 0;
    if (!r->err)
        load_cross(p, r, &cross, &ncross);
    f->index = i;
    f->file = file;
    f->error = r->err;
    f->by_severity = r->by_sev;
    f->kept = kept;
    f->kept_len = kept ? r->out.len : 0;
    f->cross = cross;
    f->ncross = ncross;
    if (p->sink->prepare)
        p->sink->prepare(p->sink, p, f);
    f->kept = NULL;
    f->kept_len = 0;
    f->cross = NULL;
    f->ncross = 0;
    free(kept);
    free_docs(&cross, &ncross);
}

static void finish_chunk(size_t c, void *ctx)
{
    ps_pipeline *p = ctx;
    slot *s = &p->slots[c % PRINT_WINDOW];
    for (size_t i = c * PRINT_CHUNK; i < p->print_n && i < (c + 1) * PRINT_CHUNK; i++)
        finish_file(p, i, &s->files[i - c * PRINT_CHUNK]);
}

static void print_chunk(size_t c, void *ctx)
{
    ps_pipeline *p = ctx;
    slot *s = &p->slots[c % PRINT_WINDOW];
    for (size_t i = c * PRINT_CHUNK; i < p->print_n && i < (c + 1) * PRINT_CHUNK; i++) {
        hand_over(p, i, &s->files[i - c * PRINT_CHUNK]);
        free_result(&p->results[i]); /* handed over: nothing of it is needed any more */
    }
    free_slot(p, s);
}

/* Hands the first `done` files to a rendering sink; returns how many were handed over. */
static size_t print_outputs(ps_pipeline *p, size_t done, bool interrupted)
{
    p->print_n = done;
    size_t chunks = (done + PRINT_CHUNK - 1) / PRINT_CHUNK;
    if (!interrupted) {
        size_t printed = ps_batch_run_ordered(chunks, p->cfg->jobs, PRINT_WINDOW, finish_chunk, print_chunk,
                                              p, NULL, NULL);
        return printed * PRINT_CHUNK < done ? printed * PRINT_CHUNK : done;
    }
    for (size_t c = 0; c < chunks; c++) { /* a stop was asked: the pool would start nothing */
        finish_chunk(c, p);
        print_chunk(c, p);
    }
    return done;
}

/* ---- document sinks: pass 2 ---- */

/* Pass 2 on a worker: the whole documents again, with their cross-table findings from the
 * projections, then the sink's prepare. */
static void reprocess_file(size_t i, void *ctx)
{
    ps_pipeline *p = ctx;
    file_result *r = &p->results[i];
    slot *s = &p->slots[i % ORDERED_WINDOW];
    ps_sink_file *f = &s->files[0];
    f->index = i;
    f->file = p->cfg->files[i];
    f->by_severity = r->by_sev;
    s->prepared = true;
    if (r->err)
        return;
    ps_error err;
    ps_status st = PS_OK;
    bool parked = r->nrefs > 0 && (s->full = calloc(r->nrefs, sizeof *s->full));
    for (uint32_t k = 0; parked && k < r->nrefs; k++) {
        s->full[s->nfull] = load_document(p, &r->refs[k].parked);
        parked = s->full[s->nfull] != NULL;
        s->nfull += parked;
    }
    if (!parked) { /* not parked: process the file again */
        free_docs(&s->full, &s->nfull);
        ps_deadline_arm(p->cfg->timeout * 2);
        st = read_and_check(p, i, &s->full, &s->nfull, NULL, &err);
        ps_deadline_disarm();
    }
    if (st == PS_OK && s->nfull != r->nrefs)
        st = ps_error_set(&err, PS_ERR_IO, p->cfg->files[i], "文件在处理过程中被修改，请重新运行");
    if (st != PS_OK) {
        keep_error(r, &err);
        free_docs(&s->full, &s->nfull);
        return;
    }
    for (uint32_t k = 0; k < r->nrefs; k++) {
        if (!r->refs[k].cross)
            continue;
        ps_document *proj = load_document(p, &r->refs[k].proj);
        if (!proj)
            continue;
        count_findings(r, &proj, 1);
        ps_findings_append(ps_document_findings(s->full[k]), ps_document_findings_const(proj));
        ps_findings_sort(ps_document_findings(s->full[k]));
        ps_document_free(proj);
    }
    if (p->sink->label && r->nrefs && (r->labels = calloc(r->nrefs, sizeof *r->labels)))
        for (uint32_t k = 0; k < r->nrefs; k++)
            r->labels[k] = r->refs[k].label;
    f->docs = s->full;
    f->ndocs = s->nfull;
    f->labels = r->labels;
    if (p->sink->prepare)
        p->sink->prepare(p->sink, p, f);
}

/* Pass 2's consumer, on the calling thread in input order. */
static void consume_file(size_t i, void *ctx)
{
    ps_pipeline *p = ctx;
    slot *s = &p->slots[i % ORDERED_WINDOW];
    hand_over(p, i, &s->files[0]);
    free_slot(p, s);
    free_result(&p->results[i]);
}

/* Document sinks: begin, pass 2, end. Returns false when interrupted. */
static bool write_outputs(ps_pipeline *p, size_t n)
{
    if (p->sink->begin && p->sink->begin(p->sink, p) != PS_OK) {
        p->sum->trouble = true;
        return true;
    }
    size_t done = ps_batch_run_ordered(n, p->cfg->jobs, ORDERED_WINDOW, reprocess_file, consume_file, p,
                                       p->cfg->events.progress, p->cfg->events.ctx);
    bool interrupted = done < n || ps_batch_stop_requested();
    if (p->sink->end && p->sink->end(p->sink, p, interrupted) != PS_OK)
        p->sum->trouble = true;
    return !interrupted;
}

ps_status ps_pipeline_run(const ps_pipeline_config *cfg, ps_sink *sink, ps_pipeline_summary *summary,
                          ps_error *err)
{
    memset(summary, 0, sizeof *summary);
    summary->total = cfg->nfiles;
    ps_mapping_set *set = NULL;
    ps_status st = ps_mapping_set_load(cfg->mapping_dir, &set, err);
    if (st != PS_OK)
        return st;
    ps_mapping_set_year(set, cfg->year);
    ps_checker *checker = NULL;
    if (sink->work != PS_WORK_DETECT && (st = ps_checker_new(set, &checker, err)) != PS_OK) {
        ps_mapping_set_free(set);
        return st;
    }
    ps_checker_set_previous(checker, cfg->previous); /* takes NULL */
    size_t n = cfg->nfiles;
    ps_pipeline *p = calloc(1, sizeof *p);
    if (p)
        p->results = calloc(n ? n : 1, sizeof(file_result));
    if (!p || !p->results) {
        free(p);
        ps_checker_free(checker);
        ps_mapping_set_free(set);
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    p->cfg = cfg;
    p->sink = sink;
    p->mappings = set;
    p->checker = checker;
    p->sum = summary;
    p->spill_fd = -1;
    /* unlinked temporary file (gone at exit) for rendered output, projections and parked
     * documents; a few files keep theirs in memory */
    FILE *spill_file = n > 64 || sink->whole_documents ? tmpfile() : NULL;
    if (spill_file)
        p->spill_fd = fileno(spill_file);
    size_t done = ps_batch_run(n, cfg->jobs, process_file, p, cfg->events.progress, cfg->events.ctx);
    p->nread = done;
    bool interrupted = done < n || ps_batch_stop_requested();
    if (sink->work == PS_WORK_CHECK && !interrupted)
        interrupted = !cross_check(p, done);
    if (p->cross_failed)
        ps_pipeline_error(p, &p->cross_err);
    if (!sink->whole_documents) {
        if (sink->begin && sink->begin(sink, p) != PS_OK)
            summary->trouble = true;
        else
            done = print_outputs(p, done, interrupted);
        summary->done = done;
        interrupted = interrupted || ps_batch_stop_requested();
        if (sink->end && sink->end(sink, p, interrupted) != PS_OK)
            summary->trouble = true;
    } else if (interrupted) {
        summary->done = done;
        ps_pipeline_notice(p, NULL, "已中断，未写出任何文件");
    } else {
        summary->done = done; /* files read: pass 2 stops only when interrupted */
        interrupted = !write_outputs(p, n);
    }
    summary->interrupted = interrupted || ps_batch_stop_requested();
    if (summary->interrupted)
        summary->trouble = true;
    for (size_t i = 0; i < n; i++)
        free_result(&p->results[i]);
    for (size_t k = 0; k < ORDERED_WINDOW; k++)
        free_slot(p, &p->slots[k]);
    free(p->results);
    free(p);
    if (spill_file)
        fclose(spill_file);
    ps_checker_free(checker);
    ps_mapping_set_free(set);
    return PS_OK;
}

void ps_pipeline_set_spread(ps_pipeline *p, const char *spread)
{
    snprintf(p->sum->spread, sizeof p->sum->spread, "%s", spread ? spread : "");
}
