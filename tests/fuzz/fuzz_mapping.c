/* fuzz_mapping.c - libFuzzer target: a mapping file (YAML, docs/mapping.md) through
 * ps_mapping_load_text (which compiles and resolves every section: fields, tables, rules,
 * messages, layout); when it loads, its fields, rules and layout are read back and it detects and
 * extracts against a fixed workbook (samples/hengyang-county-2021/both.xls, both templates),
 * so hostile matchers, anchors and tables run against real cells. */
#include "fuzz_common.h"

#include "perfsheet/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef PS_SOURCE_DIR
#define PS_SOURCE_DIR "."
#endif

static ps_workbook *fixed_wb;
static int fixed_tried;

static const ps_workbook *fixed_workbook(void)
{
    if (!fixed_tried) {
        fixed_tried = 1;
        ps_error err;
        if (ps_reader_open(PS_SOURCE_DIR "/samples/hengyang-county-2021/both.xls", NULL, &fixed_wb, &err) &&
            ps_reader_open("samples/hengyang-county-2021/both.xls", NULL, &fixed_wb, &err))
            fixed_wb = NULL; /* fuzz the loader alone */
    }
    return fixed_wb;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ps_workbook *wb = fixed_workbook();
    ps_mapping *m = NULL;
    ps_error err;
    ps_error_clear(&err);
    if (ps_mapping_load_text("fuzz.yaml", (const char *)data, size, &m, &err) != PS_OK) {
        if (!err.message[0])
            abort(); /* every failure must say why */
        return 0;
    }
    volatile size_t sink =
        strlen(ps_mapping_id(m)) + strlen(ps_mapping_title(m)) + strlen(ps_mapping_path(m));
    for (size_t i = 0; i < ps_mapping_field_count(m); i++) {
        const ps_field_spec *f = ps_mapping_field(m, i);
        sink += strlen(f->key) + (f->label ? strlen(f->label) : 0) + (f->table ? strlen(f->table) : 0);
    }
    const ps_layout *lay = ps_mapping_layout(m);
    for (size_t i = 0; lay && i < lay->nheader; i++)
        sink += strlen(lay->header[i].key);
    for (size_t b = 0; lay && b < lay->nblocks; b++)
        for (size_t i = 0; i < lay->blocks[b].nitems; i++)
            sink += strlen(lay->blocks[b].items[i].key) +
                    (lay->blocks[b].items[i].label ? strlen(lay->blocks[b].items[i].label) : 0);
    (void)sink;

    const ps_ruleset *rules = ps_mapping_rules(m);

    if (wb && ps_mapping_detectable(m)) {
        for (size_t s = 0; s < ps_workbook_sheet_count(wb); s++) {
            ps_document *doc = ps_mapping_extract_sheet(m, wb, ps_workbook_sheet(wb, s), "both.xls");
            if (!doc)
                continue;
            for (size_t i = 0; rules && i < ps_ruleset_count(rules); i++)
                ps_rule_eval(ps_ruleset_at(rules, i), doc, &err);
            ps_document_free(doc);
        }
    }
    ps_mapping_free(m);
    return 0;
}
