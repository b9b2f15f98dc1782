package org.unetmm;

/**
 * Two threads used one of an endpoint's single-threaded sides at the same moment: its send queue
 * (send, sendGather), its free queue (postReceive) or its completion queue (poll, await). Each
 * ring has one producer and one consumer by contract (see {@link Endpoint}); the second thread is
 * refused before it touches the ring, so nothing is corrupted. Give each thread its own endpoint,
 * or hand the work to the one thread that owns it.
 */
public final class ConcurrentEndpointUseException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * A refusal; {@code message} names the two threads' operations.
     *
     * @param message which operation raced which, and how to serialise them
     */
    public ConcurrentEndpointUseException(String message) {
        super(message);
    }
}
