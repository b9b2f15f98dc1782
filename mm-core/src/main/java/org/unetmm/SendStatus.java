package org.unetmm;

/**
 * What {@link Endpoint#send} did with a descriptor. Expected outcomes on the hot path are values,
 * not exceptions (as Aeron's {@code Publication.offer}): back-pressure means "progress, drain
 * completions, try again". Misuse (a heap buffer on the pinned path, a closed endpoint) throws.
 */
public enum SendStatus {
    /** Queued: exactly one completion will follow. */
    ACCEPTED,
    /** The send queue is full: no completion will follow; poll completions (and progress) and retry. */
    SEND_QUEUE_FULL,
    /** FIXED_SEGMENT only: the segment has no room until earlier sends complete; retry after progress. */
    SEGMENT_FULL;

    /** {@return whether this is {@link #ACCEPTED}: one completion will follow} */
    public boolean isAccepted() {
        return this == ACCEPTED;
    }
}
