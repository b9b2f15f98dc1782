package org.unetmm.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.trace.PageTraceRecorder;
import org.unetmm.tlb.trace.TraceFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm compare}: the fixed-segment path against the pinned path, per message size, with
 * a raw memcpy of the same bytes as the physical limit, in one run, the repeats interleaved across
 * the paths. Prints a table (or CSV with {@code --format csv}, JSON with {@code --format json}) of
 * each point's median with min and max and its flags, and writes {@code compare.csv},
 * {@code compare.json}, {@code compare.png} and {@code run.json} (opened at the start) under
 * {@code results/<timestamp>/}. On {@code --transport udp://host:port} the two paths cross
 * the udp wire between two NICs of this process, beside Java NIO and Aeron UDP
 * ({@link CompareUdpRun}); latencies there are half a ping-pong's round trip. On
 * {@code --transport shm:[name]} the same sweep runs across two processes, the receiver in a second
 * JVM: pinned and fixed over the shm wire, Aeron IPC and the udp wire beside ({@link ShmCompareRun}).
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Compare base U-Net's fixed segment with U-Net/MM's pinned buffers, per message size.",
        footer = {"", "Examples:", "  unetmm compare --quick",
                "  unetmm compare --sizes 4KiB,64KiB,1MiB --repeats 5 --format json",
                "  unetmm compare --transport udp://127.0.0.1:0 --quick   (unetmm, NIO and Aeron over the udp wire)"})
public final class CompareCommand implements Callable<Integer> {
    private static final List<Integer> DEFAULT_SIZES = List.of(64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304);
    private static final List<Integer> QUICK_SIZES = List.of(64, 4096, 65536, 1048576);
    private static final int MAX_SIZE = 64 << 20;
    /** The largest message the udp sweep sizes its buffers, windows and Aeron terms for. */
    private static final int MAX_UDP_SIZE = 4 << 20;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    OutputOptions output;

    @Option(names = "--sizes", split = ",", converter = ByteSize.class, description = "message sizes, comma-separated: "
            + ByteSize.FORMS + " (default 64..4MiB, powers of 4; at most 64MiB, over udp 4MiB)")
    List<Integer> sizes;

    @Option(names = "--quick", description = "a short sweep (4 sizes, short runs) that finishes well under a minute")
    boolean quick;

    @Option(names = "--buffers", description = "distinct send buffers to cycle through, to exercise TLB and pin cache (default ${DEFAULT-VALUE})", defaultValue = "1")
    int buffers;

    @Option(names = "--warmup-ms", description = "warm-up per point in ms (default 300, quick 50)")
    Long warmupMillis;

    @Option(names = "--measure-ms", description = "measurement per repeat in ms (default 700, quick 120)")
    Long measureMillis;

    @Option(names = "--repeats", description = "measurements per point, interleaved across the paths; the median, min and"
            + " max are reported (default 3, quick 3)")
    Integer repeats;

    @CommandLine.Mixin
    SpreadFlag spread;

    @Option(names = "--no-aeron", description = "leave out the Aeron peer: IPC on loopback:, UDP on udp:// (embedded media driver under /dev/shm)")
    boolean noAeron;

    @Option(names = "--tlb-sets", description = "TLB sets (power of two, default ${DEFAULT-VALUE})", defaultValue = "1024")
    int tlbSets;

    @Option(names = "--tlb-ways", description = "TLB ways (default ${DEFAULT-VALUE})", defaultValue = "4")
    int tlbWays;

    @Option(names = "--policy", description = "TLB replacement: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})", defaultValue = "LRU")
    ReplacementPolicy policy;

    @Option(names = "--seed", description = "seed for RANDOM replacement (default ${DEFAULT-VALUE})", defaultValue = "1")
    long seed;

    @Option(names = "--record-trace", description = "write the page stream the NIC's TLB saw (loopback only) to this"
            + " file (.csv: libCacheSim's CSV, else plain text), the first --record-limit lookups")
    Path recordTrace;

    @Option(names = "--record-limit", description = "lookups --record-trace keeps (default ${DEFAULT-VALUE}, 12 bytes each)",
            defaultValue = "4000000")
    int recordLimit;

    @Override
    public Integer call() throws IOException, InterruptedException {
        CompareRun.Settings settings = validate();
        PrintStream out = System.out;
        PrintStream progress = System.err;
        List<String> warnings = InfoCommand.warnings(InfoCommand.DEFAULT_SAMPLE_MILLIS);
        warnings.forEach(w -> progress.println("warning: " + w));
        Path dir = RunRecord.newRunDirectory(output.results);
        Map<String, Object> configuration = configuration(settings);
        RunRecord record = RunRecord.open(dir, "compare", configuration);
        record.put("warnings", warnings);
        record.put("kernelFeatures", RunRecord.kernelFeatures(settings.transport()));
        long started = System.nanoTime();
        CompareRun run = new CompareRun(settings, line -> progress.printf("%s (%.0f s)%n", line,
                (System.nanoTime() - started) / 1e9));
        PageTraceRecorder recorder = recordTrace != null ? new PageTraceRecorder(recordLimit) : null;
        List<ComparePoint> points = run.recordingInto(recorder).run();
        if (recorder != null) {
            TraceFile.write(recorder.trace("compare " + settings.transport()), recordTrace, NativeMemory.pageSize());
            run.notes().add(String.format("recorded the first %d lookups of the NIC's TLB to %s%s", recorder.size(),
                    recordTrace, recorder.dropped() > 0 ? " (" + recorder.dropped() + " later ones not kept)" : ""));
        }
        List<String> csv = new ArrayList<>();
        csv.add(ComparePoint.csvHeader());
        points.forEach(p -> csv.add(p.csvRow()));
        Files.write(dir.resolve("compare.csv"), csv);
        System.setProperty("java.awt.headless", "true");
        ThroughputChart.write(points, "unetmm compare: " + settings.transport(), dir.resolve("compare.png"));
        Map<String, Object> end = new LinkedHashMap<>();
        end.put("notes", run.notes());
        end.put("repeatsMeasured", run.samples().size());
        end.put("repeatDurations", run.samples().stream().map(CompareJson::duration).toList());
        record.finish(end);
        String json = RunRecord.JSON.writeValueAsString(CompareJson.document(record.asMap(), points, run.samples()));
        Files.writeString(dir.resolve("compare.json"), json + "\n");
        String files = dir.resolve("compare.csv") + ", " + dir.resolve("compare.json") + ", " + dir.resolve("compare.png")
                + ", " + dir.resolve("run.json");
        if (output.json()) {
            out.println(json);
            run.notes().forEach(note -> progress.println("note: " + note));
        } else if (output.csv()) {
            csv.forEach(out::println);
            run.notes().forEach(note -> progress.println("note: " + note));
        } else {
            printTable(points, out);
            out.printf("%d repeats per point, interleaved across the paths; GB/s and vs limit: median [min–max] of the"
                    + " repeats, vs limit taken per repeat against the memcpy just before it%n", settings.repeats());
            if (UdpWire.isUdp(settings.transport()) || ShmCompareRun.isShm(settings.transport())) {
                out.println("latency: MEMCPY one copy; the others half the round trip of a ping-pong (rtt/2);"
                        + " throughput: a one-way stream under flow control, delivered messages only");
            }
            if (points.stream().anyMatch(p -> !p.flags().isEmpty())) {
                out.printf("flags: %s = faster than the memcpy limit (suspect the limit or the measurement), %s = (max-min)/median"
                        + " over %.2f, %s = round trips lost, %s = the stream window stalled%n", ComparePoint.ABOVE_LIMIT,
                        ComparePoint.SPREAD, settings.spreadThreshold(), ComparePoint.LOSS, ComparePoint.STALL);
            }
            run.notes().forEach(note -> out.println("note: " + note));
            out.println();
            out.println("results: " + files);
        }
        return 0;
    }

    private CompareRun.Settings validate() {
        output.validate(spec.commandLine(), true, true);
        List<Integer> chosen = sizes != null ? sizes : quick ? QUICK_SIZES : DEFAULT_SIZES;
        boolean udp = UdpWire.isUdp(output.transport) || ShmCompareRun.isShm(output.transport); // shm's sweep has a udp row
        for (int size : chosen) {
            if (udp) {
                ByteSize.check(spec.commandLine(), "--sizes", size, 1, MAX_UDP_SIZE, "over udp (" + output.transport
                        + "; an empty datagram cannot be told from none)");
            }
            ByteSize.check(spec.commandLine(), "--sizes", size, 1, MAX_SIZE, null);
        }
        if (recordTrace != null && udp) {
            throw bad("--record-trace records the loopback compare only: the udp sweep runs two NICs in other code;"
                    + " record a udp run's sending TLB with 'unetmm pressure --transport udp://... --record-trace FILE'");
        }
        if (recordLimit < 1) {
            throw bad("--record-limit must be at least 1 lookup, got " + recordLimit);
        }
        if (chosen.isEmpty()) {
            throw bad("--sizes: give at least one size");
        }
        if (buffers < 1 || buffers > 4096) {
            throw bad("--buffers must be in 1..4096, got " + buffers);
        }
        if (tlbSets < 1 || Integer.bitCount(tlbSets) != 1) {
            throw bad("--tlb-sets must be a positive power of two, got " + tlbSets);
        }
        if (tlbWays < 1) {
            throw bad("--tlb-ways must be positive, got " + tlbWays);
        }
        long warmup = warmupMillis != null ? warmupMillis : quick ? 50 : 300;
        long measure = measureMillis != null ? measureMillis : quick ? 120 : 700;
        int rounds = repeats != null ? repeats : 3;
        ByteSize.checkCount(spec.commandLine(), "--warmup-ms", warmup, 0, 600_000);
        ByteSize.checkCount(spec.commandLine(), "--measure-ms", measure, 1, 600_000);
        ByteSize.checkCount(spec.commandLine(), "--repeats", rounds, 1, 1000);
        double spreadFlag = spread.threshold(spec.commandLine());
        // shm: draws its name once, here, so the run record names the files the run makes
        String transport = ShmCompareRun.isShm(output.transport) ? ShmCompareRun.senderUri(output.transport) : output.transport;
        return new CompareRun.Settings(transport, chosen, buffers, warmup, measure, rounds, tlbSets, tlbWays, policy, seed,
                !noAeron, spreadFlag);
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private static Map<String, Object> configuration(CompareRun.Settings s) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("transport", s.transport());
        c.put("sizes", s.sizes());
        c.put("buffers", s.buffers());
        c.put("warmupMillis", s.warmupMillis());
        c.put("measureMillis", s.measureMillis());
        c.put("repeats", s.repeats());
        c.put("repeatOrder", "interleaved: per size, repeat 1 of every path, then repeat 2, …; Aeron IPC in its own phase"
                + " with a memcpy repeat before each of its repeats");
        c.put("spreadFlag", s.spreadThreshold());
        c.put("tlbSets", s.tlbSets());
        c.put("tlbWays", s.tlbWays());
        c.put("policy", s.policy().name());
        c.put("seed", s.seed());
        boolean shm = ShmCompareRun.isShm(s.transport());
        if (shm) {
            c.put("receiver", s.transport().split("\\?")[0] + ShmCompareRun.RECEIVER + " in a second JVM");
            c.put("peers", "unetmm PINNED and FIXED_SEGMENT over shm:, Aeron IPC (driver here, the receiver its client),"
                    + " unetmm PINNED over udp://127.0.0.1:0, each between this JVM and the receiving JVM");
        }
        boolean udp = UdpWire.isUdp(s.transport()) || shm;
        if (udp && !shm) {
            c.put("secondNic", UdpWire.secondNic(s.transport()));
            c.put("tlbGrowth", "each NIC gets more sets where its working set would not fit twice over");
            c.put("peers", "unetmm PINNED and FIXED_SEGMENT (two NICs, CALLER progress, a thread each), NIO DatagramChannel"
                    + " direct and heap (one datagram per message), Aeron UDP (SHARED driver, yielding idle)");
        }
        c.put("aeron", s.aeron() ? "aeron-all " + io.aeron.AeronVersion.VERSION
                + (udp && !shm ? " UDP" : " IPC") : "off");
        c.put("latency", udp ? "rtt/2: half the round trip of a ping-pong (MEMCPY: one copy)" : "one-way: send to receive completion");
        return c;
    }

    static void printTable(List<ComparePoint> points, PrintStream out) {
        out.printf("%-8s %-14s %12s %21s %9s %9s %8s %9s %18s  %-8s %s%n", "size", "path", "msgs/s", "GB/s [min–max]",
                "p50 ns", "p99 ns", "TLB hit", "pins/msg", "vs limit [min–max]", "latency", "flags");
        for (ComparePoint p : points) {
            ComparePoint.Spread gb = p.gigabytes();
            ComparePoint.Spread ratio = p.limitRatio();
            out.printf("%-8s %-14s %12.0f %21s %9d %9d %8s %9s %18s  %-8s %s%n", ByteSize.human(p.size()), p.path(),
                    p.messagesPerSecond(), String.format("%.3f [%.3f–%.3f]", gb.median(), gb.min(), gb.max()),
                    p.p50Nanos(), p.p99Nanos(),
                    Double.isNaN(p.tlbHitRate()) ? "-" : String.format("%.3f", p.tlbHitRate()),
                    Double.isNaN(p.pinsPerMsg()) ? "-" : String.format("%.3f", p.pinsPerMsg()),
                    String.format("%.2f [%.2f–%.2f]", ratio.median(), ratio.min(), ratio.max()), p.latency(),
                    p.flags().isEmpty() ? "-" : String.join(",", p.flags()));
        }
    }
}
