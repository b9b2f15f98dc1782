package org.unetmm.pinning;

import org.unetmm.pinning.internal.Errno;

/**
 * A system call failed: carries the call, its errno and the kernel's name for it.
 * {@link org.unetmm.pinning.internal.Libc} turns the errno values that mean something to a caller into the subclasses
 * {@link MemlockLimitException} and {@link PinPermissionException}.
 */
public class KernelException extends PinningException {
    private static final long serialVersionUID = 1L;

    /** The system call that failed. */
    private final String call;
    /** The errno it left. */
    private final int errno;

    /**
     * A failed call; the message adds the errno's name and description to {@code message}.
     *
     * @param call    the system call, e.g. {@code "mlock"}
     * @param errno   the errno it left
     * @param message what was being done and how to fix it
     */
    public KernelException(String call, int errno, String message) {
        super(call + " failed with " + Errno.name(errno) + " (" + Errno.describe(errno) + "): " + message);
        this.call = call;
        this.errno = errno;
    }

    /** {@return the system call that failed, e.g. {@code "mlock"}} */
    public String call() {
        return call;
    }

    /** {@return the errno the call left} */
    public int errno() {
        return errno;
    }

    /** {@return the errno's symbolic name, e.g. {@code "ENOMEM"}} */
    public String errnoName() {
        return Errno.name(errno);
    }
}
