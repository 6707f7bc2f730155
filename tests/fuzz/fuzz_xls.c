/* fuzz_xls.c - libFuzzer target: an .xls file (OLE2 container, BIFF8/BIFF5 workbook stream)
 * through the whole read path (ps_reader_open: sniff, the OLE2 container, the BIFF pass), then
 * detection, extraction and checks with the built-in mappings. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_spreadsheet(".xls", data, size);
    return 0;
}
