/*
 * Measures what the capture library costs per KVM ioctl: runs N calls of three kinds and prints the mean
 * time per call. Run it once plainly and once under `kvm-lens capture`, and compare.
 *
 *   cc -O2 -o overhead capture/overhead.c
 *   ./overhead 200000
 *   kvm-lens capture -o /tmp/o.strace -- ./overhead 200000
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

struct pre_fault { uint64_t gpa, size, flags, padding[5]; };
#define PRE_FAULT _IOWR(KVMIO, 0xd5, struct pre_fault)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("/dev/kvm");
		return 2;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	double t = now();
	for (long i = 0; i < n; i++)
		ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
	double check = (now() - t) / n;
	struct pre_fault pf = { .gpa = 0, .size = 0x1000 };
	t = now();
	for (long i = 0; i < n; i++)
		ioctl(vcpu, PRE_FAULT, &pf);
	double prefault = (now() - t) / n;
	t = now();
	for (long i = 0; i < n; i++)
		ioctl(1, TCGETS, 0); /* not KVM: passed straight through */
	double other = (now() - t) / n;
	printf("KVM_CHECK_EXTENSION %.0f ns, KVM_PRE_FAULT_MEMORY %.0f ns, non-KVM ioctl %.0f ns (%ld calls each)\n",
	       check * 1e9, prefault * 1e9, other * 1e9, n);
	return 0;
}
