/* reader.c - deciding what a file really is from its first bytes, and handing it to the
 * reader of its format. Files are never trusted by their name: Chinese web systems save HTML
 * tables and GBK CSV under ".xls", users rename .xlsx to .xls, and so on; each of those gets
 * an error that says what the file is and how to fix it. Limits: docs/limits.md. */
#include "reader_int.h"
#include "workbook_int.h"

#include <errno.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { SNIFF_BYTES = 4096 };

ps_limits ps_reader_default_limits(void)
{
    ps_limits l = {
        .max_cells_per_sheet = 2000000,
        .max_cells_per_file = 5000000,
        .max_sheets = 256,
        .max_rows = 1048576,
        .max_cols = 16384,
        .max_string_bytes = 1u << 20,
        .max_sst_entries = 2000000,
        .max_uncompressed = 256u << 20,
        .max_zip_ratio = 200,
        .max_zip_entries = 10000,
        .max_xml_depth = 256,
        .max_file_bytes = 256u << 20,
    };
    return l;
}

/* ---- sniffing ---------------------------------------------------------------------------- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive prefix test of an ASCII word against p[0..n). */
static bool starts_with_ci(const unsigned char *p, size_t n, const char *word)
{
    size_t k = strlen(word);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (lower(p[i]) != lower((unsigned char)word[i]))
            return false;
    return true;
}

static bool contains_ci(const unsigned char *p, size_t n, const char *word)
{
    size_t k = strlen(word);
    for (size_t i = 0; i + k <= n; i++)
        if (lower(p[i]) == lower((unsigned char)word[0]) && starts_with_ci(p + i, n - i, word))
            return true;
    return false;
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when invalid, -1 when cut by the end. */
static int utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    int len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if ((size_t)len > n) {
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        return -1;
    }
    unsigned cp = c & (0x7F >> len);
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

typedef struct text_info {
    bool text;      /* printable text with field separators */
    bool utf8;      /* valid UTF-8 with at least one non-ASCII character */
    bool gbk;       /* not UTF-8, but valid GBK */
    char separator; /* ',', '\t' or ';' (the most frequent), 0 when none */
} text_info;

/* Whether p[0..n) looks like text: no NUL, few control characters, valid UTF-8 or GBK. The
 * last multi-byte character may be cut by the end of the sniffed window. */
static text_info analyse_text(const unsigned char *p, size_t n)
{
    text_info t = {0};
    size_t controls = 0, commas = 0, tabs = 0, semis = 0, high = 0;
    bool utf8_ok = true, gbk_ok = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == 0)
            return t;
        if (c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f')
            controls++;
        if (c == 0x7F)
            controls++;
        commas += c == ',';
        tabs += c == '\t';
        semis += c == ';';
        high += c >= 0x80;
    }
    for (size_t i = 0; i < n && utf8_ok;) {
        int len = utf8_len(p + i, n - i);
        if (len == 0)
            utf8_ok = false;
        else if (len < 0)
            break;
        else
            i += (size_t)len;
    }
    for (size_t i = 0; i < n && gbk_ok;) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
        } else if (c >= 0x81 && c <= 0xFE) {
            if (i + 1 >= n)
                break; /* cut by the window */
            unsigned char d = p[i + 1];
            if (d < 0x40 || d == 0x7F || d == 0xFF)
                gbk_ok = false;
            i += 2;
        } else {
            gbk_ok = false;
        }
    }
    if (!utf8_ok && !gbk_ok)
        return t;
    if (controls * 100 > n) /* more than 1 % control characters: binary */
        return t;
    size_t best = commas;
    t.separator = commas ? ',' : 0;
    if (tabs > best)
        best = tabs, t.separator = '\t';
    if (semis > best)
        best = semis, t.separator = ';';
    t.utf8 = utf8_ok && high > 0;
    t.gbk = !utf8_ok && gbk_ok;
    t.text = t.separator != 0;
    return t;
}

/* UTF-16 text: keeps the low bytes of ASCII characters so the markup tests can run on it. */
static size_t utf16_to_ascii(const unsigned char *p, size_t n, bool big_endian, unsigned char *out)
{
    size_t k = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned lo = big_endian ? p[i + 1] : p[i], hi = big_endian ? p[i] : p[i + 1];
        out[k++] = hi == 0 ? (unsigned char)lo : (unsigned char)'x';
    }
    return k;
}

static ps_sniffed sniff_markup(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && is_space(p[i]))
        i++;
    const unsigned char *q = p + i;
    size_t m = n - i;
    if (starts_with_ci(q, m, "MIME-Version:"))
        return PS_SNIFF_HTML; /* MHTML "single file web page" */
    if (m == 0 || q[0] != '<')
        return PS_SNIFF_UNKNOWN;
    static const char *const html_starts[] = {"<html", "<!doctype html", "<table", "<meta",
                                              "<head", "<body",          "<style", "<title"};
    for (size_t k = 0; k < sizeof html_starts / sizeof html_starts[0]; k++)
        if (starts_with_ci(q, m, html_starts[k]))
            return PS_SNIFF_HTML;
    if (starts_with_ci(q, m, "<?xml") || starts_with_ci(q, m, "<!--")) {
        /* XML Spreadsheet 2003 has <Table> elements: its namespace decides first */
        if (contains_ci(q, m, "urn:schemas-microsoft-com:office:spreadsheet"))
            return PS_SNIFF_XML;
        if (contains_ci(q, m, "<html") || contains_ci(q, m, "<!doctype html") ||
            (starts_with_ci(q, m, "<!--") && contains_ci(q, m, "<table")))
            return PS_SNIFF_HTML;
        return PS_SNIFF_XML;
    }
    if (contains_ci(q, m, "<html") || contains_ci(q, m, "<table"))
        return PS_SNIFF_HTML;
    return PS_SNIFF_UNKNOWN;
}

ps_sniffed ps_reader_sniff(const unsigned char *head, size_t n)
{
    static const unsigned char ole2[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    if (n == 0)
        return PS_SNIFF_EMPTY;
    if (n >= 8 && memcmp(head, ole2, 8) == 0)
        return PS_SNIFF_OLE2;
    if (n >= 4 && head[0] == 'P' && head[1] == 'K' &&
        ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6) || (head[2] == 7 && head[3] == 8)))
        return PS_SNIFF_ZIP;
    if (n >= 8) {
        unsigned id = head[0] | head[1] << 8, len = head[2] | head[3] << 8;
        if ((id == 0x0009 || id == 0x0209 || id == 0x0409 || id == 0x0809) && len >= 4 && len <= 20) {
            /* BOF: version at 4, document type at 6: 0x0010 worksheet, 0x0020 chart, 0x0040
             * macro sheet, 0x0100 workbook; BIFF5+ also 0x0005 workbook globals, 0x0006 VB */
            unsigned type = head[6] | head[7] << 8;
            if (type == 0x0010 || type == 0x0020 || type == 0x0040 || type == 0x0100 || type == 0x0005 ||
                type == 0x0006)
                return PS_SNIFF_BIFF_BARE;
        }
    }
    if (n >= 2 && head[0] == 0x1F && head[1] == 0x8B)
        return PS_SNIFF_GZIP;
    if (n >= 4 && memcmp(head, "%PDF", 4) == 0)
        return PS_SNIFF_PDF;

    const unsigned char *p = head;
    size_t m = n;
    unsigned char wide[SNIFF_BYTES / 2] = {0};
    if (m >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
        bool be = p[0] == 0xFE;
        size_t take = m - 2 > sizeof wide * 2 ? sizeof wide * 2 : m - 2;
        size_t k = utf16_to_ascii(p + 2, take, be, wide);
        ps_sniffed s = sniff_markup(wide, k);
        if (s != PS_SNIFF_UNKNOWN)
            return s;
        for (size_t i = 0; i < k; i++)
            if (wide[i] == ',' || wide[i] == '\t' || wide[i] == ';')
                return PS_SNIFF_TEXT;
        return PS_SNIFF_UNKNOWN;
    }
    if (m >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        p += 3, m -= 3;
    size_t blank = 0;
    while (blank < m && is_space(p[blank]))
        blank++;
    if (blank == m)
        return PS_SNIFF_EMPTY; /* only a BOM and white space (in the sniffed window) */
    ps_sniffed s = sniff_markup(p, m);
    if (s != PS_SNIFF_UNKNOWN)
        return s;
    if (analyse_text(p, m).text)
        return PS_SNIFF_TEXT;
    return PS_SNIFF_UNKNOWN;
}

/* ---- opening ----------------------------------------------------------------------------- */

/* The file's extension with its dot (".xls"), or "" when it has none. */
static const char *extension_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot : "";
}

static ps_status io_error(ps_error *err, const char *path, int e)
{
    const char *why;
    switch (e) {
    case ENOENT: why = "文件不存在"; break;
    case EACCES:
    case EPERM: why = "没有读取权限"; break;
    case EISDIR: why = "这是一个文件夹，不是文件"; break;
    case ENOTDIR: why = "路径中的某一级不是文件夹"; break;
    case ENAMETOOLONG: why = "路径太长"; break;
    case ELOOP: why = "符号链接循环"; break;
    case EIO: why = "磁盘读取错误"; break;
    default: why = "无法读取"; break;
    }
    return ps_error_set(err, PS_ERR_IO, path, "无法打开文件：%s（%s）", why, strerror(e));
}

static ps_status unsupported_kind(ps_error *err, const char *path, ps_sniffed kind, const unsigned char *head,
                                  size_t n)
{
    const char *ext = extension_of(path);
    char extnote[96] = "";
    if (ext[0])
        snprintf(extnote, sizeof extnote, "（扩展名为 %.60s）", ext);
    const char *fix = "请在 Excel/WPS 中打开后另存为 .xlsx 或 .xls";
    switch (kind) {
    case PS_SNIFF_HTML:
        if (starts_with_ci(head, n, "MIME-Version:"))
            return ps_error_set(err, PS_ERR_UNSUPPORTED, path,
                                "文件实为 MHTML 单个文件网页%s，不是 Excel 工作簿；%s", extnote, fix);
        return ps_error_set(err, PS_ERR_UNSUPPORTED, path, "文件实为 HTML 网页%s，不是 Excel 工作簿；%s",
                            extnote, fix);
    case PS_SNIFF_XML:
        if (contains_ci(head, n, "urn:schemas-microsoft-com:office:spreadsheet"))
            return ps_error_set(err, PS_ERR_UNSUPPORTED, path,
                                "文件实为 XML 电子表格 2003（Excel 2003 XML）%s，不是 .xls/.xlsx 工作簿；%s",
                                extnote, fix);
        return ps_error_set(err, PS_ERR_UNSUPPORTED, path, "文件实为 XML 文档%s，不是 Excel 工作簿；%s",
                            extnote, fix);
    case PS_SNIFF_TEXT: {
        const unsigned char *p = head;
        size_t m = n;
        const char *enc = "UTF-16";
        char sep = ',';
        if (!(m >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)))) {
            if (m >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
                p += 3, m -= 3;
            text_info t = analyse_text(p, m);
            enc = t.gbk ? "GBK" : t.utf8 ? "UTF-8" : "ASCII";
            sep = t.separator;
        } else {
            sep = '\t'; /* Excel's "Unicode text" */
        }
        const char *what = sep == '\t'  ? "制表符分隔的文本"
                           : sep == ';' ? "分号分隔的 CSV 文本"
                                        : "CSV 逗号分隔的文本";
        return ps_error_set(err, PS_ERR_UNSUPPORTED, path, "文件实为 %s（%s 编码）%s，不是 Excel 工作簿；%s",
                            what, enc, extnote, fix);
    }
    case PS_SNIFF_GZIP:
        return ps_error_set(err, PS_ERR_UNSUPPORTED, path,
                            "文件实为 gzip 压缩文件（可能是 Gnumeric 工作簿）%s，不是 Excel 工作簿；%s",
                            extnote, fix);
    case PS_SNIFF_PDF:
        return ps_error_set(err, PS_ERR_UNSUPPORTED, path,
                            "文件实为 PDF 文档%s，不是 Excel 工作簿；请提交原始的 .xlsx 或 .xls 表格",
                            extnote);
    default: return ps_error_set(err, PS_ERR_UNSUPPORTED, path, "不支持的文件类型%s", extnote);
    }
}

/* The error for a file whose first n bytes (head) say it is no workbook. */
static ps_status not_a_workbook(const char *path, ps_sniffed kind, const unsigned char *head, size_t n,
                                ps_error *err)
{
    switch (kind) {
    case PS_SNIFF_EMPTY:
        return ps_error_set(err, PS_ERR_NOT_A_SPREADSHEET, path,
                            n == 0 ? "文件为空（0 字节），不是电子表格"
                                   : "文件开头只有空白字符，不是电子表格");
    case PS_SNIFF_UNKNOWN:
        return ps_error_set(
            err, PS_ERR_NOT_A_SPREADSHEET, path,
            "无法识别的文件内容（开头字节 %02X %02X %02X %02X），不是 Excel 工作簿（.xls/.xlsx）",
            n > 0 ? head[0] : 0, n > 1 ? head[1] : 0, n > 2 ? head[2] : 0, n > 3 ? head[3] : 0);
    default: return unsupported_kind(err, path, kind, head, n);
    }
}

/* Reads up to n bytes into buf (*got: how many); 0, or the errno of a failed read. */
static int read_fully(int fd, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = read(fd, buf + *got, n - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno;
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 0;
}

static pthread_once_t libs_once = PTHREAD_ONCE_INIT;

static void libs_init_once(void)
{
    xmlInitParser();
}

void ps_reader_libs_init(void)
{
    pthread_once(&libs_once, libs_init_once);
}

ps_status ps_reader_open(const char *path, const ps_limits *limits, ps_workbook **out, ps_error *err)
{
    ps_reader_libs_init(); /* once per process, before any reader runs on any thread */
    ps_limits defaults = ps_reader_default_limits();
    if (!limits)
        limits = &defaults;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return io_error(err, path, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return io_error(err, path, e);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return io_error(err, path, EISDIR);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ps_error_set(err, PS_ERR_IO, path, "无法打开文件：不是普通文件（设备、管道或套接字）");
    }
    if ((uint64_t)st.st_size > limits->max_file_bytes) {
        close(fd);
        return ps_error_set(err, PS_ERR_UNSUPPORTED, path,
                            "文件大小 %lld 字节超过上限 max_file_bytes（%llu 字节）", (long long)st.st_size,
                            (unsigned long long)limits->max_file_bytes);
    }
    /* The whole file is read here, once: the first bytes say what it is, and the format
     * readers parse the same buffer. One read for most files; past 1 MB, the first 4 KB
     * decide whether the rest is worth reading. */
    size_t size = (size_t)st.st_size, n = 0, want = size <= (1u << 20) ? size : SNIFF_BYTES;
    uint8_t *data = malloc(size ? size : 1);
    if (!data) {
        close(fd);
        return ps_error_set(err, PS_ERR_NOMEM, path, "内存不足");
    }
    int rd_errno = read_fully(fd, data, want, &n);
    if (rd_errno == 0 && n == want && want < size) {
        ps_sniffed first = ps_reader_sniff(data, n);
        if (first == PS_SNIFF_OLE2 || first == PS_SNIFF_BIFF_BARE || first == PS_SNIFF_ZIP) {
            size_t more = 0;
            rd_errno = read_fully(fd, data + n, size - n, &more);
            n += more; /* a file that shrank meanwhile: what is there */
        }
    }
    close(fd);
    if (rd_errno != 0) {
        free(data);
        return io_error(err, path, rd_errno);
    }
    const unsigned char *head = data;
    size_t nhead = n < SNIFF_BYTES ? n : SNIFF_BYTES;
    ps_sniffed kind = ps_reader_sniff(head, nhead);
    switch (kind) {
    case PS_SNIFF_OLE2:
    case PS_SNIFF_BIFF_BARE: return ps_reader_open_xls(path, data, n, limits, out, err);
    case PS_SNIFF_ZIP: return ps_reader_open_xlsx(path, data, n, limits, out, err);
    default: break;
    }
    ps_status code = not_a_workbook(path, kind, head, nhead, err);
    free(data);
    return code;
}