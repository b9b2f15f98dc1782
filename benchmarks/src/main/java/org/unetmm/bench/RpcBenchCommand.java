package org.unetmm.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.HdrHistogram.Histogram;
import org.unetmm.ChannelAddress;
import org.unetmm.IdleStrategy;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
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
 * and max over the whole run ({@code --format json}: the summary as one JSON object). Exit status
 * 0 when calls completed and none failed, 1 when the server did not answer or a call failed.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Keep K RPCs in flight against 'unetmm rpc serve'; prints calls/s, MB/s and latency percentiles.",
        footer = {"", "Examples:",
                "  unetmm rpc serve --listen udp://127.0.0.1:7200 &",
                "  unetmm rpc bench --to udp://127.0.0.1:7200 --size 64 --inflight 1 --duration 5",
                "  unetmm rpc bench --to udp://127.0.0.1:7200 --inflight 16 --warmup 3",
                "  unetmm rpc bench --to shm:rpc1 --size 4KiB --inflight 8 --format json",
                "", "Exit status: 0 when calls completed and none failed, 1 when the server did not answer or calls"
                        + " failed, 2 on bad usage."})
public final class RpcBenchCommand implements Callable<Integer> {
    private static final long CONNECT_SECONDS = 3;
    private static final long HIGHEST_NANOS = 60_000_000_000L;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--to", required = true, description = "the server's transport URI, e.g. udp://127.0.0.1:7200 or shm:rpc1")
    String to;

    @Option(names = "--size", converter = ByteSize.class, defaultValue = "64",
            description = "request size: 64, 64B, 4KiB, 1MiB (default ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--inflight", defaultValue = "1", description = "calls kept outstanding (default ${DEFAULT-VALUE})")
    int inflight;

    @Option(names = "--duration", defaultValue = "5", description = "seconds measured (default ${DEFAULT-VALUE})")
    double durationSeconds;

    @Option(names = "--warmup", defaultValue = "1", description = "seconds run first, not counted (default ${DEFAULT-VALUE})")
    double warmupSeconds;

    @Option(names = "--max-response", converter = ByteSize.class, description = "largest reply taken (default: --size,"
            + " at least 64 B)")
    Integer maxResponse;

    @Option(names = "--format", defaultValue = "table", description = "summary: table or json (default ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--spin", description = "busy-spin while every call is outstanding and nothing arrives, at the"
            + " cost of a core (default: back off to a park, which leaves a shared core to the server)")
    boolean spin;

    @Option(names = "--bind", description = "local transport URI (default: the local address that routes to --to, port 0)")
    String bind;

    @Override
    public Integer call() {
        ByteSize.check(spec.commandLine(), "--size", size, 0, 64 << 20, null);
        if (maxResponse != null) {
            ByteSize.check(spec.commandLine(), "--max-response", maxResponse, 1, 64 << 20, null);
        }
        ByteSize.checkCount(spec.commandLine(), "--inflight", inflight, 1, 4096);
        if (!(durationSeconds > 0) || durationSeconds > 86_400 || !(warmupSeconds >= 0) || warmupSeconds > 3600) {
            throw bad("--duration must be in (0, 86400] and --warmup in [0, 3600] seconds");
        }
        if (!format.equals("table") && !format.equals("json")) {
            throw bad("--format must be 'table' or 'json', got '" + format + "'");
        }
        int responses = maxResponse != null ? maxResponse : Math.max(64, size);
        // a request and a response buffer per call, and the client's receive pool of inflight + 4 buffers
        long buffers = (long) inflight * (size + responses) + (inflight + 4L) * (responses + 16);
        if (buffers > (1L << 30)) {
            throw bad("--inflight x (--size + --max-response) needs " + buffers + " B of buffers: keep it under 1 GiB"
                    + " (and under RLIMIT_MEMLOCK)");
        }
        boolean json = format.equals("json");
        PrintStream out = System.out;
        ChannelAddress server = RpcCommand.serverAddress(to);
        String local = bind != null ? bind : EchoProtocol.localBindFor(to);
        try (Nic nic = Nic.open(NicConfig.builder().transport(local).progressMode(ProgressMode.CALLER).build())) {
            RpcClient client;
            try {
                client = RpcClient.connect(nic, server, RpcClientConfig.builder().maxInFlight(inflight).maxResponse(responses)
                        .connectTimeout(Duration.ofSeconds(CONNECT_SECONDS)).build());
            } catch (RpcException e) {
                throw new IllegalStateException(e.status() != RpcStatus.PEER_UNREACHABLE ? "could not connect to " + to
                        + ": " + e.getMessage() : "no RPC server answered at " + to + " within " + CONNECT_SECONDS
                        + " s (start one with 'unetmm rpc serve --listen " + to + "')");
            }
            if (!json) {
                out.println("rpc bench: " + size + " B calls to " + server + ", " + inflight + " in flight, " + warmupSeconds
                        + " s warmup + " + durationSeconds + " s, from " + nic.transportAddress());
                out.flush();
            }
            Loop loop = new Loop(nic, client, size, responses, inflight,
                    spin ? IdleStrategy.busySpin() : IdleStrategy.backoff());
            try {
                loop.run(warmupSeconds, durationSeconds, json ? null : out);
            } finally {
                client.close();
            }
            Histogram h = loop.total;
            long calls = h.getTotalCount();
            double seconds = Math.max(loop.measuredSeconds, 1e-9);
            if (json) {
                out.println(json(server, calls, seconds, loop));
            } else {
                out.printf("rpc bench: summary  %,d calls of %d B, %d in flight, in %.2f s: %,.0f calls/s  %.1f MB/s;"
                                + " latency µs p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f; failed %,d%n",
                        calls, size, inflight, seconds, calls / seconds, calls * (double) size / seconds / 1e6,
                        micros(h, 50), micros(h, 90), micros(h, 99), micros(h, 99.9), h.getMaxValue() / 1e3, loop.failed);
            }
            out.flush();
            if (loop.failure != null) {
                throw new IllegalStateException(loop.failed + " calls failed, the first: " + loop.failure);
            }
            if (calls == 0) {
                throw new IllegalStateException("no call completed in " + durationSeconds + " s");
            }
            return 0;
        }
    }

    private String json(ChannelAddress server, long calls, double seconds, Loop loop) {
        Histogram h = loop.total;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", "rpc bench");
        m.put("to", server.toString());
        m.put("sizeBytes", size);
        m.put("inflight", inflight);
        m.put("warmupSeconds", warmupSeconds);
        m.put("seconds", seconds);
        m.put("calls", calls);
        m.put("failed", loop.failed);
        m.put("callsPerSecond", calls / seconds);
        m.put("mbPerSecond", calls * (double) size / seconds / 1e6);
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("p50", micros(h, 50));
        latency.put("p90", micros(h, 90));
        latency.put("p99", micros(h, 99));
        latency.put("p99.9", micros(h, 99.9));
        latency.put("max", h.getMaxValue() / 1e3);
        m.put("latencyMicros", latency);
        try {
            return RunRecord.JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the summary as JSON: " + e.getMessage(), e);
        }
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
        final Histogram total = new Histogram(HIGHEST_NANOS, 3);
        private final Histogram second = new Histogram(HIGHEST_NANOS, 3);
        long failed;
        String failure;
        double measuredSeconds;
        private boolean counting;

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

        void run(double warmupSeconds, double durationSeconds, PrintStream out) {
            long start = System.nanoTime();
            long measureFrom = start + (long) (warmupSeconds * 1e9);
            long end = measureFrom + (long) (durationSeconds * 1e9);
            long nextLine = start + 1_000_000_000L;
            long lineBytes = 0;
            long bytes = 0;
            for (int i = 0; i < calls.length; i++) {
                issue(i, start);
            }
            while (true) {
                int work = nic.progress();
                long now = System.nanoTime();
                if (!counting && now - measureFrom >= 0) {
                    counting = true;
                    total.reset();
                    bytes = 0;
                    lineBytes = 0;
                    measureFrom = now;
                }
                boolean stopping = now - end >= 0;
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
                    } else {
                        long latency = Math.min(now - started[i], HIGHEST_NANOS);
                        second.recordValue(latency);
                        if (counting) {
                            total.recordValue(latency);
                            bytes += size;
                        }
                    }
                    if (!stopping && client.isConnected()) {
                        issue(i, now);
                        outstanding++;
                    }
                }
                if (now - nextLine >= 0) {
                    if (out != null) {
                        long n = second.getTotalCount();
                        out.printf("rpc bench: %4d s%s %,12d calls/s  %9.1f MB/s  p50 %,8.1f µs  p99 %,8.1f µs%n",
                                (now - start) / 1_000_000_000L, counting ? "        " : " warmup ", n, n * (double) size / 1e6,
                                micros(second, 50), micros(second, 99));
                        out.flush();
                    }
                    second.reset();
                    nextLine += 1_000_000_000L;
                }
                if (stopping && outstanding == 0 || !client.isConnected()) {
                    break;
                }
                idle.idle(work);
            }
            measuredSeconds = counting ? (Math.min(System.nanoTime(), end) - measureFrom) / 1e9 : 0;
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
            failed++;
            if (failure == null) {
                try {
                    call.join();
                } catch (CompletionException e) {
                    Throwable cause = e.getCause();
                    failure = cause instanceof RpcException rpc ? rpc.status() + ": " + rpc.getMessage() : String.valueOf(cause);
                } catch (RuntimeException e) {
                    failure = e.toString();
                }
            }
        }
    }
}
