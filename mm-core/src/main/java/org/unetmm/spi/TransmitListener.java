package org.unetmm.spi;

/**
 * Where a wire reports the fragments it kept after {@link Transport#transmit} returned
 * ({@link PayloadSource#retain()}): a batching wire once its system call sent them, the shm wire
 * once the peer read the sender's pages, {@code MSG_ZEROCOPY} once the kernel's error-queue notice
 * covers them. Until then the NIC keeps the fragment's pages pinned and translated and does not
 * complete its send (DESIGN invariant 6). Call on the NIC's progress thread, from inside
 * {@link Transport#transmit}, {@link Transport#poll}, {@link Transport#flush} or
 * {@link Transport#close}: those run under the engine lock.
 */
public interface TransmitListener {
    /**
     * The wire is done with the fragment {@code token} names (from {@link PayloadSource#retain()}):
     * sent when {@code failure} is null, else not sent, for that reason. Each token exactly once;
     * an unknown or repeated token is refused with {@link IllegalArgumentException}.
     *
     * @param token   what {@link PayloadSource#retain()} returned
     * @param failure null when sent, else why not
     */
    void released(long token, String failure);
}
