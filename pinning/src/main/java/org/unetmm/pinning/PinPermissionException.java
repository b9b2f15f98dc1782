package org.unetmm.pinning;

/**
 * The kernel refused a lock outright ({@code EPERM}): the process lacks CAP_IPC_LOCK and its
 * RLIMIT_MEMLOCK is zero. Give the process a memlock limit ({@code ulimit -l}) or use the
 * FIXED_SEGMENT path, which pins nothing per message.
 */
public class PinPermissionException extends KernelException {
    private static final long serialVersionUID = 1L;

    /**
     * A refused lock.
     *
     * @param call    the system call, e.g. {@code "mlock"}
     * @param errno   {@code EPERM}
     * @param message what was being locked and how to fix it
     */
    public PinPermissionException(String call, int errno, String message) {
        super(call, errno, message);
    }
}
