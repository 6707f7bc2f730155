/* writer_common.c - cell formats, typed values, finding lookups and atomic workbook output
 * shared by the standardized (writer_xlsx.c) and consolidated (merge.c) workbooks. */
#include "writer_int.h"

#include "perfsheet/workbook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 2000-01-01T00:00:00Z: every workbook says it was created then, so that the same input gives
 * the same bytes. */
#define WR_FIXED_CREATED ((time_t)946684800)

static const lxw_color_t sev_fill[WR_SEV_LEVELS] = {0, 0xDDEBF7, 0xFFEB9C, 0xFFC7CE};

wr_kind wr_kind_of(ps_field_type t)
{
    switch (t) {
    case PS_TYPE_MONEY:
        return WR_K_MONEY;
    case PS_TYPE_INT:
    case PS_TYPE_YEAR:
        return WR_K_INT;
    case PS_TYPE_NUMBER:
        return WR_K_NUMBER;
    case PS_TYPE_FRACTION:
        return WR_K_RATE;
    case PS_TYPE_DATE:
        return WR_K_DATE;
    default:
        return WR_K_TEXT;
    }
}

lxw_format *wr_format(wr_formats *fm, wr_kind kind, int sev)
{
    if (sev < 0 || sev >= WR_SEV_LEVELS)
        sev = 0;
    if (fm->f[kind][sev])
        return fm->f[kind][sev];
    lxw_format *f = workbook_add_format(fm->wb);
    if (!f)
        return NULL;
    switch (kind) {
    case WR_K_MONEY:
        format_set_num_format(f, "0.00");
        break;
    case WR_K_INT:
        format_set_num_format(f, "0");
        break;
    case WR_K_RATE:
        format_set_num_format(f, "0.00%");
        break;
    case WR_K_DATE:
        format_set_num_format(f, "yyyy-mm-dd");
        break;
    case WR_K_TEXT:
        format_set_text_wrap(f);
        break;
    case WR_K_LABEL:
        format_set_text_wrap(f);
        break;
    case WR_K_HEADER:
        format_set_bold(f);
        format_set_text_wrap(f);
        format_set_align(f, LXW_ALIGN_CENTER);
        format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
        if (!sev)
            format_set_bg_color(f, 0xD9D9D9);
        break;
    case WR_K_TITLE:
        format_set_bold(f);
        format_set_font_size(f, 14);
        break;
    case WR_K_TOTAL:
        format_set_bold(f);
        break;
    default:
        break;
    }
    if (kind != WR_K_TITLE) {
        format_set_border(f, LXW_BORDER_THIN);
        format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
    }
    if (sev)
        format_set_bg_color(f, sev_fill[sev]);
    fm->f[kind][sev] = f;
    return f;
}

bool wr_parse_date(const char *s, lxw_datetime *dt)
{
    if (!s)
        return false;
    int y, mo, d, h = 0, mi = 0, n = 0;
    double sec = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return false;
    if (s[n] == 'T' || s[n] == ' ') {
        int n2 = 0;
        if (sscanf(s + n + 1, "%2d:%2d%n", &h, &mi, &n2) != 2)
            return false;
        if (s[n + 1 + n2] == ':')
            sec = strtod(s + n + 2 + n2, NULL);
    } else if (s[n] != '\0') {
        return false;
    }
    if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || !(sec >= 0 && sec < 61))
        return false;
    *dt = (lxw_datetime){y, mo, d, h, mi, sec};
    return true;
}

lxw_error wr_write_value(lxw_worksheet *ws, uint32_t row, uint16_t col, const ps_value *v,
                         ps_field_type t, wr_formats *fm, int sev)
{
    wr_kind k = wr_kind_of(t);
    lxw_format *f = wr_format(fm, k, sev);
    if (!v)
        return worksheet_write_blank(ws, row, col, f);
    const char *text = v->text ? v->text : v->raw;
    switch (k) {
    case WR_K_MONEY:
    case WR_K_INT:
    case WR_K_NUMBER:
    case WR_K_RATE:
        if (v->has_number)
            return worksheet_write_number(ws, row, col, v->number, f);
        break;
    case WR_K_DATE: {
        lxw_datetime dt;
        if (wr_parse_date(v->text, &dt))
            return worksheet_write_datetime(ws, row, col, &dt, f);
        if (!text && v->has_number)
            return worksheet_write_number(ws, row, col, v->number, f);
        break;
    }
    default:
        if (!text && v->has_number)
            return worksheet_write_number(ws, row, col, v->number, wr_format(fm, WR_K_NUMBER, sev));
        break;
    }
    if (text) /* text is data, never a formula, even when it starts with = + - @ */
        return worksheet_write_string(ws, row, col, text, wr_format(fm, WR_K_TEXT, sev));
    return worksheet_write_blank(ws, row, col, f);
}

int wr_cell_severity(const ps_findings *fl, const char *sheet, uint32_t row, uint32_t col, char *msg,
                     size_t msg_size)
{
    int level = 0;
    size_t n = fl ? findings_count(fl) : 0;
    for (size_t i = 0; i < n; i++) {
        const ps_finding *f = findings_at(fl, i);
        uint32_t r, c;
        if (!f->cell || !cell_ref_parse(f->cell, &r, &c) || r != row || c != col)
            continue;
        if (f->sheet && sheet && strcmp(f->sheet, sheet) != 0)
            continue;
        if ((int)f->severity + 1 > level)
            level = (int)f->severity + 1;
        if (msg && msg_size) {
            size_t used = strlen(msg);
            if (used + 1 < msg_size)
                snprintf(msg + used, msg_size - used, "%s[%s] %s: %s", used ? "\n" : "",
                         severity_name(f->severity), f->rule, f->message);
        }
    }
    return level;
}

void wr_temp_path(const char *path, char *buf, size_t size)
{
    static atomic_uint counter;
    unsigned n = atomic_fetch_add(&counter, 1u);
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    snprintf(buf, size, "%.*s.%.64s.tmp-%ld-%u.xlsx", dirlen, path, name, (long)getpid(), n);
}

lxw_workbook *wr_workbook_new(const char *tmp, bool constant_memory, const char *title, ps_error *err)
{
    /* Create the file first: it reserves the name and reports a bad folder in our words. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        error_set(err, PS_ERR_IO, tmp, "无法创建输出文件：%s", strerror(errno));
        return NULL;
    }
    close(fd);
    lxw_workbook_options opt = {.constant_memory = constant_memory ? LXW_TRUE : LXW_FALSE,
                                .tmpdir = NULL,
                                .use_zip64 = LXW_FALSE};
    lxw_workbook *wb = workbook_new_opt(tmp, &opt);
    if (!wb) {
        unlink(tmp);
        error_set(err, PS_ERR_NOMEM, tmp, "无法创建工作簿");
        return NULL;
    }
    lxw_doc_properties props = {0};
    props.title = (char *)(title ? title : "");
    props.author = "perfsheet";
    props.created = WR_FIXED_CREATED;
    workbook_set_properties(wb, &props);
    return wb;
}

ps_status wr_workbook_commit(lxw_workbook *wb, const char *tmp, const char *path, ps_error *err)
{
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR) {
        unlink(tmp);
        return error_set(err, PS_ERR_IO, path, "无法写入工作簿：%s", lxw_strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return error_set(err, PS_ERR_IO, path, "无法改名为目标文件：%s", strerror(saved));
    }
    return PS_OK;
}
