package org.unetmm.rpc;

/** A call that failed: {@link #status()} says why, {@link #code()} carries an application's own code. */
public class RpcException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final RpcStatus status;
    private final int code;

    public RpcException(RpcStatus status, String message) {
        this(status, 0, message);
    }

    public RpcException(RpcStatus status, int code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public RpcStatus status() {
        return status;
    }

    /** The handler's code for {@link RpcStatus#APPLICATION}, else 0. */
    public int code() {
        return code;
    }
}
