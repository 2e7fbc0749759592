/*
 * compat.h - the POSIX pieces that one of memdelta's platforms lacks (tmux's
 * snapshot/compat/ layer in small): configure checks each function and builds the
 * replacement in snapshot/compat/ only where it is missing (MinGW-w64 has no getline,
 * strndup, mkdtemp or fmemopen), and this header declares it.  Include it after the
 * system headers; it also brings inet_pton (arpa/inet.h; ws2tcpip.h on
 * Windows) and the "e" (close-on-exec) fopen flag where the C library takes it.
 */
#ifndef MEMDELTA_COMPAT_H
#define MEMDELTA_COMPAT_H

#include <stdio.h>
#include <sys/types.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
/* MSVCRT's fopen knows no "e": Windows handles are not inherited unless asked. */
#define COMPAT_FOPEN_CLOEXEC ""
#else
#include <arpa/inet.h>
#define COMPAT_FOPEN_CLOEXEC "e"
#endif

#ifndef HAVE_GETLINE
/* getline(3): read one line into *lineptr (grown with realloc). */
ssize_t getline(char **lineptr, size_t *n, FILE *f);
#endif
#ifndef HAVE_STRNDUP
/* strndup(3). */
char *strndup(const char *s, size_t n);
#endif
#ifndef HAVE_MKDTEMP
/* mkdtemp(3). */
char *mkdtemp(char *tmpl);
#endif
#ifndef HAVE_FMEMOPEN
/* fmemopen(3) for reading only: the bytes are copied into a temporary file. */
FILE *fmemopen(void *buf, size_t size, const char *mode);
#endif

#endif
