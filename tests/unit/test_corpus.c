/* test_corpus.c - ps_reader_open over every file of $PS_SHARED/corpus/realworld (xls, xlsx, odd):
 * each file opens or gets one of the documented codes (io, corrupt, encrypted,
 * not_a_spreadsheet, unsupported), and none crashes, hangs (10 s), or writes to stderr.
 * Each file is read in a child process so that a crash names its file. Label: corpus. */
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

enum { LIMIT_SECONDS = 10 };

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names of dir, sorted; caller frees each and the array. */
static size_t list_dir(const char *dir, char ***out)
{
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
    qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    return n;
}

static void test_corpus(void **state)
{
    const char *shared = getenv("PS_SHARED");
    char root[512];
    snprintf(root, sizeof root, "%s/corpus/realworld", shared ? shared : "../shared");
    struct stat st;
    if (stat(root, &st) != 0) {
        print_message("no corpus at %s: skipped\n", root);
        skip();
    }
    char errlog[] = "/tmp/ps_corpus_stderr_XXXXXX";
    int errfd = mkstemp(errlog);
    assert_true(errfd >= 0);

    static const char *subdirs[] = {"xls", "xlsx", "odd"};
    size_t counts[PS_ERR_NOMEM + 1] = {0};
    size_t total = 0, crashed = 0, hung = 0, noisy = 0, odd_code = 0;
    double slowest = 0;
    char slowest_file[256] = "";
    for (size_t s = 0; s < 3; s++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/%s", root, subdirs[s]);
        char **names = NULL;
        size_t n = list_dir(dir, &names);
        for (size_t i = 0; i < n; i++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            if (ftruncate(errfd, 0) != 0 || lseek(errfd, 0, SEEK_SET) != 0)
                fail_msg("cannot reset %s", errlog);
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
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
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
            if (secs > slowest) {
                slowest = secs;
                snprintf(slowest_file, sizeof slowest_file, "%s/%s", subdirs[s], names[i]);
            }
            total++;
            off_t noise = lseek(errfd, 0, SEEK_END);
            if (noise > 0) {
                noisy++;
                print_message("STDERR %s/%s: %lld bytes\n", subdirs[s], names[i], (long long)noise);
            }
            if (WIFSIGNALED(wstatus)) {
                if (WTERMSIG(wstatus) == SIGALRM) {
                    hung++;
                    print_message("HANG %s/%s (over %d s)\n", subdirs[s], names[i], LIMIT_SECONDS);
                } else {
                    crashed++;
                    print_message("CRASH %s/%s: signal %d\n", subdirs[s], names[i], WTERMSIG(wstatus));
                }
                free(names[i]);
                continue;
            }
            int code = WEXITSTATUS(wstatus);
            if (code == PS_OK || code == PS_ERR_IO || code == PS_ERR_CORRUPT || code == PS_ERR_ENCRYPTED ||
                code == PS_ERR_NOT_A_SPREADSHEET || code == PS_ERR_UNSUPPORTED) {
                counts[code]++;
            } else {
                odd_code++;
                print_message("CODE %s/%s: %s\n", subdirs[s], names[i],
                              code <= PS_ERR_NOMEM ? ps_error_code_name((ps_status)code) : "exit");
            }
            free(names[i]);
        }
        free(names);
    }
    close(errfd);
    unlink(errlog);

    print_message("corpus: %zu files\n", total);
    for (int c = 0; c <= PS_ERR_NOMEM; c++)
        if (counts[c])
            print_message("  %-18s %zu\n", ps_error_code_name((ps_status)c), counts[c]);
    print_message("  crashed %zu, hung %zu, wrote to stderr %zu, other codes %zu\n", crashed, hung, noisy,
                  odd_code);
    print_message("  slowest: %s, %.3f s\n", slowest_file, slowest);
    assert_int_equal(crashed, 0);
    assert_int_equal(hung, 0);
    assert_int_equal(noisy, 0);
    assert_int_equal(odd_code, 0);
    assert_true(total >= 400);
    /* most of the corpus is good .xls/.xlsx: a reader that refuses them is broken */
    assert_true(counts[PS_OK] >= 280);
    assert_true(counts[PS_ERR_ENCRYPTED] >= 25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_corpus)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
