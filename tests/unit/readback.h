/* readback.h - reads a written .xlsx back through openpyxl (tests/cli/readback.py) for the
 * writer and merge tests: every non-empty cell with its kind, cached value, formula, fill,
 * number format and comment. Header-only; include after cmocka.h. */
#ifndef PS_TEST_READBACK_H
#define PS_TEST_READBACK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rb_cell {
    char ref[160]; /* "Sheet!B5" */
    char kind[4];  /* n s d b f */
    char *value, *formula, *fill, *numfmt, *comment;
} rb_cell;

typedef struct readback {
    rb_cell *cells;
    size_t n;
    char **freeze; /* "#freeze <sheet> <cell>" lines */
    size_t nfreeze;
} readback;

/* The first python with openpyxl: $PS_PYTHON, python3 on PATH, the system's python3 (a
 * version manager's python3 on PATH may lack the Debian package). NULL when none. */
static inline const char *readback_python(void)
{
    static const char *found;
    static bool tried;
    if (!tried) {
        tried = true;
        const char *cands[] = {getenv("PS_PYTHON"), "python3", "/usr/bin/python3"};
        for (size_t i = 0; i < 3 && !found; i++) {
            char cmd[512];
            if (!cands[i] || !*cands[i] || strchr(cands[i], '\''))
                continue;
            snprintf(cmd, sizeof cmd, "'%s' -c 'import openpyxl' >/dev/null 2>&1", cands[i]);
            if (system(cmd) == 0)
                found = cands[i];
        }
        if (!found)
            fprintf(stderr, "SKIP: no python3 with openpyxl (install python3-openpyxl or set PS_PYTHON)\n");
    }
    return found;
}

static inline bool readback_available(void)
{
    return readback_python() != NULL;
}

static inline char *rb_unescape(const char *s, size_t n)
{
    char *o = malloc(n + 1), *p = o;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[++i];
            *p++ = c == 't' ? '\t' : c == 'n' ? '\n' : c;
        } else {
            *p++ = s[i];
        }
    }
    *p = '\0';
    return o;
}

static inline bool readback_load(readback *rb, const char *path)
{
    memset(rb, 0, sizeof *rb);
    char cmd[1024];
    if (!readback_python())
        return false;
    snprintf(cmd, sizeof cmd, "'%s' tests/cli/readback.py '%s'", readback_python(), path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    size_t cap = 0, lcap = 0;
    char *line = NULL;
    ssize_t len;
    while ((len = getline(&line, &lcap, p)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (line[0] == '#') {
            if (strncmp(line, "#freeze ", 8) == 0) {
                rb->freeze = realloc(rb->freeze, (rb->nfreeze + 1) * sizeof *rb->freeze);
                rb->freeze[rb->nfreeze++] = strdup(line + 8);
            }
            continue;
        }
        if (rb->n == cap) {
            cap = cap ? cap * 2 : 256;
            rb->cells = realloc(rb->cells, cap * sizeof *rb->cells);
        }
        rb_cell *c = &rb->cells[rb->n++];
        memset(c, 0, sizeof *c);
        char *fields[7] = {0};
        size_t nf = 0;
        char *s = line;
        while (nf < 7) {
            char *tab = strchr(s, '\t');
            fields[nf++] = s;
            if (!tab)
                break;
            *tab = '\0';
            s = tab + 1;
        }
        for (size_t i = nf; i < 7; i++)
            fields[i] = "";
        snprintf(c->ref, sizeof c->ref, "%s", fields[0]);
        snprintf(c->kind, sizeof c->kind, "%s", fields[1]);
        c->value = rb_unescape(fields[2], strlen(fields[2]));
        c->formula = rb_unescape(fields[3], strlen(fields[3]));
        c->fill = rb_unescape(fields[4], strlen(fields[4]));
        c->numfmt = rb_unescape(fields[5], strlen(fields[5]));
        c->comment = rb_unescape(fields[6], strlen(fields[6]));
    }
    free(line);
    return pclose(p) == 0 && rb->n > 0;
}

static inline void readback_free(readback *rb)
{
    for (size_t i = 0; i < rb->n; i++) {
        free(rb->cells[i].value);
        free(rb->cells[i].formula);
        free(rb->cells[i].fill);
        free(rb->cells[i].numfmt);
        free(rb->cells[i].comment);
    }
    free(rb->cells);
    for (size_t i = 0; i < rb->nfreeze; i++)
        free(rb->freeze[i]);
    free(rb->freeze);
    memset(rb, 0, sizeof *rb);
}

static inline const rb_cell *readback_get(const readback *rb, const char *ref)
{
    for (size_t i = 0; i < rb->n; i++)
        if (strcmp(rb->cells[i].ref, ref) == 0)
            return &rb->cells[i];
    return NULL;
}

static inline bool rb_in_sheet(const rb_cell *c, const char *sheet)
{
    size_t n = strlen(sheet);
    return strncmp(c->ref, sheet, n) == 0 && c->ref[n] == '!';
}

/* The first text cell of sheet whose value is text. */
static inline const rb_cell *readback_find_text(const readback *rb, const char *sheet, const char *text)
{
    for (size_t i = 0; i < rb->n; i++)
        if (rb_in_sheet(&rb->cells[i], sheet) && strcmp(rb->cells[i].kind, "s") == 0 &&
            strcmp(rb->cells[i].value, text) == 0)
            return &rb->cells[i];
    return NULL;
}

/* The cell k columns right of c ("Sheet!B5" → "Sheet!C5" for k = 1). */
static inline const rb_cell *readback_offset(const readback *rb, const rb_cell *c, int k)
{
    if (!c)
        return NULL;
    const char *bang = strrchr(c->ref, '!');
    const char *p = bang + 1;
    int col = 0;
    while (*p >= 'A' && *p <= 'Z')
        col = col * 26 + (*p++ - 'A' + 1);
    col += k;
    char letters[8], ref[200];
    int n = 0;
    char rev[8];
    while (col > 0 && n < 7) {
        rev[n++] = (char)('A' + (col - 1) % 26);
        col = (col - 1) / 26;
    }
    for (int i = 0; i < n; i++)
        letters[i] = rev[n - 1 - i];
    letters[n] = '\0';
    snprintf(ref, sizeof ref, "%.*s!%s%s", (int)(bang - c->ref), c->ref, letters, p);
    return readback_get(rb, ref);
}

static inline const rb_cell *readback_right_of(const readback *rb, const char *sheet, const char *label)
{
    return readback_offset(rb, readback_find_text(rb, sheet, label), 1);
}

static inline size_t readback_count_prefix(const readback *rb, const char *prefix)
{
    size_t k = 0, n = strlen(prefix);
    for (size_t i = 0; i < rb->n; i++)
        if (strncmp(rb->cells[i].ref, prefix, n) == 0)
            k++;
    return k;
}

#endif
