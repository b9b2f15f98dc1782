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
                "  unetmm pingpong compare --quick                (unetmm, NIO and Aeron side by side)"})
public final class PingPongCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--to", description = "the echo's transport address, e.g. udp://127.0.0.1:7000")
    String to;

    @Option(names = "--bind", description = "local transport URI (default: the local address that routes to --to, port 0)")
    String bind;

    @Option(names = "--size", defaultValue = "64", converter = ByteSize.class, description = "message size ("
            + ByteSize.FORMS + "), at most the echo's --max-message (default ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--count", defaultValue = "100000", description = "measured round trips (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--warmup", description = "round trips before measuring (default count/10, at most 20000)")
    Integer warmup;

    @Option(names = "--path", defaultValue = "pinned", description = "send path: pinned or fixed (default ${DEFAULT-VALUE})")
    String path;

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

    @Override
    public Integer call() {
        if (to == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--to is required: the echo's address, e.g."
                    + " --to udp://127.0.0.1:7000 (start one with 'unetmm echo --listen udp://127.0.0.1:7000')");
        }
        SendPath sendPath = path(spec, path);
        ByteSize.check(spec.commandLine(), "--size", size, 0, 64 << 20, null);
        if (count < 1 || timeoutMillis < 1 || giveUpAfter < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count, --timeout-ms and --give-up-after must be positive");
        }
        int warm = warmup != null ? warmup : Math.min(20_000, count / 10);
        String local = bind != null ? bind : EchoProtocol.localBindFor(to);
        PrintStream out = System.out;
        NativeBuffer source = NativeMemory.allocate(Math.max(1, size));
        // two receive slots (one for messages over 1 MiB): an echo, or a GONE notice, and the one behind it, since a
        // batching wire may bring the last echo and the GONE that ends the session in one datagram
        int slot = Math.max(size, EchoProtocol.CONTROL_BYTES);
        NativeBuffer target = NativeMemory.allocate(size <= 1 << 20 ? 2 * slot : slot);
        Client client;
        Histogram rtt = new Histogram(60_000_000_000L, 3);
        long elapsed;
        int done;
        try (Nic nic = Nic.open(NicConfig.builder().transport(local).progressMode(ProgressMode.CALLER).build())) {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder()
                    .segmentBytes(Math.max(1 << 16, 2 * size + 4096)).build());
            EchoProtocol.Session session = EchoProtocol.connect(endpoint, to, size,
                    Duration.ofMillis(Math.max(100, timeoutMillis)), 5);
            if (size > session.maxMessage()) {
                session.bye(endpoint);
                nic.progress();
                throw new CommandLine.ParameterException(spec.commandLine(), "--size " + size + " is larger than the echo's"
                        + " largest message, " + session.maxMessage() + " B: use --size " + session.maxMessage()
                        + " or less, or restart the echo with --max-message " + size);
            }
            out.printf("pingpong: %s -> %s, %d B, %s path, MTU %d%n", session.data().address(), session.data().remote(), size,
                    path, nic.mtu());
            out.flush();
            client = new Client(nic, endpoint, session, source, target, size, sendPath, timeoutMillis * 1_000_000L, giveUpAfter);
            client.run(warm, null);
            long started = System.nanoTime();
            done = client.stopped == null ? client.run(count, rtt) : 0;
            elapsed = System.nanoTime() - started;
            if (client.gone == null) {
                session.bye(endpoint);
                nic.progress();
            }
            endpoint.close();
        } finally {
            source.close();
            target.close();
        }
        out.printf("RTT us: p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f  (%d round trips, %d lost)%n",
                rtt.getValueAtPercentile(50) / 1e3, rtt.getValueAtPercentile(99) / 1e3,
                rtt.getValueAtPercentile(99.9) / 1e3, rtt.getMaxValue() / 1e3, rtt.getMean() / 1e3,
                rtt.getTotalCount(), client.lostMeasured);
        out.printf("rate: %.0f round trips/s (%.0f messages/s both ways)%n", done / (elapsed / 1e9), 2 * done / (elapsed / 1e9));
        out.flush();
        if (client.stopped != null) {
            throw new IllegalStateException("stopped after " + client.sent + " of " + (warm + count) + " round trips: "
                    + client.stopped);
        }
        if (client.lost > 0) {
            throw new IllegalStateException(client.lost + " of " + client.sent + " round trips lost (no echo within --timeout-ms "
                    + timeoutMillis + "); the echo's summary line counts its drops by reason");
        }
        return 0;
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
        private final SendPath path;
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
                while (!echoed && gone == null) {
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
