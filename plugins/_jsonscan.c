/* plugins._jsonscan: one pass over JSON text that replaces the values of secret keys.

   redact_values(text, fragments, is_secret) -> bytes | None

   `text` is UTF-8 JSON (optionally wrapped in a JSONP call); `fragments` a tuple of lower-case
   ASCII bytes, one of which every secret name contains once lower-cased; `is_secret(name)` the
   judge for a key that holds one. Returns `text` itself when no value changes, new bytes with
   each secret key's value replaced by "REDACTED" (strings that are not empty or "REDACTED"
   already, and numbers; true/false/null stay), or None when it does not answer: the text is
   not strict JSON, a key holds an escape, or a secret key holds an escaped string, an object
   or an array. The caller then takes the pure-Python path (plugins.secret_values), whose
   answer this one equals wherever it gives one (tests compare the two).

   Pure C over the bytes: no parse tree, no Python objects but the names handed to is_secret.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 512
#define KEY_SLOTS 64

static const char REDACTED[] = "\"REDACTED\"";
#define REDACTED_LEN 10

enum { OK = 0, NO_ANSWER = 1, PY_ERROR = 2 };

typedef struct {
    Py_ssize_t start, end;
} Span;

typedef struct {
    const unsigned char *s;
    Py_ssize_t n, i;
    Span *spans;
    Py_ssize_t nspans, cap;
    const char **frags;
    Py_ssize_t *frag_lens;
    Py_ssize_t nfrags;
    /* bit (a << 8 | b) set when a fragment starts with the bytes a, b (a one-byte fragment
       sets a << 8 | b for every b, and bit a for a key's last byte) */
    unsigned char bigrams[65536 / 8];
    PyObject *is_secret;
    int status;
    /* keys of up to 16 bytes judged so far, by their bytes (direct-mapped) */
    struct {
        uint64_t w0, w1;
        Py_ssize_t len;
        int used, secret;
    } seen[KEY_SLOTS];
} Scan;

static unsigned char string_stop[256]; /* '"', '\\' and control characters */
static unsigned char lower_of[256];   /* ASCII lower case */

static void skip_ws(Scan *sc)
{
    const unsigned char *s = sc->s;
    Py_ssize_t i = sc->i, n = sc->n;
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    sc->i = i;
}

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* at '"': moves past the closing quote; *escaped set when the string holds an escape */
static int scan_string(Scan *sc, int *escaped)
{
    const unsigned char *s = sc->s;
    Py_ssize_t i = sc->i + 1, n = sc->n;
    *escaped = 0;
    for (;;) {
        while (i < n && !string_stop[s[i]])
            i++;
        if (i >= n)
            return NO_ANSWER;
        if (s[i] == '"') {
            sc->i = i + 1;
            return OK;
        }
        if (s[i] != '\\')
            return NO_ANSWER; /* a raw control character */
        *escaped = 1;
        if (i + 1 >= n)
            return NO_ANSWER;
        switch (s[i + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            i += 2;
            break;
        case 'u':
            if (i + 5 >= n || !is_hex(s[i + 2]) || !is_hex(s[i + 3]) || !is_hex(s[i + 4])
                    || !is_hex(s[i + 5]))
                return NO_ANSWER;
            i += 6;
            break;
        default:
            return NO_ANSWER;
        }
    }
}

static int scan_number(Scan *sc)
{
    const unsigned char *s = sc->s;
    Py_ssize_t i = sc->i, n = sc->n;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return NO_ANSWER;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return NO_ANSWER;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return NO_ANSWER;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return NO_ANSWER;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    sc->i = i;
    return OK;
}

static int scan_literal(Scan *sc)
{
    const unsigned char *p = sc->s + sc->i;
    Py_ssize_t left = sc->n - sc->i;
    if (left >= 4 && (memcmp(p, "true", 4) == 0 || memcmp(p, "null", 4) == 0)) {
        sc->i += 4;
        return OK;
    }
    if (left >= 5 && memcmp(p, "false", 5) == 0) {
        sc->i += 5;
        return OK;
    }
    return NO_ANSWER;
}

static int add_span(Scan *sc, Py_ssize_t start, Py_ssize_t end)
{
    if (sc->nspans == sc->cap) {
        Py_ssize_t cap = sc->cap ? sc->cap * 2 : 64;
        Span *grown = PyMem_Realloc(sc->spans, (size_t)cap * sizeof(Span));
        if (grown == NULL) {
            PyErr_NoMemory();
            return PY_ERROR;
        }
        sc->spans = grown;
        sc->cap = cap;
    }
    sc->spans[sc->nspans].start = start;
    sc->spans[sc->nspans].end = end;
    sc->nspans++;
    return OK;
}

static int ask(Scan *sc, PyObject *name)
{
    PyObject *answer;
    int secret;
    if (name == NULL)
        return -1;
    answer = PyObject_CallOneArg(sc->is_secret, name);
    Py_DECREF(name);
    if (answer == NULL)
        return -1;
    secret = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return secret;
}

/* 1 secret, 0 not, -1 Python error; the key's bytes are p[0:len] (no escapes, not cached) */
static int judge_key(Scan *sc, const unsigned char *p, Py_ssize_t len)
{
    Py_ssize_t k, f;
    int ascii = 1, found = 0;
    for (k = 0; k < len; k++)
        if (p[k] >= 0x80) {
            ascii = 0;
            break;
        }
    if (!ascii) /* no ASCII filter for these: is_secret judges every one */
        return ask(sc, PyUnicode_DecodeUTF8((const char *)p, len, "strict"));
    for (k = 0; k < len && !found; k++) {
        unsigned int a = lower_of[p[k]];
        unsigned int bigram = k + 1 < len ? (a << 8) | lower_of[p[k + 1]] : a;
        if (!(sc->bigrams[bigram >> 3] & (1u << (bigram & 7))))
            continue;
        for (f = 0; f < sc->nfrags && !found; f++) {
            Py_ssize_t m = sc->frag_lens[f], j;
            const unsigned char *frag = (const unsigned char *)sc->frags[f];
            if (frag[0] != a || m > len - k)
                continue;
            for (j = 1; j < m && lower_of[p[k + j]] == frag[j]; j++)
                ;
            found = j == m;
        }
    }
    if (!found) /* every secret name holds a fragment */
        return 0;
    return ask(sc, PyUnicode_DecodeASCII((const char *)p, len, "strict"));
}

/* judge_key, remembered for keys of up to 16 bytes */
static int key_is_secret(Scan *sc, Py_ssize_t start, Py_ssize_t end)
{
    const unsigned char *p = sc->s + start;
    Py_ssize_t len = end - start;
    uint64_t w0 = 0, w1 = 0;
    unsigned int slot;
    int secret;
    if (len > 16)
        return judge_key(sc, p, len);
    if (len >= 8) {
        memcpy(&w0, p, 8);
        memcpy(&w1, p + len - 8, 8);
    } else {
        memcpy(&w0, p, (size_t)len);
    }
    slot = (unsigned int)(((w0 ^ (w1 * 0x9E3779B97F4A7C15ull) ^ (uint64_t)len)
                           * 0x9E3779B97F4A7C15ull) >> 58);
    if (sc->seen[slot].used && sc->seen[slot].len == len && sc->seen[slot].w0 == w0
            && sc->seen[slot].w1 == w1)
        return sc->seen[slot].secret;
    secret = judge_key(sc, p, len);
    if (secret >= 0) {
        sc->seen[slot].used = 1;
        sc->seen[slot].len = len;
        sc->seen[slot].w0 = w0;
        sc->seen[slot].w1 = w1;
        sc->seen[slot].secret = secret;
    }
    return secret;
}

static int scan_value(Scan *sc, int depth);


/* the value of a secret key: replaced, kept, or no answer (objects, arrays, escapes) */
static int secret_value(Scan *sc)
{
    Py_ssize_t start = sc->i;
    int escaped, status;
    unsigned char c;
    if (start >= sc->n)
        return NO_ANSWER;
    c = sc->s[start];
    if (c == '"') {
        status = scan_string(sc, &escaped);
        if (status != OK || escaped)
            return NO_ANSWER;
        if (sc->i - start == 2 || (sc->i - start == REDACTED_LEN
                                   && memcmp(sc->s + start, REDACTED, REDACTED_LEN) == 0))
            return OK;
        return add_span(sc, start, sc->i);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        status = scan_number(sc);
        return status != OK ? status : add_span(sc, start, sc->i);
    }
    if (c == 't' || c == 'f' || c == 'n')
        return scan_literal(sc);
    return NO_ANSWER;
}

static int scan_object(Scan *sc, int depth)
{
    int escaped, status, secret;
    Py_ssize_t key_start;
    sc->i++;
    skip_ws(sc);
    if (sc->i < sc->n && sc->s[sc->i] == '}') {
        sc->i++;
        return OK;
    }
    for (;;) {
        if (sc->i >= sc->n || sc->s[sc->i] != '"')
            return NO_ANSWER;
        key_start = sc->i + 1;
        status = scan_string(sc, &escaped);
        if (status != OK)
            return status;
        if (escaped)
            return NO_ANSWER;
        secret = key_is_secret(sc, key_start, sc->i - 1);
        if (secret < 0)
            return PY_ERROR;
        skip_ws(sc);
        if (sc->i >= sc->n || sc->s[sc->i] != ':')
            return NO_ANSWER;
        sc->i++;
        skip_ws(sc);
        status = secret ? secret_value(sc) : scan_value(sc, depth + 1);
        if (status != OK)
            return status;
        skip_ws(sc);
        if (sc->i >= sc->n)
            return NO_ANSWER;
        if (sc->s[sc->i] == '}') {
            sc->i++;
            return OK;
        }
        if (sc->s[sc->i] != ',')
            return NO_ANSWER;
        sc->i++;
        skip_ws(sc);
    }
}

static int scan_array(Scan *sc, int depth)
{
    int status;
    sc->i++;
    skip_ws(sc);
    if (sc->i < sc->n && sc->s[sc->i] == ']') {
        sc->i++;
        return OK;
    }
    for (;;) {
        status = scan_value(sc, depth + 1);
        if (status != OK)
            return status;
        skip_ws(sc);
        if (sc->i >= sc->n)
            return NO_ANSWER;
        if (sc->s[sc->i] == ']') {
            sc->i++;
            return OK;
        }
        if (sc->s[sc->i] != ',')
            return NO_ANSWER;
        sc->i++;
        skip_ws(sc);
    }
}

static int scan_value(Scan *sc, int depth)
{
    int escaped;
    unsigned char c;
    if (depth > MAX_DEPTH || sc->i >= sc->n)
        return NO_ANSWER;
    c = sc->s[sc->i];
    switch (c) {
    case '{':
        return scan_object(sc, depth);
    case '[':
        return scan_array(sc, depth);
    case '"':
        return scan_string(sc, &escaped);
    case 't': case 'f': case 'n':
        return scan_literal(sc);
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return scan_number(sc);
        return NO_ANSWER;
    }
}

static int is_name_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$';
}

/* the whole text: ws value ws, or ws [/ ** /] name ws ( ws value ws ) ws [;] ws (JSONP) */
static int scan_text(Scan *sc)
{
    int status, jsonp = 0;
    skip_ws(sc);
    if (sc->n - sc->i >= 4 && memcmp(sc->s + sc->i, "/**/", 4) == 0) {
        sc->i += 4;
        skip_ws(sc);
        if (sc->i >= sc->n || !is_name_start(sc->s[sc->i]))
            return NO_ANSWER;
    }
    if (sc->i < sc->n && is_name_start(sc->s[sc->i])
            && !(sc->n - sc->i >= 4 && (memcmp(sc->s + sc->i, "true", 4) == 0
                                        || memcmp(sc->s + sc->i, "null", 4) == 0))
            && !(sc->n - sc->i >= 5 && memcmp(sc->s + sc->i, "false", 5) == 0)) {
        while (sc->i < sc->n && (is_name_start(sc->s[sc->i]) || sc->s[sc->i] == '.'
                                 || (sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')))
            sc->i++;
        skip_ws(sc);
        if (sc->i >= sc->n || sc->s[sc->i] != '(')
            return NO_ANSWER;
        sc->i++;
        skip_ws(sc);
        jsonp = 1;
    }
    status = scan_value(sc, 0);
    if (status != OK)
        return status;
    skip_ws(sc);
    if (jsonp) {
        if (sc->i >= sc->n || sc->s[sc->i] != ')')
            return NO_ANSWER;
        sc->i++;
        skip_ws(sc);
        if (sc->i < sc->n && sc->s[sc->i] == ';')
            sc->i++;
        skip_ws(sc);
    }
    return sc->i == sc->n ? OK : NO_ANSWER;
}

static PyObject *redact_values(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Scan sc;
    PyObject *text, *fragments, *result = NULL;
    Py_ssize_t f, k, total, out;
    char *dest;
    int status;
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "redact_values(text, fragments, is_secret)");
        return NULL;
    }
    text = args[0];
    fragments = args[1];
    if (!PyBytes_Check(text) || !PyTuple_Check(fragments) || !PyCallable_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "redact_values(bytes, tuple of bytes, callable)");
        return NULL;
    }
    memset(&sc, 0, sizeof(sc));
    sc.s = (const unsigned char *)PyBytes_AS_STRING(text);
    sc.n = PyBytes_GET_SIZE(text);
    sc.is_secret = args[2];
    sc.nfrags = PyTuple_GET_SIZE(fragments);
    sc.frags = PyMem_Malloc((size_t)(sc.nfrags + 1) * sizeof(char *));
    sc.frag_lens = PyMem_Malloc((size_t)(sc.nfrags + 1) * sizeof(Py_ssize_t));
    if (sc.frags == NULL || sc.frag_lens == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (f = 0; f < sc.nfrags; f++) {
        PyObject *fragment = PyTuple_GET_ITEM(fragments, f);
        if (!PyBytes_Check(fragment) || PyBytes_GET_SIZE(fragment) == 0) {
            PyErr_SetString(PyExc_TypeError, "fragments must be non-empty bytes");
            goto done;
        }
        sc.frags[f] = PyBytes_AS_STRING(fragment);
        sc.frag_lens[f] = PyBytes_GET_SIZE(fragment);
        {
            unsigned char a = (unsigned char)sc.frags[f][0];
            unsigned int b;
            if (sc.frag_lens[f] == 1) {
                for (b = 0; b < 256; b++)
                    sc.bigrams[((a << 8) | b) >> 3] |= (unsigned char)(1u << (b & 7));
                sc.bigrams[a >> 3] |= (unsigned char)(1u << (a & 7));
            } else {
                b = (a << 8) | (unsigned char)sc.frags[f][1];
                sc.bigrams[b >> 3] |= (unsigned char)(1u << (b & 7));
            }
        }
    }
    status = scan_text(&sc);
    if (status == PY_ERROR)
        goto done;
    if (status != OK) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (sc.nspans == 0) {
        result = Py_NewRef(text);
        goto done;
    }
    total = sc.n;
    for (k = 0; k < sc.nspans; k++)
        total += REDACTED_LEN - (sc.spans[k].end - sc.spans[k].start);
    result = PyBytes_FromStringAndSize(NULL, total);
    if (result == NULL)
        goto done;
    dest = PyBytes_AS_STRING(result);
    out = 0;
    {
        Py_ssize_t last = 0;
        for (k = 0; k < sc.nspans; k++) {
            memcpy(dest + out, sc.s + last, (size_t)(sc.spans[k].start - last));
            out += sc.spans[k].start - last;
            memcpy(dest + out, REDACTED, REDACTED_LEN);
            out += REDACTED_LEN;
            last = sc.spans[k].end;
        }
        memcpy(dest + out, sc.s + last, (size_t)(sc.n - last));
    }
done:
    PyMem_Free(sc.spans);
    PyMem_Free(sc.frags);
    PyMem_Free(sc.frag_lens);
    return result;
}

static PyMethodDef methods[] = {
    {"redact_values", (PyCFunction)(void (*)(void))redact_values, METH_FASTCALL,
     "redact_values(text, fragments, is_secret) -> bytes | None: the values of secret JSON "
     "keys replaced in place (see the module)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "plugins._jsonscan",
    "One pass over JSON text that replaces the values of secret keys (the C half of "
    "plugins.redaction_fast).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__jsonscan(void)
{
    int c;
    for (c = 0; c < 256; c++)
        lower_of[c] = (unsigned char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    string_stop['"'] = 1;
    string_stop['\\'] = 1;
    for (c = 0; c < 0x20; c++)
        string_stop[c] = 1;
    return PyModule_Create(&module);
}
