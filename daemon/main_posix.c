/*
 * main_posix.c - memdeltad's entry point on POSIX systems: the daemon itself
 * (service.h); systemd or the classic detach in memdeltad.c does the rest.
 */
#include "config.h"

#include "daemon/service.h"

int
main(int argc, char **argv)
{
	return memdeltad_main(argc, argv);
}

int
service_controlled(void)
{
	return 0;
}
