/*
 * Drives the real /dev/kvm with well-formed and malformed KVM_PRE_FAULT_MEMORY calls (and the memslot,
 * capability and fd-class calls around them) and prints one machine-readable line per call:
 *
 *   CALL id=<n> op=<what> fd=<system|vm|vcpu> fdn=<fd> req=0x<request> <inputs k=0x..> ret=<r> errno=<NAME|0> [after_gpa=0x.. after_size=0x.. after_flags=0x..]
 *
 * <linux/kvm.h> on the build machine may predate the pre-fault ioctl, so its struct and number are defined here.
 * Built and run by test/kvm/prefault-conformance.test.ts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kvm.h>

struct probe_pre_fault_memory {
	uint64_t gpa;
	uint64_t size;
	uint64_t flags;
	uint64_t padding[5];
};

#define PROBE_PRE_FAULT_MEMORY 0xC040AED5UL
#define PROBE_CAP_PRE_FAULT_MEMORY 236

struct probe_region2 {
	uint32_t slot;
	uint32_t flags;
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t guest_memfd_offset;
	uint32_t guest_memfd;
	uint32_t pad1;
	uint64_t pad2[14];
};
#define PROBE_SET_USER_MEMORY_REGION2 0x40A0AE49UL

struct probe_attrs {
	uint64_t address, size, attributes, flags;
};
#define PROBE_SET_MEMORY_ATTRIBUTES 0x4020AED2UL

struct probe_gmem {
	uint64_t size, flags, reserved[6];
};
#define PROBE_CREATE_GUEST_MEMFD 0xC040AED4UL

static int ids;

static const char *ename(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case ENOSPC: return "ENOSPC";
	case E2BIG: return "E2BIG";
	case ENXIO: return "ENXIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOSYS: return "ENOSYS";
	default: return "E?";
	}
}

static void prefault(const char *fdname, int fd, unsigned long req, uint64_t gpa, uint64_t size, uint64_t flags, uint64_t pad0)
{
	struct probe_pre_fault_memory r;
	memset(&r, 0, sizeof(r));
	r.gpa = gpa;
	r.size = size;
	r.flags = flags;
	r.padding[0] = pad0;
	errno = 0;
	int ret = ioctl(fd, req, &r);
	int e = ret < 0 ? errno : 0;
	printf("CALL id=%d op=prefault fd=%s fdn=%d req=0x%lx gpa=0x%llx size=0x%llx flags=0x%llx pad0=0x%llx ret=%d errno=%s after_gpa=0x%llx after_size=0x%llx after_flags=0x%llx\n",
	       ++ids, fdname, fd, req, (unsigned long long)gpa, (unsigned long long)size, (unsigned long long)flags,
	       (unsigned long long)pad0, ret, ename(e), (unsigned long long)r.gpa, (unsigned long long)r.size,
	       (unsigned long long)r.flags);
}

static void cap(const char *fdname, int fd, int c)
{
	errno = 0;
	int ret = ioctl(fd, KVM_CHECK_EXTENSION, c);
	printf("CALL id=%d op=cap fd=%s fdn=%d req=0x%lx cap=0x%x ret=%d errno=%s\n", ++ids, fdname, fd,
	       (unsigned long)KVM_CHECK_EXTENSION, c, ret, ename(ret < 0 ? errno : 0));
}

static void region(int vmfd, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, uint64_t uaddr)
{
	struct kvm_userspace_memory_region m = { .slot = slot, .flags = flags, .guest_phys_addr = gpa,
						 .memory_size = size, .userspace_addr = uaddr };
	errno = 0;
	int ret = ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &m);
	printf("CALL id=%d op=region fd=vm fdn=%d req=0x%lx slot=0x%x flags=0x%x guest_phys_addr=0x%llx memory_size=0x%llx userspace_addr=0x%llx ret=%d errno=%s\n",
	       ++ids, vmfd, (unsigned long)KVM_SET_USER_MEMORY_REGION, slot, flags, (unsigned long long)gpa,
	       (unsigned long long)size, (unsigned long long)uaddr, ret, ename(ret < 0 ? errno : 0));
}

static void region2(int vmfd, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, uint64_t uaddr, int gmem, uint64_t off)
{
	struct probe_region2 m;
	memset(&m, 0, sizeof(m));
	m.slot = slot;
	m.flags = flags;
	m.guest_phys_addr = gpa;
	m.memory_size = size;
	m.userspace_addr = uaddr;
	m.guest_memfd = (uint32_t)gmem;
	m.guest_memfd_offset = off;
	errno = 0;
	int ret = ioctl(vmfd, PROBE_SET_USER_MEMORY_REGION2, &m);
	printf("CALL id=%d op=region2 fd=vm fdn=%d req=0x%lx slot=0x%x flags=0x%x guest_phys_addr=0x%llx memory_size=0x%llx userspace_addr=0x%llx guest_memfd=0x%x guest_memfd_offset=0x%llx ret=%d errno=%s\n",
	       ++ids, vmfd, PROBE_SET_USER_MEMORY_REGION2, slot, flags, (unsigned long long)gpa, (unsigned long long)size,
	       (unsigned long long)uaddr, (unsigned)gmem, (unsigned long long)off, ret, ename(ret < 0 ? errno : 0));
}

static void attrs(int vmfd, uint64_t address, uint64_t size, uint64_t a, uint64_t flags)
{
	struct probe_attrs m = { address, size, a, flags };
	errno = 0;
	int ret = ioctl(vmfd, PROBE_SET_MEMORY_ATTRIBUTES, &m);
	printf("CALL id=%d op=attrs fd=vm fdn=%d req=0x%lx address=0x%llx size=0x%llx attributes=0x%llx flags=0x%llx ret=%d errno=%s\n",
	       ++ids, vmfd, PROBE_SET_MEMORY_ATTRIBUTES, (unsigned long long)address, (unsigned long long)size,
	       (unsigned long long)a, (unsigned long long)flags, ret, ename(ret < 0 ? errno : 0));
}

static int gmem(int vmfd, uint64_t size, uint64_t flags)
{
	struct probe_gmem m;
	memset(&m, 0, sizeof(m));
	m.size = size;
	m.flags = flags;
	errno = 0;
	int ret = ioctl(vmfd, PROBE_CREATE_GUEST_MEMFD, &m);
	printf("CALL id=%d op=gmem fd=vm fdn=%d req=0x%lx size=0x%llx flags=0x%llx ret=%d errno=%s\n", ++ids, vmfd,
	       PROBE_CREATE_GUEST_MEMFD, (unsigned long long)size, (unsigned long long)flags, ret, ename(ret < 0 ? errno : 0));
	return ret;
}

static void enable_cap(int vmfd, uint32_t c, uint64_t a0)
{
	struct kvm_enable_cap e;
	memset(&e, 0, sizeof(e));
	e.cap = c;
	e.args[0] = a0;
	errno = 0;
	int ret = ioctl(vmfd, KVM_ENABLE_CAP, &e);
	printf("CALL id=%d op=enable_cap fd=vm fdn=%d req=0x%lx cap=0x%x args0=0x%llx ret=%d errno=%s\n", ++ids, vmfd,
	       (unsigned long)KVM_ENABLE_CAP, c, (unsigned long long)a0, ret, ename(ret < 0 ? errno : 0));
}

static void xclose(int fd)
{
	close(fd);
	printf("CLOSE fd=%d\n", fd);
}

static int create_vm(int kvm, unsigned long type)
{
	errno = 0;
	int ret = ioctl(kvm, KVM_CREATE_VM, type);
	printf("CALL id=%d op=create_vm fd=system fdn=%d req=0x%lx type=0x%lx ret=%d errno=%s\n", ++ids, kvm,
	       (unsigned long)KVM_CREATE_VM, type, ret, ename(ret < 0 ? errno : 0));
	return ret;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("SKIP open /dev/kvm: %s\n", strerror(errno));
		return 0;
	}
	printf("OPEN path=/dev/kvm ret=%d\n", kvm);
	errno = 0;
	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	printf("CALL id=%d op=api fd=system fdn=%d req=0x%lx ret=%d errno=%s\n", ++ids, kvm, (unsigned long)KVM_GET_API_VERSION, api, ename(api < 0 ? errno : 0));
	cap("system", kvm, PROBE_CAP_PRE_FAULT_MEMORY);
	cap("system", kvm, KVM_CAP_USER_MEMORY);
	cap("system", kvm, KVM_CAP_NR_MEMSLOTS);
	cap("system", kvm, KVM_CAP_MULTI_ADDRESS_SPACE);

	/* VM types other than DEFAULT: need TDP (and hardware) */
	int v1 = create_vm(kvm, 1);
	if (v1 >= 0) xclose(v1);
	int v99 = create_vm(kvm, 99);
	if (v99 >= 0) xclose(v99);

	/* a second VM for the dirty ring rules (size, once, before vCPUs) */
	int vm2 = create_vm(kvm, 0);
	if (vm2 >= 0) {
		cap("vm", vm2, 192); /* KVM_CAP_DIRTY_LOG_RING */
		enable_cap(vm2, 192, 3000);
		enable_cap(vm2, 192, 2048);
		enable_cap(vm2, 192, 1 << 21);
		enable_cap(vm2, 192, 65536);
		enable_cap(vm2, 192, 65536);
		xclose(vm2);
	}
	int vm3 = create_vm(kvm, 0);
	if (vm3 >= 0) {
		errno = 0;
		int v = ioctl(vm3, KVM_CREATE_VCPU, 0);
		printf("CALL id=%d op=create_vcpu fd=vm fdn=%d req=0x%lx id=0x0 ret=%d errno=%s\n", ++ids, vm3, (unsigned long)KVM_CREATE_VCPU, v, ename(v < 0 ? errno : 0));
		enable_cap(vm3, 192, 65536);
		if (v >= 0) xclose(v);
		/* vCPU ids: max_vcpu_ids (KVM_CAP_MAX_VCPU_ID) and a duplicate */
		long vids[] = { -1, 4095, 4096, 0x7fffffff, 4095 };
		for (unsigned j = 0; j < sizeof(vids) / sizeof(vids[0]); j++) {
			errno = 0;
			int w = ioctl(vm3, KVM_CREATE_VCPU, vids[j]);
			printf("CALL id=%d op=create_vcpu fd=vm fdn=%d req=0x%lx id=0x%lx ret=%d errno=%s\n", ++ids, vm3, (unsigned long)KVM_CREATE_VCPU, (unsigned long)vids[j], w, ename(w < 0 ? errno : 0));
		}
		cap("vm", vm3, 128); /* KVM_CAP_MAX_VCPU_ID */
		xclose(vm3);
	}

	int vm = create_vm(kvm, 0);
	if (vm < 0)
		return 1;
	cap("vm", vm, PROBE_CAP_PRE_FAULT_MEMORY);
	cap("vm", vm, 231); /* KVM_CAP_USER_MEMORY2 */
	cap("vm", vm, 233); /* KVM_CAP_MEMORY_ATTRIBUTES */
	cap("vm", vm, 234); /* KVM_CAP_GUEST_MEMFD */

	/* guest memory: a 2 MiB + 4 KiB slot at 0 and a 2 MiB slot at 4 MiB: a gap between */
	size_t len = 8 << 20;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	uint64_t base = ((uint64_t)(uintptr_t)mem + 0x1fffff) & ~0x1fffffULL; /* 2 MiB aligned inside */
	region(vm, 0, 0, 0, 0x201000, base);
	region(vm, 1, 0, 0x400000, 0x200000, base + 0x400000);
	/* malformed and conflicting memslots */
	region(vm, 2, 0, 0x1000, 0x1000, base + 0x300000);	 /* overlaps slot 0: EEXIST */
	region(vm, 2, 0, 0x800001, 0x1000, base + 0x300000);	 /* unaligned gpa */
	region(vm, 2, 0, 0x800000, 0x1001, base + 0x300000);	 /* unaligned size */
	region(vm, 2, 0, 0x800000, 0x1000, base + 0x300001);	 /* unaligned address */
	region(vm, 2, 8, 0x800000, 0x1000, base + 0x300000);	 /* unknown flag */
	region(vm, 2, 4, 0x800000, 0x1000, base + 0x300000);	 /* GUEST_MEMFD with the V1 ioctl */
	region(vm, 0, 0, 0, 0x202000, base);			 /* resize: EINVAL */
	region(vm, 0, 2, 0, 0x201000, base);			 /* READONLY change: EINVAL */
	region(vm, 0x10002, 0, 0x800000, 0x1000, base + 0x300000); /* address space 1 */
	region(vm, 40000, 0, 0x800000, 0x1000, base + 0x300000); /* slot id too large */
	region(vm, 5, 0, 0, 0, 0);				 /* delete a slot that does not exist */
	region(vm, 3, 2, 0x900000, 0x1000, base + 0x300000);	 /* read-only slot */
	region(vm, 4, 1, 0xa00000, 0x1000, base + 0x301000);	 /* dirty-logging slot */
	region(vm, 4, 0, 0xa00000, 0x1000, base + 0x301000);	 /* flags change */
	region(vm, 4, 0, 0xb00000, 0x1000, base + 0x301000);	 /* move */
	region(vm, 4, 0, 0xb00000, 0, base + 0x301000);		 /* delete */
	region2(vm, 6, 4, 0xc00000, 0x1000, base + 0x302000, 0, 0); /* GUEST_MEMFD on a DEFAULT VM */
	attrs(vm, 0, 0x1000, 8, 0);	/* PRIVATE on a DEFAULT VM */
	attrs(vm, 0, 0x1000, 0, 1);	/* flags */
	int g = gmem(vm, 0x1001, 0);
	if (g >= 0) xclose(g);
	g = gmem(vm, 0x200000, 1ULL << 63);
	if (g >= 0) xclose(g);
	g = gmem(vm, 0x200000, 1); /* GUEST_MEMFD_FLAG_MMAP */
	if (g >= 0) xclose(g);
	g = gmem(vm, 0x200000, 0);
	if (g >= 0) {
		region2(vm, 7, 4, 0xd00000, 0x200000, base + 0x200000, g, 0);
		region2(vm, 8, 4, 0xf00000, 0x1000, base + 0x200000, g, 0x1000); /* overlapping binding */
		region2(vm, 8, 4, 0xf00000, 0x1000, base + 0x200000, g, 0x200000); /* beyond the file */
	}

	errno = 0;
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	printf("CALL id=%d op=create_vcpu fd=vm fdn=%d req=0x%lx id=0x0 ret=%d errno=%s\n", ++ids, vm, (unsigned long)KVM_CREATE_VCPU, vcpu, ename(vcpu < 0 ? errno : 0));
	if (vcpu < 0)
		return 1;
	errno = 0;
	int dupv = ioctl(vm, KVM_CREATE_VCPU, 0);
	printf("CALL id=%d op=create_vcpu fd=vm fdn=%d req=0x%lx id=0x0 ret=%d errno=%s\n", ++ids, vm, (unsigned long)KVM_CREATE_VCPU, dupv, ename(dupv < 0 ? errno : 0));
	cap("vcpu", vcpu, PROBE_CAP_PRE_FAULT_MEMORY);

	struct { uint64_t gpa, size, flags, pad0; } cases[] = {
		{ 0, 0x200000, 0, 0 },		/* the selftest's three ranges */
		{ 0x200000, 0x2000, 0, 0 },
		{ 0x201000, 0x1000, 0, 0 },
		{ 0, 0x600000, 0, 0 },		/* across the gap */
		{ 0x400000, 0x200000, 0, 0 },	/* second slot */
		{ 0x900000, 0x1000, 0, 0 },	/* read-only slot */
		{ 0x10000000, 0x1000, 0, 0 },	/* no memslot */
		{ 0, 0x1000, 1, 0 },		/* flags */
		{ 0, 0x1000, 0x8000000000000000ULL, 0 },
		{ 0x800, 0x1000, 0, 0 },	/* unaligned gpa */
		{ 0, 0x800, 0, 0 },		/* unaligned size */
		{ 0, 0x1001, 0, 0 },
		{ 0, 0, 0, 0 },			/* size 0 */
		{ 0xfffffffffffff000ULL, 0x1000, 0, 0 },	/* ends at 2^64: wraps to 0 */
		{ 0xfffffffffffff000ULL, 0x2000, 0, 0 },	/* wraps */
		{ 0xffffffffffffe000ULL, 0x1000, 0, 0 },	/* the last page but one */
		{ 0x1000, 0xfffffffffffff000ULL, 0, 0 },	/* wraps */
		{ 0, 0x1000, 0, 0xdead },	/* padding is not checked */
		{ 0x1000, 0x1000, 2, 0xdead },	/* flags and padding */
		{ 0x1001, 0, 1, 0 },		/* everything wrong */
		{ 0xd00000, 0x200000, 0, 0 },	/* guest_memfd-only slot (when the kernel allowed it) */
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		prefault("vcpu", vcpu, PROBE_PRE_FAULT_MEMORY, cases[i].gpa, cases[i].size, cases[i].flags, cases[i].pad0);
	/* wrong size / direction encodings on the vCPU fd */
	prefault("vcpu", vcpu, 0xC018AED5UL, 0, 0x1000, 0, 0);
	prefault("vcpu", vcpu, 0x4040AED5UL, 0, 0x1000, 0, 0);
	prefault("vcpu", vcpu, 0x8040AED5UL, 0, 0x1000, 0, 0);
	prefault("vcpu", vcpu, 0xC080AED5UL, 0, 0x1000, 0, 0);
	/* wrong fds */
	prefault("vm", vm, PROBE_PRE_FAULT_MEMORY, 0, 0x1000, 0, 0);
	prefault("vm", vm, PROBE_PRE_FAULT_MEMORY, 0x800, 0x1000, 1, 0);
	prefault("vm", vm, 0xC018AED5UL, 0, 0x1000, 0, 0);
	prefault("system", kvm, PROBE_PRE_FAULT_MEMORY, 0, 0x1000, 0, 0);
	prefault("system", kvm, PROBE_PRE_FAULT_MEMORY, 0x800, 0x1000, 1, 0);
	prefault("system", kvm, 0xC018AED5UL, 0, 0x1000, 0, 0);
	/* a forked child: VM and vCPU fds belong to the parent's mm (EIO), /dev/kvm works */
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		printf("FORK\n");
		prefault("vcpu", vcpu, PROBE_PRE_FAULT_MEMORY, 0, 0x1000, 0, 0);
		prefault("vcpu", vcpu, PROBE_PRE_FAULT_MEMORY, 0x800, 0x1000, 1, 0);
		cap("vm", vm, PROBE_CAP_PRE_FAULT_MEMORY);
		cap("system", kvm, PROBE_CAP_PRE_FAULT_MEMORY);
		printf("EXIT\n");
		fflush(stdout);
		_exit(0);
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	/* a dup of the vCPU fd is the same vCPU */
	int dv = dup(vcpu);
	if (dv >= 0) {
		printf("DUP old=%d new=%d\n", vcpu, dv);
		prefault("vcpu", dv, PROBE_PRE_FAULT_MEMORY, 0, 0x1000, 0, 0);
		prefault("vcpu", dv, PROBE_PRE_FAULT_MEMORY, 0, 0x1000, 4, 0);
		xclose(dv);
	}
	/* after deleting slot 1 */
	region(vm, 1, 0, 0x400000, 0, 0);
	prefault("vcpu", vcpu, PROBE_PRE_FAULT_MEMORY, 0x400000, 0x1000, 0, 0);
	prefault("vcpu", vcpu, PROBE_PRE_FAULT_MEMORY, 0x400800, 0x1000, 0, 0);
	return 0;
}
