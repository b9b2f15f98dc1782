package org.unetmm.internal;

import java.nio.ByteBuffer;
import org.unetmm.CompletionStatus;

/**
 * Where the engine reports the end of an endpoint's operations: the upcall by which the engine,
 * which never names the public {@code Endpoint}, reaches it. Implemented by the endpoint handle;
 * called under the engine lock, on the thread driving progress.
 */
public interface CompletionSink {
    /** Whether a completion can be reported now (a handler is set, or the completion queue has room). */
    boolean canComplete();

    /**
     * One operation ended. {@code send} tells a send from a receive; {@code channel} is the
     * channel's state (null for a receive that failed before any message arrived); the buffer is
     * the send's first buffer or the receive's posted buffer.
     */
    void complete(boolean send, CompletionStatus status, long cookie, ChannelState channel, ByteBuffer buffer,
                  int offset, int length, String detail);
}
