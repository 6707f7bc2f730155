/* sink_merge.c - `perfsheet merge -o OUT.xlsx`: the consolidated workbook (merge.h), each
 * file merged at its turn; written to a temporary name, renamed at the end, dropped when
 * interrupted. */
#include "perfsheet/merge.h"
#include "perfsheet/pipeline.h"

#include <stdlib.h>

typedef struct merge_sink {
    ps_sink base;
    const char *path;
    ps_merge *merge;
    ps_merge_options opt;
} merge_sink;

static ps_status merge_begin(ps_sink *s, ps_pipeline *p)
{
    merge_sink *m = (merge_sink *)s;
    ps_error err;
    ps_status st = ps_merge_open_opt(ps_pipeline_mappings(p), m->path, &m->opt, &err, &m->merge);
    if (st != PS_OK)
        ps_pipeline_error(p, &err);
    return st;
}

static ps_status merge_file(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    (void)p;
    merge_sink *m = (merge_sink *)s;
    if (f->error)
        return ps_merge_add_file(m->merge, f->file, f->error->code, f->error, NULL, 0);
    return ps_merge_add_file(m->merge, f->file, PS_OK, NULL, f->docs, f->ndocs);
}

static ps_status merge_end(ps_sink *s, ps_pipeline *p, bool interrupted)
{
    merge_sink *m = (merge_sink *)s;
    ps_error err;
    ps_status st = PS_OK;
    if (interrupted) {
        ps_merge_abort(m->merge);
        ps_pipeline_notice(p, NULL, "已中断，未写出 %s", m->path);
    } else {
        char spread[512] = "";
        if ((st = ps_merge_close_spread(m->merge, spread, sizeof spread, &err)) != PS_OK) {
            ps_pipeline_error(p, &err);
        } else {
            if (spread[0]) { /* said even with -q: no row is dropped, but it is spread */
                ps_pipeline_notice(p, NULL, "%s 超过每张工作表的行数上限，续在 (2)、(3)… 表中：%s", m->path,
                                   spread);
                ps_pipeline_set_spread(p, spread);
            }
            ps_pipeline_output(p, m->path);
        }
    }
    m->merge = NULL;
    return st;
}

static void merge_free(ps_sink *s)
{
    merge_sink *m = (merge_sink *)s;
    ps_merge_abort(m->merge);
    free(m);
}

ps_sink *ps_sink_merge_new(const char *path, const ps_merge_options *opt)
{
    merge_sink *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->base = (ps_sink){.work = PS_WORK_CHECK,
                        .whole_documents = true,
                        .begin = merge_begin,
                        .file = merge_file,
                        .end = merge_end,
                        .free = merge_free};
    m->path = path;
    if (opt)
        m->opt = *opt;
    return &m->base;
}
