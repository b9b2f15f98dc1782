package org.unetmm.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.unetmm.SendPath;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.tlb.TlbConfig;

/**
 * The measurement behind {@code unetmm compare --transport udp://host:port}: for each message size,
 * side by side in one run, a raw memcpy of the same bytes (the limit), unetmm's PINNED and
 * FIXED_SEGMENT paths over the udp wire between two NICs of this process ({@link UnetmmUdpPeer}),
 * Java NIO {@code DatagramChannel} with direct and with heap buffers ({@link NioUdpPeer}) and Aeron
 * UDP with an embedded media driver ({@link AeronUdpPeer}), all bound to the host of the URI.
 *
 * <p>Each peer is opened for a repeat, measured and closed before the next, so no two compete
 * for the cores (and Aeron's driver thread runs only while Aeron is measured). Per repeat: a
 * ping-pong (warm-up and measurement of half the configured durations: one message in flight, so
 * its latency is the wire's, reported as RTT/2 — the two ends run on different threads, and
 * halving the round trip needs no shared clock), then a one-way stream (warm-up, measurement)
 * under flow control ({@link UdpPeer.Window}; Aeron uses its own) whose delivered messages give the
 * throughput. The repeats interleave across the peers (memcpy, PINNED, FIXED_SEGMENT, NIO, Aeron,
 * memcpy, …), each peer opened for its repeat and closed after, so none competes with another
 * for the cores; ratios are per repeat against the memcpy before it; the RTTs of all repeats are
 * merged. A loss or a stall flags the point. UDP may drop: a stalled window reopens, only whole delivered messages count, and a ping
 * not answered in time ({@link UdpPeer#lossTimeoutNanos}) is counted lost; the progress lines say
 * when either happened.
 *
 * <p>NIO sends one message as one datagram, so it is measured only up to {@value NioUdpPeer#LARGEST}
 * bytes; unetmm and Aeron fragment larger messages themselves. Whatever is left out at a size is
 * said once in {@code notes}.
 */
final class CompareUdpRun {
    private final CompareRun.Settings settings;
    private final Consumer<String> progress;
    private final List<String> notes;
    /** Every repeat, in the order measured. */
    private final List<ComparePoint.Repeat> samples;
    /** A note's verb ("left out at", "measured at") and reason → the paths and sizes it is about. */
    private final Map<List<String>, List<Set<String>>> grouped = new LinkedHashMap<>();

    /** The peers measured instead of the udp ones (the cross-process compare), or null. */
    private final List<Row> given;

    /** A measured peer and its row label. */
    record Row(String path, UdpPeer peer) {
    }

    CompareUdpRun(CompareRun.Settings settings, Consumer<String> progress, List<String> notes,
                  List<ComparePoint.Repeat> samples) {
        this(settings, progress, notes, samples, null);
    }

    /** The same sweep over {@code rows} (null: the udp peers of the transport's host). */
    CompareUdpRun(CompareRun.Settings settings, Consumer<String> progress, List<String> notes,
                  List<ComparePoint.Repeat> samples, List<Row> rows) {
        this.samples = samples;
        this.settings = settings;
        this.progress = progress;
        this.notes = notes;
        this.given = rows;
    }

    List<ComparePoint> run() {
        String transport = settings.transport();
        List<Row> rows = given != null ? new ArrayList<>(given) : udpRows(transport);
        int total = 0;
        for (int size : settings.sizes()) {
            total++;
            for (Row row : rows) {
                total += unavailable(row, size) == null ? 1 : 0;
            }
        }
        total *= settings.repeats();
        warmUp(rows);
        List<ComparePoint> points = new ArrayList<>();
        int done = 0;
        for (int size : settings.sizes()) {
            CompareRun.Accumulator memcpy = new CompareRun.Accumulator(transport, "MEMCPY", size, ComparePoint.ONE_WAY, false);
            Map<Row, CompareRun.Accumulator> measured = new LinkedHashMap<>();
            for (Row row : rows) {
                String why = unavailable(row, size);
                if (why != null) {
                    note("left out at", why, row.path(), size);
                    continue;
                }
                if (row.peer() instanceof UnetmmUdpPeer unetmm && unetmm.overBudget(size) != null) {
                    note("measured at", unetmm.overBudget(size), row.path(), size);
                }
                measured.put(row, new CompareRun.Accumulator(transport, row.path(), size, ComparePoint.RTT_HALF, true));
            }
            NativeBuffer[] sources = CompareRun.sendBuffers(size, settings.buffers());
            NativeBuffer destination = NativeMemory.allocate(Math.max(size, 1));
            try {
                for (int repeat = 0; repeat < settings.repeats(); repeat++) {
                    progress.accept(CompareRun.step(settings, ++done, total, size, "memcpy", repeat));
                    ComparePoint.Repeat limit = CompareRun.record(samples, memcpy,
                            CompareRun.memcpyRepeat(settings, size, repeat, sources, destination.buffer(), memcpy.latency), 1.0);
                    for (Map.Entry<Row, CompareRun.Accumulator> e : measured.entrySet()) {
                        progress.accept(CompareRun.step(settings, ++done, total, size, e.getKey().path(), repeat));
                        CompareRun.record(samples, e.getValue(), measure(e.getKey(), size, repeat, e.getValue()),
                                limit.gigabytesPerSecond());
                    }
                }
            } finally {
                for (NativeBuffer b : sources) {
                    if (b != null) {
                        b.close();
                    }
                }
                destination.close();
            }
            points.add(memcpy.point(settings.spreadThreshold()));
            measured.values().forEach(acc -> points.add(acc.point(settings.spreadThreshold())));
        }
        grouped.forEach((note, about) -> notes.add(String.join(", ", about.get(0)) + " " + note.get(0) + " "
                + String.join(", ", about.get(1)) + ": " + note.get(1)));
        return points;
    }

    private List<Row> udpRows(String transport) {
        String host = UdpWire.host(transport);
        TlbConfig tlb = new TlbConfig(settings.tlbSets(), settings.tlbWays(), settings.policy(), settings.seed());
        List<Row> rows = new ArrayList<>(List.of(
                new Row(SendPath.PINNED.name(), new UnetmmUdpPeer(SendPath.PINNED, transport, tlb)),
                new Row(SendPath.FIXED_SEGMENT.name(), new UnetmmUdpPeer(SendPath.FIXED_SEGMENT, transport, tlb)),
                new Row("NIO_DIRECT", new NioUdpPeer(true, host)),
                new Row("NIO_HEAP", new NioUdpPeer(false, host))));
        if (settings.aeron()) {
            rows.add(new Row("AERON_UDP", new AeronUdpPeer("yield", YieldingIdleStrategy::new, host)));
        }
        return rows;
    }

    /**
     * Compiles every peer's data path before the first point, so a short first measurement is not
     * of the interpreter: a ping-pong and a stream of 64 B (one datagram, copied in by the udp wire)
     * and of 64 KiB (two fragments, placed directly), as long as the loopback sweep's warm-up.
     */
    private void warmUp(List<Row> rows) {
        long millis = Math.min(200, 2 * settings.warmupMillis() + 20) / 4;
        progress.accept(String.format("warming up every peer's data path (%d ms each)", 4 * millis));
        for (Row row : rows) {
            for (int size : new int[] {64, 64 << 10}) {
                if (unavailable(row, size) != null) {
                    continue;
                }
                try {
                    row.peer().open(size);
                    try {
                        row.peer().pingPong(UdpPeer.Span.millis(0), UdpPeer.Span.millis(millis), new Histogram(3));
                        row.peer().stream(0, millis);
                    } finally {
                        row.peer().close();
                    }
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) { // a socket or the media driver failed
                    throw new IllegalStateException(row.path() + " failed to warm up: " + e.getMessage(), e);
                }
            }
        }
    }

    /** Why {@code row} is not measured at {@code size}, or null. */
    private static String unavailable(Row row, int size) {
        if (row.peer() instanceof NioUdpPeer && size > NioUdpPeer.LARGEST) {
            return "a DatagramChannel sends a message as one datagram, at most " + NioUdpPeer.LARGEST + " B";
        }
        if (row.peer() instanceof UnetmmUdpPeer unetmm) {
            return unetmm.unavailable(size);
        }
        return null;
    }

    /** Adds {@code path} at {@code size} to the note "<paths> {@code what} <sizes>: {@code why}". */
    private void note(String what, String why, String path, int size) {
        List<Set<String>> about = grouped.computeIfAbsent(List.of(what, why),
                k -> List.of(new LinkedHashSet<>(), new LinkedHashSet<>()));
        about.get(0).add(path);
        about.get(1).add(ByteSize.human(size));
    }

    /**
     * One repeat of {@code row} at {@code size}: the peer opened, a ping-pong whose round trips go into the
     * point's histogram, a stream whose delivered messages are the repeat, the peer closed. A loss or a
     * stall raises the point's flag, and is said on the progress line.
     */
    private ComparePoint.Repeat measure(Row row, int size, int repeat, CompareRun.Accumulator into) {
        UdpPeer peer = row.peer();
        long lost;
        java.time.Instant startedAt;
        UdpPeer.StreamResult result;
        long before = into.latency.getTotalCount();
        try {
            peer.open(size);
            try {
                lost = peer.pingPong(UdpPeer.Span.millis(settings.warmupMillis() / 2),
                        UdpPeer.Span.millis(Math.max(1, settings.measureMillis() / 2)), into.latency);
                startedAt = java.time.Instant.now();
                result = peer.stream(settings.warmupMillis(), settings.measureMillis());
            } finally {
                peer.close();
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) { // a socket or the media driver failed
            throw new IllegalStateException(row.path() + " at " + size + " B failed: " + e.getMessage(), e);
        }
        List<String> remarks = new ArrayList<>();
        String asked = settings.tlbSets() + "×" + settings.tlbWays();
        if (peer instanceof UnetmmUdpPeer unetmm && !unetmm.tlbShape().equals(asked) && repeat == 0) {
            remarks.add("TLB grown from " + asked + " to " + unetmm.tlbShape() + " per NIC to hold the working set");
        }
        if (lost > 0) {
            into.flags.add(ComparePoint.LOSS);
            remarks.add(lost + " of " + (into.latency.getTotalCount() - before + lost) + " round trips lost");
        }
        if (result.stalls() > 0) {
            into.flags.add(ComparePoint.STALL);
            remarks.add("the stream window stalled " + result.stalls() + " times (messages or acknowledgements lost or late, "
                    + UdpPeer.Window.forSize(size).stallNanos() / 1_000_000 + " ms each)");
        }
        if (!remarks.isEmpty()) {
            progress.accept(remarks.stream().collect(Collectors.joining("; ", "        " + row.path() + ": ", "")));
        }
        return new ComparePoint.Repeat(row.path(), size, repeat, startedAt, result.messages(), result.seconds(),
                result.tlbHitRate(), result.pinsPerMessage(), Double.NaN);
    }
}
