/*
 * Hard cases for the capture library, one per mode (all on /dev/kvm, with KVM_CHECK_EXTENSION as the ioctl):
 *   threads N M   N threads each making M calls at once: every line must come out whole
 *   signals M     M calls while a fast timer's SIGALRM handler makes calls too (no deadlock, whole lines)
 *   fork          a child process makes calls after fork() (its own pid column)
 *   closeall      close every fd above 2, as daemons do, then open /dev/kvm again: capture goes on, and
 *                 the reopened fd (which takes the lowest number) receives no capture text
 *   closerange    KVM fds closed by close_range(2) then their numbers reused by non-KVM files: the capture
 *                 says close_range(...) and writes no close line for the new files
 *   errno         errno after wrapped calls is what the kernel said (or untouched on success); prints a
 *                 bit mask of what went wrong, 0 when all is well
 *
 * Build: cc -O1 -pthread -o stress stress.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int kvm;
static long per_thread;
static volatile sig_atomic_t in_handler_calls;

static void *worker(void *arg)
{
	long cap = (long)arg;
	for (long i = 0; i < per_thread; i++)
		ioctl(kvm, KVM_CHECK_EXTENSION, cap);
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP);
	in_handler_calls++;
	errno = saved;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("/dev/kvm");
		return 2;
	}
	if (!strcmp(argv[1], "threads") && argc >= 4) {
		int n = atoi(argv[2]);
		per_thread = atol(argv[3]);
		pthread_t t[64];
		if (n > 64)
			n = 64;
		for (int i = 0; i < n; i++)
			pthread_create(&t[i], 0, worker, (void *)(long)(i % 8));
		for (int i = 0; i < n; i++)
			pthread_join(t[i], 0);
		return 0;
	}
	if (!strcmp(argv[1], "signals") && argc >= 3) {
		long m = atol(argv[2]);
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGALRM, &sa, 0);
		struct itimerval it = { { 0, 50 }, { 0, 50 } };
		setitimer(ITIMER_REAL, &it, 0);
		for (long i = 0; i < m; i++)
			ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
		struct itimerval off = { { 0, 0 }, { 0, 0 } };
		setitimer(ITIMER_REAL, &off, 0);
		printf("%d\n", (int)in_handler_calls);
		return 0;
	}
	if (!strcmp(argv[1], "fork")) {
		ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
		pid_t p = fork();
		if (p == 0) {
			ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP);
			int vm = ioctl(kvm, KVM_CREATE_VM, 0);
			close(vm);
			_exit(0);
		}
		int st;
		waitpid(p, &st, 0);
		ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_HLT);
		printf("%d\n", (int)p);
		return 0;
	}
	if (!strcmp(argv[1], "closeall") && argc >= 3) {
		ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		for (int fd = 3; fd < (int)rl.rlim_cur && fd < 65536; fd++)
			close(fd);
		/* a file of the program's own that takes the lowest free numbers */
		int mine = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		for (int fd = 0; fd < 2000; fd++)
			if (fd != mine && fd > 2)
				dup2(mine, fd);
		kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP);
		write(mine, "program data\n", 13);
		return 0;
	}
	if (!strcmp(argv[1], "closerange")) {
		int vm = ioctl(kvm, KVM_CREATE_VM, 0);
		ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
		close_range(3, ~0U, 0);
		int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
		close(a);
		close(b);
		kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP);
		printf("%d %d\n", a, b);
		return 0;
	}
	if (!strcmp(argv[1], "errno")) {
		int bad = 0;
		struct { uint64_t gpa, size, flags, padding[5]; } pf = { 0, 0x1000, 0, { 0 } };
		errno = 1234;
		if (ioctl(kvm, KVM_GET_API_VERSION, 0) < 0 || errno != 1234)
			bad |= 1;
		int vm = ioctl(kvm, KVM_CREATE_VM, 0);
		errno = 0;
		long raw = syscall(SYS_ioctl, vm, 0xc040aed5UL, &pf);
		int raw_errno = errno;
		errno = 0;
		int r = ioctl(vm, 0xc040aed5UL, &pf);
		if (r != raw || errno != raw_errno || errno == 0)
			bad |= 2;
		errno = 4321;
		int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (fd < 0 || errno != 4321)
			bad |= 4;
		errno = 4321;
		if (close(fd) != 0 || errno != 4321)
			bad |= 8;
		errno = 0;
		if (close(fd) != -1 || errno != EBADF)
			bad |= 16;
		errno = 0;
		if (dup(-5) != -1 || errno != EBADF)
			bad |= 32;
		errno = 0;
		if (open("/nonexistent/kvm", O_RDWR) != -1 || errno != ENOENT)
			bad |= 64;
		printf("%d\n", bad);
		return 0;
	}
	return 2;
}
