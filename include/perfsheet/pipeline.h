/* pipeline.h - the batch engine of detect, extract, check, convert and merge: one pipeline
 * walks the input files (read → extract → check on a pool of threads, the cross-table rules,
 * the ordered hand-over) and hands each file, in input order, to the output sink the command
 * chose. A new output is one new file: a ps_sink with begin, one call per file, end.
 *
 * Memory does not grow with the batch. Pass 1 reads, matches and checks every file on the
 * pool and keeps next to nothing of it: what a sink renders of the file (ps_sink.render) and,
 * per document, the projection the cross-table rules read (ps_checker_cross_projection) go to
 * an unlinked spill file; what stays is some 200 bytes per file. The cross-table rules then run
 * on the pool, one group of documents sharing unit and year at a time, over projections read
 * back. Last, the files are handed to the sink in input order through a bounded window:
 *   rendering sinks (text, JSON Lines) get back what they rendered plus the cross-table
 *   findings, put the file's output together on the pool (prepare) and write it (file);
 *   document sinks (convert, merge, database, report) get each file's whole documents, parked
 *   in the spill file by pass 1 (or read again), with all their findings, cross-table ones
 *   included: prepare on the pool, then file on the calling thread.
 * Library code prints nothing: what is to be said goes through ps_pipeline_events.
 *
 * A sink is one file (src/sink_*.c) over its output module. The HTML report, say:
 * whole_documents; begin opens it (ps_pipeline_mappings(p), its path); prepare re-reads the
 * workbook (ps_reader_open with ps_pipeline_config_of(p)->limits) into f->data; file calls
 * the report with f->file, that workbook, f->docs (all findings, cross-table ones included)
 * and f->error, then frees the workbook; discard frees it; end closes or aborts. */
#ifndef PERFSHEET_PIPELINE_H
#define PERFSHEET_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "perfsheet/document.h"
#include "perfsheet/error.h"
#include "perfsheet/merge.h"
#include "perfsheet/finding.h"
#include "perfsheet/mapping.h"
#include "perfsheet/reader.h"
#include "perfsheet/report_json.h"
#include "perfsheet/workbook.h"

typedef struct ps_pipeline ps_pipeline;

/* How far the pipeline takes each file for a sink. */
typedef enum ps_pipeline_work {
    PS_WORK_DETECT,  /* read and match sheets to templates: ps_sink_input.detections */
    PS_WORK_EXTRACT, /* and extract documents, with their cleaning findings */
    PS_WORK_CHECK,   /* and run the audit rules, the cross-table ones included */
} ps_pipeline_work;

/* What pass 1 has of a file, for ps_sink.render (borrowed for the call). */
typedef struct ps_sink_input {
    const char *file;
    const ps_workbook *workbook;    /* PS_WORK_DETECT only, else NULL */
    const ps_detection *detections; /* PS_WORK_DETECT: one per sheet */
    size_t ndetections;
    ps_document *const *docs; /* otherwise: the file's documents, findings sorted, */
    size_t ndocs;             /* cross-table findings not yet known */
} ps_sink_input;

/* One file at its turn, for ps_sink.prepare and ps_sink.file. */
typedef struct ps_sink_file {
    size_t index;                /* in input order */
    const char *file;            /* its name as given */
    const ps_error *error;       /* why it could not be read or matched; NULL when it was */
    const uint32_t *by_severity; /* its findings by ps_severity, cross-table ones included */
    /* rendering sinks, in prepare: what render kept (borrowed), and the projections of the file's
     * documents that received cross-table findings (their findings are those, sorted) */
    const char *kept;
    size_t kept_len;
    ps_document *const *cross;
    size_t ncross;
    /* document sinks: the whole documents with all their findings, sorted (borrowed until
     * file returns), and per document the label the sink gave it in pass 1 (or NULL) */
    ps_document *const *docs;
    size_t ndocs;
    char *const *labels;
    /* the sink's: what prepare leaves for file (rendering sinks: the bytes to write), and
     * anything else it hangs here (freed by file, or by discard when file never comes) */
    ps_buf out;
    void *data;
} ps_sink_file;

/* An output. Implementations embed it as their first member and fill what they use; NULL
 * hooks are skipped. Every hook runs while the pipeline runs; failures are said through
 * ps_pipeline_error or ps_pipeline_notice by the sink itself, and the hook's non-PS_OK
 * result only marks the run as troubled. */
typedef struct ps_sink ps_sink;
struct ps_sink {
    ps_pipeline_work work;
    bool whole_documents; /* a document sink (see above) */
    /* pass 1, on a worker, once per file read: what the sink will need of it at its turn,
     * appended to *kept (kept in the spill file meanwhile). */
    void (*render)(ps_sink *s, const ps_sink_input *in, ps_buf *kept);
    /* pass 1, on a worker, per document: a label kept until the file's turn (convert: the
     * output file name), malloc'ed; NULL when out of memory. */
    char *(*label)(ps_sink *s, const ps_document *doc);
    /* after pass 1 and the cross-table rules, before the first file; may rewrite labels
     * (ps_pipeline_label). A failure ends the run: no file is handed over. */
    ps_status (*begin)(ps_sink *s, ps_pipeline *p);
    /* per file, on a worker, in any order but at most a small window ahead of file; for
     * document sinks only the files that were read (f->error is NULL) */
    void (*prepare)(ps_sink *s, ps_pipeline *p, ps_sink_file *f);
    /* per file, on the thread that runs the pipeline, in input order */
    ps_status (*file)(ps_sink *s, ps_pipeline *p, ps_sink_file *f);
    /* frees f->data of a file that was prepared but whose turn never came (interrupted) */
    void (*discard)(ps_sink *s, ps_sink_file *f);
    /* after the last file, or when interrupted: finish the output or drop it */
    ps_status (*end)(ps_sink *s, ps_pipeline *p, bool interrupted);
    void (*free)(ps_sink *s);
};

/* What the caller hears while the pipeline runs, on the thread that runs it (progress: also
 * there, about every 200 ms). Any hook may be NULL. */
typedef struct ps_pipeline_events {
    void *ctx;
    void (*progress)(size_t done, size_t total, void *ctx);
    void (*file_failed)(void *ctx, const ps_error *err); /* a file not read or matched, in order */
    void (*error)(void *ctx, const ps_error *err);       /* an output that could not be written */
    void (*output)(void *ctx, const char *path);         /* an output file written */
    /* something to tell the user; subject is a file, or NULL for the command itself */
    void (*notice)(void *ctx, const char *subject, const char *text);
    size_t *failed_so_far; /* may be NULL: files failed so far, updated atomically by workers */
} ps_pipeline_events;

typedef struct ps_pipeline_config {
    const char *const *files; /* in input order */
    size_t nfiles;
    const char *mapping_dir; /* NULL: the built-in mappings */
    int jobs;
    double timeout; /* seconds per file, 0 none */
    int year;       /* --year: for year fields no cell holds (ps_mapping_set_year), 0 none */
    ps_limits limits;
    ps_pipeline_events events;
    const struct ps_previous *previous; /* --previous: last year's documents (previous.h), or NULL */
} ps_pipeline_config;

typedef struct ps_pipeline_summary {
    size_t total, done; /* files given, files handed to the sink */
    bool interrupted;   /* ps_batch_request_stop() was called */
    bool trouble;       /* a file or an output failed */
    size_t by_severity[3], files_failed, by_code[PS_ERR_NOMEM + 1];
    struct {
        char id[32];
        size_t n;
    } by_template[16]; /* documents by template, in order of first appearance */
    char spread[512];  /* merge: the parts that took more than one sheet ("" when none) */
} ps_pipeline_summary;

/* Runs the batch of cfg (borrowed) into sink (borrowed; not freed). Fills *summary. Returns
 * PS_OK, or the error that stopped it before any file was read (mappings, rules, memory). */
ps_status ps_pipeline_run(const ps_pipeline_config *cfg, ps_sink *sink, ps_pipeline_summary *summary,
                          ps_error *err);

/* For sinks, while the pipeline runs. */
const ps_mapping_set *ps_pipeline_mappings(const ps_pipeline *p);
const ps_pipeline_config *ps_pipeline_config_of(const ps_pipeline *p);
size_t ps_pipeline_file_count(const ps_pipeline *p); /* the files pass 1 went through */
bool ps_pipeline_file_failed(const ps_pipeline *p, size_t i);
size_t ps_pipeline_document_count(const ps_pipeline *p, size_t i);
/* Document k of file i's label, which begin may replace (free the old one, malloc the new). */
char **ps_pipeline_label(ps_pipeline *p, size_t i, size_t k);
void ps_pipeline_error(ps_pipeline *p, const ps_error *err); /* said, and the run is troubled */
void ps_pipeline_notice(ps_pipeline *p, const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ps_pipeline_output(ps_pipeline *p, const char *path);
void ps_pipeline_trouble(ps_pipeline *p); /* the run is troubled, nothing said */
/* The output's parts spread over several sheets, for the summary line (copied). */
void ps_pipeline_set_spread(ps_pipeline *p, const char *spread);

/* ---- the sinks: one file each; the caller frees them with ps_sink_free ---- */

/* Text lines of detect, extract or check (spec/cli.md) written to out (borrowed). */
ps_sink *ps_sink_text_new(ps_pipeline_work work, FILE *out);
/* JSON Lines of detect, extract or check --json (spec/cli.md) written to out (borrowed). */
ps_sink *ps_sink_json_new(ps_pipeline_work work, FILE *out);
/* convert: one standardized workbook per document in dir, plus dir/findings.jsonl. */
ps_sink *ps_sink_convert_new(const char *dir);
/* merge: the consolidated workbook at path (merge.h). */
ps_sink *ps_sink_merge_new(const char *path, const ps_merge_options *opt);
/* merge -o OUT.sqlite: the batch as a SQLite database at path (sqlite_out.h). */
ps_sink *ps_sink_sqlite_new(const char *path);
/* report: the HTML review report (report_html.h) written to path. */
ps_sink *ps_sink_report_new(const char *path);

void ps_sink_free(ps_sink *s); /* takes NULL */

#endif
