/* gen-unicode: writes the Unicode character classes of the pre-tokenizer
 * (host/text/pretokenize.c) as a C header, from the Unicode Character Database
 * that Debian's unicode-data package installs in /usr/share/unicode:
 *
 *   gen-unicode UnicodeData.txt PropList.txt OUT.h
 *
 * The build runs it (cmake/unicode.cmake), so the classes follow the
 * installed database rather than the older one compiled into PCRE2
 * (Debian 12's PCRE2 10.42 has Unicode 14.0; DeepSeek's tokenizers use
 * newer data). The header holds:
 *
 * - ucd_class(cp): the class of every code point, from a two-stage table:
 *   letter, mark, number, punctuation or symbol (the general categories
 *   L, M, N, P and S the regexes name), a non-ASCII White_Space code point
 *   (PropList.txt), or other (controls, format, private use, unassigned);
 * - ucd_representative: per class, one code point of each UTF-8 length;
 * - UCD_L, UCD_M, UCD_N, UCD_P, UCD_S: the inside of a PCRE2 character
 *   class that holds the class's ASCII code points and its
 *   representatives, for patterns that run on text in which every
 *   non-ASCII code point was replaced by its class's representative of
 *   the same length (see host/text/pretokenize.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CODE_POINTS 0x110000u
#define BLOCK 256u /* code points per second-stage block */

/* The classes, in the order of the generated enum ucd_class. */
enum { OTHER, LETTER, MARK, NUMBER, PUNCTUATION, SYMBOL, WIDE_SPACE };
static const struct {
    const char *enumerator, *macro;
    char major; /* first letter of the general categories it holds */
    const char *what;
} classes[] = {
    {"UCD_OTHER", NULL, 0, "the rest: C* (Cn: unassigned), ASCII spaces"},
    {"UCD_LETTER", "UCD_L", 'L', "Lu Ll Lt Lm Lo"},
    {"UCD_MARK", "UCD_M", 'M', "Mn Mc Me"},
    {"UCD_NUMBER", "UCD_N", 'N', "Nd Nl No"},
    {"UCD_PUNCTUATION", "UCD_P", 'P', "Pc Pd Ps Pe Pi Pf Po"},
    {"UCD_SYMBOL", "UCD_S", 'S', "Sm Sc Sk So"},
    {"UCD_WIDE_SPACE", NULL, 0, "White_Space at U+0080 and above"},
};
#define N_CLASSES (sizeof classes / sizeof classes[0])

/* General category of every code point, as its two-letter name; code
 * points UnicodeData.txt does not list are unassigned, "Cn". */
static char category[N_CODE_POINTS][2];
static bool white_space[N_CODE_POINTS];

static const char *input_name;
static unsigned input_line;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (input_line)
        fprintf(stderr, "gen-unicode: %s:%u: ", input_name, input_line);
    else
        fprintf(stderr, "gen-unicode: %s: ", input_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static FILE *open_input(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "gen-unicode: cannot open %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    input_name = path;
    input_line = 0;
    return f;
}

/* Reads one line without its newline; false at the end of the file. */
static bool read_line(FILE *f, char *line, size_t size)
{
    if (!fgets(line, (int)size, f))
        return false;
    input_line++;
    size_t len = strlen(line);
    if (len && line[len - 1] == '\n')
        line[--len] = 0;
    else if (!feof(f))
        fail("line longer than %zu bytes", size - 2);
    return true;
}

static uint32_t parse_code_point(const char *text, char **end)
{
    errno = 0;
    unsigned long cp = strtoul(text, end, 16);
    if (*end == text || errno || cp >= N_CODE_POINTS)
        fail("bad code point '%.8s'", text);
    return (uint32_t)cp;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* UnicodeData.txt: "code;name;category;..." per code point, in order. A
 * block of identical code points (CJK ideographs, Hangul, private use) is
 * two lines, "<Name, First>" and "<Name, Last>", that stand for the whole
 * range. */
static void read_unicode_data(const char *path)
{
    FILE *f = open_input(path);
    for (uint32_t cp = 0; cp < N_CODE_POINTS; cp++)
        memcpy(category[cp], "Cn", 2);
    char line[512];
    long last = -1, first_of_range = -1;
    while (read_line(f, line, sizeof line)) {
        if (!line[0])
            continue;
        char *p;
        uint32_t cp = parse_code_point(line, &p);
        char *name = p + 1, *name_end = strchr(name, ';');
        if (*p != ';' || !name_end || name_end[1] < 'A' || name_end[1] > 'Z' ||
            name_end[2] < 'a' || name_end[2] > 'z' || name_end[3] != ';')
            fail("expected 'code;name;category;...'");
        if ((long)cp <= last)
            fail("U+%04X is out of order", cp);
        const char *gc = name_end + 1;
        size_t name_len = (size_t)(name_end - name);
        if (first_of_range >= 0) {
            if (!ends_with(name, name_len, ", Last>") ||
                memcmp(category[first_of_range], gc, 2) != 0)
                fail("U+%04lX <..., First> is not followed by its "
                     "<..., Last> of the same category",
                     (unsigned long)first_of_range);
            for (uint32_t c = (uint32_t)first_of_range + 1; c <= cp; c++)
                memcpy(category[c], gc, 2);
            first_of_range = -1;
        } else {
            memcpy(category[cp], gc, 2);
            if (ends_with(name, name_len, ", First>"))
                first_of_range = cp;
        }
        last = cp;
    }
    if (first_of_range >= 0)
        fail("the file ends inside a <..., First> range");
    /* The database ends with plane 16's private use range, which ends at
     * U+10FFFD: a file that stops earlier was cut short. */
    if (last < 0x10FFFD)
        fail("the file ends at U+%04lX, before U+10FFFD: truncated?",
             (unsigned long)last);
    fclose(f);
}

/* PropList.txt: "first[..last] ; Property # comment". Its first line,
 * "# PropList-15.0.0.txt", names the database's version. */
static void read_prop_list(const char *path, char *version, size_t version_size)
{
    FILE *f = open_input(path);
    char line[512];
    size_t n_white = 0;
    version[0] = 0;
    while (read_line(f, line, sizeof line)) {
        const char *v = strstr(line, "# PropList-");
        if (input_line == 1 && v) {
            v += strlen("# PropList-");
            const char *end = strstr(v, ".txt");
            size_t n = end ? (size_t)(end - v) : 0;
            if (n == 0 || n >= version_size)
                fail("cannot read the version in '%s'", line);
            memcpy(version, v, n);
            version[n] = 0;
        }
        if (line[0] == '#' || !line[0])
            continue;
        char *p;
        uint32_t first = parse_code_point(line, &p), last = first;
        if (p[0] == '.' && p[1] == '.')
            last = parse_code_point(p + 2, &p);
        p += strspn(p, " ");
        if (*p != ';' || last < first)
            fail("expected 'first[..last] ; property'");
        p += 1 + strspn(p + 1, " ");
        size_t len = strcspn(p, " #");
        if (len == strlen("White_Space") &&
            memcmp(p, "White_Space", len) == 0) {
            for (uint32_t c = first; c <= last; c++)
                white_space[c] = true;
            n_white++;
        }
    }
    if (!version[0])
        fail("no '# PropList-<version>.txt' first line");
    if (n_white == 0)
        fail("no White_Space entries");
    fclose(f);
}

/* The class of every code point (the enum above). */
static uint8_t class_of[N_CODE_POINTS];

static void classify(void)
{
    input_name = "UnicodeData.txt and PropList.txt";
    input_line = 0;
    for (uint32_t cp = 0; cp < N_CODE_POINTS; cp++) {
        class_of[cp] = OTHER;
        for (size_t k = LETTER; k <= SYMBOL; k++)
            if (category[cp][0] == classes[k].major)
                class_of[cp] = (uint8_t)k;
        if (white_space[cp] && cp >= 0x80) {
            if (class_of[cp] != OTHER)
                fail("U+%04X is White_Space and %.2s", cp, category[cp]);
            class_of[cp] = WIDE_SPACE;
        }
        /* The pre-tokenizer matches ASCII spaces with PCRE2's \s (without
         * PCRE2_UCP), which is exactly \t \n \v \f \r and space. */
        bool ascii_space = (cp >= 0x09 && cp <= 0x0D) || cp == 0x20;
        if (cp < 0x80 && white_space[cp] != ascii_space)
            fail("White_Space of ASCII U+%04X is not PCRE2's \\s", cp);
    }
}

/* The lowest code point of class k that UTF-8 writes in n_bytes (2..4). */
static uint32_t representative(size_t k, unsigned n_bytes)
{
    static const uint32_t first[] = {0x80, 0x800, 0x10000, N_CODE_POINTS};
    for (uint32_t cp = first[n_bytes - 2]; cp < first[n_bytes - 1]; cp++)
        if (class_of[cp] == k)
            return cp;
    fail("no %s code point of %u UTF-8 bytes", classes[k].enumerator, n_bytes);
    return 0;
}

/* "\\x{41}-\\x{5A}" in C source is \x{41}-\x{5A} in the pattern. */
static void write_pattern_char(FILE *out, uint32_t first, uint32_t last)
{
    if (first == last)
        fprintf(out, "\\\\x{%X}", first);
    else
        fprintf(out, "\\\\x{%X}-\\\\x{%X}", first, last);
}

static void write_classes(FILE *out)
{
    fputs("\n/* What ucd_class() returns. */\nenum ucd_class {\n", out);
    for (size_t k = 0; k < N_CLASSES; k++)
        fprintf(out, "    %s, /* %s */\n", classes[k].enumerator,
                classes[k].what);
    fputs("};\n\n/* Per class up to UCD_SYMBOL, its lowest code point of "
          "2, 3 and 4 UTF-8\n * bytes: what the class-collapsed text "
          "holds in place of the class's\n * non-ASCII code points. */\n"
          "static const uint32_t ucd_representative[UCD_SYMBOL + 1][3] = {\n"
          "    {0, 0, 0},\n",
          out);
    for (size_t k = LETTER; k <= SYMBOL; k++)
        fprintf(out, "    {0x%04X, 0x%04X, 0x%05X},\n", representative(k, 2),
                representative(k, 3), representative(k, 4));
    fputs("};\n", out);
    for (size_t k = LETTER; k <= SYMBOL; k++) {
        fprintf(out,
                "\n/* %s (%s) in class-collapsed text, for a PCRE2\n"
                " * class: its ASCII code points and its representatives. "
                "*/\n#define %s \"",
                classes[k].enumerator, classes[k].what, classes[k].macro);
        for (uint32_t cp = 0; cp < 0x80; cp++) {
            if (class_of[cp] != k)
                continue;
            uint32_t last = cp;
            while (last + 1 < 0x80 && class_of[last + 1] == k)
                last++;
            write_pattern_char(out, cp, last);
            cp = last;
        }
        for (unsigned n = 2; n <= 4; n++) {
            uint32_t r = representative(k, n);
            write_pattern_char(out, r, r);
        }
        fputs("\"\n", out);
    }
}

/* ucd_class(cp) = stage2[stage1[cp / BLOCK] * BLOCK + cp % BLOCK]: blocks
 * of BLOCK code points with the same classes are stored once. */
static void write_tables(FILE *out)
{
    static uint16_t stage1[N_CODE_POINTS / BLOCK];
    static uint32_t block_start[N_CODE_POINTS / BLOCK]; /* of unique ones */
    size_t n_blocks = 0;
    for (uint32_t b = 0; b < N_CODE_POINTS / BLOCK; b++) {
        size_t u = 0;
        while (u < n_blocks && memcmp(class_of + block_start[u],
                                      class_of + b * BLOCK, BLOCK) != 0)
            u++;
        if (u == n_blocks)
            block_start[n_blocks++] = b * BLOCK;
        stage1[b] = (uint16_t)u;
    }
    fprintf(out, "\nstatic const uint16_t ucd_stage1[%u] = {",
            N_CODE_POINTS / BLOCK);
    for (uint32_t b = 0; b < N_CODE_POINTS / BLOCK; b++)
        fprintf(out, "%s%u,", b % 16 ? " " : "\n    ", stage1[b]);
    fprintf(out,
            "\n};\n\n/* %zu unique blocks of %u. */\n"
            "static const uint8_t ucd_stage2[%zu] = {",
            n_blocks, BLOCK, n_blocks * BLOCK);
    for (size_t u = 0; u < n_blocks; u++)
        for (uint32_t i = 0; i < BLOCK; i++)
            fprintf(out, "%s%u,", i % 32 ? "" : "\n    ",
                    class_of[block_start[u] + i]);
    fprintf(out,
            "\n};\n\n/* The class of a code point up to U+10FFFF. */\n"
            "static inline enum ucd_class ucd_class(uint32_t cp)\n{\n"
            "    return (enum ucd_class)\n"
            "        ucd_stage2[ucd_stage1[cp / %u] * %u + cp %% %u];\n}\n",
            BLOCK, BLOCK, BLOCK);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: gen-unicode UnicodeData.txt PropList.txt "
                        "OUT.h\n");
        return 2;
    }
    char version[32];
    read_unicode_data(argv[1]);
    read_prop_list(argv[2], version, sizeof version);
    classify();

    FILE *out = fopen(argv[3], "w");
    if (!out) {
        fprintf(stderr, "gen-unicode: cannot write %s: %s\n", argv[3],
                strerror(errno));
        return 1;
    }
    fprintf(out,
            "/* Generated by tools/gen-unicode/gen_unicode.c from the "
            "Unicode Character\n * Database %s:\n *   %s\n *   %s\n"
            " * Do not edit. */\n"
            "#ifndef DSVK_UCD_CLASSES_H\n#define DSVK_UCD_CLASSES_H\n\n"
            "#include <stdint.h>\n\n#define UCD_VERSION \"%s\"\n",
            version, argv[1], argv[2], version);
    write_classes(out);
    write_tables(out);
    fputs("\n#endif\n", out);
    bool write_error = ferror(out) != 0;
    if (fclose(out) != 0 || write_error) {
        fprintf(stderr, "gen-unicode: cannot write %s\n", argv[3]);
        remove(argv[3]);
        return 1;
    }
    return 0;
}
