/* rules_int.h - private structures of the rule language: tokens (rules_lex.c), the syntax tree
 * and compiled rules (rules_parse.c), evaluation (rules_eval.c). */
#ifndef PERFSHEET_RULES_INT_H
#define PERFSHEET_RULES_INT_H

#include "perfsheet/rules.h"

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

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
    rnode *where; /* aggregate filter, evaluated per row */
    regex_t *re;  /* F_MATCHES with a literal pattern, compiled once */
    bool has_var; /* str holds a {var} placeholder */
    int depth;    /* height of the subtree: evaluation recurses this deep */
};

void ps_rnode_free(rnode *n);

/* Parses an expression. Returns NULL and fills *err with origin-relative line:col. */
rnode *ps_rparse_expr(const char *text, ps_origin origin, ps_error *err);

/* ---- compiled rules ---- */
typedef enum rtol_kind { TOL_AUTO = 0, TOL_MONEY, TOL_RATE, TOL_FIXED } rtol_kind;

typedef struct rbinding {
    size_t nvars;
    char **names;   /* owned */
    char ***values; /* values[v][i] */
    size_t count;   /* how many bindings */
} rbinding;

struct ps_rule {
    char *id;
    ps_severity severity;
    char *check_text;
    rnode *check, *when, *expected, *actual;
    rnode *primary; /* the first comparison of check, borrowed from it */
    char *message, *blank_message, *formula_message;
    rbinding vars;    /* for: */
    char *each_table; /* each: */
    char *each_group; /* each: T by col */
    rtol_kind tol;
    double tol_value;
    bool computed;     /* the template computes the left-hand cell by this rule (a formula) */
    bool blank_report; /* a blank left-hand side with a non-blank right-hand side is a finding */
    char **ns;         /* namespaces of cross-table fields */
    size_t nns;
    /* where the rule, its check and its when: start in the mapping file (1-based; 0: unknown),
     * for lint's findings; positions inside the check as in ps_rparse_expr's errors */
    int line, col, check_line, check_col, when_line, when_col;
};

struct ps_ruleset {
    ps_rule **rules;
    size_t n, cap;
};

#endif
