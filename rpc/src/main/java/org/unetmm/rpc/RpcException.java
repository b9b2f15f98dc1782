package org.unetmm.rpc;

/** A call that failed: {@link #status()} says why, {@link #code()} carries an application's own code. */
public class RpcException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** Why the call failed. */
    private final RpcStatus status;
    /** The handler's code for APPLICATION, else 0. */
    private final int code;

    /**
     * A failed call without an application code.
     *
     * @param status  why it failed
     * @param message what failed, for people
     */
    public RpcException(RpcStatus status, String message) {
        this(status, 0, message);
    }

    /**
     * A failed call.
     *
     * @param status  why it failed
     * @param code    the handler's code for {@link RpcStatus#APPLICATION}, else 0
     * @param message what failed, for people
     */
    public RpcException(RpcStatus status, int code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    /** {@return why the call failed} */
    public RpcStatus status() {
        return status;
    }

    /** {@return the handler's code for {@link RpcStatus#APPLICATION}, else 0} */
    public int code() {
        return code;
    }
}
