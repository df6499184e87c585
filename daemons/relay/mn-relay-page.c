/* mn-relay-page.c: the relay's own pages (see the header). */
#define G_LOG_DOMAIN "minna-relay"

#include "mn-relay-page.h"

/* The portal's colours (daemons/controller/www/static/portal.css), light
 * and dark, in one inline style: the page must look right when the portal
 * behind the relay is the thing that does not answer. */
#define PAGE_STYLE \
  ":root{--bg:#f5f7fa;--panel:#fff;--text:#1c2430;--muted:#55606e;--line:#d5dbe3;" \
  "--accent:#1f5fa8;--accent-text:#fff;color-scheme:light dark}" \
  "@media (prefers-color-scheme:dark){:root{--bg:#11151b;--panel:#1b2129;--text:#e6eaf0;" \
  "--muted:#a3adba;--line:#36404c;--accent:#6ea8ff;--accent-text:#0b1220}}" \
  "*{box-sizing:border-box}" \
  "body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;" \
  "padding:1rem;font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",sans-serif;" \
  "line-height:1.45;color:var(--text);background:var(--bg)}" \
  "main{width:100%%;max-width:26rem;background:var(--panel);border:1px solid var(--line);" \
  "border-radius:8px;padding:1.5rem}" \
  ".brand{font-weight:700;font-size:1.15rem;color:var(--accent);margin:0 0 1rem}" \
  "h1{font-size:1.4rem;line-height:1.2;margin:0 0 .75rem}" \
  ".code{display:block;font-size:2.5rem;color:var(--muted)}" \
  "a.button{display:block;text-align:center;font-weight:600;padding:.5rem 1rem;" \
  "border-radius:6px;background:var(--accent);color:var(--accent-text);text-decoration:none}" \
  "a:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}"

gchar *
mn_relay_page (guint status, const gchar *phrase, const gchar *html)
{
  return g_strdup_printf (
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>%u %s \xc2\xb7 minna portal</title><style>" PAGE_STYLE "</style></head>"
    "<body><main aria-labelledby=\"error-heading\"><p class=\"brand\">minna</p>"
    "<h1 id=\"error-heading\"><span class=\"code\">%u</span> %s</h1><p>%s</p>"
    "<p><a id=\"back\" class=\"button\" href=\"/\">Back to the portal</a></p>"
    "</main></body></html>\n",
    status, phrase, status, phrase, html);
}
