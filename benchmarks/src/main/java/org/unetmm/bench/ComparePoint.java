package org.unetmm.bench;

/**
 * One measured point of {@code unetmm compare}: a path (or peer) at a message size.
 *
 * @param path         PINNED, FIXED_SEGMENT, or a peer (MEMCPY is the physical limit)
 * @param size         message bytes
 * @param messages     messages measured
 * @param seconds      measured wall time
 * @param p50Nanos     median latency, as {@code latency} says
 * @param p99Nanos     99th percentile latency
 * @param tlbHitRate   TLB hits ÷ lookups during the measurement (NaN where no TLB is used)
 * @param pinsPerMsg   mlock calls per message during the measurement
 * @param limitRatio   this point's bytes/s ÷ the raw memcpy's at the same size
 * @param latency      {@link #ONE_WAY}: measured send to receive completion (loopback; for MEMCPY, the copy),
 *                     or {@link #RTT_HALF}: half the round trip of a ping-pong (udp, where the two ends run on
 *                     different threads and their clocks are not compared)
 */
public record ComparePoint(String transport, String path, int size, long messages, double seconds,
                           long p50Nanos, long p99Nanos, double tlbHitRate, double pinsPerMsg, double limitRatio,
                           String latency) {
    public static final String ONE_WAY = "one-way";
    public static final String RTT_HALF = "rtt/2";

    public double messagesPerSecond() {
        return messages / seconds;
    }

    public double gigabytesPerSecond() {
        return messages * (double) size / seconds / 1e9;
    }

    public ComparePoint withLimitRatio(double ratio) {
        return new ComparePoint(transport, path, size, messages, seconds, p50Nanos, p99Nanos, tlbHitRate, pinsPerMsg, ratio,
                latency);
    }

    static String csvHeader() {
        return "transport,path,size_bytes,messages,seconds,msgs_per_s,gb_per_s,p50_ns,p99_ns,tlb_hit_rate,pins_per_msg,ratio_to_memcpy,latency";
    }

    String csvRow() {
        return String.join(",", transport, path, Integer.toString(size), Long.toString(messages),
                String.format("%.4f", seconds), String.format("%.1f", messagesPerSecond()),
                String.format("%.4f", gigabytesPerSecond()), Long.toString(p50Nanos), Long.toString(p99Nanos),
                Double.isNaN(tlbHitRate) ? "" : String.format("%.4f", tlbHitRate),
                Double.isNaN(pinsPerMsg) ? "" : String.format("%.4f", pinsPerMsg),
                String.format("%.3f", limitRatio), latency);
    }
}
