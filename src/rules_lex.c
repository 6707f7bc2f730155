/* rules_lex.c - tokens of the rule language and the caret display of errors.
 * Accepts ASCII operators and their usual typed forms (≤ ≥ ≠ × ÷, full-width parentheses and
 * comma, U+3000 spaces) because rules are written by people who type Chinese. */
#include "rules_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c == '{';
}
static bool ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '{' || c == '}';
}

static bool at(const rlexer *lx, const char *s)
{
    size_t n = strlen(s);
    return lx->len - lx->pos >= n && memcmp(lx->src + lx->pos, s, n) == 0;
}

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void ps_rtok_clear(rtok *tok)
{
    free(tok->text);
    free(tok->text2);
    tok->text = tok->text2 = NULL;
}

/* Length of the UTF-8 sequence starting at s (1 for a stray byte), bounded by n. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t k = 1;
    if (s[0] >= 0xF0)
        k = 4;
    else if (s[0] >= 0xE0)
        k = 3;
    else if (s[0] >= 0xC0)
        k = 2;
    return k > n ? n : k;
}

static void skip_space(rlexer *lx)
{
    while (lx->pos < lx->len) {
        unsigned char c = (unsigned char)lx->src[lx->pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            lx->pos++;
        else if (at(lx, "\xE3\x80\x80") || at(lx, "\xC2\xA0")) /* U+3000, U+00A0 */
            lx->pos += (c == 0xE3) ? 3 : 2;
        else
            break;
    }
}

static const struct {
    const char *text;
    rtok_kind kind;
} operators[] = {
    {"==", T_EQ},
    {"!=", T_NE},
    {"<>", T_NE},
    {"<=", T_LE},
    {">=", T_GE},
    {"&&", T_AND},
    {"||", T_OR},
    {"\xE2\x89\xA4", T_LE} /* ≤ */,
    {"\xE2\x89\xA6", T_LE} /* ≦ */,
    {"\xE2\x89\xA5", T_GE} /* ≥ */,
    {"\xE2\x89\xA7", T_GE} /* ≧ */,
    {"\xE2\x89\xA0", T_NE} /* ≠ */,
    {"\xC3\x97", T_STAR} /* × */,
    {"\xC3\xB7", T_SLASH} /* ÷ */,
    {"\xEF\xBC\x88", T_LPAREN} /* （ */,
    {"\xEF\xBC\x89", T_RPAREN} /* ） */,
    {"\xEF\xBC\x8C", T_COMMA} /* ， */,
    {"\xEF\xBC\x9D", T_EQ} /* ＝ */,
    {"=", T_EQ},
    {"<", T_LT},
    {">", T_GT},
    {"!", T_NOT},
    {"(", T_LPAREN},
    {")", T_RPAREN},
    {",", T_COMMA},
    {"+", T_PLUS},
    {"-", T_MINUS},
    {"*", T_STAR},
    {"/", T_SLASH},
};

static rtok_kind lex_error(rlexer *lx, rtok *tok, size_t pos, const char *msg)
{
    snprintf(lx->errmsg, sizeof lx->errmsg, "%s", msg);
    lx->errpos = pos;
    tok->kind = T_BAD;
    tok->pos = pos;
    tok->len = 1;
    return T_BAD;
}

static rtok_kind lex_string(rlexer *lx, rtok *tok)
{
    size_t start = lx->pos;
    const char *close;
    size_t open_len;
    if (at(lx, "\xE2\x80\x9C")) { /* “…” */
        close = "\xE2\x80\x9D";
        open_len = 3;
    } else {
        close = lx->src[lx->pos] == '"' ? "\"" : "'";
        open_len = 1;
    }
    size_t body = start + open_len, clen = strlen(close);
    for (size_t i = body; i + clen <= lx->len; i++) {
        if (memcmp(lx->src + i, close, clen) == 0) {
            tok->kind = T_STR;
            tok->pos = start;
            tok->len = i + clen - start;
            tok->text = dup_range(lx->src + body, i - body);
            lx->pos = i + clen;
            return tok->text ? T_STR : lex_error(lx, tok, start, "内存不足");
        }
    }
    return lex_error(lx, tok, start, "字符串缺少结束引号");
}

rtok_kind ps_rlex_next(rlexer *lx, rtok *tok)
{
    memset(tok, 0, sizeof *tok);
    skip_space(lx);
    tok->pos = lx->pos;
    if (lx->pos >= lx->len) {
        tok->kind = T_END;
        return T_END;
    }
    const unsigned char *s = (const unsigned char *)lx->src + lx->pos;
    size_t left = lx->len - lx->pos;

    if (isdigit(s[0]) || (s[0] == '.' && left > 1 && isdigit(s[1]))) {
        size_t i = 0;
        while (i < left && isdigit(s[i]))
            i++;
        if (i < left && s[i] == '.') {
            i++;
            while (i < left && isdigit(s[i]))
                i++;
        }
        if (i > 64)
            return lex_error(lx, tok, lx->pos, "数值过长");
        char buf[72];
        memcpy(buf, s, i);
        buf[i] = '\0';
        tok->num = strtod(buf, NULL);
        if (i < left && s[i] == '%') {
            tok->num /= 100.0;
            i++;
        }
        if (i < left && ident_start(s[i]))
            return lex_error(lx, tok, lx->pos + i, "数值后紧跟字母");
        tok->kind = T_NUM;
        tok->len = i;
        lx->pos += i;
        return T_NUM;
    }
    if (s[0] == '"' || s[0] == '\'' || at(lx, "\xE2\x80\x9C"))
        return lex_string(lx, tok);
    if (ident_start(s[0])) {
        size_t i = 0;
        while (i < left && ident_char(s[i]))
            i++;
        size_t id_len = i;
        if (s[id_len - 1] == '.')
            return lex_error(lx, tok, lx->pos + id_len - 1, "字段名不能以 “.” 结尾");
        if (i + 1 < left && s[i] == '[' && s[i + 1] == ']') { /* table column */
            tok->kind = T_COL;
            tok->text = dup_range((const char *)s, id_len);
            i += 2;
            if (i + 1 < left && s[i] == '.' && ident_start(s[i + 1])) {
                size_t c0 = ++i;
                while (i < left && ident_char(s[i]))
                    i++;
                tok->text2 = dup_range((const char *)s + c0, i - c0);
                if (!tok->text2)
                    return lex_error(lx, tok, lx->pos, "内存不足");
            }
            tok->len = i;
            lx->pos += i;
            return tok->text ? T_COL : lex_error(lx, tok, tok->pos, "内存不足");
        }
        if (i + 1 < left && s[i] == ':' && ident_start(s[i + 1])) { /* jcsj:field */
            size_t f0 = i + 1;
            i = f0;
            while (i < left && ident_char(s[i]))
                i++;
            tok->kind = T_NSFIELD;
            tok->text = dup_range((const char *)s, id_len);
            tok->text2 = dup_range((const char *)s + f0, i - f0);
            tok->len = i;
            lx->pos += i;
            return tok->text && tok->text2 ? T_NSFIELD : lex_error(lx, tok, tok->pos, "内存不足");
        }
        static const struct {
            const char *word;
            rtok_kind kind;
        } words[] = {{"AND", T_AND}, {"OR", T_OR}, {"NOT", T_NOT}, {"WHERE", T_WHERE}};
        for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
            if (strlen(words[w].word) == id_len && strncasecmp((const char *)s, words[w].word, id_len) == 0) {
                tok->kind = words[w].kind;
                tok->len = id_len;
                lx->pos += id_len;
                return tok->kind;
            }
        tok->kind = T_IDENT;
        tok->text = dup_range((const char *)s, id_len);
        tok->len = id_len;
        lx->pos += id_len;
        return tok->text ? T_IDENT : lex_error(lx, tok, tok->pos, "内存不足");
    }
    for (size_t o = 0; o < sizeof operators / sizeof operators[0]; o++)
        if (at(lx, operators[o].text)) {
            tok->kind = operators[o].kind;
            tok->len = strlen(operators[o].text);
            lx->pos += tok->len;
            return tok->kind;
        }
    size_t n = utf8_len(s, left);
    char msg[64];
    snprintf(msg, sizeof msg, "无法识别的字符 “%.*s”", (int)n, (const char *)s);
    rtok_kind k = lex_error(lx, tok, lx->pos, msg);
    tok->len = n;
    return k;
}

const char *ps_rtok_name(rtok_kind k)
{
    switch (k) {
    case T_END: return "规则结尾";
    case T_NUM: return "数值";
    case T_STR: return "字符串";
    case T_IDENT: return "名称";
    case T_NSFIELD: return "字段";
    case T_COL: return "表列";
    case T_LPAREN: return "“(”";
    case T_RPAREN: return "“)”";
    case T_COMMA: return "“,”";
    case T_PLUS: return "“+”";
    case T_MINUS: return "“-”";
    case T_STAR: return "“*”";
    case T_SLASH: return "“/”";
    case T_EQ: return "“=”";
    case T_NE: return "“!=”";
    case T_LT: return "“<”";
    case T_LE: return "“<=”";
    case T_GT: return "“>”";
    case T_GE: return "“>=”";
    case T_AND: return "AND";
    case T_OR: return "OR";
    case T_NOT: return "NOT";
    case T_WHERE: return "WHERE";
    case T_BAD: return "无法识别的字符";
    }
    return "?";
}

void ps_rlex_position(const char *src, size_t pos, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < pos && src[i]; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Display width of the UTF-8 character at s: 2 for CJK and full-width forms. */
static int char_width(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    unsigned cp = 0;
    if (n >= 3 && (s[0] & 0xF0) == 0xE0)
        cp = ((unsigned)(s[0] & 0x0F) << 12) | ((unsigned)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    else if (n >= 4 && (s[0] & 0xF8) == 0xF0)
        return 2;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
        (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || cp == 0x201C || cp == 0x201D)
        return 2;
    return 1;
}

size_t ps_rule_caret(const char *source_line, int col, int width, char *buf, size_t size)
{
    const char *s = source_line ? source_line : "";
    size_t line_len = strcspn(s, "\n");
    size_t need = 0;
    char pad[1024];
    size_t npad = 0;
    /* the pad copies tabs so the caret lines up whatever the tab width */
    const unsigned char *u = (const unsigned char *)s;
    int c = 1;
    size_t at = 0; /* the byte offset of column col */
    for (; at < line_len && c < col;) {
        size_t k = utf8_len(u + at, line_len - at);
        int w = u[at] == '\t' ? 0 : char_width(u + at, line_len - at);
        if (u[at] == '\t' && npad < sizeof pad)
            pad[npad++] = '\t';
        for (int j = 0; j < w && npad < sizeof pad; j++)
            pad[npad++] = ' ';
        at += k;
        c++;
    }
    if (width < 1)
        width = 1;
    if (width > 200)
        width = 200;
    /* the culprit's display columns: its characters from col (one column each past the end) */
    int columns = 0;
    for (size_t i = at, k = 0; (int)k < width; k++) {
        if (i < line_len) {
            columns += u[i] == '\t' ? 1 : char_width(u + i, line_len - i);
            i += utf8_len(u + i, line_len - i);
        } else {
            columns++;
        }
    }
    char out_line[4096];
    size_t copy = line_len < sizeof out_line - 1 ? line_len : sizeof out_line - 1;
    memcpy(out_line, s, copy);
    out_line[copy] = '\0';
    need = (size_t)snprintf(buf, size, "%s\n%.*s", out_line, (int)npad, pad);
    for (int i = 0; i < columns; i++) {
        if (need + 1 < size) {
            buf[need] = i ? '~' : '^';
            buf[need + 1] = '\0';
        }
        need++;
    }
    return need;
}

int ps_rlex_token_chars(const char *src, size_t pos)
{
    size_t len = src ? strlen(src) : 0;
    if (pos >= len)
        return 1;
    size_t end = pos;
    if (src[pos] == '{') {
        /* a placeholder or a {var}: to its closing brace on the same line */
        const char *close = strpbrk(src + pos, "}\n");
        if (!close || *close != '}')
            return 1;
        end = (size_t)(close - src) + 1;
    } else {
        rlexer lx = {src, len, pos, "", 0};
        rtok tok = {0};
        rtok_kind k = ps_rlex_next(&lx, &tok);
        ps_rtok_clear(&tok);
        if (k == T_BAD || k == T_END || tok.pos != pos || tok.len == 0)
            return 1;
        end = pos + tok.len;
        /* a name ending a placeholder ({expected:nmu}): not its closing brace */
        int depth = 0;
        for (size_t i = pos; i < end; i++)
            depth += src[i] == '{' ? 1 : src[i] == '}' ? -1 : 0;
        while (depth < 0 && end > pos + 1 && src[end - 1] == '}') {
            end--;
            depth++;
        }
    }
    int n = 0;
    for (size_t i = pos; i < end && src[i] != '\n'; n++)
        i += utf8_len((const unsigned char *)src + i, end - i);
    return n > 0 ? n : 1;
}
