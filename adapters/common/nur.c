/* nur.c - the NUR format check (see nur.h). Pure: no I/O, no
 * allocation; the reason it gives names the part of the number at fault. */
#include "nur.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool s_fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool s_fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Three-character département codes as the registry writes them. */
static bool s_department_exists(const char *d)
{
    if (d[0] == '0' && d[1] == '2' && (d[2] == 'A' || d[2] == 'B'))
        return true;
    if (!s_is_digit(d[0]) || !s_is_digit(d[1]) || !s_is_digit(d[2]))
        return false;
    int n = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    if (n >= 1 && n <= 95)
        return n != 20; /* 20 became 2A and 2B in 1976 */
    return (n >= 971 && n <= 974) || n == 976;
}

bool nur_check(const char *nur, char *why, size_t whylen)
{
    if (!nur || !*nur)
        return s_fail(why, whylen, "empty");
    size_t len = strlen(nur);
    if (strpbrk(nur, " \t.-/"))
        return s_fail(why, whylen,
                      "separators are not allowed: write the %d characters without spaces, dots, "
                      "dashes or slashes",
                      NUR_LEN);
    if (len != NUR_LEN)
        return s_fail(why, whylen, "%zu characters, a NUR has %d", len, NUR_LEN);
    char dep[4] = {nur[0], nur[1], nur[2], '\0'};
    for (size_t i = 0; i < 3; i++)
        if (!s_is_digit(nur[i]) && !(i == 2 && (nur[i] == 'A' || nur[i] == 'B')))
            return s_fail(why, whylen,
                          "the first three characters (department) are not digits, 02A or 02B");
    for (size_t i = 3; i < len; i++) {
        unsigned char c = (unsigned char)nur[i];
        if (s_is_digit(nur[i]))
            continue;
        if (c >= 0x20 && c < 0x7f)
            return s_fail(why, whylen, "character %zu '%c' is not a digit", i + 1, c);
        return s_fail(why, whylen, "character %zu (byte 0x%02x) is not a digit", i + 1, c);
    }
    if (!s_department_exists(dep))
        return s_fail(why, whylen, "department %s does not exist", dep);
    int month = (nur[3] - '0') * 10 + (nur[4] - '0');
    if (month < 1 || month > 12)
        return s_fail(why, whylen, "month of filing %02d is not 01..12", month);
    if (strspn(nur + 7, "0") == 8)
        return s_fail(why, whylen, "sequence number %s is all zeros", nur + 7);
    return true;
}
