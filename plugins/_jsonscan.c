/* plugins._jsonscan: one pass over JSON text that replaces the values of secret keys.

   scanner = KeyScanner(fragments, is_secret)
   scanner.redact_values(text) -> bytes | None

   `fragments` is a tuple of lower-case ASCII bytes, one of which every secret name contains
   once lower-cased; `is_secret(name)` judges a key that holds one (it must be pure: answers
   are remembered per key). `text` is UTF-8 JSON, optionally wrapped in a JSONP call.
   redact_values returns `text` itself when no value changes, new bytes with each secret key's
   value replaced by "REDACTED" (strings that are not empty or "REDACTED" already, and
   numbers; true/false/null stay), or None when it does not answer: the text is not strict
   JSON, a key holds an escape, or a secret key holds an escaped string, an object or an
   array. The caller then takes the pure-Python path (plugins.secret_values), whose answer
   this one equals wherever it gives one (tests compare the two).

   One loop over the bytes with an explicit stack; no parse tree, no Python objects but the
   names handed to is_secret. It relies on the NUL byte CPython keeps after every bytes
   object's data: every loop that scans for a delimiter stops there, and the end is checked
   once afterwards.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 512
#define KEY_SLOTS 256
#define MAX_FRAGMENTS 64

static const char REDACTED[] = "\"REDACTED\"";
#define REDACTED_LEN 10

static unsigned char string_stop[256]; /* '"', '\\' and control characters (NUL included) */
static unsigned char is_ws[256];
static unsigned char is_digit[256];
static unsigned char is_hex[256];
static unsigned char lower_of[256];

typedef struct {
    Py_ssize_t start, end;
} Span;

typedef struct {
    PyObject_HEAD
    PyObject *fragments; /* the tuple of bytes */
    PyObject *is_secret;
    Py_ssize_t nfrags;
    const unsigned char *frags[MAX_FRAGMENTS];
    Py_ssize_t frag_lens[MAX_FRAGMENTS];
    /* bit (a << 8 | b) set when a fragment starts with the bytes a, b (a one-byte fragment
       a sets a << 8 | b for every b, and bit a, for a key's last byte) */
    unsigned char bigrams[65536 / 8];
    /* keys of up to 16 bytes judged so far (direct-mapped, by their bytes) */
    struct {
        uint64_t w0, w1;
        Py_ssize_t len;
        int used, secret;
    } seen[KEY_SLOTS];
} KeyScanner;

static int ask(KeyScanner *self, PyObject *name)
{
    PyObject *answer;
    int secret;
    if (name == NULL)
        return -1;
    answer = PyObject_CallOneArg(self->is_secret, name);
    Py_DECREF(name);
    if (answer == NULL)
        return -1;
    secret = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return secret;
}

/* 1 secret, 0 not, -1 Python error, for the key p[0:len] (no escapes) */
static int judge_key(KeyScanner *self, const unsigned char *p, Py_ssize_t len)
{
    Py_ssize_t k, f, j;
    for (k = 0; k < len; k++)
        if (p[k] >= 0x80) /* no ASCII filter for these: is_secret judges every one */
            return ask(self, PyUnicode_DecodeUTF8((const char *)p, len, "strict"));
    for (k = 0; k < len; k++) {
        unsigned int a = lower_of[p[k]];
        unsigned int bigram = k + 1 < len ? (a << 8) | lower_of[p[k + 1]] : a;
        if (!(self->bigrams[bigram >> 3] & (1u << (bigram & 7))))
            continue;
        for (f = 0; f < self->nfrags; f++) {
            Py_ssize_t m = self->frag_lens[f];
            const unsigned char *frag = self->frags[f];
            if (frag[0] != a || m > len - k)
                continue;
            for (j = 1; j < m && lower_of[p[k + j]] == frag[j]; j++)
                ;
            if (j == m) /* a fragment: is_secret decides */
                return ask(self, PyUnicode_DecodeASCII((const char *)p, len, "strict"));
        }
    }
    return 0; /* every secret name holds a fragment */
}

/* judge_key, remembered for keys of up to 16 bytes */
static int key_is_secret(KeyScanner *self, const unsigned char *p, Py_ssize_t len,
                         const unsigned char *end)
{
    uint64_t w0 = 0, w1 = 0;
    unsigned int slot;
    int secret;
    if (len > 16)
        return judge_key(self, p, len);
    if (len >= 8) { /* two loads cover 8..16 bytes */
        memcpy(&w0, p, 8);
        memcpy(&w1, p + len - 8, 8);
    } else {
#if PY_LITTLE_ENDIAN
        if (len && end - p >= 8) { /* one load, the bytes after the key masked off */
            memcpy(&w0, p, 8);
            w0 &= ~(uint64_t)0 >> (8 * (8 - len));
        } else
#endif
            memcpy(&w0, p, (size_t)len);
    }
    slot = (unsigned int)(((w0 ^ (w1 * 0x9E3779B97F4A7C15ull) ^ (uint64_t)len)
                           * 0x9E3779B97F4A7C15ull) >> 56);
    if (self->seen[slot].used && self->seen[slot].len == len && self->seen[slot].w0 == w0
            && self->seen[slot].w1 == w1)
        return self->seen[slot].secret;
    secret = judge_key(self, p, len);
    if (secret >= 0) {
        self->seen[slot].used = 1;
        self->seen[slot].len = len;
        self->seen[slot].w0 = w0;
        self->seen[slot].w1 = w1;
        self->seen[slot].secret = secret;
    }
    return secret;
}

enum { OK = 0, NO_ANSWER = 1, PY_ERROR = 2 };

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* nonzero when a byte of v is zero (exact as a test, whatever the byte order) */
#define HAS_ZERO(v) (((v) - ONES) & ~(v) & HIGHS)

/* the length of the character at p when Python's str regex `\s` matches it (UTF-8), else 0 */
static inline int py_space_len(const unsigned char *p, const unsigned char *end)
{
    Py_ssize_t left = end - p;
    if (left <= 0)
        return 0;
    if ((*p >= 0x09 && *p <= 0x0d) || (*p >= 0x1c && *p <= 0x20))
        return 1;
    if (left >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
        return 2;
    if (left < 3)
        return 0;
    if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
            || (p[0] == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9
                                                 || p[2] == 0xaf) && p[2] >= 0x80)
            || (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
            || (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))
        return 3;
    return 0;
}

/* 1 when the pure path's check for escaped keys, the regex
   secret_values._KEY_WITH_ESCAPE = \\.(?:[^"\\]|\\.)*"\s*: , matches at the backslash p (then
   the pure path declines the whole text), 0 when not, -1 when *budget runs out. Only starts at
   the second backslash of an escaped backslash can match in strict JSON whose keys hold no
   escapes: read from there, escapes pair up one byte off, and the scan may run past the
   string's end (`"\\", ":"`) or stop at an escaped quote (`"\\\":"`). Bytes stand in for
   characters: what follows a backslash in strict JSON is ASCII. */
static int escaped_key_match(const unsigned char *p, const unsigned char *end,
                             Py_ssize_t *budget)
{
    if (end - p < 2 || p[1] == '\n')
        return 0;
    p += 2;
    for (;;) {
        int space;
        if (--*budget < 0)
            return -1;
        if (p >= end)
            return 0;
        if (*p == '"') {
            p++;
            while ((space = py_space_len(p, end)) > 0)
                p += space;
            return p < end && *p == ':';
        }
        if (*p == '\\') {
            if (end - p < 2 || p[1] == '\n')
                return 0;
            p += 2;
        } else {
            p++;
        }
    }
}

/* at '"' (p < end): the position after the closing quote, or NULL; *escaped when it holds
   an escape. NULL too (no answer) when escaped_key_match finds a match at the second
   backslash of an escaped backslash: the pure path declines such a text. */
static inline const unsigned char *skip_string(const unsigned char *p, const unsigned char *end,
                                               int *escaped, Py_ssize_t *budget)
{
    p++;
    for (;;) {
        /* eight bytes at a time: each test flags exactly the first byte that meets it (and
           maybe later ones), so on little-endian machines the lowest flag is the first stop */
        while (end - p >= 8) {
            uint64_t v, stop;
            memcpy(&v, p, 8);
            stop = HAS_ZERO(v ^ (ONES * '"')) | HAS_ZERO(v ^ (ONES * '\\'))
                   | ((v - ONES * 0x20) & ~v & HIGHS);
            if (stop) {
#if PY_LITTLE_ENDIAN && defined(__GNUC__)
                p += __builtin_ctzll(stop) >> 3;
#endif
                break;
            }
            p += 8;
        }
        while (!string_stop[*p])
            p++;
        if (*p == '"' && p < end)
            return p + 1;
        if (*p != '\\' || p + 1 >= end)
            return NULL; /* a control character, or the end */
        *escaped = 1;
        switch (p[1]) {
        case '\\':
            if (escaped_key_match(p + 1, end, budget) != 0)
                return NULL;
            p += 2;
            break;
        case '"': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            p += 2;
            break;
        case 'u':
            if (end - p < 6 || !is_hex[p[2]] || !is_hex[p[3]] || !is_hex[p[4]]
                    || !is_hex[p[5]])
                return NULL;
            p += 6;
            break;
        default:
            return NULL;
        }
    }
}

/* at '-' or a digit: the position after the number, or NULL */
static inline const unsigned char *skip_number(const unsigned char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (is_digit[*p])
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!is_digit[*p])
            return NULL;
        while (is_digit[*p])
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit[*p])
            return NULL;
        while (is_digit[*p])
            p++;
    }
    return p;
}

static inline const unsigned char *skip_literal(const unsigned char *p, const unsigned char *end)
{
    if (end - p >= 4 && (memcmp(p, "true", 4) == 0 || memcmp(p, "null", 4) == 0))
        return p + 4;
    if (end - p >= 5 && memcmp(p, "false", 5) == 0)
        return p + 5;
    return NULL;
}

static inline int is_name_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$';
}

typedef struct {
    Span *items;
    Py_ssize_t count, cap;
} Spans;

static int add_span(Spans *spans, Py_ssize_t start, Py_ssize_t end)
{
    if (spans->count == spans->cap) {
        Py_ssize_t cap = spans->cap ? spans->cap * 2 : 64;
        Span *grown = PyMem_Realloc(spans->items, (size_t)cap * sizeof(Span));
        if (grown == NULL) {
            PyErr_NoMemory();
            return PY_ERROR;
        }
        spans->items = grown;
        spans->cap = cap;
    }
    spans->items[spans->count].start = start;
    spans->items[spans->count].end = end;
    spans->count++;
    return OK;
}

#define SKIP_WS() while (is_ws[*p]) p++

/* the whole text: ws value ws, or ws [/ ** /] name ws ( ws value ws ) ws [;] ws (JSONP) */
static int scan(KeyScanner *self, const unsigned char *start, Py_ssize_t n, Spans *spans)
{
    const unsigned char *p = start, *end = start + n, *q;
    unsigned char stack[MAX_DEPTH];
    int depth = 0, jsonp = 0, escaped, secret;
    Py_ssize_t budget = 8 * n + 64; /* steps of escaped_key_match; beyond them, no answer */

    SKIP_WS();
    if (end - p >= 4 && memcmp(p, "/**/", 4) == 0) {
        p += 4;
        SKIP_WS();
        if (!is_name_start(*p))
            return NO_ANSWER;
    }
    if (is_name_start(*p) && !skip_literal(p, end)) {
        while (is_name_start(*p) || *p == '.' || is_digit[*p])
            p++;
        SKIP_WS();
        if (*p != '(')
            return NO_ANSWER;
        p++;
        SKIP_WS();
        jsonp = 1;
    }

value: /* at a value (after whitespace) */
    switch (*p) {
    case '{': case '[': /* the stack holds the closing bracket */
        if (depth == MAX_DEPTH)
            return NO_ANSWER;
        stack[depth++] = *p == '{' ? '}' : ']';
        p++;
        SKIP_WS();
        if (*p == stack[depth - 1]) {
            depth--;
            p++;
            goto after;
        }
        if (stack[depth - 1] == '}')
            goto key;
        goto value;
    case '"':
        escaped = 0;
        if ((p = skip_string(p, end, &escaped, &budget)) == NULL)
            return NO_ANSWER;
        goto after;
    case 't': case 'f': case 'n':
        if ((p = skip_literal(p, end)) == NULL)
            return NO_ANSWER;
        goto after;
    default:
        if (*p != '-' && !is_digit[*p])
            return NO_ANSWER;
        if ((p = skip_number(p)) == NULL)
            return NO_ANSWER;
        goto after;
    }

key: /* at an object's key (after whitespace) */
    if (*p != '"' || p >= end)
        return NO_ANSWER;
    escaped = 0;
    if ((q = skip_string(p, end, &escaped, &budget)) == NULL || escaped)
        return NO_ANSWER;
    secret = key_is_secret(self, p + 1, q - p - 2, end);
    if (secret < 0)
        return PY_ERROR;
    p = q;
    SKIP_WS();
    if (*p != ':')
        return NO_ANSWER;
    p++;
    SKIP_WS();
    if (!secret)
        goto value;
    /* a secret key's value: replaced, kept, or no answer (objects, arrays, escapes) */
    q = p;
    if (*p == '"' && p < end) {
        if ((p = skip_string(p, end, &escaped, &budget)) == NULL || escaped)
            return NO_ANSWER;
        if (p - q == 2 || (p - q == REDACTED_LEN && memcmp(q, REDACTED, REDACTED_LEN) == 0))
            goto after;
    } else if (*p == '-' || is_digit[*p]) {
        if ((p = skip_number(p)) == NULL)
            return NO_ANSWER;
    } else if (*p == 't' || *p == 'f' || *p == 'n') {
        if ((p = skip_literal(p, end)) == NULL)
            return NO_ANSWER;
        goto after;
    } else {
        return NO_ANSWER;
    }
    if (add_span(spans, q - start, p - start) != OK)
        return PY_ERROR;

after: /* after a value */
    SKIP_WS();
    if (depth == 0)
        goto done;
    if (*p == ',') {
        p++;
        SKIP_WS();
        if (stack[depth - 1] == '}')
            goto key;
        goto value;
    }
    if (*p == stack[depth - 1] && p < end) {
        depth--;
        p++;
        goto after;
    }
    return NO_ANSWER;

done:
    if (jsonp) {
        if (*p != ')' || p >= end)
            return NO_ANSWER;
        p++;
        SKIP_WS();
        if (*p == ';' && p < end)
            p++;
        SKIP_WS();
    }
    return p == end ? OK : NO_ANSWER;
}

static PyObject *KeyScanner_redact_values(KeyScanner *self, PyObject *text)
{
    Spans spans = {NULL, 0, 0};
    PyObject *result = NULL;
    const unsigned char *s;
    Py_ssize_t n, k, total, out = 0, last = 0;
    char *dest;
    int status;
    if (!PyBytes_CheckExact(text)) {
        PyErr_SetString(PyExc_TypeError, "redact_values takes bytes");
        return NULL;
    }
    if (self->is_secret == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "KeyScanner was not initialised");
        return NULL;
    }
    s = (const unsigned char *)PyBytes_AS_STRING(text);
    n = PyBytes_GET_SIZE(text);
    status = scan(self, s, n, &spans);
    if (status == PY_ERROR)
        goto done;
    if (status != OK) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (spans.count == 0) {
        result = Py_NewRef(text);
        goto done;
    }
    total = n;
    for (k = 0; k < spans.count; k++)
        total += REDACTED_LEN - (spans.items[k].end - spans.items[k].start);
    result = PyBytes_FromStringAndSize(NULL, total);
    if (result == NULL)
        goto done;
    dest = PyBytes_AS_STRING(result);
    for (k = 0; k < spans.count; k++) {
        memcpy(dest + out, s + last, (size_t)(spans.items[k].start - last));
        out += spans.items[k].start - last;
        memcpy(dest + out, REDACTED, REDACTED_LEN);
        out += REDACTED_LEN;
        last = spans.items[k].end;
    }
    memcpy(dest + out, s + last, (size_t)(n - last));
done:
    PyMem_Free(spans.items);
    return result;
}

static int KeyScanner_init(KeyScanner *self, PyObject *args, PyObject *kwargs)
{
    PyObject *fragments, *is_secret;
    Py_ssize_t f;
    static char *names[] = {"fragments", "is_secret", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O:KeyScanner", names, &PyTuple_Type,
                                     &fragments, &is_secret))
        return -1;
    if (!PyCallable_Check(is_secret)) {
        PyErr_SetString(PyExc_TypeError, "is_secret must be callable");
        return -1;
    }
    if (PyTuple_GET_SIZE(fragments) > MAX_FRAGMENTS) {
        PyErr_SetString(PyExc_ValueError, "too many fragments");
        return -1;
    }
    for (f = 0; f < PyTuple_GET_SIZE(fragments); f++) { /* all checked before any change */
        PyObject *fragment = PyTuple_GET_ITEM(fragments, f);
        const unsigned char *bytes;
        Py_ssize_t k;
        if (!PyBytes_Check(fragment) || PyBytes_GET_SIZE(fragment) == 0) {
            PyErr_SetString(PyExc_TypeError, "fragments must be non-empty bytes");
            return -1;
        }
        bytes = (const unsigned char *)PyBytes_AS_STRING(fragment);
        for (k = 0; k < PyBytes_GET_SIZE(fragment); k++)
            if (bytes[k] >= 0x80 || lower_of[bytes[k]] != bytes[k]) {
                PyErr_SetString(PyExc_ValueError, "fragments must be lower-case ASCII");
                return -1;
            }
    }
    memset(self->bigrams, 0, sizeof(self->bigrams));
    memset(self->seen, 0, sizeof(self->seen));
    for (f = 0; f < PyTuple_GET_SIZE(fragments); f++) {
        PyObject *fragment = PyTuple_GET_ITEM(fragments, f);
        const unsigned char *bytes = (const unsigned char *)PyBytes_AS_STRING(fragment);
        Py_ssize_t len = PyBytes_GET_SIZE(fragment);
        unsigned int a, b;
        self->frags[f] = bytes;
        self->frag_lens[f] = len;
        a = bytes[0];
        if (len == 1) {
            for (b = 0; b < 256; b++)
                self->bigrams[((a << 8) | b) >> 3] |= (unsigned char)(1u << (b & 7));
            self->bigrams[a >> 3] |= (unsigned char)(1u << (a & 7));
        } else {
            b = (a << 8) | bytes[1];
            self->bigrams[b >> 3] |= (unsigned char)(1u << (b & 7));
        }
    }
    self->nfrags = PyTuple_GET_SIZE(fragments);
    Py_XSETREF(self->fragments, Py_NewRef(fragments));
    Py_XSETREF(self->is_secret, Py_NewRef(is_secret));
    return 0;
}

static int KeyScanner_traverse(KeyScanner *self, visitproc visit, void *arg)
{
    Py_VISIT(self->fragments);
    Py_VISIT(self->is_secret);
    return 0;
}

static int KeyScanner_clear(KeyScanner *self)
{
    Py_CLEAR(self->fragments);
    Py_CLEAR(self->is_secret);
    return 0;
}

static void KeyScanner_dealloc(KeyScanner *self)
{
    PyObject_GC_UnTrack(self);
    KeyScanner_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *KeyScanner_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)args;
    (void)kwargs;
    return type->tp_alloc(type, 0);
}

static PyMethodDef KeyScanner_methods[] = {
    {"redact_values", (PyCFunction)KeyScanner_redact_values, METH_O,
     "redact_values(text: bytes) -> bytes | None: the values of secret JSON keys replaced "
     "in place; `text` itself when none changes; None when it does not answer."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject KeyScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "plugins._jsonscan.KeyScanner",
    .tp_basicsize = sizeof(KeyScanner),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "KeyScanner(fragments, is_secret): replaces the values of secret JSON keys.",
    .tp_new = KeyScanner_new,
    .tp_init = (initproc)KeyScanner_init,
    .tp_dealloc = (destructor)KeyScanner_dealloc,
    .tp_traverse = (traverseproc)KeyScanner_traverse,
    .tp_clear = (inquiry)KeyScanner_clear,
    .tp_methods = KeyScanner_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "plugins._jsonscan",
    "One pass over JSON text that replaces the values of secret keys (the C half of "
    "plugins.redaction_fast).",
    -1, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__jsonscan(void)
{
    PyObject *m;
    int c;
    for (c = 0; c < 256; c++) {
        lower_of[c] = (unsigned char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        string_stop[c] = (unsigned char)(c < 0x20 || c == '"' || c == '\\');
        is_ws[c] = (unsigned char)(c == ' ' || c == '\t' || c == '\n' || c == '\r');
        is_digit[c] = (unsigned char)(c >= '0' && c <= '9');
        is_hex[c] = (unsigned char)(is_digit[c] || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
    }
    if (PyType_Ready(&KeyScannerType) < 0)
        return NULL;
    m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "MAX_FRAGMENTS", MAX_FRAGMENTS) < 0
            || PyModule_AddObjectRef(m, "KeyScanner", (PyObject *)&KeyScannerType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
