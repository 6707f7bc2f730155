/* reader_xlsx.c - reading an Office Open XML workbook (.xlsx, .xlsm) into a ps_workbook.
 *
 * The ZIP container is walked here (central directory, local headers) and each part is
 * inflated with zlib as libxml2's SAX2 parser pulls the bytes it needs: no part is held
 * inflated in memory and no DOM of a sheet is ever built. The
 * parser never loads DTDs or the network (XML_PARSE_NONET, no XML_PARSE_NOENT, no
 * XML_PARSE_HUGE), and a part that declares a DTD is refused outright (OOXML forbids them), so
 * entity expansion attacks cannot start.
 *
 * Zip bombs and other absurd input are stopped by the limits of ps_limits (docs/limits.md):
 * the central directory is walked here first (entry count, declared and compressed sizes),
 * every entry's declared size is checked against what remains of max_uncompressed before it
 * is inflated, and the inflated bytes are counted as they are read.
 *
 * Order of reading, each part at most once: _rels/.rels -> the workbook part (sheet names,
 * r:id, date1904) -> its .rels (targets) -> sharedStrings -> styles -> each worksheet. */
#include "numfmt.h"
#include "perfsheet/deadline.h"
#include "reader_int.h"
#include "workbook_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum {
    RATIO_FLOOR = 1024 * 1024, /* max_zip_ratio applies to entries inflating beyond this */
    MAX_RELS = 65536,          /* relationships kept from one .rels part */
    MAX_XFS = 262144,          /* cellXfs entries and custom number formats */
    MAX_NAME = 1024,           /* longest part name we resolve */
};

/* ---- the reader's state ------------------------------------------------------------------ */

typedef struct zip_entry {
    const char *name; /* borrows the file buffer; not NUL-terminated */
    size_t name_len;
    uint64_t comp, uncomp; /* as declared by the central directory */
    uint64_t local;        /* offset of the local header */
    uint32_t method;       /* 0 stored, 8 deflated */
} zip_entry;

typedef struct num_fmt {
    uint32_t id;
    numfmt f;
} num_fmt;

typedef struct rel {
    char *id, *type, *target; /* owns */
} rel;

typedef struct rel_list {
    rel *v;
    size_t n, cap;
} rel_list;

typedef struct xlsx {
    const char *path;
    const ps_limits *lim;
    ps_error *err;
    ps_status st;        /* the first error; later ones are ignored */
    unsigned char *data; /* owns: the whole file */
    size_t size;
    zip_entry *entries; /* owns */
    size_t nentries;
    uint64_t inflated;
    ps_workbook *wb;  /* owns until handed out */
    const char **sst; /* owns the array; strings live in wb's arena */
    size_t nsst, sst_cap;
    num_fmt *fmts; /* owns */
    size_t nfmts, fmt_cap;
    uint32_t *xf_ids; /* owns: numFmtId per cellXfs entry */
    size_t nxf, xf_cap;
    numfmt *xfs; /* owns: resolved format per cellXfs entry */
    bool date1904;
    uint64_t file_cells;
} xlsx;

static ps_status failv(xlsx *x, ps_status code, const char *sheet, const char *cell, const char *fmt,
                       va_list ap)
{
    if (x->st != PS_OK)
        return x->st;
    x->st = code;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    ps_error_at_cell(x->err, code, x->path, sheet, cell, "%s", msg);
    return code;
}

__attribute__((format(printf, 3, 4))) static ps_status fail(xlsx *x, ps_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(x, code, NULL, NULL, fmt, ap);
    va_end(ap);
    return x->st;
}

__attribute__((format(printf, 5, 6))) static ps_status fail_at(xlsx *x, ps_status code, const char *sheet,
                                                               const char *cell, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(x, code, sheet, cell, fmt, ap);
    va_end(ap);
    return x->st;
}

static ps_status nomem(xlsx *x)
{
    return fail(x, PS_ERR_NOMEM, "内存不足");
}

/* A growable byte buffer for text being collected. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static bool sbuf_add(sbuf *b, const char *s, size_t n)
{
    if (b->cap - b->n < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return false;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return true;
}

static void sbuf_clear(sbuf *b)
{
    b->n = 0;
    if (b->p)
        b->p[0] = '\0';
}

/* ---- the ZIP central directory ----------------------------------------------------------- */

static uint32_t rd16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static uint32_t rd32(const unsigned char *p)
{
    return rd16(p) | rd16(p + 2) << 16;
}
static uint64_t rd64(const unsigned char *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Walks the central directory: counts the entries against max_zip_entries and records the
 * names and sizes that the limits are checked against. */
static ps_status zip_scan(xlsx *x)
{
    const unsigned char *p = x->data;
    size_t n = x->size;
    if (n < 22)
        return fail(x, PS_ERR_CORRUPT, "ZIP 文件只有 %zu 字节，已截断或损坏", n);
    size_t lo = n > 22 + 65535 ? n - 22 - 65535 : 0, eocd = SIZE_MAX;
    for (size_t i = n - 22 + 1; i-- > lo;) {
        if (p[i] == 'P' && p[i + 1] == 'K' && p[i + 2] == 5 && p[i + 3] == 6) {
            eocd = i;
            break;
        }
    }
    if (eocd == SIZE_MAX)
        return fail(x, PS_ERR_CORRUPT, "找不到 ZIP 中央目录：文件不完整（可能下载或复制时被截断）或已损坏");
    uint64_t total = rd16(p + eocd + 10), cd_size = rd32(p + eocd + 12), cd_off = rd32(p + eocd + 16);
    if ((total == 0xFFFF || cd_size == 0xFFFFFFFF || cd_off == 0xFFFFFFFF) && eocd >= 20 &&
        memcmp(p + eocd - 20, "PK\x06\x07", 4) == 0) {
        uint64_t z = rd64(p + eocd - 20 + 8);
        if (n >= 56 && z <= n - 56 && memcmp(p + z, "PK\x06\x06", 4) == 0) {
            total = rd64(p + z + 32);
            cd_size = rd64(p + z + 40);
            cd_off = rd64(p + z + 48);
        }
    }
    if (total > x->lim->max_zip_entries)
        return fail(x, PS_ERR_UNSUPPORTED, "ZIP 包含 %llu 个条目，超过上限 max_zip_entries（%u）",
                    (unsigned long long)total, x->lim->max_zip_entries);
    if (cd_off > n || cd_size > n - cd_off)
        return fail(x, PS_ERR_CORRUPT, "ZIP 中央目录超出文件末尾：文件已截断或损坏");
    if (total == 0)
        return PS_OK;
    x->entries = calloc((size_t)total, sizeof *x->entries);
    if (!x->entries)
        return nomem(x);
    size_t pos = (size_t)cd_off, end = (size_t)(cd_off + cd_size);
    for (uint64_t i = 0; i < total; i++) {
        if (end - pos < 46 || memcmp(p + pos, "PK\x01\x02", 4) != 0)
            return fail(x, PS_ERR_CORRUPT, "ZIP 中央目录第 %llu 项损坏", (unsigned long long)i + 1);
        const unsigned char *h = p + pos;
        size_t name_len = rd16(h + 28), extra_len = rd16(h + 30), comment_len = rd16(h + 32);
        if (end - pos - 46 < name_len + extra_len + comment_len)
            return fail(x, PS_ERR_CORRUPT, "ZIP 中央目录第 %llu 项超出目录末尾", (unsigned long long)i + 1);
        zip_entry *e = &x->entries[x->nentries++];
        e->name = (const char *)h + 46;
        e->name_len = name_len;
        e->method = rd16(h + 10);
        e->comp = rd32(h + 20);
        e->uncomp = rd32(h + 24);
        e->local = rd32(h + 42);
        /* ZIP64: the sizes that are 0xFFFFFFFF come from the extra field 0x0001, in order. */
        const unsigned char *ex = h + 46 + name_len, *ex_end = ex + extra_len;
        while (ex_end - ex >= 4) {
            uint32_t id = rd16(ex), len = rd16(ex + 2);
            if ((size_t)(ex_end - ex - 4) < len)
                break;
            if (id == 0x0001) {
                const unsigned char *f = ex + 4, *f_end = f + len;
                if (e->uncomp == 0xFFFFFFFF && f_end - f >= 8)
                    e->uncomp = rd64(f), f += 8;
                if (e->comp == 0xFFFFFFFF && f_end - f >= 8)
                    e->comp = rd64(f), f += 8;
                if (e->local == 0xFFFFFFFF && f_end - f >= 8)
                    e->local = rd64(f);
            }
            ex += 4 + len;
        }
        pos += 46 + name_len + extra_len + comment_len;
    }
    return PS_OK;
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Part names compare case-insensitively (OPC), with '\' taken as '/' and no leading '/'. */
static bool part_name_eq(const char *a, size_t an, const char *b)
{
    while (an > 0 && (*a == '/' || *a == '\\'))
        a++, an--;
    while (*b == '/')
        b++;
    size_t bn = strlen(b);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++) {
        int ca = a[i] == '\\' ? '/' : ascii_lower((unsigned char)a[i]);
        int cb = b[i] == '\\' ? '/' : ascii_lower((unsigned char)b[i]);
        if (ca != cb)
            return false;
    }
    return true;
}

static const zip_entry *zip_find(const xlsx *x, const char *part)
{
    for (size_t i = 0; i < x->nentries; i++)
        if (part_name_eq(x->entries[i].name, x->entries[i].name_len, part))
            return &x->entries[i];
    return NULL;
}

/* An entry being inflated: the bytes after its local header, up to the size the central
 * directory declares (as Excel reads them). */
typedef struct zip_reader {
    const unsigned char *src; /* compressed (or stored) bytes not yet consumed */
    size_t src_left;
    uint64_t left; /* uncompressed bytes still to come */
    bool deflated;
    z_stream z;
} zip_reader;

/* Opens e for reading; false when its local header is damaged or its method unknown. */
static bool zip_open(const xlsx *x, const zip_entry *e, zip_reader *r)
{
    memset(r, 0, sizeof *r);
    if (e->method != 0 && e->method != 8)
        return false;
    if (e->local > x->size || x->size - e->local < 30 || memcmp(x->data + e->local, "PK\x03\x04", 4) != 0)
        return false;
    const unsigned char *lh = x->data + e->local;
    uint64_t skip = 30 + (uint64_t)rd16(lh + 26) + rd16(lh + 28);
    if (x->size - e->local < skip)
        return false;
    size_t start = (size_t)(e->local + skip), avail = x->size - start;
    r->src = x->data + start;
    r->src_left = e->comp < avail ? (size_t)e->comp : avail;
    r->left = e->uncomp;
    r->deflated = e->method == 8;
    if (r->deflated && inflateInit2(&r->z, -MAX_WBITS) != Z_OK)
        return false;
    return true;
}

/* Inflates up to len bytes into buf; returns how many (0 at the declared end), -1 when the
 * data is damaged or ends before the declared size. */
static long zip_read(zip_reader *r, unsigned char *buf, size_t len)
{
    if (r->left == 0 || len == 0)
        return 0;
    if (len > r->left)
        len = (size_t)r->left;
    if (!r->deflated) {
        if (r->src_left < len)
            return -1;
        memcpy(buf, r->src, len);
        r->src += len, r->src_left -= len, r->left -= len;
        return (long)len;
    }
    r->z.next_out = buf;
    r->z.avail_out = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
    while (r->z.avail_out > 0) {
        uInt in = r->src_left > UINT32_MAX ? UINT32_MAX : (uInt)r->src_left;
        r->z.next_in = (Bytef *)r->src;
        r->z.avail_in = in;
        int zr = inflate(&r->z, Z_NO_FLUSH);
        size_t used = in - r->z.avail_in;
        r->src += used, r->src_left -= used;
        if (zr == Z_STREAM_END || zr == Z_BUF_ERROR || (zr == Z_OK && used == 0 && r->src_left == 0))
            break; /* no more input or the stream's end: less than declared unless buf is full */
        if (zr != Z_OK)
            return -1;
    }
    size_t got = len - r->z.avail_out;
    if (got < len)
        return -1; /* the stream ended before its declared size */
    r->left -= got;
    return (long)got;
}

static void zip_close(zip_reader *r)
{
    if (r->deflated)
        inflateEnd(&r->z);
}

/* ---- XML parts through SAX2 -------------------------------------------------------------- */

typedef struct sax_job sax_job;
struct sax_job {
    xlsx *x;
    xmlParserCtxtPtr ctxt;
    const char *part; /* for messages */
    uint32_t depth;
    sbuf *collect; /* when set, character data is appended here */
    void (*start)(sax_job *job, const char *name, int nattr, const xmlChar **attrs);
    void (*end)(sax_job *job, const char *name);
    void *state;
    const char *sheet; /* location for messages */
    bool in_cell;      /* the cell being read, for messages (formatted only when needed) */
    uint32_t cell_row, cell_col;
    char xml_error[160];
    int xml_line;
    zip_reader *in; /* borrowed: the part being read */
};

static void job_stop(sax_job *job)
{
    if (job->ctxt)
        xmlStopParser(job->ctxt);
}

/* The value of attribute `name` (local name; any namespace when ns_any, else none) copied
 * into buf with "&#38;" decoded (libxml2 keeps '&' that way when entities are not replaced);
 * NULL when absent. Values longer than size-1 are cut. */
static const char *attr_get(int nattr, const xmlChar **attrs, const char *name, bool ns_any, char *buf,
                            size_t size)
{
    for (int i = 0; i < nattr; i++) {
        const xmlChar **a = attrs + 5 * i;
        if (strcmp((const char *)a[0], name) != 0 || (!ns_any && a[2] != NULL))
            continue;
        const char *v = (const char *)a[3], *v_end = (const char *)a[4];
        size_t k = 0;
        while (v < v_end && k + 1 < size) {
            if (v_end - v >= 5 && memcmp(v, "&#38;", 5) == 0) {
                buf[k++] = '&';
                v += 5;
            } else {
                buf[k++] = *v++;
            }
        }
        buf[k] = '\0';
        return buf;
    }
    return NULL;
}

/* Unsigned decimal attribute; false when absent or not a number. */
static bool attr_u64(int nattr, const xmlChar **attrs, const char *name, uint64_t *out)
{
    char buf[32];
    const char *v = attr_get(nattr, attrs, name, false, buf, sizeof buf);
    if (!v)
        return false;
    while (*v == ' ')
        v++;
    if (*v < '0' || *v > '9')
        return false;
    uint64_t r = 0;
    for (; *v >= '0' && *v <= '9'; v++) {
        if (r > (UINT64_MAX - 9) / 10)
            return false;
        r = r * 10 + (uint64_t)(*v - '0');
    }
    *out = r;
    return true;
}

static bool attr_true(int nattr, const xmlChar **attrs, const char *name)
{
    char buf[16];
    const char *v = attr_get(nattr, attrs, name, false, buf, sizeof buf);
    return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0);
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                     const xmlChar **attributes)
{
    sax_job *job = ctx;
    if (job->x->st != PS_OK)
        return;
    if (ps_deadline_passed()) {
        fail(job->x, PS_ERR_UNSUPPORTED, "处理超时（超过 %g 秒），已跳过此文件", ps_deadline_seconds());
        job_stop(job);
        return;
    }
    if (++job->depth > job->x->lim->max_xml_depth) {
        fail(job->x, PS_ERR_UNSUPPORTED, "%s 的 XML 嵌套超过 %u 层（上限 max_xml_depth）", job->part,
             job->x->lim->max_xml_depth);
        job_stop(job);
        return;
    }
    if (job->start)
        job->start(job, (const char *)localname, nb_attributes, attributes);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    sax_job *job = ctx;
    if (job->x->st != PS_OK)
        return;
    if (job->end)
        job->end(job, (const char *)localname);
    if (job->depth > 0)
        job->depth--;
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
    sax_job *job = ctx;
    if (!job->collect || job->x->st != PS_OK || len <= 0)
        return;
    if (job->collect->n + (size_t)len > job->x->lim->max_string_bytes) {
        char ref[16];
        fail_at(job->x, PS_ERR_UNSUPPORTED, job->sheet,
                job->in_cell ? ps_cell_ref(job->cell_row, job->cell_col, ref, sizeof ref) : NULL,
                "%s 中的一段文本超过 %llu 字节（上限 max_string_bytes）", job->part,
                (unsigned long long)job->x->lim->max_string_bytes);
        job_stop(job);
        return;
    }
    if (!sbuf_add(job->collect, (const char *)ch, (size_t)len)) {
        nomem(job->x);
        job_stop(job);
    }
}

static void on_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
    sax_job *job = ctx;
    fail(job->x, PS_ERR_CORRUPT, "%s 含 DTD 声明（<!DOCTYPE>），Office Open XML 不允许，已拒绝", job->part);
    job_stop(job);
}

static void on_error(void *ctx, xmlErrorPtr e)
{
    sax_job *job = ctx;
    if (job->xml_error[0] || !e || e->level < XML_ERR_ERROR)
        return;
    snprintf(job->xml_error, sizeof job->xml_error, "%s", e->message ? e->message : "?");
    size_t n = strlen(job->xml_error);
    while (n > 0 && (job->xml_error[n - 1] == '\n' || job->xml_error[n - 1] == ' '))
        job->xml_error[--n] = '\0';
    for (char *c = job->xml_error; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    job->xml_line = e->line;
}

/* libxml2 pulls the part through this: inflates at most len bytes, counting them against
 * max_uncompressed. Returns the bytes given, 0 at the end, -1 on an error (x->st says which). */
static int io_read(void *ctx, char *buf, int len)
{
    sax_job *job = ctx;
    xlsx *x = job->x;
    if (x->st != PS_OK || len <= 0)
        return x->st != PS_OK ? -1 : 0;
    long take = zip_read(job->in, (unsigned char *)buf, (size_t)len);
    if (take < 0) {
        fail(x, PS_ERR_CORRUPT, "ZIP 条目 %s 的压缩数据损坏，无法解压", job->part);
        return -1;
    }
    x->inflated += (uint64_t)take;
    if (x->inflated > x->lim->max_uncompressed) {
        fail(x, PS_ERR_UNSUPPORTED, "解压总量超过上限 max_uncompressed（%llu 字节）：可能是 ZIP 炸弹",
             (unsigned long long)x->lim->max_uncompressed);
        return -1;
    }
    return (int)take;
}

/* Inflates entry e and feeds it to the SAX handlers of job. The limits on inflated size are
 * checked before the first byte is inflated and again as bytes arrive. */
static ps_status parse_part(xlsx *x, const zip_entry *e, sax_job *job)
{
    const ps_limits *lim = x->lim;
    if (e->uncomp >
        lim->max_uncompressed - (x->inflated < lim->max_uncompressed ? x->inflated : lim->max_uncompressed))
        return fail(
            x, PS_ERR_UNSUPPORTED,
            "%s 解压后有 %llu 字节，解压总量将超过上限 max_uncompressed（%llu 字节）：可能是 ZIP 炸弹",
            job->part, (unsigned long long)e->uncomp, (unsigned long long)lim->max_uncompressed);
    /* deflate cannot shrink data more than 1032:1: beyond that the directory lies */
    if (e->uncomp > RATIO_FLOOR && e->uncomp / (e->comp ? e->comp : 1) > 1100)
        return fail(x, PS_ERR_CORRUPT,
                    "ZIP 目录中 %s 的大小（%llu 字节，压缩后 %llu 字节）不可能成立：文件已损坏", job->part,
                    (unsigned long long)e->uncomp, (unsigned long long)e->comp);
    if (e->uncomp > RATIO_FLOOR && e->uncomp / (e->comp ? e->comp : 1) > lim->max_zip_ratio)
        return fail(x, PS_ERR_UNSUPPORTED,
                    "%s 的压缩比为 %llu:1，超过上限 max_zip_ratio（%u:1）：可能是 ZIP 炸弹", job->part,
                    (unsigned long long)(e->uncomp / (e->comp ? e->comp : 1)), lim->max_zip_ratio);
    if (e->method != 0 && e->method != 8)
        return fail(x, PS_ERR_UNSUPPORTED,
                    "ZIP 条目 %s 使用了不支持的压缩方式（%u），请用 Excel/WPS 重新保存", job->part,
                    e->method);
    zip_reader in;
    if (!zip_open(x, e, &in))
        return fail(x, PS_ERR_CORRUPT, "无法读取 ZIP 条目 %s：本地文件头损坏", job->part);

    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_chars;
    sax.cdataBlock = on_chars;
    sax.ignorableWhitespace = on_chars;
    sax.internalSubset = on_dtd;
    sax.externalSubset = on_dtd;
    sax.serror = on_error;
    job->x = x;
    job->in = &in;
    job->ctxt = xmlCreateIOParserCtxt(&sax, job, io_read, NULL, job, XML_CHAR_ENCODING_NONE);
    if (!job->ctxt) {
        zip_close(&in);
        return nomem(x);
    }
    xmlCtxtUseOptions(job->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    bool ok = xmlParseDocument(job->ctxt) == 0 && job->ctxt->wellFormed;
    if (x->st == PS_OK && !ok) {
        if (job->xml_error[0])
            fail(x, PS_ERR_CORRUPT, "%s 不是格式正确的 XML（第 %d 行：%s）", job->part, job->xml_line,
                 job->xml_error);
        else
            fail(x, PS_ERR_CORRUPT, "%s 不是格式正确的 XML", job->part);
    }
    if (job->ctxt->myDoc)
        xmlFreeDoc(job->ctxt->myDoc);
    xmlFreeParserCtxt(job->ctxt);
    job->ctxt = NULL;
    zip_close(&in);
    return x->st;
}

/* ---- relationships ----------------------------------------------------------------------- */

static void rels_free(rel_list *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].id);
        free(r->v[i].type);
        free(r->v[i].target);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

static void rels_start(sax_job *job, const char *name, int nattr, const xmlChar **attrs)
{
    rel_list *r = job->state;
    if (strcmp(name, "Relationship") != 0)
        return;
    char mode[32], id[256], type[512], target[MAX_NAME];
    const char *m = attr_get(nattr, attrs, "TargetMode", false, mode, sizeof mode);
    if (m && strcasecmp(m, "External") == 0)
        return;
    const char *i = attr_get(nattr, attrs, "Id", false, id, sizeof id);
    const char *t = attr_get(nattr, attrs, "Type", false, type, sizeof type);
    const char *g = attr_get(nattr, attrs, "Target", false, target, sizeof target);
    if (!i || !t || !g)
        return;
    if (r->n == MAX_RELS) {
        fail(job->x, PS_ERR_UNSUPPORTED, "%s 中的关系超过 %d 个", job->part, MAX_RELS);
        job_stop(job);
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        rel *v = realloc(r->v, cap * sizeof *v);
        if (!v) {
            nomem(job->x);
            job_stop(job);
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    rel *e = &r->v[r->n];
    e->id = strdup(i);
    e->type = strdup(t);
    e->target = strdup(g);
    r->n++;
    if (!e->id || !e->type || !e->target) {
        nomem(job->x);
        job_stop(job);
    }
}

/* Reads the .rels part `part` if present (an absent one is an empty list). */
static ps_status read_rels(xlsx *x, const char *part, rel_list *out)
{
    const zip_entry *e = zip_find(x, part);
    if (!e)
        return PS_OK;
    sax_job job = {.part = part, .start = rels_start, .state = out};
    return parse_part(x, e, &job);
}

static bool type_is(const char *type, const char *suffix)
{
    size_t n = strlen(type), k = strlen(suffix);
    return n >= k && strcmp(type + n - k, suffix) == 0;
}

static const rel *rels_by_type(const rel_list *r, const char *suffix)
{
    for (size_t i = 0; i < r->n; i++)
        if (type_is(r->v[i].type, suffix))
            return &r->v[i];
    return NULL;
}

static const rel *rels_by_id(const rel_list *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].id, id) == 0)
            return &r->v[i];
    return NULL;
}

/* Resolves a relationship target against the folder of the part that owns the .rels
 * (base_dir ends with '/' or is ""): absolute targets start at the package root; "." and ".."
 * segments are folded. Returns false when the result does not fit. */
static bool resolve_target(const char *base_dir, const char *target, char *out, size_t size)
{
    char tmp[2 * MAX_NAME];
    if (target[0] == '/' || target[0] == '\\')
        snprintf(tmp, sizeof tmp, "%s", target + 1);
    else
        snprintf(tmp, sizeof tmp, "%s%s", base_dir, target);
    for (char *c = tmp; *c; c++)
        if (*c == '\\')
            *c = '/';
    /* fold segments */
    size_t k = 0;
    char *s = tmp;
    while (*s) {
        char *slash = strchr(s, '/');
        size_t len = slash ? (size_t)(slash - s) : strlen(s);
        if (len == 0 || (len == 1 && s[0] == '.')) {
            /* skip */
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (k > 0 && out[k - 1] != '/')
                k--;
            if (k > 0)
                k--; /* drop the '/' too */
            while (k > 0 && out[k - 1] != '/')
                k--;
        } else {
            if (k + len + 2 > size)
                return false;
            memcpy(out + k, s, len);
            k += len;
            if (slash)
                out[k++] = '/';
        }
        if (!slash)
            break;
        s = slash + 1;
    }
    if (k > 0 && out[k - 1] == '/')
        k--;
    out[k] = '\0';
    return k > 0;
}

/* "xl/workbook.xml" -> dir "xl/", rels "xl/_rels/workbook.xml.rels" */
static void part_dir(const char *part, char *dir, size_t size)
{
    const char *slash = strrchr(part, '/');
    size_t n = slash ? (size_t)(slash - part + 1) : 0;
    if (n >= size)
        n = 0;
    memcpy(dir, part, n);
    dir[n] = '\0';
}

static void part_rels(const char *part, char *out, size_t size)
{
    const char *slash = strrchr(part, '/');
    if (slash)
        snprintf(out, size, "%.*s_rels/%s.rels", (int)(slash - part + 1), part, slash + 1);
    else
        snprintf(out, size, "_rels/%s.rels", part);
}

/* ---- workbook part ----------------------------------------------------------------------- */

typedef struct sheet_ref {
    char *name, *rid; /* owns */
} sheet_ref;

typedef struct wb_state {
    sheet_ref *v;
    size_t n, cap;
} wb_state;

static void wb_start(sax_job *job, const char *name, int nattr, const xmlChar **attrs)
{
    wb_state *w = job->state;
    if (strcmp(name, "workbookPr") == 0) {
        job->x->date1904 = attr_true(nattr, attrs, "date1904");
    } else if (strcmp(name, "sheet") == 0) {
        char nm[512], rid[256];
        const char *n = attr_get(nattr, attrs, "name", false, nm, sizeof nm);
        const char *r = attr_get(nattr, attrs, "id", true, rid, sizeof rid);
        if (w->n >= job->x->lim->max_sheets) {
            fail(job->x, PS_ERR_UNSUPPORTED, "工作簿的工作表超过 %u 张（上限 max_sheets）",
                 job->x->lim->max_sheets);
            job_stop(job);
            return;
        }
        if (w->n == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 8;
            sheet_ref *v = realloc(w->v, cap * sizeof *v);
            if (!v) {
                nomem(job->x);
                job_stop(job);
                return;
            }
            w->v = v;
            w->cap = cap;
        }
        sheet_ref *s = &w->v[w->n++];
        s->name = strdup(n ? n : "");
        s->rid = strdup(r ? r : "");
        if (!s->name || !s->rid) {
            nomem(job->x);
            job_stop(job);
        }
    }
}

/* ---- text: _xHHHH_ escapes --------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = ascii_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Whether s[0..n) starts with an _xHHHH_ escape; its code unit in *u. */
static bool x_escape(const char *s, size_t n, unsigned *u)
{
    if (n < 7 || s[0] != '_' || (s[1] != 'x' && s[1] != 'X') || s[6] != '_')
        return false;
    unsigned v = 0;
    for (int i = 2; i < 6; i++) {
        int h = hexval((unsigned char)s[i]);
        if (h < 0)
            return false;
        v = v << 4 | (unsigned)h;
    }
    *u = v;
    return true;
}

static size_t put_utf8(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes OOXML's _xHHHH_ escapes in place (the text never grows: 7 bytes become at most 4).
 * "_x005F_" escapes the underscore itself. Returns the new length. */
static size_t unescape_x(char *s, size_t n)
{
    if (!memchr(s, '_', n))
        return n;
    size_t r = 0, w = 0;
    while (r < n) {
        unsigned u;
        if (s[r] == '_' && x_escape(s + r, n - r, &u)) {
            r += 7;
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned lo;
                if (x_escape(s + r, n - r, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                    r += 7;
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                    u = 0xFFFD;
                }
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                u = 0xFFFD;
            }
            if (u == 0)
                u = 0xFFFD; /* keep strings NUL-free */
            w += put_utf8(u, s + w);
        } else {
            s[w++] = s[r++];
        }
    }
    s[w] = '\0';
    return w;
}

/* ---- shared strings ---------------------------------------------------------------------- */

typedef struct sst_state {
    sbuf text;
    bool in_si;
    uint32_t rph; /* inside <rPh> (phonetic runs are not part of the text) */
} sst_state;

static void sst_start(sax_job *job, const char *name, int nattr, const xmlChar **attrs)
{
    sst_state *s = job->state;
    if (strcmp(name, "si") == 0) {
        s->in_si = true;
        s->rph = 0;
        sbuf_clear(&s->text);
    } else if (!s->in_si) {
        return;
    } else if (strcmp(name, "rPh") == 0) {
        s->rph++;
    } else if (strcmp(name, "t") == 0 && s->rph == 0) {
        job->collect = &s->text;
    }
}

static void sst_end(sax_job *job, const char *name)
{
    sst_state *s = job->state;
    xlsx *x = job->x;
    if (strcmp(name, "t") == 0) {
        job->collect = NULL;
    } else if (strcmp(name, "rPh") == 0) {
        if (s->rph > 0)
            s->rph--;
    } else if (strcmp(name, "si") == 0 && s->in_si) {
        s->in_si = false;
        if (x->nsst >= x->lim->max_sst_entries) {
            fail(x, PS_ERR_UNSUPPORTED, "共享字符串超过 %llu 条（上限 max_sst_entries）",
                 (unsigned long long)x->lim->max_sst_entries);
            job_stop(job);
            return;
        }
        if (x->nsst == x->sst_cap) {
            size_t cap = x->sst_cap ? x->sst_cap * 2 : 256;
            const char **v = realloc(x->sst, cap * sizeof *v);
            if (!v) {
                nomem(x);
                job_stop(job);
                return;
            }
            x->sst = v;
            x->sst_cap = cap;
        }
        size_t n = s->text.n ? unescape_x(s->text.p, s->text.n) : 0;
        const char *str = ps_workbook_strndup(x->wb, n ? s->text.p : "", n);
        if (!str) {
            nomem(x);
            job_stop(job);
            return;
        }
        x->sst[x->nsst++] = str;
    }
}

/* ---- styles: number formats -------------------------------------------------------------- */

typedef struct styles_state {
    uint32_t xfs_depth; /* depth of <cellXfs>, 0 when outside */
} styles_state;

static void styles_start(sax_job *job, const char *name, int nattr, const xmlChar **attrs)
{
    styles_state *s = job->state;
    xlsx *x = job->x;
    if (strcmp(name, "numFmt") == 0) {
        uint64_t id;
        char code[1024];
        const char *c = attr_get(nattr, attrs, "formatCode", false, code, sizeof code);
        if (!attr_u64(nattr, attrs, "numFmtId", &id) || !c || id > UINT32_MAX)
            return;
        if (x->nfmts >= MAX_XFS) {
            fail(x, PS_ERR_UNSUPPORTED, "styles.xml 的数字格式超过 %d 个", MAX_XFS);
            job_stop(job);
            return;
        }
        if (x->nfmts == x->fmt_cap) {
            size_t cap = x->fmt_cap ? x->fmt_cap * 2 : 16;
            num_fmt *v = realloc(x->fmts, cap * sizeof *v);
            if (!v) {
                nomem(x);
                job_stop(job);
                return;
            }
            x->fmts = v;
            x->fmt_cap = cap;
        }
        x->fmts[x->nfmts++] = (num_fmt){(uint32_t)id, ps_numfmt_classify(c, strlen(c))};
    } else if (strcmp(name, "cellXfs") == 0) {
        s->xfs_depth = job->depth;
    } else if (strcmp(name, "xf") == 0 && s->xfs_depth && job->depth == s->xfs_depth + 1) {
        uint64_t id = 0;
        if (!attr_u64(nattr, attrs, "numFmtId", &id) || id > UINT32_MAX)
            id = 0;
        if (x->nxf >= MAX_XFS) {
            fail(x, PS_ERR_UNSUPPORTED, "styles.xml 的单元格格式超过 %d 个", MAX_XFS);
            job_stop(job);
            return;
        }
        if (x->nxf == x->xf_cap) {
            size_t cap = x->xf_cap ? x->xf_cap * 2 : 64;
            uint32_t *v = realloc(x->xf_ids, cap * sizeof *v);
            if (!v) {
                nomem(x);
                job_stop(job);
                return;
            }
            x->xf_ids = v;
            x->xf_cap = cap;
        }
        x->xf_ids[x->nxf++] = (uint32_t)id;
    }
}

static void styles_end(sax_job *job, const char *name)
{
    styles_state *s = job->state;
    if (strcmp(name, "cellXfs") == 0 && job->depth == s->xfs_depth)
        s->xfs_depth = 0;
}

static ps_status resolve_xfs(xlsx *x)
{
    if (x->nxf == 0)
        return PS_OK;
    x->xfs = malloc(x->nxf * sizeof *x->xfs);
    if (!x->xfs)
        return nomem(x);
    for (size_t i = 0; i < x->nxf; i++) {
        numfmt f = ps_numfmt_builtin(x->xf_ids[i]);
        for (size_t k = x->nfmts; k-- > 0;) /* a custom definition wins, even for a built-in id */
            if (x->fmts[k].id == x->xf_ids[i]) {
                f = x->fmts[k].f;
                break;
            }
        x->xfs[i] = f;
    }
    return PS_OK;
}

/* ---- dates ------------------------------------------------------------------------------- */

/* ---- worksheets -------------------------------------------------------------------------- */

enum cell_kind { K_NUMBER, K_SHARED, K_INLINE, K_STR, K_BOOL, K_ERROR, K_DATE };

typedef struct sheet_state {
    ps_sheet *sh;
    uint64_t cells, merges;
    bool in_data;
    int64_t row; /* current row, -1 before the first */
    uint32_t next_col;
    bool in_c, in_is;
    uint32_t c_row, c_col, c_style, rph;
    enum cell_kind kind;
    bool formula, has_v, has_is;
    sbuf v, is;
} sheet_state;

/* "F6" / "$F$6" into 0-based row, col; rows and columns are bounded only by 32 bits here so
 * that the limits can name what is exceeded. */
static bool parse_ref(const char *s, uint64_t *row, uint64_t *col)
{
    if (*s == '$')
        s++;
    uint64_t c = 0, r = 0;
    int letters = 0, digits = 0;
    for (; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'); s++) {
        if (++letters > 4)
            return false;
        c = c * 26 + (uint64_t)(ascii_lower((unsigned char)*s) - 'a' + 1);
    }
    if (*s == '$')
        s++;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++digits > 10)
            return false;
        r = r * 10 + (uint64_t)(*s - '0');
    }
    if (!letters || !digits || *s || r == 0)
        return false;
    *row = r - 1;
    *col = c - 1;
    return true;
}

static bool check_pos(sax_job *job, uint64_t row, uint64_t col)
{
    const ps_limits *lim = job->x->lim;
    if (row >= lim->max_rows) {
        fail_at(job->x, PS_ERR_UNSUPPORTED, job->sheet, NULL,
                "工作表使用到第 %llu 行，超过上限 max_rows（%u）", (unsigned long long)row + 1,
                lim->max_rows);
        job_stop(job);
        return false;
    }
    if (col >= lim->max_cols) {
        fail_at(job->x, PS_ERR_UNSUPPORTED, job->sheet, NULL,
                "工作表使用到第 %llu 列，超过上限 max_cols（%u）", (unsigned long long)col + 1,
                lim->max_cols);
        job_stop(job);
        return false;
    }
    return true;
}

static void sheet_start(sax_job *job, const char *name, int nattr, const xmlChar **attrs)
{
    sheet_state *s = job->state;
    char buf[64];
    if (s->in_c) {
        if (strcmp(name, "v") == 0) {
            s->has_v = true;
            sbuf_clear(&s->v);
            job->collect = &s->v;
        } else if (strcmp(name, "f") == 0) {
            s->formula = true;
        } else if (strcmp(name, "is") == 0) {
            s->in_is = true;
            s->has_is = true;
        } else if (s->in_is && strcmp(name, "rPh") == 0) {
            s->rph++;
        } else if (s->in_is && s->rph == 0 && strcmp(name, "t") == 0) {
            job->collect = &s->is;
        }
        return;
    }
    if (strcmp(name, "sheetData") == 0) {
        s->in_data = true;
    } else if (s->in_data && strcmp(name, "row") == 0) {
        uint64_t r;
        if (attr_u64(nattr, attrs, "r", &r) && r >= 1)
            r -= 1;
        else
            r = (uint64_t)(s->row + 1);
        if (!check_pos(job, r, 0))
            return;
        s->row = (int64_t)r;
        s->next_col = 0;
    } else if (s->in_data && strcmp(name, "c") == 0) {
        uint64_t row = s->row < 0 ? 0 : (uint64_t)s->row, col = s->next_col;
        const char *ref = attr_get(nattr, attrs, "r", false, buf, sizeof buf);
        if (ref && !parse_ref(ref, &row, &col)) {
            row = s->row < 0 ? 0 : (uint64_t)s->row;
            col = s->next_col;
        }
        if (!check_pos(job, row, col))
            return;
        s->c_row = (uint32_t)row;
        s->c_col = (uint32_t)col;
        if (s->row < 0 || (uint64_t)s->row != row)
            s->row = (int64_t)row;
        job->in_cell = true;
        job->cell_row = s->c_row;
        job->cell_col = s->c_col;
        uint64_t style = 0;
        s->c_style = attr_u64(nattr, attrs, "s", &style) && style < UINT32_MAX ? (uint32_t)style : 0;
        const char *t = attr_get(nattr, attrs, "t", false, buf, sizeof buf);
        s->kind = !t || strcmp(t, "n") == 0     ? K_NUMBER
                  : strcmp(t, "s") == 0         ? K_SHARED
                  : strcmp(t, "inlineStr") == 0 ? K_INLINE
                  : strcmp(t, "str") == 0       ? K_STR
                  : strcmp(t, "b") == 0         ? K_BOOL
                  : strcmp(t, "e") == 0         ? K_ERROR
                  : strcmp(t, "d") == 0         ? K_DATE
                                                : K_NUMBER;
        s->in_c = true;
        s->in_is = false;
        s->formula = s->has_v = s->has_is = false;
        s->rph = 0;
        sbuf_clear(&s->v);
        sbuf_clear(&s->is);
    } else if (strcmp(name, "mergeCell") == 0) {
        char ref[64];
        const char *r = attr_get(nattr, attrs, "ref", false, ref, sizeof ref);
        char *colon = r ? strchr(ref, ':') : NULL;
        uint64_t r1, c1, r2, c2;
        if (!colon)
            return;
        *colon = '\0';
        if (!parse_ref(ref, &r1, &c1) || !parse_ref(colon + 1, &r2, &c2))
            return;
        if (r2 < r1 || c2 < c1)
            return;
        if (!check_pos(job, r2, c2))
            return;
        if (++s->merges > job->x->lim->max_cells_per_sheet) {
            fail_at(job->x, PS_ERR_UNSUPPORTED, job->sheet, NULL,
                    "工作表的合并区域超过 %llu 个（上限 max_cells_per_sheet）",
                    (unsigned long long)job->x->lim->max_cells_per_sheet);
            job_stop(job);
            return;
        }
        if (!ps_sheet_add_merge(s->sh, (ps_range){(uint32_t)r1, (uint32_t)c1, (uint32_t)r2, (uint32_t)c2})) {
            nomem(job->x);
            job_stop(job);
        }
    }
}

static bool parse_number(const char *s, double *out)
{
    while (*s == ' ')
        s++;
    if (!*s)
        return false;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static const char *keep_text(sax_job *job, sbuf *b)
{
    size_t n = b->n ? unescape_x(b->p, b->n) : 0;
    const char *t = ps_workbook_strndup(job->x->wb, n ? b->p : "", n);
    if (!t) {
        nomem(job->x);
        job_stop(job);
    }
    return t;
}

static void finish_cell(sax_job *job, sheet_state *s)
{
    xlsx *x = job->x;
    ps_cell c = {
        .row = s->c_row, .col = s->c_col, .type = PS_CELL_BLANK, .decimals = 255, .formula = s->formula};
    bool has_time = false;
    if (s->c_style < x->nxf && x->xfs) {
        c.format = x->xfs[s->c_style].cls;
        c.decimals = x->xfs[s->c_style].decimals;
        has_time = x->xfs[s->c_style].has_time;
    }
    const char *v = s->v.n ? s->v.p : "";
    double num;
    char iso[32];
    switch (s->kind) {
    case K_SHARED: {
        uint64_t idx = 0;
        bool ok = s->has_v && *v;
        for (const char *p = v; ok && *p; p++) {
            if (*p < '0' || *p > '9' || idx > UINT32_MAX)
                ok = false;
            else
                idx = idx * 10 + (uint64_t)(*p - '0');
        }
        if (!ok)
            break;
        if (idx >= x->nsst) {
            char ref[16];
            fail_at(x, PS_ERR_CORRUPT, job->sheet, ps_cell_ref(s->c_row, s->c_col, ref, sizeof ref),
                    "单元格引用了不存在的共享字符串 #%llu（共 %zu 条）", (unsigned long long)idx, x->nsst);
            job_stop(job);
            return;
        }
        c.type = PS_CELL_TEXT;
        c.text = x->sst[idx];
        break;
    }
    case K_INLINE:
        if (s->has_is) {
            c.type = PS_CELL_TEXT;
            c.text = keep_text(job, &s->is);
        } else if (s->has_v) {
            c.type = PS_CELL_TEXT;
            c.text = keep_text(job, &s->v);
        }
        if (c.type == PS_CELL_TEXT && !c.text)
            return;
        break;
    case K_STR:
        if (!s->has_v)
            break;
        c.type = PS_CELL_TEXT;
        if (!(c.text = keep_text(job, &s->v)))
            return;
        break;
    case K_BOOL:
        if (!s->has_v)
            break;
        c.type = PS_CELL_BOOL;
        c.number = (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0) ? 1 : 0;
        break;
    case K_ERROR:
        if (!s->has_v)
            break;
        c.type = PS_CELL_ERROR;
        if (!(c.text = ps_workbook_strndup(x->wb, v, strlen(v)))) {
            nomem(x);
            job_stop(job);
            return;
        }
        break;
    case K_DATE:
        if (!s->has_v)
            break;
        if (ps_numfmt_iso_serial(v, &num) && ps_numfmt_serial_iso(num, false, iso, sizeof iso)) {
            c.type = PS_CELL_DATE;
            c.format = PS_FMT_DATE; /* whatever the style says, the cell holds a date */
            c.number = num;
            c.text = ps_workbook_strndup(x->wb, iso, strlen(iso));
        } else {
            c.type = PS_CELL_TEXT;
            c.text = ps_workbook_strndup(x->wb, v, strlen(v));
        }
        if (!c.text) {
            nomem(x);
            job_stop(job);
            return;
        }
        break;
    case K_NUMBER:
        if (!s->has_v || !*v)
            break;
        if (!parse_number(v, &num)) {
            /* not a number although typed as one: keep what is written */
            c.type = PS_CELL_TEXT;
            if (!(c.text = keep_text(job, &s->v)))
                return;
            break;
        }
        c.type = PS_CELL_NUMBER;
        c.number = num;
        if (c.format == PS_FMT_DATE) {
            double serial = x->date1904 ? num + 1462 : num;
            if (ps_numfmt_serial_iso(serial, has_time, iso, sizeof iso)) {
                c.type = PS_CELL_DATE;
                c.number = serial;
                if (!(c.text = ps_workbook_strndup(x->wb, iso, strlen(iso)))) {
                    nomem(x);
                    job_stop(job);
                    return;
                }
            }
        }
        break;
    }
    if (c.type == PS_CELL_BLANK)
        return; /* a styled empty cell */
    if (++s->cells > x->lim->max_cells_per_sheet) {
        fail_at(x, PS_ERR_UNSUPPORTED, job->sheet, NULL,
                "工作表的非空单元格超过 %llu 个（上限 max_cells_per_sheet）",
                (unsigned long long)x->lim->max_cells_per_sheet);
        job_stop(job);
        return;
    }
    if (++x->file_cells > x->lim->max_cells_per_file) {
        fail(x, PS_ERR_UNSUPPORTED, "工作簿的非空单元格超过 %llu 个（上限 max_cells_per_file）",
             (unsigned long long)x->lim->max_cells_per_file);
        job_stop(job);
        return;
    }
    if (!ps_sheet_put(s->sh, &c)) {
        nomem(x);
        job_stop(job);
    }
}

static void sheet_end(sax_job *job, const char *name)
{
    sheet_state *s = job->state;
    if (s->in_c) {
        if (strcmp(name, "v") == 0 || strcmp(name, "t") == 0) {
            job->collect = NULL;
        } else if (strcmp(name, "rPh") == 0) {
            if (s->rph > 0)
                s->rph--;
        } else if (strcmp(name, "is") == 0) {
            s->in_is = false;
        } else if (strcmp(name, "c") == 0) {
            s->in_c = false;
            job->collect = NULL;
            finish_cell(job, s);
            s->next_col = s->c_col + 1;
            job->in_cell = false;
        }
        return;
    }
    if (strcmp(name, "sheetData") == 0)
        s->in_data = false;
}

/* ---- the package ------------------------------------------------------------------------- */

static const char *extension_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot : "";
}

/* A ZIP without a workbook part: say what it is. */
static ps_status not_a_workbook(xlsx *x)
{
    const char *ext = extension_of(x->path);
    char extnote[96] = "";
    if (ext[0])
        snprintf(extnote, sizeof extnote, "（扩展名为 %.60s）", ext);
    const char *fix = "请在 Excel/WPS 中打开后另存为 .xlsx 或 .xls";
    const zip_entry *mt = zip_find(x, "mimetype");
    if (mt) {
        char type[128] = "";
        zip_reader in;
        if (mt->uncomp < sizeof type && zip_open(x, mt, &in)) {
            long got = zip_read(&in, (unsigned char *)type, (size_t)mt->uncomp);
            type[got > 0 ? got : 0] = '\0';
            zip_close(&in);
        }
        if (strstr(type, "opendocument.spreadsheet"))
            return fail(x, PS_ERR_UNSUPPORTED,
                        "文件实为 OpenDocument 电子表格（.ods）%s，不是 Excel 工作簿；%s", extnote, fix);
        if (strstr(type, "opendocument.text"))
            return fail(x, PS_ERR_UNSUPPORTED,
                        "文件实为 OpenDocument 文本文档（.odt）%s，不是 Excel 工作簿；%s", extnote, fix);
        return fail(x, PS_ERR_UNSUPPORTED, "文件实为 OpenDocument 文档（%.60s）%s，不是 Excel 工作簿；%s",
                    type[0] ? type : "未知类型", extnote, fix);
    }
    if (zip_find(x, "xl/workbook.bin"))
        return fail(x, PS_ERR_UNSUPPORTED, "文件实为 Excel 二进制工作簿（.xlsb）%s，暂不支持；%s", extnote,
                    fix);
    if (zip_find(x, "word/document.xml"))
        return fail(x, PS_ERR_UNSUPPORTED, "文件实为 Word 文档（.docx）%s，不是 Excel 工作簿", extnote);
    if (zip_find(x, "ppt/presentation.xml"))
        return fail(x, PS_ERR_UNSUPPORTED, "文件实为 PowerPoint 演示文稿（.pptx）%s，不是 Excel 工作簿",
                    extnote);
    if (zip_find(x, "[Content_Types].xml"))
        return fail(x, PS_ERR_UNSUPPORTED,
                    "文件是 Office Open XML 包%s，但其中没有工作簿（缺少 xl/workbook.xml）", extnote);
    return fail(x, PS_ERR_UNSUPPORTED,
                "文件实为普通 ZIP 压缩包（%zu 个文件）%s，不是 Excel 工作簿；请解压后提交其中的表格",
                x->nentries, extnote);
}

static ps_status read_sheets(xlsx *x, const char *wb_part, wb_state *w)
{
    char dir[MAX_NAME], rels_name[MAX_NAME + 16], target[MAX_NAME + 64];
    part_dir(wb_part, dir, sizeof dir);
    part_rels(wb_part, rels_name, sizeof rels_name);
    rel_list rels = {0};
    if (read_rels(x, rels_name, &rels) != PS_OK)
        goto done;

    /* shared strings and styles, by relationship or at their usual place */
    const rel *r = rels_by_type(&rels, "/sharedStrings");
    const zip_entry *e = NULL;
    if (r && resolve_target(dir, r->target, target, sizeof target))
        e = zip_find(x, target);
    if (!e) {
        snprintf(target, sizeof target, "%ssharedStrings.xml", dir);
        e = zip_find(x, target);
    }
    if (e) {
        sst_state ss = {0};
        sax_job job = {.part = target, .start = sst_start, .end = sst_end, .state = &ss};
        parse_part(x, e, &job);
        free(ss.text.p);
        if (x->st != PS_OK)
            goto done;
    }
    r = rels_by_type(&rels, "/styles");
    e = NULL;
    if (r && resolve_target(dir, r->target, target, sizeof target))
        e = zip_find(x, target);
    if (!e) {
        snprintf(target, sizeof target, "%sstyles.xml", dir);
        e = zip_find(x, target);
    }
    if (e) {
        styles_state st = {0};
        sax_job job = {.part = target, .start = styles_start, .end = styles_end, .state = &st};
        if (parse_part(x, e, &job) != PS_OK || resolve_xfs(x) != PS_OK)
            goto done;
    }

    for (size_t i = 0; i < w->n; i++) {
        ps_sheet *sh = ps_workbook_add_sheet(x->wb, w->v[i].name);
        if (!sh) {
            nomem(x);
            goto done;
        }
        r = rels_by_id(&rels, w->v[i].rid);
        e = NULL;
        if (r) {
            if (!type_is(r->type, "/worksheet"))
                continue; /* a chart sheet or dialog sheet: no cells */
            if (resolve_target(dir, r->target, target, sizeof target))
                e = zip_find(x, target);
        } else {
            snprintf(target, sizeof target, "%sworksheets/sheet%zu.xml", dir, i + 1);
            e = zip_find(x, target);
        }
        if (!e) {
            fail_at(x, PS_ERR_CORRUPT, w->v[i].name, NULL, "工作表“%s”的数据部件 %s 不在文件中", w->v[i].name,
                    r ? r->target : target);
            goto done;
        }
        sheet_state ss = {.sh = sh, .row = -1};
        sax_job job = {
            .part = target, .start = sheet_start, .end = sheet_end, .state = &ss, .sheet = w->v[i].name};
        parse_part(x, e, &job);
        free(ss.v.p);
        free(ss.is.p);
        if (x->st != PS_OK)
            goto done;
    }
done:
    rels_free(&rels);
    return x->st;
}

ps_status ps_reader_open_xlsx(const char *path, uint8_t *data, size_t len, const ps_limits *limits,
                              ps_workbook **out, ps_error *err)
{
    ps_reader_libs_init();
    ps_limits defaults = ps_reader_default_limits();
    xlsx x = {.path = path, .lim = limits ? limits : &defaults, .err = err, .data = data, .size = len};
    wb_state w = {0};
    rel_list root = {0};
    char wb_part[MAX_NAME];

    if (zip_scan(&x) != PS_OK)
        goto done;
    if (x.nentries == 0) {
        fail(&x, PS_ERR_CORRUPT, "ZIP 压缩包是空的，没有工作簿内容（文件可能保存失败或已损坏）");
        goto done;
    }
    /* the workbook part: the package's officeDocument relationship, else xl/workbook.xml */
    if (read_rels(&x, "_rels/.rels", &root) != PS_OK)
        goto done;
    const rel *doc = rels_by_type(&root, "/officeDocument");
    const zip_entry *e = NULL;
    if (doc && resolve_target("", doc->target, wb_part, sizeof wb_part))
        e = zip_find(&x, wb_part);
    if (!e) {
        snprintf(wb_part, sizeof wb_part, "xl/workbook.xml");
        e = zip_find(&x, wb_part);
    }
    if (!e || (wb_part[0] && strlen(wb_part) > 4 && strcasecmp(wb_part + strlen(wb_part) - 4, ".bin") == 0)) {
        not_a_workbook(&x);
        goto done;
    }
    if (!(x.wb = ps_workbook_new(PS_FORMAT_XLSX))) {
        nomem(&x);
        goto done;
    }
    sax_job job = {.part = wb_part, .start = wb_start, .state = &w};
    if (parse_part(&x, e, &job) != PS_OK || read_sheets(&x, wb_part, &w) != PS_OK)
        goto done;
    ps_workbook_finish(x.wb);
    *out = x.wb;
    x.wb = NULL;

done:
    for (size_t i = 0; i < w.n; i++) {
        free(w.v[i].name);
        free(w.v[i].rid);
    }
    free(w.v);
    rels_free(&root);
    ps_workbook_free(x.wb);
    free(x.entries);
    free(x.data);
    free(x.sst);
    free(x.fmts);
    free(x.xf_ids);
    free(x.xfs);
    return x.st;
}
