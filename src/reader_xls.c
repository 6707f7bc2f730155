/* reader_xls.c - .xls files (BIFF8 and BIFF5 in an OLE2 container, bare BIFF2–5 streams) into
 * a ps_workbook.
 *
 * cfb.c opens the OLE2 container; one pass over the BIFF records of the Workbook/Book stream
 * reads every cell: constants (NUMBER, RK, MULRK, LABEL, LABELSST, RSTRING, BOOLERR), FORMULA
 * cached results (number, STRING, bool, error, empty), the XF → FORMAT class of each cell,
 * MERGEDCELLS and FILEPASS. Every length is checked against the stream, every count against
 * the limits; no allocation is sized by what a record claims.
 *
 * freexl 1.0.6 is not used to read cells: on the corpus it agrees with this pass on every
 * number and text it returns, but drops FORMULA and RSTRING cells, returns BOOLERR error cells
 * as the number 1, misses some date formats, garbles some sheet names, returns FREEXL_OK with
 * a NULL handle on ~40 valid files, and would double the reading time. tests/unit/
 * test_reader_xls.c keeps it as an oracle for the constant cells of the samples.
 *
 * Thread safety: no global mutable state. */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "biff.h"
#include "cfb.h"
#include "numfmt.h"
#include "reader_int.h"
#include "perfsheet/deadline.h"
#include "workbook_int.h"

/* ---- reading state ------------------------------------------------------------------------ */

typedef struct strbuf {
    char *p;
    size_t n, cap;
} strbuf;

typedef struct xf_info {
    uint16_t ifmt;
    bool resolved;
    numfmt fmt;
} xf_info;

typedef struct fmt_entry {
    uint16_t id;
    numfmt fmt;
} fmt_entry;

typedef struct sst_entry {
    const char *text; /* in the workbook's arena */
} sst_entry;

#define WB_GLOBALS "工作簿全局区"

typedef struct xls_ctx {
    const char *path;
    const ps_limits *lim;
    ps_error *err;
    ps_workbook *wb;
    const uint8_t *s; /* the BIFF stream */
    size_t size;
    int biff; /* 2, 3, 4, 5 or 8 */
    int codepage;
    bool date1904;
    const char *damaged; /* where the stream is cut short or broken (a sheet name or WB_GLOBALS) */
    size_t other_sheets; /* chart, macro and module sheets, which are not read */
    bool sequential;     /* no workbook globals: substreams in a row, globals mixed with cells */
    iconv_t cd;
    bool cd_tried;
    xf_info *xfs;
    size_t nxf, xf_cap;
    fmt_entry *fmts;
    size_t nfmt, fmt_cap;
    sst_entry *sst;
    size_t nsst;
    uint64_t cells_file;
    uint64_t scanned; /* record bytes walked in sheets: overlapping BOUNDSHEETs must not loop */
    strbuf sb;
    ps_status st; /* first hard error, PS_OK while reading goes on */
} xls_ctx;

static ps_status xls_fail(xls_ctx *x, ps_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ps_status xls_fail(xls_ctx *x, ps_status code, const char *fmt, ...)
{
    if (x->st != PS_OK)
        return x->st;
    va_list ap;
    va_start(ap, fmt);
    ps_error_setv(x->err, code, x->path, fmt, ap);
    va_end(ap);
    x->st = code;
    return code;
}

static bool sb_reserve(strbuf *b, size_t extra)
{
    if (b->cap - b->n >= extra)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->n < extra)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

static inline void sb_put_cp(strbuf *b, uint32_t cp) /* room for 4 bytes reserved by caller */
{
    char *o = b->p + b->n;
    if (cp < 0x80) {
        o[0] = (char)cp;
        b->n += 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        b->n += 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        b->n += 3;
    } else {
        o[0] = (char)(0xF0 | cp >> 18);
        o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        b->n += 4;
    }
}

/* ---- text ---------------------------------------------------------------------------------- */

static const char *codepage_name(int cp)
{
    switch (cp) {
    case 367: return "ASCII";
    case 437: return "CP437";
    case 720: return "CP720";
    case 737: return "CP737";
    case 775: return "CP775";
    case 850: return "CP850";
    case 852: return "CP852";
    case 855: return "CP855";
    case 857: return "CP857";
    case 858: return "CP858";
    case 860: return "CP860";
    case 861: return "CP861";
    case 862: return "CP862";
    case 863: return "CP863";
    case 864: return "CP864";
    case 865: return "CP865";
    case 866: return "CP866";
    case 869: return "CP869";
    case 874: return "CP874";
    case 932: return "CP932";
    case 936: return "GB18030"; /* a superset of GBK */
    case 949: return "CP949";
    case 950: return "CP950";
    case 1250: return "CP1250";
    case 1251: return "CP1251";
    case 1253: return "CP1253";
    case 1254: return "CP1254";
    case 1255: return "CP1255";
    case 1256: return "CP1256";
    case 1257: return "CP1257";
    case 1258: return "CP1258";
    case 1361: return "JOHAB";
    case 10000:
    case 32768: return "MACINTOSH";
    case 10007: return "MAC-CYRILLIC";
    case 10029: return "MAC-CENTRALEUROPE";
    case 10079: return "MAC-IS";
    default: return "CP1252"; /* 1252, 32769 (BIFF2–4 default) and anything unknown */
    }
}

/* Appends n bytes of 8-bit text in the file's code page, as UTF-8. */
static bool put_8bit(xls_ctx *x, const uint8_t *p, size_t n)
{
    if (!sb_reserve(&x->sb, n * 4 + 4))
        return false;
    size_t i = 0;
    while (i < n && p[i] < 0x80)
        x->sb.p[x->sb.n++] = (char)p[i++];
    if (i == n)
        return true;
    bool latin1 = x->biff == 8 || x->codepage == 1200 || x->codepage == 28591;
    if (!latin1 && !x->cd_tried) {
        x->cd_tried = true;
        x->cd = iconv_open("UTF-8", codepage_name(x->codepage));
    }
    if (latin1 || x->cd == (iconv_t)-1) {
        for (; i < n; i++)
            sb_put_cp(&x->sb, p[i]);
        return true;
    }
    char *in = (char *)(p + i);
    size_t inleft = n - i;
    while (inleft > 0) {
        char *out = x->sb.p + x->sb.n;
        size_t outleft = x->sb.cap - x->sb.n;
        size_t r = iconv(x->cd, &in, &inleft, &out, &outleft);
        x->sb.n = (size_t)(out - x->sb.p);
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG) {
            if (!sb_reserve(&x->sb, inleft * 4 + 16))
                return false;
            continue;
        }
        /* invalid or incomplete sequence: U+FFFD for one byte, then go on */
        if (!sb_reserve(&x->sb, inleft * 4 + 16))
            return false;
        sb_put_cp(&x->sb, 0xFFFD);
        in++;
        inleft--;
        iconv(x->cd, NULL, NULL, NULL, NULL);
    }
    return true;
}

/* Reads cch characters of a BIFF8 XLUnicodeString whose flags byte has been read, across
 * CONTINUE records, then skips its rich-text runs and extended data. Appends to x->sb. */
static bool read_ustr(xls_ctx *x, biff_cursor *c, uint32_t cch, uint8_t flags)
{
    uint16_t runs = 0;
    uint32_t ext = 0;
    if ((flags & 0x08) && !ps_biff_cursor_u16(c, &runs))
        return false;
    if ((flags & 0x04) && !ps_biff_cursor_u32(c, &ext))
        return false;
    bool wide = flags & 1;
    uint32_t hi = 0; /* a pending high surrogate */
    while (cch > 0) {
        if (c->pos == c->end) {
            if (!ps_biff_cursor_continue(c) || c->pos == c->end)
                return false;
            wide = c->s[c->pos++] & 1; /* a string continued in a CONTINUE restates its width */
            continue;
        }
        size_t avail = c->end - c->pos;
        size_t k = wide ? avail / 2 : avail;
        if (k > cch)
            k = cch;
        if (k == 0)
            return false; /* half a UTF-16 unit */
        if (!sb_reserve(&x->sb, k * 3 + 8))
            return false;
        const uint8_t *p = c->s + c->pos;
        if (!wide) {
            for (size_t i = 0; i < k; i++)
                sb_put_cp(&x->sb, p[i]);
        } else {
            for (size_t i = 0; i < k; i++) {
                uint32_t u = biff_u16(p + 2 * i);
                if (hi) {
                    if (u >= 0xDC00 && u <= 0xDFFF) {
                        sb_put_cp(&x->sb, 0x10000 + ((hi - 0xD800) << 10) + (u - 0xDC00));
                        hi = 0;
                        continue;
                    }
                    sb_put_cp(&x->sb, 0xFFFD);
                    hi = 0;
                }
                if (u >= 0xD800 && u <= 0xDBFF)
                    hi = u;
                else if (u >= 0xDC00 && u <= 0xDFFF)
                    sb_put_cp(&x->sb, 0xFFFD);
                else
                    sb_put_cp(&x->sb, u);
            }
        }
        c->pos += wide ? k * 2 : k;
        cch -= (uint32_t)k;
    }
    if (hi) {
        if (!sb_reserve(&x->sb, 4))
            return false;
        sb_put_cp(&x->sb, 0xFFFD);
    }
    /* runs and extended data may be cut short at the end of a record: not an error */
    ps_biff_cursor_skip(c, (uint64_t)runs * 4 + ext);
    return true;
}

/* A string as BIFF stores it in LABEL/STRING/FORMAT: BIFF8 XLUnicodeString with a 16-bit (or
 * 8-bit when short_len) count; BIFF2–5 a byte string in the code page. Result in x->sb. */
static bool read_string(xls_ctx *x, biff_cursor *c, bool short_len)
{
    x->sb.n = 0;
    uint32_t cch;
    if (short_len) {
        uint8_t n8;
        if (!ps_biff_cursor_u8(c, &n8))
            return false;
        cch = n8;
    } else {
        uint16_t n16;
        if (!ps_biff_cursor_u16(c, &n16))
            return false;
        cch = n16;
    }
    if (x->biff == 8) {
        uint8_t flags;
        if (!ps_biff_cursor_u8(c, &flags)) /* an empty string may end here */
            return cch == 0;
        return read_ustr(x, c, cch, flags);
    }
    size_t avail = c->end - c->pos;
    if (cch > avail)
        cch = (uint32_t)avail; /* truncated byte string: keep what is there */
    bool ok = put_8bit(x, c->s + c->pos, cch);
    c->pos += cch;
    return ok;
}

static const char *sb_dup(xls_ctx *x)
{
    return ps_workbook_strndup(x->wb, x->sb.p ? x->sb.p : "", x->sb.n);
}

/* ---- formats ------------------------------------------------------------------------------ */

static bool add_format(xls_ctx *x, unsigned id, numfmt f)
{
    for (size_t i = 0; i < x->nfmt; i++)
        if (x->fmts[i].id == id) {
            x->fmts[i].fmt = f;
            return true;
        }
    if (x->nfmt == x->fmt_cap) {
        if (x->nfmt >= 65536)
            return true; /* no more ids than a u16 holds: ignore */
        size_t cap = x->fmt_cap ? x->fmt_cap * 2 : 32;
        fmt_entry *p = realloc(x->fmts, cap * sizeof *p);
        if (!p)
            return false;
        x->fmts = p;
        x->fmt_cap = cap;
    }
    x->fmts[x->nfmt].id = (uint16_t)id;
    x->fmts[x->nfmt].fmt = f;
    x->nfmt++;
    for (size_t i = 0; i < x->nxf; i++)
        x->xfs[i].resolved = false;
    return true;
}

static numfmt format_of_id(xls_ctx *x, unsigned id)
{
    for (size_t i = 0; i < x->nfmt; i++)
        if (x->fmts[i].id == id)
            return x->fmts[i].fmt;
    if (x->biff >= 5)
        return ps_numfmt_builtin(id);
    numfmt g = {PS_FMT_GENERAL, 255, false};
    return g;
}

/* BIFF2 cells name their format directly: xf is then 0x10000 | format index. */
static numfmt format_of_xf(xls_ctx *x, uint32_t xf)
{
    if (xf & 0x10000)
        return format_of_id(x, xf & 0x3F);
    if (xf >= x->nxf) {
        numfmt g = {PS_FMT_GENERAL, 255, false};
        return g;
    }
    xf_info *e = &x->xfs[xf];
    if (!e->resolved) {
        e->fmt = format_of_id(x, e->ifmt);
        e->resolved = true;
    }
    return e->fmt;
}

static bool add_xf(xls_ctx *x, unsigned ifmt)
{
    if (x->nxf == x->xf_cap) {
        if (x->nxf >= 65536)
            return true;
        size_t cap = x->xf_cap ? x->xf_cap * 2 : 64;
        xf_info *p = realloc(x->xfs, cap * sizeof *p);
        if (!p)
            return false;
        x->xfs = p;
        x->xf_cap = cap;
    }
    x->xfs[x->nxf].ifmt = (uint16_t)ifmt;
    x->xfs[x->nxf].resolved = false;
    x->nxf++;
    return true;
}

/* FORMAT: BIFF8 u16 id + XLUnicodeString; BIFF5 u16 id + byte string (u8 length);
 * BIFF4 2 unused bytes + byte string; BIFF2/3 a byte string. BIFF2–4 ids are sequential. */
static bool on_format(xls_ctx *x, size_t rec)
{
    biff_cursor c;
    if (!ps_biff_cursor_at(&c, x->s, x->size, rec))
        return true;
    unsigned id;
    uint16_t v = 0;
    if (x->biff >= 5) {
        if (!ps_biff_cursor_u16(&c, &v))
            return true;
        id = v;
    } else {
        id = 0;
        for (size_t i = 0; i < x->nfmt; i++)
            if (x->fmts[i].id >= id)
                id = x->fmts[i].id + 1u;
        if (x->biff == 4 && !ps_biff_cursor_skip(&c, 2))
            return true;
    }
    if (!read_string(x, &c, x->biff < 8))
        return true; /* an unreadable format string: the format stays General */
    return add_format(x, id, ps_numfmt_classify(x->sb.p ? x->sb.p : "", x->sb.n));
}

/* ---- cells -------------------------------------------------------------------------------- */

typedef struct sheet_state {
    ps_sheet *sh;
    uint32_t index;
    uint64_t cells;
    bool pending_str; /* a FORMULA with a string result waits for its STRING record */
    uint32_t prow, pcol, pxf;
} sheet_state;

static bool cell_limits(xls_ctx *x, sheet_state *ss, uint32_t row, uint32_t col)
{
    char ref[16];
    if (row >= x->lim->max_rows || col >= x->lim->max_cols) {
        ps_cell_ref(row, col, ref, sizeof ref);
        ps_error_at_cell(x->err, PS_ERR_UNSUPPORTED, x->path, ps_sheet_name(ss->sh), ref,
                         "单元格 %s 超出限制（max_rows %u 行 / max_cols %u 列）", ref, x->lim->max_rows,
                         x->lim->max_cols);
        x->st = PS_ERR_UNSUPPORTED;
        return false;
    }
    if (++ss->cells > x->lim->max_cells_per_sheet) {
        ps_error_at_cell(x->err, PS_ERR_UNSUPPORTED, x->path, ps_sheet_name(ss->sh), NULL,
                         "工作表的单元格数超出限制 max_cells_per_sheet（%llu）",
                         (unsigned long long)x->lim->max_cells_per_sheet);
        x->st = PS_ERR_UNSUPPORTED;
        return false;
    }
    if (++x->cells_file > x->lim->max_cells_per_file) {
        xls_fail(x, PS_ERR_UNSUPPORTED, "文件的单元格数超出限制 max_cells_per_file（%llu）",
                 (unsigned long long)x->lim->max_cells_per_file);
        return false;
    }
    return true;
}

static bool put_cell(xls_ctx *x, sheet_state *ss, uint32_t row, uint32_t col, uint32_t xf, ps_cell_type type,
                     double number, const char *text, bool formula)
{
    if (!ss->sh)
        return true;
    if (!cell_limits(x, ss, row, col))
        return false;
    numfmt f = format_of_xf(x, xf);
    ps_cell c = {.row = row,
                 .col = col,
                 .type = (uint8_t)type,
                 .format = f.cls,
                 .decimals = f.decimals,
                 .formula = formula,
                 .number = number,
                 .text = text};
    if (type == PS_CELL_NUMBER && f.cls == PS_FMT_DATE) {
        double serial = x->date1904 ? number + 1462 : number;
        char iso[32];
        if (ps_numfmt_serial_iso(serial, f.has_time, iso, sizeof iso)) {
            c.type = PS_CELL_DATE;
            c.number = serial;
            c.text = ps_workbook_strndup(x->wb, iso, strlen(iso));
            if (!c.text)
                return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
        }
    }
    if (!ps_sheet_put(ss->sh, &c))
        return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
    return true;
}

static bool put_text(xls_ctx *x, sheet_state *ss, uint32_t row, uint32_t col, uint32_t xf, bool formula)
{
    if (!ss->sh)
        return true;
    if (x->sb.n > x->lim->max_string_bytes) {
        char ref[16];
        ps_cell_ref(row, col, ref, sizeof ref);
        ps_error_at_cell(x->err, PS_ERR_UNSUPPORTED, x->path, ps_sheet_name(ss->sh), ref,
                         "单元格文本超出限制 max_string_bytes（%llu 字节）",
                         (unsigned long long)x->lim->max_string_bytes);
        x->st = PS_ERR_UNSUPPORTED;
        return false;
    }
    const char *t = sb_dup(x);
    if (!t)
        return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
    return put_cell(x, ss, row, col, xf, PS_CELL_TEXT, 0, t, formula);
}

static void flush_pending(xls_ctx *x, sheet_state *ss)
{
    if (!ss->pending_str)
        return;
    ss->pending_str = false;
    x->sb.n = 0;
    put_text(x, ss, ss->prow, ss->pcol, ss->pxf, true); /* no STRING record: an empty result */
}

/* FORMULA: the cached result is 8 bytes at res. */
static bool on_formula(xls_ctx *x, sheet_state *ss, uint32_t row, uint32_t col, uint32_t xf,
                       const uint8_t *res)
{
    if (biff_u16(res + 6) != 0xFFFF)
        return put_cell(x, ss, row, col, xf, PS_CELL_NUMBER, ps_biff_f64(res), NULL, true);
    switch (res[0]) {
    case 0: /* string: in the STRING record that follows */
        ss->pending_str = true;
        ss->prow = row;
        ss->pcol = col;
        ss->pxf = xf;
        return true;
    case 1: return put_cell(x, ss, row, col, xf, PS_CELL_BOOL, res[2] ? 1 : 0, NULL, true);
    case 2: return put_cell(x, ss, row, col, xf, PS_CELL_ERROR, 0, ps_biff_error_text(res[2]), true);
    case 3: x->sb.n = 0; return put_text(x, ss, row, col, xf, true);
    default: return true;
    }
}

/* Record ids of BOF in each BIFF version. */
static bool is_bof(unsigned type)
{
    return type == BIFF_BOF || type == BIFF_BOF2 || type == BIFF_BOF3 || type == BIFF_BOF4;
}

/* Global records that BIFF2–4 streams mix with their cells (and BIFF5/8 globals have). */
static bool on_global(xls_ctx *x, unsigned type, size_t rec, const uint8_t *d, size_t len)
{
    switch (type) {
    case BIFF_FILEPASS:
        xls_fail(x, PS_ERR_ENCRYPTED, "文件已加密（设有打开密码），请提交未加密的文件");
        return false;
    case BIFF_CODEPAGE:
        if (len >= 2 && x->biff < 8)
            x->codepage = biff_u16(d);
        return true;
    case BIFF_DATEMODE:
        if (len >= 2)
            x->date1904 = biff_u16(d) == 1;
        return true;
    case BIFF_FORMAT:
    case BIFF_FORMAT2:
        if (!on_format(x, rec))
            return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
        return true;
    case BIFF_XF:
        if (len >= 4 && !add_xf(x, biff_u16(d + 2)))
            return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
        return true;
    case BIFF_XF3:
    case BIFF_XF4:
        if (len >= 2 && !add_xf(x, d[1]))
            return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
        return true;
    case BIFF_XF2:
        if (len >= 3 && !add_xf(x, d[2] & 0x3F))
            return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
        return true;
    default: return true;
    }
}

/* Reads one worksheet substream whose BOF is at pos; returns the offset after its EOF.
 * ss->sh may be NULL (a substream we skip but whose global records still count). */
static size_t parse_sheet(xls_ctx *x, sheet_state *ss, size_t pos)
{
    const uint8_t *s = x->s;
    int depth = 0;
    while (x->st == PS_OK) {
        if (ps_deadline_passed()) {
            x->st = ps_error_set(x->err, PS_ERR_UNSUPPORTED, x->path, "处理超时（超过 %g 秒），已跳过此文件",
                                 ps_deadline_seconds());
            break;
        }
        if (x->size - pos < 4) {
            if (pos != x->size || depth > 0)
                x->damaged = ss->sh ? ps_sheet_name(ss->sh) : WB_GLOBALS; /* ends before EOF */
            break;
        }
        unsigned type = biff_u16(s + pos);
        size_t len = biff_u16(s + pos + 2);
        size_t rec = pos;
        if (x->size - pos - 4 < len) {
            x->damaged = ss->sh ? ps_sheet_name(ss->sh) : WB_GLOBALS; /* a record runs past the end */
            pos = x->size;
            break;
        }
        const uint8_t *d = s + pos + 4;
        pos += 4 + len;
        x->scanned += 4 + len;
        if (x->scanned > 2 * (uint64_t)x->size + 65536) {
            xls_fail(x, PS_ERR_CORRUPT, "工作表的数据区相互重叠（BOUNDSHEET 偏移异常），文件已损坏");
            break;
        }
        if (is_bof(type)) {
            depth++;
            continue;
        }
        if (type == BIFF_EOF) {
            if (--depth <= 0)
                break;
            continue;
        }
        if (depth != 1)
            continue; /* inside an embedded chart or other sub-substream */
        if (type != BIFF_STRING && type != BIFF_STRING2 && type != BIFF_CONTINUE && ss->pending_str &&
            (type == BIFF_NUMBER || type == BIFF_RK || type == BIFF_MULRK || type == BIFF_LABEL ||
             type == BIFF_LABELSST || type == BIFF_FORMULA || type == BIFF_FORMULA3 ||
             type == BIFF_FORMULA4 || type == BIFF_BOOLERR || type == BIFF_RSTRING))
            flush_pending(x, ss);
        if (x->sequential) {
            if (!on_global(x, type, rec, d, len))
                break;
        }
        switch (type) {
        case BIFF_NUMBER:
            if (len >= 14) {
                if (!put_cell(x, ss, biff_u16(d), biff_u16(d + 2), biff_u16(d + 4), PS_CELL_NUMBER,
                              ps_biff_f64(d + 6), NULL, false))
                    return pos;
            }
            break;
        case BIFF_RK:
            if (len >= 10) {
                if (!put_cell(x, ss, biff_u16(d), biff_u16(d + 2), biff_u16(d + 4), PS_CELL_NUMBER,
                              ps_biff_rk(biff_u32(d + 6)), NULL, false))
                    return pos;
            }
            break;
        case BIFF_MULRK:
            if (len >= 6) {
                uint32_t row = biff_u16(d), col = biff_u16(d + 2);
                size_t n = (len - 6) / 6;
                for (size_t i = 0; i < n; i++) {
                    const uint8_t *e = d + 4 + 6 * i;
                    if (!put_cell(x, ss, row, col + (uint32_t)i, biff_u16(e), PS_CELL_NUMBER,
                                  ps_biff_rk(biff_u32(e + 2)), NULL, false))
                        return pos;
                }
            }
            break;
        case BIFF_LABEL:
        case BIFF_RSTRING:
            if (len >= 8 && ss->sh) {
                biff_cursor c;
                ps_biff_cursor_at(&c, s, x->size, rec);
                c.pos += 6;
                if (!read_string(x, &c, false))
                    break; /* a broken string: the cell is skipped */
                if (!put_text(x, ss, biff_u16(d), biff_u16(d + 2), biff_u16(d + 4), false))
                    return pos;
            }
            break;
        case BIFF_LABELSST:
            if (len >= 10 && ss->sh) {
                uint32_t i = biff_u32(d + 6);
                if (i >= x->nsst)
                    break; /* no such shared string: the cell is skipped */
                if (!put_cell(x, ss, biff_u16(d), biff_u16(d + 2), biff_u16(d + 4), PS_CELL_TEXT, 0,
                              x->sst[i].text, false))
                    return pos;
            }
            break;
        case BIFF_BOOLERR:
            if (len >= 8) {
                uint32_t row = biff_u16(d), col = biff_u16(d + 2), xf = biff_u16(d + 4);
                bool ok =
                    d[7] ? put_cell(x, ss, row, col, xf, PS_CELL_ERROR, 0, ps_biff_error_text(d[6]), false)
                         : put_cell(x, ss, row, col, xf, PS_CELL_BOOL, d[6] ? 1 : 0, NULL, false);
                if (!ok)
                    return pos;
            }
            break;
        case BIFF_FORMULA: /* BIFF5/8 and BIFF2 share the id */
            if (x->biff == 2) {
                if (len >= 15 &&
                    !on_formula(x, ss, biff_u16(d), biff_u16(d + 2), 0x10000u | (d[5] & 0x3F), d + 7))
                    return pos;
            } else if (len >= 14 &&
                       !on_formula(x, ss, biff_u16(d), biff_u16(d + 2), biff_u16(d + 4), d + 6)) {
                return pos;
            }
            break;
        case BIFF_FORMULA3:
        case BIFF_FORMULA4:
            if (len >= 14 && !on_formula(x, ss, biff_u16(d), biff_u16(d + 2), biff_u16(d + 4), d + 6))
                return pos;
            break;
        case BIFF_STRING:
        case BIFF_STRING2:
            if (ss->pending_str && (type == BIFF_STRING) == (x->biff != 2)) {
                biff_cursor c;
                ps_biff_cursor_at(&c, s, x->size, rec);
                ss->pending_str = false;
                if (!read_string(x, &c, type == BIFF_STRING2))
                    x->sb.n = 0;
                if (!put_text(x, ss, ss->prow, ss->pcol, ss->pxf, true))
                    return pos;
            }
            break;
        case BIFF_MERGEDCELLS:
            if (len >= 2 && ss->sh) {
                size_t n = biff_u16(d);
                if (n > (len - 2) / 8)
                    n = (len - 2) / 8;
                for (size_t i = 0; i < n; i++) {
                    const uint8_t *e = d + 2 + 8 * i;
                    ps_range r = {biff_u16(e), biff_u16(e + 4), biff_u16(e + 2), biff_u16(e + 6)};
                    if (r.last_row >= x->lim->max_rows || r.last_col >= x->lim->max_cols)
                        continue;
                    if (!ps_sheet_add_merge(ss->sh, r)) {
                        xls_fail(x, PS_ERR_NOMEM, "内存不足");
                        return pos;
                    }
                }
            }
            break;
        /* BIFF2 cell records: row, col, 3 attribute bytes (byte 1: format index), value */
        case BIFF_INTEGER2:
            if (x->biff == 2 && len >= 9 &&
                !put_cell(x, ss, biff_u16(d), biff_u16(d + 2), 0x10000u | (d[5] & 0x3F), PS_CELL_NUMBER,
                          biff_u16(d + 7), NULL, false))
                return pos;
            break;
        case BIFF_NUMBER2:
            if (x->biff == 2 && len >= 15 &&
                !put_cell(x, ss, biff_u16(d), biff_u16(d + 2), 0x10000u | (d[5] & 0x3F), PS_CELL_NUMBER,
                          ps_biff_f64(d + 7), NULL, false))
                return pos;
            break;
        case BIFF_LABEL2:
            if (x->biff == 2 && len >= 8 && ss->sh) {
                size_t n = d[7] <= len - 8 ? d[7] : len - 8;
                x->sb.n = 0;
                if (!put_8bit(x, d + 8, n)) {
                    xls_fail(x, PS_ERR_NOMEM, "内存不足");
                    return pos;
                }
                if (!put_text(x, ss, biff_u16(d), biff_u16(d + 2), 0x10000u | (d[5] & 0x3F), false))
                    return pos;
            }
            break;
        case BIFF_BOOLERR2:
            if (x->biff == 2 && len >= 9) {
                uint32_t row = biff_u16(d), col = biff_u16(d + 2), xf = 0x10000u | (d[5] & 0x3F);
                bool ok =
                    d[8] ? put_cell(x, ss, row, col, xf, PS_CELL_ERROR, 0, ps_biff_error_text(d[7]), false)
                         : put_cell(x, ss, row, col, xf, PS_CELL_BOOL, d[7] ? 1 : 0, NULL, false);
                if (!ok)
                    return pos;
            }
            break;
        default: break;
        }
    }
    if (x->st == PS_OK)
        flush_pending(x, ss);
    return pos;
}

/* ---- workbook globals (BIFF5/8) ----------------------------------------------------------- */

typedef struct boundsheet {
    uint32_t pos;
    uint8_t type;
    const char *name;
} boundsheet;

static bool on_sst(xls_ctx *x, size_t rec)
{
    biff_cursor c;
    uint32_t total, unique;
    if (x->sst || !ps_biff_cursor_at(&c, x->s, x->size, rec) || !ps_biff_cursor_u32(&c, &total) ||
        !ps_biff_cursor_u32(&c, &unique))
        return true; /* a second or headless SST: ignored */
    if (unique > x->lim->max_sst_entries) {
        xls_fail(x, PS_ERR_UNSUPPORTED, "共享字符串表的条目数 %u 超出限制 max_sst_entries（%llu）", unique,
                 (unsigned long long)x->lim->max_sst_entries);
        return false;
    }
    /* each entry takes at least 3 bytes: never allocate more than the stream can hold */
    size_t cap = unique < x->size / 3 + 1 ? unique : x->size / 3 + 1;
    x->sst = calloc(cap ? cap : 1, sizeof *x->sst);
    if (!x->sst)
        return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
    for (size_t i = 0; i < cap; i++) {
        uint16_t cch;
        uint8_t flags;
        if (!ps_biff_cursor_u16(&c, &cch) || !ps_biff_cursor_u8(&c, &flags))
            break; /* fewer strings than announced, as some writers do */
        x->sb.n = 0;
        if (!read_ustr(x, &c, cch, flags))
            break;
        if (x->sb.n > x->lim->max_string_bytes) {
            xls_fail(x, PS_ERR_UNSUPPORTED, "共享字符串 %zu 的长度超出限制 max_string_bytes（%llu 字节）", i,
                     (unsigned long long)x->lim->max_string_bytes);
            return false;
        }
        if (!(x->sst[i].text = sb_dup(x)))
            return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
        x->nsst = i + 1;
    }
    return true;
}

static bool on_boundsheet(xls_ctx *x, const uint8_t *d, size_t len, boundsheet **bs, size_t *nbs, size_t *cap)
{
    if (len < 7)
        return true;
    if (*nbs >= x->lim->max_sheets) {
        xls_fail(x, PS_ERR_UNSUPPORTED, "工作表数超出限制 max_sheets（%u）", x->lim->max_sheets);
        return false;
    }
    biff_cursor c = {.s = d, .size = len, .pos = 6, .end = len};
    if (!read_string(x, &c, true))
        x->sb.n = 0; /* named Sheet<n> below */
    if (*nbs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        boundsheet *p = realloc(*bs, ncap * sizeof *p);
        if (!p)
            return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
        *bs = p;
        *cap = ncap;
    }
    const char *name = sb_dup(x);
    if (!name)
        return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
    (*bs)[(*nbs)++] = (boundsheet){biff_u32(d), d[5], name};
    return true;
}

static bool add_sheet(xls_ctx *x, sheet_state *ss, const char *name)
{
    memset(ss, 0, sizeof *ss);
    if (ps_workbook_sheet_count(x->wb) >= x->lim->max_sheets)
        return xls_fail(x, PS_ERR_UNSUPPORTED, "工作表数超出限制 max_sheets（%u）", x->lim->max_sheets),
               false;
    ss->index = (uint32_t)ps_workbook_sheet_count(x->wb);
    if (!(ss->sh = ps_workbook_add_sheet(x->wb, name)))
        return xls_fail(x, PS_ERR_NOMEM, "内存不足"), false;
    return true;
}

/* A stream whose first BOF is not a workbook globals BOF: BIFF2–4 worksheets (or a BIFF4
 * workbook, or a lone BIFF5 sheet): substreams one after another, cells mixed with globals. */
static void parse_sequential(xls_ctx *x)
{
    size_t pos = 0;
    int n = 0;
    while (x->st == PS_OK && x->size - pos >= 4) {
        unsigned type = biff_u16(x->s + pos);
        size_t len = biff_u16(x->s + pos + 2);
        if (!is_bof(type) || x->size - pos - 4 < len)
            break; /* padding or junk after the last substream */
        unsigned sub = len >= 4 ? biff_u16(x->s + pos + 6) : 0x10; /* BOF: version, substream type */
        sheet_state ss;
        memset(&ss, 0, sizeof ss);
        if (sub == 0x10 || sub == 0x40 || sub == 0) {
            char name[32];
            snprintf(name, sizeof name, "Sheet %d", ++n); /* as xlrd names it */
            if (!add_sheet(x, &ss, name))
                return;
        }
        size_t next = parse_sheet(x, &ss, pos);
        if (next <= pos)
            break;
        pos = next;
    }
}

/* The BIFF version from the first BOF (stream name hint already in x->biff); false when the
 * stream does not start with a BOF. Sets x->sequential for streams without workbook globals. */
static bool detect_biff(xls_ctx *x)
{
    const uint8_t *s = x->s;
    if (x->size < 8 || !is_bof(biff_u16(s)) || biff_u16(s + 2) < 4 || x->size - 4 < biff_u16(s + 2))
        return false;
    unsigned bof = biff_u16(s);
    unsigned vers = biff_u16(s + 4), sub = biff_u16(s + 6);
    if (bof == BIFF_BOF2)
        x->biff = 2;
    else if (bof == BIFF_BOF3)
        x->biff = 3;
    else if (bof == BIFF_BOF4)
        x->biff = 4;
    else if (vers == 0x0600)
        x->biff = 8;
    else if (vers == 0x0500)
        x->biff = 5;
    else if (x->biff == 0)
        x->biff = 8; /* odd version field, no stream name: BIFF8 is by far the likeliest */
    x->sequential = x->biff <= 4 || sub != 0x0005;
    return true;
}

static void parse_workbook(xls_ctx *x)
{
    const uint8_t *s = x->s;
    if (x->sequential) {
        parse_sequential(x);
        return;
    }

    boundsheet *bs = NULL;
    size_t nbs = 0, bcap = 0;
    size_t pos = 0;
    bool eof = false;
    while (x->st == PS_OK && x->size - pos >= 4) {
        unsigned type = biff_u16(s + pos);
        size_t len = biff_u16(s + pos + 2);
        if (x->size - pos - 4 < len)
            break; /* reported below: no EOF */
        const uint8_t *d = s + pos + 4;
        size_t rec = pos;
        pos += 4 + len;
        if (type == BIFF_EOF) {
            eof = true;
            break;
        }
        if (!on_global(x, type, rec, d, len))
            break;
        if (type == BIFF_SST && !on_sst(x, rec))
            break;
        if (type == BIFF_BOUNDSHEET && !on_boundsheet(x, d, len, &bs, &nbs, &bcap))
            break;
    }
    if (x->st == PS_OK && !eof)
        x->damaged = WB_GLOBALS;
    for (size_t i = 0; i < nbs && x->st == PS_OK; i++) {
        if (bs[i].type != 0) {
            x->other_sheets++; /* chart, macro or VB module sheet */
            continue;
        }
        size_t at = bs[i].pos;
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            if (bs[j].pos == at && bs[j].type == 0)
                dup = true;
        bool ok = !dup && at < x->size && x->size - at >= 8 && biff_u16(s + at) == BIFF_BOF;
        if (ok && biff_u16(s + at + 6 + 0) != 0x0010 && biff_u16(s + at + 6) != 0)
            continue; /* a chart or dialog substream listed as worksheet: skip it */
        char name[32];
        const char *nm = bs[i].name;
        if (!nm[0]) {
            snprintf(name, sizeof name, "Sheet%zu", i + 1);
            nm = name;
        }
        sheet_state ss;
        if (!add_sheet(x, &ss, nm))
            break;
        if (!ok) {
            x->damaged = ps_sheet_name(ss.sh); /* its offset does not point at a BOF */
            continue;
        }
        parse_sheet(x, &ss, at);
    }
    free(bs);
}

/* ---- the container ------------------------------------------------------------------------ */

static bool name_is(const char *a, const char *b)
{
    return a && strcasecmp(a, b) == 0;
}

/* Finds the workbook stream of an OLE2 file and reads it into *out (caller frees). */
static ps_status read_ole_stream(xls_ctx *x, const uint8_t *file, size_t flen, uint8_t **out, size_t *outlen,
                                 int *biff_hint)
{
    char why[160] = "";
    cfb *ole = ps_cfb_open(file, flen, why, sizeof why);
    if (!ole)
        return ps_error_set(
            x->err, PS_ERR_CORRUPT, x->path,
            "文件已损坏或不完整（可能在下载、复制时被截断），无法读取其中的工作表；请重新获取原文件"
            "（技术细节：OLE2 复合文档目录无法读取：%s）",
            why);
    ps_status st = PS_OK;
    size_t n = ps_cfb_root_count(ole), wb = SIZE_MAX, book = SIZE_MAX;
    bool word = false, ppt = false, encrypted = false;
    for (size_t i = 0; i < n; i++) {
        const char *nm = ps_cfb_root_name(ole, i);
        if (name_is(nm, "Workbook") && ps_cfb_root_is_stream(ole, i))
            wb = i;
        else if (name_is(nm, "Book") && ps_cfb_root_is_stream(ole, i))
            book = i;
        else if (name_is(nm, "EncryptionInfo") || name_is(nm, "EncryptedPackage"))
            encrypted = true;
        else if (name_is(nm, "WordDocument"))
            word = true;
        else if (name_is(nm, "PowerPoint Document"))
            ppt = true;
    }
    size_t which = wb != SIZE_MAX ? wb : book;
    if (encrypted) {
        st =
            ps_error_set(x->err, PS_ERR_ENCRYPTED, x->path, "文件已加密（设有打开密码），请提交未加密的文件");
    } else if (which == SIZE_MAX) {
        if (word)
            st = ps_error_set(x->err, PS_ERR_UNSUPPORTED, x->path, "这是 Word 文档，不是 Excel 工作簿");
        else if (ppt)
            st = ps_error_set(x->err, PS_ERR_UNSUPPORTED, x->path,
                              "这是 PowerPoint 演示文稿，不是 Excel 工作簿");
        else
            st = ps_error_set(x->err, PS_ERR_UNSUPPORTED, x->path,
                              "OLE2 复合文档中没有 Excel 工作簿流（Workbook/Book）");
    } else {
        *biff_hint = which == wb ? 8 : 5;
        if (!ps_cfb_read_root_stream(ole, which, out, outlen, why, sizeof why))
            st = ps_error_set(x->err, PS_ERR_CORRUPT, x->path,
                              "工作簿流不完整，文件已截断或损坏（技术细节：%s）", why);
        else if (*outlen == 0) {
            free(*out);
            *out = NULL;
            st = ps_error_set(x->err, PS_ERR_CORRUPT, x->path, "工作簿流长度为 0，文件已损坏");
        }
    }
    ps_cfb_close(ole);
    return st;
}

ps_status ps_reader_open_xls(const char *path, uint8_t *file, size_t flen, const ps_limits *limits,
                             ps_workbook **out, ps_error *err)
{
    ps_limits deflim;
    if (!limits) {
        deflim = ps_reader_default_limits();
        limits = &deflim;
    }
    uint8_t *stream = NULL;
    ps_status st = PS_OK;
    if (flen == 0) {
        free(file);
        return ps_error_set(err, PS_ERR_NOT_A_SPREADSHEET, path, "文件为空（0 字节）");
    }
    xls_ctx x = {.path = path, .lim = limits, .err = err, .cd = (iconv_t)-1, .codepage = 1252};
    static const uint8_t ole_magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    int hint = 0;
    if (flen >= 8 && memcmp(file, ole_magic, 8) == 0) {
        size_t slen = 0;
        st = read_ole_stream(&x, file, flen, &stream, &slen, &hint);
        free(file);
        file = NULL;
        if (st != PS_OK)
            return st;
        x.s = stream;
        x.size = slen;
    } else if (flen >= 4 && is_bof(biff_u16(file))) {
        x.s = file; /* a bare BIFF stream */
        x.size = flen;
    } else {
        free(file);
        return ps_error_set(err, PS_ERR_NOT_A_SPREADSHEET, path,
                            "不是 Excel 文件（既非 OLE2 复合文档，也非 BIFF 流）");
    }
    x.biff = hint;
    if (!detect_biff(&x)) {
        st = ps_error_set(err, PS_ERR_CORRUPT, path, "工作簿流不以 BOF 记录开头，文件已损坏");
        goto done;
    }
    x.wb = ps_workbook_new(x.biff == 8 ? PS_FORMAT_XLS_BIFF8 : PS_FORMAT_XLS_BIFF5);
    if (!x.wb) {
        st = ps_error_set(err, PS_ERR_NOMEM, path, "内存不足");
        goto done;
    }
    parse_workbook(&x);
    if (x.st == PS_OK && x.damaged) {
        x.st = ps_error_at_cell(err, PS_ERR_CORRUPT, path, strcmp(x.damaged, WB_GLOBALS) ? x.damaged : NULL,
                                NULL, "工作簿流在“%s”处不完整（记录超出流末尾或缺少 EOF），文件已截断或损坏",
                                x.damaged);
    }
    if (x.st == PS_OK && ps_workbook_sheet_count(x.wb) == 0) {
        if (x.other_sheets)
            xls_fail(&x, PS_ERR_UNSUPPORTED, "工作簿中没有工作表，只有图表、宏表或模块");
        else
            xls_fail(&x, PS_ERR_CORRUPT, "工作簿中没有可读的工作表，文件已损坏");
    }
    st = x.st;
    if (st == PS_OK) {
        if (x.biff < 8)
            ps_workbook_set_codepage(x.wb, x.codepage);
        ps_workbook_finish(x.wb);
    }
done:
    if (x.cd != (iconv_t)-1)
        iconv_close(x.cd);
    free(x.sb.p);
    free(x.xfs);
    free(x.fmts);
    free(x.sst);
    free(stream);
    free(file);
    if (st != PS_OK) {
        ps_workbook_free(x.wb);
        return st;
    }
    *out = x.wb;
    return PS_OK;
}
