package org.unetmm.bench;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
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
import org.unetmm.IdleStrategy;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.nic.udp.WireDropReason;
import org.unetmm.nic.udp.UdpStats;
import org.unetmm.nic.udp.UdpTransport;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PinningException;
import org.unetmm.tlb.ReplacementPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm echo --listen udp://127.0.0.1:7000}: an echo endpoint. Tag 1 listens for hellos
 * ({@link EchoProtocol}); each client gets a session: a channel on an endpoint of its own, whose
 * receive buffers are sized to the largest message the client said it will send (at most
 * {@code --max-message}), so a 4 MiB limit costs a 64 B client 64 KiB, not 16 × 4 MiB pinned up
 * front. Every message arriving on a session is sent back on it from the buffer it arrived in
 * (zero-copy on the pinned path). Runs until interrupted (or {@code --duration}), printing a
 * one-line summary each second: messages and bytes echoed, sessions, pinned bytes, and drops by
 * reason (the NIC's and the wire's). A client dropped beyond {@code --sessions}, or refused for want
 * of memory, is told so (GONE) and its session closed.
 */
@Command(name = "echo", mixinStandardHelpOptions = true,
        description = "Echo every message back to its sender until interrupted; a summary line each second.",
        footer = {"", "Examples:", "  unetmm echo --listen udp://127.0.0.1:7000",
                "  unetmm echo --listen udp://127.0.0.1:7000 --path fixed --max-message 64KiB --duration 60",
                "  unetmm pingpong --to udp://127.0.0.1:7000                 (in another shell)"})
public final class EchoCommand implements Callable<Integer> {
    /** Receive memory a session gets at most (buffers × their size), unless one message needs more. */
    static final int SESSION_BYTES = 1 << 20;
    private static final int PAGE = 4096;
    private static final int CONTROL_BUFFERS = 16;
    private static final long GONE_COOKIE = -4;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--listen", required = true, description = "transport URI to bind, e.g. udp://127.0.0.1:7000 (query options as in UdpConfig)")
    String listen;

    @Option(names = "--path", defaultValue = "pinned", description = "send path for replies: pinned or fixed (default ${DEFAULT-VALUE})")
    String path;

    @Option(names = "--buffers", defaultValue = "16", description = "receive buffers posted per session, fewer for large"
            + " messages: a session's buffers hold " + SESSION_BYTES + " B together, or two messages up to 2 MiB, or one larger (default ${DEFAULT-VALUE})")
    int buffers;

    @Option(names = "--max-message", defaultValue = "4194304", converter = ByteSize.class, description = "largest message"
            + " echoed (" + ByteSize.FORMS + "); told to each"
            + " client when its session opens. A session's buffers are sized to the largest message its client"
            + " announces, so a large limit costs only the clients that use it (default ${DEFAULT-VALUE})")
    int maxMessage;

    @Option(names = "--sessions", defaultValue = "64", description = "most clients at once; beyond it the oldest is told"
            + " and dropped (default ${DEFAULT-VALUE})")
    int maxSessions;

    @Option(names = "--spin", description = "busy-spin between idle rounds for the lowest latency, at the cost of a"
            + " core (default: back off to a park, so an idle echo costs no CPU)")
    boolean spin;

    @Option(names = "--duration", description = "stop after this many seconds (default: until interrupted)")
    Long durationSeconds;

    @Override
    public Integer call() {
        SendPath replyPath = PingPongCommand.path(spec, path);
        if (buffers < 1 || buffers > 4096) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--buffers must be in 1..4096, got " + buffers);
        }
        ByteSize.check(spec.commandLine(), "--max-message", maxMessage, EchoProtocol.CONTROL_BYTES, 256 << 20, null);
        if (maxSessions < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--sessions must be positive");
        }
        if (durationSeconds != null && durationSeconds < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--duration must be >= 0 seconds");
        }
        PrintStream out = System.out;
        StopSignal stop = new StopSignal("unetmm-echo-stop");
        // a TLB that holds the largest session's buffers and a few small ones twice over, so reposting rarely evicts
        long pages = 4L * (SESSION_BYTES + (long) maxMessage) / PAGE + 256;
        int sets = Integer.highestOneBit((int) Math.min(1 << 22, Math.max(256, pages / 4)) * 2 - 1);
        try (Nic nic = Nic.open(NicConfig.builder().transport(listen).tlb(sets, 4, ReplacementPolicy.LRU)
                .progressMode(ProgressMode.CALLER).build())) {
            Echo echo = new Echo(nic, replyPath);
            out.println("echo: listening on " + nic.transportAddress() + "/" + EchoProtocol.HELLO_TAG + " (hello tag), replies "
                    + path + ", messages up to " + maxMessage + " B, at most " + maxSessions + " sessions, MTU " + nic.mtu());
            out.flush();
            long end = durationSeconds == null ? Long.MAX_VALUE : System.nanoTime() + durationSeconds * 1_000_000_000L;
            long nextReport = System.nanoTime() + 1_000_000_000L;
            IdleStrategy idle = spin ? IdleStrategy.busySpin() : IdleStrategy.backoff();
            while (!stop.requested() && System.nanoTime() - end < 0) {
                idle.idle(nic.progress() + echo.drain());
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
            stop.close();
        }
        return 0;
    }

    /** The echo's state: the hello endpoint and its buffers, and the sessions, oldest first. */
    private final class Echo implements CompletionHandler {
        private final Nic nic;
        private final SendPath replyPath;
        private final Endpoint control;
        private final Channel hello;
        private final NativeBuffer controlMemory;
        private final ArrayDeque<String> controlTexts = new ArrayDeque<>();
        private final LinkedHashMap<String, Session> sessions = new LinkedHashMap<>();
        private long messages;
        private long bytes;
        private long failedReceives;
        private long evicted;
        private long refused;
        private long reportedMessages;
        private long reportedBytes;
        private long reportedAt = System.nanoTime();

        Echo(Nic nic, SendPath replyPath) {
            this.nic = nic;
            this.replyPath = replyPath;
            // receives hellos and byes; its segment sends only the GONE of a refused session
            this.control = nic.openEndpoint(EndpointConfig.builder().segmentBytes(PAGE)
                    .freeQueue(CONTROL_BUFFERS + 1).sendQueue(16).build());
            this.hello = control.openChannel();
            if (hello.tag() != EchoProtocol.HELLO_TAG) {
                throw new IllegalStateException("the echo's hello channel got tag " + hello.tag() + ", not "
                        + EchoProtocol.HELLO_TAG + ": it must be the first channel of a fresh NIC");
            }
            controlMemory = NativeMemory.allocate(CONTROL_BUFFERS * EchoProtocol.CONTROL_BYTES);
            for (int i = 0; i < CONTROL_BUFFERS; i++) {
                repostControl(i);
            }
        }

        private void repostControl(long index) {
            control.postReceive(controlMemory.buffer(), (int) index * EchoProtocol.CONTROL_BYTES, EchoProtocol.CONTROL_BYTES, index);
        }

        /** Takes every completion waiting; returns how many (0 = idle). */
        int drain() {
            int work = control.poll(this, 64);
            while (!controlTexts.isEmpty()) {
                onControl(controlTexts.poll());
                work++;
            }
            for (Session session : sessions.values()) {
                work += session.drain();
            }
            return work;
        }

        /** Completions of the hello endpoint: texts are kept and acted on after the poll, outside the upcall. */
        @Override
        public void onCompletion(Completion c) {
            if (c.kind() != Completion.Kind.RECEIVE) {
                return;
            }
            if (c.status() == CompletionStatus.OK && c.channel() == hello) {
                controlTexts.add(EchoProtocol.text(c.buffer(), c.offset(), c.length()));
            } else {
                failedReceives++;
            }
            repostControl(c.cookie());
        }

        private void onControl(String text) {
            try {
                if (text.startsWith(EchoProtocol.HELLO)) {
                    EchoProtocol.Hello h = EchoProtocol.Hello.parse(text.substring(EchoProtocol.HELLO.length()));
                    String client = h.client().toString();
                    Session session = sessions.get(client);
                    if (session == null) {
                        if (sessions.size() >= maxSessions) {
                            Iterator<Session> oldest = sessions.values().iterator();
                            oldest.next().gone("evicted: a newer client arrived and this echo serves at most " + maxSessions
                                    + " sessions at once (--sessions)");
                            oldest.remove();
                            evicted++;
                        }
                        session = open(h);
                        if (session == null) {
                            return;
                        }
                        sessions.put(client, session);
                    }
                    session.welcome();
                } else if (text.startsWith(EchoProtocol.BYE)) {
                    Session session = sessions.remove(ChannelAddress.parse(text.substring(EchoProtocol.BYE.length()).trim()).toString());
                    if (session != null) {
                        session.close();
                    }
                } else {
                    failedReceives++;
                }
            } catch (IllegalArgumentException e) {
                failedReceives++; // a hello naming an address we cannot parse or reach: ignored, counted
            }
        }

        /** A session for the hello, or null when its buffers cannot be pinned (the client is told why). */
        private Session open(EchoProtocol.Hello h) {
            int bufferBytes = (int) Math.min((long) maxMessage + PAGE - 1, (long) Math.max(1, h.largestMessage()) + PAGE - 1)
                    / PAGE * PAGE;
            int count = Math.max(1, Math.min(buffers, SESSION_BYTES / bufferBytes));
            if (count == 1 && buffers > 1 && bufferBytes <= 2 * SESSION_BYTES) {
                // a reply is sent from the buffer its message arrived in, which stays the NIC's until the wire
                // releases it (the shm rendezvous: when the client has read it): the next message needs a second
                count = 2;
            }
            try {
                return new Session(h.client(), bufferBytes, count);
            } catch (PinningException e) {
                refused++;
                Channel notice = control.connect(h.client());
                control.send(notice, EchoProtocol.message(EchoProtocol.GONE + "refused: " + e.getMessage()),
                        SendPath.FIXED_SEGMENT, GONE_COOKIE);
                nic.progress(); // the notice leaves before its channel closes
                notice.close();
                return null;
            }
        }

        String summary(Nic nic) {
            long now = System.nanoTime();
            double seconds = Math.max(1e-9, (now - reportedAt) / 1e9);
            String line = String.format("echo %s: %.0f msg/s %.1f MB/s | total %d msgs %d B | sessions %d (evicted %d, refused %d)"
                            + " | pinned %d KiB | drops: %s",
                    nic.transportAddress(), (messages - reportedMessages) / seconds, (bytes - reportedBytes) / seconds / 1e6,
                    messages, bytes, sessions.size(), evicted, refused, nic.experiments().pinnedBytes() >> 10, drops(nic));
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
                for (Map.Entry<WireDropReason, Long> e : wire.drops().entrySet()) {
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
            for (Session session : sessions.values()) {
                session.close();
            }
            sessions.clear();
            control.close();
            control.poll(c -> { }, Integer.MAX_VALUE);
            controlMemory.close();
        }

        /**
         * One client: a channel on an endpoint of its own, whose free queue holds only buffers sized
         * for this client's messages, and the echoes waiting for room in its send queue.
         */
        private final class Session implements CompletionHandler {
            private final Endpoint endpoint;
            private final Channel channel;
            private final NativeBuffer[] memory;
            private final ArrayDeque<Completion> waiting = new ArrayDeque<>();

            Session(ChannelAddress client, int bufferBytes, int count) {
                int segment = replyPath == SendPath.FIXED_SEGMENT ? 2 * bufferBytes + PAGE : PAGE;
                endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(segment)
                        .freeQueue(count + 1).sendQueue(Math.max(16, 2 * count)).build());
                memory = new NativeBuffer[count];
                try {
                    channel = endpoint.connect(client);
                    for (int i = 0; i < count; i++) {
                        memory[i] = NativeMemory.allocate(bufferBytes);
                        endpoint.postReceive(memory[i].buffer(), i);
                    }
                } catch (RuntimeException e) {
                    close();
                    throw e;
                }
            }

            void welcome() {
                endpoint.send(channel, EchoProtocol.message(EchoProtocol.welcome(channel, maxMessage)), SendPath.FIXED_SEGMENT,
                        EchoProtocol.WELCOME_COOKIE);
            }

            /** Tells the client its session is over, and why, then closes it. */
            void gone(String why) {
                endpoint.send(channel, EchoProtocol.message(EchoProtocol.GONE + why), SendPath.FIXED_SEGMENT, GONE_COOKIE);
                nic.progress(); // the notice leaves before the endpoint closes
                close();
            }

            int drain() {
                int work = endpoint.poll(this, 64);
                while (!waiting.isEmpty() && echo(waiting.peek())) {
                    waiting.poll();
                    work++;
                }
                return work;
            }

            @Override
            public void onCompletion(Completion c) {
                if (c.kind() == Completion.Kind.SEND) {
                    if (replyPath == SendPath.PINNED && c.cookie() >= 0) {
                        repost(c.cookie()); // the reply has left the buffer
                    }
                    return;
                }
                if (c.status() != CompletionStatus.OK || c.channel() != channel) {
                    failedReceives++;
                    repost(c.cookie());
                    return;
                }
                if (!waiting.isEmpty() || !echo(c)) {
                    waiting.add(c.copy());
                }
            }

            private void repost(long index) {
                if (!endpoint.isClosed()) {
                    endpoint.postReceive(memory[(int) index].buffer(), index);
                }
            }

            /** Sends the message back on its channel; false when the send queue or segment is full. */
            private boolean echo(Completion c) {
                int index = (int) c.cookie();
                if (c.channel().isClosed()) {
                    repost(index);
                    return true;
                }
                if (!endpoint.send(c.channel(), c.buffer(), c.offset(), c.length(), replyPath,
                        replyPath == SendPath.PINNED ? index : -1).isAccepted()) {
                    return false;
                }
                messages++;
                bytes += c.length();
                if (replyPath == SendPath.FIXED_SEGMENT) {
                    repost(index); // copied into the segment already
                }
                return true;
            }

            void close() {
                if (!endpoint.isClosed()) {
                    endpoint.close();
                    endpoint.poll(c -> { }, Integer.MAX_VALUE);
                }
                for (NativeBuffer m : memory) {
                    if (m != null) {
                        m.close();
                    }
                }
            }
        }
    }
}
