/*
 * sdnotify.h - the systemd notify protocol, written by hand: one datagram
 * per message to the AF_UNIX socket named by $NOTIFY_SOCKET (an abstract
 * name when it starts with '@'), and the watchdog period from
 * $WATCHDOG_USEC / $WATCHDOG_PID.  Without $NOTIFY_SOCKET every call is a
 * no-op, so the daemon calls them unconditionally.
 */
#ifndef MEMDELTA_SDNOTIFY_H
#define MEMDELTA_SDNOTIFY_H

#include <stdint.h>

/* Send @msg ("READY=1", "WATCHDOG=1", "STOPPING=1", "RELOADING=1\n...",
 * "STATUS=...").  Returns 1 when sent, 0 when there is no $NOTIFY_SOCKET,
 * MD_ERR_INVAL for a bad socket name, MD_ERR_IO when sending fails. */
int sd_notify_send(const char *msg);

/* The watchdog period in microseconds asked for by systemd: $WATCHDOG_USEC
 * when set and $WATCHDOG_PID is unset or our pid; else 0 (no watchdog). */
uint64_t sd_watchdog_usec(void);

#endif
