package org.unetmm.pinning;

import org.unetmm.pinning.internal.Errno;
import org.unetmm.pinning.internal.Libc;

/**
 * How many bytes a {@link org.unetmm.pinning.internal.Pinner} may keep locked at once. The default
 * follows the kernel: the process's RLIMIT_MEMLOCK soft limit, and unbounded only where the
 * process may really lock without limit (CAP_IPC_LOCK, or an infinite limit). Experiments set a lower one with
 * {@link #ofBytes}.
 *
 * @param bytes  the budget in bytes; {@link Long#MAX_VALUE} when unbounded
 * @param source where the figure came from, for error messages and run records
 */
public record PinBudget(long bytes, String source) {
    /**
     * Checks the budget.
     *
     * @throws IllegalArgumentException if {@code bytes} is not positive or {@code source} is blank
     * @param bytes  the budget in bytes, positive
     * @param source where the figure came from, not blank
     */
    public PinBudget {
        if (bytes <= 0) {
            throw new IllegalArgumentException("pin budget must be positive, got " + bytes
                    + " bytes; use PinBudget.unlimited() for no bound");
        }
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("pin budget needs a source description");
        }
    }

    /**
     * {@return a configured budget of {@code bytes}}
     *
     * @param bytes the budget in bytes, positive
     * @throws IllegalArgumentException if {@code bytes} is not positive
     */
    public static PinBudget ofBytes(long bytes) {
        return new PinBudget(bytes, "configured");
    }

    /** {@return a budget without bound, for a process that may lock without limit} */
    public static PinBudget unlimited() {
        return new PinBudget(Long.MAX_VALUE, "unlimited");
    }

    /**
     * RLIMIT_MEMLOCK's soft limit, or unbounded under CAP_IPC_LOCK or an infinite limit.
     *
     * @return the process's budget, its source naming which of the three it is
     * @throws PinPermissionException if RLIMIT_MEMLOCK is 0 and the process lacks CAP_IPC_LOCK
     */
    public static PinBudget fromProcess() {
        if (ProcessStatus.hasCapIpcLock()) {
            return new PinBudget(Long.MAX_VALUE, "CAP_IPC_LOCK");
        }
        Libc.Rlimit limit = Libc.memlockLimit();
        if (limit.softUnlimited()) {
            return new PinBudget(Long.MAX_VALUE, "RLIMIT_MEMLOCK=unlimited");
        }
        if (limit.soft() == 0) {
            throw new PinPermissionException("getrlimit", Errno.EPERM,
                    "RLIMIT_MEMLOCK is 0 and the process lacks CAP_IPC_LOCK, so nothing can be pinned;"
                            + " raise the limit (ulimit -l) or use the FIXED_SEGMENT path");
        }
        return new PinBudget(limit.soft(), "RLIMIT_MEMLOCK");
    }

    /** {@return whether the budget is unbounded ({@link Long#MAX_VALUE} bytes)} */
    public boolean isUnlimited() {
        return bytes == Long.MAX_VALUE;
    }

    @Override
    public String toString() {
        return isUnlimited() ? "unlimited (" + source + ")" : bytes + " bytes (" + source + ")";
    }
}
