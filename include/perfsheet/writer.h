/* writer.h - the standardized workbook of one document (`perfsheet convert`): title, a legend
 * of the fills, header rows, the template's fields in the mapping's order as typed cells, its
 * tables, no formula (every cell shows the figure submitted), flagged cells — a blank one too —
 * filled by severity with the findings as a comment, and a sheet 校验结果 listing the
 * document's findings, each linked to its cell (docs/outputs.md).
 * The layout comes from the mapping: its field list, refined by an optional `layout:`
 * section (docs/mapping.md); no template is known to C. Output is deterministic: the same
 * document gives a byte-identical file. */
#ifndef PERFSHEET_WRITER_H
#define PERFSHEET_WRITER_H

#include <stddef.h>

#include "perfsheet/document.h"
#include "perfsheet/error.h"

typedef struct ps_mapping ps_mapping;

/* Longest file name ps_writer_document_name gives, in bytes. */
#define WRITER_NAME_MAX 180

/* The file name of doc's standardized workbook, `<unit>_<year>_<template>.xlsx`, safe on
 * every file system: no / \ : * ? " < > | or control characters, no reserved device name,
 * no leading dot, trimmed, at most WRITER_NAME_MAX bytes cut at a UTF-8 boundary; a missing
 * unit or year reads 未知单位 / 未知年度. Writes into buf (size >= 16; 256 is always
 * enough). PS_ERR_USAGE when buf is too small. */
ps_status ps_writer_document_name(const ps_document *doc, char *buf, size_t size);

/* Writes doc's standardized workbook to path, laid out by m (borrowed; the mapping doc was
 * extracted with). Atomic: the workbook is written to a temporary name in path's folder
 * and renamed over path; on failure nothing is left behind. Refuses (PS_ERR_IO) when path
 * is the document's own source file. Fills *err on failure. */
ps_status ps_writer_convert(const ps_mapping *m, const ps_document *doc, const char *path, ps_error *err);

/* Checks m's `layout:` section (the writers read it lazily): PS_OK, or PS_ERR_MAPPING with
 * *err at the mapping file's line and column. */
ps_status ps_writer_layout_check(const ps_mapping *m, ps_error *err);

/* in made safe as one path component (see ps_writer_document_name), into buf; returns its
 * length (0 when nothing is left). */
size_t ps_writer_safe_file_part(const char *in, char *buf, size_t size);

/* in made a valid Excel sheet name (≤ 31 characters, none of []:*?/\, no apostrophe at the
 * ends, not empty), into buf (size >= 128 is always enough); returns its length. */
size_t ps_writer_sheet_name(const char *in, char *buf, size_t size);

#endif
