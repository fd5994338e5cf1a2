/*
 * kvm-lens-capture: an LD_PRELOAD library that records every KVM ioctl a process makes,
 * in strace's syntax, with the structs that strace does not decode (KVM_PRE_FAULT_MEMORY
 * before and after the call, memslots, memory attributes, guest_memfd, enable_cap).
 *
 * Built on demand by `kvm-lens capture`, which generates kvm-lens-ioctls.h (request numbers,
 * names, struct layouts, capability and errno names) from server/src/kvm: this file holds
 * no KVM number of its own.
 *
 * Environment:
 *   KVM_LENS_CAPTURE_OUT    file to append to (absent: standard error)
 *   KVM_LENS_CAPTURE_FLAGS  comma-separated: y (fd paths like strace -y), ttt (epoch times
 *                           like strace -ttt), T (time spent in the call like strace -T),
 *                           Y (thread names after the pid, like strace -Y), nopid (no pid column)
 *
 * Design constraints: no malloc, no stdio, no locks held across the real call; one write(2)
 * per line on an O_APPEND file (whole lines even across processes); a spin lock around the
 * write that a signal handler on the same thread cannot deadlock on; errno preserved.
 * See capture/README.md for what it cannot see.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* the shapes of the generated tables (kvm-lens-ioctls.h fills them from server/src/kvm)       */

/* what an fd is */
enum { KL_KIND_UNKNOWN = 0, KL_KIND_NONE, KL_KIND_SYSTEM, KL_KIND_VM, KL_KIND_VCPU, KL_KIND_GUEST_MEMFD, KL_KIND_OTHER };
/* which way a decoded struct goes */
enum { KL_MODE_NONE = 0, KL_MODE_IN, KL_MODE_OUT, KL_MODE_INOUT };
/* how a field's value is printed */
enum { KL_FMT_DEC = 0, KL_FMT_SDEC, KL_FMT_HEX, KL_FMT_MEMSLOT_FLAGS, KL_FMT_MEMATTR, KL_FMT_GMEM_FLAGS, KL_FMT_CAP, KL_FMT_SEV_CMD, KL_FMT_TDX_CMD };
/* field flags: written back by the kernel (printed after =>), left out when all zero */
enum { KL_FIELD_OUT = 1, KL_FIELD_OMIT_ZERO = 2 };
/* how a non-struct argument is printed */
enum { KL_ARG_PTR = 0, KL_ARG_DEC, KL_ARG_HEX, KL_ARG_CAP, KL_ARG_VMTYPE };
/* what the result is */
enum { KL_RESULT_INT = 0, KL_RESULT_FD, KL_RESULT_DEVICE_FD };

struct kl_named {
	unsigned long long value;
	const char *name;
};

struct kl_errno {
	int number;
	const char *name;
	const char *text;
};

struct kl_field {
	const char *name;
	unsigned short offset;
	unsigned char elem_size;
	unsigned char fmt;
	unsigned short count; /* 0: not an array */
	unsigned char flags;
};

struct kl_struct {
	const char *name;
	unsigned size;
	const struct kl_field *fields;
	unsigned nfields;
};

struct kl_ioctl {
	unsigned request;
	const char *name;
	signed char layout; /* index into kl_structs, -1: not decoded */
	signed char layout_tdx; /* the layout on a TDX VM's fds, when it differs (KVM_MEMORY_ENCRYPT_OP) */
	unsigned char mode;
	unsigned char arg;
	unsigned char result;
	unsigned char result_kind;
	unsigned char after_on_error; /* the kernel writes the struct back even when the call fails */
};

#include "kvm-lens-ioctls.h"

#define KL_EXPORT __attribute__((visibility("default")))
#define KL_MAXFD 65536
#define KL_LINE 8192

/* ------------------------------------------------------------------------------------------ */
/* state                                                                                        */

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);
typedef int (*close_fn)(int);
typedef int (*close_range_fn)(unsigned, unsigned, int);
typedef void (*closefrom_fn)(int);
typedef int (*dup_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*fcntl_fn)(int, int, ...);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*munmap_fn)(void *, size_t);

static ioctl_fn real_ioctl;
static open_fn real_open, real_open64;
static openat_fn real_openat, real_openat64;
static open2_fn real___open_2, real___open64_2;
static openat2_fn real___openat_2, real___openat64_2;
static close_fn real_close;
static close_range_fn real_close_range;
static closefrom_fn real_closefrom;
static dup_fn real_dup;
static dup2_fn real_dup2;
static dup3_fn real_dup3;
static fcntl_fn real_fcntl, real_fcntl64;
static mmap_fn real_mmap, real_mmap64;
static munmap_fn real_munmap;

/* What each fd is, as far as KVM goes (KL_KIND_* from the generated header). */
static volatile unsigned char fd_kind[KL_MAXFD];
/* The VM type (KVM_CREATE_VM's argument) behind each VM and vCPU fd, plus one; 0: unknown. */
static volatile unsigned char fd_vmtype[KL_MAXFD];
/* The kvm_run mapping of each vCPU fd, to name KVM_RUN's exit reason. */
static void *volatile run_map[KL_MAXFD];
static volatile size_t run_len[KL_MAXFD];
/* highest vCPU fd with a mapping (munmap looks no further) */
static volatile int run_hi = -1;

static int out_fd = -1;
static dev_t out_dev;
static ino_t out_ino;
static char out_path[4096];
static int opt_paths, opt_ttt, opt_T, opt_comm, opt_pid = 1;
static volatile int write_lock;
static __thread volatile int in_write;
/* gettid() and getpid() are system calls: kept, and forgotten in a forked child */
static __thread unsigned cached_tid;
static pid_t cached_pid;

/* ------------------------------------------------------------------------------------------ */
/* raw system calls (never our own wrappers, never stdio)                                      */

static long sys_readlink_fd(int fd, char *buf, size_t len)
{
	char path[32] = "/proc/self/fd/";
	char digits[16];
	int n = 0, i = 14;
	unsigned v = (unsigned)fd;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		path[i++] = digits[--n];
	path[i] = 0;
	long r = syscall(SYS_readlinkat, AT_FDCWD, path, buf, len - 1);
	if (r < 0)
		return -1;
	buf[r] = 0;
	return r;
}

/* Copy len bytes of the caller's memory at addr, or fail (bad pointer) without faulting. */
static int read_mem(void *dst, const void *addr, size_t len)
{
	if (!addr)
		return -1;
	struct iovec local = { dst, len };
	struct iovec remote = { (void *)addr, len };
	if (!cached_pid)
		cached_pid = (pid_t)syscall(SYS_getpid);
	long r = syscall(SYS_process_vm_readv, (long)cached_pid, &local, 1L, &remote, 1L, 0L);
	return r == (long)len ? 0 : -1;
}

static unsigned tid(void)
{
	if (!cached_tid)
		cached_tid = (unsigned)syscall(SYS_gettid);
	return cached_tid;
}

static void now(struct timespec *ts)
{
	if (clock_gettime(CLOCK_REALTIME, ts) != 0) {
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
	}
}

static void mono(struct timespec *ts)
{
	if (clock_gettime(CLOCK_MONOTONIC, ts) != 0) {
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* line buffer                                                                                  */

struct line {
	char b[KL_LINE];
	size_t n;
	int full;
};

static void put(struct line *l, const char *s)
{
	while (*s) {
		if (l->n + 1 >= sizeof l->b - 16) {
			l->full = 1;
			return;
		}
		l->b[l->n++] = *s++;
	}
}

static void putc_(struct line *l, char c)
{
	char s[2] = { c, 0 };
	put(l, s);
}

static void put_udec(struct line *l, unsigned long long v)
{
	char d[24];
	int n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	char s[24];
	int i = 0;
	while (n)
		s[i++] = d[--n];
	s[i] = 0;
	put(l, s);
}

static void put_sdec(struct line *l, long long v)
{
	if (v < 0) {
		putc_(l, '-');
		put_udec(l, (unsigned long long)(-(v + 1)) + 1);
	} else {
		put_udec(l, (unsigned long long)v);
	}
}

/* strace's %#llx: 0 stays 0 */
static void put_hex(struct line *l, unsigned long long v)
{
	if (!v) {
		putc_(l, '0');
		return;
	}
	char d[20];
	int n = 0;
	while (v) {
		d[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	}
	char s[24] = "0x";
	int i = 2;
	while (n)
		s[i++] = d[--n];
	s[i] = 0;
	put(l, s);
}

static void put_ptr(struct line *l, const void *p)
{
	if (!p)
		put(l, "NULL");
	else
		put_hex(l, (unsigned long long)(uintptr_t)p);
}

/* a path inside strace -y's <...>: strace octal-escapes < > and non-printables */
static void put_path(struct line *l, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 32 || c >= 127 || c == '<' || c == '>' || c == '\\') {
			char e[5] = { '\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)), (char)('0' + (c & 7)), 0 };
			put(l, e);
		} else {
			putc_(l, (char)c);
		}
	}
}

/* a C string argument as strace prints it: "..." with escapes */
static void put_cstring(struct line *l, const char *s)
{
	char buf[256];
	size_t n = 0;
	int more = 0;
	/* the caller's string could be unreadable: copy it in small pieces */
	if (!s) {
		put(l, "NULL");
		return;
	}
	while (n < sizeof buf - 1) {
		char c;
		if (read_mem(&c, s + n, 1) != 0) {
			if (n == 0) {
				put_ptr(l, s);
				return;
			}
			break;
		}
		if (!c)
			break;
		buf[n++] = c;
		if (n == sizeof buf - 1)
			more = 1;
	}
	buf[n] = 0;
	putc_(l, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '"' || c == '\\') {
			putc_(l, '\\');
			putc_(l, (char)c);
		} else if (c == '\n') {
			put(l, "\\n");
		} else if (c == '\t') {
			put(l, "\\t");
		} else if (c < 32 || c >= 127) {
			char e[5] = { '\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)), (char)('0' + (c & 7)), 0 };
			put(l, e);
		} else {
			putc_(l, (char)c);
		}
	}
	putc_(l, '"');
	if (more)
		put(l, "...");
}

static void put_fd(struct line *l, int fd)
{
	put_sdec(l, fd);
	if (opt_paths && fd >= 0) {
		char p[512];
		if (sys_readlink_fd(fd, p, sizeof p) > 0) {
			putc_(l, '<');
			put_path(l, p);
			putc_(l, '>');
		}
	}
}

/* names of set bits, strace style: A|B|0x80; 0 prints as 0 */
static void put_flags(struct line *l, unsigned long long v, const struct kl_named *t, size_t n)
{
	if (!v) {
		putc_(l, '0');
		return;
	}
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		if (t[i].value && (v & t[i].value) == t[i].value) {
			if (!first)
				putc_(l, '|');
			put(l, t[i].name);
			v &= ~t[i].value;
			first = 0;
		}
	}
	if (v) {
		if (!first)
			putc_(l, '|');
		put_hex(l, v);
	}
}

static const char *lookup(unsigned long long v, const struct kl_named *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].name;
	return 0;
}

static void put_cap(struct line *l, unsigned long long v)
{
	const char *name = lookup(v, kl_caps, KL_NCAPS);
	if (name) {
		put(l, name);
	} else {
		put_hex(l, v);
		put(l, " /* KVM_CAP_??? */");
	}
}

/* the time prefix (-ttt) and the pid column */
static void begin(struct line *l, const struct timespec *start)
{
	l->n = 0;
	l->full = 0;
	if (opt_pid) {
		size_t at = l->n;
		put_udec(l, tid());
		if (opt_comm) {
			/* strace -Y: the thread's name (QEMU names vCPU threads `CPU 0/KVM`) */
			char comm[17] = { 0 };
			if (syscall(SYS_prctl, PR_GET_NAME, comm, 0, 0, 0) == 0) {
				putc_(l, '<');
				put_path(l, comm);
				putc_(l, '>');
			}
		}
		while (l->n < at + 5)
			putc_(l, ' ');
		putc_(l, ' ');
	}
	if (opt_ttt) {
		put_udec(l, (unsigned long long)start->tv_sec);
		putc_(l, '.');
		char us[7];
		long v = start->tv_nsec / 1000;
		for (int i = 5; i >= 0; i--) {
			us[i] = (char)('0' + v % 10);
			v /= 10;
		}
		us[6] = 0;
		put(l, us);
		putc_(l, ' ');
	}
}

/* `) ` then pad to column 40, then `= ` (strace's tabto) */
static void equals(struct line *l)
{
	put(l, ") ");
	while (l->n < 40)
		putc_(l, ' ');
	put(l, "= ");
}

static void put_errno(struct line *l, int e)
{
	put(l, "-1 ");
	for (size_t i = 0; i < KL_NERRNOS; i++) {
		if (kl_errnos[i].number == e) {
			put(l, kl_errnos[i].name);
			put(l, " (");
			put(l, kl_errnos[i].text);
			putc_(l, ')');
			return;
		}
	}
	put(l, "ERRNO_");
	put_udec(l, (unsigned)e);
	put(l, " (Unknown error ");
	put_udec(l, (unsigned)e);
	putc_(l, ')');
}

static void put_duration(struct line *l, const struct timespec *a, const struct timespec *b)
{
	long long ns = (long long)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
	if (ns < 0)
		ns = 0;
	long long us = ns / 1000;
	put(l, " <");
	put_udec(l, (unsigned long long)(us / 1000000));
	putc_(l, '.');
	char d[7];
	long long v = us % 1000000;
	for (int i = 5; i >= 0; i--) {
		d[i] = (char)('0' + v % 10);
		v /= 10;
	}
	d[6] = 0;
	put(l, d);
	putc_(l, '>');
}

/* ------------------------------------------------------------------------------------------ */
/* output                                                                                       */

static int raw_open_out(void)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	/* keep clear of the low fds that programs hand out and dup2 onto */
	int hi = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 900);
	if (hi >= 0) {
		syscall(SYS_close, fd);
		fd = hi;
	}
	struct stat st;
	if (syscall(SYS_fstat, fd, &st) == 0) {
		out_dev = st.st_dev;
		out_ino = st.st_ino;
	}
	return fd;
}

/* the program may have closed or reused our fd (close_range, a loop over /proc/self/fd) */
static int out_ok(void)
{
	if (!out_path[0])
		return out_fd >= 0;
	struct stat st;
	if (out_fd >= 0 && syscall(SYS_fstat, out_fd, &st) == 0 && st.st_dev == out_dev && st.st_ino == out_ino)
		return 1;
	out_fd = raw_open_out();
	return out_fd >= 0;
}

/*
 * The lock around a line's write. A signal handler that makes a KVM ioctl on a thread that is inside
 * lock()...unlock() must not wait for the lock that thread holds: in_write (per thread) says so, and it
 * covers the whole time the lock may be held by this thread (set before taking it, cleared after
 * releasing it). Such a nested writer writes without the lock; O_APPEND keeps its line whole.
 */
static void lock(void)
{
	if (in_write++)
		return;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	while (__atomic_exchange_n(&write_lock, 1, __ATOMIC_ACQUIRE))
		syscall(SYS_sched_yield);
}

static void unlock(void)
{
	if (in_write == 1)
		__atomic_store_n(&write_lock, 0, __ATOMIC_RELEASE);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	in_write--;
}

static void emit(struct line *l)
{
	if (l->full)
		put(l, " /* line cut by kvm-lens-capture */");
	l->b[l->n++] = '\n';
	lock();
	if (out_ok()) {
		size_t off = 0;
		while (off < l->n) {
			long w = syscall(SYS_write, out_fd, l->b + off, l->n - off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			off += (size_t)w;
		}
	}
	unlock();
}

static void after_fork_child(void)
{
	write_lock = 0;
	in_write = 0;
	cached_tid = 0;
	cached_pid = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* fd kinds                                                                                     */

static int kind_of_label(const char *p)
{
	if (!strcmp(p, "/dev/kvm"))
		return KL_KIND_SYSTEM;
	if (!strcmp(p, "anon_inode:kvm-vm"))
		return KL_KIND_VM;
	if (!strncmp(p, "anon_inode:kvm-vcpu", 19))
		return KL_KIND_VCPU;
	if (strstr(p, "guest_memfd") || strstr(p, "kvm-gmem"))
		return KL_KIND_GUEST_MEMFD;
	if (!strncmp(p, "anon_inode:kvm-", 15) || !strncmp(p, "anon_inode:kvm_", 15))
		return KL_KIND_OTHER;
	return KL_KIND_NONE;
}

static int kind(int fd)
{
	if (fd < 0 || fd >= KL_MAXFD)
		return KL_KIND_UNKNOWN;
	return fd_kind[fd];
}

static int vmtype_of(int fd)
{
	return fd >= 0 && fd < KL_MAXFD ? (int)fd_vmtype[fd] - 1 : -1;
}

static void set_vmtype(int fd, int type)
{
	if (fd >= 0 && fd < KL_MAXFD)
		fd_vmtype[fd] = (unsigned char)(type >= 0 && type < 255 ? type + 1 : 0);
}

static void set_kind(int fd, int k)
{
	if (fd >= 0 && fd < KL_MAXFD) {
		fd_kind[fd] = (unsigned char)k;
		fd_vmtype[fd] = 0;
		if (k != KL_KIND_VCPU) {
			run_map[fd] = 0;
			run_len[fd] = 0;
		}
	}
}

/* what the fd is now, asking the kernel the first time */
static int classify(int fd)
{
	int k = kind(fd);
	if (k != KL_KIND_UNKNOWN)
		return k;
	char p[512];
	k = sys_readlink_fd(fd, p, sizeof p) > 0 ? kind_of_label(p) : KL_KIND_NONE;
	set_kind(fd, k);
	return k;
}

static int is_kvm_kind(int k)
{
	return k == KL_KIND_SYSTEM || k == KL_KIND_VM || k == KL_KIND_VCPU || k == KL_KIND_GUEST_MEMFD || k == KL_KIND_OTHER;
}

/* ------------------------------------------------------------------------------------------ */
/* resolving the real functions                                                                */

#define RESOLVE(var, name) \
	do { \
		if (!(var)) \
			*(void **)&(var) = dlsym(RTLD_NEXT, name); \
	} while (0)

static void resolve_all(void)
{
	RESOLVE(real_ioctl, "ioctl");
	RESOLVE(real_open, "open");
	RESOLVE(real_open64, "open64");
	RESOLVE(real_openat, "openat");
	RESOLVE(real_openat64, "openat64");
	RESOLVE(real___open_2, "__open_2");
	RESOLVE(real___open64_2, "__open64_2");
	RESOLVE(real___openat_2, "__openat_2");
	RESOLVE(real___openat64_2, "__openat64_2");
	RESOLVE(real_close, "close");
	RESOLVE(real_close_range, "close_range");
	RESOLVE(real_closefrom, "closefrom");
	RESOLVE(real_dup, "dup");
	RESOLVE(real_dup2, "dup2");
	RESOLVE(real_dup3, "dup3");
	RESOLVE(real_fcntl, "fcntl");
	RESOLVE(real_fcntl64, "fcntl64");
	RESOLVE(real_mmap, "mmap");
	RESOLVE(real_mmap64, "mmap64");
	RESOLVE(real_munmap, "munmap");
}

static void parse_flags(const char *s)
{
	while (s && *s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 1 && s[0] == 'y')
			opt_paths = 1;
		else if (n == 3 && !strncmp(s, "ttt", 3))
			opt_ttt = 1;
		else if (n == 1 && s[0] == 'T')
			opt_T = 1;
		else if (n == 5 && !strncmp(s, "nopid", 5))
			opt_pid = 0;
		else if (n == 1 && s[0] == 'Y')
			opt_comm = 1;
		s = e ? e + 1 : 0;
	}
}

static volatile int init_state; /* 0 not yet, 1 running, 2 done */

static void kl_init_now(void)
{
	int saved = errno;
	resolve_all();
	const char *out = getenv("KVM_LENS_CAPTURE_OUT");
	parse_flags(getenv("KVM_LENS_CAPTURE_FLAGS"));
	if (out && *out) {
		/* an absolute path, so that reopening it after the program closed our fd lands in the same file */
		size_t n = 0;
		if (out[0] != '/' && syscall(SYS_getcwd, out_path, sizeof out_path) > 0) {
			n = strlen(out_path);
			if (n + 1 < sizeof out_path && out_path[n - 1] != '/')
				out_path[n++] = '/';
		}
		size_t len = strlen(out);
		if (n + len < sizeof out_path) {
			memcpy(out_path + n, out, len + 1);
			out_fd = raw_open_out();
		} else {
			out_path[0] = 0;
			out_fd = 2;
		}
	} else {
		out_fd = 2;
	}
	pthread_atfork(0, 0, after_fork_child);
	errno = saved;
}

/* once, from the constructor or from the first call that comes before it (another library's constructor) */
static __thread volatile int initializing;

static void kl_init(void)
{
	int expected = 0;
	if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == 2 || initializing)
		return; /* done, or a signal handler interrupted this thread's own initialization */
	if (__atomic_compare_exchange_n(&init_state, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		initializing = 1;
		kl_init_now();
		initializing = 0;
		__atomic_store_n(&init_state, 2, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != 2)
		syscall(SYS_sched_yield);
}

__attribute__((constructor)) static void kl_constructor(void)
{
	kl_init();
}

/* ------------------------------------------------------------------------------------------ */
/* struct printing from the generated layouts                                                  */

static unsigned long long get_field(const unsigned char *base, unsigned off, unsigned size)
{
	unsigned long long v = 0;
	switch (size) {
	case 1: v = base[off]; break;
	case 2: { uint16_t x; memcpy(&x, base + off, 2); v = x; break; }
	case 4: { uint32_t x; memcpy(&x, base + off, 4); v = x; break; }
	case 8: { uint64_t x; memcpy(&x, base + off, 8); v = x; break; }
	}
	return v;
}

static void put_value(struct line *l, unsigned long long v, const struct kl_field *f)
{
	switch (f->fmt) {
	case KL_FMT_HEX: put_hex(l, v); break;
	case KL_FMT_SDEC:
		if (f->elem_size == 4)
			put_sdec(l, (int32_t)(uint32_t)v);
		else if (f->elem_size == 8)
			put_sdec(l, (long long)v);
		else
			put_udec(l, v);
		break;
	case KL_FMT_MEMSLOT_FLAGS: put_flags(l, v, kl_memslot_flags, KL_NMEMSLOT_FLAGS); break;
	case KL_FMT_MEMATTR: put_flags(l, v, kl_mem_attrs, KL_NMEM_ATTRS); break;
	case KL_FMT_GMEM_FLAGS: put_flags(l, v, kl_gmem_flags, KL_NGMEM_FLAGS); break;
	case KL_FMT_CAP: put_cap(l, v); break;
	case KL_FMT_SEV_CMD:
	case KL_FMT_TDX_CMD: {
		const char *name = f->fmt == KL_FMT_SEV_CMD ? lookup(v, kl_sev_cmds, KL_NSEV_CMDS) : lookup(v, kl_tdx_cmds, KL_NTDX_CMDS);
		put_udec(l, v);
		if (name) {
			put(l, " /* ");
			put(l, name);
			put(l, " */");
		}
		break;
	}
	default: put_udec(l, v); break;
	}
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* {a=1, b=0x2, c=[0, 0]}; out_only prints only the fields the kernel writes back */
static void put_struct(struct line *l, const unsigned char *buf, const struct kl_struct *s, int out_only)
{
	int first = 1;
	putc_(l, '{');
	for (unsigned i = 0; i < s->nfields; i++) {
		const struct kl_field *f = &s->fields[i];
		if (out_only && !(f->flags & KL_FIELD_OUT))
			continue;
		size_t total = (size_t)f->elem_size * (f->count ? f->count : 1);
		if ((f->flags & KL_FIELD_OMIT_ZERO) && all_zero(buf + f->offset, total))
			continue;
		if (!first)
			put(l, ", ");
		first = 0;
		put(l, f->name);
		putc_(l, '=');
		if (f->count) {
			putc_(l, '[');
			for (unsigned j = 0; j < f->count; j++) {
				if (j)
					put(l, ", ");
				put_value(l, get_field(buf, f->offset + j * f->elem_size, f->elem_size), f);
			}
			putc_(l, ']');
		} else {
			put_value(l, get_field(buf, f->offset, f->elem_size), f);
		}
	}
	putc_(l, '}');
}

/* ------------------------------------------------------------------------------------------ */
/* ioctl                                                                                        */

static const struct kl_ioctl *find_ioctl(unsigned req)
{
	size_t lo = 0, hi = KL_NIOCTLS;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (kl_ioctls[mid].request == req)
			return &kl_ioctls[mid];
		if (kl_ioctls[mid].request < req)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void put_request(struct line *l, unsigned req, const struct kl_ioctl *io)
{
	if (io) {
		put(l, io->name);
		return;
	}
	static const char *const dirs[4] = { "_IOC_NONE", "_IOC_WRITE", "_IOC_READ", "_IOC_READ|_IOC_WRITE" };
	put(l, "_IOC(");
	put(l, dirs[(req >> 30) & 3]);
	put(l, ", ");
	put_hex(l, (req >> 8) & 0xff);
	put(l, ", ");
	put_hex(l, req & 0xff);
	put(l, ", ");
	put_hex(l, (req >> 16) & 0x3fff);
	putc_(l, ')');
}

static int do_real_ioctl(int fd, unsigned long req, void *arg)
{
	if (real_ioctl)
		return real_ioctl(fd, req, arg);
	long r = syscall(SYS_ioctl, fd, req, arg);
	return (int)r;
}

KL_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);

	unsigned req = (unsigned)request;
	if (((req >> 8) & 0xff) != KL_KVMIO)
		return do_real_ioctl(fd, request, arg);
	if (init_state != 2)
		kl_init();

	int saved = errno;
	const struct kl_ioctl *io = find_ioctl(req);
	int layout = io ? io->layout : -1;
	if (io && io->layout_tdx >= 0) {
		/* SEV and TDX commands share the request: the VM's type says which struct it is */
		int t = vmtype_of(fd);
		layout = t < 0 ? -1 : t == KL_VM_TYPE_TDX ? io->layout_tdx : io->layout;
	}
	const struct kl_struct *st = layout >= 0 ? &kl_structs[layout] : 0;
	unsigned char before[KL_MAX_STRUCT], after[KL_MAX_STRUCT];
	int have_before = 0;
	if (st && (io->mode == KL_MODE_IN || io->mode == KL_MODE_INOUT))
		have_before = read_mem(before, arg, st->size) == 0;
	classify(fd);
	struct timespec wall, t0, t1;
	if (opt_ttt)
		now(&wall);
	if (opt_T)
		mono(&t0);
	errno = saved;

	int ret = do_real_ioctl(fd, request, arg);
	int err = errno;

	if (opt_T)
		mono(&t1);
	int have_after = 0;
	/* after a failure, only when the call reached the vCPU handler that passes the struct back */
	int reached = ret >= 0 || (io && io->after_on_error && have_before &&
				   (kind(fd) == KL_KIND_VCPU || (kind(fd) == KL_KIND_VM && io->layout_tdx >= 0)) &&
				   err != EBADF && err != ENOTTY && err != EIO && err != EFAULT);
	if (st && reached && (io->mode == KL_MODE_INOUT || io->mode == KL_MODE_OUT))
		have_after = read_mem(after, arg, st->size) == 0;

	/* remember what the new fds are */
	if (ret >= 0 && io) {
		if (io->result == KL_RESULT_FD) {
			int k = io->result_kind;
			char p[512];
			if (sys_readlink_fd(ret, p, sizeof p) > 0 && kind_of_label(p) != KL_KIND_NONE)
				k = kind_of_label(p);
			set_kind(ret, k);
			if (io->request == KL_REQ_KVM_CREATE_VM)
				set_vmtype(ret, (int)(uintptr_t)arg);
			else if (io->request == KL_REQ_KVM_CREATE_VCPU)
				set_vmtype(ret, vmtype_of(fd));
		} else if (io->result == KL_RESULT_DEVICE_FD && have_after && st) {
			int dfd = (int)get_field(after, KL_CREATE_DEVICE_FD_OFFSET, 4);
			set_kind(dfd, KL_KIND_OTHER);
		}
	}

	struct line l;
	begin(&l, &wall);
	put(&l, "ioctl(");
	put_fd(&l, fd);
	put(&l, ", ");
	put_request(&l, req, io);
	put(&l, ", ");
	if (st && (have_before || have_after)) {
		if (io->mode == KL_MODE_OUT)
			put_struct(&l, after, st, 0);
		else
			put_struct(&l, before, st, 0);
		if (io->mode == KL_MODE_INOUT && have_after) {
			put(&l, " => ");
			put_struct(&l, after, st, 1);
		}
	} else if (io && io->arg == KL_ARG_CAP) {
		put_cap(&l, (unsigned long long)(uintptr_t)arg);
	} else if (io && io->arg == KL_ARG_VMTYPE) {
		unsigned long long v = (unsigned long long)(uintptr_t)arg;
		const char *name = lookup(v, kl_vm_types, KL_NVM_TYPES);
		put_udec(&l, v);
		if (v && name) {
			put(&l, " /* ");
			put(&l, name);
			put(&l, " */");
		}
	} else if (io && io->arg == KL_ARG_DEC) {
		put_sdec(&l, (long long)(intptr_t)arg);
	} else if (io && io->arg == KL_ARG_HEX) {
		put_hex(&l, (unsigned long long)(uintptr_t)arg);
	} else if (!io && ((req >> 30) & 3) == 0) {
		put_hex(&l, (unsigned long long)(uintptr_t)arg);
	} else {
		put_ptr(&l, arg);
	}
	equals(&l);
	if (ret < 0) {
		put_errno(&l, err);
	} else if (io && (io->result == KL_RESULT_FD)) {
		put_fd(&l, ret);
	} else {
		put_sdec(&l, ret);
	}
	uint32_t reason;
	/* read through process_vm_readv: a mapping removed behind our back (raw munmap) must not crash the VMM */
	if (ret == 0 && io && io->request == KL_REQ_KVM_RUN && fd >= 0 && fd < KL_MAXFD && run_map[fd] &&
	    run_len[fd] >= KL_RUN_EXIT_REASON_OFFSET + 4 &&
	    read_mem(&reason, (const char *)run_map[fd] + KL_RUN_EXIT_REASON_OFFSET, 4) == 0) {
		const char *name = lookup(reason, kl_exit_reasons, KL_NEXIT_REASONS);
		put(&l, " (");
		if (name) {
			put(&l, name);
		} else {
			put(&l, "KVM_EXIT_");
			put_udec(&l, reason);
		}
		putc_(&l, ')');
	}
	if (opt_T)
		put_duration(&l, &t0, &t1);
	emit(&l);
	errno = err;
	return ret;
}

/* ------------------------------------------------------------------------------------------ */
/* open: only /dev/kvm is written out                                                          */

static int looks_like_kvm(const char *path)
{
	if (!path)
		return 0;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	return !strcmp(base, "kvm");
}

static void put_open_flags(struct line *l, int flags)
{
	static const struct kl_named names[] = {
		{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" }, { O_TRUNC, "O_TRUNC" },
		{ O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" }, { O_DSYNC, "O_DSYNC" }, { O_DIRECT, "O_DIRECT" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
		{ O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" },
	};
	int acc = flags & O_ACCMODE;
	put(l, acc == O_RDONLY ? "O_RDONLY" : acc == O_WRONLY ? "O_WRONLY" : acc == O_RDWR ? "O_RDWR" : "O_ACCMODE");
	unsigned long long rest = (unsigned long long)(unsigned)(flags & ~O_ACCMODE);
#ifdef O_LARGEFILE
	rest &= ~(unsigned long long)O_LARGEFILE;
#endif
	if (rest) {
		putc_(l, '|');
		put_flags(l, rest, names, sizeof names / sizeof names[0]);
	}
}

static void after_open(int dirfd, const char *path, int flags, int ret, int err)
{
	if (ret < 0 && err == EFAULT)
		return; /* the path itself is unreadable */
	if (!looks_like_kvm(path))
		return;
	if (ret >= 0) {
		char p[512];
		int k = sys_readlink_fd(ret, p, sizeof p) > 0 ? kind_of_label(p) : KL_KIND_NONE;
		set_kind(ret, k);
		if (k != KL_KIND_SYSTEM) {
			return;
		}
	}
	struct line l;
	struct timespec wall;
	if (opt_ttt)
		now(&wall);
	begin(&l, &wall);
	put(&l, "openat(");
	if (dirfd == AT_FDCWD)
		put(&l, "AT_FDCWD");
	else
		put_fd(&l, dirfd);
	put(&l, ", ");
	put_cstring(&l, path);
	put(&l, ", ");
	put_open_flags(&l, flags);
	equals(&l);
	if (ret < 0)
		put_errno(&l, err);
	else
		put_fd(&l, ret);
	emit(&l);
}

static int open_common(open_fn fn, long nr_fallback, const char *path, int flags, mode_t mode)
{
	int ret = fn ? fn(path, flags, mode) : (int)syscall(nr_fallback, AT_FDCWD, path, flags, mode);
	int err = errno;
	after_open(AT_FDCWD, path, flags, ret, err);
	errno = err;
	return ret;
}

static int need_mode(int flags)
{
#ifdef O_TMPFILE
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return 1;
#endif
	return (flags & O_CREAT) != 0;
}

KL_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (need_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open_common(real_open, SYS_openat, path, flags, mode);
}

KL_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (need_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open_common(real_open64 ? real_open64 : real_open, SYS_openat, path, flags, mode);
}

static int openat_common(openat_fn fn, int dirfd, const char *path, int flags, mode_t mode)
{
	int ret = fn ? fn(dirfd, path, flags, mode) : (int)syscall(SYS_openat, dirfd, path, flags, mode);
	int err = errno;
	after_open(dirfd, path, flags, ret, err);
	errno = err;
	return ret;
}

KL_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (need_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return openat_common(real_openat, dirfd, path, flags, mode);
}

KL_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (need_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return openat_common(real_openat64 ? real_openat64 : real_openat, dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE variants */
KL_EXPORT int __open_2(const char *path, int flags)
{
	int ret = real___open_2 ? real___open_2(path, flags) : (int)syscall(SYS_openat, AT_FDCWD, path, flags, 0);
	int err = errno;
	after_open(AT_FDCWD, path, flags, ret, err);
	errno = err;
	return ret;
}

KL_EXPORT int __open64_2(const char *path, int flags)
{
	int ret = real___open64_2 ? real___open64_2(path, flags) : (int)syscall(SYS_openat, AT_FDCWD, path, flags, 0);
	int err = errno;
	after_open(AT_FDCWD, path, flags, ret, err);
	errno = err;
	return ret;
}

KL_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	int ret = real___openat_2 ? real___openat_2(dirfd, path, flags) : (int)syscall(SYS_openat, dirfd, path, flags, 0);
	int err = errno;
	after_open(dirfd, path, flags, ret, err);
	errno = err;
	return ret;
}

KL_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	int ret = real___openat64_2 ? real___openat64_2(dirfd, path, flags) : (int)syscall(SYS_openat, dirfd, path, flags, 0);
	int err = errno;
	after_open(dirfd, path, flags, ret, err);
	errno = err;
	return ret;
}

/* ------------------------------------------------------------------------------------------ */
/* close, dup: written out only for KVM fds, so that a reader knows when a number is reused    */

static void simple_line(const char *name, const int *fds, int nfds, const char *extra, int ret, int err, int result_is_fd)
{
	struct line l;
	struct timespec wall;
	if (opt_ttt)
		now(&wall);
	begin(&l, &wall);
	put(&l, name);
	putc_(&l, '(');
	for (int i = 0; i < nfds; i++) {
		if (i)
			put(&l, ", ");
		put_fd(&l, fds[i]);
	}
	if (extra) {
		put(&l, ", ");
		put(&l, extra);
	}
	equals(&l);
	if (ret < 0)
		put_errno(&l, err);
	else if (result_is_fd)
		put_fd(&l, ret);
	else
		put_sdec(&l, ret);
	emit(&l);
}

KL_EXPORT int close(int fd)
{
	int k = fd == out_fd ? KL_KIND_NONE : kind(fd);
	char label[512];
	int have_label = 0;
	if (is_kvm_kind(k) && opt_paths)
		have_label = sys_readlink_fd(fd, label, sizeof label) > 0;
	int ret = real_close ? real_close(fd) : (int)syscall(SYS_close, fd);
	int err = errno;
	if (ret == 0 || err == EINTR)
		set_kind(fd, KL_KIND_UNKNOWN);
	if (is_kvm_kind(k)) {
		struct line l;
		struct timespec wall;
		if (opt_ttt)
			now(&wall);
		begin(&l, &wall);
		put(&l, "close(");
		put_sdec(&l, fd);
		if (have_label) {
			putc_(&l, '<');
			put_path(&l, label);
			putc_(&l, '>');
		}
		equals(&l);
		if (ret < 0)
			put_errno(&l, err);
		else
			put_sdec(&l, ret);
		emit(&l);
	}
	errno = err;
	return ret;
}

/* close_range(2) and closefrom(3): forget the fds closed; write a line when KVM fds were among them */
static int forget_range(unsigned first, unsigned last)
{
	int any = 0;
	for (unsigned fd = first; fd <= last && fd < KL_MAXFD; fd++) {
		if (fd_kind[fd] == KL_KIND_UNKNOWN)
			continue;
		if (is_kvm_kind(fd_kind[fd]))
			any = 1;
		set_kind((int)fd, KL_KIND_UNKNOWN);
	}
	return any;
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

KL_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
#ifdef SYS_close_range
	int ret = real_close_range ? real_close_range(first, last, flags) : (int)syscall(SYS_close_range, first, last, flags);
#else
	int ret = real_close_range ? real_close_range(first, last, flags) : (errno = ENOSYS, -1);
#endif
	int err = errno;
	/* with CLOSE_RANGE_CLOEXEC nothing is closed now */
	if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC) && forget_range(first, last)) {
		struct line l;
		struct timespec wall;
		if (opt_ttt)
			now(&wall);
		begin(&l, &wall);
		put(&l, "close_range(");
		put_udec(&l, first);
		put(&l, ", ");
		put_udec(&l, last);
		put(&l, ", ");
		put_hex(&l, (unsigned)flags);
		equals(&l);
		put_sdec(&l, ret);
		emit(&l);
	}
	errno = err;
	return ret;
}

KL_EXPORT void closefrom(int lowfd)
{
	int err = errno;
	int any = lowfd >= 0 && forget_range((unsigned)lowfd, KL_MAXFD - 1);
	if (real_closefrom)
		real_closefrom(lowfd);
#ifdef SYS_close_range
	else
		syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0);
#endif
	if (any) {
		/* closefrom() is close_range(lowfd, ~0U, 0) underneath, as strace shows it */
		struct line l;
		struct timespec wall;
		if (opt_ttt)
			now(&wall);
		begin(&l, &wall);
		put(&l, "close_range(");
		put_udec(&l, (unsigned)lowfd);
		put(&l, ", ");
		put_udec(&l, ~0U);
		put(&l, ", 0");
		equals(&l);
		put_sdec(&l, 0);
		emit(&l);
	}
	errno = err;
}

static void after_dup(const char *name, int oldfd, int newfd_arg, const char *extra, int ret, int err, int nargs,
		      int old_kind, int new_kind_before)
{
	if (ret >= 0 && ret != oldfd) {
		int t = vmtype_of(oldfd);
		set_kind(ret, old_kind == KL_KIND_UNKNOWN ? KL_KIND_UNKNOWN : old_kind);
		set_vmtype(ret, t);
	}
	if (!is_kvm_kind(old_kind) && !is_kvm_kind(new_kind_before))
		return;
	int fds[2] = { oldfd, newfd_arg };
	simple_line(name, fds, nargs, extra, ret, err, 1);
}

KL_EXPORT int dup(int oldfd)
{
	int ret = real_dup ? real_dup(oldfd) : (int)syscall(SYS_dup, oldfd);
	int err = errno;
	{
		after_dup("dup", oldfd, -1, 0, ret, err, 1, kind(oldfd), KL_KIND_NONE);
	}
	errno = err;
	return ret;
}

KL_EXPORT int dup2(int oldfd, int newfd)
{
	int before = kind(newfd);
	if (newfd == out_fd && out_fd >= 0 && oldfd != newfd) {
		/* the program wants our fd number: move our output away first */
		int hi = (int)syscall(SYS_fcntl, out_fd, F_DUPFD_CLOEXEC, newfd + 1);
		if (hi >= 0)
			out_fd = hi;
	}
	int ret = real_dup2 ? real_dup2(oldfd, newfd) : (int)syscall(SYS_dup3, oldfd, newfd, 0);
	int err = errno;
	{
		after_dup("dup2", oldfd, newfd, 0, ret, err, 2, kind(oldfd), before);
	}
	errno = err;
	return ret;
}

KL_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int before = kind(newfd);
	if (newfd == out_fd && out_fd >= 0 && oldfd != newfd) {
		int hi = (int)syscall(SYS_fcntl, out_fd, F_DUPFD_CLOEXEC, newfd + 1);
		if (hi >= 0)
			out_fd = hi;
	}
	int ret = real_dup3 ? real_dup3(oldfd, newfd, flags) : (int)syscall(SYS_dup3, oldfd, newfd, flags);
	int err = errno;
	{
		after_dup("dup3", oldfd, newfd, flags & O_CLOEXEC ? "O_CLOEXEC" : "0", ret, err, 2, kind(oldfd), before);
	}
	errno = err;
	return ret;
}

static int fcntl_common(fcntl_fn fn, int fd, int cmd, va_list ap)
{
	/* every fcntl command takes at most one argument, an int or a pointer */
	void *arg = va_arg(ap, void *);
	int ret = fn ? fn(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);
	int err = errno;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		int k = kind(fd);
		if (ret >= 0) {
			int t = vmtype_of(fd);
			set_kind(ret, k);
			set_vmtype(ret, t);
		}
		if (is_kvm_kind(k)) {
			struct line l;
			struct timespec wall;
			if (opt_ttt)
				now(&wall);
			begin(&l, &wall);
			put(&l, "fcntl(");
			put_fd(&l, fd);
			put(&l, cmd == F_DUPFD ? ", F_DUPFD, " : ", F_DUPFD_CLOEXEC, ");
			put_sdec(&l, (int)(intptr_t)arg);
			equals(&l);
			if (ret < 0)
				put_errno(&l, err);
			else
				put_fd(&l, ret);
			emit(&l);
		}
	}
	errno = err;
	return ret;
}

KL_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	int r = fcntl_common(real_fcntl, fd, cmd, ap);
	va_end(ap);
	return r;
}

KL_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	int r = fcntl_common(real_fcntl64 ? real_fcntl64 : real_fcntl, fd, cmd, ap);
	va_end(ap);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* mmap of a vCPU fd: where its struct kvm_run lives (for KVM_RUN's exit reason)                */

static void note_mmap(void *p, size_t len, int fd, off_t off)
{
	if (p == MAP_FAILED || fd < 0 || fd >= KL_MAXFD || off != 0)
		return;
	if (fd_kind[fd] == KL_KIND_VCPU) {
		run_map[fd] = p;
		run_len[fd] = len;
		if (fd > run_hi)
			run_hi = fd;
	}
}

KL_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = real_mmap ? real_mmap(addr, len, prot, flags, fd, off)
			    : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	if (fd >= 0) {
		int err = errno;
		note_mmap(p, len, fd, off);
		errno = err;
	}
	return p;
}

KL_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	mmap_fn fn = real_mmap64 ? real_mmap64 : real_mmap;
	void *p = fn ? fn(addr, len, prot, flags, fd, off) : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	if (fd >= 0) {
		int err = errno;
		note_mmap(p, len, fd, off);
		errno = err;
	}
	return p;
}

KL_EXPORT int munmap(void *addr, size_t len)
{
	/* forget a kvm_run mapping before it goes away */
	char *a = addr;
	for (int fd = 0; fd <= run_hi && len; fd++) {
		char *m = run_map[fd];
		if (m && m >= a && m < a + len)
			run_map[fd] = 0;
	}
	return real_munmap ? real_munmap(addr, len) : (int)syscall(SYS_munmap, addr, len);
}
