package org.unetmm;

/** Why the NIC dropped an arriving message (counted in {@link NicStats}). */
public enum DropReason {
    /** No posted receive buffer on the target endpoint (unreliable channel). */
    NO_BUFFER,
    /** No open channel has the destination tag. */
    UNKNOWN_TAG,
    /** The source tag is not the one the channel is connected to. */
    WRONG_SOURCE,
    /** The header's numbers are inconsistent (fragment outside its message, bad type). */
    MALFORMED,
    /** The completion queue was full, so the arrival could not be reported. */
    COMPLETION_QUEUE_FULL,
    /** A fragment of a message whose first fragment was dropped or superseded. */
    ORPHAN_FRAGMENT
}
