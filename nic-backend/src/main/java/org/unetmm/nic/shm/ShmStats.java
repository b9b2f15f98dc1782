package org.unetmm.nic.shm;

import java.util.EnumMap;
import java.util.Map;

/**
 * A snapshot of a {@link ShmTransport}'s counters.
 *
 * @param address             the NIC's transport address, {@code shm:name}
 * @param mtu                 the largest fragment (a quarter of the ring)
 * @param eagerBytes          the largest fragment sent inline when rendezvous is possible
 * @param rendezvous          whether this NIC uses rendezvous at all (cross-memory attach works and is wanted)
 * @param peers               regions attached now
 * @param inlineSent          fragments copied into a ring
 * @param rendezvousSent      fragments posted by rendezvous
 * @param rendezvousCompleted rendezvous the peer read and completed
 * @param rendezvousFailed    rendezvous released failed: the peer's read failed, it died, or the NIC closed first
 * @param sendBackPressured   transmits refused for a full ring (the NIC retries)
 * @param sendsLost           fragments for a dead or closed peer
 * @param inlineReceived      inline records offered to the NIC
 * @param rendezvousRead      rendezvous read into a placement with process_vm_readv
 * @param bytesRead           their bytes
 * @param peersLost           peers taken for dead (heartbeat silent, or closed)
 * @param drops               records dropped and reads failed, per reason
 * @param segmentSent         fixed-path fragments posted as (segment, offset, length) in a shared segment
 * @param segmentReceived     segment frames of peers copied out of their shared segment by the NIC
 * @param segmentCompleted    segment frames the peer copied out and completed
 * @param segmentFailed       segment frames released failed: the peer refused the frame, it died, or the NIC closed first
 */
public record ShmStats(String address, int mtu, int eagerBytes, boolean rendezvous, int peers, long inlineSent,
                       long rendezvousSent, long rendezvousCompleted, long rendezvousFailed, long sendBackPressured,
                       long sendsLost, long inlineReceived, long rendezvousRead, long bytesRead, long peersLost,
                       Map<ShmDropReason, Long> drops, long segmentSent, long segmentReceived,
                       long segmentCompleted, long segmentFailed) {

    /**
     * Sums {@link #drops()} over every reason.
     *
     * @return records dropped and reads failed, all reasons together
     */
    public long dropped() {
        return drops.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * One reason's count from {@link #drops()}.
     *
     * @param reason the reason to look up, not null
     * @return records dropped or reads failed for that reason, 0 if none were counted
     */
    public long drops(ShmDropReason reason) {
        return drops.getOrDefault(reason, 0L);
    }

    static Map<ShmDropReason, Long> dropMap(long[] counts) {
        Map<ShmDropReason, Long> map = new EnumMap<>(ShmDropReason.class);
        for (ShmDropReason reason : ShmDropReason.values()) {
            map.put(reason, counts[reason.ordinal()]);
        }
        return map;
    }
}
