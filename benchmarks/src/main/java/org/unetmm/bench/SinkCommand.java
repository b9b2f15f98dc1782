package org.unetmm.bench;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionHandler;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.IdleStrategy;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.NicStats;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.nic.udp.UdpConfig;
import org.unetmm.nic.udp.UdpTransport;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.tlb.ReplacementPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code unetmm sink --listen URI}: the receiving end of {@code unetmm stream} ({@link StreamProtocol}).
 * Posts {@code --buffers} buffers of {@code --max-message} bytes on listening tag 1, counts every
 * data message and the gaps in their sequence numbers, reposts each buffer at once, and reports
 * its counts to the stream in answer to its HELLO, every quarter window, every second and when the
 * stream ends. Every report says what the sink can hold (its buffers and the receive buffer the
 * kernel granted), from which the stream's window is bounded ({@link StreamProtocol}). A stream of
 * messages larger than {@code --max-message} is refused: its HELLO is answered with the buffer size,
 * and the stream stops with the fix; a message that arrives truncated anyway is counted as such,
 * never as received. One stream at a time: a second stream's HELLO while the first still streams
 * (not ended, and heard from in the last {@value #QUIET_SECONDS} s) is refused as busy, so their
 * sequence numbers never meet in one tally (which had counted each other's messages late and a
 * loss below zero). The TLB is sized to cover every posted page twice over, so the sink measures
 * the wire and not TLB misses. A line each second; runs until interrupted or {@code --duration}.
 */
@Command(name = "sink", mixinStandardHelpOptions = true,
        description = "Receive a one-way stream from 'unetmm stream' and count it: messages/s, MB/s, lost; a line each second.",
        footer = {"", "Examples:",
                "  unetmm sink --listen udp://127.0.0.1:7100",
                "  unetmm stream --to udp://127.0.0.1:7100 --size 64 --duration 5        (in another shell)",
                "  unetmm sink --listen udp://198.18.0.2:7100 --max-message 256KiB --buffers 24 --duration 60"})
public final class SinkCommand implements Callable<Integer> {
    private static final long REPORT_COOKIE = -7;
    /** Seconds without a message after which a stream that did not say END no longer holds the sink. */
    static final int QUIET_SECONDS = 2;
    private static final int SEGMENT_BYTES = 64 * 1024;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--listen", required = true, description = "transport URI to bind, e.g. udp://127.0.0.1:7100")
    String listen;

    @Option(names = "--buffers", defaultValue = "256", description = "receive buffers kept posted; SO_RCVBUF is asked"
            + " to hold them all unless --listen names rcvbuf= (default ${DEFAULT-VALUE})")
    int buffers;

    @Option(names = "--max-message", defaultValue = "4096", converter = ByteSize.class, description = "size of each"
            + " posted buffer (" + ByteSize.FORMS + "): the"
            + " largest message taken whole; buffers x size are pinned (default ${DEFAULT-VALUE})")
    int maxMessage;

    @Option(names = "--duration", description = "stop after this many seconds (default: until interrupted)")
    Long durationSeconds;

    @Override
    public Integer call() {
        if (buffers < 1 || buffers > 4096) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--buffers must be in 1..4096, got " + buffers);
        }
        ByteSize.check(spec.commandLine(), "--max-message", maxMessage, StreamProtocol.CONTROL_BYTES, 64 << 20, null);
        if ((long) buffers * maxMessage > (1L << 30)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--buffers x --max-message is "
                    + (long) buffers * maxMessage + " B: keep it under 1 GiB (and under RLIMIT_MEMLOCK)");
        }
        if (durationSeconds != null && durationSeconds < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--duration must be >= 0 seconds");
        }
        PrintStream out = System.out;
        StopSignal stop = new StopSignal("unetmm-sink-stop");
        // the NIC closes first (last opened), so no posted buffer still uses the memory when it is freed
        try (NativeBuffer memory = NativeMemory.allocate(buffers * maxMessage);
             Nic nic = Nic.open(NicConfig.builder().transport(withReceiveBuffer(listen)).progressMode(ProgressMode.CALLER)
                     .tlb(StreamCommand.tlbSets((long) buffers * maxMessage + SEGMENT_BYTES), StreamCommand.TLB_WAYS,
                             ReplacementPolicy.LRU).build())) {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().freeQueue(buffers).sendQueue(64)
                    .completionQueue(2 * buffers + 128).segmentBytes(SEGMENT_BYTES).build());
            Channel listening = endpoint.openChannel();
            if (listening.tag() != StreamProtocol.SINK_TAG) {
                throw new IllegalStateException("the sink's channel got tag " + listening.tag() + ", not " + StreamProtocol.SINK_TAG);
            }
            for (int i = 0; i < buffers; i++) {
                endpoint.postReceive(memory.buffer(), i * maxMessage, maxMessage, i);
            }
            int rcvbuf = nic.transportAddress().startsWith("udp:") ? UdpTransport.of(nic).stats().receiveBufferBytes() : 0;
            out.println("sink: listening on " + nic.transportAddress() + "/" + StreamProtocol.SINK_TAG + ", " + buffers
                    + " buffers of " + maxMessage + " B, MTU " + nic.mtu() + (rcvbuf > 0 ? ", SO_RCVBUF " + rcvbuf + " B" : ""));
            out.flush();
            Sink sink = new Sink(endpoint, memory, out, rcvbuf);
            long start = System.nanoTime();
            long end = durationSeconds == null ? Long.MAX_VALUE : start + durationSeconds * 1_000_000_000L;
            long nextLine = start + 1_000_000_000L;
            IdleStrategy idle = IdleStrategy.backoff();
            long now = start;
            // the clock is read after an idle turn and every 16th busy one: at millions of messages a second
            // one read a turn was a twentieth of the sink's time, and the sink is what a stream waits on
            for (int turn = 1; !stop.requested() && now - end < 0; turn++) {
                int work = nic.progress() + sink.drain();
                idle.idle(work);
                if (work == 0 || (turn & 15) == 0) {
                    now = System.nanoTime();
                    if (now - nextLine >= 0) {
                        sink.second((now - start) / 1_000_000_000L);
                        nextLine += 1_000_000_000L;
                    }
                }
            }
            out.println("sink: stopped; " + sink.total() + "; frames the NIC dropped: " + dropped(nic.stats()));
            String wire = WireSummary.line("sink", nic);
            if (wire != null) {
                out.println(wire);
            }
            out.flush();
        } finally {
            stop.close();
        }
        return 0;
    }

    /** The NIC's drop counts that are not zero, e.g. {@code NO_BUFFER=12}, or {@code none}. */
    private static String dropped(NicStats stats) {
        String drops = stats.drops().entrySet().stream().filter(e -> e.getValue() > 0)
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
        return drops.isEmpty() ? "none" : drops;
    }

    /**
     * {@code uri} with an SO_RCVBUF that holds every posted buffer's worth ({@code rcvbuf=}, at least the
     * wire's default), unless the user gave one: the window a stream gets is the smaller of the buffers and
     * half the receive buffer, so a receive buffer smaller than the buffers would leave buffers unused.
     */
    private String withReceiveBuffer(String uri) {
        if (!uri.startsWith("udp:") || uri.contains("rcvbuf=")) {
            return uri;
        }
        long bytes = Math.min(1L << 30, Math.max(UdpConfig.DEFAULT_BUFFER_BYTES, (long) buffers * maxMessage));
        return uri + (uri.contains("?") ? "&" : "?") + "rcvbuf=" + bytes;
    }

    /** One sink's state: the current stream's tally and where its reports go. */
    private final class Sink {
        private final Endpoint endpoint;
        private final NativeBuffer memory;
        private final PrintStream out;
        private final ByteBuffer report = ByteBuffer.allocateDirect(StreamProtocol.REPORT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private final StreamProtocol.Tally tally = new StreamProtocol.Tally();
        private final int rcvbuf;
        private Channel reply;
        private String replyAddress;
        /** Where the last refusal of a second stream went (closed when the next one goes). */
        private Channel refusedReply;
        private boolean ended;
        /** Whole seconds since the current stream's last message: after {@link #QUIET_SECONDS} another may take the sink. */
        private int quietSeconds;
        /** What the current stream is told it may have outstanding; 0 for a refused stream. */
        private StreamProtocol.Capacity capacity;
        private int ackEvery = Integer.MAX_VALUE;
        private long reportedNext;
        private long lineReceived;
        private long lineBytes;
        private long lineLost;

        /** The receive buffers, little-endian, for the sequence numbers. */
        private final ByteBuffer messages;
        private final CompletionHandler onCompletion = this::onCompletion;

        Sink(Endpoint endpoint, NativeBuffer memory, PrintStream out, int rcvbuf) {
            this.endpoint = endpoint;
            this.memory = memory;
            this.messages = StreamProtocol.le(memory.buffer().duplicate());
            this.out = out;
            this.rcvbuf = rcvbuf;
            this.capacity = new StreamProtocol.Capacity(buffers, maxMessage, rcvbuf, 0);
        }

        /** Takes the endpoint's completions through a handler (a reused view each): nothing is allocated per message. */
        int drain() {
            int work = 0;
            for (int n; (n = endpoint.poll(onCompletion, 64)) > 0; ) {
                work += n;
            }
            return work;
        }

        private void onCompletion(Completion c) {
            if (c.kind() != Completion.Kind.RECEIVE) {
                return; // a report went out
            }
            if (c.status() == CompletionStatus.OK) {
                onMessage(c.offset(), c.length());
            } else if (c.status() == CompletionStatus.TRUNCATED) {
                tally.truncated(); // its bytes past the buffer are gone: neither delivered nor a sequence number to trust
            }
            long index = c.cookie();
            endpoint.postReceive(memory.buffer(), (int) index * maxMessage, maxMessage, index);
        }

        private void onMessage(int offset, int length) {
            if (length < StreamProtocol.MIN_SIZE) {
                return;
            }
            long seq = messages.getLong(offset);
            if (seq >= 0) {
                tally.arrived(seq, length);
                if (tally.next - reportedNext >= ackEvery) {
                    sendReport(); // a quarter window: the stream's window reopens before the sink runs dry
                }
            } else if (seq == StreamProtocol.HELLO) {
                String address = StreamProtocol.helloAddress(memory.buffer(), offset, length);
                if (address == null) {
                    return;
                }
                if (reply != null && !ended && quietSeconds < QUIET_SECONDS && !address.equals(replyAddress)) {
                    refuseBusy(address); // two streams' sequence numbers in one tally would count each other lost or late
                    return;
                }
                if (reply != null) {
                    reply.close();
                }
                reply = endpoint.connect(ChannelAddress.parse(address));
                replyAddress = address;
                quietSeconds = 0;
                tally.reset();
                ended = false;
                lineReceived = 0;
                lineBytes = 0;
                lineLost = 0;
                reportedNext = 0;
                int size = StreamProtocol.helloSize(memory.buffer(), offset);
                if (size > maxMessage) {
                    capacity = new StreamProtocol.Capacity(buffers, maxMessage, rcvbuf, 0);
                    ackEvery = Integer.MAX_VALUE;
                    out.println("sink: refused stream from " + address + ": its " + size + " B messages do not fit the "
                            + maxMessage + " B buffers; restart the sink with --max-message " + size);
                } else {
                    int window = StreamProtocol.window(size, buffers, rcvbuf);
                    capacity = new StreamProtocol.Capacity(buffers, maxMessage, rcvbuf, window);
                    ackEvery = StreamProtocol.ackEvery(window);
                    out.println("sink: stream from " + address + ", " + size + " B messages, window " + window
                            + " messages, a report every " + ackEvery);
                }
                sendReport(); // the stream waits for this before it starts
            } else if (seq == StreamProtocol.END) {
                ended = true;
                sendReport();
            }
        }

        /**
         * Tells a stream that says HELLO while another streams here that the sink is busy: a
         * report with window 0 and buffers that would hold its messages ({@link StreamProtocol}).
         */
        private void refuseBusy(String address) {
            if (refusedReply != null) {
                refusedReply.close();
            }
            refusedReply = endpoint.connect(ChannelAddress.parse(address));
            StreamProtocol.Capacity busy = new StreamProtocol.Capacity(buffers, maxMessage, rcvbuf, 0);
            new StreamProtocol.Tally().report(report, 0, false, busy);
            endpoint.send(refusedReply, report, 0, StreamProtocol.REPORT_BYTES, SendPath.FIXED_SEGMENT, REPORT_COOKIE);
            out.println("sink: refused stream from " + address + ": busy with the stream from " + replyAddress);
        }

        private void sendReport() {
            if (reply != null) {
                tally.report(report, 0, ended, capacity);
                reportedNext = tally.next;
                endpoint.send(reply, report, 0, StreamProtocol.REPORT_BYTES, SendPath.FIXED_SEGMENT, REPORT_COOKIE);
            }
        }

        void second(long at) {
            long received = tally.received - lineReceived;
            long bytes = tally.bytes - lineBytes;
            long lost = tally.lost - lineLost;
            lineReceived = tally.received;
            lineBytes = tally.bytes;
            lineLost = tally.lost;
            quietSeconds = received > 0 ? 0 : quietSeconds + 1;
            out.printf("sink: %4d s  %,12d msgs/s  %10.1f MB/s  lost %,d  (total %,d msgs, %,d lost, %,d late, %,d truncated)%n",
                    at, received, bytes / 1e6, lost, tally.received, tally.lost, tally.late, tally.truncated);
            out.flush();
            sendReport();
        }

        String total() {
            return String.format("%,d msgs, %,d bytes, %,d lost, %,d late, %,d truncated", tally.received, tally.bytes,
                    tally.lost, tally.late, tally.truncated);
        }
    }
}
