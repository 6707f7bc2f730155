/* yaml_pos.c - positions of YAML nodes; see yaml_pos.h. */
#include "yaml_pos.h"

#include <libfyaml.h>
#include <stdbool.h>
#include <stddef.h>

void ps_yaml_node_position(struct fy_node *n, int *line, int *col)
{
    *line = 0;
    *col = 0;
    for (int depth = 0; n && depth < 64; depth++) {
        if (fy_node_is_scalar(n)) {
            struct fy_token *t = fy_node_get_scalar_token(n);
            const struct fy_mark *mk = t ? fy_token_start_mark(t) : NULL;
            if (mk) {
                *line = mk->line + 1;
                *col = mk->column + 1;
            }
            return;
        }
        void *it = NULL;
        if (fy_node_is_mapping(n)) {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            n = p ? fy_node_pair_key(p) : NULL;
        } else if (fy_node_is_sequence(n)) {
            n = fy_node_sequence_iterate(n, &it);
        } else {
            return;
        }
    }
}

int ps_yaml_node_span(struct fy_node *n)
{
    if (!n || !fy_node_is_scalar(n) || fy_node_is_alias(n))
        return 0;
    struct fy_token *t = fy_node_get_scalar_token(n);
    const struct fy_mark *a = t ? fy_token_start_mark(t) : NULL, *b = t ? fy_token_end_mark(t) : NULL;
    if (!a || !b || a->line != b->line || b->column <= a->column)
        return 0;
    return b->column - a->column;
}

/* Whether node, with every alias below it expanded, has at most *budget nodes (taken from
 * *budget); depth stops alias cycles. *culprit: the alias written in the file (not one met
 * inside an expansion) whose expansion ran out of budget. */
static bool expansion_fits(struct fy_node *node, size_t *budget, int depth, bool copied,
                           struct fy_node **culprit)
{
    if (!node)
        return true;
    if (*budget == 0 || depth > 200)
        return false;
    --*budget;
    if (fy_node_is_alias(node)) {
        struct fy_node *target = fy_node_resolve_alias(node);
        if (!target || expansion_fits(target, budget, depth + 1, true, culprit))
            return true;
        if (!copied && !*culprit)
            *culprit = node;
        return false;
    }
    void *it = NULL;
    if (fy_node_is_sequence(node)) {
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(node, &it)))
            if (!expansion_fits(item, budget, depth + 1, copied, culprit))
                return false;
    } else if (fy_node_is_mapping(node)) {
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(node, &it)))
            if (!expansion_fits(fy_node_pair_key(pair), budget, depth + 1, copied, culprit) ||
                !expansion_fits(fy_node_pair_value(pair), budget, depth + 1, copied, culprit))
                return false;
    }
    return true;
}

int ps_yaml_resolve(struct fy_document *doc, int *line, int *col)
{
    size_t budget = PS_YAML_MAX_EXPANDED_NODES;
    struct fy_node *culprit = NULL;
    *line = 1;
    *col = 1;
    if (!expansion_fits(fy_document_root(doc), &budget, 0, false, &culprit)) {
        if (culprit)
            ps_yaml_node_position(culprit, line, col);
        if (*line < 1 || *col < 1) {
            *line = 1;
            *col = 1;
        }
        return 1;
    }
    return fy_document_resolve(doc) == 0 ? 0 : -1;
}
