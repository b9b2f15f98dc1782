package org.unetmm;

/**
 * A wire could not be opened: the kernel refused a socket, an address to bind or a socket option.
 * The message says which and names the fix ("the port is in use; choose another port, or port 0");
 * the cause is the system call's {@link org.unetmm.pinning.KernelException}, with its errno.
 *
 * <p>A networking failure, so a networking type: the system call layer (module pinning, where
 * every native call is declared) raises a {@code KernelException}, and the wire that made the
 * call tells it as this.
 */
public class TransportException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * A wire that could not be opened.
     *
     * @param message which call failed and how to fix it
     * @param cause   the system call's {@link org.unetmm.pinning.KernelException}
     */
    public TransportException(String message, Throwable cause) {
        super(message, cause);
    }
}
