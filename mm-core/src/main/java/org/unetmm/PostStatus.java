package org.unetmm;

/**
 * What {@link Endpoint#postReceive} did with a buffer, as {@link SendStatus} says for a send: an
 * expected outcome on the hot path is a value, not an exception. Misuse (a heap or read-only
 * buffer, a range outside it, a closed endpoint) throws.
 */
public enum PostStatus {
    /** On the free queue: exactly one receive completion will follow. */
    POSTED,
    /** The free queue is full: nothing was posted and no completion will follow; poll completions and retry. */
    FREE_QUEUE_FULL;

    /** {@return whether this is {@link #POSTED}} */
    public boolean isPosted() {
        return this == POSTED;
    }
}
