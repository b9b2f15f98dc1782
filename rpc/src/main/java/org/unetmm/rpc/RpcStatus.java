package org.unetmm.rpc;

/**
 * Why a call failed. The negative codes travel in a response's status word; the others are
 * decided on the client. A handler's own failure codes ({@link RpcResponse#fail(int)}) are
 * positive and arrive as {@link #APPLICATION} with the code in {@link RpcException#code()}.
 */
public enum RpcStatus {
    /** The handler answered with an application error code of its own. */
    APPLICATION(0),
    /** The server has no handler for the method id. */
    NO_SUCH_METHOD(-1),
    /** The handler threw. */
    HANDLER_FAILED(-2),
    /** The request was longer than the server's request buffers. */
    REQUEST_TOO_LARGE(-3),
    /** The handler returned without replying. */
    NO_REPLY(-4),
    /** The response was longer than the caller's response buffer (or the client's receive buffers). */
    RESPONSE_TOO_LARGE(-5),
    /** No response within the call's timeout. */
    TIMEOUT(-100),
    /** The server stopped answering: its reliable channel gave up (PEER_UNREACHABLE). */
    PEER_UNREACHABLE(-101),
    /** The client was closed, or the server closed the connection. */
    CLOSED(-102),
    /** More calls in flight than the client allows (RpcClientConfig.maxInFlight). */
    TOO_MANY_CALLS(-103),
    /** The request could not be sent (e.g. its buffer could not be pinned). */
    SEND_FAILED(-104);

    private final int wire;

    RpcStatus(int wire) {
        this.wire = wire;
    }

    /** {@return the status word a server puts in a response for this failure} */
    public int wire() {
        return wire;
    }

    /**
     * The status of a response's status word (positive = an application code).
     *
     * @param word a response's status word
     * @return the status; an unknown negative word reads as {@link #HANDLER_FAILED}
     */
    public static RpcStatus ofWire(int word) {
        if (word > 0) {
            return APPLICATION;
        }
        for (RpcStatus s : values()) {
            if (s.wire == word && s != APPLICATION) {
                return s;
            }
        }
        return HANDLER_FAILED;
    }
}
