package org.unetmm.spi;

/**
 * The NIC's receive side, as a transport sees it. Two ways in:
 * <ul>
 *   <li>{@link #onFragment}: the wire offers a fragment whose payload the NIC pulls in itself (loopback);</li>
 *   <li>{@link #claim} then {@link #commit}: the wire asks where the payload goes, writes it there itself
 *       (udp's {@code recvmsg} straight into the posted buffer), then reports it placed.</li>
 * </ul>
 * A header is validated before anything is placed, so a bad frame never writes into a posted buffer.
 */
public interface Inbound {
    /**
     * A fragment arrived. The NIC validates it, finds its channel and posted buffer, and pulls the
     * payload in. Returns false only when the NIC cannot take it now (busy): the transport keeps
     * the fragment and offers it again later; true means delivered or dropped and counted.
     *
     * @param header  the fragment's header; read during the call only
     * @param payload the fragment's payload; read during the call only
     * @return false to be offered the fragment again later, true when it was delivered or dropped
     */
    boolean onFragment(FrameHeader header, PayloadSource payload);

    /**
     * Validates {@code header} and, if the fragment is wanted, fills {@code placement} with where
     * its payload goes (its pages translated) and returns true; the caller must then write at most
     * {@code placement.length} bytes there and call {@link #commit} or {@link #abort}. Returns false
     * when the fragment is dropped (counted by the NIC) or the NIC is busy: discard the payload.
     *
     * @param header    the fragment's header
     * @param placement filled with where the payload goes when this returns true
     * @return whether to write the payload to {@code placement}
     */
    boolean claim(FrameHeader header, Placement placement);

    /**
     * The payload of the fragment last claimed has been written.
     *
     * @param header the header the fragment was claimed with
     */
    void commit(FrameHeader header);

    /**
     * The payload of the fragment last claimed could not be written (e.g. the datagram was short).
     *
     * @param header the header the fragment was claimed with
     * @param reason why the payload could not be written, for the drop counters and logs
     */
    void abort(FrameHeader header, String reason);

    /**
     * The wire knows the peer NIC at {@code transportAddress} is gone for good: its process died
     * (the shm wire's heartbeat went silent past {@code timeout=}) or it closed. Reliable channels
     * connected to it fail now with {@code PEER_UNREACHABLE} (their window's sends, their posted
     * buffers), instead of retransmitting into nothing until their own {@code peerTimeout}. A wire
     * that cannot tell (plain UDP) never calls it. Call under the engine lock, as the rest.
     *
     * @param transportAddress the lost peer NIC's transport address, e.g. {@code shm:kv-server}
     * @param why              what the wire saw, for the completions' detail and the log
     */
    default void peerLost(String transportAddress, String why) {
    }
}
