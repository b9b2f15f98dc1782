package org.unetmm.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.trace.PageTrace;
import org.unetmm.tlb.trace.TraceFile;
import org.unetmm.tlb.trace.TraceFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm pressure}: memory-pressure sweeps. Every combination of TLB entries × ways ×
 * policy × pin budget × distribution × working-set size; per point the TLB hit rate beside the
 * bounds (Bélády's OPT, and the static top-C bound of the trace's generator where it has one),
 * the pin cache's hit rate, pins and unpins per message, miss latency, throughput, and the pinned
 * peak as the library and as the kernel (VmLck) count it. Writes {@code pressure.csv},
 * {@code pressure.png} ({@link PressureChart}: a panel per distribution) and {@code run.json}
 * (settings and every point). {@code --trace-file FILE} replays a recorded trace (plain text or
 * libCacheSim CSV) against every TLB shape and policy instead; {@code --record-trace FILE}
 * writes the page stream the sending NIC's TLB saw in traffic mode. {@code --memlock BYTES} re-runs the sweep in a child JVM as an unprivileged
 * user under that RLIMIT_MEMLOCK, so the kernel enforces the budget.
 *
 * <p>Traffic points are measured {@code --repeats} times, interleaved across the points, and
 * reported as the median with min and max ({@link PressurePoint}); {@code pressure.json} (and
 * {@code --format json}) carries every point and every repeat. Trace replays (a file, or
 * {@code --trace-only}) give the same hit rates every time: they run once.
 */
@Command(name = "pressure", mixinStandardHelpOptions = true,
        description = "Sweep TLB size, policy, pin budget and working set; hit rates beside Belady's OPT and the static top-C bound.",
        footer = {"", "Examples:", "  unetmm pressure --quick",
                "  unetmm pressure --trace-only --policy LRU,SIEVE,S3FIFO --working-set 128,2048",
                "  unetmm pressure --quick --repeats 5 --format json",
                "  unetmm pressure --quick --memlock 1048576      (as root: the kernel enforces a 1 MiB pin budget)",
                "", "Traffic mode repeats every point (--repeats, interleaved across the points) and reports the median"
                        + " [min-max]; a trace replay (--trace-file, --trace-only) is deterministic and runs once."})
public final class PressureCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    OutputOptions output;

    @Option(names = "--tlb-entries", split = ",", description = "TLB entries (default 64,256)")
    List<Integer> entries;

    @Option(names = "--tlb-ways", split = ",", description = "TLB ways (default 4)")
    List<Integer> ways;

    @Option(names = "--policy", split = ",", description = "replacement policies: LRU,CLOCK,RANDOM,SIEVE,S3FIFO,LFU (default all)")
    List<ReplacementPolicy> policies;

    @Option(names = "--budget", split = ",", description = "pin budgets in bytes, or 'process' for RLIMIT_MEMLOCK/unlimited (default process)")
    List<String> budgets;

    @Option(names = "--distribution", split = ",", description = "uniform, zipf[:theta], sequential, loop (default zipf:0.99,uniform,loop)")
    List<String> distributions;

    @Option(names = "--working-set", split = ",", description = "working-set sizes in pages (default 32,128,512,2048)")
    List<Integer> workingSets;

    @Option(names = "--accesses", description = "accesses (messages) per point (default 20000, quick 3000)")
    Integer accesses;

    @Option(names = "--seed", description = "trace and RANDOM seed (default ${DEFAULT-VALUE})", defaultValue = "42")
    long seed;

    @Option(names = "--trace-only", description = "replay traces against TLB + pin cache without traffic")
    boolean traceOnly;

    @Option(names = "--quick", description = "a small sweep that finishes in seconds")
    boolean quick;

    @Option(names = "--trace-file", description = "replay this recorded trace (plain text: a virtual page number a line;"
            + " .csv: libCacheSim's CSV) against every TLB shape and policy, OPT beside; no traffic, no pinning")
    Path traceFile;

    @Option(names = "--record-trace", description = "traffic mode: write the page stream the sending NIC's TLB saw to"
            + " this file (.csv: libCacheSim's CSV, else plain text); one distribution and one working set")
    Path recordTrace;

    @Option(names = "--repeats", description = "traffic mode: measurements per point, interleaved across the points;"
            + " the median, min and max are reported (default 3; trace replays are deterministic and run once)")
    Integer repeats;

    @CommandLine.Mixin
    SpreadFlag spread;

    @Option(names = "--memlock", description = "re-run in a child JVM as an unprivileged user under this RLIMIT_MEMLOCK (bytes)")
    Long memlock;

    @Override
    public Integer call() throws Exception {
        PressureRun.Settings settings = validate();
        if (memlock != null) {
            return runUnprivileged();
        }
        Path dir = RunRecord.newRunDirectory(output.results);
        RunRecord record = RunRecord.open(dir, "pressure", configuration(settings));
        boolean traffic = !settings.traceOnly() && settings.replay() == null;
        record.put("kernelFeatures", traffic ? RunRecord.kernelFeatures(settings.transport()) : Map.of());
        long started = System.nanoTime();
        List<PressurePoint> points = new PressureRun(settings, line -> System.err.printf("%s (%.0f s)%n", line,
                (System.nanoTime() - started) / 1e9)).run();
        List<String> csv = new ArrayList<>();
        csv.add(PressurePoint.csvHeader());
        points.forEach(p -> csv.add(p.csvRow()));
        Files.write(dir.resolve("pressure.csv"), csv);
        System.setProperty("java.awt.headless", "true");
        PressureChart.write(points, dir.resolve("pressure.png"));
        List<Map<String, Object>> samples = new ArrayList<>(); // in the order they ran: repeat 1 of every point, then 2, …
        for (int r = 0; r < settings.repeats(); r++) {
            for (PressurePoint p : points) {
                samples.add(p.sampleJson(r));
            }
        }
        Map<String, Object> end = new LinkedHashMap<>();
        end.put("points", points.stream().map(PressurePoint::json).toList());
        end.put("repeatsMeasured", samples.size());
        record.finish(end);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("run", record.asMap());
        doc.put("samples", samples);
        String json = RunRecord.JSON.writeValueAsString(doc);
        Files.writeString(dir.resolve("pressure.json"), json + "\n");
        PrintStream out = System.out;
        if (output.json()) {
            out.println(json);
        } else if (output.csv()) {
            csv.forEach(out::println);
        } else {
            out.printf("%-7s %-6s %-6s %-12s %-11s %7s %8s %8s %8s %8s %9s %9s %24s %11s %12s %6s %s%n", "entries", "ways",
                    "policy", "budget", "dist", "ws pg", "TLB hit", "OPT", "top-C", "pin hit", "pins/msg", "miss p50",
                    "msgs/s [min–max]", "pinned peak", "VmLck peak", "lost", "flags");
            for (PressurePoint p : points) {
                ComparePoint.Spread msgs = p.messages();
                out.printf("%-7d %-6d %-6s %-12s %-11s %7d %8.4f %8.4f %8s %8s %9.4f %9d %24s %11d %12d %6d %s%n", p.tlbEntries(),
                        p.tlbWays(), p.policy(), p.budgetBytes() == Long.MAX_VALUE ? "process" : Long.toString(p.budgetBytes()),
                        p.distribution(), p.workingSetPages(), p.tlbHitRate(), p.optHitRate(),
                        Double.isNaN(p.topCHitRate()) ? "-" : String.format("%.4f", p.topCHitRate()),
                        Double.isNaN(p.pinCacheHitRate()) ? "-" : String.format("%.4f", p.pinCacheHitRate()),
                        p.pinsPerMessage(), p.missP50Nanos(), Double.isNaN(msgs.median()) ? "-"
                                : p.repeats().size() == 1 ? String.format("%.0f", msgs.median())
                                : String.format("%.0f [%.0f–%.0f]", msgs.median(), msgs.min(), msgs.max()),
                        p.pinnedPeakBytes(), p.vmLckPeakBytes(), p.lostMessages(),
                        p.flags().isEmpty() ? "-" : String.join(",", p.flags()));
            }
            if (points.stream().anyMatch(p -> Double.isNaN(p.topCHitRate()))) {
                out.println("top-C '-': the trace was not drawn independently from a known distribution (loop, sequential,"
                        + " a recorded file), so it has no static bound; OPT still bounds every policy");
            }
            if (traffic) {
                out.printf("%d repeats per point, interleaved across the points; msgs/s: median [min–max], miss p50: median,"
                        + " peaks: the largest repeat's, lost: over all repeats%n", settings.repeats());
            }
            if (points.stream().anyMatch(p -> !p.flags().isEmpty())) {
                out.printf("flags: %s = TLB hit rate above OPT's (a broken measurement), %s = (max-min)/median msgs/s over"
                        + " %.2f, %s = messages lost%n", ComparePoint.ABOVE_LIMIT, ComparePoint.SPREAD,
                        settings.spreadThreshold(), ComparePoint.LOSS);
            }
            out.println();
            out.println("results: " + dir.resolve("pressure.csv") + ", " + dir.resolve("pressure.json") + ", "
                    + dir.resolve("pressure.png") + ", " + dir.resolve("run.json"));
        }
        return 0;
    }

    private PressureRun.Settings validate() {
        output.validate(spec.commandLine(), true);
        PageTrace replay = null;
        List<Integer> e = entries != null ? entries : quick ? List.of(64) : List.of(64, 256);
        List<Integer> w = ways != null ? ways : List.of(4);
        List<ReplacementPolicy> p = policies != null ? policies : List.of(ReplacementPolicy.values());
        List<String> d = distributions != null ? distributions : quick ? List.of("zipf:0.99") : List.of("zipf:0.99", "uniform", "loop");
        List<Integer> ws = workingSets != null ? workingSets : quick ? List.of(32, 256) : List.of(32, 128, 512, 2048);
        int n = accesses != null ? accesses : quick ? 3000 : 20000;
        for (int entry : e) {
            for (int way : w) {
                if (entry < 1 || way < 1 || entry % way != 0 || Integer.bitCount(entry / way) != 1) {
                    throw bad("--tlb-entries " + entry + " with --tlb-ways " + way
                            + ": ways must divide entries and entries/ways (the sets) must be a power of two");
                }
            }
        }
        List<Long> b = new ArrayList<>();
        for (String budget : budgets != null ? budgets : List.of("process")) {
            if (budget.equals("process")) {
                b.add(Long.MAX_VALUE);
            } else {
                try {
                    long bytes = Long.parseLong(budget);
                    if (bytes < 4096) {
                        throw bad("--budget " + budget + ": a pin budget must be at least one page (4096 bytes)");
                    }
                    b.add(bytes);
                } catch (NumberFormatException ex) {
                    throw bad("--budget '" + budget + "': give bytes (e.g. 1048576) or 'process'");
                }
            }
        }
        for (String dist : d) {
            try {
                PressureRun.trace(dist, 2, 1, 1);
            } catch (IllegalArgumentException ex) {
                throw bad("--distribution: " + ex.getMessage());
            }
        }
        for (int size : ws) {
            if (size < 1 || size > (1 << 18)) {
                throw bad("--working-set " + size + ": must be 1..262144 pages");
            }
        }
        if (n < 1 || n > 100_000_000) {
            throw bad("--accesses must be in 1..100000000, got " + n);
        }
        if (traceFile != null) {
            if (!Files.isReadable(traceFile)) {
                throw bad("--trace-file " + traceFile + ": no such readable file; record one with --record-trace");
            }
            try {
                replay = TraceFile.read(traceFile);
            } catch (TraceFormatException | java.io.UncheckedIOException ex) {
                throw bad("--trace-file: " + ex.getMessage());
            }
            if (recordTrace != null || traceOnly || budgets != null || distributions != null || workingSets != null
                    || accesses != null || memlock != null) {
                throw bad("--trace-file replays the file as it is: leave out --record-trace, --trace-only, --budget,"
                        + " --distribution, --working-set, --accesses and --memlock");
            }
        }
        if (recordTrace != null) {
            if (traceOnly) {
                throw bad("--record-trace records traffic: leave out --trace-only (a trace-only run replays a generated"
                        + " trace, which --distribution already names)");
            }
            if (d.size() != 1 || ws.size() != 1) {
                throw bad("--record-trace records one trace: give one --distribution and one --working-set");
            }
        }
        if (repeats != null && repeats != 1 && (traceOnly || traceFile != null)) {
            throw bad("--repeats " + repeats + ": a trace replay (--trace-only, --trace-file) gives the same hit rates"
                    + " every time and runs once; repeats are for traffic mode (leave out --trace-only)");
        }
        int rounds = repeats != null ? repeats : traceOnly || traceFile != null ? 1 : 3;
        ByteSize.checkCount(spec.commandLine(), "--repeats", rounds, 1, 1000);
        double spreadFlag = spread.threshold(spec.commandLine());
        if (memlock != null && memlock < 4096) {
            throw bad("--memlock must be at least 4096 bytes, got " + memlock);
        }
        return new PressureRun.Settings(output.transport, e, w, p, b, d, ws, n, seed, traceOnly, replay, recordTrace, rounds,
                spreadFlag);
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /**
     * Runs this same sweep in a child JVM as uid 65534 without CAP_IPC_LOCK under
     * {@code prlimit --memlock}, from a world-readable copy of this jar, then moves its results here.
     */
    private int runUnprivileged() throws IOException, InterruptedException {
        Path jar = Path.of(PressureCommand.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        if (!Files.isRegularFile(jar)) {
            throw bad("--memlock needs the packed jar (run ./unetmm pressure ...): not found at " + jar);
        }
        Path work = Files.createTempDirectory("unetmm-memlock-");
        try {
            Path copy = work.resolve("unetmm.jar");
            Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING);
            Path childResults = work.resolve("results");
            Files.createDirectories(childResults);
            for (Path p : List.of(work, copy, childResults)) {
                p.toFile().setReadable(true, false);
                p.toFile().setExecutable(true, false);
            }
            childResults.toFile().setWritable(true, false);
            List<String> command = new ArrayList<>(List.of("prlimit", "--memlock=" + memlock + ":" + memlock, "setpriv",
                    "--reuid=65534", "--regid=65534", "--clear-groups", "--bounding-set=-ipc_lock", "--inh-caps=-ipc_lock",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Djava.awt.headless=true", "-jar",
                    copy.toString()));
            List<String> args = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (a.equals("--memlock") || a.equals("--results")) {
                    args.remove(i + 1);
                    args.remove(i--);
                } else if (a.startsWith("--memlock=") || a.startsWith("--results=")) {
                    args.remove(i--);
                }
            }
            command.addAll(args);
            command.add("--results");
            command.add(childResults.toString());
            System.err.println("unetmm: re-running as uid 65534 under RLIMIT_MEMLOCK=" + memlock + " bytes");
            Process child = new ProcessBuilder(command).inheritIO().start();
            if (!child.waitFor(2, TimeUnit.HOURS)) {
                child.destroyForcibly();
                throw new IllegalStateException("the unprivileged run did not finish in 2 hours");
            }
            int code = child.exitValue();
            try (var dirs = Files.list(childResults)) {
                for (Path d : dirs.toList()) {
                    Files.createDirectories(output.results);
                    Path target = output.results.resolve(d.getFileName() + "-memlock-" + memlock);
                    copyTree(d, target);
                    System.err.println("unetmm: results of the unprivileged run in " + target);
                }
            }
            return code;
        } finally {
            deleteTree(work);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static Map<String, Object> configuration(PressureRun.Settings s) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("transport", s.transport());
        if (UdpWire.isUdp(s.transport())) {
            c.put("receivingNic", UdpWire.secondNic(s.transport()));
            c.put("lostMessages", "counted (lost_msgs), not sent again: the sending TLB saw the access already");
        }
        c.put("tlbEntries", s.tlbEntries());
        c.put("tlbWays", s.tlbWays());
        c.put("policies", s.policies().stream().map(Enum::name).toList());
        c.put("budgets", s.budgets().stream().map(b -> b == Long.MAX_VALUE ? "process" : Long.toString(b)).toList());
        c.put("distributions", s.distributions());
        c.put("workingSets", s.workingSets());
        c.put("accesses", s.accesses());
        c.put("seed", s.seed());
        c.put("traceOnly", s.traceOnly());
        c.put("repeats", s.repeats());
        c.put("repeatOrder", s.traceOnly() || s.replay() != null ? "once: a trace replay is deterministic"
                : "interleaved: repeat 1 of every point, then repeat 2, …; each the same seeded trace on fresh NICs");
        c.put("spreadFlag", s.spreadThreshold());
        if (s.replay() != null) {
            c.put("traceFile", s.replay().name());
            c.put("traceAccesses", s.replay().length());
        }
        if (s.recordTrace() != null) {
            c.put("recordTrace", s.recordTrace().toString());
        }
        c.put("bounds", Map.of(
                "opt", "Belady's OPT on the same trace, fully associative, same entries: no policy beats it",
                "topC", "static top-C: the sum of the C most probable pages' probabilities, exact from a uniform or zipf"
                        + " generator; no online policy beats it in expectation; null (omitted) for loop, sequential"
                        + " and recorded traces, which have no known independent distribution"));
        return c;
    }
}
