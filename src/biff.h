/* biff.h - pieces of the BIFF2–BIFF8 record format shared by the .xls reader: record ids,
 * little-endian reads, the CONTINUE-aware record cursor, RK numbers and number-format
 * classification. Private to src/. Nothing here allocates except through the caller's
 * buffers; nothing here trusts a length it has not checked against the stream. */
#ifndef PERFSHEET_BIFF_H
#define PERFSHEET_BIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    BIFF_DIMENSION2 = 0x0000,
    BIFF_INTEGER2 = 0x0002,
    BIFF_NUMBER2 = 0x0003,
    BIFF_LABEL2 = 0x0004,
    BIFF_BOOLERR2 = 0x0005,
    BIFF_FORMULA2 = 0x0006,
    BIFF_STRING2 = 0x0007,
    BIFF_BOF2 = 0x0009,
    BIFF_EOF = 0x000A,
    BIFF_FORMAT2 = 0x001E,
    BIFF_DATEMODE = 0x0022,
    BIFF_FILEPASS = 0x002F,
    BIFF_CONTINUE = 0x003C,
    BIFF_CODEPAGE = 0x0042,
    BIFF_XF2 = 0x0043,
    BIFF_IXFE = 0x0044,
    BIFF_BOUNDSHEET = 0x0085,
    BIFF_MULRK = 0x00BD,
    BIFF_RSTRING = 0x00D6,
    BIFF_XF = 0x00E0,
    BIFF_MERGEDCELLS = 0x00E5,
    BIFF_SST = 0x00FC,
    BIFF_LABELSST = 0x00FD,
    BIFF_DIMENSION = 0x0200,
    BIFF_NUMBER = 0x0203,
    BIFF_LABEL = 0x0204,
    BIFF_BOOLERR = 0x0205,
    BIFF_FORMULA3 = 0x0206,
    BIFF_STRING = 0x0207,
    BIFF_BOF3 = 0x0209,
    BIFF_XF3 = 0x0243,
    BIFF_RK = 0x027E,
    BIFF_FORMULA4 = 0x0406,
    BIFF_BOF4 = 0x0409,
    BIFF_FORMAT = 0x041E,
    BIFF_XF4 = 0x0443,
    BIFF_BOF = 0x0809,
    BIFF_FORMULA = 0x0006,
};

static inline uint16_t biff_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t biff_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
double ps_biff_f64(const uint8_t *p);
/* The number an RK value stands for. */
double ps_biff_rk(uint32_t rk);

/* Reads bytes of a record and the CONTINUE records that follow it, as one sequence.
 * pos/end are offsets into s: end is the end of the current record's data. */
typedef struct biff_cursor {
    const uint8_t *s;
    size_t size;
    size_t pos, end;
} biff_cursor;

/* A cursor over the data of the record whose header starts at offset rec. False when the
 * record does not fit in the stream. */
bool ps_biff_cursor_at(biff_cursor *c, const uint8_t *s, size_t size, size_t rec);
/* Moves into the next CONTINUE record when the current one is used up. False at the end. */
bool ps_biff_cursor_continue(biff_cursor *c);
bool ps_biff_cursor_u8(biff_cursor *c, uint8_t *v);
bool ps_biff_cursor_u16(biff_cursor *c, uint16_t *v);
bool ps_biff_cursor_u32(biff_cursor *c, uint32_t *v);
bool ps_biff_cursor_skip(biff_cursor *c, uint64_t n);

/* The Excel error literal for a BOOLERR/FORMULA error code ("#DIV/0!"). Never NULL. */
const char *ps_biff_error_text(unsigned code);

#endif
