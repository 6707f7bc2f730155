/* finding.c - lists of findings; see finding.h. */
#include "perfsheet/finding.h"
#include "perfsheet/workbook.h"

#include "arena.h"

#include <stdlib.h>
#include <string.h>

struct ps_findings {
    ps_finding *items;
    size_t n, cap;
    ps_arena arena;
};

ps_findings *ps_findings_new(void)
{
    return calloc(1, sizeof(ps_findings));
}

void ps_findings_free(ps_findings *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i].cells);
    free(list->items);
    ps_arena_release(&list->arena);
    free(list);
}

ps_finding *ps_findings_add(ps_findings *list, const char *rule, ps_severity severity, const char *file,
                            const char *sheet, const char *cell, const char *message)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        ps_finding *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return NULL;
        list->items = items;
        list->cap = cap;
    }
    ps_finding *f = &list->items[list->n];
    memset(f, 0, sizeof *f);
    f->rule = ps_arena_strdup(&list->arena, rule);
    f->severity = severity;
    f->file = ps_arena_strdup(&list->arena, file);
    f->sheet = ps_arena_strdup(&list->arena, sheet);
    f->cell = ps_arena_strdup(&list->arena, cell);
    f->message = ps_arena_strdup(&list->arena, message ? message : "");
    if (!f->rule || !f->message)
        return NULL;
    f->owner_ = list;
    list->n++;
    if (cell && !ps_finding_add_cell(f, cell))
        return NULL;
    return f;
}

/* Strings added to a finding after ps_findings_add go to the arena of the list that made it. */
static ps_findings *list_of(ps_finding *f)
{
    return f->owner_;
}

bool ps_finding_add_cell(ps_finding *f, const char *cell)
{
    ps_findings *l = list_of(f);
    if (!l || !cell)
        return false;
    for (size_t i = 0; i < f->ncells; i++)
        if (strcmp(f->cells[i], cell) == 0)
            return true;
    char **cells = realloc(f->cells, (f->ncells + 1) * sizeof *cells);
    if (!cells)
        return false;
    f->cells = cells;
    if (!(f->cells[f->ncells] = ps_arena_strdup(&l->arena, cell)))
        return false;
    f->ncells++;
    return true;
}

void ps_finding_set_expected_number(ps_finding *f, double v)
{
    f->expected = (ps_scalar){PS_SCALAR_NUMBER, v, NULL};
}
void ps_finding_set_actual_number(ps_finding *f, double v)
{
    f->actual = (ps_scalar){PS_SCALAR_NUMBER, v, NULL};
}

static bool set_text(ps_finding *f, ps_scalar *s, const char *text)
{
    ps_findings *l = list_of(f);
    char *copy = l ? ps_arena_strdup(&l->arena, text) : NULL;
    if (!copy)
        return false;
    *s = (ps_scalar){PS_SCALAR_TEXT, 0, copy};
    return true;
}

bool ps_finding_set_expected_text(ps_finding *f, const char *s)
{
    return set_text(f, &f->expected, s);
}
bool ps_finding_set_actual_text(ps_finding *f, const char *s)
{
    return set_text(f, &f->actual, s);
}

bool ps_finding_set_texts(ps_finding *f, const char *cell, const char *message)
{
    ps_findings *l = list_of(f);
    char *c = cell ? ps_arena_strdup(&l->arena, cell) : NULL;
    char *m = ps_arena_strdup(&l->arena, message ? message : "");
    if ((cell && !c) || !m)
        return false;
    f->cell = c;
    f->message = m;
    return true;
}

bool ps_findings_append(ps_findings *dst, const ps_findings *src)
{
    for (size_t i = 0; i < src->n; i++) {
        const ps_finding *s = &src->items[i];
        ps_finding *f = ps_findings_add(dst, s->rule, s->severity, s->file, s->sheet, NULL, s->message);
        if (!f)
            return false;
        for (size_t c = 0; c < s->ncells; c++)
            if (!ps_finding_add_cell(f, s->cells[c]))
                return false;
        f->cell = s->cell ? ps_arena_strdup(&dst->arena, s->cell) : NULL;
        f->expected = s->expected;
        f->actual = s->actual;
        if (s->expected.kind == PS_SCALAR_TEXT && !set_text(f, &f->expected, s->expected.text))
            return false;
        if (s->actual.kind == PS_SCALAR_TEXT && !set_text(f, &f->actual, s->actual.text))
            return false;
    }
    return true;
}

size_t ps_findings_count(const ps_findings *list)
{
    return list ? list->n : 0;
}
const ps_finding *ps_findings_at(const ps_findings *list, size_t i)
{
    return i < list->n ? &list->items[i] : NULL;
}

size_t ps_findings_count_severity(const ps_findings *list, ps_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; list && i < list->n; i++)
        n += list->items[i].severity == sev;
    return n;
}

static int cmp_str(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_finding(const void *pa, const void *pb)
{
    const ps_finding *a = pa, *b = pb;
    int c;
    if ((c = cmp_str(a->file, b->file)) || (c = cmp_str(a->sheet, b->sheet)))
        return c;
    uint32_t ar = UINT32_MAX, ac = UINT32_MAX, br = UINT32_MAX, bc = UINT32_MAX;
    if (a->cell)
        ps_cell_ref_parse(a->cell, &ar, &ac);
    if (b->cell)
        ps_cell_ref_parse(b->cell, &br, &bc);
    if (ar != br)
        return ar < br ? -1 : 1;
    if (ac != bc)
        return ac < bc ? -1 : 1;
    if ((c = cmp_str(a->rule, b->rule)))
        return c;
    return cmp_str(a->message, b->message);
}

void ps_findings_sort(ps_findings *list)
{
    if (list && list->n > 1)
        qsort(list->items, list->n, sizeof *list->items, cmp_finding);
}

const char *ps_severity_name(ps_severity sev)
{
    switch (sev) {
    case PS_SEV_INFO: return "info";
    case PS_SEV_WARNING: return "warning";
    case PS_SEV_ERROR: return "error";
    }
    return "error";
}
