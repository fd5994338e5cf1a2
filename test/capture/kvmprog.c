/*
 * A small KVM program for the capture tests: a VM with memslots (one backed by guest_memfd), a vCPU that
 * runs `out 0x3f8, al; hlt` on a second thread, and KVM_PRE_FAULT_MEMORY calls well-formed and malformed,
 * on the right and wrong fds, and in a retry loop. Every call's result is whatever this machine's KVM says.
 *
 * Build: cc -O1 -pthread -o kvmprog kvmprog.c
 * Usage: kvmprog [raw]   (raw: also one KVM_GET_API_VERSION through syscall(2), which LD_PRELOAD cannot see)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The installed <linux/kvm.h> may predate these (6.8 and 6.11): define what is missing. */
struct prog_pre_fault_memory {
	uint64_t gpa, size, flags, padding[5];
};
#define PROG_PRE_FAULT_MEMORY _IOWR(KVMIO, 0xd5, struct prog_pre_fault_memory)
/* the same nr with a 24-byte size: a request number the kernel does not know */
struct prog_short { uint64_t a, b, c; };
#define PROG_PRE_FAULT_SHORT _IOWR(KVMIO, 0xd5, struct prog_short)

struct prog_region2 {
	uint32_t slot, flags;
	uint64_t guest_phys_addr, memory_size, userspace_addr, guest_memfd_offset;
	uint32_t guest_memfd, pad1;
	uint64_t pad2[14];
};
#define PROG_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct prog_region2)
struct prog_memory_attributes { uint64_t address, size, attributes, flags; };
#define PROG_SET_MEMORY_ATTRIBUTES _IOW(KVMIO, 0xd2, struct prog_memory_attributes)
struct prog_create_guest_memfd { uint64_t size, flags, reserved[6]; };
#define PROG_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct prog_create_guest_memfd)
#define PROG_MEM_GUEST_MEMFD (1u << 2)
#define PROG_MEMORY_ATTRIBUTE_PRIVATE (1ull << 3)
#define PROG_CAP_USER_MEMORY2 231
#define PROG_CAP_MEMORY_ATTRIBUTES 233
#define PROG_CAP_GUEST_MEMFD 234
#define PROG_CAP_PRE_FAULT_MEMORY 236

static int kvm, vm, vcpu;
static struct kvm_run *run;

static void *vcpu_thread(void *unused)
{
	(void)unused;
	for (int i = 0; i < 4; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			break;
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
	}
	return 0;
}

static long prefault(int fd, unsigned long req, uint64_t gpa, uint64_t size, uint64_t flags, uint64_t pad0)
{
	struct prog_pre_fault_memory r = { .gpa = gpa, .size = size, .flags = flags };
	r.padding[0] = pad0;
	return ioctl(fd, req, &r);
}

int main(int argc, char **argv)
{
	int raw = argc > 1 && !strcmp(argv[1], "raw");
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("/dev/kvm");
		return 2;
	}
	ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (raw)
		syscall(SYS_ioctl, kvm, KVM_GET_API_VERSION, 0);
	ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
	int can_prefault = ioctl(kvm, KVM_CHECK_EXTENSION, PROG_CAP_PRE_FAULT_MEMORY);
	ioctl(kvm, KVM_CHECK_EXTENSION, PROG_CAP_USER_MEMORY2);
	ioctl(kvm, KVM_CHECK_EXTENSION, 0x270f);

	/* a VM type this host may refuse (SW-protected VMs need TDP), then the default one */
	int pvm = ioctl(kvm, KVM_CREATE_VM, 1);
	if (pvm >= 0)
		close(pvm);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("KVM_CREATE_VM");
		return 2;
	}
	ioctl(vm, KVM_CHECK_EXTENSION, PROG_CAP_MEMORY_ATTRIBUTES);
	ioctl(vm, KVM_CHECK_EXTENSION, PROG_CAP_GUEST_MEMFD);
	struct kvm_enable_cap cap = { .cap = KVM_CAP_HALT_POLL, .args = { 0 } };
	ioctl(vm, KVM_ENABLE_CAP, &cap);

	size_t mem_size = 0x200000;
	unsigned char *mem = mmap(0, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return 2;
	/* out 0x3f8, al; hlt */
	static const unsigned char code[] = { 0xba, 0xf8, 0x03, 0xb0, 0x0a, 0xee, 0xf4 };
	memcpy(mem + 0x1000, code, sizeof code);

	struct kvm_userspace_memory_region region = {
		.slot = 0, .flags = 0, .guest_phys_addr = 0, .memory_size = mem_size, .userspace_addr = (uintptr_t)mem,
	};
	ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);
	struct kvm_userspace_memory_region bad = region;
	bad.slot = 1;
	bad.flags = KVM_MEM_LOG_DIRTY_PAGES | 0x80;
	bad.guest_phys_addr = 0x10000000;
	ioctl(vm, KVM_SET_USER_MEMORY_REGION, &bad);

	struct prog_create_guest_memfd gm = { .size = mem_size, .flags = 0 };
	int gmem = ioctl(vm, PROG_CREATE_GUEST_MEMFD, &gm);
	struct prog_region2 r2 = {
		.slot = 2, .flags = gmem >= 0 ? PROG_MEM_GUEST_MEMFD : 0, .guest_phys_addr = 0x20000000, .memory_size = mem_size,
		.userspace_addr = (uintptr_t)mem, .guest_memfd_offset = 0, .guest_memfd = (uint32_t)gmem,
	};
	ioctl(vm, PROG_SET_USER_MEMORY_REGION2, &r2);
	struct prog_memory_attributes attrs = { .address = 0x20000000, .size = mem_size, .attributes = PROG_MEMORY_ATTRIBUTE_PRIVATE };
	ioctl(vm, PROG_SET_MEMORY_ATTRIBUTES, &attrs);

	/* an SEV command on a VM that is not an SEV VM (no SEV here: ENOTTY) */
	struct { uint32_t id, pad0; uint64_t data; uint32_t error, sev_fd; } sev = { .id = 102, .sev_fd = (uint32_t)-1 };
	ioctl(vm, KVM_MEMORY_ENCRYPT_OP, &sev);

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		perror("KVM_CREATE_VCPU");
		return 2;
	}
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(0, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return 2;

	/* pre-fault: well-formed, then each way of getting it wrong */
	prefault(vcpu, PROG_PRE_FAULT_MEMORY, 0, 0x200000, 0, 0);
	prefault(vcpu, PROG_PRE_FAULT_MEMORY, 0, 0x200000, 1, 0);        /* flags */
	prefault(vcpu, PROG_PRE_FAULT_MEMORY, 0x1001, 0x1000, 0, 0);     /* unaligned gpa */
	prefault(vcpu, PROG_PRE_FAULT_MEMORY, 0, 0, 0, 0);               /* size 0 */
	prefault(vcpu, PROG_PRE_FAULT_MEMORY, 0, 0x1000, 0, 7);          /* padding */
	prefault(vcpu, PROG_PRE_FAULT_MEMORY, 0xfffffffffffff000ull, 0x2000, 0, 0); /* wraps */
	prefault(vm, PROG_PRE_FAULT_MEMORY, 0, 0x200000, 0, 0);          /* on the VM fd */
	prefault(kvm, PROG_PRE_FAULT_MEMORY, 0, 0x200000, 0, 0);         /* on /dev/kvm */
	prefault(999, PROG_PRE_FAULT_MEMORY, 0, 0x200000, 0, 0);         /* on an fd that is not open */
	prefault(vcpu, PROG_PRE_FAULT_SHORT, 0, 0x200000, 0, 0);         /* wrong size in the request */
	ioctl(vcpu, PROG_PRE_FAULT_MEMORY, (void *)1);                   /* a bad pointer */

	/* the retry loop a VMM writes: go on while the kernel makes progress or says EINTR/EAGAIN */
	struct prog_pre_fault_memory range = { .gpa = 0, .size = mem_size };
	for (int tries = 0; range.size && tries < 3; tries++) {
		if (ioctl(vcpu, PROG_PRE_FAULT_MEMORY, &range) < 0 && errno != EINTR && errno != EAGAIN && !can_prefault)
			continue; /* (a wrong loop: it retries an error that cannot go away) */
	}

	/* fds come and go: a dup, an fcntl dup, closes */
	int vcpu2 = dup(vcpu);
	int vcpu3 = fcntl(vcpu, F_DUPFD_CLOEXEC, 20);
	close(vcpu3);
	ioctl(vcpu2, KVM_GET_MP_STATE, &(struct kvm_mp_state){ 0 });

	struct kvm_sregs sregs;
	ioctl(vcpu, KVM_GET_SREGS, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &sregs);
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	ioctl(vcpu, KVM_SET_REGS, &regs);

	pthread_t t;
	if (pthread_create(&t, 0, vcpu_thread, 0) == 0)
		pthread_join(t, 0);

	close(vcpu2);
	munmap(run, (size_t)run_size);
	close(vcpu);
	if (gmem >= 0)
		close(gmem);
	close(vm);
	/* fd numbers are reused: a second VM likely gets the first one's number */
	int vm2 = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm2 >= 0) {
		ioctl(vm2, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
		close(vm2);
	}
	close(kvm);
	return 0;
}
