/* temporary: formats not written yet */
#define G_LOG_DOMAIN "minna-trace"
#include "mn-trace-private.h"
static gboolean stub_header (MnTraceReader *r, const gchar *l, GError **e) { return l[0] == '#'; }
static gboolean stub_line (MnTraceReader *r, gchar *l, MnTraceJob **j, GError **e)
{ *j = NULL; g_set_error (e, MN_TRACE_ERROR, MN_TRACE_ERROR_FORMAT, "format not implemented yet"); return FALSE; }
const MnTraceParser mn_trace_parser_sge = { MN_TRACE_FORMAT_SGE, stub_header, stub_line, NULL, NULL };
const MnTraceParser mn_trace_parser_sacct = { MN_TRACE_FORMAT_SACCT, stub_header, stub_line, NULL, NULL };
const MnTraceParser mn_trace_parser_native = { MN_TRACE_FORMAT_NATIVE, stub_header, stub_line, NULL, NULL };
