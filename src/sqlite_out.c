/* sqlite_out.c - the batch as a SQLite database (sqlite_out.h, docs/sqlite.md). One
 * transaction on a temporary file with no journal (the rename is what makes the output
 * atomic); statements prepared once; indexes and views added at the end. */
#include "perfsheet/sqlite_out.h"

#include "perfsheet/report_json.h"
#include "perfsheet/workbook.h"

#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char schema[] =
    "CREATE TABLE files (\n"
    "  file_id INTEGER PRIMARY KEY,  -- 1, 2, ... in input order\n"
    "  path TEXT NOT NULL,\n"
    "  status TEXT NOT NULL,         -- ok, findings (an error or warning), error (not read)\n"
    "  error_code TEXT,              -- not_a_spreadsheet, corrupt, no_template, ...\n"
    "  error_message TEXT,\n"
    "  error_sheet TEXT,\n"
    "  error_cell TEXT);\n"
    "CREATE TABLE documents (\n"
    "  document_id INTEGER PRIMARY KEY,\n"
    "  file_id INTEGER NOT NULL REFERENCES files,\n"
    "  sheet TEXT NOT NULL,\n"
    "  template TEXT NOT NULL,       -- jcsj, zpb, ...\n"
    "  mapping TEXT NOT NULL,\n"
    "  unit TEXT,\n"
    "  year INTEGER);\n"
    "CREATE TABLE field_values (\n"
    "  document_id INTEGER NOT NULL REFERENCES documents,\n"
    "  key TEXT NOT NULL,            -- funds.rate, staff_quota, ... (spec/fields.md)\n"
    "  value,                        -- as check --json shows it: a number or a text\n"
    "  type TEXT NOT NULL,           -- money, fraction, int, text, date, target, ...\n"
    "  number,                       -- the number, when the value has one (a target's too)\n"
    "  raw_text TEXT,                -- the cell's text as typed, when it differs from value\n"
    "  cell TEXT,                    -- source cell (A1; 表!A1 in a multi-sheet document), NULL when "
    "derived\n"
    "  PRIMARY KEY (document_id, key)) WITHOUT ROWID;\n"
    "CREATE TABLE findings (\n"
    "  finding_id INTEGER PRIMARY KEY,\n"
    "  file_id INTEGER NOT NULL REFERENCES files,\n"
    "  document_id INTEGER NOT NULL REFERENCES documents,\n"
    "  rule TEXT NOT NULL,           -- zpb.rate, cross.basic, clean.percent_text, ...\n"
    "  severity TEXT NOT NULL,       -- error, warning, info\n"
    "  sheet TEXT,\n"
    "  cell TEXT,                    -- the cell the finding is about (A1)\n"
    "  cells TEXT NOT NULL,          -- every cell involved, a JSON array\n"
    "  message TEXT NOT NULL,\n"
    "  expected,                     -- a number or a text, NULL when none\n"
    "  actual);\n";

/* A template table (indicators, projects, …): an SQL table with a column per key, added as
 * keys appear. */
typedef struct out_table {
    char *name;     /* the document's table name */
    char *sql_name; /* its SQL table */
    char **keys;
    size_t nkeys;
    sqlite3_stmt *insert; /* NULL: to prepare (again, after a column was added) */
} out_table;

struct ps_sqlite_out {
    sqlite3 *db;
    char out_path[PATH_MAX], tmp[PATH_MAX + 128];
    sqlite3_stmt *ins_file, *ins_doc, *ins_value, *ins_finding;
    sqlite3_int64 nfiles, ndocs;
    out_table *tables;
    size_t ntables;
};

static ps_status db_error(ps_sqlite_out *o, ps_error *err, const char *what)
{
    return ps_error_set(err, PS_ERR_IO, o->out_path, "无法写入 SQLite 数据库（%s）：%s", what,
                        o->db ? sqlite3_errmsg(o->db) : "内存不足");
}

static bool exec(ps_sqlite_out *o, const char *sql)
{
    return sqlite3_exec(o->db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

static bool prepare(ps_sqlite_out *o, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(o->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK;
}

static void free_tables(ps_sqlite_out *o)
{
    for (size_t t = 0; t < o->ntables; t++) {
        out_table *tb = &o->tables[t];
        sqlite3_finalize(tb->insert);
        for (size_t k = 0; k < tb->nkeys; k++)
            free(tb->keys[k]);
        free(tb->keys);
        free(tb->name);
        free(tb->sql_name);
    }
    free(o->tables);
    o->tables = NULL;
    o->ntables = 0;
}

static void close_db(ps_sqlite_out *o)
{
    sqlite3_finalize(o->ins_file);
    sqlite3_finalize(o->ins_doc);
    sqlite3_finalize(o->ins_value);
    sqlite3_finalize(o->ins_finding);
    o->ins_file = o->ins_doc = o->ins_value = o->ins_finding = NULL;
    free_tables(o);
    sqlite3_close(o->db);
    o->db = NULL;
}

void ps_sqlite_out_abort(ps_sqlite_out *o)
{
    if (!o)
        return;
    close_db(o);
    unlink(o->tmp);
    free(o);
}

ps_status ps_sqlite_out_open(const char *out_path, ps_sqlite_out **out, ps_error *err)
{
    ps_sqlite_out *o = calloc(1, sizeof *o);
    if (!o)
        return ps_error_set(err, PS_ERR_NOMEM, out_path, "内存不足");
    snprintf(o->out_path, sizeof o->out_path, "%s", out_path);
    const char *slash = strrchr(out_path, '/');
    const char *name = slash ? slash + 1 : out_path;
    int dirlen = slash ? (int)(slash - out_path + 1) : 0;
    snprintf(o->tmp, sizeof o->tmp, "%.*s.%.64s.tmp-%ld", dirlen, out_path, name, (long)getpid());
    unlink(o->tmp); /* a leftover of a killed run of the same pid */
    ps_status st = PS_OK;
    if (sqlite3_open_v2(o->tmp, &o->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        st = db_error(o, err, "创建");
    else if (!exec(o, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;"
                      "PRAGMA foreign_keys=OFF; BEGIN;") ||
             !exec(o, schema))
        st = db_error(o, err, "建表");
    else if (!prepare(o, "INSERT INTO files VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &o->ins_file) ||
             !prepare(o, "INSERT INTO documents VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &o->ins_doc) ||
             !prepare(o, "INSERT INTO field_values VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &o->ins_value) ||
             !prepare(o,
                      "INSERT INTO findings (file_id, document_id, rule, severity, sheet, cell, cells, "
                      "message, expected, actual) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                      &o->ins_finding))
        st = db_error(o, err, "准备语句");
    if (st != PS_OK) {
        ps_sqlite_out_abort(o);
        return st;
    }
    *out = o;
    return PS_OK;
}

/* ---- binding ---- */

static void bind_text(sqlite3_stmt *s, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static bool is_int_type(ps_field_type t)
{
    return t == PS_TYPE_INT || t == PS_TYPE_YEAR;
}

static void bind_number(sqlite3_stmt *s, int i, const ps_value *v)
{
    if (!v->has_number || !isfinite(v->number))
        sqlite3_bind_null(s, i);
    else if (is_int_type(v->type) && fabs(v->number) < 9e15)
        sqlite3_bind_int64(s, i, (sqlite3_int64)v->number);
    else
        sqlite3_bind_double(s, i, v->number);
}

/* The text the value shows, as ps_report_value_json does: the text of textual types, else
 * (no number) whatever text there is; NULL when the value is a number. */
static const char *value_text(const ps_value *v)
{
    bool textual = v->type == PS_TYPE_TEXT || v->type == PS_TYPE_DATE || v->type == PS_TYPE_PHONE ||
                   v->type == PS_TYPE_GRADE || v->type == PS_TYPE_TARGET;
    if (textual && v->text)
        return v->text;
    return v->has_number ? NULL : v->text ? v->text : v->raw;
}

static void bind_value(sqlite3_stmt *s, int i, const ps_value *v)
{
    const char *text = value_text(v);
    if (text || !v->has_number)
        bind_text(s, i, text);
    else
        bind_number(s, i, v);
}

static void bind_scalar(sqlite3_stmt *s, int i, const ps_scalar *sc)
{
    if (sc->kind == PS_SCALAR_NUMBER && isfinite(sc->number))
        sqlite3_bind_double(s, i, sc->number);
    else if (sc->kind == PS_SCALAR_TEXT)
        bind_text(s, i, sc->text);
    else
        sqlite3_bind_null(s, i);
}

static const char *type_name(ps_field_type t)
{
    static const char *const names[] = {"text", "money", "int",   "number", "fraction",
                                        "date", "phone", "grade", "year",   "target"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "text";
}

static bool step(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE;
}

/* ---- template tables ---- */

static bool plain_identifier(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static bool reserved_table(const char *s)
{
    static const char *const ours[] = {"files", "documents", "field_values", "findings"};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
        if (!strcmp(s, ours[i]))
            return true;
    return !strncmp(s, "sqlite_", 7);
}

/* The out_table of name, created with its SQL table when new; NULL on failure. */
static out_table *table_for(ps_sqlite_out *o, const char *name)
{
    for (size_t t = 0; t < o->ntables; t++)
        if (!strcmp(o->tables[t].name, name))
            return &o->tables[t];
    out_table *grown = realloc(o->tables, (o->ntables + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    o->tables = grown;
    out_table *tb = &o->tables[o->ntables];
    memset(tb, 0, sizeof *tb);
    char sql_name[64];
    if (plain_identifier(name) && strlen(name) < 48 && !reserved_table(name))
        snprintf(sql_name, sizeof sql_name, "%s", name);
    else
        snprintf(sql_name, sizeof sql_name, "table_%zu", o->ntables + 1);
    if (!(tb->name = strdup(name)) || !(tb->sql_name = strdup(sql_name))) {
        free(tb->name);
        free(tb->sql_name);
        return NULL;
    }
    o->ntables++;
    char *sql = sqlite3_mprintf("CREATE TABLE \"%w\" (\n"
                                "  document_id INTEGER NOT NULL REFERENCES documents,\n"
                                "  row_number INTEGER NOT NULL, -- 1, 2, ... in the sheet's order\n"
                                "  cells TEXT NOT NULL -- the source cell of each key, a JSON object\n"
                                ");", /* then a column per key, added as keys appear */
                                sql_name);
    bool ok = sql && exec(o, sql);
    sqlite3_free(sql);
    return ok ? tb : NULL;
}

static const char *column_name(const char *key, char *buf, size_t size)
{
    if (!strcmp(key, "document_id") || !strcmp(key, "row_number") || !strcmp(key, "cells")) {
        snprintf(buf, size, "value_%s", key);
        return buf;
    }
    return key;
}

/* Index of key's column in tb, adding the column when new; -1 on failure. */
static long key_column(ps_sqlite_out *o, out_table *tb, const char *key)
{
    for (size_t k = 0; k < tb->nkeys; k++)
        if (!strcmp(tb->keys[k], key))
            return (long)k;
    char **grown = realloc(tb->keys, (tb->nkeys + 1) * sizeof *grown);
    if (!grown)
        return -1;
    tb->keys = grown;
    char buf[256];
    char *sql = sqlite3_mprintf("ALTER TABLE \"%w\" ADD COLUMN \"%w\"", tb->sql_name,
                                column_name(key, buf, sizeof buf));
    bool ok = sql && exec(o, sql) && (tb->keys[tb->nkeys] = strdup(key));
    sqlite3_free(sql);
    if (!ok)
        return -1;
    sqlite3_finalize(tb->insert);
    tb->insert = NULL;
    return (long)tb->nkeys++;
}

static bool prepare_table_insert(ps_sqlite_out *o, out_table *tb)
{
    if (tb->insert)
        return true;
    ps_buf sql = {0};
    ps_buf_printf(&sql, "INSERT INTO \"%s\" VALUES (?1, ?2, ?3", tb->sql_name);
    for (size_t k = 0; k < tb->nkeys; k++)
        ps_buf_printf(&sql, ", ?%zu", k + 4);
    ps_buf_puts(&sql, ")");
    bool ok = !sql.oom && prepare(o, sql.data, &tb->insert);
    ps_buf_free(&sql);
    return ok;
}

static bool add_table(ps_sqlite_out *o, const ps_document *d, const ps_table *t)
{
    out_table *tb = table_for(o, ps_table_name(t));
    if (!tb)
        return false;
    size_t ncols = ps_table_column_count(t);
    long *col = malloc((ncols ? ncols : 1) * sizeof *col);
    bool ok = col != NULL;
    for (size_t c = 0; ok && c < ncols; c++)
        ok = (col[c] = key_column(o, tb, ps_table_column(t, c))) >= 0;
    ok = ok && prepare_table_insert(o, tb);
    char ref[320];
    for (size_t r = 0; ok && r < ps_table_row_count(t); r++) {
        ps_buf cells = {0};
        ps_buf_puts(&cells, "{");
        sqlite3_bind_int64(tb->insert, 1, o->ndocs);
        sqlite3_bind_int64(tb->insert, 2, (sqlite3_int64)r + 1);
        for (size_t c = 0; c < ncols; c++) {
            const ps_value *v = ps_table_get(t, r, ps_table_column(t, c));
            if (!v)
                continue;
            bind_value(tb->insert, (int)col[c] + 4, v);
            if (v->row == PS_NO_CELL)
                continue;
            if (cells.len > 1)
                ps_buf_puts(&cells, ",");
            ps_json_string(&cells, ps_table_column(t, c));
            ps_buf_puts(&cells, ":");
            ps_json_string(&cells, ps_document_value_ref(d, v, ref, sizeof ref));
        }
        ps_buf_puts(&cells, "}");
        sqlite3_bind_text(tb->insert, 3, cells.data, (int)cells.len, SQLITE_TRANSIENT);
        ok = !cells.oom && step(tb->insert);
        ps_buf_free(&cells);
    }
    free(col);
    return ok;
}

/* ---- rows ---- */

static bool add_finding(ps_sqlite_out *o, const ps_finding *f)
{
    sqlite3_stmt *s = o->ins_finding;
    ps_buf cells = {0};
    ps_buf_puts(&cells, "[");
    for (size_t i = 0; i < f->ncells; i++) {
        if (i)
            ps_buf_puts(&cells, ",");
        ps_json_string(&cells, f->cells[i]);
    }
    ps_buf_puts(&cells, "]");
    sqlite3_bind_int64(s, 1, o->nfiles);
    sqlite3_bind_int64(s, 2, o->ndocs);
    bind_text(s, 3, f->rule);
    bind_text(s, 4, ps_severity_name(f->severity));
    bind_text(s, 5, f->sheet);
    bind_text(s, 6, f->cell);
    sqlite3_bind_text(s, 7, cells.data, (int)cells.len, SQLITE_STATIC);
    bind_text(s, 8, f->message);
    bind_scalar(s, 9, &f->expected);
    bind_scalar(s, 10, &f->actual);
    bool ok = !cells.oom && step(s);
    ps_buf_free(&cells);
    return ok;
}

static bool add_document(ps_sqlite_out *o, const ps_document *d)
{
    sqlite3_stmt *s = o->ins_doc;
    o->ndocs++;
    sqlite3_bind_int64(s, 1, o->ndocs);
    sqlite3_bind_int64(s, 2, o->nfiles);
    bind_text(s, 3, ps_document_sheet(d));
    bind_text(s, 4, ps_document_template(d));
    bind_text(s, 5, ps_document_mapping(d));
    bind_text(s, 6, ps_document_unit(d));
    if (ps_document_year(d))
        sqlite3_bind_int(s, 7, ps_document_year(d));
    if (!step(s))
        return false;
    char ref[320];
    s = o->ins_value;
    for (size_t k = 0; k < ps_document_value_count(d); k++) {
        const ps_value *v = ps_document_value_at(d, k);
        sqlite3_bind_int64(s, 1, o->ndocs);
        bind_text(s, 2, ps_document_value_key(d, k));
        bind_value(s, 3, v);
        bind_text(s, 4, type_name(v->type));
        bind_number(s, 5, v);
        const char *shown = value_text(v);
        bind_text(s, 6, v->raw && !(shown && !strcmp(shown, v->raw)) ? v->raw : NULL);
        bind_text(s, 7, v->row == PS_NO_CELL ? NULL : ps_document_value_ref(d, v, ref, sizeof ref));
        if (!step(s))
            return false;
    }
    for (size_t t = 0; t < ps_document_table_count(d); t++)
        if (!add_table(o, d, ps_document_table_at(d, t)))
            return false;
    const ps_findings *fl = ps_document_findings_const(d);
    for (size_t k = 0; k < ps_findings_count(fl); k++)
        if (!add_finding(o, ps_findings_at(fl, k)))
            return false;
    return true;
}

ps_status ps_sqlite_out_add_file(ps_sqlite_out *o, const char *file, const ps_error *file_err,
                                 ps_document *const *docs, size_t ndocs, ps_error *err)
{
    sqlite3_stmt *s = o->ins_file;
    bool failed = file_err && file_err->code != PS_OK, reportable = false;
    for (size_t k = 0; !failed && k < ndocs; k++) {
        const ps_findings *fl = ps_document_findings_const(docs[k]);
        reportable =
            reportable ||
            ps_findings_count_severity(fl, PS_SEV_ERROR) + ps_findings_count_severity(fl, PS_SEV_WARNING) > 0;
    }
    o->nfiles++;
    sqlite3_bind_int64(s, 1, o->nfiles);
    bind_text(s, 2, file);
    bind_text(s, 3, failed ? "error" : reportable ? "findings" : "ok");
    if (failed) {
        bind_text(s, 4, ps_error_code_name(file_err->code));
        bind_text(s, 5, file_err->message);
        bind_text(s, 6, file_err->sheet[0] ? file_err->sheet : NULL);
        bind_text(s, 7, file_err->cell[0] ? file_err->cell : NULL);
    }
    if (!step(s))
        return db_error(o, err, file);
    for (size_t k = 0; !failed && k < ndocs; k++)
        if (!add_document(o, docs[k]))
            return db_error(o, err, file);
    return PS_OK;
}

/* ---- the end: indexes, views, commit, rename ---- */

/* Indexes for the usual questions: a unit's documents, a key across units, a rule's
 * findings, a document's rows. Built at the end: cheaper than kept up row by row. */
static bool add_indexes(ps_sqlite_out *o)
{
    if (!exec(o, "CREATE INDEX documents_by_unit ON documents (unit, year);"
                 "CREATE INDEX documents_by_file ON documents (file_id);"
                 "CREATE INDEX field_values_by_key ON field_values (key);"
                 "CREATE INDEX findings_by_rule ON findings (rule);"
                 "CREATE INDEX findings_by_document ON findings (document_id);"))
        return false;
    for (size_t t = 0; t < o->ntables; t++) {
        char *sql = sqlite3_mprintf("CREATE INDEX \"%w_by_document\" ON \"%w\" (document_id, row_number)",
                                    o->tables[t].sql_name, o->tables[t].sql_name);
        bool ok = sql && exec(o, sql);
        sqlite3_free(sql);
        if (!ok)
            return false;
    }
    return true;
}

ps_status ps_sqlite_out_close(ps_sqlite_out *o, ps_error *err)
{
    ps_status st = PS_OK;
    if (!add_indexes(o))
        st = db_error(o, err, "建索引");
    else if (!exec(o, "COMMIT"))
        st = db_error(o, err, "提交");
    if (st != PS_OK) {
        ps_sqlite_out_abort(o);
        return st;
    }
    close_db(o);
    if (rename(o->tmp, o->out_path) != 0) {
        st = ps_error_set(err, PS_ERR_IO, o->out_path, "无法写入 SQLite 数据库：无法改名为输出文件");
        unlink(o->tmp);
    }
    free(o);
    return st;
}
