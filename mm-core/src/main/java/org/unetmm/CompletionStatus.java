package org.unetmm;

/** How an operation ended. Every send and every posted receive ends in exactly one completion. */
public enum CompletionStatus {
    /** The operation finished: sent, or a whole message received. */
    OK,
    /** Receive: the message was longer than the posted buffer; the buffer holds its first bytes, nothing past it was written. */
    TRUNCATED,
    /**
     * Receive, unreliable channel: fragments of the message stopped arriving and it timed out
     * ({@link NicConfig#reassemblyTimeout()}); the buffer holds a partial message, post it again.
     */
    INCOMPLETE,
    /** The endpoint or channel was closed before the operation finished. */
    CLOSED,
    /** Reuse check (debug mode): the send buffer changed between {@code send} and the NIC reading it. */
    BUFFER_MODIFIED,
    /** The NIC could not translate or pin the buffer (pin budget or RLIMIT_MEMLOCK); see the detail. */
    PIN_FAILED,
    /** The wire could not reach the peer. */
    PEER_UNREACHABLE;

    /** {@return whether this is {@link #OK}} */
    public boolean isSuccess() {
        return this == OK;
    }
}
