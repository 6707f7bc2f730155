/* sink_sqlite.c - `perfsheet merge -o OUT.sqlite` (or .db): the batch as a SQLite database
 * (sqlite_out.h, docs/sqlite.md), each file inserted at its turn, in input order. */
#include "perfsheet/pipeline.h"
#include "perfsheet/sqlite_out.h"

#include <stdlib.h>

typedef struct sqlite_sink {
    ps_sink base;
    const char *path;
    ps_sqlite_out *db;
} sqlite_sink;

static ps_status sqlite_begin(ps_sink *s, ps_pipeline *p)
{
    sqlite_sink *q = (sqlite_sink *)s;
    ps_error err;
    ps_status st = ps_sqlite_out_open(q->path, &q->db, &err);
    if (st != PS_OK)
        ps_pipeline_error(p, &err);
    return st;
}

static ps_status sqlite_file(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    sqlite_sink *q = (sqlite_sink *)s;
    ps_error err;
    if (!q->db)
        return PS_ERR_IO; /* an earlier file failed and said so */
    ps_status st = ps_sqlite_out_add_file(q->db, f->file, f->error, f->docs, f->ndocs, &err);
    if (st != PS_OK) { /* the database is unusable: say it once and drop it */
        ps_pipeline_error(p, &err);
        ps_sqlite_out_abort(q->db);
        q->db = NULL;
    }
    return st;
}

static ps_status sqlite_end(ps_sink *s, ps_pipeline *p, bool interrupted)
{
    sqlite_sink *q = (sqlite_sink *)s;
    ps_error err;
    ps_status st = PS_OK;
    if (!q->db)
        return PS_ERR_IO;
    if (interrupted) {
        ps_sqlite_out_abort(q->db);
        ps_pipeline_notice(p, NULL, "已中断，未写出 %s", q->path);
    } else if ((st = ps_sqlite_out_close(q->db, &err)) != PS_OK) {
        ps_pipeline_error(p, &err);
    } else {
        ps_pipeline_output(p, q->path);
    }
    q->db = NULL;
    return st;
}

static void sqlite_free(ps_sink *s)
{
    sqlite_sink *q = (sqlite_sink *)s;
    ps_sqlite_out_abort(q->db);
    free(q);
}

ps_sink *ps_sink_sqlite_new(const char *path)
{
    sqlite_sink *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->base = (ps_sink){.work = PS_WORK_CHECK,
                        .whole_documents = true,
                        .begin = sqlite_begin,
                        .file = sqlite_file,
                        .end = sqlite_end,
                        .free = sqlite_free};
    q->path = path;
    return &q->base;
}
