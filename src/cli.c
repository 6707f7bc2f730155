/* cli.c - the command line of spec/cli.md: argument parsing, batches, printing, exit status.
 * The only module that prints, reads argv or decides the exit status. */
#include "perfsheet/batch.h"
#include "perfsheet/check.h"
#include "perfsheet/deadline.h"
#include "perfsheet/error.h"
#include "perfsheet/mapping.h"
#include "perfsheet/merge.h"
#include "perfsheet/writer.h"
#include "perfsheet/inputs.h"
#include "perfsheet/reader.h"
#include "perfsheet/report_html.h"
#include "perfsheet/report_json.h"
#include "perfsheet/workbook.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PS_VERSION "0.1.0"

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_TROUBLE = 2 };

typedef struct options {
    const char *command;
    const char *mapping_dir; /* -m */
    const char *output;      /* -o */
    int jobs;                /* -j */
    double timeout;          /* --timeout: seconds per file, 0 none */
    ps_limits limits;        /* --max-cells and the defaults */
    bool json, quiet, grid;
    ps_inputs inputs;
} options;

static const char usage_text[] =
    "用法 / usage:\n"
    "  perfsheet inspect FILE... [--json] [--grid]   what the reader sees: sheets, cells, formulas, merges\n"
    "  perfsheet detect  FILE... [--json]            which template (and mapping) each sheet matches\n"
    "  perfsheet extract FILE... [--json]            canonical values with the cell each came from\n"
    "  perfsheet check   FILE... [--json]            findings (审核公式)\n"
    "  perfsheet convert FILE... -o DIR              one standardized .xlsx per unit document, plus "
    "DIR/findings.jsonl\n"
    "  perfsheet merge   FILE...|DIR... -o OUT.xlsx  one consolidated workbook for all units\n"
    "  perfsheet report  FILE...|DIR... -o OUT.html  one self-contained HTML review report\n"
    "common: -m DIR (mappings; default: the built-in mappings), -j N (parallel files), -q, --help, "
    "--version\n"
    "        --timeout SECONDS (per file, default 60), --max-cells N (per file, default 5000000)\n"
    "A directory argument means every .xls/.xlsx under it, recursively, in sorted order.\n"
    "Exit status: 0 all read and no error finding; 1 error findings; 2 bad usage or unreadable files.\n";

static void print_error(const ps_error *err)
{
    char where[1024];
    ps_error_location(err, where, sizeof where);
    fprintf(stderr, "%s: %s [%s]\n", where, err->message, ps_error_code_name(err->code));
}

/* ---- progress on a terminal ---- */

typedef struct progress {
    bool enabled;
    struct timespec start;
    size_t errors; /* updated by jobs (approximate while running) */
} progress;

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void show_progress(size_t done, size_t total, void *ctx)
{
    progress *p = ctx;
    if (!p->enabled)
        return;
    double el = seconds_since(&p->start);
    double rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r\033[K%zu/%zu 个文件  %.0f 个/秒  出错 %zu  剩余约 %.0f 秒", done, total, rate,
            __atomic_load_n(&p->errors, __ATOMIC_RELAXED), eta);
    if (done == total)
        fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* ---- inspect ---- */

typedef struct inspect_job {
    const options *opt;
    ps_buf *out;
    ps_status *status;
    ps_error *errors;
    progress *prog;
} inspect_job;

static const char *cell_type_word(const ps_cell *c)
{
    switch (c->type) {
    case PS_CELL_NUMBER: return "number";
    case PS_CELL_TEXT: return "text";
    case PS_CELL_BOOL: return "bool";
    case PS_CELL_ERROR: return "error";
    case PS_CELL_DATE: return "date";
    default: return "blank";
    }
}

static const char *format_word(const ps_cell *c)
{
    static const char *w[] = {"", "number", "percent", "date", "text"};
    return c->format < 5 ? w[c->format] : "";
}

/* Display width of UTF-8 text in a terminal: CJK and full-width forms count 2. */
static size_t display_width(const char *s, size_t max_bytes, size_t *bytes_for_width, size_t limit)
{
    size_t w = 0, i = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (i < max_bytes && u[i]) {
        size_t n = u[i] < 0x80 ? 1 : u[i] < 0xE0 ? 2 : u[i] < 0xF0 ? 3 : 4;
        size_t cw = 1;
        if (n >= 3)
            cw = 2;
        if (u[i] == '\n' || u[i] == '\r' || u[i] == '\t')
            cw = 1;
        if (w + cw > limit)
            break;
        w += cw;
        i += n;
    }
    if (bytes_for_width)
        *bytes_for_width = i;
    return w;
}

static void text_value(ps_buf *b, const ps_cell *c)
{
    char disp[64];
    switch (c->type) {
    case PS_CELL_NUMBER:
        if (ps_cell_display(c, disp, sizeof disp))
            ps_buf_puts(b, disp);
        else
            ps_buf_printf(b, "%.15g", c->number);
        break;
    case PS_CELL_BOOL: ps_buf_puts(b, c->number != 0 ? "TRUE" : "FALSE"); break;
    default: ps_buf_puts(b, c->text ? c->text : ""); break;
    }
}

static void inspect_grid(ps_buf *b, const ps_sheet *sh)
{
    enum { WIDTH = 14 };
    uint32_t cols = ps_sheet_cols(sh);
    if (cols > 26)
        cols = 26;
    ps_buf_puts(b, "     ");
    char ref[16];
    for (uint32_t c = 0; c < cols; c++) {
        ps_cell_ref(0, c, ref, sizeof ref);
        ref[strcspn(ref, "0123456789")] = '\0';
        ps_buf_printf(b, "|%-*s", WIDTH, ref);
    }
    ps_buf_puts(b, "\n");
    const ps_cell *cells = ps_sheet_cells(sh);
    size_t n = ps_sheet_cell_count(sh), i = 0;
    for (uint32_t r = 0; r < ps_sheet_rows(sh) && r < 500; r++) {
        ps_buf_printf(b, "%4u ", r + 1);
        for (uint32_t c = 0; c < cols; c++) {
            while (i < n && (cells[i].row < r || (cells[i].row == r && cells[i].col < c)))
                i++;
            ps_buf v = {0};
            const ps_range *m = ps_sheet_merge_at(sh, r, c);
            if (i < n && cells[i].row == r && cells[i].col == c)
                text_value(&v, &cells[i]);
            else if (m && !(m->first_row == r && m->first_col == c))
                ps_buf_puts(&v, m->first_row == r ? "<" : "^");
            const char *s = v.data ? v.data : "";
            /* squash newlines so one row stays one line */
            for (char *p = v.data; p && *p; p++)
                if (*p == '\n' || *p == '\r' || *p == '\t')
                    *p = ' ';
            size_t bytes;
            size_t w = display_width(s, strlen(s), &bytes, WIDTH);
            ps_buf_puts(b, "|");
            ps_buf_append(b, s, bytes);
            for (size_t k = w; k < WIDTH; k++)
                ps_buf_puts(b, " ");
            ps_buf_free(&v);
        }
        ps_buf_puts(b, "\n");
    }
}

static void inspect_text(ps_buf *b, const char *file, const ps_workbook *wb, bool grid)
{
    ps_buf_printf(b, "%s: %s", file, ps_workbook_format_name(ps_workbook_format(wb)));
    if (ps_workbook_codepage(wb))
        ps_buf_printf(b, " (codepage %d)", ps_workbook_codepage(wb));
    ps_buf_printf(b, ", %zu sheet%s\n", ps_workbook_sheet_count(wb),
                  ps_workbook_sheet_count(wb) == 1 ? "" : "s");
    char ref[16], ref2[16];
    for (size_t s = 0; s < ps_workbook_sheet_count(wb); s++) {
        const ps_sheet *sh = ps_workbook_sheet(wb, s);
        ps_buf_printf(b, "\n== sheet %zu 「%s」: %u rows × %u cols, %zu cells\n", s + 1, ps_sheet_name(sh),
                      ps_sheet_rows(sh), ps_sheet_cols(sh), ps_sheet_cell_count(sh));
        if (ps_sheet_merge_count(sh)) {
            ps_buf_puts(b, "merged:");
            const ps_range *m = ps_sheet_merges(sh);
            for (size_t i = 0; i < ps_sheet_merge_count(sh); i++)
                ps_buf_printf(b, " %s:%s", ps_cell_ref(m[i].first_row, m[i].first_col, ref, sizeof ref),
                              ps_cell_ref(m[i].last_row, m[i].last_col, ref2, sizeof ref2));
            ps_buf_puts(b, "\n");
        }
        if (grid) {
            inspect_grid(b, sh);
            continue;
        }
        const ps_cell *cells = ps_sheet_cells(sh);
        for (size_t i = 0; i < ps_sheet_cell_count(sh); i++) {
            const ps_cell *c = &cells[i];
            ps_buf_printf(b, "  %-6s %-6s %-7s %s ", ps_cell_ref(c->row, c->col, ref, sizeof ref),
                          cell_type_word(c), format_word(c), c->formula ? "=" : " ");
            if (c->type == PS_CELL_TEXT)
                ps_json_string(b, c->text); /* quoted, so '　114' shows its padding */
            else
                text_value(b, c);
            const ps_range *m = ps_sheet_merge_at(sh, c->row, c->col);
            if (m)
                ps_buf_printf(b, "  [merged %s:%s]", ps_cell_ref(m->first_row, m->first_col, ref, sizeof ref),
                              ps_cell_ref(m->last_row, m->last_col, ref2, sizeof ref2));
            ps_buf_puts(b, "\n");
        }
    }
}

static void inspect_one(size_t i, void *ctx)
{
    inspect_job *job = ctx;
    const char *file = job->opt->inputs.files[i];
    ps_workbook *wb = NULL;
    ps_error *err = &job->errors[i];
    ps_deadline_arm(job->opt->timeout);
    job->status[i] = ps_reader_open(file, &job->opt->limits, &wb, err);
    ps_deadline_disarm();
    if (job->status[i] != PS_OK)
        __atomic_add_fetch(&job->prog->errors, 1, __ATOMIC_RELAXED);
    if (job->opt->json)
        ps_report_inspect_json(&job->out[i], file, wb, err);
    else if (wb)
        inspect_text(&job->out[i], file, wb, job->opt->grid);
    ps_workbook_free(wb);
}

static int run_inspect(options *opt, progress *prog)
{
    size_t n = opt->inputs.n;
    inspect_job job = {opt, calloc(n, sizeof(ps_buf)), calloc(n, sizeof(ps_status)),
                       calloc(n, sizeof(ps_error)), prog};
    if (!job.out || !job.status || !job.errors) {
        fprintf(stderr, "perfsheet: 内存不足\n");
        return EXIT_TROUBLE;
    }
    size_t done = ps_batch_run(n, opt->jobs, inspect_one, &job, prog->enabled ? show_progress : NULL, prog);
    int rc = EXIT_CLEAN;
    for (size_t i = 0; i < done; i++) {
        if (job.out[i].data)
            fwrite(job.out[i].data, 1, job.out[i].len, stdout);
        if (job.status[i] != PS_OK) {
            if (!opt->quiet || !opt->json)
                print_error(&job.errors[i]);
            rc = EXIT_TROUBLE;
        }
        ps_buf_free(&job.out[i]);
    }
    if (done < n)
        rc = EXIT_TROUBLE;
    free(job.out);
    free(job.status);
    free(job.errors);
    return rc;
}

/* ---- detect, extract, check, convert, merge: one pipeline ----
 *
 * Pass 1 reads, matches and checks every file on the pool and keeps next to nothing of it in
 * memory: each file's rendered output (detect, extract, check) and, per document, the
 * projection the cross-table rules read (ps_checker_cross_projection) go to an unlinked spill
 * file; what stays is a small doc_ref per document (where those bytes are, and the unit,
 * year and template that pair it). The cross-table rules then run on the pool, one group of
 * documents sharing unit and year at a time, over projections read back; a projection that
 * received findings is stored again and marked. detect, extract and check then put each
 * file's output together on the pool and print it in input order. convert and merge also
 * park each whole document (ps_document_encode) in pass 1; pass 2 takes them back in input
 * order through a bounded window, adds their cross-table findings and writes or merges each
 * at once. So memory holds some 200 bytes per file (its name, its result, its doc_refs) plus
 * a window of whole documents, however long the batch. */

typedef enum stage {
    STAGE_DETECT,
    STAGE_EXTRACT,
    STAGE_CHECK,
    STAGE_CONVERT,
    STAGE_MERGE,
    STAGE_REPORT
} stage;

/* Bytes pass 1 keeps for later: in the spill file when there is one, else in memory. */
typedef struct stored {
    off_t at;     /* in the spill file (when mem is NULL) */
    char *mem;    /* in memory */
    uint32_t len; /* 0: nothing stored */
} stored;

/* What pass 1 keeps of one document. */
typedef struct doc_ref {
    stored proj;        /* check, convert, merge: its cross-table projection, encoded */
    stored parked;      /* convert, merge: the whole document, encoded (len 0: read it again) */
    char *path;         /* convert: its output file name, then path */
    uint64_t unit_hash; /* of its unit_name, to group documents by */
    int32_t year;
    uint16_t tpl; /* its template's index in the mapping set */
    bool paired;  /* has a unit_name and a projection: cross-table rules may pair it */
    bool cross;   /* its projection holds cross-table findings */
} doc_ref;

typedef struct file_result {
    ps_error *err; /* owned; set when the file could not be read, matched or written */
    doc_ref *refs;
    uint32_t nrefs;
    uint32_t out_len[3]; /* rendered output: documents JSON, findings JSON items, text */
    stored out;          /* ... those three, one after the other */
    uint32_t by_sev[3];  /* findings by severity, cross-table ones included once known */
} file_result;

/* A file in flight in an ordered phase (output, pass 2): file i uses slot i % window, as
 * ps_batch_run_ordered never has two files that far apart in flight. */
typedef struct slot {
    ps_document **full; /* pass 2: whole documents */
    size_t nfull;
    ps_error *write_err; /* convert: per document, when one failed */
    ps_workbook *wb;     /* report: the file read again, for the cells around each finding */
    ps_buf line;         /* what the main thread prints or writes for the file */
} slot;

enum { ORDERED_WINDOW = 32 };

/* Rendered output of a file while it is being put together. */
typedef struct rendered {
    ps_buf documents; /* JSON documents array */
    ps_buf findings;  /* JSON finding objects, comma-separated */
    ps_buf text;      /* text form */
} rendered;

typedef struct tally {
    size_t by_sev[3], files_bad, by_code[PS_ERR_NOMEM + 1];
    struct {
        char id[32];
        size_t n;
    } by_template[16];
} tally;

typedef struct pipeline {
    const options *opt;
    stage stage;
    const ps_mapping_set *mappings;
    const ps_checker *checker;
    file_result *results;
    slot slots[ORDERED_WINDOW];
    progress *prog;
    int rc;
    tally t;
    FILE *jsonl;     /* convert: findings.jsonl being written (temporary name) */
    int spill_fd;    /* the spill file, or -1: then rendered output and projections stay in memory */
    off_t spill_end; /* next free offset (atomic) */
    ps_merge *merge;
    ps_report *report;
    size_t print_n;   /* detect, extract, check: the files to print */
    int cross_failed; /* atomic: the first failing cross-table group fills cross_err */
    ps_error cross_err;
} pipeline;

static void findings_text(ps_buf *b, const ps_document *d, bool with_info)
{
    const ps_findings *fl = ps_document_findings_const(d);
    for (size_t k = 0; k < ps_findings_count(fl); k++) {
        const ps_finding *f = ps_findings_at(fl, k);
        if (f->severity == PS_SEV_INFO && !with_info)
            continue;
        ps_buf_printf(b, "%s:%s!%s: %s [%s] %s\n", ps_document_file(d),
                      f->sheet ? f->sheet : ps_document_sheet(d), f->cell ? f->cell : "-",
                      ps_severity_name(f->severity), f->rule, f->message);
    }
}

static void extract_text(ps_buf *b, const ps_document *d)
{
    char ref[16];
    ps_buf_printf(b, "%s:%s: %s (%s) %s %d\n", ps_document_file(d), ps_document_sheet(d),
                  ps_document_template(d), ps_document_mapping(d),
                  ps_document_unit(d) ? ps_document_unit(d) : "?", ps_document_year(d));
    for (size_t k = 0; k < ps_document_value_count(d); k++) {
        const ps_value *v = ps_document_value_at(d, k);
        ps_buf_printf(b, "  %-28s ", ps_document_value_key(d, k));
        ps_report_value_json(b, v);
        if (v->row != PS_NO_CELL)
            ps_buf_printf(b, "  ← %s", ps_cell_ref(v->row, v->col, ref, sizeof ref));
        ps_buf_puts(b, "\n");
    }
    for (size_t t = 0; t < ps_document_table_count(d); t++) {
        const ps_table *tb = ps_document_table_at(d, t);
        ps_buf_printf(b, "  table %s: %zu rows\n", ps_table_name(tb), ps_table_row_count(tb));
        for (size_t r = 0; r < ps_table_row_count(tb); r++) {
            ps_buf_printf(b, "    %3zu", r + 1);
            for (size_t c = 0; c < ps_table_column_count(tb); c++) {
                const ps_value *v = ps_table_get(tb, r, ps_table_column(tb, c));
                if (!v)
                    continue;
                ps_buf_printf(b, " %s=", ps_table_column(tb, c));
                ps_report_value_json(b, v);
            }
            ps_buf_puts(b, "\n");
        }
    }
}

static void detect_text(ps_buf *b, const char *file, const ps_workbook *wb, const ps_detection *dets,
                        size_t n, bool json)
{
    if (json) {
        ps_buf_puts(b, "{\"file\":");
        ps_json_string(b, file);
        ps_buf_puts(b, ",\"status\":\"ok\",\"sheets\":[");
    }
    for (size_t k = 0; k < n; k++) {
        const ps_detection *d = &dets[k];
        const char *name = ps_sheet_name(ps_workbook_sheet(wb, d->sheet));
        if (json) {
            ps_buf_puts(b, k ? ",{\"sheet\":" : "{\"sheet\":");
            ps_json_string(b, name);
            ps_buf_puts(b, ",\"template\":");
            ps_json_string(b, d->mapping ? ps_mapping_id(d->mapping) : NULL);
            ps_buf_puts(b, ",\"mapping\":");
            ps_json_string(b, d->mapping ? ps_mapping_path(d->mapping) : NULL);
            ps_buf_puts(b, ",\"score\":");
            ps_json_number(b, d->score, false);
            ps_buf_printf(b, ",\"complete\":%s", d->complete ? "true" : "false");
            if (d->missing[0]) {
                ps_buf_puts(b, ",\"missing\":");
                ps_json_string(b, d->missing);
            }
            ps_buf_puts(b, "}");
        } else if (d->mapping) {
            ps_buf_printf(b, "%s:%s: %s (%s) 匹配度 %.0f%%%s%s\n", file, name, ps_mapping_id(d->mapping),
                          ps_mapping_path(d->mapping), d->score * 100, d->complete ? "" : "，不完整：缺少 ",
                          d->complete ? "" : d->missing);
        } else {
            ps_buf_printf(b, "%s:%s: 未识别的表%s%s\n", file, name, d->missing[0] ? "：" : "", d->missing);
        }
    }
    if (json)
        ps_buf_puts(b, "]}\n");
}

/* Adds the findings of docs to r's counts. */
static void count_findings(file_result *r, ps_document *const *docs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        for (int s = 0; s < 3; s++)
            r->by_sev[s] +=
                (uint32_t)ps_findings_count_severity(ps_document_findings_const(docs[k]), (ps_severity)s);
}

static bool reportable(const file_result *r)
{
    return r->by_sev[PS_SEV_ERROR] + r->by_sev[PS_SEV_WARNING] > 0;
}

/* Renders the findings of docs into out: JSON items or, for check, text lines. */
static void render_findings(const pipeline *p, rendered *out, ps_document *const *docs, size_t n)
{
    bool first = out->findings.len == 0;
    for (size_t k = 0; k < n; k++) {
        if (p->opt->json)
            ps_report_findings_items(&out->findings, ps_document_findings_const(docs[k]), &first);
        else if (p->stage == STAGE_CHECK)
            findings_text(&out->text, docs[k], false);
    }
}

static void free_docs(ps_document ***docs, size_t *n)
{
    for (size_t k = 0; k < *n; k++)
        ps_document_free((*docs)[k]);
    free(*docs);
    *docs = NULL;
    *n = 0;
}

/* Reads, matches and checks file i into *docs under the armed deadline; detect renders its
 * answer into *detected instead. */
static ps_status read_and_check(pipeline *p, size_t i, ps_document ***docs, size_t *ndocs, ps_buf *detected,
                                ps_error *err)
{
    const char *file = p->opt->inputs.files[i];
    ps_workbook *wb = NULL;
    ps_status st = ps_reader_open(file, &p->opt->limits, &wb, err);
    if (st != PS_OK)
        return st;
    if (p->stage == STAGE_DETECT) {
        ps_detection *dets = NULL;
        size_t ndets = 0;
        st = ps_mapping_detect(p->mappings, wb, &dets, &ndets, err);
        if (st == PS_OK)
            detect_text(detected, file, wb, dets, ndets, p->opt->json);
        free(dets);
        ps_workbook_free(wb);
        return st;
    }
    st = ps_mapping_extract_workbook(p->mappings, wb, file, docs, ndocs, err);
    ps_workbook_free(wb);
    if (st == PS_OK && ps_deadline_passed())
        st = ps_error_set(err, PS_ERR_UNSUPPORTED, file, "处理超时（超过 %g 秒），已跳过此文件",
                          ps_deadline_seconds());
    for (size_t k = 0; st == PS_OK && p->stage >= STAGE_CHECK && k < *ndocs; k++)
        st = ps_checker_check_document(p->checker, (*docs)[k], err); /* extract: cleaning findings only */
    if (st != PS_OK)
        free_docs(docs, ndocs);
    return st;
}

/* Keeps a copy of err as r's error (on failure only: most files never pay for one). */
static void keep_error(file_result *r, const ps_error *err)
{
    if (!r->err)
        r->err = malloc(sizeof *r->err);
    if (r->err)
        *r->err = *err;
}

static ps_status result_code(const file_result *r)
{
    return r->err ? r->err->code : PS_OK;
}

/* ---- the spill file ---- */

/* Writes len bytes at a freshly reserved place of the spill file; returns the place, or -1. */
static off_t spill_write(pipeline *p, const char *data, size_t len)
{
    if (p->spill_fd < 0 || len == 0)
        return -1;
    off_t at = __atomic_fetch_add(&p->spill_end, (off_t)len, __ATOMIC_RELAXED);
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(p->spill_fd, data + done, len - done, at + (off_t)done);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)w;
    }
    return at;
}

/* Reads len bytes at `at` of the spill file into a new buffer; NULL on failure. */
static char *spill_read(const pipeline *p, off_t at, size_t len)
{
    char *buf = malloc(len ? len : 1);
    size_t done = 0;
    while (buf && done < len) {
        ssize_t got = pread(p->spill_fd, buf + done, len - done, at + (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            free(buf);
            return NULL;
        }
        done += (size_t)got;
    }
    return buf;
}

static void store_free(stored *s)
{
    free(s->mem);
    memset(s, 0, sizeof *s);
}

/* Stores data in place of what s held: in the spill file, or else in memory when
 * keep_in_memory. false when it could not be stored (s is then empty). */
static bool store_put(pipeline *p, stored *s, const char *data, size_t len, bool keep_in_memory)
{
    store_free(s);
    if (len == 0)
        return true;
    if (len > UINT32_MAX)
        return false;
    off_t at = spill_write(p, data, len);
    if (at >= 0) {
        s->at = at;
        s->len = (uint32_t)len;
        return true;
    }
    if (!keep_in_memory || !(s->mem = malloc(len)))
        return false;
    memcpy(s->mem, data, len);
    s->len = (uint32_t)len;
    return true;
}

/* A copy of what s holds (caller frees); NULL when empty or on failure. */
static char *store_get(const pipeline *p, const stored *s)
{
    if (!s->len)
        return NULL;
    if (!s->mem)
        return spill_read(p, s->at, s->len);
    char *copy = malloc(s->len);
    if (copy)
        memcpy(copy, s->mem, s->len);
    return copy;
}

static bool store_document(pipeline *p, stored *s, const ps_document *doc, bool keep_in_memory)
{
    char *data = NULL;
    size_t len = 0;
    bool ok = doc && ps_document_encode(doc, &data, &len) && store_put(p, s, data, len, keep_in_memory);
    free(data);
    if (!ok)
        store_free(s);
    return ok;
}

static ps_document *load_document(const pipeline *p, const stored *s)
{
    char *data = store_get(p, s);
    ps_document *doc = data ? ps_document_decode(data, s->len) : NULL;
    free(data);
    return doc;
}

/* Stores out's three parts as r's output and empties out. false when it could not. */
static bool store_output(pipeline *p, file_result *r, rendered *out)
{
    ps_buf *parts[3] = {&out->documents, &out->findings, &out->text}, all = {0};
    bool ok = true;
    for (int k = 0; k < 3; k++) {
        ok = ok && !parts[k]->oom && parts[k]->len <= UINT32_MAX;
        r->out_len[k] = ok ? (uint32_t)parts[k]->len : 0;
        if (ok && parts[k]->len)
            ps_buf_append(&all, parts[k]->data, parts[k]->len);
        ps_buf_free(parts[k]);
    }
    ok = ok && !all.oom && store_put(p, &r->out, all.data, all.len, true);
    ps_buf_free(&all);
    if (!ok)
        memset(r->out_len, 0, sizeof r->out_len);
    return ok;
}

/* r's output back into out; false when it could not be read. */
static bool load_output(const pipeline *p, const file_result *r, rendered *out)
{
    ps_buf *parts[3] = {&out->documents, &out->findings, &out->text};
    char *data = store_get(p, &r->out);
    if (!data && r->out.len)
        return false;
    size_t off = 0;
    for (int k = 0; k < 3; off += r->out_len[k], k++)
        if (r->out_len[k])
            ps_buf_append(parts[k], data + off, r->out_len[k]);
    free(data);
    return true;
}

static void free_result(file_result *r)
{
    free(r->err);
    for (size_t k = 0; k < r->nrefs; k++) {
        store_free(&r->refs[k].proj);
        store_free(&r->refs[k].parked);
        free(r->refs[k].path);
    }
    free(r->refs);
    store_free(&r->out);
    memset(r, 0, sizeof *r);
}

static void free_slot(slot *s)
{
    free_docs(&s->full, &s->nfull);
    free(s->write_err);
    ps_workbook_free(s->wb);
    ps_buf_free(&s->line);
    memset(s, 0, sizeof *s);
}

/* ---- pass 1 ---- */

static uint64_t unit_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static uint16_t template_index(const ps_mapping_set *set, const char *id)
{
    for (size_t k = 0; k < ps_mapping_set_count(set); k++)
        if (!strcmp(ps_mapping_id(ps_mapping_set_at(set, k)), id))
            return (uint16_t)k;
    return 0; /* documents come from the set's mappings */
}

/* Fills ref for doc: template, unit and year, its cross-table projection, and for convert and
 * merge the parked whole document and the output name. false on out-of-memory. */
static bool keep_document(pipeline *p, doc_ref *ref, const ps_document *doc)
{
    ref->tpl = template_index(p->mappings, ps_document_template(doc));
    if (p->stage >= STAGE_CONVERT && p->spill_fd >= 0)
        store_document(p, &ref->parked, doc, false); /* if not parked, pass 2 reads it again */
    if (p->stage == STAGE_CONVERT) {
        char name[256];
        ps_writer_document_name(doc, name, sizeof name);
        if (!(ref->path = strdup(name)))
            return false;
    }
    const char *unit = ps_document_unit(doc);
    if (p->stage < STAGE_CHECK || !unit || !*unit)
        return true;
    ps_document *proj = ps_checker_cross_projection(p->checker, doc);
    ref->paired = store_document(p, &ref->proj, proj, true);
    ps_document_free(proj);
    ref->unit_hash = unit_hash(unit);
    ref->year = ps_document_year(doc);
    return ref->paired;
}

/* Pass 1 on a worker. */
static void process_file(size_t i, void *ctx)
{
    pipeline *p = ctx;
    file_result *r = &p->results[i];
    const char *file = p->opt->inputs.files[i];
    ps_document **docs = NULL;
    size_t ndocs = 0;
    rendered out = {0};
    ps_error err;
    ps_deadline_arm(p->opt->timeout);
    ps_status st = read_and_check(p, i, &docs, &ndocs, &out.text, &err);
    ps_deadline_disarm();
    if (st == PS_OK && p->stage != STAGE_DETECT) {
        for (size_t k = 0; k < ndocs; k++)
            ps_findings_sort(ps_document_findings(docs[k]));
        count_findings(r, docs, ndocs);
        if (p->opt->json && p->stage <= STAGE_CHECK)
            ps_report_documents_json(&out.documents, docs, ndocs, p->stage == STAGE_EXTRACT);
        else if (p->stage == STAGE_EXTRACT)
            for (size_t k = 0; k < ndocs; k++)
                extract_text(&out.text, docs[k]);
        if (p->stage <= STAGE_CHECK)
            render_findings(p, &out, docs, ndocs);
        if (ndocs && !(r->refs = calloc(ndocs, sizeof *r->refs)))
            st = ps_error_set(&err, PS_ERR_NOMEM, file, "内存不足");
        r->nrefs = r->refs ? (uint32_t)ndocs : 0;
        for (size_t k = 0; st == PS_OK && k < ndocs; k++)
            if (!keep_document(p, &r->refs[k], docs[k]))
                st = ps_error_set(&err, PS_ERR_NOMEM, file, "内存不足");
    }
    if (st == PS_OK && p->stage <= STAGE_CHECK && !store_output(p, r, &out))
        st = ps_error_set(&err, PS_ERR_NOMEM, file, "内存不足：无法保存此文件的结果");
    free_docs(&docs, &ndocs);
    ps_buf_free(&out.documents);
    ps_buf_free(&out.findings);
    ps_buf_free(&out.text);
    if (st != PS_OK) {
        keep_error(r, &err);
        __atomic_add_fetch(&p->prog->errors, 1, __ATOMIC_RELAXED);
    }
}

/* ---- cross-table rules, one group of documents (same unit hash and year) at a time ---- */

typedef struct cross_key {
    uint64_t hash;
    int32_t year;
    uint32_t doc;
    size_t file;
} cross_key;

typedef struct cross_run {
    pipeline *p;
    const cross_key *keys;
    const size_t *groups; /* group g: keys[groups[2g] .. groups[2g+1]) */
} cross_run;

static int cmp_cross_key(const void *pa, const void *pb)
{
    const cross_key *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    return a->doc < b->doc ? -1 : a->doc > b->doc;
}

static void cross_group(size_t g, void *ctx)
{
    const cross_run *x = ctx;
    pipeline *p = x->p;
    size_t from = x->groups[2 * g], n = x->groups[2 * g + 1] - from;
    ps_document **docs = calloc(n, sizeof *docs);
    ps_error err;
    ps_status st = docs ? PS_OK : ps_error_set(&err, PS_ERR_NOMEM, NULL, "内存不足");
    for (size_t k = 0; st == PS_OK && k < n; k++) {
        const cross_key *key = &x->keys[from + k];
        docs[k] = load_document(p, &p->results[key->file].refs[key->doc].proj);
        if (!docs[k])
            st = ps_error_set(&err, PS_ERR_IO, p->opt->inputs.files[key->file], "无法读回临时文件中的数据");
    }
    /* the checker pairs by the unit's exact text: a hash collision only makes a larger group */
    if (st == PS_OK)
        st = ps_checker_check_cross(p->checker, docs, n, &err);
    for (size_t k = 0; st == PS_OK && k < n; k++) {
        if (!ps_findings_count(ps_document_findings_const(docs[k])))
            continue;
        doc_ref *ref = &p->results[x->keys[from + k].file].refs[x->keys[from + k].doc];
        ps_findings_sort(ps_document_findings(docs[k]));
        if (!store_document(p, &ref->proj, docs[k], true))
            st = ps_error_set(&err, PS_ERR_NOMEM, NULL, "内存不足");
        ref->cross = true;
    }
    if (st != PS_OK && __atomic_exchange_n(&p->cross_failed, 1, __ATOMIC_ACQ_REL) == 0)
        p->cross_err = err;
    for (size_t k = 0; docs && k < n; k++)
        ps_document_free(docs[k]);
    free(docs);
}

/* Runs the cross-table rules over the first `done` files. false when interrupted. */
static bool cross_check(pipeline *p, size_t done)
{
    size_t n = 0;
    for (size_t i = 0; i < done; i++)
        for (uint32_t d = 0; d < p->results[i].nrefs; d++)
            n += p->results[i].refs[d].paired;
    cross_key *keys = malloc((n ? n : 1) * sizeof *keys);
    size_t *groups = malloc((n ? n : 1) * sizeof *groups); /* at most n/2 groups of two or more */
    if (!keys || !groups) {
        free(keys);
        free(groups);
        p->cross_failed = 1;
        ps_error_set(&p->cross_err, PS_ERR_NOMEM, NULL, "内存不足");
        return true;
    }
    size_t k = 0;
    for (size_t i = 0; i < done; i++)
        for (uint32_t d = 0; d < p->results[i].nrefs; d++)
            if (p->results[i].refs[d].paired)
                keys[k++] = (cross_key){p->results[i].refs[d].unit_hash, p->results[i].refs[d].year, d, i};
    qsort(keys, n, sizeof *keys, cmp_cross_key);
    size_t ngroups = 0;
    for (size_t g = 0; g < n;) {
        size_t end = g + 1;
        while (end < n && keys[end].hash == keys[g].hash && keys[end].year == keys[g].year)
            end++;
        if (end - g > 1) { /* a document alone has nothing to be compared with */
            groups[2 * ngroups] = g;
            groups[2 * ngroups + 1] = end;
            ngroups++;
        }
        g = end;
    }
    cross_run x = {p, keys, groups};
    size_t ran = ps_batch_run(ngroups, p->opt->jobs, cross_group, &x, NULL, NULL);
    free(keys);
    free(groups);
    return ran == ngroups;
}

/* The cross-table findings of r's documents, counted and passed to fn with the document's
 * index (NULL: only counted). */
static void add_cross_findings(const pipeline *p, file_result *r,
                               void (*fn)(const pipeline *, void *, uint32_t, ps_document *), void *arg)
{
    for (uint32_t k = 0; k < r->nrefs; k++) {
        if (!r->refs[k].cross)
            continue;
        ps_document *proj = load_document(p, &r->refs[k].proj);
        if (!proj)
            continue;
        count_findings(r, &proj, 1);
        if (fn)
            fn(p, arg, k, proj);
        ps_document_free(proj);
    }
}

static void tally_file(pipeline *p, const file_result *r)
{
    for (int s = 0; s < 3; s++)
        p->t.by_sev[s] += r->by_sev[s];
    for (uint32_t d = 0; d < r->nrefs; d++) {
        const char *id = ps_mapping_id(ps_mapping_set_at(p->mappings, r->refs[d].tpl));
        for (int k = 0; k < 16; k++)
            if (!p->t.by_template[k].id[0] || !strcmp(p->t.by_template[k].id, id)) {
                snprintf(p->t.by_template[k].id, sizeof p->t.by_template[k].id, "%s", id);
                p->t.by_template[k].n++;
                break;
            }
    }
    if (r->by_sev[PS_SEV_ERROR] && p->rc == EXIT_CLEAN)
        p->rc = EXIT_FINDINGS;
}

static void file_failed(pipeline *p, const file_result *r)
{
    p->t.files_bad++;
    if (result_code(r) <= PS_ERR_NOMEM)
        p->t.by_code[result_code(r)]++;
    p->rc = EXIT_TROUBLE;
    if (!(p->opt->json && p->opt->quiet))
        print_error(r->err);
}

/* ---- detect, extract, check: each file's output, put together on the pool, printed in order ---- */

static void render_cross(const pipeline *p, void *out, uint32_t k, ps_document *proj)
{
    (void)k;
    render_findings(p, out, &proj, 1);
}

/* Puts file i's output together, appended to s->line. */
static void finish_file(pipeline *p, size_t i, slot *s)
{
    file_result *r = &p->results[i];
    const char *file = p->opt->inputs.files[i];
    rendered out = {0};
    if (!r->err && !load_output(p, r, &out)) {
        ps_error err;
        ps_error_set(&err, PS_ERR_IO, file, "无法读回临时文件中的结果");
        keep_error(r, &err);
    }
    if (r->err) {
        if (p->opt->json)
            ps_report_file_json(&s->line, file, r->err, NULL, 0, false, false);
    } else if (p->stage == STAGE_DETECT) {
        ps_buf_append(&s->line, out.text.data, out.text.len);
    } else {
        add_cross_findings(p, r, render_cross, &out);
        if (p->opt->json)
            ps_report_file_line(&s->line, file, &out.documents, &out.findings, true, reportable(r));
        else if (out.text.len)
            ps_buf_append(&s->line, out.text.data, out.text.len);
    }
    ps_buf_free(&out.documents);
    ps_buf_free(&out.findings);
    ps_buf_free(&out.text);
}

/* The output is put together and printed by chunks of files: per file, handing work over
 * between threads would cost more than the work. */
enum { PRINT_CHUNK = 64, PRINT_WINDOW = 4 };

static void finish_chunk(size_t c, void *ctx)
{
    pipeline *p = ctx;
    for (size_t i = c * PRINT_CHUNK; i < p->print_n && i < (c + 1) * PRINT_CHUNK; i++)
        finish_file(p, i, &p->slots[c % PRINT_WINDOW]);
}

static void print_chunk(size_t c, void *ctx)
{
    pipeline *p = ctx;
    slot *s = &p->slots[c % PRINT_WINDOW];
    for (size_t i = c * PRINT_CHUNK; i < p->print_n && i < (c + 1) * PRINT_CHUNK; i++) {
        file_result *r = &p->results[i];
        if (r->err)
            file_failed(p, r);
        else if (p->stage != STAGE_DETECT)
            tally_file(p, r);
        free_result(r); /* put together: nothing of it is needed any more */
    }
    if (s->line.len)
        fwrite(s->line.data, 1, s->line.len, stdout);
    free_slot(s);
}

/* Prints the first `done` files; returns how many were printed. */
static size_t print_outputs(pipeline *p, size_t done, bool interrupted)
{
    p->print_n = done;
    size_t chunks = (done + PRINT_CHUNK - 1) / PRINT_CHUNK;
    if (!interrupted) {
        size_t printed = ps_batch_run_ordered(chunks, p->opt->jobs, PRINT_WINDOW, finish_chunk, print_chunk,
                                              p, NULL, NULL);
        return printed * PRINT_CHUNK < done ? printed * PRINT_CHUNK : done;
    }
    for (size_t c = 0; c < chunks; c++) { /* a stop was asked: the pool would start nothing */
        finish_chunk(c, p);
        print_chunk(c, p);
    }
    return done;
}

/* ---- convert and merge: pass 2 ---- */

/* Adds a projection's cross-table findings to the whole document k of the slot. */
static void append_cross(const pipeline *p, void *slot_, uint32_t k, ps_document *proj)
{
    (void)p;
    slot *s = slot_;
    ps_findings_append(ps_document_findings(s->full[k]), ps_document_findings_const(proj));
    ps_findings_sort(ps_document_findings(s->full[k]));
}

/* Pass 2 on a worker: the whole documents again, with their cross-table findings from the
 * projections; convert writes them at once. */
static void reprocess_file(size_t i, void *ctx)
{
    pipeline *p = ctx;
    file_result *r = &p->results[i];
    slot *s = &p->slots[i % ORDERED_WINDOW];
    if (r->err)
        return;
    ps_error err;
    ps_status st = PS_OK;
    bool parked = r->nrefs > 0 && (s->full = calloc(r->nrefs, sizeof *s->full));
    for (uint32_t k = 0; parked && k < r->nrefs; k++) {
        s->full[s->nfull] = load_document(p, &r->refs[k].parked);
        parked = s->full[s->nfull] != NULL;
        s->nfull += parked;
    }
    if (!parked) { /* not parked: process the file again */
        free_docs(&s->full, &s->nfull);
        ps_deadline_arm(p->opt->timeout * 2);
        st = read_and_check(p, i, &s->full, &s->nfull, NULL, &err);
        ps_deadline_disarm();
    }
    if (st == PS_OK && s->nfull != r->nrefs)
        st = ps_error_set(&err, PS_ERR_IO, p->opt->inputs.files[i], "文件在处理过程中被修改，请重新运行");
    if (st != PS_OK) {
        keep_error(r, &err);
        free_docs(&s->full, &s->nfull);
        return;
    }
    add_cross_findings(p, r, append_cross, s);
    if (p->stage == STAGE_REPORT &&
        ps_reader_open(p->opt->inputs.files[i], &p->opt->limits, &s->wb, &err) != PS_OK)
        s->wb = NULL; /* the report shows the findings without the cells around them, and says so */
    if (p->stage != STAGE_CONVERT)
        return;
    for (size_t k = 0; k < s->nfull; k++) {
        const ps_mapping *m = ps_mapping_set_find(p->mappings, ps_document_template(s->full[k]));
        if (ps_writer_convert(m, s->full[k], r->refs[k].path, &err) == PS_OK)
            continue;
        if (!s->write_err)
            s->write_err = calloc(s->nfull, sizeof *s->write_err);
        if (s->write_err)
            s->write_err[k] = err;
    }
}

/* report: one file's section; a failure drops the report (said once). */
static void add_to_report(pipeline *p, const char *file, const ps_workbook *wb, ps_document *const *docs,
                          size_t ndocs, const ps_error *file_err)
{
    ps_error err;
    if (!p->report || ps_report_add_file(p->report, file, wb, docs, ndocs, file_err, &err) == PS_OK)
        return;
    print_error(&err);
    ps_report_abort(p->report);
    p->report = NULL;
    p->rc = EXIT_TROUBLE;
}

/* Pass 2's consumer, on the main thread in input order: findings.jsonl, merge, report, counts. */
static void consume_file(size_t i, void *ctx)
{
    pipeline *p = ctx;
    file_result *r = &p->results[i];
    slot *s = &p->slots[i % ORDERED_WINDOW];
    const char *file = p->opt->inputs.files[i];
    if (r->err) {
        file_failed(p, r);
        ps_report_file_json(&s->line, file, r->err, NULL, 0, false, false);
        if (p->merge && ps_merge_add_file(p->merge, file, r->err->code, r->err, NULL, 0) != PS_OK)
            p->rc = EXIT_TROUBLE;
        add_to_report(p, file, NULL, NULL, 0, r->err);
    } else {
        tally_file(p, r);
        ps_report_file_json(&s->line, file, NULL, s->full, s->nfull, false, true);
        if (p->merge && ps_merge_add_file(p->merge, file, PS_OK, NULL, s->full, s->nfull) != PS_OK)
            p->rc = EXIT_TROUBLE;
        add_to_report(p, file, s->wb, s->full, s->nfull, NULL);
        for (size_t k = 0; p->stage == STAGE_CONVERT && k < s->nfull; k++) {
            if (s->write_err && s->write_err[k].code != PS_OK) {
                print_error(&s->write_err[k]);
                p->rc = EXIT_TROUBLE;
            } else if (!p->opt->quiet) {
                printf("%s\n", r->refs[k].path);
            }
        }
    }
    if (p->jsonl && s->line.len)
        fwrite(s->line.data, 1, s->line.len, p->jsonl);
    free_slot(s);
    free_result(r);
}

/* The output paths decided so far, as a set (open addressing over FNV-1a hashes). */
typedef struct path_set {
    char **slot; /* borrowed strings: they belong to the results */
    size_t cap, n;
} path_set;

static uint64_t path_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static bool path_set_has(const path_set *ps, const char *path)
{
    for (size_t i = ps->cap ? path_hash(path) & (ps->cap - 1) : 0; ps->cap && ps->slot[i];
         i = (i + 1) & (ps->cap - 1))
        if (!strcmp(ps->slot[i], path))
            return true;
    return false;
}

static bool path_set_add(path_set *ps, char *path)
{
    if ((ps->n + 1) * 2 > ps->cap) {
        path_set bigger = {calloc(ps->cap ? ps->cap * 2 : 256, sizeof(char *)), ps->cap ? ps->cap * 2 : 256,
                           0};
        if (!bigger.slot)
            return false;
        for (size_t i = 0; i < ps->cap; i++)
            if (ps->slot[i])
                path_set_add(&bigger, ps->slot[i]);
        free(ps->slot);
        *ps = bigger;
    }
    size_t i = path_hash(path) & (ps->cap - 1);
    while (ps->slot[i])
        i = (i + 1) & (ps->cap - 1);
    ps->slot[i] = path;
    ps->n++;
    return true;
}

/* convert: the output path of every document (its name is in refs[].path), decided in input
 * order so that the same inputs always get the same names: two documents that would share a
 * name (same unit, year and template) or a name that is an input file get _2, _3, … and it
 * is said. */
static bool plan_outputs(pipeline *p, size_t done)
{
    const options *opt = p->opt;
    path_set taken = {0};
    bool ok = true;
    for (size_t i = 0; i < done && ok; i++) {
        file_result *r = &p->results[i];
        struct stat in;
        bool have_in = !r->err && r->nrefs && stat(opt->inputs.files[i], &in) == 0;
        for (uint32_t k = 0; !r->err && k < r->nrefs && ok; k++) {
            const char *name = r->refs[k].path;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", opt->output, name);
            for (int n = 2;; n++) {
                struct stat out;
                bool clash =
                    path_set_has(&taken, path) ||
                    (have_in && stat(path, &out) == 0 && out.st_dev == in.st_dev && out.st_ino == in.st_ino);
                if (!clash)
                    break;
                char stem[256];
                snprintf(stem, sizeof stem, "%s", name);
                char *dot = strrchr(stem, '.');
                if (dot)
                    *dot = '\0';
                snprintf(path, sizeof path, "%s/%s_%d.xlsx", opt->output, stem, n);
                if (n == 2) /* said even with -q: the officer must know */
                    fprintf(stderr, "%s: 输出文件名 %s 已被占用，改为 %s\n", opt->inputs.files[i], name,
                            path);
            }
            char *full = strdup(path);
            ok = full && path_set_add(&taken, full);
            if (!full)
                break;
            free(r->refs[k].path);
            r->refs[k].path = full;
        }
    }
    free(taken.slot); /* the strings belong to the results */
    return ok;
}

static void print_summary(const pipeline *p, size_t done, size_t n, bool interrupted)
{
    const options *opt = p->opt;
    const tally *t = &p->t;
    fflush(stdout); /* the summary comes after the output when both go to one place */
    fprintf(stderr, "%s%zu/%zu 个文件，用时 %.2f 秒", interrupted ? "已中断：" : "", done, n,
            seconds_since(&p->prog->start));
    if (p->stage != STAGE_DETECT) {
        fputs(t->by_template[0].id[0] ? "；文档" : "；文档 0 份", stderr);
        for (int k = 0; k < 16 && t->by_template[k].id[0]; k++)
            fprintf(stderr, " %s %zu 份", t->by_template[k].id, t->by_template[k].n);
        fprintf(stderr, "；error %zu，warning %zu，info %zu", t->by_sev[PS_SEV_ERROR],
                t->by_sev[PS_SEV_WARNING], t->by_sev[PS_SEV_INFO]);
    }
    if (t->files_bad) {
        fprintf(stderr, "；无法处理的文件 %zu 个（", t->files_bad);
        bool first = true;
        for (int c = 1; c <= PS_ERR_NOMEM; c++)
            if (t->by_code[c]) {
                fprintf(stderr, "%s%s %zu", first ? "" : "，", ps_error_code_name((ps_status)c),
                        t->by_code[c]);
                first = false;
            }
        fputs("）", stderr);
    }
    if (opt->inputs.skipped_lock + opt->inputs.skipped_hidden + opt->inputs.skipped_other)
        fprintf(stderr, "；跳过 锁文件 %zu、隐藏文件 %zu、其他文件 %zu", opt->inputs.skipped_lock,
                opt->inputs.skipped_hidden, opt->inputs.skipped_other);
    fputs("\n", stderr);
}

/* convert and merge: pass 2, writing as files come. Returns false when interrupted. */
static bool write_outputs(pipeline *p, size_t n)
{
    const options *opt = p->opt;
    ps_error err;
    char jsonl_path[4096], jsonl_tmp[4200];
    if (p->stage == STAGE_CONVERT) {
        if (mkdir(opt->output, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "perfsheet convert: 无法创建输出目录 %s：%s\n", opt->output, strerror(errno));
            p->rc = EXIT_TROUBLE;
            return true;
        }
        if (!plan_outputs(p, n)) {
            fprintf(stderr, "perfsheet: 内存不足\n");
            p->rc = EXIT_TROUBLE;
            return true;
        }
        snprintf(jsonl_path, sizeof jsonl_path, "%s/findings.jsonl", opt->output);
        snprintf(jsonl_tmp, sizeof jsonl_tmp, "%s/.findings.jsonl.tmp-%ld", opt->output, (long)getpid());
        if (!(p->jsonl = fopen(jsonl_tmp, "w"))) {
            fprintf(stderr, "perfsheet convert: 无法写入 %s：%s\n", jsonl_tmp, strerror(errno));
            p->rc = EXIT_TROUBLE;
            return true;
        }
    } else if (p->stage == STAGE_MERGE && ps_merge_open(p->mappings, opt->output, &err, &p->merge) != PS_OK) {
        print_error(&err);
        p->rc = EXIT_TROUBLE;
        return true;
    } else if (p->stage == STAGE_REPORT &&
               ps_report_open(p->mappings, opt->output, &p->report, &err) != PS_OK) {
        print_error(&err);
        p->rc = EXIT_TROUBLE;
        return true;
    }
    size_t done = ps_batch_run_ordered(n, opt->jobs, ORDERED_WINDOW, reprocess_file, consume_file, p,
                                       p->prog->enabled ? show_progress : NULL, p->prog);
    bool interrupted = done < n || ps_batch_stop_requested();
    if (p->jsonl) {
        bool bad = fclose(p->jsonl) != 0;
        p->jsonl = NULL;
        if (interrupted || bad || rename(jsonl_tmp, jsonl_path) != 0) {
            unlink(jsonl_tmp);
            if (!interrupted) {
                fprintf(stderr, "perfsheet convert: 无法写入 %s\n", jsonl_path);
                p->rc = EXIT_TROUBLE;
            }
        }
        if (interrupted)
            fprintf(stderr, "perfsheet convert: 已中断，已写出的文件均为完整文件，未写 findings.jsonl\n");
    }
    if (p->merge) {
        if (interrupted) {
            ps_merge_abort(p->merge);
            fprintf(stderr, "perfsheet merge: 已中断，未写出 %s\n", opt->output);
        } else if (ps_merge_close(p->merge, &err) != PS_OK) {
            print_error(&err);
            p->rc = EXIT_TROUBLE;
        } else if (!opt->quiet) {
            printf("%s\n", opt->output);
        }
        p->merge = NULL;
    }
    if (p->report) {
        if (interrupted) {
            ps_report_abort(p->report);
            fprintf(stderr, "perfsheet report: 已中断，未写出 %s\n", opt->output);
        } else if (ps_report_close(p->report, &err) != PS_OK) {
            print_error(&err);
            p->rc = EXIT_TROUBLE;
        } else if (!opt->quiet) {
            printf("%s\n", opt->output);
        }
        p->report = NULL;
    } else if (p->stage == STAGE_REPORT && !interrupted) {
        fprintf(stderr, "perfsheet report: 未写出 %s\n", opt->output);
    }
    return !interrupted;
}

static int run_pipeline(options *opt, stage st, progress *prog)
{
    if (st >= STAGE_CONVERT && !opt->output) {
        static const char *wanted[] = {
            [STAGE_CONVERT] = "DIR", [STAGE_MERGE] = "OUT.xlsx", [STAGE_REPORT] = "OUT.html"};
        fprintf(stderr, "perfsheet %s: 需要 -o %s\n", opt->command, wanted[st]);
        return EXIT_TROUBLE;
    }
    ps_error err;
    ps_mapping_set *set = NULL;
    if (ps_mapping_set_load(opt->mapping_dir, &set, &err) != PS_OK) {
        print_error(&err);
        return EXIT_TROUBLE;
    }
    ps_checker *checker = NULL;
    if (st != STAGE_DETECT && ps_checker_new(set, &checker, &err) != PS_OK) {
        print_error(&err);
        ps_mapping_set_free(set);
        return EXIT_TROUBLE;
    }
    size_t n = opt->inputs.n;
    pipeline *p = calloc(1, sizeof *p);
    if (p)
        p->results = calloc(n, sizeof(file_result));
    if (!p || !p->results) {
        fprintf(stderr, "perfsheet: 内存不足\n");
        free(p);
        ps_checker_free(checker);
        ps_mapping_set_free(set);
        return EXIT_TROUBLE;
    }
    p->opt = opt;
    p->stage = st;
    p->mappings = set;
    p->checker = checker;
    p->prog = prog;
    p->spill_fd = -1;
    /* unlinked temporary file (gone at exit) for rendered output, projections and parked
     * documents; a few files keep theirs in memory */
    FILE *spill_file = n > 64 || st >= STAGE_CONVERT ? tmpfile() : NULL;
    if (spill_file)
        p->spill_fd = fileno(spill_file);
    size_t done = ps_batch_run(n, opt->jobs, process_file, p, prog->enabled ? show_progress : NULL, prog);
    bool interrupted = done < n || ps_batch_stop_requested();
    if (st >= STAGE_CHECK && !interrupted)
        interrupted = !cross_check(p, done);
    if (p->cross_failed) {
        print_error(&p->cross_err);
        p->rc = EXIT_TROUBLE;
    }
    if (st <= STAGE_CHECK) {
        done = print_outputs(p, done, interrupted);
    } else if (interrupted) {
        fprintf(stderr, "perfsheet %s: 已中断，未写出任何文件\n", opt->command);
    } else {
        interrupted = !write_outputs(p, n);
    }
    interrupted = interrupted || ps_batch_stop_requested();
    if (interrupted)
        p->rc = EXIT_TROUBLE;
    if (!opt->quiet)
        print_summary(p, done, n, interrupted);
    int rc = p->rc;
    for (size_t i = 0; i < n; i++)
        free_result(&p->results[i]);
    for (size_t k = 0; k < ORDERED_WINDOW; k++)
        free_slot(&p->slots[k]);
    free(p->results);
    free(p);
    if (spill_file)
        fclose(spill_file);
    ps_checker_free(checker);
    ps_mapping_set_free(set);
    return rc;
}

/* ---- argument parsing ---- */

static volatile sig_atomic_t caught_signal;

static void on_signal(int sig)
{
    caught_signal = sig;
    ps_batch_request_stop();
}

static int parse_args(int argc, char **argv, options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->jobs = ps_batch_default_jobs();
    opt->timeout = 60;
    opt->limits = ps_reader_default_limits();
    if (argc < 2)
        return -1;
    opt->command = argv[1];
    bool only_files = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!only_files && a[0] == '-' && a[1]) {
            if (!strcmp(a, "--")) {
                only_files = true;
            } else if (!strcmp(a, "--json")) {
                opt->json = true;
            } else if (!strcmp(a, "--grid")) {
                opt->grid = true;
            } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
                opt->quiet = true;
            } else if (!strcmp(a, "-m") || !strcmp(a, "-o") || !strcmp(a, "-j")) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "perfsheet: 选项 %s 缺少参数\n", a);
                    return -1;
                }
                const char *v = argv[++i];
                if (a[1] == 'm')
                    opt->mapping_dir = v;
                else if (a[1] == 'o')
                    opt->output = v;
                else {
                    char *end;
                    long j = strtol(v, &end, 10);
                    if (*end || j < 1 || j > 256) {
                        fprintf(stderr, "perfsheet: -j 需要 1 到 256 之间的整数，而不是 %s\n", v);
                        return -1;
                    }
                    opt->jobs = (int)j;
                }
            } else if (!strcmp(a, "--timeout") || !strcmp(a, "--max-cells")) {
                char *end;
                double v = i + 1 < argc ? strtod(argv[i + 1], &end) : -1;
                if (i + 1 >= argc || *end || v <= 0 || v > 1e12) {
                    fprintf(stderr, "perfsheet: 选项 %s 需要一个正数\n", a);
                    return -1;
                }
                i++;
                if (a[2] == 't')
                    opt->timeout = v;
                else
                    opt->limits.max_cells_per_file = (uint64_t)v;
            } else if (!strncmp(a, "-j", 2) && a[2]) {
                char *end;
                long j = strtol(a + 2, &end, 10);
                if (*end || j < 1 || j > 256) {
                    fprintf(stderr, "perfsheet: -j 需要 1 到 256 之间的整数，而不是 %s\n", a + 2);
                    return -1;
                }
                opt->jobs = (int)j;
            } else {
                fprintf(stderr, "perfsheet: 未知选项 %s\n", a);
                return -1;
            }
        } else if (ps_inputs_add(&opt->inputs, a) != 0) {
            fprintf(stderr, "perfsheet: 内存不足\n");
            return -1;
        }
    }
    return 0;
}

int ps_cli_main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        fputs(usage_text, stdout);
        return EXIT_CLEAN;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("perfsheet %s\n", PS_VERSION);
        return EXIT_CLEAN;
    }
    options opt;
    if (parse_args(argc, argv, &opt) != 0) {
        fputs(usage_text, stderr);
        ps_inputs_free(&opt.inputs);
        return EXIT_TROUBLE;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            ps_inputs_free(&opt.inputs);
            return EXIT_CLEAN;
        }
    if (opt.inputs.n == 0) {
        fprintf(stderr, "perfsheet %s: 没有输入文件\n", opt.command);
        fputs(usage_text, stderr);
        ps_inputs_free(&opt.inputs);
        return EXIT_TROUBLE;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    progress prog = {.enabled = !opt.quiet && isatty(STDERR_FILENO)};
    clock_gettime(CLOCK_MONOTONIC, &prog.start);
    int rc;
    if (!strcmp(opt.command, "inspect")) {
        rc = run_inspect(&opt, &prog);
    } else if (!strcmp(opt.command, "detect")) {
        rc = run_pipeline(&opt, STAGE_DETECT, &prog);
    } else if (!strcmp(opt.command, "extract")) {
        rc = run_pipeline(&opt, STAGE_EXTRACT, &prog);
    } else if (!strcmp(opt.command, "check")) {
        rc = run_pipeline(&opt, STAGE_CHECK, &prog);
    } else if (!strcmp(opt.command, "convert")) {
        rc = run_pipeline(&opt, STAGE_CONVERT, &prog);
    } else if (!strcmp(opt.command, "merge")) {
        rc = run_pipeline(&opt, STAGE_MERGE, &prog);
    } else if (!strcmp(opt.command, "report")) {
        rc = run_pipeline(&opt, STAGE_REPORT, &prog);
    } else {
        fprintf(stderr, "perfsheet: 未知命令 %s\n", opt.command);
        fputs(usage_text, stderr);
        rc = EXIT_TROUBLE;
    }
    ps_inputs_free(&opt.inputs);
    if (caught_signal)
        return 128 + caught_signal; /* interrupted: what was done is in the summary */
    return rc;
}
