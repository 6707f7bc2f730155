/* writer_common.c - cell formats, typed values, finding lookups and atomic workbook output
 * shared by the standardized (writer_xlsx.c) and consolidated (merge.c) workbooks. */
#include "writer_int.h"

#include "perfsheet/workbook.h"

#include <ctype.h>
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
#include <zlib.h>

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
    case WR_K_LINK:
        format_set_font_color(f, LXW_COLOR_BLUE);
        format_set_underline(f, LXW_UNDERLINE_SINGLE);
        break;
    case WR_K_NOTE: format_set_font_color(f, 0x595959); break;
    default: break;
    }
    if (kind != WR_K_TITLE && kind != WR_K_NOTE) {
        format_set_border(f, LXW_BORDER_THIN);
        format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
    }
    if (sev)
        format_set_bg_color(f, sev_fill[sev]);
    fm->f[kind][sev] = f;
    return f;
}

lxw_format *ps_wr_format_total(wr_formats *fm, wr_kind kind)
{
    if (fm->bold[kind])
        return fm->bold[kind];
    lxw_format *f = workbook_add_format(fm->wb);
    if (!f)
        return NULL;
    switch (kind) {
    case WR_K_MONEY: format_set_num_format(f, "0.00"); break;
    case WR_K_INT: format_set_num_format(f, "0"); break;
    case WR_K_RATE: format_set_num_format(f, "0.00%"); break;
    default: break;
    }
    format_set_bold(f);
    format_set_bg_color(f, 0xF2F2F2);
    format_set_border(f, LXW_BORDER_THIN);
    format_set_top(f, LXW_BORDER_DOUBLE);
    format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
    fm->bold[kind] = f;
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

/* Whether s is a plain number as typed ("800", " 12.5 ", "100%"), equal to number: then the
 * cell is stored as that number (percent: as a fraction in a percent format). */
static bool plain_number(const char *s, double number, bool *percent)
{
    if (!s || !isfinite(number))
        return false;
    while (*s == ' ')
        s++;
    if (!*s || !(isdigit((unsigned char)*s) || *s == '-' || *s == '.'))
        return false;
    char *end;
    double x = strtod(s, &end);
    if (end == s)
        return false;
    *percent = *end == '%';
    if (*percent)
        end++, x /= 100;
    while (*end == ' ')
        end++;
    return *end == '\0' && fabs(x - number) <= 1e-9 * (fabs(number) > 1 ? fabs(number) : 1);
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
        if (t == PS_TYPE_TARGET && v->has_number && !v->comparator) {
            bool percent = false;
            if (!text || plain_number(text, v->number, &percent))
                return worksheet_write_number(ws, row, col, v->number,
                                              ps_wr_format(fm, percent ? WR_K_RATE : WR_K_NUMBER, sev));
        }
        if (!text && v->has_number && isfinite(v->number))
            return worksheet_write_number(ws, row, col, v->number, ps_wr_format(fm, WR_K_NUMBER, sev));
        break;
    }
    if (text) /* text is data, never a formula, even when it starts with = + - @ */
        return ps_wr_write_string(ws, row, col, text, ps_wr_format(fm, WR_K_TEXT, sev));
    return worksheet_write_blank(ws, row, col, f);
}

const char *ps_wr_severity_label(ps_severity sev)
{
    switch (sev) {
    case PS_SEV_ERROR: return "错误";
    case PS_SEV_WARNING: return "警告";
    default: return "提示";
    }
}

/* Appends line to msg (size bytes), on a new line when msg is not empty; cut at a UTF-8
 * boundary when full. */
static void append_line(char *msg, size_t size, const char *fmt, const char *a, const char *b, const char *c)
{
    size_t used = strlen(msg);
    if (used + 1 >= size)
        return;
    if (used)
        msg[used++] = '\n', msg[used] = '\0';
    snprintf(msg + used, size - used, fmt, a, b, c);
    ps_wr_utf8_trim_tail(msg);
}

bool ps_wr_finding_at(const ps_finding *f, const char *sheet, uint32_t row, uint32_t col)
{
    uint32_t r, c;
    if (!f->cell || !ps_cell_ref_parse(f->cell, &r, &c) || r != row || c != col)
        return false;
    return !(f->sheet && sheet && strcmp(f->sheet, sheet) != 0);
}

void ps_wr_comment_line(const ps_finding *f, char *msg, size_t size)
{
    append_line(msg, size, "%s：%s〔%s〕", ps_wr_severity_label(f->severity), f->message, f->rule);
}

int ps_wr_cell_severity(const ps_findings *fl, const char *sheet, uint32_t row, uint32_t col, char *msg,
                        size_t msg_size)
{
    int level = 0;
    size_t n = fl ? ps_findings_count(fl) : 0;
    for (int sev = PS_SEV_ERROR; sev >= PS_SEV_INFO; sev--) /* errors first */
        for (size_t i = 0; i < n; i++) {
            const ps_finding *f = ps_findings_at(fl, i);
            if ((int)f->severity != sev || !ps_wr_finding_at(f, sheet, row, col))
                continue;
            if (sev + 1 > level)
                level = sev + 1;
            if (msg && msg_size)
                ps_wr_comment_line(f, msg, msg_size);
        }
    return level;
}

/* Display columns of the UTF-8 text s up to n bytes: 2 for CJK and full-width characters. */
static size_t display_columns(const char *s, size_t n)
{
    size_t cols = 0;
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        size_t len = ch < 0x80 ? 1 : (ch & 0xE0) == 0xC0 ? 2 : (ch & 0xF0) == 0xE0 ? 3 : 4;
        cols += len >= 3 ? 2 : 1;
        i += len;
    }
    return cols;
}

unsigned ps_wr_text_lines(const char *text, double width)
{
    if (!text || !*text)
        return 1;
    size_t room = width > 3 ? (size_t)(width - 1) : 2, lines = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t cols = display_columns(p, n);
        lines += cols == 0 ? 1 : (cols + room - 1) / room;
        p += n + (nl ? 1 : 0);
        if (nl && !*p)
            lines++;
    }
    return lines ? (unsigned)(lines > 60 ? 60 : lines) : 1;
}

double ps_wr_row_height(unsigned lines)
{
    double h = 15.0 * (lines ? lines : 1);
    return h > 409 ? 409 : h;
}

lxw_error ps_wr_write_comment(lxw_worksheet *ws, uint32_t row, uint16_t col, const char *text)
{
    /* Sized to the text: 9-point characters are about 6 px (12 px for CJK); lines longer
     * than the widest box wrap. */
    enum { PX_PER_COL = 6, PAD = 18, MIN_W = 180, MAX_W = 520, LINE_H = 15 };
    size_t widest = 0, lines = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t w = display_columns(p, n) * PX_PER_COL;
        if (w > widest)
            widest = w;
        lines += w == 0 ? 1 : (w + (MAX_W - PAD) - 1) / (MAX_W - PAD);
        p += n + (nl ? 1 : 0);
    }
    size_t width = widest + PAD < MIN_W ? MIN_W : widest + PAD > MAX_W ? MAX_W : widest + PAD;
    lxw_comment_options o = {
        .width = (uint16_t)width,
        .height =
            (uint16_t)((lines ? lines : 1) * LINE_H + 12 > 2000 ? 2000 : (lines ? lines : 1) * LINE_H + 12),
        .font_size = 9};
    return worksheet_write_comment_opt(ws, row, col, text, &o);
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

/* ---- docProps/app.xml: libxlsxwriter (1.1.4 and every later release) writes
 * <Application>Microsoft Excel</Application> with no way to change it. The workbook is
 * therefore patched once closed: the part is rewritten, stored, at the end of the ZIP, the
 * entries after it move up over its old place, and the central directory is written again. */

#define APP_PART "docProps/app.xml"
#define APP_FROM "<Application>Microsoft Excel</Application>"
#define APP_TO "<Application>perfsheet</Application>"

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}
static void wr16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}

static bool read_at(int fd, void *buf, size_t n, off_t at)
{
    for (size_t done = 0; done < n;) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, at + (off_t)done);
        if (r <= 0)
            return false;
        done += (size_t)r;
    }
    return true;
}
static bool write_at(int fd, const void *buf, size_t n, off_t at)
{
    for (size_t done = 0; done < n;) {
        ssize_t r = pwrite(fd, (const char *)buf + done, n - done, at + (off_t)done);
        if (r <= 0)
            return false;
        done += (size_t)r;
    }
    return true;
}

/* The inflated bytes of a part (method 0 or 8) into a new buffer of *len bytes. */
static char *part_bytes(int fd, off_t data, uint32_t csize, uint32_t usize, uint16_t method, size_t *len)
{
    if (usize > (1u << 20) || csize > (1u << 20) || (method != 0 && method != 8))
        return NULL;
    unsigned char *in = malloc(csize ? csize : 1);
    char *out = malloc((size_t)usize + 1);
    bool ok = in && out && read_at(fd, in, csize, data);
    if (ok && method == 0) {
        ok = csize == usize;
        if (ok)
            memcpy(out, in, usize);
    } else if (ok) {
        z_stream z = {0};
        ok = inflateInit2(&z, -MAX_WBITS) == Z_OK;
        if (ok) {
            z.next_in = in, z.avail_in = csize;
            z.next_out = (unsigned char *)out, z.avail_out = usize;
            int r = inflate(&z, Z_FINISH);
            ok = r == Z_STREAM_END && z.total_out == usize;
            inflateEnd(&z);
        }
    }
    free(in);
    if (!ok) {
        free(out);
        return NULL;
    }
    out[usize] = '\0';
    *len = usize;
    return out;
}

int ps_wr_fix_app_props(const char *path)
{
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return -1;
    int rc = -1;
    unsigned char *cd = NULL, *tail = NULL;
    char *xml = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 22)
        goto done;
    /* the end-of-central-directory record, searched back from the end (comment ≤ 64 KiB) */
    size_t tail_len = st.st_size < 22 + 65535 ? (size_t)st.st_size : 22 + 65535;
    tail = malloc(tail_len);
    if (!tail || !read_at(fd, tail, tail_len, st.st_size - (off_t)tail_len))
        goto done;
    size_t eocd = SIZE_MAX;
    for (size_t i = tail_len - 22 + 1; i-- > 0;)
        if (rd32(tail + i) == 0x06054b50u) {
            eocd = i;
            break;
        }
    if (eocd == SIZE_MAX)
        goto done;
    unsigned char *e = tail + eocd;
    uint16_t nent = rd16(e + 10);
    uint32_t cd_size = rd32(e + 12), cd_off = rd32(e + 16);
    if (nent == 0xFFFF || cd_off == 0xFFFFFFFFu || (off_t)cd_off + cd_size > st.st_size)
        goto done; /* ZIP64: libxlsxwriter writes none with use_zip64 off */
    cd = malloc(cd_size ? cd_size : 1);
    if (!cd || !read_at(fd, cd, cd_size, cd_off))
        goto done;
    /* find the part and the next local header after it */
    size_t app = SIZE_MAX;
    uint32_t app_off = 0;
    for (size_t p = 0, k = 0; k < nent; k++) {
        if (p + 46 > cd_size || rd32(cd + p) != 0x02014b50u)
            goto done;
        size_t nl = rd16(cd + p + 28), xl = rd16(cd + p + 30), cl = rd16(cd + p + 32);
        if (p + 46 + nl + xl + cl > cd_size)
            goto done;
        if (nl == strlen(APP_PART) && memcmp(cd + p + 46, APP_PART, nl) == 0) {
            app = p;
            app_off = rd32(cd + p + 42);
        }
        p += 46 + nl + xl + cl;
    }
    if (app == SIZE_MAX) {
        rc = 0; /* nothing to fix */
        goto done;
    }
    uint32_t next = cd_off;
    for (size_t p = 0, k = 0; k < nent; k++) {
        uint32_t off = rd32(cd + p + 42);
        if (off > app_off && off < next)
            next = off;
        p += 46 + rd16(cd + p + 28) + rd16(cd + p + 30) + rd16(cd + p + 32);
    }
    unsigned char lh[30];
    if (!read_at(fd, lh, 30, app_off) || rd32(lh) != 0x04034b50u)
        goto done;
    size_t len = 0;
    xml = part_bytes(fd, (off_t)app_off + 30 + rd16(lh + 26) + rd16(lh + 28), rd32(cd + app + 20),
                     rd32(cd + app + 24), rd16(cd + app + 10), &len);
    if (!xml)
        goto done;
    char *at = strstr(xml, APP_FROM);
    if (!at) {
        rc = 0; /* already says something else */
        goto done;
    }
    size_t from = strlen(APP_FROM), to = strlen(APP_TO);
    memmove(at + to, at + from, len - (size_t)(at - xml) - from + 1);
    memcpy(at, APP_TO, to);
    len = len - from + to;
    /* move the entries after the part up over it */
    uint32_t gap = next - app_off;
    char buf[65536];
    for (uint32_t pos = next; pos < cd_off;) {
        size_t n = cd_off - pos < sizeof buf ? cd_off - pos : sizeof buf;
        if (!read_at(fd, buf, n, pos) || !write_at(fd, buf, n, (off_t)pos - gap))
            goto done;
        pos += (uint32_t)n;
    }
    /* the part, stored, at the end */
    uint32_t new_off = cd_off - gap, crc = (uint32_t)crc32(0L, (const Bytef *)xml, (uInt)len);
    unsigned char local[30 + sizeof APP_PART];
    memset(local, 0, sizeof local);
    wr32(local, 0x04034b50u);
    wr16(local + 4, 20);
    wr16(local + 6, (uint16_t)(rd16(cd + app + 8) & ~8u));
    wr16(local + 8, 0);
    memcpy(local + 10, cd + app + 12, 4); /* time, date */
    wr32(local + 14, crc);
    wr32(local + 18, (uint32_t)len);
    wr32(local + 22, (uint32_t)len);
    wr16(local + 26, (uint16_t)strlen(APP_PART));
    memcpy(local + 30, APP_PART, strlen(APP_PART));
    size_t local_len = 30 + strlen(APP_PART);
    if (!write_at(fd, local, local_len, new_off) || !write_at(fd, xml, len, (off_t)new_off + local_len))
        goto done;
    /* the central directory, offsets moved */
    for (size_t p = 0, k = 0; k < nent; k++) {
        uint32_t off = rd32(cd + p + 42);
        if (p == app) {
            wr16(cd + p + 8, (uint16_t)(rd16(cd + p + 8) & ~8u));
            wr16(cd + p + 10, 0);
            wr32(cd + p + 16, crc);
            wr32(cd + p + 20, (uint32_t)len);
            wr32(cd + p + 24, (uint32_t)len);
            wr32(cd + p + 42, new_off);
        } else if (off > app_off) {
            wr32(cd + p + 42, off - gap);
        }
        p += 46 + rd16(cd + p + 28) + rd16(cd + p + 30) + rd16(cd + p + 32);
    }
    off_t cd_new = (off_t)new_off + (off_t)local_len + (off_t)len;
    if (cd_new > 0xFFFFFFFFll)
        goto done;
    wr32(e + 16, (uint32_t)cd_new);
    size_t eocd_len = tail_len - eocd;
    if (!write_at(fd, cd, cd_size, cd_new) || !write_at(fd, e, eocd_len, cd_new + cd_size) ||
        ftruncate(fd, cd_new + cd_size + (off_t)eocd_len) != 0)
        goto done;
    rc = 0;
done:
    free(xml);
    free(cd);
    free(tail);
    if (close(fd) != 0)
        rc = -1;
    return rc;
}

int ps_wr_spill_file(void)
{
    pthread_once(&parts_dir_once, find_parts_dir);
    char path[sizeof parts_dir_buf + 64];
    snprintf(path, sizeof path, "%s/.perfsheet-merge-XXXXXX", tmpdir_env ? tmpdir_env : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    return fd;
}

ps_status ps_wr_workbook_commit(lxw_workbook *wb, const char *tmp, const char *path, ps_error *err)
{
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR) {
        unlink(tmp);
        return ps_error_set(err, PS_ERR_IO, path, "无法写入工作簿：%s", lxw_strerror(e));
    }
    errno = 0;
    if (ps_wr_fix_app_props(tmp) != 0) {
        int saved = errno;
        unlink(tmp);
        return ps_error_set(err, PS_ERR_IO, path, "无法写入工作簿的文档属性（docProps/app.xml）：%s",
                            saved ? strerror(saved) : "ZIP 结构不符");
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return ps_error_set(err, PS_ERR_IO, path, "无法改名为目标文件：%s", strerror(saved));
    }
    return PS_OK;
}
