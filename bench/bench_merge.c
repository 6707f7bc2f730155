/* bench_merge.c - the writers alone: merge N synthetic unit documents into one workbook, and
 * write standardized workbooks one by one. The documents are the 24 synthetic samples, read,
 * extracted and checked once, then renamed per copy (unit name + number) so that none is a
 * duplicate. usage (from the repo root): bench_merge [N [OUT.xlsx [CONVERTS]]]
 * Prints one JSON line: seconds for the merge, milliseconds per standardized file, peak RSS. */
#include "perfsheet/check.h"
#include "perfsheet/mapping.h"
#include "perfsheet/merge.h"
#include "perfsheet/reader.h"
#include "perfsheet/writer.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_DOCS 64

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t load_samples(const ps_mapping_set *set, const ps_checker *ck, ps_document **docs, char **units)
{
    size_t n = 0;
    DIR *d = opendir("samples/synthetic");
    if (!d)
        return 0;
    char *names[64];
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nn < 64)
        if (e->d_name[0] == 'u')
            names[nn++] = strdup(e->d_name);
    closedir(d);
    for (size_t i = 0; i < nn; i++) {
        const char *files[] = {"jcsj.xls", "zpb.xls"};
        for (size_t f = 0; f < 2; f++) {
            char path[512];
            snprintf(path, sizeof path, "samples/synthetic/%s/%s", names[i], files[f]);
            ps_workbook *wb;
            ps_error err;
            ps_document **got = NULL;
            size_t ng = 0;
            if (ps_reader_open(path, NULL, &wb, &err) != PS_OK)
                continue;
            if (ps_mapping_extract_workbook(set, wb, path, &got, &ng, &err) == PS_OK) {
                for (size_t k = 0; k < ng; k++) {
                    ps_checker_check_document(ck, got[k], &err);
                    if (n < MAX_DOCS) {
                        const char *u = ps_document_unit(got[k]);
                        units[n] = strdup(u ? u : "单位");
                        docs[n++] = got[k];
                    } else {
                        ps_document_free(got[k]);
                    }
                }
                free(got);
            }
            ps_workbook_free(wb);
        }
        free(names[i]);
    }
    return n;
}

int main(int argc, char **argv)
{
    long units = argc > 1 ? atol(argv[1]) : 10000;
    const char *out = argc > 2 ? argv[2] : "bench_merge.xlsx";
    long converts = argc > 3 ? atol(argv[3]) : 200;
    ps_mapping_set *set;
    ps_checker *ck;
    ps_error err;
    if (ps_mapping_set_load(NULL, &set, &err) != PS_OK || ps_checker_new(set, &ck, &err) != PS_OK) {
        fprintf(stderr, "mappings: %s\n", err.message);
        return 2;
    }
    ps_document *docs[MAX_DOCS];
    char *names[MAX_DOCS];
    size_t ndocs = load_samples(set, ck, docs, names);
    if (ndocs == 0) {
        fprintf(stderr, "no samples (run from the repo root)\n");
        return 2;
    }

    /* merge */
    double t0 = now();
    ps_merge *mg;
    if (ps_merge_open(set, out, &err, &mg) != PS_OK) {
        fprintf(stderr, "ps_merge_open: %s\n", err.message);
        return 2;
    }
    for (long i = 0; i < units; i++) {
        ps_document *doc = docs[(size_t)i % ndocs];
        const ps_value *u = ps_document_get(doc, "unit_name");
        char unit[256], file[64];
        snprintf(unit, sizeof unit, "%s-%05ld", names[(size_t)i % ndocs], i / (long)ndocs);
        ps_value v = u ? *u : (ps_value){.type = PS_TYPE_TEXT, .row = PS_NO_CELL, .col = PS_NO_CELL};
        v.text = unit;
        ps_document_set(doc, "unit_name", &v);
        snprintf(file, sizeof file, "units/%06ld.xls", i);
        if (ps_merge_add_file(mg, file, PS_OK, NULL, &doc, 1) != PS_OK) {
            fprintf(stderr, "ps_merge_add_file failed\n");
            ps_merge_abort(mg);
            return 2;
        }
    }
    if (ps_merge_close(mg, &err) != PS_OK) {
        fprintf(stderr, "ps_merge_close: %s\n", err.message);
        return 2;
    }
    double merge_s = now() - t0;

    /* standardized workbooks, one at a time */
    char tmpl[] = "/tmp/bench_convert.XXXXXX";
    double conv_ms = 0;
    if (converts > 0 && mkdtemp(tmpl)) {
        char path[600];
        snprintf(path, sizeof path, "%s/out.xlsx", tmpl);
        t0 = now();
        for (long i = 0; i < converts; i++) {
            ps_document *doc = docs[(size_t)i % ndocs];
            if (ps_writer_convert(ps_mapping_set_find(set, ps_document_template(doc)), doc, path, &err) !=
                PS_OK) {
                fprintf(stderr, "convert: %s\n", err.message);
                return 2;
            }
        }
        conv_ms = (now() - t0) * 1000.0 / (double)converts;
        unlink(path);
        rmdir(tmpl);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"units\": %ld, \"merge_seconds\": %.3f, \"converts\": %ld, \"convert_ms_per_file\": %.3f, "
           "\"peak_rss_mb\": %.1f}\n",
           units, merge_s, converts, conv_ms, ru.ru_maxrss / 1024.0);
    for (size_t i = 0; i < ndocs; i++) {
        ps_document_free(docs[i]);
        free(names[i]);
    }
    ps_checker_free(ck);
    ps_mapping_set_free(set);
    return 0;
}
