package org.unetmm;

/** The NIC, endpoint or channel was closed: open a new one. */
public class ClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * A refusal; {@code message} says what was closed and what to open instead.
     *
     * @param message what was closed and what to do
     */
    public ClosedException(String message) {
        super(message);
    }
}
