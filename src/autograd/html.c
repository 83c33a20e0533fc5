/* The backprop explorer: a tape as one web page (nabla/viz.h).
 *
 * The page is explorer.html with explorer.css and explorer.js inlined and
 * the tape's data as JSON (html_data.c); the three files are turned into C
 * strings at build time (scripts/embed_lines.py -> explorer_assets.h), so
 * they stay readable and the page needs nothing but itself. In the template
 * a line "@STYLE@", "@SCRIPT@" or "@DATA@" stands for the CSS, the JS or the
 * JSON, and "@TITLE@" for the title, escaped for HTML. */
#include <string.h>

#include "autograd/html_internal.h"
#include "explorer_assets.h"
#include "internal.h"
#include "io/atomic.h"

#define DEFAULT_MAX_VALUES 256
#define DEFAULT_TITLE "Backprop explorer"

/* Text for an HTML element or attribute: & < > " ' as entities. */
static void write_html_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* JSON inside <script type="application/json">: the only way out of the
 * element is "</script", and "<!--" would change how it is parsed, so every
 * '<' (which JSON has only inside strings) is written as \u003c; '>' and '&'
 * likewise, to be safe in any HTML parser. */
static void write_json_for_script(FILE *out, const char *json)
{
    for (; *json; json++) {
        switch (*json) {
        case '<': fputs("\\u003c", out); break;
        case '>': fputs("\\u003e", out); break;
        case '&': fputs("\\u0026", out); break;
        default: fputc(*json, out);
        }
    }
}

static void write_lines(FILE *out, const char *const *lines)
{
    for (; *lines; lines++)
        fputs(*lines, out);
}

/* A template line with every "@TITLE@" replaced by the escaped title. */
static void write_template_line(FILE *out, const char *line, const char *title)
{
    const char *hole;
    while ((hole = strstr(line, "@TITLE@"))) {
        fwrite(line, 1, (size_t)(hole - line), out);
        write_html_escaped(out, title);
        line = hole + strlen("@TITLE@");
    }
    fputs(line, out);
}

static void write_page(FILE *out, const char *title, const char *json)
{
    for (const char *const *line = nb__explorer_html; *line; line++) {
        if (strcmp(*line, "@STYLE@\n") == 0)
            write_lines(out, nb__explorer_css);
        else if (strcmp(*line, "@SCRIPT@\n") == 0)
            write_lines(out, nb__explorer_js);
        else if (strcmp(*line, "@DATA@\n") == 0)
            write_json_for_script(out, json);
        else
            write_template_line(out, *line, title);
    }
}

static nb_status check_args(const char *fn, const nb_tape *tape, const char *path,
                            const nb_html_options *o)
{
    if (!tape || !path)
        return nb_error(NB_ERR_NULL, "%s: %s is NULL", fn, tape ? "path" : "tape");
    if (!path[0])
        return nb_error(NB_ERR_ARG, "%s: path is empty", fn);
    if (tape->n_nodes == 0)
        return nb_error(NB_ERR_ARG, "%s: the tape has no recorded op: nothing to show in %s", fn,
                        path);
    if (o->max_values < 0)
        return nb_error(NB_ERR_ARG, "%s: max_values is %d: expected >= 0 (0 for %d)", fn,
                        o->max_values, DEFAULT_MAX_VALUES);
    return NB_OK;
}

nb_status nb_tape_write_html(const nb_tape *tape, const char *path,
                             const nb_html_options *options)
{
    const char *fn = "nb_tape_write_html";
    nb_html_options o = options ? *options : (nb_html_options){0};
    if (check_args(fn, tape, path, &o) != NB_OK)
        return nb_last_status();
    cJSON *data = nb__explorer_data(tape, o.max_values ? o.max_values : DEFAULT_MAX_VALUES,
                                    &o.trace, fn);
    if (!data)
        return nb_last_status();
    const char *title = o.title ? o.title : DEFAULT_TITLE;
    cJSON_AddStringToObject(data, "title", title);
    char *json = cJSON_PrintUnformatted(data);
    cJSON_Delete(data);
    if (!json)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory for the page of %s", fn, path);
    nb_atomic_file f;
    nb_status s = nb__atomic_begin(&f, fn, path);
    if (s == NB_OK) {
        write_page(f.stream, title, json);
        s = nb__atomic_commit(&f);
    }
    cJSON_free(json);
    return s;
}
