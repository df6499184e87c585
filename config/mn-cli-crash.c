/* mn-cli-crash.c: a daemon that dies of a fatal signal says so in its log,
 * with a backtrace, before it dies as it would have (the same signal, so
 * exit statuses and core dumps are unchanged).  A controller that vanished
 * mid-test left no trace in its log; the test harness saw only SIGSEGV. */
#include "mn-config-cli.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const gchar *crash_program = "minna";

static void
write_str (const gchar *s)
{
  ssize_t r = write (STDERR_FILENO, s, strlen (s));
  (void) r;
}

/* Async-signal-safe apart from backtrace(), whose library is loaded at
 * install time so that it does not allocate here. */
static void
on_fatal (int sig)
{
  void *frames[64];
  int n;
  gchar num[16];
  gint i = (gint) sizeof num - 1;
  guint v = (guint) sig;

  num[i] = '\0';
  do
    num[--i] = (gchar) ('0' + v % 10);
  while ((v /= 10) != 0 && i > 0);
  write_str ("\n");
  write_str (crash_program);
  write_str (": fatal signal ");
  write_str (num + i);
  write_str (" (");
  write_str (sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE"
             : sig == SIGILL ? "SIGILL" : sig == SIGABRT ? "SIGABRT" : "?");
  write_str ("); backtrace (addr2line -e THE-PROGRAM resolves the offsets):\n");
  n = backtrace (frames, G_N_ELEMENTS (frames));
  backtrace_symbols_fd (frames, n, STDERR_FILENO);
  /* SA_RESETHAND put the default action back: die of the same signal */
  raise (sig);
}

void
mn_cli_install_crash_handler (const gchar *program)
{
  static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
  struct sigaction sa;
  void *warm[1];

#if defined(__SANITIZE_ADDRESS__)
  /* AddressSanitizer's own report says more */
  (void) program; (void) sa; (void) warm; (void) sigs;
  return;
#endif
  crash_program = program;
  backtrace (warm, 1);   /* loads libgcc's unwinder now, not in the handler */
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_fatal;
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  sigemptyset (&sa.sa_mask);
  for (gsize i = 0; i < G_N_ELEMENTS (sigs); i++)
    sigaction (sigs[i], &sa, NULL);
}
