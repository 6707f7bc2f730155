/* fuzz_xlsx.c - libFuzzer target: an .xlsx file (ZIP package, SpreadsheetML parts) through the
 * whole read path (ps_reader_open: sniff, ZIP directory, zlib, libxml2 SAX), then detection, extraction and
 * checks with the built-in mappings. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_spreadsheet(".xlsx", data, size);
    return 0;
}
