/* workbook.c - the in-memory workbook every reader fills: sheets, sorted cells, merges, and a
 * string arena so that a workbook is freed in a handful of calls. */
#include "workbook_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct arena_block {
    struct arena_block *next;
    size_t used, size;
    char data[];
} arena_block;

struct ps_sheet {
    char *name;
    size_t index;
    ps_cell *cells;
    size_t ncells, cap;
    size_t *seq; /* insertion order while building, so that the last put wins */
    bool sorted;
    ps_range *merges;
    size_t nmerges, merge_cap;
    uint32_t rows, cols;
};

struct ps_workbook {
    ps_file_format format;
    int codepage;
    ps_sheet **sheets;
    size_t nsheets, sheet_cap;
    arena_block *arena;
};

ps_workbook *ps_workbook_new(ps_file_format format)
{
    ps_workbook *wb = calloc(1, sizeof *wb);
    if (wb)
        wb->format = format;
    return wb;
}

void ps_workbook_free(ps_workbook *wb)
{
    if (!wb)
        return;
    for (size_t i = 0; i < wb->nsheets; i++) {
        ps_sheet *sh = wb->sheets[i];
        free(sh->name);
        free(sh->cells);
        free(sh->seq);
        free(sh->merges);
        free(sh);
    }
    free(wb->sheets);
    for (arena_block *b = wb->arena, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(wb);
}

void ps_workbook_set_codepage(ps_workbook *wb, int codepage)
{
    wb->codepage = codepage;
}

const char *ps_workbook_strndup(ps_workbook *wb, const char *s, size_t n)
{
    arena_block *b = wb->arena;
    if (!b || b->size - b->used < n + 1) {
        size_t size = n + 1 > 16384 ? n + 1 : 16384;
        arena_block *nb = malloc(sizeof *nb + size);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->size = size;
        if (b && n + 1 > 16384) { /* big string: keep the current block as the head */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            wb->arena = nb;
        }
        b = nb;
    }
    char *p = b->data + b->used;
    memcpy(p, s, n);
    p[n] = '\0';
    b->used += n + 1;
    return p;
}

ps_sheet *ps_workbook_add_sheet(ps_workbook *wb, const char *name)
{
    if (wb->nsheets == wb->sheet_cap) {
        size_t cap = wb->sheet_cap ? wb->sheet_cap * 2 : 4;
        ps_sheet **s = realloc(wb->sheets, cap * sizeof *s);
        if (!s)
            return NULL;
        wb->sheets = s;
        wb->sheet_cap = cap;
    }
    ps_sheet *sh = calloc(1, sizeof *sh);
    if (!sh || !(sh->name = strdup(name ? name : ""))) {
        free(sh);
        return NULL;
    }
    sh->index = wb->nsheets;
    sh->sorted = true;
    wb->sheets[wb->nsheets++] = sh;
    return sh;
}

ps_sheet *ps_workbook_sheet_mut(ps_workbook *wb, size_t index)
{
    return index < wb->nsheets ? wb->sheets[index] : NULL;
}

bool ps_sheet_put(ps_sheet *sh, const ps_cell *cell)
{
    if (sh->ncells == sh->cap) {
        size_t cap = sh->cap ? sh->cap * 2 : 64;
        ps_cell *c = realloc(sh->cells, cap * sizeof *c);
        if (!c)
            return false;
        sh->cells = c;
        size_t *q = realloc(sh->seq, cap * sizeof *q);
        if (!q)
            return false;
        sh->seq = q;
        sh->cap = cap;
    }
    if (sh->ncells > 0) {
        const ps_cell *last = &sh->cells[sh->ncells - 1];
        if (cell->row < last->row || (cell->row == last->row && cell->col <= last->col))
            sh->sorted = false;
    }
    sh->seq[sh->ncells] = sh->ncells;
    sh->cells[sh->ncells++] = *cell;
    return true;
}

size_t ps_sheet_pending_count(const ps_sheet *sh)
{
    return sh->ncells;
}

bool ps_sheet_add_merge(ps_sheet *sh, ps_range range)
{
    if (range.last_row < range.first_row || range.last_col < range.first_col)
        return true; /* ignore inverted ranges */
    if (sh->nmerges == sh->merge_cap) {
        size_t cap = sh->merge_cap ? sh->merge_cap * 2 : 16;
        ps_range *m = realloc(sh->merges, cap * sizeof *m);
        if (!m)
            return false;
        sh->merges = m;
        sh->merge_cap = cap;
    }
    sh->merges[sh->nmerges++] = range;
    return true;
}

/* Sort key: position, then insertion order so the last put of an address comes last. */
typedef struct {
    ps_cell cell;
    size_t seq;
} keyed_cell;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed_cell *x = a, *y = b;
    if (x->cell.row != y->cell.row)
        return x->cell.row < y->cell.row ? -1 : 1;
    if (x->cell.col != y->cell.col)
        return x->cell.col < y->cell.col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void sheet_sort(ps_sheet *sh)
{
    if (sh->sorted)
        return;
    keyed_cell *k = malloc(sh->ncells * sizeof *k);
    if (k) {
        for (size_t i = 0; i < sh->ncells; i++) {
            k[i].cell = sh->cells[i];
            k[i].seq = sh->seq[i];
        }
        qsort(k, sh->ncells, sizeof *k, cmp_keyed);
        size_t n = 0;
        for (size_t i = 0; i < sh->ncells; i++) {
            if (n > 0 && sh->cells[n - 1].row == k[i].cell.row && sh->cells[n - 1].col == k[i].cell.col)
                n--; /* a later put of the same address wins */
            sh->cells[n] = k[i].cell;
            sh->seq[n] = n;
            n++;
        }
        sh->ncells = n;
        free(k);
        sh->sorted = true;
    }
}

static int cmp_range(const void *a, const void *b)
{
    const ps_range *x = a, *y = b;
    if (x->first_row != y->first_row)
        return x->first_row < y->first_row ? -1 : 1;
    return x->first_col < y->first_col ? -1 : x->first_col > y->first_col;
}

void ps_workbook_finish(ps_workbook *wb)
{
    for (size_t s = 0; s < wb->nsheets; s++) {
        ps_sheet *sh = wb->sheets[s];
        sheet_sort(sh);
        size_t n = 0;
        uint32_t rows = 0, cols = 0;
        for (size_t i = 0; i < sh->ncells; i++) {
            ps_cell *c = &sh->cells[i];
            if (c->type == PS_CELL_BLANK)
                continue;
            sh->cells[n++] = *c;
            if (c->row + 1 > rows)
                rows = c->row + 1;
            if (c->col + 1 > cols)
                cols = c->col + 1;
        }
        sh->ncells = n;
        if (sh->nmerges > 1) /* merges is NULL when there are none: qsort must not see it */
            qsort(sh->merges, sh->nmerges, sizeof *sh->merges, cmp_range);
        for (size_t i = 0; i < sh->nmerges; i++) {
            if (sh->merges[i].last_row + 1 > rows)
                rows = sh->merges[i].last_row + 1;
            if (sh->merges[i].last_col + 1 > cols)
                cols = sh->merges[i].last_col + 1;
        }
        sh->rows = rows;
        sh->cols = cols;
        free(sh->seq);
        sh->seq = NULL;
        sh->cap = sh->ncells;
    }
}

ps_file_format ps_workbook_format(const ps_workbook *wb)
{
    return wb->format;
}

const char *ps_workbook_format_name(ps_file_format f)
{
    switch (f) {
    case PS_FORMAT_XLS_BIFF8: return "xls-biff8";
    case PS_FORMAT_XLS_BIFF5: return "xls-biff5";
    case PS_FORMAT_XLSX: return "xlsx";
    default: return "unknown";
    }
}

int ps_workbook_codepage(const ps_workbook *wb)
{
    return wb->codepage;
}
size_t ps_workbook_sheet_count(const ps_workbook *wb)
{
    return wb->nsheets;
}
const ps_sheet *ps_workbook_sheet(const ps_workbook *wb, size_t i)
{
    return i < wb->nsheets ? wb->sheets[i] : NULL;
}

const char *ps_sheet_name(const ps_sheet *sh)
{
    return sh->name;
}
size_t ps_sheet_index(const ps_sheet *sh)
{
    return sh->index;
}
uint32_t ps_sheet_rows(const ps_sheet *sh)
{
    return sh->rows;
}
uint32_t ps_sheet_cols(const ps_sheet *sh)
{
    return sh->cols;
}
size_t ps_sheet_cell_count(const ps_sheet *sh)
{
    return sh->ncells;
}
const ps_cell *ps_sheet_cells(const ps_sheet *sh)
{
    return sh->cells;
}
size_t ps_sheet_merge_count(const ps_sheet *sh)
{
    return sh->nmerges;
}
const ps_range *ps_sheet_merges(const ps_sheet *sh)
{
    return sh->merges;
}

static ps_cell *find_cell(const ps_sheet *sh, uint32_t row, uint32_t col)
{
    size_t lo = 0, hi = sh->ncells;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ps_cell *c = &sh->cells[mid];
        if (c->row < row || (c->row == row && c->col < col))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < sh->ncells && sh->cells[lo].row == row && sh->cells[lo].col == col)
        return &sh->cells[lo];
    return NULL;
}

const ps_cell *ps_sheet_cell(const ps_sheet *sh, uint32_t row, uint32_t col)
{
    return find_cell(sh, row, col);
}

ps_cell *ps_sheet_cell_mut(ps_sheet *sh, uint32_t row, uint32_t col)
{
    sheet_sort(sh);
    return find_cell(sh, row, col);
}

const ps_range *ps_sheet_merge_at(const ps_sheet *sh, uint32_t row, uint32_t col)
{
    for (size_t i = 0; i < sh->nmerges; i++) {
        const ps_range *m = &sh->merges[i];
        if (m->first_row > row)
            break; /* sorted by first_row */
        if (row <= m->last_row && col >= m->first_col && col <= m->last_col)
            return m;
    }
    return NULL;
}

const ps_cell *ps_sheet_cell_shown(const ps_sheet *sh, uint32_t row, uint32_t col)
{
    const ps_range *m = ps_sheet_merge_at(sh, row, col);
    if (m)
        return find_cell(sh, m->first_row, m->first_col);
    return find_cell(sh, row, col);
}

char *ps_cell_ref(uint32_t row, uint32_t col, char *buf, size_t size)
{
    char letters[8];
    int n = 0;
    uint32_t c = col + 1;
    while (c > 0 && n < 7) {
        uint32_t rem = (c - 1) % 26;
        letters[n++] = (char)('A' + rem);
        c = (c - 1) / 26;
    }
    char rev[8];
    for (int i = 0; i < n; i++)
        rev[i] = letters[n - 1 - i];
    rev[n] = '\0';
    snprintf(buf, size, "%s%u", rev, row + 1);
    return buf;
}

bool ps_cell_ref_parse(const char *ref, uint32_t *row, uint32_t *col)
{
    const char *p = ref;
    if (*p == '$')
        p++;
    uint64_t c = 0;
    int letters = 0;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
        c = c * 26 + (uint64_t)((*p | 0x20) - 'a' + 1);
        if (++letters > 3)
            return false;
        p++;
    }
    if (!letters)
        return false;
    if (*p == '$')
        p++;
    uint64_t r = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        r = r * 10 + (uint64_t)(*p - '0');
        if (++digits > 7)
            return false;
        p++;
    }
    if (!digits || *p || r == 0 || c > 16384 || r > 1048576)
        return false;
    *row = (uint32_t)(r - 1);
    *col = (uint32_t)(c - 1);
    return true;
}
