package org.unetmm.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
 * as NIO cannot send 65,536 B in one); a peer is opened afresh for each size, so every posted
 * buffer is the message size. Rounds interleave the peers (in a rotating order), so a
 * noisy moment of the machine hits them alike; RTTs of all rounds are merged per peer, stream
 * rates are the median of the rounds. The ratios quoted are unetmm's RTT over NIO-direct's and
 * its stream rate over NIO-heap's. Writes {@code udp-compare.csv} and {@code run.json} under
 * {@code results/<timestamp>/}.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "unetmm vs Java NIO vs Aeron over UDP loopback, side by side: ping-pong RTT (64 B, 1 KiB) and a 64 KiB-class stream.")
public final class UdpCompareCommand implements Callable<Integer> {
    private static final int[] RTT_SIZES = {64, 1024};

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--rounds", defaultValue = "5", description = "rounds over all peers (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--count", defaultValue = "20000", description = "measured round trips per size, peer and round (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--warmup", defaultValue = "5000", description = "round trips before measuring, each time (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--stream-ms", defaultValue = "1000", description = "stream measurement per peer and round, ms (default ${DEFAULT-VALUE})")
    long streamMillis;

    @Option(names = "--stream-size", defaultValue = "65000", description = "stream message bytes, at most 65,467 (default ${DEFAULT-VALUE})")
    int streamSize;

    @Option(names = "--quick", description = "2 rounds, 5,000 round trips, 300 ms streams: a smoke run in about 15 s")
    boolean quick;

    @Option(names = "--udp-options", defaultValue = "", description = "query options for unetmm's udp URI, e.g. copybreak=0")
    String udpOptions;

    @Option(names = "--aeron-idle", defaultValue = "yield", description = "Aeron's idle strategy, driver and application: spin, yield or backoff (default ${DEFAULT-VALUE})")
    String aeronIdle;

    @Option(names = "--no-aeron", description = "leave Aeron out")
    boolean noAeron;

    @CommandLine.Mixin
    ResultsOptions output;

    /** One peer's measurements over all rounds. */
    record Row(String peer, Histogram[] rtt, double[] streamRates) {
        double rttMicros(int size, double percentile) {
            return rtt[size].getValueAtPercentile(percentile) / 1e3;
        }

        double streamMegabytesPerSecond() {
            double[] sorted = streamRates.clone();
            Arrays.sort(sorted);
            return sorted[sorted.length / 2] / 1e6;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (quick) {
            rounds = 2;
            count = 5_000;
            warmup = 2_000;
            streamMillis = 300;
        }
        if (rounds < 1 || count < 1 || warmup < 0 || streamMillis < 10) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rounds and --count must be positive,"
                    + " --warmup >= 0 and --stream-ms >= 10");
        }
        if (streamSize < 8 || streamSize > 65_467) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--stream-size must be in 8..65467 bytes"
                    + " (one datagram on every wire), got " + streamSize);
        }
        output.validate(spec.commandLine());
        String udp = "udp://127.0.0.1:0" + (udpOptions.isBlank() ? "" : "?" + udpOptions);
        List<UdpPeer> peers = new ArrayList<>(List.of(new UnetmmUdpPeer(SendPath.PINNED, udp),
                new UnetmmUdpPeer(SendPath.FIXED_SEGMENT, udp), new NioUdpPeer(true), new NioUdpPeer(false)));
        if (!noAeron) {
            peers.add(new AeronUdpPeer(aeronIdle, switch (aeronIdle) {
                case "spin" -> BusySpinIdleStrategy::new;
                case "yield" -> YieldingIdleStrategy::new;
                case "backoff" -> BackoffIdleStrategy::new;
                default -> throw new CommandLine.ParameterException(spec.commandLine(),
                        "--aeron-idle must be spin, yield or backoff, got '" + aeronIdle + "'");
            }));
        }
        Map<UdpPeer, Row> rows = new LinkedHashMap<>();
        for (UdpPeer peer : peers) {
            rows.put(peer, new Row(peer.name(), new Histogram[] {new Histogram(60_000_000_000L, 3),
                    new Histogram(60_000_000_000L, 3)}, new double[rounds]));
        }
        PrintStream progress = System.err;
        long started = System.nanoTime();
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < peers.size(); k++) {
                UdpPeer peer = peers.get((k + round) % peers.size());
                Row row = rows.get(peer);
                for (int s = 0; s < RTT_SIZES.length; s++) {
                    peer.open(RTT_SIZES[s]); // each size its own round: posted buffers are the message size
                    try {
                        peer.pingPong(UdpPeer.Span.rounds(warmup), UdpPeer.Span.rounds(count), row.rtt[s]);
                    } finally {
                        peer.close();
                    }
                }
                peer.open(streamSize);
                try {
                    row.streamRates[round] = peer.stream(Math.min(300, streamMillis), streamMillis).bytesPerSecond(streamSize);
                } finally {
                    peer.close();
                }
                progress.printf("[round %d/%d] %-14s done (%.0f s)%n", round + 1, rounds, peer.name(),
                        (System.nanoTime() - started) / 1e9);
            }
        }
        Row nioDirect = rows.get(peers.get(2));
        Row nioHeap = rows.get(peers.get(3));
        List<String> csv = new ArrayList<>();
        csv.add("peer,rtt64_p50_us,rtt64_p99_us,rtt64_p999_us,rtt1k_p50_us,rtt1k_p99_us,rtt1k_p999_us,stream_MBps,"
                + "rtt64_vs_nio_direct,rtt1k_vs_nio_direct,stream_vs_nio_heap");
        for (Row row : rows.values()) {
            csv.add(String.format("%s,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.1f,%.3f,%.3f,%.3f", row.peer(),
                    row.rttMicros(0, 50), row.rttMicros(0, 99), row.rttMicros(0, 99.9),
                    row.rttMicros(1, 50), row.rttMicros(1, 99), row.rttMicros(1, 99.9), row.streamMegabytesPerSecond(),
                    row.rttMicros(0, 50) / nioDirect.rttMicros(0, 50), row.rttMicros(1, 50) / nioDirect.rttMicros(1, 50),
                    row.streamMegabytesPerSecond() / nioHeap.streamMegabytesPerSecond()));
        }
        Path dir = RunRecord.newRunDirectory(output.results);
        Files.write(dir.resolve("udp-compare.csv"), csv);
        Map<String, Object> configuration = new LinkedHashMap<>();
        configuration.put("rounds", rounds);
        configuration.put("count", count);
        configuration.put("warmup", warmup);
        configuration.put("streamMillis", streamMillis);
        configuration.put("streamSize", streamSize);
        configuration.put("unetmmTransport", udp);
        configuration.put("aeron", noAeron ? "off" : "aeron-all " + io.aeron.AeronVersion.VERSION
                + ", SHARED driver, idle " + aeronIdle);
        RunRecord.writeRunJson(dir, "pingpong compare", configuration);
        PrintStream out = System.out;
        if (output.csv()) {
            csv.forEach(out::println);
            return 0;
        }
        out.printf("UDP loopback, %d rounds x %d round trips per size; stream of %d B messages, %d ms per round%n",
                rounds, count, streamSize, streamMillis);
        out.printf("%-14s | %21s %8s | %21s %8s | %12s %10s%n", "peer", "64 B RTT p50/p99 us", "÷NIO-dir",
                "1 KiB RTT p50/p99 us", "÷NIO-dir", "stream MB/s", "÷NIO-heap");
        for (Row row : rows.values()) {
            out.printf("%-14s | %10.2f / %8.2f %8.3f | %10.2f / %8.2f %8.3f | %12.1f %10.3f%n", row.peer(),
                    row.rttMicros(0, 50), row.rttMicros(0, 99), row.rttMicros(0, 50) / nioDirect.rttMicros(0, 50),
                    row.rttMicros(1, 50), row.rttMicros(1, 99), row.rttMicros(1, 50) / nioDirect.rttMicros(1, 50),
                    row.streamMegabytesPerSecond(), row.streamMegabytesPerSecond() / nioHeap.streamMegabytesPerSecond());
        }
        out.println();
        out.println("results: " + dir.resolve("udp-compare.csv") + ", " + dir.resolve("run.json"));
        return 0;
    }
}
