/* cli.c - the command line of spec/cli.md: argument parsing, batches, printing, exit status.
 * The only module that prints, reads argv or decides the exit status. */
#include "perfsheet/batch.h"
#include "perfsheet/deadline.h"
#include "perfsheet/error.h"
#include "perfsheet/lint.h"
#include "perfsheet/mapping.h"
#include "perfsheet/merge.h"
#include "perfsheet/writer.h"
#include "perfsheet/inputs.h"
#include "perfsheet/pipeline.h"
#include "perfsheet/previous.h"
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
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define PS_VERSION "0.1.0"

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_TROUBLE = 2 };

typedef struct options {
    const char *command;
    const char *mapping_dir; /* -m */
    const char *output;      /* -o */
    const char *previous;    /* --previous: last year's merge -o X.sqlite */
    int jobs;                /* -j */
    double timeout;          /* --timeout: seconds per file, 0 none */
    int year;                /* --year: for year fields no cell holds, 0 none */
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
    "  perfsheet merge   FILE...|DIR... -o OUT.sqlite  the same as a SQLite database (also .db)\n"
    "  perfsheet report  FILE...|DIR... -o OUT.html  one self-contained HTML review report\n"
    "  perfsheet lint    [-m DIR] [FILE...] [--json] the rule set's self-check (docs/lint.md); with FILEs,\n"
    "                                                how often each rule ran on them (coverage)\n"
    "common: -m DIR (mappings; default: the built-in mappings), -j N (parallel files), -q, --help, "
    "--version\n"
    "        --timeout SECONDS (per file, default 60), --max-cells N (per file, default 5000000)\n"
    "        --previous LAST (check/convert/merge/report: last year's merge -o X.sqlite database, or a\n"
    "        folder of last year's submissions, for the year-on-year rules, docs/rules.md)\n"
    "        --year YYYY (the year of year fields no cell holds: docs/mapping.md)\n"
    "A directory argument means every .xls/.xlsx under it, recursively, in sorted order.\n"
    "Exit status: 0 all read and no error finding; 1 error findings; 2 bad usage or unreadable files.\n"
    "lint: 0 clean; 1 warnings or errors about the rules; 2 a mapping that does not load, an unreadable "
    "FILE, bad usage.\n";

static void print_error(const ps_error *err)
{
    char where[1024];
    ps_error_location(err, where, sizeof where);
    fprintf(stderr, "%s: %s [%s]\n", where, err->message, ps_error_code_name(err->code));
    char line[1024], caret[2400];
    if ((err->code == PS_ERR_MAPPING || err->code == PS_ERR_RULE_SYNTAX) && err->line > 0 && err->col > 0 &&
        ps_mapping_source_line(err->file, err->line, line, sizeof line)) {
        ps_rule_caret(line, err->col, err->span, caret, sizeof caret);
        fprintf(stderr, "%s\n", caret);
    }
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

/* ---- detect, extract, check, convert, merge: the pipeline (pipeline.h) into a sink ---- */

typedef struct run_context {
    const options *opt;
    progress *prog;
} run_context;

static void on_progress(size_t done, size_t total, void *ctx)
{
    show_progress(done, total, ((run_context *)ctx)->prog);
}

static void on_file_failed(void *ctx, const ps_error *err)
{
    const run_context *rc = ctx;
    if (!(rc->opt->json && rc->opt->quiet))
        print_error(err);
}

static void on_error(void *ctx, const ps_error *err)
{
    (void)ctx;
    print_error(err);
}

static void on_output(void *ctx, const char *path)
{
    const run_context *rc = ctx;
    if (!rc->opt->quiet)
        printf("%s\n", path);
}

static void on_notice(void *ctx, const char *subject, const char *text)
{
    const run_context *rc = ctx;
    if (subject)
        fprintf(stderr, "%s: %s\n", subject, text);
    else
        fprintf(stderr, "perfsheet %s: %s\n", rc->opt->command, text);
}

static void print_summary(const options *opt, const progress *prog, const ps_pipeline_summary *t,
                          ps_pipeline_work work)
{
    fflush(stdout); /* the summary comes after the output when both go to one place */
    fprintf(stderr, "%s%zu/%zu 个文件，用时 %.2f 秒", t->interrupted ? "已中断：" : "", t->done, t->total,
            seconds_since(&prog->start));
    if (work != PS_WORK_DETECT) {
        fputs(t->by_template[0].id[0] ? "；文档" : "；文档 0 份", stderr);
        for (int k = 0; k < 16 && t->by_template[k].id[0]; k++)
            fprintf(stderr, " %s %zu 份", t->by_template[k].id, t->by_template[k].n);
        fprintf(stderr, "；error %zu，warning %zu，info %zu", t->by_severity[PS_SEV_ERROR],
                t->by_severity[PS_SEV_WARNING], t->by_severity[PS_SEV_INFO]);
    }
    if (t->files_failed) {
        fprintf(stderr, "；无法处理的文件 %zu 个（", t->files_failed);
        bool first = true;
        for (int c = 1; c <= PS_ERR_NOMEM; c++)
            if (t->by_code[c]) {
                fprintf(stderr, "%s%s %zu", first ? "" : "，", ps_error_code_name((ps_status)c),
                        t->by_code[c]);
                first = false;
            }
        fputs("）", stderr);
    }
    if (t->spread[0])
        fprintf(stderr, "；分表 %s", t->spread);
    if (opt->inputs.skipped_lock + opt->inputs.skipped_hidden + opt->inputs.skipped_other)
        fprintf(stderr, "；跳过 锁文件 %zu、隐藏文件 %zu、其他文件 %zu", opt->inputs.skipped_lock,
                opt->inputs.skipped_hidden, opt->inputs.skipped_other);
    fputs("\n", stderr);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcasecmp(s + n - t, tail);
}

typedef enum command { CMD_DETECT, CMD_EXTRACT, CMD_CHECK, CMD_CONVERT, CMD_MERGE, CMD_REPORT } command;

/* Rows per merged sheet: $PERFSHEET_SHEET_ROW_LIMIT (tests spread a part over several sheets
 * with a small one), else 0: Excel's 1,048,576. */
static uint32_t sheet_row_limit(void)
{
    const char *s = getenv("PERFSHEET_SHEET_ROW_LIMIT");
    char *end;
    unsigned long v = s && *s ? strtoul(s, &end, 10) : 0;
    return s && *s && *end == '\0' && v <= UINT32_MAX ? (uint32_t)v : 0;
}

/* --previous DIR: last year's submissions, read, checked and written to a database in $TMPDIR
 * (the merge -o X.sqlite of them), then opened as last year's figures; the database is
 * unlinked once open. Returns what ps_previous_open returns; errors are printed. */
static ps_status previous_from_folder(const options *opt, ps_previous **out, ps_error *err)
{
    const char *tmpdir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/perfsheet-previous-%ld.sqlite", tmpdir && *tmpdir ? tmpdir : "/tmp",
             (long)getpid());
    ps_inputs last = {0};
    if (ps_inputs_add(&last, opt->previous) != 0)
        return ps_error_set(err, PS_ERR_NOMEM, opt->previous, "内存不足");
    ps_sink *sink = ps_sink_sqlite_new(path);
    if (!sink) {
        ps_inputs_free(&last);
        return ps_error_set(err, PS_ERR_NOMEM, opt->previous, "内存不足");
    }
    ps_pipeline_config cfg = {
        .files = (const char *const *)last.files,
        .nfiles = last.n,
        .mapping_dir = opt->mapping_dir,
        .jobs = opt->jobs,
        .timeout = opt->timeout,
        .limits = opt->limits,
    };
    ps_pipeline_summary sum;
    ps_status st = ps_pipeline_run(&cfg, sink, &sum, err);
    ps_sink_free(sink);
    ps_inputs_free(&last);
    if (st == PS_OK && sum.interrupted)
        st = ps_error_set(err, PS_ERR_IO, opt->previous, "读取上年报表时被中断");
    if (st == PS_OK && !opt->quiet)
        fprintf(stderr, "perfsheet %s: 上年报表 %s：%zu 个文件（无法读取 %zu 个）\n", opt->command,
                opt->previous, sum.total, sum.files_failed);
    if (st == PS_OK)
        st = ps_previous_open(path, out, err);
    unlink(path);
    return st;
}

/* The sink of cmd for opt (work: how far its files go); NULL on out-of-memory. */
static ps_sink *choose_sink(const options *opt, command cmd, ps_pipeline_work work)
{
    switch (cmd) {
    case CMD_DETECT:
    case CMD_EXTRACT:
    case CMD_CHECK: return opt->json ? ps_sink_json_new(work, stdout) : ps_sink_text_new(work, stdout);
    case CMD_CONVERT: return ps_sink_convert_new(opt->output);
    case CMD_MERGE:
        return ends_with(opt->output, ".sqlite") || ends_with(opt->output, ".db")
                   ? ps_sink_sqlite_new(opt->output)
                   : ps_sink_merge_new(opt->output, &(ps_merge_options){.sheet_rows = sheet_row_limit()});
    case CMD_REPORT: return ps_sink_report_new(opt->output);
    }
    return NULL;
}

static int run_pipeline(options *opt, command cmd, progress *prog)
{
    if (cmd >= CMD_CONVERT && !opt->output) {
        static const char *const wanted[] = {
            [CMD_CONVERT] = "DIR", [CMD_MERGE] = "OUT.xlsx", [CMD_REPORT] = "OUT.html"};
        fprintf(stderr, "perfsheet %s: 需要 -o %s\n", opt->command, wanted[cmd]);
        return EXIT_TROUBLE;
    }
    ps_pipeline_work work = cmd == CMD_DETECT    ? PS_WORK_DETECT
                            : cmd == CMD_EXTRACT ? PS_WORK_EXTRACT
                                                 : PS_WORK_CHECK;
    ps_sink *sink = choose_sink(opt, cmd, work);
    if (!sink) {
        fprintf(stderr, "perfsheet: 内存不足\n");
        return EXIT_TROUBLE;
    }
    ps_previous *previous = NULL;
    ps_error perr;
    struct stat prev_st;
    bool prev_dir = opt->previous && stat(opt->previous, &prev_st) == 0 && S_ISDIR(prev_st.st_mode);
    if (opt->previous && (prev_dir ? previous_from_folder(opt, &previous, &perr)
                                   : ps_previous_open(opt->previous, &previous, &perr)) != PS_OK) {
        print_error(&perr);
        ps_sink_free(sink);
        return EXIT_TROUBLE;
    }
    run_context ctx = {opt, prog};
    ps_pipeline_config cfg = {
        .previous = previous,
        .files = (const char *const *)opt->inputs.files,
        .nfiles = opt->inputs.n,
        .mapping_dir = opt->mapping_dir,
        .jobs = opt->jobs,
        .timeout = opt->timeout,
        .year = opt->year,
        .limits = opt->limits,
        .events = {.ctx = &ctx,
                   .progress = prog->enabled ? on_progress : NULL,
                   .file_failed = on_file_failed,
                   .error = on_error,
                   .output = on_output,
                   .notice = on_notice,
                   .failed_so_far = &prog->errors},
    };
    ps_pipeline_summary sum;
    ps_error err;
    ps_status st = ps_pipeline_run(&cfg, sink, &sum, &err);
    ps_sink_free(sink);
    ps_previous_free(previous);
    if (st != PS_OK) {
        print_error(&err);
        return EXIT_TROUBLE;
    }
    if (!opt->quiet)
        print_summary(opt, prog, &sum, work);
    if (sum.trouble)
        return EXIT_TROUBLE;
    return sum.by_severity[PS_SEV_ERROR] ? EXIT_FINDINGS : EXIT_CLEAN;
}

/* ---- lint ---- */

static const char *lint_severity_word(ps_severity sev)
{
    return sev == PS_SEV_ERROR ? "错误" : sev == PS_SEV_WARNING ? "警告" : "信息";
}

/* `file:line:col: 警告 [lint.kind] rule[instance]: message`, or its JSON Lines form. */
static void lint_line(ps_buf *b, const ps_lint_finding *f, bool json)
{
    if (json) {
        ps_buf_puts(b, "{\"file\": ");
        ps_json_string(b, f->file);
        if (f->line > 0)
            ps_buf_printf(b, ", \"line\": %d, \"col\": %d", f->line, f->col);
        ps_buf_puts(b, ", \"severity\": ");
        ps_json_string(b, ps_severity_name(f->severity));
        ps_buf_puts(b, ", \"kind\": ");
        ps_json_string(b, ps_lint_kind_name(f->kind));
        if (f->rule) {
            ps_buf_puts(b, ", \"rule\": ");
            ps_json_string(b, f->rule);
        }
        if (f->instance) {
            ps_buf_puts(b, ", \"instance\": ");
            ps_json_string(b, f->instance);
        }
        if (f->kind == PS_LINT_COVERAGE)
            ps_buf_printf(b,
                          ", \"documents\": %zu, \"evaluated\": %zu, \"passed\": %zu, \"failed\": %zu, "
                          "\"blank\": %zu, \"skipped_when\": %zu",
                          f->documents, f->passed + f->failed, f->passed, f->failed, f->blank,
                          f->skipped_when);
        ps_buf_puts(b, ", \"message\": ");
        ps_json_string(b, f->message);
        ps_buf_puts(b, "}\n");
        return;
    }
    ps_buf_puts(b, f->file);
    if (f->line > 0)
        ps_buf_printf(b, ":%d:%d", f->line, f->col);
    ps_buf_printf(b, ": %s [%s] ", lint_severity_word(f->severity), ps_lint_kind_name(f->kind));
    if (f->rule)
        ps_buf_printf(b, "%s%s%s%s: ", f->rule, f->instance ? "[" : "", f->instance ? f->instance : "",
                      f->instance ? "]" : "");
    ps_buf_puts(b, f->message);
    ps_buf_puts(b, "\n");
    char line[1024], caret[2400];
    if (f->kind == PS_LINT_LOAD && f->line > 0 && f->col > 0 &&
        ps_mapping_source_line(f->file, f->line, line, sizeof line)) { /* as check shows it */
        ps_rule_caret(line, f->col, f->span, caret, sizeof caret);
        ps_buf_printf(b, "%s\n", caret);
    }
}

static int run_lint(options *opt)
{
    if (opt->output) {
        fprintf(stderr, "perfsheet lint: 不接受 -o\n");
        return EXIT_TROUBLE;
    }
    ps_lint_options lo = {opt->mapping_dir, (const char *const *)opt->inputs.files, opt->inputs.n,
                          opt->limits};
    ps_lint_report *rep = NULL;
    ps_error err;
    if (ps_lint_run(&lo, &rep, &err) != PS_OK) {
        print_error(&err);
        return EXIT_TROUBLE;
    }
    size_t count[3] = {0};
    bool trouble = false;
    ps_buf b = {0};
    for (size_t i = 0; i < ps_lint_count(rep); i++) {
        const ps_lint_finding *f = ps_lint_at(rep, i);
        trouble |= f->kind == PS_LINT_LOAD || f->kind == PS_LINT_INPUT;
        if (f->kind != PS_LINT_COVERAGE)
            count[f->severity]++;
        lint_line(&b, f, opt->json);
    }
    if (b.len)
        fwrite(b.data, 1, b.len, stdout);
    fflush(stdout); /* before the summary on stderr, which may be the same file */
    bool oom = b.oom;
    ps_buf_free(&b);
    ps_lint_report_free(rep);
    if (oom) {
        fprintf(stderr, "perfsheet: 内存不足\n");
        return EXIT_TROUBLE;
    }
    if (!opt->quiet)
        fprintf(stderr, "lint：错误 %zu，警告 %zu%s\n", count[PS_SEV_ERROR], count[PS_SEV_WARNING],
                opt->inputs.n ? "；覆盖情况见 lint.coverage" : "");
    return trouble ? EXIT_TROUBLE : count[PS_SEV_ERROR] + count[PS_SEV_WARNING] ? EXIT_FINDINGS : EXIT_CLEAN;
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
            } else if (!strcmp(a, "--previous")) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "perfsheet: 选项 %s 缺少参数\n", a);
                    return -1;
                }
                opt->previous = argv[++i];
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
            } else if (!strcmp(a, "--year")) {
                char *end = NULL;
                long y = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
                if (i + 1 >= argc || *end || y < 1900 || y > 2100) {
                    fprintf(stderr, "perfsheet: --year 需要 1900 到 2100 之间的年份\n");
                    return -1;
                }
                opt->year = (int)(y);
                i++;
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

/* The commands of usage_text: anything else is said before the arguments are looked at. */
static bool known_command(const char *name)
{
    static const char *const commands[] = {"inspect", "detect", "extract", "check",
                                           "convert", "merge",  "lint",    "report"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i]))
            return true;
    return false;
}

int ps_cli_main(int argc, char **argv)
{
    /* first: a batch started in the background of a script begins with SIGINT ignored, and
     * an interrupt during the walk of the inputs must still stop it */
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        fputs(usage_text, stdout);
        return EXIT_CLEAN;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("perfsheet %s\n", PS_VERSION);
        return EXIT_CLEAN;
    }
    if (argc >= 2 && !known_command(argv[1])) {
        fprintf(stderr, "perfsheet: 未知命令「%s」\n", argv[1]);
        fputs(usage_text, stderr);
        return EXIT_TROUBLE;
    }
    for (int i = 2; i < argc; i++) /* perfsheet check --help: the usage, whatever else is there */
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return EXIT_CLEAN;
        }
    options opt;
    if (parse_args(argc, argv, &opt) != 0) {
        fputs(usage_text, stderr);
        ps_inputs_free(&opt.inputs);
        return EXIT_TROUBLE;
    }
    if (!strcmp(opt.command, "lint")) { /* FILEs are optional: without them, the rules alone */
        int lrc = run_lint(&opt);
        ps_inputs_free(&opt.inputs);
        return lrc;
    }
    if (opt.inputs.n == 0) {
        fprintf(stderr, "perfsheet %s: 没有输入文件\n", opt.command);
        fputs(usage_text, stderr);
        ps_inputs_free(&opt.inputs);
        return EXIT_TROUBLE;
    }
    progress prog = {.enabled = !opt.quiet && isatty(STDERR_FILENO)};
    clock_gettime(CLOCK_MONOTONIC, &prog.start);
    int rc;
    if (!strcmp(opt.command, "inspect")) {
        rc = run_inspect(&opt, &prog);
    } else if (!strcmp(opt.command, "detect")) {
        rc = run_pipeline(&opt, CMD_DETECT, &prog);
    } else if (!strcmp(opt.command, "extract")) {
        rc = run_pipeline(&opt, CMD_EXTRACT, &prog);
    } else if (!strcmp(opt.command, "check")) {
        rc = run_pipeline(&opt, CMD_CHECK, &prog);
    } else if (!strcmp(opt.command, "convert")) {
        rc = run_pipeline(&opt, CMD_CONVERT, &prog);
    } else if (!strcmp(opt.command, "merge")) {
        rc = run_pipeline(&opt, CMD_MERGE, &prog);
    } else if (!strcmp(opt.command, "report")) {
        rc = run_pipeline(&opt, CMD_REPORT, &prog);
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
