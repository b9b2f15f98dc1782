package org.unetmm.rpc;

import java.nio.ByteBuffer;

/**
 * Reads a response where it landed, in the client's own receive buffer, without a copy: called on
 * the client's progress thread with {@code length} bytes of {@code buffer} from absolute index
 * {@code offset}, valid only during the call. Its result completes the call's future.
 */
@FunctionalInterface
public interface ResponseReader<T> {
    /**
     * Reads one response.
     *
     * @param buffer the client's receive buffer; read with absolute gets, do not keep it
     * @param offset absolute index of the first response byte
     * @param length response bytes
     * @return what the call's future completes with
     */
    T read(ByteBuffer buffer, int offset, int length);
}
