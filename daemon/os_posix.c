/*
 * os_posix.c - the OS contract of daemon/ (os.h) on Linux and other POSIX
 * systems: signals taken synchronously with sigtimedwait(), POSIX
 * paths, the classic double-fork detach, and the inputs of the default state
 * directory ($STATE_DIRECTORY, $XDG_STATE_HOME, $HOME, root or not).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon_config.h"
#include "daemon/os.h"
#include "snapshot/mderr.h"

#define NS_PER_S 1000000000ull

static sigset_t stop_sigs;

int
os_events_init(void)
{
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGHUP);
	/* Every thread (the web server's too) inherits the mask. */
	if (pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL) != 0)
		return MD_ERR_IO;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

enum os_event
os_event_wait(uint64_t timeout_ns)
{
	struct timespec ts;
	siginfo_t si;
	int sig;

	ts.tv_sec = (time_t)(timeout_ns / NS_PER_S);
	ts.tv_nsec = (long)(timeout_ns % NS_PER_S);
	sig = sigtimedwait(&stop_sigs, &si, &ts);
	if (sig == SIGTERM || sig == SIGINT)
		return OS_EVENT_STOP;
	if (sig == SIGHUP)
		return OS_EVENT_RELOAD;
	return OS_EVENT_TIMEOUT; /* EAGAIN (timeout) or EINTR */
}

int
os_stop_pending(void)
{
	sigset_t pend;

	if (sigpending(&pend) != 0)
		return 0;
	return sigismember(&pend, SIGTERM) == 1 || sigismember(&pend, SIGINT) == 1;
}

void
os_stop_request(void)
{
	(void)kill(getpid(), SIGTERM);
}

int
os_path_is_absolute(const char *path)
{
	return path[0] == '/';
}

int
os_abs_path(const char *path, char *buf, size_t len)
{
	char tmp[PATH_MAX];

	if (realpath(path, tmp) == NULL)
		return MD_ERR_IO;
	if (snprintf(buf, len, "%s", tmp) >= (int)len)
		return MD_ERR_INVAL;
	return 0;
}

int
os_make_parent_dirs(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
os_world_readable(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && (sb.st_mode & S_IROTH);
}

int
os_detach(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char b;

	*ready_fd = -1;
	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		ssize_t n;

		close(p[1]);
		do
			n = read(p[0], &b, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	umask(027);
	*ready_fd = p[1];
	return 0;
}

void
os_detach_done(int ready_fd)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "r", 1);
		close(ready_fd);
	}
}

int
os_getpid(void)
{
	return (int)getpid();
}

void
config_env_from_process(struct config_env *e)
{
	memset(e, 0, sizeof(*e));
	e->state_directory = getenv("STATE_DIRECTORY");
	e->xdg_state_home = getenv("XDG_STATE_HOME");
	e->home = getenv("HOME");
	e->is_root = geteuid() == 0;
}
