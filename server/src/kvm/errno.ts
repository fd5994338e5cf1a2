/**
 * Linux errno names, numbers (x86_64/asm-generic) and the texts strace prints for them (glibc's strerror;
 * kernel-internal ERESTART* and ENOTSUPP as strace spells them).
 */
export interface ErrnoInfo {
  name: string;
  number: number;
  text: string;
  /** only seen as `= ? ERESTARTSYS (...)` or leaked kernel-internal values, never by a finished call */
  internal?: boolean;
}

const rows: [string, number, string][] = [
  ['EPERM', 1, 'Operation not permitted'],
  ['ENOENT', 2, 'No such file or directory'],
  ['ESRCH', 3, 'No such process'],
  ['EINTR', 4, 'Interrupted system call'],
  ['EIO', 5, 'Input/output error'],
  ['ENXIO', 6, 'No such device or address'],
  ['E2BIG', 7, 'Argument list too long'],
  ['ENOEXEC', 8, 'Exec format error'],
  ['EBADF', 9, 'Bad file descriptor'],
  ['ECHILD', 10, 'No child processes'],
  ['EAGAIN', 11, 'Resource temporarily unavailable'],
  ['ENOMEM', 12, 'Cannot allocate memory'],
  ['EACCES', 13, 'Permission denied'],
  ['EFAULT', 14, 'Bad address'],
  ['ENOTBLK', 15, 'Block device required'],
  ['EBUSY', 16, 'Device or resource busy'],
  ['EEXIST', 17, 'File exists'],
  ['EXDEV', 18, 'Invalid cross-device link'],
  ['ENODEV', 19, 'No such device'],
  ['ENOTDIR', 20, 'Not a directory'],
  ['EISDIR', 21, 'Is a directory'],
  ['EINVAL', 22, 'Invalid argument'],
  ['ENFILE', 23, 'Too many open files in system'],
  ['EMFILE', 24, 'Too many open files'],
  ['ENOTTY', 25, 'Inappropriate ioctl for device'],
  ['ETXTBSY', 26, 'Text file busy'],
  ['EFBIG', 27, 'File too large'],
  ['ENOSPC', 28, 'No space left on device'],
  ['ESPIPE', 29, 'Illegal seek'],
  ['EROFS', 30, 'Read-only file system'],
  ['EMLINK', 31, 'Too many links'],
  ['EPIPE', 32, 'Broken pipe'],
  ['EDOM', 33, 'Numerical argument out of domain'],
  ['ERANGE', 34, 'Numerical result out of range'],
  ['EDEADLK', 35, 'Resource deadlock avoided'],
  ['ENAMETOOLONG', 36, 'File name too long'],
  ['ENOLCK', 37, 'No locks available'],
  ['ENOSYS', 38, 'Function not implemented'],
  ['ENOTEMPTY', 39, 'Directory not empty'],
  ['ELOOP', 40, 'Too many levels of symbolic links'],
  ['ENOMSG', 42, 'No message of desired type'],
  ['EIDRM', 43, 'Identifier removed'],
  ['ENOSTR', 60, 'Device not a stream'],
  ['ENODATA', 61, 'No data available'],
  ['ETIME', 62, 'Timer expired'],
  ['EREMOTE', 66, 'Object is remote'],
  ['ENOLINK', 67, 'Link has been severed'],
  ['EPROTO', 71, 'Protocol error'],
  ['EBADMSG', 74, 'Bad message'],
  ['EOVERFLOW', 75, 'Value too large for defined data type'],
  ['EBADFD', 77, 'File descriptor in bad state'],
  ['EILSEQ', 84, 'Invalid or incomplete multibyte or wide character'],
  ['EUSERS', 87, 'Too many users'],
  ['ENOTSOCK', 88, 'Socket operation on non-socket'],
  ['EMSGSIZE', 90, 'Message too long'],
  ['EPROTONOSUPPORT', 93, 'Protocol not supported'],
  ['EOPNOTSUPP', 95, 'Operation not supported'],
  ['EAFNOSUPPORT', 97, 'Address family not supported by protocol'],
  ['EADDRINUSE', 98, 'Address already in use'],
  ['ENETDOWN', 100, 'Network is down'],
  ['ENOBUFS', 105, 'No buffer space available'],
  ['ENOTCONN', 107, 'Transport endpoint is not connected'],
  ['ETIMEDOUT', 110, 'Connection timed out'],
  ['ECONNREFUSED', 111, 'Connection refused'],
  ['EHOSTUNREACH', 113, 'No route to host'],
  ['EALREADY', 114, 'Operation already in progress'],
  ['EINPROGRESS', 115, 'Operation now in progress'],
  ['ESTALE', 116, 'Stale file handle'],
  ['EREMOTEIO', 121, 'Remote I/O error'],
  ['EDQUOT', 122, 'Disk quota exceeded'],
  ['ENOMEDIUM', 123, 'No medium found'],
  ['ECANCELED', 125, 'Operation canceled'],
  ['ENOKEY', 126, 'Required key not available'],
  ['EKEYREJECTED', 129, 'Key was rejected by service'],
  ['EOWNERDEAD', 130, 'Owner died'],
  ['ENOTRECOVERABLE', 131, 'State not recoverable'],
  ['ERFKILL', 132, 'Operation not possible due to RF-kill'],
  ['EHWPOISON', 133, 'Memory page has hardware error'],
  ['ERESTARTSYS', 512, 'To be restarted if SA_RESTART is set'],
  ['ERESTARTNOINTR', 513, 'To be restarted'],
  ['ERESTARTNOHAND', 514, 'To be restarted if no handler'],
  ['ENOIOCTLCMD', 515, 'No ioctl command'],
  ['ERESTART_RESTARTBLOCK', 516, 'Interrupted by signal'],
  ['EBADHANDLE', 521, 'Bad NFS file handle'],
  ['ENOTSUPP', 524, 'Operation not supported'],
];

export const ERRNOS: ReadonlyMap<string, ErrnoInfo> = new Map(
  rows.map(([name, number, text]) => [name, { name, number, text, internal: number >= 512 || undefined }]),
);

/** Other names for the same numbers. */
export const ERRNO_ALIASES: ReadonlyMap<string, string> = new Map([
  ['EWOULDBLOCK', 'EAGAIN'],
  ['EDEADLOCK', 'EDEADLK'],
  ['ENOTSUP', 'EOPNOTSUPP'],
]);

const byNumber = new Map<number, ErrnoInfo>([...ERRNOS.values()].map((e) => [e.number, e]));

export function errnoByName(name: string): ErrnoInfo | undefined {
  return ERRNOS.get(ERRNO_ALIASES.get(name) ?? name);
}

export function errnoByNumber(n: number): ErrnoInfo | undefined {
  return byNumber.get(Math.abs(n));
}
