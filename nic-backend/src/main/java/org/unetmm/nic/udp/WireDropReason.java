package org.unetmm.nic.udp;

/**
 * Why the wire dropped an arriving datagram before the NIC saw it: the first check of
 * {@link WireFrame#decode} that failed. Counted per reason in {@link UdpStats}. Frames that pass
 * go to the NIC, which counts its own reasons ({@link org.unetmm.DropReason}).
 */
public enum WireDropReason {
    /** Shorter than a wire header. */
    SHORT_DATAGRAM,
    /** Not a unetmm frame: the first four bytes are not 'U' 'N' 'M' 'M'. */
    BAD_MAGIC,
    /** The header's CRC32C does not match: corrupted, or forged without one. */
    BAD_CHECKSUM,
    /** A wire version this end does not speak. */
    BAD_VERSION,
    /** A type other than data, ack, nack, close. */
    BAD_TYPE,
    /** Flag bits this version does not define, or the reserved word, set. */
    BAD_FLAGS,
    /** A source or destination tag that is not positive. */
    BAD_TAG,
    /** Negative lengths or offset, or a fragment outside its message. */
    BAD_LENGTHS,
    /** The datagram does not hold exactly the header and fragment length bytes. */
    LENGTH_MISMATCH,
    /** A source connection id of 0: every channel has a non-zero one, so no channel sent it. */
    BAD_CONNECTION,
    /** The datagram changed between the header peek and its receive, or the NIC's placement was out of bounds. */
    INCONSISTENT_RECEIVE,
    /**
     * A GRO run ({@code UDP_GRO}) whose segment size cannot be right: 0, less than a wire header, more
     * than the run's length, or control data the kernel truncated. The whole run is dropped.
     */
    BAD_SEGMENT_SIZE
}
