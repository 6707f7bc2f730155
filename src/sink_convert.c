/* sink_convert.c - `perfsheet convert`: one standardized workbook per document in the output
 * folder (writer.h), written on the pool as the files come, plus findings.jsonl, one line
 * per input file in input order, written to a temporary name and renamed at the end. */
#include "perfsheet/pipeline.h"
#include "perfsheet/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct convert_sink {
    ps_sink base;
    const char *dir;
    FILE *jsonl; /* findings.jsonl being written (temporary name) */
    char jsonl_path[4096], jsonl_tmp[4200];
} convert_sink;

/* The output paths decided so far, as a set (open addressing over FNV-1a hashes). */
typedef struct path_set {
    char **slot; /* borrowed strings: they belong to the pipeline's labels */
    size_t cap, n;
} path_set;

static uint64_t path_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static bool path_set_has(const path_set *ps, const char *path)
{
    for (size_t i = ps->cap ? path_hash(path) & (ps->cap - 1) : 0; ps->cap && ps->slot[i];
         i = (i + 1) & (ps->cap - 1))
        if (!strcmp(ps->slot[i], path))
            return true;
    return false;
}

static bool path_set_add(path_set *ps, char *path)
{
    if ((ps->n + 1) * 2 > ps->cap) {
        path_set bigger = {calloc(ps->cap ? ps->cap * 2 : 256, sizeof(char *)), ps->cap ? ps->cap * 2 : 256,
                           0};
        if (!bigger.slot)
            return false;
        for (size_t i = 0; i < ps->cap; i++)
            if (ps->slot[i])
                path_set_add(&bigger, ps->slot[i]);
        free(ps->slot);
        *ps = bigger;
    }
    size_t i = path_hash(path) & (ps->cap - 1);
    while (ps->slot[i])
        i = (i + 1) & (ps->cap - 1);
    ps->slot[i] = path;
    ps->n++;
    return true;
}

/* The output path of every document (its name is its label), decided in input order so that
 * the same inputs always get the same names: two documents that would share a name (same
 * unit, year and template) or a name that is an input file get _2, _3, … and it is said. */
static bool plan_outputs(convert_sink *c, ps_pipeline *p)
{
    const ps_pipeline_config *cfg = ps_pipeline_config_of(p);
    path_set taken = {0};
    bool ok = true;
    for (size_t i = 0; i < ps_pipeline_file_count(p) && ok; i++) {
        size_t ndocs = ps_pipeline_document_count(p, i);
        struct stat in;
        bool have_in = ndocs && stat(cfg->files[i], &in) == 0;
        for (size_t k = 0; k < ndocs && ok; k++) {
            char **label = ps_pipeline_label(p, i, k);
            const char *name = *label;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", c->dir, name);
            for (int n = 2;; n++) {
                struct stat out;
                bool clash =
                    path_set_has(&taken, path) ||
                    (have_in && stat(path, &out) == 0 && out.st_dev == in.st_dev && out.st_ino == in.st_ino);
                if (!clash)
                    break;
                char stem[256];
                snprintf(stem, sizeof stem, "%s", name);
                char *dot = strrchr(stem, '.');
                if (dot)
                    *dot = '\0';
                snprintf(path, sizeof path, "%s/%s_%d.xlsx", c->dir, stem, n);
                if (n == 2) /* said even with -q: the officer must know */
                    ps_pipeline_notice(p, cfg->files[i], "输出文件名 %s 已被占用，改为 %s", name, path);
            }
            char *full = strdup(path);
            ok = full && path_set_add(&taken, full);
            if (!full)
                break;
            free(*label);
            *label = full;
        }
    }
    free(taken.slot); /* the strings belong to the labels */
    return ok;
}

static char *convert_label(ps_sink *s, const ps_document *doc)
{
    (void)s;
    char name[256];
    ps_writer_document_name(doc, name, sizeof name);
    return strdup(name);
}

static ps_status convert_begin(ps_sink *s, ps_pipeline *p)
{
    convert_sink *c = (convert_sink *)s;
    if (mkdir(c->dir, 0755) != 0 && errno != EEXIST) {
        ps_pipeline_notice(p, NULL, "无法创建输出目录 %s：%s", c->dir, strerror(errno));
        return PS_ERR_IO;
    }
    if (!plan_outputs(c, p)) {
        ps_pipeline_notice(p, "perfsheet", "内存不足");
        return PS_ERR_NOMEM;
    }
    snprintf(c->jsonl_path, sizeof c->jsonl_path, "%s/findings.jsonl", c->dir);
    snprintf(c->jsonl_tmp, sizeof c->jsonl_tmp, "%s/.findings.jsonl.tmp-%ld", c->dir, (long)getpid());
    if (!(c->jsonl = fopen(c->jsonl_tmp, "w"))) {
        ps_pipeline_notice(p, NULL, "无法写入 %s：%s", c->jsonl_tmp, strerror(errno));
        return PS_ERR_IO;
    }
    return PS_OK;
}

/* On a worker: writes the file's workbooks; f->data holds the errors of those that failed. */
static void convert_prepare(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    (void)s;
    ps_error *write_err = NULL;
    for (size_t k = 0; k < f->ndocs; k++) {
        ps_error err;
        const ps_mapping *m = ps_mapping_set_find(ps_pipeline_mappings(p), ps_document_template(f->docs[k]));
        if (ps_writer_convert(m, f->docs[k], f->labels[k], &err) == PS_OK)
            continue;
        if (!write_err)
            write_err = calloc(f->ndocs, sizeof *write_err);
        if (write_err)
            write_err[k] = err;
    }
    f->data = write_err;
}

static ps_status convert_file(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    convert_sink *c = (convert_sink *)s;
    ps_buf line = {0};
    ps_error *write_err = f->data;
    ps_report_file_json(&line, f->file, f->error, f->error ? NULL : f->docs, f->error ? 0 : f->ndocs, false,
                        !f->error);
    for (size_t k = 0; !f->error && k < f->ndocs; k++) {
        if (write_err && write_err[k].code != PS_OK)
            ps_pipeline_error(p, &write_err[k]);
        else
            ps_pipeline_output(p, f->labels[k]);
    }
    if (line.len)
        fwrite(line.data, 1, line.len, c->jsonl);
    ps_buf_free(&line);
    free(write_err);
    return PS_OK;
}

static void convert_discard(ps_sink *s, ps_sink_file *f)
{
    (void)s;
    free(f->data);
}

static ps_status convert_end(ps_sink *s, ps_pipeline *p, bool interrupted)
{
    convert_sink *c = (convert_sink *)s;
    ps_status st = PS_OK;
    if (!c->jsonl)
        return st;
    bool bad = fclose(c->jsonl) != 0;
    c->jsonl = NULL;
    if (interrupted || bad || rename(c->jsonl_tmp, c->jsonl_path) != 0) {
        unlink(c->jsonl_tmp);
        if (!interrupted) {
            ps_pipeline_notice(p, NULL, "无法写入 %s", c->jsonl_path);
            st = PS_ERR_IO;
        }
    }
    if (interrupted)
        ps_pipeline_notice(p, NULL, "已中断，已写出的文件均为完整文件，未写 findings.jsonl");
    return st;
}

static void convert_free(ps_sink *s)
{
    convert_sink *c = (convert_sink *)s;
    if (c->jsonl) {
        fclose(c->jsonl);
        unlink(c->jsonl_tmp);
    }
    free(c);
}

ps_sink *ps_sink_convert_new(const char *dir)
{
    convert_sink *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base = (ps_sink){.work = PS_WORK_CHECK,
                        .whole_documents = true,
                        .label = convert_label,
                        .begin = convert_begin,
                        .prepare = convert_prepare,
                        .file = convert_file,
                        .discard = convert_discard,
                        .end = convert_end,
                        .free = convert_free};
    c->dir = dir;
    return &c->base;
}
