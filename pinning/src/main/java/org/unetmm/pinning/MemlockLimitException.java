package org.unetmm.pinning;

/**
 * The kernel would not lock more memory: {@code mlock} returned {@code ENOMEM} (the process's
 * RLIMIT_MEMLOCK would be exceeded, or part of the range is not mapped) or {@code EAGAIN}
 * (some of the range could not be locked). Raise the limit ({@code ulimit -l},
 * {@code prlimit --memlock}), configure a smaller {@link PinBudget}, or release pins.
 */
public class MemlockLimitException extends KernelException {
    private static final long serialVersionUID = 1L;

    /** Bytes the failed call tried to lock. */
    private final long requestedBytes;
    /** RLIMIT_MEMLOCK's soft limit at the failure, or -1 if unlimited. */
    private final long rlimitBytes;

    /**
     * A refused lock.
     *
     * @param call           the system call, e.g. {@code "mlock"}
     * @param errno          {@code ENOMEM} or {@code EAGAIN}
     * @param requestedBytes bytes the call tried to lock
     * @param rlimitBytes    the RLIMIT_MEMLOCK soft limit at the time, or -1 if unlimited
     * @param message        what was being locked and how to fix it
     */
    public MemlockLimitException(String call, int errno, long requestedBytes, long rlimitBytes, String message) {
        super(call, errno, message);
        this.requestedBytes = requestedBytes;
        this.rlimitBytes = rlimitBytes;
    }

    /** {@return bytes the failed call tried to lock} */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** {@return the RLIMIT_MEMLOCK soft limit at the time of the failure, or -1 if unlimited} */
    public long rlimitBytes() {
        return rlimitBytes;
    }
}
