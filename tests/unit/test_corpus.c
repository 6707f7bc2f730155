/* test_corpus.c - ps_reader_open over real-world spreadsheets that other programs wrote: each
 * file opens or gets one of the documented codes (io, corrupt, encrypted, not_a_spreadsheet,
 * unsupported), and none crashes, hangs (10 s), or writes to stderr. Each file is read in a
 * child process so that a crash names its file. Label: corpus.
 *
 *   test_corpus           the committed corpus tests/data/corpus/{xls,xlsx,odd}: every file is
 *                         listed in its SOURCES.tsv (origin, licence) with the code it must get.
 *   test_corpus --shared  the larger $PS_SHARED/corpus/realworld (../shared/corpus/realworld);
 *                         exits 77 (ctest: skipped) when it is not there, as in a fresh clone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "perfsheet/reader.h"

enum { LIMIT_SECONDS = 10, EXIT_SKIPPED = 77 };

static const char *const SUBDIRS[] = {"xls", "xlsx", "odd"};
static const char COMMITTED[] = "tests/data/corpus";

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names of dir, sorted; caller frees each and the array. */
static size_t list_dir(const char *dir, char ***out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0, cap = 0;
    char **v = NULL;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            v = realloc(v, cap * sizeof *v);
            assert_non_null(v);
        }
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    return n;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* What reading one file did. */
typedef struct {
    int code;   /* the ps_status the child exited with, -1 when it was killed */
    int signal; /* the signal that killed it (SIGALRM: over LIMIT_SECONDS) */
    long noise; /* bytes it wrote to stderr */
    double secs;
} read_outcome;

/* Reads path with ps_reader_open in a child process whose stderr goes to errfd. */
static read_outcome read_one(const char *path, int errfd)
{
    read_outcome r = {.code = -1};
    if (ftruncate(errfd, 0) != 0 || lseek(errfd, 0, SEEK_SET) != 0)
        fail_msg("cannot reset the stderr log");
    double t0 = now();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(errfd, 2);
        alarm(LIMIT_SECONDS);
        ps_workbook *wb = NULL;
        ps_error err;
        ps_status code = ps_reader_open(path, NULL, &wb, &err);
        ps_workbook_free(wb);
        _exit((int)code);
    }
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0)
        ;
    r.secs = now() - t0;
    r.noise = (long)lseek(errfd, 0, SEEK_END);
    if (WIFSIGNALED(wstatus))
        r.signal = WTERMSIG(wstatus);
    else
        r.code = WEXITSTATUS(wstatus);
    return r;
}

static const char *code_name(int code)
{
    if (code < 0)
        return "killed";
    return code <= PS_ERR_NOMEM ? ps_error_code_name((ps_status)code) : "exit";
}

static bool documented_code(int code)
{
    return code == PS_OK || code == PS_ERR_IO || code == PS_ERR_CORRUPT || code == PS_ERR_ENCRYPTED ||
           code == PS_ERR_NOT_A_SPREADSHEET || code == PS_ERR_UNSUPPORTED;
}

/* Tallies of one corpus run. */
typedef struct {
    size_t counts[PS_ERR_NOMEM + 1];
    size_t total, crashed, hung, noisy, odd_code;
    double slowest;
    char slowest_file[256];
} tally;

/* Adds r (of file rel) to t, printing what is wrong with it. */
static void count(tally *t, const char *rel, read_outcome r)
{
    t->total++;
    if (r.secs > t->slowest) {
        t->slowest = r.secs;
        snprintf(t->slowest_file, sizeof t->slowest_file, "%s", rel);
    }
    if (r.noise > 0) {
        t->noisy++;
        print_message("STDERR %s: %ld bytes\n", rel, r.noise);
    }
    if (r.code < 0) {
        if (r.signal == SIGALRM) {
            t->hung++;
            print_message("HANG %s (over %d s)\n", rel, LIMIT_SECONDS);
        } else {
            t->crashed++;
            print_message("CRASH %s: signal %d\n", rel, r.signal);
        }
    } else if (documented_code(r.code)) {
        t->counts[r.code]++;
    } else {
        t->odd_code++;
        print_message("CODE %s: %s\n", rel, code_name(r.code));
    }
}

static void report(const char *what, const tally *t, double secs)
{
    print_message("%s: %zu files read in %.2f s\n", what, t->total, secs);
    for (int c = 0; c <= PS_ERR_NOMEM; c++)
        if (t->counts[c])
            print_message("  %-18s %zu\n", ps_error_code_name((ps_status)c), t->counts[c]);
    print_message("  crashed %zu, hung %zu, wrote to stderr %zu, other codes %zu\n", t->crashed, t->hung,
                  t->noisy, t->odd_code);
    print_message("  slowest: %s, %.3f s\n", t->slowest_file, t->slowest);
}

static int open_errlog(char *name)
{
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    return fd;
}

/* Splits line (tab-separated, trailing newline removed) into at most max fields; the count. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
    line[strcspn(line, "\r\n")] = '\0';
    size_t n = 0;
    for (char *p = line; n < max;) {
        fields[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

enum { COL_FILE, COL_REPO, COL_PATH, COL_LICENSE, COL_KIND, COL_EXPECTED, NCOLS };

/* The committed corpus: every file of SOURCES.tsv gets the code of its `expected` column, and
 * every file under xls/, xlsx/, odd/ is listed there (nothing enters without origin and licence). */
static void test_committed_corpus(void **state)
{
    (void)state;
    char sources[256];
    snprintf(sources, sizeof sources, "%s/SOURCES.tsv", COMMITTED);
    FILE *f = fopen(sources, "r");
    if (!f)
        fail_msg("cannot open %s", sources);
    char errlog[] = "/tmp/ps_corpus_stderr_XXXXXX";
    int errfd = open_errlog(errlog);

    tally t = {0};
    size_t listed = 0, mismatched = 0, unlicensed = 0;
    char **files = NULL;
    size_t nfiles = 0, cap = 0;
    double t0 = now();
    char line[2048];
    for (int lineno = 1; fgets(line, sizeof line, f); lineno++) {
        char *col[NCOLS];
        size_t n = split_tabs(line, col, NCOLS);
        if (lineno == 1) {
            assert_int_equal(n, NCOLS);
            assert_string_equal(col[COL_FILE], "file");
            assert_string_equal(col[COL_EXPECTED], "expected");
            continue;
        }
        if (n != NCOLS)
            fail_msg("%s:%d: %zu columns, want %d", sources, lineno, n, NCOLS);
        if (!*col[COL_REPO] || !*col[COL_LICENSE]) {
            unlicensed++;
            print_message("NO ORIGIN/LICENCE %s:%d\n", sources, lineno);
        }
        listed++;
        if (nfiles == cap) {
            cap = cap ? cap * 2 : 256;
            files = realloc(files, cap * sizeof *files);
            assert_non_null(files);
        }
        files[nfiles++] = strdup(col[COL_FILE]);

        char path[1024];
        snprintf(path, sizeof path, "%s/%s", COMMITTED, col[COL_FILE]);
        read_outcome r = read_one(path, errfd);
        count(&t, col[COL_FILE], r);
        if (strcmp(code_name(r.code), col[COL_EXPECTED]) != 0) {
            mismatched++;
            print_message("MISMATCH %s: %s, SOURCES.tsv expects %s\n", col[COL_FILE], code_name(r.code),
                          col[COL_EXPECTED]);
        }
    }
    fclose(f);
    double secs = now() - t0;
    close(errfd);
    unlink(errlog);

    /* every committed file has its line */
    size_t unlisted = 0, present = 0;
    if (nfiles)
        qsort(files, nfiles, sizeof *files, cmp_str);
    for (size_t s = 0; s < sizeof SUBDIRS / sizeof SUBDIRS[0]; s++) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s/%s", COMMITTED, SUBDIRS[s]);
        char **names = NULL;
        size_t n = list_dir(dir, &names);
        for (size_t i = 0; i < n; i++) {
            char rel[600];
            snprintf(rel, sizeof rel, "%s/%s", SUBDIRS[s], names[i]);
            const char *key = rel;
            present++;
            if (!nfiles || !bsearch(&key, files, nfiles, sizeof *files, cmp_str)) {
                unlisted++;
                print_message("NOT IN SOURCES.tsv: %s\n", rel);
            }
            free(names[i]);
        }
        free(names);
    }
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);

    report("committed corpus (tests/data/corpus)", &t, secs);
    assert_int_equal(t.crashed, 0);
    assert_int_equal(t.hung, 0);
    assert_int_equal(t.noisy, 0);
    assert_int_equal(t.odd_code, 0);
    assert_int_equal(mismatched, 0);
    assert_int_equal(unlisted, 0);
    assert_int_equal(unlicensed, 0);
    assert_int_equal(present, listed);
    assert_true(listed >= 150);
}

static char shared_root[512];

/* The larger shared corpus, when present (main skips otherwise). */
static void test_shared_corpus(void **state)
{
    (void)state;
    char errlog[] = "/tmp/ps_corpus_stderr_XXXXXX";
    int errfd = open_errlog(errlog);
    tally t = {0};
    double t0 = now();
    for (size_t s = 0; s < sizeof SUBDIRS / sizeof SUBDIRS[0]; s++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/%s", shared_root, SUBDIRS[s]);
        char **names = NULL;
        size_t n = list_dir(dir, &names);
        for (size_t i = 0; i < n; i++) {
            char path[1024], rel[300];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            snprintf(rel, sizeof rel, "%s/%s", SUBDIRS[s], names[i]);
            count(&t, rel, read_one(path, errfd));
            free(names[i]);
        }
        free(names);
    }
    double secs = now() - t0;
    close(errfd);
    unlink(errlog);

    report(shared_root, &t, secs);
    assert_int_equal(t.crashed, 0);
    assert_int_equal(t.hung, 0);
    assert_int_equal(t.noisy, 0);
    assert_int_equal(t.odd_code, 0);
    assert_true(t.total >= 400);
    /* most of the corpus is good .xls/.xlsx: a reader that refuses them is broken */
    assert_true(t.counts[PS_OK] >= 280);
    assert_true(t.counts[PS_ERR_ENCRYPTED] >= 25);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--shared") == 0) {
        const char *shared = getenv("PS_SHARED");
        snprintf(shared_root, sizeof shared_root, "%s/corpus/realworld",
                 shared && *shared ? shared : "../shared");
        struct stat st;
        if (stat(shared_root, &st) != 0 || !S_ISDIR(st.st_mode)) {
            printf("SKIPPED: no shared corpus at %s (a clone has none; CI and the team's machines do)\n",
                   shared_root);
            return EXIT_SKIPPED;
        }
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_shared_corpus)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_committed_corpus)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
