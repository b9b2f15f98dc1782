package org.unetmm.bench;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionHandler;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.NicStats;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.nic.udp.FrameDropReason;
import org.unetmm.nic.udp.UdpStats;
import org.unetmm.nic.udp.UdpTransport;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.tlb.ReplacementPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm echo --listen udp://127.0.0.1:7000}: an echo endpoint. Tag 1 listens for hellos
 * ({@link EchoProtocol}); each client gets a session channel, and every message arriving on it is
 * sent back on it from the buffer it arrived in (zero-copy on the pinned path). Runs until
 * interrupted, printing a one-line summary each second: messages and bytes echoed, sessions, and
 * drops by reason (the NIC's and the wire's).
 */
@Command(name = "echo", mixinStandardHelpOptions = true,
        description = "Echo every message back to its sender until interrupted; a summary line each second.")
public final class EchoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--listen", required = true, description = "transport URI to bind, e.g. udp://127.0.0.1:7000 (query options as in UdpConfig)")
    String listen;

    @Option(names = "--path", defaultValue = "pinned", description = "send path for replies: pinned or fixed (default ${DEFAULT-VALUE})")
    String path;

    @Option(names = "--buffers", defaultValue = "16", description = "receive buffers posted (default ${DEFAULT-VALUE})")
    int buffers;

    @Option(names = "--max-message", defaultValue = "65536", description = "largest message echoed whole, bytes; every posted"
            + " buffer is this large and is re-translated when reposted, so keep it near the largest message (default ${DEFAULT-VALUE})")
    int maxMessage;

    @Option(names = "--sessions", defaultValue = "64", description = "most clients at once; the oldest is dropped beyond it (default ${DEFAULT-VALUE})")
    int maxSessions;

    @Option(names = "--duration", description = "stop after this many seconds (default: until interrupted)")
    Long durationSeconds;

    private volatile boolean running = true;

    @Override
    public Integer call() {
        SendPath replyPath = PingPongCommand.path(spec, path);
        if (buffers < 1 || buffers > 4096) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--buffers must be in 1..4096, got " + buffers);
        }
        if (maxMessage < EchoProtocol.CONTROL_BYTES || maxMessage > (256 << 20)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-message must be in "
                    + EchoProtocol.CONTROL_BYTES + ".." + (256 << 20) + " bytes, got " + maxMessage);
        }
        if (maxSessions < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--sessions must be positive");
        }
        PrintStream out = System.out;
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            running = false;
            try {
                stopped.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "unetmm-echo-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        int segment = replyPath == SendPath.FIXED_SEGMENT ? 2 * maxMessage + (1 << 16) : 1 << 16;
        // a TLB that holds every posted buffer twice over, so reposting never evicts (and unpins) a live one
        long pages = 2L * buffers * ((maxMessage + 4095) / 4096) + 64;
        int sets = Integer.highestOneBit((int) Math.min(1 << 22, Math.max(256, pages / 4)) * 2 - 1);
        try (Nic nic = Nic.open(NicConfig.builder().transport(listen).tlb(sets, 4, ReplacementPolicy.LRU)
                .progressMode(ProgressMode.CALLER).build())) {
            Echo echo = new Echo(nic, nic.createEndpoint(EndpointConfig.builder().segmentBytes(segment)
                    .freeQueue(buffers + 1).sendQueue(Math.max(64, 2 * buffers)).build()), replyPath);
            out.println("echo: listening on " + nic.transportAddress() + "/" + EchoProtocol.HELLO_TAG + " (hello tag), replies "
                    + path + ", " + buffers + " buffers of " + maxMessage + " B, MTU " + nic.mtu());
            out.flush();
            long end = durationSeconds == null ? Long.MAX_VALUE : System.nanoTime() + durationSeconds * 1_000_000_000L;
            long nextReport = System.nanoTime() + 1_000_000_000L;
            while (running && System.nanoTime() - end < 0) {
                nic.progress();
                echo.drain();
                long now = System.nanoTime();
                if (now - nextReport >= 0) {
                    out.println(echo.summary(nic));
                    out.flush();
                    nextReport += 1_000_000_000L;
                }
            }
            out.println(echo.summary(nic) + " (stopped)");
            out.flush();
            echo.close();
        } finally {
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook is running and has been released
            }
        }
        return 0;
    }

    /** The echo's state: its buffers, sessions, and the echoes waiting for room in the send queue. */
    private final class Echo implements CompletionHandler {
        private final Endpoint endpoint;
        private final SendPath replyPath;
        private final Channel hello;
        private final NativeBuffer[] memory;
        private final Map<String, Channel> sessions = new HashMap<>();
        private final ArrayDeque<String> sessionOrder = new ArrayDeque<>();
        private final ArrayDeque<Completion> waiting = new ArrayDeque<>();
        private long messages;
        private long bytes;
        private long failedReceives;
        private long reportedMessages;
        private long reportedBytes;
        private long reportedAt = System.nanoTime();

        Echo(Nic nic, Endpoint endpoint, SendPath replyPath) {
            this.endpoint = endpoint;
            this.replyPath = replyPath;
            this.hello = endpoint.openChannel();
            if (hello.tag() != EchoProtocol.HELLO_TAG) {
                throw new IllegalStateException("the echo's hello channel got tag " + hello.tag() + ", not "
                        + EchoProtocol.HELLO_TAG + ": it must be the first channel of a fresh NIC");
            }
            memory = new NativeBuffer[buffers];
            for (int i = 0; i < buffers; i++) {
                memory[i] = NativeMemory.allocate(maxMessage);
                endpoint.postReceive(memory[i].buffer(), i);
            }
        }

        void drain() {
            endpoint.poll(this, 64);
            while (!waiting.isEmpty() && echo(waiting.peek())) {
                waiting.poll();
            }
        }

        @Override
        public void onCompletion(Completion c) {
            if (c.kind() == Completion.Kind.SEND) {
                if (replyPath == SendPath.PINNED && c.cookie() >= 0) {
                    endpoint.postReceive(memory[(int) c.cookie()].buffer(), c.cookie()); // the reply has left the buffer
                }
                return;
            }
            if (c.channel() == hello) {
                onControl(c); // any posted buffer may take a hello: the free queue serves every channel
                return;
            }
            if (c.status() != CompletionStatus.OK || c.channel() == null) {
                failedReceives++;
                endpoint.postReceive(memory[(int) c.cookie()].buffer(), c.cookie());
                return;
            }
            if (!waiting.isEmpty() || !echo(c)) {
                waiting.add(c.copy());
            }
        }

        /** Sends the message back on its channel; false when the send queue or segment is full. */
        private boolean echo(Completion c) {
            int index = (int) c.cookie();
            if (c.channel().isClosed()) {
                endpoint.postReceive(memory[index].buffer(), index);
                return true;
            }
            if (!endpoint.send(c.channel(), c.buffer(), c.offset(), c.length(), replyPath,
                    replyPath == SendPath.PINNED ? index : -1).isAccepted()) {
                return false;
            }
            messages++;
            bytes += c.length();
            if (replyPath == SendPath.FIXED_SEGMENT) {
                endpoint.postReceive(memory[index].buffer(), index); // copied into the segment already
            }
            return true;
        }

        private void onControl(Completion c) {
            String text = c.status() == CompletionStatus.OK ? EchoProtocol.text(c.buffer(), c.offset(), c.length()) : "";
            endpoint.postReceive(memory[(int) c.cookie()].buffer(), c.cookie());
            try {
                if (text.startsWith(EchoProtocol.HELLO)) {
                    String client = text.substring(EchoProtocol.HELLO.length()).trim();
                    Channel session = sessions.get(client);
                    if (session == null) {
                        if (sessions.size() >= maxSessions) {
                            sessions.remove(sessionOrder.peek()).close();
                            sessionOrder.poll();
                        }
                        session = endpoint.connect(ChannelAddress.parse(client));
                        sessions.put(client, session);
                        sessionOrder.add(client);
                    }
                    endpoint.send(session, EchoProtocol.message(EchoProtocol.WELCOME + session.address()), SendPath.FIXED_SEGMENT, -1);
                } else if (text.startsWith(EchoProtocol.BYE)) {
                    String client = text.substring(EchoProtocol.BYE.length()).trim();
                    Channel session = sessions.remove(client);
                    if (session != null) {
                        sessionOrder.remove(client);
                        session.close();
                    }
                } else {
                    failedReceives++;
                }
            } catch (IllegalArgumentException e) {
                failedReceives++; // a hello naming an address we cannot parse or reach: ignored, counted
            }
        }

        String summary(Nic nic) {
            long now = System.nanoTime();
            double seconds = Math.max(1e-9, (now - reportedAt) / 1e9);
            String line = String.format("echo %s: %.0f msg/s %.1f MB/s | total %d msgs %d B | sessions %d | drops: %s",
                    nic.transportAddress(), (messages - reportedMessages) / seconds, (bytes - reportedBytes) / seconds / 1e6,
                    messages, bytes, sessions.size(), drops(nic));
            reportedMessages = messages;
            reportedBytes = bytes;
            reportedAt = now;
            return line;
        }

        private String drops(Nic nic) {
            StringBuilder text = new StringBuilder();
            NicStats stats = nic.stats();
            for (Map.Entry<DropReason, Long> e : stats.drops().entrySet()) {
                if (e.getValue() > 0) {
                    text.append(text.length() == 0 ? "" : ", ").append(e.getKey()).append('=').append(e.getValue());
                }
            }
            if (nic.transportAddress().startsWith("udp://")) {
                UdpStats wire = UdpTransport.of(nic).stats();
                for (Map.Entry<FrameDropReason, Long> e : wire.drops().entrySet()) {
                    if (e.getValue() > 0) {
                        text.append(text.length() == 0 ? "" : ", ").append("wire ").append(e.getKey()).append('=').append(e.getValue());
                    }
                }
            }
            if (failedReceives > 0) {
                text.append(text.length() == 0 ? "" : ", ").append("failed receives=").append(failedReceives);
            }
            return text.length() == 0 ? "none" : text.toString();
        }

        void close() {
            endpoint.close();
            endpoint.poll(c -> { }, Integer.MAX_VALUE);
            for (NativeBuffer m : memory) {
                m.close();
            }
        }
    }
}
