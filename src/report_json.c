/* report_json.c - JSON Lines of spec/cli.md: inspect, extract and check objects. */
#include "perfsheet/report_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ps_buf_free(ps_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static bool buf_reserve(ps_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void ps_buf_append(ps_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ps_buf_puts(ps_buf *b, const char *s)
{
    ps_buf_append(b, s, strlen(s));
}

void ps_buf_printf(ps_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        ps_buf_append(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (s[0] == 0xE0 && s[1] < 0xA0)
            return 0;
        if (s[0] == 0xED && s[1] >= 0xA0)
            return 0; /* surrogates */
        return 3;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

void ps_json_string(ps_buf *b, const char *str)
{
    if (!str) {
        ps_buf_puts(b, "null");
        return;
    }
    const unsigned char *s = (const unsigned char *)str;
    ps_buf_append(b, "\"", 1);
    const unsigned char *run = s;
    while (*s) {
        if (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\') {
            s++;
            continue;
        }
        size_t n = *s >= 0x80 ? utf8_len(s) : 1;
        if (*s >= 0x80 && n > 0) {
            s += n;
            continue;
        }
        ps_buf_append(b, (const char *)run, (size_t)(s - run));
        switch (*s) {
        case '"': ps_buf_puts(b, "\\\""); break;
        case '\\': ps_buf_puts(b, "\\\\"); break;
        case '\n': ps_buf_puts(b, "\\n"); break;
        case '\r': ps_buf_puts(b, "\\r"); break;
        case '\t': ps_buf_puts(b, "\\t"); break;
        default:
            if (*s < 0x20)
                ps_buf_printf(b, "\\u%04x", *s);
            else
                ps_buf_puts(b, "\xEF\xBF\xBD"); /* invalid UTF-8 byte */
        }
        s++;
        run = s;
    }
    ps_buf_append(b, (const char *)run, (size_t)(s - run));
    ps_buf_append(b, "\"", 1);
}

void ps_json_number(ps_buf *b, double v, bool as_int)
{
    if (!isfinite(v)) {
        ps_buf_puts(b, "null");
        return;
    }
    if (as_int && fabs(v) < 9e15 && v == floor(v)) {
        ps_buf_printf(b, "%.0f", v);
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    ps_buf_puts(b, tmp);
    if (!strpbrk(tmp, ".eEn"))
        ps_buf_puts(b, ".0");
}

static const char *type_name(ps_cell_type t)
{
    switch (t) {
    case PS_CELL_NUMBER: return "number";
    case PS_CELL_TEXT: return "text";
    case PS_CELL_BOOL: return "bool";
    case PS_CELL_ERROR: return "error";
    case PS_CELL_DATE: return "date";
    default: return "blank";
    }
}

static const char *format_name(ps_format_class f)
{
    switch (f) {
    case PS_FMT_NUMBER: return "number";
    case PS_FMT_PERCENT: return "percent";
    case PS_FMT_DATE: return "date";
    case PS_FMT_TEXT: return "text";
    default: return "general";
    }
}

bool ps_cell_display(const ps_cell *c, char *buf, size_t size)
{
    if (c->type != PS_CELL_NUMBER || c->decimals == 255)
        return false;
    int d = c->decimals > 15 ? 15 : c->decimals;
    if (c->format == PS_FMT_PERCENT) {
        snprintf(buf, size, "%.*f%%", d, c->number * 100.0);
        return true;
    }
    if (c->format == PS_FMT_NUMBER) {
        snprintf(buf, size, "%.*f", d, c->number);
        return true;
    }
    return false;
}

static void error_json(ps_buf *b, const ps_error *err)
{
    ps_buf_puts(b, ",\"error\":{\"code\":");
    ps_json_string(b, ps_error_code_name(err->code));
    ps_buf_puts(b, ",\"message\":");
    ps_json_string(b, err->message);
    if (err->sheet[0]) {
        ps_buf_puts(b, ",\"sheet\":");
        ps_json_string(b, err->sheet);
    }
    if (err->cell[0]) {
        ps_buf_puts(b, ",\"cell\":");
        ps_json_string(b, err->cell);
    }
    ps_buf_puts(b, "}");
}

void ps_report_inspect_json(ps_buf *b, const char *file, const ps_workbook *wb, const ps_error *err)
{
    ps_buf_puts(b, "{\"file\":");
    ps_json_string(b, file);
    if (!wb) {
        ps_buf_puts(b, ",\"status\":\"error\"");
        error_json(b, err);
        ps_buf_puts(b, "}\n");
        return;
    }
    ps_buf_puts(b, ",\"status\":\"ok\",\"format\":");
    ps_json_string(b, ps_workbook_format_name(ps_workbook_format(wb)));
    if (ps_workbook_format(wb) == PS_FORMAT_XLS_BIFF5 && ps_workbook_codepage(wb))
        ps_buf_printf(b, ",\"codepage\":%d", ps_workbook_codepage(wb));
    ps_buf_puts(b, ",\"sheets\":[");
    char ref[16], ref2[16], disp[64];
    for (size_t s = 0; s < ps_workbook_sheet_count(wb); s++) {
        const ps_sheet *sh = ps_workbook_sheet(wb, s);
        ps_buf_puts(b, s ? ",{\"name\":" : "{\"name\":");
        ps_json_string(b, ps_sheet_name(sh));
        ps_buf_printf(b, ",\"rows\":%u,\"cols\":%u,\"merges\":[", ps_sheet_rows(sh), ps_sheet_cols(sh));
        const ps_range *m = ps_sheet_merges(sh);
        for (size_t i = 0; i < ps_sheet_merge_count(sh); i++)
            ps_buf_printf(b, "%s\"%s:%s\"", i ? "," : "",
                          ps_cell_ref(m[i].first_row, m[i].first_col, ref, sizeof ref),
                          ps_cell_ref(m[i].last_row, m[i].last_col, ref2, sizeof ref2));
        ps_buf_puts(b, "],\"cells\":[");
        const ps_cell *cells = ps_sheet_cells(sh);
        for (size_t i = 0; i < ps_sheet_cell_count(sh); i++) {
            const ps_cell *c = &cells[i];
            ps_buf_printf(b, "%s{\"ref\":\"%s\",\"type\":\"%s\",\"value\":", i ? "," : "",
                          ps_cell_ref(c->row, c->col, ref, sizeof ref), type_name(c->type));
            switch (c->type) {
            case PS_CELL_NUMBER: ps_json_number(b, c->number, false); break;
            case PS_CELL_BOOL: ps_buf_puts(b, c->number != 0 ? "true" : "false"); break;
            default: ps_json_string(b, c->text ? c->text : ""); break;
            }
            if (c->formula)
                ps_buf_puts(b, ",\"formula\":true");
            if (c->format != PS_FMT_GENERAL) {
                ps_buf_puts(b, ",\"format\":");
                ps_json_string(b, format_name(c->format));
            }
            if (ps_cell_display(c, disp, sizeof disp)) {
                ps_buf_puts(b, ",\"display\":");
                ps_json_string(b, disp);
            }
            ps_buf_puts(b, "}");
        }
        ps_buf_puts(b, "]}");
    }
    ps_buf_puts(b, "]}\n");
}

static bool is_int_type(ps_field_type t)
{
    return t == PS_TYPE_INT || t == PS_TYPE_YEAR;
}

void ps_report_value_json(ps_buf *b, const ps_value *v)
{
    bool textual = v->type == PS_TYPE_TEXT || v->type == PS_TYPE_DATE || v->type == PS_TYPE_PHONE ||
                   v->type == PS_TYPE_GRADE || v->type == PS_TYPE_TARGET;
    if (textual && v->text)
        ps_json_string(b, v->text);
    else if (v->has_number)
        ps_json_number(b, v->number,
                       is_int_type(v->type) || (v->number == floor(v->number) && fabs(v->number) < 1e15));
    else
        ps_json_string(b, v->text ? v->text : v->raw);
}

void ps_report_finding_json(ps_buf *b, const ps_finding *f)
{
    ps_buf_puts(b, "{\"rule\":");
    ps_json_string(b, f->rule);
    ps_buf_puts(b, ",\"severity\":");
    ps_json_string(b, ps_severity_name(f->severity));
    ps_buf_puts(b, ",\"sheet\":");
    ps_json_string(b, f->sheet);
    ps_buf_puts(b, ",\"cell\":");
    ps_json_string(b, f->cell);
    ps_buf_puts(b, ",\"cells\":[");
    for (size_t i = 0; i < f->ncells; i++) {
        if (i)
            ps_buf_puts(b, ",");
        ps_json_string(b, f->cells[i]);
    }
    ps_buf_puts(b, "]");
    const ps_scalar *sc[2] = {&f->expected, &f->actual};
    const char *names[2] = {"expected", "actual"};
    for (int i = 0; i < 2; i++) {
        if (sc[i]->kind == PS_SCALAR_NONE)
            continue;
        ps_buf_printf(b, ",\"%s\":", names[i]);
        if (sc[i]->kind == PS_SCALAR_NUMBER)
            ps_json_number(b, sc[i]->number,
                           sc[i]->number == floor(sc[i]->number) && fabs(sc[i]->number) < 1e15);
        else
            ps_json_string(b, sc[i]->text);
    }
    ps_buf_puts(b, ",\"message\":");
    ps_json_string(b, f->message);
    ps_buf_puts(b, "}");
}

static void sources_json(ps_buf *b, const ps_document *d)
{
    char ref[320];
    ps_buf_puts(b, ",\"sources\":{");
    bool first = true;
    for (size_t i = 0; i < ps_document_value_count(d); i++) {
        const ps_value *v = ps_document_value_at(d, i);
        if (v->row == PS_NO_CELL)
            continue;
        if (!first)
            ps_buf_puts(b, ",");
        first = false;
        ps_json_string(b, ps_document_value_key(d, i));
        ps_buf_puts(b, ":");
        ps_json_string(b, ps_document_value_ref(d, v, ref, sizeof ref));
    }
    ps_buf_puts(b, "}");
}

static void tables_json(ps_buf *b, const ps_document *d)
{
    ps_buf_puts(b, ",\"tables\":{");
    for (size_t t = 0; t < ps_document_table_count(d); t++) {
        const ps_table *tb = ps_document_table_at(d, t);
        if (t)
            ps_buf_puts(b, ",");
        ps_json_string(b, ps_table_name(tb));
        ps_buf_puts(b, ":[");
        for (size_t r = 0; r < ps_table_row_count(tb); r++) {
            ps_buf_puts(b, r ? ",{" : "{");
            bool first = true;
            for (size_t c = 0; c < ps_table_column_count(tb); c++) {
                const ps_value *v = ps_table_get(tb, r, ps_table_column(tb, c));
                if (!v)
                    continue;
                if (!first)
                    ps_buf_puts(b, ",");
                first = false;
                ps_json_string(b, ps_table_column(tb, c));
                ps_buf_puts(b, ":");
                ps_report_value_json(b, v);
            }
            ps_buf_puts(b, "}");
        }
        ps_buf_puts(b, "]");
    }
    ps_buf_puts(b, "}");
}

void ps_report_documents_json(ps_buf *b, ps_document *const *docs, size_t n, bool with_values)
{
    ps_buf_puts(b, "[");
    for (size_t i = 0; i < n; i++) {
        const ps_document *d = docs[i];
        ps_buf_puts(b, i ? ",{\"sheet\":" : "{\"sheet\":");
        ps_json_string(b, ps_document_sheet(d));
        if (ps_document_sheet_count(d) > 1) { /* a multi-sheet template: every sheet, in part order */
            ps_buf_puts(b, ",\"sheets\":[");
            for (size_t k = 0; k < ps_document_sheet_count(d); k++) {
                if (k)
                    ps_buf_puts(b, ",");
                ps_json_string(b, ps_document_sheet_at(d, k));
            }
            ps_buf_puts(b, "]");
        }
        ps_buf_puts(b, ",\"template\":");
        ps_json_string(b, ps_document_template(d));
        ps_buf_puts(b, ",\"mapping\":");
        ps_json_string(b, ps_document_mapping(d));
        ps_buf_puts(b, ",\"unit\":");
        ps_json_string(b, ps_document_unit(d));
        ps_buf_puts(b, ",\"year\":");
        if (ps_document_year(d))
            ps_buf_printf(b, "%d", ps_document_year(d));
        else
            ps_buf_puts(b, "null");
        if (with_values) {
            ps_buf_puts(b, ",\"values\":{");
            for (size_t k = 0; k < ps_document_value_count(d); k++) {
                if (k)
                    ps_buf_puts(b, ",");
                ps_json_string(b, ps_document_value_key(d, k));
                ps_buf_puts(b, ":");
                ps_report_value_json(b, ps_document_value_at(d, k));
            }
            ps_buf_puts(b, "}");
            sources_json(b, d);
            tables_json(b, d);
        }
        ps_buf_puts(b, "}");
    }
    ps_buf_puts(b, "]");
}

void ps_report_findings_items(ps_buf *b, const ps_findings *list, bool *first)
{
    for (size_t k = 0; k < ps_findings_count(list); k++) {
        if (!*first)
            ps_buf_puts(b, ",");
        *first = false;
        ps_report_finding_json(b, ps_findings_at(list, k));
    }
}

void ps_report_file_line(ps_buf *b, const char *file, const ps_buf *documents, const ps_buf *findings,
                         bool with_findings, bool has_findings)
{
    ps_buf_puts(b, "{\"file\":");
    ps_json_string(b, file);
    ps_buf_puts(b, with_findings && has_findings ? ",\"status\":\"findings\"" : ",\"status\":\"ok\"");
    ps_buf_puts(b, ",\"documents\":");
    ps_buf_append(b, documents->data ? documents->data : "[]", documents->data ? documents->len : 2);
    if (with_findings) {
        ps_buf_puts(b, ",\"findings\":[");
        if (findings->data)
            ps_buf_append(b, findings->data, findings->len);
        ps_buf_puts(b, "]");
    }
    ps_buf_puts(b, "}\n");
}

static bool worth_reporting(const ps_document *d)
{
    const ps_findings *fl = ps_document_findings_const(d);
    return ps_findings_count_severity(fl, PS_SEV_ERROR) + ps_findings_count_severity(fl, PS_SEV_WARNING) > 0;
}

void ps_report_file_json(ps_buf *b, const char *file, const ps_error *err, ps_document *const *docs, size_t n,
                         bool with_values, bool with_findings)
{
    if (err && err->code != PS_OK) {
        ps_buf_puts(b, "{\"file\":");
        ps_json_string(b, file);
        ps_buf_puts(b, ",\"status\":\"error\"");
        error_json(b, err);
        ps_buf_puts(b, ",\"documents\":[],\"findings\":[]}\n");
        return;
    }
    ps_buf documents = {0}, findings = {0};
    bool has = false, first = true;
    ps_report_documents_json(&documents, docs, n, with_values);
    for (size_t i = 0; i < n; i++) {
        has = has || worth_reporting(docs[i]);
        if (with_findings)
            ps_report_findings_items(&findings, ps_document_findings_const(docs[i]), &first);
    }
    ps_report_file_line(b, file, &documents, &findings, with_findings, has);
    ps_buf_free(&documents);
    ps_buf_free(&findings);
}
