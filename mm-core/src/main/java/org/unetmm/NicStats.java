package org.unetmm;

import java.util.EnumMap;
import java.util.Map;
import org.unetmm.pinning.PinStats;
import org.unetmm.tlb.TlbStats;

/**
 * A snapshot of a {@link Nic}'s counters, with its TLB's and pin cache's beside them.
 * {@code handlerErrors} counts what went to the NIC's {@link ErrorHandler}: completion handlers
 * that threw and faults of the engine's own loop.
 */
public record NicStats(long messagesSent, long bytesSent, long fragmentsSent, long messagesReceived,
                       long bytesReceived, Map<DropReason, Long> drops, long backPressured,
                       TlbStats tlb, PinStats pins, long handlerErrors) {

    /** {@return frames dropped, all reasons together} */
    public long dropped() {
        return drops.values().stream().mapToLong(Long::longValue).sum();
    }

    static Map<DropReason, Long> dropMap(long[] counts) {
        Map<DropReason, Long> map = new EnumMap<>(DropReason.class);
        for (DropReason reason : DropReason.values()) {
            map.put(reason, counts[reason.ordinal()]);
        }
        return map;
    }
}
