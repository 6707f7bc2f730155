/* previous.c - last year's documents from the SQLite database of `perfsheet merge -o`
 * (docs/sqlite.md), looked up by template and normalised unit name; see previous.h. */
#include "perfsheet/previous.h"

#include "perfsheet/workbook.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct prev_doc {
    ps_document *doc;
    char *template_id;
    char *unit; /* normalised unit name */
} prev_doc;

struct ps_previous {
    char *path;
    prev_doc *docs;
    size_t n, cap;
};

static const struct {
    const char *name;
    ps_field_type type;
} type_names[] = {{"text", PS_TYPE_TEXT},     {"money", PS_TYPE_MONEY},       {"int", PS_TYPE_INT},
                  {"number", PS_TYPE_NUMBER}, {"fraction", PS_TYPE_FRACTION}, {"date", PS_TYPE_DATE},
                  {"phone", PS_TYPE_PHONE},   {"grade", PS_TYPE_GRADE},       {"year", PS_TYPE_YEAR},
                  {"target", PS_TYPE_TARGET}};

static ps_field_type type_of(const char *name)
{
    for (size_t i = 0; name && i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(type_names[i].name, name) == 0)
            return type_names[i].type;
    return PS_TYPE_TEXT;
}

/* Appends the UTF-8 encoding of code point cp to buf at *o, if it fits. */
static void put_utf8(char *buf, size_t size, size_t *o, unsigned cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        t[0] = (char)(0xF0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (*o + n < size) {
        memcpy(buf + *o, t, n);
        *o += n;
    }
}

void ps_previous_normalise_unit(const char *unit, char *buf, size_t size)
{
    if (!size)
        return;
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)(unit ? unit : "");
    while (*s) {
        unsigned cp;
        size_t n;
        if (*s < 0x80) {
            cp = *s;
            n = 1;
        } else if ((*s & 0xE0) == 0xC0 && s[1]) {
            cp = ((unsigned)(*s & 0x1F) << 6) | (s[1] & 0x3F);
            n = 2;
        } else if ((*s & 0xF0) == 0xE0 && s[1] && s[2]) {
            cp = ((unsigned)(*s & 0x0F) << 12) | ((unsigned)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
            n = 3;
        } else if ((*s & 0xF8) == 0xF0 && s[1] && s[2] && s[3]) {
            cp = ((unsigned)(*s & 0x07) << 18) | ((unsigned)(s[1] & 0x3F) << 12) |
                 ((unsigned)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
            n = 4;
        } else {
            cp = 0xFFFD;
            n = 1;
        }
        s += n;
        if (cp >= 0xFF01 && cp <= 0xFF5E)
            cp -= 0xFEE0; /* full-width ASCII */
        if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == 0x3000 || cp == 0xA0)
            continue;
        put_utf8(buf, size, &o, cp);
    }
    buf[o] = '\0';
}

void ps_previous_free(ps_previous *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        ps_document_free(p->docs[i].doc);
        free(p->docs[i].template_id);
        free(p->docs[i].unit);
    }
    free(p->docs);
    free(p->path);
    free(p);
}

const char *ps_previous_path(const ps_previous *p)
{
    return p ? p->path : NULL;
}

size_t ps_previous_count(const ps_previous *p)
{
    return p ? p->n : 0;
}

static const char *column_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t ? (const char *)t : NULL;
}

/* A new document for the current row of the documents query, appended to p. */
static prev_doc *add_document(ps_previous *p, sqlite3_stmt *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        prev_doc *d = realloc(p->docs, cap * sizeof *d);
        if (!d)
            return NULL;
        p->docs = d;
        p->cap = cap;
    }
    prev_doc *d = &p->docs[p->n];
    memset(d, 0, sizeof *d);
    const char *tpl = column_text(s, 2), *unit = column_text(s, 3);
    d->doc = ps_document_new(tpl ? tpl : "", column_text(s, 5), column_text(s, 1), column_text(s, 4));
    d->template_id = strdup(tpl ? tpl : "");
    char buf[512];
    ps_previous_normalise_unit(unit, buf, sizeof buf);
    d->unit = strdup(buf);
    p->n++;
    if (!d->doc || !d->template_id || !d->unit)
        return NULL;
    return d;
}

static bool add_value(prev_doc *d, sqlite3_stmt *s)
{
    const char *key = column_text(s, 6);
    if (!key)
        return true; /* a document without values */
    ps_value v = {0};
    v.type = type_of(column_text(s, 8));
    v.row = v.col = PS_NO_CELL;
    v.decimals = 255;
    const char *cell = column_text(s, 10);
    if (cell && !ps_cell_ref_parse(cell, &v.row, &v.col))
        v.row = v.col = PS_NO_CELL;
    int vt = sqlite3_column_type(s, 7);
    if (vt == SQLITE_INTEGER || vt == SQLITE_FLOAT) {
        v.has_number = true;
        v.number = sqlite3_column_double(s, 7);
    } else if (vt == SQLITE_TEXT) {
        v.text = column_text(s, 7);
        if (sqlite3_column_type(s, 9) == SQLITE_INTEGER || sqlite3_column_type(s, 9) == SQLITE_FLOAT) {
            v.has_number = true;
            v.number = sqlite3_column_double(s, 9);
        }
    } else {
        return true; /* NULL: blank */
    }
    return ps_document_set(d->doc, key, &v);
}

ps_status ps_previous_open(const char *path, ps_previous **out, ps_error *err)
{
    *out = NULL;
    ps_previous *p = calloc(1, sizeof *p);
    if (!p || !(p->path = strdup(path))) {
        free(p);
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    ps_status st = PS_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        st = ps_error_set(err, PS_ERR_IO, path, "无法打开上年数据库：%s",
                          db ? sqlite3_errmsg(db) : "内存不足");
        goto out;
    }
    static const char sql[] = "SELECT d.document_id, f.path, d.template, d.unit, d.sheet, d.mapping, "
                              "v.key, v.value, v.type, v.number, v.cell "
                              "FROM documents d JOIN files f USING (file_id) "
                              "LEFT JOIN field_values v USING (document_id) "
                              "ORDER BY d.document_id";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        st = ps_error_set(err, PS_ERR_IO, path, "不是 perfsheet merge -o 写出的数据库：%s",
                          sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_int64 current = -1;
    prev_doc *d = NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(s, 0);
        if (id != current) {
            if (p->n >= PS_PREVIOUS_MAX_DOCUMENTS) {
                st = ps_error_set(err, PS_ERR_UNSUPPORTED, path, "上年数据库的文档超过 %d 个",
                                  PS_PREVIOUS_MAX_DOCUMENTS);
                goto out;
            }
            current = id;
            if (!(d = add_document(p, s))) {
                st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
                goto out;
            }
        }
        if (!add_value(d, s)) {
            st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
            goto out;
        }
    }
    if (rc != SQLITE_DONE)
        st = ps_error_set(err, PS_ERR_IO, path, "读取上年数据库失败：%s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(s);
    sqlite3_close(db);
    if (st != PS_OK) {
        ps_previous_free(p);
        return st;
    }
    *out = p;
    return PS_OK;
}

#define DRIFT_MAX 8 /* 县/区/市 looked at per name */

/* Byte offsets of the 县, 区 and 市 of s (each 3 bytes in UTF-8), at most DRIFT_MAX. */
static size_t drift_positions(const char *s, size_t *pos)
{
    static const char *const marks[] = {"县", "区", "市"};
    size_t n = 0;
    for (size_t i = 0; s[i] && n < DRIFT_MAX; i++)
        for (size_t k = 0; k < 3; k++)
            if (strncmp(s + i, marks[k], 3) == 0) {
                pos[n++] = i;
                break;
            }
    return n;
}

/* a with the 3 bytes at skip_a left out (SIZE_MAX: none) equals b likewise. */
static bool equal_skipping(const char *a, size_t skip_a, const char *b, size_t skip_b)
{
    size_t i = 0, j = 0;
    for (;;) {
        if (i == skip_a)
            i += 3;
        if (j == skip_b)
            j += 3;
        if (a[i] != b[j])
            return false;
        if (!a[i])
            return true;
        i++;
        j++;
    }
}

/* Whether a and b differ only by one 县/区/市 left out or exchanged (衡阳县… and 衡阳…, 衡阳县… and
 * 衡阳市…). */
static bool drift_equal(const char *a, const char *b)
{
    size_t pa[DRIFT_MAX + 1], pb[DRIFT_MAX + 1];
    size_t na = drift_positions(a, pa), nb = drift_positions(b, pb);
    pa[na++] = SIZE_MAX;
    pb[nb++] = SIZE_MAX;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if ((pa[i] != SIZE_MAX || pb[j] != SIZE_MAX) && equal_skipping(a, pa[i], b, pb[j]))
                return true;
    return false;
}

const ps_document *ps_previous_find(const ps_previous *p, const char *template_id, const char *unit,
                                    bool *exact)
{
    if (!p || !template_id || !unit)
        return NULL;
    char want[512];
    ps_previous_normalise_unit(unit, want, sizeof want);
    if (!*want)
        return NULL;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->docs[i].template_id, template_id) == 0 && strcmp(p->docs[i].unit, want) == 0) {
            *exact = true;
            return p->docs[i].doc;
        }
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->docs[i].template_id, template_id) == 0 && *p->docs[i].unit &&
            drift_equal(p->docs[i].unit, want)) {
            *exact = false;
            return p->docs[i].doc;
        }
    return NULL;
}
