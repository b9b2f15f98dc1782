package org.unetmm;

/** The NIC, endpoint or channel was closed: open a new one. */
public class ClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ClosedException(String message) {
        super(message);
    }
}
