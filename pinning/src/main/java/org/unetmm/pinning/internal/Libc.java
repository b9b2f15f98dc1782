package org.unetmm.pinning.internal;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import org.unetmm.pinning.KernelException;
import org.unetmm.pinning.MemlockLimitException;
import org.unetmm.pinning.PinPermissionException;
import org.unetmm.pinning.ProcessStatus;

/**
 * Every native call of the project, declared once ({@link LibcBinding}) and wrapped once here:
 * a failing call raises a {@link KernelException} naming the call and its errno, and the errno
 * values a caller must act on become their own types ({@link MemlockLimitException} for
 * {@code ENOMEM}/{@code EAGAIN} from {@code mlock}, {@link PinPermissionException} for
 * {@code EPERM}). Nothing else in the project touches JNR-FFI.
 *
 * <p>Internal: the pinning module and the project's own wires (nic-backend's udp) call it; an
 * application pins through {@link org.unetmm.pinning.PinCache} and allocates through
 * {@link org.unetmm.pinning.NativeMemory}, whose accounting a raw {@code mlock} here would bypass.
 *
 * <p>Linux only: the constants below are the x86-64/aarch64 values from the kernel headers.
 */
public final class Libc {
    public static final int PROT_NONE = 0x0;
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MADV_DONTNEED = 4;
    /** madvise(2): free the range's backing store (a shared tmpfs or memfd mapping stays valid, reading zeros). */
    public static final int MADV_REMOVE = 9;
    public static final int RLIMIT_MEMLOCK = 8;
    /** RLIM_INFINITY as a signed long (all ones). */
    public static final long RLIM_INFINITY = -1L;
    private static final int SC_PAGESIZE = 30;
    private static final long MAP_FAILED = -1L;

    private static final LibcBinding C = load();
    private static final Runtime RUNTIME = Runtime.getRuntime(C);
    private static final long PAGE_SIZE = C.sysconf(SC_PAGESIZE);

    /** The RLIMIT_MEMLOCK soft and hard limits in bytes; {@link #RLIM_INFINITY} means unlimited. */
    public record Rlimit(long soft, long hard) {
        public boolean softUnlimited() {
            return soft == RLIM_INFINITY;
        }
    }

    private Libc() {
    }

    /**
     * Loads the binding. Its interface carries jnr-ffi's {@code @NoX86}: in jnr-ffi 2.2.17 and 2.3.4 alike the x86-64
     * assembler stub reads the 6th integer argument from the return-address slot ({@code X86_64StubCompiler}:
     * {@code disp = 8 + ((4 - i) * 8)}), so {@code mmap}'s offset and {@code process_vm_readv}'s flags arrive as
     * garbage and the calls fail with EINVAL. The annotation turns those stubs off for this binding alone (jffi's
     * generic invokers pass every argument right); the JVM-wide {@code jnr.ffi.x86asm.enabled} is left to the
     * application.
     */
    private static LibcBinding load() {
        return LibraryLoader.create(LibcBinding.class).load("c");
    }

    /** The binding itself, for the project's own transports (nic-backend) that need sendmsg/recvmsg. */
    public static LibcBinding binding() {
        return C;
    }

    /** errno left by the last call of this thread. */
    public static int lastErrno() {
        return RUNTIME.getLastError();
    }

    public static long pageSize() {
        return PAGE_SIZE;
    }

    /** mlock(2): lock the pages of [address, address+length) into RAM. */
    public static void mlock(long address, long length) {
        if (C.mlock(address, length) != 0) {
            int errno = lastErrno();
            String range = "locking " + length + " bytes at 0x" + Long.toHexString(address);
            switch (errno) {
                case Errno.ENOMEM, Errno.EAGAIN -> {
                    Rlimit limit = memlockLimit();
                    throw new MemlockLimitException("mlock", errno, length,
                            limit.softUnlimited() ? -1 : limit.soft(),
                            range + " would pass RLIMIT_MEMLOCK (soft limit "
                                    + (limit.softUnlimited() ? "unlimited" : limit.soft() + " bytes")
                                    + ", currently locked " + ProcessStatus.vmLckBytes()
                                    + " bytes) or the range is not mapped; raise the limit (prlimit --memlock)"
                                    + " or configure a smaller PinBudget");
                }
                case Errno.EPERM -> throw new PinPermissionException("mlock", errno,
                        range + ": the process lacks CAP_IPC_LOCK and its RLIMIT_MEMLOCK is 0;"
                                + " give it a memlock limit or use the FIXED_SEGMENT path");
                default -> throw new KernelException("mlock", errno, range);
            }
        }
    }

    /** munlock(2). The kernel does not count locks: one munlock undoes any number of mlocks. */
    public static void munlock(long address, long length) {
        if (C.munlock(address, length) != 0) {
            throw new KernelException("munlock", lastErrno(),
                    "unlocking " + length + " bytes at 0x" + Long.toHexString(address));
        }
    }

    public static void madvise(long address, long length, int advice) {
        if (C.madvise(address, length, advice) != 0) {
            throw new KernelException("madvise", lastErrno(), "advice " + advice + " on " + length + " bytes");
        }
    }

    /** Anonymous mapping of {@code length} bytes; returns its (page-aligned) address. */
    public static long mmapAnonymous(long length, int prot) {
        long address = C.mmap(0, length, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (address == MAP_FAILED) {
            throw new KernelException("mmap", lastErrno(), "mapping " + length + " anonymous bytes");
        }
        return address;
    }

    public static void munmap(long address, long length) {
        if (C.munmap(address, length) != 0) {
            throw new KernelException("munmap", lastErrno(),
                    "unmapping " + length + " bytes at 0x" + Long.toHexString(address));
        }
    }

    public static void mprotect(long address, long length, int prot) {
        if (C.mprotect(address, length, prot) != 0) {
            throw new KernelException("mprotect", lastErrno(),
                    "protecting " + length + " bytes at 0x" + Long.toHexString(address) + " as " + prot);
        }
    }

    /** getrlimit(RLIMIT_MEMLOCK). */
    public static Rlimit memlockLimit() {
        long[] limit = new long[2];
        if (C.getrlimit(RLIMIT_MEMLOCK, limit) != 0) {
            throw new KernelException("getrlimit", lastErrno(), "reading RLIMIT_MEMLOCK");
        }
        return new Rlimit(limit[0], limit[1]);
    }

    public static int getpid() {
        return C.getpid();
    }

    /** prctl option of Yama (include/uapi/linux/prctl.h: 'Yama'), and its "any process" argument ((unsigned long) -1). */
    public static final int PR_SET_PTRACER = 0x59616d61;
    public static final long PR_SET_PTRACER_ANY = -1L;

    /**
     * prctl(PR_SET_PTRACER, {@code tracer}): under Yama ptrace_scope 1, lets {@code tracer} (a pid, or
     * {@link #PR_SET_PTRACER_ANY}: any process of this user) read this process with
     * {@code process_vm_readv}, as Open MPI's vader BTL does for CMA. Returns 0 or {@code -errno}:
     * {@code EINVAL} where Yama is not built in (the option is unknown), which the caller expects.
     */
    public static int setPtracer(long tracer) {
        return C.prctl(PR_SET_PTRACER, tracer, 0, 0, 0) == 0 ? 0 : -lastErrno();
    }

    /**
     * process_vm_readv(2) on the data path (the shm wire's rendezvous): reads from {@code pid}'s
     * memory as {@code remoteCount} iovecs at {@code remoteIov} describe it into the
     * {@code localCount} local iovecs at {@code localIov}. Returns the bytes read, or {@code -errno}
     * ({@code EFAULT}, {@code ESRCH}, {@code EPERM}, {@code EINVAL}, {@code ENOMEM}, {@code ENOSYS}):
     * the remote side is another process's word, so no outcome throws.
     */
    public static long processVmReadv(int pid, long localIov, long localCount, long remoteIov, long remoteCount) {
        long read = C.process_vm_readv(pid, localIov, localCount, remoteIov, remoteCount, 0);
        return read >= 0 ? read : -lastErrno();
    }

    // ---- sockets, for the udp wire (nic-backend) ------------------------------------------------

    public static final int AF_INET = 2;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_SNDBUFFORCE = 32;
    public static final int SO_RCVBUFFORCE = 33;
    public static final int SO_BUSY_POLL = 46;
    public static final int MSG_PEEK = 0x2;
    public static final int MSG_TRUNC = 0x20;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int POLLIN = 0x1;
    /** errno values a datagram socket reports that {@link Errno} does not name. */
    public static final int ENETUNREACH = 101;
    public static final int EADDRINUSE = 98;
    public static final int EADDRNOTAVAIL = 99;
    public static final int EHOSTUNREACH = 113;

    /** socket(2): a non-blocking, close-on-exec IPv4 UDP socket; returns its descriptor. */
    public static int udpSocket() {
        int fd = C.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new KernelException("socket", lastErrno(), "opening a UDP socket; the process may be out of file"
                    + " descriptors (ulimit -n)");
        }
        return fd;
    }

    /** bind(2) to a sockaddr laid out by the caller; {@code what} names the address for the error. */
    public static void bind(int fd, byte[] sockaddr, String what) {
        if (C.bind(fd, sockaddr, sockaddr.length) != 0) {
            int errno = lastErrno();
            String fix = switch (errno) {
                case EADDRINUSE -> ": the port is in use; choose another port, or port 0 for an ephemeral one";
                case EADDRNOTAVAIL -> ": no interface of this host (or network namespace) has that address;"
                        + " bind to one of its addresses, 127.0.0.1 or 0.0.0.0";
                case Errno.EACCES -> ": ports below 1024 need CAP_NET_BIND_SERVICE; choose a port >= 1024";
                default -> "";
            };
            throw new KernelException("bind", errno, "binding to " + what + fix);
        }
    }

    /** setsockopt(2) with an int value. */
    public static void setsockopt(int fd, int level, int option, int value) {
        if (C.setsockopt(fd, level, option, new int[] {value}, 4) != 0) {
            throw new KernelException("setsockopt", lastErrno(), "option " + option + " at level " + level + " = " + value);
        }
    }

    /** setsockopt(2) with an int value; false (no exception) when the kernel refuses it. */
    public static boolean trySetsockopt(int fd, int level, int option, int value) {
        return C.setsockopt(fd, level, option, new int[] {value}, 4) == 0;
    }

    /** getsockopt(2) of an int option. */
    public static int getsockoptInt(int fd, int level, int option) {
        int[] value = new int[1];
        int[] length = {4};
        if (C.getsockopt(fd, level, option, value, length) != 0) {
            throw new KernelException("getsockopt", lastErrno(), "option " + option + " at level " + level);
        }
        return value[0];
    }

    /** getsockname(2) into native memory: {@code address} of a sockaddr buffer, {@code lengthAddress} of its socklen_t. */
    public static void getsockname(int fd, long address, long lengthAddress) {
        if (C.getsockname(fd, address, lengthAddress) != 0) {
            throw new KernelException("getsockname", lastErrno(), "reading the bound address of socket " + fd);
        }
    }

    /**
     * sendmsg(2) on the data path: bytes sent, or {@code -errno} for the outcomes a datagram socket
     * is expected to report ({@code EAGAIN} = back-pressure, {@code EINTR}, {@code ENOBUFS},
     * {@code EMSGSIZE}, {@code EPERM} from a firewall, unreachable network or host, refused port),
     * so the hot path throws nothing. Any other errno is a bug in the caller's msghdr and throws.
     */
    public static long sendmsg(int fd, long msghdr, int flags) {
        long sent = C.sendmsg(fd, msghdr, flags);
        if (sent >= 0) {
            return sent;
        }
        return -sendFailure("sendmsg", fd);
    }

    /**
     * recvmsg(2) on the data path: bytes received (with {@code MSG_TRUNC}: the datagram's real
     * length), or {@code -errno} for {@code EAGAIN} (nothing queued), {@code EINTR} and a refused
     * port reported by ICMP. Any other errno throws.
     */
    public static long recvmsg(int fd, long msghdr, int flags) {
        long received = C.recvmsg(fd, msghdr, flags);
        if (received >= 0) {
            return received;
        }
        return -receiveFailure("recvmsg", fd);
    }

    /**
     * sendmmsg(2) on the data path: how many of the {@code count} mmsghdrs at {@code msgvec} were
     * sent (each one's {@code msg_len} filled in by the kernel), or {@code -errno} when the first
     * could not be, for the outcomes {@link #sendmsg} returns as values. The kernel stops at the
     * first datagram that fails and reports it on the next call, so a short count is not an error.
     */
    public static int sendmmsg(int fd, long msgvec, int count, int flags) {
        int sent = C.sendmmsg(fd, msgvec, count, flags);
        if (sent >= 0) {
            return sent;
        }
        return -sendFailure("sendmmsg", fd);
    }

    /**
     * recvmmsg(2) on the data path, without its timeout (it is only checked after a datagram
     * arrives; see BUGS in the man page): datagrams received into the {@code count} mmsghdrs at
     * {@code msgvec} (each one's {@code msg_len} and {@code msg_flags} filled in), or {@code -errno}
     * as {@link #recvmsg}.
     */
    public static int recvmmsg(int fd, long msgvec, int count, int flags) {
        int received = C.recvmmsg(fd, msgvec, count, flags, 0);
        if (received >= 0) {
            return received;
        }
        return -receiveFailure("recvmmsg", fd);
    }

    /**
     * recv(2) into native memory on the data path: bytes received (with {@code MSG_TRUNC}: the
     * datagram's real length), or {@code -errno} as {@link #recvmsg}.
     */
    public static long recv(int fd, long buffer, long length, int flags) {
        long received = C.recv(fd, buffer, length, flags);
        if (received >= 0) {
            return received;
        }
        return -receiveFailure("recv", fd);
    }

    /** The errno of a failed send that a datagram socket reports as an outcome; any other throws. */
    private static int sendFailure(String call, int fd) {
        int errno = lastErrno();
        return switch (errno) {
            case Errno.EAGAIN, Errno.EINTR, Errno.ENOBUFS, Errno.EMSGSIZE, Errno.EPERM, Errno.ECONNREFUSED,
                 ENETUNREACH, EHOSTUNREACH -> errno;
            default -> throw new KernelException(call, errno, "sending on socket " + fd);
        };
    }

    /** The errno of a failed receive that is an outcome (nothing queued, a signal, an ICMP refusal); any other throws. */
    private static int receiveFailure(String call, int fd) {
        int errno = lastErrno();
        return switch (errno) {
            case Errno.EAGAIN, Errno.EINTR, Errno.ECONNREFUSED -> errno;
            default -> throw new KernelException(call, errno, "receiving on socket " + fd);
        };
    }

    /** ppoll(2) over pollfd structs in native memory, waiting at most the timespec at {@code timeout}; ready count or -EINTR. */
    public static int ppoll(long fds, int count, long timeout) {
        int ready = C.ppoll(fds, count, timeout, 0);
        if (ready >= 0) {
            return ready;
        }
        int errno = lastErrno();
        if (errno == Errno.EINTR) {
            return -errno;
        }
        throw new KernelException("ppoll", errno, "waiting on " + count + " descriptors");
    }

    /** close(2) of a descriptor this process opened. */
    public static void close(int fd) {
        if (C.close(fd) != 0) {
            throw new KernelException("close", lastErrno(), "closing descriptor " + fd);
        }
    }
}
