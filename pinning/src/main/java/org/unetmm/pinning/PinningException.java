package org.unetmm.pinning;

/**
 * Base of every fault the pinning layer reports: the kernel refused, a budget ran out, a region
 * is still in use. Misuse of the API (a heap buffer, a bad range, a double release) is reported
 * with {@link IllegalArgumentException} or {@link IllegalStateException} subclasses instead.
 */
public class PinningException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * A fault with {@code message}, which should name the fix.
     *
     * @param message what failed and how to fix it
     */
    public PinningException(String message) {
        super(message);
    }

    /**
     * Without a stack trace when {@code stackTrace} is false: for refusals expected on a hot path.
     *
     * @param message    what failed and how to fix it
     * @param stackTrace whether to fill in the stack trace
     */
    protected PinningException(String message, boolean stackTrace) {
        super(message, null, true, stackTrace);
    }

    /**
     * A fault with {@code message} caused by {@code cause}.
     *
     * @param message what failed and how to fix it
     * @param cause   the underlying failure; may be null
     */
    public PinningException(String message, Throwable cause) {
        super(message, cause);
    }
}
