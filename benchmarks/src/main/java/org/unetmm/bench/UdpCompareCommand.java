package org.unetmm.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.unetmm.SendPath;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm pingpong compare}: unetmm (pinned and fixed segment) against Java NIO
 * {@code DatagramChannel} (direct and heap buffers) and Aeron UDP, side by side in one process
 * run over UDP loopback: ping-pong RTT at 64 B and 1 KiB, and a one-way stream of 64 KiB-class
 * messages (65,000 B by default: the largest round size one datagram carries on every wire here,
 * as NIO cannot send 65,536 B in one); a peer is opened afresh for each measurement, so every
 * posted buffer is the message size.
 *
 * <p>The repeats are interleaved across the peers: repeat 1 of the 64 B RTT of every peer, then of
 * the 1 KiB RTT, then of the stream, then repeat 2, … (the peers' order rotating from repeat to
 * repeat, so none is always first after another's run), so a noisy moment of the machine hits
 * them alike. Each measure is reported as the median with min and max over the repeats (an RTT
 * repeat's value is its p50; p99 and p99.9 are over all repeats' round trips). The ratios, RTT ÷
 * NIO direct's and stream rate ÷ NIO heap's, are taken per repeat, against the baseline's value of
 * the same repeat, and then summarised, so drift of the machine between repeats cancels. A point
 * whose repeats spread by more than {@link #SPREAD_FLAG} of its median, lost round trips or a
 * stalled stream window are flagged in the table, CSV and JSON. {@code unetmm info}'s warnings are
 * printed before the run and kept in {@code run.json}. Writes {@code udp-compare.csv},
 * {@code udp-compare.json} and {@code run.json} (opened at the start) under
 * {@code results/<timestamp>/}.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "unetmm vs Java NIO vs Aeron over UDP loopback, side by side: ping-pong RTT (64 B, 1 KiB) and a"
                + " 64 KiB-class stream; median [min–max] over repeats interleaved across the peers.",
        footer = {"", "Examples:", "  unetmm pingpong compare --quick",
                "  unetmm pingpong compare --repeats 7 --count 50000 --format json",
                "  unetmm pingpong compare --no-aeron --udp-options copybreak=0"})
public final class UdpCompareCommand implements Callable<Integer> {
    /** (max − min) ÷ median over the repeats above which a point is flagged {@link ComparePoint#SPREAD}. */
    static final double SPREAD_FLAG = 0.25;
    private static final int MAX_STREAM_SIZE = 65_467;

    /** What is measured for every peer: an RTT at a size, or the stream, with the peer its ratio is taken to. */
    private record Measure(String name, int size, boolean rtt, int baseline) {
    }

    /** NIO direct (peer 2) is the RTT baseline, NIO heap (peer 3) the stream's. */
    private static final int NIO_DIRECT = 2;
    private static final int NIO_HEAP = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--repeats", defaultValue = "5", description = "repeats of every measure, interleaved"
            + " across the peers (default ${DEFAULT-VALUE}, quick 3)")
    int repeats;

    @Option(names = "--count", defaultValue = "20000", description = "measured round trips per size, peer and repeat (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--warmup", defaultValue = "5000", description = "round trips before measuring, each time (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--stream-ms", defaultValue = "1000", description = "stream measurement per peer and repeat, ms (default ${DEFAULT-VALUE})")
    long streamMillis;

    @Option(names = "--stream-size", defaultValue = "65000", converter = ByteSize.class, description = "stream message"
            + " size (" + ByteSize.FORMS + "), at most 65,467 B: one datagram on every wire (default ${DEFAULT-VALUE})")
    int streamSize;

    @Option(names = "--quick", description = "3 repeats, 3,000 round trips, 200 ms streams: a smoke run in about 20 s")
    boolean quick;

    @Option(names = "--udp-options", defaultValue = "", description = "query options for unetmm's udp URI, e.g. copybreak=0")
    String udpOptions;

    @Option(names = "--aeron-idle", defaultValue = "yield", description = "Aeron's idle strategy, driver and application: spin, yield or backoff (default ${DEFAULT-VALUE})")
    String aeronIdle;

    @Option(names = "--no-aeron", description = "leave Aeron out")
    boolean noAeron;

    @CommandLine.Mixin
    ResultsOptions output;

    /**
     * One peer's measure over the repeats: a value per repeat (RTT p50 in µs, or stream MB/s) and
     * its ratio to the baseline peer's value of the same repeat.
     */
    record Point(String peer, String measure, double[] values, double[] ratios, Histogram rtt, long lost, long stalls,
                 List<String> flags) {
        ComparePoint.Spread value() {
            return ComparePoint.Spread.of(values);
        }

        ComparePoint.Spread ratio() {
            return ComparePoint.Spread.of(ratios);
        }

        double micros(double percentile) {
            return rtt == null ? Double.NaN : rtt.getValueAtPercentile(percentile) / 1e3;
        }
    }

    /** One timed measurement, in the order they ran. */
    record Sample(String peer, String measure, int repeat, Instant startedAt, double seconds, double value) {
    }

    @Override
    public Integer call() throws Exception {
        if (quick) {
            repeats = 3;
            count = 3_000;
            warmup = 1_000;
            streamMillis = 200;
        }
        CommandLine cl = spec.commandLine();
        ByteSize.checkCount(cl, "--repeats", repeats, 1, 1000);
        ByteSize.checkCount(cl, "--count", count, 1, 1_000_000_000);
        ByteSize.checkCount(cl, "--warmup", warmup, 0, 1_000_000_000);
        ByteSize.checkCount(cl, "--stream-ms", streamMillis, 10, 600_000);
        ByteSize.check(cl, "--stream-size", streamSize, 8, MAX_STREAM_SIZE, "one datagram on every wire");
        output.validate(cl, true);
        String udp = "udp://127.0.0.1:0" + (udpOptions.isBlank() ? "" : "?" + udpOptions);
        List<UdpPeer> peers = new ArrayList<>(List.of(new UnetmmUdpPeer(SendPath.PINNED, udp),
                new UnetmmUdpPeer(SendPath.FIXED_SEGMENT, udp), new NioUdpPeer(true), new NioUdpPeer(false)));
        if (!noAeron) {
            peers.add(new AeronUdpPeer(aeronIdle, switch (aeronIdle) {
                case "spin" -> BusySpinIdleStrategy::new;
                case "yield" -> YieldingIdleStrategy::new;
                case "backoff" -> BackoffIdleStrategy::new;
                default -> throw new CommandLine.ParameterException(cl, "--aeron-idle must be spin, yield or backoff, got '"
                        + aeronIdle + "'");
            }));
        }
        List<Measure> measures = List.of(new Measure("rtt64", 64, true, NIO_DIRECT), new Measure("rtt1k", 1024, true, NIO_DIRECT),
                new Measure("stream", streamSize, false, NIO_HEAP));
        PrintStream progress = System.err;
        List<String> warnings = InfoCommand.warnings(InfoCommand.DEFAULT_SAMPLE_MILLIS);
        warnings.forEach(w -> progress.println("warning: " + w));
        Path dir = RunRecord.newRunDirectory(output.results);
        RunRecord record = RunRecord.open(dir, "pingpong compare", configuration(udp));
        record.put("warnings", warnings);
        record.put("kernelFeatures", RunRecord.kernelFeatures("udp:"));

        // values[measure][peer][repeat], lost and stalls[measure][peer], rtt[measure][peer] over all repeats
        int m = measures.size();
        int n = peers.size();
        double[][][] values = new double[m][n][repeats];
        long[][] lost = new long[m][n];
        long[][] stalls = new long[m][n];
        Histogram[][] rtt = new Histogram[m][n];
        List<Sample> samples = new ArrayList<>();
        long started = System.nanoTime();
        for (int r = 0; r < repeats; r++) {
            for (int i = 0; i < m; i++) {
                Measure measure = measures.get(i);
                for (int k = 0; k < n; k++) {
                    int p = (k + r) % n;
                    UdpPeer peer = peers.get(p);
                    Instant at = Instant.now();
                    long t0 = System.nanoTime();
                    peer.open(measure.size());
                    try {
                        if (measure.rtt()) {
                            Histogram one = new Histogram(60_000_000_000L, 3);
                            lost[i][p] += peer.pingPong(UdpPeer.Span.rounds(warmup), UdpPeer.Span.rounds(count), one);
                            values[i][p][r] = one.getValueAtPercentile(50) / 1e3;
                            if (rtt[i][p] == null) {
                                rtt[i][p] = new Histogram(60_000_000_000L, 3);
                            }
                            rtt[i][p].add(one);
                        } else {
                            UdpPeer.StreamResult s = peer.stream(Math.min(300, streamMillis), streamMillis);
                            values[i][p][r] = s.bytesPerSecond(streamSize) / 1e6;
                            stalls[i][p] += s.stalls();
                        }
                    } finally {
                        peer.close();
                    }
                    samples.add(new Sample(peer.name(), measure.name(), r, at, (System.nanoTime() - t0) / 1e9, values[i][p][r]));
                }
                progress.printf("[repeat %d/%d] %-6s of every peer done (%.0f s)%n", r + 1, repeats, measure.name(),
                        (System.nanoTime() - started) / 1e9);
            }
        }
        // points[peer][measure]
        List<List<Point>> rows = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            List<Point> row = new ArrayList<>();
            for (int i = 0; i < m; i++) {
                double[] base = values[i][measures.get(i).baseline()];
                double[] ratios = new double[repeats];
                for (int r = 0; r < repeats; r++) {
                    ratios[r] = values[i][p][r] / base[r];
                }
                List<String> flags = new ArrayList<>();
                if (lost[i][p] > 0) {
                    flags.add(ComparePoint.LOSS);
                }
                if (stalls[i][p] > 0) {
                    flags.add(ComparePoint.STALL);
                }
                if (repeats > 1 && ComparePoint.Spread.of(values[i][p]).relative() > SPREAD_FLAG) {
                    flags.add(ComparePoint.SPREAD);
                }
                row.add(new Point(peers.get(p).name(), measures.get(i).name(), values[i][p], ratios, rtt[i][p], lost[i][p],
                        stalls[i][p], flags));
            }
            rows.add(row);
        }
        List<String> csv = csv(rows);
        Files.write(dir.resolve("udp-compare.csv"), csv);
        Map<String, Object> end = new LinkedHashMap<>();
        end.put("repeatsMeasured", samples.size());
        end.put("repeatDurations", samples.stream().map(UdpCompareCommand::sample).toList());
        record.finish(end);
        String json = RunRecord.JSON.writeValueAsString(json(record.asMap(), rows, samples));
        Files.writeString(dir.resolve("udp-compare.json"), json + "\n");
        PrintStream out = System.out;
        if (output.json()) {
            out.println(json);
            return 0;
        }
        if (output.csv()) {
            csv.forEach(out::println);
            return 0;
        }
        printTable(rows, out);
        out.println();
        out.println("results: " + dir.resolve("udp-compare.csv") + ", " + dir.resolve("udp-compare.json") + ", "
                + dir.resolve("run.json"));
        return 0;
    }

    private Map<String, Object> configuration(String udp) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("repeats", repeats);
        c.put("repeatOrder", "interleaved: per repeat, the 64 B RTT of every peer, the 1 KiB RTT of every peer, the stream"
                + " of every peer; the peers' order rotates by one each repeat");
        c.put("count", count);
        c.put("warmup", warmup);
        c.put("streamMillis", streamMillis);
        c.put("streamSize", streamSize);
        c.put("spreadFlag", SPREAD_FLAG);
        c.put("ratios", "per repeat: RTT p50 ÷ NIO direct's of the same repeat, stream MB/s ÷ NIO heap's; then median, min, max");
        c.put("unetmmTransport", udp);
        c.put("aeron", noAeron ? "off" : "aeron-all " + io.aeron.AeronVersion.VERSION + ", SHARED driver, idle " + aeronIdle);
        return c;
    }

    private void printTable(List<List<Point>> rows, PrintStream out) {
        out.printf("UDP loopback, %d repeats interleaved across the peers, %d round trips per size and repeat; stream of %d B"
                + " messages, %d ms per repeat%n", repeats, count, streamSize, streamMillis);
        out.printf("%-14s | %-24s %-20s | %-24s %-20s | %-24s %-20s | %s%n", "peer", "64 B RTT p50 us [min–max]",
                "÷NIO-dir [min–max]", "1 KiB RTT p50 us", "÷NIO-dir", "stream MB/s", "÷NIO-heap", "flags");
        for (List<Point> row : rows) {
            StringBuilder line = new StringBuilder(String.format("%-14s", row.get(0).peer()));
            List<String> flags = new ArrayList<>();
            for (Point p : row) {
                line.append(String.format(" | %-24s %-20s", spread(p.value(), p.rtt() == null ? "%.1f" : "%.2f"),
                        spread(p.ratio(), "%.3f")));
                p.flags().forEach(f -> flags.add(p.measure() + ":" + f));
            }
            out.println(line.append(" | ").append(flags.isEmpty() ? "-" : String.join(",", flags)));
        }
        out.printf("median [min–max] over the repeats; ratios per repeat against the baseline's same repeat; p99 in the CSV"
                + " and JSON; flags: %s = (max-min)/median over %.2f, %s = round trips lost, %s = the stream window stalled%n",
                ComparePoint.SPREAD, SPREAD_FLAG, ComparePoint.LOSS, ComparePoint.STALL);
    }

    private static String spread(ComparePoint.Spread s, String format) {
        return String.format(format + " [" + format + "–" + format + "]", s.median(), s.min(), s.max());
    }

    /** Today's columns (the p50 and ratio now medians over the repeats), then each one's min and max, the repeats and flags. */
    private List<String> csv(List<List<Point>> rows) {
        List<String> csv = new ArrayList<>();
        csv.add("peer,rtt64_p50_us,rtt64_p99_us,rtt64_p999_us,rtt1k_p50_us,rtt1k_p99_us,rtt1k_p999_us,stream_MBps,"
                + "rtt64_vs_nio_direct,rtt1k_vs_nio_direct,stream_vs_nio_heap,repeats,"
                + "rtt64_p50_us_min,rtt64_p50_us_max,rtt1k_p50_us_min,rtt1k_p50_us_max,stream_MBps_min,stream_MBps_max,"
                + "rtt64_vs_nio_direct_min,rtt64_vs_nio_direct_max,rtt1k_vs_nio_direct_min,rtt1k_vs_nio_direct_max,"
                + "stream_vs_nio_heap_min,stream_vs_nio_heap_max,flags");
        for (List<Point> row : rows) {
            Point r64 = row.get(0);
            Point r1k = row.get(1);
            Point stream = row.get(2);
            List<String> flags = new ArrayList<>();
            row.forEach(p -> p.flags().forEach(f -> flags.add(p.measure() + ":" + f)));
            csv.add(String.format("%s,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.1f,%.3f,%.3f,%.3f,%d,%.2f,%.2f,%.2f,%.2f,%.1f,%.1f,"
                            + "%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%s", r64.peer(),
                    r64.value().median(), r64.micros(99), r64.micros(99.9), r1k.value().median(), r1k.micros(99),
                    r1k.micros(99.9), stream.value().median(), r64.ratio().median(), r1k.ratio().median(),
                    stream.ratio().median(), repeats, r64.value().min(), r64.value().max(), r1k.value().min(),
                    r1k.value().max(), stream.value().min(), stream.value().max(), r64.ratio().min(), r64.ratio().max(),
                    r1k.ratio().min(), r1k.ratio().max(), stream.ratio().min(), stream.ratio().max(), String.join(";", flags)));
        }
        return csv;
    }

    /** udp-compare.json: the run record, every point with its median, min and max, and every repeat as it ran. */
    private static Map<String, Object> json(Map<String, Object> run, List<List<Point>> rows, List<Sample> samples) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("run", run);
        List<Object> points = new ArrayList<>();
        for (List<Point> row : rows) {
            for (Point p : row) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("peer", p.peer());
                j.put("measure", p.measure());
                j.put("unit", p.rtt() != null ? "rtt p50 us" : "MB/s");
                CompareJson.spread(j, "value", p.value(), "no repeat measured");
                CompareJson.spread(j, "ratio", p.ratio(), "the baseline measured 0");
                if (p.rtt() != null) {
                    CompareJson.number(j, "p99Micros", p.micros(99), "no round trip measured");
                    CompareJson.number(j, "p999Micros", p.micros(99.9), "no round trip measured");
                    j.put("lost", p.lost());
                } else {
                    j.put("stalls", p.stalls());
                }
                j.put("repeats", p.values().length);
                j.put("flags", p.flags());
                points.add(j);
            }
        }
        doc.put("points", points);
        List<Object> rs = new ArrayList<>();
        for (Sample s : samples) {
            Map<String, Object> j = sample(s);
            CompareJson.number(j, "value", s.value(), "nothing measured");
            rs.add(j);
        }
        doc.put("samples", rs);
        return doc;
    }

    /** Which repeat ran when and for how long. */
    private static Map<String, Object> sample(Sample s) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("peer", s.peer());
        j.put("measure", s.measure());
        j.put("repeat", s.repeat());
        j.put("startedAt", s.startedAt().toString());
        j.put("seconds", s.seconds());
        return j;
    }
}
