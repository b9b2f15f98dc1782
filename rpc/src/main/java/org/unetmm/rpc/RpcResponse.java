package org.unetmm.rpc;

import java.nio.ByteBuffer;
import org.unetmm.pinning.UnpinnableBufferException;

/**
 * The answer to one request, given exactly once inside {@link RpcHandler#handle}:
 * <ul>
 *   <li>{@link #buffer()} then {@link #send(int)}: write into the buffer the server lends (its
 *       capacity is {@code RpcServerConfig.maxResponse}), reply with its first bytes;</li>
 *   <li>{@link #send(ByteBuffer, int, int)}: reply straight from a direct buffer of the handler's
 *       own (a stored value, or the request buffer itself). Zero-copy both ways: the NIC reads it
 *       when it transmits, and again on a retransmission, so it must not change until the reply
 *       is acknowledged; immutable buffers are the easy way to keep that promise;</li>
 *   <li>{@link #fail(int)}: an application error code the caller receives as
 *       {@link RpcStatus#APPLICATION}.</li>
 * </ul>
 * Every reply travels on the pinned path, zero-copy, behind a 16-byte header. A reused view,
 * valid only during the handler call.
 */
public final class RpcResponse {
    static final int NONE = 0;
    static final int LENT = 1;
    static final int OWN = 2;
    static final int FAILED = 3;

    private final int capacity;
    ByteBuffer lent;
    int kind;
    ByteBuffer own;
    int offset;
    int length;
    int code;

    RpcResponse(int capacity) {
        this.capacity = capacity;
    }

    void reset(ByteBuffer lentBuffer) {
        lent = lentBuffer;
        kind = NONE;
        own = null;
        offset = 0;
        length = 0;
        code = 0;
    }

    /** {@return the buffer the server lends for this reply: write from absolute index 0, then {@link #send(int)}} */
    public ByteBuffer buffer() {
        return lent;
    }

    /**
     * Replies with the first {@code length} bytes of {@link #buffer()}.
     *
     * @param length reply bytes, at most the buffer's capacity
     * @throws IllegalArgumentException if {@code length} does not fit the lent buffer
     */
    public void send(int length) {
        checkOnce();
        if (length < 0 || length > capacity) {
            throw new IllegalArgumentException("reply of " + length + " bytes does not fit the lent buffer of " + capacity
                    + " bytes: raise RpcServerConfig.maxResponse or reply from a buffer of your own");
        }
        this.kind = LENT;
        this.length = length;
    }

    /**
     * Replies zero-copy with {@code length} bytes of {@code buffer} from absolute {@code offset}; keep them unchanged
     * until acknowledged.
     *
     * @param buffer a direct buffer, unchanged until the reply is acknowledged
     * @param offset absolute index of the first reply byte
     * @param length reply bytes
     * @throws org.unetmm.pinning.UnpinnableBufferException for a heap buffer
     * @throws IllegalArgumentException if the range is outside the buffer
     */
    public void send(ByteBuffer buffer, int offset, int length) {
        checkOnce();
        if (buffer == null || !buffer.isDirect()) {
            throw new UnpinnableBufferException("a reply is sent zero-copy from pinned memory: use a direct buffer,"
                    + " or write into the lent buffer() and send(length)");
        }
        if (length < 0 || offset < 0 || offset > buffer.capacity() - length) {
            throw new IllegalArgumentException("reply range (" + length + " bytes at " + offset + ") is outside its buffer"
                    + " of capacity " + buffer.capacity());
        }
        this.kind = OWN;
        this.own = buffer;
        this.offset = offset;
        this.length = length;
    }

    /**
     * Fails the call with an application error code (positive).
     *
     * @param code the application's error code, positive
     * @throws IllegalArgumentException if {@code code} is not positive
     */
    public void fail(int code) {
        checkOnce();
        if (code <= 0) {
            throw new IllegalArgumentException("application error codes are positive, got " + code);
        }
        this.kind = FAILED;
        this.code = code;
    }

    /** {@return whether the request has its answer} */
    public boolean isSent() {
        return kind != NONE;
    }

    private void checkOnce() {
        if (kind != NONE) {
            throw new IllegalStateException("this request was already answered: reply exactly once");
        }
    }
}
