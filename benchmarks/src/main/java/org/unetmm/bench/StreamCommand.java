package org.unetmm.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.nic.udp.UdpStats;
import org.unetmm.nic.udp.UdpTransport;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.tlb.ReplacementPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm stream --to URI --size N --duration S}: a one-way stream of unreliable messages to
 * {@code unetmm sink} ({@link StreamProtocol}), as fast as the NIC takes them and the sink can
 * hold: at most {@code --inflight} sends outstanding at the NIC, and at most the window the sink
 * allows beyond the highest message it has reported (its posted buffers and half its receive
 * buffer, as its answer to HELLO says), so the stream measures the wire, not a socket buffer
 * overflowing. Each message carries its sequence number; the sink reports what arrived, so the
 * stream prints what it sent and what was delivered whole (msgs/s, MB/s) and how many messages
 * were lost. Exit status 0 when the sink's final report arrived, 1 when the sink never answered,
 * went silent or is busy with another stream, 2 on bad usage and when the sink's buffers are
 * smaller than {@code --size} (the error names {@code --max-message}).
 *
 * <p>{@code --repeats N} runs N streams per path back to back; with {@code --path both} the paths
 * alternate (pinned fixed pinned fixed …), so drift of the machine falls on both alike, and the
 * summary gives each path's median [min–max] and the pinned ÷ fixed ratio taken per repeat pair,
 * then summarised. Every run writes {@code run.json} (opened at the start) and {@code stream.json}
 * under {@code results/<timestamp>/}; {@code --format json} prints the latter, {@code --format csv}
 * a row per stream.
 */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = "Stream messages one way to 'unetmm sink'; prints sent and delivered msgs/s, MB/s and lost messages.",
        footer = {"", "Examples:",
                "  unetmm sink --listen udp://127.0.0.1:7100 &",
                "  unetmm stream --to udp://127.0.0.1:7100 --size 64 --duration 5",
                "  unetmm stream --to udp://127.0.0.1:7100 --size 4KiB --duration 2 --path both --repeats 5 --format json"
                        + "   (fixed and pinned alternating)",
                "  unetmm stream --to udp://198.18.0.2:7100 --size 256KiB --duration 10 --warmup 3"
                        + "   (sink with --max-message 256KiB)",
                "", "Exit status: 0 when the sink reported the whole stream, 1 when it did not answer or was busy with another"
                        + " stream, 2 on bad usage."})
public final class StreamCommand implements Callable<Integer> {
    static final long CONTROL_COOKIE = -3;
    private static final int REPORT_BUFFERS = 16;
    /** Source memory (pinned path) at most: sends cycle through this many bytes of buffers. */
    private static final long SOURCE_BYTES = 4 << 20;
    static final long ANSWER_NANOS = 3_000_000_000L;
    /** TLB ways of the stream's and the sink's NICs; the sets grow with the memory they touch ({@link #tlbSets}). */
    static final int TLB_WAYS = 4;
    private static final long PAGE = 4096;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ResultsOptions output;

    @CommandLine.Mixin
    SpreadFlag spread;

    @Option(names = "--to", required = true, description = "the sink's transport URI, e.g. udp://127.0.0.1:7100")
    String to;

    @Option(names = "--size", defaultValue = "64", converter = ByteSize.class, description = "message size ("
            + ByteSize.FORMS + "), at least 8 (default ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--duration", defaultValue = "5", description = "seconds to stream (default ${DEFAULT-VALUE})")
    double durationSeconds;

    @Option(names = "--warmup", defaultValue = "0", description = "seconds streamed on each path before the measured"
            + " streams, not counted (the JIT compiles the send path meanwhile: on a loaded machine its first seconds"
            + " run at a fraction of the rate) (default ${DEFAULT-VALUE})")
    double warmupSeconds;

    @Option(names = "--path", defaultValue = "pinned", description = "send path: pinned (zero-copy from the sender's"
            + " buffers), fixed (copied into the fixed segment), or both, alternating (default ${DEFAULT-VALUE})")
    String path;

    @Option(names = "--repeats", defaultValue = "1", description = "streams per path, back to back (with --path both"
            + " alternating: pinned fixed pinned fixed …); the median, min and max are reported (default ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--inflight", defaultValue = "256", description = "sends outstanding at the NIC at most; the sink's"
            + " window (what it said it holds) bounds the messages beyond its last report (default ${DEFAULT-VALUE})")
    int inflight;

    @Option(names = "--bind", description = "local transport URI (default: the local address that routes to --to, port 0)")
    String bind;

    /**
     * One stream's outcome: {@code delivered} as the sink's last report counted it, {@code reported}
     * whether that was its final report.
     */
    record Result(String path, int repeat, Instant startedAt, double seconds, long sent, long delivered, boolean reported,
                  Map<String, Object> wire, Map<String, Object> flow) {
        long lost() {
            return sent - delivered;
        }

        double sentPerSecond() {
            return sent / seconds;
        }

        double deliveredPerSecond() {
            return delivered / seconds;
        }
    }

    @Override
    public Integer call() throws IOException {
        output.validate(spec.commandLine(), true);
        if (!List.of("pinned", "fixed", "both").contains(path)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--path must be 'pinned', 'fixed' or 'both'"
                    + " (alternating), got '" + path + "'");
        }
        List<SendPath> paths = path.equals("both") ? List.of(SendPath.PINNED, SendPath.FIXED_SEGMENT)
                : List.of(PingPongCommand.path(spec, path));
        ByteSize.check(spec.commandLine(), "--size", size, StreamProtocol.MIN_SIZE, 64 << 20,
                "a message carries an 8-byte sequence number");
        if (!(durationSeconds > 0) || durationSeconds > 86_400) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--duration must be in (0, 86400] seconds, got "
                    + durationSeconds);
        }
        if (inflight < 1 || inflight > 4096) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--inflight must be in 1..4096, got " + inflight);
        }
        ByteSize.checkCount(spec.commandLine(), "--repeats", repeats, 1, 1000);
        if (!(warmupSeconds >= 0) || warmupSeconds > 3600) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--warmup must be in [0, 3600] seconds, got "
                    + warmupSeconds);
        }
        double spreadFlag = spread.threshold(spec.commandLine());
        Path dir = RunRecord.newRunDirectory(output.results);
        RunRecord record = RunRecord.open(dir, "stream", configuration(paths, spreadFlag));
        record.put("kernelFeatures", RunRecord.kernelFeatures(to));
        PrintStream out = output.json() || output.csv() ? System.err : System.out; // the streams' own lines
        List<Result> results = new ArrayList<>();
        boolean allReported = true;
        for (int r = warmupSeconds > 0 ? -1 : 0; r < repeats; r++) {
            for (SendPath p : paths) {
                Result result;
                try {
                    result = stream(p, r, r < 0 ? warmupSeconds : durationSeconds, out);
                } catch (SinkRefused e) {
                    System.err.println("stream: " + e.getMessage());
                    record.finish(Map.of("notes", List.of(e.getMessage())));
                    return e.exitStatus;
                }
                if (result == null) {
                    record.finish(Map.of("notes", List.of("no sink answered at " + to)));
                    return 1;
                }
                if (r >= 0) { // repeat -1 is the warm-up
                    results.add(result);
                    allReported &= result.reported();
                }
            }
        }
        Map<String, Object> end = new LinkedHashMap<>();
        end.put("repeatsMeasured", results.size());
        end.put("repeatDurations", results.stream().map(StreamCommand::duration).toList());
        record.finish(end);
        String json = RunRecord.JSON.writeValueAsString(document(record.asMap(), paths, results, spreadFlag));
        Files.writeString(dir.resolve("stream.json"), json + "\n");
        if (output.json()) {
            System.out.println(json);
        } else if (output.csv()) {
            System.out.println("path,repeat,size_bytes,seconds,sent,delivered,lost,sent_msgs_per_s,sent_mb_per_s,"
                    + "delivered_msgs_per_s,delivered_mb_per_s,reported");
            for (Result x : results) {
                System.out.printf("%s,%d,%d,%.4f,%d,%d,%d,%.1f,%.3f,%.1f,%.3f,%b%n", x.path(), x.repeat(), size, x.seconds(),
                        x.sent(), x.delivered(), x.lost(), x.sentPerSecond(), x.sentPerSecond() * size / 1e6,
                        x.deliveredPerSecond(), x.deliveredPerSecond() * size / 1e6, x.reported());
            }
        } else if (results.size() > 1) {
            printSummary(paths, results, spreadFlag, out);
        }
        System.err.println("stream: results " + dir.resolve("stream.json") + ", " + dir.resolve("run.json"));
        return allReported ? 0 : 1;
    }

    /** Each path's median [min–max] and, for both paths, pinned ÷ fixed per repeat pair, summarised. */
    private void printSummary(List<SendPath> paths, List<Result> results, double spreadFlag, PrintStream out) {
        out.printf("stream: %d repeats per path%s; delivered: median [min–max] over the repeats%n", repeats,
                paths.size() > 1 ? ", alternating pinned fixed …" : "");
        for (SendPath p : paths) {
            List<Result> of = of(results, p);
            ComparePoint.Spread msgs = ComparePoint.Spread.of(of.stream().mapToDouble(Result::deliveredPerSecond).toArray());
            List<String> flags = flags(of, spreadFlag);
            out.printf("stream: %-6s delivered %,.0f msgs/s [%,.0f–%,.0f]  %.1f MB/s [%.1f–%.1f]  lost %,d%s%n", name(p),
                    msgs.median(), msgs.min(), msgs.max(), msgs.median() * size / 1e6, msgs.min() * size / 1e6,
                    msgs.max() * size / 1e6, of.stream().mapToLong(Result::lost).sum(),
                    flags.isEmpty() ? "" : "  flags " + String.join(",", flags));
        }
        if (paths.size() > 1) {
            ComparePoint.Spread ratio = ratio(results);
            out.printf("stream: pinned ÷ fixed (delivered msgs/s, per repeat pair) %.3f [%.3f–%.3f]%n", ratio.median(),
                    ratio.min(), ratio.max());
        }
    }

    private static String name(SendPath p) {
        return p == SendPath.PINNED ? "pinned" : "fixed";
    }

    private static List<Result> of(List<Result> results, SendPath p) {
        return results.stream().filter(r -> r.path().equals(name(p))).toList();
    }

    /** Pinned ÷ fixed delivered msgs/s of each repeat pair (the two streams of one repeat), summarised. */
    private ComparePoint.Spread ratio(List<Result> results) {
        List<Result> pinned = of(results, SendPath.PINNED);
        List<Result> fixed = of(results, SendPath.FIXED_SEGMENT);
        double[] ratios = new double[pinned.size()];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = pinned.get(i).deliveredPerSecond() / fixed.get(i).deliveredPerSecond();
        }
        return ComparePoint.Spread.of(ratios);
    }

    private static List<String> flags(List<Result> of, double spreadFlag) {
        List<String> flags = new ArrayList<>();
        if (of.size() > 1
                && ComparePoint.Spread.of(of.stream().mapToDouble(Result::deliveredPerSecond).toArray()).relative() > spreadFlag) {
            flags.add(ComparePoint.SPREAD);
        }
        if (of.stream().anyMatch(r -> r.lost() > 0)) {
            flags.add(ComparePoint.LOSS);
        }
        return flags;
    }

    /** stream.json: the run record, each path's summary, the pinned ÷ fixed ratio, every stream in the order it ran. */
    private Map<String, Object> document(Map<String, Object> run, List<SendPath> paths, List<Result> results,
                                         double spreadFlag) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("run", run);
        doc.put("transport", to);
        doc.put("sizeBytes", size);
        doc.put("durationSeconds", durationSeconds);
        doc.put("repeats", repeats);
        List<Object> summaries = new ArrayList<>();
        for (SendPath p : paths) {
            List<Result> of = of(results, p);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", name(p));
            m.put("repeats", of.size());
            ComparePoint.Spread sent = ComparePoint.Spread.of(of.stream().mapToDouble(Result::sentPerSecond).toArray());
            ComparePoint.Spread delivered = ComparePoint.Spread.of(of.stream().mapToDouble(Result::deliveredPerSecond).toArray());
            CompareJson.spread(m, "sentMsgsPerSecond", sent, "no time measured");
            CompareJson.spread(m, "sentMBPerSecond", scaled(sent), "no time measured");
            CompareJson.spread(m, "deliveredMsgsPerSecond", delivered, "no time measured");
            CompareJson.spread(m, "deliveredMBPerSecond", scaled(delivered), "no time measured");
            CompareJson.number(m, "spread", delivered.relative(), "nothing was delivered");
            m.put("lost", of.stream().mapToLong(Result::lost).sum());
            m.put("flags", flags(of, spreadFlag));
            summaries.add(m);
        }
        doc.put("paths", summaries);
        if (paths.size() > 1) {
            CompareJson.spread(doc, "pinnedToFixed", ratio(results), "the fixed path delivered nothing");
        }
        List<Object> samples = new ArrayList<>();
        for (Result r : results) {
            Map<String, Object> m = duration(r);
            m.put("sizeBytes", size);
            m.put("sent", r.sent());
            m.put("delivered", r.delivered());
            m.put("lost", r.lost());
            CompareJson.number(m, "sentMsgsPerSecond", r.sentPerSecond(), "no time measured");
            CompareJson.number(m, "sentMBPerSecond", r.sentPerSecond() * size / 1e6, "no time measured");
            CompareJson.number(m, "deliveredMsgsPerSecond", r.deliveredPerSecond(), "no time measured");
            CompareJson.number(m, "deliveredMBPerSecond", r.deliveredPerSecond() * size / 1e6, "no time measured");
            m.put("reported", r.reported());
            m.put("wire", r.wire());
            m.put("flow", r.flow());
            samples.add(m);
        }
        doc.put("samples", samples);
        return doc;
    }

    private ComparePoint.Spread scaled(ComparePoint.Spread msgs) {
        return new ComparePoint.Spread(msgs.median() * size / 1e6, msgs.min() * size / 1e6, msgs.max() * size / 1e6);
    }

    private static Map<String, Object> duration(Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", r.path());
        m.put("repeat", r.repeat());
        m.put("startedAt", r.startedAt().toString());
        m.put("seconds", r.seconds());
        return m;
    }

    private Map<String, Object> configuration(List<SendPath> paths, double spreadFlag) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("to", to);
        c.put("bind", bind != null ? bind : EchoProtocol.localBindFor(to));
        c.put("sizeBytes", size);
        c.put("durationSeconds", durationSeconds);
        c.put("warmupSecondsPerPath", warmupSeconds);
        c.put("paths", paths.stream().map(StreamCommand::name).toList());
        c.put("repeats", repeats);
        c.put("repeatOrder", paths.size() > 1 ? "alternating: pinned, fixed, pinned, fixed, … each a stream of its own"
                : "back to back");
        c.put("inflight", inflight);
        c.put("spreadFlag", spreadFlag);
        return c;
    }

    /**
     * One stream of {@code seconds} on {@code sendPath} (repeat -1: the warm-up), its lines to {@code out};
     * null when no sink answered.
     */
    private Result stream(SendPath sendPath, int repeat, double seconds, PrintStream out) {
        int slots = (int) Math.max(1, Math.min(inflight, SOURCE_BYTES / size));
        int segment = sendPath == SendPath.FIXED_SEGMENT
                ? (int) Math.min(64L << 20, Math.max(64 * 1024, roundToPage((long) size * Math.min(inflight, 64))))
                : 64 * 1024;
        String local = bind != null ? bind : EchoProtocol.localBindFor(to);
        String pathName = name(sendPath);
        // the NIC closes first (last opened), so no posted buffer or send still uses the memory when it is freed
        try (NativeBuffer sources = NativeMemory.allocate(slots * size);
             NativeBuffer reports = NativeMemory.allocate(REPORT_BUFFERS * StreamProtocol.REPORT_BYTES);
             Nic nic = Nic.open(NicConfig.builder().transport(local).progressMode(ProgressMode.CALLER)
                     .tlb(tlbSets((long) slots * size + segment + PAGE), TLB_WAYS, ReplacementPolicy.LRU).build())) {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().sendQueue(Math.max(16, inflight))
                    .freeQueue(REPORT_BUFFERS).completionQueue(2 * inflight + 64).segmentBytes(segment).build());
            Channel data = endpoint.connect(new ChannelAddress(to.contains("?") ? to.substring(0, to.indexOf('?')) : to,
                    StreamProtocol.SINK_TAG));
            Channel replies = endpoint.openChannel();
            for (int i = 0; i < REPORT_BUFFERS; i++) {
                endpoint.postReceive(reports.buffer(), i * StreamProtocol.REPORT_BYTES, StreamProtocol.REPORT_BYTES, i);
            }
            StreamSender stream = new StreamSender(nic, endpoint, data, sources, reports, slots, sendPath);
            ByteBuffer control = ByteBuffer.allocateDirect(StreamProtocol.CONTROL_BYTES);
            int helloLength = StreamProtocol.hello(control, size, replies.address().toString());
            if (!stream.handshake(control, helloLength, false)) {
                out.println("stream: FAILED: no sink answered at " + to + " within 3 s (start one with 'unetmm sink --listen "
                        + to + "')");
                return null;
            }
            StreamProtocol.Capacity sink = stream.capacity;
            if (sink.window() < 1 && sink.bufferBytes() >= size) {
                throw new SinkRefused("the sink at " + to + " is busy with another stream: wait for it to end (one that"
                        + " stopped without ending frees the sink after " + SinkCommand.QUIET_SECONDS + " s of quiet), or"
                        + " start another sink (unetmm sink --listen URI) and stream to that", 1);
            }
            if (sink.bufferBytes() < size || sink.window() < 1) {
                throw new SinkRefused("the sink at " + to + " takes messages of at most " + sink.bufferBytes() + " B, not "
                        + size + " B: start it with --max-message " + size + " (or stream a smaller --size)", 2);
            }
            stream.window = UdpPeer.Window.of(sink.window(), size);
            out.println("stream: " + (repeat < 0 ? "warm-up, not counted: " : "") + size + " B messages to " + to + "/"
                    + StreamProtocol.SINK_TAG + " for " + seconds + " s, path " + pathName + ", window " + sink.window()
                    + " messages (" + (long) sink.window() * size
                    + " B: the sink holds " + sink.buffers() + " buffers of " + sink.bufferBytes() + " B, SO_RCVBUF "
                    + sink.rcvbufReported() + " B), at most " + slots + " sends at the NIC, from " + nic.transportAddress());
            Instant startedAt = Instant.now();
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            long nextLine = start + 1_000_000_000L;
            long lineSent = 0;
            long lineDelivered = 0;
            while (true) {
                long now = System.nanoTime();
                if (now - end >= 0) {
                    break;
                }
                if (stream.sinkGone != null) {
                    out.printf("stream: the sink is gone after %.1f s (a send failed: %s); stopping%n", (now - start) / 1e9,
                            stream.sinkGone);
                    break;
                }
                stream.push();
                nic.progress();
                stream.drain();
                if (now - nextLine >= 0) {
                    out.printf("stream: %4d s  sent %,12d msgs/s  %9.1f MB/s | delivered %,12d msgs/s  %9.1f MB/s  lost %,d%n",
                            (now - start) / 1_000_000_000L, stream.sent - lineSent, (stream.sent - lineSent) * (double) size / 1e6,
                            stream.delivered - lineDelivered, (stream.delivered - lineDelivered) * (double) size / 1e6,
                            stream.lost);
                    out.flush();
                    lineSent = stream.sent;
                    lineDelivered = stream.delivered;
                    nextLine += 1_000_000_000L;
                }
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            long sent = stream.sent;
            stream.finishSends();
            StreamProtocol.le(control).putLong(0, StreamProtocol.END).putLong(8, sent);
            // a sink the wire has given up on sends no final report: do not wait for one
            boolean reported = stream.sinkGone == null && stream.handshake(control, 16, true);
            long delivered = stream.delivered;
            long lost = sent - delivered;
            out.printf("stream: summary  %,d msgs of %d B in %.2f s: sent %,.0f msgs/s %.1f MB/s, delivered %,.0f msgs/s %.1f MB/s,"
                            + " lost %,d (%.3f%%)%s%n", sent, size, elapsed, sent / elapsed, sent * (double) size / elapsed / 1e6,
                    delivered / elapsed, delivered * (double) size / elapsed / 1e6, lost, sent == 0 ? 0.0 : 100.0 * lost / sent,
                    reported ? "" : stream.sinkGone != null ? " (the sink is gone: delivered is its last report)"
                            : " (the sink's final report did not arrive: delivered is its last report)");
            out.printf("stream: flow  window %,d messages, most outstanding %,d, %,d stalls reopened, %,d truncated at the sink"
                    + " (counted lost)%n", stream.window.messages(), stream.mostOutstanding, stream.window.stalls, stream.truncated);
            Map<String, Object> flow = new LinkedHashMap<>();
            flow.put("windowMessages", stream.window.messages());
            flow.put("mostOutstanding", stream.mostOutstanding);
            flow.put("stalls", stream.window.stalls);
            flow.put("truncatedAtSink", stream.truncated);
            flow.put("sinkBuffers", sink.buffers());
            flow.put("sinkBufferBytes", sink.bufferBytes());
            flow.put("sinkRcvbufReported", sink.rcvbufReported());
            Map<String, Object> wire = new LinkedHashMap<>();
            if (nic.transportAddress().startsWith("udp:")) {
                UdpStats w = UdpTransport.of(nic).stats();
                out.printf("stream: wire  %,d datagrams (%,d frames) in %,d sendmmsg calls, %,d GSO super-datagrams, %,d"
                        + " back-pressured; received %,d frames in %,d receive calls (empty ones too); %s%n", w.datagramsSent(),
                        w.framesSent(), w.sendCalls(), w.gsoSends(), w.sendBackPressured(), w.framesReceived(),
                        w.receiveCalls(), UdpTransport.of(nic).features());
                wire.put("gsoSends", w.gsoSends());
                wire.put("datagramsSent", w.datagramsSent());
                wire.put("framesSent", w.framesSent());
                wire.put("sendmmsgCalls", w.sendCalls());
                wire.put("sendBackPressured", w.sendBackPressured());
            }
            out.flush();
            return new Result(pathName, repeat, startedAt, elapsed, sent, delivered, reported, wire, flow);
        }
    }

    /**
     * TLB sets (of {@link #TLB_WAYS} ways) that cover {@code bytes} of memory twice over, at least the
     * default 256: a stream or sink whose buffers outnumber the TLB re-translates every page of every
     * message through the pin cache, and measures that instead of the wire.
     */
    static int tlbSets(long bytes) {
        long pages = (bytes + PAGE - 1) / PAGE + 16;
        int sets = 256;
        while ((long) sets * TLB_WAYS < 2 * pages && sets < (1 << 22)) {
            sets <<= 1;
        }
        return sets;
    }

    /**
     * The sink refused the stream: its buffers cannot take the messages whole (exit 2: the fix is the
     * sink's --max-message or this --size), or it is busy with another stream (exit 1).
     */
    private static final class SinkRefused extends RuntimeException {
        final int exitStatus;

        SinkRefused(String message, int exitStatus) {
            super(message, null, false, false);
            this.exitStatus = exitStatus;
        }
    }

    private static long roundToPage(long bytes) {
        return (bytes + 4095) & ~4095L;
    }
}
