/*
 * service_windows.c - memdeltad's entry point on Windows and its service:
 * `--install [--config FILE] [daemon flags]` registers the service
 * "memdeltad" (automatic start, LocalSystem, recovery: restart after 5 s,
 * 30 s and 120 s, failure count reset after a day, also for a non-zero
 * exit), `--uninstall` stops and removes it, `-f` (and --check-config, -h,
 * -V) runs the daemon in the console.  Otherwise the process offers itself
 * to the service controller (StartServiceCtrlDispatcherW); started from a
 * console instead, it runs there.  Under the controller the service reports
 * START_PENDING, RUNNING once the daemon is ready, STOP_PENDING with rising
 * checkpoints on a stop or shutdown control and STOPPED with the daemon's
 * exit status.  The daemon tells readiness and stopping through sdnotify.h,
 * implemented here: this file is the Windows counterpart of sdnotify.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "daemon/os.h"
#include "daemon/sdnotify.h"
#include "daemon/service.h"

#define SERVICE_NAME    L"memdeltad"
#define SERVICE_DISPLAY L"memdelta memory monitor"
#define SERVICE_DESC                                                                               \
	L"Samples the virtual memory regions of the watched processes, stores the snapshots and "  \
	L"serves the memdelta web UI on 127.0.0.1."
#define WAIT_HINT_MS 30000
#define CMD_MAX      8192

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS svc_status;
static int in_service;
static int main_argc;
static char **main_argv;
static int service_rc;

/* The status is reported from the service's main thread and from the
 * control handler's thread: one at a time. */
static SRWLOCK status_lock = SRWLOCK_INIT;

/* Report @state, but only when the current one is @from (0: any). */
static void
report_from(DWORD from, DWORD state, DWORD exit_code)
{
	if (status_handle == NULL)
		return;
	AcquireSRWLockExclusive(&status_lock);
	if (from != 0 && svc_status.dwCurrentState != from) {
		ReleaseSRWLockExclusive(&status_lock);
		return;
	}
	svc_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	if (state != svc_status.dwCurrentState)
		svc_status.dwCheckPoint = 0;
	svc_status.dwCurrentState = state;
	svc_status.dwControlsAccepted =
	        state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
	if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING) {
		svc_status.dwCheckPoint++;
		svc_status.dwWaitHint = WAIT_HINT_MS;
	} else {
		svc_status.dwCheckPoint = 0;
		svc_status.dwWaitHint = 0;
	}
	if (exit_code != 0) {
		svc_status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
		svc_status.dwServiceSpecificExitCode = exit_code;
	} else {
		svc_status.dwWin32ExitCode = NO_ERROR;
		svc_status.dwServiceSpecificExitCode = 0;
	}
	(void)SetServiceStatus(status_handle, &svc_status);
	ReleaseSRWLockExclusive(&status_lock);
}

static void
report(DWORD state, DWORD exit_code)
{
	report_from(0, state, exit_code);
}

int
sd_notify_send(const char *msg)
{
	if (!in_service)
		return 0;
	if (strncmp(msg, "READY=1", 7) == 0)
		report_from(SERVICE_START_PENDING, SERVICE_RUNNING, 0);
	else if (strncmp(msg, "STOPPING=1", 10) == 0)
		report(SERVICE_STOP_PENDING, 0);
	return 1;
}

int
service_controlled(void)
{
	return in_service;
}

uint64_t
sd_watchdog_usec(void)
{
	return 0; /* the service controller has no watchdog */
}

static DWORD WINAPI
control_handler(DWORD control, DWORD type, void *data, void *ctx)
{
	switch (control) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
		report(SERVICE_STOP_PENDING, 0);
		os_stop_request();
		return NO_ERROR;
	case SERVICE_CONTROL_INTERROGATE:
		return NO_ERROR;
	default:
		return ERROR_CALL_NOT_IMPLEMENTED;
	}
}

/* The daemon's argv under the controller: the process's own (the service's
 * command line) with -f, so that it never tries to detach. */
static void WINAPI
service_main(DWORD argc, LPWSTR *argv)
{
	char **av = calloc((size_t)main_argc + 2, sizeof(*av));

	status_handle = RegisterServiceCtrlHandlerExW(SERVICE_NAME, control_handler, NULL);
	if (status_handle == NULL) {
		free(av);
		return;
	}
	in_service = 1;
	report(SERVICE_START_PENDING, 0);
	if (av == NULL) {
		service_rc = 1;
		report(SERVICE_STOPPED, 1);
		return;
	}
	av[0] = main_argv[0];
	av[1] = "-f";
	for (int i = 1; i < main_argc; i++)
		av[i + 1] = main_argv[i];
	service_rc = memdeltad_main(main_argc + 1, av);
	free(av);
	report(SERVICE_STOPPED, (DWORD)service_rc);
}

/* Append @s to @cmd (room @cap) as one argument in the quoting that
 * CommandLineToArgvW and the C runtime undo: quotes around it, backslashes
 * doubled before a quote, quotes escaped. */
static int
append_arg(wchar_t *cmd, size_t cap, const wchar_t *s)
{
	size_t n = wcslen(cmd);

	if (n > 0 && n + 1 < cap)
		cmd[n++] = L' ';
	if (n + 1 >= cap)
		return -1;
	cmd[n++] = L'"';
	for (const wchar_t *p = s;; p++) {
		size_t bs = 0;

		while (*p == L'\\') {
			bs++;
			p++;
		}
		if (*p == L'\0' || *p == L'"') {
			bs = *p == L'"' ? bs * 2 + 1 : bs * 2;
			if (n + bs + 2 >= cap)
				return -1;
			while (bs-- > 0)
				cmd[n++] = L'\\';
			if (*p == L'\0')
				break;
			cmd[n++] = L'"';
			continue;
		}
		if (n + bs + 2 >= cap)
			return -1;
		while (bs-- > 0)
			cmd[n++] = L'\\';
		cmd[n++] = *p;
	}
	cmd[n++] = L'"';
	cmd[n] = L'\0';
	return 0;
}

static int
append_utf8_arg(wchar_t *cmd, size_t cap, const char *s)
{
	wchar_t w[CMD_MAX];

	if (MultiByteToWideChar(CP_UTF8, 0, s, -1, w, CMD_MAX) == 0)
		return -1;
	return append_arg(cmd, cap, w);
}

static void
print_error(const char *what)
{
	DWORD e = GetLastError();
	char msg[512];

	if (FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, e, 0,
	                   msg, sizeof(msg), NULL) == 0)
		snprintf(msg, sizeof(msg), "error %lu", (unsigned long)e);
	fprintf(stderr, "memdeltad: %s: %s\n", what, msg);
}

/* --install [args]: the service runs this executable with @args, the
 * configuration file's path made absolute. */
static int
install(int argc, char **argv)
{
	static wchar_t cmd[CMD_MAX];
	wchar_t exe[MAX_PATH];
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_DESCRIPTIONW desc;
	SC_ACTION actions[3] = {
	        {SC_ACTION_RESTART, 5000},
	        {SC_ACTION_RESTART, 30000},
	        {SC_ACTION_RESTART, 120000},
	};
	SERVICE_FAILURE_ACTIONSW fa;
	SERVICE_FAILURE_ACTIONS_FLAG fl;
	int status = 1;

	cmd[0] = L'\0';
	if (GetModuleFileNameW(NULL, exe, MAX_PATH) == 0 || append_arg(cmd, CMD_MAX, exe) != 0)
		goto out;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		char abs[MAX_PATH];

		if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
			if (os_abs_path(argv[i + 1], abs, sizeof(abs)) != 0) {
				fprintf(stderr, "memdeltad: --install: %s: no such file\n",
				        argv[i + 1]);
				goto out;
			}
			if (append_utf8_arg(cmd, CMD_MAX, "-c") != 0 ||
			    append_utf8_arg(cmd, CMD_MAX, abs) != 0)
				goto toolong;
			i++;
			continue;
		}
		if (append_utf8_arg(cmd, CMD_MAX, a) != 0)
			goto toolong;
	}
	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
	if (scm == NULL) {
		print_error("OpenSCManager (run as an administrator)");
		goto out;
	}
	svc = CreateServiceW(scm, SERVICE_NAME, SERVICE_DISPLAY, SERVICE_ALL_ACCESS,
	                     SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL,
	                     cmd, NULL, NULL, NULL, NULL, NULL);
	if (svc == NULL) {
		print_error("CreateService");
		goto out;
	}
	desc.lpDescription = SERVICE_DESC;
	if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc))
		print_error("ChangeServiceConfig2 (description)");
	memset(&fa, 0, sizeof(fa));
	fa.dwResetPeriod = 86400; /* seconds: the failure count restarts after a day */
	fa.cActions = 3;
	fa.lpsaActions = actions;
	if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa)) {
		print_error("ChangeServiceConfig2 (failure actions)");
		goto out;
	}
	/* A start-up failure exits non-zero without crashing: restart then too. */
	fl.fFailureActionsOnNonCrashFailures = TRUE;
	if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &fl))
		print_error("ChangeServiceConfig2 (failure actions flag)");
	printf("memdeltad: service installed: %ls\n", cmd);
	status = 0;
	goto out;
toolong:
	fprintf(stderr, "memdeltad: --install: command line too long\n");
out:
	if (svc != NULL)
		CloseServiceHandle(svc);
	if (scm != NULL)
		CloseServiceHandle(scm);
	return status;
}

static int
uninstall(void)
{
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_STATUS st;
	int status = 1;

	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
	if (scm == NULL) {
		print_error("OpenSCManager (run as an administrator)");
		goto out;
	}
	svc = OpenServiceW(scm, SERVICE_NAME, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
	if (svc == NULL) {
		print_error("OpenService memdeltad");
		goto out;
	}
	if (ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
		for (int i = 0; i < 300 && QueryServiceStatus(svc, &st) &&
		                st.dwCurrentState != SERVICE_STOPPED;
		     i++)
			Sleep(100);
	}
	if (!DeleteService(svc)) {
		print_error("DeleteService");
		goto out;
	}
	printf("memdeltad: service removed\n");
	status = 0;
out:
	if (svc != NULL)
		CloseServiceHandle(svc);
	if (scm != NULL)
		CloseServiceHandle(scm);
	return status;
}

int
main(int argc, char **argv)
{
	SERVICE_TABLE_ENTRYW table[] = {
	        {SERVICE_NAME, service_main},
	        {NULL, NULL},
	};

	if (argc >= 2 && strcmp(argv[1], "--install") == 0)
		return install(argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "--uninstall") == 0)
		return uninstall();
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		fputs("Windows service:\n"
		      "  memdeltad --install [--config FILE] [flags]   register the service "
		      "memdeltad\n"
		      "  memdeltad --uninstall                         stop and remove it\n"
		      "  (net start memdeltad / net stop memdeltad; -f runs in this console)\n",
		      stdout);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-f") == 0 || strcmp(a, "--foreground") == 0 ||
		    strcmp(a, "--check-config") == 0 || strcmp(a, "-h") == 0 ||
		    strcmp(a, "--help") == 0 || strcmp(a, "-V") == 0 ||
		    strcmp(a, "--version") == 0 || strcmp(a, "--install") == 0 ||
		    strcmp(a, "--uninstall") == 0)
			return memdeltad_main(argc, argv);
	}
	main_argc = argc;
	main_argv = argv;
	if (StartServiceCtrlDispatcherW(table))
		return service_rc;
	if (GetLastError() != ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
		print_error("StartServiceCtrlDispatcher");
		return 1;
	}
	/* Started from a console, not by the service controller. */
	return memdeltad_main(argc, argv);
}
