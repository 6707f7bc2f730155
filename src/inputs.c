/* inputs.c - collecting the files of a batch; see inputs.h. */
#include "perfsheet/inputs.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int push(ps_inputs *in, const char *path)
{
    if (in->n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 64;
        char **f = realloc(in->files, cap * sizeof *f);
        if (!f)
            return -1;
        in->files = f;
        in->cap = cap;
    }
    if (!(in->files[in->n] = strdup(path)))
        return -1;
    in->n++;
    return 0;
}

static bool has_sheet_extension(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return false;
    return !strcasecmp(dot, ".xls") || !strcasecmp(dot, ".xlsx") || !strcasecmp(dot, ".xlsm") ||
           !strcasecmp(dot, ".et");
}

static bool looks_like_container(const char *path)
{
    unsigned char head[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    static const unsigned char ole2[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    if (n == 8 && memcmp(head, ole2, 8) == 0)
        return true;
    return n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0;
}

typedef struct visited {
    dev_t dev;
    ino_t ino;
} visited;

typedef struct walk {
    ps_inputs *in;
    visited *seen;
    size_t nseen, cap;
} walk;

/* A directory entry: its name and what readdir says it is (DT_UNKNOWN: ask stat). */
typedef struct entry {
    char *name;
    unsigned char type;
} entry;

static int cmp_entries(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static int walk_dir(walk *w, const char *dir, int depth)
{
    struct stat st;
    if (depth > 64 || stat(dir, &st) != 0)
        return 0;
    for (size_t i = 0; i < w->nseen; i++)
        if (w->seen[i].dev == st.st_dev && w->seen[i].ino == st.st_ino)
            return 0; /* already walked: a symlink loop or a second link */
    if (w->nseen == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        visited *v = realloc(w->seen, cap * sizeof *v);
        if (!v)
            return -1;
        w->seen = v;
        w->cap = cap;
    }
    w->seen[w->nseen++] = (visited){st.st_dev, st.st_ino};

    DIR *d = opendir(dir);
    if (!d)
        return push(w->in, dir); /* reported as unreadable later */
    entry *names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            entry *nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        if (!(names[n].name = strdup(e->d_name))) {
            rc = -1;
            break;
        }
        names[n++].type = e->d_type;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_entries);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name = names[i].name;
        size_t len = strlen(dir) + strlen(name) + 2;
        char *path = malloc(len);
        if (!path) {
            rc = -1;
            break;
        }
        snprintf(path, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
        /* a regular file or a directory as readdir says: no stat (links and the unknown: stat) */
        bool is_dir = names[i].type == DT_DIR, is_file = names[i].type == DT_REG;
        if (!is_dir && !is_file) {
            if (stat(path, &st) != 0) {
                free(path);
                continue; /* a dangling link */
            }
            is_dir = S_ISDIR(st.st_mode);
            is_file = S_ISREG(st.st_mode);
        }
        if (is_dir) {
            if (name[0] == '.')
                w->in->skipped_hidden++;
            else
                rc = walk_dir(w, path, depth + 1);
        } else if (is_file) {
            if (!strncmp(name, "~$", 2))
                w->in->skipped_lock++;
            else if (name[0] == '.')
                w->in->skipped_hidden++;
            else if (has_sheet_extension(name) || looks_like_container(path))
                rc = push(w->in, path);
            else
                w->in->skipped_other++;
        }
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i].name);
    free(names);
    return rc;
}

int ps_inputs_add(ps_inputs *in, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        walk w = {in, NULL, 0, 0};
        int rc = walk_dir(&w, path, 0);
        free(w.seen);
        return rc;
    }
    return push(in, path);
}

void ps_inputs_free(ps_inputs *in)
{
    for (size_t i = 0; i < in->n; i++)
        free(in->files[i]);
    free(in->files);
    memset(in, 0, sizeof *in);
}
