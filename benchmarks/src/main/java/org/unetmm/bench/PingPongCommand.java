package org.unetmm.bench;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Callable;
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
 * {@code unetmm pingpong --to udp://127.0.0.1:7000 --size 64 --count 100000 [--path pinned|fixed]}:
 * round trips against {@code unetmm echo}, one message in flight, driven by the caller (no NIC
 * thread); prints RTT percentiles (HdrHistogram) and the message rate. {@code unetmm pingpong
 * compare} runs the side-by-side comparison with NIO and Aeron in one process.
 */
@Command(name = "pingpong", mixinStandardHelpOptions = true, subcommands = UdpCompareCommand.class,
        description = "Round trips against 'unetmm echo': RTT percentiles and message rate."
                + " 'pingpong compare' runs unetmm, Java NIO and Aeron side by side over UDP loopback.")
public final class PingPongCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--to", description = "the echo's transport address, e.g. udp://127.0.0.1:7000")
    String to;

    @Option(names = "--bind", description = "local transport URI (default: the local address that routes to --to, port 0)")
    String bind;

    @Option(names = "--size", defaultValue = "64", description = "message bytes (default ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--count", defaultValue = "100000", description = "measured round trips (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--warmup", description = "round trips before measuring (default count/10, at most 20000)")
    Integer warmup;

    @Option(names = "--path", defaultValue = "pinned", description = "send path: pinned or fixed (default ${DEFAULT-VALUE})")
    String path;

    @Option(names = "--timeout-ms", defaultValue = "1000", description = "an echo not back in this time is counted lost (default ${DEFAULT-VALUE})")
    long timeoutMillis;

    static SendPath path(CommandLine.Model.CommandSpec spec, String name) {
        return switch (name) {
            case "pinned" -> SendPath.PINNED;
            case "fixed" -> SendPath.FIXED_SEGMENT;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--path must be 'pinned' or 'fixed', got '" + name + "'");
        };
    }

    @Override
    public Integer call() {
        if (to == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--to is required: the echo's address, e.g."
                    + " --to udp://127.0.0.1:7000 (start one with 'unetmm echo --listen udp://127.0.0.1:7000')");
        }
        SendPath sendPath = path(spec, path);
        if (size < 0 || size > (64 << 20)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--size must be in 0.." + (64 << 20) + ", got " + size);
        }
        if (count < 1 || timeoutMillis < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count and --timeout-ms must be positive");
        }
        int warm = warmup != null ? warmup : Math.min(20_000, count / 10);
        String local = bind != null ? bind : EchoProtocol.localBindFor(to);
        PrintStream out = System.out;
        NativeBuffer source = NativeMemory.allocate(Math.max(1, size));
        NativeBuffer target = NativeMemory.allocate(Math.max(1, size));
        Result result;
        try (Nic nic = Nic.open(NicConfig.builder().transport(local).progressMode(ProgressMode.CALLER).build())) {
            Endpoint endpoint = nic.createEndpoint(EndpointConfig.builder()
                    .segmentBytes(Math.max(1 << 16, 2 * size + 4096)).build());
            EchoProtocol.Session session = EchoProtocol.connect(endpoint, to, Duration.ofSeconds(1), 5);
            out.printf("pingpong: %s -> %s, %d B, %s path, MTU %d%n", session.data().address(), session.data().remote(), size,
                    path, nic.mtu());
            Client client = new Client(nic, endpoint, session, source, target, size, sendPath, timeoutMillis * 1_000_000L);
            client.run(warm, null);
            Histogram rtt = new Histogram(60_000_000_000L, 3);
            long started = System.nanoTime();
            int done = client.run(count, rtt);
            long elapsed = System.nanoTime() - started;
            session.bye(endpoint);
            nic.progress();
            result = new Result(rtt, done, client.lost, elapsed);
            endpoint.close();
        } finally {
            source.close();
            target.close();
        }
        out.printf("RTT us: p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f  (%d round trips, %d lost)%n",
                result.rtt.getValueAtPercentile(50) / 1e3, result.rtt.getValueAtPercentile(99) / 1e3,
                result.rtt.getValueAtPercentile(99.9) / 1e3, result.rtt.getMaxValue() / 1e3, result.rtt.getMean() / 1e3,
                result.rtt.getTotalCount(), result.lost);
        out.printf("rate: %.0f round trips/s (%.0f messages/s both ways)%n", result.done / (result.elapsedNanos / 1e9),
                2 * result.done / (result.elapsedNanos / 1e9));
        return 0;
    }

    private record Result(Histogram rtt, int done, long lost, long elapsedNanos) {
    }

    /** One message in flight: post, send, progress until its echo is in. */
    private static final class Client implements CompletionHandler {
        private final Nic nic;
        private final Endpoint endpoint;
        private final EchoProtocol.Session session;
        private final NativeBuffer source;
        private final NativeBuffer target;
        private final int size;
        private final SendPath path;
        private final long timeoutNanos;
        private boolean echoed;
        private boolean posted;
        long lost;

        Client(Nic nic, Endpoint endpoint, EchoProtocol.Session session, NativeBuffer source, NativeBuffer target, int size,
               SendPath path, long timeoutNanos) {
            this.nic = nic;
            this.endpoint = endpoint;
            this.session = session;
            this.source = source;
            this.target = target;
            this.size = size;
            this.path = path;
            this.timeoutNanos = timeoutNanos;
        }

        int run(int rounds, Histogram rtt) {
            int done = 0;
            for (int i = 0; i < rounds; i++) {
                if (!posted) {
                    endpoint.postReceive(target.buffer(), 0, target.capacity(), 1);
                    posted = true;
                }
                echoed = false;
                long start = System.nanoTime();
                while (!endpoint.send(session.data(), source.buffer(), 0, size, path, 2).isAccepted()) {
                    nic.progress();
                    endpoint.poll(this, 16);
                }
                while (!echoed) {
                    nic.progress();
                    endpoint.poll(this, 16);
                    if (!echoed && System.nanoTime() - start > timeoutNanos) {
                        lost++;
                        break;
                    }
                }
                if (echoed) {
                    if (rtt != null) {
                        rtt.recordValue(Math.max(0, System.nanoTime() - start));
                    }
                    done++;
                }
            }
            return done;
        }

        @Override
        public void onCompletion(Completion c) {
            if (c.kind() == Completion.Kind.RECEIVE) {
                posted = false;
                echoed = c.status() == CompletionStatus.OK && c.channel() == session.data();
            }
        }
    }
}
