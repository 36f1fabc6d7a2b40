/* audit_report.c -- the auditor's report as text, JSON, JUnit or HTML.
 *
 * All four formats say the same thing: the audited base URL, a summary
 * (rules passed, failed, skipped; requests and bytes), notes about the run,
 * then one row per rule of the catalog with its status and evidence
 * (request, HTTP status, excerpt, what was expected).  Everything that came
 * from the server is escaped for the format (JSON strings, XML/HTML text),
 * so a hostile body cannot break the report or inject script into the HTML
 * page.  The HTML page is self-contained (inline CSS, no script, no
 * external resource) so a utility manager can forward it as one file;
 * evidence sits in <details> elements, collapsed. */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "textout.h"

static const char *status_name(audit_status s)
{
    return s == AUDIT_PASS ? "pass" : s == AUDIT_FAIL ? "fail" : "skipped";
}

static void counts(const audit *a, int *pass, int *fail, int *skip)
{
    *pass = *fail = *skip = 0;
    for (int i = 0; i < audit_rule_count(a); i++) {
        audit_status s = audit_rule_at(a, i)->status;
        if (s == AUDIT_PASS) ++*pass;
        else if (s == AUDIT_FAIL) ++*fail;
        else ++*skip;
    }
}

static const char *verdict(const audit *a)
{
    if (audit_unreachable(a)) return "UNREACHABLE";
    return audit_failed(a) ? "FAIL" : "PASS";
}

/* ---- text ---------------------------------------------------------------- */

static void write_text(const audit *a, FILE *f)
{
    int p, fl, s;
    counts(a, &p, &fl, &s);
    fprintf(f, "espigate audit of %s (%s)\n", audit_base_url(a), audit_started(a));
    for (int i = 0; i < audit_note_count(a); i++) fprintf(f, "note: %s\n", audit_note_at(a, i));
    for (int i = 0; i < audit_rule_count(a); i++) {
        const audit_rule_result *r = audit_rule_at(a, i);
        fprintf(f, "%-4s %-13s %s\n", r->status == AUDIT_PASS ? "ok" : r->status == AUDIT_FAIL ? "FAIL" : "skip",
                r->rule->id, r->rule->statement);
        if (r->status == AUDIT_SKIP) {
            fprintf(f, "       skipped: %s\n", r->skip_reason);
            continue;
        }
        for (int k = 0; k < r->n_ev; k++) {
            const audit_evidence *e = &r->ev[k];
            if (r->status == AUDIT_PASS && k > 0) break;
            if (r->status == AUDIT_FAIL && !e->failed) continue;
            fprintf(f, "       %s %s -> %d: %s\n", e->method, e->url, e->status, e->note);
            if (e->failed && e->excerpt[0]) fprintf(f, "         | %s\n", e->excerpt);
        }
        if (r->status == AUDIT_FAIL && r->ev_dropped)
            fprintf(f, "       ... %ld more failures not shown\n", r->ev_dropped);
    }
    fprintf(f, "%s: %d rules passed, %d failed, %d skipped; %ld requests, %llu bytes, %.1f s\n",
            verdict(a), p, fl, s, audit_requests(a), audit_bytes(a), audit_seconds(a));
}

/* ---- JSON ---------------------------------------------------------------- */

static void write_json(const audit *a, FILE *f)
{
    int p, fl, s;
    counts(a, &p, &fl, &s);
    fprintf(f, "{\n  \"base_url\": ");
    eg_json_string(f, audit_base_url(a));
    fprintf(f, ",\n  \"started\": \"%s\",\n  \"verdict\": \"%s\",\n", audit_started(a),
            verdict(a));
    fprintf(f, "  \"summary\": {\"passed\": %d, \"failed\": %d, \"skipped\": %d, "
               "\"requests\": %ld, \"bytes\": %llu, \"seconds\": %.2f},\n",
            p, fl, s, audit_requests(a), audit_bytes(a), audit_seconds(a));
    fprintf(f, "  \"notes\": [");
    for (int i = 0; i < audit_note_count(a); i++) {
        fprintf(f, "%s\n    ", i ? "," : "");
        eg_json_string(f, audit_note_at(a, i));
    }
    fprintf(f, "],\n  \"failed_rules\": [");
    for (int i = 0, n = 0; i < audit_rule_count(a); i++)
        if (audit_rule_at(a, i)->status == AUDIT_FAIL)
            fprintf(f, "%s\"%s\"", n++ ? ", " : "", audit_rule_at(a, i)->rule->id);
    fprintf(f, "],\n  \"rules\": [");
    for (int i = 0; i < audit_rule_count(a); i++) {
        const audit_rule_result *r = audit_rule_at(a, i);
        fprintf(f, "%s\n    {\"id\": \"%s\", \"status\": \"%s\", \"severity\": \"%s\", "
                   "\"statement\": ",
                i ? "," : "", r->rule->id, status_name(r->status), r->rule->severity);
        eg_json_string(f, r->rule->statement);
        fprintf(f, ", \"mirrors\": ");
        eg_json_string(f, r->rule->mirrors);
        fprintf(f, ", \"checks_passed\": %ld, \"checks_failed\": %ld", r->passed, r->failed);
        if (r->status == AUDIT_SKIP) {
            fprintf(f, ", \"skip_reason\": ");
            eg_json_string(f, r->skip_reason);
        }
        fprintf(f, ", \"evidence_not_shown\": %ld, \"evidence\": [", r->ev_dropped);
        for (int k = 0; k < r->n_ev; k++) {
            const audit_evidence *e = &r->ev[k];
            fprintf(f, "%s\n      {\"result\": \"%s\", \"method\": ", k ? "," : "",
                    e->failed ? "fail" : "pass");
            eg_json_string(f, e->method);
            fprintf(f, ", \"url\": ");
            eg_json_string(f, e->url);
            fprintf(f, ", \"status\": %d, \"excerpt\": ", e->status);
            eg_json_string(f, e->excerpt);
            fprintf(f, ", \"note\": ");
            eg_json_string(f, e->note);
            fprintf(f, "}");
        }
        fprintf(f, "%s]}", r->n_ev ? "\n    " : "");
    }
    fprintf(f, "\n  ]\n}\n");
}

/* ---- JUnit --------------------------------------------------------------- */

static void write_junit(const audit *a, FILE *f)
{
    int p, fl, s;
    counts(a, &p, &fl, &s);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"espigate audit\">\n");
    fprintf(f, "  <testsuite name=\"");
    eg_xml_text(f, audit_base_url(a));
    fprintf(f, "\" tests=\"%d\" failures=\"%d\" skipped=\"%d\" errors=\"0\" time=\"%.2f\" "
               "timestamp=\"%s\">\n",
            audit_rule_count(a), fl, s, audit_seconds(a), audit_started(a));
    for (int i = 0; i < audit_rule_count(a); i++) {
        const audit_rule_result *r = audit_rule_at(a, i);
        fprintf(f, "    <testcase classname=\"espigate.audit\" name=\"%s: ", r->rule->id);
        eg_xml_text(f, r->rule->statement);
        fprintf(f, "\">\n");
        if (r->status == AUDIT_SKIP) {
            fprintf(f, "      <skipped message=\"");
            eg_xml_text(f, r->skip_reason);
            fprintf(f, "\"/>\n");
        } else if (r->status == AUDIT_FAIL) {
            fprintf(f, "      <failure type=\"%s\" message=\"%ld failed checks\">", r->rule->id,
                    r->failed);
            for (int k = 0; k < r->n_ev; k++) {
                const audit_evidence *e = &r->ev[k];
                if (!e->failed) continue;
                fprintf(f, "\n%s ", e->method);
                eg_xml_text(f, e->url);
                fprintf(f, " -> %d: ", e->status);
                eg_xml_text(f, e->note);
                if (e->excerpt[0]) {
                    fprintf(f, "\n  | ");
                    eg_xml_text(f, e->excerpt);
                }
            }
            fprintf(f, "</failure>\n");
        }
        fprintf(f, "    </testcase>\n");
    }
    fprintf(f, "    <system-out>");
    for (int i = 0; i < audit_note_count(a); i++) {
        eg_xml_text(f, audit_note_at(a, i));
        fputc('\n', f);
    }
    fprintf(f, "requests=%ld bytes=%llu</system-out>\n  </testsuite>\n</testsuites>\n",
            audit_requests(a), audit_bytes(a));
}

/* ---- HTML ---------------------------------------------------------------- */

static const char html_style[] =
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;"
    "color:#1a1a1a}\n"
    "h1{font-size:1.5em}table{border-collapse:collapse;width:100%;margin:1em 0}\n"
    "th,td{border:1px solid #bbb;padding:.35em .5em;text-align:left;vertical-align:top}\n"
    "th{background:#eee}caption{text-align:left;font-weight:bold;padding:.3em 0}\n"
    ".pass{color:#0a6b2b;font-weight:bold}.fail{color:#b00020;font-weight:bold}"
    ".skipped{color:#666}\n"
    ".verdict{font-size:1.2em;padding:.5em;border:2px solid}\n"
    "code,pre{font-family:ui-monospace,monospace;font-size:.9em;white-space:pre-wrap;"
    "word-break:break-all}\n"
    "details{margin:.2em 0}summary{cursor:pointer}\n";

static void write_html(const audit *a, FILE *f)
{
    int p, fl, s;
    counts(a, &p, &fl, &s);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>Green Button conformance audit: ");
    eg_xml_text(f, audit_base_url(a));
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", html_style);
    fprintf(f, "<h1>Green Button Connect My Data conformance audit</h1>\n<p>Data Custodian: "
               "<code>");
    eg_xml_text(f, audit_base_url(a));
    fprintf(f, "</code><br>Started %s; %ld requests, %llu bytes, %.1f s. Produced by "
               "<code>espigate audit</code>; rule ids are described in espigate's "
               "docs/rules.md.</p>\n",
            audit_started(a), audit_requests(a), audit_bytes(a), audit_seconds(a));
    const char *v = verdict(a);
    fprintf(f, "<p class=\"verdict %s\">Verdict: %s</p>\n",
            strcmp(v, "PASS") == 0 ? "pass" : "fail", v);
    fprintf(f, "<table id=\"summary\">\n<caption>Summary</caption>\n<thead><tr>"
               "<th scope=\"col\">Rules passed</th><th scope=\"col\">Rules failed</th>"
               "<th scope=\"col\">Rules skipped</th><th scope=\"col\">Requests</th></tr></thead>\n"
               "<tbody><tr><td class=\"pass\">%d</td><td class=\"fail\">%d</td>"
               "<td class=\"skipped\">%d</td><td>%ld</td></tr></tbody>\n</table>\n",
            p, fl, s, audit_requests(a));
    if (audit_note_count(a)) {
        fprintf(f, "<h2>Notes</h2>\n<ul>\n");
        for (int i = 0; i < audit_note_count(a); i++) {
            fprintf(f, "<li>");
            eg_xml_text(f, audit_note_at(a, i));
            fprintf(f, "</li>\n");
        }
        fprintf(f, "</ul>\n");
    }
    fprintf(f, "<table id=\"rules\">\n<caption>Rules</caption>\n<thead><tr>"
               "<th scope=\"col\">Rule</th><th scope=\"col\">Result</th>"
               "<th scope=\"col\">Statement</th><th scope=\"col\">Mirrors</th>"
               "<th scope=\"col\">Evidence</th></tr></thead>\n<tbody>\n");
    for (int i = 0; i < audit_rule_count(a); i++) {
        const audit_rule_result *r = audit_rule_at(a, i);
        const char *st = status_name(r->status);
        fprintf(f, "<tr id=\"%s\"><td><code>%s</code></td><td class=\"%s\">%s</td><td>", r->rule->id,
                r->rule->id, st, st);
        eg_xml_text(f, r->rule->statement);
        fprintf(f, "</td><td>");
        eg_xml_text(f, r->rule->mirrors);
        fprintf(f, "</td><td>");
        if (r->status == AUDIT_SKIP) {
            eg_xml_text(f, r->skip_reason);
        } else {
            fprintf(f, "<details><summary>%ld checks passed, %ld failed</summary>\n", r->passed,
                    r->failed);
            for (int k = 0; k < r->n_ev; k++) {
                const audit_evidence *e = &r->ev[k];
                fprintf(f, "<p><span class=\"%s\">%s</span> <code>", e->failed ? "fail" : "pass",
                        e->failed ? "fail" : "pass");
                eg_xml_text(f, e->method);
                fputc(' ', f);
                eg_xml_text(f, e->url);
                fprintf(f, "</code> &rarr; %d: ", e->status);
                eg_xml_text(f, e->note);
                if (e->excerpt[0]) {
                    fprintf(f, "</p>\n<pre>");
                    eg_xml_text(f, e->excerpt);
                    fprintf(f, "</pre>\n");
                } else {
                    fprintf(f, "</p>\n");
                }
            }
            if (r->ev_dropped) fprintf(f, "<p>%ld more not shown</p>\n", r->ev_dropped);
            fprintf(f, "</details>");
        }
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</tbody>\n</table>\n</body>\n</html>\n");
}

int audit_report_write(const audit *a, audit_format fmt, FILE *out, eg_err *err)
{
    switch (fmt) {
    case AUDIT_FMT_TEXT: write_text(a, out); break;
    case AUDIT_FMT_JSON: write_json(a, out); break;
    case AUDIT_FMT_JUNIT: write_junit(a, out); break;
    case AUDIT_FMT_HTML: write_html(a, out); break;
    }
    if (fflush(out) != 0 || ferror(out))
        return eg_errf(err, EG_EIO, NULL, 0, 0, "cannot write the report (disk full?)");
    return 0;
}
