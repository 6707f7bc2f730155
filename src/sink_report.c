/* sink_report.c - `perfsheet report -o OUT.html`: the HTML review report (report_html.h), each
 * file added at its turn with its workbook read again for the cells around each finding;
 * written to a temporary name, renamed at the end, dropped when interrupted. */
#include "perfsheet/pipeline.h"
#include "perfsheet/report_html.h"

#include <stdlib.h>

typedef struct report_sink {
    ps_sink base;
    const char *path;
    ps_report *report;
} report_sink;

static ps_status report_begin(ps_sink *s, ps_pipeline *p)
{
    report_sink *r = (report_sink *)s;
    ps_error err;
    ps_status st = ps_report_open(ps_pipeline_mappings(p), r->path, &r->report, &err);
    if (st != PS_OK)
        ps_pipeline_error(p, &err);
    return st;
}

/* On a worker: the file read again (the report shows the cells around each finding; a file
 * that cannot be read again shows its findings without them, and the report says so). */
static void report_prepare(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    (void)s;
    ps_workbook *wb = NULL;
    ps_error err;
    if (ps_reader_open(f->file, &ps_pipeline_config_of(p)->limits, &wb, &err) != PS_OK)
        wb = NULL;
    f->data = wb;
}

static void report_discard(ps_sink *s, ps_sink_file *f)
{
    (void)s;
    ps_workbook_free(f->data);
    f->data = NULL;
}

static ps_status report_file(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    report_sink *r = (report_sink *)s;
    ps_workbook *wb = f->data;
    f->data = NULL;
    ps_status st = PS_ERR_IO;
    if (r->report) {
        ps_error err;
        st = f->error ? ps_report_add_file(r->report, f->file, NULL, NULL, 0, f->error, &err)
                      : ps_report_add_file(r->report, f->file, wb, f->docs, f->ndocs, NULL, &err);
        if (st != PS_OK) { /* the report is unusable: say it once and drop it */
            ps_pipeline_error(p, &err);
            ps_report_abort(r->report);
            r->report = NULL;
        }
    }
    ps_workbook_free(wb);
    return st;
}

static ps_status report_end(ps_sink *s, ps_pipeline *p, bool interrupted)
{
    report_sink *r = (report_sink *)s;
    ps_error err;
    ps_status st = PS_OK;
    if (!r->report) {
        if (!interrupted)
            ps_pipeline_notice(p, NULL, "未写出 %s", r->path);
        return PS_ERR_IO;
    }
    if (interrupted) {
        ps_report_abort(r->report);
        ps_pipeline_notice(p, NULL, "已中断，未写出 %s", r->path);
    } else if ((st = ps_report_close(r->report, &err)) != PS_OK) {
        ps_pipeline_error(p, &err);
    } else {
        ps_pipeline_output(p, r->path);
    }
    r->report = NULL;
    return st;
}

static void report_free(ps_sink *s)
{
    report_sink *r = (report_sink *)s;
    ps_report_abort(r->report);
    free(r);
}

ps_sink *ps_sink_report_new(const char *path)
{
    report_sink *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->base = (ps_sink){.work = PS_WORK_CHECK,
                        .whole_documents = true,
                        .begin = report_begin,
                        .prepare = report_prepare,
                        .file = report_file,
                        .discard = report_discard,
                        .end = report_end,
                        .free = report_free};
    r->path = path;
    return &r->base;
}
