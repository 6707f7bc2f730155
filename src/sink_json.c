/* sink_json.c - the JSON Lines of detect, extract and check --json (spec/cli.md): one line
 * per input file, in input order; a file that could not be read has its error there. */
#include "perfsheet/pipeline.h"

#include <stdlib.h>
#include <string.h>

typedef struct json_sink {
    ps_sink base;
    FILE *out;
} json_sink;

static void detect_json(ps_buf *b, const ps_sink_input *in)
{
    ps_buf_puts(b, "{\"file\":");
    ps_json_string(b, in->file);
    ps_buf_puts(b, ",\"status\":\"ok\",\"sheets\":[");
    for (size_t k = 0; k < in->ndetections; k++) {
        const ps_detection *d = &in->detections[k];
        ps_buf_puts(b, k ? ",{\"sheet\":" : "{\"sheet\":");
        ps_json_string(b, ps_sheet_name(ps_workbook_sheet(in->workbook, d->sheet)));
        ps_buf_puts(b, ",\"template\":");
        ps_json_string(b, d->mapping ? ps_mapping_id(d->mapping) : NULL);
        ps_buf_puts(b, ",\"mapping\":");
        ps_json_string(b, d->mapping ? ps_mapping_path(d->mapping) : NULL);
        if (d->part) {
            ps_buf_puts(b, ",\"part\":");
            ps_json_string(b, d->part);
        }
        ps_buf_puts(b, ",\"score\":");
        ps_json_number(b, d->score, false);
        ps_buf_printf(b, ",\"complete\":%s", d->complete ? "true" : "false");
        if (d->missing[0]) {
            ps_buf_puts(b, ",\"missing\":");
            ps_json_string(b, d->missing);
        }
        ps_buf_puts(b, "}");
    }
    ps_buf_puts(b, "]}\n");
}

/* extract and check keep, per file, the length of the documents array (4 bytes), the array,
 * then the finding objects: the cross-table ones join them at the file's turn. */
static void json_render(ps_sink *s, const ps_sink_input *in, ps_buf *kept)
{
    if (s->work == PS_WORK_DETECT) {
        detect_json(kept, in);
        return;
    }
    ps_buf documents = {0};
    ps_report_documents_json(&documents, in->docs, in->ndocs, s->work == PS_WORK_EXTRACT);
    uint32_t len = (uint32_t)documents.len;
    ps_buf_append(kept, (const char *)&len, sizeof len);
    ps_buf_append(kept, documents.data, documents.len);
    kept->oom |= documents.oom || documents.len > UINT32_MAX;
    ps_buf_free(&documents);
    bool first = true;
    for (size_t k = 0; k < in->ndocs; k++)
        ps_report_findings_items(kept, ps_document_findings_const(in->docs[k]), &first);
}

static void json_prepare(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    (void)p;
    if (f->error) {
        ps_report_file_json(&f->out, f->file, f->error, NULL, 0, false, false);
        return;
    }
    if (s->work == PS_WORK_DETECT) {
        ps_buf_append(&f->out, f->kept, f->kept_len);
        return;
    }
    uint32_t len = 0;
    if (f->kept_len >= sizeof len)
        memcpy(&len, f->kept, sizeof len);
    ps_buf documents = {0}, findings = {0};
    if (len)
        ps_buf_append(&documents, f->kept + sizeof len, len);
    if (f->kept_len > sizeof len + len)
        ps_buf_append(&findings, f->kept + sizeof len + len, f->kept_len - sizeof len - len);
    bool first = findings.len == 0;
    for (size_t k = 0; k < f->ncross; k++)
        ps_report_findings_items(&findings, ps_document_findings_const(f->cross[k]), &first);
    bool reportable = f->by_severity[PS_SEV_ERROR] + f->by_severity[PS_SEV_WARNING] > 0;
    ps_report_file_line(&f->out, f->file, &documents, &findings, true, reportable);
    ps_buf_free(&documents);
    ps_buf_free(&findings);
}

static ps_status json_file(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    (void)p;
    if (f->out.len)
        fwrite(f->out.data, 1, f->out.len, ((json_sink *)s)->out);
    return PS_OK;
}

static void json_free(ps_sink *s)
{
    free(s);
}

ps_sink *ps_sink_json_new(ps_pipeline_work work, FILE *out)
{
    json_sink *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->base = (ps_sink){
        .work = work, .render = json_render, .prepare = json_prepare, .file = json_file, .free = json_free};
    j->out = out;
    return &j->base;
}
