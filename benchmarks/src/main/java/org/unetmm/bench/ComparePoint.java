package org.unetmm.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One summarised point of {@code unetmm compare}: a path (or peer) at a message size over its
 * repeats, which were measured interleaved with the other paths' (A B C A B C …).
 *
 * @param path         PINNED, FIXED_SEGMENT, or a peer (MEMCPY is the physical limit)
 * @param size         message bytes
 * @param repeats      the measured repeats, in the order they ran
 * @param p50Nanos     median latency over all repeats, as {@code latency} says
 * @param p99Nanos     99th percentile latency over all repeats
 * @param tlbHitRate   TLB hits ÷ lookups during the measurements, median over repeats (NaN where no TLB is used)
 * @param pinsPerMsg   mlock calls per message during the measurements, median over repeats
 * @param limitRatio   this path's bytes/s ÷ the raw memcpy's at the same size, taken per repeat pair (the
 *                     memcpy measured just before it) and then summarised, so drift of the machine cancels
 * @param latency      {@link #ONE_WAY}: measured send to receive completion (loopback; for MEMCPY, the copy),
 *                     or {@link #RTT_HALF}: half the round trip of a ping-pong (udp, where the two ends run on
 *                     different threads and their clocks are not compared)
 * @param flags        what a reader must not miss about this point ({@link #ABOVE_LIMIT}, {@link #SPREAD},
 *                     {@link #LOSS}, {@link #STALL}), empty when none
 */
public record ComparePoint(String transport, String path, int size, List<Repeat> repeats, long p50Nanos, long p99Nanos,
                           double tlbHitRate, double pinsPerMsg, Spread limitRatio, String latency, List<String> flags) {
    public static final String ONE_WAY = "one-way";
    public static final String RTT_HALF = "rtt/2";
    /** The median ratio to the memcpy limit is above 1: faster than a plain copy of the same bytes claims to be. */
    public static final String ABOVE_LIMIT = "above-limit";
    /** (max − min) ÷ median of the throughput over the repeats exceeds the threshold: noise, not a result. */
    public static final String SPREAD = "spread";
    /** Round trips were lost (udp). */
    public static final String LOSS = "loss";
    /** The stream's window stalled (udp: messages or acknowledgements lost or late). */
    public static final String STALL = "stall";

    public ComparePoint {
        repeats = List.copyOf(repeats);
        flags = List.copyOf(flags);
    }

    /**
     * One timed measurement of one path at one size.
     *
     * @param index     which repeat (0-based) of its point
     * @param startedAt when its measurement (after its warm-up) began
     * @param ratio     its bytes/s ÷ the memcpy repeat paired with it (1 for MEMCPY itself, NaN if none)
     */
    public record Repeat(String path, int size, int index, Instant startedAt, long messages, double seconds,
                         double tlbHitRate, double pinsPerMsg, double ratio) {
        public double gigabytesPerSecond() {
            return messages * (double) size / seconds / 1e9;
        }

        public double messagesPerSecond() {
            return messages / seconds;
        }

        Repeat withRatio(double r) {
            return new Repeat(path, size, index, startedAt, messages, seconds, tlbHitRate, pinsPerMsg, r);
        }
    }

    /** The median, minimum and maximum of a set of values (NaN values left out; all NaN if none is left). */
    public record Spread(double median, double min, double max) {
        static Spread of(double... values) {
            double[] v = Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
            if (v.length == 0) {
                return new Spread(Double.NaN, Double.NaN, Double.NaN);
            }
            double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
            return new Spread(median, v[0], v[v.length - 1]);
        }

        /** (max − min) ÷ median: 0 when every repeat agreed. */
        public double relative() {
            return (max - min) / median;
        }
    }

    /** Throughput over the repeats, in GB/s. */
    public Spread gigabytes() {
        return Spread.of(repeats.stream().mapToDouble(Repeat::gigabytesPerSecond).toArray());
    }

    /** Median messages per second over the repeats. */
    public double messagesPerSecond() {
        return Spread.of(repeats.stream().mapToDouble(Repeat::messagesPerSecond).toArray()).median();
    }

    /** Median GB/s over the repeats. */
    public double gigabytesPerSecond() {
        return gigabytes().median();
    }

    /** Messages measured, over all repeats. */
    public long messages() {
        return repeats.stream().mapToLong(Repeat::messages).sum();
    }

    /** Measured wall time, over all repeats. */
    public double seconds() {
        return repeats.stream().mapToDouble(Repeat::seconds).sum();
    }

    /**
     * This point with its flags decided: {@code extra} (loss, stall, from the measurement), then above the
     * limit and a spread over {@code spreadThreshold}.
     */
    ComparePoint flagged(List<String> extra, double spreadThreshold) {
        List<String> all = new ArrayList<>(extra);
        if (!path.startsWith("MEMCPY") && limitRatio.median() > 1) {
            all.add(ABOVE_LIMIT);
        }
        if (repeats.size() > 1 && gigabytes().relative() > spreadThreshold) {
            all.add(SPREAD);
        }
        return new ComparePoint(transport, path, size, repeats, p50Nanos, p99Nanos, tlbHitRate, pinsPerMsg, limitRatio,
                latency, all);
    }

    /** Today's columns, then (after {@code latency}) the spread over the repeats and the flags. */
    static String csvHeader() {
        return "transport,path,size_bytes,messages,seconds,msgs_per_s,gb_per_s,p50_ns,p99_ns,tlb_hit_rate,pins_per_msg,"
                + "ratio_to_memcpy,latency,repeats,gb_per_s_min,gb_per_s_max,ratio_min,ratio_max,spread,flags";
    }

    String csvRow() {
        Spread gb = gigabytes();
        return String.join(",", transport, path, Integer.toString(size), Long.toString(messages()),
                String.format("%.4f", seconds()), String.format("%.1f", messagesPerSecond()),
                String.format("%.4f", gb.median()), Long.toString(p50Nanos), Long.toString(p99Nanos),
                Double.isNaN(tlbHitRate) ? "" : String.format("%.4f", tlbHitRate),
                Double.isNaN(pinsPerMsg) ? "" : String.format("%.4f", pinsPerMsg),
                finite("%.3f", limitRatio.median()), latency, Integer.toString(repeats.size()),
                String.format("%.4f", gb.min()), String.format("%.4f", gb.max()),
                finite("%.3f", limitRatio.min()), finite("%.3f", limitRatio.max()), finite("%.3f", gb.relative()),
                String.join(";", flags));
    }

    /** {@code value} in {@code format}, or an empty CSV cell when it is NaN or infinite. */
    static String finite(String format, double value) {
        return Double.isFinite(value) ? String.format(format, value) : "";
    }
}
