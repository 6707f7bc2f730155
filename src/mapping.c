/* mapping.c - mapping sets (built-ins + user directory), label matching on a sheet and
 * template detection; see mapping.h. Parsing is in mapping_load.c, extraction in
 * mapping_extract.c. */
#define _GNU_SOURCE /* memmem */
#include "mapping_int.h"
#include "rules_int.h"

#include "perfsheet/clean.h"
#include "utf8.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct ps_builtin_mapping {
    const char *name;
    const char *text;
    size_t size;
} ps_builtin_mappings[];

struct ps_mapping_set {
    ps_mapping **items;
    size_t n, cap;
    int year; /* ps_mapping_set_year */
};

void ps_mapping_set_year(ps_mapping_set *set, int year)
{
    set->year = year;
}

/* ---- accessors --------------------------------------------------------------------- */

const char *ps_mapping_id(const ps_mapping *m)
{
    return m->id;
}
const char *ps_mapping_title(const ps_mapping *m)
{
    return m->title ? m->title : "";
}
const char *ps_mapping_path(const ps_mapping *m)
{
    return m->path;
}
int ps_mapping_version(const ps_mapping *m)
{
    return m->version;
}
bool ps_mapping_detectable(const ps_mapping *m)
{
    return m->detectable;
}
size_t ps_mapping_field_count(const ps_mapping *m)
{
    return m->nspecs;
}

const ps_field_spec *ps_mapping_field(const ps_mapping *m, size_t i)
{
    return i < m->nspecs ? &m->specs[i] : NULL;
}

const ps_ruleset *ps_mapping_rules(const ps_mapping *m)
{
    return m->rules;
}

const ps_layout *ps_mapping_layout(const ps_mapping *m)
{
    return m->has_layout ? &m->layout : NULL;
}

/* Copies line `line` of the n bytes at text into buf. */
static bool copy_line(const char *text, size_t n, int line, char *buf, size_t size)
{
    const char *p = text, *end = text + n;
    for (int l = 1; l < line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return false;
        p = nl + 1;
    }
    if (p >= end || size == 0)
        return false;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = (size_t)((nl ? nl : end) - p);
    if (len && p[len - 1] == '\r')
        len--;
    if (len >= size)
        len = size - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return true;
}

bool ps_mapping_source_line(const char *file, int line, char *buf, size_t size)
{
    if (!file || line < 1)
        return false;
    for (size_t i = 0; ps_builtin_mappings[i].name; i++)
        if (!strcmp(ps_builtin_mappings[i].name, file))
            return copy_line(ps_builtin_mappings[i].text, ps_builtin_mappings[i].size, line, buf, size);
    FILE *f = fopen(file, "rb");
    if (!f)
        return false;
    char *text = malloc(4u << 20);
    size_t n = text ? fread(text, 1, 4u << 20, f) : 0;
    fclose(f);
    bool ok = text && copy_line(text, n, line, buf, size);
    free(text);
    return ok;
}

/* ---- the keys a mapping defines ---------------------------------------------------- */

static uint32_t key_hash(const char *table, const char *key)
{
    uint32_t h = 2166136261u;
    for (const char *p = table ? table : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ 0xFFu) * 16777619u; /* separates table from key */
    for (const char *p = key ? key : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h ^ (key ? 0 : 0x9E3779B9u);
}

static bool same_name(const char *a, const char *b)
{
    return a ? b && !strcmp(a, b) : !b;
}

/* The slot of (table, key): found, or the empty one it would go in. */
static size_t key_slot(const ps_mapping *m, const char *table, const char *key, bool *found)
{
    size_t mask = m->nkey_slots - 1;
    for (size_t s = key_hash(table, key) & mask;; s = (s + 1) & mask) {
        uint32_t v = m->key_slots[s];
        if (!v) {
            *found = false;
            return s;
        }
        /* a table entry (table, NULL) has the high bit set */
        bool table_entry = (v & 0x80000000u) != 0;
        const ps_field_spec *g = &m->specs[(v & 0x7FFFFFFFu) - 1];
        if (table_entry ? !key && same_name(g->table, table)
                        : key && same_name(g->table, table) && !strcmp(g->key, key)) {
            *found = true;
            return s;
        }
    }
}

bool ps_map_index_keys(ps_mapping *m)
{
    size_t n = 16;
    while (n < 4 * (m->nspecs + 1))
        n *= 2;
    free(m->key_slots);
    m->key_slots = calloc(n, sizeof *m->key_slots);
    if (!m->key_slots)
        return false;
    m->nkey_slots = n;
    for (size_t i = 0; i < m->nspecs; i++) {
        const ps_field_spec *f = &m->specs[i];
        bool found;
        size_t s = key_slot(m, f->table, f->key, &found);
        if (!found)
            m->key_slots[s] = (uint32_t)i + 1;
        if (f->table && !(s = key_slot(m, f->table, NULL, &found), found))
            m->key_slots[s] = ((uint32_t)i + 1) | 0x80000000u;
    }
    return true;
}

bool ps_map_has_key(const ps_mapping *m, const char *table, const char *key)
{
    if (!m->key_slots)
        return false;
    bool found;
    key_slot(m, table, key, &found);
    return found;
}

/* ---- sets -------------------------------------------------------------------------- */

size_t ps_mapping_set_count(const ps_mapping_set *set)
{
    return set ? set->n : 0;
}

const ps_mapping *ps_mapping_set_at(const ps_mapping_set *set, size_t i)
{
    return set && i < set->n ? set->items[i] : NULL;
}

const ps_mapping *ps_mapping_set_find(const ps_mapping_set *set, const char *id)
{
    for (size_t i = 0; set && id && i < set->n; i++)
        if (!strcmp(set->items[i]->id, id))
            return set->items[i];
    return NULL;
}

void ps_mapping_set_free(ps_mapping_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        ps_mapping_free(set->items[i]);
    free(set->items);
    free(set);
}

static bool set_push(ps_mapping_set *set, ps_mapping *m)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 8;
        ps_mapping **p = realloc(set->items, cap * sizeof *p);
        if (!p)
            return false;
        set->items = p;
        set->cap = cap;
    }
    set->items[set->n++] = m;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_yaml_ext(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && !strcmp(name + n - 5, ".yaml") && name[0] != '.';
}

static ps_status load_user_dir(ps_mapping_set *set, size_t nbuiltin, const char *dir, ps_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return ps_error_set(err, PS_ERR_IO, dir, "无法打开映射目录");
    char **names = NULL;
    size_t n = 0, cap = 0;
    ps_status st = PS_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!has_yaml_ext(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                st = ps_error_set(err, PS_ERR_NOMEM, dir, "内存不足");
                break;
            }
            names = p;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) {
            st = ps_error_set(err, PS_ERR_NOMEM, dir, "内存不足");
            break;
        }
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (!st && n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; !st && i < n; i++) {
        ps_mapping *m = NULL;
        st = ps_mapping_load_file(names[i], &m, err);
        if (st)
            break;
        size_t j;
        for (j = 0; j < set->n; j++)
            if (!strcmp(set->items[j]->id, m->id))
                break;
        if (j < set->n && j >= nbuiltin) {
            st = ps_error_set(err, PS_ERR_MAPPING, names[i], "模板 id“%s”已由 %s 定义", m->id,
                              set->items[j]->path);
            ps_mapping_free(m);
        } else if (j < set->n) {
            ps_mapping_free(set->items[j]); /* a user file replaces the built-in mapping */
            set->items[j] = m;
        } else if (!set_push(set, m)) {
            ps_mapping_free(m);
            st = ps_error_set(err, PS_ERR_NOMEM, names[i], "内存不足");
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

ps_status ps_mapping_set_load(const char *user_dir, ps_mapping_set **out, ps_error *err)
{
    ps_mapping_set *set = calloc(1, sizeof *set);
    if (!set)
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    ps_status st = PS_OK;
    for (size_t i = 0; !st && ps_builtin_mappings[i].name; i++) {
        ps_mapping *m = NULL;
        st = ps_map_load_text(ps_builtin_mappings[i].name, ps_builtin_mappings[i].text,
                              ps_builtin_mappings[i].size, true, &m, err);
        if (!st && ps_mapping_set_find(set, m->id)) {
            st = ps_error_set(err, PS_ERR_MAPPING, m->path, "模板 id“%s”重复", m->id);
            ps_mapping_free(m);
        } else if (!st && !set_push(set, m)) {
            ps_mapping_free(m);
            st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
        }
    }
    size_t nbuiltin = set->n;
    if (!st && user_dir)
        st = load_user_dir(set, nbuiltin, user_dir, err);
    /* cross-table rules name the fields of other templates: resolved now that all are known */
    for (size_t i = 0; !st && i < set->n; i++)
        for (size_t k = 0; !st && k < set->items[i]->rules->n; k++)
            if (set->items[i]->rules->rules[k]->nns > 0)
                st = ps_rule_resolve(set->items[i]->rules->rules[k], set->items[i], set, err);
    if (st) {
        ps_mapping_set_free(set);
        return st;
    }
    *out = set;
    return PS_OK;
}

/* ---- matching ---------------------------------------------------------------------- */

#define MAX_LABEL_BYTES 4096

bool ps_map_sheet_init(map_sheet *ms, const ps_sheet *sh)
{
    memset(ms, 0, sizeof *ms);
    ms->sh = sh;
    size_t total = ps_sheet_cell_count(sh);
    const ps_cell *cells = ps_sheet_cells(sh);
    size_t n = 0, ntext = 0, bytes = 0;
    for (size_t i = 0; i < total; i++)
        if (cells[i].row < MAP_MAX_ROWS && cells[i].col < MAP_MAX_COLS) {
            n++;
            if (cells[i].type == PS_CELL_TEXT && cells[i].text) {
                size_t len = strlen(cells[i].text) + 1;
                bytes += len > MAX_LABEL_BYTES ? MAX_LABEL_BYTES : len;
                ntext++;
            }
        }
    ms->cells = calloc(n ? n : 1, sizeof *ms->cells);
    ms->labels = calloc(n ? n : 1, sizeof *ms->labels);
    ms->joined = malloc(bytes ? bytes : 1);
    ms->text_off = malloc((ntext ? ntext : 1) * sizeof *ms->text_off);
    ms->text_idx = malloc((ntext ? ntext : 1) * sizeof *ms->text_idx);
    ms->nslots = 8;
    while (ms->nslots < 2 * ntext)
        ms->nslots *= 2;
    ms->slots = calloc(ms->nslots, sizeof *ms->slots);
    ms->same_next = malloc((ntext ? ntext : 1) * sizeof *ms->same_next);
    ms->text_hash = malloc((ntext ? ntext : 1) * sizeof *ms->text_hash);
    ms->utf8 = calloc(n ? n : 1, sizeof *ms->utf8);
    ms->md = pcre2_match_data_create(MAP_MD_PAIRS, NULL); /* NULL: each match makes its own */
    if (!ms->cells || !ms->labels || !ms->joined || !ms->text_off || !ms->text_idx || !ms->slots ||
        !ms->same_next || !ms->text_hash || !ms->utf8 || ntext >= UINT32_MAX) {
        ps_map_sheet_release(ms);
        return false;
    }
    size_t pos = 0;
    for (size_t i = 0; i < total; i++) {
        const ps_cell *c = &cells[i];
        if (c->row >= MAP_MAX_ROWS || c->col >= MAP_MAX_COLS)
            continue;
        size_t k = ms->n++;
        ms->cells[k] = c;
        if (c->type != PS_CELL_TEXT || !c->text)
            continue;
        size_t len = strlen(c->text) + 1;
        if (len > MAX_LABEL_BYTES)
            len = MAX_LABEL_BYTES;
        ms->labels[k] = ms->joined + pos;
        size_t used = ps_clean_label(c->text, ms->labels[k], len);
        ms->text_hash[ms->ntext] = ps_map_label_hash(ms->labels[k], used);
        ms->text_off[ms->ntext] = pos;
        ms->text_idx[ms->ntext++] = k;
        pos += used + 1;
    }
    ms->joined_len = pos;
    /* backwards, so that each chain of equal labels ends up in cell order */
    for (size_t t = ms->ntext; t-- > 0;) {
        const char *label = ms->joined + ms->text_off[t];
        size_t mask = ms->nslots - 1, s = ms->text_hash[t] & mask;
        while (ms->slots[s] && (ms->text_hash[ms->slots[s] - 1] != ms->text_hash[t] ||
                                strcmp(ms->joined + ms->text_off[ms->slots[s] - 1], label)))
            s = (s + 1) & mask;
        ms->same_next[t] = ms->slots[s];
        ms->slots[s] = (uint32_t)t + 1;
    }
    return true;
}

uint32_t ps_map_label_hash(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15u ^ n;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x100000001B3u;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0x100000001B3u;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* 1 + the first text label whose normalised text is needle (nlen bytes), or 0. */
static uint32_t exact_first(const map_sheet *ms, const char *needle, size_t nlen)
{
    uint32_t h = ps_map_label_hash(needle, nlen);
    size_t mask = ms->nslots - 1;
    for (size_t s = h & mask; ms->slots[s]; s = (s + 1) & mask) {
        uint32_t t = ms->slots[s] - 1;
        if (ms->text_hash[t] == h && !strcmp(ms->joined + ms->text_off[t], needle))
            return t + 1;
    }
    return 0;
}

void ps_map_sheet_release(map_sheet *ms)
{
    free(ms->labels);
    free(ms->cells);
    free(ms->joined);
    free(ms->text_off);
    free(ms->text_idx);
    free(ms->slots);
    free(ms->same_next);
    free(ms->text_hash);
    free(ms->utf8);
    pcre2_match_data_free(ms->md); /* takes NULL */
    memset(ms, 0, sizeof *ms);
}

/* Shared by every thread (read-only once made): bounds PCRE2's work on a pathological
 * pattern so that one mapping cannot stall a batch. */
static pthread_once_t match_ctx_once = PTHREAD_ONCE_INIT;
static pcre2_match_context *match_ctx;

static void make_match_ctx(void)
{
    match_ctx = pcre2_match_context_create(NULL);
    if (match_ctx) {
        pcre2_set_match_limit(match_ctx, 200000);
        pcre2_set_depth_limit(match_ctx, 10000);
    }
}

/* A matcher's regex is JIT-compiled on its first use, not at load: most regexes of most mappings
 * never run in one command (another template's fields, a regex whose required literal no label
 * holds), and compiling them all cost a fifth of every start. The first use compiles under a
 * lock; every match waits for it, so no thread matches while the code object changes. */
static pthread_mutex_t jit_lock = PTHREAD_MUTEX_INITIALIZER;

static const pcre2_code *jitted(const map_matcher *m)
{
    map_matcher *mm = (map_matcher *)m; /* the JIT code is a cache: the mapping is heap data */
    if (!__atomic_load_n(&mm->jit_done, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&jit_lock);
        if (!mm->jit_done) {
            pcre2_jit_compile(mm->re, PCRE2_JIT_COMPLETE); /* a failure only means no JIT */
            __atomic_store_n(&mm->jit_done, true, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&jit_lock);
    }
    return m->re;
}

/* Runs re on label; fills pm[0..nmatch) like regexec (-1 for groups that did not take part).
 * reuse (may be NULL) is match data of MAP_MD_PAIRS pairs to use instead of making one; opts
 * is 0 or PCRE2_NO_UTF_CHECK for a label known to be UTF-8. */
static bool regex_match(const pcre2_code *re, const char *label, pcre2_match_data *reuse, uint32_t opts,
                        regmatch_t *pm, size_t nmatch)
{
    pthread_once(&match_ctx_once, make_match_ctx);
    pcre2_match_data *md = reuse && nmatch <= MAP_MD_PAIRS
                               ? reuse
                               : pcre2_match_data_create(nmatch ? (uint32_t)nmatch : 1, NULL);
    if (!md)
        return false;
    /* labels come from our readers as valid UTF-8; unless told it is, PCRE2 checks and fails
     * cleanly. The ovector's size changes no match, only how many groups it can report. */
    int rc = pcre2_match(re, (PCRE2_SPTR)label, PCRE2_ZERO_TERMINATED, 0, opts, md, match_ctx);
    if (rc >= 0 && nmatch && pm) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t pairs = pcre2_get_ovector_count(md);
        for (size_t i = 0; i < nmatch; i++) {
            bool set = i < pairs && i < (size_t)(rc ? rc : (int)pairs) && ov[2 * i] != PCRE2_UNSET;
            pm[i].rm_so = set ? (regoff_t)ov[2 * i] : -1;
            pm[i].rm_eo = set ? (regoff_t)ov[2 * i + 1] : -1;
        }
    }
    if (md != reuse)
        pcre2_match_data_free(md);
    return rc >= 0;
}

bool ps_map_match(const map_matcher *m, const char *label, regmatch_t *pm, size_t nmatch)
{
    if (!m->set || !label || !*label)
        return false;
    switch (m->kind) {
    case MATCH_EXACT: return !strcmp(label, m->text);
    case MATCH_PREFIX: return !strncmp(label, m->text, strlen(m->text));
    case MATCH_CONTAINS: return strstr(label, m->text) != NULL;
    case MATCH_REGEX:
        if (m->must[0] && !strstr(label, m->must))
            return false; /* cannot match: saves regexec on most labels */
        return m->compiled && regex_match(jitted(m), label, NULL, 0, pm, nmatch);
    }
    return false;
}

/* PCRE2_NO_UTF_CHECK when the label of cell i is well-formed UTF-8, else 0 (PCRE2 then finds
 * it is not and the regex does not match, as before). Checked once per label and sheet
 * instead of by PCRE2 on every match; ps_utf8_find_invalid accepts only what PCRE2 accepts. */
static uint32_t utf_opts(const map_sheet *ms, size_t i)
{
    if (!ms->utf8[i]) {
        int line, col;
        const char *label = ms->labels[i];
        ms->utf8[i] = ps_utf8_find_invalid(label, strlen(label), &line, &col) ? -1 : 1;
    }
    return ms->utf8[i] > 0 ? PCRE2_NO_UTF_CHECK : 0;
}

bool ps_map_match_cell(const map_sheet *ms, size_t i, const map_matcher *m, regmatch_t *pm, size_t nmatch)
{
    const char *label = ms->labels[i];
    if (!m->set || m->kind != MATCH_REGEX || !label || !*label)
        return ps_map_match(m, label, pm, nmatch);
    if (m->must[0] && !strstr(label, m->must))
        return false;
    return m->compiled && regex_match(jitted(m), label, ms->md, utf_opts(ms, i), pm, nmatch);
}

/* ps_map_match_cell for a cell whose label holds m's needle (its text, or `must` for a regex):
 * that settles CONTAINS and spares a regex its strstr. */
static bool candidate_matches(const map_sheet *ms, size_t i, const map_matcher *m)
{
    if (m->kind == MATCH_CONTAINS)
        return true;
    if (m->kind == MATCH_REGEX)
        return m->compiled && regex_match(jitted(m), ms->labels[i], ms->md, utf_opts(ms, i), NULL, 0);
    return ps_map_match(m, ms->labels[i], NULL, 0);
}

/* The text label whose bytes hold joined offset off (labels are in increasing offsets). */
static size_t label_at(const map_sheet *ms, size_t off)
{
    size_t lo = 0, hi = ms->ntext;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ms->text_off[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Whether a label on row may be taken: 0 yes, -1 not this one, 1 none after it either (the
 * labels come in cell order). */
static int row_wanted(uint32_t row, uint32_t min_row, uint32_t row_only)
{
    if (row < min_row)
        return -1;
    if (row_only != UINT32_MAX && row != row_only)
        return row > row_only ? 1 : -1;
    return 0;
}

void ps_map_each(const map_sheet *ms, const map_matcher *m, uint32_t min_row, uint32_t row_only,
                 bool (*visit)(size_t i, void *ctx), void *ctx)
{
    const char *needle = !m->set ? NULL : m->kind == MATCH_REGEX ? m->must : m->text;
    if (needle && *needle && ms->ntext) {
        /* only labels holding the needle can match: find them with memmem, in cell order */
        size_t nlen = strlen(needle), pos = 0;
        if (m->kind == MATCH_EXACT) { /* the labels equal to the needle, from the index */
            for (uint32_t t1 = exact_first(ms, needle, nlen); t1; t1 = ms->same_next[t1 - 1]) {
                size_t i = ms->text_idx[t1 - 1];
                int where = row_wanted(ms->cells[i]->row, min_row, row_only);
                if (where > 0)
                    break;
                if (where == 0 && !visit(i, ctx))
                    return;
            }
            return;
        }
        while (pos < ms->joined_len) {
            const char *hit = memmem(ms->joined + pos, ms->joined_len - pos, needle, nlen);
            if (!hit)
                break;
            size_t t = label_at(ms, (size_t)(hit - ms->joined));
            size_t i = ms->text_idx[t];
            pos = t + 1 < ms->ntext ? ms->text_off[t + 1] : ms->joined_len; /* the next label */
            int where = row_wanted(ms->cells[i]->row, min_row, row_only);
            if (where > 0)
                break;
            if (where == 0 && candidate_matches(ms, i, m) && !visit(i, ctx))
                return;
        }
        return;
    }
    for (size_t i = 0; i < ms->n; i++) {
        int where = row_wanted(ms->cells[i]->row, min_row, row_only);
        if (where > 0)
            break;
        if (where == 0 && ps_map_match_cell(ms, i, m, NULL, 0) && !visit(i, ctx))
            return;
    }
}

typedef struct nth_hit {
    unsigned seen, nth;
    size_t found;
} nth_hit;

static bool count_to_nth(size_t i, void *ctx)
{
    nth_hit *h = ctx;
    if (++h->seen < h->nth)
        return true;
    h->found = i;
    return false;
}

size_t ps_map_find(const map_sheet *ms, const map_matcher *m, uint32_t min_row, uint32_t row_only)
{
    nth_hit h = {.nth = m->nth, .found = SIZE_MAX};
    ps_map_each(ms, m, min_row, row_only, count_to_nth, &h);
    return h.found;
}

/* ---- detection --------------------------------------------------------------------- */

/* The weighted share of m's detect items [begin, end) found on ms. */
static double score_items(const ps_mapping *m, size_t begin, size_t end, const map_sheet *ms, bool *complete,
                          char *missing, size_t missing_size)
{
    double total = 0, found = 0;
    size_t used = 0;
    missing[0] = '\0';
    *complete = true;
    for (size_t i = begin; i < end; i++) {
        const map_detect_item *d = &m->items[i];
        total += d->weight;
        if (ps_map_find(ms, &d->m, 0, UINT32_MAX) != SIZE_MAX) {
            found += d->weight;
            continue;
        }
        *complete = false;
        /* names are listed once each, separated by 、 */
        bool dup = false;
        for (size_t j = begin; j < i && !dup; j++)
            dup = !strcmp(m->items[j].name, d->name) &&
                  ps_map_find(ms, &m->items[j].m, 0, UINT32_MAX) == SIZE_MAX;
        if (dup)
            continue;
        int w = snprintf(missing + used, missing_size - used, "%s%s", used ? "、" : "", d->name);
        if (w < 0 || (size_t)w >= missing_size - used)
            missing[used] = '\0';
        else
            used += (size_t)w;
    }
    return total > 0 ? found / total : 0;
}

static double score_sheet(const ps_mapping *m, const map_sheet *ms, bool *complete, char *missing,
                          size_t missing_size)
{
    return score_items(m, 0, m->nitems, ms, complete, missing, missing_size);
}

static double detect_weight(const ps_mapping *m)
{
    double w = 0;
    for (size_t i = 0; i < m->nitems; i++)
        w += m->items[i].weight;
    return w;
}

/* Best mapping of one sheet: a complete match beats a partial one; among complete matches the
 * more specific (more detect weight) wins, equal weight is a tie; among partial ones the
 * higher score. */
static void detect_indexed(const ps_mapping_set *set, const map_sheet *ms, ps_detection *d)
{
    const ps_mapping *tie = NULL;
    double best_weight = 0;
    for (size_t i = 0; i < ps_mapping_set_count(set); i++) {
        const ps_mapping *m = set->items[i];
        if (!m->detectable || m->nparts) /* multi-sheet templates: match_parts */
            continue;
        bool complete;
        char missing[sizeof d->missing];
        double s = score_sheet(m, ms, &complete, missing, sizeof missing);
        if (s <= 0)
            continue;
        double w = detect_weight(m);
        bool better;
        if (complete && d->complete) {
            if (w == best_weight) {
                tie = m;
                continue;
            }
            better = w > best_weight;
        } else {
            better = (complete && !d->complete) || (complete == d->complete && s > d->score);
        }
        if (better) {
            d->mapping = m;
            d->score = s;
            d->complete = complete;
            memcpy(d->missing, missing, sizeof d->missing);
            best_weight = w;
            tie = NULL;
        }
    }
    if (tie && d->mapping) {
        snprintf(d->missing, sizeof d->missing, "同时匹配 %s 和 %s，无法确定模板", d->mapping->id, tie->id);
        d->complete = false;
    }
}

/* ---- multi-sheet templates (parts:) -------------------------------------------------- */

/* One multi-sheet mapping of the set against one workbook: which sheets match each part
 * completely, then which sheet each part takes. */
typedef struct multi_match {
    const ps_mapping *m;
    bool *cand;       /* nparts x nsheets: part p matches sheet s completely */
    size_t *sheet_of; /* per part: its sheet, SIZE_MAX when none */
    size_t nrequired, nrequired_found, nfound;
    bool complete; /* every required part has its sheet */
    char missing[256];
} multi_match;

typedef struct multi_set {
    multi_match *mm;
    size_t n, nsheets;
} multi_set;

static void multi_free(multi_set *ms)
{
    for (size_t i = 0; i < ms->n; i++) {
        free(ms->mm[i].cand);
        free(ms->mm[i].sheet_of);
    }
    free(ms->mm);
    ms->mm = NULL;
    ms->n = 0;
}

/* Whether x claims sheets before y. */
static bool multi_before(const multi_match *x, const multi_match *y)
{
    if (x->m->builtin != y->m->builtin)
        return !x->m->builtin;
    return detect_weight(x->m) > detect_weight(y->m);
}

static bool multi_init(multi_set *out, const ps_mapping_set *set, size_t nsheets)
{
    out->mm = NULL;
    out->n = 0;
    out->nsheets = nsheets;
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        n += set->items[i]->detectable && set->items[i]->nparts;
    if (!n)
        return true;
    out->mm = calloc(n, sizeof *out->mm);
    if (!out->mm)
        return false;
    for (size_t i = 0; i < set->n; i++) {
        const ps_mapping *m = set->items[i];
        if (!m->detectable || !m->nparts)
            continue;
        multi_match *mm = &out->mm[out->n++];
        mm->m = m;
        mm->cand = calloc(m->nparts * (nsheets ? nsheets : 1), sizeof *mm->cand);
        mm->sheet_of = malloc(m->nparts * sizeof *mm->sheet_of);
        if (!mm->cand || !mm->sheet_of) {
            multi_free(out);
            return false;
        }
    }
    /* the order in which they claim sheets: a -m mapping before the built-in ones (the officer
     * asked for it), then the more specific (more detect weight) first; stable */
    for (size_t a = 1; a < out->n; a++) {
        multi_match t = out->mm[a];
        size_t b = a;
        while (b > 0 && multi_before(&t, &out->mm[b - 1])) {
            out->mm[b] = out->mm[b - 1];
            b--;
        }
        out->mm[b] = t;
    }
    return true;
}

/* Records which parts sheet number s (indexed as ms) matches completely. */
static void multi_score_sheet(multi_set *ms, const map_sheet *sheet, size_t s)
{
    for (size_t i = 0; i < ms->n; i++) {
        const ps_mapping *m = ms->mm[i].m;
        for (size_t p = 0; p < m->nparts; p++) {
            /* only whether every item is there: stop at the first missing (most often the title) */
            bool complete = true;
            for (size_t k = m->parts[p].items_begin; k < m->parts[p].items_end && complete; k++)
                complete = ps_map_find(sheet, &m->items[k].m, 0, UINT32_MAX) != SIZE_MAX;
            ms->mm[i].cand[p * ms->nsheets + s] = complete;
        }
    }
}

/* Whether sheet s matches some part of some multi-sheet template. */
static bool multi_candidate(const multi_set *ms, size_t s)
{
    for (size_t i = 0; i < ms->n; i++)
        for (size_t p = 0; p < ms->mm[i].m->nparts; p++)
            if (ms->mm[i].cand[p * ms->nsheets + s])
                return true;
    return false;
}

static void add_name(char *buf, size_t size, const char *name)
{
    size_t used = strlen(buf);
    int w = snprintf(buf + used, size - used, "%s%s", used ? "、" : "", name);
    if (w < 0 || (size_t)w >= size - used)
        buf[used] = '\0';
}

/* Kuhn's augmenting path: tries to give part p a sheet, moving parts already placed to their
 * other candidates when that frees one. */
static bool place_part(multi_match *mm, size_t ns, const bool *claimed, size_t p, bool *visited,
                       size_t *part_of_sheet)
{
    for (size_t s = 0; s < ns; s++) {
        if (claimed[s] || visited[s] || !mm->cand[p * ns + s])
            continue;
        visited[s] = true;
        if (part_of_sheet[s] == SIZE_MAX ||
            place_part(mm, ns, claimed, part_of_sheet[s], visited, part_of_sheet)) {
            part_of_sheet[s] = p;
            mm->sheet_of[p] = s;
            return true;
        }
    }
    return false;
}

/* Gives each part of each multi-sheet template a sheet of its own among the sheets not claimed
 * yet that match the part completely, as many parts as can be placed (a maximum matching; a
 * title contained in another's - 支出决算表 in 一般公共预算财政拨款支出决算表 - does not take the
 * longer one's sheet when that leaves a part without one). Required parts are placed first,
 * each in the order of fewest candidates, so that the first sheet in workbook order goes to the
 * part that needs it. A template whose required parts all have a sheet is complete and claims
 * its sheets. */
static bool multi_assign(multi_set *ms, bool *claimed)
{
    size_t ns = ms->nsheets;
    size_t *part_of_sheet = malloc((ns ? ns : 1) * sizeof *part_of_sheet);
    bool *visited = malloc(ns ? ns : 1);
    size_t maxp = 1;
    for (size_t i = 0; i < ms->n; i++)
        maxp = ms->mm[i].m->nparts > maxp ? ms->mm[i].m->nparts : maxp;
    size_t *order = malloc(maxp * sizeof *order), *ncand = malloc(maxp * sizeof *ncand);
    bool ok = part_of_sheet && visited && order && ncand;
    for (size_t i = 0; ok && i < ms->n; i++) {
        multi_match *mm = &ms->mm[i];
        const ps_mapping *m = mm->m;
        for (size_t s = 0; s < ns; s++)
            part_of_sheet[s] = SIZE_MAX;
        for (size_t p = 0; p < m->nparts; p++) {
            mm->sheet_of[p] = SIZE_MAX;
            order[p] = p;
            ncand[p] = 0;
            for (size_t s = 0; s < ns; s++)
                ncand[p] += !claimed[s] && mm->cand[p * ns + s];
        }
        /* required before optional, then fewer candidates first; stable (insertion sort) */
        for (size_t a = 1; a < m->nparts; a++) {
            size_t p = order[a], b = a;
            while (b > 0) {
                size_t q = order[b - 1];
                bool later = m->parts[q].optional > m->parts[p].optional ||
                             (m->parts[q].optional == m->parts[p].optional && ncand[q] > ncand[p]);
                if (!later)
                    break;
                order[b] = q;
                b--;
            }
            order[b] = p;
        }
        for (size_t k = 0; k < m->nparts; k++) {
            memset(visited, 0, ns ? ns : 1);
            place_part(mm, ns, claimed, order[k], visited, part_of_sheet);
        }
        mm->nrequired = mm->nrequired_found = mm->nfound = 0;
        mm->missing[0] = '\0';
        for (size_t p = 0; p < m->nparts; p++) {
            bool found = mm->sheet_of[p] != SIZE_MAX;
            mm->nfound += found;
            if (m->parts[p].optional)
                continue;
            mm->nrequired++;
            mm->nrequired_found += found;
            if (!found)
                add_name(mm->missing, sizeof mm->missing, m->parts[p].name);
        }
        mm->complete = mm->nrequired_found == mm->nrequired;
        if (mm->complete)
            for (size_t p = 0; p < m->nparts; p++)
                if (mm->sheet_of[p] != SIZE_MAX)
                    claimed[mm->sheet_of[p]] = true;
    }
    free(part_of_sheet);
    free(visited);
    free(order);
    free(ncand);
    return ok;
}

static double multi_score(const multi_match *mm)
{
    return mm->nrequired ? (double)mm->nrequired_found / (double)mm->nrequired : 0;
}

/* Reads the document of a complete multi-sheet template from the label indexes kept for its
 * sheets (indexed[s]: sheet s's, built once for detection). */
static ps_document *multi_extract(const multi_match *mm, const map_sheet *indexed, const char *file, int year,
                                  size_t *first_sheet)
{
    const ps_mapping *m = mm->m;
    const map_sheet **sheets = calloc(m->nparts, sizeof *sheets);
    if (!sheets)
        return NULL;
    *first_sheet = SIZE_MAX;
    for (size_t p = 0; p < m->nparts; p++) {
        if (mm->sheet_of[p] == SIZE_MAX)
            continue;
        sheets[p] = &indexed[mm->sheet_of[p]];
        if (mm->sheet_of[p] < *first_sheet)
            *first_sheet = mm->sheet_of[p];
    }
    ps_document *doc = ps_map_extract_parts(m, sheets, file, year);
    free(sheets);
    return doc;
}

ps_status ps_mapping_detect(const ps_mapping_set *set, const ps_workbook *wb, ps_detection **out, size_t *n,
                            ps_error *err)
{
    size_t ns = ps_workbook_sheet_count(wb);
    ps_detection *d = calloc(ns ? ns : 1, sizeof *d);
    bool *claimed = calloc(ns ? ns : 1, sizeof *claimed);
    multi_set multi;
    if (!d || !claimed || !multi_init(&multi, set, ns)) {
        free(d);
        free(claimed);
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    for (size_t i = 0; i < ns; i++) {
        d[i].sheet = i;
        map_sheet ms;
        if (!ps_map_sheet_init(&ms, ps_workbook_sheet(wb, i))) {
            multi_free(&multi);
            free(claimed);
            free(d);
            return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
        }
        detect_indexed(set, &ms, &d[i]);
        multi_score_sheet(&multi, &ms, i);
        ps_map_sheet_release(&ms);
    }
    if (!multi_assign(&multi, claimed)) {
        multi_free(&multi);
        free(claimed);
        free(d);
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    for (size_t k = 0; k < multi.n; k++) {
        const multi_match *mm = &multi.mm[k];
        for (size_t p = 0; p < mm->m->nparts; p++) {
            size_t s = mm->sheet_of[p];
            if (s == SIZE_MAX || (!mm->complete && d[s].complete))
                continue;
            d[s].mapping = mm->m;
            d[s].part = mm->m->parts[p].name;
            d[s].score = mm->complete ? 1.0 : multi_score(mm);
            d[s].complete = mm->complete;
            if (mm->complete)
                d[s].missing[0] = '\0';
            else
                snprintf(d[s].missing, sizeof d[s].missing, "其他部分：%s", mm->missing);
        }
    }
    multi_free(&multi);
    free(claimed);
    *out = d;
    *n = ns;
    return PS_OK;
}

/* "jcsj（部门整体支出绩效评价基础数据表）、zpb（…）": the detectable mappings, for messages. */
static const char *known_templates(const ps_mapping_set *set)
{
    static _Thread_local char buf[512];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ps_mapping_set_count(set) && used < sizeof buf; i++) {
        const ps_mapping *m = ps_mapping_set_at(set, i);
        if (!m->detectable)
            continue;
        int k =
            snprintf(buf + used, sizeof buf - used, "%s%s%s%s%s", used ? "、" : "", m->id,
                     *ps_mapping_title(m) ? "（" : "", ps_mapping_title(m), *ps_mapping_title(m) ? "）" : "");
        if (k < 0)
            break;
        used += (size_t)k;
    }
    return buf;
}

typedef struct found_doc {
    size_t sheet; /* its (first) sheet: documents come out in sheet order */
    ps_document *doc;
} found_doc;

static int cmp_found(const void *a, const void *b)
{
    const found_doc *x = a, *y = b;
    return (x->sheet > y->sheet) - (x->sheet < y->sheet);
}

ps_status ps_mapping_extract_workbook(const ps_mapping_set *set, const ps_workbook *wb, const char *file,
                                      ps_document ***docs, size_t *ndocs, ps_error *err)
{
    size_t nd = ps_workbook_sheet_count(wb);
    ps_detection *det = calloc(nd ? nd : 1, sizeof *det);
    found_doc *found = calloc(nd ? nd : 1, sizeof *found);
    bool *claimed = calloc(nd ? nd : 1, sizeof *claimed), *deferred = calloc(nd ? nd : 1, sizeof *deferred);
    /* the label index of each sheet a multi-sheet template may claim, kept until that is decided
     * (deferred[i]): it serves the template's extraction, or the sheet's own detection */
    map_sheet *kept = calloc(nd ? nd : 1, sizeof *kept);
    multi_set multi = {0};
    if (!det || !found || !claimed || !deferred || !kept || !multi_init(&multi, set, nd)) {
        free(det);
        free(found);
        free(claimed);
        free(deferred);
        free(kept);
        return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
    }
    ps_status st = PS_OK;
    size_t n = 0;
    const ps_detection *best = NULL;
    for (size_t i = 0; i < nd; i++) {
        /* one label index per sheet serves both detection and extraction */
        map_sheet ms;
        det[i].sheet = i;
        if (!ps_map_sheet_init(&ms, ps_workbook_sheet(wb, i))) {
            st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
            break;
        }
        multi_score_sheet(&multi, &ms, i);
        if (multi_candidate(&multi, i)) {
            /* a multi-sheet template may claim it: one-sheet detection waits until that is decided
             * (below), and is not needed at all when it is claimed */
            deferred[i] = true;
            kept[i] = ms;
            continue;
        }
        detect_indexed(set, &ms, &det[i]);
        if (det[i].mapping && det[i].complete) {
            ps_document *doc = ps_map_extract_indexed(det[i].mapping, &ms, file, set->year);
            ps_map_sheet_release(&ms);
            if (!doc) {
                st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
                break;
            }
            found[n++] = (found_doc){i, doc};
            continue;
        }
        ps_map_sheet_release(&ms);
        if (det[i].mapping && (!best || det[i].score > best->score)) {
            best = &det[i];
        }
    }
    const multi_match *best_multi = NULL;
    if (!st && !multi_assign(&multi, claimed))
        st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
    if (!st) {
        for (size_t k = 0; k < multi.n && !st; k++) {
            const multi_match *mm = &multi.mm[k];
            if (!mm->complete) {
                if (mm->nfound && (!best_multi || multi_score(mm) > multi_score(best_multi)))
                    best_multi = mm;
                continue;
            }
            size_t first;
            ps_document *doc = multi_extract(mm, kept, file, set->year, &first);
            if (!doc)
                st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
            else
                found[n++] = (found_doc){first, doc};
        }
    }
    for (size_t i = 0; i < nd && !st; i++) {
        if (!deferred[i] || claimed[i])
            continue;
        detect_indexed(set, &kept[i], &det[i]);
        ps_document *doc = det[i].mapping && det[i].complete
                               ? ps_map_extract_indexed(det[i].mapping, &kept[i], file, set->year)
                               : NULL;
        if (det[i].mapping && det[i].complete && !doc)
            st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
        else if (doc)
            found[n++] = (found_doc){i, doc};
        else if (det[i].mapping && (!best || det[i].score > best->score))
            best = &det[i];
    }
    qsort(found, n, sizeof *found, cmp_found);
    if (!st && n == 0 && best_multi && (!best || multi_score(best_multi) >= best->score)) {
        const char *title = ps_mapping_title(best_multi->m);
        st = ps_error_set(err, PS_ERR_NO_TEMPLATE, file,
                          "工作簿与模板 %s%s%s%s 不完全匹配（找到 %zu/%zu 张表），缺少：%s",
                          best_multi->m->id, *title ? "（" : "", title, *title ? "）" : "",
                          best_multi->nrequired_found, best_multi->nrequired, best_multi->missing);
    }
    if (!st && n == 0) {
        if (best) {
            const ps_sheet *sh = ps_workbook_sheet(wb, best->sheet);
            const char *title = ps_mapping_title(best->mapping);
            if (best->score < 0.5) /* not this template at all: say so, the closest as a hint */
                st = ps_error_at_cell(
                    err, PS_ERR_NO_TEMPLATE, file, ps_sheet_name(sh), NULL,
                    "文件中没有可识别的模板（已知模板：%s）；最接近的是工作表「%s」与 %s，匹配度仅 %.0f%%",
                    known_templates(set), ps_sheet_name(sh), best->mapping->id, best->score * 100);
            else if (best->score >= 1.0) /* every anchor found, by more than one mapping */
                st = ps_error_at_cell(err, PS_ERR_NO_TEMPLATE, file, ps_sheet_name(sh), NULL,
                                      "工作表「%s」%s", ps_sheet_name(sh), best->missing);
            else
                st = ps_error_at_cell(err, PS_ERR_NO_TEMPLATE, file, ps_sheet_name(sh), NULL,
                                      "工作表「%s」与模板 %s%s%s%s 不完全匹配（匹配度 %.0f%%），缺少：%s",
                                      ps_sheet_name(sh), best->mapping->id, *title ? "（" : "", title,
                                      *title ? "）" : "", best->score * 100, best->missing);
        } else {
            st = ps_error_set(err, PS_ERR_NO_TEMPLATE, file,
                              "没有工作表与任何模板匹配（未找到模板的标题和标签）");
        }
    }
    for (size_t i = 0; i < nd; i++)
        if (deferred[i])
            ps_map_sheet_release(&kept[i]);
    free(kept);
    free(det);
    free(claimed);
    free(deferred);
    multi_free(&multi);
    ps_document **out = st ? NULL : calloc(n ? n : 1, sizeof *out);
    if (!st && !out)
        st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
    if (st) {
        for (size_t i = 0; i < n; i++)
            ps_document_free(found[i].doc);
        free(found);
        return st;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = found[i].doc;
    free(found);
    *docs = out;
    *ndocs = n;
    return PS_OK;
}
