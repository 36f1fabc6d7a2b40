/* html.c -- aggregate XML -> HTML with the built-in stylesheet.
 *
 * The stylesheet (render/feed.xsl) is compiled into the binary at build
 * time (CMake turns it into render_xsl.c), so the program needs no data
 * folder.  The transform runs with every libxslt security preference set
 * to forbid: no file reads or writes, no network, no directories -- the
 * stylesheet only ever sees the aggregate document handed to it.
 * Escaping: output method html escapes text and attribute values, and the
 * stylesheet never uses disable-output-escaping, so text from a feed
 * cannot become markup. */
#include <libxml/parser.h>
#include <libxslt/security.h>
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>
#include <string.h>

#include "render_int.h"

static xsltSecurityPrefsPtr forbid_all(void)
{
    xsltSecurityPrefsPtr sec = xsltNewSecurityPrefs();
    if (!sec) return NULL;
    xsltSecurityOption opts[] = {XSLT_SECPREF_READ_FILE, XSLT_SECPREF_WRITE_FILE,
                                 XSLT_SECPREF_CREATE_DIRECTORY, XSLT_SECPREF_READ_NETWORK,
                                 XSLT_SECPREF_WRITE_NETWORK};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        xsltSetSecurityPrefs(sec, opts[i], xsltSecurityForbid);
    return sec;
}

int render_html_from_xml(const char *xml, size_t len, FILE *out, eg_err *err)
{
    xmlDocPtr style_doc = NULL, in = NULL, res = NULL;
    xsltStylesheetPtr ss = NULL;
    xsltTransformContextPtr ctxt = NULL;
    xsltSecurityPrefsPtr sec = NULL;
    int rc = 0;

    style_doc = xmlReadMemory(render_feed_xsl, (int)render_feed_xsl_len, "feed.xsl", NULL,
                              XML_PARSE_NONET);
    if (!style_doc || !(ss = xsltParseStylesheetDoc(style_doc))) {
        rc = eg_errf(err, EG_ESOFTWARE, "feed.xsl", 0, 0, "the built-in stylesheet does not compile");
        goto done;
    }
    style_doc = NULL; /* owned by ss now */
    if (len > INT32_MAX ||
        !(in = xmlReadMemory(xml, (int)len, "aggregate.xml", NULL, XML_PARSE_NONET))) {
        rc = eg_errf(err, EG_ESOFTWARE, "aggregate.xml", 0, 0, "the render aggregate is not XML");
        goto done;
    }
    if (!(sec = forbid_all()) || !(ctxt = xsltNewTransformContext(ss, in))) {
        rc = eg_errf(err, EG_ENOMEM, NULL, 0, 0, "out of memory starting the transform");
        goto done;
    }
    xsltSetCtxtSecurityPrefs(sec, ctxt);
    res = xsltApplyStylesheetUser(ss, in, NULL, NULL, NULL, ctxt);
    if (!res || ctxt->state != XSLT_STATE_OK) {
        rc = eg_errf(err, EG_ESOFTWARE, "feed.xsl", 0, 0, "the stylesheet failed on the aggregate");
        goto done;
    }
    if (xsltSaveResultToFile(out, res, ss) < 0 || fflush(out) != 0 || ferror(out))
        rc = eg_errf(err, EG_EIO, NULL, 0, 0, "cannot write the HTML page");
done:
    if (ctxt) xsltFreeTransformContext(ctxt);
    if (sec) xsltFreeSecurityPrefs(sec);
    if (res) xmlFreeDoc(res);
    if (in) xmlFreeDoc(in);
    if (ss) xsltFreeStylesheet(ss);
    if (style_doc) xmlFreeDoc(style_doc);
    return rc;
}
