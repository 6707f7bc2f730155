/* reader.h - opening a spreadsheet file of any supported format into a ps_workbook.
 * The format is decided by the file's content, never by its name. */
#ifndef PERFSHEET_READER_H
#define PERFSHEET_READER_H

#include "perfsheet/error.h"
#include "perfsheet/workbook.h"

/* Limits that turn absurd input into an error instead of a stall or an out-of-memory. */
typedef struct ps_limits {
    uint64_t max_cells_per_sheet; /* default 2,000,000 */
    uint64_t max_cells_per_file;  /* default 5,000,000 */
    uint32_t max_sheets;          /* default 256 */
    uint32_t max_rows;            /* a sheet may claim at most this many rows: 1,048,576 */
    uint32_t max_cols;            /* and columns: 16,384 */
    uint64_t max_string_bytes;    /* one cell's text: 1 MiB */
    uint64_t max_sst_entries;     /* shared strings: 2,000,000 */
    uint64_t max_uncompressed;    /* .xlsx: sum of inflated entry sizes, 256 MiB */
    uint32_t max_zip_ratio;       /* .xlsx: inflated/compressed per entry, 200 */
    uint32_t max_zip_entries;     /* .xlsx: 10,000 */
    uint32_t max_xml_depth;       /* .xlsx: 256 */
    uint64_t max_file_bytes;      /* the input file itself: 256 MiB */
} ps_limits;

/* The defaults above. */
ps_limits ps_reader_default_limits(void);

typedef enum ps_sniffed {
    PS_SNIFF_EMPTY,
    PS_SNIFF_OLE2,      /* compound file: .xls (or .doc, encrypted .xlsx, …) */
    PS_SNIFF_ZIP,       /* .xlsx (or .ods, .docx, …) */
    PS_SNIFF_BIFF_BARE, /* a BIFF2–4 stream without container */
    PS_SNIFF_HTML,
    PS_SNIFF_XML,  /* XML Spreadsheet 2003 or other XML */
    PS_SNIFF_TEXT, /* CSV / tab-separated / other text */
    PS_SNIFF_GZIP,
    PS_SNIFF_PDF,
    PS_SNIFF_UNKNOWN, /* random bytes */
} ps_sniffed;

/* What the first bytes of a file say it is. */
ps_sniffed ps_reader_sniff(const unsigned char *head, size_t n);

/* Opens path, whatever its extension. limits may be NULL (defaults). On success *out owns a
 * new workbook (caller frees with ps_workbook_free). On failure returns the code (and fills
 * *err naming the file, and the sheet/cell where it applies); *out is left untouched. */
ps_status ps_reader_open(const char *path, const ps_limits *limits, ps_workbook **out, ps_error *err);

/* Format readers, called by ps_reader_open once the content is known, on the whole file's bytes:
 * data (len bytes, malloc'd) is taken and freed by the reader, whatever the outcome; path
 * only names the file in errors. */
ps_status ps_reader_open_xls(const char *path, uint8_t *data, size_t len, const ps_limits *limits,
                             ps_workbook **out, ps_error *err);
ps_status ps_reader_open_xlsx(const char *path, uint8_t *data, size_t len, const ps_limits *limits,
                              ps_workbook **out, ps_error *err);

#endif
