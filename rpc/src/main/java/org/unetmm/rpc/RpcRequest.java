package org.unetmm.rpc;

import java.nio.ByteBuffer;

/**
 * A request as it arrived: {@link #length()} bytes of {@link #buffer()} from absolute index
 * {@link #offset()}, in the server's posted receive buffer, where the NIC wrote them (no copy).
 * A reused view, valid only during {@link RpcHandler#handle}; the buffer is lent to the handler
 * until its reply has been acknowledged (so a reply may be sent straight from it).
 */
public final class RpcRequest {
    ByteBuffer buffer;
    int offset;
    int length;
    int method;
    long id;

    RpcRequest() {
    }

    /** {@return the method id called} */
    public int method() {
        return method;
    }

    /** {@return the client's id of this call} */
    public long id() {
        return id;
    }

    /** {@return the posted buffer the request landed in (read with absolute gets; do not keep it)} */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** {@return the absolute index of the first request byte in {@link #buffer()}} */
    public int offset() {
        return offset;
    }

    /** {@return request bytes} */
    public int length() {
        return length;
    }

    /** {@return a view of the request bytes (allocates a slice; the hot path uses buffer/offset/length)} */
    public ByteBuffer payload() {
        return buffer.slice(offset, length);
    }
}
