package org.unetmm.pinning;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import org.unetmm.pinning.internal.LibcBinding;

/**
 * Every native call of the project, declared once ({@link LibcBinding}) and wrapped once here:
 * a failing call raises a {@link KernelException} naming the call and its errno, and the errno
 * values a caller must act on become their own types ({@link MemlockLimitException} for
 * {@code ENOMEM}/{@code EAGAIN} from {@code mlock}, {@link PinPermissionException} for
 * {@code EPERM}). Nothing else in the project touches JNR-FFI.
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
    public static final int RLIMIT_MEMLOCK = 8;
    /** RLIM_INFINITY as a signed long (all ones). */
    public static final long RLIM_INFINITY = -1L;
    private static final int SC_PAGESIZE = 30;
    private static final long MAP_FAILED = -1L;

    private static final LibcBinding C = LibraryLoader.create(LibcBinding.class).load("c");
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
}
