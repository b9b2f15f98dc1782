package org.unetmm.pinning.internal;

/**
 * The Linux errno values the project names (x86-64 and aarch64 share them). Internal: a caller of
 * the public API reads {@link org.unetmm.pinning.KernelException#errno()} and
 * {@link org.unetmm.pinning.KernelException#errnoName()}.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EINVAL = 22;
    public static final int EMSGSIZE = 90;
    public static final int ENOBUFS = 105;
    public static final int ECONNREFUSED = 111;

    private Errno() {
    }

    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EINTR -> "EINTR";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES";
            case EFAULT -> "EFAULT";
            case EINVAL -> "EINVAL";
            case EMSGSIZE -> "EMSGSIZE";
            case ENOBUFS -> "ENOBUFS";
            case ECONNREFUSED -> "ECONNREFUSED";
            default -> "errno " + errno;
        };
    }

    public static String describe(int errno) {
        return switch (errno) {
            case EPERM -> "operation not permitted";
            case EAGAIN -> "resource temporarily unavailable";
            case ENOMEM -> "out of memory or over a resource limit";
            case EFAULT -> "bad address";
            case EINVAL -> "invalid argument";
            case EMSGSIZE -> "message too long";
            case ENOBUFS -> "no buffer space available";
            case ECONNREFUSED -> "connection refused";
            default -> "see errno(3)";
        };
    }
}
