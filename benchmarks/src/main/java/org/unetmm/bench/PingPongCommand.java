package org.unetmm.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import org.HdrHistogram.Histogram;
import org.unetmm.Completion;
import org.unetmm.CompletionHandler;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm pingpong --to udp://127.0.0.1:7000 --size 64 --count 100000 [--path pinned|fixed|both]}:
 * round trips against {@code unetmm echo}, one message in flight, driven by the caller (no NIC
 * thread); prints RTT percentiles (HdrHistogram) and the message rate. {@code unetmm pingpong
 * compare} runs the side-by-side comparison with NIO and Aeron in one process.
 *
 * <p>{@code --repeats N} measures {@code --count} round trips N times in one session, after one
 * warm-up per path; with {@code --path both} the paths alternate (pinned fixed pinned fixed …), so
 * drift of the machine falls on both alike. Each path's RTT percentiles and rate are given as the
 * median [min–max] of its repeats (a repeat's p50 is one value), flagged {@code spread} when the
 * p50s differ by more than {@code --spread-flag} of their median and {@code loss} when a round trip
 * was lost; the pinned ÷ fixed RTT p50 ratio is taken per repeat pair, then summarised. Every run
 * writes {@code run.json} (opened at the start) and {@code pingpong.json} under
 * {@code results/<timestamp>/}; {@code --format json} prints the latter, {@code --format csv} a row
 * per path (the figure lines go to stderr then).
 *
 * <p>It fails (exit 1, after the figures it has) when any round trip is lost, and stops early
 * when {@code --give-up-after} round trips in a row are lost (the echo died or no longer has the
 * session) or the echo says the session is gone (evicted by its {@code --sessions}). A
 * {@code --size} larger than the echo's {@code --max-message}, which the echo names when the
 * session opens, is refused before anything is sent. Each message carries its round's number in
 * its first 8 bytes (big-endian, when it has 8), so a late echo is never taken for the next one.
 */
@Command(name = "pingpong", mixinStandardHelpOptions = true, subcommands = UdpCompareCommand.class,
        description = "Round trips against 'unetmm echo': RTT percentiles and message rate."
                + " 'pingpong compare' runs unetmm, Java NIO and Aeron side by side over UDP loopback.",
        footer = {"", "Examples:", "  unetmm echo --listen udp://127.0.0.1:7000 &",
                "  unetmm pingpong --to udp://127.0.0.1:7000 --size 1KiB --count 100000",
                "  unetmm pingpong --to udp://127.0.0.1:7000 --path both --repeats 5 --count 20000 --format json"
                        + "   (pinned and fixed alternating)",
                "  unetmm pingpong compare --quick                (unetmm, NIO and Aeron side by side)",
                "", "Exit status: 0 when every round trip came back, 1 when one was lost or the echo did not answer,"
                        + " 2 on bad usage."})
public final class PingPongCommand implements Callable<Integer> {
    /** The RTT percentiles reported, and their names in the JSON. */
    private static final double[] PERCENTILES = {50, 99, 99.9, 100};
    private static final String[] PERCENTILE_NAMES = {"p50", "p99", "p99.9", "max"};

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ResultsOptions output;

    @CommandLine.Mixin
    SpreadFlag spread;

    @Option(names = "--to", description = "the echo's transport address, e.g. udp://127.0.0.1:7000")
    String to;

    @Option(names = "--bind", description = "local transport URI (default: the local address that routes to --to, port 0)")
    String bind;

    @Option(names = "--size", defaultValue = "64", converter = ByteSize.class, description = "message size ("
            + ByteSize.FORMS + "), at most the echo's --max-message (default ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--count", defaultValue = "100000", description = "measured round trips per repeat (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--warmup", description = "round trips before measuring, per path (default count/10, at most 20000)")
    Integer warmup;

    @Option(names = "--path", defaultValue = "pinned", description = "send path: pinned, fixed, or both, alternating"
            + " (default ${DEFAULT-VALUE})")
    String path;

    @Option(names = "--repeats", defaultValue = "1", description = "measurements of --count round trips per path, back to"
            + " back (with --path both alternating: pinned fixed pinned fixed …); the median, min and max are reported"
            + " (default ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--timeout-ms", defaultValue = "1000", description = "an echo not back in this time is counted lost (default ${DEFAULT-VALUE})")
    long timeoutMillis;

    @Option(names = "--give-up-after", defaultValue = "10", description = "stop after this many round trips in a row are lost"
            + " (default ${DEFAULT-VALUE}: with --timeout-ms 1000, 10 s of silence)")
    int giveUpAfter;

    static SendPath path(CommandLine.Model.CommandSpec spec, String name) {
        return switch (name) {
            case "pinned" -> SendPath.PINNED;
            case "fixed" -> SendPath.FIXED_SEGMENT;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--path must be 'pinned' or 'fixed', got '" + name + "'");
        };
    }

    /**
     * One measured repeat of {@code --count} round trips on one path: RTT percentiles in µs
     * ({@link #PERCENTILES}; NaN when none came back), the mean, and the round trips that came back
     * and were lost.
     */
    record Repeat(String path, int repeat, Instant startedAt, double seconds, long roundTrips, long lost, double[] micros,
                  double meanMicros) {
        double roundTripsPerSecond() {
            return roundTrips / seconds;
        }

        double p50() {
            return micros[0];
        }
    }

    @Override
    public Integer call() throws IOException {
        CommandLine cl = spec.commandLine();
        output.validate(cl, true);
        double spreadFlag = spread.threshold(cl);
        if (to == null) {
            throw new CommandLine.ParameterException(cl, "--to is required: the echo's address, e.g."
                    + " --to udp://127.0.0.1:7000 (start one with 'unetmm echo --listen udp://127.0.0.1:7000')");
        }
        if (!List.of("pinned", "fixed", "both").contains(path)) {
            throw new CommandLine.ParameterException(cl, "--path must be 'pinned', 'fixed' or 'both' (alternating), got '"
                    + path + "'");
        }
        List<SendPath> paths = path.equals("both") ? List.of(SendPath.PINNED, SendPath.FIXED_SEGMENT)
                : List.of(path(spec, path));
        ByteSize.check(cl, "--size", size, 0, 64 << 20, null);
        if (count < 1 || timeoutMillis < 1 || giveUpAfter < 1) {
            throw new CommandLine.ParameterException(cl, "--count, --timeout-ms and --give-up-after must be positive");
        }
        ByteSize.checkCount(cl, "--repeats", repeats, 1, 1000);
        int warm = warmup != null ? warmup : Math.min(20_000, count / 10);
        String local = bind != null ? bind : EchoProtocol.localBindFor(to);
        Path dir = RunRecord.newRunDirectory(output.results);
        RunRecord record = RunRecord.open(dir, "pingpong", configuration(paths, warm, local, spreadFlag));
        record.put("kernelFeatures", RunRecord.kernelFeatures(to));
        PrintStream out = output.json() || output.csv() ? System.err : System.out; // the figure lines
        List<Repeat> results = new ArrayList<>();
        Histogram[] all = new Histogram[paths.size()];
        long[] elapsed = new long[paths.size()];
        NativeBuffer source = NativeMemory.allocate(Math.max(1, size));
        // two receive slots (one for messages over 1 MiB): an echo, or a GONE notice, and the one behind it, since a
        // batching wire may bring the last echo and the GONE that ends the session in one datagram
        int slot = Math.max(size, EchoProtocol.CONTROL_BYTES);
        NativeBuffer target = NativeMemory.allocate(size <= 1 << 20 ? 2 * slot : slot);
        Client client;
        try (Nic nic = Nic.open(NicConfig.builder().transport(local).progressMode(ProgressMode.CALLER).build())) {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder()
                    .segmentBytes(Math.max(1 << 16, 2 * size + 4096)).build());
            EchoProtocol.Session session = EchoProtocol.connect(endpoint, to, size,
                    Duration.ofMillis(Math.max(100, timeoutMillis)), 5);
            if (size > session.maxMessage()) {
                session.bye(endpoint);
                nic.progress();
                record.finish(Map.of("notes", List.of("refused: --size " + size + " is above the echo's largest message, "
                        + session.maxMessage() + " B")));
                throw new CommandLine.ParameterException(cl, "--size " + size + " is larger than the echo's"
                        + " largest message, " + session.maxMessage() + " B: use --size " + session.maxMessage()
                        + " or less, or restart the echo with --max-message " + size);
            }
            out.printf("pingpong: %s -> %s, %d B, %s, MTU %d%s%n", session.data().address(), session.data().remote(), size,
                    paths.size() > 1 ? "pinned and fixed paths" : path + " path", nic.mtu(),
                    repeats > 1 || paths.size() > 1 ? ", " + repeats + " repeats of " + count
                            + " round trips per path" + (paths.size() > 1 ? ", alternating pinned fixed …" : "") : "");
            out.flush();
            client = new Client(nic, endpoint, session, source, target, size, paths.get(0), timeoutMillis * 1_000_000L,
                    giveUpAfter);
            for (SendPath p : paths) {
                client.path = p;
                client.run(warm, null);
            }
            measuring:
            for (int r = 0; r < repeats; r++) {
                for (int i = 0; i < paths.size() && client.stopped == null; i++) {
                    client.path = paths.get(i);
                    Histogram rtt = new Histogram(60_000_000_000L, 3);
                    long lostBefore = client.lostMeasured;
                    Instant at = Instant.now();
                    long started = System.nanoTime();
                    int done = client.run(count, rtt);
                    long nanos = System.nanoTime() - started;
                    elapsed[i] += nanos;
                    if (all[i] == null) {
                        all[i] = new Histogram(60_000_000_000L, 3);
                    }
                    all[i].add(rtt);
                    Repeat repeat = new Repeat(name(paths.get(i)), r, at, nanos / 1e9, done, client.lostMeasured - lostBefore,
                            percentiles(rtt), rtt.getTotalCount() == 0 ? Double.NaN : rtt.getMean() / 1e3);
                    results.add(repeat);
                    if (repeats > 1 || paths.size() > 1) {
                        out.printf("pingpong: repeat %d/%d %-6s RTT us p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f;"
                                        + " %.0f round trips/s, %d lost%n", r + 1, repeats, repeat.path(), repeat.micros()[0],
                                repeat.micros()[1], repeat.micros()[2], repeat.micros()[3], repeat.roundTripsPerSecond(),
                                repeat.lost());
                        out.flush();
                    }
                }
                if (client.stopped != null) {
                    break measuring;
                }
            }
            if (client.gone == null) {
                session.bye(endpoint);
                nic.progress();
            }
            endpoint.close();
        } catch (RuntimeException e) {
            if (!(e instanceof CommandLine.ParameterException)) { // no echo answered, a port in use: the record says so
                record.finish(Map.of("notes", List.of(String.valueOf(e.getMessage()))));
            }
            throw e;
        } finally {
            source.close();
            target.close();
        }
        for (int i = 0; i < paths.size(); i++) {
            Histogram rtt = all[i] != null ? all[i] : new Histogram(60_000_000_000L, 3);
            String label = paths.size() > 1 ? name(paths.get(i)) + " " : "";
            long lost = of(results, paths.get(i)).stream().mapToLong(Repeat::lost).sum();
            out.printf("%sRTT us: p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f  (%d round trips, %d lost)%n", label,
                    rtt.getValueAtPercentile(50) / 1e3, rtt.getValueAtPercentile(99) / 1e3,
                    rtt.getValueAtPercentile(99.9) / 1e3, rtt.getMaxValue() / 1e3, rtt.getMean() / 1e3,
                    rtt.getTotalCount(), lost);
            double seconds = elapsed[i] / 1e9;
            out.printf("%srate: %.0f round trips/s (%.0f messages/s both ways)%n", label, rtt.getTotalCount() / seconds,
                    2 * rtt.getTotalCount() / seconds);
        }
        if (results.size() > 1) {
            printSummary(paths, results, spreadFlag, out);
        }
        out.flush();
        List<String> notes = new ArrayList<>();
        if (client.stopped != null) {
            notes.add("stopped after " + client.sent + " of " + (warm * paths.size() + (long) count * repeats * paths.size())
                    + " round trips: " + client.stopped);
        }
        if (client.lost > 0) {
            notes.add(client.lost + " of " + client.sent + " round trips lost (no echo within --timeout-ms " + timeoutMillis
                    + "); the echo's summary line counts its drops by reason");
        }
        Map<String, Object> end = new LinkedHashMap<>();
        end.put("repeatsMeasured", results.size());
        end.put("repeatDurations", results.stream().map(PingPongCommand::duration).toList());
        end.put("notes", notes);
        output.finish(record, dir, "pingpong.json", end,
                run -> document(run, paths, results, all, spreadFlag), () -> csv(paths, results, spreadFlag));
        if (!notes.isEmpty()) {
            throw new IllegalStateException(notes.get(0));
        }
        return 0;
    }

    private static double[] percentiles(Histogram rtt) {
        double[] v = new double[PERCENTILES.length];
        for (int k = 0; k < v.length; k++) {
            v[k] = RepeatSummary.micros(rtt, PERCENTILES[k]);
        }
        return v;
    }

    private static String name(SendPath p) {
        return p == SendPath.PINNED ? "pinned" : "fixed";
    }

    private static List<Repeat> of(List<Repeat> results, SendPath p) {
        return results.stream().filter(r -> r.path().equals(name(p))).toList();
    }

    private static double[] values(List<Repeat> of, ToDoubleFunction<Repeat> value) {
        return of.stream().mapToDouble(value).toArray();
    }

    /**
     * Pinned ÷ fixed RTT p50 of each repeat pair (the two measurements of one repeat), summarised; a
     * run stopped early leaves its last pinned measurement unpaired, and out.
     */
    private static ComparePoint.Spread ratio(List<Repeat> results) {
        List<Repeat> fixed = of(results, SendPath.FIXED_SEGMENT);
        List<Repeat> pinned = of(results, SendPath.PINNED).subList(0, fixed.size());
        return RepeatSummary.ratios(values(pinned, Repeat::p50), values(fixed, Repeat::p50));
    }

    private static List<String> flags(List<Repeat> of, double spreadFlag) {
        List<String> flags = new ArrayList<>();
        if (RepeatSummary.spreadAbove(values(of, Repeat::p50), spreadFlag)) {
            flags.add(ComparePoint.SPREAD);
        }
        if (of.stream().anyMatch(r -> r.lost() > 0)) {
            flags.add(ComparePoint.LOSS);
        }
        return flags;
    }

    /** Each path's RTT percentiles and rate as median [min–max] over its repeats, and pinned ÷ fixed per pair. */
    private void printSummary(List<SendPath> paths, List<Repeat> results, double spreadFlag, PrintStream out) {
        out.printf("pingpong: median [min–max] over the repeats (a repeat's percentile is one value)%n");
        for (SendPath p : paths) {
            List<Repeat> of = of(results, p);
            int n = of.size();
            StringBuilder line = new StringBuilder(String.format("pingpong: %-6s RTT us", name(p)));
            for (int k = 0; k < PERCENTILES.length; k++) {
                int at = k;
                line.append(String.format("  %s %s", PERCENTILE_NAMES[k],
                        RepeatSummary.text(ComparePoint.Spread.of(values(of, r -> r.micros()[at])), "%.2f", n)));
            }
            List<String> flags = flags(of, spreadFlag);
            out.printf("%s;  %s round trips/s%s%n", line, RepeatSummary.text(ComparePoint.Spread.of(values(of,
                    Repeat::roundTripsPerSecond)), "%,.0f", n), flags.isEmpty() ? "" : "  flags " + String.join(",", flags));
        }
        if (paths.size() > 1 && !of(results, SendPath.FIXED_SEGMENT).isEmpty()) {
            ComparePoint.Spread ratio = ratio(results);
            out.printf("pingpong: pinned ÷ fixed (RTT p50, per repeat pair) %s%n",
                    RepeatSummary.text(ratio, "%.3f", of(results, SendPath.PINNED).size()));
        }
    }

    /** A row per path: the medians over the repeats, each with its min and max, then the repeats, spread and flags. */
    private List<String> csv(List<SendPath> paths, List<Repeat> results, double spreadFlag) {
        List<String> csv = new ArrayList<>();
        csv.add("path,size_bytes,repeats,round_trips,lost," + RepeatSummary.csvHeader("p50_us") + ","
                + RepeatSummary.csvHeader("p99_us") + "," + RepeatSummary.csvHeader("p999_us") + ","
                + RepeatSummary.csvHeader("max_us") + "," + RepeatSummary.csvHeader("round_trips_per_s") + ","
                + RepeatSummary.csvHeader("p50_vs_fixed") + ",spread,flags");
        for (SendPath p : paths) {
            List<Repeat> of = of(results, p);
            StringBuilder row = new StringBuilder(String.format("%s,%d,%d,%d,%d", name(p), size, of.size(),
                    of.stream().mapToLong(Repeat::roundTrips).sum(), of.stream().mapToLong(Repeat::lost).sum()));
            for (int k = 0; k < PERCENTILES.length; k++) {
                int at = k;
                row.append(',').append(RepeatSummary.csv(ComparePoint.Spread.of(values(of, r -> r.micros()[at])), "%.2f"));
            }
            row.append(',').append(RepeatSummary.csv(ComparePoint.Spread.of(values(of, Repeat::roundTripsPerSecond)), "%.1f"));
            boolean paired = paths.size() > 1 && !of(results, SendPath.FIXED_SEGMENT).isEmpty();
            ComparePoint.Spread ratio = !paired ? new ComparePoint.Spread(Double.NaN, Double.NaN, Double.NaN)
                    : p == SendPath.PINNED ? ratio(results) : new ComparePoint.Spread(1, 1, 1);
            row.append(',').append(RepeatSummary.csv(ratio, "%.3f"));
            row.append(',').append(ComparePoint.finite("%.3f", ComparePoint.Spread.of(values(of, Repeat::p50)).relative()));
            csv.add(row.append(',').append(String.join(";", flags(of, spreadFlag))).toString());
        }
        return csv;
    }

    /** pingpong.json: the run record, each path's summary, the pinned ÷ fixed ratio, every repeat in the order it ran. */
    private Map<String, Object> document(Map<String, Object> run, List<SendPath> paths, List<Repeat> results,
                                         Histogram[] all, double spreadFlag) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("run", run);
        doc.put("transport", to);
        doc.put("sizeBytes", size);
        doc.put("count", count);
        doc.put("repeats", repeats);
        List<Object> summaries = new ArrayList<>();
        for (int i = 0; i < paths.size(); i++) {
            List<Repeat> of = of(results, paths.get(i));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", name(paths.get(i)));
            m.put("repeats", of.size());
            m.put("roundTrips", of.stream().mapToLong(Repeat::roundTrips).sum());
            m.put("lost", of.stream().mapToLong(Repeat::lost).sum());
            Map<String, Object> rtt = new LinkedHashMap<>();
            for (int k = 0; k < PERCENTILES.length; k++) {
                int at = k;
                CompareJson.spread(rtt, PERCENTILE_NAMES[k], ComparePoint.Spread.of(values(of, r -> r.micros()[at])),
                        "no round trip came back");
            }
            m.put("rttMicros", rtt);
            CompareJson.spread(m, "roundTripsPerSecond", ComparePoint.Spread.of(values(of, Repeat::roundTripsPerSecond)),
                    "no time measured");
            CompareJson.number(m, "spread", ComparePoint.Spread.of(values(of, Repeat::p50)).relative(),
                    "no round trip came back");
            m.put("flags", flags(of, spreadFlag));
            Histogram h = all[i] != null ? all[i] : new Histogram(60_000_000_000L, 3);
            m.put("rttMicrosAllRepeats", latency(percentiles(h), h.getTotalCount() == 0 ? Double.NaN : h.getMean() / 1e3));
            summaries.add(m);
        }
        doc.put("paths", summaries);
        if (paths.size() > 1 && !of(results, SendPath.FIXED_SEGMENT).isEmpty()) {
            CompareJson.spread(doc, "pinnedToFixedRttP50", ratio(results), "a repeat had no round trip back");
        }
        List<Object> samples = new ArrayList<>();
        for (Repeat r : results) {
            Map<String, Object> m = duration(r);
            m.put("roundTrips", r.roundTrips());
            m.put("lost", r.lost());
            m.put("rttMicros", latency(r.micros(), r.meanMicros()));
            CompareJson.number(m, "roundTripsPerSecond", r.roundTripsPerSecond(), "no time measured");
            samples.add(m);
        }
        doc.put("samples", samples);
        return doc;
    }

    private static Map<String, Object> latency(double[] micros, double mean) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int k = 0; k < PERCENTILES.length; k++) {
            CompareJson.number(m, PERCENTILE_NAMES[k], micros[k], "no round trip came back");
        }
        CompareJson.number(m, "mean", mean, "no round trip came back");
        return m;
    }

    private static Map<String, Object> duration(Repeat r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", r.path());
        m.put("repeat", r.repeat());
        m.put("startedAt", r.startedAt().toString());
        m.put("seconds", r.seconds());
        return m;
    }

    private Map<String, Object> configuration(List<SendPath> paths, int warm, String local, double spreadFlag) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("to", to);
        c.put("bind", local);
        c.put("sizeBytes", size);
        c.put("count", count);
        c.put("warmup", warm);
        c.put("paths", paths.stream().map(PingPongCommand::name).toList());
        c.put("repeats", repeats);
        c.put("repeatOrder", paths.size() > 1 ? "alternating: pinned, fixed, pinned, fixed, … each --count round trips,"
                + " one session" : "back to back, one session");
        c.put("timeoutMillis", timeoutMillis);
        c.put("giveUpAfter", giveUpAfter);
        c.put("spreadFlag", spreadFlag);
        return c;
    }

    /** One message in flight: post, send, progress until its echo is in, a loss, or the end of the session. */
    private static final class Client implements CompletionHandler {
        /**
         * The cookie of the ping send, apart from the session's control cookies (-1 to -5, EchoProtocol's and the echo's);
         * receive slots have their index as cookie, 0 or 1.
         */
        private static final long PING_COOKIE = -10;
        private final Nic nic;
        private final Endpoint endpoint;
        private final EchoProtocol.Session session;
        private final NativeBuffer source;
        private final NativeBuffer target;
        private final int size;
        /** The path the next round trips take; the caller switches it between repeats. */
        SendPath path;
        private final long timeoutNanos;
        private final int giveUpAfter;
        private long round;
        private boolean echoed;
        /** Receive slots of {@link #target} on the free queue now; each slot's cookie is its index. */
        private final boolean[] posted;
        private final int slotBytes;
        private boolean sending;
        private int lostInARow;
        long sent;
        long lost;
        long lostMeasured;
        /** Why the run stopped early, or null. */
        String stopped;
        /** The echo's GONE notice, or null. */
        String gone;
        /** Why the wire gave the echo up (a ping's send completed {@code PEER_UNREACHABLE}), or null. */
        String unreachable;

        Client(Nic nic, Endpoint endpoint, EchoProtocol.Session session, NativeBuffer source, NativeBuffer target, int size,
               SendPath path, long timeoutNanos, int giveUpAfter) {
            this.nic = nic;
            this.endpoint = endpoint;
            this.session = session;
            this.source = source;
            this.target = target;
            this.size = size;
            this.slotBytes = Math.max(size, EchoProtocol.CONTROL_BYTES);
            this.posted = new boolean[target.capacity() / slotBytes];
            this.path = path;
            this.timeoutNanos = timeoutNanos;
            this.giveUpAfter = giveUpAfter;
        }

        /** Runs up to {@code rounds} round trips; returns how many came back. Sets {@link #stopped} when it gives up. */
        int run(int rounds, Histogram rtt) {
            int done = 0;
            for (int i = 0; i < rounds && stopped == null; i++) {
                while (sending) { // on the pinned path the source is the NIC's until its send completes
                    step();
                }
                round++;
                if (size >= Long.BYTES) {
                    source.buffer().putLong(0, round);
                }
                echoed = false;
                sending = true;
                long start = System.nanoTime();
                while (!endpoint.send(session.data(), source.buffer(), 0, size, path, PING_COOKIE).isAccepted()) {
                    step();
                }
                sent++;
                while (!echoed && gone == null && unreachable == null) {
                    step();
                    if (!echoed && System.nanoTime() - start > timeoutNanos) {
                        break;
                    }
                }
                if (echoed) {
                    lostInARow = 0;
                    if (rtt != null) {
                        rtt.recordValue(Math.max(0, System.nanoTime() - start));
                    }
                    done++;
                } else if (gone != null) {
                    stopped = "the echo ended the session: " + gone;
                } else if (unreachable != null) {
                    stopped = "the echo at " + session.data().remote() + " is unreachable (" + unreachable + ")";
                } else {
                    lost++;
                    lostMeasured += rtt != null ? 1 : 0;
                    if (++lostInARow >= giveUpAfter) {
                        stopped = lostInARow + " round trips in a row were lost (--give-up-after " + giveUpAfter
                                + ", each waited --timeout-ms " + timeoutNanos / 1_000_000 + "): is the echo at "
                                + session.data().remote() + " still running?";
                    }
                }
            }
            return done;
        }

        private void step() {
            for (int i = 0; i < posted.length; i++) {
                if (!posted[i]) {
                    endpoint.postReceive(target.buffer(), i * slotBytes, slotBytes, i);
                    posted[i] = true;
                }
            }
            nic.progress();
            endpoint.poll(this, 16);
        }

        @Override
        public void onCompletion(Completion c) {
            if (c.kind() == Completion.Kind.SEND) {
                sending = sending && c.cookie() != PING_COOKIE;
                if (c.status() == CompletionStatus.PEER_UNREACHABLE && unreachable == null) {
                    unreachable = c.detail(); // the wire knows the echo is gone: no point waiting out the losses
                }
                return;
            }
            if (c.kind() != Completion.Kind.RECEIVE) {
                return;
            }
            if (c.cookie() >= 0 && c.cookie() < posted.length) {
                posted[(int) c.cookie()] = false;
            }
            if (c.status() != CompletionStatus.OK || c.channel() != session.data()) {
                return;
            }
            if (c.length() == size && (size < Long.BYTES || c.buffer().getLong(c.offset()) == round)) {
                echoed = true;
            } else if (EchoProtocol.isGone(c.buffer(), c.offset(), c.length())) {
                gone = EchoProtocol.text(c.buffer(), c.offset(), c.length()).substring(EchoProtocol.GONE.length()).trim();
            } // else a late echo of an earlier round: dropped
        }
    }
}
