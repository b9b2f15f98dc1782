package org.unetmm.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.ToDoubleFunction;
import org.HdrHistogram.Histogram;
import org.unetmm.ChannelAddress;
import org.unetmm.IdleStrategy;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.ReliableStats;
import org.unetmm.rpc.RpcClient;
import org.unetmm.rpc.RpcClientConfig;
import org.unetmm.rpc.RpcException;
import org.unetmm.rpc.RpcStatus;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm rpc bench --to URI --size N --inflight K --duration S}: a closed loop against
 * {@code unetmm rpc serve} that keeps exactly K calls outstanding, issuing a new call as soon as
 * one completes. The caller's thread drives the NIC (CALLER progress), backing off to a park while
 * nothing arrives ({@code --spin}: busy-spin). Latency is from the call
 * to the progress round in which its future was seen done (HdrHistogram, 3 significant digits).
 * {@code --warmup} seconds run first and are not counted. A line each second (calls/s, MB/s of
 * request payload, p50/p99 of that second) and a summary: calls/s, MB/s and p50, p90, p99, p99.9
 * and max over the whole run.
 *
 * <p>{@code --repeats N} measures N intervals of {@code --duration} seconds back to back (one
 * server, so there is nothing to interleave with; the calls stay in flight across the boundary and
 * a call counts in the interval it completes in); the summary then adds calls/s, MB/s and each
 * latency percentile as the median [min–max] of the intervals' values, flagged {@code spread} when
 * calls/s differ by more than {@code --spread-flag} of their median. Every run writes
 * {@code run.json} (opened at the start) and {@code rpc-bench.json} under
 * {@code results/<timestamp>/}; {@code --format json} prints the latter, {@code --format csv} one
 * summary row (the lines go to stderr then). Exit status 0 when calls completed and none failed, 1
 * when the server did not answer or a call failed.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Keep K RPCs in flight against 'unetmm rpc serve'; prints calls/s, MB/s and latency percentiles.",
        footer = {"", "Examples:",
                "  unetmm rpc serve --listen udp://127.0.0.1:7200 &",
                "  unetmm rpc bench --to udp://127.0.0.1:7200 --size 64 --inflight 1 --duration 5",
                "  unetmm rpc bench --to udp://127.0.0.1:7200 --inflight 16 --duration 2 --repeats 5 --format json"
                        + "   (median [min–max] of 5 intervals)",
                "  unetmm rpc bench --to shm:rpc1 --size 4KiB --inflight 8 --format csv",
                "", "Exit status: 0 when calls completed and none failed, 1 when the server did not answer or calls"
                        + " failed, 2 on bad usage."})
public final class RpcBenchCommand implements Callable<Integer> {
    private static final long CONNECT_SECONDS = 3;
    private static final long HIGHEST_NANOS = 60_000_000_000L;
    /** The latency percentiles reported (100: the maximum), and their names in the JSON. */
    private static final double[] PERCENTILES = {50, 90, 99, 99.9, 100};
    private static final String[] PERCENTILE_NAMES = {"p50", "p90", "p99", "p99.9", "max"};

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ResultsOptions output;

    @CommandLine.Mixin
    SpreadFlag spread;

    @Option(names = "--to", required = true, description = "the server's transport URI, e.g. udp://127.0.0.1:7200 or shm:rpc1")
    String to;

    @Option(names = "--size", converter = ByteSize.class, defaultValue = "64",
            description = "request size: 64, 64B, 4KiB, 1MiB (default ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--inflight", defaultValue = "1", description = "calls kept outstanding; at most the server's"
            + " --buffers across its clients, or calls are refused as receiver-not-ready and resent (default"
            + " ${DEFAULT-VALUE})")
    int inflight;

    @Option(names = "--duration", defaultValue = "5", description = "seconds measured, per repeat (default ${DEFAULT-VALUE})")
    double durationSeconds;

    @Option(names = "--repeats", defaultValue = "1", description = "measured intervals of --duration, back to back;"
            + " the median, min and max over them are reported (default ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--warmup", defaultValue = "1", description = "seconds run first, not counted (default ${DEFAULT-VALUE})")
    double warmupSeconds;

    @Option(names = "--max-response", converter = ByteSize.class, description = "largest reply taken (default: --size,"
            + " at least 64 B)")
    Integer maxResponse;

    @Option(names = "--spin", description = "busy-spin while every call is outstanding and nothing arrives, at the"
            + " cost of a core (default: back off to a park, which leaves a shared core to the server)")
    boolean spin;

    @Option(names = "--bind", description = "local transport URI (default: the local address that routes to --to, port 0)")
    String bind;

    @Override
    public Integer call() throws IOException {
        output.validate(spec.commandLine(), true);
        double spreadFlag = spread.threshold(spec.commandLine());
        ByteSize.check(spec.commandLine(), "--size", size, 0, 64 << 20, null);
        if (maxResponse != null) {
            ByteSize.check(spec.commandLine(), "--max-response", maxResponse, 1, 64 << 20, null);
        }
        ByteSize.checkCount(spec.commandLine(), "--inflight", inflight, 1, 4096);
        ByteSize.checkCount(spec.commandLine(), "--repeats", repeats, 1, 1000);
        if (!(durationSeconds > 0) || durationSeconds > 86_400 || !(warmupSeconds >= 0) || warmupSeconds > 3600) {
            throw bad("--duration must be in (0, 86400] and --warmup in [0, 3600] seconds");
        }
        int responses = maxResponse != null ? maxResponse : Math.max(64, size);
        // a request and a response buffer per call, and the client's receive pool of inflight + 4 buffers
        long buffers = (long) inflight * (size + responses) + (inflight + 4L) * (responses + 16);
        if (buffers > (1L << 30)) {
            throw bad("--inflight x (--size + --max-response) needs " + buffers + " B of buffers: keep it under 1 GiB"
                    + " (and under RLIMIT_MEMLOCK)");
        }
        PrintStream out = output.json() || output.csv() ? System.err : System.out; // the lines
        ChannelAddress server = RpcCommand.serverAddress(to);
        String local = bind != null ? bind : EchoProtocol.localBindFor(to);
        Path dir = RunRecord.newRunDirectory(output.results);
        RunRecord record = RunRecord.open(dir, "rpc bench", configuration(server, local, responses, spreadFlag));
        record.put("kernelFeatures", RunRecord.kernelFeatures(to));
        Loop loop;
        try (Nic nic = Nic.open(NicConfig.builder().transport(local).progressMode(ProgressMode.CALLER).build())) {
            RpcClient client;
            try {
                client = RpcClient.connect(nic, server, RpcClientConfig.builder().maxInFlight(inflight).maxResponse(responses)
                        .connectTimeout(Duration.ofSeconds(CONNECT_SECONDS)).build());
            } catch (RpcException e) {
                String why = e.status() != RpcStatus.PEER_UNREACHABLE ? "could not connect to " + to + ": " + e.getMessage()
                        : "no RPC server answered at " + to + " within " + CONNECT_SECONDS
                        + " s (start one with 'unetmm rpc serve --listen " + to + "')";
                record.finish(Map.of("notes", List.of(why)));
                throw new IllegalStateException(why);
            }
            out.println("rpc bench: " + size + " B calls to " + server + ", " + inflight + " in flight, " + warmupSeconds
                    + " s warmup + " + (repeats > 1 ? repeats + " x " : "") + durationSeconds + " s, from "
                    + nic.transportAddress());
            out.flush();
            loop = new Loop(nic, client, size, responses, inflight, spin ? IdleStrategy.busySpin() : IdleStrategy.backoff());
            try {
                loop.run(warmupSeconds, durationSeconds, repeats, out);
                ReliableStats r = client.channel().reliableStats();
                out.printf("rpc bench: channel  %,d fragments sent, %,d retransmitted (%,d timeouts), %,d not-ready NACKs"
                                + " received, %,d acks sent, %,d received; srtt %.1f µs%n", r.fragmentsSent(), r.retransmissions(),
                        r.timeouts(), r.notReadyReceived(), r.acksSent(), r.acksReceived(), r.srtt().toNanos() / 1e3);
            } finally {
                client.close();
            }
            String wire = WireSummary.line("rpc bench", nic);
            if (wire != null) {
                out.println(wire);
            }
        }
        Histogram h = loop.total();
        long calls = h.getTotalCount();
        double seconds = Math.max(loop.intervals.stream().mapToDouble(Interval::seconds).sum(), 1e-9);
        out.printf("rpc bench: summary  %,d calls of %d B, %d in flight, in %.2f s: %,.0f calls/s  %.1f MB/s;"
                        + " latency µs p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f; failed %,d%n",
                calls, size, inflight, seconds, calls / seconds, calls * (double) size / seconds / 1e6,
                micros(h, 50), micros(h, 90), micros(h, 99), micros(h, 99.9), h.getMaxValue() / 1e3, loop.failed);
        if (loop.refused > 0) {
            out.printf("rpc bench: %,d calls refused before they were sent and issued again (%s)%n", loop.refused,
                    loop.refusal);
        }
        if (loop.intervals.size() > 1) {
            printSpread(loop.intervals, spreadFlag, out);
        }
        out.flush();
        List<String> notes = new ArrayList<>();
        if (loop.failure != null) {
            notes.add(loop.failed + " calls failed, the first: " + loop.failure);
        }
        if (calls == 0) {
            notes.add("no call completed in " + (repeats > 1 ? repeats + " x " : "") + durationSeconds + " s");
        }
        Map<String, Object> end = new LinkedHashMap<>();
        end.put("repeatsMeasured", loop.intervals.size());
        end.put("repeatDurations", loop.intervals.stream().map(RpcBenchCommand::duration).toList());
        end.put("notes", notes);
        output.finish(record, dir, "rpc-bench.json", end,
                run -> document(run, server, loop, spreadFlag), () -> csv(server, loop, spreadFlag));
        if (!notes.isEmpty()) {
            throw new IllegalStateException(notes.get(0));
        }
        return 0;
    }

    /**
     * One measured interval of {@code --duration} seconds: the calls that completed in it, their
     * latencies, when it began and how long it lasted.
     */
    record Interval(int repeat, Instant startedAt, double seconds, Histogram latency) {
        long calls() {
            return latency.getTotalCount();
        }

        double callsPerSecond() {
            return calls() / seconds;
        }

        /** Its latency percentiles in µs ({@link #PERCENTILES}), NaN when no call completed. */
        double[] micros() {
            double[] v = new double[PERCENTILES.length];
            for (int k = 0; k < v.length; k++) {
                v[k] = RepeatSummary.micros(latency, PERCENTILES[k]);
            }
            return v;
        }
    }

    private static double[] values(List<Interval> intervals, ToDoubleFunction<Interval> value) {
        return intervals.stream().mapToDouble(value).toArray();
    }

    private static ComparePoint.Spread percentile(List<Interval> intervals, int k) {
        return ComparePoint.Spread.of(values(intervals, i -> i.micros()[k]));
    }

    private ComparePoint.Spread megabytes(List<Interval> intervals) {
        return ComparePoint.Spread.of(values(intervals, i -> i.callsPerSecond() * size / 1e6));
    }

    private static List<String> flags(List<Interval> intervals, double spreadFlag) {
        return RepeatSummary.spreadAbove(values(intervals, Interval::callsPerSecond), spreadFlag)
                ? List.of(ComparePoint.SPREAD) : List.of();
    }

    /** calls/s, MB/s and each latency percentile as median [min–max] over the intervals. */
    private void printSpread(List<Interval> intervals, double spreadFlag, PrintStream out) {
        int n = intervals.size();
        StringBuilder line = new StringBuilder(String.format("rpc bench: median [min–max] over %d repeats: %s calls/s  %s MB/s;"
                        + " latency µs", n, RepeatSummary.text(ComparePoint.Spread.of(values(intervals, Interval::callsPerSecond)),
                        "%,.0f", n), RepeatSummary.text(megabytes(intervals), "%.1f", n)));
        for (int k = 0; k < PERCENTILES.length; k++) {
            line.append(String.format("  %s %s", PERCENTILE_NAMES[k], RepeatSummary.text(percentile(intervals, k), "%.1f", n)));
        }
        List<String> flags = flags(intervals, spreadFlag);
        out.println(line.append(flags.isEmpty() ? "" : "  flags " + String.join(",", flags)));
    }

    /** One row: the totals, then calls/s, MB/s and each percentile as median, min, max over the intervals; spread, flags. */
    private List<String> csv(ChannelAddress server, Loop loop, double spreadFlag) {
        List<Interval> intervals = loop.intervals;
        StringBuilder header = new StringBuilder("to,size_bytes,inflight,repeats,calls,failed,seconds,")
                .append(RepeatSummary.csvHeader("calls_per_s")).append(',').append(RepeatSummary.csvHeader("mb_per_s"));
        StringBuilder row = new StringBuilder(String.format("%s,%d,%d,%d,%d,%d,%.4f,", server, size, inflight, intervals.size(),
                loop.total().getTotalCount(), loop.failed, intervals.stream().mapToDouble(Interval::seconds).sum()))
                .append(RepeatSummary.csv(ComparePoint.Spread.of(values(intervals, Interval::callsPerSecond)), "%.1f"))
                .append(',').append(RepeatSummary.csv(megabytes(intervals), "%.3f"));
        for (int k = 0; k < PERCENTILES.length; k++) {
            header.append(',').append(RepeatSummary.csvHeader(PERCENTILE_NAMES[k].replace(".", "") + "_us"));
            row.append(',').append(RepeatSummary.csv(percentile(intervals, k), "%.2f"));
        }
        header.append(",spread,flags");
        row.append(',').append(ComparePoint.finite("%.3f", ComparePoint.Spread.of(values(intervals,
                Interval::callsPerSecond)).relative())).append(',').append(String.join(";", flags(intervals, spreadFlag)));
        return List.of(header.toString(), row.toString());
    }

    /**
     * rpc-bench.json: the run record, the totals over every interval (calls/s and the latency
     * percentiles of all calls), each figure's median, min and max over the intervals, and every
     * interval in the order it ran.
     */
    private Map<String, Object> document(Map<String, Object> run, ChannelAddress server, Loop loop, double spreadFlag) {
        List<Interval> intervals = loop.intervals;
        Histogram h = loop.total();
        double seconds = intervals.stream().mapToDouble(Interval::seconds).sum();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run", run);
        m.put("command", "rpc bench");
        m.put("to", server.toString());
        m.put("sizeBytes", size);
        m.put("inflight", inflight);
        m.put("warmupSeconds", warmupSeconds);
        m.put("durationSeconds", durationSeconds);
        m.put("repeats", intervals.size());
        m.put("seconds", seconds);
        m.put("calls", h.getTotalCount());
        m.put("failed", loop.failed);
        m.put("refused", loop.refused);
        CompareJson.number(m, "callsPerSecond", h.getTotalCount() / seconds, "no time measured");
        CompareJson.number(m, "mbPerSecond", h.getTotalCount() * (double) size / seconds / 1e6, "no time measured");
        m.put("latencyMicros", latency(new Interval(-1, Instant.EPOCH, seconds, h).micros()));
        Map<String, Object> spreads = new LinkedHashMap<>();
        CompareJson.spread(spreads, "callsPerSecond", ComparePoint.Spread.of(values(intervals, Interval::callsPerSecond)),
                "no time measured");
        CompareJson.spread(spreads, "mbPerSecond", megabytes(intervals), "no time measured");
        Map<String, Object> latency = new LinkedHashMap<>();
        for (int k = 0; k < PERCENTILES.length; k++) {
            CompareJson.spread(latency, PERCENTILE_NAMES[k], percentile(intervals, k), "an interval had no call complete");
        }
        spreads.put("latencyMicros", latency);
        CompareJson.number(spreads, "spread", ComparePoint.Spread.of(values(intervals, Interval::callsPerSecond)).relative(),
                "no call completed");
        m.put("overRepeats", spreads);
        m.put("flags", flags(intervals, spreadFlag));
        List<Object> samples = new ArrayList<>();
        for (Interval i : intervals) {
            Map<String, Object> j = duration(i);
            j.put("calls", i.calls());
            CompareJson.number(j, "callsPerSecond", i.callsPerSecond(), "no time measured");
            CompareJson.number(j, "mbPerSecond", i.callsPerSecond() * size / 1e6, "no time measured");
            j.put("latencyMicros", latency(i.micros()));
            samples.add(j);
        }
        m.put("samples", samples);
        return m;
    }

    private static Map<String, Object> latency(double[] micros) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int k = 0; k < PERCENTILES.length; k++) {
            CompareJson.number(m, PERCENTILE_NAMES[k], micros[k], "no call completed");
        }
        return m;
    }

    private static Map<String, Object> duration(Interval i) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("repeat", i.repeat());
        m.put("startedAt", i.startedAt().toString());
        m.put("seconds", i.seconds());
        return m;
    }

    private Map<String, Object> configuration(ChannelAddress server, String local, int responses, double spreadFlag) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("to", server.toString());
        c.put("bind", local);
        c.put("sizeBytes", size);
        c.put("maxResponseBytes", responses);
        c.put("inflight", inflight);
        c.put("warmupSeconds", warmupSeconds);
        c.put("durationSeconds", durationSeconds);
        c.put("repeats", repeats);
        c.put("repeatOrder", "back to back (one server): intervals of --duration, calls kept in flight across the boundary,"
                + " a call counted in the interval it completes in");
        c.put("idle", spin ? "busy-spin" : "backoff");
        c.put("spreadFlag", spreadFlag);
        return c;
    }

    private static double micros(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** The closed loop: K slots, each with its own request and response buffer and its call's start time. */
    private static final class Loop {
        private final Nic nic;
        private final IdleStrategy idle;
        private final RpcClient client;
        private final int size;
        private final int responseCapacity;
        private final ByteBuffer[] requests;
        private final ByteBuffer[] responses;
        private final CompletableFuture<?>[] calls;
        private final long[] started;
        private final Histogram second = new Histogram(HIGHEST_NANOS, 3);
        /** The measured intervals, in the order they ran. */
        final List<Interval> intervals = new ArrayList<>();
        long failed;
        String failure;
        /**
         * Calls the client refused before sending them ({@code TOO_MANY_CALLS}: its send queue was
         * full, as it is while a silent server leaves earlier requests unacknowledged): issued again,
         * not counted as failed calls. Counting them had turned 16 calls lost with a killed server
         * into "6,383,024 calls failed".
         */
        long refused;
        String refusal;

        Loop(Nic nic, RpcClient client, int size, int responseCapacity, int inflight, IdleStrategy idle) {
            this.nic = nic;
            this.idle = idle;
            this.client = client;
            this.size = size;
            this.responseCapacity = responseCapacity;
            this.requests = new ByteBuffer[inflight];
            this.responses = new ByteBuffer[inflight];
            this.calls = new CompletableFuture<?>[inflight];
            this.started = new long[inflight];
            for (int i = 0; i < inflight; i++) {
                requests[i] = ByteBuffer.allocateDirect(Math.max(1, size));
                responses[i] = ByteBuffer.allocateDirect(Math.max(1, responseCapacity));
            }
        }

        /** Every interval's calls in one histogram. */
        Histogram total() {
            Histogram all = new Histogram(HIGHEST_NANOS, 3);
            intervals.forEach(i -> all.add(i.latency()));
            return all;
        }

        /**
         * Warms up, then measures {@code repeats} intervals of {@code durationSeconds} back to back, the
         * calls kept in flight throughout; then stops issuing and waits for the outstanding ones.
         */
        void run(double warmupSeconds, double durationSeconds, int repeats, PrintStream out) {
            long start = System.nanoTime();
            long duration = (long) (durationSeconds * 1e9);
            long intervalEnd = start + (long) (warmupSeconds * 1e9); // the warm-up's end, then each interval's
            long intervalStart = start;
            Histogram interval = null; // the interval being measured; null in the warm-up and after the last
            Instant intervalAt = null;
            long nextLine = start + 1_000_000_000L;
            boolean stopping = false;
            for (int i = 0; i < calls.length; i++) {
                issue(i, start);
            }
            while (true) {
                int work = nic.progress();
                long now = System.nanoTime();
                if (!stopping && now - intervalEnd >= 0) {
                    if (interval != null) {
                        Interval done = new Interval(intervals.size(), intervalAt, (now - intervalStart) / 1e9, interval);
                        intervals.add(done);
                        if (repeats > 1) {
                            double[] us = done.micros();
                            out.printf("rpc bench: repeat %d/%d  %,.0f calls/s  %.1f MB/s  p50 %,.1f µs  p99 %,.1f µs%n",
                                    intervals.size(), repeats, done.callsPerSecond(), done.callsPerSecond() * size / 1e6,
                                    us[0], us[2]);
                            out.flush();
                        }
                        interval = null;
                    }
                    if (intervals.size() < repeats) {
                        interval = new Histogram(HIGHEST_NANOS, 3);
                        intervalAt = Instant.now();
                        intervalStart = now;
                        intervalEnd = now + duration;
                    } else {
                        stopping = true;
                    }
                }
                int outstanding = 0;
                for (int i = 0; i < calls.length; i++) {
                    CompletableFuture<?> call = calls[i];
                    if (call == null) {
                        continue;
                    }
                    if (!call.isDone()) {
                        outstanding++;
                        continue;
                    }
                    calls[i] = null;
                    work++;
                    if (call.isCompletedExceptionally()) {
                        onFailure(call);
                        work--; // a refusal is no progress: the loop may idle while the server is silent
                    } else {
                        long latency = Math.min(now - started[i], HIGHEST_NANOS);
                        second.recordValue(latency);
                        if (interval != null) {
                            interval.recordValue(latency);
                        }
                    }
                    if (!stopping && client.isConnected()) {
                        issue(i, now);
                        outstanding++;
                    }
                }
                if (now - nextLine >= 0) {
                    long n = second.getTotalCount();
                    out.printf("rpc bench: %4d s%s %,12d calls/s  %9.1f MB/s  p50 %,8.1f µs  p99 %,8.1f µs%n",
                            (now - start) / 1_000_000_000L, intervalAt == null ? " warmup " : "        ", n,
                            n * (double) size / 1e6, micros(second, 50), micros(second, 99));
                    out.flush();
                    second.reset();
                    nextLine += 1_000_000_000L;
                }
                if (stopping && outstanding == 0 || !client.isConnected()) {
                    break;
                }
                idle.idle(work);
            }
            if (interval != null) { // the server went away mid-interval: what was measured until then
                intervals.add(new Interval(intervals.size(), intervalAt, (System.nanoTime() - intervalStart) / 1e9, interval));
            }
            for (CompletableFuture<?> call : calls) {
                if (call != null && !call.isDone()) {
                    call.cancel(false);
                }
            }
        }

        private void issue(int slot, long now) {
            started[slot] = now;
            calls[slot] = client.call(RpcCommand.ECHO_METHOD, requests[slot], 0, size, responses[slot], 0, responseCapacity);
        }

        private void onFailure(CompletableFuture<?> call) {
            String why;
            boolean refusedBeforeSending;
            try {
                call.join();
                return;
            } catch (CompletionException e) {
                Throwable cause = e.getCause();
                refusedBeforeSending = cause instanceof RpcException rpc && rpc.status() == RpcStatus.TOO_MANY_CALLS;
                why = cause instanceof RpcException rpc ? rpc.status() + ": " + rpc.getMessage() : String.valueOf(cause);
            } catch (RuntimeException e) {
                refusedBeforeSending = false;
                why = e.toString();
            }
            if (refusedBeforeSending) {
                refused++;
                if (refusal == null) {
                    refusal = why;
                }
            } else {
                failed++;
                if (failure == null) {
                    failure = why;
                }
            }
        }
    }
}
