/* writer_common.c - cell formats, typed values, finding lookups and atomic workbook output
 * shared by the standardized (writer_xlsx.c) and consolidated (merge.c) workbooks. */
#include "writer_int.h"

#include "perfsheet/workbook.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 2000-01-01T00:00:00Z: every workbook says it was created then, so that the same input gives
 * the same bytes. */
#define WR_FIXED_CREATED ((time_t)946684800)

static const lxw_color_t sev_fill[WR_SEV_LEVELS] = {0, 0xDDEBF7, 0xFFEB9C, 0xFFC7CE};

wr_kind ps_wr_kind_of(ps_field_type t)
{
    switch (t) {
    case PS_TYPE_MONEY: return WR_K_MONEY;
    case PS_TYPE_INT:
    case PS_TYPE_YEAR: return WR_K_INT;
    case PS_TYPE_NUMBER: return WR_K_NUMBER;
    case PS_TYPE_FRACTION: return WR_K_RATE;
    case PS_TYPE_DATE: return WR_K_DATE;
    default: return WR_K_TEXT;
    }
}

lxw_format *ps_wr_format(wr_formats *fm, wr_kind kind, int sev)
{
    if (sev < 0 || sev >= WR_SEV_LEVELS)
        sev = 0;
    if (fm->f[kind][sev])
        return fm->f[kind][sev];
    lxw_format *f = workbook_add_format(fm->wb);
    if (!f)
        return NULL;
    switch (kind) {
    case WR_K_MONEY: format_set_num_format(f, "0.00"); break;
    case WR_K_INT: format_set_num_format(f, "0"); break;
    case WR_K_RATE: format_set_num_format(f, "0.00%"); break;
    case WR_K_DATE: format_set_num_format(f, "yyyy-mm-dd"); break;
    case WR_K_TEXT: format_set_text_wrap(f); break;
    case WR_K_LABEL: format_set_text_wrap(f); break;
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
    case WR_K_TOTAL: format_set_bold(f); break;
    default: break;
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

bool ps_wr_parse_date(const char *s, lxw_datetime *dt)
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

/* Excel holds at most 32,767 UTF-16 units in a cell. */
#define WR_CELL_UNITS 32767

/* Length of the valid UTF-8 sequence at s (at most n bytes) and its UTF-16 size, or 0. */
static size_t utf8_len(const unsigned char *s, size_t n, size_t *units)
{
    unsigned char c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *units = cp >= 0x10000 ? 2 : 1;
    return len;
}

lxw_error ps_wr_write_string(lxw_worksheet *ws, uint32_t row, uint16_t col, const char *text, lxw_format *f)
{
    if (!text)
        return worksheet_write_blank(ws, row, col, f);
    /* Fast path: valid UTF-8, no control characters XML cannot carry, short enough. */
    size_t n = strlen(text), units = 0, i = 0;
    bool clean = true;
    while (i < n) {
        size_t u = 0, l = utf8_len((const unsigned char *)text + i, n - i, &u);
        unsigned char c = (unsigned char)text[i];
        if (l == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || units + u > WR_CELL_UNITS) {
            clean = false;
            break;
        }
        units += u;
        i += l;
    }
    if (clean)
        return worksheet_write_string(ws, row, col, text, f);
    /* Copy: invalid bytes become U+FFFD, control characters a space, cut at the limit. */
    char *buf = malloc(n * 3 + 4);
    if (!buf)
        return LXW_ERROR_MEMORY_MALLOC_FAILED;
    size_t o = 0;
    units = 0;
    for (i = 0; i < n;) {
        size_t u = 1, l = utf8_len((const unsigned char *)text + i, n - i, &u);
        unsigned char c = (unsigned char)text[i];
        if (units + u > WR_CELL_UNITS)
            break;
        if (l == 0) {
            memcpy(buf + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            buf[o++] = ' ';
            i++;
        } else {
            memcpy(buf + o, text + i, l);
            o += l;
            i += l;
        }
        units += u;
    }
    buf[o] = '\0';
    lxw_error e = worksheet_write_string(ws, row, col, buf, f);
    free(buf);
    return e;
}

void ps_wr_sanitize(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t u, l = utf8_len((const unsigned char *)s + i, n - i, &u);
        if (l == 0) {
            s[i++] = '?';
        } else {
            if (l == 1 && (unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')
                s[i] = ' ';
            i += l;
        }
    }
}

void ps_wr_utf8_trim_tail(char *s)
{
    size_t n = strlen(s), i = n;
    /* back to the start of the last character */
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80 && n - i < 4)
        i--;
    if (i > 0) {
        size_t u;
        if (utf8_len((const unsigned char *)s + i - 1, n - i + 1, &u) != n - i + 1)
            s[i - 1] = '\0';
    }
}

lxw_error ps_wr_write_value(lxw_worksheet *ws, uint32_t row, uint16_t col, const ps_value *v, ps_field_type t,
                            wr_formats *fm, int sev)
{
    wr_kind k = ps_wr_kind_of(t);
    lxw_format *f = ps_wr_format(fm, k, sev);
    if (!v)
        return worksheet_write_blank(ws, row, col, f);
    const char *text = v->text ? v->text : v->raw;
    switch (k) {
    case WR_K_MONEY:
    case WR_K_INT:
    case WR_K_NUMBER:
    case WR_K_RATE:
        if (v->has_number && isfinite(v->number))
            return worksheet_write_number(ws, row, col, v->number, f);
        break;
    case WR_K_DATE: {
        lxw_datetime dt;
        if (ps_wr_parse_date(v->text, &dt))
            return worksheet_write_datetime(ws, row, col, &dt, f);
        if (!text && v->has_number && isfinite(v->number))
            return worksheet_write_number(ws, row, col, v->number, f);
        break;
    }
    default:
        if (!text && v->has_number && isfinite(v->number))
            return worksheet_write_number(ws, row, col, v->number, ps_wr_format(fm, WR_K_NUMBER, sev));
        break;
    }
    if (text) /* text is data, never a formula, even when it starts with = + - @ */
        return ps_wr_write_string(ws, row, col, text, ps_wr_format(fm, WR_K_TEXT, sev));
    return worksheet_write_blank(ws, row, col, f);
}

int ps_wr_cell_severity(const ps_findings *fl, const char *sheet, uint32_t row, uint32_t col, char *msg,
                        size_t msg_size)
{
    int level = 0;
    size_t n = fl ? ps_findings_count(fl) : 0;
    for (size_t i = 0; i < n; i++) {
        const ps_finding *f = ps_findings_at(fl, i);
        uint32_t r, c;
        if (!f->cell || !ps_cell_ref_parse(f->cell, &r, &c) || r != row || c != col)
            continue;
        if (f->sheet && sheet && strcmp(f->sheet, sheet) != 0)
            continue;
        if ((int)f->severity + 1 > level)
            level = (int)f->severity + 1;
        if (msg && msg_size) {
            size_t used = strlen(msg);
            if (used + 1 < msg_size) {
                snprintf(msg + used, msg_size - used, "%s[%s] %s: %s", used ? "\n" : "",
                         ps_severity_name(f->severity), f->rule, f->message);
                ps_wr_utf8_trim_tail(msg);
            }
        }
    }
    return level;
}

void ps_wr_temp_path(const char *path, char *buf, size_t size)
{
    static atomic_uint counter;
    unsigned n = atomic_fetch_add(&counter, 1u);
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    snprintf(buf, size, "%.*s.%.64s.tmp-%ld-%u.xlsx", dirlen, path, name, (long)getpid(), n);
}

/* Where libxlsxwriter puts the temporary file of each part it assembles (a dozen per
 * workbook, each written, read back into the ZIP and deleted at once): $TMPDIR when set,
 * else /dev/shm, which is memory, when it is a writable folder, else libxlsxwriter's own
 * choice (tmpfile(), in /tmp). A constant-memory workbook (the merge) spills its rows to
 * such a file as it grows: that one stays on $TMPDIR or /tmp, never in /dev/shm, which
 * containers often keep small. */
static char parts_dir_buf[4096];
static char *parts_dir;  /* NULL: libxlsxwriter's choice */
static char *tmpdir_env; /* $TMPDIR when it is a writable folder */
static pthread_once_t parts_dir_once = PTHREAD_ONCE_INIT;

static bool writable_dir(const char *d)
{
    struct stat st;
    return d && *d && stat(d, &st) == 0 && S_ISDIR(st.st_mode) && access(d, W_OK | X_OK) == 0;
}

static void find_parts_dir(void)
{
    const char *env = getenv("TMPDIR"), *dir = writable_dir(env)          ? env
                                               : writable_dir("/dev/shm") ? "/dev/shm"
                                                                          : NULL;
    if (dir && strlen(dir) < sizeof parts_dir_buf) {
        strcpy(parts_dir_buf, dir);
        parts_dir = parts_dir_buf;
        tmpdir_env = dir == env ? parts_dir_buf : NULL;
    }
}

lxw_workbook *ps_wr_workbook_new(const char *tmp, bool constant_memory, const char *title, ps_error *err)
{
    pthread_once(&parts_dir_once, find_parts_dir);
    /* Create the file first: it reserves the name and reports a bad folder in our words. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        ps_error_set(err, PS_ERR_IO, tmp, "无法创建输出文件：%s", strerror(errno));
        return NULL;
    }
    close(fd);
    lxw_workbook_options opt = {.constant_memory = constant_memory ? LXW_TRUE : LXW_FALSE,
                                .tmpdir = constant_memory ? tmpdir_env : parts_dir,
                                .use_zip64 = LXW_FALSE};
    lxw_workbook *wb = workbook_new_opt(tmp, &opt);
    if (!wb) {
        unlink(tmp);
        ps_error_set(err, PS_ERR_NOMEM, tmp, "无法创建工作簿");
        return NULL;
    }
    lxw_doc_properties props = {0};
    props.title = (char *)(title ? title : "");
    props.author = "perfsheet";
    props.created = WR_FIXED_CREATED;
    workbook_set_properties(wb, &props);
    return wb;
}

ps_status ps_wr_workbook_commit(lxw_workbook *wb, const char *tmp, const char *path, ps_error *err)
{
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR) {
        unlink(tmp);
        return ps_error_set(err, PS_ERR_IO, path, "无法写入工作簿：%s", lxw_strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return ps_error_set(err, PS_ERR_IO, path, "无法改名为目标文件：%s", strerror(saved));
    }
    return PS_OK;
}
