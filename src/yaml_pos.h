/* yaml_pos.h - where a YAML node starts, for errors that point into mapping files, and the
 * resolution of anchors and aliases that mapping files and rule lists share. Private. */
#ifndef PERFSHEET_YAML_POS_H
#define PERFSHEET_YAML_POS_H

struct fy_node;
struct fy_document;

/* The most nodes a document may have with its aliases expanded. */
#define PS_YAML_MAX_EXPANDED_NODES 200000
#define PS_YAML_TOO_BIG_MESSAGE "锚点与别名展开后超过 200000 个节点"

/* 1-based line and column of n: its scalar's token, else the first scalar inside it (0, 0
 * when unknown). */
void ps_yaml_node_position(struct fy_node *n, int *line, int *col);

/* Characters of scalar n as written (quotes included) when it lies on one line, for the caret
 * under an error (ps_error.span); 0 for anything else. */
int ps_yaml_node_span(struct fy_node *n);

/* Resolves the anchors, aliases and merge keys (<<: *base) of doc in place, so that a rule
 * template is written once - unless expanding them would make more than
 * PS_YAML_MAX_EXPANDED_NODES nodes (an alias bomb): that is refused before libfyaml copies
 * anything. Returns 0 when resolved; 1 for a bomb, with *line, *col (1-based) the alias written
 * in the file whose expansion ran out (1, 1 when unknown); -1 when libfyaml fails (its
 * collected diagnostics say why). */
int ps_yaml_resolve(struct fy_document *doc, int *line, int *col);

#endif
