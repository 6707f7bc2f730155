/* mapping_load.c - parsing a mapping file (YAML, language in docs/mapping.md) into the structs
 * of mapping_int.h, with every error located at file:line:column. */
#define _GNU_SOURCE /* memmem */
#include "mapping_int.h"
#include "rules_int.h"
#include "utf8.h"
#include "yaml_pos.h"

#include "perfsheet/clean.h"

#include <errno.h>
#include <libfyaml.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MAPPING_BYTES (4u << 20)

typedef struct loader {
    ps_mapping *m;
    const char *name;
    ps_error *err;
    unsigned part; /* the part being read (`parts:`), 0 outside */
} loader;

/* ---- positions and errors ------------------------------------------------------------ */

static ps_status fail_at(loader *L, struct fy_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ps_status fail_at(loader *L, struct fy_node *n, const char *fmt, ...)
{
    int line, col;
    ps_yaml_node_position(n, &line, &col);
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps_error_at_line(L->err, PS_ERR_MAPPING, L->name, line, col, "%s", msg);
    if (L->err)
        L->err->span = ps_yaml_node_span(n);
    return PS_ERR_MAPPING;
}

static ps_status nomem(loader *L)
{
    return ps_error_set(L->err, PS_ERR_NOMEM, L->name, "内存不足");
}

/* ---- scalars ----------------------------------------------------------------------- */

static const char *scalar(loader *L, struct fy_node *n)
{
    if (!n || !fy_node_is_scalar(n))
        return NULL;
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    return s ? ps_arena_strndup(&L->m->arena, s, len) : NULL;
}

static ps_status want_string(loader *L, struct fy_node *n, const char *what, const char **out)
{
    const char *s = scalar(L, n);
    if (!s)
        return fail_at(L, n, "“%s”应为文本", what);
    *out = s;
    return PS_OK;
}

static ps_status want_int(loader *L, struct fy_node *n, const char *what, long min, long max, int *out)
{
    const char *s = scalar(L, n);
    char *end = NULL;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < min || v > max)
        return fail_at(L, n, "“%s”应为 %ld 到 %ld 之间的整数", what, min, max);
    *out = (int)v;
    return PS_OK;
}

static ps_status want_bool(loader *L, struct fy_node *n, const char *what, bool *out)
{
    const char *s = scalar(L, n);
    if (s && (!strcmp(s, "true") || !strcmp(s, "yes"))) {
        *out = true;
        return PS_OK;
    }
    if (s && (!strcmp(s, "false") || !strcmp(s, "no"))) {
        *out = false;
        return PS_OK;
    }
    return fail_at(L, n, "“%s”应为 true 或 false", what);
}

static const char *normalised(loader *L, const char *s)
{
    size_t n = strlen(s) + 1;
    char *out = ps_arena_alloc(&L->m->arena, n);
    if (!out)
        return NULL;
    ps_clean_label(s, out, n);
    return out;
}

static const struct {
    const char *name;
    ps_field_type type;
} type_names[] = {
    {"text", PS_TYPE_TEXT},     {"money", PS_TYPE_MONEY},       {"int", PS_TYPE_INT},
    {"number", PS_TYPE_NUMBER}, {"fraction", PS_TYPE_FRACTION}, {"date", PS_TYPE_DATE},
    {"phone", PS_TYPE_PHONE},   {"grade", PS_TYPE_GRADE},       {"year", PS_TYPE_YEAR},
    {"target", PS_TYPE_TARGET},
};

static ps_status want_type(loader *L, struct fy_node *n, ps_field_type *out)
{
    const char *s = scalar(L, n);
    for (size_t i = 0; s && i < sizeof type_names / sizeof type_names[0]; i++) {
        if (!strcmp(s, type_names[i].name)) {
            *out = type_names[i].type;
            return PS_OK;
        }
    }
    return fail_at(L, n,
                   "未知的类型“%s”（可用：text money int number fraction date phone grade year target）",
                   s ? s : "?");
}

static const struct {
    const char *name;
    take_kind take;
} take_names[] = {
    {"self", TAKE_SELF},           {"right", TAKE_RIGHT},   {"right_nonblank", TAKE_RIGHT_NONBLANK},
    {"below", TAKE_BELOW},         {"offset", TAKE_OFFSET}, {"capture", TAKE_CAPTURE},
    {"below_row", TAKE_BELOW_ROW},
};

static ps_status want_take(loader *L, struct fy_node *n, take_kind *out)
{
    const char *s = scalar(L, n);
    if (!s)
        return fail_at(
            L, n,
            "take 应为一个词（self right right_nonblank below below_row）；偏移写作字段的 offset: [行, 列]，"
            "正则分组写作 capture: N");
    for (size_t i = 0; i < sizeof take_names / sizeof take_names[0]; i++) {
        if (!strcmp(s, take_names[i].name)) {
            *out = take_names[i].take;
            return PS_OK;
        }
    }
    return fail_at(L, n,
                   "未知的取值方式“%s”（可用：self right right_nonblank below below_row offset capture）", s);
}

static bool key_is(struct fy_node *k, const char *name)
{
    size_t len = 0;
    const char *s = fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;
    return s && len == strlen(name) && !memcmp(s, name, len);
}

static ps_status unknown_key(loader *L, struct fy_node *k, const char *where)
{
    size_t len = 0;
    const char *s = fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : "?";
    return fail_at(L, k, "%s中未知的键“%.*s”", where, (int)(len > 100 ? 100 : len), s ? s : "?");
}

/* ---- matchers ---------------------------------------------------------------------- */

/* extras: which extra keys a matcher mapping may carry besides label/prefix/contains/regex/nth. */
enum { EXTRA_NAME = 1, EXTRA_WEIGHT = 2, EXTRA_VALUE = 4 };
typedef struct matcher_extras {
    const char *name, *value;
    double weight;
} matcher_extras;

/* Length of the UTF-8 character ending at s[n-1] (1..4). */
static size_t last_char_len(const char *s, size_t n)
{
    size_t k = 1;
    while (k < n && k < 4 && ((unsigned char)s[n - k] & 0xC0) == 0x80)
        k++;
    return k;
}

/* The longest literal that every match of the POSIX extended regex `re` must contain, into
 * out (size > 1): literal runs of the top-level concatenation, a quantified character dropped
 * (its run ends there), nothing at all when the top level has an alternation. Conservative:
 * whatever it cannot read ends the current run. */
static void required_literal(const char *re, char *out, size_t size)
{
    char run[256], best[256];
    size_t nrun = 0, nbest = 0;
    int depth = 0;
    out[0] = '\0';
    for (const char *p = re; *p; p++) {
        char c = *p;
        bool literal = false;
        size_t len = 1;
        if (depth == 0 && c == '|')
            return; /* top-level alternative: no literal is required */
        if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        } else if (c == '[') { /* a bracket expression: skip it ("[]...]" and "[^]...]" too) */
            p++;
            if (*p == '^')
                p++;
            if (*p == ']')
                p++;
            while (*p && *p != ']')
                p++;
            if (!*p)
                return;
        } else if (depth == 0 && (c == '*' || c == '?' || c == '{')) {
            if (nrun) /* the quantified character is optional: drop it */
                nrun -= last_char_len(run, nrun);
            if (nrun > nbest) {
                memcpy(best, run, nrun);
                nbest = nrun;
            }
            nrun = 0;
            if (c == '{')
                while (*p && *p != '}')
                    p++;
            if (!*p)
                break;
            continue;
        } else if (depth == 0 && c == '\\' && p[1] && strchr(".[]()*+?{}|^$\\", p[1])) {
            p++;
            c = *p;
            literal = true;
        } else if (depth == 0 && !strchr(".^$+\\", c)) {
            literal = true;
            len = 1;
            if ((unsigned char)c >= 0xC0) /* a whole UTF-8 character */
                while (((unsigned char)p[len] & 0xC0) == 0x80)
                    len++;
        }
        if (literal && nrun + len < sizeof run) {
            memcpy(run + nrun, p, len);
            nrun += len;
            p += len - 1;
            continue;
        }
        if (nrun > nbest) { /* anything else ends the run */
            memcpy(best, run, nrun);
            nbest = nrun;
        }
        nrun = 0;
    }
    if (nrun > nbest) {
        memcpy(best, run, nrun);
        nbest = nrun;
    }
    if (nbest >= size)
        return; /* too long to keep: no prefilter (still correct) */
    memcpy(out, best, nbest);
    out[nbest] = '\0';
}

static ps_status compile_matcher(loader *L, struct fy_node *at, map_matcher *m)
{
    if (m->kind != MATCH_REGEX)
        return PS_OK;
    int code;
    PCRE2_SIZE where;
    m->re = pcre2_compile((PCRE2_SPTR)m->text, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &where, NULL);
    if (!m->re) {
        PCRE2_UCHAR buf[200];
        pcre2_get_error_message(code, buf, sizeof buf);
        return fail_at(L, at, "正则表达式“%s”无效（第 %zu 个字节处）：%s", m->text, (size_t)where + 1,
                       (const char *)buf);
    }
    m->compiled = true; /* JIT-compiled on first use (mapping.c) */
    required_literal(m->text, m->must, sizeof m->must);
    return PS_OK;
}

static ps_status parse_matcher(loader *L, struct fy_node *n, match_kind scalar_kind, unsigned extras,
                               map_matcher *m, matcher_extras *ex)
{
    memset(m, 0, sizeof *m);
    m->nth = 1;
    ps_yaml_node_position(n, &m->line, &m->col);
    if (ex) {
        ex->name = ex->value = NULL;
        ex->weight = 1.0;
    }
    if (n && fy_node_is_scalar(n)) {
        const char *s = scalar(L, n);
        if (!s || !*s)
            return fail_at(L, n, "标签不能为空");
        m->kind = scalar_kind;
        m->text = scalar_kind == MATCH_REGEX ? s : normalised(L, s);
        m->set = true;
        return compile_matcher(L, n, m);
    }
    if (!n || !fy_node_is_mapping(n))
        return fail_at(L, n, "标签应为文本或 {label|prefix|contains|regex: …}");
    struct fy_node *textnode = NULL;
    void *it = NULL;
    struct fy_node_pair *p;
    ps_status st;
    while ((p = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
        match_kind kind = MATCH_EXACT;
        bool is_text = true;
        if (key_is(k, "label"))
            kind = MATCH_EXACT;
        else if (key_is(k, "prefix"))
            kind = MATCH_PREFIX;
        else if (key_is(k, "contains"))
            kind = MATCH_CONTAINS;
        else if (key_is(k, "regex"))
            kind = MATCH_REGEX;
        else
            is_text = false;
        if (is_text) {
            if (textnode)
                return fail_at(L, k, "label、prefix、contains、regex 只能有一个");
            const char *s = scalar(L, v);
            if (!s || !*s)
                return fail_at(L, v, "标签不能为空");
            textnode = v;
            m->kind = kind;
            m->text = kind == MATCH_REGEX ? s : normalised(L, s);
            continue;
        }
        if (key_is(k, "nth")) {
            int nth;
            if ((st = want_int(L, v, "nth", 1, 1000, &nth)))
                return st;
            m->nth = (unsigned)nth;
        } else if ((extras & EXTRA_NAME) && key_is(k, "name")) {
            if ((st = want_string(L, v, "name", &ex->name)))
                return st;
        } else if ((extras & EXTRA_VALUE) && key_is(k, "value")) {
            if ((st = want_string(L, v, "value", &ex->value)))
                return st;
        } else if ((extras & EXTRA_WEIGHT) && key_is(k, "weight")) {
            int w;
            if ((st = want_int(L, v, "weight", 1, 100, &w)))
                return st;
            ex->weight = w;
        } else {
            return unknown_key(L, k, "标签");
        }
    }
    if (!textnode)
        return fail_at(L, n, "标签缺少 label、prefix、contains 或 regex");
    m->set = true;
    return compile_matcher(L, textnode, m);
}

void ps_map_matcher_free(map_matcher *m)
{
    pcre2_code_free(m->re); /* takes NULL */
    m->re = NULL;
    m->compiled = false;
}

/* ---- keys of a YAML mapping ---------------------------------------------------------- */

/* How the value of one known key is read into the object being built (a field, a column …). */
typedef enum key_kind {
    KEY_NODE,    /* only kept in seen[]: the caller reads it after all keys */
    KEY_STRING,  /* want_string into a const char * */
    KEY_BOOL,    /* want_bool into a bool */
    KEY_TYPE,    /* want_type into a ps_field_type */
    KEY_TAKE,    /* want_take into a take_kind */
    KEY_MATCHER, /* parse_matcher (a plain text is an exact label) into a map_matcher */
    KEY_READ,    /* read(L, obj, value): anything else */
} key_kind;

typedef struct key_rule {
    const char *name;
    key_kind kind;
    size_t off; /* where the value goes: offset in the object (not KEY_NODE or KEY_READ) */
    ps_status (*read)(loader *L, void *obj, struct fy_node *v);
} key_rule;

/* Reads mapping n into obj by the table `keys`, one key at a time in the file's order, and stops
 * at the first error; a key not in the table is “<where>中未知的键”. seen (NULL, or as long as
 * keys) gets the value node of each key, NULL for those absent. */
/* Not inlined: inlined into one caller, GCC would check every kind of write against that
 * caller's object, although the table says which ones happen. */
__attribute__((noinline)) static ps_status read_keys(loader *L, struct fy_node *n, const key_rule *keys,
                                                     size_t nkeys, void *obj, struct fy_node **seen,
                                                     const char *where)
{
    for (size_t i = 0; seen && i < nkeys; i++)
        seen[i] = NULL;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
        const key_rule *r = keys;
        while (r < keys + nkeys && !key_is(k, r->name))
            r++;
        if (r == keys + nkeys)
            return unknown_key(L, k, where);
        if (seen)
            seen[r - keys] = v;
        void *dst = (char *)obj + r->off;
        ps_status st = PS_OK;
        switch (r->kind) {
        case KEY_NODE: break;
        case KEY_STRING: st = want_string(L, v, r->name, dst); break;
        case KEY_BOOL: st = want_bool(L, v, r->name, dst); break;
        case KEY_TYPE: st = want_type(L, v, dst); break;
        case KEY_TAKE: st = want_take(L, v, dst); break;
        case KEY_MATCHER: st = parse_matcher(L, v, MATCH_EXACT, 0, dst, NULL); break;
        case KEY_READ: st = r->read(L, obj, v); break;
        }
        if (st)
            return st;
    }
    return PS_OK;
}

#define NKEYS(keys) (sizeof keys / sizeof keys[0])
#define READ_KEYS(L, n, keys, obj, seen, where) read_keys(L, n, keys, NKEYS(keys), obj, seen, where)

/* ---- growing arrays ---------------------------------------------------------------- */

/* Capacity is the next power of two of n (at least 4): grows when n reaches it. */
static void *grow(void *arr, size_t n, size_t elem)
{
    if (n >= 4 && (n & (n - 1)) != 0)
        return arr;
    if (n > 0 && n < 4)
        return arr;
    size_t cap = n ? n * 2 : 4;
    void *p = realloc(arr, cap * elem);
    if (p)
        memset((char *)p + n * elem, 0, (cap - n) * elem);
    return p;
}

static void *push_(void **arr, size_t *n, size_t elem)
{
    void *p = grow(*arr, *n, elem);
    if (!p)
        return NULL;
    *arr = p;
    return (char *)p + (*n)++ * elem;
}

#define PUSH(L, arr, n) push_((void **)&(arr), &(n), sizeof *(arr))

/* ---- fields ------------------------------------------------------------------------ */

static ps_status add_spec(loader *L, const char *key, const char *label, ps_field_type type,
                          const char *table, bool required, struct fy_node *at)
{
    ps_mapping *m = L->m;
    for (size_t i = 0; i < m->nspecs; i++)
        if (!strcmp(m->specs[i].key, key) &&
            ((!table && !m->specs[i].table) ||
             (table && m->specs[i].table && !strcmp(table, m->specs[i].table))))
            return fail_at(L, at, "键“%s”重复定义", key);
    ps_field_spec *s = PUSH(L, m->specs, m->nspecs);
    if (!s)
        return nomem(L);
    s->key = key;
    s->label = label ? label : key;
    s->type = type;
    s->table = table;
    s->required = required;
    return PS_OK;
}

static ps_status read_at(loader *L, void *obj, struct fy_node *v)
{
    map_field *f = obj;
    const char *s = scalar(L, v);
    f->has_at = true;
    if (!s || !ps_cell_ref_parse(s, &f->at_row, &f->at_col))
        return fail_at(L, v, "“at”应为单元格地址，如 B5");
    return PS_OK;
}

static ps_status read_offset(loader *L, void *obj, struct fy_node *v)
{
    map_field *f = obj;
    struct fy_node *a = fy_node_is_sequence(v) && fy_node_sequence_item_count(v) == 2
                            ? fy_node_sequence_get_by_index(v, 0)
                            : NULL;
    ps_status st;
    if (!a)
        return fail_at(L, v, "“offset”应为 [行, 列]");
    if ((st = want_int(L, a, "offset", -100, 100, &f->dr)) ||
        (st = want_int(L, fy_node_sequence_get_by_index(v, 1), "offset", -100, 100, &f->dc)))
        return st;
    if (f->take == TAKE_NONE)
        f->take = TAKE_OFFSET;
    return PS_OK;
}

static ps_status read_capture(loader *L, void *obj, struct fy_node *v)
{
    map_field *f = obj;
    ps_status st = want_int(L, v, "capture", 1, 9, &f->capture);
    if (!st)
        f->take = TAKE_CAPTURE;
    return st;
}

static ps_status read_stop(loader *L, void *obj, struct fy_node *v)
{
    map_field *f = obj;
    const char *s = NULL;
    ps_status st = want_string(L, v, "stop", &s);
    if (!st)
        f->stop = normalised(L, s);
    return st;
}

static ps_status read_fallback(loader *L, void *obj, struct fy_node *v)
{
    map_field *f = obj;
    ps_status st = want_take(L, v, &f->fallback);
    if (!st && (f->fallback == TAKE_CAPTURE || f->fallback == TAKE_OFFSET))
        st = fail_at(L, v, "“fallback”只能是 self、right、right_nonblank 或 below");
    return st;
}

/* split: {regex: "^\\s*([0-9.]+)\\s+([0-9.]+)\\s*$", part: 2}: the value is that group of the
 * regex run on the cell's text as typed (spaces kept). */
static ps_status read_split(loader *L, void *obj, struct fy_node *v)
{
    map_field *f = obj;
    if (!fy_node_is_mapping(v))
        return fail_at(L, v, "“split”应为 {regex: …, part: N}");
    struct fy_node *re = fy_node_mapping_lookup_by_string(v, "regex", FY_NT);
    struct fy_node *part = fy_node_mapping_lookup_by_string(v, "part", FY_NT);
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(v, &it)))
        if (!key_is(fy_node_pair_key(p), "regex") && !key_is(fy_node_pair_key(p), "part"))
            return unknown_key(L, fy_node_pair_key(p), "split ");
    if (!re || !part)
        return fail_at(L, v, "“split”需要 regex 和 part");
    const char *text = NULL;
    ps_status st = want_string(L, re, "regex", &text);
    if (!st)
        st = want_int(L, part, "part", 1, 9, &f->split_part);
    if (st)
        return st;
    int code;
    PCRE2_SIZE where;
    f->split = pcre2_compile((PCRE2_SPTR)text, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &where, NULL);
    if (!f->split) {
        PCRE2_UCHAR buf[200];
        pcre2_get_error_message(code, buf, sizeof buf);
        return fail_at(L, re, "正则表达式“%s”无效（第 %zu 个字节处）：%s", text, (size_t)where + 1,
                       (const char *)buf);
    }
    uint32_t groups = 0;
    pcre2_pattern_info(f->split, PCRE2_INFO_CAPTURECOUNT, &groups);
    if ((uint32_t)f->split_part > groups)
        return fail_at(L, part, "split 的 part %d 超出正则的分组数 %u", f->split_part, groups);
    return PS_OK;
}

static const char *type_name(ps_field_type t)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (type_names[i].type == t)
            return type_names[i].name;
    return "?";
}

/* from_filename: "(20[0-9]{2})": the value is in the file's name (group 1, else the whole match). */
static ps_status read_from_filename(loader *L, void *obj, struct fy_node *v)
{
    map_field *f = obj;
    const char *text = NULL;
    ps_status st = want_string(L, v, "from_filename", &text);
    if (st)
        return st;
    int code;
    PCRE2_SIZE where;
    f->from_file = pcre2_compile((PCRE2_SPTR)text, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &where, NULL);
    if (!f->from_file) {
        PCRE2_UCHAR buf[200];
        pcre2_get_error_message(code, buf, sizeof buf);
        return fail_at(L, v, "正则表达式“%s”无效（第 %zu 个字节处）：%s", text, (size_t)where + 1,
                       (const char *)buf);
    }
    return PS_OK;
}

/* Does text read as a value of type t (a constant or default of a field)? */
static bool parses_as(ps_field_type t, const char *text)
{
    char buf[32];
    int y;
    switch (t) {
    case PS_TYPE_MONEY:
    case PS_TYPE_INT:
    case PS_TYPE_NUMBER: return ps_clean_number(text).ok;
    case PS_TYPE_FRACTION: return ps_clean_rate_text(text).ok;
    case PS_TYPE_YEAR: return ps_clean_year(text, &y, NULL, 0);
    case PS_TYPE_DATE: return ps_clean_date(text, buf, sizeof buf);
    case PS_TYPE_TEXT:
    case PS_TYPE_GRADE:
    case PS_TYPE_PHONE:
    case PS_TYPE_TARGET: break;
    }
    return !ps_clean_is_blank(text);
}

enum {
    FIELD_KEY,
    FIELD_FIND,
    FIELD_TAKE,
    FIELD_CAPTURE,
    FIELD_VALUE,
    FIELD_DEFAULT,
    FIELD_AT,
    FIELD_TYPE,
    FIELD_FROM_FILE
};
static const key_rule field_keys[] = {
    [FIELD_KEY] = {.name = "key", .kind = KEY_STRING, .off = offsetof(map_field, key)},
    [FIELD_FIND] = {.name = "find", .kind = KEY_MATCHER, .off = offsetof(map_field, find)},
    [FIELD_TAKE] = {.name = "take", .kind = KEY_TAKE, .off = offsetof(map_field, take)},
    [FIELD_CAPTURE] = {.name = "capture", .kind = KEY_READ, .read = read_capture},
    [FIELD_VALUE] = {.name = "value", .kind = KEY_STRING, .off = offsetof(map_field, value)},
    [FIELD_DEFAULT] = {.name = "default", .kind = KEY_STRING, .off = offsetof(map_field, deflt)},
    [FIELD_AT] = {.name = "at", .kind = KEY_READ, .read = read_at},
    [FIELD_TYPE] = {.name = "type", .kind = KEY_TYPE, .off = offsetof(map_field, type)},
    [FIELD_FROM_FILE] = {.name = "from_filename", .kind = KEY_READ, .read = read_from_filename},
    {.name = "label", .kind = KEY_STRING, .off = offsetof(map_field, label)},
    {.name = "required", .kind = KEY_BOOL, .off = offsetof(map_field, required)},
    {.name = "split", .kind = KEY_READ, .read = read_split},
    {.name = "column", .kind = KEY_MATCHER, .off = offsetof(map_field, column)},
    {.name = "offset", .kind = KEY_READ, .read = read_offset},
    {.name = "stop", .kind = KEY_READ, .read = read_stop},
    {.name = "fallback", .kind = KEY_READ, .read = read_fallback},
};

static ps_status parse_field(loader *L, struct fy_node *n)
{
    ps_mapping *m = L->m;
    map_field *f = PUSH(L, m->fields, m->nfields);
    if (!f)
        return nomem(L);
    ps_yaml_node_position(n, &f->line, &f->col);
    f->part = L->part;
    f->type = PS_TYPE_TEXT;
    f->fallback = TAKE_NONE;
    struct fy_node *seen[NKEYS(field_keys)];
    ps_status st = READ_KEYS(L, n, field_keys, f, seen, "字段");
    if (st)
        return st;
    struct fy_node *keynode = seen[FIELD_KEY], *capnode = seen[FIELD_CAPTURE];
    if (!keynode)
        return fail_at(L, n, "字段缺少“key”");
    struct fy_node *valnode = seen[FIELD_VALUE], *defnode = seen[FIELD_DEFAULT];
    if (valnode) {
        /* a constant: no cell, so nothing that locates or reads one */
        if (f->has_at || seen[FIELD_FIND] || defnode || f->split || f->from_file)
            return fail_at(L, valnode,
                           "字段“%s”有 value（常量）时不能再有 at、find、default、split 或 from_filename",
                           f->key);
        if (!parses_as(f->type, f->value))
            return fail_at(L, valnode, "字段“%s”的 value“%s”不是 %s 类型的值", f->key, f->value,
                           type_name(f->type));
        return add_spec(L, f->key, f->label, f->type, NULL, f->required, keynode);
    }
    if (defnode && !parses_as(f->type, f->deflt))
        return fail_at(L, defnode, "字段“%s”的 default“%s”不是 %s 类型的值", f->key, f->deflt,
                       type_name(f->type));
    if (f->from_file && !f->has_at && !seen[FIELD_FIND])
        return add_spec(L, f->key, f->label, f->type, NULL, f->required, keynode); /* the file name only */
    if (f->has_at == (seen[FIELD_FIND] != NULL))
        return fail_at(L, keynode, "字段“%s”需要 at 或 find 之一（或 value 常量）", f->key);
    if (f->take == TAKE_CAPTURE && (!f->find.set || f->find.kind != MATCH_REGEX))
        return fail_at(L, capnode ? capnode : keynode, "字段“%s”的 capture 需要 find: {regex: …}", f->key);
    uint32_t groups = 0;
    if (f->take == TAKE_CAPTURE && f->find.re)
        pcre2_pattern_info(f->find.re, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (f->take == TAKE_CAPTURE && f->capture > (int)groups)
        return fail_at(L, capnode ? capnode : keynode, "字段“%s”的 capture %d 超出正则的分组数 %u", f->key,
                       f->capture, groups);
    if (f->column.set && f->take != TAKE_NONE)
        return fail_at(L, seen[FIELD_TAKE] ? seen[FIELD_TAKE] : keynode,
                       "字段“%s”有 column 时不能再指定取值方式", f->key);
    if (f->take == TAKE_NONE)
        f->take = f->has_at ? TAKE_SELF : TAKE_RIGHT;
    return add_spec(L, f->key, f->label, f->type, NULL, f->required, keynode);
}

/* - grid: {type: money, rows: {basic_expense: {label: …, name: 部门基本支出}, …},
 *          columns: {final: {regex: …, name: 决算数}, …}}  ->  basic_expense.final, …
 * Its type is read into a grid_opts. */
typedef struct grid_opts {
    ps_field_type type;
} grid_opts;

enum { GRID_ROWS, GRID_COLUMNS };
static const key_rule grid_keys[] = {
    [GRID_ROWS] = {.name = "rows", .kind = KEY_NODE},
    [GRID_COLUMNS] = {.name = "columns", .kind = KEY_NODE},
    {.name = "type", .kind = KEY_TYPE, .off = offsetof(grid_opts, type)},
};

static ps_status parse_grid(loader *L, struct fy_node *n)
{
    grid_opts opts = {PS_TYPE_MONEY};
    struct fy_node *seen[NKEYS(grid_keys)];
    ps_status st = READ_KEYS(L, n, grid_keys, &opts, seen, "grid");
    ps_field_type type = opts.type;
    if (st)
        return st;
    struct fy_node *rows = seen[GRID_ROWS], *cols = seen[GRID_COLUMNS];
    if (!rows || !fy_node_is_mapping(rows) || !cols || !fy_node_is_mapping(cols))
        return fail_at(L, n, "grid 需要 rows: {键: 标签} 和 columns: {键: 表头}");
    void *ri = NULL;
    struct fy_node_pair *rp;
    while ((rp = fy_node_mapping_iterate(rows, &ri))) {
        const char *rkey = scalar(L, fy_node_pair_key(rp));
        void *ci = NULL;
        struct fy_node_pair *cp;
        while ((cp = fy_node_mapping_iterate(cols, &ci))) {
            const char *ckey = scalar(L, fy_node_pair_key(cp));
            if (!rkey || !ckey)
                return fail_at(L, fy_node_pair_key(cp), "grid 的键应为文本");
            ps_mapping *m = L->m;
            map_field *f = PUSH(L, m->fields, m->nfields);
            if (!f)
                return nomem(L);
            matcher_extras rx, cx;
            if ((st = parse_matcher(L, fy_node_pair_value(rp), MATCH_EXACT, EXTRA_NAME, &f->find, &rx)) ||
                (st = parse_matcher(L, fy_node_pair_value(cp), MATCH_EXACT, EXTRA_NAME, &f->column, &cx)))
                return st;
            size_t klen = strlen(rkey) + strlen(ckey) + 2;
            char *key = ps_arena_alloc(&m->arena, klen);
            const char *rn = rx.name ? rx.name : f->find.text, *cn = cx.name ? cx.name : f->column.text;
            size_t llen = strlen(rn) + strlen(cn) + 8;
            char *label = ps_arena_alloc(&m->arena, llen);
            if (!key || !label)
                return nomem(L);
            snprintf(key, klen, "%s.%s", rkey, ckey);
            snprintf(label, llen, "%s（%s）", rn, cn);
            f->key = key;
            f->label = label;
            f->part = L->part;
            f->type = type;
            f->take = TAKE_NONE;
            ps_yaml_node_position(fy_node_pair_key(rp), &f->line, &f->col);
            if ((st = add_spec(L, key, label, type, NULL, false, fy_node_pair_key(rp))))
                return st;
        }
    }
    return PS_OK;
}

static ps_status parse_fields(loader *L, void *obj, struct fy_node *n)
{
    if (!fy_node_is_sequence(n))
        return fail_at(L, n, "fields 应为列表");
    void *it = NULL;
    struct fy_node *item;
    ps_status st;
    while ((item = fy_node_sequence_iterate(n, &it))) {
        if (!fy_node_is_mapping(item))
            return fail_at(L, item, "字段应为 {key: …, find: …} 形式");
        struct fy_node *g = fy_node_mapping_lookup_by_string(item, "grid", (size_t)-1);
        if (g) {
            if (fy_node_mapping_item_count(item) != 1)
                return fail_at(L, item, "grid 项不能有其他键");
            if (!fy_node_is_mapping(g))
                return fail_at(L, g, "grid 应为映射");
            st = parse_grid(L, g);
        } else {
            st = parse_field(L, item);
        }
        if (st)
            return st;
    }
    return PS_OK;
}

/* ---- tables ------------------------------------------------------------------------ */

static ps_status parse_key_list(loader *L, struct fy_node *n, const char ***out, size_t *nout)
{
    if (!fy_node_is_sequence(n))
        return fail_at(L, n, "应为键的列表");
    int cnt = fy_node_sequence_item_count(n);
    const char **arr = ps_arena_alloc(&L->m->arena, sizeof *arr * (size_t)(cnt > 0 ? cnt : 1));
    if (!arr)
        return nomem(L);
    for (int i = 0; i < cnt; i++) {
        struct fy_node *v = fy_node_sequence_get_by_index(n, i);
        ps_status st = want_string(L, v, "键", &arr[i]);
        if (st)
            return st;
    }
    *out = arr;
    *nout = (size_t)cnt;
    return PS_OK;
}

static bool table_has_col(const map_table *t, const char *key)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].key, key))
            return true;
    return false;
}

static ps_status read_from(loader *L, void *obj, struct fy_node *v)
{
    map_column *c = obj;
    const char *s = scalar(L, v);
    c->from_anchor = true;
    if (!s || strcmp(s, "anchor"))
        return fail_at(L, v, "“from”只能是 anchor（起始标签所在的列）");
    return PS_OK;
}

enum { COLUMN_KEY };
static const key_rule column_keys[] = {
    [COLUMN_KEY] = {.name = "key", .kind = KEY_STRING, .off = offsetof(map_column, key)},
    {.name = "label", .kind = KEY_STRING, .off = offsetof(map_column, label)},
    {.name = "type", .kind = KEY_TYPE, .off = offsetof(map_column, type)},
    {.name = "header", .kind = KEY_MATCHER, .off = offsetof(map_column, header)},
    {.name = "from", .kind = KEY_READ, .read = read_from},
    {.name = "fill_down", .kind = KEY_BOOL, .off = offsetof(map_column, fill_down)},
    {.name = "weight_key", .kind = KEY_STRING, .off = offsetof(map_column, weight_key)},
    {.name = "as_label", .kind = KEY_BOOL, .off = offsetof(map_column, as_label)},
};

static ps_status parse_column(loader *L, map_table *t, struct fy_node *n)
{
    if (!fy_node_is_mapping(n))
        return fail_at(L, n, "列应为 {key: …, header: …}");
    map_column *c = PUSH(L, t->cols, t->ncols);
    if (!c)
        return nomem(L);
    ps_yaml_node_position(n, &c->line, &c->col);
    c->type = PS_TYPE_TEXT;
    struct fy_node *seen[NKEYS(column_keys)];
    ps_status st = READ_KEYS(L, n, column_keys, c, seen, "列");
    if (st)
        return st;
    struct fy_node *keynode = seen[COLUMN_KEY];
    if (!keynode)
        return fail_at(L, n, "列缺少“key”");
    if (c->header.set == c->from_anchor)
        return fail_at(L, keynode, "列“%s”需要 header 或 from: anchor 之一", c->key);
    if ((st = add_spec(L, c->key, c->label, c->type, t->name, false, keynode)))
        return st;
    if (c->weight_key) {
        const char *base = c->label ? c->label : c->key;
        size_t size = strlen(base) + sizeof "分值";
        char *label = ps_arena_alloc(&L->m->arena, size);
        if (!label)
            return nomem(L);
        snprintf(label, size, "%s分值", base);
        st = add_spec(L, c->weight_key, label, PS_TYPE_NUMBER, t->name, false, keynode);
    }
    return st;
}

/* The spec (label, type) a blocks key copies from the table: its column or weight key. */
static const ps_field_spec *table_spec(loader *L, const map_table *t, const char *key)
{
    for (size_t i = 0; i < L->m->nspecs; i++) {
        const ps_field_spec *s = &L->m->specs[i];
        if (s->table && !strcmp(s->table, t->name) && !strcmp(s->key, key))
            return s;
    }
    return NULL;
}

static ps_status add_block_spec(loader *L, const map_table *t, const char *key, struct fy_node *at)
{
    const ps_field_spec *s = table_spec(L, t, key);
    return add_spec(L, key, s ? s->label : key, s ? s->type : PS_TYPE_NUMBER, t->blocks_table, false, at);
}

static ps_status read_keep(loader *L, void *obj, struct fy_node *v)
{
    map_table *t = obj;
    return parse_key_list(L, v, &t->blocks_keep, &t->nblocks_keep);
}

static ps_status read_values(loader *L, void *obj, struct fy_node *v)
{
    map_table *t = obj;
    ps_status st = parse_key_list(L, v, &t->blocks_values, &t->nblocks_values);
    for (size_t i = 0; !st && i < t->nblocks_values; i++)
        if (!table_has_col(t, t->blocks_values[i]))
            st = fail_at(L, v, "blocks 的值“%s”不是本表的列", t->blocks_values[i]);
    return st;
}

static ps_status read_weights(loader *L, void *obj, struct fy_node *v)
{
    static const char *const modes[] = {"auto", "row", "block"}; /* weights_mode 0, 1, 2 */
    const char *s = scalar(L, v);
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, modes[i])) {
            ((map_table *)obj)->weights_mode = i;
            return PS_OK;
        }
    return fail_at(L, v, "“weights”只能是 auto、row 或 block");
}

/* `sums: {weight: row_weight_sum, score: row_score_sum}`: column -> block key */
static ps_status read_sums(loader *L, void *obj, struct fy_node *v)
{
    map_table *t = obj;
    if (!fy_node_is_mapping(v))
        return fail_at(L, v, "sums 应为 {列: 键} 映射，如 {weight: row_weight_sum}");
    int cnt = fy_node_mapping_item_count(v);
    size_t size = sizeof(const char *) * (size_t)(cnt > 0 ? cnt : 1);
    t->sums_cols = ps_arena_alloc(&L->m->arena, size);
    t->sums_keys = ps_arena_alloc(&L->m->arena, size);
    if (!t->sums_cols || !t->sums_keys)
        return nomem(L);
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(v, &it))) {
        struct fy_node *k = fy_node_pair_key(pair), *val = fy_node_pair_value(pair);
        const char *col = NULL, *key = NULL;
        ps_status st = want_string(L, k, "sums 的列", &col);
        if (!st)
            st = want_string(L, val, "sums 的键", &key);
        if (st)
            return st;
        if (!table_has_col(t, col))
            return fail_at(L, k, "sums 的列“%s”不是本表的列", col);
        t->sums_cols[t->nsums] = col;
        t->sums_keys[t->nsums++] = key;
    }
    return PS_OK;
}

/* The block key of a sum: labelled after its column, 「分值合计」. */
static ps_status add_sum_spec(loader *L, const map_table *t, size_t i, struct fy_node *at)
{
    const ps_field_spec *s = table_spec(L, t, t->sums_cols[i]);
    const char *base = s && s->label ? s->label : t->sums_cols[i];
    size_t size = strlen(base) + sizeof "合计";
    char *label = ps_arena_alloc(&L->m->arena, size);
    if (!label)
        return nomem(L);
    snprintf(label, size, "%s合计", base);
    return add_spec(L, t->sums_keys[i], label, PS_TYPE_NUMBER, t->blocks_table, false, at);
}

enum { BLOCKS_BY };
static const key_rule blocks_keys[] = {
    [BLOCKS_BY] = {.name = "by", .kind = KEY_STRING, .off = offsetof(map_table, blocks_by)},
    {.name = "table", .kind = KEY_STRING, .off = offsetof(map_table, blocks_table)},
    {.name = "keep", .kind = KEY_READ, .read = read_keep},
    {.name = "values", .kind = KEY_READ, .read = read_values},
    {.name = "weights", .kind = KEY_READ, .read = read_weights},
    {.name = "sums", .kind = KEY_READ, .read = read_sums},
};

static ps_status parse_blocks(loader *L, map_table *t, struct fy_node *n)
{
    if (!fy_node_is_mapping(n))
        return fail_at(L, n, "blocks 应为映射");
    struct fy_node *seen[NKEYS(blocks_keys)];
    ps_status st = READ_KEYS(L, n, blocks_keys, t, seen, "blocks");
    if (st)
        return st;
    struct fy_node *bynode = seen[BLOCKS_BY];
    if (!t->blocks_table || !t->blocks_by)
        return fail_at(L, n, "blocks 需要 table 和 by");
    if (!table_has_col(t, t->blocks_by))
        return fail_at(L, bynode, "blocks 的 by“%s”不是本表的列", t->blocks_by);
    if ((st = add_block_spec(L, t, t->blocks_by, bynode)))
        return st;
    for (size_t i = 0; i < t->nblocks_keep; i++)
        if ((st = add_block_spec(L, t, t->blocks_keep[i], n)))
            return st;
    for (size_t i = 0; i < t->nblocks_values; i++)
        if ((st = add_block_spec(L, t, t->blocks_values[i], n)))
            return st;
    for (size_t i = 0; i < t->nsums; i++)
        if ((st = add_sum_spec(L, t, i, n)))
            return st;
    return PS_OK;
}

/* `count: indicator_count` or `count: {key: indicator_count, label: 三级指标个数}` */
static ps_status read_count(loader *L, void *obj, struct fy_node *v)
{
    map_table *t = obj;
    if (fy_node_is_scalar(v))
        return want_string(L, v, "count", &t->count_key);
    if (!fy_node_is_mapping(v))
        return fail_at(L, v, "count 应为键，或 {key: …, label: …}");
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(v, &it))) {
        struct fy_node *k = fy_node_pair_key(pair), *val = fy_node_pair_value(pair);
        const char *name = scalar(L, k);
        ps_status st;
        if (name && !strcmp(name, "key"))
            st = want_string(L, val, "key", &t->count_key);
        else if (name && !strcmp(name, "label"))
            st = want_string(L, val, "label", &t->count_label);
        else
            st = fail_at(L, k, "count 中未知的键“%s”（可用：key、label）", name ? name : "");
        if (st)
            return st;
    }
    if (!t->count_key)
        return fail_at(L, v, "count 缺少“key”");
    return PS_OK;
}

enum { TABLE_COLUMNS, TABLE_SECTIONS, TABLE_ROW_KEY, TABLE_BLOCKS };
static const key_rule table_keys[] = {
    [TABLE_COLUMNS] = {.name = "columns", .kind = KEY_NODE},
    [TABLE_SECTIONS] = {.name = "sections", .kind = KEY_NODE},
    [TABLE_ROW_KEY] = {.name = "row_key", .kind = KEY_STRING, .off = offsetof(map_table, row_key)},
    [TABLE_BLOCKS] = {.name = "blocks", .kind = KEY_NODE},
    {.name = "name", .kind = KEY_NODE}, /* read first */
    {.name = "header", .kind = KEY_MATCHER, .off = offsetof(map_table, header)},
    {.name = "start", .kind = KEY_MATCHER, .off = offsetof(map_table, start)},
    {.name = "end", .kind = KEY_MATCHER, .off = offsetof(map_table, end)},
    {.name = "skip", .kind = KEY_MATCHER, .off = offsetof(map_table, skip)},
    {.name = "section_key", .kind = KEY_STRING, .off = offsetof(map_table, section_key)},
    {.name = "count", .kind = KEY_READ, .read = read_count},
};

static ps_status parse_table(loader *L, struct fy_node *n)
{
    if (!fy_node_is_mapping(n))
        return fail_at(L, n, "表应为 {name: …, columns: …}");
    ps_mapping *m = L->m;
    map_table *t = PUSH(L, m->tables, m->ntables);
    if (!t)
        return nomem(L);
    ps_yaml_node_position(n, &t->line, &t->col);
    t->part = L->part;
    struct fy_node *name = fy_node_mapping_lookup_by_string(n, "name", (size_t)-1);
    if (!name)
        return fail_at(L, n, "表缺少“name”");
    struct fy_node *seen[NKEYS(table_keys)];
    ps_status st = want_string(L, name, "name", &t->name);
    for (size_t i = 0; !st && i + 1 < m->ntables; i++)
        if (!strcmp(m->tables[i].name, t->name))
            st = fail_at(L, name, "表名“%s”重复定义（第 %d 行已有）", t->name, m->tables[i].line);
    if (!st)
        st = READ_KEYS(L, n, table_keys, t, seen, "表");
    if (st)
        return st;
    struct fy_node *cols = seen[TABLE_COLUMNS], *sections = seen[TABLE_SECTIONS];
    if (t->header.set == t->start.set)
        return fail_at(L, n, "表“%s”需要 header 或 start 之一", t->name);
    if (t->section_key && (st = add_spec(L, t->section_key, t->section_key, PS_TYPE_TEXT, t->name, false, n)))
        return st;
    if (!cols || !fy_node_is_sequence(cols) || fy_node_sequence_item_count(cols) == 0)
        return fail_at(L, cols ? cols : n, "表“%s”需要 columns 列表", t->name);
    void *ci = NULL;
    struct fy_node *c;
    while ((c = fy_node_sequence_iterate(cols, &ci)))
        if ((st = parse_column(L, t, c)))
            return st;
    if (sections) {
        if (!fy_node_is_sequence(sections))
            return fail_at(L, sections, "sections 应为列表");
        if (!t->section_key)
            return fail_at(L, sections, "有 sections 时需要 section_key");
        void *si = NULL;
        struct fy_node *s;
        while ((s = fy_node_sequence_iterate(sections, &si))) {
            map_section *sec = PUSH(L, t->sections, t->nsections);
            if (!sec)
                return nomem(L);
            matcher_extras ex;
            if ((st = parse_matcher(L, s, MATCH_EXACT, EXTRA_VALUE, &sec->m, &ex)))
                return st;
            if (!ex.value)
                return fail_at(L, s, "section 需要 value（写入 %s 的文本）", t->section_key);
            sec->value = ex.value;
        }
    }
    if (!t->row_key)
        return fail_at(L, n, "表“%s”需要 row_key（判断一行是否有数据的列）", t->name);
    if (!table_has_col(t, t->row_key))
        return fail_at(L, seen[TABLE_ROW_KEY], "row_key“%s”不是本表的列", t->row_key);
    if (seen[TABLE_BLOCKS] && (st = parse_blocks(L, t, seen[TABLE_BLOCKS])))
        return st;
    if (t->count_key)
        st = add_spec(L, t->count_key, t->count_label ? t->count_label : t->count_key, PS_TYPE_INT, NULL,
                      false, n);
    return st;
}

static ps_status parse_tables(loader *L, void *obj, struct fy_node *n)
{
    if (!fy_node_is_sequence(n))
        return fail_at(L, n, "tables 应为列表");
    void *it = NULL;
    struct fy_node *item;
    ps_status st;
    while ((item = fy_node_sequence_iterate(n, &it)))
        if ((st = parse_table(L, item)))
            return st;
    return PS_OK;
}

/* ---- detect ------------------------------------------------------------------------ */

static ps_status add_detect(loader *L, struct fy_node *n, match_kind scalar_kind, double weight,
                            const char *default_name)
{
    ps_mapping *m = L->m;
    map_detect_item *d = PUSH(L, m->items, m->nitems);
    if (!d)
        return nomem(L);
    d->part = L->part;
    matcher_extras ex;
    ps_status st = parse_matcher(L, n, scalar_kind, EXTRA_NAME | EXTRA_WEIGHT, &d->m, &ex);
    if (st)
        return st;
    d->name = ex.name ? ex.name : default_name ? default_name : d->m.text;
    d->weight = ex.weight != 1.0 ? ex.weight : weight;
    return PS_OK;
}

static ps_status read_title(loader *L, void *obj, struct fy_node *v)
{
    return add_detect(L, v, MATCH_CONTAINS, 2.0, "标题");
}

static ps_status read_require(loader *L, void *obj, struct fy_node *v)
{
    if (!fy_node_is_sequence(v))
        return fail_at(L, v, "require 应为标签列表");
    void *it = NULL;
    struct fy_node *r;
    ps_status st = PS_OK;
    while (!st && (r = fy_node_sequence_iterate(v, &it)))
        st = add_detect(L, r, MATCH_EXACT, 1.0, NULL);
    return st;
}

static const key_rule detect_keys[] = {
    {.name = "title", .kind = KEY_READ, .read = read_title},
    {.name = "require", .kind = KEY_READ, .read = read_require},
};

static ps_status parse_detect(loader *L, void *obj, struct fy_node *n)
{
    if (!fy_node_is_mapping(n))
        return fail_at(L, n, "detect 应为映射");
    size_t before = L->m->nitems;
    ps_status st = READ_KEYS(L, n, detect_keys, obj, NULL, "detect");
    if (!st && L->m->nitems == before)
        return fail_at(L, n, "detect 至少需要 title 或 require");
    L->m->detectable = true;
    return st;
}

/* ---- parts (multi-sheet templates) ---------------------------------------------------- */

enum { PART_NAME, PART_DETECT, PART_FIELDS, PART_TABLES };
static const key_rule part_keys[] = {
    [PART_NAME] = {.name = "name", .kind = KEY_STRING, .off = offsetof(map_part, name)},
    [PART_DETECT] = {.name = "detect", .kind = KEY_NODE},
    [PART_FIELDS] = {.name = "fields", .kind = KEY_NODE},
    [PART_TABLES] = {.name = "tables", .kind = KEY_NODE},
    {.name = "optional", .kind = KEY_BOOL, .off = offsetof(map_part, optional)},
};

/* - name: 公开03表
 *   optional: false
 *   detect: {title: …, require: […]}   -> the sheet this part is read from
 *   fields: […]
 *   tables: […] */
static ps_status parse_part(loader *L, struct fy_node *n)
{
    ps_mapping *m = L->m;
    if (!fy_node_is_mapping(n))
        return fail_at(L, n, "parts 的每一项应为映射（name、detect、fields、tables）");
    if (m->nparts >= UINT16_MAX)
        return fail_at(L, n, "parts 过多");
    map_part *p = PUSH(L, m->parts, m->nparts);
    if (!p)
        return nomem(L);
    ps_yaml_node_position(n, &p->line, &p->col);
    L->part = (unsigned)(m->nparts - 1);
    struct fy_node *seen[NKEYS(part_keys)];
    ps_status st = READ_KEYS(L, n, part_keys, p, seen, "parts");
    if (st)
        return st;
    if (!seen[PART_NAME])
        return fail_at(L, n, "parts 的每一项需要 name（如“公开03表”）");
    for (size_t i = 0; i + 1 < m->nparts; i++)
        if (!strcmp(m->parts[i].name, p->name))
            return fail_at(L, seen[PART_NAME], "部分名“%s”重复", p->name);
    if (!seen[PART_DETECT])
        return fail_at(L, n, "部分“%s”需要 detect（凭什么认出它所在的工作表）", p->name);
    if (!seen[PART_FIELDS] && !seen[PART_TABLES])
        return fail_at(L, n, "部分“%s”至少需要 fields 或 tables", p->name);
    p->items_begin = m->nitems;
    if ((st = parse_detect(L, m, seen[PART_DETECT])))
        return st;
    m->parts[L->part].items_end = m->nitems; /* p may have moved: parts is not grown above */
    if (seen[PART_FIELDS] && (st = parse_fields(L, m, seen[PART_FIELDS])))
        return st;
    if (seen[PART_TABLES] && (st = parse_tables(L, m, seen[PART_TABLES])))
        return st;
    return PS_OK;
}

static ps_status parse_parts(loader *L, void *obj, struct fy_node *n)
{
    (void)obj;
    if (!fy_node_is_sequence(n) || fy_node_sequence_item_count(n) < 1)
        return fail_at(L, n, "parts 应为列表，每项是模板的一张工作表");
    void *it = NULL;
    struct fy_node *item;
    ps_status st;
    while ((item = fy_node_sequence_iterate(n, &it)))
        if ((st = parse_part(L, item)))
            return st;
    L->part = 0;
    bool required = false;
    for (size_t i = 0; i < L->m->nparts; i++)
        required |= !L->m->parts[i].optional;
    if (!required)
        return fail_at(L, n, "parts 中至少要有一部分不是 optional");
    return PS_OK;
}

/* ---- layout ------------------------------------------------------------------------ */

/* The closest known key to key (plain fields, or the columns of table), for 「您是不是要写」. */
static const char *close_key(const ps_mapping *m, const char *key, const char *table)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1, limit = strlen(key) >= 5 ? 2 : 1;
    for (size_t i = 0; i < m->nspecs; i++) {
        const ps_field_spec *f = &m->specs[i];
        if (table ? !f->table || strcmp(f->table, table) : f->table != NULL)
            continue;
        size_t d = ps_rule_name_distance(key, f->key, limit);
        if (d <= limit && d < bestd) {
            bestd = d;
            best = f->key;
        }
    }
    return best;
}

static bool spec_exists(const ps_mapping *m, const char *table, const char *key)
{
    return ps_map_has_key(m, table, key);
}

static ps_status unknown_layout_key(loader *L, struct fy_node *at, const char *key, const char *table)
{
    const char *near = close_key(L->m, key, table);
    char hint[200] = "";
    if (near)
        snprintf(hint, sizeof hint, "。您是不是要写 “%s”？", near);
    if (table)
        return fail_at(L, at, "layout: 表 %s 没有列“%s”%s", table, key, hint);
    return fail_at(L, at, "layout: “%s”不是本映射的字段（fields 中没有这个键）%s", key, hint);
}

/* Items of a layout list: a sequence of keys or one-pair maps `key: label`, or a map
 * `key: label`. check: 0 keys are not fields (grid rows and columns), 1 plain fields, 2 columns
 * of table. */
static ps_status layout_items(loader *L, struct fy_node *n, int check, const char *table,
                              const ps_layout_item **out, size_t *count)
{
    bool seq = fy_node_is_sequence(n), map = fy_node_is_mapping(n);
    if (!seq && !map)
        return fail_at(L, n, "layout: 应为键名列表或 {键名: 标签} 映射");
    int cnt = seq ? fy_node_sequence_item_count(n) : fy_node_mapping_item_count(n);
    ps_layout_item *items = ps_arena_alloc(&L->m->arena, sizeof *items * (size_t)(cnt > 0 ? cnt : 1));
    if (!items)
        return nomem(L);
    void *it = NULL;
    size_t k = 0;
    for (;;) {
        struct fy_node *keynode = NULL, *labelnode = NULL;
        if (seq) {
            struct fy_node *e = fy_node_sequence_iterate(n, &it);
            if (!e)
                break;
            if (fy_node_is_mapping(e) && fy_node_mapping_item_count(e) == 1) {
                void *it2 = NULL;
                struct fy_node_pair *p = fy_node_mapping_iterate(e, &it2);
                keynode = fy_node_pair_key(p);
                labelnode = fy_node_pair_value(p);
            } else if (fy_node_is_scalar(e)) {
                keynode = e;
            } else {
                return fail_at(L, e, "layout: 列表项应为键名或 键名: 标签");
            }
        } else {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            if (!p)
                break;
            keynode = fy_node_pair_key(p);
            labelnode = fy_node_pair_value(p);
            if (!labelnode)
                return fail_at(L, keynode, "layout: 应为 键名: 标签");
        }
        const char *key = scalar(L, keynode);
        if (!key || !*key)
            return fail_at(L, keynode, "layout: 键名应为文本");
        const char *label = NULL;
        if (labelnode && !(label = scalar(L, labelnode)))
            return fail_at(L, labelnode, "layout: 标签应为文本");
        if (check && !spec_exists(L->m, check == 2 ? table : NULL, key))
            return unknown_layout_key(L, keynode, key, check == 2 ? table : NULL);
        items[k].key = key;
        items[k].label = label;
        k++;
    }
    *out = items;
    *count = k;
    return PS_OK;
}

static ps_status layout_block(loader *L, struct fy_node *n, ps_layout_block *blk)
{
    if (!fy_node_is_mapping(n))
        return fail_at(L, n, "layout: blocks 的每一项应为映射（fields、grid 或 table）");
    struct fy_node *fields = NULL, *grid = NULL, *table = NULL, *columns = NULL, *detail = NULL,
                   *title = NULL;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
        struct fy_node **slot = key_is(k, "fields")    ? &fields
                                : key_is(k, "grid")    ? &grid
                                : key_is(k, "table")   ? &table
                                : key_is(k, "columns") ? &columns
                                : key_is(k, "detail")  ? &detail
                                : key_is(k, "title")   ? &title
                                                       : NULL;
        if (!slot)
            return unknown_key(L, k, "layout 的块");
        if (!v)
            return fail_at(L, k, "layout: 块的键没有值");
        *slot = v;
    }
    if (!!fields + !!grid + !!table != 1)
        return fail_at(L, n, "layout: 每个块应有且只有 fields、grid、table 之一");
    if ((columns || detail) && !table)
        return fail_at(L, columns ? columns : detail, "layout: columns 和 detail 只用于 table 块");
    if (title && !(blk->title = scalar(L, title)))
        return fail_at(L, title, "layout: title 应为文本");
    if (fields) {
        blk->kind = PS_LAYOUT_FIELDS;
        return layout_items(L, fields, 1, NULL, &blk->items, &blk->nitems);
    }
    if (grid) {
        blk->kind = PS_LAYOUT_GRID;
        if (!fy_node_is_mapping(grid))
            return fail_at(L, grid, "layout: grid 应为映射（columns, rows）");
        struct fy_node *cols = NULL, *rows = NULL;
        it = NULL;
        while ((p = fy_node_mapping_iterate(grid, &it))) {
            struct fy_node *k = fy_node_pair_key(p);
            if (key_is(k, "columns"))
                cols = fy_node_pair_value(p);
            else if (key_is(k, "rows"))
                rows = fy_node_pair_value(p);
            else
                return unknown_key(L, k, "layout 的 grid");
        }
        if (!cols || !rows)
            return fail_at(L, grid, "layout: grid 需要 columns 和 rows");
        ps_status st = layout_items(L, cols, 0, NULL, &blk->columns, &blk->ncolumns);
        if (st == PS_OK)
            st = layout_items(L, rows, 0, NULL, &blk->items, &blk->nitems);
        if (st != PS_OK)
            return st;
        /* every cell of the grid is a field <row>.<column> of the mapping */
        for (size_t r = 0; r < blk->nitems; r++)
            for (size_t c = 0; c < blk->ncolumns; c++) {
                size_t len = strlen(blk->items[r].key) + strlen(blk->columns[c].key) + 2;
                char *key = ps_arena_alloc(&L->m->arena, len);
                if (!key)
                    return nomem(L);
                snprintf(key, len, "%s.%s", blk->items[r].key, blk->columns[c].key);
                if (!spec_exists(L->m, NULL, key)) {
                    struct fy_node *at =
                        fy_node_is_sequence(rows) ? fy_node_sequence_get_by_index(rows, (int)r) : NULL;
                    if (!at) {
                        void *ri = NULL;
                        struct fy_node_pair *rp = NULL;
                        for (size_t q = 0; q <= r; q++)
                            rp = fy_node_mapping_iterate(rows, &ri);
                        at = rp ? fy_node_pair_key(rp) : rows;
                    }
                    return unknown_layout_key(L, at, key, NULL);
                }
            }
        return PS_OK;
    }
    blk->kind = PS_LAYOUT_TABLE;
    if (!(blk->table = scalar(L, table)))
        return fail_at(L, table, "layout: table 应为表名");
    if (!ps_map_has_key(L->m, blk->table, NULL)) {
        const char *near = NULL;
        for (size_t i = 0; i < L->m->nspecs && !near; i++)
            if (L->m->specs[i].table && ps_rule_name_distance(blk->table, L->m->specs[i].table, 2) <= 2)
                near = L->m->specs[i].table;
        char hint[200] = "";
        if (near)
            snprintf(hint, sizeof hint, "。您是不是要写 “%s”？", near);
        return fail_at(L, table, "layout: “%s”不是本映射的表（tables 中没有）%s", blk->table, hint);
    }
    if (detail) {
        const char *d = scalar(L, detail);
        if (!d)
            return fail_at(L, detail, "layout: detail 应为工作表名或 false");
        blk->detail = strcmp(d, "false") == 0 ? "" : d;
    }
    if (columns)
        return layout_items(L, columns, 2, blk->table, &blk->items, &blk->nitems);
    return PS_OK;
}

/* `layout:` (docs/mapping.md), read after fields and tables: every key it names is checked. */
static ps_status parse_layout(loader *L, struct fy_node *n)
{
    ps_mapping *m = L->m;
    if (!fy_node_is_mapping(n))
        return fail_at(L, n, "layout 应为映射（title、sheet、header、blocks）");
    ps_layout *lay = &m->layout;
    void *it = NULL;
    struct fy_node_pair *p;
    ps_status st = PS_OK;
    while (st == PS_OK && (p = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
        if (key_is(k, "formulas"))
            return fail_at(L, k,
                           "layout: 不再支持 formulas：转换后的工作簿不含公式。派生单元格由规则声明"
                           "（check: 左边 = 公式，并写 computed: true），见 docs/rules.md");
        if (!v)
            return fail_at(L, k, "layout: 键没有值");
        if (key_is(k, "title")) {
            if (!(lay->title = scalar(L, v)))
                st = fail_at(L, v, "layout: title 应为文本");
        } else if (key_is(k, "sheet")) {
            if (!(lay->sheet = scalar(L, v)))
                st = fail_at(L, v, "layout: sheet 应为文本");
        } else if (key_is(k, "header")) {
            st = layout_items(L, v, 1, NULL, &lay->header, &lay->nheader);
        } else if (key_is(k, "blocks")) {
            if (!fy_node_is_sequence(v))
                return fail_at(L, v, "layout: blocks 应为列表");
            int cnt = fy_node_sequence_item_count(v);
            ps_layout_block *blocks = ps_arena_alloc(&m->arena, sizeof *blocks * (size_t)(cnt > 0 ? cnt : 1));
            if (!blocks)
                return nomem(L);
            memset(blocks, 0, sizeof *blocks * (size_t)(cnt > 0 ? cnt : 1));
            void *bi = NULL;
            struct fy_node *e;
            size_t nb = 0;
            while (st == PS_OK && (e = fy_node_sequence_iterate(v, &bi)))
                st = layout_block(L, e, &blocks[nb++]);
            lay->blocks = blocks;
            lay->nblocks = nb;
        } else {
            st = unknown_key(L, k, "layout");
        }
    }
    m->has_layout = st == PS_OK;
    return st;
}

/* ---- the file ---------------------------------------------------------------------- */

static bool valid_id(const char *s)
{
    if (!*s || strlen(s) > 40)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

static ps_status read_id(loader *L, void *obj, struct fy_node *v)
{
    ps_mapping *m = obj;
    ps_status st = want_string(L, v, "id", &m->id);
    if (!st && !valid_id(m->id))
        st = fail_at(L, v, "id“%s”只能由小写字母、数字、_ 和 - 组成", m->id);
    return st;
}

static ps_status read_version(loader *L, void *obj, struct fy_node *v)
{
    return want_int(L, v, "version", 0, 1000000, &((ps_mapping *)obj)->version);
}

/* `aliases: {可持续影响招标: 可持续影响指标}`: keys and values normalised like labels */
static ps_status read_aliases(loader *L, void *obj, struct fy_node *v)
{
    ps_mapping *m = obj;
    if (!fy_node_is_mapping(v))
        return fail_at(L, v, "aliases 应为 {所填文本: 标准文本} 映射");
    int cnt = fy_node_mapping_item_count(v);
    size_t size = sizeof(const char *) * (size_t)(cnt > 0 ? cnt : 1);
    m->alias_from = ps_arena_alloc(&m->arena, size);
    m->alias_to = ps_arena_alloc(&m->arena, size);
    if (!m->alias_from || !m->alias_to)
        return nomem(L);
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(v, &it))) {
        struct fy_node *k = fy_node_pair_key(pair), *val = fy_node_pair_value(pair);
        const char *from = NULL, *to = NULL;
        ps_status st = want_string(L, k, "aliases 的键", &from);
        if (!st)
            st = want_string(L, val, "aliases 的值", &to);
        if (st)
            return st;
        const char *nf = normalised(L, from), *nt = normalised(L, to);
        if (!nf || !nt)
            return nomem(L);
        if (!*nf || !*nt)
            return fail_at(L, *nf ? val : k, "aliases 的键和值不能为空");
        if (!strcmp(nf, nt))
            return fail_at(L, k, "别名“%s”与标准文本相同", from);
        for (size_t i = 0; i < m->naliases; i++)
            if (!strcmp(m->alias_from[i], nf))
                return fail_at(L, k, "别名“%s”重复", from);
        m->alias_from[m->naliases] = nf;
        m->alias_to[m->naliases++] = nt;
    }
    return PS_OK;
}

/* detect, fields and tables: read into L->m, which is also obj; rules and layout after them */
enum { FILE_ID, FILE_RULES, FILE_LAYOUT, FILE_DETECT, FILE_FIELDS, FILE_TABLES, FILE_PARTS, FILE_DEFAULTS };
static const key_rule file_keys[] = {
    [FILE_ID] = {.name = "id", .kind = KEY_READ, .read = read_id},
    [FILE_RULES] = {.name = "rules", .kind = KEY_NODE},
    [FILE_LAYOUT] = {.name = "layout", .kind = KEY_NODE},
    [FILE_DETECT] = {.name = "detect", .kind = KEY_NODE},
    [FILE_FIELDS] = {.name = "fields", .kind = KEY_NODE},
    [FILE_TABLES] = {.name = "tables", .kind = KEY_NODE},
    [FILE_PARTS] = {.name = "parts", .kind = KEY_NODE},
    [FILE_DEFAULTS] = {.name = "defaults", .kind = KEY_NODE}, /* band:, blank: of every rule */
    {.name = "title", .kind = KEY_STRING, .off = offsetof(ps_mapping, title)},
    {.name = "version", .kind = KEY_READ, .read = read_version},
    {.name = "aliases", .kind = KEY_READ, .read = read_aliases},
};

static ps_status build(loader *L, struct fy_node *root)
{
    ps_mapping *m = L->m;
    if (!root || !fy_node_is_mapping(root))
        return fail_at(L, root, "映射文件的顶层应为键值映射（id、title、detect、fields …）");
    struct fy_node *seen[NKEYS(file_keys)];
    ps_status st = READ_KEYS(L, root, file_keys, m, seen, "映射文件");
    if (st)
        return st;
    if (!seen[FILE_ID])
        return fail_at(L, root, "映射文件缺少“id”");
    if (seen[FILE_PARTS]) {
        /* a multi-sheet template: detect, fields and tables belong to its parts */
        static const int one_sheet[] = {FILE_DETECT, FILE_FIELDS, FILE_TABLES};
        for (size_t i = 0; i < sizeof one_sheet / sizeof one_sheet[0]; i++)
            if (seen[one_sheet[i]])
                return fail_at(
                    L, fy_node_mapping_lookup_key_by_string(root, file_keys[one_sheet[i]].name, (size_t)-1),
                    "有 parts 时，%s 应写在各部分里（parts 的每一项有自己的 detect、fields、tables）",
                    file_keys[one_sheet[i]].name);
        if ((st = parse_parts(L, m, seen[FILE_PARTS])))
            return st;
    } else {
        if (seen[FILE_DETECT] && (st = parse_detect(L, m, seen[FILE_DETECT])))
            return st;
        if (seen[FILE_FIELDS] && (st = parse_fields(L, m, seen[FILE_FIELDS])))
            return st;
        if (seen[FILE_TABLES] && (st = parse_tables(L, m, seen[FILE_TABLES])))
            return st;
    }
    if (!m->title)
        m->title = "";
    if (m->detectable && m->nfields == 0 && m->ntables == 0)
        return fail_at(L, root, "有 detect 的映射文件至少需要 fields 或 tables");
    if (!ps_map_index_keys(m))
        return nomem(L);
    /* the rules, every name they use resolved against the fields and tables read above
     * (cross-table names: by ps_mapping_set_load) */
    ps_rule_defaults defaults;
    if ((st = ps_rule_defaults_from_node(seen[FILE_DEFAULTS], m->path, &defaults, L->err)) ||
        (st = ps_ruleset_from_node_defaults(seen[FILE_RULES], &defaults, m->path, &m->rules, L->err)))
        return st;
    for (size_t i = 0; i < m->rules->n; i++)
        if ((st = ps_rule_resolve(m->rules->rules[i], m, NULL, L->err)))
            return st;
    if (seen[FILE_LAYOUT] && (st = parse_layout(L, seen[FILE_LAYOUT])))
        return st;
    return PS_OK;
}

/* libfyaml reports a syntax error through its diagnostic output as
 * "<input>:LINE:COL: error: MESSAGE" (1-based); the first such line is kept. */
typedef struct yaml_diag {
    int line, col;
    char msg[200];
    bool have;
} yaml_diag;

static void diag_output(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    yaml_diag *yd = user;
    if (yd->have)
        return;
    static const char marker[] = ": error: ";
    const char *end = buf + len;
    const char *e = NULL;
    for (const char *p = buf; p + sizeof marker - 1 <= end; p++)
        if (!memcmp(p, marker, sizeof marker - 1)) {
            e = p;
            break;
        }
    if (!e)
        return;
    /* ":LINE:COL" just before the marker */
    const char *q = e;
    int nums[2] = {0, 0};
    for (int k = 1; k >= 0; k--) {
        const char *digits_end = q;
        while (q > buf && q[-1] >= '0' && q[-1] <= '9')
            q--;
        if (q == digits_end || q == buf || q[-1] != ':' || digits_end - q > 7)
            return;
        nums[k] = atoi(q);
        q--;
    }
    const char *m = e + sizeof marker - 1, *mend = m;
    while (mend < end && *mend != '\n')
        mend++;
    yd->line = nums[0];
    yd->col = nums[1];
    snprintf(yd->msg, sizeof yd->msg, "%.*s", (int)(mend - m), m);
    yd->have = true;
}

ps_status ps_mapping_load_text(const char *name, const char *text, size_t len, ps_mapping **out,
                               ps_error *err)
{
    return ps_map_load_text(name, text, len, false, out, err);
}
ps_status ps_map_load_text(const char *name, const char *text, size_t len, bool builtin, ps_mapping **out,
                           ps_error *err)
{
    if (!name)
        name = "(mapping)";
    if (len > MAX_MAPPING_BYTES)
        return ps_error_set(err, PS_ERR_MAPPING, name, "映射文件过大（超过 4 MiB）");
    int bad_line, bad_col;
    if (!builtin && ps_utf8_find_invalid(text, len, &bad_line, &bad_col))
        return ps_error_at_line(err, PS_ERR_MAPPING, name, bad_line, bad_col,
                                "不是 UTF-8 编码的文本：映射文件应以 UTF-8 保存");
    ps_mapping *m = calloc(1, sizeof *m);
    if (!m)
        return ps_error_set(err, PS_ERR_NOMEM, name, "内存不足");
    loader L = {m, name, err, 0};
    m->builtin = builtin;
    m->path = ps_arena_strdup(&m->arena, name);
    char *copy = ps_arena_strndup(&m->arena, text, len);
    if (!m->path || !copy) {
        ps_mapping_free(m);
        return ps_error_set(err, PS_ERR_NOMEM, name, "内存不足");
    }

    /* in the mapping's arena: the document may keep the diagnostic object (and so this
     * user pointer) for its lifetime */
    yaml_diag *yd = ps_arena_alloc(&m->arena, sizeof *yd);
    if (!yd) {
        ps_mapping_free(m);
        return ps_error_set(err, PS_ERR_NOMEM, name, "内存不足");
    }
    memset(yd, 0, sizeof *yd);
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_output;
    dcfg.user = yd;
    dcfg.colorize = false;
    dcfg.show_position = true;
    dcfg.show_source = false;
    dcfg.show_type = false;
    dcfg.show_module = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    /* errors located at a token are collected, not displayed: libfyaml 0.7.12 crashes
     * displaying the source line of some (fy_diag_error_atom_display, found by fuzz_rules) */
    if (diag)
        fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {.flags = FYPCF_COLLECT_DIAG | FYPCF_JSON_NONE, .diag = diag};
    struct fy_document *doc = diag ? fy_document_build_from_string(&cfg, copy, len) : NULL;
    /* anchors, aliases and merge keys (<<: *base) are resolved; an alias bomb is refused. A text
     * with no anchor (&), merge key (<<) or merge tag has nothing to resolve: the walk is skipped
     * (most mappings; it is a tenth of their loading) */
    if (doc && (memchr(copy, '&', len) || memmem(copy, len, "<<", 2) || memmem(copy, len, "merge", 5))) {
        int line = 1, col = 1;
        int resolved = ps_yaml_resolve(doc, &line, &col);
        if (resolved == 1) {
            yd->line = line;
            yd->col = col;
            snprintf(yd->msg, sizeof yd->msg, "%s", PS_YAML_TOO_BIG_MESSAGE);
            yd->have = true;
        }
        if (resolved != 0) {
            fy_document_destroy(doc);
            doc = NULL;
        }
    }
    if (diag && !doc && !yd->have) {
        void *eit = NULL;
        struct fy_diag_error *e;
        while ((e = fy_diag_errors_iterate(diag, &eit)))
            if (e->type >= FYET_ERROR) {
                yd->line = e->line;
                yd->col = e->column;
                snprintf(yd->msg, sizeof yd->msg, "%s", e->msg ? e->msg : "");
                yd->have = true;
                break;
            }
    }
    if (diag)
        fy_diag_destroy(diag);
    if (!doc) {
        if (yd->have)
            ps_error_at_line(err, PS_ERR_MAPPING, name, yd->line, yd->col, "不是有效的 YAML：%s", yd->msg);
        else
            ps_error_set(err, PS_ERR_MAPPING, name, "不是有效的 YAML");
        ps_mapping_free(m);
        return PS_ERR_MAPPING;
    }
    yd->have = true; /* later diagnostics are not ours */
    ps_status st = build(&L, fy_document_root(doc));
    fy_document_destroy(doc); /* everything is compiled: no YAML is kept */
    if (st) {
        ps_mapping_free(m);
        return st;
    }
    *out = m;
    return PS_OK;
}

ps_status ps_mapping_load_file(const char *path, ps_mapping **out, ps_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ps_error_set(err, PS_ERR_IO, path, "无法打开映射文件：%s", strerror(errno));
    char *buf = malloc(MAX_MAPPING_BYTES + 1);
    if (!buf) {
        fclose(f);
        return ps_error_set(err, PS_ERR_NOMEM, path, "内存不足");
    }
    size_t n = fread(buf, 1, MAX_MAPPING_BYTES + 1, f);
    bool bad = ferror(f);
    fclose(f);
    ps_status st;
    if (bad)
        st = ps_error_set(err, PS_ERR_IO, path, "读取映射文件失败");
    else if (n > MAX_MAPPING_BYTES)
        st = ps_error_set(err, PS_ERR_MAPPING, path, "映射文件过大（超过 4 MiB）");
    else
        st = ps_mapping_load_text(path, buf, n, out, err);
    free(buf);
    return st;
}

void ps_mapping_free(ps_mapping *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nitems; i++)
        ps_map_matcher_free(&m->items[i].m);
    for (size_t i = 0; i < m->nfields; i++) {
        ps_map_matcher_free(&m->fields[i].find);
        ps_map_matcher_free(&m->fields[i].column);
        pcre2_code_free(m->fields[i].split);
        pcre2_code_free(m->fields[i].from_file);
    }
    for (size_t i = 0; i < m->ntables; i++) {
        map_table *t = &m->tables[i];
        ps_map_matcher_free(&t->header);
        ps_map_matcher_free(&t->start);
        ps_map_matcher_free(&t->end);
        ps_map_matcher_free(&t->skip);
        for (size_t j = 0; j < t->ncols; j++)
            ps_map_matcher_free(&t->cols[j].header);
        for (size_t j = 0; j < t->nsections; j++)
            ps_map_matcher_free(&t->sections[j].m);
        free(t->cols);
        free(t->sections);
    }
    free(m->items);
    free(m->parts);
    free(m->fields);
    free(m->tables);
    free(m->specs);
    free(m->key_slots);
    ps_ruleset_free(m->rules);
    ps_arena_release(&m->arena);
    free(m);
}
