package org.unetmm.pinning;

/**
 * Memory cannot be freed or invalidated now because a region over it is in use (a handle is
 * held, e.g. by an in-flight send or a TLB entry). Wait for the operation's completion, release
 * the handle, then try again.
 */
public class PinInUseException extends PinningException {
    private static final long serialVersionUID = 1L;

    /**
     * A refusal; {@code message} says what is in use and what to wait for.
     *
     * @param message what is in use and how to proceed
     */
    public PinInUseException(String message) {
        super(message);
    }
}
