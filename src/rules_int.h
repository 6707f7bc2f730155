/* rules_int.h - private structures of the rule language: tokens (rules_lex.c), the syntax tree
 * and compiled rules (rules_parse.c), evaluation (rules_eval.c). */
#ifndef PERFSHEET_RULES_INT_H
#define PERFSHEET_RULES_INT_H

#include "perfsheet/mapping.h"
#include "perfsheet/rules.h"

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>

struct fy_node;

/* ---- tokens ---- */
typedef enum rtok_kind {
    T_END = 0,
    T_NUM,     /* 12.5 */
    T_STR,     /* "产出指标" or '…' or “…” */
    T_IDENT,   /* funds.rate, three_public.{c}, SUM, AND */
    T_NSFIELD, /* jcsj:basic_expense.final (text = "jcsj", text2 = field) */
    T_COL,     /* projects[].final (text = table, text2 = column or NULL for projects[]) */
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NOT,
    T_WHERE,
    T_BAD, /* unrecognised character; text holds it */
} rtok_kind;

typedef struct rtok {
    rtok_kind kind;
    size_t pos, len; /* byte offset and length in the source */
    double num;
    char *text, *text2; /* owned (malloc) */
} rtok;

typedef struct rlexer {
    const char *src;
    size_t len, pos;
    char errmsg[200]; /* set on a lexing error (unterminated string) */
    size_t errpos;
} rlexer;

/* Reads the next token; on a lexing error returns T_BAD and fills lx->errmsg. Caller frees
 * tok->text/text2 with ps_rtok_clear. */
rtok_kind ps_rlex_next(rlexer *lx, rtok *tok);
void ps_rtok_clear(rtok *tok);
const char *ps_rtok_name(rtok_kind k); /* "“/”" for error messages */
/* Line and 1-based character column of byte offset pos in src. */
void ps_rlex_position(const char *src, size_t pos, int *line, int *col);
/* Characters of the token at byte pos of src (a name, a table column, a string with its
 * quotes, a number, an operator; from a `{` to its closing brace), for the caret under an
 * error (ps_error.span); 1 at the end of src or where no token starts. */
int ps_rlex_token_chars(const char *src, size_t pos);

/* ---- syntax tree ---- */
typedef enum rnode_kind {
    N_NUM,
    N_STR,
    N_FIELD,
    N_COL,
    N_NEG,
    N_NOT,
    N_ARITH,
    N_CMP,
    N_AND,
    N_OR,
    N_CALL,
} rnode_kind;

typedef enum rfunc {
    F_SUM,
    F_COUNT,
    F_MIN,
    F_MAX,
    F_ABS,
    F_ROUND,
    F_COALESCE,
    F_PRESENT,
    F_BLANK,
    F_MATCHES,
    F_DIGITS,
    F_TEXT,
    F_NUMBER,
    F_IF,
    F_YEAR,
    F_THIS_YEAR,
    F_IN,
    F_LEN,
    F_FORMULA,
    F_RAW,
} rfunc;

typedef struct rnode rnode;
struct rnode {
    rnode_kind kind;
    int op;     /* N_ARITH: '+' '-' '*' '/'; N_CMP: rtok_kind of the comparison */
    size_t pos; /* byte offset of the node's token, for messages */
    double num;
    char *str;   /* N_STR literal; N_FIELD key (may hold {var}); N_COL column (NULL = rows) */
    char *ns;    /* N_FIELD: template id of a cross-table field, else NULL */
    char *table; /* N_COL */
    rfunc fn;    /* N_CALL */
    rnode **args;
    size_t nargs;
    rnode *where;     /* aggregate filter, evaluated per row */
    pcre2_code *re;   /* F_MATCHES with a literal pattern: compiled once (PCRE2, UTF-8) */
    pcre2_code **res; /* ... or once per for: binding when the pattern holds a {var} */
    size_t nres;
    bool has_var; /* str (or table) holds a {var} placeholder of the rule's for: */
    int depth;    /* height of the subtree: evaluation recurses this deep */
};

void ps_rnode_free(rnode *n);

/* Parses an expression. Returns NULL and fills *err with origin-relative line:col. */
rnode *ps_rparse_expr(const char *text, ps_origin origin, ps_error *err);

/* Where byte pos of text (whose first character is at origin) lies in the file. */
void ps_rule_place(ps_origin origin, const char *text, size_t pos, int *line, int *col);

/* Substitutes the {var}s of s that are r's for: variables with their values of binding (other
 * braces stay as written) into buf (size bytes, NUL-terminated when size > 0); returns the
 * length needed, as snprintf. */
size_t ps_rule_subst(const ps_rule *r, size_t binding, const char *s, char *buf, size_t size);

/* ---- messages: a template compiled into parts ---- */
typedef enum rfmt { FMT_AUTO, FMT_MONEY, FMT_PERCENT, FMT_NUM, FMT_INT, FMT_TEXT, FMT_RAW } rfmt;

typedef enum rpart_kind {
    P_TEXT,       /* literal text */
    P_EXPECTED,   /* {expected} */
    P_ACTUAL,     /* {actual} */
    P_ID,         /* {id} */
    P_VAR,        /* {label}: the value of a for: variable */
    P_FIELD,      /* {funds.score}, {jcsj:basic_expense.final}, {three_public.{c}} */
    P_COL,        /* {projects[].name}: the current row (group) of an each: rule */
    P_DIFFERENCE, /* {difference}: actual - expected (a band warning: the 尾数误差) */
    P_RELATION,   /* {relation}: a hierarchy rule's 「合计 = Σ 类」 */
    P_COLUMN,     /* {column}: a hierarchy rule's checked column (its label) */
} rpart_kind;

typedef struct rpart {
    rpart_kind kind;
    rfmt fmt;
    char *text;  /* P_TEXT: the text; P_FIELD/P_COL: the key or column (may hold {var}) */
    char *ns;    /* P_FIELD: template id of a cross-table field, else NULL */
    char *table; /* P_COL */
    size_t var;  /* P_VAR: index in the rule's for: variables */
    size_t pos;  /* byte offset of the placeholder in the template, for load errors */
    bool has_var;
    bool hier_col; /* P_FIELD of a hierarchy rule naming a column of its table (set at resolve) */
} rpart;

typedef struct rmsg {
    rpart *parts;
    size_t nparts;
} rmsg;

/* ---- compiled rules ---- */
typedef enum rtol_kind { TOL_AUTO = 0, TOL_MONEY, TOL_RATE, TOL_FIXED } rtol_kind;

typedef struct rbinding {
    size_t nvars;
    char **names;   /* owned */
    char ***values; /* values[v][i] */
    size_t count;   /* how many bindings */
} rbinding;

/* How a rule treats a blank input (`blank:`). */
typedef enum rblank {
    BLANK_REPORT = 0, /* blank makes the check blank; a blank left side of = is 「表中为空」 */
    BLANK_SKIP,       /* blank makes the check blank, never a finding */
    BLANK_ZERO,       /* a blank input counts 0 wherever a number is used (决算 tables) */
} rblank;

/* `defaults:` of a mapping: what every rule of the template has unless it says otherwise. */
typedef struct ps_rule_defaults {
    bool has_band;
    double band; /* 尾数误差 band (万元) */
    bool has_blank;
    rblank blank;
} ps_rule_defaults;

#define RULE_MAX_LEVELS 8

/* `hierarchy:`: each parent = Σ its children over columns of a table keyed by codes. */
typedef struct rhier {
    char *table, *code;
    unsigned levels[RULE_MAX_LEVELS];
    size_t nlevels;
    char **cols;   /* the money columns checked */
    char **labels; /* their labels in the mapping (set at resolve; NULL: the key) */
    size_t ncols;
    ps_origin table_at, code_at, *cols_at;
} rhier;

struct ps_rule {
    char *id;
    ps_severity severity;
    char *check_text;
    rnode *check, *when, *expected, *actual;
    rnode *at;      /* at: the field (or column of the each: table) the finding points at, or NULL */
    rnode *primary; /* the first comparison of check, borrowed from it */
    char *message, *blank_message, *formula_message;
    rbinding vars;    /* for: */
    char *each_table; /* each: */
    char *each_group; /* each: T by col */
    rtol_kind tol;
    double tol_value;
    double tol_per_term; /* TOL_MONEY: allowed per summed term (tolerance_per_term:, else 0.01) */
    bool computed;       /* the template computes the left-hand cell by this rule (a formula) */
    bool blank_report;   /* a blank left-hand side with a non-blank right-hand side is a finding */
    bool blank_zero;     /* blank: zero - a blank input counts 0 */
    bool blank_set;      /* blank: written on the rule (defaults: do not apply) */
    bool has_band;       /* band: (or defaults:) - 0 < |difference| <= band is a 尾数误差 warning */
    bool band_set;       /* band: written on the rule */
    double band;
    bool tol_set; /* tolerance: or tolerance_per_term: written on the rule */
    rhier *hier;  /* hierarchy: (no check) or NULL */
    char **ns;    /* namespaces of cross-table fields */
    size_t nns;
    /* compiled at load: messages in parts, and where each part came from in the file */
    rmsg msg, blank_msg, formula_msg;
    char *file; /* the mapping file (error locations) */
    ps_origin check_at, when_at, expected_at, actual_at, at_at;
    ps_origin message_at, blank_message_at, formula_message_at;
    ps_origin each_at, for_at, id_at;
    char *when_text, *expected_text, *actual_text, *each_text, *at_text;
    /* where the rule, its check and its when: start in the mapping file (1-based; 0: unknown),
     * for lint's findings; positions inside the check as in ps_rparse_expr's errors */
    int line, col, check_line, check_col, when_line, when_col;
};

struct ps_ruleset {
    ps_rule **rules;
    size_t n, cap;
};

/* Compiles one rule given as a YAML mapping node (keys: docs/rules.md). file names the YAML
 * file for error locations (copied). Caller owns the result: ps_rule_free(). */
ps_rule *ps_rule_from_node(struct fy_node *node, const char *file, ps_error *err);
/* Compiles every rule of the YAML sequence node seq (NULL: an empty set). On error returns the
 * first failing rule's status with *err at its line:column; *out is set on success only. */
ps_status ps_ruleset_from_node(struct fy_node *seq, const char *file, ps_ruleset **out, ps_error *err);
/* Reads the `defaults:` mapping of a mapping file (band:, blank:) into *out; NULL: none. */
ps_status ps_rule_defaults_from_node(struct fy_node *n, const char *file, ps_rule_defaults *out,
                                     ps_error *err);
/* ps_ruleset_from_node with the mapping's defaults (NULL: none). */
ps_status ps_ruleset_from_node_defaults(struct fy_node *seq, const ps_rule_defaults *defaults,
                                        const char *file, ps_ruleset **out, ps_error *err);

/* A field key starting with this reads last year's value of the field (docs/rules.md). */
#define PS_PREVIOUS_PREFIX "previous."

/* ---- names (rules_resolve.c) ---- */
/* Resolves every name rule r uses - fields, tables and their columns, each: T by col, message
 * placeholders, for: variables - against the mapping self its documents come from. A
 * cross-table rule (ps_rule_namespace_count > 0) reads the documents of other templates: it is
 * resolved only when set is given (set: every mapping, once all are loaded), and skipped when
 * set is NULL. Fails with PS_ERR_MAPPING at the name's file:line:column, with a 「您是不是要写
 * …」 when a known name is close. */
ps_status ps_rule_resolve(const ps_rule *r, const ps_mapping *self, const ps_mapping_set *set, ps_error *err);

/* The edit distance (optimal string alignment, in UTF-8 characters) of a and b, stopping at
 * limit + 1. */
size_t ps_rule_name_distance(const char *a, const char *b, size_t limit);

#endif
