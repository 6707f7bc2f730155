/* sink_text.c - the text output of detect, extract and check (spec/cli.md): one line per
 * sheet (detect), the values and tables of each document (extract), one line per error or
 * warning finding (check). Files that could not be read print nothing here: the caller says
 * why on stderr. */
#include "perfsheet/pipeline.h"

#include <stdlib.h>

typedef struct text_sink {
    ps_sink base;
    FILE *out;
} text_sink;

static void findings_text(ps_buf *b, const ps_document *d, bool with_info)
{
    const ps_findings *fl = ps_document_findings_const(d);
    for (size_t k = 0; k < ps_findings_count(fl); k++) {
        const ps_finding *f = ps_findings_at(fl, k);
        if (f->severity == PS_SEV_INFO && !with_info)
            continue;
        ps_buf_printf(b, "%s:%s!%s: %s [%s] %s\n", ps_document_file(d),
                      f->sheet ? f->sheet : ps_document_sheet(d), f->cell ? f->cell : "-",
                      ps_severity_name(f->severity), f->rule, f->message);
    }
}

static void extract_text(ps_buf *b, const ps_document *d)
{
    char ref[320];
    char year[16] = "未知年度"; /* a document without a year has 0 */
    if (ps_document_year(d) != 0)
        snprintf(year, sizeof year, "%d", ps_document_year(d));
    ps_buf_printf(b, "%s:%s: %s (%s) %s %s\n", ps_document_file(d), ps_document_sheet(d),
                  ps_document_template(d), ps_document_mapping(d),
                  ps_document_unit(d) ? ps_document_unit(d) : "?", year);
    for (size_t k = 0; k < ps_document_value_count(d); k++) {
        const ps_value *v = ps_document_value_at(d, k);
        ps_buf_printf(b, "  %-28s ", ps_document_value_key(d, k));
        ps_report_value_json(b, v);
        if (v->row != PS_NO_CELL)
            ps_buf_printf(b, "  ← %s", ps_document_value_ref(d, v, ref, sizeof ref));
        ps_buf_puts(b, "\n");
    }
    for (size_t t = 0; t < ps_document_table_count(d); t++) {
        const ps_table *tb = ps_document_table_at(d, t);
        ps_buf_printf(b, "  table %s: %zu rows\n", ps_table_name(tb), ps_table_row_count(tb));
        for (size_t r = 0; r < ps_table_row_count(tb); r++) {
            ps_buf_printf(b, "    %3zu", r + 1);
            for (size_t c = 0; c < ps_table_column_count(tb); c++) {
                const ps_value *v = ps_table_get(tb, r, ps_table_column(tb, c));
                if (!v)
                    continue;
                ps_buf_printf(b, " %s=", ps_table_column(tb, c));
                ps_report_value_json(b, v);
            }
            ps_buf_puts(b, "\n");
        }
    }
}

static void detect_text(ps_buf *b, const ps_sink_input *in)
{
    for (size_t k = 0; k < in->ndetections; k++) {
        const ps_detection *d = &in->detections[k];
        const char *name = ps_sheet_name(ps_workbook_sheet(in->workbook, d->sheet));
        if (d->mapping)
            ps_buf_printf(b, "%s:%s: %s (%s)%s%s 匹配度 %.0f%%%s%s\n", in->file, name,
                          ps_mapping_id(d->mapping), ps_mapping_path(d->mapping), d->part ? " " : "",
                          d->part ? d->part : "", d->score * 100, d->complete ? "" : "，不完整：缺少 ",
                          d->complete ? "" : d->missing);
        else
            ps_buf_printf(b, "%s:%s: 未识别的表%s%s\n", in->file, name, d->missing[0] ? "：" : "",
                          d->missing);
    }
}

static void text_render(ps_sink *s, const ps_sink_input *in, ps_buf *kept)
{
    switch (s->work) {
    case PS_WORK_DETECT: detect_text(kept, in); break;
    case PS_WORK_EXTRACT:
        for (size_t k = 0; k < in->ndocs; k++)
            extract_text(kept, in->docs[k]);
        break;
    case PS_WORK_CHECK:
        for (size_t k = 0; k < in->ndocs; k++)
            findings_text(kept, in->docs[k], false);
        break;
    }
}

static void text_prepare(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    (void)p;
    if (f->error)
        return;
    ps_buf_append(&f->out, f->kept, f->kept_len);
    for (size_t k = 0; s->work == PS_WORK_CHECK && k < f->ncross; k++)
        findings_text(&f->out, f->cross[k], false);
}

static ps_status text_file(ps_sink *s, ps_pipeline *p, ps_sink_file *f)
{
    (void)p;
    if (f->out.len)
        fwrite(f->out.data, 1, f->out.len, ((text_sink *)s)->out);
    return PS_OK;
}

static void text_free(ps_sink *s)
{
    free(s);
}

ps_sink *ps_sink_text_new(ps_pipeline_work work, FILE *out)
{
    text_sink *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->base = (ps_sink){
        .work = work, .render = text_render, .prepare = text_prepare, .file = text_file, .free = text_free};
    t->out = out;
    return &t->base;
}
