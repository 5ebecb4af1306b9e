/* html.c - the reports' HTML building blocks (see html.h). Owns the style
 * sheet, the colours, the number formats of the pages and the SVG drawing
 * of gauges, progress bars and the monthly chart; computes nothing but
 * ratios and scales for display. Knows no report: figures come as
 * arguments. */
#include "html.h"

#include <stdarg.h>
#include <string.h>

#include "bilan.h"
#include "report_bilan.h"

static const char s_style[] =
    ":root{--ink:#1f2430;--muted:#5f6673;--line:#e3e6ec;--bg:#f6f7fa;--card:#fff;"
    "--pass:" HTML_C_PASS ";--fail:" HTML_C_FAIL ";--none:" HTML_C_NONE ";--orient:" HTML_C_ORIENT
    ";--attr:" HTML_C_ATTR ";--lease:" HTML_C_LEASE "}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1120px;margin:0 auto;padding:28px 24px 48px}"
    "header h1{margin:0;font-size:28px;letter-spacing:-.01em}"
    "header .period{color:var(--muted);font-weight:400}"
    "header p{margin:6px 0 0;color:var(--muted)}"
    "h2{font-size:19px;margin:34px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--line)}"
    "h3{font-size:16px;margin:0 0 8px}"
    "h3 small,.muted{color:var(--muted);font-weight:400}"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;"
    "margin-top:22px}"
    ".kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}"
    ".kpi b{display:block;font-size:26px;line-height:1.2}"
    ".kpi span{color:var(--muted);font-size:13px}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:16px 18px;margin:0 0 14px;overflow-x:auto}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:14px}"
    ".grid.wide{grid-template-columns:repeat(auto-fit,minmax(480px,1fr))}"
    ".grid .card{margin:0}.grid .card.full{grid-column:1/-1}"
    "table{border-collapse:collapse;width:100%;font-size:14px}"
    "th{font-weight:600;text-align:left;color:var(--muted);font-size:12px;text-transform:uppercase;"
    "letter-spacing:.03em;padding:6px 8px;border-bottom:1px solid var(--line)}"
    "td{padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:middle}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "tr:last-child td{border-bottom:0}"
    "tr.all td{font-weight:600}"
    ".badge{display:inline-block;padding:2px "
    "9px;border-radius:999px;font-size:12px;font-weight:600;"
    "color:#fff;white-space:nowrap}"
    ".badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}"
    ".badge.no_data,.badge.no_target{background:var(--none)}"
    ".badge.reached{background:var(--pass)}.badge.in_progress{background:var(--orient)}"
    ".badge.below_min,.badge.above_max{background:var(--fail)}"
    ".tag{display:inline-block;font-size:11px;padding:1px 7px;border-radius:4px;border:1px solid "
    "var(--line);color:var(--muted);white-space:nowrap}"
    ".tag.cia{border-color:#b39ddb;color:#5e35b1}"
    ".rule{color:var(--muted);font-size:13px;margin:-4px 0 10px}"
    ".bar{height:10px;background:#eef0f4;border-radius:5px;overflow:hidden;min-width:60px}"
    ".bar i{display:block;height:100%;background:var(--attr)}"
    ".legend{display:flex;gap:18px;font-size:13px;color:var(--muted);margin:4px 0 8px}"
    ".legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:6px;"
    "vertical-align:-1px}"
    "svg text{font:11px system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;fill:#5f6673}"
    "footer{margin-top:36px;color:var(--muted);font-size:12px}"
    "@media print{body{background:#fff}.card,.kpi{break-inside:avoid}}";

void html_out(FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

void html_esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

void html_share(FILE *out, uint32_t num, uint32_t den)
{
    char pct[24];
    report_bilan_pct(bilan_share_x10(num, den), pct);
    if (*pct)
        html_out(out, "%s&#8239;%%", pct);
    else
        fputs("–", out);
}

void html_target_text(uint32_t pm, char out[24])
{
    if (pm % 10)
        report_bilan_pct((long)pm, out);
    else
        snprintf(out, 24, "%u", pm / 10);
}

void html_per_mille(FILE *out, uint32_t pm)
{
    char pct[24];
    html_target_text(pm, pct);
    html_out(out, "%s&#8239;%%", pct);
}

void html_gauge(FILE *out, uint32_t num, uint32_t den, const uint32_t *targets, size_t n,
                const char *colour, int w)
{
    long x10 = bilan_share_x10(num, den);
    double fill = x10 < 0 ? 0 : (x10 > 1000 ? 1000 : x10) * w / 1000.0;
    char pct[24];
    report_bilan_pct(x10, pct);
    html_out(out,
             "<svg class=\"gauge\" width=\"%d\" height=\"30\" viewBox=\"0 0 %d 30\" role=\"img\""
             " aria-label=\"%s %%\"><rect x=\"0\" y=\"14\" width=\"%d\" height=\"12\" rx=\"6\""
             " fill=\"#eef0f4\"/>",
             w, w, *pct ? pct : "–", w);
    if (fill > 0)
        html_out(out, "<rect x=\"0\" y=\"14\" width=\"%.1f\" height=\"12\" rx=\"6\" fill=\"%s\"/>",
                 fill, colour);
    for (size_t i = 0; i < n; i++) {
        double x = (targets[i] > 1000 ? 1000 : targets[i]) * (w - 2) / 1000.0 + 1;
        char t[24];
        html_target_text(targets[i], t);
        html_out(out,
                 "<line x1=\"%.1f\" y1=\"10\" x2=\"%.1f\" y2=\"29\" stroke=\"#1f2430\""
                 " stroke-width=\"2\"%s/><text x=\"%.1f\" y=\"9\" text-anchor=\"%s\">%s %%</text>",
                 x, x, i ? " stroke-dasharray=\"3 2\"" : "", x, x > w - 30 ? "end" : "middle", t);
    }
    fputs("</svg>", out);
}

void html_progress(FILE *out, uint32_t done, uint32_t objective, int w)
{
    uint32_t scale = done > objective ? done : objective;
    double fill = scale ? (double)done * w / scale : 0;
    double mark = scale ? (double)objective * (w - 2) / scale + 1 : w;
    html_out(out,
             "<svg class=\"progress\" width=\"%d\" height=\"30\" viewBox=\"0 0 %d 30\" role=\"img\""
             " aria-label=\"%u / %u\"><rect x=\"0\" y=\"14\" width=\"%d\" height=\"12\" rx=\"6\""
             " fill=\"#eef0f4\"/>",
             w, w, done, objective, w);
    if (fill > 0)
        html_out(out, "<rect x=\"0\" y=\"14\" width=\"%.1f\" height=\"12\" rx=\"6\" fill=\"%s\"/>",
                 fill, done >= objective ? HTML_C_PASS : HTML_C_ORIENT);
    html_out(out,
             "<line x1=\"%.1f\" y1=\"10\" x2=\"%.1f\" y2=\"29\" stroke=\"#1f2430\""
             " stroke-width=\"2\"/><text x=\"%.1f\" y=\"9\" text-anchor=\"end\">objectif %u</text>"
             "</svg> <span class=\"n\">%u / %u</span>",
             mark, mark, mark, objective, done, objective);
}

void html_badge(FILE *out, const char *cls, const char *label)
{
    html_out(out, "<span class=\"badge %s\">%s</span>", cls, label);
}

void html_kpi(FILE *out, const char *key, const char *label, const char *fmt, ...)
{
    html_out(out, "<div class=\"kpi\" data-kpi=\"%s\"><b>", key);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    html_out(out, "</b><span>%s</span></div>\n", label);
}

void html_begin(FILE *out, const char *title, const char *heading, const period_t *p)
{
    char from[11], to[11];
    period_format_date(p->from, from);
    period_format_date(p->to, to);
    html_out(out,
             "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<title>%s %s – %s</title>\n<style>%s</style>\n</head>\n<body>\n"
             "<main>\n<header>\n<h1>%s <span class=\"period\">du %s au %s</span>"
             "</h1>\n<p>",
             title, from, to, s_style, heading, from, to);
}

void html_header_end(FILE *out)
{
    fputs("</p>\n</header>\n", out);
}

bool html_end(FILE *out, const char *footer_html)
{
    html_out(out, "<footer>%s</footer>\n</main>\n</body>\n</html>\n", footer_html);
    return fflush(out) == 0 && !ferror(out);
}

/* ---- the monthly chart ---- */

static const char *const s_month_names[] = {"janv.", "févr.", "mars",  "avr.", "mai",  "juin",
                                            "juil.", "août",  "sept.", "oct.", "nov.", "déc."};

/* A round step (1, 2, 5, 10, 20...) for the y axis: at most 5 lines
 * cover max. */
static uint32_t s_step(uint32_t max)
{
    static const uint64_t base[] = {1, 2, 5};
    for (uint64_t mag = 1;; mag *= 10)
        for (int i = 0; i < 3; i++)
            if ((uint64_t)max <= base[i] * mag * 5)
                return (uint32_t)(base[i] * mag);
}

static void s_legend(FILE *out, const html_series_t *series, size_t n)
{
    fputs("<div class=\"legend\">", out);
    for (size_t k = 0; k < n; k++)
        html_out(out, "<span><i style=\"background:%s\"></i>%s</span>", series[k].colour,
                 series[k].label);
    fputs("</div>\n", out);
}

void html_monthly_chart(FILE *out, const char *id, const char *aria_label,
                        const html_series_t *series, size_t n_series, const html_month_t *months,
                        size_t n_months)
{
    const int W = 1040, H = 280, left = 40, bottom = 40, top = 16;
    if (n_series > HTML_MAX_SERIES)
        n_series = HTML_MAX_SERIES;
    uint32_t max = 1;
    for (size_t i = 0; i < n_months; i++)
        for (size_t k = 0; k < n_series; k++)
            max = months[i].values[k] > max ? months[i].values[k] : max;
    uint32_t step = s_step(max), ymax = (max + step - 1) / step * step;
    double plot_h = H - bottom - top;
    double slot = (double)(W - left - 8) / (double)(n_months ? n_months : 1);
    double bw = slot * 0.8 / (double)(n_series ? n_series : 1);
    s_legend(out, series, n_series);
    html_out(out, "<svg id=\"%s\" viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" aria-label=\"",
             id, W, H);
    html_esc(out, aria_label);
    fputs("\">\n", out);
    for (uint32_t y = 0; y <= ymax; y += step) {
        double py = top + plot_h - plot_h * y / ymax;
        html_out(out,
                 "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e3e6ec\"/>"
                 "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%u</text>\n",
                 left, py, W - 4, py, left - 6, py + 4, y);
    }
    size_t every = n_months > 24 ? (n_months + 23) / 24 : 1;
    for (size_t i = 0; i < n_months; i++) {
        const html_month_t *m = &months[i];
        const char *name = s_month_names[(m->month + 11) % 12];
        double x0 = left + slot * (double)i + slot * 0.1;
        html_out(out, "<g data-month=\"%04d-%02d\">", m->year % 10000, m->month % 100);
        for (size_t k = 0; k < n_series; k++) {
            double h = plot_h * m->values[k] / ymax;
            html_out(
                out,
                "<rect data-series=\"%s\" data-value=\"%u\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\""
                " height=\"%.1f\" rx=\"2\" fill=\"%s\"><title>%s %s %d : %u</title></rect>",
                series[k].key, m->values[k], x0 + bw * (double)k, top + plot_h - h, bw - 1, h,
                series[k].colour, series[k].label, name, m->year, m->values[k]);
        }
        if (i % every == 0)
            html_out(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                     x0 + slot * 0.4, H - bottom + 16, name);
        if (i == 0 || m->month == 1)
            html_out(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>",
                     x0 + slot * 0.4, H - bottom + 31, m->year);
        fputs("</g>\n", out);
    }
    html_out(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#9aa1ad\"/>\n", left,
             top + plot_h, W - 4, top + plot_h);
    fputs("</svg>\n", out);
}
