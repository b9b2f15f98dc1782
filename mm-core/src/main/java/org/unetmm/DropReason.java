package org.unetmm;

/** Why the NIC dropped an arriving message (counted in {@link NicStats}). */
public enum DropReason {
    /** No posted receive buffer on the target endpoint (unreliable: lost; reliable: not acknowledged, resent). */
    NO_BUFFER,
    /** No open channel has the destination tag. */
    UNKNOWN_TAG,
    /** The source tag is not the one the channel is connected to. */
    WRONG_SOURCE,
    /**
     * The frame names the connected peer's tag but the wire saw it come from another transport
     * address (another process, port or host that has, or had, that tag): not the peer.
     */
    WRONG_PEER_ADDRESS,
    /**
     * The frame's connection ids are not those of the two channels as they connected: it is from a
     * restarted peer whose new channel reuses the tag, or meant for a previous holder of this tag.
     */
    WRONG_CONNECTION,
    /** The header's numbers are inconsistent (fragment outside its message, bad type). */
    MALFORMED,
    /** The completion queue was full, so the arrival could not be reported. */
    COMPLETION_QUEUE_FULL,
    /** A fragment of a message whose first fragment was dropped or superseded. */
    ORPHAN_FRAGMENT,
    /** Reliable channel: a fragment already received (a retransmission or a duplicate on the wire); acknowledged again. */
    DUPLICATE,
    /** Reliable channel: a fragment of a later message than the one expected (delivery is in order); the sender goes back. */
    OUT_OF_ORDER,
    /** Reliable channel: the frame's CRC32C did not match its header and payload; it is sent again. */
    CORRUPT,
    /** A reliable frame for an unreliable channel, or the reverse: both ends must use the same ChannelConfig. */
    NOT_RELIABLE,
    /** Unreliable channel: a message whose missing fragments did not arrive within the reassembly timeout. */
    INCOMPLETE
}
