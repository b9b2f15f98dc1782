package org.unetmm;

/** The two send paths of one API: base U-Net's fixed segment, and U-Net/MM's pinned user buffers. */
public enum SendPath {
    /**
     * Base U-Net: the bytes are copied into the endpoint's pinned communication segment when
     * {@code send} returns, so the caller may reuse its buffer at once; heap buffers are allowed.
     */
    FIXED_SEGMENT,
    /**
     * U-Net/MM: zero-copy. The descriptor names the caller's direct buffer(s); the NIC translates
     * every page through its TLB (pinning on a miss) while it moves the bytes, and the buffer
     * belongs to the NIC until the send's completion.
     */
    PINNED
}
