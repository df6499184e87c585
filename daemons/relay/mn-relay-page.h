/* mn-relay-page.h: the pages the relay writes itself (403, 404, 502, ...):
 * styled like the portal's, with a link back to it, and nothing loaded
 * from anywhere (the portal behind may be what is down). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The CSP those pages go with: their one inline style, nothing else. */
#define MN_RELAY_PAGE_CSP \
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none';" \
  " base-uri 'none'; form-action 'none'"

/* The whole page for @status; @html is trusted text (the relay's own
 * sentences, never request data). */
gchar *mn_relay_page (guint status, const gchar *phrase, const gchar *html);

G_END_DECLS
